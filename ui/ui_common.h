/* ui_common.h: helpers shared by the dialogs and the progress window. */
#ifndef WP_UI_COMMON_H
#define WP_UI_COMMON_H

#include <gtk/gtk.h>

#include "wp_ui.h"

/* Shows the toplevel win and what it holds; the host (host or its attach
 * may be NULL) places it in between, once it is realized. */
void wp_ui_show(GtkWidget *win, const wp_ui_host *host);
/* For the dialog tests: appends line to $WPRIOR_UI_REPORT; 0 when that
 * is not set (not under test). */
int wp_ui_report(const char *line);
/* "about 3 s", "about 2 min": a translated rough duration. */
char *wp_ui_format_duration(double seconds);

#endif
