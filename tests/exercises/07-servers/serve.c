/* Tests of exercise 07-servers/serve: StreamServer's accept loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"
#include "green.h"
#include "serve.h"


#define LESSON "chapters/07-servers/README.md"

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

/* ---- The server under test, in a greenlet ----------------------------- */

static int listen_fd, port;
static int serve_rc = -99, serve_err;
static int serve_max;
static ex_handler serve_handler;
static void *serve_arg;

static void *serve_main(void *unused)
{
    (void)unused;
    serve_rc = ex_serve(listen_fd, serve_handler, serve_arg, serve_max);
    serve_err = errno;
    return NULL;
}

static green_t *start(ex_handler handler, void *arg, int max)
{
    listen_fd = green_tcp_listen("127.0.0.1", "0", 1024);
    ck_assert_msg(listen_fd >= 0, "test setup: cannot listen: %s", strerror(errno));
    port = green_socket_port(listen_fd);
    serve_rc = -99;
    serve_handler = handler;
    serve_arg = arg;
    serve_max = max;
    green_t *server = green_spawn(serve_main, NULL);
    /* One turn: a working ex_serve meets EAGAIN and waits for a client;
     * one that returns at once (the untouched stub) fails here, at once,
     * instead of leaving the clients below to time out. */
    green_sleep(0);
    ck_assert_msg(serve_rc == -99, "ex_serve on a listening socket with no client yet should wait "
                  "(green_wait_read), it returned %d (%s) at once; " KIT_LESSON(LESSON, "The accept loop"),
                  serve_rc, kit_why(serve_rc, serve_err));
    return server;
}

static void finish(green_t *server)
{
    green_kill(server, 2.0);
    green_free(server);
    close(listen_fd);
    green_hub_destroy();
}

/* ---- Clients ---------------------------------------------------------- */

