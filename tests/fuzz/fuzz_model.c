/* fuzz_model.c: libFuzzer target for the model-file reader. */
#include <stddef.h>
#include <stdint.h>

#include <stdlib.h>

#include "wprior.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wp_prior *p = NULL;
    char err[WP_ERRLEN];
    if (wp_prior_load_memory(data, size, &p, err) == WP_OK) {
        /* A model that loads must also describe itself and denoise. */
        char *d = wp_prior_describe(p);
        free(d);
        int C = wp_prior_channels(p);
        float x[3 * 5 * 6] = {0};
        for (int i = 0; i < 3 * 5 * 6; i++)
            x[i] = (float)(i % 7) / 7.0f;
        wp_denoise(p, x, x, C, 5, 6, NULL, NULL, NULL, err);
        wp_prior_free(p);
    }
    return 0;
}
