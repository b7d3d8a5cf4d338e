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

/* BM3D's second-stage knobs (8x8 patches, groups of up to 64, pilot
 * patches within 400/255^2 of the reference), a reference every 6 pixels,
 * a 25x25 window.  On 11 validation photographs (gray 256x256 crops, sigma
 * 5/25/50, clipped): 64 every 6 pixels gave 0.08-0.36 dB more than 32
 * every 8 and 0.07-0.18 more than 64 every 8; the 25x25 window 0.01-0.025
 * dB less than 39x39 at half the time. */
const wp_wiener_params wp_wiener_defaults = {.search = 25, .step = 6, .group = 64,
                                             .tau = 400.0f / (255.0f * 255.0f)};

/* By the estimated noise sigma (0..255 units; linear in between, held
 * beyond the ends): the Wiener estimate's share in the result (the rest is
 * the pilot's) and the factor on sigma its gains take.  An input clipped
 * to [0,1] leaves the networks more to correct at high noise, and the
 * stage does better with a larger sigma there.  Fitted on 11 of the
 * validation photographs (256x256 crops, gray; sigma 5-75), never on the
 * benchmark sets. */
typedef struct {
    float sigma, share, factor;
} share_point;
static const share_point plain_points[] = {
    {5, 0.85f, 1.0f}, {15, 0.7f, 1.0f}, {25, 0.7f, 1.0f}, {50, 0.6f, 1.0f}};
static const share_point clipped_points[] = {
    {5, 0.85f, 1.0f}, {15, 0.8f, 1.15f}, {25, 0.85f, 1.35f}, {50, 1.0f, 1.7f}};
#define N_POINTS 4

wp_wiener_knobs wp_wiener_knobs_at(float sigma, int clipped)
{
    const share_point *t = clipped ? clipped_points : plain_points;
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

/* The orthonormal Walsh-Hadamard transform across n (a power of 2) blocks
 * of 64 coefficients; its own inverse. */
static inline void wht(float *g, int n)
{
    for (int h = 1; h < n; h *= 2)
        for (int i = 0; i < n; i += 2 * h)
            for (int j = i; j < i + h; j++) {
                float *a = g + (size_t)j * PP, *b = g + (size_t)(j + h) * PP;
                for (int c = 0; c < PP; c++) {
                    float s = a[c], d = b[c];
                    a[c] = s + d, b[c] = s - d;
                }
            }
    float k = 1.0f / sqrtf((float)n);
    for (int i = 0; i < n * PP; i++)
        g[i] *= k;
}

/* ---- matching ---- */

static int before(const wp_match *a, const wp_match *b)
{
    if (a->d != b->d)
        return a->d < b->d;
    return a->y != b->y ? a->y < b->y : a->x < b->x;
}

/* Moves the k best (by `before`) of m [n] to its front, in no order:
 * quickselect with the median of three as the pivot. */
static void select_best(wp_match *m, int n, int k)
{
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (before(&m[mid], &m[lo])) { wp_match t = m[mid]; m[mid] = m[lo]; m[lo] = t; }
        if (before(&m[hi], &m[lo])) { wp_match t = m[hi]; m[hi] = m[lo]; m[lo] = t; }
        if (before(&m[hi], &m[mid])) { wp_match t = m[hi]; m[hi] = m[mid]; m[mid] = t; }
        wp_match pv = m[mid];
        int i = lo, j = hi;
        while (i <= j) {
            while (before(&m[i], &pv))
                i++;
            while (before(&pv, &m[j]))
                j--;
            if (i <= j) {
                wp_match t = m[i];
                m[i] = m[j], m[j] = t;
                i++, j--;
            }
        }
        if (k - 1 <= j)
            hi = j;
        else if (k - 1 >= i)
            lo = i;
        else
            break;
    }
}

static int cmp_match(const void *a, const void *b)
{
    const wp_match *x = a, *y = b;
    return before(x, y) ? -1 : before(y, x);
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
    qsort(m, (size_t)n, sizeof *m, cmp_match);
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
    float sigma;
    const wp_wiener_params *wp;
    float kaiser[PP];
    unsigned char *scratch; /* per thread */
    size_t scratch_bytes;
    wp_job *job;
} stage;

/* The DCTs of a group's patches in img [C,H,W] into g [C, n, 64]: colour
 * in the opponent basis (the DCT is linear: the RGB patches' DCTs mixed). */
static inline void gather(const stage *s, const float *img, const wp_match *m, int n, float *g)
{
    size_t hw = (size_t)s->H * s->W, gs = (size_t)s->wp->group * PP;
    const float(*M)[3] = wp_opponent_basis();
    for (int k = 0; k < n; k++) {
        size_t at = (size_t)m[k].y * s->W + m[k].x;
        if (s->C == 1) {
            dct_fwd(img + at, s->W, g + (size_t)k * PP);
            continue;
        }
        float t[3][PP];
        for (int ch = 0; ch < 3; ch++)
            dct_fwd(img + ch * hw + at, s->W, t[ch]);
        for (int c = 0; c < 3; c++) {
            float *o = g + c * gs + (size_t)k * PP;
            for (int i = 0; i < PP; i++)
                o[i] = M[c][0] * t[0][i] + M[c][1] * t[1][i] + M[c][2] * t[2][i];
        }
    }
}

