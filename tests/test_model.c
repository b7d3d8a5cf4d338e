/* test_model.c: model files: save/load round trip, and every kind of
 * corrupt file gets a clear error, never a crash. */
#include <unistd.h>

#include "testutil.h"
#include "wp_prior_internal.h"
#include "wp_safetensors.h"

/* net = random weights and running_sd, of the given shape. */
static void random_net(wp_net *net, int in, int out, int width, int nlayers, const uint8_t *k,
                       wp_rng *r)
{
    ck_assert_int_eq(wp_net_init(net, in, out, width, nlayers, k, NULL), WP_OK);
    wp_rng_fill_gauss(r, net->params, net->nparams, 0.2f);
    for (int l = 1; l < net->nlayers - 1; l++)
        for (int c = 0; c < net->width; c++)
            net->rsd[l][c] = 0.5f + (float)wp_rng_uniform(r);
}

/* A small random prior of J levels (cond j narrower as j grows). */
static wp_prior *tiny_prior_j(int channels, int J, uint64_t seed)
{
    wp_prior *p;
    uint8_t k3[4] = {3, 1, 3, 3};
    ck_assert_int_eq(wp_prior_create(&p, channels, J, 0, NULL), WP_OK);
    int C = channels;
    wp_rng r;
    wp_rng_seed(&r, seed);
    random_net(&p->low, C, C, 4, 4, k3, &r);
    for (int j = 0; j < J; j++)
        random_net(&p->cond[j], 4 * C, 3 * C, j ? 3 : 5, j ? 3 : 4, k3, &r);
    ck_assert_int_eq(wp_prior_set_meta(p, "name", "tiny \"test\"\n prior", NULL), WP_OK);
    return p;
}

/* A small random J=2 prior. */
static wp_prior *tiny_prior(int channels, uint64_t seed) { return tiny_prior_j(channels, 2, seed); }

static char tmpdir[256];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/wprior-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static unsigned char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*n + 64);
    ck_assert_uint_eq(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

/* The tiny prior's file bytes. */
static unsigned char *tiny_file(size_t *n)
{
    char path[300], err[WP_ERRLEN];
    make_tmpdir();
    snprintf(path, sizeof path, "%s/m.safetensors", tmpdir);
    wp_prior *p = tiny_prior(1, 3);
    ck_assert_msg(wp_prior_save(p, path, err) == WP_OK, "%s", err);
    wp_prior_free(p);
    unsigned char *b = read_all(path, n);
    remove_tmpdir();
    return b;
}

START_TEST(save_load_round_trip)
{
    char path[300], err[WP_ERRLEN];
    make_tmpdir();
    snprintf(path, sizeof path, "%s/m.safetensors", tmpdir);
    for (int C = 1; C <= 3; C += 2) {
        wp_prior *p = tiny_prior(C, 7), *q;
        ck_assert_msg(wp_prior_save(p, path, err) == WP_OK, "%s", err);
        ck_assert_msg(wp_prior_load(path, &q, err) == WP_OK, "%s", err);
        ck_assert_int_eq(wp_prior_channels(q), C);
        ck_assert_int_eq(wp_prior_levels(q), 2);
        ck_assert_str_eq(wp_prior_meta(q, "name"), "tiny \"test\"\n prior");
        wp_net *a[3] = {&p->low, &p->cond[0], &p->cond[1]}, *b[3] = {&q->low, &q->cond[0], &q->cond[1]};
        for (int i = 0; i < 3; i++) {
            ck_assert_uint_eq(a[i]->nparams, b[i]->nparams);
            ck_assert_int_eq(memcmp(a[i]->params, b[i]->params, a[i]->nparams * 4), 0);
            ck_assert_int_eq(memcmp(a[i]->running_sd, b[i]->running_sd,
                                    (size_t)(a[i]->nlayers - 2) * a[i]->width * 4), 0);
            ck_assert_int_eq(memcmp(a[i]->kernel, b[i]->kernel, (size_t)a[i]->nlayers), 0);
        }
        /* same denoising from both */
        int H = 13, W = 10;
        size_t n = (size_t)C * H * W;
        float *x = malloc(4 * n), *y1 = malloc(4 * n), *y2 = malloc(4 * n);
        for (size_t i = 0; i < n; i++)
            x[i] = (float)((i * 7919) % 101) / 100.0f;
        ck_assert_int_eq(wp_denoise(p, x, y1, C, H, W, NULL, NULL, NULL, err), WP_OK);
        ck_assert_int_eq(wp_denoise(q, x, y2, C, H, W, NULL, NULL, NULL, err), WP_OK);
        ck_assert_int_eq(memcmp(y1, y2, 4 * n), 0);
        char *d = wp_prior_describe(q);
        ck_assert_ptr_nonnull(strstr(d, "net cond1"));
        free(d);
        free(x), free(y1), free(y2);
        wp_prior_free(p);
        wp_prior_free(q);
    }
    remove_tmpdir();
}
END_TEST

/* Rewrites the JSON header with one textual substitution. */
static unsigned char *mutate_header(const unsigned char *b, size_t n, const char *from,
                                    const char *to, size_t *out_n)
{
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--)
        hl = hl << 8 | b[i];
    char *h = malloc(hl + 1);
    memcpy(h, b + 8, hl);
    h[hl] = 0;
    char *at = strstr(h, from);
    ck_assert_msg(at != NULL, "'%s' not in header", from);
    size_t nh = hl - strlen(from) + strlen(to);
    unsigned char *o = malloc(8 + nh + (n - 8 - hl) + 1);
    for (int i = 0; i < 8; i++)
        o[i] = (unsigned char)(nh >> (8 * i));
    size_t pre = (size_t)(at - h);
    memcpy(o + 8, h, pre);
    memcpy(o + 8 + pre, to, strlen(to));
    memcpy(o + 8 + pre + strlen(to), at + strlen(from), hl - pre - strlen(from));
    memcpy(o + 8 + nh, b + 8 + hl, n - 8 - hl);
    *out_n = 8 + nh + (n - 8 - hl);
    free(h);
    return o;
}

