/* test_train.c: the trainer learns (a tiny prior overfits a few crops),
 * resumes exactly, survives kill -9 while checkpointing, refuses bad
 * options, stops on NaN, and exports a model that loads and denoises. */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "wp_haar.h"
#include "wp_train_internal.h"
#include "wp_parallel.h"
#include "wp_util.h"

static char tmpdir[256];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/wprior-train-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* n synthetic SxS images: a smooth ramp, a disc and stripes, all different. */
static wp_dataset *synthetic(int n, int S, int C)
{
    wp_dataset *d;
    char err[WP_ERRLEN];
    ck_assert_int_eq(wp_dataset_create(&d, C, err), WP_OK);
    uint8_t *px = malloc((size_t)C * S * S);
    for (int k = 0; k < n; k++) {
        for (int c = 0; c < C; c++)
            for (int i = 0; i < S; i++)
                for (int j = 0; j < S; j++) {
                    double v = 0.3 + 0.3 * (i + (k + c) * j) / (2.0 * S);
                    double di = i - S * (0.3 + 0.1 * k), dj = j - S * 0.5;
                    if (di * di + dj * dj < S * S / 12.0)
                        v += 0.3;
                    if (((j + 2 * k) / (2 + k % 3)) % 2)
                        v -= 0.15;
                    px[((size_t)c * S + i) * S + j] = (uint8_t)(255.0 * v);
                }
        ck_assert_int_eq(wp_dataset_add(d, px, S, S, err), WP_OK);
    }
    free(px);
    return d;
}

static void tiny_options(wp_train_options *o, long steps)
{
    ck_assert_int_eq(wp_train_defaults(o, "tiny", 1), 0);
    o->levels = 1;
    o->low = (wp_arch){16, 6, 0};
    o->cond = (wp_arch){16, 6, 9};
    o->patch = 16;
    o->batch = 4;
    o->steps = steps;
    o->lr = 3e-3f;
    o->warmup = 0;
    o->flips = 0;
    o->noise = WP_NOISE_UNIFORM;
    o->noise_min = 40.0f;
    o->noise_max = 80.0f;
    o->val_every = 0;
    o->threads = 1;
}

/* Every step's loss, in order. */
typedef struct {
    double loss[4096];
    int stage[4096];
    long n;
} loss_log;

static int record(const wp_train_report *r, void *user)
{
    loss_log *l = user;
    if (l->n < 4096) {
        l->stage[l->n] = r->stage;
        l->loss[l->n++] = r->loss;
    }
    return 0;
}

static double mean(const double *x, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += x[i];
    return s / n;
}

/* Clipped noise on a black image: the low-pass sees only positive noise,
 * of the half-normal's mean; band noise stays zero-mean. */
START_TEST(clipped_noise_is_biased_where_it_clips)
{
    char err[WP_ERRLEN];
    wp_dataset *d;
    ck_assert_int_eq(wp_dataset_create(&d, 1, err), WP_OK);
    uint8_t black[64 * 64] = {0};
    ck_assert_int_eq(wp_dataset_add(d, black, 64, 64, err), WP_OK);
    for (int clip = 0; clip < 2; clip++) {
        wp_train_options o;
        tiny_options(&o, 10);
        o.projected_noise = 1;
        o.clip = clip;
        wp_trainer *t;
        ck_assert_msg(wp_trainer_create(&o, NULL, &t, err) == WP_OK, "%s", err);
        ck_assert_int_eq(wp_trainer_set_data(t, d, NULL, err), WP_OK);
        size_t n = 16 * 16;
        float x[16 * 16], noise[16 * 16], sigma = 50.0f;
        double mean = 0, lo = 1e9;
        for (int k = 0; k < 20; k++) {
            wp_train_example(t, -1, (uint64_t)k + 1, sigma, x, noise);
            for (size_t i = 0; i < n; i++) {
                mean += noise[i] / (20.0 * n);
                lo = noise[i] < lo ? noise[i] : lo;
                ck_assert_float_eq(x[i], noise[i]); /* clean is 0 */
            }
        }
        double half_normal = sigma / 255.0 * 0.39894; /* E max(0, z) sigma */
        if (clip) {
            ck_assert_double_ge(lo, 0.0);
            ck_assert_msg(fabs(mean - half_normal) < 0.05 * half_normal, "clipped mean %g, not %g",
                          mean, half_normal);
        } else {
            ck_assert_msg(fabs(mean) < 0.05 * half_normal, "mean %g", mean);
            ck_assert_double_lt(lo, 0.0);
        }
        wp_trainer_free(t);
    }
    /* clipping is pixel noise: band noise of the reference's ranges refuses it */
    wp_train_options o;
    tiny_options(&o, 10);
    o.projected_noise = 0;
    o.clip = 1;
    wp_trainer *t;
    ck_assert_int_eq(wp_trainer_create(&o, NULL, &t, err), WP_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err, "projected"));
    wp_dataset_free(d);
}
END_TEST

START_TEST(tiny_prior_overfits)
{
    char err[WP_ERRLEN];
    wp_dataset *d = synthetic(4, 32, 1); /* one 32x32 crop each: the whole image */
    wp_train_options o;
    tiny_options(&o, 300);
    wp_trainer *t;
    ck_assert_msg(wp_trainer_create(&o, NULL, &t, err) == WP_OK, "%s", err);
    ck_assert_int_eq(wp_trainer_set_data(t, d, NULL, err), WP_OK);
    static loss_log l;
    l.n = 0;
    wp_trainer_set_callback(t, record, &l);
    double t0 = wp_now();
    ck_assert_msg(wp_trainer_run(t, 0, NULL, err) == WP_OK, "%s", err);
    double secs = wp_now() - t0;
    ck_assert(wp_trainer_done(t));
    ck_assert_int_eq(l.n, 600);
    for (int s = 0; s < 2; s++) {
        const double *x = l.loss + 300 * s;
        double first = mean(x, 10), last = mean(x + 280, 20);
        /* The noise alone (net output 0) scores E[sd^2]; sd ~ U(40,80)/255
         * (halved on the detail bands: stage 0 is cond0, stage 1 the low-pass). */
        double zero = (40.0 * 40 + 40.0 * 80 + 80.0 * 80) / 3 / (255.0 * 255) * (s ? 1 : 0.25);
        fprintf(stderr, "overfit stage %d: loss %.3g -> %.3g (zero output %.3g), %.2f s for both\n",
                s, first, last, zero, secs);
        ck_assert_msg(last < first / 5, "stage %d: loss %g -> %g, not 5x lower", s, first, last);
        ck_assert_msg(last < zero / 5, "stage %d: loss %g vs %g for a zero output", s, last, zero);
    }
    wp_trainer_free(t);
    wp_dataset_free(d);
}
END_TEST

/* Runs o for total steps, stopping (checkpoint, free, resume) after
 * `split` steps when split > 0. */
