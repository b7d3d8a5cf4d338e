/* jobs.c: settings, pixel layout and the worker thread around the engine. */
#include "jobs.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "wp_i18n.h"

int wpj_image_alloc(wpj_image *im, int c, int h, int w)
{
    im->px = g_try_malloc(sizeof(float) * (size_t)c * h * w + 1);
    im->c = c;
    im->h = h;
    im->w = w;
    return im->px ? 0 : -1;
}

void wpj_image_free(wpj_image *im)
{
    g_free(im->px);
    im->px = NULL;
}

static float clamp01(float v)
{
    return v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f; /* NaN becomes 0 */
}

void wpj_from_interleaved(wpj_image *im, const float *px, int n)
{
    size_t np = (size_t)im->h * im->w;
    for (int c = 0; c < im->c; c++)
        for (size_t i = 0; i < np; i++)
            im->px[c * np + i] = clamp01(px[i * n + c]);
}

void wpj_to_interleaved(const wpj_image *im, float *px, int n)
{
    size_t np = (size_t)im->h * im->w;
    for (int c = 0; c < im->c; c++)
        for (size_t i = 0; i < np; i++)
            px[i * n + c] = clamp01(im->px[c * np + i]);
}

int wpj_convert_channels(const wpj_image *in, int c, wpj_image *out)
{
    if (wpj_image_alloc(out, c, in->h, in->w))
        return -1;
    size_t np = (size_t)in->h * in->w;
    for (size_t i = 0; i < np; i++) {
        float v = 0.0f;
        for (int k = 0; k < in->c; k++)
            v += in->px[k * np + i];
        v /= (float)in->c;
        for (int k = 0; k < c; k++)
            out->px[k * np + i] = c == in->c ? in->px[k * np + i] : v;
    }
    return 0;
}

void wpj_denoise_context(int x, int y, int w, int h, int lw, int lh, int *rx, int *ry, int *rw,
                         int *rh)
{
    *rx = MAX(0, x - WPJ_DENOISE_MARGIN);
    *ry = MAX(0, y - WPJ_DENOISE_MARGIN);
    *rw = MIN(lw, x + w + WPJ_DENOISE_MARGIN) - *rx;
    *rh = MIN(lh, y + h + WPJ_DENOISE_MARGIN) - *ry;
}

void wpj_heal_context(const wp_prior *p, int x, int y, int w, int h, int lw, int lh, int *rx,
                      int *ry, int *rw, int *rh)
{
    wp_inpaint_extent(p, NULL, lw, lh, x, y, w, h, rx, ry, rw, rh);
}

/* The selection plane of a heal's input. */
static const float *heal_selection(const wpj_image *in)
{
    return in->px + (size_t)(in->c - 1) * in->h * in->w;
}

size_t wpj_heal_mask(const wpj_image *in, uint8_t *mask)
{
    const float *sel = heal_selection(in);
    size_t n = 0;
    for (size_t i = 0, np = (size_t)in->h * in->w; i < np; i++)
        n += mask[i] = sel[i] > 0.0f;
    return n;
}

void wpj_heal_blend(wpj_image *out, const wpj_image *in)
{
    const float *sel = heal_selection(in);
    size_t np = (size_t)in->h * in->w;
    for (int c = 0; c < out->c; c++)
        for (size_t i = 0; i < np; i++) {
            float s = sel[i], *o = &out->px[c * np + i], v = in->px[c * np + i];
            *o = s >= 1.0f ? *o : s > 0.0f ? v + s * (*o - v) : v;
        }
}

float *wpj_compose_upscaled(const wpj_image *out, const float *src, int sw, int n, int alpha,
                            int f)
{
    float *px = g_try_malloc(sizeof(float) * (size_t)n * out->w * out->h + 1);
    if (!px)
        return NULL;
    wpj_to_interleaved(out, px, n);
    if (!alpha)
        return px;
    int a = n - 1;
    for (int y = 0; y < out->h; y++)
        for (int x = 0; x < out->w; x++)
            px[((size_t)y * out->w + x) * n + a] = src[((size_t)(y / f) * sw + x / f) * n + a];
    return px;
}

float *wpj_opaque_pixels(const wpj_image *sample, int colour)
{
    wpj_image conv = {0};
    if (wpj_convert_channels(sample, colour, &conv))
        return NULL;
    int n = colour + 1;
    float *px = g_try_malloc(sizeof(float) * (size_t)n * conv.w * conv.h + 1);
    if (px) {
        wpj_to_interleaved(&conv, px, n);
        for (size_t i = 0; i < (size_t)conv.w * conv.h; i++)
            px[i * n + colour] = 1.0f;
    }
    wpj_image_free(&conv);
    return px;
}

