/* run.h: a run of the plug-in as both GIMP front ends make it, without a
 * libgimp call: the settings a procedure fixes, the model, the dialog, and
 * the pixel work between reading layers and writing them back.  Each
 * adapter keeps its libgimp calls and hands in the few the flow needs
 * (GIMP's progress bar; a drawable's buffers and size through pixels.h). */
#ifndef WP_RUN_H
#define WP_RUN_H

#include "jobs.h"
#include "models.h"
#include "pixels.h"
#include "wp_ui.h"

/* GIMP's progress bar: gimp_progress_init, _set_text and _update have
 * these types in GIMP 2.10 and 3. */
typedef struct {
    int (*init)(const char *text);
    int (*text)(const char *text);
    int (*update)(double fraction);
} wg_progress;

/* What a run asks for and what both front ends keep of it. */
typedef struct {
    const wpj_desc *desc; /* the procedure */
    int interactive;      /* a dialog was shown: a progress window with Cancel */
    int from_args;        /* the settings are the call's arguments: its model is kept */
    wg_progress progress;
    wp_ui_host host;      /* keeps the progress window over GIMP's */
    int progress_window;  /* show one while a batch runs (GIMP 2.10) */
    wpj_settings s;
    wp_prior *prior;
    wpj_image ready;      /* a sample or fill the dialog already made, or px NULL */
    wpm_list models;      /* the installed models, scanned once a run (scanned: 1) */
    int scanned;
    char err[WP_ERRLEN];
} wg_common;

/* How a run ended, numbered as GimpPDBStatusType is in GIMP 2.10 and 3
 * (the adapters hand it to GIMP as it is). */
typedef enum {
    WG_EXECUTION_ERROR = 0,
    WG_CALLING_ERROR = 1,
    WG_SUCCESS = 3,
    WG_CANCEL = 4
} wg_outcome;

const wpm_list *wg_models(wg_common *c);
/* The settings once read (remembered or the call's arguments): what the
 * procedure fixes and what each dialog proposes afresh (a sample's size:
 * the image's or selection's), the model for a layer of channels colour
 * channels (0: none, a sample; "" the default, a remembered model of
 * another channel count the default for the layer's), the dialog
 * (dialog(run), when interactive) and the check.  c->err says why not. */
wg_outcome wg_settle(wg_common *c, int channels, wp_status (*dialog)(void *run), void *run);
/* Sets GTK up for a dialog: WP_OK, or WP_ERR_IO with c->err set when
 * there is no display. */
wp_status wg_ui_start(wg_common *c);
/* The job's dialog on the drawable d (NULL for a sample: box is then the
 * image's or selection's, the size it proposes; a heal's box is the
 * selection's in d); WP_OK for OK, WP_ERR_CANCELLED for Cancel. */
wp_status wg_dialog(wg_common *c, wg_drawable *d, wg_rect box, wp_ui_host host);
/* What such a dialog previews (src), for a front end's own dialog. */
void wg_dialog_source(wg_common *c, wg_drawable *d, wg_rect box, wp_ui_host host,
                      wp_ui_source *src);
/* Loads the model, runs op(run), frees the model. */
wg_outcome wg_execute(wg_common *c, int indexed, wp_status (*op)(void *run), void *run);
void wg_common_free(wg_common *c);

wp_status wg_out_of_memory(wg_common *c);
/* Runs a batch with the run's settings and prior, GIMP's progress bar and
 * (progress_window) a window with Cancel; its status, with c->err set. */
wp_status wg_run_batch(wg_common *c, wpj_batch *b);

/* Whether a denoise can run: 0, or -1 with c->err set (a layer group). */
int wg_denoise_refuse(wg_common *c, int is_group);
/* Denoises the drawable's part (x,y,w,h) in the selection's box: reads it
 * with its context, writes it to the shadow buffer (alpha as it was); the
 * caller merges the shadow through the selection. */
wp_status wg_denoise_box(wg_common *c, const wg_drawable *d, int x, int y, int w, int h);

/* Heals the selection whose bounding box in the drawable is (x,y,w,h):
 * reads it and the context the prior needs around it, fills it (with the
 * dialog's fill when it is of the right size), writes the box to the
 * shadow buffer; the caller merges the shadow through the selection. */
wp_status wg_heal_fill(wg_common *c, const wg_drawable *d, int x, int y, int w, int h);

/* An upscaled layer: its drawable as read, then its enlarged pixels. */
typedef struct {
    wg_drawable d;
    float *px;
} wg_up_layer;

/* Reads the n layers (d opened), upscales them by the settings' factor
 * and leaves their enlarged pixels in px. */
wp_status wg_upscale_pixels(wg_common *c, wg_up_layer *ls, int n);
/* Writes each layer's enlarged pixels: the layer is first resized (the
 * drawable's resize: undoable) to its new size at its offsets, times the
 * factor when scale_offsets (the whole image), else as they were. */
void wg_write_upscaled(wg_up_layer *ls, int n, int f, int scale_offsets);
void wg_up_free(wg_up_layer *ls, int n);

/* The image an upscale writes into, through its adapter's libgimp calls. */
typedef struct wg_image wg_image;
struct wg_image {
    void *run;
    int width, height;
    void (*undo_group)(wg_image *im, int start); /* start 1, end 0 */
    /* Image > Scale Image: the canvas, every layer and its offsets. */
    void (*scale)(wg_image *im, int w, int h);
    /* Image > Canvas Size: every layer moved by (dx,dy). */
    void (*resize)(wg_image *im, int w, int h, int dx, int dy);
    /* The layer's enlarged pixels (by f) into a new image. */
    void (*new_image)(wg_image *im, const wg_up_layer *l, int f);
};

/* Puts the enlarged layers where the settings' target says: into the
 * image (one undo step; the canvas scaled with them for the whole image,
 * grown to fit the layer when asked) or into a new image. */
void wg_apply_upscale(wg_common *c, wg_image *im, wg_up_layer *ls, int n);

/* A sample's opaque pixels in the image's colour model (colour channels)
 * and its size; the dialog's when it drew this very sample, else drawn
 * for a w x h image or selection (wpj_output_size), or continuing the
 * texture of exemplar (when not NULL: Texture from Selection). */
wp_status wg_sample_pixels(wg_common *c, int colour, const wpj_image *exemplar, int w, int h,
                           float **px, int *sw, int *sh);

/* Whether Texture from Selection can run on a selection of w x h pixels
 * of the layer: 0, or -1 with the reason in err (a layer group, a
 * selection that misses the layer or holds too little texture). */
int wg_texture_refuse(int is_group, int touches, int w, int h, char *err, int errlen);
/* An adapter's new layer of w x h opaque interleaved pixels (colour
 * components + alpha) at (x,y) over the others, named name (it frees it). */
typedef void (*wg_add_layer)(void *run, int x, int y, int w, int h, const float *px, int colour,
                             char *name);
/* Texture from Selection on the drawable d whose box (the selection's
 * bounds in it) holds the texture: draws more of it at the settings' size
 * (the layer's when none; then written into the settings), or takes the
 * dialog's, and adds it as a layer over d, from d's corner. */
wp_status wg_texture_layer(wg_common *c, const wg_drawable *d, wg_rect box, int colour,
                           wg_add_layer add, void *run);

#endif
