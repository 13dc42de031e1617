/*
 * hello.c - article 004's hello world, both ways, and what a server sees.
 *
 *     def hello_world(environ, start_response):
 *         start_response('200 OK', [('Content-Type', 'text/html')])
 *         return ['<b>Hello world!</b>\n']          # or: yield '<b>...'
 *
 * serve() below plays the server: it calls the application once, reads the
 * status and headers start_response recorded, then walks the body chunk by
 * chunk.  With the list, the body exists before the server looks at it;
 * with the generator, the application's code runs inside the server's walk.
 */
#include <stdio.h>
#include <stdlib.h>

#include "green.h"

/* The body as a list of chunks: return ['<b>Hello world!</b>\n'] */
static green_body_t hello_list(green_app_t *self, green_environ_t *env,
                               green_response_t *resp)
{
    static const green_chunk_t body[] = { { "<b>Hello world!</b>\n", 20 } };
    green_header_t h[] = { { "Content-Type", "text/html" } };
    (void)self, (void)env;
    green_start_response(resp, "200 OK", h, 1);
    printf("  app:    start_response, return a list of 1 chunk\n");
    return green_body_list(body, 1);
}

/* The body as a generator: yield '<b>Hello world!</b>\n'.  Its state
 * lives in a struct (chapter 1), freed by the body's close. */
struct hello_gen {
    green_gen_t gen;
    green_chunk_t chunk;
};

static int hello_step(green_gen_t *g)
{
    struct hello_gen *h = (struct hello_gen *)g;
    GREEN_GEN_BEGIN(g);
    printf("  app:    (generator runs) yield 1 chunk\n");
    h->chunk = (green_chunk_t){ "<b>Hello world!</b>\n", 20 };
    GREEN_GEN_YIELD(g, &h->chunk);
    printf("  app:    (generator runs) the end\n");
    GREEN_GEN_END(g);
}

static void free_gen(green_body_t *b) { free(b->data); }

static green_body_t hello_yield(green_app_t *self, green_environ_t *env,
                                green_response_t *resp)
{
    green_header_t h[] = { { "Content-Type", "text/html" } };
    struct hello_gen *s = calloc(1, sizeof *s);
    (void)self, (void)env;
    green_gen_init(&s->gen, hello_step);
    green_start_response(resp, "200 OK", h, 1);
    printf("  app:    start_response, return a generator (nothing yielded yet)\n");
    return green_body_gen(&s->gen, free_gen, s);
}

/* What every server does with an application, minus the sockets. */
static void serve(green_app_t *app)
{
    green_environ_t env = { .method = "GET", .path = "/", .query = "",
                            .uri = "/", .protocol = "HTTP/1.1",
                            .content_length = -1 };
    green_response_t resp;
    green_response_init(&resp);
    green_body_t body = green_app_call(app, &env, &resp);

    printf("  server: status \"%s\"\n", resp.status);
    for (size_t i = 0; i < resp.nheaders; i++)
        printf("  server: header %s: %s\n", resp.headers[i].name, resp.headers[i].value);
    if (green_body_is_list(&body))
        printf("  server: a list: Content-Length: %lld, known before sending\n",
               green_body_length(&body));
    else
        printf("  server: a generator: length unknown, Transfer-Encoding: chunked\n");
    green_chunk_t c;
    for (int i = 0; green_body_next(&body, &c); i++)
        printf("  server: chunk %d, %zu bytes: %.*s\n", i, c.len, (int)c.len - 1,
               (const char *)c.data);            /* -1: not its '\n' */
    green_body_close(&body);
    printf("  server: body closed\n");
}

int main(void)
{
    green_app_t list_app = { hello_list }, yield_app = { hello_yield };
    printf("return [...]:\n");
    serve(&list_app);
    printf("\nyield ...:\n");
    serve(&yield_app);
    return 0;
}
