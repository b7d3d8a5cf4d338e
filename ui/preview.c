/* preview.c: the before/after preview widget. */
#include "preview.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ui_common.h"
#include "wp_i18n.h"

#define SPLIT_GRAB 6 /* pixels either side of the split line that grab it */

struct wp_preview {
    GtkWidget *area;
    char *name;
    cairo_surface_t *before, *after;
    char *message;
    double split;        /* 0..1 of the drawn width */
    int drag;            /* 0 none, 1 pan, 2 split */
    double x0, y0, dx, dy;
    wp_preview_pan_fn pan;
    void *pan_data;
    wp_preview_zoom_fn zoom;
    void *zoom_data;
    double scale;        /* screen pixels per picture pixel; 0: fitted */
    int reported;        /* the current "after" has been reported */
};

/* Planar floats -> an opaque cairo image, each pixel repeated scale x scale. */
static cairo_surface_t *to_surface(const wpj_image *im, int scale)
{
    int W = im->w * scale, H = im->h * scale;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS)
        return s;
    cairo_surface_flush(s);
    unsigned char *data = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    size_t np = (size_t)im->w * im->h;
    for (int y = 0; y < H; y++) {
        guint32 *row = (guint32 *)(void *)(data + (size_t)y * stride);
        for (int x = 0; x < W; x++) {
            size_t i = (size_t)(y / scale) * im->w + x / scale;
            guint32 v[3];
            for (int c = 0; c < 3; c++) {
                float f = im->px[(im->c == 3 ? c : 0) * np + i];
                f = f > 0.0f ? (f < 1.0f ? f : 1.0f) : 0.0f;
                v[c] = (guint32)lrintf(f * 255.0f);
            }
            row[x] = v[0] << 16 | v[1] << 8 | v[2];
        }
    }
    cairo_surface_mark_dirty(s);
    return s;
}

/* Where the picture goes inside the widget: at its scale (or fitted), centred. */
static void picture_rect(const wp_preview *pv, cairo_surface_t *img, double *x, double *y,
                         double *scale)
{
    int W = gtk_widget_get_allocated_width(pv->area), H = gtk_widget_get_allocated_height(pv->area);
    int iw = cairo_image_surface_get_width(img), ih = cairo_image_surface_get_height(img);
    *scale = pv->scale > 0 ? pv->scale : fmin((double)W / iw, (double)H / ih);
    *x = floor((W - iw * *scale) / 2);
    *y = floor((H - ih * *scale) / 2);
}

static void paint_image(cairo_t *cr, cairo_surface_t *img, double x, double y, double s)
{
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_scale(cr, s, s);
    cairo_set_source_surface(cr, img, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), s >= 1.0 ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD);
    cairo_paint(cr);
    cairo_restore(cr);
}

/* For the dialog tests: where the finished preview is, in window pixels. */
static void report(wp_preview *pv, double x, double y, double w, double h)
{
    int tx, ty;
    GtkWidget *top = gtk_widget_get_toplevel(pv->area);
    if (pv->reported || !g_getenv("WPRIOR_UI_REPORT") ||
        !gtk_widget_translate_coordinates(pv->area, top, (int)x, (int)y, &tx, &ty))
        return;
    double s = w / cairo_image_surface_get_width(pv->after);
    char *line = g_strdup_printf("preview %s %d %d %d %d %.3f", pv->name, tx, ty, (int)w, (int)h, s);
    wp_ui_report(line);
    g_free(line);
    pv->reported = 1;
}

static void paint_message(cairo_t *cr, const char *msg, int W, int H)
{
    cairo_text_extents_t ext;
    cairo_select_font_face(cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 12);
    cairo_text_extents(cr, msg, &ext);
    cairo_set_source_rgba(cr, 0, 0, 0, 0.6);
    cairo_rectangle(cr, 0, H - 22, W, 22);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_move_to(cr, fmax(4, (W - ext.width) / 2), H - 7);
    cairo_show_text(cr, msg);
}

static gboolean on_draw(GtkWidget *w, cairo_t *cr, gpointer data)
{
    wp_preview *pv = data;
    int W = gtk_widget_get_allocated_width(w), H = gtk_widget_get_allocated_height(w);
    cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
    cairo_paint(cr);
    cairo_surface_t *main = pv->after ? pv->after : pv->before;
    if (main) {
        double x, y, s;
        picture_rect(pv, main, &x, &y, &s);
        x += pv->dx;
        y += pv->dy;
        double iw = cairo_image_surface_get_width(main) * s;
        double ih = cairo_image_surface_get_height(main) * s;
        paint_image(cr, main, x, y, s);
        if (pv->before && pv->after) {
            double sx = x + pv->split * iw;
            cairo_save(cr);
            cairo_rectangle(cr, x, y, sx - x, ih);
            cairo_clip(cr);
            paint_image(cr, pv->before, x, y, s);
            cairo_restore(cr);
            cairo_set_source_rgb(cr, 1, 1, 1);
            cairo_set_line_width(cr, 1);
            cairo_move_to(cr, floor(sx) + 0.5, y);
            cairo_line_to(cr, floor(sx) + 0.5, y + ih);
            cairo_stroke(cr);
        }
        if (pv->after && !pv->drag)
            report(pv, x, y, iw, ih);
    }
    if (pv->message)
        paint_message(cr, pv->message, W, H);
    return TRUE;
}

