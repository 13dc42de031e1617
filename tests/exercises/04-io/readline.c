/* Tests of exercise 04-io/readline: a line reader with a deadline per line. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "green.h"
#include "readline.h"

#define LESSON "chapters/04-io/README.md"
#define HEADER "exercises/04-io/readline/readline.h"

static void put(int fd, const char *text)
{
    ck_assert_msg(green_sendall(fd, text, strlen(text), 1.0) == (ssize_t)strlen(text),
                  "test setup: green_sendall failed: %s", strerror(errno));
}

/* Sends the pieces one after the other, `gap` seconds apart. */
struct trickle { int fd; double gap; const char **pieces; int n; };

static void *trickle(void *arg)
{
    struct trickle *t = arg;
    for (int i = 0; i < t->n; i++) {
        if (green_sleep(t->gap) != 0)
            break;
        green_sendall(t->fd, t->pieces[i], strlen(t->pieces[i]), 1.0);
    }
    return NULL;
}

START_TEST(test_two_lines_in_one_packet)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    put(b, "one\ntwo\n");
    struct ex_reader r;
    ex_reader_init(&r, a);
    char line[64] = "";
    ssize_t n = ex_readline(&r, line, sizeof line, 1.0);
    ck_assert_msg(n == 4 && strcmp(line, "one\n") == 0, "with \"one\\ntwo\\n\" sent at once, the first ex_readline "
                  "should return 4 and \"one\\n\", got %zd (%s) \"%s\"; see %s", n, kit_why(n, errno), n > 0 ? line : "", HEADER);
    n = ex_readline(&r, line, sizeof line, 1.0);
    ck_assert_msg(n == 4 && strcmp(line, "two\n") == 0, "the second ex_readline should return \"two\\n\" from the "
                  "buffer, got %zd (%s) \"%s\": keep the bytes after the first '\\n' in the reader; see %s",
                  n, kit_why(n, errno), n > 0 ? line : "", HEADER);
    close(a);
    close(b);
    green_hub_destroy();
}
END_TEST

START_TEST(test_line_in_pieces)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    const char *pieces[] = { "hel", "lo, wor", "ld\nnext" };
    struct trickle t = { b, 0.03, pieces, 3 };
    green_t *g = green_spawn(trickle, &t);
    struct ex_reader r;
    ex_reader_init(&r, a);
    char line[64] = "";
    ssize_t n = ex_readline(&r, line, sizeof line, 2.0);
    ck_assert_msg(n == 13 && strcmp(line, "hello, world\n") == 0, "a line sent in three pieces should come back whole "
                  "from one ex_readline: expected 13 and \"hello, world\\n\", got %zd (%s) \"%s\"; "
                  KIT_LESSON(LESSON, "The green socket pattern"), n, kit_why(n, errno), n > 0 ? line : "");
    green_join(g, 2.0);
    green_free(g);
    close(a);
    close(b);
    green_hub_destroy();
}
END_TEST

START_TEST(test_end_of_stream)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    put(b, "first\nlast");
    close(b);
    struct ex_reader r;
    ex_reader_init(&r, a);
    char line[64] = "";
    ssize_t n1 = ex_readline(&r, line, sizeof line, 1.0);
    ssize_t n2 = ex_readline(&r, line, sizeof line, 1.0);
    ck_assert_msg(n1 == 6 && n2 == 4 && strcmp(line, "last") == 0, "at the end of the stream, a last line without '\\n' "
                  "should be returned as it is: expected 6 then 4 (\"last\"), got %zd then %zd (%s); see %s",
                  n1, n2, kit_why(n2, errno), HEADER);
    ssize_t n3 = ex_readline(&r, line, sizeof line, 1.0);
    ck_assert_msg(n3 == 0, "after the last line, ex_readline should return 0 (end of stream), got %zd (%s); see %s",
                  n3, kit_why(n3, errno), HEADER);
    close(a);
    green_hub_destroy();
}
END_TEST

START_TEST(test_long_line_in_pieces)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    put(b, "abcdefghij\n");
    struct ex_reader r;
    ex_reader_init(&r, a);
    char line[8];
    ssize_t n1 = ex_readline(&r, line, sizeof line, 1.0);
    int first_ok = n1 == 7 && strcmp(line, "abcdefg") == 0;
    ssize_t n2 = ex_readline(&r, line, sizeof line, 1.0);
    ck_assert_msg(first_ok && n2 == 4 && strcmp(line, "hij\n") == 0, "\"abcdefghij\\n\" read into an 8-byte line should "
                  "come as \"abcdefg\" (7 bytes and the '\\0'), then \"hij\\n\", like fgets; got %zd then %zd (%s); see %s",
                  n1, n2, kit_why(n2, errno), HEADER);
    close(a);
    close(b);
    green_hub_destroy();
}
END_TEST

START_TEST(test_timeout)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    struct ex_reader r;
    ex_reader_init(&r, a);
    char line[64];
    double t0 = green_now();
    ssize_t n = ex_readline(&r, line, sizeof line, 0.2);
    int err = errno;
    double took = green_now() - t0;
    ck_assert_msg(n == -1 && err == ETIMEDOUT, "ex_readline(timeout 0.2) with nothing to read should return -1 with "
                  "errno ETIMEDOUT, got %zd (%s); "
                  KIT_LESSON(LESSON, "Timeouts are deadlines"), n, kit_why(n, err));
    ck_assert_msg(took >= 0.19 && took < 1.0, "ex_readline(timeout 0.2) should give up after 0.2 s, took %.3f s", took);
    close(a);
    close(b);
    green_hub_destroy();
}
END_TEST

/* A byte every 40 ms and never a newline: each recv gets data in time, so
 * only a deadline for the whole line can stop the reader. */
