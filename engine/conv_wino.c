/* conv_wino.c: 3x3 convolution (stride 1, zero "same" padding) by
 * Winograd F(2x2,3x3): each 2x2 output tile comes from a 4x4 input patch
 * d as Y = A^T [(G g G^T) . (B^T d B)] A, so the 9 multiplies per output
 * become 4 (2.25x fewer), and the 16 element-wise products over channels
 * become 16 GEMMs [Cout x Cin] x [Cin x tiles].  Work goes in chunks of
 * tile rows small enough to stay in cache, chunks spread over threads.
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
 *   A^T = [1 1 1 0; 0 1 -1 -1] */
/* The transforms are simple loops over contiguous arrays: let GCC
 * vectorise them fully (the project builds at -O2), and build AVX2 and
 * AVX-512 versions chosen at run time (target_clones). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#define VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VECTOR_CLONES
#endif

#include "wp_conv.h"

#include <cblas.h>
#include <string.h>

#include "wp_parallel.h"

#define TARGET_TILES 128 /* tiles per chunk: V and M of 64 channels ~ 0.5 MiB each, in L2 (measured best of 64..1536) */

static int tiles_h(int H) { return (H + 1) / 2; }
static int tiles_w(int W) { return (W + 1) / 2; }

static int chunk_rows(int W)
{
    int tw = tiles_w(W), r = TARGET_TILES / tw;
    return r < 1 ? 1 : r;
}

size_t wp_wino_chunk_floats(int Cin, int Cout, int W)
{
    size_t tiles = (size_t)chunk_rows(W) * tiles_w(W);
    /* V [16][Cin][tiles], M [16][Cout][tiles], 16 half-row buffers, the
     * 1x1 kernel's packed block */
    return 16 * (size_t)(Cin + Cout) * tiles + 16 * ((size_t)tiles_w(W) + 1) + 32 +
           wp_k1x1_pack_floats(Cin > Cout ? Cin : Cout);
}

size_t wp_wino_weight_floats(int Cin, int Cout) { return 16 * (size_t)Cin * Cout; }

void wp_wino_kernel(float g[3][3], const float *w, int Cin, int Cout, int o, int i, int adjoint)
{
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            g[a][b] = adjoint ? w[((size_t)i * Cout + o) * 9 + (2 - a) * 3 + (2 - b)]
                              : w[((size_t)o * Cin + i) * 9 + a * 3 + b];
}

void wp_wino_products(float *M, const float *U, const float *V, int n, int Cin, int Cout, int T,
                      float *pack)
{
    for (int xi = 0; xi < n; xi++) {
        const float *u = U + (size_t)xi * Cout * Cin, *v = V + (size_t)xi * Cin * T;
        float *m = M + (size_t)xi * Cout * T;
        if (!wp_k1x1(m, v, u, (size_t)Cin, 1, Cin, Cout, T, T, 0, pack))
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Cout, T, Cin, 1.0f, u, Cin, v,
                        T, 0.0f, m, T);
    }
}

void wp_wino_weights_by(float *U, const float *w, int Cin, int Cout, const float *scale,
                        int adjoint, int n, void (*G)(float *u, float g0, float g1, float g2))
{
    /* as a forward conv: `out` channels = Cout, `in` = Cin */
    for (int o = 0; o < Cout; o++)
        for (int i = 0; i < Cin; i++) {
            float g[3][3], t[6][3], u[6];
            wp_wino_kernel(g, w, Cin, Cout, o, i, adjoint);
            for (int b = 0; b < 3; b++) { /* t = G g, column by column */
                G(u, g[0][b], g[1][b], g[2][b]);
                for (int a = 0; a < n; a++)
                    t[a][b] = u[a];
            }
            float s = scale ? scale[o] : 1.0f;
            for (int a = 0; a < n; a++) { /* (G g) G^T, row by row */
                G(u, t[a][0], t[a][1], t[a][2]);
                for (int b = 0; b < n; b++)
                    U[((size_t)(a * n + b) * Cout + o) * Cin + i] = u[b] * s;
            }
        }
}

/* G times (g0, g1, g2) */
static void g4(float *u, float g0, float g1, float g2)
{
    u[0] = g0;
    u[1] = 0.5f * (g0 + g1 + g2);
    u[2] = 0.5f * (g0 - g1 + g2);
    u[3] = g2;
}

