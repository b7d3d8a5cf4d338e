/* test_image_io.c - Check tests for cli/image_io.c: PNG round trips at every
 * channel count and depth, libpng expansions (palette, low-bit gray, tRNS,
 * interlace), JPEG reading, error messages on bad input, size limits, and
 * the atomic-write guarantees. Files live in a fresh mkdtemp directory. */
#include "image_io.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <png.h>
#include <jpeglib.h>

static char tmpdir[64];
static char errbuf[512];

/* ---- fixture and file helpers ------------------------------------------- */

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/wp_image_io_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    errbuf[0] = '\0';
}

/* Removes the directory's entries (files and empty subdirectories). */
static void teardown(void)
{
    DIR *d = opendir(tmpdir);
    if (!d)
        return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
        if (unlink(p) != 0)
            rmdir(p);
    }
    closedir(d);
    rmdir(tmpdir);
}

static const char *tpath(const char *name)
{
    static char bufs[4][512];
    static int next;
    char *p = bufs[next++ % 4];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static unsigned char *read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long len = ftell(f);
    ck_assert_int_ge(len, 0);
    rewind(f);
    unsigned char *buf = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return buf;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Counts leftover "*.tmp-*" files from the atomic writer. */
static int count_temp_files(void)
{
    DIR *d = opendir(tmpdir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".tmp-"))
            n++;
    closedir(d);
    return n;
}

#define ASSERT_ERR_CONTAINS(s)                                              \
    ck_assert_msg(strstr(errbuf, (s)) != NULL,                              \
                  "error message \"%s\" lacks \"%s\"", errbuf, (s))

/* ---- image helpers ------------------------------------------------------- */

/* Fills every sample with a distinct-ish integer level, including 0 and max. */
static void fill_levels(wp_image *img)
{
    unsigned maxval = img->bit_depth == 16 ? 65535u : 255u;
    size_t n = (size_t)img->width * img->height * img->channels;
    for (size_t i = 0; i < n; i++) {
        unsigned v = (unsigned)((i * 7919u + 13u) % (maxval + 1u));
        if (i == 0) v = 0;
        if (i == 1) v = maxval;
        img->pixels[i] = (float)v / (float)maxval;
    }
}

static unsigned to_level(float v, int bit_depth)
{
    return (unsigned)lrintf(v * (bit_depth == 16 ? 65535.0f : 255.0f));
}

/* Asserts the images match at the integer level (and exactly as floats,
 * since both sides compute v/maxval the same way). */
static void assert_same_levels(const wp_image *a, const wp_image *b)
{
    ck_assert_int_eq(a->width, b->width);
    ck_assert_int_eq(a->height, b->height);
    ck_assert_int_eq(a->channels, b->channels);
    ck_assert_int_eq(a->bit_depth, b->bit_depth);
    size_t n = (size_t)a->width * a->height * a->channels;
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(to_level(a->pixels[i], a->bit_depth),
                          to_level(b->pixels[i], b->bit_depth));
        ck_assert_msg(a->pixels[i] == b->pixels[i], "sample %zu: %.9g != %.9g",
                      i, (double)a->pixels[i], (double)b->pixels[i]);
    }
}

/* Writes a small valid image and returns its path. */
static const char *make_png(const char *name, int w, int h, int ch, int bd)
{
    wp_image img;
    ck_assert_int_eq(wp_image_alloc(&img, w, h, ch, bd, errbuf, sizeof errbuf), 0);
    fill_levels(&img);
    const char *p = tpath(name);
    ck_assert_msg(wp_image_write_png(p, &img, errbuf, sizeof errbuf) == 0, "%s", errbuf);
    wp_image_free(&img);
    return p;
}

/* ---- raw libpng / libjpeg writers for inputs wp_image cannot produce ---- */

struct raw_png {
    int w, h, color_type, bit_depth, interlace;
    const png_color *palette;
    int npalette;
    const png_byte *trans_alpha;  /* palette tRNS */
    int ntrans;
    const png_color_16 *trans_color;  /* gray/RGB tRNS */
    const unsigned char *rows;    /* packed rows, rowbytes each */
    size_t rowbytes;
};

static void write_raw_png(const char *path, const struct raw_png *r)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    ck_assert_ptr_nonnull(info);
    if (setjmp(png_jmpbuf(png)))
        ck_abort_msg("libpng failed writing test input");
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)r->w, (png_uint_32)r->h, r->bit_depth,
                 r->color_type, r->interlace, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (r->palette)
        png_set_PLTE(png, info, r->palette, r->npalette);
    if (r->trans_alpha || r->trans_color)
        png_set_tRNS(png, info, r->trans_alpha, r->ntrans, r->trans_color);
    png_write_info(png, info);
    png_bytep *rows = malloc((size_t)r->h * sizeof *rows);
    ck_assert_ptr_nonnull(rows);
    for (int y = 0; y < r->h; y++)
        rows[y] = (png_bytep)(r->rows + (size_t)y * r->rowbytes);
    png_write_image(png, rows);  /* handles the Adam7 passes */
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(rows);
    fclose(f);
}