static void expect_error(const unsigned char *b, size_t n, const char *needle)
{
    char err[WP_ERRLEN] = "";
    wp_prior *p = (wp_prior *)1;
    wp_status st = wp_prior_load_memory(b, n, &p, err);
    ck_assert_msg(st == WP_ERR_FORMAT, "expected an error containing '%s', got status %d (%s)",
                  needle, st, err);
    ck_assert_ptr_null(p);
    ck_assert_msg(strstr(err, needle) != NULL, "message '%s' lacks '%s'", err, needle);
}

/* The error of a file made by make_file with one header substitution. */
static void expect_file_mutation_error(unsigned char *(*make_file)(size_t *), const char *from,
                                       const char *to, const char *needle)
{
    size_t n, m;
    unsigned char *b = make_file(&n);
    unsigned char *c = mutate_header(b, n, from, to, &m);
    expect_error(c, m, needle);
    free(b);
    free(c);
}

static void expect_mutation_error(const char *from, const char *to, const char *needle)
{
    expect_file_mutation_error(tiny_file, from, to, needle);
}

START_TEST(corrupt_headers)
{
    expect_mutation_error("\"format\":\"wavelet-prior\"", "\"format\":\"other\"",
                          "not a Wavelet Prior model");
    expect_mutation_error("\"format_version\":\"1\"", "\"format_version\":\"9\"", "version");
    expect_mutation_error("\"channels\":\"1\"", "\"channels\":\"3\"", "inputs");
    expect_mutation_error("\"channels\":\"1\"", "\"channels\":\"x\"", "channels");
    expect_mutation_error("\"levels\":\"2\"", "\"levels\":\"3\"", "net.cond2");
    expect_mutation_error("\"levels\":\"2\"", "\"levels\":\"1\"", "unexpected tensor \"cond1.");
    expect_mutation_error("\"levels\":\"2\"", "\"levels\":\"99999999999\"", "levels");
    expect_mutation_error("\"kind\":\"multiscale\"", "\"kind\":\"weird\"", "kind");
    expect_mutation_error("kernels=3133\"", "kernels=3153\"", "kernel '5'");
    expect_mutation_error("kernels=3133\"", "kernels=3\"", "layers");
    expect_mutation_error("width=4", "width=0", "width");
    expect_mutation_error("in=1 out=1 width=4", "in=1 out=1 width=5", "shape");
    expect_mutation_error("\"F32\"", "\"F16\"", "dtype F16");
    expect_mutation_error("\"shape\":[4,1,3,3]", "\"shape\":[4,1,3,3,1]", "shape");
    expect_mutation_error("\"shape\":[4,1,3,3]", "\"shape\":[4294967296,4294967296,4294967296,3]",
                          "huge");
    expect_mutation_error("\"shape\":[4,1,3,3]", "\"shape\":[-4,1,3,3]", "dimension");
    expect_mutation_error("\"shape\":[4,1,3,3]", "\"shape\":[4.5,1,3,3]", "dimension");
    expect_mutation_error("\"data_offsets\":[0,144]", "\"data_offsets\":[0,999999999]", "outside");
    expect_mutation_error("\"data_offsets\":[0,144]", "\"data_offsets\":[4,144]", "data bytes");
    expect_mutation_error("\"data_offsets\":[0,144]", "\"data_offsets\":[144,0]", "outside");
    expect_mutation_error("\"data_offsets\":[0,144]", "\"data_offsets\":[0]", "data_offsets");
    expect_mutation_error("{\"__metadata__\"", "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"__metadata__\"", "unexpected tensor \"x\"");
    expect_mutation_error("\"name\":\"tiny", "\"name\":3,\"n2\":\"tiny", "not a string");
    expect_mutation_error("\"__metadata__\":{", "\"__metadata__\":{{", "JSON header");
    expect_mutation_error("\"__metadata__\"", "\"__meta", "JSON header");
    expect_mutation_error("\"low.conv_layers.0.weight\"", "\"low.conv_layers.1.weight\"", "twice");
}
END_TEST

