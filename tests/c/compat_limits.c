/* Size limits are checked before the caller's buffer is read, in libgearman 1.1.20's order:
 * driven from tests/capi_compat.rs with 1.1.20 and with ours, against the same server.
 *
 * Every call passes a short string ("This is my echo test", 20 bytes) with a length far
 * beyond it; a library that reads the length's worth of bytes dies with SIGSEGV. Mode
 * "common" makes the calls 1.1.20 answers without reading (echo, server options and
 * identifiers of client and worker, function names, submissions that do not fit a packet),
 * printing each return code and the error code recorded. Mode "ours" makes the calls 1.1.20
 * crashes on (add_task and gearman_execute copy the workload, the job reports send it): this
 * library answers GEARMAN_ARGUMENT_TOO_LARGE there too.
 *
 * Usage: compat_limits HOST PORT common|ours */
#include <libgearman-1.0/gearman.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RC(x) gearman_strerror(x)

static const char *text = "This is my echo test";
/* GEARMAN_MAX_ECHO_SIZE + 1 (the header's macro overflows an int in C). */
static const size_t over_echo = (size_t)UINT32_MAX - 128 + 1;
/* More than a packet's 32-bit length can carry. */
static const size_t over_packet = (size_t)UINT32_MAX + 1;

static void client_calls(gearman_client_st *c, const char *label)
{
    gearman_return_t rc = gearman_client_echo(c, text, over_echo);
    printf("%s: client echo over limit: %s code=%s\n", label, RC(rc),
           RC(gearman_client_error_code(c)));
    rc = gearman_client_echo(c, NULL, over_echo);
    printf("%s: client echo NULL over limit: %s\n", label, RC(rc));
    rc = gearman_client_echo(c, text, 0);
    printf("%s: client echo empty: %s\n", label, RC(rc));
    bool ok = gearman_client_set_server_option(c, text, over_echo);
    printf("%s: client option over limit: %d code=%s\n", label, ok, RC(gearman_client_error_code(c)));
    ok = gearman_client_set_server_option(c, NULL, over_echo);
    printf("%s: client option NULL over limit: %d code=%s\n", label, ok,
           RC(gearman_client_error_code(c)));
    ok = gearman_client_set_server_option(c, text, 0);
    printf("%s: client option empty: %d code=%s\n", label, ok, RC(gearman_client_error_code(c)));
    rc = gearman_client_set_identifier(c, text, over_echo);
    printf("%s: client identifier over limit: %s\n", label, RC(rc));
    rc = gearman_client_set_identifier(c, text, 255);
    printf("%s: client identifier 255: %s\n", label, RC(rc));
}

static void worker_calls(gearman_worker_st *w, const char *label)
{
    gearman_return_t rc = gearman_worker_echo(w, text, over_echo);
    printf("%s: worker echo over limit: %s\n", label, RC(rc));
    rc = gearman_worker_echo(w, NULL, over_echo);
    printf("%s: worker echo NULL over limit: %s\n", label, RC(rc));
    bool ok = gearman_worker_set_server_option(w, text, over_echo);
    printf("%s: worker option over limit: %d\n", label, ok);
    ok = gearman_worker_set_server_option(w, NULL, over_echo);
    printf("%s: worker option NULL over limit: %d\n", label, ok);
    rc = gearman_worker_set_identifier(w, text, over_echo);
    printf("%s: worker identifier over limit: %s\n", label, RC(rc));
    gearman_function_t fn = gearman_function_create(NULL);
    rc = gearman_worker_define_function(w, text, over_echo, fn, 0, NULL);
    printf("%s: define_function name over limit: %s\n", label, RC(rc));
    rc = gearman_worker_define_function(w, text, 513, fn, 0, NULL);
    printf("%s: define_function name of 513 bytes: %s\n", label, RC(rc));
    printf("%s: function_exist name over limit: %d\n", label,
           gearman_worker_function_exist(w, text, over_echo));
}

