/*
 * tests/lib/io.c - the library's own tests of chapter 4, io.h and dns.h:
 * green sockets (connect, accept, recv, send, sendall, close), the TCP
 * helpers, wait_read and wait_write on any descriptor, and name resolution
 * on evdns (dns.h).
 *
 * Everything talks over 127.0.0.1 only, on ports the kernel picks (port 0).
 * The DNS tests never leave the machine either: /etc/hosts, literal
 * addresses, and name servers that the tests themselves run on 127.0.0.1
 * (one that answers, on the hub's own loop, and one that never does).
 * Every loop is bounded in count and time, and every test ends with
 * green_hub_destroy() so that leak checkers see a clean exit.
 */
#include "harness.h"
#include "green.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/dns.h>
#include <event2/dns_struct.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define INT2P(i) ((void *)(intptr_t)(i))
#define P2INT(p) ((int)(intptr_t)(p))

/* Timing checks: at least the time asked for (less a little clock slack),
 * and well under ten times it on a noisy machine (or under Valgrind). */
#define assert_took(what, elapsed, lo, hi)                                   \
    ck_assert_msg((elapsed) >= (lo) && (elapsed) < (hi),                    \
                  "%s: expected between %.0f and %.0f ms, took %.1f ms",    \
                  (what), (lo) * 1e3, (hi) * 1e3, (elapsed) * 1e3)

/* ---- Helpers: listeners and connected pairs on 127.0.0.1 -------------- */

/* A listening socket on 127.0.0.1, port chosen by the kernel; its port as
 * text in port (for green_tcp_connect). */
static int listen_local(char *port, size_t size, int backlog)
{
    int fd = green_tcp_listen("127.0.0.1", "0", backlog);
    ck_assert_msg(fd >= 0, "green_tcp_listen(127.0.0.1, 0) failed: %s", strerror(errno));
    int p = green_socket_port(fd);
    ck_assert_msg(p > 0, "green_socket_port of a listener: expected a port, got %d", p);
    snprintf(port, size, "%d", p);
    return fd;
}

/* A port nobody listens on: bind one, note it, close it. */
static void closed_port(char *port, size_t size)
{
    int fd = listen_local(port, size, 1);
    close(fd);
}

static int is_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags >= 0 && (flags & O_NONBLOCK);
}

/* ---- Echo over loopback, many greenlets at once ------------------------ */

#define CLIENTS 50
#define ROUNDS 4

static int live_handlers, max_live_handlers, accepted;

/* Read exactly n bytes (recv may return fewer). */
static ssize_t recv_exactly(int fd, char *buf, size_t n, double timeout)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = green_recv(fd, buf + got, n - got, timeout);
        if (r <= 0)
            return r;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static void *echo_handler(void *arg)
{
    int fd = P2INT(arg);
    char buf[512];
    ssize_t n;
    if (++live_handlers > max_live_handlers)
        max_live_handlers = live_handlers;
    while ((n = green_recv(fd, buf, sizeof buf, 5.0)) > 0)
        if (green_sendall(fd, buf, (size_t)n, 5.0) != n)
            break;
    live_handlers--;
    green_close(fd);
    return NULL;
}

static void *echo_server(void *arg)
{
    int l = P2INT(arg);
    for (int i = 0; i < CLIENTS; i++) {
        int fd = green_accept(l, NULL, NULL, 5.0);
        if (fd < 0)
            break;
        accepted++;
        green_detach(green_spawn(echo_handler, INT2P(fd)));
    }
    return NULL;
}

struct client {
    const char *port;
    int id;
    int rounds_ok;
    char failure[128];
};

static void *echo_client(void *arg)
{
    struct client *c = arg;
    int fd = green_tcp_connect("127.0.0.1", c->port, 5.0);
    if (fd < 0) {
        snprintf(c->failure, sizeof c->failure, "connect: %s", strerror(errno));
        return NULL;
    }
    for (int r = 0; r < ROUNDS; r++) {
        char msg[64], back[64];
        int len = snprintf(msg, sizeof msg, "client %d, round %d", c->id, r);
        if (green_sendall(fd, msg, (size_t)len, 5.0) != len) {
            snprintf(c->failure, sizeof c->failure, "sendall: %s", strerror(errno));
            break;
        }
        ssize_t n = recv_exactly(fd, back, (size_t)len, 5.0);
        if (n != len || memcmp(msg, back, (size_t)len) != 0) {
            snprintf(c->failure, sizeof c->failure, "round %d: echo of %d bytes, got %zd (%s)",
                     r, len, n, kit_why(n, errno));
            break;
        }
        c->rounds_ok++;
        green_sleep(0.01);      /* stay connected: all clients overlap */
    }
    green_close(fd);
    return NULL;
}

