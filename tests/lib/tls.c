/*
 * tests/lib/tls.c - the library's own tests of chapter 4's cooperative TLS
 * (tls.h): contexts and certificate files, the handshake and what it
 * verifies, recv/send/sendall over the WANT_READ/WANT_WRITE loop, the two
 * ends of a stream (close_notify or a bare close), ALPN and versions,
 * timeouts and kills, telling TLS from plain text, OpenSSL's own buffer
 * (pending, wait_read), the handover table, 1,000 connections at once, and
 * real peers: openssl s_client, curl, and openssl s_server.
 *
 * Certificates are made at test time by tests/tls-certs.sh (through
 * kit_tls_certs(): a CA of our own, cert.pem for localhost and 127.0.0.1,
 * other.pem for wrong.example).  Everything talks over 127.0.0.1 on ports
 * the kernel picks, and every test ends with green_hub_destroy().
 */
#include "harness.h"
#include "green.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ssl.h>

#define LESSON "chapters/04-io/README.md"
#define SEE_TLS KIT_LESSON(LESSON, "TLS: the same trick")
#define SEE_DEFAULTS KIT_LESSON(LESSON, "Secure defaults, and what each one stops")
#define SEE_BUFFER KIT_LESSON(LESSON, "OpenSSL's own buffer: pending and wait_read")

/* ---- Certificates, contexts and connected pairs ------------------------ */

/* The files tests/tls-certs.sh made: once per test case, in the process
 * that forks the tests (an unchecked fixture), so that 24 tests do not
 * make 24 CAs. */
static struct {
    char ca[128], cert[128], key[128], other[128], other_key[128];
} pem;

static void certs_setup(void)
{
    const char *dir = kit_tls_certs();
    snprintf(pem.ca, sizeof pem.ca, "%s/ca.pem", dir);
    snprintf(pem.cert, sizeof pem.cert, "%s/cert.pem", dir);
    snprintf(pem.key, sizeof pem.key, "%s/key.pem", dir);
    snprintf(pem.other, sizeof pem.other, "%s/other.pem", dir);
    snprintf(pem.other_key, sizeof pem.other_key, "%s/other.key", dir);
}

static green_tls_ctx_t *server_ctx_of(const char *cert, const char *key)
{
    green_tls_ctx_t *ctx = green_tls_server_ctx(cert, key);
    ck_assert_msg(ctx != NULL, "green_tls_server_ctx(%s, %s): expected a context, got NULL "
                  "(%s: %s)", cert, key, strerror(errno), green_tls_error());
    return ctx;
}

static green_tls_ctx_t *server_ctx(void)
{
    return server_ctx_of(pem.cert, pem.key);
}

/* A client that trusts our CA, and only it. */
static green_tls_ctx_t *client_ctx(void)
{
    green_tls_ctx_t *ctx = green_tls_client_ctx(pem.ca);
    ck_assert_msg(ctx != NULL, "green_tls_client_ctx(%s): expected a context, got NULL (%s: %s)",
                  pem.ca, strerror(errno), green_tls_error());
    return ctx;
}

/* What a call gave: its answer, errno, and OpenSSL's reason, copied at
 * once (green_tls_error() is only good until the next call in the thread,
 * and both ends of a test run in one thread). */
struct outcome {
    int rc, err;
    char why[256];
};

static void note(struct outcome *o, int rc)
{
    o->rc = rc;
    o->err = errno;
    snprintf(o->why, sizeof o->why, "%s", rc < 0 ? green_tls_error() : "");
}

#define assert_handshake_ok(o, who)                                                  \
    ck_assert_msg((o).rc == 0, "%s's handshake: expected 0, got %d (%s; OpenSSL: "  \
                  "'%s'); " SEE_TLS, (who), (o).rc, kit_why((o).rc, (o).err), (o).why)

#define assert_refused(o, who)                                                       \
    ck_assert_msg((o).rc == -1 && (o).err == EPROTO && (o).why[0],                  \
                  "%s's handshake: expected -1 with EPROTO and OpenSSL's reason, "  \
                  "got %d (%s; reason '%s'); " SEE_DEFAULTS, (who), (o).rc,         \
                  kit_why((o).rc, (o).err), (o).why)

/* A client that refused the server's certificate, and OpenSSL's reason
 * says that its verification failed. */
static void assert_unverified(const struct outcome *o, const char *who)
{
    assert_refused(*o, who);
    ck_assert_msg(strstr(o->why, "verify"), "expected green_tls_error() to mention the "
                  "verification, got '%s'", o->why);
}

struct side {
    green_tls_t *t;
    double timeout;
    struct outcome o;
};

static void *handshake_side(void *arg)
{
    struct side *s = arg;
    note(&s->o, green_tls_handshake(s->t, s->timeout));
    return NULL;
}

/* Both ends of one TLS connection over a TCP pair: the client c on cfd,
 * the server s on sfd, and the outcomes of their handshakes. */
struct pair {
    int cfd, sfd;
    green_tls_t *c, *s;
    struct outcome client, server;
    green_tls_ctx_t *own[2];    /* contexts made by pair_default, freed by pair_close */
};

/* Both handshakes at once, as two peers do them: the server's in a
 * greenlet of its own, the client's here. */
static void pair_handshake(struct pair *p)
{
    struct side server = { .t = p->s, .timeout = 5.0 };
    green_t *g = green_spawn(handshake_side, &server);
    note(&p->client, green_tls_handshake(p->c, 5.0));
    if (p->client.rc != 0)
        shutdown(p->cfd, SHUT_WR);      /* a client that gave up silently: the server sees EOF */
    green_join(g, 5.0);
    green_free(g);
    p->server = server.o;
}

/* A fresh TCP pair, its client made from cctx for `host`, its server
 * from sctx, and both handshakes (their outcomes in client and server). */
static void pair_open(struct pair *p, green_tls_ctx_t *cctx, const char *host,
                      green_tls_ctx_t *sctx)
{
    kit_tcp_pair(&p->cfd, &p->sfd);
    p->c = green_tls_new(cctx, p->cfd, host);
    p->s = green_tls_new(sctx, p->sfd, NULL);
    p->own[0] = p->own[1] = NULL;
    ck_assert_msg(p->c && p->s, "green_tls_new: expected two connections, got %p and %p (%s)",
                  (void *)p->c, (void *)p->s, strerror(errno));
    pair_handshake(p);
}

/* Both ends freed and closed (an end already gone is NULL and -1), and
 * the contexts the pair owns. */
static void pair_close(struct pair *p)
{
    green_tls_free(p->c);
    green_tls_free(p->s);
    if (p->cfd >= 0)
        close(p->cfd);
    if (p->sfd >= 0)
        close(p->sfd);
    green_tls_ctx_free(p->own[0]);
    green_tls_ctx_free(p->own[1]);
}

/* A pair that must succeed. */
static void pair_ok(struct pair *p, green_tls_ctx_t *cctx, const char *host,
                    green_tls_ctx_t *sctx)
{
    pair_open(p, cctx, host, sctx);
    assert_handshake_ok(p->client, "the client");
    assert_handshake_ok(p->server, "the server");
}

/* The pair most tests need: our server, a client that trusts our CA and
 * asks for localhost, both handshakes done.  Its contexts are its own. */
static void pair_default(struct pair *p)
{
    green_tls_ctx_t *sctx = server_ctx(), *cctx = client_ctx();
    pair_ok(p, cctx, "localhost", sctx);
    p->own[0] = sctx;
    p->own[1] = cctx;
}

