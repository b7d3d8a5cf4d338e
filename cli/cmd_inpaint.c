/* cmd_inpaint.c: `wprior inpaint [-m MODEL] --mask MASK [--mode fast|sharp]
 * [--seed N] INPUT OUTPUT`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"

static int inpaint_usage(FILE *f)
{
    fprintf(f, "usage: wprior inpaint [-m MODEL] --mask MASK [--mode fast|sharp] [options] INPUT OUTPUT\n"
               "Fills the pixels of INPUT where MASK is not black with a draw from the prior\n"
               "given the rest of the image (coarse to fine); every other pixel, alpha\n"
               "included, is written unchanged.  OUTPUT has INPUT's bit depth.\n"
               "  -m MODEL           model file (default: $WPRIOR_MODEL, then the shipped\n"
               "                     " WP_MODEL_COLOUR_HEAL " for colour images, " WP_MODEL_GRAY "\n"
               "                     for gray ones); a bare name is a shipped model\n"
               "  --mask MASK        a PNG/JPEG of INPUT's size: a pixel whose colour is not\n"
               "                     0 is filled (alpha is ignored)\n"
               "  --mode fast|sharp  fast: the most likely fill, smooth (default); sharp: a\n"
               "                     real sample, with texture\n"
               "                     (diffuse: no prior, a diffusion fill, for comparison)\n"
               "  --context N        known pixels around each hole to process (default: the\n"
               "                     model's field or half the hole, the larger)\n%s%s",
            cli_job_usage(), cli_sampler_usage());
    return f == stdout ? 0 : 2;
}

uint8_t *cli_read_mask(const char *path, int width, int height, size_t *unknown)
{
    wp_image m;
    char err[WP_ERRLEN];
    if (wp_image_read(path, (size_t)width * height, &m, err, sizeof err)) {
        cli_error("%s", err);
        return NULL;
    }
    uint8_t *mask = NULL;
    if (m.width != width || m.height != height) {
        cli_error("%s: the mask is %dx%d, the image %dx%d", path, m.width, m.height, width,
                  height);
    } else if ((mask = malloc((size_t)width * height))) {
        int C = cli_colour_channels(&m);
        *unknown = 0;
        for (size_t i = 0; i < (size_t)width * height; i++) {
            int any = 0;
            for (int c = 0; c < C; c++)
                any |= m.pixels[i * m.channels + c] > 0.0f;
            mask[i] = (uint8_t)any;
            *unknown += any;
        }
    } else {
        cli_error("out of memory");
    }
    wp_image_free(&m);
    return mask;
}

int cmd_inpaint(int argc, char **argv)
{
    const char *pos[2] = {0}, *maskp = NULL;
    int npos = 0;
    wp_inpaint_options o = {0};
    cli_job job;
    cli_job_init(&job, "inpaint");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = cli_job_option(&job, argc, argv, &i);
        if (r == CLI_OPT_ERROR)
            return 2;
        if (r == CLI_OPT_HELP)
            return inpaint_usage(stdout);
        if (r == CLI_OPT_TAKEN)
            continue;
        if (!strcmp(a, "--mask")) {
            if (!(maskp = cli_value(argc, argv, &i)))
                return 2;
        } else if (!strcmp(a, "--context")) {
            const char *v = cli_value(argc, argv, &i);
            long n;
            if (!v || cli_parse_int(v, "--context", 1, 1 << 20, &n))
                return 2;
            o.context = (int)n;
        } else if (!strcmp(a, "--mode")) {
            /* in wp_inpaint_mode's order */
            static const char *const modes[] = {"fast", "sharp", "diffuse"};
            const char *m = cli_value(argc, argv, &i);
            int k = m ? cli_choice("--mode", m, modes, 3) : -1;
            if (k < 0)
                return 2;
            o.mode = (wp_inpaint_mode)k;
        } else if (cli_positional(a, pos, &npos, 2)) {
            return inpaint_usage(stderr);
        }
    }
    if (npos != 2)
        return inpaint_usage(stderr);
    if (!maskp)
        return cli_error("inpaint needs --mask MASK (non-zero: the pixels to fill)") + 1;
    o.seed = job.seed;
    o.sampler = job.sampler;
    cli_input in;
    if (cli_input_open(&in, job.model, pos[0], &job, WP_MODEL_COLOUR_HEAL ".safetensors"))
        return 1;
    char err[WP_ERRLEN];
    int rc = 1;
    size_t unknown = 0;
    uint8_t *mask = cli_read_mask(maskp, in.img.width, in.img.height, &unknown);
    if (!mask)
        goto done;
    cli_job_start(&job);
    wp_status st = wp_inpaint(in.prior, in.planar, mask, in.planar, in.C, in.img.height,
                              in.img.width, &o, &job.run, err);
    double t = cli_job_finish(&job);
    if (st) {
        cli_error("%s: %s", pos[0], err);
        goto done;
    }
    /* in place: the known pixels (and alpha) are the input's own values */
    cli_from_planar(&in.img, in.planar);
    if (wp_image_write_png(pos[1], &in.img, err, sizeof err)) {
        cli_error("%s", err);
        goto done;
    }
    fprintf(stderr, "inpainted %zu pixels of %dx%d (%s, %d region%s of %zu pixels, %d iterations) in %.2f s\n",
            unknown, in.img.width, in.img.height, o.mode == WP_INPAINT_FAST ? "fast" : o.mode == WP_INPAINT_SHARP ? "sharp" : "diffuse", o.regions,
            o.regions == 1 ? "" : "s", o.pixels, o.iterations, t);
    rc = 0;
done:
    free(mask);
    cli_input_close(&in);
    return rc;
}
