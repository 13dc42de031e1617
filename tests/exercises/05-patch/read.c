/* Tests of exercise 05-patch/read: __wrap_read, linked with
 * -Wl,--wrap=read, so every read() below is the student's.  Data that must
 * arrive "later" comes from a thread, so that a read() that still blocks
 * the whole thread fails its test instead of hanging it. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "green.h"
#include "read.h"

#define LESSON "chapters/05-patch/README.md"

static int is_blocking(int fd)
{
    return !(fcntl(fd, F_GETFL) & O_NONBLOCK);
}

/* ---- A thread that writes later ----------------------------------------- */

/* The thread starts counting its delay only once the reader is about to
 * call read(): on a slow machine (or under Valgrind) the data must not be
 * there before the reader even starts waiting. */
static atomic_int reader_started;

struct later {
    int fd; double delay; const char *data; int after_reader; pthread_t thread;
    atomic_int cancel;          /* join_later: the reader is done, do not write */
};

static void nap(double seconds)
{
    struct timespec ts = { (time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9) };
    nanosleep(&ts, NULL);
}

static void *later_main(void *arg)
{
    struct later *l = arg;
    for (int i = 0; l->after_reader && !atomic_load(&reader_started) && i < 5000; i++)
        nap(0.001);
    /* The delay in 1 ms naps: a reader that returned (a read that failed
     * at once) calls the write off instead of waiting for it. */
    double start = green_now();
    while (green_now() - start < l->delay)
        if (atomic_load(&l->cancel))
            return NULL;
        else
            nap(0.001);
    if (write(l->fd, l->data, strlen(l->data)) < 0)
        perror("test: write");
    return NULL;
}

/* Write `data` to fd `delay` seconds after the reader starts reading
 * (after_reader), or after now. */
static void write_later(struct later *l, int fd, double delay, const char *data, int after_reader)
{
    l->fd = fd;
    l->delay = delay;
    l->data = data;
    l->after_reader = after_reader;
    atomic_store(&l->cancel, 0);
    atomic_store(&reader_started, 0);
    ck_assert_int_eq(pthread_create(&l->thread, NULL, later_main, l), 0);
}

/* The reader is done: the thread writes no more, and ends. */
static void join_later(struct later *l)
{
    atomic_store(&l->cancel, 1);
    atomic_store(&reader_started, 1);
    pthread_join(l->thread, NULL);
}

/* ---- A greenlet that counts while another waits ------------------------- */

static int reading;          /* a reader greenlet is inside read() */
static int ticks;            /* ticks counted while it was */

static void *ticker(void *arg)
{
    (void)arg;
    while (green_sleep(0.01) == 0)
        ticks += reading;
    return NULL;
}

struct reader { int fd; ssize_t rc; int err; char buf[32]; double took; };

static void *reader(void *arg)
{
    struct reader *r = arg;
    double t0 = green_now();
    reading = 1;
    atomic_store(&reader_started, 1);
    r->rc = read(r->fd, r->buf, sizeof r->buf - 1);
    reading = 0;
    r->err = errno;
    r->took = green_now() - t0;
    if (r->rc > 0)
        r->buf[r->rc] = '\0';
    return NULL;
}

/* Run a reader greenlet on fd beside a ticker; returns the ticks. */
static int read_beside_ticker(struct reader *r)
{
    ticks = 0;
    reading = 0;
    green_t *t = green_spawn(ticker, NULL);
    green_t *g = green_spawn(reader, r);
    green_join(g, GREEN_FOREVER);
    green_kill(t, 1.0);
    green_free(g);
    green_free(t);
    return ticks;
}

/* ---- The tests ---------------------------------------------------------- */

