/* client_errors: return codes and error strings of the client API.
 *
 * Covers gearman_strerror for every value, the state of a fresh client and accessors on
 * NULL, no servers (NO_SERVERS), a server that is down (COULD_NOT_CONNECT), a host that
 * does not resolve (GETADDRINFO), bad arguments (INVALID_ARGUMENT), client timeouts with
 * no worker (TIMEOUT, also with a timeout of 0), and set_server_option failures.
 * Error strings are reduced to their GEARMAN_* token (see cprog.h). Every case uses a fresh
 * client: 1.1.20's run_tasks state can wedge after a returned COULD_NOT_CONNECT, which the
 * project does not replicate (docs/libgearman-quirks.md, Q19).
 * Needs the dead_port argument.
 */
#include "cprog.h"

static gearman_client_st *client_on(in_port_t port, int timeout)
{
    gearman_client_st *c = gearman_client_create(NULL);
    if (c == NULL)
        fail("create");
    if (port && gearman_failed(gearman_client_add_server(c, g_host, port)))
        fail("add_server");
    gearman_client_set_timeout(c, timeout);
    return c;
}

static void show_do(const char *label, in_port_t port, int timeout, const char *function,
                    const char *unique, const void *workload, size_t size)
{
    gearman_client_st *c = client_on(port, timeout);
    gearman_return_t rc = GEARMAN_MAX_RETURN;
    size_t rsize = 777;
    void *r = gearman_client_do(c, function, unique, workload, size, &rsize, &rc);
    P("%s: do rc=%s result=%s size=%zu err=%s code=%s\n", label, RC(rc), r ? "set" : "NULL", rsize,
      err_token(gearman_client_error(c)), RC(gearman_client_error_code(c)));
    free(r);
    gearman_client_free(c);
}

static void show_bg(const char *label, in_port_t port, int timeout)
{
    gearman_client_st *c = client_on(port, timeout);
    gearman_job_handle_t h;
    memset(h, 0, sizeof h);
    gearman_return_t rc = gearman_client_do_background(c, "nobody", NULL, "x", 1, h);
    P("%s: do_background rc=%s handle=%s err=%s\n", label, RC(rc), handle_mask(h),
      err_token(gearman_client_error(c)));
    gearman_client_free(c);
}

static void show_echo(const char *label, in_port_t port, const void *data, size_t size)
{
    gearman_client_st *c = client_on(port, 5000);
    gearman_return_t rc = gearman_client_echo(c, data, size);
    P("%s: echo rc=%s err=%s\n", label, RC(rc), err_token(gearman_client_error(c)));
    gearman_client_free(c);
}

static void show_run_tasks(const char *label, in_port_t port, int timeout, int runs)
{
    gearman_client_st *c = client_on(port, timeout);
    gearman_return_t rc;
    gearman_task_st *t = gearman_client_add_task(c, NULL, NULL, "nobody", NULL, "x", 1, &rc);
    P("%s: add_task rc=%s\n", label, RC(rc));
    for (int i = 0; i < runs; i++) {
        rc = gearman_client_run_tasks(c);
        P("%s: run_tasks[%d] rc=%s err=%s task_return=%s\n", label, i, RC(rc),
          err_token(gearman_client_error(c)), RC(gearman_task_return(t)));
    }
    gearman_client_free(c);
}

static void show_job_status(const char *label, in_port_t port)
{
    gearman_client_st *c = client_on(port, 5000);
    bool known = true, running = true;
    uint32_t n = 9, d = 9;
    gearman_job_handle_t h = "H:nowhere:1";
    gearman_return_t rc = gearman_client_job_status(c, h, &known, &running, &n, &d);
    P("%s: job_status rc=%s known=%d running=%d %u/%u err=%s\n", label, RC(rc), known, running,
      n, d, err_token(gearman_client_error(c)));
    gearman_client_free(c);
}

