/* client_misc: library-wide functions and client settings consumers rely on.
 *
 * Covers gearman_version / gearman_bugreport / gearman_verbose_name, client option bits,
 * workload allocators (PHP and Perl install them: the do() result must come from the
 * installed malloc fn, and the worker's v1 result must be released through the worker's
 * free fn), namespaces on client and worker, add_servers with a dead server first and last
 * (failover), gearman_client_clone, the log callback, gearman_client_cancel_job,
 * gearman_parse_servers, gearman_client_set_identifier, and client and worker objects in
 * caller storage (gearman_client_create(&st), as PHP embeds them).
 * Needs the dead_port argument.
 */
#include "cprog.h"

/* ------------------------------------------------------------ tracking allocator ------ */

#define MAX_TRACKED 256
static void *allocated[MAX_TRACKED];
static int n_allocated = 0;
static void *freed[MAX_TRACKED];
static int n_freed = 0;

static void *track_malloc(size_t size, void *ctx)
{
    (void)ctx;
    void *p = malloc(size ? size : 1);
    if (n_allocated < MAX_TRACKED)
        allocated[n_allocated++] = p;
    return p;
}

static void track_free(void *p, void *ctx)
{
    (void)ctx;
    if (n_freed < MAX_TRACKED)
        freed[n_freed++] = p;
    free(p);
}

static int was_allocated(const void *p)
{
    for (int i = 0; i < n_allocated; i++)
        if (allocated[i] == p)
            return 1;
    return 0;
}

static int was_freed(const void *p)
{
    for (int i = 0; i < n_freed; i++)
        if (freed[i] == p)
            return 1;
    return 0;
}

/* ----------------------------------------------------------------------- worker ------- */

static void *last_result = NULL; /* worker: the previous job's result buffer */

static void *alloc_fn(gearman_job_st *job, void *ctx, size_t *size, gearman_return_t *ret)
{
    (void)ctx;
    if (last_result)
        wlog("alloc: previous result released through the workload free fn: %d\n",
             was_freed(last_result));
    wlog_job("alloc", job);
    char *r = track_malloc(6, NULL);
    memcpy(r, "alloc!", 6);
    last_result = r;
    *size = 6;
    *ret = GEARMAN_SUCCESS;
    return r;
}

static void *ns_fn(gearman_job_st *job, void *ctx, size_t *size, gearman_return_t *ret)
{
    (void)ctx;
    wlog_job("namespaced", job);
    *size = 0;
    *ret = GEARMAN_SUCCESS;
    return NULL;
}

static void setup(gearman_worker_st *w)
{
    gearman_worker_set_workload_malloc_fn(w, track_malloc, NULL);
    gearman_worker_set_workload_free_fn(w, track_free, NULL);
    gearman_worker_add_function(w, "alloc", 0, alloc_fn, NULL);
    gearman_worker_set_namespace(w, "ns_", 3);
    wlog("worker namespace: %s\n", gearman_worker_namespace(w));
    gearman_worker_add_function(w, "echo", 0, ns_fn, NULL);
}

/* ------------------------------------------------------------------------ client ------ */

static gearman_return_t parse_cb(const char *host, in_port_t port, void *ctx)
{
    (void)ctx;
    P("  server host=%s port=%u\n", host ? host : "(null)", (unsigned)port);
    return GEARMAN_SUCCESS;
}

static void log_cb(const char *line, gearman_verbose_t level, void *ctx)
{
    P("  log(%s, ctx=%s): %s\n", gearman_verbose_name(level), (const char *)ctx, err_token(line));
}

static gearman_return_t cb_created(gearman_task_st *t)
{
    P("  created: fn=%s\n", gearman_task_function_name(t));
    return GEARMAN_SUCCESS;
}

