/*
 * wsgi_evhttp.c - chapter 10: a green_app_t on libevent's evhttp,
 * gevent.wsgi's design.  See wsgi_evhttp.h.
 *
 * Two kinds of code run here:
 *   - evhttp's callbacks (on_request, on_complete, on_accept_error) run in the
 *     hub, inside libevent's loop: they must never wait.  on_request only
 *     spawns a greenlet;
 *   - a greenlet per request (handle) does everything that may wait: it
 *     calls the application and walks its body.
 * Nothing else is needed to share one event_base: a greenlet that calls
 * evhttp_send_reply() runs between two turns of the loop, and the loop
 * writes the reply out on its next turn.
 *
 * A request's strings (path, headers...) are copied out of the
 * evhttp_request and its body is moved out of evhttp's buffer before the
 * application runs, so the environ stays valid whatever happens to the
 * connection; the evhttp_request itself is only touched again to reply.
 */
#include "wsgi_evhttp.h"
#include "http_parser.h"
#include "hub.h"
#include "io.h"
#include "server.h"
#include "sync.h"
#include "url.h"

#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>   /* req->major, req->minor: no getter in 2.1 */
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define FLUSH_GRACE 1.0           /* replies sent get this long to go out */
/* evhttp has no "no timeout": a negative idle_timeout is a year. */
#define FOREVER_SECONDS (365 * 24 * 3600)

struct guard;

/* A request from evhttp's callback until its greenlet is done. */
struct call {
    green_evhttp_t *srv;          /* NULL: the server was freed meanwhile */
    struct evhttp_request *req;   /* NULL: freed with the server */
    int started;                  /* its greenlet has begun */
    green_response_t resp;        /* what start_response recorded */
    struct call *prev, *next;
};

/* The server's life (listening socket, states, signals, back-off, the
 * graceful stop) is chapter 7's core, srv->core: evhttp only accepts on
 * the core's socket, through the hooks of the last part. */
struct green_evhttp {
    green_server_t *core;         /* chapter 7's core: the server's life */
    green_evhttp_options_t opt;   /* defaults filled in */
    char *server_name;            /* SERVER_NAME */
    char port_str[8];             /* SERVER_PORT */
    green_app_t *app;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;  /* evhttp's listener, or NULL */
    green_event_t *flushed;       /* set when no reply is left to write */
    int unsent;                   /* replies handed to evhttp, not written */
    struct event *backoff_timer;  /* re-enables accepting */
    struct call *calls;
    green_evhttp_t *next_server;  /* the list of servers accepting */
    unsigned long served;
    struct guard *refused;        /* connections whose guard said no */
};

static void say(const green_evhttp_t *srv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "evhttp %s: ", green_server_label(srv->core));
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- The environ ------------------------------------------------------ */

/* The request as the application sees it, in memory of its own. */
struct request {
    green_environ_t env;
    struct body_input {
        green_input_t input;
        struct evbuffer *buf;     /* the body, moved out of evhttp's */
    } body;
    green_header_t *headers;
    char *strings;                /* every string below points in here */
    size_t used;
    char protocol[16];
    char remote[64];
};

/* wsgi.input: evhttp has read the whole body already, so a read never
 * waits. */
static ssize_t body_read(green_input_t *in, void *buf, size_t n)
{
    struct body_input *b = (struct body_input *)in;
    int got = evbuffer_remove(b->buf, buf, n);
    if (got < 0)
        errno = EIO;
    return got;
}

static const char *method_name(enum evhttp_cmd_type cmd)
{
    switch (cmd) {
    case EVHTTP_REQ_GET:     return "GET";
    case EVHTTP_REQ_POST:    return "POST";
    case EVHTTP_REQ_HEAD:    return "HEAD";
    case EVHTTP_REQ_PUT:     return "PUT";
    case EVHTTP_REQ_DELETE:  return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_TRACE:   return "TRACE";
    case EVHTTP_REQ_CONNECT: return "CONNECT";
    case EVHTTP_REQ_PATCH:   return "PATCH";
    }
    return "UNKNOWN";
}

/* Copy s[0..len) into r->strings; the space was counted beforehand. */
static const char *keep(struct request *r, const char *s, size_t len)
{
    char *copy = r->strings + r->used;
    memcpy(copy, s, len);
    copy[len] = '\0';
    r->used += len + 1;
    return copy;
}

/* Percent-decode a path s[0..len) into r->strings (it can only shrink):
 * url.h's decoder, shared by every server.  NULL for a path it refuses
 * (a bad escape, "%00"). */
static const char *keep_decoded(struct request *r, const char *s, size_t len)
{
    char *start = r->strings + r->used;
    ssize_t n = green_url_unescape(start, len + 1, s, len, 0);
    if (n < 0)
        return NULL;
    r->used += (size_t)n + 1;
    return start;
}

