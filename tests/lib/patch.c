/*
 * tests/lib/patch.c - the library's own tests of the patch layer
 * (lib/05-patch/patch.h).
 *
 * This program is itself linked in the --wrap form (lib/05-patch/build.mk):
 * every sleep(), read(), connect() ... below goes through greenwrap.o.
 * The load-time form is tested by running a helper program
 * (tests/lib/patch/sleepers.c) with and without LD_PRELOAD.
 *
 * Patched calls inside greenlets must let the others run; the same calls
 * outside any greenlet must behave exactly like the originals.
 */
#include "harness.h"

#ifdef __linux__

#include "green.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define LESSON "chapters/05-patch/README.md"

extern char **environ;

/* Timing checks: at least the time asked for (less a little clock slack),
 * and under `hi`, which separates "together" from "one after the other". */
/* Lower bounds leave room: libevent arms timers from the time it cached at
 * the top of its loop, so a timed wait may end a few ms early by the clock
 * (more under the sanitizers). */
#define assert_took(what, elapsed, lo, hi)                                   \
    ck_assert_msg((elapsed) >= (lo) && (elapsed) < (hi),                    \
                  "%s: expected between %.0f and %.0f ms, took %.1f ms",    \
                  (what), (lo) * 1e3, (hi) * 1e3, (elapsed) * 1e3)

static int is_blocking(int fd)
{
    return !(fcntl(fd, F_GETFL) & O_NONBLOCK);
}

static void make_pipe(int p[2])
{
    ck_assert_msg(pipe(p) == 0, "test setup: pipe() failed: %s", strerror(errno));
}

/* A greenlet that counts while others wait: proof that they waited
 * cooperatively. */
static int ticks, stop_ticking;

static void *ticker(void *arg)
{
    (void)arg;
    while (!stop_ticking && green_sleep(0.01) == 0)
        ticks++;
    return NULL;
}

static green_t *start_ticker(void)
{
    ticks = 0;
    stop_ticking = 0;
    return green_spawn(ticker, NULL);
}

static void stop_ticker(green_t *t)
{
    stop_ticking = 1;
    green_join(t, GREEN_FOREVER);
    green_free(t);
}

/* Run fn(arg) in n greenlets and wait for them all; returns the time. */
/* Sleepers note how many had fallen asleep when the first one woke: all
 * of them when the sleeps overlap, 1 when each blocks the thread.  That is
 * the lesson, the same on a fast, a slow or a loaded machine, where a
 * wall-clock bound between "together" and "one after the other" is not. */
static int asleep, asleep_at_first_wake;

static void fall_asleep(void)
{
    asleep++;
}

static void wake_up(void)
{
    if (asleep_at_first_wake == 0)
        asleep_at_first_wake = asleep;
}

static double run_greenlets(green_fn_t fn, void **args, int n)
{
    green_t *gs[8];
    asleep = asleep_at_first_wake = 0;
    double start = green_now();
    for (int i = 0; i < n; i++)
        gs[i] = green_spawn(fn, args ? args[i] : NULL);
    green_joinall(gs, n, GREEN_FOREVER);
    double took = green_now() - start;
    for (int i = 0; i < n; i++)
        green_free(gs[i]);
    return took;
}

/* ---- Outside a greenlet: the originals ---------------------------------- */

START_TEST(test_outside_sleeps_are_the_originals)
{
    double t0 = green_now();
    ck_assert_int_eq(usleep(50000), 0);
    assert_took("usleep(50000) outside a greenlet", green_now() - t0, 0.045, 1.0);

    struct timespec req = { 0, 50000000L }, rem = { 7, 7 };
    t0 = green_now();
    ck_assert_int_eq(nanosleep(&req, &rem), 0);
    assert_took("nanosleep(50 ms) outside a greenlet", green_now() - t0, 0.045, 1.0);

    req.tv_nsec = 1000000000L;   /* out of range: the original says EINVAL */
    errno = 0;
    ck_assert_msg(nanosleep(&req, NULL) == -1 && errno == EINVAL,
                  "nanosleep with tv_nsec = 1e9 should fail with EINVAL, errno is %s",
                  strerror(errno));

    t0 = green_now();
    ck_assert_int_eq(sleep(1), 0);
    assert_took("sleep(1) outside a greenlet", green_now() - t0, 0.99, 2.0);

    ck_assert_msg(!green_hub_active(),
                  "a patched call made outside any greenlet created a hub; it "
                  "must only pass through; " KIT_LESSON(LESSON, "Inside or outside a greenlet"));
}
END_TEST

