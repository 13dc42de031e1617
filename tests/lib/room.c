/*
 * tests/lib/room.c - the library's own tests of room.h, chapter 13's chat
 * rooms: ids, the history a joining reader gets, one post waking every
 * waiting reader, timeouts, a reader that falls behind (ENOBUFS), a
 * message kept by a reader while the ring overwrites its slot (run under
 * `make SANITIZE=1` and VALGRIND=1: no use after free), the publisher
 * hook, green_room_close_all, and the names and texts refused.
 *
 * Every test ends with green_room_free_all() and green_hub_destroy(), so
 * that leak checkers see a clean exit.
 */
#include "harness.h"
#include "green.h"
#include "room.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROOM_H "lib/13-chat/room.h"

static void finish(void)
{
    green_room_free_all();
    green_hub_destroy();
}

/* The room r's next message, which must be there already. */
static green_room_msg_t *next_now(green_room_t *r, int64_t *cursor)
{
    green_room_msg_t *m = NULL;
    int rc = green_room_next(r, cursor, &m, 0);
    ck_assert_msg(rc == 0, "green_room_next after cursor %lld, with messages up to %lld: expected 0, "
                  "got %d (%s); see " ROOM_H, (long long)*cursor, (long long)green_room_last_id(r),
                  rc, kit_why(rc, errno));
    return m;
}

/* ---- Ids and history ---------------------------------------------------- */

START_TEST(test_ids)
{
    green_room_t *r = green_room_get("lobby");
    ck_assert_ptr_nonnull(r);
    ck_assert_msg(green_room_get("lobby") == r, "asking for a room twice should give the same room");
    ck_assert_str_eq(green_room_name(r), "lobby");
    ck_assert_msg(green_room_last_id(r) == 0, "a new room's last id is 0");
    for (int i = 1; i <= 3; i++) {
        int64_t id = green_room_post(r, "ann", "hello");
        ck_assert_msg(id == i, "post number %d should get id %d, got %lld; see " ROOM_H, i, i, (long long)id);
    }
    green_room_t *other = green_room_get("other");
    ck_assert_msg(green_room_post(other, "bob", "hi") == 1, "ids count per room: another room starts at 1");
    int64_t cursor = 0;
    green_room_msg_t *m = next_now(r, &cursor);
    ck_assert_msg(m->id == 1 && cursor == 1 && strcmp(m->room, "lobby") == 0 &&
                  strcmp(m->name, "ann") == 0 && strcmp(m->text, "hello") == 0 && m->time > 1e9,
                  "the first message: expected id 1, room lobby, ann, hello, a time since the epoch; "
                  "got %lld %s %s %s %.0f", (long long)m->id, m->room, m->name, m->text, m->time);
    green_room_msg_unref(m);
    finish();
}
END_TEST

START_TEST(test_history_cursor)
{
    green_room_t *r = green_room_get("h");
    ck_assert_msg(green_room_cursor(r, 50) == 0, "an empty room: the cursor is 0");
    char text[16];
    for (int i = 1; i <= 10; i++) {
        snprintf(text, sizeof text, "m%d", i);
        green_room_post(r, "ann", text);
    }
    ck_assert_msg(green_room_cursor(r, 3) == 7, "10 messages, history 3: the cursor should be 7 "
                  "(the reader gets 8, 9, 10), got %lld", (long long)green_room_cursor(r, 3));
    ck_assert_msg(green_room_cursor(r, 50) == 0, "history 50 of 10 messages: all of them (cursor 0)");
    ck_assert_msg(green_room_cursor(r, 0) == 10, "history 0: only what comes next (cursor 10)");
    int64_t cursor = green_room_cursor(r, 3);
    for (int want = 8; want <= 10; want++) {
        green_room_msg_t *m = next_now(r, &cursor);
        snprintf(text, sizeof text, "m%d", want);
        ck_assert_msg(m->id == want && strcmp(m->text, text) == 0, "history in order: expected %d %s, "
                      "got %lld %s", want, text, (long long)m->id, m->text);
        green_room_msg_unref(m);
    }
    finish();
}
END_TEST

/* Ids from a publisher may skip (messages this process missed): the
 * reader goes from one to the next that is there. */
