/*
 * http.c - chapter 11: the cooperative HTTP/1.1 server (see http.h).
 *
 * Read it top to bottom; it follows one connection's life:
 *   0. the connection's bytes: plain TCP or TLS, behind a few small
 *      functions (conn_recv, conn_sendall, conn_readable, conn_wait_read)
 *      that everything else calls;
 *   1. reading a request head into the connection's buffer;
 *   2. the request body, read only when the application asks (wsgi.input);
 *   3. the environ, pointing into the buffer (no copies);
 *   4. writing: the response head, the body framed three ways, sendfile;
 *   5. the keep-alive loop: one greenlet per connection, one request after
 *      the other; HTTPS's first steps (sniff, handshake) and last
 *      (close_notify);
 *   6. the server's life: chapter 7's core (server.h) with two hooks, and
 *      free.
 * Two ideas that every request touches have files of their own, shared
 * through lib/private/http_internal.h: the clock and the access log
 * (http_log.c), and static files, an application wrapped around the
 * user's (http_static.c).
 *
 * One greenlet per connection (server.h) makes the code sequential: every
 * "wait" below (green_recv, green_wait_write, the application's own
 * sleeps) parks this connection's greenlet on the hub, and the others run.
 */
#include "http_internal.h"
#include "hub.h"
#include "io.h"
#include "server.h"
#include "tls.h"
#include "url.h"
#include "wait.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define DEFAULT_IDLE_TIMEOUT   15.0
#define DEFAULT_HEADER_TIMEOUT 10.0
#define DEFAULT_BODY_TIMEOUT   30.0
#define DEFAULT_SEND_TIMEOUT   30.0
#define DEFAULT_MAX_DRAIN      (64 * 1024)
#define DEFAULT_MAX_HEAD       16384
/* A new connection's buffer: a typical request head fits, and 10,000
 * idle connections cost 40 MiB, not 160. */
#define BUF_START              4096
#define HAND_OVER              2     /* serve_request: see hand_over() */
/* Room kept after a head to read a chunked body into (the head must stay
 * where it is: the environ points into it). */
#define BODY_ROOM              4096
/* After a bad request we stop writing, then read (and throw away) what
 * the client is still sending for a moment before closing: closing a
 * socket with unread bytes makes the kernel send a reset, which can
 * destroy our error response before the client has read it. */
#define LINGER_SECONDS         1.0
/* During a stop, how long a connection accepted before it may still wait
 * for its first request, and an answered one for a next request already
 * on its way (see wait_request). */
#define FIRST_REQUEST_GRACE    2.0
#define NEXT_REQUEST_GRACE     0.1
#define LINGER_BYTES           (256 * 1024)
/* iovecs gathered for one sendmsg() of a list body. */
#define MAX_IOV                64
#define DEFAULT_HANDSHAKE_TIMEOUT 10.0
/* TLS has no writev(): pieces of a response are gathered into one buffer
 * of TLS's largest record (16 KiB) before they are encrypted, and a file
 * is read in pieces of FILE_PIECE (see tls_sendv, send_file). */
#define TLS_GATHER             16384
#define FILE_PIECE             (64 * 1024)
/* How long a closing TLS connection may take to send its close_notify
 * (a few dozen bytes: only a client that reads nothing makes us wait). */
#define CLOSE_NOTIFY_SECONDS   0.5

/* ---- The server and a connection ------------------------------------------ */

/* Body framing of a response. */
enum framing {
    FRAME_NONE,                 /* no body at all: HEAD, 204, 304 */
    FRAME_LENGTH,               /* Content-Length: a list or file body */
    FRAME_CHUNKED,              /* Transfer-Encoding: chunked (1.1) */
    FRAME_CLOSE,                /* the body ends when the connection does (1.0) */
};

struct conn {
    green_input_t input;        /* first member: env->input points here */
    green_http_server_t *srv;
    int fd;
    green_tls_t *tls;           /* NULL: plain TCP (see section 0) */
    char remote[INET6_ADDRSTRLEN];  /* the peer's address */
    char forwarded[INET6_ADDRSTRLEN]; /* the client behind a trusted proxy */
    LIST_ENTRY(conn) link;      /* on srv->conns */
    green_t *g;                 /* the connection's greenlet */
    int idle;                   /* waiting for a request's first byte */
    unsigned long served;       /* requests answered on this connection */

    /* The read buffer: buf[0..len) received, buf[0..pos) used up.  A
     * request head always starts at buf[0]. */
    char *buf;
    size_t cap, len, pos;
    size_t scanned;             /* bytes already searched for a blank line */
    int line_seen;              /* a LF is among them: the request line ended */

    /* The request being served. */
    green_http_request_t req;
    green_header_t headers[GREEN_HTTP_MAX_HEADERS];
    green_environ_t env;
    char *path;                 /* PATH_INFO, percent-decoded */
    size_t path_cap;

    /* Its body, read through `input`. */
    int chunked;
    long long body_left;        /* Content-Length bytes not read yet */
    green_http_chunked_t dec;   /* the chunked decoder */
    int body_done;              /* the whole body has been read */
    int body_error;             /* errno of a failed read: no more reads */
    int body_reading;           /* the application has read some of it */
    int continue_due;           /* "100 Continue" owed at the first read */

    /* The response. */
    green_response_t resp;
    int keep_alive;
    int linger;                 /* close slowly: the client may be sending */
    long long body_sent;        /* body bytes sent, for the access log */
    green_takeover_fn_t takeover; /* green_http_takeover's, after the response */
    void *takeover_arg;
};

/* Has the server stopped accepting?  Then every response says
 * "Connection: close", and an idle connection closes. */
int green__http_closing(const green_http_server_t *srv)
{
    return green_server_state(srv->tcp) >= GREEN_SERVER_CLOSING;
}

/* SERVER_PORT: the port the core listens on, from its "HOST:PORT" label
 * (set at start, kept after the socket is closed). */
static const char *server_port(green_http_server_t *srv)
{
    if (!srv->port)
        srv->port = strrchr(green_server_label(srv->tcp), ':') + 1;
    return srv->port;
}

/* ---- 0. The connection's bytes: plain TCP or TLS ---------------------------- */

/* Over HTTPS every byte of a connection goes through its TLS session:
 * OpenSSL decrypts what arrives and encrypts what leaves.  Rather than an
 * "if (c->tls)" at every read and write of this file, these functions are
 * the connection's only ways in and out; the rest of the server does not
 * know which one it has.  The TLS calls (tls.h) keep green_recv's and
 * green_sendall's contracts: n bytes, 0 at the end, -1 with errno. */
static ssize_t conn_recv(struct conn *c, void *buf, size_t n, double timeout)
{
    if (c->tls)
        return green_tls_recv(c->tls, buf, n, timeout);
    return green_recv(c->fd, buf, n, timeout);
}

