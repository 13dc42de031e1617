/* chunked.c - exercise 11-http/chunked.  Read chunked.h first. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "green.h"
#include "chunked.h"

int ex_chunk_header(size_t len, char *buf, size_t size)
{
    /* TODO: "%zx\r\n" into buf; -1 with ENOSPC when it does not fit. */
    (void)len;
    (void)buf;
    (void)size;
    errno = ENOSYS;
    return -1;
}

ssize_t ex_chunked_encode(const green_chunk_t *chunks, size_t n, char *out,
                          size_t size)
{
    /* TODO: for each non-empty chunk: size line, data, "\r\n"; then
     * "0\r\n\r\n".  -1 with ENOSPC when out is too small. */
    (void)chunks;
    (void)n;
    (void)out;
    (void)size;
    errno = ENOSYS;
    return -1;
}

int ex_chunked_send(int fd, green_body_t *body)
{
    /* TODO: while green_body_next(body, &chunk): send the chunk framed;
     * then send the last chunk. */
    (void)fd;
    (void)body;
    errno = ENOSYS;
    return -1;
}