/* U[xi][o][i] = (G g G^T)[xi] * scale[o] for g = w[o][i] (or, adjoint, the
 * flipped w[i][o]: the convolution that backward-data needs). */
void wp_wino_weights(float *U, const float *w, int Cin, int Cout, const float *scale,
                     int adjoint)
{
    wp_wino_weights_by(U, w, Cin, Cout, scale, adjoint, 4, g4);
}

typedef struct {
    float *y;
    const float *x, *U, *dy; /* dy: the weight gradient's output gradient */
    const float *xs;         /* x enters as relu(xs[c] x) where set (see wp_conv.h) */
    int Cin, Cout, H, W, relu, rows, nchunks;
    float *scratch; /* per thread: wp_wino_chunk_floats */
    size_t per_thread;
} wino_ctx;

/* Row r of the 4x4 patches of tile row ti, split into even and odd
 * columns of the zero-padded row (pad column 0 = input column -1):
 * E[k] = x[2k-1], O[k] = x[2k], k = 0..tw, so that every later step reads
 * contiguous memory and vectorises. */
VECTOR_CLONES static void deinterleave(float *restrict E1, float *restrict O,
                                       const float *restrict x, int pairs)
{
    for (int k = 0; k < pairs; k++) {
        O[k] = x[2 * k];
        E1[k] = x[2 * k + 1];
    }
}

/* relu(A x), the way a BN + ReLU layer's output is formed (bn.c) */
static inline float scale_relu1(float x, float A)
{
    float y = x * A;
    return y > 0.0f ? y : 0.0f;
}

/* deinterleave of relu(A x): a layer's input made from its predecessor's
 * conv output while it is read (never stored) */
VECTOR_CLONES static void deinterleave_relu(float *restrict E1, float *restrict O,
                                            const float *restrict x, int pairs, float A)
{
    for (int k = 0; k < pairs; k++) {
        O[k] = scale_relu1(x[2 * k], A);
        E1[k] = scale_relu1(x[2 * k + 1], A);
    }
}

/* s: NULL, or the channel's scale (the row enters as relu(*s x)) */
static void load_row_eo(const float *xc, int H, int W, int src, float *restrict E,
                        float *restrict O, int tw, const float *s)
{
    if (src < 0 || src >= H) {
        memset(E, 0, sizeof(float) * (tw + 1));
        memset(O, 0, sizeof(float) * (tw + 1));
        return;
    }
    const float *x = xc + (size_t)src * W;
    E[0] = 0.0f;
    int k = W / 2; /* both columns of pairs 0..k-1 are inside */
    if (s)
        deinterleave_relu(E + 1, O, x, k, *s);
    else
        deinterleave(E + 1, O, x, k);
    for (; k <= tw; k++) {
        O[k] = 2 * k < W ? (s ? scale_relu1(x[2 * k], *s) : x[2 * k]) : 0.0f;
        if (k + 1 <= tw)
            E[k + 1] = 2 * k + 1 < W ? (s ? scale_relu1(x[2 * k + 1], *s) : x[2 * k + 1]) : 0.0f;
    }
}

/* B^T down the four rows (elementwise over k) */
VECTOR_CLONES static void rows_bt(float *restrict r0, float *restrict r1, float *restrict r2,
                    float *restrict r3, const float *d0, const float *d1, const float *d2,
                    const float *d3, int n)
{
    for (int k = 0; k < n; k++) {
        r0[k] = d0[k] - d2[k];
        r1[k] = d1[k] + d2[k];
        r2[k] = d2[k] - d1[k];
        r3[k] = d1[k] - d3[k];
    }
}

/* B^T along the row: patch columns (E[j], O[j], E[j+1], O[j+1]) */
VECTOR_CLONES static void cols_bt(float *restrict v0, float *restrict v1, float *restrict v2,
                    float *restrict v3, const float *E, const float *O, int tw)
{
    for (int j = 0; j < tw; j++) {
        v0[j] = E[j] - E[j + 1];
        v1[j] = O[j] + E[j + 1];
        v2[j] = E[j + 1] - O[j];
        v3[j] = O[j] - O[j + 1];
    }
}

