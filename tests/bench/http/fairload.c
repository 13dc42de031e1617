/*
 * fairload.c - is the server fair?  How long a fresh "GET /" waits while
 * other clients keep the server busy with responses that never block.
 *
 *   fairload --host H --port P [--streams C] [--pipeline K] [--path PATH]
 *            [--seconds S] [--probes M] [--timeout T]
 *
 * C connections (default 0: the server idle) each send K pipelined
 * requests for PATH (default /stream?n=1000000; the last request says
 * Connection: close) and read everything as fast as they can, discarding
 * it: the client that never makes the server wait.  When the server
 * closes one, it is opened again, so the load lasts the whole run.
 * Meanwhile a second thread opens a fresh connection M times (default
 * 20), evenly over S seconds (default 2), each time sending
 * "GET / HTTP/1.1" with Connection: close and timing it from connect()
 * to the last byte of a 200 answer, at most T seconds (default 5).  A
 * probe due after S seconds is not started, so a server that keeps every
 * probe waiting gets fewer probes and the run still ends within S + T.
 *
 * It prints one line of key=value pairs, e.g.
 *   fairload: streams=1 pipeline=1 probes=20 answered=20 failed=0
 *   p50_ms=0.84 max_ms=2.10 streamed_mb=310.2 reconnects=23 not_200=0
 * (on one line): p50 and max are the probes' latencies, a failed probe
 * counting as T (so a median of T means most probes were not answered);
 * streamed_mb is what the C connections read meanwhile, so a run whose
 * load never flowed shows it, and not_200 counts the connections whose
 * answer was not a 200 (a server without /stream).  Exit status 0 when every probe was
 * answered.
 *
 * Plain POSIX sockets and a thread, not the kit's greenlets: the probe
 * must not itself wait behind the load in a hub, or the figure would
 * measure the client's fairness instead of the server's.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct addrinfo *server;
static const char *path = "/stream?n=1000000";
static int n_streams, pipeline = 1, n_probes = 20;
static double seconds = 2.0, timeout = 5.0;
static atomic_int stop;                 /* set by the prober when done */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "fairload: %s: %s\n", what, strerror(errno));
    exit(2);
}

/* ---- The load: C connections that read as fast as the server sends ---- */

struct stream {
    int fd;
    size_t sent;                        /* bytes of the request sent */
    size_t got;                         /* bytes of head[] read */
    char head[13];                      /* "HTTP/1.1 200": what came first */
};
static char request[8192];
static size_t request_len;
static long long streamed;              /* bytes read by every stream */
static long reconnects;
static long refused;                    /* connections whose answer was no 200 */

/* K requests in one buffer: the server finds the next one already
 * buffered when a response ends, so no read ever waits between them. */
static void build_request(void)
{
    for (int i = 0; i < pipeline; i++) {
        int n = snprintf(request + request_len, sizeof request - request_len,
                         "GET %s HTTP/1.1\r\nHost: fairload\r\n%s\r\n", path,
                         i == pipeline - 1 ? "Connection: close\r\n" : "");
        if (n < 0 || (size_t)n >= sizeof request - request_len) {
            fprintf(stderr, "fairload: --pipeline %d x %s is too long\n", pipeline, path);
            exit(2);
        }
        request_len += (size_t)n;
    }
}

