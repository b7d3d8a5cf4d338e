/* denoise.c: blind multi-scale denoising.  The coarsest low-pass goes
 * through the low-pass net; then, coarse to fine, each level's details are
 * denoised by its conditional net given the (already denoised) low-pass,
 * and the level is inverted to give the next finer low-pass.  A prior
 * with a denoising entry net (den, at level L < J) takes a pyramid of L
 * levels only, den in place of the low-pass net; at level 0 den alone
 * denoises the image, as a flat prior's net does. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wp_job.h"
#include "wp_prior_internal.h"
#include "wp_unclip.h"
#include "wp_util.h"
#include "wp_wiener.h"

static void subtract(float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] -= b[i];
}

/* The pixel-domain net that denoises alone (a flat prior's, or den at
 * level 0), or NULL. */
static const wp_net *pixel_net(const wp_prior *p)
{
    return p->flat ? &p->flatnet : p->has_den && !p->den_level ? &p->den : NULL;
}

/* Floats of n's smallest tile with its halo (work, input and output). */
static size_t tile_floats(const wp_net *n)
{
    int h = (wp_net_receptive_field(n) - 1) / 2, s = WP_MIN_TILE + 2 * h;
    return wp_net_infer_floats(n, 1, s, s) + (size_t)(n->in_ch + n->out_ch) * s * s;
}

const wp_net *wp_larger_net(const wp_net *a, const wp_net *b)
{
    return tile_floats(b) > tile_floats(a) ? b : a;
}

const wp_net *wp_prior_largest_net_of(const wp_prior *p, const wp_net *entry, int levels)
{
    if (p->flat)
        return &p->flatnet;
    const wp_net *best = entry;
    for (int j = 0; j < levels; j++)
        best = wp_larger_net(best, &p->cond[j]);
    return best;
}

const wp_net *wp_prior_largest_net(const wp_prior *p)
{
    return wp_prior_largest_net_of(p, &p->low, p->levels);
}

/* The levels of the pyramid denoising takes, and the net of its coarsest
 * low-pass. */
static int denoise_levels(const wp_prior *p) { return p->has_den ? p->den_level : p->levels; }
static const wp_net *entry_net(const wp_prior *p) { return p->has_den ? &p->den : &p->low; }

/* Total work of one denoising of a C-channel plane set of H x W. */
static double denoise_work(const wp_prior *p, int H, int W)
{
    if (pixel_net(p))
        return wp_net_work(pixel_net(p), H, W);
    int J = denoise_levels(p), Hp = wp_pad_size(H, J), Wp = wp_pad_size(W, J);
    double w = wp_net_work(entry_net(p), Hp >> J, Wp >> J);
    for (int j = 0; j < J; j++)
        w += wp_net_work(&p->cond[j], Hp >> (j + 1), Wp >> (j + 1));
    return w;
}

/* x [C,H,W] with C = p->channels, denoised into out.  With an oracle, the
 * coarsest low-pass (level L with den) or the details come from the clean
 * image's pyramid; with olevel, also the details of the levels from olevel
 * up, which makes the level-olevel low-pass the clean one. */
