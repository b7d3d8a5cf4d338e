/* run.c: the run's flow shared by the GIMP 2.10 and GIMP 3 front ends. */
#include "run.h"

#include <string.h>

#include "wp_i18n.h"

const wpm_list *wg_models(wg_common *c)
{
    if (!c->scanned)
        wpm_scan(&c->models), c->scanned = 1;
    return &c->models;
}

/* What the procedure fixes, what a dialog proposes afresh, the model. */
static void prepare(wg_common *c, int channels)
{
    wpj_desc_apply(c->desc, &c->s);
    int sample = c->desc->kind == WPJ_SAMPLE;
    if (sample && c->interactive)
        c->s.width = c->s.height = 0; /* the dialog proposes this image's size */
    if (!c->from_args || !c->s.model[0])
        wpm_choose_for(wg_models(c), c->s.model, sizeof c->s.model, c->desc, channels == 1);
}

wg_outcome wg_settle(wg_common *c, int channels, wp_status (*dialog)(void *run), void *run)
{
    prepare(c, channels);
    wp_status st = c->interactive ? dialog(run) : WP_OK;
    if (st != WP_OK)
        return st == WP_ERR_CANCELLED ? WG_CANCEL : WG_EXECUTION_ERROR;
    if (wpj_settings_check(c->desc->kind, &c->s, c->err, sizeof c->err))
        return WG_CALLING_ERROR;
    return WG_SUCCESS;
}

wp_status wg_ui_start(wg_common *c)
{
    if (wp_ui_init() == 0)
        return WP_OK;
    g_snprintf(c->err, sizeof c->err, _("Cannot open the display."));
    return WP_ERR_IO;
}

void wg_dialog_source(wg_common *c, wg_drawable *d, wg_rect box, wp_ui_host host,
                      wp_ui_source *src)
{
    memset(src, 0, sizeof *src);
    if (d)
        wg_ui_source(d, src);
    src->sel_x = box.x, src->sel_y = box.y, src->sel_w = box.w, src->sel_h = box.h;
    if (!d)
        src->width = box.w, src->height = box.h;
    src->host = host;
    src->job = c->desc;
}

wp_status wg_dialog(wg_common *c, wg_drawable *d, wg_rect box, wp_ui_host host)
{
    int ok = 0;
    wp_ui_source src;
    wg_dialog_source(c, d, box, host, &src);
    switch (c->desc->kind) {
    case WPJ_DENOISE: ok = wp_ui_denoise_dialog(&c->s, wg_models(c), &src); break;
    case WPJ_UPSCALE: ok = wp_ui_upscale_dialog(&c->s, wg_models(c), &src); break;
    case WPJ_SAMPLE: ok = wp_ui_sample_dialog(&c->s, wg_models(c), &src, &c->ready); break;
    case WPJ_HEAL: ok = wp_ui_heal_dialog(&c->s, wg_models(c), &src, &c->ready); break;
    default: break;
    }
    wpj_desc_apply(c->desc, &c->s);
    return ok ? WP_OK : WP_ERR_CANCELLED;
}

static wp_status load_prior(wg_common *c)
{
    char err[WP_ERRLEN];
    /* An explicit path needs no scan; else reuse the dialog's, if any. */
    char *path = wpm_resolve_in(c->scanned ? &c->models : NULL, c->s.model, err, sizeof err);
    if (!path) {
        g_snprintf(c->err, sizeof c->err, "%s", err);
        return WP_ERR_IO;
    }
    wp_status st = wp_prior_load(path, &c->prior, err);
    if (st != WP_OK)
        g_snprintf(c->err, sizeof c->err, _("Cannot use the model %s: %s"), path, err);
    g_free(path);
    return st;
}

wg_outcome wg_execute(wg_common *c, int indexed, wp_status (*op)(void *run), void *run)
{
    if (indexed) {
        g_snprintf(c->err, sizeof c->err,
                   _("Indexed images are not supported: convert the image to RGB or grayscale."));
        return WG_EXECUTION_ERROR;
    }
    wp_status st = load_prior(c);
    if (st == WP_OK)
        st = op(run);
    wp_prior_free(c->prior);
    c->prior = NULL;
    return st == WP_OK ? WG_SUCCESS : st == WP_ERR_CANCELLED ? WG_CANCEL : WG_EXECUTION_ERROR;
}

void wg_common_free(wg_common *c)
{
    wpj_image_free(&c->ready);
    wpm_list_free(&c->models);
}

wp_status wg_out_of_memory(wg_common *c)
{
    g_snprintf(c->err, sizeof c->err, _("Not enough memory for the layer's pixels."));
    return WP_ERR_NOMEM;
}

static void progress_hook(double fraction, void *data)
{
    const wg_common *c = data;
    c->progress.update(fraction);
}

