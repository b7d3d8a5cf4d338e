/* bench: speed of the engine's kernels on the shapes that matter, in one
 * run: OpenBLAS sgemm peak, network forwards (inference) and training
 * steps (forward + backward + Adam) and the Wiener stage, on T threads.
 * usage: bench THREADS [REPEATS [FILTER]]  -> one line per case (only the
 * cases whose name contains FILTER, when given; WP_BENCH_CLOCK=cpu: CPU
 * time, see now()):
 *   case  shape  ms  GFLOP/s  fraction-of-sgemm-peak
 * FLOPs count direct convolution: 2 * MACs.  Last, the plug-in's preview
 * (a whole denoise: milliseconds only). */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wp_job.h"
#include "wp_layers.h"
#include "wp_parallel.h"
#include "wp_net.h"
#include "wp_prior_internal.h"
#include "wp_rng.h"
#include "wp_train_internal.h"
#include "wp_wiener.h"
#include "wprior.h"

/* WP_BENCH_CLOCK=cpu times the process's CPU time instead of wall time:
 * for comparing two builds on a machine loaded by other jobs (the wall
 * time there measures the other jobs). */
static clockid_t bench_clock = CLOCK_MONOTONIC;

static double now(void)
{
    struct timespec ts;
    clock_gettime(bench_clock, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static double peak_gflops;
static const char *filter;

static int wanted(const char *name) { return !filter || strstr(name, filter); }

static void report(const char *name, const char *shape, double sec, double flops)
{
    double g = flops / sec / 1e9;
    printf("%-22s %-14s %9.2f ms %8.1f GFLOP/s %5.0f%% of sgemm\n", name, shape, sec * 1e3, g,
           peak_gflops > 0 ? 100.0 * g / peak_gflops : 0.0);
    fflush(stdout);
}

/* Best of `reps` runs (the machines are noisy: the minimum is the most
 * repeatable). */
#define BEST_OF(reps, body)                                                                       \
    ({                                                                                            \
        double best_ = 1e30;                                                                      \
        for (int r_ = 0; r_ < (reps); r_++) {                                                     \
            double t0_ = now();                                                                   \
            body;                                                                                 \
            double t_ = now() - t0_;                                                              \
            if (t_ < best_)                                                                       \
                best_ = t_;                                                                       \
        }                                                                                         \
        best_;                                                                                    \
    })

static void bench_sgemm(int reps)
{
    int M = 64, N = 256 * 256, K = 576; /* a 3x3 64->64 layer on 256x256 as one GEMM */
    float *a = calloc((size_t)M * K, 4), *b = calloc((size_t)K * N, 4), *c = calloc((size_t)M * N, 4);
    for (size_t i = 0; i < (size_t)K * N; i++)
        b[i] = (float)(i % 7) * 0.1f;
    double t = BEST_OF(reps, cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f,
                                         a, K, b, N, 0.0f, c, N));
    double t2 = BEST_OF(reps, cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1024, 1024,
                                          1024, 1.0f, b, 1024, b + 1024 * 1024, 1024, 0.0f, c,
                                          1024));
    double g1 = 2.0 * M * N * K / t / 1e9, g2 = 2.0 * 1024 * 1024 * 1024 / t2 / 1e9;
    peak_gflops = g1 > g2 ? g1 : g2;
    report("sgemm 64x65536x576", "", t, 2.0 * M * N * K);
    report("sgemm 1024^3", "", t2, 2.0 * 1024 * 1024 * 1024);
    free(a), free(b), free(c);
}

static void random_net(wp_net *n, int in, int out, int layers, const uint8_t *k)
{
    wp_net_init(n, in, out, 64, layers, k, NULL);
    wp_rng r;
    wp_rng_seed(&r, 1);
    wp_rng_fill_gauss(&r, n->params, n->nparams, 0.05f);
}

static double macs_of(const wp_net *n, int N, int H, int W) { return wp_net_work(n, H, W) * N; }

static void bench_forward(const char *name, const wp_net *net, int H, int W, int reps)
{
    if (!wanted(name))
        return;
    size_t nin = (size_t)net->in_ch * H * W, nout = (size_t)net->out_ch * H * W;
    float *x = malloc(4 * nin), *y = malloc(4 * nout);
    float *ws = malloc(4 * wp_net_infer_floats(net, 1, H, W));
    for (size_t i = 0; i < nin; i++)
        x[i] = (float)(i % 13) / 13.0f;
    wp_net_forward(net, x, y, 1, H, W, ws, NULL); /* warm up: first touch */
    double t = BEST_OF(reps, wp_net_forward(net, x, y, 1, H, W, ws, NULL));
    char shape[64];
    snprintf(shape, sizeof shape, "1x%dx%dx%d", net->in_ch, H, W);
    report(name, shape, t, 2 * macs_of(net, 1, H, W));
    free(x), free(y), free(ws);
}

