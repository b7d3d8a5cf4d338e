/* model.c: a multi-scale prior in one safetensors file.
 *
 * __metadata__ (all strings):
 *   format = "wavelet-prior", format_version = "1",
 *   channels = "1"|"3", kind = "multiscale"|"flat", levels = J,
 *   net.low, net.cond0 .. net.cond{J-1} (or net.flat) =
 *       "in=I out=O width=W kernels=3111..." (one digit per layer),
 *   optionally net.den and den.level = L (0..J-1): the denoising entry net,
 *       in=C out=C, for the level-L low-pass (wp_prior.den; level 0: the
 *       image itself, den alone denoises it),
 *   optionally net.fill: the fast inpainting's fill correction, in=C+1 out=C
 *       (wp_prior.fill),
 *   optionally net.up: the fast upscale's correction of a smooth upscale's
 *       details, in=4C (the low-pass, the details) out=3C, any level
 *       (wp_prior.up),
 *   plus free-form keys (name, description, training, ...).
 * Tensors: "<net>.conv_layers.i.weight" [out,in,k,k],
 *          "<net>.BN_layers.k.running_sd" / ".gammas" [1,width,1,1]. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp_prior_internal.h"
#include "wp_util.h"

#define FORMAT_NAME "wavelet-prior"
#define FORMAT_VERSION "1"

#define DEN_IDX (-2) /* net index of den; -1: low (or flat); j >= 0: cond j */
#define FILL_IDX (-3) /* net index of fill */
#define UP_IDX (-4)   /* net index of up */

static void net_name(char *buf, size_t len, const wp_prior *p, int idx)
{
    if (idx == UP_IDX)
        snprintf(buf, len, "up");
    else if (idx == FILL_IDX)
        snprintf(buf, len, "fill");
    else if (idx == DEN_IDX)
        snprintf(buf, len, "den");
    else if (idx < 0)
        snprintf(buf, len, "%s", p->flat ? "flat" : "low");
    else
        snprintf(buf, len, "cond%d", idx);
}

static wp_net *net_at(wp_prior *p, int idx)
{
    return idx == UP_IDX     ? &p->up
           : idx == FILL_IDX ? &p->fill
           : idx == DEN_IDX  ? &p->den
           : idx < 0         ? (p->flat ? &p->flatnet : &p->low)
                             : &p->cond[idx];
}

/* Nets are indexed FIRST_NET .. end_net(p) - 1, those has_net says. */
#define FIRST_NET UP_IDX
static int end_net(const wp_prior *p) { return p->flat ? 0 : p->levels; }
static int has_net(const wp_prior *p, int idx)
{
    return idx == UP_IDX     ? p->has_up
           : idx == FILL_IDX ? p->has_fill
           : idx == DEN_IDX  ? p->has_den
                             : 1;
}

static const wp_net *net_at_c(const wp_prior *p, int idx)
{
    return net_at((wp_prior *)p, idx);
}

int wp_prior_channels(const wp_prior *p) { return p->channels; }
int wp_prior_levels(const wp_prior *p) { return p->levels; }
int wp_prior_is_flat(const wp_prior *p) { return p->flat; }
int wp_prior_den_level(const wp_prior *p) { return p->has_den ? p->den_level : -1; }
int wp_prior_has_fill(const wp_prior *p) { return p->has_fill; }
int wp_prior_has_up(const wp_prior *p) { return p->has_up; }

/* *dst becomes a copy of src (dst unchanged on failure). */
static wp_status replace_net(wp_net *dst, const wp_net *src, char *err)
{
    wp_net n;
    wp_status st = wp_net_copy(&n, src, err);
    if (st)
        return st;
    wp_net_free(dst);
    *dst = n;
    return WP_OK;
}

wp_status wp_prior_set_den(wp_prior *p, const wp_prior *src, char *err)
{
    if (!src) {
        wp_net_free(&p->den);
        p->has_den = p->den_level = 0;
        return WP_OK;
    }
    if (p->flat)
        return wp_fail(err, WP_ERR_ARG, "a flat prior takes no denoising entry net");
    if (src->channels != p->channels)
        return wp_fail(err, WP_ERR_ARG,
                       "the denoising entry net is for %d channels, the prior has %d",
                       src->channels, p->channels);
    if (!src->flat && src->levels >= p->levels)
        return wp_fail(err, WP_ERR_ARG,
                       "a denoising entry net from a %d-level prior needs a prior of more "
                       "levels (this one has %d)",
                       src->levels, p->levels);
    wp_status st = replace_net(&p->den, src->flat ? &src->flatnet : &src->low, err);
    if (!st)
        p->has_den = 1, p->den_level = src->levels; /* a flat prior's levels: 0 */
    return st;
}

