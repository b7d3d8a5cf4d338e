/* wprior_train.h: training multi-scale priors (public API of libwprior).
 *
 * Every network trains on its own level, as in Kadkhodaie et al.: the
 * low-pass net denoises the noisy coarsest low-pass of random crops; the
 * conditional net of level j denoises noisy level-j details given the clean
 * low-pass of that level; a flat net denoises pixels.  The target is the
 * noise, the loss its mean squared error, the optimiser Adam.
 *
 * Typical use:
 *     wp_dataset *train, *val;          // filled with wp_dataset_add
 *     wp_train_options o;
 *     wp_train_defaults(&o, "small", 1);
 *     wp_trainer *t;
 *     wp_trainer_create(&o, NULL, &t, err);   // or wp_trainer_resume(ckpt, &t, err)
 *     wp_trainer_set_data(t, train, val, err);
 *     while (!wp_trainer_done(t)) {
 *         wp_trainer_run(t, 500, &stop_flag, err);
 *         wp_trainer_save_checkpoint(t, "run.ckpt", err);
 *     }
 *     wp_trainer_export(t, "model.safetensors", err);
 *
 * Runs are deterministic for a seed (and an OpenBLAS thread count): a run
 * resumed from a checkpoint gives the same losses as one never stopped. */
#ifndef WPRIOR_TRAIN_H
#define WPRIOR_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "wprior.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- training images: 8-bit planar, kept in RAM ---- */

typedef struct wp_dataset wp_dataset;

/* channels: 1 (gray) or 3 (RGB); every image added must have that many. */
WP_API wp_status wp_dataset_create(wp_dataset **out, int channels, char *err);
/* Copies an image [channels, height, width] of 8-bit values. */
WP_API wp_status wp_dataset_add(wp_dataset *d, const uint8_t *pixels, int height, int width,
                                char *err);
WP_API int wp_dataset_count(const wp_dataset *d);
WP_API int wp_dataset_channels(const wp_dataset *d);
WP_API size_t wp_dataset_pixels(const wp_dataset *d); /* summed height*width */
/* The image i: its size, and a pointer to its planes (valid while d is). */
WP_API const uint8_t *wp_dataset_image(const wp_dataset *d, int i, int *height, int *width);
WP_API void wp_dataset_free(wp_dataset *d);
/* FNV-1a over every image's size and bytes: tells a resumed run whether
 * its data changed. */
WP_API uint64_t wp_dataset_hash(const wp_dataset *d);

/* ---- options ---- */

typedef enum {
    WP_NOISE_UNIFORM = 0,   /* sigma uniform in [min, max] */
    WP_NOISE_QUADRATIC = 1, /* sigma = min + (max-min) u^2: density ~ 1/sqrt(sigma), the
                               reference's choice, more weight on low noise */
} wp_noise_dist;

typedef enum {
    WP_LR_COSINE = 0, /* lr * (0.01 + 0.99 (1 + cos(pi t/T)) / 2) */
    WP_LR_STEP = 1,   /* halved every lr_halve_every steps (the reference) */
    WP_LR_CONST = 2,
} wp_lr_schedule;

typedef enum {
    WP_WEIGHT_IMAGE = 0, /* every image equally likely */
    WP_WEIGHT_AREA = 1,  /* proportional to its pixel count */
} wp_image_weight;

/* One network's shape.  rf: receptive field (the reference's BF-CNN-RF
 * rule picks which layers are 3x3, see wp_rf_kernels); 0: every layer 3x3. */
typedef struct {
    int width, layers, rf;
} wp_arch;

