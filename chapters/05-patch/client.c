/*
 * client.c - ordinary blocking network code, greened.
 *
 * client() is what any C program does to ask a server something:
 * getaddrinfo, socket, connect, write, read, close, all blocking calls.
 * Five greenlets run it at once against a slow local server that answers
 * each question after 0.2 s.  Unpatched, each read() holds the thread, so
 * the clients take turns: 1 s.  Patched, every read() parks its greenlet
 * on the hub: the five waits overlap, 0.2 s.
 */
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "green.h"

static char port[16];
static double start;

/* Plain blocking code: nothing here knows about greenlets. */
static void *client(void *arg)
{
    int id = (int)(intptr_t)arg;
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *ai;
    if (getaddrinfo("localhost", port, &hints, &ai) != 0)
        return NULL;
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    int ok = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
    freeaddrinfo(ai);
    char reply[64] = "";
    if (ok && write(fd, "hello?\n", 7) == 7) {
        ssize_t n = read(fd, reply, sizeof reply - 1);    /* waits 0.2 s */
        reply[n > 0 ? n : 0] = '\0';
    }
    close(fd);
    printf("client %d: %.2f s: %s", id, green_now() - start, ok ? reply : "no connection\n");
    return NULL;
}

/* The slow server, in a child process: chapter 4's green calls, a
 * greenlet per connection. */
static void *answer(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[64];
    if (green_recv(fd, buf, sizeof buf, 5.0) > 0 && green_sleep(0.2) == 0)
        green_sendall(fd, "hello from the server\n", 22, 5.0);
    green_close(fd);
    return NULL;
}

static pid_t start_server(void)
{
    int listener = green_tcp_listen("127.0.0.1", "0", 16);
    snprintf(port, sizeof port, "%d", green_socket_port(listener));
    pid_t pid = fork();
    if (pid == 0) {
        for (;;) {
            int fd = green_accept(listener, NULL, NULL, GREEN_FOREVER);
            if (fd >= 0)
                green_detach(green_spawn(answer, (void *)(intptr_t)fd));
        }
    }
    close(listener);
    return pid;
}

int main(void)
{
    pid_t server = start_server();   /* before any greenlet: fork a plain process */
    green_t *gs[5];
    start = green_now();
    for (int i = 0; i < 5; i++)
        gs[i] = green_spawn(client, (void *)(intptr_t)(i + 1));
    green_joinall(gs, 5, GREEN_FOREVER);
    printf("5 clients in %.2f s\n", green_now() - start);

    for (int i = 0; i < 5; i++)
        green_free(gs[i]);
    green_hub_destroy();
    kill(server, SIGTERM);
    waitpid(server, NULL, 0);
    return 0;
}
