/* jobs.h: the plug-in's four jobs on plain pixel buffers (no GIMP, no GTK).
 *
 * A job runs the engine in a worker thread so that the caller's main loop
 * can pump progress and react to a cancel request. */
#ifndef WP_JOBS_H
#define WP_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "wprior.h"

#define WPJ_MODEL_LEN 1024

/* A new kind: its enum value, its run function and a descriptor in
 * jobdesc.c; the front ends and checks follow from the descriptor. */
typedef enum { WPJ_DENOISE, WPJ_UPSCALE, WPJ_SAMPLE, WPJ_HEAL, WPJ_NKINDS } wpj_kind;

/* Where an upscale goes. */
typedef enum { WPJ_TARGET_LAYER, WPJ_TARGET_IMAGE, WPJ_TARGET_NEW_IMAGE } wpj_target;

/* Sampler quality: fewer, larger steps or more, smaller ones.  Denoising:
 * the half-size route, the den on the image, or both blended by the noise. */
typedef enum { WPJ_QUALITY_DRAFT, WPJ_QUALITY_NORMAL, WPJ_QUALITY_FINE } wpj_quality;

/* Whether a sample wraps around: as the model's metadata says, or not. */
typedef enum { WPJ_TILING_MODEL, WPJ_TILING_ON, WPJ_TILING_OFF } wpj_tiling;

/* Every setting of every job: plain data, stored with gimp_set_data. */
typedef struct {
    char model[WPJ_MODEL_LEN]; /* path or name; "" = the first model found */
    /* The rest: ranges, defaults and meaning in the job descriptors. */
    double strength;
    int passes;
    int factor;
    int sharp;
    int target;
    int seed;
    int width, height;
    int quality;
    int tiling;
    int grow_canvas; /* layer upscale: grow the canvas to fit the layer */
    int exemplar;    /* sample: more of the texture the job's input holds
                      * (fixed by the procedure: wpj_desc.exemplar) */
} wpj_settings;

/* ---- job descriptors: one per kind, read by the PDB of both GIMP
 * versions, the dialogs and the settings check ---- */

typedef enum { WPJ_ARG_MODEL, WPJ_ARG_DOUBLE, WPJ_ARG_INT } wpj_arg_type;

typedef struct {
    const char *name; /* PDB argument name */
    wpj_arg_type type;
    double min, max, def;
    size_t offset;     /* of the field in wpj_settings */
    const char *label; /* dialog label with a mnemonic (N_) */
    const char *help;  /* PDB help (N_) */
    /* Named values: the dialog's choices; with strict, the only ones allowed. */
    int nchoices, strict;
    const int *values;
    const char *const *labels; /* N_ */
} wpj_param;

#define WPJ_MAX_PARAMS 16 /* a job's parameters, at most (jobdesc.c checks) */

typedef struct {
    wpj_kind kind;
    const char *proc;       /* PDB name, the same in GIMP 2.10 and 3 */
    const char *title;      /* dialog title (N_) */
    const char *menu_label; /* N_ */
    const char *blurb, *help; /* N_ */
    const char *menus[2];   /* "<Image>/Filters/Enhance" (2.10 style), NULL-padded */
    const char *progress;   /* progress text while it runs (N_) */
    const wpj_param *params;
    int nparams;
    int needs_input;        /* works on the drawable's pixels */
    /* Checks what a single range cannot say; may be NULL. */
    int (*check)(const wpj_settings *s, char *err, int errlen);
    /* An upscale's target when the procedure fixes it (Image > Upscale),
     * whatever its settings say; -1: its "target" argument says. */
    int target;
    /* A sample procedure that continues the texture of the selection
     * (Texture from Selection) instead of drawing from the prior alone. */
    int exemplar;
} wpj_desc;

/* PDB procedures: one a kind, Image > Upscale beside Layer > Upscale and
 * Texture from Selection beside Sample (each menu entry its own
 * procedure, so each remembers its own settings). */
#define WPJ_NPROCS (WPJ_NKINDS + 2)

/* The main descriptor of a kind (the first of its procedures); NULL for an unknown one. */
const wpj_desc *wpj_describe(wpj_kind kind);
/* The i-th procedure, 0 <= i < WPJ_NPROCS; NULL beyond. */
const wpj_desc *wpj_proc(int i);
/* The descriptor of a PDB procedure name; NULL when none. */
const wpj_desc *wpj_describe_proc(const char *proc);
/* What the procedure fixes, whatever was remembered (its target). */
void wpj_desc_apply(const wpj_desc *d, wpj_settings *s);
const wpj_param *wpj_param_find(const wpj_desc *d, const char *name);
/* A numeric parameter's value in s (the model: 0). */
double wpj_param_get(const wpj_param *p, const wpj_settings *s);
void wpj_param_set(const wpj_param *p, wpj_settings *s, double v);
/* A parameter's value is within its range (and its values when strict). */
int wpj_param_ok(const wpj_param *p, double v);

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

