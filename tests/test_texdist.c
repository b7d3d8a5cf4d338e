/* test_texdist.c: the texture statistics of bench/texture-dist (texdist.h)
 * on synthetic textures: identical sets at 0, another draw of the same
 * texture close, a blurred or flattened one far, the FFT against the DFT. */
#include "testutil.h"
#include "../bench/texdist.h"

#define N 64
#define IMAGES 8

/* Periodic box blur of radius r, along x then y, in place. */
static void box_blur(float *img, int n, int r)
{
    float row[N];
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < n; k++) {
                double s = 0;
                for (int d = -r; d <= r; d++) {
                    int m = ((k + d) % n + n) % n;
                    s += pass ? img[(size_t)m * n + i] : img[(size_t)i * n + m];
                }
                row[k] = (float)(s / (2 * r + 1));
            }
            for (int k = 0; k < n; k++)
                if (pass)
                    img[(size_t)k * n + i] = row[k];
                else
                    img[(size_t)i * n + k] = row[k];
        }
}

/* A synthetic texture: white noise blurred (radius 1), with diagonal
 * stripes of period 8, around 0.5. */
static void texture(float *img, int C, uint64_t seed)
{
    wp_rng r;
    wp_rng_seed(&r, seed);
    for (int c = 0; c < C; c++) {
        float *p = img + (size_t)c * N * N;
        wp_rng_fill_gauss(&r, p, (size_t)N * N, 0.25f);
        box_blur(p, N, 1);
        for (int y = 0; y < N; y++)
            for (int x = 0; x < N; x++)
                p[y * N + x] += 0.5f + 0.05f * (float)sin(2 * M_PI * (x + y) / 8.0) + 0.02f * c;
    }
}

typedef enum { PLAIN, BLURRED, FLAT } variant;

/* The texture of seed, blurred (radius 2) or at half contrast as v says. */
static void variant_image(float *img, int C, uint64_t seed, variant v)
{
    texture(img, C, seed);
    for (int c = 0; c < C; c++)
        if (v == BLURRED)
            box_blur(img + c * N * N, N, 2);
        else if (v == FLAT)
            for (int k = 0; k < N * N; k++)
                img[c * N * N + k] = 0.5f + 0.5f * (img[c * N * N + k] - 0.5f);
}

static void make_set(td_set *s, int C, uint64_t seed0, variant v)
{
    char err[256];
    float img[3 * N * N];
    ck_assert_int_eq(td_set_init(s, N, C, 3, err), 0);
    for (int i = 0; i < IMAGES; i++) {
        variant_image(img, C, seed0 + (uint64_t)i, v);
        ck_assert_int_eq(td_set_add(s, img, err), 0);
    }
    td_set_finish(s);
}

START_TEST(fft_matches_naive_dft)
{
    double re[64], im[64], ore[64], oim[64];
    wp_rng r;
    wp_rng_seed(&r, 3);
    for (int n = 4; n <= 64; n *= 2) {
        for (int i = 0; i < n; i++) {
            re[i] = wp_rng_gauss(&r);
            im[i] = wp_rng_gauss(&r);
        }
        td_dft_naive(re, im, ore, oim, n);
        td_fft(re, im, n);
        for (int i = 0; i < n; i++) {
            ck_assert_double_eq_tol(re[i], ore[i], 1e-9);
            ck_assert_double_eq_tol(im[i], oim[i], 1e-9);
        }
    }
}
END_TEST

START_TEST(w1_of_known_samples)
{
    float a[] = {0, 1}, b[] = {1, 2}, c[] = {0, 0, 1, 1}, d[] = {0.5f};
    ck_assert_double_eq_tol(td_w1_sorted(a, 2, b, 2), 1.0, 1e-12); /* a shift by 1 */
    ck_assert_double_eq_tol(td_w1_sorted(a, 2, c, 4), 0.0, 1e-12); /* same distribution */
    ck_assert_double_eq_tol(td_w1_sorted(a, 2, d, 1), 0.5, 1e-12); /* each half moves 0.5 */
    ck_assert_double_eq_tol(td_w1_sorted(b, 2, a, 2), 1.0, 1e-12);
}
END_TEST

