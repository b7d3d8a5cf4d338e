/* wp_sample.h: one stochastic ascent on one level (internal). */
#ifndef WP_SAMPLE_H
#define WP_SAMPLE_H

#include "wp_job.h"
#include "wp_rng.h"

typedef struct wp_ascent wp_ascent;
struct wp_ascent {
    wp_job *job;
    const wp_net *net;
    const float *cond; /* conditioning low-pass [cond_ch,h,w], or NULL */
    int cond_ch;
    float *y, *r, *z;  /* state, residual, noise: [ch,h,w] each */
    int ch, h, w;
    float mean0;       /* the state starts at mean0 + sigma0 z */
    int relative;      /* stop when sigma_t <= sigma_l * std(y) */
    wp_sampler_params sp;
    wp_rng rng;
    /* results */
    int iterations, stalled;
    float final_sigma; /* sigma_t at the stop, relative when `relative` */
};

wp_status wp_ascent_run(wp_ascent *a, char *err);
/* Fills the pixels of the h x w plane y whose weight wt is below 1 with the
 * minimiser of 1/2 (|grad y|^2 + |Laplacian y|^2 + mu |y - s|^2), s being
 * y on entry, the rest of y fixed (inpaint.c); work: 4 planes of h x w.
 * Returns the conjugate-gradient iterations. */
int wp_smooth_fill(float *y, const float *wt, int h, int w, float mu, float *const work[4]);
/* Edge-enhancing diffusion (Weickert) of the pixels of y [C, h, w] whose
 * weight wt is below 1, the rest fixed: `steps` explicit steps of
 * div(D grad y), D from the channels' presmoothed structure tensor, so
 * that a fill continues edges across thin holes (inpaint.c); work: 3
 * buffers of C planes and 3 of one plane (h x w); job (may be NULL):
 * checked for cancel.  Returns the steps done. */
int wp_eed_fill(float *y, int C, const float *wt, int h, int w, int steps,
                float *const work[6], const wp_job *job);
/* y [C, n] = v where wt > 0, else the wt-weighted mean of v's channel
 * (0.5 when nothing is known): the start of a fill. */
void wp_known_or_mean(float *y, const float *v, const float *wt, int C, size_t n);
/* The fast mode's steps of wp_eed_fill (the fill net's examples take as
 * many): 150 reach all but 0.01 dB of 1000 inside scribbles and random
 * pixels on 12 gray validation crops. */
#define WP_EED_STEPS 150
/* The fast upscale's deterministic refinement of the start in a->y (see
 * sample.c); probe: a buffer of y's size. */
wp_status wp_faithful_run(wp_ascent *a, float *probe, char *err);

/* Step t (1-based) of the schedule at sigma_t: the step size h_t and the
 * noise amplitude gamma_t. */
void wp_ascent_schedule(const wp_sampler_params *sp, int t, double sigma, double *h,
                        double *gamma);
/* Records sigma_t in hist[WP_STALL_WINDOW] and says whether the ascent has
 * stalled (see WP_STALL_*). */
int wp_ascent_stalled(const wp_sampler_params *sp, double *hist, int t, double sigma);

/* Zero fields of s take their values from d. */
void wp_sampler_fill(wp_sampler_params *s, const wp_sampler_params *d);
wp_status wp_sampler_check(const wp_sampler_params *s, char *err);
/* A model's own sampler defaults, from its metadata "<prefix>.sigma0",
 * "<prefix>.h0", ... (e.g. "upscale.fast", "inpaint.sharp"). */
void wp_sampler_meta(const wp_prior *p, const char *prefix, wp_sampler_params *d);

/* Called at every step of every ascent when set (dev tools such as
 * bench/upscale_tune); NULL in normal use. */
extern void (*wp_ascent_trace_hook)(const wp_ascent *a, int t, double sigma);

/* The fast upscaling mode: each level starts from the details of a
 * Catmull-Rom x2 upscale made consistent by WP_FAST_BACKPROJECT rounds of
 * back-projection (no block grid to begin with), then WP_FAST_STEPS
 * antithetic probe steps at noise levels from WP_FAST_SIGMA0 down to
 * WP_FAST_SIGMA_L (band units), the probes drawn from WP_FAST_SEED
 * whatever the user's seed (README, "The fast upscale"). */
#define WP_FAST_SIGMA0 0.1f
#define WP_FAST_SIGMA_L 0.0125f
#define WP_FAST_STEPS 4
#define WP_FAST_BACKPROJECT 4
#define WP_FAST_SEED 0x6661697468ULL
/* The fast upscale's start for a low-pass [C,h,w]: x [C,2h,2w] its smooth
 * x2 upscale (above), det [3C,h,w] that upscale's details; work: coef
 * [C,h,w] and tmp [C,h,2w].  A model's up net corrects det, the trainer's
 * up examples start from it. */
void wp_up_start(const float *low, int C, int h, int w, float *x, float *det, float *coef,
                 float *tmp);
/* The sharp mode draws a real sample (beta 0.5) with bigger first steps
 * than the reference's 0.01: 65 instead of 106 iterations at x2 on faces,
 * the same PSNR (31.6 dB). */
#define WP_SHARP_H0 0.05f
#define WP_SHARP_BETA 0.5f
/* Stagnation (the denoiser's residual floor): over the last WP_STALL_WINDOW
 * steps sigma_t fell by less than WP_STALL_FRACTION of the log-fall the
 * schedule expects, and the schedule expected a fall of more than
 * exp(WP_STALL_MIN_EXPECT). */
#define WP_STALL_WINDOW 10
#define WP_STALL_FRACTION 0.25
#define WP_STALL_MIN_EXPECT (-0.22)

/* Image quilting (quilt.c): out [C,h,w] made of overlapping patches of ex
 * [C,eh,ew], each chosen among the exemplar's positions for how well it
 * agrees with what is already placed, the overlaps cut or blended (seam);
 * periodic: the result wraps around.  wp_quilt_patch gives the patch side
 * and overlap. */
#define WP_QUILT_PATCH_MAX 24
typedef enum { WP_QUILT_CUT = 0, WP_QUILT_BLEND } wp_quilt_seam;
wp_status wp_quilt(const float *ex, int C, int eh, int ew, float *out, int h, int w, int periodic,
                   wp_quilt_seam seam, wp_rng *rng, char *err);
/* The same with every candidate scored in full by the plain per-pixel
 * sum, the test oracle of wp_quilt's pruned scoring over the gathered
 * overlap: equal output. */
wp_status wp_quilt_exhaustive(const float *ex, int C, int eh, int ew, float *out, int h, int w,
                              int periodic, wp_quilt_seam seam, wp_rng *rng, char *err);
void wp_quilt_patch(int eh, int ew, int h, int w, int *patch, int *overlap);
/* out [C, h/f, w/f]: the means of in's f x f blocks. */
void wp_block_means(const float *in, int C, int h, int w, int f, float *out);

#endif
