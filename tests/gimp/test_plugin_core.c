/* test_plugin_core.c: the plug-in's GIMP-free core: settings checks, pixel
 * layout, model folders and names, and job batches with cancel. */
#include <check.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "jobs.h"
#include "models.h"

static char *tmpdir;     /* WPRIOR_MODEL_PATH of these tests */
static char *model_path; /* the shipped J=2 face prior, copied into it */

/* The shipped face prior (the paper's J=2 face denoisers), saved into dir
 * under the name "Faces". */
static char *copy_face_prior(const char *dir)
{
    /* runs before the tests, outside Check: a failure ends the program */
    const char *root = g_getenv("WPRIOR_SOURCE_ROOT");
    if (!root)
        g_error("WPRIOR_SOURCE_ROOT is not set (run the tests with meson test)");
    char *src = g_build_filename(root, "models", "face-gray.safetensors", NULL);
    char *out = g_build_filename(dir, "faces.safetensors", NULL);
    char err[WP_ERRLEN];
    wp_prior *p;
    if (wp_prior_load(src, &p, err) != WP_OK || wp_prior_set_meta(p, "name", "Faces", err) != WP_OK ||
        wp_prior_save(p, out, err) != WP_OK)
        g_error("the shipped face prior: %s", err);
    wp_prior_free(p);
    g_free(src);
    return out;
}

static void setup_dirs(void)
{
    tmpdir = g_dir_make_tmp("wprior-core-XXXXXX", NULL);
    char *cfg = g_build_filename(tmpdir, "config", NULL);
    g_setenv("XDG_CONFIG_HOME", cfg, TRUE); /* keep the real ~/.config out */
    g_setenv("WPRIOR_MODEL_PATH", tmpdir, TRUE);
    g_free(cfg);
    model_path = copy_face_prior(tmpdir);
    char *junk = g_build_filename(tmpdir, "broken.safetensors", NULL);
    char *other = g_build_filename(tmpdir, "notes.txt", NULL);
    g_file_set_contents(junk, "not a model", -1, NULL);
    g_file_set_contents(other, "hello", -1, NULL);
    g_free(junk);
    g_free(other);
}

START_TEST(settings_ranges)
{
    wpj_settings s;
    char err[256];
    wpj_settings_defaults(&s);
    ck_assert_int_eq(wpj_settings_check(WPJ_DENOISE, &s, err, sizeof err), 0);
    ck_assert_int_eq(wpj_settings_check(WPJ_UPSCALE, &s, err, sizeof err), 0);
    ck_assert_int_eq(wpj_settings_check(WPJ_SAMPLE, &s, err, sizeof err), 0);
    s.strength = 1.5;
    ck_assert_int_eq(wpj_settings_check(WPJ_DENOISE, &s, err, sizeof err), -1);
    ck_assert(strstr(err, "strength"));
    wpj_settings_defaults(&s);
    ck_assert_int_eq(s.passes, 1);
    s.passes = 33;
    ck_assert_int_eq(wpj_settings_check(WPJ_DENOISE, &s, err, sizeof err), -1);
    ck_assert(strstr(err, "passes"));
    s.passes = 0;
    ck_assert_int_eq(wpj_settings_check(WPJ_DENOISE, &s, err, sizeof err), -1);
    wpj_settings_defaults(&s);
    s.quality = WPJ_QUALITY_FINE; /* denoising's Best */
    ck_assert_int_eq(wpj_settings_check(WPJ_DENOISE, &s, err, sizeof err), 0);
    s.quality = WPJ_QUALITY_FINE + 1;
    ck_assert_int_eq(wpj_settings_check(WPJ_DENOISE, &s, err, sizeof err), -1);
    ck_assert(strstr(err, "quality"));
    wpj_settings_defaults(&s);
    ck_assert_int_eq(s.tiling, WPJ_TILING_MODEL);
    s.tiling = 3;
    ck_assert_int_eq(wpj_settings_check(WPJ_SAMPLE, &s, err, sizeof err), -1);
    ck_assert(strstr(err, "tiling"));
    wpj_settings_defaults(&s);
    s.factor = 3;
    ck_assert_int_eq(wpj_settings_check(WPJ_UPSCALE, &s, err, sizeof err), -1);
    wpj_settings_defaults(&s);
    s.seed = -1;
    ck_assert_int_eq(wpj_settings_check(WPJ_SAMPLE, &s, err, sizeof err), -1);
    wpj_settings_defaults(&s);
    s.width = 64; /* a width without a height */
    ck_assert_int_eq(wpj_settings_check(WPJ_SAMPLE, &s, err, sizeof err), -1);
}
END_TEST

/* Every procedure has a descriptor whose defaults pass its own check, and
 * whose choices lie in its range; each kind's first is its main one. */