START_TEST(test_append_gaps)
{
    green_room_t *r = green_room_get("g");
    ck_assert_int_eq(green_room_append(r, 5, 1.0, "ann", "five"), 0);
    ck_assert_int_eq(green_room_append(r, 3, 1.0, "ann", "old"), 0);     /* a duplicate: ignored */
    ck_assert_int_eq(green_room_append(r, 9, 1.0, "ann", "nine"), 0);
    ck_assert_msg(green_room_last_id(r) == 9, "after appending 5, 3 and 9 the last id is 9, got %lld",
                  (long long)green_room_last_id(r));
    int64_t cursor = green_room_cursor(r, 10);
    green_room_msg_t *a = next_now(r, &cursor), *b = next_now(r, &cursor);
    ck_assert_msg(a->id == 5 && b->id == 9, "a reader should see 5 then 9 (3 came late: a duplicate), "
                  "got %lld then %lld; see " ROOM_H, (long long)a->id, (long long)b->id);
    green_room_msg_unref(a);
    green_room_msg_unref(b);
    finish();
}
END_TEST

/* ---- Waiting ------------------------------------------------------------ */

struct reader {
    green_room_t *room;
    int64_t cursor;
    double timeout;
    int rc, err;
    int64_t got;
};

static void *read_one(void *arg)
{
    struct reader *rd = arg;
    green_room_msg_t *m;
    rd->rc = green_room_next(rd->room, &rd->cursor, &m, rd->timeout);
    rd->err = errno;
    if (rd->rc == 0) {
        rd->got = m->id;
        green_room_msg_unref(m);
    }
    return NULL;
}

START_TEST(test_one_post_wakes_all)
{
    enum { N = 50 };
    green_room_t *r = green_room_get("many");
    static struct reader rd[N];
    green_t *g[N];
    for (int i = 0; i < N; i++) {
        rd[i] = (struct reader){ .room = r, .cursor = 0, .timeout = 5.0, .rc = -2 };
        g[i] = green_spawn(read_one, &rd[i]);
    }
    green_sleep(0);             /* they all wait now */
    for (int i = 0; i < N; i++)
        ck_assert_msg(rd[i].rc == -2, "reader %d should wait for the first post, it returned %d", i, rd[i].rc);
    green_room_post(r, "ann", "to all");
    kit_join_free(g, N);
    for (int i = 0; i < N; i++)
        ck_assert_msg(rd[i].rc == 0 && rd[i].got == 1, "one post should wake all %d readers; reader %d "
                      "got rc %d (%s), id %lld; see " ROOM_H, N, i, rd[i].rc, kit_why(rd[i].rc, rd[i].err),
                      (long long)rd[i].got);
    finish();
}
END_TEST

START_TEST(test_timeout)
{
    green_room_t *r = green_room_get("quiet");
    struct reader rd = { .room = r, .cursor = 0, .timeout = 0.05 };
    double t0 = green_now();
    read_one(&rd);
    ck_assert_msg(rd.rc == -1 && rd.err == ETIMEDOUT, "nothing posted: expected -1 ETIMEDOUT, got %d (%s)",
                  rd.rc, kit_why(rd.rc, rd.err));
    ck_assert_msg(green_now() - t0 >= 0.04, "the wait should last about its timeout (0.05 s)");
    ck_assert_msg(rd.cursor == 0, "a wait that failed leaves the cursor where it was");
    rd.timeout = 0;
    read_one(&rd);
    ck_assert_msg(rd.rc == -1 && rd.err == ETIMEDOUT, "timeout 0 with nothing new: -1 ETIMEDOUT at once");
    ck_assert_int_eq(kit_pending_events(), 0);
    finish();
}
END_TEST

/* A killed reader's wait fails with ECANCELED, and leaves the room's list. */
START_TEST(test_killed_reader)
{
    green_room_t *r = green_room_get("k");
    struct reader rd = { .room = r, .timeout = GREEN_FOREVER };
    green_t *g = green_spawn(read_one, &rd);
    green_sleep(0);
    ck_assert_int_eq(green_kill(g, 1.0), 0);
    ck_assert_msg(rd.rc == -1 && rd.err == ECANCELED, "a killed reader: expected -1 ECANCELED, got %d (%s)",
                  rd.rc, kit_why(rd.rc, rd.err));
    green_free(g);
    green_room_post(r, "ann", "after");     /* nobody waits: no stale node touched */
    finish();
}
END_TEST

/* ---- Falling behind, and references ---------------------------------------- */

