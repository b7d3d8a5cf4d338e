/* image_io.c - PNG/JPEG decoding to float pixels and atomic PNG encoding.
 *
 * Both readers work on an in-memory copy of the file so that the file and
 * memory entry points share one decoder. libpng and libjpeg report errors by
 * longjmp; every function that calls setjmp keeps its mutable state in a
 * job struct owned by its caller, so nothing it needs after the jump lives
 * in a non-volatile local of the setjmp frame, and the caller frees it all.
 */
#include "image_io.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <png.h>
#include <jpeglib.h>
#include <jerror.h>

#define MEMORY_NAME "<memory>"
#define LIB_MSG_LEN 256
/* Progressive JPEGs with absurd scan counts take minutes to decode; real
 * encoders emit at most a few dozen scans. */
#define JPEG_MAX_SCANS 1000

#if defined(__GNUC__)
#define WP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define WP_PRINTF(f, a)
#endif

/* ---- messages and limits ------------------------------------------------ */

/* Writes "name: message" into err (or just the message when name is NULL). */
static void WP_PRINTF(4, 5)
set_err(char *err, size_t errlen, const char *name, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    size_t n = 0;
    if (name) {
        int k = snprintf(err, errlen, "%s: ", name);
        n = k < 0 ? 0 : (size_t)k;
        if (n >= errlen)
            return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - n, fmt, ap);
    va_end(ap);
}

/* Refuses sizes that are empty, exceed the pixel limit, do not fit the int
 * fields of wp_image, or whose float buffer would overflow size_t. Called
 * with the header's dimensions before any pixel memory is allocated. */
static int check_dimensions(const char *name, uint32_t w, uint32_t h,
                            int channels, size_t max_pixels,
                            char *err, size_t errlen)
{
    uint64_t pixels = (uint64_t)w * h;

    if (max_pixels == 0)
        max_pixels = WP_IMAGE_DEFAULT_MAX_PIXELS;
    if (w == 0 || h == 0) {
        set_err(err, errlen, name, "image is %" PRIu32 "x%" PRIu32, w, h);
        return -1;
    }
    if (pixels > max_pixels) {
        set_err(err, errlen, name,
                "%" PRIu32 "x%" PRIu32 " pixels is more than the %zu-pixel limit",
                w, h, max_pixels);
        return -1;
    }
    if (w > INT_MAX || h > INT_MAX ||
        pixels > SIZE_MAX / sizeof(float) / (size_t)channels) {
        set_err(err, errlen, name,
                "%" PRIu32 "x%" PRIu32 " image with %d channels is too large",
                w, h, channels);
        return -1;
    }
    return 0;
}

/* Allocates an uninitialised float buffer for an already checked size. */
static float *alloc_pixels(const char *name, uint32_t w, uint32_t h,
                           int channels, char *err, size_t errlen)
{
    size_t bytes = (size_t)w * h * (size_t)channels * sizeof(float);
    float *p = malloc(bytes);

    if (!p)
        set_err(err, errlen, name, "out of memory (%zu bytes for pixels)", bytes);
    return p;
}

/* Converts one row of big-endian 8- or 16-bit samples to [0,1] floats. */
static void samples_to_float(const unsigned char *src, float *dst,
                             size_t count, int bit_depth)
{
    if (bit_depth == 16) {
        for (size_t i = 0; i < count; i++) {
            unsigned v = ((unsigned)src[2 * i] << 8) | src[2 * i + 1];
            dst[i] = (float)v / 65535.0f;
        }
    } else {
        for (size_t i = 0; i < count; i++)
            dst[i] = (float)src[i] / 255.0f;
    }
}

static void fill_image(wp_image *img, uint32_t w, uint32_t h, int channels,
                       int bit_depth, float *pixels)
{
    img->width = (int)w;
    img->height = (int)h;
    img->channels = channels;
    img->bit_depth = bit_depth;
    img->pixels = pixels;
}

/* ---- PNG reading -------------------------------------------------------- */