static void run_split(const wp_train_options *o, wp_dataset *d, long split, loss_log *l)
{
    char err[WP_ERRLEN], path[300];
    wp_trainer *t;
    snprintf(path, sizeof path, "%s/run.ckpt", tmpdir);
    l->n = 0;
    ck_assert_msg(wp_trainer_create(o, NULL, &t, err) == WP_OK, "%s", err);
    ck_assert_int_eq(wp_trainer_set_data(t, d, NULL, err), WP_OK);
    wp_trainer_set_callback(t, record, l);
    if (split > 0) {
        ck_assert_int_eq(wp_trainer_run(t, split, NULL, err), WP_OK);
        ck_assert_msg(wp_trainer_save_checkpoint(t, path, err) == WP_OK, "%s", err);
        wp_trainer_free(t);
        ck_assert_msg(wp_trainer_resume(path, &t, err) == WP_OK, "%s", err);
        ck_assert_int_eq(wp_trainer_set_data(t, d, NULL, err), WP_OK);
        wp_trainer_set_callback(t, record, l);
    }
    ck_assert_msg(wp_trainer_run(t, 0, NULL, err) == WP_OK, "%s", err);
    ck_assert(wp_trainer_done(t));
    wp_trainer_free(t);
}

START_TEST(resume_is_exact)
{
    make_tmpdir();
    wp_dataset *d = synthetic(5, 40, 1);
    wp_train_options o;
    tiny_options(&o, 30);
    o.flips = 1;
    o.scale_aug = 3;
    o.scale_min = 2; /* kept by the checkpoint */
    o.noise = WP_NOISE_QUADRATIC;
    o.noise_min = 0.0f;
    o.noise_max = 255.0f;
    o.val_every = 7;
    o.warmup = 5;
    o.loss_sigma = 30.0f; /* kept by the checkpoint */
    static loss_log a, b;
    run_split(&o, d, 0, &a);
    /* inside a stage, at the stage boundary, and in the second stage */
    long splits[] = {17, 30, 41};
    for (int k = 0; k < 3; k++) {
        run_split(&o, d, splits[k], &b);
        ck_assert_int_eq(a.n, 60);
        ck_assert_int_eq(b.n, 60);
        for (int i = 0; i < 60; i++)
            ck_assert_msg(fabs(a.loss[i] - b.loss[i]) <= 1e-6 * fabs(a.loss[i]),
                          "split %ld, step %d: %.9g vs %.9g", splits[k], i, a.loss[i], b.loss[i]);
    }
    wp_dataset_free(d);
    remove_tmpdir();
}
END_TEST

START_TEST(kill_during_checkpoint_keeps_one)
{
    char err[WP_ERRLEN], path[300];
    make_tmpdir();
    snprintf(path, sizeof path, "%s/crash.ckpt", tmpdir);
    wp_dataset *d = synthetic(3, 32, 1);
    wp_train_options o;
    tiny_options(&o, 100000);
    o.low = (wp_arch){32, 8, 0}; /* a few hundred KiB per checkpoint */
    wp_trainer *t;
    ck_assert_msg(wp_trainer_create(&o, NULL, &t, err) == WP_OK, "%s", err);
    ck_assert_int_eq(wp_trainer_set_data(t, d, NULL, err), WP_OK);
    ck_assert_int_eq(wp_trainer_save_checkpoint(t, path, err), WP_OK);
    wp_rng r;
    wp_rng_seed(&r, 11);
    for (int k = 0; k < 25; k++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            for (;;) { /* train and checkpoint until killed */
                wp_trainer_run(t, 1, NULL, err);
                wp_trainer_save_checkpoint(t, path, err);
            }
        }
        usleep(1000 + wp_rng_below(&r, 20000));
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        ck_assert(WIFSIGNALED(status));
        wp_trainer *u;
        ck_assert_msg(wp_trainer_resume(path, &u, err) == WP_OK, "kill %d: %s", k, err);
        wp_trainer_free(u);
    }
    wp_trainer_free(t);
    wp_dataset_free(d);
    remove_tmpdir();
}
END_TEST

START_TEST(nan_stops_with_a_message)
{
    char err[WP_ERRLEN];
    wp_dataset *d = synthetic(2, 32, 1);
    wp_train_options o;
    tiny_options(&o, 50);
    wp_trainer *t;
    ck_assert_int_eq(wp_trainer_create(&o, NULL, &t, err), WP_OK);
    ck_assert_int_eq(wp_trainer_set_data(t, d, NULL, err), WP_OK);
    ck_assert_int_eq(wp_trainer_run(t, 3, NULL, err), WP_OK);
    wp_trainer_net(t, 0)->params[5] = NAN; /* stage 0: cond0 */
    ck_assert_int_eq(wp_trainer_run(t, 3, NULL, err), WP_ERR_NUMERIC);
    ck_assert_msg(strstr(err, "NaN") != NULL, "%s", err);
    wp_trainer_free(t);
    wp_dataset_free(d);
}
END_TEST

START_TEST(bad_options_are_refused)
{
    char err[WP_ERRLEN];
    wp_train_options o;
    wp_trainer *t;
    ck_assert_int_eq(wp_train_defaults(&o, "nonsense", 1), -1);
    tiny_options(&o, 10);
    o.cond.rf = 41; /* 5 layers reach at most 11 */
    ck_assert_int_eq(wp_trainer_create(&o, NULL, &t, err), WP_ERR_ARG);
    ck_assert_msg(strstr(err, "receptive field 41") != NULL, "%s", err);
    tiny_options(&o, 10);
    snprintf(o.only, sizeof o.only, "cond3");
    ck_assert_int_eq(wp_trainer_create(&o, NULL, &t, err), WP_ERR_ARG);
    ck_assert_msg(strstr(err, "cond3") != NULL, "%s", err);
    tiny_options(&o, 10);
    o.noise_min = 50.0f;
    o.noise_max = 10.0f;
    ck_assert_int_eq(wp_trainer_create(&o, NULL, &t, err), WP_ERR_ARG);
    ck_assert_msg(strstr(err, "noise range") != NULL, "%s", err);
    tiny_options(&o, 10);
    o.scale_aug = 2;
    o.scale_min = 3;
    ck_assert_int_eq(wp_trainer_create(&o, NULL, &t, err), WP_ERR_ARG);
    ck_assert_msg(strstr(err, "minimum downscale 3") != NULL, "%s", err);
    float emas[] = {1.0f, -0.1f, NAN};
    for (int i = 0; i < 3; i++) {
        tiny_options(&o, 10);
        o.ema = emas[i];
        ck_assert_int_eq(wp_trainer_create(&o, NULL, &t, err), WP_ERR_ARG);
        ck_assert_msg(strstr(err, "weight average") != NULL, "%s", err);
    }
    tiny_options(&o, 10);
    ck_assert_int_eq(wp_trainer_create(&o, NULL, &t, err), WP_OK);
    ck_assert_int_eq(wp_trainer_run(t, 1, NULL, err), WP_ERR_ARG); /* no data */
    wp_dataset *rgb = synthetic(1, 16, 3);
    ck_assert_int_eq(wp_trainer_set_data(t, rgb, NULL, err), WP_ERR_ARG);
    wp_dataset_free(rgb);
    wp_trainer_free(t);
    ck_assert_int_eq(wp_trainer_resume("/nonexistent.ckpt", &t, err), WP_ERR_IO);
}
END_TEST

