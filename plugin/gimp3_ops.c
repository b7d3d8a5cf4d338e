/* gimp3_ops.c: denoise, upscale, sample and heal on GIMP 3 layers.  Every job
 * runs to the end before the image is touched, so a failure or a cancel
 * (GIMP's progress bar ends the plug-in) leaves it as it was; the changes
 * then form one undo step. */
#include <string.h>

#include "gimp3.h"
#include "wp_i18n.h"

static GeglBuffer *buffer(const wg_drawable *d, int shadow)
{
    GimpDrawable *dr = d->drawable;
    return shadow ? gimp_drawable_get_shadow_buffer(dr) : gimp_drawable_get_buffer(dr);
}

static GeglBuffer *selection(const wg_drawable *d)
{
    GimpImage *img = gimp_item_get_image(GIMP_ITEM(d->drawable));
    return gimp_drawable_get_buffer(GIMP_DRAWABLE(gimp_image_get_selection(img)));
}

static void resize(wg_drawable *d, int w, int h, int x, int y)
{
    GimpDrawable *dr = d->drawable;
    if (gimp_drawable_get_width(dr) != w || gimp_drawable_get_height(dr) != h)
        gimp_layer_scale(GIMP_LAYER(dr), w, h, FALSE);
    gimp_layer_set_offsets(GIMP_LAYER(dr), x, y);
    g3_drawable_open(d, dr);
}

static void update(const wg_drawable *d, int x, int y, int w, int h)
{
    gimp_drawable_update(d->drawable, x, y, w, h);
}

void g3_drawable_open(wg_drawable *d, GimpDrawable *drawable)
{
    *d = (wg_drawable){.drawable = drawable, .buffer = buffer, .selection = selection,
                       .resize = resize, .update = update};
    gimp_drawable_get_offsets(drawable, &d->off_x, &d->off_y);
    wg_pixels_setup(d, gimp_drawable_is_rgb(drawable) ? 3 : 1,
                    gimp_drawable_has_alpha(drawable) ? 1 : 0, gimp_drawable_get_format(drawable),
                    gimp_drawable_get_width(drawable), gimp_drawable_get_height(drawable));
}

/* ---- denoise ---- */

wp_status g3_denoise(g3_run *run)
{
    wg_drawable d;
    int x, y, w, h;
    if (wg_denoise_refuse(&run->c, gimp_item_is_group(GIMP_ITEM(run->drawable))))
        return WP_ERR_ARG;
    g3_drawable_open(&d, run->drawable);
    if (!gimp_drawable_mask_intersect(run->drawable, &x, &y, &w, &h))
        return WP_OK; /* the selection misses this layer: nothing to do */
    wp_status st = wg_denoise_box(&run->c, &d, x, y, w, h);
    if (st == WP_OK) { /* GIMP blends the shadow through the (feathered) selection */
        gimp_drawable_merge_shadow(run->drawable, TRUE);
        gimp_drawable_update(run->drawable, x, y, w, h);
    }
    return st;
}

/* ---- upscale ---- */

/* The non-group layers under item (groups opened). */
static void collect_item(GimpItem *item, GPtrArray *out)
{
    if (!gimp_item_is_group(item)) {
        g_ptr_array_add(out, item);
        return;
    }
    GimpItem **kids = gimp_item_get_children(item);
    for (int i = 0; kids && kids[i]; i++)
        collect_item(kids[i], out);
    g_free(kids);
}

/* A new image holding the upscaled layer, or NULL. */
static GimpImage *new_image_with(g3_run *run, const wg_up_layer *l, int f)
{
    const wg_drawable *d = &l->d;
    int W = d->width * f, H = d->height * f;
    GimpImage *img = gimp_image_new_with_precision(W, H, gimp_image_get_base_type(run->image),
                                                   gimp_image_get_precision(run->image));
    if (!img)
        return NULL;
    gimp_image_undo_disable(img);
    GimpColorProfile *profile = gimp_image_get_color_profile(run->image);
    if (profile) {
        gimp_image_set_color_profile(img, profile);
        g_object_unref(profile);
    }
    GimpImageType type = d->colour == 3 ? (d->alpha ? GIMP_RGBA_IMAGE : GIMP_RGB_IMAGE)
                                        : (d->alpha ? GIMP_GRAYA_IMAGE : GIMP_GRAY_IMAGE);
    GimpLayer *layer = gimp_layer_new(img, gimp_item_get_name(GIMP_ITEM(d->drawable)), W, H, type,
                                      100.0, GIMP_LAYER_MODE_NORMAL);
    gimp_image_insert_layer(img, layer, NULL, 0);
    wg_drawable nd;
    g3_drawable_open(&nd, GIMP_DRAWABLE(layer));
    wg_write(&nd, 0, 0, 0, W, H, l->px, W);
    gimp_image_undo_enable(img);
    if (run->mode != GIMP_RUN_NONINTERACTIVE) /* also "Repeat" from the menu */
        gimp_display_new(img);
    return img;
}

static void image_undo_group(wg_image *im, int start)
{
    const g3_run *run = im->run;
    (start ? gimp_image_undo_group_start : gimp_image_undo_group_end)(run->image);
}

