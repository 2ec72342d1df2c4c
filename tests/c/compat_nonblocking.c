/* A non-blocking client never waits: driven from tests/capi_compat.rs with libgearman 1.1.20
 * and with ours, against the same server.
 *
 * The pattern of Gearman::XS's live test: two add_task on a GEARMAN_CLIENT_NON_BLOCKING client,
 * then run_tasks / gearman_client_wait rounds until both tasks are created. libgearman 1.1.20
 * never polls inside run_tasks: the first round only starts the connection and queues the
 * submissions (IO_WAIT), the second writes them once wait() saw the connection writable
 * (IO_WAIT, no reply read), and replies are read only after a wait() saw them. A library that
 * looks for the replies itself shows them one round early, and a program counting its wait()
 * rounds counts one fewer. How many rounds the replies take after that depends on when they
 * arrive, so only the first two rounds are printed in full.
 *
 * Then gearman_client_do on the non-blocking client: IO_WAIT after submitting (the result is
 * lost, 1.1.20's behaviour), and no task left behind.
 *
 * Usage: compat_nonblocking HOST PORT */
#include <libgearman-1.0/gearman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RC(x) gearman_strerror(x)

static int created = 0;

static gearman_return_t on_created(gearman_task_st *task)
{
    (void)task;
    created++;
    return GEARMAN_SUCCESS;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
        return 64;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    in_port_t port = (in_port_t)atoi(argv[2]);
    gearman_client_st *c = gearman_client_create(NULL);
    if (c == NULL || gearman_client_add_server(c, argv[1], port) != GEARMAN_SUCCESS)
        return 2;
    gearman_client_add_options(c, GEARMAN_CLIENT_NON_BLOCKING);
    gearman_client_set_created_fn(c, on_created);
    gearman_client_set_timeout(c, 10000);

    gearman_return_t rc;
    gearman_task_st *older = gearman_client_add_task(c, NULL, NULL, "compat_nb", NULL, "hello", 5, &rc);
    gearman_task_st *newer = gearman_client_add_task(c, NULL, NULL, "compat_nb", NULL, "world", 5, &rc);
    if (older == NULL || newer == NULL)
        return 3;

    int waits = 0;
    for (int round = 0; round < 50; round++) {
        rc = gearman_client_run_tasks(c);
        if (round < 2)
            printf("round %d: run_tasks=%s newer=%s known=%d older=%s known=%d created=%d\n", round,
                   RC(rc), gearman_task_strstate(newer), gearman_task_is_known(newer),
                   gearman_task_strstate(older), gearman_task_is_known(older), created);
        if (rc == GEARMAN_SUCCESS || created == 2)
            break;
        if (rc != GEARMAN_IO_WAIT) {
            printf("round %d: run_tasks=%s\n", round, RC(rc));
            break;
        }
        gearman_return_t wrc = gearman_client_wait(c);
        waits++;
        if (round < 2)
            printf("round %d: wait=%s\n", round, RC(wrc));
        if (wrc != GEARMAN_SUCCESS) {
            printf("wait failed: %s\n", RC(wrc));
            break;
        }
    }
    printf("created=%d after at least two waits: %s\n", created, waits >= 2 ? "yes" : "no");
    printf("error after the loop: %s\n", RC(gearman_client_error_code(c)));
    gearman_client_task_free_all(c);

    size_t size = 0;
    void *result = gearman_client_do(c, "compat_nb", NULL, "x", 1, &size, &rc);
    printf("do on a non-blocking client: %s result=%s size=%zu has_tasks=%d\n", RC(rc),
           result ? "set" : "NULL", size, gearman_client_has_tasks(c));
    free(result);
    gearman_client_free(c);
    return 0;
}