/* Fill r from req.  Returns 0, -1 with errno ENOMEM, or EINVAL for a path
 * that does not decode (the caller answers 400). */
static int request_init(struct request *r, struct evhttp_request *req,
                        const green_evhttp_t *srv)
{
    memset(r, 0, sizeof *r);
    green_environ_t *env = &r->env;
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    struct evkeyval *h;
    const char *uri = evhttp_request_get_uri(req);
    const struct evhttp_uri *parsed = evhttp_request_get_evhttp_uri(req);
    const char *path = parsed ? evhttp_uri_get_path(parsed) : NULL;
    const char *query = parsed ? evhttp_uri_get_query(parsed) : NULL;
    if (!path)
        path = "";
    if (!query)
        query = "";

    /* One block for every string: count, allocate, copy. */
    size_t n = 0, size = strlen(uri) + strlen(path) + strlen(query) + 3;
    for (h = in->tqh_first; h; h = h->next.tqe_next) {
        size += strlen(h->key) + strlen(h->value) + 2;
        n++;
    }
    r->strings = malloc(size);
    r->headers = calloc(n ? n : 1, sizeof *r->headers);
    r->body.buf = evbuffer_new();
    if (!r->strings || !r->headers || !r->body.buf) {
        errno = ENOMEM;
        return -1;
    }
    n = 0;
    for (h = in->tqh_first; h; h = h->next.tqe_next) {
        r->headers[n].name = keep(r, h->key, strlen(h->key));
        r->headers[n].value = keep(r, h->value, strlen(h->value));
        n++;
    }
    env->headers = r->headers;
    env->nheaders = n;
    env->uri = keep(r, uri, strlen(uri));
    env->query = keep(r, query, strlen(query));
    env->path = keep_decoded(r, path, strlen(path));
    if (!env->path) {
        errno = EINVAL;
        return -1;
    }

    env->method = method_name(evhttp_request_get_command(req));
    snprintf(r->protocol, sizeof r->protocol, "HTTP/%d.%d", req->major, req->minor);
    env->protocol = r->protocol;
    /* The connection may be gone already (the client hung up). */
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    char *addr = NULL;
    ev_uint16_t port = 0;
    if (conn)
        evhttp_connection_get_peer(conn, &addr, &port);
    snprintf(r->remote, sizeof r->remote, "%s", addr ? addr : "");
    env->remote_addr = r->remote;
    env->server_name = srv->server_name;
    env->server_port = srv->port_str;
    env->url_scheme = "http";       /* evhttp here serves plain HTTP only */

    const char *length = green_environ_header(env, "Content-Length");
    env->content_length = length ? strtoll(length, NULL, 10) : -1;
    /* Moved, not copied: evbuffers hand over their memory. */
    evbuffer_add_buffer(r->body.buf, evhttp_request_get_input_buffer(req));
    r->body.input.read = body_read;
    env->input = &r->body.input;
    return 0;
}

static void request_free(struct request *r)
{
    if (r->body.buf)
        evbuffer_free(r->body.buf);
    free(r->headers);
    free(r->strings);
}

/* ---- Replies ---------------------------------------------------------- */

/* evhttp has written a reply out (the last byte is with the kernel). */
static void on_complete(struct evhttp_request *req, void *arg)
{
    (void)req;
    green_evhttp_t *srv = arg;
    if (--srv->unsent == 0)
        green_event_set(srv->flushed);
}

/* Count a reply until evhttp has written it, so that stop can wait for it
 * to go out.  A request whose client hung up is freed by evhttp at once,
 * with nothing to write and no completion. */
static void will_send(green_evhttp_t *srv, struct evhttp_request *req)
{
    srv->served++;
    if (!evhttp_request_get_connection(req))
        return;
    evhttp_request_set_on_complete_cb(req, on_complete, srv);
    if (srv->unsent++ == 0)
        green_event_clear(srv->flushed);
}

/* An error of the adapter's own: evhttp's small HTML page, and it closes
 * the connection. */
static void send_error(struct call *c, int code, const char *reason)
{
    will_send(c->srv, c->req);
    evhttp_send_error(c->req, code, reason);
}

/* Headers that frame the message are the server's business: it knows
 * the length of what it actually sends. */
static int is_framing(const char *name)
{
    return strcasecmp(name, "Content-Length") == 0 ||
           strcasecmp(name, "Transfer-Encoding") == 0;
}

