/* train.c: training the networks of a prior, one after the other
 * (cond0, cond1, ..., then the low-pass net).
 *
 * A step for network idx (N crops of P x P band pixels):
 *   crop [C, P<<n, P<<n] pixels  -> n Haar levels -> band
 *   low/flat: x = band + noise                    x, noise [N, C, P, P]
 *   cond j:   x = [low, details + noise]          x [N, 4C, P, P], noise [N, 3C, P, P]
 *   y = net(x) (batch statistics)                 y [N, out, P, P]
 *   loss = mean (y - noise)^2; backward; Adam.
 * Sample i of a step draws from its own streams, split from the trainer's
 * by i, so that processes sharing a batch (wp_trainer_set_comm) make the
 * crops one process would.  Checkpoints live in checkpoint.c. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp_layers.h"
#include "wp_parallel.h"
#include "wp_sample.h"
#include "wp_train_internal.h"
#include "wp_util.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- options ---- */

int wp_train_defaults(wp_train_options *o, const char *preset, int channels)
{
    memset(o, 0, sizeof *o);
    o->channels = channels;
    o->levels = 2;
    o->noise_min = 0.0f;
    o->noise_max = 255.0f;
    o->noise = WP_NOISE_QUADRATIC;
    o->rescale_low = 1;
    o->flips = 1;
    o->scale_aug = 1;
    o->lr = 1e-3f;
    o->schedule = WP_LR_COSINE;
    o->val_every = 200;
    o->val_batch = 16;
    o->val_sigma = 25.0f;
    o->diverge = 20.0f;
    o->seed = 1;
    o->fill_min = 0.5f;
    o->fill_max = 0.9f;
    if (!preset || !strcmp(preset, "small")) {
        /* Sized by measurement for ~1 h of both networks on 2 cores
         * (see README, "Training your own prior"). */
        /* J=1: on the validation split of data/ (photos and 20-512 px
         * patterns) at sigma 25, after 15000 steps per net, J=2 (48
         * channels) gave 28.50 dB and J=1 (32) 28.90: the J=2 low-pass net
         * wrecks the patterns' 16x16 low-pass (Animal_leopard 18.0 dB vs
         * 22.8).  48 channels instead of 32: +0.13 dB from the conditional
         * net, +0.20 more from the low-pass one (29.22 dB). */
        /* Low-pass net 14 layers (RF 29): with the clean low-pass the
         * validation images would score 36.2 dB, with the clean details
         * 32.3, so most of the error is the low-pass net's.  After 2000
         * steps: 8 layers 29.32 dB, 14 layers 29.53, 20 layers 29.55 (at
         * 1.4x the time of 14).  12000 steps: about an hour in all. */
        o->levels = 1;
        o->low = (wp_arch){48, 14, 0};
        o->cond = (wp_arch){48, 11, 13};
        o->patch = 40;
        o->batch = 16;
        o->steps = 12000;
        o->warmup = 100;
        o->scale_aug = 2;
        /* Up to 60, uniform, projected, no low-pass rescaling: on a CPU
         * budget the MSE of the rare very noisy crops would dominate the
         * gradient.  Measured on cond0: 255 -> 100 quadratic +0.9 dB at
         * sigma 25 after 600 steps; after 2000 steps 100 -> 60 +0.20 dB
         * (and +0.18 at sigma 50), 60 -> 40 -0.06, quadratic -> uniform
         * +0.17; on the low-pass net no rescaling +0.08 at sigma 25, +0.6 at
         * sigma 5.  Bias-free nets extend beyond the range they saw. */
        o->noise_max = 60.0f;
        o->noise = WP_NOISE_UNIFORM;
        o->rescale_low = 0;
        o->projected_noise = 1;
        /* No --clip: it won 1.1 dB on the darkest validation photograph
         * but lost 3 dB on another (photo-color, 6000 steps per net): a
         * bias-free net cannot place the clip at 1 of a rescaled crop. */
    } else if (!strcmp(preset, "paper")) {
        /* The reference: 64 channels, 21 layers, RF 13; low-pass 20 layers
         * of 3x3; Adam 1e-3 halved every 50 epochs. */
        o->low = (wp_arch){64, 20, 0};
        o->cond = (wp_arch){64, 21, 13};
        o->patch = 40;
        o->batch = 64;
        o->steps = 100000;
        o->schedule = WP_LR_STEP;
        o->lr_halve_every = 25000;
        o->val_every = 1000;
    } else if (!strcmp(preset, "tiny")) {
        o->low = (wp_arch){8, 4, 0};
        o->cond = (wp_arch){8, 5, 5};
        o->patch = 16;
        o->batch = 4;
        o->steps = 50;
        o->val_every = 10;
        o->val_batch = 4;
    } else {
        return -1;
    }
    return 0;
}

static wp_status check_arch(const wp_arch *a, const char *what, char *err)
{
    uint8_t k[WP_MAX_LAYERS];
    if (a->width < 1 || a->width > WP_MAX_WIDTH)
        return wp_fail(err, WP_ERR_ARG, "%s width %d (1..%d)", what, a->width, WP_MAX_WIDTH);
    if (a->layers < 3 || a->layers > WP_MAX_LAYERS)
        return wp_fail(err, WP_ERR_ARG, "%s depth %d (3..%d layers)", what, a->layers,
                       WP_MAX_LAYERS);
    if (a->rf != 0 && wp_rf_kernels(a->rf, a->layers, k) != 0)
        return wp_fail(err, WP_ERR_ARG,
                       "%s: receptive field %d is not reachable with %d layers (odd, >= 5, "
                       "at most 2*layers+1)",
                       what, a->rf, a->layers);
    return WP_OK;
}

/* Index of a network name: -1 low/flat, j cond j, WP_TRAINER_FILL,
 * WP_TRAINER_UP; -2 unknown. */
static int net_index(const wp_train_options *o, const char *name)
{
    if (!strcmp(name, o->flat ? "flat" : "low"))
        return -1;
    if (!o->flat && !strcmp(name, "fill"))
        return WP_TRAINER_FILL;
    if (!o->flat && !strcmp(name, "up"))
        return WP_TRAINER_UP;
    char *end;
    if (!o->flat && !strncmp(name, "cond", 4) && name[4] >= '0' && name[4] <= '9') {
        long j = strtol(name + 4, &end, 10);
        if (!*end && j < o->levels)
            return (int)j;
    }
    return -2;
}

