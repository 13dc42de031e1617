/*
 * environ.h - exercise 10-evhttp/environ: build a WSGI environ from the
 * request libevent's evhttp has parsed.
 *
 * This is the first thing chapter 10's adapter (lib/10-evhttp/wsgi_evhttp.c)
 * does for every request: evhttp hands it a `struct evhttp_request *`, the
 * application wants a `green_environ_t` (lib/09-wsgi/wsgi.h).  You write the
 * translation.
 *
 * 1. ssize_t ex_path_decode(const char *s, char *out, size_t size);
 *
 *    Percent-decode the path s ("/a%20b") into out ("/a b"), NUL-
 *    terminated.  Return the decoded length.
 *      - "%XX" (two hex digits, either case) is the byte 0xXX;
 *      - '+' stays '+' (only a query string turns '+' into a space);
 *      - a '%' not followed by two hex digits ("%zz", "%4" at the end):
 *        return -1 with errno EINVAL;
 *      - "%00": return -1 with errno EINVAL.  A NUL byte would end the C
 *        string early: "/admin%00.txt" would reach the app as "/admin";
 *      - the result (with its NUL) does not fit in size bytes: -1, ENOSPC.
 *
 * 2. int ex_environ_init(ex_environ_t *e, struct evhttp_request *req);
 *
 *    Fill e->env from req, copying every string into memory of e's own
 *    (malloc: see the fields of ex_environ_t below), so that the environ
 *    does not depend on evhttp's strings:
 *      env.method       "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS",
 *                       "TRACE", "CONNECT", "PATCH": the name of
 *                       evhttp_request_get_command(req) (an enum);
 *      env.uri          the request target as sent:
 *                       evhttp_request_get_uri(req) ("/a%20b?n=3");
 *      env.path         the path part of it, percent-decoded
 *                       (ex_path_decode): "/a b".  Take the path from
 *                       evhttp_request_get_evhttp_uri(req) and
 *                       evhttp_uri_get_path(), or split the uri at '?';
 *      env.query        the part after '?', as sent ("n=3"); "" when the
 *                       uri has none (never NULL): evhttp_uri_get_query();
 *      env.protocol     "HTTP/1.1" or "HTTP/1.0": req->major and
 *                       req->minor (#include <event2/http_struct.h>;
 *                       libevent 2.1 has no function for it);
 *      env.remote_addr  the client's address, "127.0.0.1":
 *                       evhttp_connection_get_peer() on
 *                       evhttp_request_get_connection(req);
 *      env.headers, env.nheaders
 *                       every request header, in the order sent:
 *                       evhttp_request_get_input_headers(req) is a list
 *                       (struct evkeyvalq, <event2/keyvalq_struct.h>):
 *                           for (h = q->tqh_first; h; h = h->next.tqe_next)
 *                               h->key, h->value
 *      env.content_length  the Content-Length header as a number, -1
 *                       when there is none;
 *      env.input        the body: evhttp has read all of it already, into
 *                       evhttp_request_get_input_buffer(req).  Point
 *                       e->body.buf at that evbuffer, set e->body.input.read
 *                       to a function that takes bytes out of it
 *                       (evbuffer_remove), and env.input = &e->body.input;
 *      env.server_name, env.server_port: leave them NULL (the server
 *                       fills them in: it knows where it listens).
 *    Return 0.  A path that does not decode: return -1 with errno EINVAL
 *    (the server answers 400); out of memory: -1 with errno ENOMEM.  On
 *    failure, free what you allocated (the caller will not call
 *    ex_environ_free).
 *
 * 3. void ex_environ_free(ex_environ_t *e);
 *
 *    Free what ex_environ_init allocated.
 *
 * Hints
 *   - The adapter's own version is in lib/10-evhttp/wsgi_evhttp.c
 *     (request_init); try on your own first.
 *   - See chapters/10-evhttp/README.md, "Building the environ" and
 *     "Percent-decoding the path".
 *
 * Lesson: chapters/10-evhttp/README.md, "Building the environ",
 *         "Percent-decoding the path", then "Exercise: environ".
 * Tests:  tests/exercises/10-evhttp/environ.c
 * Run:    make grade E=environ
 * Stuck?  make hint E=environ (one more hint each time you ask)
 */
#ifndef EX_ENVIRON_H
#define EX_ENVIRON_H

#include <event2/http.h>
#include <sys/types.h>

#include "wsgi.h"

typedef struct ex_environ {
    green_environ_t env;          /* what the application gets */
    char *uri, *path, *query;     /* malloc'ed copies: env's point here */
    green_header_t *headers;      /* malloc'ed array; each name and value
                                     malloc'ed too (strdup) */
    char protocol[16];            /* "HTTP/1.1" */
    char remote_addr[64];         /* "127.0.0.1" */
    struct ex_body {              /* wsgi.input over evhttp's buffer */
        green_input_t input;
        struct evbuffer *buf;
    } body;
} ex_environ_t;

ssize_t ex_path_decode(const char *s, char *out, size_t size);
int ex_environ_init(ex_environ_t *e, struct evhttp_request *req);
void ex_environ_free(ex_environ_t *e);

#endif