/* The server goes without a word: no close_notify, its socket closed. */
static void pair_drop_server(struct pair *p)
{
    green_tls_free(p->s);
    close(p->sfd);
    p->s = NULL;
    p->sfd = -1;
}

/* Read exactly n bytes (a recv may return fewer: one record at a time). */
static ssize_t recv_exactly(green_tls_t *t, void *buf, size_t n, double timeout)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = green_tls_recv(t, (char *)buf + got, n - got, timeout);
        if (r <= 0)
            return r;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static int is_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags >= 0 && (flags & O_NONBLOCK);
}

/* ---- Contexts ------------------------------------------------------------ */

START_TEST(test_contexts_from_files)
{
    green_tls_ctx_t *s = server_ctx(), *c = client_ctx();
    ck_assert_msg(green_tls_ctx_ssl(s) != NULL && green_tls_ctx_ssl(c) != NULL,
                  "green_tls_ctx_ssl: expected OpenSSL's SSL_CTX, got NULL");
    green_tls_ctx_t *system = green_tls_client_ctx(NULL);
    ck_assert_msg(system != NULL, "green_tls_client_ctx(NULL) (the system's CA store): expected a "
                  "context, got NULL (%s: %s)", strerror(errno), green_tls_error());
    green_tls_ctx_t *insecure = green_tls_client_ctx_insecure();
    ck_assert_msg(insecure != NULL, "green_tls_client_ctx_insecure: expected a context, got NULL");
    green_tls_ctx_free(s);
    green_tls_ctx_free(c);
    green_tls_ctx_free(system);
    green_tls_ctx_free(insecure);
    green_tls_ctx_free(NULL);                   /* like free(NULL) */
}
END_TEST

START_TEST(test_missing_file_enoent)
{
    const char *nowhere = "/nonexistent/kit/cert.pem";
    errno = 0;
    green_tls_ctx_t *ctx = green_tls_server_ctx(nowhere, pem.key);
    ck_assert_msg(!ctx && errno == ENOENT, "green_tls_server_ctx(missing cert): expected NULL "
                  "with ENOENT, got %p (%s)", (void *)ctx, strerror(errno));
    errno = 0;
    ctx = green_tls_server_ctx(pem.cert, nowhere);
    ck_assert_msg(!ctx && errno == ENOENT, "green_tls_server_ctx(missing key): expected NULL "
                  "with ENOENT, got %p (%s)", (void *)ctx, strerror(errno));
    errno = 0;
    ctx = green_tls_client_ctx(nowhere);
    ck_assert_msg(!ctx && errno == ENOENT, "green_tls_client_ctx(missing CA file): expected NULL "
                  "with ENOENT, got %p (%s)", (void *)ctx, strerror(errno));
}
END_TEST

START_TEST(test_refused_files_eproto)
{
    /* other.key is a good key, but not cert.pem's. */
    errno = 0;
    green_tls_ctx_t *ctx = green_tls_server_ctx(pem.cert, pem.other_key);
    int err = errno;
    ck_assert_msg(!ctx && err == EPROTO, "green_tls_server_ctx(cert.pem, other.key): a key that "
                  "does not match the certificate, expected NULL with EPROTO, got %p (%s)",
                  (void *)ctx, strerror(err));
    ck_assert_msg(green_tls_error()[0], "expected green_tls_error() to say why OpenSSL refused "
                  "the key, got \"\"");

    /* A file that is not PEM at all: refused, not missing. */
    char junk[160];
    snprintf(junk, sizeof junk, "%s.junk", pem.ca);
    FILE *f = fopen(junk, "w");
    ck_assert_msg(f != NULL, "test setup: cannot write %s", junk);
    fputs("this is not a certificate\n", f);
    fclose(f);
    errno = 0;
    ctx = green_tls_server_ctx(junk, pem.key);
    err = errno;
    ck_assert_msg(!ctx && err == EPROTO && green_tls_error()[0],
                  "green_tls_server_ctx(a text file): expected NULL with EPROTO and a reason, "
                  "got %p (%s, '%s')", (void *)ctx, strerror(err), green_tls_error());
    errno = 0;
    ctx = green_tls_client_ctx(junk);
    err = errno;
    ck_assert_msg(!ctx && err == EPROTO, "green_tls_client_ctx(a text file): expected NULL with "
                  "EPROTO, got %p (%s)", (void *)ctx, strerror(err));
    unlink(junk);
}
END_TEST

/* ---- Connections: what green_tls_new, _free and _close do ---------------- */

START_TEST(test_new_free_close)
{
    green_tls_ctx_t *sctx = server_ctx(), *cctx = client_ctx();
    int a, b;
    kit_tcp_pair(&a, &b);

    /* A server has no name to check. */
    errno = 0;
    green_tls_t *t = green_tls_new(sctx, b, "localhost");
    ck_assert_msg(!t && errno == EINVAL, "green_tls_new(server context, fd, \"localhost\"): "
                  "expected NULL with EINVAL, got %p (%s)", (void *)t, strerror(errno));

    /* The descriptor is made non-blocking, and stays the caller's. */
    fcntl(a, F_SETFL, fcntl(a, F_GETFL) & ~O_NONBLOCK);
    green_tls_t *c = green_tls_new(cctx, a, "localhost");
    green_tls_t *s = green_tls_new(sctx, b, NULL);
    ck_assert_msg(c && s, "green_tls_new: expected connections, got NULL (%s)", strerror(errno));
    ck_assert_msg(is_nonblocking(a), "expected green_tls_new to make its descriptor non-blocking");
    ck_assert_msg(green_tls_fd(c) == a && green_tls_fd(s) == b,
                  "green_tls_fd: expected %d and %d, got %d and %d", a, b, green_tls_fd(c),
                  green_tls_fd(s));

    /* Contexts may go before their connections (OpenSSL counts them). */
    green_tls_ctx_free(sctx);
    green_tls_ctx_free(cctx);
    struct pair p = { .cfd = a, .sfd = b, .c = c, .s = s };
    pair_handshake(&p);
    assert_handshake_ok(p.client, "the client (its context freed)");
    assert_handshake_ok(p.server, "the server (its context freed)");

    /* free leaves the descriptor open; close sends close_notify and closes it. */
    green_tls_free(s);
    ck_assert_msg(fcntl(b, F_GETFD) != -1, "expected green_tls_free to leave the descriptor open");
    int rc = green_tls_close(c);
    ck_assert_msg(rc == 0, "green_tls_close: expected 0, got %d (%s)", rc, kit_why(rc, errno));
    ck_assert_msg(fcntl(a, F_GETFD) == -1 && errno == EBADF,
                  "expected green_tls_close to close its descriptor");
    char byte;
    ck_assert_msg(recv(b, &byte, 1, 0) == 1, "expected green_tls_close to send a close_notify "
                  "before closing (the server's socket got nothing)");
    close(b);
    green_hub_destroy();
}
END_TEST

/* ---- Verification ------------------------------------------------------- */

