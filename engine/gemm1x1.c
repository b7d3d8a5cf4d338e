/* gemm1x1.c: the 1x1 convolution's product y = W x with AVX-512
 * registers blocked for K = channel counts of a few dozen, and the weight
 * gradient's product c += a b^T (64 x 64 outputs, K = pixels or tiles).
 * OpenBLAS's AVX2 cores run these short-K products at about 80% of their
 * peak (a zeroing pass over y for beta = 0, packing both operands); here
 * W stays in L1, a packed block of x columns in L1, and each output is
 * written once.  They serve where the CPU has AVX-512 but OpenBLAS runs
 * an AVX2 core (OPENBLAS_CORETYPE=Haswell, or a CPU it does not know):
 * its AVX-512 cores have small-matrix kernels that beat these (Zen 5,
 * 1 thread, RF13 training step: 1x1 forward 49 ms with OpenBLAS's
 * Cooperlake core, 81 with these; 96 with its Haswell core).  Blocks at
 * the edges (the last rows of a channel count that is not a multiple of
 * 8 or 4, the last columns) have their own register shapes, so that the
 * one-channel first and last layers of a low-pass net and the partial
 * column block of a Winograd chunk compute no padding.  Elsewhere the
 * BLAS path. */
#include "wp_conv.h"

#include <cblas.h>

#include <stdint.h>
#include <string.h>

#define ROWS 8  /* output channels per register block */
#define COLS 48 /* columns per block: 3 vectors of 16 */
#define PANEL 8 /* blocks packed at once: each row of x read in runs of 1.5 KiB */
#define DIRECT_BYTES (32 << 10) /* an x this small is read in place: L1 */

size_t wp_k1x1_pack_floats(int ci) { return (size_t)ci * COLS * PANEL + 16; }

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx512f"), optimize("O3")))

#define INLINE __attribute__((always_inline)) inline

static __mmask16 lanes(int m) { return m <= 0 ? 0 : m >= 16 ? 0xffff : (__mmask16)((1u << m) - 1); }

/* y[o0..o0+R) x [0, m) (m <= 16 NV) from xp[ci][xs] (packed: xs = COLS;
 * or x itself): R and NV are constants where it is inlined, so that acc
 * lives in registers and a partial block (the last rows or columns) costs
 * what it computes; the loads past m are masked. */
TARGET static INLINE void block_rv(float *y, int ld, const float *xp, size_t xs, const float *w,
                                   size_t so, size_t sk, int ci, int o0, int m, int relu,
                                   const int R, const int NV)
{
    __m512 acc[ROWS][3];
    __mmask16 mk[3];
#pragma GCC unroll 3
    for (int v = 0; v < NV; v++)
        mk[v] = lanes(m - 16 * v);
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++)
            acc[r][v] = _mm512_setzero_ps();
    for (int k = 0; k < ci; k++) {
        __m512 x[3];
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++)
            x[v] = _mm512_maskz_loadu_ps(mk[v], xp + (size_t)k * xs + 16 * v);
        const float *wk = w + (size_t)o0 * so + (size_t)k * sk;
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            __m512 b = _mm512_set1_ps(wk[(size_t)r * so]);
#pragma GCC unroll 3
            for (int v = 0; v < NV; v++)
                acc[r][v] = _mm512_fmadd_ps(b, x[v], acc[r][v]);
        }
    }
    if (relu)
#pragma GCC unroll 8
        for (int r = 0; r < R; r++)
#pragma GCC unroll 3
            for (int v = 0; v < NV; v++)
                acc[r][v] = _mm512_max_ps(acc[r][v], _mm512_setzero_ps());
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
        float *yr = y + (size_t)(o0 + r) * ld;
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++)
            _mm512_mask_storeu_ps(yr + 16 * v, mk[v], acc[r][v]);
    }
}

#define BLOCK_NV(R)                                                                               \
    (nv == 1   ? block_rv(y, ld, xp, xs, w, so, sk, ci, o0, m, relu, R, 1)                        \
     : nv == 2 ? block_rv(y, ld, xp, xs, w, so, sk, ci, o0, m, relu, R, 2)                        \
               : block_rv(y, ld, xp, xs, w, so, sk, ci, o0, m, relu, R, 3))

/* Rows [o0, o0+rows), rows 8, 4, 2 or 1, columns [0, m) */
TARGET static void block(float *y, int ld, const float *xp, size_t xs, const float *w, size_t so,
                         size_t sk, int ci, int o0, int rows, int m, int relu)
{
    int nv = (m + 15) / 16;
    if (rows == 8)
        BLOCK_NV(8);
    else if (rows == 4)
        BLOCK_NV(4);
    else if (rows == 2)
        BLOCK_NV(2);
    else
        BLOCK_NV(1);
}