START_TEST(corrupt_bytes)
{
    size_t n;
    unsigned char *b = tiny_file(&n);
    /* too short, and a header length beyond the file */
    expect_error(b, 0, "too short");
    expect_error(b, 7, "too short");
    unsigned char big[16] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    expect_error(big, sizeof big, "larger than the file");
    /* every truncation fails cleanly */
    for (size_t k = 0; k < n; k += (k < 600 ? 1 : 97)) {
        char err[WP_ERRLEN];
        wp_prior *p;
        ck_assert_int_ne(wp_prior_load_memory(b, k, &p, err), WP_OK);
        ck_assert(strlen(err) > 0);
    }
    /* NaN and Inf weights, and a zero running_sd */
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--)
        hl = hl << 8 | b[i];
    float nan = NAN, inf = INFINITY, zero = 0.0f;
    unsigned char *c = malloc(n);
    memcpy(c, b, n);
    memcpy(c + 8 + hl + 4, &nan, 4); /* low.conv_layers.0.weight[1] */
    expect_error(c, n, "NaN");
    memcpy(c, b, n);
    memcpy(c + 8 + hl, &inf, 4);
    expect_error(c, n, "infinite");
    /* low.BN_layers.0.running_sd follows the 4 conv layers of low */
    size_t low_conv = (4 * 1 * 9 + 4 * 4 * 1 + 4 * 4 * 9 + 1 * 4 * 9) * 4;
    memcpy(c, b, n);
    memcpy(c + 8 + hl + low_conv, &zero, 4);
    expect_error(c, n, "running_sd");
    /* random bit flips never crash; a flip in the data may load */
    wp_rng r;
    wp_rng_seed(&r, 1);
    for (int t = 0; t < 3000; t++) {
        memcpy(c, b, n);
        size_t at = wp_rng_below(&r, (uint32_t)n);
        c[at] ^= (unsigned char)(1u << wp_rng_below(&r, 8));
        wp_prior *p;
        char err[WP_ERRLEN];
        if (wp_prior_load_memory(c, n, &p, err) == WP_OK)
            wp_prior_free(p);
    }
    free(c);
    free(b);
}
END_TEST

START_TEST(file_errors)
{
    char err[WP_ERRLEN];
    wp_prior *p;
    ck_assert_int_eq(wp_prior_load("/nonexistent/model.safetensors", &p, err), WP_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/model.safetensors"));
    ck_assert_int_eq(wp_prior_load("/tmp", &p, err), WP_ERR_IO);
    ck_assert_int_eq(wp_prior_load(NULL, &p, err), WP_ERR_ARG);
    /* a failed save leaves the old file as it was */
    make_tmpdir();
    char path[300];
    snprintf(path, sizeof path, "%s/m.safetensors", tmpdir);
    wp_prior *q = tiny_prior(1, 9);
    ck_assert_int_eq(wp_prior_save(q, path, err), WP_OK);
    size_t n1, n2;
    unsigned char *before = read_all(path, &n1);
    ck_assert_int_eq(wp_prior_save(q, "/nonexistent-dir/m.safetensors", err), WP_ERR_IO);
    unsigned char *after = read_all(path, &n2);
    ck_assert_uint_eq(n1, n2);
    ck_assert_int_eq(memcmp(before, after, n1), 0);
    wp_prior_free(q);
    free(before), free(after);
    remove_tmpdir();
}
END_TEST

/* One network in the paper's per-network layout (tensor names without a
 * prefix, no wavelet-prior metadata), as `wprior import` reads it. */
static void save_reference_net(const wp_net *net, const char *path)
{
    wp_st_out t[3 * WP_MAX_LAYERS];
    char names[3 * WP_MAX_LAYERS][48], err[WP_ERRLEN];
    size_t nt = 0;
    for (int l = 0; l < net->nlayers; l++, nt++) {
        int k = net->kernel[l];
        snprintf(names[nt], sizeof names[nt], "conv_layers.%d.weight", l);
        t[nt] = (wp_st_out){names[nt], 4, {wp_net_layer_out(net, l), wp_net_layer_in(net, l), k, k},
                            net->conv_w[l]};
    }
    for (int l = 1; l < net->nlayers - 1; l++) {
        snprintf(names[nt], sizeof names[nt], "BN_layers.%d.running_sd", l - 1);
        t[nt] = (wp_st_out){names[nt], 4, {1, net->width, 1, 1}, net->rsd[l]};
        nt++;
        snprintf(names[nt], sizeof names[nt], "BN_layers.%d.gammas", l - 1);
        t[nt] = (wp_st_out){names[nt], 4, {1, net->width, 1, 1}, net->gamma[l]};
        nt++;
    }
    ck_assert_msg(wp_st_write(path, t, nt, NULL, 0, err) == WP_OK, "%s", err);
}

/* Per-network files in the paper's layout (written here from a tiny
 * prior) are refused by the loader with a pointer to import, import back
 * to the same networks, and a network in the wrong role is refused. */
START_TEST(reference_files_need_import)
{
    make_tmpdir();
    wp_prior *q = tiny_prior(1, 11), *p;
    char low[300], c0[300], c1[300], err[WP_ERRLEN];
    snprintf(low, sizeof low, "%s/low.safetensors", tmpdir);
    snprintf(c0, sizeof c0, "%s/rf_scale0.safetensors", tmpdir);
    snprintf(c1, sizeof c1, "%s/rf_scale1.safetensors", tmpdir);
    save_reference_net(&q->low, low);
    save_reference_net(&q->cond[0], c0);
    save_reference_net(&q->cond[1], c1);
    ck_assert_int_eq(wp_prior_load(low, &p, err), WP_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "wprior import"));
    const char *cp[2] = {c0, c1};
    ck_assert_msg(wp_prior_import(low, cp, 2, NULL, 1, &p, err) == WP_OK, "%s", err);
    wp_net *a[3] = {&q->low, &q->cond[0], &q->cond[1]}, *b[3] = {&p->low, &p->cond[0], &p->cond[1]};
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(a[i]->nparams, b[i]->nparams);
        ck_assert_int_eq(memcmp(a[i]->kernel, b[i]->kernel, (size_t)a[i]->nlayers), 0);
        for (int l = 0; l < a[i]->nlayers; l++) {
            size_t n = (size_t)wp_net_layer_out(a[i], l) * wp_net_layer_in(a[i], l) *
                       a[i]->kernel[l] * a[i]->kernel[l];
            ck_assert(max_abs_diff(a[i]->conv_w[l], b[i]->conv_w[l], n) == 0.0);
        }
    }
    wp_prior_free(p);
    /* importing a conditional net as the low-pass one is refused */
    ck_assert_int_eq(wp_prior_import(c0, cp, 1, NULL, 1, &p, err), WP_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "low-pass network needs 1 inputs"));
    ck_assert_int_eq(wp_prior_import(low, cp, 1, NULL, 3, &p, err), WP_ERR_FORMAT);
    wp_prior_free(q);
    remove_tmpdir();
}
END_TEST

