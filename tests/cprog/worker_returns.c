/* worker_returns: how gearman_worker_work maps a function's result (src/capi/work.rs).
 *
 * A forked worker registers a v1 function (gearman_worker_add_function), a v1 function
 * through gearman_worker_define_function + gearman_function_create_v1, and a v2 function
 * (gearman_function_create); the workload names what the function does: the return code
 * it reports, and which gearman_job_send_* calls it makes first. For each case the client
 * prints every callback its task got, and the worker log shows what each work() call
 * returned (including 1.1.20's extra no-op call after a failed job, Q7, and the retry of a
 * job after GEARMAN_ERROR / GEARMAN_LOST_CONNECTION). The client enables the "exceptions"
 * option (without it 1.1.20 drops the server's converted WORK_FAIL, docs/libgearman-quirks.md, Q18).
 *
 * Observed with 1.1.20: v1 SHUTDOWN completes the job with the result and work() returns
 * SHUTDOWN; v1 WORK_FAIL/FATAL/WORK_ERROR/WORK_EXCEPTION fail the job (the client sees
 * WORK_FAIL unless an exception was sent first) and work() returns that code, then one
 * no-op SUCCESS; LOST_CONNECTION and v2 ERROR or an invalid code (here TIMEOUT, recorded as
 * INVALID_ARGUMENT) make the server hand the job out again; v2 WORK_EXCEPTION -> WORK_FAIL.
 */
#include "cprog.h"

static int attempts[64]; /* per case: how often the worker saw it (retry cases) */

static int attempt(gearman_job_st *job, int slot)
{
    (void)job;
    return ++attempts[slot];
}

static int is(gearman_job_st *job, const char *word)
{
    return gearman_job_workload_size(job) == strlen(word)
        && memcmp(gearman_job_workload(job), word, strlen(word)) == 0;
}

static void *v1_fn(gearman_job_st *job, void *ctx, size_t *size, gearman_return_t *ret)
{
    wlog_job((const char *)ctx, job);
    /* The library presets *ret to SUCCESS and *size to 0. */
    wlog("  preset ret=%s size=%zu\n", RC(*ret), *size);
    char *result = strdup("v1-result");
    *size = strlen(result);
    if (is(job, "success")) {
        *ret = GEARMAN_SUCCESS;
    } else if (is(job, "shutdown")) {
        *ret = GEARMAN_SHUTDOWN;
    } else if (is(job, "fail")) {
        *ret = GEARMAN_WORK_FAIL;
    } else if (is(job, "fatal")) {
        *ret = GEARMAN_FATAL;
    } else if (is(job, "work_error")) {
        *ret = GEARMAN_WORK_ERROR;
    } else if (is(job, "exception_code")) {
        *ret = GEARMAN_WORK_EXCEPTION;
    } else if (is(job, "exception_sent")) {
        wlog("  send_exception -> %s\n", RC(gearman_job_send_exception(job, "ex-text", 7)));
        *ret = GEARMAN_WORK_EXCEPTION;
    } else if (is(job, "lost")) {
        *ret = attempt(job, 0) == 1 ? GEARMAN_LOST_CONNECTION : GEARMAN_SUCCESS;
    } else if (is(job, "early_complete")) {
        wlog("  send_complete -> %s\n", RC(gearman_job_send_complete(job, "early", 5)));
        *ret = GEARMAN_SUCCESS;
    } else if (is(job, "early_fail")) {
        wlog("  send_fail -> %s\n", RC(gearman_job_send_fail(job)));
        *ret = GEARMAN_SUCCESS;
    } else if (is(job, "intermediate")) {
        wlog("  send_data -> %s\n", RC(gearman_job_send_data(job, "D", 1)));
        wlog("  send_status -> %s\n", RC(gearman_job_send_status(job, 3, 7)));
        wlog("  send_warning -> %s\n", RC(gearman_job_send_warning(job, "W", 1)));
        *ret = GEARMAN_SUCCESS;
    } else if (is(job, "null_result")) {
        free(result);
        result = NULL;
        *size = 0;
        *ret = GEARMAN_SUCCESS;
    } else {
        *ret = GEARMAN_WORK_FAIL;
    }
    return result;
}

static gearman_return_t v2_fn(gearman_job_st *job, void *ctx)
{
    wlog_job((const char *)ctx, job);
    if (is(job, "success"))
        return GEARMAN_SUCCESS; /* no result sent: an empty WORK_COMPLETE */
    if (is(job, "send_complete")) {
        wlog("  send_complete -> %s\n", RC(gearman_job_send_complete(job, "v2-result", 9)));
        return GEARMAN_SUCCESS;
    }
    if (is(job, "shutdown"))
        return GEARMAN_SHUTDOWN;
    if (is(job, "fail"))
        return GEARMAN_FAIL;
    if (is(job, "exception_code"))
        return GEARMAN_WORK_EXCEPTION;
    if (is(job, "exception_sent")) {
        wlog("  send_exception -> %s\n", RC(gearman_job_send_exception(job, "v2-ex", 5)));
        return GEARMAN_WORK_EXCEPTION;
    }
    if (is(job, "error"))
        return attempt(job, 1) == 1 ? GEARMAN_ERROR : GEARMAN_SUCCESS;
    if (is(job, "invalid_code"))
        return attempt(job, 2) == 1 ? GEARMAN_TIMEOUT : GEARMAN_SUCCESS;
    if (is(job, "intermediate")) {
        wlog("  send_data -> %s\n", RC(gearman_job_send_data(job, "D2", 2)));
        wlog("  send_status -> %s\n", RC(gearman_job_send_status(job, 1, 1)));
        wlog("  send_warning -> %s\n", RC(gearman_job_send_warning(job, "W2", 2)));
        wlog("  send_complete -> %s\n", RC(gearman_job_send_complete(job, "fin", 3)));
        return GEARMAN_SUCCESS;
    }
    return GEARMAN_FAIL;
}