START_TEST(test_outside_io_is_the_original)
{
    int p[2];
    char buf[16] = "";
    make_pipe(p);
    ck_assert_int_eq(write(p[1], "hello", 5), 5);
    ck_assert_int_eq(read(p[0], buf, sizeof buf), 5);
    ck_assert_msg(memcmp(buf, "hello", 5) == 0, "read on a pipe returned '%.5s'", buf);

    FILE *f = tmpfile();
    ck_assert_msg(f != NULL, "test setup: tmpfile() failed");
    ck_assert_int_eq(write(fileno(f), "on disk", 7), 7);
    lseek(fileno(f), 0, SEEK_SET);
    memset(buf, 0, sizeof buf);
    ck_assert_int_eq(read(fileno(f), buf, sizeof buf), 7);
    ck_assert_str_eq(buf, "on disk");
    fclose(f);

    errno = 0;
    ck_assert_msg(read(-1, buf, 1) == -1 && errno == EBADF,
                  "read(-1) should fail with EBADF, errno is %s", strerror(errno));

    struct pollfd pfd = { .fd = p[0], .events = POLLIN };
    double t0 = green_now();
    ck_assert_int_eq(poll(&pfd, 1, 50), 0);
    assert_took("poll on an empty pipe, timeout 50 ms, outside a greenlet",
                green_now() - t0, 0.045, 1.0);

    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
    ck_assert_int_eq(getaddrinfo("127.0.0.1", "80", &hints, &ai), 0);
    ck_assert_int_eq(ai->ai_family, AF_INET);
    freeaddrinfo(ai);

    close(p[0]);
    close(p[1]);
    ck_assert_msg(!green_hub_active(),
                  "a patched call made outside any greenlet created a hub; " KIT_LESSON(LESSON, "Inside or outside a greenlet"));
}
END_TEST

/* The hub runs libevent's callbacks; a patched call made there must not
 * try to wait on the hub (the hub would abort: it cannot wait). */
struct from_hub { double took; int slept, got; };

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct from_hub *r = arg;
    int p[2];
    char c = 0;
    double t0 = green_now();
    r->slept = usleep(20000);
    r->took = green_now() - t0;
    if (pipe(p) == 0) {
        r->got = write(p[1], "x", 1) == 1 && read(p[0], &c, 1) == 1 && c == 'x';
        close(p[0]);
        close(p[1]);
    }
}

START_TEST(test_calls_from_the_hub_pass_through)
{
    struct from_hub r = { 0, -1, 0 };
    struct timeval soon = { 0, 1000 };
    ck_assert_int_eq(event_base_once(green_hub_base(), -1, EV_TIMEOUT, on_timer, &r, &soon), 0);
    green_sleep(0.1);
    ck_assert_msg(r.slept == 0 && r.took >= 0.018,
                  "usleep(20000) in a libevent callback should block for real "
                  "(the hub cannot wait): returned %d after %.1f ms; " KIT_LESSON(LESSON, "Inside or outside a greenlet"), r.slept, r.took * 1e3);
    ck_assert_msg(r.got, "write and read on a pipe in a libevent callback failed");
    green_hub_destroy();
}
END_TEST

/* ---- Sleeping ----------------------------------------------------------- */

static void *usleeper(void *arg)
{
    (void)arg;
    fall_asleep();
    usleep(200000);
    wake_up();
    return NULL;
}

