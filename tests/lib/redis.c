/*
 * tests/lib/redis.c - the library's own tests of chapter 13's green Redis
 * client (redis.h): URLs, commands, pub/sub, timeouts, and a server that
 * dies while a greenlet waits on it.
 *
 * Each test starts its own redis-server on a free port (kit_redis_start:
 * never the system's service), and kills it at the end.
 */
#include "harness.h"
#include "redis.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REDIS_H "see lib/13-chat/redis.h"

static pid_t server;
static int port;
static char url[64];

/* A private redis-server, and its URL in url. */
static void start_server(void)
{
    port = 0;
    server = kit_redis_start(&port);
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", port);
}

static green_redis_t *connect_or_fail(void)
{
    green_redis_t *c = green_redis_connect(url, 2);
    ck_assert_msg(c, "green_redis_connect(%s): expected a connection, got NULL (%s); " REDIS_H,
                  url, strerror(errno));
    return c;
}

/* Run a command of NUL-terminated words; the reply, or the test fails. */
static green_redis_reply_t *run(green_redis_t *c, int argc, const char **argv)
{
    green_redis_reply_t *r = NULL;
    int rc = green_redis_command(c, argc, argv, NULL, &r, 2);
    ck_assert_msg(rc == 0 && r, "%s: expected a reply, got %d (%s); " REDIS_H,
                  argv[0], rc, kit_why(rc, errno));
    return r;
}

#define RUN(c, ...) run(c, (int)(sizeof (const char *[]){ __VA_ARGS__ } / sizeof (const char *)), \
                        (const char *[]){ __VA_ARGS__ })

/* ---- URLs ----------------------------------------------------------------- */

START_TEST(test_parse_url)
{
    char host[GREEN_REDIS_HOST_MAX];
    int p;
    ck_assert_int_eq(green_redis_parse_url("redis://127.0.0.1:6380", host, &p), 0);
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_int_eq(p, 6380);
    ck_assert_int_eq(green_redis_parse_url("redis://cache.example", host, &p), 0);
    ck_assert_msg(strcmp(host, "cache.example") == 0 && p == 6379,
                  "redis://cache.example: expected host cache.example, port 6379 (the default); "
                  "got %s, %d; " REDIS_H, host, p);
    ck_assert_int_eq(green_redis_parse_url("redis://[::1]:7000", host, &p), 0);
    ck_assert_msg(strcmp(host, "::1") == 0 && p == 7000,
                  "redis://[::1]:7000: expected host ::1 (no brackets), port 7000; got %s, %d",
                  host, p);
    const char *bad[] = { "http://127.0.0.1:6379", "redis://", "redis://:6379",
                          "redis://h:0", "redis://h:65536", "redis://h:12x", "redis://h:",
                          "redis://user:pw@h:6379", "redis://h:6379/0", "redis://[::1",
                          "127.0.0.1:6379" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        errno = 0;
        int rc = green_redis_parse_url(bad[i], host, &p);
        ck_assert_msg(rc == -1 && errno == EINVAL,
                      "green_redis_parse_url(\"%s\"): expected -1 with EINVAL, got %d (%s); " REDIS_H,
                      bad[i], rc, kit_why(rc, errno));
    }
}
END_TEST

START_TEST(test_connect_refused)
{
    /* A port where nothing listens: the free port of a server we kill. */
    start_server();
    kit_redis_kill(server);
    errno = 0;
    green_redis_t *c = green_redis_connect(url, 2);
    ck_assert_msg(!c && errno == ECONNREFUSED,
                  "connecting to %s with no server there: expected NULL with ECONNREFUSED, got %p (%s)",
                  url, (void *)c, strerror(errno));
    errno = 0;
    c = green_redis_connect("redis:/oops", 2);
    ck_assert_msg(!c && errno == EINVAL, "a bad URL: expected NULL with EINVAL, got %p (%s)",
                  (void *)c, strerror(errno));
    green_hub_destroy();
}
END_TEST

