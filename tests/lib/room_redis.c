/*
 * tests/lib/room_redis.c - the library's own tests of chapter 13's Redis
 * bridge (room_redis.h): rooms shared by processes through a real
 * redis-server, and what happens when it goes away and comes back.
 *
 * Two kinds of tests:
 *   - in this process (one hub): the poster's own message comes back, the
 *     wire format, the id rules of an outage (the raise and the floor);
 *   - two forked workers, each with its own hub and its own rooms, which
 *     the test drives over a socket pair with one-line commands ("post
 *     lobby alice hello", "dump lobby"), as chapter 12's workers would be
 *     driven by their clients.
 * Each test starts its own redis-server (kit_redis_start), never the
 * system's service.
 */
#include "harness.h"
#include "room.h"
#include "room_redis.h"
#include "redis.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define BRIDGE_H "see lib/13-chat/room_redis.h"
#define T 5.0                   /* the bound on anything awaited */

static pid_t server;
static int port;
static char url[64];

static void start_server(void)
{
    server = kit_redis_start(&port);
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", port);
}

/* Wait (letting the hub run) until the bridge says `shared`. */
static int wait_shared(int shared, double timeout)
{
    double end = green_now() + timeout;
    while (green_room_redis_shared() != shared && green_now() < end)
        green_sleep(0.01);
    return green_room_redis_shared() == shared;
}

/* A redis-server of the test's own, and this thread's rooms shared
 * through it. */
static void start_shared(void)
{
    port = 0;
    start_server();
    ck_assert_int_eq(green_room_redis_start(url), 0);
    ck_assert_msg(wait_shared(1, T), "the bridge should be up within %.0f s; " BRIDGE_H, T);
}

/* A command on a connection of the test's own; the reply's string or
 * integer as text in out. */
static void redis_do(char *out, size_t size, int argc, const char **argv)
{
    green_redis_t *c = green_redis_connect(url, T);
    ck_assert_msg(c, "the test's own connection to %s: %s", url, strerror(errno));
    green_redis_reply_t *r;
    ck_assert_int_eq(green_redis_command(c, argc, argv, NULL, &r, T), 0);
    if (r->type == REDIS_REPLY_INTEGER)
        snprintf(out, size, "%lld", r->integer);
    else if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
        snprintf(out, size, "%s", r->str);
    else
        snprintf(out, size, "(type %d)", r->type);
    green_redis_reply_free(r);
    green_redis_close(c);
}

/* The next message of r after *cursor, or the test fails. */
static green_room_msg_t *next_or_fail(green_room_t *r, int64_t *cursor)
{
    green_room_msg_t *m;
    int rc = green_room_next(r, cursor, &m, T);
    ck_assert_msg(rc == 0, "expected a message in room %s after id %lld, got %d (%s); " BRIDGE_H,
                  green_room_name(r), (long long)*cursor, rc, kit_why(rc, errno));
    return m;
}

static void finish(void)
{
    green_room_redis_stop();
    green_room_free_all();
    green_hub_destroy();
    kit_redis_kill(server);
}

/* ---- In one process ----------------------------------------------------- */

START_TEST(test_bad_start)
{
    errno = 0;
    ck_assert_msg(green_room_redis_start("http://127.0.0.1:6379") == -1 && errno == EINVAL,
                  "a URL that is not redis://: expected -1 with EINVAL; " BRIDGE_H);
    green_room_redis_stop();            /* not started: nothing */
    ck_assert_int_eq(green_room_redis_shared(), 0);
    port = 0;
    start_server();
    ck_assert_int_eq(green_room_redis_start(url), 0);
    errno = 0;
    ck_assert_msg(green_room_redis_start(url) == -1 && errno == EALREADY,
                  "a second start on the same thread: expected -1 with EALREADY");
    finish();
}
END_TEST

/* The poster sees its own message come back through Redis, with the id
 * Redis gave it. */
