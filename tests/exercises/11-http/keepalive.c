/* Tests of exercise 11-http/keepalive: keep-alive and pipelining. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "green.h"
#include "keepalive.h"

#define KEEP KIT_LESSON("chapters/11-http/README.md", "The keep-alive loop")
#define PIPE KIT_LESSON("chapters/11-http/README.md", "Pipelining")

/* ---- ex_keep_alive ------------------------------------------------------- */

/* head on one line, CR and LF written as \r and \n (a grade line is one
 * line). */
static const char *shown(const char *head)
{
    static char out[512];
    size_t o = 0;
    for (; *head && o + 3 < sizeof out; head++) {
        if (*head == '\r' || *head == '\n') {
            out[o++] = '\\';
            out[o++] = *head == '\r' ? 'r' : 'n';
        } else {
            out[o++] = *head;
        }
    }
    out[o] = '\0';
    return out;
}

static void keep_is(const char *head, int want)
{
    green_http_request_t req;
    int rc = green_http_parse_request(head, strlen(head), NULL, &req);
    ck_assert_msg(rc > 0, "test setup: the parser refused \"%s\"", head);
    req.keep_alive = !want;             /* the parser's answer, made wrong */
    int got = ex_keep_alive(&req);
    ck_assert_msg(got == want, "for the request \"%s\", ex_keep_alive should return %d (%s), returned %d; %s",
                  shown(head), want, want ? "keep the connection" : "close it", got, KEEP);
}

