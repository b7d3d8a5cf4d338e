/* tile.c: jobs and tiled network evaluation.  Each tile carries a halo of
 * the network's receptive-field radius, so the cropped core of every tile
 * is exact.  Beyond the image border the halo is the mirrored image (with
 * zero padding the colour photo prior lost 3 dB to bicubic at x2 from its
 * 2-pixel border alone), or the image wrapped around (periodic jobs); with
 * zero_border, tiles stop at the border where the net zero-pads, as the
 * reference code does and as denoising does by default (wp_border). */
#include "wp_job.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wp_parallel.h"
#include "wp_prior_internal.h"
#include "wp_util.h"

static int online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

/* Floats one tile of side s (halo included) needs: input, output, network
 * activations and scratch. */
static size_t tile_floats(const wp_net *net, int eh, int ew, int threads)
{
    /* the convolution scratch grows with the threads that share a tile */
    int saved = wp_threads();
    wp_set_threads(threads);
    size_t A = (size_t)eh * ew;
    size_t f = (size_t)(net->in_ch + net->out_ch) * A + wp_net_infer_floats(net, 1, eh, ew);
    wp_set_threads(saved);
    return f;
}

static int halo_of(const wp_net *net) { return (wp_net_receptive_field(net) - 1) / 2; }

#define HALO_SIDES 32                /* a tile's core side, in halos: 13% extra work */
#define TILE_BYTES ((size_t)128 << 20) /* the most a tile takes otherwise */

wp_status wp_job_begin(wp_job *job, const wp_prior *p, const wp_run_options *opt, size_t fixed_bytes,
                       const wp_net *largest, wp_border unset, char *err)
{
    memset(job, 0, sizeof *job);
    job->prior = p;
    job->opt = opt;
    job->ws = opt && opt->workspace ? opt->workspace : &job->own;
    job->threads = opt && opt->threads > 0 ? opt->threads : online_cpus();
    wp_border b = opt ? opt->border : WP_BORDER_MODEL;
    if (b < WP_BORDER_MODEL || b > WP_BORDER_MIRROR)
        return wp_fail(err, WP_ERR_ARG, "border mode %d is not one of wp_border", (int)b);
    if (b == WP_BORDER_MODEL) {
        const char *m = wp_prior_meta(p, "border");
        b = !m ? unset : !strcmp(m, "zero") ? WP_BORDER_ZERO : WP_BORDER_MIRROR;
    }
    job->zero_border = b == WP_BORDER_ZERO;
    if (opt && opt->threads < 0)
        return wp_fail(err, WP_ERR_ARG, "threads must be >= 0 (0: all cores), not %d",
                       opt->threads);
    if (opt && opt->tile_size < 0)
        return wp_fail(err, WP_ERR_ARG, "tile size must be >= 0, not %d", opt->tile_size);
    size_t max = opt && opt->max_memory ? opt->max_memory : WP_DEFAULT_MAX_MEMORY;
    int h = halo_of(largest);
    size_t need_tile = sizeof(float) * tile_floats(largest, WP_MIN_TILE + 2 * h,
                                                   WP_MIN_TILE + 2 * h, 1);
    if (fixed_bytes > max || max - fixed_bytes < need_tile)
        return wp_fail(err, WP_ERR_NOMEM,
                       "this image needs at least %zu MiB, over the memory budget of %zu MiB",
                       (fixed_bytes + need_tile + (1 << 20) - 1) >> 20, max >> 20);
    job->budget = max - fixed_bytes;
    pthread_mutex_init(&job->lock, NULL);
    return WP_OK;
}

void wp_job_end(wp_job *job)
{
    free(job->own.buf);
    pthread_mutex_destroy(&job->lock);
}

wp_workspace *wp_workspace_new(void) { return calloc(1, sizeof(wp_workspace)); }

void wp_workspace_free(wp_workspace *ws)
{
    if (ws)
        free(ws->buf);
    free(ws);
}

