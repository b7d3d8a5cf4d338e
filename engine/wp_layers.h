/* wp_layers.h: the building blocks of a bias-free CNN, each with a forward
 * and a backward.  Tensors are float32 NCHW; HW = H*W.
 *
 * Convolutions: kernel k in {1,3}, stride 1, zero "same" padding, no bias.
 * Weights are [Cout, Cin, k, k] as in PyTorch.  Their plain-loop oracles
 * are in wp_layers_ref.h. */
#ifndef WP_LAYERS_H
#define WP_LAYERS_H

#include <stddef.h>

/* Floats of scratch the fast convolutions need (any of the three, one
 * image at a time, at the calling thread's wp_threads()). */
size_t wp_conv2d_scratch_floats(int Cin, int Cout, int H, int W, int k);

/* y[N,Cout,H,W] = conv(x[N,Cin,H,W], w) */
void wp_conv2d_forward(float *y, const float *x, const float *w, int N, int Cin,
                       int Cout, int H, int W, int k, float *scratch);
/* dx[N,Cin,H,W] = conv^T(dy[N,Cout,H,W], w)   (overwrites dx) */
void wp_conv2d_backward_data(float *dx, const float *dy, const float *w, int N,
                             int Cin, int Cout, int H, int W, int k, float *scratch);
/* dw[Cout,Cin,k,k] += sum_n dy[n] (x) x[n]  (accumulates) */
void wp_conv2d_backward_weights(float *dw, const float *dy, const float *x, int N,
                                int Cin, int Cout, int H, int W, int k, float *scratch);

/* Training BN followed by ReLU, fused and parallel over channels:
 * a = relu(z * (gamma / sd)) (same statistics and running update as
 * wp_bn_forward_train), and its backward from da to dz (dz may alias da;
 * the ReLU's mask comes from z, so a is not read again). */
void wp_bn_relu_forward_train(float *a, const float *z, const float *gamma, float *running_sd,
                              float *batch_sd, int N, int C, int HW);
void wp_bn_relu_backward_train(float *dz, float *dgamma, const float *da, const float *z,
                               const float *gamma, const float *batch_sd, int N,
                               int C, int HW);

/* The same, one image at a time (the fused training step, net_train.c):
 * per-image statistics st[2c], st[2c+1] of channel c (z's mean and sum of
 * squared deviations), then the batch's (st: N images of 2C, combined in
 * image order) as A = gamma / sd, the mean (and batch_sd, the running
 * update).  Backward: per image st[c] = sum a da over channel c (a =
 * relu(A z), the forward's output), then coef[3C] = P, Q, mean with
 * dz = P dy - Q (z - mean), dy = da through the ReLU (and dgamma += its
 * share; st: N images of C). */
void wp_bn_image_stats(double *st, const float *z, int C, int HW);
void wp_bn_batch_stats(float *A, float *mean, float *batch_sd, float *running_sd,
                       const float *gamma, const double *st, int N, int C, int HW);
void wp_bn_relu_image(float *a, const float *z, const float *A, int C, int HW);
void wp_bn_image_grad_sums(double *st, const float *a, const float *da, int C, int HW);
/* the same with a = relu(A z) formed from z as it is read (the same sums) */
void wp_bn_image_grad_sums_relu(double *st, const float *z, const float *A, const float *da,
                                int C, int HW);
void wp_bn_grad_coefs(float *coef, float *dgamma, const float *gamma, const float *batch_sd,
                      const float *A, const float *mean, const double *st, int N, int C, int HW);
void wp_bn_dz_image(float *dz, const float *z, const float *da, const float *A,
                    const float *coef, int C, int HW);
/* 1 when the calling thread's BN has a sync set (wp_bn_set_sync). */
int wp_bn_synced(void);

/* Data-parallel training: the batch is split over processes (or threads),
 * and sum adds v[n] in place over all of them (every one calls it in the
 * same order; 0 on success).  Set for the calling thread, the fused
 * training BN above then normalises with the statistics of the whole
 * batch, forward and backward, and dgamma receives this process's share
 * (summed with the rest of the gradient).  NULL: the local batch is the
 * whole batch. */
typedef struct {
    int (*sum)(void *ctx, double *v, size_t n);
    void *ctx;
    double *st; /* scratch: 3 C + 1 doubles for the widest layer */
} wp_bn_sync;
void wp_bn_set_sync(const wp_bn_sync *s);

/* Mean squared error over n values and its gradient 2(a-b)/n into da. */
double wp_mse_forward(const float *a, const float *b, size_t n);
void wp_mse_backward(float *da, const float *a, const float *b, size_t n);

#endif
