/* net_train.c: the training step's forward and backward, fused image by
 * image.  The layer-by-layer path (net.c, wp_layers.h's batch calls) makes
 * several passes over each layer's activations in memory (the conv's
 * output, BN's statistics, normalisation + ReLU, BN-backward's sums, its
 * dz, then the weight and data products reading dz); here each image goes
 * through a layer while its tensors are in cache:
 *   forward:  a = relu(A z) of the layer below, recomputed from z (a is
 *             never stored: a 3x3 conv's Winograd transform forms it as
 *             it reads z, a 1x1 conv's input goes through a thread's
 *             buffer), the conv, the BN statistics of its output;
 *   backward: dz from z and da into a thread's buffer, the weight
 *             gradient (with the input relu(A z) recomputed the same
 *             way), the data gradient, and the BN-backward sums of the
 *             layer below from it and that input (still in cache; the
 *             mean of z comes from the forward).
 * Per-image statistics are combined in image order, and weight gradients
 * in GRAD_BLOCKS fixed blocks of images that threads take as they come
 * free (a core lost to another process for a while holds up no share),
 * each block zeroing its own accumulator, summed in block order: results
 * depend neither on thread timing nor on the thread count.
 * Without a sync (wp_bn_set_sync) only: data-parallel training keeps the
 * layer-by-layer path, whose statistics go through the sync. */
#include "wp_net.h"

#include <string.h>

#include "wp_conv.h"
#include "wp_layers.h"
#include "wp_parallel.h"

#define GRAD_BLOCKS 8

typedef struct {
    const wp_net *net;
    wp_net_cache *c;
    const float *x;
    int l, N, H, W, T;
    const float *w;      /* U (3x3) or the weights (1x1) */
    const float *in;     /* backward: da of layer l, or dy */
    float *out;          /* forward: layer l's output; backward: da below, dx or NULL */
    float *slices;       /* per thread: conv slice, a buffer, dz buffer */
    float *acc;          /* backward: GRAD_BLOCKS weight-gradient accumulators */
    size_t per, conv;    /* a slice's floats; its conv part */
} fused_ctx;

static size_t act_floats(const fused_ctx *f) { return (size_t)f->N * f->net->width * f->H * f->W; }

/* A = gamma / sd of layer l, then its mean */
static const float *bn_scale(const fused_ctx *f, int l)
{
    return f->c->bn_scale + (size_t)l * 2 * f->net->width;
}

/* Layer l's input of image n: x, the first conv's output, or relu(A z)
 * of the layer below: for a 3x3 layer z with *scale = A (the Winograd
 * transform forms relu(A z) as it reads z), for 1x1 recomputed into buf. */
static const float *layer_input(const fused_ctx *f, int l, int n, float *buf,
                                const float **scale)
{
    size_t HW = (size_t)f->H * f->W, C = f->net->width;
    *scale = NULL;
    if (l == 0)
        return f->x + (size_t)n * f->net->in_ch * HW;
    if (l == 1)
        return f->c->a + (size_t)n * C * HW;
    const float *z = f->c->z + (size_t)(l - 2) * act_floats(f) + n * C * HW;
    if (f->net->kernel[l] == 3) {
        *scale = bn_scale(f, l - 1);
        return z;
    }
    wp_bn_relu_image(buf, z, bn_scale(f, l - 1), (int)C, (int)HW);
    return buf;
}

static int middle(const wp_net *net, int l) { return l > 0 && l < net->nlayers - 1; }

static void forward_image(int n, int tid, void *p)
{
    const fused_ctx *f = p;
    int l = f->l, ci = wp_net_layer_in(f->net, l), co = wp_net_layer_out(f->net, l);
    size_t HW = (size_t)f->H * f->W;
    float *slice = f->slices + (size_t)tid * f->per, *abuf = slice + f->conv;
    float *out = f->out + (size_t)n * co * HW;
    const float *s, *in = layer_input(f, l, n, abuf, &s);
    wp_conv_image(out, in, s, f->w, ci, co, f->H, f->W, f->net->kernel[l], 0, slice);
    if (middle(f->net, l))
        wp_bn_image_stats(f->c->stats + (size_t)n * 2 * co, out, co, (int)HW);
}

/* Scratch of the fused step for N images of HxW (floats). */
static size_t slice_floats(const wp_net *net, int l, int H, int W)
{
    int ci = wp_net_layer_in(net, l), co = wp_net_layer_out(net, l);
    size_t conv = (wp_conv_thread_floats(ci, co, H, W, net->kernel[l]) + 15) & ~(size_t)15;
    return conv + (((size_t)(ci + co) * H * W + 15) & ~(size_t)15);
}

static size_t acc_floats(const wp_net *net, int l, int H, int W)
{
    int ci = wp_net_layer_in(net, l), co = wp_net_layer_out(net, l);
    return (wp_conv_grad_floats(ci, co, H, W, net->kernel[l]) + 15) & ~(size_t)15;
}

size_t wp_net_fused_scratch_floats(const wp_net *net, int H, int W)
{
    size_t need = 0;
    for (int l = 0; l < net->nlayers; l++) {
        int ci = wp_net_layer_in(net, l), co = wp_net_layer_out(net, l);
        size_t s = 16 + wp_conv_weight_floats(ci, co, H, W, net->kernel[l]) +
                   (size_t)wp_threads() * slice_floats(net, l, H, W) +
                   GRAD_BLOCKS * acc_floats(net, l, H, W);
        need = s > need ? s : need;
    }
    return need;
}

