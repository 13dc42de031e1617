/* Tests of exercise 04-io/tlsio: ex_tls_handshake(), ex_tls_read() and
 * ex_tls_write() on the hub, against a real OpenSSL peer.
 *
 * The peer is plain blocking OpenSSL (SSL_accept, SSL_read, SSL_write) in a
 * child process, never the kit's own TLS: a peer greenlet would run only
 * when the code under test lets it, so a loop that never parks, or parks
 * on the wrong event, could hide behind it.  A process runs whatever we
 * do, and does exactly what a real server or client would.
 *
 * Needs fork(): not in `make test-aarch64`'s set (qemu-user's fork hangs). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "harness.h"
#include "green.h"
#include "tlsio.h"

#define LESSON "chapters/04-io/README.md"
#define TLS "TLS: the same trick"

/* ---- Certificates, made at test time ------------------------------------ */

/* A file of kit_tls_certs() (tests/harness.h): ca.pem, our own CA, and
 * cert.pem and key.pem, signed by it for localhost and 127.0.0.1.  The
 * buffers take turns: a few paths live at once. */
static const char *cert_file(const char *name)
{
    static char path[4][128];
    static int next;
    next = (next + 1) % 4;
    snprintf(path[next], sizeof path[next], "%s/%s", kit_tls_certs(), name);
    return path[next];
}

/* ---- The peer: blocking OpenSSL in a child process ---------------------- */

enum role { PEER_SERVER, PEER_CLIENT };

/* What the peer does once its SSL is set up on the accepted socket (it
 * calls SSL_accept or SSL_connect itself, when it chooses); its return is
 * the child's exit status.  Runs in the child: plain blocking calls. */
typedef int (*script_t)(SSL *ssl);

struct peer {
    pid_t pid;
    int fd;         /* our end: connected, non-blocking */
};

/* Small buffers on both ends (our send buffer, the peer's receive
 * buffer): 16 KiB or so in flight at most, so that writing 48 KiB with
 * nobody reading must wait.  0: the kernel's own (megabytes). */
#define TIGHT 4096
#define SMALL (64 << 10)

static void set_buffer(int fd, int which, int size)
{
    setsockopt(fd, SOL_SOCKET, which, &size, sizeof size);
}

/* A generous time (a timeout that should never run out, a peer's
 * delay), ten times longer under Valgrind, which slows both processes
 * (and OpenSSL's cryptography) some twenty times. */
static double slow(double s)
{
    return kit_valgrind() ? 10 * s : s;
}

static void nap(double s)
{
    struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
    nanosleep(&ts, NULL);
}

static SSL_CTX *peer_ctx(enum role role)
{
    SSL_CTX *ctx;
    if (role == PEER_SERVER) {
        ctx = SSL_CTX_new(TLS_server_method());
        if (SSL_CTX_use_certificate_chain_file(ctx, cert_file("cert.pem")) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, cert_file("key.pem"), SSL_FILETYPE_PEM) != 1)
            _exit(70);
    } else {
        ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    return ctx;
}

static void peer_child(pid_t parent, int listener, enum role role, script_t script)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);   /* dies with the test, even a hung one */
    if (getppid() != parent)
        _exit(72);                      /* the test died before prctl */
    signal(SIGPIPE, SIG_IGN);
    int fd = accept(listener, NULL, NULL);
    if (fd < 0)
        _exit(71);
    close(listener);
    SSL_CTX *ctx = peer_ctx(role);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    _exit(script(ssl));
}

/* Start a peer playing `role` with `script`, connected to our p->fd,
 * with buffers of `buffers` bytes (0: the kernel's). */
static void peer_start(struct peer *p, enum role role, script_t script, int buffers)
{
    cert_file("cert.pem");              /* made before the fork, once */
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    if (buffers)
        set_buffer(l, SO_RCVBUF, buffers);  /* inherited by the accepted socket */
    ck_assert_msg(l >= 0 && bind(l, (struct sockaddr *)&a, sizeof a) == 0 && listen(l, 1) == 0 &&
                  getsockname(l, (struct sockaddr *)&a, &len) == 0,
                  "test setup: a listening socket on 127.0.0.1: %s", strerror(errno));
    pid_t parent = getpid();
    fflush(NULL);
    p->pid = fork();
    ck_assert_msg(p->pid >= 0, "test setup: fork: %s", strerror(errno));
    if (p->pid == 0)
        peer_child(parent, l, role, script);
    p->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (buffers)
        set_buffer(p->fd, SO_SNDBUF, buffers);
    ck_assert_msg(connect(p->fd, (struct sockaddr *)&a, sizeof a) == 0,
                  "test setup: connecting to the peer: %s", strerror(errno));
    close(l);
    fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) | O_NONBLOCK);
}

