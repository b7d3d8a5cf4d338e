/* net.c: BF-CNN description, inference forward, training forward/backward. */
#include "wp_net.h"

#include <stdlib.h>
#include <string.h>

#include "wp_conv.h"
#include "wp_layers.h"
#include "wp_util.h"

int wp_net_layer_in(const wp_net *net, int l) { return l == 0 ? net->in_ch : net->width; }
int wp_net_layer_out(const wp_net *net, int l)
{
    return l == net->nlayers - 1 ? net->out_ch : net->width;
}

static size_t conv_size(const wp_net *net, int l)
{
    int k = net->kernel[l];
    return (size_t)wp_net_layer_out(net, l) * wp_net_layer_in(net, l) * k * k;
}

size_t wp_net_conv_offset(const wp_net *net, int l)
{
    size_t off = 0;
    for (int i = 0; i < l; i++)
        off += conv_size(net, i);
    return off;
}

wp_status wp_net_init(wp_net *net, int in_ch, int out_ch, int width, int nlayers,
                      const uint8_t *kernel, char *err)
{
    memset(net, 0, sizeof *net);
    if (in_ch < 1 || in_ch > WP_MAX_WIDTH || out_ch < 1 || out_ch > WP_MAX_WIDTH)
        return wp_fail(err, WP_ERR_FORMAT, "network channels in=%d out=%d out of range 1..%d",
                       in_ch, out_ch, WP_MAX_WIDTH);
    if (width < 1 || width > WP_MAX_WIDTH)
        return wp_fail(err, WP_ERR_FORMAT, "network width %d out of range 1..%d", width,
                       WP_MAX_WIDTH);
    if (nlayers < 2 || nlayers > WP_MAX_LAYERS)
        return wp_fail(err, WP_ERR_FORMAT, "network depth %d out of range 2..%d", nlayers,
                       WP_MAX_LAYERS);
    for (int l = 0; l < nlayers; l++)
        if (kernel[l] != 1 && kernel[l] != 3)
            return wp_fail(err, WP_ERR_FORMAT, "layer %d: kernel size %d (only 1 and 3)", l,
                           kernel[l]);
    net->in_ch = in_ch;
    net->out_ch = out_ch;
    net->width = width;
    net->nlayers = nlayers;
    memcpy(net->kernel, kernel, (size_t)nlayers);
    int nbn = nlayers - 2;
    size_t nconv = wp_net_conv_offset(net, nlayers);
    net->nparams = nconv + (size_t)nbn * width;
    net->params = calloc(net->nparams, sizeof(float));
    net->running_sd = malloc(sizeof(float) * (size_t)(nbn > 0 ? nbn : 1) * width);
    if (!net->params || !net->running_sd) {
        wp_net_free(net);
        return wp_fail(err, WP_ERR_NOMEM, "out of memory for a network of %zu parameters",
                       net->nparams);
    }
    for (int l = 0; l < nlayers; l++)
        net->conv_w[l] = net->params + wp_net_conv_offset(net, l);
    for (int b = 0; b < nbn; b++) {
        net->gamma[b + 1] = net->params + nconv + (size_t)b * width;
        net->rsd[b + 1] = net->running_sd + (size_t)b * width;
        for (int c = 0; c < width; c++) {
            net->gamma[b + 1][c] = 1.0f;
            net->rsd[b + 1][c] = 1.0f;
        }
    }
    return WP_OK;
}

void wp_net_free(wp_net *net)
{
    free(net->params);
    free(net->running_sd);
    memset(net, 0, sizeof *net);
}

wp_status wp_net_copy(wp_net *dst, const wp_net *src, char *err)
{
    wp_status st = wp_net_init(dst, src->in_ch, src->out_ch, src->width, src->nlayers,
                               src->kernel, err);
    if (st)
        return st;
    memcpy(dst->params, src->params, sizeof(float) * src->nparams);
    memcpy(dst->running_sd, src->running_sd,
           sizeof(float) * (size_t)(src->nlayers > 2 ? src->nlayers - 2 : 1) * src->width);
    return WP_OK;
}

size_t wp_net_bn_floats(const wp_net *net) { return (size_t)(net->nlayers - 2) * net->width; }

int wp_net_receptive_field(const wp_net *net)
{
    int rf = 1;
    for (int l = 0; l < net->nlayers; l++)
        rf += net->kernel[l] - 1;
    return rf;
}

void wp_net_kernel_string(const wp_net *net, char *buf)
{
    for (int l = 0; l < net->nlayers; l++)
        buf[l] = (char)('0' + net->kernel[l]);
    buf[net->nlayers] = '\0';
}

