/* test_layers.c: each layer's forward and backward.  The optimised
 * convolutions must match the plain ones; every backward must match
 * central finite differences (computed in double on the float code). */
#include "testutil.h"
#include "wp_conv.h"
#include "wp_layers_ref.h"
#include "wp_parallel.h"
#include "wp_net.h"

/* ---- fast vs reference convolution ---- */

static double max_abs(const float *a, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fabs(a[i]) > m ? fabs(a[i]) : m;
    return m;
}


static void conv_case(int N, int Cin, int Cout, int H, int W, int k)
{
    wp_rng r;
    wp_rng_seed(&r, 1000 + N * 7 + Cin * 13 + Cout * 17 + H * 19 + W * 23 + k);
    size_t nx = (size_t)N * Cin * H * W, ny = (size_t)N * Cout * H * W,
           nw = (size_t)Cout * Cin * k * k;
    float *x = rand_buf(&r, nx, 1), *w = rand_buf(&r, nw, 0.3f), *dy = rand_buf(&r, ny, 1);
    float *y1 = malloc(4 * ny), *y2 = malloc(4 * ny), *dx1 = malloc(4 * nx), *dx2 = malloc(4 * nx);
    float *dw1 = calloc(nw, 4), *dw2 = calloc(nw, 4);
    float *scratch = malloc(4 * (wp_conv2d_scratch_floats(Cin, Cout, H, W, k) + 1));
    /* relative to the largest value: F(4x4)'s rounding (see wino4_case) */
    wp_conv2d_forward(y1, x, w, N, Cin, Cout, H, W, k, scratch);
    wp_conv2d_forward_ref(y2, x, w, N, Cin, Cout, H, W, k);
    ck_assert_double_le(max_abs_diff(y1, y2, ny), 2e-5 * max_abs(y2, ny));
    wp_conv2d_backward_data(dx1, dy, w, N, Cin, Cout, H, W, k, scratch);
    wp_conv2d_backward_data_ref(dx2, dy, w, N, Cin, Cout, H, W, k);
    ck_assert_double_le(max_abs_diff(dx1, dx2, nx), 2e-5 * max_abs(dx2, nx));
    /* accumulation: start both from the same non-zero values */
    for (size_t i = 0; i < nw; i++)
        dw1[i] = dw2[i] = 0.5f;
    wp_conv2d_backward_weights(dw1, dy, x, N, Cin, Cout, H, W, k, scratch);
    wp_conv2d_backward_weights_ref(dw2, dy, x, N, Cin, Cout, H, W, k);
    ck_assert_double_le(max_abs_diff(dw1, dw2, nw), 1e-3);
    free(x), free(w), free(dy), free(y1), free(y2), free(dx1), free(dx2), free(dw1), free(dw2);
    free(scratch);
}

START_TEST(conv_fast_matches_reference)
{
    int shapes[][6] = {{1, 1, 1, 1, 1, 3}, {1, 3, 5, 1, 7, 3}, {2, 4, 6, 5, 3, 3},
                       {2, 4, 6, 5, 3, 1}, {1, 8, 3, 9, 11, 3}, {3, 2, 2, 1, 1, 3},
                       {1, 16, 16, 12, 10, 1}, {2, 5, 7, 8, 8, 3}};
    for (int t = 1; t <= 2; t++) {
        wp_set_threads(t);
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
            conv_case(shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3], shapes[i][4],
                      shapes[i][5]);
        conv_case(1, 6, 5, 45, 61, 3);  /* several Winograd chunks */
        conv_case(2, 64, 48, 17, 19, 1); /* several 1x1 blocks, the last partial */
        conv_case(2, 64, 64, 40, 40, 1); /* the training shapes of 1x1 layers */
        conv_case(1, 64, 64, 64, 64, 1);
        conv_case(2, 1, 64, 40, 40, 3); /* a low-pass net's first and last layers */
        conv_case(2, 64, 1, 40, 40, 3);
    }
    wp_set_threads(1);
}
END_TEST

/* The weight gradients (3x3 by Winograd, 1x1 by the blocked product) at
 * the training shapes (first, middle and last layers of a 64-channel net,
 * 40x40 crops in two passes of the Winograd products, 64x64 in three,
 * sizes with partial tiles), against the double-precision oracle: the
 * error relative to the largest gradient stays at float rounding. */
