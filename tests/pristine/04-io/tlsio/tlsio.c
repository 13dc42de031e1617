/* tlsio.c - exercise 04-io/tlsio.  Read tlsio.h first. */
#include <errno.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "green.h"
#include "tlsio.h"

/* Given: a deadline on green_now()'s clock, or -1 for none. */
static double deadline_of(double timeout)
{
    return timeout < 0 ? -1.0 : green_now() + timeout;
}

/* Given: the time left until the deadline, as a timeout for the next
 * wait: GREEN_FOREVER without one, never less than 0 with one. */
static double time_left(double deadline)
{
    if (deadline < 0)
        return GREEN_FOREVER;
    double left = deadline - green_now();
    return left > 0 ? left : 0;
}

int ex_tls_handshake(SSL *ssl, double timeout)
{
    /* TODO: the deadline once; then loop: ERR_clear_error();
     * SSL_do_handshake(ssl); 1 -> return 0; else ask SSL_get_error()
     * and wait for what it asked (tlsio.h, "The recipe"), or fail. */
    (void)ssl;
    (void)deadline_of(timeout);
    (void)time_left;
    errno = ENOSYS;
    return -1;
}

ssize_t ex_tls_read(SSL *ssl, void *buf, size_t n, double timeout)
{
    /* TODO: the same loop around SSL_read(ssl, buf, n); the peer's
     * close_notify (SSL_ERROR_ZERO_RETURN) returns 0. */
    (void)ssl;
    (void)buf;
    (void)n;
    (void)timeout;
    errno = ENOSYS;
    return -1;
}

ssize_t ex_tls_write(SSL *ssl, const void *buf, size_t n, double timeout)
{
    /* TODO: the same loop around SSL_write(ssl, buf, n), repeated with
     * the same buffer and length until it returns n. */
    (void)ssl;
    (void)buf;
    (void)n;
    (void)timeout;
    errno = ENOSYS;
    return -1;
}