/* p's optional net idx (fill or up) becomes a copy of src's (same
 * channels); with src NULL, p's is removed. */
static wp_status set_optional_net(wp_prior *p, const wp_prior *src, int idx, char *err)
{
    int *has = idx == UP_IDX ? &p->has_up : &p->has_fill;
    char nm[16];
    net_name(nm, sizeof nm, p, idx);
    if (!src) {
        wp_net_free(net_at(p, idx));
        *has = 0;
        return WP_OK;
    }
    if (!has_net(src, idx))
        return wp_fail(err, WP_ERR_ARG, "that model has no %s net", nm);
    if (src->channels != p->channels)
        return wp_fail(err, WP_ERR_ARG, "the %s net is for %d channels, the prior has %d", nm,
                       src->channels, p->channels);
    wp_status st = replace_net(net_at(p, idx), net_at_c(src, idx), err);
    if (!st)
        *has = 1;
    return st;
}

wp_status wp_prior_set_fill(wp_prior *p, const wp_prior *src, char *err)
{
    return set_optional_net(p, src, FILL_IDX, err);
}

wp_status wp_prior_set_up(wp_prior *p, const wp_prior *src, char *err)
{
    return set_optional_net(p, src, UP_IDX, err);
}

wp_status wp_prior_set_den_level(wp_prior *p, int level, char *err)
{
    if (!p->has_den)
        return wp_fail(err, WP_ERR_ARG, "the prior has no denoising entry net to move");
    if (level < 0 || level >= p->levels)
        return wp_fail(err, WP_ERR_ARG, "a denoising entry net's level is 0..%d for this prior",
                       p->levels - 1);
    p->den_level = level;
    return WP_OK;
}

wp_status wp_prior_set_low(wp_prior *p, const wp_prior *src, char *err)
{
    if (p->flat || src->flat)
        return wp_fail(err, WP_ERR_ARG, "a low-pass net moves only between multi-scale priors");
    if (src->channels != p->channels)
        return wp_fail(err, WP_ERR_ARG, "the low-pass net is for %d channels, the prior has %d",
                       src->channels, p->channels);
    return replace_net(&p->low, &src->low, err);
}

wp_status wp_prior_set_cond(wp_prior *p, int j, const wp_prior *src, char *err)
{
    if (p->flat || src->flat)
        return wp_fail(err, WP_ERR_ARG, "a conditional net moves only between multi-scale priors");
    if (src->channels != p->channels)
        return wp_fail(err, WP_ERR_ARG, "the conditional net is for %d channels, the prior has %d",
                       src->channels, p->channels);
    if (j < 0 || j >= p->levels || j >= src->levels)
        return wp_fail(err, WP_ERR_ARG, "no level %d in both priors (%d and %d levels)", j,
                       p->levels, src->levels);
    return replace_net(&p->cond[j], &src->cond[j], err);
}

/* The exemplars' shape is one a prior may hold. */
static wp_status check_exemplars(const wp_prior *p, int n, int h, int w, char *err)
{
    if (p->flat)
        return wp_fail(err, WP_ERR_ARG, "a flat prior holds no exemplars");
    if (n < 0 || n > WP_EXEMPLARS_MAX)
        return wp_fail(err, WP_ERR_FORMAT, "%d exemplars (at most %d)", n, WP_EXEMPLARS_MAX);
    if (n && (h < WP_EXEMPLAR_MIN || w < WP_EXEMPLAR_MIN || h > WP_EXEMPLAR_SIDE_MAX ||
              w > WP_EXEMPLAR_SIDE_MAX))
        return wp_fail(err, WP_ERR_FORMAT, "exemplars of %dx%d (%d to %d a side)", w, h,
                       WP_EXEMPLAR_MIN, WP_EXEMPLAR_SIDE_MAX);
    return WP_OK;
}

/* Every value finite and within [0,1] give or take rounding. */
static wp_status check_exemplar_values(const float *ex, size_t n, char *err)
{
    for (size_t i = 0; i < n; i++)
        if (!(ex[i] >= -0.01f && ex[i] <= 1.01f))
            return wp_fail(err, WP_ERR_FORMAT, "an exemplar value (%g) is outside [0,1]",
                           (double)ex[i]);
    return WP_OK;
}

