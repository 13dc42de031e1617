/*
 * tests/lib/server.c - the library's own tests of server.h: a greenlet per
 * connection for many concurrent clients, faults that must not disturb
 * other connections (a peer that resets or vanishes mid-request, a full
 * listen backlog, running out of file descriptors), the pool option, and
 * graceful stops.
 *
 * Servers listen on 127.0.0.1, port 0 (the kernel picks); the clients are
 * greenlets of the same process.  Every test frees its server and ends
 * with green_hub_destroy().
 */
#include "harness.h"
#include "green.h"
#include "pool.h"
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>


#define INT2P(i) ((void *)(intptr_t)(i))
#define P2INT(p) ((int)(intptr_t)(p))

/* ---- Counting accept calls -------------------------------------------- */

/* The test program defines accept4() and accept() itself: the code under
 * test, linked into this program, calls these instead of libc's, which
 * lets the EMFILE test count how often it retries (a back-off retries a
 * few times a second; a spinning loop, thousands of times).  They do what
 * libc's do, with the system call itself. */
static int accept_emfile;

static int counted(long rc)
{
    if (rc < 0 && errno == EMFILE)
        accept_emfile++;
    return (int)rc;
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    return counted(syscall(SYS_accept4, fd, addr, len, flags));
}

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    return counted(syscall(SYS_accept4, fd, addr, len, 0));
}

static int count_of(const char *text, const char *word)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, word)) != NULL; p += strlen(word))
        n++;
    return n;
}

/* ---- Handlers --------------------------------------------------------- */

static int handlers_now, handlers_max, handler_errors, handlers_cancelled;

static void reset_counts(void)
{
    handlers_now = handlers_max = handler_errors = handlers_cancelled = 0;
}

static void enter(void)
{
    if (++handlers_now > handlers_max)
        handlers_max = handlers_now;
}

/* Echo until the client closes; count what went wrong. */
static void echo(int fd, const struct sockaddr *peer, socklen_t len, void *arg)
{
    (void)peer, (void)len, (void)arg;
    char buf[512];
    ssize_t n;
    enter();
    while ((n = green_recv(fd, buf, sizeof buf, 5.0)) > 0)
        if (green_sendall(fd, buf, (size_t)n, 5.0) < 0)
            break;
    if (n < 0)
        handler_errors++;
    handlers_now--;
}

/* Read one request, work `arg` milliseconds, answer "done". */
/* When slow's last handler finished its work: a graceful stop must not
 * return before it (on a loaded machine the handler may have run late,
 * so a stop's duration alone says little). */
static double handler_done_at;

static void slow(int fd, const struct sockaddr *peer, socklen_t len, void *arg)
{
    (void)peer, (void)len;
    char buf[64];
    enter();
    if (green_recv(fd, buf, sizeof buf, 5.0) > 0) {
        if (green_sleep(P2INT(arg) / 1000.0) < 0)
            handlers_cancelled++;
        else {
            handler_done_at = green_now();
            green_sendall(fd, "done", 4, 5.0);
        }
    }
    handlers_now--;
}

static green_server_t *start_server(green_handler_fn_t handler, void *arg,
                                    int pool, int backlog)
{
    /* pool 0 here: no cap, so that running out of descriptors can be
     * provoked; backlog 0: the default. */
    green_server_options_t opt = { .backlog = backlog,
                                   .max_connections = pool ? pool : -1 };
    green_server_t *srv = green_server_new("127.0.0.1", "0", handler, arg, &opt);
    ck_assert_ptr_nonnull(srv);
    int rc = green_server_start(srv);
    ck_assert_msg(rc == 0, "green_server_start on 127.0.0.1:0 failed: %s", strerror(errno));
    ck_assert_msg(green_server_port(srv) > 0, "green_server_port should give the port the kernel chose");
    return srv;
}

/* ---- Clients ---------------------------------------------------------- */

static int server_port;

/* A socket connecting to the server; the connection may still be under
 * way (green_connect finishes it).  -1 on failure. */
static int start_connect(void)
{
    int fd = green_socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)server_port) };
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

