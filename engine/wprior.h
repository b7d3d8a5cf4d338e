/* wprior.h: public API of libwprior, the Wavelet Prior engine.
 *
 * A prior is a multi-scale denoiser: a Haar pyramid of J levels, a network
 * that denoises the coarsest low-pass image ("low") and one conditional
 * network per level ("cond0" is the finest) that denoises the three detail
 * bands given the low-pass at that level.  A prior may instead hold a single
 * pixel-domain network ("flat").
 *
 * Every call that can fail returns a wp_status and, when err is not NULL,
 * writes a one-line message into err (WP_ERRLEN bytes is always enough).
 * The engine never exits or aborts on bad input.
 *
 * Threads: a loaded prior is read-only to the jobs (wp_denoise, wp_upscale,
 * wp_sample, wp_inpaint take it const), so any number of threads may run
 * jobs on one prior at once (a preview and a full run), each job with its
 * own wp_workspace or none; their results are the same as one at a time.
 * Changing or freeing a prior (wp_prior_set_meta, wp_prior_free) waits
 * until no job uses it.  A wp_workspace serves one job at a time.
 */
#ifndef WPRIOR_H
#define WPRIOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What libwprior exports: it is built with -fvisibility=hidden, so a
 * function is public only when declared with WP_API. */
#if defined(__GNUC__) || defined(__clang__)
#define WP_API __attribute__((visibility("default")))
#else
#define WP_API
#endif

#define WP_ERRLEN 512

typedef enum {
    WP_OK = 0,
    WP_ERR_ARG = -1,       /* a bad argument from the caller */
    WP_ERR_IO = -2,        /* a file could not be read or written */
    WP_ERR_FORMAT = -3,    /* a model file is corrupt or inconsistent */
    WP_ERR_NOMEM = -4,     /* out of memory or over the memory budget */
    WP_ERR_CANCELLED = -5, /* the caller's cancel flag was raised */
    WP_ERR_NUMERIC = -6,   /* NaN/Inf or divergence */
} wp_status;

WP_API const char *wp_status_name(wp_status s);

/* An opaque loaded prior.  Owned by the caller: free with wp_prior_free. */
typedef struct wp_prior wp_prior;

WP_API wp_status wp_prior_load(const char *path, wp_prior **out, char *err);
WP_API wp_status wp_prior_load_memory(const void *data, size_t size, wp_prior **out, char *err);
WP_API void wp_prior_free(wp_prior *p);

/* What a prior is made of. */
WP_API int wp_prior_channels(const wp_prior *p); /* colour channels: 1 or 3 */
WP_API int wp_prior_levels(const wp_prior *p);   /* J; 0 for a flat prior */
WP_API int wp_prior_is_flat(const wp_prior *p);
/* The level L of the optional denoising entry net "den" (which denoises
 * the level-L low-pass in place of the pyramid below it; at level 0 the
 * image itself, in the pixel domain), -1 without one. */
WP_API int wp_prior_den_level(const wp_prior *p);
/* Makes the low-pass net of src (a multi-scale prior of p's channels with
 * L < wp_prior_levels(p) levels) p's denoising entry net at level L, or
 * the net of a flat src p's at level 0; with src NULL, removes p's.  Only
 * denoising uses it. */
WP_API wp_status wp_prior_set_den(wp_prior *p, const wp_prior *src, char *err);
/* Moves p's denoising entry net to level 0..wp_prior_levels(p)-1 (0: on
 * the image itself).  A bias-free net trained on one level's low-pass
 * denoises another's: the photo priors' den is trained on the level-1
 * low-pass and runs at level 0. */
WP_API wp_status wp_prior_set_den_level(wp_prior *p, int level, char *err);
/* 1 when p has a fill net: the fast inpainting's last step corrects its
 * level-0 fill with it (trained by `wprior train --only fill`). */
WP_API int wp_prior_has_fill(const wp_prior *p);
/* Makes a copy of src's fill net p's (same channels); with src NULL,
 * removes p's. */
WP_API wp_status wp_prior_set_fill(wp_prior *p, const wp_prior *src, char *err);
/* 1 when p has an up net: the fast upscale corrects each level's smooth
 * upscale with it (trained by `wprior train --only up`). */
