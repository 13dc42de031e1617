/*
 * tests/lib/http_client.h - the test HTTP client that tests/lib/http.c
 * (chapter 11's server over TCP) and tests/lib/https.c (the same server
 * over TLS) share, and the fixtures both use: how a response is read off
 * a connection is the same over both; only the transport differs.
 *
 * A struct client reads and writes through its TLS session when it has
 * one (dial() makes one when the test file has set client_tls), straight
 * on its socket when not.  Every wait is bounded by T.
 *
 * Static functions, as in chapters/09-wsgi/demo_app.h: each of the two
 * test files includes this header once and uses every function in it
 * (the build makes an unused static function an error).
 */
#ifndef TESTS_LIB_HTTP_CLIENT_H
#define TESTS_LIB_HTTP_CLIENT_H

#include "harness.h"
#include "green.h"
#include "tls.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define T 5.0                   /* the bound on any single wait */

/* The server's port (the test file's start_with sets it), and the context
 * the client's TLS sessions are made with: NULL, plain TCP, unless the
 * test file sets it (tests/lib/https.c). */
static char port[16];
static green_tls_ctx_t *client_tls;

/* ---- Either transport ------------------------------------------------------ */

/* As green_recv, through TLS session t when there is one (t NULL: fd is
 * plain TCP). */
static ssize_t conn_recv(int fd, green_tls_t *t, void *buf, size_t n, double timeout)
{
    return t ? green_tls_recv(t, buf, n, timeout) : green_recv(fd, buf, n, timeout);
}

/* As green_sendall, through TLS session t when there is one. */
static ssize_t conn_sendall(int fd, green_tls_t *t, const void *buf, size_t n, double timeout)
{
    return t ? green_tls_sendall(t, buf, n, timeout) : green_sendall(fd, buf, n, timeout);
}

/* ---- A raw HTTP client ------------------------------------------------------ */

struct client {
    int fd;
    green_tls_t *tls;           /* NULL: plain TCP */
    char buf[1 << 16];
    size_t len;
};

struct reply {
    int code;
    char head[8192];
    char body[1 << 16];
    size_t body_len;
    int nchunks;                /* chunks of a chunked body */
};

/* Connect to the server, and over TLS (client_tls set) shake hands. */
static struct client *dial(void)
{
    struct client *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    c->fd = green_tcp_connect("127.0.0.1", port, T);
    ck_assert_msg(c->fd >= 0, "cannot connect to the server: %s", strerror(errno));
    if (!client_tls)
        return c;
    c->tls = green_tls_new(client_tls, c->fd, "localhost");
    ck_assert_ptr_nonnull(c->tls);
    int rc = green_tls_handshake(c->tls, T);
    ck_assert_msg(rc == 0, "the TLS handshake with the server failed: %s (%s); "
                  KIT_LESSON("chapters/11-http/README.md", "HTTPS: the same server over TLS"),
                  strerror(errno), green_tls_error());
    return c;
}

/* Leave as a polite client does: over TLS, close_notify, then close. */
static void hang_up(struct client *c)
{
    if (c->tls)
        green_tls_close(c->tls);        /* closes c->fd too */
    else
        close(c->fd);
    free(c);
}

static void say(struct client *c, const void *s, size_t n)
{
    ck_assert_msg(conn_sendall(c->fd, c->tls, s, n, T) == (ssize_t)n,
                  "send to the server failed: %s", strerror(errno));
}

static void says(struct client *c, const char *s)
{
    say(c, s, strlen(s));
}

/* More bytes into c->buf: > 0, 0 at EOF, -1 on error or timeout. */
static ssize_t more(struct client *c, double timeout)
{
    if (c->len == sizeof c->buf)
        return -1;
    ssize_t n = conn_recv(c->fd, c->tls, c->buf + c->len, sizeof c->buf - c->len, timeout);
    if (n > 0)
        c->len += (size_t)n;
    return n;
}

