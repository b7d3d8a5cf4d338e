/* sample.c: Kadkhodaie & Simoncelli's stochastic coarse-to-fine ascent,
 * used to synthesise images (the low-pass net first, then each level's
 * conditional net) and to upscale (conditional levels only, the input being
 * the low-pass).  With r(y) = D(y) - y the denoiser's residual:
 *   y <- y + h_t r(y) + gamma_t z,  h_t = h0 t / (1 + h0 (t-1)),
 *   sigma_t = ||r(y)|| / sqrt(N),
 *   gamma_t = sigma_t sqrt((1 - beta h_t)^2 - (1 - h_t)^2),
 * until sigma_t <= sigma_L, then one last denoising step. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp_job.h"
#include "wp_prior_internal.h"
#include "wp_rng.h"
#include "wp_sample.h"
#include "wp_util.h"

void wp_sampler_defaults(wp_sampler_params *s)
{
    s->sigma0 = 1.0f;
    s->sigma_l = 0.02f;
    s->h0 = 0.01f;
    s->beta = 0.1f;
    s->max_iter = 1000;
}

void wp_sampler_fill(wp_sampler_params *s, const wp_sampler_params *d)
{
    if (s->sigma0 == 0) s->sigma0 = d->sigma0;
    if (s->sigma_l == 0) s->sigma_l = d->sigma_l;
    if (s->h0 == 0) s->h0 = d->h0;
    if (s->beta == 0) s->beta = d->beta;
    if (s->max_iter == 0) s->max_iter = d->max_iter;
}

wp_status wp_sampler_check(const wp_sampler_params *s, char *err)
{
    if (!(s->sigma0 > 0 && s->sigma0 <= 100))
        return wp_fail(err, WP_ERR_ARG, "sigma0 %g is outside (0,100]", (double)s->sigma0);
    if (!(s->sigma_l > 0 && s->sigma_l < 100))
        return wp_fail(err, WP_ERR_ARG, "sigma_L %g is outside (0,100)", (double)s->sigma_l);
    if (!(s->h0 > 0 && s->h0 <= 1))
        return wp_fail(err, WP_ERR_ARG, "h0 %g is outside (0,1]", (double)s->h0);
    if (!(s->beta > 0 && s->beta <= 1))
        return wp_fail(err, WP_ERR_ARG, "beta %g is outside (0,1]", (double)s->beta);
    if (s->max_iter < 1 || s->max_iter > 100000)
        return wp_fail(err, WP_ERR_ARG, "max_iter %d is outside 1..100000", s->max_iter);
    return WP_OK;
}

void wp_ascent_schedule(const wp_sampler_params *sp, int t, double sigma, double *h,
                        double *gamma)
{
    *h = sp->h0 * t / (1.0 + sp->h0 * (t - 1));
    double g2 = (1.0 - sp->beta * *h) * (1.0 - sp->beta * *h) - (1.0 - *h) * (1.0 - *h);
    *gamma = g2 > 0 ? sigma * sqrt(g2) : 0.0;
}

/* A denoiser has a residual floor: when sigma_t falls far slower than the
 * schedule says it should (ideally by 1 - beta h_t per step), the ascent
 * would only drift, so stop there.  Early steps expect little fall and are
 * never judged. */
int wp_ascent_stalled(const wp_sampler_params *sp, double *hist, int t, double sigma)
{
    hist[t % WP_STALL_WINDOW] = log(sigma);
    if (t <= WP_STALL_WINDOW)
        return 0;
    double expect = 0.0;
    for (int s = t - WP_STALL_WINDOW; s < t; s++) {
        double hs = sp->h0 * s / (1.0 + sp->h0 * (s - 1));
        expect += log(1.0 - sp->beta * hs + 1e-12);
    }
    double got = hist[t % WP_STALL_WINDOW] - hist[(t + 1) % WP_STALL_WINDOW];
    return expect < WP_STALL_MIN_EXPECT && got > WP_STALL_FRACTION * expect;
}

void (*wp_ascent_trace_hook)(const wp_ascent *, int, double) = NULL;