WP_API int wp_prior_has_up(const wp_prior *p);
/* Makes a copy of src's up net p's (same channels); with src NULL,
 * removes p's. */
WP_API wp_status wp_prior_set_up(wp_prior *p, const wp_prior *src, char *err);
/* Makes a copy of src's low-pass net p's low-pass net (same channels; any
 * levels: a low-pass net of another level is a starting point for
 * training, natural images looking alike across scales). */
WP_API wp_status wp_prior_set_low(wp_prior *p, const wp_prior *src, char *err);
/* Makes a copy of src's conditional net of level j p's (same channels;
 * both have level j). */
WP_API wp_status wp_prior_set_cond(wp_prior *p, int j, const wp_prior *src, char *err);
/* Metadata value for a key of the file's __metadata__, or NULL. */
WP_API const char *wp_prior_meta(const wp_prior *p, const char *key);
/* A multi-line human description (architectures, parameter counts,
 * metadata).  Returns a malloc'ed string the caller frees. */
WP_API char *wp_prior_describe(const wp_prior *p);

/* Sets a free-form metadata entry (name, description, training, ...). */
WP_API wp_status wp_prior_set_meta(wp_prior *p, const char *key, const char *value, char *err);
/* Writes p to path (temporary file, fsync, rename). */
WP_API wp_status wp_prior_save(const wp_prior *p, const char *path, char *err);
/* Builds a prior from the paper's per-network safetensors files: either a
 * low-pass network and levels conditional networks (cond_paths[j] for level
 * j, 0 the finest) or, with flat_path, one pixel-domain network.
 * channels: 1 (gray) or 3.  Sets the metadata "border" to "zero". */
WP_API wp_status wp_prior_import(const char *low_path, const char *const *cond_paths, int levels,
                                 const char *flat_path, int channels, wp_prior **out, char *err);

/* Progress callback: fraction in [0,1], rising monotonically to 1. */
typedef void (*wp_progress_fn)(double fraction, void *user_data);

/* Beyond the image border the networks see either the mirrored image
 * (half-sample symmetric) or their own zero padding (the reference code's
 * convention: its face models were trained on whole images).  The default
 * is the model's metadata "border" ("zero" or "mirror"; `wprior import`
 * writes "zero"); without it, denoising zero-pads (the nets of `wprior
 * train` learnt their padding on their crops, and a mirror repeats the
 * noise) and upscaling and sampling mirror (a zero border there cost the
 * colour photo prior 3 dB at x2). */
typedef enum { WP_BORDER_MODEL = 0, WP_BORDER_ZERO, WP_BORDER_MIRROR } wp_border;

/* A job's scratch memory (the networks' activations for each tile and
 * thread).  A job given none allocates its own and frees it when it ends;
 * a caller that runs many jobs (a live preview) keeps one and passes it in
 * wp_run_options, so that the memory is reused instead of faulted in anew.
 * It keeps the size the largest job needed (within that job's memory
 * budget) until wp_workspace_free. */
typedef struct wp_workspace wp_workspace;

WP_API wp_workspace *wp_workspace_new(void); /* NULL when out of memory */
WP_API void wp_workspace_free(wp_workspace *ws);

/* How a job runs.  A zeroed struct gives the defaults. */
typedef struct {
    int threads;                /* 0: all cores */
    size_t max_memory;          /* budget for the engine's buffers in bytes; 0: 1 GiB */
    int tile_size;              /* tile side in pixels; 0: the largest that fits the budget */
    wp_progress_fn progress;    /* may be NULL */
    void *progress_data;
    const volatile int *cancel; /* polled at least every ~100 ms of work; non-zero stops the
                                   job with WP_ERR_CANCELLED and leaves the output untouched */
    wp_border border;           /* what the networks see beyond the image border */
    wp_workspace *workspace;    /* reused scratch memory, one job at a time; NULL: the job's own */
} wp_run_options;

/* Images are planar float32: channels x height x width, values in [0,1]
 * (gamma-encoded pixels, as stored in PNG files).  channels is 1 or 3;
 * alpha is the caller's business.  A gray prior on a 3-channel image works
 * one channel at a time: denoising in an orthonormal opponent basis (luma,
 * two colour differences), upscaling and inpainting in RGB with the same
 * seed for each channel (a gray image in RGB stays gray); a colour prior
 * needs 3 channels. */

