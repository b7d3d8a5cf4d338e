/* cmd_meta.c: `wprior meta MODEL [KEY=VALUE ...] [-o OUT]`: prints a model's
 * free-form metadata, or sets entries (name, description, the sampler
 * defaults "upscale.fast.sigma0", ...) and writes the model again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"

int cmd_meta(int argc, char **argv)
{
    const char *model = NULL, *outp = NULL;
    int nset = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help")) {
            printf("usage: wprior meta MODEL [KEY=VALUE ...] [-o OUT]\n"
                   "Without KEY=VALUE: prints the model's description. With them: sets\n"
                   "metadata entries and writes OUT (default: MODEL itself, atomically).\n");
            return 0;
        }
        if (!strcmp(argv[i], "-o")) {
            if (!(outp = cli_value(argc, argv, &i)))
                return 2;
        } else if (!model) {
            model = argv[i];
        } else if (strchr(argv[i], '=') && argv[i][0] != '=') {
            nset++;
        } else {
            return cli_error("expected KEY=VALUE, not '%s'", argv[i]) + 1;
        }
    }
    if (!model)
        return cli_error("usage: wprior meta MODEL [KEY=VALUE ...] [-o OUT]") + 1;
    wp_prior *p = cli_load_model(model);
    if (!p)
        return 1;
    char err[WP_ERRLEN];
    int rc = 0;
    for (int i = 1; i < argc && !rc; i++) {
        char *eq = strchr(argv[i], '=');
        if (argv[i] == model || !eq || (i > 1 && !strcmp(argv[i - 1], "-o")))
            continue;
        *eq = '\0';
        if (wp_prior_set_meta(p, argv[i], eq + 1, err))
            rc = cli_error("%s", err);
        *eq = '=';
    }
    if (!rc && nset && wp_prior_save(p, outp ? outp : model, err))
        rc = cli_error("%s", err);
    if (!rc && !nset) {
        char *d = wp_prior_describe(p);
        if (d)
            fputs(d, stdout);
        free(d);
    }
    wp_prior_free(p);
    return rc;
}