START_TEST(weight_gradient_at_training_shapes)
{
    int shapes[][6] = {{2, 64, 64, 40, 40, 3}, {2, 4, 64, 40, 40, 3}, {2, 64, 3, 40, 40, 3},
                       {1, 12, 64, 64, 64, 3}, {2, 64, 64, 40, 40, 1}, {1, 64, 64, 64, 64, 1},
                       {1, 64, 60, 9, 7, 1}, {2, 1, 64, 40, 40, 3}, {2, 64, 1, 40, 40, 3},
                       {1, 64, 6, 13, 11, 1}, {1, 64, 64, 26, 29, 3}, {2, 5, 7, 27, 30, 3}};
    for (int t = 1; t <= 2; t++) {
        wp_set_threads(t);
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            int N = shapes[s][0], Cin = shapes[s][1], Cout = shapes[s][2], H = shapes[s][3],
                W = shapes[s][4], k = shapes[s][5];
            wp_rng r;
            wp_rng_seed(&r, 77 + s);
            size_t nx = (size_t)N * Cin * H * W, ny = (size_t)N * Cout * H * W,
                   nw = (size_t)Cout * Cin * k * k;
            float *x = rand_buf(&r, nx, 1), *dy = rand_buf(&r, ny, 1);
            float *dw1 = calloc(nw, 4), *dw2 = calloc(nw, 4);
            float *scratch = malloc(4 * wp_conv2d_scratch_floats(Cin, Cout, H, W, k));
            wp_conv2d_backward_weights(dw1, dy, x, N, Cin, Cout, H, W, k, scratch);
            wp_conv2d_backward_weights_ref(dw2, dy, x, N, Cin, Cout, H, W, k);
            double big = 0;
            for (size_t i = 0; i < nw; i++)
                big = fabs(dw2[i]) > big ? fabs(dw2[i]) : big;
            double e = max_abs_diff(dw1, dw2, nw);
            ck_assert_msg(e <= 1e-5 * big, "shape %zu threads %d: max abs diff %g, largest %g", s,
                          t, e, big);
            free(x), free(dy), free(dw1), free(dw2), free(scratch);
        }
    }
    wp_set_threads(1);
}
END_TEST

/* The fused inference layer (BN scale + ReLU) on 1 and 2 threads, with
 * images big enough to make several chunks. */
START_TEST(fused_layer_matches_reference)
{
    int shapes[][5] = {{5, 7, 40, 50, 3}, {3, 4, 1, 9, 3}, {6, 5, 70, 80, 1}, {4, 8, 33, 2, 3},
                       {64, 40, 23, 29, 1}};
    for (int t = 1; t <= 2; t++) {
        wp_set_threads(t);
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            int Cin = shapes[s][0], Cout = shapes[s][1], H = shapes[s][2], W = shapes[s][3],
                k = shapes[s][4];
            wp_rng r;
            wp_rng_seed(&r, 77 + s);
            size_t nx = (size_t)Cin * H * W, ny = (size_t)Cout * H * W, nw = (size_t)Cout * Cin * k * k;
            float *x = rand_buf(&r, nx, 1), *w = rand_buf(&r, nw, 0.3f), *sc = rand_buf(&r, Cout, 1);
            float *y1 = malloc(4 * ny), *y2 = malloc(4 * ny);
            float *scratch = malloc(4 * wp_conv_fused_scratch_floats(Cin, Cout, H, W, k));
            wp_conv2d_forward_fused(y1, x, w, sc, 1, Cin, Cout, H, W, k, scratch);
            wp_conv2d_forward_ref(y2, x, w, 1, Cin, Cout, H, W, k);
            for (size_t i = 0; i < ny; i++) {
                float v = y2[i] * sc[i / ((size_t)H * W)];
                y2[i] = v > 0 ? v : 0;
            }
            ck_assert_msg(max_abs_diff(y1, y2, ny) <= 1e-4, "shape %zu threads %d: %g", s, t,
                          max_abs_diff(y1, y2, ny));
            free(x), free(w), free(sc), free(y1), free(y2), free(scratch);
        }
    }
    wp_set_threads(1);
}
END_TEST

/* Winograd F(4x4,3x3) against the plain convolution (its oracle), with
 * the input formed as relu(A x) on read, an output scale and ReLU, over
 * odd sizes (partial tiles at the right and bottom borders, images
 * narrower than a tile, wide ones split into column chunks) and channel
 * counts; the same bits on 1 and 2 threads.  The error relative to the
 * output's largest value: F(4x4)'s transforms (coefficients up to 8 and
 * 1/24) round more than F(2x2)'s: over these cases at most 6.4e-6 for
 * F(4x4) and 5.3e-7 for F(2x2) (64 -> 1 and 64 -> 64 channels), so 2e-5
 * is float rounding with a 3x margin (a wrong transform coefficient gives
 * errors of order 1e-2 and more). */
static double wino4_case(int Cin, int Cout, int H, int W, int in_relu, int relu)
{
    wp_rng r;
    wp_rng_seed(&r, 500 + Cin * 3 + Cout * 5 + H * 7 + W * 11 + in_relu);
    size_t nx = (size_t)Cin * H * W, ny = (size_t)Cout * H * W, nw = (size_t)Cout * Cin * 9;
    float *x = rand_buf(&r, nx, 1), *w = rand_buf(&r, nw, 0.3f), *sc = rand_buf(&r, Cout, 1);
    float *A = rand_buf(&r, Cin, 1), *a = malloc(4 * nx), *yref = malloc(4 * ny);
    float *y[2], *U = malloc(4 * wp_wino4_weight_floats(Cin, Cout));
    if (in_relu)
        wp_bn_relu_image(a, x, A, Cin, H * W);
    else
        memcpy(a, x, 4 * nx);
    wp_conv2d_forward_ref(yref, a, w, 1, Cin, Cout, H, W, 3);
    double big = 0;
    for (size_t i = 0; i < ny; i++) {
        float v = yref[i] * sc[i / ((size_t)H * W)];
        yref[i] = relu && v < 0 ? 0 : v;
        big = fabs(v) > big ? fabs(v) : big;
    }
    wp_wino4_weights(U, w, Cin, Cout, sc, 0);
    for (int t = 1; t <= 2; t++) {
        wp_set_threads(t);
        float *scratch = malloc(4 * (size_t)t * wp_wino4_chunk_floats(Cin, Cout, W));
        y[t - 1] = malloc(4 * ny);
        wp_wino4_conv3x3(y[t - 1], x, in_relu ? A : NULL, U, Cin, Cout, H, W, relu, scratch);
        free(scratch);
    }
    wp_set_threads(1);
    ck_assert_msg(!memcmp(y[0], y[1], 4 * ny), "%dx%d %d->%d: threads differ", H, W, Cin, Cout);
    double e = max_abs_diff(y[0], yref, ny) / (big > 0 ? big : 1);
    free(x), free(w), free(sc), free(A), free(a), free(yref), free(y[0]), free(y[1]), free(U);
    return e;
}