static ssize_t conn_sendall(struct conn *c, const void *buf, size_t n,
                            double timeout)
{
    if (c->tls)
        return green_tls_sendall(c->tls, buf, n, timeout);
    return green_sendall(c->fd, buf, n, timeout);
}

/* Can a request's bytes be read without waiting?  Over TLS, OpenSSL may
 * hold plaintext it has already decrypted (a pipelined request that came
 * in the same record as the last one): the descriptor does not show it,
 * and waiting on the descriptor alone could wait for bytes that have
 * already arrived. */
static int conn_readable(struct conn *c)
{
    if (c->tls && green_tls_pending(c->tls) > 0)
        return 1;
    struct pollfd p = { c->fd, POLLIN, 0 };
    return poll(&p, 1, 0) > 0;      /* bytes, or EOF */
}

/* Park until the connection may be read (tls.h's green_tls_wait_read
 * counts what OpenSSL holds, as conn_readable does).  0, or -1 with
 * errno (ETIMEDOUT, ECANCELED). */
static int conn_wait_read(struct conn *c, double timeout)
{
    if (c->tls)
        return green_tls_wait_read(c->tls, timeout);
    return green_wait_read(c->fd, timeout);
}

/* ---- 1. Reading a request head --------------------------------------------- */

/* Make the buffer at least `want` bytes.  The head may move: only call
 * this before the environ points into it. */
static int grow(struct conn *c, size_t want)
{
    if (want <= c->cap)
        return 0;
    size_t cap = c->cap * 2 > want ? c->cap * 2 : want;
    char *buf = realloc(c->buf, cap);
    if (!buf)
        return -1;
    c->buf = buf;
    c->cap = cap;
    return 0;
}

/* Has the blank line that ends a head arrived?  The parser starts from
 * the first byte each time it is called; a Slowloris client sending a
 * byte per read would make that quadratic (16 KiB of head, 16,384 reads,
 * 134 million bytes parsed).  So we look for the blank line first, in
 * the bytes that are new since the last look (and the two before them,
 * for a "\n\r\n" cut in two), and call the parser once it is there. */
static int head_complete(struct conn *c)
{
    size_t from = c->scanned > 2 ? c->scanned - 2 : 0;
    c->scanned = c->len;
    if (!c->line_seen)
        c->line_seen = memchr(c->buf + from, '\n', c->len - from) != NULL;
    return memmem(c->buf + from, c->len - from, "\n\n", 2) ||
           memmem(c->buf + from, c->len - from, "\n\r\n", 3);
}

/* Is the head already too long to be good: a request line with no end
 * in sight past its limit (414), or a head past its own (431)?  The
 * parser then says which, at once: no need to wait for the rest. */
static int head_too_long(const struct conn *c)
{
    const green_http_limits_t *l = &c->srv->opt.limits;
    return c->len > l->max_head ||
           (!c->line_seen && c->len > l->max_request_line + 2);
}

/* When a head that begins now must have ended (header_timeout; never,
 * for a negative one: wait.h's deadlines). */
static double head_deadline(const green_http_server_t *srv)
{
    return green__deadline(srv->opt.header_timeout);
}

/* Wait until the next request's first bytes can be read (over TLS, before
 * the handshake: the ClientHello's, see tls_accept), at most until
 * `deadline`: 0, or -1 to close quietly (the deadline, a stop,
 * ECANCELED).  What a stop does depends on the connection:
 *   - a keep-alive connection that has been answered closes at once if
 *     it has been idle for NEXT_REQUEST_GRACE: its client knows an idle
 *     connection may close at any moment, and retries on a new one (RFC
 *     9112, 9.3.1).  Sooner than that, its next request may be on its
 *     way (a client that reuses connections at once: a proxy's pool, a
 *     benchmark): it gets the rest of that moment.  Without it, wrk saw
 *     one failed request per keep-alive connection at each reload of
 *     chapter 12 (wrk does not retry);
 *   - a connection accepted but not yet answered gets FIRST_REQUEST_GRACE
 *     more seconds: its client has just connected and its request may be
 *     on its way; a close now would fail it with nothing to retry.
 *     Chapter 12's reload under load lost 1 request in 60 so: an old
 *     worker accepted a connection just before its SIGTERM.  (Making the
 *     worker stop accepting earlier would not help: whatever it accepted
 *     last may still be mute.)  The wait is short so that a client that
 *     connects and never speaks cannot hold a stopping server for its
 *     whole grace period.
 * The stop wakes us (close_idle) so that we look at it here; its wake-up
 * is no readable byte, hence the loop (the socket's own wake-up returns
 * at once). */
static int wait_request(struct conn *c, double deadline)
{
    green_http_server_t *srv = c->srv;
    double answered = green_now();      /* the last response just left */
    int shortened = 0;
    for (;;) {
        if (conn_readable(c))
            return 0;           /* bytes, or EOF: read_head reads them */
        if (green__http_closing(srv) && !shortened) {
            double last = c->served > 0 ? answered + NEXT_REQUEST_GRACE
                                        : green_now() + FIRST_REQUEST_GRACE;
            if (deadline < 0 || last < deadline)    /* < 0: forever */
                deadline = last;
            shortened = 1;
        }
        if (green__time_left(deadline) == 0)
            return -1;
        c->idle = 1;
        int rc = conn_wait_read(c, green__time_left(deadline));
        c->idle = 0;
        if (rc < 0)
            return -1;
        if (!green__http_closing(srv))
            return 0;           /* the socket woke us: no need to ask again */
    }
}

/* Wait for a whole request head at buf[0].  Returns its length (> 0);
 * 0 to close the connection quietly (the client closed or reset, it sent
 * nothing for idle_timeout, the server is stopping); or -status for an
 * answer before closing: the parser's -400...-505, or -408 when the head
 * did not arrive within header_timeout (a Slowloris client sends one
 * byte every few seconds, forever: a timeout per recv would never fire,
 * so the deadline is for the whole head). */
static int read_head(struct conn *c)
{
    green_http_server_t *srv = c->srv;
    size_t max_head = srv->opt.limits.max_head;
    double deadline = c->len ? head_deadline(srv) : 0;

    for (;;) {
        if (c->len > 0 && (head_complete(c) || head_too_long(c))) {
            int rc = green_http_parse_request(c->buf, c->len,
                                              &srv->opt.limits, &c->req);
            if (rc != 0)
                return rc;
            if (c->len > max_head)
                return -431;    /* the parser should have said so */
        }
        if (c->len == c->cap && grow(c, c->cap * 2) < 0)
            return -431;

        if (c->len == 0) {
            if (wait_request(c, green__deadline(srv->opt.idle_timeout)) < 0)
                return 0;       /* closed, idle too long, or stopping */
            deadline = head_deadline(srv);
        }
        double wait = green__time_left(deadline);
        if (wait == 0)
            return -408;
        ssize_t n = conn_recv(c, c->buf + c->len, c->cap - c->len, wait);
        if (n < 0 && errno == ETIMEDOUT)
            return -408;
        if (n <= 0)
            return 0;
        c->len += (size_t)n;
    }
}