START_TEST(identical_sets_are_at_zero)
{
    for (int C = 1; C <= 3; C += 2) {
        td_set a, b;
        make_set(&a, C, 100, PLAIN);
        make_set(&b, C, 100, PLAIN);
        ck_assert_int_eq(a.nbands, C * (3 * 3 + 1));
        td_dist d = td_distance(&a, &b);
        ck_assert_double_eq(d.hist, 0.0);
        ck_assert_double_eq(d.spectrum, 0.0);
        td_set_free(&a);
        td_set_free(&b);
    }
}
END_TEST

START_TEST(another_draw_is_closer_than_a_blurred_one)
{
    td_set ref, other, blur;
    make_set(&ref, 3, 100, PLAIN);
    make_set(&other, 3, 200, PLAIN);
    make_set(&blur, 3, 200, BLURRED);
    td_dist d_other = td_distance(&ref, &other), d_blur = td_distance(&ref, &blur);
    fprintf(stderr, "other draw: hist %.4f spectrum %.4f; blurred: hist %.4f spectrum %.4f\n",
            d_other.hist, d_other.spectrum, d_blur.hist, d_blur.spectrum);
    ck_assert_double_lt(d_other.hist, 0.1);
    ck_assert_double_lt(d_other.spectrum, 0.1);
    ck_assert_double_gt(d_blur.hist, 4 * d_other.hist);
    ck_assert_double_gt(d_blur.spectrum, 4 * d_other.spectrum);
    /* the blur takes the fine bands' spread, not the coarse low-pass */
    ck_assert_double_gt(td_band_distance(&ref, &blur, 0), 0.3);
    ck_assert_double_lt(td_band_distance(&ref, &blur, blur.nbands - 1), 0.3);
    td_set_free(&ref);
    td_set_free(&other);
    td_set_free(&blur);
}
END_TEST

START_TEST(half_contrast_moves_by_its_known_amount)
{
    /* x -> 0.5 + (x - 0.5) / 2 quarters the power: log10(4) in every ring;
     * a detail band X (no constant in it) becomes X/2, which the quantile
     * coupling pairs with X: W1 = E|X| / 2, in units of sd(X). */
    td_set same, flat;
    make_set(&same, 1, 100, PLAIN);
    make_set(&flat, 1, 100, FLAT);
    td_dist d = td_distance(&same, &flat);
    ck_assert_double_eq_tol(d.spectrum, log10(4.0), 1e-4);
    for (int b = 0; b < 9; b++) {
        double s1 = 0, s2 = 0;
        size_t m = same.count[b];
        for (size_t i = 0; i < m; i++) {
            s1 += fabs(same.coef[b][i]);
            s2 += (double)same.coef[b][i] * same.coef[b][i];
        }
        double mean = 0;
        for (size_t i = 0; i < m; i++)
            mean += same.coef[b][i];
        mean /= m;
        double sd = sqrt(s2 / m - mean * mean);
        ck_assert_double_eq_tol(td_band_distance(&same, &flat, b), 0.5 * s1 / m / sd, 1e-4);
    }
    td_set_free(&same);
    td_set_free(&flat);
}
END_TEST

/* Each image of make_set's a set of its own. */
static void make_singles(td_set *one, int count, int C, uint64_t seed0, variant v)
{
    char err[256];
    float img[3 * N * N];
    for (int i = 0; i < count; i++) {
        ck_assert_int_eq(td_set_init(&one[i], N, C, 3, err), 0);
        variant_image(img, C, seed0 + (uint64_t)i, v);
        ck_assert_int_eq(td_set_add(&one[i], img, err), 0);
        td_set_finish(&one[i]);
    }
}