wp_status wp_prior_set_exemplars(wp_prior *p, const float *ex, int n, int h, int w, char *err)
{
    wp_status st = check_exemplars(p, n, h, w, err);
    if (st)
        return st;
    size_t count = n ? (size_t)n * p->channels * h * w : 0;
    if (count && (st = check_exemplar_values(ex, count, err)))
        return st;
    float *copy = NULL;
    if (count) {
        if (!(copy = malloc(sizeof(float) * count)))
            return wp_fail(err, WP_ERR_NOMEM, "out of memory");
        memcpy(copy, ex, sizeof(float) * count);
    }
    free(p->exemplars);
    p->exemplars = copy;
    p->ex_n = n, p->ex_h = n ? h : 0, p->ex_w = n ? w : 0;
    return WP_OK;
}

int wp_prior_exemplars(const wp_prior *p, int *h, int *w)
{
    if (h)
        *h = p->ex_h;
    if (w)
        *w = p->ex_w;
    return p->ex_n;
}

const char *wp_prior_meta(const wp_prior *p, const char *key)
{
    for (size_t i = 0; i < p->nmeta; i++)
        if (strcmp(p->meta[i].key, key) == 0)
            return p->meta[i].value;
    return NULL;
}

wp_status wp_prior_set_meta(wp_prior *p, const char *key, const char *value, char *err)
{
    for (size_t i = 0; i < p->nmeta; i++)
        if (strcmp(p->meta[i].key, key) == 0) {
            char *v = strdup(value);
            if (!v)
                return wp_fail(err, WP_ERR_NOMEM, "out of memory");
            free(p->meta[i].value);
            p->meta[i].value = v;
            return WP_OK;
        }
    wp_st_meta *m = realloc(p->meta, (p->nmeta + 1) * sizeof *m);
    if (!m)
        return wp_fail(err, WP_ERR_NOMEM, "out of memory");
    p->meta = m;
    m[p->nmeta].key = strdup(key);
    m[p->nmeta].value = strdup(value);
    if (!m[p->nmeta].key || !m[p->nmeta].value) {
        free(m[p->nmeta].key);
        free(m[p->nmeta].value);
        return wp_fail(err, WP_ERR_NOMEM, "out of memory");
    }
    p->nmeta++;
    return WP_OK;
}

void wp_prior_free(wp_prior *p)
{
    if (!p)
        return;
    wp_net_free(&p->low);
    wp_net_free(&p->flatnet);
    wp_net_free(&p->den);
    wp_net_free(&p->fill);
    wp_net_free(&p->up);
    for (int j = 0; j < WP_MAX_LEVELS; j++)
        wp_net_free(&p->cond[j]);
    for (size_t i = 0; i < p->nmeta; i++) {
        free(p->meta[i].key);
        free(p->meta[i].value);
    }
    free(p->meta);
    free(p->exemplars);
    free(p);
}

wp_status wp_prior_create(wp_prior **out, int channels, int levels, int flat, char *err)
{
    *out = NULL;
    if (channels != 1 && channels != 3)
        return wp_fail(err, WP_ERR_ARG, "%d colour channels (1 or 3)", channels);
    if (flat ? levels != 0 : (levels < 1 || levels >= WP_MAX_LEVELS))
        return wp_fail(err, WP_ERR_ARG, "%d levels for a %s prior", levels,
                       flat ? "flat" : "multi-scale");
    wp_prior *p = calloc(1, sizeof *p);
    if (!p)
        return wp_fail(err, WP_ERR_NOMEM, "out of memory");
    p->channels = channels;
    p->levels = levels;
    p->flat = flat;
    *out = p;
    return WP_OK;
}

/* ---- network tensors ---- */

wp_status wp_net_read(wp_net *net, const wp_st_file *f, const char *prefix, char *err)
{
    char name[256];
    for (int l = 0; l < net->nlayers; l++) {
        int k = net->kernel[l];
        int64_t shape[4] = {wp_net_layer_out(net, l), wp_net_layer_in(net, l), k, k};
        snprintf(name, sizeof name, "%sconv_layers.%d.weight", prefix, l);
        wp_status st = wp_st_read_f32(f, name, shape, 4, net->conv_w[l], err);
        if (st)
            return st;
    }
    for (int l = 1; l < net->nlayers - 1; l++) {
        int64_t shape[4] = {1, net->width, 1, 1};
        snprintf(name, sizeof name, "%sBN_layers.%d.running_sd", prefix, l - 1);
        wp_status st = wp_st_read_f32(f, name, shape, 4, net->rsd[l], err);
        if (st)
            return st;
        snprintf(name, sizeof name, "%sBN_layers.%d.gammas", prefix, l - 1);
        st = wp_st_read_f32(f, name, shape, 4, net->gamma[l], err);
        if (st)
            return st;
    }
    return WP_OK;
}

