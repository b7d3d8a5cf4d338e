/* layers_ref.c: the unfused layers (batch norm, ReLU), plain loops kept
 * as the test oracle of the fused, parallel ones in bn.c and conv.c.  Not
 * in libwprior: only the tests and benchmarks link them. */
#include "wp_layers_ref.h"

#include <math.h>

#define BN_EPS 1e-5

void wp_bn_forward_eval(float *y, const float *x, const float *running_sd,
                        const float *gamma, int N, int C, int HW, int relu)
{
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            /* x / sd * g, in this order, to match the reference bit for bit. */
            float sd = running_sd[c], g = gamma[c];
            const float *xs = x + ((size_t)n * C + c) * HW;
            float *ys = y + ((size_t)n * C + c) * HW;
            if (relu) {
                for (int i = 0; i < HW; i++) {
                    float v = xs[i] / sd * g;
                    ys[i] = v > 0.0f ? v : 0.0f;
                }
            } else {
                for (int i = 0; i < HW; i++)
                    ys[i] = xs[i] / sd * g;
            }
        }
}

/* Sum of channel c over N and HW, in double. */
static double channel_sum(const float *x, int N, int C, int HW, int c)
{
    double s = 0.0;
    for (int n = 0; n < N; n++) {
        const float *xs = x + ((size_t)n * C + c) * HW;
        for (int i = 0; i < HW; i++)
            s += xs[i];
    }
    return s;
}

/* Sum of squared deviations of channel c from m (two passes: stable). */
static double channel_sqdev(const float *x, int N, int C, int HW, int c, double m)
{
    double s2 = 0.0;
    for (int n = 0; n < N; n++) {
        const float *xs = x + ((size_t)n * C + c) * HW;
        for (int i = 0; i < HW; i++) {
            double d = xs[i] - m;
            s2 += d * d;
        }
    }
    return s2;
}

/* Biased variance of channel c over N and HW, in double for stability. */
static void channel_stats(const float *x, int N, int C, int HW, int c, double *mean,
                          double *var)
{
    double M = (double)N * HW, m = channel_sum(x, N, C, HW, c) / M;
    *mean = m;
    *var = channel_sqdev(x, N, C, HW, c, m) / M;
}

void wp_bn_forward_train(float *y, const float *x, const float *gamma, float *running_sd,
                         float *batch_sd, int N, int C, int HW)
{
    for (int c = 0; c < C; c++) {
        double m, v;
        channel_stats(x, N, C, HW, c, &m, &v);
        float sd = (float)sqrt(v + BN_EPS);
        batch_sd[c] = sd;
        if (running_sd)
            running_sd[c] = 0.9f * running_sd[c] + 0.1f * sd;
        float g = gamma[c];
        for (int n = 0; n < N; n++) {
            const float *xs = x + ((size_t)n * C + c) * HW;
            float *ys = y + ((size_t)n * C + c) * HW;
            for (int i = 0; i < HW; i++)
                ys[i] = xs[i] / sd * g;
        }
    }
}

/* y = g x / s with s = sqrt(var(x) + eps):
 * dx_i = g/s dy_i - g S (x_i - m) / (M s^3),  S = sum_j dy_j x_j. */
void wp_bn_backward_train(float *dx, float *dgamma, const float *dy, const float *x,
                          const float *gamma, const float *batch_sd, int N, int C, int HW)
{
    double M = (double)N * HW;
    for (int c = 0; c < C; c++) {
        double s = batch_sd[c], g = gamma[c], S = 0.0, sum = 0.0;
        for (int n = 0; n < N; n++) {
            const float *xs = x + ((size_t)n * C + c) * HW;
            const float *ds = dy + ((size_t)n * C + c) * HW;
            for (int i = 0; i < HW; i++) {
                S += (double)ds[i] * xs[i];
                sum += xs[i];
            }
        }
        double m = sum / M;
        dgamma[c] += (float)(S / s);
        float a = (float)(g / s), b = (float)(g * S / (M * s * s * s));
        for (int n = 0; n < N; n++) {
            const float *xs = x + ((size_t)n * C + c) * HW;
            const float *ds = dy + ((size_t)n * C + c) * HW;
            float *dxs = dx + ((size_t)n * C + c) * HW;
            for (int i = 0; i < HW; i++)
                dxs[i] = a * ds[i] - b * (float)(xs[i] - m);
        }
    }
}

void wp_relu_forward(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void wp_relu_backward(float *dx, const float *dy, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}
