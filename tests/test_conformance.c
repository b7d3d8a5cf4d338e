/* test_conformance.c: the engine reproduces every tensor of the paper's
 * reference computations (../shared/reference/vectors) to 1e-4. */
#include "testutil.h"
#include "wp_prior_internal.h"

#define TOL 1e-4

typedef struct {
    wp_st_file f;
    char dir[1024];
} vectors;

static int open_vectors(vectors *v, const char *file)
{
    const char *r = ref_dir();
    if (!r)
        return -1;
    char path[1200], err[WP_ERRLEN];
    snprintf(path, sizeof path, "%s/vectors/%s", r, file);
    snprintf(v->dir, sizeof v->dir, "%s/models", r);
    ck_assert_msg(wp_st_open(&v->f, path, err) == WP_OK, "%s", err);
    return 0;
}

/* A copy of tensor name (its element count in *n). */
static float *tensor(vectors *v, const char *name, size_t *n)
{
    const wp_st_tensor *t = wp_st_find(&v->f, name);
    ck_assert_msg(t != NULL, "vector %s missing", name);
    *n = wp_st_numel(t);
    float *x = malloc(sizeof(float) * *n);
    ck_assert_int_eq(wp_st_read_f32(&v->f, name, t->shape, t->ndim, x, NULL), WP_OK);
    return x;
}

static void load_net(wp_net *net, const char *dir, const char *rel)
{
    char path[1400], err[WP_ERRLEN];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    wp_st_file f;
    ck_assert_msg(wp_st_open(&f, path, err) == WP_OK, "%s", err);
    ck_assert_msg(wp_net_import(net, &f, "", err) == WP_OK, "%s", err);
    wp_st_close(&f);
}

static float *run(const wp_net *net, const float *x, int h, int w)
{
    float *y = malloc(sizeof(float) * net->out_ch * h * w);
    float *ws = malloc(sizeof(float) * wp_net_infer_floats(net, 1, h, w));
    ck_assert_int_eq(wp_net_forward(net, x, y, 1, h, w, ws, NULL), WP_OK);
    free(ws);
    return y;
}

static void expect_close(const char *what, const float *a, const float *b, size_t n)
{
    double d = max_abs_diff(a, b, n);
    ck_assert_msg(d <= TOL, "%s: max abs diff %g > %g", what, d, TOL);
}

/* Checks the pyramid levels, each network on its reference input, and the
 * chain of inputs, for a J-level face model. */
static void check_cascade(const char *file, const char *noisy_name, const char *model_dir, int J,
                          int size)
{
    vectors v;
    if (open_vectors(&v, file))
        return;
    size_t n;
    float *noisy = tensor(&v, noisy_name, &n);
    ck_assert_uint_eq(n, (size_t)size * size);
    /* pyramid levels: [low_j+1, cH, cV, cD] of the noisy image */
    float *cur = noisy;
    int h = size;
    for (int j = 0; j < J; j++) {
        char name[64];
        snprintf(name, sizeof name, "pyramid_level%d", j);
        float *ref = tensor(&v, name, &n);
        float *mine = malloc(sizeof(float) * n);
        wp_haar_forward(cur, 1, h, h, mine, mine + (size_t)(h / 2) * (h / 2));
        expect_close(name, mine, ref, n);
        if (cur != noisy)
            free(cur);
        cur = mine; /* its first plane is the next low-pass */
        h /= 2;
        free(ref);
    }
    /* low-pass network on the coarsest low-pass */
    char rel[256];
    wp_net low;
    snprintf(rel, sizeof rel, "multi_scale/%s/low.safetensors", model_dir);
    load_net(&low, v.dir, rel);
    float *out = run(&low, cur, h, h), *ref = tensor(&v, "low_net_out", &n);
    expect_close("low_net_out", out, ref, n);
    float *lowd = malloc(sizeof(float) * h * h);
    for (int i = 0; i < h * h; i++)
        lowd[i] = cur[i] - out[i];
    free(out), free(ref), free(cur);
    wp_net_free(&low);
    /* conditional networks, coarse to fine */
    for (int j = J - 1; j >= 0; j--) {
        char nin[64], nout[64];
        snprintf(nin, sizeof nin, "cond_scale%d_in", j);
        snprintf(nout, sizeof nout, "cond_scale%d_out", j);
        float *in = tensor(&v, nin, &n);
        expect_close(nin, in, lowd, (size_t)h * h); /* our denoised low-pass */
        float *lvl = tensor(&v, (snprintf(rel, sizeof rel, "pyramid_level%d", j), rel), &n);
        expect_close(nin, in + (size_t)h * h, lvl + (size_t)h * h, 3 * (size_t)h * h);
        wp_net cond;
        snprintf(rel, sizeof rel, "multi_scale/%s/rf13_scale%d.safetensors", model_dir, j);
        load_net(&cond, v.dir, rel);
        out = run(&cond, in, h, h);
        ref = tensor(&v, nout, &n);
        expect_close(nout, out, ref, n);
        /* the next low-pass: invert this level with denoised details */
        for (size_t i = 0; i < 3 * (size_t)h * h; i++)
            in[h * h + i] -= out[i];
        float *next = malloc(sizeof(float) * 4 * h * h);
        wp_haar_inverse(in, in + (size_t)h * h, 1, h, h, next);
        free(lowd);
        lowd = next;
        h *= 2;
        wp_net_free(&cond);
        free(in), free(out), free(ref), free(lvl);
    }
    char dn[64];
    snprintf(dn, sizeof dn, "denoised_rf13_J%d", J);
    ref = tensor(&v, dn, &n);
    expect_close("denoised (chained by hand)", lowd, ref, n);
    free(lowd), free(ref), free(noisy);
    wp_st_close(&v.f);
}