START_TEST(descriptors)
{
    wpj_settings s;
    char err[256];
    wpj_settings_defaults(&s);
    for (int k = 0; k < WPJ_NPROCS; k++) {
        const wpj_desc *d = wpj_proc(k);
        ck_assert_ptr_nonnull(d);
        ck_assert_ptr_eq(wpj_describe_proc(d->proc), d);
        ck_assert_ptr_nonnull(wpj_describe(d->kind));
        ck_assert_str_eq(d->params[0].name, "model");
        for (int i = 1; i < d->nparams; i++) {
            const wpj_param *p = &d->params[i];
            ck_assert_ptr_eq(wpj_param_find(d, p->name), p);
            ck_assert(wpj_param_ok(p, p->def));
            ck_assert(wpj_param_get(p, &s) == p->def);
            for (int c = 0; c < p->nchoices; c++)
                ck_assert(wpj_param_ok(p, p->values[c]));
        }
        ck_assert_int_eq(wpj_settings_check(d->kind, &s, err, sizeof err), 0);
    }
    for (int k = 0; k < WPJ_NKINDS; k++)
        ck_assert_int_eq(wpj_describe(k)->kind, k);
    ck_assert_ptr_null(wpj_proc(WPJ_NPROCS));
    ck_assert_ptr_null(wpj_describe(WPJ_NKINDS));
    ck_assert_ptr_null(wpj_describe_proc("plug-in-no-such"));
    const wpj_param *f = wpj_param_find(wpj_describe(WPJ_UPSCALE), "factor");
    ck_assert(!wpj_param_ok(f, 3) && wpj_param_ok(f, 8));
    s.factor = 3;
    ck_assert_int_eq(wpj_settings_check(WPJ_UPSCALE, &s, err, sizeof err), -1);
    ck_assert(strstr(err, "2, 4 or 8"));
}
END_TEST

/* Layer > Upscale and Image > Upscale: two procedures, each on its own
 * target whatever the other remembered; only the layer's offers to grow
 * the canvas, and its dialog offers no whole-image target (scripts may
 * still ask for one). */
START_TEST(upscale_targets)
{
    const wpj_desc *layer = wpj_describe_proc("plug-in-wprior-upscale");
    const wpj_desc *image = wpj_describe_proc("plug-in-wprior-upscale-image");
    ck_assert(layer && image && layer != image);
    ck_assert_ptr_eq(wpj_describe(WPJ_UPSCALE), layer);
    ck_assert_int_eq(image->kind, WPJ_UPSCALE);
    ck_assert_str_eq(layer->menus[0], "<Image>/Layer");
    ck_assert_ptr_null(layer->menus[1]);
    ck_assert_str_eq(image->menus[0], "<Image>/Image");
    ck_assert_int_eq(layer->target, -1);
    ck_assert_int_eq(image->target, WPJ_TARGET_IMAGE);
    ck_assert_ptr_null(wpj_param_find(image, "target"));
    ck_assert_ptr_null(wpj_param_find(image, "grow-canvas"));
    const wpj_param *t = wpj_param_find(layer, "target");
    const wpj_param *g = wpj_param_find(layer, "grow-canvas");
    ck_assert(t && g);
    for (int c = 0; c < t->nchoices; c++)
        ck_assert_int_ne(t->values[c], WPJ_TARGET_IMAGE);
    ck_assert(wpj_param_ok(t, WPJ_TARGET_IMAGE) && !wpj_param_ok(t, 3));
    ck_assert(wpj_param_ok(g, 0) && wpj_param_ok(g, 1) && !wpj_param_ok(g, 2));
    ck_assert_ptr_nonnull(strstr(layer->title, "Layer"));
    ck_assert_ptr_nonnull(strstr(image->title, "Image"));

    wpj_settings s;
    wpj_settings_defaults(&s);
    ck_assert_int_eq(s.target, WPJ_TARGET_LAYER);
    ck_assert_int_eq(s.grow_canvas, 1);
    s.target = WPJ_TARGET_NEW_IMAGE; /* remembered by another run */
    wpj_desc_apply(image, &s);
    ck_assert_int_eq(s.target, WPJ_TARGET_IMAGE);
    wpj_desc_apply(layer, &s); /* the layer's own: its argument says */
    ck_assert_int_eq(s.target, WPJ_TARGET_IMAGE);
}
END_TEST

/* The canvas that fits an enlarged layer: unchanged when it fits; grown
 * right and down, or left and up with every layer moved. */
START_TEST(canvas_fit)
{
    int w, h, dx, dy;
    ck_assert_int_eq(wpj_canvas_fit(96, 80, 3, 4, 40, 30, &w, &h, &dx, &dy), 0);
    ck_assert(w == 96 && h == 80 && dx == 0 && dy == 0);
    ck_assert_int_eq(wpj_canvas_fit(96, 80, 3, 4, 192, 160, &w, &h, &dx, &dy), 1);
    ck_assert(w == 195 && h == 164 && dx == 0 && dy == 0);
    ck_assert_int_eq(wpj_canvas_fit(96, 80, 0, 0, 96, 160, &w, &h, &dx, &dy), 1);
    ck_assert(w == 96 && h == 160);
    ck_assert_int_eq(wpj_canvas_fit(96, 80, -10, -5, 100, 50, &w, &h, &dx, &dy), 1);
    ck_assert(w == 106 && h == 85 && dx == 10 && dy == 5);
}
END_TEST

/* Runs `wprior CMD -m <none> OPT VALUE ...`: 1 when it refuses the value
 * (exit status 2, a message naming OPT), 0 when it gets past the options
 * to the missing input or model. */
