/* Shared helpers of the differential C test programs.
 *
 * Every program prints only what must be identical between libgearman 1.1.20 + gearmand
 * 1.1.20 and the project's library + server: return-code names (gearman_strerror), sizes,
 * payloads, and masked values. Job handles, UUIDs, pids and the file:line parts of error
 * messages differ between runs or implementations and are never printed as such.
 *
 * A program that needs a worker forks one (spawn_worker). The worker child never writes to
 * stdout: it logs to a pipe, and the parent prints that log after the worker has stopped,
 * so the output does not depend on how the two processes interleave.
 *
 * Usage of every program: PROGRAM host port [dead_port]
 *   dead_port: a port on which nothing listens (for connection errors).
 */
#ifndef CPROG_H
#define CPROG_H

#include <libgearman-1.0/gearman.h>

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define P(...) printf(__VA_ARGS__)
#define RC(rc) gearman_strerror(rc)

static const char *g_host = "127.0.0.1";
static in_port_t g_port = 0;
static in_port_t g_dead_port = 0;

/* Parses "host port [dead_port]", arms a watchdog, and makes stdout unbuffered. */
static inline void cprog_init(int argc, char **argv, int watchdog_seconds)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s host port [dead_port]\n", argv[0]);
        exit(64);
    }
    g_host = argv[1];
    g_port = (in_port_t)atoi(argv[2]);
    if (argc > 3)
        g_dead_port = (in_port_t)atoi(argv[3]);
    setvbuf(stdout, NULL, _IONBF, 0);
    alarm((unsigned)watchdog_seconds); /* a hang becomes a failure (SIGALRM), not a stuck test */
}

static inline void fail(const char *what)
{
    fprintf(stderr, "FATAL: %s\n", what);
    exit(2);
}

/* The GEARMAN_* token of an error string.
 * 1.1.20 formats messages as "<func>(<GEARMAN_CODE>) <detail> -> <file>:<line>: pid(<pid>)",
 * or as a bare "GEARMAN_CODE" (codes recorded without a message, and UNKNOWN_STATE after a
 * successful call). Only the code is a contract; "(null)" stands for a NULL string. */
static inline const char *err_token(const char *msg)
{
    static char buf[128];
    if (msg == NULL)
        return "(null)";
    const char *start = strstr(msg, "GEARMAN_");
    if (start == NULL) {
        snprintf(buf, sizeof buf, "<message without code, %s>", msg[0] ? "non-empty" : "empty");
        return buf;
    }
    size_t n = 0;
    while (start[n] && (isupper((unsigned char)start[n]) || start[n] == '_'))
        n++;
    if (n >= sizeof buf)
        n = sizeof buf - 1;
    memcpy(buf, start, n);
    buf[n] = '\0';
    return buf;
}

/* A job handle reduced to what is comparable: "set" when non-empty. */
static inline const char *handle_mask(const char *h)
{
    return (h && h[0]) ? "<handle>" : "<empty>";
}

/* "uuid" when s looks like a libuuid string (8-4-4-4-12 lowercase hex), else the string. */
static inline const char *unique_mask(const char *s)
{
    if (s == NULL)
        return "(null)";
    if (strlen(s) == 36) {
        int ok = 1;
        for (int i = 0; i < 36 && ok; i++) {
            if (i == 8 || i == 13 || i == 18 || i == 23)
                ok = s[i] == '-';
            else
                ok = isxdigit((unsigned char)s[i]) && !isupper((unsigned char)s[i]);
        }
        if (ok)
            return "<uuid>";
    }
    return s;
}

/* Bytes as text, with \0, \\ and other non-printables escaped as \xNN (two rotating
 * buffers, so two calls may appear in one printf). */
static inline const char *esc(const void *data, size_t size)
{
    static char bufs[2][1024];
    static int which = 0;
    char *out = bufs[which];
    which ^= 1;
    const unsigned char *p = data;
    size_t o = 0;
    if (p == NULL)
        return "(null)";
    for (size_t i = 0; i < size && o + 5 < sizeof bufs[0]; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
            out[o++] = (char)p[i];
        else
            o += (size_t)snprintf(out + o, 5, "\\x%02x", p[i]);
    }
    out[o] = '\0';
    return out;
}

static inline void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

/* A client connected to the test server (no I/O yet). */
static inline gearman_client_st *new_client(int timeout_ms)
{
    gearman_client_st *c = gearman_client_create(NULL);
    if (c == NULL)
        fail("gearman_client_create");
    if (gearman_failed(gearman_client_add_server(c, g_host, g_port)))
        fail("gearman_client_add_server");
    gearman_client_set_timeout(c, timeout_ms);
    return c;
}

/* ---------------------------------------------------------------- forked worker -------- */

static int g_log_fd = -1;  /* child: write end of the log pipe */
static int g_gate_fd = -1; /* child: read end of the gate pipe */
static pid_t g_worker_pid = -1;
static int g_log_read = -1;   /* parent */
static int g_gate_write = -1; /* parent */