/* Encodes samples (1, 3 or 4 components) as a JPEG file with libjpeg. */
static void write_jpeg(const char *path, const unsigned char *samples,
                       int w, int h, int components, J_COLOR_SPACE space)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = components;
    c.in_color_space = space;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 95, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(samples + (size_t)c.next_scanline * w * components);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    fclose(f);
}

/* Smooth RGB test pattern (JPEG-friendly) at 3 bytes per pixel. */
static unsigned char *rgb_pattern(int w, int h)
{
    unsigned char *s = malloc((size_t)w * h * 3);
    ck_assert_ptr_nonnull(s);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char *p = s + ((size_t)y * w + x) * 3;
            p[0] = (unsigned char)(x * 255 / (w - 1));
            p[1] = (unsigned char)(y * 255 / (h - 1));
            p[2] = 128;
        }
    return s;
}

static const char *make_jpeg(const char *name, int w, int h)
{
    unsigned char *s = rgb_pattern(w, h);
    const char *p = tpath(name);
    write_jpeg(p, s, w, h, 3, JCS_RGB);
    free(s);
    return p;
}

/* ---- crafted PNG headers --------------------------------------------------- */

static uint32_t crc32_bytes(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Appends a chunk with a correct CRC; returns the new length. */
static size_t put_chunk(unsigned char *buf, size_t at, const char *type,
                        const unsigned char *data, uint32_t len)
{
    put_be32(buf + at, len);
    memcpy(buf + at + 4, type, 4);
    if (len)
        memcpy(buf + at + 8, data, len);
    put_be32(buf + at + 8 + len, crc32_bytes(buf + at + 4, 4 + len));
    return at + 12 + len;
}

/* Signature + IHDR (8-bit RGB) + an IDAT of junk: a header that libpng
 * accepts, followed by pixel data that can never decode. */
static size_t crafted_png(unsigned char *buf, uint32_t w, uint32_t h)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    unsigned char ihdr[13] = {0};
    unsigned char junk[16];
    memset(junk, 0xAB, sizeof junk);
    put_be32(ihdr, w);
    put_be32(ihdr + 4, h);
    ihdr[8] = 8;  /* bit depth */
    ihdr[9] = 2;  /* RGB */
    memcpy(buf, sig, 8);
    size_t n = put_chunk(buf, 8, "IHDR", ihdr, 13);
    return put_chunk(buf, n, "IDAT", junk, sizeof junk);
}

/* ---- round trips ---------------------------------------------------------- */

/* Loop index -> (channels, depth): 1..4 channels at 8 then 16 bits. */
START_TEST(test_roundtrip_all_formats)
{
    int ch = _i % 4 + 1, bd = _i < 4 ? 8 : 16;
    wp_image src, back;
    ck_assert_int_eq(wp_image_alloc(&src, 13, 7, ch, bd, errbuf, sizeof errbuf), 0);
    fill_levels(&src);
    const char *p = tpath("rt.png");
    ck_assert_msg(wp_image_write_png(p, &src, errbuf, sizeof errbuf) == 0, "%s", errbuf);
    ck_assert_msg(wp_image_read(p, 0, &back, errbuf, sizeof errbuf) == 0, "%s", errbuf);
    assert_same_levels(&src, &back);
    ck_assert_int_eq(count_temp_files(), 0);
    wp_image_free(&src);
    wp_image_free(&back);
}
END_TEST

START_TEST(test_16bit_value_exact)
{
    wp_image img, back;
    ck_assert_int_eq(wp_image_alloc(&img, 3, 2, 1, 16, errbuf, sizeof errbuf), 0);
    for (int i = 0; i < 6; i++)
        img.pixels[i] = 12345.0f / 65535.0f;
    img.pixels[5] = 1.0f / 65535.0f;  /* would vanish at 8 bits */
    const char *p = tpath("v16.png");
    ck_assert_int_eq(wp_image_write_png(p, &img, errbuf, sizeof errbuf), 0);
    ck_assert_int_eq(wp_image_read(p, 0, &back, errbuf, sizeof errbuf), 0);
    ck_assert_int_eq(back.bit_depth, 16);
    ck_assert(back.pixels[0] == 12345.0f / 65535.0f);
    ck_assert_uint_eq(to_level(back.pixels[4], 16), 12345);
    ck_assert_uint_eq(to_level(back.pixels[5], 16), 1);
    wp_image_free(&img);
    wp_image_free(&back);
}
END_TEST

