/*
 * middleware.h - exercise 09-wsgi/middleware: a meter around any app.
 *
 * A middleware is an application that wraps an application: the server
 * calls it, it calls the app it wraps (`inner`), and it may change the
 * request on the way in and the response on the way out.  Write one that
 * measures what an app serves:
 *
 *   - it counts requests: m->requests goes up by one per call;
 *   - it adds a header "X-Request-Count" to every response, the number of
 *     this request in decimal ("1" for the first one, then "2", ...),
 *     keeping the inner app's status and headers;
 *   - it counts the bytes of the bodies in m->bytes, AS THE SERVER TAKES
 *     THEM:
 *       * a list or file body (green_body_is_list() is 1) is returned as
 *         it is, so the server still knows its Content-Length; count its
 *         green_body_length() at once;
 *       * a generator body must stay a generator, so it still streams:
 *         return a generator body of your own that, each time the server
 *         asks for a chunk, takes the next chunk of the inner body, adds
 *         its length to m->bytes, and yields it.  Never walk the inner
 *         body ahead of the server: the inner app's generator must run
 *         only when the server asks (it may sleep between chunks, or be
 *         endless), and a client that goes away half-way must leave
 *         m->bytes at what was actually taken;
 *       * your body's close closes the inner body (exactly once, even when
 *         the server stops half-way) and frees what you allocated.
 *
 * Hints
 *   - Adding a header: call green_start_response() again with the inner
 *     app's status and headers plus yours; a second call replaces the
 *     first (chapters/09-wsgi/README.md, "Middleware", shows add_header).
 *   - Your generator's state (the inner body, the current chunk, the
 *     meter) lives in a malloc'ed struct that starts with a green_gen_t
 *     (chapter 1): green_body_gen(&w->gen, your_close, w).  In its step
 *     function, loop on green_body_next(&w->inner, &w->chunk) and
 *     GREEN_GEN_YIELD(g, &w->chunk).  See "Wrapping a body".
 *   - The chunk the inner body hands you stays valid until you ask it for
 *     the next one: yield it as it is, no copy needed.
 *
 * Lesson: chapters/09-wsgi/README.md, "Middleware", "Wrapping a body", then
 *         "Exercise: middleware".
 * Tests:  tests/exercises/09-wsgi/middleware.c
 * Run:    make grade E=middleware
 * Stuck?  make hint E=middleware (one more hint each time you ask)
 */
#ifndef EX_MIDDLEWARE_H
#define EX_MIDDLEWARE_H

#include "green.h"

typedef struct ex_meter {
    green_app_t app;      /* first member: &m->app is what a server calls */
    green_app_t *inner;   /* the application it wraps */
    long requests;        /* calls so far */
    long long bytes;      /* body bytes the server has taken so far */
} ex_meter;

/* Make m a meter around `inner`: m->app.call is your middleware, the
 * counters are 0. */
void ex_meter_init(ex_meter *m, green_app_t *inner);

#endif
