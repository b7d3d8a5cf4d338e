/* quilt.c: a new image from overlapping patches of an exemplar (Efros &
 * Freeman's image quilting).  Each overlap is either cut along its path of
 * least difference (both sides keep the exemplar's own contrast) or
 * blended (softer: a blend averages the overlaps down).  wp_sample uses it
 * for the layout of a sample that continues an exemplar's texture. */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "wp_sample.h"
#include "wp_util.h"

/* Candidate exemplar positions scored for each patch (all of them when
 * there are fewer); the pick is uniform among those within WP_QUILT_TOL of
 * the best score.  A candidate's score is its overlap error, plus
 * WP_QUILT_FLOOR times the error an unrelated patch would have, times
 * 1 + WP_QUILT_USE x (how much its exemplar pixels were used / the mean
 * use): without that factor the quilt drifts to the exemplar's plainest
 * regions, which match any overlap best (with it paper keeps its fibres,
 * stone and wood their dark cracks and knots); the floor lets use count
 * where many candidates match exactly (a flat region). */
#define WP_QUILT_CANDIDATES 2048
#define WP_QUILT_TOL 0.3
#define WP_QUILT_USE 3.0
#define WP_QUILT_FLOOR 0.05

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
    float *out;
    float *wsum; /* [h,w]: the weight placed so far (0: nothing yet) */
    int h, w, periodic, P, O;
    wp_quilt_seam seam;
    float *tent; /* [P]: a blend's weights, rising over the overlap */
    /* one patch's scratch, [P,P]: its squared difference to what lies
     * under it (0 where nothing does), its weight against that */
    float *diff, *wnew;
    double *cost; /* [P,O]: a cut's cumulative cost */
    int *path;    /* [P] */
    int *oy, *ox; /* [P]: the output row/column of each patch row/column
                   * at the current corner (-1 off the image) */
    int prune;    /* drop a candidate once it cannot be picked, and score
                   * with patch_score (else patch_diff, its oracle) */
    /* the placed pixels under the current corner (gather): whether each
     * patch pixel has one [P,P], their values [C,P,P], and per patch row
     * the columns [from, to) that hold any */
    unsigned char *on;
    float *under;
    int *from, *to;
    float *use;   /* [eh,ew]: how often each exemplar pixel was placed */
    double *cum;  /* [eh,ew+1]: use summed along each row */
    double used;  /* exemplar pixels placed so far */
    double var;   /* the exemplar's variance, summed over channels */
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

/* The output rows and columns under a patch at (y, x), for every
 * candidate scored and placed there. */
static void lay(quilt *q, int y, int x)
{
    for (int u = 0; u < q->P; u++) {
        q->oy[u] = wrap(y, u, q->h, q->periodic);
        q->ox[u] = wrap(x, u, q->w, q->periodic);
    }
}

/* The exemplar patch at (ey, ex0) laid at the current corner: its squared
 * difference to the placed pixels under it, per pixel into diff unless
 * NULL; returns the sum, or as soon as a row ends past stop (the partial
 * sum then: it only grows). */
static double patch_diff(const quilt *q, int ey, int ex0, double stop, float *diff)
{
    double e = 0;
    size_t hw = (size_t)q->h * q->w, ehw = (size_t)q->eh * q->ew;
    for (int i = 0; i < q->P; i++) {
        int oy = q->oy[i];
        const float *ws = oy < 0 ? NULL : q->wsum + (size_t)oy * q->w;
        for (int j = 0; j < q->P; j++) {
            int ox = q->ox[j];
            double d2 = 0;
            if (ws && ox >= 0 && ws[ox] > 0) {
                size_t o = (size_t)oy * q->w + ox, s = (size_t)(ey + i) * q->ew + ex0 + j;
                for (int c = 0; c < q->C; c++) {
                    double d = q->out[c * hw + o] - q->ex[c * ehw + s];
                    d2 += d * d;
                }
            }
            if (diff)
                diff[i * q->P + j] = (float)d2;
            e += d2;
        }
        if (e > stop)
            return e;
    }
    return e;
}

/* Gathers what lies under the patch at the current corner (after lay),
 * for patch_score; returns how many placed pixels lie under it. */
