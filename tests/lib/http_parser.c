/*
 * tests/lib/http_parser.c - the library's own tests of http_parser.h: the
 * request head parser, the chunked body decoder, unescape and reason.
 *
 * Beyond "it parses": every prefix of a good request is "read more" (0),
 * every limit gives its status exactly at the limit, and every request
 * that two servers could read two ways (the smuggling tricks) is refused
 * with the status the header promises.
 */
#include "harness.h"
#include "http_parser.h"

#include <stdio.h>
#include <string.h>

#define HEADER "lib/11-http/http_parser.h"

/* s, with CR and LF shown as \r and \n, for messages.  Four buffers in
 * turn, so one message can show two strings. */
static const char *show(const char *s, size_t n)
{
    static char bufs[4][512];
    static int turn;
    char *out = bufs[turn++ % 4];
    size_t j = 0;
    for (size_t i = 0; i < n && j + 5 < sizeof bufs[0]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r' || c == '\n') {
            out[j++] = '\\';
            out[j++] = c == '\r' ? 'r' : 'n';
        } else if (c < ' ' || c >= 0x7f) {
            j += (size_t)snprintf(out + j, 5, "\\x%02x", c);
        } else {
            out[j++] = (char)c;
        }
    }
    out[j] = '\0';
    return out;
}

static const char *shows(const char *s)
{
    return show(s, strlen(s));
}

static int parse(const char *s, green_http_request_t *req)
{
    return green_http_parse_request(s, strlen(s), NULL, req);
}

/* ptr[0..n) is exactly `want`. */
static int span_is(const char *ptr, size_t n, const char *want)
{
    return ptr && n == strlen(want) && memcmp(ptr, want, n) == 0;
}

/* ---- Good requests ------------------------------------------------------------ */

START_TEST(test_get)
{
    const char *s = "GET /stream?n=3 HTTP/1.1\r\nHost: example.com\r\nUser-Agent:  curl/8  \r\n\r\n";
    green_http_request_t r;
    int n = parse(s, &r);
    ck_assert_msg(n == (int)strlen(s) && r.head_len == strlen(s),
                  "a complete GET should return its head's length %zu, got %d", strlen(s), n);
    ck_assert_msg(span_is(r.method, r.method_len, "GET") && span_is(r.target, r.target_len, "/stream?n=3")
                  && span_is(r.path, r.path_len, "/stream") && span_is(r.query, r.query_len, "n=3"),
                  "method/target/path/query: got \"%s\" \"%s\" \"%s\" \"%s\"", show(r.method, r.method_len),
                  show(r.target, r.target_len), show(r.path, r.path_len), show(r.query, r.query_len));
    ck_assert_int_eq(r.minor, 1);
    ck_assert_int_eq(r.nheaders, 2);
    ck_assert_msg(span_is(r.headers[1].name, r.headers[1].name_len, "User-Agent")
                  && span_is(r.headers[1].value, r.headers[1].value_len, "curl/8"),
                  "the value's outer spaces should be trimmed: got \"%s\"",
                  show(r.headers[1].value, r.headers[1].value_len));
    ck_assert_msg(r.content_length == -1 && !r.chunked && r.keep_alive && !r.expect_continue,
                  "a bare 1.1 GET: no body, keep-alive; got content_length %lld chunked %d keep_alive %d",
                  r.content_length, r.chunked, r.keep_alive);
    /* Pointers point into the buffer: nothing was copied. */
    ck_assert_ptr_eq(r.method, s);
    ck_assert_ptr_eq(r.headers[0].value, strstr(s, "example.com"));
}
END_TEST

