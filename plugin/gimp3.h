/* gimp3.h: the GIMP 3 adapter (libgimp-3.0).  Every libgimp-3.0 call of
 * the plug-in is in the gimp3_*.c files; the jobs (core/) and the dialogs
 * (ui/) never see GIMP. */
#ifndef WP_GIMP3_H
#define WP_GIMP3_H

#include <libgimp/gimp.h>

#include "jobs.h"
#include "models.h"
#include "pixels.h"
#include "wp_ui.h"

/* Opens a GIMP 3 drawable for pixels.h. */
void g3_drawable_open(wg_drawable *d, GimpDrawable *drawable);

/* What a run asks for, and what the operations report back. */
typedef struct {
    GimpRunMode mode;
    GimpImage *image;
    GimpDrawable *drawable; /* NULL for a sample on an image with none selected */
    wpj_settings s;
    wp_prior *prior;
    wpj_image ready;      /* a sample the dialog already drew, or px NULL */
    GimpImage *new_image; /* upscale into a new image */
    GimpLayer *new_layer; /* sample */
    wpm_list models;      /* the installed models, scanned once a run (scanned: 1) */
    int scanned;
    char err[WP_ERRLEN];
} g3_run;

/* The four operations: WP_OK, or a status with run->err set; the image is
 * left as it was on failure or cancel. */
wp_status g3_denoise(g3_run *run);
wp_status g3_upscale(g3_run *run);
wp_status g3_sample(g3_run *run);
wp_status g3_heal(g3_run *run);
/* The selection's bounding box in the drawable; -1 with run->err set
 * when there is nothing to heal there. */
int g3_heal_box(g3_run *run, int *x, int *y, int *w, int *h);

#endif