static int cli_refuses(const char *cmd, const char *opt, const char *value)
{
    const char *cli = g_getenv("WPRIOR_CLI");
    ck_assert_msg(cli && *cli, "WPRIOR_CLI is not set (run the tests with meson test)");
    char *model = g_build_filename(tmpdir, "no-such-model.safetensors", NULL);
    char *in = g_build_filename(tmpdir, "no-such-input.png", NULL);
    char *out = g_build_filename(tmpdir, "never-written.png", NULL);
    int sample = !strcmp(cmd, "sample");
    const char *argv[] = {cli, cmd, "-m", model, opt, value, sample ? out : in, out, NULL};
    if (sample)
        argv[7] = NULL;
    char *err = NULL;
    int status = 0;
    GError *gerr = NULL;
    ck_assert_msg(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                               NULL, &err, &status, &gerr),
                  "%s", gerr ? gerr->message : "");
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) != 0, "%s %s %s: ran", cmd, opt, value);
    int refused = WEXITSTATUS(status) == 2 && strstr(err, opt);
    ck_assert_msg(refused || strstr(err, "no-such-"), "%s %s %s: %s", cmd, opt, value, err);
    ck_assert(!g_file_test(out, G_FILE_TEST_EXISTS));
    g_free(err), g_free(model), g_free(in), g_free(out);
    return refused;
}

/* `wprior` and the plug-in take the same values of the options they share
 * (both read their ranges from wprior.h): at each bound, just beyond it,
 * and a factor between the allowed ones. */
START_TEST(cli_takes_the_plugin_ranges)
{
    static const struct {
        wpj_kind kind;
        const char *param, *cmd, *opt;
        double step; /* just beyond a bound */
    } shared[] = {
        {WPJ_DENOISE, "strength", "denoise", "--strength", 0.01},
        {WPJ_DENOISE, "passes", "denoise", "--ensemble", 1},
        {WPJ_UPSCALE, "factor", "upscale", "--factor", 1},
        {WPJ_UPSCALE, "passes", "upscale", "--ensemble", 1},
        {WPJ_SAMPLE, "width", "sample", "--size", 1},
    };
    for (size_t k = 0; k < G_N_ELEMENTS(shared); k++) {
        const wpj_param *p = wpj_param_find(wpj_describe(shared[k].kind), shared[k].param);
        ck_assert_ptr_nonnull(p);
        int size = !strcmp(shared[k].opt, "--size"); /* 0 (the model's own) is the plug-in's */
        double v[] = {p->min - shared[k].step, p->min, p->max, p->max + shared[k].step,
                      p->type == WPJ_ARG_INT ? floor((p->min + p->max) / 2) + 1
                                             : (p->min + p->max) / 2};
        for (size_t i = size ? 2 : 0; i < G_N_ELEMENTS(v) - (size ? 1 : 0); i++) {
            char text[64];
            if (size)
                g_snprintf(text, sizeof text, "%.0fx%.0f", v[i], p->max);
            else
                g_snprintf(text, sizeof text, "%g", v[i]);
            int cli_ok = !cli_refuses(shared[k].cmd, shared[k].opt, text);
            ck_assert_msg(cli_ok == wpj_param_ok(p, v[i]), "%s %s: wprior %s, the plug-in %s",
                          shared[k].opt, text, cli_ok ? "takes it" : "refuses",
                          wpj_param_ok(p, v[i]) ? "takes it" : "refuses");
        }
    }
}
END_TEST

/* The core's pixel helpers: the denoise context, alpha carried through
 * an upscale, an opaque sample. */
START_TEST(pixel_helpers)
{
    int rx, ry, rw, rh;
    wpj_denoise_context(40, 5, 10, 10, 100, 60, &rx, &ry, &rw, &rh);
    ck_assert_int_eq(rx, 40 - WPJ_DENOISE_MARGIN);
    ck_assert_int_eq(ry, 0);
    ck_assert_int_eq(rw, 10 + 2 * WPJ_DENOISE_MARGIN);
    ck_assert_int_eq(rh, 15 + WPJ_DENOISE_MARGIN);
    float src[2 * 2] = {0.1f, 0.25f, 0.2f, 0.75f}; /* 2x1 gray+alpha */
    wpj_image out;
    ck_assert_int_eq(wpj_image_alloc(&out, 1, 2, 4), 0);
    for (int i = 0; i < 8; i++)
        out.px[i] = i / 8.0f;
    float *px = wpj_compose_upscaled(&out, src, 2, 2, 1, 2);
    ck_assert_ptr_nonnull(px);
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 4; x++) {
            ck_assert_float_eq(px[(y * 4 + x) * 2], (y * 4 + x) / 8.0f);
            ck_assert_float_eq(px[(y * 4 + x) * 2 + 1], x < 2 ? 0.25f : 0.75f);
        }
    g_free(px);
    px = wpj_opaque_pixels(&out, 3);
    ck_assert_ptr_nonnull(px);
    ck_assert_float_eq(px[5 * 4 + 1], 5 / 8.0f);
    ck_assert_float_eq(px[5 * 4 + 3], 1.0f);
    g_free(px);
    wpj_image_free(&out);
}
END_TEST

/* The model a run uses: the named one, else the shipped one for the
 * layer; a remembered model (a name or the path a dialog stores) whose
 * channel count is not the layer's gives way to the default model for
 * the layer's, and the shipped gray prior to the colour one on colour. */
