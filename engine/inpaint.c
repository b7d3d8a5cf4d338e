/* inpaint.c: filling the unknown pixels of an image from the prior,
 * conditioned on the known ones (Kadkhodaie & Simoncelli's linear inverse
 * problem with M the known pixels), coarse to fine over the Haar pyramid.
 *
 * At level j the state is the low-pass image y_j (2^-j of the size) and the
 * denoiser D_j is the prior's sub-pyramid from level j down (the low-pass
 * net on the coarsest, then the conditional nets of levels J-1 .. j).  A
 * pixel of y_j is known with the weight w_j = the fraction of its 2^j x 2^j
 * pixels that are known, and then its value is their mean v_j.  The sharp
 * mode's step (a sample):
 *   y <- y + (1 - w) (h_t r(y) + gamma_t z),  y <- y + w (v - y),
 * with the sampler's step sizes, noise and stopping rule (sigma_t measured
 * over the unknown pixels).  The fast mode's step (annealed plug-and-play,
 * close to the posterior mean): u = y + sigma_k z over the whole level,
 *   y <- y + (1 - w) (D_j(u) - y),  y <- y + w (v - y),
 * sigma_k falling geometrically, the mean of the last outputs kept.  At
 * level 0 w is 0 or 1: the known pixels are the data.  Each level starts
 * from the coarser one's result (replicated) merged with the data; the
 * coarsest from a diffusion fill.  Below the prior's finest level the fast
 * mode fills by a smooth interpolation that keeps the coarser layout
 * (wp_smooth_fill), then continues the edges of level 0 by
 * edge-enhancing diffusion (wp_eed_fill).
 *
 * Only regions around the holes are processed: the holes' bounding boxes
 * grown by a context (the low-pass net's field at the coarsest level, or
 * half the hole's size when larger), merged where they overlap. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp_job.h"
#include "wp_parallel.h"
#include "wp_prior_internal.h"
#include "wp_rng.h"
#include "wp_sample.h"
#include "wp_util.h"

/* Defaults of the two modes (bench/results/inpaint.md). */
static void inpaint_defaults(wp_inpaint_mode mode, wp_sampler_params *d)
{
    wp_sampler_defaults(d);
    if (mode == WP_INPAINT_FAST) {
        d->sigma0 = 0.05f;
        d->sigma_l = 0.005f;
        d->max_iter = 12;
    } else {
        d->sigma0 = 0.02f;
        d->h0 = WP_SHARP_H0;
        d->beta = WP_SHARP_BETA;
        d->sigma_l = 0.01f;
        d->max_iter = 300;
    }
}

/* The finest level that the prior works at; the levels below are filled
 * by diffusion from it.  The shipped priors' denoisers smooth clean
 * photographs' finest details (they lose to diffusion there on validation
 * crops), so the fast mode stops at level 1; a model may say otherwise in
 * its metadata "inpaint.fast.finest" / "inpaint.sharp.finest" (0..J). */
static int finest_level(const wp_prior *p, wp_inpaint_mode mode, int J)
{
    if (mode == WP_INPAINT_DIFFUSE)
        return J + 1;
    const char *v = wp_prior_meta(p, mode == WP_INPAINT_FAST ? "inpaint.fast.finest"
                                                             : "inpaint.sharp.finest");
    double x;
    if (v && !wp_parse_double(v, &x) && x >= 0 && x <= J && x == (int)x)
        return (int)x;
    return mode == WP_INPAINT_FAST && J > 0 ? 1 : 0;
}

typedef struct {
    int x, y, w, h;
} box;

/* ---- regions ---- */

#define CELL 16
#define MAX_REGIONS 256

static int overlap(const box *a, const box *b)
{
    return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h && b->y < a->y + a->h;
}

static void unite(box *a, const box *b)
{
    int x1 = a->x + a->w > b->x + b->w ? a->x + a->w : b->x + b->w;
    int y1 = a->y + a->h > b->y + b->h ? a->y + a->h : b->y + b->h;
    a->x = a->x < b->x ? a->x : b->x;
    a->y = a->y < b->y ? a->y : b->y;
    a->w = x1 - a->x;
    a->h = y1 - a->y;
}

static void grow(box *b, int by, int H, int W)
{
    int x0 = b->x - by, y0 = b->y - by, x1 = b->x + b->w + by, y1 = b->y + b->h + by;
    b->x = x0 < 0 ? 0 : x0;
    b->y = y0 < 0 ? 0 : y0;
    b->w = (x1 > W ? W : x1) - b->x;
    b->h = (y1 > H ? H : y1) - b->y;
}

/* The regions to process: the 8-connected groups of CELL x CELL cells
 * holding unknown pixels, each grown by max(context, half its size) and
 * merged while any overlap (one region around everything when there are
 * too many).  Returns the number of regions (0: no hole), -1: no memory. */
