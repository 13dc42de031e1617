/*
 * tests/lib/https.c - the library's own tests of http.h over TLS: chapter
 * 11's server with a server context (options.tls), driven by three
 * clients: the kit's own (tests/lib/http_client.h's over tls.h, in this
 * process), curl and openssl s_client (children).  What tests/lib/http.c
 * proves over TCP is proved here over TLS where TLS changes the code
 * path: keep-alive, pipelining (requests already decrypted inside
 * OpenSSL), chunked both ways, 100 Continue, limits, static files (no
 * sendfile), a graceful stop, a takeover; and what only TLS has: a plain
 * HTTP request on the TLS port, garbage, cut and stalled handshakes, a
 * client that leaves without close_notify, ALPN, wsgi.url_scheme.
 *
 * The certificates are made when the program starts by tests/tls-certs.sh
 * (a CA, and a certificate for localhost, 127.0.0.1 and ::1 signed by
 * it), in a temporary folder removed at the end: no key is committed.
 */
#include "harness.h"
#include "green.h"
#include "http.h"
#include "tls.h"
#include "../../chapters/09-wsgi/demo_app.h"
#include "http_client.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ssl.h>

#define LESSON "chapters/11-http/README.md"
#define SECTION "HTTPS: the same server over TLS"

/* ---- Certificates, made once for the whole program ---------------------- */

/* tests/tls-certs.sh's CA and localhost certificate (harness.h's
 * kit_tls_certs), made by an unchecked fixture: in the parent, before
 * the tests fork, so one set serves them all. */
static char ca_pem[96], cert_pem[96], key_pem[96];

static void find_certs(void)
{
    const char *dir = kit_tls_certs();
    snprintf(ca_pem, sizeof ca_pem, "%s/ca.pem", dir);
    snprintf(cert_pem, sizeof cert_pem, "%s/cert.pem", dir);
    snprintf(key_pem, sizeof key_pem, "%s/key.pem", dir);
}

/* ---- The server ----------------------------------------------------------- */

static green_http_server_t *srv;
static green_tls_ctx_t *server_tls;

static void start_with(green_app_t *app, green_http_options_t *given)
{
    green_http_options_t opt = given ? *given : (green_http_options_t){ 0 };
    server_tls = green_tls_server_ctx(cert_pem, key_pem);
    ck_assert_msg(server_tls != NULL, "green_tls_server_ctx(%s, %s) failed: %s", cert_pem,
                  key_pem, errno == EPROTO ? green_tls_error() : strerror(errno));
    /* The kit's client trusts our CA only, and offers ALPN as curl does. */
    client_tls = green_tls_client_ctx(ca_pem);
    ck_assert_msg(client_tls != NULL, "green_tls_client_ctx failed: %s", strerror(errno));
    static const unsigned char alpn[] = "\x08http/1.1";
    SSL_CTX_set_alpn_protos(green_tls_ctx_ssl(client_tls), alpn, sizeof alpn - 1);
    opt.tls = server_tls;
    srv = green_http_server_new("127.0.0.1", "0", app, &opt);
    ck_assert_msg(srv != NULL, "green_http_server_new failed: %s", strerror(errno));
    ck_assert_msg(green_server_start(green_http_server_core(srv)) == 0, "start failed: %s",
                  strerror(errno));
    snprintf(port, sizeof port, "%d", green_server_port(green_http_server_core(srv)));
}

static void start(void)
{
    start_with(&demo_app, NULL);
}

static void free_all(void)
{
    green_http_server_free(srv);
    green_tls_ctx_free(server_tls);
    green_tls_ctx_free(client_tls);
    green_hub_destroy();
}

static void finish(void)
{
    int rc = green_server_stop(green_http_server_core(srv), 2.0);
    ck_assert_msg(rc == 0, "stop should find no connection to kill, killed %d", rc);
    free_all();
}

/* ---- The kit's own HTTPS client: http_client.h's, over TLS ---------------- */

