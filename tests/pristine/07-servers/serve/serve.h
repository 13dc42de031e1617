/*
 * serve.h - exercise 07-servers/serve: write StreamServer's accept loop.
 *
 * int ex_serve(int listen_fd, ex_handler handler, void *arg, int max);
 *
 * listen_fd is a listening TCP socket, already non-blocking (made with
 * green_tcp_listen).  Accept connections on it, and for each one spawn a
 * greenlet that runs handler(fd, arg) and then closes fd: a greenlet per
 * connection, as gevent's StreamServer does.
 *
 * What it must do
 *   - accept with accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
 *     when it fails with EAGAIN (nobody is waiting to connect), wait for
 *     the socket to be readable: green_wait_read(listen_fd, GREEN_FOREVER);
 *   - for each connection, spawn a greenlet (green_spawn) and give it up
 *     with green_detach(): nobody joins it.  It calls handler(fd, arg),
 *     then closes fd (the handler does not).  The accept loop does not
 *     wait for handlers: while one runs, the loop accepts the next client;
 *   - stop after `max` connections (max < 0: never) and return how many
 *     were accepted; the handlers may still be running then;
 *   - errors of accept4:
 *       ECONNABORTED, EINTR      one client gave up, or a signal came:
 *                                try again at once;
 *       EMFILE, ENFILE, ENOBUFS, ENOMEM
 *                                out of descriptors or memory: the client
 *                                stays in the listen backlog.  Do NOT try
 *                                again at once (that spins: the socket is
 *                                still readable), sleep instead: 10 ms
 *                                the first time, twice as long after each
 *                                failure in a row, at most 1 s; back to
 *                                10 ms after an accept succeeds;
 *       anything else (EBADF, EINVAL: not a listening socket)
 *                                return -1 with that errno;
 *   - when a wait fails (green_wait_read or green_sleep return -1:
 *     ECANCELED, the loop was killed), return -1 with that errno.
 *
 * Hints
 *   - The handler needs fd, handler and arg: put them in a malloc'd struct
 *     and pass it to green_spawn; the greenlet frees it.
 *   - You may print a line to stderr when a burst of EMFILE starts (once,
 *     not on every retry), as lib/07-servers/server.c does.
 *   - See chapters/07-servers/README.md, "The accept loop" and "When
 *     accept fails: back off, never spin".
 *
 * Lesson: chapters/07-servers/README.md, "The accept loop",
 *         "When accept fails: back off, never spin", then "Exercise: serve".
 * Tests:  tests/exercises/07-servers/serve.c
 * Run:    make grade E=serve
 * Stuck?  make hint E=serve (one more hint each time you ask)
 */
#ifndef EX_SERVE_H
#define EX_SERVE_H

typedef void (*ex_handler)(int fd, void *arg);

int ex_serve(int listen_fd, ex_handler handler, void *arg, int max);

#endif
