/* cmd_denoise.c: `wprior denoise [-m MODEL] INPUT OUTPUT`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"

static int denoise_usage(FILE *f)
{
    fprintf(f, "usage: wprior denoise [-m MODEL] INPUT OUTPUT\n"
               "Blind denoising of a PNG or JPEG image; OUTPUT is a PNG at the input's bit\n"
               "depth (alpha kept as it is). A gray prior works on each colour channel.\n");
    return f == stdout ? 0 : 2;
}

int cmd_denoise(int argc, char **argv)
{
    const char *model = NULL, *in = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help"))
            return denoise_usage(stdout);
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (++i >= argc)
                return cli_error("%s needs a value", a) + 1;
            model = argv[i];
        } else if (a[0] == '-' && a[1]) {
            cli_error("unknown option '%s'", a);
            return denoise_usage(stderr);
        } else if (!in) {
            in = a;
        } else if (!out) {
            out = a;
        } else {
            return denoise_usage(stderr);
        }
    }
    if (!in || !out)
        return denoise_usage(stderr);
    wp_prior *p = cli_load_model(model);
    if (!p)
        return 1;
    char err[WP_ERRLEN];
    wp_image img = {0};
    int rc = 1;
    float *planar = NULL;
    if (wp_image_read(in, 0, &img, err, sizeof err)) {
        cli_error("%s", err);
        goto done;
    }
    planar = cli_to_planar(&img);
    if (!planar) {
        cli_error("out of memory");
        goto done;
    }
    int C = cli_colour_channels(&img);
    if (wp_denoise(p, planar, planar, C, img.height, img.width, NULL, NULL, NULL, err)) {
        cli_error("%s: %s", in, err);
        goto done;
    }
    cli_from_planar(&img, planar);
    if (wp_image_write_png(out, &img, err, sizeof err)) {
        cli_error("%s", err);
        goto done;
    }
    rc = 0;
done:
    free(planar);
    wp_image_free(&img);
    wp_prior_free(p);
    return rc;
}
