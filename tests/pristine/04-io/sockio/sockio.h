/*
 * sockio.h - exercise 04-io/sockio: write green_recv() and green_sendall()
 * yourself.
 *
 * ssize_t ex_recv(int fd, void *buf, size_t n, double timeout);
 * ssize_t ex_sendall(int fd, const void *buf, size_t n, double timeout);
 *
 * fd is a NON-BLOCKING socket (or pipe): a read or write that cannot go on
 * at once fails with errno EAGAIN (or EWOULDBLOCK) instead of sleeping.
 * Your job is to turn that "not now" into "park this greenlet on the hub
 * until the descriptor is ready, then try again", so that the call looks
 * blocking to its caller while the other greenlets run.  Use read()/send()
 * and the hub's green_wait_read()/green_wait_write(); do not call
 * green_recv(), green_send() or green_sendall() (that is what you write).
 *
 * ex_recv: read up to n bytes into buf.
 *   - data already there: return it at once (how many bytes, >= 1);
 *   - the peer closed its end: return 0 (end of stream);
 *   - nothing yet: wait until fd is readable, at most `timeout` seconds
 *     (GREEN_FOREVER, any negative number: no limit), then try again;
 *   - the time is up: -1 with errno ETIMEDOUT;
 *   - killed (green_kill) while waiting: -1 with errno ECANCELED;
 *   - any other error of read() (ECONNRESET, EBADF...): -1 with that errno.
 *
 * ex_sendall: write all n bytes of buf, waiting for room as often as
 * needed.  Returns n, or -1 with errno as above (ETIMEDOUT, ECANCELED, or
 * the kernel's: EPIPE when the peer has gone away...).
 *
 * The recipe (see chapters/04-io/README.md, "The green socket pattern"):
 *
 *     deadline = now + timeout             (once, before the loop)
 *     loop:
 *         try the call (read / send)
 *         it worked?              -> done (ex_sendall: advance, go on)
 *         errno EINTR?            -> try again
 *         errno not EAGAIN?       -> a real error: return -1
 *         green_wait_read/write(fd, time left until the deadline)
 *         the wait failed?        -> return -1 (it set errno)
 *
 * Traps
 *   - One deadline for the whole call, not one timeout per wait.  A wait
 *     can end with nothing to read (another greenlet read it first, or a
 *     stray wake-up): then you try again, with only the time that is left.
 *     Restarting the full timeout each time could wait for ever.  See
 *     README, "Timeouts are deadlines".
 *   - send() on a socket whose peer has gone away raises SIGPIPE, which
 *     kills the whole process by default.  Pass MSG_NOSIGNAL to send() to
 *     get -1 with EPIPE instead.  See README, "When things go wrong".
 *   - green_wait_read(fd, 0) still waits "zero seconds": when the time left
 *     is 0 or less, pass 0, not a negative number (negative means forever).
 *
 * Hints
 *   - green_now() is a monotonic clock in seconds.
 *   - EAGAIN and EWOULDBLOCK are the same number on Linux, but not
 *     everywhere: test both.
 *   - ex_sendall only needs sockets: send(fd, p, left, MSG_NOSIGNAL).
 *
 * Lesson: chapters/04-io/README.md, "The green socket pattern",
 *         "Timeouts are deadlines", "When things go wrong", then
 *         "Exercise: sockio".
 * Tests:  tests/exercises/04-io/sockio.c
 * Run:    make grade E=sockio
 * Stuck?  make hint E=sockio (one more hint each time you ask)
 */
#ifndef EX_SOCKIO_H
#define EX_SOCKIO_H

#include <stddef.h>
#include <sys/types.h>

ssize_t ex_recv(int fd, void *buf, size_t n, double timeout);
ssize_t ex_sendall(int fd, const void *buf, size_t n, double timeout);

#endif
