/* conv.c: convolutions for inference and training.
 * - 3x3 forward and backward-data: Winograd F(2x2,3x3) (conv_wino.c),
 *   F(4x4,3x3) (conv_wino4.c) where it is faster;
 * - 1x1: one GEMM, at inference in spatial chunks over the engine's
 *   threads with BN scale folded into the weights and ReLU applied while
 *   the chunk is in cache;
 * - backward-weights: 3x3 by Winograd (conv_wino.c), 1x1 one GEMM per
 *   image, each thread into its own accumulator.
 * conv_ref.c holds the plain-loop oracle of each. */
#include "wp_layers.h"

#include <cblas.h>
#include <string.h>

#include "wp_conv.h"
#include "wp_parallel.h"

#define CHUNK_PIXELS 4096

/* 1x1 GEMMs go in column blocks small enough (M N K <= 1e6) for
 * OpenBLAS's small-matrix kernels, which skip its packing and its
 * zeroing pass over the output; the block's input rows are first copied
 * side by side, since rows of an image that lie a multiple of 4 KiB apart
 * alias in the cache (see gemm_1x1). */
static int block_cols(int ci, int co)
{
    int b = 1000000 / (ci * co) & ~15;
    return b < 16 ? 16 : b;
}

static size_t pack_floats(int ci, int co)
{
    size_t blas = (size_t)(ci > co ? ci : co) * block_cols(ci, co), k1 = wp_k1x1_pack_floats(ci);
    k1 = k1 > wp_k1x1_pack_floats(co) ? k1 : wp_k1x1_pack_floats(co); /* either way round */
    return ((blas > k1 ? blas : k1) + 15) & ~(size_t)15;
}

/* 3x3 layers by F(4x4) where it beats F(2x2): at inference measured
 * 1.1-1.5x from 24x24 up (1 -> 64, 64 -> 64, 64 -> 1 channels), 0.6x at
 * 16x16 (bench/results/speed.md). */
static int use_wino4(int H, int W)
{
    return H >= 24 && W >= 24;
}

static size_t wino_floats(int Cin, int Cout, int H, int W)
{
    if (use_wino4(H, W))
        return wp_wino4_weight_floats(Cin, Cout) + 16 +
               (size_t)wp_threads() * wp_wino4_chunk_floats(Cin, Cout, W);
    return wp_wino_weight_floats(Cin, Cout) + 16 +
           (size_t)wp_threads() * wp_wino_chunk_floats(Cin, Cout, W);
}

/* Weight-gradient accumulator: Winograd's 16 or 36 planes for 3x3. */
size_t wp_conv_grad_floats(int Cin, int Cout, int H, int W, int k)
{
    return (size_t)Cout * Cin * (k != 3 ? 1 : use_wino4(H, W) ? 36 : 16);
}

/* Per thread, for the training ops: a Winograd chunk (forward,
 * backward-data or weight gradient) or a 1x1 block, and a private
 * weight-gradient accumulator. */
static size_t per_thread_floats(int Cin, int Cout, int H, int W, int k)
{
    size_t m = pack_floats(Cin, Cout);
    if (k == 3) {
        int w4 = use_wino4(H, W);
        size_t wf = w4 ? wp_wino4_chunk_floats(Cin, Cout, W) : wp_wino_chunk_floats(Cin, Cout, W);
        size_t wb = w4 ? wp_wino4_chunk_floats(Cout, Cin, W) : wp_wino_chunk_floats(Cout, Cin, W);
        size_t wg = w4 ? wp_wino4_dw_floats(Cin, Cout, H, W) : wp_wino_dw_floats(Cin, Cout, H, W);
        m = wf > wb ? wf : wb;
        m = m > wg ? m : wg;
    }
    return ((m + wp_conv_grad_floats(Cin, Cout, H, W, k) + 15) & ~(size_t)15);
}

size_t wp_conv_weight_floats(int Cin, int Cout, int H, int W, int k)
{
    if (k != 3)
        return 0;
    size_t U = use_wino4(H, W) ? wp_wino4_weight_floats(Cin, Cout)
                               : wp_wino_weight_floats(Cin, Cout);
    return U + 16;
}

