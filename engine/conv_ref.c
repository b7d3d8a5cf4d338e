/* conv_ref.c: plain-loop convolutions, the oracle for conv.c (not in
 * libwprior: only the tests and benchmarks link them). */
#include "wp_layers_ref.h"

#include <string.h>

/* Input value with zero padding outside the image. */
static float at(const float *x, int H, int W, int i, int j)
{
    return (i < 0 || j < 0 || i >= H || j >= W) ? 0.0f : x[(size_t)i * W + j];
}

void wp_conv2d_forward_ref(float *y, const float *x, const float *w, int N, int Cin,
                           int Cout, int H, int W, int k)
{
    size_t HW = (size_t)H * W;
    int r = k / 2;
    for (int n = 0; n < N; n++)
        for (int co = 0; co < Cout; co++)
            for (int i = 0; i < H; i++)
                for (int j = 0; j < W; j++) {
                    double acc = 0.0;
                    for (int ci = 0; ci < Cin; ci++) {
                        const float *xc = x + ((size_t)n * Cin + ci) * HW;
                        const float *wk = w + ((size_t)co * Cin + ci) * k * k;
                        for (int a = 0; a < k; a++)
                            for (int b = 0; b < k; b++)
                                acc += (double)wk[a * k + b] * at(xc, H, W, i + a - r, j + b - r);
                    }
                    y[((size_t)n * Cout + co) * HW + (size_t)i * W + j] = (float)acc;
                }
}

void wp_conv2d_backward_data_ref(float *dx, const float *dy, const float *w, int N,
                                 int Cin, int Cout, int H, int W, int k)
{
    size_t HW = (size_t)H * W;
    int r = k / 2;
    /* dx[ci,i,j] = sum_{co,a,b} w[co,ci,a,b] dy[co, i-a+r, j-b+r] */
    for (int n = 0; n < N; n++)
        for (int ci = 0; ci < Cin; ci++)
            for (int i = 0; i < H; i++)
                for (int j = 0; j < W; j++) {
                    double acc = 0.0;
                    for (int co = 0; co < Cout; co++) {
                        const float *dyc = dy + ((size_t)n * Cout + co) * HW;
                        const float *wk = w + ((size_t)co * Cin + ci) * k * k;
                        for (int a = 0; a < k; a++)
                            for (int b = 0; b < k; b++)
                                acc += (double)wk[a * k + b] * at(dyc, H, W, i - a + r, j - b + r);
                    }
                    dx[((size_t)n * Cin + ci) * HW + (size_t)i * W + j] = (float)acc;
                }
}

void wp_conv2d_backward_weights_ref(float *dw, const float *dy, const float *x, int N,
                                    int Cin, int Cout, int H, int W, int k)
{
    size_t HW = (size_t)H * W;
    int r = k / 2;
    for (int co = 0; co < Cout; co++)
        for (int ci = 0; ci < Cin; ci++)
            for (int a = 0; a < k; a++)
                for (int b = 0; b < k; b++) {
                    double acc = 0.0;
                    for (int n = 0; n < N; n++) {
                        const float *dyc = dy + ((size_t)n * Cout + co) * HW;
                        const float *xc = x + ((size_t)n * Cin + ci) * HW;
                        for (int i = 0; i < H; i++)
                            for (int j = 0; j < W; j++)
                                acc += (double)dyc[(size_t)i * W + j] * at(xc, H, W, i + a - r, j + b - r);
                    }
                    dw[(((size_t)co * Cin + ci) * k + a) * k + b] += (float)acc;
                }
}
