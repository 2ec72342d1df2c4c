/* The client side of the C ABI, driven from tests/capi_client.rs: shells in caller storage and
 * on the heap, error state rules, options, do / do_background / job_status, add_task with every
 * callback and accessor, PAUSE re-delivery, FREE_TASKS with the task context free fn,
 * gearman_next order, execute + result, take_data, namespaces, timeouts, log fn, allocators,
 * clone/compare. The workers (reverse, chunks, fail) run in the Rust test.
 *
 * Usage: client_api HOST PORT. Every line is deterministic; lines starting with "deviation:"
 * show where this library deliberately differs from libgearman 1.1.20 and are not compared. */
#include <libgearman-1.0/gearman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RC(x) gearman_strerror(x)
static const char *S(const char *s) { return s ? s : "(null)"; }

static const char *host;
static in_port_t port;

/* Prints an error string reduced to its GEARMAN_* token (the detail text is not a contract). */
static void print_error(const char *what, const char *err)
{
    if (!err) {
        printf("%s: (null)\n", what);
        return;
    }
    const char *p = strstr(err, "GEARMAN_");
    int n = 0;
    if (p)
        while (p[n] == '_' || (p[n] >= 'A' && p[n] <= 'Z'))
            n++;
    printf("%s: %.*s\n", what, n, p ? p : err);
}

static void print_task(const char *event, gearman_task_st *t)
{
    const char *data = gearman_task_data(t);
    size_t size = gearman_task_data_size(t);
    const char *h = gearman_task_job_handle(t);
    printf("  %s: ctx=%s fn=%s unique_len=%zu handle=%s known=%d running=%d %u/%u data=\"%.*s\" (%zu) "
           "state=%s return=%s\n",
           event, S(gearman_task_context(t)), S(gearman_task_function_name(t)),
           strlen(gearman_task_unique(t)), h && h[0] ? "<handle>" : "<empty>",
           gearman_task_is_known(t), gearman_task_is_running(t), gearman_task_numerator(t),
           gearman_task_denominator(t), (int)size, data ? data : "", size,
           gearman_task_strstate(t), RC(gearman_task_return(t)));
}

