/* dialogs.c: the denoise, upscale, sample and heal dialogs around one live
 * preview.  The preview runs the engine in the background on a region of
 * the layer; a change of any setting cancels it and starts it again. */
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "estimate.h"
#include "preview.h"
#include "ui_common.h"
#include "wp_i18n.h"
#include "wp_ui.h"

#define PREVIEW_SIDE 256
#define MAX_REGION_PX (2048.0 * 2048.0) /* layer pixels a preview computes at most */
#define TICK_MS 50

typedef struct {
    wpj_kind kind;
    wpj_settings cur;
    const wpm_list *models;
    const wp_ui_source *src;
    GtkWidget *dialog, *ok, *model_info, *estimate, *size_w, *size_h;
    GtkWidget *param_rows[2 * WPJ_MAX_PARAMS]; /* label and widget of each job parameter */
    wp_preview *pv;
    wp_prior *prior;
    wp_workspace *ws; /* the previews' scratch memory, kept between them */
    char prior_path[WPJ_MODEL_LEN];
    char prior_err[WP_ERRLEN];
    wpj_job *job;
    wpj_image job_in;
    wpj_image sample;       /* the last finished sample or fill and its settings */
    wpj_settings sample_s;
    int region_x, region_y; /* top-left of the previewed region, layer pixels */
    int region_w, region_h; /* its size when it was last read */
    double zoom;            /* screen pixels per pixel of the result; 0: the layer fitted */
    GtkWidget *zoom_label;
    int dirty;              /* settings changed since the running job started */
    guint timer;
    wp_estimate est;        /* the whole layer's time, from the previews' throughput */
    wpj_settings est_s;     /* the settings est was measured with */
    gint64 job_t0;          /* when the running job started, us */
    /* A host's own dialog (wp_ui_panel): settings the panel proposes. */
    void (*propose)(void *data, const wpj_settings *s);
    void *propose_data;
} dialog_state;

static void sync_sample_size(dialog_state *d);
static void show_zoom(dialog_state *d);
static const char *job_name(const dialog_state *d);

/* The procedure the dialog is for. */
static const wpj_desc *job_desc(const dialog_state *d)
{
    return d->src && d->src->job ? d->src->job : wpj_describe(d->kind);
}

/* ---- the previewed region and the background job ---- */

/* Result pixels per layer pixel. */
static int result_factor(const dialog_state *d)
{
    return d->kind == WPJ_UPSCALE ? d->cur.factor : 1;
}

static void preview_size(const dialog_state *d, int *w, int *h)
{
    GtkWidget *area = wp_preview_widget(d->pv);
    *w = MAX(gtk_widget_get_allocated_width(area), PREVIEW_SIDE);
    *h = MAX(gtk_widget_get_allocated_height(area), PREVIEW_SIDE);
}

/* Screen pixels per result pixel: the zoom, or the scale that fits the
 * layer; never so small that the region exceeds MAX_REGION_PX layer pixels
 * (a large layer's Fit shows its middle, at the scale that allows). */
static double view_scale(const dialog_state *d)
{
    int W, H, f = result_factor(d);
    preview_size(d, &W, &H);
    double s = d->zoom > 0 ? d->zoom
                           : fmin((double)W / (d->src->width * f), (double)H / (d->src->height * f));
    if ((double)d->src->width * d->src->height <= MAX_REGION_PX)
        return s;
    return fmax(s, sqrt((double)W * H / MAX_REGION_PX) / f);
}

/* The layer pixels the preview shows at the current zoom and size. */
static void region_size(const dialog_state *d, int *w, int *h)
{
    int W, H, f = result_factor(d);
    double s = view_scale(d);
    preview_size(d, &W, &H);
    *w = MIN(d->src->width, MAX(1, (int)ceil(W / (s * f))));
    *h = MIN(d->src->height, MAX(1, (int)ceil(H / (s * f))));
}

/* A heal previews all it will do: the selection's box and its context,
 * the colour planes then the selection's plane. */
static int fetch_heal_region(dialog_state *d)
{
    const wp_ui_source *src = d->src;
    int x, y, w, h;
    wpj_heal_context(d->prior, src->sel_x, src->sel_y, src->sel_w, src->sel_h, src->width,
                     src->height, &x, &y, &w, &h);
    wpj_image_free(&d->job_in);
    if (wpj_image_alloc(&d->job_in, src->channels + 1, h, w))
        return -1;
    if (src->fetch(src->data, x, y, w, h, d->job_in.px) ||
        src->fetch_selection(src->data, x, y, w, h,
                             d->job_in.px + (size_t)src->channels * w * h)) {
        wpj_image_free(&d->job_in);
        return -1;
    }
    wpj_image colour = d->job_in;
    colour.c = src->channels;
    wp_preview_set_before(d->pv, &colour, 1);
    return 0;
}

/* Texture from Selection: the selection's box, the texture to continue
 * (read once). */