/* Send the whole body, buffered in `out`, with what start_response set. */
static void send_response(struct call *c, struct evbuffer *out)
{
    green_evhttp_t *srv = c->srv;
    const green_response_t *resp = &c->resp;
    struct evkeyvalq *headers = evhttp_request_get_output_headers(c->req);
    for (size_t i = 0; i < resp->nheaders; i++)
        if (!is_framing(resp->headers[i].name))
            evhttp_add_header(headers, resp->headers[i].name, resp->headers[i].value);
    /* Set for HEAD too (the length a GET would have); never for the
     * statuses that have no body. */
    if (resp->code >= 200 && resp->code != 204 && resp->code != 304) {
        char length[24];
        snprintf(length, sizeof length, "%zu", evbuffer_get_length(out));
        evhttp_add_header(headers, "Content-Length", length);
    }
    if (green_server_state(srv->core) >= GREEN_SERVER_CLOSING)
        /* stopping: clients should go away */
        evhttp_add_header(headers, "Connection", "close");
    /* evhttp 2.1 sends whatever body it is given, even to a HEAD. */
    if (evhttp_request_get_command(c->req) == EVHTTP_REQ_HEAD)
        evbuffer_drain(out, evbuffer_get_length(out));
    will_send(srv, c->req);
    evhttp_send_reply(c->req, resp->code, resp->status + 4, out);
}

/* Call the application and answer with all it produced. */
static void respond(struct call *c, struct request *r)
{
    green_response_init(&c->resp);
    green_body_t body = green_app_call(c->srv->app, &r->env, &c->resp);
    struct evbuffer *out = evbuffer_new();
    green_chunk_t chunk;
    int failed = out == NULL;
    /* The lesson of this chapter: the generator runs to its end, into
     * memory, before the client sees the status line.  (One upside: until
     * then the application may still replace its status, WSGI's exc_info
     * case, since nothing has been sent.) */
    while (!failed && green_body_next(&body, &chunk))
        failed = evbuffer_add(out, chunk.data, chunk.len) != 0;
    /* A body that failed half-way (green_body_error) is not sent as if
     * it were whole: nothing has gone out yet, so it becomes a 500. */
    failed = failed || green_body_error(&body) != 0;
    green_body_close(&body);

    if (c->srv == NULL || c->req == NULL)
        ;                         /* freed meanwhile: nobody to answer */
    else if (failed)
        send_error(c, 500, "Internal Server Error");
    else if (!c->resp.started) {
        say(c->srv, "%s %s: the application never called "
            "green_start_response: 500", r->env.method, r->env.uri);
        send_error(c, 500, "Internal Server Error");
    } else {
        c->resp.sent = 1;         /* start_response may not change it now */
        send_response(c, out);
    }
    if (out)
        evbuffer_free(out);
}

static void unlink_call(struct call *c)
{
    if (c->srv) {
        if (c->prev)
            c->prev->next = c->next;
        else
            c->srv->calls = c->next;
        if (c->next)
            c->next->prev = c->prev;
    }
    free(c);
}

/* What each request's greenlet runs. */
static void *handle(void *arg)
{
    struct call *c = arg;
    struct request r;
    c->started = 1;
    if (request_init(&r, c->req, c->srv) == 0)
        respond(c, &r);
    else if (errno == EINVAL)     /* a path that does not decode */
        send_error(c, 400, "Bad Request");
    else
        send_error(c, 500, "Internal Server Error");
    request_free(&r);
    unlink_call(c);
    return NULL;
}

/* ---- The guard: framing checked before evhttp reads it --------------- */

/* evhttp 2.1 reads a chunked body loosely: it never checks the CRLF that
 * must follow a chunk's data (it skips empty lines and takes the next line
 * for a size), so "5\r\nhelloabc\r\n" makes it wait for 0xabc more bytes
 * until the idle timeout, and "5\r\nhello0\r\n\r\n" is a whole body to it;
 * yet a valid chunk extension ("5;x=1") is a 413.  And 2.1 gives us no
 * hook into a request before its body is read (see the lesson).  So the
 * bytes of every connection pass through a filter of ours on their way to
 * evhttp, a guard that frames each request with the kit's own parser
 * (chapter 11's: green_http_parse_request for the head,
 * green_http_chunked_feed for a chunked body) and hands evhttp only what
 * it framed:
 *   - a head, and a Content-Length body, as they came;
 *   - a chunked body re-encoded plainly, "<hex>\r\n<data>\r\n" for each
 *     piece of data and "0\r\n\r\n" at its end: no extension, no trailer,
 *     nothing evhttp could read in another way.
 * At the first byte that is not HTTP, the guard records the status to
 * answer, drops the client's bytes from then on, and hands evhttp an end
 * at once (a stand-in request, or "0\r\n\r\n" for a body), so that evhttp
 * delivers a request now instead of waiting; on_request then refuses it
 * before any greenlet runs, and evhttp_send_error closes the connection.
 * (A request pipelined before the bad one may get the refusal too: the
 * guard runs ahead of evhttp and does not know which request evhttp will
 * deliver next.  Refusing it is safe; the connection ends anyway.) */
