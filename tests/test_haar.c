/* test_haar.c: the Haar pyramid, its inverse and reflection padding. */
#include "testutil.h"
#include "wp_haar.h"

START_TEST(one_level_matches_the_formula)
{
    /* one 2x2 block a b / c d */
    float x[4] = {1, 2, 3, 5}, low, det[3], back[4];
    wp_haar_forward(x, 1, 2, 2, &low, det);
    ck_assert_float_eq(low, (1 + 2 + 3 + 5) / 4.0f);
    ck_assert_float_eq(det[0], (1 + 2 - 3 - 5) / 4.0f);
    ck_assert_float_eq(det[1], (1 - 2 + 3 - 5) / 4.0f);
    ck_assert_float_eq(det[2], (1 - 2 - 3 + 5) / 4.0f);
    wp_haar_inverse(&low, det, 1, 1, 1, back);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq_tol(back[i], x[i], 1e-6);
}
END_TEST

START_TEST(colour_channel_order)
{
    /* details are [cH(C), cV(C), cD(C)]: channel c's cV is at C + c */
    float x[3 * 4], low[3], det[9];
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 4; i++)
            x[c * 4 + i] = (float)(c * 10 + (i == 0 || i == 2)); /* left column brighter */
    wp_haar_forward(x, 3, 2, 2, low, det);
    for (int c = 0; c < 3; c++) {
        ck_assert_float_eq_tol(low[c], c * 10 + 0.5f, 1e-6);
        ck_assert_float_eq_tol(det[c], 0.0f, 1e-6);         /* cH */
        ck_assert_float_eq_tol(det[3 + c], 0.5f, 1e-6);     /* cV */
        ck_assert_float_eq_tol(det[6 + c], 0.0f, 1e-6);     /* cD */
    }
}
END_TEST

static void roundtrip(int C, int H, int W, int J)
{
    wp_rng r;
    wp_rng_seed(&r, (uint64_t)(H * 131 + W * 7 + J));
    size_t n = (size_t)C * H * W;
    float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)wp_rng_uniform(&r);
    wp_pyramid p;
    ck_assert_int_eq(wp_pyramid_forward(&p, x, C, H, W, J, NULL), 0);
    ck_assert_int_eq(p.Hp % (1 << J), 0);
    ck_assert_int_eq(p.Wp % (1 << J), 0);
    wp_pyramid_inverse(&p, y);
    ck_assert_msg(max_abs_diff(x, y, n) <= 1e-6, "%dx%dx%d J=%d: %g", C, H, W, J,
                  max_abs_diff(x, y, n));
    wp_pyramid_free(&p);
    free(x);
    free(y);
}

START_TEST(inverse_of_forward_is_identity)
{
    int sizes[][2] = {{1, 1}, {7, 5}, {5, 7}, {160, 160}, {1001, 999}, {2, 3}, {64, 1}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int J = 0; J <= 4; J++)
            roundtrip(1, sizes[s][0], sizes[s][1], J);
    roundtrip(3, 33, 17, 3);
}
END_TEST

START_TEST(low_pass_is_block_mean)
{
    /* level-J low-pass of an exact multiple = mean of each 2^J block */
    int H = 16, W = 8, J = 2;
    float x[128];
    for (int i = 0; i < H * W; i++)
        x[i] = (float)((i * 37) % 11) / 10.0f;
    wp_pyramid p;
    ck_assert_int_eq(wp_pyramid_forward(&p, x, 1, H, W, J, NULL), 0);
    for (int bi = 0; bi < H / 4; bi++)
        for (int bj = 0; bj < W / 4; bj++) {
            double m = 0;
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                    m += x[(bi * 4 + i) * W + bj * 4 + j];
            ck_assert_float_eq_tol(p.low[bi * (W / 4) + bj], (float)(m / 16), 1e-6);
        }
    wp_pyramid_free(&p);
}
END_TEST