/* The peer's exit status after at most `wait` seconds (then it is
 * killed: -1), and our end closed. */
static int peer_end(struct peer *p, double wait)
{
    int status = 0;
    for (double t = 0; t < wait && waitpid(p->pid, &status, WNOHANG) == 0; t += 0.01)
        nap(0.01);
    if (waitpid(p->pid, &status, WNOHANG) == 0) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, &status, 0);
        status = -1;
    } else {
        status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    close(p->fd);
    return status;
}

/* ---- Our side: an SSL over p->fd, as the exercise gets it --------------- */

/* Every call our SSL makes to its socket: a loop that parks makes a
 * handful while it waits; one that spins makes thousands. */
static long attempts;

static long count_attempts(BIO *b, int oper, const char *argp, size_t len, int argi, long argl, int ret,
                           size_t *processed)
{
    (void)b, (void)argp, (void)len, (void)argi, (void)argl, (void)processed;
    if (oper == BIO_CB_READ || oper == BIO_CB_WRITE)
        attempts++;
    return ret;
}

/* A ClientHello of some 48 KiB (an extension of our own that servers
 * ignore), bigger than what a tight connection holds: sending it must
 * wait until the peer reads.  Real hellos grow too (post-quantum key
 * shares add over a kilobyte), if never this much. */
#define FAT 48000

static int fat_hello(SSL *s, unsigned int type, unsigned int context, const unsigned char **out, size_t *outlen,
                     X509 *x, size_t chainidx, int *al, void *arg)
{
    static unsigned char padding[FAT];
    (void)s, (void)type, (void)context, (void)x, (void)chainidx, (void)al, (void)arg;
    *out = padding;
    *outlen = sizeof padding;
    return 1;
}

enum { TRUST = 1, FAT_HELLO = 2 };

static SSL *our_ssl(SSL_CTX *ctx, int fd, int server)
{
    SSL *ssl = SSL_new(ctx);
    SSL_CTX_free(ctx);                  /* the SSL holds its own reference */
    ck_assert_msg(ssl != NULL && SSL_set_fd(ssl, fd) == 1, "test setup: SSL_new");
    if (server)
        SSL_set_accept_state(ssl);
    else
        SSL_set_connect_state(ssl);
    BIO_set_callback_ex(SSL_get_rbio(ssl), count_attempts);
    attempts = 0;
    return ssl;
}

/* A client that checks the server's certificate for "localhost" against
 * our CA (with TRUST), or against nothing (without: any certificate is
 * refused). */
static SSL *our_client(int fd, int flags)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (flags & TRUST)
        ck_assert_msg(SSL_CTX_load_verify_locations(ctx, cert_file("ca.pem"), NULL) == 1,
                      "test setup: loading the CA");
    if (flags & FAT_HELLO)
        SSL_CTX_add_custom_ext(ctx, 0xfa70, SSL_EXT_CLIENT_HELLO, fat_hello, NULL, NULL, NULL, NULL);
    SSL *ssl = our_ssl(ctx, fd, 0);
    SSL_set1_host(ssl, "localhost");
    return ssl;
}

static SSL *our_server(int fd)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    ck_assert_msg(SSL_CTX_use_certificate_chain_file(ctx, cert_file("cert.pem")) == 1 &&
                  SSL_CTX_use_PrivateKey_file(ctx, cert_file("key.pem"), SSL_FILETYPE_PEM) == 1,
                  "test setup: loading the certificate");
    return our_ssl(ctx, fd, 1);
}

/* The handshake done by the test itself (poll, not the hub), for the tests
 * of read and write: they must not depend on your ex_tls_handshake. */
static void setup_handshake(SSL *ssl)
{
    for (double t0 = green_now(); green_now() - t0 < slow(5.0);) {
        ERR_clear_error();
        int rc = SSL_do_handshake(ssl);
        if (rc == 1)
            return;
        int err = SSL_get_error(ssl, rc);
        ck_assert_msg(err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE,
                      "test setup: the handshake with the peer failed (SSL_get_error %d)", err);
        struct pollfd p = { SSL_get_fd(ssl), err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, 0 };
        poll(&p, 1, 10);
    }
    ck_abort_msg("test setup: the handshake with the peer did not end in %.0f s", slow(5.0));
}

