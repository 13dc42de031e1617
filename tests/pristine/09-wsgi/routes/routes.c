/* routes.c - exercise 09-wsgi/routes.  Read routes.h first. */
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

static green_body_t routes_call(green_app_t *self, green_environ_t *env,
                                green_response_t *resp)
{
    ex_routes *r = (ex_routes *)self;
    /* TODO: dispatch on env->path (404 for an unknown one), then on
     * env->method (405 with an Allow header); see routes.h. */
    (void)r;
    (void)env;
    return text(resp, "501 Not Implemented", "TODO\n");
}

void ex_routes_init(ex_routes *r)
{
    r->app.call = routes_call;
    r->count = 0;
}