START_TEST(test_echo_many_clients)
{
    char port[16];
    int l = listen_local(port, sizeof port, CLIENTS);
    live_handlers = max_live_handlers = accepted = 0;
    green_t *server = green_spawn(echo_server, INT2P(l));
    static struct client cs[CLIENTS];
    green_t *gs[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        cs[i] = (struct client){ .port = port, .id = i };
        gs[i] = green_spawn(echo_client, &cs[i]);
    }
    int rc = green_joinall(gs, CLIENTS, 8.0);
    ck_assert_msg(rc == 0, "expected %d echo clients to finish within 8 s: %s", CLIENTS, kit_why(rc, errno));
    for (int i = 0; i < CLIENTS; i++)
        ck_assert_msg(cs[i].rounds_ok == ROUNDS, "client %d: expected %d echoed rounds, got %d (%s)",
                      i, ROUNDS, cs[i].rounds_ok, cs[i].failure);
    ck_assert_msg(accepted == CLIENTS, "expected the server greenlet to accept %d connections, got %d",
                  CLIENTS, accepted);
    ck_assert_msg(max_live_handlers == CLIENTS, "expected all %d connections to be served at the same "
                  "time (one greenlet each), at most %d were", CLIENTS, max_live_handlers);
    green_join(server, 2.0);
    for (int i = 0; i < CLIENTS; i++)
        green_free(gs[i]);
    green_free(server);
    close(l);
    green_hub_destroy();
}
END_TEST

START_TEST(test_accepted_fd_is_nonblocking)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    ck_assert_msg(is_nonblocking(a), "expected green_tcp_connect's socket to be non-blocking");
    ck_assert_msg(is_nonblocking(b), "expected green_accept's socket to be non-blocking");
    ck_assert_msg(fcntl(b, F_GETFD) & FD_CLOEXEC, "expected green_accept's socket to be close-on-exec");
    int s = green_socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_msg(s >= 0 && is_nonblocking(s), "expected green_socket to make a non-blocking socket");
    ck_assert_msg(fcntl(s, F_GETFD) & FD_CLOEXEC, "expected green_socket's socket to be close-on-exec");
    ck_assert_int_eq(green_close(s), 0);
    ck_assert_int_eq(green_close(a), 0);
    ck_assert_int_eq(green_close(b), 0);
    green_hub_destroy();
}
END_TEST

/* ---- Timeouts ---------------------------------------------------------- */

START_TEST(test_recv_timeout)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    green_t *t = kit_ticker_start(0.005);
    char buf[16];
    double t0 = green_now();
    ssize_t n = green_recv(a, buf, sizeof buf, 0.2);
    int err = errno;
    double took = green_now() - t0;
    int seen = kit_ticker_stop(t);
    ck_assert_msg(n == -1 && err == ETIMEDOUT, "expected green_recv on a silent socket to fail with "
                  "ETIMEDOUT, got %zd (%s)", n, kit_why(n, err));
    assert_took("green_recv(timeout 0.2)", took, 0.19, 2.0);
    ck_assert_msg(seen >= 1, "expected other greenlets to run while green_recv waited, a ticker "
                  "ticked %d times in 0.2 s", seen);

    /* The timeout is for the whole call: data that comes in time is read. */
    ck_assert_int_eq(green_send(b, "hi", 2, 1.0), 2);
    n = green_recv(a, buf, sizeof buf, 0.2);
    ck_assert_msg(n == 2 && memcmp(buf, "hi", 2) == 0, "expected green_recv to read \"hi\", got %zd", n);
    close(a);
    close(b);
    green_hub_destroy();
}
END_TEST

START_TEST(test_accept_timeout)
{
    char port[16];
    int l = listen_local(port, sizeof port, 4);
    double t0 = green_now();
    int fd = green_accept(l, NULL, NULL, 0.15);
    int err = errno;
    double took = green_now() - t0;
    ck_assert_msg(fd == -1 && err == ETIMEDOUT, "expected green_accept with nobody connecting to fail "
                  "with ETIMEDOUT, got %d (%s)", fd, kit_why(fd, err));
    assert_took("green_accept(timeout 0.15)", took, 0.14, 2.0);

    /* A zero timeout still accepts a connection that is already there. */
    int c = green_tcp_connect("127.0.0.1", port, 1.0);
    ck_assert_msg(c >= 0, "green_tcp_connect failed: %s", strerror(errno));
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    fd = green_accept(l, (struct sockaddr *)&peer, &len, 0);
    ck_assert_msg(fd >= 0, "expected green_accept(timeout 0) to take a waiting connection, got %s",
                  strerror(errno));
    ck_assert_msg(peer.sin_family == AF_INET && peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
                  "expected green_accept to fill in the peer's address 127.0.0.1");
    close(fd);
    close(c);
    close(l);
    green_hub_destroy();
}
END_TEST