static wp_status denoise_multiscale(wp_job *job, const float *x, float *out, int H, int W,
                                    float *netout, const float *clean, int oracle, int olevel,
                                    char *err)
{
    const wp_prior *p = job->prior;
    int C = p->channels, J = denoise_levels(p);
    wp_pyramid pyr, ref = {0};
    wp_status st = wp_pyramid_forward(&pyr, x, C, H, W, J, err);
    if (st)
        return st;
    if (oracle && (st = wp_pyramid_forward(&ref, clean, C, H, W, J, err))) {
        wp_pyramid_free(&pyr);
        return st;
    }
    int h = pyr.Hp >> J, w = pyr.Wp >> J;
    wp_plane_src low_src = {pyr.low, C, 0};
    if (oracle == WP_ORACLE_LOW)
        memcpy(pyr.low, ref.low, sizeof(float) * C * h * w);
    else if (!(st = wp_net_forward_tiled(job, entry_net(p), &low_src, 1, netout, h, w, err)))
        subtract(pyr.low, netout, (size_t)C * h * w);
    for (int j = J - 1; j >= 0 && !st; j--) {
        wp_plane_src src[2] = {{wp_pyramid_low_buffer(&pyr, j + 1), C, 0},
                               {pyr.det[j], 3 * C, 1}};
        if (oracle == WP_ORACLE_DETAILS || (olevel && j >= olevel))
            memcpy(pyr.det[j], ref.det[j], sizeof(float) * 3 * C * h * w);
        else if (!(st = wp_net_forward_tiled(job, &p->cond[j], src, 2, netout, h, w, err)))
            subtract(pyr.det[j], netout, (size_t)3 * C * h * w);
        if (st)
            break;
        wp_haar_inverse(wp_pyramid_low_buffer(&pyr, j + 1), pyr.det[j], C, h, w,
                        wp_pyramid_low_buffer(&pyr, j));
        h *= 2, w *= 2;
    }
    if (!st)
        wp_crop(pyr.big, C, pyr.Hp, pyr.Wp, out, H, W);
    wp_pyramid_free(&pyr);
    if (oracle)
        wp_pyramid_free(&ref);
    return st;
}

static wp_status denoise_flat(wp_job *job, const float *x, float *out, int H, int W,
                              float *netout, char *err)
{
    const wp_prior *p = job->prior;
    size_t n = (size_t)p->channels * H * W;
    wp_plane_src src = {x, p->channels, 0};
    wp_status st = wp_net_forward_tiled(job, pixel_net(p), &src, 1, netout, H, W, err);
    if (!st)
        for (size_t i = 0; i < n; i++)
            out[i] = x[i] - netout[i];
    return st;
}

/* x [C,H,W] with C = p->channels, denoised into out by the prior. */
static wp_status denoise_once(wp_job *job, const float *x, float *out, int H, int W,
                              float *netout, const float *clean, int oracle, int olevel, char *err)
{
    return pixel_net(job->prior)
               ? denoise_flat(job, x, out, H, W, netout, err)
               : denoise_multiscale(job, x, out, H, W, netout, clean, oracle, olevel, err);
}

/* Pass e (0-based) of an ensemble: symmetry *k, shift (*dy, *dx).  A
 * multi-scale prior takes the 4 shifts of each symmetry first: on the
 * validation split at sigma 25, 4 shifted passes of the small gray prior
 * gave +0.41 dB over one pass where its 8 symmetries gave +0.13. */
static void ensemble_pass(int e, int flat, int *k, int *dy, int *dx)
{
    static const int shift[4][2] = {{0, 0}, {1, 1}, {0, 1}, {1, 0}};
    if (flat) { /* a flat net moved by a pixel only moves: symmetries alone */
        *k = wp_dihedral_pass(e), *dy = *dx = 0;
        return;
    }
    *k = wp_dihedral_pass(e / 4);
    *dy = shift[e % 4][0], *dx = shift[e % 4][1];
}

/* The mean of denoise_once over n passes of x [C,H,W] (ensemble_pass).
 * tx, ty: C*(H+1)*(W+1) floats each. */
static wp_status denoise_ensemble(wp_job *job, const float *x, float *out, int H, int W,
                                  float *netout, int n, float *tx, float *ty, char *err)
{
    int C = job->prior->channels;
    size_t plane = (size_t)H * W;
    memset(out, 0, sizeof(float) * C * plane);
    for (int e = 0; e < n; e++) {
        int k, dy, dx;
        ensemble_pass(e, pixel_net(job->prior) != NULL, &k, &dy, &dx);
        int Hs = (k & 4 ? W : H) + dy, Ws = (k & 4 ? H : W) + dx;
        size_t splane = (size_t)Hs * Ws;
        for (int c = 0; c < C; c++)
            wp_dihedral_shift(x + c * plane, H, W, k, dy, dx, tx + c * splane);
        wp_status st = denoise_once(job, tx, ty, Hs, Ws, netout, NULL, 0, 0, err);
        if (st)
            return st;
        for (int c = 0; c < C; c++)
            wp_dihedral_shift_add_back(ty + c * splane, H, W, k, dy, dx, out + c * plane);
    }
    for (size_t i = 0; i < C * plane; i++)
        out[i] /= (float)n;
    return WP_OK;
}

