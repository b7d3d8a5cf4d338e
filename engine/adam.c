/* adam.c: the Adam optimiser (Kingma & Ba) over one parameter block. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wp_train_internal.h"
#include "wp_util.h"

wp_status wp_adam_init(wp_adam *a, size_t n, char *err)
{
    memset(a, 0, sizeof *a);
    size_t bytes;
    if (!wp_mul_ok(2 * sizeof(float), n, &bytes) || !(a->m = wp_alloc(bytes)))
        return wp_fail(err, WP_ERR_NOMEM, "out of memory for Adam moments of %zu parameters", n);
    memset(a->m, 0, bytes);
    a->v = a->m + n;
    a->n = n;
    a->beta1 = 0.9f;
    a->beta2 = 0.999f;
    a->eps = 1e-8f;
    return WP_OK;
}

void wp_adam_free(wp_adam *a)
{
    free(a->m);
    memset(a, 0, sizeof *a);
}

void wp_adam_step(wp_adam *a, float *p, const float *g, float lr)
{
    a->t++;
    float b1 = a->beta1, b2 = a->beta2;
    /* Bias corrections folded into the step size and epsilon. */
    double c1 = 1.0 - pow(b1, (double)a->t), c2 = 1.0 - pow(b2, (double)a->t);
    float step = (float)(lr / c1), rc2 = (float)(1.0 / sqrt(c2));
    for (size_t i = 0; i < a->n; i++) {
        float m = a->m[i] = b1 * a->m[i] + (1.0f - b1) * g[i];
        float v = a->v[i] = b2 * a->v[i] + (1.0f - b2) * g[i] * g[i];
        p[i] -= step * m / (sqrtf(v) * rc2 + a->eps);
    }
}

void wp_ema_update(float *avg, const float *p, size_t n, float d)
{
    float e = 1.0f - d;
    for (size_t i = 0; i < n; i++)
        avg[i] += e * (p[i] - avg[i]);
}