static int fetch_exemplar(dialog_state *d)
{
    const wp_ui_source *src = d->src;
    if (d->job_in.px)
        return 0;
    if (wpj_image_alloc(&d->job_in, src->channels, src->sel_h, src->sel_w))
        return -1;
    if (src->fetch(src->data, src->sel_x, src->sel_y, src->sel_w, src->sel_h, d->job_in.px)) {
        wpj_image_free(&d->job_in);
        return -1;
    }
    return 0;
}

/* Clamps the region to the layer and reads it; -1 when it cannot. */
static int fetch_region(dialog_state *d)
{
    const wp_ui_source *src = d->src;
    if (d->kind == WPJ_HEAL)
        return fetch_heal_region(d);
    if (d->kind == WPJ_SAMPLE)
        return fetch_exemplar(d);
    int w, h;
    region_size(d, &w, &h);
    d->region_x = CLAMP(d->region_x, 0, src->width - w);
    d->region_y = CLAMP(d->region_y, 0, src->height - h);
    wpj_image_free(&d->job_in);
    if (wpj_image_alloc(&d->job_in, src->channels, h, w))
        return -1;
    if (src->fetch(src->data, d->region_x, d->region_y, w, h, d->job_in.px)) {
        wpj_image_free(&d->job_in);
        return -1;
    }
    d->region_w = w;
    d->region_h = h;
    wp_preview_set_scale(d->pv, view_scale(d));
    show_zoom(d);
    wp_preview_set_before(d->pv, &d->job_in, d->kind == WPJ_UPSCALE ? d->cur.factor : 1);
    return 0;
}

/* Loads the chosen model when it changed; -1 (message kept) when it fails. */
static int ensure_prior(dialog_state *d)
{
    if (d->prior && !strcmp(d->prior_path, d->cur.model))
        return 0;
    wp_prior_free(d->prior);
    d->prior = NULL;
    g_strlcpy(d->prior_path, d->cur.model, sizeof d->prior_path);
    if (wp_prior_load(d->cur.model, &d->prior, d->prior_err) != WP_OK) {
        d->prior = NULL;
        return -1;
    }
    return 0;
}

static void show_message(dialog_state *d, const char *msg)
{
    wp_preview_set_message(d->pv, msg);
}

/* The previews measure the whole job (sample, heal) or a region of it. */
static int previews_whole_job(const dialog_state *d)
{
    return d->kind == WPJ_SAMPLE || d->kind == WPJ_HEAL;
}

/* Settings that change the cost per pixel start a new measurement. */
static void check_estimate_settings(dialog_state *d)
{
    const wpj_settings *a = &d->est_s, *b = &d->cur;
    if (!strcmp(a->model, b->model) && a->passes == b->passes && a->factor == b->factor &&
        a->quality == b->quality)
        return;
    wp_estimate_reset(&d->est);
    d->est_s = d->cur;
}

/* "Estimated time for the whole layer: about 6 seconds" (or estimating). */
static void show_estimate(dialog_state *d)
{
    double secs = wp_estimate_seconds(&d->est, (double)d->src->width * d->src->height);
    char *t = secs < 0 ? g_strdup(_("estimating...")) : wp_ui_format_duration(secs);
    char *msg = g_strdup_printf(_("Estimated time for the whole layer: %s"), t);
    gtk_label_set_text(GTK_LABEL(d->estimate), msg);
    g_free(msg);
    g_free(t);
}

static void start_preview(dialog_state *d)
{
    char err[WP_ERRLEN];
    d->dirty = 0;
    wp_preview_set_after(d->pv, NULL);
    if (previews_whole_job(d))
        gtk_label_set_text(GTK_LABEL(d->estimate), "");
    if (!d->cur.model[0]) {
        show_message(d, _("No model"));
        return;
    }
    if (ensure_prior(d)) {
        show_message(d, d->prior_err);
        gtk_widget_set_sensitive(d->ok, FALSE);
        return;
    }
    gtk_widget_set_sensitive(d->ok, TRUE);
    if ((d->kind != WPJ_SAMPLE || d->cur.exemplar) && fetch_region(d)) {
        show_message(d, _("Cannot read the layer."));
        return;
    }
    if (!previews_whole_job(d)) {
        check_estimate_settings(d);
        wp_estimate_begin(&d->est, (double)d->job_in.w * d->job_in.h);
        show_estimate(d);
    }
    d->job_t0 = g_get_monotonic_time();
    d->job = wpj_start(d->kind, &d->cur, d->prior, &d->job_in, d->ws, err, sizeof err);
    show_message(d, d->job ? _("Computing...") : err);
}

/* Seconds since the running job started. */
static double job_seconds(const dialog_state *d)
{
    return (g_get_monotonic_time() - d->job_t0) / 1e6;
}

/* A fill as GIMP will show it: blended through the selection. */
static void show_fill(dialog_state *d, const wpj_image *out)
{
    wpj_image shown = {0};
    if (wpj_image_alloc(&shown, out->c, out->h, out->w))
        return;
    memcpy(shown.px, out->px, sizeof(float) * (size_t)out->c * out->h * out->w);
    wpj_heal_blend(&shown, &d->job_in);
    wp_preview_set_after(d->pv, &shown);
    wpj_image_free(&shown);
}

