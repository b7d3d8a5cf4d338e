/* conv_wino4.c: 3x3 convolution (stride 1, zero "same" padding) by
 * Winograd F(4x4,3x3), interpolation points 0, 1, -1, 2, -2 and infinity:
 * each 4x4 output tile comes from a 6x6 input patch d as
 * Y = A^T [(G g G^T) . (B^T d B)] A: 36 element-wise products per 16
 * outputs (F(2x2): 16 per 4, so 1.78x fewer), and 2.25 transformed floats
 * per output instead of 4.
 *   B^T = [4  0 -5  0 1 0;  0 -4 -4  1 1 0;  0  4 -4 -1 1 0;
 *          0 -2 -1  2 1 0;  0  2 -1 -2 1 0;  0  4  0 -5 0 1]
 *   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6;
 *          1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
 *   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
 * Larger transform coefficients round more than F(2x2)'s (see the test).
 * A chunk is a block of tiles (whole tile rows, or a run of columns of
 * one tile row of a wide image) whose transformed input and products stay
 * in L2; chunks go to the threads, each chunk computed the same way on
 * any thread count. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#define VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VECTOR_CLONES
#endif

#include "wp_conv.h"

#include <string.h>

#include "wp_parallel.h"

#define TILES4 96 /* tiles per chunk: V and M of 64 channels 0.9 MiB each (best of 32..192) */

static int tiles_h(int H) { return (H + 3) / 4; }
static int tiles_w(int W) { return (W + 3) / 4; }

/* A chunk: `rows` tile rows of `cols` tiles (cols < tiles_w only for
 * images wider than a chunk, then rows = 1). */
static void chunk_shape(int W, int *rows, int *cols)
{
    int tw = tiles_w(W);
    *cols = tw < TILES4 ? tw : TILES4;
    *rows = TILES4 / *cols;
}

/* The input transform's row buffers (the 4 rows + 2 input rows of `rows`
 * tile rows and 6 after B^T, each as 4 phases of cols + 1), and 32 */
static size_t in_floats(int rows, int cols)
{
    return (4 * (size_t)rows + 8) * 4 * ((size_t)cols + 1) + 32;
}

/* The larger of those and the output transform's (A^T's 24 and 16 arrays
 * of the chunk's tiles) */
static size_t buffer_floats(int rows, int cols)
{
    size_t in = in_floats(rows, cols), out = 40 * (size_t)rows * cols;
    return in > out ? in : out;
}

size_t wp_wino4_chunk_floats(int Cin, int Cout, int W)
{
    int rows, cols;
    chunk_shape(W, &rows, &cols);
    size_t tiles = (size_t)rows * cols;
    /* V [36][Cin][tiles], M [36][Cout][tiles], buffers, the 1x1 kernel's
     * packed block */
    return 36 * (size_t)(Cin + Cout) * tiles + buffer_floats(rows, cols) +
           wp_k1x1_pack_floats(Cin > Cout ? Cin : Cout);
}

size_t wp_wino4_weight_floats(int Cin, int Cout) { return 36 * (size_t)Cin * Cout; }

/* G times (g0, g1, g2) */
static void g6(float *u, float g0, float g1, float g2)
{
    u[0] = 0.25f * g0;
    u[1] = -(g0 + g1 + g2) / 6.0f;
    u[2] = -(g0 - g1 + g2) / 6.0f;
    u[3] = g0 / 24.0f + g1 / 12.0f + g2 / 6.0f;
    u[4] = g0 / 24.0f - g1 / 12.0f + g2 / 6.0f;
    u[5] = g2;
}

/* U[xi][o][i] = (G g G^T)[xi] * scale[o], as wp_wino_weights */
void wp_wino4_weights(float *U, const float *w, int Cin, int Cout, const float *scale,
                      int adjoint)
{
    wp_wino_weights_by(U, w, Cin, Cout, scale, adjoint, 6, g6);
}

