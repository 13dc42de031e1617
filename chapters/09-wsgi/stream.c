/*
 * stream.c - why a generator body can stream.  Three ticks, each ready
 * 0.1 s after the last (think: rows of a slow query).  As a list, the app
 * must have all of them before it returns; as a generator, the server
 * sends each tick while the next one is being made.  And since a tick
 * waits with green_sleep, two requests wait at the same time.
 *
 *     def ticks(environ, start_response):
 *         start_response('200 OK', [('Content-Type', 'text/plain')])
 *         for i in range(3):
 *             gevent.sleep(0.1)
 *             yield 'tick %d\n' % i
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "green.h"

enum { TICKS = 3 };
static double t0;
static green_header_t text[] = { { "Content-Type", "text/plain" } };

/* The list way: make every tick, then return them as one chunk. */
static green_body_t buffered(green_app_t *self, green_environ_t *env,
                             green_response_t *resp)
{
    char *all = calloc(TICKS, 16);
    (void)self, (void)env;
    for (int i = 0; i < TICKS; i++) {
        green_sleep(0.1);
        sprintf(all + strlen(all), "tick %d\n", i);
    }
    green_start_response(resp, "200 OK", text, 1);
    return green_body_take(all, strlen(all));
}

/* The generator way: a tick is made when the server asks for it. */
struct ticker {
    green_gen_t gen;
    int i;
    char line[16];
    green_chunk_t chunk;
};

static int ticker_step(green_gen_t *g)
{
    struct ticker *t = (struct ticker *)g;
    GREEN_GEN_BEGIN(g);
    for (t->i = 0; t->i < TICKS; t->i++) {
        green_sleep(0.1);               /* other greenlets run meanwhile */
        t->chunk.len = (size_t)snprintf(t->line, sizeof t->line, "tick %d\n", t->i);
        t->chunk.data = t->line;
        GREEN_GEN_YIELD(g, &t->chunk);
    }
    GREEN_GEN_END(g);
}

static void free_ticker(green_body_t *b) { free(b->data); }

static green_body_t streaming(green_app_t *self, green_environ_t *env,
                              green_response_t *resp)
{
    struct ticker *t = calloc(1, sizeof *t);
    (void)self, (void)env;
    green_gen_init(&t->gen, ticker_step);
    green_start_response(resp, "200 OK", text, 1);
    return green_body_gen(&t->gen, free_ticker, t);
}

/* Print a chunk on one line, its newlines as \n. */
static void show(const green_chunk_t *c)
{
    const char *p = c->data;
    for (size_t i = 0; i < c->len; i++) {
        if (p[i] == '\n')
            fputs("\\n", stdout);
        else
            putchar(p[i]);
    }
    putchar('\n');
}

/* A server's connection greenlet, minus the socket: "sends" each chunk
 * by printing it with the time it went out. */
struct client {
    const char *name;
    green_app_t *app;
};

static void *client(void *arg)
{
    struct client *c = arg;
    green_environ_t env = { .method = "GET", .path = "/", .query = "",
                            .uri = "/", .protocol = "HTTP/1.1" };
    green_response_t resp;
    green_response_init(&resp);
    green_body_t body = green_app_call(c->app, &env, &resp);
    printf("  %.2f s  %s: the app returned: %s\n", green_now() - t0, c->name,
           resp.status);
    green_chunk_t chunk;
    while (green_body_next(&body, &chunk)) {
        printf("  %.2f s  %s: send %2zu bytes: ", green_now() - t0, c->name, chunk.len);
        show(&chunk);
    }
    green_body_close(&body);
    return NULL;
}

static void run(struct client *clients, int n)
{
    green_t *g[2];
    t0 = green_now();
    for (int i = 0; i < n; i++)
        g[i] = green_spawn(client, &clients[i]);
    green_joinall(g, n, 5.0);
    for (int i = 0; i < n; i++)
        green_free(g[i]);
}

int main(void)
{
    green_app_t list_app = { buffered }, gen_app = { streaming };

    printf("a list body: the app makes every tick before it returns\n");
    run(&(struct client){ "request", &list_app }, 1);

    printf("a generator body: each tick goes out as soon as it is made\n");
    run(&(struct client){ "request", &gen_app }, 1);

    printf("two clients of the generator at once: their waits overlap\n");
    struct client two[] = { { "request A", &gen_app }, { "request B", &gen_app } };
    run(two, 2);
    green_hub_destroy();
    return 0;
}
