/* gimp2_main.c: the GIMP 2.10 plug-in: PDB procedures, run modes,
 * settings kept between runs, and the errors GIMP shows. */
#include <string.h>

#include "gimp2.h"
#include "models.h"
#include "wp_i18n.h"

#define ARGS_COMMON                                                                          \
    {GIMP_PDB_INT32, "run-mode", "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1), " \
                                 "RUN-WITH-LAST-VALS (2) }"},                                \
    {GIMP_PDB_IMAGE, "image", "Input image"},                                                \
    {GIMP_PDB_DRAWABLE, "drawable", "Input drawable"},                                       \
    {GIMP_PDB_STRING, "model",                                                               \
     "Prior: a model file path, or the file or metadata name of a model in $WPRIOR_MODEL_PATH, " \
     "~/.config/wavelet-prior/models or the installed models folder; \"\" = the first found"}

static const GimpParamDef denoise_args[] = {
    ARGS_COMMON,
    {GIMP_PDB_FLOAT, "strength", "0..1: 1 = fully denoised, 0 = unchanged, blended in between"},
    {GIMP_PDB_INT32, "passes", "1..32: the mean of that many passes over the layer moved by a pixel "
                               "(4 ways), then turned and mirrored (4: better, 4 times slower)"},
};

static const GimpParamDef upscale_args[] = {
    ARGS_COMMON,
    {GIMP_PDB_INT32, "factor", "Upscale factor: 2, 4 or 8"},
    {GIMP_PDB_INT32, "mode", "0 = fast (close to the posterior mean), 1 = sharp (a sample from the prior)"},
    {GIMP_PDB_INT32, "seed", "Random seed (>= 0) of the sharp mode"},
    {GIMP_PDB_INT32, "target", "0 = the active layer (its top-left corner stays), 1 = the whole image "
                               "(canvas, every layer and their offsets), 2 = the active layer into a new image"},
};

static const GimpParamDef upscale_rets[] = {
    {GIMP_PDB_IMAGE, "new-image", "The new image (target 2), else -1"},
};

static const GimpParamDef sample_args[] = {
    ARGS_COMMON,
    {GIMP_PDB_INT32, "width", "Sample width; 0 (with height 0) = the model's own size"},
    {GIMP_PDB_INT32, "height", "Sample height; 0 = the model's own size"},
    {GIMP_PDB_INT32, "seed", "Random seed (>= 0)"},
    {GIMP_PDB_INT32, "quality", "Sampler quality: 0 = draft, 1 = normal, 2 = fine (slower)"},
    {GIMP_PDB_INT32, "tiling", "0 = as the model's metadata says (texture priors tile), "
                               "1 = tileable (wraps around seamlessly), 2 = not tileable"},
};

static const GimpParamDef sample_rets[] = {
    {GIMP_PDB_LAYER, "layer", "The new layer holding the sample"},
};

typedef struct {
    const char *name;
    wpj_kind kind;
    const char *blurb, *help, *label;
    const char *menus[2];
    const GimpParamDef *args, *rets;
    int nargs, nrets;
} wg_proc;

static const wg_proc procs[] = {
    {"plug-in-wprior-denoise", WPJ_DENOISE, N_("Remove noise with a learned wavelet prior"),
     N_("Blind denoising with a learned multi-scale wavelet prior: the noise level is estimated from "
     "the image itself. Works on the active drawable, inside the selection only (a feathered "
     "selection blends). Alpha is kept as it is."),
     N_("_Denoise (Wavelet Prior)..."), {"<Image>/Filters/Enhance", NULL}, denoise_args, NULL,
     G_N_ELEMENTS(denoise_args), 0},
    {"plug-in-wprior-upscale", WPJ_UPSCALE, N_("Upscale with a learned wavelet prior"),
     N_("Super-resolution by 2, 4 or 8: the layer is taken as the low-pass image of a wavelet pyramid "
     "and the finer details are drawn from the prior. Upscales the active layer, the whole image "
     "or the active layer into a new image. Alpha is enlarged without interpolation."),
     N_("_Upscale (Wavelet Prior)..."), {"<Image>/Layer", "<Image>/Image"}, upscale_args,
     upscale_rets, G_N_ELEMENTS(upscale_args), G_N_ELEMENTS(upscale_rets)},
    {"plug-in-wprior-sample", WPJ_SAMPLE, N_("Draw a new image from a learned wavelet prior"),
     N_("Synthesises an image from the prior by stochastic coarse-to-fine ascent and adds it as a "
     "new layer on top of the active one."),
     N_("_Sample from prior (Wavelet Prior)..."), {"<Image>/Filters/Render", NULL}, sample_args,
     sample_rets, G_N_ELEMENTS(sample_args), G_N_ELEMENTS(sample_rets)},
};

