/*
 * load.c - the kit's load generator, built on the kit: `ab -r -n N -c C`
 * in a greenlet per client.
 *
 *   load --host H --port P -n TOTAL -c CONCURRENCY [--timeout S] [--hold [S]]
 *
 * CONCURRENCY client greenlets share TOTAL requests: each connects, sends
 * "GET / HTTP/1.0", reads the reply until the server closes, checks the
 * status line, and takes the next request.  --timeout S bounds each
 * request (default 10 s).  --hold first opens CONCURRENCY connections and
 * holds them all open at once for S seconds (default 1) before any of them
 * sends its request: the server then has CONCURRENCY connections (threads,
 * greenlets) alive at the same time, which is when to weigh its memory.
 * Prints total time, requests/s, failures by reason, and latencies.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "green.h"
#include "sync.h"

enum reason { OK, REFUSED, RESET, TIMEOUT, BAD_REPLY, OTHER, N_REASONS };
static const char *reason_name[N_REASONS] =
    { "ok", "refused", "reset", "timeout", "bad reply", "other" };

static struct addrinfo *server;   /* resolved once, for every client */
static int total, handed_out, done, failed[N_REASONS];
static double timeout = 10.0, *latency;
static int hold, held, hold_failed;
static green_event_t *go;         /* --hold: set when every client has connected */

static enum reason reason_of(int err)
{
    switch (err) {
    case ECONNREFUSED: return REFUSED;
    case ECONNRESET: case EPIPE: return RESET;
    case ETIMEDOUT: return TIMEOUT;
    default: return OTHER;
    }
}

/* The time left until deadline, as a timeout (never negative: for the
 * library a negative timeout means "no timeout"). */
static double left(double deadline)
{
    double t = deadline - green_now();
    return t > 0 ? t : 0;
}

static int open_connection(double deadline, enum reason *why)
{
    int fd = green_socket(server->ai_family, SOCK_STREAM, 0);
    if (fd >= 0 && green_connect(fd, server->ai_addr, server->ai_addrlen,
                                 left(deadline)) == 0)
        return fd;
    *why = reason_of(errno);
    if (fd >= 0)
        green_close(fd);
    return -1;
}

/* Send the request on fd (connected) and read the reply until the server
 * closes.  Closes fd. */
static enum reason exchange(int fd, double deadline)
{
    static const char request[] = "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    char head[32] = "", buf[1024];
    size_t have = 0;
    ssize_t n = green_sendall(fd, request, sizeof request - 1, left(deadline));
    while (n >= 0 && (n = green_recv(fd, buf, sizeof buf, left(deadline))) > 0) {
        size_t keep = (size_t)n < sizeof head - 1 - have ? (size_t)n : sizeof head - 1 - have;
        memcpy(head + have, buf, keep);          /* the status line's start */
        have += keep;
    }
    enum reason why = n < 0 ? reason_of(errno) : OK;
    green_close(fd);
    if (why == OK && strncmp(head, "HTTP/1.0 200", 12) != 0
        && strncmp(head, "HTTP/1.1 200", 12) != 0)
        why = BAD_REPLY;
    return why;
}

/* One request, on fd if a connection is open already (--hold), else on a
 * new one (why: the reason that connection failed to open, or OK).  Notes
 * its latency or the reason it failed. */
static void one_request(int fd, enum reason why)
{
    double start = green_now(), deadline = start + timeout;
    if (fd < 0 && why == OK)
        fd = open_connection(deadline, &why);
    if (fd >= 0)
        why = exchange(fd, deadline);
    if (why == OK)
        latency[done++] = green_now() - start;
    else
        failed[why]++;
}

static void *client(void *unused)
{
    (void)unused;
    int fd = -1;
    enum reason why = OK;
    if (hold) {                   /* connect, then wait for everybody */
        fd = open_connection(green_now() + timeout, &why);
        if (fd >= 0)
            held++;
        else
            hold_failed++;
        green_event_wait(go, GREEN_FOREVER);
    }
    while (handed_out < total) {  /* every client takes at least one */
        handed_out++;
        one_request(fd, why);
        fd = -1;                  /* the next request opens its own */
        why = OK;
    }
    return NULL;
}

/* Raise the soft limit on file descriptors to the hard one: each client
 * connection is one, and the usual soft limit is 1024. */
static long raise_fd_limit(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0)
        return -1;
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
    getrlimit(RLIMIT_NOFILE, &r);
    return (long)r.rlim_cur;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(double took)
{
    int nfailed = total - done;
    printf("total time      %.3f s\n", took);
    printf("requests/s      %.1f\n", done / took);
    printf("failed          %d  (", nfailed);
    for (int r = REFUSED; r < N_REASONS; r++)
        printf("%s%s %d", r > REFUSED ? ", " : "", reason_name[r], failed[r]);
    printf(")\n");
    if (done > 0) {
        qsort(latency, done, sizeof *latency, by_value);
        printf("latency         min %.1f ms, median %.1f ms, max %.1f ms\n",
               latency[0] * 1e3, latency[done / 2] * 1e3, latency[done - 1] * 1e3);
    }
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *port = "8080";
    int clients = 1;
    double hold_time = 1.0;
    total = 1;
    for (int i = 1; i < argc; i++) {
        const char *next = i + 1 < argc ? argv[i + 1] : "";
        if (strcmp(argv[i], "--host") == 0) host = argv[++i];
        else if (strcmp(argv[i], "--port") == 0) port = argv[++i];
        else if (strcmp(argv[i], "-n") == 0) total = atoi(argv[++i]);
        else if (strcmp(argv[i], "-c") == 0) clients = atoi(argv[++i]);
        else if (strcmp(argv[i], "--timeout") == 0) timeout = atof(argv[++i]);
        else if (strcmp(argv[i], "--hold") == 0) {
            hold = 1;
            if (atof(next) > 0) hold_time = atof(argv[++i]);
        } else {
            fprintf(stderr, "usage: load --host H --port P -n TOTAL -c CONCURRENCY "
                            "[--timeout S] [--hold [S]]\n");
            return 2;
        }
    }
    if (clients > total)
        clients = total;
    long fds = raise_fd_limit();
    if (fds < clients + 16L) {
        fprintf(stderr, "load: %d clients need %d file descriptors, RLIMIT_NOFILE allows %ld "
                        "(its hard limit; raise it as root: ulimit -Hn)\n", clients, clients + 16, fds);
        return 2;
    }
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
    if (getaddrinfo(host, port, &hints, &server) != 0) {
        fprintf(stderr, "load: cannot resolve %s:%s\n", host, port);
        return 2;
    }
    latency = calloc(total, sizeof *latency);
    green_t **g = calloc(clients, sizeof *g);
    go = green_event_new();

    printf("load: %d requests, %d clients, http://%s:%s/\n", total, clients, host, port);
    double start = green_now();
    for (int i = 0; i < clients; i++)
        g[i] = green_spawn(client, NULL);
    if (hold) {
        while (held + hold_failed < clients)     /* let them all connect */
            green_sleep(0.01);
        printf("holding %d connections open at once (%d failed to connect), "
               "connected in %.2f s\n", held, hold_failed, green_now() - start);
        fflush(stdout);                          /* the moment to weigh the server */
        green_sleep(hold_time);
        start = green_now();
        green_event_set(go);
    }
    green_joinall(g, clients, GREEN_FOREVER);
    report(green_now() - start);

    for (int i = 0; i < clients; i++)
        green_free(g[i]);
    green_event_free(go);
    free(g);
    free(latency);
    freeaddrinfo(server);
    green_hub_destroy();
    return done == total ? 0 : 1;
}