static int find_regions(const uint8_t *mask, int H, int W, int context, box *out)
{
    int ch = (H + CELL - 1) / CELL, cw = (W + CELL - 1) / CELL;
    int *cell = calloc((size_t)ch * cw, sizeof(int)), *stack = malloc(sizeof(int) * ch * cw);
    if (!cell || !stack) {
        free(cell), free(stack);
        return -1;
    }
    for (int i = 0; i < H; i++)
        for (int j = 0; j < W; j++)
            if (mask[(size_t)i * W + j])
                cell[(i / CELL) * cw + j / CELL] = -1;
    int n = 0, many = 0;
    box all = {0, 0, 0, 0};
    for (int s = 0; s < ch * cw; s++) {
        if (cell[s] != -1)
            continue;
        int top = 0, i0 = s / cw, i1 = i0, j0 = s % cw, j1 = j0;
        stack[top++] = s;
        cell[s] = 1;
        while (top) {
            int c = stack[--top], ci = c / cw, cj = c % cw;
            i0 = ci < i0 ? ci : i0, i1 = ci > i1 ? ci : i1;
            j0 = cj < j0 ? cj : j0, j1 = cj > j1 ? cj : j1;
            for (int di = -1; di <= 1; di++)
                for (int dj = -1; dj <= 1; dj++) {
                    int ni = ci + di, nj = cj + dj;
                    if (ni >= 0 && ni < ch && nj >= 0 && nj < cw && cell[ni * cw + nj] == -1) {
                        cell[ni * cw + nj] = 1;
                        stack[top++] = ni * cw + nj;
                    }
                }
        }
        box b = {j0 * CELL, i0 * CELL, (j1 + 1) * CELL, (i1 + 1) * CELL};
        b.w = (b.w > W ? W : b.w) - b.x;
        b.h = (b.h > H ? H : b.h) - b.y;
        int half = (b.w > b.h ? b.w : b.h) / 2;
        grow(&b, half > context ? half : context, H, W);
        if (n == 0 && !many)
            all = b;
        else
            unite(&all, &b);
        if (n < MAX_REGIONS)
            out[n++] = b;
        else
            many = 1;
    }
    free(cell);
    free(stack);
    if (many) {
        out[0] = all;
        return 1;
    }
    for (int merged = 1; merged;) {
        merged = 0;
        for (int a = 0; a < n && !merged; a++)
            for (int b = a + 1; b < n; b++)
                if (overlap(&out[a], &out[b])) {
                    unite(&out[a], &out[b]);
                    out[b] = out[--n];
                    merged = 1;
                    break;
                }
    }
    return n;
}

/* ---- one region ---- */

typedef struct {
    wp_job *job;
    const wp_prior *p;
    wp_sampler_params sp;
    int C, J, Hp, Wp;       /* prior channels, levels, padded region size */
    float *y[WP_MAX_LEVELS + 1]; /* state per level [C, Hp>>j, Wp>>j] */
    float *v[WP_MAX_LEVELS + 1]; /* data: mean of the known pixels */
    float *wt[WP_MAX_LEVELS + 1]; /* weight: the fraction known [Hp>>j, Wp>>j] */
    float *low[WP_MAX_LEVELS + 1], *det[WP_MAX_LEVELS]; /* the denoiser's pyramid */
    float *r, *z, *acc, *netout;
    float *ex; /* 2 planes of level 0 (one channel): wp_eed_fill's */
    float *buf;
    int iterations;
    int anneal; /* the fast mode's plug-and-play instead of the ascent */
} region;

static size_t level_floats(int C, int Hp, int Wp, int j) { return (size_t)C * (Hp >> j) * (Wp >> j); }

/* Floats of the region's buffers (the padded planes of all levels). */
static size_t region_floats(int C, int J, int Hp, int Wp)
{
    size_t n = 0, plane = level_floats(C, Hp, Wp, 0);
    for (int j = 0; j <= J; j++)
        n += 3 * level_floats(C, Hp, Wp, j) + level_floats(1, Hp, Wp, j) + 64;
    return n + 4 * plane + 2 * level_floats(1, Hp, Wp, 0) + 112;
}

static void region_layout(region *R)
{
    float *b = R->buf;
    int C = R->C;
    for (int j = 0; j <= R->J; j++) {
        size_t n = level_floats(C, R->Hp, R->Wp, j);
        R->y[j] = b, b += n;
        R->v[j] = b, b += n;
        R->wt[j] = b, b += level_floats(1, R->Hp, R->Wp, j) + 16;
        /* low[j+1] and det[j] (3C channels at level j+1) share this level's
         * third plane */
        if (j < R->J) {
            R->det[j] = b;
            R->low[j + 1] = b + 3 * level_floats(C, R->Hp, R->Wp, j + 1);
        }
        b += n + 16;
    }
    size_t plane = level_floats(C, R->Hp, R->Wp, 0);
    R->r = b, b += plane + 16;
    R->z = b, b += plane + 16;
    R->acc = b, b += plane + 16;
    R->netout = b, b += plane + 16;
    R->ex = b;
}

/* The known weights and data of every level, from the padded region. */
static void build_data(region *R, const float *x, const float *known)
{
    int C = R->C;
    size_t n0 = level_floats(1, R->Hp, R->Wp, 0);
    memcpy(R->wt[0], known, sizeof(float) * n0);
    for (int c = 0; c < C; c++)
        for (size_t i = 0; i < n0; i++)
            R->v[0][c * n0 + i] = known[i] > 0 ? x[c * n0 + i] : 0.0f;
    for (int j = 1; j <= R->J; j++) {
        int h = R->Hp >> j, w = R->Wp >> j, W2 = 2 * w;
        size_t hw = (size_t)h * w, hw2 = 4 * hw;
        const float *wf = R->wt[j - 1];
        for (int i = 0; i < h; i++)
            for (int k = 0; k < w; k++) {
                size_t o = (size_t)i * w + k, a = (size_t)2 * i * W2 + 2 * k;
                float w4[4] = {wf[a], wf[a + 1], wf[a + W2], wf[a + W2 + 1]};
                float ws = w4[0] + w4[1] + w4[2] + w4[3];
                R->wt[j][o] = ws / 4;
                for (int c = 0; c < C; c++) {
                    const float *vf = R->v[j - 1] + c * hw2;
                    float s = w4[0] * vf[a] + w4[1] * vf[a + 1] + w4[2] * vf[a + W2] +
                              w4[3] * vf[a + W2 + 1];
                    R->v[j][c * hw + o] = ws > 0 ? s / ws : 0.0f;
                }
            }
    }
}

/* y <- y + w (v - y): the data's pull (exact where w = 1). */
static void pull_to_data(region *R, int j)
{
    size_t hw = level_floats(1, R->Hp, R->Wp, j);
    for (int c = 0; c < R->C; c++)
        for (size_t i = 0; i < hw; i++) {
            float w = R->wt[j][i];
            float *y = R->y[j] + c * hw + i;
            if (w >= 1.0f)
                *y = R->v[j][c * hw + i];
            else if (w > 0)
                *y += w * (R->v[j][c * hw + i] - *y);
        }
}

/* Jacobi sweeps of the diffusion (Laplace) equation over the pixels of
 * level j that are not wholly known, the known part pulled to the data;
 * mirrored at the border.  Until the largest change is below tol. */
