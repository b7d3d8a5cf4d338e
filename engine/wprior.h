/* wprior.h: public API of libwprior, the Wavelet Prior engine.
 *
 * A prior is a multi-scale denoiser: a Haar pyramid of J levels, a network
 * that denoises the coarsest low-pass image ("low") and one conditional
 * network per level ("cond0" is the finest) that denoises the three detail
 * bands given the low-pass at that level.  A prior may instead hold a single
 * pixel-domain network ("flat").
 *
 * Every call that can fail returns a wp_status and, when err is not NULL,
 * writes a one-line message into err (WP_ERRLEN bytes is always enough).
 * The engine never exits or aborts on bad input.
 */
#ifndef WPRIOR_H
#define WPRIOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WP_ERRLEN 512

typedef enum {
    WP_OK = 0,
    WP_ERR_ARG = -1,       /* a bad argument from the caller */
    WP_ERR_IO = -2,        /* a file could not be read or written */
    WP_ERR_FORMAT = -3,    /* a model file is corrupt or inconsistent */
    WP_ERR_NOMEM = -4,     /* out of memory or over the memory budget */
    WP_ERR_CANCELLED = -5, /* the caller's cancel flag was raised */
    WP_ERR_NUMERIC = -6,   /* NaN/Inf or divergence */
} wp_status;

const char *wp_status_name(wp_status s);

/* An opaque loaded prior.  Owned by the caller: free with wp_prior_free. */
typedef struct wp_prior wp_prior;

wp_status wp_prior_load(const char *path, wp_prior **out, char *err);
wp_status wp_prior_load_memory(const void *data, size_t size, wp_prior **out, char *err);
void wp_prior_free(wp_prior *p);

/* What a prior is made of. */
int wp_prior_channels(const wp_prior *p); /* colour channels: 1 or 3 */
int wp_prior_levels(const wp_prior *p);   /* J; 0 for a flat prior */
int wp_prior_is_flat(const wp_prior *p);
/* Metadata value for a key of the file's __metadata__, or NULL. */
const char *wp_prior_meta(const wp_prior *p, const char *key);
/* A multi-line human description (architectures, parameter counts,
 * metadata).  Returns a malloc'ed string the caller frees. */
char *wp_prior_describe(const wp_prior *p);

/* Sets a free-form metadata entry (name, description, training, ...). */
wp_status wp_prior_set_meta(wp_prior *p, const char *key, const char *value, char *err);
/* Writes p to path (temporary file, fsync, rename). */
wp_status wp_prior_save(const wp_prior *p, const char *path, char *err);
/* Builds a prior from the paper's per-network safetensors files: either a
 * low-pass network and levels conditional networks (cond_paths[j] for level
 * j, 0 the finest) or, with flat_path, one pixel-domain network.
 * channels: 1 (gray) or 3. */
wp_status wp_prior_import(const char *low_path, const char *const *cond_paths, int levels,
                          const char *flat_path, int channels, wp_prior **out, char *err);

/* Progress callback: fraction in [0,1], rising. */
typedef void (*wp_progress_fn)(double fraction, void *user_data);

typedef struct {
    int threads;             /* 0: all cores */
    wp_progress_fn progress; /* may be NULL */
    void *progress_data;
    const volatile int *cancel; /* polled; non-zero stops with WP_ERR_CANCELLED */
} wp_run_options;

/* Blind denoising of a planar image (channels x height x width floats in
 * [0,1], gray or the prior's colour count), in place into out (same
 * layout; out may equal in). */
wp_status wp_denoise(wp_prior *p, const float *in, float *out, int channels,
                     int height, int width, const wp_run_options *opt, char *err);

#ifdef __cplusplus
}
#endif
#endif