START_TEST(reflection_padding)
{
    float x[3] = {1, 2, 3}, y[9];
    wp_pad_reflect(x, 1, 1, 3, y, 1, 9);
    float want[9] = {1, 2, 3, 3, 2, 1, 1, 2, 3}; /* half-sample symmetric, period 6 */
    for (int i = 0; i < 9; i++)
        ck_assert_float_eq(y[i], want[i]);
    float one = 0.25f, big[16];
    wp_pad_reflect(&one, 1, 1, 1, big, 4, 4);
    for (int i = 0; i < 16; i++)
        ck_assert_float_eq(big[i], 0.25f);
    ck_assert_int_eq(wp_pad_size(1001, 3), 1008);
    ck_assert_int_eq(wp_pad_size(160, 2), 160);
}
END_TEST

/* The x2 upscale of the fast upscaler: Catmull-Rom reproduces a ramp
 * exactly away from the borders, at the Haar samples (a quarter pixel
 * either side of each coarse centre), in every channel. */
START_TEST(cubic_upscale_keeps_a_ramp)
{
    enum { C = 2, h = 9, w = 11 };
    static float low[C * h * w], out[C * 4 * h * w], tmp[C * h * 2 * w];
    for (int c = 0; c < C; c++)
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++)
                low[(c * h + i) * w + j] = 0.1f * c + 0.03f * i - 0.02f * j;
    wp_haar_cubic2(low, C, h, w, out, tmp);
    for (int c = 0; c < C; c++)
        for (int I = 4; I < 2 * h - 4; I++)
            for (int J = 4; J < 2 * w - 4; J++) {
                double i = I / 2.0 - 0.25, j = J / 2.0 - 0.25;
                double want = 0.1 * c + 0.03 * i - 0.02 * j;
                ck_assert_double_eq_tol(out[((size_t)c * 2 * h + I) * 2 * w + J], want, 1e-6);
            }
}
END_TEST

/* Back-projection brings the block means of the smooth upscale of a rough
 * (random) low-pass towards it: 4 rounds at least halve the worst error. */
START_TEST(back_projection_approaches_the_block_means)
{
    enum { C = 1, h = 16, w = 12 };
    static float low[h * w], out[4 * h * w], coef[h * w], tmp[2 * h * w];
    wp_rng r;
    wp_rng_seed(&r, 5);
    for (int i = 0; i < h * w; i++)
        low[i] = (float)wp_rng_uniform(&r);
    double err[2];
    for (int k = 0; k < 2; k++) {
        wp_haar_smooth_up(low, C, h, w, 4 * k, out, coef, tmp);
        err[k] = 0;
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                const float *x = out + (size_t)(2 * i) * 2 * w + 2 * j;
                double m = (x[0] + x[1] + x[2 * w] + x[2 * w + 1]) / 4.0;
                err[k] = fmax(err[k], fabs(m - low[i * w + j]));
            }
    }
    fprintf(stderr, "block means off by %.4f without back-projection, %.4f after 4 rounds\n",
            err[0], err[1]);
    ck_assert_double_lt(err[1], err[0] / 2);
}
END_TEST

START_TEST(bad_arguments)
{
    float x = 0;
    wp_pyramid p;
    char err[WP_ERRLEN];
    ck_assert_int_eq(wp_pyramid_forward(&p, &x, 1, 0, 5, 1, err), WP_ERR_ARG);
    ck_assert_int_eq(wp_pyramid_forward(&p, &x, 1, 5, 5, WP_MAX_LEVELS, err), WP_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err, "levels"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("haar");
    TCase *tc = tcase_create("haar");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, one_level_matches_the_formula);
    tcase_add_test(tc, colour_channel_order);
    tcase_add_test(tc, inverse_of_forward_is_identity);
    tcase_add_test(tc, low_pass_is_block_mean);
    tcase_add_test(tc, reflection_padding);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, cubic_upscale_keeps_a_ramp);
    tcase_add_test(tc, back_projection_approaches_the_block_means);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