START_TEST(wrong_job_for_the_prior)
{
    wp_prior *p = tiny_prior(3, 2);
    float x[2 * 2] = {0};
    char err[WP_ERRLEN];
    ck_assert_int_eq(wp_denoise(p, x, x, 1, 2, 2, NULL, NULL, NULL, err), WP_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err, "colour prior"));
    ck_assert_int_eq(wp_denoise(p, x, x, 3, 0, 2, NULL, NULL, NULL, err), WP_ERR_ARG);
    wp_prior_free(p);
}
END_TEST

/* ---- the denoising entry net (den) ---- */

/* A J=3 prior given, through wp_prior_set_den, the low-pass net of an
 * L-level prior made of its own cond0..cond{L-1} and a random low-pass net
 * of RF 9 (the widest halo of the nets).  *lower: that L-level prior. */
static wp_prior *den_prior(int C, int L, uint64_t seed, wp_prior **lower)
{
    wp_prior *p = tiny_prior_j(C, 3, seed), *q;
    char err[WP_ERRLEN];
    uint8_t k[5] = {3, 3, 1, 3, 3};
    wp_rng r;
    wp_rng_seed(&r, seed + 100);
    ck_assert_int_eq(wp_prior_create(&q, C, L, 0, NULL), WP_OK);
    random_net(&q->low, C, C, 6, 5, k, &r);
    for (int j = 0; j < L; j++)
        ck_assert_int_eq(wp_net_copy(&q->cond[j], &p->cond[j], NULL), WP_OK);
    ck_assert_msg(wp_prior_set_den(p, q, err) == WP_OK, "%s", err);
    ck_assert_int_eq(wp_prior_den_level(p), L);
    *lower = q;
    return p;
}

/* A smooth image with a little noise, [C,H,W]. */
static float *test_image(int C, int H, int W, uint64_t seed)
{
    wp_rng r;
    wp_rng_seed(&r, seed);
    float *x = malloc(sizeof(float) * (size_t)C * H * W);
    for (int c = 0; c < C; c++)
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++)
                x[((size_t)c * H + i) * W + j] =
                    (float)(0.5 + 0.3 * sin(0.2 * i + c) * cos(0.13 * j) + 0.1 * wp_rng_gauss(&r));
    return x;
}

/* max |denoise(a) - denoise(b)| of x [C,H,W] under the same options. */
static double denoise_diff(const wp_prior *a, const wp_prior *b, const float *x, int C, int H,
                           int W, const wp_denoise_options *d, const wp_run_options *o)
{
    size_t n = (size_t)C * H * W;
    float *ya = malloc(sizeof(float) * n), *yb = malloc(sizeof(float) * n);
    char err[WP_ERRLEN];
    ck_assert_msg(wp_denoise(a, x, ya, C, H, W, d, o, NULL, err) == WP_OK, "%s", err);
    ck_assert_msg(wp_denoise(b, x, yb, C, H, W, d, o, NULL, err) == WP_OK, "%s", err);
    double m = max_abs_diff(ya, yb, n);
    free(ya), free(yb);
    return m;
}

/* With den at level L, a J=3 prior denoises as the L-level prior of den
 * and cond0..cond{L-1} does (odd sizes: the pyramid pads to 2^L, not 2^J),
 * in one pass, with either oracle and in an ensemble; and not as itself
 * without den. */
START_TEST(den_denoises_as_the_lower_prior)
{
    for (int C = 1; C <= 3; C += 2)
        for (int L = 1; L <= 2; L++) {
            wp_prior *q, *p = den_prior(C, L, 40 + C + L, &q);
            int H = 37, W = 29;
            float *x = test_image(C, H, W, 5), *clean = test_image(C, H, W, 6);
            wp_denoise_options d = {.strength = 1.0f};
            double m = denoise_diff(p, q, x, C, H, W, &d, NULL);
            ck_assert_msg(m <= 1e-6, "C %d L %d: max abs diff %g to the %d-level prior", C, L, m, L);
            d.oracle_clean = clean;
            for (d.oracle = WP_ORACLE_LOW; d.oracle <= WP_ORACLE_DETAILS; d.oracle++) {
                m = denoise_diff(p, q, x, C, H, W, &d, NULL);
                ck_assert_msg(m <= 1e-6, "C %d L %d oracle %d: max abs diff %g", C, L, d.oracle, m);
            }
            d = (wp_denoise_options){.strength = 1.0f, .ensemble = 5};
            m = denoise_diff(p, q, x, C, H, W, &d, NULL);
            ck_assert_msg(m <= 1e-6, "C %d L %d ensemble: max abs diff %g", C, L, m);
            /* the test can tell: without den the J=3 pyramid gives another result */
            wp_prior *full = tiny_prior_j(C, 3, 40 + C + L);
            d = (wp_denoise_options){.strength = 1.0f};
            m = denoise_diff(p, full, x, C, H, W, &d, NULL);
            ck_assert_msg(m > 1e-3, "C %d L %d: den changes nothing (%g)", C, L, m);
            wp_prior_free(full);
            wp_prior_free(p), wp_prior_free(q);
            free(x), free(clean);
        }
}
END_TEST

