/* wp_parallel.h: the engine's own threads.  The convolutions split their
 * work (spatial chunks) over wp_threads() threads and call OpenBLAS
 * single-threaded inside, so that the cores are never oversubscribed. */
#ifndef WP_PARALLEL_H
#define WP_PARALLEL_H

/* Threads the calling thread's convolutions may use (default: all online
 * cores).  Per thread: tile workers each run with 1, a single big tile
 * with all. */
int wp_threads(void);
void wp_set_threads(int n);

/* Runs fn(i, tid, ctx) for i in [0, n) on up to wp_threads() threads
 * (tid < wp_threads()); returns when all are done.  OpenBLAS is held to
 * one thread meanwhile. */
void wp_parallel_for(int n, void (*fn)(int i, int tid, void *ctx), void *ctx);

#endif