static void image_scale(wg_image *im, int w, int h)
{
    gimp_image_scale(((g3_run *)im->run)->image, w, h);
}

static void image_resize(wg_image *im, int w, int h, int dx, int dy)
{
    gimp_image_resize(((g3_run *)im->run)->image, w, h, dx, dy);
}

static void image_new(wg_image *im, const wg_up_layer *l, int f)
{
    g3_run *run = im->run;
    run->new_image = new_image_with(run, l, f);
}

static int upscale_layers(g3_run *run, GPtrArray *items)
{
    if (run->c.s.target == WPJ_TARGET_IMAGE) {
        GimpLayer **top = gimp_image_get_layers(run->image);
        for (int i = 0; top && top[i]; i++)
            collect_item(GIMP_ITEM(top[i]), items);
        g_free(top);
    } else if (run->drawable && gimp_item_is_layer(GIMP_ITEM(run->drawable)) &&
               !gimp_item_is_group(GIMP_ITEM(run->drawable))) {
        g_ptr_array_add(items, run->drawable);
    }
    if (items->len > 0)
        return 0;
    g_snprintf(run->c.err, sizeof run->c.err,
               _("Upscale works on layers: choose a layer (not a mask, channel or group)."));
    return -1;
}

wp_status g3_upscale(g3_run *run)
{
    GPtrArray *items = g_ptr_array_new();
    if (upscale_layers(run, items)) {
        g_ptr_array_free(items, TRUE);
        return WP_ERR_ARG;
    }
    int n = (int)items->len;
    wg_up_layer *ls = g_new0(wg_up_layer, n);
    for (int i = 0; i < n; i++)
        g3_drawable_open(&ls[i].d, GIMP_DRAWABLE(items->pdata[i]));
    wp_status st = wg_upscale_pixels(&run->c, ls, n);
    wg_image im = {run, gimp_image_get_width(run->image), gimp_image_get_height(run->image),
                   image_undo_group, image_scale, image_resize, image_new};
    if (st == WP_OK)
        wg_apply_upscale(&run->c, &im, ls, n);
    wg_up_free(ls, n);
    g_ptr_array_free(items, TRUE);
    return st;
}

/* ---- sample ---- */

void g3_sample_box(g3_run *run, int *x, int *y, int *w, int *h)
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
    g3_run *run = data;
    gimp_image_undo_group_start(run->image);
    GimpLayer *layer = gimp_layer_new(run->image, name, w, h,
                                      colour == 3 ? GIMP_RGBA_IMAGE : GIMP_GRAYA_IMAGE, 100.0,
                                      GIMP_LAYER_MODE_NORMAL);
    gimp_image_insert_layer(run->image, layer, NULL, -1);
    gimp_layer_set_offsets(layer, x, y);
    wg_drawable d;
    g3_drawable_open(&d, GIMP_DRAWABLE(layer));
    wg_write(&d, 0, 0, 0, w, h, px, w);
    gimp_drawable_update(GIMP_DRAWABLE(layer), 0, 0, w, h);
    gimp_image_undo_group_end(run->image);
    run->new_layer = layer;
    g_free(name);
}

wp_status g3_sample(g3_run *run)
{
    int x, y, w, h, sw, sh;
    float *px;
    g3_sample_box(run, &x, &y, &w, &h);
    int colour = gimp_image_get_base_type(run->image) == GIMP_GRAY ? 1 : 3;
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

int g3_texture_box(g3_run *run, int *x, int *y, int *w, int *h)
{
    int group = gimp_item_is_group(GIMP_ITEM(run->drawable));
    int touches = !group && gimp_drawable_mask_intersect(run->drawable, x, y, w, h);
    return wg_texture_refuse(group, touches, *w, *h, run->c.err, sizeof run->c.err);
}

wp_status g3_texture(g3_run *run)
{
    wg_rect box;
    if (g3_texture_box(run, &box.x, &box.y, &box.w, &box.h))
        return WP_ERR_ARG;
    wg_drawable d;
    g3_drawable_open(&d, run->drawable);
    int colour = gimp_image_get_base_type(run->image) == GIMP_GRAY ? 1 : 3;
    return wg_texture_layer(&run->c, &d, box, colour, add_sample_layer, run);
}

/* ---- heal ---- */

int g3_heal_box(g3_run *run, int *x, int *y, int *w, int *h)
{
    int group = gimp_item_is_group(GIMP_ITEM(run->drawable));
    int empty = gimp_selection_is_empty(run->image);
    int touches = !group && !empty && gimp_drawable_mask_intersect(run->drawable, x, y, w, h);
    return wg_heal_refuse(group, empty, touches, run->c.err, sizeof run->c.err);
}

wp_status g3_heal(g3_run *run)
{
    int x, y, w, h;
    if (g3_heal_box(run, &x, &y, &w, &h))
        return WP_ERR_ARG;
    wg_drawable d;
    g3_drawable_open(&d, run->drawable);
    wp_status st = wg_heal_fill(&run->c, &d, x, y, w, h);
    if (st == WP_OK) { /* GIMP blends through the (feathered) selection: one undo step */
        gimp_drawable_merge_shadow(run->drawable, TRUE);
        gimp_drawable_update(run->drawable, x, y, w, h);
    }
    return st;
}
