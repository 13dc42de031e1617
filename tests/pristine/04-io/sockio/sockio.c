/* sockio.c - exercise 04-io/sockio.  Read sockio.h first. */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "green.h"
#include "sockio.h"

ssize_t ex_recv(int fd, void *buf, size_t n, double timeout)
{
    /* TODO: compute the deadline once; then loop: read(); on EAGAIN,
     * green_wait_read() with the time left; return what read() gave, or
     * -1 with errno. */
    (void)fd;
    (void)buf;
    (void)n;
    (void)timeout;
    errno = ENOSYS;
    return -1;
}

ssize_t ex_sendall(int fd, const void *buf, size_t n, double timeout)
{
    /* TODO: the same loop around send(..., MSG_NOSIGNAL) and
     * green_wait_write(), until all n bytes are sent.  Return n, or -1. */
    (void)fd;
    (void)buf;
    (void)n;
    (void)timeout;
    errno = ENOSYS;
    return -1;
}