/* The sample size: the settings', else the prior's fixed size, else the
 * size asked for (iw x ih: the image or selection), else a default
 * square, rounded to the prior's multiple. */
static void sample_size(const wpj_settings *s, const wp_prior *p, int iw, int ih, int *w, int *h)
{
    int fw = 0, fh = 0, mult = 1;
    if (s->width > 0 && s->height > 0) {
        *w = s->width;
        *h = s->height;
        return;
    }
    if (p)
        wp_prior_sample_size(p, &fw, &fh, &mult);
    if (fw > 0 && fh > 0 && !s->exemplar) { /* a texture takes the layer's size */
        *w = fw;
        *h = fh;
        return;
    }
    if (mult < 1)
        mult = 1;
    if (iw <= 0 || ih <= 0)
        iw = ih = WP_SAMPLE_SIDE_DEFAULT;
    *w = MAX(mult, iw / mult * mult);
    *h = MAX(mult, ih / mult * mult);
}

int wpj_canvas_fit(int cw, int ch, int x, int y, int lw, int lh, int *w, int *h, int *dx,
                   int *dy)
{
    int x0 = MIN(0, x), y0 = MIN(0, y);
    int x1 = MAX(cw, x + lw), y1 = MAX(ch, y + lh);
    *w = x1 - x0;
    *h = y1 - y0;
    *dx = -x0;
    *dy = -y0;
    return *w != cw || *h != ch;
}

void wpj_output_size(wpj_kind kind, const wpj_settings *s, const wp_prior *p, int w, int h,
                     int *ow, int *oh)
{
    if (kind == WPJ_SAMPLE) {
        sample_size(s, p, w, h, ow, oh);
    } else if (kind == WPJ_UPSCALE) {
        *ow = w * s->factor;
        *oh = h * s->factor;
    } else {
        *ow = w;
        *oh = h;
    }
}

size_t wpj_max_memory(void)
{
    const char *v = g_getenv("WPRIOR_MAX_MEMORY");
    if (!v || !*v)
        return 0;
    char *end;
    guint64 n = g_ascii_strtoull(v, &end, 10);
    switch (g_ascii_toupper(*end)) {
    case 'G': n <<= 10; /* fall through */
    case 'M': n <<= 10; /* fall through */
    case 'K': n <<= 10; break;
    default: break;
    }
    return (size_t)n;
}

/* Draft and fine move the default step size and stopping level by 2x;
 * the knobs they leave at zero come from the model's metadata (a face
 * prior's sample.beta) or the engine's defaults, as in `wprior sample`. */
static void sampler_for_quality(int quality, wp_sampler_params *sp)
{
    memset(sp, 0, sizeof *sp);
    if (quality == WPJ_QUALITY_NORMAL)
        return;
    wp_sampler_params d;
    wp_sampler_defaults(&d);
    if (quality == WPJ_QUALITY_DRAFT) {
        sp->h0 = d.h0 * 2.0f < 0.5f ? d.h0 * 2.0f : 0.5f;
        sp->sigma_l = d.sigma_l * 2.0f;
    } else {
        sp->h0 = d.h0 * 0.5f;
        sp->sigma_l = d.sigma_l * 0.5f;
        sp->max_iter = d.max_iter * 2;
    }
}

struct wpj_job {
    wpj_kind kind;
    wpj_settings s;
    const wp_prior *prior;
    const wpj_image *in;
    wp_workspace *ws;
    wpj_image out;
    GThread *thread;
    volatile int cancel;
    gint progress_ppm; /* progress in millionths, atomic */
    gint done;         /* atomic */
    wp_status status;
    char err[WP_ERRLEN];
    gint64 t0, t1;
};

static void on_progress(double fraction, void *data)
{
    wpj_job *j = data;
    g_atomic_int_set(&j->progress_ppm, (gint)(fraction * 1e6));
}

static wp_status run_denoise(wpj_job *j, const wpj_image *in, wpj_image *out,
                             const wp_run_options *ro)
{
    /* Integer layers are clipped to [0,1]; a float layer with values
     * beyond it was not, and needs no clipping correction. */
    int clipped = 1;
    for (size_t i = 0, n = (size_t)in->c * in->h * in->w; i < n && clipped; i++)
        clipped = in->px[i] >= 0.0f && in->px[i] <= 1.0f;
    wp_denoise_options d = {
        .strength = (float)j->s.strength, .clipped = clipped, .ensemble = j->s.passes,
        .fast = j->s.quality == WPJ_QUALITY_DRAFT, .blend = j->s.quality == WPJ_QUALITY_FINE};
    memcpy(out->px, in->px, sizeof(float) * (size_t)in->c * in->h * in->w);
    return wp_denoise(j->prior, out->px, out->px, in->c, in->h, in->w, &d, ro, NULL, j->err);
}

