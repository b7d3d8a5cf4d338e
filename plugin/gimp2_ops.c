/* gimp2_ops.c: denoise, upscale, sample and heal on GIMP layers.  Every job
 * runs to the end before the image is touched, so a failure or a cancel
 * leaves it as it was; the changes then form one undo step. */
#include <string.h>

#include "gimp2.h"
#include "wp_i18n.h"

/* Context read around the selection so that its border is denoised like
 * the inside (the networks see ~13 pixels around each pixel per level). */
#define DENOISE_MARGIN 32

static void progress_hook(double fraction, void *data)
{
    (void)data;
    gimp_progress_update(fraction);
}

static double ui_poll(void *data, int *done)
{
    return wpj_batch_poll(data, done);
}

static void ui_cancel(void *data)
{
    wpj_batch_cancel(data);
}

static wp_status out_of_memory(wg_run *run)
{
    g_snprintf(run->err, sizeof run->err, _("Not enough memory for the layer's pixels."));
    return WP_ERR_NOMEM;
}

/* Runs the batch with GIMP's progress bar and, when a dialog was shown,
 * a progress window with a Cancel button. */
static wp_status run_batch(wg_run *run, wpj_batch *b, const char *stage)
{
    b->s = &run->s;
    b->prior = run->prior;
    b->on_progress = progress_hook;
    gimp_progress_init(stage);
    if (run->mode == GIMP_RUN_INTERACTIVE && wp_ui_init() == 0) {
        wp_ui_progress p = {ui_poll, ui_cancel, b, stage, {wg_attach, run}};
        wp_ui_progress_run(&p);
    } else {
        wpj_batch_wait(b);
    }
    if (b->status == WP_ERR_NOMEM)
        g_snprintf(run->err, sizeof run->err,
                   _("Not enough memory within the budget (WPRIOR_MAX_MEMORY): %s"), b->err);
    else if (b->status != WP_OK)
        g_snprintf(run->err, sizeof run->err, "%s", b->err);
    return b->status;
}

/* ---- denoise ---- */

wp_status wg_denoise(wg_run *run)
{
    wg_drawable d;
    int x, y, w, h;
    if (gimp_item_is_group(run->drawable)) {
        g_snprintf(run->err, sizeof run->err,
                   _("Denoise works on layers, masks and channels, not on layer groups."));
        return WP_ERR_ARG;
    }
    wg_drawable_open(&d, run->drawable);
    if (!gimp_drawable_mask_intersect(d.id, &x, &y, &w, &h))
        return WP_OK; /* the selection misses this layer: nothing to do */
    int rx, ry, rw, rh;
    wpj_denoise_context(x, y, w, h, d.width, d.height, &rx, &ry, &rw, &rh);
    gimp_progress_init(_("Reading pixels"));
    float *px = wg_read(&d, rx, ry, rw, rh);
    wpj_image in = {0}, out = {0};
    if (!px || wpj_image_alloc(&in, d.colour, rh, rw)) {
        g_free(px);
        return out_of_memory(run);
    }
    wpj_from_interleaved(&in, px, d.ncomp);
    wpj_batch b = {.kind = WPJ_DENOISE, .n = 1, .in = &in, .out = &out};
    wp_status st = run_batch(run, &b, _("Denoising (Wavelet Prior)"));
    if (st == WP_OK) {
        gimp_progress_set_text(_("Writing pixels"));
        wpj_to_interleaved(&out, px, d.ncomp); /* alpha stays as read */
        wg_write(&d, 1, x, y, w, h, px + ((size_t)(y - ry) * rw + (x - rx)) * d.ncomp, rw);
        /* GIMP blends the shadow through the (feathered) selection. */
        gimp_drawable_merge_shadow(d.id, TRUE);
        gimp_drawable_update(d.id, x, y, w, h);
    }
    wpj_batch_free(&b);
    wpj_image_free(&in);
    g_free(px);
    return st;
}

/* ---- upscale ---- */

typedef struct {
    wg_drawable d;
    float *px;  /* the layer as read (its alpha), then the upscaled layer */
    gint off_x, off_y;
} up_layer;

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

