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
/* y[Cout,H,W] = (relu?)(conv3x3(x[Cin,H,W])) with U from wp_wino_weights;
 * scratch: wp_threads() * wp_wino_chunk_floats(). */
void wp_wino_conv3x3(float *y, const float *x, const float *U, int Cin, int Cout, int H, int W,
                     int relu, float *scratch);

/* One image: y = act(scale[o] * conv(x, w)), act = ReLU when relu.  This
 * is a whole bias-free BN + ReLU layer at inference (scale = gamma/sd). */
size_t wp_conv_fused_scratch_floats(int Cin, int Cout, int H, int W, int k);
void wp_conv2d_forward_fused(float *y, const float *x, const float *w, const float *scale,
                             int relu, int Cin, int Cout, int H, int W, int k, float *scratch);

#endif
