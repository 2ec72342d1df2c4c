/* The workload allocator is used as libgearman 1.1.20 uses it: driven from
 * tests/capi_compat.rs with 1.1.20 and with ours, against the same server.
 *
 * Bindings install their own allocator (PHP: emalloc/efree, Perl: safemalloc/Safefree) and
 * rely on which buffers go through it. This program installs counting malloc/free (and, in
 * mode "allocators", realloc/calloc through gearman_*_set_memory_allocators; in mode "workload"
 * through gearman_*_set_workload_malloc_fn / _free_fn) on a client and on workers, and prints
 * how many calls each operation makes, with the sizes asked for:
 *   client: do (one payload, and data + warning + complete), add_task + run_tasks with and
 *   without gearman_task_take_data, background submissions;
 *   worker: v1 jobs (a result, a NULL result, a failed job, which 1.1.20 keeps until the next
 *   work()), a v2 job sending data, warning, status and complete, take_workload, and a job
 *   from gearman_worker_grab_job.
 * The forked worker logs through a pipe; its log is printed once it has stopped.
 *
 * Usage: compat_allocators HOST PORT workload|allocators */
#include <libgearman-1.0/gearman.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define RC(x) gearman_strerror(x)

static int mallocs, frees, reallocs, callocs;
static char sizes[256];

static void note_size(size_t size)
{
    size_t n = strlen(sizes);
    if (n + 24 < sizeof sizes)
        snprintf(sizes + n, sizeof sizes - n, "%s%zu", n ? "," : "", size);
}

static void *count_malloc(size_t size, void *context)
{
    (void)context;
    mallocs++;
    note_size(size);
    return malloc(size ? size : 1);
}

static void count_free(void *ptr, void *context)
{
    (void)context;
    frees++;
    free(ptr);
}

static void *count_realloc(void *ptr, size_t size, void *context)
{
    (void)context;
    reallocs++;
    return realloc(ptr, size ? size : 1);
}

static void *count_calloc(size_t n, size_t size, void *context)
{
    (void)context;
    callocs++;
    return calloc(n ? n : 1, size ? size : 1);
}

/* "malloc=N free=N realloc=N calloc=N sizes=[...]", then the counters restart. */
static const char *counts(void)
{
    static char line[512];
    snprintf(line, sizeof line, "malloc=%d free=%d realloc=%d calloc=%d sizes=[%s]", mallocs,
             frees, reallocs, callocs, sizes);
    mallocs = frees = reallocs = callocs = 0;
    sizes[0] = '\0';
    return line;
}

static int use_allocators;

static void install_client(gearman_client_st *c)
{
    if (use_allocators) {
        gearman_client_set_memory_allocators(c, count_malloc, count_free, count_realloc,
                                             count_calloc, NULL);
    } else {
        gearman_client_set_workload_malloc_fn(c, count_malloc, NULL);
        gearman_client_set_workload_free_fn(c, count_free, NULL);
    }
}

static void install_worker(gearman_worker_st *w)
{
    if (use_allocators) {
        gearman_worker_set_memory_allocators(w, count_malloc, count_free, count_realloc,
                                             count_calloc, NULL);
    } else {
        gearman_worker_set_workload_malloc_fn(w, count_malloc, NULL);
        gearman_worker_set_workload_free_fn(w, count_free, NULL);
    }
}

/* ------------------------------------------------------------------ forked worker ------- */

static int log_fd = -1;
static int quit = 0;

static void wlog(const char *text)
{
    size_t n = strlen(text);
    if (write(log_fd, text, n) != (ssize_t)n)
        _exit(3);
}

static void *v1_copy(gearman_job_st *job, void *ctx, size_t *size, gearman_return_t *ret)
{
    (void)ctx;
    *size = gearman_job_workload_size(job);
    *ret = GEARMAN_SUCCESS;
    char *r = malloc(*size + 1); /* released by the library through the free function */
    memcpy(r, gearman_job_workload(job), *size);
    return r;
}

