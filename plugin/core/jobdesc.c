/* jobdesc.c: what each job takes, declared once (the ranges and defaults
 * that `wprior` shares come from wprior.h). */
#include <glib.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "jobs.h"
#include "wp_i18n.h"

#define OFF(field) offsetof(wpj_settings, field)

#define MODEL_PARAM                                                                          \
    {"model", WPJ_ARG_MODEL, 0, 0, 0, OFF(model), N_("_Model:"),                             \
     N_("Prior: a model file path, or the file or metadata name of a model in "              \
        "$WPRIOR_MODEL_PATH, ~/.config/wavelet-prior/models or the installed models folder; " \
        "\"\" = the shipped one for the job"), 0, 0, NULL, NULL}

#define SEED_PARAM                                                                           \
    {"seed", WPJ_ARG_INT, 0, G_MAXINT32, 0, OFF(seed), N_("S_eed:"),                         \
     N_("Random seed (>= 0)"), 0, 0, NULL, NULL}

static const int passes_values[] = {1, 4, 8};
static const char *const passes_labels[] = {N_("1 (fast)"), N_("4 (better, 4 times slower)"),
                                            N_("8 (best, 8 times slower)")};

/* Denoising quality: a prior whose den denoises the image itself can run
 * it on the half-size low-pass instead (wp_denoise_options.fast) or run
 * both and blend them by the noise (wp_denoise_options.blend). */
static const int denoise_quality_values[] = {WPJ_QUALITY_DRAFT, WPJ_QUALITY_NORMAL,
                                             WPJ_QUALITY_FINE};
static const char *const denoise_quality_labels[] = {
    N_("Fast (2-3 times faster)"), N_("Normal"), N_("Best (strong noise: 1.4 times slower)")};

static const wpj_param denoise_params[] = {
    MODEL_PARAM,
    {"strength", WPJ_ARG_DOUBLE, WP_STRENGTH_MIN, WP_STRENGTH_MAX, WP_STRENGTH_DEFAULT,
     OFF(strength), N_("_Strength:"),
     N_("0..1: 1 = fully denoised, 0 = unchanged, blended in between"), 0, 0, NULL, NULL},
    {"passes", WPJ_ARG_INT, 1, WP_ENSEMBLE_MAX, WP_ENSEMBLE_DEFAULT, OFF(passes), N_("_Passes:"),
     N_("1..32: the mean of that many passes over the layer moved by a pixel (4 ways), then "
        "turned and mirrored (4: better, 4 times slower)"),
     3, 0, passes_values, passes_labels},
    {"quality", WPJ_ARG_INT, WPJ_QUALITY_DRAFT, WPJ_QUALITY_FINE, WPJ_QUALITY_NORMAL,
     OFF(quality), N_("_Quality:"),
     N_("0 = fast (the photo priors denoise a half-size image and then its details: 2-3 "
        "times faster, up to 2 dB lower), 1 = normal, 2 = best (on noisy images they do "
        "both and blend them by the noise: up to 1.4 times slower, better on strong noise)"),
     3, 1, denoise_quality_values, denoise_quality_labels},
};

static const int factor_values[] = {2, 4, 8};
static const char *const factor_labels[] = {N_("2x"), N_("4x"), N_("8x")};
static const int mode_values[] = {WP_UPSCALE_FAST, WP_UPSCALE_SHARP};
static const char *const mode_labels[] = {N_("Fast (faithful)"), N_("Sharp (a sample)")};
/* Layer > Upscale: the layer in place or into a new image; 1 (the whole
 * image, as Image > Upscale does) is still taken from scripts. */
static const int target_values[] = {WPJ_TARGET_LAYER, WPJ_TARGET_NEW_IMAGE};
static const char *const target_labels[] = {N_("In place"), N_("Into a new image")};
static const int canvas_values[] = {0, 1};
static const char *const canvas_labels[] = {N_("Keep its size"), N_("Grow to fit the layer")};

#define UPSCALE_PARAMS                                                                       \
    MODEL_PARAM,                                                                             \
    {"factor", WPJ_ARG_INT, WP_FACTOR_MIN, WP_FACTOR_MAX, WP_FACTOR_DEFAULT, OFF(factor),    \
     N_("_Factor:"), N_("Upscale factor: 2, 4 or 8"), 3, 1, factor_values, factor_labels},   \
    {"mode", WPJ_ARG_INT, WP_UPSCALE_FAST, WP_UPSCALE_SHARP, WP_UPSCALE_FAST, OFF(sharp),    \
     N_("M_ode:"),                                                                           \
     N_("0 = fast (close to the posterior mean), 1 = sharp (a sample from the prior)"), 2, 1, \
     mode_values, mode_labels},                                                              \
    {"passes", WPJ_ARG_INT, 1, WP_UPSCALE_PASSES_MAX, 1, OFF(passes), N_("_Passes:"),         \
     N_("1..8: the mean of that many passes over the layer turned and mirrored (in fast "    \
        "mode closer to the most likely image; 4: better, 4 times slower)"),                 \
     3, 0, passes_values, passes_labels},                                                    \
    SEED_PARAM