/* The ranges and defaults of the jobs' options, declared once for the
 * engine's checks and every front end (`wprior`'s options, the plug-in's
 * arguments and dialogs). */
#define WP_STRENGTH_MIN 0.0        /* wp_denoise_options.strength */
#define WP_STRENGTH_MAX 1.0
#define WP_STRENGTH_DEFAULT 1.0
#define WP_ENSEMBLE_MAX 32         /* wp_denoise_options.ensemble: passes, 1.. */
#define WP_ENSEMBLE_MAX_FLAT 8     /* a flat prior's passes only turn and mirror */
#define WP_ENSEMBLE_DEFAULT 1
#define WP_FACTOR_MIN 2            /* wp_upscale_options.factor: a power of two, */
#define WP_FACTOR_MAX 8            /* MIN..MAX */
#define WP_FACTOR_DEFAULT 2
#define WP_UPSCALE_PASSES_MAX 8    /* wp_upscale_options.passes: 1..MAX (turned, mirrored) */
#define WP_SAMPLE_SIDE_MAX 16384   /* a sample's width or height that front ends offer */
#define WP_SAMPLE_SIDE_DEFAULT 256 /* ... when neither the user nor the prior sets it */

/* The shipped models that front ends use when none is named (file names
 * without ".safetensors"): gray images get the gray prior; colour images
 * the colour prior to denoise and heal, and the gray prior, channel by
 * channel, to upscale (it upscales colour photographs better). */
#define WP_MODEL_GRAY "photo-gray"
#define WP_MODEL_COLOUR_DENOISE "photo-color"
#define WP_MODEL_COLOUR_UPSCALE "photo-gray"
#define WP_MODEL_COLOUR_HEAL "photo-color"
#define WP_MODEL_SAMPLE "stone"
/* a sample that continues an exemplar (wp_sample_options.exemplar) */
#define WP_MODEL_COLOUR_EXEMPLAR "photo-color"

typedef struct {
    float strength; /* [0,1]: 1 = fully denoised, 0 = the input; blends in between */
    int clipped;    /* 1: the noisy input was clipped to [0,1] (as every 8- or 16-bit
                       image is): the result is corrected for the bias clipping gave
                       the noise near black and white; 0: no correction */
    int ensemble;   /* 0 or 1: one pass; 2..32: the mean of that many passes, the
                       first the image itself: the image moved by a pixel 4 ways
                       (the Haar pyramid then pairs other pixels), then the same
                       turned and mirrored (8 ways); a flat prior only turns and
                       mirrors (2..8), and so does a den at level 0 (passes above 8
                       count as 8).  Better results at that many times the time */
    /* Diagnostics (`wprior eval --oracle`): with oracle_clean, the clean image
     * ([channels,H,W] as in), the coarsest low-pass (WP_ORACLE_LOW; the level-L
     * one with a denoising entry net, wp_prior_den_level) or every
     * level's details (WP_ORACLE_DETAILS) come from it instead of a network,
     * to show which network holds the error.  Multi-scale priors, one pass.
     * oracle_level L (WP_ORACLE_LOW only; 0: that coarsest level): the clean
     * low-pass of level L, 1 <= L <= that level, so that only the details
     * of the levels below L are the networks'. */
    int oracle;
    const float *oracle_clean;
    int oracle_level;
    int fast;  /* 1: a den at level 0 (wp_prior_den_level) runs on the
                  level-1 low-pass instead, cond0 above it (the half-size
                  route): 2.5-3 times faster and up to 1.9 dB lower on
                  photographs (previews, large images); other priors
                  ignore it */
    int blend; /* 1 (without fast): a den at level 0 runs on the image and,
                  above a low estimated noise, the half-size route too;
                  the result blends the two by the noise (better at
                  high noise, up to 1.5 times the time); other priors
                  ignore it; with fast it is an error (WP_ERR_ARG) */
    int wiener; /* the collaborative Wiener stage after the networks (BM3D's
                   second stage, the networks' result as its pilot: repeated
                   patterns within 15 pixels help each other; 0.1-1.3 dB on
                   photographs, about 1.3 s per megapixel on 2 cores):
                   WP_WIENER_AUTO (0): for a prior whose metadata has
                   denoise.wiener=1 (the shipped photo priors), on with
                   blend, and otherwise on images of at most
                   WP_WIENER_AUTO_PIXELS, never with fast or an oracle;
                   WP_WIENER_ON; WP_WIENER_OFF */
} wp_denoise_options;

