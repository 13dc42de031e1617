/* Tests of exercise 10-evhttp/environ: a WSGI environ from an evhttp
 * request.  Each test starts an evhttp server on the hub's event_base
 * (127.0.0.1, port 0) whose callback calls your ex_environ_init, notes
 * what it built, and answers; a client greenlet sends it raw requests. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "harness.h"
#include "green.h"
#include "environ.h"

#define LESSON "chapters/10-evhttp/README.md"

/* ---- What the callback saw ------------------------------------------ */

static struct seen {
    int rc, err;                  /* ex_environ_init's answer */
    char method[16], uri[256], path[256], query[256], protocol[16], remote[64];
    char headers[1024];           /* "Name: value\n" for each, in order */
    size_t nheaders;
    char x_custom[64];            /* green_environ_get(env, "HTTP_X_CUSTOM") */
    long long content_length;
    char body[256];
    int calls;
} seen;

static void copy(char *dst, size_t size, const char *s)
{
    snprintf(dst, size, "%s", s ? s : "(NULL)");
}

static void on_request(struct evhttp_request *req, void *arg)
{
    (void)arg;
    ex_environ_t e;
    memset(&seen, 0, sizeof seen);
    seen.calls = 1;
    errno = 0;
    seen.rc = ex_environ_init(&e, req);
    seen.err = errno;
    if (seen.rc == 0) {
        green_environ_t *env = &e.env;
        copy(seen.method, sizeof seen.method, env->method);
        copy(seen.uri, sizeof seen.uri, env->uri);
        copy(seen.path, sizeof seen.path, env->path);
        copy(seen.query, sizeof seen.query, env->query);
        copy(seen.protocol, sizeof seen.protocol, env->protocol);
        copy(seen.remote, sizeof seen.remote, env->remote_addr);
        seen.nheaders = env->nheaders;
        size_t used = 0;
        for (size_t i = 0; i < env->nheaders && env->headers && used < sizeof seen.headers; i++)
            used += (size_t)snprintf(seen.headers + used, sizeof seen.headers - used, "%s: %s\n",
                                     env->headers[i].name ? env->headers[i].name : "(NULL)",
                                     env->headers[i].value ? env->headers[i].value : "(NULL)");
        copy(seen.x_custom, sizeof seen.x_custom,
             env->headers ? green_environ_get(env, "HTTP_X_CUSTOM") : NULL);
        seen.content_length = env->content_length;
        if (env->input && env->input->read) {
            ssize_t n = green_input_read(env->input, seen.body, sizeof seen.body - 1);
            seen.body[n > 0 ? n : 0] = '\0';
        } else {
            copy(seen.body, sizeof seen.body, "(no env.input)");
        }
        ex_environ_free(&e);
    }
    evhttp_send_reply(req, seen.rc == 0 ? 200 : 400, seen.rc == 0 ? "OK" : "Bad Request", NULL);
}

/* ---- The server and the client -------------------------------------- */

static struct evhttp *http;
static char port[16];

static void start(void)
{
    http = evhttp_new(green_hub_base());
    ck_assert_ptr_nonnull(http);
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                               EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
                               EVHTTP_REQ_PATCH);
    evhttp_set_gencb(http, on_request, NULL);
    struct evhttp_bound_socket *b = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
    ck_assert_msg(b != NULL, "test setup: evhttp cannot listen on 127.0.0.1");
    snprintf(port, sizeof port, "%d", green_socket_port(evhttp_bound_socket_get_fd(b)));
}

static void stop(void)
{
    evhttp_free(http);
    green_hub_destroy();
}

/* Send a raw request (it should say "Connection: close") and read the
 * answer to the end.  Returns 0 when the callback ran, -1 if not. */
static int send_request(const char *request)
{
    char buf[4096];
    seen.calls = 0;
    int fd = green_tcp_connect("127.0.0.1", port, 5.0);
    ck_assert_msg(fd >= 0, "test setup: cannot connect: %s", strerror(errno));
    ck_assert_int_ge(green_sendall(fd, request, strlen(request), 5.0), 0);
    while (green_recv(fd, buf, sizeof buf, 5.0) > 0)
        ;
    close(fd);
    return seen.calls ? 0 : -1;
}