float *wp_job_workspace(wp_job *job, size_t n, char *err)
{
    wp_workspace *ws = job->ws;
    if (n > ws->cap) {
        free(ws->buf);
        ws->cap = 0;
        ws->buf = wp_alloc(sizeof(float) * n);
        if (!ws->buf) {
            wp_fail(err, WP_ERR_NOMEM, "out of memory for a %zu MiB workspace",
                    n * sizeof(float) >> 20);
            return NULL;
        }
        ws->cap = n;
    }
    return ws->buf;
}

int wp_job_cancelled(const wp_job *job)
{
    return job->opt && job->opt->cancel && *job->opt->cancel;
}

double wp_net_work(const wp_net *net, int h, int w)
{
    double macs = 0.0;
    for (int l = 0; l < net->nlayers; l++)
        macs += (double)wp_net_layer_in(net, l) * wp_net_layer_out(net, l) * net->kernel[l] *
                net->kernel[l];
    return macs * h * w;
}

void wp_job_advance(wp_job *job, double work)
{
    pthread_mutex_lock(&job->lock);
    job->work_done += work;
    double f = job->work_total > 0 ? job->work_done / job->work_total : 0.0;
    if (f > 1.0)
        f = 1.0;
    int report = f > job->last_reported && job->opt && job->opt->progress;
    if (report)
        job->last_reported = f;
    /* Called under the lock so that reports arrive in rising order. */
    if (report)
        job->opt->progress(f, job->opt->progress_data);
    pthread_mutex_unlock(&job->lock);
}

/* ---- tiling ---- */