/* Make sure BODY_ROOM bytes follow the head, re-parsing if the buffer
 * had to move (the parser's pointers point into it).  Returns 0 or -1. */
static int room_for_body(struct conn *c, int head_len)
{
    if (c->cap - (size_t)head_len >= BODY_ROOM)
        return 0;
    if (grow(c, (size_t)head_len + BODY_ROOM) < 0)
        return -1;
    return green_http_parse_request(c->buf, c->len, &c->srv->opt.limits,
                                    &c->req) == head_len ? 0 : -1;
}

/* The request is over: what follows it in the buffer (the next pipelined
 * request, or part of it) moves to the front. */
static void next_request(struct conn *c)
{
    memmove(c->buf, c->buf + c->pos, c->len - c->pos);
    c->len -= c->pos;
    c->pos = 0;
    c->scanned = 0;
    c->line_seen = 0;
}

/* ---- 2. The request body: wsgi.input ----------------------------------------- */

/* "Expect: 100-continue": the client waits for this before it sends a
 * large body.  We send it only when the application first reads, so an
 * application that refuses the upload (401, 413) never receives it. */
static int send_continue(struct conn *c)
{
    static const char line[] = "HTTP/1.1 100 Continue\r\n\r\n";
    c->continue_due = 0;
    if (c->resp.sent)
        return 0;               /* too late: the response has begun */
    return conn_sendall(c, line, sizeof line - 1,
                        c->srv->opt.send_timeout) < 0 ? -1 : 0;
}

/* Body bytes that arrived with the head come first, then the socket. */
static ssize_t read_length(struct conn *c, void *buf, size_t n)
{
    size_t want = (unsigned long long)c->body_left < n ? (size_t)c->body_left : n;
    ssize_t got;
    if (c->pos < c->len) {
        got = (ssize_t)(c->len - c->pos < want ? c->len - c->pos : want);
        memcpy(buf, c->buf + c->pos, (size_t)got);
        c->pos += (size_t)got;
    } else {
        /* Straight into the caller's buffer: never past the body, so the
         * next request's bytes stay in the socket (or in OpenSSL). */
        got = conn_recv(c, buf, want, c->srv->opt.body_timeout);
        if (got == 0)
            errno = ECONNRESET; /* the client closed half-way */
        if (got <= 0)
            return -1;
    }
    c->body_left -= got;
    c->body_done = c->body_left == 0;
    return got;
}

/* More bytes for the chunked decoder, once it has used all it had.  The
 * space after the head is reused: the body already decoded is gone. */
static int fill_chunked(struct conn *c)
{
    c->pos = c->len = c->req.head_len;
    ssize_t n = conn_recv(c, c->buf + c->len, c->cap - c->len,
                          c->srv->opt.body_timeout);
    if (n == 0)
        errno = ECONNRESET;
    if (n <= 0)
        return -1;
    c->len += (size_t)n;
    return 0;
}

static ssize_t read_chunked(struct conn *c, void *buf, size_t n)
{
    for (;;) {
        if (c->dec.done) {
            c->body_done = 1;
            return 0;
        }
        if (c->pos == c->len && fill_chunked(c) < 0)
            return -1;
        const char *data;
        size_t data_len;
        ssize_t used = green_http_chunked_feed(&c->dec, c->buf + c->pos,
                                               c->len - c->pos, n, &data,
                                               &data_len);
        if (used < 0) {
            errno = used == -413 ? EMSGSIZE : EPROTO;
            return -1;
        }
        c->pos += (size_t)used;
        if (data_len > 0) {
            memcpy(buf, data, data_len);
            return (ssize_t)data_len;
        }
    }
}

/* env->input->read: what green_input_read() calls. */
static ssize_t input_read(green_input_t *in, void *buf, size_t n)
{
    struct conn *c = (struct conn *)in;
    if (c->body_error) {
        errno = c->body_error;
        return -1;
    }
    if (c->body_done || n == 0)
        return 0;
    if (c->continue_due && send_continue(c) < 0) {
        c->body_error = errno;
        return -1;
    }
    ssize_t got = c->chunked ? read_chunked(c, buf, n) : read_length(c, buf, n);
    if (got < 0)
        c->body_error = errno;
    else
        c->body_reading = 1;
    return got;
}

/* Before the next request on this connection, the rest of this one's body
 * must be read.  Up to max_drain bytes are read and thrown away; a larger
 * body, or one the client will not send (it still waits for 100
 * Continue), closes the connection instead.  Each read asks for one byte
 * more than the budget left: a body of exactly max_drain bytes is drained,
 * one byte more is not.  Returns 0 or -1. */
static int drain_body(struct conn *c)
{
    char scratch[4096];
    long long budget = c->srv->opt.max_drain;
    if (c->body_done)
        return 0;
    if (c->continue_due || c->body_error)
        return -1;
    for (;;) {
        size_t want = budget < (long long)sizeof scratch ? (size_t)budget + 1
                                                         : sizeof scratch;
        ssize_t n = input_read(&c->input, scratch, want);
        if (n <= 0)
            return n == 0 ? 0 : -1;
        budget -= n;
        if (budget < 0)
            return -1;          /* bigger than max_drain */
    }
}

/* Has the rest of a chunked body already arrived, and is it small enough
 * to drain?  A chunked body tells its size only at its last chunk, so
 * this runs a copy of the decoder over the bytes in the buffer (it only
 * reads them); the real decoder does not move. */
static int chunked_end_buffered(const struct conn *c)
{
    green_http_chunked_t dec = c->dec;
    size_t pos = c->pos;
    long long data = 0;
    while (!dec.done && pos < c->len) {
        const char *d;
        size_t d_len;
        ssize_t used = green_http_chunked_feed(&dec, c->buf + pos, c->len - pos,
                                               SIZE_MAX, &d, &d_len);
        if (used < 0)
            return 0;           /* a bad body: the drain would fail */
        pos += (size_t)used;
        data += (long long)d_len;
    }
    return dec.done && data <= c->srv->opt.max_drain;
}

/* Would drain_body() give up?  Known before the response is sent, so
 * that its head can say "Connection: close": a client that pipelined its
 * next request behind the body then knows it was not read (without the
 * header, it would be lost without a word).  A chunked body whose end
 * has not arrived yet may be of any size: we close rather than guess. */
static int drain_hopeless(const struct conn *c)
{
    if (c->body_done)
        return 0;
    if (c->continue_due || c->body_error)
        return 1;
    if (!c->chunked)
        return c->body_left > c->srv->opt.max_drain;
    return !chunked_end_buffered(c);
}

/* ---- 3. The environ -------------------------------------------------------- */

/* The parser's pointers are not NUL-terminated, but the byte after each
 * token is a delimiter it has already checked (the space after the method
 * and after the target, the colon after a name, the space, CR or LF after
 * a value): writing a NUL there turns them into C strings in place. */
