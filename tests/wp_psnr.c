/* wp_psnr: PSNR (peak 1) between two images of the same size, for the
 * CLI tests.  Usage: wp_psnr A B [MASK [--outside]] -> prints the PSNR in
 * dB; with a mask (gray, non-zero = counted), over the masked pixels only
 * (all their channels, alpha included); --outside: over the others.  Equal
 * images print inf. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "image_io.h"

int main(int argc, char **argv)
{
    int outside = argc == 5 && !strcmp(argv[4], "--outside");
    if (argc != 3 && argc != 4 && !outside) {
        fprintf(stderr, "usage: wp_psnr A B [MASK [--outside]]\n");
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
    wp_image m = {0};
    if (argc >= 4 && wp_image_read(argv[3], 0, &m, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (argc >= 4 && (m.width != a.width || m.height != a.height)) {
        fprintf(stderr, "the mask differs in size\n");
        return 1;
    }
    size_t n = 0, px = (size_t)a.width * a.height;
    double se = 0.0;
    for (size_t p = 0; p < px; p++) {
        if (m.pixels && (m.pixels[p * m.channels] > 0) == outside)
            continue;
        for (int c = 0; c < a.channels; c++, n++) {
            double d = (double)a.pixels[p * a.channels + c] - b.pixels[p * a.channels + c];
            se += d * d;
        }
    }
    wp_image_free(&m);
    printf("%.4f\n", se > 0 ? 10.0 * log10((double)n / se) : INFINITY);
    wp_image_free(&a);
    wp_image_free(&b);
    return 0;
}