static void consume(struct client *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

/* Wait until c->buf holds `n` bytes.  0, or -1 (EOF, error, timeout). */
static int need(struct client *c, size_t n)
{
    while (c->len < n)
        if (more(c, T) <= 0)
            return -1;
    return 0;
}

/* Wait for the line ending "\r\n" at the start of buf: its length. */
static ssize_t line(struct client *c)
{
    for (;;) {
        char *end = memmem(c->buf, c->len, "\r\n", 2);
        if (end)
            return end - c->buf;
        if (more(c, T) <= 0)
            return -1;
    }
}

/* The value of response header `name`, or NULL (a static buffer). */
static const char *header(const struct reply *r, const char *name)
{
    static char value[256];
    size_t n = strlen(name);
    for (const char *p = strstr(r->head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':') {
            const char *v = p + 3 + n;
            v += strspn(v, " ");
            size_t len = strcspn(v, "\r");
            snprintf(value, sizeof value, "%.*s", (int)len, v);
            return value;
        }
    }
    return NULL;
}

static int read_chunked_body(struct client *c, struct reply *r)
{
    for (;;) {
        ssize_t n = line(c);
        if (n < 0)
            return -1;
        size_t size = strtoul(c->buf, NULL, 16);
        consume(c, (size_t)n + 2);
        if (size == 0)
            return line(c) == 0 ? (consume(c, 2), 0) : -1;
        if (need(c, size + 2) < 0 || r->body_len + size > sizeof r->body)
            return -1;
        memcpy(r->body + r->body_len, c->buf, size);
        r->body_len += size;
        r->nchunks++;
        consume(c, size + 2);
    }
}

/* Read one response (head and body) off the connection into *r.
 * head_only: the request was HEAD (no body follows).  0, or -1. */
static int reply_of(struct client *c, struct reply *r, int head_only)
{
    char *end;
    memset(r, 0, sizeof *r);
    r->code = -1;
    while (!(end = memmem(c->buf, c->len, "\r\n\r\n", 4)))
        if (more(c, T) <= 0)
            return -1;
    size_t head_len = (size_t)(end - c->buf) + 4;
    if (head_len >= sizeof r->head)
        return -1;
    memcpy(r->head, c->buf, head_len);
    consume(c, head_len);
    if (sscanf(r->head, "HTTP/1.%*d %d", &r->code) != 1)
        return -1;
    if (head_only || r->code < 200 || r->code == 304 || r->code == 204)
        return 0;
    const char *te = header(r, "Transfer-Encoding");
    if (te && strcmp(te, "chunked") == 0)
        return read_chunked_body(c, r);
    const char *cl = header(r, "Content-Length");
    if (cl) {
        size_t n = strtoul(cl, NULL, 10);
        if (n > sizeof r->body || need(c, n) < 0)
            return -1;
        memcpy(r->body, c->buf, n);
        r->body_len = n;
        consume(c, n);
        return 0;
    }
    while (more(c, T) > 0)          /* close-delimited */
        ;
    memcpy(r->body, c->buf, c->len);
    r->body_len = c->len;
    c->len = 0;
    return 0;
}

/* Send `request` and read its response; over TLS, a failure also sends
 * the student to the lesson's section on TLS. */
static struct reply *get(struct client *c, const char *request, int head_only)
{
    static struct reply r;
    says(c, request);
    ck_assert_msg(reply_of(c, &r, head_only) == 0,
                  "no complete response%s to %.40s...: got code %d%s", c->tls ? " over TLS" : "",
                  request, r.code, c->tls ? "; " KIT_LESSON("chapters/11-http/README.md",
                  "HTTPS: the same server over TLS") : "");
    return &r;
}

static struct reply *ask(const char *request)
{
    struct client *c = dial();
    struct reply *r = get(c, request, 0);
    hang_up(c);
    return r;
}

#define BODY_IS(r, text) \
    ck_assert_msg((r)->body_len == strlen(text) && memcmp((r)->body, text, strlen(text)) == 0, \
                  "expected body \"%s\", got \"%.*s\"", text, (int)(r)->body_len, (r)->body)

/* ---- /echo streamed back, checked as it comes -------------------------------- */

/* The bytes of an echo test's body (and of a static file): byte i is
 * i % 251 (a prime, so a piece sent twice, lost or out of place shows). */
static unsigned char pattern(long long i)
{
    return (unsigned char)(i % 251);
}

/* The bytes malloc holds right now (small blocks and mmap'ed big ones):
 * what a server that buffers a body would show, whatever the machine's
 * load (a count, not a timing).  Under AddressSanitizer or Valgrind,
 * whose malloc is their own, it reads 0: the bound then holds trivially. */
static size_t heap_in_use(void)
{
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

/* What read_echo() saw. */
struct echo_seen {
    int code;
    int chunked;
    long long bytes;            /* body bytes that matched the pattern */
    int whole;                  /* the last chunk "0\r\n\r\n" came */
    int mismatch;               /* a byte that was not the pattern's */
    size_t heap_peak;           /* the most heap_in_use() seen meanwhile */
};

/* Read a streamed /echo response off c: the head, then each chunk,
 * compared with the pattern as it comes (nothing is kept), until the last
 * chunk or the end of the connection.  The server runs in this process:
 * the heap is sampled after every read, while it echoes. */
static void read_echo(struct client *c, struct echo_seen *e)
{
    char *end;
    memset(e, 0, sizeof *e);
    e->code = -1;
    while (!(end = memmem(c->buf, c->len, "\r\n\r\n", 4)))
        if (more(c, T) <= 0)
            return;
    sscanf(c->buf, "HTTP/1.%*d %d", &e->code);
    e->chunked = memmem(c->buf, (size_t)(end - c->buf), "Transfer-Encoding: chunked", 26) != NULL;
    consume(c, (size_t)(end - c->buf) + 4);
    while (e->code == 200 && e->chunked) {
        size_t peak = heap_in_use();
        e->heap_peak = peak > e->heap_peak ? peak : e->heap_peak;
        ssize_t n = line(c);
        if (n < 0)
            return;             /* the connection ended between chunks */
        size_t size = strtoul(c->buf, NULL, 16);
        consume(c, (size_t)n + 2);
        if (size == 0) {
            e->whole = line(c) == 0;
            if (e->whole)
                consume(c, 2);  /* the next response may follow */
            return;
        }
        while (size > 0) {      /* a chunk may be larger than c->buf */
            if (c->len == 0 && more(c, T) <= 0)
                return;         /* ended inside a chunk */
            size_t m = c->len < size ? c->len : size;
            for (size_t i = 0; i < m; i++)
                if ((unsigned char)c->buf[i] != pattern(e->bytes + (long long)i)) {
                    e->mismatch = 1;
                    return;
                }
            e->bytes += (long long)m;
            consume(c, m);
            size -= m;
        }
        if (need(c, 2) < 0)
            return;
        consume(c, 2);
    }
}

/* ---- Static files ------------------------------------------------------------- */

/* The folder the static tests serve: hello.txt ("static hello\n"),
 * big.bin (STATIC_SIZE bytes of the pattern: many reads and sends), and
 * escape, a symbolic link out of it (to /etc). */
static char dir[64];
#define STATIC_SIZE (300 * 1000 + 7)

static void make_static_dir(void)
{
    strcpy(dir, "/tmp/green-http-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/hello.txt", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("static hello\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/big.bin", dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    for (long long i = 0; i < STATIC_SIZE; i++)
        fputc(pattern(i), f);
    fclose(f);
    snprintf(path, sizeof path, "%s/escape", dir);
    ck_assert_int_eq(symlink("/etc", path), 0);
}

static void remove_static_dir(void)
{
    static const char *names[] = { "hello.txt", "big.bin", "escape" };
    char path[128];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* ---- A request in flight during a graceful stop ------------------------------ */

static struct reply slow_reply;
static int slow_rc = -1;

static void *slow_request(void *arg)
{
    (void)arg;
    struct client *c = dial();
    says(c, "GET /sleep?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n");
    slow_rc = reply_of(c, &slow_reply, 0);
    hang_up(c);
    return NULL;
}

/* ---- A protocol to take a connection over with ------------------------------- */

/* The new protocol: every line the client sends comes back.  data holds
 * what the client sent right after its request, in the same write.  Over
 * TLS, the session is the connection's (green_tls_of): the bytes on fd
 * are records, not lines. */
static void line_echo(int fd, const char *data, size_t len, void *arg)
{
    (void)arg;
    green_tls_t *t = green_tls_of(fd);          /* NULL: plain TCP */
    char buf[4096];
    size_t have = len < sizeof buf ? len : sizeof buf;
    memcpy(buf, data, have);
    for (;;) {
        char *nl;
        while ((nl = memchr(buf, '\n', have)) != NULL) {
            size_t n = (size_t)(nl - buf) + 1;
            if (conn_sendall(fd, t, buf, n, T) < 0)
                return;
            memmove(buf, buf + n, have - n);
            have -= n;
        }
        if (have == sizeof buf)
            return;             /* a line too long for this toy protocol */
        ssize_t got = conn_recv(fd, t, buf + have, sizeof buf - have, T);
        if (got <= 0)
            return;             /* the client left, or the server stops */
        have += (size_t)got;
    }
}

#endif
