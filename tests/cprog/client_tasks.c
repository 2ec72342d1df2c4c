/* client_tasks: tasks and every callback.
 *
 * Covers gearman_client_add_task / _high / _low / _background / _high_background /
 * _low_background, gearman_client_run_tasks, the created/data/warning/status/complete/
 * fail/exception callbacks and what the task accessors return inside each, LIFO submission
 * order (Q1), a callback returning GEARMAN_PAUSE (run_tasks returns it and re-runs the same
 * callback next time), add_task_status, add_task_status_by_unique, the task context free
 * function, and add_task argument errors.
 */
#include "cprog.h"

static void *reverse_fn(gearman_job_st *job, void *ctx, size_t *size, gearman_return_t *ret)
{
    (void)ctx;
    wlog_job("reverse", job);
    size_t n = gearman_job_workload_size(job);
    const char *in = gearman_job_workload(job);
    char *out = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        out[i] = in[n - 1 - i];
    *size = n;
    *ret = GEARMAN_SUCCESS;
    return out;
}

static void *chunks_fn(gearman_job_st *job, void *ctx, size_t *size, gearman_return_t *ret)
{
    (void)ctx;
    wlog_job("chunks", job);
    gearman_job_send_data(job, "d1", 2);
    gearman_job_send_status(job, 1, 2);
    gearman_job_send_warning(job, "w1", 2);
    gearman_job_send_data(job, "d2", 2);
    *size = 4;
    *ret = GEARMAN_SUCCESS;
    return strdup("done");
}

static void *fail_fn(gearman_job_st *job, void *ctx, size_t *size, gearman_return_t *ret)
{
    (void)ctx;
    wlog_job("fail", job);
    *size = 0;
    *ret = GEARMAN_WORK_FAIL;
    return NULL;
}

static void *exception_fn(gearman_job_st *job, void *ctx, size_t *size, gearman_return_t *ret)
{
    (void)ctx;
    wlog_job("exception", job);
    gearman_job_send_exception(job, "boom", 4);
    *size = 0;
    *ret = GEARMAN_WORK_EXCEPTION;
    return NULL;
}

static void *order_fn(gearman_job_st *job, void *ctx, size_t *size, gearman_return_t *ret)
{
    (void)ctx;
    wlog("order: %s\n", esc(gearman_job_workload(job), gearman_job_workload_size(job)));
    *size = 0;
    *ret = GEARMAN_SUCCESS;
    return NULL;
}

static void setup_main(gearman_worker_st *w)
{
    gearman_worker_add_function(w, "reverse", 0, reverse_fn, NULL);
    gearman_worker_add_function(w, "chunks", 0, chunks_fn, NULL);
    gearman_worker_add_function(w, "fail", 0, fail_fn, NULL);
    gearman_worker_add_function(w, "exception", 0, exception_fn, NULL);
}

/* Registers only when the parent opens the gate, so that all concurrent tasks are queued
 * before the server can hand any of them out: the order the worker sees then depends on
 * the server's queues only. */
static void setup_concurrent(gearman_worker_st *w)
{
    gate_wait();
    gearman_worker_add_function(w, "c_reverse", 0, reverse_fn, NULL);
    gearman_worker_add_function(w, "c_fail", 0, fail_fn, NULL);
    gearman_worker_add_function(w, "c_chunks", 0, chunks_fn, NULL);
}

static void setup_order(gearman_worker_st *w)
{
    gearman_worker_add_function(w, "order", 0, order_fn, NULL);
}

/* ------------------------------------------------------------- callbacks ------------- */

/* Everything a callback can see of its task, on one line. */
/* The function name, masked when it is the job handle (status tasks). */
static const char *task_fn(gearman_task_st *t)
{
    const char *fn = gearman_task_function_name(t);
    const char *h = gearman_task_job_handle(t);
    if (fn && h && h[0] && strcmp(fn, h) == 0)
        return "<handle>";
    return fn ? fn : "(null)";
}

static void show_task(const char *event, gearman_task_st *t)
{
    P("  %s: ctx=%s fn=%s unique=%s handle=%s known=%d running=%d %u/%u data=\"%s\" (%zu) "
      "return=%s\n",
      event, gearman_task_context(t) ? (const char *)gearman_task_context(t) : "(null)",
      task_fn(t), unique_mask(gearman_task_unique(t)),
      handle_mask(gearman_task_job_handle(t)), gearman_task_is_known(t),
      gearman_task_is_running(t), gearman_task_numerator(t), gearman_task_denominator(t),
      esc(gearman_task_data(t), gearman_task_data_size(t)), gearman_task_data_size(t),
      RC(gearman_task_return(t)));
}