enum { GUARD_HEAD, GUARD_LENGTH, GUARD_CHUNKED, GUARD_REFUSED };

/* What evhttp reads once the head of a request was refused: the smallest
 * request it delivers at once, for on_request to refuse. */
#define STAND_IN "GET / HTTP/1.0\r\n\r\n"

struct guard {
    green_evhttp_t *srv;          /* NULL once the server is freed */
    struct bufferevent *bev;      /* the filter: what evhttp reads from */
    struct bufferevent *sock;     /* the socket's, under the filter */
    struct event *kick;           /* flushes replies: see guard_kick */
    struct event *writable;       /* the same, once the socket can take more */
    int kick_held, writable_held; /* each holds a reference on bev */
    int state;
    long long left;               /* GUARD_LENGTH: body bytes to pass */
    green_http_chunked_t chunks;  /* GUARD_CHUNKED: the decoder */
    green_http_limits_t limits;   /* the server's, for the parser */
    int status;                   /* GUARD_REFUSED: the answer */
    int listed;                   /* on srv->refused */
    struct guard *next;
};

/* evhttp 2.1 reads no body for HEAD and TRACE whatever the headers say:
 * a body there would be read as the next request. */
static int body_ignored(const green_http_request_t *req)
{
    return (req->method_len == 4 && memcmp(req->method, "HEAD", 4) == 0) ||
           (req->method_len == 5 && memcmp(req->method, "TRACE", 5) == 0);
}

/* GUARD_HEAD: pass a whole head once it has come, and learn how its body
 * is framed.  Returns 0 (go on), 1 (wait for more bytes) or -status. */
static int guard_head(struct guard *g, struct evbuffer *src, struct evbuffer *dst)
{
    /* A head is at most max_head bytes: one byte more is enough for the
     * parser to say 431, however long the buffer. */
    size_t len = evbuffer_get_length(src);
    if (len > g->limits.max_head + 1)
        len = g->limits.max_head + 1;
    const char *p = (const char *)evbuffer_pullup(src, (ev_ssize_t)len);
    green_http_request_t req;
    int n = p ? green_http_parse_request(p, len, &g->limits, &req) : -500;
    if (n <= 0)
        return n == 0 ? 1 : n;
    int has_body = req.chunked || req.content_length > 0;
    if (has_body && body_ignored(&req))
        return -400;
    evbuffer_remove_buffer(src, dst, (size_t)n);
    if (req.chunked) {
        green_http_chunked_init(&g->chunks, &g->limits);
        g->state = GUARD_CHUNKED;
    } else if (has_body) {
        g->left = req.content_length;
        g->state = GUARD_LENGTH;
    }
    return 0;
}

/* GUARD_LENGTH: pass the body's bytes as they are. */
static int guard_length(struct guard *g, struct evbuffer *src, struct evbuffer *dst)
{
    size_t len = evbuffer_get_length(src);
    size_t take = (unsigned long long)g->left < len ? (size_t)g->left : len;
    evbuffer_remove_buffer(src, dst, take);
    g->left -= (long long)take;
    if (g->left == 0)
        g->state = GUARD_HEAD;
    return 0;
}

/* GUARD_CHUNKED: decode the first contiguous piece of src, re-encode the
 * data found.  Returns 0 or -status. */
static int guard_chunks(struct guard *g, struct evbuffer *src, struct evbuffer *dst)
{
    struct evbuffer_iovec v;
    evbuffer_peek(src, -1, NULL, &v, 1);
    const char *data;
    size_t data_len;
    ssize_t used = green_http_chunked_feed(&g->chunks, v.iov_base, v.iov_len,
                                           v.iov_len, &data, &data_len);
    if (used < 0)
        return (int)used;
    /* The data, if any, ends the bytes used: drop the framing before it. */
    evbuffer_drain(src, (size_t)used - data_len);
    if (data_len > 0) {
        evbuffer_add_printf(dst, "%zx\r\n", data_len);
        evbuffer_remove_buffer(src, dst, data_len);
        evbuffer_add(dst, "\r\n", 2);
    }
    if (g->chunks.done) {
        evbuffer_add(dst, "0\r\n\r\n", 5);
        g->state = GUARD_HEAD;
    }
    return 0;
}

