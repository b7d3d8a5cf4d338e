/* cmd_train.c: `wprior train`: trains a prior from a folder of images,
 * with checkpoints (every N steps, at every network's end, on SIGINT and
 * SIGTERM), a live status line, a JSON-lines log and a throughput summary. */
#include <errno.h>
#include <glob.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_comm.h"
#include "cli_common.h"
#include "cli_train.h"

static int train_usage(FILE *f)
{
    fprintf(f,
        "usage: wprior train --data DIR|LIST -o MODEL [options]\n"
        "       wprior train --resume CKPT [-o MODEL] [--data DIR|LIST] [run options]\n"
        "Trains a multi-scale prior (cond0 .. cond{J-1}, then the low-pass net) on random\n"
        "crops of the images in DIR (recursive, PNG/JPEG) or listed in LIST (one path a\n"
        "line, relative to LIST's folder).  Gray priors see the mean of R, G and B.\n"
        "\n"
        "what to train:\n"
        "  --preset small|paper|tiny  defaults (small: J=1, ~1 h on 2 cores; paper: the\n"
        "                         reference sizes; tiny: seconds, for tests)   [small]\n"
        "  --channels 1|3         gray or RGB prior                         [1]\n"
        "  --levels J             pyramid levels                 [small 1, paper 2]\n"
        "  --flat                 one pixel-domain net shaped like the conditional ones\n"
        "  --only NET             train only low, cond0, cond1, ... (or flat), or fill:\n"
        "                         the fast inpainting's correction of its fill, or up:\n"
        "                         the fast upscale's details from the low-pass\n"
        "  --fill-rate MIN,MAX    fill: the share of unknown pixels in the crops with\n"
        "                         random pixels missing                [0.5,0.9]\n"
        "  --base MODEL           with --only: the other networks come from MODEL\n"
        "  --finetune MODEL       start the trained networks from MODEL's weights\n"
        "                         (same architecture options; use a lower --lr, e.g.\n"
        "                         3e-4); the other networks come from it as with --base\n"
        "                         (--flat from a multi-scale MODEL: its den, or else its\n"
        "                         low-pass net, for `wprior combine --den`)\n"
        "  --width W --layers L --rf R          conditional (and flat) nets\n"
        "  --low-width W --low-layers L --low-rf R   low-pass net (rf 0: all 3x3)\n"
        "how:\n"
        "  --patch P --batch N    crops of PxP band pixels, N per step\n"
        "  --steps N              steps per network\n"
        "  --lr LR --schedule cosine|step|const --halve-every N --warmup N\n"
        "  --ema D                validation and the model take the weights' moving\n"
        "                         average, D the old average's share per step (0.999:\n"
        "                         about the last 1000 steps; 0: off)             [0]\n"
        "  --noise MIN,MAX        noise sigma range in 0..255 units\n"
        "                                               [small 0,60, paper 0,255]\n"
        "  --noise-dist quadratic|uniform     [small uniform, paper quadratic]\n"
        "  --loss-sigma S         weight each example's squared error by\n"
        "                         S^2/(S^2+sigma^2): noise levels above S count as in\n"
        "                         PSNR, the low ones are not drowned (0: plain) [0]\n"
        "  --band-noise projected|full   each band gets its share of the pixel noise\n"
        "                         (sigma/2^J low-pass, sigma/2^(j+1) level j), or the\n"
        "                         reference's ranges (sigma low-pass, sigma/2 details)\n"
        "  --rescale-low, --no-rescale-low   random intensity scaling of low-pass\n"
        "                         crops, as the reference (for sampling) [small off, paper on]\n"
        "  --no-flips             no random flips/rotations\n"
        "  --clip, --no-clip      noise on the pixels, clipped to [0,1] as in a saved noisy\n"
        "                         image (needs projected band noise)     [no clip]\n"
        "  --scale-aug F          random box downscaling by 1..F\n"
        "  --scale-min M          ... by M..F (M <= F): targets free of the sources' own noise\n"
        "  --weight image|area    how often each image is cropped            [image]\n"
        "  --val DIR|LIST         validation images (default: crops of the training set)\n"
        "  --val-every N --val-crops N --val-sigma S   validation PSNR at sigma S [25]\n"
        "  --diverge F            stop when the smoothed loss grows F x its best [20]\n"
        "  --seed S --threads N\n"
        "run options (also with --resume):\n"
        "  --checkpoint CKPT      default MODEL.ckpt\n"
        "  --checkpoint-every N   steps between checkpoints                 [500]\n"
        "  --log FILE             JSON-lines log (appended)         [MODEL.log.jsonl]\n"
        "  --log-every N          steps between log lines                   [10]\n"
        "  --max-steps N          stop (checkpointed) after N steps in this run\n"
        "  --time-limit SECONDS   stop (checkpointed) after this long\n"
        "  --name NAME --description TEXT   model metadata\n"
        "  -q, --quiet            no live status line\n"
        "Ctrl-C (or SIGTERM) checkpoints and stops; --resume continues exactly.\n"
        "Under mpirun (or srun) the ranks share every batch; rank 0 writes the checkpoint,\n"
        "log and model; a checkpoint resumes on any number of ranks.\n");
    return f == stdout ? 0 : 2;
}