size_t wp_conv2d_scratch_floats(int Cin, int Cout, int H, int W, int k)
{
    return wp_conv_weight_floats(Cin, Cout, H, W, k) +
           (size_t)wp_threads() * per_thread_floats(Cin, Cout, H, W, k);
}

size_t wp_conv_fused_scratch_floats(int Cin, int Cout, int H, int W, int k)
{
    return k == 3 ? wino_floats(Cin, Cout, H, W)
                  : (size_t)Cin * Cout + 16 + (size_t)wp_threads() * pack_floats(Cin, Cout);
}

/* ---- 1x1 in chunks ---- */

typedef struct {
    float *y;
    const float *x, *w;
    int Cin, Cout, HW, relu;
    float *pack; /* per thread: pack_floats */
} gemm_ctx;

/* 1x1: y[co, n] = w[co, ci] x[ci, n] over n columns of rows ld apart
 * (adjoint: w is [ci][co] and enters transposed, the backward-data
 * product), in blocks packed into pack (pack_floats).  Measured against
 * one GEMM per image, 64 channels, Zen 4, 1 thread: 1.5x at 64x64, 1.25x
 * at 40x40 (unpacked small blocks: 0.9x at 64x64, 1.35x at 40x40). */
static void gemm_1x1(float *y, const float *x, const float *w, int ci, int co, int ld, int n,
                     int adjoint, int relu, float *pack)
{
    /* w(o, k): w[o][k], adjoint w[k][o] */
    if (wp_k1x1(y, x, w, adjoint ? 1 : (size_t)ci, adjoint ? (size_t)co : 1, ci, co, ld, n, relu,
                pack))
        return;
    int block = block_cols(ci, co);
    for (int j = 0; j < n; j += block) {
        int m = n - j < block ? n - j : block;
        for (int r = 0; r < ci; r++)
            memcpy(pack + (size_t)r * m, x + (size_t)r * ld + j, sizeof(float) * m);
        cblas_sgemm(CblasRowMajor, adjoint ? CblasTrans : CblasNoTrans, CblasNoTrans, co, m, ci,
                    1.0f, w, adjoint ? co : ci, pack, m, 0.0f, y + j, ld);
        if (relu) /* while the block is in cache */
            for (int o = 0; o < co; o++) {
                float *r = y + (size_t)o * ld + j;
                for (int k = 0; k < m; k++)
                    r[k] = r[k] > 0.0f ? r[k] : 0.0f;
            }
    }
}

static void gemm_chunk(int i, int tid, void *p)
{
    const gemm_ctx *c = p;
    int j0 = i * CHUNK_PIXELS, n = c->HW - j0 < CHUNK_PIXELS ? c->HW - j0 : CHUNK_PIXELS;
    gemm_1x1(c->y + j0, c->x + j0, c->w, c->Cin, c->Cout, c->HW, n, 0, c->relu,
             c->pack + (size_t)tid * pack_floats(c->Cin, c->Cout));
}

void wp_conv2d_forward_fused(float *y, const float *x, const float *w, const float *scale,
                             int relu, int Cin, int Cout, int H, int W, int k, float *scratch)
{
    if (k == 3 && use_wino4(H, W)) {
        float *U = scratch, *rest = scratch + wp_wino4_weight_floats(Cin, Cout) + 16;
        wp_wino4_weights(U, w, Cin, Cout, scale, 0);
        wp_wino4_conv3x3(y, x, NULL, U, Cin, Cout, H, W, relu, rest);
        return;
    }
    if (k == 3) {
        float *U = scratch, *rest = scratch + wp_wino_weight_floats(Cin, Cout) + 16;
        wp_wino_weights(U, w, Cin, Cout, scale, 0);
        wp_wino_conv3x3(y, x, NULL, U, Cin, Cout, H, W, relu, rest);
        return;
    }
    const float *wk = w;
    if (scale) { /* fold the BN scale into the rows of the weights */
        for (int o = 0; o < Cout; o++)
            for (int i = 0; i < Cin; i++)
                scratch[(size_t)o * Cin + i] = w[(size_t)o * Cin + i] * scale[o];
        wk = scratch;
    }
    gemm_ctx c = {y, x, wk, Cin, Cout, H * W, relu, scratch + (size_t)Cin * Cout + 16};
    wp_parallel_for((H * W + CHUNK_PIXELS - 1) / CHUNK_PIXELS, gemm_chunk, &c);
}

