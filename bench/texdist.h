/* texdist.h: how far a set of texture images is from a reference set, in
 * two statistics that a texture's look depends on:
 *  - each Haar band's coefficient distribution (every level's three detail
 *    bands and the coarsest low-pass, per channel), pooled over the set:
 *    the Wasserstein-1 distance between the two sets' distributions, in
 *    units of the reference band's standard deviation, averaged over bands;
 *  - the radial power spectrum (gray, mean removed, Hann window, power
 *    averaged over the set in rings of integer radius 1..N/2): the RMS over
 *    rings of the difference of log10 powers (1 = a factor of 10).
 * Identical sets are at 0 in both. Images are square, N a power of two. */
#ifndef TEXDIST_H
#define TEXDIST_H

#include <stddef.h>

typedef struct {
    int n, channels, levels; /* image side, channels, Haar levels J */
    int nbands;              /* channels * (3 J + 1) */
    int images;              /* images added */
    float **coef;            /* per band: pooled coefficients (sorted by td_set_finish) */
    size_t *count, *cap;
    double *power;           /* [n/2 + 1]: summed ring power, then the mean */
    double *ring_size;       /* frequencies per ring */
    double *work;            /* FFT scratch: 2 n n + 2 n (while adding images) */
    float *pyr;              /* pyramid scratch: 2 low-pass planes and details (same) */
    float *merge;            /* td_set_add_set's merge scratch */
    size_t merge_cap;
    int finished;
    int sorted;              /* coef holds sorted runs merged (only sets added) */
} td_set;

typedef struct {
    double hist;     /* mean normalised W1 over bands */
    double spectrum; /* RMS log10 power difference over rings */
} td_dist;

/* 0, or -1 with a message in err (size 256). levels >= 1, n >> levels >= 1. */
int td_set_init(td_set *s, int n, int channels, int levels, char *err);
/* img: [channels, n, n] planar, values in [0,1]. */
int td_set_add(td_set *s, const float *img, char *err);
/* Empties a set for reuse (its buffers kept). */
void td_set_reset(td_set *s);
/* Adds a finished set's images (same n, channels and levels) to s, not
 * finished: the pooled coefficients and the image-weighted spectrum. */
int td_set_add_set(td_set *s, const td_set *part, char *err);
/* dst (initialised with src's n, channels and levels) becomes a copy of src. */
int td_set_copy(td_set *dst, const td_set *src, char *err);
/* Sorts the coefficients and averages the spectrum; call before td_distance.
 * Releases the scratch of td_set_add: many finished sets fit in memory. */
void td_set_finish(td_set *s);
/* Both finished, with the same n, channels and levels. */
td_dist td_distance(const td_set *ref, const td_set *x);
/* The normalised W1 of band b alone (0 <= b < nbands). */
double td_band_distance(const td_set *ref, const td_set *x, int b);
void td_set_free(td_set *s);

/* Picks k of the finished sets cand[0..ncand) (one crop each) whose pooled
 * set is closest to ref (hist + spectrum): one at a time, then swapped one
 * for another while that brings the set closer. source[i] numbers the image
 * candidate i was cut from, x[i], y[i] its corner there (-1: unknown):
 * at most per_source of one source, and two crops of crop x crop from one
 * source may not overlap. Writes chosen[0..) and dist (the distance of the
 * picked set); returns how many were picked (< k where the rules leave too
 * few), or -1 out of memory. */
int td_pick(const td_set *ref, const td_set *cand, int ncand, const int *source, const int *x,
            const int *y, int crop, int per_source, int k, int *chosen, td_dist *dist);

/* Exposed for the tests. */
/* W1 between two sorted samples (the integral of |F_a - F_b|). */
double td_w1_sorted(const float *a, size_t na, const float *b, size_t nb);
/* In-place complex FFT of length n (a power of two), re/im separate. */
void td_fft(double *re, double *im, int n);
/* The naive DFT, the FFT's oracle: out = sum_k in_k exp(-2 pi i jk/n). */
void td_dft_naive(const double *re, const double *im, double *ore, double *oim, int n);

#endif
