/* Tests of exercise 04-io/sockio: ex_recv() and ex_sendall() on the hub. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "green.h"
#include "sockio.h"

#define LESSON "chapters/04-io/README.md"

/* A small, fixed send buffer (no autotuning): with nobody reading the
 * other end, a few hundred KiB fill both ends' buffers, and 4 MiB is
 * sure to make a sender wait. */
static void small_send_buffer(int fd)
{
    int size = 64 << 10;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

#define UNREAD (4 << 20)        /* more than a connection nobody reads holds */

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A greenlet that sends `text` on fd after `delay` seconds. */
struct later { int fd; double delay; const char *text; };

static void *send_later(void *arg)
{
    struct later *l = arg;
    if (green_sleep(l->delay) == 0)
        green_send(l->fd, l->text, strlen(l->text), 1.0);
    return NULL;
}

/* A greenlet that wakes `target` for no reason every 30 ms (20 times at
 * most): a wait may end with nothing to read, and must be tried again.
 * The pokes are the test's clock: a call with a timeout of 0.25 s must
 * end after about 8 of them, while one that restarts its timeout at each
 * poke outlasts all 20, on a fast machine as on a slow one. */
#define POKES 20
static int pokes;

static void *poke(void *target)
{
    pokes = 0;
    for (int i = 0; i < POKES && !green_dead(target); i++) {
        if (green_sleep(0.03) != 0)
            break;
        green_ready(target, NULL);
        pokes++;
    }
    return NULL;
}

/* ---- ex_recv ------------------------------------------------------------ */

START_TEST(test_recv_data_already_there)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    ck_assert_int_eq(send(b, "hello", 5, 0), 5);
    green_sleep(0.01);
    char buf[16] = "";
    ssize_t n = ex_recv(a, buf, sizeof buf, 1.0);
    ck_assert_msg(n == 5 && memcmp(buf, "hello", 5) == 0,
                  "with \"hello\" already waiting on the socket, ex_recv should return 5 and the bytes, got %zd (%s); "
                  KIT_LESSON(LESSON, "The green socket pattern"), n, kit_why(n, errno));
    close(a);
    close(b);
    green_hub_destroy();
}
END_TEST

START_TEST(test_recv_waits_while_others_run)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    struct later l = { b, 0.15, "late" };
    green_t *g = green_spawn(send_later, &l);
    green_t *t = kit_ticker_start(0.005);
    double t0 = green_now();
    char buf[16] = "";
    ssize_t n = ex_recv(a, buf, sizeof buf, 2.0);
    int err = errno;
    double took = green_now() - t0;
    int seen = kit_ticker_stop(t);
    ck_assert_msg(n == 4 && memcmp(buf, "late", 4) == 0,
                  "ex_recv should wait for data sent 0.15 s later and return it (4 bytes \"late\"), got %zd (%s); "
                  "on EAGAIN, wait with green_wait_read() and try again; "
                  KIT_LESSON(LESSON, "The green socket pattern"),
                  n, kit_why(n, err));
    ck_assert_msg(took >= 0.14 && took < 1.5, "ex_recv should return when the data arrives (0.15 s), took %.3f s", took);
    /* About 30 expected; a thread blocked in the wait gives 0.  Asking for
     * one leaves room for a loaded machine (harness.h, the ticker). */
    ck_assert_msg(seen >= 1, "while ex_recv waited 0.15 s, a greenlet that ticks every 5 ms ticked %d times: "
                  "ex_recv must park on the hub (green_wait_read), not block the thread; "
                  KIT_LESSON(LESSON, "Parking on the hub: wait_read and wait_write"), seen);
    green_join(g, 1.0);
    green_free(g);
    close(a);
    close(b);
    green_hub_destroy();
}
END_TEST

/* Parked, a waiting greenlet costs no CPU: the hub sleeps in the kernel.
 * A loop of read, EAGAIN, green_sleep(0), read... works too, but keeps
 * the processor busy the whole time. */
START_TEST(test_recv_parks_not_spins)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    char buf[16] = "";
    ex_recv(a, buf, sizeof buf, 0.01);  /* warm-up: runs every path once */
    struct later l = { b, 0.2, "late" };
    green_t *g = green_spawn(send_later, &l);
    double t0 = green_now(), cpu0 = cpu_seconds();
    ssize_t n = ex_recv(a, buf, sizeof buf, 2.0);
    int err = errno;
    double took = green_now() - t0, cpu = cpu_seconds() - cpu0;
    ck_assert_msg(n == 4, "ex_recv should wait for data sent 0.2 s later and return it, got %zd (%s); "
                  KIT_LESSON(LESSON, "The green socket pattern"), n, kit_why(n, err));
    ck_assert_msg(cpu < took * 0.3, "ex_recv used %.3f s of CPU while it waited %.3f s for data: it spins (read, "
                  "EAGAIN, read...) instead of parking with green_wait_read(); "
                  KIT_LESSON(LESSON, "Parking on the hub: wait_read and wait_write"), cpu, took);
    green_join(g, 1.0);
    green_free(g);
    close(a);
    close(b);
    green_hub_destroy();
}
END_TEST

