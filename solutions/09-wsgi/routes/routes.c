/* routes.c - solution of exercise 09-wsgi/routes.  See routes.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "green.h"
#include "routes.h"

/* Answer with `status` and the text s, as text/plain.  s is copied, so it
 * may be a local buffer. */
static green_body_t text(green_response_t *resp, const char *status, const char *s)
{
    green_header_t h[] = { { "Content-Type", "text/plain" } };
    green_start_response(resp, status, h, 1);
    return green_body_copy(s, strlen(s));
}

/* The path exists, the method does not: say which ones it takes. */
static green_body_t not_allowed(green_response_t *resp, const char *allow)
{
    green_header_t h[] = { { "Content-Type", "text/plain" }, { "Allow", allow } };
    green_start_response(resp, "405 Method Not Allowed", h, 2);
    return green_body_str("Method Not Allowed\n");
}

static green_body_t hello(green_environ_t *env, green_response_t *resp)
{
    char name[EX_MAX_NAME + 1], out[EX_MAX_NAME + 16];
    ssize_t n = green_query_param(env, "name", name, sizeof name);
    if (n < 0 && errno != ENOENT)
        return text(resp, "400 Bad Request", "name: at most 100 bytes, %-escapes as %XX\n");
    snprintf(out, sizeof out, "Hello, %s!\n", n > 0 ? name : "World");
    return text(resp, "200 OK", out);
}

static green_body_t count(ex_routes *r, int add, green_response_t *resp)
{
    char out[32];
    r->count += add;
    snprintf(out, sizeof out, "%ld\n", r->count);
    return text(resp, "200 OK", out);
}

static green_body_t routes_call(green_app_t *self, green_environ_t *env,
                                green_response_t *resp)
{
    ex_routes *r = (ex_routes *)self;
    const char *p = env->path;
    int get = strcmp(env->method, "GET") == 0;
    int head = strcmp(env->method, "HEAD") == 0;
    int post = strcmp(env->method, "POST") == 0;

    /* The path decides 404, then the method decides 405. */
    if (strcmp(p, "/") == 0)
        return get || head ? text(resp, "200 OK", "Welcome!\n")
                           : not_allowed(resp, "GET, HEAD");
    if (strcmp(p, "/hello") == 0)
        return get || head ? hello(env, resp) : not_allowed(resp, "GET, HEAD");
    if (strcmp(p, "/count") == 0)
        return get || post ? count(r, post, resp) : not_allowed(resp, "GET, POST");
    return text(resp, "404 Not Found", "Not Found\n");
}

void ex_routes_init(ex_routes *r)
{
    r->app.call = routes_call;
    r->count = 0;
}
