/* cmd_denoise.c: `wprior denoise [-m MODEL] [--strength S] INPUT OUTPUT`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"

static int denoise_usage(FILE *f)
{
    fprintf(f, "usage: wprior denoise [-m MODEL] [--strength S] [options] INPUT OUTPUT\n"
               "Blind denoising of a PNG or JPEG image; OUTPUT is a PNG at the input's bit\n"
               "depth (alpha kept as it is).  A gray prior denoises a colour image in an\n"
               "opponent basis: luma and two colour differences.\n"
               "  -m MODEL           model file (default: $WPRIOR_MODEL, then the shipped\n"
               "                     " WP_MODEL_COLOUR_DENOISE " for colour images, " WP_MODEL_GRAY "\n"
               "                     for gray ones); a bare name is a shipped model\n"
               "  --strength S       %g..%g, blend of input (0) and result (1); default %g\n"
               "  --no-unclip        keep the bias that clipping to black and white gave the\n"
               "                     noise (by default the result is corrected for it)\n"
               "  --ensemble N       1..%d: the mean of N passes over the image moved by a\n"
               "                     pixel (4 ways; not for a den on the image itself),\n"
               "                     then turned and mirrored; N times slower (4 passes\n"
               "                     of the shipped photo priors: +0.1 dB)  [%d]\n"
               "  --fast             a prior that denoises with a pixel-domain net runs it\n"
               "                     on the half-size low-pass instead, cond0 above it:\n"
               "                     2.5-3 times faster, up to 1.9 dB lower (low noise)\n"
               "  --blend            such a prior runs both and blends them by the noise\n"
               "                     level: better at high noise (0.1-0.5 dB at sigma\n"
               "                     50), up to 1.5 times slower\n"
               "  --wiener, --no-wiener  run or skip the collaborative Wiener stage after\n"
               "                     the networks (BM3D's second stage, their result as\n"
               "                     its pilot: 0.1-1.3 dB on photographs, about 1.3 s\n"
               "                     per megapixel); by default on up to %d megapixels and\n"
               "                     with --blend, off with --fast\n%s",
            WP_STRENGTH_MIN, WP_STRENGTH_MAX, WP_STRENGTH_DEFAULT, WP_ENSEMBLE_MAX,
            WP_ENSEMBLE_DEFAULT, WP_WIENER_AUTO_PIXELS >> 20, cli_job_usage());
    return f == stdout ? 0 : 2;
}

int cmd_denoise(int argc, char **argv)
{
    const char *pos[2] = {0};
    int npos = 0;
    wp_denoise_options dopt = {
        .strength = WP_STRENGTH_DEFAULT, .clipped = 1, .ensemble = WP_ENSEMBLE_DEFAULT};
    cli_job job;
    cli_job_init(&job, "denoise");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = cli_job_option(&job, argc, argv, &i);
        if (r == CLI_OPT_ERROR)
            return 2;
        if (r == CLI_OPT_HELP)
            return denoise_usage(stdout);
        if (r == CLI_OPT_TAKEN)
            continue;
        if (!strcmp(a, "--no-unclip")) {
            dopt.clipped = 0;
        } else if (!strcmp(a, "--fast")) {
            dopt.fast = 1;
        } else if (!strcmp(a, "--blend")) {
            dopt.blend = 1;
        } else if (!strcmp(a, "--no-wiener")) {
            dopt.wiener = WP_WIENER_OFF;
        } else if (!strcmp(a, "--wiener")) {
            dopt.wiener = WP_WIENER_ON;
        } else if (!strcmp(a, "--ensemble")) {
            const char *v = cli_value(argc, argv, &i);
            long n;
            if (!v || cli_parse_int(v, a, 1, WP_ENSEMBLE_MAX, &n))
                return 2;
            dopt.ensemble = (int)n;
        } else if (!strcmp(a, "--strength")) {
            const char *v = cli_value(argc, argv, &i);
            char *end;
            if (!v)
                return 2;
            dopt.strength = strtof(v, &end);
            if (*end || end == v ||
                !(dopt.strength >= WP_STRENGTH_MIN && dopt.strength <= WP_STRENGTH_MAX))
                return cli_error("--strength must be a number in [%g,%g], not '%s'",
                                 WP_STRENGTH_MIN, WP_STRENGTH_MAX, v) + 1;
        } else if (cli_positional(a, pos, &npos, 2)) {
            return denoise_usage(stderr);
        }
    }
    if (npos != 2)
        return cli_missing("denoise", npos, (const char *const[]){"INPUT", "OUTPUT"}, 2);
    if (dopt.fast && dopt.blend)
        return cli_error("--fast and --blend exclude each other") + 1;
    cli_input in;
    if (cli_input_open(&in, job.model, pos[0], &job, WP_MODEL_COLOUR_DENOISE ".safetensors"))
        return 1;
    char err[WP_ERRLEN];
    float sigma = 0;
    cli_job_start(&job);
    wp_status st = wp_denoise(in.prior, in.planar, in.planar, in.C, in.img.height, in.img.width,
                              &dopt, &job.run, &sigma, err);
    double t = cli_job_finish(&job);
    int rc = 1;
    if (st) {
        cli_error("%s: %s", pos[0], err);
    } else {
        cli_from_planar(&in.img, in.planar);
        if (wp_image_write_png(pos[1], &in.img, err, sizeof err) == 0) {
            fprintf(stderr, "denoised %dx%d in %.2f s; estimated noise sigma %.1f/255\n",
                    in.img.width, in.img.height, t, 255.0 * sigma);
            rc = 0;
        } else {
            cli_error("%s", err);
        }
    }
    cli_input_close(&in);
    return rc;
}
