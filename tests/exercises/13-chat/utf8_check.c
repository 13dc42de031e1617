/* Tests of exercise 13-chat/utf8_check: an incremental UTF-8 validator.
 *
 * The cases follow the Autobahn test suite's section 6 (which every
 * WebSocket server is measured with) and Markus Kuhn's UTF-8 stress test
 * it comes from.  Each case is fed at once, in two pieces cut at every
 * point, and one byte per call: the answer must not change. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "utf8_check.h"

#define UTF8 KIT_LESSON("chapters/13-chat/README.md", "UTF-8, one byte at a time")

#define VALID -1    /* valid: every call 0, ex_utf8_end 0 */
#define CUT   -2    /* every byte could start valid UTF-8, but the message
                     * ends inside a character: ex_utf8_end fails */

/* A case: its bytes, the offset of the first invalid byte (or VALID or
 * CUT), and what it is, for the student. */
struct utf8_case {
    const char *bytes;
    size_t n;
    int want;
    const char *what;
};
#define CASE(s, want, what) { s, sizeof s - 1, want, what }

/* The bytes of buf[0..n) in hex (at most 24, then "..."), in one of four
 * rotating buffers. */
static const char *hex(const void *buf, size_t n)
{
    static char out[4][96];
    static int turn;
    char *s = out[turn++ % 4];
    const unsigned char *p = buf;
    size_t at = 0;
    s[0] = 0;
    for (size_t i = 0; i < n && i < 24; i++)
        at += (size_t)snprintf(s + at, sizeof out[0] - at, "%s%02X", i ? " " : "", p[i]);
    if (n > 24)
        snprintf(s + at, sizeof out[0] - at, " ...");
    if (n == 0)
        snprintf(s, sizeof out[0], "nothing");
    return s;
}

/* What the case expects, in words. */
static const char *expected(const struct utf8_case *c)
{
    static char out[160];
    if (c->want == VALID)
        return "valid: every ex_utf8_feed returns 0, then ex_utf8_end returns 0";
    if (c->want == CUT)
        return "every ex_utf8_feed returns 0 (each byte could begin valid UTF-8), "
               "then ex_utf8_end returns -1 (EILSEQ: the message stops inside a character)";
    snprintf(out, sizeof out, "invalid from byte %d (%02X) on", c->want,
             (unsigned char)c->bytes[c->want]);
    return out;
}

/* "bytes 3-5 (E2 82 AC)", "byte 3 (E2)" or "no bytes": one call's piece
 * of c, in one of two rotating buffers. */
static const char *piece(const struct utf8_case *c, size_t start, size_t end)
{
    static char out[2][128];
    static int turn;
    char *s = out[turn++ % 2];
    if (end == start)
        snprintf(s, sizeof out[0], "no bytes");
    else if (end == start + 1)
        snprintf(s, sizeof out[0], "byte %zu (%s)", start, hex(c->bytes + start, 1));
    else
        snprintf(s, sizeof out[0], "bytes %zu-%zu (%s)", start, end - 1,
                 hex(c->bytes + start, end - start));
    return s;
}

/* ex_utf8_feed on a copy of p[0..n) in a block of exactly n bytes: a
 * validator that reads past n is caught by `make test SANITIZE=1`. */
static int feed(ex_utf8_t *u, const char *p, size_t n, size_t *bad)
{
    char *copy = malloc(n ? n : 1);
    ck_assert(copy != NULL);
    memcpy(copy, p, n);
    errno = 0;
    int rc = ex_utf8_feed(u, copy, n, bad);
    int err = errno;
    free(copy);
    errno = err;
    return rc;
}

/* Feed c's bytes in the pieces the ncut offsets of cuts[] make (increasing),
 * and check every answer.  how: "at once", "cut after byte 3"... */