static int gather(quilt *q)
{
    int P = q->P, under = 0;
    size_t hw = (size_t)q->h * q->w;
    for (int i = 0; i < P; i++) {
        int oy = q->oy[i];
        const float *ws = oy < 0 ? NULL : q->wsum + (size_t)oy * q->w;
        q->from[i] = P, q->to[i] = 0;
        for (int j = 0; j < P; j++) {
            int ox = q->ox[j], on = ws && ox >= 0 && ws[ox] > 0;
            q->on[i * P + j] = (unsigned char)on;
            if (!on)
                continue;
            under++;
            q->from[i] = q->from[i] < j ? q->from[i] : j;
            q->to[i] = j + 1;
            for (int c = 0; c < q->C; c++)
                q->under[(c * P + i) * P + j] = q->out[c * hw + (size_t)oy * q->w + ox];
        }
    }
    return under;
}

/* patch_diff's sum, from what gather collected: only the columns that
 * hold placed pixels are visited, in the same order and precision, so the
 * sum is the same to the bit. */
static double patch_score(const quilt *q, int ey, int ex0, double stop)
{
    double e = 0;
    int P = q->P;
    size_t ehw = (size_t)q->eh * q->ew, PP = (size_t)P * P;
    for (int i = 0; i < P; i++) {
        const float *ex = q->ex + (size_t)(ey + i) * q->ew + ex0;
        const float *un = q->under + (size_t)i * P;
        const unsigned char *on = q->on + (size_t)i * P;
        for (int j = q->from[i]; j < q->to[i]; j++) {
            if (!on[j])
                continue;
            double d2 = 0;
            for (int c = 0; c < q->C; c++) {
                double d = un[c * PP + j] - ex[c * ehw + j];
                d2 += d * d;
            }
            e += d2;
        }
        if (e > stop)
            return e;
    }
    return e;
}

/* Patch pixel (row, column) of the strip along one side: t along it, u
 * across it from the patch's edge inward (side 0 left, 1 right, 2 top,
 * 3 bottom). */
static int strip_at(int side, int P, int t, int u)
{
    int i = side < 2 ? t : side == 2 ? u : P - 1 - u;
    int j = side == 0 ? u : side == 1 ? P - 1 - u : t;
    return i * P + j;
}

/* Cuts the overlap along one side where something lies under it: the path
 * of least difference across the strip (one step sideways at most per
 * pixel along it); outside the path the placed pixels stay, on it the two
 * are averaged. */
static void cut_side(quilt *q, int side)
{
    int P = q->P, O = q->O, any = 0;
    for (int t = 0; t < P && !any; t++)
        for (int u = 0; u < O; u++)
            any |= q->diff[strip_at(side, P, t, u)] > 0;
    if (!any)
        return;
    for (int t = 0; t < P; t++)
        for (int u = 0; u < O; u++) {
            double best = 0;
            if (t > 0) {
                best = q->cost[(t - 1) * O + u];
                if (u > 0 && q->cost[(t - 1) * O + u - 1] < best)
                    best = q->cost[(t - 1) * O + u - 1];
                if (u + 1 < O && q->cost[(t - 1) * O + u + 1] < best)
                    best = q->cost[(t - 1) * O + u + 1];
            }
            q->cost[t * O + u] = best + q->diff[strip_at(side, P, t, u)];
        }
    int u = 0;
    for (int k = 1; k < O; k++)
        if (q->cost[(P - 1) * O + k] < q->cost[(P - 1) * O + u])
            u = k;
    for (int t = P - 1; t >= 0; t--) {
        q->path[t] = u;
        if (t > 0) {
            int b = u;
            for (int k = u - 1; k <= u + 1; k++)
                if (k >= 0 && k < O && q->cost[(t - 1) * O + k] < q->cost[(t - 1) * O + b])
                    b = k;
            u = b;
        }
    }
    for (int t = 0; t < P; t++)
        for (int k = 0; k <= q->path[t]; k++)
            q->wnew[strip_at(side, P, t, k)] *= k < q->path[t] ? 0.0f : 0.5f;
}