static double split_x(const wp_preview *pv)
{
    double x, y, s;
    picture_rect(pv, pv->after, &x, &y, &s);
    return x + pv->split * cairo_image_surface_get_width(pv->after) * s;
}

static gboolean on_press(GtkWidget *w, GdkEventButton *ev, gpointer data)
{
    (void)w;
    wp_preview *pv = data;
    if (ev->button != 1 || (!pv->before && !pv->after))
        return FALSE;
    pv->x0 = ev->x;
    pv->y0 = ev->y;
    pv->drag = pv->before && pv->after && fabs(ev->x - split_x(pv)) <= SPLIT_GRAB ? 2 : 1;
    return TRUE;
}

static gboolean on_motion(GtkWidget *w, GdkEventMotion *ev, gpointer data)
{
    wp_preview *pv = data;
    if (pv->drag == 2) {
        double x, y, s;
        picture_rect(pv, pv->after, &x, &y, &s);
        double iw = cairo_image_surface_get_width(pv->after) * s;
        pv->split = fmin(1.0, fmax(0.0, (ev->x - x) / iw));
    } else if (pv->drag == 1 && pv->pan) {
        pv->dx = ev->x - pv->x0;
        pv->dy = ev->y - pv->y0;
    }
    gtk_widget_queue_draw(w);
    return TRUE;
}

static gboolean on_release(GtkWidget *w, GdkEventButton *ev, gpointer data)
{
    (void)ev;
    wp_preview *pv = data;
    int was = pv->drag;
    pv->drag = 0;
    if (was == 1 && pv->pan && (pv->dx != 0 || pv->dy != 0)) {
        double x, y, s;
        picture_rect(pv, pv->after ? pv->after : pv->before, &x, &y, &s);
        int dx = (int)lround(pv->dx / s), dy = (int)lround(pv->dy / s);
        pv->dx = pv->dy = 0;
        pv->pan(pv->pan_data, dx, dy);
    }
    gtk_widget_queue_draw(w);
    return TRUE;
}

static gboolean on_scroll(GtkWidget *w, GdkEventScroll *ev, gpointer data)
{
    (void)w;
    wp_preview *pv = data;
    if (!pv->zoom || (ev->direction != GDK_SCROLL_UP && ev->direction != GDK_SCROLL_DOWN))
        return FALSE;
    pv->zoom(pv->zoom_data, ev->direction == GDK_SCROLL_UP ? 1 : -1);
    return TRUE;
}

static void on_destroy(GtkWidget *w, gpointer data)
{
    (void)w;
    wp_preview *pv = data;
    if (pv->before)
        cairo_surface_destroy(pv->before);
    if (pv->after)
        cairo_surface_destroy(pv->after);
    g_free(pv->message);
    g_free(pv->name);
    g_free(pv);
}

wp_preview *wp_preview_new(int side, const char *name)
{
    wp_preview *pv = g_new0(wp_preview, 1);
    pv->name = g_strdup(name);
    pv->split = 0.5;
    pv->area = gtk_drawing_area_new();
    gtk_widget_set_size_request(pv->area, side, side);
    gtk_widget_add_events(pv->area, GDK_BUTTON_PRESS_MASK | GDK_BUTTON_RELEASE_MASK |
                                        GDK_BUTTON1_MOTION_MASK | GDK_SCROLL_MASK);
    gtk_widget_set_tooltip_text(pv->area, _("Left: before, right: after. Drag the line to move "
                                            "it; drag the picture to pan; the mouse wheel zooms."));
    g_signal_connect(pv->area, "draw", G_CALLBACK(on_draw), pv);
    g_signal_connect(pv->area, "button-press-event", G_CALLBACK(on_press), pv);
    g_signal_connect(pv->area, "motion-notify-event", G_CALLBACK(on_motion), pv);
    g_signal_connect(pv->area, "button-release-event", G_CALLBACK(on_release), pv);
    g_signal_connect(pv->area, "scroll-event", G_CALLBACK(on_scroll), pv);
    g_signal_connect(pv->area, "destroy", G_CALLBACK(on_destroy), pv);
    return pv;
}

GtkWidget *wp_preview_widget(wp_preview *pv)
{
    return pv->area;
}

void wp_preview_set_pan(wp_preview *pv, wp_preview_pan_fn fn, void *data)
{
    pv->pan = fn;
    pv->pan_data = data;
}

void wp_preview_set_zoom(wp_preview *pv, wp_preview_zoom_fn fn, void *data)
{
    pv->zoom = fn;
    pv->zoom_data = data;
}

void wp_preview_set_scale(wp_preview *pv, double scale)
{
    pv->scale = scale;
    gtk_widget_queue_draw(pv->area);
}

static void replace_surface(cairo_surface_t **slot, const wpj_image *im, int scale)
{
    if (*slot)
        cairo_surface_destroy(*slot);
    *slot = im && im->px ? to_surface(im, scale) : NULL;
}

void wp_preview_set_before(wp_preview *pv, const wpj_image *before, int scale)
{
    replace_surface(&pv->before, before, scale);
    gtk_widget_queue_draw(pv->area);
}

void wp_preview_set_after(wp_preview *pv, const wpj_image *after)
{
    replace_surface(&pv->after, after, 1);
    pv->reported = 0;
    gtk_widget_queue_draw(pv->area);
}

void wp_preview_set_message(wp_preview *pv, const char *msg)
{
    g_free(pv->message);
    pv->message = msg ? g_strdup(msg) : NULL;
    gtk_widget_queue_draw(pv->area);
}
