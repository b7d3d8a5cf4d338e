/* estimate.c: the whole job's time from the preview's throughput. */
#include "estimate.h"

#include <math.h>

#define MIN_SPAN 0.5   /* seconds after the first tile before a running job counts */
#define MIN_FRAC 0.1   /* ... and progress made in them */
#define HYSTERESIS 1.25
#define MAX_FALL 1.5

void wp_estimate_reset(wp_estimate *e)
{
    *e = (wp_estimate){.t_warm = -1};
}

void wp_estimate_begin(wp_estimate *e, double px)
{
    e->px = px;
    e->t_warm = -1;
    e->f_warm = 0;
}

static void add_rate(wp_estimate *e, double r, int warm)
{
    if (!(r > 0) || !isfinite(r))
        return;
    if (e->rate <= 0 || (warm && !e->rate_warm))
        e->rate = r; /* a first rate, or the first one without the cold start */
    else if (warm || !e->rate_warm)
        e->rate = sqrt(e->rate * r);
    e->rate_warm |= warm;
}

void wp_estimate_observe(wp_estimate *e, double t, double f, int done)
{
    if (!done && e->t_warm < 0) {
        if (f > 0) {
            e->t_warm = t;
            e->f_warm = f;
        }
        return;
    }
    double span = t - e->t_warm, frac = (done ? 1.0 : f) - e->f_warm;
    int warm = e->t_warm >= 0 && span > 0 && frac > 0;
    if (done) {
        /* Without a tile before the end, the whole run (cold start and all). */
        add_rate(e, warm ? frac * e->px / span : e->px / t, warm);
        e->t_warm = -1;
    } else if (e->rate <= 0 && warm && span >= MIN_SPAN && frac >= MIN_FRAC) {
        add_rate(e, frac * e->px / span, 1); /* a long job: a first rate before its end */
    }
}

double wp_estimate_seconds(wp_estimate *e, double total_px)
{
    if (e->rate <= 0)
        return -1;
    if (e->shown > 0 && e->rate == e->shown_rate)
        return e->shown;
    e->shown_rate = e->rate;
    double est = total_px / e->rate;
    if (e->shown <= 0 || est > e->shown * HYSTERESIS)
        e->shown = est;
    else if (est < e->shown / HYSTERESIS)
        e->shown = fmax(est, e->shown / MAX_FALL);
    return e->shown;
}