wp_status wp_train_check_options(const wp_train_options *o, char *err)
{
    wp_status st;
    if (o->channels != 1 && o->channels != 3)
        return wp_fail(err, WP_ERR_ARG, "%d channels (1 or 3)", o->channels);
    if (!o->flat && (o->levels < 1 || o->levels > 6))
        return wp_fail(err, WP_ERR_ARG, "%d levels (1..6)", o->levels);
    if ((st = check_arch(&o->cond, o->flat ? "flat net" : "conditional nets", err)))
        return st;
    if (!o->flat && (st = check_arch(&o->low, "low-pass net", err)))
        return st;
    if (o->only[0] && net_index(o, o->only) == -2)
        return wp_fail(err, WP_ERR_ARG, "no network \"%.15s\" (%s)", o->only,
                       o->flat ? "flat" : "low, cond0 .. cond{levels-1}, fill, up");
    if (!strcmp(o->only, "fill") &&
        !(o->fill_min > 0.0f && o->fill_min <= o->fill_max && o->fill_max < 1.0f))
        return wp_fail(err, WP_ERR_ARG, "fill rate %g..%g (0 < min <= max < 1)",
                       (double)o->fill_min, (double)o->fill_max);
    int J = o->flat ? 0 : o->levels;
    if (o->patch < 4 || o->patch > 512 || ((long)o->patch << J) > 4096)
        return wp_fail(err, WP_ERR_ARG, "patch %d: 4..512, and patch*2^levels <= 4096", o->patch);
    if (o->batch < 1 || o->batch > 4096)
        return wp_fail(err, WP_ERR_ARG, "batch %d (1..4096)", o->batch);
    if (o->steps < 1)
        return wp_fail(err, WP_ERR_ARG, "steps %ld (>= 1)", o->steps);
    if (!(o->lr > 0.0f) || !isfinite(o->lr) || o->lr > 1.0f)
        return wp_fail(err, WP_ERR_ARG, "learning rate %g (0..1]", (double)o->lr);
    if (o->schedule < WP_LR_COSINE || o->schedule > WP_LR_CONST || o->lr_halve_every < 0 ||
        o->warmup < 0)
        return wp_fail(err, WP_ERR_ARG, "bad learning-rate schedule");
    if (!(o->noise_min >= 0.0f) || !(o->noise_max >= o->noise_min) || o->noise_max > 1000.0f)
        return wp_fail(err, WP_ERR_ARG, "noise range %g..%g (0 <= min <= max <= 1000)",
                       (double)o->noise_min, (double)o->noise_max);
    if (o->noise != WP_NOISE_UNIFORM && o->noise != WP_NOISE_QUADRATIC)
        return wp_fail(err, WP_ERR_ARG, "unknown noise distribution");
    if (!(o->loss_sigma >= 0.0f) || o->loss_sigma > 1000.0f)
        return wp_fail(err, WP_ERR_ARG, "loss sigma %g (0..1000)", (double)o->loss_sigma);
    if (o->scale_aug < 1 || o->scale_aug > 8)
        return wp_fail(err, WP_ERR_ARG, "scale augmentation %d (1..8)", o->scale_aug);
    if (o->scale_min < 0 || o->scale_min > o->scale_aug)
        return wp_fail(err, WP_ERR_ARG, "minimum downscale %d (1..scale augmentation %d)",
                       o->scale_min, o->scale_aug);
    if (o->weight != WP_WEIGHT_IMAGE && o->weight != WP_WEIGHT_AREA)
        return wp_fail(err, WP_ERR_ARG, "unknown image weighting");
    if (o->val_every < 0 || (o->val_every && (o->val_batch < 1 || o->val_batch > 1024)))
        return wp_fail(err, WP_ERR_ARG, "validation every %d steps on %d crops", o->val_every,
                       o->val_batch);
    if (!(o->val_sigma > 0.0f) || o->val_sigma > 1000.0f || !(o->diverge >= 0.0f))
        return wp_fail(err, WP_ERR_ARG, "validation sigma %g, divergence factor %g",
                       (double)o->val_sigma, (double)o->diverge);
    if (o->threads < 0 || o->threads > 1024)
        return wp_fail(err, WP_ERR_ARG, "%d threads", o->threads);
    if (!(o->ema >= 0.0f && o->ema < 1.0f))
        return wp_fail(err, WP_ERR_ARG, "weight average %g ([0,1): 0 off, e.g. 0.999)",
                       (double)o->ema);
    if (o->clip && !o->projected_noise)
        return wp_fail(err, WP_ERR_ARG,
                       "clipped noise is pixel noise: it needs the projected band noise");
    return WP_OK;
}

void wp_trainer_set_threads(int n) { openblas_set_num_threads(n); }

/* ---- networks ---- */

wp_net *wp_trainer_net(wp_trainer *t, int idx)
{
    wp_prior *p = t->prior;
    return idx == WP_TRAINER_UP     ? &p->up
           : idx == WP_TRAINER_FILL ? &p->fill
           : idx == WP_TRAINER_DEN  ? &p->den
           : idx < 0                ? (p->flat ? &p->flatnet : &p->low)
                                    : &p->cond[idx];
}

void wp_trainer_net_name(const wp_trainer *t, int idx, char *buf, size_t len)
{
    if (idx == WP_TRAINER_UP)
        snprintf(buf, len, "up");
    else if (idx == WP_TRAINER_FILL)
        snprintf(buf, len, "fill");
    else if (idx == WP_TRAINER_DEN)
        snprintf(buf, len, "den");
    else if (idx < 0)
        snprintf(buf, len, "%s", t->prior->flat ? "flat" : "low");
    else
        snprintf(buf, len, "cond%d", idx);
}

wp_status wp_train_make_net(wp_net *net, const wp_arch *a, int in, int out, char *err)
{
    uint8_t k[WP_MAX_LAYERS];
    if (a->rf == 0)
        memset(k, 3, sizeof k);
    else if (wp_rf_kernels(a->rf, a->layers, k) != 0)
        return wp_fail(err, WP_ERR_ARG, "receptive field %d unreachable with %d layers", a->rf,
                       a->layers);
    return wp_net_init(net, in, out, a->width, a->layers, k, err);
}

/* Kaiming (fan-in) normal conv weights, the reference's init. */
static void init_net(wp_net *net, wp_rng *r)
{
    for (int l = 0; l < net->nlayers; l++) {
        int k = net->kernel[l], fan_in = wp_net_layer_in(net, l) * k * k;
        size_t n = (size_t)wp_net_layer_out(net, l) * fan_in;
        wp_rng_fill_gauss(r, net->conv_w[l], n, (float)sqrt(2.0 / fan_in));
    }
    /* Gammas as in the reference: N(0, (2/9/64)^2) clipped to +-0.025.
     * Small gammas make the first output ~0 (loss = the noise power), and
     * measured on the overfit test they train faster than gammas of 1,
     * whose large first outputs cost hundreds of steps to undo. */
    for (int l = 1; l < net->nlayers - 1; l++)
        for (int c = 0; c < net->width; c++) {
            double v = wp_rng_gauss(r) * (2.0 / 9.0 / 64.0);
            net->gamma[l][c] = (float)(v > 0.025 ? 0.025 : v < -0.025 ? -0.025 : v);
        }
}

void wp_trainer_plan(wp_trainer *t)
{
    const wp_train_options *o = &t->o;
    t->nstages = 0;
    if (o->only[0]) {
        t->order[t->nstages++] = net_index(o, o->only);
        return;
    }
    /* Finest first: cond0 carries most of the noise (3/4 of it at J=2), the
     * low-pass the least, so a run cut short loses the least.  (An untrained
     * net, with its near-zero gammas, passes its band through.) */
    for (int j = 0; j < (o->flat ? 0 : o->levels); j++)
        t->order[t->nstages++] = j;
    t->order[t->nstages++] = -1;
}

