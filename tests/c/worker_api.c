/* worker_api: the worker side of libgearman, driven by tests/capi_worker.rs.
 *
 * Usage: worker_api HOST PORT MODE
 *   work  - registers c_v1 (add_function), c_v1b (define_function + function_create_v1) and c_v2
 *           (function_create), then calls gearman_worker_work until a job with workload "quit"
 *           arrives, printing every return code. The workload of each job says what the
 *           function does. The test's client submits the jobs one at a time.
 *   grab  - gearman_worker_grab_job with the jobs the test queued in the background.
 *   local - calls that need no job: shells, options, timeouts, registrations, argument errors,
 *           NULL objects, clone, namespace, allocators, wait/echo, grab errors.
 * Output: return codes by gearman_strerror name, error strings reduced to their GEARMAN_ token.
 */
#include <libgearman-1.0/gearman.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RC(x) gearman_strerror(x)

static const char *token(const char *error)
{
    static char buf[64];
    if (error == NULL)
        return "(null)";
    const char *p = strstr(error, "GEARMAN_");
    if (p == NULL)
        return error;
    size_t n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");
    if (n >= sizeof buf)
        n = sizeof buf - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return buf;
}

static int is(gearman_job_st *job, const char *word)
{
    return gearman_job_workload_size(job) == strlen(word)
        && memcmp(gearman_job_workload(job), word, strlen(word)) == 0;
}

static int quit;
/* v1 results still to be released by the library, and how many came back through the
 * workload free function (1.1.20 also routes its own buffers through the allocator functions,
 * so only these are counted). */
static void *results[64];
static int results_out, results_freed, taken_with_malloc;
static void *last_malloc;

static void counting_free(void *ptr, void *ctx)
{
    (void)ctx;
    for (int i = 0; i < 64; i++)
        if (ptr != NULL && results[i] == ptr) {
            results[i] = NULL;
            results_freed++;
        }
    free(ptr);
}

static void *counting_malloc(size_t size, void *ctx)
{
    (void)ctx;
    return last_malloc = malloc(size);
}

static int logged;
static char last_log[64];

static void log_fn(const char *line, gearman_verbose_t verbose, void *ctx)
{
    (void)ctx;
    logged++;
    snprintf(last_log, sizeof last_log, "%s/%s", token(line), gearman_verbose_name(verbose));
}
static int retries[4];

static void show_job(const char *tag, gearman_job_st *job)
{
    const char *h = gearman_job_handle(job);
    printf("%s: function=%s unique_len=%zu workload=%.*s size=%zu handle_ok=%d\n", tag,
           gearman_job_function_name(job), strlen(gearman_job_unique(job)),
           (int)gearman_job_workload_size(job), (const char *)gearman_job_workload(job),
           gearman_job_workload_size(job), h != NULL && strncmp(h, "H:", 2) == 0);
}