int wp_rf_kernels(int rf, int nlayers, uint8_t *kernel)
{
    /* First and last layers are 3x3; middle layer l is 3x3 when
     * l % (20 / ((R-1)/2 - 1)) == 0 (the authors' rule, in floating point,
     * with R = 8 for RF 9).  Generalised: 20 becomes nlayers - 1. */
    if (nlayers < 2 || rf < 5 || rf % 2 == 0)
        return -1;
    double R = rf == 9 ? 8.0 : (double)rf;
    double q = (R - 1.0) / 2.0 - 1.0;
    double step = (double)(nlayers - 1) / q;
    kernel[0] = kernel[nlayers - 1] = 3;
    for (int l = 1; l < nlayers - 1; l++) {
        double r = l - step * (double)(long)(l / step);
        kernel[l] = (q > 0 && step > 0 && (r == 0.0)) ? 3 : 1;
    }
    int got = 1;
    for (int l = 0; l < nlayers; l++)
        got += kernel[l] - 1;
    return got == rf ? 0 : -1;
}

size_t wp_net_infer_floats(const wp_net *net, int N, int H, int W)
{
    size_t HW = (size_t)H * W, scratch = 0;
    for (int l = 0; l < net->nlayers; l++) {
        size_t s = wp_conv_fused_scratch_floats(wp_net_layer_in(net, l),
                                                wp_net_layer_out(net, l), H, W, net->kernel[l]);
        if (s > scratch)
            scratch = s;
    }
    return 2 * (size_t)N * net->width * HW + scratch;
}

wp_status wp_net_forward(const wp_net *net, const float *x, float *y, int N, int H, int W,
                         float *ws, const volatile int *cancel)
{
    size_t act = (size_t)N * net->width * H * W, HW = (size_t)H * W;
    float *a = ws, *b = ws + act, *scratch = ws + 2 * act;
    int L = net->nlayers;
    for (int n = 0; n < N; n++) {
        const float *xn = x + (size_t)n * net->in_ch * HW;
        float *an = a + (size_t)n * net->width * HW;
        wp_conv2d_forward_fused(an, xn, net->conv_w[0], NULL, 0, net->in_ch, net->width, H, W,
                                net->kernel[0], scratch);
    }
    for (int l = 1; l < L - 1; l++) {
        if (cancel && *cancel)
            return WP_ERR_CANCELLED;
        /* conv -> x / sd * gamma -> ReLU, as one fused layer */
        float scale[WP_MAX_WIDTH];
        for (int c = 0; c < net->width; c++)
            scale[c] = net->gamma[l][c] / net->rsd[l][c];
        for (int n = 0; n < N; n++)
            wp_conv2d_forward_fused(b + (size_t)n * net->width * HW, a + (size_t)n * net->width * HW,
                                    net->conv_w[l], scale, 1, net->width, net->width, H, W,
                                    net->kernel[l], scratch);
        float *t = a;
        a = b;
        b = t;
    }
    if (cancel && *cancel)
        return WP_ERR_CANCELLED;
    for (int n = 0; n < N; n++)
        wp_conv2d_forward_fused(y + (size_t)n * net->out_ch * HW, a + (size_t)n * net->width * HW,
                                net->conv_w[L - 1], NULL, 0, net->width, net->out_ch, H, W,
                                net->kernel[L - 1], scratch);
    return WP_OK;
}

/* ---- training ---- */

void wp_net_cache_free(wp_net_cache *c)
{
    free(c->z);
    free(c->a);
    free(c->batch_sd);
    free(c->scratch);
    free(c->d0);
    free(c->d1);
    free(c->bn_scale);
    free(c->bn_coef);
    free(c->stats);
    int layerwise = c->layerwise;
    memset(c, 0, sizeof *c);
    c->layerwise = layerwise;
}

/* Grows the cache only when the batch does not fit: big buffers are
 * allocated once and reused (fresh pages are slow here). */
