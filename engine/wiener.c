/* wiener.c: the collaborative Wiener stage (wp_wiener.h). */
#include "wp_wiener.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "wp_parallel.h"
#include "wp_util.h"

/* the hot loops: 8-wide axpys, vectorized for the machine's widest unit */
#pragma GCC optimize("O3")
#define VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

#define P WP_WIENER_PATCH
#define PP (P * P)

/* BM3D's second-stage knobs (8x8 patches, pilot patches within 400/255^2
 * of the reference, a reference every 6 pixels) with larger groups, up to
 * 256 in a 31x31 window: better on validation photographs, most at high
 * noise, and the band caches make them cost about what 64 in 25x25 did. */
const wp_wiener_params wp_wiener_defaults = {.search = 31, .step = 6, .group = 256,
                                             .tau = 400.0f / (255.0f * 255.0f)};

/* By the estimated noise sigma (0..255 units; linear in between, held
 * beyond the ends): the Wiener estimate's share in the result (the rest is
 * the pilot's) and the factor on sigma its gains take; gray and colour, an
 * input clipped to [0,1] or not.  Clipping leaves the networks more to
 * correct at high noise, and the stage does better with a larger sigma
 * there.  Fitted on the 54 validation photographs (256x256 crops, sigma
 * 5-50), never on the benchmark sets. */
typedef struct {
    float sigma, share, factor;
} share_point;
#define N_POINTS 4
static const share_point knob_points[2][2][N_POINTS] = {
    { /* gray */
     {{5, 0.7f, 1.0f}, {15, 0.7f, 1.0f}, {25, 0.7f, 1.0f}, {50, 0.8f, 1.0f}},
     {{5, 0.85f, 1.0f}, {15, 0.8f, 1.15f}, {25, 0.85f, 1.15f}, {50, 1.0f, 1.7f}}},
    { /* colour */
     {{5, 0.7f, 1.1f}, {15, 0.7f, 1.1f}, {25, 0.7f, 1.1f}, {50, 0.85f, 1.15f}},
     {{5, 0.7f, 1.1f}, {15, 0.7f, 1.1f}, {25, 0.7f, 1.1f}, {50, 0.85f, 1.3f}}}};

wp_wiener_knobs wp_wiener_knobs_at(float sigma, int C, int clipped)
{
    const share_point *t = knob_points[C == 3][clipped != 0];
    float s = sigma * 255.0f;
    if (s <= t[0].sigma)
        return (wp_wiener_knobs){t[0].share, t[0].factor};
    for (int i = 1; i < N_POINTS; i++)
        if (s <= t[i].sigma) {
            float u = (s - t[i - 1].sigma) / (t[i].sigma - t[i - 1].sigma);
            return (wp_wiener_knobs){t[i - 1].share + u * (t[i].share - t[i - 1].share),
                                     t[i - 1].factor + u * (t[i].factor - t[i - 1].factor)};
        }
    return (wp_wiener_knobs){t[N_POINTS - 1].share, t[N_POINTS - 1].factor};
}

/* ---- transforms ---- */

/* dct[u][j]: the orthonormal DCT-II basis, and its transpose; built
 * once, read-only after. */
static float dct[P][P], dctt[P][P];
static void dct_init(void)
{
    for (int u = 0; u < P; u++)
        for (int j = 0; j < P; j++)
            dct[u][j] = dctt[j][u] = (float)((u ? sqrt(2.0 / P) : sqrt(1.0 / P)) *
                                             cos(M_PI * (2 * j + 1) * u / (2.0 * P)));
}

/* out = D X D^T, as 8-wide axpys (vectorized in each clone): the
 * columns' transform first, on rows loaded once. */