struct png_read_job {
    const char *name;
    const unsigned char *data;
    size_t size, pos;
    size_t max_pixels;
    char *err;
    size_t errlen;
    int truncated;        /* the reader ran past the end of the data */
    int own_msg;          /* err already holds our own message */
    char lib_msg[LIB_MSG_LEN];
    float *pixels;        /* freed by the caller on error */
    unsigned char *buf;   /* integer rows; always freed by the caller */
    png_bytep *rows;
    wp_image out;
};

/* libpng error handler: keep the message and unwind to the setjmp. The error
 * pointer is the job's lib_msg buffer (shared by reader and writer). */
static void png_on_error(png_structp png, png_const_charp msg)
{
    char *buf = png_get_error_ptr(png);

    snprintf(buf, LIB_MSG_LEN, "%s", msg);
    png_longjmp(png, 1);
}

/* Warnings (bad ancillary chunks, etc.) are not worth a stderr line. */
static void png_on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static void png_read_from_memory(png_structp png, png_bytep out, size_t len)
{
    struct png_read_job *job = png_get_io_ptr(png);

    if (len > job->size - job->pos) {
        job->truncated = 1;
        png_error(png, "unexpected end of data");
    }
    memcpy(out, job->data + job->pos, len);
    job->pos += len;
}

/* Channel count after png_set_expand, known from IHDR and tRNS alone, so the
 * size check can run before png_read_update_info allocates row buffers. */
static int png_expanded_channels(png_structp png, png_infop info)
{
    int has_trns = png_get_valid(png, info, PNG_INFO_tRNS) ? 1 : 0;

    switch (png_get_color_type(png, info)) {
    case PNG_COLOR_TYPE_GRAY:       return 1 + has_trns;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_PALETTE:
    case PNG_COLOR_TYPE_RGB:        return 3 + has_trns;
    default:                        return 4;
    }
}

/* Non-interlaced: one reused row buffer, so peak memory is the float image. */
static void png_read_rows_streaming(png_structp png, struct png_read_job *job,
                                    uint32_t h, size_t samples, int depth)
{
    for (uint32_t y = 0; y < h; y++) {
        png_read_row(png, job->buf, NULL);
        samples_to_float(job->buf, job->pixels + (size_t)y * samples,
                         samples, depth);
    }
}

/* Interlaced: Adam7 passes revisit every row, so decode the whole image. */
static void png_read_rows_buffered(png_structp png, struct png_read_job *job,
                                   uint32_t h, size_t rowbytes, size_t samples,
                                   int depth)
{
    for (uint32_t y = 0; y < h; y++)
        job->rows[y] = job->buf + (size_t)y * rowbytes;
    png_read_image(png, job->rows);
    for (uint32_t y = 0; y < h; y++)
        samples_to_float(job->rows[y], job->pixels + (size_t)y * samples,
                         samples, depth);
}

static int png_alloc_rows(struct png_read_job *job, int passes, uint32_t h,
                          size_t rowbytes)
{
    /* rowbytes * h is below the float buffer size, which was checked. */
    job->buf = malloc(passes == 1 ? rowbytes : rowbytes * h);
    if (passes != 1)
        job->rows = malloc((size_t)h * sizeof *job->rows);
    if (!job->buf || (passes != 1 && !job->rows)) {
        set_err(job->err, job->errlen, job->name, "out of memory for PNG rows");
        job->own_msg = 1;
        return -1;
    }
    return 0;
}

/* The reader uses the pixels, the palette and tRNS only: libpng skips every
 * other chunk unread.  Read, an ancillary chunk longer than libpng's own
 * 8 MB limit only gets a warning and is then allocated whole (a 2 GB tEXt
 * in png_read_info, found by fuzz_image with -malloc_limit_mb=512); skipped,
 * it is read through a small fixed buffer. */
static const png_byte png_unused_chunks[] =
    "bKGD\0cHRM\0eXIf\0gAMA\0hIST\0iCCP\0iTXt\0oFFs\0pCAL\0pHYs\0"
    "sBIT\0sCAL\0sPLT\0sRGB\0tEXt\0tIME\0zTXt";

static void png_skip_unused_chunks(png_structp png)
{
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, png_unused_chunks,
                                (int)(sizeof png_unused_chunks / 5));
}