static wp_status cache_reserve(const wp_net *net, wp_net_cache *c, int N, int H, int W,
                               char *err)
{
    size_t need_scratch = 0;
    for (int l = 0; l < net->nlayers; l++) {
        size_t s = wp_conv2d_scratch_floats(wp_net_layer_in(net, l), wp_net_layer_out(net, l), H,
                                            W, net->kernel[l]);
        if (s > need_scratch)
            need_scratch = s;
    }
    size_t fused = wp_net_fused_scratch_floats(net, H, W);
    need_scratch = fused > need_scratch ? fused : need_scratch;
    if (c->a && N <= c->cap_N && (size_t)N * H * W <= (size_t)c->cap_N * c->cap_H * c->cap_W &&
        need_scratch <= c->cap_scratch) {
        c->N = N, c->H = H, c->W = W;
        return WP_OK;
    }
    wp_net_cache_free(c);
    size_t act = (size_t)N * net->width * H * W;
    int L = net->nlayers;
    size_t maxc = (size_t)(net->in_ch > net->width ? net->in_ch : net->width);
    c->z = wp_alloc(sizeof(float) * act * (size_t)(L > 2 ? L - 2 : 1));
    c->a = wp_alloc(sizeof(float) * act * (size_t)(L - 1));
    c->batch_sd = wp_alloc(sizeof(float) * (size_t)net->width * (size_t)L);
    c->scratch = wp_alloc(sizeof(float) * need_scratch);
    c->cap_scratch = need_scratch;
    size_t dmax = (size_t)N * (maxc > (size_t)net->out_ch ? maxc : (size_t)net->out_ch) * H * W;
    c->d0 = wp_alloc(sizeof(float) * dmax);
    c->d1 = wp_alloc(sizeof(float) * dmax);
    c->bn_scale = wp_alloc(sizeof(float) * 2 * (size_t)net->width * (size_t)L);
    c->bn_coef = wp_alloc(sizeof(float) * 3 * (size_t)net->width);
    c->stats = wp_alloc(sizeof(double) * 2 * (size_t)N * net->width);
    if (!c->z || !c->a || !c->batch_sd || !c->scratch || !c->d0 || !c->d1 || !c->bn_scale ||
        !c->bn_coef || !c->stats) {
        wp_net_cache_free(c);
        return wp_fail(err, WP_ERR_NOMEM, "out of memory for training activations");
    }
    c->N = c->cap_N = N, c->H = c->cap_H = H, c->W = c->cap_W = W;
    return WP_OK;
}

wp_status wp_net_forward_train(wp_net *net, wp_net_cache *c, const float *x, float *y,
                               int N, int H, int W, int update_running, char *err)
{
    wp_status st = cache_reserve(net, c, N, H, W, err);
    if (st)
        return st;
    c->fused = !c->layerwise && !wp_bn_synced();
    if (c->fused) {
        wp_net_forward_fused(net, c, x, y, update_running);
        return WP_OK;
    }
    size_t act = (size_t)N * net->width * H * W;
    int L = net->nlayers, HW = H * W;
    /* a_0 = conv0(x) */
    wp_conv2d_forward(c->a, x, net->conv_w[0], N, net->in_ch, net->width, H, W,
                      net->kernel[0], c->scratch);
    for (int l = 1; l < L - 1; l++) {
        float *z = c->z + (size_t)(l - 1) * act, *a = c->a + (size_t)l * act;
        float *sd = c->batch_sd + (size_t)(l - 1) * net->width;
        wp_conv2d_forward(z, c->a + (size_t)(l - 1) * act, net->conv_w[l], N, net->width,
                          net->width, H, W, net->kernel[l], c->scratch);
        wp_bn_relu_forward_train(a, z, net->gamma[l], update_running ? net->rsd[l] : NULL, sd, N,
                                 net->width, HW);
    }
    wp_conv2d_forward(y, c->a + (size_t)(L - 2) * act, net->conv_w[L - 1], N, net->width,
                      net->out_ch, H, W, net->kernel[L - 1], c->scratch);
    return WP_OK;
}

void wp_net_backward(const wp_net *net, wp_net_cache *c, const float *x, const float *dy,
                     float *grad, float *dx)
{
    if (c->fused) {
        wp_net_backward_fused(net, c, x, dy, grad, dx);
        return;
    }
    int N = c->N, H = c->H, W = c->W, HW = H * W, L = net->nlayers;
    size_t act = (size_t)N * net->width * HW;
    size_t gamma_off = wp_net_conv_offset(net, L);
    float *da = c->d0, *dz = c->d1;
    /* last conv */
    wp_conv2d_backward_weights(grad + wp_net_conv_offset(net, L - 1), dy,
                               c->a + (size_t)(L - 2) * act, N, net->width, net->out_ch, H,
                               W, net->kernel[L - 1], c->scratch);
    wp_conv2d_backward_data(da, dy, net->conv_w[L - 1], N, net->width, net->out_ch, H, W,
                            net->kernel[L - 1], c->scratch);
    for (int l = L - 2; l >= 1; l--) {
        const float *z = c->z + (size_t)(l - 1) * act;
        wp_bn_relu_backward_train(dz, grad + gamma_off + (size_t)(l - 1) * net->width, da, z,
                                  net->gamma[l], c->batch_sd + (size_t)(l - 1) * net->width, N,
                                  net->width, HW);
        wp_conv2d_backward_weights(grad + wp_net_conv_offset(net, l), dz,
                                   c->a + (size_t)(l - 1) * act, N, net->width, net->width,
                                   H, W, net->kernel[l], c->scratch);
        wp_conv2d_backward_data(da, dz, net->conv_w[l], N, net->width, net->width, H, W,
                                net->kernel[l], c->scratch);
    }
    wp_conv2d_backward_weights(grad, da, x, N, net->in_ch, net->width, H, W, net->kernel[0],
                               c->scratch);
    if (dx)
        wp_conv2d_backward_data(dx, da, net->conv_w[0], N, net->in_ch, net->width, H, W,
                                net->kernel[0], c->scratch);
}
