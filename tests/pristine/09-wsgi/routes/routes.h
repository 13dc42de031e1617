/*
 * routes.h - exercise 09-wsgi/routes: an application with routes.
 *
 * Write the application a small web service would be: one function that
 * looks at the request's path and method and answers.  No server is
 * needed: the tests call it through green_wsgi_request(), the test client
 * of lib/09-wsgi/wsgi.h, exactly as a server of chapters 10 and 11 would.
 *
 * The routes (every answer has "Content-Type: text/plain"):
 *
 *   GET or HEAD /          200 "Welcome!\n"
 *   GET or HEAD /hello     200 "Hello, NAME!\n", NAME the query parameter
 *                          `name`, decoded ("?name=Grace+Hopper" and
 *                          "?name=Grace%20Hopper" both greet Grace Hopper);
 *                          without a name (absent or empty): "Hello, World!\n";
 *                          a name longer than EX_MAX_NAME bytes or with a
 *                          bad %-escape: 400 Bad Request
 *   GET /count             200, the counter in decimal and "\n" ("0\n")
 *   POST /count            adds 1 to the counter, 200, its new value ("1\n")
 *   another method on      405 Method Not Allowed, body "Method Not Allowed\n"
 *     one of these paths   and a header Allow listing what the path takes:
 *                          "GET, HEAD" for / and /hello, "GET, POST" for /count
 *   any other path         404 Not Found, body "Not Found\n"
 *
 * The counter lives in the struct (each ex_routes has its own): that is
 * why an application is a struct whose first member is a green_app_t.
 *
 * Hints
 *   - env->path is PATH_INFO (already decoded), env->method the method.
 *     Dispatch on the path first (it decides 404), then on the method (it
 *     decides 405): see chapters/09-wsgi/README.md, "Routing: a 404 and a
 *     405".
 *   - green_query_param(env, "name", buf, sizeof buf) decodes for you and
 *     says why it failed in errno: ENOENT (absent), ENOSPC (too long for
 *     buf), EINVAL (a bad escape).  A buffer of EX_MAX_NAME + 1 bytes
 *     holds the longest name allowed.
 *   - The body must outlive your function: the server walks it after you
 *     returned.  green_body_str() of a string literal is fine; a string you
 *     build in a local buffer is not: return green_body_copy(buf, len).
 *     See "The body: a list or a generator".
 *   - start_response copies the strings you give it, so a header value
 *     may live on your stack.
 *
 * Lesson: chapters/09-wsgi/README.md, "Routing: a 404 and a 405",
 *         "Query parameters", then "Exercise: routes".
 * Tests:  tests/exercises/09-wsgi/routes.c
 * Run:    make grade E=routes
 * Stuck?  make hint E=routes (one more hint each time you ask)
 */
#ifndef EX_ROUTES_H
#define EX_ROUTES_H

#include "green.h"

#define EX_MAX_NAME 100

typedef struct ex_routes {
    green_app_t app;     /* first member: &r->app is what a server calls */
    long count;          /* POST /count adds one */
} ex_routes;

/* Make r ready: r->app.call is your application, the counter is 0. */
void ex_routes_init(ex_routes *r);

#endif
