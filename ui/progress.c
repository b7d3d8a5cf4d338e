/* progress.c: the small progress window with a Cancel button. */
#include <gtk/gtk.h>

#include "ui_common.h"
#include "wp_i18n.h"
#include "wp_ui.h"

typedef struct {
    const wp_ui_progress *p;
    GtkWidget *bar;
    GMainLoop *loop;
    int cancelled;
} progress_state;

static void request_cancel(progress_state *st)
{
    if (st->cancelled)
        return;
    st->cancelled = 1;
    gtk_progress_bar_set_text(GTK_PROGRESS_BAR(st->bar), _("Cancelling..."));
    st->p->cancel(st->p->data);
}

static gboolean on_tick(gpointer data)
{
    progress_state *st = data;
    int done = 0;
    double f = st->p->poll(st->p->data, &done);
    gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(st->bar), f);
    if (!done)
        return G_SOURCE_CONTINUE;
    g_main_loop_quit(st->loop);
    return G_SOURCE_REMOVE;
}

static void on_cancel(GtkButton *b, gpointer data)
{
    (void)b;
    request_cancel(data);
}

static gboolean on_delete(GtkWidget *w, GdkEvent *ev, gpointer data)
{
    (void)w;
    (void)ev;
    request_cancel(data);
    return TRUE; /* the window goes when the job has stopped */
}

static gboolean on_key(GtkWidget *w, GdkEventKey *ev, gpointer data)
{
    (void)w;
    if (ev->keyval != GDK_KEY_Escape)
        return FALSE;
    request_cancel(data);
    return TRUE;
}

void wp_ui_progress_run(const wp_ui_progress *p)
{
    progress_state st = {.p = p, .loop = g_main_loop_new(NULL, FALSE)};
    GtkWidget *win = gtk_window_new(GTK_WINDOW_TOPLEVEL);
    gtk_window_set_title(GTK_WINDOW(win), p->title);
    gtk_window_set_default_size(GTK_WINDOW(win), 360, -1);
    gtk_window_set_type_hint(GTK_WINDOW(win), GDK_WINDOW_TYPE_HINT_DIALOG);
    gtk_container_set_border_width(GTK_CONTAINER(win), 12);
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 8);
    gtk_container_add(GTK_CONTAINER(win), box);
    gtk_box_pack_start(GTK_BOX(box), gtk_label_new(p->title), FALSE, FALSE, 0);
    st.bar = gtk_progress_bar_new();
    gtk_progress_bar_set_show_text(GTK_PROGRESS_BAR(st.bar), TRUE);
    gtk_box_pack_start(GTK_BOX(box), st.bar, FALSE, FALSE, 0);
    GtkWidget *cancel = gtk_button_new_with_mnemonic(_("_Cancel"));
    gtk_widget_set_halign(cancel, GTK_ALIGN_END);
    gtk_box_pack_start(GTK_BOX(box), cancel, FALSE, FALSE, 0);
    g_signal_connect(cancel, "clicked", G_CALLBACK(on_cancel), &st);
    g_signal_connect(win, "delete-event", G_CALLBACK(on_delete), &st);
    g_signal_connect(win, "key-press-event", G_CALLBACK(on_key), &st);
    wp_ui_show(win, &p->host);
    guint timer = g_timeout_add(50, on_tick, &st);
    g_main_loop_run(st.loop);
    (void)timer; /* on_tick removed itself */
    gtk_widget_destroy(win);
    g_main_loop_unref(st.loop);
}
