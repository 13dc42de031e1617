/*
 * routes.c - article 003's WSGI app with a 404 route, then the demo app
 * every server of chapters 10 and 11 serves, called route by route.
 *
 *     def application(env, start_response):
 *         if env['PATH_INFO'] == '/':
 *             start_response('200 OK', [('Content-Type', 'text/html')])
 *             return [b"<b>hello world</b>"]
 *         start_response('404 Not Found', [('Content-Type', 'text/html')])
 *         return [b'<h1>Not Found</h1>']
 *
 * No server yet: green_wsgi_request() calls an application the way a
 * server would and collects the answer (Python's webtest.TestApp).
 */
#include <stdio.h>
#include <string.h>

#include "green.h"
#include "demo_app.h"

static green_body_t application(green_app_t *self, green_environ_t *env,
                                green_response_t *resp)
{
    green_header_t h[] = { { "Content-Type", "text/html" } };
    (void)self;
    if (strcmp(green_environ_get(env, "PATH_INFO"), "/") == 0) {
        green_start_response(resp, "200 OK", h, 1);
        return green_body_str("<b>hello world</b>");
    }
    green_start_response(resp, "404 Not Found", h, 1);
    return green_body_str("<h1>Not Found</h1>");
}

/* One request through the test client, and a line about the answer. */
static void request(green_app_t *app, const char *method, const char *uri,
                    const char *body)
{
    green_wsgi_result_t r;
    double t0 = green_now();
    if (green_wsgi_request(app, method, uri, NULL, body, &r) < 0) {
        perror(uri);
        return;
    }
    const char *type = green_response_header(&r.resp, "Content-Type");
    printf("%-6s %-15s -> %-15s %-24s %zu chunk%s%s", method, uri, r.resp.status,
           type ? type : "", r.chunks, r.chunks == 1 ? "" : "s",
           r.streamed ? " (generator)" : "");
    if (green_now() - t0 > 0.01)
        printf(", %.2f s", green_now() - t0);
    printf("\n       \"");
    for (size_t i = 0; i < r.len && i < 60; i++) {    /* the body, on one line */
        if (r.body[i] == '\n')
            fputs("\\n", stdout);
        else
            putchar(r.body[i]);
    }
    printf("\"\n");
    green_wsgi_result_free(&r);
}

int main(void)
{
    green_app_t app = { application };
    printf("article 003's application:\n");
    request(&app, "GET", "/", NULL);
    request(&app, "GET", "/missing", NULL);

    printf("\nthe demo app (demo_app.h):\n");
    request(&demo_app, "GET", "/", NULL);
    request(&demo_app, "HEAD", "/", NULL);
    request(&demo_app, "POST", "/echo", "ping");
    request(&demo_app, "GET", "/stream?n=3", NULL);
    request(&demo_app, "GET", "/sleep?ms=100", NULL);
    request(&demo_app, "GET", "/stream?n=x", NULL);
    request(&demo_app, "DELETE", "/echo", NULL);
    request(&demo_app, "GET", "/nope", NULL);
    green_hub_destroy();
    return 0;
}
