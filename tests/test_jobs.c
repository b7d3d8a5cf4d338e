/* test_jobs.c: the engine's three jobs: tiling equals the untiled result,
 * the memory budget holds, cancel and progress work, upscaling keeps block
 * means and beats bicubic, sampling is reproducible, and each
 * ascent step moves toward the denoiser and ends on its output. */
#include <pthread.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "image_io.h"
#include "testutil.h"
#include "wp_haar.h"
#include "wp_job.h"
#include "wp_parallel.h"
#include "wp_prior_internal.h"
#include "wp_sample.h"

/* A random prior with the reference architectures (low: 20 layers 3x3,
 * cond: RF 13 over 21 layers) but a narrow width, so tests run fast. */
static wp_prior *random_prior(int C, int J, int width, uint64_t seed)
{
    wp_prior *p;
    ck_assert_int_eq(wp_prior_create(&p, C, J, 0, NULL), WP_OK);
    uint8_t k3[20], k13[21];
    memset(k3, 3, sizeof k3);
    ck_assert_int_eq(wp_rf_kernels(13, 21, k13), 0);
    ck_assert_int_eq(wp_net_init(&p->low, C, C, width, 20, k3, NULL), WP_OK);
    wp_rng r;
    wp_rng_seed(&r, seed);
    for (int j = -1; j < J; j++) {
        wp_net *n = j < 0 ? &p->low : &p->cond[j];
        if (j >= 0)
            ck_assert_int_eq(wp_net_init(n, 4 * C, 3 * C, width, 21, k13, NULL), WP_OK);
        for (int l = 0; l < n->nlayers; l++) {
            int k = n->kernel[l];
            float sd = sqrtf(2.0f / (wp_net_layer_in(n, l) * k * k));
            wp_rng_fill_gauss(&r, n->conv_w[l], (size_t)wp_net_layer_out(n, l) * wp_net_layer_in(n, l) * k * k, sd * 0.5f);
        }
    }
    return p;
}

/* Doubles random_prior's weights (He gain), so that the outputs of its
 * deep nets do not vanish and differences show. */
static wp_prior *he_gain(wp_prior *p)
{
    for (int j = -1; j < p->levels; j++) {
        wp_net *net = j < 0 ? &p->low : &p->cond[j];
        for (int l = 0; l < net->nlayers; l++) {
            size_t m = (size_t)wp_net_layer_out(net, l) * wp_net_layer_in(net, l) *
                       net->kernel[l] * net->kernel[l];
            for (size_t i = 0; i < m; i++)
                net->conv_w[l][i] *= 2.0f;
        }
    }
    return p;
}

static float *smooth_image(int C, int H, int W, uint64_t seed)
{
    wp_rng r;
    wp_rng_seed(&r, seed);
    float *x = malloc(sizeof(float) * (size_t)C * H * W);
    double a = wp_rng_uniform(&r) * 0.05 + 0.01, b = wp_rng_uniform(&r) * 0.05 + 0.01;
    for (int c = 0; c < C; c++)
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++)
                x[((size_t)c * H + i) * W + j] =
                    (float)(0.5 + 0.3 * sin(a * i + c) * cos(b * j) + 0.05 * wp_rng_gauss(&r));
    return x;
}

static void tiled_equals_untiled(int H, int W, const int *tiles, int ntiles, wp_border border)
{
    wp_prior *p = he_gain(random_prior(1, 2, 8, 3));
    float *x = smooth_image(1, H, W, 9), *ref = malloc(sizeof(float) * H * W),
          *y = malloc(sizeof(float) * H * W);
    char err[WP_ERRLEN];
    wp_run_options big = {0};
    big.max_memory = (size_t)8 << 30; /* one tile: the untiled computation */
    big.border = border;
    ck_assert_msg(wp_denoise(p, x, ref, 1, H, W, NULL, &big, NULL, err) == WP_OK, "%s", err);
    for (int t = 0; t < ntiles; t++) {
        wp_run_options o = {0};
        o.tile_size = tiles[t];
        o.threads = t % 2 + 1;
        o.border = border;
        ck_assert_msg(wp_denoise(p, x, y, 1, H, W, NULL, &o, NULL, err) == WP_OK, "%s", err);
        double d = max_abs_diff(y, ref, (size_t)H * W);
        ck_assert_msg(d <= 1e-4, "%dx%d tile %d: max abs diff %g", W, H, tiles[t], d);
    }
    wp_prior_free(p);
    free(x), free(ref), free(y);
}

START_TEST(tiled_denoise_1024)
{
    int tiles[] = {64, 100, 333};
    tiled_equals_untiled(1024, 1024, tiles, 3, WP_BORDER_MIRROR);
}
END_TEST

START_TEST(tiled_denoise_2000x1500)
{
    int tiles[] = {128, 500};
    tiled_equals_untiled(1500, 2000, tiles, 2, WP_BORDER_ZERO);
}
END_TEST

START_TEST(tile_side_follows_the_budget)
{
    wp_prior *p = random_prior(1, 2, 64, 1);
    wp_job job;
    wp_run_options o = {0};
    o.max_memory = 64 << 20;
    o.threads = 2;
    ck_assert_int_eq(wp_job_begin(&job, p, &o, 0, &p->low, WP_BORDER_MIRROR, NULL), WP_OK);
    int s = wp_job_tile_side(&job, &p->low, 4000, 3000);
    wp_set_threads(1); /* each of the two tile threads runs alone */
    /* the tile of one thread fits half of 64 MiB */
    int e = s + 40;
    size_t need = sizeof(float) * ((size_t)2 * e * e + wp_net_infer_floats(&p->low, 1, e, e));
    ck_assert_uint_le(need, (size_t)32 << 20);
    ck_assert_int_ge(s, WP_MIN_TILE);
    wp_job_end(&job);
    o.max_memory = 1 << 20; /* not even the smallest tile */
    char err[WP_ERRLEN];
    float x[64] = {0};
    ck_assert_int_eq(wp_denoise(p, x, x, 1, 8, 8, NULL, &o, NULL, err), WP_ERR_NOMEM);
    ck_assert_ptr_nonnull(strstr(err, "memory budget"));
    wp_prior_free(p);
}
END_TEST

