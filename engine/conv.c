/* conv.c: convolutions on OpenBLAS sgemm.  A 1x1 convolution is one GEMM
 * per image; a 3x3 one unfolds the input (im2col, 9*Cin rows of HW) and
 * then is one GEMM.  conv_ref.c holds the oracle. */
#include "wp_layers.h"

#include <cblas.h>
#include <string.h>

size_t wp_conv2d_scratch_floats(int Cin, int Cout, int H, int W, int k)
{
    (void)Cout;
    return k == 1 ? 0 : (size_t)Cin * k * k * H * W;
}

/* col[(ci*9 + a*3 + b), i*W + j] = x[ci, i+a-1, j+b-1] (0 outside). */
static void im2col3(float *col, const float *x, int C, int H, int W)
{
    size_t HW = (size_t)H * W;
    for (int c = 0; c < C; c++)
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++) {
                float *dst = col + ((size_t)c * 9 + a * 3 + b) * HW;
                const float *src = x + (size_t)c * HW;
                for (int i = 0; i < H; i++) {
                    float *d = dst + (size_t)i * W;
                    int si = i + a - 1;
                    if (si < 0 || si >= H) {
                        memset(d, 0, sizeof(float) * W);
                        continue;
                    }
                    const float *s = src + (size_t)si * W;
                    if (b == 1) {
                        memcpy(d, s, sizeof(float) * W);
                    } else if (b == 0) {
                        d[0] = 0.0f;
                        memcpy(d + 1, s, sizeof(float) * (W - 1));
                    } else {
                        memcpy(d, s + 1, sizeof(float) * (W - 1));
                        d[W - 1] = 0.0f;
                    }
                }
            }
}

/* The adjoint of im2col3: dx[ci, i+a-1, j+b-1] += col[...]; dx zeroed first. */
static void col2im3(float *x, const float *col, int C, int H, int W)
{
    size_t HW = (size_t)H * W;
    memset(x, 0, sizeof(float) * C * HW);
    for (int c = 0; c < C; c++)
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++) {
                const float *src = col + ((size_t)c * 9 + a * 3 + b) * HW;
                float *dst = x + (size_t)c * HW;
                for (int i = 0; i < H; i++) {
                    int si = i + a - 1;
                    if (si < 0 || si >= H)
                        continue;
                    const float *s = src + (size_t)i * W;
                    float *d = dst + (size_t)si * W;
                    int j0 = b == 0 ? 1 : 0, j1 = b == 2 ? W - 1 : W;
                    int off = b - 1;
                    for (int j = j0; j < j1; j++)
                        d[j + off] += s[j];
                }
            }
}

void wp_conv2d_forward(float *y, const float *x, const float *w, int N, int Cin,
                       int Cout, int H, int W, int k, float *scratch)
{
    int HW = H * W, K = Cin * k * k;
    for (int n = 0; n < N; n++) {
        const float *xn = x + (size_t)n * Cin * HW;
        const float *b = xn;
        if (k == 3) {
            im2col3(scratch, xn, Cin, H, W);
            b = scratch;
        }
        /* y[Cout,HW] = w[Cout,K] * b[K,HW] */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Cout, HW, K, 1.0f, w, K,
                    b, HW, 0.0f, y + (size_t)n * Cout * HW, HW);
    }
}

void wp_conv2d_backward_data(float *dx, const float *dy, const float *w, int N,
                             int Cin, int Cout, int H, int W, int k, float *scratch)
{
    int HW = H * W, K = Cin * k * k;
    for (int n = 0; n < N; n++) {
        float *dxn = dx + (size_t)n * Cin * HW;
        float *c = k == 3 ? scratch : dxn;
        /* c[K,HW] = w^T[K,Cout] * dy[Cout,HW] */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, HW, Cout, 1.0f, w, K,
                    dy + (size_t)n * Cout * HW, HW, 0.0f, c, HW);
        if (k == 3)
            col2im3(dxn, scratch, Cin, H, W);
    }
}

void wp_conv2d_backward_weights(float *dw, const float *dy, const float *x, int N,
                                int Cin, int Cout, int H, int W, int k, float *scratch)
{
    int HW = H * W, K = Cin * k * k;
    for (int n = 0; n < N; n++) {
        const float *xn = x + (size_t)n * Cin * HW;
        const float *b = xn;
        if (k == 3) {
            im2col3(scratch, xn, Cin, H, W);
            b = scratch;
        }
        /* dw[Cout,K] += dy[Cout,HW] * b^T[HW,K] */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Cout, K, HW, 1.0f,
                    dy + (size_t)n * Cout * HW, HW, b, HW, 1.0f, dw, K);
    }
}