START_TEST(model_choice)
{
    wpm_model items[4] = {
        {.path = "/m/photo-color.safetensors", .name = "photo-color", .channels = 3},
        {.path = "/m/photo-gray.safetensors", .name = "photo-gray", .channels = 1},
        {.path = "/m/mine.safetensors", .name = "mine", .channels = 3},
        {.path = "/m/grain.safetensors", .name = "grain", .channels = 1}};
    wpm_list l = {items, 4};
    char m[64] = "";
    g_unsetenv("WPRIOR_MODEL");
    wpm_choose(&l, m, sizeof m, WPJ_DENOISE, 1);
    ck_assert_str_eq(m, "photo-gray");
    m[0] = 0; /* photo-color on colour layers */
    wpm_choose(&l, m, sizeof m, WPJ_DENOISE, 0);
    ck_assert_str_eq(m, "photo-color");
    /* the gray default remembered from a gray layer, on a colour one */
    g_strlcpy(m, "/m/photo-gray.safetensors", sizeof m);
    wpm_choose(&l, m, sizeof m, WPJ_DENOISE, 0);
    ck_assert_str_eq(m, "photo-color");
    /* upscaling keeps the gray prior on colour layers: it does better there */
    g_strlcpy(m, "/m/photo-gray.safetensors", sizeof m);
    wpm_choose(&l, m, sizeof m, WPJ_UPSCALE, 0);
    ck_assert_str_eq(m, "/m/photo-gray.safetensors");
    m[0] = 0;
    wpm_choose(&l, m, sizeof m, WPJ_UPSCALE, 0);
    ck_assert_str_eq(m, "photo-gray");
    m[0] = 0;
    wpm_choose(&l, m, sizeof m, WPJ_HEAL, 0);
    ck_assert_str_eq(m, "photo-color");
    g_strlcpy(m, "photo-gray", sizeof m); /* not where no colour prior ships */
    wpm_list gray_only = {items + 1, 1};
    wpm_choose(&gray_only, m, sizeof m, WPJ_DENOISE, 0);
    ck_assert_str_eq(m, "photo-gray");
    g_strlcpy(m, "photo-color", sizeof m); /* a colour model the user chose */
    wpm_choose(&l, m, sizeof m, WPJ_DENOISE, 0);
    ck_assert_str_eq(m, "photo-color");
    wpm_choose(&l, m, sizeof m, WPJ_DENOISE, 1);
    ck_assert_str_eq(m, "photo-gray");
    /* the path the dialog remembered from a colour layer, on a gray one */
    g_strlcpy(m, "/m/photo-color.safetensors", sizeof m);
    wpm_choose(&l, m, sizeof m, WPJ_DENOISE, 1);
    ck_assert_str_eq(m, "photo-gray");
    g_strlcpy(m, "/m/mine.safetensors", sizeof m); /* any colour model */
    wpm_choose(&l, m, sizeof m, WPJ_DENOISE, 1);
    ck_assert_str_eq(m, "photo-gray");
    g_strlcpy(m, "mine", sizeof m); /* kept where it fits */
    wpm_choose(&l, m, sizeof m, WPJ_DENOISE, 0);
    ck_assert_str_eq(m, "mine");
    g_strlcpy(m, "/m/grain.safetensors", sizeof m); /* a gray model on gray */
    wpm_choose(&l, m, sizeof m, WPJ_DENOISE, 1);
    ck_assert_str_eq(m, "/m/grain.safetensors");
    g_strlcpy(m, "/m/grain.safetensors", sizeof m); /* a gray model on colour: kept */
    wpm_choose(&l, m, sizeof m, WPJ_DENOISE, 0);
    ck_assert_str_eq(m, "/m/grain.safetensors");
    g_strlcpy(m, "/elsewhere/own.safetensors", sizeof m); /* not scanned: kept */
    wpm_choose(&l, m, sizeof m, WPJ_DENOISE, 1);
    ck_assert_str_eq(m, "/elsewhere/own.safetensors");
    g_strlcpy(m, "mine", sizeof m); /* a sample's model is not the layer's */
    wpm_choose(&l, m, sizeof m, WPJ_SAMPLE, 0);
    ck_assert_str_eq(m, "mine");
    /* a texture from a selection: the photo prior of the layer's channels */
    const wpj_desc *texture = wpj_describe_proc("plug-in-wprior-texture");
    m[0] = 0;
    wpm_choose_for(&l, m, sizeof m, texture, 0);
    ck_assert_str_eq(m, "photo-color");
    m[0] = 0;
    wpm_choose_for(&l, m, sizeof m, texture, 1);
    ck_assert_str_eq(m, "photo-gray");
    g_strlcpy(m, "/m/mine.safetensors", sizeof m);
    wpm_choose_for(&l, m, sizeof m, texture, 1);
    ck_assert_str_eq(m, "photo-gray");
    /* no shipped gray model: the first gray one */
    wpm_list colour_first = {items + 2, 2};
    g_strlcpy(m, "mine", sizeof m);
    wpm_choose(&colour_first, m, sizeof m, WPJ_DENOISE, 1);
    ck_assert_str_eq(m, "/m/grain.safetensors");
    m[0] = 0;
    g_setenv("WPRIOR_MODEL", "/x/env.safetensors", TRUE);
    wpm_choose(&l, m, sizeof m, WPJ_DENOISE, 0);
    ck_assert_str_eq(m, "/x/env.safetensors");
    g_unsetenv("WPRIOR_MODEL");
}
END_TEST

