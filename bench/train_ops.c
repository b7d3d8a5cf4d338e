/* train_ops: where a training step's time goes, per kind of operation
 * (3x3 / 1x1 forward, backward-data, backward-weights, the BN+ReLU passes,
 * Adam), calling the layer functions in the order wp_net_forward_train and
 * wp_net_backward do.  CPU time of the process (so a loaded machine gives
 * usable comparisons between builds), 1 thread unless told.
 * Then the whole step as the trainer calls it (wp_net_forward_train +
 * wp_net_backward + Adam), layer by layer and fused (net_train.c), in
 * alternation: CPU time and wall time per step.
 * usage: train_ops [THREADS [STEPS [low]]]  (low: the 20-layer 3x3 low-pass
 * net of 1 channel; default: the RF13 conditional net, 4 in, 3 out) */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wp_layers.h"
#include "wp_net.h"
#include "wp_parallel.h"
#include "wp_rng.h"
#include "wp_train_internal.h"

enum { F3, F1, BNF, BNB, W3, W1, D3, D1, ADAM, NKIND };
static const char *kind_name[NKIND] = {"forward 3x3", "forward 1x1", "BN+ReLU fwd", "BN+ReLU bwd",
                                       "weights 3x3", "weights 1x1", "data 3x3", "data 1x1",
                                       "Adam"};
static double spent[NKIND], flops[NKIND];

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

#define TIMED(kind, f, call)                                                                      \
    do {                                                                                          \
        double t0_ = cpu_now();                                                                   \
        call;                                                                                     \
        spent[kind] += cpu_now() - t0_;                                                           \
        flops[kind] += (f);                                                                       \
    } while (0)

