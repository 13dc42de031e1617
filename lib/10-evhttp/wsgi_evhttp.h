/*
 * wsgi_evhttp.h - chapter 10: any green_app_t served by libevent's own HTTP
 * server, evhttp (chapter 10).
 *
 * This is the design of gevent.wsgi (article 004), the "fast" one of
 * gevent's two WSGI servers: libevent parses HTTP, in C, on the hub's own
 * event_base, and the application runs in a greenlet.  For each request:
 *
 *     evhttp reads the request line, the headers and the WHOLE body;
 *     its callback (in the hub) spawns a greenlet, which
 *         builds the environ from the evhttp_request,
 *         calls the application (which may green_sleep: the others go on),
 *         walks the whole body into one evbuffer,
 *         and hands it to evhttp_send_reply(), with a Content-Length.
 *
 * What that buys: speed, and little code (parsing, keep-alive, timeouts
 * and limits are libevent's).  What it costs (chapter 10's lesson):
 *   - a generator body is buffered to its end before the first byte goes
 *     out: no streaming, a response must fit in memory, and a slow
 *     generator delays the status line.  (libevent has
 *     evhttp_send_reply_start/chunk/end; gevent.wsgi did not use them and
 *     neither does this adapter: chapter 11's server streams.)
 *   - the request body is read in full before the application runs, so
 *     wsgi.input never waits and "Expect: 100-continue" cannot be refused;
 *   - responses on one connection go out one at a time, in order: a slow
 *     request holds up the requests pipelined behind it.
 *
 * What the adapter does on top of evhttp:
 *   - a status the application never set (no green_start_response) -> 500;
 *   - HEAD: the application runs as for GET, the body is counted for the
 *     Content-Length and dropped (evhttp 2.1 would send it: a HEAD reply
 *     with a body corrupts the next response on a keep-alive connection);
 *   - the framing is the server's: an application's own Content-Length and
 *     Transfer-Encoding headers are ignored, Content-Length is the length
 *     of the body actually produced;
 *   - no Server header, no default Content-Type (evhttp would add
 *     "text/html; charset=ISO-8859-1");
 *   - every request is framed by chapter 11's parser before evhttp reads
 *     it (a filter on each connection: "the guard"), so that evhttp 2.1's
 *     loose chunked parsing cannot be used for smuggling: what that parser
 *     refuses gets its status (400, 413, 431, 501, 505) and a close,
 *     without calling the application; chunk extensions are ignored and
 *     trailers dropped, as in chapter 11;
 *   - limits: a request whose headers are over max_headers bytes (431), or
 *     whose body is over max_body bytes (413), is refused without calling
 *     the application; a path whose percent-decoding holds a NUL
 *     byte, or a bad escape, gets 400 from the adapter;
 *   - out of descriptors (EMFILE and kin), evhttp's listener would retry
 *     accept() at once, forever (100% CPU, a warning per try); the adapter
 *     stops accepting for 10 ms, doubling to 1 s, as chapter 7's
 *     StreamServer does, and says so once per burst on stderr.
 *
 * Its life is chapter 7's core (server.h): the core binds and listens,
 * and evhttp accepts on the core's socket (evhttp reads its connections
 * in callbacks of its own, so it keeps its accept); the states, the
 * signals, the back-off and the graceful stop are the core's, and each
 * request's greenlet is work of the core (green_server_spawn).
 *
 * Errors, C style: -1 with errno (see hub.h).  Messages go to stderr,
 * prefixed "evhttp HOST:PORT:".
 */
#ifndef GREEN_WSGI_EVHTTP_H
#define GREEN_WSGI_EVHTTP_H

#include <stddef.h>

#include "http_parser.h"
#include "server.h"
#include "wsgi.h"

typedef struct green_evhttp green_evhttp_t;

/* Defaults of green_evhttp_options_t. */
#define GREEN_EVHTTP_MAX_HEADERS (8 * 1024)      /* request line + headers */
#define GREEN_EVHTTP_MAX_BODY    (1024 * 1024)   /* request body */
#define GREEN_EVHTTP_TIMEOUT     60.0            /* idle connection, seconds */

/* Options, in the style of all three servers (server.h): zero everywhere
 * means the defaults (shown); a negative time means no limit. */
typedef struct green_evhttp_options {
    green_http_limits_t limits;  /* the guard's parser limits (chapter
                                    11's, http_parser.h); max_head (8 KiB:
                                    request line and headers, 431) and
                                    max_body (1 MiB: the request body,
                                    413) are evhttp's too */
    double idle_timeout;         /* 60 s: how long a connection may stay
                                    idle (or send a request that slowly)
                                    before evhttp closes it */
    green_server_options_t server;  /* chapter 7's core: backlog (1024);
                                    max_connections must stay 0 (evhttp
                                    accepts by itself and 2.1 has no cap:
                                    EINVAL) */
} green_evhttp_options_t;

/* A server for host:port (host NULL or "" = every address, port "0" = a
 * port the kernel picks) that will run `app` for every request.  opt may
 * be NULL (all defaults); it is copied.  Nothing happens until
 * green_server_start() on its core.  Returns NULL with errno ENOMEM or
 * EINVAL.
 * Python: gevent.wsgi.WSGIServer((host, port), app). */
green_evhttp_t *green_evhttp_new(const char *host, const char *port,
                                 green_app_t *app,
                                 const green_evhttp_options_t *opt);

/* The server's life is chapter 7's core: start, stop and the rest are
 * green_server_* calls (server.h) on this, as for every server of the
 * kit.  What they mean for evhttp:
 *   green_server_start: listen and attach evhttp to the hub's event_base
 *     (green_hub_base()); requests are served while the caller waits on
 *     the hub.  Python: server.start();
 *   green_server_close (a signal with green_server_close_on_signal):
 *     the listening socket is closed; requests in progress go on, and
 *     connections already open are still served (keep-alive), but every
 *     response from now on says "Connection: close";
 *   green_server_stop(core, grace): stop accepting, wait up to `grace`
 *     seconds for the requests in progress, then kill the greenlets still
 *     running (their waits fail with ECANCELED; whatever they return is
 *     still sent) and wait up to 1 s more; requests that arrive
 *     afterwards get 503.  From a greenlet that may wait, not from an
 *     application;
 *   green_server_active: requests in progress (their greenlets alive).
 * The core belongs to srv: free srv (which frees it), never the core. */
green_server_t *green_evhttp_core(green_evhttp_t *srv);

/* Responses sent since the start (by the application, or a 500/400 of
 * the adapter; not the errors evhttp answers by itself, such as 400 for
 * a malformed request or 413). */
unsigned long green_evhttp_served(const green_evhttp_t *srv);

/* Free the server, stopping it first (grace 0) if it runs; open
 * connections are closed.  Call it from a greenlet that may wait, before
 * green_hub_destroy(). */
void green_evhttp_free(green_evhttp_t *srv);

#endif