/* ---- options ---- */

#define FAIL(...)                                                                              \
    do {                                                                                       \
        cli_error(__VA_ARGS__);                                                                \
        return -1;                                                                             \
    } while (0)

typedef struct {
    const char *data, *val, *out, *ckpt, *resume, *log, *base, *name, *desc;
    long ckpt_every, max_steps, log_every;
    double time_limit;
    int quiet, train_opts; /* train_opts: options that --resume cannot change */
} train_args;

static int parse_num(const char *s, const char *what, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !(v >= lo && v <= hi)) {
        cli_error("%s must be a number in %g..%g, not '%s'", what, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* MIN,MAX of option `opt` with 0 <= MIN <= MAX <= top. */
static int parse_range(const char *opt, const char *s, double top, float *lo, float *hi)
{
    char *end;
    double a = strtod(s, &end), b = 0;
    if (end == s || *end != ',' || parse_num(end + 1, opt, 0, top, &b) || !(a >= 0 && a <= b)) {
        cli_error("%s takes MIN,MAX with 0 <= MIN <= MAX <= %g, not '%s'", opt, top, s);
        return -1;
    }
    *lo = (float)a;
    *hi = (float)b;
    return 0;
}

/* Applies one option with value v to o/a.  Returns 0, 1 when the name is
 * not a training option, -1 on a bad value. */
static int set_option(wp_train_options *o, train_args *a, const char *k, const char *v)
{
    long n;
    double d;
#define INT(name, field, lo, hi)                                                               \
    if (!strcmp(k, name)) {                                                                    \
        if (cli_parse_int(v, name, lo, hi, &n))                                                \
            return -1;                                                                         \
        field = n;                                                                             \
        return 0;                                                                              \
    }
    INT("--levels", o->levels, 1, 6)
    INT("--width", o->cond.width, 1, 1024)
    INT("--layers", o->cond.layers, 3, 256)
    INT("--rf", o->cond.rf, 0, 1025)
    INT("--low-width", o->low.width, 1, 1024)
    INT("--low-layers", o->low.layers, 3, 256)
    INT("--low-rf", o->low.rf, 0, 1025)
    INT("--patch", o->patch, 4, 512)
    INT("--batch", o->batch, 1, 4096)
    INT("--steps", o->steps, 1, 1000000000)
    INT("--halve-every", o->lr_halve_every, 0, 1000000000)
    INT("--warmup", o->warmup, 0, 1000000000)
    INT("--scale-aug", o->scale_aug, 1, 8)
    INT("--scale-min", o->scale_min, 1, 8)
    INT("--val-every", o->val_every, 0, 1000000000)
    INT("--val-crops", o->val_batch, 1, 1024)
    INT("--threads", o->threads, 0, 1024)
#undef INT
    if (!strcmp(k, "--seed")) {
        char *end;
        errno = 0;
        o->seed = strtoull(v, &end, 10);
        if (end == v || *end || errno)
            FAIL("--seed must be a non-negative integer, not '%s'", v);
    } else if (!strcmp(k, "--lr")) {
        if (parse_num(v, k, 1e-9, 1, &d))
            return -1;
        o->lr = (float)d;
    } else if (!strcmp(k, "--ema")) {
        if (parse_num(v, k, 0, 0.999999, &d))
            return -1;
        o->ema = (float)d;
    } else if (!strcmp(k, "--val-sigma")) {
        if (parse_num(v, k, 0.01, 1000, &d))
            return -1;
        o->val_sigma = (float)d;
    } else if (!strcmp(k, "--diverge")) {
        if (parse_num(v, k, 0, 1e9, &d))
            return -1;
        o->diverge = (float)d;
    } else if (!strcmp(k, "--noise")) {
        return parse_range(k, v, 1000, &o->noise_min, &o->noise_max);
    } else if (!strcmp(k, "--fill-rate")) {
        return parse_range(k, v, 1, &o->fill_min, &o->fill_max);
    } else if (!strcmp(k, "--noise-dist")) {
        if (strcmp(v, "quadratic") && strcmp(v, "uniform"))
            FAIL("--noise-dist is quadratic or uniform");
        o->noise = !strcmp(v, "uniform") ? WP_NOISE_UNIFORM : WP_NOISE_QUADRATIC;
    } else if (!strcmp(k, "--loss-sigma")) {
        if (parse_num(v, k, 0, 1000, &d))
            return -1;
        o->loss_sigma = (float)d;
    } else if (!strcmp(k, "--band-noise")) {
        if (strcmp(v, "projected") && strcmp(v, "full"))
            FAIL("--band-noise is projected or full");
        o->projected_noise = !strcmp(v, "projected");
    } else if (!strcmp(k, "--schedule")) {
        if (!strcmp(v, "cosine"))
            o->schedule = WP_LR_COSINE;
        else if (!strcmp(v, "step"))
            o->schedule = WP_LR_STEP;
        else if (!strcmp(v, "const"))
            o->schedule = WP_LR_CONST;
        else
            FAIL("--schedule is cosine, step or const");
    } else if (!strcmp(k, "--weight")) {
        if (strcmp(v, "image") && strcmp(v, "area"))
            FAIL("--weight is image or area");
        o->weight = !strcmp(v, "area") ? WP_WEIGHT_AREA : WP_WEIGHT_IMAGE;
    } else if (!strcmp(k, "--only")) {
        if (strlen(v) >= sizeof o->only)
            FAIL("--only: unknown network '%s'", v);
        snprintf(o->only, sizeof o->only, "%s", v);
    } else if (!strcmp(k, "--base")) {
        a->base = v;
    } else if (!strcmp(k, "--finetune")) {
        a->base = v;
        o->finetune = 1;
    } else if (!strcmp(k, "--channels") || !strcmp(k, "--preset")) {
        /* read in the first pass */
    } else {
        return 1;
    }
    return 0;
}

/* Options taking no value. */
static int set_flag(wp_train_options *o, train_args *a, const char *k)
{
    if (!strcmp(k, "--flat"))
        o->flat = 1;
    else if (!strcmp(k, "--no-rescale-low"))
        o->rescale_low = 0;
    else if (!strcmp(k, "--rescale-low"))
        o->rescale_low = 1;
    else if (!strcmp(k, "--no-flips"))
        o->flips = 0;
    else if (!strcmp(k, "--clip"))
        o->clip = 1;
    else if (!strcmp(k, "--no-clip"))
        o->clip = 0;
    else
        return 1;
    a->train_opts++;
    return 0;
}

/* Run options (allowed with --resume). */
static int set_run_option(train_args *a, const char *k, const char *v)
{
    long n;
    double d;
    if (!strcmp(k, "--data")) a->data = v;
    else if (!strcmp(k, "--val")) a->val = v;
    else if (!strcmp(k, "-o") || !strcmp(k, "--output")) a->out = v;
    else if (!strcmp(k, "--checkpoint")) a->ckpt = v;
    else if (!strcmp(k, "--resume")) a->resume = v;
    else if (!strcmp(k, "--log")) a->log = v;
    else if (!strcmp(k, "--name")) a->name = v;
    else if (!strcmp(k, "--description")) a->desc = v;
    else if (!strcmp(k, "--checkpoint-every")) {
        if (cli_parse_int(v, k, 1, 1000000000, &n))
            return -1;
        a->ckpt_every = n;
    } else if (!strcmp(k, "--max-steps")) {
        if (cli_parse_int(v, k, 1, 1000000000, &n))
            return -1;
        a->max_steps = n;
    } else if (!strcmp(k, "--log-every")) {
        if (cli_parse_int(v, k, 1, 1000000000, &n))
            return -1;
        a->log_every = n;
    } else if (!strcmp(k, "--time-limit")) {
        if (parse_num(v, k, 0, 1e9, &d))
            return -1;
        a->time_limit = d;
    } else
        return 1;
    return 0;
}

/* Two passes: --preset/--channels pick the defaults, then everything else. */
static int parse_args(int argc, char **argv, wp_train_options *o, train_args *a)
{
    const char *preset = "small";
    long channels = 1;
    memset(a, 0, sizeof *a);
    a->ckpt_every = 500;
    a->log_every = 10;
    for (int i = 1; i + 1 < argc; i++) {
        if (!strcmp(argv[i], "--preset"))
            preset = argv[++i];
        else if (!strcmp(argv[i], "--channels") &&
                 (cli_parse_int(argv[++i], "--channels", 1, 3, &channels) || channels == 2))
            FAIL("--channels is 1 or 3");
    }
    if (wp_train_defaults(o, preset, (int)channels))
        FAIL("unknown preset '%s' (small, paper or tiny)", preset);
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        if (!strcmp(k, "--help") || !strcmp(k, "-h"))
            return train_usage(stdout) + 1;
        if (!strcmp(k, "-q") || !strcmp(k, "--quiet")) {
            a->quiet = 1;
            continue;
        }
        int r = set_flag(o, a, k);
        if (r <= 0)
            continue;
        if (i + 1 >= argc) {
            cli_error("unknown option or missing value: '%s'", k);
            return -1;
        }
        const char *v = argv[++i];
        if ((r = set_run_option(a, k, v)) < 0)
            return -1;
        if (r == 0)
            continue;
        if ((r = set_option(o, a, k, v)) < 0)
            return -1;
        if (r > 0) {
            cli_error("unknown option '%s'", k);
            return -1;
        }
        a->train_opts++;
    }
    return 0;
}

/* ---- live status and log ---- */

static volatile sig_atomic_t stop_signal;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void on_signal(int sig) { stop_signal = sig; }

typedef struct {
    const train_args *a;
    FILE *log;
    int tty;
    double wall0, last_draw, stage_t0, val_psnr, val_in;
    long stage_step0;
    int stage;
    char line[256];
} live;

static void json_num(FILE *f, const char *key, double v)
{
    if (isfinite(v))
        fprintf(f, ",\"%s\":%.7g", key, v);
    else
        fprintf(f, ",\"%s\":null", key);
}

static void fmt_eta(char *buf, size_t len, double s)
{
    if (!isfinite(s) || s < 0)
        snprintf(buf, len, "--");
    else if (s >= 3600)
        snprintf(buf, len, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else
        snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
}

static int on_step(const wp_train_report *r, void *user)
{
    live *L = user;
    double now = now_s();
    if (r->stage != L->stage || r->step == 1) {
        L->stage = r->stage;
        L->stage_t0 = now;
        L->stage_step0 = r->step - 1;
        L->val_psnr = L->val_in = NAN;
    }
    int val = isfinite(r->val_psnr);
    if (val)
        L->val_psnr = r->val_psnr, L->val_in = r->val_input_psnr;
    if (L->log && (r->step % L->a->log_every == 0 || val || r->step == r->steps)) {
        fprintf(L->log, "{\"net\":\"%s\",\"stage\":%d,\"step\":%ld,\"steps\":%ld,\"total_step\":%ld",
                r->net, r->stage, r->step, r->steps, r->total_step);
        json_num(L->log, "loss", r->loss);
        json_num(L->log, "loss_avg", r->loss_avg);
        json_num(L->log, "lr", r->lr);
        json_num(L->log, "val_psnr", r->val_psnr);
        json_num(L->log, "val_input_psnr", r->val_input_psnr);
        json_num(L->log, "seconds", r->seconds);
        json_num(L->log, "samples_per_s", r->samples_per_s);
        json_num(L->log, "gflops_per_s", r->gflops_per_s);
        fputs("}\n", L->log);
        fflush(L->log);
    }
    double rate = (r->step - L->stage_step0) / fmax(now - L->stage_t0, 1e-9);
    char eta[32];
    fmt_eta(eta, sizeof eta, (double)(r->total_steps - r->total_step) / rate);
    snprintf(L->line, sizeof L->line,
             "%s [%d/%d] step %ld/%ld  loss %.3e  val %.2f dB (noisy %.2f)  %.2f steps/s  ETA %s",
             r->net, r->stage + 1, r->stages, r->step, r->steps, r->loss_avg, L->val_psnr,
             L->val_in, rate, eta);
    if (!L->a->quiet) {
        if (L->tty && (now - L->last_draw > 0.25 || r->step == r->steps)) {
            fprintf(stderr, "\r%-110s", L->line);
            L->last_draw = now;
        } else if (!L->tty && (val || r->step == r->steps)) {
            fprintf(stderr, "%s\n", L->line);
        }
    }
    return L->a->time_limit > 0 && now - L->wall0 > L->a->time_limit;
}

static void end_line(const live *L)
{
    if (L->tty && !L->a->quiet && L->last_draw > 0)
        fputc('\n', stderr);
}

/* ---- files ---- */

/* Temporary files a killed writer left beside path ("path.tmp-XXXXXX"). */
static void remove_stale_tmp(const char *path)
{
    char pat[4200];
    glob_t g;
    snprintf(pat, sizeof pat, "%s.tmp-??????", path);
    if (glob(pat, 0, NULL, &g) == 0)
        for (size_t i = 0; i < g.gl_pathc; i++)
            unlink(g.gl_pathv[i]);
    globfree(&g);
}

static char *with_suffix(const char *path, const char *suffix)
{
    size_t n = strlen(path) + strlen(suffix) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s", path, suffix);
    return s;
}

static void print_plan(wp_trainer *t, const wp_dataset *train, const wp_dataset *val)
{
    const wp_train_options *o = wp_trainer_options(t);
    int fill = !strcmp(o->only, "fill");
    char *d = wp_prior_describe(wp_trainer_prior(t));
    fprintf(stderr, "%s", d ? d : "");
    free(d);
    if (!strcmp(o->only, "up")) { /* no noise: the details from the clean low-pass */
        fprintf(stderr,
                "training: %ld steps, batch %d of %dx%d low-pass crops, lr %g (%s), the details "
                "of the clean low-pass, %d train / %d val images, seed %llu\n",
                o->steps, o->batch, o->patch, o->patch, (double)o->lr,
                o->schedule == WP_LR_COSINE ? "cosine" : o->schedule == WP_LR_STEP ? "step" : "const",
                wp_dataset_count(train), wp_dataset_count(val), (unsigned long long)o->seed);
        return;
    }
    fprintf(stderr,
            "training: %ld steps per network, batch %d of %dx%d, lr %g (%s), %s %g..%g (%s), "
            "loss sigma %g, %d train / %d val images, seed %llu\n",
            o->steps, o->batch, o->patch, o->patch, (double)o->lr,
            o->schedule == WP_LR_COSINE ? "cosine" : o->schedule == WP_LR_STEP ? "step" : "const",
            fill ? "unknown pixels" : "noise", (double)(fill ? o->fill_min : o->noise_min),
            (double)(fill ? o->fill_max : o->noise_max),
            fill ? "in the crops with random pixels missing; others a hole or scratches"
            : o->noise == WP_NOISE_QUADRATIC ? "quadratic"
                                             : "uniform",
            (double)o->loss_sigma,
            wp_dataset_count(train),
            wp_dataset_count(val), (unsigned long long)o->seed);
}

static void print_throughput(const wp_trainer *t)
{
    double samples, flops, secs, data;
    wp_trainer_throughput(t, &samples, &flops, &secs, &data);
    if (secs <= 0)
        return;
    fprintf(stderr,
            "throughput: %.0f samples in %.1f s: %.1f samples/s, %.2f GFLOP/s "
            "(batch preparation %.1f%% of the time)\n",
            samples, secs, samples / secs, flops / secs * 1e-9, 100.0 * data / secs);
}

/* ---- the command ---- */

typedef struct {
    train_args a;
    wp_trainer *t;
    wp_dataset *train, *val;
    cli_filelist ltrain, lval;
    char *ckpt_alloc, *log_alloc;
    FILE *log;
    wp_prior *base;
    wp_train_comm comm; /* rank 0 of 1 unless started by an MPI launcher */
} train_run;

static void run_free(train_run *R)
{
    wp_trainer_free(R->t);
    wp_dataset_free(R->train);
    wp_dataset_free(R->val);
    cli_filelist_free(&R->ltrain);
    cli_filelist_free(&R->lval);
    free(R->ckpt_alloc);
    free(R->log_alloc);
    if (R->log)
        fclose(R->log);
    wp_prior_free(R->base);
}

/* Creates or resumes the trainer and records (or recovers) the run's files. */
static int setup(train_run *R, const wp_train_options *o, char *err)
{
    train_args *a = &R->a;
    if (a->resume) {
        if (a->train_opts)
            return cli_error("with --resume the training options come from the checkpoint");
        if (wp_trainer_resume(a->resume, &R->t, err))
            return cli_error("%s", err);
        const char *keys[] = {"data", "val", "output", "log"};
        const char **dst[] = {&a->data, &a->val, &a->out, &a->log};
        for (int i = 0; i < 4; i++)
            if (!*dst[i])
                *dst[i] = wp_trainer_note(R->t, keys[i]);
        if (!a->ckpt)
            a->ckpt = a->resume;
    } else {
        if (!a->data || !a->out)
            return cli_error("give --data DIR|LIST and -o MODEL (or --resume CKPT)");
        if (a->base && !(R->base = cli_load_model(a->base)))
            return 1;
        if (wp_trainer_create(o, R->base, &R->t, err))
            return cli_error("%s", err);
        if (o->only[0] && !R->base && R->comm.rank == 0)
            fprintf(stderr, "wprior: warning: --only %s without --base: the other networks of "
                            "%s keep their initial weights (they pass their bands through)\n",
                    o->only, a->out);
        const char *keys[] = {"data", "val", "output", "log"};
        const char *vals[] = {a->data, a->val, a->out, a->log};
        for (int i = 0; i < 4; i++)
            if (vals[i] && wp_trainer_set_note(R->t, keys[i], vals[i], err))
                return cli_error("%s", err);
    }
    if (!a->data || !a->out)
        return cli_error("the checkpoint does not say where the data or the model go: give "
                         "--data and -o");
    wp_prior *p = wp_trainer_prior(R->t);
    if ((a->name && wp_prior_set_meta(p, "name", a->name, err)) ||
        (a->desc && wp_prior_set_meta(p, "description", a->desc, err)))
        return cli_error("%s", err);
    if (!a->ckpt)
        a->ckpt = R->ckpt_alloc = with_suffix(a->out, ".ckpt");
    if (!a->log)
        a->log = R->log_alloc = with_suffix(a->out, ".log.jsonl");
    if (!a->ckpt || !a->log)
        return cli_error("out of memory");
    if (R->comm.rank == 0 && !(R->log = fopen(a->log, "a")))
        return cli_error("%s: %s", a->log, strerror(errno));
    return 0;
}

static int load_data(train_run *R, char *err)
{
    train_args *a = &R->a;
    int C = wp_trainer_options(R->t)->channels, verbose = !a->quiet;
    if (cli_list_images(a->data, &R->ltrain) ||
        !(R->train = cli_load_dataset(&R->ltrain, C, "training", verbose)))
        return 1;
    if (a->val && (cli_list_images(a->val, &R->lval) ||
                   !(R->val = cli_load_dataset(&R->lval, C, "validation", verbose))))
        return 1;
    if (wp_trainer_set_data(R->t, R->train, R->val, err) ||
        wp_trainer_set_comm(R->t, &R->comm, err))
        return cli_error("%s", err);
    const char *h = wp_trainer_note(R->t, "resume.data_hash");
    char now[32];
    snprintf(now, sizeof now, "%016llx", (unsigned long long)wp_dataset_hash(R->train));
    if (h && strcmp(h, now) && R->comm.rank == 0)
        fprintf(stderr, "wprior: warning: the training images changed since the checkpoint; "
                        "the run goes on but is no longer the same\n");
    return 0;
}

/* Whether every rank holds the same state (MPI does not promise that a sum
 * gives every rank the same bits; replicas that drift apart would train
 * no model at all). */
static int ranks_agree(const train_run *R)
{
    if (R->comm.size <= 1)
        return 1;
    uint64_t h64 = wp_trainer_state_hash(R->t);
    double h = (double)(uint32_t)(h64 ^ (h64 >> 32)), sum = h; /* exact sums below 2^21 ranks */
    int differ = R->comm.sum_f64(R->comm.ctx, &sum, 1) || sum != h * R->comm.size;
    if (cli_comm_any(&R->comm, differ)) {
        if (R->comm.rank == 0)
            cli_error("the ranks' networks differ (their MPI sums disagreed); the last "
                      "checkpoint is left as it was");
        return 0;
    }
    return 1;
}

/* Rank 0 writes (every rank holds the same state); all learn whether it could. */
static int save_all(train_run *R, int model_too, char *err)
{
    int bad = 0;
    if (!ranks_agree(R))
        return 1;
    if (R->comm.rank == 0) {
        if (wp_trainer_save_checkpoint(R->t, R->a.ckpt, err) ||
            (model_too && wp_trainer_export(R->t, R->a.out, err)))
            bad = cli_error("%s", err);
    }
    return cli_comm_any(&R->comm, bad);
}

int cmd_train(int argc, char **argv)
{
    train_run R;
    memset(&R, 0, sizeof R);
    wp_train_options o;
    char err[WP_ERRLEN];
    int r = parse_args(argc, argv, &o, &R.a);
    if (r)
        return r > 0 ? 0 : (train_usage(stderr), 2);
    if (cli_comm_init(&argc, &argv, &R.comm))
        return 1;
    if (R.comm.rank > 0)
        R.a.quiet = 1; /* rank 0 speaks for the run */
    int rc = 1;
    /* Every rank fails or none: the others would wait in a sum forever. */
    int bad = setup(&R, &o, err) || load_data(&R, err);
    if (cli_comm_any(&R.comm, bad))
        goto done;
    if (R.comm.rank == 0) {
        remove_stale_tmp(R.a.ckpt);
        remove_stale_tmp(R.a.out);
    }
    if (!R.a.quiet)
        print_plan(R.t, R.train, R.val);
    if (!R.a.quiet && R.comm.size > 1)
        fprintf(stderr, "%d MPI ranks share each batch of %d crops\n", R.comm.size,
                wp_trainer_options(R.t)->batch);
    live L = {.a = &R.a, .log = R.log, .tty = isatty(2), .wall0 = now_s(), .stage = -1};
    wp_trainer_set_callback(R.t, on_step, &L);
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    const volatile int *stop = (const volatile int *)&stop_signal;
    long budget = R.a.max_steps;
    while (!wp_trainer_done(R.t)) {
        int stage, stages;
        long step;
        wp_trainer_progress(R.t, &stage, &stages, &step);
        long steps = wp_trainer_options(R.t)->steps;
        long chunk = R.a.ckpt_every - step % R.a.ckpt_every;
        if (chunk > steps - step)
            chunk = steps - step;
        if (budget > 0 && chunk > budget)
            chunk = budget;
        wp_status st = wp_trainer_run(R.t, chunk, stop, err);
        if (st) {
            end_line(&L);
            if (R.comm.rank == 0) { /* every rank stops here, on the same step */
                cli_error("%s", err);
                fprintf(stderr, "wprior: stopped; the last good checkpoint is %s (resume with "
                                "--resume, perhaps after lowering --lr in a new run)\n", R.a.ckpt);
            }
            goto done;
        }
        int stage2, stages2;
        long step2;
        wp_trainer_progress(R.t, &stage2, &stages2, &step2);
        long did = stage2 > stage ? steps - step + step2 : step2 - step;
        if (save_all(&R, stage2 > stage, err))
            goto done;
        if (budget > 0 && (budget -= did) <= 0)
            break;
        if (cli_comm_any(&R.comm, stop_signal != 0) || did < chunk)
            break; /* a signal (on any rank), or the callback's time limit */
    }
    end_line(&L);
    if (save_all(&R, 1, err))
        goto done;
    if (R.comm.rank == 0)
        print_throughput(R.t);
    if (wp_trainer_done(R.t)) {
        if (R.comm.rank == 0)
            fprintf(stderr, "trained: %s\n", R.a.out);
        rc = 0;
    } else if (R.comm.rank > 0) {
        rc = stop_signal ? 128 + stop_signal : 0;
    } else {
        int stage, stages;
        long step;
        wp_trainer_progress(R.t, &stage, &stages, &step);
        fprintf(stderr, "stopped at network %d/%d, step %ld; checkpoint %s (continue with "
                        "`wprior train --resume %s`), model so far in %s\n",
                stage + 1, stages, step, R.a.ckpt, R.a.ckpt, R.a.out);
        rc = stop_signal ? 128 + stop_signal : 0;
    }
done:
    run_free(&R);
    cli_comm_finish();
    return rc;
}