/* Places the exemplar patch at (ey, ex0) at the current corner: cut into what is
 * there (q->diff holds its difference, patch_diff), or blended with it (a
 * running tent-weighted mean). */
static void place(quilt *q, int ey, int ex0)
{
    int P = q->P;
    for (int i = 0; i < P; i++)
        for (int j = 0; j < P; j++)
            q->wnew[i * P + j] = q->seam == WP_QUILT_CUT ? 1.0f : q->tent[i] * q->tent[j];
    if (q->seam == WP_QUILT_CUT)
        for (int side = 0; side < 4; side++)
            cut_side(q, side);
    size_t hw = (size_t)q->h * q->w, ehw = (size_t)q->eh * q->ew;
    for (int i = 0; i < P; i++)
        for (int j = 0; j < P; j++) {
            int oy = q->oy[i], ox = q->ox[j];
            if (oy < 0 || ox < 0)
                continue;
            size_t o = (size_t)oy * q->w + ox, s = (size_t)(ey + i) * q->ew + ex0 + j;
            float t = q->wnew[i * P + j], ws = q->wsum[o];
            float a = ws <= 0 ? 1.0f : q->seam == WP_QUILT_CUT ? t : t / (ws + t);
            for (int c = 0; c < q->C; c++)
                q->out[c * hw + o] += a * (q->ex[c * ehw + s] - q->out[c * hw + o]);
            q->wsum[o] = q->seam == WP_QUILT_CUT ? 1.0f : ws + t;
        }
}

/* The summed use of the exemplar patch at (ey, ex0). */
static double patch_use(const quilt *q, int ey, int ex0)
{
    double u = 0;
    for (int i = 0; i < q->P; i++) {
        const double *c = q->cum + (size_t)(ey + i) * (q->ew + 1);
        u += c[ex0 + q->P] - c[ex0];
    }
    return u;
}

/* Counts the placed patch's pixels (those it kept) and sums its rows
 * again (P rows: cheap beside the scoring, whatever the exemplar's size). */
static void add_use(quilt *q, int ey, int ex0)
{
    for (int i = 0; i < q->P; i++) {
        for (int j = 0; j < q->P; j++)
            if (q->oy[i] >= 0 && q->ox[j] >= 0 && q->wnew[i * q->P + j] > 0)
                q->use[(size_t)(ey + i) * q->ew + ex0 + j] += 1, q->used += 1;
        const float *u = q->use + (size_t)(ey + i) * q->ew;
        double *c = q->cum + (size_t)(ey + i) * (q->ew + 1);
        for (int j = 0; j < q->ew; j++)
            c[j + 1] = c[j] + u[j];
    }
}

/* The factor on a candidate's score for its pixels' use (WP_QUILT_USE). */
static double use_factor(const quilt *q, int ey, int ex0)
{
    if (q->used <= 0)
        return 1;
    double mean = q->used * q->P * q->P / ((double)q->eh * q->ew);
    return 1 + WP_QUILT_USE * patch_use(q, ey, ex0) / mean;
}

static double exemplar_variance(const float *ex, int C, int eh, int ew)
{
    double v = 0;
    size_t n = (size_t)eh * ew;
    for (int c = 0; c < C; c++) {
        double m = 0, m2 = 0;
        for (size_t i = 0; i < n; i++)
            m += ex[c * n + i], m2 += (double)ex[c * n + i] * ex[c * n + i];
        v += m2 / n - (m / n) * (m / n);
    }
    return v;
}

/* One patch at (y, x): scores the candidates, places a good one.  A
 * candidate is dropped once its error passes the current limit: the limit
 * only falls, so it could not have been picked. */
