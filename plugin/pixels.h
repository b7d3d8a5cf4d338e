/* pixels.h: a drawable's pixels as interleaved floats through GEGL, for
 * both GIMP front ends (each fills in the handle and the buffer getter). */
#ifndef WP_PIXELS_H
#define WP_PIXELS_H

#include <gegl.h>

#include "jobs.h"
#include "wp_ui.h"

typedef struct wg_drawable wg_drawable;
struct wg_drawable {
    int id;         /* GIMP 2.10: the drawable id */
    void *drawable; /* GIMP 3: the GimpDrawable */
    /* A new reference to the drawable's buffer or (shadow) its shadow buffer. */
    GeglBuffer *(*buffer)(const wg_drawable *d, int shadow);
    const Babl *format; /* "R'G'B'(A) float" or "Y'(A) float" in the drawable's space */
    int ncomp;          /* components per pixel, alpha included */
    int colour;         /* colour channels: 1 or 3 */
    int alpha;
    int width, height;
};

/* Sets the format and sizes; space: the drawable's own format (its
 * colour space: pixels are read gamma-encoded, as the models expect). */
void wg_pixels_setup(wg_drawable *d, int colour, int alpha, const Babl *space, int width,
                     int height);
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

#endif