static int is_trained(const wp_trainer *t, int idx)
{
    for (int s = 0; s < t->nstages; s++)
        if (t->order[s] == idx)
            return 1;
    return 0;
}

/* A net copied from a model to be fine-tuned has the options' shape (the
 * trainer sizes its buffers from the options). */
static wp_status finetune_shape(const wp_net *net, const wp_arch *a, const char *name, char *err)
{
    if (net->width == a->width && net->nlayers == a->layers)
        return WP_OK;
    return wp_fail(err, WP_ERR_ARG,
                   "fine-tuning: the model's %s net is %d wide with %d layers; the options say "
                   "%d and %d (give the same --width/--layers)",
                   name, net->width, net->nlayers, a->width, a->layers);
}

/* The optional net idx (fill or up, in x out channels) of the trained
 * prior: trained (a new net, or with --finetune the base's; an up net
 * without one starts from cond0, of the same shape: the fast upscale's
 * start is a denoiser's input with little noise), or the base's kept
 * untrained. */
static wp_status optional_net(wp_trainer *t, const wp_prior *base, int idx, int in, int out,
                              wp_rng *init, char *err)
{
    wp_net *net = wp_trainer_net(t, idx);
    int up = idx == WP_TRAINER_UP, *has = up ? &t->prior->has_up : &t->prior->has_fill;
    int base_has = base && (up ? base->has_up : base->has_fill);
    const wp_net *from = !base_has ? NULL : up ? &base->up : &base->fill;
    wp_status st = WP_OK;
    if (is_trained(t, idx)) {
        if (!base)
            return wp_fail(err, WP_ERR_ARG,
                           "the %s net works with a model's other nets: give the model (--base, "
                           "or --finetune to start from its %s net)",
                           up ? "up" : "fill", up ? "up" : "fill");
        const wp_net *start = !t->o.finetune ? NULL : from ? from : up ? &base->cond[0] : NULL;
        if (start) {
            if (!(st = wp_net_copy(net, start, err)))
                st = finetune_shape(net, &t->o.cond, start == from ? (up ? "up" : "fill") : "cond0",
                                    err);
        } else if (!(st = wp_train_make_net(net, &t->o.cond, in, out, err))) {
            init_net(net, init);
        }
    } else if (from) { /* kept, untrained */
        st = wp_net_copy(net, from, err);
    } else {
        return WP_OK;
    }
    *has = !st;
    return st;
}

wp_status wp_trainer_create(const wp_train_options *o, const wp_prior *base, wp_trainer **out,
                            char *err)
{
    *out = NULL;
    wp_status st = wp_train_check_options(o, err);
    if (st)
        return st;
    int C = o->channels, J = o->flat ? 0 : o->levels;
    /* A flat net may start from a multi-scale model's den (or low-pass
     * net): photographs look alike across scales, and a bias-free net does
     * not see the factor 2 of the Haar low-pass. */
    const wp_net *flat_start = !base || !o->flat ? NULL
                               : base->flat      ? &base->flatnet
                               : base->has_den   ? &base->den
                                                 : &base->low;
    if (base && (base->channels != C || (base->flat != o->flat && !(o->flat && o->finetune)) ||
                 (!o->flat && base->levels != J)))
        return wp_fail(err, WP_ERR_ARG,
                       "the base model (%d channels, %s, %d levels) does not match the options",
                       base->channels, base->flat ? "flat" : "multi-scale", base->levels);
    wp_trainer *t = calloc(1, sizeof *t);
    if (!t)
        return wp_fail(err, WP_ERR_NOMEM, "out of memory");
    t->o = *o;
    t->val_stage = t->cache_stage = -1;
    if (o->threads)
        wp_trainer_set_threads(o->threads);
    wp_trainer_plan(t);
    wp_rng init;
    wp_rng_seed(&init, o->seed ^ 0x1a2b3c4d5e6f7788ULL);
    wp_rng_seed(&t->data_rng, o->seed);
    wp_rng_split(&t->data_rng, 2, &t->noise_rng);
    st = wp_prior_create(&t->prior, C, J, o->flat, err);
    for (int idx = -1; idx < J && !st; idx++) {
        wp_net *net = wp_trainer_net(t, idx);
        const wp_arch *a = idx < 0 && !o->flat ? &o->low : &o->cond;
        if (base && (o->finetune || !is_trained(t, idx))) {
            st = wp_net_copy(net, idx < 0 ? (o->flat ? flat_start : &base->low) : &base->cond[idx],
                             err);
            if (!st && is_trained(t, idx))
                st = finetune_shape(net, a, idx < 0 ? "low" : "cond", err);
            continue;
        }
        st = wp_train_make_net(net, a, idx < 0 ? C : 4 * C, idx < 0 ? C : 3 * C, err);
        if (!st)
            init_net(net, &init);
    }
    if (!st)
        st = optional_net(t, base, WP_TRAINER_FILL, C + 1, C, &init, err);
    /* a flat prior does not upscale: a multi-scale base's up net stays out */
    if (!st && !o->flat)
        st = optional_net(t, base, WP_TRAINER_UP, 4 * C, 3 * C, &init, err);
    /* a base's denoising entry net goes on into the result, untrained */
    if (!st && base && base->has_den && !o->flat) {
        st = wp_net_copy(&t->prior->den, &base->den, err);
        t->prior->has_den = !st;
        t->prior->den_level = st ? 0 : base->den_level;
    }
    /* the base's metadata, but how nets left out were trained */
    for (size_t i = 0; base && !st && i < base->nmeta; i++) {
        const char *k = base->meta[i].key;
        if ((!t->prior->has_up && !strcmp(k, "training.up")) ||
            (!t->prior->has_fill && !strcmp(k, "training.fill")))
            continue;
        st = wp_prior_set_meta(t->prior, k, base->meta[i].value, err);
    }
    /* A fine-tuned model keeps how its starting point was trained (every
     * earlier run, oldest first). */
    const char *before = base && o->finetune ? wp_prior_meta(base, "training") : NULL;
    if (!st && before) {
        const char *older = wp_prior_meta(base, "training.base");
        size_t n = (older ? strlen(older) + 7 : 0) + strlen(before) + 1;
        char *all = malloc(n);
        if (all) {
            snprintf(all, n, "%s%s%s", older ? older : "", older ? "; then " : "", before);
            st = wp_prior_set_meta(t->prior, "training.base", all, err);
        } else {
            st = wp_fail(err, WP_ERR_NOMEM, "out of memory");
        }
        free(all);
    }
    if (!st)
        st = wp_trainer_enter_stage(t, err);
    if (st) {
        wp_trainer_free(t);
        return st;
    }
    *out = t;
    return WP_OK;
}

void wp_trainer_free(wp_trainer *t)
{
    if (!t)
        return;
    wp_prior_free(t->prior);
    wp_adam_free(&t->adam);
    free(t->ema);
    wp_net_cache_free(&t->cache);
    float *bufs[] = {t->crop, t->tmp, t->crop2, t->tmp2, t->x, t->noise, t->y, t->dy, t->grad,
                     t->exw, t->val_x, t->val_noise, t->val_y, t->val_ws};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        free(bufs[i]);
    free(t->bn_sync.st);
    for (int i = 0; i < t->nnotes; i++) {
        free(t->notes[i].key);
        free(t->notes[i].value);
    }
    free(t);
}

