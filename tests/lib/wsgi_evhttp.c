/*
 * tests/lib/wsgi_evhttp.c - the library's own tests of wsgi_evhttp.h, over
 * the wire: chapter 9's demo application on evhttp, on 127.0.0.1 port 0,
 * driven by raw-socket clients that are greenlets of the same process
 * (the server's callbacks and the clients share the hub).
 *
 * Every wait is bounded (green_recv timeouts, joins with timeouts), and
 * every test frees its server and ends with green_hub_destroy().
 */
#include "harness.h"
#include "green.h"
#include "../../chapters/09-wsgi/demo_app.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>


#define IO_TIMEOUT 5.0

static green_evhttp_t *srv;
static char port[16];

static void start_limited(green_app_t *app, size_t max_body, double timeout)
{
    green_evhttp_options_t opt = { .limits.max_body = (long long)max_body,
                                   .idle_timeout = timeout };
    srv = green_evhttp_new("127.0.0.1", "0", app, &opt);
    ck_assert_ptr_nonnull(srv);
    int rc = green_server_start(green_evhttp_core(srv));
    ck_assert_msg(rc == 0, "green_server_start on 127.0.0.1:0 (evhttp) failed: %s", strerror(errno));
    ck_assert_msg(green_server_port(green_evhttp_core(srv)) > 0, "green_server_port should give the port the kernel chose");
    snprintf(port, sizeof port, "%d", green_server_port(green_evhttp_core(srv)));
}

static void start_with(green_app_t *app, size_t max_body)
{
    start_limited(app, max_body, 0);
}

static void finish(void)
{
    green_evhttp_free(srv);
    srv = NULL;
    green_hub_destroy();
}

/* ---- A raw HTTP client -------------------------------------------------- */

/* One response as it came off the wire. */
struct reply {
    char head[4096];              /* status line and headers */
    char body[8192];
    size_t len;                   /* of body */
    int code;
};

/* Bytes received but not yet parsed, per connection (tests use one at a
 * time per greenlet, so a small table keyed by fd is enough). */
struct pending { char data[16384]; size_t len; };
static struct pending pend[256];

static int connect_server(void)
{
    int fd = green_tcp_connect("127.0.0.1", port, IO_TIMEOUT);
    if (fd >= (int)(sizeof pend / sizeof pend[0])) {
        close(fd);
        return -1;
    }
    if (fd >= 0)
        pend[fd].len = 0;
    return fd;
}

