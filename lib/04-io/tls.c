/*
 * tls.c - chapter 4: cooperative TLS on OpenSSL.  See tls.h.
 *
 * Read it in this order:
 *   1. retry(): the one loop every call goes through.  OpenSSL says
 *      SSL_ERROR_WANT_READ or _WANT_WRITE where the kernel says EAGAIN,
 *      and we park the greenlet exactly as io.c does.
 *   2. the calls (handshake, recv, send, shutdown): each is one SSL_*
 *      call handed to retry(), plus what its end of stream means.
 *   3. contexts: the secure defaults, in one place.
 *   4. the small things: what was negotiated, the sniff, the handover
 *      table.
 */
#include "hub.h"
#include "io.h"
#include "tls.h"
#include "wait.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct green_tls_ctx {
    SSL_CTX *ssl;
    int server;
};

struct green_tls {
    SSL *ssl;
    int fd;
    int clean_eof;      /* the peer's close_notify arrived */
    int fatal;          /* OpenSSL failed: it must not even send a close_notify */
};

/* OpenSSL's reason for the last EPROTO, per thread like errno. */
static _Thread_local char last_error[256];

const char *green_tls_error(void)
{
    return last_error;
}

/* ---- 1. The loop -------------------------------------------------------- */

/* What one SSL_* call did, once SSL_get_error() has been asked. */
enum outcome { DONE, END, FAILED };

/* A call of OpenSSL that may have to wait: SSL_do_handshake, SSL_read,
 * SSL_write, SSL_shutdown, each wrapped to take (ssl, buf, n). */
typedef int (*ssl_call_t)(SSL *ssl, void *buf, int n);

/* OpenSSL's error queue, as errno EPROTO and a line in last_error. */
static void note_openssl_error(green_tls_t *t)
{
    unsigned long e = ERR_peek_last_error();
    const char *why = e ? ERR_reason_error_string(e) : NULL;
    long verify = SSL_get_verify_result(t->ssl);
    if (verify != X509_V_OK)
        snprintf(last_error, sizeof last_error, "%s: %s",
                 why ? why : "certificate verify failed",
                 X509_verify_cert_error_string(verify));
    else
        snprintf(last_error, sizeof last_error, "%s", why ? why : "TLS error");
    ERR_clear_error();
    errno = EPROTO;
}

/* The peer's connection ended without a close_notify.  OpenSSL 3 reports
 * it as an error with this reason; older versions as SSL_ERROR_SYSCALL
 * with errno 0. */
static int ragged_eof(int err)
{
    if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0)
        return 1;
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
    return err == SSL_ERROR_SSL &&
           ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
#else
    return 0;
#endif
}

/* Call fn until it succeeds, waiting on the hub whenever OpenSSL asks
 * to.  Returns DONE (*result holds fn's answer), END (the stream ended:
 * close_notify, or a bare close), or FAILED (errno set). */
static enum outcome retry(green_tls_t *t, ssl_call_t fn, void *buf, int n,
                          double deadline, int *result)
{
    for (;;) {
        ERR_clear_error();      /* SSL_get_error reads this thread's queue */
        errno = 0;
        int rc = fn(t->ssl, buf, n);
        if (rc > 0) {
            *result = rc;
            return DONE;
        }
        int err = SSL_get_error(t->ssl, rc);
        double left = green__time_left(deadline);
        int wait;
        switch (err) {
        case SSL_ERROR_WANT_READ:       /* the kernel's EAGAIN, in OpenSSL's words */
        case SSL_ERROR_WANT_WRITE:
            if (left == 0) {            /* a timeout of 0, or the time is up */
                errno = ETIMEDOUT;
                return FAILED;
            }
            wait = err == SSL_ERROR_WANT_READ ? green_wait_read(t->fd, left)
                                              : green_wait_write(t->fd, left);
            break;
        case SSL_ERROR_ZERO_RETURN:     /* the peer's close_notify */
            t->clean_eof = 1;
            return END;
        default:
            t->fatal = 1;
            if (ragged_eof(err)) {
                ERR_clear_error();
                return END;
            }
            if (err == SSL_ERROR_SYSCALL && errno != 0)
                return FAILED;          /* the kernel's own: ECONNRESET, EPIPE */
            note_openssl_error(t);
            return FAILED;
        }
        if (wait != 0)
            return FAILED;              /* ETIMEDOUT or ECANCELED */
    }
}