static int connect_to_server(double timeout)
{
    int fd = start_connect();
    if (fd < 0)
        return -1;
    if (green_wait_write(fd, timeout) < 0) {
        close(fd);
        errno = ETIMEDOUT;
        return -1;
    }
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

/* Read exactly n bytes (or until EOF/error). */
static ssize_t recv_all(int fd, char *buf, size_t n, double timeout)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = green_recv(fd, buf + got, n - got, timeout);
        if (r <= 0)
            return got > 0 ? (ssize_t)got : r;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* Send "hello N" in two halves with a pause between (so that many
 * requests are in flight at once), expect the echo. */
static int echo_ok;

static int echo_once(int fd, int id)
{
    char msg[32], back[32];
    int len = snprintf(msg, sizeof msg, "hello %d\n", id);
    if (green_sendall(fd, msg, 3, 5.0) < 0 || green_sleep(0.01) < 0
        || green_sendall(fd, msg + 3, (size_t)len - 3, 5.0) < 0)
        return 0;
    return recv_all(fd, back, (size_t)len, 5.0) == len && memcmp(back, msg, (size_t)len) == 0;
}

static void *echo_client(void *arg)
{
    int fd = connect_to_server(5.0);
    if (fd < 0)
        return NULL;
    if (echo_once(fd, P2INT(arg)))
        echo_ok++;
    close(fd);
    return NULL;
}

static int run_echo_clients(int n, int first_id)
{
    echo_ok = 0;
    green_group_t *clients = green_group_new();
    for (int i = 0; i < n; i++)
        green_group_spawn(clients, echo_client, INT2P(first_id + i));
    int rc = green_group_join(clients, 8.0);
    green_group_free(clients);
    return rc == 0 ? echo_ok : -1;
}

/* ---- Tests ------------------------------------------------------------ */

START_TEST(test_echo_many_clients)
{
    reset_counts();
    green_server_t *srv = start_server(echo, NULL, 0, 0);
    server_port = green_server_port(srv);
    enum { N = 200 };
    int ok = run_echo_clients(N, 0);
    ck_assert_msg(ok == N, "%d concurrent clients should all get their echo back, %d did", N, ok);
    ck_assert_msg(handlers_max > 1, "handlers should run concurrently (a greenlet per connection), "
                  "at most %d ran at once", handlers_max);
    ck_assert_msg(green_server_accepted(srv) == N, "accepted %lu connections, expected %d",
                  green_server_accepted(srv), N);
    int rc = green_server_stop(srv, 2.0);
    ck_assert_msg(rc == 0, "stop with no handler left should return 0 (none killed), got %d (%s)",
                  rc, kit_why(rc, errno));
    ck_assert_int_eq(handler_errors, 0);
    green_server_free(srv);
    green_hub_destroy();
}
END_TEST

/* Connect, send half a request, then reset the connection (SO_LINGER 0:
 * close sends RST) or just close it (the peer vanishes). */
static void *bad_client(void *arg)
{
    int fd = connect_to_server(5.0);
    if (fd < 0)
        return NULL;
    green_sendall(fd, "hel", 3, 5.0);
    green_sleep(0.005);
    if (P2INT(arg)) {
        struct linger lg = { 1, 0 };
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(fd);
    return NULL;
}

START_TEST(test_reset_peers_do_not_disturb_others)
{
    reset_counts();
    green_server_t *srv = start_server(echo, NULL, 0, 0);
    server_port = green_server_port(srv);
    echo_ok = 0;
    green_group_t *clients = green_group_new();
    for (int i = 0; i < 40; i++) {
        /* good, resetting, good, vanishing, ... all at once */
        if (i % 2 == 0)
            green_group_spawn(clients, echo_client, INT2P(i));
        else
            green_group_spawn(clients, bad_client, INT2P(i % 4 == 1));
    }
    ck_assert_int_eq(green_group_join(clients, 8.0), 0);
    green_group_free(clients);
    ck_assert_msg(echo_ok == 20, "20 good clients among 20 that reset or vanish mid-request "
                  "should all be echoed, %d were", echo_ok);
    ck_assert_msg(handler_errors >= 1, "handlers of reset connections should have seen an error "
                  "(ECONNRESET), saw %d", handler_errors);
    int ok = run_echo_clients(10, 100);
    ck_assert_msg(ok == 10, "after the resets the server should keep serving: %d of 10 echoed", ok);
    ck_assert_int_eq(green_server_stop(srv, 2.0), 0);
    green_server_free(srv);
    green_hub_destroy();
}
END_TEST


START_TEST(test_emfile_backs_off_and_recovers)
{
    reset_counts();
    green_server_t *srv = start_server(echo, NULL, 0, 0);
    server_port = green_server_port(srv);

    /* Three clients whose connections are under way before the process
     * runs out of descriptors: they wait in the listen backlog. */
    enum { NC = 3 };
    int early[NC];
    for (int i = 0; i < NC; i++) {
        early[i] = start_connect();
        ck_assert_msg(early[i] >= 0, "test setup: socket/connect failed: %s", strerror(errno));
    }

    struct kit_capture cap;         /* before: it needs descriptors too */
    char log[4096];
    kit_capture_start(&cap);

    /* Use up every descriptor: a low soft limit makes it quick. */
    struct rlimit saved, low;
    getrlimit(RLIMIT_NOFILE, &saved);
    low = saved;
    int probe = dup(0);
    close(probe);
    low.rlim_cur = (rlim_t)probe + 8;
    setrlimit(RLIMIT_NOFILE, &low);
    static int filler[100000];
    int nfill = 0;
    while (nfill < 100000 && (filler[nfill] = dup(0)) >= 0)
        nfill++;
    ck_assert_msg(errno == EMFILE, "test setup: expected to run out of descriptors, dup: %s",
                  strerror(errno));

    accept_emfile = 0;
    green_sleep(0.5);            /* the accept loop meets EMFILE meanwhile */
    int retries = accept_emfile;

    for (int i = 0; i < nfill; i++)
        close(filler[i]);
    setrlimit(RLIMIT_NOFILE, &saved);

    /* The early clients are accepted once descriptors are free again. */
    int early_ok = 0;
    for (int i = 0; i < NC; i++) {
        char back[8];
        if (green_wait_write(early[i], 5.0) == 0
            && green_sendall(early[i], "ping", 4, 5.0) == 4
            && recv_all(early[i], back, 4, 5.0) == 4 && memcmp(back, "ping", 4) == 0)
            early_ok++;
        close(early[i]);
    }
    int later_ok = run_echo_clients(5, 0);
    kit_capture_end(&cap, log, sizeof log);

    ck_assert_msg(count_of(log, "EMFILE") == 1,
                  "the server should say once that accept failed with EMFILE, then back off "
                  "quietly; its messages were:\n%s", log);
    ck_assert_msg(strstr(log, "accepting again") != NULL,
                  "the server should say when it accepts again; its messages were:\n%s", log);
    ck_assert_msg(retries >= 1 && retries <= 20, "while out of descriptors the accept loop must "
                  "back off, not spin: accept failed with EMFILE %d times in 0.5 s", retries);
    /* Valgrind closes descriptors above its own limit as soon as the
     * kernel makes them, so under Valgrind the early connections are
     * lost before the server sees them: only the later clients count. */
    if (!kit_valgrind())
        ck_assert_msg(early_ok == NC, "clients that waited in the backlog while the server had no "
                      "descriptors should be served once it has: %d of %d were", early_ok, NC);
    ck_assert_msg(later_ok == 5, "the server should keep serving after EMFILE: %d of 5 echoed", later_ok);
    green_server_stop(srv, 2.0);
    green_server_free(srv);
    green_hub_destroy();
}
END_TEST

/* A client that sends a request and waits for "done". */
static int done_ok;

static void *request_client(void *arg)
{
    (void)arg;
    int fd = connect_to_server(5.0);
    if (fd < 0)
        return NULL;
    char back[8];
    if (green_sendall(fd, "go", 2, 5.0) == 2 && recv_all(fd, back, 4, 5.0) == 4
        && memcmp(back, "done", 4) == 0)
        done_ok++;
    close(fd);
    return NULL;
}

START_TEST(test_graceful_stop_lets_handler_finish)
{
    reset_counts();
    done_ok = 0;
    handler_done_at = 0;
    green_server_t *srv = start_server(slow, INT2P(300), 0, 0);
    server_port = green_server_port(srv);
    green_t *client = green_spawn(request_client, NULL);
    green_sleep(0.1);            /* the handler is working now */
    ck_assert_int_eq(green_server_active(srv), 1);

    double t0 = green_now();
    int rc = green_server_stop(srv, 2.0);
    double took = green_now() - t0;
    ck_assert_msg(rc == 0, "stop(grace 2 s) with a handler needing 0.2 s more should let it "
                  "finish and return 0 (none killed), got %d (%s)", rc, kit_why(rc, errno));
    ck_assert_msg(handler_done_at > 0 && t0 + took >= handler_done_at,
                  "stop should return only once the handler has finished its 0.3 s of work; "
                  "it returned %.3f s before", handler_done_at - (t0 + took));
    ck_assert_msg(took < 1.5, "stop should wait for the handler (about 0.2 s), not for the "
                  "2 s grace, took %.3f s", took);
    ck_assert_int_eq(green_join(client, 5.0), 0);
    ck_assert_msg(done_ok == 1, "the in-flight client should get its answer during a graceful stop");
    ck_assert_int_eq(green_server_active(srv), 0);

    int fd = connect_to_server(2.0);
    int err = errno;
    ck_assert_msg(fd < 0 && err == ECONNREFUSED, "after stop, new connections should be refused, "
                  "connect gave %d (%s)", fd, kit_why(fd, err));
    green_free(client);
    green_server_free(srv);
    green_hub_destroy();
}
END_TEST

START_TEST(test_stop_kills_after_grace)
{
    reset_counts();
    done_ok = 0;
    green_server_t *srv = start_server(slow, INT2P(10000), 0, 0);
    server_port = green_server_port(srv);
    green_t *client = green_spawn(request_client, NULL);
    green_sleep(0.1);
    struct kit_capture cap;
    char log[1024];
    kit_capture_start(&cap);
    double t0 = green_now();
    int rc = green_server_stop(srv, 0.1);
    double took = green_now() - t0;
    kit_capture_end(&cap, log, sizeof log);
    ck_assert_msg(rc == 1, "stop(grace 0.1 s) with one handler busy for 10 s should kill it and "
                  "return 1, got %d (%s)", rc, kit_why(rc, errno));
    ck_assert_msg(took < 1.0, "stop(grace 0.1 s) took %.3f s", took);
    ck_assert_msg(handlers_cancelled == 1, "the killed handler's wait should fail with ECANCELED");
    ck_assert_int_eq(green_join(client, 5.0), 0);
    ck_assert_msg(done_ok == 0, "the killed handler must not answer");
    ck_assert_msg(strstr(log, "killing") != NULL, "stop should say it kills handlers: %s", log);
    green_free(client);
    green_server_free(srv);
    green_hub_destroy();
}
END_TEST

START_TEST(test_pool_limits_handlers)
{
    reset_counts();
    done_ok = 0;
    green_server_t *srv = start_server(slow, INT2P(100), 2, 0);
    server_port = green_server_port(srv);
    green_group_t *clients = green_group_new();
    double t0 = green_now();
    for (int i = 0; i < 6; i++)
        green_group_spawn(clients, request_client, NULL);
    ck_assert_int_eq(green_group_join(clients, 8.0), 0);
    double took = green_now() - t0;
    green_group_free(clients);
    ck_assert_msg(done_ok == 6, "all 6 clients should be served, %d were", done_ok);
    ck_assert_msg(handlers_max == 2, "with a pool of 2, at most 2 handlers should run at once "
                  "(and here 2 did), saw %d", handlers_max);
    ck_assert_msg(took >= 0.28, "6 requests of 0.1 s, 2 at a time, need 0.3 s; took %.3f s", took);
    ck_assert_int_eq(green_server_stop(srv, 2.0), 0);
    green_server_free(srv);
    green_hub_destroy();
}
END_TEST

START_TEST(test_full_backlog_loses_nobody)
{
    reset_counts();
    done_ok = 0;
    /* One handler at a time and a listen queue of 2: most of the 5
     * clients find the queue full and wait (their SYN is retried after
     * 1 s); none may be lost. */
    green_server_t *srv = start_server(slow, INT2P(100), 1, 2);
    server_port = green_server_port(srv);
    green_group_t *clients = green_group_new();
    for (int i = 0; i < 5; i++)
        green_group_spawn(clients, request_client, NULL);
    ck_assert_int_eq(green_group_join(clients, 9.0), 0);
    green_group_free(clients);
    ck_assert_msg(done_ok == 5, "with a full listen backlog, clients should wait, not be lost: "
                  "%d of 5 served", done_ok);
    ck_assert_int_eq(handlers_max, 1);
    ck_assert_int_eq(green_server_stop(srv, 2.0), 0);
    green_server_free(srv);
    green_hub_destroy();
}
END_TEST

/* A handler that stops the server it belongs to ("shutdown" command). */
static green_server_t *shared_srv;
static int stop_from_handler_rc = -2;

static void stopper(int fd, const struct sockaddr *peer, socklen_t len, void *arg)
{
    (void)fd, (void)peer, (void)len, (void)arg;
    stop_from_handler_rc = green_server_stop(shared_srv, 1.0);
}

START_TEST(test_serve_forever_until_stopped_by_handler)
{
    shared_srv = green_server_new("127.0.0.1", "0", stopper, NULL, NULL);
    ck_assert_int_eq(green_server_start(shared_srv), 0);
    server_port = green_server_port(shared_srv);
    green_t *client = green_spawn(request_client, NULL);
    int rc = green_server_serve_forever(shared_srv);
    ck_assert_msg(rc == 0, "serve_forever should return 0 once a handler stops the server, got %d (%s)",
                  rc, kit_why(rc, errno));
    ck_assert_int_eq(green_join(client, 5.0), 0);
    ck_assert_msg(stop_from_handler_rc == 0, "a handler stopping its own server should wait for the "
                  "others only and get 0, got %d", stop_from_handler_rc);
    ck_assert_int_eq(green_server_stop(shared_srv, 1.0), 0);   /* again: nothing to do */
    green_free(client);
    green_server_free(shared_srv);
    green_hub_destroy();
}
END_TEST

START_TEST(test_close_on_signal)
{
    green_server_t *srv = start_server(echo, NULL, 0, 0);
    ck_assert_int_eq(green_server_close_on_signal(srv, SIGUSR1), 0);
    struct kit_capture cap;
    char log[512];
    kit_capture_start(&cap);
    kill(getpid(), SIGUSR1);
    int rc = green_server_serve_forever(srv);
    kit_capture_end(&cap, log, sizeof log);
    ck_assert_msg(rc == 0, "SIGUSR1 should close the server and end serve_forever, got %d", rc);
    ck_assert_int_eq(green_server_port(srv), -1);
    ck_assert_int_eq(green_server_stop(srv, 1.0), 0);
    green_server_free(srv);
    green_hub_destroy();
}
END_TEST

START_TEST(test_start_errors)
{
    green_server_t *a = start_server(echo, NULL, 0, 0);
    char port[16];
    snprintf(port, sizeof port, "%d", green_server_port(a));
    green_server_t *b = green_server_new("127.0.0.1", port, echo, NULL, NULL);
    int rc = green_server_start(b);
    int err = errno;
    ck_assert_msg(rc == -1 && err == EADDRINUSE, "a second server on the same port should fail with "
                  "EADDRINUSE, got %d (%s)", rc, kit_why(rc, err));
    rc = green_server_start(a);
    err = errno;
    ck_assert_msg(rc == -1 && err == EBUSY, "starting a server twice should fail with EBUSY, "
                  "got %d (%s)", rc, kit_why(rc, err));
    green_server_free(b);
    green_server_free(a);         /* stops it first */
    green_hub_destroy();
}
END_TEST

static Suite *server_suite(void)
{
    Suite *s = suite_create("lib/server");
    TCase *tc = kit_tcase("server");
    tcase_add_test(tc, test_echo_many_clients);
    tcase_add_test(tc, test_reset_peers_do_not_disturb_others);
    tcase_add_test(tc, test_emfile_backs_off_and_recovers);
    tcase_add_test(tc, test_graceful_stop_lets_handler_finish);
    tcase_add_test(tc, test_stop_kills_after_grace);
    tcase_add_test(tc, test_pool_limits_handlers);
    tcase_add_test(tc, test_full_backlog_loses_nobody);
    tcase_add_test(tc, test_serve_forever_until_stopped_by_handler);
    tcase_add_test(tc, test_close_on_signal);
    tcase_add_test(tc, test_start_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(server_suite()); }
