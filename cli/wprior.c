/* wprior: the command-line front end of the Wavelet Prior engine. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "cli_train.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: wprior COMMAND [OPTIONS]\n"
            "\n"
            "commands:\n"
            "  info MODEL                 architecture, parameter counts, metadata\n"
            "  meta MODEL KEY=VALUE... [-o OUT]\n"
            "                             set metadata (name, description, sampler defaults)\n"
            "  combine BASE (--den MODEL | --no-den) -o OUT\n"
            "                             add (or remove) a denoising entry net: MODEL's\n"
            "                             low-pass net denoises BASE's level-L low-pass\n"
            "  denoise [-m MODEL] [--strength S] [--ensemble N] [--no-unclip] INPUT OUTPUT\n"
            "                             blind multi-scale denoising of a PNG/JPEG\n"
            "  upscale [-m MODEL] [-f 2|4|8] [--mode fast|sharp] [--seed N] [SAMPLER] INPUT OUTPUT\n"
            "                             super-resolution drawn from the prior\n"
            "  inpaint [-m MODEL] --mask MASK [--mode fast|sharp|diffuse] [--seed N] [SAMPLER]\n"
            "         INPUT OUTPUT\n"
            "                             fills the masked pixels from the prior\n"
            "  sample [-m MODEL] [--size WxH] [--seed N] [--[no-]tileable] [--depth 8|16]\n"
            "         [SAMPLER] OUTPUT\n"
            "                             a new image drawn from the prior\n"
            "  import (--low FILE --cond J=FILE... | --flat FILE) [--channels 1|3]\n"
            "         [--name NAME] [--description TEXT] [--image-size WxH] -o MODEL\n"
            "                             one model file from the paper's per-network files\n"
            "  train --data DIR|LIST -o MODEL [--preset small|paper] [options]\n"
            "                             trains a prior on your images (resumable)\n"
            "  eval -m MODEL --clean DIR|LIST [--sigma 5,15,25,50,75] [--flat MODEL] [--plot PNG]\n"
            "                             denoising PSNR table (and plot) on clean images\n"
            "\n"
            "every job (denoise, upscale, inpaint, sample) also takes:\n"
            "  --threads N  --max-memory SIZE  --tile N  --border zero|mirror\n"
            "SAMPLER: --sigma0 S --sigma-l S --h0 H --beta B --max-iter N\n"
            "MODEL: a file, or a name found in $WPRIOR_MODEL_PATH, ~/.config/wavelet-prior/models\n"
            "or the shipped models (default: $WPRIOR_MODEL, then the job's shipped model)\n"
            "\n"
            "`wprior COMMAND --help` describes a command.\n");
}

int wprior_main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("wprior %s\n", WPRIOR_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "info"))
        return cmd_info(argc - 1, argv + 1);
    if (!strcmp(cmd, "denoise"))
        return cmd_denoise(argc - 1, argv + 1);
    if (!strcmp(cmd, "import"))
        return cmd_import(argc - 1, argv + 1);
    if (!strcmp(cmd, "upscale"))
        return cmd_upscale(argc - 1, argv + 1);
    if (!strcmp(cmd, "inpaint"))
        return cmd_inpaint(argc - 1, argv + 1);
    if (!strcmp(cmd, "sample"))
        return cmd_sample(argc - 1, argv + 1);
    if (!strcmp(cmd, "train"))
        return cmd_train(argc - 1, argv + 1);
    if (!strcmp(cmd, "meta"))
        return cmd_meta(argc - 1, argv + 1);
    if (!strcmp(cmd, "combine"))
        return cmd_combine(argc - 1, argv + 1);
    if (!strcmp(cmd, "eval"))
        return cmd_eval(argc - 1, argv + 1);
    fprintf(stderr, "wprior: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
