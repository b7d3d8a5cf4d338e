/* wp_mask: fixed masks for the inpainting tests and bench (8-bit gray PNG,
 * 255 = a pixel to fill).  Usage: wp_mask OUT.png WIDTH HEIGHT KIND SEED
 * KIND: random:F     a fraction F of the pixels, drawn independently
 *       square:N     an N x N hole at a place set by SEED (inside the image)
 *       scribble:K   K thin strokes (2..5 px wide, random walks with momentum)
 *       rect:X,Y,W,H that rectangle (clipped to the image)
 *       none         no pixel (an empty mask)
 * The same arguments always give the same mask. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_io.h"

static unsigned long long state;
static double uniform(void)
{
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(state >> 11) / 9007199254740992.0;
}

static void disc(wp_image *m, double cx, double cy, double r)
{
    for (int i = (int)floor(cy - r); i <= (int)ceil(cy + r); i++)
        for (int j = (int)floor(cx - r); j <= (int)ceil(cx + r); j++)
            if (i >= 0 && i < m->height && j >= 0 && j < m->width &&
                (i + 0.5 - cy) * (i + 0.5 - cy) + (j + 0.5 - cx) * (j + 0.5 - cx) <= r * r)
                m->pixels[(size_t)i * m->width + j] = 1.0f;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: wp_mask OUT.png WIDTH HEIGHT KIND SEED\n");
        return 2;
    }
    int W = atoi(argv[2]), H = atoi(argv[3]);
    const char *kind = argv[4];
    state = (unsigned long long)atoll(argv[5]) * 2654435761ULL + 12345;
    wp_image m;
    char err[512];
    if (wp_image_alloc(&m, W, H, 1, 8, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double f;
    int n, x, y, w, h;
    if (sscanf(kind, "random:%lf", &f) == 1) {
        for (size_t i = 0; i < (size_t)W * H; i++)
            m.pixels[i] = uniform() < f ? 1.0f : 0.0f;
    } else if (sscanf(kind, "square:%d", &n) == 1 && n <= W && n <= H) {
        int x0 = (int)(uniform() * (W - n + 1)), y0 = (int)(uniform() * (H - n + 1));
        for (int i = y0; i < y0 + n; i++)
            for (int j = x0; j < x0 + n; j++)
                m.pixels[(size_t)i * W + j] = 1.0f;
    } else if (sscanf(kind, "rect:%d,%d,%d,%d", &x, &y, &w, &h) == 4) {
        for (int i = y < 0 ? 0 : y; i < y + h && i < H; i++)
            for (int j = x < 0 ? 0 : x; j < x + w && j < W; j++)
                m.pixels[(size_t)i * W + j] = 1.0f;
    } else if (sscanf(kind, "scribble:%d", &n) == 1) {
        for (int k = 0; k < n; k++) {
            double cx = uniform() * W, cy = uniform() * H, a = uniform() * 2 * M_PI;
            double r = 1.0 + 1.5 * uniform(), len = (0.3 + 0.5 * uniform()) * (W + H) / 2;
            for (double s = 0; s < len; s += 0.5) {
                disc(&m, cx, cy, r);
                a += (uniform() - 0.5) * 0.15;
                cx += 0.5 * cos(a), cy += 0.5 * sin(a);
            }
        }
    } else if (strcmp(kind, "none")) {
        fprintf(stderr, "wp_mask: unknown kind '%s'\n", kind);
        return 2;
    }
    int rc = wp_image_write_png(argv[1], &m, err, sizeof err);
    if (rc)
        fprintf(stderr, "%s\n", err);
    wp_image_free(&m);
    return rc ? 1 : 0;
}
