/* test_inpaint.c: wp_inpaint with the shipped photo priors: known pixels
 * come out bit-identical, seeded draws repeat, an empty mask returns the
 * input, border holes and nearly-full masks give finite fills, a small hole
 * in a large image costs only its region, and the fast mode beats the
 * masked mean (and is no worse than the diffusion fill) inside the holes. */
#include <stdint.h>
#include <unistd.h>

#include "image_io.h"
#include "testutil.h"
#include "wp_parallel.h"
#include "wp_prior_internal.h"
#include "wp_sample.h"
#include "wprior.h"

static wp_prior *shipped(const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.safetensors", MODELS_DIR, name);
    wp_prior *p = NULL;
    char err[WP_ERRLEN];
    if (wp_prior_load(path, &p, err))
        return NULL;
    return p;
}

/* A synthetic photograph-like image [C,H,W] quantized to `levels` steps:
 * smooth shading, a disc edge and fine stripes, different per channel. */
static float *synth(int C, int H, int W, int levels)
{
    float *x = malloc(sizeof(float) * C * H * W);
    for (int c = 0; c < C; c++)
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++) {
                double v = 0.3 + 0.25 * sin(0.05 * i + 0.3 * c) * cos(0.04 * j);
                if ((i - H / 2.0) * (i - H / 2.0) + (j - W / 3.0) * (j - W / 3.0) < H * W / 12.0)
                    v += 0.25;
                v += 0.05 * sin(0.9 * j + 0.2 * i);
                v = v < 0 ? 0 : v > 1 ? 1 : v;
                x[((size_t)c * H + i) * W + j] = (float)lrint(v * levels) / (float)levels;
            }
    return x;
}

static uint8_t *random_mask(int H, int W, double f, uint64_t seed)
{
    uint8_t *m = malloc((size_t)H * W);
    wp_rng r;
    wp_rng_seed(&r, seed);
    for (int i = 0; i < H * W; i++)
        m[i] = wp_rng_uniform(&r) < f;
    return m;
}

static void add_rect(uint8_t *m, int W, int x, int y, int w, int h)
{
    for (int i = y; i < y + h; i++)
        for (int j = x; j < x + w; j++)
            m[(size_t)i * W + j] = 1;
}

static wp_run_options two_threads(void)
{
    wp_run_options o = {0};
    o.threads = 2;
    return o;
}

/* Fills in[C,H,W] where mask; checks the known pixels bit for bit and the
 * filled ones in [0,1]; returns the output. */
static float *fill_checked(wp_prior *p, const float *in, const uint8_t *m, int C, int H, int W,
                           wp_inpaint_mode mode, uint64_t seed)
{
    size_t n = (size_t)C * H * W, hw = (size_t)H * W;
    float *out = malloc(sizeof(float) * n);
    wp_inpaint_options io = {0};
    io.mode = mode;
    io.seed = seed;
    wp_run_options ro = two_threads();
    char err[WP_ERRLEN] = "";
    ck_assert_msg(wp_inpaint(p, in, m, out, C, H, W, &io, &ro, err) == WP_OK, "%s", err);
    for (size_t i = 0; i < n; i++) {
        if (!m[i % hw])
            ck_assert_msg(memcmp(&out[i], &in[i], sizeof(float)) == 0,
                          "known pixel %zu changed: %.9g -> %.9g", i, in[i], out[i]);
        else
            ck_assert_msg(out[i] >= 0 && out[i] <= 1, "pixel %zu is %g", i, out[i]);
    }
    return out;
}

