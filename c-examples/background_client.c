/* background_client: submits a background job and polls its status.
 *
 * gearman_client_do_background() returns as soon as the server has queued the job; the
 * client then polls gearman_client_job_status() until the server no longer knows the job
 * (it was done) or the poll limit is reached.
 * Usage: background_client [-h host] [-p port] [-f function] [-n polls] [-i interval_ms] text
 * Exit status: 0 when the job finished, 1 on a usage error, 2 on an error, 3 when the job
 * was still known after the last poll.
 */
#include <libgearman-1.0/gearman.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    in_port_t port = GEARMAN_DEFAULT_TCP_PORT;
    const char *function = "reverse";
    int polls = 50;
    int interval_ms = 100;
    int opt;
    while ((opt = getopt(argc, argv, "h:p:f:n:i:")) != -1) {
        switch (opt) {
        case 'h': host = optarg; break;
        case 'p': port = (in_port_t)atoi(optarg); break;
        case 'f': function = optarg; break;
        case 'n': polls = atoi(optarg); break;
        case 'i': interval_ms = atoi(optarg); break;
        default: optind = argc + 1; break;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "usage: %s [-h host] [-p port] [-f function] [-n polls] [-i interval_ms] text\n",
                argv[0]);
        return 1;
    }
    const char *text = argv[optind];

    gearman_client_st *client = gearman_client_create(NULL);
    if (client == NULL || gearman_failed(gearman_client_add_server(client, host, port))) {
        fprintf(stderr, "setup failed: %s\n", client ? gearman_client_error(client) : "no memory");
        gearman_client_free(client);
        return 2;
    }

    gearman_job_handle_t handle;
    gearman_return_t rc = gearman_client_do_background(client, function, NULL, text, strlen(text),
                                                       handle);
    if (gearman_failed(rc)) {
        fprintf(stderr, "do_background: %s (%s)\n", gearman_strerror(rc),
                gearman_client_error(client));
        gearman_client_free(client);
        return 2;
    }
    printf("Background job queued: %s\n", handle);

    int status = 3;
    for (int i = 0; i < polls; i++) {
        bool known = false, running = false;
        uint32_t numerator = 0, denominator = 0;
        rc = gearman_client_job_status(client, handle, &known, &running, &numerator, &denominator);
        if (gearman_failed(rc)) {
            fprintf(stderr, "job_status: %s (%s)\n", gearman_strerror(rc),
                    gearman_client_error(client));
            status = 2;
            break;
        }
        printf("Status: known=%s running=%s %u/%u\n", known ? "yes" : "no", running ? "yes" : "no",
               numerator, denominator);
        if (!known) {
            printf("Job finished\n");
            status = 0;
            break;
        }
        usleep((useconds_t)interval_ms * 1000);
    }
    gearman_client_free(client);
    return status;
}
