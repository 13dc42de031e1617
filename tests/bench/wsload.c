/*
 * wsload.c - the WebSocket load client of `make bench-ws` (tests/bench/ws.sh).
 *
 *   wsload echo   HOST PORT SECONDS INFLIGHT SIZE
 *   wsload idle   HOST PORT N HOLD
 *   wsload fanout HOST PORT ROOM N [--pause] [--joining K]
 *
 * echo: one connection to /ws/echo; INFLIGHT text messages of SIZE bytes
 *   in flight at all times (1: a round trip at a time; 64: pipelined) for
 *   SECONDS, then the last ones drained.  Prints
 *     wsload: mode=echo inflight=1 messages=41234 seconds=2.00 rate=20617
 *     p50_us=45.1 p99_us=80.3 failed=0 client_cpu=0.93
 *   (one line): rate in messages per second, p50/p99 the round trips
 *   (with INFLIGHT > 1 they include the wait behind the others).
 * idle: N connections to /ws/echo, at most 100 handshakes at a time, then
 *   holds them open HOLD seconds (or until SIGTERM), answering pings, and
 *   prints, once all are open or failed,
 *     wsload: mode=idle clients=10000 open=10000 failed=0 seconds=2.31
 *   and at the end "wsload: mode=idle-end open=... dropped=..." (dropped:
 *   closed by the server while held).
 * fanout: N clients join /ws/chat?room=ROOM&name=c0..c{N-1} (GUIDE.md's
 *   contract); once every one has seen "c{N-1} joined" (at most 10 s),
 *   c0 sends {"text":"<marker>"} and each client's time until the frame
 *   holding the marker arrives is taken (at most 10 s).  --pause: after
 *   the joins, print the "joined" line and wait for SIGUSR1 (at most 5 s)
 *   before sending, so that a script can look at the server meanwhile.
 *   --joining K: at most K handshakes at a time (default 100, as idle's).
 *     wsload: mode=fanout clients=1000 open=1000 failed=0 joined=1000
 *     received=1000 first_ms=0.9 p50_ms=5.1 last_ms=9.8 dropped=0
 *
 * Plain epoll and non-blocking sockets, not the kit's greenlets: the
 * client must not share the code it measures.  Frames are written with
 * a mask, as a client must (RFC 6455 section 5.3); the mask key comes
 * from a xorshift generator, which is enough: the mask protects proxies
 * from a page's chosen bytes, not a secret.  Exit status 0 when nothing
 * failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int max_opening = 100;          /* connections being opened at once */

static struct sockaddr_in server;
static const char *host;
static volatile sig_atomic_t stop, go;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The client's own CPU seconds: near the run's length means the client,
 * not the server, may have set the pace. */
static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what)
{
    fprintf(stderr, "wsload: %s: %s\n", what, strerror(errno));
    exit(2);
}

/* ---- Frames --------------------------------------------------------------- */

static uint32_t seed = 2463534242u;

static uint32_t xorshift(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    return seed;
}

/* Write one masked frame (FIN set) into out: its length. */
static size_t frame_write(unsigned char *out, int opcode, const void *data, size_t len)
{
    size_t n = 0;
    out[n++] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        out[n++] = (unsigned char)(0x80 | len);
    } else if (len < 65536) {
        out[n++] = 0x80 | 126;
        out[n++] = (unsigned char)(len >> 8);
        out[n++] = (unsigned char)len;
    } else {
        out[n++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            out[n++] = (unsigned char)((uint64_t)len >> (8 * i));
    }
    uint32_t key = xorshift();
    unsigned char *mask = out + n;
    memcpy(mask, &key, 4);
    n += 4;
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        out[n + i] = p[i] ^ mask[i & 3];
    return n + len;
}

/* One server frame (unmasked) at b[0..len): its whole size, 0 when it is
 * not all there yet, -1 when it is not a frame a server may send. */
