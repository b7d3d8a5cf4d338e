/* gimp2_pixels.c: GIMP 2.10 drawables for pixels.c. */
#include <string.h>

#include "gimp2.h"

static GeglBuffer *buffer(const wg_drawable *d, int shadow)
{
    return shadow ? gimp_drawable_get_shadow_buffer(d->id) : gimp_drawable_get_buffer(d->id);
}

static GeglBuffer *selection(const wg_drawable *d)
{
    return gimp_drawable_get_buffer(gimp_image_get_selection(gimp_item_get_image(d->id)));
}

static void resize(wg_drawable *d, int w, int h, int x, int y)
{
    if (gimp_drawable_width(d->id) != w || gimp_drawable_height(d->id) != h)
        gimp_layer_scale(d->id, w, h, FALSE);
    gimp_layer_set_offsets(d->id, x, y);
    wg_drawable_open(d, d->id);
}

static void update(const wg_drawable *d, int x, int y, int w, int h)
{
    gimp_drawable_update(d->id, x, y, w, h);
}

void wg_drawable_open(wg_drawable *d, gint32 id)
{
    *d = (wg_drawable){.id = id, .buffer = buffer, .selection = selection, .resize = resize,
                       .update = update};
    gimp_drawable_offsets(id, &d->off_x, &d->off_y);
    wg_pixels_setup(d, gimp_drawable_is_rgb(id) ? 3 : 1, gimp_drawable_has_alpha(id) ? 1 : 0,
                    gimp_drawable_get_format(id), gimp_drawable_width(id),
                    gimp_drawable_height(id));
}
