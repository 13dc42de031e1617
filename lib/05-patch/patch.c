/*
 * patch.c - chapter 5: the blocking calls of libc, greened.  See patch.h.
 *
 * One source, built twice (lib/05-patch/build.mk):
 *   libgreenpatch.so  for LD_PRELOAD: this file defines read() itself, and
 *                     finds libc's with dlsym(RTLD_NEXT, "read");
 *   greenwrap.o       with -DGREEN_PATCH_WRAP, for -Wl,--wrap=read: this
 *                     file defines __wrap_read(), and the linker gives it
 *                     libc's read as __real_read.
 * The two macros below are the whole difference between the forms.
 *
 * Every replacement has the same shape:
 *     if (the call cannot block in a way the hub can wait for, or we are
 *         not inside a greenlet)
 *         return REAL(call)(...);          straight through
 *     wait on the hub until the kernel is ready, then make the real call
 * The waiting itself is chapter 4's pattern (try, EAGAIN, wait, retry), done
 * without ever leaving the program's descriptors non-blocking.
 */
#undef _FORTIFY_SOURCE   /* it would turn read() into __read_chk(): see patch.h */

#include "green.h"
#include "patch.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#ifdef GREEN_PATCH_WRAP

/* The link-time form: the linker renames.  PATCHED(read) is __wrap_read,
 * REAL(read) is __real_read, which the linker binds to libc's read. */
#define PATCHED(name) __wrap_##name
#define REAL(name) __real_##name

#else

/* The load-time form: PATCHED(read) is read itself, and REAL(read) is the
 * read that comes after this library in the dynamic linker's search order
 * (libc's), looked up once per process. */
#define PATCHED(name) name
#define REAL(name) (pthread_once(&reals_once, find_reals), real_##name)

static pthread_once_t reals_once = PTHREAD_ONCE_INIT;
static __typeof__(&sleep) real_sleep;
static __typeof__(&usleep) real_usleep;
static __typeof__(&nanosleep) real_nanosleep;
static __typeof__(&read) real_read;
static __typeof__(&write) real_write;
static __typeof__(&recv) real_recv;
static __typeof__(&send) real_send;
static __typeof__(&accept) real_accept;
static __typeof__(&connect) real_connect;
static __typeof__(&poll) real_poll;
static __typeof__(&getaddrinfo) real_getaddrinfo;
static __typeof__(&freeaddrinfo) real_freeaddrinfo;

static void *find(const char *name)
{
    void *fn = dlsym(RTLD_NEXT, name);
    if (fn == NULL) {
        fprintf(stderr, "libgreenpatch: cannot find the real %s: %s\n", name, dlerror());
        abort();
    }
    return fn;
}

/* POSIX allows converting dlsym's void * to a function pointer. */
static void find_reals(void)
{
    real_sleep = (__typeof__(real_sleep))find("sleep");
    real_usleep = (__typeof__(real_usleep))find("usleep");
    real_nanosleep = (__typeof__(real_nanosleep))find("nanosleep");
    real_read = (__typeof__(real_read))find("read");
    real_write = (__typeof__(real_write))find("write");
    real_recv = (__typeof__(real_recv))find("recv");
    real_send = (__typeof__(real_send))find("send");
    real_accept = (__typeof__(real_accept))find("accept");
    real_connect = (__typeof__(real_connect))find("connect");
    real_poll = (__typeof__(real_poll))find("poll");
    real_getaddrinfo = (__typeof__(real_getaddrinfo))find("getaddrinfo");
    real_freeaddrinfo = (__typeof__(real_freeaddrinfo))find("freeaddrinfo");
}

#endif

/* ---- When to green a call ----------------------------------------------- */

/* Inside a greenlet: the thread has a hub (it has used the scheduler), and
 * the caller is not the hub itself, which runs libevent's callbacks and
 * must never wait.  green_hub_active() first: it never creates a hub. */
static int in_greenlet(void)
{
    return green_hub_active() && green_current() != green_hub();
}

enum kind { OTHER, SOCKET, PIPE };