static void *nanosleeper(void *arg)
{
    (void)arg;
    struct timespec req = { 0, 200000000L };
    fall_asleep();
    nanosleep(&req, NULL);
    wake_up();
    return NULL;
}

static void *sleeper(void *arg)
{
    (void)arg;
    fall_asleep();
    sleep(1);
    wake_up();
    return NULL;
}

/* Three sleeps that took at least `lo` in all, and overlapped. */
static void assert_overlap(const char *what, double took, double lo)
{
    ck_assert_msg(took >= lo, "%s: expected at least %.0f ms, took %.1f ms", what, lo * 1e3, took * 1e3);
    ck_assert_msg(asleep_at_first_wake == 3, "%s: together, not one after the other: when the "
                  "first woke, %d of the 3 were asleep (" KIT_LESSON(LESSON, "Sleeping") ")", what,
                  asleep_at_first_wake);
}

START_TEST(test_sleeps_overlap)
{
    double took = run_greenlets(usleeper, NULL, 3);
    assert_overlap("three greenlets calling usleep(200000)", took, 0.17);
    took = run_greenlets(nanosleeper, NULL, 3);
    assert_overlap("three greenlets calling nanosleep(0.2 s)", took, 0.17);
    took = run_greenlets(sleeper, NULL, 3);
    assert_overlap("three greenlets calling sleep(1)", took, 0.95);
    green_hub_destroy();
}
END_TEST

struct killed { int which; long rc; int err; struct timespec rem; };

static void *long_sleeper(void *arg)
{
    struct killed *k = arg;
    struct timespec req = { 10, 0 };
    switch (k->which) {
    case 0: k->rc = usleep(9000000); break;
    case 1: k->rc = nanosleep(&req, &k->rem); break;
    default: k->rc = (long)sleep(10); break;
    }
    k->err = errno;
    return NULL;
}

START_TEST(test_killed_sleepers_wake_at_once)
{
    struct killed k[3] = { { .which = 0 }, { .which = 1 }, { .which = 2 } };
    green_t *g[3];
    for (int i = 0; i < 3; i++)
        g[i] = green_spawn(long_sleeper, &k[i]);
    green_sleep(0.05);
    double t0 = green_now();
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(green_kill(g[i], 1.0), 0);
    assert_took("killing three sleepers", green_now() - t0, 0, 0.5);
    ck_assert_msg(k[0].rc == -1 && k[0].err == ECANCELED,
                  "a killed usleep should return -1 with ECANCELED, got %ld (%s)",
                  k[0].rc, strerror(k[0].err));
    ck_assert_msg(k[1].rc == -1 && k[1].err == ECANCELED && k[1].rem.tv_sec >= 9,
                  "a killed nanosleep(10 s) should return -1, ECANCELED, about 9.9 s "
                  "left in *rem; got %ld (%s), %ld s left", k[1].rc,
                  strerror(k[1].err), (long)k[1].rem.tv_sec);
    ck_assert_msg(k[2].rc == 10,
                  "a killed sleep(10) should return the seconds left, rounded up "
                  "(10), got %ld", k[2].rc);
    for (int i = 0; i < 3; i++)
        green_free(g[i]);
    green_hub_destroy();
}
END_TEST

static char order[8];

static void *note(void *arg)
{
    strcat(order, arg);
    return NULL;
}

static void *yield_then_note(void *arg)
{
    usleep(0);
    strcat(order, arg);
    return NULL;
}

START_TEST(test_sleep_zero_yields)
{
    order[0] = '\0';
    void *args[2] = { "A", "B" };
    green_t *a = green_spawn(yield_then_note, args[0]);
    green_t *b = green_spawn(note, args[1]);
    green_join(a, GREEN_FOREVER);
    green_join(b, GREEN_FOREVER);
    ck_assert_msg(strcmp(order, "BA") == 0,
                  "usleep(0) in a greenlet should yield (like gevent.sleep(0)), "
                  "so B notes first: expected \"BA\", got \"%s\"", order);
    green_free(a);
    green_free(b);
    green_hub_destroy();
}
END_TEST

