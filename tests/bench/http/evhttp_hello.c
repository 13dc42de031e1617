/*
 * evhttp_hello.c - the peer: a plain hello world on libevent's own HTTP
 * server (evhttp), written the way libevent's documentation and its
 * sample/http-server.c write one.  It uses libevent only, not the kit.
 *
 *   evhttp_hello [--host H] [--port P] [--backlog N]
 *
 * GET / (any path) -> 200 text/plain "Hello, World!"; evhttp adds
 * Content-Length and keeps HTTP/1.1 connections alive.  Prints
 * "listening on http://HOST:PORT" when ready (port 0: the kernel picks)
 * and exits with status 0 on SIGINT or SIGTERM.
 *
 * One departure from the samples: evhttp_bind_socket() listens with a
 * backlog of 128; this peer binds its own listener with the backlog the
 * kit's servers use (1024, green_server_options_t.backlog), so that under
 * `ab -c 1000` both sides queue connections alike and the figure compares
 * the servers, not their listen queues.
 */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void hello(struct evhttp_request *req, void *arg)
{
    struct evbuffer *body = arg;       /* one buffer, reused: no allocation */
    evhttp_add_header(evhttp_request_get_output_headers(req),
                      "Content-Type", "text/plain");
    evbuffer_add(body, "Hello, World!", 13);
    evhttp_send_reply(req, HTTP_OK, "OK", body);   /* drains body */
}

static void on_signal(evutil_socket_t sig, short what, void *base)
{
    (void)sig;
    (void)what;
    event_base_loopbreak(base);
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    int port = 8080, backlog = 1024;
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 < argc && strcmp(argv[i], "--host") == 0) host = argv[i + 1];
        else if (i + 1 < argc && strcmp(argv[i], "--port") == 0) port = atoi(argv[i + 1]);
        else if (i + 1 < argc && strcmp(argv[i], "--backlog") == 0) backlog = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "usage: evhttp_hello [--host H] [--port P] [--backlog N]\n");
            return 2;
        }
    }

    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
        fprintf(stderr, "evhttp_hello: %s is not an IPv4 address\n", host);
        return 2;
    }
    struct event_base *base = event_base_new();
    struct evhttp *http = evhttp_new(base);
    struct evbuffer *body = evbuffer_new();
    evhttp_set_gencb(http, hello, body);

    struct evconnlistener *listener = evconnlistener_new_bind(base, NULL, NULL,
        LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE, backlog,
        (struct sockaddr *)&sin, sizeof sin);
    if (listener == NULL || evhttp_bind_listener(http, listener) == NULL) {
        perror("evhttp_hello: listen");
        return 1;
    }
    socklen_t len = sizeof sin;
    getsockname(evconnlistener_get_fd(listener), (struct sockaddr *)&sin, &len);
    printf("listening on http://%s:%d\n", host, ntohs(sin.sin_port));
    fflush(stdout);

    struct event *term = evsignal_new(base, SIGTERM, on_signal, base);
    struct event *intr = evsignal_new(base, SIGINT, on_signal, base);
    event_add(term, NULL);
    event_add(intr, NULL);
    event_base_dispatch(base);

    event_free(term);
    event_free(intr);
    evhttp_free(http);                 /* frees the bound listener too */
    evbuffer_free(body);
    event_base_free(base);
    return 0;
}