/* Naive oracle of the blend: each 2x2 block (partial at an odd edge) of a
 * becomes wl of b's block mean plus (1 - wl) of a's, and wd of b's details
 * (pixel minus block mean) plus (1 - wd) of a's. */
static void blend_ref(float *a, const float *b, int C, int H, int W, float wl, float wd)
{
    for (int c = 0; c < C; c++)
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++) {
                int i0 = i & ~1, j0 = j & ~1, cnt = 0;
                double ma = 0, mb = 0;
                for (int y = i0; y < i0 + 2 && y < H; y++)
                    for (int x = j0; x < j0 + 2 && x < W; x++, cnt++) {
                        ma += a[((size_t)c * H + y) * W + x];
                        mb += b[((size_t)c * H + y) * W + x];
                    }
                ma /= cnt, mb /= cnt;
                size_t o = ((size_t)c * H + i) * W + j;
                double low = wl * mb + (1 - wl) * ma;
                double det = wd * (b[o] - mb) + (1 - wd) * (a[o] - ma);
                a[o + (size_t)C * H * W] = (float)(low + det); /* into the second half */
            }
}

/* A flat prior's net as den at level 0: the J=3 prior denoises as the
 * flat prior does (one pass, ensembles of up to 8 passes, more counted as
 * 8), with blend as that blended with the fast route (the same den on the
 * level-1 low-pass, cond0 above) by the estimated noise, keeps the den
 * through a save and a load, and refuses an oracle. */
START_TEST(den_at_level_0_denoises_as_the_flat_prior)
{
    for (int C = 1; C <= 3; C += 2) {
        wp_prior *p = tiny_prior_j(C, 3, 90 + C), *f;
        char err[WP_ERRLEN], path[300];
        uint8_t k[5] = {3, 3, 1, 3, 3};
        wp_rng r;
        wp_rng_seed(&r, 95 + C);
        ck_assert_int_eq(wp_prior_create(&f, C, 0, 1, NULL), WP_OK);
        random_net(&f->flatnet, C, C, 6, 5, k, &r);
        ck_assert_msg(wp_prior_set_den(p, f, err) == WP_OK, "%s", err);
        ck_assert_int_eq(wp_prior_den_level(p), 0);
        make_tmpdir();
        snprintf(path, sizeof path, "%s/m.safetensors", tmpdir);
        ck_assert_msg(wp_prior_save(p, path, err) == WP_OK, "%s", err);
        wp_prior *l;
        ck_assert_msg(wp_prior_load(path, &l, err) == WP_OK, "%s", err);
        remove_tmpdir();
        ck_assert_int_eq(wp_prior_den_level(l), 0);
        char *desc = wp_prior_describe(l);
        ck_assert_msg(strstr(desc, "net den alone"), "%s", desc);
        free(desc);
        int H = 37, W = 29;
        float *x = test_image(C, H, W, 7);
        wp_denoise_options d = {.strength = 1.0f};
        /* x holds noise of sigma 0.1: both routes count; xs, smooth, has
         * none: den alone */
        float wl, wd, wl0, wd0;
        wp_denoise_blend_shares(wp_estimate_noise(x, C, H, W), &wl, &wd);
        float *xs = test_image(C, H, W, 7);
        for (size_t i = 0; i < (size_t)C * H * W; i++)
            xs[i] = 0.5f + 0.001f * (float)(i % W);
        wp_denoise_blend_shares(wp_estimate_noise(xs, C, H, W), &wl0, &wd0);
        ck_assert_msg(wl > 0.2f && wd > 0.0f && wl0 == 0.0f && wd0 == 0.0f,
                      "shares %g %g at sigma 0.1, %g %g at 0", wl, wd, wl0, wd0);
        int ens[3] = {1, 8, 32};
        for (int e = 0; e < 6; e++) {
            const float *in = e < 3 ? x : xs;
            wp_denoise_options df = {.strength = 1.0f, .ensemble = ens[e % 3] > 8 ? 8 : ens[e % 3]};
            wp_denoise_options dq = {.strength = 1.0f, .ensemble = ens[e % 3], .fast = 1};
            wp_denoise_options db = {.strength = 1.0f, .ensemble = ens[e % 3], .blend = 1};
            d.ensemble = ens[e % 3];
            size_t n = (size_t)C * H * W;
            float *ya = malloc(sizeof(float) * n), *yb = malloc(sizeof(float) * 2 * n);
            float *yq = malloc(sizeof(float) * n), *yl = malloc(sizeof(float) * n);
            ck_assert_msg(wp_denoise(l, in, ya, C, H, W, &d, NULL, NULL, err) == WP_OK, "%s", err);
            ck_assert_msg(wp_denoise(f, in, yb, C, H, W, &df, NULL, NULL, err) == WP_OK, "%s", err);
            ck_assert_msg(wp_denoise(l, in, yq, C, H, W, &dq, NULL, NULL, err) == WP_OK, "%s", err);
            ck_assert_msg(wp_denoise(l, in, yl, C, H, W, &db, NULL, NULL, err) == WP_OK, "%s", err);
            double plain = max_abs_diff(ya, yb, n), moved = max_abs_diff(ya, in, n);
            double fast_apart = max_abs_diff(yb, yq, n);
            blend_ref(yb, yq, C, H, W, e < 3 ? wl : 0, e < 3 ? wd : 0);
            double m = max_abs_diff(yl, yb + n, n);
            ck_assert_msg(plain <= 1e-6 && m <= 1e-6 && moved > (e < 3 ? 1e-3 : 1e-4) &&
                              fast_apart > 1e-3,
                          "C %d, %d passes, %s: max abs diff %g, blended %g (moved %g, routes %g "
                          "apart)",
                          C, ens[e % 3], e < 3 ? "noisy" : "smooth", plain, m, moved, fast_apart);
            free(ya), free(yb), free(yq), free(yl);
        }
        free(xs);
        /* the fast route: the same den on the level-1 low-pass, cond0 above it;
         * a prior whose den is there already ignores it */
        size_t n = (size_t)C * H * W;
        float *ya = malloc(sizeof(float) * n), *yb = malloc(sizeof(float) * n);
        wp_denoise_options fast = {.strength = 1.0f, .fast = 1};
        /* fast and blend together: refused, the output untouched */
        wp_denoise_options both = {.strength = 1.0f, .fast = 1, .blend = 1};
        for (size_t i = 0; i < n; i++)
            ya[i] = -1.0f;
        err[0] = 0;
        ck_assert_int_eq(wp_denoise(l, x, ya, C, H, W, &both, NULL, NULL, err), WP_ERR_ARG);
        ck_assert_msg(strstr(err, "exclude"), "%s", err);
        ck_assert(ya[0] == -1.0f && ya[n - 1] == -1.0f);
        ck_assert_msg(wp_denoise(l, x, ya, C, H, W, &fast, NULL, NULL, err) == WP_OK, "%s", err);
        l->den_level = 1;
        ck_assert_msg(wp_denoise(l, x, yb, C, H, W, &fast, NULL, NULL, err) == WP_OK, "%s", err);
        double m = max_abs_diff(ya, yb, n);
        ck_assert_msg(wp_denoise(l, x, yb, C, H, W, NULL, NULL, NULL, err) == WP_OK, "%s", err);
        m = fmax(m, max_abs_diff(ya, yb, n));
        l->den_level = 0;
        ck_assert_msg(wp_denoise(l, x, yb, C, H, W, NULL, NULL, NULL, err) == WP_OK, "%s", err);
        double apart = max_abs_diff(ya, yb, n);
        ck_assert_msg(m == 0 && apart > 1e-3, "C %d fast: max abs diff %g (from the image's %g)", C,
                      m, apart);
        free(ya), free(yb);
        float *clean = test_image(C, H, W, 8), *y = malloc(sizeof(float) * C * H * W);
        d = (wp_denoise_options){.strength = 1.0f, .oracle = WP_ORACLE_LOW, .oracle_clean = clean};
        ck_assert_int_eq(wp_denoise(l, x, y, C, H, W, &d, NULL, NULL, err), WP_ERR_ARG);
        ck_assert_ptr_nonnull(strstr(err, "oracle"));
        /* a flat prior takes no den */
        ck_assert_int_eq(wp_prior_set_den(f, p, err), WP_ERR_ARG);
        free(x), free(clean), free(y);
        wp_prior_free(l), wp_prior_free(f), wp_prior_free(p);
    }
}
END_TEST