/* Runs the libpng calls; a libpng error longjmps back here and returns -1. */
static int png_decode(png_structp png, png_infop info, struct png_read_job *job)
{
    if (setjmp(png_jmpbuf(png)))
        return -1;

    /* Our own pixel limit replaces libpng's 1e6 width/height default. */
    png_set_user_limits(png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
    png_skip_unused_chunks(png);
    png_set_read_fn(png, job, png_read_from_memory);
    png_read_info(png, info);

    uint32_t w = png_get_image_width(png, info);
    uint32_t h = png_get_image_height(png, info);
    if (check_dimensions(job->name, w, h, png_expanded_channels(png, info),
                         job->max_pixels, job->err, job->errlen) != 0) {
        job->own_msg = 1;
        return -1;
    }

    png_set_expand(png);
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int channels = png_get_channels(png, info);
    int depth = png_get_bit_depth(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if (check_dimensions(job->name, w, h, channels, job->max_pixels,
                         job->err, job->errlen) != 0 ||
        png_alloc_rows(job, passes, h, rowbytes) != 0) {
        job->own_msg = 1;
        return -1;
    }
    job->pixels = alloc_pixels(job->name, w, h, channels, job->err, job->errlen);
    if (!job->pixels) {
        job->own_msg = 1;
        return -1;
    }

    size_t samples = (size_t)w * (size_t)channels;
    if (passes == 1)
        png_read_rows_streaming(png, job, h, samples, depth);
    else
        png_read_rows_buffered(png, job, h, rowbytes, samples, depth);
    png_read_end(png, NULL);  /* checks the CRCs up to IEND */

    fill_image(&job->out, w, h, channels, depth, job->pixels);
    return 0;
}

static void png_report(const struct png_read_job *job)
{
    if (job->own_msg)
        return;
    if (job->truncated)
        set_err(job->err, job->errlen, job->name,
                "truncated PNG data (libpng: %s)", job->lib_msg);
    else if (strstr(job->lib_msg, "memory"))
        set_err(job->err, job->errlen, job->name,
                "out of memory decoding PNG (libpng: %s)", job->lib_msg);
    else
        set_err(job->err, job->errlen, job->name,
                "invalid PNG data (libpng: %s)", job->lib_msg);
}

/* Walks the chunk headers: no chunk may claim more bytes than the file has
 * left.  libpng allocates an ancillary chunk's claimed length before reading
 * it (a 2 GB tEXt in a 184-byte file, found by fuzz_image), so this keeps
 * its allocations within the file's size. */
static char name_char(unsigned char c) { return isalpha(c) ? (char)c : '?'; }

static int png_check_chunks(const char *name, const unsigned char *data, size_t size,
                            char *err, size_t errlen)
{
    size_t at = 8; /* after the signature */
    while (at + 12 <= size) {
        const unsigned char *c = data + at;
        uint32_t len = (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3];
        if ((size_t)len > size - at - 12) {
            set_err(err, errlen, name,
                    "truncated PNG data (chunk '%c%c%c%c' claims %lu bytes, %zu are left)",
                    name_char(c[4]), name_char(c[5]), name_char(c[6]), name_char(c[7]),
                    (unsigned long)len,
                    size - at - 12);
            return -1;
        }
        if (!memcmp(c + 4, "IEND", 4))
            break;
        at += 12 + (size_t)len;
    }
    return 0; /* anything else is libpng's to judge */
}

static int read_png(const char *name, const unsigned char *data, size_t size,
                    size_t max_pixels, wp_image *img, char *err, size_t errlen)
{
    if (png_check_chunks(name, data, size, err, errlen) != 0)
        return -1;
    struct png_read_job job = {
        .name = name, .data = data, .size = size, .max_pixels = max_pixels,
        .err = err, .errlen = errlen,
    };
    png_infop info = NULL;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, job.lib_msg,
                                             png_on_error, png_on_warning);
    if (png)
        info = png_create_info_struct(png);
    if (!png || !info) {
        png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
        set_err(err, errlen, name, "out of memory starting libpng");
        return -1;
    }

    int rc = png_decode(png, info, &job);
    png_destroy_read_struct(&png, &info, NULL);
    free(job.buf);
    free(job.rows);
    if (rc != 0) {
        free(job.pixels);
        png_report(&job);
        return -1;
    }
    *img = job.out;
    return 0;
}

/* ---- JPEG reading ------------------------------------------------------- */

struct jpeg_err_state {
    struct jpeg_error_mgr pub;   /* must be first: libjpeg sees only this */
    jmp_buf jump;
    int truncated;
    int too_many_scans;
    char lib_msg[JMSG_LENGTH_MAX];
};

struct jpeg_read_job {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_err_state jerr;
    struct jpeg_progress_mgr progress;
    const char *name;
    const unsigned char *data;
    size_t size;
    size_t max_pixels;
    char *err;
    size_t errlen;
    int own_msg;
    float *pixels;               /* freed by the caller on error */
    wp_image out;
};

static void jpeg_on_error(j_common_ptr cinfo)
{
    struct jpeg_err_state *e = (struct jpeg_err_state *)cinfo->err;

    (*cinfo->err->format_message)(cinfo, e->lib_msg);
    longjmp(e->jump, 1);
}

/* libjpeg pads truncated data with a fake EOI and only warns, which would
 * hand back a half-grey image; make that one warning fatal, ignore the rest
 * (e.g. stray bytes before a marker are common and harmless). */
static void jpeg_on_message(j_common_ptr cinfo, int msg_level)
{
    struct jpeg_err_state *e = (struct jpeg_err_state *)cinfo->err;

    if (msg_level >= 0)
        return;  /* trace output */
    cinfo->err->num_warnings++;
    if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
        e->truncated = 1;
        (*cinfo->err->format_message)(cinfo, e->lib_msg);
        longjmp(e->jump, 1);
    }
}

