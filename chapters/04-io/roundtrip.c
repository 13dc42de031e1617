/*
 * roundtrip.c - what does cooperation cost?  One byte goes back and forth
 * over a TCP connection on 127.0.0.1, N times, two ways:
 *
 *   blocking  plain blocking sockets, both ends driven in turn by one
 *             thread: write, read at the other end, write back, read.
 *             Four system calls: the floor.
 *   green     a server greenlet and a client greenlet, green_send and
 *             green_recv.  The same four calls, plus each side's read that
 *             fails with EAGAIN, the hub's epoll calls, and two switches.
 *
 * Usage: roundtrip [N]   (N round trips each way, default 10000)
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "green.h"

/* A connected pair of TCP sockets on 127.0.0.1 (non-blocking). */
static void tcp_pair(int *client, int *server)
{
    int listener = green_tcp_listen("127.0.0.1", "0", 1);
    char port[16];
    snprintf(port, sizeof port, "%d", green_socket_port(listener));
    *client = green_tcp_connect("127.0.0.1", port, 1.0);
    *server = green_accept(listener, NULL, NULL, 1.0);
    green_close(listener);
    int one = 1;                        /* send each byte at once */
    setsockopt(*client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(*server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void make_blocking(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
}

static double blocking_roundtrips(int n)
{
    int c, s;
    tcp_pair(&c, &s);
    make_blocking(c);
    make_blocking(s);
    char byte = 'x';
    double start = green_now();
    for (int i = 0; i < n; i++)         /* nothing here waits: each */
        if (write(c, &byte, 1) != 1     /* read finds its byte there */
            || read(s, &byte, 1) != 1 || write(s, &byte, 1) != 1
            || read(c, &byte, 1) != 1)
            break;
    double took = green_now() - start;
    close(c);
    close(s);
    return took;
}

static void *echo_byte(void *arg)       /* the server greenlet */
{
    int fd = *(int *)arg;
    char byte;
    while (green_recv(fd, &byte, 1, GREEN_FOREVER) == 1)
        green_send(fd, &byte, 1, GREEN_FOREVER);
    return NULL;
}

static double green_roundtrips(int n)
{
    int c, s;
    tcp_pair(&c, &s);
    green_t *server = green_spawn(echo_byte, &s);
    char byte = 'x';
    double start = green_now();
    for (int i = 0; i < n; i++) {       /* main is the client */
        green_send(c, &byte, 1, GREEN_FOREVER);
        green_recv(c, &byte, 1, GREEN_FOREVER);
    }
    double took = green_now() - start;
    green_close(c);                     /* the server reads 0 and returns */
    green_join(server, 1.0);
    green_free(server);
    green_close(s);
    return took;
}

/* The machine is shared and noisy: measure both ways in turn, five
 * times, and keep the median of each. */
static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    if (n < 1)
        n = 1;
    enum { RUNS = 5 };
    double b[RUNS], g[RUNS];
    blocking_roundtrips(n / 10 + 1);    /* warm up */
    for (int i = 0; i < RUNS; i++) {
        b[i] = blocking_roundtrips(n);
        g[i] = green_roundtrips(n);
    }
    qsort(b, RUNS, sizeof b[0], by_value);
    qsort(g, RUNS, sizeof g[0], by_value);
    double bm = b[RUNS / 2], gm = g[RUNS / 2];
    printf("%d round trips of one byte over 127.0.0.1 (median of %d runs):\n", n, RUNS);
    printf("  blocking sockets, one thread: %6.2f us each\n", bm / n * 1e6);
    printf("  green sockets, two greenlets: %6.2f us each (%.1fx)\n", gm / n * 1e6, gm / bm);
    green_hub_destroy();
    return 0;
}
