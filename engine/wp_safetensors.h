/* wp_safetensors.h: reading (untrusted) and writing safetensors files:
 * 8-byte little-endian header length, a JSON header, then raw data. */
#ifndef WP_SAFETENSORS_H
#define WP_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "wprior.h"

#define WP_ST_MAXDIM 8

typedef struct {
    char *name;
    int ndim;
    int64_t shape[WP_ST_MAXDIM];
    size_t begin, end; /* byte offsets into the data section */
} wp_st_tensor;

typedef struct {
    char *key, *value;
} wp_st_meta;

typedef struct {
    uint8_t *owned;       /* the file's bytes when read from a path */
    const uint8_t *data;  /* data section */
    size_t data_size;
    wp_st_tensor *t;
    size_t nt;
    wp_st_meta *meta;
    size_t nmeta;
} wp_st_file;

wp_status wp_st_open_memory(wp_st_file *f, const void *buf, size_t size, char *err);
wp_status wp_st_open(wp_st_file *f, const char *path, char *err);
void wp_st_close(wp_st_file *f);
const wp_st_tensor *wp_st_find(const wp_st_file *f, const char *name);
const char *wp_st_meta_get(const wp_st_file *f, const char *key);
size_t wp_st_numel(const wp_st_tensor *t);
/* Copies tensor name into dst after checking it is F32 of exactly the
 * given shape. */
wp_status wp_st_read_f32(const wp_st_file *f, const char *name, const int64_t *shape,
                         int ndim, float *dst, char *err);

typedef struct {
    const char *name;
    int ndim;
    int64_t shape[WP_ST_MAXDIM];
    const float *data;
} wp_st_out;

/* Writes atomically: a temporary file beside path, fsync'ed, renamed.
 * meta holds nmeta key/value pairs (2*nmeta strings). */
wp_status wp_st_write(const char *path, const wp_st_out *t, size_t nt,
                      const char *const *meta, size_t nmeta, char *err);

#endif
