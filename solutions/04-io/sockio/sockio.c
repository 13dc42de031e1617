/* sockio.c - solution of exercise 04-io/sockio.  See sockio.h. */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "green.h"
#include "sockio.h"

/* A deadline on green_now()'s clock, or -1 for none. */
static double deadline_of(double timeout)
{
    return timeout < 0 ? -1.0 : green_now() + timeout;
}

/* The time left until the deadline, as a timeout for the next wait:
 * GREEN_FOREVER without one, never less than 0 with one. */
static double time_left(double deadline)
{
    if (deadline < 0)
        return GREEN_FOREVER;
    double left = deadline - green_now();
    return left > 0 ? left : 0;
}

static int would_block(void)
{
    return errno == EAGAIN || errno == EWOULDBLOCK;
}

ssize_t ex_recv(int fd, void *buf, size_t n, double timeout)
{
    double deadline = deadline_of(timeout);
    for (;;) {
        ssize_t got = read(fd, buf, n);
        if (got >= 0)
            return got;                 /* data, or 0: end of stream */
        if (errno == EINTR)
            continue;
        if (!would_block())
            return -1;                  /* ECONNRESET, EBADF, ... */
        /* Not now: park until fd is readable.  The wait may end with
         * nothing to read after all; the loop then tries again, with
         * only what is left of the time. */
        if (green_wait_read(fd, time_left(deadline)) != 0)
            return -1;                  /* ETIMEDOUT, ECANCELED */
    }
}

ssize_t ex_sendall(int fd, const void *buf, size_t n, double timeout)
{
    double deadline = deadline_of(timeout);
    const char *p = buf;
    size_t done = 0;
    while (done < n) {
        /* MSG_NOSIGNAL: a peer that went away gives EPIPE, not SIGPIPE. */
        ssize_t sent = send(fd, p + done, n - done, MSG_NOSIGNAL);
        if (sent >= 0) {
            done += (size_t)sent;       /* the kernel took some: go on */
            continue;
        }
        if (errno == EINTR)
            continue;
        if (!would_block())
            return -1;                  /* EPIPE, ECONNRESET, ... */
        if (green_wait_write(fd, time_left(deadline)) != 0)
            return -1;
    }
    return (ssize_t)n;
}
