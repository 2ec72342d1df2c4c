/* worker_misc: the worker API outside the function-result mapping.
 *
 * The program is the worker itself (no fork): a client queues background jobs, then the
 * worker calls are made one by one. Covers a fresh worker's state, work() with no servers
 * (NO_SERVERS), a server that is down (COULD_NOT_CONNECT), no functions
 * (NO_REGISTERED_FUNCTIONS), gearman_worker_set_timeout + work() with nothing to do
 * (TIMEOUT), gearman_worker_grab_job without and with a job plus the job accessors and
 * send_complete, gearman_worker_register without a callback (INVALID_FUNCTION_NAME),
 * unregister / unregister_all / function_exist, gearman_worker_echo, and waking a worker
 * blocked in work() from another thread with gearman_kill (GEARMAN_INTERRUPT, GEARMAN_KILL).
 * A function that runs past its CAN_DO_TIMEOUT, where ours deliberately differs from 1.1.20,
 * is tests/c/compat_can_do_timeout.c (tests/capi_compat.rs checks that behaviour itself).
 * Needs the dead_port argument.
 */
#include "cprog.h"

#include <pthread.h>

struct wake {
    gearman_worker_st *worker;
    gearman_signal_t signal;
};

/* Another thread wakes the worker blocked in work() through its wake-up pipe. */
static void *wake_later(void *arg)
{
    struct wake *wake = arg;
    sleep_ms(300);
    gearman_return_t rc = gearman_kill(gearman_worker_id(wake->worker), wake->signal);
    if (rc != GEARMAN_SUCCESS)
        fprintf(stderr, "gearman_kill: %s\n", RC(rc));
    return NULL;
}

static void show_wake(const char *label, gearman_signal_t signal, int calls)
{
    gearman_worker_st *w = gearman_worker_create(NULL);
    gearman_worker_add_server(w, g_host, g_port);
    gearman_worker_register(w, "nobody_sends_this", 0);
    gearman_id_t id = gearman_worker_id(w);
    P("%s: id valid=%d\n", label, gearman_id_valid(id));
    struct wake wake = { w, signal };
    pthread_t thread;
    if (pthread_create(&thread, NULL, wake_later, &wake) != 0)
        fail("pthread_create");
    for (int i = 0; i < calls; i++) {
        gearman_return_t rc = gearman_worker_work(w);
        P("%s: work[%d]=%s\n", label, i, RC(rc));
    }
    pthread_join(thread, NULL);
    gearman_worker_free(w);
}

static void *echo_fn(gearman_job_st *job, void *ctx, size_t *size, gearman_return_t *ret)
{
    (void)ctx;
    P("  echo_fn got \"%s\"\n", esc(gearman_job_workload(job), gearman_job_workload_size(job)));
    *size = gearman_job_workload_size(job);
    *ret = GEARMAN_SUCCESS;
    char *r = malloc(*size + 1);
    memcpy(r, gearman_job_workload(job), *size);
    return r;
}

static gearman_worker_st *worker_on(in_port_t port)
{
    gearman_worker_st *w = gearman_worker_create(NULL);
    if (w == NULL)
        fail("worker create");
    if (port && gearman_failed(gearman_worker_add_server(w, g_host, port)))
        fail("worker add_server");
    return w;
}

static void queue_bg(const char *function, const char *unique, const char *workload,
                     gearman_job_handle_t h)
{
    gearman_client_st *c = new_client(5000);
    gearman_return_t rc = gearman_client_do_background(c, function, unique, workload,
                                                       strlen(workload), h);
    P("queued %s: %s\n", function, RC(rc));
    gearman_client_free(c);
}

static void show_work(const char *label, gearman_worker_st *w)
{
    gearman_return_t rc = gearman_worker_work(w);
    P("%s: work=%s err=%s\n", label, RC(rc), err_token(gearman_worker_error(w)));
}

