/* wp_rng.h: a seeded, reproducible random generator (xoshiro256**). */
#ifndef WP_RNG_H
#define WP_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t s[4];
    /* Box-Muller yields pairs: the spare one is kept so that a stream of
     * Gaussians does not depend on how it is chunked. */
    double spare;
    int has_spare;
} wp_rng;

void wp_rng_seed(wp_rng *r, uint64_t seed);
uint64_t wp_rng_u64(wp_rng *r);
double wp_rng_uniform(wp_rng *r);        /* [0,1) */
double wp_rng_gauss(wp_rng *r);          /* N(0,1) */
uint32_t wp_rng_below(wp_rng *r, uint32_t n); /* [0,n), unbiased */
void wp_rng_fill_gauss(wp_rng *r, float *x, size_t n, float sd);
/* An independent stream keyed by key, derived from r without advancing it. */
void wp_rng_split(const wp_rng *r, uint64_t key, wp_rng *child);

#endif
