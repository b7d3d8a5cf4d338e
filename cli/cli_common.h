/* cli_common.h: shared pieces of the wprior subcommands. */
#ifndef CLI_COMMON_H
#define CLI_COMMON_H

#include <stdint.h>

#include "image_io.h"
#include "wprior.h"

/* The whole command line (main() calls it; so does the fuzz target). */
int wprior_main(int argc, char **argv);

int cmd_info(int argc, char **argv);
int cmd_denoise(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_upscale(int argc, char **argv);
int cmd_meta(int argc, char **argv);
int cmd_combine(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_inpaint(int argc, char **argv);

/* What every job shares: run options, seed, sampler knobs, progress. */
typedef struct {
    const char *model;         /* -m / --model */
    wp_run_options run;
    wp_sampler_params sampler; /* zero fields: the engine's defaults */
    unsigned long long seed;
    const char *what;
    int tty;
    double start, last_draw;
} cli_job;

void cli_job_init(cli_job *j, const char *what);
enum { CLI_OPT_NONE = 0, CLI_OPT_TAKEN = 1, CLI_OPT_HELP = 2, CLI_OPT_ERROR = -1 };
/* Consumes argv[*i] (and its value) when it is a shared option (-m, the
 * run options, the sampler knobs): CLI_OPT_TAKEN; --help: CLI_OPT_HELP;
 * not a shared one: CLI_OPT_NONE; a bad value: CLI_OPT_ERROR (message
 * printed). */
int cli_job_option(cli_job *j, int argc, char **argv, int *i);
/* Keeps a as the next of at most max positional arguments; an unknown
 * option or one argument too many: -1, message printed. */
int cli_positional(const char *a, const char **pos, int *npos, int max);
/* With fewer than n of the positional arguments names: says which are
 * missing and returns 2 (the exit status); else 0. */
int cli_missing(const char *cmd, int npos, const char *const *names, int n);
/* The value after option argv[*i] (advancing *i), or NULL with a message. */
const char *cli_value(int argc, char **argv, int *i);
const char *cli_job_usage(void);
const char *cli_sampler_usage(void);
void cli_job_start(cli_job *j);
/* Clears the progress line; returns the elapsed seconds. */
double cli_job_finish(cli_job *j);

/* Prints "wprior: <msg>" to stderr and returns 1. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The model a job falls back on when its own (WP_MODEL_*) is not
 * installed: the gray prior runs on gray and colour images. */
#define WPRIOR_DEFAULT_MODEL_NAME WP_MODEL_GRAY ".safetensors"

/* The model to use: the -m value, else $WPRIOR_MODEL, else the shipped
 * default (installed, or in the source tree's models/).  Loads it or
 * prints why not. */
wp_prior *cli_load_model(const char *path);
/* The same, trying the shipped model `preferred` (a file name, or NULL)
 * before the default. */
wp_prior *cli_load_model_or(const char *path, const char *preferred);
/* The index of v among names[0..n-1], or -1 with "OPT is a, b or c, not 'v'". */
int cli_choice(const char *opt, const char *v, const char *const *names, int n);
/* The upscaling factors in words: "2, 4 or 8". */
const char *cli_factors(void);
/* Parses a whole decimal integer in [lo,hi]. */
int cli_parse_int(const char *s, const char *what, long lo, long hi, long *out);

/* A model and an input image read and made planar, for denoise/upscale. */
typedef struct {
    wp_prior *prior;
    wp_image img;
    float *planar; /* [C,H,W] colour planes */
    int C;
} cli_input;

/* Loads the model and the image (refusing sizes over the memory budget);
 * prints why not and returns -1.  With no model named, a colour image
 * gets the shipped colour_model (a file name), a gray one the gray prior. */
int cli_input_open(cli_input *in, const char *model, const char *path, const cli_job *job,
                   const char *colour_model);
void cli_input_close(cli_input *in);

/* Interleaved image <-> planar colour planes (alpha left out). */
int cli_colour_channels(const wp_image *img);
float *cli_to_planar(const wp_image *img);
void cli_from_planar(wp_image *img, const float *planar);

/* A mask image of width x height: 1 where any colour channel is not 0 (alpha
 * ignored); *unknown counts them.  NULL with a message on error. */
uint8_t *cli_read_mask(const char *path, int width, int height, size_t *unknown);

#endif
