/* checkpoint.c: the whole trainer state in one safetensors file, written
 * atomically (wp_st_write: temporary file, fsync, rename), and the model
 * export.
 *
 * __metadata__: format = "wavelet-prior-checkpoint", version = "1",
 *   opt.<field> (every option), net.<name> = "in=I out=O width=W kernels=...",
 *   stage, step, loss_ema, best_ema (C99 hex floats: exact),
 *   rng.data, rng.noise (state words and the spare Gaussian), data_hash,
 *   meta.<key> (the prior's metadata), note.<key> (the caller's notes).
 * Tensors: <net>.params [nparams], <net>.running_sd [(layers-2)*width],
 *   adam.m, adam.v [nparams of the current stage's net] (absent when done),
 *   ema [nparams + running_sd of that net] (opt.ema > 0, absent when done). */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp_train_internal.h"
#include "wp_util.h"

#define CKPT_FORMAT "wavelet-prior-checkpoint"
#define CKPT_VERSION "1"

typedef enum { F_INT, F_LONG, F_FLOAT, F_U64, F_STR } field_type;

/* Every option, by name, so that saving and loading share one list.
 * OPT: options added after the format's first checkpoints; an older
 * checkpoint lacks them and resumes with them off (zero). */
static const struct {
    const char *name;
    field_type type;
    size_t off;
    int optional;
} fields[] = {
#define FLD(name, type, member) {name, type, offsetof(wp_train_options, member), 0}
#define OPT(name, type, member) {name, type, offsetof(wp_train_options, member), 1}
    FLD("channels", F_INT, channels),       FLD("levels", F_INT, levels),
    FLD("flat", F_INT, flat),               FLD("low.width", F_INT, low.width),
    FLD("low.layers", F_INT, low.layers),   FLD("low.rf", F_INT, low.rf),
    FLD("cond.width", F_INT, cond.width),   FLD("cond.layers", F_INT, cond.layers),
    FLD("cond.rf", F_INT, cond.rf),         FLD("only", F_STR, only),
    FLD("patch", F_INT, patch),             FLD("batch", F_INT, batch),
    FLD("steps", F_LONG, steps),            FLD("lr", F_FLOAT, lr),
    FLD("schedule", F_INT, schedule),       FLD("lr_halve_every", F_LONG, lr_halve_every),
    FLD("warmup", F_LONG, warmup),          FLD("noise_min", F_FLOAT, noise_min),
    FLD("noise_max", F_FLOAT, noise_max),   FLD("noise", F_INT, noise),
    FLD("rescale_low", F_INT, rescale_low), FLD("flips", F_INT, flips),
    FLD("scale_aug", F_INT, scale_aug),     FLD("weight", F_INT, weight),
    FLD("val_every", F_INT, val_every),     FLD("val_batch", F_INT, val_batch),
    FLD("val_sigma", F_FLOAT, val_sigma),   FLD("diverge", F_FLOAT, diverge),
    FLD("threads", F_INT, threads),         FLD("seed", F_U64, seed),
    FLD("projected_noise", F_INT, projected_noise), OPT("clip", F_INT, clip),
    OPT("finetune", F_INT, finetune),       OPT("loss_sigma", F_FLOAT, loss_sigma),
    OPT("scale_min", F_INT, scale_min),     OPT("ema", F_FLOAT, ema),
    OPT("fill_min", F_FLOAT, fill_min),     OPT("fill_max", F_FLOAT, fill_max),
#undef OPT
#undef FLD
};
#define NFIELDS (sizeof fields / sizeof *fields)

_Static_assert(sizeof(wp_noise_dist) == sizeof(int) && sizeof(wp_lr_schedule) == sizeof(int) &&
                   sizeof(wp_image_weight) == sizeof(int),
               "enums are stored as int");

