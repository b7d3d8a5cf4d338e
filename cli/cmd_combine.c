/* cmd_combine.c: `wprior combine BASE [--den MODEL | --no-den] [--den-level L]
 * [--low MODEL] [--cond0 MODEL] [--exemplar IMAGE ... | --no-exemplars] -o OUT`:
 * puts a trained L-level prior's low-pass net (or a flat prior's net, L = 0)
 * into a J-level prior as its denoising entry net (den, L < J), moves it to
 * another level, or removes it; copies another prior's low-pass or finest
 * conditional net in as BASE's own; stores texture exemplars in BASE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"

static int combine_usage(FILE *f)
{
    fprintf(f, "usage: wprior combine BASE [--den MODEL | --no-den] [--den-level L] [--low MODEL]\n"
               "                      [--cond0 MODEL] [--exemplar IMAGE ... | --no-exemplars] -o OUT\n"
               "--den: the low-pass net of MODEL, a prior of L levels (L below BASE's),\n"
               "becomes BASE's denoising entry net: `wprior denoise` then takes BASE's\n"
               "pyramid down to level L only, denoises its low-pass with that net and the\n"
               "finer levels with BASE's cond{L-1}..cond0; the net of a flat MODEL (L 0)\n"
               "denoises the image alone.  Upscaling, inpainting and sampling keep BASE's\n"
               "whole pyramid.  --no-den removes the entry net.\n"
               "--den-level: moves the entry net (BASE's, or the one --den gives) to\n"
               "level L, 0 (the image itself) to J-1: a bias-free net trained on one\n"
               "level's low-pass denoises another's.\n"
               "--low: the low-pass net of MODEL (a prior of any number of levels)\n"
               "becomes BASE's low-pass net, e.g. as the start of its training\n"
               "(`wprior train --only low --finetune OUT`).\n"
               "--cond0: the finest conditional net of MODEL becomes BASE's.\n"
               "--exemplar (up to %d, all of one size, at least %dx%d, BASE's channels):\n"
               "texture exemplars stored in OUT: `wprior sample` without --exemplar\n"
               "then continues exemplar (seed mod their number), as --exemplar does.\n"
               "--no-exemplars removes them.\n"
               "OUT (which may be BASE) is written via a temporary file and a rename.\n",
            WP_EXEMPLARS_MAX, WP_EXEMPLAR_MIN, WP_EXEMPLAR_MIN);
    return f == stdout ? 0 : 2;
}

typedef struct {
    const char *base, *den, *low, *cond0, *out;
    const char *ex[WP_EXEMPLARS_MAX];
    int no_den, den_level, nex, no_ex; /* den_level: -1 unchanged */
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
        else if (!strcmp(s, "--den-level")) {
            const char *l = cli_value(argc, argv, &i);
            long n; /* the prior's own range is checked when it is loaded */
            if (!l || cli_parse_int(l, "--den-level", 0, 16, &n))
                return 2;
            a->den_level = (int)n;
        }
        else if (!strcmp(s, "--low"))
            v = &a->low;
        else if (!strcmp(s, "--cond0"))
            v = &a->cond0;
        else if (!strcmp(s, "--no-exemplars"))
            a->no_ex = 1;
        else if (!strcmp(s, "--exemplar") && a->nex == WP_EXEMPLARS_MAX)
            return cli_error("combine: at most %d exemplars", WP_EXEMPLARS_MAX) + 1;
        else if (!strcmp(s, "--exemplar"))
            v = &a->ex[a->nex++];
        else if (!strcmp(s, "-o") || !strcmp(s, "--output"))
            v = &a->out;
        else if (s[0] == '-' || a->base)
            return cli_error("combine: unexpected argument '%s'", s) + 1;
        else
            a->base = s;
        if (v && !(*v = cli_value(argc, argv, &i)))
            return 2;
    }
    if (!a->base || !a->out || (a->den && a->no_den) || (a->nex && a->no_ex) ||
        (a->no_den && a->den_level >= 0) ||
        (!a->den && !a->no_den && a->den_level < 0 && !a->low && !a->cond0 && !a->nex &&
         !a->no_ex))
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

