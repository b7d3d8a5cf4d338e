/* run_options.c: the options every job shares (--threads, --max-memory,
 * --tile, --seed, the sampler knobs) and the progress display. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_common.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !(v > 0))
        return -1;
    double mul = 1;
    if (*end == 'K' || *end == 'k') mul = 1024.0, end++;
    else if (*end == 'M' || *end == 'm') mul = 1048576.0, end++;
    else if (*end == 'G' || *end == 'g') mul = 1073741824.0, end++;
    if (*end == 'i') end++;
    if (*end == 'B') end++;
    if (*end || v * mul > 1e15 || v * mul < 1)
        return -1;
    *out = (size_t)(v * mul);
    return 0;
}

static int parse_float(const char *s, const char *what, float *out)
{
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (end == s || *end || errno) {
        cli_error("%s must be a number, not '%s'", what, s);
        return -1;
    }
    *out = v;
    return 0;
}

const char *cli_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        cli_error("%s needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

int cli_missing(const char *cmd, int npos, const char *const *names, int n)
{
    if (npos >= n)
        return 0;
    char list[256] = "";
    size_t used = 0;
    for (int i = npos; i < n; i++)
        used += snprintf(list + used, used < sizeof list ? sizeof list - used : 0, "%s%s",
                         i > npos ? " and " : "", names[i]);
    cli_error("%s: missing %s (`wprior %s --help` describes the command)", cmd, list, cmd);
    return 2;
}

int cli_positional(const char *a, const char **pos, int *npos, int max)
{
    if (a[0] == '-' && a[1]) {
        cli_error("unknown option '%s'", a);
        return -1;
    }
    if (*npos >= max) {
        cli_error("unexpected argument '%s'", a);
        return -1;
    }
    pos[(*npos)++] = a;
    return 0;
}

int cli_job_option(cli_job *j, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    if (!strcmp(a, "--help"))
        return CLI_OPT_HELP;
    if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
        if (!(j->model = cli_value(argc, argv, i)))
            return CLI_OPT_ERROR;
        return CLI_OPT_TAKEN;
    }
    static const char *const with_value[] = {"--threads", "--max-memory", "--tile", "--border", "--seed",
                                             "--sigma0", "--sigma-l", "--h0", "--beta",
                                             "--max-iter", NULL};
    int known = 0;
    for (int k = 0; with_value[k]; k++)
        known |= !strcmp(a, with_value[k]);
    if (!known)
        return CLI_OPT_NONE;
    const char *v = cli_value(argc, argv, i);
    if (!v)
        return CLI_OPT_ERROR;
    long n;
    if (!strcmp(a, "--threads")) {
        if (cli_parse_int(v, "--threads", 1, 256, &n))
            return CLI_OPT_ERROR;
        j->run.threads = (int)n;
    } else if (!strcmp(a, "--max-memory")) {
        if (parse_size(v, &j->run.max_memory)) {
            cli_error("--max-memory takes a size such as 512M or 2G, not '%s'", v);
            return CLI_OPT_ERROR;
        }
    } else if (!strcmp(a, "--border")) {
        if (!strcmp(v, "zero"))
            j->run.border = WP_BORDER_ZERO;
        else if (!strcmp(v, "mirror"))
            j->run.border = WP_BORDER_MIRROR;
        else {
            cli_error("--border is zero or mirror, not '%s'", v);
            return CLI_OPT_ERROR;
        }
    } else if (!strcmp(a, "--tile")) {
        if (cli_parse_int(v, "--tile", 16, 1 << 20, &n))
            return CLI_OPT_ERROR;
        j->run.tile_size = (int)n;
    } else if (!strcmp(a, "--seed")) {
        char *end;
        errno = 0;
        unsigned long long s = strtoull(v, &end, 10);
        if (end == v || *end || errno || v[0] == '-') {
            cli_error("--seed must be an integer in 0..%llu, not '%s'", ~0ULL, v);
            return CLI_OPT_ERROR;
        }
        j->seed = s;
    } else if (!strcmp(a, "--max-iter")) {
        if (cli_parse_int(v, "--max-iter", 1, 100000, &n))
            return CLI_OPT_ERROR;
        j->sampler.max_iter = (int)n;
    } else {
        float *dst = !strcmp(a, "--sigma0") ? &j->sampler.sigma0
                     : !strcmp(a, "--sigma-l") ? &j->sampler.sigma_l
                     : !strcmp(a, "--h0") ? &j->sampler.h0 : &j->sampler.beta;
        if (parse_float(v, a, dst))
            return CLI_OPT_ERROR;
        if (!(*dst > 0)) {
            cli_error("%s must be > 0", a);
            return CLI_OPT_ERROR;
        }
    }
    return CLI_OPT_TAKEN;
}

const char *cli_job_usage(void)
{
    return "  --threads N        threads (default: all cores)\n"
           "  --max-memory SIZE  budget for the engine's buffers, e.g. 512M, 2G (default 1G)\n"
           "  --tile N           tile side in pixels (default: the largest that fits)\n"
           "  --border zero|mirror  what the networks see beyond the image border: their\n"
           "                     zero padding or the mirrored image (default: the model's\n"
           "                     choice; for trained priors zero to denoise, mirror to\n"
           "                     upscale and sample; zero for imported ones)\n";
}

const char *cli_sampler_usage(void)
{
    return "  --seed N           random seed (default 0)\n"
           "  --sigma0 S --sigma-l S --h0 H --beta B --max-iter N\n"
           "                     knobs of the stochastic ascent (see README)\n";
}

/* A progress bar with ETA on a terminal; nothing otherwise. */
static void show_progress(double f, void *data)
{
    cli_job *j = data;
    double t = now() - j->start;
    if (!j->tty || t - j->last_draw < 0.1)
        return;
    j->last_draw = t;
    int width = 30, filled = (int)(f * width + 0.5);
    char bar[64];
    for (int k = 0; k < width; k++)
        bar[k] = k < filled ? '#' : '.';
    bar[width] = '\0';
    double eta = f > 0.001 ? t * (1 - f) / f : 0;
    fprintf(stderr, "\r%s [%s] %5.1f%%  %5.1fs elapsed, ETA %5.1fs ", j->what, bar, 100 * f,
            t, eta);
    fflush(stderr);
}

void cli_job_init(cli_job *j, const char *what)
{
    memset(j, 0, sizeof *j);
    j->what = what;
    j->tty = isatty(2);
    j->run.progress = show_progress;
    j->run.progress_data = j;
}

void cli_job_start(cli_job *j)
{
    j->start = now();
}

double cli_job_finish(cli_job *j)
{
    if (j->tty && j->last_draw > 0)
        fputs("\r\033[K", stderr);
    return now() - j->start;
}