static void show_result(dialog_state *d, const wpj_image *out, double secs)
{
    if (d->kind == WPJ_HEAL)
        show_fill(d, out);
    else
        wp_preview_set_after(d->pv, out);
    show_message(d, NULL);
    if (!previews_whole_job(d)) {
        wp_estimate_observe(&d->est, secs, 1.0, 1);
        show_estimate(d);
        return;
    }
    char *t = wp_ui_format_duration(secs);
    char *msg = d->kind == WPJ_SAMPLE ? g_strdup_printf(_("Time for this sample: %s"), t)
                                      : g_strdup_printf(_("Time for this fill: %s"), t);
    gtk_label_set_text(GTK_LABEL(d->estimate), msg);
    g_free(msg);
    g_free(t);
}

/* Collects a finished job: shows it unless the settings moved on. */
static void collect_job(dialog_state *d)
{
    char err[WP_ERRLEN];
    wpj_image out = {0};
    double secs = job_seconds(d); /* the clock the progress was observed on */
    wp_status st = wpj_finish(d->job, &out, NULL, err, sizeof err);
    d->job = NULL;
    if (d->dirty)
        ; /* a newer request follows */
    else if (st == WP_OK)
        show_result(d, &out, secs);
    else
        show_message(d, err);
    if (st == WP_OK && (d->kind == WPJ_SAMPLE || d->kind == WPJ_HEAL) && !d->dirty) {
        wpj_image_free(&d->sample);
        d->sample = out; /* OK takes it instead of running again */
        d->sample_s = d->cur;
        return;
    }
    wpj_image_free(&out);
}

/* The previewed sample or fill when it was made with the final settings. */
static int sample_is_current(const dialog_state *d)
{
    const wpj_settings *a = &d->sample_s, *b = &d->cur;
    if (!d->sample.px || d->job || d->dirty || strcmp(a->model, b->model) || a->seed != b->seed)
        return 0;
    if (d->kind == WPJ_HEAL)
        return a->sharp == b->sharp;
    return a->width == b->width && a->height == b->height && a->quality == b->quality &&
           a->tiling == b->tiling;
}

static gboolean on_tick(gpointer data)
{
    dialog_state *d = data;
    if (d->job && wpj_done(d->job))
        collect_job(d);
    if (!d->job && d->dirty)
        start_preview(d);
    if (d->job && !d->dirty) {
        double f = wpj_progress(d->job);
        if (!previews_whole_job(d)) {
            wp_estimate_observe(&d->est, job_seconds(d), f, 0);
            show_estimate(d);
        }
        char *msg = g_strdup_printf(_("Computing... %d%%"), (int)(f * 100));
        show_message(d, msg);
        g_free(msg);
    }
    return G_SOURCE_CONTINUE;
}

/* Something changed: stop the running preview; the tick starts anew. */
static void settings_changed(dialog_state *d)
{
    d->dirty = 1;
    if (d->job)
        wpj_cancel(d->job);
}

/* ---- zoom ---- */

static void show_zoom(dialog_state *d)
{
    char *t = g_strdup_printf("%d%%", (int)lround(view_scale(d) * 100));
    gtk_label_set_text(GTK_LABEL(d->zoom_label), t);
    g_free(t);
}

/* A new zoom (0: fit) about the middle of the previewed region. */
static void set_zoom(dialog_state *d, double zoom)
{
    int cx = d->region_x + d->region_w / 2, cy = d->region_y + d->region_h / 2, w, h;
    d->zoom = zoom;
    region_size(d, &w, &h);
    d->region_x = cx - w / 2;
    d->region_y = cy - h / 2;
    show_zoom(d);
    settings_changed(d);
}

/* The mouse wheel: the next of 25% .. 800%, never below fitting the layer. */
static void on_zoom_step(void *data, int steps)
{
    static const double levels[] = {0.25, 0.5, 1, 2, 4, 8};
    dialog_state *d = data;
    double cur = view_scale(d), next = cur;
    int n = G_N_ELEMENTS(levels);
    for (int i = 0; steps > 0 && i < n && next == cur; i++)
        if (levels[i] > cur * 1.01)
            next = levels[i];
    for (int i = n - 1; steps < 0 && i >= 0 && next == cur; i--)
        if (levels[i] < cur * 0.99)
            next = levels[i];
    double saved = d->zoom;
    d->zoom = 0;
    double fit = view_scale(d);
    d->zoom = saved;
    if (next != cur)
        set_zoom(d, next <= fit * 1.01 ? 0 : next);
}

static void on_zoom_button(GtkButton *b, gpointer data)
{
    set_zoom(data, *(const double *)g_object_get_data(G_OBJECT(b), "zoom"));
}