static void diffuse(region *R, int j, int sweeps, float tol)
{
    int h = R->Hp >> j, w = R->Wp >> j;
    size_t hw = (size_t)h * w;
    float *tmp = R->r;
    for (int s = 0; s < sweeps; s++) {
        float most = 0;
        for (int c = 0; c < R->C; c++) {
            float *y = R->y[j] + c * hw;
            for (int i = 0; i < h; i++)
                for (int k = 0; k < w; k++) {
                    size_t o = (size_t)i * w + k;
                    float wt = R->wt[j][o];
                    if (wt >= 1.0f) {
                        tmp[o] = y[o];
                        continue;
                    }
                    float up = y[o - (i > 0 ? w : 0)], dn = y[o + (i < h - 1 ? w : 0)];
                    float lf = y[o - (k > 0)], rt = y[o + (k < w - 1)];
                    float avg = (up + dn + lf + rt) / 4;
                    tmp[o] = avg + wt * (R->v[j][c * hw + o] - avg);
                    float d = fabsf(tmp[o] - y[o]);
                    most = d > most ? d : most;
                }
            memcpy(y, tmp, sizeof(float) * hw);
        }
        if (most < tol)
            break;
    }
}

/* ---- the smooth fill below the prior's finest level ---- */

/* t = G x over an h x w plane: G is minus the Laplacian with mirrored
 * (Neumann) borders, sum over the 4 neighbours n inside of x - x[n]. */
static void neg_laplacian(const float *x, float *t, int h, int w)
{
    for (int i = 0; i < h; i++)
        for (int k = 0; k < w; k++) {
            size_t o = (size_t)i * w + k;
            float c = x[o], s = 0;
            if (i > 0)
                s += c - x[o - w];
            if (i < h - 1)
                s += c - x[o + w];
            if (k > 0)
                s += c - x[o - 1];
            if (k < w - 1)
                s += c - x[o + 1];
            t[o] = s;
        }
}

/* out = (G + G^2) x + mu x on the unknown pixels (wt < 1), 0 elsewhere;
 * tmp: a plane of scratch. */
static void smooth_op(const float *x, float *out, float *tmp, const float *wt, int h, int w,
                      float mu)
{
    size_t hw = (size_t)h * w;
    neg_laplacian(x, tmp, h, w);
    neg_laplacian(tmp, out, h, w);
    for (size_t i = 0; i < hw; i++)
        out[i] = wt[i] < 1.0f ? out[i] + tmp[i] + mu * x[i] : 0.0f;
}

/* The fast mode's screening weight mu of wp_smooth_fill, and the solver's
 * limits. */
#define WP_SMOOTH_MU 0.03f
#define WP_SMOOTH_MAX_ITER 300
#define WP_SMOOTH_TOL 1e-3

int wp_smooth_fill(float *y, const float *wt, int h, int w, float mu, float *const work[4])
{
    size_t hw = (size_t)h * w;
    float *r = work[0], *pv = work[1], *ap = work[2], *tmp = work[3];
    /* r = -grad E at y = s (the screening term is 0 there) */
    smooth_op(y, r, tmp, wt, h, w, 0.0f);
    double rs = 0;
    for (size_t i = 0; i < hw; i++) {
        r[i] = -r[i];
        pv[i] = r[i];
        rs += (double)r[i] * r[i];
    }
    double stop = rs * WP_SMOOTH_TOL * WP_SMOOTH_TOL;
    int it;
    for (it = 0; it < WP_SMOOTH_MAX_ITER && rs > stop && rs > 0; it++) {
        smooth_op(pv, ap, tmp, wt, h, w, mu);
        double pap = 0;
        for (size_t i = 0; i < hw; i++)
            pap += (double)pv[i] * ap[i];
        if (!(pap > 0))
            break;
        float a = (float)(rs / pap);
        double rn = 0;
        for (size_t i = 0; i < hw; i++) {
            y[i] += a * pv[i];
            r[i] -= a * ap[i];
            rn += (double)r[i] * r[i];
        }
        float b = (float)(rn / rs);
        for (size_t i = 0; i < hw; i++)
            pv[i] = r[i] + b * pv[i];
        rs = rn;
    }
    return it;
}

/* Level j's unknown pixels by wp_smooth_fill, from the coarser level's
 * layout.  The first-order term alone (diffusion) makes cones at isolated
 * pixels and kinks across thin holes; the second-order term continues
 * gradients and smooths the replicated blocks; mu keeps a large hole's
 * interior on the coarser levels' layout.  On 20 validation photographs,
 * gray, it gains 0.4-0.6 dB over the diffusion sweeps inside 50% random
 * pixels, scribbles and 32x32 holes, 0.3 in 64x64 holes. */
static void smooth_fill(region *R, int j)
{
    int h = R->Hp >> j, w = R->Wp >> j;
    float *const work[4] = {R->r, R->z, R->acc, R->netout};
    for (int c = 0; c < R->C; c++) {
        int it = wp_smooth_fill(R->y[j] + (size_t)c * h * w, R->wt[j], h, w, WP_SMOOTH_MU, work);
        if (getenv("WPRIOR_TRACE"))
            fprintf(stderr, "inpaint level %d (%dx%d), channel %d: smooth fill, %d iterations\n",
                    j, w, h, c, it);
    }
}

/* ---- edge-enhancing diffusion after the smooth fill ---- */

/* The fast mode's edge-enhancing diffusion (wp_eed_fill): the contrast
 * lambda of the diffusivity across edges, the presmoothing of the
 * structure, the explicit step and the steps.  On 12 gray validation
 * crops (fast mode) the steps gain 0.68 dB inside scribbles, 0.22 inside
 * 80% random pixels, 0.01-0.05 inside square holes; the steps are
 * WP_EED_STEPS (wp_sample.h). */
#define WP_EED_LAMBDA 0.02f
#define WP_EED_TAU 0.2f
#define WP_EED_BAND 8 /* rows per parallel task */
/* the Gaussian of sigma 0.5 presmoothing the structure, taps -2..2 */
static const float eed_kernel[5] = {0.000335f, 0.106507f, 0.786316f, 0.106507f, 0.000335f};

