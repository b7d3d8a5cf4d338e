/* wp_util.h: error messages, checked allocation, small helpers. */
#ifndef WP_UTIL_H
#define WP_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include "wprior.h"

/* Formats a message into err (WP_ERRLEN bytes) and returns status. */
wp_status wp_fail(char *err, wp_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* a*b (and a*b*c...) with overflow detection: returns 0 on overflow. */
int wp_mul_ok(size_t a, size_t b, size_t *out);

/* 64-byte aligned allocation (freed with free()); NULL on failure. */
void *wp_alloc(size_t bytes);

double wp_now(void); /* monotonic seconds */
/* The median of v[0..n-1] (n > 0); v is sorted in place. */
double wp_median_sort(float *v, size_t n);
/* A whole decimal number ("0.1", "-2e3"), whatever the locale: 0 / -1. */
int wp_parse_double(const char *s, double *out);

#endif