/* ---- 2. The calls ------------------------------------------------------- */

static int do_handshake(SSL *ssl, void *buf, int n)
{
    (void)buf, (void)n;
    return SSL_do_handshake(ssl);
}

static int do_read(SSL *ssl, void *buf, int n)
{
    return SSL_read(ssl, buf, n);
}

static int do_write(SSL *ssl, void *buf, int n)
{
    return SSL_write(ssl, buf, n);
}

/* SSL_shutdown answers 0 once our close_notify is out (the peer's has
 * not come yet), 1 when both are: either is done for us. */
static int do_shutdown(SSL *ssl, void *buf, int n)
{
    (void)buf, (void)n;
    int rc = SSL_shutdown(ssl);
    return rc == 0 ? 1 : rc;
}

/* A call that succeeds leaves errno as it found it (green.h). */
static ssize_t success(ssize_t result, int callers_errno)
{
    errno = callers_errno;
    return result;
}

/* OpenSSL counts in int. */
static int clamp(size_t n)
{
    return n > (size_t)1 << 30 ? 1 << 30 : (int)n;
}

int green_tls_handshake(green_tls_t *t, double timeout)
{
    int callers_errno = errno, ignored;
    switch (retry(t, do_handshake, NULL, 0, green__deadline(timeout), &ignored)) {
    case DONE:
        return (int)success(0, callers_errno);
    case END:                   /* gone before the handshake was over */
        errno = ECONNRESET;
        return -1;
    default:
        return -1;
    }
}

ssize_t green_tls_recv(green_tls_t *t, void *buf, size_t n, double timeout)
{
    int callers_errno = errno, got = 0;
    double deadline = green__deadline(timeout);
    if (green_budget_consume() != 0)
        return -1;
    if (t->clean_eof)
        return 0;
    switch (retry(t, do_read, buf, clamp(n), deadline, &got)) {
    case DONE:
        return success(got, callers_errno);
    case END:
        return success(0, callers_errno);
    default:
        return -1;
    }
}

ssize_t green_tls_send(green_tls_t *t, const void *buf, size_t n, double timeout)
{
    int callers_errno = errno, sent = 0;
    double deadline = green__deadline(timeout);
    if (green_budget_consume() != 0)
        return -1;
    switch (retry(t, do_write, (void *)buf, clamp(n), deadline, &sent)) {
    case DONE:
        return success(sent, callers_errno);
    case END:                   /* the peer said it is done: it reads no more */
        errno = EPIPE;
        return -1;
    default:
        return -1;
    }
}

ssize_t green_tls_sendall(green_tls_t *t, const void *buf, size_t n, double timeout)
{
    double deadline = green__deadline(timeout);
    const char *p = buf;
    size_t done = 0;
    while (done < n) {
        ssize_t sent = green_tls_send(t, p + done, n - done, green__time_left(deadline));
        if (sent < 0)
            return -1;
        done += (size_t)sent;
    }
    return (ssize_t)n;
}

/* 1 when a green_tls_recv would not wait.  OpenSSL reads ahead (ctx_new):
 * besides the plaintext it has decrypted (SSL_pending), it may hold whole
 * records read from the socket and not yet decrypted, which neither
 * SSL_pending nor the descriptor shows.  A peek of one byte, with no
 * waiting, decrypts the next one if it is whole; a record cut in two is
 * WANT_READ, and its rest is the socket's business. */
