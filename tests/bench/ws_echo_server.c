/*
 * ws_echo_server.c - the kit's side of `make bench-ws` when chapter 13's
 * server is not built: chapter 11's HTTP server with one WebSocket route,
 * /ws/echo, served by the library's own green_ws_echo (lib/13-ws), and
 * "GET /" answering "ok" so that tools can see it is up.
 *
 * Usage: ws_echo_server [--host HOST] [--port PORT]
 * Prints "listening on http://HOST:PORT" (the line tests/bench/ws.sh waits
 * for), serves until SIGINT or SIGTERM.  Chapter 13's server serves the
 * same /ws/echo with the same function: ws.sh prefers it when it exists.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "green.h"

static green_body_t echo_call(green_app_t *self, green_environ_t *env, green_response_t *resp)
{
    (void)self;
    green_body_t body;
    if (strcmp(env->path, "/ws/echo") == 0) {
        green_ws_accept(env, resp, green_ws_echo, NULL, &body);
        return body;
    }
    green_header_t type = { "Content-Type", "text/plain" };
    green_start_response(resp, strcmp(env->path, "/") == 0 ? "200 OK" : "404 Not Found", &type, 1);
    return green_body_str("ok\n");
}

static green_app_t echo_app = { echo_call };

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *port = "0";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--host") == 0)       host = argv[i + 1];
        else if (strcmp(argv[i], "--port") == 0)  port = argv[i + 1];
        else { fprintf(stderr, "ws_echo_server: unknown option %s\n", argv[i]); return 2; }
    }
    green_http_server_t *srv = green_http_server_new(host, port, &echo_app, NULL);
    green_server_t *core = srv ? green_http_server_core(srv) : NULL;
    if (!core || green_server_start(core) < 0) {
        fprintf(stderr, "ws_echo_server: cannot serve on %s:%s: %s\n", host, port, strerror(errno));
        return 1;
    }
    green_server_close_on_signal(core, SIGINT);
    green_server_close_on_signal(core, SIGTERM);
    printf("listening on http://%s:%d\n", host, green_server_port(core));
    fflush(stdout);
    green_server_serve_forever(core);
    /* WebSocket connections never end on their own: cut them at once. */
    green_server_stop(core, 0.5);
    green_http_server_free(srv);
    green_hub_destroy();
    return 0;
}