/* The next row block at o of co: 8 rows, then 4, 2, 1 for the rest */
static int rows_at(int o, int co)
{
    return co - o >= 8 ? 8 : co - o >= 4 ? 4 : co - o >= 2 ? 2 : 1;
}

/* All output rows of the columns [0, m) (m <= COLS) from xb[ci][xs] */
TARGET static void column_block(float *y, int ld, const float *xb, size_t xs, const float *w,
                                size_t so, size_t sk, int ci, int co, int m, int relu)
{
    for (int o = 0, r; o < co; o += r) {
        r = rows_at(o, co);
        block(y, ld, xb, xs, w, so, sk, ci, o, r, m, relu);
    }
}

/* 1 where these kernels beat OpenBLAS's (see the top), decided once. */
static int use_own(void)
{
    static _Atomic int decided = -1;
    int d = decided;
    if (d < 0) {
        const char *core = openblas_get_corename(), *avx512[] = {"skylakex", "cooperlake",
                                                                  "sapphirerapids"};
        d = __builtin_cpu_supports("avx512f") != 0;
        for (size_t i = 0; i < sizeof avx512 / sizeof avx512[0]; i++)
            if (core && !strcasecmp(core, avx512[i]))
                d = 0;
        decided = d;
    }
    return d;
}

/* Columns [0, m) of the ci rows (m <= PANEL COLS) as blocks of COLS,
 * xp[block][k][COLS], zero-padded (rows ld apart can alias in the cache,
 * see conv.c; a row is read in one run, which the prefetchers follow). */
TARGET static void pack(float *xp, const float *x, int ci, int ld, int m)
{
    for (int k = 0; k < ci; k++)
        for (int b = 0; b * COLS < m; b++) {
            int c = m - b * COLS; /* masked loads: the padding is zero */
            const float *src = x + (size_t)k * ld + b * COLS;
            float *d = xp + ((size_t)b * ci + k) * COLS;
            _mm512_store_ps(d, _mm512_maskz_loadu_ps(lanes(c), src));
            _mm512_store_ps(d + 16, _mm512_maskz_loadu_ps(lanes(c - 16), src + 16));
            _mm512_store_ps(d + 32, _mm512_maskz_loadu_ps(lanes(c - 32), src + 32));
        }
}

int wp_k1x1(float *y, const float *x, const float *w, size_t so, size_t sk, int ci, int co,
            int ld, int n, int relu, float *work)
{
    if (!use_own())
        return 0;
    if ((size_t)ci * ld * sizeof(float) <= DIRECT_BYTES) {
        /* x fits in L1 as it is (a Winograd chunk's ci x tiles): no packing */
        for (int j = 0; j < n; j += COLS)
            column_block(y + j, ld, x + j, (size_t)ld, w, so, sk, ci, co,
                         n - j < COLS ? n - j : COLS, relu);
        return 1;
    }
    float *xp = (float *)(((uintptr_t)work + 63) & ~(uintptr_t)63);
    for (int j0 = 0; j0 < n; j0 += PANEL * COLS) {
        int mp = n - j0 < PANEL * COLS ? n - j0 : PANEL * COLS;
        pack(xp, x + j0, ci, ld, mp);
        for (int j = 0; j < mp; j += COLS) {
            int m = mp - j < COLS ? mp - j : COLS;
            const float *xb = xp + (size_t)(j / COLS) * ci * COLS;
            column_block(y + j0 + j, ld, xb, COLS, w, so, sk, ci, co, m, relu);
        }
    }
    return 1;
}

#define DOT_CHUNK 2048 /* p per pass: a block's 8 rows in L1 */

/* (a0 + a2, b0 + b2, a1 + a3, b1 + b3) in each 128-bit lane of a and b */
TARGET static INLINE __m512 pair_sums(__m512 a, __m512 b)
{
    return _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
}

/* Per 128-bit lane, the partial sums of four vectors a, b, c, d */
TARGET static INLINE __m512 quad_sums(__m512 a, __m512 b, __m512 c, __m512 d)
{
    __m512d ab = _mm512_castps_pd(pair_sums(a, b)), cd = _mm512_castps_pd(pair_sums(c, d));
    return _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(ab, cd)),
                         _mm512_castpd_ps(_mm512_unpackhi_pd(ab, cd)));
}

/* The 128-bit lanes' sums of v0..v3: lane g of the result holds v_g's */
TARGET static INLINE __m512 lane_sums(__m512 v0, __m512 v1, __m512 v2, __m512 v3)
{
    __m512 x = _mm512_add_ps(_mm512_shuffle_f32x4(v0, v1, 0x88),
                             _mm512_shuffle_f32x4(v0, v1, 0xdd));
    __m512 y = _mm512_add_ps(_mm512_shuffle_f32x4(v2, v3, 0x88),
                             _mm512_shuffle_f32x4(v2, v3, 0xdd));
    return _mm512_add_ps(_mm512_shuffle_f32x4(x, y, 0x88), _mm512_shuffle_f32x4(x, y, 0xdd));
}