START_TEST(test_keep_alive_http11)
{
    keep_is("GET / HTTP/1.1\r\nHost: a\r\n\r\n", 1);
    keep_is("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 0);
    keep_is("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n", 0);
    keep_is("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n", 1);
}
END_TEST

START_TEST(test_keep_alive_http10)
{
    keep_is("GET / HTTP/1.0\r\n\r\n", 0);
    keep_is("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 1);
    keep_is("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 1);
    keep_is("GET / HTTP/1.0\r\nConnection: close\r\n\r\n", 0);
}
END_TEST

START_TEST(test_keep_alive_option_lists)
{
    keep_is("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, close\r\n\r\n", 0);
    keep_is("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n", 1);
    keep_is("GET / HTTP/1.0\r\nConnection: TE, keep-alive\r\n\r\n", 1);
}
END_TEST

/* ---- A responder that records what it was asked ----------------------------- */

struct record {
    int fd;                     /* -1: write nothing */
    int n;
    int status[16];
    char target[16][32];
    int keep[16];
};

static int record_respond(int status, const green_http_request_t *req, int keep, void *arg)
{
    struct record *r = arg;
    if (r->n < 16) {
        r->status[r->n] = status;
        r->keep[r->n] = keep;
        snprintf(r->target[r->n], sizeof r->target[0], "%.*s",
                 req ? (int)req->target_len : 1, req ? req->target : "-");
    }
    r->n++;
    if (r->fd < 0)
        return 0;
    char out[128];
    int len = snprintf(out, sizeof out, "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n\r\n%s",
                       status, strlen(r->target[r->n - 1]), r->target[r->n - 1]);
    return green_sendall(r->fd, out, (size_t)len, 2.0) < 0 ? -1 : 0;
}

/* The body ends in CR LF, so that an answer which forgets to skip it does
 * not parse "hello" + "GET" as a request with a method named "helloGET". */
static const char three[] =
    "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
    "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhel\r\n"
    "GET /c HTTP/1.1\r\nHost: h\r\n\r\n";

static void targets_are(const struct record *r, const char *a, const char *b, const char *c)
{
    const char *want[] = { a, b, c };
    for (int i = 0; i < 3 && want[i]; i++)
        ck_assert_msg(r->n > i && strcmp(r->target[i], want[i]) == 0,
                      "response %d should answer %s, but %s; %s", i + 1, want[i],
                      r->n > i ? r->target[i] : "there was none", PIPE);
}

START_TEST(test_buffer_pipelined_in_order)
{
    struct record r = { .fd = -1 };
    int close = -1;
    ssize_t used = ex_serve_buffer(three, strlen(three), record_respond, &r, &close);
    ck_assert_msg(r.n == 3, "three pipelined requests in one buffer should get 3 responses, got %d; %s",
                  r.n, PIPE);
    targets_are(&r, "/a", "/b", "/c");
    ck_assert_msg(used == (ssize_t)strlen(three) && close == 0,
                  "all %zu bytes used and the connection kept: returned %zd, close %d; %s",
                  strlen(three), used, close, PIPE);
    ck_assert_msg(r.status[0] == 200 && r.keep[0] == 1, "a good 1.1 request: respond(200, req, 1, ...)");
}
END_TEST

START_TEST(test_buffer_partial_request)
{
    struct record r = { .fd = -1 };
    int close;
    size_t cut = strlen(three) - 10;            /* inside the third head */
    ssize_t used = ex_serve_buffer(three, cut, record_respond, &r, &close);
    size_t two = strlen(three) - strlen("GET /c HTTP/1.1\r\nHost: h\r\n\r\n");
    ck_assert_msg(r.n == 2 && used == (ssize_t)two && close == 0,
                  "with the third request cut short: 2 responses and %zu bytes used "
                  "(the rest waits for more bytes), got %d responses, %zd bytes, close %d; %s",
                  two, r.n, used, close, PIPE);
    /* Half a body: stop before the request it belongs to. */
    struct record r2 = { .fd = -1 };
    size_t in_body = strlen("GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
                            "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhel");
    used = ex_serve_buffer(three, in_body, record_respond, &r2, &close);
    ck_assert_msg(r2.n == 1 && used == (ssize_t)strlen("GET /a HTTP/1.1\r\nHost: h\r\n\r\n"),
                  "with a request's body not all there, that request waits: 1 response and "
                  "the first request's bytes used; got %d responses, %zd bytes; %s", r2.n, used, PIPE);
}
END_TEST

START_TEST(test_buffer_close_stops)
{
    static const char req[] =
        "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
        "GET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
        "GET /c HTTP/1.1\r\nHost: h\r\n\r\n";
    struct record r = { .fd = -1 };
    int close = 0;
    ssize_t used = ex_serve_buffer(req, strlen(req), record_respond, &r, &close);
    ck_assert_msg(r.n == 2 && close == 1, "after \"Connection: close\" nothing more is answered: "
                  "expected 2 responses and *close 1, got %d and %d; %s", r.n, close, KEEP);
    ck_assert_msg(r.keep[1] == 0, "the second response should be told keep_alive 0");
    ck_assert_int_eq(used, (ssize_t)(strlen(req) - strlen("GET /c HTTP/1.1\r\nHost: h\r\n\r\n")));
}
END_TEST

START_TEST(test_buffer_bad_request)
{
    static const char req[] = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nNOT HTTP AT ALL\r\n\r\n";
    struct record r = { .fd = -1 };
    int close = 0;
    ex_serve_buffer(req, strlen(req), record_respond, &r, &close);
    ck_assert_msg(r.n == 2 && r.status[0] == 200 && r.status[1] == 400 && close == 1,
                  "a good request then a bad one: respond(200...) then respond(400, NULL, 0...) "
                  "and close; got %d responses (statuses %d, %d), close %d; %s",
                  r.n, r.status[0], r.n > 1 ? r.status[1] : 0, close, KEEP);
}
END_TEST

/* ---- ex_serve_connection over a socketpair ------------------------------------ */

static int pair[2];

/* The client: the three requests in pieces cut anywhere, then waits. */
static void *client(void *arg)
{
    const char *what = arg;
    size_t len = strlen(what);
    size_t cuts[] = { 3, 20, 31, 50, 77 };
    size_t at = 0;
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0] && cuts[i] < len; i++) {
        green_sendall(pair[1], what + at, cuts[i] - at, 2.0);
        at = cuts[i];
        green_sleep(0.01);
    }
    green_sendall(pair[1], what + at, len - at, 2.0);
    return NULL;
}

static void setup_pair(void)
{
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    green_fd_nonblock(pair[0]);
    green_fd_nonblock(pair[1]);
}

START_TEST(test_connection_in_pieces)
{
    static const char req[] =
        "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
        "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhel\r\n"
        "GET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
    setup_pair();
    struct record r = { .fd = pair[0] };
    green_t *g = green_spawn(client, (void *)req);
    double t0 = green_now();
    int rc = ex_serve_connection(pair[0], record_respond, &r, 2.0);
    double t = green_now() - t0;
    ck_assert_msg(rc == 0, "the loop should return 0 after Connection: close, returned %d (%s); %s",
                  rc, strerror(errno), KEEP);
    ck_assert_msg(r.n == 3, "requests arriving in pieces should all be answered: %d of 3; %s", r.n, PIPE);
    targets_are(&r, "/a", "/b", "/c");
    ck_assert_msg(t < 1.0, "after Connection: close the loop should return at once, not wait "
                  "for more bytes (took %.2f s); %s", t, KEEP);
    char buf[512];
    ssize_t n = green_recv(pair[1], buf, sizeof buf - 1, 1.0);
    buf[n > 0 ? n : 0] = '\0';
    ck_assert_msg(n > 0 && strstr(buf, "\r\n\r\n/a") && strstr(buf, "\r\n\r\n/c"),
                  "the responses should reach the client, got \"%s\"", buf);
    ck_assert_int_eq(green_join(g, 2.0), 0);
    green_free(g);
    close(pair[0]);
    close(pair[1]);
    green_hub_destroy();
}
END_TEST

START_TEST(test_connection_eof_and_idle)
{
    setup_pair();
    struct record r = { .fd = -1 };
    static const char one[] = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
    green_sendall(pair[1], one, strlen(one), 1.0);
    shutdown(pair[1], SHUT_WR);                 /* the client is done */
    int rc = ex_serve_connection(pair[0], record_respond, &r, 2.0);
    ck_assert_msg(rc == 0 && r.n == 1, "a request then the client's close: 1 response and "
                  "return 0; got %d responses, returned %d; %s", r.n, rc, KEEP);
    close(pair[0]);
    close(pair[1]);

    setup_pair();
    struct record r2 = { .fd = -1 };
    double t0 = green_now();
    errno = 0;
    rc = ex_serve_connection(pair[0], record_respond, &r2, 0.2);
    double t = green_now() - t0;
    ck_assert_msg(rc == -1 && errno == ETIMEDOUT && t < 1.0,
                  "a silent client: return -1 with ETIMEDOUT after idle_timeout (0.2 s); "
                  "returned %d (%s) after %.2f s; %s", rc, strerror(errno), t, KEEP);
    close(pair[0]);
    close(pair[1]);
    green_hub_destroy();
}
END_TEST

static Suite *keepalive_suite(void)
{
    Suite *s = suite_create("11-http/keepalive");
    TCase *tc = kit_tcase("keepalive");
    tcase_add_test(tc, test_keep_alive_http11);
    tcase_add_test(tc, test_keep_alive_http10);
    tcase_add_test(tc, test_keep_alive_option_lists);
    tcase_add_test(tc, test_buffer_pipelined_in_order);
    tcase_add_test(tc, test_buffer_partial_request);
    tcase_add_test(tc, test_buffer_close_stops);
    tcase_add_test(tc, test_buffer_bad_request);
    tcase_add_test(tc, test_connection_in_pieces);
    tcase_add_test(tc, test_connection_eof_and_idle);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(keepalive_suite()); }
