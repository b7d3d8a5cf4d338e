/* help.c: the installed help pages (help/<lang>/<procedure>.html beside the
 * plug-in's executable, as meson installs them for both GIMP versions). */
#include <glib.h>

#include "wp_ui.h"

char *wp_ui_help_dir(void)
{
    char *exe = g_file_read_link("/proc/self/exe", NULL);
    if (!exe)
        return NULL;
    char *bin = g_path_get_dirname(exe);
    char *dir = g_build_filename(bin, "help", NULL);
    g_free(bin);
    g_free(exe);
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
        g_clear_pointer(&dir, g_free);
    return dir;
}

char *wp_ui_help_page(const char *proc)
{
    char *dir = wp_ui_help_dir();
    if (!dir)
        return NULL;
    char *name = g_strconcat(proc, ".html", NULL), *page = NULL;
    const gchar *const *langs = g_get_language_names();
    for (int i = 0; !page && langs[i]; i++) {
        page = g_build_filename(dir, langs[i], name, NULL);
        if (!g_file_test(page, G_FILE_TEST_IS_REGULAR))
            g_clear_pointer(&page, g_free);
    }
    if (!page) { /* the pages are written in English first */
        page = g_build_filename(dir, "en", name, NULL);
        if (!g_file_test(page, G_FILE_TEST_IS_REGULAR))
            g_clear_pointer(&page, g_free);
    }
    g_free(name);
    g_free(dir);
    return page;
}