static GtkWidget *zoom_bar(dialog_state *d)
{
    static const double zooms[] = {0, 1, 2};
    static const char *const labels[] = {N_("F_it"), N_("_100%"), N_("_200%")};
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 4);
    for (int i = 0; i < 3; i++) {
        GtkWidget *b = gtk_button_new_with_mnemonic(_(labels[i]));
        g_object_set_data(G_OBJECT(b), "zoom", (gpointer)&zooms[i]);
        g_signal_connect(b, "clicked", G_CALLBACK(on_zoom_button), d);
        gtk_box_pack_start(GTK_BOX(box), b, FALSE, FALSE, 0);
    }
    d->zoom_label = gtk_label_new("");
    gtk_box_pack_end(GTK_BOX(box), d->zoom_label, FALSE, FALSE, 0);
    return box;
}

/* The preview grew or shrank: a region of the new size, or a new fit. */
static void on_preview_resized(GtkWidget *w, GdkRectangle *r, gpointer data)
{
    (void)w;
    (void)r;
    dialog_state *d = data;
    int rw, rh;
    region_size(d, &rw, &rh);
    show_zoom(d);
    if (rw != d->region_w || rh != d->region_h)
        settings_changed(d);
    else
        wp_preview_set_scale(d->pv, view_scale(d));
}

static void on_pan(void *data, int dx, int dy)
{
    dialog_state *d = data;
    int f = d->kind == WPJ_UPSCALE ? d->cur.factor : 1;
    d->region_x -= dx / f;
    d->region_y -= dy / f;
    settings_changed(d);
}

/* ---- widgets shared by the three dialogs ---- */

/* Parameters that do nothing with the model (wpm_param_applies) greyed out. */
static void sync_params(dialog_state *d, const wpm_model *m)
{
    const wpj_desc *desc = job_desc(d);
    for (int i = 0; i < desc->nparams; i++) /* nparams <= WPJ_MAX_PARAMS: jobdesc.c */
        for (int k = 0; k < 2; k++)
            if (d->param_rows[2 * i + k])
                gtk_widget_set_sensitive(d->param_rows[2 * i + k],
                                         wpm_param_applies(m, desc, &desc->params[i]));
}

static void update_model_info(dialog_state *d, const wpm_model *m)
{
    char *text = m->description[0] ? g_strdup_printf("%s\n%s", m->kind, m->description)
                                   : g_strdup(m->kind);
    gtk_label_set_text(GTK_LABEL(d->model_info), text);
    gtk_widget_set_tooltip_text(d->model_info, m->path);
    g_free(text);
    sync_params(d, m);
}

static void on_model(GtkComboBox *cb, gpointer data)
{
    dialog_state *d = data;
    int i = gtk_combo_box_get_active(cb);
    if (i < 0 || i >= d->models->n)
        return;
    g_strlcpy(d->cur.model, d->models->items[i].path, sizeof d->cur.model);
    update_model_info(d, &d->models->items[i]);
    if (d->kind == WPJ_SAMPLE) {
        d->cur.width = d->cur.height = 0; /* the new model's own size */
        sync_sample_size(d);
    }
    settings_changed(d);
}

/* The chosen model's kind and description under the chooser, and the
 * model chosen: the one the settings name (as its path), else the first;
 * none when there is none. */
static GtkWidget *model_info(dialog_state *d)
{
    d->model_info = gtk_label_new("");
    gtk_label_set_line_wrap(GTK_LABEL(d->model_info), TRUE);
    gtk_label_set_max_width_chars(GTK_LABEL(d->model_info), 36);
    gtk_label_set_xalign(GTK_LABEL(d->model_info), 0.0f);
    if (d->models->n == 0) {
        gtk_label_set_text(GTK_LABEL(d->model_info),
                           _("No model found. Put model files (*.safetensors) into "
                             "~/.config/wavelet-prior/models or a folder of $WPRIOR_MODEL_PATH."));
        d->cur.model[0] = '\0';
        return d->model_info;
    }
    int sel = MAX(0, wpm_find(d->models, d->cur.model));
    g_strlcpy(d->cur.model, d->models->items[sel].path, sizeof d->cur.model);
    update_model_info(d, &d->models->items[sel]);
    return d->model_info;
}

static GtkWidget *model_chooser(dialog_state *d)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
    GtkWidget *label = gtk_label_new_with_mnemonic(_("_Model:"));
    gtk_widget_set_halign(label, GTK_ALIGN_START);
    gtk_box_pack_start(GTK_BOX(box), label, FALSE, FALSE, 0);
    model_info(d);
    if (d->models->n == 0) {
        gtk_box_pack_start(GTK_BOX(box), d->model_info, FALSE, FALSE, 0);
        return box;
    }
    GtkWidget *combo = gtk_combo_box_text_new();
    for (int i = 0; i < d->models->n; i++)
        gtk_combo_box_text_append_text(GTK_COMBO_BOX_TEXT(combo), d->models->items[i].name);
    gtk_label_set_mnemonic_widget(GTK_LABEL(label), combo);
    int sel = wpm_find(d->models, d->cur.model);
    gtk_combo_box_set_active(GTK_COMBO_BOX(combo), sel);
    g_signal_connect(combo, "changed", G_CALLBACK(on_model), d);
    gtk_box_pack_start(GTK_BOX(box), combo, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(box), d->model_info, FALSE, FALSE, 0);
    return box;
}