START_TEST(test_connect_refused)
{
    char port[16];
    closed_port(port, sizeof port);
    double t0 = green_now();
    int fd = green_tcp_connect("127.0.0.1", port, 2.0);
    int err = errno;
    ck_assert_msg(fd == -1 && err == ECONNREFUSED, "expected green_tcp_connect to a closed port to fail "
                  "with ECONNREFUSED, got %d (%s)", fd, kit_why(fd, err));
    ck_assert_msg(green_now() - t0 < 1.0, "expected a refused connection to fail at once, not after "
                  "the timeout");

    /* The same with the lower-level calls. */
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int s = green_socket(AF_INET, SOCK_STREAM, 0);
    int rc = green_connect(s, (struct sockaddr *)&sin, sizeof sin, 2.0);
    err = errno;
    ck_assert_msg(rc == -1 && err == ECONNREFUSED, "expected green_connect to a closed port to fail "
                  "with ECONNREFUSED, got %d (%s)", rc, kit_why(rc, err));
    close(s);
    green_hub_destroy();
}
END_TEST

/* A listener with a full accept queue drops new SYNs: connecting to it
 * hangs until the timeout. */
START_TEST(test_connect_timeout)
{
    char port[16];
    int l = listen_local(port, sizeof port, 0);
    int queued[4], nq = 0;
    double took = 0;
    int fd = -1, err = 0;
    for (int i = 0; i < 4; i++) {   /* the kernel queues backlog + 1 */
        double t0 = green_now();
        fd = green_tcp_connect("127.0.0.1", port, 0.2);
        err = errno;
        took = green_now() - t0;
        if (fd < 0)
            break;
        queued[nq++] = fd;
    }
    ck_assert_msg(fd == -1 && err == ETIMEDOUT, "expected a connection to a listener whose queue is "
                  "full to fail with ETIMEDOUT, got %d (%s) after %d connections", fd, kit_why(fd, err), nq);
    assert_took("green_tcp_connect(timeout 0.2)", took, 0.19, 2.0);
    for (int i = 0; i < nq; i++)
        close(queued[i]);
    close(l);
    green_hub_destroy();
}
END_TEST

/* ---- Large transfers, resets, closed peers ------------------------------ */

#define BIG (6 << 20)

static unsigned char pattern(size_t i) { return (unsigned char)(i * 7 % 251); }

struct transfer {
    int fd;
    ssize_t result;
    int err;
    size_t received;
    int corrupt_at;         /* -1: every byte as sent */
};

static void *big_sender(void *arg)
{
    struct transfer *t = arg;
    unsigned char *buf = malloc(BIG);
    for (size_t i = 0; i < BIG; i++)
        buf[i] = pattern(i);
    t->result = green_sendall(t->fd, buf, BIG, 20.0);
    t->err = errno;
    free(buf);
    green_close(t->fd);     /* end of stream for the reader */
    return NULL;
}

/* Reads 64 KiB at a time and naps after each: the sender's buffers fill
 * up, so green_sendall has to wait for room many times. */
static void *slow_reader(void *arg)
{
    struct transfer *t = arg;
    static unsigned char buf[64 << 10];
    t->corrupt_at = -1;
    for (int i = 0; i < 10000; i++) {
        ssize_t n = green_recv(t->fd, buf, sizeof buf, 5.0);
        if (n <= 0) {
            t->result = n;
            t->err = errno;
            break;
        }
        for (ssize_t k = 0; k < n && t->corrupt_at < 0; k++)
            if (buf[k] != pattern(t->received + (size_t)k))
                t->corrupt_at = (int)(t->received + (size_t)k);
        t->received += (size_t)n;
        if (i % 8 == 0)
            green_sleep(0.002);
    }
    return NULL;
}

START_TEST(test_sendall_large_to_slow_reader)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    struct transfer out = { .fd = a }, in = { .fd = b };
    green_t *gs[2] = { green_spawn(big_sender, &out), green_spawn(slow_reader, &in) };
    int rc = green_joinall(gs, 2, 30.0);
    ck_assert_msg(rc == 0, "expected a %d MiB transfer to finish: %s", BIG >> 20, kit_why(rc, errno));
    ck_assert_msg(out.result == BIG, "expected green_sendall to return %d, got %zd (%s)",
                  BIG, out.result, kit_why(out.result, out.err));
    ck_assert_msg(in.received == BIG, "expected the reader to get %d bytes, got %zu", BIG, in.received);
    ck_assert_msg(in.corrupt_at < 0, "expected the bytes in order, byte %d differs", in.corrupt_at);
    ck_assert_msg(in.result == 0, "expected the reader to see the end of stream (0), got %zd", in.result);
    green_free(gs[0]);
    green_free(gs[1]);
    close(b);
    green_hub_destroy();
}
END_TEST