/* Leave without a word: no close_notify (a "ragged EOF"). */
static void drop(struct client *c)
{
    green_tls_free(c->tls);
    close(c->fd);
    free(c);
}

/* The server has closed c the TLS way, with close_notify; `should` says
 * when it should have. */
static void expect_close_notify(struct client *c, const char *should)
{
    ssize_t n = more(c, T);
    ck_assert_msg(n == 0 && green_tls_clean_eof(c->tls), "%s (got %zd, clean %d)", should, n,
                  green_tls_clean_eof(c->tls));
}

/* The server still serves a new TLS client (after some abuse). */
static void still_serving(const char *after)
{
    struct reply *r = ask("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    ck_assert_msg(r->code == 200, "after %s, the next TLS client should get 200, got %d; "
                  KIT_LESSON(LESSON, SECTION), after, r->code);
    BODY_IS(r, "Hello, World!");
}

/* ---- Raw TCP clients: what is not TLS, or TLS gone wrong ------------------- */

static int raw_dial(void)
{
    int fd = green_tcp_connect("127.0.0.1", port, T);
    ck_assert_msg(fd >= 0, "cannot connect to the server: %s", strerror(errno));
    return fd;
}

/* Read fd until the server closes it (EOF or reset), at most `t` s; what
 * came into buf (NUL-terminated).  1 when it closed, 0 when it did not. */
static int raw_until_closed(int fd, double t, char *buf, size_t size)
{
    size_t len = 0;
    double end = green_now() + t;
    while (green_now() < end) {
        char scratch[4096];
        ssize_t n = green_recv(fd, scratch, sizeof scratch, end - green_now());
        if (n == 0 || (n < 0 && errno != ETIMEDOUT)) {
            buf[len] = '\0';
            return 1;
        }
        if (n < 0)
            break;
        size_t keep = len + (size_t)n < size - 1 ? (size_t)n : size - 1 - len;
        memcpy(buf + len, scratch, keep);
        len += keep;
    }
    buf[len] = '\0';
    return 0;
}

/* ---- Children: curl and openssl s_client ------------------------------------ */

/* Run `cmd` with sh in a child process, its stdout and stderr into out
 * (NUL-terminated), while the hub goes on serving: the server under test
 * lives in this very process, so the pipe is read with a green wait,
 * never a blocking read.  Returns the command's exit status, or -1 (it
 * ran past `timeout`: killed). */
static int run(const char *cmd, char *out, size_t size, double timeout)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(p[1], 1);
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    green_fd_nonblock(p[0]);
    size_t len = 0;
    double end = green_now() + timeout;
    int timed_out = 0;
    for (;;) {
        ssize_t n = read(p[0], out + len, size - 1 - len);
        if (n > 0 && (len += (size_t)n) < size - 1)
            continue;
        if (n > 0 || n == 0)
            break;              /* full, or the end */
        if (errno != EAGAIN || green_wait_read(p[0], end - green_now()) < 0) {
            timed_out = errno == ETIMEDOUT;
            break;
        }
    }
    out[len] = '\0';
    close(p[0]);
    if (timed_out)
        kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return timed_out || !WIFEXITED(status) ? -1 : WEXITSTATUS(status);
}

static char tool_out[1 << 16];

/* curl with our CA, against https://localhost:PORT/PATH; `extra` goes
 * before the URL.  Its exit status; what it printed is in tool_out. */
static int curl(const char *extra, const char *path)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "curl -sS --max-time 10 --cacert %s %s https://localhost:%s%s",
             ca_pem, extra, port, path);
    return run(cmd, tool_out, sizeof tool_out, 15.0);
}

/* ---- Requests over TLS -------------------------------------------------------- */

