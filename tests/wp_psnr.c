/* wp_psnr: PSNR between two images of the same size, for the CLI tests and
 * the benchmarks.
 * Usage: wp_psnr [--y] [--shave N] A B [MASK [--outside]]  -> the PSNR in dB.
 *   default: peak 1; images with the same channels are scored over all of
 *            them (alpha included); a gray image against an RGB one on the
 *            mean of R, G and B (as a gray prior sees it; GEGL writes gray
 *            results as RGB).
 *   --y:     the super-resolution convention: both images rounded to 8 bits,
 *            ITU-R BT.601 luma Y = 16 + 65.481 R + 128.553 G + 24.966 B
 *            (R, G, B in [0,1], a gray value g counts as R = G = B = g),
 *            peak 255.
 *   --shave N: leave N pixels out at each border.
 *   MASK:    (gray, non-zero = counted) only the masked pixels; --outside:
 *            only the others.  Equal images print inf. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_io.h"

static double round8(double v)
{
    return round((v < 0 ? 0 : v > 1 ? 1 : v) * 255.0) / 255.0;
}

/* Pixel i's value in channel c of an image scored as `want` channels: RGB
 * is averaged when gray is wanted, gray repeated when RGB is. */
static double sample(const wp_image *m, size_t i, int c, int want, int y)
{
    const float *p = m->pixels + i * (size_t)m->channels;
    int rgb = m->channels >= 3;
    if (y) {
        double r = round8(p[0]), g = rgb ? round8(p[1]) : r, b = rgb ? round8(p[2]) : r;
        return 16.0 + 65.481 * r + 128.553 * g + 24.966 * b;
    }
    if (want == m->channels)
        return p[c];
    if (want == 1 && rgb)
        return ((double)p[0] + p[1] + p[2]) / 3.0;
    return p[rgb ? c : 0];
}

static int usage(void)
{
    fprintf(stderr, "usage: wp_psnr [--y] [--shave N] A B [MASK [--outside]]\n");
    return 2;
}

int main(int argc, char **argv)
{
    int y = 0, shave = 0, k = 1;
    for (; k < argc && !strncmp(argv[k], "--", 2) && strcmp(argv[k], "--outside"); k++) {
        if (!strcmp(argv[k], "--y"))
            y = 1;
        else if (!strcmp(argv[k], "--shave") && k + 1 < argc)
            shave = atoi(argv[++k]);
        else
            return usage();
    }
    int npos = argc - k, outside = npos == 4 && !strcmp(argv[argc - 1], "--outside");
    if ((npos != 2 && npos != 3 && !outside) || shave < 0)
        return usage();
    wp_image a = {0}, b = {0}, m = {0};
    char err[512];
    int rc = 1;
    if (wp_image_read(argv[k], 0, &a, err, sizeof err) ||
        wp_image_read(argv[k + 1], 0, &b, err, sizeof err) ||
        (npos >= 3 && wp_image_read(argv[k + 2], 0, &m, err, sizeof err))) {
        fprintf(stderr, "%s\n", err);
        goto done;
    }
    if (a.width != b.width || a.height != b.height || 2 * shave >= a.width ||
        2 * shave >= a.height) {
        fprintf(stderr, "images differ in size (or the shave leaves nothing)\n");
        goto done;
    }
    if (m.pixels && (m.width != a.width || m.height != a.height)) {
        fprintf(stderr, "the mask differs in size\n");
        goto done;
    }
    int ca = a.channels >= 3 ? 3 : 1, cb = b.channels >= 3 ? 3 : 1;
    int want = y ? 1 : a.channels == b.channels ? a.channels : ca < cb ? ca : cb;
    double se = 0.0, peak = y ? 255.0 : 1.0;
    size_t n = 0;
    for (int r = shave; r < a.height - shave; r++)
        for (int x = shave; x < a.width - shave; x++) {
            size_t i = (size_t)r * a.width + x;
            if (m.pixels && (m.pixels[i * m.channels] > 0) == outside)
                continue;
            for (int c = 0; c < want; c++, n++) {
                double d = sample(&a, i, c, want, y) - sample(&b, i, c, want, y);
                se += d * d;
            }
        }
    printf("%.4f\n", se > 0 ? 10.0 * log10(peak * peak * (double)n / se) : INFINITY);
    rc = 0;
done:
    wp_image_free(&a);
    wp_image_free(&b);
    wp_image_free(&m);
    return rc;
}
