/*
 * echo.c - a server and three clients talk through green sockets on
 * 127.0.0.1, all in one thread.
 *
 * The server greenlet accepts connections and spawns a greenlet for each
 * one, which echoes back whatever it reads (gevent's StreamServer does the
 * same).  Each client connects, sends three messages and reads each one
 * back.  Every call that would block (accept, connect, recv, send) parks
 * its greenlet on the hub instead, so the four conversations interleave.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "green.h"

static char port[16];       /* the server's port, chosen by the kernel */

/* One connection: echo until the client closes it (recv returns 0). */
static void *handle(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[256];
    ssize_t n;
    while ((n = green_recv(fd, buf, sizeof buf, 5.0)) > 0)
        if (green_sendall(fd, buf, (size_t)n, 5.0) < 0)
            break;
    green_close(fd);
    return NULL;
}

static void *serve(void *arg)
{
    int listener = (int)(intptr_t)arg;
    for (;;) {
        int fd = green_accept(listener, NULL, NULL, GREEN_FOREVER);
        if (fd < 0)
            return NULL;                /* killed: ECANCELED */
        printf("server: new connection, spawning a greenlet for it\n");
        green_detach(green_spawn(handle, (void *)(intptr_t)fd));
    }
}

static void *client(void *arg)
{
    const char *name = arg;
    int fd = green_tcp_connect("127.0.0.1", port, 1.0);
    if (fd < 0) {
        perror(name);
        return NULL;
    }
    for (int i = 1; i <= 3; i++) {
        char msg[64], back[64];
        size_t len = (size_t)snprintf(msg, sizeof msg, "%s #%d", name, i), got = 0;
        printf("%-5s sends    '%s'\n", name, msg);
        if (green_sendall(fd, msg, len, 1.0) < 0)
            break;
        while (got < len) {             /* TCP is a stream: it may come in pieces */
            ssize_t n = green_recv(fd, back + got, len - got, 1.0);
            if (n <= 0)
                goto out;
            got += (size_t)n;
        }
        printf("%-5s receives '%.*s'\n", name, (int)got, back);
    }
out:
    green_close(fd);
    return NULL;
}

int main(void)
{
    int listener = green_tcp_listen("127.0.0.1", "0", 16);
    snprintf(port, sizeof port, "%d", green_socket_port(listener));
    green_t *server = green_spawn(serve, (void *)(intptr_t)listener);
    green_t *clients[] = { green_spawn(client, "alice"), green_spawn(client, "bob"),
                           green_spawn(client, "carol") };

    double start = green_now();
    green_joinall(clients, 3, 5.0);
    printf("3 clients x 3 echoes in %.1f ms, one thread\n", (green_now() - start) * 1e3);

    green_kill(server, 1.0);            /* its accept fails with ECANCELED */
    green_free(server);
    for (int i = 0; i < 3; i++)
        green_free(clients[i]);
    green_close(listener);
    green_hub_destroy();
    return 0;
}
