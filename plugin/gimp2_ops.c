/* gimp2_ops.c: denoise, upscale, sample and heal on GIMP layers.  Every job
 * runs to the end before the image is touched, so a failure or a cancel
 * leaves it as it was; the changes then form one undo step. */
#include <string.h>

#include "gimp2.h"
#include "wp_i18n.h"

/* ---- denoise ---- */

wp_status wg_denoise(wg_run *run)
{
    wg_drawable d;
    int x, y, w, h;
    if (wg_denoise_refuse(&run->c, gimp_item_is_group(run->drawable)))
        return WP_ERR_ARG;
    wg_drawable_open(&d, run->drawable);
    if (!gimp_drawable_mask_intersect(d.id, &x, &y, &w, &h))
        return WP_OK; /* the selection misses this layer: nothing to do */
    wp_status st = wg_denoise_box(&run->c, &d, x, y, w, h);
    if (st == WP_OK) { /* GIMP blends the shadow through the (feathered) selection */
        gimp_drawable_merge_shadow(d.id, TRUE);
        gimp_drawable_update(d.id, x, y, w, h);
    }
    return st;
}

/* ---- upscale ---- */

/* The non-group layers of the image, groups opened. */
static void collect_layers(const gint *ids, gint n, GArray *out)
{
    for (gint i = 0; i < n; i++) {
        if (gimp_item_is_group(ids[i])) {
            gint nk;
            gint *kids = gimp_item_get_children(ids[i], &nk);
            collect_layers(kids, nk, out);
            g_free(kids);
        } else {
            g_array_append_val(out, ids[i]);
        }
    }
}

/* A new image holding the upscaled layer; its id, or -1. */
static gint32 new_image_with(wg_run *run, const wg_up_layer *l, int f)
{
    const wg_drawable *d = &l->d;
    int W = d->width * f, H = d->height * f;
    gint32 img = gimp_image_new_with_precision(W, H, gimp_image_base_type(run->image),
                                               gimp_image_get_precision(run->image));
    if (img < 0)
        return -1;
    gimp_image_undo_disable(img);
    GimpColorProfile *profile = gimp_image_get_color_profile(run->image);
    if (profile) {
        gimp_image_set_color_profile(img, profile);
        g_object_unref(profile);
    }
    GimpImageType type = d->colour == 3 ? (d->alpha ? GIMP_RGBA_IMAGE : GIMP_RGB_IMAGE)
                                        : (d->alpha ? GIMP_GRAYA_IMAGE : GIMP_GRAY_IMAGE);
    char *name = gimp_item_get_name(d->id);
    gint32 layer = gimp_layer_new(img, name, W, H, type, 100.0, GIMP_LAYER_MODE_NORMAL);
    g_free(name);
    gimp_image_insert_layer(img, layer, 0, 0);
    wg_drawable nd;
    wg_drawable_open(&nd, layer);
    wg_write(&nd, 0, 0, 0, W, H, l->px, W);
    gimp_image_undo_enable(img);
    if (run->mode != GIMP_RUN_NONINTERACTIVE) /* also "Repeat" from the menu */
        gimp_display_new(img);
    return img;
}

static void image_undo_group(wg_image *im, int start)
{
    const wg_run *run = im->run;
    (start ? gimp_image_undo_group_start : gimp_image_undo_group_end)(run->image);
}

static void image_scale(wg_image *im, int w, int h)
{
    gimp_image_scale(((wg_run *)im->run)->image, w, h);
}

static void image_resize(wg_image *im, int w, int h, int dx, int dy)
{
    gimp_image_resize(((wg_run *)im->run)->image, w, h, dx, dy);
}

static void image_new(wg_image *im, const wg_up_layer *l, int f)
{
    wg_run *run = im->run;
    run->result = new_image_with(run, l, f);
}

/* The layers an upscale works on; -1 with a message when there are none. */
static int upscale_layers(wg_run *run, GArray *ids)
{
    if (run->c.s.target == WPJ_TARGET_IMAGE) {
        gint n;
        gint *top = gimp_image_get_layers(run->image, &n);
        collect_layers(top, n, ids);
        g_free(top);
    } else if (gimp_item_is_layer(run->drawable) && !gimp_item_is_group(run->drawable)) {
        g_array_append_val(ids, run->drawable);
    }
    if (ids->len > 0)
        return 0;
    g_snprintf(run->c.err, sizeof run->c.err,
               _("Upscale works on layers: choose a layer (not a mask, channel or group)."));
    return -1;
}