static void stream_open(struct stream *s)
{
    s->fd = socket(server->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (s->fd < 0)
        die("socket");
    if (connect(s->fd, server->ai_addr, server->ai_addrlen) < 0 && errno != EINPROGRESS)
        die("connect (load)");
    s->sent = 0;
    s->got = 0;
}

/* The answer's first line must be a 200, or the load was 404s. */
static int is_200(const char *head)
{
    return strncmp(head, "HTTP/1.", 7) == 0 && strncmp(head + 8, " 200", 4) == 0;
}

/* One step of a stream: send what is left of its requests, read what
 * came, and start over when the server has closed it. */
static void stream_step(struct stream *s, short revents)
{
    static char sink[1 << 18];
    if (s->sent < request_len && (revents & POLLOUT)) {
        ssize_t n = send(s->fd, request + s->sent, request_len - s->sent, MSG_NOSIGNAL);
        if (n > 0)
            s->sent += (size_t)n;
    }
    if (!(revents & (POLLIN | POLLHUP | POLLERR)))
        return;
    ssize_t n = recv(s->fd, sink, sizeof sink, 0);
    if (n > 0) {
        streamed += n;
        for (ssize_t i = 0; i < n && s->got < sizeof s->head - 1; i++)
            s->head[s->got++] = sink[i];
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        close(s->fd);                   /* the end of its responses (or an error) */
        s->head[s->got] = '\0';
        refused += !is_200(s->head);
        reconnects++;
        stream_open(s);
    }
}

static void run_load(void)
{
    struct stream *s = calloc((size_t)n_streams, sizeof *s);
    struct pollfd *p = calloc((size_t)n_streams, sizeof *p);
    if (s == NULL || p == NULL)
        die("calloc");
    for (int i = 0; i < n_streams; i++)
        stream_open(&s[i]);
    while (!atomic_load(&stop)) {
        for (int i = 0; i < n_streams; i++)
            p[i] = (struct pollfd){ s[i].fd, s[i].sent < request_len ? POLLIN | POLLOUT : POLLIN, 0 };
        if (poll(p, (nfds_t)n_streams, 50) < 0 && errno != EINTR)
            die("poll");
        for (int i = 0; i < n_streams; i++)
            if (p[i].revents)
                stream_step(&s[i], p[i].revents);
    }
    for (int i = 0; i < n_streams; i++)
        close(s[i].fd);
    free(s);
    free(p);
}

/* ---- The probes: a fresh connection, GET /, timed --------------------- */

/* Wait for fd to be ready for `what`, until `deadline`.  0, or -1. */
static int wait_for(int fd, short what, double deadline)
{
    struct pollfd p = { fd, what, 0 };
    double left = deadline - now();
    if (left <= 0)
        return -1;
    int n = poll(&p, 1, (int)(left * 1000) + 1);
    return n > 0 ? 0 : -1;
}

/* One probe: its latency in seconds, or -1 (no 200 within the timeout). */
static double probe(void)
{
    static const char get[] = "GET / HTTP/1.1\r\nHost: fairload\r\nConnection: close\r\n\r\n";
    double start = now(), deadline = start + timeout;
    char buf[4096], head[13] = "";
    size_t got = 0;
    int fd = socket(server->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        die("socket");
    if ((connect(fd, server->ai_addr, server->ai_addrlen) < 0 && errno != EINPROGRESS) ||
        wait_for(fd, POLLOUT, deadline) < 0 ||
        send(fd, get, sizeof get - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof get - 1))
        goto failed;
    for (;;) {                          /* to the server's close: the whole answer */
        if (wait_for(fd, POLLIN, deadline) < 0)
            goto failed;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EAGAIN)
            continue;
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n && got < sizeof head - 1; i++)
            head[got++] = buf[i];
    }
    close(fd);
    return is_200(head) ? now() - start : -1;
failed:
    close(fd);
    return -1;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double *latency;
static int probed, answered, failed;

/* The first probe comes after a tenth of the run: the streams are
 * flowing by then (streamed_mb says whether they did). */
static void *run_probes(void *unused)
{
    (void)unused;
    double start = now(), step = seconds / n_probes;
    for (int i = 0; i < n_probes; i++) {
        double at = start + step * (i + 1) - step / 2, wait = at - now();
        if (i > 0 && now() > start + seconds)
            break;                      /* the earlier probes overran the run */
        if (wait > 0)
            nanosleep(&(struct timespec){ (time_t)wait, (long)((wait - (time_t)wait) * 1e9) }, NULL);
        double t = probe();
        if (t < 0)
            failed++;
        else
            answered++;
        latency[probed++] = t < 0 ? timeout : t;
    }
    atomic_store(&stop, 1);
    return NULL;
}

/* ---- Options, and the line of figures ----------------------------------- */

static void usage(void)
{
    fprintf(stderr, "usage: fairload --host H --port P [--streams C] [--pipeline K]\n"
                    "                [--path PATH] [--seconds S] [--probes M] [--timeout T]\n");
    exit(2);
}

static void parse(int argc, char **argv, const char **host, const char **port)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[++i] : NULL;
        if (val == NULL)
            usage();
        if (strcmp(arg, "--host") == 0)          *host = val;
        else if (strcmp(arg, "--port") == 0)     *port = val;
        else if (strcmp(arg, "--streams") == 0)  n_streams = atoi(val);
        else if (strcmp(arg, "--pipeline") == 0) pipeline = atoi(val);
        else if (strcmp(arg, "--path") == 0)     path = val;
        else if (strcmp(arg, "--seconds") == 0)  seconds = atof(val);
        else if (strcmp(arg, "--probes") == 0)   n_probes = atoi(val);
        else if (strcmp(arg, "--timeout") == 0)  timeout = atof(val);
        else usage();
    }
    if (*port == NULL || n_streams < 0 || pipeline < 1 || n_probes < 1 || seconds <= 0)
        usage();
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *port = NULL;
    parse(argc, argv, &host, &port);
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
    int rc = getaddrinfo(host, port, &hints, &server);
    if (rc != 0) {
        fprintf(stderr, "fairload: %s:%s: %s\n", host, port, gai_strerror(rc));
        return 2;
    }
    build_request();
    latency = calloc((size_t)n_probes, sizeof *latency);
    pthread_t prober;
    if (latency == NULL || pthread_create(&prober, NULL, run_probes, NULL) != 0)
        die("starting the prober");
    if (n_streams > 0)
        run_load();
    pthread_join(prober, NULL);

    qsort(latency, (size_t)probed, sizeof *latency, by_value);
    double p50 = (latency[(probed - 1) / 2] + latency[probed / 2]) / 2 * 1e3;
    double max = latency[probed - 1] * 1e3;
    printf("fairload: streams=%d pipeline=%d probes=%d answered=%d failed=%d "
           "p50_ms=%.2f max_ms=%.2f streamed_mb=%.1f reconnects=%ld not_200=%ld\n",
           n_streams, pipeline, probed, answered, failed, p50, max,
           streamed / 1e6, reconnects, refused);
    return failed == 0 ? 0 : 1;
}