static int readable_now(green_tls_t *t)
{
    if (SSL_pending(t->ssl) > 0 || t->clean_eof)
        return 1;
    if (!SSL_has_pending(t->ssl))
        return 0;
    int callers_errno = errno;
    char byte;
    ERR_clear_error();
    int rc = SSL_peek(t->ssl, &byte, 1);
    int err = rc > 0 ? SSL_ERROR_NONE : SSL_get_error(t->ssl, rc);
    ERR_clear_error();          /* green_tls_recv will meet it again */
    errno = callers_errno;
    /* Bytes, or an end or an error that green_tls_recv reports at once. */
    return err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE;
}

size_t green_tls_pending(green_tls_t *t)
{
    readable_now(t);
    return (size_t)SSL_pending(t->ssl);
}

int green_tls_wait_read(green_tls_t *t, double timeout)
{
    if (readable_now(t))
        return 0;               /* already here: the descriptor cannot tell */
    return green_wait_read(t->fd, timeout);
}

int green_tls_shutdown(green_tls_t *t, double timeout)
{
    int callers_errno = errno, ignored;
    /* After a fatal error, or before the handshake is over, there is no
     * session to close: OpenSSL forbids the close_notify. */
    if (t->fatal || !SSL_is_init_finished(t->ssl))
        return 0;
    if (retry(t, do_shutdown, NULL, 0, green__deadline(timeout), &ignored) == FAILED)
        return -1;
    return (int)success(0, callers_errno);
}

int green_tls_clean_eof(const green_tls_t *t)
{
    return t->clean_eof;
}

/* ---- 3. Contexts: the secure defaults ----------------------------------- */

/* What both kinds of context share: TLS 1.2 and 1.3 only (1.0 and 1.1 are
 * broken and retired: RFC 8996), no renegotiation (a client could make
 * the server redo the costly handshake at will), no compression (CRIME),
 * and SSL_write that returns after each record, as send() returns after
 * part of a buffer.  OpenSSL's buffers are given back while a connection
 * is idle, as nginx does: some 34 KiB each, and a server may hold 10,000
 * idle connections.  And OpenSSL reads ahead, as nginx has it do. */
static green_tls_ctx_t *ctx_new(const SSL_METHOD *method, int server)
{
    /* OpenSSL writes to the socket with write(), which raises SIGPIPE when
     * the peer has gone, and SIGPIPE's default action ends the process.
     * Python ignores it at start-up for this reason; chapter 7's server
     * does the same (server.c).  Only a program that never chose. */
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);
    green_tls_ctx_t *ctx = calloc(1, sizeof *ctx);
    if (!ctx || !(ctx->ssl = SSL_CTX_new(method))) {
        free(ctx);
        errno = ENOMEM;
        return NULL;
    }
    ctx->server = server;
    SSL_CTX_set_min_proto_version(ctx->ssl, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx->ssl, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
                               SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                               SSL_MODE_RELEASE_BUFFERS);
    /* Read what the socket holds, not a record's 5-byte header and then
     * its body: one read() a record instead of two (nginx does the same).
     * The price is records held but not yet decrypted: readable_now(). */
    SSL_CTX_set_read_ahead(ctx->ssl, 1);
    return ctx;
}

/* A file OpenSSL should read: say ENOENT (or EACCES) ourselves, since
 * OpenSSL's own answer ("system lib") names no file. */
static int readable(const char *file)
{
    return access(file, R_OK) == 0 ? 0 : -1;
}

static green_tls_ctx_t *refuse(green_tls_ctx_t *ctx, int err)
{
    if (err == EPROTO) {
        unsigned long e = ERR_peek_last_error();
        snprintf(last_error, sizeof last_error, "%s",
                 e ? ERR_reason_error_string(e) : "refused by OpenSSL");
        ERR_clear_error();
    }
    green_tls_ctx_free(ctx);
    errno = err;
    return NULL;
}

/* ALPN, the server's side: take "http/1.1" when the client offers it,
 * else go on without ALPN rather than fail (RFC 7301 allows either; a
 * client that offers only "h2" still speaks HTTP/1.1 on a fallback). */