/* ---- buffers and stages ---- */

/* Haar levels between pixels and network idx's band. */
static int band_levels(const wp_trainer *t, int idx)
{
    return t->o.flat || idx == WP_TRAINER_FILL ? 0
           : idx == WP_TRAINER_UP              ? 1
           : idx < 0                           ? t->o.levels
                                               : idx + 1;
}

/* The share of pixel noise sigma that network idx's band gets (see
 * wprior_train.h). */
static float noise_share(const wp_trainer *t, int idx)
{
    return t->o.projected_noise ? 1.0f / (float)(1 << band_levels(t, idx)) : idx < 0 ? 1.0f : 0.5f;
}

static float *grow(float **buf, size_t n, int *fail)
{
    free(*buf);
    *buf = wp_alloc(sizeof(float) * (n ? n : 1));
    if (!*buf)
        *fail = 1;
    return *buf;
}

/* Example scratch for n thread slots (0 when done, else out of memory). */
static int grow_slots(wp_trainer *t, int n)
{
    int fail = 0;
    size_t k = (size_t)n * t->slot_floats;
    grow(&t->crop, k, &fail);
    grow(&t->tmp, k, &fail);
    grow(&t->crop2, k, &fail);
    grow(&t->tmp2, k, &fail);
    t->nslots = fail ? 0 : n;
    return fail;
}

/* Thread slot i's scratch. */
typedef struct {
    float *crop, *tmp, *crop2, *tmp2;
} ex_scratch;

static ex_scratch slot(const wp_trainer *t, int i)
{
    size_t o = (size_t)i * t->slot_floats;
    return (ex_scratch){t->crop + o, t->tmp + o, t->crop2 + o, t->tmp2 + o};
}

wp_status wp_trainer_enter_stage(wp_trainer *t, char *err)
{
    wp_adam_free(&t->adam);
    free(t->ema);
    t->ema = NULL;
    t->loss_ema = t->best_ema = 0.0;
    if (t->stage >= t->nstages)
        return WP_OK;
    int C = t->o.channels, P = t->o.patch, N = t->o.batch, fail = 0;
    if (!t->x) {
        /* Sized once for every stage: at most 4C in, 3C out, the widest crop. */
        int S = P << (t->o.flat ? 0 : t->o.levels);
        size_t PP = (size_t)P * P, npar = 0;
        for (int s = 0; s < t->nstages; s++) {
            size_t n = wp_trainer_net(t, t->order[s])->nparams;
            npar = n > npar ? n : npar;
        }
        t->slot_floats = (size_t)C * S * S;
        if (t->slot_floats < (size_t)(4 * C + 6) * PP) /* the fill's work (make_fill_example) */
            t->slot_floats = (size_t)(4 * C + 6) * PP;
        if (grow_slots(t, wp_threads()))
            fail = 1;
        grow(&t->x, (size_t)N * 4 * C * PP, &fail);
        grow(&t->noise, (size_t)N * 3 * C * PP, &fail);
        grow(&t->y, (size_t)N * 3 * C * PP, &fail);
        grow(&t->dy, (size_t)N * 3 * C * PP, &fail);
        grow(&t->grad, npar, &fail);
        grow(&t->exw, (size_t)N, &fail);
        if (fail)
            return wp_fail(err, WP_ERR_NOMEM, "out of memory for training buffers");
    }
    const wp_net *net = wp_trainer_net(t, t->order[t->stage]);
    if (t->o.ema > 0.0f) { /* the average starts at the stage's first weights */
        size_t nbn = wp_net_bn_floats(net);
        t->ema_n = net->nparams + nbn;
        if (!(t->ema = wp_alloc(sizeof(float) * t->ema_n)))
            return wp_fail(err, WP_ERR_NOMEM, "out of memory for the weight average");
        memcpy(t->ema, net->params, sizeof(float) * net->nparams);
        memcpy(t->ema + net->nparams, net->running_sd, sizeof(float) * nbn);
    }
    return wp_adam_init(&t->adam, net->nparams, err);
}

static void swap_floats(float *a, float *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float x = a[i];
        a[i] = b[i];
        b[i] = x;
    }
}

void wp_trainer_swap_ema(wp_trainer *t)
{
    if (!t->ema || t->stage >= t->nstages)
        return;
    wp_net *net = wp_trainer_net(t, t->order[t->stage]);
    swap_floats(net->params, t->ema, net->nparams);
    swap_floats(net->running_sd, t->ema + net->nparams, t->ema_n - net->nparams);
}

/* ---- examples ---- */

double wp_train_draw_sigma(const wp_train_options *o, wp_rng *r)
{
    double u = wp_rng_uniform(r);
    if (o->noise == WP_NOISE_QUADRATIC)
        u *= u;
    return o->noise_min + (o->noise_max - o->noise_min) * u;
}

/* Down n Haar levels in place: the last low-pass lands at the start of
 * crop [C,P,P], the last details in det [3C,P,P]. */
static void reduce_crop(float *crop, float *tmp, float *det, int C, int S, int P)
{
    for (int s = S; s > P; s /= 2) {
        wp_haar_forward(crop, C, s, s, tmp, det);
        memcpy(crop, tmp, sizeof(float) * C * (size_t)(s / 2) * (s / 2));
    }
}

/* The example of make_example with the noise on the pixels: noisy =
 * clip(crop + N(0, sp^2)) to [0,1], both pyramids built; the target is the
 * noisy band minus the clean one (no longer zero-mean where it clipped). */
static void make_clipped_example(const wp_trainer *t, const ex_scratch *w, int idx, wp_rng *nr,
                                 float sp, float gain, float *x, float *noise)
{
    int C = t->o.channels, P = t->o.patch, S = P << band_levels(t, idx);
    size_t PP = (size_t)P * P, N = (size_t)C * S * S;
    float *noisy = w->crop2, *det = w->tmp + N / 4, *det2 = w->tmp2 + N / 4;
    wp_rng_fill_gauss(nr, noisy, N, sp);
    for (size_t i = 0; i < N; i++) {
        float v = w->crop[i] + noisy[i];
        noisy[i] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
    }
    reduce_crop(w->crop, w->tmp, det, C, S, P);
    reduce_crop(noisy, w->tmp2, det2, C, S, P);
    if (idx < 0) { /* x = noisy low-pass (times gain), noise = its error */
        for (size_t i = 0; i < C * PP; i++) {
            x[i] = noisy[i] * gain;
            noise[i] = (noisy[i] - w->crop[i]) * gain;
        }
        return;
    }
    memcpy(x, w->crop, sizeof(float) * C * PP); /* the clean low-pass conditions */
    for (size_t i = 0; i < 3 * C * PP; i++) {
        x[C * PP + i] = det2[i];
        noise[i] = det2[i] - det[i];
    }
}