static double ui_poll(void *data, int *done)
{
    return wpj_batch_poll(data, done);
}

static void ui_cancel(void *data)
{
    wpj_batch_cancel(data);
}

wp_status wg_run_batch(wg_common *c, wpj_batch *b)
{
    const char *stage = _(wpj_describe(b->kind)->progress);
    b->s = &c->s;
    b->prior = c->prior;
    b->on_progress = progress_hook;
    b->progress_data = c;
    c->progress.init(stage);
    if (c->interactive && c->progress_window && wp_ui_init() == 0) {
        wp_ui_progress p = {ui_poll, ui_cancel, b, stage, c->host};
        wp_ui_progress_run(&p);
    } else {
        wpj_batch_wait(b);
    }
    if (b->status == WP_ERR_NOMEM)
        g_snprintf(c->err, sizeof c->err,
                   _("Not enough memory within the budget (WPRIOR_MAX_MEMORY): %s"), b->err);
    else if (b->status != WP_OK)
        g_snprintf(c->err, sizeof c->err, "%s", b->err);
    return b->status;
}

/* ---- denoise ---- */

int wg_denoise_refuse(wg_common *c, int is_group)
{
    if (is_group)
        g_snprintf(c->err, sizeof c->err,
                   _("Denoise works on layers, masks and channels, not on layer groups."));
    return is_group ? -1 : 0;
}

static wp_status box_batch(wpj_batch *b, void *c)
{
    return wg_run_batch(c, b);
}

wp_status wg_denoise_box(wg_common *c, const wg_drawable *d, int x, int y, int w, int h)
{
    wg_rect box = {x, y, w, h}, ctx;
    wpj_image none = {0};
    wpj_denoise_context(x, y, w, h, d->width, d->height, &ctx.x, &ctx.y, &ctx.w, &ctx.h);
    c->progress.init(_("Reading pixels"));
    return wg_box_job(d, WPJ_DENOISE, box, ctx, &none, box_batch, c, c->err, sizeof c->err);
}

/* ---- heal ---- */

wp_status wg_heal_fill(wg_common *c, const wg_drawable *d, int x, int y, int w, int h)
{
    wg_rect box = {x, y, w, h}, ctx;
    wpj_heal_context(c->prior, x, y, w, h, d->width, d->height, &ctx.x, &ctx.y, &ctx.w, &ctx.h);
    c->progress.init(_("Reading pixels"));
    return wg_box_job(d, WPJ_HEAL, box, ctx, &c->ready, box_batch, c, c->err, sizeof c->err);
}

/* ---- upscale ---- */

/* Reads every layer and makes the job inputs; -1 when out of memory. */
static int read_layers(wg_up_layer *ls, wpj_image *in, int n)
{
    for (int i = 0; i < n; i++) {
        wg_drawable *d = &ls[i].d;
        ls[i].px = wg_read(d, 0, 0, d->width, d->height);
        if (!ls[i].px || wpj_image_alloc(&in[i], d->colour, d->height, d->width))
            return -1;
        wpj_from_interleaved(&in[i], ls[i].px, d->ncomp);
    }
    return 0;
}

/* The enlarged pixels: colour from the job, alpha from the layer as read. */
static wp_status compose(wg_common *c, wg_up_layer *ls, wpj_batch *b)
{
    for (int i = 0; i < b->n; i++) {
        const wg_drawable *d = &ls[i].d;
        float *px = wpj_compose_upscaled(&b->out[i], ls[i].px, d->width, d->ncomp, d->alpha,
                                         c->s.factor);
        if (!px)
            return wg_out_of_memory(c);
        g_free(ls[i].px);
        ls[i].px = px;
        wpj_image_free(&b->out[i]);
    }
    return WP_OK;
}

wp_status wg_upscale_pixels(wg_common *c, wg_up_layer *ls, int n)
{
    wpj_image *in = g_new0(wpj_image, n), *out = g_new0(wpj_image, n);
    c->progress.init(_("Reading pixels"));
    wpj_batch b = {.kind = WPJ_UPSCALE, .n = n, .in = in, .out = out};
    wp_status st = read_layers(ls, in, n) ? wg_out_of_memory(c) : wg_run_batch(c, &b);
    if (st == WP_OK)
        st = compose(c, ls, &b);
    wpj_batch_free(&b);
    for (int i = 0; i < n; i++)
        wpj_image_free(&in[i]);
    g_free(in);
    g_free(out);
    return st;
}

void wg_write_upscaled(wg_up_layer *ls, int n, int f, int scale_offsets)
{
    for (int i = 0; i < n; i++) {
        wg_drawable *d = &ls[i].d;
        int W = d->width * f, H = d->height * f, x = d->off_x, y = d->off_y;
        d->resize(d, W, H, scale_offsets ? x * f : x, scale_offsets ? y * f : y);
        wg_write(d, 0, 0, 0, W, H, ls[i].px, W);
        d->update(d, 0, 0, W, H);
    }
}