START_TEST(test_sendall_timeout_covers_whole_call)
{
    int a, b;
    kit_tcp_pair(&a, &b);       /* nobody reads b: the buffers fill, then wait */
    int small = 64 << 10;   /* fixed, so that 8 MiB surely fills them */
    setsockopt(a, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    size_t n = 8 << 20;
    char *buf = calloc(1, n);
    double t0 = green_now();
    ssize_t rc = green_sendall(a, buf, n, 0.3);
    int err = errno;
    double took = green_now() - t0;
    ck_assert_msg(rc == -1 && err == ETIMEDOUT, "expected green_sendall of 8 MiB nobody reads to fail "
                  "with ETIMEDOUT, got %zd (%s)", rc, kit_why(rc, err));
    assert_took("green_sendall(timeout 0.3)", took, 0.29, 3.0);
    free(buf);
    close(a);
    close(b);
    green_hub_destroy();
}
END_TEST

struct reader {
    int fd;
    ssize_t first, second;
    int err;
};

static void *read_twice(void *arg)
{
    struct reader *r = arg;
    char buf[64];
    r->first = green_recv(r->fd, buf, sizeof buf, 5.0);
    r->second = green_recv(r->fd, buf, sizeof buf, 5.0);
    r->err = errno;
    return NULL;
}

START_TEST(test_peer_reset_mid_read)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    struct reader r = { .fd = a, .first = -2, .second = -2 };
    green_t *g = green_spawn(read_twice, &r);
    green_sleep(0.02);
    green_send(b, "part", 4, 1.0);
    green_sleep(0.02);      /* the reader has the part, and waits again */
    struct linger hard = { .l_onoff = 1, .l_linger = 0 };
    setsockopt(b, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    close(b);               /* with linger 0: the kernel sends a reset */
    int rc = green_join(g, 2.0);
    ck_assert_msg(rc == 0, "expected the reader to return after the reset: %s", kit_why(rc, errno));
    ck_assert_msg(r.first == 4, "expected the reader's first green_recv to get 4 bytes, got %zd", r.first);
    ck_assert_msg(r.second == 0 || (r.second == -1 && r.err == ECONNRESET),
                  "expected green_recv on a reset connection to return 0 or fail with ECONNRESET, got %zd (%s)",
                  r.second, kit_why(r.second, r.err));
    green_free(g);
    close(a);
    green_hub_destroy();
}
END_TEST

/* SIGPIPE is left at its default action here: if green_send raised it,
 * the test process would die of it and the test would fail. */
START_TEST(test_send_to_closed_peer_epipe)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    close(b);
    ssize_t rc = 0;
    int err = 0;
    for (int i = 0; i < 100 && rc >= 0; i++) {   /* the first sends may still succeed */
        rc = green_send(a, "x", 1, 1.0);
        err = errno;
        green_sleep(0.005);
    }
    ck_assert_msg(rc == -1 && err == EPIPE, "expected green_send to a closed peer to fail with EPIPE, "
                  "got %zd (%s)", rc, kit_why(rc, err));
    rc = green_sendall(a, "xyz", 3, 1.0);
    err = errno;
    ck_assert_msg(rc == -1 && err == EPIPE, "expected green_sendall to a closed peer to fail with EPIPE, "
                  "got %zd (%s)", rc, kit_why(rc, err));
    close(a);
    green_hub_destroy();
}
END_TEST

static void *recv_forever(void *arg)
{
    struct reader *r = arg;
    char buf[16];
    r->first = green_recv(r->fd, buf, sizeof buf, GREEN_FOREVER);
    r->err = errno;
    return NULL;
}

START_TEST(test_kill_blocked_recv)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    struct reader r = { .fd = a, .first = -2 };
    green_t *g = green_spawn(recv_forever, &r);
    green_sleep(0.02);
    double t0 = green_now();
    int rc = green_kill(g, 1.0);
    ck_assert_msg(rc == 0, "expected green_kill of a greenlet in green_recv to return 0: %s", kit_why(rc, errno));
    ck_assert_msg(r.first == -1 && r.err == ECANCELED, "expected the killed greenlet's green_recv to fail "
                  "with ECANCELED, got %zd (%s)", r.first, kit_why(r.first, r.err));
    ck_assert_msg(green_now() - t0 < 0.5, "expected the kill to take effect at once");

    /* The socket still works for someone else. */
    ck_assert_int_eq(green_send(b, "ok", 2, 1.0), 2);
    char buf[4];
    ck_assert_int_eq(green_recv(a, buf, sizeof buf, 1.0), 2);
    green_free(g);
    close(a);
    close(b);
    green_hub_destroy();
}
END_TEST

/* ---- Any descriptor: pipes --------------------------------------------- */

static void *drain_pipe(void *arg)
{
    int fd = P2INT(arg);
    char buf[4096];
    green_sleep(0.05);
    while (read(fd, buf, sizeof buf) > 0)
        ;
    return NULL;
}