static void field_format(const wp_train_options *o, int i, char *buf, size_t len)
{
    const char *p = (const char *)o + fields[i].off;
    switch (fields[i].type) {
    case F_INT: snprintf(buf, len, "%d", *(const int *)p); break;
    case F_LONG: snprintf(buf, len, "%ld", *(const long *)p); break;
    case F_FLOAT: snprintf(buf, len, "%a", (double)*(const float *)p); break;
    case F_U64: snprintf(buf, len, "%" PRIu64, *(const uint64_t *)p); break;
    case F_STR: snprintf(buf, len, "%s", p); break;
    }
}

static int field_parse(wp_train_options *o, int i, const char *s)
{
    char *p = (char *)o + fields[i].off, *end;
    switch (fields[i].type) {
    case F_INT: *(int *)p = (int)strtol(s, &end, 10); break;
    case F_LONG: *(long *)p = strtol(s, &end, 10); break;
    case F_FLOAT: *(float *)p = (float)strtod(s, &end); break;
    case F_U64: *(uint64_t *)p = strtoull(s, &end, 10); break;
    case F_STR:
        if (strlen(s) >= sizeof o->only)
            return -1;
        strcpy(p, s);
        return 0;
    }
    return end == s || *end ? -1 : 0;
}

/* ---- a growing list of key/value strings ---- */

typedef struct {
    char **kv; /* 2n strings, owned */
    size_t n, cap;
    int oom;
} kvlist;

static void kv_add(kvlist *l, const char *k, const char *v)
{
    if (l->oom)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **m = realloc(l->kv, sizeof *m * 2 * cap);
        if (!m) {
            l->oom = 1;
            return;
        }
        l->kv = m;
        l->cap = cap;
    }
    l->kv[2 * l->n] = strdup(k);
    l->kv[2 * l->n + 1] = strdup(v);
    if (!l->kv[2 * l->n] || !l->kv[2 * l->n + 1]) {
        free(l->kv[2 * l->n]);
        free(l->kv[2 * l->n + 1]);
        l->oom = 1;
        return;
    }
    l->n++;
}