START_TEST(test_verify_against_our_ca)
{
    green_tls_ctx_t *sctx = server_ctx(), *cctx = client_ctx();
    const char *hosts[] = { "localhost", "127.0.0.1", NULL };
    for (int i = 0; i < 3; i++) {
        struct pair p;
        pair_ok(&p, cctx, hosts[i], sctx);
        char subject[128];
        const char *got = green_tls_peer_subject(p.c, subject, sizeof subject);
        ck_assert_msg(got == subject && strstr(subject, "CN=localhost"),
                      "host %s: green_tls_peer_subject: expected \"CN=localhost\", got \"%s\"",
                      hosts[i] ? hosts[i] : "NULL", got ? got : "(NULL)");
        got = green_tls_peer_subject(p.s, subject, sizeof subject);
        ck_assert_msg(got == NULL, "expected the server's green_tls_peer_subject to be NULL "
                      "(the client sent no certificate), got \"%s\"", got);
        pair_close(&p);
    }
    green_tls_ctx_free(sctx);
    green_tls_ctx_free(cctx);
    green_hub_destroy();
}
END_TEST

START_TEST(test_verify_wrong_name)
{
    green_tls_ctx_t *sctx = server_ctx(), *cctx = client_ctx();
    struct pair p;
    pair_open(&p, cctx, "wrong.example", sctx);
    assert_unverified(&p.client, "a client expecting wrong.example from a certificate for "
                      "localhost");
    ck_assert_msg(p.server.rc == -1, "expected the server's handshake to fail too (the client "
                  "sent an alert), got %d", p.server.rc);
    pair_close(&p);

    /* The other way round: a certificate for another name, signed by our CA. */
    green_tls_ctx_t *other = server_ctx_of(pem.other, pem.other_key);
    pair_open(&p, cctx, "localhost", other);
    assert_unverified(&p.client, "a client expecting localhost from wrong.example's certificate");
    pair_close(&p);
    green_tls_ctx_free(other);
    green_tls_ctx_free(sctx);
    green_tls_ctx_free(cctx);
    green_hub_destroy();
}
END_TEST

START_TEST(test_system_store_refuses_our_ca)
{
    green_tls_ctx_t *sctx = server_ctx(), *cctx = green_tls_client_ctx(NULL);
    ck_assert_msg(cctx != NULL, "green_tls_client_ctx(NULL): %s", strerror(errno));
    struct pair p;
    pair_open(&p, cctx, "localhost", sctx);
    assert_unverified(&p.client, "a client trusting only the system's CAs, facing our own CA's "
                      "certificate");
    pair_close(&p);
    green_tls_ctx_free(sctx);
    green_tls_ctx_free(cctx);
    green_hub_destroy();
}
END_TEST

START_TEST(test_insecure_accepts_anything)
{
    green_tls_ctx_t *sctx = server_ctx(), *other = server_ctx_of(pem.other, pem.other_key);
    green_tls_ctx_t *cctx = green_tls_client_ctx_insecure();
    struct pair p;
    pair_ok(&p, cctx, "wrong.example", sctx);           /* any name */
    pair_close(&p);
    pair_ok(&p, cctx, "localhost", other);
    pair_close(&p);
    pair_ok(&p, cctx, NULL, other);
    pair_close(&p);
    green_tls_ctx_free(sctx);
    green_tls_ctx_free(other);
    green_tls_ctx_free(cctx);
    green_hub_destroy();
}
END_TEST

/* ---- What was negotiated: ALPN, versions -------------------------------- */

/* A client context that offers protos in ALPN (wire format: a length
 * byte before each name). */
static green_tls_ctx_t *client_offering(const char *protos, size_t len)
{
    green_tls_ctx_t *ctx = client_ctx();
    ck_assert_int_eq(SSL_CTX_set_alpn_protos(green_tls_ctx_ssl(ctx), (const unsigned char *)protos,
                                             (unsigned)len), 0);
    return ctx;
}

static const char *text(const char *s) { return s ? s : "(NULL)"; }

START_TEST(test_alpn)
{
    green_tls_ctx_t *sctx = server_ctx();
    static const char both[] = "\x02h2\x08http/1.1", h2[] = "\x02h2";
    green_tls_ctx_t *offers_both = client_offering(both, sizeof both - 1);
    green_tls_ctx_t *offers_h2 = client_offering(h2, sizeof h2 - 1);
    green_tls_ctx_t *offers_none = client_ctx();

    struct pair p;
    pair_ok(&p, offers_both, "localhost", sctx);
    ck_assert_msg(green_tls_alpn(p.c) && strcmp(green_tls_alpn(p.c), "http/1.1") == 0 &&
                  green_tls_alpn(p.s) && strcmp(green_tls_alpn(p.s), "http/1.1") == 0,
                  "a client offering h2 and http/1.1: expected ALPN \"http/1.1\" on both ends, "
                  "got %s (client) and %s (server)", text(green_tls_alpn(p.c)),
                  text(green_tls_alpn(p.s)));
    pair_close(&p);

    pair_ok(&p, offers_none, "localhost", sctx);
    ck_assert_msg(!green_tls_alpn(p.c) && !green_tls_alpn(p.s), "a client offering no ALPN: "
                  "expected NULL on both ends, got %s and %s", text(green_tls_alpn(p.c)),
                  text(green_tls_alpn(p.s)));
    pair_close(&p);

    /* Nothing the server knows: it goes on without ALPN. */
    pair_ok(&p, offers_h2, "localhost", sctx);
    ck_assert_msg(!green_tls_alpn(p.c) && !green_tls_alpn(p.s), "a client offering only h2: "
                  "expected the handshake to go on without ALPN (NULL), got %s and %s",
                  text(green_tls_alpn(p.c)), text(green_tls_alpn(p.s)));
    pair_close(&p);

    green_tls_ctx_free(sctx);
    green_tls_ctx_free(offers_both);
    green_tls_ctx_free(offers_h2);
    green_tls_ctx_free(offers_none);
    green_hub_destroy();
}
END_TEST

