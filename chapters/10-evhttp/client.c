/*
 * client.c - what goes over the wire, like `curl -v` in article 004: the
 * request with "> ", the response head with "< ", then the body, and what
 * the connection did (how many reads the response took, whether the
 * server left the connection open).  Raw sockets, so nothing is hidden.
 *
 * Usage: client HOST PORT PATH                 one request
 *        client HOST PORT --head PATH          a HEAD request
 *        client HOST PORT --pipeline PATH...   all requests in ONE write
 *        client HOST PORT --together PATH...   a connection per path, at once
 *        client HOST PORT --raw 'BYTES'        send BYTES (\r and \n spelled
 *                                              out), print all that comes back
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "green.h"

static const char *host, *port;
static double t0;

/* Read one response off fd into buf (bytes left over stay for the next
 * call, in *have).  Returns the length of the response, or -1. */
static long read_response(int fd, char *buf, size_t size, size_t *have,
                          int *reads, int head)
{
    long total = -1;
    for (;;) {
        char *end = memmem(buf, *have, "\r\n\r\n", 4);
        if (end && total < 0) {
            char *cl = strcasestr(buf, "\r\nContent-Length:");
            total = (end - buf) + 4 + (cl && cl < end && !head ? atol(cl + 17) : 0);
        }
        if (total >= 0 && *have >= (size_t)total)
            return total;
        ssize_t n = green_recv(fd, buf + *have, size - *have, 5.0);
        if (n <= 0)
            return -1;
        *have += (size_t)n;
        (*reads)++;
    }
}

/* Print a response the way curl -v does: head lines with "< ". */
static void show(const char *resp, long len)
{
    const char *body = strstr(resp, "\r\n\r\n") + 4;
    for (const char *line = resp; line < body; line = strstr(line, "\r\n") + 2)
        printf("< %.*s\n", (int)strcspn(line, "\r"), line);
    int n = (int)(len - (body - resp));
    printf("%.*s%s", n, body, n > 0 && body[n - 1] != '\n' ? "\n" : "");
}

/* Send the requests for paths[0..n) in one write, print each response
 * (all of it when verbose, else one line). */
static void exchange(const char *method, char **paths, int n, int verbose)
{
    static char req[8192], buf[1 << 16];
    size_t used = 0, have = 0;
    for (int i = 0; i < n; i++) {
        used += (size_t)snprintf(req + used, sizeof req - used,
                                 "%s %s HTTP/1.1\r\nHost: %s:%s\r\n\r\n",
                                 method, paths[i], host, port);
    }
    int fd = green_tcp_connect(host, port, 5.0);
    if (fd < 0 || green_sendall(fd, req, used, 5.0) < 0) {
        perror("client");
        exit(1);
    }
    for (char *line = req; verbose && *line; line = strstr(line, "\r\n") + 2)
        printf("> %.*s\n", (int)strcspn(line, "\r"), line);
    if (n > 1)
        printf("* %d requests sent in one write (%zu bytes)\n", n, used);
    for (int i = 0; i < n; i++) {
        int reads = 0;
        long len = read_response(fd, buf, sizeof buf, &have, &reads,
                                 strcmp(method, "HEAD") == 0);
        if (len < 0) {
            printf("* response %d never came\n", i + 1);
            break;
        }
        if (verbose) {
            show(buf, len);
            if (reads > 0)
                printf("* response %d: %ld bytes in %d read(s), complete after %.2f s\n",
                       i + 1, len, reads, green_now() - t0);
            else
                printf("* response %d: %ld bytes, already received with the one before\n",
                       i + 1, len);
        } else {
            printf("* GET %s: %.*s, complete after %.2f s\n", paths[i],
                   (int)strcspn(buf, "\r"), buf, green_now() - t0);
        }
        memmove(buf, buf + len, have - (size_t)len);
        have -= (size_t)len;
    }
    /* Did the server hang up, or keep the connection for the next request? */
    char c;
    if (verbose)
        printf("* %s\n", green_recv(fd, &c, 1, 0.2) == 0 ? "the server closed the connection"
                     : "connection left open by the server (keep-alive)");
    green_close(fd);
}

/* --raw: send bytes as given (with \r and \n turned into CR and LF) and
 * print every line that comes back, until the server closes or says
 * nothing for a second: for requests no polite client would send. */
static void raw(const char *spec)
{
    static char req[8192], buf[1 << 16];
    size_t used = 0, have = 0;
    for (const char *p = spec; *p && used < sizeof req; p++) {
        if (p[0] == '\\' && (p[1] == 'r' || p[1] == 'n'))
            req[used++] = *++p == 'r' ? '\r' : '\n';
        else
            req[used++] = *p;
    }
    int fd = green_tcp_connect(host, port, 5.0);
    if (fd < 0 || green_sendall(fd, req, used, 5.0) < 0) {
        perror("client");
        exit(1);
    }
    printf("* sent %zu bytes in one write\n", used);
    ssize_t n = -1;
    while (have < sizeof buf && (n = green_recv(fd, buf + have, sizeof buf - have, 1.0)) > 0)
        have += (size_t)n;
    for (char *line = buf, *end; line < buf + have; line = end + 1) {
        end = memchr(line, '\n', (size_t)(buf + have - line));
        if (!end)
            end = buf + have;
        printf("< %.*s\n", (int)(end - line - (end > line && end[-1] == '\r')), line);
    }
    printf("* %s\n", n == 0 ? "the server closed the connection"
                     : "connection left open by the server (keep-alive)");
    green_close(fd);
}

static void *one(void *path)
{
    exchange("GET", (char **)&path, 1, 0);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: client HOST PORT [--head|--pipeline|--together] PATH...\n"
                        "       client HOST PORT --raw 'GET / HTTP/1.0\\r\\n\\r\\n'\n");
        return 2;
    }
    host = argv[1], port = argv[2];
    t0 = green_now();
    if (strcmp(argv[3], "--head") == 0) {
        exchange("HEAD", argv + 4, 1, 1);
    } else if (strcmp(argv[3], "--pipeline") == 0) {
        exchange("GET", argv + 4, argc - 4, 1);
    } else if (strcmp(argv[3], "--raw") == 0 && argc == 5) {
        raw(argv[4]);
    } else if (strcmp(argv[3], "--together") == 0) {
        green_t *g[8];
        int n = argc - 4 < 8 ? argc - 4 : 8;
        for (int i = 0; i < n; i++)
            g[i] = green_spawn(one, argv[4 + i]);
        green_joinall(g, n, 10.0);
        printf("* all %d done after %.2f s\n", n, green_now() - t0);
        for (int i = 0; i < n; i++)
            green_free(g[i]);
    } else {
        exchange("GET", argv + 3, 1, 1);
    }
    green_hub_destroy();
    return 0;
}
