/* image_io.h - image file input/output for the Wavelet Prior CLI.
 *
 * Reads PNG and JPEG into float pixels in [0,1] and writes PNG atomically.
 * All functions return 0 on success and -1 on error, with a one-line message
 * in err (when err is non-NULL and errlen > 0); none of them exits or aborts.
 */
#ifndef WP_IMAGE_IO_H
#define WP_IMAGE_IO_H

#include <stddef.h>

/* Default for the max_pixels parameter of the readers (passing 0). */
#define WP_IMAGE_DEFAULT_MAX_PIXELS ((size_t)1 << 30)

typedef struct {
    int width, height;
    int channels;   /* 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA */
    int bit_depth;  /* 8 or 16: the source file's depth (JPEG: 8) */
    float *pixels;  /* interleaved, row-major, values in [0,1], width*height*channels floats */
} wp_image;

/* Reads a PNG or JPEG file, detecting the format from its magic bytes.
 * PNG: palette -> RGB, gray below 8 bits -> 8, tRNS -> alpha, 16-bit kept.
 * JPEG: gray or RGB (CMYK is refused). Samples convert as v/255.0f (8-bit)
 * or v/65535.0f (16-bit). Images with more than max_pixels pixels
 * (0: WP_IMAGE_DEFAULT_MAX_PIXELS) are refused before any pixel memory is
 * allocated. On success *img owns a new pixel buffer (free it with
 * wp_image_free); on error *img is zeroed. Messages start with the path. */
int wp_image_read(const char *path, size_t max_pixels, wp_image *img,
                  char *err, size_t errlen);

/* Same as wp_image_read for an encoded image held in memory; messages use
 * "<memory>" as the name. */
int wp_image_read_memory(const void *data, size_t size, size_t max_pixels,
                         wp_image *img, char *err, size_t errlen);

/* Writes img as a PNG with img->bit_depth (8 or 16) and img->channels.
 * Samples are clamped to [0,1] and rounded to nearest (NaN -> 0). The data
 * goes to path + ".tmp-XXXXXX" in the same directory, is fsynced and then
 * renamed onto path, so on failure path is left untouched and the temporary
 * file is removed. A replaced file keeps its permission bits; a new one gets
 * 0666 minus the umask. */
int wp_image_write_png(const char *path, const wp_image *img,
                       char *err, size_t errlen);

/* Allocates zeroed pixels for a width x height x channels image and fills
 * in *img (bit_depth must be 8 or 16). On error *img is zeroed. */
int wp_image_alloc(wp_image *img, int width, int height, int channels,
                   int bit_depth, char *err, size_t errlen);

/* Frees the pixels; safe on a zeroed struct and when called twice. */
void wp_image_free(wp_image *img);

#endif /* WP_IMAGE_IO_H */