START_TEST(test_own_message_comes_back)
{
    port = 0;
    start_server();
    ck_assert_int_eq(green_room_redis_start(url), 0);
    ck_assert_msg(wait_shared(1, T), "the bridge did not connect to %s within %.0f s", url, T);
    green_room_t *r = green_room_get("lobby");
    int64_t id = green_room_post(r, "alice", "hello");
    ck_assert_msg(id == 0, "a post through Redis: expected 0 (the id comes back later), got %lld",
                  (long long)id);
    int64_t cursor = 0;
    green_room_msg_t *m = next_or_fail(r, &cursor);
    ck_assert_msg(m->id == 1 && strcmp(m->name, "alice") == 0 && strcmp(m->text, "hello") == 0,
                  "expected message 1 from alice, \"hello\", got %lld from %s, \"%s\"",
                  (long long)m->id, m->name, m->text);
    ck_assert_msg(m->time > 1e9, "expected the time in seconds since the epoch, got %f", m->time);
    green_room_msg_unref(m);
    char got[64];
    redis_do(got, sizeof got, 2, (const char *[]){ "GET", "chat:lobby:id" });
    ck_assert_msg(strcmp(got, "1") == 0, "Redis's counter chat:lobby:id: expected 1, got %s", got);
    finish();
}
END_TEST

/* "ID TIME NAME\0TEXT" on chat:ROOM is a message; what does not parse is
 * ignored, the room keeps serving. */
START_TEST(test_wire_format)
{
    start_shared();
    char got[64];
    const char *junk[][3] = { { "PUBLISH", "chat:lobby", "garbage" },
                              { "PUBLISH", "chat:no room!", "3 1.0 x" },
                              { "PUBLISH", "chat:lobby", "4 1.0 no-nul" } };
    for (int i = 0; i < 3; i++)
        redis_do(got, sizeof got, 3, junk[i]);
    const char *good[] = { "PUBLISH", "chat:lobby", "7 1700000000.5 bob\0hi there" };
    green_redis_t *c = green_redis_connect(url, T);
    green_redis_reply_t *reply;
    const size_t lens[] = { 7, 10, strlen("7 1700000000.5 bob") + 1 + strlen("hi there") };
    ck_assert_int_eq(green_redis_command(c, 3, good, lens, &reply, T), 0);
    green_redis_reply_free(reply);
    green_redis_close(c);
    green_room_t *r = green_room_get("lobby");
    int64_t cursor = 0;
    green_room_msg_t *m = next_or_fail(r, &cursor);
    ck_assert_msg(m->id == 7 && m->time == 1700000000.5 && strcmp(m->name, "bob") == 0 &&
                  strcmp(m->text, "hi there") == 0,
                  "\"7 1700000000.5 bob\\0hi there\": expected id 7, time 1700000000.5, bob, "
                  "\"hi there\"; got %lld, %f, %s, \"%s\"; " BRIDGE_H,
                  (long long)m->id, m->time, m->name, m->text);
    green_room_msg_unref(m);
    finish();
}
END_TEST

/* Redis forgot its counters (a restart without persistence): a post still
 * gets an id above the room's last, or every worker would drop it as a
 * duplicate. */
START_TEST(test_floor)
{
    start_shared();
    green_room_t *r = green_room_get("lobby");
    int64_t cursor = 0;
    for (int i = 0; i < 3; i++) {
        green_room_post(r, "alice", "before");
        green_room_msg_unref(next_or_fail(r, &cursor));
    }
    char got[64];
    redis_do(got, sizeof got, 2, (const char *[]){ "DEL", "chat:lobby:id" });
    green_room_post(r, "alice", "after");
    green_room_msg_t *m = next_or_fail(r, &cursor);
    ck_assert_msg(m->id == 4 && strcmp(m->text, "after") == 0,
                  "after Redis lost the counter at last id 3: expected message 4 \"after\", got %lld "
                  "\"%s\" (the script must never give an id at or below the poster's last); " BRIDGE_H,
                  (long long)m->id, m->text);
    green_room_msg_unref(m);
    finish();
}
END_TEST