/* A labelled row of the parameter grid. */
static void grid_row(GtkWidget *grid, int row, const char *mnemonic, GtkWidget *w)
{
    GtkWidget *label = gtk_label_new_with_mnemonic(mnemonic);
    gtk_widget_set_halign(label, GTK_ALIGN_START);
    gtk_label_set_mnemonic_widget(GTK_LABEL(label), w);
    gtk_grid_attach(GTK_GRID(grid), label, 0, row, 1, 1);
    gtk_widget_set_hexpand(w, TRUE);
    gtk_grid_attach(GTK_GRID(grid), w, 1, row, 1, 1);
}

static void on_int_spin(GtkSpinButton *sb, gpointer data)
{
    dialog_state *d = g_object_get_data(G_OBJECT(sb), "dialog");
    *(int *)data = gtk_spin_button_get_value_as_int(sb);
    settings_changed(d);
}

static GtkWidget *int_spin(dialog_state *d, int *value, int lo, int hi, int step)
{
    GtkWidget *sb = gtk_spin_button_new_with_range(lo, hi, step);
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(sb), *value);
    gtk_entry_set_activates_default(GTK_ENTRY(sb), TRUE);
    g_object_set_data(G_OBJECT(sb), "dialog", d);
    g_signal_connect(sb, "value-changed", G_CALLBACK(on_int_spin), value);
    return sb;
}

static void on_new_seed(GtkButton *b, gpointer data)
{
    (void)b;
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(data), g_random_int_range(0, G_MAXINT32));
}

static GtkWidget *seed_row(dialog_state *d)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 4);
    GtkWidget *spin = int_spin(d, &d->cur.seed, 0, G_MAXINT32, 1);
    GtkWidget *button = gtk_button_new_with_mnemonic(_("_New seed"));
    g_signal_connect(button, "clicked", G_CALLBACK(on_new_seed), spin);
    gtk_box_pack_start(GTK_BOX(box), spin, TRUE, TRUE, 0);
    gtk_box_pack_start(GTK_BOX(box), button, FALSE, FALSE, 0);
    g_object_set_data(G_OBJECT(box), "spin", spin);
    return box;
}

/* A combo box whose i-th entry sets *value to values[i]. */
static void on_choice(GtkComboBox *cb, gpointer data)
{
    dialog_state *d = g_object_get_data(G_OBJECT(cb), "dialog");
    const int *values = g_object_get_data(G_OBJECT(cb), "values");
    int i = gtk_combo_box_get_active(cb);
    if (i >= 0)
        *(int *)data = values[i];
    settings_changed(d);
}

static GtkWidget *choice(dialog_state *d, int *value, const char *const *labels,
                         const int *values, int n)
{
    GtkWidget *cb = gtk_combo_box_text_new();
    int active = 0;
    for (int i = 0; i < n; i++) {
        gtk_combo_box_text_append_text(GTK_COMBO_BOX_TEXT(cb), _(labels[i]));
        if (values[i] == *value)
            active = i;
    }
    *value = values[active];
    gtk_combo_box_set_active(GTK_COMBO_BOX(cb), active);
    g_object_set_data(G_OBJECT(cb), "dialog", d);
    g_object_set_data(G_OBJECT(cb), "values", (gpointer)values);
    g_signal_connect(cb, "changed", G_CALLBACK(on_choice), value);
    return cb;
}

/* ---- the job's parameters, as its descriptor declares them ---- */

static void on_double(GtkRange *r, gpointer data)
{
    dialog_state *d = g_object_get_data(G_OBJECT(r), "dialog");
    wpj_param_set(data, &d->cur, gtk_range_get_value(r));
    settings_changed(d);
}

static GtkWidget *double_scale(dialog_state *d, const wpj_param *p)
{
    GtkWidget *scale = gtk_scale_new_with_range(GTK_ORIENTATION_HORIZONTAL, p->min, p->max,
                                                (p->max - p->min) / 20.0);
    gtk_scale_set_digits(GTK_SCALE(scale), 2);
    gtk_range_set_value(GTK_RANGE(scale), wpj_param_get(p, &d->cur));
    gtk_widget_set_size_request(scale, 160, -1);
    g_object_set_data(G_OBJECT(scale), "dialog", d);
    g_signal_connect(scale, "value-changed", G_CALLBACK(on_double), (gpointer)p);
    return scale;
}

