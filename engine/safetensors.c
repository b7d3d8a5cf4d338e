/* safetensors.c: a strict reader (every length, offset, dtype and shape is
 * checked; the file is untrusted) and an atomic writer. */
#include "wp_safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wp_json.h"
#include "wp_util.h"

#define MAX_HEADER (64u << 20)
#define MAX_FILE ((size_t)4 << 30)

static uint64_t le64(const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | b[i];
    return v;
}

void wp_st_close(wp_st_file *f)
{
    for (size_t i = 0; i < f->nt; i++)
        free(f->t[i].name);
    for (size_t i = 0; i < f->nmeta; i++) {
        free(f->meta[i].key);
        free(f->meta[i].value);
    }
    free(f->t);
    free(f->meta);
    free(f->owned);
    memset(f, 0, sizeof *f);
}

/* A non-negative integer that fits in 2^53 (exact in a double). */
static int json_uint(const wp_json *j, uint64_t *out)
{
    if (!j || j->type != WP_JSON_NUM || !j->is_int || j->num < 0 || j->num > 9007199254740992.0)
        return 0;
    *out = (uint64_t)j->num;
    return 1;
}

static wp_status read_metadata(wp_st_file *f, const wp_json *m, char *err)
{
    if (m->type != WP_JSON_OBJ)
        return wp_fail(err, WP_ERR_FORMAT, "__metadata__ is not an object");
    f->meta = calloc(m->count ? m->count : 1, sizeof *f->meta);
    if (!f->meta)
        return wp_fail(err, WP_ERR_NOMEM, "out of memory");
    for (const wp_json *c = m->child; c; c = c->next) {
        if (c->type != WP_JSON_STR)
            return wp_fail(err, WP_ERR_FORMAT, "__metadata__ value of \"%.64s\" is not a string",
                           c->key);
        wp_st_meta *e = &f->meta[f->nmeta++];
        e->key = strdup(c->key);
        e->value = strdup(c->str);
        if (!e->key || !e->value)
            return wp_fail(err, WP_ERR_NOMEM, "out of memory");
    }
    return WP_OK;
}

static wp_status read_tensor(wp_st_file *f, const wp_json *c, char *err)
{
    const char *nm = c->key;
    if (c->type != WP_JSON_OBJ)
        return wp_fail(err, WP_ERR_FORMAT, "tensor \"%.64s\": entry is not an object", nm);
    const wp_json *dt = wp_json_get(c, "dtype"), *sh = wp_json_get(c, "shape"),
                  *off = wp_json_get(c, "data_offsets");
    if (!dt || dt->type != WP_JSON_STR)
        return wp_fail(err, WP_ERR_FORMAT, "tensor \"%.64s\": missing dtype", nm);
    if (!sh || sh->type != WP_JSON_ARR || sh->count > WP_ST_MAXDIM)
        return wp_fail(err, WP_ERR_FORMAT, "tensor \"%.64s\": missing or bad shape", nm);
    if (!off || off->type != WP_JSON_ARR || off->count != 2)
        return wp_fail(err, WP_ERR_FORMAT, "tensor \"%.64s\": missing or bad data_offsets", nm);
    if (strcmp(dt->str, "F32") != 0)
        return wp_fail(err, WP_ERR_FORMAT, "tensor \"%.64s\": dtype %.16s (only F32 is supported)",
                       nm, dt->str);
    if (wp_st_find(f, nm))
        return wp_fail(err, WP_ERR_FORMAT, "tensor \"%.64s\" appears twice", nm);
    wp_st_tensor *t = &f->t[f->nt];
    size_t numel = 1;
    int d = 0;
    for (const wp_json *e = sh->child; e; e = e->next, d++) {
        uint64_t v;
        if (!json_uint(e, &v) || !wp_mul_ok(numel, (size_t)v, &numel))
            return wp_fail(err, WP_ERR_FORMAT, "tensor \"%.64s\": bad or huge dimension %d", nm, d);
        t->shape[d] = (int64_t)v;
    }
    uint64_t b, e;
    if (!json_uint(off->child, &b) || !json_uint(off->child->next, &e))
        return wp_fail(err, WP_ERR_FORMAT, "tensor \"%.64s\": bad data_offsets", nm);
    size_t bytes;
    if (!wp_mul_ok(numel, 4, &bytes))
        return wp_fail(err, WP_ERR_FORMAT, "tensor \"%.64s\": huge shape", nm);
    if (b > e || e > f->data_size)
        return wp_fail(err, WP_ERR_FORMAT,
                       "tensor \"%.64s\": data_offsets [%llu, %llu] outside the %zu data bytes", nm,
                       (unsigned long long)b, (unsigned long long)e, f->data_size);
    if (e - b != bytes)
        return wp_fail(err, WP_ERR_FORMAT,
                       "tensor \"%.64s\": %llu data bytes for a shape of %zu floats", nm,
                       (unsigned long long)(e - b), numel);
    t->ndim = d;
    t->begin = (size_t)b;
    t->end = (size_t)e;
    t->name = strdup(nm);
    if (!t->name)
        return wp_fail(err, WP_ERR_NOMEM, "out of memory");
    f->nt++;
    return WP_OK;
}