/* ---- Pipes -------------------------------------------------------------- */

struct pipe_job { int fd; ssize_t rc; int err; char buf[64]; size_t n; double delay; };

static void *pipe_reader(void *arg)
{
    struct pipe_job *j = arg;
    j->rc = read(j->fd, j->buf, sizeof j->buf - 1);
    j->err = errno;
    return NULL;
}

static void *pipe_writer(void *arg)
{
    struct pipe_job *j = arg;
    green_sleep(j->delay);
    j->rc = write(j->fd, j->buf, j->n);
    j->err = errno;
    return NULL;
}

START_TEST(test_pipe_read_waits_cooperatively)
{
    int p[2];
    make_pipe(p);
    struct pipe_job r = { .fd = p[0] };
    struct pipe_job w = { .fd = p[1], .buf = "hello", .n = 5, .delay = 0.1 };
    green_t *t = start_ticker();
    void *args[2] = { &r, &w };
    green_t *gr = green_spawn(pipe_reader, args[0]);
    green_t *gw = green_spawn(pipe_writer, args[1]);
    double t0 = green_now();
    green_join(gr, GREEN_FOREVER);
    double took = green_now() - t0;
    green_join(gw, GREEN_FOREVER);
    stop_ticker(t);

    ck_assert_msg(r.rc == 5 && memcmp(r.buf, "hello", 5) == 0,
                  "read on a pipe in a greenlet returned %zd ('%.5s'), expected 5 ('hello')",
                  r.rc, r.buf);
    assert_took("read waiting for a writer that writes after 0.1 s", took, 0.095, 1.0);
    ck_assert_msg(ticks >= 2,
                  "while a greenlet waited in read(), another should have run: "
                  "it ticked %d times in 0.1 s; " KIT_LESSON(LESSON, "Sockets and pipes without O_NONBLOCK"),
                  ticks);
    ck_assert_msg(is_blocking(p[0]) && is_blocking(p[1]),
                  "the pipe must stay blocking: the program never asked for O_NONBLOCK");
    close(p[0]);
    close(p[1]);
    green_free(gr);
    green_free(gw);
    green_hub_destroy();
}
END_TEST

#define BIG (256 * 1024)

struct big { int fd; ssize_t rc; size_t got; int in_order; };

static void *big_writer(void *arg)
{
    struct big *b = arg;
    unsigned char *data = malloc(BIG);
    for (size_t i = 0; i < BIG; i++)
        data[i] = (unsigned char)(i % 251);
    b->rc = write(b->fd, data, BIG);
    free(data);
    return NULL;
}

static void *big_reader(void *arg)
{
    struct big *b = arg;
    unsigned char buf[4096];
    b->in_order = 1;
    while (b->got < BIG) {
        ssize_t n = read(b->fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != (unsigned char)((b->got + (size_t)i) % 251))
                b->in_order = 0;
        b->got += (size_t)n;
        green_sleep(0);
    }
    return NULL;
}

START_TEST(test_pipe_write_bigger_than_the_pipe)
{
    int p[2];
    make_pipe(p);
    struct big w = { .fd = p[1] }, r = { .fd = p[0] };
    void *args[2] = { &w, &r };
    green_t *gw = green_spawn(big_writer, args[0]);
    green_t *gr = green_spawn(big_reader, args[1]);
    ck_assert_int_eq(green_join(gw, 5.0), 0);
    ck_assert_int_eq(green_join(gr, 5.0), 0);
    ck_assert_msg(w.rc == BIG,
                  "write of %d bytes to a blocking pipe should return %d (a blocking "
                  "write writes everything), got %zd", BIG, BIG, w.rc);
    ck_assert_msg(r.got == BIG && r.in_order, "the reader got %zu bytes%s", r.got,
                  r.in_order ? "" : ", not in order");
    close(p[0]);
    close(p[1]);
    green_free(gw);
    green_free(gr);
    green_hub_destroy();
}
END_TEST

