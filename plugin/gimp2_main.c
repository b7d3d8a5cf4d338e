/* gimp2_main.c: the GIMP 2.10 plug-in: PDB procedures, run modes,
 * settings kept between runs, and the errors GIMP shows. */
#include <gtk/gtk.h>
#include <string.h>
#ifdef GDK_WINDOWING_X11
#include <gdk/gdkx.h>
#endif

#include "gimp2.h"
#include "models.h"
#include "wp_i18n.h"

static const GimpParamDef upscale_rets[] = {
    {GIMP_PDB_IMAGE, "new-image", "The new image (target 2), else -1"},
};

static const GimpParamDef sample_rets[] = {
    {GIMP_PDB_LAYER, "layer", "The new layer holding the sample"},
};

#define NCOMMON 3 /* run-mode, image, drawable */

void wg_attach(GtkWindow *win, void *data)
{
#ifdef GDK_WINDOWING_X11
    const wg_run *run = data;
    GdkDisplay *disp = gtk_widget_get_display(GTK_WIDGET(win));
    GdkWindow *own = gtk_widget_get_window(GTK_WIDGET(win));
    if (!run->parent || !GDK_IS_X11_DISPLAY(disp) || !own)
        return;
    GdkWindow *host = gdk_x11_window_foreign_new_for_display(disp, (Window)run->parent);
    if (host) {
        wp_ui_place_over(win, host);
        g_object_unref(host);
    }
#else
    (void)win;
    (void)data;
#endif
}

/* The PDB arguments of a job: the common three, then its descriptor's. */
static GimpParamDef *pdb_args(const wpj_desc *d)
{
    GimpParamDef *a = g_new0(GimpParamDef, NCOMMON + d->nparams);
    a[0] = (GimpParamDef){GIMP_PDB_INT32, "run-mode",
                          "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1), "
                          "RUN-WITH-LAST-VALS (2) }"};
    a[1] = (GimpParamDef){GIMP_PDB_IMAGE, "image", "Input image"};
    a[2] = (GimpParamDef){GIMP_PDB_DRAWABLE, "drawable", "Input drawable"};
    for (int i = 0; i < d->nparams; i++) {
        const wpj_param *p = &d->params[i];
        a[NCOMMON + i].type = p->type == WPJ_ARG_MODEL    ? GIMP_PDB_STRING
                              : p->type == WPJ_ARG_DOUBLE ? GIMP_PDB_FLOAT
                                                          : GIMP_PDB_INT32;
        a[NCOMMON + i].name = (gchar *)p->name;
        a[NCOMMON + i].description = (gchar *)p->help;
    }
    return a;
}

static void pdb_rets(wpj_kind kind, const GimpParamDef **rets, int *n)
{
    switch (kind) {
    case WPJ_UPSCALE: *rets = upscale_rets, *n = G_N_ELEMENTS(upscale_rets); break;
    case WPJ_SAMPLE: *rets = sample_rets, *n = G_N_ELEMENTS(sample_rets); break;
    default: *rets = NULL, *n = 0; break;
    }
}

static void query(void)
{
    gimp_plugin_domain_register(GETTEXT_PACKAGE, LOCALEDIR);
    char *help = wp_ui_help_dir(), *uri = help ? g_filename_to_uri(help, NULL, NULL) : NULL;
    if (uri) /* GIMP's help (F1 on our menu items) finds help/en/gimp-help.xml */
        gimp_plugin_help_register(WP_HELP_DOMAIN, uri);
    g_free(uri);
    g_free(help);
    for (int k = 0; k < WPJ_NKINDS; k++) {
        const wpj_desc *p = wpj_describe(k);
        const GimpParamDef *rets;
        int nrets;
        pdb_rets(p->kind, &rets, &nrets);
        GimpParamDef *args = pdb_args(p);
        gimp_install_procedure(p->proc, p->blurb, p->help, "Wavelet Prior authors",
                               "Wavelet Prior authors", "2024", p->menu_label, "RGB*, GRAY*",
                               GIMP_PLUGIN, NCOMMON + p->nparams, nrets, args, rets);
        g_free(args);
        for (int m = 0; m < 2 && p->menus[m]; m++)
            gimp_plugin_menu_register(p->proc, p->menus[m]);
    }
}

/* Settings from a non-interactive call's arguments. */
static void settings_from_params(const wpj_desc *d, const GimpParam *param, wpj_settings *s)
{
    for (int i = 0; i < d->nparams; i++) {
        const wpj_param *p = &d->params[i];
        const GimpParam *v = &param[NCOMMON + i];
        if (p->type == WPJ_ARG_MODEL)
            g_strlcpy(s->model, v->data.d_string ? v->data.d_string : "", sizeof s->model);
        else
            wpj_param_set(p, s, p->type == WPJ_ARG_DOUBLE ? v->data.d_float : v->data.d_int32);
    }
}