static inline void dct_fwd(const float *x, ptrdiff_t stride, float *out)
{
    float r[P][P], t[P][P]; /* t = D X */
    for (int i = 0; i < P; i++)
        for (int j = 0; j < P; j++)
            r[i][j] = x[i * stride + j];
    for (int v = 0; v < P; v++) {
        for (int j = 0; j < P; j++)
            t[v][j] = dct[v][0] * r[0][j];
        for (int i = 1; i < P; i++)
            for (int j = 0; j < P; j++)
                t[v][j] += dct[v][i] * r[i][j];
    }
    for (int v = 0; v < P; v++) { /* out[v][:] = sum_j t[v][j] dctt[j][:] */
        float *o = out + v * P;
        for (int u = 0; u < P; u++)
            o[u] = t[v][0] * dctt[0][u];
        for (int j = 1; j < P; j++)
            for (int u = 0; u < P; u++)
                o[u] += t[v][j] * dctt[j][u];
    }
}

/* out = D^T Y D. */
static inline void dct_inv(const float *in, float *out)
{
    float t[P][P]; /* t[i][:] = sum_v dct[v][i] in[v][:] */
    for (int i = 0; i < P; i++) {
        for (int u = 0; u < P; u++)
            t[i][u] = dct[0][i] * in[u];
        for (int v = 1; v < P; v++)
            for (int u = 0; u < P; u++)
                t[i][u] += dct[v][i] * in[v * P + u];
    }
    for (int i = 0; i < P; i++) {
        float *o = out + i * P;
        for (int j = 0; j < P; j++)
            o[j] = t[i][0] * dct[0][j];
        for (int u = 1; u < P; u++)
            for (int j = 0; j < P; j++)
                o[j] += t[i][u] * dct[u][j];
    }
}

static pthread_once_t dct_once = PTHREAD_ONCE_INIT;

void wp_dct8x8(const float *x, ptrdiff_t stride, float *out)
{
    pthread_once(&dct_once, dct_init);
    dct_fwd(x, stride, out);
}

void wp_idct8x8(const float *in, float *out)
{
    pthread_once(&dct_once, dct_init);
    dct_inv(in, out);
}

/* The Walsh-Hadamard transform across n (a power of 2) blocks of 64
 * coefficients (g on a cache line), unnormalized (twice over: n times the
 * identity).  A cache line of each block at a time through all the
 * stages (in L1), two stages a pass. */
typedef float v16 __attribute__((vector_size(64)));
static inline __attribute__((always_inline)) void wht(float *g, int n)
{
    v16 *v = (v16 *)g; /* block k: v[4k .. 4k+3] */
    for (int c = 0; c < PP / 16; c++) {
        int h = 1;
        for (; 4 * h <= n; h *= 4)
            for (int i = 0; i < n; i += 4 * h)
                for (int j = i; j < i + h; j++) {
                    v16 *a = v + 4 * j + c, *b = a + 4 * h, *e = b + 4 * h, *f = e + 4 * h;
                    v16 s0 = *a + *b, d0 = *a - *b, s1 = *e + *f, d1 = *e - *f;
                    *a = s0 + s1, *e = s0 - s1, *b = d0 + d1, *f = d0 - d1;
                }
        if (h < n) /* an odd number of stages: the last one alone */
            for (int j = 0; j < h; j++) {
                v16 *a = v + 4 * j + c, *b = a + 4 * h, s0 = *a + *b, d0 = *a - *b;
                *a = s0, *b = d0;
            }
    }
}

/* ---- matching ---- */

static int before(const wp_match *a, const wp_match *b)
{
    if (a->d != b->d)
        return a->d < b->d;
    return a->y != b->y ? a->y < b->y : a->x < b->x;
}

static inline void swap_match(wp_match *a, wp_match *b)
{
    wp_match t = *a;
    *a = *b, *b = t;
}

/* Hoare's partition of m [lo, hi] around the median of three: on return
 * everything up to j is not after the pivot, everything from i on not
 * before it (j < i). */
static inline void partition(wp_match *m, int lo, int hi, int *pi, int *pj)
{
    int mid = lo + (hi - lo) / 2;
    if (before(&m[mid], &m[lo]))
        swap_match(&m[mid], &m[lo]);
    if (before(&m[hi], &m[lo]))
        swap_match(&m[hi], &m[lo]);
    if (before(&m[hi], &m[mid]))
        swap_match(&m[hi], &m[mid]);
    wp_match pv = m[mid];
    int i = lo, j = hi;
    while (i <= j) {
        while (before(&m[i], &pv))
            i++;
        while (before(&pv, &m[j]))
            j--;
        if (i <= j)
            swap_match(&m[i++], &m[j--]);
    }
    *pi = i, *pj = j;
}