static gearman_return_t cb_created(gearman_task_st *t) { show_task("created", t); return GEARMAN_SUCCESS; }
static gearman_return_t cb_data(gearman_task_st *t) { show_task("data", t); return GEARMAN_SUCCESS; }
static gearman_return_t cb_warning(gearman_task_st *t) { show_task("warning", t); return GEARMAN_SUCCESS; }
static gearman_return_t cb_status(gearman_task_st *t) { show_task("status", t); return GEARMAN_SUCCESS; }
static gearman_return_t cb_complete(gearman_task_st *t) { show_task("complete", t); return GEARMAN_SUCCESS; }
static gearman_return_t cb_fail(gearman_task_st *t) { show_task("fail", t); return GEARMAN_SUCCESS; }

static gearman_return_t cb_exception(gearman_task_st *t)
{
    show_task("exception", t);
    P("    has_exception=%d\n", gearman_task_has_exception(t));
    return GEARMAN_SUCCESS;
}

static void set_all_callbacks(gearman_client_st *c)
{
    gearman_client_set_created_fn(c, cb_created);
    gearman_client_set_data_fn(c, cb_data);
    gearman_client_set_warning_fn(c, cb_warning);
    gearman_client_set_status_fn(c, cb_status);
    gearman_client_set_complete_fn(c, cb_complete);
    gearman_client_set_fail_fn(c, cb_fail);
    gearman_client_set_exception_fn(c, cb_exception);
}

/* Only the created order: with several jobs in flight, the other callbacks of different
 * tasks interleave as the worker happens to run. */
static int created_count = 0;
static int open_gate_after = 0; /* open the gate at this many created callbacks (0: never) */

static gearman_return_t cb_created_name(gearman_task_st *t)
{
    P("  created %s\n", (const char *)gearman_task_context(t));
    if (++created_count == open_gate_after)
        gate_open();
    return GEARMAN_SUCCESS;
}

/* Per-task event log of the concurrent-task section, printed in task order afterwards. */
#define NTASKS 5
static char task_log[NTASKS][512];

static void task_event(gearman_task_st *t, const char *event)
{
    const char *ctx = gearman_task_context(t);
    int i = ctx[0] - '0';
    size_t used = strlen(task_log[i]);
    snprintf(task_log[i] + used, sizeof task_log[i] - used, " %s(%s)", event,
             esc(gearman_task_data(t), gearman_task_data_size(t)));
}

static gearman_return_t cb_log_complete(gearman_task_st *t) { task_event(t, "complete"); return GEARMAN_SUCCESS; }
static gearman_return_t cb_log_fail(gearman_task_st *t) { task_event(t, "fail"); return GEARMAN_SUCCESS; }

static int pause_calls = 0;
static gearman_return_t cb_pause_complete(gearman_task_st *t)
{
    pause_calls++;
    P("  complete call %d: data=\"%s\"\n", pause_calls,
      esc(gearman_task_data(t), gearman_task_data_size(t)));
    return pause_calls == 1 ? GEARMAN_PAUSE : GEARMAN_SUCCESS;
}

static void context_free(gearman_task_st *t, void *ctx)
{
    (void)t;
    P("  context_free(%s)\n", (const char *)ctx);
}

/* Waits until the server no longer knows any of the client's background tasks. */
static gearman_task_st *order_tasks[8];
static int n_order_tasks = 0;

static void wait_all_done(gearman_client_st *c)
{
    for (int i = 0; i < n_order_tasks; i++) {
        bool known = true;
        for (int tries = 0; known && tries < 1000; tries++) {
            if (gearman_failed(gearman_client_job_status(
                    c, gearman_task_job_handle(order_tasks[i]), &known, NULL, NULL, NULL)))
                fail("job_status");
            if (known)
                sleep_ms(10);
        }
    }
}

typedef gearman_task_st *(*add_fn)(gearman_client_st *, gearman_task_st *, void *, const char *,
                                   const char *, const void *, size_t, gearman_return_t *);

static gearman_task_st *add(gearman_client_st *c, add_fn fn, const char *ctx,
                            const char *function, const char *unique, const char *workload)
{
    gearman_return_t rc = GEARMAN_MAX_RETURN;
    gearman_task_st *t = fn(c, NULL, (void *)ctx, function, unique, workload,
                            workload ? strlen(workload) : 0, &rc);
    if (t == NULL || rc != GEARMAN_SUCCESS)
        P("add %s: task=%s rc=%s\n", ctx, t ? "set" : "NULL", RC(rc));
    return t;
}