START_TEST(test_wait_on_pipe)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(green_fd_nonblock(p[0]), 0);
    ck_assert_int_eq(green_fd_nonblock(p[1]), 0);
    ck_assert_msg(is_nonblocking(p[0]), "expected green_fd_nonblock to set O_NONBLOCK");

    double t0 = green_now();
    int rc = green_wait_read(p[0], 0.1);
    ck_assert_msg(rc == -1 && errno == ETIMEDOUT, "expected green_wait_read on an empty pipe to time out");
    assert_took("green_wait_read(timeout 0.1)", green_now() - t0, 0.09, 2.0);

    /* recv and send work on pipes too (read and write underneath). */
    ck_assert_int_eq(green_send(p[1], "abc", 3, 1.0), 3);
    ck_assert_int_eq(green_wait_read(p[0], 0.1), 0);
    char buf[8];
    ck_assert_int_eq(green_recv(p[0], buf, sizeof buf, 0.1), 3);

    /* Fill the pipe: now writing must wait for a reader. */
    char block[4096] = { 0 };
    for (int i = 0; i < 1000 && write(p[1], block, sizeof block) > 0; i++)
        ;
    rc = green_wait_write(p[1], 0.05);
    ck_assert_msg(rc == -1 && errno == ETIMEDOUT, "expected green_wait_write on a full pipe to time out");
    green_t *g = green_spawn(drain_pipe, INT2P(p[0]));
    rc = green_wait_write(p[1], 2.0);
    ck_assert_msg(rc == 0, "expected green_wait_write to return 0 once a reader drained the pipe: %s",
                  kit_why(rc, errno));
    green_join(g, 1.0);
    green_free(g);

    /* End of stream. */
    close(p[1]);
    ssize_t n = 1;
    for (int i = 0; i < 1000 && n > 0; i++)
        n = green_recv(p[0], block, sizeof block, 1.0);
    ck_assert_msg(n == 0, "expected green_recv to return 0 at the end of a pipe, got %zd", n);
    close(p[0]);
    green_hub_destroy();
}
END_TEST

/* ---- Listening --------------------------------------------------------- */

START_TEST(test_listen_port_zero)
{
    int l1 = green_tcp_listen("127.0.0.1", "0", 8);
    int l2 = green_tcp_listen("127.0.0.1", "0", 8);
    ck_assert_msg(l1 >= 0 && l2 >= 0, "green_tcp_listen(127.0.0.1, \"0\") failed: %s", strerror(errno));
    int p1 = green_socket_port(l1), p2 = green_socket_port(l2);
    ck_assert_msg(p1 > 0 && p2 > 0 && p1 != p2, "expected two listeners on port \"0\" to get two different "
                  "ports from the kernel, got %d and %d", p1, p2);
    ck_assert_msg(is_nonblocking(l1), "expected green_tcp_listen's socket to be non-blocking");
    ck_assert_msg(green_socket_port(-1) == -1, "expected green_socket_port(-1) to be -1");

    /* The port is usable. */
    char port[16];
    snprintf(port, sizeof port, "%d", p1);
    int c = green_tcp_connect("127.0.0.1", port, 1.0);
    ck_assert_msg(c >= 0, "expected a connection to the port green_socket_port gave: %s", strerror(errno));
    int s = green_accept(l1, NULL, NULL, 1.0);
    ck_assert_msg(s >= 0, "green_accept failed: %s", strerror(errno));
    close(s);
    close(c);
    close(l1);
    close(l2);

    /* A port in use by a listener cannot be taken by another one. */
    int l3 = green_tcp_listen("127.0.0.1", "0", 8);
    snprintf(port, sizeof port, "%d", green_socket_port(l3));
    int l4 = green_tcp_listen("127.0.0.1", port, 8);
    ck_assert_msg(l4 == -1 && errno == EADDRINUSE, "expected listening twice on port %s to fail with "
                  "EADDRINUSE, got %d", port, l4);
    close(l3);
    green_hub_destroy();
}
END_TEST

/* ---- Name resolution --------------------------------------------------- */

static int ipv4_of(const struct addrinfo *ai, char *buf, size_t size)
{
    const struct sockaddr_in *sin = (const struct sockaddr_in *)ai->ai_addr;
    return inet_ntop(AF_INET, &sin->sin_addr, buf, (socklen_t)size) != NULL;
}

START_TEST(test_getaddrinfo_localhost)
{
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    int rc = green_getaddrinfo("localhost", "80", &hints, &res, 2.0);
    ck_assert_msg(rc == 0, "expected green_getaddrinfo(\"localhost\") to succeed (it is in /etc/hosts), "
                  "got %d (%s)", rc, gai_strerror(rc));
    ck_assert_msg(res != NULL && res->ai_family == AF_INET, "expected an IPv4 address for localhost");
    char text[INET_ADDRSTRLEN];
    ck_assert_msg(ipv4_of(res, text, sizeof text) && strncmp(text, "127.", 4) == 0,
                  "expected localhost to be 127.x.x.x, got %s", text);
    ck_assert_int_eq(ntohs(((struct sockaddr_in *)res->ai_addr)->sin_port), 80);
    green_freeaddrinfo(res);

    char buf[INET_ADDRSTRLEN];
    rc = green_gethostbyname("localhost", buf, sizeof buf, 2.0);
    ck_assert_msg(rc == 0 && strncmp(buf, "127.", 4) == 0, "expected green_gethostbyname(\"localhost\") to "
                  "give 127.x.x.x, got %d (%s) \"%s\"", rc, gai_strerror(rc), rc == 0 ? buf : "");
    green_hub_destroy();
}
END_TEST

