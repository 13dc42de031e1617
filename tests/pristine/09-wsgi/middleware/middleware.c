/* middleware.c - exercise 09-wsgi/middleware.  Read middleware.h first. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "green.h"
#include "middleware.h"

/* TODO: a struct for your generator body (it starts with a green_gen_t),
 * its step function and its close function. */

static green_body_t meter_call(green_app_t *self, green_environ_t *env,
                               green_response_t *resp)
{
    /* TODO: call the app you wrap (green_app_call(m->inner, env, resp),
     * with m = (ex_meter *)self), count the request, add the
     * X-Request-Count header, count a list body's bytes, wrap a generator
     * body.  Until then the meter answers nothing at all (it never calls
     * green_start_response): every request through it fails. */
    (void)self;
    (void)env;
    (void)resp;
    errno = ENOSYS;
    return green_body_empty();
}

void ex_meter_init(ex_meter *m, green_app_t *inner)
{
    m->app.call = meter_call;
    m->inner = inner;
    m->requests = 0;
    m->bytes = 0;
}