/* den's halo: tiles of the level-1 low-pass give the untiled result. */
START_TEST(den_tiled_equals_untiled)
{
    wp_prior *q, *p = den_prior(1, 1, 77, &q);
    int H = 96, W = 80;
    float *x = test_image(1, H, W, 8);
    size_t n = (size_t)H * W;
    float *ref = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n);
    char err[WP_ERRLEN];
    wp_run_options big = {0}, o = {0};
    big.max_memory = (size_t)8 << 30; /* one tile */
    ck_assert_msg(wp_denoise(p, x, ref, 1, H, W, NULL, &big, NULL, err) == WP_OK, "%s", err);
    o.tile_size = 16; /* 3 x 3 tiles of the 48x40 level-1 low-pass */
    for (o.threads = 1; o.threads <= 2; o.threads++) {
        ck_assert_msg(wp_denoise(p, x, y, 1, H, W, NULL, &o, NULL, err) == WP_OK, "%s", err);
        double d = max_abs_diff(y, ref, n);
        ck_assert_msg(d <= 1e-5, "tiles of 16, %d threads: max abs diff %g", o.threads, d);
    }
    wp_prior_free(p), wp_prior_free(q);
    free(x), free(ref), free(y);
}
END_TEST

/* A J=3 prior with den at level 1, as file bytes. */
static unsigned char *den_file(size_t *n)
{
    char path[300], err[WP_ERRLEN];
    wp_prior *q, *p = den_prior(1, 1, 3, &q);
    make_tmpdir();
    snprintf(path, sizeof path, "%s/m.safetensors", tmpdir);
    ck_assert_msg(wp_prior_save(p, path, err) == WP_OK, "%s", err);
    wp_prior_free(p), wp_prior_free(q);
    unsigned char *b = read_all(path, n);
    remove_tmpdir();
    return b;
}

static void expect_den_mutation_error(const char *from, const char *to, const char *needle)
{
    expect_file_mutation_error(den_file, from, to, needle);
}

