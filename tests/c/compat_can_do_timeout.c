/* A job that runs longer than its CAN_DO_TIMEOUT still reaches its client: driven from
 * tests/capi_compat.rs with libgearman 1.1.20 and with ours, against gearmand 1.1.20 and
 * against the project's server.
 *
 * A forked worker defines "compat_slow" with gearman_worker_define_function(timeout = 1 s);
 * each run sleeps 2.5 s, sends WORK_DATA "slept" and returns SUCCESS. The server gives up on
 * the job after 1 s and queues it again, so the worker's late reports are refused (ERROR
 * JOB_NOT_FOUND). A client calls gearman_client_do without a timeout of its own (a 60 s
 * watchdog ends a hang). With 1.1.20 in both programs the client gets "slept" from the third
 * run, and the worker's work() reports each late ERROR as GEARMAN_UNEXPECTED_PACKET on the
 * way; ours reports none and completes on the second run. After the client's line the
 * worker's log follows: one line per function run and per work() call.
 *
 * Usage: compat_can_do_timeout HOST PORT */
#include <libgearman-1.0/gearman.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RC(x) gearman_strerror(x)

static int log_fd = -1;

static void wlog(const char *text)
{
    size_t n = strlen(text);
    if (write(log_fd, text, n) != (ssize_t)n)
        _exit(3);
}

static gearman_return_t slow(gearman_job_st *job, void *context)
{
    (void)context;
    wlog("worker: run\n");
    struct timespec ts = { 2, 500000000L };
    while (nanosleep(&ts, &ts) != 0) {
    }
    gearman_job_send_data(job, "slept", 5);
    return GEARMAN_SUCCESS;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
        return 64;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    alarm(60);
    const char *host = argv[1];
    in_port_t port = (in_port_t)atoi(argv[2]);
    int logp[2];
    if (pipe(logp) != 0)
        return 2;
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(logp[0]);
        log_fd = logp[1];
        gearman_worker_st *w = gearman_worker_create(NULL);
        gearman_worker_add_server(w, host, port);
        gearman_function_t fn = gearman_function_create(slow);
        gearman_worker_define_function(w, "compat_slow", 11, fn, 1, NULL);
        for (int i = 0; i < 50; i++) {
            char line[128];
            snprintf(line, sizeof line, "worker: work=%s\n", RC(gearman_worker_work(w)));
            wlog(line);
        }
        _exit(0);
    }
    close(logp[1]);
    gearman_client_st *c = gearman_client_create(NULL);
    gearman_client_add_server(c, host, port);
    size_t size = 0;
    gearman_return_t rc;
    char *result = gearman_client_do(c, "compat_slow", NULL, "x", 1, &size, &rc);
    printf("do: %s result=\"%.*s\"\n", RC(rc), (int)size, result ? result : "");
    free(result);
    gearman_client_free(c);
    /* Let the worker log the work() call that sent the result, then stop it. */
    struct timespec pause = { 0, 200000000L };
    nanosleep(&pause, NULL);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    char buf[4096];
    ssize_t n;
    while ((n = read(logp[0], buf, sizeof buf)) > 0)
        fwrite(buf, 1, (size_t)n, stdout);
    return 0;
}