/* The value of header `name` in r->head, copied to buf, or NULL. */
static const char *header(const struct reply *r, const char *name, char *buf, size_t size)
{
    size_t n = strlen(name);
    for (const char *line = strstr(r->head, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        const char *h = line + 2;
        if (strncasecmp(h, name, n) == 0 && h[n] == ':') {
            h += n + 1;
            while (*h == ' ')
                h++;
            size_t len = strcspn(h, "\r");
            if (len >= size)
                len = size - 1;
            memcpy(buf, h, len);
            buf[len] = '\0';
            return buf;
        }
    }
    return NULL;
}


/* Read one response from fd: head up to the blank line, then as many body
 * bytes as Content-Length says (all until EOF when it says nothing).
 * `head_only` (HEAD): no body follows.  Returns 0, or -1 (timeout, EOF
 * before a whole response). */
static int read_reply(int fd, struct reply *r, int head_only)
{
    struct pending *p = &pend[fd];
    memset(r, 0, sizeof *r);
    char *end;
    while (!(end = memmem(p->data, p->len, "\r\n\r\n", 4))) {
        if (p->len == sizeof p->data)
            return -1;
        ssize_t n = green_recv(fd, p->data + p->len, sizeof p->data - p->len, IO_TIMEOUT);
        if (n <= 0)
            return -1;
        p->len += (size_t)n;
    }
    size_t head_len = (size_t)(end - p->data) + 2;
    memcpy(r->head, p->data, head_len < sizeof r->head ? head_len : sizeof r->head - 1);
    r->code = atoi(r->head + 9);
    size_t used = head_len + 2;
    char cl[32];
    long long want = head_only ? 0 : header(r, "Content-Length", cl, sizeof cl) ? atoll(cl) : -1;
    for (;;) {
        size_t have = p->len - used;
        if (want >= 0 && have >= (size_t)want)
            break;
        if (p->len == sizeof p->data)
            return -1;
        ssize_t n = green_recv(fd, p->data + p->len, sizeof p->data - p->len, IO_TIMEOUT);
        if (n < 0)
            return -1;
        if (n == 0) {
            if (want >= 0)
                return -1;
            want = (long long)have;
            break;
        }
        p->len += (size_t)n;
    }
    r->len = (size_t)want < sizeof r->body ? (size_t)want : sizeof r->body - 1;
    memcpy(r->body, p->data + used, r->len);
    used += (size_t)want;
    memmove(p->data, p->data + used, p->len - used);
    p->len -= used;
    return 0;
}

/* Send `request` on a new connection and read one reply.  Returns the
 * status code, or -1. */
static int ask(const char *request, struct reply *r)
{
    int fd = connect_server();
    if (fd < 0)
        return -1;
    pend[fd].len = 0;
    int rc = -1;
    if (green_sendall(fd, request, strlen(request), IO_TIMEOUT) >= 0 &&
        read_reply(fd, r, strncmp(request, "HEAD ", 5) == 0) == 0)
        rc = r->code;
    close(fd);
    return rc;
}

/* ---- The demo application's routes -------------------------------------- */

START_TEST(test_hello)
{
    start_with(&demo_app, 0);
    struct reply r;
    char v[64];
    int code = ask("GET / HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    ck_assert_msg(code == 200, "GET / should be 200, got %d:\n%s", code, r.head);
    ck_assert_msg(r.len == 13 && memcmp(r.body, "Hello, World!", 13) == 0,
                  "GET / should answer 'Hello, World!', got '%s'", r.body);
    ck_assert_msg(header(&r, "Content-Length", v, sizeof v) && strcmp(v, "13") == 0,
                  "GET / should say Content-Length: 13:\n%s", r.head);
    ck_assert_msg(header(&r, "Content-Type", v, sizeof v) && strcmp(v, "text/plain") == 0,
                  "the app's Content-Type should be sent, and only it:\n%s", r.head);
    ck_assert_msg(!header(&r, "Server", v, sizeof v),
                  "no Server header should be sent (it names versions):\n%s", r.head);
    ck_assert_msg(!header(&r, "Transfer-Encoding", v, sizeof v), "a buffered body is not chunked");
    finish();
}
END_TEST

START_TEST(test_head)
{
    start_with(&demo_app, 0);
    int fd = connect_server();
    ck_assert_int_ge(fd, 0);
    pend[fd].len = 0;
    /* HEAD then GET on one connection: a HEAD reply with a body would
     * show up as garbage in front of the GET's status line. */
    const char *two = "HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n";
    ck_assert_int_ge(green_sendall(fd, two, strlen(two), IO_TIMEOUT), 0);
    struct reply r;
    char v[64];
    ck_assert_msg(read_reply(fd, &r, 1) == 0 && r.code == 200, "HEAD / should be 200:\n%s", r.head);
    ck_assert_msg(header(&r, "Content-Length", v, sizeof v) && strcmp(v, "13") == 0,
                  "HEAD / should say the Content-Length a GET would have (13):\n%s", r.head);
    ck_assert_msg(read_reply(fd, &r, 0) == 0 && r.code == 200 && r.len == 13,
                  "the GET after a HEAD should be answered cleanly (a HEAD must send no body), got:\n%s%s",
                  r.head, r.body);
    close(fd);
    finish();
}
END_TEST

START_TEST(test_echo)
{
    start_with(&demo_app, 0);
    struct reply r;
    int code = ask("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world", &r);
    ck_assert_msg(code == 200 && r.len == 11 && memcmp(r.body, "hello world", 11) == 0,
                  "POST /echo should send the body back, got %d '%s'", code, r.body);
    /* evhttp decodes a chunked request body before the app sees it. */
    code = ask("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", &r);
    ck_assert_msg(code == 200 && r.len == 11 && memcmp(r.body, "hello world", 11) == 0,
                  "a chunked POST /echo should send the decoded body back, got %d '%s'", code, r.body);
    finish();
}
END_TEST

START_TEST(test_stream_is_buffered)
{
    start_with(&demo_app, 0);
    struct reply r;
    char v[64];
    int code = ask("GET /stream?n=5 HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    const char *want = "chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n";
    ck_assert_msg(code == 200 && r.len == strlen(want) && memcmp(r.body, want, r.len) == 0,
                  "GET /stream?n=5 should send 5 lines, got %d '%s'", code, r.body);
    ck_assert_msg(header(&r, "Content-Length", v, sizeof v) && atoi(v) == (int)strlen(want),
                  "the generator's body should be buffered and sent with Content-Length: %zu:\n%s",
                  strlen(want), r.head);
    ck_assert_msg(!header(&r, "Transfer-Encoding", v, sizeof v),
                  "this adapter does not stream: no chunked encoding expected:\n%s", r.head);
    finish();
}
END_TEST

START_TEST(test_not_found)
{
    start_with(&demo_app, 0);
    struct reply r;
    ck_assert_int_eq(ask("GET /nope HTTP/1.1\r\nHost: t\r\n\r\n", &r), 404);
    ck_assert_int_eq(ask("DELETE / HTTP/1.1\r\nHost: t\r\n\r\n", &r), 404);
    finish();
}
END_TEST

/* ---- Concurrency ---------------------------------------------------------- */

static int sleeper_code[2];

/* The demo app, counting the calls at work at once: the test's measure of
 * "a greenlet per request", the same on a fast, a slow or a loaded
 * machine (two calls of /sleep at once: they overlap). */
static int in_app, most_in_app;

static green_body_t counting_call(green_app_t *self, green_environ_t *env,
                                  green_response_t *resp)
{
    (void)self;
    if (++in_app > most_in_app)
        most_in_app = in_app;
    green_body_t body = green_app_call(&demo_app, env, resp);
    in_app--;
    return body;
}

static green_app_t counting_app = { counting_call };

static void *sleeper(void *arg)
{
    int *code = arg;
    struct reply r;
    *code = ask("GET /sleep?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    return NULL;
}

START_TEST(test_two_sleeps_overlap)
{
    start_with(&counting_app, 0);
    in_app = most_in_app = 0;
    double t0 = green_now();
    green_t *a = green_spawn(sleeper, &sleeper_code[0]);
    green_t *b = green_spawn(sleeper, &sleeper_code[1]);
    green_t *both[] = { a, b };
    ck_assert_int_eq(green_joinall(both, 2, IO_TIMEOUT), 0);
    double took = green_now() - t0;
    ck_assert_msg(sleeper_code[0] == 200 && sleeper_code[1] == 200,
                  "both /sleep?ms=300 should be 200, got %d and %d", sleeper_code[0], sleeper_code[1]);
    ck_assert_msg(took >= 0.29, "two /sleep?ms=300 took %.3f s, less than one sleep", took);
    ck_assert_msg(most_in_app == 2, "two concurrent /sleep?ms=300 should run at the same time "
                  "(a greenlet per request), at most %d did (took %.3f s)", most_in_app, took);
    green_free(a);
    green_free(b);
    finish();
}
END_TEST

/* Keep-alive and pipelining: evhttp 2.1 answers requests sent in one
 * write, in order, one after the other (the second is read only once the
 * first is answered). */
START_TEST(test_pipelined_in_order)
{
    start_with(&demo_app, 0);
    int fd = connect_server();
    ck_assert_int_ge(fd, 0);
    pend[fd].len = 0;
    const char *three = "GET /sleep?ms=100 HTTP/1.1\r\nHost: t\r\n\r\n"
                        "GET /stream?n=1 HTTP/1.1\r\nHost: t\r\n\r\n"
                        "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
    ck_assert_int_ge(green_sendall(fd, three, strlen(three), IO_TIMEOUT), 0);
    const char *want[] = { "slept", "chunk 0\n", "Hello, World!" };
    for (int i = 0; i < 3; i++) {
        struct reply r;
        ck_assert_msg(read_reply(fd, &r, 0) == 0, "pipelined response %d of 3 did not come", i + 1);
        ck_assert_msg(r.code == 200 && strcmp(r.body, want[i]) == 0,
                      "pipelined response %d should be '%s', got %d '%s'", i + 1, want[i], r.code, r.body);
    }
    close(fd);
    finish();
}
END_TEST

/* An idle connection (a keep-alive one after its response, or one that
 * never sends a whole request) is closed after the timeout. */
START_TEST(test_idle_timeout)
{
    start_limited(&demo_app, 0, 1);
    int fd = connect_server();
    ck_assert_int_ge(fd, 0);
    const char *req = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
    ck_assert_int_ge(green_sendall(fd, req, strlen(req), IO_TIMEOUT), 0);
    struct reply r;
    ck_assert_int_eq(read_reply(fd, &r, 0), 0);
    double t0 = green_now();
    char c;
    ssize_t n = green_recv(fd, &c, 1, IO_TIMEOUT);
    double idle = green_now() - t0;
    ck_assert_msg(n == 0 && idle > 0.5 && idle < 4.0, "an idle keep-alive connection should be "
                  "closed after the 1 s timeout: recv gave %zd after %.2f s", n, idle);
    close(fd);

    fd = connect_server();        /* half a request, then silence */
    ck_assert_int_ge(green_sendall(fd, "GET / HT", 8, IO_TIMEOUT), 0);
    t0 = green_now();
    while ((n = green_recv(fd, &c, 1, IO_TIMEOUT)) > 0)
        ;
    idle = green_now() - t0;
    ck_assert_msg(n == 0 && idle < 4.0, "a client that sends half a request and stops should be "
                  "dropped after the 1 s timeout: recv gave %zd after %.2f s", n, idle);
    close(fd);
    finish();
}
END_TEST

/* ---- The environ ------------------------------------------------------------- */

static char seen[10][128];
static long long seen_length;

static void note(int i, const char *s)
{
    snprintf(seen[i], sizeof seen[i], "%s", s ? s : "(null)");
}

static green_body_t recorder(green_app_t *self, green_environ_t *env, green_response_t *resp)
{
    (void)self;
    note(0, env->method);
    note(1, env->path);
    note(2, env->query);
    note(3, env->uri);
    note(4, env->protocol);
    note(5, env->remote_addr);
    note(6, env->server_port);
    note(7, green_environ_get(env, "HTTP_X_TEST"));
    char body[64];
    ssize_t n = green_input_read(env->input, body, sizeof body - 1);
    body[n > 0 ? n : 0] = '\0';
    note(8, body);
    seen_length = env->content_length;
    green_header_t h[] = { { "Content-Type", "text/plain" } };
    green_start_response(resp, "200 OK", h, 1);
    return green_body_str("ok");
}

static green_app_t recorder_app = { recorder };

START_TEST(test_environ)
{
    start_with(&recorder_app, 0);
    struct reply r;
    int code = ask("PUT /a%20b/c+d?x=1&y=%41 HTTP/1.0\r\nX-Test: yes\r\nContent-Length: 4\r\n\r\nbody", &r);
    ck_assert_int_eq(code, 200);
    ck_assert_str_eq(seen[0], "PUT");
    ck_assert_msg(strcmp(seen[1], "/a b/c+d") == 0, "PATH_INFO should be percent-decoded "
                  "('+' stays '+' in a path): '/a b/c+d', got '%s'", seen[1]);
    ck_assert_msg(strcmp(seen[2], "x=1&y=%41") == 0, "QUERY_STRING should be as sent, got '%s'", seen[2]);
    ck_assert_str_eq(seen[3], "/a%20b/c+d?x=1&y=%41");
    ck_assert_str_eq(seen[4], "HTTP/1.0");
    ck_assert_str_eq(seen[5], "127.0.0.1");
    ck_assert_str_eq(seen[6], port);
    ck_assert_str_eq(seen[7], "yes");
    ck_assert_str_eq(seen[8], "body");
    ck_assert_int_eq(seen_length, 4);
    finish();
}
END_TEST

/* Nothing is sent before the body has been walked, so a generator may
 * still replace the status (WSGI's exc_info case). */
struct late_error {
    green_gen_t gen;
    green_response_t *resp;
    green_chunk_t chunk;
};

static int late_error_step(green_gen_t *g)
{
    struct late_error *e = (struct late_error *)g;
    GREEN_GEN_BEGIN(g);
    e->chunk = (green_chunk_t){ "half ", 5 };
    GREEN_GEN_YIELD(g, &e->chunk);
    green_start_response(e->resp, "500 Internal Server Error", NULL, 0);
    e->chunk = (green_chunk_t){ "failed", 6 };
    GREEN_GEN_YIELD(g, &e->chunk);
    GREEN_GEN_END(g);
}

static struct late_error late;

static green_body_t late_error_app(green_app_t *self, green_environ_t *env, green_response_t *resp)
{
    (void)self, (void)env;
    green_start_response(resp, "200 OK", NULL, 0);
    late.resp = resp;
    green_gen_init(&late.gen, late_error_step);
    return green_body_gen(&late.gen, NULL, NULL);
}

static green_app_t late_app = { late_error_app };

START_TEST(test_status_replaced_while_buffering)
{
    start_with(&late_app, 0);
    struct reply r;
    int code = ask("GET / HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    ck_assert_msg(code == 500, "a generator that calls start_response again before anything "
                  "is sent should change the status: expected 500, got %d", code);
    ck_assert_str_eq(r.body, "half failed");
    finish();
}
END_TEST

/* ---- Errors -------------------------------------------------------------------- */

static green_body_t silent(green_app_t *self, green_environ_t *env, green_response_t *resp)
{
    (void)self, (void)env, (void)resp;
    return green_body_str("never started");
}

static green_app_t silent_app = { silent };

START_TEST(test_no_start_response_is_500)
{
    start_with(&silent_app, 0);
    struct reply r;
    struct kit_capture cap;
    char err[512];
    kit_capture_start(&cap);
    int code = ask("GET / HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    kit_capture_end(&cap, err, sizeof err);
    ck_assert_msg(code == 500, "an app that never calls start_response should give 500, got %d", code);
    ck_assert_msg(strstr(err, "never called green_start_response"), "the server should say why on stderr, said '%s'", err);
    finish();
}
END_TEST

/* A generator that yields half a body, then fails (the body it echoes
 * stopped coming): buffered, it must not go out as a whole 200. */
static struct { green_gen_t gen; green_chunk_t chunk; } cut;

static int cut_step(green_gen_t *g)
{
    GREEN_GEN_BEGIN(g);
    cut.chunk = (green_chunk_t){ "half a bo", 9 };
    GREEN_GEN_YIELD(g, &cut.chunk);
    cut.chunk = green_chunk_failure(ECONNRESET);
    GREEN_GEN_YIELD(g, &cut.chunk);
    GREEN_GEN_END(g);
}

static green_body_t cut_app_call(green_app_t *self, green_environ_t *env, green_response_t *resp)
{
    (void)self, (void)env;
    green_start_response(resp, "200 OK", NULL, 0);
    green_gen_init(&cut.gen, cut_step);
    return green_body_gen(&cut.gen, NULL, NULL);
}

static green_app_t cut_app = { cut_app_call };

START_TEST(test_failed_body_is_500)
{
    start_with(&cut_app, 0);
    struct reply r;
    int code = ask("GET / HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    ck_assert_msg(code == 500 && !strstr(r.body, "half a bo"),
                  "a body that failed half-way (green_chunk_failure) is not whole: nothing has been "
                  "sent yet, so expected a 500 without it, got %d '%s'; see lib/09-wsgi/wsgi.h, green_body_error",
                  code, r.body);
    finish();
}
END_TEST

START_TEST(test_body_over_limit_is_413)
{
    start_with(&demo_app, 1024);
    struct reply r;
    static char req[4096];
    int n = snprintf(req, sizeof req, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2000\r\n\r\n");
    memset(req + n, 'x', 2000);
    req[n + 2000] = '\0';
    int code = ask(req, &r);
    ck_assert_msg(code == 413, "a body of 2000 bytes over a limit of 1024 should give 413, got %d", code);
    ck_assert_int_eq(ask("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc", &r), 200);
    finish();
}
END_TEST

START_TEST(test_malformed_is_400_and_server_goes_on)
{
    start_with(&demo_app, 0);
    struct reply r;
    int code = ask("THIS IS NOT HTTP\r\n\r\n", &r);
    ck_assert_msg(code == 400, "a malformed request line should give 400, got %d", code);
    code = ask("GET /a%00b HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    ck_assert_msg(code == 400, "a path with an encoded NUL should give 400, got %d", code);
    code = ask("GET /%zz HTTP/1.1\r\nHost: t\r\n\r\n", &r);
    ck_assert_msg(code == 400, "a path with a bad escape should give 400, got %d", code);
    ck_assert_msg(ask("GET / HTTP/1.1\r\nHost: t\r\n\r\n", &r) == 200,
                  "after bad requests, a new connection should be served");
    finish();
}
END_TEST

/* Clients that hang up before their answer: the server must neither
 * crash nor leak, and goes on serving. */
START_TEST(test_client_hangs_up)
{
    start_with(&demo_app, 0);
    for (int i = 0; i < 5; i++) {
        int fd = connect_server();
        ck_assert_int_ge(fd, 0);
        const char *req = i % 2 ? "GET /sleep?ms=100 HTTP/1.1\r\nHost: t\r\n\r\n"
                                : "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc";
        ck_assert_int_ge(green_sendall(fd, req, strlen(req), IO_TIMEOUT), 0);
        green_sleep(0.01);
        close(fd);
    }
    green_sleep(0.2);             /* the sleeps end, their replies go nowhere */
    struct reply r;
    ck_assert_msg(ask("GET / HTTP/1.1\r\nHost: t\r\n\r\n", &r) == 200,
                  "after clients hung up mid-request, a new one should be served");
    ck_assert_int_eq(green_server_stop(green_evhttp_core(srv), 1.0), 0);
    finish();
}
END_TEST

/* evhttp writes with writev(): a write to a connection the client has
 * closed raises SIGPIPE, whose default action ends the server (it did,
 * under slowhttptest's slow-read attack in make bench-fair).  Starting a
 * server must leave it ignored: chapter 7's core does, for every server. */
START_TEST(test_start_ignores_sigpipe)
{
    signal(SIGPIPE, SIG_DFL);
    start_with(&demo_app, 0);
    struct sigaction sa;
    ck_assert_int_eq(sigaction(SIGPIPE, NULL, &sa), 0);
    ck_assert_msg(sa.sa_handler == SIG_IGN,
                  "after green_server_start, SIGPIPE should be ignored (SIG_IGN), or a client "
                  "that closes mid-response kills the server; got its default action "
                  "(see green_server_start in lib/07-servers/server.c)");
    finish();
}
END_TEST

/* ---- Stopping -------------------------------------------------------------------- */

static int late_code;

/* Wait (at most 5 s) until n requests are in progress on the server. */
static int wait_active(int n)
{
    for (int i = 0; i < 500 && green_server_active(green_evhttp_core(srv)) != n; i++)
        green_sleep(0.01);
    return green_server_active(green_evhttp_core(srv));
}

static void *late_client(void *arg)
{
    struct reply r;
    late_code = ask(arg, &r);
    return NULL;
}

START_TEST(test_graceful_stop)
{
    start_with(&demo_app, 0);
    late_code = 0;
    green_t *c = green_spawn(late_client, "GET /sleep?ms=200 HTTP/1.1\r\nHost: t\r\n\r\n");
    ck_assert_msg(wait_active(1) == 1, "the request should be in progress");
    int rc = green_server_stop(green_evhttp_core(srv), 2.0);
    ck_assert_msg(rc == 0, "stop should let the request finish (0 killed), got %d", rc);
    ck_assert_int_eq(green_join(c, IO_TIMEOUT), 0);
    ck_assert_msg(late_code == 200, "the request in progress at stop should still be answered, got %d", late_code);
    ck_assert_msg(green_tcp_connect("127.0.0.1", port, 1.0) < 0,
                  "after stop, new connections should be refused");
    green_free(c);
    finish();
}
END_TEST

START_TEST(test_stop_kills_after_grace)
{
    start_with(&demo_app, 0);
    green_t *c = green_spawn(late_client, "GET /sleep?ms=5000 HTTP/1.1\r\nHost: t\r\n\r\n");
    ck_assert_msg(wait_active(1) == 1, "the request should be in progress");
    struct kit_capture cap;
    char err[512];
    double t0 = green_now();
    kit_capture_start(&cap);
    int rc = green_server_stop(green_evhttp_core(srv), 0.1);
    kit_capture_end(&cap, err, sizeof err);
    ck_assert_msg(rc == 1, "stop with a 5 s request and 0.1 s of grace should kill 1, got %d", rc);
    ck_assert_msg(green_now() - t0 < 3.0, "stop should not wait for the 5 s request");
    ck_assert_int_eq(green_join(c, IO_TIMEOUT), 0);
    green_free(c);
    finish();
}
END_TEST

static void *raise_later(void *unused)
{
    (void)unused;
    green_sleep(0.05);
    raise(SIGUSR1);
    return NULL;
}

START_TEST(test_close_on_signal)
{
    start_with(&demo_app, 0);
    ck_assert_int_eq(green_server_close_on_signal(green_evhttp_core(srv), SIGUSR1), 0);
    green_t *g = green_spawn(raise_later, NULL);
    struct kit_capture cap;
    char err[512];
    kit_capture_start(&cap);
    int rc = green_server_serve_forever(green_evhttp_core(srv));
    kit_capture_end(&cap, err, sizeof err);
    ck_assert_msg(rc == 0, "serve_forever should return 0 after the signal");
    ck_assert_int_eq(green_server_port(green_evhttp_core(srv)), -1);
    ck_assert_int_eq(green_server_stop(green_evhttp_core(srv), 1.0), 0);
    green_join(g, IO_TIMEOUT);
    green_free(g);
    finish();
}
END_TEST

/* ---- Out of descriptors ---------------------------------------------------- */

enum { FD_CLIENTS = 30 };
static int fd_ok;

static void *fd_client(void *arg)
{
    (void)arg;
    struct reply r;
    if (ask("GET /sleep?ms=100 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", &r) == 200)
        fd_ok++;
    return NULL;
}

/* With few descriptors left, accept fails with EMFILE while clients wait.
 * evhttp alone would retry at once, hundreds of thousands of times a
 * second; the adapter backs off, and everybody is served in the end. */
START_TEST(test_emfile_backs_off)
{
    start_with(&demo_app, 0);
    int probe = dup(0);           /* the lowest free descriptor */
    ck_assert_int_ge(probe, 0);
    close(probe);
    /* Room for the clients' sockets and a third as many accepted ones. */
    struct rlimit lim = { (rlim_t)(probe + FD_CLIENTS + FD_CLIENTS / 3), 0 };
    struct rlimit old;
    getrlimit(RLIMIT_NOFILE, &old);
    lim.rlim_max = old.rlim_max;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &lim), 0);

    fd_ok = 0;
    struct kit_capture cap;
    char err[2048];
    kit_capture_start(&cap);
    green_group_t *clients = green_group_new();
    for (int i = 0; i < FD_CLIENTS; i++)
        green_group_spawn(clients, fd_client, NULL);
    int rc = green_group_join(clients, kit_valgrind() ? 30.0 : 9.0);
    green_group_free(clients);
    green_server_close(green_evhttp_core(srv));      /* says how many accepts failed */
    kit_capture_end(&cap, err, sizeof err);
    setrlimit(RLIMIT_NOFILE, &old);

    /* Valgrind closes descriptors above its own limit as soon as the
     * kernel makes them: under Valgrind some connections are lost before
     * the server sees them, so only the back-off is checked then. */
    if (!kit_valgrind())
        ck_assert_msg(rc == 0 && fd_ok == FD_CLIENTS, "with descriptors short, all %d clients "
                      "should still be served (they wait in the backlog), %d were; stderr:\n%s",
                      FD_CLIENTS, fd_ok, err);
    const char *failed = strstr(err, "accept(s) failed");
    ck_assert_msg(strstr(err, "backing off"), "running out of descriptors should be reported "
                  "once, with 'backing off'; stderr:\n%s", err);
    long n = 0;
    if (failed) {
        const char *p = failed;
        while (p > err && p[-1] == ' ')
            p--;
        while (p > err && p[-1] >= '0' && p[-1] <= '9')
            p--;
        n = atol(p);
    }
    ck_assert_msg(failed && n > 0 && n < 200, "a server out of descriptors should retry accept "
                  "a few times (back-off), not spin: %ld failed accepts; stderr:\n%s", n, err);
    finish();
}
END_TEST

/* ---- Request smuggling ---------------------------------------------------
 * A request whose framing is ambiguous must be refused before the app
 * runs, and the connection closed: whatever follows on it could be read
 * as a request of its own by one server and as a body by another. */

/* Send `raw` on a new connection; read one reply into r (its code, or -1),
 * then wait up to `wait` s for the server to close.  Returns 1 if it
 * closed with nothing more sent, 0 if more bytes came (a second reply),
 * -1 if it kept the connection open. */
static int refused(const char *raw, struct reply *r, double wait)
{
    int fd = connect_server();
    ck_assert_int_ge(fd, 0);
    ck_assert_int_ge(green_sendall(fd, raw, strlen(raw), IO_TIMEOUT), 0);
    if (read_reply(fd, r, 0) != 0)
        r->code = -1;
    int closed = -1;
    if (pend[fd].len > 0)
        closed = 0;
    else {
        char more[512];
        ssize_t n = green_recv(fd, more, sizeof more, wait);
        closed = n == 0 ? 1 : n > 0 ? 0 : -1;
    }
    close(fd);
    return closed;
}

START_TEST(test_two_content_lengths_are_400)
{
    start_with(&demo_app, 0);
    struct reply r;
    /* The first length ends the body after "hello"; the rest would be a
     * request of its own, which must never be answered. */
    const char *raw = "POST /echo HTTP/1.1\r\nHost: t\r\n"
                      "Content-Length: 5\r\nContent-Length: 40\r\n\r\n"
                      "helloGET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n";
    int closed = refused(raw, &r, 2.0);
    ck_assert_msg(r.code == 400, "two Content-Length headers that disagree should "
                  "give 400 (chapter 11 and nginx do), got %d:\n%s", r.code, r.head);
    ck_assert_msg(closed == 1, "after the 400 the server should close the connection "
                  "and answer nothing more (the smuggled GET): %s",
                  closed == 0 ? "it sent more" : "it kept the connection open");
    ck_assert_int_eq(ask("GET / HTTP/1.1\r\nHost: t\r\n\r\n", &r), 200);
    finish();
}
END_TEST

START_TEST(test_unknown_transfer_encoding_is_501)
{
    start_with(&demo_app, 0);
    struct reply r;
    const char *raw = "POST /echo HTTP/1.1\r\nHost: t\r\n"
                      "Transfer-Encoding: xchunked\r\n\r\n"
                      "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n";
    int closed = refused(raw, &r, 2.0);
    ck_assert_msg(r.code == 501 || r.code == 400, "Transfer-Encoding: xchunked should give "
                  "501 (a coding the server does not know), got %d:\n%s", r.code, r.head);
    ck_assert_msg(closed == 1, "after the %d the server should close the connection and "
                  "answer nothing more (the body read as a GET): %s", r.code,
                  closed == 0 ? "it sent more" : "it kept the connection open");
    finish();
}
END_TEST

/* A chunked body with a trailer is valid (the adapter's guard reads the
 * trailer and drops it, as chapter 11 does). */
START_TEST(test_chunked_with_trailer_is_200)
{
    start_with(&demo_app, 0);
    struct reply r;
    const char *raw = "POST /echo HTTP/1.1\r\nHost: t\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n"
                      "5\r\nhello\r\n0\r\nX-Checksum: 42\r\n\r\n";
    int code = ask(raw, &r);
    ck_assert_msg(code == 200, "a chunked body with a trailer is valid HTTP/1.1 and "
                  "should be 200, got %d:\n%s", code, r.head);
    ck_assert_msg(r.len == 5 && memcmp(r.body, "hello", 5) == 0,
                  "/echo should send the body back, got '%s'", r.body);
    finish();
}
END_TEST

/* Chunk data that runs past its size: evhttp 2.1 alone never checks the
 * CRLF after a chunk's data, so it waited for 0xAAAA more bytes until the
 * idle timeout, answered 413, or took "hello0" for a whole body and ran
 * the application.  The adapter's guard must answer 400 and close, at
 * once, and the server must go on. */
START_TEST(test_overrun_chunk_is_400)
{
    start_with(&demo_app, 0);
    static const struct { const char *body, *what; } bad[] = {
        { "5\r\nhelloAAAA\r\n0\r\n\r\n", "helloAAAA: hex after the data, read as a size" },
        { "5\r\nhelloXXXX\r\n0\r\n\r\n", "helloXXXX: stray bytes after the data" },
        { "5\r\nhello0\r\n\r\n", "hello0: no CRLF after the data" },
        { "5\r\nhello\r\n\r\n0\r\n\r\n", "an empty line where a size goes" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char raw[256];
        snprintf(raw, sizeof raw, "POST /echo HTTP/1.1\r\nHost: t\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n%s", bad[i].body);
        struct reply r;
        double t0 = green_now();
        int closed = refused(raw, &r, 2.0);
        double took = green_now() - t0;
        ck_assert_msg(r.code == 400, "a chunk whose data runs past its size (%s) should "
                      "give 400 at once (" KIT_LESSON("chapters/10-evhttp/README.md",
                      "Ambiguous bodies: request smuggling") "), got %d after %.1f s%s%s", bad[i].what, r.code, took,
                      r.code < 0 ? ": no answer, evhttp is still waiting for the chunk" : ":\n",
                      r.code < 0 ? "" : r.head);
        ck_assert_msg(closed == 1, "after the 400 the server should close the "
                      "connection (%s): %s", bad[i].what,
                      closed == 0 ? "it sent more" : "it kept it open");
        ck_assert_msg(took < 2.5, "the 400 should come at once (%s), it took %.1f s",
                      bad[i].what, took);
    }
    struct reply r;
    ck_assert_msg(ask("GET / HTTP/1.1\r\nHost: t\r\n\r\n", &r) == 200,
                  "after refusing bad chunks, a new connection should be served");
    finish();
}
END_TEST

/* RFC 9112 section 7.1.1: a server ignores chunk extensions it does not
 * know.  evhttp 2.1 alone answered 413 (its size parser stops at ';'). */
START_TEST(test_chunk_extension_is_ignored)
{
    start_with(&demo_app, 0);
    struct reply r;
    const char *raw = "POST /echo HTTP/1.1\r\nHost: t\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n"
                      "5;name=value\r\nhello\r\n6 ; x=\"y\"\r\n world\r\n0;last\r\n\r\n";
    int code = ask(raw, &r);
    ck_assert_msg(code == 200, "chunk extensions (\"5;name=value\") are valid HTTP/1.1 "
                  "and should be ignored, got %d:\n%s", code, r.head);
    ck_assert_msg(r.len == 11 && memcmp(r.body, "hello world", 11) == 0,
                  "/echo should send the body back without the extensions, got '%s'", r.body);
    finish();
}
END_TEST

/* evhttp 2.1 reads no body for HEAD: with one, the body would be read as
 * the next request.  Refused. */
START_TEST(test_head_with_body_is_400)
{
    start_with(&demo_app, 0);
    struct reply r;
    const char *raw = "HEAD / HTTP/1.1\r\nHost: t\r\nContent-Length: 38\r\n\r\n"
                      "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n";
    int closed = refused(raw, &r, 2.0);
    ck_assert_msg(r.code == 400, "HEAD with a body should give 400 (evhttp would read "
                  "the body as a request), got %d:\n%s", r.code, r.head);
    ck_assert_msg(closed == 1, "after the 400 the server should close the connection: %s",
                  closed == 0 ? "it sent more (the smuggled GET?)" : "it kept it open");
    finish();
}
END_TEST

/* Replies go out through the adapter's guard (a filter bufferevent): a
 * client that reads a large reply slowly, for longer than the idle
 * timeout but never stalling that long, must get all of it. */
START_TEST(test_slow_reader_gets_whole_reply)
{
    start_limited(&demo_app, 0, 1);       /* 1 s idle timeout */
    int fd = connect_server();
    ck_assert_int_ge(fd, 0);
    const char *req = "GET /stream?n=100000 HTTP/1.0\r\n\r\n";
    ck_assert_int_ge(green_sendall(fd, req, strlen(req), IO_TIMEOUT), 0);
    static char buf[8192];
    char tail[16] = "";
    size_t total = 0;
    double t0 = green_now();
    ssize_t n;
    while ((n = green_recv(fd, buf, sizeof buf, IO_TIMEOUT)) > 0) {
        total += (size_t)n;
        size_t keep = (size_t)n < sizeof tail - 1 ? (size_t)n : sizeof tail - 1;
        memmove(tail, tail + keep, sizeof tail - 1 - keep);
        memcpy(tail + sizeof tail - 1 - keep, buf + n - keep, keep);
        green_sleep(0.01);                /* about 0.8 MB/s: over 1 s */
    }
    close(fd);
    double took = green_now() - t0;
    ck_assert_msg(strstr(tail, "chunk 99999\n") != NULL, "a slow reader should get the "
                  "whole reply (%zu bytes came in %.1f s, ending '%s'): the guard must "
                  "write it out and keep the write timeout alive while it does", total, took, tail);
    finish();
}
END_TEST

static Suite *wsgi_evhttp_suite(void)
{
    Suite *s = suite_create("lib/wsgi_evhttp");
    TCase *tc = kit_tcase("wsgi_evhttp");
    tcase_add_test(tc, test_hello);
    tcase_add_test(tc, test_head);
    tcase_add_test(tc, test_echo);
    tcase_add_test(tc, test_stream_is_buffered);
    tcase_add_test(tc, test_not_found);
    tcase_add_test(tc, test_two_sleeps_overlap);
    tcase_add_test(tc, test_pipelined_in_order);
    tcase_add_test(tc, test_idle_timeout);
    tcase_add_test(tc, test_environ);
    tcase_add_test(tc, test_no_start_response_is_500);
    tcase_add_test(tc, test_failed_body_is_500);
    tcase_add_test(tc, test_status_replaced_while_buffering);
    tcase_add_test(tc, test_body_over_limit_is_413);
    tcase_add_test(tc, test_malformed_is_400_and_server_goes_on);
    tcase_add_test(tc, test_two_content_lengths_are_400);
    tcase_add_test(tc, test_unknown_transfer_encoding_is_501);
    tcase_add_test(tc, test_chunked_with_trailer_is_200);
    tcase_add_test(tc, test_overrun_chunk_is_400);
    tcase_add_test(tc, test_chunk_extension_is_ignored);
    tcase_add_test(tc, test_head_with_body_is_400);
    tcase_add_test(tc, test_slow_reader_gets_whole_reply);
    tcase_add_test(tc, test_client_hangs_up);
    tcase_add_test(tc, test_start_ignores_sigpipe);
    tcase_add_test(tc, test_graceful_stop);
    tcase_add_test(tc, test_stop_kills_after_grace);
    tcase_add_test(tc, test_emfile_backs_off);
    if (kit_can_fork())
        tcase_add_test(tc, test_close_on_signal);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(wsgi_evhttp_suite()); }
