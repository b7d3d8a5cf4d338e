/* cmd_sample.c: `wprior sample [-m MODEL] [--size WxH] [--seed N] [--tileable]
 * [--exemplar IMAGE] OUTPUT`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"

static int sample_usage(FILE *f)
{
    fprintf(f, "usage: wprior sample [-m MODEL] [--size WxH] [--seed N] [options] OUTPUT\n"
               "Draws a new image from the prior (coarse to fine); OUTPUT is an 8-bit PNG,\n"
               "or 16-bit with --depth 16.\n"
               "  -m MODEL           model file (default: $WPRIOR_MODEL, then the shipped\n"
               "                     texture prior stone); a bare name (paper) is a\n"
               "                     shipped model\n"
               "  --size WxH         output size (default: the model's own, else %dx%d);\n"
               "                     a multiple of 2^levels\n"
               "  --depth 8|16       PNG bit depth (default 8)\n"
               "  --tileable, --no-tileable\n"
               "                     the sample wraps around seamlessly, or not (default:\n"
               "                     the model's choice; texture priors tile)\n"
               "  --exemplar IMAGE   continue this texture: the layout is quilted from\n"
               "                     the image's patches at half size, the details drawn\n"
               "                     from the prior (default model: the shipped %s for\n"
               "                     colour, %s for gray; a texture prior quilts at the\n"
               "                     size its metadata says); at least %dx%d\n%s%s",
            WP_SAMPLE_SIDE_DEFAULT, WP_SAMPLE_SIDE_DEFAULT, WP_MODEL_COLOUR_EXEMPLAR, WP_MODEL_GRAY,
            WP_EXEMPLAR_MIN, WP_EXEMPLAR_MIN, cli_job_usage(), cli_sampler_usage());
    return f == stdout ? 0 : 2;
}

int cmd_sample(int argc, char **argv)
{
    const char *outp = NULL, *exemplar = NULL;
    int W = 0, H = 0, npos = 0, tileable = 0;
    long depth = 8;
    cli_job job;
    cli_job_init(&job, "sample");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = cli_job_option(&job, argc, argv, &i);
        if (r == CLI_OPT_ERROR)
            return 2;
        if (r == CLI_OPT_HELP)
            return sample_usage(stdout);
        if (r == CLI_OPT_TAKEN)
            continue;
        if (!strcmp(a, "--size")) {
            const char *v = cli_value(argc, argv, &i);
            char tail;
            if (!v)
                return 2;
            if (sscanf(v, "%dx%d%c", &W, &H, &tail) != 2 || W < 1 || H < 1 ||
                W > WP_SAMPLE_SIDE_MAX || H > WP_SAMPLE_SIDE_MAX)
                return cli_error("--size takes WxH with 1..%d each, not '%s'", WP_SAMPLE_SIDE_MAX,
                                 v) + 1;
        } else if (!strcmp(a, "--exemplar")) {
            if (!(exemplar = cli_value(argc, argv, &i)))
                return 2;
        } else if (!strcmp(a, "--tileable")) {
            tileable = 1;
        } else if (!strcmp(a, "--no-tileable")) {
            tileable = -1;
        } else if (!strcmp(a, "--depth")) {
            const char *v = cli_value(argc, argv, &i);
            if (!v)
                return 2;
            if (cli_parse_int(v, "--depth", 8, 16, &depth) || (depth != 8 && depth != 16))
                return cli_error("--depth is 8 or 16") + 1;
        } else if (cli_positional(a, &outp, &npos, 1)) {
            return sample_usage(stderr);
        }
    }
    if (npos != 1)
        return cli_missing("sample", npos, (const char *const[]){"OUTPUT"}, 1);
    cli_input ex = {0};
    wp_prior *p;
    if (exemplar) {
        if (cli_input_open(&ex, job.model, exemplar, &job, WP_MODEL_COLOUR_EXEMPLAR ".safetensors"))
            return 1;
        p = ex.prior, ex.prior = NULL;
    } else if (!(p = cli_load_model_or(job.model, WP_MODEL_SAMPLE ".safetensors"))) {
        return 1;
    }
    char err[WP_ERRLEN];
    int rc = 1, C = wp_prior_channels(p), nw, nh, m;
    wp_prior_sample_size(p, &nw, &nh, &m);
    wp_sample_options so = {0};
    so.width = W ? W : (nw ? nw : WP_SAMPLE_SIDE_DEFAULT);
    so.height = H ? H : (nh ? nh : WP_SAMPLE_SIDE_DEFAULT);
    so.seed = job.seed;
    so.sampler = job.sampler;
    so.tileable = tileable;
    wp_image out = {0};
    float *planar = malloc(sizeof(float) * (size_t)C * so.width * so.height);
    if (!planar) {
        cli_error("out of memory");
        goto done;
    }
    if (exemplar) {
        so.exemplar = ex.planar;
        so.ex_width = ex.img.width;
        so.ex_height = ex.img.height;
        if (ex.C != C) {
            cli_error("%s: a %s model needs a %s exemplar", exemplar, C == 1 ? "gray" : "colour",
                      C == 1 ? "gray" : "colour");
            goto done;
        }
    }
    cli_job_start(&job);
    wp_status st = wp_sample(p, planar, C, &so, &job.run, err);
    double t = cli_job_finish(&job);
    if (st) {
        cli_error("%s", err);
        goto done;
    }
    if (wp_image_alloc(&out, so.width, so.height, C, (int)depth, err, sizeof err)) {
        cli_error("%s", err);
        goto done;
    }
    cli_from_planar(&out, planar);
    if (wp_image_write_png(outp, &out, err, sizeof err)) {
        cli_error("%s", err);
        goto done;
    }
    fprintf(stderr, "sampled %dx%d (seed %llu) in %.2f s: %d iterations, final sigma %.4g\n",
            so.width, so.height, job.seed, t, so.iterations, (double)so.final_sigma);
    rc = 0;
done:
    cli_input_close(&ex);
    free(planar);
    wp_image_free(&out);
    wp_prior_free(p);
    return rc;
}