enum { WP_WIENER_AUTO = 0, WP_WIENER_ON = 1, WP_WIENER_OFF = -1 };
/* Larger images skip the stage unless asked (or blend), so that a 12 MP
 * photograph stays within 30 s on 2 cores. */
#define WP_WIENER_AUTO_PIXELS (4 << 20)

enum { WP_ORACLE_NONE = 0, WP_ORACLE_LOW = 1, WP_ORACLE_DETAILS = 2 };

/* Blind multi-scale denoising.  out may equal in.  When noise_sigma is not
 * NULL it receives the estimated noise standard deviation of the input
 * (in [0,1] pixel units, from the finest diagonal band, robust median).
 * opt and dopt may be NULL (defaults: strength 1, not clipped). */
WP_API wp_status wp_denoise(const wp_prior *p, const float *in, float *out, int channels,
                            int height, int width, const wp_denoise_options *dopt,
                            const wp_run_options *opt, float *noise_sigma, char *err);

/* The noise estimate alone (same as wp_denoise reports). */
WP_API float wp_estimate_noise(const float *img, int channels, int height, int width);

/* Knobs of Kadkhodaie & Simoncelli's stochastic coarse-to-fine ascent:
 * y <- y + h r(y) + gamma z, with r(y) = D(y) - y,
 * h = h0 t / (1 + h0 (t-1)), sigma_t = ||r(y)|| / sqrt(N),
 * gamma = sigma_t sqrt((1 - beta h)^2 - (1 - h)^2).
 * Zero fields take the defaults of wp_sampler_defaults(). */
typedef struct {
    float sigma0;  /* initial noise std (default 1) */
    float sigma_l; /* stop when sigma_t <= sigma_l (relative to std(y) at detail levels) */
    float h0;      /* first step size */
    float beta;    /* 1: deterministic ascent; < 1 injects noise (a real sample) */
    int max_iter;  /* per level */
} wp_sampler_params;

WP_API void wp_sampler_defaults(wp_sampler_params *s);

typedef enum {
    WP_UPSCALE_FAST = 0,  /* few steps, tuned for PSNR (close to the posterior mean) */
    WP_UPSCALE_SHARP = 1, /* a real sample (beta < 1): sharper, less faithful */
} wp_upscale_mode;

typedef struct {
    int factor;               /* 2, 4 or 8 (WP_FACTOR_MIN..WP_FACTOR_MAX) */
    wp_upscale_mode mode;
    uint64_t seed;
    wp_sampler_params sampler; /* zero fields: the mode's defaults */
    int passes; /* 0 or 1: one pass; 2..WP_UPSCALE_PASSES_MAX: the mean of that many
                   passes over the image turned and mirrored (the first the image
                   itself), at that many times the time: in fast mode closer to
                   the posterior mean; in sharp mode the mean of as many
                   samples, smoother */
} wp_upscale_options;

/* Super-resolution: in [channels, height, width] is taken as the low-pass
 * of level log2(factor)-1 and the details of each finer level are drawn
 * from the prior's conditional networks.  out is
 * [channels, height*factor, width*factor], in [0,1], and its
 * factor x factor block means equal the input (clipped to [0,1]). */
WP_API wp_status wp_upscale(const wp_prior *p, const float *in, int channels, int height, int width,
                            float *out, const wp_upscale_options *uopt, const wp_run_options *opt,
                            char *err);

typedef struct {
    int width, height;        /* 0: the prior's native size (wp_prior_sample_size) */
    uint64_t seed;
    wp_sampler_params sampler;
    /* 1: the sample wraps around (a seamless tile: the networks see the
     * image as periodic); -1: plain borders; 0: the prior's default
     * (metadata "sample.tileable" = 1 or 0, else plain). */
    int tileable;
    /* A texture to continue (NULL: none), [channels, ex_height, ex_width] in
     * [0,1], at least 16x16: the sample's low-pass at level
     * WP_EXEMPLAR_LEVEL (the prior's metadata "sample.exemplar_level" may
     * say another, 0 included) is quilted from the exemplar's, the finer
     * details drawn from the prior with the sharp upscale's sampler. */
    const float *exemplar;
    int ex_width, ex_height;
    /* filled in by wp_sample: */
    float final_sigma;        /* sigma_t reached at the finest level */
    int iterations;           /* summed over levels */
} wp_sample_options;