static const char *terminate(const char *s, size_t len)
{
    if (len == 0)
        return "";
    ((char *)s)[len] = '\0';
    return s;
}

/* PATH_INFO: the path percent-decoded, in a buffer of its own (decoding
 * in place would change REQUEST_URI, which shares those bytes). */
static const char *decode_path(struct conn *c)
{
    size_t len = c->req.path_len;
    if (len + 1 > c->path_cap) {
        char *p = realloc(c->path, len + 1);
        if (!p)
            return NULL;
        c->path = p;
        c->path_cap = len + 1;
    }
    memcpy(c->path, c->req.path, len);
    if (green_url_unescape(c->path, len + 1, c->path, len, 0) < 0)
        return NULL;
    return c->path;
}

/* Write an IPv4 or IPv6 address in its one canonical text ("::1", never
 * "0:0::1") into out (INET6_ADDRSTRLEN bytes).  Returns 0, or -1 when
 * `text` is not an address. */
static int canonical_addr(const char *text, char *out)
{
    unsigned char bin[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, text, bin) == 1)
        return inet_ntop(AF_INET, bin, out, INET6_ADDRSTRLEN) ? 0 : -1;
    if (inet_pton(AF_INET6, text, bin) == 1)
        return inet_ntop(AF_INET6, bin, out, INET6_ADDRSTRLEN) ? 0 : -1;
    return -1;
}

/* REMOTE_ADDR.  Behind a reverse proxy every peer is the proxy, so the
 * proxy says who its client was in X-Forwarded-For, appending that
 * address to whatever the client itself sent ("forged, 203.0.113.7").
 * Only the right-most entry was written by the proxy: everything before
 * it came from the client and may be a lie.  And only a request from the
 * trusted proxy is believed at all: anybody can send the header.  This
 * is nginx's realip module with real_ip_recursive off (see http.h). */
static const char *remote_addr(struct conn *c)
{
    const char *xff = NULL;
    if (!c->srv->trusted[0] || strcmp(c->remote, c->srv->trusted) != 0)
        return c->remote;
    for (size_t i = 0; i < c->req.nheaders; i++)   /* the last one counts */
        if (strcasecmp(c->headers[i].name, "X-Forwarded-For") == 0)
            xff = c->headers[i].value;
    if (!xff)
        return c->remote;
    const char *last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    last += strspn(last, " \t");
    char entry[INET6_ADDRSTRLEN];
    size_t len = strcspn(last, " \t");
    if (len == 0 || len >= sizeof entry)
        return c->remote;
    memcpy(entry, last, len);
    entry[len] = '\0';
    if (canonical_addr(entry, c->forwarded) < 0)
        return c->remote;       /* not an address: never pass it on */
    return c->forwarded;
}

/* Fill c->env from c->req.  Returns 0, or -1 for a path that does not
 * decode (a bad escape, or one that decodes to a NUL byte). */
static int make_environ(struct conn *c)
{
    green_http_request_t *r = &c->req;
    green_environ_t *env = &c->env;
    const char *path = decode_path(c);
    if (!path)
        return -1;
    for (size_t i = 0; i < r->nheaders; i++) {
        c->headers[i].name = terminate(r->headers[i].name, r->headers[i].name_len);
        c->headers[i].value = terminate(r->headers[i].value, r->headers[i].value_len);
    }
    *env = (green_environ_t){
        .method = terminate(r->method, r->method_len),
        .path = path,
        /* The query ends where the target does: terminated with it. */
        .query = r->query_len ? r->query : "",
        .uri = terminate(r->target, r->target_len),
        .protocol = r->minor == 0 ? "HTTP/1.0" : "HTTP/1.1",
        .remote_addr = remote_addr(c),
        .server_name = c->srv->host,
        .server_port = server_port(c->srv),
        .content_length = r->chunked ? -1 : r->content_length,
        .headers = c->headers,
        .nheaders = r->nheaders,
        .input = &c->input,
        .url_scheme = c->tls ? "https" : "http",
    };
    return 0;
}

/* Ready the body reader for the request whose head is buf[0..head_len). */
static void begin_body(struct conn *c, int head_len)
{
    green_http_request_t *r = &c->req;
    c->pos = (size_t)head_len;
    c->chunked = r->chunked;
    c->body_left = !r->chunked && r->content_length > 0 ? r->content_length : 0;
    c->body_done = !r->chunked && c->body_left == 0;
    c->body_error = c->body_reading = 0;
    if (r->chunked)
        green_http_chunked_init(&c->dec, &c->srv->opt.limits);
    /* HTTP/1.0 clients do not know 100 Continue (RFC 9110 section 10.1.1). */
    c->continue_due = r->expect_continue && !c->body_done && r->minor >= 1;
    c->input.read = input_read;
}

/* ---- 4. Writing the response ---------------------------------------------- */

/* sendmsg() is writev() for sockets, with flags: MSG_NOSIGNAL (a client
 * that went away is EPIPE, not a SIGPIPE that kills the server) and,
 * when a file follows, MSG_MORE (the head waits for the file's first
 * bytes, so both leave in one packet).  Waits on the hub when the
 * socket's buffer is full.  Returns 0, or -1 with errno. */
static int tcp_sendv(struct conn *c, struct iovec *iov, int n, int more)
{
    while (n > 0) {
        /* Every response goes out here: a stream whose sends succeed and
         * pipelined requests that are already buffered never wait, so
         * this is the one place that makes such a connection yield (see
         * green_budget_consume). */
        if (green_budget_consume() < 0)
            return -1;
        struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)n };
        ssize_t w = sendmsg(c->fd, &msg, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return -1;
            if (green_wait_write(c->fd, c->srv->opt.send_timeout) < 0)
                return -1;
            continue;
        }
        /* A short write: skip what went, carry on with the rest. */
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

/* TLS has no writev(): OpenSSL encrypts one buffer per call, and each
 * call makes at least one record (22 to 29 bytes of header, nonce and
 * tag with AES-GCM) and, here, one system call.  So small
 * pieces are gathered into one buffer of TLS's largest record, and
 * written when it fills; a piece too big to gather goes as it is.  "Hello,
 * World!" and its head still leave as one record in one write. */
static int tls_sendv(struct conn *c, const struct iovec *iov, int n)
{
    char gather[TLS_GATHER];
    size_t len = 0;
    double timeout = c->srv->opt.send_timeout;
    for (int i = 0; i < n; i++) {
        const char *p = iov[i].iov_base;
        size_t left = iov[i].iov_len;
        if (len > 0 && len + left > sizeof gather) {
            if (green_tls_sendall(c->tls, gather, len, timeout) < 0)
                return -1;
            len = 0;
        }
        if (left >= sizeof gather) {
            if (green_tls_sendall(c->tls, p, left, timeout) < 0)
                return -1;
            continue;
        }
        memcpy(gather + len, p, left);
        len += left;
    }
    return len > 0 && green_tls_sendall(c->tls, gather, len, timeout) < 0 ? -1 : 0;
}

