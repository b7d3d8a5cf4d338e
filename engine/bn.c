/* bn.c: bias-free batch norm (no mean subtraction in the output, no bias),
 * ReLU and the MSE loss, forward and backward. */
#include "wp_layers.h"
#include "wp_parallel.h"

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

/* Biased variance of channel c over N and HW, in double for stability. */
static void channel_stats(const float *x, int N, int C, int HW, int c, double *mean,
                          double *var)
{
    double s = 0.0, s2 = 0.0;
    for (int n = 0; n < N; n++) {
        const float *xs = x + ((size_t)n * C + c) * HW;
        for (int i = 0; i < HW; i++)
            s += xs[i];
    }
    double M = (double)N * HW, m = s / M;
    for (int n = 0; n < N; n++) {
        const float *xs = x + ((size_t)n * C + c) * HW;
        for (int i = 0; i < HW; i++) {
            double d = xs[i] - m;
            s2 += d * d;
        }
    }
    *mean = m;
    *var = s2 / M;
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

double wp_mse_forward(const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        s += d * d;
    }
    return n ? s / (double)n : 0.0;
}

void wp_mse_backward(float *da, const float *a, const float *b, size_t n)
{
    float k = n ? 2.0f / (float)n : 0.0f;
    for (size_t i = 0; i < n; i++)
        da[i] = k * (a[i] - b[i]);
}

/* ---- fused and parallel over channels (training) ---- */

typedef struct {
    float *out, *dgamma, *running_sd, *batch_sd;
    const float *a, *z, *dout, *gamma;
    int N, C, HW;
} bnr_ctx;

static void bnr_forward_channel(int c, int tid, void *p)
{
    (void)tid;
    const bnr_ctx *k = p;
    double m, v;
    channel_stats(k->z, k->N, k->C, k->HW, c, &m, &v);
    float sd = (float)sqrt(v + BN_EPS), g = k->gamma[c];
    k->batch_sd[c] = sd;
    if (k->running_sd)
        k->running_sd[c] = 0.9f * k->running_sd[c] + 0.1f * sd;
    for (int n = 0; n < k->N; n++) {
        const float *zs = k->z + ((size_t)n * k->C + c) * k->HW;
        float *as = k->out + ((size_t)n * k->C + c) * k->HW;
        for (int i = 0; i < k->HW; i++) {
            float y = zs[i] / sd * g;
            as[i] = y > 0.0f ? y : 0.0f;
        }
    }
}

void wp_bn_relu_forward_train(float *a, const float *z, const float *gamma, float *running_sd,
                              float *batch_sd, int N, int C, int HW)
{
    bnr_ctx k = {a, NULL, running_sd, batch_sd, NULL, z, NULL, gamma, N, C, HW};
    wp_parallel_for(C, bnr_forward_channel, &k);
}

static void bnr_backward_channel(int c, int tid, void *p)
{
    (void)tid;
    const bnr_ctx *k = p;
    double M = (double)k->N * k->HW, s = k->batch_sd[c], g = k->gamma[c], S = 0.0, sum = 0.0;
    for (int n = 0; n < k->N; n++) {
        size_t o = ((size_t)n * k->C + c) * k->HW;
        const float *zs = k->z + o, *as = k->a + o, *ds = k->dout + o;
        for (int i = 0; i < k->HW; i++) {
            float dy = as[i] > 0.0f ? ds[i] : 0.0f; /* through the ReLU */
            S += (double)dy * zs[i];
            sum += zs[i];
        }
    }
    double m = sum / M;
    k->dgamma[c] += (float)(S / s);
    float A = (float)(g / s), B = (float)(g * S / (M * s * s * s));
    for (int n = 0; n < k->N; n++) {
        size_t o = ((size_t)n * k->C + c) * k->HW;
        const float *zs = k->z + o, *as = k->a + o, *ds = k->dout + o;
        float *dz = k->out + o;
        for (int i = 0; i < k->HW; i++) {
            float dy = as[i] > 0.0f ? ds[i] : 0.0f;
            dz[i] = A * dy - B * (float)(zs[i] - m);
        }
    }
}

void wp_bn_relu_backward_train(float *dz, float *dgamma, const float *da, const float *a,
                               const float *z, const float *gamma, const float *batch_sd, int N,
                               int C, int HW)
{
    bnr_ctx k = {dz, dgamma, NULL, (float *)batch_sd, a, z, da, gamma, N, C, HW};
    wp_parallel_for(C, bnr_backward_channel, &k);
}
