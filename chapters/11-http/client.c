/*
 * client.c - a raw HTTP client that shows what goes over the wire, like
 * `curl -v`, but one that can also misbehave: pipeline, drip a request
 * one byte at a time, send a body only after "100 Continue".
 *
 * Usage: client HOST PORT STEP...   where each STEP is
 *   send:TEXT    send TEXT (\r and \n written as such)
 *   wait:MS      print what arrives during MS milliseconds
 *   read         print what arrives until the server closes (at most 5 s)
 *   drip:TEXT    send TEXT one byte every 200 ms, until the server closes
 *   shut         stop sending (shutdown SHUT_WR): a body cut half-way
 * Lines sent are shown "> ", lines received "< ", each with the time since
 * the start; "*" lines say what happened to the connection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "green.h"

static double t0;
static int closed;

/* "a\r\nb" on the command line becomes a, CR, LF, b. */
static size_t unescape(const char *in, char *out)
{
    size_t n = 0;
    for (; *in; in++) {
        if (in[0] == '\\' && (in[1] == 'r' || in[1] == 'n')) {
            out[n++] = *++in == 'r' ? '\r' : '\n';
        } else {
            out[n++] = *in;
        }
    }
    return n;
}

/* Print buf[0..n) line by line after `arrow`, CR LF dropped. */
static void show(const char *arrow, const char *buf, size_t n)
{
    while (n > 0) {
        size_t len = 0;
        while (len < n && buf[len] != '\n')
            len++;
        size_t shown = len > 0 && buf[len - 1] == '\r' ? len - 1 : len;
        printf("  +%.3fs %s %.*s\n", green_now() - t0, arrow, (int)shown, buf);
        len += len < n;                 /* the '\n' itself */
        buf += len;
        n -= len;
    }
    fflush(stdout);
}

/* Print what arrives for `seconds`, or until the server closes. */
static void receive(int fd, double seconds)
{
    char buf[8192];
    double end = green_now() + seconds;
    while (!closed && green_now() < end) {
        ssize_t n = green_recv(fd, buf, sizeof buf, end - green_now());
        if (n > 0) {
            show("<", buf, (size_t)n);
        } else if (n == 0 || errno != ETIMEDOUT) {
            printf("  +%.3fs * the server closed the connection\n", green_now() - t0);
            closed = 1;
        }
    }
}

static void drip(int fd, const char *text, size_t n)
{
    for (size_t i = 0; i < n && !closed; i++) {
        if (green_sendall(fd, text + i, 1, 1.0) < 0)
            break;
        receive(fd, 0.2);
    }
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: client HOST PORT STEP...\n");
        return 2;
    }
    t0 = green_now();
    int fd = green_tcp_connect(argv[1], argv[2], 5.0);
    if (fd < 0) {
        fprintf(stderr, "client: cannot connect: %s\n", strerror(errno));
        return 1;
    }
    static char text[1 << 16];
    for (int i = 3; i < argc && !closed; i++) {
        const char *step = argv[i];
        if (strncmp(step, "send:", 5) == 0) {
            size_t n = unescape(step + 5, text);
            show(">", text, n);
            green_sendall(fd, text, n, 5.0);
        } else if (strncmp(step, "wait:", 5) == 0) {
            receive(fd, atoi(step + 5) / 1000.0);
        } else if (strcmp(step, "read") == 0) {
            receive(fd, 5.0);
        } else if (strcmp(step, "shut") == 0) {
            printf("  +%.3fs * the client stops sending\n", green_now() - t0);
            shutdown(fd, SHUT_WR);
        } else if (strncmp(step, "drip:", 5) == 0) {
            printf("  +%.3fs * sending one byte every 200 ms...\n", green_now() - t0);
            drip(fd, text, unescape(step + 5, text));
        }
    }
    if (!closed)
        printf("  +%.3fs * connection left open\n", green_now() - t0);
    green_close(fd);
    green_hub_destroy();
    return 0;
}