START_TEST(known_pixels_are_bit_identical)
{
    wp_prior *gray = shipped("photo-gray"), *colour = shipped("photo-color");
    if (!gray || !colour) {
        wp_prior_free(gray), wp_prior_free(colour);
        ck_abort_msg("the shipped photo priors are missing from %s", MODELS_DIR);
    }
    int H = 72, W = 88;
    uint8_t *m = random_mask(H, W, 0.3, 7);
    add_rect(m, W, 40, 20, 24, 24);
    int levels[2] = {255, 65535};
    for (int d = 0; d < 2; d++) {
        struct { wp_prior *p; int C; } cases[3] = {{gray, 1}, {colour, 3}, {gray, 3}};
        for (int k = 0; k < 3; k++) {
            float *in = synth(cases[k].C, H, W, levels[d]);
            for (int mode = 0; mode <= 2; mode++)
                free(fill_checked(cases[k].p, in, m, cases[k].C, H, W, mode, 1));
            free(in);
        }
    }
    free(m);
    wp_prior_free(gray);
    wp_prior_free(colour);
}
END_TEST

START_TEST(seeded_draws_repeat)
{
    wp_prior *p = shipped("photo-gray");
    ck_assert_ptr_nonnull(p);
    int H = 64, W = 64;
    float *in = synth(1, H, W, 255);
    uint8_t *m = calloc(H * W, 1);
    add_rect(m, W, 20, 20, 20, 20);
    float *a = fill_checked(p, in, m, 1, H, W, WP_INPAINT_SHARP, 5);
    float *b = fill_checked(p, in, m, 1, H, W, WP_INPAINT_SHARP, 5);
    float *c = fill_checked(p, in, m, 1, H, W, WP_INPAINT_SHARP, 6);
    ck_assert(memcmp(a, b, sizeof(float) * H * W) == 0);
    ck_assert_msg(max_abs_diff(a, c, (size_t)H * W) > 1e-3, "another seed, the same draw");
    free(a), free(b), free(c), free(in), free(m);
    wp_prior_free(p);
}
END_TEST

START_TEST(empty_mask_returns_the_input)
{
    wp_prior *p = shipped("photo-color");
    ck_assert_ptr_nonnull(p);
    int H = 40, W = 50;
    float *in = synth(3, H, W, 255), *out = malloc(sizeof(float) * 3 * H * W);
    uint8_t *m = calloc(H * W, 1);
    wp_inpaint_options io = {0};
    io.mode = WP_INPAINT_SHARP;
    char err[WP_ERRLEN];
    ck_assert(wp_inpaint(p, in, m, out, 3, H, W, &io, NULL, err) == WP_OK);
    ck_assert(memcmp(in, out, sizeof(float) * 3 * H * W) == 0);
    ck_assert_int_eq(io.regions, 0);
    ck_assert_int_eq(io.iterations, 0);
    free(in), free(out), free(m);
    wp_prior_free(p);
}
END_TEST

START_TEST(border_holes_and_nearly_full_masks)
{
    wp_prior *p = shipped("photo-color");
    ck_assert_ptr_nonnull(p);
    int H = 61, W = 77; /* not multiples of 2^J */
    float *in = synth(3, H, W, 255);
    uint8_t *m = calloc(H * W, 1);
    add_rect(m, W, 0, 0, 20, 15);      /* a corner */
    add_rect(m, W, W - 9, 10, 9, 40);  /* the right border */
    add_rect(m, W, 30, H - 3, 30, 3);  /* the bottom border */
    for (int mode = 0; mode < 2; mode++)
        free(fill_checked(p, in, m, 3, H, W, mode, 2));
    free(m);
    m = random_mask(H, W, 0.97, 3); /* nearly everything unknown */
    for (int mode = 0; mode < 2; mode++)
        free(fill_checked(p, in, m, 3, H, W, mode, 2));
    memset(m, 1, (size_t)H * W); /* everything: a plain sample */
    free(fill_checked(p, in, m, 3, H, W, WP_INPAINT_FAST, 2));
    free(in), free(m);
    wp_prior_free(p);
}
END_TEST

