/* Strings handed to C are NUL-terminated where libgearman 1.1.20's are: driven from
 * tests/capi_compat.rs with 1.1.20 and with ours, against the same server.
 *
 * A forked worker throws the exception "dog"; the client (with the "exceptions" option) reads
 * it as C programs do, with strcmp, inside the exception callback (gearman_task_data and
 * gearman_task_exception) and after run_tasks. Then every other pointer 1.1.20 returns
 * NUL-terminated is checked: task function name, unique, handle and error text, the do()
 * result, gearman_result_value, the client and worker error texts, do_job_handle, the worker's
 * namespace, and the job's handle, function name and unique. Payloads 1.1.20 does not
 * terminate (task data of data/complete replies, job workloads) are not a contract and are
 * not printed.
 *
 * Usage: compat_strings HOST PORT */
#include <libgearman-1.0/gearman.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define RC(x) gearman_strerror(x)

static const char *terminated(const char *p, size_t size)
{
    if (p == NULL)
        return "NULL";
    return p[size] == '\0' ? "NUL-terminated" : "NOT NUL-terminated";
}

static void show(const char *what, const char *p)
{
    printf("%s: %s\n", what, p == NULL ? "NULL" : terminated(p, strlen(p)));
}

static gearman_return_t worker_fn(gearman_job_st *job, void *context)
{
    (void)context;
    const char *w = gearman_job_workload(job);
    size_t n = gearman_job_workload_size(job);
    if (n == 3 && memcmp(w, "exc", 3) == 0) {
        /* Sent from a larger buffer: only the first three bytes belong to the exception. */
        gearman_job_send_exception(job, "dogXYZ", 3);
        return GEARMAN_SUCCESS;
    }
    gearman_job_send_data(job, "d1", 2);
    gearman_job_send_complete(job, "done", 4);
    return GEARMAN_SUCCESS;
}

static void run_worker(const char *host, in_port_t port)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    alarm(60);
    gearman_worker_st *w = gearman_worker_create(NULL);
    gearman_worker_add_server(w, host, port);
    gearman_worker_set_namespace(w, "ns_", 3);
    gearman_worker_define_function(w, "compat_str", 10, gearman_function_create(worker_fn), 0, NULL);
    for (;;) {
        gearman_return_t rc = gearman_worker_work(w);
        if (rc != GEARMAN_SUCCESS && rc != GEARMAN_WORK_FAIL)
            break;
    }
    gearman_worker_free(w);
    _exit(0);
}

static int in_exception_cb = 0;

static gearman_return_t on_exception(gearman_task_st *t)
{
    in_exception_cb = 1;
    const char *data = gearman_task_data(t);
    printf("exception callback: data=%s strcmp(data, \"dog\")=%d\n",
           terminated(data, gearman_task_data_size(t)), data ? strcmp(data, "dog") : -99);
    gearman_string_t e = gearman_task_exception(t);
    printf("exception callback: exception=%s size=%zu strcmp=%d\n", terminated(e.c_str, e.size),
           e.size, e.c_str ? strcmp(e.c_str, "dog") : -99);
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
    pid_t pid = fork();
    if (pid == 0)
        run_worker(host, port);

    gearman_client_st *c = gearman_client_create(NULL);
    gearman_client_add_server(c, host, port);
    gearman_client_set_timeout(c, 20000);
    gearman_client_set_namespace(c, "ns_", 3);
    printf("exceptions option: %d\n", gearman_client_set_server_option(c, "exceptions", 10));
    gearman_client_set_exception_fn(c, on_exception);

    gearman_return_t rc;
    gearman_task_st *t = gearman_client_add_task(c, NULL, NULL, "compat_str", "u-1", "exc", 3, &rc);
    rc = gearman_client_run_tasks(c);
    printf("run_tasks: %s callback ran: %d\n", RC(rc), in_exception_cb);
    gearman_string_t e = gearman_task_exception(t);
    printf("after run_tasks: exception=%s size=%zu strcmp=%d has_exception=%d\n",
           terminated(e.c_str, e.size), e.size, e.c_str ? strcmp(e.c_str, "dog") : -99,
           gearman_task_has_exception(t));
    show("task function name", gearman_task_function_name(t));
    show("task unique", gearman_task_unique(t));
    show("task job handle", gearman_task_job_handle(t));
    show("task error", gearman_task_error(t));
    gearman_task_free(t);

    size_t size = 0;
    char *r = gearman_client_do(c, "compat_str", NULL, "dat", 3, &size, &rc);
    printf("do: %s size=%zu result=%s strcmp(result, \"d1done\")=%d\n", RC(rc), size,
           terminated(r, size), r ? strcmp(r, "d1done") : -99);
    free(r);
    r = gearman_client_do(c, "compat_str", NULL, "exc", 3, &size, &rc);
    printf("do exception: %s result=%s\n", RC(rc), r ? "set" : "NULL");
    show("client error", gearman_client_error(c));

    gearman_argument_t arg = gearman_argument_make(NULL, 0, "dat", 3);
    t = gearman_execute(c, "compat_str", 10, NULL, 0, NULL, &arg, NULL);
    gearman_result_st *result = t ? gearman_task_result(t) : NULL;
    const char *value = result ? gearman_result_value(result) : NULL;
    printf("execute: result value=%s strcmp=%d\n",
           terminated(value, result ? gearman_result_size(result) : 0),
           value ? strcmp(value, "d1done") : -99);
    gearman_task_free(t);

    gearman_job_handle_t handle;
    rc = gearman_client_do_background(c, "compat_str_bg", NULL, "bg", 2, handle);
    printf("do_background: %s\n", RC(rc));
    show("do_job_handle", gearman_client_do_job_handle(c));

    /* The job's strings, read by a worker in this process. */
    gearman_worker_st *w = gearman_worker_create(NULL);
    gearman_worker_add_server(w, host, port);
    gearman_worker_set_namespace(w, "ns_", 3);
    show("worker namespace", gearman_worker_namespace(w));
    gearman_worker_register(w, "compat_str_bg", 0);
    gearman_job_st *job = NULL;
    for (int i = 0; i < 200 && job == NULL; i++) {
        job = gearman_worker_grab_job(w, NULL, &rc);
        if (job == NULL)
            usleep(10000);
    }
    if (job != NULL) {
        show("job handle", gearman_job_handle(job));
        show("job function name", gearman_job_function_name(job));
        show("job unique", gearman_job_unique(job));
        gearman_job_send_complete(job, "ok", 2);
        gearman_job_free(job);
    } else {
        printf("no job grabbed: %s\n", RC(rc));
    }
    show("worker error", gearman_worker_error(w));
    gearman_worker_free(w);

    gearman_client_free(c);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return 0;
}
