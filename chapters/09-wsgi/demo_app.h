/*
 * demo_app.h - the demo application every HTTP server of the kit serves
 * (chapters 9 to 11).  Its routes are a contract: the library's tests and
 * the middleware exercise's tests send these requests and expect these
 * answers (chapter 9's README, "The demo app"):
 *
 *   GET or HEAD /      200 text/plain "Hello, World!"
 *   GET or POST /echo  200 application/octet-stream, the request's body
 *   GET /stream?n=K    200, K chunks "chunk i\n", yielded one at a time
 *   GET /sleep?ms=M    sleeps M ms (cooperatively), then 200 "slept"
 *   anything else      404
 *
 * It is a header so that each chapter's server is one file that includes
 * it: chapter 9 explains it line by line.
 */
#ifndef DEMO_APP_H
#define DEMO_APP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "green.h"

#define DEMO_MAX_BODY   (1 << 20)     /* /echo takes at most 1 MiB */
#define DEMO_MAX_CHUNKS 1000000       /* /stream?n= at most this */

static green_body_t demo_text(green_response_t *resp, const char *status,
                              const char *type, const char *text)
{
    green_header_t h[] = { { "Content-Type", type } };
    green_start_response(resp, status, h, 1);
    return green_body_str(text);
}

/* GET / : the hello world of article 004, as a list of one chunk. */
static green_body_t demo_hello(green_response_t *resp)
{
    return demo_text(resp, "200 OK", "text/plain", "Hello, World!");
}

/* /echo : the request body, read through wsgi.input. */
static green_body_t demo_echo(green_environ_t *env, green_response_t *resp)
{
    size_t len;
    char *body = green_input_read_all(env->input, DEMO_MAX_BODY, &len);
    if (!body)
        return demo_text(resp, errno == EMSGSIZE ? "413 Content Too Large"
                                                 : "400 Bad Request",
                         "text/plain", "could not read the body\n");
    green_header_t h[] = { { "Content-Type", "application/octet-stream" } };
    green_start_response(resp, "200 OK", h, 1);
    return green_body_take(body, len);
}

/* /stream?n=K : a generator body (chapter 1), one chunk per yield.  Its
 * state lives in a struct, because a stackless generator's locals do not
 * survive a yield. */
struct demo_stream {
    green_gen gen;
    long i, n;
    char line[32];
    green_chunk_t chunk;
};

static int demo_stream_step(green_gen *g)
{
    struct demo_stream *s = (struct demo_stream *)g;
    GREEN_GEN_BEGIN(g);
    for (s->i = 0; s->i < s->n; s->i++) {
        s->chunk.len = (size_t)snprintf(s->line, sizeof s->line,
                                        "chunk %ld\n", s->i);
        s->chunk.data = s->line;
        GREEN_GEN_YIELD(g, &s->chunk);
    }
    GREEN_GEN_END(g);
}

static void demo_stream_close(green_body_t *b)
{
    free(b->data);
}

/* The number in query parameter `name`, or -1 when absent or not one. */
static long demo_number(green_environ_t *env, const char *name, long max)
{
    char buf[24], *end;
    if (green_query_param(env, name, buf, sizeof buf) <= 0)
        return -1;
    long v = strtol(buf, &end, 10);
    return *end || v < 0 || v > max ? -1 : v;
}

static green_body_t demo_stream(green_environ_t *env, green_response_t *resp)
{
    long n = demo_number(env, "n", DEMO_MAX_CHUNKS);
    struct demo_stream *s = n < 0 ? NULL : calloc(1, sizeof *s);
    if (!s)
        return demo_text(resp, "400 Bad Request", "text/plain",
                         "usage: /stream?n=K\n");
    s->n = n;
    green_gen_init(&s->gen, demo_stream_step);
    green_header_t h[] = { { "Content-Type", "text/plain" } };
    green_start_response(resp, "200 OK", h, 1);
    return green_body_gen(&s->gen, demo_stream_close, s);
}

/* /sleep?ms=M : a slow request that costs the server nothing while it
 * waits: the other requests go on. */
static green_body_t demo_sleep(green_environ_t *env, green_response_t *resp)
{
    long ms = demo_number(env, "ms", 60 * 1000);
    if (ms < 0)
        return demo_text(resp, "400 Bad Request", "text/plain",
                         "usage: /sleep?ms=M\n");
    green_sleep(ms / 1000.0);
    return demo_text(resp, "200 OK", "text/plain", "slept");
}

static green_body_t demo_call(green_app_t *self, green_environ_t *env,
                              green_response_t *resp)
{
    const char *m = env->method, *p = env->path;
    /* HEAD answers as GET would, on every route: the server sends the
     * head and drops the body. */
    int get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
    (void)self;

    if (strcmp(p, "/") == 0 && get)
        return demo_hello(resp);
    if (strcmp(p, "/echo") == 0 && (get || strcmp(m, "POST") == 0))
        return demo_echo(env, resp);
    if (strcmp(p, "/stream") == 0 && get)
        return demo_stream(env, resp);
    if (strcmp(p, "/sleep") == 0 && get)
        return demo_sleep(env, resp);
    return demo_text(resp, "404 Not Found", "text/plain", "Not Found\n");
}

static green_app_t demo_app = { demo_call };

#endif