/* Sockets and pipes can make a reader wait for a peer, and the kernel can
 * tell when they are ready (epoll): those the hub can wait for.  A disk
 * file never "would block": the thread simply waits for the disk. */
static enum kind kind_of(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return OTHER;            /* the real call reports EBADF */
    if (S_ISSOCK(st.st_mode))
        return SOCKET;
    if (S_ISFIFO(st.st_mode))
        return PIPE;
    return OTHER;
}

/* A descriptor the program made non-blocking expects EAGAIN and handles
 * it itself: leave it alone (libgreen's own sockets are such). */
static int blocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags >= 0 && !(flags & O_NONBLOCK);
}

/* The kind of fd when it is a blocking socket or pipe, else OTHER. */
static enum kind greenable(int fd)
{
    return blocking(fd) ? kind_of(fd) : OTHER;
}

/* ---- Waiting ------------------------------------------------------------ */

/* Park the calling greenlet until fd is ready for `events` (POLLIN or
 * POLLOUT); the hub runs the others meanwhile. */
static int wait_for(int fd, short events, double timeout)
{
    return events == POLLIN ? green_wait_read(fd, timeout)
                            : green_wait_write(fd, timeout);
}

/* Is fd ready for `events` right now?  Asking costs a system call but no
 * trip through the hub. */
static int ready_now(int fd, short events)
{
    struct pollfd p = { .fd = fd, .events = events };
    return REAL(poll)(&p, 1, 0) > 0;
}

/* Wait until fd is ready: at once if it already is.  Checked again after
 * every wake-up: another greenlet may have taken the data meanwhile. */
static int wait_ready(int fd, short events, double timeout)
{
    while (!ready_now(fd, events))
        if (wait_for(fd, events, timeout) != 0)
            return -1;
    return 0;
}

/* How long a blocking call on socket fd may wait: its SO_RCVTIMEO or
 * SO_SNDTIMEO, or for ever when that is unset (zero).  Each wait gets the
 * whole timeout: a wake-up that finds nothing starts it again, which makes
 * a timeout a little longer, never shorter. */
