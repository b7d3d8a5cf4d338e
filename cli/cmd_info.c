/* cmd_info.c: `wprior info MODEL`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"

int cmd_info(int argc, char **argv)
{
    if (argc != 2 || !strcmp(argv[1], "--help")) {
        fprintf(argc == 2 ? stdout : stderr, "usage: wprior info MODEL\n");
        return argc == 2 ? 0 : 2;
    }
    wp_prior *p = cli_load_model(argv[1]);
    if (!p)
        return 1;
    char *d = wp_prior_describe(p);
    if (d)
        fputs(d, stdout);
    free(d);
    wp_prior_free(p);
    return d ? 0 : cli_error("out of memory");
}
