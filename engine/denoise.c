/* denoise.c: blind multi-scale denoising.  The coarsest low-pass goes
 * through the low-pass net; then, coarse to fine, each level's details are
 * denoised by its conditional net given the (already denoised) low-pass,
 * and the level is inverted to give the next finer low-pass. */
#include <stdlib.h>
#include <string.h>

#include "wp_layers.h"
#include "wp_prior_internal.h"
#include "wp_util.h"

/* Runs net on x [in,h,w] into y [out,h,w] with p's workspace. */
static wp_status run_net(wp_prior *p, const wp_net *net, const float *x, float *y, int h, int w,
                         const wp_run_options *opt, char *err)
{
    float *ws = wp_prior_workspace(p, wp_net_infer_floats(net, 1, h, w), err);
    if (!ws)
        return WP_ERR_NOMEM;
    wp_status st = wp_net_forward(net, x, y, 1, h, w, ws, opt ? opt->cancel : NULL);
    if (st == WP_ERR_CANCELLED)
        return wp_fail(err, st, "cancelled");
    return st;
}

static void subtract(float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] -= b[i];
}

static void progress(const wp_run_options *opt, double f)
{
    if (opt && opt->progress)
        opt->progress(f, opt->progress_data);
}

/* x [C,H,W] with C = p->channels, denoised into out. */
static wp_status denoise_multiscale(wp_prior *p, const float *x, float *out, int H, int W,
                                    const wp_run_options *opt, char *err)
{
    int C = p->channels, J = p->levels;
    wp_pyramid pyr;
    wp_status st = wp_pyramid_forward(&pyr, x, C, H, W, J, err);
    if (st)
        return st;
    int h = pyr.Hp >> J, w = pyr.Wp >> J;
    size_t full = (size_t)C * pyr.Hp * pyr.Wp;
    /* cond input [4C,h,w] and output [3C,h,w] at level 0 at most. */
    float *buf = wp_alloc(sizeof(float) * 2 * full);
    if (!buf) {
        wp_pyramid_free(&pyr);
        return wp_fail(err, WP_ERR_NOMEM, "out of memory");
    }
    float *cin = buf, *cout = buf + full;
    float *cur = pyr.tmp, *next = pyr.tmp + full;
    st = run_net(p, &p->low, pyr.low, cout, h, w, opt, err);
    if (!st) {
        memcpy(cur, pyr.low, sizeof(float) * C * h * w);
        subtract(cur, cout, (size_t)C * h * w);
    }
    for (int j = J - 1; j >= 0 && !st; j--) {
        progress(opt, (double)(J - 1 - j + 1) / (J + 1));
        size_t n = (size_t)h * w;
        memcpy(cin, cur, sizeof(float) * C * n);
        memcpy(cin + C * n, pyr.det[j], sizeof(float) * 3 * C * n);
        st = run_net(p, &p->cond[j], cin, cout, h, w, opt, err);
        if (st)
            break;
        subtract(pyr.det[j], cout, 3 * C * n);
        wp_haar_inverse(cur, pyr.det[j], C, h, w, next);
        h *= 2, w *= 2;
        float *t = cur;
        cur = next;
        next = t;
    }
    if (!st)
        wp_crop(cur, C, pyr.Hp, pyr.Wp, out, H, W);
    free(buf);
    wp_pyramid_free(&pyr);
    return st;
}

static wp_status denoise_flat(wp_prior *p, const float *x, float *out, int H, int W,
                              const wp_run_options *opt, char *err)
{
    size_t n = (size_t)p->channels * H * W;
    float *r = wp_alloc(sizeof(float) * n);
    if (!r)
        return wp_fail(err, WP_ERR_NOMEM, "out of memory");
    wp_status st = run_net(p, &p->flatnet, x, r, H, W, opt, err);
    if (!st)
        for (size_t i = 0; i < n; i++)
            out[i] = x[i] - r[i];
    free(r);
    return st;
}

wp_status wp_denoise(wp_prior *p, const float *in, float *out, int channels, int height,
                     int width, const wp_denoise_options *dopt, const wp_run_options *opt,
                     float *noise_sigma, char *err)
{
    if (!p || !in || !out)
        return wp_fail(err, WP_ERR_ARG, "wp_denoise: NULL argument");
    if (height < 1 || width < 1)
        return wp_fail(err, WP_ERR_ARG, "image is %dx%d", width, height);
    int C = p->channels;
    if (channels != C && !(C == 1 && channels == 3))
        return wp_fail(err, WP_ERR_ARG, "a %s prior cannot denoise a %d-channel image",
                       C == 1 ? "gray" : "colour", channels);
    /* A gray prior on RGB works one channel at a time (documented fallback). */
    size_t plane = (size_t)C * height * width;
    for (int c = 0; c < channels; c += C) {
        wp_status st = p->flat ? denoise_flat(p, in + c * plane, out + c * plane, height, width, opt, err)
                               : denoise_multiscale(p, in + c * plane, out + c * plane, height, width, opt, err);
        if (st)
            return st;
    }
    (void)dopt;
    (void)noise_sigma;
    progress(opt, 1.0);
    return WP_OK;
}