static void jpeg_on_progress(j_common_ptr cinfo)
{
    struct jpeg_err_state *e = (struct jpeg_err_state *)cinfo->err;

    if (cinfo->is_decompressor &&
        ((j_decompress_ptr)cinfo)->input_scan_number > JPEG_MAX_SCANS) {
        e->too_many_scans = 1;
        longjmp(e->jump, 1);
    }
}

/* Picks the output colour space; returns the channel count or 0 if refused. */
static int jpeg_pick_output(struct jpeg_read_job *job)
{
    j_decompress_ptr cinfo = &job->cinfo;

    switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE:
        cinfo->out_color_space = JCS_GRAYSCALE;
        return 1;
    case JCS_YCbCr:
    case JCS_RGB:
        cinfo->out_color_space = JCS_RGB;
        return 3;
    case JCS_CMYK:
    case JCS_YCCK:
        set_err(job->err, job->errlen, job->name,
                "CMYK JPEG images are not supported (convert to RGB first)");
        return 0;
    default:
        set_err(job->err, job->errlen, job->name,
                "unsupported JPEG colour space (%d components)",
                cinfo->num_components);
        return 0;
    }
}

static void jpeg_read_pixels(struct jpeg_read_job *job, int channels)
{
    j_decompress_ptr cinfo = &job->cinfo;
    size_t samples = (size_t)cinfo->output_width * (size_t)channels;
    /* Pool memory: released by jpeg_destroy_decompress, even after a jump. */
    JSAMPARRAY row = (*cinfo->mem->alloc_sarray)((j_common_ptr)cinfo,
                                                 JPOOL_IMAGE,
                                                 (JDIMENSION)samples, 1);

    while (cinfo->output_scanline < cinfo->output_height) {
        size_t y = cinfo->output_scanline;
        if (jpeg_read_scanlines(cinfo, row, 1) != 1)
            ERREXIT(cinfo, JERR_INPUT_EOF);  /* cannot happen with mem src */
        samples_to_float(row[0], job->pixels + y * samples, samples, 8);
    }
}

