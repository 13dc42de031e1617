/*
 * httpload.c - a keep-alive HTTP load generator built on the kit: wrk's
 * job, done with a greenlet per connection.
 *
 *   httpload --host H --port P [-c CONNECTIONS] [-d SECONDS | -n REQUESTS]
 *            [--path PATH] [--timeout S]
 *   httpload --host H --port P --wait S
 *
 * CONNECTIONS greenlets (default 100) each open one connection; when all
 * are open (or have failed to), they start together, and each sends
 * "GET PATH HTTP/1.1", reads the response to its end (by Content-Length,
 * chunked, or until the server closes), and sends the next request on the
 * same connection: for SECONDS (default 3) or until REQUESTS in all.  A
 * connection the server closes is opened again; a request that found its
 * kept-alive connection closed before a byte of the answer came is sent
 * once more on a new one (as browsers do: the server may close an idle
 * connection at any time), counted under reconnects, not failures.  Each
 * request may take at most --timeout S (default 10).
 *
 * It prints one line of key=value pairs, e.g.
 *   httpload: connections=100 connected=100 seconds=3.002 requests=91234
 *   rps=30391.1 failed=0 refused=0 reset=0 timeout=0 bad=0 closed=0
 *   reconnects=0 p50_ms=3.21 p90_ms=3.80 p99_ms=5.02 max_ms=11.90
 * (on one line): rps counts the successful requests (a 200 answer read to
 * its end); latencies are theirs, from the request's first byte sent to
 * the answer's last byte read.  Exit status 0 when nothing failed.
 *
 * --wait S asks for PATH once every 50 ms until a 200 answer comes, for
 * at most S seconds: how the benchmark scripts wait for a server to be
 * ready.  Exit status 0 when it came.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "green.h"

enum outcome { OK, REFUSED, RESET, TIMEOUT, BAD, CLOSED, N_OUTCOMES };
static const char *outcome_name[N_OUTCOMES] =
    { "ok", "refused", "reset", "timeout", "bad", "closed" };

struct conn {
    int fd;
    int used;                 /* requests answered on this connection */
    size_t start, end;        /* unread bytes: buf[start..end) */
    char buf[16384];
};

static struct addrinfo *server;
static char request[512];
static size_t request_len;
static double timeout = 10.0;

/* The run: a time limit or a number of requests. */
static double stop_at;        /* -d: green_now() at which to stop */
static long total, handed_out;   /* -n */
static long failed[N_OUTCOMES], reconnects;
static int connected, tried;
static green_event_t *go;
static green_sem_t *connecting;  /* how many connects may be under way */

static float *latency_ms;     /* one per successful request */
static long done, capacity;

static double left(double deadline)
{
    double t = deadline - green_now();
    return t > 0 ? t : 0;      /* a negative timeout would mean "forever" */
}

static enum outcome outcome_of(int err)
{
    switch (err) {
    case ECONNREFUSED: return REFUSED;
    case ECONNRESET: case EPIPE: return RESET;
    case ETIMEDOUT: return TIMEOUT;
    default: return BAD;
    }
}

/* ---- Reading the answer ------------------------------------------------- */

/* Read more bytes into c->buf.  >0: how many, 0: the server closed,
 * -1: an error (errno). */
static ssize_t fill(struct conn *c, double deadline)
{
    if (c->start > 0) {                   /* keep what is unread at the front */
        memmove(c->buf, c->buf + c->start, c->end - c->start);
        c->end -= c->start;
        c->start = 0;
    }
    if (c->end == sizeof c->buf) {        /* a line longer than the buffer */
        errno = EMSGSIZE;
        return -1;
    }
    ssize_t n = green_recv(c->fd, c->buf + c->end, sizeof c->buf - c->end, left(deadline));
    if (n > 0)
        c->end += n;
    return n;
}

/* The next line (without its CRLF, NUL-terminated in place), or NULL: the
 * server closed (errno 0) or an error. */
static char *read_line(struct conn *c, double deadline)
{
    for (;;) {
        char *line = c->buf + c->start;
        char *crlf = memmem(line, c->end - c->start, "\r\n", 2);
        if (crlf != NULL) {
            *crlf = '\0';
            c->start = crlf + 2 - c->buf;
            return line;
        }
        ssize_t n = fill(c, deadline);
        if (n <= 0) {
            if (n == 0)
                errno = 0;
            return NULL;
        }
    }
}

/* Read and drop n bytes of body (n < 0: until the server closes). */
static int skip(struct conn *c, long n, double deadline)
{
    for (;;) {
        long have = c->end - c->start;
        long take = (n >= 0 && n < have) ? n : have;
        c->start += take;
        if (n >= 0 && (n -= take) == 0)
            return 0;
        ssize_t got = fill(c, deadline);
        if (got == 0 && n < 0)
            return 0;                     /* a close-delimited body ends */
        if (got <= 0) {
            if (got == 0)
                errno = 0;
            return -1;
        }
    }
}

