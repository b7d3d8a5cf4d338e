/* test_ui_zoom.c: the denoise dialog's preview on a layer larger than it,
 * without GIMP (under xvfb-run): it opens at 100%; Fit shows the whole
 * layer; 200%; the mouse wheel goes to 400% and back; a larger dialog
 * previews a larger region.  Each step waits for the preview computed anew
 * (the dialogs report it in $WPRIOR_UI_REPORT).  Exit 77 without a display. */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp_ui.h"

#define LW 1000
#define LH 800

static char *report_path;
static int step, failures, ticks;
static double want_scale = 1;
static int prev_w, prev_h;

static int fetch(void *data, int x, int y, int w, int h, float *out)
{
    (void)data;
    for (int j = 0; j < h; j++)
        for (int i = 0; i < w; i++) {
            int X = x + i, Y = y + j;
            out[(size_t)j * w + i] = 0.5f + 0.3f * sinf(X * 0.05f) * cosf(Y * 0.07f) +
                                     0.1f * ((X * 7 + Y * 13) % 17 / 17.0f - 0.5f);
        }
    return 0;
}

static void check(int ok, const char *what)
{
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    failures += !ok;
}

/* The last "preview denoise X Y W H SCALE" line since the report was
 * emptied; 0 when none yet. */
static int read_report(int *w, int *h, double *s)
{
    char *text = NULL;
    int found = 0;
    if (!g_file_get_contents(report_path, &text, NULL, NULL))
        return 0;
    char **lines = g_strsplit(text, "\n", -1);
    for (int i = 0; lines[i]; i++) {
        int x, y;
        if (sscanf(lines[i], "preview denoise %d %d %d %d %lf", &x, &y, w, h, s) == 5)
            found = 1;
    }
    g_strfreev(lines);
    g_free(text);
    return found;
}

typedef int (*match_fn)(GtkWidget *w, const char *arg);

/* The first widget under w (w included) that match accepts. */
static GtkWidget *find(GtkWidget *w, match_fn match, const char *arg)
{
    if (match(w, arg))
        return w;
    if (!GTK_IS_CONTAINER(w))
        return NULL;
    GList *kids = gtk_container_get_children(GTK_CONTAINER(w)), *l;
    GtkWidget *hit = NULL;
    for (l = kids; l && !hit; l = l->next)
        hit = find(l->data, match, arg);
    g_list_free(kids);
    return hit;
}

static int is_button(GtkWidget *w, const char *label)
{
    return GTK_IS_BUTTON(w) && !g_strcmp0(gtk_button_get_label(GTK_BUTTON(w)), label);
}

static int is_area(GtkWidget *w, const char *unused)
{
    (void)unused;
    return GTK_IS_DRAWING_AREA(w);
}

static int is_label(GtkWidget *w, const char *prefix)
{
    return GTK_IS_LABEL(w) && g_str_has_prefix(gtk_label_get_text(GTK_LABEL(w)), prefix);
}

static GtkWidget *the_dialog(void)
{
    GList *tops = gtk_window_list_toplevels(), *l;
    GtkWidget *d = NULL;
    for (l = tops; l && !d; l = l->next)
        if (GTK_IS_DIALOG(l->data) && gtk_widget_get_visible(l->data))
            d = l->data;
    g_list_free(tops);
    return d;
}

static void wheel(GtkWidget *area, GdkScrollDirection dir)
{
    GdkEvent *ev = gdk_event_new(GDK_SCROLL);
    ev->scroll.window = g_object_ref(gtk_widget_get_window(area));
    ev->scroll.direction = dir;
    ev->scroll.x = gtk_widget_get_allocated_width(area) / 2.0;
    ev->scroll.y = gtk_widget_get_allocated_height(area) / 2.0;
    gdk_event_set_device(ev, gdk_seat_get_pointer(gdk_display_get_default_seat(
                                 gtk_widget_get_display(area))));
    gtk_widget_event(area, ev);
    gdk_event_free(ev);
}

/* Whether a picture drawn n wide at scale s is the region that fills a
 * preview N wide: whole layer pixels, so up to one of them beyond it (an
 * odd allocation at 200%: N + 1). */
static int covers(int n, int N, double s)
{
    return n >= N && n < N + s;
}