/* The client sent something that is not HTTP: see the top of this part. */
static void guard_refuse(struct guard *g, int status, struct evbuffer *dst)
{
    if (g->state == GUARD_CHUNKED)
        evbuffer_add(dst, "0\r\n\r\n", 5);
    else
        evbuffer_add(dst, STAND_IN, strlen(STAND_IN));
    g->state = GUARD_REFUSED;
    g->status = status;
    if (g->srv) {
        g->next = g->srv->refused;
        g->srv->refused = g;
        g->listed = 1;
    }
}

/* The filter: libevent calls it with the bytes read from the socket (src)
 * and what evhttp will read (dst). */
static enum bufferevent_filter_result
guard_input(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
            enum bufferevent_flush_mode mode, void *arg)
{
    (void)limit, (void)mode;      /* evhttp sets no read watermark */
    struct guard *g = arg;
    size_t before = evbuffer_get_length(dst);
    while (evbuffer_get_length(src) > 0) {
        int rc = 0;
        if (g->state == GUARD_HEAD)
            rc = guard_head(g, src, dst);
        else if (g->state == GUARD_LENGTH)
            rc = guard_length(g, src, dst);
        else if (g->state == GUARD_CHUNKED)
            rc = guard_chunks(g, src, dst);
        else                      /* refused: nothing more is read */
            evbuffer_drain(src, evbuffer_get_length(src));
        if (rc > 0)
            break;                /* a head is not complete yet */
        if (rc < 0)
            guard_refuse(g, -rc, dst);
    }
    /* BEV_OK tells libevent there is something new for evhttp; it then
     * calls us again while src is not empty, so with nothing new (a head
     * still incomplete) we must say BEV_NEED_MORE, or it would loop. */
    return evbuffer_get_length(dst) > before ? BEV_OK : BEV_NEED_MORE;
}

static void guard_unlist(struct guard *g)
{
    if (!g->listed || !g->srv)
        return;
    for (struct guard **p = &g->srv->refused; *p; p = &(*p)->next)
        if (*p == g) {
            *p = g->next;
            break;
        }
    g->listed = 0;
}

/* ---- The guard: replies ---------------------------------------------- */

/* Replies go out through the filter too, and libevent 2.1's filter has
 * two habits evhttp does not expect:
 *   - it moves evhttp's output to the socket's bufferevent when bytes are
 *     added, if writing is enabled; evhttp adds a reply first and enables
 *     writing after, and nothing looks again: the reply would sit there.
 *     So a callback of ours on that output wakes `kick` (an event of the
 *     loop, run after evhttp has returned), which flushes the filter;
 *   - it tells evhttp "written" as soon as the bytes are with the socket's
 *     bufferevent, before the kernel has them, and evhttp then closes a
 *     "Connection: close" socket at once, losing them.  So guard_output
 *     writes to the socket itself: what the kernel has not taken stays in
 *     the filter's output, and `writable` calls again when it can take
 *     more.  (The socket's bufferevent only reads.) */

/* Flush the filter from the loop: evhttp has enabled writing by now.
 * While one of our events is pending we hold a reference on the filter,
 * so that libevent cannot free it under us; if evhttp has freed the
 * connection meanwhile (freeing removes its callbacks), there is nothing
 * left to write. */
static void guard_flush(struct guard *g, int *held)
{
    bufferevent_event_cb alive = NULL;
    bufferevent_getcb(g->bev, NULL, NULL, &alive, NULL);
    if (alive)
        bufferevent_flush(g->bev, EV_WRITE, BEV_NORMAL);
    *held = 0;
    bufferevent_decref(g->bev);   /* may free it: g is not used after */
}

static void guard_kick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct guard *g = arg;
    guard_flush(g, &g->kick_held);
}

static void guard_writable(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct guard *g = arg;
    guard_flush(g, &g->writable_held);
}

/* Run `ev` soon (activate) or when the socket can take more (add). */
static void guard_schedule(struct guard *g, struct event *ev, int *held, int activate)
{
    if (!*held) {
        bufferevent_incref(g->bev);
        *held = 1;
    }
    if (activate)
        event_active(ev, EV_WRITE, 0);
    else
        event_add(ev, NULL);
}

static void guard_output_added(struct evbuffer *buf, const struct evbuffer_cb_info *info,
                               void *arg)
{
    (void)buf;
    struct guard *g = arg;
    if (info->n_added)
        guard_schedule(g, g->kick, &g->kick_held, 1);
}