static wp_status run_upscale(wpj_job *j, const wpj_image *in, wpj_image *out,
                             const wp_run_options *ro)
{
    wp_upscale_options u = {.factor = j->s.factor,
                            .mode = j->s.sharp ? WP_UPSCALE_SHARP : WP_UPSCALE_FAST,
                            .seed = (uint64_t)j->s.seed,
                            .passes = j->s.passes};
    return wp_upscale(j->prior, in->px, in->c, in->h, in->w, out->px, &u, ro, j->err);
}

/* The selection's pixels filled; the others copied. */
static wp_status run_heal(wpj_job *j, const wpj_image *in, wpj_image *out,
                          const wp_run_options *ro)
{
    uint8_t *mask = g_try_malloc((size_t)in->h * in->w + 1);
    if (!mask) {
        g_snprintf(j->err, sizeof j->err, _("Not enough memory for the result."));
        return WP_ERR_NOMEM;
    }
    wp_status st = WP_ERR_ARG;
    wp_inpaint_options io = {.mode = j->s.sharp ? WP_INPAINT_SHARP : WP_INPAINT_FAST,
                             .seed = (uint64_t)j->s.seed};
    if (!wpj_heal_mask(j->in, mask))
        g_snprintf(j->err, sizeof j->err, _("Nothing is selected here: select what to heal."));
    else
        st = wp_inpaint(j->prior, in->px, mask, out->px, in->c, in->h, in->w, &io, ro, j->err);
    g_free(mask);
    return st;
}

/* A colour prior on gray pixels works on R=G=B and gives their mean. */
static wp_status run_filter(wpj_job *j, const wp_run_options *ro)
{
    int pc = wp_prior_channels(j->prior);
    wpj_image in = *j->in, tmp = {0}, out3 = {0};
    if (j->kind == WPJ_HEAL)
        in.c--; /* the colour planes; run_heal reads the selection plane */
    int widen = pc == 3 && in.c == 1;
    wp_status st = WP_ERR_NOMEM;
    if (widen && wpj_convert_channels(&in, 3, &tmp))
        goto nomem;
    if (widen)
        in = tmp;
    int ow, oh;
    wpj_output_size(j->kind, &j->s, j->prior, in.w, in.h, &ow, &oh);
    if (wpj_image_alloc(&out3, in.c, oh, ow))
        goto nomem;
    st = j->kind == WPJ_DENOISE ? run_denoise(j, &in, &out3, ro)
         : j->kind == WPJ_HEAL  ? run_heal(j, &in, &out3, ro)
                                : run_upscale(j, &in, &out3, ro);
    if (st == WP_OK && widen) {
        if (wpj_convert_channels(&out3, 1, &j->out))
            goto nomem;
        wpj_image_free(&out3);
    } else if (st == WP_OK) {
        j->out = out3;
        out3.px = NULL;
    }
    wpj_image_free(&out3);
    wpj_image_free(&tmp);
    return st;
nomem:
    wpj_image_free(&out3);
    wpj_image_free(&tmp);
    g_snprintf(j->err, sizeof j->err, _("Not enough memory for the result."));
    return WP_ERR_NOMEM;
}

static wp_status run_sample(wpj_job *j, const wp_run_options *ro)
{
    wp_sample_options so = {.seed = (uint64_t)j->s.seed,
                            .tileable = j->s.tiling == WPJ_TILING_ON    ? 1
                                        : j->s.tiling == WPJ_TILING_OFF ? -1
                                                                        : 0};
    sample_size(&j->s, j->prior, j->in ? j->in->w : 0, j->in ? j->in->h : 0, &so.width,
                &so.height);
    sampler_for_quality(j->s.quality, &so.sampler);
    int C = wp_prior_channels(j->prior);
    wpj_image ex = {0};
    if (j->s.exemplar) { /* the texture in the prior's channels (converted only if need be) */
        const wpj_image *tex = j->in;
        if (!tex || !tex->px) {
            g_snprintf(j->err, sizeof j->err, _("No texture to continue."));
            return WP_ERR_ARG;
        }
        if (tex->c != C) {
            if (wpj_convert_channels(tex, C, &ex))
                goto nomem;
            tex = &ex;
        }
        so.exemplar = tex->px;
        so.ex_width = tex->w;
        so.ex_height = tex->h;
    }
    if (wpj_image_alloc(&j->out, C, so.height, so.width))
        goto nomem;
    wp_status st = wp_sample(j->prior, j->out.px, j->out.c, &so, ro, j->err);
    wpj_image_free(&ex);
    return st;
nomem:
    wpj_image_free(&ex);
    g_snprintf(j->err, sizeof j->err, _("Not enough memory for the result."));
    return WP_ERR_NOMEM;
}