static void query(void)
{
    gimp_plugin_domain_register(GETTEXT_PACKAGE, LOCALEDIR);
    for (size_t i = 0; i < G_N_ELEMENTS(procs); i++) {
        const wg_proc *p = &procs[i];
        gimp_install_procedure(p->name, p->blurb, p->help, "Wavelet Prior authors",
                               "Wavelet Prior authors", "2024", p->label, "RGB*, GRAY*",
                               GIMP_PLUGIN, p->nargs, p->nrets, p->args, p->rets);
        for (int m = 0; m < 2 && p->menus[m]; m++)
            gimp_plugin_menu_register(p->name, p->menus[m]);
    }
}

static const wg_proc *find_proc(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(procs); i++)
        if (!strcmp(procs[i].name, name))
            return &procs[i];
    return NULL;
}

/* Settings from a non-interactive call's arguments. */
static void settings_from_params(const wg_proc *p, const GimpParam *param, wpj_settings *s)
{
    g_strlcpy(s->model, param[3].data.d_string ? param[3].data.d_string : "", sizeof s->model);
    if (p->kind == WPJ_DENOISE) {
        s->strength = param[4].data.d_float;
        s->passes = param[5].data.d_int32;
    } else if (p->kind == WPJ_UPSCALE) {
        s->factor = param[4].data.d_int32;
        s->sharp = param[5].data.d_int32;
        s->seed = param[6].data.d_int32;
        s->target = param[7].data.d_int32;
    } else {
        s->width = param[4].data.d_int32;
        s->height = param[5].data.d_int32;
        s->seed = param[6].data.d_int32;
        s->quality = param[7].data.d_int32;
        s->tiling = param[8].data.d_int32;
    }
}

static void last_settings(const wg_proc *p, wpj_settings *s)
{
    wpj_settings_defaults(s);
    if (gimp_get_data_size(p->name) == (gint)sizeof *s)
        gimp_get_data(p->name, s);
    s->model[WPJ_MODEL_LEN - 1] = '\0';
}

/* The installed models: each one is loaded to be described, so a run
 * scans the folders once. */
static const wpm_list *run_models(wg_run *run)
{
    if (!run->scanned)
        wpm_scan(&run->models), run->scanned = 1;
    return &run->models;
}

/* Shows the job's dialog: 1 OK, 0 cancelled, -1 no display. */
static int show_dialog(const wg_proc *p, wg_run *run)
{
    if (wp_ui_init())
        return -1;
    const wpm_list *models = run_models(run);
    wg_drawable d;
    wp_ui_source src = {0};
    if (p->kind != WPJ_SAMPLE) { /* a sample needs no pixels (nor a drawable) */
        wg_drawable_open(&d, run->drawable);
        wg_ui_source(&d, &src);
    }
    src.parent = run->parent;
    return p->kind == WPJ_DENOISE   ? wp_ui_denoise_dialog(&run->s, models, &src)
           : p->kind == WPJ_UPSCALE ? wp_ui_upscale_dialog(&run->s, models, &src)
                                    : wp_ui_sample_dialog(&run->s, models, &src, &run->ready);
}

/* No model chosen yet: $WPRIOR_MODEL (as in the CLI), else the shipped one
 * for the job (photo-color, photo-gray on gray layers, the stone texture
 * for samples) when it is installed, else wpm_find's first model. */
static void prefer_shipped(const wg_proc *p, wg_run *run)
{
    if (run->s.model[0])
        return;
    const char *env = g_getenv("WPRIOR_MODEL");
    if (env && *env) {
        g_strlcpy(run->s.model, env, sizeof run->s.model);
        return;
    }
    int gray = p->kind != WPJ_SAMPLE && gimp_drawable_is_gray(run->drawable);
    const char *name = wpm_preferred(p->kind == WPJ_SAMPLE, gray);
    if (wpm_find(run_models(run), name) >= 0)
        g_strlcpy(run->s.model, name, sizeof run->s.model);
}