START_TEST(peak_memory_stays_in_budget)
{
    /* 12 MP RGB with a gray prior, 384 MiB budget: the child's peak RSS
     * is the image (in and out share a buffer) plus at most the budget. */
    if (getenv("WPRIOR_SANITIZED"))
        return; /* sanitizers keep freed memory and shadow it: RSS means nothing */
    const int H = 3000, W = 4000;
    size_t img_bytes = sizeof(float) * 3 * (size_t)H * W;
    pid_t pid = fork();
    if (pid == 0) {
        wp_prior *p = random_prior(1, 2, 8, 2);
        float *x = malloc(img_bytes);
        for (size_t i = 0; i < img_bytes / 4; i++)
            x[i] = (float)(i % 255) / 255.0f;
        wp_run_options o = {0};
        o.max_memory = 384 << 20;
        char err[WP_ERRLEN];
        _exit(wp_denoise(p, x, x, 3, H, W, NULL, &o, NULL, err) == WP_OK ? 0 : 1);
    }
    int status;
    struct rusage ru;
    ck_assert_int_eq(wait4(pid, &status, 0, &ru), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    size_t peak = (size_t)ru.ru_maxrss * 1024, limit = img_bytes + ((size_t)384 << 20) + (40 << 20);
    fprintf(stderr, "12 MP RGB denoise, 384 MiB budget: peak RSS %zu MiB (image %zu MiB)\n",
            peak >> 20, img_bytes >> 20);
    ck_assert_msg(peak <= limit, "peak RSS %zu MiB over %zu MiB", peak >> 20, limit >> 20);
}
END_TEST

/* ---- cancel and progress ---- */

typedef struct {
    volatile int flag;
    double set_at, last_fraction;
    int monotonic, reports;
    double cpu_at; /* process CPU time when the flag was set */
} watch;

static double clock_s(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static double now_s(void) { return clock_s(CLOCK_MONOTONIC); }

static void on_progress(double f, void *data)
{
    watch *w = data;
    if (f < w->last_fraction || f > 1.0)
        w->monotonic = 0;
    w->last_fraction = f;
    w->reports++;
}

static void *cancel_later(void *data)
{
    watch *w = data;
    usleep(150 * 1000);
    w->set_at = now_s();
    w->cpu_at = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    w->flag = 1;
    return NULL;
}

/* Runs job 0 (denoise), 1 (upscale) or 2 (sample) on a prior wide enough
 * to take seconds, cancels it after 150 ms. */
static void check_cancel(int which)
{
    wp_prior *p = random_prior(1, 2, 64, 5);
    int H = 512, W = 512;
    float *x = smooth_image(1, H, W, 4), *out = malloc(sizeof(float) * 4 * H * W);
    for (int i = 0; i < 4 * H * W; i++)
        out[i] = -7.0f;
    watch w = {0, 0, 0, 1, 0, 0};
    wp_run_options o = {0};
    o.cancel = &w.flag;
    o.progress = on_progress;
    o.progress_data = &w;
    pthread_t t;
    pthread_create(&t, NULL, cancel_later, &w);
    char err[WP_ERRLEN];
    wp_status st;
    if (which == 0) {
        st = wp_denoise(p, x, out, 1, H, W, NULL, &o, NULL, err);
    } else if (which == 1) {
        wp_upscale_options u = {0};
        u.factor = 2;
        u.mode = WP_UPSCALE_SHARP;
        st = wp_upscale(p, x, 1, H / 2, W / 2, out, &u, &o, err);
    } else {
        wp_sample_options s = {0};
        s.width = W, s.height = H;
        st = wp_sample(p, out, 1, &s, &o, err);
    }
    double stopped = now_s(), cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - w.cpu_at;
    pthread_join(t, NULL);
    ck_assert_int_eq(st, WP_ERR_CANCELLED);
    /* Within 0.5 s on the machine's cores: on a loaded machine (a training
     * run beside the tests) the wall clock also counts other processes'
     * turns, so the work done after the cancel is what is measured, in CPU
     * seconds over every thread of the job. */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    fprintf(stderr, "job %d stopped %.3f s after the cancel (%.3f CPU s)\n", which,
            stopped - w.set_at, cpu);
    ck_assert_msg(stopped - w.set_at < 0.5 || cpu < 0.5 * (double)(cores > 0 ? cores : 1),
                  "job %d stopped %.3f s after the cancel, %.3f CPU s", which, stopped - w.set_at,
                  cpu);
    for (int i = 0; i < 4 * H * W; i++)
        ck_assert(out[i] == -7.0f); /* nothing written */
    ck_assert(w.monotonic);
    wp_prior_free(p);
    free(x), free(out);
}

START_TEST(cancel_denoise) { check_cancel(0); }
END_TEST
START_TEST(cancel_upscale) { check_cancel(1); }
END_TEST
START_TEST(cancel_sample) { check_cancel(2); }
END_TEST

START_TEST(progress_rises_to_one)
{
    wp_prior *p = random_prior(1, 2, 8, 6);
    int H = 300, W = 200;
    float *x = smooth_image(1, H, W, 1), *y = malloc(sizeof(float) * 16 * H * W);
    char err[WP_ERRLEN];
    for (int which = 0; which < 3; which++) {
        watch w = {0, 0, 0, 1, 0, 0};
        wp_run_options o = {0};
        o.tile_size = 64;
        o.progress = on_progress;
        o.progress_data = &w;
        wp_status st;
        if (which == 0) {
            st = wp_denoise(p, x, y, 1, H, W, NULL, &o, NULL, err);
        } else if (which == 1) {
            wp_upscale_options u = {0};
            u.factor = 4;
            st = wp_upscale(p, x, 1, H, W, y, &u, &o, err);
        } else {
            wp_sample_options s = {0};
            s.width = 64, s.height = 64;
            s.sampler.max_iter = 30;
            st = wp_sample(p, y, 1, &s, &o, err);
        }
        ck_assert_msg(st == WP_OK, "%s", err);
        ck_assert(w.monotonic);
        ck_assert_int_ge(w.reports, 3);
        ck_assert_double_eq(w.last_fraction, 1.0);
    }
    wp_prior_free(p);
    free(x), free(y);
}
END_TEST

/* ---- denoise options ---- */

START_TEST(strength_noise_estimate_and_colour_fallback)
{
    wp_prior *p = random_prior(1, 2, 8, 7);
    int H = 128, W = 96;
    size_t n = (size_t)H * W;
    float *x = smooth_image(3, H, W, 2), *y = malloc(sizeof(float) * 3 * n),
          *g = malloc(sizeof(float) * n);
    char err[WP_ERRLEN];
    wp_denoise_options d = {.strength = 0.0f};
    ck_assert_int_eq(wp_denoise(p, x, y, 3, H, W, &d, NULL, NULL, err), WP_OK);
    ck_assert_double_eq(max_abs_diff(x, y, 3 * n), 0.0);
    /* a gray prior on RGB = each channel of the orthonormal opponent basis
     * (luma; R-B; R-2G+B, the differences lifted by 0.5) on its own */
    d.strength = 1.0f;
    ck_assert_int_eq(wp_denoise(p, x, y, 3, H, W, &d, NULL, NULL, err), WP_OK);
    const double basis[3][3] = {{1 / sqrt(3), 1 / sqrt(3), 1 / sqrt(3)},
                                {1 / sqrt(2), 0, -1 / sqrt(2)},
                                {1 / sqrt(6), -2 / sqrt(6), 1 / sqrt(6)}};
    float *opp = malloc(sizeof(float) * 3 * n);
    for (int c = 0; c < 3; c++) {
        for (size_t i = 0; i < n; i++)
            g[i] = (float)(basis[c][0] * x[i] + basis[c][1] * x[n + i] + basis[c][2] * x[2 * n + i] +
                           (c ? 0.5 : 0));
        ck_assert_int_eq(wp_denoise(p, g, opp + c * n, 1, H, W, NULL, NULL, NULL, err), WP_OK);
    }
    double worst = 0;
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < n; i++) {
            double v = basis[0][c] * opp[i] + basis[1][c] * (opp[n + i] - 0.5) +
                       basis[2][c] * (opp[2 * n + i] - 0.5);
            worst = fmax(worst, fabs(v - y[c * n + i]));
        }
    ck_assert_double_le(worst, 2e-6);
    /* a gray image in RGB comes out exactly gray */
    for (int c = 1; c < 3; c++)
        memcpy(x + c * n, x, sizeof(float) * n);
    ck_assert_int_eq(wp_denoise(p, x, y, 3, H, W, &d, NULL, NULL, err), WP_OK);
    ck_assert_double_eq(max_abs_diff(y, y + n, n), 0.0);
    ck_assert_double_eq(max_abs_diff(y, y + 2 * n, n), 0.0);
    /* and, the nets being bias-free (so homogeneous), as denoised in gray */
    ck_assert_int_eq(wp_denoise(p, x, g, 1, H, W, NULL, NULL, NULL, err), WP_OK);
    ck_assert_double_le(max_abs_diff(g, y, n), 1e-5);
    free(opp);
    free(x);
    x = smooth_image(3, H, W, 2);
    ck_assert_int_eq(wp_denoise(p, x, y, 3, H, W, &d, NULL, NULL, err), WP_OK);
    float *half = malloc(sizeof(float) * 3 * n);
    d.strength = 0.5f;
    ck_assert_int_eq(wp_denoise(p, x, half, 3, H, W, &d, NULL, NULL, err), WP_OK);
    for (size_t i = 0; i < 3 * n; i++)
        ck_assert_float_eq_tol(half[i], 0.5f * (x[i] + y[i]), 1e-6);
    /* the noise estimate of a smooth image plus sigma 25/255 */
    wp_rng r;
    wp_rng_seed(&r, 4);
    float *clean = malloc(sizeof(float) * 4 * n);
    for (int i = 0; i < 2 * H; i++)
        for (int j = 0; j < 2 * W; j++)
            clean[(size_t)i * 2 * W + j] = (float)(0.5 + 0.3 * sin(0.01 * i) + wp_rng_gauss(&r) * 25 / 255);
    float est = wp_estimate_noise(clean, 1, 2 * H, 2 * W);
    ck_assert_msg(fabsf(est * 255 - 25) < 1.5f, "estimated %g/255 for 25/255", est * 255);
    float sig;
    ck_assert_int_eq(wp_denoise(p, clean, clean, 1, 2 * H, 2 * W, NULL, NULL, &sig, err), WP_OK);
    ck_assert_float_eq(sig, est);
    /* bad input */
    x[5] = NAN;
    ck_assert_int_eq(wp_denoise(p, x, y, 3, H, W, NULL, NULL, NULL, err), WP_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err, "NaN"));
    d.strength = 1.5f;
    ck_assert_int_eq(wp_denoise(p, x, y, 1, H, W, &d, NULL, NULL, err), WP_ERR_ARG);
    ck_assert_int_eq(wp_denoise(p, x, y, 2, H, W, NULL, NULL, NULL, err), WP_ERR_ARG);
    wp_run_options o = {0};
    o.threads = -1;
    x[5] = 0.5f;
    ck_assert_int_eq(wp_denoise(p, x, y, 1, H, W, NULL, &o, NULL, err), WP_ERR_ARG);
    wp_prior_free(p);
    free(x), free(y), free(g), free(half), free(clean);
}
END_TEST

/* ---- with the shipped face prior (the paper's J=2 RF13 face denoisers) ---- */

static wp_prior *model_prior(const char *name)
{
    char rel[200], path[1200], err[WP_ERRLEN];
    wp_prior *p;
    snprintf(rel, sizeof rel, "models/%s.safetensors", name);
    source_file(path, sizeof path, rel);
    ck_assert_msg(wp_prior_load(path, &p, err) == WP_OK, "%s", err);
    return p;
}

/* a 160x160 face prior, local enough for a 320 face */
static wp_prior *face_prior(void) { return model_prior("face-gray"); }

/* The f x f block means of img [H,W], rounded to 8 bits (an 8-bit input). */
static float *block_means8(const float *img, int H, int W, int f)
{
    int h = H / f, w = W / f;
    float *low = calloc((size_t)h * w, sizeof(float));
    for (int i = 0; i < H; i++)
        for (int j = 0; j < W; j++)
            low[(i / f) * w + j / f] += img[(size_t)i * W + j] / (f * f);
    for (int i = 0; i < h * w; i++)
        low[i] = roundf(low[i] * 255) / 255;
    return low;
}

static void read_face320(wp_image *img)
{
    char path[1200], err[WP_ERRLEN];
    source_file(path, sizeof path, "tests/data/astronaut_face320.png");
    ck_assert_msg(wp_image_read(path, 0, img, err, sizeof err) == 0, "%s", err);
}

