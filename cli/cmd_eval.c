/* cmd_eval.c: `wprior eval`: denoising PSNR of a prior (and optionally a
 * flat one) on clean images at several noise levels, as a table and, with
 * cairo, as the paper's plot of output against input PSNR. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef HAVE_CAIRO
#include <cairo.h>
#endif

#include "cli_common.h"
#include "cli_train.h"

#define MAX_SIGMAS 16

static int eval_usage(FILE *f)
{
    fprintf(f,
            "usage: wprior eval -m MODEL --clean DIR|LIST [--sigma 5,15,25,50,75]\n"
            "                   [--flat FLATMODEL] [--plot PNG] [options]\n"
            "Adds Gaussian noise (seeded) to every clean image, denoises it and prints the mean\n"
            "PSNR (peak 1) of the noisy and denoised images per sigma (0..255 units).  A gray\n"
            "prior is evaluated on the mean of R, G and B unless --rgb is given.\n"
            "  --flat FLATMODEL   also evaluate a flat model on the same noisy images\n"
            "  --plot PNG         output against input PSNR, as in the paper%s\n"
            "  --seed S           noise seed                                   [1]\n"
            "  --crop N           centre crop of at most NxN pixels (faster)\n"
            "  --clip             clip the noisy image to [0,1] and round it to 16 bits, as a\n"
            "                     saved file would be; the denoised result is then corrected\n"
            "                     for the clipping bias (as `wprior denoise` does)\n"
            "  --no-unclip        with --clip: leave the clipping bias uncorrected\n"
            "  --save-noisy DIR   write DIR/NNN_clean.png and DIR/NNN_noisyS.png (16-bit;\n"
            "                     implies --clip) for other denoisers\n"
            "  --external CMD     also run another denoiser on the same (clipped) noisy files:\n"
            "                     CMD is a shell command with {in}, {out} and {sigma}, e.g.\n"
            "                     'gegl -i {in} -o {out} -- denoise-dct sigma={sigma}'\n"
            "  --per-image        one line per image and sigma\n"
            "  --rgb              a gray prior on colour images, as `wprior denoise` runs it\n"
            "                     on an RGB photograph\n"
            "  --ensemble N       denoise as `wprior denoise --ensemble N` does      [1]\n"
            "  --fast             denoise as `wprior denoise --fast` does\n"
            "  --blend            denoise as `wprior denoise --blend` does\n"
            "  --wiener, --no-wiener  denoise as `wprior denoise` does with them\n"
            "  --oracle low|details  take the coarsest low-pass (or every level's details)\n"
            "                     from the clean image instead of the network: what the\n"
            "                     score would be if that network were perfect (with a\n"
            "                     denoising entry net at level L: the level-L low-pass)\n"
            "  --oracle low:L     the clean low-pass of level L (1..J): only the detail\n"
            "                     nets below L work, to show which level holds the error\n"
            "  --random-missing F[,F...]  instead of denoising: remove a fraction F of the\n"
            "                     pixels (seeded), fill them with `wprior inpaint` (fast\n"
            "                     mode) and the diffusion fill, and print the PSNR inside\n"
            "                     the removed pixels\n",
#ifdef HAVE_CAIRO
            ""
#else
            " (this build has no cairo)"
#endif
    );
    return f == stdout ? 0 : 2;
}

typedef struct {
    const char *model, *flat, *clean, *plot, *save, *external;
    float sigma[MAX_SIGMAS], missing[MAX_SIGMAS];
    int nsigma, nmissing, crop, clip, no_unclip, per_image, rgb, ensemble, oracle, olevel, fast,
        blend, wiener;
    unsigned long long seed;
} eval_args;

/* A comma-separated list of up to MAX_SIGMAS values in (0, hi] (below 1
 * when hi is 1). */
static int parse_list(const char *s, const char *opt, double hi, float *out, int *n)
{
    *n = 0;
    while (*s) {
        char *end;
        double v = strtod(s, &end);
        if (end == s || !(v > 0 && v <= hi && (hi != 1 || v < 1)) || (*end && *end != ',') ||
            *n == MAX_SIGMAS)
            return cli_error("%s takes up to %d comma-separated values in (0,%g%s", opt,
                             MAX_SIGMAS, hi, hi == 1 ? ")" : "]");
        out[(*n)++] = (float)v;
        s = *end ? end + 1 : end;
    }
    return *n ? 0 : cli_error("%s is empty", opt);
}