int main(int argc, char **argv)
{
    cprog_init(argc, argv, 60);

    /* 1. Submission order and priorities: background tasks queued before any worker for
     * "order" exists; the worker then sees them by priority, and within a priority in the
     * order the library submitted them (1.1.20: newest task first). */
    P("== order\n");
    gearman_client_st *c = new_client(10000);
    gearman_client_set_created_fn(c, cb_created_name);
    order_tasks[n_order_tasks++] =
        add(c, gearman_client_add_task_background, "normal-1", "order", NULL, "normal-1");
    order_tasks[n_order_tasks++] =
        add(c, gearman_client_add_task_high_background, "high-1", "order", NULL, "high-1");
    order_tasks[n_order_tasks++] =
        add(c, gearman_client_add_task_low_background, "low-1", "order", NULL, "low-1");
    order_tasks[n_order_tasks++] =
        add(c, gearman_client_add_task_background, "normal-2", "order", NULL, "normal-2");
    order_tasks[n_order_tasks++] =
        add(c, gearman_client_add_task_high_background, "high-2", "order", NULL, "high-2");
    order_tasks[n_order_tasks++] =
        add(c, gearman_client_add_task_low_background, "low-2", "order", NULL, "low-2");
    P("has_tasks=%d\n", gearman_client_has_tasks(c));
    P("run_tasks: %s\n", RC(gearman_client_run_tasks(c)));
    spawn_worker(setup_order);
    wait_all_done(c);
    gearman_client_free(c);
    stop_worker();

    spawn_worker(setup_main);

    /* 2. One task through every intermediate packet. */
    P("== all callbacks\n");
    c = new_client(10000);
    set_all_callbacks(c);
    gearman_task_st *t = add(c, gearman_client_add_task, "chunks", "chunks", NULL, "x");
    show_task("before run", t);
    P("run_tasks: %s\n", RC(gearman_client_run_tasks(c)));
    show_task("after run", t);
    P("task_error=%s\n", err_token(gearman_task_error(t)));
    gearman_task_free(t);

    /* 3. Explicit uniques and the other priorities, one at a time. */
    P("== uniques and priorities\n");
    t = add(c, gearman_client_add_task_high, "high", "reverse", "given-unique", "abc");
    P("unique before run: %s\n", gearman_task_unique(t));
    P("run_tasks: %s\n", RC(gearman_client_run_tasks(c)));
    gearman_task_free(t);
    t = add(c, gearman_client_add_task_low, "low", "reverse", "#", "abc");
    P("unique before run: %s\n", gearman_task_unique(t));
    P("run_tasks: %s\n", RC(gearman_client_run_tasks(c)));
    gearman_task_free(t);
    t = add(c, gearman_client_add_task_background, "bg", "reverse", NULL, "bg");
    P("run_tasks: %s\n", RC(gearman_client_run_tasks(c)));
    gearman_task_free(t);

    /* 4. Failure and exception callbacks. */
    P("== fail\n");
    t = add(c, gearman_client_add_task, "fail", "fail", NULL, "f");
    P("run_tasks: %s\n", RC(gearman_client_run_tasks(c)));
    gearman_task_free(t);
    P("== exception (exceptions on)\n");
    P("set_server_option exceptions: %d\n", gearman_client_set_server_option(c, "exceptions", 10));
    t = add(c, gearman_client_add_task, "exception", "exception", NULL, "e");
    P("run_tasks: %s\n", RC(gearman_client_run_tasks(c)));
    P("after: return=%s has_exception=%d\n", RC(gearman_task_return(t)),
      gearman_task_has_exception(t));
    gearman_task_free(t);
    gearman_client_free(c);

    stop_worker();

    /* 5. Several tasks in flight at once. */
    P("== concurrent tasks\n");
    spawn_worker(setup_concurrent);
    created_count = 0;
    open_gate_after = NTASKS;
    c = new_client(10000);
    gearman_client_set_created_fn(c, cb_created_name);
    gearman_client_set_complete_fn(c, cb_log_complete);
    gearman_client_set_fail_fn(c, cb_log_fail);
    memset(task_log, 0, sizeof task_log);
    add(c, gearman_client_add_task, "0", "c_reverse", NULL, "zero");
    add(c, gearman_client_add_task_high, "1", "c_reverse", NULL, "one");
    add(c, gearman_client_add_task_low, "2", "c_reverse", NULL, "two");
    add(c, gearman_client_add_task, "3", "c_fail", NULL, "three");
    add(c, gearman_client_add_task, "4", "c_chunks", NULL, "four");
    P("run_tasks: %s\n", RC(gearman_client_run_tasks(c)));
    for (int i = 0; i < NTASKS; i++)
        P("  task %d:%s\n", i, task_log[i]);
    gearman_client_free(c);
    stop_worker();
    spawn_worker(setup_main);

    /* 6. A callback that returns GEARMAN_PAUSE. */
    P("== pause\n");
    c = new_client(10000);
    gearman_client_set_complete_fn(c, cb_pause_complete);
    t = add(c, gearman_client_add_task, "pause", "reverse", NULL, "pause");
    P("run_tasks 1: %s\n", RC(gearman_client_run_tasks(c)));
    P("run_tasks 2: %s\n", RC(gearman_client_run_tasks(c)));
    gearman_task_free(t);
    gearman_client_free(c);

    /* 7. Status tasks. */
    P("== status tasks\n");
    c = new_client(10000);
    gearman_job_handle_t h;
    P("do_background nobody: %s\n",
      RC(gearman_client_do_background(c, "nobody", "status-unique", "q", 1, h)));
    set_all_callbacks(c);
    gearman_return_t rc;
    t = gearman_client_add_task_status(c, NULL, (void *)"status", h, &rc);
    P("add_task_status: task=%s rc=%s fn_is_handle=%d\n", t ? "set" : "NULL", RC(rc),
      t && strcmp(gearman_task_function_name(t), h) == 0);
    P("run_tasks: %s\n", RC(gearman_client_run_tasks(c)));
    gearman_task_free(t);
    gearman_client_free(c);
    /* A client of its own: after a status-by-unique request 1.1.20 wedges the client. */
    c = new_client(10000);
    set_all_callbacks(c);
    t = gearman_client_add_task_status_by_unique(c, NULL, "status-unique", &rc);
    P("add_task_status_by_unique: task=%s rc=%s\n", t ? "set" : "NULL", RC(rc));
    P("run_tasks: %s\n", RC(gearman_client_run_tasks(c)));
    P("  known=%d running=%d %u/%u return=%s\n", gearman_task_is_known(t),
      gearman_task_is_running(t), gearman_task_numerator(t), gearman_task_denominator(t),
      RC(gearman_task_return(t)));
    gearman_task_free(t);
    gearman_client_free(c);

    /* 8. The context free function runs for every task that has a context. */
    P("== context free fn\n");
    c = new_client(10000);
    gearman_client_set_task_context_free_fn(c, context_free);
    add(c, gearman_client_add_task, "ctx-a", "reverse", NULL, "a");
    add(c, gearman_client_add_task, "ctx-b", "reverse", NULL, "b");
    P("run_tasks: %s\n", RC(gearman_client_run_tasks(c)));
    P("free client\n");
    gearman_client_free(c);

    /* 9. Argument errors. */
    P("== argument errors\n");
    c = new_client(10000);
    char long_name[600];
    memset(long_name, 'f', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    char long_unique[70];
    memset(long_unique, 'u', sizeof long_unique - 1);
    long_unique[sizeof long_unique - 1] = '\0';
    struct {
        const char *label, *function, *unique, *workload;
        size_t size;
    } bad[] = {
        { "NULL function", NULL, NULL, "x", 1 },
        { "empty function", "", NULL, "x", 1 },
        { "function of 599 bytes", long_name, NULL, "x", 1 },
        { "unique of 69 bytes", "reverse", long_unique, "x", 1 },
        { "NULL workload size 3", "reverse", NULL, NULL, 3 },
        { "workload size 0 not NULL", "reverse", NULL, "x", 0 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rc = GEARMAN_MAX_RETURN;
        t = gearman_client_add_task(c, NULL, NULL, bad[i].function, bad[i].unique,
                                    bad[i].workload, bad[i].size, &rc);
        P("add_task %s: task=%s rc=%s err=%s\n", bad[i].label, t ? "set" : "NULL", RC(rc),
          err_token(gearman_client_error(c)));
    }
    P("has_tasks=%d\n", gearman_client_has_tasks(c));
    P("run_tasks with no tasks: %s\n", RC(gearman_client_run_tasks(c)));
    gearman_client_free(c);

    stop_worker();
    return 0;
}