static void bench_train(const char *name, wp_net *net, int N, int H, int W, int reps)
{
    if (!wanted(name))
        return;
    size_t nin = (size_t)N * net->in_ch * H * W, nout = (size_t)N * net->out_ch * H * W;
    float *x = malloc(4 * nin), *y = malloc(4 * nout), *t = calloc(nout, 4), *dy = malloc(4 * nout);
    float *g = calloc(net->nparams, 4);
    for (size_t i = 0; i < nin; i++)
        x[i] = (float)(i % 13) / 13.0f;
    wp_net_cache cache = {0};
    wp_adam adam;
    wp_adam_init(&adam, net->nparams, NULL);
    double best = 1e30;
    for (int r = -1; r < reps; r++) { /* r = -1 warms up */
        double t0 = now();
        memset(g, 0, 4 * net->nparams);
        wp_net_forward_train(net, &cache, x, y, N, H, W, 1, NULL);
        wp_mse_backward(dy, y, t, nout);
        wp_net_backward(net, &cache, x, dy, g, NULL);
        wp_adam_step(&adam, net->params, g, 1e-4f);
        double dt = now() - t0;
        if (r >= 0 && dt < best)
            best = dt;
    }
    char shape[64];
    snprintf(shape, sizeof shape, "%dx%dx%dx%d", N, net->in_ch, H, W);
    /* forward + backward-data + backward-weights: 3x the forward MACs */
    report(name, shape, best, 3 * 2 * macs_of(net, N, H, W));
    wp_adam_free(&adam);
    wp_net_cache_free(&cache);
    free(x), free(y), free(t), free(dy), free(g);
}

/* The test images' content: waves, their frequency changing below the
 * middle row (groups of all sizes for the Wiener stage) */
static float wave(int c, int i, int j, int H)
{
    return 0.5f + 0.2f * sinf(0.05f * i + 0.3f * c) * sinf(0.11f * j + 0.02f * i * (i > H / 2));
}

/* The collaborative Wiener stage on a 1024x1024 image: waves and noise
 * (groups of all sizes), sigma 25, the pilot a little off the truth; the
 * band-cached stage and its oracle, at the given knobs. */
static void bench_wiener(int C, const wp_wiener_params *wp, const char *knobs, int reps)
{
    char name[64], oname[64], shape[64];
    snprintf(name, sizeof name, "wiener %s bands", knobs);
    snprintf(oname, sizeof oname, "wiener %s oracle", knobs);
    if (!wanted(name) && !wanted(oname))
        return;
    int H = 1024, W = 1024;
    size_t n = (size_t)C * H * W;
    float *x = malloc(4 * n), *y = malloc(4 * n), *pilot = malloc(4 * n), *res = malloc(4 * n);
    float *work = malloc(4 * (size_t)(C + 2) * H * W);
    wp_rng r;
    wp_rng_seed(&r, 3);
    wp_rng_fill_gauss(&r, y, n, 25.0f / 255);
    wp_rng_fill_gauss(&r, pilot, n, 0.01f);
    for (int c = 0; c < C; c++)
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++) {
                size_t q = ((size_t)c * H + i) * W + j;
                x[q] = wave(c, i, j, H);
                y[q] += x[q], pilot[q] += x[q];
            }
    snprintf(shape, sizeof shape, "%dx%dx%d", C, H, W);
    double work_units = wp_wiener_work(C, H, W, wp);
    if (wanted(name)) {
        double t = BEST_OF(reps, (memcpy(res, pilot, 4 * n),
                                  wp_wiener_stage(y, res, C, H, W, 25.0f / 255, 0, wp, work, NULL)));
        report(name, shape, t, 2 * work_units);
    }
    if (wanted(oname)) {
        double t = BEST_OF(1, (memcpy(res, pilot, 4 * n),
                               wp_wiener_stage_oracle(y, res, C, H, W, 25.0f / 255, 0, wp, work)));
        report(oname, shape, t, 2 * work_units);
    }
    free(x), free(y), free(pilot), free(res), free(work);
}

