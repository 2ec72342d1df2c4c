/* fault_worker: a worker for the fault tests (tests/fault_*.rs).
 *
 * Usage: fault_worker SERVERS FUNCTION DELAY_MS CAN_DO_TIMEOUT_S IDENTIFIER
 * Serves FUNCTION on every server of SERVERS ("host:port,host:port"), registered with
 * CAN_DO_TIMEOUT_S (0 = none) under IDENTIFIER. Each job prints "start <workload>" before it
 * sleeps DELAY_MS and "done <workload>" after it returned the workload as its result, so the
 * test counts what ran. Prints "ready" once registered; runs until killed. With
 * FAULT_WORKER_STOPPABLE=1 in the environment it waits at most 500 ms per work() call and ends
 * cleanly (gearman_worker_free, exit 0) on SIGTERM, for a leak check of a whole lifetime.
 */
#include <libgearman-1.0/gearman.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int delay_ms;
static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static void *echo_job(gearman_job_st *job, void *context, size_t *result_size,
                      gearman_return_t *ret_ptr)
{
    (void)context;
    size_t n = gearman_job_workload_size(job);
    const char *w = (const char *)gearman_job_workload(job);
    printf("start %.*s\n", (int)n, w);
    fflush(stdout);
    if (delay_ms > 0) {
        usleep((useconds_t)delay_ms * 1000);
    }
    char *out = malloc(n + 1);
    if (out == NULL) {
        *ret_ptr = GEARMAN_WORK_FAIL;
        return NULL;
    }
    memcpy(out, w, n);
    *result_size = n;
    *ret_ptr = GEARMAN_SUCCESS;
    return out;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s SERVERS FUNCTION DELAY_MS CAN_DO_TIMEOUT_S IDENTIFIER\n",
                argv[0]);
        return 1;
    }
    delay_ms = atoi(argv[3]);
    gearman_worker_st *worker = gearman_worker_create(NULL);
    if (worker == NULL) {
        return 2;
    }
    if (gearman_failed(gearman_worker_add_servers(worker, argv[1]))) {
        fprintf(stderr, "add_servers: %s\n", gearman_worker_error(worker));
        return 2;
    }
    gearman_worker_set_identifier(worker, argv[5], strlen(argv[5]));
    if (gearman_failed(gearman_worker_add_function(worker, argv[2], (uint32_t)atoi(argv[4]),
                                                   echo_job, NULL))) {
        fprintf(stderr, "add_function: %s\n", gearman_worker_error(worker));
        return 2;
    }
    const char *stoppable = getenv("FAULT_WORKER_STOPPABLE");
    if (stoppable != NULL && strcmp(stoppable, "1") == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_term;
        sigaction(SIGTERM, &sa, NULL);
        gearman_worker_set_timeout(worker, 500);
    }
    printf("ready\n");
    fflush(stdout);
    unsigned long errors = 0;
    while (!stop) {
        gearman_return_t rc = gearman_worker_work(worker);
        if (rc == GEARMAN_SUCCESS || rc == GEARMAN_TIMEOUT) {
            /* The job's result went back to its server, or a stop check is due. */
            continue;
        }
        /* A server went away: libgearman keeps the others; report rarely, never exit. */
        if (errors++ % 1000 == 0) {
            fprintf(stderr, "work: %s (%lu errors)\n", gearman_strerror(rc), errors);
        }
    }
    gearman_worker_free(worker);
    return 0;
}
