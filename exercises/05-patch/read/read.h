/*
 * read.h - exercise 05-patch/read: green read() at link time.
 *
 * ssize_t __wrap_read(int fd, void *buf, size_t n);
 *
 * The tests of this exercise are linked with -Wl,--wrap=read: every read()
 * in them comes to YOUR __wrap_read(), and __real_read() is libc's read.
 * Make read() cooperative: when a greenlet reads from a pipe or a socket
 * that has nothing yet, the other greenlets must run while it waits.
 *
 * What it must do
 *   - Be the original (return __real_read(fd, buf, n)) when:
 *       * the caller is outside a greenlet: the thread has no hub
 *         (green_hub_active() == 0), or the caller is the hub itself
 *         (green_current() == green_hub());
 *       * n is 0;
 *       * fd is not a socket or a pipe: fstat() it and look at st_mode
 *         with S_ISSOCK() and S_ISFIFO().  A disk file never makes a reader
 *         wait for a peer, and libevent cannot watch one.  A bad fd fails
 *         fstat(): let the original report EBADF;
 *       * fd is non-blocking (fcntl(fd, F_GETFL) has O_NONBLOCK): the
 *         program asked to get EAGAIN instead of waiting; give it that.
 *   - Otherwise wait, letting the others run, until fd is readable:
 *     green_wait_read(fd, GREEN_FOREVER).  Then the real read() returns at
 *     once with what is there (or 0 at the end of the stream).  If the wait
 *     fails (the greenlet was killed: ECANCELED), return -1; errno is set.
 *   - Never change the descriptor's flags: the program opened it blocking,
 *     and other processes may share it (a shell's pipe).
 *
 * Hints
 *   - Check green_hub_active() before green_hub(), which creates a hub.
 *   - Another greenlet may take the data between your wake-up and your read
 *     (two readers of one pipe): then a real read would block the thread.
 *     For full marks in robustness (not tested), check that the fd is
 *     still readable right before the real read, with poll(fd, POLLIN,
 *     timeout 0), and wait again if it is not.
 *   - See chapters/05-patch/README.md, "Sockets and pipes without O_NONBLOCK".
 *
 * Lesson: chapters/05-patch/README.md,
 *         "Sockets and pipes without O_NONBLOCK", then "Exercise: read".
 * Tests:  tests/exercises/05-patch/read.c
 * Run:    make grade E=read
 * Stuck?  make hint E=read (one more hint each time you ask)
 */
#ifndef EX_READ_H
#define EX_READ_H

#include <sys/types.h>

/* Yours: every read() call of the program comes here. */
ssize_t __wrap_read(int fd, void *buf, size_t n);

/* libc's read, under the name the linker gives it with --wrap=read. */
ssize_t __real_read(int fd, void *buf, size_t n);

#endif