static void *v1_null(gearman_job_st *job, void *ctx, size_t *size, gearman_return_t *ret)
{
    (void)job;
    (void)ctx;
    *size = 0;
    *ret = GEARMAN_SUCCESS;
    return NULL;
}

static void *v1_fail(gearman_job_st *job, void *ctx, size_t *size, gearman_return_t *ret)
{
    (void)job;
    (void)ctx;
    *size = 2;
    *ret = GEARMAN_WORK_FAIL;
    return strdup("no");
}

static void *v1_take(gearman_job_st *job, void *ctx, size_t *size, gearman_return_t *ret)
{
    (void)ctx;
    size_t n = 0;
    void *w = gearman_job_take_workload(job, &n);
    count_free(w, NULL); /* the caller's buffer now, from the installed malloc */
    *size = 0;
    *ret = GEARMAN_SUCCESS;
    return NULL;
}

static void *v1_quit(gearman_job_st *job, void *ctx, size_t *size, gearman_return_t *ret)
{
    (void)job;
    (void)ctx;
    quit = 1;
    *size = 0;
    *ret = GEARMAN_SHUTDOWN;
    return NULL;
}

static gearman_return_t v2_reports(gearman_job_st *job, void *ctx)
{
    (void)ctx;
    gearman_job_send_data(job, "d1", 2);
    gearman_job_send_warning(job, "w1", 2);
    gearman_job_send_status(job, 1, 2);
    gearman_job_send_data(job, NULL, 0);
    gearman_job_send_complete(job, "xyz", 3);
    return GEARMAN_SUCCESS;
}

static gearman_return_t v2_empty(gearman_job_st *job, void *ctx)
{
    (void)job;
    (void)ctx;
    return GEARMAN_SUCCESS; /* the library completes it with an empty result */
}

static void run_worker(const char *host, in_port_t port)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    alarm(60);
    gearman_worker_st *w = gearman_worker_create(NULL);
    gearman_worker_add_server(w, host, port);
    install_worker(w);
    gearman_worker_add_function(w, "alloc_v1", 0, v1_copy, NULL);
    gearman_worker_add_function(w, "alloc_v1_null", 0, v1_null, NULL);
    gearman_worker_add_function(w, "alloc_v1_fail", 0, v1_fail, NULL);
    gearman_worker_add_function(w, "alloc_take", 0, v1_take, NULL);
    gearman_worker_add_function(w, "alloc_quit", 0, v1_quit, NULL);
    gearman_worker_define_function(w, "alloc_v2", 8, gearman_function_create(v2_reports), 0, NULL);
    gearman_worker_define_function(w, "alloc_v2_empty", 14, gearman_function_create(v2_empty), 0,
                                   NULL);
    counts();
    char line[640];
    for (int i = 0; i < 100 && !quit; i++) {
        gearman_return_t rc = gearman_worker_work(w);
        snprintf(line, sizeof line, "work=%s %s\n", RC(rc), counts());
        wlog(line);
    }
    gearman_worker_free(w);
    snprintf(line, sizeof line, "worker free: %s\n", counts());
    wlog(line);
    _exit(0);
}

/* ------------------------------------------------------------------ client -------------- */

static gearman_return_t take_and_free(gearman_task_st *t)
{
    size_t n = 0;
    void *p = gearman_task_take_data(t, &n);
    if (p != NULL)
        count_free(p, NULL); /* from the installed malloc */
    return GEARMAN_SUCCESS;
}

static void do_job(gearman_client_st *c, const char *function, const char *workload)
{
    size_t size = 0;
    gearman_return_t rc;
    counts();
    char *r = gearman_client_do(c, function, NULL, workload, workload ? strlen(workload) : 0,
                                &size, &rc);
    printf("do %s: %s size=%zu: %s\n", function, RC(rc), size, counts());
    if (r != NULL)
        count_free(r, NULL); /* from the installed malloc (size + 1) */
    counts();
}