START_TEST(upscale_face_keeps_block_means_and_beats_bicubic)
{
    char err[WP_ERRLEN];
    wp_image img;
    read_face320(&img);
    int H = img.height, W = img.width;
    wp_prior *p = face_prior();
    /* Catrom bicubic from the same 8-bit block means (ImageMagick, issue #3) */
    const double bicubic[2] = {31.27, 26.34};
    for (int k = 1; k <= 2; k++) {
        int f = 1 << k, h = H / f, w = W / f;
        float *low = block_means8(img.pixels, H, W, f), *out = malloc(sizeof(float) * H * W);
        for (int mode = 0; mode < 2; mode++) {
            wp_upscale_options u = {0};
            u.factor = f;
            u.mode = mode ? WP_UPSCALE_SHARP : WP_UPSCALE_FAST;
            u.seed = 1;
            double t0 = now_s();
            ck_assert_msg(wp_upscale(p, low, 1, h, w, out, &u, NULL, err) == WP_OK, "%s", err);
            double ps = psnr_of(out, img.pixels, NULL, (size_t)H * W, 1), dt = now_s() - t0;
            /* block means of the 8-bit output vs the input, in grey levels */
            int good = 0;
            for (int bi = 0; bi < h; bi++)
                for (int bj = 0; bj < w; bj++) {
                    double m = 0;
                    for (int i = 0; i < f; i++)
                        for (int j = 0; j < f; j++)
                            m += roundf(fminf(fmaxf(out[(size_t)(bi * f + i) * W + bj * f + j], 0), 1) * 255);
                    good += fabs(m / (f * f) - low[bi * w + bj] * 255) <= 1.0;
                }
            fprintf(stderr, "x%d %s: PSNR %.2f dB (bicubic %.2f), %.2f s, block means within 1 level: %.2f%%\n",
                    f, mode ? "sharp" : "fast", ps, bicubic[k - 1], dt, 100.0 * good / (h * w));
            ck_assert_msg(good >= 0.99 * h * w, "x%d: %d of %d block means within 1 level", f,
                          good, h * w);
            if (mode == 0)
                ck_assert_msg(ps >= bicubic[k - 1] + (k == 1 ? 0.5 : 0.0),
                              "x%d fast: %.2f dB vs bicubic %.2f", f, ps, bicubic[k - 1]);
        }
        free(low), free(out);
    }
    wp_prior_free(p);
    wp_image_free(&img);
}
END_TEST

/* The largest gap between the f x f block means of x [h*f, w*f] and low [h,w]. */
static double block_mean_error(const float *x, const float *low, int h, int w, int f)
{
    double worst = 0;
    for (int bi = 0; bi < h; bi++)
        for (int bj = 0; bj < w; bj++) {
            double m = 0;
            for (int i = 0; i < f; i++)
                for (int j = 0; j < f; j++)
                    m += x[(size_t)(bi * f + i) * w * f + bj * f + j];
            worst = fmax(worst, fabs(m / (f * f) - low[bi * w + bj]));
        }
    return worst;
}

/* The fast mode is a function of the input alone (no seed), its float
 * output keeps the block means, and it beats interpolation at every
 * factor: photo-gray on the 320 face, floors a little under what it
 * scores (x2 32.02, x4 27.14, x8 23.16 dB), above ImageMagick Lanczos from
 * the same 8-bit block means (31.65, 26.60, 22.66). */
START_TEST(upscale_fast_is_seed_free_consistent_and_beats_lanczos)
{
    char err[WP_ERRLEN];
    wp_image img;
    read_face320(&img);
    int H = img.height, W = img.width;
    wp_prior *p = model_prior("photo-gray");
    const double lanczos[4] = {0, 31.65, 26.60, 22.66}, gain[4] = {0, 0.25, 0.4, 0.35};
    float *a = malloc(sizeof(float) * H * W), *b = malloc(sizeof(float) * H * W);
    for (int k = 1; k <= 3; k++) {
        int f = 1 << k, h = H / f, w = W / f;
        float *low = block_means8(img.pixels, H, W, f);
        wp_upscale_options u = {0};
        u.factor = f;
        u.mode = WP_UPSCALE_FAST;
        u.seed = 1;
        ck_assert_msg(wp_upscale(p, low, 1, h, w, a, &u, NULL, err) == WP_OK, "%s", err);
        u.seed = 0x123456789ULL;
        ck_assert_msg(wp_upscale(p, low, 1, h, w, b, &u, NULL, err) == WP_OK, "%s", err);
        ck_assert_msg(!memcmp(a, b, sizeof(float) * H * W), "x%d: the seed changed the result", f);
        double worst = block_mean_error(a, low, h, w, f);
        double ps = psnr_of(a, img.pixels, NULL, (size_t)H * W, 1);
        fprintf(stderr, "photo-gray fast x%d: PSNR %.2f dB (Lanczos %.2f), block means off by %.2g at most\n",
                f, ps, lanczos[k], worst);
        ck_assert_msg(worst <= 1e-5, "x%d: a block mean is off by %g", f, worst);
        ck_assert_msg(ps >= lanczos[k] + gain[k], "x%d: %.2f dB, Lanczos %.2f", f, ps, lanczos[k]);
        free(low);
    }
    free(a), free(b);
    wp_prior_free(p);
    wp_image_free(&img);
}
END_TEST

/* A prior with an up net: the fast upscale's details at each level are
 * the smooth start's (wp_up_start) minus the net's output on [low-pass,
 * those details] (the untiled net as the oracle, away from the border,
 * where the tiles' mirrored context and the net's zero padding differ); x4
 * keeps the block means; the net survives a save and a load; the sharp
 * mode ignores it. */
START_TEST(upscale_fast_takes_the_up_net)
{
    enum { h = 24, w = 28, H = 2 * h, W = 2 * w };
    wp_prior *p = he_gain(random_prior(1, 2, 8, 11)), *q;
    float *low = smooth_image(1, h, w, 4), *y = malloc(4 * 16 * h * w),
          *sharp = malloc(4 * H * W), *sharp2 = malloc(4 * H * W);
    for (int i = 0; i < h * w; i++)
        low[i] = 0.25f + 0.5f * fminf(fmaxf(low[i], 0), 1);
    char err[WP_ERRLEN];
    wp_upscale_options u = {.factor = 2, .mode = WP_UPSCALE_SHARP, .seed = 3};
    u.sampler.max_iter = 3; /* a random prior diverges later */
    ck_assert_msg(wp_upscale(p, low, 1, h, w, sharp, &u, NULL, err) == WP_OK, "%s", err);
    small_random_net(&p->up, 4, 3, 5, 0.1f);
    p->has_up = 1;
    q = reloaded(p);
    ck_assert(wp_prior_has_up(q));
    ck_assert_int_eq(memcmp(q->up.params, p->up.params, sizeof(float) * p->up.nparams), 0);
    ck_assert_msg(wp_upscale(q, low, 1, h, w, sharp2, &u, NULL, err) == WP_OK, "%s", err);
    ck_assert_double_eq(max_abs_diff(sharp, sharp2, (size_t)H * W), 0.0);
    u.mode = WP_UPSCALE_FAST;
    ck_assert_msg(wp_upscale(q, low, 1, h, w, y, &u, NULL, err) == WP_OK, "%s", err);
    float *in = malloc(4 * 4 * h * w), *det = malloc(4 * 3 * h * w), *want = malloc(4 * H * W);
    float *ws = malloc(sizeof(float) * wp_net_infer_floats(&q->up, 1, h, w));
    memcpy(in, low, 4 * h * w);
    wp_up_start(low, 1, h, w, want, in + h * w, sharp2, sharp2 + h * w);
    ck_assert_int_eq(wp_net_forward(&q->up, in, det, 1, h, w, ws, NULL), WP_OK);
    double moved = apply_correction(in + h * w, det, (size_t)3 * h * w);
    ck_assert_msg(moved > 1e-3, "the up net moves the details by at most %g", moved);
    wp_haar_inverse(low, det, 1, h, w, want);
    int m = (wp_net_receptive_field(&q->up) - 1) / 2;
    double worst = 0;
    for (int i = 2 * m; i < H - 2 * m; i++)
        for (int j = 2 * m; j < W - 2 * m; j++) {
            size_t o = (size_t)i * W + j;
            ck_assert(want[o] > 0 && want[o] < 1); /* no clipping to undo */
            worst = fmax(worst, fabs(y[o] - want[o]));
        }
    ck_assert_msg(worst < 1e-5, "the fast upscale is %g off the up net's details", worst);
    u.factor = 4;
    ck_assert_msg(wp_upscale(q, low, 1, h, w, y, &u, NULL, err) == WP_OK, "%s", err);
    worst = block_mean_error(y, low, h, w, 4);
    ck_assert_msg(worst <= 1e-5, "x4 with the up net: a block mean is off by %g", worst);
    free(low), free(y), free(sharp), free(sharp2), free(in), free(det), free(want), free(ws);
    wp_prior_free(p), wp_prior_free(q);
}
END_TEST

/* x [H,W] transposed into t [W,H]. */
static void transpose(const float *x, int H, int W, float *t)
{
    for (int i = 0; i < H; i++)
        for (int j = 0; j < W; j++)
            t[(size_t)j * H + i] = x[(size_t)i * W + j];
}

/* Upscale passes: 2 are the mean of the image's upscale and the upscale of
 * the image turned by 180 degrees, turned back; 8 commute with a
 * transposition; the block means stay; 0 and 1 are one pass. */
