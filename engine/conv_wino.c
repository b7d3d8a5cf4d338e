/* conv_wino.c: 3x3 convolution (stride 1, zero "same" padding) by
 * Winograd F(2x2,3x3): each 2x2 output tile comes from a 4x4 input patch
 * d as Y = A^T [(G g G^T) . (B^T d B)] A, so the 9 multiplies per output
 * become 4 (2.25x fewer), and the 16 element-wise products over channels
 * become 16 GEMMs [Cout x Cin] x [Cin x tiles].  Work goes in chunks of
 * tile rows small enough to stay in cache, chunks spread over threads.
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
 *   A^T = [1 1 1 0; 0 1 -1 -1] */
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
    /* V [16][Cin][tiles], M [16][Cout][tiles], 4 row buffers of W + 4 */
    return 16 * (size_t)(Cin + Cout) * tiles + 8 * ((size_t)W + 4) + 32;
}

size_t wp_wino_weight_floats(int Cin, int Cout) { return 16 * (size_t)Cin * Cout; }

/* U[xi][o][i] = (G g G^T)[xi] * scale[o] for g = w[o][i] (or, adjoint, the
 * flipped w[i][o]: the convolution that backward-data needs). */
void wp_wino_weights(float *U, const float *w, int Cin, int Cout, const float *scale,
                     int adjoint)
{
    /* as a forward conv: `out` channels = Cout, `in` = Cin */
    for (int o = 0; o < Cout; o++)
        for (int i = 0; i < Cin; i++) {
            float g[3][3], t[4][3];
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++)
                    g[a][b] = adjoint ? w[((size_t)i * Cout + o) * 9 + (2 - a) * 3 + (2 - b)]
                                      : w[((size_t)o * Cin + i) * 9 + a * 3 + b];
            for (int b = 0; b < 3; b++) { /* t = G g */
                t[0][b] = g[0][b];
                t[1][b] = 0.5f * (g[0][b] + g[1][b] + g[2][b]);
                t[2][b] = 0.5f * (g[0][b] - g[1][b] + g[2][b]);
                t[3][b] = g[2][b];
            }
            float s = scale ? scale[o] : 1.0f;
            for (int a = 0; a < 4; a++) { /* (G g) G^T */
                float u[4] = {t[a][0], 0.5f * (t[a][0] + t[a][1] + t[a][2]),
                              0.5f * (t[a][0] - t[a][1] + t[a][2]), t[a][2]};
                for (int b = 0; b < 4; b++)
                    U[((size_t)(a * 4 + b) * Cout + o) * Cin + i] = u[b] * s;
            }
        }
}

typedef struct {
    float *y;
    const float *x, *U;
    int Cin, Cout, H, W, relu, rows, nchunks;
    float *scratch; /* per thread: wp_wino_chunk_floats */
    size_t per_thread;
} wino_ctx;

/* Input rows 2ti-1 .. 2ti+2 of channel c, zero padded: rows[r][1 + col]. */
static void load_rows(const float *xc, int H, int W, int ti, float *rows, int rw)
{
    for (int r = 0; r < 4; r++) {
        float *d = rows + (size_t)r * rw;
        int src = 2 * ti - 1 + r;
        if (src < 0 || src >= H) {
            memset(d, 0, sizeof(float) * rw);
            continue;
        }
        d[0] = 0.0f;
        memcpy(d + 1, xc + (size_t)src * W, sizeof(float) * W);
        for (int k = W + 1; k < rw; k++)
            d[k] = 0.0f;
    }
}