/* Write the pieces iov[0..n) in order: section 0's way out for a
 * response made of pieces.  `more`: a file follows (TCP only). */
static int send_iov(struct conn *c, struct iovec *iov, int n, int more)
{
    return c->tls ? tls_sendv(c, iov, n) : tcp_sendv(c, iov, n, more);
}

/* A growing string for the head: the sizes are bounded (4 KiB of the
 * application's headers, a few of ours), so the buffer is never short. */
struct head {
    char buf[GREEN_RESPONSE_MAX_HEADERS * 4 + 4096 + 512];
    size_t len;
};

static void put(struct head *h, const char *s)
{
    size_t n = strlen(s);
    if (h->len + n < sizeof h->buf) {
        memcpy(h->buf + h->len, s, n);
        h->len += n;
    }
}

static void put_header(struct head *h, const char *name, const char *value)
{
    put(h, name);
    put(h, ": ");
    put(h, value);
    put(h, "\r\n");
}

/* Headers the server owns: it decides the framing and the connection. */
static int ours(const char *name)
{
    return strcasecmp(name, "Content-Length") == 0 ||
           strcasecmp(name, "Transfer-Encoding") == 0 ||
           strcasecmp(name, "Connection") == 0 ||
           strcasecmp(name, "Keep-Alive") == 0 ||
           strcasecmp(name, "Date") == 0;
}

/* A connection being taken over keeps the application's Connection
 * header ("Upgrade"): it is not ours to frame any more. */
static int upgrading(const struct conn *c, const char *name)
{
    return c->takeover && strcasecmp(name, "Connection") == 0;
}

/* The status line and headers.  No Server header: naming the software
 * and its version only helps an attacker pick an exploit (article 004). */
static void format_head(struct conn *c, struct head *h, enum framing f,
                        long long length)
{
    char num[24];
    h->len = 0;
    put(h, "HTTP/1.1 ");
    put(h, c->resp.status);
    put(h, "\r\n");
    for (size_t i = 0; i < c->resp.nheaders; i++)
        if (!ours(c->resp.headers[i].name) || upgrading(c, c->resp.headers[i].name))
            put_header(h, c->resp.headers[i].name, c->resp.headers[i].value);
    put_header(h, "Date", c->srv->date);
    if (f == FRAME_LENGTH) {
        snprintf(num, sizeof num, "%lld", length);
        put_header(h, "Content-Length", num);
    } else if (f == FRAME_CHUNKED) {
        put_header(h, "Transfer-Encoding", "chunked");
    }
    if (c->takeover)
        ;                       /* the application's "Connection: Upgrade" */
    else if (!c->keep_alive)
        put_header(h, "Connection", "close");
    else if (c->req.minor == 0)
        put_header(h, "Connection", "keep-alive");
    put(h, "\r\n");
}

/* A list body: the head and every chunk in one sendmsg() (several for
 * more than MAX_IOV chunks).  For "Hello, World!" that is one system
 * call for the whole response. */
static int send_list(struct conn *c, struct head *h, green_body_t *body,
                     int with_body)
{
    struct iovec iov[MAX_IOV];
    green_chunk_t chunk;
    int n = 0;
    iov[n++] = (struct iovec){ h->buf, h->len };
    while (with_body && green_body_next(body, &chunk)) {
        iov[n++] = (struct iovec){ (void *)chunk.data, chunk.len };
        c->body_sent += (long long)chunk.len;
        if (n == MAX_IOV) {
            if (send_iov(c, iov, n, 0) < 0)
                return -1;
            n = 0;
        }
    }
    return n > 0 ? send_iov(c, iov, n, 0) : 0;
}

/* Over TLS a file cannot go by sendfile(): the kernel would put its
 * plaintext on the wire.  Its bytes must come up to us to be encrypted:
 * read (pread, at the body's own offset) in pieces of FILE_PIECE, each
 * written with green_tls_sendall; memory stays bounded whatever the
 * file's size.  (Linux can encrypt in the kernel too, kernel TLS with
 * OpenSSL's SSL_sendfile, when the tls module is loaded and OpenSSL was
 * built for it; the kit does not rely on it.) */
static int send_file_tls(struct conn *c, green_body_t *body, long long left)
{
    char *piece = malloc(FILE_PIECE);
    off_t off = (off_t)body->offset;
    int rc = piece ? 0 : -1;
    while (rc == 0 && left > 0) {
        ssize_t n = pread(body->fd, piece,
                          left < FILE_PIECE ? (size_t)left : FILE_PIECE, off);
        if (n == 0)
            errno = EIO;        /* the file shrank: Content-Length lied */
        if (n <= 0 ||
            green_tls_sendall(c->tls, piece, (size_t)n, c->srv->opt.send_timeout) < 0) {
            rc = -1;
            break;
        }
        off += n;
        left -= n;
        c->body_sent += n;
    }
    free(piece);
    return rc;
}

/* A file body: the head, then sendfile(): the kernel copies the file to
 * the socket, the bytes never come up to us.  Over TLS they must
 * (send_file_tls). */
static int send_file(struct conn *c, struct head *h, green_body_t *body,
                     int with_body)
{
    struct iovec iov = { h->buf, h->len };
    if (send_iov(c, &iov, 1, with_body && body->length > 0) < 0)
        return -1;
    off_t off = (off_t)body->offset;
    long long left = with_body ? body->length : 0;
    if (c->tls)
        return send_file_tls(c, body, left);
    while (left > 0) {
        if (green_budget_consume() < 0)     /* as in send_iov */
            return -1;
        ssize_t n = sendfile(c->fd, body->fd, &off,
                             left < (1 << 20) ? (size_t)left : (1 << 20));
        if (n > 0) {
            left -= n;
            c->body_sent += n;
        } else if (n == 0) {
            errno = EIO;        /* the file shrank: Content-Length lied */
            return -1;
        } else if (errno != EINTR && (errno != EAGAIN ||
                   green_wait_write(c->fd, c->srv->opt.send_timeout) < 0)) {
            return -1;
        }
    }
    return 0;
}

/* One piece of a streamed body: chunked ("d\r\n" data "\r\n") or raw
 * (close-delimited).  `h` is the head, when this is the first piece. */
static int send_piece(struct conn *c, struct head *h, const green_chunk_t *ch,
                      int chunked)
{
    struct iovec iov[4];
    char size[24];
    int n = 0;
    if (h)
        iov[n++] = (struct iovec){ h->buf, h->len };
    if (chunked) {
        iov[n++] = (struct iovec){ size, (size_t)snprintf(size, sizeof size,
                                                          "%zx\r\n", ch->len) };
    }
    iov[n++] = (struct iovec){ (void *)ch->data, ch->len };
    if (chunked)
        iov[n++] = (struct iovec){ "\r\n", 2 };
    c->body_sent += (long long)ch->len;
    return send_iov(c, iov, n, 0);
}

static int send_simple(struct conn *c, int code, int keep_alive);

