/* Tests of exercise 13-chat/ring: a bounded ring of messages, a cursor per reader. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "ring.h"

#define RING KIT_LESSON("chapters/13-chat/README.md", "Rooms: a ring and a cursor each")

/* The ring under test, and what the test did to it: the tests only call
 * the functions (ex_ring_t's fields are the student's to choose). */
static ex_ring_t ring;
static int slots;
static int64_t posted;

/* What *msg holds before a call that must leave it alone. */
static const ex_msg_t untouched;

static const char *errno_name(int err)
{
    return err == EAGAIN ? "EAGAIN" : err == ENOBUFS ? "ENOBUFS" : err == EINVAL ? "EINVAL" : "?";
}

/* A ring of `capacity` slots, or the test fails. */
static void make_ring(int capacity)
{
    memset(&ring, 0, sizeof ring);
    slots = capacity;
    posted = 0;
    errno = 0;
    int rc = ex_ring_init(&ring, capacity);
    ck_assert_msg(rc == 0, "ex_ring_init(r, %d) should return 0, got %d (%s); %s",
                  capacity, rc, kit_why(rc, errno), RING);
}

/* Post "message N" and check that it got id N. */
static void post(int64_t n)
{
    char text[32];
    snprintf(text, sizeof text, "message %lld", (long long)n);
    errno = 0;
    int64_t id = ex_ring_post(&ring, text);
    ck_assert_msg(id == n, "post number %lld should get id %lld (ids are 1, 2, 3...), got %lld "
                  "(%s); %s", (long long)n, (long long)n, (long long)id, kit_why(id, errno), RING);
    posted = n;
}

/* The reader at *cursor gets message `want` ("message WANT"). */
static void reads(int64_t *cursor, int64_t want, const char *who)
{
    const ex_msg_t *m = NULL;
    int64_t before = *cursor;
    char text[32];
    snprintf(text, sizeof text, "message %lld", (long long)want);
    errno = 0;
    int rc = ex_ring_next(&ring, cursor, &m);
    ck_assert_msg(rc == 0, "%s at cursor %lld (%lld messages posted, %d slot(s)) should get "
                  "message %lld: expected 0, got %d (%s); %s", who, (long long)before,
                  (long long)posted, slots, (long long)want, rc, kit_why(rc, errno), RING);
    ck_assert_msg(m != NULL && m->id == want && strcmp(m->text, text) == 0, "%s at cursor %lld "
                  "should get message %lld, \"%s\"; got id %lld, \"%s\" (message id lives in "
                  "slot (id - 1) %% capacity); %s", who, (long long)before, (long long)want, text,
                  m ? (long long)m->id : -1LL, m ? m->text : "(NULL)", RING);
    ck_assert_msg(*cursor == want, "after reading message %lld the cursor should be %lld, got "
                  "%lld; %s", (long long)want, (long long)want, (long long)*cursor, RING);
}

/* The reader at *cursor gets -1 with errno `err`, and its cursor stays. */
static void refused(int64_t *cursor, int err, const char *who, const char *why)
{
    const ex_msg_t *m = &untouched;
    int64_t before = *cursor;
    errno = 0;
    int rc = ex_ring_next(&ring, cursor, &m);
    int got = errno;
    char gave[48] = "";
    if (rc == 0 && m != NULL)
        snprintf(gave, sizeof gave, ", message %lld", (long long)m->id);
    ck_assert_msg(rc == -1 && got == err, "%s at cursor %lld (%lld messages posted, %d slot(s)): "
                  "%s, so expected -1 with errno %s, got %d (%s)%s; %s", who,
                  (long long)before, (long long)posted, slots, why, errno_name(err),
                  rc, kit_why(rc, got), gave, RING);
    ck_assert_msg(*cursor == before && m == &untouched, "%s: a failed "
                  "ex_ring_next should leave *cursor (%lld, now %lld) and *msg alone; %s",
                  who, (long long)before, (long long)*cursor, RING);
}

/* ---- Init and post ---------------------------------------------------------------- */

START_TEST(test_init_refuses_no_slots)
{
    for (int cap = -1; cap <= 0; cap++) {
        ex_ring_t r;
        errno = 0;
        int rc = ex_ring_init(&r, cap);
        ck_assert_msg(rc == -1 && errno == EINVAL, "ex_ring_init(r, %d) should return -1 with "
                      "errno EINVAL (a ring needs at least one slot), got %d (%s); %s",
                      cap, rc, kit_why(rc, errno), RING);
    }
    make_ring(1);
    int64_t cursor = 0;
    refused(&cursor, EAGAIN, "a reader of a new ring", "a new ring is empty");
    ex_ring_free(&ring);
}
END_TEST

