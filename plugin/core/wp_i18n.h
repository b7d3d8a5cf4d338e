/* wp_i18n.h: gettext markers shared by the plug-in and its dialogs. */
#ifndef WP_I18N_H
#define WP_I18N_H

#include <glib/gi18n-lib.h>

/* Sets up the plug-in's gettext domain.  Numbers stay in the C locale: the
 * engine parses model headers with strtod. */
void wp_i18n_init(void);

#endif
