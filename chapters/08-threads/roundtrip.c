/*
 * roundtrip.c - what does a green socket cost, next to a thread?  One echo
 * round trip over loopback TCP (64 bytes there and back), measured three
 * ways in one run (chapter 4's roundtrip.c has the first and the last):
 *
 *   blocking, one thread   the program writes on the client socket, reads it
 *                          on the server socket, writes it back and reads
 *                          the echo: four system calls, never a wait;
 *   blocking, two threads  an echo thread and a client thread, as in the
 *                          thread-per-connection server: each round trip
 *                          wakes the other thread twice;
 *   green                  an echo greenlet and the main greenlet on one
 *                          hub: whoever waits (green_recv) lets the other run.
 */
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "green.h"

#define ROUNDS 20000
#define TRIES 5
#define SIZE 64

/* A connected pair of blocking loopback TCP sockets: client and server. */
static void tcp_pair(int fds[2])
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (l < 0 || bind(l, (struct sockaddr *)&a, len) != 0 || listen(l, 1) != 0
        || getsockname(l, (struct sockaddr *)&a, &len) != 0
        || (fds[0] = socket(AF_INET, SOCK_STREAM, 0)) < 0
        || connect(fds[0], (struct sockaddr *)&a, len) != 0
        || (fds[1] = accept(l, NULL, NULL)) < 0) {
        perror("roundtrip: loopback connection");
        exit(1);
    }
    close(l);
    for (int i = 0; i < 2; i++)   /* no Nagle delay: each message leaves at once */
        setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Read exactly n bytes from a blocking socket. */
static void read_all(int fd, char *buf, size_t n)
{
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0) { perror("roundtrip: read"); exit(1); }
        got += (size_t)r;
    }
}

static double one_thread(int c, int s)
{
    char buf[SIZE] = "ping";
    double t0 = green_now();
    for (int i = 0; i < ROUNDS; i++) {
        write(c, buf, SIZE);
        read_all(s, buf, SIZE);
        write(s, buf, SIZE);
        read_all(c, buf, SIZE);
    }
    return green_now() - t0;
}

/* The echo side, for the two-thread and the green versions. */
static void *echo_thread(void *arg)
{
    int s = *(int *)arg;
    char buf[SIZE];
    for (int i = 0; i < ROUNDS; i++) {
        read_all(s, buf, SIZE);
        write(s, buf, SIZE);
    }
    return NULL;
}

static void *echo_greenlet(void *arg)
{
    int s = *(int *)arg;
    char buf[SIZE];
    for (int i = 0; i < ROUNDS; i++) {
        for (size_t got = 0; got < SIZE;) {
            ssize_t r = green_recv(s, buf + got, SIZE - got, GREEN_FOREVER);
            if (r <= 0) return NULL;
            got += (size_t)r;
        }
        green_sendall(s, buf, SIZE, GREEN_FOREVER);
    }
    return NULL;
}

static double two_threads(int c, int s)
{
    char buf[SIZE] = "ping";
    pthread_t t;
    pthread_create(&t, NULL, echo_thread, &s);
    double t0 = green_now();
    for (int i = 0; i < ROUNDS; i++) {
        write(c, buf, SIZE);
        read_all(c, buf, SIZE);
    }
    double took = green_now() - t0;
    pthread_join(t, NULL);
    return took;
}

static double green(int c, int s)
{
    char buf[SIZE] = "ping";
    green_fd_nonblock(c);
    green_fd_nonblock(s);
    green_t *g = green_spawn(echo_greenlet, &s);
    double t0 = green_now();
    for (int i = 0; i < ROUNDS; i++) {
        green_sendall(c, buf, SIZE, GREEN_FOREVER);
        for (size_t got = 0; got < SIZE;) {
            ssize_t r = green_recv(c, buf + got, SIZE - got, GREEN_FOREVER);
            if (r <= 0) { perror("roundtrip: green_recv"); exit(1); }
            got += (size_t)r;
        }
    }
    double took = green_now() - t0;
    green_join(g, GREEN_FOREVER);
    green_free(g);
    return took;
}

/* Microseconds per round trip for one run of `way` on a fresh connection. */
static double run(double (*way)(int, int))
{
    int fds[2];
    tcp_pair(fds);
    double t = way(fds[0], fds[1]);
    close(fds[0]);
    close(fds[1]);
    return t / ROUNDS * 1e6;
}

int main(void)
{
    /* The three ways take turns, TRIES times, and each keeps its best run:
     * whatever else the machine is doing disturbs them all alike. */
    double one = 1e9, two = 1e9, gr = 1e9;
    for (int i = 0; i < TRIES; i++) {
        one = fmin(one, run(one_thread));
        two = fmin(two, run(two_threads));
        gr = fmin(gr, run(green));
    }
    printf("echo round trip over loopback TCP, %d bytes, best of %d x %d:\n",
           SIZE, TRIES, ROUNDS);
    printf("  blocking sockets, one thread    %6.1f us\n", one);
    printf("  blocking sockets, two threads   %6.1f us\n", two);
    printf("  green sockets, one hub          %6.1f us   (%.2fx one thread, %.2fx two threads)\n",
           gr, gr / one, gr / two);
    green_hub_destroy();
    return 0;
}