START_TEST(test_write_clamps_and_rounds)
{
    static const float in[8] = {-0.5f, 1.5f, NAN, INFINITY, -INFINITY,
                                0.49f / 255.0f, 0.51f / 255.0f, 127.5f / 255.0f};
    static const unsigned want[8] = {0, 255, 0, 255, 0, 0, 1, 128};
    wp_image img, back;
    ck_assert_int_eq(wp_image_alloc(&img, 8, 1, 1, 8, errbuf, sizeof errbuf), 0);
    memcpy(img.pixels, in, sizeof in);
    const char *p = tpath("clamp.png");
    ck_assert_int_eq(wp_image_write_png(p, &img, errbuf, sizeof errbuf), 0);
    ck_assert_int_eq(wp_image_read(p, 0, &back, errbuf, sizeof errbuf), 0);
    for (int i = 0; i < 8; i++)
        ck_assert_msg(to_level(back.pixels[i], 8) == want[i], "sample %d: got %u want %u",
                      i, to_level(back.pixels[i], 8), want[i]);
    wp_image_free(&img);
    wp_image_free(&back);
}
END_TEST

START_TEST(test_read_memory_matches_file)
{
    const char *p = make_png("mem.png", 9, 4, 3, 16);
    wp_image a, b;
    size_t n;
    unsigned char *bytes = read_bytes(p, &n);
    ck_assert_int_eq(wp_image_read(p, 0, &a, errbuf, sizeof errbuf), 0);
    ck_assert_int_eq(wp_image_read_memory(bytes, n, 0, &b, errbuf, sizeof errbuf), 0);
    assert_same_levels(&a, &b);
    wp_image_free(&b);
    ck_assert_int_eq(wp_image_read_memory("hello", 5, 0, &b, errbuf, sizeof errbuf), -1);
    ck_assert_str_eq(errbuf, "<memory>: not a PNG or JPEG file");
    ck_assert_ptr_null(b.pixels);
    wp_image_free(&a);
    free(bytes);
}
END_TEST

/* ---- libpng expansions -------------------------------------------------- */

START_TEST(test_palette_with_trns_expands_to_rgba)
{
    static const png_color pal[4] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 20, 30}};
    static const png_byte alpha[2] = {0, 128};   /* entries 2,3 stay opaque */
    static const unsigned char rows[2] = {0x1B, 0xE4};  /* 2-bit: 0 1 2 3 / 3 2 1 0 */
    struct raw_png r = {.w = 4, .h = 2, .color_type = PNG_COLOR_TYPE_PALETTE,
                        .bit_depth = 2, .palette = pal, .npalette = 4,
                        .trans_alpha = alpha, .ntrans = 2, .rows = rows, .rowbytes = 1};
    const char *p = tpath("pal.png");
    write_raw_png(p, &r);
    wp_image img;
    ck_assert_msg(wp_image_read(p, 0, &img, errbuf, sizeof errbuf) == 0, "%s", errbuf);
    ck_assert_int_eq(img.channels, 4);
    ck_assert_int_eq(img.bit_depth, 8);
    static const int idx[8] = {0, 1, 2, 3, 3, 2, 1, 0};
    static const unsigned a_of[4] = {0, 128, 255, 255};
    for (int i = 0; i < 8; i++) {
        const float *px = img.pixels + i * 4;
        ck_assert_uint_eq(to_level(px[0], 8), pal[idx[i]].red);
        ck_assert_uint_eq(to_level(px[1], 8), pal[idx[i]].green);
        ck_assert_uint_eq(to_level(px[2], 8), pal[idx[i]].blue);
        ck_assert_uint_eq(to_level(px[3], 8), a_of[idx[i]]);
    }
    ck_assert(img.pixels[3 * 4 + 1] == 20.0f / 255.0f);
    wp_image_free(&img);
}
END_TEST

START_TEST(test_1bit_gray_expands_to_8bit)
{
    static const unsigned char rows[2] = {0xA0, 0x50};  /* 1010 / 0101 */
    struct raw_png r = {.w = 4, .h = 2, .color_type = PNG_COLOR_TYPE_GRAY,
                        .bit_depth = 1, .rows = rows, .rowbytes = 1};
    const char *p = tpath("g1.png");
    write_raw_png(p, &r);
    wp_image img;
    ck_assert_int_eq(wp_image_read(p, 0, &img, errbuf, sizeof errbuf), 0);
    ck_assert_int_eq(img.channels, 1);
    ck_assert_int_eq(img.bit_depth, 8);
    static const float want[8] = {1, 0, 1, 0, 0, 1, 0, 1};
    for (int i = 0; i < 8; i++)
        ck_assert(img.pixels[i] == want[i]);
    wp_image_free(&img);
}
END_TEST

