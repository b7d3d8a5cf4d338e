/* comm_none.c: a wprior built without MPI trains alone, and refuses to be
 * started as several ranks (they would each train the whole run and write
 * the same files). */
#include <stdlib.h>

#include "cli_comm.h"
#include "cli_common.h"

int cli_comm_init(int *argc, char ***argv, wp_train_comm *c)
{
    (void)argc;
    (void)argv;
    const char *n = getenv("OMPI_COMM_WORLD_SIZE");
    if (!n)
        n = getenv("PMI_SIZE");
    if (n && atoi(n) > 1) {
        cli_error("started as %s MPI processes, but this wprior was built without MPI "
                  "(install libopenmpi-dev and rebuild with -Dmpi=enabled)", n);
        return -1;
    }
    *c = (wp_train_comm){0, 1, NULL, NULL, NULL};
    return 0;
}

int cli_comm_any(const wp_train_comm *c, int flag)
{
    (void)c;
    return flag != 0;
}

void cli_comm_finish(void) {}

const char *cli_comm_kind(void) { return "none"; }