typedef struct {
    float *y;
    const float *x, *U, *dy; /* dy: the weight gradient's output gradient */
    const float *xs; /* x enters as relu(xs[c] x) where set (see wp_conv.h) */
    int Cin, Cout, H, W, relu, rows, cols, nc; /* nc: chunks across a tile row */
    float *scratch;
    size_t per_thread;
} wino4_ctx;

static inline float scale_relu1(float x, float A)
{
    float y = x * A;
    return y > 0.0f ? y : 0.0f;
}

/* The four phases of a run of the padded row: Q_q[j] = x[4j + q]
 * (q = 0..3, j < n), so that every later step reads contiguous memory. */
VECTOR_CLONES static void deinterleave4(float *restrict q0, float *restrict q1,
                                        float *restrict q2, float *restrict q3,
                                        const float *restrict x, int n)
{
    for (int j = 0; j < n; j++) {
        q0[j] = x[4 * j];
        q1[j] = x[4 * j + 1];
        q2[j] = x[4 * j + 2];
        q3[j] = x[4 * j + 3];
    }
}

/* the same of relu(A x): a BN + ReLU layer's output formed as it is read */
VECTOR_CLONES static void deinterleave4_relu(float *restrict q0, float *restrict q1,
                                             float *restrict q2, float *restrict q3,
                                             const float *restrict x, int n, float A)
{
    for (int j = 0; j < n; j++) {
        q0[j] = scale_relu1(x[4 * j], A);
        q1[j] = scale_relu1(x[4 * j + 1], A);
        q2[j] = scale_relu1(x[4 * j + 2], A);
        q3[j] = scale_relu1(x[4 * j + 3], A);
    }
}

/* Column j of load_row4's phases from row x, zero outside the image (the
 * edges, one by one) */
static inline void load_col4(const float *x, int W, int base, int j, int n, float *Q,
                             const float *s)
{
    for (int q = 0; q < 4; q++) {
        int col = base + 4 * j + q;
        float v = col >= 0 && col < W ? x[col] : 0.0f;
        Q[(size_t)q * n + j] = s ? scale_relu1(v, *s) : v;
    }
}

/* Row src of a channel, input columns base + 4j + q (j < n), zero outside
 * the image, as four phase arrays Q + q n; s: NULL or the channel's
 * scale (relu(*s x)). */
static void load_row4(const float *xc, int H, int W, int src, int base, int n, float *Q,
                      const float *s)
{
    if (src < 0 || src >= H) {
        memset(Q, 0, sizeof(float) * 4 * (size_t)n);
        return;
    }
    const float *x = xc + (size_t)src * W;
    /* j in [lo, hi): all four columns inside */
    int lo = base < 0 ? 1 : 0, hi = (W - base) / 4;
    hi = hi < n ? hi : n;
    if (hi > lo) {
        const float *xb = x + base + 4 * lo;
        if (s)
            deinterleave4_relu(Q + lo, Q + n + lo, Q + 2 * n + lo, Q + 3 * n + lo, xb, hi - lo, *s);
        else
            deinterleave4(Q + lo, Q + n + lo, Q + 2 * n + lo, Q + 3 * n + lo, xb, hi - lo);
    } else
        hi = lo;
    for (int j = 0; j < lo; j++)
        load_col4(x, W, base, j, n, Q, s);
    for (int j = hi; j < n; j++)
        load_col4(x, W, base, j, n, Q, s);
}

/* B^T of six values (d0..d5) into r0..r5 */
static inline void bt6(float *r0, float *r1, float *r2, float *r3, float *r4, float *r5, float d0,
                       float d1, float d2, float d3, float d4, float d5)
{
    float a = d4 - 4.0f * d2, b = d3 - 4.0f * d1, c = d4 - d2, e = 2.0f * (d3 - d1);
    *r0 = 4.0f * d0 - 5.0f * d2 + d4;
    *r1 = a + b;
    *r2 = a - b;
    *r3 = c + e;
    *r4 = c - e;
    *r5 = 4.0f * d1 - 5.0f * d3 + d5;
}