/* Moves the k best (by `before`) of m [n] to its front, in no order. */
static void select_best(wp_match *m, int n, int k)
{
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        int i, j;
        partition(m, lo, hi, &i, &j);
        if (k - 1 <= j)
            hi = j;
        else if (k - 1 >= i)
            lo = i;
        else
            break;
    }
}

/* Sorts m [n] by `before` (no comparator calls: a group is sorted for
 * every reference patch). */
static void sort_matches(wp_match *m, int n)
{
    int stack[64], top = 0, lo = 0, hi = n - 1;
    for (;;) {
        if (hi - lo < 16) { /* insertion sort */
            for (int a = lo + 1; a <= hi; a++) {
                wp_match t = m[a];
                int b = a;
                for (; b > lo && before(&t, &m[b - 1]); b--)
                    m[b] = m[b - 1];
                m[b] = t;
            }
            if (!top)
                return;
            hi = stack[--top], lo = stack[--top];
            continue;
        }
        int i, j;
        partition(m, lo, hi, &i, &j);
        /* the smaller side next, the larger one stacked: depth <= log2 n */
        if (j - lo < hi - i)
            stack[top++] = i, stack[top++] = hi, hi = j;
        else
            stack[top++] = lo, stack[top++] = j, lo = i;
    }
}

static inline float patch_dist(const float *a, const float *b, int W)
{
    float acc[P] = {0}; /* one sum per column: the rows' loop vectorizes */
    for (int i = 0; i < P; i++) {
        const float *pa = a + (size_t)i * W, *pb = b + (size_t)i * W;
        for (int j = 0; j < P; j++) {
            float e = pa[j] - pb[j];
            acc[j] += e * e;
        }
    }
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    return s * (1.0f / PP);
}

static inline int match_group(const float *guide, int H, int W, int ry, int rx,
                              const wp_wiener_params *wp, wp_match *m)
{
    int r = wp->search / 2, maxy = H - P, maxx = W - P;
    int y0 = ry - r < 0 ? 0 : ry - r, y1 = ry + r > maxy ? maxy : ry + r;
    int x0 = rx - r < 0 ? 0 : rx - r, x1 = rx + r > maxx ? maxx : rx + r;
    const float *ref = guide + (size_t)ry * W + rx;
    int n = 0, k = wp->group;
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) {
            float d = patch_dist(ref, guide + (size_t)y * W + x, W);
            if (d < wp->tau || (y == ry && x == rx))
                m[n++] = (wp_match){d, y, x};
        }
    if (n > k) {
        select_best(m, n, k);
        n = k;
    }
    sort_matches(m, n);
    int g = 1;
    while (2 * g <= n)
        g *= 2;
    return g;
}

int wp_wiener_match(const float *guide, int H, int W, int ry, int rx, const wp_wiener_params *wp,
                    wp_match *m)
{
    return match_group(guide, H, W, ry, rx, wp, m);
}

/* ---- the stage ---- */

typedef struct {
    const float *noisy, *pilot, *guide;
    float *num, *den;
    int C, H, W, nry, nrx, band, par;
    int oracle; /* each group's patches transformed on their own */
    float sigma;
    const wp_wiener_params *wp;
    float kaiser[PP];
    unsigned char *scratch; /* per thread */
    size_t scratch_bytes;
    wp_job *job;
} stage;

/* The DCT of the patch at `at` of img [C,H,W] into out, channel c at
 * out + c * cstride: colour in the opponent basis (the DCT is linear: the
 * RGB patches' DCTs mixed). */
