/* pixels.c: drawables as float pixels through GEGL buffers. */
#include "pixels.h"

#include <string.h>

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
    src->data = d;
    src->width = d->width;
    src->height = d->height;
    src->channels = d->colour;
}