static gpointer worker(gpointer data)
{
    wpj_job *j = data;
    wp_run_options ro = {.max_memory = wpj_max_memory(),
                         .progress = on_progress,
                         .progress_data = j,
                         .cancel = &j->cancel,
                         .workspace = j->ws};
    j->t0 = g_get_monotonic_time();
    switch (j->kind) {
    case WPJ_DENOISE:
    case WPJ_UPSCALE:
    case WPJ_HEAL: j->status = run_filter(j, &ro); break;
    case WPJ_SAMPLE: j->status = run_sample(j, &ro); break;
    default:
        g_snprintf(j->err, sizeof j->err, "unknown job kind %d", (int)j->kind);
        j->status = WP_ERR_ARG;
    }
    if (j->status != WP_OK)
        wpj_image_free(&j->out);
    j->t1 = g_get_monotonic_time();
    g_atomic_int_set(&j->done, 1);
    return NULL;
}

wpj_job *wpj_start(wpj_kind kind, const wpj_settings *s, const wp_prior *p, const wpj_image *in,
                   wp_workspace *ws, char *err, int errlen)
{
    wpj_job *j = g_new0(wpj_job, 1);
    j->kind = kind;
    j->s = *s;
    j->prior = p;
    j->in = in;
    j->ws = ws;
    GError *gerr = NULL;
    j->thread = g_thread_try_new("wprior-job", worker, j, &gerr);
    if (!j->thread) {
        g_snprintf(err, errlen, _("Cannot start a worker thread: %s"), gerr->message);
        g_error_free(gerr);
        g_free(j);
        return NULL;
    }
    return j;
}

double wpj_progress(const wpj_job *j)
{
    return g_atomic_int_get(&j->progress_ppm) / 1e6;
}

int wpj_done(const wpj_job *j)
{
    return g_atomic_int_get(&j->done);
}

void wpj_cancel(wpj_job *j)
{
    j->cancel = 1;
}

wp_status wpj_finish(wpj_job *j, wpj_image *out, double *seconds, char *err, int errlen)
{
    g_thread_join(j->thread);
    wp_status st = j->status;
    if (st == WP_ERR_CANCELLED)
        g_snprintf(err, errlen, _("Cancelled."));
    else if (st != WP_OK)
        g_snprintf(err, errlen, "%s", j->err);
    if (out)
        *out = j->out;
    else
        wpj_image_free(&j->out);
    if (seconds)
        *seconds = (j->t1 - j->t0) / 1e6;
    g_free(j);
    return st;
}

/* Starts job b->i; a thread that cannot start fails the batch. */
static void batch_start(wpj_batch *b)
{
    if (!b->ws)
        b->ws = wp_workspace_new(); /* NULL: each job has its own */
    b->job = wpj_start(b->kind, b->s, b->prior, &b->in[b->i], b->ws, b->err, sizeof b->err);
    if (!b->job)
        b->status = WP_ERR_NOMEM;
}

double wpj_batch_poll(wpj_batch *b, int *done)
{
    if (b->job && wpj_done(b->job)) {
        b->status = wpj_finish(b->job, &b->out[b->i], NULL, b->err, sizeof b->err);
        b->job = NULL;
        b->i++;
    }
    if (!b->job && b->status == WP_OK && b->i < b->n) {
        if (b->cancelled) {
            b->status = WP_ERR_CANCELLED;
            g_snprintf(b->err, sizeof b->err, _("Cancelled."));
        } else {
            batch_start(b);
        }
    }
    double f = (b->i + (b->job ? wpj_progress(b->job) : 0.0)) / b->n;
    if (b->on_progress)
        b->on_progress(f, b->progress_data);
    *done = !b->job;
    if (*done) {
        wp_workspace_free(b->ws);
        b->ws = NULL;
    }
    return f;
}

void wpj_batch_cancel(wpj_batch *b)
{
    b->cancelled = 1;
    if (b->job)
        wpj_cancel(b->job);
}

wp_status wpj_batch_wait(wpj_batch *b)
{
    int done = 0;
    for (wpj_batch_poll(b, &done); !done; wpj_batch_poll(b, &done))
        g_usleep(50000);
    return b->status;
}

void wpj_batch_free(wpj_batch *b)
{
    for (int i = 0; b->out && i < b->n; i++)
        wpj_image_free(&b->out[i]);
}
