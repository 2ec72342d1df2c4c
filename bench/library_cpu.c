/* library_cpu: CPU time a libgearman.so.8 spends per job, in a client and in a worker.
 *
 *   library_cpu PORT worker N          runs N jobs of "cpu_echo", then prints its CPU time
 *   library_cpu PORT client N RATE     submits N foreground jobs (gearman_client_do), paced
 *                                      at RATE jobs/s (0: as fast as they complete), then
 *                                      prints its CPU time and the rate reached
 *   library_cpu PORT tasks N           N foreground jobs as add_task + run_tasks in batches
 *                                      of 1000 (pipelined), as fast as they complete
 *
 * Compiled against the libgearman-1.0 headers and linked by soname, so LD_LIBRARY_PATH picks
 * the library measured (bench/library_cpu.sh drives it). */
#include <libgearman-1.0/gearman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6
        + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static gearman_return_t echo(gearman_job_st *job, void *context)
{
    (void)context;
    return gearman_job_send_complete(job, gearman_job_workload(job),
                                     gearman_job_workload_size(job));
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s PORT worker N | PORT client N RATE\n", argv[0]);
        return 2;
    }
    in_port_t port = (in_port_t)atoi(argv[1]);
    long n = atol(argv[3]);
    if (strcmp(argv[2], "worker") == 0) {
        gearman_worker_st *w = gearman_worker_create(NULL);
        gearman_worker_add_server(w, "127.0.0.1", port);
        gearman_worker_define_function(w, "cpu_echo", 8, gearman_function_create(echo), 0, NULL);
        double c0 = 0;
        for (long i = 0; i < n; i++) {
            if (gearman_worker_work(w) != GEARMAN_SUCCESS) {
                fprintf(stderr, "work: %s\n", gearman_worker_error(w));
                return 1;
            }
            if (i == 0)
                c0 = cpu_us(); /* from the first job on: setup is not counted */
        }
        printf("worker jobs=%ld cpu_us_per_job=%.2f\n", n - 1, (cpu_us() - c0) / (double)(n - 1));
        gearman_worker_free(w);
        return 0;
    }
    double rate = argc > 4 ? atof(argv[4]) : 0;
    gearman_client_st *c = gearman_client_create(NULL);
    gearman_client_add_server(c, "127.0.0.1", port);
    char payload[16] = "0123456789abcdef";
    double t0 = now(), c0 = cpu_us();
    if (strcmp(argv[2], "tasks") == 0) {
        for (long done = 0; done < n; done += 1000) {
            for (long i = 0; i < 1000 && done + i < n; i++) {
                gearman_return_t rc;
                gearman_client_add_task(c, NULL, NULL, "cpu_echo", NULL, payload, sizeof payload, &rc);
            }
            if (gearman_client_run_tasks(c) != GEARMAN_SUCCESS) {
                fprintf(stderr, "run_tasks: %s\n", gearman_client_error(c));
                return 1;
            }
            gearman_client_task_free_all(c);
        }
        double dt = now() - t0;
        printf("tasks jobs=%ld rate=%.0f/s cpu_us_per_job=%.2f\n", n, (double)n / dt,
               (cpu_us() - c0) / (double)n);
        gearman_client_free(c);
        return 0;
    }
    for (long i = 0; i < n; i++) {
        if (rate > 0) {
            double due = t0 + (double)i / rate, left = due - now();
            if (left > 0) {
                struct timespec ts = { (time_t)left, (long)((left - (double)(time_t)left) * 1e9) };
                nanosleep(&ts, NULL);
            }
        }
        size_t size;
        gearman_return_t rc;
        void *r = gearman_client_do(c, "cpu_echo", NULL, payload, sizeof payload, &size, &rc);
        if (rc != GEARMAN_SUCCESS) {
            fprintf(stderr, "do: %s\n", gearman_client_error(c));
            return 1;
        }
        free(r);
    }
    double dt = now() - t0;
    printf("client jobs=%ld rate=%.0f/s cpu_us_per_job=%.2f\n", n, (double)n / dt,
           (cpu_us() - c0) / (double)n);
    gearman_client_free(c);
    return 0;
}
