/*
 * tlsio.h - exercise 04-io/tlsio: the loop of a green SSL_read and
 * SSL_write, where OpenSSL says WANT_READ or WANT_WRITE instead of EAGAIN.
 *
 * int     ex_tls_handshake(SSL *ssl, double timeout);
 * ssize_t ex_tls_read(SSL *ssl, void *buf, size_t n, double timeout);
 * ssize_t ex_tls_write(SSL *ssl, const void *buf, size_t n, double timeout);
 *
 * ssl is an OpenSSL connection over a connected NON-BLOCKING socket (the
 * tests make it: SSL_new, SSL_set_fd; SSL_get_fd(ssl) gives it back).  On
 * such a socket OpenSSL never sleeps: when it cannot go on, the call fails
 * and SSL_get_error() says why, in its own words for the kernel's EAGAIN:
 * SSL_ERROR_WANT_READ ("call me again once the socket can be read") or
 * SSL_ERROR_WANT_WRITE ("... once it can be written").  Your job is the
 * loop of chapter 4 once more: try the call, and on "not now" park this
 * greenlet on the hub (green_wait_read / green_wait_write) until the
 * socket is ready, then try again, so that each call looks blocking to its
 * caller while the other greenlets run.  Use OpenSSL and the hub only:
 * not green_tls_* of tls.h (that is what you write).
 *
 * ex_tls_handshake: SSL_do_handshake() until it returns 1 (client or
 * server, as the tests set it).  Returns 0, or -1 with errno.
 *
 * ex_tls_read: SSL_read() up to n bytes (n > 0) into buf.  Returns how
 * many (>= 1); 0 when the peer ended the stream with its close_notify
 * (SSL_ERROR_ZERO_RETURN); or -1 with errno.
 *
 * ex_tls_write: SSL_write() all n bytes (n > 0) of buf.  Returns n, or -1
 * with errno.  OpenSSL writes all n or nothing (partial writes are off by
 * default), but a call that said WANT_WRITE must be repeated with the SAME
 * buffer and length: OpenSSL has already encrypted part of it.
 *
 * What each must do (the tests check each point)
 *   - SSL_ERROR_WANT_READ: wait until the socket is readable;
 *     SSL_ERROR_WANT_WRITE: until it is writable; then call again.
 *   - `timeout` in seconds for the whole call (GREEN_FOREVER, any negative
 *     number: no limit); when it runs out: -1 with errno ETIMEDOUT.
 *   - Killed (green_kill) while waiting: -1 with errno ECANCELED.  (Both
 *     come from green_wait_read/_write: when the wait fails, return -1.)
 *   - SSL_ERROR_SSL, OpenSSL refused something (a certificate it does not
 *     trust, bytes that are not TLS, a connection cut without close_notify):
 *     -1 with errno EPROTO.
 *   - SSL_ERROR_SYSCALL, the kernel failed: -1 with the kernel's errno
 *     (ECONNRESET, EPIPE), or ECONNRESET when errno says nothing (0).
 *   - SSL_ERROR_ZERO_RETURN in ex_tls_handshake or ex_tls_write: the peer
 *     has closed: -1 with errno ECONNRESET.
 *   - A call that succeeds may leave errno as it likes: the tests read
 *     errno only after -1.
 *
 * The recipe (see chapters/04-io/README.md, "TLS: the same trick"):
 *
 *     deadline = now + timeout                      (once, before the loop)
 *     loop:
 *         ERR_clear_error()
 *         rc = SSL_read(ssl, buf, n)                (or _write, _do_handshake)
 *         rc > 0?                     -> done
 *         switch SSL_get_error(ssl, rc):
 *           WANT_READ   -> green_wait_read(fd, time left), failed? -> -1
 *           WANT_WRITE  -> green_wait_write(fd, time left), failed? -> -1
 *           ZERO_RETURN -> the peer's close_notify
 *           SYSCALL     -> the kernel's errno
 *           anything else -> EPROTO
 *
 * The trap: wait for what OpenSSL asked, never for what the caller meant.
 * A read may have to WRITE: the first SSL_read of a client whose handshake
 * has not been done sends the ClientHello first (and TLS 1.2's
 * renegotiation sends one in the middle of a connection).  A write may
 * have to READ: the first SSL_write of a server must first receive the
 * ClientHello.  An ex_tls_read that always waits for "readable" then
 * waits for bytes the peer will never send (it waits for ours), and an
 * ex_tls_write that always waits for "writable" spins: a socket is almost
 * always writable, so it wakes at once and asks OpenSSL again, thousands
 * of times.  The tests talk to a real OpenSSL peer in another process and
 * count your attempts: a loop that spins fails even when it ends well.
 *
 * Hints
 *   - SSL_read and SSL_write count in int; SSL_read_ex and SSL_write_ex
 *     take a size_t, answer 1 (done: the count is in their last argument)
 *     or 0, and SSL_get_error() takes that 0 as it takes SSL_read's -1.
 *   - deadline_of() and time_left() in tlsio.c are given: the time left is
 *     never negative while there is a deadline (negative means forever).
 *   - SSL_get_error() reads this thread's queue of OpenSSL errors: an old
 *     error left there makes a plain WANT_READ look like SSL_ERROR_SSL.
 *     Call ERR_clear_error() before each SSL_* call (the tests leave one).
 *   - OpenSSL writes with write(2), and writing to a socket whose peer has
 *     gone raises SIGPIPE: the tests ignore it, as a TLS server must
 *     (tls.c does).  Not your job here.
 *   - One wait can end with nothing to do (another greenlet woke you): go
 *     round the loop again, with the time that is left.
 *
 * Lesson: chapters/04-io/README.md, "The green socket pattern",
 *         "Timeouts are deadlines", "TLS: the same trick", then
 *         "Exercise: tlsio".
 * Tests:  tests/exercises/04-io/tlsio.c
 * Run:    make grade E=tlsio
 * Stuck?  make hint E=tlsio (one more hint each time you ask)
 */
#ifndef EX_TLSIO_H
#define EX_TLSIO_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

int ex_tls_handshake(SSL *ssl, double timeout);
ssize_t ex_tls_read(SSL *ssl, void *buf, size_t n, double timeout);
ssize_t ex_tls_write(SSL *ssl, const void *buf, size_t n, double timeout);

#endif