struct plain_job { int fd; ssize_t rc; int err; double took; };

static void *read_at_once(void *arg)
{
    struct plain_job *j = arg;
    char buf[16];
    double t0 = green_now();
    j->rc = read(j->fd, buf, sizeof buf);
    j->err = errno;
    j->took = green_now() - t0;
    return NULL;
}

START_TEST(test_nonblocking_and_disk_pass_through)
{
    int p[2];
    make_pipe(p);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    struct plain_job j = { .fd = p[0] };
    void *args[1] = { &j };
    run_greenlets(read_at_once, args, 1);
    ck_assert_msg(j.rc == -1 && j.err == EAGAIN,
                  "read on an empty O_NONBLOCK pipe in a greenlet should fail at once "
                  "with EAGAIN (the program asked for that), got %zd (%s); " KIT_LESSON(LESSON, "Inside or outside a greenlet"), j.rc, strerror(j.err));

    FILE *f = tmpfile();
    ck_assert_msg(f != NULL, "test setup: tmpfile() failed");
    fputs("disk", f);
    fflush(f);
    lseek(fileno(f), 0, SEEK_SET);
    struct plain_job d = { .fd = fileno(f) };
    args[0] = &d;
    run_greenlets(read_at_once, args, 1);
    ck_assert_msg(d.rc == 4, "read on a disk file in a greenlet returned %zd (%s), expected 4",
                  d.rc, strerror(d.err));
    fclose(f);
    close(p[0]);
    close(p[1]);
    green_hub_destroy();
}
END_TEST

/* ---- Sockets ------------------------------------------------------------ */

/* A plain blocking TCP server socket on 127.0.0.1, port chosen by the
 * kernel. */
static int listen_local(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    ck_assert_msg(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0
                  && listen(fd, 16) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0,
                  "test setup: cannot listen on 127.0.0.1: %s", strerror(errno));
    *port = ntohs(a.sin_port);
    return fd;
}

/* Plain blocking code: answer "pong" 0.2 s after the request. */
static void *handle(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[16];
    if (read(fd, buf, sizeof buf) > 0) {
        fall_asleep();
        usleep(200000);
        wake_up();
        send(fd, "pong", 4, 0);
    }
    close(fd);
    return NULL;
}

static int nclients = 3, server_port, blocking_conns;

static void *server(void *arg)
{
    int listener = (int)(intptr_t)arg;
    green_t *hs[8];
    for (int i = 0; i < nclients; i++) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0)
            return NULL;
        blocking_conns += is_blocking(fd);
        hs[i] = green_spawn(handle, (void *)(intptr_t)fd);
    }
    for (int i = 0; i < nclients; i++) {
        green_join(hs[i], GREEN_FOREVER);
        green_free(hs[i]);
    }
    return NULL;
}

struct client { char reply[16]; int connected, still_blocking; };

static void *client(void *arg)
{
    struct client *c = arg;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)server_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    c->connected = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    c->still_blocking = is_blocking(fd);
    if (c->connected && write(fd, "ping", 4) == 4)
        recv(fd, c->reply, sizeof c->reply - 1, 0);
    close(fd);
    return NULL;
}

START_TEST(test_blocking_clients_and_server_overlap)
{
    int listener = listen_local(&server_port);
    blocking_conns = 0;
    struct client cs[3];
    memset(cs, 0, sizeof cs);
    void *args[3] = { &cs[0], &cs[1], &cs[2] };
    green_t *s = green_spawn(server, (void *)(intptr_t)listener);
    double took = run_greenlets(client, args, 3);
    green_join(s, GREEN_FOREVER);
    green_free(s);
    for (int i = 0; i < 3; i++) {
        ck_assert_msg(cs[i].connected, "client %d: connect() to 127.0.0.1:%d failed",
                      i, server_port);
        ck_assert_msg(strcmp(cs[i].reply, "pong") == 0,
                      "client %d: expected the reply 'pong', got '%s'", i, cs[i].reply);
        ck_assert_msg(cs[i].still_blocking, "client %d: connect() left the socket non-blocking", i);
    }
    ck_assert_msg(blocking_conns == 3, "accept() should return blocking sockets, as the "
                  "original does: %d of 3 were", blocking_conns);
    assert_overlap("three clients served 0.2 s each", took, 0.17);
    close(listener);
    green_hub_destroy();
}
END_TEST

