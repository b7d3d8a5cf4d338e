/* models.c: the model folders and what each prior file holds. */
#include "models.h"

#include <glib.h>
#include <locale.h>
#include <string.h>

#include "wp_i18n.h"
#include "wprior.h"

#ifndef WPRIOR_MODELDIR
#define WPRIOR_MODELDIR "/usr/local/share/wavelet-prior/models"
#endif

#define MODEL_EXT ".safetensors"

char **wpm_search_dirs(void)
{
    GPtrArray *dirs = g_ptr_array_new();
    const char *env = g_getenv("WPRIOR_MODEL_PATH");
    if (env) {
        char **parts = g_strsplit(env, G_SEARCHPATH_SEPARATOR_S, -1);
        for (char **p = parts; *p; p++)
            if (**p)
                g_ptr_array_add(dirs, g_strdup(*p));
        g_strfreev(parts);
    }
    g_ptr_array_add(dirs, g_build_filename(g_get_user_config_dir(), "wavelet-prior", "models", NULL));
    g_ptr_array_add(dirs, g_strdup(WPRIOR_MODELDIR));
    g_ptr_array_add(dirs, NULL);
    return (char **)g_ptr_array_free(dirs, FALSE);
}

/* What the model is for, in the words of the plug-in's jobs: a pixel-domain
 * (flat) prior only denoises and fills; a multi-scale one also upscales by
 * up to 2^levels and draws new images (of its own size, when it has one).
 * Whole sentences, so that translators can inflect them. */
static char *kind_text(const wp_prior *p)
{
    int colour = wp_prior_channels(p) == 3;
    if (wp_prior_is_flat(p))
        return g_strdup(colour ? _("Colour model: denoises and fills holes.")
                               : _("Gray model: denoises and fills holes."));
    int up = 1 << wp_prior_levels(p), w, h, mult;
    up = up < WP_FACTOR_MAX ? up : WP_FACTOR_MAX;
    wp_prior_sample_size(p, &w, &h, &mult);
    if (w > 0 && h > 0)
        return g_strdup_printf(colour ? _("Colour model: denoises, upscales (up to %dx), fills "
                                          "holes and draws new %dx%d images.")
                                      : _("Gray model: denoises, upscales (up to %dx), fills "
                                          "holes and draws new %dx%d images."),
                               up, w, h);
    return g_strdup_printf(colour ? _("Colour model: denoises, upscales (up to %dx), fills holes "
                                      "and draws new images.")
                                  : _("Gray model: denoises, upscales (up to %dx), fills holes "
                                      "and draws new images."),
                           up);
}

/* Fills m from the file at path; -1 when it does not load. */
static int describe_model(const char *path, wpm_model *m)
{
    wp_prior *p;
    if (wp_prior_load(path, &p, NULL) != WP_OK)
        return -1;
    const char *name = wp_prior_meta(p, "name");
    const char *desc = wp_prior_meta(p, "description");
    m->path = g_strdup(path);
    if (name && *name) {
        m->name = g_strdup(name);
    } else {
        char *base = g_path_get_basename(path);
        if (g_str_has_suffix(base, MODEL_EXT))
            base[strlen(base) - strlen(MODEL_EXT)] = '\0';
        m->name = base;
    }
    m->description = g_strdup(desc ? desc : "");
    m->kind = kind_text(p);
    m->channels = wp_prior_channels(p);
    m->levels = wp_prior_levels(p);
    m->has_fast = wp_prior_den_level(p) == 0 && m->levels >= 1;
    wp_prior_free(p);
    return 0;
}

int wpm_param_applies(const wpm_model *m, const wpj_desc *d, const wpj_param *p)
{
    if (m && d->kind == WPJ_DENOISE && !strcmp(p->name, "quality"))
        return m->has_fast;
    return 1;
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

/* Appends the models of one folder, in file name order. */
static void scan_dir(const char *dir, GArray *out)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    if (!d)
        return;
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
    const char *f;
    while ((f = g_dir_read_name(d)))
        if (g_str_has_suffix(f, MODEL_EXT))
            g_ptr_array_add(files, g_build_filename(dir, f, NULL));
    g_dir_close(d);
    g_ptr_array_sort(files, compare_names);
    for (guint i = 0; i < files->len; i++) {
        wpm_model m = {0};
        if (describe_model(files->pdata[i], &m) == 0)
            g_array_append_val(out, m);
    }
    g_ptr_array_free(files, TRUE);
}

void wpm_scan(wpm_list *out)
{
    GArray *arr = g_array_new(FALSE, TRUE, sizeof(wpm_model));
    char **dirs = wpm_search_dirs();
    for (char **d = dirs; *d; d++)
        scan_dir(*d, arr);
    g_strfreev(dirs);
    out->n = (int)arr->len;
    out->items = (wpm_model *)(void *)g_array_free(arr, FALSE);
}