START_TEST(test_outside_a_greenlet_is_the_original)
{
    int p[2];
    char buf[16] = "";
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(write(p[1], "hi", 2), 2);
    ssize_t n = read(p[0], buf, sizeof buf);
    ck_assert_msg(n == 2 && memcmp(buf, "hi", 2) == 0,
                  "read on a pipe holding 'hi', outside any greenlet, returned %zd", n);

    FILE *f = tmpfile();
    ck_assert_msg(f != NULL, "test setup: tmpfile() failed");
    fputs("on disk", f);
    fflush(f);
    lseek(fileno(f), 0, SEEK_SET);
    memset(buf, 0, sizeof buf);
    n = read(fileno(f), buf, sizeof buf);
    ck_assert_msg(n == 7 && strcmp(buf, "on disk") == 0,
                  "read on a disk file outside any greenlet returned %zd ('%s')", n, buf);
    fclose(f);

    errno = 0;
    n = read(-1, buf, 1);
    ck_assert_msg(n == -1 && errno == EBADF,
                  "read(-1, ...) should fail with EBADF as the original does, got %zd (%s)",
                  n, kit_why(n, errno));
    ck_assert_msg(!green_hub_active(),
                  "read() in a program without greenlets created a hub: check "
                  "green_hub_active() before green_hub(); "
                  KIT_LESSON(LESSON, "Inside or outside a greenlet"));
    close(p[0]);
    close(p[1]);
}
END_TEST

struct from_hub { int fd; ssize_t rc; char c; };

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct from_hub *r = arg;
    r->rc = read(r->fd, &r->c, 1);
}

START_TEST(test_the_hub_itself_is_outside)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    struct from_hub r = { p[0], -2, 0 };
    struct later l;
    write_later(&l, p[1], 0.03, "x", 0);
    struct timeval soon = { 0, 1000 };
    event_base_once(green_hub_base(), -1, EV_TIMEOUT, on_timer, &r, &soon);
    green_sleep(0.1);
    join_later(&l);
    ck_assert_msg(r.rc == 1 && r.c == 'x',
                  "read() in a libevent callback (run by the hub) should be the original "
                  "read, which waits for the byte: got %zd.  The hub cannot wait for "
                  "itself; " KIT_LESSON(LESSON, "Inside or outside a greenlet"), r.rc);
    close(p[0]);
    close(p[1]);
    green_hub_destroy();
}
END_TEST

START_TEST(test_pipe_read_lets_others_run)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    struct later l;
    write_later(&l, p[1], 0.1, "hello", 1);
    struct reader r = { .fd = p[0] };
    int n = read_beside_ticker(&r);
    join_later(&l);
    ck_assert_msg(r.rc == 5 && strcmp(r.buf, "hello") == 0,
                  "read on a pipe should return 'hello' (5 bytes), got %zd (%s)",
                  r.rc, kit_why(r.rc, r.err));
    ck_assert_msg(n >= 2,
                  "while a greenlet waited 0.1 s in read() on a pipe, a greenlet ticking "
                  "every 10 ms should have run; it ticked %d times: read() still blocks "
                  "the whole thread; " KIT_LESSON(LESSON, "Sockets and pipes without O_NONBLOCK"), n);
    ck_assert_msg(is_blocking(p[0]),
                  "the pipe is non-blocking after read(): never change the program's "
                  "descriptors; " KIT_LESSON(LESSON, "Sockets and pipes without O_NONBLOCK"));
    close(p[0]);
    close(p[1]);
    green_hub_destroy();
}
END_TEST

START_TEST(test_socket_read_lets_others_run)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct later l;
    write_later(&l, sv[1], 0.1, "over a socket", 1);
    struct reader r = { .fd = sv[0] };
    int n = read_beside_ticker(&r);
    join_later(&l);
    ck_assert_msg(r.rc == 13 && strcmp(r.buf, "over a socket") == 0,
                  "read on a socket should return 'over a socket', got %zd (%s)",
                  r.rc, kit_why(r.rc, r.err));
    ck_assert_msg(n >= 2,
                  "while a greenlet waited 0.1 s in read() on a socket, a greenlet "
                  "ticking every 10 ms should have run; it ticked %d times (S_ISSOCK); "
                  KIT_LESSON(LESSON, "Sockets and pipes without O_NONBLOCK"), n);
    ck_assert_msg(is_blocking(sv[0]), "the socket is non-blocking after read()");
    close(sv[0]);
    close(sv[1]);
    green_hub_destroy();
}
END_TEST

struct writer { int fd; };

static void *writer(void *arg)
{
    struct writer *w = arg;
    green_sleep(0.05);
    if (write(w->fd, "early", 5) != 5)
        perror("test: write");
    return NULL;
}

