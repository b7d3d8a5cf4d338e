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
    /* A new reference to the buffer of the image's selection mask. */
    GeglBuffer *(*selection)(const wg_drawable *d);
    /* Scales the layer to w x h, puts it at (x,y) (undoable) and opens d
     * on it again. */
    void (*resize)(wg_drawable *d, int w, int h, int x, int y);
    /* Tells GIMP that the rectangle (x,y,w,h) of the drawable changed. */
    void (*update)(const wg_drawable *d, int x, int y, int w, int h);
    int off_x, off_y;   /* the drawable's offsets in the image (the selection's frame) */
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
/* The selection's values [h,w] in [0,1] over a rectangle of the drawable. */
void wg_read_selection(const wg_drawable *d, int x, int y, int w, int h, float *out);

/* Whether a heal can run: 0, or -1 with the reason in err (a layer group,
 * no selection, a selection that misses the layer). */
int wg_heal_refuse(int is_group, int selection_empty, int touches, char *err, int errlen);

typedef struct {
    int x, y, w, h;
} wg_rect;

/* A denoise or heal of the drawable's box, read with its context c (a
 * heal's input also holds the selection): the dialog's result in ready
 * when it is of the context's size, else run(batch, data); the box is
 * written to the shadow buffer, alpha as it was, and the caller merges the
 * shadow through the selection.  A status, with err set on failure. */
wp_status wg_box_job(const wg_drawable *d, wpj_kind kind, wg_rect box, wg_rect c,
                     wpj_image *ready, wp_status (*run)(wpj_batch *b, void *data), void *data,
                     char *err, int errlen);

/* The wp_ui_source of a drawable (for the dialogs' previews). */
void wg_ui_source(wg_drawable *d, wp_ui_source *src);

#endif