/* One reference patch: its group, shrunk channel by channel, added to
 * num and den with one weight for all channels. */
VECTOR_CLONES static void reference(const stage *s, int ry, int rx, unsigned char *scr)
{
    int C = s->C, G = s->wp->group;
    size_t gs = (size_t)G * PP, hw = (size_t)s->H * s->W;
    wp_match *m = (wp_match *)scr;
    float *gz = (float *)(scr + sizeof(wp_match) * s->wp->search * s->wp->search);
    float *gp = gz + C * gs; /* [C, G, 64] each */
    int n = match_group(s->guide, s->H, s->W, ry, rx, s->wp, m);
    float s2 = s->sigma * s->sigma;
    gather(s, s->noisy, m, n, gz);
    gather(s, s->pilot, m, n, gp);
    float acc[PP] = {0}; /* sums of the squared gains, one per coefficient */
    for (int c = 0; c < C; c++) {
        float *z = gz + c * gs, *p = gp + c * gs;
        wht(z, n), wht(p, n);
        for (int k = 0; k < n; k++)
            for (int i = 0; i < PP; i++) {
                float a = p[k * PP + i] * p[k * PP + i], w = a / (a + s2);
                z[k * PP + i] *= w;
                acc[i] += w * w;
            }
        wht(z, n);
    }
    float wsum = 0;
    for (int i = 0; i < PP; i++)
        wsum += acc[i];
    /* BM3D's weight: the inverse of the estimate's noise variance */
    float wt = 1.0f / (s2 * (wsum > 0 ? wsum : 1.0f));
    const float(*M)[3] = wp_opponent_basis();
    for (int k = 0; k < n; k++) {
        float e[3][PP], v[3][PP];
        for (int c = 0; c < C; c++)
            dct_inv(gz + c * gs + (size_t)k * PP, e[c]);
        if (C == 3) /* back to RGB: the basis is orthonormal */
            for (int ch = 0; ch < 3; ch++)
                for (int i = 0; i < PP; i++)
                    v[ch][i] = M[0][ch] * e[0][i] + M[1][ch] * e[1][i] + M[2][ch] * e[2][i];
        float(*out)[PP] = C == 3 ? v : e;
        size_t at = (size_t)m[k].y * s->W + m[k].x;
        for (int i = 0; i < P; i++) {
            float *d = s->den + at + (size_t)i * s->W;
            for (int j = 0; j < P; j++)
                d[j] += wt * s->kaiser[i * P + j];
            for (int ch = 0; ch < C; ch++) {
                float *q = s->num + ch * hw + at + (size_t)i * s->W;
                for (int j = 0; j < P; j++)
                    q[j] += wt * s->kaiser[i * P + j] * out[ch][i * P + j];
            }
        }
    }
}

/* A reference patch's work in job units: its matching and its group's
 * transforms (a DCT about 1024 multiply-adds). */
static double ref_work(int C, const wp_wiener_params *wp)
{
    return (double)wp->search * wp->search * PP + (double)C * wp->group * 3 * 1024;
}

/* Reference positions along a side: 0, step, ... and the last one, max. */
static int npositions(int max, int step) { return max / step + 1 + (max % step != 0); }
static int position(int i, int step, int max) { return i * step < max ? i * step : max; }

/* Band i of one parity: reference rows [b * band, (b + 1) * band).  Bands
 * of a parity touch disjoint rows (band * step >= search + patch), so
 * they run in parallel and the sums do not depend on the thread count. */
static void run_band(int i, int tid, void *ctx)
{
    stage *s = ctx;
    int b = 2 * i + s->par;
    unsigned char *scr = s->scratch + (size_t)tid * s->scratch_bytes;
    if (s->job && wp_job_cancelled(s->job))
        return;
    int a0 = b * s->band, a1 = a0 + s->band < s->nry ? a0 + s->band : s->nry;
    for (int a = a0; a < a1; a++)
        for (int c = 0; c < s->nrx; c++)
            reference(s, position(a, s->wp->step, s->H - P), position(c, s->wp->step, s->W - P),
                      scr);
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

int wp_wiener_stage(const float *noisy, float *res, int C, int H, int W, float sigma, int clipped,
                    const wp_wiener_params *wp, float *work, wp_job *job)
{
    if (H < P || W < P || !(sigma > 0))
        return 0;
    wp_wiener_knobs kn = wp_wiener_knobs_at(sigma, clipped);
    sigma *= kn.factor;
    pthread_once(&dct_once, dct_init);
    size_t hw = (size_t)H * W;
    stage s = {.noisy = noisy, .pilot = res, .C = C, .H = H, .W = W, .sigma = sigma, .wp = wp,
               .job = job};
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
    s.scratch_bytes = sizeof(wp_match) * wp->search * wp->search +
                      sizeof(float) * (size_t)2 * C * wp->group * PP;
    s.scratch = malloc(s.scratch_bytes * (size_t)T);
    if (!s.scratch)
        return 0; /* the pilot stays: the stage only improves it */
    for (int par = 0; par < 2; par++) {
        s.par = par;
        wp_parallel_for((nbands - par + 1) / 2, run_band, &s);
    }
    free(s.scratch);
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