static void common(const char *host, in_port_t port)
{
    gearman_client_st *c = gearman_client_create(NULL);
    client_calls(c, "no servers");
    gearman_client_add_server(c, host, port);
    client_calls(c, "server");
    gearman_job_handle_t handle;
    gearman_return_t rc = gearman_client_do_background(c, "compat_lim", NULL, text, over_packet, handle);
    printf("do_background over a packet: %s\n", RC(rc));
    rc = gearman_client_do_background(c, "compat_lim", NULL, NULL, over_packet, handle);
    printf("do_background NULL workload with a size: %s\n", RC(rc));
    size_t size = 0;
    void *r = gearman_client_do(c, "compat_lim", NULL, text, over_packet, &size, &rc);
    printf("do over a packet: %s result=%s\n", RC(rc), r ? "set" : "NULL");
    printf("client after the calls: echo=%s\n", RC(gearman_client_echo(c, text, strlen(text))));
    gearman_client_free(c);

    gearman_worker_st *w = gearman_worker_create(NULL);
    worker_calls(w, "no servers");
    gearman_worker_add_server(w, host, port);
    worker_calls(w, "server");
    printf("worker after the calls: echo=%s\n", RC(gearman_worker_echo(w, text, strlen(text))));
    gearman_worker_free(w);
}

static void ours(const char *host, in_port_t port)
{
    gearman_client_st *c = gearman_client_create(NULL);
    gearman_client_add_server(c, host, port);
    gearman_return_t rc;
    gearman_task_st *t = gearman_client_add_task(c, NULL, NULL, "compat_lim", NULL, text, over_packet, &rc);
    printf("add_task over a packet: %s task=%s\n", RC(rc), t ? "set" : "NULL");
    gearman_argument_t arg = gearman_argument_make(NULL, 0, text, over_packet);
    t = gearman_execute(c, "compat_lim", 10, NULL, 0, NULL, &arg, NULL);
    printf("execute over a packet: task=%s code=%s\n", t ? "set" : "NULL",
           RC(gearman_client_error_code(c)));
    t = gearman_execute(c, text, over_echo, NULL, 0, NULL, NULL, NULL);
    printf("execute function name over limit: task=%s code=%s\n", t ? "set" : "NULL",
           RC(gearman_client_error_code(c)));
    gearman_job_handle_t handle;
    rc = gearman_client_do_background(c, "compat_lim_job", NULL, "x", 1, handle);
    printf("do_background: %s\n", RC(rc));

    gearman_worker_st *w = gearman_worker_create(NULL);
    gearman_worker_add_server(w, host, port);
    gearman_worker_register(w, "compat_lim_job", 0);
    gearman_job_st *job = NULL;
    for (int i = 0; i < 200 && job == NULL; i++) {
        job = gearman_worker_grab_job(w, NULL, &rc);
        if (job == NULL)
            usleep(10000);
    }
    if (job == NULL) {
        printf("no job: %s\n", RC(rc));
    } else {
        printf("job send_data over a packet: %s\n", RC(gearman_job_send_data(job, text, over_packet)));
        printf("job send_warning over a packet: %s\n",
               RC(gearman_job_send_warning(job, text, over_packet)));
        printf("job send_exception over a packet: %s\n",
               RC(gearman_job_send_exception(job, text, over_packet)));
        printf("job send_complete over a packet: %s\n",
               RC(gearman_job_send_complete(job, text, over_packet)));
        printf("job send_complete: %s\n", RC(gearman_job_send_complete(job, "ok", 2)));
        gearman_job_free(job);
    }
    gearman_worker_free(w);
    gearman_client_free(c);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s HOST PORT common|ours\n", argv[0]);
        return 64;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    alarm(60);
    in_port_t port = (in_port_t)atoi(argv[2]);
    if (strcmp(argv[3], "ours") == 0)
        ours(argv[1], port);
    else
        common(argv[1], port);
    return 0;
}
