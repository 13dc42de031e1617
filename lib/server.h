/*
 * server.h - layer 7: a TCP server with a greenlet per connection.
 *
 * gevent's StreamServer: one greenlet (the accept loop) waits for
 * connections on a listening socket and spawns a handler greenlet for each
 * one; the handler talks to its client with ordinary-looking blocking
 * calls (green_recv, green_sendall), and the hub interleaves them all.
 * The whole server is these lines, in accept_loop() in server.c:
 *
 *     for (;;) {
 *         fd = accept(listen_fd, &peer, &len);   (waits on the hub)
 *         spawn(handler, fd, peer);              (a greenlet per connection)
 *     }
 *
 * plus what makes it survive real traffic:
 *   - a large listen backlog (default 1024): connections the loop has not
 *     accepted yet wait in the kernel's queue; with the usual 128, a burst
 *     of 1,000 clients overflows it and clients retry their SYN after 1 s;
 *   - accept errors handled, never spun on: out of descriptors or memory
 *     (EMFILE, ENFILE, ENOBUFS, ENOMEM) -> say so once per burst (at most
 *     once a second), back off with a sleep growing from 10 ms to 1 s and
 *     try again, the clients waiting in the backlog meanwhile; a
 *     connection that died before it was accepted (ECONNABORTED) or a
 *     signal (EINTR) -> try again at once;
 *   - an optional pool: at most N handlers at once; while the pool is full
 *     the loop stops accepting (new clients wait in the backlog);
 *   - a graceful stop: stop accepting, let the running handlers finish
 *     within a grace period, kill the rest.
 *
 * Errors, C style: -1 with errno (see hub.h).  Messages about accept
 * errors and stops go to stderr, prefixed "server HOST:PORT:".
 */
#ifndef GREEN_SERVER_H
#define GREEN_SERVER_H

#include <sys/socket.h>

#include "pool.h"

typedef struct green_server green_server_t;

/* What runs in each connection's greenlet.  fd is the connected socket
 * (non-blocking: use green_recv/green_send...), peer its address.  The
 * server closes fd when the handler returns: the handler must not.
 * A handler whose waits fail with ECANCELED is being stopped: it should
 * return.  Python: StreamServer's handle(socket, address). */
typedef void (*green_handler_fn)(int fd, const struct sockaddr *peer,
                                 socklen_t peer_len, void *arg);

/* A server for host:port (host NULL or "" = every address, port "0" = a
 * port the kernel picks) that will call handler(fd, peer, len, arg) for
 * each connection.  Nothing happens until green_server_start().  Returns
 * NULL with errno ENOMEM.  Python: StreamServer((host, port), handle). */
green_server_t *green_server_new(const char *host, const char *port,
                                 green_handler_fn handler, void *arg);

/* Options, before green_server_start() (else -1 with errno EBUSY).
 * backlog: the listen queue's length (default 1024; the kernel caps it at
 *   net.core.somaxconn).
 * pool: at most `size` handlers run at once; 0 (default) = no limit.
 *   Python: StreamServer(addr, handle, spawn=Pool(size)). */
int green_server_set_backlog(green_server_t *srv, int backlog);
int green_server_set_pool(green_server_t *srv, int size);

/* Listen, and spawn the accept loop.  Returns at once: the server runs
 * while the caller (and everybody else) waits on the hub.  Returns 0, or
 * -1 with errno (EADDRINUSE, EACCES, ...).  Python: server.start(). */
int green_server_start(green_server_t *srv);

/* The port the server listens on (useful with port "0"), or -1 before
 * green_server_start(). */
int green_server_port(const green_server_t *srv);

/* Start the server if it is not started, then wait until it stops
 * accepting (green_server_close or green_server_stop, from a handler, a
 * signal, another greenlet).  Handlers may still be running when it
 * returns: call green_server_stop() next.  Returns 0, or -1 with errno
 * (the start failed; ECANCELED).  Python: server.serve_forever(). */
int green_server_serve_forever(green_server_t *srv);

/* Stop accepting: the accept loop ends and closes the listening socket
 * (new clients are refused).  Running handlers go on.  Never waits, so it
 * may be called from a libevent callback.  Python: server.close(). */
void green_server_close(green_server_t *srv);

/* Stop gracefully: stop accepting, wait up to `grace` seconds for the
 * running handlers to finish, then kill those still running and wait up to
 * 1 s more for them to unwind.  Called from a handler, it waits for the
 * others.  Returns how many handlers had to be killed (0: all finished by
 * themselves), or -1 with errno ETIMEDOUT (some ignored being killed),
 * ECANCELED or EDEADLK.  Python: server.stop(timeout=grace). */
int green_server_stop(green_server_t *srv, double grace);

/* On signal `signum` (SIGINT, SIGTERM), call green_server_close(): the
 * signal becomes one more event on the hub's libevent base, handled
 * between two greenlets, never in the middle of one (hub.h's
 * green_signal_handler).  Returns 0, or -1 with errno. */
int green_server_close_on_signal(green_server_t *srv, int signum);

/* Handlers running now, and connections accepted since the start. */
int green_server_active(const green_server_t *srv);
unsigned long green_server_accepted(const green_server_t *srv);

/* Free the server, stopping it first (grace 0) if it runs.  Call it from
 * a greenlet that may wait, not from a handler, and before
 * green_hub_destroy(). */
void green_server_free(green_server_t *srv);

#endif
