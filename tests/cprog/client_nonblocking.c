/* client_nonblocking: GEARMAN_CLIENT_NON_BLOCKING and GEARMAN_WORKER_NON_BLOCKING.
 *
 * Covers run_tasks returning GEARMAN_IO_WAIT and the gearman_client_wait loop until every
 * task completed; gearman_client_wait hitting the client timeout when no worker exists;
 * gearman_client_do and do_background on a non-blocking client (1.1.20: IO_WAIT after
 * submitting, result lost, Q8); echo on a non-blocking client (blocking anyway); and a
 * non-blocking worker driven with gearman_worker_wait. How many times IO_WAIT is returned
 * depends on timing, so only whether it was seen is printed.
 */
#include "cprog.h"

static void *reverse_fn(gearman_job_st *job, void *ctx, size_t *size, gearman_return_t *ret)
{
    (void)ctx;
    /* A job takes a while, so a non-blocking run_tasks cannot find its result at once with
     * any library or server: IO_WAIT is then always seen and the output is deterministic. */
    sleep_ms(50);
    size_t n = gearman_job_workload_size(job);
    const char *in = gearman_job_workload(job);
    char *out = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        out[i] = in[n - 1 - i];
    *size = n;
    *ret = GEARMAN_SUCCESS;
    return out;
}

static void setup(gearman_worker_st *w)
{
    gearman_worker_add_function(w, "reverse", 0, reverse_fn, NULL);
}

#define NTASKS 3
static char results[NTASKS][64];

static gearman_return_t cb_complete(gearman_task_st *t)
{
    int i = (int)(intptr_t)gearman_task_context(t);
    snprintf(results[i], sizeof results[i], "complete(%s)",
             esc(gearman_task_data(t), gearman_task_data_size(t)));
    return GEARMAN_SUCCESS;
}

static gearman_client_st *nb_client(int timeout)
{
    gearman_client_st *c = new_client(timeout);
    gearman_client_add_options(c, GEARMAN_CLIENT_NON_BLOCKING);
    return c;
}

/* run_tasks until it stops returning IO_WAIT; prints whether IO_WAIT was seen. */
static gearman_return_t drive(gearman_client_st *c, const char *label)
{
    int io_waits = 0;
    gearman_return_t rc, wrc = GEARMAN_SUCCESS;
    while ((rc = gearman_client_run_tasks(c)) == GEARMAN_IO_WAIT) {
        io_waits++;
        wrc = gearman_client_wait(c);
        if (gearman_failed(wrc))
            break;
    }
    P("%s: run_tasks=%s io_wait_seen=%s wait=%s err=%s\n", label, RC(rc),
      io_waits ? "yes" : "no", RC(wrc), err_token(gearman_client_error(c)));
    return rc;
}

int main(int argc, char **argv)
{
    cprog_init(argc, argv, 60);
    spawn_worker(setup);

    P("== tasks\n");
    gearman_client_st *c = nb_client(10000);
    P("options has NON_BLOCKING: %d\n",
      (gearman_client_options(c) & GEARMAN_CLIENT_NON_BLOCKING) != 0);
    gearman_client_set_complete_fn(c, cb_complete);
    const char *words[NTASKS] = { "alpha", "beta", "gamma" };
    for (int i = 0; i < NTASKS; i++) {
        gearman_return_t rc;
        gearman_client_add_task(c, NULL, (void *)(intptr_t)i, "reverse", NULL, words[i],
                                strlen(words[i]), &rc);
        P("add_task %s: %s\n", words[i], RC(rc));
    }
    drive(c, "tasks");
    for (int i = 0; i < NTASKS; i++)
        P("  task %d: %s\n", i, results[i]);
    gearman_client_free(c);

    P("== no worker, timeout 300\n");
    c = nb_client(300);
    gearman_return_t rc;
    gearman_client_add_task(c, NULL, NULL, "nobody", NULL, "x", 1, &rc);
    drive(c, "no worker");
    gearman_client_free(c);

    P("== do on a non-blocking client\n");
    c = nb_client(10000);
    size_t size = 5;
    /* "nobody": whether a worker would still get the job after the client is gone is a race. */
    char *r = gearman_client_do(c, "nobody", NULL, "abc", 3, &size, &rc);
    P("do: rc=%s result=%s size=%zu\n", RC(rc), r ? "set" : "NULL", size);
    free(r);
    gearman_client_free(c);
    c = nb_client(10000);
    gearman_job_handle_t h;
    memset(h, 0, sizeof h);
    rc = gearman_client_do_background(c, "nobody", NULL, "x", 1, h);
    P("do_background: rc=%s\n", RC(rc));
    gearman_client_free(c);
    c = nb_client(10000);
    P("echo: %s\n", RC(gearman_client_echo(c, "ping", 4)));
    gearman_client_free(c);
    stop_worker();

    P("== non-blocking worker\n");
    c = new_client(10000);
    rc = gearman_client_do_background(c, "nb_reverse", NULL, "worker", 6, h);
    P("queued: %s\n", RC(rc));
    gearman_worker_st *w = gearman_worker_create(NULL);
    gearman_worker_add_server(w, g_host, g_port);
    gearman_worker_add_options(w, GEARMAN_WORKER_NON_BLOCKING);
    gearman_worker_set_timeout(w, 5000);
    gearman_worker_add_function(w, "nb_reverse", 0, reverse_fn, NULL);
    int waits = 0;
    while ((rc = gearman_worker_work(w)) == GEARMAN_IO_WAIT || rc == GEARMAN_NO_JOBS) {
        waits++;
        gearman_return_t wrc = gearman_worker_wait(w);
        if (gearman_failed(wrc)) {
            P("worker_wait: %s\n", RC(wrc));
            break;
        }
    }
    P("work: %s waited=%s\n", RC(rc), waits ? "yes" : "no");
    bool known = true;
    for (int i = 0; i < 200 && known; i++) {
        gearman_client_job_status(c, h, &known, NULL, NULL, NULL);
        if (known)
            sleep_ms(10);
    }
    P("job done: %d\n", !known);
    gearman_worker_free(w);
    gearman_client_free(c);
    return 0;
}