static void *v1_fn(gearman_job_st *job, void *ctx, size_t *size, gearman_return_t *ret)
{
    show_job((const char *)ctx, job);
    printf("  preset ret=%s size=%zu\n", RC(*ret), *size);
    if (is(job, "quit"))
        quit = 1;
    char *result = malloc(64);
    size_t n = gearman_job_workload_size(job);
    for (size_t i = 0; i < n; i++) /* reversed workload */
        result[i] = ((const char *)gearman_job_workload(job))[n - 1 - i];
    *size = n;
    *ret = GEARMAN_SUCCESS;
    if (is(job, "shutdown"))
        *ret = GEARMAN_SHUTDOWN;
    else if (is(job, "fail"))
        *ret = GEARMAN_WORK_FAIL;
    else if (is(job, "work_error"))
        *ret = GEARMAN_WORK_ERROR;
    else if (is(job, "odd_code"))
        *ret = (gearman_return_t)1000;
    else if (is(job, "exception")) {
        printf("  send_exception -> %s\n", RC(gearman_job_send_exception(job, "ex-text", 7)));
        gearman_return_t rc = gearman_job_send_exception(job, "", 0);
        printf("  send_exception empty -> %s err=%s\n", RC(rc), token(gearman_job_error(job)));
        *ret = GEARMAN_WORK_EXCEPTION;
    } else if (is(job, "lost"))
        *ret = ++retries[0] == 1 ? GEARMAN_LOST_CONNECTION : GEARMAN_SUCCESS;
    else if (is(job, "early")) {
        printf("  send_complete -> %s\n", RC(gearman_job_send_complete(job, "early", 5)));
        printf("  send_data after -> %s\n", RC(gearman_job_send_data(job, "x", 1)));
    } else if (is(job, "chunks")) {
        printf("  send_data -> %s\n", RC(gearman_job_send_data(job, "A", 1)));
        printf("  send_status -> %s\n", RC(gearman_job_send_status(job, 1, 2)));
        printf("  send_warning -> %s\n", RC(gearman_job_send_warning(job, "W", 1)));
        printf("  send_data -> %s\n", RC(gearman_job_send_data(job, "B", 1)));
    } else if (is(job, "null")) {
        free(result);
        result = NULL;
        *size = 0;
    } else if (is(job, "clone")) {
        gearman_worker_st *c = gearman_job_clone_worker(job);
        printf("  clone_worker: options=%d exist=%d\n", (int)gearman_worker_options(c),
               gearman_worker_function_exist(c, "c_v1", 4));
        gearman_worker_free(c);
        gearman_client_st *cl = gearman_job_use_client(job);
        printf("  use_client: set=%d same=%d echo=%s\n", cl != NULL,
               cl == gearman_job_use_client(job), RC(gearman_client_echo(cl, "e", 1)));
    } else if (is(job, "free_own_job")) {
        /* Not allowed in 1.1.20 (crashes); ours ignores it. Only run with our library. */
        gearman_job_free(job);
        printf("  job still usable: %s\n", gearman_job_function_name(job));
    } else if (is(job, "take")) {
        size_t taken = 99;
        void *w = gearman_job_take_workload(job, &taken);
        taken_with_malloc = w != NULL && w == last_malloc;
        printf("  take_workload -> %.*s (%zu), now %p/%zu\n", (int)taken, (char *)w, taken,
               gearman_job_workload(job), gearman_job_workload_size(job));
        counting_free(w, NULL);
    }
    if (result != NULL) {
        for (int i = 0; i < 64; i++)
            if (results[i] == NULL) {
                results[i] = result;
                break;
            }
        results_out++;
    }
    return result;
}

static gearman_return_t v2_fn(gearman_job_st *job, void *ctx)
{
    show_job((const char *)ctx, job);
    if (is(job, "success"))
        return GEARMAN_SUCCESS;
    if (is(job, "complete")) {
        printf("  send_complete -> %s\n", RC(gearman_job_send_complete(job, "v2-result", 9)));
        return GEARMAN_SUCCESS;
    }
    if (is(job, "shutdown"))
        return GEARMAN_SHUTDOWN;
    if (is(job, "fail"))
        return GEARMAN_FAIL;
    if (is(job, "exception_code"))
        return GEARMAN_WORK_EXCEPTION;
    if (is(job, "error"))
        return ++retries[1] == 1 ? GEARMAN_ERROR : GEARMAN_SUCCESS;
    if (is(job, "invalid"))
        return ++retries[2] == 1 ? GEARMAN_TIMEOUT : GEARMAN_SUCCESS;
    return GEARMAN_FAIL;
}

static gearman_worker_st *connected(const char *host, int port)
{
    gearman_worker_st *w = gearman_worker_create(NULL);
    if (w == NULL || gearman_worker_add_server(w, host, (in_port_t)port) != GEARMAN_SUCCESS) {
        fprintf(stderr, "worker setup failed\n");
        exit(2);
    }
    return w;
}

static int mode_work(const char *host, int port)
{
    gearman_worker_st storage; /* caller storage, as PHP does */
    gearman_worker_st *w = gearman_worker_create(&storage);
    printf("create in storage: same=%d options=%d\n", w == &storage, (int)gearman_worker_options(w));
    printf("add_server -> %s\n", RC(gearman_worker_add_server(w, host, (in_port_t)port)));
    printf("add_function -> %s\n", RC(gearman_worker_add_function(w, "c_v1", 0, v1_fn, "v1")));
    printf("define v1b -> %s\n", RC(gearman_worker_define_function(
                                     w, "c_v1bXX", 5, gearman_function_create_v1(v1_fn), 0, "v1b")));
    printf("define v2 -> %s\n", RC(gearman_worker_define_function(
                                    w, "c_v2", 4, gearman_function_create(v2_fn), 0, "v2")));
    printf("define partition -> %s\n",
           RC(gearman_worker_define_function(
               w, "c_part", 6, gearman_function_create_partition(v2_fn, NULL), 0, "part")));
    printf("options -> %d\n", (int)gearman_worker_options(w));
    gearman_worker_set_workload_free_fn(w, counting_free, NULL);
    gearman_worker_set_workload_malloc_fn(w, counting_malloc, NULL);
    fflush(stdout);
    while (!quit) {
        gearman_return_t rc = gearman_worker_work(w);
        printf("work -> %s err=%s\n", RC(rc), token(gearman_worker_error(w)));
        fflush(stdout);
        if (rc != GEARMAN_SUCCESS && rc != GEARMAN_SHUTDOWN && rc != GEARMAN_WORK_FAIL
            && rc != GEARMAN_WORK_ERROR && rc != GEARMAN_WORK_EXCEPTION && rc != 1000)
            break;
    }
    gearman_worker_free(w);
    printf("v1 results: %d, freed with the workload free fn: %d; taken workload from the malloc fn: %d\n",
           results_out, results_freed, taken_with_malloc);
    printf("freed: allocated=%d initialized=%d\n", storage.options.is_allocated,
           storage.options.is_initialized);
    return 0;
}

