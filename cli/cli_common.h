/* cli_common.h: shared pieces of the wprior subcommands. */
#ifndef CLI_COMMON_H
#define CLI_COMMON_H

#include "image_io.h"
#include "wprior.h"

int cmd_info(int argc, char **argv);
int cmd_denoise(int argc, char **argv);
int cmd_import(int argc, char **argv);

/* Prints "wprior: <msg>" to stderr and returns 1. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The model to use: the -m value, else $WPRIOR_MODEL, else the shipped
 * default.  Loads it or prints why not. */
wp_prior *cli_load_model(const char *path);
/* Parses a whole decimal integer in [lo,hi]. */
int cli_parse_int(const char *s, const char *what, long lo, long hi, long *out);

/* Interleaved image <-> planar colour planes (alpha left out). */
int cli_colour_channels(const wp_image *img);
float *cli_to_planar(const wp_image *img);
void cli_from_planar(wp_image *img, const float *planar);

#endif
