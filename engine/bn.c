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

/* The whole batch's statistics when it is split over processes (set per
 * thread by the trainer); NULL: the local batch is the whole batch. */
static _Thread_local const wp_bn_sync *bn_sync;

void wp_bn_set_sync(const wp_bn_sync *s) { bn_sync = s; }

typedef struct {
    float *out, *dgamma, *running_sd, *batch_sd;
    const float *a, *z, *dout, *gamma;
    int N, C, HW;
    double *st; /* synced: per-channel sums (layout in each phase) */
} bnr_ctx;

/* a = relu(z / sd * g) for channel c, and the running update. */
static void bnr_forward_apply(const bnr_ctx *k, int c, double var)
{
    float sd = (float)sqrt(var + BN_EPS), g = k->gamma[c];
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

static void bnr_forward_channel(int c, int tid, void *p)
{
    (void)tid;
    const bnr_ctx *k = p;
    double m, v;
    channel_stats(k->z, k->N, k->C, k->HW, c, &m, &v);
    bnr_forward_apply(k, c, v);
}

/* Synced forward, st = [sum (C), count, sqdev (C)]: three parallel phases
 * with a sum over processes after each of the first two. */
static void bnr_sync_sum(int c, int tid, void *p)
{
    (void)tid;
    const bnr_ctx *k = p;
    k->st[c] = channel_sum(k->z, k->N, k->C, k->HW, c);
}

static void bnr_sync_sqdev(int c, int tid, void *p)
{
    (void)tid;
    const bnr_ctx *k = p;
    k->st[k->C + 1 + c] = channel_sqdev(k->z, k->N, k->C, k->HW, c, k->st[c] / k->st[k->C]);
}

static void bnr_sync_apply(int c, int tid, void *p)
{
    (void)tid;
    const bnr_ctx *k = p;
    bnr_forward_apply(k, c, k->st[k->C + 1 + c] / k->st[k->C]);
}

/* A failed sum leaves the local statistics: the trainer's sync reports it. */
static void sync_sum(double *v, size_t n) { (void)bn_sync->sum(bn_sync->ctx, v, n); }

void wp_bn_relu_forward_train(float *a, const float *z, const float *gamma, float *running_sd,
                              float *batch_sd, int N, int C, int HW)
{
    bnr_ctx k = {a, NULL, running_sd, batch_sd, NULL, z, NULL, gamma, N, C, HW, NULL};
    if (!bn_sync) {
        wp_parallel_for(C, bnr_forward_channel, &k);
        return;
    }
    double *st = k.st = bn_sync->st;
    wp_parallel_for(C, bnr_sync_sum, &k);
    st[C] = (double)N * HW;
    sync_sum(st, (size_t)C + 1);
    wp_parallel_for(C, bnr_sync_sqdev, &k);
    sync_sum(st + C + 1, (size_t)C);
    wp_parallel_for(C, bnr_sync_apply, &k);
}

/* S = sum dy z and the sum of z over channel c (dy through the ReLU). */
static void bnr_backward_sums(const bnr_ctx *k, int c, double *S_out, double *sum_out)
{
    double S = 0.0, sum = 0.0;
    for (int n = 0; n < k->N; n++) {
        size_t o = ((size_t)n * k->C + c) * k->HW;
        const float *zs = k->z + o, *as = k->a + o, *ds = k->dout + o;
        for (int i = 0; i < k->HW; i++) {
            float dy = as[i] > 0.0f ? ds[i] : 0.0f; /* through the ReLU */
            S += (double)dy * zs[i];
            sum += zs[i];
        }
    }
    *S_out = S;
    *sum_out = sum;
}

/* dz from the batch's S, sum and count M; dgamma gets this process's share
 * S_local / s (the gradient sum over processes adds the rest). */
static void bnr_backward_apply(const bnr_ctx *k, int c, double S, double sum, double M,
                               double S_local)
{
    double s = k->batch_sd[c], g = k->gamma[c], m = sum / M;
    k->dgamma[c] += (float)(S_local / s);
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

static void bnr_backward_channel(int c, int tid, void *p)
{
    (void)tid;
    const bnr_ctx *k = p;
    double S, sum;
    bnr_backward_sums(k, c, &S, &sum);
    bnr_backward_apply(k, c, S, sum, (double)k->N * k->HW, S);
}

/* Synced backward, st = [S (C), sum (C), count, S local (C)]. */
static void bnr_sync_backward_sums(int c, int tid, void *p)
{
    (void)tid;
    const bnr_ctx *k = p;
    bnr_backward_sums(k, c, &k->st[c], &k->st[k->C + c]);
    k->st[2 * k->C + 1 + c] = k->st[c];
}

static void bnr_sync_backward_apply(int c, int tid, void *p)
{
    (void)tid;
    const bnr_ctx *k = p;
    int C = k->C;
    bnr_backward_apply(k, c, k->st[c], k->st[C + c], k->st[2 * C], k->st[2 * C + 1 + c]);
}

void wp_bn_relu_backward_train(float *dz, float *dgamma, const float *da, const float *a,
                               const float *z, const float *gamma, const float *batch_sd, int N,
                               int C, int HW)
{
    bnr_ctx k = {dz, dgamma, NULL, (float *)batch_sd, a, z, da, gamma, N, C, HW, NULL};
    if (!bn_sync) {
        wp_parallel_for(C, bnr_backward_channel, &k);
        return;
    }
    double *st = k.st = bn_sync->st;
    wp_parallel_for(C, bnr_sync_backward_sums, &k);
    st[2 * C] = (double)N * HW;
    sync_sum(st, 2 * (size_t)C + 1);
    wp_parallel_for(C, bnr_sync_backward_apply, &k);
}
