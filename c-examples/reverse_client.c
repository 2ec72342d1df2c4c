/* reverse_client: the client of Gearman's introduction.
 *
 * Sends a string to the "reverse" function with gearman_client_do() and prints the reply.
 * Usage: reverse_client [-h host] [-p port] [-t timeout_ms] text
 * Exit status: 0 on success, 1 on a usage error, 2 when the job failed.
 */
#include <libgearman-1.0/gearman.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-h host] [-p port] [-t timeout_ms] text\n", prog);
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    in_port_t port = GEARMAN_DEFAULT_TCP_PORT;
    int timeout = -1;
    int opt;
    while ((opt = getopt(argc, argv, "h:p:t:")) != -1) {
        switch (opt) {
        case 'h': host = optarg; break;
        case 'p': port = (in_port_t)atoi(optarg); break;
        case 't': timeout = atoi(optarg); break;
        default: usage(argv[0]); return 1;
        }
    }
    if (optind + 1 != argc) {
        usage(argv[0]);
        return 1;
    }
    const char *text = argv[optind];

    gearman_client_st *client = gearman_client_create(NULL);
    if (client == NULL) {
        fprintf(stderr, "gearman_client_create failed\n");
        return 2;
    }
    gearman_return_t rc = gearman_client_add_server(client, host, port);
    if (gearman_failed(rc)) {
        fprintf(stderr, "add_server: %s\n", gearman_client_error(client));
        gearman_client_free(client);
        return 2;
    }
    gearman_client_set_timeout(client, timeout);

    size_t result_size = 0;
    char *result = gearman_client_do(client, "reverse", NULL, text, strlen(text),
                                     &result_size, &rc);
    if (gearman_failed(rc)) {
        fprintf(stderr, "do: %s (%s)\n", gearman_strerror(rc), gearman_client_error(client));
        free(result);
        gearman_client_free(client);
        return 2;
    }
    printf("Result: %.*s\n", (int)result_size, result ? result : "");
    free(result); /* no allocator installed: the result comes from malloc() */
    gearman_client_free(client);
    return 0;
}