/* Bytes a denoising holds besides the tiles: the pyramid, the network
 * output plane and the result (kept apart so a cancel leaves out as it
 * was). */
static size_t denoise_fixed_bytes(const wp_prior *p, int H, int W)
{
    int C = p->channels, J = denoise_levels(p);
    size_t plane = sizeof(float) * (size_t)C * wp_pad_size(H, J) * wp_pad_size(W, J);
    int pix = pixel_net(p) != NULL;
    size_t pyr = pix ? 0 : wp_pyramid_bytes(C, H, W, J);
    /* netout: 3/4 plane at level 0 (a whole plane in the pixel domain); result. */
    return pyr + plane / (pix ? 1 : 4) * (pix ? 1 : 3) + sizeof(float) * (size_t)C * H * W;
}

float wp_estimate_noise(const float *img, int channels, int height, int width)
{
    /* sigma = median(|cD|) / 0.6745 for Gaussian noise; the reference's
     * Haar divides by 4, so cD carries sigma/2. */
    int h = height / 2, w = width / 2;
    if (h < 1 || w < 1 || channels < 1)
        return 0.0f;
    size_t n = (size_t)h * w;
    float *d = malloc(sizeof(float) * n);
    if (!d)
        return NAN;
    double sum = 0.0;
    for (int c = 0; c < channels; c++) {
        const float *x = img + (size_t)c * height * width;
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                const float *a = x + (size_t)(2 * i) * width + 2 * j;
                d[(size_t)i * w + j] = fabsf((a[0] - a[1] - a[width] + a[width + 1]) / 4);
            }
        sum += 2.0 * wp_median(d, n) / 0.6745;
    }
    free(d);
    return (float)(sum / channels);
}

static int constant_plane(const float *x, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (x[i] != x[0])
            return 0;
    return 1;
}

/* The blend of a den at level 0 with the same den one level down (the
 * fast route: den on the level-1 low-pass, cond0 above it).  At high noise
 * the level-1 route's wider view gives the better coarse layout, the
 * level-0 den the finer details.  The level-1 route's share, from the
 * estimated noise sigma s (in 0..255 units): of the 2x2 block means
 * BLEND_LOW_SLOPE * ln(s / BLEND_S0), of the details BLEND_DET_SLOPE *
 * (that - BLEND_DET_FROM), each clamped to [0,1].  Fitted on the
 * validation photographs, gray and colour, sigma 5-75 (the best shares
 * per sigma: 0-0.125 at 5, about 0.5 and 0.15 at 25, 0.75 and 0.4 at 50). */
#define WP_BLEND_S0 5.3
#define WP_BLEND_LOW_SLOPE 0.32
#define WP_BLEND_DET_FROM 0.25
#define WP_BLEND_DET_SLOPE 0.8

static float clamp01(double v) { return v < 0 ? 0.0f : v > 1 ? 1.0f : (float)v; }

void wp_denoise_blend_shares(double s, float *wl, float *wd)
{
    double t = s * 255.0;
    *wl = t > WP_BLEND_S0 ? clamp01(WP_BLEND_LOW_SLOPE * log(t / WP_BLEND_S0)) : 0.0f;
    *wd = clamp01(WP_BLEND_DET_SLOPE * (*wl - WP_BLEND_DET_FROM));
}

/* a := a with wl of b's 2x2 block means and wd of b's details, block by
 * block (a partial block at an odd edge as it is):
 * (1 - wd) a + wd b + (wl - wd) (mean b - mean a). */