typedef struct {
    int channels;     /* 1 or 3 */
    int levels;       /* J (multi-scale) */
    int flat;         /* 1: one pixel-domain network with the conditional nets' shape */
    wp_arch low;      /* the low-pass network */
    wp_arch cond;     /* every conditional network (and the flat one) */
    char only[16];    /* "" every network in turn (cond0 .. cond{J-1}, low), or one name */
    int patch;        /* crop side in band pixels (every network sees patch x patch) */
    int batch;        /* crops per step */
    long steps;       /* per network */
    float lr;         /* Adam learning rate */
    wp_lr_schedule schedule;
    long lr_halve_every; /* WP_LR_STEP */
    long warmup;      /* linear warm-up steps */
    float noise_min, noise_max; /* sigma range in 0..255 pixel units (see below) */
    wp_noise_dist noise;
    float loss_sigma; /* 0: plain mean squared error; > 0: each example's squared error
                         weighted by s^2 / (s^2 + sigma^2), sigma its pixel noise (0..255):
                         above s every noise level counts as it does in PSNR, so the
                         rare low-noise examples are not drowned by the loud ones */
    int projected_noise; /* 1: each band gets exactly the share of pixel noise it sees
                            when denoising (sigma/2^J on the low-pass, sigma/2^(j+1) on
                            level j); 0: the reference's per-band ranges (below) */
    int clip;         /* 1 (needs projected_noise): the noise goes on the pixels, which
                         are clipped to [0,1] as in a saved noisy image, before the
                         pyramid; the nets learn the clipped noise's bias in dark and
                         bright areas */
    int rescale_low;  /* multiply each low-pass crop by u ~ U(0,1) (the reference does) */
    int flips;        /* random flips and 90-degree rotations (the 8 symmetries) */
    int scale_aug;    /* > 1: crops are box-downscaled by a random integer 1..scale_aug */
    int scale_min;    /* > 1: ... by at least this (targets without the source's own
                         sensor noise and compression artefacts); 0 or 1: no minimum */
    wp_image_weight weight;
    int val_every;    /* steps between validations (0: never) */
    int val_batch;    /* validation crops */
    float val_sigma;  /* validation noise in 0..255 pixel units, projected on each band */
    float diverge;    /* stop when the smoothed loss exceeds this times its best (0: off) */
    int threads;      /* OpenBLAS threads; 0: leave as it is */
    int finetune;     /* with a base model: the trained networks start from its weights
                         (and architecture) instead of a fresh initialisation */
    float ema;        /* 0: off; in (0,1): validation, the export and a finished stage
                         take the weights' exponential moving average (and of the
                         normalisations' running_sd, to match them; each step
                         avg = ema avg + (1 - ema) weights; 0.999: about the last 1000
                         steps), which smooths the step-to-step noise of a constant
                         learning rate */
    float fill_min, fill_max; /* only = "fill": the share of unknown pixels, uniform in
                                 this range, of the crops with random pixels missing (6 in
                                 10; the others have a hole or scratches) */
    uint64_t seed;
} wp_train_options;
/* Noise (projected_noise 0): the low-pass (an image in [0,1]) and the flat
 * net get sigma/255, detail bands sigma/255/2 (the part of pixel noise that
 * lands in the finest band; detail coefficients spread about equally at
 * every level), like the reference's ranges that suit sampling. */

/* Fills o for a preset ("small": ~1 h for both networks on 2 cores;
 * "paper": the reference sizes; "tiny": seconds, for tests).  Returns -1
 * for an unknown preset name. */
WP_API int wp_train_defaults(wp_train_options *o, const char *preset, int channels);

/* ---- the trainer ---- */

typedef struct wp_trainer wp_trainer;

typedef struct {
    const char *net;         /* "low", "cond0", ..., "flat" */
    int stage, stages;       /* which network of how many (0-based) */
    long step, steps;        /* steps done in this network, and planned */
    long total_step, total_steps; /* over every network */
    double loss;             /* this step's mean squared error (per coefficient) */
    double loss_avg;         /* smoothed (EMA, 0.98) */
    double lr;
    double val_psnr;         /* NAN unless validated at this step: denoised PSNR (dB) of the
                                band's image at val_sigma */
    double val_input_psnr;   /* the noisy input's PSNR, same image */
    double seconds;          /* time spent in wp_trainer_run in this process */
    double samples_per_s, gflops_per_s; /* over that time */
} wp_train_report;

/* Called after every step; a non-zero return stops wp_trainer_run (as the
 * stop flag does) after a consistent step. */
typedef int (*wp_train_step_fn)(const wp_train_report *r, void *user);

/* A fresh trainer.  base (may be NULL) supplies the networks that are not
 * trained (with o->only); without it they keep their initial weights.
 * With o->finetune, base supplies the trained networks' starting weights
 * too. */
WP_API wp_status wp_trainer_create(const wp_train_options *o, const wp_prior *base,
                                   wp_trainer **out, char *err);
