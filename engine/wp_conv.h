/* wp_conv.h: the optimised convolution kernels behind wp_layers.h
 * (Winograd F(2x2,3x3) and chunked GEMMs with a fused epilogue). */
#ifndef WP_CONV_H
#define WP_CONV_H

#include <stddef.h>

size_t wp_wino_chunk_floats(int Cin, int Cout, int W);
size_t wp_wino_weight_floats(int Cin, int Cout);
/* Winograd weights U[16][Cout][Cin], rows scaled by scale[o] (may be
 * NULL).  adjoint: w is [Cin][Cout][3][3] and U is for the transposed,
 * flipped kernel (the backward-data convolution). */
void wp_wino_weights(float *U, const float *w, int Cin, int Cout, const float *scale,
                     int adjoint);
/* U[n x n][Cout][Cin] = G g G^T, scaled, for G an n x 3 matrix applied by
 * G(u, g0, g1, g2) (n <= 6): the weight transform of F(n-2, 3) */
void wp_wino_weights_by(float *U, const float *w, int Cin, int Cout, const float *scale,
                        int adjoint, int n, void (*G)(float *u, float g0, float g1, float g2));
/* g = the 3x3 kernel from input i to output o (adjoint: as above) */
void wp_wino_kernel(float g[3][3], const float *w, int Cin, int Cout, int o, int i, int adjoint);
/* M[xi] = U[xi] V[xi] for xi < n: [Cout x Cin] x [Cin x T] products;
 * pack: wp_k1x1_pack_floats(max(Cin, Cout)) */
void wp_wino_products(float *M, const float *U, const float *V, int n, int Cin, int Cout, int T,
                      float *pack);
/* y[Cout,H,W] = (relu?)(conv3x3(x'[Cin,H,W])) with U from wp_wino_weights;
 * x' = x, or where xs is set relu(xs[c] x[c]) (a BN + ReLU layer's
 * output made from its conv output as it is read, exactly as
 * wp_bn_relu_image makes it); scratch: wp_threads() * wp_wino_chunk_floats(). */
void wp_wino_conv3x3(float *y, const float *x, const float *xs, const float *U, int Cin,
                     int Cout, int H, int W, int relu, float *scratch);

/* The same by Winograd F(4x4,3x3) (conv_wino4.c): U[36][Cout][Cin] from
 * wp_wino4_weights, scratch wp_threads() * wp_wino4_chunk_floats();
 * 1.78x fewer products, somewhat larger rounding (see test_layers.c). */
size_t wp_wino4_chunk_floats(int Cin, int Cout, int W);
size_t wp_wino4_weight_floats(int Cin, int Cout);
void wp_wino4_weights(float *U, const float *w, int Cin, int Cout, const float *scale,
                      int adjoint);
void wp_wino4_conv3x3(float *y, const float *x, const float *xs, const float *U, int Cin,
                      int Cout, int H, int W, int relu, float *scratch);

/* The weight gradient by F(4x4): as wp_wino_dw_* below with 36 planes */
size_t wp_wino4_dw_floats(int Cin, int Cout, int H, int W);
void wp_wino4_dw_image(float *dU, const float *x, const float *xs, const float *dy, int Cin,
                       int Cout, int H, int W, float *work);
void wp_wino4_dw_finish(float *dw, const float *dU, int Cin, int Cout);

/* 3x3 weight gradient by Winograd, one image on the calling thread:
 * dU[16][Cout][Cin] += the gradient of U for x[Cin,H,W] and
 * dy[Cout,H,W] (work: wp_wino_dw_floats); then dw[Cout][Cin][3][3] +=
 * the gradient of w from the summed dU. */
size_t wp_wino_dw_floats(int Cin, int Cout, int H, int W);
void wp_wino_dw_image(float *dU, const float *x, const float *xs, const float *dy, int Cin,
                      int Cout, int H, int W, float *work);