START_TEST(interleaved_round_trip)
{
    /* 2 pixels RGBA: out-of-range and NaN colour is clamped, alpha kept. */
    float px[8] = {0.25f, 2.0f, -1.0f, 0.5f, NAN, 0.75f, 1.0f, 0.125f};
    wpj_image im;
    ck_assert_int_eq(wpj_image_alloc(&im, 3, 1, 2), 0);
    wpj_from_interleaved(&im, px, 4);
    ck_assert_float_eq(im.px[0], 0.25f);
    ck_assert_float_eq(im.px[1], 0.0f);
    ck_assert_float_eq(im.px[2], 1.0f);
    ck_assert_float_eq(im.px[4], 0.0f);
    im.px[0] = 0.5f;
    wpj_to_interleaved(&im, px, 4);
    ck_assert_float_eq(px[0], 0.5f);
    ck_assert_float_eq(px[3], 0.5f);
    ck_assert_float_eq(px[7], 0.125f);
    wpj_image_free(&im);
}
END_TEST

START_TEST(channel_conversion)
{
    wpj_image rgb = {0}, gray = {0}, back = {0};
    ck_assert_int_eq(wpj_image_alloc(&rgb, 3, 1, 1), 0);
    rgb.px[0] = 0.1f, rgb.px[1] = 0.2f, rgb.px[2] = 0.6f;
    ck_assert_int_eq(wpj_convert_channels(&rgb, 1, &gray), 0);
    ck_assert_float_eq_tol(gray.px[0], 0.3f, 1e-6);
    ck_assert_int_eq(wpj_convert_channels(&gray, 3, &back), 0);
    for (int c = 0; c < 3; c++)
        ck_assert_float_eq_tol(back.px[c], 0.3f, 1e-6);
    wpj_image_free(&rgb);
    wpj_image_free(&gray);
    wpj_image_free(&back);
}
END_TEST

START_TEST(output_sizes_and_budget)
{
    wpj_settings s;
    int w, h;
    wpj_settings_defaults(&s);
    s.factor = 4;
    wpj_output_size(WPJ_UPSCALE, &s, NULL, 30, 20, &w, &h);
    ck_assert(w == 120 && h == 80);
    wpj_output_size(WPJ_SAMPLE, &s, NULL, 0, 0, &w, &h);
    ck_assert(w == 256 && h == 256);
    /* no size set, no fixed size: the image's or selection's */
    wpj_output_size(WPJ_SAMPLE, &s, NULL, 30, 20, &w, &h);
    ck_assert(w == 30 && h == 20);
    s.width = 64, s.height = 48;
    wpj_output_size(WPJ_SAMPLE, &s, NULL, 0, 0, &w, &h);
    ck_assert(w == 64 && h == 48);
    g_setenv("WPRIOR_MAX_MEMORY", "12M", TRUE);
    ck_assert_uint_eq(wpj_max_memory(), (size_t)12 << 20);
    g_setenv("WPRIOR_MAX_MEMORY", "20k", TRUE);
    ck_assert_uint_eq(wpj_max_memory(), (size_t)20 << 10);
    g_unsetenv("WPRIOR_MAX_MEMORY");
    ck_assert_uint_eq(wpj_max_memory(), 0);
}
END_TEST

/* The shipped photo priors denoise with a den at level 0, so Quality Fast
 * has a route of its own; the face prior has none. */
START_TEST(fast_route_of_the_shipped_models)
{
    char *dir = g_build_filename(g_getenv("WPRIOR_SOURCE_ROOT"), "models", NULL);
    char *saved = g_strdup(g_getenv("WPRIOR_MODEL_PATH"));
    g_setenv("WPRIOR_MODEL_PATH", dir, TRUE);
    wpm_list l;
    wpm_scan(&l);
    g_setenv("WPRIOR_MODEL_PATH", saved, TRUE);
    const char *names[] = {"photo-gray", "photo-color", "face-gray"};
    const int fast[] = {1, 1, 0};
    for (int k = 0; k < 3; k++) {
        int i = wpm_find(&l, names[k]);
        ck_assert_msg(i >= 0, "%s not in %s", names[k], dir);
        ck_assert_msg(l.items[i].has_fast == fast[k], "%s: has_fast %d", names[k],
                      l.items[i].has_fast);
    }
    wpm_list_free(&l);
    g_free(saved);
    g_free(dir);
}
END_TEST

/* Denoising's Quality: Fast, Normal and Best run the engine's half-size
 * route, the den on the image and the two blended by the noise (a noisy
 * image, so that Best blends), with photo-gray. */
