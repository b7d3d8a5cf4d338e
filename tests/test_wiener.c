/* test_wiener.c: the collaborative Wiener stage (engine/wiener.c): the
 * DCT against its definition, the block matching against a brute-force
 * search, the stage given the clean image as its pilot, thread counts,
 * and wp_denoise with and without it on an image of repeats. */
#include <math.h>

#include "testutil.h"
#include "wp_parallel.h"
#include "wp_rng.h"
#include "wp_wiener.h"
#include "wprior.h"

#define P WP_WIENER_PATCH

START_TEST(dct_matches_its_definition_and_inverts)
{
    wp_rng r;
    wp_rng_seed(&r, 1);
    float *x = rand_buf(&r, 10 * P, 1.0f), y[P * P], z[P * P];
    wp_dct8x8(x, 10, y); /* rows of 10: a patch inside a wider image */
    double worst = 0;
    for (int v = 0; v < P; v++)
        for (int u = 0; u < P; u++) {
            double s = 0;
            for (int i = 0; i < P; i++)
                for (int j = 0; j < P; j++)
                    s += x[i * 10 + j] * (v ? sqrt(2.0 / P) : sqrt(1.0 / P)) *
                         cos(M_PI * (2 * i + 1) * v / (2.0 * P)) *
                         (u ? sqrt(2.0 / P) : sqrt(1.0 / P)) *
                         cos(M_PI * (2 * j + 1) * u / (2.0 * P));
            worst = fmax(worst, fabs(s - y[v * P + u]));
        }
    ck_assert_msg(worst < 1e-5, "DCT off its definition by %g", worst);
    wp_idct8x8(y, z);
    worst = 0;
    for (int i = 0; i < P; i++)
        for (int j = 0; j < P; j++)
            worst = fmax(worst, fabs(z[i * P + j] - x[i * 10 + j]));
    ck_assert_msg(worst < 1e-5, "inverse DCT off by %g", worst);
    free(x);
}
END_TEST

/* The oracle: every patch of the window, its distance in double, sorted
 * by (distance, row, column). */
typedef struct {
    double d;
    int y, x;
} cand;

static int cmp_cand(const void *a, const void *b)
{
    const cand *p = a, *q = b;
    if (p->d != q->d)
        return p->d < q->d ? -1 : 1;
    return p->y != q->y ? p->y - q->y : p->x - q->x;
}

START_TEST(matching_equals_brute_force)
{
    int H = 61, W = 53;
    wp_rng r;
    wp_rng_seed(&r, 2);
    /* repeats of a random 16x16 tile plus weak noise, and strong noise on
     * the right: groups of all sizes, no ties */
    float *tile = rand_buf(&r, 16 * 16, 0.05f), *noise = rand_buf(&r, (size_t)H * W, 0.004f);
    float *g = malloc(sizeof(float) * H * W);
    for (int i = 0; i < H; i++)
        for (int j = 0; j < W; j++)
            g[i * W + j] = 0.5f + tile[(i % 16) * 16 + j % 16] * (j < 30 ? 1.0f : 0.3f) +
                           noise[i * W + j] * (j < 40 ? 1.0f : 50.0f);
    wp_wiener_params wp = wp_wiener_defaults;
    wp_match *m = malloc(sizeof(wp_match) * wp.search * wp.search);
    cand *c = malloc(sizeof(cand) * wp.search * wp.search);
    int refs[][2] = {{0, 0}, {30, 20}, {H - P, W - P}, {12, W - P}, {45, 3}};
    int sizes = 0;
    for (size_t t = 0; t < sizeof refs / sizeof refs[0]; t++) {
        int ry = refs[t][0], rx = refs[t][1], rad = wp.search / 2, n = 0;
        for (int y = ry - rad; y <= ry + rad; y++)
            for (int x = rx - rad; x <= rx + rad; x++) {
                if (y < 0 || x < 0 || y > H - P || x > W - P)
                    continue;
                double d = 0;
                for (int i = 0; i < P; i++)
                    for (int j = 0; j < P; j++) {
                        double e = (double)g[(ry + i) * W + rx + j] - g[(y + i) * W + x + j];
                        d += e * e;
                    }
                d /= P * P;
                if (d < wp.tau || (y == ry && x == rx))
                    c[n++] = (cand){d, y, x};
            }
        qsort(c, n, sizeof *c, cmp_cand);
        int want = 1;
        while (2 * want <= n && 2 * want <= wp.group)
            want *= 2;
        int got = wp_wiener_match(g, H, W, ry, rx, &wp, m);
        ck_assert_int_eq(got, want);
        for (int k = 0; k < got; k++) {
            ck_assert_msg(m[k].y == c[k].y && m[k].x == c[k].x,
                          "ref (%d,%d) match %d: (%d,%d), the oracle (%d,%d)", ry, rx, k, m[k].y,
                          m[k].x, c[k].y, c[k].x);
            ck_assert(fabs(m[k].d - c[k].d) < 1e-6);
        }
        sizes |= got;
    }
    ck_assert_msg(sizes & 1 && sizes & ~1, "groups of one and of more: %x", sizes);
    free(tile), free(noise), free(g), free(m), free(c);
}
END_TEST