/* The widget of one parameter; *focus gets the widget its label names. */
static GtkWidget *param_widget(dialog_state *d, const wpj_param *p, GtkWidget **focus)
{
    int *field = (int *)(void *)((char *)&d->cur + p->offset);
    GtkWidget *w;
    if (p->nchoices > 0)
        w = choice(d, field, p->labels, p->values, p->nchoices);
    else if (p->type == WPJ_ARG_DOUBLE)
        w = double_scale(d, p);
    else if (!strcmp(p->name, "seed"))
        w = seed_row(d);
    else
        w = int_spin(d, field, (int)p->min, (int)p->max, 1);
    if (!strcmp(p->name, "width"))
        d->size_w = w;
    else if (!strcmp(p->name, "height"))
        d->size_h = w;
    GtkWidget *spin = g_object_get_data(G_OBJECT(w), "spin");
    *focus = spin ? spin : w;
    return w;
}

static void job_params(dialog_state *d, GtkWidget *grid)
{
    const wpj_desc *desc = job_desc(d);
    int row = 0;
    for (int i = 0; i < desc->nparams; i++) {
        const wpj_param *p = &desc->params[i];
        if (p->type == WPJ_ARG_MODEL)
            continue; /* the model chooser above */
        GtkWidget *focus, *w = param_widget(d, p, &focus);
        grid_row(grid, row, _(p->label), w);
        GtkWidget *label = gtk_grid_get_child_at(GTK_GRID(grid), 0, row);
        gtk_label_set_mnemonic_widget(GTK_LABEL(label), focus);
        d->param_rows[2 * i] = label, d->param_rows[2 * i + 1] = w;
        row++;
    }
    int m = wpm_find(d->models, d->cur.model);
    sync_params(d, m >= 0 ? &d->models->items[m] : NULL);
}

/* Sizes step by the prior's multiple; the default is its own size (or
 * the image's).  A host's dialog gets the size proposed. */
static void sync_sample_size(dialog_state *d)
{
    int fw, fh, mult = 1, w, h;
    if (!d->cur.model[0] || ensure_prior(d))
        return;
    wp_prior_sample_size(d->prior, &fw, &fh, &mult);
    mult = MAX(mult, 1);
    wpj_output_size(WPJ_SAMPLE, &d->cur, d->prior, d->src ? d->src->width : 0,
                    d->src ? d->src->height : 0, &w, &h);
    if (!d->size_w) {
        d->cur.width = w;
        d->cur.height = h;
        if (d->propose)
            d->propose(d->propose_data, &d->cur);
        return;
    }
    GtkWidget *spins[2] = {d->size_w, d->size_h};
    int values[2] = {w, h};
    for (int i = 0; i < 2; i++) {
        GtkSpinButton *sb = GTK_SPIN_BUTTON(spins[i]);
        gtk_spin_button_set_range(sb, mult, WP_SAMPLE_SIDE_MAX / mult * mult);
        gtk_spin_button_set_increments(sb, mult, mult * 4);
        gtk_spin_button_set_snap_to_ticks(sb, TRUE);
        gtk_spin_button_set_value(sb, values[i] / mult * mult);
    }
}

/* ---- the dialog ---- */

static GtkWidget *estimate_label(dialog_state *d)
{
    d->estimate = gtk_label_new("");
    gtk_label_set_line_wrap(GTK_LABEL(d->estimate), TRUE);
    gtk_label_set_xalign(GTK_LABEL(d->estimate), 0.0f);
    return d->estimate;
}

static GtkWidget *side_panel(dialog_state *d)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
    gtk_box_pack_start(GTK_BOX(box), model_chooser(d), FALSE, FALSE, 0);
    GtkWidget *grid = gtk_grid_new();
    gtk_grid_set_row_spacing(GTK_GRID(grid), 6);
    gtk_grid_set_column_spacing(GTK_GRID(grid), 8);
    job_params(d, grid);
    gtk_box_pack_start(GTK_BOX(box), grid, FALSE, FALSE, 0);
    gtk_box_pack_end(GTK_BOX(box), estimate_label(d), FALSE, FALSE, 0);
    return box;
}
/* The preview, and above it the zoom bar when it shows a layer's region. */
static GtkWidget *preview_column(dialog_state *d)
{
    d->pv = wp_preview_new(PREVIEW_SIDE, job_name(d));
    GtkWidget *frame = gtk_frame_new(NULL), *vbox = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
    gtk_container_add(GTK_CONTAINER(frame), wp_preview_widget(d->pv));
    if (!previews_whole_job(d)) { /* a region of the layer: pan and zoom */
        wp_preview_set_pan(d->pv, on_pan, d);
        wp_preview_set_zoom(d->pv, on_zoom_step, d);
        gtk_box_pack_start(GTK_BOX(vbox), zoom_bar(d), FALSE, FALSE, 0);
        g_signal_connect(wp_preview_widget(d->pv), "size-allocate", G_CALLBACK(on_preview_resized),
                         d);
    }
    gtk_box_pack_start(GTK_BOX(vbox), frame, TRUE, TRUE, 0);
    return vbox;
}

/* The job's name in the tests' reports. */
static const char *job_name(const dialog_state *d)
{
    wpj_kind kind = d->kind;
    return kind == WPJ_DENOISE ? "denoise" : kind == WPJ_UPSCALE ? "upscale"
                                           : kind == WPJ_HEAL    ? "heal"
                                           : d->cur.exemplar     ? "texture"
                                                                 : "sample";
}