static long frame_parse(const unsigned char *b, size_t len, int *opcode,
                        const unsigned char **payload, size_t *plen)
{
    if (len < 2)
        return 0;
    if (b[1] & 0x80)
        return -1;                      /* a server never masks */
    size_t head = 2;
    uint64_t n = b[1] & 0x7f;
    if (n == 126) {
        if (len < 4)
            return 0;
        n = (uint64_t)b[2] << 8 | b[3];
        head = 4;
    } else if (n == 127) {
        if (len < 10)
            return 0;
        n = 0;
        for (int i = 0; i < 8; i++)
            n = n << 8 | b[2 + i];
        head = 10;
        if (n > (1u << 30))
            return -1;
    }
    if (len < head + n)
        return 0;
    *opcode = b[0] & 0x0f;
    *payload = b + head;
    *plen = (size_t)n;
    return (long)(head + n);
}

/* ---- Connections ---------------------------------------------------------- */

enum { C_CONNECTING, C_HANDSHAKE, C_OPEN, C_DEAD };

struct conn {
    int fd, state;
    unsigned char *in;                 /* what was read and not parsed yet */
    size_t len, cap;
    int seen_last;                     /* fanout: has seen the last join */
    double got;                        /* fanout: when the marker came (0: not yet) */
};

static int send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {  /* rare: a few bytes on loopback */
            usleep(100);
            continue;
        }
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int handshake_send(int fd, const char *path)
{
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n", path, host, ntohs(server.sin_port));
    return send_all(fd, req, (size_t)n);
}

/* The server's answer to the handshake in c->in: 1 when it was a 101 (the
 * bytes after it stay, they are frames), 0 when it is not all there yet,
 * -1 when it was a refusal. */
static int handshake_read(struct conn *c)
{
    unsigned char *end = memmem(c->in, c->len, "\r\n\r\n", 4);
    if (!end)
        return c->len > 8192 ? -1 : 0;
    if (c->len < 13 || memcmp(c->in, "HTTP/1.1 101 ", 13) != 0)
        return -1;
    size_t head = (size_t)(end + 4 - c->in);
    memmove(c->in, c->in + head, c->len - head);
    c->len -= head;
    return 1;
}

/* Read what is there (one read) into c->in.  Returns the bytes read, 0 at
 * the end of the connection, -1 on an error (EAGAIN included). */
static ssize_t conn_read(struct conn *c)
{
    if (c->cap - c->len < 16384) {
        size_t cap = c->cap ? c->cap * 2 : 32768;
        unsigned char *in = realloc(c->in, cap);
        if (!in)
            die("realloc");
        c->in = in;
        c->cap = cap;
    }
    ssize_t n = recv(c->fd, c->in + c->len, c->cap - c->len, 0);
    if (n > 0)
        c->len += (size_t)n;
    return n;
}

static int conn_start(struct conn *c, int blocking)
{
    c->fd = socket(AF_INET, SOCK_STREAM | (blocking ? 0 : SOCK_NONBLOCK), 0);
    if (c->fd < 0)
        die("socket (too few file descriptors? ulimit -n)");
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->state = C_CONNECTING;
    if (connect(c->fd, (struct sockaddr *)&server, sizeof server) < 0 && errno != EINPROGRESS)
        return -1;
    return 0;
}

static void conn_kill(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->state = C_DEAD;
    free(c->in);
    c->in = NULL;
    c->len = c->cap = 0;
}