START_TEST(test_post_copies_text)
{
    make_ring(4);
    char text[EX_RING_TEXT_MAX + 1];
    strcpy(text, "hello");
    int64_t id = ex_ring_post(&ring, text);
    ck_assert_msg(id == 1, "the first post should get id 1, got %lld (%s); %s",
                  (long long)id, kit_why(id, errno), RING);
    strcpy(text, "changed");                /* the caller reuses its buffer */
    int64_t cursor = 0;
    const ex_msg_t *m = NULL;
    int rc = ex_ring_next(&ring, &cursor, &m);
    ck_assert_msg(rc == 0 && m != NULL && strcmp(m->text, "hello") == 0, "a post keeps a COPY "
                  "of its text: the caller changed its buffer after posting \"hello\", and the "
                  "ring's message reads \"%s\" (ex_ring_next returned %d); %s",
                  rc == 0 && m ? m->text : "(none)", rc, RING);

    memset(text, 'x', EX_RING_TEXT_MAX - 1);
    text[EX_RING_TEXT_MAX - 1] = 0;         /* the longest text: 127 bytes */
    id = ex_ring_post(&ring, text);
    ck_assert_msg(id == 2, "a text of %d bytes (EX_RING_TEXT_MAX - 1) fits: expected id 2, got "
                  "%lld (%s); %s", EX_RING_TEXT_MAX - 1, (long long)id, kit_why(id, errno), RING);
    text[EX_RING_TEXT_MAX - 1] = 'x';
    text[EX_RING_TEXT_MAX] = 0;             /* one byte too many */
    errno = 0;
    id = ex_ring_post(&ring, text);
    ck_assert_msg(id == -1 && errno == EINVAL, "a text of %d bytes does not fit with its NUL: "
                  "expected -1 with errno EINVAL, got %lld (%s); %s", EX_RING_TEXT_MAX,
                  (long long)id, kit_why(id, errno), RING);
    errno = 0;
    id = ex_ring_post(&ring, NULL);
    ck_assert_msg(id == -1 && errno == EINVAL, "ex_ring_post(r, NULL): expected -1 with errno "
                  "EINVAL, got %lld (%s); %s", (long long)id, kit_why(id, errno), RING);
    id = ex_ring_post(&ring, "next");
    ck_assert_msg(id == 3, "a refused post posts nothing: the next one should get id 3, got "
                  "%lld; %s", (long long)id, RING);
    ex_ring_free(&ring);
}
END_TEST

/* ---- Reading ------------------------------------------------------------------------ */

START_TEST(test_next_in_order)
{
    make_ring(8);
    int64_t cursor = 0;
    refused(&cursor, EAGAIN, "a reader of an empty ring", "nothing was posted yet");
    for (int64_t i = 1; i <= 3; i++)
        post(i);
    for (int64_t i = 1; i <= 3; i++)
        reads(&cursor, i, "a reader");
    refused(&cursor, EAGAIN, "a reader", "it has read everything");
    post(4);
    reads(&cursor, 4, "the same reader, after one more post");
    ex_ring_free(&ring);
}
END_TEST

START_TEST(test_wrap_around)
{
    /* 4 slots, 10 messages: slot 0 has held messages 1, 5 and 9. */
    make_ring(4);
    int64_t cursor = 0;
    for (int64_t i = 1; i <= 10; i++) {
        post(i);
        reads(&cursor, i, "a reader that reads after every post");
    }
    int64_t late = 6;
    for (int64_t i = 7; i <= 10; i++)
        reads(&late, i, "a reader 4 messages behind (the ring holds 7 to 10)");
    refused(&late, EAGAIN, "that reader", "it has read everything");
    ex_ring_free(&ring);
}
END_TEST

START_TEST(test_fell_behind_exactly)
{
    /* With capacity C, message 1 is there after C posts, and gone after
     * C + 1: the reader at cursor 0 fell behind exactly then. */
    static const int caps[] = { 1, 2, 3, 8, 256 };
    for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++) {
        int c = caps[k];
        make_ring(c);
        for (int64_t i = 1; i <= c; i++)
            post(i);
        int64_t cursor = 0;
        reads(&cursor, 1, "a reader that has read nothing");  /* still there */
        post(c + 1);
        cursor = 0;
        refused(&cursor, ENOBUFS, "a reader that has read nothing",
                "message 1 was overwritten by the last post");
        cursor = 1;
        reads(&cursor, 2, "a reader that has read message 1 only");
        ex_ring_free(&ring);
    }
}
END_TEST