START_TEST(den_files)
{
    char path[300], err[WP_ERRLEN];
    wp_prior *q, *p = den_prior(3, 2, 9, &q), *l;
    make_tmpdir();
    snprintf(path, sizeof path, "%s/m.safetensors", tmpdir);
    ck_assert_msg(wp_prior_save(p, path, err) == WP_OK, "%s", err);
    ck_assert_msg(wp_prior_load(path, &l, err) == WP_OK, "%s", err);
    ck_assert_int_eq(wp_prior_den_level(l), 2);
    ck_assert_uint_eq(l->den.nparams, p->den.nparams);
    ck_assert_int_eq(memcmp(l->den.params, p->den.params, 4 * p->den.nparams), 0);
    ck_assert_int_eq(memcmp(l->den.running_sd, p->den.running_sd, 4 * 3 * 6), 0);
    ck_assert_ptr_null(wp_prior_meta(l, "den.level")); /* structural, not free-form */
    char *d = wp_prior_describe(l);
    ck_assert_msg(strstr(d, "net den ") && strstr(d, "level-2 low-pass"), "%s", d);
    free(d);
    /* removed, saved and loaded: no den */
    ck_assert_int_eq(wp_prior_set_den(l, NULL, err), WP_OK);
    ck_assert_int_eq(wp_prior_save(l, path, err), WP_OK);
    wp_prior_free(l);
    ck_assert_msg(wp_prior_load(path, &l, err) == WP_OK, "%s", err);
    ck_assert_int_eq(wp_prior_den_level(l), -1);
    /* set_den refuses a prior of as many levels, or other channels */
    ck_assert_int_eq(wp_prior_set_den(q, l, err), WP_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err, "more levels"));
    wp_prior *g = tiny_prior(1, 4);
    ck_assert_int_eq(wp_prior_set_den(l, g, err), WP_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err, "channels"));
    wp_prior_free(g), wp_prior_free(l), wp_prior_free(p), wp_prior_free(q);
    remove_tmpdir();
    /* the loader's checks */
    expect_den_mutation_error("\"den.level\":\"1\"", "\"den.level\":\"-1\"", "den.level");
    expect_den_mutation_error("\"den.level\":\"1\"", "\"den.level\":\"3\"", "den.level");
    expect_den_mutation_error("\"den.level\":\"1\"", "\"den.level\":\"x\"", "den.level");
    expect_den_mutation_error("\"den.level\":\"1\"", "\"den.levex\":\"1\"", "den.level\" is missing");
    expect_den_mutation_error("\"net.den\":\"in=1 out=1", "\"net.den\":\"in=3 out=1",
                              "net.den has 3 inputs");
    expect_den_mutation_error("\"net.den\":\"in=1 out=1", "\"net.den\":\"in=1 out=3",
                              "net.den has 1 inputs and 3 outputs");
    expect_den_mutation_error("\"net.den\"", "\"net.dex\"", "\"net.den\" is missing");
    expect_den_mutation_error("\"levels\":\"3\"", "\"levels\":\"1\"", "den.level");
    expect_den_mutation_error("\"kind\":\"multiscale\"", "\"kind\":\"flat\"", "flat prior");
    /* what a reader without den support sees: den's tensors are unexpected */
    size_t n, m, k;
    unsigned char *b = den_file(&n), *c = mutate_header(b, n, "\"net.den\"", "\"net.dex\"", &m);
    unsigned char *e = mutate_header(c, m, "\"den.level\"", "\"den.levex\"", &k);
    expect_error(e, k, "unexpected tensor \"den.");
    free(b), free(c), free(e);
}
END_TEST

/* set_low copies another prior's low-pass net (any levels, any size) and
 * leaves the rest; it refuses other channels and flat priors. */
START_TEST(set_low_copies_the_low_pass_net)
{
    wp_prior *q, *p = den_prior(1, 1, 60, &q), *g = tiny_prior_j(1, 3, 61);
    char err[WP_ERRLEN];
    float c0 = p->cond[0].params[0], d0 = p->den.params[0];
    ck_assert_msg(wp_prior_set_low(p, q, err) == WP_OK, "%s", err);
    ck_assert_uint_eq(p->low.nparams, q->low.nparams);
    ck_assert_int_eq(memcmp(p->low.params, q->low.params, 4 * q->low.nparams), 0);
    ck_assert_ptr_ne(p->low.params, q->low.params); /* a copy */
    ck_assert_int_eq(wp_prior_den_level(p), 1);
    ck_assert(p->cond[0].params[0] == c0 && p->den.params[0] == d0);
    ck_assert_int_eq(wp_prior_set_low(g, p, err), WP_OK); /* J=3 from J=3 */
    wp_prior *c = tiny_prior(3, 62);
    ck_assert_int_eq(wp_prior_set_low(p, c, err), WP_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err, "channels"));
    wp_prior *f;
    ck_assert_int_eq(wp_prior_create(&f, 1, 0, 1, NULL), WP_OK);
    ck_assert_int_eq(wp_prior_set_low(f, p, err), WP_ERR_ARG);
    wp_prior_free(f), wp_prior_free(c), wp_prior_free(g), wp_prior_free(p), wp_prior_free(q);
}
END_TEST

/* Texture exemplars: kept by a save and a load, refused when out of
 * range, and a sample with none of its own continues exemplar (seed mod
 * n) exactly as wp_sample given that exemplar does. */