static void must_succeed(const char *what)
{
    ck_assert_msg(seen.calls, "the request %s never reached the server's callback (test setup)", what);
    ck_assert_msg(seen.rc == 0, "ex_environ_init failed for the request %s: returned %d, errno %s; it should "
                  "return 0; " KIT_LESSON(LESSON, "Building the environ"), what, seen.rc, strerror(seen.err));
}

/* ---- ex_path_decode ------------------------------------------------- */

static void decodes(const char *in, const char *want)
{
    char out[64];
    memset(out, 'X', sizeof out);
    ssize_t n = ex_path_decode(in, out, sizeof out);
    ck_assert_msg(n == (ssize_t)strlen(want) && strcmp(out, want) == 0,
                  "ex_path_decode(\"%s\") should give \"%s\" (length %zu), got %zd \"%.*s\"; "
                  KIT_LESSON(LESSON, "Percent-decoding the path"), in, want, strlen(want), n,
                  n > 0 ? (int)n : 0, out);
}

START_TEST(test_decode)
{
    decodes("/hello", "/hello");
    decodes("/a%20b", "/a b");
    decodes("/%41%62%7e%7E", "/Ab~~");
    decodes("/c+d", "/c+d");
    decodes("/%2Fslash", "//slash");
    decodes("", "");
}
END_TEST

static void refuses(const char *in, size_t size, int want_err)
{
    char out[64];
    errno = 0;
    ssize_t n = ex_path_decode(in, out, size);
    ck_assert_msg(n == -1 && errno == want_err,
                  "ex_path_decode(\"%s\", out, %zu) should fail with %s, got %zd and errno %s; "
                  KIT_LESSON(LESSON, "Percent-decoding the path"), in, size, strerror(want_err), n,
                  strerror(errno));
}

START_TEST(test_decode_refuses)
{
    refuses("/%zz", 64, EINVAL);
    refuses("/end%4", 64, EINVAL);
    refuses("/end%", 64, EINVAL);
    refuses("/admin%00.txt", 64, EINVAL);
    refuses("/toolong", 8, ENOSPC);
    char out[9];
    ck_assert_msg(ex_path_decode("/toolong", out, sizeof out) == 8,
                  "\"/toolong\" and its NUL fit in 9 bytes: ex_path_decode should give 8; "
                  KIT_LESSON(LESSON, "Percent-decoding the path"));
}
END_TEST

/* ---- ex_environ_init, over the wire -------------------------------- */

START_TEST(test_methods)
{
    start();
    const char *methods[] = { "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH" };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        char req[128];
        snprintf(req, sizeof req, "%s / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%s\r\n",
                 methods[i], strcmp(methods[i], "POST") == 0 || strcmp(methods[i], "PUT") == 0 ||
                 strcmp(methods[i], "PATCH") == 0 ? "Content-Length: 0\r\n" : "");
        send_request(req);
        must_succeed(methods[i]);
        ck_assert_msg(strcmp(seen.method, methods[i]) == 0,
                      "a %s request should give env.method \"%s\", got \"%s\"; "
                      KIT_LESSON(LESSON, "Building the environ"), methods[i], methods[i], seen.method);
    }
    stop();
}
END_TEST