/* r = -net([cond, y]) = D(y) - y.  Returns sigma_t = ||r|| / sqrt(N). */
static wp_status residual(wp_ascent *a, double *sigma, char *err)
{
    /* with a conditioning low-pass, y holds detail bands */
    wp_plane_src src[2] = {{a->cond, a->cond_ch, 0}, {a->y, a->ch, a->cond != NULL}};
    int nsrc = a->cond ? 2 : 1;
    wp_status st = wp_net_forward_tiled(a->job, a->net, a->cond ? src : src + 1, nsrc, a->r, a->h,
                                        a->w, err);
    if (st)
        return st;
    size_t n = (size_t)a->ch * a->h * a->w;
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        a->r[i] = -a->r[i];
        ss += (double)a->r[i] * a->r[i];
    }
    *sigma = sqrt(ss / (double)n);
    if (!isfinite(*sigma))
        return wp_fail(err, WP_ERR_NUMERIC, "the network output is not finite");
    return WP_OK;
}

static double std_of(const float *y, size_t n)
{
    double s = 0.0, s2 = 0.0;
    for (size_t i = 0; i < n; i++)
        s += y[i];
    double m = s / (double)n;
    for (size_t i = 0; i < n; i++)
        s2 += ((double)y[i] - m) * ((double)y[i] - m);
    return sqrt(s2 / (double)n);
}

/* The net's work for one evaluation, in job units. */
static double eval_work(const wp_ascent *a) { return wp_net_work(a->net, a->h, a->w); }

wp_status wp_ascent_run(wp_ascent *a, char *err)
{
    const wp_sampler_params *sp = &a->sp;
    size_t n = (size_t)a->ch * a->h * a->w;
    wp_rng_fill_gauss(&a->rng, a->y, n, sp->sigma0);
    for (size_t i = 0; i < n; i++)
        a->y[i] += a->mean0;
    double sigma = 0.0, first = 0.0, hist[WP_STALL_WINDOW];
    int t, r_current = 0;
    a->stalled = 0;
    for (t = 1; t <= sp->max_iter; t++) {
        wp_status st = residual(a, &sigma, err);
        if (st)
            return st;
        if (t == 1)
            first = sigma;
        double scale = a->relative ? std_of(a->y, n) : 1.0;
        a->final_sigma = (float)(scale > 0 ? sigma / scale : sigma);
        if (wp_ascent_trace_hook)
            wp_ascent_trace_hook(a, t, sigma);
        r_current = 1;
        if (sigma <= sp->sigma_l * scale)
            break;
        if (sigma > 10.0 * first + 1e-3)
            return wp_fail(err, WP_ERR_NUMERIC,
                           "the sampler diverged at iteration %d (sigma %.3g from %.3g); try a "
                           "smaller h0",
                           t, sigma, first);
        if (wp_ascent_stalled(sp, hist, t, sigma)) {
            a->stalled = 1;
            break;
        }
        double h, gamma;
        wp_ascent_schedule(sp, t, sigma, &h, &gamma);
        if (gamma > 0)
            wp_rng_fill_gauss(&a->rng, a->z, n, (float)gamma);
        for (size_t i = 0; i < n; i++)
            a->y[i] += (float)h * a->r[i] + (gamma > 0 ? a->z[i] : 0.0f);
        r_current = 0;
    }
    if (t > sp->max_iter)
        t = sp->max_iter;
    a->iterations = t;
    if (getenv("WPRIOR_TRACE"))
        fprintf(stderr, "ascent %dx%dx%d: %d iterations, sigma %.4g (%s %.4g)%s\n", a->ch, a->h,
                a->w, t, sigma, a->relative ? "relative" : "absolute", (double)a->final_sigma,
                a->stalled ? ", stalled" : "");
    /* The units of the iterations not run count as done, so progress
     * keeps rising. */
    wp_job_advance(a->job, eval_work(a) * (double)(sp->max_iter - t));
    /* one last denoising step: y <- D(y) (r is D(y) - y already when the
     * loop stopped before moving y) */
    if (!r_current) {
        wp_status st = residual(a, &sigma, err);
        if (st)
            return st;
    } else {
        wp_job_advance(a->job, eval_work(a));
    }
    for (size_t i = 0; i < n; i++)
        a->y[i] += a->r[i];
    return WP_OK;
}