/* Reads every layer and makes the job inputs; -1 when out of memory. */
static int read_layers(up_layer *ls, wpj_image *in, int n)
{
    for (int i = 0; i < n; i++) {
        wg_drawable *d = &ls[i].d;
        gimp_drawable_offsets(d->id, &ls[i].off_x, &ls[i].off_y);
        ls[i].px = wg_read(d, 0, 0, d->width, d->height);
        if (!ls[i].px || wpj_image_alloc(&in[i], d->colour, d->height, d->width))
            return -1;
        wpj_from_interleaved(&in[i], ls[i].px, d->ncomp);
    }
    return 0;
}

/* Replaces each layer's pixels by its upscaled ones (the size already
 * changed with the undoable scale; the direct write needs no undo of its own). */
static void write_upscaled(up_layer *ls, int n, int f, int keep_offsets)
{
    for (int i = 0; i < n; i++) {
        wg_drawable *d = &ls[i].d;
        int W = d->width * f, H = d->height * f;
        if (gimp_drawable_width(d->id) != W || gimp_drawable_height(d->id) != H)
            gimp_layer_scale(d->id, W, H, FALSE);
        if (keep_offsets)
            gimp_layer_set_offsets(d->id, ls[i].off_x, ls[i].off_y);
        else
            gimp_layer_set_offsets(d->id, ls[i].off_x * f, ls[i].off_y * f);
        wg_drawable nd;
        wg_drawable_open(&nd, d->id);
        wg_write(&nd, 0, 0, 0, W, H, ls[i].px, W);
        gimp_drawable_update(d->id, 0, 0, W, H);
    }
}

/* A new image holding the upscaled layer; its id, or -1. */
static gint32 new_image_with(wg_run *run, const up_layer *l, int f)
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

/* Puts the upscaled layers into the image (or a new one). */
static void apply_upscale(wg_run *run, up_layer *ls, int n)
{
    int f = run->s.factor;
    gimp_progress_set_text(_("Writing pixels"));
    if (run->s.target == WPJ_TARGET_NEW_IMAGE) {
        run->result = new_image_with(run, &ls[0], f);
        return;
    }
    gimp_image_undo_group_start(run->image);
    if (run->s.target == WPJ_TARGET_IMAGE)
        gimp_image_scale(run->image, gimp_image_width(run->image) * f,
                         gimp_image_height(run->image) * f);
    write_upscaled(ls, n, f, run->s.target == WPJ_TARGET_LAYER);
    gimp_image_undo_group_end(run->image);
}

/* The layers an upscale works on; -1 with a message when there are none. */
static int upscale_layers(wg_run *run, GArray *ids)
{
    if (run->s.target == WPJ_TARGET_IMAGE) {
        gint n;
        gint *top = gimp_image_get_layers(run->image, &n);
        collect_layers(top, n, ids);
        g_free(top);
    } else if (gimp_item_is_layer(run->drawable) && !gimp_item_is_group(run->drawable)) {
        g_array_append_val(ids, run->drawable);
    }
    if (ids->len > 0)
        return 0;
    g_snprintf(run->err, sizeof run->err,
               _("Upscale works on layers: choose a layer (not a mask, channel or group)."));
    return -1;
}

static wp_status upscale_compose(wg_run *run, up_layer *ls, wpj_batch *b)
{
    for (int i = 0; i < b->n; i++) {
        const wg_drawable *d = &ls[i].d;
        float *px = wpj_compose_upscaled(&b->out[i], ls[i].px, d->width, d->ncomp, d->alpha,
                                         run->s.factor);
        if (!px)
            return out_of_memory(run);
        g_free(ls[i].px);
        ls[i].px = px;
        wpj_image_free(&b->out[i]);
    }
    return WP_OK;
}

