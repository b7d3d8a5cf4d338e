/* wp_synth: synthetic test images for the training tests (no data folder
 * needed).  Usage: wp_synth OUT.png WIDTH HEIGHT CHANNELS SEED [DEPTH]
 * (DEPTH 8, the default, or 16)
 * Smooth shading, a disc, stripes and a little texture, all set by SEED. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "image_io.h"

int main(int argc, char **argv)
{
    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: wp_synth OUT.png WIDTH HEIGHT CHANNELS SEED [DEPTH]\n");
        return 2;
    }
    int W = atoi(argv[2]), H = atoi(argv[3]), C = atoi(argv[4]), seed = atoi(argv[5]);
    wp_image img;
    char err[512];
    if (wp_image_alloc(&img, W, H, C, argc == 7 ? atoi(argv[6]) : 8, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    unsigned s = (unsigned)seed * 2654435761u + 1;
    double cx = W * (0.3 + 0.05 * (seed % 7)), cy = H * (0.4 + 0.04 * (seed % 5));
    for (int i = 0; i < H; i++)
        for (int j = 0; j < W; j++)
            for (int c = 0; c < C; c++) {
                s = s * 1103515245u + 12345u;
                double v = 0.25 + 0.3 * (i + (seed % 3 + c) * j) / (double)(H + 2 * W);
                if ((i - cy) * (i - cy) + (j - cx) * (j - cx) < H * W / 10.0)
                    v += 0.3;
                if (((j + i / 3 + seed) / (3 + seed % 4)) % 2)
                    v -= 0.12;
                v += 0.04 * sin(0.7 * i + seed) * cos(0.9 * j) + 0.02 * ((s >> 16) / 65536.0);
                img.pixels[((size_t)i * W + j) * C + c] = (float)v;
            }
    int rc = wp_image_write_png(argv[1], &img, err, sizeof err);
    if (rc)
        fprintf(stderr, "%s\n", err);
    wp_image_free(&img);
    return rc ? 1 : 0;
}
