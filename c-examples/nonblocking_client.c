/* nonblocking_client: the same tasks as callback_client, driven without blocking.
 *
 * With GEARMAN_CLIENT_NON_BLOCKING, gearman_client_run_tasks() returns GEARMAN_IO_WAIT
 * whenever it would block (connecting, sending, waiting for results); the program then
 * waits for the sockets with gearman_client_wait() and calls run_tasks again. A real
 * program would do other work, or poll its own descriptors, between the calls.
 * Usage: nonblocking_client [-h host] [-p port] [-f function] [-t timeout_ms] text...
 * Exit status: 0 when every task completed, 1 on a usage error, 2 on an error.
 */
#include <libgearman-1.0/gearman.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int completed = 0;

static gearman_return_t on_complete(gearman_task_st *task)
{
    printf("[%d] complete: %.*s\n", (int)(intptr_t)gearman_task_context(task),
           (int)gearman_task_data_size(task), (const char *)gearman_task_data(task));
    completed++;
    return GEARMAN_SUCCESS;
}

static gearman_return_t on_fail(gearman_task_st *task)
{
    printf("[%d] fail\n", (int)(intptr_t)gearman_task_context(task));
    return GEARMAN_SUCCESS;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    in_port_t port = GEARMAN_DEFAULT_TCP_PORT;
    const char *function = "reverse";
    int timeout = 10000;
    int opt;
    while ((opt = getopt(argc, argv, "h:p:f:t:")) != -1) {
        switch (opt) {
        case 'h': host = optarg; break;
        case 'p': port = (in_port_t)atoi(optarg); break;
        case 'f': function = optarg; break;
        case 't': timeout = atoi(optarg); break;
        default: optind = argc + 1; break;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "usage: %s [-h host] [-p port] [-f function] [-t timeout_ms] text...\n",
                argv[0]);
        return 1;
    }

    gearman_client_st *client = gearman_client_create(NULL);
    if (client == NULL || gearman_failed(gearman_client_add_server(client, host, port))) {
        fprintf(stderr, "setup failed: %s\n", client ? gearman_client_error(client) : "no memory");
        gearman_client_free(client);
        return 2;
    }
    gearman_client_add_options(client, GEARMAN_CLIENT_NON_BLOCKING);
    gearman_client_set_timeout(client, timeout); /* bounds each gearman_client_wait() */
    gearman_client_set_complete_fn(client, on_complete);
    gearman_client_set_fail_fn(client, on_fail);

    int tasks = 0;
    for (int i = optind; i < argc; i++, tasks++) {
        gearman_return_t rc;
        if (gearman_client_add_task(client, NULL, (void *)(intptr_t)(i - optind), function, NULL,
                                    argv[i], strlen(argv[i]), &rc) == NULL) {
            fprintf(stderr, "add_task: %s (%s)\n", gearman_strerror(rc),
                    gearman_client_error(client));
            gearman_client_free(client);
            return 2;
        }
    }

    int waits = 0;
    gearman_return_t rc;
    while ((rc = gearman_client_run_tasks(client)) == GEARMAN_IO_WAIT) {
        waits++;
        gearman_return_t wrc = gearman_client_wait(client);
        if (gearman_failed(wrc)) {
            rc = wrc;
            break;
        }
    }
    fprintf(stderr, "run_tasks returned GEARMAN_IO_WAIT %d time(s)\n", waits);
    int status = 0;
    if (gearman_failed(rc)) {
        fprintf(stderr, "run_tasks: %s (%s)\n", gearman_strerror(rc), gearman_client_error(client));
        status = 2;
    } else if (completed != tasks) {
        fprintf(stderr, "%d of %d task(s) completed\n", completed, tasks);
        status = 2;
    } else {
        printf("All %d task(s) completed\n", tasks);
    }
    gearman_client_free(client);
    return status;
}
