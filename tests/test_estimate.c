/* test_estimate.c: the dialogs' time estimate (ui/estimate.c) replayed on
 * synthetic timing traces of preview jobs. */
#include <check.h>
#include <math.h>

#include "estimate.h"

#define PREVIEW_PX 65536.0 /* a 256 x 256 preview */
#define LAYER_PX 1e6       /* a 1000 x 1000 layer */
#define TICK 0.05          /* the dialog polls every 50 ms */

/* One preview job as the dialog sees it: cold seconds before the first of
 * four tiles, each taking tile seconds; polled every TICK. */
static void replay(wp_estimate *e, double cold, double tile)
{
    double end = cold + 4 * tile;
    wp_estimate_begin(e, PREVIEW_PX);
    for (double t = TICK; t < end - 1e-9; t += TICK) {
        double f = t < cold + tile ? 0 : floor((t - cold) / tile + 1e-9) / 4;
        wp_estimate_observe(e, t, f, 0);
    }
    wp_estimate_observe(e, end, 1, 1);
}

START_TEST(steady_sequence)
{
    wp_estimate e;
    wp_estimate_reset(&e);
    ck_assert_double_eq(wp_estimate_seconds(&e, LAYER_PX), -1); /* estimating */
    double fast = 0.75 * PREVIEW_PX / 0.3;                      /* px/s after the first tile */
    /* The first preview pays 1.9 s for its scratch memory: ignored.  The
     * old estimate (run time x area ratio) said 35 s here, then 6 s. */
    replay(&e, 1.9, 0.1);
    ck_assert_double_eq_tol(wp_estimate_seconds(&e, LAYER_PX), LAYER_PX / fast, 1e-6);
    replay(&e, 0, 0.1); /* warm: the same rate */
    ck_assert_double_eq_tol(wp_estimate_seconds(&e, LAYER_PX), 6.1035, 1e-3);
    /* A busy machine (twice slower): the geometric mean, shown (more than 25% up). */
    replay(&e, 0, 0.2);
    ck_assert_double_eq_tol(wp_estimate_seconds(&e, LAYER_PX), LAYER_PX / sqrt(fast * fast / 2), 1e-6);
    double shown = LAYER_PX / sqrt(fast * fast / 2); /* 8.63 s */
    /* Fast again: 7.26 s is within 25%: the estimate stays. */
    replay(&e, 0, 0.1);
    ck_assert_double_eq_tol(wp_estimate_seconds(&e, LAYER_PX), shown, 1e-6);
    /* Once more: 6.66 s, below 8.63 / 1.25: shown, a fall by a factor 1.3. */
    replay(&e, 0, 0.1);
    double r4 = sqrt(sqrt(fast * fast / 2) * fast), r5 = sqrt(r4 * fast);
    ck_assert_double_eq_tol(wp_estimate_seconds(&e, LAYER_PX), LAYER_PX / r5, 1e-6);
}
END_TEST

START_TEST(never_falls_fast)
{
    wp_estimate e;
    wp_estimate_reset(&e);
    replay(&e, 0, 1.0); /* slow: 4 s a preview */
    double prev = wp_estimate_seconds(&e, LAYER_PX);
    for (int i = 0; i < 6; i++) { /* then ten times faster, every time */
        replay(&e, 0, 0.1);
        double s = wp_estimate_seconds(&e, LAYER_PX);
        ck_assert(s <= prev && s >= prev / 1.5 - 1e-9);
        ck_assert_double_eq(wp_estimate_seconds(&e, LAYER_PX), s); /* asked again (each tick) */
        prev = s;
    }
    ck_assert_double_eq_tol(prev, 6.1035 * pow(10, pow(0.5, 6)), 0.05); /* close to the new rate */
}
END_TEST

START_TEST(cold_single_tile)
{
    /* A tiny preview done in one step: the whole run counts until a
     * measured tile replaces it. */
    wp_estimate e;
    wp_estimate_reset(&e);
    wp_estimate_begin(&e, PREVIEW_PX);
    wp_estimate_observe(&e, 0.05, 0, 0);
    ck_assert_double_eq(wp_estimate_seconds(&e, LAYER_PX), -1);
    wp_estimate_observe(&e, 2.0, 1, 1);
    ck_assert_double_eq_tol(wp_estimate_seconds(&e, LAYER_PX), 2.0 * LAYER_PX / PREVIEW_PX, 1e-6);
    replay(&e, 0, 0.1); /* a measured rate replaces it (a fall limited to 1.5x) */
    ck_assert_double_eq_tol(wp_estimate_seconds(&e, LAYER_PX), 2.0 * LAYER_PX / PREVIEW_PX / 1.5, 1e-6);
    wp_estimate_begin(&e, PREVIEW_PX); /* another whole-run time is ignored now */
    wp_estimate_observe(&e, 5.0, 1, 1);
    ck_assert_double_eq_tol(e.rate, 0.75 * PREVIEW_PX / 0.3, 1e-6);
    wp_estimate_reset(&e);
    ck_assert_double_eq(wp_estimate_seconds(&e, LAYER_PX), -1);
}
END_TEST

START_TEST(long_job_estimates_early)
{
    /* A preview of 10 s: a rate once 0.5 s and 10% of it ran past the first tile. */
    wp_estimate e;
    wp_estimate_reset(&e);
    wp_estimate_begin(&e, PREVIEW_PX);
    wp_estimate_observe(&e, 1.0, 0.1, 0);
    wp_estimate_observe(&e, 1.4, 0.15, 0);
    ck_assert_double_eq(wp_estimate_seconds(&e, LAYER_PX), -1);
    wp_estimate_observe(&e, 2.0, 0.2, 0);
    ck_assert_double_eq_tol(wp_estimate_seconds(&e, LAYER_PX), LAYER_PX / (0.1 * PREVIEW_PX), 1e-6);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("estimate");
    TCase *tc = tcase_create("traces");
    tcase_add_test(tc, steady_sequence);
    tcase_add_test(tc, never_falls_fast);
    tcase_add_test(tc, cold_single_tile);
    tcase_add_test(tc, long_job_estimates_early);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