START_TEST(a_small_hole_costs_its_region)
{
    wp_prior *p = shipped("photo-gray");
    ck_assert_ptr_nonnull(p);
    int H = 1500, W = 2000;
    float *in = synth(1, H, W, 255);
    uint8_t *m = calloc((size_t)H * W, 1);
    add_rect(m, W, 1200, 700, 32, 32);
    add_rect(m, W, 100, 100, 16, 8); /* a second hole far away: its own region */
    wp_inpaint_options io = {0};
    wp_run_options ro = two_threads();
    char err[WP_ERRLEN];
    float *out = malloc(sizeof(float) * H * W);
    ck_assert_msg(wp_inpaint(p, in, m, out, 1, H, W, &io, &ro, err) == WP_OK, "%s", err);
    ck_assert_int_eq(io.regions, 2);
    /* each hole's region: the hole grown by the prior's context (what
     * wp_inpaint_extent tells the plug-in to crop), a tenth of the image */
    size_t most = 0;
    int hole[2][4] = {{1200, 700, 32, 32}, {100, 100, 16, 8}};
    for (int k = 0; k < 2; k++) {
        int rx, ry, rw, rh;
        wp_inpaint_extent(p, &io, W, H, hole[k][0], hole[k][1], hole[k][2], hole[k][3], &rx, &ry,
                          &rw, &rh);
        most += (size_t)rw * rh;
    }
    ck_assert_msg(io.pixels <= most && most < (size_t)H * W / 10, "%zu pixels processed (%zu)",
                  io.pixels, most);
    for (size_t i = 0; i < (size_t)H * W; i++)
        if (!m[i])
            ck_assert(out[i] == in[i]);
    free(in), free(out), free(m);
    wp_prior_free(p);
}
END_TEST

START_TEST(fast_beats_the_masked_mean)
{
    wp_prior *p = shipped("photo-gray");
    ck_assert_ptr_nonnull(p);
    int H = 96, W = 96;
    size_t n = (size_t)H * W;
    float *in = synth(1, H, W, 255), *mean = malloc(sizeof(float) * n);
    uint8_t *m = random_mask(H, W, 0.5, 11);
    add_rect(m, W, 50, 30, 16, 16);
    double s = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!m[i])
            s += in[i], k++;
    for (size_t i = 0; i < n; i++)
        mean[i] = m[i] ? (float)(s / k) : in[i];
    float *fast = fill_checked(p, in, m, 1, H, W, WP_INPAINT_FAST, 0);
    float *diff = fill_checked(p, in, m, 1, H, W, WP_INPAINT_DIFFUSE, 0);
    double pf = psnr_of(fast, in, m, n, 0), pm = psnr_of(mean, in, m, n, 0),
           pd = psnr_of(diff, in, m, n, 0);
    fprintf(stderr, "inside the mask: fast %.3f dB, diffusion %.3f dB, masked mean %.3f dB\n", pf,
            pd, pm);
    ck_assert_msg(pf > pm + 10, "fast %.2f dB, masked mean %.2f dB", pf, pm);
    /* below the prior's finest level the smooth fill beats diffusion */
    ck_assert_msg(pf > pd + 0.5, "fast %.3f dB, the diffusion fill %.3f dB", pf, pd);
    free(in), free(mean), free(m), free(fast), free(diff);
    wp_prior_free(p);
}
END_TEST

/* A fill net corrects the fast fill: away from the border (where the
 * region's mirrored context and an untiled run's zero padding differ)
 * the unknown pixels are clamp(fill - net([fill, m])) with the untiled
 * net as the oracle; known pixels stay bit-identical; the net survives a
 * save and a load; the other modes ignore it. */