/* B^T down six rows, elementwise over m values (one restrict pointer per
 * row: GCC 12 vectorises no loop that indexes rows from one base) */
VECTOR_CLONES static void rows_bt6(float *restrict r0, float *restrict r1, float *restrict r2,
                                   float *restrict r3, float *restrict r4, float *restrict r5,
                                   const float *restrict p0, const float *restrict p1,
                                   const float *restrict p2, const float *restrict p3,
                                   const float *restrict p4, const float *restrict p5, size_t m)
{
    for (size_t k = 0; k < m; k++)
        bt6(r0 + k, r1 + k, r2 + k, r3 + k, r4 + k, r5 + k, p0[k], p1[k], p2[k], p3[k], p4[k],
            p5[k]);
}

/* B^T along the row: patch columns (Q0[j], Q1[j], Q2[j], Q3[j], Q0[j+1],
 * Q1[j+1]) of the tiles j < t, into v[b] + j */
VECTOR_CLONES static void cols_bt6(float *restrict v0, float *restrict v1, float *restrict v2,
                                   float *restrict v3, float *restrict v4, float *restrict v5,
                                   const float *Q, int n, int t)
{
    const float *q0 = Q, *q1 = Q + n, *q2 = Q + 2 * n, *q3 = Q + 3 * n;
    for (int j = 0; j < t; j++)
        bt6(v0 + j, v1 + j, v2 + j, v3 + j, v4 + j, v5 + j, q0[j], q1[j], q2[j], q3[j], q0[j + 1],
            q1[j + 1]);
}

/* V[xi][ch][p] for tile rows [t0, t1), tile columns [c0, c0 + t) */
static void input_transform(const wino4_ctx *c, int t0, int t1, int c0, int t, float *V,
                            float *rows)
{
    int n = t + 1, T = (t1 - t0) * t, nin = 4 * (t1 - t0) + 2;
    size_t row = 4 * (size_t)n; /* one row's four phases */
    float *r = rows, *din = rows + 6 * row;
    for (int ch = 0; ch < c->Cin; ch++) {
        const float *xc = c->x + (size_t)ch * c->H * c->W, *s = c->xs ? c->xs + ch : NULL;
        /* each input row once (tile rows overlap by two) */
        for (int k = 0; k < nin; k++)
            load_row4(xc, c->H, c->W, 4 * t0 - 1 + k, 4 * c0 - 1, n, din + k * row, s);
        for (int ti = t0; ti < t1; ti++) {
            const float *d = din + (size_t)4 * (ti - t0) * row;
            rows_bt6(r, r + row, r + 2 * row, r + 3 * row, r + 4 * row, r + 5 * row, d,
                     d + row, d + 2 * row, d + 3 * row, d + 4 * row, d + 5 * row, row);
            size_t p0 = (size_t)(ti - t0) * t;
            for (int a = 0; a < 6; a++) {
                float *v[6];
                for (int b = 0; b < 6; b++)
                    v[b] = V + ((size_t)(a * 6 + b) * c->Cin + ch) * T + p0;
                cols_bt6(v[0], v[1], v[2], v[3], v[4], v[5], r + a * row, n, t);
            }
        }
    }
}

/* A^T down six arrays into four, elementwise over t values, then ReLU
 * where relu */