static int net_tensor_count(const wp_net *net) { return net->nlayers + 2 * (net->nlayers - 2); }

#define EXEMPLARS_TENSOR "exemplars"

/* The optional "exemplars" tensor [n, C, h, w]; *count: 1 when present. */
static wp_status load_exemplars(wp_prior *p, const wp_st_file *f, int *count, char *err)
{
    const wp_st_tensor *t = wp_st_find(f, EXEMPLARS_TENSOR);
    *count = 0;
    if (!t)
        return WP_OK;
    if (t->ndim != 4 || t->shape[1] != p->channels || t->shape[0] < 1 ||
        t->shape[0] > WP_EXEMPLARS_MAX || t->shape[2] > WP_EXEMPLAR_SIDE_MAX ||
        t->shape[3] > WP_EXEMPLAR_SIDE_MAX)
        return wp_fail(err, WP_ERR_FORMAT,
                       "tensor \"" EXEMPLARS_TENSOR "\" must be [n, %d, h, w] with n 1..%d",
                       p->channels, WP_EXEMPLARS_MAX);
    int n = (int)t->shape[0], h = (int)t->shape[2], w = (int)t->shape[3];
    wp_status st = check_exemplars(p, n, h, w, err);
    if (st)
        return st;
    size_t count_f = (size_t)n * p->channels * h * w;
    float *ex = malloc(sizeof(float) * count_f);
    if (!ex)
        return wp_fail(err, WP_ERR_NOMEM, "out of memory");
    int64_t shape[4] = {n, p->channels, h, w};
    if ((st = wp_st_read_f32(f, EXEMPLARS_TENSOR, shape, 4, ex, err)) ||
        (st = check_exemplar_values(ex, count_f, err))) {
        free(ex);
        return st;
    }
    p->exemplars = ex;
    p->ex_n = n, p->ex_h = h, p->ex_w = w;
    *count = 1;
    return WP_OK;
}

wp_status wp_net_check_values(const wp_net *net, const char *name, char *err)
{
    for (size_t i = 0; i < net->nparams; i++)
        if (!isfinite(net->params[i]))
            return wp_fail(err, WP_ERR_FORMAT, "network %s: parameter %zu is %s", name, i,
                           isnan(net->params[i]) ? "NaN" : "infinite");
    for (int l = 1; l < net->nlayers - 1; l++)
        for (int c = 0; c < net->width; c++) {
            float v = net->rsd[l][c];
            if (!isfinite(v) || !(v > 0.0f))
                return wp_fail(err, WP_ERR_FORMAT,
                               "network %s: BN layer %d running_sd[%d] = %g (must be > 0)", name,
                               l - 1, c, (double)v);
        }
    return WP_OK;
}

wp_status wp_net_import(wp_net *net, const wp_st_file *f, const char *prefix, char *err)
{
    char name[256];
    uint8_t kernel[WP_MAX_LAYERS];
    int L = 0, in = 0, out = 0, width = 0;
    for (;; L++) {
        snprintf(name, sizeof name, "%sconv_layers.%d.weight", prefix, L);
        const wp_st_tensor *t = wp_st_find(f, name);
        if (!t)
            break;
        if (L >= WP_MAX_LAYERS)
            return wp_fail(err, WP_ERR_FORMAT, "more than %d layers", WP_MAX_LAYERS);
        if (t->ndim != 4 || t->shape[2] != t->shape[3] || (t->shape[2] != 1 && t->shape[2] != 3))
            return wp_fail(err, WP_ERR_FORMAT, "%s: not a [out,in,1|3,1|3] convolution", name);
        if (t->shape[0] < 1 || t->shape[0] > WP_MAX_WIDTH || t->shape[1] < 1 ||
            t->shape[1] > WP_MAX_WIDTH)
            return wp_fail(err, WP_ERR_FORMAT, "%s: channel counts out of range", name);
        kernel[L] = (uint8_t)t->shape[2];
        if (L == 0) {
            in = (int)t->shape[1];
            width = (int)t->shape[0];
        }
        out = (int)t->shape[0];
    }
    if (L < 2)
        return wp_fail(err, WP_ERR_FORMAT, "no %sconv_layers.N.weight tensors (need 2 or more)",
                       prefix);
    wp_status st = wp_net_init(net, in, out, width, L, kernel, err);
    if (!st)
        st = wp_net_read(net, f, prefix, err);
    if (st)
        wp_net_free(net);
    return st;
}