wp_status wg_upscale(wg_run *run)
{
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(gint32));
    if (upscale_layers(run, ids)) {
        g_array_free(ids, TRUE);
        return WP_ERR_ARG;
    }
    int n = (int)ids->len;
    up_layer *ls = g_new0(up_layer, n);
    wpj_image *in = g_new0(wpj_image, n), *out = g_new0(wpj_image, n);
    for (int i = 0; i < n; i++)
        wg_drawable_open(&ls[i].d, g_array_index(ids, gint32, i));
    gimp_progress_init(_("Reading pixels"));
    wpj_batch b = {.kind = WPJ_UPSCALE, .n = n, .in = in, .out = out};
    wp_status st = read_layers(ls, in, n) ? out_of_memory(run)
                                          : run_batch(run, &b, _("Upscaling (Wavelet Prior)"));
    if (st == WP_OK)
        st = upscale_compose(run, ls, &b);
    if (st == WP_OK)
        apply_upscale(run, ls, n);
    wpj_batch_free(&b);
    for (int i = 0; i < n; i++) {
        g_free(ls[i].px);
        wpj_image_free(&in[i]);
    }
    g_free(ls);
    g_free(in);
    g_free(out);
    g_array_free(ids, TRUE);
    return st;
}

/* ---- sample ---- */

static void add_sample_layer(wg_run *run, const wpj_image *sample, float *px, int colour)
{
    char *name = g_strdup_printf(_("Sample (seed %d)"), run->s.seed);
    gimp_image_undo_group_start(run->image);
    gint32 layer = gimp_layer_new(run->image, name, sample->w, sample->h,
                                  colour == 3 ? GIMP_RGBA_IMAGE : GIMP_GRAYA_IMAGE, 100.0,
                                  GIMP_LAYER_MODE_NORMAL);
    gimp_image_insert_layer(run->image, layer, 0, -1);
    wg_drawable d;
    wg_drawable_open(&d, layer);
    wg_write(&d, 0, 0, 0, sample->w, sample->h, px, sample->w);
    gimp_drawable_update(layer, 0, 0, sample->w, sample->h);
    gimp_image_undo_group_end(run->image);
    run->result = layer;
    g_free(name);
}

wp_status wg_sample(wg_run *run)
{
    wpj_image none = {0}, out = {0};
    wpj_batch b = {.kind = WPJ_SAMPLE, .n = 1, .in = &none, .out = &out};
    wp_status st = WP_OK;
    if (run->ready.px) { /* the dialog's preview is this very sample */
        out = run->ready;
        run->ready.px = NULL;
    } else {
        st = run_batch(run, &b, _("Sampling (Wavelet Prior)"));
    }
    int colour = gimp_image_base_type(run->image) == GIMP_GRAY ? 1 : 3;
    float *px = st == WP_OK ? wpj_opaque_pixels(&out, colour) : NULL;
    if (st == WP_OK && !px)
        st = out_of_memory(run);
    if (st == WP_OK) {
        gimp_progress_set_text(_("Writing pixels"));
        add_sample_layer(run, &out, px, colour);
    }
    g_free(px);
    wpj_batch_free(&b);
    return st;
}

/* ---- heal ---- */

int wg_heal_box(wg_run *run, int *x, int *y, int *w, int *h)
{
    int group = gimp_item_is_group(run->drawable), empty = gimp_selection_is_empty(run->image);
    int touches = !group && !empty && gimp_drawable_mask_intersect(run->drawable, x, y, w, h);
    return wg_heal_refuse(group, empty, touches, run->err, sizeof run->err);
}

static wp_status heal_batch(wpj_batch *b, void *run)
{
    return run_batch(run, b, _("Healing (Wavelet Prior)"));
}

wp_status wg_heal(wg_run *run)
{
    int x, y, w, h;
    if (wg_heal_box(run, &x, &y, &w, &h))
        return WP_ERR_ARG;
    wg_drawable d;
    wg_drawable_open(&d, run->drawable);
    gimp_progress_init(_("Reading pixels"));
    wp_status st = wg_heal_fill(&d, run->prior, x, y, w, h, &run->ready, heal_batch, run,
                                run->err, sizeof run->err);
    if (st == WP_OK) { /* GIMP blends through the (feathered) selection: one undo step */
        gimp_drawable_merge_shadow(d.id, TRUE);
        gimp_drawable_update(d.id, x, y, w, h);
    }
    return st;
}