void wg_up_free(wg_up_layer *ls, int n)
{
    for (int i = 0; i < n; i++)
        g_free(ls[i].px);
    g_free(ls);
}

/* Grows the canvas to fit the layer d enlarged by f; the layers move with it. */
static void grow_canvas(wg_image *im, wg_drawable *d, int f)
{
    int w, h, dx, dy;
    if (!wpj_canvas_fit(im->width, im->height, d->off_x, d->off_y, d->width * f, d->height * f,
                        &w, &h, &dx, &dy))
        return;
    im->resize(im, w, h, dx, dy);
    d->off_x += dx;
    d->off_y += dy;
}

void wg_apply_upscale(wg_common *c, wg_image *im, wg_up_layer *ls, int n)
{
    const wpj_settings *s = &c->s;
    int f = s->factor;
    c->progress.text(_("Writing pixels"));
    if (s->target == WPJ_TARGET_NEW_IMAGE) {
        im->new_image(im, &ls[0], f);
        return;
    }
    im->undo_group(im, 1);
    if (s->target == WPJ_TARGET_IMAGE)
        im->scale(im, im->width * f, im->height * f);
    else if (s->grow_canvas)
        grow_canvas(im, &ls[0].d, f);
    wg_write_upscaled(ls, n, f, s->target == WPJ_TARGET_IMAGE);
    im->undo_group(im, 0);
}

/* ---- sample ---- */

wp_status wg_sample_pixels(wg_common *c, int colour, const wpj_image *exemplar, int w, int h,
                           float **px, int *sw, int *sh)
{
    wpj_image size = {NULL, 0, h, w}, out = {0};
    wpj_batch b = {.kind = WPJ_SAMPLE, .n = 1, .in = exemplar ? exemplar : &size, .out = &out};
    wp_status st = WP_OK;
    if (c->ready.px) { /* the dialog's preview is this very sample */
        out = c->ready;
        c->ready.px = NULL;
    } else {
        st = wg_run_batch(c, &b);
    }
    *px = st == WP_OK ? wpj_opaque_pixels(&out, colour) : NULL;
    if (st == WP_OK && !*px)
        st = wg_out_of_memory(c);
    *sw = out.w;
    *sh = out.h;
    wpj_batch_free(&b); /* out, the dialog's sample too */
    return st;
}

/* ---- texture from a selection ---- */

int wg_texture_refuse(int is_group, int touches, int w, int h, char *err, int errlen)
{
    int small = touches && (w < WP_EXEMPLAR_MIN || h < WP_EXEMPLAR_MIN);
    if (is_group)
        g_snprintf(err, errlen, _("Texture from Selection reads layers, not layer groups."));
    else if (!touches)
        g_snprintf(err, errlen, _("The selection does not touch this layer."));
    else if (small)
        g_snprintf(err, errlen, _("The selection is %dx%d pixels of the layer; a texture needs at least %dx%d."),
                   w, h, WP_EXEMPLAR_MIN, WP_EXEMPLAR_MIN);
    return is_group || !touches || small ? -1 : 0;
}

/* More of the texture in the drawable's box: reads it, draws the texture
 * at the settings' size (the layer's when none; then written into the
 * settings), as wg_sample_pixels. */
static wp_status texture_pixels(wg_common *c, const wg_drawable *d, wg_rect box, int colour,
                                float **px, int *sw, int *sh)
{
    wpj_image ex = {0};
    if (!c->ready.px) {
        c->progress.init(_("Reading pixels"));
        if (wg_read_planes(d, box.x, box.y, box.w, box.h, &ex))
            return wg_out_of_memory(c);
    }
    if (c->s.width == 0 || c->s.height == 0) /* the layer's size */
        c->s.width = d->width, c->s.height = d->height;
    wp_status st = wg_sample_pixels(c, colour, &ex, 0, 0, px, sw, sh);
    wpj_image_free(&ex);
    return st;
}

wp_status wg_texture_layer(wg_common *c, const wg_drawable *d, wg_rect box, int colour,
                           wg_add_layer add, void *run)
{
    float *px = NULL;
    int sw, sh;
    wp_status st = texture_pixels(c, d, box, colour, &px, &sw, &sh);
    if (st == WP_OK) { /* over the layer, from its corner */
        c->progress.text(_("Writing pixels"));
        add(run, d->off_x, d->off_y, sw, sh, px, colour,
            g_strdup_printf(_("Texture (seed %d)"), c->s.seed));
    }
    g_free(px);
    return st;
}