static int mode_grab(const char *host, int port)
{
    gearman_worker_st *w = connected(host, port);
    gearman_return_t rc = GEARMAN_MAX_RETURN;
    printf("grab without functions -> %s\n",
           gearman_worker_grab_job(w, NULL, &rc) ? "job" : "NULL");
    printf("  rc=%s\n", RC(rc));
    printf("register -> %s\n", RC(gearman_worker_register(w, "c_grab", 0)));
    gearman_job_st *first = gearman_worker_grab_job(w, NULL, &rc);
    printf("grab 1 -> %s rc=%s allocated=%d\n", first ? "job" : "NULL", RC(rc),
           first ? first->options.is_allocated : -1);
    if (first == NULL)
        return 1;
    show_job("grab 1", first);
    printf("  unique=%s\n", gearman_job_unique(first));
    printf("  send_status -> %s\n", RC(gearman_job_send_status(first, 3, 4)));
    printf("  send_complete -> %s\n", RC(gearman_job_send_complete(first, "grabbed", 7)));
    printf("  send_fail after -> %s\n", RC(gearman_job_send_fail(first)));
    gearman_job_free(first);
    gearman_job_st *second = gearman_worker_grab_job(w, NULL, NULL);
    printf("grab 2 -> %s\n", second ? "job" : "NULL");
    if (second == NULL)
        return 1;
    show_job("grab 2", second);
    printf("  send_fail -> %s\n", RC(gearman_job_send_fail(second)));
    /* Left for gearman_job_free_all. */
    gearman_job_free_all(w);
    rc = GEARMAN_MAX_RETURN;
    printf("grab 3 -> %s", gearman_worker_grab_job(w, NULL, &rc) ? "job" : "NULL");
    printf(" rc=%s\n", RC(rc));
    gearman_worker_free(w);
    return 0;
}

/* Map/reduce: "mapper" runs the partition function c_split (one reducer job per word),
 * "reducer" runs c_upper, "mapreduce-client" calls gearman_execute_by_partition. */
static gearman_return_t split_fn(gearman_job_st *job, void *ctx)
{
    (void)ctx;
    printf("split: function=%s workload=%.*s\n", gearman_job_function_name(job),
           (int)gearman_job_workload_size(job), (const char *)gearman_job_workload(job));
    printf("  send_complete -> %s\n", RC(gearman_job_send_complete(job, "x", 1)));
    gearman_return_t rc = gearman_job_send_fail(job);
    printf("  send_fail -> %s err=%s\n", RC(rc), token(gearman_job_error(job)));
    const char *w = gearman_job_workload(job);
    size_t n = gearman_job_workload_size(job), start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || w[i] == ' ') {
            if (i > start)
                printf("  send_data %.*s -> %s\n", (int)(i - start), w + start,
                       RC(gearman_job_send_data(job, w + start, i - start)));
            start = i + 1;
        }
    }
    return GEARMAN_SUCCESS;
}

static gearman_return_t concat(gearman_aggregator_st *a, gearman_task_st *task,
                               gearman_result_st *result)
{
    (void)a;
    char buf[256];
    size_t used = 0;
    for (; task; task = gearman_next(task)) {
        gearman_result_st *r = gearman_task_result(task);
        size_t len = r ? gearman_result_size(r) : 0;
        if (len && used + len + 1 < sizeof buf) {
            memcpy(buf + used, gearman_result_value(r), len);
            used += len;
            buf[used++] = '+';
        }
    }
    printf("aggregator: %.*s\n", (int)used, buf);
    return gearman_result_store_value(result, buf, used);
}

