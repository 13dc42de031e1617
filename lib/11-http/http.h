/*
 * http.h - chapter 11: a cooperative HTTP/1.1 server (gevent's pywsgi, in C).
 *
 * Article 004 compares gevent's two WSGI servers.  gevent.wsgi sat on
 * libevent's evhttp: fast, but it buffers every response (Content-Length,
 * no streaming), closes every connection, and names its versions in a
 * Server header.  gevent.pywsgi speaks HTTP itself, on green sockets:
 * streaming responses (chunked), keep-alive and pipelining.  Chapter 10
 * shows the first design; this is the second, built on the layers below:
 *
 *     StreamServer (server.h)     a greenlet per connection
 *       read into a buffer        green_recv (io.h)
 *       parse the head in place   green_http_parse_request (http_parser.h)
 *       call the application      green_app_call (wsgi.h)
 *       write the response        writev / sendfile, waiting on the hub
 *       loop while keep-alive
 *     (over TLS, the reads and writes go through green_tls_* (tls.h))
 *
 * What it does, and the option or rule behind each:
 *   - HTTP/1.0 and 1.1; keep-alive (1.1 by default, 1.0 when asked);
 *     pipelined requests answered in order; HEAD answered without a body.
 *   - Responses framed by Content-Length (a list or file body), chunked
 *     encoding (a generator body, to a 1.1 client) or the end of the
 *     connection (a generator body, to a 1.0 client).  The head and the
 *     first part of the body leave in one writev(); TCP_NODELAY is set.
 *     A Date header (formatted once a second); no Server header.
 *   - Request bodies (Content-Length or chunked) are read only when the
 *     application reads env->input; "Expect: 100-continue" is answered at
 *     that first read.  A body left unread is drained before the next
 *     request, up to `max_drain` bytes (exactly max_drain is drained), or
 *     the connection is closed and the response says "Connection: close":
 *     a Content-Length over max_drain, a client still waiting for 100
 *     Continue, or a chunked body whose end has not arrived when the
 *     response starts (its size is unknown until then).  A body may be
 *     of any size unless limits.max_body sets one: it is never held here.
 *   - A generator body that fails half-way (green_body_error: /echo's
 *     client stopped sending) is cut: the connection closes without the
 *     last chunk, so the client knows the response is not whole.
 *   - A bad request is answered with the parser's status (400, 413, 414,
 *     431, 501, 505) and "Connection: close"; an application that does not
 *     call green_start_response() (or calls it with a bad header) gets a
 *     500 sent for it.
 *   - Timeouts: `idle_timeout` between requests, `header_timeout` for a
 *     whole request head (a Slowloris client that sends a byte a second
 *     is closed), `body_timeout` for each read of a body, `send_timeout`
 *     for each write (each one negative: no limit).
 *   - Static files: GET and HEAD under `static_prefix` are served from
 *     `static_dir` with sendfile(), Content-Type by extension,
 *     Last-Modified and 304 on If-Modified-Since; ".." and anything that
 *     resolves outside the folder are refused (403 or 404), in the same
 *     lookup as the open (openat2 RESOLVE_BENEATH, or a walk with
 *     O_NOFOLLOW); only regular files are served (a FIFO is 404).
 *   - An access log line per request in the Common Log Format, buffered
 *     and written once a second (or when the buffer fills, and at stop).
 *     What the client wrote (the request line) is escaped as nginx does:
 *     '"', '\', control bytes and bytes >= 0x7f become "\xHH", so a
 *     client cannot forge a field or a line.
 *   - At most `server.max_connections` open at once (by default what
 *     RLIMIT_NOFILE allows, less a reserve): past it, no accept until one
 *     closes, so a flood of held connections cannot take all the memory
 *     or every descriptor.
 *   - A graceful stop: no new connections, idle keep-alive connections
 *     closed at once (or 0.1 s after their last response, when that is
 *     later: a next request may be on its way), a connection accepted
 *     but not yet answered given 2 s for its first request, requests in
 *     flight finished within a grace period.
 *   - A connection handed to another protocol after a 101 response
 *     (green_http_takeover: chapter 13's WebSocket upgrade).
 *   - HTTPS, when `tls` is set (a server context, tls.h): the same server,
 *     every byte of a connection through its TLS session (ALPN http/1.1),
 *     wsgi.url_scheme "https".  The first byte is looked at before the
 *     handshake: a plain HTTP request sent to the TLS port is answered
 *     "400 Bad Request" in plain text ("The plain HTTP request was sent
 *     to HTTPS port", as nginx says) and closed; the handshake has
 *     `handshake_timeout` in all, and one that fails (garbage, a cut
 *     hello) closes the connection without a word.  Static files are
 *     read and encrypted here (sendfile() would send them in clear); a
 *     connection that closes sends close_notify first; a takeover finds
 *     the session with green_tls_of(fd) (tls.h).
 *
 * Its life (listening, the cap on connections, the back-off when out of
 * descriptors, signals, the graceful stop) is chapter 7's core: a
 * green_server_t, server.h.
 *
 * Errors, C style: -1 with errno.
 */
#ifndef GREEN_HTTP_H
#define GREEN_HTTP_H

#include <time.h>

#include "http_parser.h"
#include "server.h"
#include "tls.h"
#include "wsgi.h"

/* Options, in the style of all three servers (server.h): zero everywhere
 * means the defaults (shown); a negative time means no limit. */
