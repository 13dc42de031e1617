/*
 * patch.h - chapter 5: unmodified blocking code made cooperative, the C form
 * of gevent's monkey.patch_all().
 *
 * A program whose greenlets call plain sleep(), read() or connect() blocks
 * its whole thread, hub included: nothing else runs until the call returns.
 * This layer replaces those calls, without touching the program's source,
 * by versions that do the same thing cooperatively: sleep() becomes
 * green_sleep(), a read() that would block parks the greenlet on the hub
 * (green_wait_read) and lets the others run until the data is there.
 *
 * Two ways to put the replacements in, one source (lib/05-patch/patch.c):
 *
 *   At load time, with the dynamic linker (Linux, glibc):
 *       LD_PRELOAD=build/asm/lib/libgreenpatch.so ./program
 *   The preloaded library defines sleep, read, ... itself; the dynamic
 *   linker looks there before libc, so every call of read() in the program
 *   and in its shared libraries comes here.  The originals are found with
 *   dlsym(RTLD_NEXT, "read"): "the next definition after this library".
 *   The program must use libgreen as a shared library (see "One libgreen
 *   per process" below).
 *
 *   At link time, with the static linker (GNU ld, lld):
 *       cc -o program program.o build/asm/lib/greenwrap.o \
 *          build/asm/lib/libgreen.a $(cat build/asm/lib/greenwrap.flags) -levent
 *   greenwrap.flags holds -Wl,--wrap=sleep -Wl,--wrap=read ... for every
 *   call below.  --wrap=read makes the linker send every undefined
 *   reference to read in the objects it links to __wrap_read (declared
 *   below), and every reference to __real_read to the original read.
 *
 * The calls patched, and what each does inside a greenlet
 *   sleep, usleep, nanosleep  green_sleep() for that long: the others run.
 *                  0 only yields, like gevent.sleep(0).  A killed greenlet
 *                  wakes early: -1 and errno ECANCELED (usleep, nanosleep,
 *                  which also fills *rem), or the seconds left (sleep).
 *   read, write, recv, send   on a blocking socket or pipe: wait on the hub
 *                  while the kernel has nothing to give or no room, then do
 *                  the call.  write and send return only when every byte is
 *                  written, as the blocking originals do.  recv with
 *                  MSG_WAITALL waits for all n bytes (stream sockets).
 *   accept         on a blocking listening socket: wait for a connection.
 *   connect        on a blocking socket: start the connection, wait on the
 *                  hub until it is made or refused.
 *   poll           when every descriptor is a socket or a pipe and asks
 *                  for POLLIN and/or POLLOUT only: wait on the hub for any
 *                  of them, or for the timeout.
 *   getaddrinfo    for a name (not digits, not NULL): green_getaddrinfo()
 *                  (dns.h), libevent's evdns asks the name servers while the
 *                  others run.  It reads /etc/hosts and resolv.conf, not the
 *                  rest of nsswitch.conf, and treats AI_ADDRCONFIG a little
 *                  differently from glibc.
 *   freeaddrinfo   frees either kind of answer (it must know which).
 * A socket's SO_RCVTIMEO / SO_SNDTIMEO is honoured: when it runs out, the
 * call fails with EAGAIN, as the blocking original does.  The descriptor is
 * never left non-blocking: recv and send pass MSG_DONTWAIT for one call,
 * pipes are waited on before the call, and connect, which has no such
 * flag, sets O_NONBLOCK for the duration of the call only.  The program's
 * view of its descriptors never changes.
 *
 * Straight through (the original call, untouched)
 *   - outside a greenlet: the thread has no hub (green_hub_active() == 0),
 *     or the caller is the hub itself (a libevent callback: the hub must
 *     never wait).  A program that never uses libgreen runs unchanged, even
 *     under LD_PRELOAD.  Once a thread has a hub, its main greenlet counts
 *     as a greenlet: its sleep() lets the others run, as in gevent;
 *   - descriptors that are not sockets or pipes: disk files, terminals,
 *     /dev/null.  A disk read never says EAGAIN (the page cache, then the
 *     disk: the thread waits, always) and epoll refuses regular files;
 *   - descriptors the program made non-blocking (O_NONBLOCK, or
 *     MSG_DONTWAIT): the program expects EAGAIN and handles it itself.
 *     libgreen's own sockets are such, so its calls pass through too;
 *   - read, write, recv, send of 0 bytes; recv with MSG_PEEK|MSG_WAITALL;
 *     poll with a timeout of 0, or on anything but sockets and pipes;
 *     getaddrinfo of an address in digits or of no host (no name server
 *     is asked).
 *
 * What cannot be greened
 *   - code that computes: a loop that never calls anything holds the thread
 *     (green_monitor_start in hub.h reports it; add a green_sleep(0));
 *   - calls not listed here: select, epoll_wait, recvfrom, sendto,
 *     recvmsg, sendmsg, readv, writev, accept4, clock_nanosleep,
 *     thrd_sleep, pthread_mutex_lock, waitpid, system, and stdio on a
 *     socket (fgets, fread, printf), because libc calls its own internal
 *     read/write, not the public symbols this layer replaces;
 *   - blocking calls inside other libraries' own code, in the --wrap form
 *     (only the objects linked with the flags are rewired);
 *   - several threads or processes sharing a descriptor: between "ready"
 *     and the call, another process may take the data or the connection,
 *     and the call then blocks the thread.
 *
 * What link order or static linking breaks
 *   - One libgreen per process.  The patched calls ask libgreen whether the
 *     thread has a hub.  libgreenpatch.so is linked against libgreen.so; a
 *     program with its own static copy of libgreen (libgreen.a) has two
 *     copies, two hubs: the program's greenlets live on one, the patch asks
 *     the other, finds no hub, and greens nothing.  Link such programs with
 *     libgreen.so, or use the --wrap form, which has one copy by
 *     construction.
 *   - A fully static program (-static) has no dynamic linker: LD_PRELOAD
 *     does nothing to it.  Use --wrap.
 *   - --wrap only rewires undefined references in the objects on that link
 *     line: calls inside a shared library, or between functions of the same
 *     object file, are not wrapped.
 *   - _FORTIFY_SOURCE turns read() and recv() into __read_chk and
 *     __recv_chk, which neither form replaces: build with -U_FORTIFY_SOURCE.
 *   - LD_PRELOAD and gcc's AddressSanitizer: ASan wants its runtime first
 *     in the list of libraries and refuses to start otherwise; run with
 *     ASAN_OPTIONS=verify_asan_link_order=0 (its interceptors then sit
 *     between this layer and libc, which works).
 *
 * Threads: each thread has its own hub, or none; the patched calls of a
 * thread without a hub are the originals.  Signals do not interrupt a
 * greened wait (it behaves as with SA_RESTART).
 */