START_TEST(test_recv_end_of_stream)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    close(b);
    char buf[16];
    ssize_t n = ex_recv(a, buf, sizeof buf, 1.0);
    ck_assert_msg(n == 0, "when the peer has closed the connection, ex_recv should return 0 (end of stream), got %zd (%s); "
                  KIT_LESSON(LESSON, "The green socket pattern"), n, kit_why(n, errno));
    close(a);
    green_hub_destroy();
}
END_TEST

START_TEST(test_recv_timeout)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    char buf[16];
    double t0 = green_now();
    ssize_t n = ex_recv(a, buf, sizeof buf, 0.2);
    int err = errno;
    double took = green_now() - t0;
    ck_assert_msg(n == -1 && err == ETIMEDOUT, "ex_recv with timeout 0.2 on a silent socket should return -1 with errno "
                  "ETIMEDOUT, got %zd (%s); "
                  KIT_LESSON(LESSON, "Timeouts are deadlines"), n, kit_why(n, err));
    ck_assert_msg(took >= 0.19 && took < 1.0, "ex_recv(timeout 0.2) should give up after 0.2 s, took %.3f s; "
                  KIT_LESSON(LESSON, "Timeouts are deadlines"), took);
    close(a);
    close(b);
    green_hub_destroy();
}
END_TEST

struct recv_job { int fd; double timeout; ssize_t rc; int err; };

static void *recv_job(void *arg)
{
    struct recv_job *j = arg;
    char buf[16];
    j->rc = ex_recv(j->fd, buf, sizeof buf, j->timeout);
    j->err = errno;
    return NULL;
}

START_TEST(test_recv_one_deadline)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    struct recv_job j = { a, 0.25, -2, 0 };
    green_t *g = green_spawn(recv_job, &j);
    green_t *p = green_spawn(poke, g);
    green_join(g, 3.0);
    int poked = pokes;
    ck_assert_msg(j.rc == -1 && j.err == ETIMEDOUT, "woken every 30 ms with nothing to read, ex_recv(timeout 0.25) should "
                  "try again each time and finally fail with ETIMEDOUT, got %zd (%s); "
                  KIT_LESSON(LESSON, "Timeouts are deadlines"),
                  j.rc, kit_why(j.rc, j.err));
    ck_assert_msg(poked < POKES, "woken every 30 ms with nothing to read, ex_recv(timeout 0.25) returned only after all "
                  "%d wake-ups (0.6 s): compute the deadline once and wait only for the time left; "
                  KIT_LESSON(LESSON, "Timeouts are deadlines"), poked);
    green_kill(g, 1.0);
    green_join(p, 1.0);
    green_free(p);
    green_free(g);
    close(a);
    close(b);
    green_hub_destroy();
}
END_TEST

START_TEST(test_recv_killed)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    struct recv_job j = { a, GREEN_FOREVER, -2, 0 };
    green_t *g = green_spawn(recv_job, &j);
    green_sleep(0.02);
    int rc = green_kill(g, 1.0);
    ck_assert_msg(rc == 0, "a greenlet killed while in ex_recv should return, green_kill said %s; "
                  KIT_LESSON(LESSON, "When things go wrong"), kit_why(rc, errno));
    ck_assert_msg(j.rc == -1 && j.err == ECANCELED, "ex_recv in a killed greenlet should return -1 with errno ECANCELED, "
                  "got %zd (%s): when green_wait_read() fails, return -1; "
                  KIT_LESSON(LESSON, "When things go wrong"),
                  j.rc, kit_why(j.rc, j.err));
    green_free(g);
    close(a);
    close(b);
    green_hub_destroy();
}
END_TEST

