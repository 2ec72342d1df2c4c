/* client_execute: the less common client calls.
 *
 * Covers gearman_execute (no attribute: context ignored; foreground priorities; background;
 * NULL function) with gearman_argument_make, gearman_task_result and every gearman_result_*
 * accessor and store function, gearman_task_take_data inside a callback,
 * gearman_job_take_workload in the worker, GEARMAN_CLIENT_UNBUFFERED_RESULT with
 * gearman_task_recv_data, and gearman_client_do_status.
 */
#include "cprog.h"

static void *echo_fn(gearman_job_st *job, void *ctx, size_t *size, gearman_return_t *ret)
{
    (void)ctx;
    wlog_job("echo", job);
    size_t n = 0;
    /* The workload moves to the function; returned as the result, the library frees it. */
    void *w = gearman_job_take_workload(job, &n);
    wlog("  take_workload: size=%zu taken=%d workload after=%s\n", n, w != NULL,
         gearman_job_workload(job) ? "set" : "NULL");
    *size = n;
    *ret = GEARMAN_SUCCESS;
    return w;
}

static void *number_fn(gearman_job_st *job, void *ctx, size_t *size, gearman_return_t *ret)
{
    (void)ctx;
    (void)job;
    *size = 2;
    *ret = GEARMAN_SUCCESS;
    return strdup("42");
}

static void *stream_fn(gearman_job_st *job, void *ctx, size_t *size, gearman_return_t *ret)
{
    (void)ctx;
    gearman_job_send_data(job, "a", 1);
    gearman_job_send_data(job, "b", 1);
    *size = 1;
    *ret = GEARMAN_SUCCESS;
    return strdup("c");
}

static void setup(gearman_worker_st *w)
{
    gearman_worker_add_function(w, "echo", 0, echo_fn, NULL);
    gearman_worker_add_function(w, "number", 0, number_fn, NULL);
    gearman_worker_add_function(w, "stream", 0, stream_fn, NULL);
}

static void show_result(const char *label, gearman_task_st *t)
{
    if (t == NULL) {
        P("%s: task=NULL\n", label);
        return;
    }
    gearman_result_st *r = gearman_task_result(t);
    P("%s: return=%s context=%s result=%s", label, RC(gearman_task_return(t)),
      gearman_task_context(t) ? (const char *)gearman_task_context(t) : "(null)",
      r ? "set" : "NULL");
    if (r) {
        gearman_string_t s = gearman_result_string(r);
        P(" is_null=%d size=%zu value=\"%s\" string=\"%s\" (%zu) integer=%lld boolean=%d",
          gearman_result_is_null(r), gearman_result_size(r),
          esc(gearman_result_value(r), gearman_result_size(r)), esc(s.c_str, s.size), s.size,
          (long long)gearman_result_integer(r), gearman_result_boolean(r));
    }
    P("\n");
}

static gearman_return_t cb_take(gearman_task_st *t)
{
    size_t n = 0;
    void *d = gearman_task_take_data(t, &n);
    P("  complete: take_data=\"%s\" (%zu) data after=%s size after=%zu\n", esc(d, d ? n : 0), n,
      gearman_task_data(t) ? "set" : "NULL", gearman_task_data_size(t));
    free(d);
    return GEARMAN_SUCCESS;
}

static gearman_return_t cb_unbuffered(gearman_task_st *t)
{
    P("  complete: data=%s data_size=%zu\n", gearman_task_data(t) ? "set" : "NULL",
      gearman_task_data_size(t));
    /* How many bytes one call returns depends on what has arrived: only the sum is printed. */
    char buf[64];
    size_t total = 0;
    gearman_return_t rc = GEARMAN_SUCCESS;
    while (total < gearman_task_data_size(t)) {
        size_t n = gearman_task_recv_data(t, buf + total, sizeof buf - total, &rc);
        if (n == 0 || gearman_failed(rc))
            break;
        total += n;
    }
    P("  recv_data: rc=%s received \"%s\"\n", RC(rc), esc(buf, total));
    return GEARMAN_SUCCESS;
}

int main(int argc, char **argv)
{
    cprog_init(argc, argv, 60);
    spawn_worker(setup);

    P("== gearman_execute\n");
    gearman_client_st *c = new_client(10000);
    gearman_argument_t arg = gearman_argument_make("ignored", 7, "exe", 3);
    gearman_task_st *t = gearman_execute(c, "echo", 4, NULL, 0, NULL, &arg, (void *)"ctx");
    show_result("no attr", t);
    gearman_task_free(t);
    gearman_task_attr_t high = gearman_task_attr_init(GEARMAN_JOB_PRIORITY_HIGH);
    t = gearman_execute(c, "number", 6, "num-unique", 10, &high, NULL, (void *)"ctx");
    show_result("high, number", t);
    P("  unique=%s\n", gearman_task_unique(t));
    gearman_task_free(t);
    gearman_task_attr_t low = gearman_task_attr_init(GEARMAN_JOB_PRIORITY_LOW);
    t = gearman_execute(c, "stream", 6, NULL, 0, &low, NULL, (void *)"ctx");
    show_result("low, stream", t);
    gearman_task_free(t);
    gearman_task_attr_t bg = gearman_task_attr_init_background(GEARMAN_JOB_PRIORITY_NORMAL);
    t = gearman_execute(c, "nobody", 6, NULL, 0, &bg, NULL, (void *)"ctx");
    show_result("background", t);
    if (t)
        P("  handle=%s\n", handle_mask(gearman_task_job_handle(t)));
    gearman_task_free(t);
    t = gearman_execute(c, NULL, 0, NULL, 0, NULL, &arg, NULL);
    show_result("NULL function", t);
    P("  client code=%s\n", RC(gearman_client_error_code(c)));

    P("== result store functions\n");
    t = gearman_execute(c, "echo", 4, NULL, 0, NULL, &arg, NULL);
    gearman_result_st *r = gearman_task_result(t);
    gearman_result_store_integer(r, 7);
    show_result("store_integer 7", t);
    gearman_string_t s = { "12abc", 5 };
    P("store_string: %s\n", RC(gearman_result_store_string(r, s)));
    show_result("after store_string", t);
    P("store_value: %s\n", RC(gearman_result_store_value(r, "", 0)));
    show_result("after store_value empty", t);
    gearman_task_free(t);
    P("NULL result: is_null=%d size=%zu integer=%lld boolean=%d\n", gearman_result_is_null(NULL),
      gearman_result_size(NULL), (long long)gearman_result_integer(NULL),
      gearman_result_boolean(NULL));

    P("== take_data in a callback\n");
    gearman_client_set_complete_fn(c, cb_take);
    gearman_return_t rc;
    t = gearman_client_add_task(c, NULL, NULL, "echo", NULL, "taken", 5, &rc);
    P("run_tasks: %s\n", RC(gearman_client_run_tasks(c)));
    gearman_task_free(t);

    P("== do_status\n");
    uint32_t num = 9, den = 9;
    gearman_client_do_status(c, &num, &den);
    P("do_status: %u/%u\n", num, den);
    gearman_client_free(c);

    P("== unbuffered result\n");
    c = new_client(10000);
    gearman_client_add_options(c, GEARMAN_CLIENT_UNBUFFERED_RESULT);
    gearman_client_set_complete_fn(c, cb_unbuffered);
    t = gearman_client_add_task(c, NULL, NULL, "echo", NULL, "unbuffered", 10, &rc);
    P("run_tasks: %s\n", RC(gearman_client_run_tasks(c)));
    gearman_task_free(t);
    gearman_client_free(c);

    stop_worker();
    return 0;
}