static enum bufferevent_filter_result
guard_output(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
             enum bufferevent_flush_mode mode, void *arg)
{
    (void)dst, (void)limit, (void)mode;
    struct guard *g = arg;
    evutil_socket_t fd = bufferevent_getfd(g->sock);
    int n = evbuffer_write(src, fd);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        /* The client is gone: drop what it will never read.  The
         * socket's read side tells evhttp. */
        evbuffer_drain(src, evbuffer_get_length(src));
        return BEV_OK;
    }
    if (evbuffer_get_length(src) > 0) {
        /* The kernel is full: write again when it can take more. */
        if (!g->writable)
            g->writable = event_new(bufferevent_get_base(g->bev), fd, EV_WRITE,
                                    guard_writable, g);
        if (g->writable)
            guard_schedule(g, g->writable, &g->writable_held, 0);
    }
    /* BEV_OK (progress) makes libevent call again at once while src is
     * not empty, and resets evhttp's write timeout; with no progress,
     * BEV_NEED_MORE, or it would call us forever. */
    return n > 0 || evbuffer_get_length(src) == 0 ? BEV_OK : BEV_NEED_MORE;
}

/* libevent frees the filter with the connection (maybe later, from the
 * loop), and calls this. */
static void guard_free(void *arg)
{
    struct guard *g = arg;
    guard_unlist(g);
    event_free(g->kick);
    if (g->writable)
        event_free(g->writable);
    free(g);
}

/* evhttp's bufferevent callback: the bufferevent for a new connection
 * (evhttp gives it the socket afterwards).  NULL lets evhttp make its own,
 * unguarded: only out of memory. */
static struct bufferevent *guard_new(struct event_base *base, void *arg)
{
    green_evhttp_t *srv = arg;
    struct guard *g = calloc(1, sizeof *g);
    struct bufferevent *sock = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    struct event *kick = g ? event_new(base, -1, 0, guard_kick, g) : NULL;
    if (kick && sock) {
        g->kick = kick;
        g->bev = bufferevent_filter_new(sock, guard_input, guard_output,
                                        BEV_OPT_CLOSE_ON_FREE, guard_free, g);
    }
    if (!g || !g->bev || !evbuffer_add_cb(bufferevent_get_output(g->bev),
                                          guard_output_added, g)) {
        say(srv, "out of memory: a connection without the chunk guard");
        if (g && g->bev)
            bufferevent_free(g->bev);     /* frees sock and calls guard_free */
        else {
            if (sock)
                bufferevent_free(sock);
            if (kick)
                event_free(kick);
            free(g);
        }
        return NULL;
    }
    g->srv = srv;
    g->sock = sock;
    g->limits = srv->opt.limits;
    green_server_accept_ok(srv->core);  /* a burst of failures is over */
    return g->bev;
}

/* The status the guard recorded for this request's connection, or 0. */
static int guard_refusal(green_evhttp_t *srv, struct evhttp_request *req)
{
    if (!srv->refused)            /* the usual case: nothing to look up */
        return 0;
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
    for (struct guard *g = srv->refused; g; g = g->next)
        if (g->bev == bev) {
            guard_unlist(g);
            return g->status;
        }
    return 0;
}

/* ---- Framing evhttp lets through ------------------------------------- */

/* The status for a request whose body evhttp may have framed wrongly, or
 * 0.  evhttp 2.1 frames a body by the first Content-Length it finds and
 * ignores any Transfer-Encoding but exactly "chunked"; a front proxy that
 * reads the other length, or the unknown coding, sees a different end of
 * the body, and the bytes in between become a request that only one of
 * the two servers saw: request smuggling.  Nothing evhttp has read can be
 * trusted then, so the request is refused whole.  RFC 9112 section 6.3:
 * lengths that disagree are 400; a coding we cannot decode is 501. */
static int framing_refusal(struct evhttp_request *req)
{
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    int lengths = 0, codings = 0, unknown = 0;
    for (struct evkeyval *h = in->tqh_first; h; h = h->next.tqe_next)
        if (strcasecmp(h->key, "Content-Length") == 0)
            lengths++;
        else if (strcasecmp(h->key, "Transfer-Encoding") == 0) {
            codings++;
            unknown |= strcasecmp(h->value, "chunked") != 0;
        }
    /* Several lengths (even equal ones, as nginx), a length beside a
     * coding, or several codings: two readings of one body. */
    if (lengths > 1 || codings > 1 || (lengths && codings))
        return 400;
    return unknown ? 501 : 0;
}