static gearman_return_t upper_fn(gearman_job_st *job, void *ctx)
{
    (void)ctx;
    char out[64];
    size_t n = gearman_job_workload_size(job);
    if (n >= sizeof out)
        n = sizeof out - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)(((const char *)gearman_job_workload(job))[i] - 32);
    return gearman_job_send_complete(job, out, n);
}

static int mode_mapreduce(const char *host, int port, const char *role)
{
    if (strcmp(role, "mapreduce-client") == 0) {
        gearman_client_st *c = gearman_client_create(NULL);
        gearman_client_add_server(c, host, (in_port_t)port);
        gearman_client_set_timeout(c, 20000);
        gearman_argument_t arg = gearman_argument_make(NULL, 0, "a bb ccc", 8);
        gearman_task_st *t = gearman_execute_by_partition(c, "c_split", 7, "c_upper", 7, NULL, 0,
                                                          NULL, &arg, NULL);
        printf("execute_by_partition -> %s", t ? "task" : "NULL");
        if (t) {
            gearman_result_st *r = gearman_task_result(t);
            printf(" return=%s result=%.*s", RC(gearman_task_return(t)),
                   r ? (int)gearman_result_size(r) : 0, r ? gearman_result_value(r) : "");
        }
        printf("\n");
        gearman_client_free(c);
        return 0;
    }
    gearman_worker_st *w = connected(host, port);
    gearman_worker_set_timeout(w, 3000);
    if (strcmp(role, "mapper") == 0)
        gearman_worker_define_function(w, "c_split", 7,
                                       gearman_function_create_partition(split_fn, concat), 0, NULL);
    else
        gearman_worker_define_function(w, "c_upper", 7, gearman_function_create(upper_fn), 0,
                                       NULL);
    gearman_return_t rc;
    while ((rc = gearman_worker_work(w)) == GEARMAN_SUCCESS)
        printf("work -> %s\n", RC(rc));
    printf("work -> %s\n", RC(rc));
    gearman_worker_free(w);
    return 0;
}

/* Ours only: 1.1.20 crashes on grab -> NO_JOBS -> grab (Q20) and with caller job storage. */
static int mode_grab_again(const char *host, int port)
{
    gearman_worker_st *w = connected(host, port);
    gearman_worker_register(w, "c_again", 0);
    gearman_return_t rc;
    gearman_job_st storage;
    for (int i = 0; i < 3; i++) {
        gearman_job_st *job = gearman_worker_grab_job(w, &storage, &rc);
        printf("grab %d -> %s rc=%s", i, job ? "job" : "NULL", RC(rc));
        if (job) {
            printf(" in storage=%d allocated=%d workload=%.*s", job == &storage,
                   job->options.is_allocated, (int)gearman_job_workload_size(job),
                   (const char *)gearman_job_workload(job));
            printf(" complete=%s", RC(gearman_job_send_complete(job, "ok", 2)));
            gearman_job_free(job);
            printf(" freed impl=%p", storage._impl);
        }
        printf("\n");
    }
    gearman_worker_free(w);
    return 0;
}

