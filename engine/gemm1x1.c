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
 * Cooperlake core, 81 with these; 96 with its Haswell core).  Elsewhere,
 * and for odd shapes, the BLAS path. */
#include "wp_conv.h"

#include <cblas.h>

#include <stdint.h>
#include <string.h>

#define ROWS 8  /* output channels per register block */
#define COLS 48 /* columns per block: 3 vectors of 16 */
#define PANEL 8 /* blocks packed at once: each row of x read in runs of 1.5 KiB */

size_t wp_k1x1_pack_floats(int ci) { return (size_t)ci * COLS * PANEL + 16; }

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx512f"), optimize("O3")))

/* y[o0..o0+ROWS) x [0, m) from the packed xp[ci][COLS] */
TARGET static void block(float *y, int ld, const float *xp, const float *w, size_t so, size_t sk,
                         int ci, int o0, __mmask16 k0, __mmask16 k1, __mmask16 k2, int relu)
{
    __m512 acc[ROWS][3];
#pragma GCC unroll 8
    for (int r = 0; r < ROWS; r++)
        acc[r][0] = acc[r][1] = acc[r][2] = _mm512_setzero_ps();
    for (int k = 0; k < ci; k++) {
        __m512 x0 = _mm512_load_ps(xp + (size_t)k * COLS);
        __m512 x1 = _mm512_load_ps(xp + (size_t)k * COLS + 16);
        __m512 x2 = _mm512_load_ps(xp + (size_t)k * COLS + 32);
        const float *wk = w + (size_t)o0 * so + (size_t)k * sk;
#pragma GCC unroll 8
        for (int r = 0; r < ROWS; r++) {
            __m512 b = _mm512_set1_ps(wk[(size_t)r * so]);
            acc[r][0] = _mm512_fmadd_ps(b, x0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(b, x1, acc[r][1]);
            acc[r][2] = _mm512_fmadd_ps(b, x2, acc[r][2]);
        }
    }
    if (relu)
#pragma GCC unroll 8
        for (int r = 0; r < ROWS; r++)
            for (int v = 0; v < 3; v++)
                acc[r][v] = _mm512_max_ps(acc[r][v], _mm512_setzero_ps());
#pragma GCC unroll 8
    for (int r = 0; r < ROWS; r++) {
        float *yr = y + (size_t)(o0 + r) * ld;
        _mm512_mask_storeu_ps(yr, k0, acc[r][0]);
        _mm512_mask_storeu_ps(yr + 16, k1, acc[r][1]);
        _mm512_mask_storeu_ps(yr + 32, k2, acc[r][2]);
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

static __mmask16 lanes(int m) { return m <= 0 ? 0 : m >= 16 ? 0xffff : (__mmask16)((1u << m) - 1); }

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
    if (co % ROWS || !use_own())
        return 0;
    float *xp = (float *)(((uintptr_t)work + 63) & ~(uintptr_t)63);
    for (int j0 = 0; j0 < n; j0 += PANEL * COLS) {
        int mp = n - j0 < PANEL * COLS ? n - j0 : PANEL * COLS;
        pack(xp, x + j0, ci, ld, mp);
        for (int j = 0; j < mp; j += COLS) {
            int m = mp - j < COLS ? mp - j : COLS;
            const float *xb = xp + (size_t)(j / COLS) * ci * COLS;
            for (int o = 0; o < co; o += ROWS)
                block(y + j0 + j, ld, xb, w, so, sk, ci, o, lanes(m), lanes(m - 16),
                      lanes(m - 32), relu);
        }
    }
    return 1;
}

#define DOT_CHUNK 2048 /* p per pass: a block's 8 rows in L1 */

/* c[o0..o0+4) x [i0..i0+4) += the products over p in [0, K) */
TARGET static void dot_block(float *c, int ldc, const float *a, int lda, const float *b, int ldb,
                             int K)
{
    __m512 acc[4][4];
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++)
        acc[r][0] = acc[r][1] = acc[r][2] = acc[r][3] = _mm512_setzero_ps();
    for (int p = 0; p < K; p += 16) {
        __mmask16 k = lanes(K - p);
        __m512 av[4], bv[4];
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++) {
            av[r] = _mm512_maskz_loadu_ps(k, a + (size_t)r * lda + p);
            bv[r] = _mm512_maskz_loadu_ps(k, b + (size_t)r * ldb + p);
        }
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++)
#pragma GCC unroll 4
            for (int q = 0; q < 4; q++)
                acc[r][q] = _mm512_fmadd_ps(av[r], bv[q], acc[r][q]);
    }
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++)
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++)
            c[(size_t)r * ldc + q] += _mm512_reduce_add_ps(acc[r][q]);
}

static int kdot(float *c, const float *a, const float *b, int M, int N, int K)
{
    if (M % 4 || N % 4 || !use_own())
        return 0;
    for (int p = 0; p < K; p += DOT_CHUNK) {
        int k = K - p < DOT_CHUNK ? K - p : DOT_CHUNK;
        for (int o = 0; o < M; o += 4)
            for (int i = 0; i < N; i += 4)
                dot_block(c + (size_t)o * N + i, N, a + (size_t)o * K + p, K,
                          b + (size_t)i * K + p, K, k);
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