START_TEST(test_gray_trns_becomes_alpha)
{
    static const unsigned char rows[3] = {7, 200, 7};
    png_color_16 key = {.gray = 7};
    struct raw_png r = {.w = 3, .h = 1, .color_type = PNG_COLOR_TYPE_GRAY,
                        .bit_depth = 8, .trans_color = &key, .rows = rows, .rowbytes = 3};
    const char *p = tpath("gt.png");
    write_raw_png(p, &r);
    wp_image img;
    ck_assert_int_eq(wp_image_read(p, 0, &img, errbuf, sizeof errbuf), 0);
    ck_assert_int_eq(img.channels, 2);
    ck_assert(img.pixels[0] == 7.0f / 255.0f);
    ck_assert(img.pixels[1] == 0.0f);
    ck_assert(img.pixels[2] == 200.0f / 255.0f);
    ck_assert(img.pixels[3] == 1.0f);
    ck_assert(img.pixels[5] == 0.0f);
    wp_image_free(&img);
}
END_TEST

START_TEST(test_interlaced_16bit_rgb)
{
    enum { W = 11, H = 9 };
    unsigned char rows[H][W * 6];
    for (int y = 0; y < H; y++)
        for (int i = 0; i < W * 3; i++) {
            unsigned v = (unsigned)(y * 4099 + i * 1021) & 0xFFFF;
            rows[y][2 * i] = (unsigned char)(v >> 8);
            rows[y][2 * i + 1] = (unsigned char)v;
        }
    struct raw_png r = {.w = W, .h = H, .color_type = PNG_COLOR_TYPE_RGB,
                        .bit_depth = 16, .interlace = PNG_INTERLACE_ADAM7,
                        .rows = &rows[0][0], .rowbytes = W * 6};
    const char *p = tpath("adam7.png");
    write_raw_png(p, &r);
    wp_image img;
    ck_assert_msg(wp_image_read(p, 0, &img, errbuf, sizeof errbuf) == 0, "%s", errbuf);
    ck_assert_int_eq(img.width, W);
    ck_assert_int_eq(img.height, H);
    ck_assert_int_eq(img.channels, 3);
    ck_assert_int_eq(img.bit_depth, 16);
    for (int y = 0; y < H; y++)
        for (int i = 0; i < W * 3; i++) {
            unsigned v = (unsigned)(y * 4099 + i * 1021) & 0xFFFF;
            ck_assert(img.pixels[y * W * 3 + i] == (float)v / 65535.0f);
        }
    wp_image_free(&img);
}
END_TEST

/* ---- JPEG ---------------------------------------------------------------- */

START_TEST(test_jpeg_rgb)
{
    enum { W = 40, H = 24 };
    const char *p = make_jpeg("rgb.jpg", W, H);
    unsigned char *want = rgb_pattern(W, H);
    wp_image img;
    ck_assert_msg(wp_image_read(p, 0, &img, errbuf, sizeof errbuf) == 0, "%s", errbuf);
    ck_assert_int_eq(img.width, W);
    ck_assert_int_eq(img.height, H);
    ck_assert_int_eq(img.channels, 3);
    ck_assert_int_eq(img.bit_depth, 8);
    double sum = 0, worst = 0;
    for (int i = 0; i < W * H * 3; i++) {
        double d = fabs(img.pixels[i] - want[i] / 255.0);
        sum += d;
        worst = d > worst ? d : worst;
        ck_assert(img.pixels[i] >= 0.0f && img.pixels[i] <= 1.0f);
        /* Decoded samples are still exact multiples of 1/255. */
        ck_assert(img.pixels[i] == (float)to_level(img.pixels[i], 8) / 255.0f);
    }
    ck_assert_msg(sum / (W * H * 3) < 2.0 / 255, "mean error %g", sum / (W * H * 3));
    ck_assert_msg(worst < 16.0 / 255, "max error %g", worst);
    free(want);
    wp_image_free(&img);
}
END_TEST

START_TEST(test_jpeg_gray)
{
    enum { W = 16, H = 8 };
    unsigned char s[W * H];
    for (int i = 0; i < W * H; i++)
        s[i] = (unsigned char)(100 + i % W);
    const char *p = tpath("gray.jpg");
    write_jpeg(p, s, W, H, 1, JCS_GRAYSCALE);
    wp_image img;
    ck_assert_int_eq(wp_image_read(p, 0, &img, errbuf, sizeof errbuf), 0);
    ck_assert_int_eq(img.channels, 1);
    ck_assert_int_eq(img.bit_depth, 8);
    for (int i = 0; i < W * H; i++)
        ck_assert_msg(fabs(img.pixels[i] - s[i] / 255.0) < 4.0 / 255, "sample %d", i);
    wp_image_free(&img);
}
END_TEST