/* V[xi][c][p] for the tiles of rows [t0, t1) */
static void input_transform(const wino_ctx *c, int t0, int t1, float *V, float *rows)
{
    int tw = tiles_w(c->W), n = tw + 1, Tn = (t1 - t0) * tw;
    /* d: 4 rows x (E, O); r: 4 rows x (E, O) after B^T down the rows */
    float *d = rows, *r = rows + 8 * (size_t)n;
    for (int ch = 0; ch < c->Cin; ch++) {
        const float *xc = c->x + (size_t)ch * c->H * c->W, *s = c->xs ? c->xs + ch : NULL;
        for (int ti = t0; ti < t1; ti++) {
            for (int a = 0; a < 4; a++)
                load_row_eo(xc, c->H, c->W, 2 * ti - 1 + a, d + (size_t)(2 * a) * n,
                            d + (size_t)(2 * a + 1) * n, tw, s);
            for (int eo = 0; eo < 2; eo++)
                rows_bt(r + (size_t)eo * n, r + (size_t)(2 + eo) * n, r + (size_t)(4 + eo) * n,
                        r + (size_t)(6 + eo) * n, d + (size_t)eo * n, d + (size_t)(2 + eo) * n,
                        d + (size_t)(4 + eo) * n, d + (size_t)(6 + eo) * n, n);
            size_t p0 = (size_t)(ti - t0) * tw;
            for (int a = 0; a < 4; a++) {
                float *v[4];
                for (int b = 0; b < 4; b++)
                    v[b] = V + ((size_t)(a * 4 + b) * c->Cin + ch) * Tn + p0;
                cols_bt(v[0], v[1], v[2], v[3], r + (size_t)(2 * a) * n,
                        r + (size_t)(2 * a + 1) * n, tw);
            }
        }
    }
}

/* The four outputs of each tile of one tile row, as contiguous arrays:
 * o[0] (row 0, even column), o[1] (row 0, odd), o[2], o[3] (row 1). */
VECTOR_CLONES static void tiles_at(float *restrict o0, float *restrict o1, float *restrict o2,
                     float *restrict o3, const float *const *m, size_t p0, int tw, int relu)
{
    for (int j = 0; j < tw; j++) {
        size_t p = p0 + j;
        /* s = A^T m: two rows of four */
        float s00 = m[0][p] + m[4][p] + m[8][p], s01 = m[1][p] + m[5][p] + m[9][p];
        float s02 = m[2][p] + m[6][p] + m[10][p], s03 = m[3][p] + m[7][p] + m[11][p];
        float s10 = m[4][p] - m[8][p] - m[12][p], s11 = m[5][p] - m[9][p] - m[13][p];
        float s12 = m[6][p] - m[10][p] - m[14][p], s13 = m[7][p] - m[11][p] - m[15][p];
        float v00 = s00 + s01 + s02, v01 = s01 - s02 - s03;
        float v10 = s10 + s11 + s12, v11 = s11 - s12 - s13;
        if (relu) {
            v00 = v00 > 0 ? v00 : 0;
            v01 = v01 > 0 ? v01 : 0;
            v10 = v10 > 0 ? v10 : 0;
            v11 = v11 > 0 ? v11 : 0;
        }
        o0[j] = v00, o1[j] = v01, o2[j] = v10, o3[j] = v11;
    }
}

VECTOR_CLONES static void interleave(float *restrict y, const float *restrict even,
                                     const float *restrict odd, int pairs)
{
    for (int j = 0; j < pairs; j++) {
        y[2 * j] = even[j];
        y[2 * j + 1] = odd[j];
    }
}

/* y from M[xi][o][p] for the tiles of rows [t0, t1) */
static void output_transform(const wino_ctx *c, int t0, int t1, const float *M, float *tmp)
{
    int tw = tiles_w(c->W), T = (t1 - t0) * tw, H = c->H, W = c->W;
    float *o0 = tmp, *o1 = tmp + tw, *o2 = tmp + 2 * tw, *o3 = tmp + 3 * tw;
    for (int o = 0; o < c->Cout; o++) {
        float *yo = c->y + (size_t)o * H * W;
        const float *m[16];
        for (int xi = 0; xi < 16; xi++)
            m[xi] = M + ((size_t)xi * c->Cout + o) * T;
        for (int ti = t0; ti < t1; ti++) {
            tiles_at(o0, o1, o2, o3, m, (size_t)(ti - t0) * tw, tw, c->relu);
            int row = 2 * ti;
            float *y0 = yo + (size_t)row * W;
            int pairs = W / 2; /* tiles whose two columns are inside */
            interleave(y0, o0, o1, pairs);
            if (W % 2)
                y0[W - 1] = o0[pairs];
            if (row + 1 < H) {
                float *y1 = y0 + W;
                interleave(y1, o2, o3, pairs);
                if (W % 2)
                    y1[W - 1] = o2[pairs];
            }
        }
    }
}