/* The job's help, from its descriptor: what it does, then each setting
 * (when the help pages are not installed or cannot be shown). */
static void show_help_summary(dialog_state *d)
{
    const wpj_desc *desc = job_desc(d);
    GString *t = g_string_new(_(desc->help));
    for (int i = 0; i < desc->nparams; i++) {
        char *label = g_strdup(_(desc->params[i].label));
        char *u;
        while ((u = strchr(label, '_')))
            memmove(u, u + 1, strlen(u));
        g_string_append_printf(t, "\n\n%s %s", label, _(desc->params[i].help));
        g_free(label);
    }
    GtkWidget *m = gtk_message_dialog_new(GTK_WINDOW(d->dialog), GTK_DIALOG_MODAL, GTK_MESSAGE_INFO,
                                          GTK_BUTTONS_CLOSE, "%s", _(desc->blurb));
    gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(m), "%s", t->str);
    gtk_window_set_title(GTK_WINDOW(m), _(desc->title));
    gtk_dialog_run(GTK_DIALOG(m));
    gtk_widget_destroy(m);
    g_string_free(t, TRUE);
}

/* The job's installed help page in the desktop's browser (the dialog
 * tests only hear where it is). */
static void show_help(dialog_state *d)
{
    char *page = wp_ui_help_page(job_desc(d)->proc);
    char *uri = page ? g_filename_to_uri(page, NULL, NULL) : NULL;
    char *line = g_strdup_printf("help %s %s", job_name(d), uri ? uri : "none");
    GError *err = NULL;
    if (!wp_ui_report(line) &&
        (!uri || !gtk_show_uri_on_window(GTK_WINDOW(d->dialog), uri, GDK_CURRENT_TIME, &err)))
        show_help_summary(d);
    g_clear_error(&err);
    g_free(line);
    g_free(uri);
    g_free(page);
}

static gboolean on_key(GtkWidget *w, GdkEventKey *ev, gpointer data)
{
    (void)w;
    if (ev->keyval != GDK_KEY_F1)
        return FALSE;
    show_help(data);
    return TRUE;
}

static void build_dialog(dialog_state *d)
{
    d->dialog = gtk_dialog_new_with_buttons(_(job_desc(d)->title), NULL, 0, _("_Help"),
                                            GTK_RESPONSE_HELP, _("_Cancel"), GTK_RESPONSE_CANCEL,
                                            _("_OK"), GTK_RESPONSE_OK, NULL);
    g_signal_connect(d->dialog, "key-press-event", G_CALLBACK(on_key), d);
    gtk_dialog_set_default_response(GTK_DIALOG(d->dialog), GTK_RESPONSE_OK);
    d->ok = gtk_dialog_get_widget_for_response(GTK_DIALOG(d->dialog), GTK_RESPONSE_OK);
    GtkWidget *hbox = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
    gtk_container_set_border_width(GTK_CONTAINER(hbox), 12);
    gtk_box_pack_start(GTK_BOX(hbox), preview_column(d), TRUE, TRUE, 0);
    gtk_box_pack_start(GTK_BOX(hbox), side_panel(d), FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(gtk_dialog_get_content_area(GTK_DIALOG(d->dialog))), hbox, TRUE,
                       TRUE, 0);
    gtk_widget_set_sensitive(d->ok, d->models->n > 0);
}

/* Centres the region on the layer's middle at first. */
static void initial_region(dialog_state *d)
{
    if (d->kind == WPJ_SAMPLE || d->kind == WPJ_HEAL)
        return;
    /* A layer that fits at 100% or more is shown whole, else at 100%. */
    d->zoom = 0;
    if (view_scale(d) < 1)
        d->zoom = 1;
    region_size(d, &d->region_w, &d->region_h);
    d->region_x = (d->src->width - d->region_w) / 2;
    d->region_y = (d->src->height - d->region_h) / 2;
    show_zoom(d);
}

static void stop_job(dialog_state *d)
{
    char err[WP_ERRLEN];
    if (d->job) {
        wpj_cancel(d->job);
        wpj_finish(d->job, NULL, NULL, err, sizeof err);
        d->job = NULL;
    }
}

/* The first preview: of the layer's middle, at once. */
static void start_previews(dialog_state *d)
{
    initial_region(d);
    d->dirty = 1;
    d->timer = g_timeout_add(TICK_MS, on_tick, d);
}

/* Stops the previews and frees what they hold; sample receives the last
 * sample or fill on OK when it was made with the final settings. */
static void end_previews(dialog_state *d, int ok, wpj_image *sample)
{
    g_source_remove(d->timer);
    stop_job(d);
    wp_prior_free(d->prior);
    wp_workspace_free(d->ws);
    wpj_image_free(&d->job_in);
    if (ok && sample && sample_is_current(d)) {
        *sample = d->sample;
        d->sample.px = NULL;
    }
    wpj_image_free(&d->sample);
}

