/* cmd_upscale.c: `wprior upscale [-m MODEL] [-f 2|4|8] [--mode fast|sharp]
 * [--ensemble N] [--seed N] INPUT OUTPUT`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"

static int upscale_usage(FILE *f)
{
    fprintf(f, "usage: wprior upscale [-m MODEL] [-f 2|4|8] [--mode fast|sharp] [options] INPUT OUTPUT\n"
               "Super-resolution with the prior's conditional networks: the input is the\n"
               "low-pass image, the details of each finer level are drawn from the prior;\n"
               "the output's factor x factor block means equal the input.\n"
               "  -m MODEL           model file (default: $WPRIOR_MODEL, then the shipped\n"
               "                     " WP_MODEL_COLOUR_UPSCALE " for colour images, " WP_MODEL_GRAY "\n"
               "                     for gray ones); a bare name is a shipped model\n"
               "  -f, --factor F     %s (default %d)\n"
               "  --mode fast|sharp  fast: few steps, faithful (default); sharp: a real sample\n"
               "  --ensemble N       1..%d: the mean of N passes over the image turned and\n"
               "                     mirrored; fast mode: closer to the posterior mean, N\n"
               "                     times slower  [1]\n%s%s",
            cli_factors(), WP_FACTOR_DEFAULT, WP_UPSCALE_PASSES_MAX, cli_job_usage(),
            cli_sampler_usage());
    return f == stdout ? 0 : 2;
}

/* Alpha (if any) is enlarged by pixel replication: it stays as it was. */
static void copy_alpha(const wp_image *src, wp_image *dst, int f)
{
    if (src->channels != 2 && src->channels != 4)
        return;
    int a = src->channels - 1;
    for (int i = 0; i < dst->height; i++)
        for (int j = 0; j < dst->width; j++)
            dst->pixels[((size_t)i * dst->width + j) * dst->channels + a] =
                src->pixels[((size_t)(i / f) * src->width + j / f) * src->channels + a];
}

int cmd_upscale(int argc, char **argv)
{
    const char *pos[2] = {0};
    int npos = 0;
    wp_upscale_options u = {0};
    u.factor = WP_FACTOR_DEFAULT;
    u.mode = WP_UPSCALE_FAST;
    cli_job job;
    cli_job_init(&job, "upscale");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = cli_job_option(&job, argc, argv, &i);
        if (r == CLI_OPT_ERROR)
            return 2;
        if (r == CLI_OPT_HELP)
            return upscale_usage(stdout);
        if (r == CLI_OPT_TAKEN)
            continue;
        if (!strcmp(a, "-f") || !strcmp(a, "--factor")) {
            const char *v = cli_value(argc, argv, &i);
            long f;
            if (!v)
                return 2;
            if (cli_parse_int(v, "--factor", WP_FACTOR_MIN, WP_FACTOR_MAX, &f) || (f & (f - 1)))
                return cli_error("--factor is %s", cli_factors()) + 1;
            u.factor = (int)f;
        } else if (!strcmp(a, "--mode")) {
            static const char *const modes[] = {"fast", "sharp"};
            const char *m = cli_value(argc, argv, &i);
            int k = m ? cli_choice("--mode", m, modes, 2) : -1;
            if (k < 0)
                return 2;
            u.mode = k == 0 ? WP_UPSCALE_FAST : WP_UPSCALE_SHARP;
        } else if (!strcmp(a, "--ensemble")) {
            const char *v = cli_value(argc, argv, &i);
            long n;
            if (!v || cli_parse_int(v, a, 1, WP_UPSCALE_PASSES_MAX, &n))
                return 2;
            u.passes = (int)n;
        } else if (cli_positional(a, pos, &npos, 2)) {
            return upscale_usage(stderr);
        }
    }
    if (npos != 2)
        return cli_missing("upscale", npos, (const char *const[]){"INPUT", "OUTPUT"}, 2);
    u.seed = job.seed;
    u.sampler = job.sampler;
    cli_input in;
    if (cli_input_open(&in, job.model, pos[0], &job, WP_MODEL_COLOUR_UPSCALE ".safetensors"))
        return 1;
    char err[WP_ERRLEN];
    int rc = 1, f = u.factor;
    wp_image out = {0};
    float *planar = NULL;
    if ((long)in.img.width * f > (1 << 20) || (long)in.img.height * f > (1 << 20)) {
        cli_error("%s: %dx%d upscaled x%d is too large", pos[0], in.img.width, in.img.height, f);
        goto done;
    }
    if (wp_image_alloc(&out, in.img.width * f, in.img.height * f, in.img.channels,
                       in.img.bit_depth, err, sizeof err)) {
        cli_error("%s", err);
        goto done;
    }
    planar = malloc(sizeof(float) * (size_t)in.C * out.width * out.height);
    if (!planar) {
        cli_error("out of memory");
        goto done;
    }
    cli_job_start(&job);
    wp_status st = wp_upscale(in.prior, in.planar, in.C, in.img.height, in.img.width, planar, &u,
                              &job.run, err);
    double t = cli_job_finish(&job);
    if (st) {
        cli_error("%s: %s", pos[0], err);
        goto done;
    }
    cli_from_planar(&out, planar);
    copy_alpha(&in.img, &out, f);
    if (wp_image_write_png(pos[1], &out, err, sizeof err)) {
        cli_error("%s", err);
        goto done;
    }
    fprintf(stderr, "upscaled %dx%d to %dx%d (x%d, %s) in %.2f s\n", in.img.width, in.img.height,
            out.width, out.height, f, u.mode == WP_UPSCALE_FAST ? "fast" : "sharp", t);
    rc = 0;
done:
    free(planar);
    wp_image_free(&out);
    cli_input_close(&in);
    return rc;
}
