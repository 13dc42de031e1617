/* keepalive.c - solution of exercise 11-http/keepalive.  See keepalive.h. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "green.h"
#include "keepalive.h"

/* Does the comma-separated list v[0..len) hold `option` (any case)? */
static int has_option(const char *v, size_t len, const char *option)
{
    size_t n = strlen(option), i = 0;
    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t start = i;
        while (i < len && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
            i++;
        if (i - start == n && strncasecmp(v + start, option, n) == 0)
            return 1;
    }
    return 0;
}

int ex_keep_alive(const green_http_request_t *req)
{
    size_t len = 0;
    const char *v = green_http_find_header(req, "Connection", &len);
    if (req->minor >= 1)
        return !(v && has_option(v, len, "close"));
    return v && has_option(v, len, "keep-alive");
}

ssize_t ex_serve_buffer(const char *buf, size_t len, ex_respond_fn respond,
                        void *arg, int *close)
{
    size_t used = 0;
    *close = 0;
    while (used < len) {
        green_http_request_t req;
        int rc = green_http_parse_request(buf + used, len - used, NULL, &req);
        if (rc == 0)
            break;                      /* the rest comes with the next read */
        if (rc < 0 || req.chunked) {
            respond(rc < 0 ? -rc : 501, NULL, 0, arg);
            *close = 1;
            break;
        }
        size_t body = req.content_length > 0 ? (size_t)req.content_length : 0;
        if (len - used - (size_t)rc < body)
            break;                      /* its body is still on its way */
        int keep = ex_keep_alive(&req);
        used += (size_t)rc + body;
        if (respond(200, &req, keep, arg) < 0 || !keep) {
            *close = 1;
            break;
        }
    }
    return (ssize_t)used;
}

int ex_serve_connection(int fd, ex_respond_fn respond, void *arg,
                        double idle_timeout)
{
    char buf[EX_BUFFER];
    size_t len = 0;
    for (;;) {
        if (len == sizeof buf) {        /* full, and still no whole head */
            respond(431, NULL, 0, arg);
            return 0;
        }
        ssize_t n = green_recv(fd, buf + len, sizeof buf - len, idle_timeout);
        if (n <= 0)
            return (int)n;              /* 0: the client closed; -1: errno */
        len += (size_t)n;
        int close;
        ssize_t used = ex_serve_buffer(buf, len, respond, arg, &close);
        if (close)
            return 0;
        /* The start of the next request moves to the front. */
        memmove(buf, buf + used, len - (size_t)used);
        len -= (size_t)used;
    }
}
