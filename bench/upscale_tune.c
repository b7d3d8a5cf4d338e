/* upscale_tune: dev tool to tune the upscaling ascent.  Takes a clean
 * image, makes its f x f block means, runs the conditional ascent at the
 * finest level with the given knobs, and prints along the way the PSNR of
 * the image rebuilt from D(y) (the denoised details) against the original.
 * usage: upscale_tune MODEL IMAGE.png FACTOR h0 beta sigma_l max_iter relative seed */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_io.h"
#include "wp_prior_internal.h"
#include "wp_sample.h"

static const float *g_clean;
static int g_H, g_W;

static double psnr(const float *a, const float *b, size_t n)
{
    double se = 0;
    for (size_t i = 0; i < n; i++) {
        double x = a[i] < 0 ? 0 : a[i] > 1 ? 1 : a[i];
        x = round(x * 255) / 255;
        se += (x - b[i]) * (x - b[i]);
    }
    return 10 * log10((double)n / se);
}

static void trace(const wp_ascent *a, int t, double sigma)
{
    if (a->h * 2 != g_H)
        return; /* finest level only */
    size_t n = (size_t)3 * a->h * a->w;
    float *d = malloc(4 * n), *img = malloc(4 * (size_t)g_H * g_W);
    for (size_t i = 0; i < n; i++)
        d[i] = a->y[i] + a->r[i];
    wp_haar_inverse(a->cond, d, 1, a->h, a->w, img);
    printf("t %4d sigma %.5f rel %.5f  PSNR(D(y)) %.3f\n", t, sigma, sigma / 1.0,
           psnr(img, g_clean, (size_t)g_H * g_W));
    free(d), free(img);
}

int main(int argc, char **argv)
{
    if (argc != 10) {
        fprintf(stderr, "usage: upscale_tune MODEL IMAGE FACTOR h0 beta sigma_l max_iter relative seed\n");
        return 2;
    }
    char err[512];
    wp_prior *p;
    if (wp_prior_load(argv[1], &p, err)) { fprintf(stderr, "%s\n", err); return 1; }
    wp_image img;
    if (wp_image_read(argv[2], 0, &img, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    int f = atoi(argv[3]), H = img.height, W = img.width, h = H / f, w = W / f;
    g_clean = img.pixels, g_H = H, g_W = W;
    float *low = calloc((size_t)h * w, 4);
    for (int i = 0; i < H; i++)
        for (int j = 0; j < W; j++)
            low[(i / f) * w + j / f] += img.pixels[(size_t)i * W + j] / (f * f);
    for (int i = 0; i < h * w; i++)
        low[i] = roundf(low[i] * 255) / 255; /* an 8-bit input, as from a PNG */
    wp_upscale_options u = {0};
    u.factor = f;
    u.mode = atoi(argv[8]) ? WP_UPSCALE_SHARP : WP_UPSCALE_FAST;
    u.seed = strtoull(argv[9], NULL, 10);
    u.sampler.h0 = atof(argv[4]);
    u.sampler.beta = atof(argv[5]);
    u.sampler.sigma_l = atof(argv[6]);
    u.sampler.max_iter = atoi(argv[7]);
    float *out = malloc(4 * (size_t)H * W);
    wp_ascent_trace_hook = trace;
    if (wp_upscale(p, low, 1, h, w, out, &u, NULL, err)) { fprintf(stderr, "%s\n", err); return 1; }
    printf("final PSNR %.3f\n", psnr(out, img.pixels, (size_t)H * W));
    return 0;
}