static wp_status set_cond0(wp_prior *p, const wp_prior *src, char *err)
{
    return wp_prior_set_cond(p, 0, src, err);
}

/* Reads the exemplar images into p (all of one size, p's channels); 0 or
 * an exit status. */
static int set_exemplars(wp_prior *p, const combine_args *a)
{
    int C = wp_prior_channels(p), h = 0, w = 0, rc = 0;
    float *all = NULL;
    char err[WP_ERRLEN];
    if (!a->nex)
        return 0;
    for (int i = 0; i < a->nex && !rc; i++) {
        wp_image img;
        if (wp_image_read(a->ex[i], 0, &img, err, sizeof err))
            return cli_error("%s", err);
        if (cli_colour_channels(&img) != C)
            rc = cli_error("%s: a %s image; the prior is %s", a->ex[i],
                           cli_colour_channels(&img) == 1 ? "gray" : "colour",
                           C == 1 ? "gray" : "colour");
        else if (i > 0 && (img.width != w || img.height != h))
            rc = cli_error("%s is %dx%d, the first exemplar %dx%d: they must be of one size",
                           a->ex[i], img.width, img.height, w, h);
        if (!rc && i == 0) {
            w = img.width, h = img.height;
            if (!(all = malloc(sizeof(float) * (size_t)a->nex * C * w * h)))
                rc = cli_error("out of memory");
        }
        float *one = rc ? NULL : cli_to_planar(&img);
        if (!rc && !one)
            rc = cli_error("out of memory");
        if (!rc)
            memcpy(all + (size_t)i * C * w * h, one, sizeof(float) * (size_t)C * w * h);
        free(one);
        wp_image_free(&img);
    }
    if (!rc && wp_prior_set_exemplars(p, all, a->nex, h, w, err))
        rc = cli_error("%s", err);
    free(all);
    return rc;
}

int cmd_combine(int argc, char **argv)
{
    combine_args a = {.den_level = -1};
    int rc = combine_parse(argc, argv, &a);
    if (rc)
        return rc < 0 ? 0 : rc;
    wp_prior *p = cli_load_model(a.base);
    if (!p)
        return 1;
    char err[WP_ERRLEN];
    if (a.no_den)
        wp_prior_set_den(p, NULL, err);
    if (a.no_ex)
        wp_prior_set_exemplars(p, NULL, 0, 0, 0, err);
    if (!(rc = combine_apply(p, a.den, wp_prior_set_den)) && a.den_level >= 0 &&
        wp_prior_set_den_level(p, a.den_level, err))
        rc = cli_error("%s", err);
    if (!rc && !(rc = combine_apply(p, a.low, wp_prior_set_low)) &&
        !(rc = combine_apply(p, a.cond0, set_cond0)) && !(rc = set_exemplars(p, &a)) &&
        wp_prior_save(p, a.out, err))
        rc = cli_error("%s", err);
    if (!rc && (a.den || a.den_level >= 0))
        fprintf(stderr, "wprior: %s: denoising enters at level %d (the entry net of %s)\n",
                a.out, wp_prior_den_level(p), a.den ? a.den : a.base);
    if (!rc && a.no_den)
        fprintf(stderr, "wprior: %s: no denoising entry net\n", a.out);
    if (!rc && a.low)
        fprintf(stderr, "wprior: %s: the low-pass net of %s\n", a.out, a.low);
    if (!rc && a.cond0)
        fprintf(stderr, "wprior: %s: the finest conditional net of %s\n", a.out, a.cond0);
    if (!rc && (a.nex || a.no_ex))
        fprintf(stderr, "wprior: %s: %d exemplars\n", a.out, a.nex);
    wp_prior_free(p);
    return rc;
}