static void last_settings(const wpj_desc *p, wpj_settings *s)
{
    wpj_settings_defaults(s);
    if (gimp_get_data_size(p->proc) == (gint)sizeof *s)
        gimp_get_data(p->proc, s);
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

/* Shows the job's dialog: 1 OK, 0 cancelled, -1 no display, -2 nothing
 * to work on (run->err says why). */
static int show_dialog(const wpj_desc *p, wg_run *run)
{
    if (wp_ui_init())
        return -1;
    const wpm_list *models = run_models(run);
    wg_drawable d;
    wp_ui_source src = {0};
    if (p->kind != WPJ_SAMPLE) { /* a sample needs no pixels (nor a drawable) */
        wg_drawable_open(&d, run->drawable);
        wg_ui_source(&d, &src);
        if (p->kind == WPJ_HEAL && wg_heal_box(run, &src.sel_x, &src.sel_y, &src.sel_w, &src.sel_h))
            return -2;
    } else { /* a sample suggests the selection's or the image's size */
        gboolean sel;
        gint x1, y1, x2, y2;
        gimp_selection_bounds(run->image, &sel, &x1, &y1, &x2, &y2);
        src.width = sel ? x2 - x1 : gimp_image_width(run->image);
        src.height = sel ? y2 - y1 : gimp_image_height(run->image);
    }
    src.host = (wp_ui_host){wg_attach, run};
    switch (p->kind) {
    case WPJ_DENOISE: return wp_ui_denoise_dialog(&run->s, models, &src);
    case WPJ_UPSCALE: return wp_ui_upscale_dialog(&run->s, models, &src);
    case WPJ_SAMPLE: return wp_ui_sample_dialog(&run->s, models, &src, &run->ready);
    case WPJ_HEAL: return wp_ui_heal_dialog(&run->s, models, &src, &run->ready);
    default: return 0;
    }
}

static void prefer_shipped(const wpj_desc *p, wg_run *run)
{
    int gray = p->kind != WPJ_SAMPLE && gimp_drawable_is_gray(run->drawable);
    wpm_choose(run_models(run), run->s.model, sizeof run->s.model, p->kind == WPJ_SAMPLE, gray);
}

/* Fills run->s for the run mode; a GIMP status. */
static GimpPDBStatusType get_settings(const wpj_desc *p, gint nparams, const GimpParam *param,
                                      wg_run *run)
{
    last_settings(p, &run->s);
    if (run->mode == GIMP_RUN_NONINTERACTIVE) {
        if (nparams != NCOMMON + p->nparams) {
            g_snprintf(run->err, sizeof run->err, _("%s needs %d arguments, not %d."), p->proc,
                       NCOMMON + p->nparams, nparams);
            return GIMP_PDB_CALLING_ERROR;
        }
        settings_from_params(p, param, &run->s);
        prefer_shipped(p, run);
    } else if (run->mode == GIMP_RUN_INTERACTIVE) {
        prefer_shipped(p, run);
        int ok = show_dialog(p, run);
        if (ok == -1)
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

static GimpPDBStatusType execute(const wpj_desc *p, wg_run *run)
{
    if (gimp_image_base_type(run->image) == GIMP_INDEXED) {
        g_snprintf(run->err, sizeof run->err,
                   _("Indexed images are not supported: convert the image to RGB or grayscale."));
        return GIMP_PDB_EXECUTION_ERROR;
    }
    GimpPDBStatusType status = load_prior(run);
    if (status != GIMP_PDB_SUCCESS)
        return status;
    wp_status st = WP_ERR_ARG;
    switch (p->kind) {
    case WPJ_DENOISE: st = wg_denoise(run); break;
    case WPJ_UPSCALE: st = wg_upscale(run); break;
    case WPJ_SAMPLE: st = wg_sample(run); break;
    case WPJ_HEAL: st = wg_heal(run); break;
    default: break;
    }
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
    const wpj_desc *p = wpj_describe_proc(name);
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
        gimp_set_data(p->proc, &r.s, sizeof r.s);
        if (r.mode != GIMP_RUN_NONINTERACTIVE)
            gimp_displays_flush();
    }
    wpj_image_free(&r.ready);
    wpm_list_free(&r.models);
    values[0].data.d_status = status;
    const GimpParamDef *rets;
    int nrets;
    pdb_rets(p->kind, &rets, &nrets);
    if (status == GIMP_PDB_SUCCESS && nrets > 0) {
        /* IMAGE and LAYER ids share the int32 slot. */
        values[1].type = rets[0].type;
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
