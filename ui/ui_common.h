/* ui_common.h: helpers shared by the dialogs and the progress window. */
#ifndef WP_UI_COMMON_H
#define WP_UI_COMMON_H

#include <gtk/gtk.h>

/* Keeps win above the host's window (X11 id parent, 0: none). */
void wp_ui_set_parent(GtkWidget *win, unsigned long parent);
/* "about 3 s", "about 2 min": a translated rough duration. */
char *wp_ui_format_duration(double seconds);

#endif