START_TEST(upscale_passes_are_the_mean_of_turned_upscales)
{
    enum { h = 10, w = 13, f = 2, H = h * f, W = w * f };
    wp_prior *p = he_gain(random_prior(1, 2, 8, 11));
    float *low = smooth_image(1, h, w, 4), *turned = malloc(4 * h * w), *lt = malloc(4 * h * w),
          *y1 = malloc(4 * H * W), *y = malloc(4 * H * W), *yr = malloc(4 * H * W),
          *want = malloc(4 * H * W), *yt = malloc(4 * H * W), *ty = malloc(4 * H * W);
    char err[WP_ERRLEN];
    wp_upscale_options u = {.factor = f, .mode = WP_UPSCALE_FAST};
    ck_assert_msg(wp_upscale(p, low, 1, h, w, y1, &u, NULL, err) == WP_OK, "%s", err);
    u.passes = 1;
    ck_assert_int_eq(wp_upscale(p, low, 1, h, w, y, &u, NULL, err), WP_OK);
    ck_assert_double_le(max_abs_diff(y1, y, H * W), 0.0);
    for (int i = 0; i < h * w; i++)
        turned[i] = low[h * w - 1 - i];
    ck_assert_int_eq(wp_upscale(p, turned, 1, h, w, yr, &u, NULL, err), WP_OK);
    for (int i = 0; i < H * W; i++)
        want[i] = (y1[i] + yr[H * W - 1 - i]) / 2;
    u.passes = 2;
    ck_assert_int_eq(wp_upscale(p, low, 1, h, w, y, &u, NULL, err), WP_OK);
    double e = max_abs_diff(y, want, H * W);
    ck_assert_msg(e <= 1e-6, "2 passes vs the mean of the turned upscales: max abs diff %g", e);
    ck_assert_double_gt(max_abs_diff(y, y1, H * W), 1e-3); /* the passes differ */
    u.passes = 8;
    ck_assert_int_eq(wp_upscale(p, low, 1, h, w, y, &u, NULL, err), WP_OK);
    transpose(low, h, w, lt);
    ck_assert_int_eq(wp_upscale(p, lt, 1, w, h, yt, &u, NULL, err), WP_OK);
    transpose(y, H, W, ty);
    e = max_abs_diff(ty, yt, H * W);
    ck_assert_msg(e <= 1e-5, "8 passes of the transposed image vs the transposed: %g", e);
    for (int i = 0; i < h * w; i++) /* (the upscale takes the input clipped to [0,1]) */
        low[i] = fminf(fmaxf(low[i], 0), 1);
    double worst = block_mean_error(y, low, h, w, f);
    ck_assert_msg(worst <= 1e-5, "8 passes: a block mean is off by %g", worst);
    u.passes = WP_UPSCALE_PASSES_MAX + 1;
    ck_assert_int_eq(wp_upscale(p, low, 1, h, w, y, &u, NULL, err), WP_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err, "9 passes"));
    wp_prior_free(p);
    free(low), free(turned), free(lt), free(y1), free(y), free(yr), free(want), free(yt), free(ty);
}
END_TEST

START_TEST(sample_face_is_reproducible)
{
    wp_prior *p = face_prior();
    size_t n = 160 * 160;
    float *a = malloc(4 * n), *b = malloc(4 * n), *c = malloc(4 * n);
    char err[WP_ERRLEN];
    /* draft knobs (a short ascent): the test is about reproducibility */
    const wp_sampler_params draft = {.h0 = 0.05f, .beta = 0.5f, .sigma_l = 0.04f};
    wp_sample_options s = {0};
    s.width = s.height = 160;
    s.seed = 7;
    s.sampler = draft;
    ck_assert_msg(wp_sample(p, a, 1, &s, NULL, err) == WP_OK, "%s", err);
    ck_assert_msg(s.final_sigma < draft.sigma_l, "final sigma %g >= sigma_L %g", s.final_sigma,
                  draft.sigma_l);
    ck_assert_int_gt(s.iterations, 10);
    /* same seed, small tiles and one thread: the same image */
    wp_run_options o = {0};
    o.tile_size = 48;
    o.threads = 1;
    wp_sample_options s2 = {0};
    s2.width = s2.height = 160;
    s2.seed = 7;
    s2.sampler = draft;
    ck_assert_int_eq(wp_sample(p, b, 1, &s2, &o, err), WP_OK);
    ck_assert_msg(max_abs_diff(a, b, n) < 1e-3, "tiles changed the sample by %g", max_abs_diff(a, b, n));
    s2.seed = 8;
    ck_assert_int_eq(wp_sample(p, c, 1, &s2, NULL, err), WP_OK);
    ck_assert_double_gt(max_abs_diff(a, c, n), 0.2);
    double mean = 0;
    for (size_t i = 0; i < n; i++)
        mean += a[i];
    mean /= n;
    ck_assert(mean > 0.05 && mean < 0.95);
    /* sizes the prior cannot make */
    s2.width = 161;
    ck_assert_int_eq(wp_sample(p, c, 1, &s2, NULL, err), WP_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err, "multiples of 4"));
    ck_assert_int_eq(wp_sample(p, c, 3, &s, NULL, err), WP_ERR_ARG);
    wp_upscale_options u = {0};
    u.factor = 8; /* J=2 cannot do x8 */
    ck_assert_int_eq(wp_upscale(p, a, 1, 20, 20, c, &u, NULL, err), WP_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err, "3 levels"));
    wp_prior_free(p);
    free(a), free(b), free(c);
}
END_TEST

/* The ascent's oracle: every step is y += h r + noise with r = D(y) - y,
 * and the result is D(y) of the last state; the trace hook sees each
 * state before its step. */
static struct {
    float *y, *r, *z;
    double sigma, first, worst;
    int t;
} trace;

static void trace_step(const wp_ascent *a, int t, double sigma)
{
    size_t n = (size_t)a->ch * a->h * a->w;
    if (t > 1) {
        double h, gamma;
        wp_ascent_schedule(&a->sp, t - 1, trace.sigma, &h, &gamma);
        for (size_t i = 0; i < n; i++) {
            double want = trace.y[i] + h * trace.r[i] + (gamma > 0 ? a->z[i] : 0.0);
            double d = fabs(a->y[i] - want);
            trace.worst = d > trace.worst ? d : trace.worst;
        }
    } else {
        trace.first = sigma;
    }
    memcpy(trace.y, a->y, sizeof(float) * n);
    memcpy(trace.r, a->r, sizeof(float) * n);
    trace.sigma = sigma, trace.t = t;
}

START_TEST(ascent_steps_toward_the_denoiser_and_ends_on_it)
{
    wp_prior *p = face_prior();
    int h = 40, w = 40;
    size_t n = (size_t)h * w;
    float *y = malloc(4 * n), *r = malloc(4 * n), *z = malloc(4 * n);
    trace.y = malloc(4 * n), trace.r = malloc(4 * n), trace.worst = 0;
    char err[WP_ERRLEN];
    wp_job job;
    ck_assert_int_eq(wp_job_begin(&job, p, NULL, 0, &p->low, WP_BORDER_MIRROR, err), WP_OK);
    wp_ascent a = {0};
    a.job = &job, a.net = &p->low;
    a.y = y, a.r = r, a.z = z;
    a.ch = 1, a.h = h, a.w = w;
    a.mean0 = 0.5f;
    wp_sampler_defaults(&a.sp);
    wp_rng_seed(&a.rng, 3);
    wp_ascent_trace_hook = trace_step;
    wp_status st = wp_ascent_run(&a, err);
    wp_ascent_trace_hook = NULL;
    ck_assert_msg(st == WP_OK, "%s", err);
    ck_assert_int_gt(trace.t, 5);
    ck_assert_msg(trace.worst < 1e-5, "a step is not y += h (D(y) - y) + noise: %g off", trace.worst);
    ck_assert_msg(trace.sigma < 0.2 * trace.first, "sigma went %g -> %g", trace.first, trace.sigma);
    /* stopped at the last traced state: the result is its denoised image */
    ck_assert_int_eq(a.iterations, trace.t);
    double off = 0;
    for (size_t i = 0; i < n; i++)
        off = fmax(off, fabs(y[i] - (trace.y[i] + trace.r[i])));
    ck_assert_msg(off < 1e-6, "the result is not D(y) of the last state: %g off", off);
    wp_job_end(&job);
    wp_prior_free(p);
    free(y), free(r), free(z), free(trace.y), free(trace.r);
}
END_TEST

/* The oracle of border handling, written apart from tile.c: plane c of a
 * source at (i,j) anywhere, mirrored (half-sample symmetric, detail bands
 * flipping sign as a mirrored image's would) or wrapped. */
static float beyond(const float *x, int c, int C, int H, int W, int i, int j, int periodic,
                    int details)
{
    int fy = 0, fx = 0;
    if (periodic) {
        i = ((i % H) + H) % H, j = ((j % W) + W) % W;
    } else {
        while (i < 0 || i >= H) i = i < 0 ? -1 - i : 2 * H - 1 - i, fy ^= 1;
        while (j < 0 || j >= W) j = j < 0 ? -1 - j : 2 * W - 1 - j, fx ^= 1;
    }
    int band = details ? c / (C / 3) : -1; /* cH, cV, cD */
    float sign = (fy && (band == 0 || band == 2) ? -1.0f : 1.0f) *
                 (fx && (band == 1 || band == 2) ? -1.0f : 1.0f);
    return sign * x[((size_t)c * H + i) * W + j];
}

/* Tiled evaluation with a mirrored or periodic border = the zero-padded
 * evaluation of the image padded by the oracle (wider than the receptive
 * field), centre cropped.  srcs: up to two sources of ch[s] planes. */