/* The fast upscale's refinement of one level: a->y holds the start (the
 * details of a smooth, consistent upscale); each step moves it to the mean
 * of the denoiser's estimates from two probes, y + s z and y - s z, with s
 * falling geometrically from sigma0 to sigma_l over max_iter steps.  A
 * blind denoiser leaves a smooth (noise-free) start almost as it is; the
 * probes make it act as at noise level s, and the pair's mean cancels what
 * D passes through of z to first order.  z comes from a->rng, so the result
 * is a function of the input alone when the caller fixes the seed.  probe
 * is a buffer of y's size. */
wp_status wp_faithful_run(wp_ascent *a, float *probe, char *err)
{
    const wp_sampler_params *sp = &a->sp;
    size_t n = (size_t)a->ch * a->h * a->w;
    float *u = a->y;
    int T = sp->max_iter;
    double s = sp->sigma0, sigma = 0.0,
           q = T > 1 ? pow((double)sp->sigma_l / sp->sigma0, 1.0 / (T - 1)) : 1.0;
    wp_status st = WP_OK;
    a->y = probe; /* what residual() reads */
    for (int t = 0; t < T && !st; t++, s *= q) {
        wp_rng keep = a->rng;
        wp_rng_fill_gauss(&a->rng, a->z, n, (float)s);
        for (size_t i = 0; i < n; i++)
            probe[i] = u[i] + a->z[i];
        if ((st = residual(a, &sigma, err)))
            break;
        for (size_t i = 0; i < n; i++)
            a->z[i] = probe[i] + a->r[i];
        a->rng = keep; /* the same z again, now subtracted */
        wp_rng_fill_gauss(&a->rng, probe, n, (float)s);
        for (size_t i = 0; i < n; i++)
            probe[i] = u[i] - probe[i];
        if ((st = residual(a, &sigma, err)))
            break;
        for (size_t i = 0; i < n; i++)
            u[i] = 0.5f * (a->z[i] + probe[i] + a->r[i]);
    }
    a->y = u;
    a->iterations = 2 * T;
    a->final_sigma = (float)sigma;
    return st;
}

void wp_up_start(const float *low, int C, int h, int w, float *x, float *det, float *coef,
                 float *tmp)
{
    wp_haar_smooth_up(low, C, h, w, WP_FAST_BACKPROJECT, x, coef, tmp);
    wp_haar_forward(x, C, 2 * h, 2 * w, coef, det);
}

/* The up net's correction of the smooth start's details a->y (given the
 * low-pass a->cond): y -= up([low, y]), one evaluation. */
static wp_status up_correct(wp_ascent *a, const wp_prior *p, char *err)
{
    wp_plane_src src[2] = {{a->cond, a->cond_ch, 0}, {a->y, a->ch, 1}};
    wp_status st = wp_net_forward_tiled(a->job, &p->up, src, 2, a->r, a->h, a->w, err);
    size_t n = (size_t)a->ch * a->h * a->w;
    for (size_t i = 0; i < n && !st; i++)
        a->y[i] -= a->r[i];
    a->iterations = 1;
    return st;
}

/* ---- levels ---- */

typedef struct {
    wp_job *job;
    const wp_prior *p;
    wp_sampler_params sp;
    int relative_details; /* relative stop rule at the conditional levels */
    int faithful;         /* the fast upscale: wp_faithful_run instead of the ascent */
    uint64_t seed;
    float *big, *small;   /* low-pass ping-pong: final plane, quarter plane */
    float *det, *r, *z;   /* 3C planes of the finest level */
    int iterations;
    float final_sigma;
} gen;

static float *low_buf(gen *g, int j) { return j % 2 ? g->small : g->big; }

/* Draws the details of levels from-1 .. 0 given the low-pass in
 * low_buf(from) of size h x w, inverting each level; the result ends in
 * g->big at size (h << from) x (w << from). */
