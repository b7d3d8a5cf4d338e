/* wp_haar.h: the orthogonal-up-to-scale Haar pyramid of the reference.
 * One level of a [C,H,W] low-pass L (H, W even) gives, per 2x2 block
 * a b / c d: low=(a+b+c+d)/4, cH=(a+b-c-d)/4, cV=(a-b+c-d)/4,
 * cD=(a-b-c+d)/4.  Details are stored [3C,h,w]: all cH, then cV, then cD,
 * so that [low, details] is the 4C-channel input of a conditional net. */
#ifndef WP_HAAR_H
#define WP_HAAR_H

#include "wprior.h"

#define WP_MAX_LEVELS 12

void wp_haar_forward(const float *in, int C, int H, int W, float *low, float *det);
void wp_haar_inverse(const float *low, const float *det, int C, int h, int w, float *out);

/* A smooth x2 upscale of a low-pass [C,h,w] to out [C,2h,2w]: Catmull-Rom
 * cubic at the Haar samples (a quarter pixel either side of each coarse
 * centre), mirror borders.  tmp holds [C,h,2w]. */
void wp_haar_cubic2(const float *low, int C, int h, int w, float *out, float *tmp);
/* The same made (nearly) consistent with the Haar low-pass: iters rounds of
 * back-projection on the coefficients (coef [C,h,w]) so that out's 2x2
 * block means approach low without the blocky correction a direct
 * projection would add. */
void wp_haar_smooth_up(const float *low, int C, int h, int w, int iters, float *out,
                       float *coef, float *tmp);

/* Smallest multiple of 2^J that is >= n. */
int wp_pad_size(int n, int J);
/* Symmetric (half-sample) reflection: out[C,Hp,Wp] from in[C,H,W], works
 * for any padding, even wider than the image. */
void wp_pad_reflect(const float *in, int C, int H, int W, float *out, int Hp, int Wp);
void wp_crop(const float *in, int C, int Hp, int Wp, float *out, int H, int W);

typedef struct {
    int C, J, H, W, Hp, Wp;
    float *low;                /* coarsest low-pass [C, Hp>>J, Wp>>J] */
    float *det[WP_MAX_LEVELS]; /* level j details [3C, Hp>>(j+1), Wp>>(j+1)] */
    float *big, *small;        /* low-pass ping-pong: levels 0,2,4.. in big (a padded
                                  plane), 1,3,.. in small (a quarter plane) */
    float *buf;                /* owns everything: about 2.25 padded planes */
} wp_pyramid;

/* Bytes wp_pyramid_forward allocates for such an image (0 on overflow). */
size_t wp_pyramid_bytes(int C, int H, int W, int J);
/* Pads img to multiples of 2^J and decomposes it (J >= 0). */
wp_status wp_pyramid_forward(wp_pyramid *p, const float *img, int C, int H, int W, int J,
                             char *err);
/* Low-pass buffer of level j (0 = the padded image). */
float *wp_pyramid_low_buffer(const wp_pyramid *p, int j);
/* Rebuilds the image [C,H,W] (cropped back) from p's (possibly modified)
 * low-pass and details; overwrites the low-pass buffers. */
void wp_pyramid_inverse(wp_pyramid *p, float *img);
void wp_pyramid_free(wp_pyramid *p);

#endif
