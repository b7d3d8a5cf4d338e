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
    float *buf;                /* owns everything */
    float *tmp;                /* two padded-size planes for the inverse */
} wp_pyramid;

/* Pads img to multiples of 2^J and decomposes it (J >= 0). */
wp_status wp_pyramid_forward(wp_pyramid *p, const float *img, int C, int H, int W, int J,
                             char *err);
/* Rebuilds the image [C,H,W] (cropped back) from p's (possibly modified)
 * low-pass and details. */
void wp_pyramid_inverse(wp_pyramid *p, float *img);
void wp_pyramid_free(wp_pyramid *p);

#endif