static wp_status sample_details(gen *g, int from, int h, int w, char *err)
{
    int C = g->p->channels;
    wp_rng root;
    /* the fast upscale's probes are the same for every seed */
    wp_rng_seed(&root, g->faithful ? WP_FAST_SEED : g->seed);
    for (int j = from - 1; j >= 0; j--) {
        wp_ascent a = {0};
        a.job = g->job;
        a.net = &g->p->cond[j];
        a.cond = low_buf(g, j + 1);
        a.cond_ch = C;
        a.y = g->det, a.r = g->r, a.z = g->z;
        a.ch = 3 * C, a.h = h, a.w = w;
        a.relative = g->relative_details;
        a.sp = g->sp;
        wp_rng_split(&root, (uint64_t)j + 1, &a.rng);
        wp_status st;
        if (g->faithful) {
            /* the level's own output plane is free until the inverse below */
            float *x = low_buf(g, j);
            wp_up_start(a.cond, C, h, w, x, g->det, g->r, g->z);
            st = g->p->has_up ? up_correct(&a, g->p, err) : wp_faithful_run(&a, x, err);
        } else {
            st = wp_ascent_run(&a, err);
        }
        if (st)
            return st;
        g->iterations += a.iterations;
        g->final_sigma = a.final_sigma;
        wp_haar_inverse(a.cond, g->det, C, h, w, low_buf(g, j));
        h *= 2, w *= 2;
    }
    return WP_OK;
}

/* Allocates the level buffers for a final image of C x H x W. */
static wp_status gen_alloc(gen *g, int C, int H, int W, char *err)
{
    size_t plane = (size_t)C * H * W;
    float *b = wp_alloc(sizeof(float) * (plane + plane / 4 + 3 * (plane / 4 * 3) + 64));
    if (!b)
        return wp_fail(err, WP_ERR_NOMEM, "out of memory");
    g->big = b;
    g->small = b + plane;
    g->det = g->small + plane / 4 + 16;
    g->r = g->det + plane / 4 * 3 + 16;
    g->z = g->r + plane / 4 * 3 + 16;
    return WP_OK;
}

static size_t gen_bytes(int C, int H, int W)
{
    size_t plane = (size_t)C * H * W;
    return sizeof(float) * (plane + plane / 4 + 3 * (plane / 4 * 3) + 64);
}

/* Work of evals network evaluations per level (up: one of the up net). */
static double levels_work(const wp_prior *p, int from, int h, int w, int evals, int up)
{
    double work = 0.0;
    for (int j = from - 1; j >= 0; j--, h *= 2, w *= 2)
        work += up ? wp_net_work(&p->up, h, w) : wp_net_work(&p->cond[j], h, w) * evals;
    return work;
}

static wp_status check_size(int H, int W, const char *what, char *err)
{
    if (H < 1 || W < 1)
        return wp_fail(err, WP_ERR_ARG, "%s is %dx%d", what, W, H);
    if (H > (1 << 20) || W > (1 << 20) || (size_t)H * W > ((size_t)1 << 34))
        return wp_fail(err, WP_ERR_ARG, "%s of %dx%d is too large", what, W, H);
    return WP_OK;
}

static void report_done(const wp_run_options *opt)
{
    if (opt && opt->progress)
        opt->progress(1.0, opt->progress_data);
}

/* ---- upscaling ---- */

/* Makes x [C, h*f, w*f] lie in [0,1] with its f x f block means equal to
 * low [C,h,w] (itself in [0,1]): alternate clipping and spreading each
 * block's mean error over the pixels that can still move (a projection
 * onto the intersection of two convex sets).  Samples can overshoot
 * [0,1]; clipping alone would shift the block means of bright and dark
 * areas. */
static void project_block_means(float *x, const float *low, int C, int h, int w, int f)
{
    int W = w * f;
    size_t plane = (size_t)h * f * W;
    for (int c = 0; c < C; c++)
        for (int bi = 0; bi < h; bi++)
            for (int bj = 0; bj < w; bj++) {
                float *b = x + c * plane + (size_t)bi * f * W + (size_t)bj * f;
                float target = low[((size_t)c * h + bi) * w + bj];
                target = target < 0 ? 0 : target > 1 ? 1 : target;
                for (int iter = 0; iter < 32; iter++) {
                    double sum = 0;
                    int free_up = 0, free_down = 0;
                    for (int i = 0; i < f; i++)
                        for (int j = 0; j < f; j++) {
                            float *v = b + (size_t)i * W + j;
                            *v = *v < 0 ? 0 : *v > 1 ? 1 : *v;
                            sum += *v;
                            free_up += *v < 1;
                            free_down += *v > 0;
                        }
                    double err = target * f * f - sum;
                    if (fabs(err) < 1e-7 * f * f)
                        break;
                    int nfree = err > 0 ? free_up : free_down;
                    if (!nfree)
                        break;
                    float step = (float)(err / nfree);
                    for (int i = 0; i < f; i++)
                        for (int j = 0; j < f; j++) {
                            float *v = b + (size_t)i * W + j;
                            if ((err > 0 && *v < 1) || (err < 0 && *v > 0))
                                *v += step;
                        }
                }
            }
}

