/* parallel.c: a plain fork-join over pthreads (no pool: a layer's work is
 * milliseconds, a thread start microseconds). */
#include "wp_parallel.h"

#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#define MAX_THREADS 256

/* 0: not set yet, then all online cores (a program's main thread trains
 * or runs with every core unless told otherwise). */
static _Thread_local int tls_threads = 0;

int wp_threads(void)
{
    if (!tls_threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        tls_threads = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
    }
    return tls_threads;
}

void wp_set_threads(int n) { tls_threads = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n; }

typedef struct {
    void (*fn)(int, int, void *);
    void *ctx;
    int n;
    atomic_int next;
} job_t;

typedef struct {
    job_t *job;
    int tid;
} arg_t;

static void *run(void *p)
{
    arg_t *a = p;
    /* Nested parallelism stays off inside a worker. */
    wp_set_threads(1);
    for (int i; (i = atomic_fetch_add(&a->job->next, 1)) < a->job->n;)
        a->job->fn(i, a->tid, a->job->ctx);
    return NULL;
}

void wp_parallel_for(int n, void (*fn)(int, int, void *), void *ctx)
{
    int T = wp_threads() < n ? wp_threads() : n;
    if (T <= 1) {
        for (int i = 0; i < n; i++)
            fn(i, 0, ctx);
        return;
    }
    job_t job = {fn, ctx, n, 0};
    pthread_t tid[MAX_THREADS];
    arg_t args[MAX_THREADS];
    int created[MAX_THREADS] = {0};
    int blas = openblas_get_num_threads();
    openblas_set_num_threads(1);
    for (int t = 1; t < T; t++) {
        args[t] = (arg_t){&job, t};
        created[t] = pthread_create(&tid[t], NULL, run, &args[t]) == 0;
    }
    args[0] = (arg_t){&job, 0};
    int saved = tls_threads;
    run(&args[0]);
    tls_threads = saved;
    for (int t = 1; t < T; t++)
        if (created[t])
            pthread_join(tid[t], NULL);
    openblas_set_num_threads(blas);
}
