/* wp_util.h: error messages, checked allocation, small helpers. */
#ifndef WP_UTIL_H
#define WP_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include "wprior.h"

/* Formats a message into err (WP_ERRLEN bytes) and returns status. */
wp_status wp_fail(char *err, wp_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* a*b (and a*b*c...) with overflow detection: returns 0 on overflow. */
int wp_mul_ok(size_t a, size_t b, size_t *out);

/* 64-byte aligned allocation (freed with free()); NULL on failure. */
void *wp_alloc(size_t bytes);

double wp_now(void); /* monotonic seconds */
/* The median of v[0..n-1] (n > 0, no NaN) in linear time; v is reordered. */
double wp_median(float *v, size_t n);
/* The same by sorting v in place: the test oracle of wp_median. */
double wp_median_sort(float *v, size_t n);
/* A whole decimal number ("0.1", "-2e3"), whatever the locale: 0 / -1. */
int wp_parse_double(const char *s, double *out);

/* An orthonormal opponent colour basis (luma, red-blue, green-magenta):
 * white Gaussian noise in RGB stays white with the same sigma in it, and
 * most of a photograph's structure moves into the first channel, so a gray
 * prior denoises an RGB image better there than channel by channel.  The
 * chroma channels are lifted by WP_OPPONENT_LIFT into the range of the
 * gray images the nets learnt (around 0, they read like nothing they saw). */
#define WP_OPPONENT_LIFT 0.5f
/* The basis: row k is opponent channel k's weights of R, G and B. */
const float (*wp_opponent_basis(void))[3];
/* dst [n] = opponent channel k (0..2) of the planar RGB image rgb [3,n]. */
void wp_opponent_channel(const float *rgb, size_t n, int k, float *dst);
/* x [3,n]: opponent channels back to RGB, in place. */
void wp_opponent_to_rgb(float *x, size_t n);

/* The square's symmetries, for the mean of passes over an image turned and
 * mirrored.  Symmetry k (0..7): bit 0 flips columns, bit 1 rows, bit 2
 * transposes (the image [H,W] becomes [W,H]).  Pass e's symmetry, the
 * rotations first: */
int wp_dihedral_pass(int e);
/* y [Hk+dy, Wk+dx] = x [H,W] seen through symmetry k and moved down/right
 * by dy, dx <= 1 pixel, the new first row/column mirroring the next one
 * (moved, the Haar pyramid pairs other pixels: its passes then make
 * different errors, as in cycle spinning, where the nets themselves only
 * move). */
void wp_dihedral_shift(const float *x, int H, int W, int k, int dy, int dx, float *y);
/* x [H,W] += y [Hk+dy, Wk+dx] seen back through the shift and symmetry k
 * (the inverse of wp_dihedral_shift). */
void wp_dihedral_shift_add_back(const float *y, int H, int W, int k, int dy, int dx, float *x);

#endif