static void feed_pieces(const struct utf8_case *c, const size_t *cuts, int ncut, const char *how)
{
    ex_utf8_t u;
    ex_utf8_init(&u);
    size_t start = 0;
    for (int i = 0; i <= ncut; i++) {
        size_t end = i < ncut ? cuts[i] : c->n;
        size_t bad = 12345;
        int rc = feed(&u, c->bytes + start, end - start, &bad);
        int err = errno;
        if (c->want >= 0 && (size_t)c->want < end) {
            ck_assert_msg(rc == -1 && err == EILSEQ && bad == (size_t)c->want - start,
                          "%s: %s, fed %s: %s; so the call with %s should return -1 "
                          "(EILSEQ) with *bad = %zu (the offset in its piece), it returned %d "
                          "(%s), *bad = %zu; %s",
                          c->what, hex(c->bytes, c->n), how, expected(c), piece(c, start, end),
                          (size_t)c->want - start, rc, kit_why(rc, err), bad, UTF8);
            return;
        }
        ck_assert_msg(rc == 0, "%s: %s, fed %s: expected %s; but the call with %s returned "
                      "%d (%s), *bad = %zu; %s", c->what, hex(c->bytes, c->n), how, expected(c),
                      piece(c, start, end), rc, kit_why(rc, err), bad, UTF8);
        start = end;
    }
    errno = 0;
    int rc = ex_utf8_end(&u);
    int err = errno;
    if (c->want == VALID)
        ck_assert_msg(rc == 0, "%s: %s, fed %s: expected %s; ex_utf8_end returned %d (%s); %s",
                      c->what, hex(c->bytes, c->n), how, expected(c), rc, kit_why(rc, err), UTF8);
    else
        ck_assert_msg(rc == -1 && err == EILSEQ, "%s: %s, fed %s: expected %s; ex_utf8_end "
                      "returned %d (%s); %s", c->what, hex(c->bytes, c->n), how, expected(c),
                      rc, kit_why(rc, err), UTF8);
}

/* A case at once, in two pieces cut at every point, one byte per call. */
static void check_case(const struct utf8_case *c)
{
    feed_pieces(c, NULL, 0, "at once");
    for (size_t k = 0; k <= c->n; k++) {
        char how[64];
        snprintf(how, sizeof how, "in two pieces, cut after %zu byte(s)", k);
        feed_pieces(c, &k, 1, how);
    }
    size_t cuts[64];
    ck_assert(c->n <= 64);
    for (size_t k = 1; k < c->n; k++)
        cuts[k - 1] = k;
    feed_pieces(c, cuts, c->n > 0 ? (int)c->n - 1 : 0, "one byte per call");
}

static void check_all(const struct utf8_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        check_case(&cases[i]);
}
#define CHECK_ALL(cases) check_all(cases, sizeof cases / sizeof cases[0])

/* ---- Valid text (Autobahn 6.1-6.3, 6.5-6.7, 6.9, 6.11, 6.22, 6.23) ------------ */

START_TEST(test_valid_text)
{
    static const struct utf8_case cases[] = {
        CASE("", VALID, "the empty message (6.1)"),
        CASE("Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!", VALID,
             "\"Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!\" (6.2)"),
        CASE("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", VALID,
             "\"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\", Greek, 2- and 3-byte characters (6.5)"),
        CASE("a\xe2\x82\xac" "b\xf0\x9f\x98\x80" "c", VALID,
             "\"a\xe2\x82\xac" "b\xf0\x9f\x98\x80" "c\": a 3-byte euro sign and a 4-byte emoji"),
        CASE("\x00", VALID, "U+0000, a NUL: valid UTF-8 (6.7)"),
    };
    CHECK_ALL(cases);
}
END_TEST