/* ---- loading ---- */

static wp_status parse_int(const char *s, const char *what, int lo, int hi, int *out, char *err)
{
    char *end;
    if (!s)
        return wp_fail(err, WP_ERR_FORMAT, "metadata \"%s\" is missing", what);
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi)
        return wp_fail(err, WP_ERR_FORMAT, "metadata \"%s\" = \"%.32s\" (expected %d..%d)", what,
                       s, lo, hi);
    *out = (int)v;
    return WP_OK;
}

/* "in=4 out=3 width=64 kernels=3111..." */
static wp_status parse_net_spec(const char *spec, const char *name, int *in, int *out,
                                int *width, uint8_t *kernel, int *nlayers, char *err)
{
    char ks[WP_MAX_LAYERS + 2];
    int n = 0;
    if (!spec)
        return wp_fail(err, WP_ERR_FORMAT, "metadata \"net.%s\" is missing", name);
    if (sscanf(spec, "in=%d out=%d width=%d kernels=%257s%n", in, out, width, ks, &n) != 4 ||
        spec[n] != '\0')
        return wp_fail(err, WP_ERR_FORMAT, "metadata \"net.%s\" = \"%.80s\" is malformed", name,
                       spec);
    size_t L = strlen(ks);
    if (L < 2 || L > WP_MAX_LAYERS)
        return wp_fail(err, WP_ERR_FORMAT, "net.%s: %zu layers (2..%d)", name, L, WP_MAX_LAYERS);
    for (size_t l = 0; l < L; l++) {
        if (ks[l] != '1' && ks[l] != '3')
            return wp_fail(err, WP_ERR_FORMAT, "net.%s: kernel '%c' (only 1 and 3)", name, ks[l]);
        kernel[l] = (uint8_t)(ks[l] - '0');
    }
    *nlayers = (int)L;
    return WP_OK;
}

static int is_structural(const char *key)
{
    return !strcmp(key, "format") || !strcmp(key, "format_version") ||
           !strcmp(key, "channels") || !strcmp(key, "kind") || !strcmp(key, "levels") ||
           !strcmp(key, "den.level") || !strncmp(key, "net.", 4);
}

static wp_status load_net(wp_prior *p, const wp_st_file *f, int idx, char *err)
{
    char nm[32], key[48], prefix[40];
    net_name(nm, sizeof nm, p, idx);
    snprintf(key, sizeof key, "net.%s", nm);
    snprintf(prefix, sizeof prefix, "%s.", nm);
    int in = 0, out = 0, width = 0, L = 0;
    uint8_t kernel[WP_MAX_LAYERS];
    wp_status st = parse_net_spec(wp_st_meta_get(f, key), nm, &in, &out, &width, kernel, &L, err);
    if (st)
        return st;
    int C = p->channels, ein = idx == FILL_IDX ? C + 1 : idx == UP_IDX ? 4 * C : idx < 0 ? C : 4 * C,
        eout = idx == UP_IDX ? 3 * C : idx < 0 ? C : 3 * C;
    if (in != ein || out != eout)
        return wp_fail(err, WP_ERR_FORMAT,
                       "net.%s has %d inputs and %d outputs; a %d-channel prior needs %d and %d",
                       nm, in, out, C, ein, eout);
    wp_net *net = net_at(p, idx);
    st = wp_net_init(net, in, out, width, L, kernel, err);
    if (st)
        return st;
    if ((st = wp_net_read(net, f, prefix, err)))
        return st;
    return wp_net_check_values(net, nm, err);
}

/* den.level and net.den come together; 0 <= L < J. */
static wp_status load_den_level(wp_prior *p, const wp_st_file *f, char *err)
{
    const char *lv = wp_st_meta_get(f, "den.level");
    if (!lv && !wp_st_meta_get(f, "net.den"))
        return WP_OK;
    if (p->flat)
        return wp_fail(err, WP_ERR_FORMAT, "a flat prior has no denoising entry net (net.den)");
    if (!lv)
        return wp_fail(err, WP_ERR_FORMAT, "metadata \"den.level\" is missing (net.den is set)");
    p->has_den = 1;
    return parse_int(lv, "den.level", 0, p->levels - 1, &p->den_level, err);
}

