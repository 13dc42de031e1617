/*
 * tests/lib/wsgi.c - the library's own tests of wsgi.h: start_response's
 * checks, the environ lookups, query parameters, wsgi.input, the bodies
 * (list, one chunk, file, generator), the test client, and the demo app
 * of chapters 9 to 12 driven through it.
 *
 * Nothing here opens a socket: an application is a function, so it is
 * called directly, like a server would.  Tests that use the hub end with
 * green_hub_destroy() so that leak checkers see a clean exit.
 */
#include "harness.h"
#include "green.h"
#include "../../chapters/09-wsgi/demo_app.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LESSON "chapters/09-wsgi/README.md"

/* A response that start_response filled once with good values. */
static void good_response(green_response_t *r)
{
    green_header_t h[] = { { "Content-Type", "text/plain" }, { "X-A", "1" } };
    green_response_init(r);
    ck_assert_int_eq(green_start_response(r, "200 OK", h, 2), 0);
}

/* r still holds what good_response() put there. */
static void assert_unchanged(const green_response_t *r, const char *what)
{
    ck_assert_msg(strcmp(r->status, "200 OK") == 0 && r->code == 200 &&
                  r->nheaders == 2 &&
                  strcmp(green_response_header(r, "X-A"), "1") == 0,
                  "after a refused start_response (%s) the response should be unchanged, "
                  "got status '%s', %zu headers; " KIT_LESSON(LESSON, "start_response"),
                  what, r->status, r->nheaders);
}

/* ---- start_response ----------------------------------------------------- */

START_TEST(test_start_response_good)
{
    char type[] = "text/html", status[] = "404 Not Found";
    green_header_t h[] = { { "Content-Type", type }, { "X-Empty", "" } };
    green_response_t r;
    green_response_init(&r);
    ck_assert_msg(!r.started && !r.sent, "a fresh response is neither started nor sent");
    int rc = green_start_response(&r, status, h, 2);
    ck_assert_msg(rc == 0, "start_response('404 Not Found') failed: %s", kit_why(rc, errno));
    /* The caller's strings may die: the response keeps copies. */
    strcpy(type, "XXXX/XXXX");
    strcpy(status, "XXXXXXXXXXXXX");
    ck_assert_int_eq(r.started, 1);
    ck_assert_int_eq(r.code, 404);
    ck_assert_str_eq(r.status, "404 Not Found");
    ck_assert_uint_eq(r.nheaders, 2);
    ck_assert_msg(strcmp(r.headers[0].value, "text/html") == 0,
                  "header values must be copied, got '%s'", r.headers[0].value);
    ck_assert_str_eq(r.headers[1].value, "");
    ck_assert_str_eq(green_response_header(&r, "content-type"), "text/html");
    ck_assert_str_eq(green_response_header(&r, "CONTENT-TYPE"), "text/html");
    ck_assert_ptr_null(green_response_header(&r, "Content-Length"));
    ck_assert_int_eq(green_start_response(&r, "200 ", NULL, 0), 0);   /* an empty reason is allowed */
    ck_assert_int_eq(r.code, 200);
}
END_TEST

START_TEST(test_start_response_bad_status)
{
    static const char *const bad[] = {
        "", "200", "200OK", "20 OK", "2000 OK", "OK 200", "600 Nope", "099 x",
        "200 OK\r\nSet-Cookie: x=1", "200 OK\n", "2a0 OK",
        "200 A reason phrase long enough to overflow the status buffer of 64",
    };
    green_response_t r;
    good_response(&r);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        int rc = green_start_response(&r, bad[i], NULL, 0);
        ck_assert_msg(rc == -1 && errno == EINVAL,
                      "start_response with status \"%s\" should fail with EINVAL, got %d (%s)",
                      bad[i], rc, strerror(errno));
        assert_unchanged(&r, bad[i]);
    }
    errno = 0;
    ck_assert_int_eq(green_start_response(&r, NULL, NULL, 0), -1);
    ck_assert_int_eq(errno, EINVAL);
    assert_unchanged(&r, "NULL");
}
END_TEST

START_TEST(test_start_response_crlf_in_value)
{
    static const char *const values[] = { "a\r\nSet-Cookie: admin=1", "a\nb", "a\rb", "\x01" };
    green_response_t r;
    good_response(&r);
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        green_header_t h[] = { { "X-Ok", "fine" }, { "Location", values[i] } };
        errno = 0;
        int rc = green_start_response(&r, "302 Found", h, 2);
        ck_assert_msg(rc == -1 && errno == EINVAL,
                      "a header value with a control character (#%zu) must be refused with EINVAL "
                      "(response splitting), got %d (%s)", i, rc, strerror(errno));
        assert_unchanged(&r, "a CR or LF in a value");
    }
    green_header_t tab[] = { { "X-Tab", "a\tb" } };
    ck_assert_msg(green_start_response(&r, "200 OK", tab, 1) == 0, "a tab is allowed in a value");
}
END_TEST

START_TEST(test_start_response_bad_names)
{
    static const char *const names[] = { "", "Bad Name", "X:Y", "X\r\nY", "caf\xc3\xa9", "(x)" };
    green_response_t r;
    good_response(&r);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        green_header_t h[] = { { names[i], "v" } };
        errno = 0;
        int rc = green_start_response(&r, "200 OK", h, 1);
        ck_assert_msg(rc == -1 && errno == EINVAL,
                      "header name \"%s\" is not a token: expected EINVAL, got %d (%s)",
                      names[i], rc, strerror(errno));
        assert_unchanged(&r, names[i]);
    }
    green_header_t null_name[] = { { NULL, "v" } }, null_value[] = { { "X", NULL } };
    ck_assert_int_eq(green_start_response(&r, "200 OK", null_name, 1), -1);
    ck_assert_int_eq(green_start_response(&r, "200 OK", null_value, 1), -1);
    assert_unchanged(&r, "NULL name or value");
    green_header_t odd[] = { { "X-Odd!#$%&'*+-.^_`|~9", "v" } };
    ck_assert_msg(green_start_response(&r, "200 OK", odd, 1) == 0,
                  "every token character is allowed in a name");
}
END_TEST

