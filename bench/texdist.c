/* texdist.c: Haar band histograms and radial power spectra of texture sets
 * (texdist.h). */
#include "texdist.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp_haar.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static int is_pow2(int n) { return n > 0 && (n & (n - 1)) == 0; }

int td_set_init(td_set *s, int n, int channels, int levels, char *err)
{
    memset(s, 0, sizeof *s);
    if (!is_pow2(n) || n < 4 || channels < 1 || channels > 4 || levels < 1 ||
        levels >= WP_MAX_LEVELS || (n >> levels) < 1) {
        snprintf(err, 256, "texdist: need a square power-of-two image (got %d), 1-4 channels, "
                 "1 <= levels <= log2(n)", n);
        return -1;
    }
    s->n = n;
    s->channels = channels;
    s->levels = levels;
    s->nbands = channels * (3 * levels + 1);
    s->sorted = 1;
    s->coef = calloc((size_t)s->nbands, sizeof *s->coef);
    s->count = calloc((size_t)s->nbands, sizeof *s->count);
    s->cap = calloc((size_t)s->nbands, sizeof *s->cap);
    s->power = calloc((size_t)n / 2 + 1, sizeof *s->power);
    s->ring_size = calloc((size_t)n / 2 + 1, sizeof *s->ring_size);
    if (!s->coef || !s->count || !s->cap || !s->power || !s->ring_size) {
        td_set_free(s);
        snprintf(err, 256, "texdist: out of memory");
        return -1;
    }
    return 0;
}

void td_set_free(td_set *s)
{
    if (s->coef)
        for (int b = 0; b < s->nbands; b++)
            free(s->coef[b]);
    free(s->coef);
    free(s->count);
    free(s->cap);
    free(s->power);
    free(s->ring_size);
    free(s->work);
    free(s->pyr);
    free(s->merge);
    memset(s, 0, sizeof *s);
}

static int append(td_set *s, int b, const float *v, size_t m, char *err)
{
    if (!m) /* an empty band of an empty set: no buffer to copy from */
        return 0;
    if (s->count[b] + m > s->cap[b]) {
        size_t cap = s->cap[b] ? s->cap[b] : 1024;
        while (cap < s->count[b] + m)
            cap *= 2;
        float *p = realloc(s->coef[b], cap * sizeof *p);
        if (!p) {
            snprintf(err, 256, "texdist: out of memory");
            return -1;
        }
        s->coef[b] = p;
        s->cap[b] = cap;
    }
    memcpy(s->coef[b] + s->count[b], v, m * sizeof *v);
    s->count[b] += m;
    return 0;
}

/* Band order: level j's three orientations per channel (j = 0 finest),
 * then the coarsest low-pass per channel. */
static int add_bands(td_set *s, const float *img, char *err)
{
    int C = s->channels, n = s->n;
    /* a: the current low-pass (C n n), b: the next low-pass (C n n / 4),
     * then the details (3 C n n / 4): 2 C n n floats in all. */
    float *a = s->pyr, *b = a + (size_t)C * n * n;
    float *det = b + (size_t)C * n * n / 4;
    memcpy(a, img, (size_t)C * n * n * sizeof *a);
    int side = n;
    for (int j = 0; j < s->levels; j++) {
        int h = side / 2;
        size_t plane = (size_t)h * h;
        wp_haar_forward(a, C, side, side, b, det);
        for (int o = 0; o < 3; o++)
            for (int c = 0; c < C; c++)
                if (append(s, (j * 3 + o) * C + c, det + (size_t)(o * C + c) * plane, plane, err))
                    return -1;
        memcpy(a, b, (size_t)C * plane * sizeof *a);
        side = h;
    }
    size_t plane = (size_t)side * side;
    for (int c = 0; c < C; c++)
        if (append(s, 3 * s->levels * C + c, a + c * plane, plane, err))
            return -1;
    return 0;
}

void td_dft_naive(const double *re, const double *im, double *ore, double *oim, int n)
{
    for (int j = 0; j < n; j++) {
        double sr = 0, si = 0;
        for (int k = 0; k < n; k++) {
            double t = -2 * M_PI * (double)((long)j * k % n) / n;
            sr += re[k] * cos(t) - im[k] * sin(t);
            si += re[k] * sin(t) + im[k] * cos(t);
        }
        ore[j] = sr;
        oim[j] = si;
    }
}

