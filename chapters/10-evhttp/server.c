/*
 * server.c - chapter 9's demo application on libevent's evhttp: the
 * design of gevent.wsgi.  The gevent original (article 004):
 *
 *     from gevent import wsgi
 *     wsgi.WSGIServer(('', 8080), hello_world).serve_forever()
 *
 * libevent parses HTTP in C; every request runs the application in a
 * greenlet of its own, and its whole body is buffered, then sent with a
 * Content-Length.
 *
 * Usage: server [--host HOST] [--port PORT]
 * Try it: `make serve10 PORT=8000`, then `curl -v http://127.0.0.1:8000/`;
 * Ctrl-C (or SIGTERM) stops it gracefully.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "green.h"
#include "../09-wsgi/demo_app.h"

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *port = "8000";
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 < argc && strcmp(argv[i], "--host") == 0)      host = argv[i + 1];
        else if (i + 1 < argc && strcmp(argv[i], "--port") == 0) port = argv[i + 1];
        else {
            fprintf(stderr, "usage: server [--host HOST] [--port PORT]\n");
            return 2;
        }
    }

    green_evhttp_t *srv = green_evhttp_new(host, port, &demo_app, NULL);
    /* Its life (listen, signals, stop) is chapter 7's core's. */
    green_server_t *core = srv ? green_evhttp_core(srv) : NULL;
    if (!core || green_server_start(core) < 0) {
        fprintf(stderr, "server: cannot listen on %s:%s: %s\n", host, port,
                strerror(errno));
        return 1;
    }
    /* A signal is one more event on the hub: it closes the server. */
    green_server_close_on_signal(core, SIGINT);
    green_server_close_on_signal(core, SIGTERM);
    printf("listening on http://%s:%d\n", host, green_server_port(core));
    fflush(stdout);               /* tools wait for the line above */

    green_server_serve_forever(core);                /* until a signal */
    int killed = green_server_stop(core, 2.0);          /* requests get 2 s */
    printf("server: %lu response(s) sent, %d request(s) killed at stop\n",
           green_evhttp_served(srv), killed < 0 ? 0 : killed);
    green_evhttp_free(srv);
    green_hub_destroy();
    return killed < 0 ? 1 : 0;
}