START_TEST(test_enobufs)
{
    green_room_t *r = green_room_get("flood");
    int64_t slow = 0, fast = 0;
    for (int i = 0; i < GREEN_ROOM_CAPACITY; i++)
        green_room_post(r, "ann", "x");
    green_room_msg_t *m = next_now(r, &slow);   /* CAPACITY posts: all still there */
    green_room_msg_unref(m);
    slow = 0;
    fast = green_room_last_id(r);
    green_room_post(r, "ann", "one too many");  /* CAPACITY + 1: message 1 is gone */
    errno = 0;
    int rc = green_room_next(r, &slow, &m, 0);
    ck_assert_msg(rc == -1 && errno == ENOBUFS, "after %d + 1 posts a reader still at 0 has lost "
                  "message 1: expected -1 ENOBUFS, got %d (%s); see " ROOM_H,
                  GREEN_ROOM_CAPACITY, rc, kit_why(rc, errno));
    m = next_now(r, &fast);
    ck_assert_msg(m->id == GREEN_ROOM_CAPACITY + 1, "a reader that kept up is not affected: expected "
                  "id %d, got %lld", GREEN_ROOM_CAPACITY + 1, (long long)m->id);
    green_room_msg_unref(m);
    int64_t joined = green_room_cursor(r, 1000);
    m = next_now(r, &joined);
    ck_assert_msg(m->id == 2, "a reader joining with a long history starts at the oldest kept (2), "
                  "got %lld", (long long)m->id);
    green_room_msg_unref(m);
    finish();
}
END_TEST

/* A writer greenlet holds a message while the ring laps it: the message
 * must stay whole until given back (ASan or Valgrind would see it). */
START_TEST(test_reference_outlives_slot)
{
    green_room_t *r = green_room_get("ref");
    green_room_post(r, "ann", "keep me");
    int64_t cursor = 0;
    green_room_msg_t *kept = next_now(r, &cursor);
    for (int i = 0; i < 2 * GREEN_ROOM_CAPACITY; i++)
        green_room_post(r, "bob", "overwrite");
    ck_assert_msg(strcmp(kept->text, "keep me") == 0 && strcmp(kept->name, "ann") == 0 && kept->id == 1,
                  "a message held by a reader must survive its slot being overwritten; see " ROOM_H);
    green_room_msg_unref(kept);
    finish();
}
END_TEST

/* ---- The publisher hook ----------------------------------------------------- */

static int published;
static char last_text[64];

static int publish(green_room_t *r, const char *name, const char *text, void *arg)
{
    (void)r, (void)name;
    published++;
    snprintf(last_text, sizeof last_text, "%s", text);
    if (arg) {
        errno = EHOSTUNREACH;
        return -1;
    }
    return 0;
}

START_TEST(test_publisher)
{
    green_room_t *r = green_room_get("pub");
    published = 0;
    green_room_set_publisher(publish, NULL);
    int64_t id = green_room_post(r, "ann", "via redis");
    ck_assert_msg(id == 0 && published == 1 && strcmp(last_text, "via redis") == 0,
                  "with a publisher, a post is handed to it and returns 0, got %lld (published %d)",
                  (long long)id, published);
    ck_assert_msg(green_room_last_id(r) == 0, "with a publisher, the post is not appended here: its id "
                  "comes back through green_room_append");
    green_room_append(r, 42, 1.0, "ann", "via redis");
    ck_assert_msg(green_room_last_id(r) == 42, "green_room_append gives the id: expected 42");
    green_room_set_publisher(publish, (void *)1);   /* one that fails */
    errno = 0;
    id = green_room_post(r, "ann", "lost");
    ck_assert_msg(id == -1 && errno == EHOSTUNREACH, "a publisher's failure is the post's: expected -1 "
                  "EHOSTUNREACH, got %lld (%s)", (long long)id, kit_why(id, errno));
    green_room_set_publisher(NULL, NULL);
    ck_assert_msg(green_room_post(r, "ann", "local") == 43, "without a publisher again: appended here, id 43");
    finish();
}
END_TEST

/* ---- Closing ------------------------------------------------------------------ */

START_TEST(test_close_all)
{
    green_room_t *r = green_room_get("bye");
    struct reader rd = { .room = r, .timeout = GREEN_FOREVER };
    green_t *g = green_spawn(read_one, &rd);
    green_sleep(0);
    green_room_close_all();
    ck_assert_int_eq(green_join(g, 2.0), 0);
    ck_assert_msg(rd.rc == -1 && rd.err == ESHUTDOWN, "a reader waiting at green_room_close_all: "
                  "expected -1 ESHUTDOWN, got %d (%s)", rd.rc, kit_why(rd.rc, rd.err));
    green_free(g);
    errno = 0;
    ck_assert_msg(green_room_post(r, "ann", "late") == -1 && errno == ESHUTDOWN,
                  "a post after green_room_close_all: -1 ESHUTDOWN");
    green_room_free_all();
    ck_assert_msg(green_room_post(green_room_get("again"), "ann", "hi") == 1,
                  "after green_room_free_all the thread may start again");
    finish();
}
END_TEST