START_TEST(test_reader_and_writer_greenlets_talk)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    struct later backup;                /* unblocks a read that blocks the thread */
    write_later(&backup, p[1], 1.0, "late", 1);
    struct reader r = { .fd = p[0] };
    struct writer w = { p[1] };
    green_t *gr = green_spawn(reader, &r);
    green_t *gw = green_spawn(writer, &w);
    green_join(gr, GREEN_FOREVER);
    green_join(gw, GREEN_FOREVER);
    join_later(&backup);
    ck_assert_msg(r.rc == 5 && strcmp(r.buf, "early") == 0 && r.took < 0.5,
                  "a greenlet reading a pipe should get 'early' from a greenlet that "
                  "writes 0.05 s later; it got %zd bytes '%s' after %.2f s: while read() "
                  "blocked, the writer never ran; "
                  KIT_LESSON(LESSON, "Sockets and pipes without O_NONBLOCK"), r.rc,
                  r.rc > 0 ? r.buf : "", r.took);
    green_free(gr);
    green_free(gw);
    close(p[0]);
    close(p[1]);
    green_hub_destroy();
}
END_TEST

START_TEST(test_nonblocking_and_disk_pass_through)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    struct reader r = { .fd = p[0] };
    green_t *g = green_spawn(reader, &r);
    green_join(g, GREEN_FOREVER);
    green_free(g);
    ck_assert_msg(r.rc == -1 && r.err == EAGAIN && r.took < 0.5,
                  "read on an empty O_NONBLOCK pipe in a greenlet should fail at once "
                  "with EAGAIN (the program asked for that); got %zd (%s) after %.2f s; "
                  KIT_LESSON(LESSON, "Inside or outside a greenlet"), r.rc, kit_why(r.rc, r.err),
                  r.took);

    FILE *f = tmpfile();
    ck_assert_msg(f != NULL, "test setup: tmpfile() failed");
    fputs("disk", f);
    fflush(f);
    lseek(fileno(f), 0, SEEK_SET);
    struct reader d = { .fd = fileno(f) };
    g = green_spawn(reader, &d);
    green_join(g, GREEN_FOREVER);
    green_free(g);
    ck_assert_msg(d.rc == 4 && strcmp(d.buf, "disk") == 0,
                  "read on a disk file in a greenlet should be the original read and "
                  "return 'disk'; got %zd (%s).  libevent cannot watch disk files; "
                  KIT_LESSON(LESSON, "Sockets and pipes without O_NONBLOCK"), d.rc, kit_why(d.rc, d.err));
    fclose(f);
    close(p[0]);
    close(p[1]);
    green_hub_destroy();
}
END_TEST

START_TEST(test_killed_reader_gets_ecanceled)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    struct later backup;
    write_later(&backup, p[1], 0.5, "too late", 1);
    struct reader r = { .fd = p[0] };
    green_t *g = green_spawn(reader, &r);
    green_sleep(0.05);
    green_kill(g, 1.0);
    join_later(&backup);
    ck_assert_msg(r.rc == -1 && r.err == ECANCELED,
                  "a greenlet killed while waiting in read() should get -1 with errno "
                  "ECANCELED; got %zd (%s); "
                  KIT_LESSON("chapters/03-hub/README.md", "Killing: ECANCELED and cleanup"), r.rc, kit_why(r.rc, r.err));
    green_free(g);
    close(p[0]);
    close(p[1]);
    green_hub_destroy();
}
END_TEST

static Suite *read_suite(void)
{
    Suite *s = suite_create("read");
    TCase *tc = kit_tcase("read");
    tcase_add_test(tc, test_outside_a_greenlet_is_the_original);
    tcase_add_test(tc, test_the_hub_itself_is_outside);
    tcase_add_test(tc, test_pipe_read_lets_others_run);
    tcase_add_test(tc, test_socket_read_lets_others_run);
    tcase_add_test(tc, test_reader_and_writer_greenlets_talk);
    tcase_add_test(tc, test_nonblocking_and_disk_pass_through);
    tcase_add_test(tc, test_killed_reader_gets_ecanceled);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(read_suite()); }