START_TEST(test_readers_at_different_paces)
{
    /* 5 slots, 60 posts; four readers, each reading everything it can
     * every `pace` posts.  Those with pace <= 5 never miss a message;
     * pace 6 falls behind at its first read. */
    make_ring(5);
    static const int paces[] = { 1, 3, 5, 6 };
    int64_t cursor[4] = { 0, 0, 0, 0 };
    int64_t got[4] = { 0, 0, 0, 0 };        /* messages read */
    int dropped[4] = { 0, 0, 0, 0 };
    for (int64_t i = 1; i <= 60; i++) {
        post(i);
        for (int k = 0; k < 4; k++) {
            if (dropped[k] || i % paces[k] != 0)
                continue;
            const ex_msg_t *m;
            int rc;
            while ((rc = ex_ring_next(&ring, &cursor[k], &m)) == 0) {
                ck_assert_msg(m->id == got[k] + 1, "the reader that reads every %d posts "
                              "should get message %lld next, got %lld; %s", paces[k],
                              (long long)got[k] + 1, (long long)m->id, RING);
                got[k]++;
            }
            if (errno == ENOBUFS)
                dropped[k] = 1;
            else
                ck_assert_msg(errno == EAGAIN, "after reading all it can, the reader that reads "
                              "every %d posts should get EAGAIN (nothing new), got %s; %s",
                              paces[k], kit_why(rc, errno), RING);
        }
    }
    for (int k = 0; k < 3; k++)
        ck_assert_msg(!dropped[k] && got[k] == 60, "the reader that reads every %d posts, with "
                      "5 slots, never has more than 5 unread messages: it should read all 60, "
                      "read %lld%s; %s", paces[k], (long long)got[k],
                      dropped[k] ? " and was told it fell behind (ENOBUFS)" : "", RING);
    ck_assert_msg(dropped[3] && got[3] == 0, "the reader that reads every 6 posts, with 5 slots, "
                  "finds message 1 overwritten at its first read: expected ENOBUFS at once and 0 "
                  "messages read, it %s and read %lld; %s",
                  dropped[3] ? "was told it fell behind" : "was never told it fell behind",
                  (long long)got[3], RING);
    ex_ring_free(&ring);
}
END_TEST

START_TEST(test_history_cursor)
{
    make_ring(4);
    struct { int history; int64_t want; const char *why; } empty[] = {
        { 0, 0, "an empty ring" }, { 10, 0, "an empty ring has no history" },
    };
    for (size_t i = 0; i < 2; i++) {
        int64_t c = ex_ring_cursor(&ring, empty[i].history);
        ck_assert_msg(c == empty[i].want, "ex_ring_cursor(r, %d) on %s: expected %lld, got %lld; %s",
                      empty[i].history, empty[i].why, (long long)empty[i].want, (long long)c, RING);
    }
    post(1);
    post(2);
    struct { int history; int64_t want; const char *why; } two[] = {
        { 0, 2, "history 0: only new messages, so the last id" },
        { 1, 1, "the last message again: the cursor just before it" },
        { 10, 0, "10 wanted, only 2 posted: both" },
        { -3, 2, "a negative history counts as 0" },
    };
    for (size_t i = 0; i < 4; i++) {
        int64_t c = ex_ring_cursor(&ring, two[i].history);
        ck_assert_msg(c == two[i].want, "ex_ring_cursor(r, %d) after 2 posts into 4 slots (%s): "
                      "expected %lld, got %lld; %s", two[i].history, two[i].why,
                      (long long)two[i].want, (long long)c, RING);
    }
    for (int64_t i = 3; i <= 10; i++)
        post(i);
    struct { int history; int64_t want; const char *why; } ten[] = {
        { 10, 6, "10 wanted, but the ring holds only 7 to 10" },
        { 4, 6, "the whole ring: messages 7 to 10" },
        { 3, 7, "messages 8 to 10" },
        { 0, 10, "only new messages" },
    };
    for (size_t i = 0; i < 4; i++) {
        int64_t c = ex_ring_cursor(&ring, ten[i].history);
        ck_assert_msg(c == ten[i].want, "ex_ring_cursor(r, %d) after 10 posts into 4 slots (%s): "
                      "expected %lld, got %lld; %s", ten[i].history, ten[i].why,
                      (long long)ten[i].want, (long long)c, RING);
    }
    int64_t cursor = ex_ring_cursor(&ring, 100);
    for (int64_t i = 7; i <= 10; i++)
        reads(&cursor, i, "a reader that joined with all the history there is");
    refused(&cursor, EAGAIN, "that reader", "it has read everything");
    ex_ring_free(&ring);
}
END_TEST

START_TEST(test_bad_cursor)
{
    make_ring(4);
    post(1);
    post(2);
    int64_t cursor = -1;
    refused(&cursor, EINVAL, "a reader", "no ring gives a negative cursor");
    cursor = 3;
    refused(&cursor, EINVAL, "a reader", "the last id is 2: a cursor of 3 comes from nowhere");
    ex_ring_free(&ring);
}
END_TEST

static Suite *ring_suite(void)
{
    Suite *s = suite_create("13-chat/ring");
    TCase *tc = kit_tcase("ring");
    tcase_add_test(tc, test_init_refuses_no_slots);
    tcase_add_test(tc, test_post_copies_text);
    tcase_add_test(tc, test_next_in_order);
    tcase_add_test(tc, test_wrap_around);
    tcase_add_test(tc, test_fell_behind_exactly);
    tcase_add_test(tc, test_readers_at_different_paces);
    tcase_add_test(tc, test_history_cursor);
    tcase_add_test(tc, test_bad_cursor);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(ring_suite()); }
