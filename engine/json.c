/* json.c: recursive-descent JSON parser with a depth limit. */
#include "wp_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32

typedef struct {
    const char *s;
    size_t n, i;
    char *err;
    size_t errlen;
    int failed;
} parser;

static void fail(parser *p, const char *what)
{
    if (!p->failed && p->err)
        snprintf(p->err, p->errlen, "JSON header: %s at byte %zu", what, p->i);
    p->failed = 1;
}

static void skip_ws(parser *p)
{
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' ||
                           p->s[p->i] == '\r'))
        p->i++;
}

static wp_json *node(parser *p, wp_json_type t)
{
    wp_json *j = calloc(1, sizeof *j);
    if (!j)
        fail(p, "out of memory");
    else
        j->type = t;
    return j;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int read_hex4(parser *p, unsigned *out)
{
    if (p->n - p->i < 4) {
        fail(p, "truncated \\u escape");
        return -1;
    }
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval(p->s[p->i + k]);
        if (h < 0) {
            fail(p, "bad \\u escape");
            return -1;
        }
        v = v * 16 + (unsigned)h;
    }
    p->i += 4;
    *out = v;
    return 0;
}

/* Appends code point cp as UTF-8; out has room (escapes are longer). */
static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F)); return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static char *parse_string(parser *p)
{
    /* p->s[p->i] == '"'.  The decoded string is never longer than the raw. */
    size_t start = ++p->i, end = start;
    while (end < p->n && p->s[end] != '"') {
        if (p->s[end] == '\\')
            end++;
        end++;
    }
    if (end >= p->n) {
        fail(p, "unterminated string");
        return NULL;
    }
    char *o = malloc(end - start + 1);
    if (!o) {
        fail(p, "out of memory");
        return NULL;
    }
    size_t k = 0;
    while (p->i < end) {
        unsigned char c = (unsigned char)p->s[p->i++];
        if (c < 0x20) {
            fail(p, "control character in string");
            break;
        }
        if (c != '\\') {
            o[k++] = (char)c;
            continue;
        }
        char e = p->s[p->i++];
        unsigned cp;
        switch (e) {
        case '"': o[k++] = '"'; break;
        case '\\': o[k++] = '\\'; break;
        case '/': o[k++] = '/'; break;
        case 'b': o[k++] = '\b'; break;
        case 'f': o[k++] = '\f'; break;
        case 'n': o[k++] = '\n'; break;
        case 'r': o[k++] = '\r'; break;
        case 't': o[k++] = '\t'; break;
        case 'u':
            if (read_hex4(p, &cp) < 0)
                break;
            if (p->i > end) {
                fail(p, "bad \\u escape");
                break;
            }
            if (cp == 0) {
                fail(p, "NUL in string");
                break;
            }
            if (cp >= 0xD800 && cp < 0xDC00) {
                unsigned lo;
                if (p->i + 6 <= end && p->s[p->i] == '\\' && p->s[p->i + 1] == 'u') {
                    p->i += 2;
                    if (read_hex4(p, &lo) < 0)
                        break;
                    if (lo < 0xDC00 || lo > 0xDFFF) {
                        fail(p, "bad surrogate pair");
                        break;
                    }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else {
                    fail(p, "lone surrogate");
                    break;
                }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                fail(p, "lone surrogate");
                break;
            }
            k += put_utf8(o + k, cp);
            break;
        default:
            fail(p, "bad escape");
        }
        if (p->failed)
            break;
    }
    if (p->failed) {
        free(o);
        return NULL;
    }
    o[k] = '\0';
    p->i = end + 1;
    return o;
}

static wp_json *parse_value(parser *p, int depth);

static void append(wp_json *parent, wp_json **tail, wp_json *c)
{
    if (*tail)
        (*tail)->next = c;
    else
        parent->child = c;
    *tail = c;
    parent->count++;
}

static wp_json *parse_container(parser *p, int depth, int is_obj)
{
    wp_json *j = node(p, is_obj ? WP_JSON_OBJ : WP_JSON_ARR), *tail = NULL;
    if (!j)
        return NULL;
    char close = is_obj ? '}' : ']';
    p->i++;
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == close) {
        p->i++;
        return j;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(p);
        if (is_obj) {
            if (p->i >= p->n || p->s[p->i] != '"') {
                fail(p, "expected a member name");
                break;
            }
            key = parse_string(p);
            if (!key)
                break;
            skip_ws(p);
            if (p->i >= p->n || p->s[p->i] != ':') {
                free(key);
                fail(p, "expected ':'");
                break;
            }
            p->i++;
        }
        wp_json *v = parse_value(p, depth + 1);
        if (!v) {
            free(key);
            break;
        }
        v->key = key;
        append(j, &tail, v);
        skip_ws(p);
        if (p->i < p->n && p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->i < p->n && p->s[p->i] == close) {
            p->i++;
            return j;
        }
        fail(p, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
        break;
    }
    wp_json_free(j);
    return NULL;
}

/* The value of an already validated JSON number, without strtod: strtod
 * follows the locale (a German one reads "1.5" as 1), and model headers
 * must read the same everywhere.  Integers up to 2^53 are exact. */
static double decimal_value(const char *s, size_t n)
{
    size_t i = 0;
    int neg = 0, exp10 = 0, eneg = 0, e = 0;
    double v = 0.0;
    if (i < n && s[i] == '-')
        neg = 1, i++;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
        v = v * 10.0 + (s[i] - '0');
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            v = v * 10.0 + (s[i] - '0'), exp10--;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            if (e < 10000)
                e = e * 10 + (s[i] - '0');
    }
    exp10 += eneg ? -e : e;
    v *= pow(10.0, exp10);
    return neg ? -v : v;
}

