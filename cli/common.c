/* common.c: helpers shared by the subcommands. */
#include "cli_common.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("wprior: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

int cli_parse_int(const char *s, const char *what, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi) {
        cli_error("%s must be an integer in %ld..%ld, not '%s'", what, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

const char *cli_factors(void)
{
    static char buf[64];
    size_t n = 0;
    for (int f = WP_FACTOR_MIN; f <= WP_FACTOR_MAX && n < sizeof buf; f *= 2)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%d",
                              f == WP_FACTOR_MIN ? "" : f == WP_FACTOR_MAX ? " or " : ", ", f);
    return buf;
}

/* Whether this wprior is the one in the build folder (not installed). */
static int running_from_build(void)
{
    char exe[4096], dir[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0 || !realpath(WPRIOR_BUILD_DIR, dir))
        return 0;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return 0;
    *slash = 0;
    return strcmp(exe, dir) == 0;
}

#define MAX_MODEL_DIRS 16

/* The folders a model name is looked up in, in the plug-in's order:
 * $WPRIOR_MODEL_PATH (colon-separated), the user's model folder, the
 * shipped ones (installed, else the source tree's; a wprior run from its
 * build folder looks in its own source tree first, so that an older
 * installed copy does not shadow the model being worked on). */
static int model_dirs(char dirs[][4096])
{
    int n = 0;
    const char *env = getenv("WPRIOR_MODEL_PATH");
    while (env && *env && n < MAX_MODEL_DIRS - 3) {
        size_t len = strcspn(env, ":");
        if (len > 0 && len < 4096)
            snprintf(dirs[n++], 4096, "%.*s", (int)len, env);
        env += len + (env[len] == ':');
    }
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(dirs[n++], 4096, "%s/wavelet-prior/models", xdg);
    else if (home && *home)
        snprintf(dirs[n++], 4096, "%s/.config/wavelet-prior/models", home);
    int src_first = running_from_build();
    snprintf(dirs[n++], 4096, "%s", src_first ? WPRIOR_SOURCE_MODEL_DIR : WPRIOR_MODEL_DIR);
    snprintf(dirs[n++], 4096, "%s", src_first ? WPRIOR_MODEL_DIR : WPRIOR_SOURCE_MODEL_DIR);
    return n;
}

/* A model file NAME (with its extension) in the model folders. */
static const char *shipped_model(const char *name)
{
    static char path[8192];
    char dirs[MAX_MODEL_DIRS][4096];
    int n = model_dirs(dirs);
    for (int i = 0; name && i < n; i++) {
        snprintf(path, sizeof path, "%.4095s/%.4000s", dirs[i], name);
        if (access(path, R_OK) == 0)
            return path;
    }
    return NULL;
}

/* "a, b, c": the models in the model folders (each name once). */
static void list_models(char *out, size_t len)
{
    char dirs[MAX_MODEL_DIRS][4096];
    int n = model_dirs(dirs);
    size_t used = 0;
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        DIR *d = opendir(dirs[i]);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            const char *ext = strstr(e->d_name, ".safetensors");
            if (!ext || ext[12])
                continue;
            char name[300];
            snprintf(name, sizeof name, "%.*s", (int)(ext - e->d_name), e->d_name);
            char key[304];
            snprintf(key, sizeof key, ", %s,", name);
            char padded[4200];
            snprintf(padded, sizeof padded, ", %s,", out);
            if (strstr(padded, key))
                continue;
            used += snprintf(out + used, used < len ? len - used : 0, "%s%s", used ? ", " : "", name);
        }
        if (d)
            closedir(d);
    }
    if (used >= len && len > 4)
        strcpy(out + len - 4, "...");
}

wp_prior *cli_load_model(const char *path) { return cli_load_model_or(path, NULL); }

