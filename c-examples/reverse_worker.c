/* reverse_worker: the worker of Gearman's introduction.
 *
 * Registers "reverse" with gearman_worker_add_function() and serves jobs with
 * gearman_worker_work(). The result buffer is malloc()ed: the library frees it.
 * Usage: reverse_worker [-h host] [-p port] [-c count]
 *   -c count  exit after that many jobs (default: serve forever)
 * Exit status: 0 after count jobs, 2 on an error.
 */
#include <libgearman-1.0/gearman.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long jobs_done = 0; /* jobs handed to reverse() */

static void *reverse(gearman_job_st *job, void *context, size_t *result_size,
                     gearman_return_t *ret_ptr)
{
    (void)context;
    jobs_done++;
    const char *workload = gearman_job_workload(job);
    size_t size = gearman_job_workload_size(job);
    char *result = malloc(size + 1);
    if (result == NULL) {
        *ret_ptr = GEARMAN_WORK_FAIL;
        return NULL;
    }
    for (size_t i = 0; i < size; i++)
        result[i] = workload[size - i - 1];
    result[size] = '\0';
    printf("Job %s: %zu bytes\n", gearman_job_function_name(job), size);
    fflush(stdout);
    *result_size = size;
    *ret_ptr = GEARMAN_SUCCESS;
    return result;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    in_port_t port = GEARMAN_DEFAULT_TCP_PORT;
    long count = -1;
    int opt;
    while ((opt = getopt(argc, argv, "h:p:c:")) != -1) {
        switch (opt) {
        case 'h': host = optarg; break;
        case 'p': port = (in_port_t)atoi(optarg); break;
        case 'c': count = atol(optarg); break;
        default:
            fprintf(stderr, "usage: %s [-h host] [-p port] [-c count]\n", argv[0]);
            return 1;
        }
    }

    gearman_worker_st *worker = gearman_worker_create(NULL);
    if (worker == NULL) {
        fprintf(stderr, "gearman_worker_create failed\n");
        return 2;
    }
    int status = 0;
    if (gearman_failed(gearman_worker_add_server(worker, host, port))
        || gearman_failed(gearman_worker_add_function(worker, "reverse", 0, reverse, NULL))) {
        fprintf(stderr, "setup: %s\n", gearman_worker_error(worker));
        status = 2;
    }
    while (status == 0 && (count < 0 || jobs_done < count)) {
        gearman_return_t rc = gearman_worker_work(worker);
        if (gearman_failed(rc)) {
            fprintf(stderr, "work: %s (%s)\n", gearman_strerror(rc), gearman_worker_error(worker));
            status = 2;
        }
    }
    gearman_worker_free(worker);
    return status;
}
