/* pixels.c: drawables as float pixels through GEGL buffers. */
#include "pixels.h"

#include <string.h>

#include "wp_i18n.h"

void wg_pixels_setup(wg_drawable *d, int colour, int alpha, const Babl *space, int width,
                     int height)
{
    d->colour = colour;
    d->alpha = alpha;
    d->ncomp = colour + alpha;
    const char *name = colour == 3 ? (alpha ? "R'G'B'A float" : "R'G'B' float")
                                   : (alpha ? "Y'A float" : "Y' float");
    /* The drawable's own space: no conversion to sRGB on the way. */
    d->format = babl_format_with_space(name, space);
    d->width = width;
    d->height = height;
}

float *wg_read(const wg_drawable *d, int x, int y, int w, int h)
{
    float *px = g_try_malloc(sizeof(float) * (size_t)d->ncomp * w * h + 1);
    if (!px)
        return NULL;
    GeglBuffer *buf = d->buffer(d, 0);
    gegl_buffer_get(buf, GEGL_RECTANGLE(x, y, w, h), 1.0, d->format, px, GEGL_AUTO_ROWSTRIDE,
                    GEGL_ABYSS_NONE);
    g_object_unref(buf);
    return px;
}

void wg_write(const wg_drawable *d, int shadow, int x, int y, int w, int h, const float *px,
              int rowstride)
{
    GeglBuffer *buf = d->buffer(d, shadow);
    gegl_buffer_set(buf, GEGL_RECTANGLE(x, y, w, h), 0, d->format, px,
                    (gint)(sizeof(float) * d->ncomp * rowstride));
    g_object_unref(buf); /* flushes the tiles to GIMP */
}

int wg_read_planes(const wg_drawable *d, int x, int y, int w, int h, wpj_image *im)
{
    float *px = wg_read(d, x, y, w, h);
    if (!px || wpj_image_alloc(im, d->colour, h, w)) {
        g_free(px);
        return -1;
    }
    wpj_from_interleaved(im, px, d->ncomp);
    g_free(px);
    return 0;
}

void wg_read_selection(const wg_drawable *d, int x, int y, int w, int h, float *out)
{
    GeglBuffer *buf = d->selection(d);
    gegl_buffer_get(buf, GEGL_RECTANGLE(d->off_x + x, d->off_y + y, w, h), 1.0,
                    babl_format("Y float"), out, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
    g_object_unref(buf);
}

int wg_heal_refuse(int is_group, int selection_empty, int touches, char *err, int errlen)
{
    if (is_group)
        g_snprintf(err, errlen, _("Heal works on layers, masks and channels, not on layer groups."));
    else if (selection_empty)
        g_snprintf(err, errlen, _("Heal fills the selection: select what to remove first."));
    else if (!touches)
        g_snprintf(err, errlen, _("The selection does not touch this layer."));
    return is_group || selection_empty || !touches ? -1 : 0;
}

/* A box job's input on the context c: colour planes, then (a heal) the
 * selection's; px gets the interleaved pixels, alpha included. */
static int box_read(const wg_drawable *d, int heal, wg_rect c, float **px, wpj_image *in)
{
    if (!(*px = wg_read(d, c.x, c.y, c.w, c.h)) || wpj_image_alloc(in, d->colour + heal, c.h, c.w))
        return -1;
    wpj_image colour = *in;
    colour.c = d->colour;
    wpj_from_interleaved(&colour, *px, d->ncomp);
    if (heal)
        wg_read_selection(d, c.x, c.y, c.w, c.h, in->px + (size_t)d->colour * c.w * c.h);
    return 0;
}

wp_status wg_box_job(const wg_drawable *d, wpj_kind kind, wg_rect box, wg_rect c,
                     wpj_image *ready, wp_status (*run)(wpj_batch *b, void *data), void *data,
                     char *err, int errlen)
{
    float *px = NULL;
    wpj_image in = {0}, out = {0};
    wpj_batch b = {.kind = kind, .n = 1, .in = &in, .out = &out};
    wp_status st = WP_OK;
    if (box_read(d, kind == WPJ_HEAL, c, &px, &in)) {
        g_snprintf(err, errlen, _("Not enough memory for the layer's pixels."));
        st = WP_ERR_NOMEM;
    } else if (ready->px && ready->w == c.w && ready->h == c.h && ready->c == d->colour) {
        out = *ready; /* the dialog's preview is this very result */
        ready->px = NULL;
    } else {
        st = run(&b, data);
    }
    if (st == WP_OK) {
        wpj_to_interleaved(&out, px, d->ncomp); /* alpha stays as read */
        wg_write(d, 1, box.x, box.y, box.w, box.h,
                 px + ((size_t)(box.y - c.y) * c.w + (box.x - c.x)) * d->ncomp, c.w);
    }
    wpj_batch_free(&b);
    wpj_image_free(&in);
    g_free(px);
    return st;
}

static int fetch_selection(void *data, int x, int y, int w, int h, float *out)
{
    wg_read_selection(data, x, y, w, h, out);
    return 0;
}

static int fetch(void *data, int x, int y, int w, int h, float *out)
{
    const wg_drawable *d = data;
    float *px = wg_read(d, x, y, w, h);
    if (!px)
        return -1;
    wpj_image im = {out, d->colour, h, w};
    wpj_from_interleaved(&im, px, d->ncomp);
    g_free(px);
    return 0;
}

void wg_ui_source(wg_drawable *d, wp_ui_source *src)
{
    memset(src, 0, sizeof *src);
    src->fetch = fetch;
    src->fetch_selection = fetch_selection;
    src->data = d;
    src->width = d->width;
    src->height = d->height;
    src->channels = d->colour;
}