static void blend_blocks(float *a, const float *b, int planes, int H, int W, float wl, float wd)
{
    for (int c = 0; c < planes; c++) {
        float *pa = a + (size_t)c * H * W;
        const float *pb = b + (size_t)c * H * W;
        for (int i = 0; i < H; i += 2)
            for (int k = 0; k < W; k += 2) {
                size_t q[4];
                int n = 0;
                for (int di = 0; di < 2 && i + di < H; di++)
                    for (int dk = 0; dk < 2 && k + dk < W; dk++)
                        q[n++] = (size_t)(i + di) * W + k + dk;
                float ma = 0, mb = 0;
                for (int t = 0; t < n; t++)
                    ma += pa[q[t]], mb += pb[q[t]];
                float shift = (wl - wd) * (mb - ma) / (float)n;
                for (int t = 0; t < n; t++)
                    pa[q[t]] = (1.0f - wd) * pa[q[t]] + wd * pb[q[t]] + shift;
            }
    }
}

/* The Wiener stage's tables were fitted on the photo priors: a prior
 * takes it by default when its metadata says denoise.wiener=1. */
static int wiener_by_default(const wp_prior *p)
{
    const char *v = wp_prior_meta(p, "denoise.wiener");
    return v && !strcmp(v, "1");
}

/* Scratch of one route (denoise_route): the network output, the ensemble's
 * moved planes, a gray prior's opponent channel and its clean oracle. */
typedef struct {
    float *netout, *tx, *ty, *ox, *oclean;
} route_bufs;

/* in [channels,H,W] denoised by job->prior into res (ens passes; a gray
 * prior on RGB in the opponent basis, one channel at a time). */
static wp_status denoise_route(wp_job *job, const float *in, int channels, int H, int W,
                               int ens, const float *oclean_in, int oracle, int olevel,
                               const route_bufs *b, float *res, char *err)
{
    int C = job->prior->channels, opp = channels != C;
    size_t hw = (size_t)H * W;
    wp_status st = WP_OK;
    for (int c = 0; c < channels && !st; c += C) {
        const float *x = in + c * hw, *clean = oracle ? oclean_in + c * hw : NULL;
        float *r = res + c * hw;
        if (opp) {
            wp_opponent_channel(in, hw, c, b->ox);
            x = b->ox;
            if (oracle)
                wp_opponent_channel(oclean_in, hw, c, b->oclean), clean = b->oclean;
            /* A constant colour difference (a gray image in RGB: exactly so)
             * holds no noise: kept, the result stays exactly gray. */
            if (c > 0 && constant_plane(b->ox, hw)) {
                memcpy(r, b->ox, sizeof(float) * hw);
                continue;
            }
        }
        st = ens > 1 ? denoise_ensemble(job, x, r, H, W, b->netout, ens, b->tx, b->ty, err)
                     : denoise_once(job, x, r, H, W, b->netout, clean, oracle, olevel, err);
    }
    if (!st && opp)
        wp_opponent_to_rgb(res, hw);
    return st;
}

/* Floats of a route's network output plane. */
static size_t netout_floats(const wp_prior *p, int H, int W)
{
    if (pixel_net(p))
        return (size_t)p->channels * H * W;
    int J = denoise_levels(p);
    return (size_t)3 * p->channels * wp_pad_size(H, J) * wp_pad_size(W, J) / 4;
}

static size_t max_size(size_t a, size_t b) { return a > b ? a : b; }

/* What one route of wp_denoise needs: the planes its passes move (shifted
 * passes of a multi-scale route are a pixel larger), its network output,
 * its fixed bytes and its work. */
typedef struct {
    size_t splane, netout, fixed;
    double work;
} route_size;

static route_size size_route(const wp_prior *p, int channels, int H, int W, int ens)
{
    int C = p->channels, sh = ens > 1 && !pixel_net(p);
    return (route_size){(size_t)C * (H + sh) * (W + sh), netout_floats(p, H + sh, W + sh),
                        denoise_fixed_bytes(p, H + sh, W + sh),
                        denoise_work(p, H + sh, W + sh) * (channels / C) * ens};
}