/* ---- the wp_layers.h API (N images): parallel over the images ---- */

typedef struct {
    float *out;        /* y, dx or (per thread) dw */
    const float *in;   /* x or dy */
    const float *x;    /* backward-weights: the forward input */
    const float *w;    /* weights, or U for 3x3 */
    float *dw;
    int Cin, Cout, H, W, k, adjoint, N;
    float *scratch;    /* after U: per-thread slices */
    size_t per;
} batch_ctx;

static float *slice(const batch_ctx *c, int tid) { return c->scratch + (size_t)tid * c->per; }

void wp_conv_image(float *out, const float *in, const float *in_scale, const float *w, int ci,
                   int co, int H, int W, int k, int adjoint, float *work)
{
    if (k == 3 && use_wino4(H, W)) /* w is U for this direction */
        wp_wino4_conv3x3(out, in, in_scale, w, ci, co, H, W, 0, work);
    else if (k == 3)
        wp_wino_conv3x3(out, in, in_scale, w, ci, co, H, W, 0, work);
    else /* 1x1; backward-data: dx[Cin,HW] = w^T[Cin,Cout] dy[Cout,HW] */
        gemm_1x1(out, in, w, ci, co, H * W, H * W, adjoint, 0, work);
}

/* forward (adjoint = 0) or backward-data (adjoint = 1) of image n */
static void conv_image(int n, int tid, void *p)
{
    const batch_ctx *c = p;
    size_t HW = (size_t)c->H * c->W;
    int ci = c->adjoint ? c->Cout : c->Cin, co = c->adjoint ? c->Cin : c->Cout;
    wp_conv_image(c->out + (size_t)n * co * HW, c->in + (size_t)n * ci * HW, NULL, c->w, ci, co,
                  c->H, c->W, c->k, c->adjoint, slice(c, tid));
}

float *wp_conv_batch_weights(float *U, const float *w, int Cin, int Cout, int H, int W, int k,
                             int adjoint)
{
    if (k != 3)
        return U;
    if (use_wino4(H, W))
        wp_wino4_weights(U, w, adjoint ? Cout : Cin, adjoint ? Cin : Cout, NULL, adjoint);
    else
        wp_wino_weights(U, w, adjoint ? Cout : Cin, adjoint ? Cin : Cout, NULL, adjoint);
    return U + wp_conv_weight_floats(Cin, Cout, H, W, k);
}

static void conv_batch(float *out, const float *in, const float *w, int N, int Cin, int Cout,
                       int H, int W, int k, float *scratch, int adjoint)
{
    batch_ctx c = {out, in, NULL, w, NULL, Cin, Cout, H, W, k, adjoint, N, scratch,
                   per_thread_floats(Cin, Cout, H, W, k)};
    if (k == 3) {
        /* one Winograd transform of the weights for the whole batch */
        c.w = scratch;
        c.scratch = wp_conv_batch_weights(scratch, w, Cin, Cout, H, W, k, adjoint);
    }
    wp_parallel_for(N, conv_image, &c);
}

void wp_conv2d_forward(float *y, const float *x, const float *w, int N, int Cin, int Cout,
                       int H, int W, int k, float *scratch)
{
    conv_batch(y, x, w, N, Cin, Cout, H, W, k, scratch, 0);
}

void wp_conv2d_backward_data(float *dx, const float *dy, const float *w, int N, int Cin,
                             int Cout, int H, int W, int k, float *scratch)
{
    conv_batch(dx, dy, w, N, Cin, Cout, H, W, k, scratch, 1);
}

void wp_conv_weights_image(float *acc, float *work, const float *x, const float *x_scale,
                           const float *dy, int Cin, int Cout, int H, int W, int k)
{
    if (k == 3 && use_wino4(H, W)) {
        wp_wino4_dw_image(acc, x, x_scale, dy, Cin, Cout, H, W, work);
        return;
    }
    if (k == 3) {
        wp_wino_dw_image(acc, x, x_scale, dy, Cin, Cout, H, W, work);
        return;
    }
    /* dw[Cout,Cin] += dy[Cout,HW] * x^T[HW,Cin] */
    wp_gemm_abt(acc, dy, x, Cout, Cin, H * W);
}