static inline void patch_dct(const stage *s, const float *img, size_t at, float *out,
                             size_t cstride)
{
    if (s->C == 1) {
        dct_fwd(img + at, s->W, out);
        return;
    }
    size_t hw = (size_t)s->H * s->W;
    const float(*M)[3] = wp_opponent_basis();
    float t[3][PP];
    for (int ch = 0; ch < 3; ch++)
        dct_fwd(img + ch * hw + at, s->W, t[ch]);
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < PP; i++)
            out[c * cstride + i] = M[c][0] * t[0][i] + M[c][1] * t[1][i] + M[c][2] * t[2][i];
}

/* The DCTs of a group's patches in img into g [C, n, 64]. */
static inline void gather(const stage *s, const float *img, const wp_match *m, int n, float *g)
{
    for (int k = 0; k < n; k++)
        patch_dct(s, img, (size_t)m[k].y * s->W + m[k].x, g + (size_t)k * PP,
                  (size_t)s->wp->group * PP);
}

/* Shrinks one channel's group z [n][64] (its patches' DCTs) by the
 * Wiener gains of the pilot's group p [n][64] (destroyed) in the 3-D
 * transform; adds the squared gains to g2 [64].  Unnormalized WHTs: the
 * pilot's coefficients come n^1/2 times too large and the round trip n
 * times, both folded into the gains. */
VECTOR_CLONES static void shrink(float *z, float *p, int n, float s2, float *g2)
{
    float s2n = s2 * n, inv_n = 1.0f / n;
    wht(z, n), wht(p, n);
    for (int k = 0; k < n; k++)
        for (int i = 0; i < PP; i++) {
            float a = p[k * PP + i] * p[k * PP + i], w = a / (a + s2n);
            z[k * PP + i] *= w * inv_n;
            g2[i] += w * w;
        }
    wht(z, n);
}

/* BM3D's weight of a group's estimate: the inverse of its noise variance
 * (g2 [64]: the squared gains' sums over the channels). */
static float group_weight(const float *g2, float s2)
{
    float wsum = 0;
    for (int i = 0; i < PP; i++)
        wsum += g2[i];
    return 1.0f / (s2 * (wsum > 0 ? wsum : 1.0f));
}

/* Adds a times the estimate e [C][64] (DCTs, opponent basis for colour)
 * of the patch at (y, x) to num, and b to den, both through the Kaiser
 * window. */
VECTOR_CLONES static void put_back(const stage *s, int y, int x, float a, float b, const float *e)
{
    int C = s->C;
    size_t hw = (size_t)s->H * s->W, at = (size_t)y * s->W + x;
    const float(*M)[3] = wp_opponent_basis();
    float v[3][PP], o[3][PP];
    for (int c = 0; c < C; c++)
        dct_inv(e + c * PP, v[c]);
    if (C == 3) /* back to RGB: the basis is orthonormal */
        for (int ch = 0; ch < 3; ch++)
            for (int i = 0; i < PP; i++)
                o[ch][i] = M[0][ch] * v[0][i] + M[1][ch] * v[1][i] + M[2][ch] * v[2][i];
    float(*out)[PP] = C == 3 ? o : v;
    for (int i = 0; i < P; i++) {
        float *d = s->den + at + (size_t)i * s->W;
        for (int j = 0; j < P; j++)
            d[j] += b * s->kaiser[i * P + j];
        for (int ch = 0; ch < C; ch++) {
            float *q = s->num + ch * hw + at + (size_t)i * s->W;
            for (int j = 0; j < P; j++)
                q[j] += a * s->kaiser[i * P + j] * out[ch][i * P + j];
        }
    }
}

static float *group_buffer(const stage *s, unsigned char *scr);

/* The oracle path: one reference patch, its group's DCTs computed and
 * inverted on their own. */
