/* models.h: finding prior files for the plug-in (no GIMP, no GTK).
 *
 * Models are *.safetensors files in, in this order: every folder of
 * $WPRIOR_MODEL_PATH (colon-separated), ~/.config/wavelet-prior/models and
 * the installed data folder. */
#ifndef WP_MODELS_H
#define WP_MODELS_H

#include <stddef.h>

#include "jobs.h"

typedef struct {
    char *path;
    char *name;        /* metadata "name", else the file name without extension */
    char *kind;        /* what it is for, e.g. "Gray model: denoises, upscales (up to
                          4x), fills holes and draws new images." (translated) */
    char *description; /* metadata "description" or "" */
    int channels;
    int levels;        /* 0: flat */
    int has_fast;      /* denoising has a Fast route: a den at level 0 (wp_denoise_options.fast,
                          and .blend for Best) */
} wpm_model;

typedef struct {
    wpm_model *items;
    int n;
} wpm_list;

/* The folders searched, NULL-terminated; free with g_strfreev. */
char **wpm_search_dirs(void);
/* Lists every model that loads; files that do not load are left out. */
void wpm_scan(wpm_list *out);
void wpm_list_free(wpm_list *l);
/* Index of the model a user string names: an exact path, a file name with
 * or without ".safetensors", or a metadata name.  An empty string picks the
 * first model.  -1 when none matches. */
int wpm_find(const wpm_list *l, const char *model);
/* The shipped model a job uses when none is named (WP_MODEL_*): the
 * texture prior for samples, the gray prior on gray layers, on colour
 * layers the job's colour default (a texture from a selection: the
 * exemplar's). */
const char *wpm_preferred(const wpj_desc *d, int gray);
/* The model a job uses when the settings name model (may be ""): that
 * one, except that "" becomes $WPRIOR_MODEL (as in the CLI) or else the
 * shipped model for the job when it is in l, and that a model of l whose
 * channel count is not the layer's (a colour model remembered from a
 * colour layer, on a gray layer) gives way to the shipped model for the
 * layer, else the first gray model of l; the shipped gray prior on a
 * colour layer gives way to the job's colour default.  Writes into
 * model (len bytes). */
void wpm_choose(const wpm_list *l, char *model, size_t len, wpj_kind kind, int gray);
/* The same for a procedure (Texture from Selection is a sample that
 * chooses as the filters do). */
void wpm_choose_for(const wpm_list *l, char *model, size_t len, const wpj_desc *d, int gray);
/* Whether parameter p of job d does anything with model m (NULL: unknown,
 * it does): denoising's Quality only where the model has a Fast route.  The
 * dialogs grey out the others. */
int wpm_param_applies(const wpm_model *m, const wpj_desc *d, const wpj_param *p);
/* The file a PDB "model" argument names: an existing path as it is, else
 * a scanned model.  Returns a g_malloc'ed path, or NULL with a message. */
char *wpm_resolve(const char *model, char *err, int errlen);
/* The same with models already scanned (l may be NULL: scanned here). */
char *wpm_resolve_in(const wpm_list *l, const char *model, char *err, int errlen);

#endif