START_TEST(test_jpeg_cmyk_refused)
{
    enum { W = 8, H = 8 };
    unsigned char s[W * H * 4];
    memset(s, 60, sizeof s);
    const char *p = tpath("cmyk.jpg");
    write_jpeg(p, s, W, H, 4, JCS_CMYK);
    wp_image img;
    ck_assert_int_eq(wp_image_read(p, 0, &img, errbuf, sizeof errbuf), -1);
    ck_assert_ptr_null(img.pixels);
    ASSERT_ERR_CONTAINS("CMYK");
    ck_assert(strncmp(errbuf, p, strlen(p)) == 0);
}
END_TEST

/* ---- read errors ----------------------------------------------------------- */

START_TEST(test_not_an_image)
{
    const char *p = tpath("photo.png");
    write_bytes(p, "just some text\n", 15);
    wp_image img;
    ck_assert_int_eq(wp_image_read(p, 0, &img, errbuf, sizeof errbuf), -1);
    char want[600];
    snprintf(want, sizeof want, "%s: not a PNG or JPEG file", p);
    ck_assert_str_eq(errbuf, want);
    ck_assert_ptr_null(img.pixels);
}
END_TEST

START_TEST(test_truncated_png)
{
    const char *src = make_png("full.png", 32, 32, 3, 8);
    size_t n;
    unsigned char *bytes = read_bytes(src, &n);
    ck_assert_uint_gt(n, 100);
    const char *p = tpath("cut.png");
    write_bytes(p, bytes, 100);
    wp_image img;
    ck_assert_int_eq(wp_image_read(p, 0, &img, errbuf, sizeof errbuf), -1);
    ASSERT_ERR_CONTAINS("truncated PNG data (");
    ck_assert_ptr_null(img.pixels);
    free(bytes);
}
END_TEST

START_TEST(test_truncated_jpeg)
{
    const char *src = make_jpeg("full.jpg", 40, 24);
    size_t n;
    unsigned char *bytes = read_bytes(src, &n);
    const char *p = tpath("cut.jpg");
    write_bytes(p, bytes, n / 2);
    wp_image img;
    ck_assert_int_eq(wp_image_read(p, 0, &img, errbuf, sizeof errbuf), -1);
    ASSERT_ERR_CONTAINS("truncated JPEG data");
    ck_assert_ptr_null(img.pixels);
    free(bytes);
}
END_TEST

START_TEST(test_empty_missing_and_directory)
{
    wp_image img;
    const char *p = tpath("empty.png");
    write_bytes(p, "", 0);
    ck_assert_int_eq(wp_image_read(p, 0, &img, errbuf, sizeof errbuf), -1);
    ASSERT_ERR_CONTAINS("empty");
    ck_assert_int_eq(wp_image_read(tpath("missing.png"), 0, &img, errbuf, sizeof errbuf), -1);
    ASSERT_ERR_CONTAINS("missing.png: cannot open: No such file or directory");
    ck_assert_int_eq(wp_image_read(tmpdir, 0, &img, errbuf, sizeof errbuf), -1);
    ASSERT_ERR_CONTAINS("is a directory");
    ck_assert_int_eq(wp_image_read_memory(NULL, 0, 0, &img, errbuf, sizeof errbuf), -1);
    ck_assert_str_eq(errbuf, "<memory>: file is empty");
    /* A tiny err buffer truncates the message but stays terminated. */
    char small[8];
    ck_assert_int_eq(wp_image_read_memory("xyz", 3, 0, &img, small, sizeof small), -1);
    ck_assert_str_eq(small, "<memory");
    ck_assert_int_eq(wp_image_read_memory("xyz", 3, 0, &img, NULL, 0), -1);
}
END_TEST

START_TEST(test_huge_header_refused)
{
    unsigned char buf[128];
    size_t n = crafted_png(buf, 100000, 100000);
    const char *p = tpath("huge.png");
    write_bytes(p, buf, n);
    wp_image img;
    char want[600];

    ck_assert_int_eq(wp_image_read(p, (size_t)1 << 20, &img, errbuf, sizeof errbuf), -1);
    snprintf(want, sizeof want,
             "%s: 100000x100000 pixels is more than the 1048576-pixel limit", p);
    ck_assert_str_eq(errbuf, want);
    ck_assert_ptr_null(img.pixels);

    ck_assert_int_eq(wp_image_read(p, 0, &img, errbuf, sizeof errbuf), -1);
    ASSERT_ERR_CONTAINS("100000x100000 pixels is more than the 1073741824-pixel limit");
}
END_TEST

/* A chunk claiming more bytes than the file holds is refused before libpng
 * allocates its length (fuzz_image: a 2 GB tEXt in a 184-byte file). */