START_TEST(test_versions)
{
    green_tls_ctx_t *sctx = server_ctx(), *cctx = client_ctx();
    struct pair p;
    pair_ok(&p, cctx, "localhost", sctx);
    const char *v = green_tls_version(p.c), *cipher = green_tls_cipher(p.c);
    ck_assert_msg(v && (strcmp(v, "TLSv1.3") == 0 || strcmp(v, "TLSv1.2") == 0),
                  "expected TLSv1.2 or TLSv1.3, got %s", text(v));
    ck_assert_msg(cipher && cipher[0] && strcmp(cipher, "(NONE)") != 0,
                  "expected the cipher's name, got %s", text(cipher));
    pair_close(&p);

    /* A client that stops at 1.2 still gets through, with 1.2. */
    green_tls_ctx_t *up_to_12 = client_ctx();
    SSL_CTX_set_max_proto_version(green_tls_ctx_ssl(up_to_12), TLS1_2_VERSION);
    pair_ok(&p, up_to_12, "localhost", sctx);
    ck_assert_msg(strcmp(green_tls_version(p.s), "TLSv1.2") == 0, "a client limited to TLS 1.2: "
                  "expected TLSv1.2, got %s", green_tls_version(p.s));
    pair_close(&p);

    /* A client that speaks at most 1.1 (its own security level lowered so
     * that it really sends a TLS 1.1 hello): the server refuses it. */
    green_tls_ctx_t *old = client_ctx();
    SSL_CTX *ssl = green_tls_ctx_ssl(old);
    SSL_CTX_set_security_level(ssl, 0);
    SSL_CTX_set_min_proto_version(ssl, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(ssl, TLS1_1_VERSION);
    pair_open(&p, old, "localhost", sctx);
    assert_refused(p.client, "a TLS 1.1 client");
    ck_assert_msg(p.server.rc == -1, "expected the server to refuse a TLS 1.1 client "
                  "(secure defaults: 1.2 and 1.3 only), its handshake returned %d", p.server.rc);
    pair_close(&p);

    green_tls_ctx_free(sctx);
    green_tls_ctx_free(cctx);
    green_tls_ctx_free(up_to_12);
    green_tls_ctx_free(old);
    green_hub_destroy();
}
END_TEST

/* ---- Moving bytes -------------------------------------------------------- */

START_TEST(test_send_recv)
{
    struct pair p;
    pair_default(&p);
    int saved = errno = 12345;                  /* success leaves errno alone */
    ssize_t n = green_tls_send(p.c, "hello", 5, 2.0);
    ck_assert_msg(n == 5, "green_tls_send(\"hello\"): expected 5, got %zd (%s)", n,
                  kit_why(n, errno));
    char buf[64];
    n = green_tls_recv(p.s, buf, sizeof buf, 2.0);
    ck_assert_msg(n == 5 && memcmp(buf, "hello", 5) == 0,
                  "green_tls_recv: expected \"hello\", got %zd bytes (%s)", n, kit_why(n, errno));
    ck_assert_msg(errno == saved, "expected a successful send and recv to leave errno alone, "
                  "it became %d", errno);

    /* One send writes at most a record's worth (16 KiB), like send() on a
     * socket: the caller loops, or calls sendall. */
    static char big[100000];
    n = green_tls_send(p.c, big, sizeof big, 2.0);
    ck_assert_msg(n >= 1 && n <= (ssize_t)sizeof big, "green_tls_send(100000 bytes): expected "
                  "between 1 and 100000, got %zd (%s)", n, kit_why(n, errno));
    static char back[100000];
    ck_assert_int_eq(recv_exactly(p.s, back, (size_t)n, 2.0), n);
    pair_close(&p);
    green_hub_destroy();
}
END_TEST

#define BIG ((size_t)4 << 20)

static unsigned char pattern(size_t i) { return (unsigned char)(i * 7 % 251); }

/* The server's half of test_big_both_ways: read size bytes, check them,
 * send them back, say close_notify, and wait for the client's. */
struct bouncer {
    green_tls_t *t;
    size_t size, got, bad_at;
    ssize_t sent, end;
    int clean, err;
};

static void *bounce(void *arg)
{
    struct bouncer *b = arg;
    unsigned char *buf = malloc(b->size);
    b->bad_at = b->size;
    b->sent = b->end = -2;
    if (recv_exactly(b->t, buf, b->size, 30.0) == (ssize_t)b->size)
        b->got = b->size;
    for (size_t i = 0; i < b->got && b->bad_at == b->size; i++)
        if (buf[i] != pattern(i))
            b->bad_at = i;
    b->sent = green_tls_sendall(b->t, buf, b->got, 30.0);
    b->err = errno;
    green_tls_shutdown(b->t, 2.0);
    char byte;
    b->end = green_tls_recv(b->t, &byte, 1, 5.0);
    b->clean = green_tls_clean_eof(b->t);
    free(buf);
    return NULL;
}

/* Socket buffers of 16 KiB: 4 MiB cannot fit, so each sendall must park
 * on WANT_WRITE many times, and each reader on WANT_READ. */
static void small_buffers(int fd)
{
    int size = 16384;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

START_TEST(test_big_both_ways)
{
    size_t big = kit_valgrind() ? BIG / 4 : BIG;
    struct pair p;
    pair_default(&p);
    small_buffers(p.cfd);
    small_buffers(p.sfd);
    unsigned char *out = malloc(big), *in = malloc(big);
    for (size_t i = 0; i < big; i++)
        out[i] = pattern(i);

    struct bouncer b = { .t = p.s, .size = big };
    green_t *g = green_spawn(bounce, &b);
    ssize_t n = green_tls_sendall(p.c, out, big, 30.0);
    ck_assert_msg(n == (ssize_t)big, "green_tls_sendall(4 MiB) to a reader in another greenlet: "
                  "expected %zu, got %zd (%s); " SEE_TLS, big, n, kit_why(n, errno));
    n = recv_exactly(p.c, in, big, 30.0);
    ck_assert_msg(n == (ssize_t)big, "reading 4 MiB back: expected %zu, got %zd (%s)", big, n,
                  kit_why(n, errno));
    ck_assert_msg(b.got == big && b.bad_at == big, "the server read %zu of %zu bytes, the first "
                  "wrong one at %zu", b.got, big, b.bad_at);
    ck_assert_msg(memcmp(in, out, big) == 0, "expected the 4 MiB to come back as sent");

    /* The server's close_notify: recv says 0, and clean_eof tells it apart from a cut. */
    ck_assert_msg(green_tls_clean_eof(p.c) == 0, "expected clean_eof 0 before the end");
    char byte;
    n = green_tls_recv(p.c, &byte, 1, 5.0);
    ck_assert_msg(n == 0 && green_tls_clean_eof(p.c) == 1, "after the server's close_notify: "
                  "expected recv 0 and clean_eof 1, got %zd (%s) and %d", n, kit_why(n, errno),
                  green_tls_clean_eof(p.c));
    ck_assert_int_eq(green_tls_recv(p.c, &byte, 1, 1.0), 0);     /* and it stays ended */
    int rc = green_tls_shutdown(p.c, 2.0);
    ck_assert_msg(rc == 0, "green_tls_shutdown: expected 0, got %d (%s)", rc, kit_why(rc, errno));
    green_join(g, 5.0);
    ck_assert_msg(b.sent == (ssize_t)big, "the server's sendall: expected %zu, got %zd (%s)", big,
                  b.sent, kit_why(b.sent, b.err));
    ck_assert_msg(b.end == 0 && b.clean == 1, "after the client's close_notify, the server "
                  "expected recv 0 and clean_eof 1, got %zd and %d", b.end, b.clean);
    green_free(g);
    free(out);
    free(in);
    pair_close(&p);
    green_hub_destroy();
}
END_TEST

START_TEST(test_bare_close_is_a_ragged_eof)
{
    struct pair p;
    pair_default(&p);
    ck_assert_int_eq(green_tls_sendall(p.s, "last words", 10, 2.0), 10);
    pair_drop_server(&p);                       /* no close_notify: just close */
    char buf[32];
    ck_assert_int_eq(recv_exactly(p.c, buf, 10, 2.0), 10);
    ssize_t n = green_tls_recv(p.c, buf, sizeof buf, 2.0);
    ck_assert_msg(n == 0 && green_tls_clean_eof(p.c) == 0, "a peer that closed without "
                  "close_notify: expected recv 0 (the end, as Python's suppress_ragged_eofs) and "
                  "clean_eof 0, got %zd (%s) and %d; " SEE_DEFAULTS, n, kit_why(n, errno),
                  green_tls_clean_eof(p.c));
    pair_close(&p);
    green_hub_destroy();
}
END_TEST

START_TEST(test_reset_peer)
{
    struct pair p;
    pair_default(&p);
    struct linger now = { .l_onoff = 1, .l_linger = 0 };
    setsockopt(p.sfd, SOL_SOCKET, SO_LINGER, &now, sizeof now);   /* close sends RST */
    pair_drop_server(&p);
    char buf[32];
    ssize_t n = green_tls_recv(p.c, buf, sizeof buf, 2.0);
    int err = errno;
    ck_assert_msg(n == -1 && err == ECONNRESET, "recv from a peer that reset the connection: "
                  "expected -1 with ECONNRESET, got %zd (%s)", n, kit_why(n, err));
    n = green_tls_send(p.c, "x", 1, 2.0);
    err = errno;
    ck_assert_msg(n == -1 && (err == EPIPE || err == ECONNRESET), "send to a peer that reset the "
                  "connection: expected -1 with EPIPE or ECONNRESET, got %zd (%s)", n,
                  kit_why(n, err));
    pair_close(&p);
    green_hub_destroy();
}
END_TEST

/* ---- OpenSSL's own buffer: pending and wait_read ------------------------ */

START_TEST(test_wait_read_sees_buffered_plaintext)
{
    struct pair p;
    pair_default(&p);
    ck_assert_int_eq(green_tls_send(p.s, "abcd", 4, 2.0), 4);     /* one record */
    char c;
    ck_assert_int_eq(green_tls_recv(p.c, &c, 1, 2.0), 1);
    ck_assert_msg(c == 'a' && green_tls_pending(p.c) == 3, "after reading 1 byte of a 4-byte "
                  "record: expected 3 bytes pending inside OpenSSL, got %zu", green_tls_pending(p.c));

    /* The socket is empty: OpenSSL already took the whole record.  Waiting
     * on the descriptor would wait for bytes that have already arrived. */
    int rc = green_wait_read(p.cfd, 0.2);
    ck_assert_msg(rc == -1 && errno == ETIMEDOUT, "expected the descriptor alone to show nothing "
                  "to read (the record sits in OpenSSL), green_wait_read gave %d (%s)", rc,
                  kit_why(rc, errno));
    rc = green_tls_wait_read(p.c, 1.0);
    ck_assert_msg(rc == 0, "green_tls_wait_read with 3 bytes pending: expected 0 at once, got %d "
                  "(%s); " SEE_BUFFER, rc, kit_why(rc, errno));
    char rest[8];
    ck_assert_int_eq(green_tls_recv(p.c, rest, sizeof rest, 2.0), 3);
    ck_assert_msg(green_tls_pending(p.c) == 0, "expected nothing pending once all is read");

    /* Two records: reading 1 byte takes the first one whole, and its rest
     * is pending while the second still waits in the socket. */
    ck_assert_int_eq(green_tls_send(p.s, "ef", 2, 2.0), 2);
    ck_assert_int_eq(green_tls_send(p.s, "gh", 2, 2.0), 2);
    ck_assert_int_eq(green_tls_recv(p.c, &c, 1, 2.0), 1);
    ck_assert_msg(c == 'e' && green_tls_pending(p.c) >= 1, "after reading 1 byte of two 2-byte "
                  "records: expected 'e' and at least 1 byte pending, got '%c' and %zu", c,
                  green_tls_pending(p.c));
    rc = green_tls_wait_read(p.c, 1.0);
    ck_assert_msg(rc == 0, "green_tls_wait_read with bytes pending: expected 0, got %d (%s); "
                  SEE_BUFFER, rc, kit_why(rc, errno));
    ck_assert_int_eq(recv_exactly(p.c, rest, 3, 2.0), 3);
    ck_assert_msg(memcmp(rest, "fgh", 3) == 0, "expected \"fgh\" after 'e', got \"%.3s\"", rest);

    /* Nothing pending, nothing coming: it waits on the descriptor. */
    rc = green_tls_wait_read(p.c, 0.2);
    ck_assert_msg(rc == -1 && errno == ETIMEDOUT, "green_tls_wait_read with nothing to read: "
                  "expected -1 with ETIMEDOUT, got %d (%s)", rc, kit_why(rc, errno));
    pair_close(&p);
    green_hub_destroy();
}
END_TEST

/* ---- Timeouts and kills --------------------------------------------------- */

/* The handshake of one end of a TCP pair whose other end never says a
 * word: a client's (for host) or, with host NULL, a server's. */
static void handshake_with_silence(struct outcome *o, green_tls_ctx_t *ctx, const char *host,
                                   double timeout)
{
    int a, b;
    kit_tcp_pair(&a, &b);
    green_tls_t *t = green_tls_new(ctx, host ? a : b, host);
    note(o, green_tls_handshake(t, timeout));
    green_tls_free(t);
    close(a);
    close(b);
}

START_TEST(test_handshake_timeout)
{
    green_tls_ctx_t *sctx = server_ctx(), *cctx = client_ctx();
    struct outcome o;

    /* A server that accepted and never answers.  The timeout must leave
     * time to write the hello (a key to make: slow under Valgrind) and
     * then park, so that the ticker can tick. */
    double timeout = kit_valgrind() ? 5.0 : 0.5;
    green_t *ticker = kit_ticker_start(0.01);
    handshake_with_silence(&o, cctx, "localhost", timeout);
    int ticks = kit_ticker_stop(ticker);
    ck_assert_msg(o.rc == -1 && o.err == ETIMEDOUT, "a client's handshake with a silent server: "
                  "expected -1 with ETIMEDOUT, got %d (%s)", o.rc, kit_why(o.rc, o.err));
    ck_assert_msg(ticks >= 1, "expected other greenlets to run while the handshake waited, a "
                  "ticker ticked %d times", ticks);

    /* A client that connects and never says hello (a TLS Slowloris). */
    handshake_with_silence(&o, sctx, NULL, 0.3);
    ck_assert_msg(o.rc == -1 && o.err == ETIMEDOUT, "a server's handshake with a silent client: "
                  "expected -1 with ETIMEDOUT, got %d (%s)", o.rc, kit_why(o.rc, o.err));
    green_tls_ctx_free(sctx);
    green_tls_ctx_free(cctx);
    green_hub_destroy();
}
END_TEST

START_TEST(test_recv_timeout)
{
    struct pair p;
    pair_default(&p);
    char buf[16];
    double t0 = green_now();
    ssize_t n = green_tls_recv(p.c, buf, sizeof buf, 0.3);
    int err = errno;
    double took = green_now() - t0;
    ck_assert_msg(n == -1 && err == ETIMEDOUT, "green_tls_recv with nothing coming: expected -1 "
                  "with ETIMEDOUT, got %zd (%s)", n, kit_why(n, err));
    ck_assert_msg(took >= 0.25, "expected green_tls_recv(timeout 0.3) to wait about 0.3 s, it "
                  "returned after %.0f ms", took * 1e3);

    /* A timeout of 0 tries once and never waits. */
    n = green_tls_recv(p.c, buf, sizeof buf, 0);
    err = errno;
    ck_assert_msg(n == -1 && err == ETIMEDOUT, "green_tls_recv(timeout 0) with nothing to read: "
                  "expected -1 with ETIMEDOUT, got %zd (%s)", n, kit_why(n, err));

    /* The connection is still good afterwards. */
    ck_assert_int_eq(green_tls_send(p.s, "late", 4, 2.0), 4);
    n = green_tls_recv(p.c, buf, sizeof buf, 2.0);
    ck_assert_msg(n == 4 && memcmp(buf, "late", 4) == 0, "after a timeout: expected \"late\", got "
                  "%zd (%s)", n, kit_why(n, errno));
    pair_close(&p);
    green_hub_destroy();
}
END_TEST

START_TEST(test_sendall_timeout)
{
    struct pair p;
    pair_default(&p);
    small_buffers(p.cfd);
    small_buffers(p.sfd);
    size_t big = (size_t)1 << 20;               /* far more than the buffers hold */
    char *buf = calloc(1, big);
    double t0 = green_now();
    ssize_t n = green_tls_sendall(p.c, buf, big, 0.3);
    int err = errno;
    double took = green_now() - t0;
    ck_assert_msg(n == -1 && err == ETIMEDOUT, "green_tls_sendall(1 MiB) to a peer that never "
                  "reads: expected -1 with ETIMEDOUT, got %zd (%s)", n, kit_why(n, err));
    ck_assert_msg(took >= 0.25, "expected green_tls_sendall(timeout 0.3) to wait about 0.3 s in "
                  "all, it returned after %.0f ms", took * 1e3);
    free(buf);
    pair_close(&p);
    green_hub_destroy();
}
END_TEST

struct reader {
    green_tls_t *t;
    ssize_t n;
    int err;
};

static void *recv_forever(void *arg)
{
    struct reader *r = arg;
    char buf[16];
    r->n = green_tls_recv(r->t, buf, sizeof buf, GREEN_FOREVER);
    r->err = errno;
    return NULL;
}

START_TEST(test_kill_in_recv)
{
    struct pair p;
    pair_default(&p);
    struct reader r = { .t = p.c, .n = -2 };
    green_t *g = green_spawn(recv_forever, &r);
    green_sleep(0.05);
    int rc = green_kill(g, 2.0);
    ck_assert_msg(rc == 0, "green_kill of a greenlet in green_tls_recv: expected 0, got %d (%s)",
                  rc, kit_why(rc, errno));
    ck_assert_msg(r.n == -1 && r.err == ECANCELED, "the killed greenlet's green_tls_recv: "
                  "expected -1 with ECANCELED, got %zd (%s)", r.n, kit_why(r.n, r.err));
    green_free(g);

    /* Nothing was lost: the session still works for someone else. */
    ck_assert_int_eq(green_tls_send(p.s, "ok", 2, 2.0), 2);
    char buf[4];
    ssize_t n = green_tls_recv(p.c, buf, sizeof buf, 2.0);
    ck_assert_msg(n == 2 && memcmp(buf, "ok", 2) == 0, "after the kill: expected \"ok\", got %zd "
                  "(%s)", n, kit_why(n, errno));
    pair_close(&p);
    green_hub_destroy();
}
END_TEST

/* ---- Telling TLS from plain text ------------------------------------------ */

START_TEST(test_sniff)
{
    green_tls_ctx_t *sctx = server_ctx(), *cctx = client_ctx();
    int a, b;

    /* A TLS client: 1, and the byte is still there for the handshake. */
    kit_tcp_pair(&a, &b);
    struct side client = { .t = green_tls_new(cctx, a, "localhost"), .timeout = 5.0 };
    green_t *g = green_spawn(handshake_side, &client);
    int rc = green_tls_sniff(b, 2.0);
    ck_assert_msg(rc == 1, "green_tls_sniff on a TLS client's connection: expected 1, got %d (%s)",
                  rc, kit_why(rc, errno));
    green_tls_t *s = green_tls_new(sctx, b, NULL);
    struct outcome server;
    note(&server, green_tls_handshake(s, 5.0));
    assert_handshake_ok(server, "the server, after the sniff (it must peek, not take)");
    green_join(g, 5.0);
    assert_handshake_ok(client.o, "the client, after the sniff");
    green_free(g);
    green_tls_free(client.t);
    green_tls_free(s);
    close(a);
    close(b);

    /* Plain HTTP sent to a TLS port: 0, and the request is still there. */
    kit_tcp_pair(&a, &b);
    ck_assert_int_eq(green_send(a, "GET / HTTP/1.1\r\n\r\n", 18, 1.0), 18);
    rc = green_tls_sniff(b, 2.0);
    ck_assert_msg(rc == 0, "green_tls_sniff on \"GET / HTTP/1.1\": expected 0, got %d (%s)", rc,
                  kit_why(rc, errno));
    char buf[32];
    ck_assert_msg(green_recv(b, buf, sizeof buf, 1.0) == 18 && memcmp(buf, "GET ", 4) == 0,
                  "expected the request to be still readable after the sniff");

    /* A client that says nothing: ETIMEDOUT. */
    rc = green_tls_sniff(b, 0.2);
    ck_assert_msg(rc == -1 && errno == ETIMEDOUT, "green_tls_sniff on a silent client: expected "
                  "-1 with ETIMEDOUT, got %d (%s)", rc, kit_why(rc, errno));

    /* A client that closes before saying anything. */
    close(a);
    rc = green_tls_sniff(b, 2.0);
    ck_assert_msg(rc == -1 && (errno == ECONNRESET || errno == EPIPE), "green_tls_sniff on a "
                  "client that closed: expected -1 with ECONNRESET or EPIPE, got %d (%s)", rc,
                  kit_why(rc, errno));
    close(b);
    green_tls_ctx_free(sctx);
    green_tls_ctx_free(cctx);
    green_hub_destroy();
}
END_TEST

/* ---- The handover table -------------------------------------------------- */

static void *of_in_thread(void *arg)
{
    return green_tls_of(*(int *)arg);
}

START_TEST(test_attach_of)
{
    green_tls_ctx_t *cctx = client_ctx();
    int a, b;
    kit_tcp_pair(&a, &b);
    green_tls_t *t = green_tls_new(cctx, a, "localhost");
    ck_assert_msg(green_tls_of(a) == NULL, "green_tls_of before any attach: expected NULL");
    ck_assert_int_eq(green_tls_attach(a, t), 0);
    ck_assert_msg(green_tls_of(a) == t, "green_tls_of after green_tls_attach(fd, t): expected t");
    ck_assert_msg(green_tls_of(b) == NULL, "green_tls_of another descriptor: expected NULL");

    /* The table is the thread's: another thread sees nothing. */
    pthread_t th;
    void *seen = (void *)1;
    pthread_create(&th, NULL, of_in_thread, &a);
    pthread_join(th, &seen);
    ck_assert_msg(seen == NULL, "green_tls_of in another thread: expected NULL (the table is "
                  "per thread), got %p", seen);

    ck_assert_int_eq(green_tls_attach(a, NULL), 0);
    ck_assert_msg(green_tls_of(a) == NULL, "green_tls_of after green_tls_attach(fd, NULL): "
                  "expected NULL");
    errno = 0;
    int rc = green_tls_attach(-1, t);
    ck_assert_msg(rc == -1 && errno == EBADF, "green_tls_attach(-1, t): expected -1 with EBADF, "
                  "got %d (%s)", rc, kit_why(rc, errno));
    ck_assert_msg(green_tls_of(-1) == NULL, "green_tls_of(-1): expected NULL");
    green_tls_free(t);
    close(a);
    close(b);
    green_tls_ctx_free(cctx);
    green_hub_destroy();
}
END_TEST

/* ---- 1,000 connections at once ------------------------------------------- */

static int many_done, many_failed;
static char many_failure[160];

static void *many_handler(void *arg)
{
    green_tls_t *t = arg;
    char buf[64];
    ssize_t n;
    if (green_tls_handshake(t, 20.0) == 0)
        while ((n = green_tls_recv(t, buf, sizeof buf, 20.0)) > 0)
            if (green_tls_sendall(t, buf, (size_t)n, 20.0) < 0)
                break;
    green_tls_close(t);
    return NULL;
}

struct many_server {
    int listener, n;
    green_tls_ctx_t *ctx;
};

static void *many_server(void *arg)
{
    struct many_server *m = arg;
    for (int i = 0; i < m->n; i++) {
        int fd = green_accept(m->listener, NULL, NULL, 20.0);
        if (fd < 0)
            return NULL;
        green_tls_t *t = green_tls_new(m->ctx, fd, NULL);
        if (t)
            green_detach(green_spawn(many_handler, t));
        else
            close(fd);                  /* its client fails, and says so */
    }
    return NULL;
}

struct many_client {
    const char *port;
    green_tls_ctx_t *ctx;
    int id;
};

static void many_fail(const char *what, int id)
{
    many_failed++;
    if (!many_failure[0])
        snprintf(many_failure, sizeof many_failure, "client %d: %s: %s ('%s')", id, what,
                 strerror(errno), green_tls_error());
}

static void *many_client(void *arg)
{
    struct many_client *c = arg;
    int fd = green_tcp_connect("127.0.0.1", c->port, 20.0);
    if (fd < 0) {
        many_fail("connect", c->id);
        return NULL;
    }
    green_tls_t *t = green_tls_new(c->ctx, fd, "localhost");
    if (!t) {
        many_fail("green_tls_new", c->id);
        close(fd);
        return NULL;
    }
    char msg[32], back[32];
    int len = snprintf(msg, sizeof msg, "client %d", c->id);
    if (green_tls_handshake(t, 20.0) != 0)
        many_fail("handshake", c->id);
    else if (green_tls_sendall(t, msg, (size_t)len, 20.0) != len)
        many_fail("sendall", c->id);
    else if (recv_exactly(t, back, (size_t)len, 20.0) != len || memcmp(msg, back, (size_t)len))
        many_fail("the echo", c->id);
    else
        many_done++;
    green_tls_close(t);
    return NULL;
}

/* Enough descriptors for n connections (two ends each, one process). */
static int room_for(int n)
{
    struct rlimit r;
    getrlimit(RLIMIT_NOFILE, &r);
    rlim_t want = (rlim_t)(2 * n + 64);
    if (r.rlim_cur < want) {
        r.rlim_cur = r.rlim_max < want ? r.rlim_max : want;
        setrlimit(RLIMIT_NOFILE, &r);
    }
    return r.rlim_cur >= want ? n : (int)((r.rlim_cur - 64) / 2);
}

START_TEST(test_thousand_connections)
{
    int n = room_for(kit_valgrind() ? 50 : 1000);
    green_tls_ctx_t *sctx = server_ctx(), *cctx = client_ctx();
    struct many_server m = { .listener = green_tcp_listen("127.0.0.1", "0", n), .n = n,
                             .ctx = sctx };
    char port[16];
    snprintf(port, sizeof port, "%d", green_socket_port(m.listener));
    many_done = many_failed = 0;
    many_failure[0] = '\0';
    green_t *server = green_spawn(many_server, &m);
    struct many_client *cs = calloc((size_t)n, sizeof *cs);
    green_t **gs = calloc((size_t)n, sizeof *gs);
    for (int i = 0; i < n; i++) {
        cs[i] = (struct many_client){ .port = port, .ctx = cctx, .id = i };
        gs[i] = green_spawn(many_client, &cs[i]);
    }
    int rc = green_joinall(gs, n, 40.0);
    ck_assert_msg(rc == 0 && many_done == n, "%d TLS clients at once against one green server: "
                  "expected all to finish a handshake and an echo, %d did, %d failed (first: %s), "
                  "joinall %s", n, many_done, many_failed, many_failure[0] ? many_failure : "none",
                  kit_why(rc, errno));
    green_join(server, 5.0);
    green_free(server);
    for (int i = 0; i < n; i++)
        green_free(gs[i]);
    free(gs);
    free(cs);
    close(m.listener);
    green_tls_ctx_free(sctx);
    green_tls_ctx_free(cctx);
    green_hub_destroy();
}
END_TEST

/* ---- Real peers: openssl s_client, curl, openssl s_server ------------------
 *
 * A green server and a command-line client must run at the same time, and
 * the green server only runs while its hub does.  So the tool runs from a
 * plain thread (popen), while this thread's hub serves it. */

struct tool {
    char cmd[1024];
    char out[8192];
    int status;
};

static void *run_tool(void *arg)
{
    struct tool *t = arg;
    FILE *f = popen(t->cmd, "r");
    size_t n = f ? fread(t->out, 1, sizeof t->out - 1, f) : 0;
    t->out[n] = '\0';
    t->status = f ? pclose(f) : -1;
    return NULL;
}

static void need(const char *prog, const char *package)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
    ck_assert_msg(system(cmd) == 0, "%s is not installed, and the TLS tests need it as a real "
                  "peer: install the package %s (make deps)", prog, package);
}

/* Serve one TLS connection on listener: read until `until` has arrived,
 * then send `answer` (NULL: what was read), then close_notify and close. */
static void serve_one(int listener, green_tls_ctx_t *ctx, const char *until, const char *answer,
                      char *got, size_t size)
{
    int fd = green_accept(listener, NULL, NULL, 20.0);
    ck_assert_msg(fd >= 0, "the green server: no connection came within 20 s (%s)",
                  strerror(errno));
    green_tls_t *t = green_tls_new(ctx, fd, NULL);
    struct outcome o;
    note(&o, green_tls_handshake(t, 20.0));
    size_t n = 0;
    got[0] = '\0';
    while (o.rc == 0 && !strstr(got, until) && n < size - 1) {
        ssize_t r = green_tls_recv(t, got + n, size - 1 - n, 20.0);
        if (r <= 0)
            break;
        n += (size_t)r;
        got[n] = '\0';
    }
    if (o.rc == 0)
        green_tls_sendall(t, answer ? answer : got, strlen(answer ? answer : got), 5.0);
    green_tls_close(t);
}

/* Serve one connection, as serve_one does, to tool->cmd run meanwhile
 * from a thread of its own; then tool->out and tool->status are its. */
static void serve_tool(struct tool *tool, int listener, green_tls_ctx_t *ctx, const char *until,
                       const char *answer, char *got, size_t size)
{
    pthread_t th;
    pthread_create(&th, NULL, run_tool, tool);
    serve_one(listener, ctx, until, answer, got, size);
    pthread_join(th, NULL);
}

static int listen_local(void)
{
    int l = green_tcp_listen("127.0.0.1", "0", 16);
    ck_assert_msg(l >= 0, "green_tcp_listen(127.0.0.1, 0): %s", strerror(errno));
    return l;
}

START_TEST(test_openssl_s_client)
{
    need("openssl", "openssl");
    green_tls_ctx_t *sctx = server_ctx();
    int l = listen_local();
    struct tool tool;
    snprintf(tool.cmd, sizeof tool.cmd,
             "printf 'hello from s_client\\n' | timeout 30 openssl s_client -connect 127.0.0.1:%d "
             "-CAfile %s -verify_return_error -verify_hostname localhost -quiet 2>&1",
             green_socket_port(l), pem.ca);
    char got[256];
    serve_tool(&tool, l, sctx, "\n", NULL, got, sizeof got);
    ck_assert_msg(strcmp(got, "hello from s_client\n") == 0, "the green server expected "
                  "\"hello from s_client\\n\" from openssl s_client, got \"%s\"; s_client said: %s",
                  got, tool.out);
    ck_assert_msg(strstr(tool.out, "hello from s_client") && WIFEXITED(tool.status) &&
                  WEXITSTATUS(tool.status) == 0, "expected openssl s_client to verify our "
                  "certificate, get its line back and exit 0; status %d, it said: %s",
                  tool.status, tool.out);
    close(l);
    green_tls_ctx_free(sctx);
    green_hub_destroy();
}
END_TEST

START_TEST(test_curl)
{
    need("curl", "curl");
    green_tls_ctx_t *sctx = server_ctx();
    int l = listen_local(), port = green_socket_port(l);
    struct tool tool;
    /* --resolve: localhost is 127.0.0.1 here, never ::1 (we listen on IPv4). */
    snprintf(tool.cmd, sizeof tool.cmd,
             "timeout 30 curl -sS --max-time 25 --cacert %s --resolve localhost:%d:127.0.0.1 "
             "-w ' [%%{http_version} %%{ssl_verify_result}]' https://localhost:%d/ 2>&1",
             pem.ca, port, port);
    char got[2048];
    serve_tool(&tool, l, sctx, "\r\n\r\n",
               "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nConnection: close\r\n\r\n"
               "hello, curl!\n", got, sizeof got);
    ck_assert_msg(strncmp(got, "GET / HTTP/1.1\r\n", 16) == 0, "the green server expected curl's "
                  "\"GET / HTTP/1.1\", got \"%.60s\"; curl said: %s", got, tool.out);
    ck_assert_msg(strcmp(tool.out, "hello, curl!\n [1.1 0]") == 0 && tool.status == 0,
                  "expected curl --cacert to verify our certificate and print the body, then "
                  "\" [1.1 0]\" (HTTP/1.1, verify result 0); status %d, it printed: \"%s\"",
                  tool.status, tool.out);
    close(l);
    green_tls_ctx_free(sctx);
    green_hub_destroy();
}
END_TEST

/* Start `openssl s_server` on 127.0.0.1, on a port it picks and prints
 * ("ACCEPT 127.0.0.1:PORT"); `extra` is appended to its arguments.
 * Returns its pid; *port is the port, and *out its output, which stays
 * open until it has exited (a closed pipe would kill it with SIGPIPE). */
static pid_t s_server_start(int *port, const char *const *extra, FILE **out)
{
    const char *argv[32] = { "openssl", "s_server", "-cert", pem.cert, "-key", pem.key,
                             "-accept", "127.0.0.1:0", "-naccept", "1" };
    int argc = 10;
    while (*extra && argc < 30)
        argv[argc++] = *extra++;
    argv[argc] = NULL;
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = kit_fork_tied();
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execvp("openssl", (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    *out = fdopen(fds[0], "r");
    char line[256] = "(nothing)";
    *port = 0;
    while (*port == 0 && fgets(line, sizeof line, *out))
        if (strncmp(line, "ACCEPT ", 7) == 0 && strrchr(line, ':'))
            *port = atoi(strrchr(line, ':') + 1);
    ck_assert_msg(*port > 0, "openssl s_server did not say \"ACCEPT 127.0.0.1:PORT\" (last line: "
                  "%s)", line);
    return pid;
}

START_TEST(test_openssl_s_server)
{
    need("openssl", "openssl");
    int port;
    const char *const extra[] = { "-www", "-alpn", "http/1.1", NULL };
    FILE *out;
    pid_t pid = s_server_start(&port, extra, &out);
    static const char offer[] = "\x08http/1.1";
    green_tls_ctx_t *cctx = client_offering(offer, sizeof offer - 1);
    char ports[16];
    snprintf(ports, sizeof ports, "%d", port);
    int fd = green_tcp_connect("127.0.0.1", ports, 5.0);
    ck_assert_msg(fd >= 0, "connect to openssl s_server on port %d: %s", port, strerror(errno));
    green_tls_t *t = green_tls_new(cctx, fd, "localhost");
    struct outcome o;
    note(&o, green_tls_handshake(t, 10.0));
    assert_handshake_ok(o, "a green client against openssl s_server");
    ck_assert_msg(green_tls_alpn(t) && strcmp(green_tls_alpn(t), "http/1.1") == 0,
                  "against s_server -alpn http/1.1: expected ALPN \"http/1.1\", got %s",
                  text(green_tls_alpn(t)));
    static const char get[] = "GET / HTTP/1.0\r\n\r\n";
    ck_assert_int_eq(green_tls_sendall(t, get, sizeof get - 1, 5.0), sizeof get - 1);
    static char page[65536];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof page - 1 && (r = green_tls_recv(t, page + n, sizeof page - 1 - n, 10.0)) > 0)
        n += (size_t)r;
    page[n] = '\0';
    ck_assert_msg(strncmp(page, "HTTP/1.0 200 ok", 15) == 0, "expected s_server -www's status "
                  "page (\"HTTP/1.0 200 ok\"), got %zu bytes: \"%.80s\"", n, page);
    green_tls_close(t);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    fclose(out);
    green_tls_ctx_free(cctx);
    green_hub_destroy();
}
END_TEST

/* A test case of this suite: its tests need the certificates, made once
 * by certs_setup before they fork. */
static TCase *certs_tcase(Suite *s, const char *name)
{
    TCase *tc = kit_tcase(name);
    tcase_add_unchecked_fixture(tc, certs_setup, NULL);
    suite_add_tcase(s, tc);
    return tc;
}

static Suite *tls_suite(void)
{
    Suite *s = suite_create("tls");
    TCase *tc = certs_tcase(s, "contexts");
    tcase_add_test(tc, test_contexts_from_files);
    tcase_add_test(tc, test_missing_file_enoent);
    tcase_add_test(tc, test_refused_files_eproto);
    tcase_add_test(tc, test_new_free_close);

    tc = certs_tcase(s, "verify");
    tcase_add_test(tc, test_verify_against_our_ca);
    tcase_add_test(tc, test_verify_wrong_name);
    tcase_add_test(tc, test_system_store_refuses_our_ca);
    tcase_add_test(tc, test_insecure_accepts_anything);
    tcase_add_test(tc, test_alpn);
    tcase_add_test(tc, test_versions);

    tc = certs_tcase(s, "bytes");
    tcase_add_test(tc, test_send_recv);
    tcase_add_test(tc, test_big_both_ways);
    tcase_add_test(tc, test_bare_close_is_a_ragged_eof);
    tcase_add_test(tc, test_reset_peer);
    tcase_add_test(tc, test_wait_read_sees_buffered_plaintext);

    tc = certs_tcase(s, "waits");
    tcase_add_test(tc, test_handshake_timeout);
    tcase_add_test(tc, test_recv_timeout);
    tcase_add_test(tc, test_sendall_timeout);
    tcase_add_test(tc, test_kill_in_recv);
    tcase_add_test(tc, test_sniff);
    tcase_add_test(tc, test_attach_of);

    tc = certs_tcase(s, "many");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_thousand_connections);

    /* popen and the s_server child fork: without fork (CK_FORK=no, the
     * cross build under qemu-user), leave them out. */
    if (!kit_can_fork())
        return s;
    tc = certs_tcase(s, "peers");
    tcase_set_timeout(tc, 40);
    tcase_add_test(tc, test_openssl_s_client);
    tcase_add_test(tc, test_curl);
    tcase_add_test(tc, test_openssl_s_server);
    return s;
}

int main(void) { return kit_run_suite(tls_suite()); }