void wpm_list_free(wpm_list *l)
{
    for (int i = 0; i < l->n; i++) {
        g_free(l->items[i].path);
        g_free(l->items[i].name);
        g_free(l->items[i].kind);
        g_free(l->items[i].description);
    }
    g_free(l->items);
    l->items = NULL;
    l->n = 0;
}

static int names_file(const char *path, const char *model)
{
    char *base = g_path_get_basename(path);
    size_t n = strlen(model);
    int hit = !strcmp(base, model) ||
              (!strncmp(base, model, n) && !strcmp(base + n, MODEL_EXT));
    g_free(base);
    return hit;
}

int wpm_find(const wpm_list *l, const char *model)
{
    if (!model || !*model)
        return l->n > 0 ? 0 : -1;
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->items[i].path, model) || names_file(l->items[i].path, model))
            return i;
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->items[i].name, model))
            return i;
    return -1;
}

const char *wpm_preferred(const wpj_desc *d, int gray)
{
    wpj_kind kind = d->kind;
    if (kind == WPJ_SAMPLE && !d->exemplar)
        return WP_MODEL_SAMPLE;
    if (gray)
        return WP_MODEL_GRAY;
    return kind == WPJ_SAMPLE  ? WP_MODEL_COLOUR_EXEMPLAR
           : kind == WPJ_UPSCALE ? WP_MODEL_COLOUR_UPSCALE
           : kind == WPJ_HEAL  ? WP_MODEL_COLOUR_HEAL
                               : WP_MODEL_COLOUR_DENOISE;
}

/* A model of l with the channel count the layer has: the shipped one for
 * it, else the first such; NULL when l has none. */
static const char *model_for_channels(const wpm_list *l, const char *mine, int channels)
{
    int i = wpm_find(l, mine);
    if (i >= 0 && l->items[i].channels == channels)
        return mine;
    for (i = 0; i < l->n; i++)
        if (l->items[i].channels == channels)
            return l->items[i].path;
    return NULL;
}

void wpm_choose(const wpm_list *l, char *model, size_t len, wpj_kind kind, int gray)
{
    wpm_choose_for(l, model, len, wpj_describe(kind), gray);
}

void wpm_choose_for(const wpm_list *l, char *model, size_t len, const wpj_desc *d, int gray)
{
    int sample = !d->needs_input;
    const char *mine = wpm_preferred(d, gray);
    if (model[0]) {
        /* A remembered colour model (from a colour layer, now on a gray
         * one) gives way, and so does the shipped gray prior remembered
         * from a gray layer, now on a colour one, where the colour prior
         * does better; any other gray model stays: it denoises colour
         * layers. */
        int i = wpm_find(l, model);
        const char *other = NULL;
        if (i >= 0 && !sample && gray && l->items[i].channels != 1)
            other = model_for_channels(l, mine, 1);
        else if (i >= 0 && !sample && !gray && strcmp(mine, WP_MODEL_GRAY) &&
                 i == wpm_find(l, WP_MODEL_GRAY) && wpm_find(l, mine) >= 0)
            other = mine;
        if (other)
            g_strlcpy(model, other, len);
        return;
    }
    const char *env = g_getenv("WPRIOR_MODEL");
    if (env && *env) {
        g_strlcpy(model, env, len);
        return;
    }
    if (wpm_find(l, mine) >= 0)
        g_strlcpy(model, mine, len);
}

char *wpm_resolve(const char *model, char *err, int errlen)
{
    return wpm_resolve_in(NULL, model, err, errlen);
}

char *wpm_resolve_in(const wpm_list *l, const char *model, char *err, int errlen)
{
    if (model && *model && g_file_test(model, G_FILE_TEST_EXISTS))
        return g_strdup(model);
    wpm_list own = {0};
    if (!l)
        wpm_scan(&own), l = &own;
    int i = wpm_find(l, model);
    char *path = i >= 0 ? g_strdup(l->items[i].path) : NULL;
    wpm_list_free(&own);
    if (!path && (!model || !*model))
        g_snprintf(err, errlen, _("No model found. Put model files (*.safetensors) into %s."),
                   "~/.config/wavelet-prior/models");
    else if (!path)
        g_snprintf(err, errlen, _("Model \"%s\" not found."), model);
    return path;
}

void wp_i18n_init(void)
{
    setlocale(LC_ALL, "");
    setlocale(LC_NUMERIC, "C");
    const char *dir = g_getenv("WPRIOR_LOCALEDIR"); /* an uninstalled build's po/ */
    bindtextdomain(GETTEXT_PACKAGE, dir ? dir : LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
}
