/*
 * ws_floor.c - the floor of `make bench-ws`'s echo figures: the least a
 * WebSocket echo server can do on this machine's loopback.  One blocking
 * connection at a time, the 101 answered without reading the request's
 * headers (no Sec-WebSocket-Accept: wsload does not check it), and every
 * frame sent back unmasked, with no UTF-8 check, no limit, no ping: no
 * server should run like this.  What remains is the kernel's part of a
 * round trip (two sends, two wake-ups), which no server can go below: a
 * target "2x another server's round trip" cannot be met when that server
 * is already within 2x of the floor.
 *
 * Usage: ws_floor HOST   prints "listening on http://HOST:PORT".
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static unsigned char in[1 << 16], out[1 << 16];

/* Echo the frames of one connection until it ends. */
static void echo(int fd)
{
    size_t len = 0;
    char *end;
    /* The request: everything up to the blank line. */
    while (!(end = memmem(in, len, "\r\n\r\n", 4))) {
        ssize_t n = read(fd, in + len, sizeof in - len);
        if (n <= 0)
            return;
        len += (size_t)n;
    }
    static const char ok[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\n\r\n";
    if (write(fd, ok, sizeof ok - 1) < 0)
        return;
    size_t used = (size_t)((unsigned char *)end + 4 - in);
    memmove(in, in + used, len - used);
    len -= used;
    for (;;) {
        /* Every whole frame (masked, under 126 bytes: wsload's) back. */
        size_t off = 0, olen = 0;
        while (len - off >= 6 && len - off >= 6 + (in[off + 1] & 0x7fu)) {
            size_t n = in[off + 1] & 0x7fu;
            const unsigned char *mask = in + off + 2, *p = in + off + 6;
            int opcode = in[off] & 0x0f;
            out[olen++] = in[off];
            out[olen++] = (unsigned char)n;
            for (size_t i = 0; i < n; i++)
                out[olen++] = p[i] ^ mask[i & 3];
            off += 6 + n;
            if (opcode == 0x8)
                return;                 /* a close: the connection ends */
        }
        if (olen > 0 && write(fd, out, olen) < 0)
            return;
        memmove(in, in + off, len - off);
        len -= off;
        ssize_t got = read(fd, in + len, sizeof in - len);
        if (got <= 0)
            return;
        len += (size_t)got;
    }
}

int main(int argc, char **argv)
{
    const char *host = argc > 1 ? argv[1] : "127.0.0.1";
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t alen = sizeof a;
    int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1 ||
        bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 16) < 0 ||
        getsockname(s, (struct sockaddr *)&a, &alen) < 0) {
        perror("ws_floor");
        return 1;
    }
    printf("listening on http://%s:%d\n", host, ntohs(a.sin_port));
    fflush(stdout);
    for (;;) {
        int fd = accept(s, NULL, NULL);
        if (fd < 0)
            continue;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        echo(fd);
        close(fd);
    }
}
