/* fault_client: a client for the fault tests (tests/fault_*.rs).
 *
 * Usage: fault_client SERVERS FUNCTION COUNT TIMEOUT_MS PREFIX
 * Runs up to COUNT foreground jobs one after the other with gearman_client_do() (workload and
 * unique "PREFIX-i") on SERVERS, each after reading one line of stdin (so the test can break a
 * server between or during calls), and prints "job PREFIX-i <return code> <ms> <result>" per
 * job, then "end". SERVERS "-" leaves the servers to GEARMAN_SERVERS.
 */
#include <libgearman-1.0/gearman.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static long now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return tv.tv_sec * 1000L + tv.tv_usec / 1000;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s SERVERS FUNCTION COUNT TIMEOUT_MS PREFIX\n", argv[0]);
        return 1;
    }
    gearman_client_st *client = gearman_client_create(NULL);
    if (client == NULL) {
        return 2;
    }
    /* "-": the servers come from GEARMAN_SERVERS (read by gearman_client_create). */
    if (strcmp(argv[1], "-") != 0 && gearman_failed(gearman_client_add_servers(client, argv[1]))) {
        fprintf(stderr, "add_servers: %s\n", gearman_client_error(client));
        return 2;
    }
    gearman_client_set_timeout(client, atoi(argv[4]));
    int count = atoi(argv[3]);
    char line[64];
    for (int i = 0; i < count; i++) {
        if (fgets(line, sizeof line, stdin) == NULL) {
            break;
        }
        char id[128];
        snprintf(id, sizeof id, "%s-%d", argv[5], i);
        size_t size = 0;
        gearman_return_t rc;
        long started = now_ms();
        char *result = gearman_client_do(client, argv[2], id, id, strlen(id), &size, &rc);
        printf("job %s %s %ld %.*s\n", id, gearman_strerror(rc), now_ms() - started,
               result ? (int)size : 0, result ? result : "");
        fflush(stdout);
        free(result);
    }
    printf("end\n");
    fflush(stdout);
    gearman_client_free(client);
    return 0;
}