typedef struct {
    float *y, *du, *us, *tmp, *a, *b, *c;
    const float *wt;
    int C, h, w, apply, phase;
} eed_ctx;

static int clampi(int i, int n) { return i < 0 ? 0 : i >= n ? n - 1 : i; }

/* Rows i0..i1-1: y += tau du (the previous step's), then the horizontal
 * presmoothing of y into tmp. */
static void eed_rows(eed_ctx *e, int i0, int i1)
{
    size_t hw = (size_t)e->h * e->w;
    for (int c = 0; c < e->C; c++)
        for (int i = i0; i < i1; i++) {
            float *y = e->y + c * hw + (size_t)i * e->w, *o = e->tmp + c * hw + (size_t)i * e->w;
            if (e->apply) {
                const float *d = e->du + c * hw + (size_t)i * e->w;
                for (int k = 0; k < e->w; k++)
                    y[k] += WP_EED_TAU * d[k];
            }
            for (int k = 0; k < e->w; k++) {
                float s = 0;
                for (int d = -2; d <= 2; d++)
                    s += eed_kernel[d + 2] * y[clampi(k + d, e->w)];
                o[k] = s;
            }
        }
}

/* The vertical presmoothing, tmp -> us. */
static void eed_cols(eed_ctx *e, int i0, int i1)
{
    size_t hw = (size_t)e->h * e->w;
    for (int c = 0; c < e->C; c++)
        for (int i = i0; i < i1; i++) {
            float *o = e->us + c * hw + (size_t)i * e->w;
            for (int k = 0; k < e->w; k++)
                o[k] = 0;
            for (int d = -2; d <= 2; d++) {
                const float *r = e->tmp + c * hw + (size_t)clampi(i + d, e->h) * e->w;
                for (int k = 0; k < e->w; k++)
                    o[k] += eed_kernel[d + 2] * r[k];
            }
        }
}

/* The diffusion tensor from the presmoothed channels' structure tensor
 * (their mean): 1 / (1 + mu / lambda^2) across the dominant direction, 1
 * along it, so that the fill continues edges instead of blurring them. */
static void eed_tensor(eed_ctx *e, int i0, int i1)
{
    int h = e->h, w = e->w;
    size_t hw = (size_t)h * w;
    for (int i = i0; i < i1; i++)
        for (int k = 0; k < w; k++) {
            size_t o = (size_t)i * w + k;
            float jxx = 0, jxy = 0, jyy = 0;
            for (int c = 0; c < e->C; c++) {
                const float *u = e->us + c * hw;
                float gx = 0.5f * (u[(size_t)i * w + clampi(k + 1, w)] - u[(size_t)i * w + clampi(k - 1, w)]);
                float gy = 0.5f * (u[(size_t)clampi(i + 1, h) * w + k] - u[(size_t)clampi(i - 1, h) * w + k]);
                jxx += gx * gx, jxy += gx * gy, jyy += gy * gy;
            }
            jxx /= e->C, jxy /= e->C, jyy /= e->C;
            float mu = 0.5f * (jxx + jyy + sqrtf((jxx - jyy) * (jxx - jyy) + 4 * jxy * jxy));
            float th = 0.5f * atan2f(2 * jxy, jxx - jyy), vx = cosf(th), vy = sinf(th);
            float l1 = 1.0f / (1.0f + mu / (WP_EED_LAMBDA * WP_EED_LAMBDA)), l2 = 1.0f;
            e->a[o] = l1 * vx * vx + l2 * vy * vy;
            e->b[o] = (l1 - l2) * vx * vy;
            e->c[o] = l1 * vy * vy + l2 * vx * vx;
        }
}

/* du = div(D grad y) at the unknown pixels (0 at the known), the 3x3
 * stencil of the tensor's averages between neighbours. */
static void eed_flux(eed_ctx *e, int i0, int i1)
{
    int h = e->h, w = e->w;
    size_t hw = (size_t)h * w;
    const float *A = e->a, *B = e->b, *D = e->c;
    for (int c = 0; c < e->C; c++)
        for (int i = i0; i < i1; i++) {
            const float *u = e->y + c * hw;
            float *du = e->du + c * hw;
            size_t up = (size_t)clampi(i - 1, h) * w, dn = (size_t)clampi(i + 1, h) * w,
                   row = (size_t)i * w;
            for (int k = 0; k < w; k++) {
                size_t o = row + k;
                if (e->wt[o] >= 1.0f) {
                    du[o] = 0;
                    continue;
                }
                size_t l = row + clampi(k - 1, w), r = row + clampi(k + 1, w);
                size_t ul = up + clampi(k - 1, w), ur = up + clampi(k + 1, w);
                size_t dl = dn + clampi(k - 1, w), dr = dn + clampi(k + 1, w);
                float x = u[o];
                float s = 0.5f * ((A[l] + A[o]) * (u[l] - x) + (A[r] + A[o]) * (u[r] - x)) +
                          0.5f * ((D[up + k] + D[o]) * (u[up + k] - x) +
                                  (D[dn + k] + D[o]) * (u[dn + k] - x)) +
                          0.25f * ((B[dr] + B[o]) * (u[dr] - x) + (B[ul] + B[o]) * (u[ul] - x) -
                                   (B[ur] + B[o]) * (u[ur] - x) - (B[dl] + B[o]) * (u[dl] - x));
                du[o] = s;
            }
        }
}

/* One band of rows of the step's phase: the phases run one after the
 * other, each over all bands, since each reads its inputs' neighbouring
 * rows. */
static void eed_task(int t, int tid, void *v)
{
    (void)tid;
    eed_ctx *e = v;
    int i0 = t * WP_EED_BAND, i1 = i0 + WP_EED_BAND < e->h ? i0 + WP_EED_BAND : e->h;
    static void (*const phase[4])(eed_ctx *, int, int) = {eed_rows, eed_cols, eed_tensor,
                                                           eed_flux};
    phase[e->phase](e, i0, i1);
}

