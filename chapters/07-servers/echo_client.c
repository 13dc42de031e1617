/*
 * echo_client.c - N clients at once against the echo server, each one a
 * greenlet of this process: connect, send LINES lines one at a time, and
 * check that each comes back.
 *
 * Usage: echo_client HOST PORT N [LINES]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "green.h"
#include "pool.h"

static const char *host, *port;
static int lines = 10, echoes, failures;
static double slowest;          /* the longest a client took */

/* Read exactly n bytes: the echo may come back in pieces. */
static int recv_exactly(int fd, char *buf, size_t n)
{
    for (size_t got = 0; got < n; ) {
        ssize_t r = green_recv(fd, buf + got, n - got, 10.0);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static void *client(void *arg)
{
    int id = (int)(intptr_t)arg;
    double start = green_now();
    int fd = green_tcp_connect(host, port, 10.0);
    if (fd < 0) {
        failures++;
        return NULL;
    }
    for (int i = 0; i < lines; i++) {
        char msg[64], back[64];
        size_t len = (size_t)snprintf(msg, sizeof msg, "client %d line %d\n", id, i);
        if (green_sendall(fd, msg, len, 10.0) < 0 || recv_exactly(fd, back, len) < 0
            || memcmp(msg, back, len) != 0) {
            failures++;
            break;
        }
        echoes++;
    }
    close(fd);
    if (green_now() - start > slowest)
        slowest = green_now() - start;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: echo_client HOST PORT N [LINES]\n");
        return 2;
    }
    host = argv[1];
    port = argv[2];
    int n = atoi(argv[3]);
    if (argc > 4)
        lines = atoi(argv[4]);

    green_group_t *clients = green_group_new();
    double start = green_now();
    for (int i = 0; i < n; i++)
        green_group_spawn(clients, client, (void *)(intptr_t)i);
    green_group_join(clients, GREEN_FOREVER);
    printf("%d clients at once, %d lines each: %d echoes right, %d failure(s), "
           "%.2f s (slowest client %.2f s)\n",
           n, lines, echoes, failures, green_now() - start, slowest);
    green_group_free(clients);
    green_hub_destroy();
    return failures ? 1 : 0;
}
