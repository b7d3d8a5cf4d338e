/* preview.h: a before/after preview with a draggable split line; dragging
 * elsewhere pans the previewed region. */
#ifndef WP_PREVIEW_H
#define WP_PREVIEW_H

#include <gtk/gtk.h>

#include "jobs.h"

typedef struct wp_preview wp_preview;

/* pan(data, dx, dy): the user dragged the picture by (dx,dy) pixels of
 * the "after" image. */
typedef void (*wp_preview_pan_fn)(void *data, int dx, int dy);

/* zoom(data, steps): the mouse wheel turned steps notches (> 0: in). */
typedef void (*wp_preview_zoom_fn)(void *data, int steps);

/* A preview at least side x side pixels large (it grows with its
 * container); name labels its test report. */
wp_preview *wp_preview_new(int side, const char *name);
/* The widget (owned by its container once packed); the preview is freed
 * with it. */
GtkWidget *wp_preview_widget(wp_preview *pv);
void wp_preview_set_pan(wp_preview *pv, wp_preview_pan_fn fn, void *data);
void wp_preview_set_zoom(wp_preview *pv, wp_preview_zoom_fn fn, void *data);
/* Screen pixels per pixel of the "after" image; 0 (the default): fitted
 * into the widget. */
void wp_preview_set_scale(wp_preview *pv, double scale);
/* before is shown enlarged by scale (nearest), left of the split; after
 * (NULL while it is being computed) right of it.  Both are copied. */
void wp_preview_set_before(wp_preview *pv, const wpj_image *before, int scale);
void wp_preview_set_after(wp_preview *pv, const wpj_image *after);
/* A line drawn over the picture ("Computing... 40%", an error), or NULL. */
void wp_preview_set_message(wp_preview *pv, const char *msg);

#endif