static int parse_sigmas(const char *s, eval_args *a)
{
    return parse_list(s, "--sigma", 1000, a->sigma, &a->nsigma);
}

static int parse_eval(int argc, char **argv, eval_args *a)
{
    memset(a, 0, sizeof *a);
    a->seed = 1;
    parse_sigmas("5,15,25,50,75", a);
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        long n;
        if (!strcmp(k, "--help") || !strcmp(k, "-h"))
            return -1;
        if (!strcmp(k, "--clip")) {
            a->clip = 1;
            continue;
        }
        if (!strcmp(k, "--no-unclip")) {
            a->no_unclip = 1;
            continue;
        }
        if (!strcmp(k, "--per-image")) {
            a->per_image = 1;
            continue;
        }
        if (!strcmp(k, "--rgb")) {
            a->rgb = 1;
            continue;
        }
        if (!strcmp(k, "--fast")) {
            a->fast = 1;
            continue;
        }
        if (!strcmp(k, "--blend")) {
            a->blend = 1;
            continue;
        }
        if (!strcmp(k, "--no-wiener")) {
            a->wiener = WP_WIENER_OFF;
            continue;
        }
        if (!strcmp(k, "--wiener")) {
            a->wiener = WP_WIENER_ON;
            continue;
        }
        if (i + 1 >= argc)
            return cli_error("unknown option or missing value: '%s'", k) + 1;
        const char *v = argv[++i];
        if (!strcmp(k, "-m") || !strcmp(k, "--model"))
            a->model = v;
        else if (!strcmp(k, "--flat"))
            a->flat = v;
        else if (!strcmp(k, "--clean"))
            a->clean = v;
        else if (!strcmp(k, "--plot"))
            a->plot = v;
        else if (!strcmp(k, "--save-noisy"))
            a->save = v, a->clip = 1;
        else if (!strcmp(k, "--external"))
            a->external = v, a->clip = 1;
        else if (!strcmp(k, "--sigma")) {
            if (parse_sigmas(v, a))
                return 2;
        } else if (!strcmp(k, "--random-missing")) {
            if (parse_list(v, k, 1, a->missing, &a->nmissing))
                return 2;
        } else if (!strcmp(k, "--crop")) {
            if (cli_parse_int(v, k, 8, 1 << 20, &n))
                return 2;
            a->crop = (int)n;
        } else if (!strcmp(k, "--ensemble")) {
            if (cli_parse_int(v, k, 1, 32, &n))
                return 2;
            a->ensemble = (int)n;
        } else if (!strcmp(k, "--oracle")) {
            if (!strncmp(v, "low:", 4)) {
                if (cli_parse_int(v + 4, "--oracle low:L", 1, 6, &n))
                    return 2;
                a->olevel = (int)n;
            } else if (strcmp(v, "low") && strcmp(v, "details"))
                return cli_error("--oracle is low, low:L or details") + 1;
            a->oracle = strcmp(v, "details") ? WP_ORACLE_LOW : WP_ORACLE_DETAILS;
        } else if (!strcmp(k, "--seed")) {
            if (cli_parse_int(v, k, 0, 2147483647, &n))
                return 2;
            a->seed = (unsigned long long)n;
        } else
            return cli_error("unknown option '%s'", k) + 1;
    }
    if (!a->clean)
        return cli_error("give --clean DIR|LIST") + 1;
    if (a->nmissing && (a->oracle || a->flat || a->external || a->save || a->plot || a->clip))
        return cli_error("--random-missing scores inpainting: no --oracle, --flat, --external, "
                         "--save-noisy, --plot or --clip") + 1;
    if (a->oracle && a->ensemble > 1)
        return cli_error("--oracle works on one pass (no --ensemble)") + 1;
    if (a->fast && a->blend)
        return cli_error("--fast and --blend exclude each other") + 1;
    return 0;
}

/* Centre crop of at most N x N, in place. */
static void centre_crop(float *p, int C, int *H, int *W, int N)
{
    int h = *H < N ? *H : N, w = *W < N ? *W : N, y0 = (*H - h) / 2, x0 = (*W - w) / 2;
    float *dst = p;
    for (int c = 0; c < C; c++)
        for (int i = 0; i < h; i++) {
            memmove(dst, p + ((size_t)c * *H + y0 + i) * *W + x0, sizeof(float) * w);
            dst += w;
        }
    *H = h;
    *W = w;
}