int wp_eed_fill(float *y, int C, const float *wt, int h, int w, int steps,
                float *const work[6], const wp_job *job)
{
    eed_ctx e = {y, work[0], work[1], work[2], work[3], work[4], work[5], wt, C, h, w, 0, 0};
    int bands = (h + WP_EED_BAND - 1) / WP_EED_BAND, t;
    for (t = 0; t < steps; t++) {
        if (job && t % 16 == 0 && wp_job_cancelled(job))
            break;
        e.apply = t > 0;
        for (e.phase = 0; e.phase < 4; e.phase++)
            wp_parallel_for(bands, eed_task, &e);
    }
    if (t > 0) {
        size_t n = (size_t)C * h * w;
        for (size_t i = 0; i < n; i++)
            y[i] += WP_EED_TAU * e.du[i];
    }
    return t;
}

/* Level 0's fill, continued along its edges; a cancel that cut the steps
 * short fails the job (a fill of fewer steps must not be written). */
static wp_status eed_fill(region *R, char *err)
{
    float *const work[6] = {R->r, R->z, R->acc, R->netout, R->ex, R->ex + (size_t)R->Hp * R->Wp};
    int t = wp_eed_fill(R->y[0], R->C, R->wt[0], R->Hp, R->Wp, WP_EED_STEPS, work, R->job);
    if (getenv("WPRIOR_TRACE"))
        fprintf(stderr, "inpaint level 0 (%dx%d): edge-enhancing diffusion, %d steps\n", R->Wp,
                R->Hp, t);
    return t < WP_EED_STEPS ? wp_fail(err, WP_ERR_CANCELLED, "cancelled") : WP_OK;
}

/* The fill net's correction of level 0's fill (a prior with one, fast
 * mode): y -= net([y, m]) on the unknown pixels (m = 1), in [0,1].  Trained
 * on the fill itself (`wprior train --only fill`), it learns what the
 * diffusion misses: texture and corners that the known pixels around
 * imply. */
static wp_status fill_correct(region *R, char *err)
{
    size_t hw = (size_t)R->Hp * R->Wp;
    float *m = R->ex;
    for (size_t i = 0; i < hw; i++)
        m[i] = R->wt[0][i] < 1.0f ? 1.0f : 0.0f;
    wp_plane_src src[2] = {{R->y[0], R->C, 0}, {m, 1, 0}};
    wp_status st = wp_net_forward_tiled(R->job, &R->p->fill, src, 2, R->r, R->Hp, R->Wp, err);
    for (int c = 0; c < R->C && !st; c++)
        for (size_t i = 0; i < hw; i++) {
            float *y = R->y[0] + c * hw + i, v = *y - R->r[c * hw + i];
            if (m[i] > 0.0f)
                *y = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
        }
    if (!st && getenv("WPRIOR_TRACE"))
        fprintf(stderr, "inpaint level 0 (%dx%d): fill net\n", R->Wp, R->Hp);
    return st;
}

void wp_known_or_mean(float *y, const float *v, const float *wt, int C, size_t n)
{
    for (int c = 0; c < C; c++) {
        double s = 0, sw = 0;
        for (size_t i = 0; i < n; i++)
            s += wt[i] * v[c * n + i], sw += wt[i];
        float mean = sw > 0 ? (float)(s / sw) : 0.5f;
        for (size_t i = 0; i < n; i++)
            y[c * n + i] = wt[i] > 0 ? v[c * n + i] : mean;
    }
}

/* The coarsest level's start: the data where any pixel is known, the
 * mean of the known data elsewhere, then diffusion. */
static void fill_coarsest(region *R)
{
    int J = R->J;
    wp_known_or_mean(R->y[J], R->v[J], R->wt[J], R->C, level_floats(1, R->Hp, R->Wp, J));
    diffuse(R, J, 4 * ((R->Hp >> J) + (R->Wp >> J)) + 64, 1e-5f);
}

/* Level j's start from level j+1's result: replicated, pulled to the data. */
static void start_from_coarser(region *R, int j)
{
    int h = R->Hp >> (j + 1), w = R->Wp >> (j + 1);
    size_t hw = (size_t)h * w;
    for (int c = 0; c < R->C; c++)
        for (int i = 0; i < 2 * h; i++)
            for (int k = 0; k < 2 * w; k++)
                R->y[j][c * 4 * hw + (size_t)i * 2 * w + k] =
                    R->y[j + 1][c * hw + (size_t)(i / 2) * w + k / 2];
    pull_to_data(R, j);
}

/* r = D_j(y_j) - y_j with the sub-pyramid denoiser of level j. */
static wp_status residual(region *R, int j, char *err)
{
    const wp_prior *p = R->p;
    int C = R->C, J = R->J;
    size_t n = level_floats(C, R->Hp, R->Wp, j);
    wp_status st;
    if (p->flat) {
        wp_plane_src s = {R->y[0], C, 0};
        st = wp_net_forward_tiled(R->job, &p->flatnet, &s, 1, R->r, R->Hp, R->Wp, err);
        for (size_t i = 0; i < n && !st; i++)
            R->r[i] = -R->r[i];
        return st;
    }
    const float *cur = R->y[j];
    for (int k = j; k < J; k++) {
        wp_haar_forward(cur, C, R->Hp >> k, R->Wp >> k, R->low[k + 1], R->det[k]);
        cur = R->low[k + 1];
    }
    int h = R->Hp >> J, w = R->Wp >> J;
    size_t nl = (size_t)C * h * w;
    wp_plane_src ls = {cur, C, 0};
    if (j == J) {
        st = wp_net_forward_tiled(R->job, &p->low, &ls, 1, R->r, h, w, err);
        for (size_t i = 0; i < nl && !st; i++)
            R->r[i] = -R->r[i];
        return st;
    }
    if ((st = wp_net_forward_tiled(R->job, &p->low, &ls, 1, R->netout, h, w, err)))
        return st;
    for (size_t i = 0; i < nl; i++)
        R->low[J][i] -= R->netout[i];
    for (int k = J - 1; k >= j; k--) {
        wp_plane_src src[2] = {{R->low[k + 1], C, 0}, {R->det[k], 3 * C, 1}};
        if ((st = wp_net_forward_tiled(R->job, &p->cond[k], src, 2, R->netout, h, w, err)))
            return st;
        size_t nd = (size_t)3 * C * h * w;
        for (size_t i = 0; i < nd; i++)
            R->det[k][i] -= R->netout[i];
        /* level j's result goes to r, the finer low-passes to their buffers */
        wp_haar_inverse(R->low[k + 1], R->det[k], C, h, w, k == j ? R->r : R->low[k]);
        h *= 2, w *= 2;
    }
    for (size_t i = 0; i < n; i++)
        R->r[i] -= R->y[j][i];
    return WP_OK;
}