START_TEST(test_boundaries)
{
    static const struct utf8_case cases[] = {
        CASE("\xc2\x80", VALID, "U+0080, the first 2-byte character (6.7)"),
        CASE("\xe0\xa0\x80", VALID, "U+0800, the first 3-byte character (6.7)"),
        CASE("\xf0\x90\x80\x80", VALID, "U+10000, the first 4-byte character (6.7)"),
        CASE("\x7f", VALID, "U+007F, the last 1-byte character (6.9)"),
        CASE("\xdf\xbf", VALID, "U+07FF, the last 2-byte character (6.9)"),
        CASE("\xef\xbf\xbf", VALID, "U+FFFF, the last 3-byte character (6.9)"),
        CASE("\xf4\x8f\xbf\xbf", VALID, "U+10FFFF, the last code point (6.9)"),
        CASE("\xed\x9f\xbf", VALID, "U+D7FF, just before the surrogates (6.11)"),
        CASE("\xee\x80\x80", VALID, "U+E000, just after the surrogates (6.11)"),
        CASE("\xef\xbf\xbd", VALID, "U+FFFD, the replacement character (6.11, 6.23)"),
        CASE("\xef\xbf\xbe", VALID, "U+FFFE, a noncharacter, still valid UTF-8 (6.22)"),
        CASE("\xf4\x8f\xbf\xbe", VALID, "U+10FFFE, a noncharacter, still valid UTF-8 (6.22)"),
        CASE("\xef\xb7\x90", VALID, "U+FDD0, a noncharacter, still valid UTF-8 (6.22)"),
    };
    CHECK_ALL(cases);
}
END_TEST

/* ---- Invalid ------------------------------------------------------------------------ */

START_TEST(test_overlong)
{
    static const struct utf8_case cases[] = {
        CASE("\xc0\xaf", 0, "\"/\" in 2 bytes, overlong: C0 never starts a character (6.17)"),
        CASE("\xe0\x80\xaf", 1, "\"/\" in 3 bytes, overlong: after E0 the next byte must be "
             "A0..BF (6.17)"),
        CASE("\xf0\x80\x80\xaf", 1, "\"/\" in 4 bytes, overlong: after F0 the next byte must be "
             "90..BF (6.17)"),
        CASE("\xc1\xbf", 0, "U+007F in 2 bytes, overlong: C1 never starts a character (6.18)"),
        CASE("\xe0\x9f\xbf", 1, "U+07FF in 3 bytes, overlong: after E0 the next byte must be "
             "A0..BF (6.18)"),
        CASE("\xf0\x8f\xbf\xbf", 1, "U+FFFF in 4 bytes, overlong: after F0 the next byte must be "
             "90..BF (6.18)"),
        CASE("\xc0\x80", 0, "NUL in 2 bytes, overlong (6.19)"),
        CASE("\xe0\x80\x80", 1, "NUL in 3 bytes, overlong: the right number of continuation "
             "bytes is not enough (6.19)"),
        CASE("Hello \xc0\xaf" "x", 6, "a 2-byte \"/\" after valid text: the first bad byte is "
             "number 6"),
    };
    CHECK_ALL(cases);
}
END_TEST

START_TEST(test_surrogates)
{
    static const struct utf8_case cases[] = {
        CASE("\xed\xa0\x80", 1, "U+D800, a UTF-16 surrogate: after ED the next byte must be "
             "80..9F (6.20)"),
        CASE("\xed\xad\xbf", 1, "U+DB7F, a surrogate: after ED the next byte must be 80..9F (6.20)"),
        CASE("\xed\xb0\x80", 1, "U+DC00, a surrogate (6.20)"),
        CASE("\xed\xbf\xbf", 1, "U+DFFF, the last surrogate (6.20)"),
        CASE("\xed\xa0\x80\xed\xb0\x80", 1, "U+D800 U+DC00, a surrogate pair: UTF-16's way to "
             "write U+10000, never UTF-8's (6.21)"),
    };
    CHECK_ALL(cases);
}
END_TEST

