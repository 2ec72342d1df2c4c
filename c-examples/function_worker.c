/* function_worker: a worker defined with the gearman_function_t interface.
 *
 * gearman_function_create() wraps a function that receives the job and reports through the
 * job object: it sends a status, then the reversed workload with
 * gearman_job_send_complete(), and returns GEARMAN_SUCCESS. (Returning GEARMAN_SUCCESS
 * without sending a result would complete the job with an empty payload; GEARMAN_FAIL
 * fails it; GEARMAN_ERROR makes the server hand the job out again.)
 * A workload of "fail" fails the job, to show that path.
 * Usage: function_worker [-h host] [-p port] [-f function] [-c count] [-t timeout_s]
 *   -c count      exit after that many jobs (default: serve forever)
 *   -t timeout_s  register with CAN_DO_TIMEOUT (the server fails jobs that take longer)
 * Exit status: 0 after count jobs, 2 on an error.
 */
#include <libgearman-1.0/gearman.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long jobs_done = 0; /* jobs handed to reverse_fn */

static gearman_return_t reverse_fn(gearman_job_st *job, void *context)
{
    jobs_done++;
    const char *prefix = context;
    const char *workload = gearman_job_workload(job);
    size_t size = gearman_job_workload_size(job);
    printf("%s: %zu bytes\n", prefix, size);
    fflush(stdout);
    if (size == 4 && memcmp(workload, "fail", 4) == 0)
        return GEARMAN_FAIL;

    if (gearman_failed(gearman_job_send_status(job, 0, 1)))
        return GEARMAN_ERROR; /* lost the server: let it hand the job out again */
    char *result = malloc(size + 1);
    if (result == NULL)
        return GEARMAN_FAIL;
    for (size_t i = 0; i < size; i++)
        result[i] = workload[size - i - 1];
    gearman_return_t rc = gearman_job_send_complete(job, result, size);
    free(result);
    return gearman_success(rc) ? GEARMAN_SUCCESS : GEARMAN_ERROR;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    in_port_t port = GEARMAN_DEFAULT_TCP_PORT;
    const char *function = "reverse";
    long count = -1;
    uint32_t timeout = 0;
    int opt;
    while ((opt = getopt(argc, argv, "h:p:f:c:t:")) != -1) {
        switch (opt) {
        case 'h': host = optarg; break;
        case 'p': port = (in_port_t)atoi(optarg); break;
        case 'f': function = optarg; break;
        case 'c': count = atol(optarg); break;
        case 't': timeout = (uint32_t)atol(optarg); break;
        default:
            fprintf(stderr, "usage: %s [-h host] [-p port] [-f function] [-c count] [-t timeout_s]\n",
                    argv[0]);
            return 1;
        }
    }

    gearman_worker_st *worker = gearman_worker_create(NULL);
    if (worker == NULL) {
        fprintf(stderr, "gearman_worker_create failed\n");
        return 2;
    }
    gearman_function_t fn = gearman_function_create(reverse_fn);
    int status = 0;
    if (gearman_failed(gearman_worker_add_server(worker, host, port))
        || gearman_failed(gearman_worker_define_function(worker, function, strlen(function), fn,
                                                          timeout, (void *)"job"))) {
        fprintf(stderr, "setup: %s\n", gearman_worker_error(worker));
        status = 2;
    }
    while (status == 0 && (count < 0 || jobs_done < count)) {
        gearman_return_t rc = gearman_worker_work(worker);
        if (rc == GEARMAN_WORK_FAIL) {
            /* The job failed as asked (1.1.20's next work() call only disposes of it). */
            printf("work: %s\n", gearman_strerror(rc));
        } else if (gearman_failed(rc)) {
            fprintf(stderr, "work: %s (%s)\n", gearman_strerror(rc), gearman_worker_error(worker));
            status = 2;
        }
    }
    gearman_worker_free(worker);
    return status;
}
