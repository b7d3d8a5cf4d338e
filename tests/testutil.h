/* testutil.h: helpers shared by the unit tests. */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wp_net.h"
#include "wp_rng.h"
#include "wprior.h"

/* The paper's reference material, or NULL (the test is then skipped). */
static inline const char *ref_dir(void)
{
    const char *d = getenv("WPRIOR_REFERENCE");
    char probe[1200];
    if (!d || !*d)
        return NULL;
    snprintf(probe, sizeof probe, "%s/README.md", d);
    FILE *f = fopen(probe, "r");
    if (!f)
        return NULL;
    fclose(f);
    return d;
}

/* A file of the source tree (a shipped model, tests/data/...): the tests
 * run from the build folder, meson names the source root. */
static inline const char *source_file(char *buf, size_t n, const char *rel)
{
    const char *d = getenv("WPRIOR_SOURCE_ROOT");
    ck_assert_msg(d && *d, "WPRIOR_SOURCE_ROOT is not set (run the tests with meson test)");
    snprintf(buf, n, "%s/%s", d, rel);
    return buf;
}

static inline double max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= m)) /* NaN counts as a difference */
            m = isnan(d) ? INFINITY : d;
    }
    return m;
}

/* PSNR (peak 1) of a against b over the values where m is nonzero (all of
 * the n with m NULL); as8 rounds a to 8 bits first, as a saved image would
 * be. */
static inline double psnr_of(const float *a, const float *b, const unsigned char *m, size_t n,
                             int as8)
{
    double se = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && !m[i])
            continue;
        double x = as8 ? roundf(fminf(fmaxf(a[i], 0), 1) * 255) / 255 : a[i], d = x - b[i];
        se += d * d, k++;
    }
    return 10 * log10((double)k / se);
}

static inline float *rand_buf(wp_rng *r, size_t n, float sd)
{
    float *x = malloc(sizeof(float) * (n ? n : 1));
    wp_rng_fill_gauss(r, x, n, sd);
    return x;
}

/* n becomes a random net of 4 layers of 3x3, 8 channels wide, in -> out. */
static inline void small_random_net(wp_net *n, int in, int out, uint64_t seed, float sd)
{
    char err[WP_ERRLEN];
    uint8_t k[4] = {3, 3, 3, 3};
    ck_assert_msg(wp_net_init(n, in, out, 8, 4, k, err) == WP_OK, "%s", err);
    wp_rng r;
    wp_rng_seed(&r, seed);
    wp_rng_fill_gauss(&r, n->params, n->nparams, sd);
}

/* r[i] becomes start[i] - r[i] (a correction r applied, as the up net's);
 * returns the largest |r[i]| before. */
static inline double apply_correction(const float *start, float *r, size_t n)
{
    double most = 0;
    for (size_t i = 0; i < n; i++) {
        most = fmax(most, fabs(r[i]));
        r[i] = start[i] - r[i];
    }
    return most;
}

/* p saved to a file and loaded back (the file removed). */
static inline wp_prior *reloaded(const wp_prior *p)
{
    char err[WP_ERRLEN], path[] = "/tmp/wprior-reload-XXXXXX";
    wp_prior *q = NULL;
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    close(fd);
    ck_assert_msg(wp_prior_save(p, path, err) == WP_OK, "%s", err);
    ck_assert_msg(wp_prior_load(path, &q, err) == WP_OK, "%s", err);
    remove(path);
    return q;
}

/* Runs a suite, returns the process exit code. */
static inline int run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

#endif