VECTOR_CLONES static void at6(float *restrict y0, float *restrict y1, float *restrict y2,
                              float *restrict y3, const float *restrict m0,
                              const float *restrict m1, const float *restrict m2,
                              const float *restrict m3, const float *restrict m4,
                              const float *restrict m5, int t, int relu)
{
    for (int j = 0; j < t; j++) {
        float a = m1[j] + m2[j], b = m1[j] - m2[j], c = m3[j] + m4[j], e = m3[j] - m4[j];
        float v0 = m0[j] + a + c, v1 = b + 2.0f * e, v2 = a + 4.0f * c, v3 = b + 8.0f * e + m5[j];
        if (relu) {
            v0 = v0 > 0.0f ? v0 : 0.0f;
            v1 = v1 > 0.0f ? v1 : 0.0f;
            v2 = v2 > 0.0f ? v2 : 0.0f;
            v3 = v3 > 0.0f ? v3 : 0.0f;
        }
        y0[j] = v0, y1[j] = v1, y2[j] = v2, y3[j] = v3;
    }
}

/* The 16 outputs of each of t tiles as arrays o + (4 r + q) t (row r,
 * column q of the tile) from m + xi ms + p0 (xi = 0..35), through
 * s + (6 r + b) t = (A^T m)[r][b] */
static void tiles_at6(float *o, float *s, const float *m, size_t ms, size_t p0, int t, int relu)
{
    const float *mp = m + p0;
    for (int b = 0; b < 6; b++)
        at6(s + (size_t)b * t, s + (size_t)(6 + b) * t, s + (size_t)(12 + b) * t,
            s + (size_t)(18 + b) * t, mp + b * ms, mp + (6 + b) * ms, mp + (12 + b) * ms,
            mp + (18 + b) * ms, mp + (24 + b) * ms, mp + (30 + b) * ms, t, 0);
    for (int a = 0; a < 4; a++) {
        const float *sa = s + (size_t)6 * a * t;
        float *oa = o + (size_t)4 * a * t;
        at6(oa, oa + t, oa + 2 * t, oa + 3 * t, sa, sa + t, sa + 2 * t, sa + 3 * t, sa + 4 * t,
            sa + 5 * t, t, relu);
    }
}

VECTOR_CLONES static void interleave4(float *restrict y, const float *restrict q0,
                                      const float *restrict q1, const float *restrict q2,
                                      const float *restrict q3, int n)
{
    for (int j = 0; j < n; j++) {
        y[4 * j] = q0[j];
        y[4 * j + 1] = q1[j];
        y[4 * j + 2] = q2[j];
        y[4 * j + 3] = q3[j];
    }
}

/* y from M[xi][o][p] for tile rows [t0, t1), tile columns [c0, c0 + t) */
static void output_transform(const wino4_ctx *c, int t0, int t1, int c0, int t, const float *M,
                             float *o)
{
    int T = (t1 - t0) * t, H = c->H, W = c->W, x0 = 4 * c0;
    int width = W - x0 < 4 * t ? W - x0 : 4 * t, full = width / 4; /* output columns, whole tiles */
    for (int oc = 0; oc < c->Cout; oc++) {
        float *yo = c->y + (size_t)oc * H * W;
        /* all the chunk's tiles at once: long loops where tile rows are short */
        tiles_at6(o, o + 16 * (size_t)T, M + (size_t)oc * T, (size_t)c->Cout * T, 0, T, c->relu);
        for (int ti = t0; ti < t1; ti++)
            for (int a = 0; a < 4 && 4 * ti + a < H; a++) {
                float *yr = yo + (size_t)(4 * ti + a) * W + x0;
                const float *q = o + (size_t)4 * a * T + (size_t)(ti - t0) * t;
                interleave4(yr, q, q + T, q + 2 * T, q + 3 * T, full);
                for (int k = 4 * full; k < width; k++)
                    yr[k] = q[(size_t)(k % 4) * T + k / 4];
            }
    }
}