static void our_free(SSL *ssl)
{
    SSL_free(ssl);
    green_hub_destroy();
}

/* The start of the tests of a client: a peer server running `script`
 * (its buffers as in peer_start), and our client for it (flags as in
 * our_client), before any handshake. */
static SSL *client_for(struct peer *p, script_t script, int buffers, int flags)
{
    peer_start(p, PEER_SERVER, script, buffers);
    return our_client(p->fd, flags);
}

/* The start of most tests of read and write: the same, our client
 * trusting our CA, and the handshake already done. */
static SSL *connected_client(struct peer *p, script_t script, int buffers)
{
    SSL *ssl = client_for(p, script, buffers, TRUST);
    setup_handshake(ssl);
    return ssl;
}

/* The end of a test that does not ask how its peer ended. */
static void end_test(SSL *ssl, struct peer *p)
{
    our_free(ssl);
    peer_end(p, 0);
}

/* The end of the tests of a server that greets a slow_client: the
 * client must have read "220 welcome". */
static void check_welcomed(struct peer *p)
{
    int status = peer_end(p, slow(2.0));
    ck_assert_msg(status == 0, "the client should read \"220 welcome\" (its exit status %d)", status);
}

/* ---- The peer's scripts --------------------------------------------------- */

static int accept_or_fail(SSL *ssl)
{
    return SSL_accept(ssl) == 1 ? 0 : 60;
}

static int accept_then_idle(SSL *ssl)
{
    if (accept_or_fail(ssl))
        return 60;
    pause();                            /* killed at the end of the test */
    return 0;
}

static int never_accept(SSL *ssl)
{
    (void)ssl;
    pause();
    return 0;
}

static int accept_then_hello(SSL *ssl)
{
    if (accept_or_fail(ssl))
        return 60;
    SSL_write(ssl, "hello", 5);
    pause();
    return 0;
}

static int accept_then_late(SSL *ssl)
{
    if (accept_or_fail(ssl))
        return 60;
    nap(0.2);
    SSL_write(ssl, "late", 4);
    pause();
    return 0;
}

/* The same without TLS 1.3's session tickets, which a client reads
 * after its handshake: the state machine that reads them clears
 * OpenSSL's error queue, and would hide a stale error from the test. */
static int accept_no_tickets_then_late(SSL *ssl)
{
    SSL_set_num_tickets(ssl, 0);
    return accept_then_late(ssl);
}

/* Asleep 0.3 s before the handshake, so our side must wait to send its
 * (fat) ClientHello; then "hello". */
static int slow_accept_then_hello(SSL *ssl)
{
    nap(slow(0.3));
    return accept_then_hello(ssl);
}

static int accept_then_close_notify(SSL *ssl)
{
    if (accept_or_fail(ssl))
        return 60;
    SSL_shutdown(ssl);
    pause();
    return 0;
}

