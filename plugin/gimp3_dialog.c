/* gimp3_dialog.c: the GIMP 3 dialogs.  A GimpProcedureDialog edits the
 * procedure's config: GIMP makes the settings' widgets from the arguments
 * (which come from the job descriptors) and gives Reset, saved settings
 * and Help (GIMP's help system, our help domain).  Ours inside it, where
 * GIMP 3.0 has nothing that fits: the live before/after preview with its
 * zoom and the time estimate (ui/: wp_ui_panel; GIMP's drawable preview
 * shows the layer, not a computed result), the model list bound to the
 * "model" string (GIMP makes a string a text entry, and a GimpChoice
 * argument would fix the list when the plug-in registers, while models
 * are found when it runs), and a New seed button beside GIMP's seed. */
#include <libgimp/gimpui.h>
#include <string.h>

#include "gimp3.h"
#include "wp_i18n.h"

typedef struct {
    g3_run *run;
    wp_ui_panel *panel;
    GimpProcedureDialog *dlg;
    int gray; /* the layer's: which model a reset proposes */
} g3_dialog_state;

/* GIMP's widgets of the parameters that do nothing with the model
 * (wpm_param_applies) greyed out. */
static void sync_params(g3_dialog_state *st, const char *model)
{
    const wpj_desc *desc = st->run->c.desc;
    const wpm_list *models = wg_models(&st->run->c);
    int m = wpm_find(models, model);
    for (int i = 0; i < desc->nparams; i++) {
        const wpj_param *p = &desc->params[i];
        if (p->type == WPJ_ARG_MODEL || !strcmp(p->name, "seed"))
            continue;
        GtkWidget *w = gimp_procedure_dialog_get_widget(st->dlg, p->name, G_TYPE_NONE);
        if (w)
            gtk_widget_set_sensitive(w, wpm_param_applies(m >= 0 ? &models->items[m] : NULL,
                                                          desc, p));
    }
}

/* The panel proposes settings (the model as a path, a sample's size). */
static void propose(void *data, const wpj_settings *s)
{
    g3_dialog_state *st = data;
    g3_settings_to_config(st->run->c.desc, s, st->run->config);
}

/* A widget changed the config: the preview follows.  A model the list
 * does not hold (Reset's "") becomes the one the layer would get. */
static void on_config_changed(GObject *config, GParamSpec *pspec, gpointer data)
{
    (void)pspec;
    g3_dialog_state *st = data;
    wg_common *c = &st->run->c;
    wpj_settings s;
    g3_settings_from_config(c->desc, GIMP_PROCEDURE_CONFIG(config), &s);
    wpj_desc_apply(c->desc, &s);
    const wpm_list *models = wg_models(c);
    if (models->n > 0 && wpm_find(models, s.model) < 0) {
        wpm_choose_for(models, s.model, sizeof s.model, c->desc, st->gray);
        int i = MAX(0, wpm_find(models, s.model));
        g_object_set(config, "model", models->items[i].path, NULL); /* notifies again */
        return;
    }
    wp_ui_panel_set(st->panel, &s);
    sync_params(st, s.model);
}

/* The models by name, bound to the "model" argument (each entry's id is
 * its path, as the panel proposes it). */
static GtkWidget *model_chooser(g3_dialog_state *st, const wpj_param *p)
{
    const wpm_list *models = wg_models(&st->run->c);
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
    if (models->n > 0) {
        GtkListStore *store = gtk_list_store_new(2, G_TYPE_STRING, G_TYPE_STRING);
        for (int i = 0; i < models->n; i++)
            gtk_list_store_insert_with_values(store, NULL, -1, 0, models->items[i].path, 1,
                                              models->items[i].name, -1);
        GtkWidget *combo = gimp_prop_string_combo_box_new(G_OBJECT(st->run->config), p->name,
                                                          GTK_TREE_MODEL(store), 0, 1);
        g_object_unref(store);
        /* labelled as GIMP labels the other arguments: by the nick */
        GParamSpec *ps = g_object_class_find_property(G_OBJECT_GET_CLASS(st->run->config), p->name);
        GtkWidget *w = gimp_label_string_widget_new(g_param_spec_get_nick(ps), combo);
        g_object_set_data(G_OBJECT(box), "labeled", w);
        gtk_box_pack_start(GTK_BOX(box), w, FALSE, FALSE, 0);
    }
    gtk_box_pack_start(GTK_BOX(box), wp_ui_panel_model_info(st->panel), FALSE, FALSE, 0);
    return box;
}

static void on_new_seed(GtkButton *b, gpointer config)
{
    (void)b;
    g_object_set(config, "seed", g_random_int_range(0, G_MAXINT32), NULL);
}

/* GIMP's seed widget with a button that draws a new one. */
static const char *seed_row(GimpProcedureDialog *dlg, GimpProcedureConfig *config)
{
    static const char id[] = "wprior-seed-row";
    GtkWidget *box = gimp_procedure_dialog_fill_box(dlg, id, "seed", NULL);
    gtk_orientable_set_orientation(GTK_ORIENTABLE(box), GTK_ORIENTATION_HORIZONTAL);
    GtkWidget *button = gtk_button_new_with_mnemonic(_("_New seed"));
    g_signal_connect(button, "clicked", G_CALLBACK(on_new_seed), config);
    gtk_box_pack_start(GTK_BOX(box), button, FALSE, FALSE, 0);
    return id;
}