/* evhttp has read a whole request (in the hub: never wait here). */
static void on_request(struct evhttp_request *req, void *arg)
{
    green_evhttp_t *srv = arg;
    if (green_server_state(srv->core) == GREEN_SERVER_STOPPED) {
        evhttp_send_error(req, 503, "Service Unavailable");
        return;
    }
    int refusal = guard_refusal(srv, req);
    if (!refusal)
        refusal = framing_refusal(req);
    if (refusal) {
        /* evhttp_send_error says "Connection: close" and closes once it
         * is written: what follows on the connection is never parsed. */
        will_send(srv, req);
        evhttp_send_error(req, refusal, green_http_reason(refusal));
        return;
    }
    struct call *c = calloc(1, sizeof *c);
    green_t *g = NULL;
    if (c) {
        c->srv = srv;
        c->req = req;
        g = green_server_spawn(srv->core, handle, c);
    }
    if (!g) {
        say(srv, "out of memory: 503");
        free(c);
        evhttp_send_error(req, 503, "Service Unavailable");
        return;
    }
    green_set_name(g, "evhttp request");
    c->next = srv->calls;
    if (srv->calls)
        srv->calls->prev = c;
    srv->calls = c;
}

/* ---- Out of descriptors ---------------------------------------------- */

/* evhttp's listener, left to itself, retries a failing accept() at once:
 * out of descriptors (EMFILE), the client stays in the backlog, the
 * socket stays readable, and the loop spins, printing "Error from
 * accept() call" hundreds of thousands of times a second.  With an error
 * callback of ours it calls us instead, and the core says how long to
 * stop accepting (chapter 7's back-off); the clients wait in the kernel's
 * backlog meanwhile.  We are in a callback: a timer re-enables the
 * listener, where the accept loop of chapter 7 would sleep. */
static void on_backoff_over(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    green_evhttp_t *srv = arg;
    if (srv->bound)
        evconnlistener_enable(evhttp_bound_socket_get_listener(srv->bound));
}

/* The servers that accept (this thread's: a server lives on its
 * thread's hub), to find ours in on_accept_error: the listener's
 * callbacks get evhttp's own pointer, not ours. */
static _Thread_local green_evhttp_t *accepting;

static void accepting_remove(green_evhttp_t *srv)
{
    for (green_evhttp_t **p = &accepting; *p; p = &(*p)->next_server)
        if (*p == srv) {
            *p = srv->next_server;
            return;
        }
}

static void on_accept_error(struct evconnlistener *listener, void *arg)
{
    (void)arg;                    /* evhttp's struct evhttp */
    green_evhttp_t *srv = accepting;
    while (srv && evhttp_bound_socket_get_listener(srv->bound) != listener)
        srv = srv->next_server;
    if (!srv)
        return;
    double pause = green_server_accept_failed(srv->core, EVUTIL_SOCKET_ERROR());
    if (pause < 0) {
        green_server_close(srv->core);
    } else if (pause > 0) {
        evconnlistener_disable(listener);
        struct timeval tv = { (time_t)pause,
                              (suseconds_t)((pause - (time_t)pause) * 1e6) };
        evtimer_add(srv->backoff_timer, &tv);
    }
}

/* ---- The acceptor: evhttp on the core's listening socket --------------- */

/* Set evhttp up as the options say. */
static void configure(green_evhttp_t *srv)
{
    double idle = srv->opt.idle_timeout < 0 ? FOREVER_SECONDS : srv->opt.idle_timeout;
    struct timeval tv = { (time_t)idle, (suseconds_t)((idle - (time_t)idle) * 1e6) };
    evhttp_set_gencb(srv->http, on_request, srv);
    evhttp_set_bevcb(srv->http, guard_new, srv);
    evhttp_set_max_headers_size(srv->http, (ev_ssize_t)srv->opt.limits.max_head);
    evhttp_set_max_body_size(srv->http, (ev_ssize_t)srv->opt.limits.max_body);
    evhttp_set_timeout_tv(srv->http, &tv);
    /* No "Content-Type: text/html; charset=ISO-8859-1" the app did not
     * ask for; and every method reaches the app (it answers 404 or 405). */
    evhttp_set_default_content_type(srv->http, NULL);
    evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
        EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
        EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
        EVHTTP_REQ_PATCH);
}

/* The core listens on fd: evhttp accepts on it from now on.  The
 * listener is ours, without LEV_OPT_CLOSE_ON_FREE: the core keeps the
 * socket and closes it (backlog 0: it listens already). */
static int acceptor_start(int fd, void *arg)
{
    green_evhttp_t *srv = arg;
    snprintf(srv->port_str, sizeof srv->port_str, "%d", green_socket_port(fd));
    struct evconnlistener *lev = NULL;
    srv->http = evhttp_new(green_hub_base());
    srv->backoff_timer = evtimer_new(green_hub_base(), on_backoff_over, srv);
    if (srv->http && srv->backoff_timer)
        lev = evconnlistener_new(green_hub_base(), NULL, NULL, 0, 0, fd);
    if (lev)
        srv->bound = evhttp_bind_listener(srv->http, lev);
    if (!srv->bound) {
        if (lev)
            evconnlistener_free(lev);
        if (srv->backoff_timer)
            event_free(srv->backoff_timer);
        if (srv->http)
            evhttp_free(srv->http);
        srv->backoff_timer = NULL;
        srv->http = NULL;
        errno = ENOMEM;
        return -1;
    }
    configure(srv);
    evconnlistener_set_error_cb(lev, on_accept_error);
    srv->next_server = accepting;
    accepting = srv;
    return 0;
}