/* Worker side: append a line to the log the parent prints at the end. */
static inline void wlog(const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof buf)
        n = (int)sizeof buf - 1;
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(g_log_fd, p, (size_t)n);
        if (w <= 0)
            _exit(3);
        p += w;
        n -= (int)w;
    }
}

/* Worker side: block until the parent calls gate_open(). */
static inline void gate_wait(void)
{
    char b;
    if (read(g_gate_fd, &b, 1) != 1)
        _exit(3);
}

/* Parent side: let one gate_wait() of the worker return. */
static inline void gate_open(void)
{
    if (write(g_gate_write, "g", 1) != 1)
        fail("gate write");
}

static int g_quit = 0; /* worker: set by the "cprog_quit" job */

static inline void *quit_fn(gearman_job_st *job, void *ctx, size_t *size, gearman_return_t *ret)
{
    g_quit = 1;
    (void)job;
    (void)ctx;
    *size = 0;
    *ret = GEARMAN_SHUTDOWN; /* completes the job, and work() returns GEARMAN_SHUTDOWN */
    return NULL;
}

typedef void (*worker_setup_fn)(gearman_worker_st *w);

/* Forks a worker that registers "cprog_quit" plus what `setup` adds, then logs the result
 * (and the worker's error token) of every gearman_worker_work() call until the
 * "cprog_quit" job has run. */
static inline void spawn_worker(worker_setup_fn setup)
{
    int logp[2], gatep[2];
    if (pipe(logp) != 0 || pipe(gatep) != 0)
        fail("pipe");
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        fail("fork");
    if (pid == 0) {
        /* Never outlive the parent (it may die on its watchdog): the test driver reads the
         * shared stdout pipe to its end. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1)
            _exit(6);
        alarm(120);
        close(logp[0]);
        close(gatep[1]);
        g_log_fd = logp[1];
        g_gate_fd = gatep[0];
        gearman_worker_st *w = gearman_worker_create(NULL);
        if (w == NULL || gearman_failed(gearman_worker_add_server(w, g_host, g_port)))
            _exit(4);
        if (gearman_failed(gearman_worker_add_function(w, "cprog_quit", 0, quit_fn, NULL)))
            _exit(4);
        setup(w);
        for (int i = 0; i < 1000; i++) {
            gearman_return_t rc = gearman_worker_work(w);
            wlog("work -> %s err=%s\n", RC(rc), err_token(gearman_worker_error(w)));
            if (g_quit || rc == GEARMAN_COULD_NOT_CONNECT
                || rc == GEARMAN_NO_SERVERS || rc == GEARMAN_NO_REGISTERED_FUNCTIONS)
                break;
        }
        gearman_worker_free(w);
        _exit(0);
    }
    close(logp[1]);
    close(gatep[0]);
    g_worker_pid = pid;
    g_log_read = logp[0];
    g_gate_write = gatep[1];
}

/* Stops the worker through "cprog_quit" (low priority, so queued jobs of any priority run
 * first), waits for it and prints its log. */
static inline void stop_worker(void)
{
    gearman_client_st *c = new_client(10000);
    gearman_return_t rc;
    size_t size;
    void *r = gearman_client_do_low(c, "cprog_quit", NULL, "q", 1, &size, &rc);
    free(r);
    gearman_client_free(c);
    if (rc != GEARMAN_SUCCESS)
        P("stop_worker: quit job -> %s\n", RC(rc));
    int status = 0;
    if (waitpid(g_worker_pid, &status, 0) != g_worker_pid)
        fail("waitpid");
    P("--- worker log ---\n");
    char buf[4096];
    ssize_t n;
    while ((n = read(g_log_read, buf, sizeof buf)) > 0)
        fwrite(buf, 1, (size_t)n, stdout);
    P("--- worker exit %d ---\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    close(g_log_read);
    close(g_gate_write);
    g_worker_pid = -1;
}

/* Logs a job as the worker sees it (handle masked, unique masked). */
static inline void wlog_job(const char *tag, gearman_job_st *job)
{
    wlog("%s: function=%s unique=%s workload=\"%s\" (%zu) handle=%s\n", tag,
         gearman_job_function_name(job), unique_mask(gearman_job_unique(job)),
         esc(gearman_job_workload(job), gearman_job_workload_size(job)),
         gearman_job_workload_size(job), handle_mask(gearman_job_handle(job)));
}

/* Copies a workload into a NUL-terminated string. */
static inline char *workload_str(gearman_job_st *job)
{
    size_t n = gearman_job_workload_size(job);
    char *s = malloc(n + 1);
    if (s == NULL)
        _exit(5);
    if (n)
        memcpy(s, gearman_job_workload(job), n);
    s[n] = '\0';
    return s;
}

#endif