static const wpj_param upscale_params[] = {
    UPSCALE_PARAMS,
    {"target", WPJ_ARG_INT, 0, 2, WPJ_TARGET_LAYER, OFF(target), N_("_Upscale:"),
     N_("0 = the active layer in place (its top-left corner stays), 2 = the active layer into "
        "a new image (1 = the whole image, as plug-in-wprior-upscale-image)"),
     2, 0, target_values, target_labels},
    {"grow-canvas", WPJ_ARG_INT, 0, 1, 1, OFF(grow_canvas), N_("C_anvas:"),
     N_("1 = grow the canvas to fit the enlarged layer when it does not (the other layers keep "
        "their place), 0 = keep the canvas"),
     2, 1, canvas_values, canvas_labels},
};

static const wpj_param upscale_image_params[] = {UPSCALE_PARAMS};

static const int quality_values[] = {WPJ_QUALITY_DRAFT, WPJ_QUALITY_NORMAL, WPJ_QUALITY_FINE};
static const char *const quality_labels[] = {N_("Draft"), N_("Normal"), N_("Fine")};
static const int tiling_values[] = {WPJ_TILING_MODEL, WPJ_TILING_ON, WPJ_TILING_OFF};
static const char *const tiling_labels[] = {N_("As the model says"), N_("Tileable"),
                                            N_("Not tileable")};

static const wpj_param sample_params[] = {
    MODEL_PARAM,
    {"width", WPJ_ARG_INT, 0, WP_SAMPLE_SIDE_MAX, 0, OFF(width), N_("_Width:"),
     N_("Sample width; 0 (with height 0) = the model's own size"), 0, 0, NULL, NULL},
    {"height", WPJ_ARG_INT, 0, WP_SAMPLE_SIDE_MAX, 0, OFF(height), N_("_Height:"),
     N_("Sample height; 0 = the model's own size"), 0, 0, NULL, NULL},
    SEED_PARAM,
    {"quality", WPJ_ARG_INT, 0, 2, WPJ_QUALITY_NORMAL, OFF(quality), N_("_Quality:"),
     N_("Sampler quality: 0 = draft, 1 = normal, 2 = fine (slower)"), 3, 1, quality_values,
     quality_labels},
    {"tiling", WPJ_ARG_INT, 0, 2, WPJ_TILING_MODEL, OFF(tiling), N_("_Tiling:"),
     N_("0 = as the model's metadata says (texture priors tile), 1 = tileable (wraps around "
        "seamlessly), 2 = not tileable"),
     3, 1, tiling_values, tiling_labels},
};

/* The sample's size and tiling, the seed; no quality: a texture's
 * sampler is the sharp upscale's. */
static const wpj_param texture_params[] = {
    MODEL_PARAM,
    {"width", WPJ_ARG_INT, 0, WP_SAMPLE_SIDE_MAX, 0, OFF(width), N_("_Width:"),
     N_("Texture width; 0 (with height 0) = the layer's"), 0, 0, NULL, NULL},
    {"height", WPJ_ARG_INT, 0, WP_SAMPLE_SIDE_MAX, 0, OFF(height), N_("_Height:"),
     N_("Texture height; 0 = the layer's"), 0, 0, NULL, NULL},
    SEED_PARAM,
    {"tiling", WPJ_ARG_INT, 0, 2, WPJ_TILING_MODEL, OFF(tiling), N_("_Tiling:"),
     N_("0 = as the model's metadata says (the photo priors do not tile), 1 = tileable (wraps "
        "around seamlessly), 2 = not tileable"),
     3, 1, tiling_values, tiling_labels},
};

static const char *const heal_mode_labels[] = {N_("Fast (smooth, most likely)"),
                                               N_("Sharp (a sample, with texture)")};

