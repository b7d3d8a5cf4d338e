/* gimp3.h: the GIMP 3 adapter (libgimp-3.0).  Every libgimp-3.0 call of
 * the plug-in is in the gimp3_*.c files; the jobs (core/) and the dialogs
 * (ui/) never see GIMP. */
#ifndef WP_GIMP3_H
#define WP_GIMP3_H

#include <libgimp/gimp.h>

#include "jobs.h"
#include "models.h"
#include "pixels.h"
#include "run.h"
#include "wp_ui.h"

/* Opens a GIMP 3 drawable for pixels.h. */
void g3_drawable_open(wg_drawable *d, GimpDrawable *drawable);

/* A run: what both front ends keep (c), and GIMP 3's objects. */
typedef struct {
    wg_common c;
    GimpRunMode mode;
    GimpProcedure *procedure;
    GimpProcedureConfig *config; /* the settings GIMP remembers; the dialog edits them */
    GimpImage *image;
    GimpDrawable *drawable; /* NULL for a sample on an image with none selected */
    GimpImage *new_image;   /* upscale into a new image */
    GimpLayer *new_layer;   /* sample */
} g3_run;

/* The four operations: WP_OK, or a status with run->c.err set; the image is
 * left as it was on failure or cancel. */
wp_status g3_denoise(g3_run *run);
wp_status g3_upscale(g3_run *run);
wp_status g3_sample(g3_run *run);
wp_status g3_heal(g3_run *run);
wp_status g3_texture(g3_run *run);
/* The selection's bounding box in the drawable; -1 with run->c.err set
 * when there is nothing to heal there. */
int g3_heal_box(g3_run *run, int *x, int *y, int *w, int *h);
/* The selection's bounding box in the image, else the whole image: the
 * size a sample is drawn at and where it goes. */
void g3_sample_box(g3_run *run, int *x, int *y, int *w, int *h);
/* Texture from Selection: the selection's bounds in the drawable (the
 * drawable when nothing is selected), the texture to continue; -1 with
 * run->c.err set when there is none. */
int g3_texture_box(g3_run *run, int *x, int *y, int *w, int *h);

/* The run's settings from the procedure's config (its arguments, or the
 * values GIMP remembered) and back. */
void g3_settings_from_config(const wpj_desc *d, GimpProcedureConfig *config, wpj_settings *s);
void g3_settings_to_config(const wpj_desc *d, const wpj_settings *s, GimpProcedureConfig *config);

/* The job's dialog (GIMP's procedure dialog on run->config, with our
 * preview), on the drawable d (NULL: a sample, box the size it proposes;
 * a heal: box the selection's): WP_OK with run->c.s set from the config,
 * or WP_ERR_CANCELLED. */
wp_status g3_dialog(g3_run *run, wg_drawable *d, wg_rect box);

#endif