/* The weight average (o.ema), followed by hand: trainer a runs without
 * one, and its stage-0 weights after every step are averaged here; trainer
 * b, the same with ema 0.9, follows the same path (the average never
 * feeds the training) and ends stage 0 with exactly that average; halfway
 * through stage 1 its export holds the average of stage 1 so far and the
 * raw weights stay in training; a checkpoint resumes it exactly. */
typedef struct {
    wp_trainer *t;
    float *ref;
    int started;
} ema_follow;

static int follow_ema(const wp_train_report *r, void *user)
{
    ema_follow *f = user;
    if (r->stage == 0) {
        const wp_net *net = wp_trainer_net(f->t, f->t->order[0]);
        for (size_t i = 0; i < net->nparams; i++)
            f->ref[i] = 0.9f * f->ref[i] + 0.1f * net->params[i];
        size_t nbn = wp_net_bn_floats(net);
        for (size_t i = 0; i < nbn; i++) /* the normalisations' sd, averaged alike */
            f->ref[net->nparams + i] = 0.9f * f->ref[net->nparams + i] + 0.1f * net->running_sd[i];
    }
    return 0;
}

static double net_diff(const wp_net *a, const float *b)
{
    double m = 0;
    for (size_t i = 0; i < a->nparams; i++)
        m = fmax(m, fabs(a->params[i] - b[i]));
    return m;
}

START_TEST(weight_average)
{
    char err[WP_ERRLEN], path[300], ckpt[300];
    make_tmpdir();
    wp_dataset *d = synthetic(4, 40, 1);
    wp_train_options o;
    tiny_options(&o, 25);
    wp_trainer *a, *b, *c;
    ck_assert_msg(wp_trainer_create(&o, NULL, &a, err) == WP_OK, "%s", err);
    ck_assert_int_eq(wp_trainer_set_data(a, d, NULL, err), WP_OK);
    const wp_net *na = wp_trainer_net(a, a->order[0]);
    size_t nbn = wp_net_bn_floats(na);
    ema_follow f = {a, malloc(sizeof(float) * (na->nparams + nbn)), 0};
    memcpy(f.ref, na->params, sizeof(float) * na->nparams);
    memcpy(f.ref + na->nparams, na->running_sd, sizeof(float) * nbn);
    wp_trainer_set_callback(a, follow_ema, &f);
    ck_assert_msg(wp_trainer_run(a, 0, NULL, err) == WP_OK, "%s", err);
    o.ema = 0.9f;
    ck_assert_msg(wp_trainer_create(&o, NULL, &b, err) == WP_OK, "%s", err);
    ck_assert_int_eq(wp_trainer_set_data(b, d, NULL, err), WP_OK);
    ck_assert_msg(wp_trainer_run(b, 37, NULL, err) == WP_OK, "%s", err); /* into stage 1 */
    const wp_net *nb = wp_trainer_net(b, b->order[0]);
    double avg = net_diff(nb, f.ref), raw = net_diff(na, f.ref);
    for (size_t i = 0; i < nbn; i++)
        avg = fmax(avg, fabs(nb->running_sd[i] - f.ref[na->nparams + i]) /
                            fmax(1.0, fabs(f.ref[na->nparams + i])));
    ck_assert_msg(avg <= 1e-6 && raw > 1e-4, "stage 0: average off by %g (raw weights %g)", avg,
                  raw);
    /* mid stage 1: the export takes the average, training keeps its weights */
    snprintf(path, sizeof path, "%s/m.safetensors", tmpdir);
    snprintf(ckpt, sizeof ckpt, "%s/b.ckpt", tmpdir);
    wp_net *n1 = wp_trainer_net(b, b->order[1]);
    float *before = malloc(sizeof(float) * n1->nparams);
    memcpy(before, n1->params, sizeof(float) * n1->nparams);
    ck_assert_msg(wp_trainer_export(b, path, err) == WP_OK, "%s", err);
    ck_assert_msg(wp_trainer_save_checkpoint(b, ckpt, err) == WP_OK, "%s", err);
    ck_assert(net_diff(n1, before) == 0);
    wp_prior *m;
    ck_assert_msg(wp_prior_load(path, &m, err) == WP_OK, "%s", err);
    ck_assert(net_diff(&m->low, b->ema) == 0 && net_diff(&m->low, before) > 1e-5);
    ck_assert(net_diff(&m->cond[0], f.ref) <= 1e-6);
    const char *tr = wp_prior_meta(m, "training");
    ck_assert_msg(tr && strstr(tr, "weight average 0.9"), "%s", tr ? tr : "(none)");
    wp_prior_free(m);
    /* resumed from the checkpoint: the same end, bit for bit */
    ck_assert_msg(wp_trainer_resume(ckpt, &c, err) == WP_OK, "%s", err);
    ck_assert_int_eq(wp_trainer_set_data(c, d, NULL, err), WP_OK);
    ck_assert(wp_trainer_state_hash(c) == wp_trainer_state_hash(b));
    ck_assert_msg(wp_trainer_run(b, 0, NULL, err) == WP_OK, "%s", err);
    ck_assert_msg(wp_trainer_run(c, 0, NULL, err) == WP_OK, "%s", err);
    ck_assert(wp_trainer_state_hash(c) == wp_trainer_state_hash(b));
    ck_assert(net_diff(wp_trainer_net(c, c->order[1]), wp_trainer_net(b, b->order[1])->params) == 0);
    free(before), free(f.ref);
    wp_trainer_free(a), wp_trainer_free(b), wp_trainer_free(c);
    wp_dataset_free(d);
    remove_tmpdir();
}
END_TEST

