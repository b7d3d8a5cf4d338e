/* cmd_import.c: `wprior import`, one model file from the paper's
 * per-network safetensors files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"

#define MAX_COND 12

static int import_usage(FILE *f)
{
    fprintf(f, "usage: wprior import --low LOW.safetensors --cond 0=SCALE0.safetensors "
               "[--cond 1=SCALE1.safetensors ...] -o MODEL.safetensors\n"
               "       wprior import --flat FLAT.safetensors -o MODEL.safetensors\n"
               "options: --channels 1|3 (default 1), --name NAME, --description TEXT,\n"
               "         --image-size WxH (the size a non-stationary prior, e.g. faces, samples)\n"
               "Levels are numbered from 0, the finest; every level below the highest given\n"
               "must be present.\n");
    return f == stdout ? 0 : 2;
}

int cmd_import(int argc, char **argv)
{
    const char *low = NULL, *flat = NULL, *outp = NULL, *name = NULL, *desc = NULL;
    const char *size = NULL;
    const char *cond[MAX_COND] = {0};
    long channels = 1;
    int levels = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help"))
            return import_usage(stdout);
        if (i + 1 >= argc)
            return cli_error("%s needs a value", a) + 1;
        const char *v = argv[++i];
        if (!strcmp(a, "--low"))
            low = v;
        else if (!strcmp(a, "--flat"))
            flat = v;
        else if (!strcmp(a, "-o") || !strcmp(a, "--output"))
            outp = v;
        else if (!strcmp(a, "--name"))
            name = v;
        else if (!strcmp(a, "--description"))
            desc = v;
        else if (!strcmp(a, "--image-size")) {
            int w, h;
            char tail;
            if (sscanf(v, "%dx%d%c", &w, &h, &tail) != 2 || w < 1 || h < 1)
                return cli_error("--image-size takes WxH, not '%s'", v) + 1;
            size = v;
        }
        else if (!strcmp(a, "--channels")) {
            if (cli_parse_int(v, "--channels", 1, 3, &channels) || channels == 2)
                return cli_error("--channels is 1 or 3") + 1;
        } else if (!strcmp(a, "--cond")) {
            const char *eq = strchr(v, '=');
            char num[16];
            long j;
            if (!eq || eq == v || (size_t)(eq - v) >= sizeof num)
                return cli_error("--cond takes LEVEL=FILE, not '%s'", v) + 1;
            memcpy(num, v, (size_t)(eq - v));
            num[eq - v] = '\0';
            if (cli_parse_int(num, "--cond level", 0, MAX_COND - 1, &j))
                return 2;
            if (cond[j])
                return cli_error("level %ld given twice", j) + 1;
            cond[j] = eq + 1;
            if (j + 1 > levels)
                levels = (int)j + 1;
        } else {
            cli_error("unknown option '%s'", a);
            return import_usage(stderr);
        }
    }
    if (!outp)
        return cli_error("no output file: -o MODEL.safetensors") + 1;
    if (!flat && (!low || levels == 0))
        return cli_error("give --low and at least --cond 0=FILE, or --flat") + 1;
    char err[WP_ERRLEN];
    wp_prior *p;
    if (wp_prior_import(low, cond, flat ? 0 : levels, flat, (int)channels, &p, err))
        return cli_error("%s", err);
    wp_status st = WP_OK;
    if (name)
        st = wp_prior_set_meta(p, "name", name, err);
    if (!st && desc)
        st = wp_prior_set_meta(p, "description", desc, err);
    if (!st && size)
        st = wp_prior_set_meta(p, "image_size", size, err);
    if (!st)
        st = wp_prior_set_meta(p, "source", "imported with wprior import", err);
    if (!st)
        st = wp_prior_save(p, outp, err);
    wp_prior_free(p);
    if (st)
        return cli_error("%s", err);
    return 0;
}