START_TEST(test_chunk_longer_than_file_refused)
{
    unsigned char buf[160];
    size_t n = crafted_png(buf, 3, 2);
    size_t at = 8 + 12 + 13; /* the IDAT chunk follows IHDR */
    memmove(buf + at + 12 + 4, buf + at, n - at);
    put_be32(buf + at, 0x79000025u); /* a tEXt header claiming 2 GB */
    memcpy(buf + at + 4, "tEXt", 4);
    memcpy(buf + at + 8, "date", 4);
    n += 16;
    wp_image img;
    ck_assert_int_eq(wp_image_read_memory(buf, n, 0, &img, errbuf, sizeof errbuf), -1);
    ASSERT_ERR_CONTAINS("chunk 'tEXt' claims 2030043173 bytes");
    ck_assert_ptr_null(img.pixels);
}
END_TEST

/* An ancillary chunk that the file really holds but the reader does not
 * use is skipped, not allocated: libpng only warns that a tEXt is over its
 * 8 MB limit and then allocates all of it (fuzz_image with
 * -malloc_limit_mb=512: 2 GB in png_read_info).  A 96 MB tEXt in a valid
 * image must leave the peak RSS of this (forked) test within 16 MB of the
 * file's own buffer and the pixels as written. */
START_TEST(test_big_ancillary_chunk_not_allocated)
{
    const char *p = make_png("small.png", 5, 3, 1, 8);
    size_t n;
    unsigned char *png = read_bytes(p, &n);
    const uint32_t text_len = 96u << 20;
    size_t at = 8 + 12 + 13; /* after IHDR */
    unsigned char *buf = malloc(n + 12 + text_len);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, png, at);
    unsigned char *text = malloc(text_len);
    ck_assert_ptr_nonnull(text);
    memset(text, 'a', text_len);
    memcpy(text, "Comment", 8); /* keyword, NUL, then the text */
    size_t end = put_chunk(buf, at, "tEXt", text, text_len);
    free(text);
    memcpy(buf + end, png + at, n - at);
    end += n - at;

    wp_image want, img;
    ck_assert_int_eq(wp_image_read_memory(png, n, 0, &want, errbuf, sizeof errbuf), 0);
    struct rusage before, after;
    ck_assert_int_eq(getrusage(RUSAGE_SELF, &before), 0);
    ck_assert_msg(wp_image_read_memory(buf, end, 0, &img, errbuf, sizeof errbuf) == 0, "%s", errbuf);
    ck_assert_int_eq(getrusage(RUSAGE_SELF, &after), 0);
    long grew_kb = after.ru_maxrss - before.ru_maxrss;
    ck_assert_msg(grew_kb < 16 * 1024, "reading a 96 MB tEXt raised the peak RSS by %ld KB", grew_kb);
    assert_same_levels(&img, &want);
    wp_image_free(&img);
    wp_image_free(&want);
    free(buf);
    free(png);
}
END_TEST

/* The limit is applied to the header alone: the same junk-data file fails
 * on its size with a tight limit and only in decoding with a loose one. */
START_TEST(test_limit_checked_before_decoding)
{
    unsigned char buf[128];
    size_t n = crafted_png(buf, 3, 2);
    wp_image img;
    ck_assert_int_eq(wp_image_read_memory(buf, n, 5, &img, errbuf, sizeof errbuf), -1);
    ck_assert_str_eq(errbuf, "<memory>: 3x2 pixels is more than the 5-pixel limit");
    ck_assert_int_eq(wp_image_read_memory(buf, n, 6, &img, errbuf, sizeof errbuf), -1);
    ck_assert_msg(strstr(errbuf, "pixel limit") == NULL, "%s", errbuf);
    ck_assert_msg(strstr(errbuf, "PNG data (libpng:") != NULL, "%s", errbuf);

    n = crafted_png(buf, 0, 5);  /* zero width: libpng's IHDR check refuses */
    ck_assert_int_eq(wp_image_read_memory(buf, n, 0, &img, errbuf, sizeof errbuf), -1);
    ck_assert_ptr_null(img.pixels);
}
END_TEST

/* Every prefix of a valid file must fail cleanly; random byte flips must
 * either fail with a message or give a sane image. */