#define CALLBACK(name)                               \
    static gearman_return_t cb_##name(gearman_task_st *t) \
    {                                                \
        print_task(#name, t);                        \
        return GEARMAN_SUCCESS;                      \
    }
CALLBACK(created)
CALLBACK(data)
CALLBACK(warning)
CALLBACK(status)
CALLBACK(complete)
CALLBACK(exception)
CALLBACK(fail)

static int pauses;
static gearman_return_t cb_pause_data(gearman_task_st *t)
{
    printf("  pause data: \"%.*s\" call %d\n", (int)gearman_task_data_size(t),
           (const char *)gearman_task_data(t), ++pauses);
    return pauses == 1 ? GEARMAN_PAUSE : GEARMAN_SUCCESS;
}

static int context_frees;
static void context_free(gearman_task_st *t, void *context)
{
    (void)t;
    printf("  context free: %s\n", (const char *)context);
    context_frees++;
}

static gearman_return_t cb_take(gearman_task_st *t)
{
    size_t size = 99;
    void *p = gearman_task_take_data(t, &size);
    printf("  take_data: \"%.*s\" (%zu), after: data=%p size=%zu\n", (int)size, p ? (char *)p : "",
           size, gearman_task_data(t), gearman_task_data_size(t));
    free(p);
    return GEARMAN_SUCCESS;
}

static void *my_malloc(size_t size, void *context)
{
    (void)context;
    return malloc(size);
}

static gearman_client_st *nested_client;
static gearman_return_t cb_nested(gearman_task_st *t)
{
    size_t size = 0;
    gearman_return_t rc;
    char *r = gearman_client_do(nested_client, "reverse", NULL, "inner", 5, &size, &rc);
    printf("deviation: complete of \"%.*s\": nested do rc=%s result=\"%s\"\n", (int)gearman_task_data_size(t),
           (const char *)gearman_task_data(t), RC(rc), r ? r : "(null)");
    free(r);
    return GEARMAN_SUCCESS;
}

static gearman_return_t cb_unbuffered(gearman_task_st *t)
{
    printf("deviation: unbuffered: data=%p size=%zu chunks:", gearman_task_data(t), gearman_task_data_size(t));
    char buf[3];
    gearman_return_t rc;
    size_t n;
    while ((n = gearman_task_recv_data(t, buf, 2, &rc)) > 0)
        printf(" \"%.*s\"", (int)n, buf);
    printf(" rc=%s\n", RC(rc));
    return GEARMAN_SUCCESS;
}

static int logged;
static void log_fn(const char *line, gearman_verbose_t verbose, void *context)
{
    (void)context;
    if (logged++ == 0)
        print_error(gearman_verbose_name(verbose), line);
}

static gearman_client_st *new_client(gearman_client_st *storage)
{
    gearman_client_st *c = gearman_client_create(storage);
    if (gearman_client_add_server(c, host, port) != GEARMAN_SUCCESS) {
        printf("add_server failed\n");
        exit(2);
    }
    gearman_client_set_timeout(c, 20000);
    return c;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: client_api HOST PORT\n");
        return 2;
    }
    host = argv[1];
    port = (in_port_t)atoi(argv[2]);
    setvbuf(stdout, NULL, _IOLBF, 0);

    printf("== shells and fresh state\n");
    gearman_client_st storage;
    memset(&storage, 0xAB, sizeof storage);
    gearman_client_st *c = gearman_client_create(&storage);
    printf("caller storage: same=%d allocated=%d options=%d\n", c == &storage,
           storage.options.is_allocated, (int)gearman_client_options(c));
    print_error("fresh error", gearman_client_error(c));
    printf("fresh code=%s errno=%d timeout=%d\n", RC(gearman_client_error_code(c)),
           gearman_client_errno(c), gearman_client_timeout(c));
    gearman_client_free(c);
    printf("after free: initialized=%d impl_null=%d\n", storage.options.is_initialized,
           storage._impl == NULL);
    gearman_client_st *heap = gearman_client_create(NULL);
    printf("heap: options=%d has_allocated=%d\n", (int)gearman_client_options(heap),
           gearman_client_has_option(heap, GEARMAN_CLIENT_ALLOCATED));
    gearman_client_free(heap);
    print_error("NULL error", gearman_client_error(NULL));
    printf("NULL: code=%s errno=%d options=%d timeout=%d context=%p has_tasks=%d\n",
           RC(gearman_client_error_code(NULL)), gearman_client_errno(NULL),
           (int)gearman_client_options(NULL), gearman_client_timeout(NULL),
           gearman_client_context(NULL), gearman_client_has_tasks(NULL));

    printf("== options\n");
    c = gearman_client_create(&storage);
    gearman_client_set_options(c, GEARMAN_CLIENT_FREE_TASKS);
    printf("set FREE_TASKS: %d\n", (int)gearman_client_options(c));
    gearman_client_add_options(c, GEARMAN_CLIENT_NON_BLOCKING);
    printf("add NON_BLOCKING: %d nb=%d\n", (int)gearman_client_options(c),
           gearman_client_has_option(c, GEARMAN_CLIENT_NON_BLOCKING));
    gearman_client_remove_options(c, GEARMAN_CLIENT_FREE_TASKS | GEARMAN_CLIENT_NON_BLOCKING);
    printf("removed: %d\n", (int)gearman_client_options(c));
    gearman_client_add_options(c, GEARMAN_CLIENT_EXCEPTION);
    printf("EXCEPTION without servers: %d\n", gearman_client_has_option(c, GEARMAN_CLIENT_EXCEPTION));
    gearman_client_set_log_fn(c, log_fn, NULL, GEARMAN_VERBOSE_ERROR);
    size_t size = 7;
    gearman_return_t rc;
    void *r = gearman_client_do(c, "reverse", NULL, "abc", 3, &size, &rc);
    printf("do without servers: rc=%s result=%p size=%zu logged=%d\n", RC(rc), r, size, logged > 0);
    gearman_client_set_memory_allocators(c, NULL, NULL, NULL, NULL, NULL);
    printf("allocators mixed: %s\n",
           RC(gearman_client_set_memory_allocators(c, my_malloc, NULL, NULL, NULL, NULL)));
    gearman_client_free(c);

    printf("== do\n");
    c = new_client(NULL);
    r = gearman_client_do(c, "reverse", NULL, "hello", 5, &size, &rc);
    printf("do: rc=%s result=\"%s\" size=%zu\n", RC(rc), r ? (char *)r : "(null)", size);
    free(r);
    printf("code after success: %s\n", RC(gearman_client_error_code(c)));
    print_error("error after success", gearman_client_error(c));
    r = gearman_client_do_high(c, "chunks", "u1", "x", 1, &size, &rc);
    printf("do_high chunks: rc=%s result=\"%s\" size=%zu\n", RC(rc), r ? (char *)r : "(null)", size);
    free(r);
    r = gearman_client_do_low(c, "reverse", NULL, "", 0, NULL, &rc);
    printf("do_low NULL-free empty: rc=%s result=%p\n", RC(rc), r);
    r = gearman_client_do(c, "reverse", NULL, "", 0, &size, &rc);
    printf("do empty non-NULL workload: rc=%s\n", RC(rc));
    r = gearman_client_do(c, "fail", NULL, "x", 1, &size, &rc);
    printf("do fail: rc=%s result=%p\n", RC(rc), r);
    print_error("error after fail", gearman_client_error(c));
    r = gearman_client_do(c, NULL, NULL, "x", 1, &size, &rc);
    printf("do NULL function: rc=%s\n", RC(rc));
    r = gearman_client_do(NULL, "reverse", NULL, "x", 1, &size, &rc);
    printf("do NULL client: rc=%s\n", RC(rc));

    printf("== background and status\n");
    gearman_job_handle_t handle;
    memset(handle, 'Z', sizeof handle);
    rc = gearman_client_do_background(c, "nowork", "bg-unique", "w", 1, handle);
    printf("do_background: rc=%s handle_ok=%d same_as_do_job_handle=%d\n", RC(rc), handle[0] == 'H',
           strcmp(handle, gearman_client_do_job_handle(c)) == 0);
    bool known = false, running = true;
    uint32_t num = 9, den = 9;
    rc = gearman_client_job_status(c, handle, &known, &running, &num, &den);
    printf("job_status: rc=%s known=%d running=%d %u/%u\n", RC(rc), known, running, num, den);
    printf("job_status flags NULL: %s\n", RC(gearman_client_job_status(c, handle, NULL, NULL, NULL, NULL)));
    gearman_job_handle_t unknown = "H:nope:1";
    printf("job_status unknown: %s\n", RC(gearman_client_job_status(c, unknown, NULL, NULL, NULL, NULL)));
    gearman_status_t st = gearman_client_unique_status(c, "bg-unique", 9);
    printf("unique_status: rc=%s known=%d running=%d\n", RC(gearman_status_return(st)),
           gearman_status_is_known(st), gearman_status_is_running(st));
    st = gearman_client_unique_status(c, NULL, 0);
    printf("unique_status NULL: rc=%s\n", RC(gearman_status_return(st)));
    printf("do_background NULL function: %s\n",
           RC(gearman_client_do_background(c, NULL, NULL, "w", 1, handle)));
    printf("echo: %s\n", RC(gearman_client_echo(c, "ping", 4)));
    printf("echo empty: %s\n", RC(gearman_client_echo(c, NULL, 0)));
    printf("set_server_option exceptions: %d has=%d\n",
           gearman_client_set_server_option(c, "exceptions", 10),
           gearman_client_has_option(c, GEARMAN_CLIENT_EXCEPTION));
    printf("set_server_option bogus: %d code=%s\n", gearman_client_set_server_option(c, "bogus", 5),
           RC(gearman_client_error_code(c)));
    printf("cancel_job: %s\n", RC(gearman_client_cancel_job(c, handle)));
    printf("set_identifier: %s, with a space: %s\n", RC(gearman_client_set_identifier(c, "me", 2)),
           RC(gearman_client_set_identifier(c, "a b", 3)));
    gearman_client_free(c);

    printf("== tasks with every callback\n");
    c = new_client(NULL);
    gearman_client_set_created_fn(c, cb_created);
    gearman_client_set_data_fn(c, cb_data);
    gearman_client_set_warning_fn(c, cb_warning);
    gearman_client_set_status_fn(c, cb_status);
    gearman_client_set_complete_fn(c, cb_complete);
    gearman_client_set_exception_fn(c, cb_exception);
    gearman_client_set_fail_fn(c, cb_fail);
    gearman_task_st tstore;
    gearman_task_st *t1 = gearman_client_add_task(c, &tstore, "ctx1", "chunks", NULL, "x", 1, &rc);
    printf("add_task: rc=%s same=%d allocated=%d state=%s\n", RC(rc), t1 == &tstore,
           tstore.options.is_allocated, gearman_task_strstate(t1));
    print_task("before run", t1);
    printf("run_tasks: %s has_tasks=%d active=%d\n", RC(gearman_client_run_tasks(c)),
           gearman_client_has_tasks(c), gearman_client_has_active_tasks(c));
    print_task("after run", t1);
    printf("task error=%s result=%p exception=%d\n", S(gearman_task_error(t1)), (void *)gearman_task_result(t1),
           gearman_task_has_exception(t1));
    printf("deviation: is_finished=%d (1.1.20: always 0)\n", gearman_task_is_finished(t1));
    gearman_task_free(t1);
    printf("after task_free: impl_null=%d has_tasks=%d\n", tstore._impl == NULL, gearman_client_has_tasks(c));
    gearman_task_st *tf = gearman_client_add_task_background(c, NULL, "bg", "nowork", NULL, "b", 1, &rc);
    gearman_task_st *tfail = gearman_client_add_task(c, NULL, "f", "fail", NULL, "b", 1, &rc);
    printf("run_tasks bg+fail: %s\n", RC(gearman_client_run_tasks(c)));
    printf("bg return=%s fail return=%s error=%s\n", RC(gearman_task_return(tf)),
           RC(gearman_task_return(tfail)), S(gearman_task_error(tfail)));
    gearman_task_st *ts = gearman_client_add_task_status(c, NULL, "st", gearman_task_job_handle(tf), &rc);
    printf("add_task_status: rc=%s fn_is_handle=%d\n", RC(rc),
           strcmp(gearman_task_function_name(ts), gearman_task_job_handle(tf)) == 0);
    printf("run_tasks status: %s\n", RC(gearman_client_run_tasks(c)));
    gearman_client_free(c);

    printf("== LIFO order and gearman_next\n");
    c = new_client(NULL);
    gearman_task_st *a = gearman_client_add_task(c, NULL, "a", "reverse", NULL, "a", 1, &rc);
    gearman_client_add_task(c, NULL, "b", "reverse", NULL, "b", 1, &rc);
    gearman_task_st *newest = gearman_client_add_task(c, NULL, "c", "reverse", NULL, "c", 1, &rc);
    for (gearman_task_st *t = newest; t; t = gearman_next(t))
        printf(" %s", (const char *)gearman_task_context(t));
    printf(" <- from the newest; after a: %p\n", (void *)gearman_next(a));
    gearman_client_task_free_all(c);
    printf("after free_all: has_tasks=%d\n", gearman_client_has_tasks(c));
    gearman_client_free(c);

    printf("== pause\n");
    c = new_client(NULL);
    gearman_client_set_data_fn(c, cb_pause_data);
    gearman_task_st *tp = gearman_client_add_task(c, NULL, NULL, "chunks", NULL, "p", 1, &rc);
    rc = gearman_client_run_tasks(c);
    printf("run 1: %s state=%s\n", RC(rc), gearman_task_strstate(tp));
    rc = gearman_client_run_tasks(c);
    printf("run 2: %s state=%s return=%s\n", RC(rc), gearman_task_strstate(tp), RC(gearman_task_return(tp)));
    gearman_client_free(c);

    if (argc > 3 && strcmp(argv[3], "ours") == 0) {
        /* 1.1.20 fails the next loop iteration with INVALID_ARGUMENT after a callback drained
         * its payload this way; here the payloads are read from the buffered reply. */
        c = new_client(NULL);
        gearman_client_add_options(c, GEARMAN_CLIENT_UNBUFFERED_RESULT);
        gearman_client_set_data_fn(c, cb_unbuffered);
        gearman_client_set_complete_fn(c, cb_unbuffered);
        gearman_client_add_task(c, NULL, NULL, "chunks", NULL, "u", 1, &rc);
        printf("deviation: unbuffered run_tasks: %s\n", RC(gearman_client_run_tasks(c)));
        gearman_client_free(c);
    }

    printf("== FREE_TASKS and the context free fn\n");
    c = new_client(NULL);
    gearman_client_add_options(c, GEARMAN_CLIENT_FREE_TASKS);
    gearman_client_set_task_context_free_fn(c, context_free);
    gearman_client_set_complete_fn(c, cb_take);
    gearman_client_add_task(c, NULL, "one", "reverse", NULL, "one", 3, &rc);
    gearman_client_add_task(c, NULL, "two", "reverse", NULL, "two", 3, &rc);
    printf("run_tasks: %s frees=%d has_tasks=%d\n", RC(gearman_client_run_tasks(c)), context_frees,
           gearman_client_has_tasks(c));
    gearman_client_add_task(c, NULL, "three", "reverse", NULL, "3", 1, &rc);
    gearman_client_free(c);
    printf("after client_free: frees=%d\n", context_frees);

    if (argc > 3 && strcmp(argv[3], "ours") == 0) {
        /* 1.1.20's do() zeroes the client's task counters (docs/libgearman-quirks.md, Q21): the outer run_tasks then
         * waits until the timeout. Here both finish. */
        c = nested_client = new_client(NULL);
        gearman_client_set_complete_fn(c, cb_nested);
        gearman_client_add_task(c, NULL, NULL, "reverse", NULL, "outer", 5, &rc);
        printf("deviation: do inside a callback, run_tasks: %s\n", RC(gearman_client_run_tasks(c)));
        gearman_client_free(c);
    }

    printf("== execute and namespaces\n");
    c = new_client(NULL);
    gearman_argument_t arg = gearman_argument_make(NULL, 0, "exe", 3);
    gearman_task_st *te = gearman_execute(c, "reverse", 7, NULL, 0, NULL, &arg, NULL);
    gearman_result_st *res = gearman_task_result(te);
    printf("execute: return=%s null=%d size=%zu value=%s bool=%d\n", RC(gearman_task_return(te)),
           gearman_result_is_null(res), gearman_result_size(res), S(gearman_result_value(res)),
           gearman_result_boolean(res));
    gearman_task_attr_t bg = gearman_task_attr_init_background(GEARMAN_JOB_PRIORITY_HIGH);
    te = gearman_execute(c, "nowork", 6, "exe-u", 5, &bg, &arg, "ctx");
    printf("execute background: return=%s ctx=%s handle_ok=%d\n", RC(gearman_task_return(te)),
           S(gearman_task_context(te)), gearman_task_job_handle(te)[0] == 'H');
    te = gearman_execute(c, NULL, 0, NULL, 0, NULL, NULL, NULL);
    printf("execute NULL function: %p code=%s\n", (void *)te, RC(gearman_client_error_code(c)));
    gearman_client_set_namespace(c, "ns_", 3);
    gearman_task_st *tn = gearman_client_add_task(c, NULL, NULL, "reverse", "#", "abc", 3, &rc);
    printf("namespace: fn=%s unique=%s\n", gearman_task_function_name(tn), gearman_task_unique(tn));
    gearman_client_set_namespace(c, NULL, 0);
    gearman_client_task_free_all(c);
    gearman_client_free(c);

    printf("== timeout, clone, compare\n");
    c = new_client(NULL);
    gearman_client_set_timeout(c, 200);
    r = gearman_client_do(c, "nowork", NULL, "t", 1, &size, &rc);
    printf("do with no worker, 200 ms: %s\n", RC(rc));
    gearman_client_add_server(c, "localhost", 1);
    gearman_client_st *cl = gearman_client_clone(NULL, c);
    printf("clone: timeout=%d compare=%d self=%d\n", gearman_client_timeout(cl),
           gearman_client_compare(c, cl), gearman_client_compare(c, c));
    gearman_client_free(cl);
    if (argc > 3 && strcmp(argv[3], "ours") == 0) {
        /* Calls that crash libgearman 1.1.20 (docs/libgearman-quirks.md, Q24) and answer safely here. */
        gearman_client_st *empty = gearman_client_create(NULL);
        printf("deviation: compare without servers: %d\n", gearman_client_compare(c, empty));
        gearman_client_st detached = { { false, false }, NULL };
        printf("deviation: do_job_handle of a detached shell: %p\n",
               (void *)gearman_client_do_job_handle(&detached));
        printf("deviation: job_status NULL handle: %s\n",
               RC(gearman_client_job_status(c, NULL, NULL, NULL, NULL, NULL)));
        size = 5;
        void *taken = gearman_task_take_data(gearman_client_add_task(c, NULL, NULL, "f", NULL, NULL, 0, &rc), &size);
        printf("deviation: take_data outside a callback: %p size=%zu\n", taken, size);
        gearman_client_free(empty);
    }
    gearman_client_free(c);
    printf("== end\n");
    return 0;
}
