/* gimp3_main.c: the GIMP 3 plug-in: a GimpPlugIn with one image procedure
 * per job descriptor, run modes, settings kept in GimpProcedureConfig
 * (so that GIMP remembers them and Filters > Repeat works), and the errors
 * GIMP shows. */
#include <libgimp/gimpui.h>
#include <string.h>

#include "gimp3.h"
#include "models.h"
#include "wp_i18n.h"

#define PLUG_IN_BINARY "wavelet-prior"

typedef struct {
    GimpPlugIn parent_instance;
} WpPlugIn;

typedef struct {
    GimpPlugInClass parent_class;
} WpPlugInClass;

GType wp_plug_in_get_type(void);
G_DEFINE_TYPE(WpPlugIn, wp_plug_in, GIMP_TYPE_PLUG_IN)

/* ---- settings <-> the procedure's config ---- */

static void settings_from_config(const wpj_desc *d, GimpProcedureConfig *config, wpj_settings *s)
{
    wpj_settings_defaults(s);
    for (int i = 0; i < d->nparams; i++) {
        const wpj_param *p = &d->params[i];
        if (p->type == WPJ_ARG_MODEL) {
            char *m = NULL;
            g_object_get(config, p->name, &m, NULL);
            g_strlcpy(s->model, m ? m : "", sizeof s->model);
            g_free(m);
        } else if (p->type == WPJ_ARG_DOUBLE) {
            gdouble v;
            g_object_get(config, p->name, &v, NULL);
            wpj_param_set(p, s, v);
        } else {
            gint v;
            g_object_get(config, p->name, &v, NULL);
            wpj_param_set(p, s, v);
        }
    }
}

static void settings_to_config(const wpj_desc *d, const wpj_settings *s, GimpProcedureConfig *config)
{
    for (int i = 0; i < d->nparams; i++) {
        const wpj_param *p = &d->params[i];
        if (p->type == WPJ_ARG_MODEL)
            g_object_set(config, p->name, s->model, NULL);
        else if (p->type == WPJ_ARG_DOUBLE)
            g_object_set(config, p->name, wpj_param_get(p, s), NULL);
        else
            g_object_set(config, p->name, (gint)wpj_param_get(p, s), NULL);
    }
}

/* ---- a run ---- */

static const wpm_list *run_models(g3_run *run)
{
    if (!run->scanned)
        wpm_scan(&run->models), run->scanned = 1;
    return &run->models;
}

static void prefer_shipped(const wpj_desc *p, g3_run *run)
{
    int gray = p->kind != WPJ_SAMPLE && run->drawable && gimp_drawable_is_gray(run->drawable);
    wpm_choose(run_models(run), run->s.model, sizeof run->s.model, p->kind == WPJ_SAMPLE, gray);
}

/* Keeps our dialog above the image window the plug-in was started from. */
static void attach_to_gimp(GtkWindow *win, void *data)
{
    (void)data;
    gimp_window_set_transient(win);
}

/* Shows the job's dialog: 1 OK, 0 cancelled, -1 no display, -2 nothing
 * to work on (run->err says why). */
static int show_dialog(const wpj_desc *p, g3_run *run)
{
    if (wp_ui_init())
        return -1;
    gimp_ui_init(PLUG_IN_BINARY);
    const wpm_list *models = run_models(run);
    wg_drawable d;
    wp_ui_source src = {.host = {attach_to_gimp, NULL}};
    if (p->needs_input) {
        g3_drawable_open(&d, run->drawable);
        wg_ui_source(&d, &src);
        if (p->kind == WPJ_HEAL && g3_heal_box(run, &src.sel_x, &src.sel_y, &src.sel_w, &src.sel_h))
            return -2;
    } else { /* a sample suggests the selection's or the image's size */
        gboolean sel;
        gint x1, y1, x2, y2;
        gimp_selection_bounds(run->image, &sel, &x1, &y1, &x2, &y2);
        src.width = sel ? x2 - x1 : gimp_image_get_width(run->image);
        src.height = sel ? y2 - y1 : gimp_image_get_height(run->image);
    }
    switch (p->kind) {
    case WPJ_DENOISE: return wp_ui_denoise_dialog(&run->s, models, &src);
    case WPJ_UPSCALE: return wp_ui_upscale_dialog(&run->s, models, &src);
    case WPJ_SAMPLE: return wp_ui_sample_dialog(&run->s, models, &src, &run->ready);
    case WPJ_HEAL: return wp_ui_heal_dialog(&run->s, models, &src, &run->ready);
    default: return 0;
    }
}