/* The plug-in's preview: a 512x512 RGB region (waves and noise of sigma
 * 25) denoised by the shipped photo-color prior with its defaults (the
 * Wiener stage on), the first job cold and then the best of reps with
 * the workspace kept, as the plug-in keeps it between previews.  Skipped
 * where models/photo-color.safetensors is not under the working
 * directory. */
static void bench_preview(int threads, int reps)
{
    if (!wanted("preview"))
        return;
    wp_prior *p = NULL;
    char err[WP_ERRLEN];
    if (wp_prior_load("models/photo-color.safetensors", &p, err)) {
        printf("%-22s skipped: %s\n", "preview", err);
        return;
    }
    int C = 3, H = 512, W = 512;
    size_t n = (size_t)C * H * W;
    float *in = malloc(4 * n), *out = malloc(4 * n);
    wp_rng r;
    wp_rng_seed(&r, 5);
    wp_rng_fill_gauss(&r, in, n, 25.0f / 255);
    for (int c = 0; c < C; c++)
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++)
                in[((size_t)c * H + i) * W + j] += wave(c, i, j, H);
    wp_workspace *ws = wp_workspace_new();
    wp_run_options opt = {.threads = threads, .workspace = ws};
    double t0 = now();
    int st = wp_denoise(p, in, out, C, H, W, NULL, &opt, NULL, err);
    double cold = now() - t0;
    double warm = BEST_OF(reps, st = st ? st : wp_denoise(p, in, out, C, H, W, NULL, &opt, NULL, err));
    if (st)
        printf("%-22s failed: %s\n", "preview", err);
    else
        printf("%-22s %-14s %9.2f ms cold %9.2f ms warm (workspace kept)\n", "preview photo-color",
               "3x512x512", cold * 1e3, warm * 1e3);
    fflush(stdout);
    wp_workspace_free(ws);
    wp_prior_free(p);
    free(in), free(out);
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1, reps = argc > 2 ? atoi(argv[2]) : 5;
    filter = argc > 3 ? argv[3] : NULL;
    if (getenv("WP_BENCH_CLOCK") && !strcmp(getenv("WP_BENCH_CLOCK"), "cpu"))
        bench_clock = CLOCK_PROCESS_CPUTIME_ID;
    openblas_set_num_threads(threads);
    wp_set_threads(threads);
    printf("threads %d, OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s\n", threads,
           getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "(unset)",
           getenv("OPENBLAS_L2_SIZE") ? getenv("OPENBLAS_L2_SIZE") : "(unset)");
    bench_sgemm(reps);
    uint8_t k3[21], k13[21], k43[21];
    memset(k3, 3, sizeof k3);
    wp_rf_kernels(13, 21, k13);
    wp_rf_kernels(43, 21, k43);
    wp_net low, c13, c43, col;
    random_net(&low, 1, 1, 20, k3);
    random_net(&c13, 4, 3, 21, k13);
    random_net(&c43, 4, 3, 21, k43);
    random_net(&col, 12, 9, 21, k13);
    bench_forward("infer low (20x 3x3)", &low, 256, 256, reps);
    bench_forward("infer cond RF13", &c13, 256, 256, reps);
    bench_forward("infer cond RF43", &c43, 256, 256, reps);
    bench_forward("infer colour RF13", &col, 256, 256, reps);
    bench_train("train cond RF13", &c13, 32, 40, 40, reps);
    bench_train("train low", &low, 32, 40, 40, reps);
    /* the bigger photo priors: 64 channels, ~20 layers, on RGB crops of
     * 64x64 (conditional: 3 low-pass + 9 detail channels in, 9 out) */
    wp_net rgb_c, rgb_low;
    random_net(&rgb_c, 12, 9, 21, k13);
    random_net(&rgb_low, 3, 3, 20, k3);
    bench_train("train RGB cond RF13", &rgb_c, 32, 64, 64, reps);
    bench_train("train RGB low", &rgb_low, 16, 64, 64, reps);
    wp_net_free(&rgb_c), wp_net_free(&rgb_low);
    /* the shipped knobs, and groups of 64 in 25x25 for comparison */
    wp_wiener_params small = wp_wiener_defaults;
    small.search = 25, small.group = 64;
    bench_wiener(1, &wp_wiener_defaults, "gray", reps);
    bench_wiener(3, &wp_wiener_defaults, "RGB", reps);
    bench_wiener(1, &small, "gray 64/25", reps);
    bench_wiener(3, &small, "RGB 64/25", reps);
    bench_preview(threads, reps);
    return 0;
}
