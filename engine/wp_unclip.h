/* wp_unclip.h: clipping-bias correction of denoised planes (unclip.c). */
#ifndef WP_UNCLIP_H
#define WP_UNCLIP_H

/* m(x) = E[clip(x + n, 0, 1)] for n ~ N(0, s^2); x itself when s <= 0. */
double wp_clipped_mean(double x, double s);

/* The noise sigma of a clipped noisy plane [H,W], from the blocks whose
 * denoised value is away from 0 and 1; scratch holds H/2 * W/2 floats.
 * 0 when the plane is too small to tell. */
double wp_unclip_sigma(const float *noisy, const float *den, int H, int W, float *scratch);

/* den [H,W] (the denoised plane of noisy [H,W]) <- m^-1(den) in [0,1],
 * with m for the sigma estimated as above (written to sigma_out when not
 * NULL).  0, or -1 when out of memory (den unchanged). */
int wp_unclip_plane(float *den, const float *noisy, int H, int W, double *sigma_out);

#endif