START_TEST(test_hello_and_alpn)
{
    start();
    struct client *c = dial();
    const char *alpn = green_tls_alpn(c->tls);
    ck_assert_msg(alpn && strcmp(alpn, "http/1.1") == 0, "a client that offers ALPN http/1.1 "
                  "should get it, got %s; " KIT_LESSON(LESSON, SECTION), alpn ? alpn : "none");
    struct reply *r = get(c, "GET / HTTP/1.1\r\nHost: t\r\n\r\n", 0);
    ck_assert_int_eq(r->code, 200);
    BODY_IS(r, "Hello, World!");
    hang_up(c);
    finish();
}
END_TEST

START_TEST(test_keep_alive_and_pipelining)
{
    start();
    struct client *c = dial();
    for (int i = 0; i < 2; i++) {
        struct reply *r = get(c, "GET / HTTP/1.1\r\nHost: t\r\n\r\n", 0);
        ck_assert_msg(r->code == 200 && !header(r, "Connection"),
                      "request %d on a kept-alive TLS connection: expected 200 and no "
                      "Connection: close, got %d", i + 1, r->code);
    }
    /* Three requests in one write: one TLS record, decrypted at once by
     * the server's OpenSSL, which then holds the second and third while
     * the descriptor has nothing more to show (green_tls_pending). */
    says(c, "GET /stream?n=2 HTTP/1.1\r\nHost: t\r\n\r\n"
            "GET / HTTP/1.1\r\nHost: t\r\n\r\n"
            "GET /sleep?ms=1 HTTP/1.1\r\nHost: t\r\n\r\n");
    static const char *want[] = { "chunk 0\nchunk 1\n", "Hello, World!", "slept" };
    for (int i = 0; i < 3; i++) {
        struct reply r;
        ck_assert_msg(reply_of(c, &r, 0) == 0, "pipelined request %d of 3 over TLS got no answer: the "
                      "server must look at what OpenSSL already holds (green_tls_pending), not only "
                      "at the descriptor; " KIT_LESSON(LESSON, SECTION), i + 1);
        BODY_IS(&r, want[i]);
    }
    hang_up(c);
    /* The same, where the descriptor truly shows nothing: on a new
     * connection, the first request is exactly the server's first read
     * (a new connection's buffer: 4 KiB), so the next two stay inside
     * OpenSSL, decrypted, while the server waits for the next request. */
    c = dial();
    static char burst[4096 + 128];
    const char *start = "GET / HTTP/1.1\r\nHost: t\r\nX-Pad: ";
    size_t n = strlen(start);
    memcpy(burst, start, n);
    memset(burst + n, 'p', 4096 - n - 4);
    memcpy(burst + 4096 - 4, "\r\n\r\n", 4);
    strcpy(burst + 4096, "GET / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n");
    says(c, burst);
    for (int i = 0; i < 3; i++) {
        struct reply r;
        ck_assert_msg(reply_of(c, &r, 0) == 0, "pipelined request %d of 3 (the first 4 KiB long) "
                      "over TLS got no answer; " KIT_LESSON(LESSON, SECTION), i + 1);
        BODY_IS(&r, "Hello, World!");
    }
    hang_up(c);
    finish();
}
END_TEST

/* Uploads `size` bytes of the pattern (http_client.h), chunked. */
struct uploader {
    struct client *c;
    long long size;
};

/* The body as chunks of 16 KiB ("4000\r\n" ... "\r\n"), then the last. */
static void *upload_chunked(void *arg)
{
    struct uploader *u = arg;
    static char piece[16384 + 16];
    for (long long done = 0; done < u->size;) {
        size_t n = u->size - done < 16384 ? (size_t)(u->size - done) : 16384;
        int h = snprintf(piece, sizeof piece, "%zx\r\n", n);
        for (size_t i = 0; i < n; i++)
            piece[h + (int)i] = (char)pattern(done + (long long)i);
        memcpy(piece + h + n, "\r\n", 2);
        if (green_tls_sendall(u->c->tls, piece, (size_t)h + n + 2, T) < 0)
            return NULL;
        done += (long long)n;
    }
    green_tls_sendall(u->c->tls, "0\r\n\r\n", 5, T);
    return NULL;
}

