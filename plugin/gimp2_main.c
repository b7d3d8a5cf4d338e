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

/* run.c numbers a run's outcome as GIMP numbers its statuses. */
G_STATIC_ASSERT(WG_SUCCESS == (int)GIMP_PDB_SUCCESS && WG_CANCEL == (int)GIMP_PDB_CANCEL &&
                WG_CALLING_ERROR == (int)GIMP_PDB_CALLING_ERROR &&
                WG_EXECUTION_ERROR == (int)GIMP_PDB_EXECUTION_ERROR);

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

/* Layer > Upscale returns a new image (target 2), a sample its layer. */
static void pdb_rets(const wpj_desc *d, const GimpParamDef **rets, int *n)
{
    *rets = NULL, *n = 0;
    if (d->kind == WPJ_UPSCALE && d->target < 0)
        *rets = upscale_rets, *n = G_N_ELEMENTS(upscale_rets);
    else if (d->kind == WPJ_SAMPLE)
        *rets = sample_rets, *n = G_N_ELEMENTS(sample_rets);
}

static void query(void)
{
    gimp_plugin_domain_register(GETTEXT_PACKAGE, LOCALEDIR);
    char *help = wp_ui_help_dir(), *uri = help ? g_filename_to_uri(help, NULL, NULL) : NULL;
    if (uri) /* GIMP's help (F1 on our menu items) finds help/en/gimp-help.xml */
        gimp_plugin_help_register(WP_HELP_DOMAIN, uri);
    g_free(uri);
    g_free(help);
    for (int k = 0; k < WPJ_NPROCS; k++) {
        const wpj_desc *p = wpj_proc(k);
        const GimpParamDef *rets;
        int nrets;
        pdb_rets(p, &rets, &nrets);
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

/* Shows the job's dialog: WP_OK, WP_ERR_CANCELLED, or another status with
 * run->c.err saying why it cannot (no display, nothing to heal). */
static wp_status show_dialog(void *data)
{
    wg_run *run = data;
    const wpj_desc *p = run->c.desc;
    wg_drawable d;
    wg_rect box = {0};
    if (wg_ui_start(&run->c))
        return WP_ERR_IO;
    if (p->needs_input)
        wg_drawable_open(&d, run->drawable);
    else /* a sample suggests the selection's or the image's size */
        wg_sample_box(run, &box.x, &box.y, &box.w, &box.h);
    if (p->kind == WPJ_HEAL && wg_heal_box(run, &box.x, &box.y, &box.w, &box.h))
        return WP_ERR_ARG;
    if (p->exemplar && wg_texture_box(run, &box.x, &box.y, &box.w, &box.h))
        return WP_ERR_ARG;
    return wg_dialog(&run->c, p->needs_input ? &d : NULL, box, (wp_ui_host){wg_attach, run});
}

static GimpPDBStatusType get_settings(const wpj_desc *p, gint nparams, const GimpParam *param,
                                      wg_run *run)
{
    last_settings(p, &run->c.s);
    if (run->mode == GIMP_RUN_NONINTERACTIVE) {
        if (nparams != NCOMMON + p->nparams) {
            g_snprintf(run->c.err, sizeof run->c.err, _("%s needs %d arguments, not %d."),
                       p->proc, NCOMMON + p->nparams, nparams);
            return GIMP_PDB_CALLING_ERROR;
        }
        settings_from_params(p, param, &run->c.s);
    }
    int channels = !p->needs_input ? 0 : gimp_drawable_is_gray(run->drawable) ? 1 : 3;
    return (GimpPDBStatusType)wg_settle(&run->c, channels, show_dialog, run);
}

static wp_status operate(void *data)
{
    wg_run *run = data;
    switch (run->c.desc->kind) {
    case WPJ_DENOISE: return wg_denoise(run);
    case WPJ_UPSCALE: return wg_upscale(run);
    case WPJ_SAMPLE: return run->c.desc->exemplar ? wg_texture(run) : wg_sample(run);
    case WPJ_HEAL: return wg_heal(run);
    default: return WP_ERR_ARG;
    }
}

static GimpPDBStatusType execute(wg_run *run)
{
    int indexed = gimp_image_base_type(run->image) == GIMP_INDEXED;
    GimpPDBStatusType status = (GimpPDBStatusType)wg_execute(&run->c, indexed, operate, run);
    gimp_progress_end();
    return status;
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
    r.c = (wg_common){.desc = p,
                      .interactive = r.mode == GIMP_RUN_INTERACTIVE,
                      .from_args = r.mode == GIMP_RUN_NONINTERACTIVE,
                      .progress = {gimp_progress_init, gimp_progress_set_text, gimp_progress_update},
                      .host = {wg_attach, &r},
                      .progress_window = 1};
    if (r.mode == GIMP_RUN_INTERACTIVE)
        r.parent = (unsigned long)gimp_progress_get_window_handle();
    GimpPDBStatusType status = get_settings(p, nparams, param, &r);
    if (status == GIMP_PDB_SUCCESS)
        status = execute(&r);
    if (status == GIMP_PDB_SUCCESS) {
        gimp_set_data(p->proc, &r.c.s, sizeof r.c.s);
        if (r.mode != GIMP_RUN_NONINTERACTIVE)
            gimp_displays_flush();
    }
    wg_common_free(&r.c);
    values[0].data.d_status = status;
    const GimpParamDef *rets;
    int nrets;
    pdb_rets(p, &rets, &nrets);
    if (status == GIMP_PDB_SUCCESS && nrets > 0) {
        /* IMAGE and LAYER ids share the int32 slot. */
        values[1].type = rets[0].type;
        values[1].data.d_int32 = r.result;
        *nreturn_vals = 2;
    } else if (status != GIMP_PDB_SUCCESS && r.c.err[0]) {
        g_strlcpy(message, r.c.err, sizeof message);
        values[1].type = GIMP_PDB_STRING;
        values[1].data.d_string = message;
        *nreturn_vals = 2;
    }
}

const GimpPlugInInfo PLUG_IN_INFO = {NULL, NULL, query, run};

MAIN()