/* Largest core side whose tile fits `bytes`, at most the image. */
static int side_for(const wp_net *net, size_t bytes, int H, int W, int threads)
{
    int h = halo_of(net), big = H > W ? H : W;
    int lo = 1, hi = big;
    while (lo < hi) { /* binary search on the core side */
        int mid = lo + (hi - lo + 1) / 2;
        int eh = (mid < H ? mid : H) + 2 * h, ew = (mid < W ? mid : W) + 2 * h;
        if (sizeof(float) * tile_floats(net, eh, ew, threads) <= bytes)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

int wp_job_tile_side(const wp_job *job, const wp_net *net, int H, int W)
{
    if (job->opt && job->opt->tile_size > 0) {
        int t = job->opt->tile_size;
        int fit = side_for(net, job->budget / (size_t)job->threads, H, W, 1);
        return t < fit ? t : fit;
    }
    /* Split the budget between threads only when there will be several
     * tiles; a single tile shares all threads.  A tile takes no more than
     * TILE_BYTES (or what a core of HALO_SIDES halos needs): past that
     * the halo's extra work (~4 halo / side) saves less than the larger
     * tile's memory costs at its first touch (~12 us per 4 KiB page here:
     * 1 GiB, 3 s), and the user's RAM. */
    int h = halo_of(net), big = H > W ? H : W, s = HALO_SIDES * h < big ? HALO_SIDES * h : big;
    size_t cap = sizeof(float) * tile_floats(net, s + 2 * h, s + 2 * h, 1);
    cap = cap > TILE_BYTES ? cap : TILE_BYTES;
    size_t all = job->budget < cap ? job->budget : cap;
    size_t one = job->budget / (size_t)job->threads < cap ? job->budget / (size_t)job->threads : cap;
    int whole = side_for(net, all, H, W, job->threads);
    if (whole >= H && whole >= W)
        return whole;
    return side_for(net, one, H, W, 1);
}

typedef struct {
    wp_job *job;
    const wp_net *net;
    const wp_plane_src *src;
    int nsrc, H, W, side, nx, ntiles, nthreads;
    float *y;
    int next;          /* next tile to take, under job->lock */
    wp_status status;  /* first failure */
} tile_run;

typedef struct {
    tile_run *run;
    float *ws;
} worker_arg;

/* Index of position i on an axis of n: wrapped (periodic), or mirrored
 * half-sample symmetrically (period 2n; *flip says whether the position
 * lies in a mirrored copy).  The halo may exceed the image (a 4x4 coarse
 * band under a halo of 8), hence the modulo. */
static int border_index(int i, int n, int periodic, int *flip)
{
    int p = periodic ? n : 2 * n;
    i = ((i % p) + p) % p;
    *flip = i >= n;
    return i >= n ? p - 1 - i : i;
}

/* d[eh,ew] = plane at rows ey0.., columns ex0.. beyond the border as above;
 * sy/sx: the sign a vertical/horizontal mirror gives this plane. */
static void gather_border(float *d, const float *plane, int H, int W, int ey0, int ex0, int eh,
                          int ew, int periodic, float sy, float sx)
{
    for (int i = 0; i < eh; i++) {
        int fy, fx;
        const float *row = plane + (size_t)border_index(ey0 + i, H, periodic, &fy) * W;
        float s = fy ? sy : 1.0f;
        for (int j = 0; j < ew; j++) {
            int x = border_index(ex0 + j, W, periodic, &fx);
            d[(size_t)i * ew + j] = (fx ? s * sx : s) * row[x];
        }
    }
}

/* Signs of plane c of a source under vertical/horizontal mirroring: Haar
 * details cH (vertical difference), cV (horizontal), cD (both). */
static void mirror_signs(const wp_plane_src *s, int c, float *sy, float *sx)
{
    int band = s->details ? c / (s->channels / 3) : -1;
    *sy = band == 0 || band == 2 ? -1.0f : 1.0f;
    *sx = band == 1 || band == 2 ? -1.0f : 1.0f;
}

static void run_tile(tile_run *r, int t, float *ws)
{
    const wp_net *net = r->net;
    int h = halo_of(net), H = r->H, W = r->W;
    int y0 = (t / r->nx) * r->side, x0 = (t % r->nx) * r->side;
    int y1 = y0 + r->side < H ? y0 + r->side : H, x1 = x0 + r->side < W ? x0 + r->side : W;
    int whole = !r->job->zero_border || r->job->periodic;
    int ey0 = y0 - h, ex0 = x0 - h, ey1 = y1 + h, ex1 = x1 + h;
    if (!whole) {
        ey0 = ey0 > 0 ? ey0 : 0, ex0 = ex0 > 0 ? ex0 : 0;
        ey1 = ey1 < H ? ey1 : H, ex1 = ex1 < W ? ex1 : W;
    }
    int eh = ey1 - ey0, ew = ex1 - ex0;
    size_t A = (size_t)eh * ew;
    float *tin = ws, *tout = ws + (size_t)net->in_ch * A, *nws = tout + (size_t)net->out_ch * A;
    /* gather [in, eh, ew] */
    float *d = tin;
    for (int s = 0; s < r->nsrc; s++)
        for (int c = 0; c < r->src[s].channels; c++, d += A) {
            const float *plane = r->src[s].data + (size_t)c * H * W;
            float sy, sx;
            mirror_signs(&r->src[s], c, &sy, &sx);
            if (whole && (ey0 < 0 || ex0 < 0 || ey1 > H || ex1 > W))
                gather_border(d, plane, H, W, ey0, ex0, eh, ew, r->job->periodic, sy, sx);
            else
                for (int i = 0; i < eh; i++)
                    memcpy(d + (size_t)i * ew, plane + (size_t)(ey0 + i) * W + ex0,
                           sizeof(float) * (size_t)ew);
        }
    const volatile int *cancel = r->job->opt ? r->job->opt->cancel : NULL;
    wp_status st = wp_net_forward(net, tin, tout, 1, eh, ew, nws, cancel);
    if (st) {
        pthread_mutex_lock(&r->job->lock);
        if (!r->status)
            r->status = st;
        pthread_mutex_unlock(&r->job->lock);
        return;
    }
    /* scatter the core */
    for (int c = 0; c < net->out_ch; c++)
        for (int i = y0; i < y1; i++)
            memcpy(r->y + ((size_t)c * H + i) * W + x0,
                   tout + (size_t)c * A + (size_t)(i - ey0) * ew + (x0 - ex0),
                   sizeof(float) * (size_t)(x1 - x0));
    wp_job_advance(r->job, wp_net_work(net, y1 - y0, x1 - x0));
}

static int take_tile(tile_run *r)
{
    pthread_mutex_lock(&r->job->lock);
    int t = (r->status || wp_job_cancelled(r->job) || r->next >= r->ntiles) ? -1 : r->next++;
    pthread_mutex_unlock(&r->job->lock);
    return t;
}

static void *worker(void *p)
{
    worker_arg *a = p;
    if (a->run->nthreads > 1)
        wp_set_threads(1); /* one tile per thread */
    for (int t; (t = take_tile(a->run)) >= 0;)
        run_tile(a->run, t, a->ws);
    return NULL;
}

wp_status wp_net_forward_tiled(wp_job *job, const wp_net *net, const wp_plane_src *src,
                               int nsrc, float *y, int H, int W, char *err)
{
    int cin = 0;
    for (int s = 0; s < nsrc; s++)
        cin += src[s].channels;
    if (cin != net->in_ch)
        return wp_fail(err, WP_ERR_ARG, "network takes %d channels, given %d", net->in_ch, cin);
    if (wp_job_cancelled(job))
        return wp_fail(err, WP_ERR_CANCELLED, "cancelled");
    tile_run r = {job, net, src, nsrc, H, W, 0, 0, 0, 1, y, 0, WP_OK};
    r.side = wp_job_tile_side(job, net, H, W);
    r.nx = (W + r.side - 1) / r.side;
    r.ntiles = r.nx * ((H + r.side - 1) / r.side);
    int h = halo_of(net);
    int eh = (r.side < H ? r.side : H) + 2 * h, ew = (r.side < W ? r.side : W) + 2 * h;
    if (job->zero_border && !job->periodic && eh > H) eh = H;
    if (job->zero_border && !job->periodic && ew > W) ew = W;
    /* Several tiles: one per thread.  One tile (or tiles that cannot fit
     * twice): the threads share it, chunk by chunk, when the budget holds
     * their scratch, else one thread. */
    int nthreads = r.ntiles > 1 ? (job->threads < r.ntiles ? job->threads : r.ntiles) : 1;
    if (nthreads > 256)
        nthreads = 256;
    int inner = 1;
    size_t per = (tile_floats(net, eh, ew, 1) + 15) & ~(size_t)15; /* 64-byte aligned slices */
    if (nthreads > 1 && (size_t)nthreads * per * sizeof(float) > job->budget)
        nthreads = 1;
    if (nthreads == 1 && job->threads > 1) {
        size_t shared = tile_floats(net, eh, ew, job->threads);
        if (shared * sizeof(float) <= job->budget)
            inner = job->threads, per = shared;
    }
    r.nthreads = nthreads;
    float *ws = wp_job_workspace(job, per * (size_t)nthreads, err);
    if (!ws)
        return WP_ERR_NOMEM;
    /* OpenBLAS stays single-threaded: the engine's threads split the work
     * (chunks inside one tile, or whole tiles), so cores are never
     * oversubscribed. */
    int saved = wp_threads();
    openblas_set_num_threads(1);
    if (nthreads == 1) {
        wp_set_threads(inner);
        worker_arg a = {&r, ws};
        worker(&a);
        wp_set_threads(saved);
    } else {
        pthread_t tid[256];
        worker_arg args[256];
        int created[256] = {0};
        for (int i = 0; i < nthreads; i++) {
            args[i] = (worker_arg){&r, ws + (size_t)i * per};
            /* A thread that cannot start leaves its share to the others. */
            if (i > 0)
                created[i] = pthread_create(&tid[i], NULL, worker, &args[i]) == 0;
        }
        worker(&args[0]);
        for (int i = 1; i < nthreads; i++)
            if (created[i])
                pthread_join(tid[i], NULL);
    }
    if (r.status == WP_ERR_CANCELLED || (!r.status && wp_job_cancelled(job)))
        return wp_fail(err, WP_ERR_CANCELLED, "cancelled");
    if (r.status)
        return wp_fail(err, r.status, "network evaluation failed");
    return WP_OK;
}