static void setup(gearman_worker_st *w)
{
    wlog("add_function v1 -> %s\n",
         RC(gearman_worker_add_function(w, "v1", 0, v1_fn, (void *)"v1")));
    wlog("define_function v1b -> %s\n",
         RC(gearman_worker_define_function(w, "v1b", 3, gearman_function_create_v1(v1_fn), 0,
                                           (void *)"v1b")));
    wlog("define_function v2 -> %s\n",
         RC(gearman_worker_define_function(w, "v2", 2, gearman_function_create(v2_fn), 0,
                                           (void *)"v2")));
}

/* ---------------------------------------------------------------- client side -------- */

static char events[1024];

static void event(gearman_task_st *t, const char *what)
{
    size_t used = strlen(events);
    snprintf(events + used, sizeof events - used, " %s", what);
    used = strlen(events);
    if (gearman_task_data_size(t) || gearman_task_data(t))
        snprintf(events + used, sizeof events - used, "(%s)",
                 esc(gearman_task_data(t), gearman_task_data_size(t)));
}

static gearman_return_t cb_data(gearman_task_st *t) { event(t, "data"); return GEARMAN_SUCCESS; }
static gearman_return_t cb_warning(gearman_task_st *t) { event(t, "warning"); return GEARMAN_SUCCESS; }
static gearman_return_t cb_complete(gearman_task_st *t) { event(t, "complete"); return GEARMAN_SUCCESS; }
static gearman_return_t cb_fail(gearman_task_st *t) { event(t, "fail"); return GEARMAN_SUCCESS; }
static gearman_return_t cb_exception(gearman_task_st *t) { event(t, "exception"); return GEARMAN_SUCCESS; }

static gearman_return_t cb_status(gearman_task_st *t)
{
    char s[32];
    snprintf(s, sizeof s, "status(%u/%u)", gearman_task_numerator(t), gearman_task_denominator(t));
    event(t, s);
    return GEARMAN_SUCCESS;
}

static void run_case(gearman_client_st *c, const char *function, const char *workload)
{
    events[0] = '\0';
    gearman_return_t rc;
    gearman_task_st *t = gearman_client_add_task(c, NULL, NULL, function, NULL, workload,
                                                 strlen(workload), &rc);
    if (t == NULL)
        fail("add_task");
    rc = gearman_client_run_tasks(c);
    P("%s %s: run_tasks=%s task_return=%s events:%s\n", function, workload, RC(rc),
      RC(gearman_task_return(t)), events);
    gearman_task_free(t);
}

int main(int argc, char **argv)
{
    cprog_init(argc, argv, 60);
    spawn_worker(setup);

    gearman_client_st *c = new_client(20000);
    if (!gearman_client_set_server_option(c, "exceptions", 10))
        fail("exceptions option");
    gearman_client_set_data_fn(c, cb_data);
    gearman_client_set_warning_fn(c, cb_warning);
    gearman_client_set_status_fn(c, cb_status);
    gearman_client_set_complete_fn(c, cb_complete);
    gearman_client_set_fail_fn(c, cb_fail);
    gearman_client_set_exception_fn(c, cb_exception);

    const char *v1_cases[] = { "success", "shutdown", "fail", "fatal", "work_error",
                               "exception_code", "exception_sent", "lost", "early_complete",
                               "early_fail", "intermediate", "null_result" };
    for (size_t i = 0; i < sizeof v1_cases / sizeof v1_cases[0]; i++)
        run_case(c, "v1", v1_cases[i]);
    run_case(c, "v1b", "success");
    run_case(c, "v1b", "fail");
    const char *v2_cases[] = { "success", "send_complete", "shutdown", "fail",
                               "exception_code", "exception_sent", "error", "invalid_code",
                               "intermediate" };
    for (size_t i = 0; i < sizeof v2_cases / sizeof v2_cases[0]; i++)
        run_case(c, "v2", v2_cases[i]);

    /* do() sees the same results. */
    size_t size;
    gearman_return_t rc;
    char *r = gearman_client_do(c, "v1", NULL, "intermediate", 12, &size, &rc);
    P("do v1 intermediate: rc=%s result=\"%s\"\n", RC(rc), esc(r, r ? size : 0));
    free(r);
    r = gearman_client_do(c, "v2", NULL, "success", 7, &size, &rc);
    P("do v2 success: rc=%s result=%s size=%zu\n", RC(rc), r ? "set" : "NULL", size);
    free(r);
    gearman_client_free(c);
    stop_worker();
    return 0;
}
