/*
 * tls_echo.c - echo.c again, every byte encrypted: a TLS server greenlet
 * and three TLS clients on 127.0.0.1, all in one thread.
 *
 * The code is echo.c's with one step more on each side, the handshake,
 * and green_tls_* calls in place of green_*.  Each of them runs OpenSSL's
 * SSL_* call in tls.h's loop: SSL_ERROR_WANT_READ or _WANT_WRITE parks
 * the greenlet on the hub, exactly as EAGAIN does in green_recv, so the
 * four conversations interleave as echo.c's did.
 *
 * Usage: tls_echo DIR, where tests/tls-certs.sh DIR made the certificates
 * (run.sh does): the server shows cert.pem, the clients trust ca.pem only
 * and check that the certificate is for "localhost".
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/ssl.h>

#include "green.h"

static char port[16];                   /* the server's port, chosen by the kernel */
static green_tls_ctx_t *server_ctx, *client_ctx;

/* One connection: the handshake, then echo until the client is done. */
static void *handle(void *arg)
{
    green_tls_t *t = green_tls_new(server_ctx, (int)(intptr_t)arg, NULL);
    char buf[256];
    ssize_t n;
    if (green_tls_handshake(t, 2.0) < 0)        /* short: a silent client must not hold us */
        printf("server: handshake failed: %s\n", green_tls_error());
    else
        while ((n = green_tls_recv(t, buf, sizeof buf, 5.0)) > 0)
            if (green_tls_sendall(t, buf, (size_t)n, 5.0) < 0)
                break;
    green_tls_close(t);                         /* close_notify, then close(fd) */
    return NULL;
}

static void *serve(void *arg)
{
    int listener = (int)(intptr_t)arg;
    for (;;) {
        int fd = green_accept(listener, NULL, NULL, GREEN_FOREVER);
        if (fd < 0)
            return NULL;                        /* killed: ECANCELED */
        green_detach(green_spawn(handle, (void *)(intptr_t)fd));
    }
}

/* How often the hub resumed each client: after the first time, every
 * resume ends one park, on WANT_READ or WANT_WRITE (or on connect). */
static const char *names[] = { "alice", "bob", "carol" };
static green_t *clients[3];
static int resumes[3];

static void count_resumes(void *arg, green_t *g)
{
    (void)arg;
    for (int i = 0; i < 3; i++)
        resumes[i] += g == clients[i];
}

static void *client(void *arg)
{
    int me = (int)(intptr_t)arg;
    const char *name = names[me];
    int fd = green_tcp_connect("127.0.0.1", port, 1.0);
    if (fd < 0) {
        perror(name);
        return NULL;
    }
    int before = resumes[me];
    green_tls_t *t = green_tls_new(client_ctx, fd, "localhost");
    if (green_tls_handshake(t, 2.0) < 0) {
        printf("%-5s handshake failed: %s\n", name, green_tls_error());
        green_tls_close(t);
        return NULL;
    }
    const char *alpn = green_tls_alpn(t);
    printf("%-5s handshake done: %s, %s, ALPN %s\n", name, green_tls_version(t),
           green_tls_cipher(t), alpn ? alpn : "(none)");
    for (int i = 1; i <= 3; i++) {
        char msg[64], back[64];
        size_t len = (size_t)snprintf(msg, sizeof msg, "%s #%d", name, i), got = 0;
        printf("%-5s sends    '%s'\n", name, msg);
        if (green_tls_sendall(t, msg, len, 1.0) < 0)
            break;
        while (got < len) {                     /* one record at a time: it may come in pieces */
            ssize_t n = green_tls_recv(t, back + got, len - got, 1.0);
            if (n <= 0)
                goto out;
            got += (size_t)n;
        }
        printf("%-5s receives '%.*s'\n", name, (int)got, back);
    }
out:
    printf("%-5s parked %d times on WANT_READ/WANT_WRITE\n", name, resumes[me] - before);
    green_tls_close(t);
    return NULL;
}

int main(int argc, char **argv)
{
    char ca[512], cert[512], key[512];
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR   (make DIR with: sh tests/tls-certs.sh DIR)\n", argv[0]);
        return 2;
    }
    snprintf(ca, sizeof ca, "%s/ca.pem", argv[1]);
    snprintf(cert, sizeof cert, "%s/cert.pem", argv[1]);
    snprintf(key, sizeof key, "%s/key.pem", argv[1]);
    server_ctx = green_tls_server_ctx(cert, key);
    client_ctx = green_tls_client_ctx(ca);      /* trusts our CA only; checks names */
    if (!server_ctx || !client_ctx) {
        perror("certificates (sh tests/tls-certs.sh DIR makes them)");
        return 1;
    }
    /* The clients offer HTTP/1.1 by ALPN, as a browser would (with h2). */
    SSL_CTX_set_alpn_protos(green_tls_ctx_ssl(client_ctx), (const unsigned char *)"\x08http/1.1", 9);

    int listener = green_tcp_listen("127.0.0.1", "0", 16);
    snprintf(port, sizeof port, "%d", green_socket_port(listener));
    green_t *server = green_spawn(serve, (void *)(intptr_t)listener);
    for (int i = 0; i < 3; i++)
        clients[i] = green_spawn(client, (void *)(intptr_t)i);
    green_hub_observe(count_resumes, NULL);

    double start = green_now();
    green_joinall(clients, 3, 5.0);
    printf("3 TLS clients x 3 echoes in %.1f ms, one thread\n", (green_now() - start) * 1e3);

    green_hub_observe(NULL, NULL);
    green_kill(server, 1.0);
    green_free(server);
    for (int i = 0; i < 3; i++)
        green_free(clients[i]);
    green_close(listener);
    green_tls_ctx_free(server_ctx);
    green_tls_ctx_free(client_ctx);
    green_hub_destroy();
    return 0;
}
