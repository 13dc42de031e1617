/* serve.c - exercise 07-servers/serve.  Read serve.h first. */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "green.h"
#include "serve.h"

int ex_serve(int listen_fd, ex_handler handler, void *arg, int max)
{
    /* TODO: loop: accept4; on success spawn (and detach) a greenlet that
     * runs handler(fd, arg) then closes fd; on EAGAIN green_wait_read; on
     * EMFILE & co. back off with green_sleep; stop after max connections.
     * Until then: -1 with errno ENOSYS ("not implemented"). */
    (void)listen_fd;
    (void)handler;
    (void)arg;
    (void)max;
    errno = ENOSYS;
    return -1;
}
