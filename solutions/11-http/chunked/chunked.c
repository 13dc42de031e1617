/* chunked.c - solution of exercise 11-http/chunked.  See chunked.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "green.h"
#include "chunked.h"

#define SEND_TIMEOUT 5.0

int ex_chunk_header(size_t len, char *buf, size_t size)
{
    /* snprintf says how long the line would be even when it is cut:
     * that is how we know it did not fit. */
    int n = snprintf(buf, size, "%zx\r\n", len);
    if (n < 0 || (size_t)n >= size) {
        errno = ENOSPC;
        return -1;
    }
    return n;
}

/* Append n bytes at out[*used], if they fit in size. */
static int append(char *out, size_t size, size_t *used, const void *p, size_t n)
{
    if (size - *used < n) {
        errno = ENOSPC;
        return -1;
    }
    memcpy(out + *used, p, n);
    *used += n;
    return 0;
}

ssize_t ex_chunked_encode(const green_chunk_t *chunks, size_t n, char *out,
                          size_t size)
{
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        char line[24];
        if (chunks[i].len == 0)
            continue;           /* "0\r\n" would end the body here */
        int len = ex_chunk_header(chunks[i].len, line, sizeof line);
        if (append(out, size, &used, line, (size_t)len) < 0 ||
            append(out, size, &used, chunks[i].data, chunks[i].len) < 0 ||
            append(out, size, &used, "\r\n", 2) < 0)
            return -1;
    }
    if (append(out, size, &used, "0\r\n\r\n", 5) < 0)
        return -1;
    return (ssize_t)used;
}

int ex_chunked_send(int fd, green_body_t *body)
{
    green_chunk_t chunk;
    char line[24];
    /* One chunk at a time: it leaves before the generator makes the next. */
    while (green_body_next(body, &chunk)) {
        int len = ex_chunk_header(chunk.len, line, sizeof line);
        if (green_sendall(fd, line, (size_t)len, SEND_TIMEOUT) < 0 ||
            green_sendall(fd, chunk.data, chunk.len, SEND_TIMEOUT) < 0 ||
            green_sendall(fd, "\r\n", 2, SEND_TIMEOUT) < 0)
            return -1;
    }
    if (green_body_error(body)) {   /* cut: never say it is whole */
        errno = green_body_error(body);
        return -1;
    }
    return green_sendall(fd, "0\r\n\r\n", 5, SEND_TIMEOUT) < 0 ? -1 : 0;
}