/* Context read around a denoised region so that its border is denoised
 * like the inside (the networks see ~13 pixels around each pixel per level). */
#define WPJ_DENOISE_MARGIN 32

/* The rectangle a denoise reads for the region (x,y,w,h) of a layer of
 * lw x lh: the region and its margin, clipped to the layer. */
void wpj_denoise_context(int x, int y, int w, int h, int lw, int lh, int *rx, int *ry, int *rw,
                         int *rh);

/* ---- heal: the selection filled from the prior ----
 * A heal's input holds the layer's colour planes and, as one more plane
 * after them, the selection's value at each pixel (0 = keep, 1 = fill,
 * in between = a feathered edge); every pixel with a value above 0 is
 * filled.  Its output is the colour planes with the selection filled; the
 * known pixels are the input's, exactly. */

/* The rectangle a heal reads for a selection whose bounding box in a
 * layer of lw x lh is (x,y,w,h): the box and the context the prior's
 * inpainting needs around it, clipped to the layer.  Healing that crop
 * gives the same pixels as healing the whole layer. */
void wpj_heal_context(const wp_prior *p, int x, int y, int w, int h, int lw, int lh, int *rx,
                      int *ry, int *rw, int *rh);
/* The fill mask of a heal's input (1: the selection's value is above 0);
 * returns the number of pixels to fill. */
size_t wpj_heal_mask(const wpj_image *in, uint8_t *mask);
/* out (a heal's output) blended into the input by the selection's value:
 * what GIMP shows once it merges the result through the selection. */
void wpj_heal_blend(wpj_image *out, const wpj_image *in);

/* Interleaved pixels (n = colour + alpha components) of an upscaled
 * image: colour from out, alpha (when alpha) from the pixel of the
 * original src (interleaved, sw wide) it came from, enlarged by f without
 * interpolation.  g_try_malloc'ed; NULL when out of memory. */
float *wpj_compose_upscaled(const wpj_image *out, const float *src, int sw, int n, int alpha,
                            int f);
/* Interleaved opaque pixels (colour components + alpha 1) of a sample in
 * the colour model with colour channels.  NULL when out of memory. */
float *wpj_opaque_pixels(const wpj_image *sample, int colour);

/* The canvas that holds the canvas of cw x ch and a layer of lw x lh at
 * (x,y): its size (*w x *h) and the offset (*dx,*dy) by which the old
 * canvas and its layers move in it.  Returns 0 when the layer already
 * fits (and the canvas stays), 1 when the canvas must grow. */
int wpj_canvas_fit(int cw, int ch, int x, int y, int lw, int lh, int *w, int *h, int *dx,
                   int *dy);

/* Output size of a job on an input of w x h.  A sample: the size it
 * draws; with no size in s and a prior of no fixed size (or a texture
 * from a selection), w x h (the image, selection or layer; 0 x 0: a
 * default square), a multiple of the prior's. */
void wpj_output_size(wpj_kind kind, const wpj_settings *s, const wp_prior *p, int w, int h,
                     int *ow, int *oh);

/* Memory budget for the engine: $WPRIOR_MAX_MEMORY (bytes, K/M/G suffix)
 * or 0 for the engine's default. */
size_t wpj_max_memory(void);

typedef struct wpj_job wpj_job;

/* Starts a job.  p, in and ws are borrowed until wpj_finish; a sample
 * reads only in's size (px NULL: the image or selection it is drawn for,
 * as in wpj_output_size), and in may then be NULL; a sample with
 * s->exemplar continues the texture of in (any channel count; its size
 * is the sample's when s has none).  ws: scratch memory kept from one job to
 * the next (a preview's), or NULL.  Jobs on one prior may run at once,
 * each with its own ws.  Out is allocated by the job.  Returns NULL (with
 * a message) only when the thread cannot start. */
wpj_job *wpj_start(wpj_kind kind, const wpj_settings *s, const wp_prior *p, const wpj_image *in,
                   wp_workspace *ws, char *err, int errlen);
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
    const wp_prior *prior;
    int n;
    const wpj_image *in; /* n inputs (a sample has one, empty but for its size) */
    wpj_image *out;      /* n outputs, filled in as the jobs finish */
    void (*on_progress)(double fraction, void *data); /* may be NULL */
    void *progress_data;
    /* private */
    int i, cancelled;
    wp_workspace *ws; /* shared by the batch's jobs, freed when it ends */
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