static wp_status load_from_file(const wp_st_file *f, wp_prior **out, char *err)
{
    const char *fmt = wp_st_meta_get(f, "format");
    if (!fmt || strcmp(fmt, FORMAT_NAME) != 0)
        return wp_fail(err, WP_ERR_FORMAT,
                       "not a Wavelet Prior model (metadata \"format\" is not \"%s\"); the "
                       "paper's per-network files are converted with `wprior import`",
                       FORMAT_NAME);
    const char *ver = wp_st_meta_get(f, "format_version");
    if (!ver || strcmp(ver, FORMAT_VERSION) != 0)
        return wp_fail(err, WP_ERR_FORMAT, "model format version \"%.16s\" (this build reads %s)",
                       ver ? ver : "(none)", FORMAT_VERSION);
    int C = 0, J = 0; /* set by parse_int; zero keeps -Wmaybe-uninitialized quiet */
    wp_status st = parse_int(wp_st_meta_get(f, "channels"), "channels", 1, 3, &C, err);
    if (st)
        return st;
    if (C == 2)
        return wp_fail(err, WP_ERR_FORMAT, "metadata \"channels\" = 2 (expected 1 or 3)");
    const char *kind = wp_st_meta_get(f, "kind");
    int flat;
    if (kind && !strcmp(kind, "flat"))
        flat = 1;
    else if (kind && !strcmp(kind, "multiscale"))
        flat = 0;
    else
        return wp_fail(err, WP_ERR_FORMAT, "metadata \"kind\" is \"%.32s\" (multiscale or flat)",
                       kind ? kind : "(none)");
    if (!flat && (st = parse_int(wp_st_meta_get(f, "levels"), "levels", 1, WP_MAX_LEVELS - 1,
                                 &J, err)))
        return st;
    wp_prior *p;
    if ((st = wp_prior_create(&p, C, J, flat, err)))
        return st;
    int expected = 0;
    st = load_den_level(p, f, err);
    p->has_fill = wp_st_meta_get(f, "net.fill") != NULL;
    p->has_up = !flat && wp_st_meta_get(f, "net.up") != NULL;
    for (int idx = FIRST_NET; idx < J && !st; idx++) {
        if (!has_net(p, idx))
            continue;
        st = load_net(p, f, idx, err);
        if (!st)
            expected += net_tensor_count(net_at(p, idx));
    }
    int nex = 0;
    if (!st && !p->flat && !(st = load_exemplars(p, f, &nex, err)))
        expected += nex;
    if (!st && (size_t)expected != f->nt) {
        /* Name the first tensor that no network claimed. */
        for (size_t i = 0; i < f->nt; i++) {
            const char *n = f->t[i].name;
            int ok = nex && !strcmp(n, EXEMPLARS_TENSOR);
            for (int idx = FIRST_NET; idx < J && !ok; idx++) {
                if (!has_net(p, idx))
                    continue;
                char nm[32];
                net_name(nm, sizeof nm, p, idx);
                size_t l = strlen(nm);
                ok = !strncmp(n, nm, l) && n[l] == '.';
            }
            if (!ok) {
                st = wp_fail(err, WP_ERR_FORMAT, "unexpected tensor \"%.64s\"", n);
                break;
            }
        }
        if (!st)
            st = wp_fail(err, WP_ERR_FORMAT, "%zu tensors where the networks need %d", f->nt,
                         expected);
    }
    for (size_t i = 0; i < f->nmeta && !st; i++)
        if (!is_structural(f->meta[i].key))
            st = wp_prior_set_meta(p, f->meta[i].key, f->meta[i].value, err);
    if (st) {
        wp_prior_free(p);
        return st;
    }
    *out = p;
    return WP_OK;
}

wp_status wp_prior_load_memory(const void *data, size_t size, wp_prior **out, char *err)
{
    wp_st_file f;
    *out = NULL;
    wp_status st = wp_st_open_memory(&f, data, size, err);
    if (st)
        return st;
    st = load_from_file(&f, out, err);
    wp_st_close(&f);
    return st;
}