wp_status wp_st_open_memory(wp_st_file *f, const void *buf, size_t size, char *err)
{
    const uint8_t *b = buf;
    memset(f, 0, sizeof *f);
    if (size < 8)
        return wp_fail(err, WP_ERR_FORMAT, "file too short (%zu bytes) for a safetensors header",
                       size);
    uint64_t hlen = le64(b);
    if (hlen > MAX_HEADER || hlen > size - 8)
        return wp_fail(err, WP_ERR_FORMAT,
                       "header length %llu is larger than the file (%zu bytes): truncated or not "
                       "a safetensors file",
                       (unsigned long long)hlen, size);
    f->data = b + 8 + hlen;
    f->data_size = size - 8 - (size_t)hlen;
    char jerr[200];
    wp_json *root = wp_json_parse((const char *)b + 8, (size_t)hlen, jerr, sizeof jerr);
    if (!root)
        return wp_fail(err, WP_ERR_FORMAT, "%s", jerr);
    wp_status st = WP_OK;
    if (root->type != WP_JSON_OBJ) {
        st = wp_fail(err, WP_ERR_FORMAT, "JSON header is not an object");
        goto done;
    }
    f->t = calloc(root->count ? root->count : 1, sizeof *f->t);
    if (!f->t) {
        st = wp_fail(err, WP_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (const wp_json *c = root->child; c && !st; c = c->next)
        st = strcmp(c->key, "__metadata__") == 0 ? (f->meta ? wp_fail(err, WP_ERR_FORMAT, "two __metadata__") : read_metadata(f, c, err))
                                                 : read_tensor(f, c, err);
done:
    wp_json_free(root);
    if (st)
        wp_st_close(f);
    return st;
}

wp_status wp_st_open(wp_st_file *f, const char *path, char *err)
{
    memset(f, 0, sizeof *f);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return wp_fail(err, WP_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(fp);
        return wp_fail(err, WP_ERR_IO, "%s: not a regular file", path);
    }
    if ((size_t)sb.st_size > MAX_FILE) {
        fclose(fp);
        return wp_fail(err, WP_ERR_FORMAT, "%s: %lld bytes is too large for a model file", path,
                       (long long)sb.st_size);
    }
    size_t size = (size_t)sb.st_size;
    uint8_t *buf = wp_alloc(size ? size : 1);
    if (!buf) {
        fclose(fp);
        return wp_fail(err, WP_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t got = fread(buf, 1, size, fp);
    fclose(fp);
    if (got != size) {
        free(buf);
        return wp_fail(err, WP_ERR_IO, "%s: read error", path);
    }
    char e2[WP_ERRLEN];
    wp_status st = wp_st_open_memory(f, buf, size, e2);
    if (st) {
        free(buf);
        return wp_fail(err, st, "%s: %s", path, e2);
    }
    f->owned = buf;
    return WP_OK;
}

const wp_st_tensor *wp_st_find(const wp_st_file *f, const char *name)
{
    for (size_t i = 0; i < f->nt; i++)
        if (strcmp(f->t[i].name, name) == 0)
            return &f->t[i];
    return NULL;
}

const char *wp_st_meta_get(const wp_st_file *f, const char *key)
{
    for (size_t i = 0; i < f->nmeta; i++)
        if (strcmp(f->meta[i].key, key) == 0)
            return f->meta[i].value;
    return NULL;
}

size_t wp_st_numel(const wp_st_tensor *t)
{
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++)
        n *= (size_t)t->shape[d];
    return n;
}

static void shape_str(char *buf, size_t len, const int64_t *s, int nd)
{
    size_t k = 0;
    k += (size_t)snprintf(buf + k, len - k, "[");
    for (int d = 0; d < nd && k < len; d++)
        k += (size_t)snprintf(buf + k, len - k, d ? ", %lld" : "%lld", (long long)s[d]);
    if (k < len)
        snprintf(buf + k, len - k, "]");
}

wp_status wp_st_read_f32(const wp_st_file *f, const char *name, const int64_t *shape,
                         int ndim, float *dst, char *err)
{
    const wp_st_tensor *t = wp_st_find(f, name);
    if (!t)
        return wp_fail(err, WP_ERR_FORMAT, "tensor \"%s\" is missing", name);
    int same = t->ndim == ndim;
    for (int d = 0; same && d < ndim; d++)
        same = t->shape[d] == shape[d];
    if (!same) {
        char a[128], b[128];
        shape_str(a, sizeof a, t->shape, t->ndim);
        shape_str(b, sizeof b, shape, ndim);
        return wp_fail(err, WP_ERR_FORMAT, "tensor \"%s\" has shape %s, expected %s", name, a, b);
    }
    /* Little-endian on disk; memcpy is exact on little-endian hosts. */
    const uint8_t *src = f->data + t->begin;
    size_t n = wp_st_numel(t);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(dst, src, n * 4);
#else
    for (size_t i = 0; i < n; i++) {
        uint32_t v = (uint32_t)src[4 * i] | (uint32_t)src[4 * i + 1] << 8 |
                     (uint32_t)src[4 * i + 2] << 16 | (uint32_t)src[4 * i + 3] << 24;
        memcpy(dst + i, &v, 4);
    }
#endif
    return WP_OK;
}

/* ---- writer ---- */

typedef struct {
    char *s;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 1024);
        while (cap < b->n + n + 1)
            cap *= 2;
        char *t = realloc(b->s, cap);
        if (!t) {
            b->oom = 1;
            return;
        }
        b->s = t;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_json_string(sbuf *b, const char *s)
{
    sb_str(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c;
            sb_put(b, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            sb_str(b, esc);
        } else {
            sb_put(b, (const char *)&c, 1);
        }
    }
    sb_str(b, "\"");
}

static int write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static wp_status write_file_atomic(const char *path, const sbuf *hdr, const wp_st_out *t,
                                   size_t nt, char *err)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp)
        return wp_fail(err, WP_ERR_NOMEM, "out of memory");
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp-XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd >= 0) {
        /* mkstemp makes the file private; give it the mode the file it
         * replaces had, or the usual 0644 for a new one. */
        struct stat old;
        fchmod(fd, stat(path, &old) == 0 ? (old.st_mode & 07777) : 0644);
    }
    if (fd < 0) {
        wp_status st = wp_fail(err, WP_ERR_IO, "%s: cannot create a temporary file: %s", path,
                               strerror(errno));
        free(tmp);
        return st;
    }
    uint8_t len8[8];
    uint64_t hl = hdr->n;
    for (int i = 0; i < 8; i++)
        len8[i] = (uint8_t)(hl >> (8 * i));
    int bad = write_all(fd, len8, 8) || write_all(fd, hdr->s, hdr->n);
    for (size_t i = 0; i < nt && !bad; i++) {
        size_t n = 1;
        for (int d = 0; d < t[i].ndim; d++)
            n *= (size_t)t[i].shape[d];
        bad = write_all(fd, t[i].data, n * 4);
    }
    bad = bad || fsync(fd) != 0;
    if (close(fd) != 0)
        bad = 1;
    if (bad || rename(tmp, path) != 0) {
        wp_status st = wp_fail(err, WP_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return st;
    }
    /* Make the rename itself durable. */
    char *dcopy = strdup(path);
    if (dcopy) {
        int dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dcopy);
    }
    free(tmp);
    return WP_OK;
}