static void task_run(gearman_client_st *c, const char *label, const char *function, bool background)
{
    gearman_return_t rc;
    counts();
    gearman_task_st *t = background
        ? gearman_client_add_task_background(c, NULL, NULL, function, NULL, "hello", 5, &rc)
        : gearman_client_add_task(c, NULL, NULL, function, NULL, "hello", 5, &rc);
    printf("%s add_task: %s %s\n", label, RC(rc), counts());
    rc = gearman_client_run_tasks(c);
    printf("%s run_tasks: %s %s\n", label, RC(rc), counts());
    gearman_task_free(t);
    printf("%s task_free: %s\n", label, counts());
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s HOST PORT workload|allocators\n", argv[0]);
        return 64;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    alarm(60);
    const char *host = argv[1];
    in_port_t port = (in_port_t)atoi(argv[2]);
    use_allocators = strcmp(argv[3], "allocators") == 0;
    int logp[2];
    if (pipe(logp) != 0)
        return 2;
    pid_t pid = fork();
    if (pid == 0) {
        close(logp[0]);
        log_fd = logp[1];
        run_worker(host, port);
    }
    close(logp[1]);

    gearman_client_st *c = gearman_client_create(NULL);
    gearman_client_add_server(c, host, port);
    gearman_client_set_timeout(c, 20000);
    install_client(c);
    printf("client setup: %s\n", counts());

    do_job(c, "alloc_v1", "hello");
    do_job(c, "alloc_v1_null", "hello");
    do_job(c, "alloc_v1_fail", "x");
    do_job(c, "alloc_v2", "hello");
    do_job(c, "alloc_v2_empty", NULL);
    do_job(c, "alloc_take", "take me");
    task_run(c, "plain", "alloc_v2", false);
    gearman_client_set_data_fn(c, take_and_free);
    gearman_client_set_complete_fn(c, take_and_free);
    task_run(c, "take_data", "alloc_v2", false);
    gearman_client_clear_fn(c);
    task_run(c, "background", "alloc_grab", true);
    gearman_job_handle_t handle;
    counts();
    gearman_return_t rc = gearman_client_do_background(c, "alloc_grab", NULL, "hello", 5, handle);
    printf("do_background: %s %s\n", RC(rc), counts());

    /* Two background jobs for a worker in this process: grab_job, take_workload. */
    gearman_worker_st *w = gearman_worker_create(NULL);
    gearman_worker_add_server(w, host, port);
    install_worker(w);
    gearman_worker_register(w, "alloc_grab", 0);
    for (int n = 0; n < 2; n++) {
        gearman_job_st *job = NULL;
        for (int i = 0; i < 200 && job == NULL; i++) {
            job = gearman_worker_grab_job(w, NULL, &rc);
            if (job == NULL)
                usleep(10000);
        }
        printf("grab_job %d: %s %s\n", n, job ? "job" : RC(rc), counts());
        if (job == NULL)
            break;
        if (n == 1) {
            size_t size = 0;
            void *p = gearman_job_take_workload(job, &size);
            printf("take_workload: size=%zu %s\n", size, counts());
            count_free(p, NULL);
        }
        gearman_job_send_complete(job, "ok", 2);
        printf("send_complete: %s\n", counts());
        gearman_job_free(job);
        printf("job_free: %s\n", counts());
    }
    gearman_worker_free(w);
    printf("worker free: %s\n", counts());

    size_t size = 0;
    void *r = gearman_client_do_low(c, "alloc_quit", NULL, "q", 1, &size, &rc);
    free(r);
    int status = 0;
    waitpid(pid, &status, 0);
    gearman_client_free(c);
    counts();
    printf("--- worker log ---\n");
    char buf[4096];
    ssize_t n;
    while ((n = read(logp[0], buf, sizeof buf)) > 0)
        fwrite(buf, 1, (size_t)n, stdout);
    printf("--- worker exit %d ---\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}