static void wino_chunk(int i, int tid, void *p)
{
    const wino_ctx *c = p;
    int th = tiles_h(c->H), t0 = i * c->rows, t1 = t0 + c->rows < th ? t0 + c->rows : th;
    int T = (t1 - t0) * tiles_w(c->W);
    float *V = c->scratch + (size_t)tid * c->per_thread;
    float *M = V + 16 * (size_t)c->Cin * T;
    float *rows = M + 16 * (size_t)c->Cout * T;
    float *pack = rows + 16 * ((size_t)tiles_w(c->W) + 1) + 32;
    input_transform(c, t0, t1, V, rows);
    /* M[xi] = U[xi] V[xi]: a 1x1 convolution over the chunk's tiles, in
     * L2, where the register-blocked kernel beats BLAS */
    wp_wino_products(M, c->U, V, 16, c->Cin, c->Cout, T, pack);
    output_transform(c, t0, t1, M, rows);
}

void wp_wino_conv3x3(float *y, const float *x, const float *xs, const float *U, int Cin,
                     int Cout, int H, int W, int relu, float *scratch)
{
    wino_ctx c = {y, x, U, NULL, xs, Cin, Cout, H, W, relu, chunk_rows(W), 0, scratch,
                  wp_wino_chunk_floats(Cin, Cout, W)};
    c.nchunks = (tiles_h(H) + c.rows - 1) / c.rows;
    wp_parallel_for(c.nchunks, wino_chunk, &c);
}

/* ---- weight gradient ----
 * With M = U . V per tile (see the top), dL/dM = A dY A^T (dY the 2x2
 * output gradient of the tile, zero outside the image), dL/dU[xi] = sum
 * over tiles of dM[xi] V[xi]^T (16 GEMMs of Cout x Cin over the tiles:
 * 2.25x fewer multiplies than im2col, and no 9x im2col copy), and
 * dL/dg = G^T dU G.  A = [1 0; 1 1; 1 -1; 0 -1]. */

#define DW_TILES 200 /* tiles per pass (V and dM of 64 channels 0.8 MiB each; 40x40 crops: 2 passes) */

static int dw_rows(int W)
{
    int r = DW_TILES / tiles_w(W);
    return r < 1 ? 1 : r;
}

size_t wp_wino_dw_floats(int Cin, int Cout, int H, int W)
{
    int rows = dw_rows(W) < tiles_h(H) ? dw_rows(W) : tiles_h(H);
    size_t tiles = (size_t)rows * tiles_w(W);
    /* V [16][Cin][tiles], dM [16][Cout][tiles], the row buffers of both */
    return 16 * (size_t)(Cin + Cout) * tiles + 16 * ((size_t)tiles_w(W) + 1) + 32;
}

/* (v0, v1, v2, v3) = (p, p + q, p - q, -q): A times the pair (p, q) */
VECTOR_CLONES static void a_pair(float *restrict v0, float *restrict v1, float *restrict v2,
                                 float *restrict v3, const float *p, const float *q, int n)
{
    for (int k = 0; k < n; k++) {
        v0[k] = p[k];
        v1[k] = p[k] + q[k];
        v2[k] = p[k] - q[k];
        v3[k] = -q[k];
    }
}

/* Output row src of a channel as even and odd columns of the tw tiles,
 * zero outside the image. */
static void load_out_eo(const float *yc, int H, int W, int src, float *E, float *O, int tw)
{
    if (src >= H) {
        memset(E, 0, sizeof(float) * tw);
        memset(O, 0, sizeof(float) * tw);
        return;
    }
    const float *y = yc + (size_t)src * W;
    deinterleave(O, E, y, W / 2); /* E[k] = y[2k], O[k] = y[2k+1] */
    if (W % 2) {
        E[tw - 1] = y[W - 1];
        O[tw - 1] = 0.0f;
    }
}

