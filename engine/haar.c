/* haar.c: Haar pyramid forward/inverse, reflection padding. */
#include "wp_haar.h"

#include <stdlib.h>
#include <string.h>

#include "wp_util.h"

void wp_haar_forward(const float *in, int C, int H, int W, float *low, float *det)
{
    int h = H / 2, w = W / 2;
    size_t hw = (size_t)h * w;
    for (int c = 0; c < C; c++) {
        const float *x = in + (size_t)c * H * W;
        float *lo = low + c * hw, *cH = det + c * hw, *cV = det + (C + c) * hw,
              *cD = det + (2 * C + c) * hw;
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                float a = x[(size_t)(2 * i) * W + 2 * j], b = x[(size_t)(2 * i) * W + 2 * j + 1];
                float cc = x[(size_t)(2 * i + 1) * W + 2 * j],
                      d = x[(size_t)(2 * i + 1) * W + 2 * j + 1];
                size_t o = (size_t)i * w + j;
                lo[o] = (a + b + cc + d) / 4;
                cH[o] = (a + b - cc - d) / 4;
                cV[o] = (a - b + cc - d) / 4;
                cD[o] = (a - b - cc + d) / 4;
            }
    }
}

void wp_haar_inverse(const float *low, const float *det, int C, int h, int w, float *out)
{
    size_t hw = (size_t)h * w;
    int W = 2 * w;
    for (int c = 0; c < C; c++) {
        float *x = out + (size_t)c * 4 * hw;
        const float *lo = low + c * hw, *cH = det + c * hw, *cV = det + (C + c) * hw,
                    *cD = det + (2 * C + c) * hw;
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                size_t o = (size_t)i * w + j;
                float l = lo[o], H_ = cH[o], V = cV[o], D = cD[o];
                x[(size_t)(2 * i) * W + 2 * j] = l + H_ + V + D;
                x[(size_t)(2 * i) * W + 2 * j + 1] = l + H_ - V - D;
                x[(size_t)(2 * i + 1) * W + 2 * j] = l - H_ + V - D;
                x[(size_t)(2 * i + 1) * W + 2 * j + 1] = l - H_ - V + D;
            }
    }
}

int wp_pad_size(int n, int J)
{
    int m = 1 << J;
    return (n + m - 1) / m * m;
}

/* Index into [0,n) of position i under symmetric reflection (period 2n). */
static int reflect(int i, int n)
{
    int p = 2 * n;
    i %= p;
    if (i < 0)
        i += p;
    return i < n ? i : p - 1 - i;
}

void wp_pad_reflect(const float *in, int C, int H, int W, float *out, int Hp, int Wp)
{
    for (int c = 0; c < C; c++)
        for (int i = 0; i < Hp; i++) {
            const float *src = in + ((size_t)c * H + reflect(i, H)) * W;
            float *dst = out + ((size_t)c * Hp + i) * Wp;
            memcpy(dst, src, sizeof(float) * (size_t)(W < Wp ? W : Wp));
            for (int j = W; j < Wp; j++)
                dst[j] = src[reflect(j, W)];
        }
}

void wp_crop(const float *in, int C, int Hp, int Wp, float *out, int H, int W)
{
    for (int c = 0; c < C; c++)
        for (int i = 0; i < H; i++)
            memmove(out + ((size_t)c * H + i) * W, in + ((size_t)c * Hp + i) * Wp,
                    sizeof(float) * (size_t)W);
}

size_t wp_pyramid_bytes(int C, int H, int W, int J)
{
    size_t plane, total;
    if (C < 1 || H < 1 || W < 1 || J < 0 || J >= WP_MAX_LEVELS)
        return 0;
    if (!wp_mul_ok((size_t)C, (size_t)wp_pad_size(H, J), &plane) ||
        !wp_mul_ok(plane, (size_t)wp_pad_size(W, J), &plane))
        return 0;
    /* details (< 1 plane) + big (1) + small (1/4) */
    if (!wp_mul_ok(plane, 9, &total))
        return 0;
    return total / 4 * sizeof(float) + 64 * sizeof(float);
}

float *wp_pyramid_low_buffer(const wp_pyramid *p, int j)
{
    return j % 2 ? p->small : p->big;
}