static void step(wp_net *n, wp_net_cache *c, wp_adam *adam, const float *x, float *y, float *dy,
                 float *g, int N, int H, int W)
{
    int L = n->nlayers, HW = H * W, C = n->width;
    size_t act = (size_t)N * C * HW, goff = wp_net_conv_offset(n, L);
    memset(g, 0, sizeof(float) * n->nparams);
    for (int l = 0; l < L; l++) {
        int ci = wp_net_layer_in(n, l), co = wp_net_layer_out(n, l), k = n->kernel[l];
        const float *in = l == 0 ? x : c->a + (size_t)(l - 1) * act;
        float *out = l == L - 1 ? y : l == 0 ? c->a : c->z + (size_t)(l - 1) * act;
        TIMED(k == 3 ? F3 : F1, 2.0 * N * HW * ci * co * k * k,
              wp_conv2d_forward(out, in, n->conv_w[l], N, ci, co, H, W, k, c->scratch));
        if (l > 0 && l < L - 1)
            TIMED(BNF, 0, wp_bn_relu_forward_train(c->a + (size_t)l * act, out, n->gamma[l],
                                                   n->rsd[l], c->batch_sd + (size_t)(l - 1) * C,
                                                   N, C, HW));
    }
    float *da = c->d0, *dz = c->d1;
    for (int l = L - 1; l >= 0; l--) {
        int ci = wp_net_layer_in(n, l), co = wp_net_layer_out(n, l), k = n->kernel[l];
        const float *in = l == 0 ? x : c->a + (size_t)(l - 1) * act;
        const float *d = l == L - 1 ? dy : l == 0 ? da : dz;
        double f = 2.0 * N * HW * ci * co * k * k;
        if (l > 0 && l < L - 1)
            TIMED(BNB, 0, wp_bn_relu_backward_train(dz, g + goff + (size_t)(l - 1) * C, da,
                                                    c->z + (size_t)(l - 1) * act, n->gamma[l],
                                                    c->batch_sd + (size_t)(l - 1) * C, N, C, HW));
        TIMED(k == 3 ? W3 : W1, f,
              wp_conv2d_backward_weights(g + wp_net_conv_offset(n, l), d, in, N, ci, co, H, W, k,
                                         c->scratch));
        if (l > 0)
            TIMED(k == 3 ? D3 : D1, f,
                  wp_conv2d_backward_data(da, d, n->conv_w[l], N, ci, co, H, W, k, c->scratch));
    }
    TIMED(ADAM, 0, wp_adam_step(adam, n->params, g, 1e-4f));
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1, steps = argc > 2 ? atoi(argv[2]) : 3;
    int low = argc > 3 && !strcmp(argv[3], "low");
    int N = 32, H = 40, W = 40, L = low ? 20 : 21, in = low ? 1 : 4, out = low ? 1 : 3;
    openblas_set_num_threads(threads);
    wp_set_threads(threads);
    uint8_t k[21];
    if (low)
        memset(k, 3, sizeof k);
    else
        wp_rf_kernels(13, 21, k);
    wp_net n;
    wp_rng r;
    wp_net_init(&n, in, out, 64, L, k, NULL);
    wp_rng_seed(&r, 1);
    wp_rng_fill_gauss(&r, n.params, n.nparams, 0.05f);
    size_t nin = (size_t)N * in * H * W, nout = (size_t)N * out * H * W;
    float *x = malloc(4 * nin), *y = malloc(4 * nout), *dy = malloc(4 * nout);
    float *g = calloc(n.nparams, 4);
    for (size_t i = 0; i < nin; i++)
        x[i] = (float)(i % 13) / 13.0f;
    for (size_t i = 0; i < nout; i++)
        dy[i] = 1e-3f * (float)(i % 7);
    wp_net_cache c = {0};
    wp_adam adam;
    wp_adam_init(&adam, n.nparams, NULL);
    wp_net_forward_train(&n, &c, x, y, N, H, W, 1, NULL); /* sizes the cache */
    step(&n, &c, &adam, x, y, dy, g, N, H, W);           /* warm up: first touch */
    memset(spent, 0, sizeof spent);
    memset(flops, 0, sizeof flops);
    for (int s = 0; s < steps; s++)
        step(&n, &c, &adam, x, y, dy, g, N, H, W);
    double total = 0;
    for (int i = 0; i < NKIND; i++)
        total += spent[i];
    printf("%s net, batch %d of %dx%d, %d thread(s), OPENBLAS_CORETYPE=%s: CPU ms per step\n",
           low ? "low-pass" : "RF13 conditional", N, H, W, threads,
           getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "(unset)");
    for (int i = 0; i < NKIND; i++)
        printf("%-12s %8.1f ms %5.1f%%  %7.1f GFLOP/s per CPU second\n", kind_name[i],
               1e3 * spent[i] / steps, 100 * spent[i] / total,
               flops[i] > 0 ? flops[i] / spent[i] / 1e9 : 0.0);
    printf("%-12s %8.1f ms\n", "step", 1e3 * total / steps);
    /* whole steps: layer by layer (0) and fused (1), alternating */
    double cpu[2] = {0, 0}, wall[2] = {0, 0};
    wp_net_cache cc[2] = {{.layerwise = 1}, {0}};
    for (int s = 0; s <= steps; s++)
        for (int p = 0; p < 2; p++) {
            double c0 = cpu_now(), w0 = wall_now();
            memset(g, 0, sizeof(float) * n.nparams);
            wp_net_forward_train(&n, &cc[p], x, y, N, H, W, 1, NULL);
            wp_net_backward(&n, &cc[p], x, dy, g, NULL);
            wp_adam_step(&adam, n.params, g, 1e-4f);
            if (s > 0) /* step 0 warms up */
                cpu[p] += cpu_now() - c0, wall[p] += wall_now() - w0;
        }
    printf("whole step, layer by layer: %7.1f ms CPU %7.1f ms wall\n", 1e3 * cpu[0] / steps,
           1e3 * wall[0] / steps);
    printf("whole step, fused:          %7.1f ms CPU %7.1f ms wall  (%.2fx CPU, %.2fx wall)\n",
           1e3 * cpu[1] / steps, 1e3 * wall[1] / steps, cpu[0] / cpu[1], wall[0] / wall[1]);
    wp_net_cache_free(&cc[0]);
    wp_net_cache_free(&cc[1]);
    wp_adam_free(&adam);
    wp_net_cache_free(&c);
    wp_net_free(&n);
    free(x), free(y), free(dy), free(g);
    return 0;
}
