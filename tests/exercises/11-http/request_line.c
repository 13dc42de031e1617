/* Tests of exercise 11-http/request_line: parse "METHOD SP TARGET SP HTTP/1.x". */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "request_line.h"

#define LESSON "chapters/11-http/README.md"
#define HEADER "exercises/11-http/request_line/request_line.h"

/* s[0..n), with control characters shown, for messages. */
static const char *show(const char *s, size_t n)
{
    static char bufs[2][256];
    static int turn;
    char *out = bufs[turn++ % 2];
    size_t j = 0;
    for (size_t i = 0; i < n && j + 5 < sizeof bufs[0]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < ' ' || c >= 0x7f)
            j += (size_t)snprintf(out + j, 5, "\\x%02x", c);
        else
            out[j++] = (char)c;
    }
    out[j] = '\0';
    return out;
}

/* Parse the first len bytes of line into a cleared *out. */
static int parse(const char *line, size_t len, struct ex_request_line *out)
{
    memset(out, 0, sizeof *out);
    return ex_parse_request_line(line, len, out);
}

/* ptr[0..n) is exactly want. */
static int span_is(const char *ptr, size_t n, const char *want)
{
    return ptr && n == strlen(want) && memcmp(ptr, want, n) == 0;
}

/* Each line of `lines` must give `status`. */
static void expect_all(const char *const *lines, int n, int status, const char *what)
{
    for (int i = 0; i < n; i++) {
        struct ex_request_line rl;
        int r = parse(lines[i], strlen(lines[i]), &rl);
        ck_assert_msg(r == status, "\"%s\" (%s) should give %d, got %d; "
                      KIT_LESSON(LESSON, "Parsing a request line"), show(lines[i], strlen(lines[i])),
                      what, status, r);
    }
}

START_TEST(test_simple_get)
{
    const char *line = "GET /index.html HTTP/1.1";
    struct ex_request_line rl;
    int r = parse(line, strlen(line), &rl);
    ck_assert_msg(r == 0, "\"%s\" is a good request line: expected 0, got %d; "
                  KIT_LESSON(LESSON, "Parsing a request line"), line, r);
    ck_assert_msg(span_is(rl.method, rl.method_len, "GET") && span_is(rl.target, rl.target_len, "/index.html")
                  && rl.minor == 1, "for \"%s\" expected method \"GET\", target \"/index.html\", minor 1; got "
                  "\"%s\", \"%s\", %d; see %s", line, rl.method ? show(rl.method, rl.method_len) : "(NULL)",
                  rl.target ? show(rl.target, rl.target_len) : "(NULL)", rl.minor, HEADER);
    ck_assert_msg(rl.method == line && rl.target == line + 4, "method and target must point INTO the line (no "
                  "copy): expected method == line and target == line + 4; see %s", HEADER);
}
END_TEST

