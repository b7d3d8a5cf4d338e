/* wp_net.h: a bias-free CNN (BF-CNN) of any depth, width and channel
 * counts.  Layer 0 is a conv (no norm, no ReLU); middle layers are
 * conv -> bias-free BN -> ReLU; the last layer is a conv.  The network
 * predicts the noise: denoised = input - net(input) (for conditional nets,
 * only the detail channels, the last out_ch of the input). */
#ifndef WP_NET_H
#define WP_NET_H

#include <stddef.h>
#include <stdint.h>

#include "wprior.h"

#define WP_MAX_LAYERS 256
#define WP_MAX_WIDTH 1024

typedef struct {
    int in_ch, out_ch, width, nlayers;
    uint8_t kernel[WP_MAX_LAYERS]; /* 1 or 3 per layer */
    /* All trainable parameters in one block (conv weights of every layer,
     * then the gammas of every BN), so optimisers see one vector. */
    float *params;
    size_t nparams;
    float *running_sd; /* (nlayers-2)*width, a buffer, not trained */
    float *conv_w[WP_MAX_LAYERS]; /* views into params */
    float *gamma[WP_MAX_LAYERS];  /* views, middle layers 1..nlayers-2 */
    float *rsd[WP_MAX_LAYERS];    /* views into running_sd */
} wp_net;

/* Layer l's input and output channel counts. */
int wp_net_layer_in(const wp_net *net, int l);
int wp_net_layer_out(const wp_net *net, int l);
/* Offsets of layer l's weights / of BN layer l's gamma in params. */
size_t wp_net_conv_offset(const wp_net *net, int l);

/* Checks the description and allocates zeroed parameters (running_sd = 1). */
wp_status wp_net_init(wp_net *net, int in_ch, int out_ch, int width, int nlayers,
                      const uint8_t *kernel, char *err);
void wp_net_free(wp_net *net);
/* dst (uninitialised or freed) = a copy of src. */
wp_status wp_net_copy(wp_net *dst, const wp_net *src, char *err);
int wp_net_receptive_field(const wp_net *net);
/* Floats of running_sd: one per channel of each normalised (middle) layer. */
size_t wp_net_bn_floats(const wp_net *net);
/* "3111311..." into buf (nlayers+1 bytes). */
void wp_net_kernel_string(const wp_net *net, char *buf);
/* The reference rule for BF-CNN-RF: which of nlayers layers are 3x3 to
 * reach receptive field rf.  Returns -1 when rf is not reachable. */
int wp_rf_kernels(int rf, int nlayers, uint8_t *kernel);

/* Scratch for inference on N images of HxW: floats needed. */
size_t wp_net_infer_floats(const wp_net *net, int N, int H, int W);
/* y[N,out,H,W] = net(x[N,in,H,W]) with running statistics.  ws holds
 * wp_net_infer_floats() floats.  Polls cancel between layers. */
wp_status wp_net_forward(const wp_net *net, const float *x, float *y, int N, int H, int W,
                         float *ws, const volatile int *cancel);

/* Training: activations kept for the backward. */
typedef struct {
    int N, H, W, cap_N, cap_H, cap_W;
    float *z;        /* conv outputs of middle layers: (nlayers-2) x N*width*HW */
    float *a;        /* post-ReLU (layer 0: conv output) : (nlayers-1) x N*width*HW */
    float *batch_sd; /* (nlayers-2) x width */
    float *scratch;  /* convolution scratch (im2col, Winograd) */
    size_t cap_scratch;
    float *d0, *d1;  /* gradient ping-pong */
    /* the fused step's (net_train.c): per middle layer gamma / batch sd
     * and the batch mean (nlayers x 2 x width), BN-backward's
     * coefficients (3 x width), per-image statistics (N x 2 x width) */
    float *bn_scale, *bn_coef;
    double *stats;
    /* Set by the caller: 1 takes the layer-by-layer path (the oracle of
     * the fused one, and the path a BN sync takes); a holds every layer's
     * output only after its forward. */
    int layerwise;
    int fused; /* the path the last forward took (its backward takes it) */
} wp_net_cache;

void wp_net_cache_free(wp_net_cache *c);
/* Training forward: batch statistics, updates running_sd when update_running. */
wp_status wp_net_forward_train(wp_net *net, wp_net_cache *c, const float *x, float *y,
                               int N, int H, int W, int update_running, char *err);
/* Backward from dy[N,out,H,W]: grad (nparams floats) accumulates; dx
 * (may be NULL) receives the input gradient. */
void wp_net_backward(const wp_net *net, wp_net_cache *c, const float *x, const float *dy,
                     float *grad, float *dx);

/* The fused step (net_train.c), which the two calls above take unless
 * cache->layerwise or a BN sync is set: scratch floats it needs, and its
 * forward and backward (same contracts, except that the forward stores
 * a only for layer 0). */
size_t wp_net_fused_scratch_floats(const wp_net *net, int H, int W);
void wp_net_forward_fused(const wp_net *net, wp_net_cache *c, const float *x, float *y,
                          int update_running);
void wp_net_backward_fused(const wp_net *net, wp_net_cache *c, const float *x, const float *dy,
                           float *grad, float *dx);

#endif