/* A model may carry its own sampler defaults in its metadata
 * ("upscale.fast.sigma0", "upscale.sharp.h0", "sample.beta", ...): a prior
 * trained on a narrow noise range must not start its ascent far outside
 * it (its conditional nets never saw sigma 1). */
void wp_sampler_meta(const wp_prior *p, const char *prefix, wp_sampler_params *d)
{
    const char *names[] = {"sigma0", "sigma_l", "h0", "beta", "max_iter"};
    for (int k = 0; k < 5; k++) {
        char key[64];
        snprintf(key, sizeof key, "%s.%s", prefix, names[k]);
        const char *v = wp_prior_meta(p, key);
        double x;
        if (!v || wp_parse_double(v, &x) || !(x > 0) || x > 1e5)
            continue;
        if (k == 0) d->sigma0 = (float)x;
        else if (k == 1) d->sigma_l = (float)x;
        else if (k == 2) d->h0 = (float)x;
        else if (k == 3) d->beta = (float)x;
        else d->max_iter = (int)x;
    }
}

static void upscale_defaults(wp_upscale_mode mode, wp_sampler_params *d)
{
    wp_sampler_defaults(d);
    if (mode == WP_UPSCALE_SHARP) {
        d->h0 = WP_SHARP_H0;
        d->beta = WP_SHARP_BETA;
    }
    if (mode == WP_UPSCALE_FAST) {
        d->sigma0 = WP_FAST_SIGMA0;
        d->sigma_l = WP_FAST_SIGMA_L;
        d->max_iter = WP_FAST_STEPS;
    }
}

/* One pass of the upscale of low [C,h,w] (C = the prior's) by 2^k.  sym:
 * -1, the result stays in g->big (and is copied to acc when acc is not
 * NULL); 0..7, the image is seen through that symmetry (wp_dihedral_shift,
 * tlow [C,h,w] the turned low-pass) and the result added back to acc. */
static wp_status upscale_pass(gen *g, const float *low, int h, int w, int k, int sym,
                              float *tlow, float *acc, char *err)
{
    int C = g->p->channels, f = 1 << k;
    size_t lplane = (size_t)h * w, plane = lplane << (2 * k);
    int transposed = sym >= 0 && (sym & 4), hs = transposed ? w : h, ws = transposed ? h : w;
    const float *src = low;
    if (sym >= 0) {
        for (int c = 0; c < C; c++)
            wp_dihedral_shift(low + c * lplane, h, w, sym, 0, 0, tlow + c * lplane);
        src = tlow;
    }
    memcpy(low_buf(g, k), src, sizeof(float) * C * lplane);
    wp_status st = sample_details(g, k, hs, ws, err);
    if (st)
        return st;
    project_block_means(g->big, src, C, hs, ws, f);
    if (sym >= 0)
        for (int c = 0; c < C; c++)
            wp_dihedral_shift_add_back(g->big + c * plane, h * f, w * f, sym, 0, 0,
                                       acc + c * plane);
    else if (acc)
        memcpy(acc, g->big, sizeof(float) * C * plane);
    return WP_OK;
}