static int run_dialog(wpj_kind kind, wpj_settings *s, const wpm_list *models,
                      const wp_ui_source *src, wpj_image *sample)
{
    dialog_state d = {.kind = kind, .cur = *s, .models = models, .src = src,
                      .ws = wp_workspace_new()};
    wp_estimate_reset(&d.est);
    build_dialog(&d);
    if (kind == WPJ_SAMPLE)
        sync_sample_size(&d);
    start_previews(&d);
    wp_ui_show(d.dialog, src ? &src->host : NULL);
    gtk_widget_grab_focus(d.ok);
    int response;
    while ((response = gtk_dialog_run(GTK_DIALOG(d.dialog))) == GTK_RESPONSE_HELP)
        show_help(&d);
    int ok = response == GTK_RESPONSE_OK;
    if (ok)
        *s = d.cur;
    end_previews(&d, ok, sample);
    gtk_widget_destroy(d.dialog);
    return ok;
}

/* ---- the panel in a host's dialog ---- */

struct wp_ui_panel {
    dialog_state d;
    GtkWidget *column;
};

wp_ui_panel *wp_ui_panel_new(const wpj_settings *s, const wpm_list *models,
                             const wp_ui_source *src, const wp_ui_panel_host *host)
{
    wp_ui_panel *p = g_new0(wp_ui_panel, 1);
    dialog_state *d = &p->d;
    *d = (dialog_state){.kind = src->job->kind, .cur = *s, .models = models, .src = src,
                        .ws = wp_workspace_new(), .ok = host->ok, .propose = host->propose,
                        .propose_data = host->data};
    wp_estimate_reset(&d->est);
    g_object_ref_sink(model_info(d));
    g_object_ref_sink(estimate_label(d));
    p->column = g_object_ref_sink(preview_column(d));
    gtk_widget_set_sensitive(d->ok, models->n > 0);
    if (strcmp(d->cur.model, s->model) && d->propose) /* the model as its path */
        d->propose(d->propose_data, &d->cur);
    if (d->kind == WPJ_SAMPLE)
        sync_sample_size(d);
    return p;
}

GtkWidget *wp_ui_panel_preview(wp_ui_panel *p)
{
    return p->column;
}

GtkWidget *wp_ui_panel_model_info(wp_ui_panel *p)
{
    return p->d.model_info;
}

GtkWidget *wp_ui_panel_estimate(wp_ui_panel *p)
{
    return p->d.estimate;
}

/* For the dialog tests: "settings KIND name=value ..." as the panel has them. */
static void report_settings(const dialog_state *d)
{
    const wpj_desc *desc = job_desc(d);
    GString *line = g_string_new("settings ");
    g_string_append(line, job_name(d));
    for (int i = 0; i < desc->nparams; i++) {
        const wpj_param *p = &desc->params[i];
        if (p->type == WPJ_ARG_MODEL)
            g_string_append_printf(line, " %s=%s", p->name, d->cur.model);
        else
            g_string_append_printf(line, " %s=%.10g", p->name, wpj_param_get(p, &d->cur));
    }
    wp_ui_report(line->str);
    g_string_free(line, TRUE);
}

void wp_ui_panel_start(wp_ui_panel *p)
{
    report_settings(&p->d);
    start_previews(&p->d);
}

void wp_ui_panel_set(wp_ui_panel *p, const wpj_settings *s)
{
    dialog_state *d = &p->d;
    int new_model = strcmp(d->cur.model, s->model) != 0;
    d->cur = *s;
    int i = new_model ? wpm_find(d->models, s->model) : -1;
    if (i >= 0)
        update_model_info(d, &d->models->items[i]);
    if (new_model && d->kind == WPJ_SAMPLE) {
        d->cur.width = d->cur.height = 0; /* the new model's own size */
        sync_sample_size(d);
    }
    report_settings(d);
    settings_changed(d);
}

void wp_ui_panel_free(wp_ui_panel *p, int ok, wpj_image *sample)
{
    if (!p)
        return;
    end_previews(&p->d, ok, sample);
    g_object_unref(p->d.model_info);
    g_object_unref(p->d.estimate);
    g_object_unref(p->column);
    g_free(p);
}

int wp_ui_denoise_dialog(wpj_settings *s, const wpm_list *models, const wp_ui_source *src)
{
    return run_dialog(WPJ_DENOISE, s, models, src, NULL);
}

int wp_ui_upscale_dialog(wpj_settings *s, const wpm_list *models, const wp_ui_source *src)
{
    return run_dialog(WPJ_UPSCALE, s, models, src, NULL);
}

int wp_ui_sample_dialog(wpj_settings *s, const wpm_list *models, const wp_ui_source *src,
                        wpj_image *sample)
{
    return run_dialog(WPJ_SAMPLE, s, models, src, sample);
}

int wp_ui_heal_dialog(wpj_settings *s, const wpm_list *models, const wp_ui_source *src,
                      wpj_image *result)
{
    return run_dialog(WPJ_HEAL, s, models, src, result);
}