START_TEST(cascade_160_J2)
{
    check_cascade("celeba160_rf13_denoise.safetensors", "noisy_sigma50", "celebA_160x160_gray", 2,
                  160);
}
END_TEST

START_TEST(cascade_320_J3)
{
    check_cascade("celeba320_rf13_denoise.safetensors", "noisy_sigma30", "celebA_320x320_gray", 3,
                  320);
}
END_TEST

/* The public wp_denoise on an imported prior. */
static void check_denoise(const char *file, const char *noisy_name, const char *model_dir,
                          int J, const char *out_name)
{
    vectors v;
    if (open_vectors(&v, file))
        return;
    char low[1400], conds[WP_MAX_LEVELS][1400], err[WP_ERRLEN];
    const char *cp[WP_MAX_LEVELS];
    snprintf(low, sizeof low, "%s/multi_scale/%s/low.safetensors", v.dir, model_dir);
    for (int j = 0; j < J; j++) {
        snprintf(conds[j], sizeof conds[j], "%s/multi_scale/%s/rf13_scale%d.safetensors", v.dir,
                 model_dir, j);
        cp[j] = conds[j];
    }
    wp_prior *p;
    ck_assert_msg(wp_prior_import(low, cp, J, NULL, 1, &p, err) == WP_OK, "%s", err);
    size_t n;
    float *x = tensor(&v, noisy_name, &n), *ref = tensor(&v, out_name, &n);
    int s = (int)sqrt((double)n);
    float *y = malloc(sizeof(float) * n);
    /* imported: the reference code's zero padding by default */
    ck_assert_msg(wp_denoise(p, x, y, 1, s, s, NULL, NULL, NULL, err) == WP_OK, "%s", err);
    expect_close(out_name, y, ref, n);
    /* in place gives the same */
    ck_assert_int_eq(wp_denoise(p, x, x, 1, s, s, NULL, NULL, NULL, err), WP_OK);
    expect_close("in place", x, ref, n);
    wp_prior_free(p);
    free(x), free(ref), free(y);
    wp_st_close(&v.f);
}

START_TEST(denoise_160_J2)
{
    check_denoise("celeba160_rf13_denoise.safetensors", "noisy_sigma50", "celebA_160x160_gray",
                  2, "denoised_rf13_J2");
}
END_TEST

START_TEST(denoise_320_J3)
{
    check_denoise("celeba320_rf13_denoise.safetensors", "noisy_sigma30", "celebA_320x320_gray",
                  3, "denoised_rf13_J3");
}
END_TEST

START_TEST(flat_rf13)
{
    vectors v;
    if (open_vectors(&v, "celeba160_rf13_denoise.safetensors"))
        return;
    wp_net flat;
    load_net(&flat, v.dir, "flat/celebA_160x160_gray/rf13_flat.safetensors");
    ck_assert_int_eq(wp_net_receptive_field(&flat), 13);
    size_t n;
    float *x = tensor(&v, "noisy_sigma50", &n), *ref = tensor(&v, "flat_rf13_out", &n);
    float *y = run(&flat, x, 160, 160);
    expect_close("flat_rf13_out", y, ref, n);
    /* and through a flat prior: denoised = x - out */
    char path[1400], err[WP_ERRLEN];
    snprintf(path, sizeof path, "%s/flat/celebA_160x160_gray/rf13_flat.safetensors", v.dir);
    wp_prior *p;
    ck_assert_msg(wp_prior_import(NULL, NULL, 0, path, 1, &p, err) == WP_OK, "%s", err);
    float *d = malloc(sizeof(float) * n);
    ck_assert_int_eq(wp_denoise(p, x, d, 1, 160, 160, NULL, NULL, NULL, err), WP_OK);
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] - ref[i];
    expect_close("flat denoised", d, y, n);
    wp_prior_free(p);
    wp_net_free(&flat);
    free(x), free(ref), free(y), free(d);
    wp_st_close(&v.f);
}
END_TEST

START_TEST(every_reference_rf_network_loads)
{
    const char *r = ref_dir();
    if (!r)
        return;
    int rfs[] = {5, 9, 13, 23, 43};
    for (int i = 0; i < 5; i++)
        for (int s = 0; s < 3; s++) {
            char rel[256], dir[1100];
            wp_net net;
            snprintf(dir, sizeof dir, "%s/models", r);
            if (s < 2)
                snprintf(rel, sizeof rel, "multi_scale/celebA_160x160_gray/rf%d_scale%d.safetensors",
                         rfs[i], s);
            else
                snprintf(rel, sizeof rel, "flat/celebA_160x160_gray/rf%d_flat.safetensors", rfs[i]);
            load_net(&net, dir, rel);
            ck_assert_int_eq(wp_net_receptive_field(&net), rfs[i]);
            uint8_t k[21];
            ck_assert_int_eq(wp_rf_kernels(rfs[i], 21, k), 0);
            ck_assert_int_eq(memcmp(k, net.kernel, 21), 0);
            wp_net_free(&net);
        }
}
END_TEST

int main(void)
{
    if (!ref_dir())
        fprintf(stderr, "WPRIOR_REFERENCE not set: conformance tests skipped\n");
    Suite *s = suite_create("conformance");
    TCase *tc = tcase_create("conformance");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, cascade_160_J2);
    tcase_add_test(tc, cascade_320_J3);
    tcase_add_test(tc, denoise_160_J2);
    tcase_add_test(tc, denoise_320_J3);
    tcase_add_test(tc, flat_rf13);
    tcase_add_test(tc, every_reference_rf_network_loads);
    suite_add_tcase(s, tc);
    int rc = run_suite(s);
    return rc ? rc : (ref_dir() ? 0 : 77);
}