START_TEST(fill_net_corrects_the_fast_fill)
{
    wp_prior *p = shipped("photo-gray"), *q = NULL;
    ck_assert_ptr_nonnull(p);
    int H = 64, W = 80;
    size_t n = (size_t)H * W;
    float *in = synth(1, H, W, 255);
    uint8_t *m = random_mask(H, W, 0.7, 9);
    float *plain = fill_checked(p, in, m, 1, H, W, WP_INPAINT_FAST, 0);
    float *sharp = fill_checked(p, in, m, 1, H, W, WP_INPAINT_SHARP, 3);
    small_random_net(&p->fill, 2, 1, 12, 0.2f);
    p->has_fill = 1;
    q = reloaded(p);
    ck_assert(wp_prior_has_fill(q));
    ck_assert_int_eq(memcmp(q->fill.params, p->fill.params, sizeof(float) * p->fill.nparams), 0);
    float *fixed = fill_checked(q, in, m, 1, H, W, WP_INPAINT_FAST, 0);
    float *sharp2 = fill_checked(q, in, m, 1, H, W, WP_INPAINT_SHARP, 3);
    ck_assert_int_eq(memcmp(sharp, sharp2, sizeof(float) * n), 0);
    float *x = malloc(sizeof(float) * 2 * n), *y = malloc(sizeof(float) * n);
    float *ws = malloc(sizeof(float) * wp_net_infer_floats(&q->fill, 1, H, W));
    for (size_t i = 0; i < n; i++)
        x[i] = plain[i], x[n + i] = m[i] ? 1.0f : 0.0f;
    ck_assert_int_eq(wp_net_forward(&q->fill, x, y, 1, H, W, ws, NULL), WP_OK);
    int h = (wp_net_receptive_field(&q->fill) - 1) / 2;
    double worst = 0, moved = 0;
    for (int i = h; i < H - h; i++)
        for (int j = h; j < W - h; j++) {
            size_t o = (size_t)i * W + j;
            if (!m[o])
                continue;
            float v = plain[o] - y[o];
            v = v < 0 ? 0 : v > 1 ? 1 : v;
            worst = fmax(worst, fabs(v - fixed[o]));
            moved = fmax(moved, fabs(plain[o] - fixed[o]));
        }
    ck_assert_msg(worst < 1e-5, "the fill net's correction is %g off the oracle", worst);
    ck_assert_msg(moved > 1e-2, "the fill net changed the fill by at most %g", moved);
    free(x), free(y), free(ws), free(in), free(m), free(plain), free(sharp), free(fixed),
        free(sharp2);
    wp_prior_free(p), wp_prior_free(q);
}
END_TEST

START_TEST(metadata_sets_the_finest_level)
{
    wp_prior *p = shipped("photo-gray");
    ck_assert_ptr_nonnull(p);
    int H = 48, W = 48;
    float *in = synth(1, H, W, 255);
    uint8_t *m = random_mask(H, W, 0.5, 4);
    float *a = fill_checked(p, in, m, 1, H, W, WP_INPAINT_FAST, 0);
    char err[WP_ERRLEN];
    ck_assert(wp_prior_set_meta(p, "inpaint.fast.finest", "0", err) == WP_OK);
    float *b = fill_checked(p, in, m, 1, H, W, WP_INPAINT_FAST, 0);
    ck_assert_msg(max_abs_diff(a, b, (size_t)H * W) > 1e-4, "level 0 made no difference");
    ck_assert(wp_prior_set_meta(p, "inpaint.fast.finest", "7", err) == WP_OK); /* > J: ignored */
    float *c = fill_checked(p, in, m, 1, H, W, WP_INPAINT_FAST, 0);
    ck_assert(memcmp(a, c, sizeof(float) * H * W) == 0);
    free(a), free(b), free(c), free(in), free(m);
    wp_prior_free(p);
}
END_TEST

/* The denoiser drives the fill: with the fast mode's anneal down to level
 * 0, a prior whose denoiser keeps clean detail (face-gray, on a face from
 * tests/data) beats the diffusion fill on 50% random missing pixels. */