START_TEST(test_recv_other_errors)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    struct linger hard = { .l_onoff = 1, .l_linger = 0 };
    setsockopt(b, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    close(b);               /* linger 0: the peer resets the connection */
    green_sleep(0.02);
    char buf[16];
    double t0 = green_now();
    ssize_t n = ex_recv(a, buf, sizeof buf, 1.0);
    int err = errno;
    ck_assert_msg(n == -1 && err == ECONNRESET, "on a connection the peer has reset, ex_recv should return -1 with errno "
                  "ECONNRESET (what read() said), got %zd (%s); only EAGAIN means 'wait'; "
                  KIT_LESSON(LESSON, "When things go wrong"),
                  n, kit_why(n, err));
    ck_assert_msg(green_now() - t0 < 0.5, "ex_recv should report read()'s error at once, not wait");
    close(a);
    green_hub_destroy();
}
END_TEST

/* ---- ex_sendall ---------------------------------------------------------- */

START_TEST(test_sendall_small)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    ssize_t n = ex_sendall(a, "hello, world", 12, 1.0);
    ck_assert_msg(n == 12, "ex_sendall of 12 bytes should return 12, got %zd (%s); "
                  KIT_LESSON(LESSON, "The green socket pattern"),
                  n, kit_why(n, errno));
    char buf[16] = "";
    ssize_t got = green_recv(b, buf, sizeof buf, 1.0);
    ck_assert_msg(got == 12 && memcmp(buf, "hello, world", 12) == 0, "the peer should receive \"hello, world\", got %zd bytes",
                  got);
    close(a);
    close(b);
    green_hub_destroy();
}
END_TEST

#define BIG (4 << 20)

static unsigned char pattern(size_t i) { return (unsigned char)(i * 13 % 251); }

struct slow_reader { int fd; size_t received; long bad_at; };

/* Reads 32 KiB at a time, napping now and then: the sender must wait. */
static void *slow_reader(void *arg)
{
    struct slow_reader *r = arg;
    static unsigned char buf[32 << 10];
    r->bad_at = -1;
    for (int i = 0; i < 100000; i++) {
        ssize_t n = green_recv(r->fd, buf, sizeof buf, 5.0);
        if (n <= 0)
            break;
        for (ssize_t k = 0; k < n && r->bad_at < 0; k++)
            if (buf[k] != pattern(r->received + (size_t)k))
                r->bad_at = (long)(r->received + (size_t)k);
        r->received += (size_t)n;
        if (i % 16 == 0)
            green_sleep(0.002);
    }
    return NULL;
}

START_TEST(test_sendall_large_to_slow_reader)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    unsigned char *data = malloc(BIG);
    for (size_t i = 0; i < BIG; i++)
        data[i] = pattern(i);
    struct slow_reader r = { b, 0, -1 };
    green_t *g = green_spawn(slow_reader, &r);
    ssize_t n = ex_sendall(a, data, BIG, 20.0);
    int err = errno;
    close(a);               /* end of stream: the reader stops */
    green_join(g, 10.0);
    ck_assert_msg(n == BIG, "ex_sendall of 4 MiB to a slow reader should return %d, got %zd (%s): when send() takes "
                  "only part, or says EAGAIN, wait (green_wait_write) and send the rest; "
                  KIT_LESSON(LESSON, "The green socket pattern"),
                  BIG, n, kit_why(n, err));
    ck_assert_msg(r.received == BIG, "the reader should receive all %d bytes, got %zu", BIG, r.received);
    ck_assert_msg(r.bad_at < 0, "the bytes should arrive in order; byte %ld differs: after a partial send, continue "
                  "from where the kernel stopped", r.bad_at);
    green_free(g);
    free(data);
    close(b);
    green_hub_destroy();
}
END_TEST

START_TEST(test_sendall_timeout)
{
    int a, b;
    kit_tcp_pair(&a, &b);                   /* nobody ever reads b */
    small_send_buffer(a);
    size_t size = UNREAD;
    char *data = calloc(1, size);
    green_t *t = kit_ticker_start(0.005);
    double t0 = green_now();
    ssize_t n = ex_sendall(a, data, size, 0.3);
    int err = errno;
    double took = green_now() - t0;
    int seen = kit_ticker_stop(t);
    ck_assert_msg(n == -1 && err == ETIMEDOUT, "ex_sendall of 4 MiB that nobody reads, timeout 0.3, should return -1 "
                  "with errno ETIMEDOUT, got %zd (%s); "
                  KIT_LESSON(LESSON, "Timeouts are deadlines"), n, kit_why(n, err));
    ck_assert_msg(took >= 0.29 && took < 1.5, "ex_sendall(timeout 0.3) should give up after 0.3 s in all, took %.3f s; "
                  KIT_LESSON(LESSON, "Timeouts are deadlines"), took);
    ck_assert_msg(seen >= 1, "while ex_sendall waited for room, a ticking greenlet ticked %d times: park with "
                  "green_wait_write(); "
                  KIT_LESSON(LESSON, "Parking on the hub: wait_read and wait_write"), seen);
    free(data);
    close(a);
    close(b);
    green_hub_destroy();
}
END_TEST

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
    (void)sig;
    sigpipes++;
}