static double socket_timeout(int fd, int option)
{
    struct timeval tv;
    socklen_t len = sizeof tv;
    if (getsockopt(fd, SOL_SOCKET, option, &tv, &len) != 0
        || (tv.tv_sec == 0 && tv.tv_usec == 0))
        return GREEN_FOREVER;
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* A socket wait that timed out fails as the blocking call does: EAGAIN. */
static int wait_socket(int fd, short events, int timeout_option)
{
    if (wait_for(fd, events, socket_timeout(fd, timeout_option)) == 0)
        return 0;
    if (errno == ETIMEDOUT)
        errno = EAGAIN;
    return -1;
}

static int would_block(void)
{
    return errno == EAGAIN || errno == EWOULDBLOCK;
}

/* ---- Sleeping ----------------------------------------------------------- */

/* The seconds a killed sleeper had left, as sleep() reports a sleep cut
 * short by a signal: rounded up. */
static unsigned int seconds_left(double seconds, double start)
{
    double left = seconds - (green_now() - start);
    if (left <= 0)
        return 0;
    unsigned int whole = (unsigned int)left;
    return whole + (left > whole);
}

unsigned int PATCHED(sleep)(unsigned int seconds)
{
    if (!in_greenlet())
        return REAL(sleep)(seconds);
    double start = green_now();
    if (green_sleep(seconds) == 0)
        return 0;
    return seconds_left(seconds, start);   /* errno: ECANCELED */
}

int PATCHED(usleep)(useconds_t usec)
{
    if (!in_greenlet())
        return REAL(usleep)(usec);
    return green_sleep(usec / 1e6);
}

int PATCHED(nanosleep)(const struct timespec *req, struct timespec *rem)
{
    /* A bad request gets the original's answer (EFAULT, EINVAL) at once. */
    if (!in_greenlet() || req == NULL || req->tv_sec < 0
        || req->tv_nsec < 0 || req->tv_nsec >= 1000000000L)
        return REAL(nanosleep)(req, rem);
    double seconds = (double)req->tv_sec + (double)req->tv_nsec / 1e9;
    double start = green_now();
    if (green_sleep(seconds) == 0)
        return 0;
    if (rem != NULL) {
        double left = seconds - (green_now() - start);
        if (left < 0)
            left = 0;
        rem->tv_sec = (time_t)left;
        rem->tv_nsec = (long)((left - (double)rem->tv_sec) * 1e9);
    }
    return -1;                             /* errno: ECANCELED */
}

/* ---- Sockets: one call at a time with MSG_DONTWAIT ---------------------- */

/* MSG_DONTWAIT makes this one recv non-blocking without touching the
 * socket, which the program (and any other process sharing it) still sees
 * as blocking. */
static ssize_t socket_recv(int fd, void *buf, size_t n, int flags)
{
    for (;;) {
        ssize_t got = REAL(recv)(fd, buf, n, flags | MSG_DONTWAIT);
        if (got >= 0 || !would_block())
            return got;
        if (wait_socket(fd, POLLIN, SO_RCVTIMEO) != 0)
            return -1;
    }
}

/* A blocking send returns when every byte is in the socket's buffer: do
 * the same, a bufferful at a time.  After a partial write, a failure is
 * reported by the next call, as the kernel does. */
static ssize_t socket_send(int fd, const char *buf, size_t n, int flags)
{
    size_t done = 0;
    while (done < n) {
        ssize_t sent = REAL(send)(fd, buf + done, n - done, flags | MSG_DONTWAIT);
        if (sent >= 0) {
            done += (size_t)sent;
            continue;
        }
        if (!would_block() || wait_socket(fd, POLLOUT, SO_SNDTIMEO) != 0)
            return done > 0 ? (ssize_t)done : -1;
    }
    return (ssize_t)done;
}

static int is_stream(int fd)
{
    int type = 0;
    socklen_t len = sizeof type;
    return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;
}

/* MSG_WAITALL on a stream socket: all n bytes, the end of the stream, or
 * an error. */
static ssize_t socket_recv_all(int fd, char *buf, size_t n, int flags)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = socket_recv(fd, buf + got, n - got, flags & ~MSG_WAITALL);
        if (r <= 0)
            return got > 0 ? (ssize_t)got : r;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* ---- Pipes: no MSG_DONTWAIT, so wait first, then call ------------------- */

/* O_NONBLOCK belongs to the open pipe, shared by every process that has
 * it (a shell's pipeline, make's output): turning it on, even briefly,
 * could hand EAGAIN to a process that never asked for it.  So wait until
 * the pipe is ready, then make the blocking call, which then returns at
 * once: a readable pipe has data (or its writer is gone), and a writable
 * one has room for PIPE_BUF bytes. */
static ssize_t pipe_write(int fd, const char *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        if (wait_ready(fd, POLLOUT, GREEN_FOREVER) != 0)
            return done > 0 ? (ssize_t)done : -1;
        size_t chunk = n - done < PIPE_BUF ? n - done : PIPE_BUF;
        ssize_t w = REAL(write)(fd, buf + done, chunk);
        if (w < 0)
            return done > 0 ? (ssize_t)done : -1;
        done += (size_t)w;
    }
    return (ssize_t)done;
}

/* ---- read, write, recv, send ------------------------------------------- */

ssize_t PATCHED(read)(int fd, void *buf, size_t n)
{
    if (n > 0 && in_greenlet()) {
        switch (greenable(fd)) {
        case SOCKET:
            return socket_recv(fd, buf, n, 0);   /* read on a socket is recv */
        case PIPE:
            if (wait_ready(fd, POLLIN, GREEN_FOREVER) != 0)
                return -1;
            break;
        case OTHER:
            break;
        }
    }
    return REAL(read)(fd, buf, n);
}

ssize_t PATCHED(write)(int fd, const void *buf, size_t n)
{
    if (n > 0 && in_greenlet()) {
        switch (greenable(fd)) {
        case SOCKET:
            return socket_send(fd, buf, n, 0);   /* SIGPIPE as write gives */
        case PIPE:
            return pipe_write(fd, buf, n);
        case OTHER:
            break;
        }
    }
    return REAL(write)(fd, buf, n);
}

