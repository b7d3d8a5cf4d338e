/* gimp2.h: the GIMP 2.10 adapter.  Every libgimp call of the plug-in is in
 * the gimp2_*.c files; the jobs (core/) and the dialogs (ui/) never see GIMP. */
#ifndef WP_GIMP2_H
#define WP_GIMP2_H

#include <libgimp/gimp.h>

#include "jobs.h"
#include "models.h"
#include "wp_ui.h"

#include "pixels.h"
#include "run.h"

/* Opens a GIMP 2.10 drawable for pixels.h. */
void wg_drawable_open(wg_drawable *d, gint32 id);

/* A run: what both front ends keep (c), and GIMP 2.10's ids. */
typedef struct {
    wg_common c;
    GimpRunMode mode;
    gint32 image, drawable;
    unsigned long parent;   /* X11 window of GIMP's progress, 0: none (wg_attach) */
    gint32 result;          /* new image (upscale) or layer (sample), or -1 */
} wg_run;

/* Keeps win (a dialog, the progress window) above the run's parent window:
 * the wp_ui_host of GIMP 2.10, whose windows only X11 ids name. */
void wg_attach(GtkWindow *win, void *run);

/* The four operations: WP_OK, or a status with run->c.err set; the image is
 * left as it was on failure or cancel. */
wp_status wg_denoise(wg_run *run);
wp_status wg_upscale(wg_run *run);
wp_status wg_sample(wg_run *run);
wp_status wg_heal(wg_run *run);
wp_status wg_texture(wg_run *run);
/* The selection's bounding box in the drawable; -1 with run->c.err set
 * when there is nothing to heal there. */
int wg_heal_box(wg_run *run, int *x, int *y, int *w, int *h);
/* The selection's bounding box in the image, else the whole image: the
 * size a sample is drawn at and where it goes. */
void wg_sample_box(wg_run *run, int *x, int *y, int *w, int *h);
/* Texture from Selection: the selection's bounds in the drawable (the
 * drawable when nothing is selected), the texture to continue; -1 with
 * run->c.err set when there is none. */
int wg_texture_box(wg_run *run, int *x, int *y, int *w, int *h);

#endif