START_TEST(test_sendall_epipe_no_sigpipe)
{
    signal(SIGPIPE, on_sigpipe);        /* count it instead of dying of it */
    int a, b;
    kit_tcp_pair(&a, &b);
    close(b);
    ssize_t n = 0;
    int err = 0;
    for (int i = 0; i < 50 && n >= 0; i++) {   /* the first sends may still succeed */
        n = ex_sendall(a, "ping", 4, 1.0);
        err = errno;
        green_sleep(0.005);
    }
    ck_assert_msg(n == -1 && err == EPIPE, "ex_sendall to a peer that closed its socket should end with -1 and errno "
                  "EPIPE, got %zd (%s); " KIT_LESSON(LESSON, "When things go wrong"), n, kit_why(n, err));
    ck_assert_msg(sigpipes == 0, "ex_sendall to a closed peer raised SIGPIPE (%d times), which kills a server by default: "
                  "pass MSG_NOSIGNAL to send(); " KIT_LESSON(LESSON, "When things go wrong"), (int)sigpipes);
    close(a);
    green_hub_destroy();
}
END_TEST

struct send_job { int fd; size_t size; double timeout; ssize_t rc; int err; };

static void *send_job(void *arg)
{
    struct send_job *j = arg;
    char *data = calloc(1, j->size);
    j->rc = ex_sendall(j->fd, data, j->size, j->timeout);
    j->err = errno;
    free(data);
    return NULL;
}

START_TEST(test_sendall_killed)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    small_send_buffer(a);
    struct send_job j = { a, UNREAD, GREEN_FOREVER, -2, 0 };
    green_t *g = green_spawn(send_job, &j);
    green_sleep(0.05);
    int rc = green_kill(g, 1.0);
    ck_assert_msg(rc == 0, "a greenlet killed while in ex_sendall should return, green_kill said %s", kit_why(rc, errno));
    ck_assert_msg(j.rc == -1 && j.err == ECANCELED, "ex_sendall in a killed greenlet should return -1 with errno "
                  "ECANCELED, got %zd (%s); "
                  KIT_LESSON(LESSON, "When things go wrong"), j.rc, kit_why(j.rc, j.err));
    green_free(g);
    close(a);
    close(b);
    green_hub_destroy();
}
END_TEST

START_TEST(test_sendall_one_deadline)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    small_send_buffer(a);
    struct send_job j = { a, UNREAD, 0.25, -2, 0 };
    green_t *g = green_spawn(send_job, &j);
    green_t *p = green_spawn(poke, g);
    green_join(g, 3.0);
    int poked = pokes;
    ck_assert_msg(j.rc == -1 && j.err == ETIMEDOUT && poked < POKES, "woken every 30 ms with no room to write, "
                  "ex_sendall(timeout 0.25) should fail with ETIMEDOUT after 0.25 s, got %zd (%s) after %d wake-ups "
                  "(%d: 0.6 s or more): one deadline for the whole call; "
                  KIT_LESSON(LESSON, "Timeouts are deadlines"),
                  j.rc, kit_why(j.rc, j.err), poked, POKES);
    green_kill(g, 1.0);
    green_join(p, 1.0);
    green_free(p);
    green_free(g);
    close(a);
    close(b);
    green_hub_destroy();
}
END_TEST

static Suite *sockio_suite(void)
{
    Suite *s = suite_create("04-io/sockio");
    TCase *tc = kit_tcase("ex_recv");
    tcase_add_test(tc, test_recv_data_already_there);
    tcase_add_test(tc, test_recv_waits_while_others_run);
    tcase_add_test(tc, test_recv_parks_not_spins);
    tcase_add_test(tc, test_recv_end_of_stream);
    tcase_add_test(tc, test_recv_timeout);
    tcase_add_test(tc, test_recv_one_deadline);
    tcase_add_test(tc, test_recv_killed);
    tcase_add_test(tc, test_recv_other_errors);
    suite_add_tcase(s, tc);

    tc = kit_tcase("ex_sendall");
    tcase_add_test(tc, test_sendall_small);
    tcase_add_test(tc, test_sendall_large_to_slow_reader);
    tcase_add_test(tc, test_sendall_timeout);
    tcase_add_test(tc, test_sendall_epipe_no_sigpipe);
    tcase_add_test(tc, test_sendall_killed);
    tcase_add_test(tc, test_sendall_one_deadline);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(sockio_suite()); }