START_TEST(test_path_and_query)
{
    start();
    send_request("GET /files/a%20b.txt?n=3&name=x%20y HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    must_succeed("GET /files/a%20b.txt?n=3&name=x%20y");
    ck_assert_msg(strcmp(seen.path, "/files/a b.txt") == 0,
                  "env.path should be the decoded path \"/files/a b.txt\", got \"%s\"; "
                  KIT_LESSON(LESSON, "Building the environ"), seen.path);
    ck_assert_msg(strcmp(seen.query, "n=3&name=x%20y") == 0,
                  "env.query should be the query as sent, \"n=3&name=x%%20y\" (not decoded: the "
                  "app decodes each value), got \"%s\"; "
                  KIT_LESSON(LESSON, "Building the environ"), seen.query);
    ck_assert_msg(strcmp(seen.uri, "/files/a%20b.txt?n=3&name=x%20y") == 0,
                  "env.uri should be the request target as sent, got \"%s\"; "
                  KIT_LESSON(LESSON, "Building the environ"), seen.uri);
    send_request("GET /plain HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    must_succeed("GET /plain");
    ck_assert_msg(strcmp(seen.query, "") == 0, "without a '?', env.query should be \"\" (never "
                  "NULL), got \"%s\"; " KIT_LESSON(LESSON, "Building the environ"), seen.query);
    ck_assert_str_eq(seen.path, "/plain");
    stop();
}
END_TEST

START_TEST(test_bad_path_is_einval)
{
    start();
    send_request("GET /admin%00.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    ck_assert_msg(seen.calls, "the request never reached the server's callback (test setup)");
    ck_assert_msg(seen.rc == -1 && seen.err == EINVAL,
                  "a path with %%00 should make ex_environ_init fail with EINVAL (the server "
                  "answers 400), got %d and errno %s; " KIT_LESSON(LESSON, "Percent-decoding the path"),
                  seen.rc, strerror(seen.err));
    stop();
}
END_TEST

START_TEST(test_protocol_and_remote)
{
    start();
    send_request("GET / HTTP/1.0\r\n\r\n");
    must_succeed("GET / HTTP/1.0");
    ck_assert_msg(strcmp(seen.protocol, "HTTP/1.0") == 0, "an HTTP/1.0 request should give "
                  "env.protocol \"HTTP/1.0\", got \"%s\"; " KIT_LESSON(LESSON, "Building the environ"),
                  seen.protocol);
    send_request("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    must_succeed("GET / HTTP/1.1");
    ck_assert_msg(strcmp(seen.protocol, "HTTP/1.1") == 0, "an HTTP/1.1 request should give "
                  "env.protocol \"HTTP/1.1\", got \"%s\"", seen.protocol);
    ck_assert_msg(strcmp(seen.remote, "127.0.0.1") == 0, "env.remote_addr should be the "
                  "client's address, \"127.0.0.1\", got \"%s\"; " KIT_LESSON(LESSON, "Building the environ"),
                  seen.remote);
    stop();
}
END_TEST

START_TEST(test_headers)
{
    start();
    send_request("GET / HTTP/1.1\r\nHost: t\r\nX-Custom: forty two\r\nAccept: */*\r\nConnection: close\r\n\r\n");
    must_succeed("GET / with 4 headers");
    const char *want = "Host: t\nX-Custom: forty two\nAccept: */*\nConnection: close\n";
    ck_assert_msg(seen.nheaders == 4 && strcmp(seen.headers, want) == 0,
                  "env.headers should hold the 4 headers in the order sent:\n%sgot %zu:\n%s"
                  KIT_LESSON(LESSON, "Building the environ"), want, seen.nheaders, seen.headers);
    ck_assert_msg(strcmp(seen.x_custom, "forty two") == 0,
                  "green_environ_get(env, \"HTTP_X_CUSTOM\") should find \"forty two\", got \"%s\"",
                  seen.x_custom);
    stop();
}
END_TEST

START_TEST(test_body)
{
    start();
    send_request("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nConnection: close\r\n\r\nping");
    must_succeed("POST with a body of 4 bytes");
    ck_assert_msg(seen.content_length == 4, "Content-Length: 4 should give env.content_length 4, "
                  "got %lld; " KIT_LESSON(LESSON, "Building the environ"), seen.content_length);
    ck_assert_msg(strcmp(seen.body, "ping") == 0, "green_input_read(env.input) should give the "
                  "body \"ping\", got \"%s\"; " KIT_LESSON(LESSON, "Building the environ"), seen.body);
    send_request("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    must_succeed("GET without a body");
    ck_assert_msg(seen.content_length == -1, "without Content-Length, env.content_length should "
                  "be -1, got %lld", seen.content_length);
    ck_assert_msg(strcmp(seen.body, "") == 0, "a request without a body should read as empty, got \"%s\"",
                  seen.body);
    stop();
}
END_TEST

static Suite *environ_suite(void)
{
    Suite *s = suite_create("10-evhttp/environ");
    TCase *tc = kit_tcase("environ");
    tcase_add_test(tc, test_decode);
    tcase_add_test(tc, test_decode_refuses);
    tcase_add_test(tc, test_methods);
    tcase_add_test(tc, test_path_and_query);
    tcase_add_test(tc, test_bad_path_is_einval);
    tcase_add_test(tc, test_protocol_and_remote);
    tcase_add_test(tc, test_headers);
    tcase_add_test(tc, test_body);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(environ_suite()); }