/* Runs the libjpeg calls; an error longjmps back here and returns -1. */
static int jpeg_decode(struct jpeg_read_job *job)
{
    j_decompress_ptr cinfo = &job->cinfo;

    if (setjmp(job->jerr.jump))
        return -1;

    jpeg_create_decompress(cinfo);
    job->progress.progress_monitor = jpeg_on_progress;
    cinfo->progress = &job->progress;
    jpeg_mem_src(cinfo, job->data, (unsigned long)job->size);
    jpeg_read_header(cinfo, TRUE);

    int channels = jpeg_pick_output(job);
    if (channels == 0 ||
        check_dimensions(job->name, cinfo->image_width, cinfo->image_height,
                         channels, job->max_pixels, job->err, job->errlen) != 0) {
        job->own_msg = 1;
        return -1;
    }

    jpeg_start_decompress(cinfo);
    if (cinfo->output_components != channels) {
        set_err(job->err, job->errlen, job->name,
                "libjpeg produced %d components, expected %d",
                cinfo->output_components, channels);
        job->own_msg = 1;
        return -1;
    }
    job->pixels = alloc_pixels(job->name, cinfo->output_width,
                               cinfo->output_height, channels,
                               job->err, job->errlen);
    if (!job->pixels) {
        job->own_msg = 1;
        return -1;
    }
    jpeg_read_pixels(job, channels);
    jpeg_finish_decompress(cinfo);

    fill_image(&job->out, cinfo->output_width, cinfo->output_height,
               channels, 8, job->pixels);
    return 0;
}

static void jpeg_report(const struct jpeg_read_job *job)
{
    if (job->own_msg)
        return;
    if (job->jerr.too_many_scans)
        set_err(job->err, job->errlen, job->name,
                "JPEG has more than %d progressive scans", JPEG_MAX_SCANS);
    else if (job->jerr.truncated)
        set_err(job->err, job->errlen, job->name,
                "truncated JPEG data (libjpeg: %s)", job->jerr.lib_msg);
    else
        set_err(job->err, job->errlen, job->name,
                "invalid JPEG data (libjpeg: %s)", job->jerr.lib_msg);
}

static int read_jpeg(const char *name, const unsigned char *data, size_t size,
                     size_t max_pixels, wp_image *img, char *err, size_t errlen)
{
    if (size > ULONG_MAX) {  /* jpeg_mem_src takes an unsigned long */
        set_err(err, errlen, name, "JPEG data too large");
        return -1;
    }
    /* Heap, not stack: the libjpeg structs plus jmp_buf are a few KB. */
    struct jpeg_read_job *job = calloc(1, sizeof *job);
    if (!job) {
        set_err(err, errlen, name, "out of memory");
        return -1;
    }
    job->name = name;
    job->data = data;
    job->size = size;
    job->max_pixels = max_pixels;
    job->err = err;
    job->errlen = errlen;
    job->cinfo.err = jpeg_std_error(&job->jerr.pub);
    job->jerr.pub.error_exit = jpeg_on_error;
    job->jerr.pub.emit_message = jpeg_on_message;

    int rc = jpeg_decode(job);
    jpeg_destroy_decompress(&job->cinfo);  /* no-op if create never ran */
    if (rc != 0) {
        free(job->pixels);
        jpeg_report(job);
    } else {
        *img = job->out;
    }
    free(job);
    return rc;
}

/* ---- format detection and entry points ---------------------------------- */

static int looks_like_png(const unsigned char *data, size_t size)
{
    /* A cut-off signature still counts, so it is reported as truncated. */
    return png_sig_cmp(data, 0, size < 8 ? size : 8) == 0;
}

static int looks_like_jpeg(const unsigned char *data, size_t size)
{
    return size >= 2 && data[0] == 0xFF && data[1] == 0xD8;  /* SOI */
}

static int decode_image(const char *name, const unsigned char *data,
                        size_t size, size_t max_pixels, wp_image *img,
                        char *err, size_t errlen)
{
    if (size == 0) {
        set_err(err, errlen, name, "file is empty");
        return -1;
    }
    if (looks_like_png(data, size))
        return read_png(name, data, size, max_pixels, img, err, errlen);
    if (looks_like_jpeg(data, size))
        return read_jpeg(name, data, size, max_pixels, img, err, errlen);
    set_err(err, errlen, name, "not a PNG or JPEG file");
    return -1;
}

