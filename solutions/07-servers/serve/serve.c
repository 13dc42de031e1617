/* serve.c - solution of exercise 07-servers/serve.  See serve.h. */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "green.h"
#include "serve.h"

#define BACKOFF_MIN 0.01
#define BACKOFF_MAX 1.0

/* What a connection's greenlet needs to know. */
struct conn {
    int fd;
    ex_handler handler;
    void *arg;
};

/* The greenlet of one connection: the handler, then the socket closed. */
static void *run_handler(void *p)
{
    struct conn *c = p;
    c->handler(c->fd, c->arg);
    close(c->fd);
    free(c);
    return NULL;
}

static int spawn_handler(int fd, ex_handler handler, void *arg)
{
    struct conn *c = malloc(sizeof *c);
    green_t *g = c ? green_spawn(run_handler, c) : NULL;
    if (g == NULL) {
        free(c);
        close(fd);              /* the client sees its connection closed */
        return -1;
    }
    *c = (struct conn){ fd, handler, arg };
    green_detach(g);            /* nobody joins it: the hub frees it */
    return 0;
}

static int out_of_resources(int err)
{
    return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

int ex_serve(int listen_fd, ex_handler handler, void *arg, int max)
{
    int accepted = 0;
    double backoff = 0;
    while (max < 0 || accepted < max) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            backoff = 0;
            accepted++;
            spawn_handler(fd, handler, arg);
            continue;
        }
        int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK) {
            if (green_wait_read(listen_fd, GREEN_FOREVER) < 0)
                return -1;
        } else if (err == ECONNABORTED || err == EINTR) {
            continue;
        } else if (out_of_resources(err)) {
            /* The client is still in the backlog, so the socket is still
             * readable: waiting for it would not wait.  Sleep instead. */
            backoff = backoff == 0 ? BACKOFF_MIN : backoff * 2;
            if (backoff > BACKOFF_MAX)
                backoff = BACKOFF_MAX;
            if (green_sleep(backoff) < 0)
                return -1;
        } else {
            errno = err;
            return -1;
        }
    }
    return accepted;
}