static int save_planar(const char *path, const float *p, int C, int H, int W)
{
    wp_image img;
    char err[512];
    if (wp_image_alloc(&img, W, H, C, 16, err, sizeof err))
        return cli_error("%s", err);
    cli_from_planar(&img, p);
    int rc = wp_image_write_png(path, &img, err, sizeof err) ? cli_error("%s", err) : 0;
    wp_image_free(&img);
    return rc;
}

/* ---- the plot ---- */

#ifdef HAVE_CAIRO
static void plot_line(cairo_t *cr, const double *x, const double *y, int n, double r, double g,
                      double b, double (*tx)(double), double (*ty)(double))
{
    cairo_set_source_rgb(cr, r, g, b);
    cairo_set_line_width(cr, 2.0);
    for (int i = 0; i < n; i++)
        (i ? cairo_line_to : cairo_move_to)(cr, tx(x[i]), ty(y[i]));
    cairo_stroke(cr);
    for (int i = 0; i < n; i++) {
        cairo_arc(cr, tx(x[i]), ty(y[i]), 4.0, 0, 2 * M_PI);
        cairo_fill(cr);
    }
}

static double lo_, hi_; /* axis range (dB), shared by both axes */
#define PW 640
#define PH 520
#define ML 70
#define MB 60
#define MT 40
#define MR 20
static double tx(double v) { return ML + (v - lo_) / (hi_ - lo_) * (PW - ML - MR); }
static double ty(double v) { return PH - MB - (v - lo_) / (hi_ - lo_) * (PH - MB - MT); }

static int draw_plot(const char *path, const char *title, const double *in, const double *out,
                     const double *flat, int n)
{
    lo_ = INFINITY, hi_ = -INFINITY;
    for (int i = 0; i < n; i++) {
        double v[3] = {in[i], out[i], flat ? flat[i] : in[i]};
        for (int k = 0; k < 3; k++)
            if (isfinite(v[k]))
                lo_ = fmin(lo_, v[k]), hi_ = fmax(hi_, v[k]);
    }
    lo_ = floor(lo_ / 5) * 5, hi_ = ceil(hi_ / 5) * 5;
    if (hi_ <= lo_)
        hi_ = lo_ + 5;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, PW, PH);
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 13);
    char buf[64];
    for (double v = lo_; v <= hi_ + 1e-9; v += 5) { /* grid and tick labels */
        cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
        cairo_set_line_width(cr, 1);
        cairo_move_to(cr, tx(v), ty(lo_));
        cairo_line_to(cr, tx(v), ty(hi_));
        cairo_move_to(cr, tx(lo_), ty(v));
        cairo_line_to(cr, tx(hi_), ty(v));
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        snprintf(buf, sizeof buf, "%.0f", v);
        cairo_move_to(cr, tx(v) - 8, ty(lo_) + 18);
        cairo_show_text(cr, buf);
        cairo_move_to(cr, tx(lo_) - 28, ty(v) + 4);
        cairo_show_text(cr, buf);
    }
    cairo_set_source_rgb(cr, 0.5, 0.5, 0.5); /* identity: no denoising */
    double dash = 5;
    cairo_set_dash(cr, &dash, 1, 0);
    cairo_move_to(cr, tx(lo_), ty(lo_));
    cairo_line_to(cr, tx(hi_), ty(hi_));
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    plot_line(cr, in, out, n, 0.12, 0.47, 0.71, tx, ty);
    if (flat)
        plot_line(cr, in, flat, n, 1.0, 0.5, 0.05, tx, ty);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, (PW - ML) / 2.0, PH - 18);
    cairo_show_text(cr, "input PSNR (dB)");
    cairo_save(cr);
    cairo_move_to(cr, 20, PH / 2.0 + 50);
    cairo_rotate(cr, -M_PI / 2);
    cairo_show_text(cr, "output PSNR (dB)");
    cairo_restore(cr);
    cairo_move_to(cr, ML, 24);
    cairo_show_text(cr, title);
    const char *names[2] = {"multi-scale", "flat"};
    double cols[2][3] = {{0.12, 0.47, 0.71}, {1.0, 0.5, 0.05}};
    for (int k = 0; k < (flat ? 2 : 1); k++) { /* legend */
        cairo_set_source_rgb(cr, cols[k][0], cols[k][1], cols[k][2]);
        cairo_rectangle(cr, tx(hi_) - 130, ty(lo_) - 50 + 20 * k, 14, 10);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, tx(hi_) - 110, ty(lo_) - 40 + 20 * k);
        cairo_show_text(cr, names[k]);
    }
    cairo_destroy(cr);
    /* Written beside the target, then renamed: no half-written PNG. */
    size_t len = strlen(path) + 16;
    char *tmp = malloc(len);
    int rc = 1;
    if (tmp) {
        snprintf(tmp, len, "%s.tmp-%d", path, (int)getpid());
        if (cairo_surface_write_to_png(s, tmp) == CAIRO_STATUS_SUCCESS && rename(tmp, path) == 0)
            rc = 0;
        else
            cli_error("%s: cannot write the plot", path), unlink(tmp);
    }
    free(tmp);
    cairo_surface_destroy(s);
    return rc;
}
#endif