/* A random mask for a fill example, wt [P,P] (0: unknown): in 6 of 10
 * random pixels, each unknown with a probability u ~ U(fill_min,
 * fill_max); in 2 a rectangular hole of sides P/8..P/2; in 2 one to three
 * scratches 2-5 px wide (random walks), as users' selections are. */
static void fill_mask(const wp_train_options *o, wp_rng *r, float *wt, int P)
{
    size_t PP = (size_t)P * P;
    double kind = wp_rng_uniform(r);
    if (kind < 0.6) {
        double u = o->fill_min + (o->fill_max - o->fill_min) * wp_rng_uniform(r);
        for (size_t i = 0; i < PP; i++)
            wt[i] = wp_rng_uniform(r) < u ? 0.0f : 1.0f;
        return;
    }
    for (size_t i = 0; i < PP; i++)
        wt[i] = 1.0f;
    int lo = P / 8 > 1 ? P / 8 : 1, span = P / 2 - lo + 1 > 1 ? P / 2 - lo + 1 : 1;
    if (kind < 0.8) {
        int h = lo + (int)wp_rng_below(r, span), w = lo + (int)wp_rng_below(r, span);
        int y0 = (int)wp_rng_below(r, P - h + 1), x0 = (int)wp_rng_below(r, P - w + 1);
        for (int i = y0; i < y0 + h; i++)
            for (int j = x0; j < x0 + w; j++)
                wt[(size_t)i * P + j] = 0.0f;
        return;
    }
    for (int k = 1 + (int)wp_rng_below(r, 3); k > 0; k--) {
        double y = wp_rng_uniform(r) * P, x = wp_rng_uniform(r) * P;
        double a = wp_rng_uniform(r) * 2 * M_PI, rad = 1.0 + 1.5 * wp_rng_uniform(r);
        for (int step = 0; step < 2 * P; step++) {
            for (int i = (int)(y - rad); i <= (int)(y + rad) + 1; i++)
                for (int j = (int)(x - rad); j <= (int)(x + rad) + 1; j++)
                    if (i >= 0 && i < P && j >= 0 && j < P &&
                        (i - y) * (i - y) + (j - x) * (j - x) <= rad * rad)
                        wt[(size_t)i * P + j] = 0.0f;
            a += 0.25 * wp_rng_gauss(r);
            y += sin(a), x += cos(a);
        }
    }
}

/* An example of the fill net: a crop with a random mask (fill_mask), and
 * the fast inpainting's level-0 fill of them (the plain smooth fill, then
 * the edge-enhancing diffusion); x = [fill, m]
 * (m = 1 where unknown), noise = (fill - crop) m. */
static void make_fill_example(const wp_trainer *t, const ex_scratch *w, const wp_dataset *d,
                              const wp_crop_aug *aug, wp_rng *dr, wp_rng *nr, float *x,
                              float *noise)
{
    int C = t->o.channels, P = t->o.patch;
    size_t PP = (size_t)P * P;
    float *clean = w->crop, *wt = w->tmp, *y = wt + PP, *sw = y + C * PP;
    float *const work[6] = {w->crop2,      w->crop2 + C * PP, w->crop2 + 2 * C * PP,
                            w->tmp2,       w->tmp2 + PP,      w->tmp2 + 2 * PP};
    float *const smooth_work[4] = {sw, sw + PP, sw + 2 * PP, sw + 3 * PP};
    wp_dataset_crop(d, dr, P, aug, clean);
    fill_mask(&t->o, nr, wt, P);
    wp_known_or_mean(y, clean, wt, C, PP);
    for (int c = 0; c < C; c++)
        wp_smooth_fill(y + c * PP, wt, P, P, 0.0f, smooth_work);
    wp_eed_fill(y, C, wt, P, P, WP_EED_STEPS, work, NULL);
    for (int c = 0; c < C; c++)
        for (size_t i = 0; i < PP; i++) {
            x[c * PP + i] = y[c * PP + i];
            noise[c * PP + i] = (y[c * PP + i] - clean[c * PP + i]) * (1.0f - wt[i]);
        }
    for (size_t i = 0; i < PP; i++)
        x[C * PP + i] = 1.0f - wt[i];
}

/* An example of the up net: a crop of 2P, one Haar level down, and the
 * fast upscale's smooth start from its low-pass (wp_up_start); x = [the
 * low-pass, the start's details] [4C,P,P], noise = the start's details
 * minus the crop's [3C,P,P] (what the net predicts). */
static void make_up_example(const wp_trainer *t, const ex_scratch *w, const wp_dataset *d,
                            const wp_crop_aug *aug, wp_rng *dr, float *x, float *noise)
{
    int C = t->o.channels, P = t->o.patch, S = 2 * P;
    size_t PP = (size_t)P * P;
    float *det = w->tmp2, *start = x + C * PP;
    wp_dataset_crop(d, dr, S, aug, w->crop);
    reduce_crop(w->crop, w->tmp, det, C, S, P);
    memcpy(x, w->crop, sizeof(float) * C * PP);
    wp_up_start(x, C, P, P, w->crop2, start, w->tmp, w->tmp + C * PP);
    for (size_t i = 0; i < 3 * C * PP; i++)
        noise[i] = start[i] - det[i];
}

/* The fill net's loss counts the unknown pixels only: its output is zeroed
 * on the known ones (where the target is 0), for N examples x [C+1,P,P]. */
static void mask_fill_output(const wp_trainer *t, float *y, const float *x, int N)
{
    int C = t->o.channels;
    size_t PP = (size_t)t->o.patch * t->o.patch;
    for (int n = 0; n < N; n++) {
        const float *m = x + ((size_t)n * (C + 1) + C) * PP;
        for (int c = 0; c < C; c++)
            for (size_t i = 0; i < PP; i++)
                y[((size_t)n * C + c) * PP + i] *= m[i];
    }
}

/* One example for network idx from d: x [in,P,P] and its noise [out,P,P].
 * sd: noise std in band units; gain: intensity factor of the low-pass. */
static void make_example(const wp_trainer *t, const ex_scratch *w, const wp_dataset *d, int idx,
                         const wp_crop_aug *aug, wp_rng *dr, wp_rng *nr, float sd, float gain,
                         float *x, float *noise)
{
    if (idx == WP_TRAINER_FILL) {
        make_fill_example(t, w, d, aug, dr, nr, x, noise);
        return;
    }
    if (idx == WP_TRAINER_UP) {
        make_up_example(t, w, d, aug, dr, x, noise);
        return;
    }
    int C = t->o.channels, P = t->o.patch, n = band_levels(t, idx), S = P << n;
    size_t PP = (size_t)P * P;
    wp_dataset_crop(d, dr, S, aug, w->crop);
    if (t->o.clip) {
        make_clipped_example(t, w, idx, nr, sd * (float)(1 << n), gain, x, noise);
        return;
    }
    /* crop -> n levels; the last one's low-pass lands in crop, details in tmp */
    float *det = w->tmp + (size_t)C * S * S / 4;
    reduce_crop(w->crop, w->tmp, det, C, S, P);
    if (idx < 0) {
        for (size_t i = 0; i < C * PP; i++)
            x[i] = w->crop[i] * gain;
    } else {
        memcpy(x, w->crop, sizeof(float) * C * PP);
        memcpy(x + C * PP, det, sizeof(float) * 3 * C * PP);
        x += C * PP;
    }
    size_t nout = (size_t)(idx < 0 ? C : 3 * C) * PP;
    wp_rng_fill_gauss(nr, noise, nout, sd);
    for (size_t i = 0; i < nout; i++)
        x[i] += noise[i];
}