START_TEST(the_prior_beats_diffusion_on_random_pixels)
{
    const char *root = getenv("WPRIOR_SOURCE_ROOT");
    char path[1200], err[WP_ERRLEN];
    snprintf(path, sizeof path, "%s/tests/data/astronaut_face160.png", root ? root : ".");
    wp_image img;
    ck_assert_msg(wp_image_read(path, 0, &img, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(img.channels, 1);
    int H = img.height, W = img.width;
    size_t n = (size_t)H * W;
    wp_prior *p = shipped("face-gray");
    ck_assert_ptr_nonnull(p);
    ck_assert(wp_prior_set_meta(p, "inpaint.fast.finest", "0", err) == WP_OK);
    uint8_t *m = random_mask(H, W, 0.5, 5);
    float *fast = fill_checked(p, img.pixels, m, 1, H, W, WP_INPAINT_FAST, 0);
    float *diff = fill_checked(p, img.pixels, m, 1, H, W, WP_INPAINT_DIFFUSE, 0);
    double pf = psnr_of(fast, img.pixels, m, n, 0), pd = psnr_of(diff, img.pixels, m, n, 0);
    fprintf(stderr, "50%% missing on a face: fast %.3f dB, diffusion %.3f dB\n", pf, pd);
    ck_assert_msg(pf > pd + 0.3, "fast %.3f dB, the diffusion fill %.3f dB", pf, pd);
    free(m), free(fast), free(diff);
    wp_image_free(&img);
    wp_prior_free(p);
}
END_TEST

/* The energy that wp_smooth_fill minimises, summed naively in double:
 * 1/2 (sum over neighbour pairs (y_a - y_b)^2 + sum_i (G y)_i^2
 * + mu sum over unknown i (y_i - s_i)^2), G y = minus the Laplacian with
 * mirrored borders. */
static double smooth_energy(const float *y, const float *s, const float *wt, int h, int w,
                            double mu)
{
    double e = 0;
    for (int i = 0; i < h; i++)
        for (int k = 0; k < w; k++) {
            double c = y[i * w + k], g = 0;
            int nb[4][2] = {{i - 1, k}, {i + 1, k}, {i, k - 1}, {i, k + 1}};
            for (int q = 0; q < 4; q++) {
                int a = nb[q][0], b = nb[q][1];
                if (a < 0 || a >= h || b < 0 || b >= w)
                    continue;
                double d = c - y[a * w + b];
                g += d;
                e += 0.25 * d * d; /* each pair is met twice */
            }
            e += 0.5 * g * g;
            if (wt[i * w + k] < 1)
                e += 0.5 * mu * (c - s[i * w + k]) * (c - s[i * w + k]);
        }
    return e;
}

/* The largest central difference of the energy over the unknown pixels. */
static double smooth_gradient(float *y, const float *s, const float *wt, int h, int w, double mu)
{
    double most = 0, eps = 1e-2;
    for (int i = 0; i < h * w; i++) {
        if (wt[i] >= 1)
            continue;
        float keep = y[i];
        y[i] = keep + (float)eps;
        double ep = smooth_energy(y, s, wt, h, w, mu);
        y[i] = keep - (float)eps;
        double em = smooth_energy(y, s, wt, h, w, mu);
        y[i] = keep;
        double g = fabs(ep - em) / (2 * eps);
        most = g > most ? g : most;
    }
    return most;
}

/* The smooth fill reaches the energy's minimum: its gradient over the
 * unknown pixels (finite differences of the naive sum) falls to a small
 * part of the start's, the known pixels untouched. */
START_TEST(smooth_fill_minimises_its_energy)
{
    int h = 23, w = 31;
    size_t n = (size_t)h * w;
    float *y = synth(1, h, w, 255), *s = malloc(sizeof(float) * n), *wt = malloc(sizeof(float) * n),
          *keep = malloc(sizeof(float) * n), *buf = malloc(sizeof(float) * 4 * n);
    uint8_t *m = random_mask(h, w, 0.6, 8);
    add_rect(m, w, 4, 5, 9, 7);
    for (size_t i = 0; i < n; i++) {
        wt[i] = m[i] ? 0.0f : 1.0f;
        if (m[i]) /* a rough start: the fill must move it */
            y[i] = 0.5f + 0.3f * (float)((i * 7919) % 13) / 13;
    }
    memcpy(s, y, sizeof(float) * n);
    memcpy(keep, y, sizeof(float) * n);
    float *const work[4] = {buf, buf + n, buf + 2 * n, buf + 3 * n};
    for (int t = 0; t < 2; t++) {
        double mu = t ? 0.03 : 0.0;
        memcpy(y, s, sizeof(float) * n);
        double g0 = smooth_gradient(y, s, wt, h, w, mu);
        int it = wp_smooth_fill(y, wt, h, w, (float)mu, work);
        double g1 = smooth_gradient(y, s, wt, h, w, mu);
        fprintf(stderr, "smooth fill, mu %.2f: %d iterations, gradient %.3g -> %.3g\n", mu, it, g0,
                g1);
        ck_assert_msg(g0 > 0.1 && g1 < 5e-3 * g0, "gradient %.3g -> %.3g", g0, g1);
        for (size_t i = 0; i < n; i++)
            if (!m[i])
                ck_assert(y[i] == keep[i]);
    }
    free(y), free(s), free(wt), free(keep), free(buf), free(m);
}
END_TEST

/* The oracle of wp_eed_fill: the same steps pixel by pixel in double, the
 * presmoothing as a 5x5 sum of the Gaussian of sigma 0.5. */
static int clampi(int i, int n) { return i < 0 ? 0 : i >= n ? n - 1 : i; }

static void eed_naive(double *y, int C, const float *wt, int h, int w, int steps)
{
    size_t hw = (size_t)h * w;
    double g[5], gs = 0, lam = 0.02, tau = 0.2;
    for (int d = -2; d <= 2; d++)
        gs += g[d + 2] = exp(-2.0 * d * d);
    double *us = malloc(sizeof(double) * C * hw), *a = malloc(sizeof(double) * 3 * hw),
           *du = malloc(sizeof(double) * C * hw);
    for (int t = 0; t < steps; t++) {
        for (int c = 0; c < C; c++)
            for (int i = 0; i < h; i++)
                for (int k = 0; k < w; k++) {
                    double v = 0;
                    for (int p = -2; p <= 2; p++)
                        for (int q = -2; q <= 2; q++)
                            v += g[p + 2] * g[q + 2] / (gs * gs) *
                                 y[c * hw + (size_t)clampi(i + p, h) * w + clampi(k + q, w)];
                    us[c * hw + (size_t)i * w + k] = v;
                }
        for (int i = 0; i < h; i++)
            for (int k = 0; k < w; k++) {
                double jxx = 0, jxy = 0, jyy = 0;
                for (int c = 0; c < C; c++) {
                    const double *u = us + c * hw;
                    double gx = (u[i * w + clampi(k + 1, w)] - u[i * w + clampi(k - 1, w)]) / 2;
                    double gy = (u[clampi(i + 1, h) * w + k] - u[clampi(i - 1, h) * w + k]) / 2;
                    jxx += gx * gx / C, jxy += gx * gy / C, jyy += gy * gy / C;
                }
                /* eigenvalues and the dominant eigenvector of the tensor */
                double mu = (jxx + jyy + sqrt((jxx - jyy) * (jxx - jyy) + 4 * jxy * jxy)) / 2;
                double th = atan2(2 * jxy, jxx - jyy) / 2, vx = cos(th), vy = sin(th);
                double l1 = 1 / (1 + mu / (lam * lam));
                size_t o = (size_t)i * w + k;
                a[o] = l1 * vx * vx + vy * vy;
                a[hw + o] = (l1 - 1) * vx * vy;
                a[2 * hw + o] = l1 * vy * vy + vx * vx;
            }
        for (int c = 0; c < C; c++)
            for (int i = 0; i < h; i++)
                for (int k = 0; k < w; k++) {
                    size_t o = (size_t)i * w + k;
                    const double *u = y + c * hw;
                    double s = 0, x = u[o];
                    /* neighbour (p, q): the weight from the tensor's mean
                     * with the centre */
                    for (int p = -1; p <= 1; p++)
                        for (int q = -1; q <= 1; q++) {
                            if (!p && !q)
                                continue;
                            size_t n = (size_t)clampi(i + p, h) * w + clampi(k + q, w);
                            double wgt = !p   ? (a[n] + a[o]) / 2
                                         : !q ? (a[2 * hw + n] + a[2 * hw + o]) / 2
                                              : p * q * (a[hw + n] + a[hw + o]) / 4;
                            s += wgt * (u[n] - x);
                        }
                    du[c * hw + o] = wt[o] < 1 ? s : 0;
                }
        for (size_t i = 0; i < C * hw; i++)
            y[i] += tau * du[i];
    }
    free(us), free(a), free(du);
}

/* An RGB image of two oblique edges crossed by a thin scratch, 10% of
 * random pixels missing besides, the start filled smoothly. */
static void edges_and_scratch(float *y, float *truth, float *wt, uint8_t *m, int h, int w)
{
    size_t hw = (size_t)h * w;
    uint8_t *r = random_mask(h, w, 0.1, 3);
    for (int i = 0; i < h; i++)
        for (int k = 0; k < w; k++) {
            size_t o = (size_t)i * w + k;
            m[o] = r[o] || (i >= 18 + k / 12 && i < 21 + k / 12);
            wt[o] = m[o] ? 0.0f : 1.0f;
            for (int c = 0; c < 3; c++)
                truth[c * hw + o] = 0.2f + 0.1f * c + 0.4f * (1.3 * k - i > 25) +
                                    0.2f * (k + 0.6 * i < 30);
        }
    float *buf = malloc(sizeof(float) * 4 * hw);
    float *const work[4] = {buf, buf + hw, buf + 2 * hw, buf + 3 * hw};
    for (int c = 0; c < 3; c++) {
        for (size_t o = 0; o < hw; o++)
            y[c * hw + o] = m[o] ? 0.5f : truth[c * hw + o];
        wp_smooth_fill(y + c * hw, wt, h, w, 0.0f, work);
    }
    free(buf), free(r);
}

/* wp_eed_fill: its steps agree with the oracle, on 1 and 2 threads alike;
 * from the smooth fill it comes closer to the edges inside the scratch,
 * the known pixels untouched. */
START_TEST(eed_fill_continues_edges)
{
    int h = 40, w = 56, C = 3;
    size_t hw = (size_t)h * w, n = C * hw;
    float *y = malloc(sizeof(float) * n), *truth = malloc(sizeof(float) * n),
          *wt = malloc(sizeof(float) * hw), *a = malloc(sizeof(float) * n),
          *b = malloc(sizeof(float) * n), *buf = malloc(sizeof(float) * (3 * n + 3 * hw));
    double *d = malloc(sizeof(double) * n);
    uint8_t *m = malloc(hw);
    edges_and_scratch(y, truth, wt, m, h, w);
    float *const work[6] = {buf, buf + n, buf + 2 * n, buf + 3 * n, buf + 3 * n + hw,
                            buf + 3 * n + 2 * hw};
    int steps = 20;
    for (size_t i = 0; i < n; i++)
        d[i] = y[i];
    eed_naive(d, C, wt, h, w, steps);
    memcpy(a, y, sizeof(float) * n);
    memcpy(b, y, sizeof(float) * n);
    wp_set_threads(1);
    ck_assert_int_eq(wp_eed_fill(a, C, wt, h, w, steps, work, NULL), steps);
    wp_set_threads(2);
    ck_assert_int_eq(wp_eed_fill(b, C, wt, h, w, steps, work, NULL), steps);
    double most = 0;
    for (size_t i = 0; i < n; i++) {
        ck_assert(a[i] == b[i]);
        most = fmax(most, fabs(a[i] - d[i]));
    }
    fprintf(stderr, "edge-enhancing diffusion, %d steps: %.3g from the oracle\n", steps, most);
    ck_assert_msg(most < 1e-4, "%.3g from the oracle", most);
    memcpy(a, y, sizeof(float) * n);
    wp_eed_fill(a, C, wt, h, w, 150, work, NULL);
    uint8_t *m3 = malloc(n);
    for (size_t i = 0; i < n; i++)
        m3[i] = m[i % hw];
    double p0 = psnr_of(y, truth, m3, n, 0), p1 = psnr_of(a, truth, m3, n, 0);
    fprintf(stderr, "inside the scratch: smooth fill %.2f dB, then the diffusion %.2f dB\n", p0, p1);
    ck_assert_msg(p1 > p0 + 0.5, "%.2f dB from %.2f", p1, p0);
    for (size_t i = 0; i < n; i++)
        if (!m3[i])
            ck_assert(a[i] == y[i]);
    free(y), free(truth), free(wt), free(a), free(b), free(buf), free(d), free(m), free(m3);
}
END_TEST

static void cancel_now(double f, void *data)
{
    (void)f;
    *(volatile int *)data = 1;
}

START_TEST(cancel_leaves_the_output)
{
    wp_prior *p = shipped("photo-gray");
    ck_assert_ptr_nonnull(p);
    int H = 64, W = 64;
    float *in = synth(1, H, W, 255), *out = malloc(sizeof(float) * H * W);
    for (int i = 0; i < H * W; i++)
        out[i] = -7.0f;
    uint8_t *m = calloc(H * W, 1);
    add_rect(m, W, 10, 10, 30, 30);
    volatile int flag = 0;
    wp_run_options ro = two_threads();
    ro.cancel = &flag;
    ro.progress = cancel_now;
    ro.progress_data = (void *)&flag;
    wp_inpaint_options io = {0};
    io.mode = WP_INPAINT_SHARP;
    char err[WP_ERRLEN];
    ck_assert_int_eq(wp_inpaint(p, in, m, out, 1, H, W, &io, &ro, err), WP_ERR_CANCELLED);
    for (int i = 0; i < H * W; i++)
        ck_assert(out[i] == -7.0f);
    free(in), free(out), free(m);
    wp_prior_free(p);
}
END_TEST

START_TEST(bad_arguments_are_refused)
{
    wp_prior *p = shipped("photo-color");
    ck_assert_ptr_nonnull(p);
    float in[3 * 16] = {0}, out[3 * 16];
    uint8_t m[16] = {1};
    wp_inpaint_options io = {0};
    char err[WP_ERRLEN];
    ck_assert_int_eq(wp_inpaint(p, in, m, out, 1, 4, 4, &io, NULL, err), WP_ERR_ARG);
    in[3] = NAN;
    ck_assert_int_eq(wp_inpaint(p, in, m, out, 3, 4, 4, &io, NULL, err), WP_ERR_ARG);
    in[3] = 0;
    io.mode = 9;
    ck_assert_int_eq(wp_inpaint(p, in, m, out, 3, 4, 4, &io, NULL, err), WP_ERR_ARG);
    io.mode = WP_INPAINT_FAST;
    io.sampler.h0 = 2;
    ck_assert_int_eq(wp_inpaint(p, in, m, out, 3, 4, 4, &io, NULL, err), WP_ERR_ARG);
    io.sampler.h0 = 0;
    ck_assert_int_eq(wp_inpaint(p, in, m, out, 3, 4, 4, &io, NULL, err), WP_OK);
    wp_prior_free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("inpaint");
    TCase *tc = tcase_create("inpaint");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, known_pixels_are_bit_identical);
    tcase_add_test(tc, seeded_draws_repeat);
    tcase_add_test(tc, empty_mask_returns_the_input);
    tcase_add_test(tc, border_holes_and_nearly_full_masks);
    tcase_add_test(tc, a_small_hole_costs_its_region);
    tcase_add_test(tc, fast_beats_the_masked_mean);
    tcase_add_test(tc, smooth_fill_minimises_its_energy);
    tcase_add_test(tc, eed_fill_continues_edges);
    tcase_add_test(tc, metadata_sets_the_finest_level);
    tcase_add_test(tc, fill_net_corrects_the_fast_fill);
    tcase_add_test(tc, the_prior_beats_diffusion_on_random_pixels);
    tcase_add_test(tc, cancel_leaves_the_output);
    tcase_add_test(tc, bad_arguments_are_refused);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