wp_status wg_upscale(wg_run *run)
{
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(gint32));
    if (upscale_layers(run, ids)) {
        g_array_free(ids, TRUE);
        return WP_ERR_ARG;
    }
    int n = (int)ids->len;
    wg_up_layer *ls = g_new0(wg_up_layer, n);
    for (int i = 0; i < n; i++)
        wg_drawable_open(&ls[i].d, g_array_index(ids, gint32, i));
    wp_status st = wg_upscale_pixels(&run->c, ls, n);
    wg_image im = {run, gimp_image_width(run->image), gimp_image_height(run->image),
                   image_undo_group, image_scale, image_resize, image_new};
    if (st == WP_OK)
        wg_apply_upscale(&run->c, &im, ls, n);
    wg_up_free(ls, n);
    g_array_free(ids, TRUE);
    return st;
}

/* ---- sample ---- */

void wg_sample_box(wg_run *run, int *x, int *y, int *w, int *h)
{
    gboolean sel; /* the whole image when nothing is selected */
    gint x1, y1, x2, y2;
    gimp_selection_bounds(run->image, &sel, &x1, &y1, &x2, &y2);
    *x = x1, *y = y1, *w = x2 - x1, *h = y2 - y1;
}

/* A new layer of the sample over the others at (x,y), named name (freed). */
static void add_sample_layer(void *data, int x, int y, int w, int h, const float *px, int colour,
                             char *name)
{
    wg_run *run = data;
    gimp_image_undo_group_start(run->image);
    gint32 layer = gimp_layer_new(run->image, name, w, h,
                                  colour == 3 ? GIMP_RGBA_IMAGE : GIMP_GRAYA_IMAGE, 100.0,
                                  GIMP_LAYER_MODE_NORMAL);
    gimp_image_insert_layer(run->image, layer, 0, -1);
    gimp_layer_set_offsets(layer, x, y);
    wg_drawable d;
    wg_drawable_open(&d, layer);
    wg_write(&d, 0, 0, 0, w, h, px, w);
    gimp_drawable_update(layer, 0, 0, w, h);
    gimp_image_undo_group_end(run->image);
    run->result = layer;
    g_free(name);
}

wp_status wg_sample(wg_run *run)
{
    int x, y, w, h, sw, sh;
    float *px;
    wg_sample_box(run, &x, &y, &w, &h);
    int colour = gimp_image_base_type(run->image) == GIMP_GRAY ? 1 : 3;
    wp_status st = wg_sample_pixels(&run->c, colour, NULL, w, h, &px, &sw, &sh);
    if (st == WP_OK) {
        gimp_progress_set_text(_("Writing pixels"));
        add_sample_layer(run, x, y, sw, sh, px, colour,
                         g_strdup_printf(_("Sample (seed %d)"), run->c.s.seed));
    }
    g_free(px);
    return st;
}

/* ---- texture from selection ---- */

int wg_texture_box(wg_run *run, int *x, int *y, int *w, int *h)
{
    int group = gimp_item_is_group(run->drawable);
    int touches = !group && gimp_drawable_mask_intersect(run->drawable, x, y, w, h);
    return wg_texture_refuse(group, touches, *w, *h, run->c.err, sizeof run->c.err);
}

wp_status wg_texture(wg_run *run)
{
    wg_rect box;
    if (wg_texture_box(run, &box.x, &box.y, &box.w, &box.h))
        return WP_ERR_ARG;
    wg_drawable d;
    wg_drawable_open(&d, run->drawable);
    int colour = gimp_image_base_type(run->image) == GIMP_GRAY ? 1 : 3;
    return wg_texture_layer(&run->c, &d, box, colour, add_sample_layer, run);
}

/* ---- heal ---- */

int wg_heal_box(wg_run *run, int *x, int *y, int *w, int *h)
{
    int group = gimp_item_is_group(run->drawable), empty = gimp_selection_is_empty(run->image);
    int touches = !group && !empty && gimp_drawable_mask_intersect(run->drawable, x, y, w, h);
    return wg_heal_refuse(group, empty, touches, run->c.err, sizeof run->c.err);
}

wp_status wg_heal(wg_run *run)
{
    int x, y, w, h;
    if (wg_heal_box(run, &x, &y, &w, &h))
        return WP_ERR_ARG;
    wg_drawable d;
    wg_drawable_open(&d, run->drawable);
    wp_status st = wg_heal_fill(&run->c, &d, x, y, w, h);
    if (st == WP_OK) { /* GIMP blends through the (feathered) selection: one undo step */
        gimp_drawable_merge_shadow(d.id, TRUE);
        gimp_drawable_update(d.id, x, y, w, h);
    }
    return st;
}