START_TEST(export_loads_and_denoises)
{
    char err[WP_ERRLEN], path[300];
    make_tmpdir();
    snprintf(path, sizeof path, "%s/m.safetensors", tmpdir);
    wp_dataset *d = synthetic(3, 24, 3);
    wp_train_options o;
    tiny_options(&o, 20);
    o.channels = 3;
    o.levels = 2;
    o.val_every = 5;
    o.scale_aug = 3;
    o.scale_min = 2;
    wp_trainer *t;
    ck_assert_msg(wp_trainer_create(&o, NULL, &t, err) == WP_OK, "%s", err);
    ck_assert_int_eq(wp_trainer_set_data(t, d, d, err), WP_OK);
    ck_assert_msg(wp_trainer_run(t, 0, NULL, err) == WP_OK, "%s", err);
    ck_assert_msg(wp_trainer_export(t, path, err) == WP_OK, "%s", err);
    wp_prior *p;
    ck_assert_msg(wp_prior_load(path, &p, err) == WP_OK, "%s", err);
    ck_assert_int_eq(wp_prior_channels(p), 3);
    ck_assert_int_eq(wp_prior_levels(p), 2);
    ck_assert_ptr_nonnull(strstr(wp_prior_meta(p, "training"), "box-downscaled 2..3"));
    float img[3 * 20 * 28];
    for (size_t i = 0; i < sizeof img / sizeof *img; i++)
        img[i] = (float)(i % 17) / 17.0f;
    ck_assert_msg(wp_denoise(p, img, img, 3, 20, 28, NULL, NULL, NULL, err) == WP_OK, "%s", err);
    for (size_t i = 0; i < sizeof img / sizeof *img; i++)
        ck_assert(isfinite(img[i]));
    /* --only with a base: the other networks are copied bit for bit */
    wp_train_options o2 = o;
    snprintf(o2.only, sizeof o2.only, "cond1");
    wp_trainer *t2;
    ck_assert_msg(wp_trainer_create(&o2, p, &t2, err) == WP_OK, "%s", err);
    ck_assert_int_eq(memcmp(wp_trainer_net(t2, 0)->params, p->cond[0].params,
                            sizeof(float) * p->cond[0].nparams), 0);
    ck_assert_int_eq(wp_trainer_set_data(t2, d, NULL, err), WP_OK);
    ck_assert_int_eq(wp_trainer_run(t2, 0, NULL, err), WP_OK);
    ck_assert_int_eq(memcmp(wp_trainer_net(t2, -1)->params, p->low.params,
                            sizeof(float) * p->low.nparams), 0);
    ck_assert_int_ne(memcmp(wp_trainer_net(t2, 1)->params, p->cond[1].params,
                            sizeof(float) * p->cond[1].nparams), 0);
    wp_trainer_free(t2);
    wp_prior_free(p);
    wp_trainer_free(t);
    wp_dataset_free(d);
    remove_tmpdir();
}
END_TEST

/* Trains t on d to its end, exports it to path and frees it. */
static void run_export(wp_trainer *t, wp_dataset *d, const char *path)
{
    char err[WP_ERRLEN];
    ck_assert_int_eq(wp_trainer_set_data(t, d, NULL, err), WP_OK);
    ck_assert_msg(wp_trainer_run(t, 0, NULL, err) == WP_OK, "%s", err);
    ck_assert_msg(wp_trainer_export(t, path, err) == WP_OK, "%s", err);
    wp_trainer_free(t);
}

/* Trains o (a tiny J=2 prior) on d, exports it to path and loads it. */
static wp_prior *trained_prior(const wp_train_options *o, wp_dataset *d, const char *path)
{
    char err[WP_ERRLEN];
    wp_trainer *t;
    wp_prior *p;
    ck_assert_msg(wp_trainer_create(o, NULL, &t, err) == WP_OK, "%s", err);
    run_export(t, d, path);
    ck_assert_msg(wp_prior_load(path, &p, err) == WP_OK, "%s", err);
    return p;
}

/* Gives p a den: a J=1 prior's low-pass net (p's own, changed a little),
 * whose prior is returned. */
static wp_prior *give_den(wp_prior *p)
{
    char err[WP_ERRLEN];
    wp_prior *q;
    ck_assert_int_eq(wp_prior_create(&q, 1, 1, 0, err), WP_OK);
    ck_assert_int_eq(wp_net_copy(&q->low, &p->low, err), WP_OK);
    for (size_t i = 0; i < q->low.nparams; i++)
        q->low.params[i] += 0.01f * (float)(i % 7);
    ck_assert_msg(wp_prior_set_den(p, q, err) == WP_OK, "%s", err);
    return q;
}

/* In a new tmpdir: a tiny J=2 prior trained on 3 synthetic images *d
 * with options *o, exported to path (ckpt: a checkpoint's path beside it),
 * the base of an --only run. */
static wp_prior *base_for_only(char *path, char *ckpt, wp_dataset **d, wp_train_options *o)
{
    make_tmpdir();
    snprintf(path, 300, "%s/m.safetensors", tmpdir);
    snprintf(ckpt, 300, "%s/run.ckpt", tmpdir);
    *d = synthetic(3, 32, 1);
    tiny_options(o, 4);
    o->levels = 2;
    return trained_prior(o, *d, path);
}

/* A base's denoising entry net goes into the trained model as it was,
 * through a checkpoint and its resume too. */
START_TEST(base_den_survives_training)
{
    char err[WP_ERRLEN], path[300], ckpt[300];
    wp_dataset *d;
    wp_train_options o;
    wp_trainer *t;
    wp_prior *p = base_for_only(path, ckpt, &d, &o), *q = give_den(p), *r;
    wp_train_options o2 = o;
    snprintf(o2.only, sizeof o2.only, "cond0");
    ck_assert_msg(wp_trainer_create(&o2, p, &t, err) == WP_OK, "%s", err);
    ck_assert_int_eq(wp_trainer_set_data(t, d, NULL, err), WP_OK);
    ck_assert_int_eq(wp_trainer_run(t, 2, NULL, err), WP_OK);
    ck_assert_msg(wp_trainer_save_checkpoint(t, ckpt, err) == WP_OK, "%s", err);
    wp_trainer_free(t);
    ck_assert_msg(wp_trainer_resume(ckpt, &t, err) == WP_OK, "%s", err);
    ck_assert_int_eq(wp_trainer_set_data(t, d, NULL, err), WP_OK);
    ck_assert_msg(wp_trainer_run(t, 0, NULL, err) == WP_OK, "%s", err);
    ck_assert(wp_trainer_done(t));
    ck_assert_msg(wp_trainer_export(t, path, err) == WP_OK, "%s", err);
    wp_trainer_free(t);
    ck_assert_msg(wp_prior_load(path, &r, err) == WP_OK, "%s", err);
    ck_assert_int_eq(wp_prior_den_level(r), 1);
    ck_assert_uint_eq(r->den.nparams, q->low.nparams);
    ck_assert_int_eq(memcmp(r->den.params, q->low.params, sizeof(float) * q->low.nparams), 0);
    ck_assert_int_ne(memcmp(r->cond[0].params, p->cond[0].params,
                            sizeof(float) * p->cond[0].nparams), 0); /* cond0 did train */
    wp_prior_free(r), wp_prior_free(q), wp_prior_free(p);
    wp_dataset_free(d);
    remove_tmpdir();
}
END_TEST

/* Runs t (set up for 240 steps on d) 60 steps, checkpoints, resumes and
 * runs it to the end; the loss of its last 40 steps must be below `drop`
 * times that of its first 40; returns the exported model, loaded. */
static wp_prior *train_resume_export(wp_trainer *t, wp_dataset *d, const char *ckpt,
                                     const char *path, const char *what, double drop)
{
    char err[WP_ERRLEN];
    wp_prior *r;
    loss_log l = {0};
    wp_trainer_set_callback(t, record, &l);
    ck_assert_msg(wp_trainer_run(t, 60, NULL, err) == WP_OK, "%s", err);
    ck_assert_msg(wp_trainer_save_checkpoint(t, ckpt, err) == WP_OK, "%s", err);
    wp_trainer_free(t);
    ck_assert_msg(wp_trainer_resume(ckpt, &t, err) == WP_OK, "%s", err);
    ck_assert_int_eq(wp_trainer_set_data(t, d, NULL, err), WP_OK);
    wp_trainer_set_callback(t, record, &l);
    ck_assert_msg(wp_trainer_run(t, 0, NULL, err) == WP_OK, "%s", err);
    ck_assert_int_eq(l.n, 240);
    double first = mean(l.loss, 40), last = mean(l.loss + 200, 40);
    fprintf(stderr, "%s net: loss %.3g over the first 40 steps, %.3g over the last 40\n", what,
            first, last);
    ck_assert_msg(last < drop * first, "the %s net's loss went %.3g -> %.3g", what, first, last);
    ck_assert_msg(wp_trainer_export(t, path, err) == WP_OK, "%s", err);
    wp_trainer_free(t);
    ck_assert_msg(wp_prior_load(path, &r, err) == WP_OK, "%s", err);
    return r;
}