START_TEST(pooled_sets_equal_one_set)
{
    td_set whole, one[IMAGES], pool;
    char err[256];
    make_set(&whole, 3, 100, PLAIN);
    make_singles(one, IMAGES, 3, 100, PLAIN);
    ck_assert_int_eq(td_set_init(&pool, N, 3, 3, err), 0);
    for (int round = 0; round < 2; round++) { /* reset keeps nothing of the first */
        td_set_reset(&pool);
        for (int i = IMAGES - 1; i >= 0; i--) /* merged runs in any order */
            ck_assert_int_eq(td_set_add_set(&pool, &one[i], err), 0);
        td_set_finish(&pool);
        ck_assert_int_eq(pool.images, IMAGES);
        for (int b = 0; b < whole.nbands; b++) {
            ck_assert_uint_eq(pool.count[b], whole.count[b]);
            for (size_t i = 0; i < whole.count[b]; i++)
                ck_assert_float_eq(pool.coef[b][i], whole.coef[b][i]);
        }
        for (int r = 1; r <= N / 2; r++)
            ck_assert_double_eq_tol(pool.power[r], whole.power[r], 1e-12 * whole.power[r]);
    }
    ck_assert_int_eq(td_set_add_set(&pool, &one[0], err), -1); /* finished */
    td_set copy; /* a copy of the unfinished pool, finished, is the pool */
    ck_assert_int_eq(td_set_init(&copy, N, 3, 3, err), 0);
    td_set_reset(&pool);
    for (int i = 0; i < IMAGES; i++)
        ck_assert_int_eq(td_set_add_set(&pool, &one[i], err), 0);
    ck_assert_int_eq(td_set_copy(&copy, &pool, err), 0);
    td_set_finish(&copy);
    td_dist d = td_distance(&whole, &copy);
    ck_assert_double_eq_tol(d.hist, 0, 1e-12);
    ck_assert_double_eq_tol(d.spectrum, 0, 1e-9);
    td_set_free(&copy);
    td_set_free(&whole);
    td_set_free(&pool);
    for (int i = 0; i < IMAGES; i++)
        td_set_free(&one[i]);
}
END_TEST

START_TEST(pick_takes_the_same_texture_within_its_rules)
{
    /* candidates 0-3 draws of the reference's texture, 4-7 blurred, 8-11
     * at half contrast */
    enum { CANDS = 12 };
    td_set ref, cand[CANDS];
    make_set(&ref, 3, 100, PLAIN);
    make_singles(cand, 4, 3, 300, PLAIN);
    make_singles(cand + 4, 4, 3, 400, BLURRED);
    make_singles(cand + 8, 4, 3, 500, FLAT);
    int source[CANDS], x[CANDS], y[CANDS], chosen[CANDS];
    for (int i = 0; i < CANDS; i++)
        source[i] = i, x[i] = y[i] = -1;
    td_dist d;
    ck_assert_int_eq(td_pick(&ref, cand, CANDS, source, x, y, N, 4, 4, chosen, &d), 4);
    int seen[4] = {0};
    for (int i = 0; i < 4; i++) {
        ck_assert_int_lt(chosen[i], 4);
        ck_assert_int_eq(seen[chosen[i]]++, 0);
    }
    ck_assert_double_lt(d.hist, 0.15);
    /* 0-3 cut from one image: at most two of them, and 0 and 1 overlap */
    for (int i = 0; i < 4; i++)
        source[i] = 0, x[i] = 100 * i, y[i] = 0;
    x[1] = N / 2;
    ck_assert_int_eq(td_pick(&ref, cand, CANDS, source, x, y, N, 2, 4, chosen, &d), 4);
    int same = 0, has0 = 0, has1 = 0;
    for (int i = 0; i < 4; i++) {
        same += chosen[i] < 4;
        has0 |= chosen[i] == 0;
        has1 |= chosen[i] == 1;
    }
    ck_assert_int_eq(same, 2);
    ck_assert(!(has0 && has1));
    /* one source only, one per source: one pick */
    for (int i = 0; i < CANDS; i++)
        source[i] = 7;
    ck_assert_int_eq(td_pick(&ref, cand, CANDS, source, x, y, N, 1, 4, chosen, &d), 1);
    td_set_free(&ref);
    for (int i = 0; i < CANDS; i++)
        td_set_free(&cand[i]);
}
END_TEST

START_TEST(bad_arguments)
{
    td_set s;
    char err[256];
    ck_assert_int_eq(td_set_init(&s, 48, 1, 2, err), -1);
    ck_assert_ptr_nonnull(strstr(err, "power-of-two"));
    ck_assert_int_eq(td_set_init(&s, 64, 1, 7, err), -1);
    ck_assert_int_eq(td_set_init(&s, 64, 1, 0, err), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("texdist");
    TCase *tc = tcase_create("texdist");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, fft_matches_naive_dft);
    tcase_add_test(tc, w1_of_known_samples);
    tcase_add_test(tc, identical_sets_are_at_zero);
    tcase_add_test(tc, another_draw_is_closer_than_a_blurred_one);
    tcase_add_test(tc, half_contrast_moves_by_its_known_amount);
    tcase_add_test(tc, pooled_sets_equal_one_set);
    tcase_add_test(tc, pick_takes_the_same_texture_within_its_rules);
    tcase_add_test(tc, bad_arguments);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