/* c[r][q] += the sum of acc[r][q]'s lanes, 4 x 4, by a transposing tree
 * (a third of the instructions of 16 separate reductions) */
TARGET static INLINE void add_sums4x4(float *c, int ldc, __m512 acc[4][4])
{
    __m512 s = lane_sums(quad_sums(acc[0][0], acc[0][1], acc[0][2], acc[0][3]),
                         quad_sums(acc[1][0], acc[1][1], acc[1][2], acc[1][3]),
                         quad_sums(acc[2][0], acc[2][1], acc[2][2], acc[2][3]),
                         quad_sums(acc[3][0], acc[3][1], acc[3][2], acc[3][3]));
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++) {
        __m128 row = _mm512_extractf32x4_ps(s, 0);
        if (r == 1)
            row = _mm512_extractf32x4_ps(s, 1);
        else if (r == 2)
            row = _mm512_extractf32x4_ps(s, 2);
        else if (r == 3)
            row = _mm512_extractf32x4_ps(s, 3);
        float *cr = c + (size_t)r * ldc;
        _mm_storeu_ps(cr, _mm_add_ps(_mm_loadu_ps(cr), row));
    }
}

/* c[o0..o0+R) x [i0..i0+Q) += the products over p in [0, K) (R, Q
 * constants where it is inlined) */
TARGET static INLINE void dot_rq(float *c, int ldc, const float *a, int lda, const float *b,
                                 int ldb, int K, const int R, const int Q)
{
    __m512 acc[4][4];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int q = 0; q < Q; q++)
            acc[r][q] = _mm512_setzero_ps();
    for (int p = 0; p < K; p += 16) {
        __mmask16 k = lanes(K - p);
        __m512 av[4], bv[4];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++)
            av[r] = _mm512_maskz_loadu_ps(k, a + (size_t)r * lda + p);
#pragma GCC unroll 4
        for (int q = 0; q < Q; q++)
            bv[q] = _mm512_maskz_loadu_ps(k, b + (size_t)q * ldb + p);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++)
#pragma GCC unroll 4
            for (int q = 0; q < Q; q++)
                acc[r][q] = _mm512_fmadd_ps(av[r], bv[q], acc[r][q]);
    }
    if (R == 4 && Q == 4) {
        add_sums4x4(c, ldc, acc);
        return;
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int q = 0; q < Q; q++)
            c[(size_t)r * ldc + q] += _mm512_reduce_add_ps(acc[r][q]);
}

#define DOT_Q(R)                                                                                  \
    (cols == 4   ? dot_rq(c, ldc, a, lda, b, ldb, K, R, 4)                                        \
     : cols == 2 ? dot_rq(c, ldc, a, lda, b, ldb, K, R, 2)                                        \
                 : dot_rq(c, ldc, a, lda, b, ldb, K, R, 1))

/* rows and cols: 4, 2 or 1 */
TARGET static void dot_block(float *c, int ldc, const float *a, int lda, const float *b, int ldb,
                             int K, int rows, int cols)
{
    if (rows == 4)
        DOT_Q(4);
    else if (rows == 2)
        DOT_Q(2);
    else
        DOT_Q(1);
}

static int step4(int o, int n) { return n - o >= 4 ? 4 : n - o >= 2 ? 2 : 1; }

static int kdot(float *c, const float *a, const float *b, int M, int N, int K)
{
    if (!use_own())
        return 0;
    for (int p = 0; p < K; p += DOT_CHUNK) {
        int k = K - p < DOT_CHUNK ? K - p : DOT_CHUNK;
        for (int o = 0, r; o < M; o += r) {
            r = step4(o, M);
            for (int i = 0, q; i < N; i += q) {
                q = step4(i, N);
                dot_block(c + (size_t)o * N + i, N, a + (size_t)o * K + p, K,
                          b + (size_t)i * K + p, K, k, r, q);
            }
        }
    }
    return 1;
}
#else
int wp_k1x1(float *y, const float *x, const float *w, size_t so, size_t sk, int ci, int co,
            int ld, int n, int relu, float *work)
{
    (void)y, (void)x, (void)w, (void)so, (void)sk, (void)ci, (void)co, (void)ld, (void)n;
    (void)relu, (void)work;
    return 0;
}

static int kdot(float *c, const float *a, const float *b, int M, int N, int K)
{
    (void)c, (void)a, (void)b, (void)M, (void)N, (void)K;
    return 0;
}
#endif

void wp_gemm_abt(float *c, const float *a, const float *b, int M, int N, int K)
{
    if (!kdot(c, a, b, M, N, K))
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, a, K, b, K, 1.0f, c,
                    N);
}
