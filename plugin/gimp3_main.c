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

/* run.c numbers a run's outcome as GIMP numbers its statuses. */
G_STATIC_ASSERT(WG_SUCCESS == (int)GIMP_PDB_SUCCESS && WG_CANCEL == (int)GIMP_PDB_CANCEL &&
                WG_CALLING_ERROR == (int)GIMP_PDB_CALLING_ERROR &&
                WG_EXECUTION_ERROR == (int)GIMP_PDB_EXECUTION_ERROR);

typedef struct {
    GimpPlugIn parent_instance;
} WpPlugIn;

typedef struct {
    GimpPlugInClass parent_class;
} WpPlugInClass;

GType wp_plug_in_get_type(void);
G_DEFINE_TYPE(WpPlugIn, wp_plug_in, GIMP_TYPE_PLUG_IN)

/* ---- settings <-> the procedure's config ---- */

void g3_settings_from_config(const wpj_desc *d, GimpProcedureConfig *config, wpj_settings *s)
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

void g3_settings_to_config(const wpj_desc *d, const wpj_settings *s, GimpProcedureConfig *config)
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

/* Shows the job's dialog (gimp3_dialog.c): WP_OK, WP_ERR_CANCELLED, or another status with
 * run->c.err saying why it cannot (no display, nothing to heal). */
static wp_status show_dialog(void *data)
{
    g3_run *run = data;
    const wpj_desc *p = run->c.desc;
    wg_drawable d;
    wg_rect box = {0};
    if (wg_ui_start(&run->c))
        return WP_ERR_IO;
    gimp_ui_init(PLUG_IN_BINARY);
    if (p->needs_input)
        g3_drawable_open(&d, run->drawable);
    else /* a sample suggests the selection's or the image's size */
        g3_sample_box(run, &box.x, &box.y, &box.w, &box.h);
    if (p->kind == WPJ_HEAL && g3_heal_box(run, &box.x, &box.y, &box.w, &box.h))
        return WP_ERR_ARG;
    if (p->exemplar && g3_texture_box(run, &box.x, &box.y, &box.w, &box.h))
        return WP_ERR_ARG;
    return g3_dialog(run, p->needs_input ? &d : NULL, box);
}

static GimpPDBStatusType get_settings(const wpj_desc *p, GimpProcedureConfig *config, g3_run *run)
{
    g3_settings_from_config(p, config, &run->c.s);
    GimpDrawable *d = p->needs_input ? run->drawable : NULL;
    int channels = !d ? 0 : gimp_drawable_is_gray(d) ? 1 : 3;
    return (GimpPDBStatusType)wg_settle(&run->c, channels, show_dialog, run);
}

static wp_status operate(void *data)
{
    g3_run *run = data;
    switch (run->c.desc->kind) {
    case WPJ_DENOISE: return g3_denoise(run);
    case WPJ_UPSCALE: return g3_upscale(run);
    case WPJ_SAMPLE: return run->c.desc->exemplar ? g3_texture(run) : g3_sample(run);
    case WPJ_HEAL: return g3_heal(run);
    default: return WP_ERR_ARG;
    }
}

static GimpPDBStatusType execute(g3_run *run)
{
    int indexed = gimp_image_get_base_type(run->image) == GIMP_INDEXED;
    GimpPDBStatusType status = (GimpPDBStatusType)wg_execute(&run->c, indexed, operate, run);
    gimp_progress_end();
    return status;
}

/* Layer > Upscale returns a new image (target 2), a sample its layer. */
static int returns_image(const wpj_desc *d)
{
    return d->kind == WPJ_UPSCALE && d->target < 0;
}

static GimpValueArray *run_job(GimpProcedure *procedure, GimpRunMode run_mode, GimpImage *image,
                               GimpDrawable **drawables, GimpProcedureConfig *config,
                               gpointer run_data)
{
    const wpj_desc *p = run_data;
    g3_run r = {.mode = run_mode, .procedure = procedure, .config = config, .image = image};
    r.c = (wg_common){.desc = p,
                      .interactive = run_mode == GIMP_RUN_INTERACTIVE,
                      .from_args = run_mode == GIMP_RUN_NONINTERACTIVE,
                      .progress = {gimp_progress_init, gimp_progress_set_text, gimp_progress_update}};
    wp_i18n_init();
    gegl_init(NULL, NULL);
    GimpPDBStatusType status = GIMP_PDB_SUCCESS;
    if (drawables && drawables[0] && drawables[1] && p->needs_input && p->target < 0) {
        g_snprintf(r.c.err, sizeof r.c.err, _("%s works on one layer at a time."), _(p->title));
        status = GIMP_PDB_CALLING_ERROR;
    } else if (drawables && drawables[0]) {
        r.drawable = drawables[0];
    } else if (p->needs_input) {
        g_snprintf(r.c.err, sizeof r.c.err, _("%s needs a layer."), _(p->title));
        status = GIMP_PDB_CALLING_ERROR;
    }
    if (status == GIMP_PDB_SUCCESS)
        status = get_settings(p, config, &r);
    if (status == GIMP_PDB_SUCCESS)
        status = execute(&r);
    if (status == GIMP_PDB_SUCCESS) {
        g3_settings_to_config(p, &r.c.s, config); /* what ran is what GIMP remembers */
        if (run_mode != GIMP_RUN_NONINTERACTIVE)
            gimp_displays_flush();
    }
    wg_common_free(&r.c);
    if (status != GIMP_PDB_SUCCESS) {
        GError *error = r.c.err[0] ? g_error_new_literal(GIMP_PLUG_IN_ERROR, 0, r.c.err) : NULL;
        return gimp_procedure_new_return_values(procedure, status, error);
    }
    GimpValueArray *ret = gimp_procedure_new_return_values(procedure, status, NULL);
    if (returns_image(p))
        GIMP_VALUES_SET_IMAGE(ret, 1, r.new_image);
    else if (p->kind == WPJ_SAMPLE)
        GIMP_VALUES_SET_LAYER(ret, 1, r.new_layer);
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
    for (int k = 0; k < WPJ_NPROCS; k++)
        list = g_list_append(list, g_strdup(wpj_proc(k)->proc));
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
    /* One layer to work on; the whole image (its target fixed) previews the first of many. */
    int mask = GIMP_PROCEDURE_SENSITIVE_DRAWABLE;
    if (!d->needs_input || d->target >= 0)
        mask |= GIMP_PROCEDURE_SENSITIVE_DRAWABLES;
    if (!d->needs_input)
        mask |= GIMP_PROCEDURE_SENSITIVE_NO_DRAWABLES;
    gimp_procedure_set_sensitivity_mask(proc, mask);
    gimp_procedure_set_menu_label(proc, _(d->menu_label));
    for (int m = 0; m < 2 && d->menus[m]; m++)
        gimp_procedure_add_menu_path(proc, d->menus[m]);
    gimp_procedure_set_documentation(proc, _(d->blurb), _(d->help), name);
    gimp_procedure_set_attribution(proc, "Wavelet Prior authors", "Wavelet Prior authors", "2024");
    add_arguments(proc, d);
    if (returns_image(d))
        gimp_procedure_add_image_return_value(proc, "new-image", "New image",
                                              "The new image (target 2), else none", TRUE,
                                              G_PARAM_READWRITE);
    else if (d->kind == WPJ_SAMPLE)
        gimp_procedure_add_layer_return_value(proc, "layer", "Layer",
                                              "The new layer holding the sample", FALSE,
                                              G_PARAM_READWRITE);
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