void wp_train_example(wp_trainer *t, int idx, uint64_t seed, float sigma, float *x, float *noise)
{
    wp_rng dr, nr;
    wp_rng_seed(&dr, seed);
    wp_rng_split(&dr, 1, &nr);
    const wp_crop_aug aug = {0, 1, 0, 0};
    float band = noise_share(t, idx);
    ex_scratch w = slot(t, 0);
    make_example(t, &w, t->train, idx, &aug, &dr, &nr, sigma / 255.0f * band, 1.0f, x, noise);
}

static size_t in_floats(const wp_trainer *t, int idx)
{
    size_t PP = (size_t)t->o.patch * t->o.patch;
    if (idx == WP_TRAINER_FILL)
        return (size_t)(t->o.channels + 1) * PP;
    return (size_t)(idx < 0 && idx != WP_TRAINER_UP ? 1 : 4) * t->o.channels * PP;
}

/* Output bands of network idx: 3 for the detail bands (cond, up), 1 for an
 * image (low, den, fill).  A detail band's error shows 3x in the image of
 * the finer level (inverse Haar: pixel MSE = sum of the three bands' MSEs). */
static int out_bands(int idx) { return idx >= 0 || idx == WP_TRAINER_UP ? 3 : 1; }

static size_t out_floats(const wp_trainer *t, int idx)
{
    return (size_t)out_bands(idx) * t->o.channels * t->o.patch * t->o.patch;
}

/* Fixed validation crops of the current stage at val_sigma projected on
 * the band (what it sees when a whole image carries that pixel noise). */
static wp_status build_val(wp_trainer *t, char *err)
{
    int idx = t->order[t->stage], Nv = t->o.val_batch, fail = 0;
    const wp_net *net = wp_trainer_net(t, idx);
    size_t nin = in_floats(t, idx), nout = out_floats(t, idx);
    grow(&t->val_x, Nv * nin, &fail);
    grow(&t->val_noise, Nv * nout, &fail);
    grow(&t->val_y, Nv * nout, &fail);
    grow(&t->val_ws, wp_net_infer_floats(net, Nv, t->o.patch, t->o.patch), &fail);
    if (fail)
        return wp_fail(err, WP_ERR_NOMEM, "out of memory for validation crops");
    wp_rng dr, nr;
    wp_rng_seed(&dr, t->o.seed ^ 0x7a11dULL);
    wp_rng_split(&dr, (uint64_t)(idx + 2), &dr);
    wp_rng_split(&dr, 1, &nr);
    const wp_crop_aug aug = {0, 1, 0, 0};
    float sd = t->o.val_sigma / 255.0f / (float)(1 << band_levels(t, idx));
    ex_scratch w = slot(t, 0);
    for (int n = 0; n < Nv; n++) /* one stream for all: serial */
        make_example(t, &w, t->val ? t->val : t->train, idx, &aug, &dr, &nr, sd, 1.0f,
                     t->val_x + n * nin, t->val_noise + n * nout);
    double se = 0.0;
    for (size_t i = 0; i < Nv * nout; i++)
        se += (double)t->val_noise[i] * t->val_noise[i];
    t->val_input_psnr = 10.0 * log10(1.0 / (out_bands(idx) * se / (double)(Nv * nout)));
    t->val_stage = t->stage;
    return WP_OK;
}

/* PSNR of the band's image after denoising the validation crops with the
 * running statistics (out_bands: the detail bands' error in the image). */
static double validate(wp_trainer *t)
{
    int idx = t->order[t->stage], Nv = t->o.val_batch, P = t->o.patch;
    size_t nout = out_floats(t, idx);
    wp_trainer_swap_ema(t); /* the weights the export would take */
    wp_net_forward(wp_trainer_net(t, idx), t->val_x, t->val_y, Nv, P, P, t->val_ws, NULL);
    wp_trainer_swap_ema(t);
    if (idx == WP_TRAINER_FILL)
        mask_fill_output(t, t->val_y, t->val_x, Nv);
    double mse = wp_mse_forward(t->val_y, t->val_noise, Nv * nout) * out_bands(idx);
    return mse > 0 ? 10.0 * log10(1.0 / mse) : INFINITY;
}

wp_status wp_trainer_set_data(wp_trainer *t, const wp_dataset *train, const wp_dataset *val,
                              char *err)
{
    if (!train || wp_dataset_count(train) < 1)
        return wp_fail(err, WP_ERR_ARG, "no training images");
    if (wp_dataset_channels(train) != t->o.channels ||
        (val && wp_dataset_channels(val) != t->o.channels))
        return wp_fail(err, WP_ERR_ARG, "the images have %d channels, the prior %d",
                       wp_dataset_channels(train), t->o.channels);
    t->train = train;
    t->val = val && wp_dataset_count(val) > 0 ? val : NULL;
    t->val_stage = -1;
    return WP_OK;
}

/* ---- steps ---- */

static double lr_at(const wp_train_options *o, long step)
{
    double lr = o->lr;
    if (o->warmup > 0 && step < o->warmup)
        lr *= (double)(step + 1) / (double)o->warmup;
    if (o->schedule == WP_LR_COSINE)
        lr *= 0.01 + 0.99 * 0.5 * (1.0 + cos(M_PI * (double)step / (double)o->steps));
    else if (o->schedule == WP_LR_STEP && o->lr_halve_every > 0)
        lr *= pow(0.5, (double)(step / o->lr_halve_every));
    return lr;
}

/* Multiply-adds x2 of one training step: forward, weight gradients, and
 * input gradients of every layer but the first. */
static double step_flops(const wp_net *net, int N, int P)
{
    double f = 0.0;
    for (int l = 0; l < net->nlayers; l++) {
        double k = net->kernel[l];
        double fwd = 2.0 * wp_net_layer_in(net, l) * wp_net_layer_out(net, l) * k * k * P * P * N;
        f += fwd * (l == 0 ? 2.0 : 3.0);
    }
    return f;
}

static int params_finite(const wp_net *net)
{
    float s = 0.0f;
    for (size_t i = 0; i < net->nparams; i++)
        s += net->params[i] * 0.0f; /* NaN/Inf survive the product */
    return s == 0.0f;
}

/* Key of sample n's streams, apart from the keys the seeding used. */
#define SAMPLE_KEY 0x5a3b1e0000000000ULL

/* Samples [n0, n1) of every batch are this process's. */
static void my_samples(const wp_trainer *t, int *n0, int *n1)
{
    long N = t->o.batch, size = t->comm.size > 1 ? t->comm.size : 1, r = size > 1 ? t->comm.rank : 0;
    *n0 = (int)(N * r / size);
    *n1 = (int)(N * (r + 1) / size);
}

