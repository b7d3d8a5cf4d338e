/* wp_train_internal.h: the pieces of the trainer, for the engine's own
 * files and its tests. */
#ifndef WP_TRAIN_INTERNAL_H
#define WP_TRAIN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "wp_rng.h"
#include "wprior_train.h"

/* ---- Adam (adam.c) ---- */

typedef struct {
    float *m, *v;   /* first and second moments, one block of 2n floats, laid
                       out like the network's params */
    size_t n;
    long t;         /* steps taken (bias correction) */
    float beta1, beta2, eps;
} wp_adam;

wp_status wp_adam_init(wp_adam *a, size_t n, char *err);
void wp_adam_free(wp_adam *a);
/* p -= lr * mhat / (sqrt(vhat) + eps) from gradient g[n]. */
void wp_adam_step(wp_adam *a, float *p, const float *g, float lr);
/* avg = d avg + (1 - d) p, element by element (the weight average, o.ema). */
void wp_ema_update(float *avg, const float *p, size_t n, float d);

/* ---- crops (dataset.c) ---- */

typedef struct {
    int flips;     /* one of the 8 symmetries of the square, at random */
    int scale;     /* box-downscale by a random integer in 1..scale */
    int by_area;   /* pick images in proportion to their pixel count */
    int scale_min; /* > 1: the box factor is at least this (0 or 1: no minimum) */
} wp_crop_aug;

/* A random crop [C, S, S] in [0,1] from a random image of d.  A crop wider
 * than its image wraps around (textures tile). */
void wp_dataset_crop(const wp_dataset *d, wp_rng *r, int S, const wp_crop_aug *aug,
                     float *out);
/* The same pixel by pixel (the test oracle): the same draws, equal output. */
void wp_dataset_crop_naive(const wp_dataset *d, wp_rng *r, int S, const wp_crop_aug *aug,
                           float *out);

/* ---- noise (train.c) ---- */

/* One training example of net idx (-1 low, j cond j) at pixel sigma (0..255)
 * from the training set, as a step makes it (no augmentation, gain 1):
 * x [in,P,P] and the noise it carries [out,P,P]. */
void wp_train_example(wp_trainer *t, int idx, uint64_t seed, float sigma, float *x, float *noise);

/* One sigma (0..255 units) from the options' range and distribution. */
double wp_train_draw_sigma(const wp_train_options *o, wp_rng *r);

#endif

/* ---- the trainer's state (train.c, checkpoint.c) ---- */
#include "wp_layers.h"
#include "wp_net.h"
#include "wp_prior_internal.h"

#define WP_TRAIN_MAX_NETS (WP_MAX_LEVELS + 1)
#define WP_TRAIN_MAX_NOTES 32

struct wp_trainer {
    wp_train_options o;
    wp_prior *prior;              /* the networks (what gets exported) */
    int order[WP_TRAIN_MAX_NETS]; /* networks trained, in turn: -1 low (or flat), j cond j */
    int nstages, stage;
    long step;                    /* steps done in the current stage */
    wp_adam adam;                 /* the current stage's network */
    /* Its weights' moving average (o.ema > 0), else NULL: params, then the
     * running_sd of its normalisations (averaged alike, so that they match
     * the averaged weights); ema_n floats. */
    float *ema;
    size_t ema_n;
    wp_rng data_rng, noise_rng;
    double loss_ema, best_ema;    /* divergence watch, reset at every stage */
    const wp_dataset *train, *val;
    wp_st_meta notes[WP_TRAIN_MAX_NOTES];
    int nnotes;
    wp_train_step_fn cb;
    void *cb_data;
    /* Buffers allocated once at the largest size any stage needs. */
    /* Per thread slot (examples are made in parallel): the pixel crop
     * [C,S,S] and Haar scratch, and the same for the noisy crop (clip). */
    float *crop, *tmp, *crop2, *tmp2;
    int nslots;
    size_t slot_floats;
    float *x, *noise, *y, *dy, *grad;
    float *exw;                   /* each example's weight in the loss */
    wp_net_cache cache;           /* rebuilt per stage (its size depends on the net) */
    int cache_stage;
    /* Validation crops of the current stage, fixed by the seed. */
    int val_stage;
    float *val_x, *val_noise, *val_y, *val_ws;
    double val_input_psnr;
    /* Data parallelism (wp_trainer_set_comm; size <= 1: alone). */
    wp_train_comm comm;
    int comm_failed;
    wp_bn_sync bn_sync;
    /* Throughput of this process. */
    double seconds, data_seconds, samples, flops;
};

/* Network of a stage index (-1: low or flat, j: cond j; WP_TRAINER_DEN:
 * the base's denoising entry net, kept as it was, never trained) and its
 * name. */
#define WP_TRAINER_DEN (-2)
#define WP_TRAINER_FILL (-3) /* the fill net (--only fill) */
#define WP_TRAINER_UP (-4)   /* the up net (--only up) */
wp_net *wp_trainer_net(wp_trainer *t, int idx);
void wp_trainer_net_name(const wp_trainer *t, int idx, char *buf, size_t len);
/* Checks o (ranges, reachable receptive fields, known network names). */
wp_status wp_train_check_options(const wp_train_options *o, char *err);
/* Fills order/nstages from o. */
void wp_trainer_plan(wp_trainer *t);
/* Allocates the buffers and the current stage's Adam moments (zeroed). */
wp_status wp_trainer_enter_stage(wp_trainer *t, char *err);
/* Swaps the current stage's weights with their average (o.ema; no-op
 * without one): called in pairs around validation and export. */
void wp_trainer_swap_ema(wp_trainer *t);
/* OpenBLAS threads for the whole process. */
void wp_trainer_set_threads(int n);
/* Builds a net of the given shape (kernels from the RF rule). */
wp_status wp_train_make_net(wp_net *net, const wp_arch *a, int in, int out, char *err);
