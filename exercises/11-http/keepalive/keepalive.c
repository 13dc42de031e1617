/* keepalive.c - exercise 11-http/keepalive.  Read keepalive.h first. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "green.h"
#include "keepalive.h"

int ex_keep_alive(const green_http_request_t *req)
{
    /* TODO: HTTP/1.1 unless "close"; HTTP/1.0 only with "keep-alive".
     * Until then: -1 with errno ENOSYS ("not implemented"). */
    (void)req;
    errno = ENOSYS;
    return -1;
}

ssize_t ex_serve_buffer(const char *buf, size_t len, ex_respond_fn respond,
                        void *arg, int *close)
{
    /* TODO: parse, respond, skip the body, next request...  Until then:
     * -1 with errno ENOSYS ("not implemented"). */
    (void)buf;
    (void)len;
    (void)respond;
    (void)arg;
    *close = 1;
    errno = ENOSYS;
    return -1;
}

int ex_serve_connection(int fd, ex_respond_fn respond, void *arg,
                        double idle_timeout)
{
    /* TODO: read, ex_serve_buffer, keep the rest, read more... */
    (void)fd;
    (void)respond;
    (void)arg;
    (void)idle_timeout;
    errno = ENOSYS;
    return -1;
}