static GimpPDBStatusType get_settings(const wpj_desc *p, GimpProcedureConfig *config, g3_run *run)
{
    settings_from_config(p, config, &run->s);
    prefer_shipped(p, run);
    if (run->mode == GIMP_RUN_INTERACTIVE) {
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

static GimpPDBStatusType load_prior(g3_run *run)
{
    char err[WP_ERRLEN];
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

static GimpPDBStatusType execute(const wpj_desc *p, g3_run *run)
{
    if (gimp_image_get_base_type(run->image) == GIMP_INDEXED) {
        g_snprintf(run->err, sizeof run->err,
                   _("Indexed images are not supported: convert the image to RGB or grayscale."));
        return GIMP_PDB_EXECUTION_ERROR;
    }
    GimpPDBStatusType status = load_prior(run);
    if (status != GIMP_PDB_SUCCESS)
        return status;
    wp_status st = WP_ERR_ARG;
    switch (p->kind) {
    case WPJ_DENOISE: st = g3_denoise(run); break;
    case WPJ_UPSCALE: st = g3_upscale(run); break;
    case WPJ_SAMPLE: st = g3_sample(run); break;
    case WPJ_HEAL: st = g3_heal(run); break;
    default: break;
    }
    wp_prior_free(run->prior);
    run->prior = NULL;
    gimp_progress_end();
    if (st == WP_ERR_CANCELLED)
        return GIMP_PDB_CANCEL;
    return st == WP_OK ? GIMP_PDB_SUCCESS : GIMP_PDB_EXECUTION_ERROR;
}

static GimpValueArray *run_job(GimpProcedure *procedure, GimpRunMode run_mode, GimpImage *image,
                               GimpDrawable **drawables, GimpProcedureConfig *config,
                               gpointer run_data)
{
    const wpj_desc *p = run_data;
    g3_run r = {.mode = run_mode, .image = image};
    wp_i18n_init();
    gegl_init(NULL, NULL);
    GimpPDBStatusType status = GIMP_PDB_SUCCESS;
    if (drawables && drawables[0] && drawables[1] && p->needs_input) {
        g_snprintf(r.err, sizeof r.err, _("%s works on one layer at a time."), _(p->title));
        status = GIMP_PDB_CALLING_ERROR;
    } else if (drawables && drawables[0]) {
        r.drawable = drawables[0];
    } else if (p->needs_input) {
        g_snprintf(r.err, sizeof r.err, _("%s needs a layer."), _(p->title));
        status = GIMP_PDB_CALLING_ERROR;
    }
    if (status == GIMP_PDB_SUCCESS)
        status = get_settings(p, config, &r);
    if (status == GIMP_PDB_SUCCESS)
        status = execute(p, &r);
    if (status == GIMP_PDB_SUCCESS) {
        settings_to_config(p, &r.s, config); /* what ran is what GIMP remembers */
        if (run_mode != GIMP_RUN_NONINTERACTIVE)
            gimp_displays_flush();
    }
    wpj_image_free(&r.ready);
    wpm_list_free(&r.models);
    if (status != GIMP_PDB_SUCCESS) {
        GError *error = r.err[0] ? g_error_new_literal(GIMP_PLUG_IN_ERROR, 0, r.err) : NULL;
        return gimp_procedure_new_return_values(procedure, status, error);
    }
    GimpValueArray *ret = gimp_procedure_new_return_values(procedure, status, NULL);
    switch (p->kind) {
    case WPJ_UPSCALE: GIMP_VALUES_SET_IMAGE(ret, 1, r.new_image); break;
    case WPJ_SAMPLE: GIMP_VALUES_SET_LAYER(ret, 1, r.new_layer); break;
    default: break;
    }
    return ret;
}

/* ---- registration ---- */

static GList *query_procedures(GimpPlugIn *plug_in)
{
    char *help = wp_ui_help_dir();
    if (help) { /* GIMP's help (F1 on our menu items) finds help/en/gimp-help.xml */
        GFile *dir = g_file_new_for_path(help);
        gimp_plug_in_set_help_domain(plug_in, WP_HELP_DOMAIN, dir);
        g_object_unref(dir);
        g_free(help);
    }
    GList *list = NULL;
    for (int k = 0; k < WPJ_NKINDS; k++)
        list = g_list_append(list, g_strdup(wpj_describe(k)->proc));
    return list;
}

static void add_arguments(GimpProcedure *proc, const wpj_desc *d)
{
    for (int i = 0; i < d->nparams; i++) {
        const wpj_param *p = &d->params[i];
        char *nick = g_strdup(_(p->label));
        char *u;
        while ((u = strchr(nick, '_')))
            memmove(u, u + 1, strlen(u)); /* "_Strength:" -> "Strength" */
        if (g_str_has_suffix(nick, ":"))
            nick[strlen(nick) - 1] = '\0';
        switch (p->type) {
        case WPJ_ARG_MODEL:
            gimp_procedure_add_string_argument(proc, p->name, nick, _(p->help), "",
                                               G_PARAM_READWRITE);
            break;
        case WPJ_ARG_DOUBLE:
            gimp_procedure_add_double_argument(proc, p->name, nick, _(p->help), p->min, p->max,
                                               p->def, G_PARAM_READWRITE);
            break;
        case WPJ_ARG_INT:
            gimp_procedure_add_int_argument(proc, p->name, nick, _(p->help), (gint)p->min,
                                            (gint)p->max, (gint)p->def, G_PARAM_READWRITE);
            break;
        }
        g_free(nick);
    }
}

static GimpProcedure *create_procedure(GimpPlugIn *plug_in, const gchar *name)
{
    const wpj_desc *d = wpj_describe_proc(name);
    if (!d)
        return NULL;
    wp_i18n_init();
    GimpProcedure *proc = gimp_image_procedure_new(plug_in, name, GIMP_PDB_PROC_TYPE_PLUGIN,
                                                   run_job, (gpointer)d, NULL);
    gimp_procedure_set_image_types(proc, "RGB*, GRAY*");
    gimp_procedure_set_sensitivity_mask(
        proc, d->needs_input ? GIMP_PROCEDURE_SENSITIVE_DRAWABLE
                             : GIMP_PROCEDURE_SENSITIVE_DRAWABLE | GIMP_PROCEDURE_SENSITIVE_DRAWABLES |
                                   GIMP_PROCEDURE_SENSITIVE_NO_DRAWABLES);
    gimp_procedure_set_menu_label(proc, _(d->menu_label));
    for (int m = 0; m < 2 && d->menus[m]; m++)
        gimp_procedure_add_menu_path(proc, d->menus[m]);
    gimp_procedure_set_documentation(proc, _(d->blurb), _(d->help), name);
    gimp_procedure_set_attribution(proc, "Wavelet Prior authors", "Wavelet Prior authors", "2024");
    add_arguments(proc, d);
    switch (d->kind) {
    case WPJ_UPSCALE:
        gimp_procedure_add_image_return_value(proc, "new-image", "New image",
                                              "The new image (target 2), else none", TRUE,
                                              G_PARAM_READWRITE);
        break;
    case WPJ_SAMPLE:
        gimp_procedure_add_layer_return_value(proc, "layer", "Layer",
                                              "The new layer holding the sample", FALSE,
                                              G_PARAM_READWRITE);
        break;
    default: break;
    }
    return proc;
}

/* Our own gettext set-up (wp_i18n_init): GIMP need not look for catalogs. */
static gboolean set_i18n(GimpPlugIn *plug_in, const gchar *name, gchar **domain, gchar **dir)
{
    (void)plug_in;
    (void)name;
    (void)domain;
    (void)dir;
    return FALSE;
}

static void wp_plug_in_class_init(WpPlugInClass *klass)
{
    GimpPlugInClass *pc = GIMP_PLUG_IN_CLASS(klass);
    pc->query_procedures = query_procedures;
    pc->create_procedure = create_procedure;
    pc->set_i18n = set_i18n;
}

static void wp_plug_in_init(WpPlugIn *self)
{
    (void)self;
}

GIMP_MAIN(wp_plug_in_get_type())