START_TEST(test_past_10ffff)
{
    static const struct utf8_case cases[] = {
        CASE("\xf4\x90\x80\x80", 1, "U+110000, past the last code point: after F4 the next "
             "byte must be 80..8F (6.11)"),
        CASE("\xf5\x80\x80\x80", 0, "F5 would start a code point past U+10FFFF"),
        CASE("\xf7\xbf\xbf\xbf", 0, "U+1FFFFF, the last of the old 4-byte forms (6.10)"),
        CASE("\xf8\x88\x80\x80\x80", 0, "an old 5-byte form: F8 starts nothing (6.8)"),
        CASE("\xfc\x84\x80\x80\x80\x80", 0, "an old 6-byte form: FC starts nothing (6.8)"),
        CASE("\xfe", 0, "FE never appears in UTF-8 (6.16)"),
        CASE("\xff", 0, "FF never appears in UTF-8 (6.16)"),
        CASE("\xfe\xfe\xff\xff", 0, "FE FE FF FF, a byte-order mark in UTF-16 (6.16)"),
    };
    CHECK_ALL(cases);
}
END_TEST

START_TEST(test_bad_continuation)
{
    static const struct utf8_case cases[] = {
        CASE("\x80", 0, "80 alone: a continuation byte with no character begun (6.12)"),
        CASE("\xbf", 0, "BF alone: a continuation byte with no character begun (6.12)"),
        CASE("a\x80\xbf", 1, "\"a\" then continuation bytes (6.12)"),
        CASE("\xc2 ", 1, "C2 then a space: a 2-byte character needs a continuation byte "
             "(80..BF) (6.13)"),
        CASE("\xe0 ", 1, "E0 then a space (6.13)"),
        CASE("\xf0 ", 1, "F0 then a space (6.13)"),
        CASE("\xe2\x82" "A", 2, "E2 82 then \"A\": the euro sign's last byte replaced"),
        CASE("\xf0\x9f\x98" "A", 3, "F0 9F 98 then \"A\": an emoji's last byte replaced"),
        CASE("\xc2\xe0\x80", 1, "C2 then E0: a character begun inside another (6.15)"),
        CASE("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80" "edited", 12,
             "Greek text, then a surrogate, then more text: the first bad byte is number 12"),
    };
    CHECK_ALL(cases);
}
END_TEST

START_TEST(test_cut_at_the_end)
{
    static const struct utf8_case cases[] = {
        CASE("\xc2", CUT, "C2 and nothing after: a 2-byte character missing its last byte (6.14)"),
        CASE("\xe0\xa0", CUT, "E0 A0: a 3-byte character missing its last byte (6.14)"),
        CASE("\xf0\x90\x80", CUT, "F0 90 80: a 4-byte character missing its last byte (6.14)"),
        CASE("\xed\x9f", CUT, "ED 9F: U+D7FF missing its last byte (6.14)"),
        CASE("\xf4\x8f\xbf", CUT, "F4 8F BF: U+10FFFF missing its last byte (6.14)"),
        CASE("abc\xe2\x82", CUT, "\"abc\" then E2 82: a euro sign cut at the end"),
    };
    CHECK_ALL(cases);
}
END_TEST

/* ---- Fail fast, and stay failed ------------------------------------------------------ */

START_TEST(test_fails_at_first_bad_byte)
{
    /* Autobahn 6.4: the server must fail as soon as the bad byte arrives,
     * not at the end of the message.  The first piece holds the bad byte,
     * and is followed by more text than any buffer would hold. */
    static const char kosme[] = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80";
    ex_utf8_t u;
    ex_utf8_init(&u);
    size_t bad = 12345;
    int rc = feed(&u, kosme, 13, &bad);     /* up to F4 90 */
    int err = errno;
    ck_assert_msg(rc == -1 && err == EILSEQ && bad == 12, "Greek text then F4 90 (%s): byte 12, "
                  "90 after F4, is past U+10FFFF: the call that holds it must return -1 (EILSEQ) "
                  "with *bad = 12 at once; got %d (%s), *bad = %zu; %s", hex(kosme, 13), rc,
                  kit_why(rc, err), bad, UTF8);
    ex_utf8_init(&u);
    rc = ex_utf8_feed(&u, "\xe0\x80", 2, NULL);
    err = errno;
    ck_assert_msg(rc == -1 && err == EILSEQ, "E0 80 with bad = NULL: expected -1 (EILSEQ), "
                  "got %d (%s) (bad may be NULL: do not write through it then); %s",
                  rc, kit_why(rc, err), UTF8);
}
END_TEST

