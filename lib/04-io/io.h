/*
 * io.h - chapter 4: cooperative I/O.  Green sockets; names are resolved by
 * dns.h.
 *
 * The pattern of libtask's fd.c and of gevent's socket module: make the file
 * descriptor non-blocking, try the call, and when the kernel answers EAGAIN
 * ("not now"), park the greenlet on the hub until the descriptor is ready
 * (green_wait_read / green_wait_write), then try again.  To the caller the
 * call looks blocking; to the thread it never blocks, so other greenlets
 * run meanwhile.
 *
 * Every call takes a timeout in seconds (GREEN_FOREVER: none) for the whole
 * call, and fails C style: -1 with errno, ETIMEDOUT when the time ran out,
 * ECANCELED when the caller was killed, or what the kernel said (ECONNRESET,
 * EPIPE, ECONNREFUSED, ...).  Called from the main greenlet they work too:
 * the hub runs the other greenlets while main waits.
 *
 * The descriptors are ordinary ones: close them with green_close (or close).
 */
#ifndef GREEN_IO_H
#define GREEN_IO_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Make fd non-blocking.  Returns 0, or -1 with errno. */
int green_fd_nonblock(int fd);

/* socket(2), non-blocking and close-on-exec.  Returns the fd or -1. */
int green_socket(int domain, int type, int protocol);

/* Connect fd (from green_socket) to addr, waiting at most `timeout`.
 * Returns 0, or -1 with errno (ECONNREFUSED, ETIMEDOUT, ...). */
int green_connect(int fd, const struct sockaddr *addr, socklen_t len, double timeout);

/* Accept a connection on listening fd, waiting at most `timeout`.  Returns
 * the new connection's fd (non-blocking, close-on-exec) or -1 with errno.
 * addr and len may be NULL. */
int green_accept(int fd, struct sockaddr *addr, socklen_t *len, double timeout);

/* green_recv and green_send (and so green_sendall) each spend a unit of
 * the greenlet's budget first (green_budget_consume, hub.h): a loop of
 * calls that never have to wait still yields every GREEN_BUDGET calls.
 * A greenlet killed meanwhile gets -1 with ECANCELED, nothing read or
 * sent by that call. */

/* Read up to n bytes: returns how many (0 at end of stream), or -1. */
ssize_t green_recv(int fd, void *buf, size_t n, double timeout);

/* Write up to n bytes: returns how many were written (at least 1), or -1. */
ssize_t green_send(int fd, const void *buf, size_t n, double timeout);

/* Write all n bytes, waiting as needed; the timeout covers the whole call.
 * Returns n, or -1 (some bytes may have been written). */
ssize_t green_sendall(int fd, const void *buf, size_t n, double timeout);

/* Close fd.  Returns close(2)'s answer. */
int green_close(int fd);

/* Connect to host:port over TCP (IPv4 or IPv6, names resolved with
 * green_getaddrinfo, dns.h), trying each address in turn within `timeout` in all.
 * Returns a connected non-blocking fd, or -1 with errno. */
int green_tcp_connect(const char *host, const char *port, double timeout);

/* A TCP listening socket on host:port (host NULL or "" means every
 * address; port "0" lets the kernel choose), with SO_REUSEADDR and the
 * given backlog (the kernel caps it at net.core.somaxconn).  Returns the fd
 * (non-blocking) or -1 with errno. */
int green_tcp_listen(const char *host, const char *port, int backlog);

/* The port a socket is bound to (for port "0"), or -1. */
int green_socket_port(int fd);

#endif