ssize_t PATCHED(recv)(int fd, void *buf, size_t n, int flags)
{
    if (n == 0 || (flags & MSG_DONTWAIT) || !in_greenlet() || greenable(fd) != SOCKET)
        return REAL(recv)(fd, buf, n, flags);
    if (!(flags & MSG_WAITALL) || !is_stream(fd))
        return socket_recv(fd, buf, n, flags);
    if (flags & MSG_PEEK)                       /* rare: left to the kernel */
        return REAL(recv)(fd, buf, n, flags);
    return socket_recv_all(fd, buf, n, flags);
}

ssize_t PATCHED(send)(int fd, const void *buf, size_t n, int flags)
{
    if (n == 0 || (flags & MSG_DONTWAIT) || !in_greenlet() || greenable(fd) != SOCKET)
        return REAL(send)(fd, buf, n, flags);
    return socket_send(fd, buf, n, flags);
}

/* ---- accept, connect ---------------------------------------------------- */

int PATCHED(accept)(int fd, __SOCKADDR_ARG addr, socklen_t *len)
{
    /* accept has no MSG_DONTWAIT: wait for a connection, then take it.
     * The new socket is blocking, as the original's would be. */
    if (in_greenlet() && greenable(fd) == SOCKET
        && wait_ready(fd, POLLIN, socket_timeout(fd, SO_RCVTIMEO)) != 0) {
        if (errno == ETIMEDOUT)
            errno = EAGAIN;
        return -1;
    }
    return REAL(accept)(fd, addr, len);
}

/* The outcome of a connection started in the background. */
static int connect_result(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        return -1;
    if (err != 0) {
        errno = err;
        return -1;
    }
    return 0;
}

int PATCHED(connect)(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
    if (!in_greenlet() || greenable(fd) != SOCKET)
        return REAL(connect)(fd, addr, len);
    /* connect has no per-call flag: the socket is non-blocking for this one
     * call, then as it was.  No other greenlet runs in between. */
    int flags = fcntl(fd, F_GETFL);
    if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
        return REAL(connect)(fd, addr, len);
    int rc = REAL(connect)(fd, addr, len);
    int err = errno;
    fcntl(fd, F_SETFL, flags);
    errno = err;
    if (rc == 0 || err != EINPROGRESS)
        return rc;
    /* Under way: writable means done, made or refused.  A blocking connect
     * that outlives SO_SNDTIMEO fails with EINPROGRESS. */
    if (wait_for(fd, POLLOUT, socket_timeout(fd, SO_SNDTIMEO)) != 0) {
        if (errno == ETIMEDOUT)
            errno = EINPROGRESS;
        return -1;
    }
    return connect_result(fd);
}

/* ---- poll --------------------------------------------------------------- */

#define POLL_READ (POLLIN | POLLRDNORM)
#define POLL_WRITE (POLLOUT | POLLWRNORM)

/* The hub can wait for a poll set when every descriptor is a socket or a
 * pipe (blocking or not: poll waits either way) asking to read and/or to
 * write.  Other requests (POLLPRI, no events at all) go to the kernel. */
static int hub_can_poll(const struct pollfd *fds, nfds_t n)
{
    for (nfds_t i = 0; i < n; i++) {
        if (fds[i].fd < 0)
            continue;                           /* poll ignores it */
        short events = fds[i].events;
        if (!(events & (POLLIN | POLLOUT))
            || (events & ~(POLL_READ | POLL_WRITE | POLLRDHUP)) != 0
            || kind_of(fds[i].fd) == OTHER)
            return 0;
    }
    return 1;
}

static void on_fd_ready(evutil_socket_t fd, short what, void *me)
{
    (void)fd;
    (void)what;
    green_ready(me, NULL);
}

/* Park until any descriptor of the set is ready, or `timeout`: chapter 3's
 * pattern with one libevent event per descriptor, all waking this greenlet
 * (arm them, wait, then free them whatever woke us). */
