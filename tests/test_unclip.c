/* test_unclip.c: the clipping-bias correction of denoised planes, and the
 * median that it and the noise estimate take. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wp_rng.h"
#include "wp_unclip.h"
#include "wp_util.h"

/* E[clip(x + n, 0, 1)] by the trapezoid rule over the Gaussian, an oracle
 * written apart from the closed form in unclip.c. */
static double clipped_mean_numeric(double x, double s)
{
    const int N = 200000;
    double lo = -10.0, hi = 10.0, h = (hi - lo) / N, sum = 0;
    for (int i = 0; i <= N; i++) {
        double t = lo + i * h, v = x + s * t;
        v = v < 0 ? 0 : v > 1 ? 1 : v;
        double w = exp(-0.5 * t * t) / sqrt(2 * M_PI) * (i == 0 || i == N ? 0.5 : 1.0);
        sum += w * v * h;
    }
    return sum;
}

START_TEST(clipped_mean_matches_integration)
{
    const double xs[] = {-0.1, 0.0, 0.02, 0.3, 0.5, 0.97, 1.0, 1.2};
    const double ss[] = {0.01, 0.1, 0.3};
    for (int i = 0; i < 8; i++)
        for (int k = 0; k < 3; k++) {
            double a = wp_clipped_mean(xs[i], ss[k]), b = clipped_mean_numeric(xs[i], ss[k]);
            ck_assert_msg(fabs(a - b) < 1e-6, "m(%g; %g) = %.8f, integration %.8f", xs[i], ss[k],
                          a, b);
        }
    /* noiseless: the clamp itself */
    ck_assert_double_eq(wp_clipped_mean(0.25, 0), 0.25);
    ck_assert_double_eq(wp_clipped_mean(-1, 0), 0);
}
END_TEST

/* A ramp from black to white with clipped noise; the "denoised" plane is
 * the ideal local mean m(x).  The correction must find sigma and give x
 * back. */
START_TEST(ideal_denoiser_gets_the_truth_back)
{
    enum { H = 256, W = 256 };
    static float x[H * W], y[H * W], d[H * W];
    const double s = 25.0 / 255;
    wp_rng r;
    wp_rng_seed(&r, 7);
    double err_before = 0, err_after = 0;
    for (int i = 0; i < H; i++)
        for (int j = 0; j < W; j++) {
            float v = (float)j / (W - 1);
            double n = v + s * wp_rng_gauss(&r);
            x[i * W + j] = v;
            y[i * W + j] = (float)(n < 0 ? 0 : n > 1 ? 1 : n);
            d[i * W + j] = (float)wp_clipped_mean(v, s);
            err_before = fmax(err_before, fabs(d[i * W + j] - v));
        }
    double est;
    ck_assert_int_eq(wp_unclip_plane(d, y, H, W, &est), 0);
    ck_assert_msg(fabs(est - s) < 0.05 * s, "sigma %g, true %g", est, s);
    for (int k = 0; k < H * W; k++)
        err_after = fmax(err_after, fabs(d[k] - x[k]));
    /* the bias at black is about 0.4 sigma = 0.04 */
    ck_assert_msg(err_before > 0.035, "bias before %g", err_before);
    ck_assert_msg(err_after < 0.004, "max error after the correction %g", err_after);
}
END_TEST

/* Mid-grey noise never clipped: the correction must hardly move it. */
START_TEST(mid_tones_are_left_alone)
{
    enum { H = 128, W = 128 };
    static float y[H * W], d[H * W];
    wp_rng r;
    wp_rng_seed(&r, 3);
    for (int k = 0; k < H * W; k++) {
        d[k] = 0.3f + 0.4f * (float)(k % W) / W;
        y[k] = d[k] + (float)(0.02 * wp_rng_gauss(&r));
    }
    double est;
    ck_assert_int_eq(wp_unclip_plane(d, y, H, W, &est), 0);
    ck_assert_msg(fabs(est - 0.02) < 0.002, "sigma %g", est);
    for (int k = 0; k < H * W; k++) {
        float v = 0.3f + 0.4f * (float)(k % W) / W;
        ck_assert_msg(fabsf(d[k] - v) < 1e-4f, "pixel %d: %g -> %g", k, v, d[k]);
    }
}
END_TEST

/* The selection median equals the sorted one: odd and even sizes, many
 * ties, sorted and reversed runs, a constant array, signed zeros. */
START_TEST(median_matches_sorting)
{
    enum { N = 5001 };
    static float a[N], b[N];
    wp_rng r;
    wp_rng_seed(&r, 9);
    const size_t sizes[] = {1, 2, 3, 4, 17, 100, 1000, 4999, 5000, 5001};
    for (int kind = 0; kind < 5; kind++)
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
            size_t n = sizes[s];
            for (size_t i = 0; i < n; i++) {
                float g = wp_rng_gauss(&r);
                a[i] = kind == 0   ? g
                       : kind == 1 ? (float)((int)(4 * fabsf(g))) /* ties */
                       : kind == 2 ? (float)i                     /* sorted */
                       : kind == 3 ? (float)(n - i)               /* reversed */
                                   : 0.25f;                       /* constant */
            }
            memcpy(b, a, sizeof(float) * n);
            double m = wp_median(a, n), ms = wp_median_sort(b, n);
            ck_assert_msg(m == ms, "kind %d, n %zu: %.9g vs %.9g", kind, n, m, ms);
        }
    float z[4] = {0.0f, -0.0f, 1.0f, -1.0f};
    ck_assert(wp_median(z, 4) == 0.0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("unclip");
    TCase *tc = tcase_create("unclip");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, clipped_mean_matches_integration);
    tcase_add_test(tc, ideal_denoiser_gets_the_truth_back);
    tcase_add_test(tc, mid_tones_are_left_alone);
    tcase_add_test(tc, median_matches_sorting);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