void wp_wino_dw_finish(float *dw, const float *dU, int Cin, int Cout);
/* dU[xi] += dM[xi] V[xi]^T for xi < n ([Cout x T] by [Cin x T]) */
void wp_wino_dw_products(float *dU, const float *dM, const float *V, int n, int Cin, int Cout,
                         int T);

/* 1x1 product y[o][j] = sum_k w(o,k) x[k][j] for j < n (rows of x and y
 * ld apart), w(o,k) = w[o so + k sk], then max(y, 0) where relu, with a
 * register-blocked AVX-512 kernel (gemm1x1.c); work:
 * wp_k1x1_pack_floats(ci).  Returns 0, having done nothing, where the CPU
 * has no such kernel (or OpenBLAS's beats it): the caller uses BLAS. */
size_t wp_k1x1_pack_floats(int ci);
int wp_k1x1(float *y, const float *x, const float *w, size_t so, size_t sk, int ci, int co,
            int ld, int n, int relu, float *work);

/* c[M][N] += a[M][K] b[N][K]^T (a weight gradient), by a register-blocked
 * AVX-512 kernel where the CPU has one (as wp_k1x1), else by BLAS. */
void wp_gemm_abt(float *c, const float *a, const float *b, int M, int N, int K);

/* One image: y = act(scale[o] * conv(x, w)), act = ReLU when relu.  This
 * is a whole bias-free BN + ReLU layer at inference (scale = gamma/sd). */
size_t wp_conv_fused_scratch_floats(int Cin, int Cout, int H, int W, int k);
void wp_conv2d_forward_fused(float *y, const float *x, const float *w, const float *scale,
                             int relu, int Cin, int Cout, int H, int W, int k, float *scratch);

/* ---- training, one image at a time (wp_layers.h's batch calls and the
 * fused training step of net_train.c are made of these) ----
 * A thread's slice: wp_conv_thread_floats(); a weight-gradient
 * accumulator (wp_conv_grad_floats) at its start when it sums weights,
 * work for the image calls after it. */
size_t wp_conv_thread_floats(int Cin, int Cout, int H, int W, int k);
size_t wp_conv_grad_floats(int Cin, int Cout, int H, int W, int k);
/* Floats of the weights as the image calls take them (below) */
size_t wp_conv_weight_floats(int Cin, int Cout, int H, int W, int k);
/* The weights as the image calls take them: for 3x3, Winograd's U (F(4x4)
 * from 24x24 up, F(2x2) below: the H, W of the calls) into
 * U (forward, or adjoint for backward-data); returns the end of what it
 * wrote (where per-thread slices may start).  1x1: nothing, returns U. */
float *wp_conv_batch_weights(float *U, const float *w, int Cin, int Cout, int H, int W, int k,
                             int adjoint);
/* out[co,H,W] = conv(in'[ci,H,W]); w: U for 3x3, the weights for 1x1
 * (adjoint: [ci][co], the backward-data product).  work: a slice.
 * in' = in, or for 3x3 where in_scale is set relu(in_scale[c] in[c])
 * (as wp_wino_conv3x3; 1x1 takes NULL). */
void wp_conv_image(float *out, const float *in, const float *in_scale, const float *w, int ci,
                   int co, int H, int W, int k, int adjoint, float *work);
/* acc += the weight gradient of one image (work: a slice after its
 * accumulator); x' from x and x_scale as in' above */
void wp_conv_weights_image(float *acc, float *work, const float *x, const float *x_scale,
                           const float *dy, int Cin, int Cout, int H, int W, int k);
/* Zero T accumulators stride floats apart; then sum them in order into dw
 * (accumulates; 3x3: through Winograd's domain). */
void wp_conv_weights_start(float *acc, size_t stride, int T, int Cin, int Cout, int H, int W,
                           int k);
void wp_conv_weights_finish(float *dw, float *acc, size_t stride, int T, int Cin, int Cout,
                            int H, int W, int k);

#endif
