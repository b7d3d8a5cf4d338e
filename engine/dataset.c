/* dataset.c: training images decoded once into 8-bit planes in RAM, and
 * random augmented crops from them.  A crop costs microseconds, so batches
 * are cut on the fly without stalling the GEMMs. */
#include <stdlib.h>
#include <string.h>

#include "wp_train_internal.h"
#include "wp_util.h"

typedef struct {
    uint8_t *px; /* [C, h, w] */
    int h, w;
} ds_image;

struct wp_dataset {
    int C;
    ds_image *img;
    int n, cap;
    size_t pixels;
    double *cum_area; /* prefix sums of pixel counts, one per image */
};

wp_status wp_dataset_create(wp_dataset **out, int channels, char *err)
{
    *out = NULL;
    if (channels != 1 && channels != 3)
        return wp_fail(err, WP_ERR_ARG, "a dataset has 1 or 3 channels, not %d", channels);
    wp_dataset *d = calloc(1, sizeof *d);
    if (!d)
        return wp_fail(err, WP_ERR_NOMEM, "out of memory");
    d->C = channels;
    *out = d;
    return WP_OK;
}

wp_status wp_dataset_add(wp_dataset *d, const uint8_t *pixels, int height, int width, char *err)
{
    if (!d || !pixels || height < 1 || width < 1)
        return wp_fail(err, WP_ERR_ARG, "wp_dataset_add: bad image %dx%d", width, height);
    size_t n;
    if (!wp_mul_ok((size_t)height * (size_t)width, (size_t)d->C, &n) || n > ((size_t)1 << 34))
        return wp_fail(err, WP_ERR_ARG, "image %dx%d too large", width, height);
    if (d->n == d->cap) {
        int cap = d->cap ? 2 * d->cap : 64;
        ds_image *m = realloc(d->img, sizeof *m * (size_t)cap);
        if (!m)
            return wp_fail(err, WP_ERR_NOMEM, "out of memory");
        d->img = m;
        double *c = realloc(d->cum_area, sizeof *c * (size_t)cap);
        if (!c)
            return wp_fail(err, WP_ERR_NOMEM, "out of memory");
        d->cum_area = c;
        d->cap = cap;
    }
    uint8_t *px = malloc(n);
    if (!px)
        return wp_fail(err, WP_ERR_NOMEM, "out of memory for a %dx%d image", width, height);
    memcpy(px, pixels, n);
    d->cum_area[d->n] = (d->n ? d->cum_area[d->n - 1] : 0.0) + (double)height * width;
    d->img[d->n++] = (ds_image){px, height, width};
    d->pixels += (size_t)height * width;
    return WP_OK;
}

int wp_dataset_count(const wp_dataset *d) { return d ? d->n : 0; }
int wp_dataset_channels(const wp_dataset *d) { return d->C; }
size_t wp_dataset_pixels(const wp_dataset *d) { return d->pixels; }

const uint8_t *wp_dataset_image(const wp_dataset *d, int i, int *height, int *width)
{
    if (!d || i < 0 || i >= d->n)
        return NULL;
    *height = d->img[i].h;
    *width = d->img[i].w;
    return d->img[i].px;
}

void wp_dataset_free(wp_dataset *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->n; i++)
        free(d->img[i].px);
    free(d->img);
    free(d->cum_area);
    free(d);
}

uint64_t wp_dataset_hash(const wp_dataset *d)
{
    uint64_t h = 0xcbf29ce484222325ULL;
#define FNV(byte) (h = (h ^ (uint8_t)(byte)) * 0x100000001b3ULL)
    for (int i = 0; i < d->n; i++) {
        const ds_image *m = &d->img[i];
        for (int b = 0; b < 4; b++) {
            FNV(m->h >> (8 * b));
            FNV(m->w >> (8 * b));
        }
        size_t n = (size_t)d->C * m->h * m->w;
        for (size_t k = 0; k < n; k++)
            FNV(m->px[k]);
    }
#undef FNV
    return h;
}

/* Image index: uniform, or by area through a binary search of prefix sums
 * (read only: threads crop from one dataset at once). */