/* Redis down at start: one line, posts served here; Redis comes up (empty):
 * one line, the counters are raised to the rooms' last ids, posts shared. */
START_TEST(test_down_at_start)
{
    port = 0;
    start_server();
    kit_redis_kill(server);             /* the port, with nobody on it */
    struct kit_capture cap;
    kit_capture_start(&cap);
    ck_assert_int_eq(green_room_redis_start(url), 0);
    green_sleep(0.5);                   /* several attempts: still one line */
    int shared_while_down = green_room_redis_shared();
    green_room_t *r = green_room_get("lobby");
    int64_t ids[3];
    for (int i = 0; i < 3; i++)
        ids[i] = green_room_post(r, "alice", "alone");
    server = kit_redis_start(&port);
    int up = wait_shared(1, T);
    char err[2048];
    kit_capture_end(&cap, err, sizeof err);
    ck_assert_msg(!shared_while_down, "green_room_redis_shared() said 1 with no server");
    ck_assert_msg(ids[0] == 0 && green_room_last_id(r) == 3,
                  "3 posts with Redis down: expected them appended here (last id 3), got %lld",
                  (long long)green_room_last_id(r));
    ck_assert_msg(up, "the bridge did not reconnect within %.0f s of the server's start; stderr:\n%s",
                  T, err);
    char line[128];
    snprintf(line, sizeof line, "redis 127.0.0.1:%d unreachable", port);
    char *first = strstr(err, line);
    ck_assert_msg(first && !strstr(first + 1, line),
                  "expected exactly one line \"%s...\" on stderr, got:\n%s; " BRIDGE_H, line, err);
    snprintf(line, sizeof line, "redis 127.0.0.1:%d reachable again", port);
    first = strstr(err, line);
    ck_assert_msg(first && !strstr(first + 1, line),
                  "expected exactly one line \"%s...\" on stderr, got:\n%s", line, err);
    char got[64];
    redis_do(got, sizeof got, 2, (const char *[]){ "GET", "chat:lobby:id" });
    ck_assert_msg(strcmp(got, "3") == 0,
                  "on reconnecting, Redis's counter chat:lobby:id must be raised to the room's "
                  "last id 3; got %s; " BRIDGE_H, got);
    green_room_post(r, "alice", "shared");
    int64_t cursor = 3;
    green_room_msg_t *m = next_or_fail(r, &cursor);
    ck_assert_msg(m->id == 4 && strcmp(m->text, "shared") == 0,
                  "the first post through Redis: expected id 4, got %lld", (long long)m->id);
    green_room_msg_unref(m);
    finish();
}
END_TEST

/* After stop, posts are appended here again (the default). */
START_TEST(test_stop)
{
    start_shared();
    green_room_redis_stop();
    ck_assert_int_eq(green_room_redis_shared(), 0);
    green_room_t *r = green_room_get("lobby");
    int64_t id = green_room_post(r, "alice", "local");
    ck_assert_msg(id == 1, "a post after green_room_redis_stop: expected id 1 at once, got %lld",
                  (long long)id);
    finish();
}
END_TEST

/* A program that ends with green_hub_destroy, without stopping the bridge
 * (a worker of chapter 12 ends so): nothing leaks (Valgrind, ASan), and
 * a new hub may start a new bridge. */
START_TEST(test_hub_destroy)
{
    start_shared();
    green_room_t *r = green_room_get("lobby");
    green_room_post(r, "alice", "in flight");   /* maybe still in the outbox */
    green_hub_destroy();
    ck_assert_msg(green_room_redis_shared() == 0,
                  "after green_hub_destroy, expected the bridge gone; " BRIDGE_H);
    ck_assert_msg(green_room_redis_start(url) == 0,
                  "a new hub: expected green_room_redis_start to work again, got %s",
                  strerror(errno));
    ck_assert(wait_shared(1, T));
    finish();
}
END_TEST

/* ---- Two workers -------------------------------------------------------- */

