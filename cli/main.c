/* main.c: the wprior program. */
#include "cli_common.h"

int main(int argc, char **argv) { return wprior_main(argc, argv); }