/* A trainer of the add-on net `net` (fill or up; 240 steps of a small
 * net, the options then changed by `change`) beside a base trained for the
 * test (*p, on *d); it is refused without the base. */
static wp_trainer *addon_trainer(const char *net, char *path, char *ckpt, wp_prior **p,
                                 wp_dataset **d, void (*change)(wp_train_options *))
{
    char err[WP_ERRLEN];
    wp_train_options o;
    *p = base_for_only(path, ckpt, d, &o);
    snprintf(o.only, sizeof o.only, "%s", net);
    o.cond = (wp_arch){16, 5, 0};
    o.steps = 240;
    if (change)
        change(&o);
    wp_trainer *t;
    ck_assert_int_eq(wp_trainer_create(&o, NULL, &t, err), WP_ERR_ARG);
    ck_assert_msg(strstr(err, "--base"), "%s", err);
    ck_assert_msg(wp_trainer_create(&o, *p, &t, err) == WP_OK, "%s", err);
    ck_assert_int_eq(wp_trainer_set_data(t, *d, NULL, err), WP_OK);
    return t;
}

/* r (trained from base p) holds p's low-pass and conditional nets as they
 * were; then both go, with d and the test's folder. */
static void base_nets_kept(wp_prior *r, wp_prior *p, wp_dataset *d)
{
    for (int j = 0; j < p->levels; j++)
        ck_assert_int_eq(memcmp(r->cond[j].params, p->cond[j].params,
                                sizeof(float) * p->cond[j].nparams), 0);
    ck_assert_int_eq(memcmp(r->low.params, p->low.params, sizeof(float) * p->low.nparams), 0);
    wp_prior_free(r), wp_prior_free(p);
    wp_dataset_free(d);
    remove_tmpdir();
}

static void fill_rates(wp_train_options *o) { o->fill_min = 0.6f, o->fill_max = 0.8f; }

/* --only fill: refused without a base; its examples carry the loss on the
 * unknown pixels only; it learns (the loss falls), resumes from a
 * checkpoint, and the export holds the base's nets unchanged beside it. */
START_TEST(fill_net_trains_beside_the_base)
{
    char path[300], ckpt[300];
    wp_dataset *d;
    wp_prior *p, *r;
    wp_trainer *t = addon_trainer("fill", path, ckpt, &p, &d, fill_rates);
    size_t PP = 16 * 16;
    float x[2 * 16 * 16], noise[16 * 16];
    wp_train_example(t, WP_TRAINER_FILL, 5, 0.0f, x, noise);
    size_t unknown = 0, moved = 0;
    for (size_t i = 0; i < PP; i++) {
        ck_assert(x[PP + i] == 0.0f || x[PP + i] == 1.0f);
        ck_assert(x[i] >= -1e-6f && x[i] <= 1.0f + 1e-6f);
        if (x[PP + i] == 0.0f)
            ck_assert_msg(noise[i] == 0.0f, "known pixel %zu has a target", i);
        unknown += x[PP + i] > 0, moved += noise[i] != 0.0f;
    }
    ck_assert_msg(unknown > 0 && unknown < PP, "%zu unknown of %zu", unknown, PP);
    ck_assert_msg(moved > unknown / 2, "the fill is exact at %zu of %zu", unknown - moved, unknown);
    r = train_resume_export(t, d, ckpt, path, "fill", 0.95);
    ck_assert(wp_prior_has_fill(r));
    ck_assert_int_eq(r->fill.in_ch, 2);
    ck_assert_int_eq(r->fill.out_ch, 1);
    base_nets_kept(r, p, d);
}
END_TEST

/* --only up: refused without a base; an example is a crop's low-pass, the
 * smooth start's details and their error (the low-pass and the start's
 * details less the error are a crop: values in [0,1]); it learns (the
 * loss falls), resumes from a checkpoint, and the export holds the base's
 * nets unchanged beside it. */
START_TEST(up_net_trains_beside_the_base)
{
    char path[300], ckpt[300];
    wp_dataset *d;
    wp_prior *p, *r;
    wp_trainer *t = addon_trainer("up", path, ckpt, &p, &d, NULL);
    enum { P = 16 };
    float x[4 * P * P], det[3 * P * P], crop[4 * P * P];
    wp_train_example(t, WP_TRAINER_UP, 5, 0.0f, x, det);
    double error = apply_correction(x + P * P, det, 3 * P * P);
    ck_assert_msg(error > 1e-3, "the smooth start is exact to %g", error);
    wp_haar_inverse(x, det, 1, P, P, crop);
    double spread = 0;
    for (size_t i = 0; i < 4 * P * P; i++) {
        ck_assert_msg(crop[i] >= -1e-5f && crop[i] <= 1.0f + 1e-5f, "pixel %zu is %g", i,
                      (double)crop[i]);
        spread = fmax(spread, fabs(crop[i] - x[(i / (2 * P) / 2) * P + i % (2 * P) / 2]));
    }
    ck_assert_msg(spread > 1e-3, "the example's details are at most %g", spread);
    r = train_resume_export(t, d, ckpt, path, "up", 0.9);
    ck_assert(wp_prior_has_up(r));
    ck_assert(!wp_prior_has_fill(r));
    ck_assert_int_eq(r->up.in_ch, 4);
    ck_assert_int_eq(r->up.out_ch, 3);
    ck_assert_ptr_nonnull(strstr(wp_prior_meta(r, "training.up"), "only up, 240 steps (done)"));
    base_nets_kept(r, p, d);
}
END_TEST

/* --flat --finetune from a multi-scale model: the flat net starts as the
 * model's den (as its low-pass net when it has none), trains, and the
 * flat result holds no den; without --finetune the model is refused. */