START_TEST(test_getaddrinfo_literal)
{
    struct addrinfo *res = NULL;
    int rc = green_getaddrinfo("10.1.2.3", "8080", NULL, &res, 1.0);
    ck_assert_msg(rc == 0, "expected green_getaddrinfo of a literal address to succeed, got %d (%s)",
                  rc, gai_strerror(rc));
    char text[INET_ADDRSTRLEN];
    ck_assert_msg(res->ai_family == AF_INET && ipv4_of(res, text, sizeof text) && strcmp(text, "10.1.2.3") == 0,
                  "expected the literal 10.1.2.3 back");
    ck_assert_int_eq(ntohs(((struct sockaddr_in *)res->ai_addr)->sin_port), 8080);
    green_freeaddrinfo(res);

    struct addrinfo hints6 = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    rc = green_getaddrinfo("::1", "80", &hints6, &res, 1.0);
    ck_assert_msg(rc == 0 && res->ai_family == AF_INET6, "expected green_getaddrinfo(\"::1\") to give an "
                  "IPv6 address, got %d (%s)", rc, gai_strerror(rc));
    green_freeaddrinfo(res);

    char buf[INET_ADDRSTRLEN];
    rc = green_gethostbyname("192.0.2.44", buf, sizeof buf, 1.0);
    ck_assert_msg(rc == 0 && strcmp(buf, "192.0.2.44") == 0, "expected green_gethostbyname of a literal to "
                  "give it back, got %d (%s)", rc, gai_strerror(rc));
    char tiny[4];
    rc = green_gethostbyname("192.0.2.44", tiny, sizeof tiny, 1.0);
    ck_assert_msg(rc != 0, "expected green_gethostbyname into a 4-byte buffer to fail");
    green_hub_destroy();
}
END_TEST

/* evdns answers a literal address or an /etc/hosts name at once, from
 * inside evdns_getaddrinfo: the caller never waits, so the callback must
 * not leave a wake-up behind.  One left behind would end the caller's
 * next wait early, whatever it waits for. */
START_TEST(test_lookup_answered_at_once_leaves_no_wakeup)
{
    char buf[INET_ADDRSTRLEN];
    int rc = green_gethostbyname("localhost", buf, sizeof buf, 1.0);
    ck_assert_msg(rc == 0, "green_gethostbyname(\"localhost\") failed: %d (%s)", rc, gai_strerror(rc));
    double t0 = green_now();
    rc = green_sleep(0.1);
    assert_took("green_sleep(0.1) right after a lookup answered from /etc/hosts", green_now() - t0, 0.09, 2.0);

    struct addrinfo *res;
    rc = green_getaddrinfo("127.0.0.1", "80", NULL, &res, 1.0);
    ck_assert_msg(rc == 0, "green_getaddrinfo(\"127.0.0.1\") failed: %d (%s)", rc, gai_strerror(rc));
    green_freeaddrinfo(res);
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    rc = green_wait_read(p[0], 0.1);
    ck_assert_msg(rc == -1 && errno == ETIMEDOUT, "expected green_wait_read on an empty pipe right after a "
                  "lookup of a literal address to time out, got %d (%s): a wake-up was left behind",
                  rc, kit_why(rc, errno));
    close(p[0]);
    close(p[1]);
    green_hub_destroy();
}
END_TEST

/* A name server that never answers: a UDP socket nobody reads. */
static int silent_nameserver(void)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_msg(fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0,
                  "test setup: cannot bind a UDP socket on 127.0.0.1: %s", strerror(errno));
    char where[32];
    snprintf(where, sizeof where, "127.0.0.1:%d", green_socket_port(fd));
    ck_assert_msg(green_dns_set_nameserver(where) == 0, "green_dns_set_nameserver(%s) failed", where);
    return fd;
}

START_TEST(test_gethostbyname_timeout)
{
    int ns = silent_nameserver();
    green_t *t = kit_ticker_start(0.005);
    char buf[INET_ADDRSTRLEN];
    double t0 = green_now();
    int rc = green_gethostbyname("www.python.org", buf, sizeof buf, 0.3);
    double took = green_now() - t0;
    int seen = kit_ticker_stop(t);
    ck_assert_msg(rc == EAI_AGAIN, "expected green_gethostbyname against a name server that never "
                  "answers to fail with EAI_AGAIN, got %d (%s)", rc, gai_strerror(rc));
    assert_took("green_gethostbyname(timeout 0.3)", took, 0.29, 1.5);
    ck_assert_msg(seen >= 1, "expected other greenlets to run during the lookup, a ticker ticked "
                  "%d times in 0.3 s", seen);
    close(ns);
    green_hub_destroy();
}
END_TEST

struct lookup {
    const char *name;
    int rc;
    int err;
    char addr[INET_ADDRSTRLEN];
};