START_TEST(denoise_quality_routes)
{
    char *path = g_build_filename(g_getenv("WPRIOR_SOURCE_ROOT"), "models",
                                  "photo-gray.safetensors", NULL);
    wp_prior *p;
    char err[WP_ERRLEN];
    ck_assert_msg(wp_prior_load(path, &p, err) == WP_OK, "%s", err);
    g_free(path);
    enum { H = 40, W = 48 };
    wpj_image in = {0}, out = {0};
    ck_assert_int_eq(wpj_image_alloc(&in, 1, H, W), 0);
    guint32 r = 12345;
    for (int k = 0; k < H * W; k++) { /* a ramp and an edge, noise of sigma ~0.1 */
        float u = 0;
        for (int t = 0; t < 12; t++)
            u += (float)((r = r * 1664525u + 1013904223u) >> 8) / 16777216.0f;
        float v = 0.3f + 0.4f * (float)(k % W) / W + ((k / W) > H / 2 ? 0.2f : 0.0f);
        in.px[k] = fminf(fmaxf(v + 0.1f * (u - 6.0f), 0.0f), 1.0f); /* as a layer's */
    }
    float *ref = g_new(float, H * W), *normal = g_new(float, H * W);
    wpj_settings s;
    wpj_settings_defaults(&s);
    ck_assert_int_eq(s.quality, WPJ_QUALITY_NORMAL);
    for (int q = WPJ_QUALITY_DRAFT; q <= WPJ_QUALITY_FINE; q++) {
        s.quality = q;
        wpj_batch b = {.kind = WPJ_DENOISE, .s = &s, .prior = p, .n = 1, .in = &in, .out = &out};
        ck_assert_int_eq(wpj_batch_wait(&b), WP_OK);
        wp_denoise_options d = {.strength = 1.0f, .clipped = 1, .fast = q == WPJ_QUALITY_DRAFT,
                                .blend = q == WPJ_QUALITY_FINE};
        ck_assert_msg(wp_denoise(p, in.px, ref, 1, H, W, &d, NULL, NULL, err) == WP_OK, "%s",
                      err);
        double m = 0, apart = 0;
        for (int k = 0; k < H * W; k++) {
            m = fmax(m, fabs(out.px[k] - ref[k]));
            if (q == WPJ_QUALITY_NORMAL)
                normal[k] = ref[k];
            else
                apart = fmax(apart, fabs(ref[k] - normal[k]));
        }
        ck_assert_msg(m <= 1e-6, "quality %d: max abs diff %g from wp_denoise", q, m);
        ck_assert_msg(q == WPJ_QUALITY_DRAFT || q == WPJ_QUALITY_NORMAL || apart > 1e-3,
                      "quality %d: only %g from Normal", q, apart);
        wpj_batch_free(&b);
    }
    g_free(ref), g_free(normal);
    wpj_image_free(&in);
    wp_prior_free(p);
}
END_TEST

START_TEST(model_folders)
{
    char err[512];
    char **dirs = wpm_search_dirs();
    ck_assert_str_eq(dirs[0], tmpdir);
    ck_assert(strstr(dirs[1], "config/wavelet-prior/models"));
    g_strfreev(dirs);
    char *none = wpm_resolve("no-such-model", err, sizeof err);
    ck_assert_ptr_null(none);
    ck_assert(strstr(err, "no-such-model"));
    /* With a list already scanned, it is that list that is searched (a
     * run scans the folders once): a name only the list holds is found. */
    wpm_model fake = {.path = "/nowhere/mine.safetensors", .name = "Mine"};
    wpm_list given = {&fake, 1};
    char *mine = wpm_resolve_in(&given, "Mine", err, sizeof err);
    ck_assert_str_eq(mine, "/nowhere/mine.safetensors");
    g_free(mine);
    ck_assert_ptr_null(wpm_resolve_in(&given, "no-such-model", err, sizeof err));
    ck_assert(strstr(err, "no-such-model"));
    wpm_list l;
    wpm_scan(&l);
    /* The test folder comes first; models installed on this machine (the
     * shipped ones after `meson install`) follow it and are not counted. */
    int ours = 0;
    for (int i = 0; i < l.n; i++)
        ours += g_str_has_prefix(l.items[i].path, tmpdir);
    ck_assert_int_eq(ours, 1); /* the broken file and notes.txt are left out */
    ck_assert_str_eq(l.items[0].name, "Faces");
    ck_assert_int_eq(l.items[0].levels, 2);
    ck_assert_int_eq(l.items[0].has_fast, 0); /* no den at level 0 */
    /* what the model is for, in plain words (the face prior: J=2, 160x160) */
    ck_assert_msg(strstr(l.items[0].kind, "Gray model") && strstr(l.items[0].kind, "up to 4x") &&
                      strstr(l.items[0].kind, "160x160") && !strstr(l.items[0].kind, "level"),
                  "%s", l.items[0].kind);
    ck_assert_int_eq(wpm_find(&l, ""), 0);
    ck_assert_int_eq(wpm_find(&l, "Faces"), 0);
    ck_assert_int_eq(wpm_find(&l, "faces"), 0);
    ck_assert_int_eq(wpm_find(&l, "faces.safetensors"), 0);
    ck_assert_int_eq(wpm_find(&l, model_path), 0);
    ck_assert_int_eq(wpm_find(&l, "face"), -1);
    wpm_list_free(&l);
    char *p = wpm_resolve("faces", err, sizeof err);
    ck_assert_str_eq(p, model_path);
    g_free(p);
}
END_TEST