START_TEST(wino4_matches_reference)
{
    int sizes[][2] = {{1, 1}, {3, 5}, {7, 9}, {33, 17}, {4, 4}, {8, 12}, {2, 30}, {21, 300}};
    int chans[][2] = {{1, 1}, {3, 4}, {4, 3}, {64, 64}, {12, 64}, {64, 1}, {1, 64}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (size_t j = 0; j < sizeof chans / sizeof chans[0]; j++) {
            int H = sizes[i][0], W = sizes[i][1], Cin = chans[j][0], Cout = chans[j][1];
            if ((size_t)H * W * (Cin + Cout) > 2000000)
                continue; /* the oracle's time */
            for (int mode = 0; mode < 2; mode++) {
                double e = wino4_case(Cin, Cout, H, W, mode, mode);
                ck_assert_msg(e <= 2e-5, "%dx%d %d->%d mode %d: relative error %g", H, W, Cin,
                              Cout, mode, e);
            }
        }
}
END_TEST

/* ---- finite differences ---- */

/* A scalar loss of a layer's output, and a checker that compares the
 * analytic gradient g (w.r.t. v, n values) with central differences:
 *  - along 3 random directions (the whole gradient at once: float noise
 *    is small next to the signal), relative error < tol;
 *  - per coordinate on a sample, relative to |num| + |g| plus 1% of the
 *    gradient's RMS (float32 differences cannot resolve tinier values). */
typedef double (*loss_fn)(void *ctx);

static void check_grad(loss_fn f, void *ctx, float *v, const float *g, size_t n, double tol)
{
    double rms = 0.0;
    for (size_t i = 0; i < n; i++)
        rms += (double)g[i] * g[i];
    rms = sqrt(rms / (double)n);
    size_t step = n > 40 ? n / 40 : 1;
    double worst = 0.0;
    for (size_t i = 0; i < n; i += step) {
        /* Three step sizes: a ReLU kink spoils the larger, float round-off
         * the smaller; a correct gradient matches at least one. */
        double best = INFINITY, num = 0.0;
        for (float scale = 1e-2f; scale > 5e-4f; scale *= 0.25f) {
            float old = v[i];
            float h = scale * (fabsf(old) > 1.0f ? fabsf(old) : 1.0f);
            v[i] = old + h;
            double lp = f(ctx);
            v[i] = old - h;
            double lm = f(ctx);
            v[i] = old;
            num = (lp - lm) / (2.0 * h);
            double rel = fabs(num - g[i]) / (fabs(num) + fabs(g[i]) + 1e-2 * rms + 1e-12);
            if (rel < best)
                best = rel;
        }
        if (getenv("GRAD_DEBUG") && best > 1e-2)
            fprintf(stderr, "i=%zu num=%g ana=%g\n", i, num, (double)g[i]);
        if (best > worst)
            worst = best;
    }
    ck_assert_msg(worst < tol, "worst relative gradient error %g >= %g", worst, tol);
    wp_rng r;
    wp_rng_seed(&r, n);
    float *orig = malloc(sizeof(float) * n), *d = malloc(sizeof(float) * n);
    memcpy(orig, v, sizeof(float) * n);
    for (int t = 0; t < 3; t++) {
        double gd = 0.0, h = 1e-3;
        wp_rng_fill_gauss(&r, d, n, 1.0f);
        for (size_t i = 0; i < n; i++)
            gd += (double)g[i] * d[i];
        for (size_t i = 0; i < n; i++)
            v[i] = orig[i] + (float)h * d[i];
        double lp = f(ctx);
        for (size_t i = 0; i < n; i++)
            v[i] = orig[i] - (float)h * d[i];
        double lm = f(ctx);
        memcpy(v, orig, sizeof(float) * n);
        double num = (lp - lm) / (2.0 * h);
        double rel = fabs(num - gd) / (fabs(num) + fabs(gd) + 1e-12);
        ck_assert_msg(rel < tol, "directional derivative %g vs %g (relative error %g)", num, gd,
                      rel);
    }
    free(orig);
    free(d);
}

typedef struct {
    int N, Cin, Cout, H, W, k;
    float *x, *w, *y, *proj, *scratch;
} conv_ctx;

static double conv_loss(void *p)
{
    conv_ctx *c = p;
    size_t ny = (size_t)c->N * c->Cout * c->H * c->W;
    wp_conv2d_forward_ref(c->y, c->x, c->w, c->N, c->Cin, c->Cout, c->H, c->W, c->k);
    double s = 0;
    for (size_t i = 0; i < ny; i++)
        s += (double)c->y[i] * c->proj[i];
    return s;
}

START_TEST(conv_gradients)
{
    for (int k = 1; k <= 3; k += 2) {
        conv_ctx c = {2, 3, 4, 5, 6, k, 0, 0, 0, 0, 0};
        wp_rng r;
        wp_rng_seed(&r, 7 + k);
        size_t nx = (size_t)c.N * c.Cin * c.H * c.W, ny = (size_t)c.N * c.Cout * c.H * c.W,
               nw = (size_t)c.Cout * c.Cin * k * k;
        c.x = rand_buf(&r, nx, 1), c.w = rand_buf(&r, nw, 0.5f), c.proj = rand_buf(&r, ny, 1);
        c.y = malloc(4 * ny);
        c.scratch = malloc(4 * (wp_conv2d_scratch_floats(c.Cin, c.Cout, c.H, c.W, k) + 1));
        float *dx = malloc(4 * nx), *dw = calloc(nw, 4);
        wp_conv2d_backward_data(dx, c.proj, c.w, c.N, c.Cin, c.Cout, c.H, c.W, k, c.scratch);
        wp_conv2d_backward_weights(dw, c.proj, c.x, c.N, c.Cin, c.Cout, c.H, c.W, k, c.scratch);
        check_grad(conv_loss, &c, c.x, dx, nx, 1e-2);
        check_grad(conv_loss, &c, c.w, dw, nw, 1e-2);
        free(c.x), free(c.w), free(c.proj), free(c.y), free(c.scratch), free(dx), free(dw);
    }
}
END_TEST

typedef struct {
    int N, C, HW;
    float *x, *gamma, *y, *proj, *sd;
} bn_ctx;

static double bn_loss(void *p)
{
    bn_ctx *c = p;
    size_t n = (size_t)c->N * c->C * c->HW;
    wp_bn_forward_train(c->y, c->x, c->gamma, NULL, c->sd, c->N, c->C, c->HW);
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)c->y[i] * c->proj[i];
    return s;
}