static void *lookup(void *arg)
{
    struct lookup *l = arg;
    l->rc = green_gethostbyname(l->name, l->addr, sizeof l->addr, GREEN_FOREVER);
    l->err = errno;
    return NULL;
}

START_TEST(test_kill_during_lookup)
{
    int ns = silent_nameserver();
    struct lookup l = { .name = "www.foofish.net", .rc = -2 };
    green_t *g = green_spawn(lookup, &l);
    green_sleep(0.05);
    int rc = green_kill(g, 1.0);
    ck_assert_msg(rc == 0, "expected green_kill of a greenlet in a lookup to return 0: %s", kit_why(rc, errno));
    ck_assert_msg(l.rc == EAI_SYSTEM && l.err == ECANCELED, "expected a killed lookup to fail with "
                  "EAI_SYSTEM and errno ECANCELED, got %d (%s)", l.rc, l.rc == EAI_SYSTEM ?
                  strerror(l.err) : gai_strerror(l.rc));
    green_free(g);
    close(ns);
    green_hub_destroy();
}
END_TEST

/* A name server that does answer: evdns's server side, on the hub's own
 * loop.  It knows a few names under .test; it says "no such name" for the
 * others. */
static const char *const zone[][2] = {
    { "www.google.com", "74.125.128.147" },
    { "www.python.org", "82.94.164.162" },
    { "www.foofish.net", "106.186.27.60" },
    { "green.test", "10.0.0.7" },
};

static int questions;

static void answer(struct evdns_server_request *req, void *unused)
{
    (void)unused;
    questions++;
    const struct evdns_server_question *q = req->questions[0];
    for (size_t i = 0; i < sizeof zone / sizeof zone[0]; i++) {
        struct in_addr addr;
        if (q->type == EVDNS_TYPE_A && strcasecmp(q->name, zone[i][0]) == 0
            && inet_pton(AF_INET, zone[i][1], &addr) == 1) {
            evdns_server_request_add_a_reply(req, q->name, 1, &addr, 60);
            evdns_server_request_respond(req, 0);
            return;
        }
    }
    evdns_server_request_respond(req, DNS_ERR_NOTEXIST);
}

static struct evdns_server_port *local_nameserver(void)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = green_socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_msg(fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0,
                  "test setup: cannot bind a UDP socket on 127.0.0.1: %s", strerror(errno));
    char where[32];
    snprintf(where, sizeof where, "127.0.0.1:%d", green_socket_port(fd));
    ck_assert_msg(green_dns_set_nameserver(where) == 0, "green_dns_set_nameserver(%s) failed", where);
    struct evdns_server_port *port = evdns_add_server_port_with_base(green_hub_base(), fd, 0, answer, NULL);
    ck_assert_msg(port != NULL, "test setup: evdns_add_server_port_with_base failed");
    questions = 0;
    return port;
}

START_TEST(test_lookups_at_once)
{
    struct evdns_server_port *server = local_nameserver();
    struct lookup ls[] = {
        { .name = "www.google.com" }, { .name = "www.python.org" },
        { .name = "www.foofish.net" }, { .name = "green.test" }, { .name = "localhost" },
    };
    enum { N = sizeof ls / sizeof ls[0] };
    green_t *gs[N];
    for (int i = 0; i < N; i++)
        gs[i] = green_spawn(lookup, &ls[i]);
    int rc = green_joinall(gs, N, 2.0);
    ck_assert_msg(rc == 0, "expected %d lookups against a local name server to finish within 2 s: %s",
                  N, kit_why(rc, errno));
    for (int i = 0; i < N - 1; i++)
        ck_assert_msg(ls[i].rc == 0 && strcmp(ls[i].addr, zone[i][1]) == 0,
                      "expected %s to resolve to %s, got %d (%s) \"%s\"", ls[i].name, zone[i][1],
                      ls[i].rc, gai_strerror(ls[i].rc), ls[i].rc == 0 ? ls[i].addr : "");
    ck_assert_msg(ls[N - 1].rc == 0 && strncmp(ls[N - 1].addr, "127.", 4) == 0,
                  "expected localhost to resolve from /etc/hosts");
    ck_assert_msg(questions >= N - 1, "expected the name server to be asked %d questions, it was asked %d",
                  N - 1, questions);
    for (int i = 0; i < N; i++)
        green_free(gs[i]);

    char buf[INET_ADDRSTRLEN];
    rc = green_gethostbyname("nosuch.test", buf, sizeof buf, 2.0);
    ck_assert_msg(rc == EAI_NONAME, "expected a name the server does not know to fail with EAI_NONAME, "
                  "got %d (%s)", rc, gai_strerror(rc));

    /* green_tcp_connect resolves names the same way. */
    char port[16];
    int l = listen_local(port, sizeof port, 4);
    int c = green_tcp_connect("localhost", port, 2.0);
    ck_assert_msg(c >= 0, "expected green_tcp_connect(\"localhost\", %s) to connect: %s", port, strerror(errno));
    close(c);
    close(l);
    evdns_close_server_port(server);
    green_hub_destroy();
}
END_TEST