static void reference(const stage *s, int ry, int rx, unsigned char *scr)
{
    int C = s->C;
    size_t gs = (size_t)s->wp->group * PP;
    wp_match *m = (wp_match *)scr;
    float *gz = group_buffer(s, scr);
    float *gp = gz + C * gs; /* [C, G, 64] each */
    int n = match_group(s->guide, s->H, s->W, ry, rx, s->wp, m);
    gather(s, s->noisy, m, n, gz);
    gather(s, s->pilot, m, n, gp);
    float s2 = s->sigma * s->sigma, g2[PP] = {0}, e[3 * PP];
    for (int c = 0; c < C; c++)
        shrink(gz + c * gs, gp + c * gs, n, s2, g2);
    float wt = group_weight(g2, s2);
    for (int k = 0; k < n; k++) {
        for (int c = 0; c < C; c++)
            memcpy(e + c * PP, gz + c * gs + (size_t)k * PP, sizeof(float) * PP);
        put_back(s, m[k].y, m[k].x, wt, wt, e);
    }
}

/* A reference patch's work in job units: its matching, its group's
 * Walsh-Hadamard transforms and its share of the band's DCTs (each about
 * 1024 multiply-adds; some 3 C per position, positions step^2 a
 * reference). */
static double ref_work(int C, const wp_wiener_params *wp)
{
    int lg = 0;
    while ((2 << lg) <= wp->group)
        lg++;
    return (double)wp->search * wp->search * PP +
           (double)C * ((double)wp->group * PP * lg + (double)wp->step * wp->step * 3 * 1024);
}

/* Reference positions along a side: 0, step, ... and the last one, max. */
static int npositions(int max, int step) { return max / step + 1 + (max % step != 0); }
static int position(int i, int step, int max) { return i * step < max ? i * step : max; }

/* ---- the fast path: each patch's transforms once per band ---- */

/* A band's patches, direct-mapped by column: slot (y - y0, x mod cw) holds
 * position (y, x)'s DCTs of the noisy image and of the pilot (opponent
 * basis for colour) and the weighted sum of the groups' estimates of it,
 * put back (inverse DCT, Kaiser window) when another column takes the slot
 * or the band ends.  References run column by column and a window is at
 * most cw wide, so a column leaves only after the last reference that can
 * match it: each patch is transformed about once a band instead of once a
 * group it is in. */
typedef struct {
    int y0, cw;
    int *tag;            /* [rows][cw]: the column held, -1 none */
    float *w;            /* [rows][cw]: the weights' sum */
    float *z, *p, *acc;  /* [rows][cw][C][64] */
} band_cache;

static int window_side(const wp_wiener_params *wp) { return 2 * (wp->search / 2) + 1; }
static int cache_cols(const wp_wiener_params *wp)
{
    int cw = 1;
    while (cw < window_side(wp))
        cw *= 2;
    return cw;
}
static int cache_rows(const stage *s) { return (s->band - 1) * s->wp->step + window_side(s->wp); }

/* The per-thread scratch, each part on a cache line: the matches and the
 * group's slots; the group's transforms (C + 1 channels, 2 C for the
 * oracle); the band cache's tags and weights, then its coefficients. */
static size_t align64(size_t b) { return (b + 63) & ~(size_t)63; }
static size_t groups_at(const stage *s)
{
    size_t win = (size_t)window_side(s->wp);
    return align64(sizeof(wp_match) * win * win + sizeof(int) * s->wp->group);
}
static size_t cache_at(const stage *s)
{
    return groups_at(s) + align64(sizeof(float) * 2 * s->C * s->wp->group * PP);
}
static size_t cache_slots(const stage *s) { return (size_t)cache_rows(s) * cache_cols(s->wp); }
static size_t coeffs_at(const stage *s)
{
    return cache_at(s) + align64((sizeof(int) + sizeof(float)) * cache_slots(s));
}
static size_t scratch_size(const stage *s)
{
    if (s->oracle) /* no band cache */
        return cache_at(s);
    return align64(coeffs_at(s) + sizeof(float) * 3 * s->C * PP * cache_slots(s));
}
static float *group_buffer(const stage *s, unsigned char *scr)
{
    return (float *)(scr + groups_at(s));
}

static void flush_slot(const stage *s, band_cache *bc, int q)
{
    if (bc->tag[q] >= 0 && bc->w[q] > 0)
        put_back(s, bc->y0 + q / bc->cw, bc->tag[q], 1.0f, bc->w[q],
                 bc->acc + (size_t)q * s->C * PP);
    bc->tag[q] = -1;
}