START_TEST(test_connect_refused)
{
    int port;
    int closed = listen_local(&port);
    close(closed);                    /* nobody listens there any more */
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    green_hub();                      /* main is a greenlet from now on */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    errno = 0;
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    ck_assert_msg(rc == -1 && errno == ECONNREFUSED,
                  "connect() to a closed port should fail with ECONNREFUSED, got %d (%s)",
                  rc, strerror(errno));
    ck_assert_msg(is_blocking(fd), "connect() left the socket non-blocking");
    close(fd);
    green_hub_destroy();
}
END_TEST

struct timed { int fd; ssize_t rc; int err; double took; char buf[8]; };

static void *recv_with_timeout(void *arg)
{
    struct timed *t = arg;
    double t0 = green_now();
    t->rc = recv(t->fd, t->buf, sizeof t->buf, 0);
    t->err = errno;
    t->took = green_now() - t0;
    return NULL;
}

START_TEST(test_recv_honours_so_rcvtimeo)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct timeval tv = { 0, 100000 };
    setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct timed t = { .fd = sv[0] };
    green_t *tk = start_ticker();
    void *args[1] = { &t };
    run_greenlets(recv_with_timeout, args, 1);
    stop_ticker(tk);
    ck_assert_msg(t.rc == -1 && t.err == EAGAIN,
                  "recv on a socket with SO_RCVTIMEO 0.1 s and no data should fail "
                  "with EAGAIN, as the original does; got %zd (%s)", t.rc, strerror(t.err));
    assert_took("recv with SO_RCVTIMEO 0.1 s", t.took, 0.095, 1.0);
    ck_assert_msg(ticks >= 2, "the others should run while recv waits: %d ticks", ticks);
    close(sv[0]);
    close(sv[1]);
    green_hub_destroy();
}
END_TEST

static void *send_in_two_parts(void *arg)
{
    int fd = *(int *)arg;
    send(fd, "ab", 2, 0);
    green_sleep(0.05);
    send(fd, "cd", 2, 0);
    return NULL;
}

START_TEST(test_recv_waitall)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    green_t *w = green_spawn(send_in_two_parts, &sv[1]);
    char buf[8] = "";
    ssize_t n = recv(sv[0], buf, 4, MSG_WAITALL);
    ck_assert_msg(n == 4 && memcmp(buf, "abcd", 4) == 0,
                  "recv(4, MSG_WAITALL) should wait for both parts: got %zd bytes '%.4s'",
                  n, buf);
    green_join(w, GREEN_FOREVER);
    green_free(w);
    close(sv[0]);
    close(sv[1]);
    green_hub_destroy();
}
END_TEST

/* ---- poll, getaddrinfo -------------------------------------------------- */

START_TEST(test_poll_waits_for_any)
{
    int a[2], b[2];
    make_pipe(a);
    make_pipe(b);
    struct pipe_job w = { .fd = b[1], .buf = "x", .n = 1, .delay = 0.2 };
    green_t *t = start_ticker();
    green_t *gw = green_spawn(pipe_writer, &w);
    struct pollfd fds[2] = { { .fd = a[0], .events = POLLIN }, { .fd = b[0], .events = POLLIN } };
    double t0 = green_now();
    int n = poll(fds, 2, -1);
    double took = green_now() - t0;
    stop_ticker(t);
    ck_assert_msg(n == 1 && fds[1].revents == POLLIN && fds[0].revents == 0,
                  "poll should report the second pipe only: returned %d, revents %#x %#x",
                  n, (unsigned)fds[0].revents, (unsigned)fds[1].revents);
    assert_took("poll waiting for a write 0.2 s later", took, 0.17, 1.0);
    ck_assert_msg(ticks >= 2, "while main waited in poll(), another greenlet should have "
                  "run: it ticked %d times; " KIT_LESSON(LESSON, "poll: waiting for any of several"),
                  ticks);

    t0 = green_now();
    t = start_ticker();
    n = poll(fds, 1, 100);
    took = green_now() - t0;
    stop_ticker(t);
    ck_assert_msg(n == 0, "poll on an empty pipe with timeout 100 ms should return 0, got %d", n);
    assert_took("poll timing out after 100 ms", took, 0.095, 1.0);
    ck_assert_msg(ticks >= 2, "the others should run while poll waits: %d ticks", ticks);

    green_join(gw, GREEN_FOREVER);
    green_free(gw);
    close(a[0]); close(a[1]); close(b[0]); close(b[1]);
    green_hub_destroy();
}
END_TEST