wp_status wp_denoise(const wp_prior *p, const float *in, float *out, int channels, int height,
                     int width, const wp_denoise_options *dopt, const wp_run_options *opt,
                     float *noise_sigma, char *err)
{
    if (!p || !in || !out)
        return wp_fail(err, WP_ERR_ARG, "wp_denoise: NULL argument");
    if (height < 1 || width < 1)
        return wp_fail(err, WP_ERR_ARG, "image is %dx%d", width, height);
    if (height > (1 << 20) || width > (1 << 20))
        return wp_fail(err, WP_ERR_ARG, "image of %dx%d is too large", width, height);
    float strength = dopt ? dopt->strength : (float)WP_STRENGTH_DEFAULT;
    if (!(strength >= WP_STRENGTH_MIN && strength <= WP_STRENGTH_MAX))
        return wp_fail(err, WP_ERR_ARG, "strength %g is outside [%g,%g]", (double)strength,
                       WP_STRENGTH_MIN, WP_STRENGTH_MAX);
    /* The fast route: the same den one level down (a read-only copy of the
     * prior's description; the nets stay shared).  It runs alone (fast) or
     * beside the den at level 0, blended by the noise (blend,
     * wp_denoise_blend_shares). */
    if (dopt && dopt->fast && dopt->blend)
        return wp_fail(err, WP_ERR_ARG, "fast and blend exclude each other");
    wp_prior fastp;
    const wp_prior *second = NULL;
    if (p->has_den && !p->den_level && !p->flat) { /* has_den: J >= 1 */
        fastp = *p;
        fastp.den_level = 1;
        if (dopt && dopt->fast)
            p = &fastp;
        else if (dopt && dopt->blend)
            second = &fastp;
    }
    int ens = dopt && dopt->ensemble > 1 ? dopt->ensemble : 1, pix = pixel_net(p) != NULL;
    int most = p->flat ? WP_ENSEMBLE_MAX_FLAT : WP_ENSEMBLE_MAX; /* a flat net moved by a
                                                                     pixel only moves */
    if (dopt && (dopt->ensemble < 0 || dopt->ensemble > most))
        return wp_fail(err, WP_ERR_ARG, "ensemble of %d passes (0..%d for a%s prior)",
                       dopt->ensemble, most, p->flat ? " flat" : " multi-scale");
    int oracle = dopt && dopt->oracle_clean ? dopt->oracle : WP_ORACLE_NONE;
    if (oracle != WP_ORACLE_NONE &&
        ((oracle != WP_ORACLE_LOW && oracle != WP_ORACLE_DETAILS) || pix || ens > 1))
        return wp_fail(err, WP_ERR_ARG, "an oracle is for one pass of a multi-scale prior "
                                        "that denoises with its pyramid");
    int olevel = oracle ? dopt->oracle_level : 0;
    if (olevel && (oracle != WP_ORACLE_LOW || olevel < 0 || olevel > denoise_levels(p)))
        return wp_fail(err, WP_ERR_ARG,
                       "the clean low-pass of level %d: only with the low-pass oracle, levels 1..%d",
                       olevel, denoise_levels(p));
    int C = p->channels;
    if (channels != C && !(C == 1 && channels == 3))
        return wp_fail(err, WP_ERR_ARG, "a %s prior cannot denoise a %d-channel image",
                       C == 1 ? "gray" : "colour", channels);
    size_t plane = (size_t)C * height * width, total = (size_t)channels * height * width;
    for (size_t i = 0; i < total; i++)
        if (!isfinite(in[i]))
            return wp_fail(err, WP_ERR_ARG, "the image holds NaN or infinite values");
    int wiener = dopt && dopt->wiener
                     ? dopt->wiener == WP_WIENER_ON
                     : wiener_by_default(p) && !(dopt && dopt->fast) &&
                           oracle == WP_ORACLE_NONE &&
                           ((dopt && dopt->blend) ||
                            (size_t)height * width <= (size_t)WP_WIENER_AUTO_PIXELS);
    float sigma = noise_sigma || second || wiener ? wp_estimate_noise(in, channels, height, width)
                                                  : 0;
    float wl = 0, wd = 0;
    if (noise_sigma)
        *noise_sigma = sigma;
    if (second) /* (NaN when out of memory: the den alone) */
        wp_denoise_blend_shares(sigma, &wl, &wd);
    if (!(wl > 0))
        second = NULL;
    int ens2 = second ? ens : 1;
    /* A pixel-domain den differs in at most 8 passes (turned and mirrored). */
    if (pix && ens > WP_ENSEMBLE_MAX_FLAT)
        ens = WP_ENSEMBLE_MAX_FLAT;
    route_size r1 = size_route(p, channels, height, width, ens), r2 = {0};
    if (second)
        r2 = size_route(second, channels, height, width, ens2);
    size_t splane = max_size(r1.splane, r2.splane);
    size_t scratch = ens > 1 || ens2 > 1 ? 2 * splane : 0;
    /* A gray prior on RGB works in the opponent basis, one channel (and its
     * clean oracle) at a time in a plane of its own. */
    int opp = channels != C;
    size_t oplanes = opp ? (size_t)(oracle ? 2 : 1) * height * width : 0;
    size_t res2_n = second ? total : 0; /* the second route's result */
    /* the Wiener stage's planes take the network output's place */
    size_t netout_n = max_size(r1.netout, r2.netout);
    size_t wiener_n = wiener ? (size_t)(channels + 2) * height * width : 0;
    size_t wiener_extra = wiener_n > netout_n ? wiener_n - netout_n : 0;
    netout_n += wiener_extra;
    size_t fixed = sizeof(float) * wiener_extra + max_size(r1.fixed, r2.fixed) +
                   (oracle ? wp_pyramid_bytes(C, height, width, denoise_levels(p)) : 0) +
                   (opp ? sizeof(float) * (total - plane) : 0) +
                   sizeof(float) * (res2_n + scratch + oplanes);
    /* Zero padding unless asked otherwise: the nets learnt it on their
     * training crops, while a mirrored border repeats the noise, which they
     * read as structure and keep (validation patterns of 20-128 px, sigma
     * 25: +0.34 dB on average, +2.9 dB on a 45x45 one).  The second route
     * runs den and cond0: its largest net covers both routes. */
    const wp_prior *big = second ? second : p;
    const wp_net *largest = wp_prior_largest_net_of(big, entry_net(big), denoise_levels(big));
    wp_job job;
    wp_status st = wp_job_begin(&job, p, opt, fixed, largest, WP_BORDER_ZERO, err);
    if (st)
        return st;
    job.work_total = r1.work + r2.work +
                     (wiener ? wp_wiener_work(channels, height, width, &wp_wiener_defaults) : 0);
    /* The result goes to its own buffer so that out changes only once
     * every channel succeeded (a gray prior on RGB works one channel at a
     * time, the documented fallback). */
    float *netout = wp_alloc(sizeof(float) * (netout_n + total + res2_n + scratch + oplanes));
    if (!netout) {
        wp_job_end(&job);
        return wp_fail(err, WP_ERR_NOMEM, "out of memory");
    }
    float *res = netout + netout_n, *res2 = res + total, *tx = res2 + res2_n;
    route_bufs b = {netout, tx, tx + splane, tx + scratch, tx + scratch + (size_t)height * width};
    const float *oclean = oracle ? dopt->oracle_clean : NULL;
    st = denoise_route(&job, in, channels, height, width, ens, oclean, oracle, olevel, &b, res, err);
    if (!st && second) {
        job.prior = second;
        st = denoise_route(&job, in, channels, height, width, ens2, NULL, 0, 0, &b, res2, err);
        job.prior = p;
        if (!st)
            blend_blocks(res, res2, channels, height, width, wl, wd);
    }
    if (!st && wiener &&
        wp_wiener_stage(in, res, channels, height, width, sigma, dopt && dopt->clipped,
                        &wp_wiener_defaults, netout, &job))
        st = wp_fail(err, WP_ERR_CANCELLED, "cancelled");
    if (!st && dopt && dopt->clipped)
        for (int c = 0; c < channels && !st; c++)
            if (wp_unclip_plane(res + (size_t)c * height * width, in + (size_t)c * height * width,
                                height, width, NULL))
                st = wp_fail(err, WP_ERR_NOMEM, "out of memory");
    if (!st) {
        for (size_t i = 0; i < total; i++)
            out[i] = in[i] + strength * (res[i] - in[i]);
        if (opt && opt->progress)
            opt->progress(1.0, opt->progress_data);
    }
    free(netout);
    wp_job_end(&job);
    return st;
}