/* The per-thread slices of layer l after its (Winograd) weights. */
static void set_slices(fused_ctx *f, const float *w, int adjoint)
{
    int l = f->l, ci = wp_net_layer_in(f->net, l), co = wp_net_layer_out(f->net, l);
    int k = f->net->kernel[l];
    float *end = wp_conv_batch_weights(f->c->scratch, w, ci, co, f->H, f->W, k, adjoint);
    f->w = k == 3 ? f->c->scratch : w;
    f->slices = end;
    f->per = slice_floats(f->net, l, f->H, f->W);
    f->conv = (wp_conv_thread_floats(ci, co, f->H, f->W, k) + 15) & ~(size_t)15;
    f->acc = f->slices + (size_t)wp_threads() * f->per;
}

void wp_net_forward_fused(const wp_net *net, wp_net_cache *c, const float *x, float *y,
                          int update_running)
{
    int N = c->N, L = net->nlayers, C = net->width;
    fused_ctx f = {net, c, x, 0, N, c->H, c->W, 0, NULL, NULL, NULL, NULL, NULL, 0, 0};
    size_t act = act_floats(&f);
    for (int l = 0; l < L; l++) {
        f.l = l;
        set_slices(&f, net->conv_w[l], 0);
        f.out = l == 0 ? c->a : l == L - 1 ? y : c->z + (size_t)(l - 1) * act;
        wp_parallel_for(N, forward_image, &f);
        if (middle(net, l))
            wp_bn_batch_stats(c->bn_scale + (size_t)l * 2 * C, c->bn_scale + (size_t)(2 * l + 1) * C,
                              c->batch_sd + (size_t)(l - 1) * C,
                              update_running ? net->rsd[l] : NULL, net->gamma[l], c->stats, N, C,
                              c->H * c->W);
    }
}

/* Block b of T (GRAD_BLOCKS or N) takes images [b N / T, (b+1) N / T)
 * into its accumulator, on whichever thread runs it. */
static void backward_block(int b, int tid, void *p)
{
    const fused_ctx *f = p;
    const wp_net *net = f->net;
    int l = f->l, ci = wp_net_layer_in(net, l), co = wp_net_layer_out(net, l), k = net->kernel[l];
    size_t HW = (size_t)f->H * f->W, act = act_floats(f);
    float *acc = f->acc + (size_t)b * acc_floats(net, l, f->H, f->W);
    float *work = f->slices + (size_t)tid * f->per;
    float *abuf = work + f->conv, *dz = abuf + (size_t)ci * HW;
    /* zeroed here: on the threads */
    memset(acc, 0, sizeof(float) * wp_conv_grad_floats(ci, co, f->H, f->W, k));
    for (int n = (int)((long)b * f->N / f->T); n < (int)((long)(b + 1) * f->N / f->T); n++) {
        const float *g = f->in + (size_t)n * co * HW;
        if (middle(net, l)) {
            wp_bn_dz_image(dz, f->c->z + (size_t)(l - 1) * act + n * co * HW, g, bn_scale(f, l),
                           f->c->bn_coef, co, (int)HW);
            g = dz;
        }
        const float *s, *in = layer_input(f, l, n, abuf, &s);
        wp_conv_weights_image(acc, work, in, s, g, ci, co, f->H, f->W, k);
        if (!f->out)
            continue;
        float *o = f->out + (size_t)n * ci * HW;
        wp_conv_image(o, g, NULL, f->w, co, ci, f->H, f->W, k, 1, work);
        /* the input was relu(A z) of layer l - 1: z with s = A, or in abuf */
        if (middle(net, l - 1) && s)
            wp_bn_image_grad_sums_relu(f->c->stats + (size_t)n * ci, in, s, o, ci, (int)HW);
        else if (middle(net, l - 1))
            wp_bn_image_grad_sums(f->c->stats + (size_t)n * ci, in, o, ci, (int)HW);
    }
}

void wp_net_backward_fused(const wp_net *net, wp_net_cache *c, const float *x, const float *dy,
                           float *grad, float *dx)
{
    int N = c->N, L = net->nlayers, C = net->width;
    fused_ctx f = {net, c, x, 0, N, c->H, c->W, N < GRAD_BLOCKS ? N : GRAD_BLOCKS, NULL, dy,
                   NULL, NULL, NULL, 0, 0};
    size_t gamma_off = wp_net_conv_offset(net, L);
    float *da = c->d0, *next = c->d1;
    for (int l = L - 1; l >= 0; l--) {
        int ci = wp_net_layer_in(net, l), co = wp_net_layer_out(net, l), k = net->kernel[l];
        f.l = l;
        set_slices(&f, net->conv_w[l], 1);
        f.out = l > 0 ? next : dx;
        wp_parallel_for(f.T, backward_block, &f);
        wp_conv_weights_finish(grad + wp_net_conv_offset(net, l), f.acc,
                               acc_floats(net, l, f.H, f.W), f.T, ci, co, f.H, f.W, k);
        if (middle(net, l - 1))
            wp_bn_grad_coefs(c->bn_coef, grad + gamma_off + (size_t)(l - 2) * C, net->gamma[l - 1],
                             c->batch_sd + (size_t)(l - 2) * C, bn_scale(&f, l - 1),
                             bn_scale(&f, l - 1) + C, c->stats, N, C, c->H * c->W);
        f.in = next;
        next = da;
        da = (float *)f.in;
    }
}