/* ---- echo: one connection --------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int run_echo(double seconds, int inflight, size_t size)
{
    struct conn c = { .fd = -1 };
    if (conn_start(&c, 1) < 0 || handshake_send(c.fd, "/ws/echo") < 0)
        die("connect");
    struct timeval tv = { 5, 0 };      /* a server that stops answering */
    setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int h = 0;
    while (h == 0) {
        if (conn_read(&c) <= 0)
            die("handshake");
        h = handshake_read(&c);
    }
    if (h < 0) {
        fprintf(stderr, "wsload: the server refused the handshake\n");
        return 2;
    }
    char *msg = malloc(size);
    unsigned char *out = malloc((size_t)inflight * (size + 14));
    double *sent_at = calloc((size_t)inflight, sizeof *sent_at);
    size_t nlat = 0, caplat = 1 << 16;
    double *lat = malloc(caplat * sizeof *lat);
    if (!msg || !out || !sent_at || !lat)
        die("malloc");
    memset(msg, 'x', size);

    double cpu0 = cpu_seconds(), start = now(), end = start + seconds, t = start;
    unsigned long sent = 0, got = 0;
    size_t olen = 0;
    for (int i = 0; i < inflight; i++) {
        olen += frame_write(out + olen, 0x1, msg, size);
        sent_at[sent++ % (unsigned)inflight] = start;
    }
    int failed = 0;
    while (got < sent) {
        if (olen > 0 && send_all(c.fd, out, olen) < 0) {
            failed = 1;
            break;
        }
        olen = 0;
        if (conn_read(&c) <= 0) {
            failed = 1;
            break;
        }
        t = now();
        int opcode;
        const unsigned char *payload;
        size_t plen;
        long n;
        size_t off = 0;
        while ((n = frame_parse(c.in + off, c.len - off, &opcode, &payload, &plen)) > 0) {
            off += (size_t)n;
            if (opcode != 0x1 || plen != size) {
                failed = 1;             /* not our message back */
                continue;
            }
            if (nlat == caplat && !(lat = realloc(lat, (caplat *= 2) * sizeof *lat)))
                die("realloc");
            lat[nlat++] = t - sent_at[got++ % (unsigned)inflight];
            if (t < end) {
                olen += frame_write(out + olen, 0x1, msg, size);
                sent_at[sent++ % (unsigned)inflight] = t;
            }
        }
        if (n < 0) {
            failed = 1;
            break;
        }
        memmove(c.in, c.in + off, c.len - off);
        c.len -= off;
    }
    double took = t - start;
    unsigned char bye[32];
    send_all(c.fd, bye, frame_write(bye, 0x8, "\x03\xe8", 2));
    qsort(lat, nlat, sizeof *lat, cmp_double);
    printf("wsload: mode=echo inflight=%d messages=%lu seconds=%.2f rate=%.0f p50_us=%.1f p99_us=%.1f "
           "failed=%lu client_cpu=%.2f\n", inflight, got, took, took > 0 ? got / took : 0,
           nlat ? lat[nlat / 2] * 1e6 : 0, nlat ? lat[nlat * 99 / 100] * 1e6 : 0,
           failed ? sent - got + 1 : 0, cpu_seconds() - cpu0);
    conn_kill(&c);
    return failed ? 1 : 0;
}

/* ---- Many connections: idle and fanout ---------------------------------------- */

static struct conn *conns;
static int nconns, started, opening, nopen, nfailed, ndropped, epfd;
/* Why connections failed, for the summary line: a failure is a figure,
 * and the reader should know whether the server refused or the machine
 * ran out of something. */
static int why_connect, why_eof, why_refused, why_closed;
static char first_close[64] = "-";     /* the first close frame: "1008:too slow" */

/* The reasons, for the summary lines: "why=connect:0,eof:0,refused:0,closed:0". */
static const char *why(void)
{
    static char s[192];
    snprintf(s, sizeof s, "connect:%d,eof:%d,refused:%d,closed:%d,first_close:%s", why_connect,
             why_eof, why_refused, why_closed, first_close);
    return s;
}
static char last_join[64];             /* fanout: "c999 joined\"" */
static char marker[64];                /* fanout: the text c0 sends */
static const char *room;

static void path_of(int i, char *path, size_t size)
{
    if (room)
        snprintf(path, size, "/ws/chat?room=%s&name=c%d", room, i);
    else
        snprintf(path, size, "/ws/echo");
}

static void start_more(void)
{
    while (started < nconns && opening < max_opening) {
        struct conn *c = &conns[started];
        struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = (uint32_t)started };
        started++;
        if (conn_start(c, 0) < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
            conn_kill(c);
            nfailed++;
            why_connect++;
            continue;
        }
        opening++;
    }
}