void td_fft(double *re, double *im, int n)
{
    for (int i = 1, j = 0; i < n; i++) { /* bit reversal */
        int bit = n >> 1;
        for (; j & bit; bit >>= 1)
            j ^= bit;
        j ^= bit;
        if (i < j) {
            double t = re[i]; re[i] = re[j]; re[j] = t;
            t = im[i]; im[i] = im[j]; im[j] = t;
        }
    }
    for (int len = 2; len <= n; len <<= 1) {
        double ang = -2 * M_PI / len;
        for (int i = 0; i < n; i += len)
            for (int k = 0; k < len / 2; k++) {
                double wr = cos(ang * k), wi = sin(ang * k);
                double *ur = re + i + k, *ui = im + i + k;
                double vr = ur[len / 2] * wr - ui[len / 2] * wi;
                double vi = ur[len / 2] * wi + ui[len / 2] * wr;
                ur[len / 2] = *ur - vr;
                ui[len / 2] = *ui - vi;
                *ur += vr;
                *ui += vi;
            }
    }
}

/* Windowed power of the gray image, summed into rings. */
static void add_spectrum(td_set *s, const float *img)
{
    int n = s->n, C = s->channels;
    double *re = s->work, *im = re + (size_t)n * n, *cr = im + (size_t)n * n, *ci = cr + n;
    double mean = 0, wsum = 0;
    for (size_t i = 0; i < (size_t)n * n; i++) {
        double g = 0;
        for (int c = 0; c < C; c++)
            g += img[c * (size_t)n * n + i];
        re[i] = g / C;
        mean += re[i];
    }
    mean /= (double)n * n;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            double w = (0.5 - 0.5 * cos(2 * M_PI * x / n)) * (0.5 - 0.5 * cos(2 * M_PI * y / n));
            re[(size_t)y * n + x] = (re[(size_t)y * n + x] - mean) * w;
            im[(size_t)y * n + x] = 0;
            wsum += w * w;
        }
    for (int y = 0; y < n; y++)
        td_fft(re + (size_t)y * n, im + (size_t)y * n, n);
    for (int x = 0; x < n; x++) {
        for (int y = 0; y < n; y++) {
            cr[y] = re[(size_t)y * n + x];
            ci[y] = im[(size_t)y * n + x];
        }
        td_fft(cr, ci, n);
        for (int y = 0; y < n; y++) {
            re[(size_t)y * n + x] = cr[y];
            im[(size_t)y * n + x] = ci[y];
        }
    }
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            int fy = y <= n / 2 ? y : y - n, fx = x <= n / 2 ? x : x - n;
            int r = (int)floor(sqrt((double)fx * fx + (double)fy * fy) + 0.5);
            if (r < 1 || r > n / 2)
                continue;
            size_t i = (size_t)y * n + x;
            s->power[r] += (re[i] * re[i] + im[i] * im[i]) / wsum;
            if (s->images == 0)
                s->ring_size[r] += 1;
        }
}

/* The scratch of td_set_add, allocated on first use. */
static int add_scratch(td_set *s, char *err)
{
    size_t n = (size_t)s->n;
    if (!s->work)
        s->work = malloc((2 * n * n + 2 * n) * sizeof *s->work);
    if (!s->pyr)
        s->pyr = malloc((size_t)s->channels * n * n * 2 * sizeof *s->pyr);
    if (!s->work || !s->pyr) {
        snprintf(err, 256, "texdist: out of memory");
        return -1;
    }
    return 0;
}