int main(int argc, char **argv)
{
    cprog_init(argc, argv, 60);
    if (g_dead_port == 0)
        fail("worker_misc needs the dead_port argument");

    P("== fresh worker\n");
    gearman_worker_st *w = gearman_worker_create(NULL);
    P("fresh: err=%s errno=%d timeout=%d options=%d\n", err_token(gearman_worker_error(w)),
      gearman_worker_errno(w), gearman_worker_timeout(w), (int)gearman_worker_options(w));
    P("no servers: add_function=%s\n",
      RC(gearman_worker_add_function(w, "echo", 0, echo_fn, NULL)));
    show_work("no servers", w); /* 1.1.20: NO_SERVERS, but error() says UNKNOWN_STATE */
    gearman_worker_free(w);

    P("== server down\n");
    w = worker_on(g_dead_port);
    gearman_worker_add_function(w, "echo", 0, echo_fn, NULL);
    show_work("down", w);
    P("down: echo=%s\n", RC(gearman_worker_echo(w, "x", 1)));
    gearman_worker_free(w);

    P("== no functions\n");
    w = worker_on(g_port);
    show_work("no functions", w);
    /* 1.1.20: echo succeeds without resetting the previous error. */
    P("echo: %s err=%s\n", RC(gearman_worker_echo(w, "ping", 4)),
      err_token(gearman_worker_error(w)));
    gearman_worker_free(w);

    P("== argument errors\n");
    w = worker_on(g_port);
    P("add_function NULL name: %s\n", RC(gearman_worker_add_function(w, NULL, 0, echo_fn, NULL)));
    P("add_function NULL fn: %s\n", RC(gearman_worker_add_function(w, "x", 0, NULL, NULL)));
    P("echo NULL: %s\n", RC(gearman_worker_echo(w, NULL, 0)));
    gearman_worker_free(w);

    P("== timeout\n");
    w = worker_on(g_port);
    gearman_worker_add_function(w, "echo", 0, echo_fn, NULL);
    gearman_worker_set_timeout(w, 300);
    P("timeout=%d\n", gearman_worker_timeout(w));
    show_work("nothing queued", w);
    show_work("nothing queued again", w);
    gearman_job_handle_t h;
    queue_bg("echo", NULL, "payload", h);
    show_work("one job", w);
    show_work("after the job", w);
    gearman_worker_free(w);

    P("== grab_job\n");
    w = worker_on(g_port);
    gearman_worker_add_function(w, "grabbed", 0, echo_fn, NULL);
    gearman_return_t rc = GEARMAN_MAX_RETURN;
    gearman_job_st *job = gearman_worker_grab_job(w, NULL, &rc);
    P("grab nothing: job=%s rc=%s\n", job ? "set" : "NULL", RC(rc));
    queue_bg("grabbed", "grab-unique", "grab-me", h);
    job = gearman_worker_grab_job(w, NULL, &rc);
    P("grab: job=%s rc=%s\n", job ? "set" : "NULL", RC(rc));
    if (job) {
        P("  function=%s unique=%s workload=\"%s\" size=%zu handle_matches=%d\n",
          gearman_job_function_name(job), gearman_job_unique(job),
          esc(gearman_job_workload(job), gearman_job_workload_size(job)),
          gearman_job_workload_size(job), strcmp(gearman_job_handle(job), h) == 0);
        P("  send_status: %s\n", RC(gearman_job_send_status(job, 1, 2)));
        P("  send_complete: %s\n", RC(gearman_job_send_complete(job, "grabbed-result", 14)));
        gearman_job_free(job);
    }
    /* No further grab on this worker: 1.1.20 crashes on grab -> NO_JOBS -> grab (Q20). */
    gearman_worker_free(w);

    P("== register without a callback\n");
    w = worker_on(g_port);
    P("register: %s\n", RC(gearman_worker_register(w, "registered", 0)));
    P("function_exist: %d\n", gearman_worker_function_exist(w, "registered", 10));
    queue_bg("registered", NULL, "r", h);
    gearman_worker_set_timeout(w, 3000);
    show_work("registered only", w);
    gearman_worker_free(w);

    P("== unregister\n");
    w = worker_on(g_port);
    gearman_worker_set_timeout(w, 300);
    P("add a: %s\n", RC(gearman_worker_add_function(w, "fn_a", 0, echo_fn, NULL)));
    P("add b: %s\n", RC(gearman_worker_add_function(w, "fn_b", 0, echo_fn, NULL)));
    P("unregister a: %s\n", RC(gearman_worker_unregister(w, "fn_a")));
    P("unregister a again: %s\n", RC(gearman_worker_unregister(w, "fn_a")));
    P("exist a=%d b=%d\n", gearman_worker_function_exist(w, "fn_a", 4),
      gearman_worker_function_exist(w, "fn_b", 4));
    queue_bg("fn_a", NULL, "for-a", h);
    show_work("only b registered", w);
    P("unregister_all: %s\n", RC(gearman_worker_unregister_all(w)));
    P("exist b=%d\n", gearman_worker_function_exist(w, "fn_b", 4));
    show_work("nothing registered", w);
    gearman_worker_free(w);

    P("== wake-up from another thread\n");
    /* 1.1.20: INTERRUPT is sticky (every later work() returns SHUTDOWN_GRACEFUL at once). */
    show_wake("interrupt", GEARMAN_INTERRUPT, 2);
    show_wake("kill", GEARMAN_KILL, 1);

    return 0;
}