/* The core stops accepting (it closes the socket next). */
static void acceptor_close(void *arg)
{
    green_evhttp_t *srv = arg;
    if (srv->bound) {
        evhttp_del_accept_socket(srv->http, srv->bound);  /* the socket stays */
        srv->bound = NULL;
        accepting_remove(srv);
    }
    if (srv->backoff_timer)
        evtimer_del(srv->backoff_timer);
}

/* The graceful stop's end: the requests are answered or their greenlets
 * killed. */
static void acceptor_stopped(void *arg)
{
    green_evhttp_t *srv = arg;
    /* Greenlets killed before they started never ran handle(): answer
     * their requests here. */
    for (struct call *c = srv->calls, *next; c; c = next) {
        next = c->next;
        if (!c->started) {
            send_error(c, 503, "Service Unavailable");
            unlink_call(c);
        }
    }
    /* The last replies are with evhttp: let the loop write them out. */
    if (!green_event_is_set(srv->flushed))
        green_event_wait(srv->flushed, FLUSH_GRACE);
}

static const green_server_hooks_t evhttp_hooks = {
    .name = "evhttp",
    .start = acceptor_start,
    .close = acceptor_close,
    .stopped = acceptor_stopped,
};

/* ---- Life cycle: chapter 7's core ------------------------------------- */

/* Zero means "the default", for each option; max_connections is not
 * ours to apply (evhttp accepts, and 2.1 has no cap). */
static int fill_defaults(green_evhttp_options_t *o)
{
    if (!o->limits.max_head)  o->limits.max_head = GREEN_EVHTTP_MAX_HEADERS;
    if (!o->limits.max_body)  o->limits.max_body = GREEN_EVHTTP_MAX_BODY;
    if (o->idle_timeout == 0) o->idle_timeout = GREEN_EVHTTP_TIMEOUT;
    if (o->server.max_connections != 0) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

green_evhttp_t *green_evhttp_new(const char *host, const char *port,
                                 green_app_t *app,
                                 const green_evhttp_options_t *opt)
{
    green_evhttp_t *srv = calloc(1, sizeof *srv);
    if (!srv)
        return NULL;
    if (opt)
        srv->opt = *opt;
    if (fill_defaults(&srv->opt) < 0) {
        free(srv);
        return NULL;
    }
    srv->server_name = strdup(host && *host ? host : "0.0.0.0");
    srv->flushed = green_event_new();
    srv->core = green_server_new(host, port, NULL, NULL, &srv->opt.server);
    if (!srv->server_name || !srv->flushed || !srv->core) {
        green_evhttp_free(srv);
        errno = ENOMEM;
        return NULL;
    }
    green_server_set_hooks(srv->core, &evhttp_hooks, srv);
    srv->app = app;
    green_event_set(srv->flushed);
    return srv;
}

green_server_t *green_evhttp_core(green_evhttp_t *srv)
{
    return srv->core;
}

unsigned long green_evhttp_served(const green_evhttp_t *srv)
{
    return srv->served;
}

void green_evhttp_free(green_evhttp_t *srv)
{
    if (!srv)
        return;
    int hub = green_hub_active();
    /* Stops the server first (grace 0) if it runs, kills any greenlet
     * left and waits 1 s for it. */
    if (srv->core)
        green_server_free(srv->core);
    /* Greenlets that ignored being killed outlive us: their requests go
     * with evhttp below, so they must not answer them. */
    for (struct call *c = srv->calls, *next; c; c = next) {
        next = c->next;
        if (!c->started) {            /* killed unrun: nothing refers to c */
            free(c);
            continue;
        }
        c->srv = NULL;
        c->req = NULL;
    }
    /* After green_hub_destroy() the event_base is gone, and evhttp with
     * its events cannot be freed any more: free the server first. */
    if (srv->backoff_timer && hub)
        event_free(srv->backoff_timer);
    accepting_remove(srv);
    /* libevent may free a connection's guard after us: it must not touch
     * the list then. */
    for (struct guard *g = srv->refused; g; g = g->next)
        g->srv = NULL;
    if (srv->http && hub) {
        if (srv->bound)
            evhttp_del_accept_socket(srv->http, srv->bound);
        evhttp_free(srv->http);        /* closes every connection */
    }
    if (srv->flushed)
        green_event_free(srv->flushed);
    free(srv->server_name);
    free(srv);
}
