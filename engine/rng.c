/* rng.c: xoshiro256** seeded through splitmix64, Box-Muller Gaussians. */
#include "wp_rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void wp_rng_seed(wp_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    r->spare = 0.0;
    r->has_spare = 0;
}

uint64_t wp_rng_u64(wp_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double wp_rng_uniform(wp_rng *r)
{
    return (double)(wp_rng_u64(r) >> 11) * 0x1.0p-53;
}

double wp_rng_gauss(wp_rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u1, u2;
    do
        u1 = wp_rng_uniform(r);
    while (u1 <= 0.0);
    u2 = wp_rng_uniform(r);
    double rad = sqrt(-2.0 * log(u1));
    double th = 6.283185307179586 * u2;
    r->spare = rad * sin(th);
    r->has_spare = 1;
    return rad * cos(th);
}

uint32_t wp_rng_below(wp_rng *r, uint32_t n)
{
    if (n <= 1)
        return 0;
    /* Rejection keeps the draw unbiased for any n. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do
        v = wp_rng_u64(r);
    while (v >= limit);
    return (uint32_t)(v % n);
}

void wp_rng_fill_gauss(wp_rng *r, float *x, size_t n, float sd)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)wp_rng_gauss(r) * sd;
}

void wp_rng_split(const wp_rng *r, uint64_t key, wp_rng *child)
{
    /* Does not advance r: the child depends only on r's state and the key,
     * so tiles get the same streams whatever order they run in. */
    uint64_t x = r->s[0] ^ rotl(r->s[1], 13) ^ rotl(r->s[2], 29) ^ rotl(r->s[3], 47);
    x ^= splitmix64(&key);
    wp_rng_seed(child, splitmix64(&x));
}