/* ---- evaluation ---- */

typedef struct {
    wp_prior *p, *flat;
    const eval_args *a;
    double in[MAX_SIGMAS], out[MAX_SIGMAS], fout[MAX_SIGMAS], xout[MAX_SIGMAS];
    int n;
    const char *dir; /* where noisy files go (--save-noisy or a temporary folder) */
} eval_sums;

/* Appends s to buf single-quoted for the shell. */
static void shell_quote(char *buf, size_t len, const char *s)
{
    size_t k = strlen(buf);
    if (k + 1 < len)
        buf[k++] = '\'';
    for (; *s && k + 5 < len; s++) {
        if (*s == '\'') {
            memcpy(buf + k, "'\\''", 4);
            k += 4;
        } else {
            buf[k++] = *s;
        }
    }
    if (k + 1 < len)
        buf[k++] = '\'';
    buf[k] = '\0';
}

/* Runs the --external command on the noisy file and scores its output. */
static int run_external(const eval_args *a, const char *noisy, float sigma, const float *clean,
                        int C, int H, int W, double *psnr)
{
    char out[4300], cmd[16384] = "", num[32];
    snprintf(out, sizeof out, "%s.external.png", noisy);
    snprintf(num, sizeof num, "%g", (double)sigma);
    for (const char *t = a->external; *t && strlen(cmd) + 4300 < sizeof cmd;) {
        if (!strncmp(t, "{in}", 4)) {
            shell_quote(cmd, sizeof cmd, noisy);
            t += 4;
        } else if (!strncmp(t, "{out}", 5)) {
            shell_quote(cmd, sizeof cmd, out);
            t += 5;
        } else if (!strncmp(t, "{sigma}", 7)) {
            strcat(cmd, num);
            t += 7;
        } else {
            size_t k = strlen(cmd);
            cmd[k] = *t++;
            cmd[k + 1] = '\0';
        }
    }
    if (system(cmd) != 0)
        return cli_error("--external failed: %s", cmd);
    int h, w;
    float *x = cli_read_planar(out, C, &h, &w);
    if (!x)
        return 1;
    int rc = h != H || w != W ? cli_error("%s: the external output is %dx%d, not %dx%d", out, w, h, W, H) : 0;
    if (!rc)
        *psnr = wp_psnr(x, clean, (size_t)C * H * W);
    free(x);
    unlink(out);
    return rc;
}

static int denoise_psnr(const wp_prior *p, const float *noisy, const float *clean, float *work, int C,
                        int H, int W, const wp_denoise_options *d, const char *name,
                        double *psnr)
{
    char err[WP_ERRLEN];
    size_t n = (size_t)C * H * W;
    if (wp_denoise(p, noisy, work, C, H, W, d, NULL, NULL, err))
        return cli_error("%s: %s", name, err);
    *psnr = wp_psnr(work, clean, n);
    return 0;
}

/* PSNR of out against clean [C,H,W] over the pixels where mask. */
static double masked_psnr(const float *out, const float *clean, const uint8_t *mask, int C,
                          size_t hw)
{
    double se = 0;
    size_t k = 0;
    for (int c = 0; c < C; c++)
        for (size_t i = 0; i < hw; i++)
            if (mask[i]) {
                double d = (double)out[c * hw + i] - clean[c * hw + i];
                se += d * d, k++;
            }
    return k ? 10 * log10((double)k / (se > 0 ? se : 1e-20)) : INFINITY;
}

/* --random-missing: each fraction's seeded mask filled by the fast mode
 * (sums in E->out) and by diffusion (in E->in). */