static void border_matches_oracle(wp_prior *p, const wp_net *net, int nsrc, const int *ch,
                                  const int *details, int H, int W, int tile, int periodic)
{
    int halo = (wp_net_receptive_field(net) - 1) / 2, m = halo + 3, O = net->out_ch;
    int BH = H + 2 * m, BW = W + 2 * m;
    float *x[2], *big[2], *ybig = malloc(sizeof(float) * O * BH * BW);
    float *y = malloc(sizeof(float) * O * H * W);
    wp_plane_src src[2], bsrc[2];
    for (int s = 0; s < nsrc; s++) {
        x[s] = smooth_image(ch[s], H, W, 5 + s);
        big[s] = malloc(sizeof(float) * ch[s] * BH * BW);
        for (int c = 0; c < ch[s]; c++)
            for (int i = 0; i < BH; i++)
                for (int j = 0; j < BW; j++)
                    big[s][((size_t)c * BH + i) * BW + j] =
                        beyond(x[s], c, ch[s], H, W, i - m, j - m, periodic, details[s]);
        src[s] = (wp_plane_src){x[s], ch[s], details[s]};
        bsrc[s] = (wp_plane_src){big[s], ch[s], details[s]};
    }
    char err[WP_ERRLEN];
    wp_run_options o = {0};
    o.max_memory = (size_t)1 << 30;
    o.border = WP_BORDER_ZERO;
    wp_job job;
    ck_assert_int_eq(wp_job_begin(&job, p, &o, 0, net, WP_BORDER_MIRROR, err), WP_OK);
    ck_assert_msg(wp_net_forward_tiled(&job, net, bsrc, nsrc, ybig, BH, BW, err) == WP_OK, "%s", err);
    wp_job_end(&job);
    o.tile_size = tile;
    o.threads = 2;
    o.border = WP_BORDER_MIRROR;
    ck_assert_int_eq(wp_job_begin(&job, p, &o, 0, net, WP_BORDER_MIRROR, err), WP_OK);
    job.periodic = periodic;
    ck_assert_msg(wp_net_forward_tiled(&job, net, src, nsrc, y, H, W, err) == WP_OK, "%s", err);
    wp_job_end(&job);
    double d = 0;
    for (int c = 0; c < O; c++)
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++) {
                double e = fabs(y[((size_t)c * H + i) * W + j] -
                                ybig[((size_t)c * BH + m + i) * BW + m + j]);
                d = e > d ? e : d;
            }
    ck_assert_msg(d <= 1e-4, "%dx%d (halo %d, tile %d, %s): vs the padded oracle %g", W, H, halo,
                  tile, periodic ? "periodic" : "mirrored", d);
    for (int s = 0; s < nsrc; s++)
        free(x[s]), free(big[s]);
    free(ybig), free(y);
}

START_TEST(border_modes_match_the_oracle)
{
    wp_prior *p = random_prior(1, 1, 8, 4);
    int one[] = {1}, cond[] = {1, 3}, plain[] = {0, 0}, det[] = {0, 1};
    for (int periodic = 0; periodic < 2; periodic++) {
        border_matches_oracle(p, &p->low, 1, one, plain, 40, 36, 0, periodic); /* halo 20 */
        border_matches_oracle(p, &p->low, 1, one, plain, 4, 6, 0, periodic);   /* wraps 5 times */
        border_matches_oracle(p, &p->cond[0], 2, cond, det, 70, 90, 32, periodic); /* tiles */
        border_matches_oracle(p, &p->cond[0], 2, cond, det, 33, 35, 0, periodic);
        border_matches_oracle(p, &p->cond[0], 2, cond, det, 3, 5, 0, periodic);
    }
    wp_prior_free(p);
}
END_TEST

/* Denoising zero-pads unless the options or the model's metadata say
 * otherwise; the metadata wins over the operation's default. */
START_TEST(denoise_border_defaults)
{
    enum { H = 40, W = 48 };
    wp_prior *p = he_gain(random_prior(1, 2, 8, 5));
    float *x = smooth_image(1, H, W, 4), *y[3];
    char err[WP_ERRLEN];
    for (int k = 0; k < 3; k++) {
        y[k] = malloc(sizeof(float) * H * W);
        wp_run_options o = {0};
        o.border = (wp_border)k; /* model, zero, mirror */
        ck_assert_msg(wp_denoise(p, x, y[k], 1, H, W, NULL, &o, NULL, err) == WP_OK, "%s", err);
    }
    ck_assert_double_le(max_abs_diff(y[0], y[1], H * W), 1e-6);
    ck_assert_double_gt(max_abs_diff(y[1], y[2], H * W), 1e-3);
    ck_assert_int_eq(wp_prior_set_meta(p, "border", "mirror", err), WP_OK);
    ck_assert_int_eq(wp_denoise(p, x, y[0], 1, H, W, NULL, NULL, NULL, err), WP_OK);
    ck_assert_double_le(max_abs_diff(y[0], y[2], H * W), 1e-6);
    wp_prior_free(p);
    free(x);
    for (int k = 0; k < 3; k++)
        free(y[k]);
}
END_TEST

/* y [W,H] = x [H,W] transposed (t), or y [H,W] with columns (t=0) mirrored. */
static void transform(const float *x, int H, int W, int t, float *y)
{
    for (int i = 0; i < H; i++)
        for (int j = 0; j < W; j++)
            if (t)
                y[(size_t)j * H + i] = x[(size_t)i * W + j];
            else
                y[(size_t)i * W + (W - 1 - j)] = x[(size_t)i * W + j];
}

/* An oracle replaces exactly one part of the result's pyramid by the clean
 * image's: the coarsest low-pass (LOW) or every level's details (DETAILS);
 * the rest is what the networks make of the noisy image. */
START_TEST(oracle_takes_its_part_from_the_clean_image)
{
    enum { H = 24, W = 36, J = 2 };
    wp_prior *p = he_gain(random_prior(1, J, 8, 7));
    float *clean = smooth_image(1, H, W, 3), *x = smooth_image(1, H, W, 5),
          *y = malloc(4 * H * W), *plain = malloc(4 * H * W);
    char err[WP_ERRLEN];
    ck_assert_int_eq(wp_denoise(p, x, plain, 1, H, W, NULL, NULL, NULL, err), WP_OK);
    wp_pyramid c, o, q;
    ck_assert_int_eq(wp_pyramid_forward(&c, clean, 1, H, W, J, err), WP_OK);
    ck_assert_int_eq(wp_pyramid_forward(&q, plain, 1, H, W, J, err), WP_OK);
    size_t nlow = (size_t)(H >> J) * (W >> J);
    for (int oracle = WP_ORACLE_LOW; oracle <= WP_ORACLE_DETAILS; oracle++) {
        wp_denoise_options d = {.strength = 1.0f, .oracle = oracle, .oracle_clean = clean};
        ck_assert_msg(wp_denoise(p, x, y, 1, H, W, &d, NULL, NULL, err) == WP_OK, "%s", err);
        ck_assert_int_eq(wp_pyramid_forward(&o, y, 1, H, W, J, err), WP_OK);
        const float *want_low = oracle == WP_ORACLE_LOW ? c.low : q.low;
        ck_assert_double_le(max_abs_diff(o.low, want_low, nlow), 1e-5);
        for (int j = 0; j < J; j++) {
            size_t nd = (size_t)3 * (H >> (j + 1)) * (W >> (j + 1));
            double e = max_abs_diff(o.det[j], c.det[j], nd);
            if (oracle == WP_ORACLE_DETAILS)
                ck_assert_msg(e <= 1e-5, "level %d details differ by %g", j, e);
            else
                ck_assert_msg(e > 1e-3, "level %d details equal the clean ones", j);
        }
        wp_pyramid_free(&o);
    }
    /* oracle_level 1: the level-1 low-pass is the clean one, level 0's
     * details still the net's; level J is the plain low-pass oracle */
    wp_denoise_options l1 = {.strength = 1.0f, .oracle = WP_ORACLE_LOW, .oracle_clean = clean,
                             .oracle_level = 1};
    ck_assert_msg(wp_denoise(p, x, y, 1, H, W, &l1, NULL, NULL, err) == WP_OK, "%s", err);
    ck_assert_int_eq(wp_pyramid_forward(&o, y, 1, H, W, 1, err), WP_OK);
    wp_pyramid c1;
    ck_assert_int_eq(wp_pyramid_forward(&c1, clean, 1, H, W, 1, err), WP_OK);
    size_t n1 = (size_t)(H >> 1) * (W >> 1);
    ck_assert_double_le(max_abs_diff(o.low, c1.low, n1), 1e-5);
    ck_assert_double_gt(max_abs_diff(o.det[0], c1.det[0], 3 * n1), 1e-3);
    wp_pyramid_free(&o), wp_pyramid_free(&c1);
    float *yl = malloc(4 * H * W);
    wp_denoise_options lj = {.strength = 1.0f, .oracle = WP_ORACLE_LOW, .oracle_clean = clean};
    ck_assert_int_eq(wp_denoise(p, x, yl, 1, H, W, &lj, NULL, NULL, err), WP_OK);
    lj.oracle_level = J;
    ck_assert_int_eq(wp_denoise(p, x, y, 1, H, W, &lj, NULL, NULL, err), WP_OK);
    ck_assert_double_eq(max_abs_diff(y, yl, (size_t)H * W), 0);
    free(yl);
    /* a level outside 1..J, or with the details oracle, is refused */
    lj.oracle_level = J + 1;
    ck_assert_int_eq(wp_denoise(p, x, y, 1, H, W, &lj, NULL, NULL, err), WP_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err, "level"));
    lj.oracle_level = 1, lj.oracle = WP_ORACLE_DETAILS;
    ck_assert_int_eq(wp_denoise(p, x, y, 1, H, W, &lj, NULL, NULL, err), WP_ERR_ARG);
    /* with the ensemble it is refused, with a message */
    wp_denoise_options d = {.ensemble = 2, .oracle = WP_ORACLE_LOW, .oracle_clean = clean};
    ck_assert_int_eq(wp_denoise(p, x, y, 1, H, W, &d, NULL, NULL, err), WP_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err, "oracle"));
    wp_pyramid_free(&c), wp_pyramid_free(&q);
    wp_prior_free(p);
    free(clean), free(x), free(y), free(plain);
}
END_TEST