/* ---- Commands ------------------------------------------------------------ */

START_TEST(test_commands)
{
    start_server();
    green_redis_t *c = connect_or_fail();
    green_redis_reply_t *r = RUN(c, "PING");
    ck_assert_msg(r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0,
                  "PING: expected the status PONG, got type %d", r->type);
    green_redis_reply_free(r);

    /* Binary-safe: a value with a NUL inside, given by length. */
    const char *set[] = { "SET", "k", "a\0b" };
    const size_t lens[] = { 3, 1, 3 };
    ck_assert_int_eq(green_redis_command(c, 3, set, lens, &r, 2), 0);
    green_redis_reply_free(r);
    r = RUN(c, "GET", "k");
    ck_assert_msg(r->type == REDIS_REPLY_STRING && r->len == 3 && memcmp(r->str, "a\0b", 3) == 0,
                  "GET k: expected the 3 bytes a NUL b, got type %d, %zu bytes", r->type, r->len);
    green_redis_reply_free(r);

    r = RUN(c, "INCR", "n");
    ck_assert_msg(r->type == REDIS_REPLY_INTEGER && r->integer == 1,
                  "INCR n: expected the integer 1, got type %d", r->type);
    green_redis_reply_free(r);
    r = RUN(c, "GET", "missing");
    ck_assert_msg(r->type == REDIS_REPLY_NIL, "GET of a missing key: expected nil, got type %d", r->type);
    green_redis_reply_free(r);
    r = RUN(c, "MGET", "k", "n", "missing");
    ck_assert_msg(r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
                  r->element[1]->type == REDIS_REPLY_STRING && strcmp(r->element[1]->str, "1") == 0,
                  "MGET k n missing: expected an array of 3, the second \"1\"");
    green_redis_reply_free(r);

    /* A refusal is a reply, and the connection goes on. */
    r = RUN(c, "NOSUCHCOMMAND", "x");
    ck_assert_msg(r->type == REDIS_REPLY_ERROR && strstr(r->str, "unknown command"),
                  "an unknown command: expected an error reply, got type %d; " REDIS_H, r->type);
    green_redis_reply_free(r);
    r = RUN(c, "PING");
    ck_assert_int_eq(r->type, REDIS_REPLY_STATUS);
    green_redis_reply_free(r);

    errno = 0;
    ck_assert_msg(green_redis_command(c, 0, set, NULL, &r, 2) == -1 && errno == EINVAL,
                  "argc 0: expected -1 with EINVAL");
    green_redis_close(c);
    kit_redis_kill(server);
    green_hub_destroy();
}
END_TEST

/* Greenlets share one connection: each call waits its turn, every reply
 * goes to the greenlet that asked, and the thread never blocks. */
struct counter { green_redis_t *c; int id; int errors; };

static void *count_up(void *arg)
{
    struct counter *k = arg;
    char key[16];
    snprintf(key, sizeof key, "key%d", k->id);
    for (long i = 1; i <= 50; i++) {
        const char *argv[] = { "INCR", key };
        green_redis_reply_t *r;
        if (green_redis_command(k->c, 2, argv, NULL, &r, 5) != 0) {
            k->errors++;
            continue;
        }
        if (r->type != REDIS_REPLY_INTEGER || r->integer != i)
            k->errors++;
        green_redis_reply_free(r);
    }
    return NULL;
}

START_TEST(test_shared_connection)
{
    start_server();
    green_redis_t *c = connect_or_fail();
    struct counter k[10];
    green_t *g[10];
    green_t *ticker = kit_ticker_start(0.001);
    for (int i = 0; i < 10; i++) {
        k[i] = (struct counter){ c, i, 0 };
        g[i] = green_spawn(count_up, &k[i]);
    }
    kit_join_free(g, 10);
    int ticks = kit_ticker_stop(ticker);
    for (int i = 0; i < 10; i++)
        ck_assert_msg(k[i].errors == 0,
                      "greenlet %d sharing the connection got %d wrong or failed replies of 50 "
                      "(a reply handed to the wrong greenlet?); " REDIS_H, i, k[i].errors);
    ck_assert_msg(ticks >= 1, "expected the ticker to run while 10 greenlets waited on Redis, "
                  "got 0 ticks: the client blocked the thread");
    green_redis_close(c);
    kit_redis_kill(server);
    green_hub_destroy();
}
END_TEST

