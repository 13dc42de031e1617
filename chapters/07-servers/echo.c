/*
 * echo.c - an echo server on StreamServer: a greenlet per connection.
 * The gevent original:
 *
 *     def echo(socket, address):
 *         while True:
 *             data = socket.recv(4096)
 *             if not data: break
 *             socket.sendall(data)
 *     StreamServer(('127.0.0.1', 8000), echo).serve_forever()
 *
 * Usage: echo [--host HOST] [--port PORT] [--backlog N] [--pool N]
 * Try it: `make serve7 PORT=8000`, then `nc 127.0.0.1 8000`; Ctrl-C (or
 * SIGTERM) stops it gracefully.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "green.h"
#include "pool.h"
#include "server.h"

/* One of these runs in its own greenlet for every client.  It reads as if
 * it had the machine to itself; green_recv parks it on the hub instead. */
static void echo(int fd, const struct sockaddr *peer, socklen_t len, void *arg)
{
    (void)peer, (void)len, (void)arg;
    char buf[4096];
    ssize_t n;
    /* 0: the client closed.  -1: it reset, was silent for 5 minutes, or
     * the server is stopping (ECANCELED).  Either way we just return: the
     * server closes fd. */
    while ((n = green_recv(fd, buf, sizeof buf, 300.0)) > 0)
        if (green_sendall(fd, buf, (size_t)n, 30.0) < 0)
            break;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *port = "8000";
    int backlog = 1024, pool = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--host") == 0)         host = argv[i + 1];
        else if (strcmp(argv[i], "--port") == 0)    port = argv[i + 1];
        else if (strcmp(argv[i], "--backlog") == 0) backlog = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--pool") == 0)    pool = atoi(argv[i + 1]);
    }

    green_server_options_t opt = {
        .backlog = backlog,                   /* the kernel's queue of new clients */
        .max_connections = pool ? pool : -1,  /* --pool 0: no limit on handlers */
    };
    green_server_t *srv = green_server_new(host, port, echo, NULL, &opt);
    if (green_server_start(srv) < 0) {
        fprintf(stderr, "echo: cannot listen on %s:%s: %s\n", host, port, strerror(errno));
        return 1;
    }
    /* A signal is one more event on the hub: it closes the server. */
    green_server_close_on_signal(srv, SIGINT);
    green_server_close_on_signal(srv, SIGTERM);
    printf("listening on http://%s:%d\n", host, green_server_port(srv));
    printf("echo: listen backlog %d, pool %d (0: no limit)\n", backlog, pool);
    fflush(stdout);              /* tools wait for the line above */

    green_server_serve_forever(srv);               /* until a signal */
    int killed = green_server_stop(srv, 2.0);      /* handlers get 2 s */
    printf("echo: served %lu connection(s), killed %d handler(s) at stop\n",
           green_server_accepted(srv), killed < 0 ? 0 : killed);
    green_server_free(srv);
    green_hub_destroy();
    return killed < 0 ? 1 : 0;
}