int td_set_add(td_set *s, const float *img, char *err)
{
    if (s->finished) {
        snprintf(err, 256, "texdist: set already finished");
        return -1;
    }
    if (add_scratch(s, err))
        return -1;
    if (add_bands(s, img, err))
        return -1;
    add_spectrum(s, img);
    s->images++;
    s->sorted = 0;
    return 0;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Band b's v[0..m) and v[m..m+k) sorted -> v[0..m+k) sorted, in place from
 * the back (the k new values copied aside into s's merge scratch). */
static void merge_tail(td_set *s, int b, size_t m, size_t k)
{
    float *v = s->coef[b];
    if (!m || !k || v[m - 1] <= v[m])
        return;
    if (k > s->merge_cap) {
        float *t = realloc(s->merge, k * sizeof *t);
        if (!t) { /* sorted all the same, slower */
            qsort(v, m + k, sizeof *v, cmp_float);
            return;
        }
        s->merge = t;
        s->merge_cap = k;
    }
    float *t = s->merge;
    memcpy(t, v + m, k * sizeof *t);
    size_t i = m, j = k, o = m + k;
    while (j > 0)
        v[--o] = (i > 0 && v[i - 1] > t[j - 1]) ? v[--i] : t[--j];
}

void td_set_reset(td_set *s)
{
    for (int b = 0; b < s->nbands; b++)
        s->count[b] = 0;
    memset(s->power, 0, ((size_t)s->n / 2 + 1) * sizeof *s->power);
    memset(s->ring_size, 0, ((size_t)s->n / 2 + 1) * sizeof *s->ring_size);
    s->images = 0;
    s->finished = 0;
    s->sorted = 1;
}

static int same_shape(const td_set *a, const td_set *b)
{
    return a->n == b->n && a->channels == b->channels && a->levels == b->levels;
}

int td_set_add_set(td_set *s, const td_set *part, char *err)
{
    if (s->finished || !part->finished || !same_shape(s, part)) {
        snprintf(err, 256, "texdist: sets differ in size, channels or levels, or are finished");
        return -1;
    }
    for (int b = 0; b < s->nbands; b++) {
        size_t m = s->count[b];
        if (append(s, b, part->coef[b], part->count[b], err))
            return -1;
        if (s->sorted)
            merge_tail(s, b, m, part->count[b]);
    }
    /* back to sums: finish divided by images and ring size */
    for (int r = 1; r <= s->n / 2; r++) {
        s->power[r] += part->power[r] * part->images * part->ring_size[r];
        s->ring_size[r] = part->ring_size[r];
    }
    s->images += part->images;
    return 0;
}

int td_set_copy(td_set *dst, const td_set *src, char *err)
{
    if (!same_shape(dst, src)) {
        snprintf(err, 256, "texdist: sets differ in size, channels or levels");
        return -1;
    }
    td_set_reset(dst);
    for (int b = 0; b < src->nbands; b++)
        if (append(dst, b, src->coef[b], src->count[b], err))
            return -1;
    size_t rings = (size_t)src->n / 2 + 1;
    memcpy(dst->power, src->power, rings * sizeof *dst->power);
    memcpy(dst->ring_size, src->ring_size, rings * sizeof *dst->ring_size);
    dst->images = src->images;
    dst->sorted = src->sorted;
    dst->finished = src->finished;
    return 0;
}

void td_set_finish(td_set *s)
{
    free(s->work);
    free(s->pyr);
    s->work = NULL;
    s->pyr = NULL;
    if (s->finished)
        return;
    for (int b = 0; b < s->nbands && !s->sorted; b++)
        qsort(s->coef[b], s->count[b], sizeof(float), cmp_float);
    for (int r = 1; r <= s->n / 2; r++)
        if (s->images > 0 && s->ring_size[r] > 0)
            s->power[r] /= s->images * s->ring_size[r];
    s->finished = 1;
}

double td_w1_sorted(const float *a, size_t na, const float *b, size_t nb)
{
    /* Walk the merged samples: between consecutive values x0 < x1 the two
     * empirical CDFs are constant, ia/na and ib/nb. */
    size_t ia = 0, ib = 0;
    double w = 0, prev = 0;
    int started = 0;
    while (ia < na || ib < nb) {
        double x = (ib >= nb || (ia < na && a[ia] <= b[ib])) ? a[ia] : b[ib];
        if (started)
            w += fabs((double)ia / na - (double)ib / nb) * (x - prev);
        while (ia < na && a[ia] == x)
            ia++;
        while (ib < nb && b[ib] == x)
            ib++;
        prev = x;
        started = 1;
    }
    return w;
}

static double band_sd(const float *v, size_t m)
{
    double s = 0, s2 = 0;
    for (size_t i = 0; i < m; i++) {
        s += v[i];
        s2 += (double)v[i] * v[i];
    }
    double mean = s / m, var = s2 / m - mean * mean;
    return var > 0 ? sqrt(var) : 0;
}

double td_band_distance(const td_set *ref, const td_set *x, int b)
{
    if (!ref->count[b] || !x->count[b])
        return NAN;
    double sd = band_sd(ref->coef[b], ref->count[b]);
    double w = td_w1_sorted(ref->coef[b], ref->count[b], x->coef[b], x->count[b]);
    return w / (sd > 1e-6 ? sd : 1e-6);
}

td_dist td_distance(const td_set *ref, const td_set *x)
{
    td_dist d = {NAN, NAN};
    if (!same_shape(ref, x) || !ref->images || !x->images)
        return d;
    double h = 0;
    for (int b = 0; b < ref->nbands; b++)
        h += td_band_distance(ref, x, b);
    d.hist = h / ref->nbands;
    double s = 0;
    int rings = 0;
    for (int r = 1; r <= ref->n / 2; r++) {
        double e = log10(ref->power[r] + 1e-20) - log10(x->power[r] + 1e-20);
        s += e * e;
        rings++;
    }
    d.spectrum = sqrt(s / rings);
    return d;
}

/* td_pick's inputs and its two scratch sets of ref's shape: base, the
 * chosen crops pooled, and pool, base with one candidate more. */
typedef struct {
    const td_set *ref, *cand;
    int ncand;
    const int *source, *x, *y;
    int crop, per_source;
    td_set base, pool;
} picker;

/* base := cand[chosen[0..k)] pooled but for slot skip (not finished). */
static int pick_base(picker *p, const int *chosen, int k, int skip)
{
    char err[256];
    td_set_reset(&p->base);
    for (int i = 0; i < k; i++)
        if (i != skip && td_set_add_set(&p->base, &p->cand[chosen[i]], err))
            return -1;
    return 0;
}

/* The distance to ref (hist + spectrum) of base with cand[extra] added
 * (extra < 0: none); INFINITY out of memory. */
static double pick_cost(picker *p, int extra, td_dist *d)
{
    char err[256];
    if (td_set_copy(&p->pool, &p->base, err) ||
        (extra >= 0 && td_set_add_set(&p->pool, &p->cand[extra], err)))
        return INFINITY;
    td_set_finish(&p->pool);
    *d = td_distance(p->ref, &p->pool);
    return d->hist + d->spectrum;
}

/* Whether candidate c may take slot skip of chosen[0..k) (skip < 0: join):
 * not there already, at most per_source of its source, no overlap. */
static int pick_allowed(const picker *p, const int *chosen, int k, int skip, int c)
{
    const int *source = p->source, *x = p->x, *y = p->y;
    int same = 0;
    for (int i = 0; i < k; i++) {
        int o = chosen[i];
        if (i == skip || source[o] != source[c])
            continue;
        if (o == c || (x[o] >= 0 && x[c] >= 0 && abs(x[o] - x[c]) < p->crop &&
                       abs(y[o] - y[c]) < p->crop))
            return 0;
        same++;
    }
    return same < p->per_source;
}

/* The best candidate for slot skip (skip < 0: to join chosen[0..k)), or -1;
 * its cost in *cost. */
static int pick_best(picker *p, const int *chosen, int k, int skip, double *cost)
{
    td_dist d;
    int best = -1;
    *cost = INFINITY;
    if (pick_base(p, chosen, k, skip))
        return -1;
    for (int c = 0; c < p->ncand; c++) {
        if (!pick_allowed(p, chosen, k, skip, c))
            continue;
        double e = pick_cost(p, c, &d);
        if (e < *cost)
            *cost = e, best = c;
    }
    return best;
}

int td_pick(const td_set *ref, const td_set *cand, int ncand, const int *source, const int *x,
            const int *y, int crop, int per_source, int k, int *chosen, td_dist *dist)
{
    char err[256];
    picker p = {ref, cand, ncand, source, x, y, crop, per_source, {0}, {0}};
    int rc = -1, n = 0;
    if (td_set_init(&p.base, ref->n, ref->channels, ref->levels, err) ||
        td_set_init(&p.pool, ref->n, ref->channels, ref->levels, err))
        goto done;
    double cost = INFINITY, e;
    for (; n < k; n++) {
        int best = pick_best(&p, chosen, n, -1, &e);
        if (best < 0)
            break;
        chosen[n] = best;
        cost = e;
    }
    for (int improved = 1; improved;) {
        improved = 0;
        for (int i = 0; i < n; i++) {
            int best = pick_best(&p, chosen, n, i, &e);
            if (best >= 0 && e < cost - 1e-9)
                chosen[i] = best, cost = e, improved = 1;
        }
    }
    if (!pick_base(&p, chosen, n, -1) && pick_cost(&p, -1, dist) != INFINITY)
        rc = n;
done:
    td_set_free(&p.base);
    td_set_free(&p.pool);
    return rc;
}