/* ---- Pub/sub ------------------------------------------------------------- */

static void publish(green_redis_t *pub, const char *channel, const char *data, size_t len)
{
    const char *argv[] = { "PUBLISH", channel, data };
    const size_t lens[] = { 7, strlen(channel), len };
    green_redis_reply_t *r;
    ck_assert_int_eq(green_redis_command(pub, 3, argv, lens, &r, 2), 0);
    ck_assert_msg(r->type == REDIS_REPLY_INTEGER, "PUBLISH: expected the integer count of receivers");
    green_redis_reply_free(r);
}

static void expect_message(green_redis_t *sub, const char *pattern, const char *channel,
                           const char *data, size_t len)
{
    green_redis_msg_t m;
    int rc = green_redis_next(sub, &m, 2);
    ck_assert_msg(rc == 0, "green_redis_next: expected a message on %s, got %d (%s); " REDIS_H,
                  channel, rc, kit_why(rc, errno));
    ck_assert_msg(strcmp(m.channel, channel) == 0 && m.len == len && memcmp(m.data, data, len) == 0,
                  "expected %zu bytes on channel %s, got %zu bytes on %s", len, channel, m.len, m.channel);
    ck_assert_msg(pattern ? m.pattern && strcmp(m.pattern, pattern) == 0 : m.pattern == NULL,
                  "expected the pattern %s, got %s", pattern ? pattern : "NULL",
                  m.pattern ? m.pattern : "NULL");
}

START_TEST(test_pubsub)
{
    start_server();
    green_redis_t *sub = connect_or_fail(), *pub = connect_or_fail();
    green_redis_reply_t *r;
    errno = 0;
    green_redis_msg_t m;
    ck_assert_msg(green_redis_next(sub, &m, 0) == -1 && errno == EINVAL,
                  "green_redis_next before any subscription: expected -1 with EINVAL");
    ck_assert_int_eq(green_redis_subscribe(sub, "news", 2), 0);
    ck_assert_int_eq(green_redis_psubscribe(sub, "chat:*", 2), 0);
    publish(pub, "news", "one", 3);
    publish(pub, "chat:lobby", "two\0bytes", 9);
    publish(pub, "news", "three", 5);
    expect_message(sub, NULL, "news", "one", 3);
    expect_message(sub, "chat:*", "chat:lobby", "two\0bytes", 9);
    expect_message(sub, NULL, "news", "three", 5);

    const char *ping[] = { "PING" };
    errno = 0;
    ck_assert_msg(green_redis_command(sub, 1, ping, NULL, &r, 2) == -1 && errno == EBUSY,
                  "a command on a subscribed connection: expected -1 with EBUSY; " REDIS_H);
    green_redis_close(sub);
    green_redis_close(pub);
    kit_redis_kill(server);
    green_hub_destroy();
}
END_TEST

/* A message published before a second subscription is confirmed arrives
 * before the confirmation: it is kept, not lost. */
START_TEST(test_message_before_confirmation)
{
    start_server();
    green_redis_t *sub = connect_or_fail(), *pub = connect_or_fail();
    ck_assert_int_eq(green_redis_subscribe(sub, "a", 2), 0);
    publish(pub, "a", "early", 5);      /* on its way to sub before SUBSCRIBE b */
    ck_assert_int_eq(green_redis_subscribe(sub, "b", 2), 0);
    publish(pub, "b", "late", 4);
    expect_message(sub, NULL, "a", "early", 5);
    expect_message(sub, NULL, "b", "late", 4);
    green_redis_close(sub);
    green_redis_close(pub);
    kit_redis_kill(server);
    green_hub_destroy();
}
END_TEST