START_TEST(test_start_response_too_many)
{
    green_header_t h[GREEN_RESPONSE_MAX_HEADERS + 1];
    for (int i = 0; i <= GREEN_RESPONSE_MAX_HEADERS; i++)
        h[i] = (green_header_t){ "X-H", "v" };
    green_response_t r;
    good_response(&r);
    errno = 0;
    ck_assert_int_eq(green_start_response(&r, "200 OK", h, GREEN_RESPONSE_MAX_HEADERS + 1), -1);
    ck_assert_msg(errno == E2BIG, "more than %d headers: expected E2BIG, got %s",
                  GREEN_RESPONSE_MAX_HEADERS, strerror(errno));
    assert_unchanged(&r, "too many headers");
    ck_assert_int_eq(green_start_response(&r, "200 OK", h, GREEN_RESPONSE_MAX_HEADERS), 0);
    ck_assert_uint_eq(r.nheaders, GREEN_RESPONSE_MAX_HEADERS);

    /* Few headers, but more than 4 KiB of them. */
    static char big[1500];
    memset(big, 'b', sizeof big - 1);
    green_header_t fat[] = { { "X-1", big }, { "X-2", big }, { "X-3", big } };
    good_response(&r);
    errno = 0;
    ck_assert_int_eq(green_start_response(&r, "200 OK", fat, 3), -1);
    ck_assert_int_eq(errno, E2BIG);
    assert_unchanged(&r, "4 KiB of headers");
    ck_assert_int_eq(green_start_response(&r, "200 OK", fat, 2), 0);
}
END_TEST

START_TEST(test_start_response_replaces)
{
    green_response_t r;
    good_response(&r);
    green_header_t h[] = { { "Content-Type", "text/html" } };
    ck_assert_int_eq(green_start_response(&r, "500 Internal Server Error", h, 1), 0);
    ck_assert_int_eq(r.code, 500);
    ck_assert_str_eq(r.status, "500 Internal Server Error");
    ck_assert_uint_eq(r.nheaders, 1);
    ck_assert_msg(green_response_header(&r, "X-A") == NULL,
                  "a second start_response replaces the first one's headers, X-A is still there");
    ck_assert_str_eq(green_response_header(&r, "Content-Type"), "text/html");
}
END_TEST

/* A middleware adds a header by passing the response's own strings back. */
START_TEST(test_start_response_from_itself)
{
    green_response_t r;
    good_response(&r);
    green_header_t h[GREEN_RESPONSE_MAX_HEADERS];
    memcpy(h, r.headers, r.nheaders * sizeof h[0]);
    h[r.nheaders] = (green_header_t){ "X-Added", "yes" };
    ck_assert_int_eq(green_start_response(&r, r.status, h, r.nheaders + 1), 0);
    ck_assert_str_eq(r.status, "200 OK");
    ck_assert_uint_eq(r.nheaders, 3);
    ck_assert_str_eq(green_response_header(&r, "Content-Type"), "text/plain");
    ck_assert_str_eq(green_response_header(&r, "X-A"), "1");
    ck_assert_str_eq(green_response_header(&r, "X-Added"), "yes");
}
END_TEST

START_TEST(test_start_response_after_sent)
{
    green_response_t r;
    good_response(&r);
    r.sent = 1;
    errno = 0;
    ck_assert_int_eq(green_start_response(&r, "500 Oops", NULL, 0), -1);
    ck_assert_msg(errno == EALREADY, "start_response after the status line was sent: expected EALREADY, got %s",
                  strerror(errno));
    assert_unchanged(&r, "after sent");
}
END_TEST

/* ---- environ ---------------------------------------------------------------- */

static const green_header_t request_headers[] = {
    { "Host", "example.org" },
    { "User-Agent", "curl/8.0" },
    { "X-Forwarded-For", "10.0.0.1" },
    { "content-type", "text/plain" },
    { "Content-Length", "5" },
};

static green_environ_t sample_environ(void)
{
    green_environ_t env = {
        .method = "POST", .path = "/a b", .query = "x=1", .uri = "/a%20b?x=1",
        .protocol = "HTTP/1.0", .remote_addr = "192.0.2.7",
        .server_name = "0.0.0.0", .server_port = "8000", .content_length = 5,
        .headers = request_headers,
        .nheaders = sizeof request_headers / sizeof request_headers[0],
    };
    return env;
}

START_TEST(test_environ_get)
{
    green_environ_t env = sample_environ();
    static const char *const pairs[][2] = {
        { "REQUEST_METHOD", "POST" }, { "PATH_INFO", "/a b" },
        { "QUERY_STRING", "x=1" }, { "REQUEST_URI", "/a%20b?x=1" },
        { "SERVER_PROTOCOL", "HTTP/1.0" }, { "REMOTE_ADDR", "192.0.2.7" },
        { "SERVER_NAME", "0.0.0.0" }, { "SERVER_PORT", "8000" },
        { "CONTENT_TYPE", "text/plain" }, { "CONTENT_LENGTH", "5" },
        { "HTTP_USER_AGENT", "curl/8.0" }, { "HTTP_HOST", "example.org" },
        { "HTTP_X_FORWARDED_FOR", "10.0.0.1" },
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        const char *v = green_environ_get(&env, pairs[i][0]);
        ck_assert_msg(v && strcmp(v, pairs[i][1]) == 0,
                      "environ['%s'] should be '%s', got '%s'; " KIT_LESSON(LESSON, "The request: environ"),
                      pairs[i][0], pairs[i][1], v ? v : "(NULL)");
    }
    static const char *const absent[] = {
        "HTTP_COOKIE", "HTTP_", "USER_AGENT", "request_method", "HTTP_USER-AGENT", "",
    };
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
        ck_assert_msg(green_environ_get(&env, absent[i]) == NULL,
                      "environ['%s'] should be absent (NULL)", absent[i]);
}
END_TEST

START_TEST(test_environ_header)
{
    green_environ_t env = sample_environ();
    ck_assert_str_eq(green_environ_header(&env, "user-agent"), "curl/8.0");
    ck_assert_str_eq(green_environ_header(&env, "CONTENT-TYPE"), "text/plain");
    ck_assert_ptr_null(green_environ_header(&env, "Cookie"));
    green_environ_t bare = { .method = "GET", .path = "/", .query = "" };
    ck_assert_ptr_null(green_environ_get(&bare, "CONTENT_TYPE"));
    ck_assert_ptr_null(green_environ_get(&bare, "HTTP_HOST"));
}
END_TEST

/* ---- query parameters ------------------------------------------------------------ */

/* green_query_param(name) on `query`; its length, buf filled; -1 and errno. */
static ssize_t param(const char *query, const char *name, char *buf, size_t size)
{
    green_environ_t env = { .query = query };
    errno = 0;
    return green_query_param(&env, name, buf, size);
}