/* A connection ends: a failure while it opened, a drop once it was open. */
static void conn_lost(struct conn *c)
{
    if (c->state == C_OPEN) {
        nopen--;
        ndropped++;
    } else {
        opening--;
        nfailed++;
    }
    conn_kill(c);
}

/* The frames that arrived on an open connection. */
static void conn_frames(struct conn *c)
{
    int opcode;
    const unsigned char *payload;
    size_t plen, off = 0;
    long n;
    while ((n = frame_parse(c->in + off, c->len - off, &opcode, &payload, &plen)) > 0) {
        off += (size_t)n;
        if (opcode == 0x9) {            /* ping: the pong a live client sends */
            unsigned char pong[160];
            send_all(c->fd, pong, frame_write(pong, 0xA, payload, plen));
        } else if (opcode == 0x8) {
            if (why_closed++ == 0) {    /* a close frame: keep its code and reason */
                int code = plen >= 2 ? payload[0] << 8 | payload[1] : 1005;
                int rlen = plen > 2 ? (int)(plen - 2 > 40 ? 40 : plen - 2) : 0;
                snprintf(first_close, sizeof first_close, "%d:%.*s", code, rlen, (const char *)payload + 2);
                for (char *p = first_close; *p; p++)
                    if (*p == ' ' || *p == '=')
                        *p = '_';       /* one word, for the key=value line */
            }
            conn_lost(c);
            return;
        } else if (opcode == 0x1 && room) {
            if (!c->seen_last && memmem(payload, plen, last_join, strlen(last_join)))
                c->seen_last = 1;
            if (!c->got && marker[0] && memmem(payload, plen, marker, strlen(marker)))
                c->got = now();
        }
    }
    if (n < 0) {
        conn_lost(c);
        return;
    }
    memmove(c->in, c->in + off, c->len - off);
    c->len -= off;
}

static void on_event(struct conn *c, int i, uint32_t events)
{
    if (c->state == C_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        char path[128];
        path_of(i, path, sizeof path);
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
        if (err || (events & EPOLLERR) || handshake_send(c->fd, path) < 0 ||
            epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
            why_connect++;
            conn_lost(c);
            return;
        }
        c->state = C_HANDSHAKE;
        return;
    }
    ssize_t n = conn_read(c);
    if (n < 0 && errno == EAGAIN)
        return;
    if (n <= 0) {
        why_eof++;                      /* reset or closed without a close frame */
        conn_lost(c);
        return;
    }
    if (c->state == C_HANDSHAKE) {
        int h = handshake_read(c);
        if (h == 0)
            return;
        if (h < 0) {
            why_refused++;              /* an answer that is not 101 */
            conn_lost(c);
            return;
        }
        c->state = C_OPEN;
        opening--;
        nopen++;
    }
    conn_frames(c);
}

/* Serve the connections' events for at most `seconds` or until done()
 * says so (checked after every batch of events and every 10 ms). */
static void serve(double seconds, int (*done)(void))
{
    double end = now() + seconds;
    struct epoll_event evs[256];
    while (!stop && !done() && now() < end) {
        start_more();
        int n = epoll_wait(epfd, evs, 256, 10);
        for (int k = 0; k < n; k++) {
            int i = (int)evs[k].data.u32;
            if (conns[i].state != C_DEAD)
                on_event(&conns[i], i, evs[k].events);
        }
    }
}

static int all_opened(void) { return started == nconns && opening == 0; }
static int until_go(void) { return go; }   /* SIGUSR1 came */

static int all_joined(void)
{
    if (!all_opened())
        return 0;
    for (int i = 0; i < nconns; i++)
        if (conns[i].state == C_OPEN && !conns[i].seen_last)
            return 0;
    return 1;
}

static int all_got(void)
{
    for (int i = 0; i < nconns; i++)
        if (conns[i].state == C_OPEN && !conns[i].got)
            return 0;
    return 1;
}

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        go = 1;
    else
        stop = 1;
}

static void conns_new(int n)
{
    nconns = n;
    conns = calloc((size_t)n, sizeof *conns);
    epfd = epoll_create1(0);
    if (!conns || epfd < 0)
        die("setup");
    for (int i = 0; i < n; i++)
        conns[i].fd = -1;
}