/* "localhost" is a name: the patched getaddrinfo asks evdns (which finds
 * it in /etc/hosts); "127.0.0.1" needs no name server and goes to libc. */
static void *lookup(void *arg)
{
    int *rc = arg;
    static int n;
    const char *host = n++ % 2 ? "127.0.0.1" : "localhost";
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai = NULL;
    *rc = getaddrinfo(host, "8080", &hints, &ai);
    if (*rc == 0) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ai->ai_addr;
        if (ai->ai_family != AF_INET || ntohs(sin->sin_port) != 8080
            || sin->sin_addr.s_addr != htonl(INADDR_LOOPBACK))
            *rc = 12345;
        freeaddrinfo(ai);       /* plain freeaddrinfo on a green answer */
    }
    return NULL;
}

START_TEST(test_getaddrinfo_in_greenlets)
{
    int rc[3] = { -1, -1, -1 };
    void *args[3] = { &rc[0], &rc[1], &rc[2] };
    run_greenlets(lookup, args, 3);
    for (int i = 0; i < 3; i++)
        ck_assert_msg(rc[i] == 0, "getaddrinfo(\"localhost\" or \"127.0.0.1\", \"8080\") in a greenlet: "
                      "%s", rc[i] == 12345 ? "wrong address or port" : gai_strerror(rc[i]));
    green_hub_destroy();
}
END_TEST

/* ---- The load-time form: LD_PRELOAD ------------------------------------- */

/* Run the helper with `arg`, preloaded or not; its first line of output
 * goes to out.  Returns its exit status, or -1 when it could not run. */