/* A trainer from a checkpoint: options, weights, Adam moments, running BN
 * statistics, random states and step. */
WP_API wp_status wp_trainer_resume(const char *ckpt, wp_trainer **out, char *err);
/* The data (kept by reference; must outlive the trainer's runs).  val may
 * be NULL: validation crops then come from train.  Crops and noise of the
 * validation set are fixed by the seed. */
WP_API wp_status wp_trainer_set_data(wp_trainer *t, const wp_dataset *train, const wp_dataset *val,
                                     char *err);
WP_API void wp_trainer_set_callback(wp_trainer *t, wp_train_step_fn fn, void *user);
/* Data-parallel training over processes (MPI ranks, threads, ...): every
 * process holds the same trainer (same options, or the same checkpoint)
 * and the same data; each makes samples [rank B/size, (rank+1) B/size) of
 * every batch of B, the crop and noise of sample i being the same
 * whichever process makes it; batch-norm statistics, the loss and the
 * gradient are summed over processes before every update.  A run thus
 * follows one process's run, up to the order of the sums (float rounding).
 * The library knows no transport: the caller supplies the sums. */
typedef struct {
    int rank, size;
    /* In-place sums of v[n] over every process, the result on all; every
     * process calls them in the same order.  0 on success. */
    int (*sum_f32)(void *ctx, float *v, size_t n);
    int (*sum_f64)(void *ctx, double *v, size_t n);
    void *ctx;
} wp_train_comm;

/* Shares t's steps with the other processes of comm (copied; NULL or size
 * 1: alone).  Needs batch >= size.  Stops (the stop flag, the callback)
 * then take effect on every process at the same step. */
WP_API wp_status wp_trainer_set_comm(wp_trainer *t, const wp_train_comm *comm, char *err);

/* A hash of the trained state (weights, running statistics, Adam moments,
 * random states): the same on every process of a data-parallel run as
 * long as their sums gave every process the same numbers. */
WP_API uint64_t wp_trainer_state_hash(const wp_trainer *t);

/* Runs up to max_steps steps (0: to the end), or until *stop becomes
 * non-zero or the callback asks to stop.  WP_ERR_NUMERIC on NaN/Inf or
 * divergence: the trainer is then unusable (do not checkpoint it). */
WP_API wp_status wp_trainer_run(wp_trainer *t, long max_steps, const volatile int *stop, char *err);
WP_API int wp_trainer_done(const wp_trainer *t);
/* Where the run stands: stage (network) index of stages, steps done in it. */
WP_API void wp_trainer_progress(const wp_trainer *t, int *stage, int *stages, long *step);
WP_API const wp_train_options *wp_trainer_options(const wp_trainer *t);
/* A string the caller stored with wp_trainer_set_note (kept in checkpoints),
 * or NULL. */
WP_API const char *wp_trainer_note(const wp_trainer *t, const char *key);
WP_API wp_status wp_trainer_set_note(wp_trainer *t, const char *key, const char *value, char *err);
/* Written to a temporary file, fsync'ed, renamed: a crash at any moment
 * leaves the previous checkpoint whole. */
WP_API wp_status wp_trainer_save_checkpoint(const wp_trainer *t, const char *path, char *err);
/* The prior as it stands (for evaluation); owned by the trainer. */
WP_API wp_prior *wp_trainer_prior(wp_trainer *t);
/* Saves the prior with wp_prior_save, training notes in its metadata. */
WP_API wp_status wp_trainer_export(wp_trainer *t, const char *path, char *err);
/* Totals of this process: samples (crops), floating-point operations and
 * seconds spent in steps, and the share of it spent preparing batches. */
WP_API void wp_trainer_throughput(const wp_trainer *t, double *samples, double *flops,
                                  double *seconds, double *data_seconds);
WP_API void wp_trainer_free(wp_trainer *t);

/* ---- evaluation helpers ---- */

/* Adds N(0, sigma^2) noise to x[n]: the same numbers for a seed on every
 * machine (xoshiro256** and Box-Muller). */
WP_API void wp_add_noise(float *x, size_t n, float sigma, uint64_t seed);
/* PSNR in dB (peak 1) of a against b; INFINITY when they are equal. */
WP_API double wp_psnr(const float *a, const float *b, size_t n);

#ifdef __cplusplus
}
#endif
#endif
