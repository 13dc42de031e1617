/*
 * server.h - chapter 7: a TCP server with a greenlet per connection.
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
 *   - a cap on connections (max_connections, by default what the
 *     descriptors allow): at the cap the loop stops accepting (new
 *     clients wait in the backlog) until a handler returns;
 *   - a graceful stop: stop accepting, let the running handlers finish
 *     within a grace period, kill the rest.
 *
 * This is the kit's one server core: chapter 10's evhttp adapter and
 * chapter 11's HTTP server take their whole life from it (host and port,
 * listening, started/closing/stopped, the back-off, signals, the graceful
 * stop, their options), and it lets a protocol hand a connection over to
 * another (green_takeover_fn_t, below).
 *
 * Errors, C style: -1 with errno (see hub.h).  Messages about accept
 * errors and stops go to stderr, prefixed "server HOST:PORT:" (or the
 * name of the server built on the core: "evhttp HOST:PORT:").
 */
#ifndef GREEN_SERVER_H
#define GREEN_SERVER_H

#include <stddef.h>
#include <sys/socket.h>

#include "pool.h"

typedef struct green_server green_server_t;

/* Options of chapter 7's core, and of the two HTTP servers built on it
 * (chapter 10's green_evhttp_options_t and chapter 11's
 * green_http_options_t carry it as their `server` field).  One style for
 * all three: a struct of options given to _new (NULL: every default),
 * copied; a field left 0 takes its default (the one place where a 0 time
 * does not mean "do not wait": green.h, Time, says why); times in double
 * seconds, negative meaning "no limit" (forever).  Python: StreamServer's
 * keyword arguments. */
typedef struct green_server_options {
    int backlog;                /* 1024: the listen queue's length (the
                                   kernel caps it at net.core.somaxconn) */
    int max_connections;        /* at most this many connections handled
                                   at once; at the cap the server stops
                                   accepting (clients wait in the backlog)
                                   until one ends.  0: what RLIMIT_NOFILE
                                   allows (read at start) less 64, so the
                                   server never runs out of descriptors;
                                   -1: no cap.  Python: spawn=Pool(n) */
} green_server_options_t;

/* What runs in each connection's greenlet.  fd is the connected socket
 * (non-blocking: use green_recv/green_send...), peer its address.  The
 * server closes fd when the handler returns: the handler must not.
 * A handler whose waits fail with ECANCELED is being stopped: it should
 * return.  Python: StreamServer's handle(socket, address). */
typedef void (*green_handler_fn_t)(int fd, const struct sockaddr *peer,
                                 socklen_t peer_len, void *arg);

/* A server for host:port (host NULL or "" = every address, port "0" = a
 * port the kernel picks) that will call handler(fd, peer, len, arg) for
 * each connection.  opt: see above (NULL: defaults).  Nothing happens
 * until green_server_start().  Returns NULL with errno ENOMEM.
 * Python: StreamServer((host, port), handle). */
green_server_t *green_server_new(const char *host, const char *port,
                                 green_handler_fn_t handler, void *arg,
                                 const green_server_options_t *opt);

/* Listen, and spawn the accept loop.  Returns at once: the server runs
 * while the caller (and everybody else) waits on the hub.  Returns 0, or
 * -1 with errno (EADDRINUSE, EACCES, EBUSY: started already...).
 * Python: server.start(). */
int green_server_start(green_server_t *srv);

/* Bind and listen now, without accepting: green_server_start() will
 * accept on this socket.  Needs no hub, so a process can listen once and
 * fork: each child inherits the socket and starts the server on its own
 * hub (chapter 12's pre-fork workers).  Optional: green_server_start()
 * listens by itself.  Returns 0, or -1 with errno (EADDRINUSE, EACCES,
 * EBUSY: listening already).  Python: StreamServer.init_socket(). */
int green_server_listen(green_server_t *srv);

/* Accept on fd, a socket the caller has bound and made listen, instead
 * of binding one: before green_server_start().  The server makes it
 * non-blocking, owns it from now on (it closes it when it stops
 * accepting), and closes the socket it had, if any.  Chapter 12's workers each accept on a socket of their own
 * with SO_REUSEPORT, bound by their master.  Returns 0, or -1 with errno
 * EBUSY (started) or EBADF.  Python: StreamServer(listener=sock). */
int green_server_set_listener(green_server_t *srv, int fd);

/* Prefix the server's messages with `name` (kept, not copied) instead of
 * "server" or its hooks' name: chapter 12's workers say "worker PID". */
void green_server_set_name(green_server_t *srv, const char *name);

/* The port the server listens on (useful with port "0"), or -1 before
 * green_server_start() and once it stopped accepting. */
int green_server_port(const green_server_t *srv);

/* "HOST:PORT" (the real port once started), for messages. */
const char *green_server_label(const green_server_t *srv);

/* Start the server if it is not started, then wait until it stops
 * accepting (green_server_close or green_server_stop, from a handler, a
 * signal, another greenlet).  Handlers may still be running when it
 * returns: call green_server_stop() next.  Returns 0, or -1 with errno
 * (the start failed; ECANCELED).  Python: server.serve_forever(). */
int green_server_serve_forever(green_server_t *srv);

/* Stop accepting: the listening socket is closed (new clients are
 * refused).  Running handlers go on.  Never waits, so it may be called
 * from a libevent callback.  Python: server.close(). */
void green_server_close(green_server_t *srv);