/* ---- What is refused ----------------------------------------------------------- */

START_TEST(test_bad_names_and_texts)
{
    const char *bad_rooms[] = { "", "has space", "a/b", "<b>", "caf\xc3\xa9",
                                "123456789012345678901234567890123" /* 33 */ };
    for (size_t i = 0; i < sizeof bad_rooms / sizeof bad_rooms[0]; i++) {
        errno = 0;
        ck_assert_msg(green_room_get(bad_rooms[i]) == NULL && errno == EINVAL,
                      "room name \"%s\": expected NULL EINVAL (1 to 32 of [A-Za-z0-9_-]); see " ROOM_H,
                      bad_rooms[i]);
    }
    ck_assert_ptr_nonnull(green_room_get("12345678901234567890123456789012"));     /* 32 */
    ck_assert_ptr_nonnull(green_room_get("a-b_C9"));
    green_room_t *r = green_room_get("t");
    static char big[GREEN_ROOM_TEXT_MAX + 2];
    memset(big, 'x', GREEN_ROOM_TEXT_MAX + 1);
    const struct { const char *name, *text, *why; } bad[] = {
        { "ann", "", "an empty text" },
        { "ann", big, "a text of 4097 bytes" },
        { "ann", "\xc0\xaf", "a text that is not UTF-8 (an overlong '/')" },
        { "ann", "ok \xed\xa0\x80", "a text with a UTF-16 surrogate" },
        { "\xff", "hi", "a name that is not UTF-8" },
        { "123456789012345678901234567890123", "hi", "a name of 33 bytes" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        int64_t id = green_room_post(r, bad[i].name, bad[i].text);
        ck_assert_msg(id == -1 && errno == EINVAL, "%s: expected -1 EINVAL, got %lld (%s); see " ROOM_H,
                      bad[i].why, (long long)id, kit_why(id, errno));
        ck_assert_msg(green_room_append(r, 100, 1.0, bad[i].name, bad[i].text) == -1 && errno == EINVAL,
                      "%s: green_room_append should refuse it too (EINVAL)", bad[i].why);
    }
    big[GREEN_ROOM_TEXT_MAX] = '\0';
    ck_assert_msg(green_room_post(r, "", big) == 1, "a 4096-byte text from \"\" (the room's notices) is fine");
    ck_assert_msg(green_room_post(r, "<b>eve</b>", "caf\xc3\xa9 \xf0\x9f\x98\x80") == 2,
                  "markup in a name and UTF-8 in a text are kept as they are (escaping is the page's job)");
    finish();
}
END_TEST

/* The hub cannot wait for a message: EPERM, from a libevent callback. */
static int hub_rc, hub_err;
static void from_hub(int signum, void *arg)
{
    (void)signum;
    int64_t cursor = 0;
    green_room_msg_t *m;
    hub_rc = green_room_next(arg, &cursor, &m, 1.0);
    hub_err = errno;
}

START_TEST(test_hub_cannot_wait)
{
    green_room_t *r = green_room_get("hub");
    green_signal_t *sig = green_signal_handler(SIGUSR2, from_hub, r);
    ck_assert_ptr_nonnull(sig);
    hub_rc = 0;
    raise(SIGUSR2);
    for (int i = 0; i < 100 && hub_rc == 0; i++)
        green_sleep(0.01);
    ck_assert_msg(hub_rc == -1 && hub_err == EPERM, "green_room_next from the hub (a signal's callback): "
                  "expected -1 EPERM, got %d (%s)", hub_rc, kit_why(hub_rc, hub_err));
    green_signal_cancel(sig);
    finish();
}
END_TEST

static Suite *room_suite(void)
{
    Suite *s = suite_create("lib/room");
    TCase *tc = kit_tcase("ring");
    tcase_add_test(tc, test_ids);
    tcase_add_test(tc, test_history_cursor);
    tcase_add_test(tc, test_append_gaps);
    tcase_add_test(tc, test_enobufs);
    tcase_add_test(tc, test_reference_outlives_slot);
    tcase_add_test(tc, test_bad_names_and_texts);
    suite_add_tcase(s, tc);

    tc = kit_tcase("waiting");
    tcase_add_test(tc, test_one_post_wakes_all);
    tcase_add_test(tc, test_timeout);
    tcase_add_test(tc, test_killed_reader);
    tcase_add_test(tc, test_close_all);
    tcase_add_test(tc, test_hub_cannot_wait);
    suite_add_tcase(s, tc);

    tc = kit_tcase("publisher");
    tcase_add_test(tc, test_publisher);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(room_suite()); }