/* A generator body: each chunk is sent as soon as it is yielded (the
 * generator may sleep between two: the client sees them arrive one by
 * one).  `first` is the chunk already taken to see whether the
 * application called start_response (have_first: 1 it is a chunk, 0 the
 * body was empty, -1 none taken yet).
 *
 * A body that fails (green_body_error) before its first chunk gets a 500
 * instead, since nothing has been sent; once the head is out, only the
 * end of the connection can say it: the last chunk "0\r\n\r\n" would
 * tell the client that a cut body is whole (pywsgi, whose generator
 * raised, closes the same way).  A 1.0 client cannot tell the
 * difference: a close is how its body ends anyway. */
static int send_stream(struct conn *c, struct head *h, green_body_t *body,
                       enum framing f, green_chunk_t *first, int have_first)
{
    int chunked = f == FRAME_CHUNKED;
    if (have_first < 0)
        have_first = green_body_next(body, first);
    if (have_first) {
        if (send_piece(c, h, first, chunked) < 0)
            return -1;
        h = NULL;
        green_chunk_t chunk;
        while (green_body_next(body, &chunk))
            if (send_piece(c, NULL, &chunk, chunked) < 0)
                return -1;
    }
    if (green_body_error(body)) {
        if (h)
            return send_simple(c, 500, 0);
        errno = green_body_error(body);
        return -1;              /* the connection closes: a cut response */
    }
    struct iovec iov[2];
    int n = 0;
    if (h)
        iov[n++] = (struct iovec){ h->buf, h->len };
    if (chunked)
        iov[n++] = (struct iovec){ "0\r\n\r\n", 5 };   /* the last chunk */
    return n ? send_iov(c, iov, n, 0) : 0;
}

/* No body for HEAD, for 1xx, 204 and 304 (RFC 9110 section 6.4.1). */
static int bodiless(const struct conn *c)
{
    int code = c->resp.code;
    return code < 200 || code == 204 || code == 304;
}

/* How the body will be delimited; also settles keep_alive.
 *
 * A generator that streams while it reads the request body (/echo) has
 * read only its first piece when the head leaves: the rest would look
 * hopeless to drain, and every large or chunked echo would close its
 * connection.  It will most likely read the body to its end, so the
 * connection is kept; if it stops early, serve_request() drains the
 * rest or closes then, without the "Connection: close" it could not
 * know to send. */
static enum framing choose_framing(struct conn *c, const green_body_t *body)
{
    const char *conn_header = green_response_header(&c->resp, "Connection");
    int echoing = !green_body_is_list(body) && c->req.minor >= 1 &&
                  c->body_reading && !c->body_error;
    c->keep_alive = c->req.keep_alive && !green__http_closing(c->srv) &&
                    !(conn_header && strcasecmp(conn_header, "close") == 0) &&
                    (echoing || !drain_hopeless(c));
    if (bodiless(c))
        return FRAME_NONE;
    if (green_body_is_list(body))
        return FRAME_LENGTH;
    if (c->req.minor >= 1)
        return FRAME_CHUNKED;
    c->keep_alive = 0;          /* a 1.0 client: the close ends the body */
    return FRAME_CLOSE;
}

/* Send the response for `body`.  Returns 0, or -1 when the connection is
 * broken (the client went away, a send timed out). */
static int send_body(struct conn *c, green_body_t *body, green_chunk_t *first,
                     int have_first)
{
    struct head h;
    int is_head = strcmp(c->env.method, "HEAD") == 0;
    enum framing f = choose_framing(c, body);
    int with_body = !is_head && f != FRAME_NONE;

    format_head(c, &h, f, green_body_length(body));
    c->resp.sent = 1;           /* start_response may no longer change it */
    if (!with_body) {
        struct iovec iov = { h.buf, h.len };
        return send_iov(c, &iov, 1, 0);
    }
    if (body->is_file)
        return send_file(c, &h, body, 1);
    if (f == FRAME_LENGTH)
        return send_list(c, &h, body, 1);
    return send_stream(c, &h, body, f, first, have_first);
}

/* A response of our own (an error, usually): text/plain, a short body. */
static int send_simple(struct conn *c, int code, int keep_alive)
{
    char status[64], text[80];
    snprintf(status, sizeof status, "%d %s", code, green_http_reason(code));
    snprintf(text, sizeof text, "%s\n", status);
    green_header_t type = { "Content-Type", "text/plain" };
    green_response_init(&c->resp);
    green_start_response(&c->resp, status, &type, 1);
    green_body_t body = green_body_str(text);
    struct head h;
    c->keep_alive = keep_alive;
    format_head(c, &h, FRAME_LENGTH, green_body_length(&body));
    c->resp.sent = 1;
    return send_list(c, &h, &body, 1);
}

/* ---- 5. The keep-alive loop -------------------------------------------------- */

/* The application did not call green_start_response() (or its headers
 * were refused, e.g. a CR LF in a value): nothing it made can be sent,
 * so the client gets a 500 and the application's body is dropped. */
static int app_failed(struct conn *c, green_body_t *body)
{
    green_body_close(body);
    return send_simple(c, 500, c->req.keep_alive && !drain_hopeless(c) &&
                                   !green__http_closing(c->srv));
}
/* Call the application and send what it returns.  Returns 0, or -1 when
 * the connection is broken. */
static int call_app_named(struct conn *c)
{
    green_chunk_t first = { 0 };
    int have_first = -1;
    green_response_init(&c->resp);
    green_body_t body = green_app_call(c->srv->app, &c->env, &c->resp);
    /* A generator's head waits for its first chunk (pywsgi's rule): until
     * then the application may still call start_response, to set its
     * status late (when the generator first runs) or to change it
     * (/echo's 413 when its first read fails). */
    if (!green_body_is_list(&body))
        have_first = green_body_next(&body, &first);
    if (!c->resp.started)
        return app_failed(c, &body);
    int rc = send_body(c, &body, &first, have_first);
    green_body_close(&body);
    return rc;
}

/* While the application runs, its greenlet is named after the request
 * ("GET /cpu?ms=5000"), then gets its name back ("conn 127.0.0.1:40312"):
 * a report of a greenlet that holds the loop (chapter 3's detector,
 * chapter 12's heartbeat) then says what it was doing, not only whom it
 * served.  A name keeps 31 characters: a long URI is cut. */
static void name_after_request(const green_environ_t *env, char *saved, size_t size)
{
    char name[64];
    snprintf(saved, size, "%s", green_name(green_current()));
    snprintf(name, sizeof name, "%s %s", env->method, env->uri);
    green_set_name(green_current(), name);
}

/* call_app_named, under the request's name. */
static int call_app(struct conn *c)
{
    char saved[32];
    name_after_request(&c->env, saved, sizeof saved);
    int rc = call_app_named(c);
    green_set_name(green_current(), saved);
    return rc;
}

