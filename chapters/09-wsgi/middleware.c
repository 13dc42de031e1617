/*
 * middleware.c - an application that wraps an application.  To the server
 * it is one app; to the app it wraps, it is the server.  Two of them,
 * stacked around the demo app:
 *
 *     app = access_log(timing(demo_app))
 *
 * timing adds an X-Response-Time header; access_log prints a line per
 * request, like pywsgi's log.  In C a middleware is a struct whose first
 * member is a green_app_t (so a pointer to it is a green_app_t *) and
 * which holds a pointer to the app it wraps.
 */
#include <stdio.h>
#include <string.h>

#include "green.h"
#include "demo_app.h"

/* Add one header to what the inner app passed to start_response: call
 * start_response again with its headers and ours (a second call replaces
 * the first, as long as nothing has been sent). */
static void add_header(green_response_t *resp, const char *name, const char *value)
{
    green_header_t h[GREEN_RESPONSE_MAX_HEADERS];
    if (!resp->started || resp->nheaders == GREEN_RESPONSE_MAX_HEADERS)
        return;
    memcpy(h, resp->headers, resp->nheaders * sizeof h[0]);
    h[resp->nheaders] = (green_header_t){ name, value };
    green_start_response(resp, resp->status, h, resp->nheaders + 1);
}

/* timing: how long the inner app took to return its body. */
struct timing {
    green_app_t app;
    green_app_t *inner;
};

static green_body_t timing_call(green_app_t *self, green_environ_t *env,
                                green_response_t *resp)
{
    struct timing *m = (struct timing *)self;
    double t0 = green_now();
    green_body_t body = green_app_call(m->inner, env, resp);
    char took[32];
    snprintf(took, sizeof took, "%.1f ms", (green_now() - t0) * 1000);
    add_header(resp, "X-Response-Time", took);
    return body;
}

/* access_log: one line per request, in the common log format's spirit. */
struct access_log {
    green_app_t app;
    green_app_t *inner;
    long requests;
};

static green_body_t access_log_call(green_app_t *self, green_environ_t *env,
                                    green_response_t *resp)
{
    struct access_log *m = (struct access_log *)self;
    green_body_t body = green_app_call(m->inner, env, resp);
    long long length = green_body_length(&body);
    char size[24] = "-";                 /* a generator's size is unknown yet */
    if (length >= 0)
        snprintf(size, sizeof size, "%lld", length);
    const char *took = green_response_header(resp, "X-Response-Time");
    printf("  log #%ld: %s \"%s %s %s\" %d %s (%s)\n", ++m->requests, env->remote_addr,
           env->method, env->uri, env->protocol, resp->code, size, took ? took : "?");
    return body;
}

static void request(green_app_t *app, const char *method, const char *uri,
                    const char *body)
{
    green_wsgi_result_t r;
    if (green_wsgi_request(app, method, uri, NULL, body, &r) < 0) {
        perror(uri);
        return;
    }
    printf("  client got %s, %zu bytes, X-Response-Time: %s\n", r.resp.status, r.len,
           green_response_header(&r.resp, "X-Response-Time"));
    green_wsgi_result_free(&r);
}

int main(void)
{
    struct timing timing = { { timing_call }, &demo_app };
    struct access_log log = { { access_log_call }, &timing.app, 0 };
    green_app_t *app = &log.app;

    request(app, "GET", "/", NULL);
    request(app, "POST", "/echo", "hello, middleware");
    request(app, "GET", "/sleep?ms=50", NULL);
    request(app, "GET", "/stream?n=1000", NULL);
    request(app, "GET", "/missing", NULL);
    printf("%ld requests logged\n", log.requests);
    green_hub_destroy();
    return 0;
}