static int run_helper(const char *arg, int preload, char *out, size_t size)
{
    int p[2];
    make_pipe(p);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, p[0]);

    /* The environment, less any LD_PRELOAD, plus ours. */
    char *env[256];
    int n = 0;
    for (char **e = environ; *e && n < 250; e++)
        if (strncmp(*e, "LD_PRELOAD=", 11) != 0 && strncmp(*e, "ASAN_OPTIONS=", 13) != 0)
            env[n++] = *e;
    if (preload)
        env[n++] = "LD_PRELOAD=" PATCH_SO;
    /* gcc's ASan wants its runtime first in the list; the helper is built
     * with it, and the preloaded library comes before it. */
    env[n++] = "ASAN_OPTIONS=verify_asan_link_order=0";
    env[n] = NULL;

    char *argv[] = { PATCH_HELPER, (char *)arg, NULL };
    pid_t pid;
    int rc = posix_spawn(&pid, PATCH_HELPER, &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        return -1;
    }
    size_t len = 0;
    ssize_t got;
    while (len < size - 1 && (got = read(p[0], out + len, size - 1 - len)) > 0)
        len += (size_t)got;
    out[len] = '\0';
    close(p[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

START_TEST(test_preload_greens_plain_sleeps)
{
    if (!kit_can_fork()) {
        fprintf(stderr, "patch: LD_PRELOAD test skipped without fork (CK_FORK=no)\n");
        return;
    }
    char out[256];
    ck_assert_msg(run_helper("", 0, out, sizeof out) == 0, "%s did not run: %s",
                  PATCH_HELPER, out);
    double plain = 0, patched = 0;
    int plain_overlap = 0, patched_overlap = 0;
    sscanf(out, "%lf %d", &plain, &plain_overlap);
    ck_assert_msg(run_helper("", 1, out, sizeof out) == 0, "%s under LD_PRELOAD=%s did not run: %s",
                  PATCH_HELPER, PATCH_SO, out);
    sscanf(out, "%lf %d", &patched, &patched_overlap);
    /* The helper says how many sleepers were asleep when the first woke
     * (see sleepers.c): 1 when each blocks the process, 3 when patched. */
    ck_assert_msg(plain >= 0.29 && plain_overlap == 1, "three greenlets calling plain usleep(100000), "
                  "not patched, should sleep one after the other (0.3 s, 1 asleep at a time): "
                  "%.3f s, %d asleep", plain, plain_overlap);
    ck_assert_msg(patched >= 0.095 && patched_overlap == 3, "the same under LD_PRELOAD=libgreenpatch.so "
                  "should sleep together (0.1 s, all 3 asleep when the first wakes): %.3f s, %d asleep "
                  "(" KIT_LESSON(LESSON, "Two ways to replace a function") ")", patched, patched_overlap);
}
END_TEST

START_TEST(test_preload_leaves_plain_programs_alone)
{
    if (!kit_can_fork())
        return;
    char out[256];
    int rc = run_helper("plain", 1, out, sizeof out);
    ck_assert_msg(rc == 0 && strncmp(out, "plain ok", 8) == 0,
                  "a program that uses no greenlet should run unchanged under "
                  "LD_PRELOAD; it said: %s", out);
}
END_TEST

static Suite *patch_suite(void)
{
    Suite *s = suite_create("patch");
    TCase *tc = kit_tcase("outside a greenlet");
    tcase_add_test(tc, test_outside_sleeps_are_the_originals);
    tcase_add_test(tc, test_outside_io_is_the_original);
    tcase_add_test(tc, test_calls_from_the_hub_pass_through);
    suite_add_tcase(s, tc);

    tc = kit_tcase("sleeping");
    tcase_add_test(tc, test_sleeps_overlap);
    tcase_add_test(tc, test_killed_sleepers_wake_at_once);
    tcase_add_test(tc, test_sleep_zero_yields);
    suite_add_tcase(s, tc);

    tc = kit_tcase("pipes");
    tcase_add_test(tc, test_pipe_read_waits_cooperatively);
    tcase_add_test(tc, test_pipe_write_bigger_than_the_pipe);
    tcase_add_test(tc, test_nonblocking_and_disk_pass_through);
    suite_add_tcase(s, tc);

    tc = kit_tcase("sockets");
    tcase_add_test(tc, test_blocking_clients_and_server_overlap);
    tcase_add_test(tc, test_connect_refused);
    tcase_add_test(tc, test_recv_honours_so_rcvtimeo);
    tcase_add_test(tc, test_recv_waitall);
    suite_add_tcase(s, tc);

    tc = kit_tcase("poll and getaddrinfo");
    tcase_add_test(tc, test_poll_waits_for_any);
    tcase_add_test(tc, test_getaddrinfo_in_greenlets);
    suite_add_tcase(s, tc);

    tc = kit_tcase("LD_PRELOAD");
    tcase_add_test(tc, test_preload_greens_plain_sleeps);
    tcase_add_test(tc, test_preload_leaves_plain_programs_alone);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(patch_suite()); }

#else /* not Linux: LD_PRELOAD, RTLD_NEXT and ld --wrap are GNU/Linux's */

START_TEST(test_not_on_this_system)
{
    fprintf(stderr, "patch: the patch layer needs GNU/Linux; nothing to test here\n");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("patch");
    TCase *tc = kit_tcase("unsupported");
    tcase_add_test(tc, test_not_on_this_system);
    suite_add_tcase(s, tc);
    return kit_run_suite(s);
}

#endif
