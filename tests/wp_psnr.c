/* wp_psnr: PSNR (peak 1) between two images of the same size, for the
 * CLI tests.  Usage: wp_psnr A B  -> prints the PSNR in dB. */
#include <math.h>
#include <stdio.h>

#include "image_io.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: wp_psnr A B\n");
        return 2;
    }
    wp_image a = {0}, b = {0};
    char err[512];
    if (wp_image_read(argv[1], 0, &a, err, sizeof err) ||
        wp_image_read(argv[2], 0, &b, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (a.width != b.width || a.height != b.height || a.channels != b.channels) {
        fprintf(stderr, "images differ in size or channels\n");
        return 1;
    }
    size_t n = (size_t)a.width * a.height * a.channels;
    double se = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a.pixels[i] - b.pixels[i];
        se += d * d;
    }
    printf("%.4f\n", se > 0 ? 10.0 * log10((double)n / se) : INFINITY);
    wp_image_free(&a);
    wp_image_free(&b);
    return 0;
}