/* y [H+s, W+s] = x [H,W] turned by 180 degrees (r) and moved down and
 * right by s pixels, the new first row and column copying the next. */
static void turn_shift(const float *x, int H, int W, int r, int s, float *y)
{
    for (int i = 0; i < H + s; i++)
        for (int j = 0; j < W + s; j++) {
            int u = i < s ? 0 : i - s, v = j < s ? 0 : j - s;
            if (r)
                u = H - 1 - u, v = W - 1 - v;
            y[(size_t)i * (W + s) + j] = x[(size_t)u * W + v];
        }
}

/* The ensemble is the mean of plain passes over the image moved by a pixel
 * (where the Haar pyramid pairs other pixels) and turned: pass 0 the image,
 * 1 moved by (1,1), 4 turned by 180 degrees, 5 turned and moved. */
START_TEST(ensemble_is_the_mean_of_moved_and_turned_passes)
{
    enum { H = 24, W = 37 };
    wp_prior *p = he_gain(random_prior(1, 2, 8, 7));
    size_t big = (size_t)(H + 1) * (W + 1);
    float *x = smooth_image(1, H, W, 8), *y = malloc(4 * H * W), *want = calloc(H * W, 4),
          *xs = malloc(4 * big), *ys = malloc(4 * big), *y1 = malloc(4 * H * W);
    char err[WP_ERRLEN];
    static const int pass[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}}; /* turned, moved */
    for (int e = 0; e < 4; e++) {
        int r = pass[e][0], s = pass[e][1];
        turn_shift(x, H, W, r, s, xs);
        ck_assert_int_eq(wp_denoise(p, xs, ys, 1, H + s, W + s, NULL, NULL, NULL, err), WP_OK);
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++) {
                int u = r ? H - 1 - i : i, v = r ? W - 1 - j : j;
                want[(size_t)u * W + v] += ys[(size_t)(i + s) * (W + s) + j + s] / 4;
            }
    }
    /* passes 2 and 3 (moved by one row or one column alone) are known by
     * their difference: ensemble 6 = (4 * ensemble 4's passes 0,1 + 2,3 + 4,5) */
    wp_denoise_options d = {.strength = 1.0f, .ensemble = 2};
    float *e2 = malloc(4 * H * W), *e4 = malloc(4 * H * W), *e6 = malloc(4 * H * W);
    ck_assert_msg(wp_denoise(p, x, e2, 1, H, W, &d, NULL, NULL, err) == WP_OK, "%s", err);
    d.ensemble = 4;
    ck_assert_int_eq(wp_denoise(p, x, e4, 1, H, W, &d, NULL, NULL, err), WP_OK);
    d.ensemble = 6;
    ck_assert_int_eq(wp_denoise(p, x, e6, 1, H, W, &d, NULL, NULL, err), WP_OK);
    /* mean of passes 0,1,4,5 = (2 e2 + (6 e6 - 4 e4)) / 4 */
    for (size_t i = 0; i < (size_t)H * W; i++)
        y[i] = (2 * e2[i] + 6 * e6[i] - 4 * e4[i]) / 4;
    double e = max_abs_diff(y, want, H * W);
    ck_assert_msg(e <= 1e-5, "ensemble vs its passes: max abs diff %g", e);
    /* a moved pass is not the plain one: the ensemble does change the result */
    ck_assert_int_eq(wp_denoise(p, x, y1, 1, H, W, NULL, NULL, NULL, err), WP_OK);
    ck_assert_double_gt(max_abs_diff(y1, e2, H * W), 1e-3);
    /* one pass is what 0 and 1 give */
    d.ensemble = 0;
    ck_assert_int_eq(wp_denoise(p, x, y, 1, H, W, &d, NULL, NULL, err), WP_OK);
    ck_assert_double_le(max_abs_diff(y1, y, H * W), 0.0);
    d.ensemble = 1;
    ck_assert_int_eq(wp_denoise(p, x, y, 1, H, W, &d, NULL, NULL, err), WP_OK);
    ck_assert_double_le(max_abs_diff(y1, y, H * W), 0.0);
    d.ensemble = 33;
    ck_assert_int_eq(wp_denoise(p, x, y, 1, H, W, &d, NULL, NULL, err), WP_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err, "ensemble of 33"));
    wp_prior_free(p);
    free(x), free(y), free(want), free(xs), free(ys), free(y1), free(e2), free(e4), free(e6);
}
END_TEST

/* Averaged over all 32 passes (the 8 symmetries, each moved 4 ways),
 * denoising commutes with the symmetries: the passes of the mirrored or
 * transposed image are those of the image, mirrored or transposed. */
START_TEST(ensemble_of_32_is_equivariant)
{
    enum { H = 24, W = 31 };
    wp_prior *p = he_gain(random_prior(1, 1, 8, 7));
    float *x = smooth_image(1, H, W, 8), *y = malloc(4 * H * W), *xt = malloc(4 * H * W),
          *yt = malloc(4 * H * W), *ty = malloc(4 * H * W);
    char err[WP_ERRLEN];
    wp_denoise_options d = {.strength = 1.0f, .ensemble = 32};
    ck_assert_msg(wp_denoise(p, x, y, 1, H, W, &d, NULL, NULL, err) == WP_OK, "%s", err);
    for (int t = 0; t < 2; t++) {
        int Ht = t ? W : H, Wt = t ? H : W;
        transform(x, H, W, t, xt);
        ck_assert_int_eq(wp_denoise(p, xt, yt, 1, Ht, Wt, &d, NULL, NULL, err), WP_OK);
        transform(y, H, W, t, ty);
        double e = max_abs_diff(ty, yt, H * W);
        ck_assert_msg(e <= 1e-5, "symmetry %d: max abs diff %g", t, e);
    }
    wp_prior_free(p);
    free(x), free(y), free(xt), free(yt), free(ty);
}
END_TEST

START_TEST(tileable_sample_follows_metadata)
{
    wp_prior *p = he_gain(random_prior(1, 1, 8, 6));
    size_t n = 32 * 32;
    float *a = malloc(4 * n), *b = malloc(4 * n), *c = malloc(4 * n);
    char err[WP_ERRLEN];
    wp_sample_options s = {0};
    s.width = s.height = 32;
    s.seed = 3;
    s.sampler.max_iter = 4;
    s.sampler.sigma0 = 0.2f;
    s.tileable = 1;
    ck_assert_msg(wp_sample(p, a, 1, &s, NULL, err) == WP_OK, "%s", err);
    s.tileable = -1;
    ck_assert_int_eq(wp_sample(p, b, 1, &s, NULL, err), WP_OK);
    ck_assert_double_gt(max_abs_diff(a, b, n), 1e-3); /* the borders differ */
    ck_assert_int_eq(wp_prior_set_meta(p, "sample.tileable", "1", err), WP_OK);
    s.tileable = 0;
    ck_assert_int_eq(wp_sample(p, c, 1, &s, NULL, err), WP_OK);
    ck_assert_double_le(max_abs_diff(a, c, n), 1e-6);
    s.tileable = 2;
    ck_assert_int_eq(wp_sample(p, c, 1, &s, NULL, err), WP_ERR_ARG);
    wp_prior_free(p);
    free(a), free(b), free(c);
}
END_TEST

/* Quilting, each seam: the first patch's corner, which no other patch
 * overlaps, is a block of the exemplar as it is; every value lies in the
 * exemplar's range; a flat exemplar quilts flat; the seed decides; too
 * small an exemplar is refused. */
