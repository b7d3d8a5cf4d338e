/* common.c: GTK set-up and helpers shared by the windows. */
#include <gtk/gtk.h>
#include <math.h>
#include <stdio.h>

#include "ui_common.h"
#include "wp_i18n.h"
#include "wp_ui.h"

int wp_ui_init(void)
{
    static int ready;
    if (ready)
        return 0;
    gtk_disable_setlocale(); /* the plug-in set the locale (numbers stay C) */
    if (!gtk_init_check(NULL, NULL)) {
        fprintf(stderr, "wavelet-prior: %s\n", _("Cannot open the display."));
        return -1;
    }
    ready = 1;
    return 0;
}

static void show_child(GtkWidget *w, gpointer data)
{
    (void)data;
    gtk_widget_show_all(w);
}

void wp_ui_show(GtkWidget *win, const wp_ui_host *host)
{
    /* Realized at its final size, so that the host can place it before the
     * window manager first sees it. */
    gtk_container_foreach(GTK_CONTAINER(win), show_child, NULL);
    gtk_widget_realize(win);
    if (host && host->attach)
        host->attach(GTK_WINDOW(win), host->data);
    gtk_widget_show(win);
}

void wp_ui_place_over(GtkWindow *win, GdkWindow *parent)
{
    GdkWindow *own = gtk_widget_get_window(GTK_WIDGET(win));
    if (!own || !parent)
        return;
    gdk_window_set_transient_for(own, parent);
    GdkRectangle p, area;
    gdk_window_get_frame_extents(parent, &p);
    GdkMonitor *mon = gdk_display_get_monitor_at_window(gdk_window_get_display(parent), parent);
    gdk_monitor_get_workarea(mon, &area);
    int w, h;
    gtk_window_get_size(win, &w, &h);
    int x = p.x + (p.width - w) / 2, y = p.y + (p.height - h) / 2;
    x = CLAMP(x, area.x, MAX(area.x, area.x + area.width - w));
    y = CLAMP(y, area.y, MAX(area.y, area.y + area.height - h));
    gtk_window_move(win, x, y);
}

int wp_ui_report(const char *line)
{
    const char *path = g_getenv("WPRIOR_UI_REPORT");
    if (!path)
        return 0;
    FILE *f = fopen(path, "a");
    if (f) {
        fprintf(f, "%s\n", line);
        fclose(f);
    }
    return 1;
}

char *wp_ui_format_duration(double seconds)
{
    if (seconds < 1.0)
        return g_strdup(_("under a second"));
    if (seconds < 90.0) {
        int s = (int)lround(seconds);
        return g_strdup_printf(ngettext("about %d second", "about %d seconds", s), s);
    }
    int m = (int)lround(seconds / 60.0);
    return g_strdup_printf(ngettext("about %d minute", "about %d minutes", m), m);
}
