/* middleware.c - solution of exercise 09-wsgi/middleware.
 * See middleware.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "green.h"
#include "middleware.h"

/* The wrapped body: a generator that passes the inner body's chunks on
 * one at a time, counting them as they go by. */
struct metered {
    green_gen_t gen;
    green_body_t inner;
    green_chunk_t chunk;
    ex_meter *m;
};

static int metered_step(green_gen_t *g)
{
    struct metered *w = (struct metered *)g;
    GREEN_GEN_BEGIN(g);
    while (green_body_next(&w->inner, &w->chunk)) {
        w->m->bytes += (long long)w->chunk.len;
        GREEN_GEN_YIELD(g, &w->chunk);
    }
    if (green_body_error(&w->inner)) {    /* a cut body stays cut */
        w->chunk = green_chunk_failure(green_body_error(&w->inner));
        GREEN_GEN_YIELD(g, &w->chunk);
    }
    GREEN_GEN_END(g);
}

static void metered_close(green_body_t *b)
{
    struct metered *w = b->data;
    green_body_close(&w->inner);
    free(w);
}

/* Call start_response again with one header more. */
static void add_header(green_response_t *resp, const char *name, const char *value)
{
    green_header_t h[GREEN_RESPONSE_MAX_HEADERS];
    if (!resp->started || resp->nheaders == GREEN_RESPONSE_MAX_HEADERS)
        return;
    memcpy(h, resp->headers, resp->nheaders * sizeof h[0]);
    h[resp->nheaders] = (green_header_t){ name, value };
    green_start_response(resp, resp->status, h, resp->nheaders + 1);
}

static green_body_t meter_call(green_app_t *self, green_environ_t *env,
                               green_response_t *resp)
{
    ex_meter *m = (ex_meter *)self;
    green_body_t body = green_app_call(m->inner, env, resp);
    char number[24];
    snprintf(number, sizeof number, "%ld", ++m->requests);
    add_header(resp, "X-Request-Count", number);

    if (green_body_is_list(&body)) {          /* its length is known: keep it */
        m->bytes += green_body_length(&body);
        return body;
    }
    struct metered *w = malloc(sizeof *w);
    if (!w)
        return body;                           /* cannot wrap: pass it on uncounted */
    w->inner = body;
    w->m = m;
    green_gen_init(&w->gen, metered_step);
    return green_body_gen(&w->gen, metered_close, w);
}

void ex_meter_init(ex_meter *m, green_app_t *inner)
{
    m->app.call = meter_call;
    m->inner = inner;
    m->requests = 0;
    m->bytes = 0;
}
