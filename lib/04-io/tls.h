/*
 * tls.h - chapter 4: cooperative TLS on OpenSSL (gevent's ssl module).
 *
 * Article 001 names gevent's "cooperative socket and ssl modules" side by
 * side, and they are one idea.  A green socket (io.h) tries the call and,
 * when the kernel says EAGAIN ("not now"), parks the greenlet until the
 * descriptor is ready.  OpenSSL on a non-blocking descriptor says the same
 * thing in its own words: SSL_read, SSL_write and SSL_do_handshake fail
 * with SSL_ERROR_WANT_READ or SSL_ERROR_WANT_WRITE, meaning "call me again
 * once the socket can be read (or written)".  So every call below is one
 * loop:
 *
 *     for (;;) {
 *         n = SSL_read(ssl, buf, len);            (or _write, _do_handshake)
 *         if (n > 0) return n;
 *         switch (SSL_get_error(ssl, n)) {
 *         case SSL_ERROR_WANT_READ:  green_wait_read(fd, time left);  break;
 *         case SSL_ERROR_WANT_WRITE: green_wait_write(fd, time left); break;
 *         default: fail with errno
 *         }
 *     }
 *
 * Note the cross: a read may need to *write* (an SSL_read on a connection
 * whose handshake is not over carries the handshake on, and that sends;
 * TLS 1.2's renegotiation did too) and a write may need to *read*.  The loop
 * waits for whatever OpenSSL asked for, never for what the caller meant to
 * do.  The same loop works for any library that speaks "would block"
 * (libpq, libssh2, hiredis...): that is the whole trick of this chapter.
 *
 * Two objects: a context (green_tls_ctx_t: OpenSSL's SSL_CTX, the
 * certificates and settings shared by many connections) and a connection
 * (green_tls_t: one SSL over one connected non-blocking descriptor).
 *
 * Secure by default, as Python's ssl.create_default_context():
 *   - TLS 1.2 and 1.3 only; no renegotiation; no compression;
 *   - a client context trusts the system's CA store (or the file given),
 *     checks the server's certificate and its name (the host given to
 *     green_tls_new), and sends that name (SNI);
 *   - ALPN: a server context chooses "http/1.1" when the client offers it
 *     (and goes on without ALPN when it offers nothing the server knows).
 *
 * Errors, as everywhere in the kit: -1 (or NULL) and errno.  Timeouts are
 * in seconds for the whole call (GREEN_FOREVER: none): ETIMEDOUT when it
 * ran out, ECANCELED when the caller was killed.  A timeout of 0 tries
 * once and never waits (a non-blocking call: ETIMEDOUT when it would have
 * to).  What OpenSSL refused (a
 * bad certificate, a peer that does not speak TLS, a wrong version) is
 * EPROTO, and green_tls_error() gives OpenSSL's reason in words
 * ("certificate verify failed", "wrong version number").
 *
 * Python:  ctx = ssl.create_default_context()      green_tls_client_ctx(NULL)
 *          s = ctx.wrap_socket(sock, server_hostname=h)  green_tls_new + _handshake
 *          s.recv(n) / s.sendall(b) / s.unwrap()   green_tls_recv / _sendall / _shutdown
 */
#ifndef GREEN_TLS_H
#define GREEN_TLS_H

#include <stddef.h>
#include <sys/types.h>

typedef struct green_tls_ctx green_tls_ctx_t;
typedef struct green_tls green_tls_t;

/* ---- Contexts ------------------------------------------------------------ */

/* A server context with the certificate chain in cert_file (PEM: the
 * certificate first, then any intermediates) and its private key in
 * key_file (PEM).  Returns NULL with errno: ENOENT (a file is missing),
 * EPROTO (OpenSSL refused a file, or the key does not match the
 * certificate: green_tls_error() says which), ENOMEM. */
green_tls_ctx_t *green_tls_server_ctx(const char *cert_file, const char *key_file);

/* A client context that verifies servers against the CA certificates in
 * ca_file (PEM), or against the system's store when ca_file is NULL.
 * Returns NULL with errno (ENOENT, EPROTO, ENOMEM). */
green_tls_ctx_t *green_tls_client_ctx(const char *ca_file);

/* A client context that checks nothing: any certificate, any name.  For
 * benchmarks and for talking to a throwaway self-signed server in a demo;
 * never for anything that matters (curl's -k).  NULL with errno. */
green_tls_ctx_t *green_tls_client_ctx_insecure(void);

/* OpenSSL's own context, to change what this header does not cover (a
 * cipher list, a session cache).  It still belongs to ctx. */
struct ssl_ctx_st *green_tls_ctx_ssl(green_tls_ctx_t *ctx);

/* Free the context.  Connections made from it keep what they need (OpenSSL
 * counts references), so it may go before them. */
void green_tls_ctx_free(green_tls_ctx_t *ctx);

/* ---- Connections --------------------------------------------------------- */

/* A TLS connection over fd: a connected socket, made non-blocking here.
 * For a client context, host is the name the server's certificate must
 * carry (and is sent as SNI); NULL checks no name (an address given as
 * text, "127.0.0.1", is checked against the certificate's IP addresses).
 * For a server context, host must be NULL.  Nothing is sent yet: the
 * handshake is green_tls_handshake's.  The descriptor stays the caller's
 * (green_tls_close closes it; green_tls_free does not).
 * Returns NULL with errno (EINVAL, ENOMEM). */
green_tls_t *green_tls_new(green_tls_ctx_t *ctx, int fd, const char *host);