/* Where a server is in its life, for the servers built on the core:
 * new (not started), started (accepting), closing (no longer accepting:
 * green_server_close, a signal, a stop under way), stopped (the graceful
 * stop is over). */
typedef enum green_server_state {
    GREEN_SERVER_NEW,
    GREEN_SERVER_STARTED,
    GREEN_SERVER_CLOSING,
    GREEN_SERVER_STOPPED,
} green_server_state_t;
green_server_state_t green_server_state(const green_server_t *srv);

/* Stop gracefully: stop accepting, wait up to `grace` seconds for the
 * running handlers to finish (negative: as long as they take; 0: not at
 * all), then kill those still running and wait up to 1 s more for them to
 * unwind.  Called from a handler, it waits for the others.  Returns how
 * many handlers had to be killed (0: all finished by themselves), or -1
 * with errno ETIMEDOUT (some ignored being killed), ECANCELED or EDEADLK.
 * Python: server.stop(timeout=grace). */
int green_server_stop(green_server_t *srv, double grace);

/* On signal `signum` (SIGINT, SIGTERM), call green_server_close(): the
 * signal becomes one more event on the hub's libevent base, handled
 * between two greenlets, never in the middle of one (hub.h's
 * green_signal_handler).  Returns 0, or -1 with errno. */
int green_server_close_on_signal(green_server_t *srv, int signum);

/* Handlers running now, and connections accepted since the start. */
int green_server_active(const green_server_t *srv);
unsigned long green_server_accepted(const green_server_t *srv);

/* accept() calls that found nobody, after the hub said the socket was
 * readable: wake-ups for nothing.  Alone on its socket, a server has
 * almost none; several processes waiting on one shared socket are all
 * woken by each new connection, and all but one find nothing (the
 * thundering herd, chapter 12). */
unsigned long green_server_empty_accepts(const green_server_t *srv);

/* Free the server, stopping it first (grace 0) if it runs.  Call it from
 * a greenlet that may wait, not from a handler, and before
 * green_hub_destroy(). */
void green_server_free(green_server_t *srv);

/* ---- Taking a connection over ----------------------------------------- *
 * A protocol served on top of this core may hand a connection to another
 * protocol after a response: chapter 11's HTTP server does, after a
 * "101 Switching Protocols" (green_http_takeover, http.h), and chapter
 * 13's WebSocket is such a protocol.  The contract, for every server that
 * offers it:
 *   - fn runs in the connection's own greenlet, once the response is
 *     written, and the first protocol never touches fd again;
 *   - data[0..len) are the bytes the first protocol had already read past
 *     its last message (a client may send the new protocol's first bytes
 *     in the same write as the request): they belong to the new protocol,
 *     and are valid until fn returns;
 *   - fn is a handler like any other: the server closes fd when it
 *     returns (fn must not), and a graceful stop waits for it, then kills
 *     it (its waits fail with ECANCELED). */
typedef void (*green_takeover_fn_t)(int fd, const char *data, size_t len,
                                  void *arg);

/* ---- Servers built on the core (chapters 10 and 11) ------------------- *
 * A server built on the core takes its whole life from it: the listening
 * socket (bind, listen, the port, closing it), the states, the signals,
 * the back-off when accept fails for want of descriptors, and the
 * graceful stop.  Its users call green_server_start, _serve_forever,
 * _close_on_signal, _stop... on the core it gives them
 * (green_http_server_core, green_evhttp_core), and it adds what it needs
 * with hooks.  evhttp (chapter 10) accepts connections itself, in
 * libevent callbacks: its `start` hook stands in for the accept loop, and
 * its requests' greenlets are spawned with green_server_spawn() so that
 * the graceful stop waits for them. */
typedef struct green_server_hooks {
    const char *name;           /* prefixes messages ("evhttp"); NULL:
                                   "server" */
    /* NULL: the core's accept loop calls the handler.  Else: accept on
     * the listening socket fd from now on (the core keeps owning it).  0,
     * or -1 with errno. */
    int (*start)(int fd, void *arg);
    /* The server stops accepting (the core closes the socket next).
     * Never waits: it may run in a signal's callback.  May be NULL. */
    void (*close)(void *arg);
    /* At the end of green_server_stop(), once the work is done or killed:
     * finish what is left (may wait).  May be NULL. */
    void (*stopped)(void *arg);
} green_server_hooks_t;

/* Give srv its hooks (they must outlive it) and their arg, before
 * green_server_start() (else -1 with errno EBUSY).  Returns 0. */
int green_server_set_hooks(green_server_t *srv, const green_server_hooks_t *hooks,
                           void *arg);

/* Spawn fn(arg) as work of a server with a `start` hook:
 * green_server_stop() waits for it within its grace, then kills it;
 * green_server_active() counts it.  Never waits (such a server has no
 * cap), so it may be called from a libevent callback.  Returns the
 * greenlet, or NULL with errno (EINVAL: not started). */
green_t *green_server_spawn(green_server_t *srv, green_fn_t fn, void *arg);

/* An accept() failed with err.  Returns how long to stop accepting, in
 * seconds: 0 for an error to retry at once (ECONNABORTED, EINTR...), a
 * back-off growing from 10 ms to 1 s when out of descriptors or memory
 * (said once per burst on stderr), or -1 for an error after which
 * accepting is hopeless (said too).  Never waits. */
double green_server_accept_failed(green_server_t *srv, int err);

/* An accept() worked: a burst of failures, if any, is over (and said). */
void green_server_accept_ok(green_server_t *srv);

#endif