wp_status wp_prior_load(const char *path, wp_prior **out, char *err)
{
    wp_st_file f;
    *out = NULL;
    if (!path)
        return wp_fail(err, WP_ERR_ARG, "no model file given");
    wp_status st = wp_st_open(&f, path, err);
    if (st)
        return st;
    char e2[WP_ERRLEN];
    st = load_from_file(&f, out, e2);
    wp_st_close(&f);
    if (st)
        return wp_fail(err, st, "%s: %s", path, e2);
    return WP_OK;
}

/* ---- saving ---- */

wp_status wp_prior_save(const wp_prior *p, const char *path, char *err)
{
    int end = end_net(p), nnets = 0;
    size_t nt = 0, cap = 0;
    for (int idx = FIRST_NET; idx < end; idx++)
        if (has_net(p, idx)) {
            cap += (size_t)net_tensor_count(net_at_c(p, idx));
            nnets++;
        }
    cap += 1; /* the exemplars */
    wp_st_out *t = calloc(cap, sizeof *t);
    char (*names)[64] = calloc(cap, sizeof *names);
    size_t nmeta = 6 + (size_t)nnets + p->nmeta;
    const char **meta = calloc(2 * nmeta, sizeof *meta);
    char (*specs)[WP_MAX_LAYERS + 64] = calloc((size_t)nnets, sizeof *specs);
    char (*keys)[48] = calloc((size_t)nnets, sizeof *keys);
    char chs[8], lev[8], den[8];
    wp_status st = WP_OK;
    if (!t || !names || !meta || !specs || !keys) {
        st = wp_fail(err, WP_ERR_NOMEM, "out of memory");
        goto done;
    }
    size_t m = 0;
    snprintf(chs, sizeof chs, "%d", p->channels);
    snprintf(lev, sizeof lev, "%d", p->levels);
    meta[m++] = "format", meta[m++] = FORMAT_NAME;
    meta[m++] = "format_version", meta[m++] = FORMAT_VERSION;
    meta[m++] = "channels", meta[m++] = chs;
    meta[m++] = "kind", meta[m++] = p->flat ? "flat" : "multiscale";
    meta[m++] = "levels", meta[m++] = lev;
    if (p->has_den) {
        snprintf(den, sizeof den, "%d", p->den_level);
        meta[m++] = "den.level", meta[m++] = den;
    }
    for (int idx = FIRST_NET, k = 0; idx < end; idx++) {
        if (!has_net(p, idx))
            continue;
        const wp_net *net = net_at_c(p, idx);
        char nm[32], ks[WP_MAX_LAYERS + 1];
        net_name(nm, sizeof nm, p, idx);
        wp_net_kernel_string(net, ks);
        snprintf(keys[k], sizeof keys[0], "net.%s", nm);
        snprintf(specs[k], sizeof specs[0], "in=%d out=%d width=%d kernels=%s",
                 net->in_ch, net->out_ch, net->width, ks);
        meta[m++] = keys[k], meta[m++] = specs[k];
        k++;
        for (int l = 0; l < net->nlayers; l++) {
            int k = net->kernel[l];
            snprintf(names[nt], 64, "%s.conv_layers.%d.weight", nm, l);
            t[nt] = (wp_st_out){names[nt], 4, {wp_net_layer_out(net, l), wp_net_layer_in(net, l), k, k}, net->conv_w[l]};
            nt++;
        }
        for (int l = 1; l < net->nlayers - 1; l++) {
            snprintf(names[nt], 64, "%s.BN_layers.%d.running_sd", nm, l - 1);
            t[nt] = (wp_st_out){names[nt], 4, {1, net->width, 1, 1}, net->rsd[l]};
            nt++;
            snprintf(names[nt], 64, "%s.BN_layers.%d.gammas", nm, l - 1);
            t[nt] = (wp_st_out){names[nt], 4, {1, net->width, 1, 1}, net->gamma[l]};
            nt++;
        }
    }
    if (p->ex_n)
        t[nt++] = (wp_st_out){EXEMPLARS_TENSOR, 4, {p->ex_n, p->channels, p->ex_h, p->ex_w},
                              p->exemplars};
    for (size_t i = 0; i < p->nmeta; i++)
        if (!is_structural(p->meta[i].key))
            meta[m++] = p->meta[i].key, meta[m++] = p->meta[i].value;
    st = wp_st_write(path, t, nt, meta, m / 2, err);
done:
    free(t);
    free(names);
    free(meta);
    free(specs);
    free(keys);
    return st;
}

/* ---- import of the paper's per-network files ---- */