static void kv_addf(kvlist *l, const char *k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void kv_addf(kvlist *l, const char *k, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    kv_add(l, k, buf);
}

static void kv_free(kvlist *l)
{
    for (size_t i = 0; i < 2 * l->n; i++)
        free(l->kv[i]);
    free(l->kv);
}

static void rng_format(const wp_rng *r, char *buf, size_t len)
{
    snprintf(buf, len, "%016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %a %d",
             r->s[0], r->s[1], r->s[2], r->s[3], r->spare, r->has_spare);
}

static int rng_parse(wp_rng *r, const char *s)
{
    int n = 0;
    if (!s || sscanf(s, "%" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %la %d%n", &r->s[0],
                     &r->s[1], &r->s[2], &r->s[3], &r->spare, &r->has_spare, &n) != 6 ||
        s[n])
        return -1;
    return 0;
}


/* ---- save ---- */

wp_status wp_trainer_save_checkpoint(const wp_trainer *t, const char *path, char *err)
{
    wp_trainer *tt = (wp_trainer *)t; /* net accessors are not const; nothing changes */
    kvlist m = {0};
    char buf[WP_MAX_LAYERS + 96], key[96];
    int J = t->prior->flat ? 0 : t->prior->levels;
    wp_st_out tens[2 * WP_TRAIN_MAX_NETS + 9]; /* the nets, den, fill, up, Adam's state, average */
    char names[2 * WP_TRAIN_MAX_NETS + 6][40];
    size_t nt = 0;
    kv_add(&m, "format", CKPT_FORMAT);
    kv_add(&m, "format_version", CKPT_VERSION);
    for (size_t i = 0; i < NFIELDS; i++) {
        field_format(&t->o, (int)i, buf, sizeof buf);
        snprintf(key, sizeof key, "opt.%s", fields[i].name);
        kv_add(&m, key, buf);
    }
    if (t->prior->has_den)
        kv_addf(&m, "den.level", "%d", t->prior->den_level);
    for (int idx = WP_TRAINER_UP; idx < J; idx++) {
        if ((idx == WP_TRAINER_UP && !t->prior->has_up) ||
            (idx == WP_TRAINER_FILL && !t->prior->has_fill) ||
            (idx == WP_TRAINER_DEN && !t->prior->has_den))
            continue;
        const wp_net *net = wp_trainer_net(tt, idx);
        char nm[16], ks[WP_MAX_LAYERS + 1];
        wp_trainer_net_name(t, idx, nm, sizeof nm);
        wp_net_kernel_string(net, ks);
        snprintf(key, sizeof key, "net.%s", nm);
        kv_addf(&m, key, "in=%d out=%d width=%d kernels=%s", net->in_ch, net->out_ch, net->width,
                ks);
        snprintf(names[nt], sizeof names[0], "%s.params", nm);
        tens[nt] = (wp_st_out){names[nt], 1, {(int64_t)net->nparams}, net->params};
        nt++;
        snprintf(names[nt], sizeof names[0], "%s.running_sd", nm);
        tens[nt] = (wp_st_out){names[nt], 1, {(int64_t)wp_net_bn_floats(net)}, net->running_sd};
        nt++;
    }
    if (t->stage < t->nstages) {
        tens[nt++] = (wp_st_out){"adam.m", 1, {(int64_t)t->adam.n}, t->adam.m};
        tens[nt++] = (wp_st_out){"adam.v", 1, {(int64_t)t->adam.n}, t->adam.v};
        if (t->ema)
            tens[nt++] = (wp_st_out){"ema", 1, {(int64_t)t->ema_n}, t->ema};
    }
    kv_addf(&m, "stage", "%d", t->stage);
    kv_addf(&m, "step", "%ld", t->step);
    kv_addf(&m, "adam_t", "%ld", t->adam.t);
    kv_addf(&m, "loss_ema", "%a", t->loss_ema);
    kv_addf(&m, "best_ema", "%a", t->best_ema);
    rng_format(&t->data_rng, buf, sizeof buf);
    kv_add(&m, "rng.data", buf);
    rng_format(&t->noise_rng, buf, sizeof buf);
    kv_add(&m, "rng.noise", buf);
    if (t->train)
        kv_addf(&m, "data_hash", "%016" PRIx64, wp_dataset_hash(t->train));
    for (size_t i = 0; i < t->prior->nmeta; i++) {
        snprintf(key, sizeof key, "meta.%.80s", t->prior->meta[i].key);
        kv_add(&m, key, t->prior->meta[i].value);
    }
    for (int i = 0; i < t->nnotes; i++) {
        snprintf(key, sizeof key, "note.%.80s", t->notes[i].key);
        kv_add(&m, key, t->notes[i].value);
    }
    wp_status st = m.oom ? wp_fail(err, WP_ERR_NOMEM, "out of memory")
                         : wp_st_write(path, tens, nt, (const char *const *)m.kv, m.n, err);
    kv_free(&m);
    return st;
}

/* ---- resume ---- */

static wp_status bad(char *err, const char *path, const char *what)
{
    return wp_fail(err, WP_ERR_FORMAT, "%s: not a usable checkpoint (%s)", path, what);
}

/* Builds network idx from its "net.<name>" spec and reads its tensors. */
static wp_status load_net(wp_trainer *t, const wp_st_file *f, int idx, const char *path,
                          char *err)
{
    char nm[16], key[32], ks[WP_MAX_LAYERS + 2];
    int in, out, width, n = 0;
    uint8_t k[WP_MAX_LAYERS];
    wp_trainer_net_name(t, idx, nm, sizeof nm);
    snprintf(key, sizeof key, "net.%s", nm);
    const char *spec = wp_st_meta_get(f, key);
    if (!spec || sscanf(spec, "in=%d out=%d width=%d kernels=%257s%n", &in, &out, &width, ks, &n) != 4 ||
        spec[n] || strlen(ks) > WP_MAX_LAYERS)
        return bad(err, path, key);
    size_t L = strlen(ks);
    for (size_t l = 0; l < L; l++)
        k[l] = (uint8_t)(ks[l] - '0');
    wp_net *net = wp_trainer_net(t, idx);
    wp_status st = wp_net_init(net, in, out, width, (int)L, k, err);
    if (st)
        return st;
    int64_t np = (int64_t)net->nparams, nb = (int64_t)wp_net_bn_floats(net);
    snprintf(key, sizeof key, "%s.params", nm);
    if (!(st = wp_st_read_f32(f, key, &np, 1, net->params, err))) {
        snprintf(key, sizeof key, "%s.running_sd", nm);
        st = wp_st_read_f32(f, key, &nb, 1, net->running_sd, err);
    }
    return st ? st : wp_net_check_values(net, nm, err);
}

static wp_status resume_from(wp_trainer *t, const wp_st_file *f, const char *path, char *err)
{
    const char *fmt = wp_st_meta_get(f, "format"), *ver = wp_st_meta_get(f, "format_version");
    if (!fmt || strcmp(fmt, CKPT_FORMAT) || !ver || strcmp(ver, CKPT_VERSION))
        return bad(err, path, "format");
    char key[96];
    for (size_t i = 0; i < NFIELDS; i++) {
        snprintf(key, sizeof key, "opt.%s", fields[i].name);
        const char *v = wp_st_meta_get(f, key);
        if (!v && fields[i].optional)
            continue; /* zeroed by the caller: off */
        if (!v || field_parse(&t->o, (int)i, v))
            return bad(err, path, key);
    }
    wp_status st = wp_train_check_options(&t->o, err);
    if (st)
        return st;
    wp_trainer_plan(t);
    int J = t->o.flat ? 0 : t->o.levels;
    if ((st = wp_prior_create(&t->prior, t->o.channels, J, t->o.flat, err)))
        return st;
    const char *s = wp_st_meta_get(f, "den.level");
    char *end;
    if (s) { /* a base's den, kept */
        long L = strtol(s, &end, 10);
        if (*end || end == s || L < 0 || L >= J)
            return bad(err, path, "den.level");
        t->prior->has_den = 1, t->prior->den_level = (int)L;
    }
    t->prior->has_fill = wp_st_meta_get(f, "net.fill") != NULL;
    t->prior->has_up = wp_st_meta_get(f, "net.up") != NULL;
    for (int idx = WP_TRAINER_UP; idx < J && !st; idx++)
        if ((idx != WP_TRAINER_UP || t->prior->has_up) &&
            (idx != WP_TRAINER_FILL || t->prior->has_fill) && (idx != WP_TRAINER_DEN || s))
            st = load_net(t, f, idx, path, err);
    if (st)
        return st;
    s = wp_st_meta_get(f, "stage");
    t->stage = s ? (int)strtol(s, &end, 10) : -1;
    if (!s || *end || t->stage < 0 || t->stage > t->nstages)
        return bad(err, path, "stage");
    s = wp_st_meta_get(f, "step");
    t->step = s ? strtol(s, &end, 10) : -1;
    if (!s || *end || t->step < 0 || t->step > t->o.steps)
        return bad(err, path, "step");
    if (rng_parse(&t->data_rng, wp_st_meta_get(f, "rng.data")) ||
        rng_parse(&t->noise_rng, wp_st_meta_get(f, "rng.noise")))
        return bad(err, path, "random states");
    if ((st = wp_trainer_enter_stage(t, err)))
        return st;
    s = wp_st_meta_get(f, "loss_ema");
    const char *b = wp_st_meta_get(f, "best_ema"), *at = wp_st_meta_get(f, "adam_t");
    if (!s || !b || !at)
        return bad(err, path, "loss or Adam state");
    t->loss_ema = strtod(s, NULL);
    t->best_ema = strtod(b, NULL);
    if (t->stage < t->nstages) {
        int64_t n = (int64_t)t->adam.n;
        t->adam.t = strtol(at, NULL, 10);
        if ((st = wp_st_read_f32(f, "adam.m", &n, 1, t->adam.m, err)) ||
            (st = wp_st_read_f32(f, "adam.v", &n, 1, t->adam.v, err)) ||
            (t->ema && (st = wp_st_read_f32(f, "ema", &(int64_t){(int64_t)t->ema_n}, 1,
                                            t->ema, err))))
            return st;
    }
    for (size_t i = 0; i < f->nmeta && !st; i++) {
        const char *k = f->meta[i].key;
        if (!strncmp(k, "meta.", 5))
            st = wp_prior_set_meta(t->prior, k + 5, f->meta[i].value, err);
        else if (!strncmp(k, "note.", 5))
            st = wp_trainer_set_note(t, k + 5, f->meta[i].value, err);
        else if (!strcmp(k, "data_hash"))
            st = wp_trainer_set_note(t, "resume.data_hash", f->meta[i].value, err);
    }
    return st;
}

wp_status wp_trainer_resume(const char *ckpt, wp_trainer **out, char *err)
{
    *out = NULL;
    wp_st_file f;
    wp_status st = wp_st_open(&f, ckpt, err);
    if (st)
        return st;
    wp_trainer *t = calloc(1, sizeof *t);
    if (!t) {
        wp_st_close(&f);
        return wp_fail(err, WP_ERR_NOMEM, "out of memory");
    }
    t->val_stage = t->cache_stage = -1;
    st = resume_from(t, &f, ckpt, err);
    wp_st_close(&f);
    if (!st && t->o.threads)
        wp_trainer_set_threads(t->o.threads);
    if (st) {
        wp_trainer_free(t);
        return st;
    }
    *out = t;
    return WP_OK;
}

/* ---- export ---- */

static const char *noise_name(wp_noise_dist d) { return d == WP_NOISE_UNIFORM ? "uniform" : "quadratic"; }

wp_status wp_trainer_export(wp_trainer *t, const char *path, char *err)
{
    const wp_train_options *o = &t->o;
    char buf[512], scale[48] = "";
    if (o->scale_aug > 1)
        snprintf(scale, sizeof scale, ", box-downscaled %d..%d",
                 o->scale_min > 1 ? o->scale_min : 1, o->scale_aug);
    snprintf(buf, sizeof buf,
             "wprior train: %s%s, %ld steps per network (%d of %d networks done), batch %d of "
             "%dx%d%s, Adam lr %g, noise %s %g..%g%s%s, seed %" PRIu64 "%s",
             o->only[0] ? "only " : "all networks", o->only, o->steps,
             wp_trainer_done(t) ? t->nstages : t->stage, t->nstages, o->batch, o->patch,
             o->patch, scale, (double)o->lr, noise_name(o->noise),
             (double)o->noise_min, (double)o->noise_max, o->projected_noise ? " projected" : "", o->clip ? " clipped" : "", o->seed,
             o->finetune ? ", fine-tuned from a model (training.base)" : "");
    int fill = !strcmp(o->only, "fill"), up = !strcmp(o->only, "up");
    if (fill) /* the base's nets keep their own record */
        snprintf(buf, sizeof buf,
                 "wprior train: only fill, %ld steps (%s), batch %d of %dx%d%s, Adam lr %g, "
                 "unknown pixels %g..%g, seed %" PRIu64,
                 o->steps, wp_trainer_done(t) ? "done" : "unfinished", o->batch, o->patch,
                 o->patch, scale, (double)o->lr, (double)o->fill_min, (double)o->fill_max,
                 o->seed);
    if (up)
        snprintf(buf, sizeof buf,
                 "wprior train: only up, %ld steps (%s), batch %d of %dx%d%s, Adam lr %g, "
                 "seed %" PRIu64 "%s",
                 o->steps, wp_trainer_done(t) ? "done" : "unfinished", o->batch, o->patch,
                 o->patch, scale, (double)o->lr, o->seed,
                 o->finetune ? ", started from the model's up net or cond0" : "");
    if (o->ema > 0.0f) {
        size_t n = strlen(buf);
        snprintf(buf + n, sizeof buf - n, ", weight average %g", (double)o->ema);
    }
    wp_status st = wp_prior_set_meta(t->prior,
                                     fill ? "training.fill" : up ? "training.up" : "training", buf,
                                     err);
    if (st)
        return st;
    wp_trainer_swap_ema(t);
    st = wp_prior_save(t->prior, path, err);
    wp_trainer_swap_ema(t);
    return st;
}