int green_http_takeover(green_environ_t *env, green_takeover_fn_t fn,
                        void *arg)
{
    /* env->input is the first member of our struct conn, and its read is
     * ours: anything else is some other server's request. */
    if (env == NULL || fn == NULL || env->input == NULL ||
        env->input->read != input_read) {
        errno = EINVAL;
        return -1;
    }
    struct conn *c = (struct conn *)env->input;
    c->takeover = fn;
    c->takeover_arg = arg;
    return 0;
}

/* Serve the request whose head is buf[0..head_len).  Returns 1 to keep
 * the connection for the next request, 0 to close it, HAND_OVER when the
 * application took it over (green_http_takeover). */
static int serve_request(struct conn *c, int head_len)
{
    green_http_server_t *srv = c->srv;
    int rc;
    c->body_sent = 0;
    c->takeover = NULL;
    if (room_for_body(c, head_len) < 0)
        return 0;
    begin_body(c, head_len);
    green__http_tick(srv);
    c->env.method = NULL;
    if (make_environ(c) < 0) {
        rc = send_simple(c, 400, 0);
        green__http_log_request(srv, c->remote, NULL, 400, c->body_sent);
        c->linger = 1;
    } else {
        rc = call_app(c);
    }
    srv->requests++;
    c->served++;
    if (srv->log && c->env.method) {
        char request[1024];
        snprintf(request, sizeof request, "%s %s %s", c->env.method,
                 c->env.uri, c->env.protocol);
        green__http_log_request(srv, c->env.remote_addr, request, c->resp.code,
                                c->body_sent);
    }
    if (rc < 0)
        return 0;               /* the connection is broken */
    if (c->takeover)
        return HAND_OVER;
    if (!c->keep_alive || drain_body(c) < 0) {
        /* Closing with body bytes unread: close slowly, or the reset
         * they cause could destroy the response we just sent. */
        c->linger = c->linger || !c->body_done;
        return 0;
    }
    next_request(c);
    return 1;
}

/* A request the parser refused, or a head that came too slowly: answer
 * with its status, then close. */
static void reject(struct conn *c, int code)
{
    green__http_tick(c->srv);
    c->body_sent = 0;
    send_simple(c, code, 0);
    green__http_log_request(c->srv, c->remote, NULL, code, c->body_sent);
    c->linger = 1;
}

/* Over TLS, the end of what we write is said in TLS too: close_notify, so
 * that the client can tell our last byte from a cut (a body that ends
 * with the connection, HTTP/1.0's, would otherwise look truncated:
 * OpenSSL 3 reports "unexpected eof while reading" to a client that has
 * not chosen to accept it).  Then the session is freed; the server
 * closes the descriptor.  Nothing to do over plain TCP. */
static void tls_bye(struct conn *c)
{
    if (!c->tls)
        return;
    green_tls_shutdown(c->tls, CLOSE_NOTIFY_SECONDS);
    green_tls_free(c->tls);
    c->tls = NULL;
}

/* Close the way a client can read our last response: stop writing (over
 * TLS, with close_notify first), then swallow what it still sends for a
 * moment (see LINGER_SECONDS).  Those bytes are thrown away, so they are
 * read raw: no need to decrypt them. */
static void linger_close(struct conn *c)
{
    char scratch[4096];
    size_t total = 0;
    double deadline = green__deadline(LINGER_SECONDS), left;
    tls_bye(c);
    shutdown(c->fd, SHUT_WR);
    while (total < LINGER_BYTES && (left = green__time_left(deadline)) > 0) {
        ssize_t n = green_recv(c->fd, scratch, sizeof scratch, left);
        if (n <= 0)
            break;
        total += (size_t)n;
    }
}

static struct conn *conn_new(green_http_server_t *srv, int fd,
                             const struct sockaddr *peer)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c || !(c->buf = malloc(BUF_START))) {
        free(c);
        return NULL;
    }
    c->cap = BUF_START;
    c->srv = srv;
    c->fd = fd;
    c->g = green_current();
    if (peer->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr,
                  c->remote, sizeof c->remote);
    else if (peer->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)peer)->sin6_addr,
                  c->remote, sizeof c->remote);
    else
        strcpy(c->remote, "-");
    LIST_INSERT_HEAD(&srv->conns, c, link);
    return c;
}

static void conn_free(struct conn *c)
{
    if (c->tls)
        green_tls_free(c->tls);
    LIST_REMOVE(c, link);
    free(c->buf);
    free(c->path);
    free(c);
}

/* The response is out: the connection now belongs to the protocol the
 * application asked for (server.h's green_takeover_fn_t).  What the client
 * sent after this request's body (the new protocol's first bytes, maybe)
 * goes with it, copied, and the HTTP connection's own memory (its buffer,
 * its request and response records: some 14 KiB) is freed first: a
 * WebSocket may stay open for hours, and 10,000 of them would otherwise
 * keep 140 MB of HTTP state nobody reads again. */
static void hand_over(struct conn *c)
{
    int fd = c->fd;
    green_takeover_fn_t fn = c->takeover;
    void *arg = c->takeover_arg;
    if (drain_body(c) < 0) {
        conn_free(c);
        return;                 /* its body never ended: nothing to hand */
    }
    next_request(c);
    size_t len = c->len;
    char *early = malloc(len + 1);  /* + 1: a pointer even for 0 bytes */
    /* Over TLS the new protocol must go on through the same session: it
     * is registered beside fd while fn runs (tls.h, "Handing a TLS
     * connection over"), and fn finds it with green_tls_of(fd). */
    green_tls_t *tls = c->tls;
    if (!early || (tls && green_tls_attach(fd, tls) < 0)) {
        free(early);
        conn_free(c);
        return;                 /* no memory: the connection closes */
    }
    memcpy(early, c->buf, len);
    c->tls = NULL;              /* now the handover's, until fn returns */
    conn_free(c);
    fn(fd, early, len, arg);
    free(early);
    if (tls) {
        green_tls_attach(fd, NULL);
        green_tls_shutdown(tls, CLOSE_NOTIFY_SECONDS);
        green_tls_free(tls);
    }
}

/* A plain HTTP request sent to the HTTPS port (http://host:443/, a
 * common slip): the handshake would only fail with "wrong version
 * number", and the client would see a connection closed without a word.
 * It gets an answer it can read instead, in plain text, as nginx gives
 * (its error 497).  The request itself is not read: linger_close
 * swallows it, so that closing does not reset the answer away. */
static void refuse_plain_http(struct conn *c)
{
    static const char body[] = "The plain HTTP request was sent to HTTPS port\n";
    char answer[256];
    int n = snprintf(answer, sizeof answer,
                     "HTTP/1.1 400 Bad Request\r\n"
                     "Content-Type: text/plain\r\n"
                     "Content-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s", sizeof body - 1, body);
    green__http_tick(c->srv);
    if (conn_sendall(c, answer, (size_t)n, c->srv->opt.send_timeout) == n)
        c->body_sent = (long long)sizeof body - 1;
    green__http_log_request(c->srv, c->remote, NULL, 400, c->body_sent);
    c->linger = 1;
}