START_TEST(bn_gradients)
{
    bn_ctx c = {3, 4, 10, 0, 0, 0, 0, 0};
    wp_rng r;
    wp_rng_seed(&r, 99);
    size_t n = (size_t)c.N * c.C * c.HW;
    c.x = rand_buf(&r, n, 2), c.gamma = rand_buf(&r, c.C, 1), c.proj = rand_buf(&r, n, 1);
    for (size_t i = 0; i < n; i++)
        c.x[i] += 0.7f; /* a non-zero mean exercises the mean term */
    c.y = malloc(4 * n), c.sd = malloc(4 * c.C);
    float *dx = malloc(4 * n), *dg = calloc(c.C, 4);
    bn_loss(&c);
    wp_bn_backward_train(dx, dg, c.proj, c.x, c.gamma, c.sd, c.N, c.C, c.HW);
    check_grad(bn_loss, &c, c.x, dx, n, 1e-2);
    check_grad(bn_loss, &c, c.gamma, dg, c.C, 1e-2);
    free(c.x), free(c.gamma), free(c.proj), free(c.y), free(c.sd), free(dx), free(dg);
}
END_TEST

START_TEST(bn_statistics_and_eval)
{
    /* channel 0 holds 1,2,3,4: biased var 1.25; running_sd moves 10% */
    float x[8] = {1, 2, 3, 4, 0, 0, 0, 2}, y[8], g[2] = {2, 1}, rsd[2] = {1, 1}, sd[2];
    wp_bn_forward_train(y, x, g, rsd, sd, 1, 2, 4);
    ck_assert_float_eq_tol(sd[0], sqrtf(1.25f + 1e-5f), 1e-6);
    ck_assert_float_eq_tol(y[3], 4 / sd[0] * 2, 1e-5);
    ck_assert_float_eq_tol(rsd[0], 0.9f + 0.1f * sd[0], 1e-6);
    float e[8];
    wp_bn_forward_eval(e, x, rsd, g, 1, 2, 4, 1);
    ck_assert_float_eq_tol(e[1], 2 / rsd[0] * 2, 1e-6);
    float neg[4] = {-1, 1, -2, 2}, one = 1, mg = -1, out[4];
    wp_bn_forward_eval(out, neg, &one, &mg, 1, 1, 4, 1); /* ReLU after a negative gamma */
    ck_assert(out[0] == 1 && out[1] == 0 && out[2] == 2 && out[3] == 0);
}
END_TEST

/* The fused, parallel BN+ReLU against the separate oracles. */
START_TEST(bn_relu_fused_matches_separate)
{
    int N = 3, C = 5, HW = 37;
    size_t n = (size_t)N * C * HW;
    wp_rng r;
    wp_rng_seed(&r, 12);
    float *z = rand_buf(&r, n, 1.5f), *g = rand_buf(&r, C, 1), *da = rand_buf(&r, n, 1);
    float *a1 = malloc(4 * n), *a2 = malloc(4 * n), *d1 = malloc(4 * n), *d2 = malloc(4 * n);
    float rs1[5] = {1, 1, 1, 1, 1}, rs2[5] = {1, 1, 1, 1, 1}, sd1[5], sd2[5];
    float dg1[5] = {0}, dg2[5] = {0};
    for (int t = 1; t <= 2; t++) {
        wp_set_threads(t);
        wp_bn_relu_forward_train(a1, z, g, rs1, sd1, N, C, HW);
        wp_bn_forward_train(a2, z, g, rs2, sd2, N, C, HW);
        wp_relu_forward(a2, a2, n);
        ck_assert_double_le(max_abs_diff(a1, a2, n), 1e-6);
        ck_assert_double_le(max_abs_diff(rs1, rs2, C), 1e-7);
        wp_bn_relu_backward_train(d1, dg1, da, z, g, sd1, N, C, HW);
        wp_relu_backward(d2, da, a2, n);
        wp_bn_backward_train(d2, dg2, d2, z, g, sd2, N, C, HW);
        ck_assert_double_le(max_abs_diff(d1, d2, n), 1e-5);
        ck_assert_double_le(max_abs_diff(dg1, dg2, C), 1e-4);
    }
    wp_set_threads(1);
    free(z), free(g), free(da), free(a1), free(a2), free(d1), free(d2);
}
END_TEST