static void *lookup_green_test(void *unused)
{
    (void)unused;
    char buf[INET_ADDRSTRLEN];
    green_gethostbyname("green.test", buf, sizeof buf, GREEN_FOREVER);
    return NULL;
}

/* The answer may come in after the asker was killed but before it runs
 * again (the hub polls libevent every few rounds while others are ready).
 * The asker must then keep the answer's memory to itself: evdns has
 * already finished and freed the question, so cancelling it would touch
 * freed memory.  Killing after 0..99 yields hits that moment many times. */
START_TEST(test_kill_as_the_answer_arrives)
{
    struct evdns_server_port *server = local_nameserver();
    for (int trial = 0; trial < 300; trial++) {
        green_t *g = green_spawn(lookup_green_test, NULL);
        for (int k = 0; k < trial % 100; k++)
            green_sleep(0);
        ck_assert_msg(green_kill(g, 1.0) == 0, "trial %d: green_kill of a lookup failed: %s", trial, strerror(errno));
        green_free(g);
    }
    ck_assert_msg(questions > 0, "expected some questions to reach the name server");
    green_sleep(0.05);              /* let cancelled questions finish */
    evdns_close_server_port(server);
    green_hub_destroy();
}
END_TEST

/* ---- errno is untouched on success (green.h's conventions) -------------- */

/* Sends "x" after a moment, so that the reader's first read says EAGAIN. */
static void *send_later(void *arg)
{
    green_sleep(0.01);
    green_send(P2INT(arg), "x", 1, 1.0);
    return NULL;
}

START_TEST(test_errno_untouched_on_success)
{
    char port[16], c;
    int lfd = listen_local(port, sizeof port, 8);
    errno = EDOM;               /* a value no call of io.c would set */
    int cfd = green_tcp_connect("127.0.0.1", port, 1.0);
    ck_assert_msg(cfd >= 0 && errno == EDOM, "green_tcp_connect succeeded (%d) and should leave "
                  "errno alone (EDOM), got %s; see lib/green.h, 'Errors'", cfd, strerror(errno));
    int afd = green_accept(lfd, NULL, NULL, 1.0);
    ck_assert_msg(afd >= 0 && errno == EDOM, "green_accept succeeded (%d) and should leave errno "
                  "alone (EDOM), got %s; see lib/green.h, 'Errors'", afd, strerror(errno));
    green_t *g = green_spawn(send_later, INT2P(afd));
    ssize_t n = green_recv(cfd, &c, 1, 1.0);    /* EAGAIN first, then a wait */
    ck_assert_msg(n == 1 && errno == EDOM, "green_recv waited, then got %zd byte: errno should "
                  "be the caller's again (EDOM), got %s; see lib/green.h, 'Errors'", n, strerror(errno));
    green_join(g, 1.0);
    errno = EDOM;
    ck_assert_int_eq(green_sendall(cfd, "y", 1, 1.0), 1);
    ck_assert_msg(errno == EDOM, "green_sendall should leave errno alone, got %s", strerror(errno));
    close(afd);
    close(cfd);
    close(lfd);
    green_hub_destroy();
}
END_TEST

static Suite *io_suite(void)
{
    Suite *s = suite_create("io");
    TCase *tc = kit_tcase("sockets");
    tcase_add_test(tc, test_echo_many_clients);
    tcase_add_test(tc, test_accepted_fd_is_nonblocking);
    tcase_add_test(tc, test_listen_port_zero);
    tcase_add_test(tc, test_wait_on_pipe);
    tcase_add_test(tc, test_errno_untouched_on_success);
    suite_add_tcase(s, tc);

    tc = kit_tcase("timeouts");
    tcase_add_test(tc, test_recv_timeout);
    tcase_add_test(tc, test_accept_timeout);
    tcase_add_test(tc, test_connect_timeout);
    tcase_add_test(tc, test_sendall_timeout_covers_whole_call);
    suite_add_tcase(s, tc);

    tc = kit_tcase("errors");
    tcase_add_test(tc, test_connect_refused);
    tcase_add_test(tc, test_peer_reset_mid_read);
    tcase_add_test(tc, test_send_to_closed_peer_epipe);
    tcase_add_test(tc, test_kill_blocked_recv);
    suite_add_tcase(s, tc);

    tc = kit_tcase("transfers");
    tcase_add_test(tc, test_sendall_large_to_slow_reader);
    suite_add_tcase(s, tc);

    tc = kit_tcase("dns");
    tcase_add_test(tc, test_getaddrinfo_localhost);
    tcase_add_test(tc, test_getaddrinfo_literal);
    tcase_add_test(tc, test_lookup_answered_at_once_leaves_no_wakeup);
    tcase_add_test(tc, test_gethostbyname_timeout);
    tcase_add_test(tc, test_kill_during_lookup);
    tcase_add_test(tc, test_kill_as_the_answer_arrives);
    tcase_add_test(tc, test_lookups_at_once);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(io_suite()); }