/* A parameter with named values: a combo of them. */
static void choice_combo(GimpProcedureDialog *dlg, const wpj_param *p)
{
    GtkListStore *store = g_object_new(GIMP_TYPE_INT_STORE, NULL);
    for (int i = 0; i < p->nchoices; i++)
        gtk_list_store_insert_with_values(store, NULL, -1, GIMP_INT_STORE_VALUE, p->values[i],
                                          GIMP_INT_STORE_LABEL, _(p->labels[i]), -1);
    gimp_procedure_dialog_get_int_combo(dlg, p->name, GIMP_INT_STORE(store)); /* takes store */
}

/* The model's label as wide as the labels GIMP gives the arguments. */
static void align_labels(GtkWidget *box, GtkWidget *model)
{
    GtkSizeGroup *group = gtk_size_group_new(GTK_SIZE_GROUP_HORIZONTAL);
    gtk_size_group_add_widget(group, gimp_labeled_get_label(GIMP_LABELED(model)));
    GList *children = gtk_container_get_children(GTK_CONTAINER(box));
    for (GList *l = children; l; l = l->next)
        if (GIMP_IS_LABELED(l->data))
            gtk_size_group_add_widget(group, gimp_labeled_get_label(GIMP_LABELED(l->data)));
    g_list_free(children);
    g_object_unref(group); /* the widgets keep it */
}

/* The settings column: the model, then the job's other arguments as the
 * descriptor lists them (GIMP's widgets), then the estimate. */
static GtkWidget *settings_column(g3_dialog_state *st, GimpProcedureDialog *dlg)
{
    const wpj_desc *desc = st->run->c.desc;
    GList *ids = NULL;
    GtkWidget *model = NULL;
    for (int i = 0; i < desc->nparams; i++) {
        const wpj_param *p = &desc->params[i];
        const char *id = p->name;
        if (p->type == WPJ_ARG_MODEL) {
            model = model_chooser(st, p);
            continue;
        }
        if (p->nchoices > 0)
            choice_combo(dlg, p);
        else if (p->type == WPJ_ARG_DOUBLE)
            gimp_procedure_dialog_get_spin_scale(dlg, p->name, 1.0);
        else if (!strcmp(p->name, "seed"))
            id = seed_row(dlg, st->run->config);
        ids = g_list_append(ids, (gpointer)id);
    }
    GtkWidget *box = gimp_procedure_dialog_fill_box_list(dlg, "wprior-settings", ids);
    g_list_free(ids);
    gtk_box_set_spacing(GTK_BOX(box), 6);
    if (model && g_object_get_data(G_OBJECT(model), "labeled"))
        align_labels(box, g_object_get_data(G_OBJECT(model), "labeled"));
    if (model) {
        gtk_box_pack_start(GTK_BOX(box), model, FALSE, FALSE, 6);
        gtk_box_reorder_child(GTK_BOX(box), model, 0);
    }
    gtk_box_pack_end(GTK_BOX(box), wp_ui_panel_estimate(st->panel), FALSE, FALSE, 0);
    return box;
}

wp_status g3_dialog(g3_run *run, wg_drawable *d, wg_rect box)
{
    wg_common *c = &run->c;
    g3_dialog_state st = {.run = run, .gray = d && d->colour == 1};
    wp_ui_source src;
    wg_dialog_source(c, d, box, (wp_ui_host){0}, &src);
    g3_settings_to_config(c->desc, &c->s, run->config); /* what the run settled */
    GtkWidget *dlg = gimp_procedure_dialog_new(run->procedure, run->config, _(c->desc->title));
    st.dlg = GIMP_PROCEDURE_DIALOG(dlg);
    GtkWidget *ok = gtk_dialog_get_widget_for_response(GTK_DIALOG(dlg), GTK_RESPONSE_OK);
    st.panel = wp_ui_panel_new(&c->s, wg_models(c), &src,
                               &(wp_ui_panel_host){.ok = ok, .propose = propose, .data = &st});
    GtkWidget *hbox = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
    gtk_box_pack_start(GTK_BOX(hbox), wp_ui_panel_preview(st.panel), TRUE, TRUE, 0);
    gtk_box_pack_start(GTK_BOX(hbox), settings_column(&st, GIMP_PROCEDURE_DIALOG(dlg)), FALSE,
                       FALSE, 0);
    gtk_box_pack_start(GTK_BOX(gtk_dialog_get_content_area(GTK_DIALOG(dlg))), hbox, TRUE, TRUE, 0);
    gtk_widget_show_all(hbox);
    sync_params(&st, c->s.model);
    gulong id = g_signal_connect(run->config, "notify", G_CALLBACK(on_config_changed), &st);
    wp_ui_panel_start(st.panel);
    gtk_widget_grab_focus(ok);
    int accepted = gimp_procedure_dialog_run(GIMP_PROCEDURE_DIALOG(dlg));
    g_signal_handler_disconnect(run->config, id);
    g3_settings_from_config(c->desc, run->config, &c->s);
    wpj_desc_apply(c->desc, &c->s);
    wp_ui_panel_free(st.panel, accepted, &c->ready);
    gtk_widget_destroy(dlg);
    return accepted ? WP_OK : WP_ERR_CANCELLED;
}