static void check_quilt(wp_quilt_seam seam)
{
    enum { EW = 40, EH = 36, W = 50, H = 44 };
    float *ex = malloc(sizeof(float) * 2 * EW * EH), *a = malloc(sizeof(float) * 2 * W * H),
          *b = malloc(sizeof(float) * 2 * W * H);
    for (int i = 0; i < EH; i++)
        for (int j = 0; j < EW; j++) {
            ex[i * EW + j] = (float)(i * EW + j) / (EW * EH); /* where it came from */
            ex[EW * EH + i * EW + j] = 0.5f + 0.3f * sinf(0.7f * i + 0.3f * j);
        }
    int P, O;
    wp_quilt_patch(EH, EW, H, W, &P, &O);
    ck_assert_int_ge(P, 4);
    ck_assert_int_lt(O, P);
    char err[WP_ERRLEN];
    wp_rng r;
    wp_rng_seed(&r, 5);
    ck_assert_msg(wp_quilt(ex, 2, EH, EW, a, H, W, 0, seam, &r, err) == WP_OK, "%s", err);
    int at = (int)lroundf(a[0] * EW * EH), ey = at / EW, exx = at % EW;
    for (int i = 0; i < P - O; i++)
        for (int j = 0; j < P - O; j++)
            for (int c = 0; c < 2; c++)
                ck_assert_float_eq_tol(a[(c * H + i) * W + j],
                                       ex[(c * EH + ey + i) * EW + exx + j], 1e-6f);
    for (int i = 0; i < W * H; i++)
        ck_assert(a[W * H + i] >= 0.2f - 1e-5f && a[W * H + i] <= 0.8f + 1e-5f);
    wp_rng_seed(&r, 5);
    ck_assert_int_eq(wp_quilt(ex, 2, EH, EW, b, H, W, 1, seam, &r, err), WP_OK);
    wp_rng_seed(&r, 5);
    ck_assert_int_eq(wp_quilt(ex, 2, EH, EW, a, H, W, 1, seam, &r, err), WP_OK);
    ck_assert_double_eq(max_abs_diff(a, b, 2 * W * H), 0);
    wp_rng_seed(&r, 6);
    ck_assert_int_eq(wp_quilt(ex, 2, EH, EW, b, H, W, 1, seam, &r, err), WP_OK);
    ck_assert_double_gt(max_abs_diff(a, b, 2 * W * H), 0.05);
    for (int i = 0; i < 2 * EW * EH; i++)
        ex[i] = 0.25f;
    ck_assert_int_eq(wp_quilt(ex, 2, EH, EW, a, H, W, 1, seam, &r, err), WP_OK);
    for (int i = 0; i < 2 * W * H; i++)
        ck_assert_float_eq_tol(a[i], 0.25f, 1e-6f);
    ck_assert_int_eq(wp_quilt(ex, 2, 1, 1, a, H, W, 0, seam, &r, err), WP_ERR_ARG);
    free(ex), free(a), free(b);
}

START_TEST(quilt_takes_patches_from_the_exemplar)
{
    check_quilt(WP_QUILT_CUT);
    check_quilt(WP_QUILT_BLEND);
}
END_TEST

/* wp_quilt drops candidates that cannot be picked and scores the rest
 * over the gathered overlap: it quilts exactly as scoring every candidate
 * in full with the plain per-pixel sum does, for each seam, periodic or not,
 * with every position a candidate (a 40x40 exemplar) and with a random
 * draw of them (88x88); noise makes many candidates nearly as good. */
START_TEST(quilt_pruning_matches_the_exhaustive_oracle)
{
    enum { H = 70, W = 90, EMAX = 88 };
    float *ex = malloc(sizeof(float) * 3 * EMAX * EMAX), *a = malloc(sizeof(float) * 3 * H * W),
          *b = malloc(sizeof(float) * 3 * H * W);
    wp_rng r;
    wp_rng_seed(&r, 11);
    for (int i = 0; i < 3 * EMAX * EMAX; i++)
        ex[i] = (float)wp_rng_uniform(&r);
    char err[WP_ERRLEN];
    static const int sides[2] = {40, EMAX};
    for (int e = 0; e < 2; e++)
        for (int seam = WP_QUILT_CUT; seam <= WP_QUILT_BLEND; seam++)
            for (int periodic = 0; periodic < 2; periodic++) {
                int E = sides[e];
                wp_rng_seed(&r, 3);
                ck_assert_msg(wp_quilt(ex, 3, E, E, a, H, W, periodic, seam, &r, err) == WP_OK,
                              "%s", err);
                wp_rng_seed(&r, 3);
                ck_assert_msg(wp_quilt_exhaustive(ex, 3, E, E, b, H, W, periodic, seam, &r,
                                                  err) == WP_OK, "%s", err);
                ck_assert_msg(max_abs_diff(a, b, 3 * H * W) == 0,
                              "exemplar %d, seam %d, periodic %d: %g", E, seam, periodic,
                              max_abs_diff(a, b, 3 * H * W));
            }
    free(ex), free(a), free(b);
}
END_TEST

static double std_of(const float *v, size_t n)
{
    double m = 0, q = 0;
    for (size_t i = 0; i < n; i++)
        m += v[i];
    m /= (double)n;
    for (size_t i = 0; i < n; i++)
        q += (v[i] - m) * (v[i] - m);
    return sqrt(q / (double)n);
}

/* The fraction of v's n values within 1e-6 of one of ex's m (sorted). */
static double share_taken(const float *v, size_t n, const float *sorted, size_t m)
{
    size_t hit = 0;
    for (size_t i = 0; i < n; i++) {
        size_t lo = 0, hi = m;
        while (hi - lo > 1) {
            size_t mid = (lo + hi) / 2;
            if (sorted[mid] <= v[i])
                lo = mid;
            else
                hi = mid;
        }
        hit += fabsf(sorted[lo] - v[i]) < 1e-6f || (hi < m && fabsf(sorted[hi] - v[i]) < 1e-6f);
    }
    return (double)hit / (double)n;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* A cut keeps the exemplar's pixels and its contrast: from white noise,
 * all but the cut paths' averaged pixels are exemplar values and the
 * spread stays; a blend averages the overlaps, most of the image, down. */
START_TEST(quilt_cut_keeps_the_exemplar_contrast)
{
    enum { E = 96, N = 160 };
    float *ex = malloc(sizeof(float) * E * E), *sorted = malloc(sizeof(float) * E * E),
          *a = malloc(sizeof(float) * N * N);
    wp_rng r;
    wp_rng_seed(&r, 11);
    wp_rng_fill_gauss(&r, ex, E * E, 1.0f);
    memcpy(sorted, ex, sizeof(float) * E * E);
    qsort(sorted, E * E, sizeof(float), cmp_float);
    double sd_ex = std_of(ex, E * E);
    char err[WP_ERRLEN];
    ck_assert_int_eq(wp_quilt(ex, 1, E, E, a, N, N, 1, WP_QUILT_CUT, &r, err), WP_OK);
    double taken = share_taken(a, N * N, sorted, E * E), ratio = std_of(a, N * N) / sd_ex;
    ck_assert_msg(taken > 0.85 && ratio > 0.95 && ratio < 1.05, "cut: %.3f taken, sd ratio %.3f",
                  taken, ratio);
    ck_assert_int_eq(wp_quilt(ex, 1, E, E, a, N, N, 1, WP_QUILT_BLEND, &r, err), WP_OK);
    taken = share_taken(a, N * N, sorted, E * E), ratio = std_of(a, N * N) / sd_ex;
    ck_assert_msg(taken < 0.6 && ratio < 0.9, "blend: %.3f taken, sd ratio %.3f", taken, ratio);
    free(ex), free(sorted), free(a);
}
END_TEST

/* Quilting uses the whole exemplar: half of this one is flat, half a
 * texture; plain quilting lets either half take the image (overlaps match
 * best within the half they came from: here the texture, 96% of the cut
 * quilt), the use factor keeps both halves near their share and the
 * spread near the exemplar's. */
START_TEST(quilt_spreads_over_the_exemplar)
{
    enum { E = 64, N = 192 };
    float *ex = malloc(sizeof(float) * E * E), *a = malloc(sizeof(float) * N * N);
    wp_rng r;
    wp_rng_seed(&r, 17);
    for (int i = 0; i < E; i++)
        for (int j = 0; j < E; j++)
            ex[i * E + j] = j < E / 2 ? 0.5f
                                      : 0.5f + 0.2f * sinf(0.9f * i + 0.4f * j) +
                                            0.1f * sinf(0.31f * i - 0.77f * j) +
                                            0.05f * (float)wp_rng_uniform(&r);
    double sd_ex = std_of(ex, E * E);
    char err[WP_ERRLEN];
    for (int seam = WP_QUILT_CUT; seam <= WP_QUILT_BLEND; seam++) {
        ck_assert_int_eq(wp_quilt(ex, 1, E, E, a, N, N, 1, seam, &r, err), WP_OK);
        int flat = 0;
        for (int i = 0; i < N * N; i++)
            flat += fabsf(a[i] - 0.5f) < 1e-6f;
        double textured = 1 - (double)flat / (N * N), ratio = std_of(a, N * N) / sd_ex;
        ck_assert_msg(ratio > 0.8 && ratio < 1.25 && (seam != WP_QUILT_CUT || textured < 0.8),
                      "seam %d: %.3f textured, sd ratio %.3f", seam, textured, ratio);
    }
    free(ex), free(a);
}
END_TEST

/* Options for an SxS sample (4 ascent steps a level) continuing the
 * ExE exemplar ex. */
static wp_sample_options exemplar_options(const float *ex, int E, int S, uint64_t seed)
{
    wp_sample_options s = {0};
    s.width = s.height = S;
    s.seed = seed;
    s.sampler.max_iter = 4;
    s.exemplar = ex;
    s.ex_width = s.ex_height = E;
    return s;
}

/* A sample from an exemplar keeps its colours (its 2x2 block means are the
 * quilted layout, whatever the details), the seed decides, bad exemplars
 * are refused with a message. */
START_TEST(exemplar_sample_keeps_the_exemplar_colours)
{
    wp_prior *p = he_gain(random_prior(3, 2, 8, 9));
    enum { E = 48, S = 64 };
    const float mean[3] = {0.2f, 0.5f, 0.8f};
    float *ex = malloc(sizeof(float) * 3 * E * E), *a = malloc(sizeof(float) * 3 * S * S),
          *b = malloc(sizeof(float) * 3 * S * S);
    wp_rng r;
    wp_rng_seed(&r, 1);
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < E * E; i++)
            ex[c * E * E + i] = mean[c] + 0.1f * (float)wp_rng_uniform(&r) - 0.05f;
    char err[WP_ERRLEN];
    wp_sample_options s = exemplar_options(ex, E, S, 4);
    ck_assert_msg(wp_sample(p, a, 3, &s, NULL, err) == WP_OK, "%s", err);
    for (int c = 0; c < 3; c++) {
        double m = 0;
        for (int i = 0; i < S * S; i++)
            m += a[c * S * S + i];
        ck_assert_double_eq_tol(m / (S * S), mean[c], 0.01);
    }
    ck_assert_int_eq(wp_sample(p, b, 3, &s, NULL, err), WP_OK);
    ck_assert_double_eq(max_abs_diff(a, b, 3 * S * S), 0);
    s.seed = 5;
    ck_assert_int_eq(wp_sample(p, b, 3, &s, NULL, err), WP_OK);
    ck_assert_double_gt(max_abs_diff(a, b, 3 * S * S), 1e-3);
    s.ex_width = s.ex_height = 8;
    ck_assert_int_eq(wp_sample(p, b, 3, &s, NULL, err), WP_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err, "at least"));
    s.ex_width = s.ex_height = E;
    ex[7] = NAN;
    ck_assert_int_eq(wp_sample(p, b, 3, &s, NULL, err), WP_ERR_ARG);
    wp_prior_free(p);
    free(ex), free(a), free(b);
}
END_TEST

