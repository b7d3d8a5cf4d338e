/* quilt.c: a new image from overlapping patches of an exemplar (Efros &
 * Freeman's image quilting, with the overlaps blended instead of cut).
 * wp_sample uses it for the coarse layout of a sample that continues an
 * exemplar's texture: at half resolution the blend's softening is what the
 * prior's details then redraw. */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "wp_sample.h"
#include "wp_util.h"

/* Candidate exemplar positions scored for each patch (all of them when
 * there are fewer); the pick is uniform among those within WP_QUILT_TOL of
 * the best overlap error. */
#define WP_QUILT_CANDIDATES 2048
#define WP_QUILT_TOL 0.3

void wp_quilt_patch(int eh, int ew, int h, int w, int *patch, int *overlap)
{
    int m = eh < ew ? eh : ew, P = m / 4;
    P = P > WP_QUILT_PATCH_MAX ? WP_QUILT_PATCH_MAX : P < 4 ? (m < 4 ? m : 4) : P;
    if (P > h)
        P = h;
    if (P > w)
        P = w;
    int O = P / 3;
    *patch = P;
    *overlap = O < 1 ? 1 : O;
    if (*overlap >= P)
        *overlap = P - 1 > 0 ? P - 1 : 0;
}

typedef struct {
    const float *ex;
    int C, eh, ew;
    float *acc, *wsum; /* [C,h,w], [h,w] */
    int h, w, periodic, P, O;
    float *tent;       /* [P] */
} quilt;

/* The output pixel of patch row/column u from corner a, or -1 off the
 * image (plain borders). */
static int wrap(int a, int u, int n, int periodic)
{
    int v = a + u;
    if (v < n)
        return v;
    return periodic ? v % n : -1;
}

/* One pass over the exemplar patch at (ey, ex0) laid at (y, x): with add,
 * places it (tent-weighted); without, returns its squared difference to
 * what is already placed under it. */
static double patch_pass(quilt *q, int y, int x, int ey, int ex0, int add)
{
    double e = 0;
    size_t hw = (size_t)q->h * q->w, ehw = (size_t)q->eh * q->ew;
    for (int i = 0; i < q->P; i++) {
        int oy = wrap(y, i, q->h, q->periodic);
        if (oy < 0)
            break;
        for (int j = 0; j < q->P; j++) {
            int ox = wrap(x, j, q->w, q->periodic);
            if (ox < 0)
                break;
            size_t o = (size_t)oy * q->w + ox, s = (size_t)(ey + i) * q->ew + ex0 + j;
            float ws = q->wsum[o], t = q->tent[i] * q->tent[j];
            if (add)
                q->wsum[o] += t;
            else if (ws <= 0)
                continue;
            for (int c = 0; c < q->C; c++) {
                if (add) {
                    q->acc[c * hw + o] += t * q->ex[c * ehw + s];
                } else {
                    double d = q->acc[c * hw + o] / ws - q->ex[c * ehw + s];
                    e += d * d;
                }
            }
        }
    }
    return e;
}

/* One patch at (y, x): scores the candidates, places a good one. */
static void quilt_one(quilt *q, int y, int x, wp_rng *rng, double *err, int *pos)
{
    int ny = q->eh - q->P + 1, nx = q->ew - q->P + 1;
    int all = ny * nx, n = all < WP_QUILT_CANDIDATES ? all : WP_QUILT_CANDIDATES;
    double best = DBL_MAX;
    for (int k = 0; k < n; k++) {
        pos[k] = n == all ? k : (int)wp_rng_below(rng, (uint32_t)all);
        err[k] = patch_pass(q, y, x, pos[k] / nx, pos[k] % nx, 0);
        if (err[k] < best)
            best = err[k];
    }
    double limit = best * (1 + WP_QUILT_TOL) + 1e-9;
    int good = 0;
    for (int k = 0; k < n; k++)
        if (err[k] <= limit)
            pos[good++] = pos[k];
    int pick = pos[wp_rng_below(rng, (uint32_t)good)];
    patch_pass(q, y, x, pick / nx, pick % nx, 1);
}

wp_status wp_quilt(const float *ex, int C, int eh, int ew, float *out, int h, int w, int periodic,
                   wp_rng *rng, char *err)
{
    quilt q = {ex, C, eh, ew, NULL, NULL, h, w, periodic, 0, 0, NULL};
    wp_quilt_patch(eh, ew, h, w, &q.P, &q.O);
    if (q.P < 2)
        return wp_fail(err, WP_ERR_ARG, "the exemplar (%dx%d) is too small to take patches from",
                       ew, eh);
    size_t hw = (size_t)h * w;
    int n = WP_QUILT_CANDIDATES;
    q.acc = out;
    q.wsum = malloc(sizeof(float) * hw);
    q.tent = malloc(sizeof(float) * q.P);
    double *errs = malloc(sizeof(double) * n);
    int *pos = malloc(sizeof(int) * n);
    if (!q.wsum || !q.tent || !errs || !pos) {
        free(q.wsum), free(q.tent), free(errs), free(pos);
        return wp_fail(err, WP_ERR_NOMEM, "out of memory");
    }
    memset(out, 0, sizeof(float) * C * hw);
    memset(q.wsum, 0, sizeof(float) * hw);
    /* a tent that rises over the overlap, so that neighbours blend */
    for (int i = 0; i < q.P; i++) {
        int d = i < q.P - 1 - i ? i : q.P - 1 - i;
        q.tent[i] = d >= q.O ? 1.0f : (d + 1.0f) / (q.O + 1.0f);
    }
    int S = q.P - q.O;
    /* periodic: corners every S pixels around the torus; plain: until the
     * last patch reaches the border */
    int ny = periodic ? (h + S - 1) / S : (h - q.O + S - 1) / S;
    int nx = periodic ? (w + S - 1) / S : (w - q.O + S - 1) / S;
    for (int i = 0; i < ny; i++)
        for (int j = 0; j < nx; j++)
            quilt_one(&q, i * S, j * S, rng, errs, pos);
    for (size_t o = 0; o < hw; o++)
        for (int c = 0; c < C; c++)
            out[c * hw + o] /= q.wsum[o];
    free(q.wsum), free(q.tent), free(errs), free(pos);
    return WP_OK;
}

void wp_block_means(const float *in, int C, int h, int w, int f, float *out)
{
    int oh = h / f, ow = w / f;
    for (int c = 0; c < C; c++)
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++) {
                double s = 0;
                for (int a = 0; a < f; a++)
                    for (int b = 0; b < f; b++)
                        s += in[((size_t)c * h + i * f + a) * w + j * f + b];
                out[((size_t)c * oh + i) * ow + j] = (float)(s / (f * f));
            }
}
