/* cli_comm.h: the processes of one `wprior train` run.  Built with MPI
 * (meson option mpi) and started by mpirun or srun, they are the ranks of
 * MPI_COMM_WORLD; otherwise one process.  comm_mpi.c and comm_none.c
 * implement it; the engine sees only a wp_train_comm. */
#ifndef CLI_COMM_H
#define CLI_COMM_H

#include "wprior_train.h"

/* Joins the run (MPI_Init under an MPI launcher) and fills c (rank 0 of 1
 * alone).  Prints why not and returns -1. */
int cli_comm_init(int *argc, char ***argv, wp_train_comm *c);
/* Non-zero on every process when flag is non-zero on any (a collective:
 * every process calls it at the same point). */
int cli_comm_any(const wp_train_comm *c, int flag);
/* Leaves the run (MPI_Finalize). */
void cli_comm_finish(void);
/* "MPI" or "none": what this wprior was built with. */
const char *cli_comm_kind(void);

#endif
