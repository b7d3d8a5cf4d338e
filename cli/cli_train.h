/* cli_train.h: `wprior train` and `wprior eval`, and the image lists and
 * training sets they share. */
#ifndef CLI_TRAIN_H
#define CLI_TRAIN_H

#include "wprior_train.h"

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);

typedef struct {
    char **path;
    int n;
} cli_filelist;

/* src is a folder (searched recursively for .png/.jpg/.jpeg, sorted by
 * path) or a text file of paths, one a line, relative to the file's folder
 * ('#' starts a comment).  Prints why not and returns -1. */
int cli_list_images(const char *src, cli_filelist *out);
void cli_filelist_free(cli_filelist *l);

/* An image as planar [C,H,W] floats for a C-channel prior: a gray prior
 * takes the mean of R, G and B (as the reference does), an RGB prior
 * repeats a gray image in the three channels; alpha is dropped.  Returns
 * NULL with a message printed. */
float *cli_read_planar(const char *path, int C, int *height, int *width);

/* Decodes every image of l once into 8-bit planes.  Returns NULL with a
 * message printed. */
wp_dataset *cli_load_dataset(const cli_filelist *l, int C, const char *what, int verbose);

#endif
