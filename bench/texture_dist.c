/* texture-dist: the distance of sets of texture images to a reference set
 * (texdist.h): Haar band histograms (mean normalised W1) and the radial
 * power spectrum (RMS log10 difference).
 *
 * usage: texture-dist [--levels J] [--gray] [--bands] REF_DIR DIR...
 *        texture-dist [--levels J] [--gray] --pick K [--per-image M] [--crop S]
 *                     REF_DIR CAND_DIR
 * Every PNG in a folder is one image; all square, one power-of-two size.
 * Colour when every image has colour, else all in gray (mean of R, G, B).
 * Prints a tab-separated table: set, images, hist, spectrum
 * (the reference against itself first: 0 0).
 * --pick: the K images of CAND_DIR whose set is closest to REF_DIR (hist +
 * spectrum; td_pick), at most M (default K) from one source image: a
 * candidate named NAME@X,Y.png is a crop of S x S (default the image size)
 * at X,Y of source NAME, and two crops of one source may not overlap.
 * Prints the chosen files and the set's distance. */
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
    fprintf(stderr, "usage: texture-dist [--levels J] [--gray] [--bands] REF_DIR DIR...\n"
                    "       texture-dist [--levels J] [--gray] --pick K [--per-image M] [--crop S] "
                    "REF_DIR CAND_DIR\n");
    exit(2);
}

/* A candidate's source (the length of its name up to the last '@', 0 without
 * one) and corner (NAME@X,Y.png; -1,-1 without one). */
static size_t crop_name(const char *path, int *x, int *y)
{
    const char *base = strrchr(path, '/'), *at = strrchr(path, '@');
    base = base ? base + 1 : path;
    *x = *y = -1;
    if (!at || at < base)
        return 0;
    if (sscanf(at + 1, "%d,%d", x, y) != 2)
        *x = *y = -1;
    return (size_t)(at - path);
}

/* Candidates of one source share its number; a name without '@' is its own. */
static void crop_sources(const file_list *l, int *source, int *x, int *y)
{
    for (int i = 0; i < l->n; i++) {
        size_t len = crop_name(l->paths[i], &x[i], &y[i]);
        source[i] = i;
        for (int j = 0; j < i && len; j++) {
            int xj, yj;
            if (crop_name(l->paths[j], &xj, &yj) == len && !strncmp(l->paths[i], l->paths[j], len)) {
                source[i] = source[j];
                break;
            }
        }
    }
}

/* --pick: the reference pooled, each candidate a set of its own. */
static int pick_main(const file_list *ref_list, const file_list *cand_list, int K, int per_image,
                     int crop, int n, int C, int levels, float *buf)
{
    char err[256] = "";
    int nc = cand_list->n, rc = 1, k = 0;
    td_set ref = {0}, *cand = calloc((size_t)nc, sizeof *cand);
    int *source = malloc((size_t)nc * 4 * sizeof *source);
    if (!cand || !source || td_set_init(&ref, n, C, levels, err) ||
        load_set(ref_list, &ref, C, n, buf))
        goto done;
    for (int i = 0; i < nc; i++) {
        file_list one = {cand_list->paths + i, 1};
        if (td_set_init(&cand[i], n, C, levels, err) || load_set(&one, &cand[i], C, n, buf))
            goto done;
    }
    int *x = source + nc, *y = x + nc, *chosen = y + nc;
    crop_sources(cand_list, source, x, y);
    td_dist d;
    k = td_pick(&ref, cand, nc, source, x, y, crop, per_image, K, chosen, &d);
    if (k < 0)
        goto done;
    for (int i = 0; i < k; i++)
        printf("%s\n", cand_list->paths[chosen[i]]);
    printf("distance\t%d\t%.4f\t%.4f\n", k, d.hist, d.spectrum);
    rc = k < K;
    if (rc)
        fprintf(stderr, "texture-dist: only %d of %d candidates may be picked together\n", k, K);
done:
    if (rc && (k < 0 || !cand || !source))
        fprintf(stderr, "texture-dist: out of memory\n");
    else if (rc && err[0])
        fprintf(stderr, "%s\n", err);
    free(source);
    for (int i = 0; cand && i < nc; i++)
        td_set_free(&cand[i]);
    free(cand);
    td_set_free(&ref);
    return rc;
}

/* The table: each set's distance to the first (and per band with bands). */
static int report(const file_list *lists, td_set *sets, int nsets, char **names, int n, int C,
                  int levels, int bands, float *buf)
{
    char err[256] = "";
    for (int k = 0; k < nsets; k++)
        if (td_set_init(&sets[k], n, C, levels, err) || load_set(&lists[k], &sets[k], C, n, buf)) {
            if (err[0])
                fprintf(stderr, "%s\n", err);
            return 1;
        }
    printf("set\timages\thist\tspectrum\n");
    for (int k = 0; k < nsets; k++) {
        td_dist d = td_distance(&sets[0], &sets[k]);
        printf("%s\t%d\t%.4f\t%.4f\n", names[k], sets[k].images, d.hist, d.spectrum);
        if (bands)
            for (int b = 0; b < sets[0].nbands; b++) {
                int low = b >= 3 * levels * C;
                printf("  band %s%d%s c%d\t%.4f\n", low ? "low" : "L", low ? levels : b / (3 * C),
                       low ? "" : (const char *[]){"H", "V", "D"}[b / C % 3], b % C,
                       td_band_distance(&sets[0], &sets[k], b));
            }
    }
    return 0;
}

int main(int argc, char **argv)
{
    int levels = 4, gray = 0, bands = 0, a = 1, K = -1, per_image = 0, crop = 0;
    for (; a < argc && argv[a][0] == '-'; a++) {
        if (!strcmp(argv[a], "--levels") && a + 1 < argc)
            levels = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--gray"))
            gray = 1;
        else if (!strcmp(argv[a], "--bands"))
            bands = 1;
        else if (!strcmp(argv[a], "--pick") && a + 1 < argc)
            K = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--per-image") && a + 1 < argc)
            per_image = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--crop") && a + 1 < argc)
            crop = atoi(argv[++a]);
        else
            usage();
    }
    int nsets = argc - a;
    if (nsets < 1 || (K != -1 && (nsets != 2 || K < 1 || per_image < 0 || crop < 0)))
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
    int rc = K > 0 ? pick_main(&lists[0], &lists[1], K, per_image ? per_image : K,
                               crop ? crop : n, n, C, levels, buf)
                   : report(lists, sets, nsets, argv + a, n, C, levels, bands, buf);
    for (int k = 0; k < nsets; k++) {
        td_set_free(&sets[k]);
        for (int i = 0; i < lists[k].n; i++)
            free(lists[k].paths[i]);
        free(lists[k].paths);
    }
    free(lists);
    free(sets);
    free(buf);
    return rc;
}
