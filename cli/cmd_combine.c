/* cmd_combine.c: `wprior combine BASE [--den MODEL | --no-den] [--low MODEL]
 * -o OUT`: puts a trained L-level prior's low-pass net into a J-level prior
 * as its denoising entry net (den, L < J), or removes it; or copies
 * another prior's low-pass net in as BASE's own (a start for training). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"

static int combine_usage(FILE *f)
{
    fprintf(f, "usage: wprior combine BASE [--den MODEL | --no-den] [--low MODEL] -o OUT\n"
               "--den: the low-pass net of MODEL, a prior of L levels (L below BASE's),\n"
               "becomes BASE's denoising entry net: `wprior denoise` then takes BASE's\n"
               "pyramid down to level L only, denoises its low-pass with that net and the\n"
               "finer levels with BASE's cond{L-1}..cond0.  Upscaling, inpainting and\n"
               "sampling keep BASE's whole pyramid.  --no-den removes the entry net.\n"
               "--low: the low-pass net of MODEL (a prior of any number of levels)\n"
               "becomes BASE's low-pass net, e.g. as the start of its training\n"
               "(`wprior train --only low --finetune OUT`).\n"
               "OUT (which may be BASE) is written via a temporary file and a rename.\n");
    return f == stdout ? 0 : 2;
}

typedef struct {
    const char *base, *den, *low, *out;
    int no_den;
} combine_args;

/* 0: parsed; otherwise the exit status. */
static int combine_parse(int argc, char **argv, combine_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i], **v = NULL;
        if (!strcmp(s, "--help"))
            return combine_usage(stdout) - 1;
        if (!strcmp(s, "--no-den"))
            a->no_den = 1;
        else if (!strcmp(s, "--den"))
            v = &a->den;
        else if (!strcmp(s, "--low"))
            v = &a->low;
        else if (!strcmp(s, "-o") || !strcmp(s, "--output"))
            v = &a->out;
        else if (s[0] == '-' || a->base)
            return cli_error("combine: unexpected argument '%s'", s) + 1;
        else
            a->base = s;
        if (v && !(*v = cli_value(argc, argv, &i)))
            return 2;
    }
    if (!a->base || !a->out || (a->den && a->no_den) || (!a->den && !a->no_den && !a->low))
        return combine_usage(stderr);
    return 0;
}

/* Loads MODEL (when given) and applies it to p by set(); 0 or an exit status. */
static int combine_apply(wp_prior *p, const char *model,
                         wp_status (*set)(wp_prior *, const wp_prior *, char *))
{
    if (!model)
        return 0;
    wp_prior *src = cli_load_model(model);
    if (!src)
        return 1;
    char err[WP_ERRLEN];
    int rc = set(p, src, err) ? cli_error("%s", err) : 0;
    wp_prior_free(src);
    return rc;
}

int cmd_combine(int argc, char **argv)
{
    combine_args a = {0};
    int rc = combine_parse(argc, argv, &a);
    if (rc)
        return rc < 0 ? 0 : rc;
    wp_prior *p = cli_load_model(a.base);
    if (!p)
        return 1;
    char err[WP_ERRLEN];
    if (a.no_den)
        wp_prior_set_den(p, NULL, err);
    if (!(rc = combine_apply(p, a.den, wp_prior_set_den)) &&
        !(rc = combine_apply(p, a.low, wp_prior_set_low)) && wp_prior_save(p, a.out, err))
        rc = cli_error("%s", err);
    if (!rc && a.den)
        fprintf(stderr, "wprior: %s: denoising enters at level %d (the low-pass net of %s)\n",
                a.out, wp_prior_den_level(p), a.den);
    if (!rc && a.no_den)
        fprintf(stderr, "wprior: %s: no denoising entry net\n", a.out);
    if (!rc && a.low)
        fprintf(stderr, "wprior: %s: the low-pass net of %s\n", a.out, a.low);
    wp_prior_free(p);
    return rc;
}