/* A batch of two denoise jobs runs to the end; progress reaches 1. */
START_TEST(batch_runs_and_cancels)
{
    wp_prior *p;
    ck_assert_int_eq(wp_prior_load(model_path, &p, NULL), WP_OK);
    wpj_settings s;
    wpj_settings_defaults(&s);
    wpj_image in[2] = {{0}}, out[2] = {{0}};
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(wpj_image_alloc(&in[i], 1, 24, 32), 0);
        for (int k = 0; k < 24 * 32; k++)
            in[i].px[k] = (float)((k * 7919 + i) % 256) / 255.0f;
    }
    wpj_batch b = {.kind = WPJ_DENOISE, .s = &s, .prior = p, .n = 2, .in = in, .out = out};
    ck_assert_int_eq(wpj_batch_wait(&b), WP_OK);
    ck_assert(out[0].px && out[1].px && out[1].w == 32 && out[1].h == 24);
    int done;
    ck_assert_float_eq(wpj_batch_poll(&b, &done), 1.0);
    wpj_batch_free(&b);

    /* Cancelled before it starts: nothing runs, the status says so. */
    wpj_batch c = {.kind = WPJ_DENOISE, .s = &s, .prior = p, .n = 2, .in = in, .out = out};
    wpj_batch_cancel(&c);
    ck_assert_int_eq(wpj_batch_wait(&c), WP_ERR_CANCELLED);
    ck_assert_ptr_null(out[0].px);

    /* A long sample stops within a second of the cancel. */
    s.width = s.height = 256;
    wpj_image none = {0}, sample = {0};
    wpj_batch d = {.kind = WPJ_SAMPLE, .s = &s, .prior = p, .n = 1, .in = &none, .out = &sample};
    wpj_batch_poll(&d, &done);
    g_usleep(200000);
    gint64 t0 = g_get_monotonic_time();
    wpj_batch_cancel(&d);
    ck_assert_int_eq(wpj_batch_wait(&d), WP_ERR_CANCELLED);
    ck_assert_int_lt(g_get_monotonic_time() - t0, 1000000);
    ck_assert_ptr_null(sample.px);

    /* A sample with no size set is drawn at the size its input names
     * (the image's or selection's), by a prior of no fixed size. */
    ck_assert_int_eq(wp_prior_set_meta(p, "image_size", "", NULL), WP_OK);
    s.width = s.height = 0;
    s.quality = WPJ_QUALITY_DRAFT;
    wpj_image sel = {NULL, 0, 24, 40};
    wpj_batch e = {.kind = WPJ_SAMPLE, .s = &s, .prior = p, .n = 1, .in = &sel, .out = &sample};
    ck_assert_int_eq(wpj_batch_wait(&e), WP_OK);
    ck_assert(sample.px && sample.w == 40 && sample.h == 24);
    wpj_batch_free(&e);
    for (int i = 0; i < 2; i++)
        wpj_image_free(&in[i]);
    wp_prior_free(p);
}
END_TEST

/* Texture from Selection: a sample procedure that the selection's pixels
 * feed (fixed by the procedure, whatever was remembered); the job draws
 * the size asked in the prior's channels, keeps the texture's mean level,
 * and without a texture it is an error. */
START_TEST(texture_from_selection)
{
    const wpj_desc *t = wpj_describe_proc("plug-in-wprior-texture");
    ck_assert(t && t->kind == WPJ_SAMPLE && t->needs_input && t->exemplar);
    ck_assert_int_eq(wpj_describe(WPJ_SAMPLE)->exemplar, 0);
    ck_assert_ptr_null(wpj_param_find(t, "quality"));
    wpj_settings s;
    wpj_settings_defaults(&s);
    wpj_desc_apply(t, &s);
    ck_assert_int_eq(s.exemplar, 1);
    wpj_desc_apply(wpj_describe(WPJ_SAMPLE), &s);
    ck_assert_int_eq(s.exemplar, 0);
    wpj_desc_apply(t, &s);

    wp_prior *p;
    ck_assert_int_eq(wp_prior_load(model_path, &p, NULL), WP_OK); /* gray */
    enum { EW = 64, EH = 48 };
    wpj_image ex, out = {0};
    ck_assert_int_eq(wpj_image_alloc(&ex, 3, EH, EW), 0); /* a colour selection */
    double mean = 0;
    for (int y = 0; y < EH; y++)
        for (int x = 0; x < EW; x++)
            for (int c = 0; c < 3; c++) {
                float v = 0.3f + 0.1f * c + 0.2f * ((x / 4 + y / 4) % 2);
                ex.px[(c * EH + y) * EW + x] = v;
                mean += v / (3.0 * EW * EH);
            }
    s.width = 96, s.height = 80, s.seed = 2;
    wpj_batch b = {.kind = WPJ_SAMPLE, .s = &s, .prior = p, .n = 1, .in = &ex, .out = &out};
    ck_assert_int_eq(wpj_batch_wait(&b), WP_OK);
    ck_assert(out.px && out.c == 1 && out.w == 96 && out.h == 80);
    double m = 0;
    for (int i = 0; i < 96 * 80; i++)
        m += out.px[i] / (96.0 * 80);
    ck_assert_double_eq_tol(m, mean, 0.03);
    wpj_batch_free(&b);

    wpj_image none = {NULL, 0, 48, 64};
    wpj_batch e = {.kind = WPJ_SAMPLE, .s = &s, .prior = p, .n = 1, .in = &none, .out = &out};
    ck_assert_int_eq(wpj_batch_wait(&e), WP_ERR_ARG);
    ck_assert(strstr(e.err, "texture"));
    ck_assert_ptr_null(out.px);
    wpj_image_free(&ex);
    wp_prior_free(p);
}
END_TEST

/* A smooth test pattern with some texture, values in [0.1, 0.9]. */
static void pattern(float *px, int H, int W)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            px[y * W + x] = 0.5f + 0.25f * sinf(x / 5.0f) * cosf(y / 7.0f) + 0.15f * (x - y) / (W + H);
}

