/* cmd_combine.c: `wprior combine BASE (--den MODEL | --no-den) -o OUT`:
 * puts a trained L-level prior's low-pass net into a J-level prior as its
 * denoising entry net (den, L < J), or removes it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"

static int combine_usage(FILE *f)
{
    fprintf(f, "usage: wprior combine BASE --den MODEL -o OUT\n"
               "       wprior combine BASE --no-den -o OUT\n"
               "--den: the low-pass net of MODEL, a prior of L levels (L below BASE's),\n"
               "becomes BASE's denoising entry net: `wprior denoise` then takes BASE's\n"
               "pyramid down to level L only, denoises its low-pass with that net and the\n"
               "finer levels with BASE's cond{L-1}..cond0.  Upscaling, inpainting and\n"
               "sampling keep BASE's whole pyramid.  --no-den removes the entry net.\n"
               "OUT (which may be BASE) is written via a temporary file and a rename.\n");
    return f == stdout ? 0 : 2;
}

int cmd_combine(int argc, char **argv)
{
    const char *base = NULL, *den = NULL, *outp = NULL;
    int no_den = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help"))
            return combine_usage(stdout);
        if (!strcmp(a, "--no-den")) {
            no_den = 1;
        } else if (!strcmp(a, "--den")) {
            if (!(den = cli_value(argc, argv, &i)))
                return 2;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (!(outp = cli_value(argc, argv, &i)))
                return 2;
        } else if (a[0] == '-' || base) {
            return cli_error("combine: unexpected argument '%s'", a) + 1;
        } else {
            base = a;
        }
    }
    if (!base || !outp || !den == !no_den)
        return combine_usage(stderr);
    wp_prior *p = cli_load_model(base), *src = NULL;
    if (!p || (den && !(src = cli_load_model(den)))) {
        wp_prior_free(p);
        return 1;
    }
    char err[WP_ERRLEN];
    int rc = 0;
    if (wp_prior_set_den(p, src, err) || wp_prior_save(p, outp, err))
        rc = cli_error("%s", err);
    else if (src)
        fprintf(stderr, "wprior: %s: denoising enters at level %d (the low-pass net of %s)\n",
                outp, wp_prior_den_level(p), den);
    else
        fprintf(stderr, "wprior: %s: no denoising entry net\n", outp);
    wp_prior_free(src);
    wp_prior_free(p);
    return rc;
}
