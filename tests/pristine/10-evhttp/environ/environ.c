/* environ.c - exercise 10-evhttp/environ.  Read environ.h first. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>

#include "environ.h"

ssize_t ex_path_decode(const char *s, char *out, size_t size)
{
    /* TODO: copy s into out, turning each %XX into one byte; -1 with
     * EINVAL for a bad escape or %00, -1 with ENOSPC when out is too
     * small. */
    (void)s;
    (void)out;
    (void)size;
    errno = ENOSYS;
    return -1;
}

int ex_environ_init(ex_environ_t *e, struct evhttp_request *req)
{
    /* TODO: fill e->env from req (method, uri, decoded path, query,
     * protocol, remote address, headers, content length, input). */
    memset(e, 0, sizeof *e);
    (void)req;
    errno = ENOSYS;
    return -1;
}

void ex_environ_free(ex_environ_t *e)
{
    /* TODO: free what ex_environ_init allocated. */
    (void)e;
}