START_TEST(flat_finetune_starts_from_den)
{
    char err[WP_ERRLEN], path[300];
    make_tmpdir();
    snprintf(path, sizeof path, "%s/m.safetensors", tmpdir);
    wp_dataset *d = synthetic(3, 32, 1);
    wp_train_options o;
    tiny_options(&o, 2);
    o.levels = 2;
    wp_trainer *t;
    wp_prior *p = trained_prior(&o, d, path), *q, *r;
    wp_train_options f = o;
    f.flat = 1, f.levels = 0;
    f.cond = o.low; /* the flat net has den's (the low-pass net's) shape */
    f.finetune = 1;
    f.steps = 3;
    ck_assert_msg(wp_trainer_create(&f, p, &t, err) == WP_OK, "%s", err);
    ck_assert_int_eq(memcmp(wp_trainer_net(t, -1)->params, p->low.params,
                            sizeof(float) * p->low.nparams), 0);
    wp_trainer_free(t);
    q = give_den(p);
    ck_assert_msg(wp_trainer_create(&f, p, &t, err) == WP_OK, "%s", err);
    ck_assert_int_eq(memcmp(wp_trainer_net(t, -1)->params, q->low.params,
                            sizeof(float) * q->low.nparams), 0);
    run_export(t, d, path);
    ck_assert_msg(wp_prior_load(path, &r, err) == WP_OK, "%s", err);
    ck_assert(wp_prior_is_flat(r));
    ck_assert_int_eq(wp_prior_den_level(r), -1);
    ck_assert_int_ne(memcmp(r->flatnet.params, q->low.params, sizeof(float) * q->low.nparams),
                     0); /* it did train */
    f.finetune = 0;
    ck_assert_int_eq(wp_trainer_create(&f, p, &t, err), WP_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err, "does not match"));
    wp_prior_free(r), wp_prior_free(q), wp_prior_free(p);
    wp_dataset_free(d);
    remove_tmpdir();
}
END_TEST

/* --finetune: the trained net starts from the base's weights, so its first
 * losses are those the base ended with, far below a fresh start's. */
START_TEST(finetune_starts_where_the_base_ended)
{
    char err[WP_ERRLEN], path[300];
    make_tmpdir();
    snprintf(path, sizeof path, "%s/base.safetensors", tmpdir);
    wp_dataset *d = synthetic(4, 32, 1);
    wp_train_options o;
    tiny_options(&o, 200);
    snprintf(o.only, sizeof o.only, "cond0");
    wp_trainer *t;
    static loss_log fresh, tuned;
    fresh.n = tuned.n = 0;
    ck_assert_msg(wp_trainer_create(&o, NULL, &t, err) == WP_OK, "%s", err);
    ck_assert_int_eq(wp_trainer_set_data(t, d, NULL, err), WP_OK);
    wp_trainer_set_callback(t, record, &fresh);
    ck_assert_msg(wp_trainer_run(t, 0, NULL, err) == WP_OK, "%s", err);
    ck_assert_msg(wp_trainer_export(t, path, err) == WP_OK, "%s", err);
    wp_trainer_free(t);
    wp_prior *p;
    ck_assert_msg(wp_prior_load(path, &p, err) == WP_OK, "%s", err);
    wp_train_options o2 = o;
    o2.steps = 10;
    o2.finetune = 1;
    o2.seed = 99; /* other crops and noise than the base saw last */
    o2.lr = 3e-4f; /* Adam's first steps move every weight by ~lr: fine-tune gently */
    ck_assert_msg(wp_trainer_create(&o2, p, &t, err) == WP_OK, "%s", err);
    ck_assert_int_eq(memcmp(wp_trainer_net(t, 0)->params, p->cond[0].params,
                            sizeof(float) * p->cond[0].nparams), 0);
    ck_assert_int_eq(wp_trainer_set_data(t, d, NULL, err), WP_OK);
    wp_trainer_set_callback(t, record, &tuned);
    ck_assert_msg(wp_trainer_run(t, 0, NULL, err) == WP_OK, "%s", err);
    /* the fine-tuned model says how its starting point was trained */
    ck_assert_msg(wp_trainer_export(t, path, err) == WP_OK, "%s", err);
    wp_trainer_free(t);
    wp_prior *q;
    ck_assert_msg(wp_prior_load(path, &q, err) == WP_OK, "%s", err);
    ck_assert_str_eq(wp_prior_meta(q, "training.base"), wp_prior_meta(p, "training"));
    ck_assert_ptr_nonnull(strstr(wp_prior_meta(q, "training"), "fine-tuned"));
    wp_prior_free(q);
    double first_fresh = mean(fresh.loss, 10), first_tuned = mean(tuned.loss, 10),
           last_fresh = mean(fresh.loss + 180, 20);
    fprintf(stderr, "finetune: fresh %.3g -> %.3g, fine-tuned starts at %.3g\n", first_fresh,
            last_fresh, first_tuned);
    ck_assert_msg(tuned.loss[0] < 2 * last_fresh, "fine-tuned first step %g vs base's last %g",
                  tuned.loss[0], last_fresh);
    ck_assert_msg(first_tuned < first_fresh / 3, "fine-tuned %g vs fresh %g", first_tuned, first_fresh);
    ck_assert_msg(first_tuned < 2 * last_fresh, "fine-tuned %g vs base's last %g", first_tuned,
                  last_fresh);
    /* a different architecture is refused, with the reason */
    wp_train_options o3 = o2;
    o3.cond.width = 8;
    ck_assert_int_eq(wp_trainer_create(&o3, p, &t, err), WP_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err, "fine-tuning"));
    wp_prior_free(p);
    wp_dataset_free(d);
    remove_tmpdir();
}
END_TEST

START_TEST(crops_are_deterministic)
{
    wp_dataset *d = synthetic(3, 20, 3);
    wp_crop_aug aug = {1, 3, 1, 0};
    float a[3 * 48 * 48], b[3 * 48 * 48];
    wp_rng r1, r2;
    wp_rng_seed(&r1, 5);
    wp_rng_seed(&r2, 5);
    for (int k = 0; k < 20; k++) {
        wp_dataset_crop(d, &r1, 48, &aug, a); /* wider than the image: wraps */
        wp_dataset_crop(d, &r2, 48, &aug, b);
        ck_assert_int_eq(memcmp(a, b, sizeof a), 0);
        for (size_t i = 0; i < sizeof a / sizeof *a; i++)
            ck_assert(a[i] >= 0.0f && a[i] <= 1.0f);
    }
    wp_dataset_free(d);
}
END_TEST

/* The fast crop equals the pixel-by-pixel one, bit for bit: images larger
 * than the crop and smaller (wrapping), every box factor and symmetry. */
START_TEST(fast_crop_matches_naive)
{
    char err[WP_ERRLEN];
    wp_dataset *d;
    ck_assert_int_eq(wp_dataset_create(&d, 3, err), WP_OK);
    const int hw[][2] = {{70, 53}, {23, 90}, {31, 17}};
    for (int k = 0; k < 3; k++) {
        size_t n = (size_t)3 * hw[k][0] * hw[k][1];
        uint8_t *px = malloc(n);
        for (size_t i = 0; i < n; i++)
            px[i] = (uint8_t)((i * 2654435761u) >> 13);
        ck_assert_int_eq(wp_dataset_add(d, px, hw[k][0], hw[k][1], err), WP_OK);
        free(px);
    }
    const int sizes[] = {1, 7, 16, 25};
    float a[3 * 25 * 25], b[3 * 25 * 25];
    wp_crop_aug aug = {1, 3, 1, 0};
    wp_rng r1, r2;
    wp_rng_seed(&r1, 11);
    wp_rng_seed(&r2, 11);
    for (int k = 0; k < 400; k++) {
        int S = sizes[k % 4];
        aug.by_area = k % 3 != 0;
        aug.scale_min = k % 5 < 3 ? k % 5 : 0;
        wp_dataset_crop(d, &r1, S, &aug, a);
        wp_dataset_crop_naive(d, &r2, S, &aug, b);
        ck_assert_msg(memcmp(a, b, sizeof(float) * 3 * S * S) == 0, "crop %d (S %d) differs", k,
                      S);
    }
    wp_dataset_free(d);
}
END_TEST

