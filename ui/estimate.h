/* estimate.h: a steady estimate of the whole job's time from the preview's
 * measured throughput.  Pure arithmetic (no GTK, no clock) so that a unit
 * test can replay a timing trace.
 *
 * The rate is pixels per second of a preview job after its first tile:
 * that tile pays for the scratch memory and caches, which the whole job
 * pays once, not per preview.  Rates of later previews are averaged
 * geometrically; the estimate handed out changes only by more than 25%,
 * and never falls by more than a factor of 1.5 at once. */
#ifndef WP_ESTIMATE_H
#define WP_ESTIMATE_H

typedef struct {
    double rate;           /* smoothed pixels per second; 0: none yet */
    int rate_warm;         /* the rate was measured after a first tile */
    double shown;          /* the last estimate handed out, seconds; 0: none */
    double shown_rate;     /* the rate it came from */
    double px;             /* pixels of the running preview job */
    double t_warm, f_warm; /* time and progress at its first tile; t_warm < 0: not yet */
} wp_estimate;

/* Forgets everything: the cost per pixel changed (model, passes, factor). */
void wp_estimate_reset(wp_estimate *e);
/* A preview job of px pixels starts. */
void wp_estimate_begin(wp_estimate *e, double px);
/* The job at t seconds from its start has progress f in [0,1]; done: it
 * has just finished (t is then its whole run time). */
void wp_estimate_observe(wp_estimate *e, double t, double f, int done);
/* Seconds for total_px pixels, or -1 while there is nothing meaningful;
 * the same until a new rate is measured, however often it is asked. */
double wp_estimate_seconds(wp_estimate *e, double total_px);

#endif