/* ---- Timeouts, kills, and a server that dies ----------------------------- */

START_TEST(test_next_timeout)
{
    start_server();
    green_redis_t *sub = connect_or_fail(), *pub = connect_or_fail();
    ck_assert_int_eq(green_redis_subscribe(sub, "quiet", 2), 0);
    green_t *ticker = kit_ticker_start(0.01);
    double t0 = green_now();
    green_redis_msg_t m;
    errno = 0;
    int rc = green_redis_next(sub, &m, 0.2);
    double took = green_now() - t0;
    int ticks = kit_ticker_stop(ticker);
    ck_assert_msg(rc == -1 && errno == ETIMEDOUT,
                  "no message for 0.2 s: expected -1 with ETIMEDOUT, got %d (%s)", rc, kit_why(rc, errno));
    ck_assert_msg(took >= 0.19, "the wait ended after %.3f s, before its 0.2 s timeout", took);
    ck_assert_msg(ticks >= 1, "expected the ticker to run while green_redis_next waited: 0 ticks");
    /* Nothing was lost: the connection still works. */
    publish(pub, "quiet", "after", 5);
    expect_message(sub, NULL, "quiet", "after", 5);
    green_redis_close(sub);
    green_redis_close(pub);
    kit_redis_kill(server);
    green_hub_destroy();
}
END_TEST

/* A command that times out leaves its reply owed: the connection is
 * closed, and says so (ENOTCONN), instead of handing the late reply to
 * the next command. */
START_TEST(test_command_timeout)
{
    start_server();
    green_redis_t *c = connect_or_fail();
    const char *blpop[] = { "BLPOP", "empty", "0" };   /* blocks on the server */
    green_redis_reply_t *r;
    errno = 0;
    int rc = green_redis_command(c, 3, blpop, NULL, &r, 0.2);
    ck_assert_msg(rc == -1 && errno == ETIMEDOUT,
                  "BLPOP with a 0.2 s timeout: expected -1 with ETIMEDOUT, got %d (%s)",
                  rc, kit_why(rc, errno));
    const char *ping[] = { "PING" };
    errno = 0;
    rc = green_redis_command(c, 1, ping, NULL, &r, 1);
    ck_assert_msg(rc == -1 && errno == ENOTCONN,
                  "a command after one timed out: expected -1 with ENOTCONN (the connection is "
                  "out of step with its replies), got %d (%s); " REDIS_H, rc, kit_why(rc, errno));
    green_redis_close(c);
    kit_redis_kill(server);
    green_hub_destroy();
}
END_TEST

struct waiter { green_redis_t *c; int subscribed; int rc, err; double took; };

static void *wait_on(void *arg)
{
    struct waiter *w = arg;
    double t0 = green_now();
    if (w->subscribed) {
        green_redis_msg_t m;
        w->rc = green_redis_next(w->c, &m, GREEN_FOREVER);
    } else {
        const char *blpop[] = { "BLPOP", "empty", "0" };
        green_redis_reply_t *r;
        w->rc = green_redis_command(w->c, 3, blpop, NULL, &r, GREEN_FOREVER);
    }
    w->err = errno;
    w->took = green_now() - t0;
    return NULL;
}

/* The server is killed while greenlets wait on it, forever: each wait
 * fails at once with ECONNRESET instead of hanging. */
