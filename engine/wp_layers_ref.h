/* wp_layers_ref.h: plain-loop layers kept as the test oracle of the
 * optimised ones (wp_layers.h): the convolutions, and the unfused batch
 * norm and ReLU.  They live in the testing library (wprior_testing), not
 * in libwprior: only the tests and benchmarks link them. */
#ifndef WP_LAYERS_REF_H
#define WP_LAYERS_REF_H

#include "wp_layers.h"

void wp_conv2d_forward_ref(float *y, const float *x, const float *w, int N, int Cin,
                           int Cout, int H, int W, int k);
void wp_conv2d_backward_data_ref(float *dx, const float *dy, const float *w, int N,
                                 int Cin, int Cout, int H, int W, int k);
void wp_conv2d_backward_weights_ref(float *dw, const float *dy, const float *x, int N,
                                    int Cin, int Cout, int H, int W, int k);

/* Bias-free batch norm, inference: y = x / running_sd * gamma, fused with
 * ReLU when relu != 0.  y may alias x.  x: [N,C,HW] */
void wp_bn_forward_eval(float *y, const float *x, const float *running_sd,
                        const float *gamma, int N, int C, int HW, int relu);
/* Training: sd = sqrt(biased var over N,H,W + 1e-5); y = x / sd * gamma;
 * running_sd <- 0.9 running_sd + 0.1 sd (when running_sd != NULL).
 * batch_sd[C] receives sd for the backward. */
void wp_bn_forward_train(float *y, const float *x, const float *gamma, float *running_sd,
                         float *batch_sd, int N, int C, int HW);
/* dx from dy, including the gradient through the batch statistics;
 * dgamma[C] accumulates. */
void wp_bn_backward_train(float *dx, float *dgamma, const float *dy, const float *x,
                          const float *gamma, const float *batch_sd, int N, int C, int HW);

/* ReLU; backward masks dy by y > 0 (y is the forward output). */
void wp_relu_forward(float *y, const float *x, size_t n);
void wp_relu_backward(float *dx, const float *dy, const float *y, size_t n);

#endif