/* Work of one evaluation of D_j. */
static double residual_work(const wp_prior *p, int J, int Hp, int Wp, int j)
{
    if (p->flat)
        return wp_net_work(&p->flatnet, Hp, Wp);
    double w = wp_net_work(&p->low, Hp >> J, Wp >> J);
    for (int k = j; k < J; k++)
        w += wp_net_work(&p->cond[k], Hp >> (k + 1), Wp >> (k + 1));
    return w;
}

/* sigma_t over the unknown part: sqrt(sum (1-w) r^2 / sum (1-w)). */
static double unknown_sigma(const region *R, int j)
{
    size_t hw = level_floats(1, R->Hp, R->Wp, j);
    double s = 0, sw = 0;
    for (int c = 0; c < R->C; c++)
        for (size_t i = 0; i < hw; i++) {
            double u = 1.0 - R->wt[j][i], r = R->r[c * hw + i];
            s += u * r * r;
            sw += u;
        }
    return sw > 0 ? sqrt(s / sw) : 0.0;
}

/* y += (1 - w) (a r + z) (z may be NULL), then the data's pull. */
static void step(region *R, int j, float a, const float *z)
{
    size_t hw = level_floats(1, R->Hp, R->Wp, j);
    for (int c = 0; c < R->C; c++)
        for (size_t i = 0; i < hw; i++) {
            size_t o = c * hw + i;
            R->y[j][o] += (1.0f - R->wt[j][i]) * (a * R->r[o] + (z ? z[o] : 0.0f));
        }
    pull_to_data(R, j);
}

/* The ascent at level j from the state in y[j]. */
static wp_status ascend(region *R, int j, wp_rng *rng, char *err)
{
    const wp_sampler_params *sp = &R->sp;
    size_t n = level_floats(R->C, R->Hp, R->Wp, j);
    double unit = residual_work(R->p, R->J, R->Hp, R->Wp, j), sigma = 0, first = 0;
    double hist[WP_STALL_WINDOW];
    wp_rng_fill_gauss(rng, R->z, n, sp->sigma0);
    step(R, j, 0.0f, R->z);
    int t, current = 0;
    for (t = 1; t <= sp->max_iter; t++) {
        wp_status st = residual(R, j, err);
        if (st)
            return st;
        sigma = unknown_sigma(R, j);
        if (!isfinite(sigma))
            return wp_fail(err, WP_ERR_NUMERIC, "the network output is not finite");
        current = 1;
        if (t == 1)
            first = sigma;
        if (sigma <= sp->sigma_l)
            break;
        if (sigma > 10.0 * first + 1e-3)
            return wp_fail(err, WP_ERR_NUMERIC,
                           "the inpainting diverged at iteration %d (sigma %.3g from %.3g)", t,
                           sigma, first);
        if (wp_ascent_stalled(sp, hist, t, sigma))
            break;
        double h, gamma;
        wp_ascent_schedule(sp, t, sigma, &h, &gamma);
        if (gamma > 0)
            wp_rng_fill_gauss(rng, R->z, n, (float)gamma);
        step(R, j, (float)h, gamma > 0 ? R->z : NULL);
        current = 0;
    }
    if (t > sp->max_iter)
        t = sp->max_iter;
    R->iterations += t;
    if (getenv("WPRIOR_TRACE"))
        fprintf(stderr, "inpaint level %d (%dx%d): %d iterations, sigma %.4g\n", j,
                R->Wp >> j, R->Hp >> j, t, sigma);
    wp_job_advance(R->job, unit * (double)(sp->max_iter - t));
    wp_status st = current ? WP_OK : residual(R, j, err);
    if (current)
        wp_job_advance(R->job, unit);
    if (!st)
        step(R, j, 1.0f, NULL);
    return st;
}

/* The fast mode's fill at level j: annealed plug-and-play from the current
 * state (the diffusion fill at the coarsest level, the coarser level's
 * result below).  Step k adds noise of sigma_k (geometric from sigma0 down to
 * sigma_l over max_iter steps) to the whole level, so that the blind
 * denoiser D_j works at that noise level, moves the unknown part to D_j's
 * output (by 1 - w) and pulls the known part back to the data; the level's
 * result is the mean of the last WP_ANNEAL_MEAN outputs, pulled to the
 * data. */
#define WP_ANNEAL_MEAN 4
static wp_status anneal(region *R, int j, wp_rng *rng, char *err)
{
    const wp_sampler_params *sp = &R->sp;
    size_t hw = level_floats(1, R->Hp, R->Wp, j), n = level_floats(R->C, R->Hp, R->Wp, j);
    int K = sp->max_iter, L = K < WP_ANNEAL_MEAN ? K : WP_ANNEAL_MEAN;
    double s0 = sp->sigma0, s1 = sp->sigma_l;
    double unit = residual_work(R->p, R->J, R->Hp, R->Wp, j);
    memset(R->acc, 0, sizeof(float) * n);
    for (int k = 0; k < K; k++) {
        double sig = K > 1 ? s0 * pow(s1 / s0, (double)k / (K - 1)) : s1;
        wp_rng_fill_gauss(rng, R->z, n, (float)sig);
        for (size_t i = 0; i < n; i++)
            R->y[j][i] += R->z[i];
        wp_status st = residual(R, j, err);
        if (st)
            return st;
        wp_job_advance(R->job, unit);
        for (int c = 0; c < R->C; c++)
            for (size_t i = 0; i < hw; i++) {
                size_t o = c * hw + i;
                float prev = R->y[j][o] - R->z[o], d = R->y[j][o] + R->r[o];
                R->y[j][o] = prev + (1.0f - R->wt[j][i]) * (d - prev);
                if (k >= K - L)
                    R->acc[o] += d;
            }
        pull_to_data(R, j);
    }
    for (size_t i = 0; i < n; i++)
        R->y[j][i] = R->acc[i] / (float)L;
    pull_to_data(R, j);
    R->iterations += K;
    return WP_OK;
}