static int chunked_body(struct conn *c, double deadline)
{
    for (;;) {
        char *line = read_line(c, deadline), *end;
        if (line == NULL)
            return -1;
        long size = strtol(line, &end, 16);
        if (end == line || size < 0) {
            errno = EPROTO;
            return -1;
        }
        if (size == 0)
            break;
        if (skip(c, size + 2, deadline) != 0)     /* the data and its CRLF */
            return -1;
    }
    char *line;                           /* trailers, up to an empty line */
    while ((line = read_line(c, deadline)) != NULL && *line != '\0')
        ;
    return line != NULL ? 0 : -1;
}

/* Read one answer.  *keep tells whether the connection may be used again;
 * *nothing whether the server closed before a byte of it came. */
static enum outcome read_answer(struct conn *c, double deadline, int *keep, int *nothing)
{
    *keep = 0;
    *nothing = c->end == c->start;
    char *line = read_line(c, deadline);
    if (line == NULL)
        return errno == 0 ? CLOSED : outcome_of(errno);
    *nothing = 0;
    int ok = strncmp(line, "HTTP/1.", 7) == 0 && strncmp(line + 8, " 200", 4) == 0;
    *keep = line[7] == '1';               /* HTTP/1.1 keeps, 1.0 closes */

    long length = -1;
    int chunked = 0;
    while ((line = read_line(c, deadline)) != NULL && *line != '\0') {
        char *value = strchr(line, ':');
        if (value == NULL)
            continue;
        *value++ = '\0';
        value += strspn(value, " \t");
        if (strcasecmp(line, "Content-Length") == 0)
            length = atol(value);
        else if (strcasecmp(line, "Transfer-Encoding") == 0)
            chunked = strcasestr(value, "chunked") != NULL;
        else if (strcasecmp(line, "Connection") == 0)
            *keep = strcasestr(value, "close") == NULL
                    && (*keep || strcasestr(value, "keep-alive") != NULL);
    }
    if (line == NULL)
        return errno == 0 ? CLOSED : outcome_of(errno);

    int status;
    if (chunked)
        status = chunked_body(c, deadline);
    else if (length >= 0)
        status = skip(c, length, deadline);
    else {
        *keep = 0;                        /* the body ends when the server closes */
        status = skip(c, -1, deadline);
    }
    if (status != 0)
        return errno == 0 ? CLOSED : errno == EPROTO ? BAD : outcome_of(errno);
    return ok ? OK : BAD;
}

/* ---- One connection, one request ------------------------------------------ */

static void disconnect(struct conn *c)
{
    if (c->fd >= 0)
        green_close(c->fd);
    c->fd = -1;
}

static enum outcome reconnect(struct conn *c, double deadline)
{
    disconnect(c);
    c->start = c->end = c->used = 0;
    c->fd = green_socket(server->ai_family, SOCK_STREAM, 0);
    if (c->fd < 0)
        return outcome_of(errno);
    if (green_connect(c->fd, server->ai_addr, server->ai_addrlen, left(deadline)) != 0) {
        enum outcome why = outcome_of(errno);
        disconnect(c);
        return why;
    }
    return OK;
}

/* Send the request and read the answer, on c's connection or a new one. */
static enum outcome exchange(struct conn *c, double deadline)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        enum outcome why = c->fd >= 0 ? OK : reconnect(c, deadline);
        if (why != OK)
            return why;
        int keep, nothing, reused = c->used > 0;
        if (green_sendall(c->fd, request, request_len, left(deadline)) < 0)
            why = outcome_of(errno), nothing = 1;
        else
            why = read_answer(c, deadline, &keep, &nothing);
        if (why == OK) {
            c->used++;
            if (!keep)
                disconnect(c);
            return OK;
        }
        disconnect(c);
        /* A kept-alive connection the server had closed: not a failure of
         * this request, which goes once more on a new connection. */
        if (!(reused && nothing && (why == CLOSED || why == RESET)))
            return why;
        reconnects++;
    }
    return CLOSED;
}

static int more(void)
{
    if (total > 0)
        return handed_out++ < total;
    return green_now() < stop_at;
}

static void note(enum outcome why, double started)
{
    if (why != OK) {
        failed[why]++;
        return;
    }
    if (done == capacity) {
        capacity = capacity ? capacity * 2 : 65536;
        latency_ms = realloc(latency_ms, capacity * sizeof *latency_ms);
        if (latency_ms == NULL) {
            perror("httpload");
            exit(2);
        }
    }
    latency_ms[done++] = (float)((green_now() - started) * 1e3);
}

static void *client(void *arg)
{
    struct conn *c = arg;
    /* Open the connection first, a few hundred at a time: 10,000 SYNs at
     * once would overflow the server's listen queue for nothing. */
    green_sem_acquire(connecting, GREEN_FOREVER);
    enum outcome why = reconnect(c, green_now() + timeout);
    green_sem_release(connecting);
    tried++;
    if (why == OK)
        connected++;
    green_event_wait(go, GREEN_FOREVER);
    if (why != OK && more())              /* that failure counts once */
        note(why, 0);
    while (more()) {
        double started = green_now();
        note(exchange(c, started + timeout), started);
    }
    disconnect(c);
    return NULL;
}

