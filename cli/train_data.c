/* train_data.c: image lists (folders or list files) and their decoding
 * into the trainer's 8-bit cache. */
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_common.h"
#include "cli_train.h"

static int has_image_ext(const char *p)
{
    const char *dot = strrchr(p, '.');
    return dot && (!strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"));
}

static int push(cli_filelist *l, const char *p)
{
    char **m = realloc(l->path, sizeof *m * (size_t)(l->n + 1));
    if (!m)
        return -1;
    l->path = m;
    if (!(m[l->n] = strdup(p)))
        return -1;
    l->n++;
    return 0;
}

static cli_filelist *walk_list; /* nftw has no user pointer */

static int walk_one(const char *p, const struct stat *sb, int type, struct FTW *f)
{
    (void)sb;
    (void)f;
    if (type == FTW_F && has_image_ext(p) && push(walk_list, p))
        return 1;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_list_file(const char *src, cli_filelist *l)
{
    FILE *f = fopen(src, "r");
    if (!f) {
        cli_error("%s: cannot open: %m", src);
        return -1;
    }
    char *dcopy = strdup(src), line[4096], full[8192];
    const char *dir = dcopy ? dirname(dcopy) : ".";
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s || *s == '#')
            continue;
        if (*s == '/')
            snprintf(full, sizeof full, "%s", s);
        else
            snprintf(full, sizeof full, "%s/%s", dir, s);
        if (push(l, full)) {
            cli_error("out of memory");
            rc = -1;
        }
    }
    fclose(f);
    free(dcopy);
    return rc;
}

int cli_list_images(const char *src, cli_filelist *out)
{
    struct stat st;
    memset(out, 0, sizeof *out);
    if (stat(src, &st) != 0) {
        cli_error("%s: %m", src);
        return -1;
    }
    int rc;
    if (S_ISDIR(st.st_mode)) {
        walk_list = out;
        rc = nftw(src, walk_one, 16, FTW_PHYS) == 0 ? 0 : -1;
        if (rc)
            cli_error("%s: cannot read the folder", src);
        else if (out->n > 1) /* (qsort of an empty, NULL list is undefined) */
            qsort(out->path, (size_t)out->n, sizeof *out->path, cmp_str);
    } else {
        rc = read_list_file(src, out);
    }
    if (!rc && out->n == 0) {
        cli_error("%s: no PNG or JPEG images", src);
        rc = -1;
    }
    if (rc)
        cli_filelist_free(out);
    return rc;
}

void cli_filelist_free(cli_filelist *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->path[i]);
    free(l->path);
    memset(l, 0, sizeof *l);
}

float *cli_read_planar(const char *path, int C, int *height, int *width)
{
    wp_image img = {0};
    char err[512];
    if (wp_image_read(path, 0, &img, err, sizeof err)) {
        cli_error("%s", err);
        return NULL;
    }
    size_t n = (size_t)img.width * img.height;
    int S = img.channels, colour = S >= 3;
    float *p = malloc(sizeof(float) * n * (size_t)C);
    if (!p) {
        cli_error("%s: out of memory", path);
        wp_image_free(&img);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const float *px = img.pixels + i * S;
        if (C == 1)
            p[i] = colour ? (px[0] + px[1] + px[2]) / 3.0f : px[0];
        else
            for (int c = 0; c < 3; c++)
                p[c * n + i] = px[colour ? c : 0];
    }
    *height = img.height;
    *width = img.width;
    wp_image_free(&img);
    return p;
}

wp_dataset *cli_load_dataset(const cli_filelist *l, int C, const char *what, int verbose)
{
    wp_dataset *d;
    char err[WP_ERRLEN];
    if (wp_dataset_create(&d, C, err)) {
        cli_error("%s", err);
        return NULL;
    }
    uint8_t *px = NULL;
    size_t cap = 0;
    int tty = isatty(2);
    for (int i = 0; i < l->n; i++) {
        int H, W;
        float *f = cli_read_planar(l->path[i], C, &H, &W);
        if (!f)
            goto fail;
        size_t n = (size_t)C * H * W;
        if (n > cap) {
            free(px);
            cap = n;
            if (!(px = malloc(cap))) {
                free(f);
                cli_error("out of memory");
                goto fail;
            }
        }
        for (size_t k = 0; k < n; k++) {
            float v = f[k] < 0.0f ? 0.0f : f[k] > 1.0f ? 1.0f : f[k];
            px[k] = (uint8_t)(v * 255.0f + 0.5f);
        }
        free(f);
        if (wp_dataset_add(d, px, H, W, err)) {
            cli_error("%s: %s", l->path[i], err);
            goto fail;
        }
        if (verbose && tty)
            fprintf(stderr, "\rreading %s images: %d/%d", what, i + 1, l->n);
    }
    if (verbose)
        fprintf(stderr, "%sread %d %s images (%.1f Mpixels, %s)\n", tty ? "\r" : "", l->n, what,
                (double)wp_dataset_pixels(d) / 1e6, C == 1 ? "gray" : "RGB");
    free(px);
    return d;
fail:
    free(px);
    wp_dataset_free(d);
    return NULL;
}