static int eval_missing(eval_sums *E, const char *path, const float *clean, float *work,
                        uint8_t *mask, int C, int H, int W, int idx)
{
    const eval_args *a = E->a;
    size_t hw = (size_t)H * W;
    char err[WP_ERRLEN];
    for (int k = 0; k < a->nmissing; k++) {
        uint64_t s = a->seed * 1000003ULL + (unsigned)idx * 101ULL + (unsigned)k;
        for (size_t i = 0; i < hw; i++) { /* splitmix64 */
            uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
            mask[i] = (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0 < a->missing[k];
        }
        double p[2];
        for (int m = 0; m < 2; m++) {
            wp_inpaint_options o = {0};
            o.mode = m ? WP_INPAINT_DIFFUSE : WP_INPAINT_FAST;
            if (wp_inpaint(E->p, clean, mask, work, C, H, W, &o, NULL, err))
                return cli_error("%s: %s", path, err);
            p[m] = masked_psnr(work, clean, mask, C, hw);
        }
        E->out[k] += p[0];
        E->in[k] += p[1];
        if (a->per_image)
            printf("%-50s %6g %8.3f %8.3f\n", path, (double)a->missing[k], p[0], p[1]);
    }
    E->n++;
    return 0;
}

static int eval_image(eval_sums *E, const char *path, int idx)
{
    const eval_args *a = E->a;
    int C = a->rgb ? 3 : wp_prior_channels(E->p), H, W, rc = 1;
    float *clean = cli_read_planar(path, C, &H, &W), *noisy = NULL, *work = NULL;
    if (!clean)
        return 1;
    if (a->crop)
        centre_crop(clean, C, &H, &W, a->crop);
    size_t n = (size_t)C * H * W;
    if (a->nmissing) {
        work = malloc(sizeof(float) * n);
        uint8_t *mask = malloc((size_t)H * W);
        rc = work && mask ? eval_missing(E, path, clean, work, mask, C, H, W, idx)
                          : cli_error("out of memory");
        free(mask);
        free(work);
        free(clean);
        return rc;
    }
    char out[4200];
    if (!(noisy = malloc(sizeof(float) * n)) || !(work = malloc(sizeof(float) * n))) {
        cli_error("out of memory");
        goto done;
    }
    if (a->save) {
        snprintf(out, sizeof out, "%s/%03d_clean.png", E->dir, idx);
        if (save_planar(out, clean, C, H, W))
            goto done;
    }
    for (int k = 0; k < a->nsigma; k++) {
        memcpy(noisy, clean, sizeof(float) * n);
        wp_add_noise(noisy, n, a->sigma[k] / 255.0f, a->seed * 1000003ULL + (unsigned)idx * 101ULL + (unsigned)k);
        if (a->clip)
            for (size_t i = 0; i < n; i++)
                noisy[i] = roundf((noisy[i] < 0 ? 0 : noisy[i] > 1 ? 1 : noisy[i]) * 65535.0f) / 65535.0f;
        if (E->dir) {
            snprintf(out, sizeof out, "%s/%03d_noisy%g.png", E->dir, idx, (double)a->sigma[k]);
            if (save_planar(out, noisy, C, H, W))
                goto done;
        }
        double pin = wp_psnr(noisy, clean, n), pout = NAN, pflat = NAN, pext = NAN;
        if (a->external && run_external(a, out, a->sigma[k], clean, C, H, W, &pext))
            goto done;
        if (a->external && !a->save)
            unlink(out);
        wp_denoise_options d = {
            .strength = 1.0f, .clipped = a->clip && !a->no_unclip, .ensemble = a->ensemble,
            .oracle = a->oracle, .oracle_clean = clean,
            .oracle_level = a->olevel, .fast = a->fast, .blend = a->blend, .wiener = a->wiener};
        wp_denoise_options df = d;
        df.oracle = WP_ORACLE_NONE; /* the flat model has no pyramid */
        if (denoise_psnr(E->p, noisy, clean, work, C, H, W, &d, path, &pout) ||
            (E->flat && denoise_psnr(E->flat, noisy, clean, work, C, H, W, &df, path, &pflat)))
            goto done;
        E->in[k] += pin;
        E->out[k] += pout;
        E->fout[k] += pflat;
        E->xout[k] += pext;
        if (a->per_image)
            printf("%-50s %6g %8.3f %8.3f %8.3f %8.3f\n", path, (double)a->sigma[k], pin, pout,
                   pflat, pext);
    }
    E->n++;
    rc = 0;
done:
    free(clean);
    free(noisy);
    free(work);
    return rc;
}

int cmd_eval(int argc, char **argv)
{
    eval_args a;
    int r = parse_eval(argc, argv, &a);
    if (r)
        return r < 0 ? eval_usage(stdout) : (eval_usage(stderr), 2);
#ifndef HAVE_CAIRO
    if (a.plot)
        return cli_error("--plot needs cairo, which this build lacks") + 1;
#endif
    eval_sums E = {.a = &a};
    cli_filelist l = {0};
    int rc = 1;
    if (!(E.p = cli_load_model(a.model)) || (a.flat && !(E.flat = cli_load_model(a.flat))))
        goto done;
    if (E.flat && wp_prior_channels(E.flat) != wp_prior_channels(E.p)) {
        cli_error("the two models differ in colour channels");
        goto done;
    }
    char tmpdir[] = "/tmp/wprior-eval-XXXXXX";
    if (a.save && mkdir(a.save, 0777) != 0 && errno != EEXIST) {
        cli_error("%s: %s", a.save, strerror(errno));
        goto done;
    }
    E.dir = a.save;
    if (!a.save && a.external) {
        if (!mkdtemp(tmpdir)) {
            cli_error("cannot make a temporary folder: %s", strerror(errno));
            goto done;
        }
        E.dir = tmpdir;
    }
    if (cli_list_images(a.clean, &l))
        goto done;
    if (a.per_image && a.nmissing)
        printf("%-50s %6s %8s %8s\n", "image", "missing", "fast", "diffuse");
    else if (a.per_image)
        printf("%-50s %6s %8s %8s %8s %8s\n", "image", "sigma", "noisy", "denoised", "flat",
               "external");
    for (int i = 0; i < l.n; i++)
        if (eval_image(&E, l.path[i], i))
            goto done;
    if (a.nmissing) {
        printf("%d images, random missing pixels: mean PSNR inside them (dB, peak 1)\n", E.n);
        printf("%8s %10s %10s\n", "missing", "fast", "diffuse");
        for (int k = 0; k < a.nmissing; k++)
            printf("%8g %10.3f %10.3f\n", (double)a.missing[k], E.out[k] / E.n, E.in[k] / E.n);
        rc = 0;
        goto done;
    }
    char given[64] = "";
    if (a.olevel)
        snprintf(given, sizeof given, "; multi-scale given the clean level-%d low-pass", a.olevel);
    else if (a.oracle == WP_ORACLE_LOW && wp_prior_den_level(E.p) > 0)
        snprintf(given, sizeof given, "; multi-scale given the clean level-%d low-pass",
                 wp_prior_den_level(E.p));
    else if (a.oracle)
        snprintf(given, sizeof given, "; multi-scale given the clean %s",
                 a.oracle == WP_ORACLE_LOW ? "low-pass" : "details");
    printf("%d images, mean PSNR (dB, peak 1)%s%s\n", E.n, a.clip ? ", noisy input clipped" : "",
           given);
    printf("%6s %10s %12s%s%s\n", "sigma", "noisy", wp_prior_is_flat(E.p) ? "model" : "multi-scale",
           E.flat ? "         flat" : "", a.external ? "     external" : "");
    double in[MAX_SIGMAS], out[MAX_SIGMAS], fl[MAX_SIGMAS];
    for (int k = 0; k < a.nsigma; k++) {
        in[k] = E.in[k] / E.n, out[k] = E.out[k] / E.n, fl[k] = E.fout[k] / E.n;
        printf("%6g %10.3f %12.3f", (double)a.sigma[k], in[k], out[k]);
        if (E.flat)
            printf(" %12.3f", fl[k]);
        if (a.external)
            printf(" %12.3f", E.xout[k] / E.n);
        printf("\n");
    }
    rc = 0;
#ifdef HAVE_CAIRO
    if (a.plot) {
        const char *name = wp_prior_meta(E.p, "name");
        char title[200];
        snprintf(title, sizeof title, "%s: %d images", name ? name : a.model ? a.model : "default model", E.n);
        rc = draw_plot(a.plot, title, in, out, E.flat ? fl : NULL, a.nsigma);
    }
#endif
done:
    if (E.dir == tmpdir)
        rmdir(tmpdir);
    cli_filelist_free(&l);
    wp_prior_free(E.p);
    wp_prior_free(E.flat);
    return rc;
}
