/*
 * chat.c - a line chat on StreamServer.  Each client first sends its name,
 * then every line it sends goes to everybody else.  Join with
 * `nc 127.0.0.1 PORT` or `telnet 127.0.0.1 PORT`.
 *
 * Usage: chat [--host HOST] [--port PORT]
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "green.h"
#include "pool.h"
#include "server.h"

struct client {
    int fd;
    char name[24];
    char buf[512];              /* bytes received, not yet a whole line */
    size_t have;
    struct client *next;
};

/* Everybody connected.  No lock: only one greenlet runs at a time, and
 * none waits in the middle of changing the list. */
static struct client *clients;

/* Send msg to everybody but `from`, without ever waiting: a client whose
 * socket cannot take the whole line now has stopped reading, and is cut
 * off rather than allowed to hold up everybody else's messages. */
static void broadcast(const struct client *from, const char *msg)
{
    size_t len = strlen(msg);
    for (struct client *c = clients; c; c = c->next)
        if (c != from && send(c->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len)
            shutdown(c->fd, SHUT_RDWR);   /* its green_recv sees the end */
}

/* The next line from c, without its "\n" (or telnet's "\r\n"), or NULL
 * when the client is gone. */
static char *read_line(struct client *c, char *line, size_t size)
{
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->have);
        if (nl != NULL || c->have == sizeof c->buf) {    /* too long: cut */
            size_t n = nl ? (size_t)(nl - c->buf) : c->have;
            size_t keep = nl ? c->have - n - 1 : 0;
            snprintf(line, size, "%.*s", (int)(n > 0 && c->buf[n - 1] == '\r' ? n - 1 : n), c->buf);
            memmove(c->buf, c->buf + c->have - keep, keep);
            c->have = keep;
            return line;
        }
        ssize_t got = green_recv(c->fd, c->buf + c->have, sizeof c->buf - c->have, 600.0);
        if (got <= 0)
            return NULL;        /* closed, reset, idle 10 minutes, or stop */
        c->have += (size_t)got;
    }
}

static void chat(int fd, const struct sockaddr *peer, socklen_t len, void *arg)
{
    (void)peer, (void)len, (void)arg;
    struct client me = { .fd = fd };
    char line[600], msg[700];

    green_sendall(fd, "your name? ", 11, 10.0);
    if (read_line(&me, line, sizeof line) == NULL)
        return;
    snprintf(me.name, sizeof me.name, "%.23s", line[0] ? line : "anonymous");

    me.next = clients;           /* join the room */
    clients = &me;
    snprintf(msg, sizeof msg, "* %s joined\n", me.name);
    broadcast(&me, msg);

    while (read_line(&me, line, sizeof line) != NULL) {
        snprintf(msg, sizeof msg, "%s: %s\n", me.name, line);
        broadcast(&me, msg);
    }

    for (struct client **p = &clients; *p; p = &(*p)->next)   /* leave */
        if (*p == &me) {
            *p = me.next;
            break;
        }
    snprintf(msg, sizeof msg, "* %s left\n", me.name);
    broadcast(&me, msg);
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *port = "8001";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--host") == 0)      host = argv[i + 1];
        else if (strcmp(argv[i], "--port") == 0) port = argv[i + 1];
    }
    green_server_t *srv = green_server_new(host, port, chat, NULL, NULL);
    if (green_server_start(srv) < 0) {
        perror("chat: cannot listen");
        return 1;
    }
    green_server_close_on_signal(srv, SIGINT);
    green_server_close_on_signal(srv, SIGTERM);
    printf("listening on http://%s:%d\n", host, green_server_port(srv));
    fflush(stdout);

    green_server_serve_forever(srv);
    int killed = green_server_stop(srv, 1.0);   /* chatters never finish: */
    printf("chat: %lu visitor(s), %d still chatting at stop\n",   /* kill them */
           green_server_accepted(srv), killed < 0 ? 0 : killed);
    green_server_free(srv);
    green_hub_destroy();
    return killed < 0 ? 1 : 0;
}
