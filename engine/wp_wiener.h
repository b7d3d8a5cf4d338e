/* wp_wiener.h: the collaborative Wiener stage of BM3D (Dabov, Foi,
 * Katkovnik, Egiazarian 2007) with the network's result as its pilot
 * (internal).  Patches of the pilot that look alike are grouped; each
 * group of the noisy image is shrunk in a 3-D transform (2-D DCT of the
 * 8x8 patches, Walsh-Hadamard across them) by the Wiener gains the
 * pilot's group gives, and the estimates are averaged back.  A network
 * sees a window; the groups bring in the repeats of a pattern from
 * anywhere in the search window, which a local net cannot use. */
#ifndef WP_WIENER_H
#define WP_WIENER_H

#include <stddef.h>

#include "wp_job.h"

#define WP_WIENER_PATCH 8 /* patch side (the DCT's size) */

/* The stage's knobs, declared once (wp_wiener_defaults). */
typedef struct {
    int search;  /* side of the square window searched for a reference patch's group */
    int step;    /* between reference patches, rows and columns */
    int group;   /* most patches in a group (a power of 2) */
    float tau;   /* most mean squared difference (pixel units, [0,1]) between
                    pilot patches of a group */
} wp_wiener_params;

extern const wp_wiener_params wp_wiener_defaults;

typedef struct {
    float d;
    int y, x;
} wp_match;

/* The group of the reference patch at (ry, rx) of the guide [H, W]: the
 * patches within the window whose mean squared difference to it is below
 * tau, closest first (ties in raster order), cut to the largest power of 2
 * not above the group size.  m holds search^2 entries.  Returns the count
 * (at least 1: the reference itself). */
int wp_wiener_match(const float *guide, int H, int W, int ry, int rx, const wp_wiener_params *wp,
                    wp_match *m);

/* The orthonormal 8x8 DCT-II of the patch at x (row stride `stride`) into
 * out [64], and its inverse (in [64] -> out [64]). */
void wp_dct8x8(const float *x, ptrdiff_t stride, float *out);
void wp_idct8x8(const float *in, float *out);

/* At an estimated noise sigma (pixel units) of a gray (C = 1) or colour
 * (C = 3) input, clipped or not: the Wiener estimate's share in the result
 * (the rest is the pilot's) and the factor on sigma for its gains. */
typedef struct {
    float share, factor;
} wp_wiener_knobs;
wp_wiener_knobs wp_wiener_knobs_at(float sigma, int C, int clipped);

/* res [C, H, W] := (1 - share) res + share Wiener(noisy, pilot = res)
 * (wp_wiener_knobs_at), C = 1 or 3 (colour: groups from the pilot's luma, each channel shrunk in
 * the orthonormal opponent basis).  work: (C + 2) H W floats.  job (may be
 * NULL): progress (wp_wiener_work units) and cancel.  Returns 0, or -1 when
 * cancelled. */
int wp_wiener_stage(const float *noisy, float *res, int C, int H, int W, float sigma, int clipped,
                    const wp_wiener_params *wp, float *work, wp_job *job);
/* The same stage with each group's patches transformed and put back on
 * their own, not once a band: the test oracle of wp_wiener_stage. */
int wp_wiener_stage_oracle(const float *noisy, float *res, int C, int H, int W, float sigma,
                           int clipped, const wp_wiener_params *wp, float *work);
/* The stage's work in job units (about its multiply-adds). */
double wp_wiener_work(int C, int H, int W, const wp_wiener_params *wp);

#endif