static int pick_image(const wp_dataset *d, wp_rng *r, int by_area)
{
    if (!by_area || d->n == 1)
        return (int)wp_rng_below(r, (uint32_t)d->n);
    double u = wp_rng_uniform(r) * d->cum_area[d->n - 1];
    int lo = 0, hi = d->n - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (d->cum_area[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Origin of a crop of R source pixels along an axis of n. */
static int pick_origin(wp_rng *r, int n, int R)
{
    return n >= R ? (int)wp_rng_below(r, (uint32_t)(n - R + 1)) : (int)wp_rng_below(r, (uint32_t)n);
}

/* The crop's draws: image, box factor f, symmetry, origin. */
typedef struct {
    const ds_image *m;
    int f, sym, y0, x0;
} crop_draw;

static crop_draw draw_crop(const wp_dataset *d, wp_rng *r, int S, const wp_crop_aug *aug)
{
    crop_draw c;
    c.m = &d->img[pick_image(d, r, aug && aug->by_area)];
    int lo = aug && aug->scale_min > 1 ? aug->scale_min : 1;
    c.f = aug && aug->scale > lo ? lo + (int)wp_rng_below(r, (uint32_t)(aug->scale - lo + 1)) : lo;
    c.sym = aug && aug->flips ? (int)wp_rng_below(r, 8) : 0;
    int R = S * c.f;
    c.y0 = pick_origin(r, c.m->h, R);
    c.x0 = pick_origin(r, c.m->w, R);
    return c;
}

/* Pixel by pixel: the test oracle of crop_fast. */
static void crop_naive(const wp_dataset *d, const crop_draw *cd, int S, float *out)
{
    const ds_image *m = cd->m;
    int f = cd->f, sym = cd->sym, y0 = cd->y0, x0 = cd->x0;
    float k = 1.0f / (255.0f * (float)(f * f));
    for (int c = 0; c < d->C; c++) {
        const uint8_t *src = m->px + (size_t)c * m->h * m->w;
        float *dst = out + (size_t)c * S * S;
        for (int i = 0; i < S; i++)
            for (int j = 0; j < S; j++) {
                /* (i,j) of the output reads (u,v) of the unrotated crop. */
                int u = i, v = j;
                if (sym & 1)
                    v = S - 1 - v;
                if (sym & 2)
                    u = S - 1 - u;
                if (sym & 4) {
                    int t = u;
                    u = v;
                    v = t;
                }
                unsigned s = 0;
                for (int a = 0; a < f; a++) {
                    int y = (y0 + u * f + a) % m->h;
                    const uint8_t *row = src + (size_t)y * m->w;
                    for (int b = 0; b < f; b++)
                        s += row[(x0 + v * f + b) % m->w];
                }
                dst[(size_t)i * S + j] = (float)s * k;
            }
    }
}

/* out(i,j) = A(u,v) of the naive crop: transpose (sym & 4), then rows
 * reversed (sym & 2), then each row reversed (sym & 1). */
static void apply_symmetry(float *a, int S, int sym)
{
    if (sym & 4)
        for (int i = 0; i < S; i++)
            for (int j = i + 1; j < S; j++) {
                float t = a[(size_t)i * S + j];
                a[(size_t)i * S + j] = a[(size_t)j * S + i];
                a[(size_t)j * S + i] = t;
            }
    if (sym & 2)
        for (int i = 0; i < S / 2; i++)
            for (int j = 0; j < S; j++) {
                float t = a[(size_t)i * S + j];
                a[(size_t)i * S + j] = a[(size_t)(S - 1 - i) * S + j];
                a[(size_t)(S - 1 - i) * S + j] = t;
            }
    if (sym & 1)
        for (int i = 0; i < S; i++)
            for (int j = 0; j < S / 2; j++) {
                float t = a[(size_t)i * S + j];
                a[(size_t)i * S + j] = a[(size_t)i * S + S - 1 - j];
                a[(size_t)i * S + S - 1 - j] = t;
            }
}

/* Box sums of the unrotated crop row by row (no wrap test per pixel where
 * the crop fits), then the symmetry applied in place. */
static void crop_fast(const wp_dataset *d, const crop_draw *cd, int S, float *out)
{
    const ds_image *m = cd->m;
    int f = cd->f, R = S * f;
    int xfits = cd->x0 + R <= m->w;
    float k = 1.0f / (255.0f * (float)(f * f));
    for (int c = 0; c < d->C; c++) {
        const uint8_t *src = m->px + (size_t)c * m->h * m->w;
        float *dst = out + (size_t)c * S * S;
        for (int u = 0; u < S; u++) {
            float *o = dst + (size_t)u * S;
            for (int v = 0; v < S; v++)
                o[v] = 0.0f;
            for (int a = 0; a < f; a++) {
                const uint8_t *row = src + (size_t)((cd->y0 + u * f + a) % m->h) * m->w;
                if (xfits) {
                    const uint8_t *p = row + cd->x0;
                    if (f == 1)
                        for (int v = 0; v < S; v++)
                            o[v] += (float)p[v];
                    else
                        for (int v = 0; v < S; v++)
                            for (int b = 0; b < f; b++)
                                o[v] += (float)p[v * f + b]; /* integers: exact */
                } else {
                    for (int v = 0; v < S; v++)
                        for (int b = 0; b < f; b++)
                            o[v] += (float)row[(cd->x0 + v * f + b) % m->w];
                }
            }
            for (int v = 0; v < S; v++)
                o[v] *= k;
        }
        apply_symmetry(dst, S, cd->sym);
    }
}

void wp_dataset_crop(const wp_dataset *d, wp_rng *r, int S, const wp_crop_aug *aug, float *out)
{
    crop_draw cd = draw_crop(d, r, S, aug);
    crop_fast(d, &cd, S, out);
}

void wp_dataset_crop_naive(const wp_dataset *d, wp_rng *r, int S, const wp_crop_aug *aug,
                           float *out)
{
    crop_draw cd = draw_crop(d, r, S, aug);
    crop_naive(d, &cd, S, out);
}
