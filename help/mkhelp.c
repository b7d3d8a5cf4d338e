/* mkhelp.c: writes the plug-in's help pages (OUTDIR/en/<procedure>.html)
 * and GIMP's map of them (OUTDIR/en/gimp-help.xml) from the job
 * descriptors, the same texts the procedures and dialogs show.
 * Usage: wprior-mkhelp OUTDIR */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "jobs.h"

static void put_escaped(GString *o, const char *s)
{
    char *e = g_markup_escape_text(s, -1);
    g_string_append(o, e);
    g_free(e);
}

/* "_Strength:" -> "Strength", "_Denoise (Wavelet Prior)..." -> "Denoise (Wavelet Prior)" */
static char *plain_label(const char *label)
{
    GString *t = g_string_new("");
    for (const char *c = label; *c; c++)
        if (*c != '_')
            g_string_append_c(t, *c);
    while (t->len && (t->str[t->len - 1] == ':' || t->str[t->len - 1] == '.'))
        g_string_truncate(t, t->len - 1);
    return g_string_free(t, FALSE);
}

/* "<Image>/Filters/Enhance" + label -> "Filters &gt; Enhance &gt; Label..." */
static void put_menu(GString *o, const char *path, const char *label)
{
    char **parts = g_strsplit(path, "/", -1);
    for (int i = 1; parts[i]; i++) {
        put_escaped(o, parts[i]);
        g_string_append(o, " &gt; ");
    }
    char *l = plain_label(label);
    put_escaped(o, l);
    g_string_append(o, "...");
    g_free(l);
    g_strfreev(parts);
}

static void put_param(GString *o, const wpj_param *p)
{
    char *l = plain_label(p->label);
    g_string_append(o, "<dt>");
    put_escaped(o, l);
    g_string_append_printf(o, " <code>%s</code></dt>\n<dd>", p->name);
    put_escaped(o, p->help);
    if (p->nchoices > 0) {
        g_string_append(o, "<br>In the dialog: ");
        for (int i = 0; i < p->nchoices; i++) {
            g_string_append(o, i ? ", " : "");
            put_escaped(o, p->labels[i]);
        }
        g_string_append(o, ".");
    }
    g_string_append(o, "</dd>\n");
    g_free(l);
}

static const char *const region_text =
    "<h2>The dialog</h2>\n"
    "<p>The preview shows the job on a part of the layer: left of the white line as it is, "
    "right of it as it will be. Drag the line to move it; drag the picture to pan. The "
    "buttons above it, or the mouse wheel over it, zoom: <em>Fit</em> shows the whole "
    "layer (its middle 4 megapixels when it is larger), <em>100%</em> and <em>200%</em> show the result's pixels at that size. The "
    "preview grows with the dialog. It is computed in the background and starts again when "
    "a setting changes. The time the whole job will take is estimated from how fast the "
    "preview ran; it reads <em>estimating...</em> until it has been measured.</p>\n";

static const char *const whole_text =
    "<h2>The dialog</h2>\n"
    "<p>The preview shows the whole result (left of the white line: before; drag the line to "
    "move it), with the time it took. It is computed in the background and starts again "
    "when a setting changes; OK keeps the finished preview instead of computing it "
    "again.</p>\n";

static const char *const common_text =
    "<p>Return runs the job, Escape cancels, F1 or <em>Help</em> opens this page.</p>\n"
    "<h2>Models</h2>\n"
    "<p>Models are <code>.safetensors</code> files in the folders of "
    "<code>$WPRIOR_MODEL_PATH</code>, in <code>~/.config/wavelet-prior/models</code> and in "
    "the installed models folder. The dialog lists each with its name, kind and "
    "description.</p>\n"
    "<h2>Nothing is lost</h2>\n"
    "<p>The job runs to its end before the image is touched, with a progress bar and a "
    "Cancel button. A failure or a cancel leaves the image as it was; a finished job is "
    "one undo step.</p>\n";

static int write_page(const char *dir, const wpj_desc *d)
{
    GString *o = g_string_new("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                              "<meta charset=\"utf-8\">\n<title>");
    put_escaped(o, d->title);
    g_string_append(o, "</title>\n<style>body { font-family: sans-serif; max-width: 46em; "
                       "margin: 2em auto; line-height: 1.4 } dt { font-weight: bold; "
                       "margin-top: 0.6em }</style>\n</head>\n<body>\n<h1>");
    put_escaped(o, d->title);
    g_string_append(o, "</h1>\n<p><em>");
    for (int m = 0; m < 2 && d->menus[m]; m++) {
        g_string_append(o, m ? " or " : "");
        put_menu(o, d->menus[m], d->menu_label);
    }
    g_string_append(o, "</em></p>\n<p><strong>");
    put_escaped(o, d->blurb);
    g_string_append(o, ".</strong> ");
    put_escaped(o, d->help);
    g_string_append(o, "</p>\n<h2>Settings</h2>\n<dl>\n");
    for (int i = 0; i < d->nparams; i++)
        put_param(o, &d->params[i]);
    g_string_append(o, "</dl>\n");
    g_string_append(o, d->kind == WPJ_DENOISE || d->kind == WPJ_UPSCALE ? region_text : whole_text);
    g_string_append(o, common_text);
    g_string_append_printf(o, "<h2>In scripts</h2>\n<p>The procedure <code>%s</code> takes "
                              "run-mode, image, drawable (GIMP 3: drawables), then", d->proc);
    for (int i = 0; i < d->nparams; i++)
        g_string_append_printf(o, "%s <code>%s</code>", i ? "," : "", d->params[i].name);
    g_string_append(o, ".</p>\n<p>The other procedures:");
    for (int k = 0, n = 0; k < WPJ_NPROCS; k++) {
        const wpj_desc *e = wpj_proc(k);
        if (e == d)
            continue;
        g_string_append_printf(o, "%s <a href=\"%s.html\">", n++ ? "," : "", e->proc);
        put_escaped(o, e->title);
        g_string_append(o, "</a>");
    }
    g_string_append(o, ".</p>\n</body>\n</html>\n");
    char *path = g_strdup_printf("%s/%s.html", dir, d->proc);
    GError *err = NULL;
    int ok = g_file_set_contents(path, o->str, o->len, &err);
    if (!ok)
        fprintf(stderr, "wprior-mkhelp: %s\n", err->message), g_error_free(err);
    g_free(path);
    g_string_free(o, TRUE);
    return ok ? 0 : -1;
}

static int write_map(const char *dir)
{
    GString *o = g_string_new("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gimp-help>\n");
    for (int k = 0; k < WPJ_NPROCS; k++) {
        const char *proc = wpj_proc(k)->proc;
        g_string_append_printf(o, "  <help-item id=\"%s\" ref=\"%s.html\"/>\n", proc, proc);
    }
    g_string_append(o, "</gimp-help>\n");
    char *path = g_strdup_printf("%s/gimp-help.xml", dir);
    int ok = g_file_set_contents(path, o->str, o->len, NULL);
    g_free(path);
    g_string_free(o, TRUE);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: wprior-mkhelp OUTDIR\n");
        return 2;
    }
    char *dir = g_build_filename(argv[1], "en", NULL);
    int st = g_mkdir_with_parents(dir, 0755) ? -1 : write_map(dir);
    for (int k = 0; k < WPJ_NPROCS && st == 0; k++)
        st = write_page(dir, wpj_proc(k));
    g_free(dir);
    return st ? 1 : 0;
}
