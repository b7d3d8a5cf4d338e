/* unclip.c: undo the bias that clipping to [0,1] gives a denoised image.
 *
 * A saved noisy image holds y = clip(x + n, 0, 1), n ~ N(0, s^2).  Near
 * black and white the noise is one-sided, so a denoiser (which estimates a
 * local mean) returns about m(x) = E[y] rather than x: too bright in the
 * shadows, too dark in the highlights.  m is strictly increasing, so each
 * denoised value d is mapped to the x with m(x) = d (the idea of Foi's
 * "Clipped noisy images", 2009), clamped to [0,1] where the truth lies.
 * A bias-free network cannot learn this itself: the clip at 1 is not
 * scale-invariant. */
#include <math.h>
#include <stdlib.h>

#include "wp_unclip.h"
#include "wp_util.h"

/* E[max(0, z)] for z ~ N(mu, s^2). */
static double mean_relu(double mu, double s)
{
    double t = mu / s;
    return mu * 0.5 * erfc(-t / sqrt(2.0)) + s * exp(-0.5 * t * t) / sqrt(2.0 * M_PI);
}

/* m(x) = E[clip(x + n, 0, 1)] = E[max(0,z)] - E[max(0,z-1)]. */
double wp_clipped_mean(double x, double s)
{
    if (!(s > 0))
        return x < 0 ? 0 : x > 1 ? 1 : x;
    return mean_relu(x, s) - mean_relu(x - 1.0, s);
}

/* sigma from the finest diagonal Haar coefficients of the noisy plane
 * (|a - b - c + d| / 2 carries sigma), over the 2x2 blocks whose denoised
 * mean lies in [lo, 1 - lo], where clipping cannot have shrunk the noise.
 * d: scratch for h/2 * w/2 floats.  Returns -1 when too few blocks. */
static double mid_sigma(const float *y, const float *den, int H, int W, double lo, float *d)
{
    size_t n = 0;
    for (int i = 0; i + 1 < H; i += 2)
        for (int j = 0; j + 1 < W; j += 2) {
            const float *a = y + (size_t)i * W + j, *b = den + (size_t)i * W + j;
            double m = 0.25 * ((double)b[0] + b[1] + b[W] + b[W + 1]);
            if (m >= lo && m <= 1.0 - lo)
                d[n++] = fabsf(a[0] - a[1] - a[W] + a[W + 1]) * 0.5f;
        }
    if (n < 64)
        return -1;
    return wp_median(d, n) / 0.6745;
}

double wp_unclip_sigma(const float *noisy, const float *den, int H, int W, float *scratch)
{
    double s = mid_sigma(noisy, den, H, W, 0.0, scratch);
    if (s < 0)
        return 0;
    /* Twice: blocks 2 sigma away from the bounds are hardly clipped. */
    for (int it = 0; it < 2; it++) {
        double t = mid_sigma(noisy, den, H, W, fmin(2.0 * s, 0.4), scratch);
        if (t < 0)
            break;
        s = t;
    }
    return s;
}

#define LUT_N 4096

/* inv[k] = x in [0,1] with m(x) = k / LUT_N (0 below m(0), 1 above m(1)),
 * interpolated on a grid of x 8 times finer; m is increasing. */
static void build_inverse(float *inv, double s)
{
    const int G = 8 * LUT_N;
    int g = 0;
    double m0 = wp_clipped_mean(0, s), m1 = wp_clipped_mean(1.0 / G, s);
    double top = wp_clipped_mean(1, s);
    for (int k = 0; k <= LUT_N; k++) {
        double d = (double)k / LUT_N;
        if (d <= m0 && g == 0) {
            inv[k] = 0;
            continue;
        }
        if (d >= top) {
            inv[k] = 1;
            continue;
        }
        while (m1 < d && g + 1 < G) { /* keep m(g/G) < d <= m((g+1)/G) */
            g++;
            m0 = m1;
            m1 = wp_clipped_mean((double)(g + 1) / G, s);
        }
        double f = m1 > m0 ? (d - m0) / (m1 - m0) : 0;
        inv[k] = (float)((g + (f < 0 ? 0 : f > 1 ? 1 : f)) / G);
    }
}

int wp_unclip_plane(float *den, const float *noisy, int H, int W, double *sigma_out)
{
    size_t n = (size_t)H * W;
    float *buf = malloc(sizeof(float) * (n / 4 + 1 + LUT_N + 1));
    if (!buf)
        return -1;
    double s = wp_unclip_sigma(noisy, den, H, W, buf);
    if (sigma_out)
        *sigma_out = s;
    if (s > 1e-4) {
        float *inv = buf + n / 4 + 1;
        build_inverse(inv, s);
        for (size_t i = 0; i < n; i++) {
            float d = den[i];
            if (!(d > 0)) {
                den[i] = 0;
                continue;
            }
            if (d >= 1) {
                den[i] = 1;
                continue;
            }
            float f = d * LUT_N;
            int k = (int)f;
            if (k >= LUT_N)
                k = LUT_N - 1;
            f -= k;
            den[i] = inv[k] + f * (inv[k + 1] - inv[k]);
        }
    }
    free(buf);
    return 0;
}