START_TEST(test_query_param)
{
    char buf[64];
    ck_assert_int_eq(param("n=3&x=1", "n", buf, sizeof buf), 1);
    ck_assert_str_eq(buf, "3");
    ck_assert_int_eq(param("n=3&x=hello", "x", buf, sizeof buf), 5);
    ck_assert_str_eq(buf, "hello");
    ck_assert_int_eq(param("nn=1&n=2", "n", buf, sizeof buf), 1);
    ck_assert_msg(strcmp(buf, "2") == 0, "\"nn=1&n=2\": n is 2 (nn is another name), got '%s'", buf);
    ck_assert_int_eq(param("n=1&n=2", "n", buf, sizeof buf), 1);
    ck_assert_msg(strcmp(buf, "1") == 0, "the first of two n= wins, got '%s'", buf);
    ck_assert_int_eq(param("&&a=1&", "a", buf, sizeof buf), 1);
    ck_assert_str_eq(buf, "1");
}
END_TEST

START_TEST(test_query_param_absent_empty)
{
    char buf[16] = "junk";
    ck_assert_int_eq(param("n=3", "x", buf, sizeof buf), -1);
    ck_assert_msg(errno == ENOENT, "an absent parameter: ENOENT, got %s", strerror(errno));
    ck_assert_int_eq(param("", "n", buf, sizeof buf), -1);
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_int_eq(param(NULL, "n", buf, sizeof buf), -1);
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_int_eq(param("a=&b=2", "a", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "");
    ck_assert_int_eq(param("flag&b=2", "flag", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(test_query_param_decoding)
{
    char buf[64];
    ck_assert_int_eq(param("q=a%20b%2Fc%3d", "q", buf, sizeof buf), 6);
    ck_assert_str_eq(buf, "a b/c=");
    ck_assert_int_eq(param("q=hello+world", "q", buf, sizeof buf), 11);
    ck_assert_msg(strcmp(buf, "hello world") == 0, "'+' in a query is a space, got '%s'", buf);
    ck_assert_int_eq(param("q=%2B1", "q", buf, sizeof buf), 2);
    ck_assert_str_eq(buf, "+1");
    ck_assert_int_eq(param("q=caf%C3%A9", "q", buf, sizeof buf), 5);
    ck_assert_str_eq(buf, "caf\xc3\xa9");
    static const char *const bad[] = { "q=%zz", "q=%4", "q=%", "q=a%g0", "q=%\xff\xff", "q=a%00b" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(param(bad[i], "q", buf, sizeof buf), -1);
        ck_assert_msg(errno == EINVAL, "\"%s\" has a bad escape or %%00: EINVAL, got %s", bad[i], strerror(errno));
    }
}
END_TEST

/* url.h: the one decoder every server and the test client use. */
START_TEST(test_url_unescape)
{
    char dst[64];
    ck_assert_int_eq(green_url_unescape(dst, sizeof dst, "/a%20b%2fc%2F+d", 15, 0), 9);
    ck_assert_msg(strcmp(dst, "/a b/c/+d") == 0, "in a path '+' stays '+', got '%s'", dst);
    ck_assert_int_eq(green_url_unescape(dst, sizeof dst, "a+b", 3, 1), 3);
    ck_assert_msg(strcmp(dst, "a b") == 0, "with plus, '+' is a space, got '%s'", dst);
    char in_place[] = "%41%42c";
    ck_assert_int_eq(green_url_unescape(in_place, sizeof in_place, in_place, strlen(in_place), 0), 3);
    ck_assert_str_eq(in_place, "ABc");
    ck_assert_int_eq(green_url_unescape(dst, sizeof dst, "", 0, 0), 0);
    ck_assert_str_eq(dst, "");
    /* Only len bytes are read: "%41" cut after "%4" is a bad escape. */
    ck_assert_int_eq(green_url_unescape(dst, sizeof dst, "%41", 2, 0), -1);
    const char *bad[] = { "%4", "%", "a%zz", "%g1", "%00", "/admin%00.txt", "x%0", "%%41" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        ssize_t r = green_url_unescape(dst, sizeof dst, bad[i], strlen(bad[i]), 0);
        ck_assert_msg(r == -1 && errno == EINVAL, "\"%s\" should be -1 with EINVAL, got %zd (%s); "
                      KIT_LESSON(LESSON, "The request: environ"), bad[i], r, strerror(errno));
    }
    ck_assert_int_eq(green_url_unescape(dst, sizeof dst, "%c3%A9", 6, 0), 2);
    ck_assert_str_eq(dst, "\xc3\xa9");
    ck_assert_int_eq(green_url_unescape(dst, 3, "abc", 3, 0), -1);
    ck_assert_msg(errno == ENOSPC, "\"abc\" in 3 bytes: ENOSPC, got %s", strerror(errno));
}
END_TEST

START_TEST(test_query_param_small_buffer)
{
    char buf[4];
    ck_assert_int_eq(param("q=abc", "q", buf, sizeof buf), 3);      /* 3 + NUL fits */
    ck_assert_str_eq(buf, "abc");
    ck_assert_int_eq(param("q=abcd", "q", buf, sizeof buf), -1);
    ck_assert_msg(errno == ENOSPC, "a value longer than size-1: ENOSPC, got %s", strerror(errno));
    ck_assert_int_eq(param("q=%41%42%43", "q", buf, sizeof buf), 3);  /* decoded length counts */
    ck_assert_str_eq(buf, "ABC");
    ck_assert_int_eq(param("q=", "q", buf, 0), -1);
    ck_assert_int_eq(errno, ENOSPC);
}
END_TEST

/* ---- wsgi.input --------------------------------------------------------------------- */

/* An input that hands out `data` at most `step` bytes per read, counts the
 * bytes asked for, and fails with `err` at the end when err is set. */
struct test_input {
    green_input_t in;
    const char *data;
    size_t left, step, asked;
    int err;
};

static ssize_t test_read(green_input_t *in, void *buf, size_t n)
{
    struct test_input *t = (struct test_input *)in;
    t->asked += n;
    if (t->left == 0 && t->err) {
        errno = t->err;
        return -1;
    }
    if (n > t->step)
        n = t->step;
    if (n > t->left)
        n = t->left;
    memcpy(buf, t->data, n);
    t->data += n;
    t->left -= n;
    return (ssize_t)n;
}

static struct test_input make_input(const char *data, size_t len, size_t step)
{
    struct test_input t = { { test_read }, data, len, step, 0, 0 };
    return t;
}

START_TEST(test_input_read_all)
{
    struct test_input t = make_input("hello", 5, 2);
    size_t len = 99;
    char *s = green_input_read_all(&t.in, 100, &len);
    ck_assert_msg(s != NULL, "read_all of a 5-byte body failed: %s", strerror(errno));
    ck_assert_uint_eq(len, 5);
    ck_assert_str_eq(s, "hello");
    free(s);

    t = make_input("hello", 5, 100);
    s = green_input_read_all(&t.in, 5, &len);   /* exactly the limit */
    ck_assert_msg(s && len == 5, "a body of exactly max bytes is accepted");
    free(s);

    s = green_input_read_all(NULL, 5, &len);
    ck_assert_msg(s && len == 0 && s[0] == '\0', "no input stream reads as an empty body");
    free(s);
    char c;
    ck_assert_int_eq(green_input_read(NULL, &c, 1), 0);
}
END_TEST

START_TEST(test_input_read_all_limit)
{
    static char big[100000];
    memset(big, 'x', sizeof big);
    struct test_input t = make_input(big, sizeof big, sizeof big);
    size_t len;
    errno = 0;
    char *s = green_input_read_all(&t.in, 10, &len);
    ck_assert_msg(s == NULL && errno == EMSGSIZE,
                  "a body over max: NULL and EMSGSIZE, got %p and %s", (void *)s, strerror(errno));
    ck_assert_msg(t.asked <= 11,
                  "read_all(max 10) should ask for at most 11 bytes (one over the limit is proof enough), asked %zu",
                  t.asked);

    t = make_input(big, sizeof big, 1000);
    s = green_input_read_all(&t.in, sizeof big, &len);
    ck_assert_msg(s && len == sizeof big, "a 100,000-byte body within the limit: got %zu bytes", s ? len : 0);
    ck_assert_int_eq(memcmp(s, big, sizeof big), 0);
    ck_assert_int_eq(s[len], '\0');
    free(s);

    t = make_input("abc", 3, 100);
    t.err = ECONNRESET;
    errno = 0;
    s = green_input_read_all(&t.in, 100, &len);
    ck_assert_msg(s == NULL && errno == ECONNRESET,
                  "a read error is passed on: expected ECONNRESET, got %s", strerror(errno));
}
END_TEST

/* ---- bodies ------------------------------------------------------------------------- */

/* Walk b to its end: the chunks joined into out, and how many. */
static size_t walk(green_body_t *b, char *out, size_t size)
{
    size_t n = 0, used = 0;
    green_chunk_t c;
    out[0] = '\0';
    while (green_body_next(b, &c)) {
        ck_assert_msg(c.len > 0, "green_body_next returned an empty chunk");
        ck_assert_msg(used + c.len < size, "body larger than the test's buffer");
        memcpy(out + used, c.data, c.len);
        used += c.len;
        out[used] = '\0';
        n++;
    }
    return n;
}

START_TEST(test_body_list)
{
    static const green_chunk_t list[] = {
        { "Hello", 5 }, { "", 0 }, { ", ", 2 }, { NULL, 0 }, { "World!", 6 },
    };
    green_body_t b = green_body_list(list, 5);
    char out[64];
    ck_assert_int_eq(green_body_is_list(&b), 1);
    ck_assert_int_eq(green_body_length(&b), 13);
    ck_assert_msg(walk(&b, out, sizeof out) == 3, "empty chunks are skipped: 3 chunks expected");
    ck_assert_str_eq(out, "Hello, World!");
    ck_assert_int_eq(walk(&b, out, sizeof out), 0);   /* over is over */
    green_body_close(&b);

    b = green_body_empty();
    ck_assert_int_eq(green_body_is_list(&b), 1);
    ck_assert_int_eq(green_body_length(&b), 0);
    ck_assert_int_eq(walk(&b, out, sizeof out), 0);
    green_body_close(&b);
}
END_TEST

START_TEST(test_body_one_chunk)
{
    char out[64];
    green_body_t b = green_body_str("Hello, World!");
    ck_assert_int_eq(green_body_length(&b), 13);
    ck_assert_int_eq(walk(&b, out, sizeof out), 1);
    ck_assert_str_eq(out, "Hello, World!");
    green_body_close(&b);

    b = green_body_str("");
    ck_assert_int_eq(walk(&b, out, sizeof out), 0);
    green_body_close(&b);

    char src[] = "copied";
    b = green_body_copy(src, 6);
    strcpy(src, "XXXXXX");
    ck_assert_int_eq(green_body_length(&b), 6);
    ck_assert_int_eq(walk(&b, out, sizeof out), 1);
    ck_assert_msg(strcmp(out, "copied") == 0, "green_body_copy must copy, got '%s'", out);
    green_body_close(&b);           /* frees the copy: ASan/Valgrind would see a leak */

    char *mine = strdup("taken");
    b = green_body_take(mine, 5);
    ck_assert_int_eq(walk(&b, out, sizeof out), 1);
    ck_assert_str_eq(out, "taken");
    green_body_close(&b);           /* frees mine */
    green_body_close(&b);           /* and a second close does nothing */
    ck_assert_int_eq(walk(&b, out, sizeof out), 0);
}
END_TEST

START_TEST(test_body_file)
{
    char path[] = "/tmp/green-wsgi-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    static char data[200000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)('a' + i % 26);
    ck_assert_int_eq(write(fd, data, sizeof data), (ssize_t)sizeof data);

    green_body_t b = green_body_file(fd, 10, 150000);
    ck_assert_int_eq(green_body_is_list(&b), 1);
    ck_assert_int_eq(green_body_length(&b), 150000);
    static char out[200001];
    size_t n = walk(&b, out, sizeof out);
    ck_assert_msg(n >= 3, "a 150,000-byte file body comes in several chunks, got %zu", n);
    ck_assert_uint_eq(strlen(out), 150000);
    ck_assert_int_eq(memcmp(out, data + 10, 150000), 0);
    green_body_close(&b);
    ck_assert_msg(fcntl(fd, F_GETFD) == -1 && errno == EBADF, "closing a file body closes its fd");

    /* A file shorter than promised ends the body early. */
    strcpy(path, "/tmp/green-wsgi-XXXXXX");
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    ck_assert_int_eq(write(fd, "short", 5), 5);
    b = green_body_file(fd, 0, 1000);
    ck_assert_int_eq(walk(&b, out, sizeof out), 1);
    ck_assert_str_eq(out, "short");
    green_body_close(&b);
}
END_TEST

/* A generator body: "a", NULL (skipped), "" (skipped), "bc", "d". */
struct letters {
    green_gen_t gen;
    green_chunk_t chunk;
    int closed;
};

static int letters_step(green_gen_t *g)
{
    struct letters *l = (struct letters *)g;
    GREEN_GEN_BEGIN(g);
    l->chunk = (green_chunk_t){ "a", 1 };
    GREEN_GEN_YIELD(g, &l->chunk);
    GREEN_GEN_YIELD(g, NULL);
    l->chunk = (green_chunk_t){ "", 0 };
    GREEN_GEN_YIELD(g, &l->chunk);
    l->chunk = (green_chunk_t){ "bc", 2 };
    GREEN_GEN_YIELD(g, &l->chunk);
    l->chunk = (green_chunk_t){ "d", 1 };
    GREEN_GEN_YIELD(g, &l->chunk);
    GREEN_GEN_END(g);
}

static void letters_close(green_body_t *b)
{
    struct letters *l = b->data;
    l->closed++;
}

START_TEST(test_body_generator)
{
    struct letters l = { 0 };
    green_gen_init(&l.gen, letters_step);
    green_body_t b = green_body_gen(&l.gen, letters_close, &l);
    ck_assert_int_eq(green_body_is_list(&b), 0);
    ck_assert_int_eq(green_body_length(&b), -1);
    char out[16];
    size_t n = walk(&b, out, sizeof out);
    ck_assert_msg(n == 3, "NULL and empty chunks are skipped: 3 chunks expected, got %zu", n);
    ck_assert_str_eq(out, "abcd");
    green_body_close(&b);
    green_body_close(&b);
    ck_assert_msg(l.closed == 1, "close must be called exactly once, was called %d times", l.closed);

    /* Closed half-way (the client went away): close runs, the rest never does. */
    green_gen_init(&l.gen, letters_step);
    l.closed = 0;
    b = green_body_gen(&l.gen, letters_close, &l);
    green_chunk_t c;
    ck_assert_int_eq(green_body_next(&b, &c), 1);
    green_body_close(&b);
    ck_assert_int_eq(l.closed, 1);
    ck_assert_msg(green_body_next(&b, &c) == 0, "a closed body yields nothing more");

    b = green_body_gen(&l.gen, NULL, NULL);      /* no close function */
    green_body_close(&b);
}
END_TEST

/* A generator that yields "ab", then fails with ETIMEDOUT (fail_at 1),
 * or fails before its first chunk (fail_at 0). */
struct failing {
    green_gen_t gen;
    int fail_at;
    green_chunk_t chunk;
};

static int failing_step(green_gen_t *g)
{
    struct failing *f = (struct failing *)g;
    GREEN_GEN_BEGIN(g);
    if (f->fail_at > 0) {
        f->chunk = (green_chunk_t){ "ab", 2 };
        GREEN_GEN_YIELD(g, &f->chunk);
    }
    f->chunk = green_chunk_failure(ETIMEDOUT);
    GREEN_GEN_YIELD(g, &f->chunk);
    f->chunk = (green_chunk_t){ "never", 5 };     /* after a failure: never asked for */
    GREEN_GEN_YIELD(g, &f->chunk);
    GREEN_GEN_END(g);
}

START_TEST(test_body_failure)
{
    struct failing f = { .fail_at = 1 };
    green_gen_init(&f.gen, failing_step);
    green_body_t b = green_body_gen(&f.gen, NULL, NULL);
    char out[16];
    size_t n = walk(&b, out, sizeof out);
    ck_assert_msg(n == 1 && strcmp(out, "ab") == 0,
                  "a generator that fails after \"ab\": expected 1 chunk \"ab\", got %zu \"%s\"", n, out);
    ck_assert_msg(green_body_error(&b) == ETIMEDOUT,
                  "green_body_error after green_chunk_failure(ETIMEDOUT): expected ETIMEDOUT, got %d (%s); see lib/09-wsgi/wsgi.h",
                  green_body_error(&b), strerror(green_body_error(&b)));
    green_chunk_t c;
    ck_assert_msg(green_body_next(&b, &c) == 0, "a failed body yields nothing more");
    green_body_close(&b);
    ck_assert_msg(green_body_error(&b) == 0, "green_body_close forgets the failure");

    green_body_t whole = green_body_str("ok");
    walk(&whole, out, sizeof out);
    ck_assert_msg(green_body_error(&whole) == 0, "a body that ended whole: green_body_error is 0");
    green_chunk_t mark = green_chunk_failure(EPROTO);
    ck_assert_msg(mark.data != NULL, "a failure chunk is never mistaken for a NULL (skipped) chunk");
}
END_TEST

/* ---- the test client ---------------------------------------------------------------- */

static green_body_t hello_list(green_app_t *self, green_environ_t *env,
                               green_response_t *resp)
{
    static const green_chunk_t chunks[] = { { "<b>Hello", 8 }, { " world!</b>\n", 12 } };
    green_header_t h[] = { { "Content-Type", "text/html" } };
    (void)self, (void)env;
    green_start_response(resp, "200 OK", h, 1);
    return green_body_list(chunks, 2);
}

START_TEST(test_client_list)
{
    green_app_t app = { hello_list };
    green_wsgi_result_t r;
    int rc = green_wsgi_request(&app, "GET", "/", NULL, NULL, &r);
    ck_assert_msg(rc == 0, "green_wsgi_request failed: %s", kit_why(rc, errno));
    ck_assert_int_eq(r.resp.code, 200);
    ck_assert_str_eq(r.resp.status, "200 OK");
    ck_assert_str_eq(green_response_header(&r.resp, "Content-Type"), "text/html");
    ck_assert_str_eq(r.body, "<b>Hello world!</b>\n");
    ck_assert_uint_eq(r.len, 20);
    ck_assert_uint_eq(r.chunks, 2);
    ck_assert_int_eq(r.streamed, 0);
    ck_assert_int_eq(r.resp.sent, 1);
    green_wsgi_result_free(&r);
    ck_assert_ptr_null(r.body);
    green_hub_destroy();
}
END_TEST

/* Records the environ it was called with, answers with its body. */
static char seen[8][128];

static green_body_t recorder(green_app_t *self, green_environ_t *env,
                             green_response_t *resp)
{
    static const char *const keys[] = {
        "REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "REQUEST_URI",
        "HTTP_USER_AGENT", "CONTENT_LENGTH", "CONTENT_TYPE", "SERVER_PROTOCOL",
    };
    (void)self;
    for (int i = 0; i < 8; i++) {
        const char *v = green_environ_get(env, keys[i]);
        snprintf(seen[i], sizeof seen[i], "%s", v ? v : "(none)");
    }
    size_t len;
    char *body = green_input_read_all(env->input, 1000, &len);
    char cl[32];
    snprintf(cl, sizeof cl, "%lld", env->content_length);
    green_header_t h[] = { { "X-Content-Length", cl } };
    green_start_response(resp, "200 OK", h, 1);
    return body ? green_body_take(body, len) : green_body_empty();
}

START_TEST(test_client_environ)
{
    green_app_t app = { recorder };
    const char *headers[] = { "User-Agent", "test/1", "Content-Type", "text/plain", NULL };
    green_wsgi_result_t r;
    int rc = green_wsgi_request(&app, "POST", "/a%20b/c?x=1&y=%20", headers, "payload", &r);
    ck_assert_msg(rc == 0, "green_wsgi_request failed: %s", kit_why(rc, errno));
    static const char *const want[] = {
        "POST", "/a b/c", "x=1&y=%20", "/a%20b/c?x=1&y=%20", "test/1", "7",
        "text/plain", "HTTP/1.1",
    };
    for (int i = 0; i < 8; i++)
        ck_assert_msg(strcmp(seen[i], want[i]) == 0, "environ value #%d: expected '%s', got '%s'",
                      i, want[i], seen[i]);
    ck_assert_str_eq(r.body, "payload");
    ck_assert_str_eq(green_response_header(&r.resp, "X-Content-Length"), "7");
    green_wsgi_result_free(&r);

    rc = green_wsgi_request(&app, "GET", "/", NULL, NULL, &r);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(seen[5], "(none)");
    ck_assert_str_eq(green_response_header(&r.resp, "X-Content-Length"), "-1");
    ck_assert_str_eq(r.body, "");
    ck_assert_uint_eq(r.chunks, 0);
    green_wsgi_result_free(&r);

    errno = 0;
    rc = green_wsgi_request(&app, "GET", "/bad%zz", NULL, NULL, &r);
    ck_assert_msg(rc == -1 && errno == EINVAL, "a bad escape in the path: EINVAL, got %s", kit_why(rc, errno));
    ck_assert_ptr_null(r.body);
    green_hub_destroy();
}
END_TEST

/* Counts 0..n-1 as "i;", with a sleep before each, and calls
 * start_response again after its first chunk (too late). */
struct counting {
    green_gen_t gen;
    green_response_t *resp;
    int i, n, late_rc, late_errno;
    char text[16];
    green_chunk_t chunk;
};

static int counting_step(green_gen_t *g)
{
    struct counting *s = (struct counting *)g;
    GREEN_GEN_BEGIN(g);
    for (s->i = 0; s->i < s->n; s->i++) {
        green_sleep(0.001);
        if (s->i == 1) {
            s->late_rc = green_start_response(s->resp, "500 Late", NULL, 0);
            s->late_errno = errno;
        }
        s->chunk.len = (size_t)snprintf(s->text, sizeof s->text, "%d;", s->i);
        s->chunk.data = s->text;
        GREEN_GEN_YIELD(g, &s->chunk);
    }
    GREEN_GEN_END(g);
}

static struct counting counter;
static int counter_closed;

static void counting_close(green_body_t *b)
{
    (void)b;
    counter_closed++;
}

static green_body_t counting_app(green_app_t *self, green_environ_t *env,
                                 green_response_t *resp)
{
    (void)self, (void)env;
    memset(&counter, 0, sizeof counter);
    counter.n = 4;
    counter.resp = resp;
    green_gen_init(&counter.gen, counting_step);
    green_start_response(resp, "200 OK", NULL, 0);
    return green_body_gen(&counter.gen, counting_close, NULL);
}

START_TEST(test_client_generator)
{
    green_app_t app = { counting_app };
    green_wsgi_result_t r;
    counter_closed = 0;
    int rc = green_wsgi_request(&app, "GET", "/", NULL, NULL, &r);
    ck_assert_msg(rc == 0, "green_wsgi_request failed: %s", kit_why(rc, errno));
    ck_assert_int_eq(r.streamed, 1);
    ck_assert_uint_eq(r.chunks, 4);
    ck_assert_str_eq(r.body, "0;1;2;3;");
    ck_assert_int_eq(counter_closed, 1);
    ck_assert_msg(counter.late_rc == -1 && counter.late_errno == EALREADY,
                  "start_response after the first chunk went out: EALREADY, got %d (%s)",
                  counter.late_rc, strerror(counter.late_errno));
    ck_assert_int_eq(r.resp.code, 200);
    green_wsgi_result_free(&r);
    green_hub_destroy();
}
END_TEST

static green_body_t silent_app(green_app_t *self, green_environ_t *env,
                               green_response_t *resp)
{
    (void)self, (void)env, (void)resp;
    return green_body_copy("no status", 9);
}

static green_body_t failing_app(green_app_t *self, green_environ_t *env,
                                green_response_t *resp)
{
    static struct failing f;
    green_header_t h[] = { { "Content-Type", "text/plain" } };
    (void)self, (void)env;
    f.fail_at = 1;
    green_gen_init(&f.gen, failing_step);
    green_start_response(resp, "200 OK", h, 1);
    return green_body_gen(&f.gen, NULL, NULL);
}

START_TEST(test_client_body_failure)
{
    green_app_t app = { failing_app };
    green_wsgi_result_t r;
    errno = 0;
    int rc = green_wsgi_request(&app, "GET", "/", NULL, NULL, &r);
    ck_assert_msg(rc == -1 && errno == ETIMEDOUT,
                  "a body that failed half-way is no whole response: expected -1 and ETIMEDOUT, got %d and %s",
                  rc, kit_why(rc, errno));
    ck_assert_ptr_null(r.body);
    ck_assert_int_eq(r.resp.code, 200);
    green_hub_destroy();
}
END_TEST

START_TEST(test_client_no_start_response)
{
    green_app_t app = { silent_app };
    green_wsgi_result_t r;
    errno = 0;
    int rc = green_wsgi_request(&app, "GET", "/", NULL, NULL, &r);
    ck_assert_msg(rc == -1 && errno == EPROTO,
                  "an app that never calls start_response: -1 and EPROTO, got %d (%s)", rc, strerror(errno));
    ck_assert_ptr_null(r.body);       /* nothing to free, nothing leaked */
    green_hub_destroy();
}
END_TEST

/* ---- the demo app ------------------------------------------------------------------- */

/* (A result is filled in place, never returned by value: its headers point
 * into its own store, so a copy's headers would point into the original.) */
static void demo(green_wsgi_result_t *r, const char *method, const char *uri,
                 const char *body)
{
    int rc = green_wsgi_request(&demo_app, method, uri, NULL, body, r);
    ck_assert_msg(rc == 0, "%s %s: green_wsgi_request failed: %s", method, uri, kit_why(rc, errno));
}

static void expect(const char *method, const char *uri, const char *body,
                   int code, const char *text)
{
    green_wsgi_result_t r;
    demo(&r, method, uri, body);
    ck_assert_msg(r.resp.code == code, "%s %s: expected %d, got %d; " KIT_LESSON(LESSON, "The demo app"),
                  method, uri, code, r.resp.code);
    if (text)
        ck_assert_msg(strcmp(r.body, text) == 0, "%s %s: expected body '%s', got '%s'",
                      method, uri, text, r.body);
    green_wsgi_result_free(&r);
}

START_TEST(test_demo_hello)
{
    green_wsgi_result_t r;
    demo(&r, "GET", "/", NULL);
    ck_assert_int_eq(r.resp.code, 200);
    ck_assert_str_eq(r.body, "Hello, World!");
    ck_assert_str_eq(green_response_header(&r.resp, "Content-Type"), "text/plain");
    ck_assert_int_eq(r.streamed, 0);
    ck_assert_ptr_null(green_response_header(&r.resp, "Server"));
    green_wsgi_result_free(&r);
    expect("HEAD", "/", NULL, 200, NULL);
    /* HEAD answers as GET would, on every route (the server drops the body). */
    expect("HEAD", "/stream?n=2", NULL, 200, NULL);
    expect("HEAD", "/sleep?ms=1", NULL, 200, NULL);
    expect("HEAD", "/echo", NULL, 200, NULL);
    expect("POST", "/", "x", 404, NULL);
    expect("GET", "/nope", NULL, 404, "Not Found\n");
    expect("GET", "/echo/more", NULL, 404, NULL);
    green_hub_destroy();
}
END_TEST

START_TEST(test_demo_echo)
{
    green_wsgi_result_t r;
    demo(&r, "POST", "/echo", "ping\0ignored");
    ck_assert_int_eq(r.resp.code, 200);
    ck_assert_str_eq(r.body, "ping");
    ck_assert_str_eq(green_response_header(&r.resp, "Content-Type"), "application/octet-stream");
    green_wsgi_result_free(&r);
    expect("GET", "/echo", NULL, 200, "");
    expect("PUT", "/echo", "x", 404, NULL);

    /* Any size: 3 MiB (the old /echo refused 1 MiB + 1 with 413), sent
     * back piece by piece, not in one chunk. */
    size_t size = 3 << 20;
    char *big = malloc(size + 1);
    for (size_t i = 0; i < size; i++)
        big[i] = (char)('a' + i % 23);
    big[size] = '\0';
    demo(&r, "POST", "/echo", big);
    ck_assert_msg(r.resp.code == 200 && r.len == size && memcmp(r.body, big, size) == 0,
                  "POST /echo of 3 MiB: expected 200 and the same 3 MiB back, got %d and %zu bytes; " KIT_LESSON(LESSON, "The demo app"),
                  r.resp.code, r.len);
    ck_assert_msg(r.streamed == 1 && r.chunks == size / DEMO_ECHO_PIECE,
                  "/echo should stream the body back in pieces of DEMO_ECHO_PIECE bytes: expected a generator "
                  "of %zu chunks, got streamed=%d and %zu chunk(s)", size / DEMO_ECHO_PIECE, r.streamed, r.chunks);
    green_wsgi_result_free(&r);
    free(big);
    green_hub_destroy();
}
END_TEST

/* /echo on an input that gives `data`, then fails with `err` (0: ends). */
static size_t echo_with(struct test_input *t, green_response_t *resp, green_body_t *b,
                        char *out, size_t size)
{
    green_environ_t env = { .method = "POST", .path = "/echo", .query = "", .uri = "/echo",
                            .protocol = "HTTP/1.1", .content_length = -1, .input = &t->in };
    green_response_init(resp);
    *b = green_app_call(&demo_app, &env, resp);
    return walk(b, out, size);
}

START_TEST(test_demo_echo_read_errors)
{
    green_response_t resp;
    green_body_t b;
    char out[64];

    /* Half the body, then the client stalls: a 200 that cannot be whole. */
    struct test_input t = make_input("hello", 5, 100);
    t.err = ETIMEDOUT;
    echo_with(&t, &resp, &b, out, sizeof out);
    ck_assert_msg(resp.code == 200 && strcmp(out, "hello") == 0,
                  "/echo whose input fails after 'hello': expected 200 and 'hello', got %d and '%s'", resp.code, out);
    ck_assert_msg(green_body_error(&b) == ETIMEDOUT,
                  "/echo whose input fails half-way must end its body with green_chunk_failure(ETIMEDOUT) "
                  "(the server then cuts the response); green_body_error says %d; " KIT_LESSON(LESSON, "The demo app"),
                  green_body_error(&b));
    green_body_close(&b);

    /* Failing at the first read: nothing sent yet, so a status says why. */
    t = make_input("", 0, 100);
    t.err = EMSGSIZE;
    echo_with(&t, &resp, &b, out, sizeof out);
    ck_assert_msg(resp.code == 413 && green_body_error(&b) == 0,
                  "/echo over the server's body limit (EMSGSIZE at the first read): expected 413, got %d", resp.code);
    green_body_close(&b);
    t = make_input("", 0, 100);
    t.err = EPROTO;
    echo_with(&t, &resp, &b, out, sizeof out);
    ck_assert_msg(resp.code == 400, "/echo of a malformed body (EPROTO at the first read): expected 400, got %d",
                  resp.code);
    green_body_close(&b);
}
END_TEST

/* An application that buffers the whole body, as most do, with a limit of
 * its own: over it, green_input_read_all says EMSGSIZE, and it answers 413. */
static green_body_t buffering_call(green_app_t *self, green_environ_t *env, green_response_t *resp)
{
    (void)self;
    return kit_buffered_echo(env, resp, 1000);
}

START_TEST(test_buffering_app_gets_413)
{
    static char big[1002];
    green_app_t app = { buffering_call };
    green_wsgi_result_t r;
    memset(big, 'x', 1001);
    ck_assert_int_eq(green_wsgi_request(&app, "POST", "/", NULL, big, &r), 0);
    ck_assert_msg(r.resp.code == 413, "1001 bytes to an app that reads at most 1000: expected 413, got %d",
                  r.resp.code);
    green_wsgi_result_free(&r);
    big[1000] = '\0';
    ck_assert_int_eq(green_wsgi_request(&app, "POST", "/", NULL, big, &r), 0);
    ck_assert_msg(r.resp.code == 200 && r.len == 1000, "1000 bytes (the limit): expected 200, got %d", r.resp.code);
    green_wsgi_result_free(&r);
    green_hub_destroy();
}
END_TEST

START_TEST(test_demo_stream)
{
    green_wsgi_result_t r;
    demo(&r, "GET", "/stream?n=3", NULL);
    ck_assert_int_eq(r.resp.code, 200);
    ck_assert_int_eq(r.streamed, 1);
    ck_assert_uint_eq(r.chunks, 3);
    ck_assert_str_eq(r.body, "chunk 0\nchunk 1\nchunk 2\n");
    green_wsgi_result_free(&r);

    demo(&r, "GET", "/stream?n=1000", NULL);
    ck_assert_uint_eq(r.chunks, 1000);
    ck_assert_msg(strstr(r.body, "chunk 999\n") != NULL, "the 1000th chunk is 'chunk 999'");
    green_wsgi_result_free(&r);

    demo(&r, "GET", "/stream?n=0", NULL);
    ck_assert_int_eq(r.resp.code, 200);
    ck_assert_uint_eq(r.chunks, 0);
    green_wsgi_result_free(&r);

    expect("GET", "/stream", NULL, 400, NULL);
    expect("GET", "/stream?n=abc", NULL, 400, NULL);
    expect("GET", "/stream?n=-1", NULL, 400, NULL);
    expect("GET", "/stream?n=1000001", NULL, 400, NULL);
    expect("POST", "/stream?n=1", "", 404, NULL);
    green_hub_destroy();
}
END_TEST

/* Requests finished, and whether the 0.3 s clock below had rung by then. */
static int sleeps_done, clock_rang, done_before_clock;

static void *clock_300ms(void *arg)
{
    (void)arg;
    if (green_sleep(0.3) == 0)
        clock_rang = 1;
    return NULL;
}

static void *sleep_request(void *arg)
{
    green_wsgi_result_t r;
    int rc = green_wsgi_request(&demo_app, "GET", arg, NULL, NULL, &r);
    if (rc == 0 && strcmp(r.body, "slept") != 0)
        rc = -1;
    green_wsgi_result_free(&r);
    sleeps_done++;
    if (!clock_rang)
        done_before_clock++;
    return rc == 0 ? arg : NULL;
}

START_TEST(test_demo_sleep)
{
    double t0 = green_now();
    expect("GET", "/sleep?ms=50", NULL, 200, "slept");
    double took = green_now() - t0;
    ck_assert_msg(took >= 0.045 && took < 1.0, "/sleep?ms=50 took %.3f s", took);
    expect("GET", "/sleep", NULL, 400, NULL);
    expect("GET", "/sleep?ms=x", NULL, 400, NULL);

    /* Two sleeping requests overlap: the sleep is cooperative.  The clock
     * is a third greenlet sleeping 0.3 s: overlapping, both requests end
     * at 0.2 s, before it; one after the other, the second ends at 0.4 s.
     * Timers fire in the order of their deadlines, so a slow or loaded
     * machine does not change the answer. */
    sleeps_done = clock_rang = done_before_clock = 0;
    green_t *g[3] = { green_spawn(sleep_request, "/sleep?ms=200"),
                      green_spawn(sleep_request, "/sleep?ms=200"),
                      green_spawn(clock_300ms, NULL) };
    ck_assert_int_eq(green_joinall(g, 3, 5.0), 0);
    ck_assert_msg(green_result(g[0]) && green_result(g[1]), "both /sleep requests should answer 'slept'");
    ck_assert_msg(done_before_clock == 2, "two /sleep?ms=200 in two greenlets should overlap (~0.2 s): "
                  "%d of them ended before a 0.3 s timer", done_before_clock);
    for (int i = 0; i < 3; i++)
        green_free(g[i]);
    green_hub_destroy();
}
END_TEST

static Suite *wsgi_suite(void)
{
    Suite *s = suite_create("lib/wsgi");
    TCase *tc = kit_tcase("start_response");
    tcase_add_test(tc, test_start_response_good);
    tcase_add_test(tc, test_start_response_bad_status);
    tcase_add_test(tc, test_start_response_crlf_in_value);
    tcase_add_test(tc, test_start_response_bad_names);
    tcase_add_test(tc, test_start_response_too_many);
    tcase_add_test(tc, test_start_response_replaces);
    tcase_add_test(tc, test_start_response_from_itself);
    tcase_add_test(tc, test_start_response_after_sent);
    suite_add_tcase(s, tc);

    tc = kit_tcase("environ and input");
    tcase_add_test(tc, test_environ_get);
    tcase_add_test(tc, test_environ_header);
    tcase_add_test(tc, test_query_param);
    tcase_add_test(tc, test_query_param_absent_empty);
    tcase_add_test(tc, test_query_param_decoding);
    tcase_add_test(tc, test_query_param_small_buffer);
    tcase_add_test(tc, test_url_unescape);
    tcase_add_test(tc, test_input_read_all);
    tcase_add_test(tc, test_input_read_all_limit);
    suite_add_tcase(s, tc);

    tc = kit_tcase("bodies");
    tcase_add_test(tc, test_body_list);
    tcase_add_test(tc, test_body_one_chunk);
    tcase_add_test(tc, test_body_file);
    tcase_add_test(tc, test_body_generator);
    tcase_add_test(tc, test_body_failure);
    suite_add_tcase(s, tc);

    tc = kit_tcase("test client and demo app");
    tcase_add_test(tc, test_client_list);
    tcase_add_test(tc, test_client_environ);
    tcase_add_test(tc, test_client_generator);
    tcase_add_test(tc, test_client_no_start_response);
    tcase_add_test(tc, test_client_body_failure);
    tcase_add_test(tc, test_buffering_app_gets_413);
    tcase_add_test(tc, test_demo_hello);
    tcase_add_test(tc, test_demo_echo);
    tcase_add_test(tc, test_demo_echo_read_errors);
    tcase_add_test(tc, test_demo_stream);
    tcase_add_test(tc, test_demo_sleep);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(wsgi_suite()); }