#ifndef GREEN_PATCH_H
#define GREEN_PATCH_H

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* The link-time form.  The names are the linker's (GNU ld's --wrap), hence
 * the reserved-looking double underscore.  accept and connect take glibc's
 * __SOCKADDR_ARG, a "transparent union" that lets C callers pass any
 * struct sockaddr_* pointer; it is a plain pointer underneath. */
unsigned int __wrap_sleep(unsigned int seconds);
int __wrap_usleep(useconds_t usec);
int __wrap_nanosleep(const struct timespec *req, struct timespec *rem);
ssize_t __wrap_read(int fd, void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
ssize_t __wrap_recv(int fd, void *buf, size_t n, int flags);
ssize_t __wrap_send(int fd, const void *buf, size_t n, int flags);
int __wrap_accept(int fd, __SOCKADDR_ARG addr, socklen_t *len);
int __wrap_connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len);
int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout_ms);
int __wrap_getaddrinfo(const char *node, const char *service,
                       const struct addrinfo *hints, struct addrinfo **res);
void __wrap_freeaddrinfo(struct addrinfo *ai);

/* The originals, as the linker names them in the --wrap form. */
unsigned int __real_sleep(unsigned int seconds);
int __real_usleep(useconds_t usec);
int __real_nanosleep(const struct timespec *req, struct timespec *rem);
ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __real_recv(int fd, void *buf, size_t n, int flags);
ssize_t __real_send(int fd, const void *buf, size_t n, int flags);
int __real_accept(int fd, __SOCKADDR_ARG addr, socklen_t *len);
int __real_connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len);
int __real_poll(struct pollfd *fds, nfds_t n, int timeout_ms);
int __real_getaddrinfo(const char *node, const char *service,
                       const struct addrinfo *hints, struct addrinfo **res);
void __real_freeaddrinfo(struct addrinfo *ai);

#endif
