/*
 * io.c - chapter 4: cooperative I/O on descriptors.  See io.h.
 *
 * Every call here has the same shape: try the system call on a
 * non-blocking descriptor; if the kernel says EAGAIN, wait on the hub for
 * the descriptor to become ready and try again.  The deadline is computed
 * once, so retries share one timeout (green__deadline, in the hub's
 * wait.h, with every other wait of the kit).
 *
 * And every call first spends a unit of the greenlet's budget (hub.h):
 * a client that reads as fast as we write, or writes as fast as we read,
 * means these calls never wait, and a loop around them would never let
 * another greenlet run.  The budget makes it yield every GREEN_BUDGET
 * calls.  It is spent before the call, not after, so that a greenlet
 * killed while it yields loses no data: the call fails with ECANCELED
 * before it has read or written anything.
 *
 * Name resolution, which green_tcp_connect uses, is in dns.c.
 */
#include "hub.h"
#include "io.h"
#include "dns.h"
#include "wait.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

static int would_block(void)
{
    return errno == EAGAIN || errno == EWOULDBLOCK;
}

/* A call that succeeds leaves errno as it found it (green.h), though the
 * EAGAIN or EINPROGRESS that made it wait set errno on the way: each
 * waiting call keeps the caller's errno, and gives it back on success. */
static ssize_t success(ssize_t result, int callers_errno)
{
    errno = callers_errno;
    return result;
}

/* ---- Descriptors ------------------------------------------------------ */

int green_fd_nonblock(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0)
        return -1;
    if (flags & O_NONBLOCK)
        return 0;               /* accept4's already are: spare a system call */
    return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

int green_socket(int domain, int type, int protocol)
{
    return socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
}

int green_close(int fd)
{
    return close(fd);
}

/* ---- The calls that wait ---------------------------------------------- */

int green_connect(int fd, const struct sockaddr *addr, socklen_t len, double timeout)
{
    int callers_errno = errno;
    if (connect(fd, addr, len) == 0)
        return 0;
    if (errno != EINPROGRESS)
        return -1;
    /* The connection is under way; it is done when fd becomes writable,
     * and SO_ERROR then says whether it worked. */
    if (green_wait_write(fd, timeout) != 0)
        return -1;
    int err = 0;
    socklen_t errlen = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) != 0)
        return -1;
    if (err != 0) {
        errno = err;
        return -1;
    }
    return (int)success(0, callers_errno);
}

int green_accept(int fd, struct sockaddr *addr, socklen_t *len, double timeout)
{
    double deadline = green__deadline(timeout);
    int callers_errno = errno;
    for (;;) {
        int conn = accept4(fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (conn >= 0)
            return (int)success(conn, callers_errno);
        if (errno == EINTR)
            continue;
        if (!would_block())
            return -1;
        if (green_wait_read(fd, green__time_left(deadline)) != 0)
            return -1;
    }
}

ssize_t green_recv(int fd, void *buf, size_t n, double timeout)
{
    double deadline = green__deadline(timeout);
    int callers_errno = errno;
    if (green_budget_consume() != 0)
        return -1;
    for (;;) {
        ssize_t got = read(fd, buf, n);
        if (got >= 0)
            return success(got, callers_errno);
        if (errno == EINTR)
            continue;
        if (!would_block())
            return -1;
        if (green_wait_read(fd, green__time_left(deadline)) != 0)
            return -1;
    }
}

/* send() with MSG_NOSIGNAL: a peer that went away gives EPIPE, not a
 * SIGPIPE that kills the whole server.  Pipes are not sockets: write(). */
static ssize_t send_some(int fd, const void *buf, size_t n)
{
    ssize_t sent = send(fd, buf, n, MSG_NOSIGNAL);
    if (sent < 0 && errno == ENOTSOCK)
        sent = write(fd, buf, n);
    return sent;
}

ssize_t green_send(int fd, const void *buf, size_t n, double timeout)
{
    double deadline = green__deadline(timeout);
    int callers_errno = errno;
    if (green_budget_consume() != 0)
        return -1;
    for (;;) {
        ssize_t sent = send_some(fd, buf, n);
        if (sent >= 0)
            return success(sent, callers_errno);
        if (errno == EINTR)
            continue;
        if (!would_block())
            return -1;
        if (green_wait_write(fd, green__time_left(deadline)) != 0)
            return -1;
    }
}

ssize_t green_sendall(int fd, const void *buf, size_t n, double timeout)
{
    double deadline = green__deadline(timeout);
    const char *p = buf;
    size_t done = 0;
    while (done < n) {
        ssize_t sent = green_send(fd, p + done, n - done, green__time_left(deadline));
        if (sent < 0)
            return -1;
        done += (size_t)sent;
    }
    return (ssize_t)n;
}

/* ---- TCP helpers ------------------------------------------------------ */

int green_tcp_connect(const char *host, const char *port, double timeout)
{
    double deadline = green__deadline(timeout);
    int callers_errno = errno;
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *list;
    int rc = green_getaddrinfo(host, port, &hints, &list, timeout);
    if (rc != 0) {
        if (rc != EAI_SYSTEM)
            errno = rc == EAI_AGAIN ? ETIMEDOUT : EHOSTUNREACH;
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = list; ai; ai = ai->ai_next) {
        fd = green_socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (green_connect(fd, ai->ai_addr, ai->ai_addrlen, green__time_left(deadline)) == 0)
            break;
        int saved = errno;
        close(fd);
        errno = saved;
        fd = -1;
        if (saved == ECANCELED || saved == ETIMEDOUT)
            break;
    }
    green_freeaddrinfo(list);
    return fd >= 0 ? (int)success(fd, callers_errno) : -1;
}

int green_tcp_listen(const char *host, const char *port, int backlog)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *list;
    int callers_errno = errno;
    /* Listening happens once, at start-up: the ordinary resolver will do,
     * and host is nearly always a literal address or "localhost". */
    int rc = getaddrinfo(host && *host ? host : NULL, port, &hints, &list);
    if (rc != 0) {
        errno = rc == EAI_SYSTEM ? errno : EADDRNOTAVAIL;
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = list; ai; ai = ai->ai_next) {
        fd = green_socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, backlog) == 0)
            break;
        int saved = errno;
        close(fd);
        errno = saved;
        fd = -1;
    }
    freeaddrinfo(list);
    return fd >= 0 ? (int)success(fd, callers_errno) : -1;
}

int green_socket_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}