/* dM[xi][o][p] = (A dY A^T)[xi] for the tiles of rows [t0, t1) */
static void grad_transform(const wino_ctx *c, int t0, int t1, float *dM, float *rows)
{
    int tw = tiles_w(c->W), Tn = (t1 - t0) * tw;
    /* d: 2 output rows x (E, O); r: the 4 rows of A dY x (E, O) */
    float *d = rows, *r = rows + 4 * (size_t)tw;
    for (int o = 0; o < c->Cout; o++) {
        const float *yc = c->dy + (size_t)o * c->H * c->W;
        for (int ti = t0; ti < t1; ti++) {
            for (int a = 0; a < 2; a++)
                load_out_eo(yc, c->H, c->W, 2 * ti + a, d + (size_t)(2 * a) * tw,
                            d + (size_t)(2 * a + 1) * tw, tw);
            for (int eo = 0; eo < 2; eo++)
                a_pair(r + (size_t)eo * tw, r + (size_t)(2 + eo) * tw, r + (size_t)(4 + eo) * tw,
                       r + (size_t)(6 + eo) * tw, d + (size_t)eo * tw, d + (size_t)(2 + eo) * tw,
                       tw);
            size_t p0 = (size_t)(ti - t0) * tw;
            for (int a = 0; a < 4; a++) {
                float *v[4];
                for (int b = 0; b < 4; b++)
                    v[b] = dM + ((size_t)(a * 4 + b) * c->Cout + o) * Tn + p0;
                a_pair(v[0], v[1], v[2], v[3], r + (size_t)(2 * a) * tw,
                       r + (size_t)(2 * a + 1) * tw, tw);
            }
        }
    }
}

void wp_wino_dw_image(float *dU, const float *x, const float *xs, const float *dy, int Cin,
                      int Cout, int H, int W, float *work)
{
    wino_ctx c = {NULL, x, NULL, dy, xs, Cin, Cout, H, W, 0, dw_rows(W), 0, NULL, 0};
    int th = tiles_h(H), tw = tiles_w(W);
    for (int t0 = 0; t0 < th; t0 += c.rows) {
        int t1 = t0 + c.rows < th ? t0 + c.rows : th, T = (t1 - t0) * tw;
        float *V = work, *dM = V + 16 * (size_t)Cin * T, *rows = dM + 16 * (size_t)Cout * T;
        input_transform(&c, t0, t1, V, rows);
        grad_transform(&c, t0, t1, dM, rows);
        wp_wino_dw_products(dU, dM, V, 16, Cin, Cout, T);
    }
}

void wp_wino_dw_products(float *dU, const float *dM, const float *V, int n, int Cin, int Cout,
                         int T)
{
    for (int xi = 0; xi < n; xi++)
        wp_gemm_abt(dU + (size_t)xi * Cout * Cin, dM + (size_t)xi * Cout * T,
                    V + (size_t)xi * Cin * T, Cout, Cin, T);
}

/* (p0 + (p1 + p2) / 2, (p1 - p2) / 2, (p1 + p2) / 2 + p3): G^T times four */
static void gt4(float out[3], float p0, float p1, float p2, float p3)
{
    out[0] = p0 + 0.5f * (p1 + p2);
    out[1] = 0.5f * (p1 - p2);
    out[2] = 0.5f * (p1 + p2) + p3;
}

void wp_wino_dw_finish(float *dw, const float *dU, int Cin, int Cout)
{
    size_t plane = (size_t)Cout * Cin;
    for (int o = 0; o < Cout; o++)
        for (int i = 0; i < Cin; i++) {
            const float *u = dU + (size_t)o * Cin + i;
            float s[4][3]; /* dU G, row by row */
            for (int a = 0; a < 4; a++)
                gt4(s[a], u[(a * 4) * plane], u[(a * 4 + 1) * plane], u[(a * 4 + 2) * plane],
                    u[(a * 4 + 3) * plane]);
            float *g = dw + ((size_t)o * Cin + i) * 9;
            for (int b = 0; b < 3; b++) { /* G^T (dU G), column by column */
                float col[3];
                gt4(col, s[0][b], s[1][b], s[2][b], s[3][b]);
                for (int a = 0; a < 3; a++)
                    g[a * 3 + b] += col[a];
            }
        }
}