/* V[xi][c][p] for the tiles of rows [t0, t1) */
static void input_transform(const wino_ctx *c, int t0, int t1, float *V, float *rows)
{
    int tw = tiles_w(c->W), rw = 2 * tw + 2, T = (t1 - t0) * tw;
    float *b0 = rows + 4 * (size_t)rw; /* B^T applied down the rows: 4 rows */
    for (int ch = 0; ch < c->Cin; ch++) {
        const float *xc = c->x + (size_t)ch * c->H * c->W;
        for (int ti = t0; ti < t1; ti++) {
            load_rows(xc, c->H, c->W, ti, rows, rw);
            const float *d0 = rows, *d1 = rows + rw, *d2 = rows + 2 * rw, *d3 = rows + 3 * rw;
            float *r0 = b0, *r1 = b0 + rw, *r2 = b0 + 2 * rw, *r3 = b0 + 3 * rw;
            for (int k = 0; k < rw; k++) {
                r0[k] = d0[k] - d2[k];
                r1[k] = d1[k] + d2[k];
                r2[k] = d2[k] - d1[k];
                r3[k] = d1[k] - d3[k];
            }
            size_t p0 = (size_t)(ti - t0) * tw;
            const float *rr[4] = {r0, r1, r2, r3};
            for (int a = 0; a < 4; a++) {
                const float *r = rr[a];
                float *v0 = V + ((size_t)(a * 4 + 0) * c->Cin + ch) * T + p0;
                float *v1 = V + ((size_t)(a * 4 + 1) * c->Cin + ch) * T + p0;
                float *v2 = V + ((size_t)(a * 4 + 2) * c->Cin + ch) * T + p0;
                float *v3 = V + ((size_t)(a * 4 + 3) * c->Cin + ch) * T + p0;
                for (int j = 0; j < tw; j++) {
                    const float *q = r + 2 * j;
                    v0[j] = q[0] - q[2];
                    v1[j] = q[1] + q[2];
                    v2[j] = q[2] - q[1];
                    v3[j] = q[1] - q[3];
                }
            }
        }
    }
}

/* y from M[xi][o][p] for the tiles of rows [t0, t1) */
static void output_transform(const wino_ctx *c, int t0, int t1, const float *M)
{
    int tw = tiles_w(c->W), T = (t1 - t0) * tw, H = c->H, W = c->W;
    for (int o = 0; o < c->Cout; o++) {
        float *yo = c->y + (size_t)o * H * W;
        const float *m[16];
        for (int xi = 0; xi < 16; xi++)
            m[xi] = M + ((size_t)xi * c->Cout + o) * T;
        for (int ti = t0; ti < t1; ti++) {
            size_t p0 = (size_t)(ti - t0) * tw;
            int row = 2 * ti;
            float *y0 = yo + (size_t)row * W, *y1 = row + 1 < H ? y0 + W : NULL;
            for (int j = 0; j < tw; j++) {
                size_t p = p0 + j;
                /* s = A^T m: two rows of four */
                float s00 = m[0][p] + m[4][p] + m[8][p], s01 = m[1][p] + m[5][p] + m[9][p];
                float s02 = m[2][p] + m[6][p] + m[10][p], s03 = m[3][p] + m[7][p] + m[11][p];
                float s10 = m[4][p] - m[8][p] - m[12][p], s11 = m[5][p] - m[9][p] - m[13][p];
                float s12 = m[6][p] - m[10][p] - m[14][p], s13 = m[7][p] - m[11][p] - m[15][p];
                float v00 = s00 + s01 + s02, v01 = s01 - s02 - s03;
                float v10 = s10 + s11 + s12, v11 = s11 - s12 - s13;
                if (c->relu) {
                    v00 = v00 > 0 ? v00 : 0;
                    v01 = v01 > 0 ? v01 : 0;
                    v10 = v10 > 0 ? v10 : 0;
                    v11 = v11 > 0 ? v11 : 0;
                }
                int col = 2 * j;
                y0[col] = v00;
                if (col + 1 < W)
                    y0[col + 1] = v01;
                if (y1) {
                    y1[col] = v10;
                    if (col + 1 < W)
                        y1[col + 1] = v11;
                }
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
    input_transform(c, t0, t1, V, rows);
    for (int xi = 0; xi < 16; xi++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c->Cout, T, c->Cin, 1.0f,
                    c->U + (size_t)xi * c->Cout * c->Cin, c->Cin, V + (size_t)xi * c->Cin * T, T,
                    0.0f, M + (size_t)xi * c->Cout * T, T);
    output_transform(c, t0, t1, M);
}

void wp_wino_conv3x3(float *y, const float *x, const float *U, int Cin, int Cout, int H, int W,
                     int relu, float *scratch)
{
    wino_ctx c = {y, x, U, Cin, Cout, H, W, relu, chunk_rows(W), 0, scratch,
                  wp_wino_chunk_floats(Cin, Cout, W)};
    c.nchunks = (tiles_h(H) + c.rows - 1) / c.rows;
    wp_parallel_for(c.nchunks, wino_chunk, &c);
}