/* v[n] summed over the processes (nothing alone); a failure is kept. */
static void comm_sum(wp_trainer *t, double *v, size_t n)
{
    if (t->comm.size > 1 && !t->comm_failed && t->comm.sum_f64(t->comm.ctx, v, n))
        t->comm_failed = 1;
}

static int bn_sum(void *ctx, double *v, size_t n)
{
    wp_trainer *t = ctx;
    comm_sum(t, v, n);
    return t->comm_failed;
}

wp_status wp_trainer_set_comm(wp_trainer *t, const wp_train_comm *comm, char *err)
{
    if (!comm || comm->size <= 1) {
        memset(&t->comm, 0, sizeof t->comm);
        return WP_OK;
    }
    if (comm->rank < 0 || comm->rank >= comm->size || !comm->sum_f32 || !comm->sum_f64)
        return wp_fail(err, WP_ERR_ARG, "bad communicator (rank %d of %d)", comm->rank,
                       comm->size);
    if (t->o.batch < comm->size)
        return wp_fail(err, WP_ERR_ARG, "a batch of %d crops cannot be shared by %d processes",
                       t->o.batch, comm->size);
    if (!t->bn_sync.st && !(t->bn_sync.st = malloc(sizeof(double) * (3 * WP_MAX_WIDTH + 1))))
        return wp_fail(err, WP_ERR_NOMEM, "out of memory");
    t->bn_sync.sum = bn_sum;
    t->bn_sync.ctx = t;
    t->comm = *comm;
    t->comm_failed = 0;
    return WP_OK;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

uint64_t wp_trainer_state_hash(const wp_trainer *t)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int s = 0; s < t->nstages; s++) {
        const wp_net *net = wp_trainer_net((wp_trainer *)t, t->order[s]);
        h = fnv1a(h, net->params, sizeof(float) * net->nparams);
        h = fnv1a(h, net->running_sd, sizeof(float) * wp_net_bn_floats(net));
    }
    if (t->adam.m)
        h = fnv1a(h, t->adam.m, sizeof(float) * 2 * t->adam.n); /* m and v: one block */
    if (t->ema)
        h = fnv1a(h, t->ema, sizeof(float) * t->ema_n);
    h = fnv1a(h, t->data_rng.s, sizeof t->data_rng.s);
    return fnv1a(h, t->noise_rng.s, sizeof t->noise_rng.s);
}

/* An example's weight in the loss (see wp_train_options.loss_sigma). */
static float example_weight(const wp_train_options *o, double sigma)
{
    double s2 = (double)o->loss_sigma * o->loss_sigma;
    return o->loss_sigma > 0.0f ? (float)(s2 / (s2 + sigma * sigma)) : 1.0f;
}

typedef struct {
    const wp_trainer *t;
    int idx, n0;
    const wp_crop_aug *aug;
    float band;
    size_t nin, nout;
} batch_job;

/* Example n0 + i of a step, on thread slot tid. */
static void batch_example(int i, int tid, void *ctx)
{
    const batch_job *j = ctx;
    const wp_trainer *t = j->t;
    int n = j->n0 + i;
    /* Sample n's own streams: the same crop whichever process or thread
     * makes it. */
    wp_rng dr, nr;
    wp_rng_split(&t->data_rng, SAMPLE_KEY + (uint64_t)n, &dr);
    wp_rng_split(&t->noise_rng, SAMPLE_KEY + (uint64_t)n, &nr);
    double sigma = wp_train_draw_sigma(&t->o, &nr);
    float sd = (float)(sigma / 255.0) * j->band;
    t->exw[i] = example_weight(&t->o, sigma);
    float gain =
        j->idx < 0 && !t->o.flat && t->o.rescale_low ? (float)wp_rng_uniform(&nr) : 1.0f;
    ex_scratch w = slot(t, tid);
    make_example(t, &w, t->train, j->idx, j->aug, &dr, &nr, sd, gain, t->x + (size_t)i * j->nin,
                 t->noise + (size_t)i * j->nout);
}

/* The sum over this process's Nl examples of each one's weight times its
 * squared error (t->y against t->noise, nout values each). */
static double weighted_squared_error(const wp_trainer *t, int Nl, size_t nout)
{
    double se = 0.0;
    for (int i = 0; i < Nl; i++)
        se += t->exw[i] * wp_mse_forward(t->y + (size_t)i * nout, t->noise + (size_t)i * nout, nout) *
              (double)nout;
    return se;
}

/* t->dy: d(loss)/dy of the whole batch's weighted mean (N examples, Nl of
 * them here): the local plain mean's, times each weight and Nl/N. */
static void weighted_squared_error_grad(wp_trainer *t, int Nl, int N, size_t nout)
{
    wp_mse_backward(t->dy, t->y, t->noise, Nl * nout);
    for (int i = 0; i < Nl; i++) {
        float s = t->exw[i] * (float)Nl / (float)N;
        if (s != 1.0f)
            for (size_t k = 0; k < nout; k++)
                t->dy[(size_t)i * nout + k] *= s;
    }
}