START_TEST(relu_and_mse)
{
    float x[4] = {-1, 0, 2, -3}, y[4], dy[4] = {1, 1, 1, 1}, dx[4];
    wp_relu_forward(y, x, 4);
    wp_relu_backward(dx, dy, y, 4);
    ck_assert(y[0] == 0 && y[2] == 2 && dx[0] == 0 && dx[1] == 0 && dx[2] == 1);
    float a[3] = {1, 2, 3}, b[3] = {1, 0, 4}, da[3];
    ck_assert_double_eq_tol(wp_mse_forward(a, b, 3), 5.0 / 3.0, 1e-12);
    wp_mse_backward(da, a, b, 3);
    ck_assert_float_eq_tol(da[1], 4.0f / 3.0f, 1e-6);
    ck_assert_float_eq_tol(da[2], -2.0f / 3.0f, 1e-6);
}
END_TEST

/* ---- a whole small network, against a double-precision oracle ---- */

/* The training-mode forward of net in double: same equations, written
 * independently, so finite differences with tiny steps are exact enough
 * to judge the float backward. */
static double net_loss_double(const wp_net *net, const double *params, const float *x,
                              const float *target, int N, int H, int W)
{
    int L = net->nlayers, HW = H * W, maxc = net->width > net->in_ch ? net->width : net->in_ch;
    double *a = calloc((size_t)N * maxc * HW, sizeof(double));
    double *b = calloc((size_t)N * maxc * HW, sizeof(double));
    for (size_t i = 0; i < (size_t)N * net->in_ch * HW; i++)
        a[i] = x[i];
    size_t gamma_off = wp_net_conv_offset(net, L);
    for (int l = 0; l < L; l++) {
        int ci_n = wp_net_layer_in(net, l), co_n = wp_net_layer_out(net, l), k = net->kernel[l];
        const double *w = params + wp_net_conv_offset(net, l);
        for (int n = 0; n < N; n++)
            for (int co = 0; co < co_n; co++)
                for (int i = 0; i < H; i++)
                    for (int j = 0; j < W; j++) {
                        double acc = 0.0;
                        for (int ci = 0; ci < ci_n; ci++)
                            for (int u = 0; u < k; u++)
                                for (int v = 0; v < k; v++) {
                                    int ii = i + u - k / 2, jj = j + v - k / 2;
                                    if (ii >= 0 && jj >= 0 && ii < H && jj < W)
                                        acc += w[((co * ci_n + ci) * k + u) * k + v] *
                                               a[((size_t)n * ci_n + ci) * HW + ii * W + jj];
                                }
                        b[((size_t)n * co_n + co) * HW + i * W + j] = acc;
                    }
        if (l > 0 && l < L - 1) {
            for (int c = 0; c < co_n; c++) {
                double m = 0.0, v = 0.0, M = (double)N * HW;
                for (int n = 0; n < N; n++)
                    for (int i = 0; i < HW; i++)
                        m += b[((size_t)n * co_n + c) * HW + i];
                m /= M;
                for (int n = 0; n < N; n++)
                    for (int i = 0; i < HW; i++) {
                        double d = b[((size_t)n * co_n + c) * HW + i] - m;
                        v += d * d;
                    }
                double sd = sqrt(v / M + 1e-5), g = params[gamma_off + (size_t)(l - 1) * net->width + c];
                for (int n = 0; n < N; n++)
                    for (int i = 0; i < HW; i++) {
                        double *e = &b[((size_t)n * co_n + c) * HW + i];
                        *e = *e / sd * g;
                        if (*e < 0.0)
                            *e = 0.0;
                    }
            }
        }
        double *t = a;
        a = b;
        b = t;
    }
    size_t ny = (size_t)N * net->out_ch * HW;
    double loss = 0.0;
    for (size_t i = 0; i < ny; i++)
        loss += (a[i] - target[i]) * (a[i] - target[i]);
    free(a);
    free(b);
    return loss / (double)ny;
}