int main(int argc, char **argv)
{
    cprog_init(argc, argv, 60);
    if (g_dead_port == 0)
        fail("client_misc needs the dead_port argument");

    P("== library\n");
    P("version=%s bugreport=%s\n", gearman_version(), gearman_bugreport());
    for (int v = 0; v <= 7; v++)
        P("verbose_name(%d)=%s\n", v, gearman_verbose_name((gearman_verbose_t)v));

    P("== options\n");
    gearman_client_st *c = gearman_client_create(NULL);
    P("fresh=%d\n", (int)gearman_client_options(c));
    gearman_client_add_options(c, GEARMAN_CLIENT_NON_BLOCKING);
    P("+NON_BLOCKING=%d has=%d\n", (int)gearman_client_options(c),
      gearman_client_has_option(c, GEARMAN_CLIENT_NON_BLOCKING));
    gearman_client_add_options(c, GEARMAN_CLIENT_FREE_TASKS);
    P("+FREE_TASKS=%d\n", (int)gearman_client_options(c));
    gearman_client_remove_options(c, GEARMAN_CLIENT_NON_BLOCKING);
    P("-NON_BLOCKING=%d has=%d\n", (int)gearman_client_options(c),
      gearman_client_has_option(c, GEARMAN_CLIENT_NON_BLOCKING));
    gearman_client_free(c);

    P("== objects in caller storage (as PHP embeds them)\n");
    {
        gearman_client_st embedded;
        gearman_client_st *ec = gearman_client_create(&embedded);
        P("client_create(&st) returns &st: %d options=%d\n", ec == &embedded,
          (int)gearman_client_options(ec));
        gearman_client_free(ec);
        gearman_worker_st wembedded;
        gearman_worker_st *ew = gearman_worker_create(&wembedded);
        P("worker_create(&st) returns &st: %d options=%d\n", ew == &wembedded,
          (int)gearman_worker_options(ew));
        gearman_worker_free(ew);
    }

    P("== parse_servers\n");
    P("rc=%s\n", RC(gearman_parse_servers("a:1,b,c:3", parse_cb, NULL)));

    spawn_worker(setup);

    P("== workload allocators\n");
    c = new_client(10000);
    gearman_client_set_workload_malloc_fn(c, track_malloc, NULL);
    gearman_client_set_workload_free_fn(c, track_free, NULL);
    size_t size;
    gearman_return_t rc;
    int before = n_allocated;
    char *r = gearman_client_do(c, "alloc", NULL, "one", 3, &size, &rc);
    P("do: rc=%s result=\"%s\" from workload malloc fn: %d\n", RC(rc), esc(r, r ? size : 0),
      r != NULL && was_allocated(r));
    track_free(r, NULL);
    r = gearman_client_do(c, "alloc", NULL, "two", 3, &size, &rc);
    P("do again: rc=%s from workload malloc fn: %d\n", RC(rc), r != NULL && was_allocated(r));
    track_free(r, NULL);
    before = n_allocated;
    gearman_task_st *t = gearman_client_add_task(c, NULL, NULL, "alloc", NULL, "three", 5, &rc);
    P("add_task copied the workload with the malloc fn: %d\n", n_allocated > before);
    P("run_tasks: %s\n", RC(gearman_client_run_tasks(c)));
    gearman_task_free(t);
    gearman_client_free(c);

    P("== namespace\n");
    c = new_client(10000);
    gearman_client_set_namespace(c, "ns_", 3);
    gearman_client_set_created_fn(c, cb_created);
    t = gearman_client_add_task(c, NULL, NULL, "echo", NULL, "x", 1, &rc);
    P("task function name: %s\n", gearman_task_function_name(t));
    P("run_tasks: %s\n", RC(gearman_client_run_tasks(c)));
    gearman_task_free(t);
    r = gearman_client_do(c, "echo", NULL, "y", 1, &size, &rc);
    P("do with namespace: %s\n", RC(rc));
    free(r);
    gearman_client_free(c);

    P("== add_servers and failover\n");
    char list[128];
    gearman_job_handle_t h;
    snprintf(list, sizeof list, "%s:%u,%s:%u", g_host, (unsigned)g_dead_port, g_host,
             (unsigned)g_port);
    c = gearman_client_create(NULL);
    P("add_servers dead,live: %s\n", RC(gearman_client_add_servers(c, list)));
    P("do_background: %s\n", RC(gearman_client_do_background(c, "nobody", NULL, "x", 1, h)));
    P("echo: %s\n", RC(gearman_client_echo(c, "x", 1)));
    gearman_client_free(c);
    snprintf(list, sizeof list, "%s:%u,%s:%u", g_host, (unsigned)g_port, g_host,
             (unsigned)g_dead_port);
    c = gearman_client_create(NULL);
    P("add_servers live,dead: %s\n", RC(gearman_client_add_servers(c, list)));
    P("do_background: %s\n", RC(gearman_client_do_background(c, "nobody", NULL, "x", 1, h)));
    gearman_client_free(c);

    P("== embedded client round trip\n");
    {
        gearman_client_st embedded;
        gearman_client_st *ec = gearman_client_create(&embedded);
        gearman_client_add_server(ec, g_host, g_port);
        r = gearman_client_do(ec, "alloc", NULL, "embedded", 8, &size, &rc);
        P("do: %s \"%s\"\n", RC(rc), esc(r, r ? size : 0));
        free(r);
        gearman_client_free(ec);
    }

    P("== clone\n");
    c = new_client(4321);
    gearman_client_st *copy = gearman_client_clone(NULL, c);
    P("clone: %s timeout=%d\n", copy ? "set" : "NULL", gearman_client_timeout(copy));
    r = gearman_client_do(copy, "alloc", NULL, "clone", 5, &size, &rc);
    P("do on the clone: %s \"%s\"\n", RC(rc), esc(r, r ? size : 0));
    free(r);
    gearman_client_free(copy);
    gearman_client_free(c);

    P("== log callback\n");
    c = gearman_client_create(NULL);
    gearman_client_set_log_fn(c, log_cb, (void *)"ctx", GEARMAN_VERBOSE_ERROR);
    gearman_client_add_server(c, g_host, g_dead_port);
    r = gearman_client_do(c, "f", NULL, "x", 1, &size, &rc);
    P("do on a dead server: %s\n", RC(rc));
    r = gearman_client_do(c, NULL, NULL, "x", 1, &size, &rc);
    P("do with a NULL function: %s\n", RC(rc));
    gearman_client_free(c);

    P("== cancel_job and identifier\n");
    c = new_client(5000);
    rc = gearman_client_do_background(c, "nobody", NULL, "cancel-me", 9, h);
    P("do_background: %s\n", RC(rc));
    P("cancel_job: %s\n", RC(gearman_client_cancel_job(c, h)));
    P("set_identifier: %s\n", RC(gearman_client_set_identifier(c, "cprog-client", 12)));
    P("echo after identifier: %s\n", RC(gearman_client_echo(c, "x", 1)));
    gearman_client_free(c);

    stop_worker();
    return 0;
}