static void wino4_chunk(int i, int tid, void *p)
{
    const wino4_ctx *c = p;
    int tw = tiles_w(c->W), th = tiles_h(c->H);
    int t0 = i / c->nc * c->rows, t1 = t0 + c->rows < th ? t0 + c->rows : th;
    int c0 = i % c->nc * c->cols, t = c0 + c->cols < tw ? c->cols : tw - c0;
    int T = (t1 - t0) * t;
    float *V = c->scratch + (size_t)tid * c->per_thread;
    float *M = V + 36 * (size_t)c->Cin * T;
    float *rows = M + 36 * (size_t)c->Cout * T;
    float *pack = rows + buffer_floats(c->rows, c->cols);
    input_transform(c, t0, t1, c0, t, V, rows);
    /* M[xi] = U[xi] V[xi]: 1x1 convolutions over the chunk's tiles, in L2 */
    wp_wino_products(M, c->U, V, 36, c->Cin, c->Cout, T, pack);
    output_transform(c, t0, t1, c0, t, M, rows);
}

void wp_wino4_conv3x3(float *y, const float *x, const float *xs, const float *U, int Cin,
                      int Cout, int H, int W, int relu, float *scratch)
{
    wino4_ctx c = {y, x, U, NULL, xs, Cin, Cout, H, W, relu, 0, 0, 0, scratch,
                   wp_wino4_chunk_floats(Cin, Cout, W)};
    chunk_shape(W, &c.rows, &c.cols);
    c.nc = (tiles_w(W) + c.cols - 1) / c.cols;
    int nr = (tiles_h(H) + c.rows - 1) / c.rows;
    wp_parallel_for(nr * c.nc, wino4_chunk, &c);
}

/* ---- weight gradient ----
 * As for F(2x2) (conv_wino.c): dL/dM = A dY A^T per tile (dY the 4x4
 * output gradient, zero outside the image), dL/dU[xi] = the sum over tiles
 * of dM[xi] V[xi]^T (36 products of Cout x Cin), dL/dg = G^T dU G. */

#define DW4_TILES 128 /* tiles per pass: a 40x40 crop in one (1.24x F(2x2); 96 tiles: 1.07x) */

static int dw4_rows(int W)
{
    int r = DW4_TILES / tiles_w(W);
    return r < 1 ? 1 : r;
}

size_t wp_wino4_dw_floats(int Cin, int Cout, int H, int W)
{
    int rows = dw4_rows(W) < tiles_h(H) ? dw4_rows(W) : tiles_h(H);
    size_t tiles = (size_t)rows * tiles_w(W);
    /* V [36][Cin][tiles], dM [36][Cout][tiles], the row buffers of both
     * (the gradient's: 10 rows of 4 phases of tiles_w) */
    return 36 * (size_t)(Cin + Cout) * tiles + in_floats(rows, tiles_w(W));
}

/* A times four arrays p0..p3 (elementwise over n) into six r0..r5 */
VECTOR_CLONES static void a4(float *restrict r0, float *restrict r1, float *restrict r2,
                             float *restrict r3, float *restrict r4, float *restrict r5,
                             const float *restrict p0, const float *restrict p1,
                             const float *restrict p2, const float *restrict p3, int n)
{
    for (int k = 0; k < n; k++) {
        float e = p0[k] + p2[k], o = p1[k] + p3[k], e4 = p0[k] + 4.0f * p2[k],
              o8 = 2.0f * p1[k] + 8.0f * p3[k];
        r0[k] = p0[k];
        r1[k] = e + o;
        r2[k] = e - o;
        r3[k] = e4 + o8;
        r4[k] = e4 - o8;
        r5[k] = p3[k];
    }
}

/* Output row src of a channel as four phases Q + q t (Q_q[j] = y[4j + q]),
 * zero outside the image */
static void load_out4(const float *yc, int H, int W, int src, float *Q, int t)
{
    if (src >= H) {
        memset(Q, 0, sizeof(float) * 4 * (size_t)t);
        return;
    }
    const float *y = yc + (size_t)src * W;
    int full = W / 4;
    deinterleave4(Q, Q + t, Q + 2 * t, Q + 3 * t, y, full);
    for (int j = full; j < t; j++)
        for (int q = 0; q < 4; q++)
            Q[(size_t)q * t + j] = 4 * j + q < W ? y[4 * j + q] : 0.0f;
}