static const wpj_param heal_params[] = {
    MODEL_PARAM,
    {"mode", WPJ_ARG_INT, 0, 1, 0, OFF(sharp), N_("M_ode:"),
     N_("0 = fast (the most likely fill: smooth, best on thin scratches and small spots), "
        "1 = sharp (a sample from the prior: texture that continues around the hole)"),
     2, 1, mode_values, heal_mode_labels},
    SEED_PARAM,
};

static int sample_check(const wpj_settings *s, char *err, int errlen)
{
    if ((s->width == 0) != (s->height == 0)) {
        g_snprintf(err, errlen, _("The sample size must be 0x0 (the model's own) or at most %dx%d."),
                   WP_SAMPLE_SIDE_MAX, WP_SAMPLE_SIDE_MAX);
        return -1;
    }
    return 0;
}

#define FITS(a) _Static_assert(G_N_ELEMENTS(a) <= WPJ_MAX_PARAMS, #a ": too many parameters")
FITS(denoise_params);
FITS(upscale_params);
FITS(upscale_image_params);
FITS(sample_params);
FITS(texture_params);
FITS(heal_params);
#undef FITS

static const wpj_desc descs[WPJ_NPROCS] = {
    [WPJ_DENOISE] = {WPJ_DENOISE, "plug-in-wprior-denoise", N_("Denoise (Wavelet Prior)"),
                     N_("_Denoise (Wavelet Prior)..."),
                     N_("Remove noise with a learned wavelet prior"),
                     N_("Blind denoising with a learned multi-scale wavelet prior: the noise level "
                        "is estimated from the image itself. Works on the active drawable, inside "
                        "the selection only (a feathered selection blends). Alpha is kept as it is."),
                     {"<Image>/Filters/Enhance", NULL}, N_("Denoising (Wavelet Prior)"),
                     denoise_params, G_N_ELEMENTS(denoise_params), 1, NULL, -1},
    [WPJ_UPSCALE] = {WPJ_UPSCALE, "plug-in-wprior-upscale", N_("Upscale Layer (Wavelet Prior)"),
                     N_("_Upscale (Wavelet Prior)..."),
                     N_("Upscale the layer with a learned wavelet prior"),
                     N_("Super-resolution of the active layer by 2, 4 or 8: the layer is taken as "
                        "the low-pass image of a wavelet pyramid and the finer details are drawn "
                        "from the prior. The layer grows in place (its top-left corner stays; the "
                        "canvas grows to fit it when asked) or goes into a new image. Alpha is "
                        "enlarged without interpolation."),
                     {"<Image>/Layer", NULL}, N_("Upscaling (Wavelet Prior)"),
                     upscale_params, G_N_ELEMENTS(upscale_params), 1, NULL, -1},
    [WPJ_SAMPLE] = {WPJ_SAMPLE, "plug-in-wprior-sample", N_("Sample from prior (Wavelet Prior)"),
                    N_("_Sample from prior (Wavelet Prior)..."),
                    N_("Draw a new image from a learned wavelet prior"),
                    N_("Synthesises an image from the prior by stochastic coarse-to-fine ascent and "
                       "adds it as a new layer on top of the active one."),
                    {"<Image>/Filters/Render", NULL}, N_("Sampling (Wavelet Prior)"),
                    sample_params, G_N_ELEMENTS(sample_params), 0, sample_check, -1},
    [WPJ_HEAL] = {WPJ_HEAL, "plug-in-wprior-heal", N_("Heal Selection (Wavelet Prior)"),
                  N_("_Heal Selection (Wavelet Prior)..."),
                  N_("Fill the selection from a learned wavelet prior"),
                  N_("Removes what is selected (a wire, a blemish, a scratch) and fills the hole "
                     "with what the prior finds most likely around it, coarse to fine. Only the "
                     "selection's surroundings are read; pixels outside the selection stay as "
                     "they are, and a feathered selection blends. Alpha is kept as it is."),
                  {"<Image>/Filters/Enhance", NULL}, N_("Healing (Wavelet Prior)"), heal_params,
                  G_N_ELEMENTS(heal_params), 1, NULL, -1},
    [WPJ_NKINDS] = {WPJ_UPSCALE, "plug-in-wprior-upscale-image", N_("Upscale Image (Wavelet Prior)"),
                    N_("_Upscale (Wavelet Prior)..."),
                    N_("Upscale the whole image with a learned wavelet prior"),
                    N_("Super-resolution of the whole image by 2, 4 or 8, as Image > Scale Image "
                       "does: the canvas grows by the factor and every layer is upscaled, its "
                       "offsets with it. Alpha is enlarged without interpolation."),
                    {"<Image>/Image", NULL}, N_("Upscaling (Wavelet Prior)"),
                    upscale_image_params, G_N_ELEMENTS(upscale_image_params), 1, NULL,
                    WPJ_TARGET_IMAGE},
    [WPJ_NKINDS + 1] = {WPJ_SAMPLE, "plug-in-wprior-texture", N_("Texture from Selection (Wavelet Prior)"),
                        N_("_Texture from Selection (Wavelet Prior)..."),
                        N_("Make more of the texture in the selection"),
                        N_("Synthesises a new image of the texture inside the selection of the active "
                           "layer (the whole layer when nothing is selected): its layout is "
                           "quilted from the selection's patches at half size, its finest details "
                           "are drawn from the prior. The result goes into a new layer over the "
                           "active one, the layer's size unless a size is given."),
                        {"<Image>/Filters/Render", NULL}, N_("Sampling (Wavelet Prior)"),
                        texture_params, G_N_ELEMENTS(texture_params), 1, sample_check, -1, 1},
};