static wp_status train_step(wp_trainer *t, double *loss, char *err)
{
    int idx = t->order[t->stage], N = t->o.batch, P = t->o.patch;
    wp_net *net = wp_trainer_net(t, idx);
    size_t nin = in_floats(t, idx), nout = out_floats(t, idx);
    const wp_crop_aug aug = {t->o.flips, t->o.scale_aug, t->o.weight == WP_WEIGHT_AREA,
                             t->o.scale_min};
    float band = noise_share(t, idx);
    int n0, n1;
    my_samples(t, &n0, &n1);
    int Nl = n1 - n0;
    double t0 = wp_now();
    if (t->nslots < wp_threads() && grow_slots(t, wp_threads()))
        return wp_fail(err, WP_ERR_NOMEM, "out of memory for training buffers");
    batch_job job = {t, idx, n0, &aug, band, nin, nout};
    wp_parallel_for(Nl, batch_example, &job);
    wp_rng_u64(&t->data_rng); /* the next step's streams */
    wp_rng_u64(&t->noise_rng);
    double t1 = wp_now();
    if (t->cache_stage != t->stage) {
        /* The cache is sized by the net: a new net needs a new one. */
        wp_net_cache_free(&t->cache);
        t->cache_stage = t->stage;
    }
    const wp_bn_sync *sync = t->comm.size > 1 ? &t->bn_sync : NULL;
    wp_bn_set_sync(sync);
    wp_status st = wp_net_forward_train(net, &t->cache, t->x, t->y, Nl, P, P, 1, err);
    wp_bn_set_sync(NULL);
    if (st)
        return st;
    if (idx == WP_TRAINER_FILL)
        mask_fill_output(t, t->y, t->x, Nl);
    double se = weighted_squared_error(t, Nl, nout);
    comm_sum(t, &se, 1);
    *loss = se / (double)(N * nout);
    char nm[16];
    wp_trainer_net_name(t, idx, nm, sizeof nm);
    if (t->comm_failed)
        return wp_fail(err, WP_ERR_IO, "%s step %ld: a sum over the processes failed", nm,
                       t->step + 1);
    if (!isfinite(*loss))
        return wp_fail(err, WP_ERR_NUMERIC, "%s step %ld: the loss is %s (try a lower learning rate)",
                       nm, t->step + 1, isnan(*loss) ? "NaN" : "infinite");
    weighted_squared_error_grad(t, Nl, N, nout);
    memset(t->grad, 0, sizeof(float) * net->nparams);
    wp_bn_set_sync(sync);
    wp_net_backward(net, &t->cache, t->x, t->dy, t->grad, NULL);
    wp_bn_set_sync(NULL);
    /* One sum over a flat buffer: every parameter's gradient. */
    if (t->comm.size > 1 && t->comm.sum_f32(t->comm.ctx, t->grad, net->nparams))
        t->comm_failed = 1;
    if (t->comm_failed)
        return wp_fail(err, WP_ERR_IO, "%s step %ld: a sum over the processes failed", nm,
                       t->step + 1);
    wp_adam_step(&t->adam, net->params, t->grad, (float)lr_at(&t->o, t->step));
    if (!params_finite(net))
        return wp_fail(err, WP_ERR_NUMERIC, "%s step %ld: a weight became NaN or infinite", nm,
                       t->step + 1);
    if (t->ema) {
        wp_ema_update(t->ema, net->params, net->nparams, t->o.ema);
        wp_ema_update(t->ema + net->nparams, net->running_sd, t->ema_n - net->nparams, t->o.ema);
    }
    t->loss_ema = t->step == 0 ? *loss : 0.98 * t->loss_ema + 0.02 * *loss;
    if (t->step >= 50 && (t->best_ema == 0.0 || t->loss_ema < t->best_ema))
        t->best_ema = t->loss_ema;
    if (t->o.diverge > 0 && t->best_ema > 0 && t->loss_ema > t->o.diverge * t->best_ema)
        return wp_fail(err, WP_ERR_NUMERIC,
                       "%s step %ld: the loss diverged (smoothed %.4g, %.0fx its best %.4g); "
                       "try a lower learning rate",
                       nm, t->step + 1, t->loss_ema, t->loss_ema / t->best_ema, t->best_ema);
    double t2 = wp_now();
    t->step++;
    t->seconds += t2 - t0;
    t->data_seconds += t1 - t0;
    t->samples += Nl;
    t->flops += step_flops(net, Nl, P);
    return WP_OK;
}

static long total_steps(const wp_trainer *t) { return (long)t->nstages * t->o.steps; }

wp_status wp_trainer_run(wp_trainer *t, long max_steps, const volatile int *stop, char *err)
{
    if (!t->train)
        return wp_fail(err, WP_ERR_ARG, "no training data (wp_trainer_set_data)");
    wp_status st = WP_OK;
    int cb_stop = 0;
    for (long done = 0; t->stage < t->nstages; done++) {
        if (max_steps > 0 && done >= max_steps)
            break;
        /* Every process stops at the same step: a stop anywhere stops all. */
        double want = (stop && *stop) || cb_stop;
        comm_sum(t, &want, 1);
        if (t->comm_failed)
            return wp_fail(err, WP_ERR_IO, "a sum over the processes failed");
        if (want > 0)
            break;
        int idx = t->order[t->stage];
        /* Validation is the same on every process: only the first reports it. */
        int do_val = t->o.val_every > 0 && t->comm.rank == 0 &&
                     ((t->step + 1) % t->o.val_every == 0 || t->step + 1 == t->o.steps);
        if (do_val && t->val_stage != t->stage && (st = build_val(t, err)))
            return st;
        double loss = 0.0, lr = lr_at(&t->o, t->step);
        if ((st = train_step(t, &loss, err)))
            return st;
        char nm[16];
        wp_trainer_net_name(t, idx, nm, sizeof nm);
        wp_train_report r = {
            .net = nm, .stage = t->stage, .stages = t->nstages, .step = t->step,
            .steps = t->o.steps, .total_step = (long)t->stage * t->o.steps + t->step,
            .total_steps = total_steps(t), .loss = loss, .loss_avg = t->loss_ema, .lr = lr,
            .val_psnr = do_val ? validate(t) : NAN,
            .val_input_psnr = do_val ? t->val_input_psnr : NAN, .seconds = t->seconds,
            .samples_per_s = t->seconds > 0 ? t->samples / t->seconds : 0,
            .gflops_per_s = t->seconds > 0 ? t->flops / t->seconds * 1e-9 : 0,
        };
        if (t->step == t->o.steps) {
            wp_trainer_swap_ema(t); /* a finished net keeps the average */
            t->stage++;
            t->step = 0;
            if ((st = wp_trainer_enter_stage(t, err)))
                return st;
        }
        cb_stop = t->cb && t->cb(&r, t->cb_data);
    }
    return WP_OK;
}

/* ---- small accessors ---- */

int wp_trainer_done(const wp_trainer *t) { return t->stage >= t->nstages; }

void wp_trainer_progress(const wp_trainer *t, int *stage, int *stages, long *step)
{
    *stage = t->stage;
    *stages = t->nstages;
    *step = t->step;
}
const wp_train_options *wp_trainer_options(const wp_trainer *t) { return &t->o; }
wp_prior *wp_trainer_prior(wp_trainer *t) { return t->prior; }

void wp_trainer_set_callback(wp_trainer *t, wp_train_step_fn fn, void *user)
{
    t->cb = fn;
    t->cb_data = user;
}

void wp_trainer_throughput(const wp_trainer *t, double *samples, double *flops, double *seconds,
                           double *data_seconds)
{
    *samples = t->samples;
    *flops = t->flops;
    *seconds = t->seconds;
    *data_seconds = t->data_seconds;
}

const char *wp_trainer_note(const wp_trainer *t, const char *key)
{
    for (int i = 0; i < t->nnotes; i++)
        if (!strcmp(t->notes[i].key, key))
            return t->notes[i].value;
    return NULL;
}

wp_status wp_trainer_set_note(wp_trainer *t, const char *key, const char *value, char *err)
{
    int i = 0;
    while (i < t->nnotes && strcmp(t->notes[i].key, key))
        i++;
    if (i == WP_TRAIN_MAX_NOTES)
        return wp_fail(err, WP_ERR_ARG, "more than %d notes", WP_TRAIN_MAX_NOTES);
    char *v = strdup(value), *k = i < t->nnotes ? t->notes[i].key : strdup(key);
    if (!v || !k) {
        free(v);
        if (i == t->nnotes)
            free(k);
        return wp_fail(err, WP_ERR_NOMEM, "out of memory");
    }
    if (i < t->nnotes)
        free(t->notes[i].value);
    else
        t->nnotes++;
    t->notes[i] = (wp_st_meta){k, v};
    return WP_OK;
}

/* ---- evaluation helpers ---- */

void wp_add_noise(float *x, size_t n, float sigma, uint64_t seed)
{
    wp_rng r;
    wp_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        x[i] += (float)wp_rng_gauss(&r) * sigma;
}

double wp_psnr(const float *a, const float *b, size_t n)
{
    double mse = wp_mse_forward(a, b, n);
    return mse > 0 ? 10.0 * log10(1.0 / mse) : INFINITY;
}
