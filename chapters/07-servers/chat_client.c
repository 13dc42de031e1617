/*
 * chat_client.c - three scripted users of the chat server, each a greenlet
 * of this process that reads what the server sends it.  At the end, each
 * user's screen is printed: who saw what.
 *
 * Usage: chat_client HOST PORT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "green.h"

struct user {
    const char *name;
    int fd;
    char screen[1024];          /* everything the server sent us */
    size_t len;
    green_t *reader;
};

static const char *host, *port;

static void *read_screen(void *arg)
{
    struct user *u = arg;
    ssize_t n;
    while (u->len < sizeof u->screen - 1
           && (n = green_recv(u->fd, u->screen + u->len, sizeof u->screen - 1 - u->len, 5.0)) > 0)
        u->len += (size_t)n;
    return NULL;
}

static void join(struct user *u)
{
    u->fd = green_tcp_connect(host, port, 5.0);
    if (u->fd < 0) {
        perror("chat_client: connect");
        exit(1);
    }
    dprintf(u->fd, "%s\n", u->name);          /* "your name?" */
    u->reader = green_spawn(read_screen, u);
}

static void say(struct user *u, const char *line)
{
    green_sendall(u->fd, line, strlen(line), 5.0);
}

static void leave(struct user *u)
{
    shutdown(u->fd, SHUT_WR);    /* the server sees the end, closes, */
    green_join(u->reader, 5.0);  /* and our reader sees the end too */
    green_free(u->reader);
    close(u->fd);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: chat_client HOST PORT\n");
        return 2;
    }
    host = argv[1];
    port = argv[2];
    struct user alice = { .name = "alice" }, bob = { .name = "bob" }, carol = { .name = "carol" };
    const double step = 0.05;    /* let each line arrive before the next */

    join(&alice);                green_sleep(step);
    join(&bob);                  green_sleep(step);
    say(&alice, "hi bob\n");     green_sleep(step);
    join(&carol);                green_sleep(step);
    say(&bob, "hello alice, hello carol\n");  green_sleep(step);
    say(&carol, "hi all\n");     green_sleep(step);
    leave(&bob);                 green_sleep(step);
    leave(&alice);
    leave(&carol);

    struct user *users[] = { &alice, &bob, &carol };
    for (int i = 0; i < 3; i++) {
        printf("%s's screen:\n", users[i]->name);
        for (char *line = strtok(users[i]->screen, "\n"); line; line = strtok(NULL, "\n"))
            printf("  | %s\n", line);
    }
    green_hub_destroy();
    return 0;
}
