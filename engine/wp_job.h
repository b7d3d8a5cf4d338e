/* wp_job.h: one running job (denoise, upscale, sample): its memory budget,
 * threads, progress and cancel, and the tiled network evaluation that every
 * job is made of. */
#ifndef WP_JOB_H
#define WP_JOB_H

#include <pthread.h>

#include "wp_net.h"
#include "wprior.h"

#define WP_DEFAULT_MAX_MEMORY ((size_t)1 << 30)
#define WP_MIN_TILE 32

/* Scratch floats of the tiles, grown on demand, never shrunk. */
struct wp_workspace {
    float *buf;
    size_t cap;
};

typedef struct {
    const wp_prior *prior;    /* read-only: jobs on one prior may run at once */
    const wp_run_options *opt;
    wp_workspace *ws;         /* the caller's (opt->workspace) or &own */
    wp_workspace own;         /* freed by wp_job_end */
    int threads;
    size_t budget;            /* bytes left for tile workspaces, all threads */
    double work_total;        /* progress units: pixel-MACs of all network runs */
    double work_done;
    double last_reported;
    int periodic;             /* nets see the planes as periodic (tileable sampling) */
    int zero_border;          /* else mirrored context at the border (wp_border) */
    pthread_mutex_t lock;
} wp_job;

/* Starts a job: threads, budget.  fixed_bytes is what the job itself holds
 * (pyramids, planes); it is checked against the budget before anything is
 * allocated, with room for the smallest tile of the largest net.  unset:
 * the border when neither the options nor the model's metadata choose one
 * (WP_BORDER_ZERO or WP_BORDER_MIRROR; the operation's default). */
wp_status wp_job_begin(wp_job *job, const wp_prior *p, const wp_run_options *opt, size_t fixed_bytes,
                       const wp_net *largest, wp_border unset, char *err);
void wp_job_end(wp_job *job);
/* The job's workspace grown to n floats; NULL (with a message) when out
 * of memory. */
float *wp_job_workspace(wp_job *job, size_t n, char *err);
int wp_job_cancelled(const wp_job *job);
/* Adds work done and reports progress (monotonic, thread-safe). */
void wp_job_advance(wp_job *job, double work);
/* Work units of one run of net over h x w pixels. */
double wp_net_work(const wp_net *net, int h, int w);

/* One input of a tiled net: `channels` full-size planes [channels,H,W].
 * details: the planes are Haar detail bands [cH(C), cV(C), cD(C)], so a
 * mirrored border flips their signs as mirroring the image would. */
typedef struct {
    const float *data;
    int channels;
    int details;
} wp_plane_src;

/* y[out,H,W] = net(concat(src[0..nsrc-1])) evaluated over tiles with a halo
 * of (RF-1)/2 pixels, so the result equals the untiled one.  Tiles run on
 * the job's threads (OpenBLAS single-threaded inside) when there are
 * several, else one tile uses all threads inside OpenBLAS.  Every tile
 * gathers its full halo: beyond the border the planes are mirrored
 * (half-sample symmetric, detail signs flipped as for a mirrored image), or
 * wrap around with job->periodic (the net's circular convolution); with
 * job->zero_border tiles stop at the border and the net zero-pads there. */
wp_status wp_net_forward_tiled(wp_job *job, const wp_net *net, const wp_plane_src *src,
                               int nsrc, float *y, int H, int W, char *err);
/* The tile side the job would use for net (for tests and reports). */
int wp_job_tile_side(const wp_job *job, const wp_net *net, int H, int W);

#endif
