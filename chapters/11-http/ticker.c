/*
 * ticker.c - article 004's streaming example, on the chapter's server:
 *
 *     def hello_world(environ, start_response):
 *         start_response('200 OK', [('Content-Type', 'text/html')])
 *         yield '<b>Hello world!</b>\n'
 *
 * Here the generator yields three times, sleeping 300 ms before each
 * line after the first, and a client in the same program prints every
 * piece when it arrives: the server sends each chunk as it is yielded,
 * it never waits for the whole body.
 */
#include <stdio.h>
#include <string.h>

#include "green.h"

/* The generator's state lives in a struct (chapter 1): locals do not
 * survive a yield. */
struct ticker {
    green_gen_t gen;
    int i;
    green_chunk_t line;
};

static int tick_step(green_gen_t *g)
{
    struct ticker *t = (struct ticker *)g;
    GREEN_GEN_BEGIN(g);
    for (t->i = 0; t->i < 3; t->i++) {
        if (t->i > 0)
            green_sleep(0.3);   /* the app's slow work: the hub runs others */
        t->line = (green_chunk_t){ "<b>Hello world!</b>\n", 20 };
        GREEN_GEN_YIELD(g, &t->line);
    }
    GREEN_GEN_END(g);
}

static struct ticker ticker;

static green_body_t hello_world(green_app_t *self, green_environ_t *env,
                                green_response_t *resp)
{
    (void)self, (void)env;
    green_header_t h[] = { { "Content-Type", "text/html" } };
    green_start_response(resp, "200 OK", h, 1);
    ticker = (struct ticker){ .i = 0 };
    green_gen_init(&ticker.gen, tick_step);
    return green_body_gen(&ticker.gen, NULL, NULL);
}

static green_app_t app = { hello_world };

int main(void)
{
    green_http_server_t *srv = green_http_server_new("127.0.0.1", "0", &app, NULL);
    green_server_start(green_http_server_core(srv));
    char port[16];
    snprintf(port, sizeof port, "%d", green_server_port(green_http_server_core(srv)));

    /* The client: one request, then print what arrives, when it does. */
    int fd = green_tcp_connect("127.0.0.1", port, 2.0);
    const char req[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    green_sendall(fd, req, sizeof req - 1, 2.0);
    double t0 = green_now();
    char buf[1024];
    ssize_t n;
    while ((n = green_recv(fd, buf, sizeof buf - 1, 1.0)) > 0) {
        buf[n] = '\0';
        int last = strstr(buf, "0\r\n\r\n") != NULL;     /* the last chunk */
        printf("after %.1f s, %zd bytes arrived:\n", green_now() - t0, n);
        for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
            printf("    | %.*s\n", (int)strcspn(line, "\r"), line);
        if (last)
            break;
    }
    green_close(fd);
    green_server_stop(green_http_server_core(srv), 1.0);
    green_http_server_free(srv);
    green_hub_destroy();
    return 0;
}