typedef struct green_http_options {
    green_http_limits_t limits;  /* the parser's limits (http_parser.h),
                                    but max_body is no limit by default
                                    (pywsgi has none either): the server
                                    never holds a body, it hands it to the
                                    application as it is read, so its size
                                    costs no memory here.  An application
                                    that buffers one sets its own limit
                                    (green_input_read_all's max: 413); set
                                    max_body to refuse larger bodies (413)
                                    on every route */
    double idle_timeout;         /* 15 s: a keep-alive connection's wait
                                    for its next request */
    double header_timeout;       /* 10 s: from a request's first byte to
                                    the end of its head */
    double body_timeout;         /* 30 s: each read of a request body */
    double send_timeout;         /* 30 s: each write of the response */
    long long max_drain;         /* 64 KiB: the most of an unread request
                                    body read and thrown away to keep the
                                    connection (more: the response says
                                    "Connection: close" and it closes) */
    const char *static_dir;      /* NULL: no static files */
    const char *static_prefix;   /* "/static/": the URL they live under */
    int access_log_fd;           /* where the access log goes: 2 for
                                    stderr, a file's fd; 0 or -1: none */
    const char *trusted_proxy;   /* NULL: none.  The address of the
                                    reverse proxy in front (chapter 12's
                                    nginx: "127.0.0.1").  A request whose
                                    peer is exactly this address gets as
                                    REMOTE_ADDR the right-most address of
                                    its last X-Forwarded-For header: the
                                    one the proxy itself appended (what the
                                    client sent comes before it, and may be
                                    forged).  Nginx's realip module with
                                    real_ip_recursive off does the same.
                                    From any other peer, or when that
                                    entry is not an IPv4 or IPv6 address,
                                    the header is ignored and REMOTE_ADDR
                                    is the peer.  The access log shows
                                    REMOTE_ADDR.  Not an address:
                                    green_http_server_new fails, EINVAL */
    green_tls_ctx_t *tls;        /* NULL: plain HTTP over TCP.  A server
                                    context (tls.h's green_tls_server_ctx):
                                    every connection is HTTPS.  Not copied
                                    and not freed: it must outlive the
                                    server (connections keep their own
                                    reference, tls.h) */
    double handshake_timeout;    /* 10 s: from accept to the end of the
                                    TLS handshake, for the whole of it (a
                                    client that stalls in its hello, a TLS
                                    Slowloris, is closed then) */
    green_server_options_t server;  /* chapter 7's core: backlog and
                                    max_connections (by default what
                                    RLIMIT_NOFILE allows, less 64) */
} green_http_options_t;

typedef struct green_http_server green_http_server_t;

/* A server for host:port (port "0": the kernel picks) that serves `app`
 * (which must outlive the server).  opt may be NULL (all defaults); it is
 * copied, the strings too.  Nothing happens until green_server_start() on
 * its core.  Returns NULL with errno (ENOMEM; ENOENT: the static folder
 * does not exist; EINVAL: trusted_proxy is not an IP address).  Python: pywsgi.WSGIServer((host, port), app). */
green_http_server_t *green_http_server_new(const char *host, const char *port,
                                           green_app_t *app,
                                           const green_http_options_t *opt);

/* The server's life is chapter 7's core: start, stop and the rest are
 * green_server_* calls (server.h) on this, as for every server of the
 * kit.  What they add here:
 *   green_server_close (a signal with green_server_close_on_signal):
 *     idle keep-alive connections are closed at once, the others after
 *     their response, which says "Connection: close";
 *   green_server_stop(core, grace): the requests in flight get `grace`
 *     seconds, what is left is killed, and the access log is flushed.
 *     Python: server.stop(timeout=grace).
 * The core belongs to srv: free srv (which frees it), never the core. */
green_server_t *green_http_server_core(green_http_server_t *srv);

/* Take this request's connection over once its response is written: the
 * contract of server.h's green_takeover_fn_t (fn runs in the connection's
 * greenlet, with the bytes the client sent after this request; the server
 * closes fd when fn returns; a graceful stop waits for fn, then kills it).
 * Call it from the application, which answers "101 Switching Protocols"
 * with its own Upgrade and Connection headers (both are sent as the
 * application gave them); the response should have no body.  A request
 * body the application left unread is drained first (up to max_drain;
 * past it the connection closes and fn is not called).  Returns 0, or -1
 * with errno EINVAL when env is not a request of this server (chapter
 * 10's evhttp cannot hand a connection over).  Chapter 13's WebSocket
 * upgrade is built on this. */
int green_http_takeover(green_environ_t *env, green_takeover_fn_t fn,
                        void *arg);

/* Requests answered so far (all connections). */
unsigned long green_http_server_requests(const green_http_server_t *srv);

/* Free the server (stopping it first, grace 0, if it runs).  From a
 * greenlet that may wait, before green_hub_destroy(). */
void green_http_server_free(green_http_server_t *srv);

/* ---- Pieces the server is made of, for tests and exercises ---------------- */

/* The Content-Type for a file name, by its extension ("index.html" ->
 * "text/html; charset=utf-8"); "application/octet-stream" if unknown. */
const char *green_http_content_type(const char *name);

/* An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", 29 characters) for t
 * into buf (at least 30 bytes).  Returns buf. */
char *green_http_date(time_t t, char *buf);

/* The time in an IMF-fixdate, or -1 when it is not one. */
time_t green_http_parse_date(const char *s);

#endif