/* ---- The run ---------------------------------------------------------------- */

static int by_value(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static double percentile(double p)
{
    long i = (long)(p * done);
    return latency_ms[i < done ? i : done - 1];
}

static void report(int connections, double seconds)
{
    long nfailed = 0;
    for (int i = 1; i < N_OUTCOMES; i++)
        nfailed += failed[i];
    if (done > 0)
        qsort(latency_ms, done, sizeof *latency_ms, by_value);
    printf("httpload: connections=%d connected=%d seconds=%.3f requests=%ld rps=%.1f failed=%ld",
           connections, connected, seconds, done, seconds > 0 ? done / seconds : 0.0, nfailed);
    for (int i = 1; i < N_OUTCOMES; i++)
        printf(" %s=%ld", outcome_name[i], failed[i]);
    printf(" reconnects=%ld", reconnects);
    if (done > 0)
        printf(" p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", percentile(0.5),
               percentile(0.9), percentile(0.99), percentile(1.0));
    else
        printf(" p50_ms=- p90_ms=- p99_ms=- max_ms=-\n");   /* no answer to time */
}

/* --wait: is anybody serving yet? */
static int wait_ready(double seconds)
{
    struct conn *c = calloc(1, sizeof *c);
    double deadline = green_now() + seconds;
    enum outcome why = BAD;
    c->fd = -1;
    while (why != OK && green_now() < deadline) {
        why = exchange(c, green_now() + (left(deadline) < 1 ? left(deadline) : 1));
        if (why != OK)
            green_sleep(0.05);
    }
    disconnect(c);
    free(c);
    if (why != OK)
        fprintf(stderr, "httpload: no 200 answer within %.1f s (last try: %s)\n",
                seconds, outcome_name[why]);
    return why == OK ? 0 : 1;
}

/* Each connection is a file descriptor: raise the soft limit to the hard. */
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

static int usage(void)
{
    fprintf(stderr, "usage: httpload --host H --port P [-c CONNECTIONS] [-d SECONDS | -n REQUESTS]\n"
                    "                [--path PATH] [--timeout S]\n"
                    "       httpload --host H --port P [--path PATH] --wait S\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *port = "8080", *path = "/";
    int connections = 100;
    double seconds = 3, wait = -1;
    for (int i = 1; i < argc; i++) {
        if (i + 1 == argc) return usage();
        const char *opt = argv[i], *val = argv[++i];
        if (strcmp(opt, "--host") == 0) host = val;
        else if (strcmp(opt, "--port") == 0) port = val;
        else if (strcmp(opt, "--path") == 0) path = val;
        else if (strcmp(opt, "-c") == 0) connections = atoi(val);
        else if (strcmp(opt, "-d") == 0) seconds = atof(val);
        else if (strcmp(opt, "-n") == 0) total = atol(val);
        else if (strcmp(opt, "--timeout") == 0) timeout = atof(val);
        else if (strcmp(opt, "--wait") == 0) wait = atof(val);
        else return usage();
    }
    if (connections < 1 || (total > 0 && connections > total))
        connections = total > 0 ? (int)total : 1;

    struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
    if (getaddrinfo(host, port, &hints, &server) != 0) {
        fprintf(stderr, "httpload: cannot resolve %s:%s\n", host, port);
        return 2;
    }
    request_len = snprintf(request, sizeof request,
                           "GET %s HTTP/1.1\r\nHost: %s:%s\r\n\r\n", path, host, port);
    if (wait >= 0) {
        int status = wait_ready(wait);
        freeaddrinfo(server);
        green_hub_destroy();
        return status;
    }
    long fds = raise_fd_limit();
    if (fds < connections + 16L) {
        fprintf(stderr, "httpload: %d connections need %d file descriptors; RLIMIT_NOFILE "
                        "allows %ld (raise its hard limit as root: ulimit -Hn)\n",
                connections, connections + 16, fds);
        return 2;
    }

    struct conn *conns = calloc(connections, sizeof *conns);
    green_t **g = calloc(connections, sizeof *g);
    go = green_event_new();
    connecting = green_sem_new(256);
    for (int i = 0; i < connections; i++) {
        conns[i].fd = -1;
        g[i] = green_spawn(client, &conns[i]);
    }
    /* Everybody connected (or failed to): start the clock and the load. */
    while (tried < connections)
        green_sleep(0.01);
    double start = green_now();
    stop_at = start + seconds;
    green_event_set(go);
    green_joinall(g, connections, GREEN_FOREVER);
    report(connections, green_now() - start);

    for (int i = 0; i < connections; i++)
        green_free(g[i]);
    green_sem_free(connecting);
    green_event_free(go);
    free(g);
    free(conns);
    free(latency_ms);
    freeaddrinfo(server);
    green_hub_destroy();
    long nfailed = 0;
    for (int i = 1; i < N_OUTCOMES; i++)
        nfailed += failed[i];
    return nfailed == 0 ? 0 : 1;
}
