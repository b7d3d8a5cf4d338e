/* fuzz_image.c: libFuzzer target for the PNG/JPEG readers. */
#include <stddef.h>
#include <stdint.h>

#include "image_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wp_image img = {0};
    char err[512];
    /* a small pixel limit keeps each run fast; the check itself is fuzzed */
    if (wp_image_read_memory(data, size, 1 << 20, &img, err, sizeof err) == 0)
        wp_image_free(&img);
    return 0;
}