static int run_idle(int n, double hold)
{
    conns_new(n);
    double start = now();
    serve(120, all_opened);
    printf("wsload: mode=idle clients=%d open=%d failed=%d seconds=%.2f why=%s\n",
           n, nopen, nfailed + (nconns - started) + opening, now() - start, why());
    fflush(stdout);
    serve(hold, until_go);              /* held; SIGTERM ends it */
    printf("wsload: mode=idle-end open=%d dropped=%d why=%s\n", nopen, ndropped, why());
    return nfailed || ndropped ? 1 : 0;
}

static int run_fanout(int n, int pause)
{
    conns_new(n);
    snprintf(last_join, sizeof last_join, "c%d joined\"", n - 1);
    double start = now();
    serve(60, all_opened);
    serve(10, all_joined);
    int joined = 0;
    for (int i = 0; i < n; i++)
        joined += conns[i].state == C_OPEN && conns[i].seen_last;
    printf("wsload: mode=joined clients=%d open=%d failed=%d joined=%d dropped=%d seconds=%.2f why=%s\n",
           n, nopen, nfailed + opening, joined, ndropped, now() - start, why());
    fflush(stdout);
    if (pause)
        serve(5, until_go);             /* until SIGUSR1 */
    if (conns[0].state != C_OPEN) {
        fprintf(stderr, "wsload: the sender, c0, is not connected\n");
        return 1;
    }
    snprintf(marker, sizeof marker, "fanout-%d-%ld", (int)getpid(), (long)time(NULL));
    char text[128];
    unsigned char frame[160];
    int len = snprintf(text, sizeof text, "{\"text\": \"%s\"}", marker);
    double t0 = now();
    if (send_all(conns[0].fd, frame, frame_write(frame, 0x1, text, (size_t)len)) < 0)
        die("send");
    serve(10, all_got);
    double *ms = malloc((size_t)n * sizeof *ms);
    int received = 0;
    for (int i = 0; i < n; i++)
        if (conns[i].got)
            ms[received++] = (conns[i].got - t0) * 1e3;
    qsort(ms, (size_t)received, sizeof *ms, cmp_double);
    printf("wsload: mode=fanout clients=%d open=%d failed=%d joined=%d received=%d "
           "first_ms=%.2f p50_ms=%.2f last_ms=%.2f dropped=%d why=%s\n", n, nopen, nfailed + opening,
           joined, received, received ? ms[0] : 0, received ? ms[received / 2] : 0,
           received ? ms[received - 1] : 0, ndropped, why());
    return received == n ? 0 : 1;
}

static void usage(void)
{
    fprintf(stderr, "usage: wsload echo HOST PORT SECONDS INFLIGHT SIZE\n"
                    "       wsload idle HOST PORT N HOLD\n"
                    "       wsload fanout HOST PORT ROOM N [--pause] [--joining K]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 5)
        usage();
    host = argv[2];
    server.sin_family = AF_INET;
    server.sin_port = htons((uint16_t)atoi(argv[3]));
    if (inet_pton(AF_INET, host, &server.sin_addr) != 1)
        usage();
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    if (strcmp(argv[1], "echo") == 0 && argc == 7)
        return run_echo(atof(argv[4]), atoi(argv[5]) > 0 ? atoi(argv[5]) : 1, (size_t)atol(argv[6]));
    if (strcmp(argv[1], "idle") == 0 && argc == 6)
        return run_idle(atoi(argv[4]), atof(argv[5]));
    if (strcmp(argv[1], "fanout") == 0 && argc >= 6) {
        room = argv[4];
        int pause = 0;
        for (int i = 6; i < argc; i++) {
            if (strcmp(argv[i], "--pause") == 0)
                pause = 1;
            else if (strcmp(argv[i], "--joining") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0)
                max_opening = atoi(argv[++i]);
            else
                usage();
        }
        return run_fanout(atoi(argv[5]), pause);
    }
    usage();
}