START_TEST(test_no_query)
{
    green_http_request_t r;
    ck_assert_int_gt(parse("GET /a/b HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
    ck_assert_msg(span_is(r.path, r.path_len, "/a/b") && r.query_len == 0 && r.query != NULL,
                  "without '?', path is the whole target and query is empty (length 0), got \"%s\" and %zu",
                  show(r.path, r.path_len), r.query_len);
    ck_assert_int_gt(parse("GET /a? HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
    ck_assert_msg(span_is(r.path, r.path_len, "/a") && r.query_len == 0, "\"/a?\": path /a, empty query");
    ck_assert_int_gt(parse("GET /a?b?c HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
    ck_assert_msg(span_is(r.query, r.query_len, "b?c"), "the query starts after the first '?', got \"%s\"",
                  show(r.query, r.query_len));
}
END_TEST

START_TEST(test_post_content_length)
{
    const char *s = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
    green_http_request_t r;
    int n = parse(s, &r);
    ck_assert_msg(n == (int)strlen(s) - 5, "the head ends before the body: expected %zu, got %d", strlen(s) - 5, n);
    ck_assert_msg(r.content_length == 5 && !r.chunked, "Content-Length: 5 -> content_length 5, got %lld",
                  r.content_length);
    ck_assert_msg(memcmp(s + n, "hello", 5) == 0, "the body starts at head_len");
    /* Leading zeros are still 1*DIGIT; a repeated equal length is fine. */
    ck_assert_int_gt(parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 007\r\nContent-length: 7\r\n\r\n", &r), 0);
    ck_assert_int_eq(r.content_length, 7);
}
END_TEST

START_TEST(test_chunked)
{
    green_http_request_t r;
    int n = parse("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n", &r);
    ck_assert_int_gt(n, 0);
    ck_assert_msg(r.chunked == 1 && r.content_length == -1, "Transfer-Encoding: chunked -> chunked 1, got %d",
                  r.chunked);
    ck_assert_int_gt(parse("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ,chunked ,\r\n\r\n", &r), 0);
    ck_assert_int_eq(r.chunked, 1);
}
END_TEST

START_TEST(test_connection)
{
    green_http_request_t r;
    ck_assert_int_gt(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r), 0);
    ck_assert_msg(r.minor == 0 && r.keep_alive == 1,
                  "HTTP/1.0 with Connection: keep-alive keeps the connection, got minor %d keep_alive %d",
                  r.minor, r.keep_alive);
    ck_assert_int_gt(parse("GET / HTTP/1.0\r\n\r\n", &r), 0);
    ck_assert_msg(r.keep_alive == 0, "HTTP/1.0 closes by default (and needs no Host)");
    ck_assert_int_gt(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, CLOSE\r\n\r\n", &r), 0);
    ck_assert_msg(r.keep_alive == 0, "Connection is a list, in any case: \"Upgrade, CLOSE\" closes");
    ck_assert_int_gt(parse("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", &r), 0);
    ck_assert_msg(r.keep_alive == 0, "close wins over keep-alive");
    ck_assert_int_gt(parse("GET / HTTP/1.2\r\nHost: x\r\n\r\n", &r), 0);
    ck_assert_msg(r.minor == 1 && r.keep_alive == 1, "HTTP/1.2 parses as 1.1, got minor %d", r.minor);
}
END_TEST

START_TEST(test_expect)
{
    green_http_request_t r;
    ck_assert_int_gt(parse("PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n", &r), 0);
    ck_assert_int_eq(r.expect_continue, 1);
    ck_assert_int_gt(parse("PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n", &r), 0);
    ck_assert_msg(r.expect_continue == 0, "a 1.0 client's Expect is ignored (it cannot read 100 Continue)");
}
END_TEST

START_TEST(test_pipelined)
{
    const char *s = "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\nHo";
    size_t len = strlen(s), off = 0;
    const char *want[] = { "/1", "/2" };
    green_http_request_t r;
    for (int i = 0; i < 2; i++) {
        int n = green_http_parse_request(s + off, len - off, NULL, &r);
        ck_assert_msg(n > 0 && span_is(r.target, r.target_len, want[i]),
                      "pipelined request %d: expected target %s, got %d \"%s\"", i + 1, want[i], n,
                      n > 0 ? show(r.target, r.target_len) : "");
        off += (size_t)n;
    }
    ck_assert_msg(green_http_parse_request(s + off, len - off, NULL, &r) == 0,
                  "the third, incomplete request should be 0 (read more)");
}
END_TEST

START_TEST(test_bare_lf_and_leading_crlf)
{
    green_http_request_t r;
    const char *s = "GET / HTTP/1.1\nHost: x\nA: b\r\n\n";
    ck_assert_msg(parse(s, &r) == (int)strlen(s), "bare LF line ends are accepted (RFC 9112 2.2): \"%s\" gave %d",
                  shows(s), parse(s, &r));
    ck_assert_int_eq(r.nheaders, 2);
    s = "\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n";
    ck_assert_msg(parse(s, &r) == (int)strlen(s) && span_is(r.method, r.method_len, "GET"),
                  "one empty line before the request line is skipped and counted in head_len");
    /* llhttp and nginx skip any number of them; so do we (within the
     * head's size limit, like every other byte of the head). */
    s = "\r\n\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n";
    ck_assert_msg(parse(s, &r) == (int)strlen(s) && span_is(r.method, r.method_len, "GET"),
                  "three empty lines before the request line are skipped, got %d", parse(s, &r));
}
END_TEST

START_TEST(test_find_header)
{
    green_http_request_t r;
    size_t n = 99;
    ck_assert_int_gt(parse("GET / HTTP/1.1\r\nHost: x\r\nX-Empty:\r\nX-Thing: a b\r\n\r\n", &r), 0);
    const char *v = green_http_find_header(&r, "x-thing", &n);
    ck_assert_msg(v && span_is(v, n, "a b"), "find_header is case-insensitive; got %s", v ? show(v, n) : "NULL");
    v = green_http_find_header(&r, "X-EMPTY", &n);
    ck_assert_msg(v && n == 0, "an empty value is found, with length 0");
    ck_assert_ptr_null(green_http_find_header(&r, "X-Thin", &n));
    ck_assert_ptr_null(green_http_find_header(&r, "Cookie", &n));
}
END_TEST

START_TEST(test_value_bytes)
{
    green_http_request_t r;
    /* obs-text (UTF-8, Latin-1) and inner tabs are legal in a value. */
    ck_assert_int_gt(parse("GET / HTTP/1.1\r\nHost: x\r\nX-Name: Caf\xc3\xa9\tau lait\r\n\r\n", &r), 0);
    ck_assert_msg(span_is(r.headers[1].value, r.headers[1].value_len, "Caf\xc3\xa9\tau lait"),
                  "obs-text and inner tabs stay in the value");
    /* Every tchar in a method and a header name. */
    ck_assert_int_gt(parse("M-1!#$%&'*+.^_`|~ / HTTP/1.1\r\nHost: x\r\nX!#$%&'*+-.^_`|~9: v\r\n\r\n", &r), 0);
}
END_TEST

/* Every prefix of a good request is "read more", and every longer buffer
 * gives the same head length. */
START_TEST(test_every_prefix)
{
    const char *reqs[] = {
        "GET /stream?n=3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        "POST /echo HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n\n5\r\nhello\r\n0\r\n\r\n",
        "\r\nGET / HTTP/1.0\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        green_http_request_t r;
        size_t len = strlen(reqs[i]);
        int full = parse(reqs[i], &r);
        ck_assert_int_gt(full, 0);
        for (size_t k = 0; k <= len; k++) {
            int n = green_http_parse_request(reqs[i], k, NULL, &r);
            int want = k < (size_t)full ? 0 : full;
            ck_assert_msg(n == want, "the first %zu bytes of \"%s\" should give %d, got %d", k, shows(reqs[i]),
                          want, n);
        }
    }
}
END_TEST

/* ---- Bad requests, with their status ---------------------------------------- */

/* The length is the literal's: some requests hold a NUL. */
#define BAD(req, status, why) { req, sizeof req - 1, status, why }

static const struct bad {
    const char *req;
    size_t len;
    int status;
    const char *why;
} bad[] = {
    BAD("GET / HTTP/2.0\r\nHost: x\r\n\r\n", -505, "HTTP/2.0 is not HTTP/1.x"),
    BAD("GET / HTTP/0.9\r\n\r\n", -505, "HTTP/0.9 is not HTTP/1.x"),
    BAD("GET /\r\n\r\n", -505, "a request line without a version is HTTP/0.9"),
    BAD("GET / HTTP/1.10\r\nHost: x\r\n\r\n", -400, "the version is one digit each"),
    BAD("GET / http/1.1\r\nHost: x\r\n\r\n", -400, "\"HTTP\" is case-sensitive"),
    BAD("GET / HTTP/1.1 \r\nHost: x\r\n\r\n", -400, "a space after the version"),
    BAD("GET  / HTTP/1.1\r\nHost: x\r\n\r\n", -400, "two spaces after the method"),
    BAD("GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n", -400, "a tab is not the separator"),
    BAD(" GET / HTTP/1.1\r\nHost: x\r\n\r\n", -400, "a space before the method"),
    BAD("G@T / HTTP/1.1\r\nHost: x\r\n\r\n", -400, "'@' is not a tchar"),
    BAD("GET /a\x7f HTTP/1.1\r\nHost: x\r\n\r\n", -400, "DEL in the target"),
    BAD("GET /\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n", -400, "raw non-ASCII in the target (it must be %-encoded)"),
    BAD("GET HTTP/1.1\r\nHost: x\r\n\r\n", -400, "no target: a malformed request line, not HTTP/0.9"),
    BAD("GET x HTTP/1.1\r\nHost: x\r\n\r\n", -400, "a target that is neither /..., absolute nor *"),
    BAD("GET * HTTP/1.1\r\nHost: x\r\n\r\n", -400, "'*' is a target for OPTIONS only"),
    BAD("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", -400, "an HTTP/2 preface is no HTTP/1 request"),
    BAD("GET 1http://x/ HTTP/1.1\r\nHost: x\r\n\r\n", -400, "a scheme starts with a letter"),
    BAD("GET / HTTP/1.1\r\n\r\n", -400, "HTTP/1.1 without Host"),
    BAD("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", -400, "two Host headers"),
    BAD("GET / HTTP/1.1\r\nHost : x\r\n\r\n", -400, "a space before the colon"),
    BAD("GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", -400, "a tab before the colon"),
    BAD("GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", -400, "obs-fold (a line starting with a space)"),
    BAD("GET / HTTP/1.1\r\n Host: x\r\n\r\n", -400, "a first header line starting with a space"),
    BAD("GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n", -400, "a bare CR in a header line"),
    BAD("GET / HTTP/1.1\rHost: x\r\n\r\n", -400, "a bare CR after the request line"),
    BAD("GET / HTTP/1.1\r\nHost: x\r\r\n\r\n", -400, "CR CR LF"),
    BAD("GET / HTTP/1.1\r\nHost: x\r\n\r\r\n", -400, "a bare CR in the blank line"),
    BAD("GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n", -400, "NUL in a value"),
    BAD("GET / HTTP/1.1\r\nHost: x\r\nX: a\x01\r\n\r\n", -400, "a control character in a value"),
    BAD("GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", -400, "a header line without a colon"),
    BAD("GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n", -400, "an empty header name"),
    BAD("GET / HTTP/1.1\r\nHost: x\r\nX(y): v\r\n\r\n", -400, "'(' in a header name"),
    BAD("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", -400,
      "Content-Length and Transfer-Encoding together (CL.TE)"),
    BAD("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", -400,
      "Transfer-Encoding and Content-Length together (TE.CL)"),
    BAD("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", -400,
      "two Content-Lengths that disagree"),
    BAD("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\n", -400, "a Content-Length list"),
    BAD("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n", -400, "a sign in Content-Length"),
    BAD("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", -400, "a negative Content-Length"),
    BAD("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5 5\r\n\r\n", -400, "a space inside Content-Length"),
    BAD("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x5\r\n\r\n", -400, "hex in Content-Length"),
    BAD("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n", -400, "an empty Content-Length"),
    BAD("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9223372036854775808\r\n\r\n", -400,
      "a Content-Length of 2^63 (overflow)"),
    BAD("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", -400,
      "a Content-Length with 23 digits (overflow)"),
    BAD("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n", -413, "a Content-Length over 1 MiB"),
    BAD("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", -501, "Transfer-Encoding: gzip"),
    BAD("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", -501, "gzip before chunked"),
    BAD("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n", -501,
      "chunked not last"),
    BAD("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", -400,
      "chunked twice"),
    BAD("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \r\n\r\n", -400, "an empty Transfer-Encoding"),
    BAD("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", -400, "Transfer-Encoding in HTTP/1.0"),
    BAD("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n", -501, "\"xchunked\" is not chunked"),
};

START_TEST(test_bad_request)
{
    const struct bad *b = &bad[_i];
    green_http_request_t r;
    int n = green_http_parse_request(b->req, b->len, NULL, &r);
    ck_assert_msg(n == b->status, "%s: \"%s\" should give %d, got %d; see %s", b->why, show(b->req, b->len),
                  b->status, n, HEADER);
    /* The error is found at the first byte that proves it: a prefix gives
     * 0 or the same error, never another. */
    for (size_t k = 0; k < b->len; k++) {
        int p = green_http_parse_request(b->req, k, NULL, &r);
        ck_assert_msg(p == 0 || p == b->status, "%s: the first %zu bytes gave %d, the whole %d", b->why, k, p,
                      b->status);
    }
}
END_TEST

/* NUL in the target, which strlen() cannot show. */
START_TEST(test_nul_in_target)
{
    const char s[] = "GET /a\0b HTTP/1.1\r\nHost: x\r\n\r\n";
    green_http_request_t r;
    int n = green_http_parse_request(s, sizeof s - 1, NULL, &r);
    ck_assert_msg(n == -400, "NUL in the target should give -400, got %d", n);
}
END_TEST

/* ---- Limits ------------------------------------------------------------------- */

/* "GET /aaa...a HTTP/1.1" exactly `len` bytes long, then the rest. */
static char *request_of_line(char *buf, size_t len, const char *rest)
{
    size_t target = len - strlen("GET  HTTP/1.1");
    memcpy(buf, "GET /", 5);
    memset(buf + 5, 'a', target - 1);
    strcpy(buf + 4 + target, " HTTP/1.1");
    strcat(buf, rest);
    return buf;
}

START_TEST(test_request_line_limit)
{
    static char buf[20000];
    green_http_request_t r;
    green_http_limits_t lim = { .max_request_line = 100 };
    request_of_line(buf, 100, "\r\nHost: x\r\n\r\n");
    int n = green_http_parse_request(buf, strlen(buf), &lim, &r);
    ck_assert_msg(n > 0, "a request line of exactly max_request_line (100) bytes is fine, got %d", n);
    request_of_line(buf, 101, "\r\nHost: x\r\n\r\n");
    n = green_http_parse_request(buf, strlen(buf), &lim, &r);
    ck_assert_msg(n == -414, "a request line of 101 bytes (limit 100) should give -414, got %d", n);
    n = green_http_parse_request(buf, 100, &lim, &r);
    ck_assert_msg(n == 0, "100 bytes of a line: the CRLF may follow, read more; got %d", n);
    n = green_http_parse_request(buf, 101, &lim, &r);
    ck_assert_msg(n == -414, "a too long line is -414 as soon as its 101st byte arrives, got %d", n);
    /* The default: 8190. */
    request_of_line(buf, 8190, "\r\nHost: x\r\n\r\n");
    ck_assert_int_gt(green_http_parse_request(buf, strlen(buf), NULL, &r), 0);
    request_of_line(buf, 8191, "\r\nHost: x\r\n\r\n");
    ck_assert_int_eq(green_http_parse_request(buf, strlen(buf), NULL, &r), -414);
}
END_TEST

/* The three forms of target a server meets (RFC 9112 section 3.2). */
START_TEST(test_target_forms)
{
    green_http_request_t r;
    const char *ok[] = {
        "GET /a?b HTTP/1.1\r\nHost: x\r\n\r\n",                 /* origin-form */
        "GET http://x/a HTTP/1.1\r\nHost: x\r\n\r\n",           /* absolute-form */
        "GET svn+ssh.1-x://x/ HTTP/1.1\r\nHost: x\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",                /* asterisk-form */
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        ck_assert_msg(parse(ok[i], &r) == (int)strlen(ok[i]), "\"%s\" should parse, got %d",
                      shows(ok[i]), parse(ok[i], &r));
    const char *get = "get / HTTP/1.1\r\nHost: x\r\n\r\n";
    ck_assert_msg(parse(get, &r) > 0 && span_is(r.method, r.method_len, "get"),
                  "a method is case-sensitive and kept as sent: \"get\" is not \"GET\"");
}
END_TEST

START_TEST(test_header_count_limit)
{
    static char buf[8192];
    green_http_request_t r;
    green_http_limits_t lim = { .max_headers = 5 };
    strcpy(buf, "GET / HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 4; i++)
        strcat(buf, "X: y\r\n");
    size_t head = strlen(buf);
    strcat(buf, "\r\n");
    int n = green_http_parse_request(buf, strlen(buf), &lim, &r);
    ck_assert_msg(n > 0 && r.nheaders == 5, "5 headers with max_headers 5 are fine, got %d", n);
    strcpy(buf + head, "X: y\r\n\r\n");
    n = green_http_parse_request(buf, strlen(buf), &lim, &r);
    ck_assert_msg(n == -431, "6 headers with max_headers 5 should give -431, got %d", n);
    /* The default is GREEN_HTTP_MAX_HEADERS, whatever a limit above it says. */
    lim.max_headers = 1000;
    strcpy(buf, "GET / HTTP/1.1\r\nHost: x\r\n");
    for (int i = 1; i < GREEN_HTTP_MAX_HEADERS; i++)
        strcat(buf, "X: y\r\n");
    strcat(buf, "\r\n");
    ck_assert_int_gt(green_http_parse_request(buf, strlen(buf), &lim, &r), 0);
    ck_assert_int_eq(r.nheaders, GREEN_HTTP_MAX_HEADERS);
    strcpy(buf + strlen(buf) - 2, "X: y\r\n\r\n");
    ck_assert_int_eq(green_http_parse_request(buf, strlen(buf), &lim, &r), -431);
    ck_assert_int_eq(green_http_parse_request(buf, strlen(buf), NULL, &r), -431);
    /* Browsers behind proxies send many: at least 100 by default. */
    ck_assert_msg(GREEN_HTTP_MAX_HEADERS >= 100, "the default allows only %d header lines",
                  GREEN_HTTP_MAX_HEADERS);
}
END_TEST

START_TEST(test_head_size_limit)
{
    static char buf[40000];
    green_http_request_t r;
    const char *start = "GET / HTTP/1.1\r\nHost: x\r\nX: ";
    green_http_limits_t lim = { .max_head = 200 };
    /* A head of exactly 200 bytes, blank line included. */
    strcpy(buf, start);
    memset(buf + strlen(start), 'v', 200 - strlen(start) - 4);
    strcpy(buf + 196, "\r\n\r\n");
    int n = green_http_parse_request(buf, strlen(buf), &lim, &r);
    ck_assert_msg(n == 200, "a head of exactly max_head (200) bytes is fine, got %d", n);
    strcpy(buf + 196, "v\r\n\r\n");
    n = green_http_parse_request(buf, strlen(buf), &lim, &r);
    ck_assert_msg(n == -431, "a head of 201 bytes with max_head 200 should give -431, got %d", n);
    n = green_http_parse_request(buf, 201, &lim, &r);
    ck_assert_msg(n == -431, "201 bytes and the head not finished: -431 at once, got %d", n);
    n = green_http_parse_request(buf, 200, &lim, &r);
    ck_assert_msg(n == 0, "200 bytes and the head not finished: read more, got %d", n);
    /* The default: 16384. */
    strcpy(buf, start);
    memset(buf + strlen(start), 'v', 20000);
    strcpy(buf + strlen(start) + 20000, "\r\n\r\n");
    ck_assert_int_eq(green_http_parse_request(buf, strlen(buf), NULL, &r), -431);
    ck_assert_int_eq(green_http_parse_request(buf, 16384, NULL, &r), 0);
    ck_assert_int_eq(green_http_parse_request(buf, 16385, NULL, &r), -431);
}
END_TEST

START_TEST(test_body_limit)
{
    green_http_request_t r;
    green_http_limits_t lim = { .max_body = 10 };
    const char *ok = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n";
    const char *big = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n";
    ck_assert_int_gt(green_http_parse_request(ok, strlen(ok), &lim, &r), 0);
    int n = green_http_parse_request(big, strlen(big), &lim, &r);
    ck_assert_msg(n == -413, "Content-Length 11 with max_body 10 should give -413, got %d", n);
    const char *mib = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n";
    ck_assert_int_gt(green_http_parse_request(mib, strlen(mib), NULL, &r), 0);
}
END_TEST

/* ---- The chunked decoder -------------------------------------------------------- */

/* Feeds in[0..n) in pieces of at most `piece` bytes, asking for at most
 * `max` data bytes a call; appends the body to out.  Returns the bytes
 * used (where the body ended) or the error. */
static long decode(green_http_chunked_t *d, const char *in, size_t n, size_t piece, size_t max, char *out,
                   size_t *out_len)
{
    size_t off = 0;
    *out_len = 0;
    while (off < n && !d->done) {
        size_t give = n - off < piece ? n - off : piece;
        const char *data;
        size_t len;
        ssize_t used = green_http_chunked_feed(d, in + off, give, max, &data, &len);
        if (used < 0)
            return (long)used;
        ck_assert_msg(len <= max && (len == 0 || (data >= in + off && data + len <= in + off + used)),
                      "the data must be a run of at most max bytes among the bytes used");
        memcpy(out + *out_len, data, len);
        *out_len += len;
        off += (size_t)used;
        ck_assert_msg(used > 0 || d->done, "the decoder used nothing of %zu bytes and is not done", give);
    }
    return (long)off;
}

static const char body[] = "5;name=value;q=\"a b\"\r\nhello\r\n6 ; ext\r\n world\r\n00A\r\n, and more\r\n"
                           "0\r\nTrailer: yes\r\nX: y\r\n\r\nGET /next";

START_TEST(test_chunked_decode)
{
    green_http_chunked_t d;
    char out[256];
    size_t out_len;
    green_http_chunked_init(&d, NULL);
    long used = decode(&d, body, strlen(body), 10000, 10000, out, &out_len);
    ck_assert_msg(d.done && used == (long)(strlen(body) - strlen("GET /next")),
                  "the body should end right before \"GET /next\": used %ld of %zu, done %d", used, strlen(body),
                  d.done);
    ck_assert_msg(out_len == 21 && memcmp(out, "hello world, and more", 21) == 0,
                  "extensions skipped, trailers dropped: expected \"hello world, and more\", got \"%s\"",
                  show(out, out_len));
    ck_assert_int_eq(d.total, 21);
    const char *data = NULL;
    size_t len = 1;
    ck_assert_msg(green_http_chunked_feed(&d, "GET", 3, 10, &data, &len) == 0 && len == 0,
                  "once done, the decoder uses nothing more");
}
END_TEST

/* Split at every byte offset, and one byte at a time with max 1. */
START_TEST(test_chunked_splits)
{
    size_t n = strlen(body);
    for (size_t k = 0; k <= n; k++) {
        green_http_chunked_t d;
        char out[256];
        size_t a, b;
        green_http_chunked_init(&d, NULL);
        long u1 = decode(&d, body, k, 10000, 10000, out, &a);
        ck_assert_msg(u1 >= 0, "split at %zu: the first part gave %ld", k, u1);
        long u2 = decode(&d, body + u1, n - (size_t)u1, 10000, 10000, out + a, &b);
        ck_assert_msg(u2 >= 0 && d.done && a + b == 21 && memcmp(out, "hello world, and more", 21) == 0,
                      "split at %zu: got %ld, done %d, body \"%s\"", k, u2, d.done, show(out, a + b));
    }
    for (size_t max = 1; max <= 3; max++) {
        green_http_chunked_t d;
        char out[256];
        size_t len;
        green_http_chunked_init(&d, NULL);
        long used = decode(&d, body, n, 1, max, out, &len);
        ck_assert_msg(used > 0 && d.done && len == 21, "one byte at a time, max %zu: got %ld, %zu bytes", max, used,
                      len);
    }
}
END_TEST

static const struct bad_chunked {
    const char *body;
    size_t len;
    int status;
    const char *why;
} bad_chunked[] = {
    BAD("zz\r\n", -400, "a size that is not hex"),
    BAD("\r\n", -400, "an empty size"),
    BAD("0x5\r\nhello\r\n0\r\n\r\n", -400, "\"0x\" before the size"),
    BAD("-5\r\n", -400, "a sign before the size"),
    BAD(" 5\r\nhello\r\n0\r\n\r\n", -400, "a space before the size"),
    BAD("5 5\r\n", -400, "a space inside the size"),
    BAD("5\nhello\r\n0\r\n\r\n", -400, "a bare LF after the size"),
    BAD("5\rhello\r\n0\r\n\r\n", -400, "a bare CR after the size"),
    BAD("5;a\nb\r\nhello\r\n0\r\n\r\n", -400, "a bare LF in an extension"),
    BAD("5\r\nhelloX\r\n0\r\n\r\n", -400, "more data than the size said"),
    BAD("5\r\nhello\n0\r\n\r\n", -400, "a bare LF after the data"),
    BAD("5\r\nhello0\r\n\r\n", -400, "no CRLF after the data"),
    BAD("10000000000000000\r\n", -400, "a size of 2^64 (17 hex digits)"),
    BAD("ffffffffffffffff\r\n", -413, "a size of 2^64 - 1 is over max_body"),
    BAD("100001\r\n", -413, "a chunk over 1 MiB"),
    BAD("0\r\nX: a\nY: b\r\n\r\n", -400, "a bare LF in the trailers"),
    BAD("0\r\nX: a\0\r\n\r\n", -400, "NUL in a trailer"),
    BAD("0\r\n\n", -400, "a bare LF for the last line"),
};

START_TEST(test_chunked_bad)
{
    const struct bad_chunked *b = &bad_chunked[_i];
    size_t n = b->len;
    green_http_chunked_t d;
    char out[256];
    size_t len;
    green_http_chunked_init(&d, NULL);
    long r = decode(&d, b->body, n, 10000, 10000, out, &len);
    ck_assert_msg(r == b->status, "%s: \"%s\" should give %d, got %ld; see %s", b->why, show(b->body, n), b->status,
                  r, HEADER);
    /* The same, one byte at a time. */
    green_http_chunked_init(&d, NULL);
    r = decode(&d, b->body, n, 1, 1, out, &len);
    ck_assert_msg(r == b->status, "%s, one byte at a time: expected %d, got %ld", b->why, b->status, r);
}
END_TEST

START_TEST(test_chunked_limits)
{
    green_http_limits_t lim = { .max_body = 10, .max_head = 20 };
    green_http_chunked_t d;
    char out[256];
    size_t len;
    const char *ten = "6\r\nabcdef\r\n4\r\nghij\r\n0\r\n\r\n";
    green_http_chunked_init(&d, &lim);
    ck_assert_msg(decode(&d, ten, strlen(ten), 100, 100, out, &len) == (long)strlen(ten) && len == 10,
                  "a chunked body of exactly max_body bytes is fine");
    const char *eleven = "6\r\nabcdef\r\n5\r\nghijk\r\n0\r\n\r\n";
    green_http_chunked_init(&d, &lim);
    long r = decode(&d, eleven, strlen(eleven), 100, 100, out, &len);
    ck_assert_msg(r == -413, "chunks adding up to 11 bytes with max_body 10 should give -413, got %ld", r);
    ck_assert_msg(len == 6, "the chunk that crosses the limit is refused before any of its data: "
                  "expected the first chunk's 6 bytes, got %zu", len);
    /* Trailers: at most max_head bytes. */
    const char *trailers = "0\r\nX: 12345678901234\r\n\r\n";
    green_http_chunked_init(&d, &lim);
    r = decode(&d, trailers, strlen(trailers), 100, 100, out, &len);
    ck_assert_msg(r == -431, "19 bytes of trailer line and the final CRLF (21 bytes, max_head 20) should give -431, got %ld", r);
    const char *fits = "0\r\nX: 1234567890123\r\n\r\n";
    green_http_chunked_init(&d, &lim);
    ck_assert_int_eq(decode(&d, fits, strlen(fits), 100, 100, out, &len), (long)strlen(fits));
    /* A size line with 4 KiB of extensions is refused. */
    static char ext[6000];
    strcpy(ext, "1;");
    memset(ext + 2, 'x', 5000);
    strcpy(ext + 5002, "\r\na\r\n0\r\n\r\n");
    green_http_chunked_init(&d, NULL);
    ck_assert_int_eq(decode(&d, ext, strlen(ext), 100, 100, out, &len), -400);
    /* Leading zeros are not significant digits. */
    const char *zeros = "00000000000000000000001\r\nz\r\n0\r\n\r\n";
    green_http_chunked_init(&d, NULL);
    ck_assert_int_eq(decode(&d, zeros, strlen(zeros), 100, 100, out, &len), (long)strlen(zeros));
}
END_TEST

/* ---- reason ------------------------------------------------------------------- */

START_TEST(test_reason)
{
    ck_assert_str_eq(green_http_reason(200), "OK");
    ck_assert_str_eq(green_http_reason(100), "Continue");
    ck_assert_str_eq(green_http_reason(404), "Not Found");
    ck_assert_str_eq(green_http_reason(400), "Bad Request");
    ck_assert_str_eq(green_http_reason(413), "Content Too Large");
    ck_assert_str_eq(green_http_reason(414), "URI Too Long");
    ck_assert_str_eq(green_http_reason(431), "Request Header Fields Too Large");
    ck_assert_str_eq(green_http_reason(501), "Not Implemented");
    ck_assert_str_eq(green_http_reason(505), "HTTP Version Not Supported");
    ck_assert_str_eq(green_http_reason(299), "Unknown");
    ck_assert_str_eq(green_http_reason(-1), "Unknown");
}
END_TEST

static Suite *http_parser_suite(void)
{
    Suite *s = suite_create("http_parser");
    TCase *tc = kit_tcase("good requests");
    tcase_add_test(tc, test_get);
    tcase_add_test(tc, test_no_query);
    tcase_add_test(tc, test_post_content_length);
    tcase_add_test(tc, test_chunked);
    tcase_add_test(tc, test_connection);
    tcase_add_test(tc, test_expect);
    tcase_add_test(tc, test_pipelined);
    tcase_add_test(tc, test_bare_lf_and_leading_crlf);
    tcase_add_test(tc, test_find_header);
    tcase_add_test(tc, test_value_bytes);
    tcase_add_test(tc, test_every_prefix);
    suite_add_tcase(s, tc);

    tc = kit_tcase("bad requests");
    tcase_add_loop_test(tc, test_bad_request, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, test_nul_in_target);
    suite_add_tcase(s, tc);

    tc = kit_tcase("limits");
    tcase_add_test(tc, test_request_line_limit);
    tcase_add_test(tc, test_target_forms);
    tcase_add_test(tc, test_header_count_limit);
    tcase_add_test(tc, test_head_size_limit);
    tcase_add_test(tc, test_body_limit);
    suite_add_tcase(s, tc);

    tc = kit_tcase("chunked decoder");
    tcase_add_test(tc, test_chunked_decode);
    tcase_add_test(tc, test_chunked_splits);
    tcase_add_loop_test(tc, test_chunked_bad, 0, (int)(sizeof bad_chunked / sizeof bad_chunked[0]));
    tcase_add_test(tc, test_chunked_limits);
    suite_add_tcase(s, tc);

    tc = kit_tcase("unescape and reason");
    tcase_add_test(tc, test_reason);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(http_parser_suite()); }
