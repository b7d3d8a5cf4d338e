/* wp_json.h: a small strict JSON parser for safetensors headers (untrusted
 * input: bounded depth, every length checked). */
#ifndef WP_JSON_H
#define WP_JSON_H

#include <stddef.h>

typedef enum { WP_JSON_NULL, WP_JSON_BOOL, WP_JSON_NUM, WP_JSON_STR, WP_JSON_ARR, WP_JSON_OBJ } wp_json_type;

typedef struct wp_json wp_json;
struct wp_json {
    wp_json_type type;
    double num;      /* NUM; BOOL as 0/1 */
    int is_int;      /* NUM written without fraction or exponent */
    char *str;       /* STR value (NUL-terminated, may not contain NUL) */
    char *key;       /* member name when inside an object */
    wp_json *child;  /* first element/member */
    wp_json *next;   /* next sibling */
    size_t count;    /* number of children */
};

/* Parses len bytes; returns NULL with a message (naming the byte offset). */
wp_json *wp_json_parse(const char *text, size_t len, char *err, size_t errlen);
void wp_json_free(wp_json *j);
const wp_json *wp_json_get(const wp_json *obj, const char *key);

#endif