const wpj_desc *wpj_describe(wpj_kind kind)
{
    return (int)kind >= 0 && kind < WPJ_NKINDS ? &descs[kind] : NULL;
}

const wpj_desc *wpj_proc(int i)
{
    return i >= 0 && i < WPJ_NPROCS ? &descs[i] : NULL;
}

const wpj_desc *wpj_describe_proc(const char *proc)
{
    for (int k = 0; k < WPJ_NPROCS; k++)
        if (proc && !strcmp(descs[k].proc, proc))
            return &descs[k];
    return NULL;
}

void wpj_desc_apply(const wpj_desc *d, wpj_settings *s)
{
    if (d->target >= 0)
        s->target = d->target;
    if (d->kind == WPJ_SAMPLE)
        s->exemplar = d->exemplar;
}

const wpj_param *wpj_param_find(const wpj_desc *d, const char *name)
{
    for (int i = 0; i < d->nparams; i++)
        if (!strcmp(d->params[i].name, name))
            return &d->params[i];
    return NULL;
}

double wpj_param_get(const wpj_param *p, const wpj_settings *s)
{
    const char *f = (const char *)s + p->offset;
    switch (p->type) {
    case WPJ_ARG_DOUBLE: return *(const double *)(const void *)f;
    case WPJ_ARG_INT: return *(const int *)(const void *)f;
    default: return 0.0;
    }
}

void wpj_param_set(const wpj_param *p, wpj_settings *s, double v)
{
    char *f = (char *)s + p->offset;
    switch (p->type) {
    case WPJ_ARG_DOUBLE: *(double *)(void *)f = v; break;
    case WPJ_ARG_INT: *(int *)(void *)f = (int)lround(v); break;
    default: break;
    }
}

int wpj_param_ok(const wpj_param *p, double v)
{
    if (!(v >= p->min && v <= p->max))
        return 0;
    if (!p->strict)
        return 1;
    for (int i = 0; i < p->nchoices; i++)
        if (p->values[i] == v)
            return 1;
    return 0;
}

void wpj_settings_defaults(wpj_settings *s)
{
    memset(s, 0, sizeof *s);
    for (int k = 0; k < WPJ_NPROCS; k++)
        for (int i = 0; i < descs[k].nparams; i++)
            wpj_param_set(&descs[k].params[i], s, descs[k].params[i].def);
}

/* "2, 4 or 8" */
static char *values_text(const wpj_param *p)
{
    GString *t = g_string_new("");
    for (int i = 0; i < p->nchoices; i++)
        g_string_append_printf(t, "%s%d", i == 0 ? "" : i == p->nchoices - 1 ? _(" or ") : ", ",
                               p->values[i]);
    return g_string_free(t, FALSE);
}

int wpj_settings_check(wpj_kind kind, const wpj_settings *s, char *err, int errlen)
{
    const wpj_desc *d = wpj_describe(kind);
    for (int i = 0; i < d->nparams; i++) {
        const wpj_param *p = &d->params[i];
        if (p->type == WPJ_ARG_MODEL || wpj_param_ok(p, wpj_param_get(p, s)))
            continue;
        if (p->strict) {
            char *v = values_text(p);
            g_snprintf(err, errlen, _("The %s must be %s, not %g."), p->name, v,
                       wpj_param_get(p, s));
            g_free(v);
        } else {
            g_snprintf(err, errlen, _("The %s must be between %g and %g, not %g."), p->name,
                       p->min, p->max, wpj_param_get(p, s));
        }
        return -1;
    }
    return d->check ? d->check(s, err, errlen) : 0;
}
