/* tlsio.c - solution of exercise 04-io/tlsio.  See tlsio.h. */
#include <errno.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "green.h"
#include "tlsio.h"

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

/* What a failed SSL_* call means, once SSL_get_error() has been asked. */
enum step {
    AGAIN,      /* we waited for what OpenSSL asked: call it again */
    CLOSED,     /* the peer's close_notify */
    FAILED      /* -1, errno set */
};

/* The heart of the exercise: park until the socket can do what OpenSSL
 * asked for, which is not always what the caller is doing (a read may
 * have to send, a write may have to receive). */
static enum step settle(SSL *ssl, int rc, double deadline)
{
    int fd = SSL_get_fd(ssl);
    int wait;
    switch (SSL_get_error(ssl, rc)) {
    case SSL_ERROR_WANT_READ:           /* the kernel's EAGAIN, in OpenSSL's words */
        wait = green_wait_read(fd, time_left(deadline));
        break;
    case SSL_ERROR_WANT_WRITE:
        wait = green_wait_write(fd, time_left(deadline));
        break;
    case SSL_ERROR_ZERO_RETURN:
        return CLOSED;
    case SSL_ERROR_SYSCALL:             /* the kernel's own error, if it said one */
        if (errno == 0)
            errno = ECONNRESET;
        return FAILED;
    default:                            /* SSL_ERROR_SSL: OpenSSL refused */
        errno = EPROTO;
        return FAILED;
    }
    return wait == 0 ? AGAIN : FAILED;  /* ETIMEDOUT, ECANCELED */
}

/* Before each call: SSL_get_error() reads this thread's queue of OpenSSL
 * errors, and an old one left there would turn a WANT_READ into
 * SSL_ERROR_SSL; errno is cleared so that SSL_ERROR_SYSCALL's is fresh. */
static void fresh_start(void)
{
    ERR_clear_error();
    errno = 0;
}

int ex_tls_handshake(SSL *ssl, double timeout)
{
    double deadline = deadline_of(timeout);
    for (;;) {
        fresh_start();
        int rc = SSL_do_handshake(ssl);
        if (rc == 1)
            return 0;
        switch (settle(ssl, rc, deadline)) {
        case AGAIN:
            continue;
        case CLOSED:                    /* gone before the handshake was over */
            errno = ECONNRESET;
            return -1;
        case FAILED:
            return -1;
        }
    }
}

ssize_t ex_tls_read(SSL *ssl, void *buf, size_t n, double timeout)
{
    double deadline = deadline_of(timeout);
    for (;;) {
        size_t got = 0;
        fresh_start();
        /* The _ex form counts in size_t and answers 1 or 0. */
        int rc = SSL_read_ex(ssl, buf, n, &got);
        if (rc == 1)
            return (ssize_t)got;
        switch (settle(ssl, rc, deadline)) {
        case AGAIN:
            continue;
        case CLOSED:
            return 0;                   /* the end of the stream */
        case FAILED:
            return -1;
        }
    }
}

ssize_t ex_tls_write(SSL *ssl, const void *buf, size_t n, double timeout)
{
    double deadline = deadline_of(timeout);
    for (;;) {
        size_t sent = 0;
        fresh_start();
        /* All n bytes or nothing (no SSL_MODE_ENABLE_PARTIAL_WRITE): after
         * WANT_WRITE the same call again, same buffer, same length. */
        int rc = SSL_write_ex(ssl, buf, n, &sent);
        if (rc == 1)
            return (ssize_t)sent;
        switch (settle(ssl, rc, deadline)) {
        case AGAIN:
            continue;
        case CLOSED:                    /* the peer said it is done */
            errno = ECONNRESET;
            return -1;
        case FAILED:
            return -1;
        }
    }
}