int main(int argc, char **argv)
{
    cprog_init(argc, argv, 60);
    if (g_dead_port == 0)
        fail("client_errors needs the dead_port argument");

    P("== strerror\n");
    for (int i = 0; i <= GEARMAN_MAX_RETURN; i++)
        P("%d %s\n", i, gearman_strerror((gearman_return_t)i));
    P("1000 %s\n", gearman_strerror((gearman_return_t)1000));
    P("success(0)=%d failed(0)=%d continue(IO_WAIT)=%d continue(PAUSE)=%d continue(FAIL)=%d\n",
      gearman_success(GEARMAN_SUCCESS), gearman_failed(GEARMAN_SUCCESS),
      gearman_continue(GEARMAN_IO_WAIT), gearman_continue(GEARMAN_PAUSE),
      gearman_continue(GEARMAN_FAIL));

    P("== fresh client and NULL\n");
    gearman_client_st *c = gearman_client_create(NULL);
    P("fresh: err=%s code=%s errno=%d timeout=%d has_tasks=%d\n",
      err_token(gearman_client_error(c)), RC(gearman_client_error_code(c)),
      gearman_client_errno(c), gearman_client_timeout(c), gearman_client_has_tasks(c));
    /* 1.1.20 on NULL: error() NULL, code INVALID_ARGUMENT, errno EINVAL (22), timeout -1. */
    P("NULL: err=%s code=%s errno=%d timeout=%d\n", err_token(gearman_client_error(NULL)),
      RC(gearman_client_error_code(NULL)), gearman_client_errno(NULL),
      gearman_client_timeout(NULL));
    gearman_client_set_timeout(c, 1234);
    P("timeout after set: %d\n", gearman_client_timeout(c));
    gearman_client_free(c);

    P("== no servers\n");
    show_do("no servers", 0, 5000, "f", NULL, "x", 1);
    show_bg("no servers", 0, 5000);
    show_echo("no servers", 0, "x", 1);
    show_run_tasks("no servers", 0, 5000, 1);
    /* 1.1.20: false, and the error code stays SUCCESS (nothing is recorded). */
    c = client_on(0, 5000);
    P("no servers: set_server_option=%d code=%s\n",
      gearman_client_set_server_option(c, "exceptions", 10), RC(gearman_client_error_code(c)));
    gearman_client_free(c);

    P("== server down\n");
    show_do("down", g_dead_port, 5000, "f", NULL, "x", 1);
    show_bg("down", g_dead_port, 5000);
    show_echo("down", g_dead_port, "x", 1);
    show_run_tasks("down", g_dead_port, 5000, 2);
    show_job_status("down", g_dead_port);
    c = client_on(g_dead_port, 5000);
    P("down: set_server_option=%d\n", gearman_client_set_server_option(c, "exceptions", 10));
    gearman_client_free(c);

    P("== host that does not resolve\n");
    c = gearman_client_create(NULL);
    gearman_return_t rc = gearman_client_add_server(c, "no.such.host.invalid", g_port);
    P("add_server: rc=%s code=%s\n", RC(rc), RC(gearman_client_error_code(c)));
    gearman_client_free(c);

    P("== bad arguments\n");
    show_do("NULL function", g_port, 5000, NULL, NULL, "x", 1);
    show_do("empty function", g_port, 5000, "", NULL, "x", 1);
    show_do("workload NULL size 1", g_port, 5000, "f", NULL, NULL, 1);
    show_do("workload size 0 not NULL", g_port, 5000, "f", NULL, "x", 0);
    char u[80];
    memset(u, 'u', sizeof u - 1);
    u[sizeof u - 1] = '\0';
    show_do("unique of 79 bytes", g_port, 5000, "f", u, "x", 1);
    show_echo("echo NULL", g_port, NULL, 0);
    show_echo("echo size 0", g_port, "x", 0);
    c = client_on(g_port, 5000); /* 1.1.20: false, code stays SUCCESS */
    P("set_server_option NULL: %d code=%s\n", gearman_client_set_server_option(c, NULL, 0),
      RC(gearman_client_error_code(c)));
    gearman_client_free(c);

    P("== timeouts with no worker\n");
    show_do("timeout 300", g_port, 300, "nobody", NULL, "x", 1);
    show_do("timeout 0", g_port, 0, "nobody", NULL, "x", 1);
    show_run_tasks("timeout 300", g_port, 300, 2);
    show_echo("echo (server up)", g_port, "ping", 4);
    return 0;
}