/* Jacobi sweeps that smooth level j's start (the coarser result,
 * replicated) where unknown: to convergence (the anneal, whose small
 * probes move a start only a little, then fills a 64x64 hole 0.3 dB
 * closer than from a start of 32 sweeps; without a prior, finest > J, every
 * level is below the finest), except at and above a sharp draw's finest
 * level: 8, so that its texture survives. */
static int start_sweeps(const region *R, int j, int finest)
{
    return R->anneal || j < finest || R->sp.beta >= 1 ? 512 : 8;
}

/* Fills the padded region from its data (build_data) into y[0]: the prior
 * at levels J .. finest (the fast mode's anneal or the sharp mode's
 * ascent), the diffusion fill below (finest > J: no prior at all). */
static wp_status region_run(region *R, int finest, uint64_t seed, char *err)
{
    fill_coarsest(R);
    wp_rng root, rng;
    wp_rng_seed(&root, seed);
    for (int j = R->J; j >= 0; j--) {
        if (j < R->J) {
            start_from_coarser(R, j);
            diffuse(R, j, start_sweeps(R, j, finest), 1e-5f);
            if (j == 0 && j < finest && R->anneal) {
                smooth_fill(R, j);
                wp_status st = eed_fill(R, err);
                if (!st && R->p->has_fill)
                    st = fill_correct(R, err);
                if (st)
                    return st;
            }
        }
        if (j < finest)
            continue;
        wp_rng_split(&root, (uint64_t)j + 1, &rng);
        wp_status st = R->anneal ? anneal(R, j, &rng, err) : ascend(R, j, &rng, err);
        if (st)
            return st;
    }
    return WP_OK;
}

/* Appends the filled unknown pixels of region b (its C channels) to next,
 * row by row; returns the end. */
static float *keep_unknown(const region *R, const uint8_t *mask, int W, const box *b, float *next)
{
    for (int q = 0; q < R->C; q++)
        for (int i = 0; i < b->h; i++)
            for (int j = 0; j < b->w; j++)
                if (mask[(size_t)(b->y + i) * W + b->x + j]) {
                    float v = R->y[0][((size_t)q * R->Hp + i) * R->Wp + j];
                    *next++ = v < 0 ? 0 : v > 1 ? 1 : v;
                }
    return next;
}

/* Writes what keep_unknown kept into channels c..c+C-1 of out. */
static const float *put_unknown(float *out, const uint8_t *mask, int H, int W, int c, int C,
                                const box *b, const float *from)
{
    for (int q = 0; q < C; q++)
        for (int i = 0; i < b->h; i++)
            for (int j = 0; j < b->w; j++) {
                size_t o = (size_t)(b->y + i) * W + b->x + j;
                if (mask[o])
                    out[(size_t)(c + q) * H * W + o] = *from++;
            }
    return from;
}

/* ---- the job ---- */

/* The net whose tiles need the most memory: the prior's largest, or the
 * fill net when it runs and needs more. */
static const wp_net *job_net(const wp_prior *p, int fill)
{
    const wp_net *a = wp_prior_largest_net(p);
    return fill ? wp_larger_net(a, &p->fill) : a;
}

static int auto_context(const wp_prior *p)
{
    if (p->flat)
        return (wp_net_receptive_field(&p->flatnet) - 1) / 2;
    return ((wp_net_receptive_field(&p->low) - 1) / 2) << p->levels;
}

void wp_inpaint_extent(const wp_prior *p, const wp_inpaint_options *io, int width, int height,
                       int x, int y, int w, int h, int *rx, int *ry, int *rw, int *rh)
{
    /* The holes' cells, grown as find_regions grows any group of them (by
     * at most half the cells' larger side), then the origin down to the
     * cell grid: a crop to it finds the same regions at the same places. */
    int x0 = x / CELL * CELL, y0 = y / CELL * CELL;
    int x1 = (x + w + CELL - 1) / CELL * CELL, y1 = (y + h + CELL - 1) / CELL * CELL;
    int ctx = io && io->context ? io->context : p ? auto_context(p) : 0;
    int half = (x1 - x0 > y1 - y0 ? x1 - x0 : y1 - y0) / 2;
    box b = {x0, y0, x1 - x0, y1 - y0};
    grow(&b, half > ctx ? half : ctx, height, width);
    *rx = b.x / CELL * CELL;
    *ry = b.y / CELL * CELL;
    *rw = b.x + b.w - *rx;
    *rh = b.y + b.h - *ry;
}

/* Copies region b of in [channels,H,W] channels c..c+C-1, padded by
 * reflection to Hp x Wp, into x, and its known map into known. */
static void gather(const float *in, const uint8_t *mask, int H, int W, int c, int C,
                   const box *b, int Hp, int Wp, float *x, float *known, float *tmp)
{
    for (int k = 0; k < C; k++)
        for (int i = 0; i < b->h; i++)
            memcpy(tmp + ((size_t)k * b->h + i) * b->w,
                   in + ((size_t)(c + k) * H + b->y + i) * W + b->x, sizeof(float) * b->w);
    wp_pad_reflect(tmp, C, b->h, b->w, x, Hp, Wp);
    for (int i = 0; i < b->h; i++)
        for (int j = 0; j < b->w; j++)
            tmp[(size_t)i * b->w + j] = mask[(size_t)(b->y + i) * W + b->x + j] ? 0.0f : 1.0f;
    wp_pad_reflect(tmp, 1, b->h, b->w, known, Hp, Wp);
}