#define WP_EXEMPLAR_LEVEL 1
#define WP_EXEMPLAR_MIN 16
/* A prior's own exemplars (a texture prior's): at most this many, sides
 * at most WP_EXEMPLAR_SIDE_MAX. */
#define WP_EXEMPLARS_MAX 16
#define WP_EXEMPLAR_SIDE_MAX 1024

/* Stores n exemplars [n, channels, h, w] in [0,1] (copied) in the prior:
 * wp_sample continues exemplar (seed mod n) when given none; n = 0
 * removes them.  Saved with the prior (tensor "exemplars"). */
WP_API wp_status wp_prior_set_exemplars(wp_prior *p, const float *ex, int n, int h, int w,
                                        char *err);
/* How many exemplars the prior holds (their size in *h x *w). */
WP_API int wp_prior_exemplars(const wp_prior *p, int *h, int *w);

/* Sizes a prior can sample: a fixed size (face models, from the metadata
 * "image_size" = "WxH") or, for stationary priors, any multiple of 2^J
 * (then *width = *height = 0 and *multiple = 2^J). */
WP_API void wp_prior_sample_size(const wp_prior *p, int *width, int *height, int *multiple);

/* Unconditional synthesis into out [channels, height, width]. */
WP_API wp_status wp_sample(const wp_prior *p, float *out, int channels, wp_sample_options *sopt,
                           const wp_run_options *opt, char *err);

typedef enum {
    WP_INPAINT_FAST = 0,    /* annealed plug-and-play (fixed seed), near the posterior mean */
    WP_INPAINT_SHARP = 1,   /* a real sample (noise injected): plausible texture */
    WP_INPAINT_DIFFUSE = 2, /* no prior: a multigrid diffusion fill (a baseline, instant) */
} wp_inpaint_mode;

typedef struct {
    wp_inpaint_mode mode;
    uint64_t seed;
    wp_sampler_params sampler; /* zero fields: the mode's defaults (or the model's
                                  metadata "inpaint.fast.h0", "inpaint.sharp.sigma0", ...) */
    int context;               /* known pixels around each hole that are processed;
                                  0: the larger of the coarsest net's field and half
                                  the hole's size */
    /* filled in by wp_inpaint: */
    int regions;               /* regions processed (0: no hole) */
    int iterations;            /* summed over levels, regions and channel passes */
    size_t pixels;             /* pixels of the regions processed */
} wp_inpaint_options;

/* Fills the unknown pixels of in [channels, height, width] (mask [height,
 * width], non-zero = unknown) with a draw from the prior given the known
 * ones, coarse to fine; out may equal in.  Known pixels are copied exactly;
 * filled ones are in [0,1].  Only regions around the holes are processed
 * (their size is reported), so a small hole in a large image is cheap.  A
 * mask with no unknown pixel returns the input.  Seeded and reproducible
 * for the same options and tile size, whatever the thread count (another
 * tile size can move a sharp draw by a grey level here and there). */
WP_API wp_status wp_inpaint(const wp_prior *p, const float *in, const uint8_t *mask, float *out,
                            int channels, int height, int width, wp_inpaint_options *iopt,
                            const wp_run_options *opt, char *err);

/* The rectangle of an image of width x height that wp_inpaint reads for
 * holes lying within (x,y,w,h): their bounding box grown by the context,
 * clipped to the image, its origin on the engine's grid.  Inpainting a crop
 * of the image to it (with the mask cropped alike) fills the holes exactly
 * as inpainting the whole image does, so a caller needs to read no more. */
WP_API void wp_inpaint_extent(const wp_prior *p, const wp_inpaint_options *iopt, int width, int height,
                       int x, int y, int w, int h, int *rx, int *ry, int *rw, int *rh);

#ifdef __cplusplus
}
#endif
#endif