START_TEST(net_gradients)
{
    uint8_t kernel[5] = {3, 1, 3, 1, 3};
    int N = 3, H = 6, W = 5;
    wp_net net;
    wp_net_cache cache = {.layerwise = _i & 1}; /* both paths against the differences */
    ck_assert_int_eq(wp_net_init(&net, 4, 3, 6, 5, kernel, NULL), 0);
    wp_rng r;
    wp_rng_seed(&r, 5 + _i);
    for (size_t i = 0; i < net.nparams; i++)
        net.params[i] = (float)wp_rng_gauss(&r) * 0.4f;
    size_t nx = (size_t)N * 4 * H * W, ny = (size_t)N * 3 * H * W, P = net.nparams;
    float *x = rand_buf(&r, nx, 1), *target = rand_buf(&r, ny, 1), *y = malloc(4 * ny);
    float *dy = malloc(4 * ny), *grad = calloc(P, 4), *dx = malloc(4 * nx);
    ck_assert_int_eq(wp_net_forward_train(&net, &cache, x, y, N, H, W, 0, NULL), 0);
    double lf = wp_mse_forward(y, target, ny);
    wp_mse_backward(dy, y, target, ny);
    wp_net_backward(&net, &cache, x, dy, grad, dx);
    double *pd = malloc(sizeof(double) * P), rms = 0.0;
    for (size_t i = 0; i < P; i++) {
        pd[i] = net.params[i];
        rms += (double)grad[i] * grad[i];
    }
    rms = sqrt(rms / (double)P);
    ck_assert_double_le(fabs(net_loss_double(&net, pd, x, target, N, H, W) - lf), 1e-4 * lf);
    /* every parameter: central differences in double, h = 1e-6 */
    double worst = 0.0;
    for (size_t i = 0; i < P; i++) {
        double old = pd[i], h = 1e-6;
        pd[i] = old + h;
        double lp = net_loss_double(&net, pd, x, target, N, H, W);
        pd[i] = old - h;
        double lm = net_loss_double(&net, pd, x, target, N, H, W);
        pd[i] = old;
        double num = (lp - lm) / (2 * h);
        double rel = fabs(num - grad[i]) / (fabs(num) + fabs(grad[i]) + 1e-3 * rms);
        if (rel > worst)
            worst = rel;
    }
    ck_assert_msg(worst < 1e-3, "parameters: worst relative gradient error %g", worst);
    /* input gradient: perturb x in float is too coarse; use double x */
    worst = 0.0;
    double xr = 0.0;
    for (size_t i = 0; i < nx; i++)
        xr += (double)dx[i] * dx[i];
    xr = sqrt(xr / (double)nx);
    for (size_t i = 0; i < nx; i += 7) {
        float old = x[i];
        double h = 1e-3; /* x is float: step large enough to be exact in float */
        x[i] = old + (float)h;
        double lp = net_loss_double(&net, pd, x, target, N, H, W);
        x[i] = old - (float)h;
        double lm = net_loss_double(&net, pd, x, target, N, H, W);
        double hp = (double)(old + (float)h) - old, hm = old - (double)(old - (float)h);
        x[i] = old;
        double num = (lp - lm) / (hp + hm);
        double rel = fabs(num - dx[i]) / (fabs(num) + fabs(dx[i]) + 1e-3 * xr);
        if (rel > worst)
            worst = rel;
    }
    ck_assert_msg(worst < 1e-2, "input: worst relative gradient error %g", worst);
    free(pd), free(x), free(target), free(y), free(dy), free(grad), free(dx);
    wp_net_cache_free(&cache);
    wp_net_free(&net);
}
END_TEST

/* A net with Gaussian weights of standard deviation sd. */
static void random_net(wp_net *net, int in, int out, int width, int L, const uint8_t *kernel,
                       uint64_t seed, float sd)
{
    ck_assert_int_eq(wp_net_init(net, in, out, width, L, kernel, NULL), 0);
    wp_rng r;
    wp_rng_seed(&r, seed);
    for (size_t i = 0; i < net->nparams; i++)
        net->params[i] = (float)wp_rng_gauss(&r) * sd;
}

/* A 3x3 layer's input relu(A z) formed by the Winograd transforms as they
 * read z (the fused training step) against the same input made first
 * into a buffer by wp_bn_relu_image (its oracle): forward, weight
 * gradient and BN-backward sums give the same bits, with odd sizes
 * (edge columns, partial tiles) and the low-pass net's 64 channels. */
START_TEST(relu_on_read_matches_buffer)
{
    int shapes[][4] = {{5, 7, 9, 11}, {64, 64, 40, 40}, {3, 8, 6, 1}};
    wp_set_threads(1); /* as on the fused step's workers */
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int ci = shapes[s][0], co = shapes[s][1], H = shapes[s][2], W = shapes[s][3];
        size_t nx = (size_t)ci * H * W, ny = (size_t)co * H * W, nw = (size_t)co * ci * 9;
        wp_rng r;
        wp_rng_seed(&r, 300 + s);
        float *z = rand_buf(&r, nx, 1), *w = rand_buf(&r, nw, 0.3f), *dy = rand_buf(&r, ny, 1);
        float *A = rand_buf(&r, (size_t)ci, 1), *a = malloc(4 * nx);
        float *U = malloc(4 * wp_conv_weight_floats(ci, co, H, W, 3));
        size_t work = wp_conv_thread_floats(ci, co, H, W, 3) + wp_conv_thread_floats(co, ci, H, W, 3);
        float *ws = malloc(4 * work), *y[2], *acc[2];
        double st[2][64];
        wp_bn_relu_image(a, z, A, ci, H * W);
        size_t nacc = wp_conv_grad_floats(ci, co, H, W, 3);
        wp_conv_batch_weights(U, w, ci, co, H, W, 3, 0);
        for (int p = 0; p < 2; p++) {
            y[p] = malloc(4 * ny), acc[p] = calloc(nacc, 4);
            wp_conv_image(y[p], p ? z : a, p ? A : NULL, U, ci, co, H, W, 3, 0, ws);
            wp_conv_weights_image(acc[p], ws, p ? z : a, p ? A : NULL, dy, ci, co, H, W, 3);
        }
        wp_bn_image_grad_sums(st[0], a, z, ci, H * W); /* any da: z */
        wp_bn_image_grad_sums_relu(st[1], z, A, z, ci, H * W);
        ck_assert(max_abs(y[0], ny) > 0 && max_abs(acc[0], nacc) > 0);
        ck_assert_msg(!memcmp(y[0], y[1], 4 * ny), "shape %zu: forward", s);
        ck_assert_msg(!memcmp(acc[0], acc[1], 4 * nacc), "shape %zu: weights", s);
        ck_assert_msg(!memcmp(st[0], st[1], sizeof(double) * ci), "shape %zu: BN sums", s);
        for (int p = 0; p < 2; p++)
            free(y[p]), free(acc[p]);
        free(z), free(w), free(dy), free(A), free(a), free(U), free(ws);
    }
}
END_TEST