wp_status wp_upscale(const wp_prior *p, const float *in, int channels, int height, int width,
                     float *out, const wp_upscale_options *uopt, const wp_run_options *opt,
                     char *err)
{
    if (!p || !in || !out || !uopt)
        return wp_fail(err, WP_ERR_ARG, "wp_upscale: NULL argument");
    int f = uopt->factor, k = 0; /* k = log2(f) */
    while (k < 30 && (1 << k) < f)
        k++;
    if (f < WP_FACTOR_MIN || f > WP_FACTOR_MAX || (1 << k) != f)
        return wp_fail(err, WP_ERR_ARG, "upscaling factor %d (a power of two in %d..%d)", f,
                       WP_FACTOR_MIN, WP_FACTOR_MAX);
    if (p->flat)
        return wp_fail(err, WP_ERR_ARG, "a flat (pixel-domain) prior cannot upscale");
    if (p->levels < k)
        return wp_fail(err, WP_ERR_ARG, "x%d needs a prior with %d levels; this one has %d", f, k,
                       p->levels);
    if (uopt->mode != WP_UPSCALE_FAST && uopt->mode != WP_UPSCALE_SHARP)
        return wp_fail(err, WP_ERR_ARG, "unknown upscaling mode %d", (int)uopt->mode);
    if (uopt->passes < 0 || uopt->passes > WP_UPSCALE_PASSES_MAX)
        return wp_fail(err, WP_ERR_ARG, "%d passes (1..%d)", uopt->passes,
                       WP_UPSCALE_PASSES_MAX);
    int passes = uopt->passes > 1 ? uopt->passes : 1;
    int C = p->channels;
    if (channels != C && !(C == 1 && channels == 3))
        return wp_fail(err, WP_ERR_ARG, "a %s prior cannot upscale a %d-channel image",
                       C == 1 ? "gray" : "colour", channels);
    wp_status st = check_size(height, width, "the image", err);
    if (!st)
        st = check_size(height * f, width * f, "the upscaled image", err);
    if (st)
        return st;
    size_t n_in = (size_t)channels * height * width;
    for (size_t i = 0; i < n_in; i++)
        if (!isfinite(in[i]))
            return wp_fail(err, WP_ERR_ARG, "the image holds NaN or infinite values");
    gen g = {0};
    upscale_defaults(uopt->mode, &g.sp);
    wp_sampler_meta(p, uopt->mode == WP_UPSCALE_FAST ? "upscale.fast" : "upscale.sharp", &g.sp);
    wp_sampler_params sp = uopt->sampler;
    wp_sampler_fill(&sp, &g.sp);
    if ((st = wp_sampler_check(&sp, err)))
        return st;
    g.sp = sp;
    g.p = p;
    g.seed = uopt->seed;
    g.relative_details = uopt->mode == WP_UPSCALE_SHARP;
    g.faithful = uopt->mode == WP_UPSCALE_FAST;
    size_t H = (size_t)height * f, W = (size_t)width * f, plane = (size_t)C * H * W;
    size_t all = channels != C || passes > 1 ? sizeof(float) * (size_t)channels * H * W : 0;
    size_t low = passes > 1 ? sizeof(float) * (size_t)C * height * width : 0;
    wp_job job;
    int up = g.faithful && p->has_up;
    const wp_net *largest = wp_prior_largest_net(p);
    if ((st = wp_job_begin(&job, p, opt, gen_bytes(C, (int)H, (int)W) + all + low,
                           up ? wp_larger_net(largest, &p->up) : largest, WP_BORDER_MIRROR, err)))
        return st;
    g.job = &job;
    job.work_total = levels_work(p, k, height, width, g.faithful ? 2 * sp.max_iter : sp.max_iter + 1, up) *
                     (channels / C) * passes;
    float *res = NULL, *tlow = NULL;
    if ((st = gen_alloc(&g, C, (int)H, (int)W, err)))
        goto done;
    if ((all && !(res = wp_alloc(all))) || (low && !(tlow = wp_alloc(low)))) {
        st = wp_fail(err, WP_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (passes > 1)
        memset(res, 0, all);
    /* A gray prior on RGB: one channel at a time, the same seed for each
     * so that a gray image in RGB stays gray. */
    for (int c = 0; c < channels && !st; c += C)
        for (int e = 0; e < passes && !st; e++)
            st = upscale_pass(&g, in + (size_t)c * height * width, height, width, k,
                              passes > 1 ? wp_dihedral_pass(e) : -1, tlow,
                              res ? res + (size_t)c * H * W : NULL, err);
    if (!st) {
        if (passes > 1)
            for (size_t i = 0; i < (size_t)channels * H * W; i++)
                res[i] /= (float)passes;
        memcpy(out, res ? res : g.big, res ? all : sizeof(float) * plane);
        report_done(opt);
    }
done:
    free(res);
    free(tlow);
    free(g.big);
    wp_job_end(&job);
    return st;
}

/* ---- synthesis ---- */

void wp_prior_sample_size(const wp_prior *p, int *width, int *height, int *multiple)
{
    int w = 0, h = 0;
    const char *s = wp_prior_meta(p, "image_size");
    if (!s || sscanf(s, "%dx%d", &w, &h) != 2 || w < 1 || h < 1)
        w = h = 0;
    *width = w;
    *height = h;
    *multiple = p->flat ? 1 : 1 << p->levels;
}

/* Texture priors ask for tileable samples in their metadata. */
static int tileable_default(const wp_prior *p)
{
    const char *s = wp_prior_meta(p, "sample.tileable");
    return s && !strcmp(s, "1");
}

/* The level a prior quilts its exemplars at (metadata
 * "sample.exemplar_level", 0..levels; 0: the quilt is the sample, no
 * network draws anything), else WP_EXEMPLAR_LEVEL. */
static int exemplar_level(const wp_prior *p)
{
    const char *s = wp_prior_meta(p, "sample.exemplar_level");
    double x;
    if (s && !wp_parse_double(s, &x) && x >= 0 && x <= p->levels && x == (int)x)
        return (int)x;
    return WP_EXEMPLAR_LEVEL;
}

/* How the quilt joins its patches (metadata "sample.exemplar_seam": cut,
 * the default, or blend). */
static wp_quilt_seam exemplar_seam(const wp_prior *p)
{
    const char *s = wp_prior_meta(p, "sample.exemplar_seam");
    return s && !strcmp(s, "blend") ? WP_QUILT_BLEND : WP_QUILT_CUT;
}

/* A sample that continues an exemplar's texture: its level-k low-pass
 * quilted from the exemplar's block means, then the details of levels
 * k-1 .. 0 drawn as the sharp upscale draws them. */
static wp_status sample_exemplar(gen *g, float *out, int H, int W, const float *ex, int eh,
                                 int ew, wp_sample_options *sopt, const wp_run_options *opt,
                                 char *err)
{
    const wp_prior *p = g->p;
    int C = p->channels, k = exemplar_level(p), f = 1 << k;
    if (eh < WP_EXEMPLAR_MIN || ew < WP_EXEMPLAR_MIN)
        return wp_fail(err, WP_ERR_ARG, "the exemplar is %dx%d; it must be at least %dx%d", ew,
                       eh, WP_EXEMPLAR_MIN, WP_EXEMPLAR_MIN);
    wp_status st = check_size(eh, ew, "the exemplar", err);
    if (st)
        return st;
    size_t n_ex = (size_t)C * eh * ew;
    for (size_t i = 0; i < n_ex; i++)
        if (!isfinite(ex[i]))
            return wp_fail(err, WP_ERR_ARG, "the exemplar holds NaN or infinite values");
    wp_sampler_params d;
    upscale_defaults(WP_UPSCALE_SHARP, &d);
    wp_sampler_meta(p, "upscale.sharp", &d);
    g->sp = sopt->sampler;
    wp_sampler_fill(&g->sp, &d);
    if ((st = wp_sampler_check(&g->sp, err)))
        return st;
    int h = H >> k, w = W >> k, ch = eh / f, cw = ew / f;
    size_t low = (size_t)C * h * w, exl = (size_t)C * ch * cw;
    wp_job job;
    if ((st = wp_job_begin(&job, p, opt, gen_bytes(C, H, W) + sizeof(float) * (low + exl),
                           wp_prior_largest_net(p), WP_BORDER_MIRROR, err)))
        return st;
    g->job = &job;
    job.periodic = sopt->tileable > 0 || (sopt->tileable == 0 && tileable_default(p));
    job.work_total = levels_work(p, k, h, w, g->sp.max_iter + 1, 0);
    /* the exemplar's level-k low-pass (a crop to whole blocks), then the
     * quilted one, kept for the block-mean projection */
    float *exlow = wp_alloc(sizeof(float) * exl), *layout = wp_alloc(sizeof(float) * low);
    if (!exlow || !layout) {
        st = wp_fail(err, WP_ERR_NOMEM, "out of memory");
        goto done;
    }
    wp_block_means(ex, C, eh, ew, f, exlow);
    wp_rng root, qr;
    wp_rng_seed(&root, g->seed);
    wp_rng_split(&root, 0x9a1, &qr);
    if ((st = wp_quilt(exlow, C, ch, cw, layout, h, w, job.periodic, exemplar_seam(p), &qr, err)))
        goto done;
    if ((st = gen_alloc(g, C, H, W, err)))
        goto done;
    memcpy(low_buf(g, k), layout, sizeof(float) * low);
    if ((st = sample_details(g, k, h, w, err)))
        goto done;
    project_block_means(g->big, layout, C, h, w, f);
    memcpy(out, g->big, sizeof(float) * (size_t)C * H * W);
    sopt->final_sigma = g->final_sigma;
    sopt->iterations = g->iterations;
    sopt->width = W;
    sopt->height = H;
    report_done(opt);
done:
    free(exlow);
    free(layout);
    free(g->big);
    wp_job_end(&job);
    return st;
}

wp_status wp_sample(const wp_prior *p, float *out, int channels, wp_sample_options *sopt,
                    const wp_run_options *opt, char *err)
{
    if (!p || !out || !sopt)
        return wp_fail(err, WP_ERR_ARG, "wp_sample: NULL argument");
    if (p->flat)
        return wp_fail(err, WP_ERR_ARG, "sampling needs a multi-scale prior, not a flat one");
    int C = p->channels;
    if (channels != C)
        return wp_fail(err, WP_ERR_ARG, "a %s prior samples %d-channel images, not %d",
                       C == 1 ? "gray" : "colour", C, channels);
    int W = sopt->width, H = sopt->height, nw, nh, m;
    wp_prior_sample_size(p, &nw, &nh, &m);
    if (!W && !H) {
        W = nw ? nw : 256;
        H = nh ? nh : 256;
    }
    wp_status st = check_size(H, W, "the sample", err);
    if (st)
        return st;
    if (H % m || W % m)
        return wp_fail(err, WP_ERR_ARG,
                       "this prior samples sizes that are multiples of %d; %dx%d is not", m, W,
                       H);
    gen g = {0};
    wp_sampler_params d;
    wp_sampler_defaults(&d);
    wp_sampler_meta(p, "sample", &d);
    g.sp = sopt->sampler;
    wp_sampler_fill(&g.sp, &d);
    if ((st = wp_sampler_check(&g.sp, err)))
        return st;
    if (sopt->tileable < -1 || sopt->tileable > 1)
        return wp_fail(err, WP_ERR_ARG, "tileable is -1, 0 or 1, not %d", sopt->tileable);
    g.p = p;
    g.seed = sopt->seed;
    g.relative_details = 1;
    if (sopt->exemplar)
        return sample_exemplar(&g, out, H, W, sopt->exemplar, sopt->ex_height, sopt->ex_width,
                               sopt, opt, err);
    if (p->ex_n) { /* a texture prior: one of its own exemplars, by the seed */
        const float *ex = p->exemplars + (size_t)(g.seed % (uint64_t)p->ex_n) * C * p->ex_h * p->ex_w;
        return sample_exemplar(&g, out, H, W, ex, p->ex_h, p->ex_w, sopt, opt, err);
    }
    int J = p->levels, h = H >> J, w = W >> J;
    wp_job job;
    if ((st = wp_job_begin(&job, p, opt, gen_bytes(C, H, W), wp_prior_largest_net(p),
                           WP_BORDER_MIRROR, err)))
        return st;
    g.job = &job;
    job.periodic = sopt->tileable > 0 || (sopt->tileable == 0 && tileable_default(p));
    job.work_total = wp_net_work(&p->low, h, w) * (g.sp.max_iter + 1) +
                     levels_work(p, J, h, w, g.sp.max_iter + 1, 0);
    if ((st = gen_alloc(&g, C, H, W, err)))
        goto done;
    /* the coarsest low-pass, from mid-gray plus noise, with the global net */
    wp_ascent a = {0};
    a.job = &job;
    a.net = &p->low;
    a.y = low_buf(&g, J), a.r = g.r, a.z = g.z;
    a.ch = C, a.h = h, a.w = w;
    a.mean0 = 0.5f;
    a.sp = g.sp;
    wp_rng root;
    wp_rng_seed(&root, g.seed);
    wp_rng_split(&root, 0x10f, &a.rng);
    if ((st = wp_ascent_run(&a, err)))
        goto done;
    g.iterations = a.iterations;
    g.final_sigma = a.final_sigma;
    if ((st = sample_details(&g, J, h, w, err)))
        goto done;
    memcpy(out, g.big, sizeof(float) * (size_t)C * H * W);
    sopt->final_sigma = g.final_sigma;
    sopt->iterations = g.iterations;
    sopt->width = W;
    sopt->height = H;
    report_done(opt);
done:
    free(g.big);
    wp_job_end(&job);
    return st;
}