static wp_status import_one(wp_net *net, const char *path, const char *role, int ein, int eout,
                            char *err)
{
    wp_st_file f;
    wp_status st = wp_st_open(&f, path, err);
    if (st)
        return st;
    char e2[WP_ERRLEN];
    st = wp_net_import(net, &f, "", e2);
    wp_st_close(&f);
    if (st)
        return wp_fail(err, st, "%s: %s", path, e2);
    if (net->in_ch != ein || net->out_ch != eout) {
        st = wp_fail(err, WP_ERR_FORMAT,
                     "%s: a %s network needs %d inputs and %d outputs, this one has %d and %d",
                     path, role, ein, eout, net->in_ch, net->out_ch);
        return st;
    }
    return wp_net_check_values(net, role, err);
}

wp_status wp_prior_import(const char *low_path, const char *const *cond_paths, int levels,
                          const char *flat_path, int channels, wp_prior **out, char *err)
{
    wp_prior *p;
    int flat = flat_path != NULL;
    *out = NULL;
    if (flat && (low_path || levels))
        return wp_fail(err, WP_ERR_ARG, "a flat model takes no low-pass or conditional networks");
    if (!flat && !low_path)
        return wp_fail(err, WP_ERR_ARG, "a multi-scale model needs a low-pass network (--low)");
    wp_status st = wp_prior_create(&p, channels, levels, flat, err);
    if (st)
        return st;
    int C = channels;
    if (flat) {
        st = import_one(&p->flatnet, flat_path, "flat", C, C, err);
    } else {
        st = import_one(&p->low, low_path, "low-pass", C, C, err);
        for (int j = 0; j < levels && !st; j++) {
            if (!cond_paths[j]) {
                st = wp_fail(err, WP_ERR_ARG, "no conditional network for level %d (--cond %d=FILE)",
                             j, j);
                break;
            }
            st = import_one(&p->cond[j], cond_paths[j], "conditional", 4 * C, 3 * C, err);
        }
    }
    /* the reference nets were trained on whole images, zero-padded */
    if (!st)
        st = wp_prior_set_meta(p, "border", "zero", err);
    if (st) {
        wp_prior_free(p);
        return st;
    }
    *out = p;
    return WP_OK;
}

/* ---- description ---- */

static size_t net_params(const wp_net *n) { return n->nparams; }

char *wp_prior_describe(const wp_prior *p)
{
    size_t cap = 4096 + p->nmeta * 256, k = 0;
    for (size_t i = 0; i < p->nmeta; i++)
        cap += strlen(p->meta[i].key) + strlen(p->meta[i].value);
    char *s = malloc(cap);
    if (!s)
        return NULL;
    size_t total = 0;
    k += (size_t)snprintf(s + k, cap - k, "kind: %s\nchannels: %d (%s)\nlevels: %d\n",
                          p->flat ? "flat (pixel domain)" : "multi-scale (Haar pyramid)",
                          p->channels, p->channels == 1 ? "gray" : "RGB", p->levels);
    if (p->has_den && !p->den_level)
        k += (size_t)snprintf(s + k, cap - k, "denoising: net den alone, on the image\n");
    else if (p->has_den)
        k += (size_t)snprintf(s + k, cap - k,
                              "denoising: net den on the level-%d low-pass, then cond%d%s\n",
                              p->den_level, p->den_level - 1, p->den_level > 1 ? "..cond0" : "");
    for (int idx = FIRST_NET; idx < end_net(p); idx++) {
        if (!has_net(p, idx))
            continue;
        const wp_net *net = net_at_c(p, idx);
        char nm[32], ks[WP_MAX_LAYERS + 1];
        net_name(nm, sizeof nm, p, idx);
        wp_net_kernel_string(net, ks);
        total += net_params(net);
        k += (size_t)snprintf(s + k, cap - k,
                              "net %-6s in %2d out %2d width %3d layers %2d RF %2d params %7zu  "
                              "kernels %s\n",
                              nm, net->in_ch, net->out_ch, net->width, net->nlayers,
                              wp_net_receptive_field(net), net_params(net), ks);
    }
    k += (size_t)snprintf(s + k, cap - k, "parameters: %zu\n", total);
    if (p->ex_n)
        k += (size_t)snprintf(s + k, cap - k, "exemplars: %d of %dx%d (a sample continues one)\n",
                              p->ex_n, p->ex_w, p->ex_h);
    for (size_t i = 0; i < p->nmeta && k < cap; i++)
        k += (size_t)snprintf(s + k, cap - k, "%s: %s\n", p->meta[i].key, p->meta[i].value);
    return s;
}