/* A textured image of repeats: stripes above, a smooth random 16x16 tile
 * repeated below. */
static float *repeats(int C, int H, int W, uint64_t seed)
{
    wp_rng r;
    wp_rng_seed(&r, seed);
    float *raw = rand_buf(&r, 16 * 16, 0.5f), tile[16 * 16];
    for (int i = 0; i < 16; i++) /* a 3x3 box, wrapped: blobs, not pixel noise */
        for (int j = 0; j < 16; j++) {
            float s = 0;
            for (int di = -1; di <= 1; di++)
                for (int dj = -1; dj <= 1; dj++)
                    s += raw[((i + di + 16) % 16) * 16 + (j + dj + 16) % 16];
            tile[i * 16 + j] = s / 9;
        }
    float *x = malloc(sizeof(float) * C * H * W);
    for (int c = 0; c < C; c++)
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++)
                x[((size_t)c * H + i) * W + j] =
                    0.45f + 0.05f * c +
                    (i < H / 2 ? 0.15f * sinf(0.7f * j + 0.3f * i) : tile[(i % 16) * 16 + (j % 16)]);
    free(raw);
    return x;
}

START_TEST(clean_pilot_nearly_recovers_the_image_whatever_the_threads)
{
    int C = _i ? 3 : 1, H = 96, W = 80;
    size_t n = (size_t)C * H * W;
    float sigma = 25.0f / 255;
    float *x = repeats(C, H, W, 3), *y = malloc(sizeof(float) * n);
    wp_rng r;
    wp_rng_seed(&r, 4);
    float *z = rand_buf(&r, n, sigma);
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] + z[i];
    float *a = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n);
    float *work = malloc(sizeof(float) * (C + 2) * H * W);
    memcpy(a, x, sizeof(float) * n), memcpy(b, x, sizeof(float) * n);
    wp_set_threads(1);
    ck_assert_int_eq(wp_wiener_stage(y, a, C, H, W, sigma, 0, &wp_wiener_defaults, work, NULL), 0);
    wp_set_threads(2);
    ck_assert_int_eq(wp_wiener_stage(y, b, C, H, W, sigma, 0, &wp_wiener_defaults, work, NULL), 0);
    ck_assert_msg(max_abs_diff(a, b, n) == 0, "threads changed the result by %g",
                  max_abs_diff(a, b, n));
    /* the oracle Wiener filter of a clean pilot, shared with the pilot
     * itself: far above the noisy image */
    double pn = psnr_of(y, x, NULL, n, 0), pa = psnr_of(a, x, NULL, n, 0);
    ck_assert_msg(pa > pn + 10, "%d channels: noisy %.2f dB, Wiener of the clean pilot %.2f", C,
                  pn, pa);
    ck_assert(isfinite(pa));
    free(x), free(y), free(z), free(a), free(b), free(work);
}
END_TEST

/* The band caches against the oracle (each group's patches transformed
 * and put back on their own): the same sums in another order.  Odd sizes,
 * the shipped knobs and larger groups in a wider window. */
START_TEST(band_caches_equal_the_oracle)
{
    int C = _i & 1 ? 3 : 1, H = 101, W = 77;
    wp_wiener_params wp = wp_wiener_defaults;
    if (_i & 2)
        wp.search = 31, wp.group = 256, wp.step = 5;
    size_t n = (size_t)C * H * W;
    float sigma = 20.0f / 255;
    float *x = repeats(C, H, W, 7), *y = malloc(sizeof(float) * n);
    wp_rng r;
    wp_rng_seed(&r, 8);
    float *z = rand_buf(&r, n, sigma), *pz = rand_buf(&r, n, 0.02f);
    float *a = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] + z[i], a[i] = b[i] = x[i] + pz[i]; /* a pilot near the truth */
    float *work = malloc(sizeof(float) * (C + 2) * H * W);
    ck_assert_int_eq(wp_wiener_stage(y, a, C, H, W, sigma, 0, &wp, work, NULL), 0);
    ck_assert_int_eq(wp_wiener_stage_oracle(y, b, C, H, W, sigma, 0, &wp, work), 0);
    double d = max_abs_diff(a, b, n), moved = max_abs_diff(b, x, n);
    ck_assert_msg(d < 2e-5, "%d channels, group %d: %g from the oracle", C, wp.group, d);
    ck_assert_msg(moved > 0.01, "the stage changed nothing: %g", moved);
    free(x), free(y), free(z), free(pz), free(a), free(b), free(work);
}
END_TEST

