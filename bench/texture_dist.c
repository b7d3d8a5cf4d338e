/* texture-dist: the distance of sets of texture images to a reference set
 * (texdist.h): Haar band histograms (mean normalised W1) and the radial
 * power spectrum (RMS log10 difference).
 *
 * usage: texture-dist [--levels J] [--gray] [--bands] REF_DIR DIR...
 * Every PNG in a folder is one image; all square, one power-of-two size.
 * Colour when every image has colour, else all in gray (mean of R, G, B).
 * Prints a tab-separated table: set, images, hist, spectrum
 * (the reference against itself first: 0 0). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_io.h"
#include "texdist.h"

typedef struct {
    char **paths;
    int n;
} file_list;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_pngs(const char *dir, file_list *l)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "texture-dist: cannot open folder %s\n", dir);
        return -1;
    }
    struct dirent *e;
    l->paths = NULL;
    l->n = 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".png"))
            continue;
        char **p = realloc(l->paths, (size_t)(l->n + 1) * sizeof *p);
        char *path = malloc(strlen(dir) + len + 2);
        if (!p || !path) {
            free(path);
            closedir(d);
            fprintf(stderr, "texture-dist: out of memory\n");
            return -1;
        }
        l->paths = p;
        sprintf(path, "%s/%s", dir, e->d_name);
        l->paths[l->n++] = path;
    }
    closedir(d);
    if (!l->n) {
        fprintf(stderr, "texture-dist: no PNG in %s\n", dir);
        return -1;
    }
    qsort(l->paths, (size_t)l->n, sizeof *l->paths, cmp_str);
    return 0;
}

/* Interleaved image -> planar [C, n, n], colour (C = 3) or gray (C = 1). */
static void to_planar(const wp_image *im, int C, float *out)
{
    size_t plane = (size_t)im->width * im->height;
    int colour = im->channels >= 3;
    for (size_t i = 0; i < plane; i++) {
        const float *px = im->pixels + i * im->channels;
        if (C == 3)
            for (int c = 0; c < 3; c++)
                out[c * plane + i] = px[c];
        else
            out[i] = colour ? (px[0] + px[1] + px[2]) / 3 : px[0];
    }
}

static int load_set(const file_list *l, td_set *s, int C, int n, float *buf)
{
    char err[256];
    for (int i = 0; i < l->n; i++) {
        wp_image im;
        if (wp_image_read(l->paths[i], 0, &im, err, sizeof err)) {
            fprintf(stderr, "texture-dist: %s\n", err);
            return -1;
        }
        if (im.width != n || im.height != n) {
            fprintf(stderr, "texture-dist: %s is %dx%d, expected %dx%d\n", l->paths[i], im.width,
                    im.height, n, n);
            wp_image_free(&im);
            return -1;
        }
        to_planar(&im, C, buf);
        wp_image_free(&im);
        if (td_set_add(s, buf, err)) {
            fprintf(stderr, "texture-dist: %s\n", err);
            return -1;
        }
    }
    td_set_finish(s);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: texture-dist [--levels J] [--gray] [--bands] REF_DIR DIR...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int levels = 4, gray = 0, bands = 0, a = 1;
    for (; a < argc && argv[a][0] == '-'; a++) {
        if (!strcmp(argv[a], "--levels") && a + 1 < argc)
            levels = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--gray"))
            gray = 1;
        else if (!strcmp(argv[a], "--bands"))
            bands = 1;
        else
            usage();
    }
    int nsets = argc - a;
    if (nsets < 1)
        usage();
    file_list *lists = calloc((size_t)nsets, sizeof *lists);
    td_set *sets = calloc((size_t)nsets, sizeof *sets);
    if (!lists || !sets)
        return 1;
    int n = 0, C = gray ? 1 : 3;
    for (int k = 0; k < nsets; k++) {
        if (list_pngs(argv[a + k], &lists[k]))
            return 1;
        for (int i = 0; i < lists[k].n; i++) {
            wp_image im;
            char err[256];
            if (wp_image_read(lists[k].paths[i], 0, &im, err, sizeof err)) {
                fprintf(stderr, "texture-dist: %s\n", err);
                return 1;
            }
            if (!n)
                n = im.width;
            if (im.channels < 3)
                C = 1;
            wp_image_free(&im);
        }
    }
    float *buf = malloc((size_t)3 * n * n * sizeof *buf);
    if (!buf)
        return 1;
    char err[256];
    for (int k = 0; k < nsets; k++)
        if (td_set_init(&sets[k], n, C, levels, err) || load_set(&lists[k], &sets[k], C, n, buf)) {
            if (err[0])
                fprintf(stderr, "%s\n", err);
            return 1;
        }
    printf("set\timages\thist\tspectrum\n");
    for (int k = 0; k < nsets; k++) {
        td_dist d = td_distance(&sets[0], &sets[k]);
        printf("%s\t%d\t%.4f\t%.4f\n", argv[a + k], sets[k].images, d.hist, d.spectrum);
        if (bands)
            for (int b = 0; b < sets[0].nbands; b++) {
                int low = b >= 3 * levels * C;
                printf("  band %s%d%s c%d\t%.4f\n", low ? "low" : "L", low ? levels : b / (3 * C),
                       low ? "" : (const char *[]){"H", "V", "D"}[b / C % 3], b % C,
                       td_band_distance(&sets[0], &sets[k], b));
            }
    }
    for (int k = 0; k < nsets; k++) {
        td_set_free(&sets[k]);
        for (int i = 0; i < lists[k].n; i++)
            free(lists[k].paths[i]);
        free(lists[k].paths);
    }
    free(lists);
    free(sets);
    free(buf);
    return 0;
}