/* dM[xi][o][p] = (A dY A^T)[xi] for the tiles of rows [t0, t1) */
static void grad_transform(const wino4_ctx *c, int t0, int t1, float *dM, float *rows)
{
    int t = tiles_w(c->W), T = (t1 - t0) * t;
    size_t row = 4 * (size_t)t; /* a row's four phases */
    float *d = rows, *r = rows + 4 * row; /* 4 output rows; the 6 rows of A dY */
    for (int o = 0; o < c->Cout; o++) {
        const float *yc = c->dy + (size_t)o * c->H * c->W;
        for (int ti = t0; ti < t1; ti++) {
            for (int a = 0; a < 4; a++)
                load_out4(yc, c->H, c->W, 4 * ti + a, d + a * row, t);
            a4(r, r + row, r + 2 * row, r + 3 * row, r + 4 * row, r + 5 * row, d, d + row,
               d + 2 * row, d + 3 * row, (int)row);
            size_t p0 = (size_t)(ti - t0) * t;
            for (int a = 0; a < 6; a++) {
                float *v[6];
                const float *ra = r + a * row;
                for (int b = 0; b < 6; b++)
                    v[b] = dM + ((size_t)(a * 6 + b) * c->Cout + o) * T + p0;
                a4(v[0], v[1], v[2], v[3], v[4], v[5], ra, ra + t, ra + 2 * t, ra + 3 * t, t);
            }
        }
    }
}

void wp_wino4_dw_image(float *dU, const float *x, const float *xs, const float *dy, int Cin,
                       int Cout, int H, int W, float *work)
{
    wino4_ctx c = {NULL, x, NULL, dy, xs, Cin, Cout, H, W, 0, 0, 0, 0, NULL, 0};
    int th = tiles_h(H), tw = tiles_w(W), rows = dw4_rows(W);
    for (int t0 = 0; t0 < th; t0 += rows) {
        int t1 = t0 + rows < th ? t0 + rows : th, T = (t1 - t0) * tw;
        float *V = work, *dM = V + 36 * (size_t)Cin * T, *buf = dM + 36 * (size_t)Cout * T;
        input_transform(&c, t0, t1, 0, tw, V, buf);
        grad_transform(&c, t0, t1, dM, buf);
        wp_wino_dw_products(dU, dM, V, 36, Cin, Cout, T);
    }
}

/* G^T times six values */
static void gt6(float out[3], const float u[6])
{
    float s12 = u[1] + u[2], d12 = u[1] - u[2], s34 = u[3] + u[4], d34 = u[3] - u[4];
    out[0] = 0.25f * u[0] - s12 / 6.0f + s34 / 24.0f;
    out[1] = -d12 / 6.0f + d34 / 12.0f;
    out[2] = -s12 / 6.0f + s34 / 6.0f + u[5];
}

void wp_wino4_dw_finish(float *dw, const float *dU, int Cin, int Cout)
{
    size_t plane = (size_t)Cout * Cin;
    for (int o = 0; o < Cout; o++)
        for (int i = 0; i < Cin; i++) {
            const float *u = dU + (size_t)o * Cin + i;
            float s[6][3]; /* dU G, row by row */
            for (int a = 0; a < 6; a++) {
                float row[6];
                for (int b = 0; b < 6; b++)
                    row[b] = u[(a * 6 + b) * plane];
                gt6(s[a], row);
            }
            float *g = dw + ((size_t)o * Cin + i) * 9;
            for (int b = 0; b < 3; b++) { /* G^T (dU G), column by column */
                float col[6], out[3];
                for (int a = 0; a < 6; a++)
                    col[a] = s[a][b];
                gt6(out, col);
                for (int a = 0; a < 3; a++)
                    g[a * 3 + b] += out[a];
            }
        }
}