static void quilt_one(quilt *q, int y, int x, wp_rng *rng, double *err, int *pos)
{
    int ny = q->eh - q->P + 1, nx = q->ew - q->P + 1;
    int all = ny * nx, n = all < WP_QUILT_CANDIDATES ? all : WP_QUILT_CANDIDATES;
    double best = DBL_MAX, limit = DBL_MAX;
    lay(q, y, x);
    /* the floor: a share of an unrelated patch's error, twice the variance
     * for each placed pixel under the patch */
    double e0 = WP_QUILT_FLOOR * 2 * q->var * gather(q);
    for (int k = 0; k < n; k++) {
        pos[k] = n == all ? k : (int)wp_rng_below(rng, (uint32_t)all);
        int ey = pos[k] / nx, ex0 = pos[k] % nx;
        double f = use_factor(q, ey, ex0);
        err[k] = f * (e0 + (q->prune ? patch_score(q, ey, ex0, limit / f - e0)
                                      : patch_diff(q, ey, ex0, DBL_MAX, NULL)));
        if (err[k] < best) {
            best = err[k];
            limit = best * (1 + WP_QUILT_TOL) + 1e-9;
        }
    }
    int good = 0;
    for (int k = 0; k < n; k++)
        if (err[k] <= limit)
            pos[good++] = pos[k];
    int pick = pos[wp_rng_below(rng, (uint32_t)good)];
    patch_diff(q, pick / nx, pick % nx, DBL_MAX, q->diff);
    place(q, pick / nx, pick % nx);
    add_use(q, pick / nx, pick % nx);
}

static wp_status quilt_run(const float *ex, int C, int eh, int ew, float *out, int h, int w,
                           int periodic, wp_quilt_seam seam, int prune, wp_rng *rng, char *err)
{
    quilt q = {.ex = ex, .C = C, .eh = eh, .ew = ew, .out = out, .h = h, .w = w,
               .periodic = periodic, .seam = seam, .prune = prune};
    wp_quilt_patch(eh, ew, h, w, &q.P, &q.O);
    if (q.P < 2)
        return wp_fail(err, WP_ERR_ARG, "the exemplar (%dx%d) is too small to take patches from",
                       ew, eh);
    size_t hw = (size_t)h * w, pp = (size_t)q.P * q.P;
    int n = WP_QUILT_CANDIDATES;
    q.wsum = calloc(hw, sizeof(float));
    q.tent = malloc(sizeof(float) * q.P);
    q.diff = malloc(sizeof(float) * pp);
    q.wnew = malloc(sizeof(float) * pp);
    q.cost = malloc(sizeof(double) * q.P * q.O);
    q.path = malloc(sizeof(int) * q.P);
    q.oy = malloc(sizeof(int) * q.P);
    q.ox = malloc(sizeof(int) * q.P);
    double *errs = malloc(sizeof(double) * n);
    q.use = calloc((size_t)eh * ew, sizeof(float));
    q.cum = calloc((size_t)eh * (ew + 1), sizeof(double));
    q.on = malloc(pp);
    q.under = malloc(sizeof(float) * C * pp);
    q.from = malloc(sizeof(int) * q.P);
    q.to = malloc(sizeof(int) * q.P);
    q.var = exemplar_variance(ex, C, eh, ew);
    int *pos = malloc(sizeof(int) * n);
    wp_status st = WP_OK;
    if (!q.wsum || !q.tent || !q.diff || !q.wnew || !q.cost || !q.path || !q.oy || !q.ox || !errs || !pos ||
        !q.use || !q.cum || !q.on || !q.under || !q.from || !q.to) {
        st = wp_fail(err, WP_ERR_NOMEM, "out of memory");
        goto done;
    }
    memset(out, 0, sizeof(float) * C * hw);
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
done:
    free(q.wsum), free(q.tent), free(q.diff), free(q.wnew), free(q.cost), free(q.path), free(q.oy), free(q.ox);
    free(errs), free(pos), free(q.use), free(q.cum);
    free(q.on), free(q.under), free(q.from), free(q.to);
    return st;
}

wp_status wp_quilt(const float *ex, int C, int eh, int ew, float *out, int h, int w, int periodic,
                   wp_quilt_seam seam, wp_rng *rng, char *err)
{
    return quilt_run(ex, C, eh, ew, out, h, w, periodic, seam, 1, rng, err);
}

wp_status wp_quilt_exhaustive(const float *ex, int C, int eh, int ew, float *out, int h, int w,
                              int periodic, wp_quilt_seam seam, wp_rng *rng, char *err)
{
    return quilt_run(ex, C, eh, ew, out, h, w, periodic, seam, 0, rng, err);
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