/* A minimum downscale: a checkerboard of 0 and 255 box-downscaled by 2 or 4
 * is 0.5 everywhere, by 3 it is 4/9 or 5/9; by 1 it would stay 0 and 1. */
START_TEST(crops_keep_the_minimum_downscale)
{
    char err[WP_ERRLEN];
    wp_dataset *d;
    ck_assert_int_eq(wp_dataset_create(&d, 1, err), WP_OK);
    uint8_t px[64 * 48];
    for (int i = 0; i < 64; i++)
        for (int j = 0; j < 48; j++)
            px[i * 48 + j] = (i + j) % 2 ? 255 : 0;
    ck_assert_int_eq(wp_dataset_add(d, px, 64, 48, err), WP_OK);
    float a[16 * 16];
    wp_rng r;
    wp_rng_seed(&r, 3);
    wp_crop_aug two = {1, 2, 0, 2}, three_four = {1, 4, 0, 3};
    int seen3 = 0, seen4 = 0;
    for (int k = 0; k < 60; k++) {
        wp_dataset_crop(d, &r, 16, &two, a);
        for (int i = 0; i < 16 * 16; i++)
            ck_assert_float_eq(a[i], 0.5f);
        wp_dataset_crop(d, &r, 16, &three_four, a);
        int half = 0;
        for (int i = 0; i < 16 * 16; i++) {
            ck_assert(fabsf(a[i] - 0.5f) < 0.06f); /* 4/9, 1/2 or 5/9 */
            half += a[i] == 0.5f;
        }
        seen4 += half == 16 * 16, seen3 += half == 0;
    }
    ck_assert(seen3 > 0 && seen4 > 0 && seen3 + seen4 == 60);
    wp_dataset_free(d);
}
END_TEST

/* A step's examples do not depend on how many threads make them. */
START_TEST(examples_ignore_thread_count)
{
    wp_dataset *d = synthetic(4, 40, 3);
    wp_train_options o;
    tiny_options(&o, 1);
    o.channels = 3;
    o.batch = 7;
    o.val_every = 0;
    o.scale_aug = 2;
    o.flips = 1;
    char err[WP_ERRLEN];
    float *x[2], *noise[2];
    size_t nx = (size_t)o.batch * 4 * 3 * o.patch * o.patch;
    for (int k = 0; k < 2; k++) {
        wp_set_threads(k + 1);
        wp_trainer *t;
        ck_assert_msg(wp_trainer_create(&o, NULL, &t, err) == WP_OK, "%s", err);
        ck_assert_int_eq(wp_trainer_set_data(t, d, NULL, err), WP_OK);
        ck_assert_msg(wp_trainer_run(t, 1, NULL, err) == WP_OK, "%s", err);
        x[k] = malloc(sizeof(float) * nx);
        noise[k] = malloc(sizeof(float) * nx);
        memcpy(x[k], t->x, sizeof(float) * nx);
        memcpy(noise[k], t->noise, sizeof(float) * nx * 3 / 4);
        wp_trainer_free(t);
    }
    wp_set_threads(0);
    ck_assert_int_eq(memcmp(x[0], x[1], sizeof(float) * nx), 0);
    ck_assert_int_eq(memcmp(noise[0], noise[1], sizeof(float) * nx * 3 / 4), 0);
    for (int k = 0; k < 2; k++) {
        free(x[k]);
        free(noise[k]);
    }
    wp_dataset_free(d);
}
END_TEST

/* With loss_sigma S every example's squared error counts S^2/(S^2+sigma^2)
 * times: in the reported loss and in the gradient it feeds back; sigma is
 * the example's own noise, read back from its noise band. */
START_TEST(loss_sigma_weights_each_example)
{
    wp_dataset *d = synthetic(4, 40, 1);
    wp_train_options o;
    tiny_options(&o, 1);
    o.batch = 8;
    o.noise_min = 20.0f;
    o.noise_max = 200.0f;
    char err[WP_ERRLEN];
    for (int k = 0; k < 2; k++) {
        o.loss_sigma = k ? 50.0f : 0.0f;
        wp_trainer *t;
        loss_log l = {.n = 0};
        ck_assert_msg(wp_trainer_create(&o, NULL, &t, err) == WP_OK, "%s", err);
        ck_assert_int_eq(wp_trainer_set_data(t, d, NULL, err), WP_OK);
        wp_trainer_set_callback(t, record, &l);
        ck_assert_msg(wp_trainer_run(t, 1, NULL, err) == WP_OK, "%s", err);
        /* the first stage is cond0: 3 detail bands out */
        size_t nout = (size_t)3 * o.patch * o.patch;
        double se = 0.0, ratio[8], wmin = 1.0, wmax = 0.0;
        for (int i = 0; i < o.batch; i++) {
            const float *y = t->y + i * nout, *n = t->noise + i * nout;
            double e = 0.0, v = 0.0;
            for (size_t q = 0; q < nout; q++) {
                e += (double)(y[q] - n[q]) * (y[q] - n[q]);
                v += (double)n[q] * n[q];
            }
            float w = t->exw[i];
            se += w * e;
            wmin = fmin(wmin, w);
            wmax = fmax(wmax, w);
            /* the noise's sd against the sigma the weight implies */
            if (k)
                ratio[i] = sqrt(v / nout) / (50.0 * sqrt(1.0 / w - 1.0));
            /* dy = 2 w (y - noise) / (batch * nout) */
            for (size_t q = 0; q < nout; q += 97)
                ck_assert_float_eq_tol(t->dy[i * nout + q],
                                       2.0 * w * (y[q] - n[q]) / (double)(o.batch * nout),
                                       1e-6 * fabs(t->dy[i * nout + q]) + 1e-12);
        }
        ck_assert_int_eq(l.n, 1);
        ck_assert_float_eq_tol(l.loss[0], se / (double)(o.batch * nout), 1e-6 * l.loss[0]);
        if (!k) {
            ck_assert(wmin == 1.0 && wmax == 1.0);
        } else {
            ck_assert_msg(wmin > 50.0 * 50.0 / (50.0 * 50.0 + 200.0 * 200.0) - 1e-6 &&
                              wmax < 50.0 * 50.0 / (50.0 * 50.0 + 20.0 * 20.0) + 1e-6 &&
                              wmax > 1.5 * wmin,
                          "weights %g..%g", wmin, wmax);
            for (int i = 1; i < o.batch; i++)
                ck_assert_msg(fabs(ratio[i] / ratio[0] - 1.0) < 0.15, "example %d: %g vs %g", i,
                              ratio[i], ratio[0]);
        }
        wp_trainer_free(t);
    }
    wp_dataset_free(d);
}
END_TEST

/* ---- data parallelism, with threads standing in for processes ---- */

