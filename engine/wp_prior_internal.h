/* wp_prior_internal.h: the layout of wp_prior, for the engine's own files
 * and its tests. */
#ifndef WP_PRIOR_INTERNAL_H
#define WP_PRIOR_INTERNAL_H

#include "wp_haar.h"
#include "wp_net.h"
#include "wp_safetensors.h"
#include "wprior.h"

struct wp_prior {
    int channels; /* colour channels C: 1 or 3 */
    int levels;   /* J; 0 when flat */
    int flat;
    wp_net low;                  /* in C, out C */
    wp_net cond[WP_MAX_LEVELS];  /* level j: in 4C, out 3C */
    wp_net flatnet;              /* in C, out C */
    /* Optional denoising entry net (has_den): denoising stops the pyramid
     * at level den_level (1..J-1) and den denoises that low-pass; at level
     * 0 den alone denoises the image, in the pixel domain. */
    wp_net den;                  /* in C, out C */
    int has_den, den_level;
    /* Optional fill net (has_fill): the fast inpainting's last step, a
     * correction of the level-0 fill from [fill, unknown-pixel mask]. */
    wp_net fill;                 /* in C+1, out C */
    int has_fill;
    /* Optional up net (has_up): the fast upscale's correction of the
     * details of a level's smooth upscale (wp_up_start), from the low-pass
     * and those details; one net for every level (natural images look
     * alike across scales). */
    wp_net up;                   /* in 4C, out 3C */
    int has_up;
    wp_st_meta *meta;            /* free-form metadata (name, description, ...) */
    size_t nmeta;
    /* Optional texture exemplars [ex_n, C, ex_h, ex_w] (tensor "exemplars"):
     * a sample with none of its own continues one of them. */
    float *exemplars;
    int ex_n, ex_h, ex_w;
};

/* A prior with networks allocated (zero weights) from a description. */
wp_status wp_prior_create(wp_prior **out, int channels, int levels, int flat, char *err);
/* The network that needs the most memory for a tile (budget checks):
 * of the low-pass net and all conditional nets... */
const wp_net *wp_prior_largest_net(const wp_prior *p);
/* ... or of `entry` and cond[0..levels-1] (denoising with den). */
const wp_net *wp_prior_largest_net_of(const wp_prior *p, const wp_net *entry, int levels);
/* Of nets a and b, the one whose tiles need more memory (a when equal). */
const wp_net *wp_larger_net(const wp_net *a, const wp_net *b);
/* The share of the level-1 route in the denoising of a prior with den at
 * level 0, at estimated noise sigma (0..1 units): of the 2x2 block means
 * (*low) and of the details (*details); both 0 at low noise. */
void wp_denoise_blend_shares(double sigma, float *low, float *details);
/* Reads one network's tensors "<prefix>conv_layers.i.weight" and
 * "<prefix>BN_layers.k.{running_sd,gammas}" into an initialised net. */
wp_status wp_net_read(wp_net *net, const wp_st_file *f, const char *prefix, char *err);
/* Describes the network stored under prefix in f from its weight shapes
 * (for the reference per-network files) and reads it. */
wp_status wp_net_import(wp_net *net, const wp_st_file *f, const char *prefix, char *err);
/* Every parameter and running_sd finite (running_sd > 0). */
wp_status wp_net_check_values(const wp_net *net, const char *name, char *err);

#endif