static wp_json *parse_number(parser *p)
{
    size_t st = p->i;
    int is_int = 1;
    if (p->i < p->n && p->s[p->i] == '-')
        p->i++;
    size_t digits = p->i;
    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
        p->i++;
    if (p->i == digits) {
        fail(p, "bad number");
        return NULL;
    }
    if (p->i < p->n && p->s[p->i] == '.') {
        is_int = 0;
        p->i++;
        size_t f = p->i;
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
            p->i++;
        if (p->i == f) {
            fail(p, "bad number");
            return NULL;
        }
    }
    if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        is_int = 0;
        p->i++;
        if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
            p->i++;
        size_t e = p->i;
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
            p->i++;
        if (p->i == e) {
            fail(p, "bad number");
            return NULL;
        }
    }
    size_t len = p->i - st;
    if (len > 64) {
        fail(p, "number too long");
        return NULL;
    }
    wp_json *j = node(p, WP_JSON_NUM);
    if (!j)
        return NULL;
    j->num = decimal_value(p->s + st, len);
    j->is_int = is_int;
    return j;
}

static int match(parser *p, const char *lit)
{
    size_t l = strlen(lit);
    if (p->n - p->i >= l && memcmp(p->s + p->i, lit, l) == 0) {
        p->i += l;
        return 1;
    }
    return 0;
}

static wp_json *parse_value(parser *p, int depth)
{
    if (depth > MAX_DEPTH) {
        fail(p, "nesting too deep");
        return NULL;
    }
    skip_ws(p);
    if (p->i >= p->n) {
        fail(p, "unexpected end");
        return NULL;
    }
    char c = p->s[p->i];
    if (c == '{' || c == '[')
        return parse_container(p, depth, c == '{');
    if (c == '"') {
        char *s = parse_string(p);
        if (!s)
            return NULL;
        wp_json *j = node(p, WP_JSON_STR);
        if (!j) {
            free(s);
            return NULL;
        }
        j->str = s;
        return j;
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return parse_number(p);
    if (match(p, "true") || match(p, "false")) {
        wp_json *j = node(p, WP_JSON_BOOL);
        if (j)
            j->num = p->s[p->i - 1] == 'e' && p->s[p->i - 2] == 'u';
        return j;
    }
    if (match(p, "null"))
        return node(p, WP_JSON_NULL);
    fail(p, "unexpected character");
    return NULL;
}

wp_json *wp_json_parse(const char *text, size_t len, char *err, size_t errlen)
{
    parser p = {text, len, 0, err, errlen, 0};
    wp_json *j = parse_value(&p, 0);
    if (j) {
        skip_ws(&p);
        if (p.i != p.n) {
            fail(&p, "trailing data");
            wp_json_free(j);
            j = NULL;
        }
    }
    return j;
}

void wp_json_free(wp_json *j)
{
    while (j) {
        wp_json *next = j->next;
        wp_json_free(j->child);
        free(j->str);
        free(j->key);
        free(j);
        j = next;
    }
}

const wp_json *wp_json_get(const wp_json *obj, const char *key)
{
    if (!obj || obj->type != WP_JSON_OBJ)
        return NULL;
    for (const wp_json *c = obj->child; c; c = c->next)
        if (c->key && strcmp(c->key, key) == 0)
            return c;
    return NULL;
}