wp_status wp_pyramid_forward(wp_pyramid *p, const float *img, int C, int H, int W, int J,
                             char *err)
{
    memset(p, 0, sizeof *p);
    if (C < 1 || H < 1 || W < 1 || J < 0 || J >= WP_MAX_LEVELS)
        return wp_fail(err, WP_ERR_ARG, "pyramid of %dx%dx%d with %d levels", C, H, W, J);
    if (H > (1 << 20) || W > (1 << 20))
        return wp_fail(err, WP_ERR_ARG, "image of %dx%d is too large", W, H);
    size_t bytes = wp_pyramid_bytes(C, H, W, J);
    if (!bytes)
        return wp_fail(err, WP_ERR_NOMEM, "image too large");
    p->C = C, p->J = J, p->H = H, p->W = W;
    p->Hp = wp_pad_size(H, J);
    p->Wp = wp_pad_size(W, J);
    size_t plane = (size_t)C * p->Hp * p->Wp;
    p->buf = wp_alloc(bytes);
    if (!p->buf)
        return wp_fail(err, WP_ERR_NOMEM, "out of memory for a %dx%d pyramid", p->Wp, p->Hp);
    p->big = p->buf;
    p->small = p->buf + plane;
    float *det = p->small + plane / 4 + 16;
    wp_pad_reflect(img, C, H, W, p->big, p->Hp, p->Wp);
    int h = p->Hp, w = p->Wp;
    for (int j = 0; j < J; j++) {
        p->det[j] = det;
        wp_haar_forward(wp_pyramid_low_buffer(p, j), C, h, w, wp_pyramid_low_buffer(p, j + 1),
                        det);
        h /= 2, w /= 2;
        det += (size_t)3 * C * h * w;
    }
    p->low = wp_pyramid_low_buffer(p, J);
    return WP_OK;
}

void wp_pyramid_inverse(wp_pyramid *p, float *img)
{
    int C = p->C, h = p->Hp >> p->J, w = p->Wp >> p->J;
    for (int j = p->J - 1; j >= 0; j--) {
        wp_haar_inverse(wp_pyramid_low_buffer(p, j + 1), p->det[j], C, h, w,
                        wp_pyramid_low_buffer(p, j));
        h *= 2, w *= 2;
    }
    wp_crop(p->big, C, p->Hp, p->Wp, img, p->H, p->W);
}

void wp_pyramid_free(wp_pyramid *p)
{
    free(p->buf);
    memset(p, 0, sizeof *p);
}

/* Catmull-Rom weights of the taps i-1, i, i+1, i+2 for the fine sample a
 * quarter of a coarse pixel after coarse sample i (the fine samples of a 2x
 * upscale sit at -1/4 and +1/4 of each coarse pixel; the one before uses
 * them mirrored). */
static const float cr_quarter[4] = {-0.0703125f, 0.8671875f, 0.2265625f, -0.0234375f};

/* Half-sample reflection of index i into [0,n). */
static int mirror(int i, int n)
{
    while (i < 0 || i >= n)
        i = i < 0 ? -1 - i : 2 * n - 1 - i;
    return i;
}

/* One 1-D x2 upscale along a line of n samples with stride s_in, written
 * with stride s_out. */
static void cubic2_line(const float *in, int n, size_t s_in, float *out, size_t s_out)
{
    const float *q = cr_quarter;
    for (int i = 0; i < n; i++) {
        float a = in[(size_t)mirror(i - 2, n) * s_in], b = in[(size_t)mirror(i - 1, n) * s_in],
              c = in[(size_t)i * s_in], d = in[(size_t)mirror(i + 1, n) * s_in],
              e = in[(size_t)mirror(i + 2, n) * s_in];
        out[(size_t)(2 * i) * s_out] = q[3] * a + q[2] * b + q[1] * c + q[0] * d;
        out[(size_t)(2 * i + 1) * s_out] = q[0] * b + q[1] * c + q[2] * d + q[3] * e;
    }
}

void wp_haar_cubic2(const float *low, int C, int h, int w, float *out, float *tmp)
{
    for (int c = 0; c < C; c++) {
        const float *l = low + (size_t)c * h * w;
        float *t = tmp + (size_t)c * h * 2 * w, *o = out + (size_t)c * 4 * h * w;
        for (int i = 0; i < h; i++)
            cubic2_line(l + (size_t)i * w, w, 1, t + (size_t)i * 2 * w, 1);
        for (int j = 0; j < 2 * w; j++)
            cubic2_line(t + j, h, (size_t)2 * w, o + j, (size_t)2 * w);
    }
}

void wp_haar_smooth_up(const float *low, int C, int h, int w, int iters, float *out,
                       float *coef, float *tmp)
{
    size_t hw = (size_t)h * w;
    memcpy(coef, low, sizeof(float) * C * hw);
    for (int it = 0;; it++) {
        wp_haar_cubic2(coef, C, h, w, out, tmp);
        if (it == iters)
            break;
        /* back-projection: move the coefficients by the block means' error */
        for (int c = 0; c < C; c++)
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++) {
                    const float *x = out + (size_t)c * 4 * hw + (size_t)(2 * i) * 2 * w + 2 * j;
                    float m = (x[0] + x[1] + x[2 * w] + x[2 * w + 1]) / 4;
                    size_t o = (size_t)c * hw + (size_t)i * w + j;
                    coef[o] += low[o] - m;
                }
    }
}
