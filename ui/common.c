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

void wp_ui_attach(GtkWidget *win, const wp_ui_host *host)
{
    if (host && host->attach)
        host->attach(GTK_WINDOW(win), host->data);
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