static int wait_any(const struct pollfd *fds, nfds_t n, double timeout)
{
    struct event **evs = calloc(n > 0 ? n : 1, sizeof *evs);
    if (evs == NULL)
        return -1;
    int rc = 0;
    for (nfds_t i = 0; i < n && rc == 0; i++) {
        if (fds[i].fd < 0)
            continue;
        short what = (short)(((fds[i].events & POLLIN) ? EV_READ : 0)
                             | ((fds[i].events & POLLOUT) ? EV_WRITE : 0));
        evs[i] = event_new(green_hub_base(), fds[i].fd, what, on_fd_ready, green_current());
        if (evs[i] == NULL || event_add(evs[i], NULL) != 0) {
            errno = ENOMEM;
            rc = -1;
        }
    }
    if (rc == 0)
        rc = green_hub_wait(timeout);
    int err = errno;
    for (nfds_t i = 0; i < n; i++)
        if (evs[i] != NULL)
            event_free(evs[i]);
    free(evs);
    errno = err;
    return rc;
}

int PATCHED(poll)(struct pollfd *fds, nfds_t n, int timeout_ms)
{
    if (timeout_ms == 0 || !in_greenlet() || !hub_can_poll(fds, n))
        return REAL(poll)(fds, n, timeout_ms);
    double deadline = timeout_ms < 0 ? -1.0 : green_now() + timeout_ms / 1e3;
    for (;;) {
        /* The kernel fills in revents; the hub only says when to ask. */
        int ready = REAL(poll)(fds, n, 0);
        if (ready != 0)
            return ready;
        double left = GREEN_FOREVER;
        if (deadline >= 0) {
            left = deadline - green_now();
            if (left <= 0)
                return 0;
        }
        if (wait_any(fds, n, left) != 0 && errno != ETIMEDOUT)
            return -1;
    }
}

/* ---- getaddrinfo -------------------------------------------------------- */

/* Answers from green_getaddrinfo are libevent's and must be freed by
 * green_freeaddrinfo; the program will call plain freeaddrinfo on them.
 * So remember which answers are ours.  A short list: a program holds few
 * answers at a time. */
struct answer {
    struct addrinfo *ai;
    struct answer *next;
};
static struct answer *answers;
static pthread_mutex_t answers_lock = PTHREAD_MUTEX_INITIALIZER;

static int remember(struct addrinfo *ai)
{
    struct answer *a = malloc(sizeof *a);
    if (a == NULL)
        return -1;
    a->ai = ai;
    pthread_mutex_lock(&answers_lock);
    a->next = answers;
    answers = a;
    pthread_mutex_unlock(&answers_lock);
    return 0;
}

/* 1 when ai was ours (and is now forgotten), else 0. */
static int forget(struct addrinfo *ai)
{
    struct answer *found = NULL;
    pthread_mutex_lock(&answers_lock);
    for (struct answer **p = &answers; *p != NULL; p = &(*p)->next) {
        if ((*p)->ai == ai) {
            found = *p;
            *p = found->next;
            break;
        }
    }
    pthread_mutex_unlock(&answers_lock);
    free(found);
    return found != NULL;
}

/* No name server is asked for no host (the wildcard or loopback address)
 * or for an address written in digits: the real getaddrinfo answers at
 * once, and exactly as the program expects. */
static int needs_no_name_server(const char *node, const struct addrinfo *hints)
{
    unsigned char addr[sizeof(struct in6_addr)];
    return node == NULL || (hints != NULL && (hints->ai_flags & AI_NUMERICHOST))
           || inet_pton(AF_INET, node, addr) == 1 || inet_pton(AF_INET6, node, addr) == 1;
}

int PATCHED(getaddrinfo)(const char *node, const char *service,
                         const struct addrinfo *hints, struct addrinfo **res)
{
    if (!in_greenlet() || needs_no_name_server(node, hints))
        return REAL(getaddrinfo)(node, service, hints, res);
    int rc = green_getaddrinfo(node, service, hints, res, GREEN_FOREVER);
    if (rc == 0 && remember(*res) != 0) {
        green_freeaddrinfo(*res);
        return EAI_MEMORY;
    }
    return rc;
}

void PATCHED(freeaddrinfo)(struct addrinfo *ai)
{
    if (forget(ai))
        green_freeaddrinfo(ai);
    else
        REAL(freeaddrinfo)(ai);
}