/* A heal of a small selection reads only its surroundings and fills
 * exactly what the engine fills on the whole layer; pixels outside the
 * selection stay bit-identical; a feathered edge blends; no selection is
 * an error. */
START_TEST(heal_crop_equals_whole)
{
    enum { W = 320, H = 240, SX = 201, SY = 77, SW = 19, SH = 11 };
    wp_prior *p;
    ck_assert_int_eq(wp_prior_load(model_path, &p, NULL), WP_OK);
    float *full = g_new(float, W * H), *ref = g_new(float, W * H);
    uint8_t *mask = g_new0(uint8_t, W * H);
    pattern(full, H, W);
    for (int y = SY; y < SY + SH; y++)
        for (int x = SX; x < SX + SW; x++)
            mask[y * W + x] = 1;
    wp_inpaint_options io = {.mode = WP_INPAINT_FAST, .seed = 3};
    char err[WP_ERRLEN];
    ck_assert_int_eq(wp_inpaint(p, full, mask, ref, 1, H, W, &io, NULL, err), WP_OK);

    int rx, ry, rw, rh;
    wpj_heal_context(p, SX, SY, SW, SH, W, H, &rx, &ry, &rw, &rh);
    ck_assert(rx <= SX && ry <= SY && rx + rw >= SX + SW && ry + rh >= SY + SH);
    ck_assert(rw < W && rh < H); /* only the surroundings */
    wpj_image in, out = {0};
    ck_assert_int_eq(wpj_image_alloc(&in, 2, rh, rw), 0);
    for (int y = 0; y < rh; y++)
        for (int x = 0; x < rw; x++) {
            in.px[y * rw + x] = full[(ry + y) * W + rx + x];
            in.px[rh * rw + y * rw + x] = mask[(ry + y) * W + rx + x];
        }
    wpj_settings s;
    wpj_settings_defaults(&s);
    s.seed = 3;
    wpj_batch b = {.kind = WPJ_HEAL, .s = &s, .prior = p, .n = 1, .in = &in, .out = &out};
    ck_assert_int_eq(wpj_batch_wait(&b), WP_OK);
    ck_assert(out.px && out.c == 1 && out.w == rw && out.h == rh);
    int changed = 0;
    for (int y = 0; y < rh; y++)
        for (int x = 0; x < rw; x++) {
            float v = out.px[y * rw + x];
            ck_assert_float_eq(v, ref[(ry + y) * W + rx + x]);
            if (!mask[(ry + y) * W + rx + x])
                ck_assert_float_eq(v, in.px[y * rw + x]);
            else
                changed += fabsf(v - in.px[y * rw + x]) > 1.0f / 255;
        }
    ck_assert_int_gt(changed, SW * SH / 4);

    /* a feathered edge: half way between the input and the fill */
    int at = (SY - ry + 2) * rw + SX - rx + 3;
    in.px[rh * rw + at] = 0.5f;
    float fill = out.px[at], orig = in.px[at];
    out.px[0] = 0.25f; /* outside the selection: back to the input */
    wpj_heal_blend(&out, &in);
    ck_assert_float_eq_tol(out.px[at], 0.5f * (fill + orig), 1e-6);
    ck_assert_float_eq(out.px[0], in.px[0]);
    uint8_t *m = g_new(uint8_t, rw * rh);
    ck_assert_uint_eq(wpj_heal_mask(&in, m), SW * SH);
    wpj_batch_free(&b);

    /* nothing selected: an error that says so, no output */
    memset(in.px + rh * rw, 0, sizeof(float) * rh * rw);
    wpj_batch e = {.kind = WPJ_HEAL, .s = &s, .prior = p, .n = 1, .in = &in, .out = &out};
    ck_assert_int_eq(wpj_batch_wait(&e), WP_ERR_ARG);
    ck_assert(strstr(e.err, "select"));
    ck_assert_ptr_null(out.px);
    ck_assert_uint_eq(wpj_heal_mask(&in, m), 0);
    g_free(m);
    wpj_image_free(&in);
    g_free(full);
    g_free(ref);
    g_free(mask);
    wp_prior_free(p);
}
END_TEST

int main(void)
{
    setup_dirs();
    Suite *s = suite_create("plugin_core");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, settings_ranges);
    tcase_add_test(tc, descriptors);
    tcase_add_test(tc, upscale_targets);
    tcase_add_test(tc, canvas_fit);
    tcase_add_test(tc, cli_takes_the_plugin_ranges);
    tcase_add_test(tc, pixel_helpers);
    tcase_add_test(tc, model_choice);
    tcase_add_test(tc, interleaved_round_trip);
    tcase_add_test(tc, channel_conversion);
    tcase_add_test(tc, output_sizes_and_budget);
    tcase_add_test(tc, model_folders);
    tcase_add_test(tc, fast_route_of_the_shipped_models);
    tcase_add_test(tc, denoise_quality_routes);
    tcase_add_test(tc, batch_runs_and_cancels);
    tcase_add_test(tc, heal_crop_equals_whole);
    tcase_add_test(tc, texture_from_selection);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK); /* the folder set-up is shared */
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        failed++;
    g_free(cmd);
    return failed ? 1 : 0;
}