/* The slot of position (y, x), its DCTs computed when it is new. */
VECTOR_CLONES static int touch(const stage *s, band_cache *bc, int y, int x)
{
    int q = (y - bc->y0) * bc->cw + (x & (bc->cw - 1)), C = s->C;
    if (bc->tag[q] == x)
        return q;
    flush_slot(s, bc, q);
    size_t at = (size_t)y * s->W + x, o = (size_t)q * C * PP;
    patch_dct(s, s->noisy, at, bc->z + o, PP);
    patch_dct(s, s->pilot, at, bc->p + o, PP);
    memset(bc->acc + o, 0, sizeof(float) * C * PP);
    bc->w[q] = 0;
    bc->tag[q] = x;
    return q;
}

VECTOR_CLONES static void reference_cached(const stage *s, int ry, int rx, band_cache *bc,
                                           unsigned char *scr)
{
    int C = s->C, win = window_side(s->wp);
    size_t gs = (size_t)s->wp->group * PP;
    wp_match *m = (wp_match *)scr;
    int *slot = (int *)(m + (size_t)win * win);
    float *gz = group_buffer(s, scr), *gp = gz + C * gs; /* gp: one channel at a time */
    int n = match_group(s->guide, s->H, s->W, ry, rx, s->wp, m);
    for (int k = 0; k < n; k++)
        slot[k] = touch(s, bc, m[k].y, m[k].x);
    float s2 = s->sigma * s->sigma, g2[PP] = {0};
    for (int c = 0; c < C; c++) {
        float *z = gz + c * gs;
        for (int k = 0; k < n; k++) {
            size_t o = ((size_t)slot[k] * C + c) * PP;
            memcpy(z + (size_t)k * PP, bc->z + o, sizeof(float) * PP);
            memcpy(gp + (size_t)k * PP, bc->p + o, sizeof(float) * PP);
        }
        shrink(z, gp, n, s2, g2);
    }
    float wt = group_weight(g2, s2);
    for (int k = 0; k < n; k++) {
        float *a = bc->acc + (size_t)slot[k] * C * PP;
        for (int c = 0; c < C; c++)
            for (int i = 0; i < PP; i++)
                a[c * PP + i] += wt * gz[c * gs + (size_t)k * PP + i];
        bc->w[slot[k]] += wt;
    }
}

/* Band i of one parity: reference rows [b * band, (b + 1) * band).  Bands
 * of a parity touch disjoint rows (band * step >= search + patch), so
 * they run in parallel and the sums do not depend on the thread count. */
static void run_band(int i, int tid, void *ctx)
{
    stage *s = ctx;
    int b = 2 * i + s->par, step = s->wp->step, r = s->wp->search / 2;
    unsigned char *scr = s->scratch + (size_t)tid * s->scratch_bytes;
    if (s->job && wp_job_cancelled(s->job))
        return;
    int a0 = b * s->band, a1 = a0 + s->band < s->nry ? a0 + s->band : s->nry;
    if (s->oracle) {
        for (int a = a0; a < a1; a++)
            for (int c = 0; c < s->nrx; c++)
                reference(s, position(a, step, s->H - P), position(c, step, s->W - P), scr);
    } else {
        size_t slots = cache_slots(s), CP = (size_t)s->C * PP;
        band_cache bc = {.cw = cache_cols(s->wp), .tag = (int *)(scr + cache_at(s))};
        bc.w = (float *)(bc.tag + slots);
        bc.z = (float *)(scr + coeffs_at(s)), bc.p = bc.z + slots * CP, bc.acc = bc.p + slots * CP;
        int top = position(a0, step, s->H - P) - r;
        bc.y0 = top < 0 ? 0 : top;
        for (size_t q = 0; q < slots; q++)
            bc.tag[q] = -1;
        for (int c = 0; c < s->nrx; c++)
            for (int a = a0; a < a1; a++)
                reference_cached(s, position(a, step, s->H - P), position(c, step, s->W - P), &bc,
                                 scr);
        for (size_t q = 0; q < slots; q++)
            flush_slot(s, &bc, (int)q);
    }
    if (s->job)
        wp_job_advance(s->job, (a1 - a0) * s->nrx * ref_work(s->C, s->wp));
}