static int mode_local(const char *host, int port)
{
    (void)port;
    gearman_worker_st *w = gearman_worker_create(NULL);
    printf("fresh: options=%d timeout=%d error=%s errno=%d allocated=%d\n",
           (int)gearman_worker_options(w), gearman_worker_timeout(w),
           token(gearman_worker_error(w)), gearman_worker_errno(w), w->options.is_allocated);
    gearman_worker_set_timeout(w, 250);
    printf("set_timeout: timeout=%d options=%d\n", gearman_worker_timeout(w),
           (int)gearman_worker_options(w));
    gearman_worker_remove_options(w, GEARMAN_WORKER_TIMEOUT_RETURN);
    printf("remove TIMEOUT_RETURN: timeout=%d options=%d\n", gearman_worker_timeout(w),
           (int)gearman_worker_options(w));
    gearman_worker_remove_options(w, GEARMAN_WORKER_GRAB_UNIQ);
    printf("remove GRAB_UNIQ: options=%d\n", (int)gearman_worker_options(w));
    gearman_worker_add_options(w, GEARMAN_WORKER_GRAB_UNIQ);
    printf("add GRAB_UNIQ: options=%d\n", (int)gearman_worker_options(w));
    gearman_worker_set_options(w, GEARMAN_WORKER_NON_BLOCKING);
    printf("set NON_BLOCKING: options=%d timeout=%d\n", (int)gearman_worker_options(w),
           gearman_worker_timeout(w));
    gearman_worker_add_options(w, GEARMAN_WORKER_IDENTIFIER);
    printf("add IDENTIFIER: options=%d\n", (int)gearman_worker_options(w));
    gearman_worker_remove_options(w, GEARMAN_WORKER_IDENTIFIER);
    printf("remove IDENTIFIER: options=%d\n", (int)gearman_worker_options(w));
    int ctx = 7;
    gearman_worker_set_context(w, &ctx);
    printf("context ok=%d\n", gearman_worker_context(w) == &ctx);
    printf("namespace fresh=%s\n", gearman_worker_namespace(w) ? "set" : "NULL");
    gearman_worker_set_namespace(w, "ns_XX", 3);
    printf("namespace=%s\n", gearman_worker_namespace(w));
    gearman_return_t rc = gearman_worker_register(w, "f", 0);
    printf("register in ns -> %s exist=%d exist_full=%d\n", RC(rc),
           gearman_worker_function_exist(w, "f", 1), gearman_worker_function_exist(w, "ns_f", 4));
    gearman_worker_set_namespace(w, NULL, 0);
    printf("namespace cleared=%s\n", gearman_worker_namespace(w) ? "set" : "NULL");
    printf("options with change=%d\n", (int)gearman_worker_options(w));
    rc = gearman_worker_unregister(w, "f");
    printf("unregister f -> %s", RC(rc));
    printf(" again -> %s\n", RC(gearman_worker_unregister(w, "f")));
    printf("unregister_all empty -> %s\n", RC(gearman_worker_unregister_all(w)));
    gearman_worker_set_log_fn(w, log_fn, NULL, GEARMAN_VERBOSE_ERROR);
    rc = gearman_worker_add_function(w, NULL, 0, v1_fn, NULL);
    printf("logged=%d %s\n", logged, last_log);
    printf("add_function NULL name -> %s err=%s\n", RC(rc), token(gearman_worker_error(w)));
    printf("add_function NULL fn -> %s\n", RC(gearman_worker_add_function(w, "x", 0, NULL, NULL)));
    printf("define empty name -> %s\n",
           RC(gearman_worker_define_function(w, "x", 0, gearman_function_create(v2_fn), 0, NULL)));
    char long_name[600];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    printf("register 599 bytes -> %s\n", RC(gearman_worker_register(w, long_name, 0)));
    printf("allocators mixed -> %s\n",
           RC(gearman_worker_set_memory_allocators(w, NULL, NULL, NULL, NULL, NULL)));
    printf("set_identifier -> %s", RC(gearman_worker_set_identifier(w, "id-1", 4)));
    printf(" options=%d\n", (int)gearman_worker_options(w));
    printf("set_identifier bad -> %s\n", RC(gearman_worker_set_identifier(w, "a b", 3)));
    gearman_id_t id = gearman_worker_id(w);
    printf("id valid=%d\n", id.read_fd > 2 && id.write_fd > 2);
    printf("wait without connections -> %s\n", RC(gearman_worker_wait(w)));
    rc = gearman_worker_work(w);
    printf("work no servers -> %s err=%s\n", RC(rc), token(gearman_worker_error(w)));
    printf("echo no servers -> %s\n", RC(gearman_worker_echo(w, "x", 1)));
    printf("add_servers -> %s\n", RC(gearman_worker_add_servers(w, "127.0.0.1:1,localhost")));
    gearman_worker_remove_servers(w);
    gearman_worker_free(w);

    /* Clone: flags, timeout, namespace, functions. */
    w = gearman_worker_create(NULL);
    gearman_worker_set_timeout(w, 300);
    gearman_worker_set_namespace(w, "n1_", 3);
    gearman_worker_add_function(w, "cf", 0, v1_fn, NULL);
    gearman_worker_st *c = gearman_worker_clone(NULL, w);
    printf("clone: options=%d timeout=%d ns=%s exist=%d\n", (int)gearman_worker_options(c),
           gearman_worker_timeout(c), gearman_worker_namespace(c),
           gearman_worker_function_exist(c, "cf", 2));
    gearman_worker_free(c);
    gearman_worker_free(w);

    /* NULL objects. */
    printf("NULL: options=%d timeout=%d errno=%d error=%s context=%p ns=%p\n",
           (int)gearman_worker_options(NULL), gearman_worker_timeout(NULL),
           gearman_worker_errno(NULL), token(gearman_worker_error(NULL)),
           gearman_worker_context(NULL), (void *)gearman_worker_namespace(NULL));
    printf("NULL: work=%s add_server=%s register=%s wait=%s echo=%s\n",
           RC(gearman_worker_work(NULL)), RC(gearman_worker_add_server(NULL, host, 1)),
           RC(gearman_worker_register(NULL, "f", 0)), RC(gearman_worker_wait(NULL)),
           RC(gearman_worker_echo(NULL, "x", 1)));
    rc = GEARMAN_MAX_RETURN;
    printf("NULL: grab=%p rc=%s id=%d/%d\n", (void *)gearman_worker_grab_job(NULL, NULL, &rc),
           RC(rc), gearman_worker_id(NULL).read_fd, gearman_worker_id(NULL).write_fd);
    printf("NULL job: handle=%p fn=%p unique=%p workload=%p size=%zu send=%s fail=%s err=%p\n",
           (void *)gearman_job_handle(NULL), (void *)gearman_job_function_name(NULL),
           (void *)gearman_job_unique(NULL), gearman_job_workload(NULL),
           gearman_job_workload_size(NULL), RC(gearman_job_send_data(NULL, "x", 1)),
           RC(gearman_job_send_fail(NULL)), (void *)gearman_job_error(NULL));
    gearman_job_free(NULL);
    gearman_worker_free(NULL);

    /* A server: echo, set_server_option, timeout with nothing to do. */
    w = connected(host, port);
    printf("echo -> %s\n", RC(gearman_worker_echo(w, "ping", 4)));
    printf("server option bogus -> %d\n", gearman_worker_set_server_option(w, "bogus", 5));
    rc = gearman_worker_work(w);
    printf("work no functions -> %s err=%s\n", RC(rc), token(gearman_worker_error(w)));
    gearman_worker_add_function(w, "c_nobody", 0, v1_fn, NULL);
    gearman_worker_set_timeout(w, 200);
    rc = gearman_worker_work(w);
    printf("work nothing queued -> %s err=%s\n", RC(rc), token(gearman_worker_error(w)));
    printf("grab nothing queued -> %s",
           gearman_worker_grab_job(w, NULL, &rc) ? "job" : "NULL");
    printf(" rc=%s\n", RC(rc));
    gearman_worker_free(w);

    /* gearman_kill on the worker's id wakes a sleeping work(). */
    w = connected(host, port);
    gearman_worker_add_function(w, "c_nobody", 0, v1_fn, NULL);
    printf("kill interrupt -> %s\n", RC(gearman_kill(gearman_worker_id(w), GEARMAN_INTERRUPT)));
    rc = gearman_worker_work(w);
    printf("work after interrupt -> %s\n", RC(rc));
    rc = gearman_worker_work(w);
    printf("work again -> %s\n", RC(rc));
    gearman_worker_free(w);

    w = connected(host, 1);
    gearman_worker_add_function(w, "c_nobody", 0, v1_fn, NULL);
    rc = gearman_worker_work(w);
    printf("work server down -> %s err=%s\n", RC(rc), token(gearman_worker_error(w)));
    gearman_worker_free(w);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s HOST PORT work|grab|local\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int port = atoi(argv[2]);
    if (strcmp(argv[3], "work") == 0)
        return mode_work(argv[1], port);
    if (strcmp(argv[3], "grab") == 0)
        return mode_grab(argv[1], port);
    if (strcmp(argv[3], "env") == 0) {
        /* GEARMAN_SERVERS is read by gearman_worker_create (not by gearman_worker_clone). */
        gearman_worker_st *w = gearman_worker_create(NULL);
        printf("create=%s", w ? "set" : "NULL");
        if (w) {
            printf(" echo=%s", RC(gearman_worker_echo(w, "x", 1)));
            gearman_worker_st *c = gearman_worker_clone(NULL, w);
            printf(" clone echo=%s", RC(gearman_worker_echo(c, "x", 1)));
            gearman_worker_free(c);
            gearman_worker_free(w);
        }
        printf("\n");
        return 0;
    }
    if (strncmp(argv[3], "map", 3) == 0 || strcmp(argv[3], "reducer") == 0)
        return mode_mapreduce(argv[1], port, argv[3]);
    if (strcmp(argv[3], "grab-again") == 0)
        return mode_grab_again(argv[1], port);
    return mode_local(argv[1], port);
}
