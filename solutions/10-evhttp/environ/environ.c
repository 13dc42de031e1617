/* environ.c - solution of exercise 10-evhttp/environ.  See environ.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>

#include "environ.h"

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

ssize_t ex_path_decode(const char *s, char *out, size_t size)
{
    size_t n = 0;
    for (; *s; s++) {
        int c = (unsigned char)*s;
        if (c == '%') {
            /* s[1] is checked before s[2] is looked at: "%4" at the end
             * stops at the NUL. */
            int hi = hexval((unsigned char)s[1]);
            int lo = hi < 0 ? -1 : hexval((unsigned char)s[2]);
            if (lo < 0 || (hi == 0 && lo == 0)) {
                errno = EINVAL;
                return -1;
            }
            c = hi * 16 + lo;
            s += 2;
        }
        if (n + 1 >= size) {
            errno = ENOSPC;
            return -1;
        }
        out[n++] = (char)c;
    }
    if (size == 0) {
        errno = ENOSPC;
        return -1;
    }
    out[n] = '\0';
    return (ssize_t)n;
}

static const char *method_name(enum evhttp_cmd_type cmd)
{
    switch (cmd) {
    case EVHTTP_REQ_GET:     return "GET";
    case EVHTTP_REQ_POST:    return "POST";
    case EVHTTP_REQ_HEAD:    return "HEAD";
    case EVHTTP_REQ_PUT:     return "PUT";
    case EVHTTP_REQ_DELETE:  return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_TRACE:   return "TRACE";
    case EVHTTP_REQ_CONNECT: return "CONNECT";
    case EVHTTP_REQ_PATCH:   return "PATCH";
    }
    return "UNKNOWN";
}

/* wsgi.input: the body is all in evhttp's buffer already. */
static ssize_t body_read(green_input_t *in, void *buf, size_t n)
{
    struct ex_body *b = (struct ex_body *)in;
    int got = evbuffer_remove(b->buf, buf, n);
    if (got < 0)
        errno = EIO;
    return got;
}

/* Copy the request's headers, in order. */
static int copy_headers(ex_environ_t *e, struct evkeyvalq *q)
{
    size_t n = 0;
    for (struct evkeyval *h = q->tqh_first; h; h = h->next.tqe_next)
        n++;
    e->headers = calloc(n ? n : 1, sizeof *e->headers);
    if (!e->headers)
        return -1;
    for (struct evkeyval *h = q->tqh_first; h; h = h->next.tqe_next) {
        green_header_t *out = &e->headers[e->env.nheaders];
        out->name = strdup(h->key);
        out->value = strdup(h->value);
        if (!out->name || !out->value) {
            free((char *)out->name);
            free((char *)out->value);
            return -1;
        }
        e->env.nheaders++;
    }
    e->env.headers = e->headers;
    return 0;
}

int ex_environ_init(ex_environ_t *e, struct evhttp_request *req)
{
    memset(e, 0, sizeof *e);
    green_environ_t *env = &e->env;
    const struct evhttp_uri *parsed = evhttp_request_get_evhttp_uri(req);
    const char *path = parsed ? evhttp_uri_get_path(parsed) : NULL;
    const char *query = parsed ? evhttp_uri_get_query(parsed) : NULL;

    env->method = method_name(evhttp_request_get_command(req));
    e->uri = strdup(evhttp_request_get_uri(req));
    e->query = strdup(query ? query : "");
    /* Decoding only shrinks: the raw path's size is enough. */
    e->path = malloc(strlen(path ? path : "") + 1);
    if (!e->uri || !e->query || !e->path || copy_headers(e, evhttp_request_get_input_headers(req)) < 0) {
        ex_environ_free(e);
        errno = ENOMEM;
        return -1;
    }
    if (ex_path_decode(path ? path : "", e->path, strlen(path ? path : "") + 1) < 0) {
        ex_environ_free(e);
        errno = EINVAL;
        return -1;
    }
    env->uri = e->uri;
    env->path = e->path;
    env->query = e->query;

    snprintf(e->protocol, sizeof e->protocol, "HTTP/%d.%d", req->major, req->minor);
    env->protocol = e->protocol;
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    char *addr = NULL;
    ev_uint16_t port = 0;
    if (conn)
        evhttp_connection_get_peer(conn, &addr, &port);
    snprintf(e->remote_addr, sizeof e->remote_addr, "%s", addr ? addr : "");
    env->remote_addr = e->remote_addr;

    const char *length = green_environ_header(env, "Content-Length");
    env->content_length = length ? strtoll(length, NULL, 10) : -1;
    e->body.buf = evhttp_request_get_input_buffer(req);
    e->body.input.read = body_read;
    env->input = &e->body.input;
    return 0;
}

void ex_environ_free(ex_environ_t *e)
{
    for (size_t i = 0; i < e->env.nheaders; i++) {
        free((char *)e->headers[i].name);
        free((char *)e->headers[i].value);
    }
    free(e->headers);
    free(e->uri);
    free(e->path);
    free(e->query);
    memset(e, 0, sizeof *e);
}