int wp_image_read_memory(const void *data, size_t size, size_t max_pixels,
                         wp_image *img, char *err, size_t errlen)
{
    if (!img) {
        set_err(err, errlen, MEMORY_NAME, "no output image");
        return -1;
    }
    memset(img, 0, sizeof *img);
    if (!data && size > 0) {
        set_err(err, errlen, MEMORY_NAME, "no data");
        return -1;
    }
    return decode_image(MEMORY_NAME, data, size, max_pixels, img, err, errlen);
}

/* Grows buf to hold at least need bytes (doubling, overflow-checked). */
static int grow_buffer(unsigned char **buf, size_t *cap, size_t need)
{
    size_t n = *cap ? *cap : 65536;
    while (n < need) {
        if (n > SIZE_MAX / 2)
            return -1;
        n *= 2;
    }
    unsigned char *p = realloc(*buf, n);
    if (!p)
        return -1;
    *buf = p;
    *cap = n;
    return 0;
}

static int read_fd_fully(int fd, const char *path, size_t hint,
                         unsigned char **out, size_t *outlen,
                         char *err, size_t errlen)
{
    unsigned char *buf = NULL;
    size_t cap = 0, len = 0;

    /* +1 so that a regular file's EOF is seen without a reallocation. */
    if (grow_buffer(&buf, &cap, hint + 1) != 0)
        goto oom;
    for (;;) {
        if (len == cap && grow_buffer(&buf, &cap, cap + 1) != 0)
            goto oom;
        ssize_t r = read(fd, buf + len, cap - len);
        if (r == 0)
            break;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            set_err(err, errlen, path, "read error: %s", strerror(errno));
            free(buf);
            return -1;
        }
        len += (size_t)r;
    }
    *out = buf;
    *outlen = len;
    return 0;
oom:
    free(buf);
    set_err(err, errlen, path, "out of memory reading file");
    return -1;
}