START_TEST(test_stays_failed)
{
    ex_utf8_t u;
    ex_utf8_init(&u);
    size_t bad = 12345;
    ck_assert_msg(feed(&u, "ab\xff", 3, &bad) == -1 && bad == 2, "\"ab\" then FF: expected -1 "
                  "with *bad = 2, got *bad = %zu; %s", bad, UTF8);
    bad = 12345;
    int rc = feed(&u, "valid text", 10, &bad);
    int err = errno;
    ck_assert_msg(rc == -1 && err == EILSEQ && bad == 0, "after a failure the message is "
                  "invalid whatever comes next: feeding \"valid text\" should return -1 "
                  "(EILSEQ) with *bad = 0, got %d (%s), *bad = %zu; %s",
                  rc, kit_why(rc, err), bad, UTF8);
    rc = ex_utf8_end(&u);
    ck_assert_msg(rc == -1, "after a failure, ex_utf8_end should return -1, got %d; %s", rc, UTF8);
    /* A new message starts afresh. */
    ex_utf8_init(&u);
    rc = feed(&u, "ok \xe2\x82\xac", 6, &bad);
    ck_assert_msg(rc == 0 && ex_utf8_end(&u) == 0, "after ex_utf8_init, a new message "
                  "\"ok \xe2\x82\xac\" should be valid: ex_utf8_feed returned %d; %s", rc, UTF8);
}
END_TEST

START_TEST(test_every_two_byte_sequence)
{
    /* All 65,536 pairs of bytes, each a message of its own, against the
     * table of utf8_check.h: a pair is valid when both are ASCII, or the
     * first is C2..DF and the second 80..BF; a message that ends after E0..F4
     * with a good second byte is cut; anything else is invalid. */
    for (int a = 0; a < 256; a++) {
        for (int b = 0; b < 256; b++) {
            char pair[2] = { (char)a, (char)b };
            int lo = a == 0xe0 ? 0xa0 : a == 0xf0 ? 0x90 : 0x80;
            int hi = a == 0xed ? 0x9f : a == 0xf4 ? 0x8f : 0xbf;
            int want;
            if (a < 0x80)
                want = b < 0x80 ? VALID : (b >= 0xc2 && b <= 0xf4) ? CUT : 1;
            else if (a < 0xc2 || a > 0xf4)
                want = 0;
            else if (b < lo || b > hi)
                want = 1;
            else
                want = a <= 0xdf ? VALID : CUT;
            struct utf8_case c = { pair, 2, want, "a pair of bytes" };
            feed_pieces(&c, NULL, 0, "at once");
            size_t one = 1;
            feed_pieces(&c, &one, 1, "one byte per call");
        }
    }
}
END_TEST

static Suite *utf8_suite(void)
{
    Suite *s = suite_create("13-chat/utf8_check");
    TCase *tc = kit_tcase("utf8_check");
    tcase_add_test(tc, test_valid_text);
    tcase_add_test(tc, test_boundaries);
    tcase_add_test(tc, test_overlong);
    tcase_add_test(tc, test_surrogates);
    tcase_add_test(tc, test_past_10ffff);
    tcase_add_test(tc, test_bad_continuation);
    tcase_add_test(tc, test_cut_at_the_end);
    tcase_add_test(tc, test_fails_at_first_bad_byte);
    tcase_add_test(tc, test_stays_failed);
    tcase_add_test(tc, test_every_two_byte_sequence);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(utf8_suite()); }