static double kaiser_i0(double x)
{
    double s = 1, t = 1;
    for (int k = 1; k < 30; k++) {
        t *= (x / 2) * (x / 2) / ((double)k * k);
        s += t;
    }
    return s;
}

double wp_wiener_work(int C, int H, int W, const wp_wiener_params *wp)
{
    if (H < P || W < P)
        return 0;
    return (double)npositions(H - P, wp->step) * npositions(W - P, wp->step) * ref_work(C, wp);
}

static int run_stage(const float *noisy, float *res, int C, int H, int W, float sigma, int clipped,
                     const wp_wiener_params *wp, float *work, wp_job *job, int oracle)
{
    if (H < P || W < P || !(sigma > 0))
        return 0;
    wp_wiener_knobs kn = wp_wiener_knobs_at(sigma, C, clipped);
    sigma *= kn.factor;
    pthread_once(&dct_once, dct_init);
    size_t hw = (size_t)H * W;
    stage s = {.noisy = noisy, .pilot = res, .C = C, .H = H, .W = W, .sigma = sigma, .wp = wp,
               .job = job, .oracle = oracle};
    float *guide = work, *num = work + hw, *den = num + (size_t)C * hw;
    if (C == 1)
        s.guide = res;
    else
        wp_opponent_channel(res, hw, 0, guide), s.guide = guide;
    memset(num, 0, sizeof(float) * (size_t)(C + 1) * hw);
    s.num = num, s.den = den;
    double beta = 2.0;
    for (int i = 0; i < P; i++)
        for (int j = 0; j < P; j++) {
            double ri = 2.0 * i / (P - 1) - 1, rj = 2.0 * j / (P - 1) - 1;
            s.kaiser[i * P + j] = (float)(kaiser_i0(beta * sqrt(1 - ri * ri)) *
                                          kaiser_i0(beta * sqrt(1 - rj * rj)) /
                                          (kaiser_i0(beta) * kaiser_i0(beta)));
        }
    s.nry = npositions(H - P, wp->step), s.nrx = npositions(W - P, wp->step);
    s.band = (wp->search + P + wp->step - 1) / wp->step + 1;
    int nbands = (s.nry + s.band - 1) / s.band, T = wp_threads();
    s.scratch_bytes = scratch_size(&s);
    /* The job's workspace, free once the networks are done, already
     * touched: fresh pages cost more here than the stage's small images. */
    char err[WP_ERRLEN];
    void *own = NULL;
    if (job)
        s.scratch = (unsigned char *)wp_job_workspace(
            job, (s.scratch_bytes * (size_t)T + sizeof(float) - 1) / sizeof(float), err);
    else
        s.scratch = own = aligned_alloc(64, s.scratch_bytes * (size_t)T);
    if (!s.scratch)
        return 0; /* the pilot stays: the stage only improves it */
    for (int par = 0; par < 2; par++) {
        s.par = par;
        wp_parallel_for((nbands - par + 1) / 2, run_band, &s);
    }
    free(own);
    if (job && wp_job_cancelled(job))
        return -1;
    float share = kn.share;
    for (int c = 0; c < C; c++)
        for (size_t q = 0; q < hw; q++) {
            float d = den[q];
            if (d > 0)
                res[c * hw + q] += share * (num[c * hw + q] / d - res[c * hw + q]);
        }
    return 0;
}

int wp_wiener_stage(const float *noisy, float *res, int C, int H, int W, float sigma, int clipped,
                    const wp_wiener_params *wp, float *work, wp_job *job)
{
    return run_stage(noisy, res, C, H, W, sigma, clipped, wp, work, job, 0);
}

int wp_wiener_stage_oracle(const float *noisy, float *res, int C, int H, int W, float sigma,
                           int clipped, const wp_wiener_params *wp, float *work)
{
    return run_stage(noisy, res, C, H, W, sigma, clipped, wp, work, NULL, 1);
}