/* HTTPS's first steps, before any request: look at the first byte (a TLS
 * handshake starts with 0x16, a plain request with a letter), then the
 * handshake.  Both within handshake_timeout: a client that connects and
 * sends nothing, or a hello a byte at a time (a TLS Slowloris), holds a
 * greenlet and a descriptor only that long.  A hello that is garbage or
 * cut short fails the handshake (EPROTO, ECONNRESET): a stranger's noise,
 * not worth a log line.  Returns 0 when the session is ready, or -1 to
 * close the connection (after refuse_plain_http's answer, maybe). */
static int tls_accept(struct conn *c)
{
    double deadline = green__deadline(c->srv->opt.handshake_timeout);
    /* The first byte is waited for as a first request is (a stop gives
     * a silent new connection a short grace, not handshake_timeout). */
    if (wait_request(c, deadline) < 0)
        return -1;
    int tls = green_tls_sniff(c->fd, green__time_left(deadline));
    if (tls < 0)
        return -1;              /* closed, or silent for too long */
    if (tls == 0) {
        refuse_plain_http(c);
        return -1;
    }
    c->tls = green_tls_new(c->srv->opt.tls, c->fd, NULL);
    if (!c->tls)
        return -1;
    return green_tls_handshake(c->tls, green__time_left(deadline));
}

/* The handler StreamServer runs in a greenlet of its own for each
 * connection: pywsgi's handle() loop.  The server closes fd afterwards. */
static void handle_connection(int fd, const struct sockaddr *peer,
                              socklen_t peer_len, void *arg)
{
    (void)peer_len;
    green_http_server_t *srv = arg;
    struct conn *c = conn_new(srv, fd, peer);
    if (!c)
        return;
    /* Our responses leave in one sendmsg() each: nothing to gain from
     * Nagle's algorithm holding back a small last packet. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (srv->opt.tls && tls_accept(c) < 0) {
        if (c->linger)
            linger_close(c);
        conn_free(c);           /* frees a failed session, sending nothing */
        return;
    }

    for (;;) {
        int rc = read_head(c);
        if (rc == 0)
            break;              /* closed, idle, or stopping */
        if (rc < 0) {
            reject(c, -rc);
            break;
        }
        rc = serve_request(c, rc);
        if (rc == HAND_OVER) {
            hand_over(c);       /* frees c */
            return;
        }
        if (rc == 0)
            break;
    }
    if (c->linger)
        linger_close(c);
    else
        tls_bye(c);             /* close_notify, then the server closes fd */
    conn_free(c);
}

/* ---- 6. The server's life -------------------------------------------------- */

/* Zero means "the default", for each option. */
static void fill_defaults(green_http_options_t *o)
{
    green_http_limits_t *l = &o->limits;
    if (!l->max_request_line) l->max_request_line = 8190;
    if (!l->max_head)         l->max_head = DEFAULT_MAX_HEAD;
    if (!l->max_headers)      l->max_headers = GREEN_HTTP_MAX_HEADERS;
    if (!l->max_body)         l->max_body = LLONG_MAX;   /* no limit: see http.h */
    /* Times: 0 is the default, negative is forever (server.h). */
    if (o->idle_timeout == 0)   o->idle_timeout = DEFAULT_IDLE_TIMEOUT;
    if (o->header_timeout == 0) o->header_timeout = DEFAULT_HEADER_TIMEOUT;
    if (o->body_timeout == 0)   o->body_timeout = DEFAULT_BODY_TIMEOUT;
    if (o->send_timeout == 0)   o->send_timeout = DEFAULT_SEND_TIMEOUT;
    if (o->handshake_timeout == 0) o->handshake_timeout = DEFAULT_HANDSHAKE_TIMEOUT;
    if (o->max_drain <= 0)      o->max_drain = DEFAULT_MAX_DRAIN;
    if (!o->static_prefix)      o->static_prefix = "/static/";
    if (o->access_log_fd <= 0)  o->access_log_fd = -1;
}

/* Wake every connection that waits for its next request: wait_request()
 * sees the server closing, and closes an answered connection (within
 * NEXT_REQUEST_GRACE of its last response) or gives a new one a short
 * wait for its first request.  Connections in
 * the middle of a request are left alone: they see the server closing
 * when their response is out, and say "Connection: close". */
static void close_idle(green_http_server_t *srv)
{
    struct conn *c;
    LIST_FOREACH(c, &srv->conns, link)
        if (c->idle)
            green_ready(c->g, NULL);
}

/* The core stops accepting (a stop, a signal): idle connections close
 * now, the others after their response. */
static void on_close(void *arg)
{
    close_idle(arg);
}

/* The graceful stop is over: the last lines of the access log go out. */
static void on_stopped(void *arg)
{
    green_http_server_t *srv = arg;
    if (srv->flusher) {
        green_kill(srv->flusher, 1.0);
        green_free(srv->flusher);
        srv->flusher = NULL;
    }
    if (srv->log)
        green__http_log_flush(srv);
}

static const green_server_hooks_t http_hooks = {
    .close = on_close,
    .stopped = on_stopped,
};

green_server_t *green_http_server_core(green_http_server_t *srv)
{
    return srv->tcp;
}

green_http_server_t *green_http_server_new(const char *host, const char *port,
                                           green_app_t *app,
                                           const green_http_options_t *opt)
{
    green_http_server_t *srv = calloc(1, sizeof *srv);
    if (!srv)
        return NULL;
    if (opt)
        srv->opt = *opt;
    fill_defaults(&srv->opt);
    if (srv->opt.trusted_proxy &&
        canonical_addr(srv->opt.trusted_proxy, srv->trusted) < 0) {
        free(srv);
        errno = EINVAL;
        return NULL;
    }
    srv->opt.trusted_proxy = srv->trusted[0] ? srv->trusted : NULL;
    srv->host = strdup(host && *host ? host : "0.0.0.0");
    srv->tcp = green_server_new(host, port, handle_connection, srv, &srv->opt.server);
    if (!srv->host || !srv->tcp || green__http_static_setup(srv, app) < 0)
        goto err;
    green_server_set_hooks(srv->tcp, &http_hooks, srv);
    if (srv->opt.access_log_fd >= 0 && !(srv->log = malloc(GREEN__HTTP_LOG_BUF)))
        goto err;
    return srv;
err:;
    int err = errno ? errno : ENOMEM;
    green_http_server_free(srv);
    errno = err;
    return NULL;
}

unsigned long green_http_server_requests(const green_http_server_t *srv)
{
    return srv->requests;
}

void green_http_server_free(green_http_server_t *srv)
{
    if (!srv)
        return;
    green_server_free(srv->tcp);   /* stops it first: on_stopped runs */
    if (srv->statics.prefix)    /* set up: the folder is open */
        close(srv->statics.dir_fd);
    free(srv->statics.prefix);
    free(srv->log);
    free(srv->host);
    free(srv);
}
