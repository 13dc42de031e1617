/*
 * http_internal.h - private, chapter 11: what the HTTP server's three files
 * share.
 *
 * The server is one idea per file, each read on its own:
 *   http.c          the server and its connections: reading a head, the
 *                   body, the environ, writing, the keep-alive loop, the
 *                   server's life;
 *   http_log.c      the clock (the Date header, once a second) and the
 *                   access log (Common Log Format, buffered);
 *   http_static.c   static files, an application wrapped around the user's.
 * They share the server's record below, and the few calls declared after
 * it.  A connection (struct conn) is http.c's alone: the others are given
 * what they need of it.  The `green__` prefix marks names shared between
 * the library's files that users must not call; this header is not
 * installed (Makefile, LIB_HEADERS).
 */
#ifndef GREEN_HTTP_INTERNAL_H
#define GREEN_HTTP_INTERNAL_H

#include "http.h"
#include "server.h"

#include <netinet/in.h>         /* INET6_ADDRSTRLEN */
#include <stddef.h>
#include <sys/queue.h>        /* LIST_*: the connections, as in server.c */
#include <time.h>

/* The access log's buffer: written when full, and once a second. */
#define GREEN__HTTP_LOG_BUF    (64 * 1024)

/* Static files: an application wrapped around the user's (http_static.c). */
struct green__http_static {
    green_app_t app;
    green_app_t *inner;
    int dir_fd;                 /* the folder, opened once: paths start here */
    char *prefix;               /* "/static/" */
    size_t prefix_len;
};

struct green_http_server {
    green_server_t *tcp;        /* StreamServer: accept loop, a greenlet each */
    green_app_t *app;           /* what is called: the user's, or statics.app */
    struct green__http_static statics;
    green_http_options_t opt;   /* defaults filled in */
    char *host;
    const char *port;           /* SERVER_PORT, in the core's label */
    unsigned long requests;
    char trusted[INET6_ADDRSTRLEN]; /* opt.trusted_proxy as inet_ntop
                                   writes it ("::1", not "0::1"), so that
                                   a peer compares as a string; "" when none */
    LIST_HEAD(, conn) conns;    /* every open connection, for stop (http.c) */

    /* The clock: formatted once a second, not once per request. */
    time_t clock_at;
    char date[32];              /* "Sun, 06 Nov 1994 08:49:37 GMT" */
    char clf_date[32];          /* "06/Nov/1994:08:49:37 +0000" */

    /* The access log. */
    char *log;
    size_t log_len;
    green_t *flusher;
};

/* http.c: has the server stopped accepting? */
int green__http_closing(const green_http_server_t *srv);

/* http_log.c: reformat srv->date and srv->clf_date if the second has
 * changed; call before a response. */
void green__http_tick(green_http_server_t *srv);
/* http_log.c: one access log line for a request from `remote` (`request`
 * NULL when too bad to quote), answered with `code` and `body_sent` body
 * bytes.  Does nothing without a log. */
void green__http_log_request(green_http_server_t *srv, const char *remote,
                             const char *request, int code,
                             long long body_sent);
/* http_log.c: write the buffered lines out now (at stop). */
void green__http_log_flush(green_http_server_t *srv);

/* http_static.c: srv->app becomes the user's `app`, wrapped in the static
 * files application when opt.static_dir is set.  Returns 0, or -1 and
 * errno (the folder cannot be opened, no memory). */
int green__http_static_setup(green_http_server_t *srv, green_app_t *app);

#endif