wp_status wp_st_write(const char *path, const wp_st_out *t, size_t nt,
                      const char *const *meta, size_t nmeta, char *err)
{
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    return wp_fail(err, WP_ERR_IO, "writing model files needs a little-endian host");
#endif
    sbuf b = {0};
    char num[64];
    size_t off = 0;
    sb_str(&b, "{");
    if (nmeta) {
        sb_str(&b, "\"__metadata__\":{");
        for (size_t i = 0; i < nmeta; i++) {
            if (i)
                sb_str(&b, ",");
            sb_json_string(&b, meta[2 * i]);
            sb_str(&b, ":");
            sb_json_string(&b, meta[2 * i + 1]);
        }
        sb_str(&b, "}");
    }
    for (size_t i = 0; i < nt; i++) {
        if (nmeta || i)
            sb_str(&b, ",");
        sb_json_string(&b, t[i].name);
        sb_str(&b, ":{\"dtype\":\"F32\",\"shape\":[");
        size_t n = 1;
        for (int d = 0; d < t[i].ndim; d++) {
            snprintf(num, sizeof num, d ? ",%lld" : "%lld", (long long)t[i].shape[d]);
            sb_str(&b, num);
            n *= (size_t)t[i].shape[d];
        }
        snprintf(num, sizeof num, "],\"data_offsets\":[%zu,%zu]}", off, off + 4 * n);
        sb_str(&b, num);
        off += 4 * n;
    }
    sb_str(&b, "}");
    while (!b.oom && b.n % 8)
        sb_str(&b, " "); /* data starts 8-byte aligned */
    if (b.oom) {
        free(b.s);
        return wp_fail(err, WP_ERR_NOMEM, "out of memory");
    }
    wp_status st = write_file_atomic(path, &b, t, nt, err);
    free(b.s);
    return st;
}