static void torture(const unsigned char *good, size_t n, unsigned seed)
{
    wp_image img;
    for (size_t len = 0; len < n; len++) {
        errbuf[0] = '\0';
        ck_assert_msg(wp_image_read_memory(good, len, 0, &img, errbuf, sizeof errbuf) == -1,
                      "prefix of %zu bytes accepted", len);
        ck_assert_ptr_null(img.pixels);
        ck_assert(errbuf[0] != '\0');
    }
    unsigned char *bad = malloc(n);
    ck_assert_ptr_nonnull(bad);
    srand(seed);
    for (int iter = 0; iter < 300; iter++) {
        memcpy(bad, good, n);
        for (int k = 0; k < 1 + iter % 4; k++)
            bad[(size_t)rand() % n] = (unsigned char)rand();
        errbuf[0] = '\0';
        if (wp_image_read_memory(bad, n, 1 << 16, &img, errbuf, sizeof errbuf) == 0) {
            ck_assert(img.width > 0 && img.height > 0);
            ck_assert(img.channels >= 1 && img.channels <= 4);
            size_t m = (size_t)img.width * img.height * img.channels;
            for (size_t i = 0; i < m; i++)
                ck_assert(img.pixels[i] >= 0.0f && img.pixels[i] <= 1.0f);
            wp_image_free(&img);
        } else {
            ck_assert_ptr_null(img.pixels);
            ck_assert(errbuf[0] != '\0');
        }
    }
    free(bad);
}

START_TEST(test_corrupt_inputs_never_crash)
{
    size_t n;
    unsigned char *png = read_bytes(make_png("t.png", 12, 10, 4, 16), &n);
    torture(png, n, 1);
    free(png);
    unsigned char *jpg = read_bytes(make_jpeg("t.jpg", 24, 16), &n);
    torture(jpg, n, 2);
    free(jpg);
}
END_TEST

/* ---- write errors and atomicity -------------------------------------------- */

START_TEST(test_unwritable_path)
{
    wp_image img;
    ck_assert_int_eq(wp_image_alloc(&img, 4, 4, 3, 8, errbuf, sizeof errbuf), 0);
    ck_assert_int_eq(wp_image_write_png("/nonexistent-dir/x.png", &img, errbuf, sizeof errbuf), -1);
    ASSERT_ERR_CONTAINS("/nonexistent-dir/x.png: cannot create temporary file");
    ck_assert(!file_exists("/nonexistent-dir/x.png"));
    ck_assert(!file_exists("/nonexistent-dir"));
    wp_image_free(&img);
}
END_TEST

START_TEST(test_invalid_image_not_written)
{
    wp_image img;
    ck_assert_int_eq(wp_image_alloc(&img, 4, 4, 3, 8, errbuf, sizeof errbuf), 0);
    const char *p = tpath("bad.png");
    img.bit_depth = 12;
    ck_assert_int_eq(wp_image_write_png(p, &img, errbuf, sizeof errbuf), -1);
    img.bit_depth = 8;
    img.channels = 5;
    ck_assert_int_eq(wp_image_write_png(p, &img, errbuf, sizeof errbuf), -1);
    ASSERT_ERR_CONTAINS("invalid image");
    ck_assert(!file_exists(p));
    ck_assert_int_eq(count_temp_files(), 0);
    img.channels = 3;
    wp_image_free(&img);
}
END_TEST

/* A write that fails half-way (file size limit -> EFBIG) must leave the old
 * destination byte-identical and no temporary file behind. */
START_TEST(test_failed_write_keeps_destination)
{
    const char *dest = make_png("keep.png", 5, 5, 1, 8);
    size_t n0;
    unsigned char *before = read_bytes(dest, &n0);

    wp_image big;
    ck_assert_int_eq(wp_image_alloc(&big, 256, 256, 3, 16, errbuf, sizeof errbuf), 0);
    srand(7);
    for (size_t i = 0; i < (size_t)256 * 256 * 3; i++)
        big.pixels[i] = (float)rand() / (float)RAND_MAX;  /* incompressible */

    struct rlimit old, lim;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 64 * 1024;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = wp_image_write_png(dest, &big, errbuf, sizeof errbuf);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, old_handler);

    ck_assert_int_eq(rc, -1);
    ASSERT_ERR_CONTAINS("File too large");
    size_t n1;
    unsigned char *after = read_bytes(dest, &n1);
    ck_assert_uint_eq(n0, n1);
    ck_assert(memcmp(before, after, n0) == 0);
    ck_assert_int_eq(count_temp_files(), 0);
    free(before);
    free(after);
    wp_image_free(&big);
}
END_TEST