/* The fused training step against the layer-by-layer one (its oracle),
 * on 1 and 2 threads, at a width the AVX-512 kernels take (16) and one
 * they leave to BLAS (6), then one image and a net of two layers (no BN):
 * outputs, batch statistics, running statistics, every gradient and the
 * input's gradient. */
START_TEST(fused_step_matches_layerwise)
{
    uint8_t kernel[6] = {3, 1, 1, 3, 1, 3};
    int width = _i < 2 ? 16 : 6, N = _i < 4 ? 5 : 1, H = 9, W = 11, L = _i < 4 ? 6 : 2 + _i % 2;
    wp_set_threads(1 + (_i & 1));
    wp_net net[2];
    wp_net_cache cache[2] = {{.layerwise = 1}, {0}};
    wp_rng r;
    wp_rng_seed(&r, 40 + _i);
    size_t nx = (size_t)N * 4 * H * W, ny = (size_t)N * 3 * H * W;
    float *x = rand_buf(&r, nx, 1), *dy = rand_buf(&r, ny, 1), *y[2], *grad[2], *dx[2];
    for (int p = 0; p < 2; p++) {
        random_net(&net[p], 4, 3, width, L, kernel, 7, 0.3f);
        y[p] = malloc(4 * ny), dx[p] = malloc(4 * nx), grad[p] = calloc(net[p].nparams, 4);
        for (int step = 0; step < 2; step++) { /* the second reuses the cache */
            ck_assert_int_eq(wp_net_forward_train(&net[p], &cache[p], x, y[p], N, H, W, 1, NULL), 0);
            wp_net_backward(&net[p], &cache[p], x, dy, grad[p], dx[p]);
        }
    }
    size_t P = net[0].nparams, nsd = (size_t)(L - 2) * width;
    ck_assert(max_abs(grad[1], P) > 0.0);
    ck_assert_double_le(max_abs_diff(y[0], y[1], ny), 1e-5 * (1 + max_abs(y[0], ny)));
    ck_assert_double_le(max_abs_diff(cache[0].batch_sd, cache[1].batch_sd, nsd), 1e-5);
    ck_assert_double_le(max_abs_diff(net[0].running_sd, net[1].running_sd, nsd), 1e-5);
    ck_assert_double_le(max_abs_diff(grad[0], grad[1], P), 1e-5 * (1 + max_abs(grad[0], P)));
    ck_assert_double_le(max_abs_diff(dx[0], dx[1], nx), 1e-5 * (1 + max_abs(dx[0], nx)));
    for (int p = 0; p < 2; p++) {
        free(y[p]), free(dx[p]), free(grad[p]);
        wp_net_cache_free(&cache[p]);
        wp_net_free(&net[p]);
    }
    free(x), free(dy);
    wp_set_threads(1);
}
END_TEST

/* The fused step gives the same bits on any thread count (statistics per
 * image, weight gradients per fixed block of images). */
START_TEST(fused_step_independent_of_threads)
{
    uint8_t kernel[5] = {3, 1, 3, 1, 3};
    int N = 11, H = 8, W = 13;
    wp_net net;
    wp_rng r;
    random_net(&net, 4, 3, 16, 5, kernel, 3, 0.3f);
    wp_rng_seed(&r, 4);
    size_t nx = (size_t)N * 4 * H * W, ny = (size_t)N * 3 * H * W, P = net.nparams;
    float *x = rand_buf(&r, nx, 1), *dy = rand_buf(&r, ny, 1), *y[2], *g[2], *dx[2];
    for (int t = 0; t < 2; t++) {
        wp_set_threads(t + 1);
        wp_net_cache cache = {0};
        y[t] = malloc(4 * ny), g[t] = calloc(P, 4), dx[t] = malloc(4 * nx);
        ck_assert_int_eq(wp_net_forward_train(&net, &cache, x, y[t], N, H, W, 0, NULL), 0);
        wp_net_backward(&net, &cache, x, dy, g[t], dx[t]);
        wp_net_cache_free(&cache);
    }
    ck_assert(!memcmp(y[0], y[1], 4 * ny));
    ck_assert(!memcmp(g[0], g[1], 4 * P));
    ck_assert(!memcmp(dx[0], dx[1], 4 * nx));
    for (int t = 0; t < 2; t++)
        free(y[t]), free(g[t]), free(dx[t]);
    free(x), free(dy);
    wp_net_free(&net);
    wp_set_threads(1);
}
END_TEST

