/* imgcmp.c: compares two PNG files for the GIMP tests.
 *
 *   imgcmp A B [--channel C] [--inside X Y W H | --outside X Y W H] [--scale F]
 *
 * Prints "max=<largest abs difference> mean=<mean abs difference>" in
 * [0,1] pixel units over the chosen channels and pixels.  With --scale F,
 * B is A upscaled by F: its F x F block means are compared with A (colour)
 * and its alpha with A's pixel under it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_io.h"

typedef struct {
    int channel;       /* -1: all */
    int rect[4];
    int mode;          /* 0 all pixels, 1 inside rect, 2 outside */
    int scale;
} cmp_opts;

static int in_rect(const cmp_opts *o, int x, int y)
{
    int inside = x >= o->rect[0] && y >= o->rect[1] && x < o->rect[0] + o->rect[2] &&
                 y < o->rect[1] + o->rect[3];
    return o->mode == 0 || (o->mode == 1) == inside;
}

/* The value of B compared with A's pixel (x,y), channel c. */
static float b_value(const wp_image *b, const cmp_opts *o, int x, int y, int c, int is_alpha)
{
    int f = o->scale, C = b->channels;
    if (f == 1 || is_alpha)
        return b->pixels[((size_t)y * f * b->width + (size_t)x * f) * C + c];
    double s = 0;
    for (int dy = 0; dy < f; dy++)
        for (int dx = 0; dx < f; dx++)
            s += b->pixels[((size_t)(y * f + dy) * b->width + x * f + dx) * C + c];
    return (float)(s / (f * f));
}

static int parse(int argc, char **argv, cmp_opts *o)
{
    o->channel = -1;
    o->scale = 1;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--channel") && i + 1 < argc) {
            o->channel = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--scale") && i + 1 < argc) {
            o->scale = atoi(argv[++i]);
        } else if ((!strcmp(argv[i], "--inside") || !strcmp(argv[i], "--outside")) && i + 4 < argc) {
            o->mode = !strcmp(argv[i], "--inside") ? 1 : 2;
            for (int k = 0; k < 4; k++)
                o->rect[k] = atoi(argv[i + 1 + k]);
            i += 4;
        } else {
            fprintf(stderr, "imgcmp: bad argument '%s'\n", argv[i]);
            return -1;
        }
    }
    return o->scale >= 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
    cmp_opts o = {0};
    wp_image a = {0}, b = {0};
    char err[512];
    if (argc < 3 || parse(argc, argv, &o))
        return fprintf(stderr, "usage: imgcmp A B [--channel C] [--inside|--outside X Y W H] [--scale F]\n"), 2;
    if (wp_image_read(argv[1], 0, &a, err, sizeof err) || wp_image_read(argv[2], 0, &b, err, sizeof err))
        return fprintf(stderr, "imgcmp: %s\n", err), 2;
    if (a.channels != b.channels || b.width != a.width * o.scale || b.height != a.height * o.scale) {
        fprintf(stderr, "imgcmp: shapes differ: %dx%dx%d vs %dx%dx%d\n", a.width, a.height,
                a.channels, b.width, b.height, b.channels);
        return 1;
    }
    int has_alpha = a.channels == 2 || a.channels == 4;
    double max = 0, sum = 0;
    size_t n = 0;
    for (int y = 0; y < a.height; y++)
        for (int x = 0; x < a.width; x++) {
            if (!in_rect(&o, x, y))
                continue;
            for (int c = 0; c < a.channels; c++) {
                if (o.channel >= 0 && c != o.channel)
                    continue;
                float va = a.pixels[((size_t)y * a.width + x) * a.channels + c];
                float d = b_value(&b, &o, x, y, c, has_alpha && c == a.channels - 1) - va;
                d = d < 0 ? -d : d;
                max = d > max ? d : max;
                sum += d;
                n++;
            }
        }
    printf("max=%.6f mean=%.6f\n", max, n ? sum / n : 0.0);
    wp_image_free(&a);
    wp_image_free(&b);
    return 0;
}