START_TEST(test_rename_failure_cleans_up)
{
    const char *dir = tpath("adir");
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    wp_image img;
    ck_assert_int_eq(wp_image_alloc(&img, 4, 4, 1, 8, errbuf, sizeof errbuf), 0);
    ck_assert_int_eq(wp_image_write_png(dir, &img, errbuf, sizeof errbuf), -1);
    ASSERT_ERR_CONTAINS("cannot rename");
    struct stat st;
    ck_assert_int_eq(stat(dir, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_int_eq(count_temp_files(), 0);
    wp_image_free(&img);
}
END_TEST

START_TEST(test_overwrite_and_modes)
{
    mode_t old_mask = umask(022);
    const char *p = make_png("mode.png", 3, 3, 1, 8);
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0644);

    /* Replacing keeps the old mode and the new content wins. */
    ck_assert_int_eq(chmod(p, 0600), 0);
    wp_image img, back;
    ck_assert_int_eq(wp_image_alloc(&img, 2, 1, 1, 8, errbuf, sizeof errbuf), 0);
    img.pixels[0] = 1.0f;
    ck_assert_int_eq(wp_image_write_png(p, &img, errbuf, sizeof errbuf), 0);
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(wp_image_read(p, 0, &back, errbuf, sizeof errbuf), 0);
    ck_assert_int_eq(back.width, 2);
    ck_assert(back.pixels[0] == 1.0f && back.pixels[1] == 0.0f);
    ck_assert_int_eq(count_temp_files(), 0);
    wp_image_free(&img);
    wp_image_free(&back);
    umask(old_mask);
}
END_TEST

/* ---- allocation ---------------------------------------------------------- */

START_TEST(test_alloc_and_free)
{
    wp_image img;
    ck_assert_int_eq(wp_image_alloc(&img, 5, 3, 2, 16, errbuf, sizeof errbuf), 0);
    ck_assert_int_eq(img.width, 5);
    ck_assert_int_eq(img.height, 3);
    ck_assert_int_eq(img.channels, 2);
    ck_assert_int_eq(img.bit_depth, 16);
    for (int i = 0; i < 30; i++)
        ck_assert(img.pixels[i] == 0.0f);
    wp_image_free(&img);
    ck_assert_ptr_null(img.pixels);
    wp_image_free(&img);  /* twice is fine */

    wp_image zero = {0};
    wp_image_free(&zero);
    wp_image_free(NULL);

    ck_assert_int_eq(wp_image_alloc(&img, 0, 3, 1, 8, errbuf, sizeof errbuf), -1);
    ck_assert_ptr_null(img.pixels);
    ck_assert_int_eq(wp_image_alloc(&img, 3, 3, 5, 8, errbuf, sizeof errbuf), -1);
    ck_assert_int_eq(wp_image_alloc(&img, 3, 3, 1, 12, errbuf, sizeof errbuf), -1);
    ck_assert_int_eq(wp_image_alloc(&img, -1, 3, 1, 8, errbuf, sizeof errbuf), -1);
    ASSERT_ERR_CONTAINS("invalid image");
}
END_TEST

/* ---- runner ---------------------------------------------------------------- */

static TCase *tcase(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    return tc;
}

static Suite *image_io_suite(void)
{
    Suite *s = suite_create("image_io");

    TCase *rt = tcase("roundtrip");
    tcase_add_loop_test(rt, test_roundtrip_all_formats, 0, 8);
    tcase_add_test(rt, test_16bit_value_exact);
    tcase_add_test(rt, test_write_clamps_and_rounds);
    tcase_add_test(rt, test_read_memory_matches_file);
    suite_add_tcase(s, rt);

    TCase *ex = tcase("png_expansion");
    tcase_add_test(ex, test_palette_with_trns_expands_to_rgba);
    tcase_add_test(ex, test_1bit_gray_expands_to_8bit);
    tcase_add_test(ex, test_gray_trns_becomes_alpha);
    tcase_add_test(ex, test_interlaced_16bit_rgb);
    suite_add_tcase(s, ex);

    TCase *jp = tcase("jpeg");
    tcase_add_test(jp, test_jpeg_rgb);
    tcase_add_test(jp, test_jpeg_gray);
    tcase_add_test(jp, test_jpeg_cmyk_refused);
    suite_add_tcase(s, jp);

    TCase *re = tcase("read_errors");
    tcase_add_test(re, test_not_an_image);
    tcase_add_test(re, test_truncated_png);
    tcase_add_test(re, test_truncated_jpeg);
    tcase_add_test(re, test_empty_missing_and_directory);
    tcase_add_test(re, test_huge_header_refused);
    tcase_add_test(re, test_chunk_longer_than_file_refused);
    tcase_add_test(re, test_big_ancillary_chunk_not_allocated);
    tcase_add_test(re, test_limit_checked_before_decoding);
    tcase_add_test(re, test_corrupt_inputs_never_crash);
    suite_add_tcase(s, re);

    TCase *we = tcase("write");
    tcase_add_test(we, test_unwritable_path);
    tcase_add_test(we, test_invalid_image_not_written);
    tcase_add_test(we, test_failed_write_keeps_destination);
    tcase_add_test(we, test_rename_failure_cleans_up);
    tcase_add_test(we, test_overwrite_and_modes);
    tcase_add_test(we, test_alloc_and_free);
    suite_add_tcase(s, we);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(image_io_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