/* Fills run->s for the run mode; a GIMP status. */
static GimpPDBStatusType get_settings(const wg_proc *p, gint nparams, const GimpParam *param,
                                      wg_run *run)
{
    last_settings(p, &run->s);
    if (run->mode == GIMP_RUN_NONINTERACTIVE) {
        if (nparams != p->nargs) {
            g_snprintf(run->err, sizeof run->err, _("%s needs %d arguments, not %d."), p->name,
                       p->nargs, nparams);
            return GIMP_PDB_CALLING_ERROR;
        }
        settings_from_params(p, param, &run->s);
        prefer_shipped(p, run);
    } else if (run->mode == GIMP_RUN_INTERACTIVE) {
        prefer_shipped(p, run);
        int ok = show_dialog(p, run);
        if (ok < 0)
            g_snprintf(run->err, sizeof run->err, _("Cannot open the display."));
        if (ok <= 0)
            return ok < 0 ? GIMP_PDB_EXECUTION_ERROR : GIMP_PDB_CANCEL;
    }
    if (wpj_settings_check(p->kind, &run->s, run->err, sizeof run->err))
        return GIMP_PDB_CALLING_ERROR;
    return GIMP_PDB_SUCCESS;
}

static GimpPDBStatusType load_prior(wg_run *run)
{
    char err[WP_ERRLEN];
    /* An explicit path needs no scan; else reuse the dialog's, if any. */
    char *path = wpm_resolve_in(run->scanned ? &run->models : NULL, run->s.model, err, sizeof err);
    if (!path) {
        g_snprintf(run->err, sizeof run->err, "%s", err);
        return GIMP_PDB_EXECUTION_ERROR;
    }
    wp_status st = wp_prior_load(path, &run->prior, err);
    if (st != WP_OK)
        g_snprintf(run->err, sizeof run->err, _("Cannot use the model %s: %s"), path, err);
    g_free(path);
    return st == WP_OK ? GIMP_PDB_SUCCESS : GIMP_PDB_EXECUTION_ERROR;
}

static GimpPDBStatusType execute(const wg_proc *p, wg_run *run)
{
    if (gimp_image_base_type(run->image) == GIMP_INDEXED) {
        g_snprintf(run->err, sizeof run->err,
                   _("Indexed images are not supported: convert the image to RGB or grayscale."));
        return GIMP_PDB_EXECUTION_ERROR;
    }
    GimpPDBStatusType status = load_prior(run);
    if (status != GIMP_PDB_SUCCESS)
        return status;
    wp_status st = p->kind == WPJ_DENOISE   ? wg_denoise(run)
                   : p->kind == WPJ_UPSCALE ? wg_upscale(run)
                                            : wg_sample(run);
    wp_prior_free(run->prior);
    run->prior = NULL;
    gimp_progress_end();
    if (st == WP_ERR_CANCELLED)
        return GIMP_PDB_CANCEL;
    return st == WP_OK ? GIMP_PDB_SUCCESS : GIMP_PDB_EXECUTION_ERROR;
}

static void run(const gchar *name, gint nparams, const GimpParam *param, gint *nreturn_vals,
                GimpParam **return_vals)
{
    static GimpParam values[2];
    static char message[WP_ERRLEN];
    wg_run r = {.result = -1};
    const wg_proc *p = find_proc(name);
    wp_i18n_init();
    gegl_init(NULL, NULL);
    gimp_plugin_enable_precision();
    *return_vals = values;
    *nreturn_vals = 1;
    values[0].type = GIMP_PDB_STATUS;
    if (!p || nparams < 3) {
        values[0].data.d_status = GIMP_PDB_CALLING_ERROR;
        return;
    }
    r.mode = param[0].data.d_int32;
    r.image = param[1].data.d_image;
    r.drawable = param[2].data.d_drawable;
    if (r.mode == GIMP_RUN_INTERACTIVE)
        r.parent = (unsigned long)gimp_progress_get_window_handle();
    GimpPDBStatusType status = get_settings(p, nparams, param, &r);
    if (status == GIMP_PDB_SUCCESS)
        status = execute(p, &r);
    if (status == GIMP_PDB_SUCCESS) {
        gimp_set_data(p->name, &r.s, sizeof r.s);
        if (r.mode != GIMP_RUN_NONINTERACTIVE)
            gimp_displays_flush();
    }
    wpj_image_free(&r.ready);
    wpm_list_free(&r.models);
    values[0].data.d_status = status;
    if (status == GIMP_PDB_SUCCESS && p->nrets > 0) {
        /* IMAGE and LAYER ids share the int32 slot. */
        values[1].type = p->rets[0].type;
        values[1].data.d_int32 = r.result;
        *nreturn_vals = 2;
    } else if (status != GIMP_PDB_SUCCESS && r.err[0]) {
        g_strlcpy(message, r.err, sizeof message);
        values[1].type = GIMP_PDB_STRING;
        values[1].data.d_string = message;
        *nreturn_vals = 2;
    }
}

const GimpPlugInInfo PLUG_IN_INFO = {NULL, NULL, query, run};

MAIN()
