/* jobs.h: the plug-in's three jobs on plain pixel buffers (no GIMP, no GTK).
 *
 * A job runs the engine in a worker thread so that the caller's main loop
 * can pump progress and react to a cancel request. */
#ifndef WP_JOBS_H
#define WP_JOBS_H

#include <stddef.h>

#include "wprior.h"

#define WPJ_MODEL_LEN 1024

typedef enum { WPJ_DENOISE, WPJ_UPSCALE, WPJ_SAMPLE } wpj_kind;

/* Where an upscale goes. */
typedef enum { WPJ_TARGET_LAYER, WPJ_TARGET_IMAGE, WPJ_TARGET_NEW_IMAGE } wpj_target;

/* Sampler quality: fewer, larger steps or more, smaller ones. */
typedef enum { WPJ_QUALITY_DRAFT, WPJ_QUALITY_NORMAL, WPJ_QUALITY_FINE } wpj_quality;

/* Whether a sample wraps around: as the model's metadata says, or not. */
typedef enum { WPJ_TILING_MODEL, WPJ_TILING_ON, WPJ_TILING_OFF } wpj_tiling;

/* Every setting of every job: plain data, stored with gimp_set_data. */
typedef struct {
    char model[WPJ_MODEL_LEN]; /* path or name; "" = the first model found */
    double strength;           /* denoise, 0..1 */
    int passes;                /* denoise: 1..8, the mean over that many rotations/mirrors */
    int factor;                /* upscale: 2, 4 or 8 */
    int sharp;                 /* upscale: WP_UPSCALE_SHARP when non-zero */
    int target;                /* upscale: wpj_target */
    int seed;                  /* upscale and sample, >= 0 */
    int width, height;         /* sample; 0 = the prior's size */
    int quality;               /* sample: wpj_quality */
    int tiling;                /* sample: wpj_tiling */
} wpj_settings;

void wpj_settings_defaults(wpj_settings *s);
/* Checks ranges; writes a translated message and returns -1 when bad. */
int wpj_settings_check(wpj_kind kind, const wpj_settings *s, char *err, int errlen);

/* A planar colour image [c,h,w], c = 1 or 3, values in [0,1]. */
typedef struct {
    float *px;
    int c, h, w;
} wpj_image;

/* Allocates px (uninitialised); -1 when out of memory. */
int wpj_image_alloc(wpj_image *im, int c, int h, int w);
void wpj_image_free(wpj_image *im);

/* Interleaved pixels with n components (colour then maybe alpha) <-> the
 * colour planes of im; values are clamped to [0,1] on the way in and out. */
void wpj_from_interleaved(wpj_image *im, const float *px, int n);
void wpj_to_interleaved(const wpj_image *im, float *px, int n);

/* Output size of a job on an input of w x h (sample: the size it draws). */
void wpj_output_size(wpj_kind kind, const wpj_settings *s, const wp_prior *p, int w, int h,
                     int *ow, int *oh);

/* Memory budget for the engine: $WPRIOR_MAX_MEMORY (bytes, K/M/G suffix)
 * or 0 for the engine's default. */
size_t wpj_max_memory(void);

typedef struct wpj_job wpj_job;

/* Starts a job.  p and in are borrowed until wpj_finish; in is unused for
 * a sample and may be NULL.  Out is allocated by the job.  Returns NULL
 * (with a message) only when the thread cannot start. */
wpj_job *wpj_start(wpj_kind kind, const wpj_settings *s, wp_prior *p, const wpj_image *in,
                   char *err, int errlen);
/* Progress in [0,1]; non-zero once the worker has finished. */
double wpj_progress(const wpj_job *j);
int wpj_done(const wpj_job *j);
/* Asks the engine to stop (it polls about every 100 ms). */
void wpj_cancel(wpj_job *j);
/* Waits for the worker, hands over the result (out may be NULL to drop
 * it), frees the job.  seconds (may be NULL) gets the run time. */
wp_status wpj_finish(wpj_job *j, wpj_image *out, double *seconds, char *err, int errlen);

/* A run of n jobs of one kind, one after the other (upscaling every layer
 * of an image), driven by polling so that it fits any main loop.  The
 * whole batch stops at the first failure or on cancel. */
typedef struct {
    wpj_kind kind;
    const wpj_settings *s;
    wp_prior *prior;
    int n;
    const wpj_image *in; /* n inputs (a sample has one, empty) */
    wpj_image *out;      /* n outputs, filled in as the jobs finish */
    void (*on_progress)(double fraction, void *data); /* may be NULL */
    void *progress_data;
    /* private */
    int i, cancelled;
    wpj_job *job;
    wp_status status;
    char err[WP_ERRLEN];
} wpj_batch;

/* Starts, collects and reports; returns the progress of the whole batch
 * and sets *done once nothing runs any more. */
double wpj_batch_poll(wpj_batch *b, int *done);
void wpj_batch_cancel(wpj_batch *b);
/* Polls every 50 ms until done (no main loop); returns the status. */
wp_status wpj_batch_wait(wpj_batch *b);
/* Frees the outputs. */
void wpj_batch_free(wpj_batch *b);

/* The same image with c channels: gray is copied into R, G and B; colour
 * becomes gray by the mean of its channels. */
int wpj_convert_channels(const wpj_image *in, int c, wpj_image *out);

#endif