START_TEST(test_other_methods_and_versions)
{
    struct {
        const char *line, *method, *target;
        int minor;
    } ok[] = {
        { "POST /echo?x=1&y=%20 HTTP/1.0", "POST", "/echo?x=1&y=%20", 0 },
        { "OPTIONS * HTTP/1.1", "OPTIONS", "*", 1 },
        { "M-SEARCH! http://example.com:80/a HTTP/1.1", "M-SEARCH!", "http://example.com:80/a", 1 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct ex_request_line rl;
        int r = parse(ok[i].line, strlen(ok[i].line), &rl);
        ck_assert_msg(r == 0 && span_is(rl.method, rl.method_len, ok[i].method)
                      && span_is(rl.target, rl.target_len, ok[i].target) && rl.minor == ok[i].minor,
                      "\"%s\": expected 0, method \"%s\", target \"%s\", minor %d; got %d, \"%s\", \"%s\", %d; "
                      "see %s", ok[i].line, ok[i].method, ok[i].target, ok[i].minor, r,
                      rl.method ? show(rl.method, rl.method_len) : "(NULL)",
                      rl.target ? show(rl.target, rl.target_len) : "(NULL)", rl.minor, HEADER);
    }
}
END_TEST

/* The line is not a C string: only len bytes belong to it. */
START_TEST(test_reads_only_len_bytes)
{
    const char *buf = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
    struct ex_request_line rl;
    int r = parse(buf, 14, &rl);
    ck_assert_msg(r == 0 && rl.minor == 1, "the line \"GET / HTTP/1.1\" given as the first 14 bytes of a whole "
                  "request (CRLF and headers after it) should give 0, got %d: read exactly len bytes, never up to "
                  "a NUL; see %s", r, HEADER);
    r = parse(buf, 13, &rl);
    ck_assert_msg(r == -400, "the first 13 bytes, \"GET / HTTP/1.\", end in the middle of the version: expected "
                  "-400, got %d; see %s", r, HEADER);
    const char nul[] = "GET /a\0b HTTP/1.1";
    r = parse(nul, sizeof nul - 1, &rl);
    ck_assert_msg(r == -400, "a NUL byte inside the target is a bad character: expected -400, got %d; see %s", r,
                  HEADER);
}
END_TEST

START_TEST(test_bad_separators)
{
    const char *lines[] = {
        "GET  / HTTP/1.1", "GET /  HTTP/1.1", " GET / HTTP/1.1", "GET\t/ HTTP/1.1", "GET /\tHTTP/1.1",
        "GET / HTTP/1.1 ", "GET/ HTTP/1.1", "GET", "GET ", "",
    };
    expect_all(lines, (int)(sizeof lines / sizeof lines[0]), -400,
               "exactly one space between the parts, nothing before or after");
}
END_TEST

START_TEST(test_bad_method)
{
    const char *lines[] = { "G(T / HTTP/1.1", "GE:T / HTTP/1.1", "G\"ET / HTTP/1.1", "GET/x / HTTP/1.1" };
    expect_all(lines, (int)(sizeof lines / sizeof lines[0]), -400, "a method is made of tchar only");
}
END_TEST

START_TEST(test_bad_target)
{
    const char *lines[] = { "GET /a\x7f HTTP/1.1", "GET /a\x01 HTTP/1.1", "GET /caf\xc3\xa9 HTTP/1.1" };
    expect_all(lines, (int)(sizeof lines / sizeof lines[0]), -400,
               "a target is visible ASCII only: no control character, no DEL, no raw UTF-8");
}
END_TEST

START_TEST(test_bad_version_syntax)
{
    const char *lines[] = {
        "GET / http/1.1", "GET / HTTP/1", "GET / HTTP/1.", "GET / HTTP/11", "GET / HTTP/1.x",
        "GET / HTTP/1.10", "GET / HTTPS/1.1", "GET / HTTP/1,1", "GET / XTTP/1.1",
    };
    expect_all(lines, (int)(sizeof lines / sizeof lines[0]), -400,
               "the version must be exactly HTTP/digit.digit, in capitals");
}
END_TEST

START_TEST(test_unsupported_version)
{
    const char *lines[] = { "GET / HTTP/2.0", "GET / HTTP/0.9", "GET / HTTP/3.0", "GET /index.html" };
    expect_all(lines, (int)(sizeof lines / sizeof lines[0]), -505,
               "a well-formed version other than 1.x, or no version at all (HTTP/0.9)");
}
END_TEST

START_TEST(test_too_long)
{
    static char line[EX_MAX_REQUEST_LINE + 2];
    const size_t fixed = strlen("GET / HTTP/1.1");
    /* "GET /aaa...a HTTP/1.1", exactly EX_MAX_REQUEST_LINE bytes. */
    memcpy(line, "GET /", 5);
    memset(line + 5, 'a', EX_MAX_REQUEST_LINE - fixed);
    memcpy(line + 5 + EX_MAX_REQUEST_LINE - fixed, " HTTP/1.1", 9);
    struct ex_request_line rl;
    int r = parse(line, EX_MAX_REQUEST_LINE, &rl);
    ck_assert_msg(r == 0, "a good line of exactly EX_MAX_REQUEST_LINE (%d) bytes should give 0, got %d; see %s",
                  EX_MAX_REQUEST_LINE, r, HEADER);
    memcpy(line + 5 + EX_MAX_REQUEST_LINE - fixed, "a HTTP/1.1", 10);
    r = parse(line, EX_MAX_REQUEST_LINE + 1, &rl);
    ck_assert_msg(r == -414, "a good line of %d bytes (one too many) should give -414, got %d; see %s",
                  EX_MAX_REQUEST_LINE + 1, r, HEADER);
    memset(line, ' ', sizeof line);
    r = parse(line, EX_MAX_REQUEST_LINE + 1, &rl);
    ck_assert_msg(r == -414, "a line that is too long is -414 whatever it holds (here: spaces), got %d: check the "
                  "length first; see %s", r, HEADER);
}
END_TEST

static Suite *request_line_suite(void)
{
    Suite *s = suite_create("11-http/request_line");
    TCase *tc = kit_tcase("good lines");
    tcase_add_test(tc, test_simple_get);
    tcase_add_test(tc, test_other_methods_and_versions);
    tcase_add_test(tc, test_reads_only_len_bytes);
    suite_add_tcase(s, tc);
    tc = kit_tcase("bad lines");
    tcase_add_test(tc, test_bad_separators);
    tcase_add_test(tc, test_bad_method);
    tcase_add_test(tc, test_bad_target);
    tcase_add_test(tc, test_bad_version_syntax);
    tcase_add_test(tc, test_unsupported_version);
    tcase_add_test(tc, test_too_long);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(request_line_suite()); }
