/* gimp2.h: the GIMP 2.10 adapter.  Every libgimp call of the plug-in is in
 * the gimp2_*.c files; the jobs (core/) and the dialogs (ui/) never see GIMP. */
#ifndef WP_GIMP2_H
#define WP_GIMP2_H

#include <libgimp/gimp.h>

#include "jobs.h"
#include "models.h"
#include "wp_ui.h"

/* A drawable read as float pixels in its own colour space, gamma-encoded
 * (what the models expect, like PNG pixels). */
typedef struct {
    gint32 id;
    const Babl *format; /* "R'G'B'(A) float" or "Y'(A) float" */
    int ncomp;          /* components per pixel, alpha included */
    int colour;         /* colour channels: 1 or 3 */
    int alpha;
    int width, height;
} wg_drawable;

void wg_drawable_open(wg_drawable *d, gint32 id);
/* Interleaved pixels of a rectangle, g_try_malloc'ed; NULL when out of memory. */
float *wg_read(const wg_drawable *d, int x, int y, int w, int h);
/* Writes a rectangle of interleaved pixels (rowstride in pixels) to the
 * drawable itself (shadow = 0, no undo: the caller pushed one) or to its
 * shadow buffer (shadow = 1). */
void wg_write(const wg_drawable *d, int shadow, int x, int y, int w, int h, const float *px,
              int rowstride);
/* Reads a rectangle's colour planes into im (allocated); -1 when out of memory. */
int wg_read_planes(const wg_drawable *d, int x, int y, int w, int h, wpj_image *im);
/* The wp_ui_source of a drawable (for the dialogs' previews). */
void wg_ui_source(wg_drawable *d, wp_ui_source *src);

/* What a run asks for, and what the operations report back. */
typedef struct {
    GimpRunMode mode;
    gint32 image, drawable;
    wpj_settings s;
    wp_prior *prior;
    unsigned long parent;   /* X11 window of GIMP's progress, for dialogs */
    wpj_image ready;        /* a sample the dialog already drew, or px NULL */
    gint32 result;          /* new image (upscale) or layer (sample), or -1 */
    wpm_list models;        /* the installed models, scanned once a run (scanned: 1) */
    int scanned;
    char err[WP_ERRLEN];
} wg_run;

/* The three operations: WP_OK, or a status with run->err set; the image is
 * left as it was on failure or cancel. */
wp_status wg_denoise(wg_run *run);
wp_status wg_upscale(wg_run *run);
wp_status wg_sample(wg_run *run);

#endif