static wp_status check_args(const wp_prior *p, const float *in, const uint8_t *mask,
                            const float *out, int channels, int height, int width,
                            const wp_inpaint_options *io, char *err)
{
    if (!p || !in || !mask || !out || !io)
        return wp_fail(err, WP_ERR_ARG, "wp_inpaint: NULL argument");
    if (io->mode != WP_INPAINT_FAST && io->mode != WP_INPAINT_SHARP && io->mode != WP_INPAINT_DIFFUSE)
        return wp_fail(err, WP_ERR_ARG, "unknown inpainting mode %d", (int)io->mode);
    int C = p->channels;
    if (channels != C && !(C == 1 && channels == 3))
        return wp_fail(err, WP_ERR_ARG, "a %s prior cannot inpaint a %d-channel image",
                       C == 1 ? "gray" : "colour", channels);
    if (height < 1 || width < 1 || height > (1 << 20) || width > (1 << 20) ||
        (size_t)height * width > ((size_t)1 << 34))
        return wp_fail(err, WP_ERR_ARG, "an image of %dx%d cannot be inpainted", width, height);
    if (io->context < 0)
        return wp_fail(err, WP_ERR_ARG, "context %d is negative", io->context);
    size_t n = (size_t)channels * height * width;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(in[i]))
            return wp_fail(err, WP_ERR_ARG, "the image holds NaN or infinite values");
    return WP_OK;
}

wp_status wp_inpaint(const wp_prior *p, const float *in, const uint8_t *mask, float *out, int channels,
                     int height, int width, wp_inpaint_options *io, const wp_run_options *opt,
                     char *err)
{
    wp_status st = check_args(p, in, mask, out, channels, height, width, io, err);
    if (st)
        return st;
    wp_sampler_params d;
    inpaint_defaults(io->mode, &d);
    wp_sampler_meta(p, io->mode == WP_INPAINT_SHARP ? "inpaint.sharp" : "inpaint.fast", &d);
    wp_sampler_params sp = io->sampler;
    wp_sampler_fill(&sp, &d);
    if ((st = wp_sampler_check(&sp, err)))
        return st;
    int C = p->channels, J = p->flat ? 0 : p->levels;
    box *regions = malloc(sizeof(box) * MAX_REGIONS);
    if (!regions)
        return wp_fail(err, WP_ERR_NOMEM, "out of memory");
    int nreg = find_regions(mask, height, width, io->context ? io->context : auto_context(p),
                            regions);
    io->regions = nreg > 0 ? nreg : 0;
    io->iterations = 0;
    io->pixels = 0;
    if (nreg < 0) {
        free(regions);
        return wp_fail(err, WP_ERR_NOMEM, "out of memory");
    }
    /* the largest region sets the buffers */
    int maxH = 1 << J, maxW = 1 << J;
    for (int k = 0; k < nreg; k++) {
        int hp = wp_pad_size(regions[k].h, J), wq = wp_pad_size(regions[k].w, J);
        maxH = hp > maxH ? hp : maxH, maxW = wq > maxW ? wq : maxW;
        io->pixels += (size_t)regions[k].w * regions[k].h;
    }
    size_t plane = (size_t)C * maxH * maxW;
    size_t floats = nreg ? region_floats(C, J, maxH, maxW) + 2 * plane + maxH * maxW : 0;
    int fill = p->has_fill && io->mode == WP_INPAINT_FAST && finest_level(p, io->mode, J) > 0;
    wp_job job;
    if ((st = wp_job_begin(&job, p, opt, sizeof(float) * floats, job_net(p, fill),
                           WP_BORDER_MIRROR, err))) {
        free(regions);
        return st;
    }
    int finest = finest_level(p, io->mode, J);
    for (int k = 0; k < nreg; k++) {
        int hp = wp_pad_size(regions[k].h, J), wq = wp_pad_size(regions[k].w, J);
        for (int j = finest; j <= J; j++)
            job.work_total += residual_work(p, J, hp, wq, j) *
                              (sp.max_iter + (io->mode == WP_INPAINT_SHARP)) * (channels / C);
        if (fill)
            job.work_total += wp_net_work(&p->fill, hp, wq) * (channels / C);
    }
    region R = {0};
    float *x = NULL, *known = NULL, *tmp = NULL, *vals = NULL;
    size_t nmask = 0;
    for (size_t i = 0; i < (size_t)height * width; i++)
        nmask += mask[i] != 0;
    if (nreg && (!(R.buf = wp_alloc(sizeof(float) * floats)) ||
                 !(vals = malloc(sizeof(float) * nmask * channels)))) {
        st = wp_fail(err, WP_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (nreg) {
        x = R.buf + region_floats(C, J, maxH, maxW);
        tmp = x + plane;
        known = tmp + plane;
    }
    float *next = vals;
    for (int k = 0; k < nreg && !st; k++) {
        const box *b = &regions[k];
        R.job = &job, R.p = p, R.sp = sp, R.C = C, R.J = J;
        R.anneal = io->mode == WP_INPAINT_FAST;
        R.Hp = wp_pad_size(b->h, J), R.Wp = wp_pad_size(b->w, J);
        region_layout(&R);
        /* A gray prior on RGB: one channel at a time with the same seed, so
         * that a gray image in RGB stays gray. */
        for (int c = 0; c < channels && !st; c += C) {
            gather(in, mask, height, width, c, C, b, R.Hp, R.Wp, x, known, tmp);
            build_data(&R, x, known);
            st = region_run(&R, finest, R.anneal ? WP_FAST_SEED : io->seed, err);
            if (!st)
                next = keep_unknown(&R, mask, width, b, next);
        }
        io->iterations += R.iterations;
        R.iterations = 0;
    }
    if (!st) {
        /* Only a finished job writes: a cancelled one leaves out as it was. */
        if (out != in)
            memcpy(out, in, sizeof(float) * (size_t)channels * height * width);
        const float *from = vals;
        for (int k = 0; k < nreg; k++)
            for (int c = 0; c < channels; c += C)
                from = put_unknown(out, mask, height, width, c, C, &regions[k], from);
    }
    if (!st && opt && opt->progress)
        opt->progress(1.0, opt->progress_data);
done:
    free(vals);
    free(R.buf);
    free(regions);
    wp_job_end(&job);
    return st;
}