static void weights_image(int n, float *mine, const batch_ctx *c)
{
    size_t HW = (size_t)c->H * c->W;
    wp_conv_weights_image(mine, mine + wp_conv_grad_floats(c->Cin, c->Cout, c->H, c->W, c->k),
                          c->x + (size_t)n * c->Cin * HW, NULL, c->in + (size_t)n * c->Cout * HW,
                          c->Cin, c->Cout, c->H, c->W, c->k);
}

/* Block b of T takes images [b N / T, (b+1) N / T) into accumulator b: a
 * fixed split, so the sums do not depend on thread timing. */
static void weights_block(int b, int tid, void *p)
{
    (void)tid;
    const batch_ctx *c = p;
    int T = c->adjoint; /* (the block count travels in this field) */
    for (int n = (int)((long)b * c->N / T); n < (int)((long)(b + 1) * c->N / T); n++)
        weights_image(n, slice(c, b), c);
}

void wp_conv2d_backward_weights(float *dw, const float *dy, const float *x, int N, int Cin,
                                int Cout, int H, int W, int k, float *scratch)
{
    /* Each thread sums its images into its own accumulator. */
    size_t U = wp_conv_weight_floats(Cin, Cout, H, W, k);
    int T = wp_threads() < N ? wp_threads() : N;
    if (T < 1)
        T = 1;
    batch_ctx c = {NULL, dy, x, NULL, dw, Cin, Cout, H, W, k, T, N, scratch + U,
                   per_thread_floats(Cin, Cout, H, W, k)};
    wp_conv_weights_start(c.scratch, c.per, T, Cin, Cout, H, W, k);
    wp_parallel_for(T, weights_block, &c);
    wp_conv_weights_finish(dw, c.scratch, c.per, T, Cin, Cout, H, W, k);
}

size_t wp_conv_thread_floats(int Cin, int Cout, int H, int W, int k)
{
    return per_thread_floats(Cin, Cout, H, W, k);
}

void wp_conv_weights_start(float *acc, size_t stride, int T, int Cin, int Cout, int H, int W,
                           int k)
{
    for (int t = 0; t < T; t++)
        memset(acc + (size_t)t * stride, 0,
               sizeof(float) * wp_conv_grad_floats(Cin, Cout, H, W, k));
}

typedef struct {
    float *acc;
    size_t stride, nw;
    int T;
} finish_ctx;

#define FINISH_SPAN 8192 /* floats of the accumulators a task sums */

static void finish_span(int j, int tid, void *p)
{
    (void)tid;
    const finish_ctx *f = p;
    size_t i0 = (size_t)j * FINISH_SPAN, i1 = i0 + FINISH_SPAN < f->nw ? i0 + FINISH_SPAN : f->nw;
    for (int t = 1; t < f->T; t++) {
        const float *mine = f->acc + (size_t)t * f->stride;
        for (size_t i = i0; i < i1; i++)
            f->acc[i] += mine[i];
    }
}

void wp_conv_weights_finish(float *dw, float *acc, size_t stride, int T, int Cin, int Cout,
                            int H, int W, int k)
{
    /* The accumulators add up in block order (each element's sum in the
     * same order on any thread count): for 3x3 in Winograd's domain (16
     * planes: spans of them on the engine's threads) before one transform
     * into dw, for 1x1 into dw. */
    size_t nw = wp_conv_grad_floats(Cin, Cout, H, W, k);
    if (k == 3) {
        finish_ctx f = {acc, stride, nw, T};
        wp_parallel_for((int)((nw + FINISH_SPAN - 1) / FINISH_SPAN), finish_span, &f);
        if (use_wino4(H, W))
            wp_wino4_dw_finish(dw, acc, Cin, Cout);
        else
            wp_wino_dw_finish(dw, acc, Cin, Cout);
        return;
    }
    for (int t = 0; t < T; t++) {
        const float *mine = acc + (size_t)t * stride;
        for (size_t i = 0; i < nw; i++)
            dw[i] += mine[i];
    }
}