/* Runs once the step's preview is drawn: checks it, starts the next step. */
static void next_step(GtkWidget *dialog, int w, int h, double s)
{
    GtkWidget *area = find(dialog, is_area, NULL);
    int W = gtk_widget_get_allocated_width(area), H = gtk_widget_get_allocated_height(area);
    char *what = g_strdup_printf("step %d: the preview (%dx%d) drawn %dx%d at scale %.3f "
                                 "(wanted %.3f)", step, W, H, w, h, s, want_scale);
    double fit = fmin((double)W / LW, (double)H / LH);
    switch (step) {
    case 0: /* opens at 100%: a region the preview's size */
        check(fabs(s - 1) < 1e-3 && w == MIN(W, LW) && h == MIN(H, LH), what);
        GtkWidget *est = find(dialog, is_label, "Estimated time for the whole layer: ");
        const char *t = est ? gtk_label_get_text(GTK_LABEL(est)) : "no estimate";
        printf("     %s\n", t);
        check(est && !strstr(t, "estimating"), "a finished preview gives a time estimate");
        want_scale = fit;
        gtk_button_clicked(GTK_BUTTON(find(dialog, is_button, "F_it")));
        break;
    case 1: /* the whole layer */
        check(fabs(s - fit) < 1e-3 && abs(w - (int)lround(LW * fit)) <= 1, what);
        want_scale = 2;
        gtk_button_clicked(GTK_BUTTON(find(dialog, is_button, "_200%")));
        break;
    case 2:
        check(fabs(s - 2) < 1e-3, what);
        want_scale = 4;
        wheel(area, GDK_SCROLL_UP);
        break;
    case 3:
        check(fabs(s - 4) < 1e-3, what);
        want_scale = 2;
        wheel(area, GDK_SCROLL_DOWN);
        break;
    case 4: /* then a larger dialog */
        check(fabs(s - 2) < 1e-3, what);
        prev_w = w, prev_h = h;
        int dw, dh;
        gtk_window_get_size(GTK_WINDOW(dialog), &dw, &dh);
        gtk_window_resize(GTK_WINDOW(dialog), dw + 200, dh + 100);
        break;
    case 5:
        /* the picture fills the grown preview: a larger region */
        check(fabs(s - 2) < 1e-3 && w > prev_w && h > prev_h && covers(w, W, s) && covers(h, H, s),
              what);
        gtk_dialog_response(GTK_DIALOG(dialog), GTK_RESPONSE_CANCEL);
        break;
    }
    g_free(what);
    step++;
    g_file_set_contents(report_path, "", 0, NULL);
}

/* Whether the preview area is now the one a w x h picture at scale s fills. */
static int settled(GtkWidget *dialog, int w, int h, double s)
{
    GtkWidget *area = find(dialog, is_area, NULL);
    return covers(w, gtk_widget_get_allocated_width(area), s) &&
           covers(h, gtk_widget_get_allocated_height(area), s);
}

static gboolean drive(gpointer data)
{
    (void)data;
    GtkWidget *dialog = the_dialog();
    int w, h;
    double s;
    if (++ticks > 1800) { /* 3 minutes */
        GtkWidget *area = dialog ? find(dialog, is_area, NULL) : NULL;
        char last[64] = "none";
        if (read_report(&w, &h, &s))
            snprintf(last, sizeof last, "%dx%d at %.3f", w, h, s);
        char *what = g_strdup_printf(
            "every step's preview was drawn in time (step %d; last report %s; preview %dx%d)", step,
            last, area ? gtk_widget_get_allocated_width(area) : 0,
            area ? gtk_widget_get_allocated_height(area) : 0);
        check(0, what);
        g_free(what);
        if (dialog)
            gtk_dialog_response(GTK_DIALOG(dialog), GTK_RESPONSE_CANCEL);
        return G_SOURCE_REMOVE;
    }
    /* The preview of a step is the one at its scale (a resize may draw the
     * old picture again first, and the window manager may resize in more than
     * one allocation: step 5 waits for the preview of the settled one). */
    if (dialog && read_report(&w, &h, &s) && (step == 0 || fabs(s - want_scale) < 1e-3) &&
        (step != 5 || (w > prev_w && settled(dialog, w, h, s))))
        next_step(dialog, w, h, s);
    return step > 5 ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

int main(void)
{
    if (!gtk_init_check(NULL, NULL)) {
        printf("SKIP: no display\n");
        return 77;
    }
    const char *root = g_getenv("WPRIOR_SOURCE_ROOT");
    if (!root) {
        printf("FAIL: WPRIOR_SOURCE_ROOT is not set (run it with meson test)\n");
        return 1;
    }
    char *dir = g_dir_make_tmp("wprior-zoom-XXXXXX", NULL);
    report_path = g_build_filename(dir, "report.txt", NULL);
    g_setenv("WPRIOR_UI_REPORT", report_path, TRUE);
    char *path = g_build_filename(root, "models", "face-gray.safetensors", NULL);
    wpm_model m = {path, "Faces", "", "", 1, 2, 0};
    wpm_list models = {&m, 1};
    wpj_settings s;
    wpj_settings_defaults(&s);
    g_strlcpy(s.model, path, sizeof s.model);
    wp_ui_source src = {.fetch = fetch, .width = LW, .height = LH, .channels = 1};
    g_timeout_add(100, drive, NULL);
    wp_ui_denoise_dialog(&s, &models, &src);
    check(step == 6, "all six steps ran");
    g_unlink(report_path);
    g_rmdir(dir);
    g_free(report_path);
    g_free(dir);
    g_free(path);
    return failures ? 1 : 0;
}