START_TEST(exemplars_round_trip_and_sample)
{
    enum { N = 3, EH = 24, EW = 20 };
    char path[300], err[WP_ERRLEN];
    wp_prior *p = tiny_prior_j(1, 1, 70), *q;
    float ex[N * EH * EW];
    for (int i = 0; i < N * EH * EW; i++)
        ex[i] = (float)((i * 37 + i / EW * 11) % 101) / 100.0f;
    ck_assert_int_eq(wp_prior_set_exemplars(p, ex, N, 8, 20, err), WP_ERR_FORMAT); /* too small */
    ck_assert_int_eq(wp_prior_set_exemplars(p, ex, WP_EXEMPLARS_MAX + 1, EH, EW, err), WP_ERR_FORMAT);
    ex[5] = 1.5f;
    ck_assert_int_eq(wp_prior_set_exemplars(p, ex, N, EH, EW, err), WP_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "[0,1]"));
    ex[5] = 0.5f;
    ck_assert_msg(wp_prior_set_exemplars(p, ex, N, EH, EW, err) == WP_OK, "%s", err);
    make_tmpdir();
    snprintf(path, sizeof path, "%s/ex.safetensors", tmpdir);
    ck_assert_msg(wp_prior_save(p, path, err) == WP_OK, "%s", err);
    ck_assert_msg(wp_prior_load(path, &q, err) == WP_OK, "%s", err);
    int h, w;
    ck_assert_int_eq(wp_prior_exemplars(q, &h, &w), N);
    ck_assert(h == EH && w == EW);
    ck_assert_int_eq(memcmp(q->exemplars, ex, sizeof ex), 0);
    char *d = wp_prior_describe(q);
    ck_assert_ptr_nonnull(strstr(d, "exemplars: 3 of 20x24"));
    free(d);

    enum { H = 32, W = 48 };
    float a[H * W], b[H * W];
    wp_sample_options own = {.width = W, .height = H, .seed = 7}, given = own;
    ck_assert_msg(wp_sample(q, a, 1, &own, NULL, err) == WP_OK, "%s", err);
    given.exemplar = ex + (7 % N) * EH * EW, given.ex_width = EW, given.ex_height = EH;
    ck_assert_msg(wp_sample(p, b, 1, &given, NULL, err) == WP_OK, "%s", err);
    ck_assert_int_eq(memcmp(a, b, sizeof a), 0);
    given.exemplar = ex; /* another exemplar: another sample */
    ck_assert_msg(wp_sample(p, b, 1, &given, NULL, err) == WP_OK, "%s", err);
    ck_assert_int_ne(memcmp(a, b, sizeof a), 0);

    /* removed: saved without the tensor, sampled from the low-pass net */
    ck_assert_int_eq(wp_prior_set_exemplars(q, NULL, 0, 0, 0, err), WP_OK);
    ck_assert_msg(wp_prior_save(q, path, err) == WP_OK, "%s", err);
    wp_prior_free(q);
    ck_assert_msg(wp_prior_load(path, &q, err) == WP_OK, "%s", err);
    ck_assert_int_eq(wp_prior_exemplars(q, NULL, NULL), 0);
    wp_prior *f;
    ck_assert_int_eq(wp_prior_create(&f, 1, 0, 1, NULL), WP_OK);
    ck_assert_int_eq(wp_prior_set_exemplars(f, ex, 1, EH, EW, err), WP_ERR_ARG);
    wp_prior_free(f), wp_prior_free(q), wp_prior_free(p);
    remove_tmpdir();
}
END_TEST

/* A file whose exemplars tensor has the wrong shape or values is refused
 * with a message that names it. */
START_TEST(exemplar_tensor_errors)
{
    char path[300], err[WP_ERRLEN];
    wp_prior *p = tiny_prior_j(3, 1, 71), *q;
    make_tmpdir();
    snprintf(path, sizeof path, "%s/bad.safetensors", tmpdir);
    /* a colour prior, a tensor of one channel: written by hand */
    const char *meta[] = {"format", "wavelet-prior", "format_version", "1", "channels", "3",
                          "kind", "multiscale", "levels", "1"};
    float one[16 * 16] = {0};
    wp_st_out t = {"exemplars", 4, {1, 1, 16, 16}, one};
    ck_assert_int_eq(wp_st_write(path, &t, 1, meta, 5, err), WP_OK);
    ck_assert_int_ne(wp_prior_load(path, &q, err), WP_OK); /* no networks either */
    /* the prior's own file with a bad exemplar value patched in */
    float ex[3 * 16 * 16];
    for (int i = 0; i < 3 * 16 * 16; i++)
        ex[i] = 0.25f;
    ck_assert_int_eq(wp_prior_set_exemplars(p, ex, 1, 16, 16, err), WP_OK);
    ck_assert_msg(wp_prior_save(p, path, err) == WP_OK, "%s", err);
    size_t n;
    unsigned char *b = read_all(path, &n);
    float quarter = 0.25f, bad = 7.0f;
    unsigned char *hit = NULL;
    for (size_t i = n - 4 * 3 * 16 * 16; i + 4 <= n && !hit; i++)
        if (!memcmp(b + i, &quarter, 4))
            hit = b + i;
    ck_assert_ptr_nonnull(hit);
    memcpy(hit, &bad, 4);
    ck_assert_int_eq(wp_prior_load_memory(b, n, &q, err), WP_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "exemplar"));
    free(b);
    wp_prior_free(p);
    remove_tmpdir();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("model");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, save_load_round_trip);
    tcase_add_test(tc, corrupt_headers);
    tcase_add_test(tc, corrupt_bytes);
    tcase_add_test(tc, file_errors);
    tcase_add_test(tc, reference_files_need_import);
    tcase_add_test(tc, wrong_job_for_the_prior);
    tcase_add_test(tc, den_denoises_as_the_lower_prior);
    tcase_add_test(tc, den_tiled_equals_untiled);
    tcase_add_test(tc, den_at_level_0_denoises_as_the_flat_prior);
    tcase_add_test(tc, den_files);
    tcase_add_test(tc, set_low_copies_the_low_pass_net);
    tcase_add_test(tc, exemplars_round_trip_and_sample);
    tcase_add_test(tc, exemplar_tensor_errors);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