START_TEST(inference_matches_training_forward_with_running_stats)
{
    /* With running_sd equal to the batch sd, eval and train agree. */
    uint8_t kernel[4] = {3, 3, 1, 3};
    wp_net net;
    wp_rng r;
    random_net(&net, 1, 1, 5, 4, kernel, 11, 0.5f);
    wp_rng_seed(&r, 12);
    int H = 7, W = 9;
    float *x = rand_buf(&r, (size_t)H * W, 1), y1[63], y2[63];
    wp_net_cache cache = {0};
    ck_assert_int_eq(wp_net_forward_train(&net, &cache, x, y1, 1, H, W, 0, NULL), 0);
    for (int l = 1; l < 3; l++)
        memcpy(net.rsd[l], cache.batch_sd + (size_t)(l - 1) * 5, 5 * sizeof(float));
    float *ws = malloc(4 * wp_net_infer_floats(&net, 1, H, W));
    ck_assert_int_eq(wp_net_forward(&net, x, y2, 1, H, W, ws, NULL), 0);
    ck_assert_double_le(max_abs_diff(y1, y2, (size_t)H * W), 1e-5);
    free(ws), free(x);
    wp_net_cache_free(&cache);
    wp_net_free(&net);
}
END_TEST

START_TEST(rf_rule_matches_reference_files)
{
    /* The reference RF13 net: 3x3 at layers 0,4,8,12,16,20. */
    uint8_t k[21];
    ck_assert_int_eq(wp_rf_kernels(13, 21, k), 0);
    for (int l = 0; l < 21; l++)
        ck_assert_int_eq(k[l], (l % 4 == 0) ? 3 : 1);
    ck_assert_int_eq(wp_rf_kernels(9, 21, k), 0); /* R=8: layers 0,8,16,20 */
    for (int l = 0; l < 21; l++)
        ck_assert_int_eq(k[l], (l == 0 || l == 8 || l == 16 || l == 20) ? 3 : 1);
    int rfs[] = {5, 23, 43};
    for (int i = 0; i < 3; i++) {
        wp_net n = {0};
        ck_assert_int_eq(wp_rf_kernels(rfs[i], 21, k), 0);
        ck_assert_int_eq(wp_net_init(&n, 4, 3, 2, 21, k, NULL), 0);
        ck_assert_int_eq(wp_net_receptive_field(&n), rfs[i]);
        wp_net_free(&n);
    }
    ck_assert_int_eq(wp_rf_kernels(4, 21, k), -1);
}
END_TEST

START_TEST(rng_is_reproducible)
{
    wp_rng a, b, c;
    wp_rng_seed(&a, 42);
    wp_rng_seed(&b, 42);
    for (int i = 0; i < 100; i++)
        ck_assert(wp_rng_u64(&a) == wp_rng_u64(&b));
    wp_rng_seed(&c, 43);
    ck_assert(wp_rng_u64(&a) != wp_rng_u64(&c));
    double s = 0, s2 = 0;
    int n = 200000;
    for (int i = 0; i < n; i++) {
        double g = wp_rng_gauss(&a);
        s += g, s2 += g * g;
    }
    ck_assert_double_le(fabs(s / n), 0.01);
    ck_assert_double_le(fabs(s2 / n - 1.0), 0.01);
    double u = 0;
    for (int i = 0; i < n; i++) {
        double v = wp_rng_uniform(&a);
        ck_assert(v >= 0.0 && v < 1.0);
        u += v;
    }
    ck_assert_double_le(fabs(u / n - 0.5), 0.005);
    wp_rng k1, k2;
    wp_rng_split(&a, 7, &k1);
    wp_rng_split(&a, 7, &k2);
    ck_assert(wp_rng_u64(&k1) == wp_rng_u64(&k2)); /* split does not advance */
    for (int i = 0; i < 1000; i++)
        ck_assert_uint_lt(wp_rng_below(&a, 7), 7);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("layers");
    TCase *tc = tcase_create("layers");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, conv_fast_matches_reference);
    tcase_add_test(tc, weight_gradient_at_training_shapes);
    tcase_add_test(tc, fused_layer_matches_reference);
    tcase_add_test(tc, conv_gradients);
    tcase_add_test(tc, bn_gradients);
    tcase_add_test(tc, bn_statistics_and_eval);
    tcase_add_test(tc, relu_and_mse);
    tcase_add_test(tc, bn_relu_fused_matches_separate);
    tcase_add_loop_test(tc, net_gradients, 0, 4);
    tcase_add_loop_test(tc, fused_step_matches_layerwise, 0, 6);
    tcase_add_test(tc, fused_step_independent_of_threads);
    tcase_add_test(tc, relu_on_read_matches_buffer);
    tcase_add_test(tc, inference_matches_training_forward_with_running_stats);
    tcase_add_test(tc, rf_rule_matches_reference_files);
    tcase_add_test(tc, rng_is_reproducible);
    suite_add_tcase(s, tc);
    TCase *w4 = tcase_create("wino4");
    tcase_set_timeout(w4, 120);
    tcase_add_test(w4, wino4_matches_reference);
    suite_add_tcase(s, w4);
    return run_suite(s);
}
