/* bn.c: the fused, parallel bias-free batch norm + ReLU of training and the
 * MSE loss, forward and backward (their unfused oracles: layers_ref.c). */
#include "wp_layers.h"
#include "wp_parallel.h"

#include <math.h>

#define BN_EPS 1e-5

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

/* ---- fused and parallel over channels (training) ----
 * These passes are memory-bound (a layer's activations are far larger
 * than the caches), so they make as few passes as they can and
 * vectorise: sums go into float lanes per block of BLOCK values, then
 * into doubles in a fixed order (the same result on any thread count).
 * Statistics are of z - z[first], a shift that keeps the one-pass
 * variance free of cancellation. */

#define LANES 16
#define BLOCK 1024

#if defined(__GNUC__) && !defined(__clang__)
#define VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default"), optimize("O3")))
#else
#define VECTOR_CLONES
#endif

/* s[0] += sum (x - k), s[1] += sum (x - k)^2 */
VECTOR_CLONES static void shifted_sums(const float *restrict x, int n, float k, double *s)
{
    for (int i0 = 0; i0 < n; i0 += BLOCK) {
        int m = n - i0 < BLOCK ? n - i0 : BLOCK, i = 0;
        float a[LANES] = {0}, b[LANES] = {0};
        for (; i + LANES <= m; i += LANES)
            for (int j = 0; j < LANES; j++) {
                float d = x[i0 + i + j] - k;
                a[j] += d;
                b[j] += d * d;
            }
        for (; i < m; i++) {
            float d = x[i0 + i] - k;
            a[0] += d;
            b[0] += d * d;
        }
        for (int j = 0; j < LANES; j++)
            s[0] += a[j], s[1] += b[j];
    }
}

/* a = relu(A z) */
VECTOR_CLONES static void scale_relu(float *restrict a, const float *restrict z, float A, int n)
{
    for (int i = 0; i < n; i++) {
        float y = z[i] * A;
        a[i] = y > 0.0f ? y : 0.0f;
    }
}

/* The whole batch's statistics when it is split over processes (set per
 * thread by the trainer); NULL: the local batch is the whole batch. */
static _Thread_local const wp_bn_sync *bn_sync;

void wp_bn_set_sync(const wp_bn_sync *s) { bn_sync = s; }
int wp_bn_synced(void) { return bn_sync != NULL; }

typedef struct {
    float *out, *dgamma, *running_sd, *batch_sd;
    const float *z, *dout, *gamma;
    int N, C, HW;
    double *st; /* synced: per-channel sums (layout in each phase) */
} bnr_ctx;

/* s += the shifted sums of channel c over the batch */
static void channel_shifted_sums(const bnr_ctx *k, int c, float shift, double *s)
{
    for (int n = 0; n < k->N; n++)
        shifted_sums(k->z + ((size_t)n * k->C + c) * k->HW, k->HW, shift, s);
}

/* a = relu(z / sd * g) for channel c, and the running update. */
static void bnr_forward_apply(const bnr_ctx *k, int c, double var)
{
    float sd = (float)sqrt((var > 0.0 ? var : 0.0) + BN_EPS), A = k->gamma[c] / sd;
    k->batch_sd[c] = sd;
    if (k->running_sd)
        k->running_sd[c] = 0.9f * k->running_sd[c] + 0.1f * sd;
    for (int n = 0; n < k->N; n++) {
        size_t o = ((size_t)n * k->C + c) * k->HW;
        scale_relu(k->out + o, k->z + o, A, k->HW);
    }
}

static void bnr_forward_channel(int c, int tid, void *p)
{
    (void)tid;
    const bnr_ctx *k = p;
    double s[2] = {0.0, 0.0}, M = (double)k->N * k->HW;
    channel_shifted_sums(k, c, k->z[(size_t)c * k->HW], s);
    double m = s[0] / M;
    bnr_forward_apply(k, c, s[1] / M - m * m);
}

/* Synced forward, st = [sum (C), count, sqdev (C)]: three parallel phases
 * with a sum over processes after each of the first two (each process's
 * own shift could not be summed, so the deviations take a second pass). */
static void bnr_sync_sum(int c, int tid, void *p)
{
    (void)tid;
    const bnr_ctx *k = p;
    double s[2] = {0.0, 0.0};
    channel_shifted_sums(k, c, 0.0f, s);
    k->st[c] = s[0];
}