START_TEST(test_server_killed)
{
    start_server();
    struct waiter cmd = { connect_or_fail(), 0, 0, 0, 0 }, sub = { connect_or_fail(), 1, 0, 0, 0 };
    ck_assert_int_eq(green_redis_subscribe(sub.c, "x", 2), 0);
    green_t *g[2] = { green_spawn(wait_on, &cmd), green_spawn(wait_on, &sub) };
    green_sleep(0.1);
    double t0 = green_now();
    kit_redis_kill(server);
    kit_join_free(g, 2);
    double took = green_now() - t0;
    ck_assert_msg(cmd.rc == -1 && cmd.err == ECONNRESET,
                  "a command waiting when the server died: expected -1 with ECONNRESET, got %d (%s); "
                  REDIS_H, cmd.rc, kit_why(cmd.rc, cmd.err));
    ck_assert_msg(sub.rc == -1 && sub.err == ECONNRESET,
                  "green_redis_next waiting when the server died: expected -1 with ECONNRESET, "
                  "got %d (%s)", sub.rc, kit_why(sub.rc, sub.err));
    ck_assert_msg(took < 2, "the waits took %.2f s to fail after the kill: they should fail at once", took);
    const char *ping[] = { "PING" };
    green_redis_reply_t *r;
    errno = 0;
    ck_assert_msg(green_redis_command(cmd.c, 1, ping, NULL, &r, 1) == -1 && errno == ENOTCONN,
                  "a command on the dead connection: expected -1 with ENOTCONN, got %s",
                  strerror(errno));
    green_redis_close(cmd.c);
    green_redis_close(sub.c);
    green_hub_destroy();
}
END_TEST

/* A greenlet killed while it waits: ECANCELED, like every green wait. */
START_TEST(test_killed_waiter)
{
    start_server();
    struct waiter w = { connect_or_fail(), 1, 0, 0, 0 };
    ck_assert_int_eq(green_redis_subscribe(w.c, "x", 2), 0);
    green_t *g = green_spawn(wait_on, &w);
    green_sleep(0.05);
    ck_assert_int_eq(green_kill(g, 2), 0);
    green_free(g);
    ck_assert_msg(w.rc == -1 && w.err == ECANCELED,
                  "green_redis_next in a killed greenlet: expected -1 with ECANCELED, got %d (%s)",
                  w.rc, kit_why(w.rc, w.err));
    green_redis_close(w.c);
    kit_redis_kill(server);
    green_hub_destroy();
}
END_TEST

/* green_redis_shutdown wakes a waiter of another greenlet, as if the
 * server had gone. */
START_TEST(test_shutdown_wakes)
{
    start_server();
    struct waiter w = { connect_or_fail(), 1, 0, 0, 0 };
    ck_assert_int_eq(green_redis_subscribe(w.c, "x", 2), 0);
    green_t *g = green_spawn(wait_on, &w);
    green_sleep(0.05);
    green_redis_shutdown(w.c);
    ck_assert_int_eq(green_join(g, 2), 0);
    green_free(g);
    ck_assert_msg(w.rc == -1 && w.err == ECONNRESET,
                  "after green_redis_shutdown: expected the waiter's -1 with ECONNRESET, got %d (%s)",
                  w.rc, kit_why(w.rc, w.err));
    green_redis_close(w.c);
    kit_redis_kill(server);
    green_hub_destroy();
}
END_TEST

static Suite *redis_suite(void)
{
    Suite *s = suite_create("redis");
    TCase *tc = kit_tcase("client");
    tcase_add_test(tc, test_parse_url);
    tcase_add_test(tc, test_connect_refused);
    tcase_add_test(tc, test_commands);
    tcase_add_test(tc, test_shared_connection);
    suite_add_tcase(s, tc);
    tc = kit_tcase("pubsub");
    tcase_add_test(tc, test_pubsub);
    tcase_add_test(tc, test_message_before_confirmation);
    suite_add_tcase(s, tc);
    tc = kit_tcase("failures");
    tcase_add_test(tc, test_next_timeout);
    tcase_add_test(tc, test_command_timeout);
    tcase_add_test(tc, test_server_killed);
    tcase_add_test(tc, test_killed_waiter);
    tcase_add_test(tc, test_shutdown_wakes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(redis_suite()); }