wp_prior *cli_load_model_or(const char *path, const char *preferred)
{
    if (path && !*path) { /* -m "" is a mistake, not a request for the default */
        cli_error("the model path is empty");
        return NULL;
    }
    if (!path)
        path = getenv("WPRIOR_MODEL");
    if (!path || !*path)
        path = shipped_model(preferred);
    if (!path)
        path = shipped_model(WPRIOR_DEFAULT_MODEL_NAME);
    if (!path) {
        cli_error("no model given: use -m MODEL or set WPRIOR_MODEL (no shipped %s in %s)",
                  WPRIOR_DEFAULT_MODEL_NAME, WPRIOR_MODEL_DIR);
        return NULL;
    }
    /* A bare name that is no file here names a shipped model: -m paper. */
    char named[1024];
    struct stat sb;
    if (!strchr(path, '/') && (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) && strlen(path) < 900) {
        const char *ext = strstr(path, ".safetensors");
        snprintf(named, sizeof named, "%s%s", path, ext && !ext[12] ? "" : ".safetensors");
        const char *found = shipped_model(named);
        if (found) {
            path = found;
        } else if (stat(path, &sb) != 0) {
            char names[2048];
            list_models(names, sizeof names);
            cli_error("no model '%s': not a file, nor a model in $WPRIOR_MODEL_PATH, "
                      "~/.config/wavelet-prior/models or %s; models found: %s",
                      path, WPRIOR_MODEL_DIR, names[0] ? names : "none");
            return NULL;
        }
    }
    char err[WP_ERRLEN];
    wp_prior *p;
    if (wp_prior_load(path, &p, err) != WP_OK) {
        cli_error("%s", err);
        return NULL;
    }
    return p;
}

int cli_choice(const char *opt, const char *v, const char *const *names, int n)
{
    for (int k = 0; k < n; k++)
        if (!strcmp(v, names[k]))
            return k;
    char list[256] = "";
    for (int k = 0; k < n; k++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", names[k],
                 k + 2 < n ? ", " : k + 1 < n ? " or " : "");
    cli_error("%s is %s, not '%s'", opt, list, v);
    return -1;
}

int cli_colour_channels(const wp_image *img)
{
    return img->channels == 1 || img->channels == 2 ? 1 : 3;
}

float *cli_to_planar(const wp_image *img)
{
    int C = cli_colour_channels(img), S = img->channels;
    size_t n = (size_t)img->width * img->height;
    float *p = malloc(sizeof(float) * n * C);
    if (!p)
        return NULL;
    for (int c = 0; c < C; c++)
        for (size_t i = 0; i < n; i++)
            p[c * n + i] = img->pixels[i * S + c];
    return p;
}

void cli_from_planar(wp_image *img, const float *planar)
{
    int C = cli_colour_channels(img), S = img->channels;
    size_t n = (size_t)img->width * img->height;
    for (int c = 0; c < C; c++)
        for (size_t i = 0; i < n; i++) {
            float v = planar[c * n + i];
            img->pixels[i * S + c] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
        }
}

int cli_input_open(cli_input *in, const char *model, const char *path, const cli_job *job,
                   const char *colour_model)
{
    char err[WP_ERRLEN];
    memset(in, 0, sizeof *in);
    /* Refuse, before decoding, images that could not fit the budget even
     * as one float per pixel; the engine checks the whole job after. */
    size_t budget = job->run.max_memory ? job->run.max_memory : ((size_t)1 << 30);
    if (wp_image_read(path, budget / sizeof(float), &in->img, err, sizeof err)) {
        cli_error("%s", err);
        cli_input_close(in);
        return -1;
    }
    in->C = cli_colour_channels(&in->img);
    in->prior = cli_load_model_or(model, in->C == 1 ? WP_MODEL_GRAY ".safetensors" : colour_model);
    if (!in->prior) {
        cli_input_close(in);
        return -1;
    }
    in->planar = cli_to_planar(&in->img);
    if (!in->planar) {
        cli_error("out of memory");
        cli_input_close(in);
        return -1;
    }
    return 0;
}

void cli_input_close(cli_input *in)
{
    free(in->planar);
    wp_image_free(&in->img);
    wp_prior_free(in->prior);
    memset(in, 0, sizeof *in);
}
