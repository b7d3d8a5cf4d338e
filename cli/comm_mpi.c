/* comm_mpi.c: the ranks of MPI_COMM_WORLD as a wp_train_comm.  MPI starts
 * only under a launcher (mpirun, srun): a plain `wprior train` stays one
 * process without touching MPI.  Only the main thread calls MPI (the
 * engine's worker threads never sum), hence MPI_THREAD_FUNNELED. */
#include <limits.h>
#include <mpi.h>
#include <stdlib.h>

#include "cli_comm.h"
#include "cli_common.h"

static int started;

/* Launchers announce the ranks in the environment: Open MPI's mpirun,
 * PMIx (srun --mpi=pmix, recent mpirun) and PMI (MPICH, srun --mpi=pmi2). */
static int under_launcher(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

/* In-place sums, in chunks of at most INT_MAX elements (MPI counts). */
static int sum(void *v, size_t n, MPI_Datatype type, size_t elem)
{
    for (size_t off = 0; off < n;) {
        int k = n - off > INT_MAX ? INT_MAX : (int)(n - off);
        if (MPI_Allreduce(MPI_IN_PLACE, (char *)v + off * elem, k, type, MPI_SUM,
                          MPI_COMM_WORLD) != MPI_SUCCESS)
            return -1;
        off += (size_t)k;
    }
    return 0;
}

static int sum_f32(void *ctx, float *v, size_t n)
{
    (void)ctx;
    return sum(v, n, MPI_FLOAT, sizeof *v);
}

static int sum_f64(void *ctx, double *v, size_t n)
{
    (void)ctx;
    return sum(v, n, MPI_DOUBLE, sizeof *v);
}

int cli_comm_init(int *argc, char ***argv, wp_train_comm *c)
{
    *c = (wp_train_comm){0, 1, sum_f32, sum_f64, NULL};
    if (!under_launcher())
        return 0;
    int provided;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        cli_error("MPI_Init failed");
        return -1;
    }
    started = 1;
    /* Errors come back as codes: the trainer stops with a message (a dead
     * rank still ends the whole job: Open MPI's runtime kills the rest). */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c->size);
    return 0;
}

int cli_comm_any(const wp_train_comm *c, int flag)
{
    if (c->size <= 1)
        return flag != 0;
    double v = flag != 0;
    if (sum_f64(NULL, &v, 1))
        return 1; /* a failed sum stops this rank too */
    return v > 0;
}

void cli_comm_finish(void)
{
    if (started)
        MPI_Finalize();
    started = 0;
}

const char *cli_comm_kind(void) { return "MPI"; }
