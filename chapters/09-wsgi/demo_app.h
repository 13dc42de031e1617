/*
 * demo_app.h - the demo application every HTTP server of the kit serves
 * (chapters 9 to 12).  Its routes are a contract: the library's tests and
 * the middleware exercise's tests send these requests and expect these
 * answers (chapter 9's README, "The demo app"):
 *
 *   GET or HEAD /      200 text/plain "Hello, World!"
 *   GET or POST /echo  200 application/octet-stream, the request's body,
 *                      streamed back piece by piece as it is read (any
 *                      size, DEMO_ECHO_PIECE bytes of memory); 400 or 413
 *                      when its first read fails, a cut response when a
 *                      later one does
 *   GET /stream?n=K    200, K chunks "chunk i\n", yielded one at a time
 *   GET /sleep?ms=M    sleeps M ms (cooperatively), then 200 "slept"
 *   GET /cpu?ms=M      computes for M ms without yielding, then 200
 *                      "computed" (chapter 12: a CPU-bound handler)
 *   GET /pid           200, the serving process's id in decimal (chapter
 *                      12: which worker answered)
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
#include <unistd.h>

#include "green.h"

#define DEMO_ECHO_PIECE (16 * 1024)   /* /echo reads and sends this much at a time */
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

/* /echo : the request body, sent back as it is read through wsgi.input:
 * a generator (chapter 1) that reads a piece and yields it, so the memory
 * it takes is one piece, whatever the body's size (the whole body, read
 * first, would need all of it at once: a 5 GB upload, 5 GB).  A server
 * sends the head with the first chunk, so the 200 can still change at
 * the first read: a body refused at once (over the server's limit:
 * EMSGSIZE) is a 413, a malformed one a 400.  A read that fails later,
 * once the 200 and part of the body are out, can only cut the response
 * short: it yields green_chunk_failure(errno), and the server closes the
 * connection without ending the response (wsgi.h, green_body_error). */
struct demo_echo {
    green_gen_t gen;
    green_input_t *input;
    green_response_t *resp;
    ssize_t got;                  /* the last read, and its errno: they */
    int error;                    /* must survive the yield */
    green_chunk_t chunk;
    char piece[DEMO_ECHO_PIECE];
};

static void demo_echo_read(struct demo_echo *e)
{
    e->got = green_input_read(e->input, e->piece, sizeof e->piece);
    e->error = e->got < 0 ? errno : 0;
}

static int demo_echo_step(green_gen_t *g)
{
    static const char refused[] = "could not read the body\n";
    struct demo_echo *e = (struct demo_echo *)g;
    green_header_t text[] = { { "Content-Type", "text/plain" } };
    GREEN_GEN_BEGIN(g);
    demo_echo_read(e);
    if (e->got < 0) {             /* nothing sent yet: a new status */
        green_start_response(e->resp, e->error == EMSGSIZE ? "413 Content Too Large"
                                                           : "400 Bad Request", text, 1);
        e->chunk = (green_chunk_t){ refused, sizeof refused - 1 };
        GREEN_GEN_YIELD(g, &e->chunk);
        e->got = 0;               /* and that is the whole answer */
    }
    while (e->got > 0) {
        e->chunk = (green_chunk_t){ e->piece, (size_t)e->got };
        GREEN_GEN_YIELD(g, &e->chunk);
        demo_echo_read(e);
    }
    if (e->got < 0) {             /* half-way: the response cannot be whole */
        e->chunk = green_chunk_failure(e->error);
        GREEN_GEN_YIELD(g, &e->chunk);
    }
    GREEN_GEN_END(g);
}

static void demo_free_state(green_body_t *b)
{
    free(b->data);
}

static green_body_t demo_echo(green_environ_t *env, green_response_t *resp)
{
    struct demo_echo *e = malloc(sizeof *e);
    if (!e)
        return demo_text(resp, "500 Internal Server Error", "text/plain",
                         "out of memory\n");
    e->input = env->input;
    e->resp = resp;
    green_gen_init(&e->gen, demo_echo_step);
    green_header_t h[] = { { "Content-Type", "application/octet-stream" } };
    green_start_response(resp, "200 OK", h, 1);
    return green_body_gen(&e->gen, demo_free_state, e);
}

/* /stream?n=K : a generator body (chapter 1), one chunk per yield.  Its
 * state lives in a struct, because a stackless generator's locals do not
 * survive a yield. */
struct demo_stream {
    green_gen_t gen;
    long i, n;
    char line[32];
    green_chunk_t chunk;
};

static int demo_stream_step(green_gen_t *g)
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
    return green_body_gen(&s->gen, demo_free_state, s);
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

/* /cpu?ms=M : the opposite of /sleep: a handler that computes and never
 * yields, so the whole hub (every other connection of this process) waits
 * for it.  One process, one core: chapter 12's workers are how a server
 * uses the others.  It spins on the clock, not on a fixed amount of work,
 * so that M ms are M ms on any machine. */
static green_body_t demo_cpu(green_environ_t *env, green_response_t *resp)
{
    long ms = demo_number(env, "ms", 60 * 1000);
    if (ms < 0)
        return demo_text(resp, "400 Bad Request", "text/plain",
                         "usage: /cpu?ms=M\n");
    double end = green_now() + ms / 1000.0;
    volatile unsigned long spin = 0;
    do {
        for (int i = 0; i < 1000; i++)
            spin++;
    } while (green_now() < end);
    return demo_text(resp, "200 OK", "text/plain", "computed");
}

/* /pid : which process answered (chapter 12's workers are processes). */
static green_body_t demo_pid(green_response_t *resp)
{
    char text[24];
    int n = snprintf(text, sizeof text, "%ld", (long)getpid());
    green_header_t h[] = { { "Content-Type", "text/plain" } };
    green_start_response(resp, "200 OK", h, 1);
    return green_body_copy(text, (size_t)n);    /* text dies with us */
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
    if (strcmp(p, "/cpu") == 0 && get)
        return demo_cpu(env, resp);
    if (strcmp(p, "/pid") == 0 && get)
        return demo_pid(resp);
    return demo_text(resp, "404 Not Found", "text/plain", "Not Found\n");
}

static green_app_t demo_app = { demo_call };

#endif