static wp_prior *shipped(const char *name)
{
    char path[1200], rel[256];
    snprintf(rel, sizeof rel, "models/%s.safetensors", name);
    source_file(path, sizeof path, rel);
    wp_prior *p = NULL;
    char err[WP_ERRLEN];
    ck_assert_msg(wp_prior_load(path, &p, err) == WP_OK, "%s", err);
    return p;
}

/* The stage in wp_denoise: on a noisy image of repeats the result is
 * better with it than without (what a local net cannot see: the pattern
 * repeats beyond its view), and off is off. */
START_TEST(denoise_gains_from_the_stage_on_repeats)
{
    int C = _i ? 3 : 1, H = 128, W = 128;
    size_t n = (size_t)C * H * W;
    wp_prior *p = shipped(C == 3 ? "photo-color" : "photo-gray");
    float *x = repeats(C, H, W, 5), *y = malloc(sizeof(float) * n);
    wp_rng r;
    wp_rng_seed(&r, 6);
    float *z = rand_buf(&r, n, 25.0f / 255);
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] + z[i];
    float *on = malloc(sizeof(float) * n), *off = malloc(sizeof(float) * n);
    char err[WP_ERRLEN];
    wp_denoise_options d = {.strength = 1};
    ck_assert_msg(wp_denoise(p, y, on, C, H, W, &d, NULL, NULL, err) == WP_OK, "%s", err);
    d.wiener = WP_WIENER_OFF;
    ck_assert_msg(wp_denoise(p, y, off, C, H, W, &d, NULL, NULL, err) == WP_OK, "%s", err);
    double pon = psnr_of(on, x, NULL, n, 0), poff = psnr_of(off, x, NULL, n, 0);
    ck_assert_msg(pon > poff + 0.3, "%d channels: %.2f dB with the stage, %.2f without", C, pon,
                  poff);
    /* fast leaves it out unless asked */
    d.fast = 1, d.wiener = WP_WIENER_AUTO;
    float *f1 = malloc(sizeof(float) * n), *f2 = malloc(sizeof(float) * n);
    ck_assert_int_eq(wp_denoise(p, y, f1, C, H, W, &d, NULL, NULL, err), WP_OK);
    d.wiener = WP_WIENER_OFF;
    ck_assert_int_eq(wp_denoise(p, y, f2, C, H, W, &d, NULL, NULL, err), WP_OK);
    ck_assert(max_abs_diff(f1, f2, n) == 0);
    d.wiener = WP_WIENER_ON;
    ck_assert_int_eq(wp_denoise(p, y, f2, C, H, W, &d, NULL, NULL, err), WP_OK);
    ck_assert(max_abs_diff(f1, f2, n) > 0.01);
    wp_prior_free(p);
    free(x), free(y), free(z), free(on), free(off), free(f1), free(f2);
}
END_TEST

START_TEST(knobs_follow_the_tables)
{
    /* held at the ends, between the points in between, gray and colour */
    for (int C = 1; C <= 3; C += 2) {
        wp_wiener_knobs lo = wp_wiener_knobs_at(1.0f / 255, C, 0),
                        hi = wp_wiener_knobs_at(1, C, 1);
        ck_assert(lo.share > 0 && lo.share <= 1 && lo.factor >= 1.0f && lo.factor < 1.2f);
        ck_assert(C == 3 || lo.factor == 1.0f); /* gray: no factor at low noise */
        ck_assert(hi.share > 0 && hi.share <= 1 && hi.factor >= 1.0f);
        wp_wiener_knobs a = wp_wiener_knobs_at(15.0f / 255, C, 1),
                        b = wp_wiener_knobs_at(25.0f / 255, C, 1),
                        m = wp_wiener_knobs_at(20.0f / 255, C, 1);
        ck_assert(fabsf(m.factor - (a.factor + b.factor) / 2) < 1e-4);
        ck_assert(fabsf(m.share - (a.share + b.share) / 2) < 1e-4);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("wiener");
    TCase *tc = tcase_create("wiener");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, dct_matches_its_definition_and_inverts);
    tcase_add_test(tc, matching_equals_brute_force);
    tcase_add_loop_test(tc, clean_pilot_nearly_recovers_the_image_whatever_the_threads, 0, 2);
    tcase_add_loop_test(tc, band_caches_equal_the_oracle, 0, 4);
    tcase_add_loop_test(tc, denoise_gains_from_the_stage_on_repeats, 0, 2);
    tcase_add_test(tc, knobs_follow_the_tables);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