/* Sums over `size` threads: each publishes its buffer, then every one adds
 * all of them in rank order (the same result on all). */
typedef struct {
    pthread_barrier_t bar;
    int size;
    void *buf[4];
} thread_comm;

typedef struct {
    thread_comm *c;
    int rank;
    wp_train_options o;
    const wp_dataset *d;
    loss_log log;
    float *params; /* the trained cond0 net's weights */
    size_t nparams;
    uint64_t hash; /* wp_trainer_state_hash at the end */
} thread_rank;

#define THREAD_SUM(name, T)                                                                   \
    static int name(void *ctx, T *v, size_t n)                                                \
    {                                                                                         \
        thread_rank *r = ctx;                                                                 \
        r->c->buf[r->rank] = v;                                                               \
        pthread_barrier_wait(&r->c->bar);                                                     \
        T *sum = calloc(n, sizeof *sum);                                                      \
        for (int k = 0; k < r->c->size; k++)                                                  \
            for (size_t i = 0; i < n; i++)                                                    \
                sum[i] += ((T *)r->c->buf[k])[i];                                             \
        pthread_barrier_wait(&r->c->bar);                                                     \
        memcpy(v, sum, n * sizeof *sum);                                                      \
        free(sum);                                                                            \
        return 0;                                                                             \
    }
THREAD_SUM(thread_sum_f32, float)
THREAD_SUM(thread_sum_f64, double)

/* Trains r->o on r->d as rank r->rank of r->c (NULL: alone). */
static void *train_rank(void *p)
{
    thread_rank *r = p;
    char err[WP_ERRLEN];
    wp_trainer *t;
    wp_set_threads(1);
    ck_assert_msg(wp_trainer_create(&r->o, NULL, &t, err) == WP_OK, "%s", err);
    ck_assert_int_eq(wp_trainer_set_data(t, r->d, NULL, err), WP_OK);
    wp_train_comm comm = {r->rank, r->c ? r->c->size : 1, thread_sum_f32, thread_sum_f64, r};
    ck_assert_msg(wp_trainer_set_comm(t, &comm, err) == WP_OK, "%s", err);
    r->log.n = 0;
    wp_trainer_set_callback(t, record, &r->log);
    ck_assert_msg(wp_trainer_run(t, 0, NULL, err) == WP_OK, "%s", err);
    const wp_net *net = wp_trainer_net(t, 0);
    r->nparams = net->nparams;
    r->params = malloc(sizeof(float) * net->nparams);
    memcpy(r->params, net->params, sizeof(float) * net->nparams);
    r->hash = wp_trainer_state_hash(t);
    wp_trainer_free(t);
    return NULL;
}

/* A batch of 5 shared by 2 or 3 threads (2+3, 1+2+2) trains as one
 * process does: the same losses at every step and the same weights, to
 * float rounding (the sums run in another order). */
START_TEST(split_batch_matches_one_process)
{
    wp_dataset *d = synthetic(5, 40, 1);
    wp_train_options o;
    /* The tiny preset (lr 1e-3, cosine): a faster lr makes the run chaotic
     * enough to amplify rounding past 1e-4 in a few steps whatever splits
     * the sums (seen with 3e-3 and no warm-up: 1e-9 at step 4, 1e-5 at 6). */
    ck_assert_int_eq(wp_train_defaults(&o, "tiny", 1), 0);
    o.levels = 1;
    o.batch = 5;
    o.steps = 40;
    o.val_every = 0;
    o.threads = 1;
    thread_rank one = {.o = o, .d = d};
    train_rank(&one);
    for (int size = 2; size <= 3; size++) {
        thread_comm c = {.size = size};
        pthread_barrier_init(&c.bar, NULL, (unsigned)size);
        thread_rank *r = calloc((size_t)size, sizeof *r);
        pthread_t th[4];
        for (int k = 0; k < size; k++) {
            r[k] = (thread_rank){.c = &c, .rank = k, .o = o, .d = d};
            ck_assert_int_eq(pthread_create(&th[k], NULL, train_rank, &r[k]), 0);
        }
        for (int k = 0; k < size; k++)
            pthread_join(th[k], NULL);
        for (int k = 0; k < size; k++) {
            ck_assert_int_eq(r[k].log.n, one.log.n);
            double worst = 0;
            for (long i = 0; i < one.log.n; i++) {
                double rel = fabs(r[k].log.loss[i] - one.log.loss[i]) / one.log.loss[i];
                worst = rel > worst ? rel : worst;
            }
            float dmax = 0, pmax = 0;
            for (size_t i = 0; i < one.nparams; i++) {
                dmax = fmaxf(dmax, fabsf(r[k].params[i] - one.params[i]));
                pmax = fmaxf(pmax, fabsf(one.params[i]));
            }
            fprintf(stderr, "%d threads, rank %d: losses within %.2g (relative) over %ld steps, "
                            "weights within %.2g (largest %.2g)\n",
                    size, k, worst, one.log.n, (double)dmax, (double)pmax);
            ck_assert_msg(worst < 1e-4, "rank %d of %d: relative loss difference %g", k, size,
                          worst);
            ck_assert_msg(dmax < 1e-4f * pmax, "rank %d of %d: weights differ by %g", k, size,
                          (double)dmax);
            /* the ranks themselves hold the very same state */
            ck_assert_uint_eq(r[k].hash, r[0].hash);
            free(r[k].params);
        }
        free(r);
        pthread_barrier_destroy(&c.bar);
    }
    free(one.params);
    /* fewer crops than processes: refused */
    char err[WP_ERRLEN];
    wp_trainer *t;
    o.batch = 2;
    ck_assert_int_eq(wp_trainer_create(&o, NULL, &t, err), WP_OK);
    wp_train_comm three = {0, 3, thread_sum_f32, thread_sum_f64, NULL};
    ck_assert_int_eq(wp_trainer_set_comm(t, &three, err), WP_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err, "cannot be shared"));
    wp_trainer_free(t);
    wp_dataset_free(d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("train");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, tiny_prior_overfits);
    tcase_add_test(tc, resume_is_exact);
    tcase_add_test(tc, kill_during_checkpoint_keeps_one);
    tcase_add_test(tc, nan_stops_with_a_message);
    tcase_add_test(tc, bad_options_are_refused);
    tcase_add_test(tc, export_loads_and_denoises);
    tcase_add_test(tc, weight_average);
    tcase_add_test(tc, crops_are_deterministic);
    tcase_add_test(tc, fast_crop_matches_naive);
    tcase_add_test(tc, crops_keep_the_minimum_downscale);
    tcase_add_test(tc, examples_ignore_thread_count);
    tcase_add_test(tc, loss_sigma_weights_each_example);
    tcase_add_test(tc, finetune_starts_where_the_base_ended);
    tcase_add_test(tc, flat_finetune_starts_from_den);
    tcase_add_test(tc, base_den_survives_training);
    tcase_add_test(tc, fill_net_trains_beside_the_base);
    tcase_add_test(tc, up_net_trains_beside_the_base);
    tcase_add_test(tc, clipped_noise_is_biased_where_it_clips);
    tcase_add_test(tc, split_batch_matches_one_process);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
