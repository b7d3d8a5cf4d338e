/* util.c: error messages, checked allocation, time. */
#include "wp_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

wp_status wp_fail(char *err, wp_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, WP_ERRLEN, fmt, ap);
        va_end(ap);
    }
    return status;
}

const char *wp_status_name(wp_status s)
{
    switch (s) {
    case WP_OK: return "ok";
    case WP_ERR_ARG: return "bad argument";
    case WP_ERR_IO: return "i/o error";
    case WP_ERR_FORMAT: return "bad model file";
    case WP_ERR_NOMEM: return "out of memory";
    case WP_ERR_CANCELLED: return "cancelled";
    case WP_ERR_NUMERIC: return "numerical error";
    }
    return "unknown status";
}

int wp_mul_ok(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}

void *wp_alloc(size_t bytes)
{
    void *p = NULL;
    if (bytes == 0)
        bytes = 64;
    /* Round up: aligned_alloc wants a multiple of the alignment. */
    if (bytes > SIZE_MAX - 63)
        return NULL;
    bytes = (bytes + 63) & ~(size_t)63;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    /* Large buffers (tiles' activations) on 2 MiB pages where the kernel
     * gives them on request: a first touch faults once per 2 MiB instead
     * of once per 4 KiB (measured: a 12 MP denoise 28-29 s instead of
     * 30-31 s on 2 cores). */
    if (bytes >= ((size_t)8 << 20)) {
        size_t big = (bytes + ((size_t)2 << 20) - 1) & ~(((size_t)2 << 20) - 1);
        p = aligned_alloc((size_t)2 << 20, big);
        if (p)
            madvise(p, big, MADV_HUGEPAGE);
        return p;
    }
#endif
    p = aligned_alloc(64, bytes);
    return p;
}

double wp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int wp_parse_double(const char *s, double *out)
{
    /* Locale-free (strtod reads "0.1" as 0 under a German locale). */
    const char *p = s;
    int neg = 0, digits = 0, exp10 = 0;
    double v = 0.0;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    for (; *p >= '0' && *p <= '9'; p++, digits++)
        v = v * 10.0 + (*p - '0');
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++, digits++, exp10--)
            v = v * 10.0 + (*p - '0');
    if (!digits)
        return -1;
    if (*p == 'e' || *p == 'E') {
        int eneg = 0, e = 0, ed = 0;
        p++;
        if (*p == '-' || *p == '+')
            eneg = *p++ == '-';
        for (; *p >= '0' && *p <= '9'; p++, ed++)
            if (e < 10000)
                e = e * 10 + (*p - '0');
        if (!ed)
            return -1;
        exp10 += eneg ? -e : e;
    }
    if (*p)
        return -1;
    *out = (neg ? -v : v) * pow(10.0, exp10);
    return 0;
}

static int float_cmp(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

double wp_median_sort(float *v, size_t n)
{
    qsort(v, n, sizeof(float), float_cmp);
    return n % 2 ? v[n / 2] : 0.5 * ((double)v[n / 2 - 1] + v[n / 2]);
}

static void swapf(float *a, float *b)
{
    float t = *a;
    *a = *b;
    *b = t;
}

/* Hoare selection: moves the k-th smallest of v[lo..hi] to v[k], the
 * smaller ones before it and the larger after.  The pivot is the median
 * of three; a range that shrinks too slowly (adversarial input) is sorted. */
static void select_kth(float *v, size_t lo, size_t hi, size_t k)
{
    int budget = 64;
    while (hi > lo) {
        if (hi - lo < 16 || --budget < 0) {
            qsort(v + lo, hi - lo + 1, sizeof(float), float_cmp);
            return;
        }
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < v[lo])
            swapf(v + mid, v + lo);
        if (v[hi] < v[lo])
            swapf(v + hi, v + lo);
        if (v[hi] < v[mid])
            swapf(v + hi, v + mid);
        float pivot = v[mid];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                swapf(v + i, v + j);
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        /* now v[lo..j] <= pivot <= v[i..hi], and v[j+1..i-1] == pivot */
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return;
    }
}

double wp_median(float *v, size_t n)
{
    size_t k = n / 2;
    select_kth(v, 0, n - 1, k);
    if (n % 2)
        return v[k];
    float below = v[0]; /* the largest of v[0..k-1], all <= v[k] */
    for (size_t i = 1; i < k; i++)
        below = v[i] > below ? v[i] : below;
    return 0.5 * ((double)below + v[k]);
}

/* Rows of the orthonormal basis; its inverse is its transpose. */
static const float opponent[3][3] = {
    {0.57735027f, 0.57735027f, 0.57735027f},
    {0.70710678f, 0.0f, -0.70710678f},
    {0.40824829f, -0.81649658f, 0.40824829f},
};

const float (*wp_opponent_basis(void))[3] { return opponent; }

void wp_opponent_channel(const float *rgb, size_t n, int k, float *dst)
{
    const float *m = opponent[k], lift = k ? WP_OPPONENT_LIFT : 0.0f;
    for (size_t i = 0; i < n; i++)
        dst[i] = m[0] * rgb[i] + m[1] * rgb[n + i] + m[2] * rgb[2 * n + i] + lift;
}

void wp_opponent_to_rgb(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float a = x[i], b = x[n + i] - WP_OPPONENT_LIFT, c = x[2 * n + i] - WP_OPPONENT_LIFT;
        for (int k = 0; k < 3; k++)
            x[k * n + i] = opponent[0][k] * a + opponent[1][k] * b + opponent[2][k] * c;
    }
}

/* ---- the square's symmetries (ensembles of passes) ---- */

int wp_dihedral_pass(int e)
{
    static const int order[8] = {0, 3, 5, 6, 1, 2, 4, 7}; /* rotations first */
    return order[e % 8];
}

/* Where pixel (i,j) of the image [H,W] seen through symmetry k comes from. */
static size_t dihedral_source(int k, int H, int W, int i, int j)
{
    int u = k & 4 ? j : i, v = k & 4 ? i : j;
    if (k & 2)
        u = H - 1 - u;
    if (k & 1)
        v = W - 1 - v;
    return (size_t)u * W + v;
}

void wp_dihedral_shift(const float *x, int H, int W, int k, int dy, int dx, float *y)
{
    int Hk = k & 4 ? W : H, Wk = k & 4 ? H : W, Ws = Wk + dx;
    for (int i = 0; i < Hk + dy; i++)
        for (int j = 0; j < Ws; j++) {
            int u = i - dy < 0 ? 0 : i - dy, v = j - dx < 0 ? 0 : j - dx;
            y[(size_t)i * Ws + j] = x[dihedral_source(k, H, W, u, v)];
        }
}

void wp_dihedral_shift_add_back(const float *y, int H, int W, int k, int dy, int dx, float *x)
{
    int Hk = k & 4 ? W : H, Wk = k & 4 ? H : W, Ws = Wk + dx;
    for (int i = 0; i < Hk; i++)
        for (int j = 0; j < Wk; j++)
            x[dihedral_source(k, H, W, i, j)] += y[(size_t)(i + dy) * Ws + j + dx];
}