static int start_connect(void)
{
    int fd = green_socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

static int connect_now(void)
{
    int fd = start_connect();
    if (fd >= 0 && green_wait_write(fd, 2.0) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Read exactly n bytes within `timeout`; returns how many came. */
static ssize_t recv_all(int fd, char *buf, size_t n, double timeout)
{
    double deadline = green_now() + timeout;
    size_t got = 0;
    while (got < n) {
        double left = deadline - green_now();
        ssize_t r = green_recv(fd, buf + got, n - got, left > 0 ? left : 0);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* Send `msg`, expect `want` back within `timeout`.  1 on success. */
static int exchange(int fd, const char *msg, const char *want, double timeout)
{
    char back[64] = "";
    size_t n = strlen(want);
    if (green_sendall(fd, msg, strlen(msg), 2.0) < 0)
        return 0;
    return recv_all(fd, back, n, timeout) == (ssize_t)n && memcmp(back, want, n) == 0;
}

/* ---- Handlers --------------------------------------------------------- */

static void echo_handler(int fd, void *arg)
{
    (void)arg;
    char buf[256];
    ssize_t n;
    while ((n = green_recv(fd, buf, sizeof buf, 5.0)) > 0)
        if (green_sendall(fd, buf, (size_t)n, 5.0) < 0)
            break;
}

/* Read a request, work 0.2 s, answer "done"; count the handlers at work. */
static int busy, most_busy;

static void slow_handler(int fd, void *arg)
{
    (void)arg;
    char buf[16];
    if (green_recv(fd, buf, sizeof buf, 5.0) <= 0)
        return;
    if (++busy > most_busy)
        most_busy = busy;
    int rc = green_sleep(0.2);
    busy--;
    if (rc == 0)
        green_sendall(fd, "done", 4, 5.0);
}

static void silent_handler(int fd, void *arg)
{
    (void)fd, (void)arg;
}

static void arg_handler(int fd, void *arg)
{
    green_sendall(fd, arg, strlen(arg), 2.0);
}

/* ---- Tests ------------------------------------------------------------ */

START_TEST(test_one_connection)
{
    green_t *server = start(echo_handler, NULL, 1);
    int fd = connect_now();
    int ok = fd >= 0 && exchange(fd, "hello", "hello", 2.0);
    ck_assert_msg(ok, "a client sent \"hello\" and expected it echoed by the handler within 2 s, "
                  "it was not: accept the connection and run the handler in a greenlet; "
                  KIT_LESSON(LESSON, "The accept loop"));
    close(fd);
    green_join(server, 2.0);
    ck_assert_msg(serve_rc == 1, "ex_serve(max 1) should return 1 after one connection, got %d (%s); "
                  KIT_LESSON(LESSON, "The accept loop"), serve_rc, kit_why(serve_rc, serve_err));
    finish(server);
}
END_TEST

START_TEST(test_handler_gets_arg)
{
    green_t *server = start(arg_handler, "the arg", 1);
    int fd = connect_now();
    char back[16] = "";
    ssize_t n = fd >= 0 ? recv_all(fd, back, 7, 2.0) : -1;
    ck_assert_msg(n == 7 && memcmp(back, "the arg", 7) == 0,
                  "the handler should be called with ex_serve's arg (it sends it back); "
                  "the client got %zd byte(s); " KIT_LESSON(LESSON, "The accept loop"), n);
    close(fd);
    finish(server);
}
END_TEST

static int done_ok;

static void *slow_client(void *arg)
{
    (void)arg;
    int fd = connect_now();
    if (fd >= 0 && exchange(fd, "go", "done", 3.0))
        done_ok++;
    close(fd);
    return NULL;
}

START_TEST(test_a_greenlet_per_connection)
{
    green_t *server = start(slow_handler, NULL, -1);
    green_t *clients[10];
    done_ok = busy = most_busy = 0;
    for (int i = 0; i < 10; i++)
        clients[i] = green_spawn(slow_client, NULL);
    green_joinall(clients, 10, 5.0);
    ck_assert_msg(done_ok == 10, "10 clients of a handler that works 0.2 s: %d got their answer; "
                  KIT_LESSON(LESSON, "The accept loop"), done_ok);
    /* What the lesson means, whatever the machine's speed: the handlers
     * overlap.  Run one after the other, never more than 1 is at work. */
    ck_assert_msg(most_busy >= 2, "10 clients of a handler that works 0.2 s: at most %d handler(s) "
                  "worked at the same time; they should overlap, each in its own greenlet, while "
                  "the loop accepts the next client; " KIT_LESSON(LESSON, "A greenlet per connection"),
                  most_busy);
    for (int i = 0; i < 10; i++)
        green_free(clients[i]);
    finish(server);
}
END_TEST

START_TEST(test_fd_closed_after_handler)
{
    green_t *server = start(silent_handler, NULL, -1);
    int fd = connect_now();
    char c;
    ssize_t n = fd >= 0 ? green_recv(fd, &c, 1, 2.0) : -2;
    ck_assert_msg(n == 0, "after the handler returns, the client should see the connection closed "
                  "(recv returns 0) within 2 s; got %zd: close fd when the handler returns; "
                  KIT_LESSON(LESSON, "The accept loop"), n);
    close(fd);
    finish(server);
}
END_TEST

START_TEST(test_stops_after_max)
{
    green_t *server = start(echo_handler, NULL, 3);
    int fds[4];
    for (int i = 0; i < 4; i++)
        fds[i] = connect_now();
    green_join(server, 2.0);
    ck_assert_msg(serve_rc == 3, "ex_serve(max 3) with 4 clients waiting should return 3, got %d (%s); "
                  "see serve.h", serve_rc, kit_why(serve_rc, serve_err));
    ck_assert_msg(exchange(fds[0], "a", "a", 2.0) && exchange(fds[2], "c", "c", 2.0),
                  "the first 3 clients should be served even after ex_serve returned: their "
                  "greenlets live on");
    ck_assert_msg(!exchange(fds[3], "d", "d", 0.3), "the 4th client should not be accepted by "
                  "ex_serve(max 3)");
    for (int i = 0; i < 4; i++)
        close(fds[i]);
    finish(server);
}
END_TEST

START_TEST(test_killed_returns_ecanceled)
{
    green_t *server = start(echo_handler, NULL, -1);
    green_sleep(0.05);            /* waiting for a client now */
    double t0 = green_now();
    int rc = green_kill(server, 2.0);
    ck_assert_msg(rc == 0 && green_now() - t0 < 1.0, "killing the accept loop should end it at once");
    ck_assert_msg(serve_rc == -1 && serve_err == ECANCELED,
                  "a killed ex_serve should return -1 with errno ECANCELED (its green_wait_read "
                  "failed), got %d (%s); " KIT_LESSON(LESSON, "The accept loop"), serve_rc,
                  kit_why(serve_rc, serve_err));
    finish(server);
}
END_TEST

START_TEST(test_not_a_listening_socket)
{
    green_t *server = start(echo_handler, NULL, -1);
    green_kill(server, 2.0);      /* we call ex_serve ourselves below */
    int fd = green_socket(AF_INET, SOCK_STREAM, 0);
    double t0 = green_now();
    int rc = ex_serve(fd, echo_handler, NULL, -1);
    int err = errno;
    ck_assert_msg(rc == -1 && err == EINVAL && green_now() - t0 < 1.0,
                  "ex_serve on a socket that does not listen should return -1 with accept's errno "
                  "EINVAL at once, got %d (%s) after %.2f s; see serve.h", rc, kit_why(rc, err),
                  green_now() - t0);
    close(fd);
    finish(server);
}
END_TEST


START_TEST(test_emfile_backs_off)
{
    green_t *server = start(echo_handler, NULL, -1);
    int early = start_connect();
    ck_assert_msg(early >= 0, "test setup: connect failed");

    /* Run out of descriptors (a low soft limit makes it quick). */
    struct rlimit saved, low;
    getrlimit(RLIMIT_NOFILE, &saved);
    low = saved;
    int probe = dup(0);
    close(probe);
    low.rlim_cur = (rlim_t)probe + 4;
    setrlimit(RLIMIT_NOFILE, &low);
    static int filler[100000];
    int nfill = 0;
    while (nfill < 100000 && (filler[nfill] = dup(0)) >= 0)
        nfill++;

    accept_emfile = 0;
    green_sleep(0.5);             /* ex_serve meets EMFILE meanwhile */
    int retries = accept_emfile;
    for (int i = 0; i < nfill; i++)
        close(filler[i]);
    setrlimit(RLIMIT_NOFILE, &saved);

    int early_ok = green_wait_write(early, 2.0) == 0 && exchange(early, "x", "x", 3.0);
    int later = connect_now();
    int later_ok = later >= 0 && exchange(later, "y", "y", 3.0);
    close(early);
    close(later);

    ck_assert_msg(retries <= 20, "while accept fails with EMFILE, ex_serve called accept %d times "
                  "in 0.5 s: it must sleep (10 ms, then twice as long each time, up to 1 s), not "
                  "retry at once; " KIT_LESSON(LESSON, "When accept fails: back off, never spin"), retries);
    ck_assert_msg(later_ok, "once descriptors are free again, ex_serve should serve new clients; "
                  KIT_LESSON(LESSON, "When accept fails: back off, never spin"));
    /* Valgrind drops connections accepted above its descriptor limit. */
    if (!kit_valgrind())
        ck_assert_msg(early_ok, "a client that waited in the backlog during EMFILE should be served "
                      "once descriptors are free (within about a second: the back-off stays "
                      "under 1 s); " KIT_LESSON(LESSON, "When accept fails: back off, never spin"));
    finish(server);
}
END_TEST

static Suite *serve_suite(void)
{
    Suite *s = suite_create("07-servers/serve");
    TCase *tc = kit_tcase("serve");
    tcase_add_test(tc, test_one_connection);
    tcase_add_test(tc, test_handler_gets_arg);
    tcase_add_test(tc, test_a_greenlet_per_connection);
    tcase_add_test(tc, test_fd_closed_after_handler);
    tcase_add_test(tc, test_stops_after_max);
    tcase_add_test(tc, test_killed_returns_ecanceled);
    tcase_add_test(tc, test_not_a_listening_socket);
    tcase_add_test(tc, test_emfile_backs_off);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(serve_suite()); }