START_TEST(test_chunked_both_ways)
{
    start();
    long long size = kit_valgrind() ? 128 * 1024 : 1024 * 1024;
    struct client *c = dial();
    says(c, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    struct uploader u = { c, size };
    green_t *g = green_spawn(upload_chunked, &u);
    struct echo_seen e;
    read_echo(c, &e);
    ck_assert_int_eq(green_join(g, T), 0);
    green_free(g);
    long long got = e.mismatch ? -1 : e.bytes;
    ck_assert_msg(got == size && e.whole, "a chunked upload of %lld bytes to /echo over TLS should come "
                  "back whole and in order, got %lld bytes%s; " KIT_LESSON(LESSON, SECTION),
                  size, got, got < 0 ? " (a byte out of place)" : "");
    /* The same connection streams a generator's chunks. */
    struct reply *r = get(c, "GET /stream?n=100 HTTP/1.1\r\nHost: t\r\n\r\n", 0);
    ck_assert_int_eq(r->code, 200);
    ck_assert_str_eq(header(r, "Transfer-Encoding"), "chunked");
    ck_assert_msg(r->body_len > 0 && memcmp(r->body + r->body_len - 9, "chunk 99\n", 9) == 0,
                  "/stream?n=100 over TLS should end with \"chunk 99\", got %zu bytes", r->body_len);
    hang_up(c);
    finish();
}
END_TEST

START_TEST(test_100_continue)
{
    start();
    struct client *c = dial();
    says(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    ck_assert_msg(need(c, 25) == 0 && memcmp(c->buf, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0,
                  "expected \"100 Continue\" over TLS before the body is sent, got \"%.*s\"",
                  (int)c->len, c->buf);
    consume(c, 25);
    says(c, "hello");
    struct reply r;
    ck_assert_int_eq(reply_of(c, &r, 0), 0);
    ck_assert_int_eq(r.code, 200);
    BODY_IS(&r, "hello");
    hang_up(c);
    finish();
}
END_TEST

START_TEST(test_limits)
{
    green_http_options_t opt = { .limits.max_body = 1000 };
    start_with(&demo_app, &opt);
    struct reply *r = ask("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n");
    ck_assert_msg(r->code == 413, "a body over max_body over TLS: expected 413, got %d", r->code);
    ck_assert_str_eq(header(r, "Connection"), "close");
    static char big[20000];
    int n = snprintf(big, sizeof big, "GET / HTTP/1.1\r\nHost: t\r\nX-Big: ");
    memset(big + n, 'a', 17000);
    strcpy(big + n + 17000, "\r\n\r\n");
    r = ask(big);
    ck_assert_msg(r->code == 431, "a head over 16 KiB over TLS: expected 431, got %d", r->code);
    still_serving("a 413 and a 431");
    finish();
}
END_TEST

/* The HTTP timeouts run on decrypted bytes: a head that comes too slowly
 * is 408, an idle connection is closed (with close_notify). */
START_TEST(test_timeouts)
{
    double limit = kit_valgrind() ? 2.0 : 0.3;
    green_http_options_t opt = { .header_timeout = limit, .idle_timeout = limit };
    start_with(&demo_app, &opt);
    struct client *c = dial();
    says(c, "GET / HTTP/1.1\r\nHo");          /* and nothing more */
    struct reply r;
    ck_assert_msg(reply_of(c, &r, 0) == 0 && r.code == 408, "a head not finished within "
                  "header_timeout over TLS: expected 408, got %d", r.code);
    hang_up(c);
    c = dial();
    get(c, "GET / HTTP/1.1\r\nHost: t\r\n\r\n", 0);
    expect_close_notify(c, "a kept-alive TLS connection idle for idle_timeout should be "
                        "closed with close_notify");
    hang_up(c);
    finish();
}
END_TEST

/* ---- Static files: pread and encrypt, not sendfile --------------------------- */

START_TEST(test_static_file)
{
    make_static_dir();
    green_http_options_t opt = { .static_dir = dir };
    start_with(&demo_app, &opt);
    struct client *c = dial();
    says(c, "GET /static/big.bin HTTP/1.1\r\nHost: t\r\n\r\n");
    char *end;
    while (!(end = memmem(c->buf, c->len, "\r\n\r\n", 4)))
        ck_assert_msg(more(c, T) > 0, "no head for GET /static/big.bin over TLS");
    ck_assert_msg(strncmp(c->buf, "HTTP/1.1 200", 12) == 0, "GET /static/big.bin: %.40s", c->buf);
    consume(c, (size_t)(end - c->buf) + 4);
    long long got = 0;
    while (got < STATIC_SIZE) {
        if (c->len == 0 && more(c, T) <= 0)
            break;
        for (size_t i = 0; i < c->len; i++)
            ck_assert_msg((unsigned char)c->buf[i] == pattern(got + (long long)i),
                          "static file over TLS: byte %lld differs from the file; "
                          KIT_LESSON(LESSON, SECTION), got + (long long)i);
        got += (long long)c->len;
        c->len = 0;
    }
    ck_assert_msg(got == STATIC_SIZE, "static file over TLS: expected %d bytes, got %lld",
                  STATIC_SIZE, got);
    /* The connection is still good for another request. */
    struct reply *r = get(c, "GET / HTTP/1.1\r\nHost: t\r\n\r\n", 0);
    ck_assert_int_eq(r->code, 200);
    hang_up(c);
    if (kit_can_fork()) {       /* and curl agrees, byte for byte */
        char cmd[512];
        snprintf(cmd, sizeof cmd, "curl -sS --max-time 10 --cacert %s -o %s/got.bin "
                 "https://localhost:%s/static/big.bin && cmp %s/got.bin %s/big.bin && rm %s/got.bin",
                 ca_pem, dir, port, dir, dir, dir);
        int rc = run(cmd, tool_out, sizeof tool_out, 15.0);
        ck_assert_msg(rc == 0, "curl's copy of a static file over TLS should be the file, "
                      "exit %d: %s", rc, tool_out);
    }
    finish();
    remove_static_dir();
}
END_TEST

/* ---- What is not TLS, or TLS gone wrong ----------------------------------------- */

START_TEST(test_plain_http_gets_400)
{
    start();
    int fd = raw_dial();
    const char *req = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
    ck_assert_int_eq(green_sendall(fd, req, strlen(req), T), (ssize_t)strlen(req));
    char got[4096];
    ck_assert_msg(raw_until_closed(fd, T, got, sizeof got), "a plain HTTP request to the TLS "
                  "port should be answered, then closed");
    close(fd);
    ck_assert_msg(strncmp(got, "HTTP/1.1 400 Bad Request\r\n", 26) == 0 &&
                  strstr(got, "\r\nConnection: close\r\n") &&
                  strstr(got, "The plain HTTP request was sent to HTTPS port"),
                  "a plain HTTP request to the TLS port should get a 400 in plain text, as "
                  "nginx answers, got \"%s\"; " KIT_LESSON(LESSON, SECTION), got);
    still_serving("a plain HTTP request");
    finish();
}
END_TEST

/* The first bytes a real client sends: its ClientHello, caught on a
 * socket pair (the client waits for an answer that never comes). */
static size_t client_hello(char *buf, size_t size)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    green_tls_t *t = green_tls_new(client_tls, a, "localhost");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(green_tls_handshake(t, 0.05), -1);
    ssize_t n = green_recv(b, buf, size, T);
    ck_assert_msg(n > 40 && buf[0] == 0x16, "no ClientHello caught (%zd bytes)", n);
    green_tls_free(t);
    close(a);
    close(b);
    return (size_t)n;
}

START_TEST(test_bad_hellos_are_closed)
{
    start();
    /* Garbage that starts like a handshake record. */
    char junk[300];
    junk[0] = 0x16;
    srand(13);
    for (size_t i = 1; i < sizeof junk; i++)
        junk[i] = (char)rand();
    int fd = raw_dial();
    ck_assert_int_eq(green_sendall(fd, junk, sizeof junk, T), (ssize_t)sizeof junk);
    char got[4096];
    ck_assert_msg(raw_until_closed(fd, T, got, sizeof got), "a garbage ClientHello should "
                  "fail the handshake and close the connection; " KIT_LESSON(LESSON, SECTION));
    close(fd);
    still_serving("a garbage ClientHello");

    /* A real hello, cut in the middle, and the client gone. */
    char hello[4096];
    size_t n = client_hello(hello, sizeof hello);
    fd = raw_dial();
    ck_assert_int_eq(green_sendall(fd, hello, n / 2, T), (ssize_t)(n / 2));
    shutdown(fd, SHUT_WR);
    ck_assert_msg(raw_until_closed(fd, T, got, sizeof got), "a ClientHello cut short should "
                  "close the connection");
    close(fd);
    still_serving("a truncated ClientHello");
    finish();
}
END_TEST

START_TEST(test_stalled_handshake_times_out)
{
    /* Under Valgrind a whole handshake takes longer than 0.3 s. */
    double limit = kit_valgrind() ? 3.0 : 0.3;
    green_http_options_t opt = { .handshake_timeout = limit };
    start_with(&demo_app, &opt);
    char hello[4096], got[4096];
    size_t n = client_hello(hello, sizeof hello);
    /* A TLS Slowloris: part of a hello, then nothing.  And a client that
     * sends nothing at all. */
    int slow = raw_dial(), mute = raw_dial();
    ck_assert_int_eq(green_sendall(slow, hello, n / 2, T), (ssize_t)(n / 2));
    double t0 = green_now();
    ck_assert_msg(raw_until_closed(slow, T, got, sizeof got), "a client that stalls in its "
                  "handshake should be closed at handshake_timeout (%.1f s); "
                  KIT_LESSON(LESSON, SECTION), limit);
    double t = green_now() - t0;
    ck_assert_msg(t >= limit * 0.6, "the stalled handshake was closed after %.2f s: before "
                  "its handshake_timeout of %.1f s", t, limit);
    ck_assert_msg(raw_until_closed(mute, T, got, sizeof got), "a client that sends nothing "
                  "should be closed at handshake_timeout too");
    close(slow);
    close(mute);
    still_serving("a stalled handshake");
    finish();
}
END_TEST

START_TEST(test_client_gone_without_close_notify)
{
    start();
    struct client *c = dial();
    struct reply *r = get(c, "GET / HTTP/1.1\r\nHost: t\r\n\r\n", 0);
    ck_assert_int_eq(r->code, 200);
    drop(c);                    /* mid keep-alive, no close_notify */
    c = dial();
    says(c, "GET / HTTP/1.1\r\nHo");
    drop(c);                    /* in the middle of a head */
    still_serving("clients that left without close_notify");
    finish();
}
END_TEST

/* ---- A graceful stop with a request in flight ---------------------------------- */

START_TEST(test_graceful_stop)
{
    start();
    struct client *idle = dial();
    get(idle, "GET / HTTP/1.1\r\nHost: t\r\n\r\n", 0);
    green_t *g = green_spawn(slow_request, NULL);
    green_sleep(0.1);
    int killed = green_server_stop(green_http_server_core(srv), 3.0);
    ck_assert_msg(killed == 0, "the request in flight over TLS should finish within the grace "
                  "period, %d connection(s) killed", killed);
    ck_assert_int_eq(green_join(g, T), 0);
    green_free(g);
    ck_assert_msg(slow_rc == 0 && slow_reply.code == 200, "the in-flight request should be answered");
    BODY_IS(&slow_reply, "slept");
    ck_assert_str_eq(header(&slow_reply, "Connection"), "close");
    /* The idle connection was closed the TLS way: close_notify. */
    expect_close_notify(idle, "the idle keep-alive connection should be closed at stop with "
                        "a close_notify");
    hang_up(idle);
    free_all();
}
END_TEST

/* A client that connects and says nothing, when the server stops: it is
 * given the short grace of a connection whose first request has not come
 * (tests/lib/http.c's test_stop_waits_for_first_request), not the whole
 * handshake_timeout (10 s, longer than the stop's grace: it would be
 * killed). */
START_TEST(test_stop_closes_a_silent_client)
{
    start();
    green_server_t *core = green_http_server_core(srv);
    int mute = raw_dial();
    double end = green_now() + T;
    while (green_server_accepted(core) < 1 && green_now() < end)
        green_sleep(0.01);
    int killed = green_server_stop(core, 8.0);
    ck_assert_msg(killed == 0, "a client that never sent its ClientHello should be closed "
                  "during a stop after a short grace, not killed at its end (%d killed); "
                  KIT_LESSON(LESSON, SECTION), killed);
    char got[64];
    ck_assert_msg(raw_until_closed(mute, T, got, sizeof got), "the silent client should be closed");
    close(mute);
    free_all();
}
END_TEST

/* ---- wsgi.url_scheme, and a takeover over TLS ------------------------------------ */

/* /scheme answers wsgi.url_scheme; /upgrade takes the connection over
 * with line_echo; the rest is the demo's. */
static green_body_t scheme_call(green_app_t *self, green_environ_t *env, green_response_t *resp)
{
    (void)self;
    green_header_t text = { "Content-Type", "text/plain" };
    if (strcmp(env->path, "/scheme") == 0) {
        green_start_response(resp, "200 OK", &text, 1);
        return green_body_str(green_environ_get(env, "wsgi.url_scheme"));
    }
    if (strcmp(env->path, "/upgrade") == 0 && green_http_takeover(env, line_echo, NULL) == 0) {
        green_header_t h[] = { { "Upgrade", "echo" }, { "Connection", "Upgrade" } };
        green_start_response(resp, "101 Switching Protocols", h, 2);
        return green_body_empty();
    }
    return green_app_call(&demo_app, env, resp);
}

static green_app_t scheme_app = { scheme_call };

START_TEST(test_url_scheme_and_takeover)
{
    start_with(&scheme_app, NULL);
    struct reply *r = ask("GET /scheme HTTP/1.1\r\nHost: t\r\n\r\n");
    ck_assert_msg(r->code == 200 && r->body_len == 5 && memcmp(r->body, "https", 5) == 0,
                  "wsgi.url_scheme over TLS: expected \"https\", got \"%.*s\"",
                  (int)r->body_len, r->body);
    struct client *c = dial();
    says(c, "GET /upgrade HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nfirst\n");
    struct reply up;
    ck_assert_msg(reply_of(c, &up, 0) == 0 && up.code == 101, "expected 101, got %d", up.code);
    ck_assert_msg(need(c, 6) == 0 && memcmp(c->buf, "first\n", 6) == 0, "after a takeover over "
                  "TLS, the new protocol should find the session with green_tls_of(fd) and echo "
                  "\"first\", got \"%.*s\"", (int)c->len, c->buf);
    consume(c, 6);
    says(c, "second\n");
    ck_assert_msg(need(c, 7) == 0 && memcmp(c->buf, "second\n", 7) == 0,
                  "the second line after the takeover, got \"%.*s\"", (int)c->len, c->buf);
    hang_up(c);
    ck_assert_msg(green_tls_of(0) == NULL && green_tls_of(3) == NULL,
                  "a finished takeover leaves nothing attached");
    finish();
}
END_TEST

/* ---- Real clients: curl and openssl s_client ------------------------------------- */

START_TEST(test_curl)
{
    start();
    int rc = curl("-v", "/");
    ck_assert_msg(rc == 0 && strstr(tool_out, "Hello, World!"),
                  "curl --cacert CA https://localhost:%s/ should print Hello, World!, exit %d:\n%s",
                  port, rc, tool_out);
    ck_assert_msg(strstr(tool_out, "ALPN: server accepted http/1.1") ||
                  strstr(tool_out, "ALPN, server accepted to use http/1.1"),
                  "curl -v should say the server accepted ALPN http/1.1:\n%s", tool_out);
    /* Two URLs, one connection (keep-alive). */
    char two[256];
    snprintf(two, sizeof two, "-v https://localhost:%s/sleep?ms=1 -o /dev/null", port);
    rc = curl(two, "/");
    ck_assert_msg(rc == 0 && strstr(tool_out, "Re-using existing connection"),
                  "curl with two URLs should reuse its TLS connection, exit %d:\n%s", rc, tool_out);
    /* HTTP/1.0: a streamed body that ends with the connection. */
    rc = curl("--http1.0", "/stream?n=3");
    ck_assert_msg(rc == 0 && strcmp(tool_out, "chunk 0\nchunk 1\nchunk 2\n") == 0,
                  "curl --http1.0 /stream?n=3 over TLS (a body that ends with the connection) "
                  "should end cleanly, exit %d: \"%s\"; " KIT_LESSON(LESSON, SECTION), rc, tool_out);
    /* A chunked upload to /echo. */
    rc = curl("-H 'Transfer-Encoding: chunked' --data-binary 'sent by curl'", "/echo");
    ck_assert_msg(rc == 0 && strcmp(tool_out, "sent by curl") == 0,
                  "curl's chunked upload to /echo over TLS should come back, exit %d: \"%s\"",
                  rc, tool_out);
    finish();
}
END_TEST

START_TEST(test_openssl_s_client)
{
    start();
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "printf 'GET /stream?n=3 HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' | "
             "openssl s_client -connect 127.0.0.1:%s -servername localhost -CAfile %s "
             "-verify_return_error -alpn http/1.1 -ign_eof", port, ca_pem);
    int rc = run(cmd, tool_out, sizeof tool_out, 15.0);
    ck_assert_msg(rc == 0, "openssl s_client against the server exited %d:\n%s", rc, tool_out);
    ck_assert_msg(strstr(tool_out, "Verify return code: 0 (ok)"),
                  "s_client should verify the certificate:\n%s", tool_out);
    ck_assert_msg(strstr(tool_out, "ALPN protocol: http/1.1"),
                  "s_client should get ALPN http/1.1:\n%s", tool_out);
    ck_assert_msg(strstr(tool_out, "HTTP/1.1 200 OK") && strstr(tool_out, "chunk 2\n") &&
                  strstr(tool_out, "Connection: close"),
                  "s_client's GET /stream?n=3 should be answered:\n%s", tool_out);
    finish();
}
END_TEST

static Suite *https_suite(void)
{
    Suite *s = suite_create("lib/https");
    TCase *tc = kit_tcase("https");
    tcase_add_unchecked_fixture(tc, find_certs, NULL);
    tcase_add_test(tc, test_hello_and_alpn);
    tcase_add_test(tc, test_keep_alive_and_pipelining);
    tcase_add_test(tc, test_chunked_both_ways);
    tcase_add_test(tc, test_100_continue);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_timeouts);
    tcase_add_test(tc, test_static_file);
    tcase_add_test(tc, test_plain_http_gets_400);
    tcase_add_test(tc, test_bad_hellos_are_closed);
    tcase_add_test(tc, test_stalled_handshake_times_out);
    tcase_add_test(tc, test_client_gone_without_close_notify);
    tcase_add_test(tc, test_graceful_stop);
    tcase_add_test(tc, test_stop_closes_a_silent_client);
    tcase_add_test(tc, test_url_scheme_and_takeover);
    if (kit_can_fork()) {       /* children: not under qemu-user */
        tcase_add_test(tc, test_curl);
        tcase_add_test(tc, test_openssl_s_client);
    }
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return kit_run_suite(https_suite());
}