static int accept_then_reset(SSL *ssl)
{
    if (accept_or_fail(ssl))
        return 60;
    struct linger hard = { .l_onoff = 1, .l_linger = 0 };
    setsockopt(SSL_get_fd(ssl), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    close(SSL_get_fd(ssl));             /* linger 0: a reset, not a FIN */
    pause();
    return 0;
}

static int refuse_handshake(SSL *ssl)
{
    SSL_accept(ssl);                    /* fails: our side refuses the certificate */
    pause();
    return 0;
}

#define BIG (8 << 20)

static unsigned char pattern(size_t i) { return (unsigned char)(i * 13 % 251); }

/* Reads nothing for 0.3 s, then all BIG bytes, checking each: exit 0 when
 * they all came, in order. */
static int accept_then_slow_reader(SSL *ssl)
{
    static unsigned char buf[64 << 10];
    if (accept_or_fail(ssl))
        return 60;
    nap(slow(0.3));
    size_t got = 0;
    while (got < BIG) {
        int n = SSL_read(ssl, buf, sizeof buf);
        if (n <= 0)
            return 61;
        for (int k = 0; k < n; k++)
            if (buf[k] != pattern(got + (size_t)k))
                return 62;
        got += (size_t)n;
    }
    return 0;
}

/* A client that connects only after 0.3 s, then reads the greeting. */
static int slow_client(SSL *ssl)
{
    nap(slow(0.3));
    if (SSL_connect(ssl) != 1)
        return 63;
    char buf[64] = "";
    int n = SSL_read(ssl, buf, sizeof buf - 1);
    return n == 11 && memcmp(buf, "220 welcome", 11) == 0 ? 0 : 64;
}

/* ---- The call under test, as a job: beside the test or in its place ---- */

struct job {
    SSL *ssl;
    int what;           /* 'h' handshake, 'r' read, 'w' write */
    size_t size;
    double timeout;
    ssize_t rc;
    int err;
};

static void *job(void *arg)
{
    struct job *j = arg;
    char small[64];
    char *big = j->what == 'w' ? calloc(1, j->size) : NULL;
    if (j->what == 'h')
        j->rc = ex_tls_handshake(j->ssl, j->timeout);
    else if (j->what == 'r')
        j->rc = ex_tls_read(j->ssl, small, sizeof small, j->timeout);
    else
        j->rc = ex_tls_write(j->ssl, big, j->size, j->timeout);
    j->err = errno;
    free(big);
    return NULL;
}

/* A greenlet that wakes `target` for no reason every 30 ms (20 times at
 * most): a wait may end with nothing to do, and must be tried again with
 * what is left of the time (tests/exercises/04-io/sockio.c does the same). */
#define POKES 20
static int pokes;

static void *poke(void *target)
{
    pokes = 0;
    for (int i = 0; i < POKES && !green_dead(target); i++) {
        if (green_sleep(0.03) != 0)
            break;
        green_ready(target, NULL);
        pokes++;
    }
    return NULL;
}

/* Run j here, timed: it must fail with ETIMEDOUT once its timeout has
 * run out, and not much later.  `what` is the call and its situation, as
 * the first message names them. */
static void check_timed_out(struct job *j, const char *call, const char *what)
{
    double t0 = green_now();
    job(j);
    double took = green_now() - t0;
    ck_assert_msg(j->rc == -1 && j->err == ETIMEDOUT, "%s should return -1 with errno ETIMEDOUT, got %zd (%s); "
                  KIT_LESSON(LESSON, "Timeouts are deadlines"), what, j->rc, kit_why(j->rc, j->err));
    ck_assert_msg(took >= j->timeout - 0.01 && took < slow(2.0), "%s(timeout %.1f) should give up after %.1f s, "
                  "took %.3f s; " KIT_LESSON(LESSON, "Timeouts are deadlines"), call, j->timeout, j->timeout, took);
}

/* Run j in a greenlet, kill it after 0.1 s: it must end with ECANCELED. */
static void check_killed(struct job *j, const char *call)
{
    green_t *g = green_spawn(job, j);
    green_sleep(0.1);
    int rc = green_kill(g, 1.0);
    ck_assert_msg(rc == 0, "a greenlet killed while in %s should return, green_kill said %s", call,
                  kit_why(rc, errno));
    ck_assert_msg(j->rc == -1 && j->err == ECANCELED, "%s in a killed greenlet should return -1 with errno "
                  "ECANCELED (what green_wait_read/_write said), got %zd (%s); "
                  KIT_LESSON(LESSON, "When things go wrong"), call, j->rc, kit_why(j->rc, j->err));
    green_free(g);
}

/* Run j in a greenlet poked every 30 ms: with one deadline it times out
 * after about 8 pokes; a loop that gives each wait the full timeout
 * outlasts all 20. */
static void check_one_deadline(struct job *j, const char *call)
{
    green_t *g = green_spawn(job, j);
    green_t *p = green_spawn(poke, g);
    green_join(g, 3.0);
    int poked = pokes;
    ck_assert_msg(j->rc == -1 && j->err == ETIMEDOUT && poked < POKES, "woken every 30 ms for nothing, "
                  "%s(timeout 0.25) should fail with ETIMEDOUT after 0.25 s, got %zd (%s) after %d wake-ups "
                  "(%d: 0.6 s or more): compute the deadline once, give each wait only the time left; "
                  KIT_LESSON(LESSON, "Timeouts are deadlines"), call, j->rc, kit_why(j->rc, j->err), poked, POKES);
    green_kill(g, 1.0);
    green_join(p, 1.0);
    green_free(p);
    green_free(g);
}

/* ---- ex_tls_handshake ----------------------------------------------------- */

START_TEST(test_handshake_ok)
{
    struct peer p;
    SSL *ssl = client_for(&p, slow_accept_then_hello, 0, TRUST);
    green_t *t = kit_ticker_start(0.005);
    int rc = ex_tls_handshake(ssl, slow(5.0));
    int err = errno;
    int seen = kit_ticker_stop(t);
    ck_assert_msg(rc == 0 && SSL_is_init_finished(ssl), "ex_tls_handshake with a server that answers after "
                  "0.3 s should return 0 with the handshake done, got %d (%s); "
                  KIT_LESSON(LESSON, TLS), rc, kit_why(rc, err));
    ck_assert_msg(seen >= 1, "while ex_tls_handshake waited 0.3 s for the server, a greenlet that ticks every 5 ms "
                  "ticked %d times: park on the hub (green_wait_read), do not block the thread; "
                  KIT_LESSON(LESSON, TLS), seen);
    ck_assert_msg(attempts < 100, "while ex_tls_handshake waited 0.3 s for the server, OpenSSL tried the socket "
                  "%ld times (a loop that parks: a dozen): it spins instead of waiting for what "
                  "SSL_get_error() asked; " KIT_LESSON(LESSON, TLS), attempts);
    end_test(ssl, &p);
}
END_TEST

/* The hello does not fit in what the connection holds, and the server
 * reads it only after 0.3 s: SSL_do_handshake says WANT_WRITE. */
START_TEST(test_handshake_waits_to_write)
{
    struct peer p;
    SSL *ssl = client_for(&p, slow_accept_then_hello, TIGHT, TRUST | FAT_HELLO);
    int rc = ex_tls_handshake(ssl, slow(3.0));
    int err = errno;
    ck_assert_msg(rc == 0, "ex_tls_handshake whose ClientHello (48 KiB) must wait for room should return 0, got %d "
                  "(%s): on SSL_ERROR_WANT_WRITE wait with green_wait_write(), not for reading (nothing comes "
                  "until the server has our hello); " KIT_LESSON(LESSON, TLS), rc, kit_why(rc, err));
    end_test(ssl, &p);
}
END_TEST

START_TEST(test_handshake_bad_certificate)
{
    struct peer p;
    SSL *ssl = client_for(&p, refuse_handshake, 0, 0);     /* trusts nobody */
    double t0 = green_now();
    int rc = ex_tls_handshake(ssl, slow(3.0));
    int err = errno;
    ck_assert_msg(rc == -1 && err == EPROTO, "ex_tls_handshake with a server whose certificate we do not trust "
                  "should return -1 with errno EPROTO (SSL_ERROR_SSL), got %d (%s); "
                  KIT_LESSON(LESSON, TLS), rc, kit_why(rc, err));
    ck_assert_msg(green_now() - t0 < slow(2.0), "ex_tls_handshake should fail at once on SSL_ERROR_SSL, not wait");
    end_test(ssl, &p);
}
END_TEST

START_TEST(test_handshake_timeout)
{
    struct peer p;
    SSL *ssl = client_for(&p, never_accept, 0, TRUST);
    struct job j = { ssl, 'h', 0, 0.2, -2, 0 };
    check_timed_out(&j, "ex_tls_handshake", "ex_tls_handshake(timeout 0.2) with a server that never answers");
    end_test(ssl, &p);
}
END_TEST

START_TEST(test_handshake_killed)
{
    struct peer p;
    SSL *ssl = client_for(&p, never_accept, 0, TRUST);
    struct job j = { ssl, 'h', 0, GREEN_FOREVER, -2, 0 };
    check_killed(&j, "ex_tls_handshake");
    end_test(ssl, &p);
}
END_TEST

/* ---- ex_tls_read ---------------------------------------------------------- */

START_TEST(test_read_data_already_there)
{
    struct peer p;
    SSL *ssl = connected_client(&p, accept_then_hello, 0);
    nap(0.05);
    char buf[16] = "";
    ssize_t n = ex_tls_read(ssl, buf, sizeof buf, slow(2.0));
    ck_assert_msg(n == 5 && memcmp(buf, "hello", 5) == 0, "with \"hello\" sent by the server, ex_tls_read should "
                  "return 5 and the bytes, got %zd (%s); " KIT_LESSON(LESSON, TLS), n, kit_why(n, errno));
    end_test(ssl, &p);
}
END_TEST

START_TEST(test_read_parks)
{
    struct peer p;
    SSL *ssl = connected_client(&p, accept_then_late, 0);
    attempts = 0;
    green_t *t = kit_ticker_start(0.005);
    char buf[16] = "";
    ssize_t n = ex_tls_read(ssl, buf, sizeof buf, slow(3.0));
    int err = errno;
    int seen = kit_ticker_stop(t);
    ck_assert_msg(n == 4 && memcmp(buf, "late", 4) == 0, "ex_tls_read should wait for \"late\", sent 0.2 s after "
                  "the handshake, and return 4, got %zd (%s): on SSL_ERROR_WANT_READ, green_wait_read() and "
                  "try again; " KIT_LESSON(LESSON, TLS), n, kit_why(n, err));
    ck_assert_msg(attempts < 50, "while ex_tls_read waited 0.2 s, OpenSSL read the socket %ld times (a loop that "
                  "parks: two or three): it spins (SSL_read, WANT_READ, SSL_read...) instead of parking with "
                  "green_wait_read(); " KIT_LESSON(LESSON, "Parking on the hub: wait_read and wait_write"), attempts);
    ck_assert_msg(seen >= 1, "while ex_tls_read waited 0.2 s, a greenlet that ticks every 5 ms ticked %d times: "
                  "park on the hub, do not block the thread; "
                  KIT_LESSON(LESSON, "Parking on the hub: wait_read and wait_write"), seen);
    end_test(ssl, &p);
}
END_TEST

/* No handshake yet: the first SSL_read of a client sends the ClientHello
 * (48 KiB, more than the connection holds while the server sleeps), so
 * this read must first wait to WRITE. */
START_TEST(test_read_that_must_write)
{
    struct peer p;
    SSL *ssl = client_for(&p, slow_accept_then_hello, TIGHT, TRUST | FAT_HELLO);
    char buf[16] = "";
    ssize_t n = ex_tls_read(ssl, buf, sizeof buf, slow(3.0));
    int err = errno;
    ck_assert_msg(n == 5 && memcmp(buf, "hello", 5) == 0, "ex_tls_read before the handshake must first send our "
                  "ClientHello, which waits for room: expected 5 (\"hello\"), got %zd (%s).  When SSL_read says "
                  "SSL_ERROR_WANT_WRITE, wait with green_wait_write(): waiting to read, as the caller meant, "
                  "waits for an answer to a hello the server has not got; " KIT_LESSON(LESSON, TLS),
                  n, kit_why(n, err));
    end_test(ssl, &p);
}
END_TEST

/* An error left in OpenSSL's queue by an earlier call (of this greenlet
 * or another) must not turn a plain WANT_READ into a failure. */
START_TEST(test_read_stale_error)
{
    struct peer p;
    SSL *ssl = connected_client(&p, accept_no_tickets_then_late, 0);
    ERR_raise(ERR_LIB_SSL, SSL_R_BAD_WRITE_RETRY);     /* someone else's old failure */
    char buf[16] = "";
    ssize_t n = ex_tls_read(ssl, buf, sizeof buf, slow(3.0));
    int err = errno;
    ck_assert_msg(n == 4, "with an old error left in OpenSSL's queue, ex_tls_read should still wait for \"late\" "
                  "and return 4, got %zd (%s): SSL_get_error() reads the thread's error queue, so call "
                  "ERR_clear_error() before each SSL_* call; " KIT_LESSON(LESSON, TLS), n, kit_why(n, err));
    end_test(ssl, &p);
}
END_TEST

START_TEST(test_read_close_notify)
{
    struct peer p;
    SSL *ssl = connected_client(&p, accept_then_close_notify, 0);
    char buf[16];
    ssize_t n = ex_tls_read(ssl, buf, sizeof buf, slow(2.0));
    ck_assert_msg(n == 0, "when the server ends the stream with close_notify (SSL_ERROR_ZERO_RETURN), "
                  "ex_tls_read should return 0, got %zd (%s); " KIT_LESSON(LESSON, TLS), n, kit_why(n, errno));
    end_test(ssl, &p);
}
END_TEST

START_TEST(test_read_reset)
{
    struct peer p;
    SSL *ssl = connected_client(&p, accept_then_reset, 0);
    char buf[16];
    double t0 = green_now();
    ssize_t n = ex_tls_read(ssl, buf, sizeof buf, slow(2.0));
    int err = errno;
    ck_assert_msg(n == -1 && err == ECONNRESET, "on a connection the server has reset, ex_tls_read should return "
                  "-1 with errno ECONNRESET (SSL_ERROR_SYSCALL: the kernel's errno), got %zd (%s); "
                  KIT_LESSON(LESSON, "When things go wrong"), n, kit_why(n, err));
    ck_assert_msg(green_now() - t0 < slow(1.5), "ex_tls_read should report the reset at once, not wait");
    end_test(ssl, &p);
}
END_TEST

START_TEST(test_read_timeout)
{
    struct peer p;
    SSL *ssl = connected_client(&p, accept_then_idle, 0);
    struct job j = { ssl, 'r', 0, 0.2, -2, 0 };
    check_timed_out(&j, "ex_tls_read", "ex_tls_read(timeout 0.2) from a silent server");
    end_test(ssl, &p);
}
END_TEST

START_TEST(test_read_one_deadline)
{
    struct peer p;
    SSL *ssl = connected_client(&p, accept_then_idle, 0);
    struct job j = { ssl, 'r', 0, 0.25, -2, 0 };
    check_one_deadline(&j, "ex_tls_read");
    end_test(ssl, &p);
}
END_TEST

START_TEST(test_read_killed)
{
    struct peer p;
    SSL *ssl = connected_client(&p, accept_then_idle, 0);
    struct job j = { ssl, 'r', 0, GREEN_FOREVER, -2, 0 };
    check_killed(&j, "ex_tls_read");
    end_test(ssl, &p);
}
END_TEST

/* ---- ex_tls_write --------------------------------------------------------- */

START_TEST(test_write_small)
{
    struct peer p;
    peer_start(&p, PEER_CLIENT, slow_client, 0);
    SSL *ssl = our_server(p.fd);
    setup_handshake(ssl);
    ssize_t n = ex_tls_write(ssl, "220 welcome", 11, slow(2.0));
    int err = errno;
    ck_assert_msg(n == 11, "ex_tls_write of 11 bytes should return 11, got %zd (%s); "
                  KIT_LESSON(LESSON, TLS), n, kit_why(n, err));
    check_welcomed(&p);
    our_free(ssl);
}
END_TEST

/* 8 MiB to a server that reads nothing for 0.3 s: SSL_write says
 * WANT_WRITE until it reads. */
START_TEST(test_write_large_to_slow_reader)
{
    unsigned char *data = malloc(BIG);
    for (size_t i = 0; i < BIG; i++)
        data[i] = pattern(i);
    struct peer p;                      /* 64 KiB buffers: full long before the server reads */
    SSL *ssl = connected_client(&p, accept_then_slow_reader, SMALL);
    green_t *t = kit_ticker_start(0.005);
    ssize_t n = ex_tls_write(ssl, data, BIG, slow(5.0));
    int err = errno;
    int seen = kit_ticker_stop(t);
    free(data);
    ck_assert_msg(n == BIG, "ex_tls_write of 8 MiB to a server that starts reading after 0.3 s should return %d, "
                  "got %zd (%s): on SSL_ERROR_WANT_WRITE wait with green_wait_write() and call SSL_write again "
                  "with the same buffer and length; " KIT_LESSON(LESSON, TLS), BIG, n, kit_why(n, err));
    ck_assert_msg(seen >= 1, "while ex_tls_write waited for the server to read, a ticking greenlet ticked %d "
                  "times: park on the hub; " KIT_LESSON(LESSON, "Parking on the hub: wait_read and wait_write"),
                  seen);
    int status = peer_end(&p, slow(3.0));
    ck_assert_msg(status == 0, "the server should receive all 8 MiB in order (its exit status %d: 61 cut short, "
                  "62 a wrong byte); " KIT_LESSON(LESSON, TLS), status);
    our_free(ssl);
}
END_TEST

/* A server that greets first (SMTP's "220"), without a handshake of its
 * own: its first SSL_write must READ the ClientHello, which comes after
 * 0.3 s.  A socket is writable all that time. */
START_TEST(test_write_that_must_read)
{
    struct peer p;
    peer_start(&p, PEER_CLIENT, slow_client, 0);
    SSL *ssl = our_server(p.fd);
    ssize_t n = ex_tls_write(ssl, "220 welcome", 11, slow(3.0));
    int err = errno;
    ck_assert_msg(n == 11, "ex_tls_write of a server before the handshake should receive the client's hello "
                  "(0.3 s later), then send, and return 11, got %zd (%s); " KIT_LESSON(LESSON, TLS),
                  n, kit_why(n, err));
    ck_assert_msg(attempts < 100, "while ex_tls_write waited 0.3 s for the client's hello, OpenSSL tried the "
                  "socket %ld times (a loop that parks: a dozen).  SSL_write said SSL_ERROR_WANT_READ: wait "
                  "with green_wait_read().  Waiting to write, as the caller meant, wakes at once (a socket is "
                  "almost always writable) and spins; " KIT_LESSON(LESSON, TLS), attempts);
    check_welcomed(&p);
    our_free(ssl);
}
END_TEST

START_TEST(test_write_timeout)
{
    struct peer p;
    SSL *ssl = connected_client(&p, accept_then_idle, TIGHT);
    struct job j = { ssl, 'w', BIG, 0.3, -2, 0 };
    check_timed_out(&j, "ex_tls_write", "ex_tls_write of 8 MiB that nobody reads, timeout 0.3,");
    end_test(ssl, &p);
}
END_TEST

START_TEST(test_write_one_deadline)
{
    struct peer p;
    SSL *ssl = connected_client(&p, accept_then_idle, TIGHT);
    struct job j = { ssl, 'w', BIG, 0.25, -2, 0 };
    check_one_deadline(&j, "ex_tls_write");
    end_test(ssl, &p);
}
END_TEST

START_TEST(test_write_killed)
{
    struct peer p;
    SSL *ssl = connected_client(&p, accept_then_idle, TIGHT);
    struct job j = { ssl, 'w', BIG, GREEN_FOREVER, -2, 0 };
    check_killed(&j, "ex_tls_write");
    end_test(ssl, &p);
}
END_TEST

START_TEST(test_write_peer_gone)
{
    signal(SIGPIPE, SIG_IGN);           /* OpenSSL writes with write(2): tlsio.h */
    struct peer p;
    SSL *ssl = connected_client(&p, accept_then_reset, 0);
    nap(0.05);
    ssize_t n = 0;
    int err = 0;
    for (int i = 0; i < 50 && n >= 0; i++) {    /* the first writes may still succeed */
        n = ex_tls_write(ssl, "ping", 4, 1.0);
        err = errno;
        green_sleep(0.005);
    }
    ck_assert_msg(n == -1 && (err == ECONNRESET || err == EPIPE), "ex_tls_write to a server that reset the "
                  "connection should end with -1 and errno ECONNRESET or EPIPE (SSL_ERROR_SYSCALL: the kernel's "
                  "errno), got %zd (%s); " KIT_LESSON(LESSON, "When things go wrong"), n, kit_why(n, err));
    end_test(ssl, &p);
}
END_TEST

static Suite *tlsio_suite(void)
{
    Suite *s = suite_create("04-io/tlsio");
    TCase *tc = kit_tcase("ex_tls_handshake");
    tcase_add_test(tc, test_handshake_ok);
    tcase_add_test(tc, test_handshake_waits_to_write);
    tcase_add_test(tc, test_handshake_bad_certificate);
    tcase_add_test(tc, test_handshake_timeout);
    tcase_add_test(tc, test_handshake_killed);
    suite_add_tcase(s, tc);

    tc = kit_tcase("ex_tls_read");
    tcase_add_test(tc, test_read_data_already_there);
    tcase_add_test(tc, test_read_parks);
    tcase_add_test(tc, test_read_that_must_write);
    tcase_add_test(tc, test_read_stale_error);
    tcase_add_test(tc, test_read_close_notify);
    tcase_add_test(tc, test_read_reset);
    tcase_add_test(tc, test_read_timeout);
    tcase_add_test(tc, test_read_one_deadline);
    tcase_add_test(tc, test_read_killed);
    suite_add_tcase(s, tc);

    tc = kit_tcase("ex_tls_write");
    tcase_add_test(tc, test_write_small);
    tcase_add_test(tc, test_write_large_to_slow_reader);
    tcase_add_test(tc, test_write_that_must_read);
    tcase_add_test(tc, test_write_timeout);
    tcase_add_test(tc, test_write_one_deadline);
    tcase_add_test(tc, test_write_killed);
    tcase_add_test(tc, test_write_peer_gone);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(tlsio_suite()); }