static int choose_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    static const unsigned char ours[] = "\x08http/1.1";
    unsigned char *chosen;
    (void)ssl, (void)arg;
    if (SSL_select_next_proto(&chosen, outlen, ours, sizeof ours - 1, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

green_tls_ctx_t *green_tls_server_ctx(const char *cert_file, const char *key_file)
{
    if (!cert_file || !key_file) {
        errno = EINVAL;
        return NULL;
    }
    if (readable(cert_file) < 0 || readable(key_file) < 0)
        return NULL;
    green_tls_ctx_t *ctx = ctx_new(TLS_server_method(), 1);
    if (!ctx)
        return NULL;
    if (SSL_CTX_use_certificate_chain_file(ctx->ssl, cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx->ssl, key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx->ssl) != 1)
        return refuse(ctx, EPROTO);
    SSL_CTX_set_alpn_select_cb(ctx->ssl, choose_alpn, NULL);
    return ctx;
}

green_tls_ctx_t *green_tls_client_ctx(const char *ca_file)
{
    if (ca_file && readable(ca_file) < 0)
        return NULL;
    green_tls_ctx_t *ctx = ctx_new(TLS_client_method(), 0);
    if (!ctx)
        return NULL;
    int loaded = ca_file ? SSL_CTX_load_verify_locations(ctx->ssl, ca_file, NULL)
                         : SSL_CTX_set_default_verify_paths(ctx->ssl);
    if (loaded != 1)
        return refuse(ctx, EPROTO);
    SSL_CTX_set_verify(ctx->ssl, SSL_VERIFY_PEER, NULL);
    return ctx;
}

green_tls_ctx_t *green_tls_client_ctx_insecure(void)
{
    green_tls_ctx_t *ctx = ctx_new(TLS_client_method(), 0);
    if (ctx)
        SSL_CTX_set_verify(ctx->ssl, SSL_VERIFY_NONE, NULL);
    return ctx;
}

struct ssl_ctx_st *green_tls_ctx_ssl(green_tls_ctx_t *ctx)
{
    return ctx->ssl;
}

void green_tls_ctx_free(green_tls_ctx_t *ctx)
{
    if (!ctx)
        return;
    SSL_CTX_free(ctx->ssl);     /* counted: connections keep their own */
    free(ctx);
}

/* ---- Connections ---------------------------------------------------------- */

/* A client checks the name it meant to reach: a DNS name against the
 * certificate's names (and sent as SNI, so a server with many names can
 * pick the right certificate), an address against its IP addresses (SNI
 * never carries an address: RFC 6066). */
static int expect_name(SSL *ssl, const char *host)
{
    unsigned char addr[sizeof(struct in6_addr)];
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1)
        return X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1 ? 0 : -1;
    if (SSL_set_tlsext_host_name(ssl, host) != 1)
        return -1;
    return SSL_set1_host(ssl, host) == 1 ? 0 : -1;
}

green_tls_t *green_tls_new(green_tls_ctx_t *ctx, int fd, const char *host)
{
    if (!ctx || fd < 0 || (ctx->server && host)) {
        errno = EINVAL;
        return NULL;
    }
    if (green_fd_nonblock(fd) < 0)
        return NULL;
    green_tls_t *t = calloc(1, sizeof *t);
    if (!t || !(t->ssl = SSL_new(ctx->ssl)) || SSL_set_fd(t->ssl, fd) != 1) {
        if (t)
            SSL_free(t->ssl);   /* NULL is fine */
        free(t);
        ERR_clear_error();
        errno = ENOMEM;
        return NULL;
    }
    if (host && expect_name(t->ssl, host) < 0) {
        green_tls_free(t);
        ERR_clear_error();
        errno = EINVAL;         /* not a name a certificate can carry */
        return NULL;
    }
    t->fd = fd;
    if (ctx->server)
        SSL_set_accept_state(t->ssl);
    else
        SSL_set_connect_state(t->ssl);
    return t;
}

void green_tls_free(green_tls_t *t)
{
    if (!t)
        return;
    SSL_free(t->ssl);
    free(t);
}

/* Long enough for a close_notify to leave on a live connection, short
 * enough that a peer that does not read cannot hold the caller. */
#define CLOSE_NOTIFY_SECONDS 0.5

int green_tls_close(green_tls_t *t)
{
    int fd = t->fd, callers_errno = errno;
    green_tls_shutdown(t, CLOSE_NOTIFY_SECONDS);
    green_tls_free(t);
    errno = callers_errno;
    return close(fd);
}

/* ---- 4. What was negotiated ------------------------------------------------ */

int green_tls_fd(const green_tls_t *t)
{
    return t->fd;
}

const char *green_tls_alpn(const green_tls_t *t)
{
    /* OpenSSL's answer is not NUL-terminated; ours is one of the names we
     * offer, so a static copy of it will do. */
    const unsigned char *p;
    unsigned int len;
    SSL_get0_alpn_selected(t->ssl, &p, &len);
    if (len == 8 && memcmp(p, "http/1.1", 8) == 0)
        return "http/1.1";
    return NULL;
}

const char *green_tls_version(const green_tls_t *t)
{
    return SSL_get_version(t->ssl);
}

const char *green_tls_cipher(const green_tls_t *t)
{
    return SSL_get_cipher_name(t->ssl);
}

char *green_tls_peer_subject(const green_tls_t *t, char *buf, size_t n)
{
    X509 *cert = SSL_get0_peer_certificate(t->ssl);
    if (!cert || n == 0)
        return NULL;
    BIO *mem = BIO_new(BIO_s_mem());
    if (!mem)
        return NULL;
    X509_NAME_print_ex(mem, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
    int len = BIO_read(mem, buf, clamp(n - 1));
    buf[len > 0 ? len : 0] = '\0';
    BIO_free(mem);
    return buf;
}

/* ---- The sniff ------------------------------------------------------------ */

/* Every TLS connection opens with a handshake record: content type 22. */
#define TLS_HANDSHAKE_RECORD 0x16

int green_tls_sniff(int fd, double timeout)
{
    double deadline = green__deadline(timeout);
    int callers_errno = errno;
    for (;;) {
        unsigned char first;
        ssize_t n = recv(fd, &first, 1, MSG_PEEK);
        if (n == 1)
            return (int)success(first == TLS_HANDSHAKE_RECORD, callers_errno);
        if (n == 0) {
            errno = ECONNRESET;     /* closed before saying anything */
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        if (green_wait_read(fd, green__time_left(deadline)) != 0)
            return -1;
    }
}

/* ---- The handover table --------------------------------------------------- */

/* Indexed by descriptor, as the kernel's own table is; grown on demand,
 * and freed when its last entry goes, so a thread leaves nothing behind. */
static _Thread_local green_tls_t **attached;
static _Thread_local int attached_cap, attached_count;

int green_tls_attach(int fd, green_tls_t *t)
{
    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    if (fd >= attached_cap) {
        if (!t)
            return 0;
        int cap = fd < 64 ? 64 : 2 * fd;
        green_tls_t **grown = realloc(attached, (size_t)cap * sizeof *grown);
        if (!grown) {
            errno = ENOMEM;
            return -1;
        }
        memset(grown + attached_cap, 0, (size_t)(cap - attached_cap) * sizeof *grown);
        attached = grown;
        attached_cap = cap;
    }
    attached_count += (t != NULL) - (attached[fd] != NULL);
    attached[fd] = t;
    if (attached_count == 0) {
        free(attached);
        attached = NULL;
        attached_cap = 0;
    }
    return 0;
}

green_tls_t *green_tls_of(int fd)
{
    return fd >= 0 && fd < attached_cap ? attached[fd] : NULL;
}