/* The handshake: as client or as server, by the context.  Returns 0, or
 * -1 with errno: ETIMEDOUT, ECANCELED, EPROTO (OpenSSL refused: a bad
 * certificate, a name that does not match, no common version or cipher,
 * bytes that are not TLS: green_tls_error() says which), ECONNRESET (the
 * peer closed during the handshake), or what the kernel said.  A server
 * should give it a short timeout: a client that connects and never
 * finishes its hello holds a greenlet until it runs out. */
int green_tls_handshake(green_tls_t *t, double timeout);

/* Read up to n bytes of plaintext.  Returns how many (at least 1), 0 at
 * the end of the stream, or -1 with errno (ETIMEDOUT, ECANCELED, EPROTO,
 * ECONNRESET...).  The end of the stream is the peer's close_notify, or
 * the connection's end without one (a "ragged EOF": many clients just
 * close, and Python's suppress_ragged_eofs=True does the same);
 * green_tls_clean_eof() tells the two apart, for a protocol whose messages
 * end with the connection.  Spends a unit of the greenlet's budget first,
 * as green_recv does. */
ssize_t green_tls_recv(green_tls_t *t, void *buf, size_t n, double timeout);

/* Write up to n bytes (n > 0).  Returns how many were written (at least
 * 1: one TLS record of up to 16 KiB), or -1 with errno (ETIMEDOUT,
 * ECANCELED, EPIPE, ECONNRESET, EPROTO).  Spends a unit of the budget. */
ssize_t green_tls_send(green_tls_t *t, const void *buf, size_t n, double timeout);

/* Write all n bytes; the timeout covers the whole call.  Returns n, or -1
 * (some bytes may have been written). */
ssize_t green_tls_sendall(green_tls_t *t, const void *buf, size_t n, double timeout);

/* Wait until a green_tls_recv would not have to wait: what OpenSSL holds
 * counts, plaintext it has decrypted and whole records it has read from
 * the socket ahead of time (the descriptor alone would not show them, and
 * waiting on it could wait forever for bytes that have arrived).  Returns
 * 0, or -1 with errno (ETIMEDOUT, ECANCELED). */
int green_tls_wait_read(green_tls_t *t, double timeout);

/* Bytes of plaintext readable without waiting: what OpenSSL has decrypted,
 * once it has decrypted a whole record it holds, if any (never waits). */
size_t green_tls_pending(green_tls_t *t);

/* Send close_notify ("I will write no more": TLS's own end of stream, so
 * the peer can tell the end from a cut), without waiting for the peer's.
 * Returns 0, or -1 with errno (ETIMEDOUT...). */
int green_tls_shutdown(green_tls_t *t, double timeout);

/* 1 when the stream ended with the peer's close_notify, 0 otherwise (not
 * ended yet, or ended by a bare close). */
int green_tls_clean_eof(const green_tls_t *t);

/* Free the connection (OpenSSL's state, some 30 KiB), sending nothing and
 * leaving the descriptor open. */
void green_tls_free(green_tls_t *t);

/* green_tls_shutdown (with a short timeout: a peer that does not read must
 * not hold us), then free t and close its descriptor.  Returns close(2)'s
 * answer. */
int green_tls_close(green_tls_t *t);

/* ---- What was negotiated ------------------------------------------------- */

/* The descriptor t reads and writes. */
int green_tls_fd(const green_tls_t *t);

/* The protocol ALPN chose ("http/1.1"), or NULL when none was. */
const char *green_tls_alpn(const green_tls_t *t);

/* The TLS version ("TLSv1.3") and cipher ("TLS_AES_256_GCM_SHA384"). */
const char *green_tls_version(const green_tls_t *t);
const char *green_tls_cipher(const green_tls_t *t);

/* The peer certificate's subject, one line ("CN=localhost"), into buf
 * (n bytes).  Returns buf, or NULL when the peer sent no certificate (a
 * server's clients usually do not). */
char *green_tls_peer_subject(const green_tls_t *t, char *buf, size_t n);

/* OpenSSL's reason for this thread's last failure with EPROTO, in words
 * ("certificate verify failed"), or "" when there is none.  Valid until
 * the next call of this header in this thread. */
const char *green_tls_error(void);

/* ---- Telling TLS from plain text ----------------------------------------- */

/* Look at the first byte the client sent on fd, without taking it
 * (MSG_PEEK), waiting at most `timeout` for it: 1 when it starts a TLS
 * handshake record (0x16), 0 when it is anything else (a plain "GET /"
 * sent to a TLS port: the server can answer 400 in plain text, as nginx
 * does), -1 with errno (ETIMEDOUT; ECONNRESET or EPIPE: the client closed
 * before sending anything). */
int green_tls_sniff(int fd, double timeout);

/* ---- Handing a TLS connection over --------------------------------------- */

/* A server that hands a connection to another protocol passes only its
 * descriptor (server.h's green_takeover_fn_t: chapter 13's WebSocket
 * after chapter 11's "101").  Over TLS the bytes must keep going through
 * the same session, so the server registers it beside the descriptor for
 * as long as the handover lasts, and the new protocol finds it:
 *
 *     green_tls_attach(fd, t);  fn(fd, ...);  green_tls_attach(fd, NULL);
 *     ... and in fn:  green_tls_t *t = green_tls_of(fd);   (NULL: plain TCP)
 *
 * The table is the thread's (a hub and its greenlets live in one thread).
 * green_tls_attach returns 0, or -1 with errno (EBADF, ENOMEM). */
int green_tls_attach(int fd, green_tls_t *t);
green_tls_t *green_tls_of(int fd);

#endif