static const char *drip[] = { "s", "l", "o", "w", "l", "o", "r", "i", "s", ".", ".", ".", ".", ".", ".", "." };

START_TEST(test_deadline_for_the_whole_line)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    struct trickle t = { b, 0.04, drip, 16 };
    green_t *g = green_spawn(trickle, &t);
    struct ex_reader r;
    ex_reader_init(&r, a);
    char line[64];
    double t0 = green_now();
    ssize_t n = ex_readline(&r, line, sizeof line, 0.3);
    int err = errno;
    double took = green_now() - t0;
    /* The client's drip is the clock: 16 bytes take 0.64 s, so a reader
     * with one deadline gives up while the client still drips. */
    int dripping = !green_dead(g);
    ck_assert_msg(n == -1 && err == ETIMEDOUT && dripping, "a client sends a byte every 40 ms and never a '\\n': "
                  "ex_readline(timeout 0.3) should fail with ETIMEDOUT after 0.3 s, while the client still sends, "
                  "got %zd (%s) after %.3f s%s: one deadline for the whole line, each green_recv gets only the time "
                  "left; " KIT_LESSON(LESSON, "Timeouts are deadlines"), n, kit_why(n, err), took,
                  dripping ? "" : ", after the client's last byte");
    green_kill(g, 1.0);
    green_free(g);
    close(a);
    close(b);
    green_hub_destroy();
}
END_TEST

START_TEST(test_nothing_lost_after_timeout)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    struct ex_reader r;
    ex_reader_init(&r, a);
    put(b, "half a ");
    char line[64] = "";
    ssize_t n = ex_readline(&r, line, sizeof line, 0.1);
    ck_assert_msg(n == -1 && errno == ETIMEDOUT, "with only \"half a \" sent, ex_readline(timeout 0.1) should fail "
                  "with ETIMEDOUT, got %zd (%s)", n, kit_why(n, errno));
    put(b, "line\n");
    n = ex_readline(&r, line, sizeof line, 1.0);
    ck_assert_msg(n == 12 && strcmp(line, "half a line\n") == 0, "after a timeout the bytes received so far must stay "
                  "in the reader: expected \"half a line\\n\", got %zd (%s) \"%s\"; see %s",
                  n, kit_why(n, errno), n > 0 ? line : "", HEADER);
    close(a);
    close(b);
    green_hub_destroy();
}
END_TEST

struct job { struct ex_reader r; ssize_t rc; int err; char line[64]; };

static void *read_one_line(void *arg)
{
    struct job *j = arg;
    j->rc = ex_readline(&j->r, j->line, sizeof j->line, GREEN_FOREVER);
    j->err = errno;
    return NULL;
}

START_TEST(test_killed)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    static struct job j;
    ex_reader_init(&j.r, a);
    j.rc = -2;
    green_t *g = green_spawn(read_one_line, &j);
    green_sleep(0.02);
    int rc = green_kill(g, 1.0);
    ck_assert_msg(rc == 0 && j.rc == -1 && j.err == ECANCELED, "ex_readline in a killed greenlet should return -1 "
                  "with errno ECANCELED, got %zd (%s); " KIT_LESSON(LESSON, "When things go wrong"),
                  j.rc, kit_why(j.rc, j.err));
    green_free(g);
    close(a);
    close(b);
    green_hub_destroy();
}
END_TEST

#define READERS 20

START_TEST(test_many_readers_at_once)
{
    static struct job jobs[READERS];
    int a[READERS], b[READERS];
    green_t *g[READERS];
    for (int i = 0; i < READERS; i++) {
        kit_tcp_pair(&a[i], &b[i]);
        ex_reader_init(&jobs[i].r, a[i]);
        jobs[i].rc = -2;
        g[i] = green_spawn(read_one_line, &jobs[i]);
    }
    green_sleep(0.02);                  /* every reader is waiting now */
    for (int i = READERS - 1; i >= 0; i--) {
        char text[32];
        snprintf(text, sizeof text, "reader %d\n", i);
        put(b[i], text);
    }
    int rc = green_joinall(g, READERS, 2.0);
    ck_assert_msg(rc == 0, "%d greenlets each reading a line from its own connection should all finish: %s",
                  READERS, kit_why(rc, errno));
    for (int i = 0; i < READERS; i++) {
        char want[32];
        snprintf(want, sizeof want, "reader %d\n", i);
        ck_assert_msg(jobs[i].rc == (ssize_t)strlen(want) && strcmp(jobs[i].line, want) == 0,
                      "reader %d of %d, all reading at once, got %zd \"%s\": keep each reader's state in its struct "
                      "ex_reader, not in static variables; see %s", i, READERS, jobs[i].rc,
                      jobs[i].rc > 0 ? jobs[i].line : "", HEADER);
    }
    for (int i = 0; i < READERS; i++) {
        green_free(g[i]);
        close(a[i]);
        close(b[i]);
    }
    green_hub_destroy();
}
END_TEST

static Suite *readline_suite(void)
{
    Suite *s = suite_create("04-io/readline");
    TCase *tc = kit_tcase("lines");
    tcase_add_test(tc, test_two_lines_in_one_packet);
    tcase_add_test(tc, test_line_in_pieces);
    tcase_add_test(tc, test_end_of_stream);
    tcase_add_test(tc, test_long_line_in_pieces);
    suite_add_tcase(s, tc);

    tc = kit_tcase("timeouts and errors");
    tcase_add_test(tc, test_timeout);
    tcase_add_test(tc, test_deadline_for_the_whole_line);
    tcase_add_test(tc, test_nothing_lost_after_timeout);
    tcase_add_test(tc, test_killed);
    tcase_add_test(tc, test_many_readers_at_once);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(readline_suite()); }