static void bnr_sync_sqdev(int c, int tid, void *p)
{
    (void)tid;
    const bnr_ctx *k = p;
    double s[2] = {0.0, 0.0};
    channel_shifted_sums(k, c, (float)(k->st[c] / k->st[k->C]), s);
    k->st[k->C + 1 + c] = s[1];
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
    bnr_ctx k = {a, NULL, running_sd, batch_sd, z, NULL, gamma, N, C, HW, NULL};
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

/* s[0] += sum z, s[1] += sum dy z, where dy = da where A z > 0 (the
 * ReLU's mask, from the same product the forward took), else 0 */
VECTOR_CLONES static void masked_sums(const float *restrict z, const float *restrict da, float A,
                                      int n, double *s)
{
    for (int i0 = 0; i0 < n; i0 += BLOCK) {
        int m = n - i0 < BLOCK ? n - i0 : BLOCK, i = 0;
        float a[LANES] = {0}, b[LANES] = {0};
        for (; i + LANES <= m; i += LANES)
            for (int j = 0; j < LANES; j++) {
                float zz = z[i0 + i + j], dy = zz * A > 0.0f ? da[i0 + i + j] : 0.0f;
                a[j] += zz;
                b[j] += dy * zz;
            }
        for (; i < m; i++) {
            float zz = z[i0 + i], dy = zz * A > 0.0f ? da[i0 + i] : 0.0f;
            a[0] += zz;
            b[0] += dy * zz;
        }
        for (int j = 0; j < LANES; j++)
            s[0] += a[j], s[1] += b[j];
    }
}

/* dz = P dy - Q (z - m) */
VECTOR_CLONES static void bn_dz(float *dz, const float *restrict z, const float *da, float A,
                                float P, float Q, float m, int n)
{
    for (int i = 0; i < n; i++) {
        float dy = z[i] * A > 0.0f ? da[i] : 0.0f;
        dz[i] = P * dy - Q * (z[i] - m);
    }
}

/* S = sum dy z and the sum of z over channel c (dy through the ReLU). */
static void bnr_backward_sums(const bnr_ctx *k, int c, double *S, double *sum)
{
    double s[2] = {0.0, 0.0};
    float A = k->gamma[c] / k->batch_sd[c];
    for (int n = 0; n < k->N; n++) {
        size_t o = ((size_t)n * k->C + c) * k->HW;
        masked_sums(k->z + o, k->dout + o, A, k->HW, s);
    }
    *sum = s[0];
    *S = s[1];
}

/* dz from the batch's S, sum and count M; dgamma gets this process's share
 * S_local / s (the gradient sum over processes adds the rest). */
static void bnr_backward_apply(const bnr_ctx *k, int c, double S, double sum, double M,
                               double S_local)
{
    double s = k->batch_sd[c], g = k->gamma[c], m = sum / M;
    float A = k->gamma[c] / k->batch_sd[c];
    k->dgamma[c] += (float)(S_local / s);
    float P = (float)(g / s), Q = (float)(g * S / (M * s * s * s));
    for (int n = 0; n < k->N; n++) {
        size_t o = ((size_t)n * k->C + c) * k->HW;
        bn_dz(k->out + o, k->z + o, k->dout + o, A, P, Q, (float)m, k->HW);
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

void wp_bn_relu_backward_train(float *dz, float *dgamma, const float *da, const float *z,
                               const float *gamma, const float *batch_sd, int N, int C, int HW)
{
    bnr_ctx k = {dz, dgamma, NULL, (float *)batch_sd, z, da, gamma, N, C, HW, NULL};
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

/* ---- one image at a time: the fused training step (net_train.c) ----
 * Called on an image's tensor while a convolution has just written it
 * (in cache), so that the statistics cost no pass over memory. */

void wp_bn_image_stats(double *st, const float *z, int C, int HW)
{
    for (int c = 0; c < C; c++) {
        const float *zc = z + (size_t)c * HW;
        double s[2] = {0.0, 0.0};
        shifted_sums(zc, HW, zc[0], s);
        st[2 * c] = zc[0] + s[0] / HW;            /* the image's mean */
        st[2 * c + 1] = s[1] - s[0] * s[0] / HW; /* its sum of squared deviations */
    }
}

void wp_bn_batch_stats(float *A, float *mean_out, float *batch_sd, float *running_sd,
                       const float *gamma, const double *st, int N, int C, int HW)
{
    double M = (double)N * HW;
    for (int c = 0; c < C; c++) {
        /* the images' means and deviations combined, in image order */
        double mean = 0.0, m2 = 0.0;
        for (int n = 0; n < N; n++)
            mean += st[(size_t)n * 2 * C + 2 * c];
        mean /= N;
        for (int n = 0; n < N; n++) {
            double d = st[(size_t)n * 2 * C + 2 * c] - mean;
            m2 += st[(size_t)n * 2 * C + 2 * c + 1] + HW * d * d;
        }
        double var = m2 / M;
        mean_out[c] = (float)mean;
        float sd = (float)sqrt((var > 0.0 ? var : 0.0) + BN_EPS);
        batch_sd[c] = sd;
        A[c] = gamma[c] / sd;
        if (running_sd)
            running_sd[c] = 0.9f * running_sd[c] + 0.1f * sd;
    }
}

void wp_bn_relu_image(float *a, const float *z, const float *A, int C, int HW)
{
    for (int c = 0; c < C; c++)
        scale_relu(a + (size_t)c * HW, z + (size_t)c * HW, A[c], HW);
}

/* sum a da: where a = relu(A z) > 0, da z A; elsewhere 0 (the ReLU's mask) */
VECTOR_CLONES static double dot(const float *restrict a, const float *restrict da, int n)
{
    double s = 0.0;
    for (int i0 = 0; i0 < n; i0 += BLOCK) {
        int m = n - i0 < BLOCK ? n - i0 : BLOCK, i = 0;
        float b[LANES] = {0};
        for (; i + LANES <= m; i += LANES)
            for (int j = 0; j < LANES; j++)
                b[j] += a[i0 + i + j] * da[i0 + i + j];
        for (; i < m; i++)
            b[0] += a[i0 + i] * da[i0 + i];
        for (int j = 0; j < LANES; j++)
            s += b[j];
    }
    return s;
}

void wp_bn_image_grad_sums(double *st, const float *a, const float *da, int C, int HW)
{
    for (int c = 0; c < C; c++)
        st[c] = dot(a + (size_t)c * HW, da + (size_t)c * HW, HW);
}

/* dot() of a = relu(A z) formed as it is read (as scale_relu forms it) */
VECTOR_CLONES static double dot_relu(const float *restrict z, float A, const float *restrict da,
                                     int n)
{
    double s = 0.0;
    for (int i0 = 0; i0 < n; i0 += BLOCK) {
        int m = n - i0 < BLOCK ? n - i0 : BLOCK, i = 0;
        float b[LANES] = {0};
        for (; i + LANES <= m; i += LANES)
            for (int j = 0; j < LANES; j++) {
                float y = z[i0 + i + j] * A;
                b[j] += (y > 0.0f ? y : 0.0f) * da[i0 + i + j];
            }
        for (; i < m; i++) {
            float y = z[i0 + i] * A;
            b[0] += (y > 0.0f ? y : 0.0f) * da[i0 + i];
        }
        for (int j = 0; j < LANES; j++)
            s += b[j];
    }
    return s;
}

void wp_bn_image_grad_sums_relu(double *st, const float *z, const float *A, const float *da,
                                int C, int HW)
{
    for (int c = 0; c < C; c++)
        st[c] = dot_relu(z + (size_t)c * HW, A[c], da + (size_t)c * HW, HW);
}

void wp_bn_grad_coefs(float *coef, float *dgamma, const float *gamma, const float *batch_sd,
                      const float *A, const float *mean, const double *st, int N, int C, int HW)
{
    double M = (double)N * HW;
    for (int c = 0; c < C; c++) {
        double S = 0.0; /* sum dy z = sum a da / A */
        for (int n = 0; n < N; n++)
            S += st[(size_t)n * C + c];
        S = A[c] != 0.0f ? S / A[c] : 0.0;
        double s = batch_sd[c], g = gamma[c];
        dgamma[c] += (float)(S / s);
        coef[c] = (float)(g / s);                       /* P */
        coef[C + c] = (float)(g * S / (M * s * s * s)); /* Q */
        coef[2 * C + c] = mean[c];
    }
}

void wp_bn_dz_image(float *dz, const float *z, const float *da, const float *A,
                    const float *coef, int C, int HW)
{
    for (int c = 0; c < C; c++) {
        size_t o = (size_t)c * HW;
        bn_dz(dz + o, z + o, da + o, A[c], coef[c], coef[C + c], coef[2 * C + c], HW);
    }
}