/* A prior's metadata sets the exemplar's level and seam: at level 0 the
 * sample is the quilt, every pixel an exemplar value but the cut paths';
 * blended, most are averages; at the default level the network draws the
 * finest details, which are no exemplar values; a level above the prior's
 * falls back to the default. */
START_TEST(exemplar_level_and_seam_from_the_metadata)
{
    wp_prior *p = he_gain(random_prior(1, 2, 8, 9));
    enum { E = 64, S = 96 };
    float *ex = malloc(sizeof(float) * E * E), *sorted = malloc(sizeof(float) * E * E),
          *a = malloc(sizeof(float) * S * S), *b = malloc(sizeof(float) * S * S);
    wp_rng r;
    wp_rng_seed(&r, 2);
    for (int i = 0; i < E * E; i++)
        ex[i] = (float)wp_rng_uniform(&r);
    memcpy(sorted, ex, sizeof(float) * E * E);
    qsort(sorted, E * E, sizeof(float), cmp_float);
    char err[WP_ERRLEN];
    wp_sample_options s = exemplar_options(ex, E, S, 3);
    ck_assert_int_eq(wp_sample(p, a, 1, &s, NULL, err), WP_OK);
    ck_assert_double_lt(share_taken(a, S * S, sorted, E * E), 0.05);
    ck_assert_int_eq(wp_prior_set_meta(p, "sample.exemplar_level", "3", err), WP_OK);
    ck_assert_int_eq(wp_sample(p, b, 1, &s, NULL, err), WP_OK);
    ck_assert_double_eq(max_abs_diff(a, b, S * S), 0);
    ck_assert_int_eq(wp_prior_set_meta(p, "sample.exemplar_level", "0", err), WP_OK);
    ck_assert_int_eq(wp_sample(p, a, 1, &s, NULL, err), WP_OK);
    double cut = share_taken(a, S * S, sorted, E * E);
    ck_assert_msg(cut > 0.85, "cut: %.3f taken", cut);
    ck_assert_int_eq(wp_prior_set_meta(p, "sample.exemplar_seam", "blend", err), WP_OK);
    ck_assert_int_eq(wp_sample(p, a, 1, &s, NULL, err), WP_OK);
    double blend = share_taken(a, S * S, sorted, E * E);
    ck_assert_msg(blend < 0.6, "blend: %.3f taken", blend);
    wp_prior_free(p);
    free(ex), free(sorted), free(a), free(b);
}
END_TEST

/* Two threads run jobs on one prior at once (wprior.h: a loaded prior is
 * read-only): each result equals, bit for bit, the same job run alone. */
typedef struct {
    const wp_prior *p;
    int kind; /* 0: denoise, 1: sample */
    const float *x;
    float *out;
    int H, W;
    wp_workspace *ws; /* NULL: the job's own */
    pthread_barrier_t *start;
    wp_status st;
    char err[WP_ERRLEN];
} shared_job;

static void *run_shared_job(void *arg)
{
    shared_job *j = arg;
    wp_run_options o = {0};
    o.threads = 1;
    o.tile_size = 40; /* many tiles: the jobs' workspaces are in use all along */
    o.workspace = j->ws;
    if (j->start)
        pthread_barrier_wait(j->start);
    if (j->kind == 0) {
        j->st = wp_denoise(j->p, j->x, j->out, 1, j->H, j->W, NULL, &o, NULL, j->err);
    } else {
        wp_sample_options s = {0};
        s.width = j->W, s.height = j->H, s.seed = 5;
        s.sampler = (wp_sampler_params){.h0 = 0.1f, .beta = 0.5f, .sigma_l = 0.05f, .max_iter = 20};
        j->st = wp_sample(j->p, j->out, 1, &s, &o, j->err);
    }
    return NULL;
}

static void shared_prior_pair(const wp_prior *p, int kind0, int kind1)
{
    int H = 160, W = 192;
    size_t n = (size_t)H * W;
    float *x = smooth_image(1, H, W, 21);
    wp_workspace *ws = wp_workspace_new();
    ck_assert_ptr_nonnull(ws);
    shared_job alone[2], both[2];
    int kinds[2] = {kind0, kind1};
    for (int i = 0; i < 2; i++) {
        alone[i] = (shared_job){p, kinds[i], x, malloc(sizeof(float) * n), H, W, ws, NULL, 0, ""};
        run_shared_job(&alone[i]); /* one after the other, one workspace reused */
        ck_assert_msg(alone[i].st == WP_OK, "%s", alone[i].err);
    }
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 2);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        /* one job keeps the workspace, the other has its own */
        both[i] = (shared_job){p, kinds[i], x, malloc(sizeof(float) * n), H, W, i ? NULL : ws,
                               &start, 0, ""};
        ck_assert_int_eq(pthread_create(&t[i], NULL, run_shared_job, &both[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        ck_assert_msg(both[i].st == WP_OK, "%s", both[i].err);
        ck_assert_msg(!memcmp(both[i].out, alone[i].out, sizeof(float) * n),
                      "job %d (kind %d) differs from its run alone by %g", i, kinds[i],
                      max_abs_diff(both[i].out, alone[i].out, n));
        free(alone[i].out), free(both[i].out);
    }
    pthread_barrier_destroy(&start);
    wp_workspace_free(ws);
    free(x);
}

START_TEST(jobs_share_a_prior)
{
    const wp_prior *p = he_gain(random_prior(1, 2, 8, 13));
    shared_prior_pair(p, 0, 0); /* the same denoise twice */
    shared_prior_pair(p, 0, 1); /* a denoise and a sample */
    wp_prior_free((wp_prior *)p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jobs");
    TCase *tc = tcase_create("jobs");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, tiled_denoise_1024);
    tcase_add_test(tc, tiled_denoise_2000x1500);
    tcase_add_test(tc, tile_side_follows_the_budget);
    tcase_add_test(tc, peak_memory_stays_in_budget);
    tcase_add_test(tc, cancel_denoise);
    tcase_add_test(tc, cancel_upscale);
    tcase_add_test(tc, cancel_sample);
    tcase_add_test(tc, progress_rises_to_one);
    tcase_add_test(tc, strength_noise_estimate_and_colour_fallback);
    tcase_add_test(tc, sample_face_is_reproducible);
    tcase_add_test(tc, border_modes_match_the_oracle);
    tcase_add_test(tc, tileable_sample_follows_metadata);
    tcase_add_test(tc, quilt_takes_patches_from_the_exemplar);
    tcase_add_test(tc, quilt_pruning_matches_the_exhaustive_oracle);
    tcase_add_test(tc, quilt_cut_keeps_the_exemplar_contrast);
    tcase_add_test(tc, quilt_spreads_over_the_exemplar);
    tcase_add_test(tc, exemplar_sample_keeps_the_exemplar_colours);
    tcase_add_test(tc, exemplar_level_and_seam_from_the_metadata);
    tcase_add_test(tc, denoise_border_defaults);
    tcase_add_test(tc, ensemble_is_the_mean_of_moved_and_turned_passes);
    tcase_add_test(tc, ensemble_of_32_is_equivariant);
    tcase_add_test(tc, oracle_takes_its_part_from_the_clean_image);
    suite_add_tcase(s, tc);
    /* its own case: CK_RUN_CASE=upscale runs it alone */
    TCase *up = tcase_create("upscale");
    tcase_set_timeout(up, 600);
    tcase_add_test(up, upscale_face_keeps_block_means_and_beats_bicubic);
    tcase_add_test(up, upscale_fast_is_seed_free_consistent_and_beats_lanczos);
    tcase_add_test(up, upscale_passes_are_the_mean_of_turned_upscales);
    tcase_add_test(up, upscale_fast_takes_the_up_net);
    suite_add_tcase(s, up);
    /* its own case: CK_RUN_CASE=ascent runs it alone */
    TCase *ascent = tcase_create("ascent");
    tcase_set_timeout(ascent, 120);
    tcase_add_test(ascent, ascent_steps_toward_the_denoiser_and_ends_on_it);
    suite_add_tcase(s, ascent);
    /* its own case: CK_RUN_CASE=shared runs it alone */
    TCase *shared = tcase_create("shared");
    tcase_set_timeout(shared, 120);
    tcase_add_test(shared, jobs_share_a_prior);
    suite_add_tcase(s, shared);
    return run_suite(s);
}