/* A worker: a hub, its rooms, the bridge, and a loop answering the test's
 * one-line commands on ctl:
 *   shared               -> 1 or 0
 *   post ROOM NAME TEXT  -> what green_room_post returned
 *   dump ROOM N          -> once the room holds N messages (or after T
 *                           seconds), "ID:NAME:TEXT ID:NAME:TEXT ..."
 *   quit                 -> bye, and the worker cleans up and exits */
static int worker_line(int ctl, char *line, size_t size)
{
    size_t n = 0;
    while (n + 1 < size) {
        ssize_t got = green_recv(ctl, line + n, 1, GREEN_FOREVER);
        if (got <= 0)
            return -1;
        if (line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    return 0;
}

static void dump(green_room_t *r, int want, char *out, size_t size)
{
    double end = green_now() + T;
    int have;
    for (;;) {
        int64_t cursor = 0;
        green_room_msg_t *m;
        size_t len = 0;
        out[0] = '\0';
        for (have = 0; green_room_next(r, &cursor, &m, 0) == 0; have++) {
            len += (size_t)snprintf(out + len, size - len, "%s%lld:%s:%s", have ? " " : "",
                                    (long long)m->id, m->name, m->text);
            green_room_msg_unref(m);
        }
        if (have >= want || green_now() > end)
            return;
        green_sleep(0.01);
    }
}

static void worker(int ctl)
{
    green_fd_nonblock(ctl);
    green_room_redis_start(url);
    char line[256], out[4096];
    while (worker_line(ctl, line, sizeof line) == 0) {
        char room[64], name[64], text[128];
        int want;
        if (strcmp(line, "quit") == 0)
            break;
        if (strcmp(line, "shared") == 0)
            snprintf(out, sizeof out, "%d", green_room_redis_shared());
        else if (sscanf(line, "post %63s %63s %127s", room, name, text) == 3)
            snprintf(out, sizeof out, "%lld",
                     (long long)green_room_post(green_room_get(room), name, text));
        else if (sscanf(line, "dump %63s %d", room, &want) == 2)
            dump(green_room_get(room), want, out, sizeof out);
        else
            snprintf(out, sizeof out, "what is \"%s\"?", line);
        strcat(out, "\n");
        green_sendall(ctl, out, strlen(out), GREEN_FOREVER);
    }
    finish();
}

struct worker { pid_t pid; int ctl; char err_path[64]; };

static void spawn_worker(struct worker *w, int i)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    snprintf(w->err_path, sizeof w->err_path, "/tmp/kit-room-redis-%d-%d", (int)getpid(), i);
    w->pid = kit_fork_tied();
    if (w->pid == 0) {
        close(sv[0]);
        FILE *err = freopen(w->err_path, "w", stderr);
        if (err)
            setvbuf(err, NULL, _IONBF, 0);
        server = -1;                    /* the test's, not the worker's */
        worker(sv[1]);
        exit(0);                        /* exit, not _exit: LeakSanitizer checks the worker */
    }
    close(sv[1]);
    w->ctl = sv[0];
    struct timeval tv = { (time_t)(3 * T), 0 };
    setsockopt(w->ctl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

/* Send a command to worker w; its one-line answer in a static buffer. */
static const char *ask(struct worker *w, const char *fmt, ...)
{
    static char reply[4096];
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    strcat(line, "\n");
    ck_assert_msg(write(w->ctl, line, strlen(line)) == (ssize_t)strlen(line),
                  "writing to worker %d: %s", (int)w->pid, strerror(errno));
    size_t n = 0;
    while (n + 1 < sizeof reply && read(w->ctl, reply + n, 1) == 1 && reply[n] != '\n')
        n++;
    ck_assert_msg(n + 1 < sizeof reply && reply[n] == '\n',
                  "worker %d did not answer \"%s\" (it crashed or hung)", (int)w->pid, line);
    reply[n] = '\0';
    return reply;
}

/* Poll "shared" until it answers `want`. */
static int worker_shared(struct worker *w, int want)
{
    for (int i = 0; i < 100 * T; i++) {
        if (atoi(ask(w, "shared")) == want)
            return 1;
        kit_nap(0.01);
    }
    return 0;
}

/* How many times `needle` is in the file at path. */
static int count_in_file(const char *path, const char *needle, char *text, size_t size)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(text, 1, size - 1, f) : 0;
    if (f)
        fclose(f);
    text[n] = '\0';
    int count = 0;
    for (const char *p = text; (p = strstr(p, needle)); p++)
        count++;
    return count;
}

static void stop_workers(struct worker *w, int n)
{
    for (int i = 0; i < n; i++) {
        /* A command, not an end of stream: the other worker, forked
         * later, holds a copy of this socket. */
        ck_assert_int_eq(write(w[i].ctl, "quit\n", 5), 5);
        close(w[i].ctl);
        int status = 0;
        waitpid(w[i].pid, &status, 0);
        unlink(w[i].err_path);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "worker %d ended with status %d", (int)w[i].pid, status);
    }
}

/* The ids of a dump "ID:NAME:TEXT ...", into ids; their number. */
static int ids_of(const char *dump, long long *ids, int max)
{
    int n = 0;
    for (const char *p = dump; *p && n < max; ) {
        ids[n++] = atoll(p);
        p = strchr(p, ' ');
        if (!p)
            break;
        p++;
    }
    return n;
}

/* A redis-server of the test's own, and two forked workers sharing rooms
 * through it. */
static void start_two_workers(struct worker w[2])
{
    port = 0;
    start_server();
    spawn_worker(&w[0], 0);
    spawn_worker(&w[1], 1);
    for (int i = 0; i < 2; i++)
        ck_assert_msg(worker_shared(&w[i], 1), "worker %d never connected to %s", i, url);
}

/* Two workers share a room: a post in one reaches the other with the same
 * id; posts from both sides, interleaved, get increasing ids, and both
 * workers hold the same messages in the same order. */
START_TEST(test_two_workers)
{
    struct worker w[2];
    start_two_workers(w);

    ask(&w[0], "post lobby alice hello");
    char first[4096];
    snprintf(first, sizeof first, "%s", ask(&w[1], "dump lobby 1"));
    ck_assert_msg(strcmp(first, "1:alice:hello") == 0,
                  "a post in worker 0: expected worker 1 to hold \"1:alice:hello\", got \"%s\"; "
                  BRIDGE_H, first);
    ck_assert_str_eq(ask(&w[0], "dump lobby 1"), "1:alice:hello");

    for (int i = 0; i < 10; i++) {
        ask(&w[0], "post lobby alice a%d", i);
        ask(&w[1], "post lobby bob b%d", i);
    }
    char d0[4096];
    snprintf(d0, sizeof d0, "%s", ask(&w[0], "dump lobby 21"));
    const char *d1 = ask(&w[1], "dump lobby 21");
    ck_assert_msg(strcmp(d0, d1) == 0,
                  "after 20 interleaved posts, expected both workers to hold the same messages "
                  "in the same order; worker 0: %s\nworker 1: %s", d0, d1);
    long long ids[32];
    int n = ids_of(d0, ids, 32);
    ck_assert_msg(n == 21, "expected 21 messages, got %d: %s", n, d0);
    for (int i = 0; i < n; i++)
        ck_assert_msg(ids[i] == i + 1, "expected ids 1 to 21 in order, got %lld in place %d: %s",
                      ids[i], i + 1, d0);
    ck_assert_msg(strstr(d0, "alice:a0") && strstr(d0, "bob:b9"),
                  "expected both workers' posts in the room: %s", d0);
    stop_workers(w, 2);
    kit_redis_kill(server);
}
END_TEST

/* Redis is killed: both workers keep serving their own clients and say
 * so once; Redis restarts (empty) on the same port: both reconnect, say
 * so once, and share again, with ids above everything either had. */
START_TEST(test_outage)
{
    struct worker w[2];
    start_two_workers(w);
    ask(&w[0], "post lobby alice shared1");
    ck_assert_str_eq(ask(&w[1], "dump lobby 1"), "1:alice:shared1");

    kit_redis_kill(server);
    for (int i = 0; i < 2; i++)
        ck_assert_msg(worker_shared(&w[i], 0), "worker %d did not notice that Redis died", i);
    ck_assert_str_eq(ask(&w[0], "post lobby alice local0"), "0");
    ck_assert_str_eq(ask(&w[0], "post lobby alice local0b"), "0");
    ck_assert_str_eq(ask(&w[1], "post lobby bob local1"), "0");
    ck_assert_str_eq(ask(&w[0], "dump lobby 3"), "1:alice:shared1 2:alice:local0 3:alice:local0b");
    ck_assert_str_eq(ask(&w[1], "dump lobby 2"), "1:alice:shared1 2:bob:local1");
    kit_nap(1.0);                       /* several reconnection attempts */

    server = kit_redis_start(&port);    /* the same port, empty */
    for (int i = 0; i < 2; i++)
        ck_assert_msg(worker_shared(&w[i], 1), "worker %d did not reconnect within %.0f s", i, T);
    ask(&w[1], "post lobby bob back");
    const char *d = ask(&w[0], "dump lobby 4");
    ck_assert_msg(strcmp(d, "1:alice:shared1 2:alice:local0 3:alice:local0b 4:bob:back") == 0,
                  "after the outage, bob's post (from the worker whose last id was 2) must get an "
                  "id above worker 0's last (3), or worker 0 drops it as a duplicate; worker 0 holds "
                  "\"%s\"; " BRIDGE_H, d);
    ck_assert_str_eq(ask(&w[1], "dump lobby 3"), "1:alice:shared1 2:bob:local1 4:bob:back");
    /* Worker 0's publisher had a connection before the outage: a dead one,
     * which it must not take for a new outage. */
    ask(&w[0], "post lobby alice back0");
    d = ask(&w[1], "dump lobby 4");
    ck_assert_msg(strcmp(d, "1:alice:shared1 2:bob:local1 4:bob:back 5:alice:back0") == 0,
                  "a post after the outage from worker 0, whose publisher had connected before it: "
                  "expected worker 1 to get it as message 5, got \"%s\" (a connection made before "
                  "an outage is dead: make a new one, do not declare a new outage); " BRIDGE_H, d);
    ck_assert_str_eq(ask(&w[0], "dump lobby 5"),
                     "1:alice:shared1 2:alice:local0 3:alice:local0b 4:bob:back 5:alice:back0");

    char text[4096], line[128];
    for (int i = 0; i < 2; i++) {
        snprintf(line, sizeof line, "redis 127.0.0.1:%d unreachable", port);
        int down = count_in_file(w[i].err_path, line, text, sizeof text);
        snprintf(line, sizeof line, "redis 127.0.0.1:%d reachable again", port);
        int again = count_in_file(w[i].err_path, line, text, sizeof text);
        ck_assert_msg(down == 1 && again == 1,
                      "worker %d: expected one \"unreachable\" line and one \"reachable again\" "
                      "on stderr, got %d and %d:\n%s", i, down, again, text);
    }
    stop_workers(w, 2);
    kit_redis_kill(server);
}
END_TEST

static Suite *room_redis_suite(void)
{
    Suite *s = suite_create("room_redis");
    TCase *tc = kit_tcase("one process");
    tcase_add_test(tc, test_bad_start);
    tcase_add_test(tc, test_own_message_comes_back);
    tcase_add_test(tc, test_wire_format);
    tcase_add_test(tc, test_floor);
    tcase_add_test(tc, test_down_at_start);
    tcase_add_test(tc, test_stop);
    tcase_add_test(tc, test_hub_destroy);
    suite_add_tcase(s, tc);
    tc = kit_tcase("two workers");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_two_workers);
    tcase_add_test(tc, test_outage);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(room_redis_suite()); }
