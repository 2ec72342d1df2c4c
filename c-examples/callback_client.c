/* callback_client: one task per argument, results delivered through callbacks.
 *
 * Tasks are added with gearman_client_add_task(); gearman_client_run_tasks() then drives
 * them all and calls the created/data/warning/status/complete/exception/fail callbacks.
 * The context of each task is its argument index.
 * Usage: callback_client [-h host] [-p port] [-f function] text...
 * Exit status: 0 when every task completed, 1 on a usage error, 2 on an error or a
 * failed task.
 */
#include <libgearman-1.0/gearman.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failed_tasks = 0;

static int task_index(gearman_task_st *task)
{
    return (int)(intptr_t)gearman_task_context(task);
}

static gearman_return_t on_created(gearman_task_st *task)
{
    printf("[%d] created\n", task_index(task));
    return GEARMAN_SUCCESS;
}

static gearman_return_t on_data(gearman_task_st *task)
{
    printf("[%d] data: %.*s\n", task_index(task), (int)gearman_task_data_size(task),
           (const char *)gearman_task_data(task));
    return GEARMAN_SUCCESS;
}

static gearman_return_t on_warning(gearman_task_st *task)
{
    printf("[%d] warning: %.*s\n", task_index(task), (int)gearman_task_data_size(task),
           (const char *)gearman_task_data(task));
    return GEARMAN_SUCCESS;
}

static gearman_return_t on_status(gearman_task_st *task)
{
    printf("[%d] status: %u/%u\n", task_index(task), gearman_task_numerator(task),
           gearman_task_denominator(task));
    return GEARMAN_SUCCESS;
}

static gearman_return_t on_complete(gearman_task_st *task)
{
    printf("[%d] complete: %.*s\n", task_index(task), (int)gearman_task_data_size(task),
           (const char *)gearman_task_data(task));
    return GEARMAN_SUCCESS;
}

static gearman_return_t on_exception(gearman_task_st *task)
{
    printf("[%d] exception: %.*s\n", task_index(task), (int)gearman_task_data_size(task),
           (const char *)gearman_task_data(task));
    failed_tasks++;
    return GEARMAN_SUCCESS;
}

static gearman_return_t on_fail(gearman_task_st *task)
{
    printf("[%d] fail\n", task_index(task));
    failed_tasks++;
    return GEARMAN_SUCCESS;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    in_port_t port = GEARMAN_DEFAULT_TCP_PORT;
    const char *function = "reverse";
    int opt;
    while ((opt = getopt(argc, argv, "h:p:f:")) != -1) {
        switch (opt) {
        case 'h': host = optarg; break;
        case 'p': port = (in_port_t)atoi(optarg); break;
        case 'f': function = optarg; break;
        default: optind = argc + 1; break;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "usage: %s [-h host] [-p port] [-f function] text...\n", argv[0]);
        return 1;
    }

    gearman_client_st *client = gearman_client_create(NULL);
    if (client == NULL || gearman_failed(gearman_client_add_server(client, host, port))) {
        fprintf(stderr, "setup failed: %s\n", client ? gearman_client_error(client) : "no memory");
        gearman_client_free(client);
        return 2;
    }
    gearman_client_set_created_fn(client, on_created);
    gearman_client_set_data_fn(client, on_data);
    gearman_client_set_warning_fn(client, on_warning);
    gearman_client_set_status_fn(client, on_status);
    gearman_client_set_complete_fn(client, on_complete);
    gearman_client_set_exception_fn(client, on_exception);
    gearman_client_set_fail_fn(client, on_fail);

    for (int i = optind; i < argc; i++) {
        gearman_return_t rc;
        gearman_task_st *task = gearman_client_add_task(client, NULL, (void *)(intptr_t)(i - optind),
                                                        function, NULL, argv[i], strlen(argv[i]),
                                                        &rc);
        if (task == NULL || gearman_failed(rc)) {
            fprintf(stderr, "add_task: %s (%s)\n", gearman_strerror(rc),
                    gearman_client_error(client));
            gearman_client_free(client);
            return 2;
        }
    }

    gearman_return_t rc = gearman_client_run_tasks(client);
    int status = 0;
    if (gearman_failed(rc)) {
        fprintf(stderr, "run_tasks: %s (%s)\n", gearman_strerror(rc), gearman_client_error(client));
        status = 2;
    } else if (failed_tasks > 0) {
        fprintf(stderr, "%d task(s) failed\n", failed_tasks);
        status = 2;
    }
    gearman_client_free(client); /* frees the tasks too */
    return status;
}