static int read_whole_file(const char *path, unsigned char **out,
                           size_t *outlen, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        set_err(err, errlen, path, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        set_err(err, errlen, path, "cannot stat: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        set_err(err, errlen, path, "is a directory");
        close(fd);
        return -1;
    }
    size_t hint = S_ISREG(st.st_mode) && st.st_size > 0 &&
                  (uintmax_t)st.st_size < SIZE_MAX ? (size_t)st.st_size : 0;
    int rc = read_fd_fully(fd, path, hint, out, outlen, err, errlen);
    close(fd);
    return rc;
}

int wp_image_read(const char *path, size_t max_pixels, wp_image *img,
                  char *err, size_t errlen)
{
    if (!img || !path) {
        set_err(err, errlen, path, "no path or output image");
        return -1;
    }
    memset(img, 0, sizeof *img);

    unsigned char *data = NULL;
    size_t size = 0;
    if (read_whole_file(path, &data, &size, err, errlen) != 0)
        return -1;
    int rc = decode_image(path, data, size, max_pixels, img, err, errlen);
    free(data);
    return rc;
}

/* ---- allocation ---------------------------------------------------------- */

int wp_image_alloc(wp_image *img, int width, int height, int channels,
                   int bit_depth, char *err, size_t errlen)
{
    if (!img) {
        set_err(err, errlen, NULL, "wp_image_alloc: no image");
        return -1;
    }
    memset(img, 0, sizeof *img);
    if (width <= 0 || height <= 0 || channels < 1 || channels > 4 ||
        (bit_depth != 8 && bit_depth != 16)) {
        set_err(err, errlen, NULL,
                "wp_image_alloc: invalid image %dx%d, %d channels, %d-bit",
                width, height, channels, bit_depth);
        return -1;
    }
    if (check_dimensions(NULL, (uint32_t)width, (uint32_t)height, channels,
                         SIZE_MAX, err, errlen) != 0)
        return -1;
    float *p = calloc((size_t)width * (size_t)height * (size_t)channels,
                      sizeof(float));
    if (!p) {
        set_err(err, errlen, NULL, "out of memory for a %dx%dx%d image",
                width, height, channels);
        return -1;
    }
    fill_image(img, (uint32_t)width, (uint32_t)height, channels, bit_depth, p);
    return 0;
}

void wp_image_free(wp_image *img)
{
    if (!img)
        return;
    free(img->pixels);
    img->pixels = NULL;
}

/* ---- PNG writing --------------------------------------------------------- */

struct png_write_job {
    FILE *fp;
    const wp_image *img;
    unsigned char *row;
    int write_errno;            /* errno of a failed fwrite, else 0 */
    char lib_msg[LIB_MSG_LEN];
};

/* Clamps to [0,1] and rounds to nearest; the negated test also maps NaN to 0. */
static unsigned quantize(float v, unsigned maxval)
{
    if (!(v > 0.0f))
        return 0;
    if (v >= 1.0f)
        return maxval;
    return (unsigned)floor((double)v * maxval + 0.5);
}

static void float_to_samples(const float *src, unsigned char *dst,
                             size_t count, int bit_depth)
{
    if (bit_depth == 16) {
        for (size_t i = 0; i < count; i++) {
            unsigned v = quantize(src[i], 65535);
            dst[2 * i] = (unsigned char)(v >> 8);  /* PNG is big-endian */
            dst[2 * i + 1] = (unsigned char)(v & 0xFF);
        }
    } else {
        for (size_t i = 0; i < count; i++)
            dst[i] = (unsigned char)quantize(src[i], 255);
    }
}

static void png_write_to_file(png_structp png, png_bytep data, size_t len)
{
    struct png_write_job *job = png_get_io_ptr(png);

    errno = 0;
    if (fwrite(data, 1, len, job->fp) != len) {
        job->write_errno = errno ? errno : EIO;
        png_error(png, "write failed");
    }
}

static void png_flush_nothing(png_structp png)
{
    (void)png;  /* the caller flushes and fsyncs once at the end */
}

static int png_color_type_for(int channels)
{
    static const int types[] = {
        PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
        PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA,
    };
    return types[channels - 1];
}

/* Runs the libpng calls; a libpng error longjmps back here and returns -1. */
static int png_encode(png_structp png, png_infop info, struct png_write_job *job)
{
    const wp_image *img = job->img;
    size_t samples = (size_t)img->width * (size_t)img->channels;

    if (setjmp(png_jmpbuf(png)))
        return -1;

    png_set_write_fn(png, job, png_write_to_file, png_flush_nothing);
    png_set_user_limits(png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
    png_set_IHDR(png, info, (png_uint_32)img->width, (png_uint_32)img->height,
                 img->bit_depth, png_color_type_for(img->channels),
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, 1);  /* speed over size for CLI output */
    png_write_info(png, info);
    for (int y = 0; y < img->height; y++) {
        float_to_samples(img->pixels + (size_t)y * samples, job->row, samples,
                         img->bit_depth);
        png_write_row(png, job->row);
    }
    png_write_end(png, info);
    return 0;
}

/* Encodes img into fp; fp stays open for the caller. */
static int write_png_stream(FILE *fp, const wp_image *img, const char *path,
                            char *err, size_t errlen)
{
    struct png_write_job job = { .fp = fp, .img = img };
    size_t rowbytes = (size_t)img->width * (size_t)img->channels *
                      (size_t)(img->bit_depth / 8);
    png_infop info = NULL;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, job.lib_msg,
                                              png_on_error, png_on_warning);
    if (png)
        info = png_create_info_struct(png);
    job.row = malloc(rowbytes);
    if (!png || !info || !job.row) {
        png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
        free(job.row);
        set_err(err, errlen, path, "out of memory starting PNG encoder");
        return -1;
    }

    int rc = png_encode(png, info, &job);
    png_destroy_write_struct(&png, &info);
    free(job.row);
    if (rc != 0 && job.write_errno)
        set_err(err, errlen, path, "cannot write PNG data: %s",
                strerror(job.write_errno));
    else if (rc != 0)
        set_err(err, errlen, path, "PNG encoding failed (libpng: %s)",
                job.lib_msg);
    return rc;
}

static int validate_for_write(const char *path, const wp_image *img,
                              char *err, size_t errlen)
{
    if (!img || !img->pixels || img->width <= 0 || img->height <= 0 ||
        img->channels < 1 || img->channels > 4 ||
        (img->bit_depth != 8 && img->bit_depth != 16)) {
        set_err(err, errlen, path,
                "cannot write invalid image (%dx%d, %d channels, %d-bit)",
                img ? img->width : 0, img ? img->height : 0,
                img ? img->channels : 0, img ? img->bit_depth : 0);
        return -1;
    }
    return check_dimensions(path, (uint32_t)img->width, (uint32_t)img->height,
                            img->channels, SIZE_MAX, err, errlen);
}

/* The umask can only be read race-free from /proc; fall back to 022. */
static mode_t current_umask(void)
{
    unsigned mask = 022;
    char line[128];
    FILE *f = fopen("/proc/self/status", "re");

    if (!f)
        return 022;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Umask: %o", &mask) == 1)
            break;
    fclose(f);
    return (mode_t)(mask & 0777);
}

/* mkstemp creates mode 0600; give the result the mode a plain open() would
 * have, or keep the mode of the file being replaced. */
static void set_output_mode(int fd, const char *path)
{
    struct stat st;
    mode_t mode;

    if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
        mode = st.st_mode & 07777;
    else
        mode = 0666 & ~current_umask();
    (void)fchmod(fd, mode);  /* best effort: the data matters more */
}

/* Makes the rename durable; failure here cannot lose the new data. */
static void sync_parent_dir(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return;
    char *slash = strrchr(copy, '/');
    const char *dir = ".";
    if (slash) {
        slash[slash == copy ? 1 : 0] = '\0';
        dir = copy;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(copy);
}

/* Flushes, fsyncs and closes fp (always closed on return). */
static int finish_file(FILE *fp, const char *tmp, const char *path,
                       char *err, size_t errlen)
{
    int rc = 0;

    if (fflush(fp) != 0 || fsync(fileno(fp)) != 0) {
        set_err(err, errlen, path, "cannot write %s: %s", tmp, strerror(errno));
        rc = -1;
    }
    if (fclose(fp) != 0 && rc == 0) {
        set_err(err, errlen, path, "cannot close %s: %s", tmp, strerror(errno));
        rc = -1;
    }
    return rc;
}

static char *temp_path_for(const char *path)
{
    static const char suffix[] = ".tmp-XXXXXX";
    size_t n = strlen(path);
    char *tmp = malloc(n + sizeof suffix);

    if (tmp) {
        memcpy(tmp, path, n);
        memcpy(tmp + n, suffix, sizeof suffix);
    }
    return tmp;
}

int wp_image_write_png(const char *path, const wp_image *img,
                       char *err, size_t errlen)
{
    if (!path || !*path) {
        set_err(err, errlen, NULL, "no output path");
        return -1;
    }
    if (validate_for_write(path, img, err, errlen) != 0)
        return -1;
    char *tmp = temp_path_for(path);
    if (!tmp) {
        set_err(err, errlen, path, "out of memory");
        return -1;
    }
    int fd = mkstemp(tmp);
    if (fd < 0) {
        set_err(err, errlen, path, "cannot create temporary file %s: %s",
                tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    set_output_mode(fd, path);

    int rc = -1;
    FILE *fp = fdopen(fd, "wb");
    if (!fp) {
        set_err(err, errlen, path, "cannot open %s: %s", tmp, strerror(errno));
        close(fd);
    } else {
        rc = write_png_stream(fp, img, path, err, errlen);
        if (finish_file(fp, tmp, path, rc == 0 ? err : NULL, errlen) != 0)
            rc = -1;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        set_err(err, errlen, path, "cannot rename %s into place: %s",
                tmp, strerror(errno));
        rc = -1;
    }
    if (rc != 0)
        unlink(tmp);
    else
        sync_parent_dir(path);
    free(tmp);
    return rc;
}
