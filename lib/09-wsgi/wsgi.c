/*
 * wsgi.c - chapter 9: the WSGI-style interface (see wsgi.h).
 *
 * Nothing here speaks HTTP or touches a socket: this file is the part every
 * server shares (checking what start_response was given, walking a body)
 * and a test client that calls an application directly.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "url.h"
#include "wsgi.h"

/* ---- The request ---------------------------------------------------------- */

ssize_t green_input_read(green_input_t *in, void *buf, size_t n)
{
    if (!in || !in->read)
        return 0;                 /* no input stream: an empty body */
    return in->read(in, buf, n);
}

char *green_input_read_all(green_input_t *in, size_t max, size_t *len)
{
    size_t cap = 4096, used = 0;
    char *buf = malloc(cap + 1);

    while (buf) {
        if (used == cap) {
            char *bigger = realloc(buf, 2 * cap + 1);
            if (!bigger)
                break;
            buf = bigger;
            cap *= 2;
        }
        /* Never read more than max + 1 bytes: one byte over the limit is
         * enough to refuse the body, and the rest stays unread. */
        size_t room = cap - used;
        if (max - used < room)
            room = max - used + 1;
        ssize_t got = green_input_read(in, buf + used, room);
        if (got == 0) {
            buf[used] = '\0';
            *len = used;
            return buf;
        }
        if (got < 0)
            break;
        used += (size_t)got;
        if (used > max) {
            errno = EMSGSIZE;
            break;
        }
    }
    int err = buf ? errno : ENOMEM;
    free(buf);
    errno = err;
    return NULL;
}

/* Does header name `name` ("User-Agent") match the CGI spelling `cgi`
 * ("USER_AGENT")?  Upper case, '-' as '_', without copying either. */
static int cgi_name_matches(const char *name, const char *cgi)
{
    for (; *name && *cgi; name++, cgi++) {
        char c = *name == '-' ? '_' : (char)toupper((unsigned char)*name);
        if (c != *cgi)
            return 0;
    }
    return *name == *cgi;
}

const char *green_environ_header(const green_environ_t *env, const char *name)
{
    for (size_t i = 0; i < env->nheaders; i++)
        if (strcasecmp(env->headers[i].name, name) == 0)
            return env->headers[i].value;
    return NULL;
}

const char *green_environ_get(const green_environ_t *env, const char *key)
{
    static const char *const names[] = {
        "REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "REQUEST_URI",
        "SERVER_PROTOCOL", "REMOTE_ADDR", "SERVER_NAME", "SERVER_PORT",
    };
    const char *const values[] = {
        env->method, env->path, env->query, env->uri,
        env->protocol, env->remote_addr, env->server_name, env->server_port,
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(key, names[i]) == 0)
            return values[i];
    if (strcmp(key, "wsgi.url_scheme") == 0)
        return env->url_scheme ? env->url_scheme : "http";
    /* CGI keeps these two without the HTTP_ prefix. */
    if (strcmp(key, "CONTENT_TYPE") == 0)
        return green_environ_header(env, "Content-Type");
    if (strcmp(key, "CONTENT_LENGTH") == 0)
        return green_environ_header(env, "Content-Length");
    if (strncmp(key, "HTTP_", 5) != 0)
        return NULL;
    for (size_t i = 0; i < env->nheaders; i++)
        if (cgi_name_matches(env->headers[i].name, key + 5))
            return env->headers[i].value;
    return NULL;
}

ssize_t green_query_param(const green_environ_t *env, const char *name,
                          char *buf, size_t size)
{
    const char *q = env->query ? env->query : "";
    size_t nlen = strlen(name);

    while (*q) {
        size_t plen = strcspn(q, "&");
        if (plen > nlen && strncmp(q, name, nlen) == 0 && q[nlen] == '=')
            return green_url_unescape(buf, size, q + nlen + 1,
                                      plen - nlen - 1, 1);
        if (plen == nlen && strncmp(q, name, nlen) == 0)
            return green_url_unescape(buf, size, "", 0, 1);   /* "?flag" */
        q += plen;
        if (*q == '&')
            q++;
    }
    errno = ENOENT;
    return -1;
}

/* ---- The response --------------------------------------------------------- */

void green_response_init(green_response_t *resp)
{
    /* Only the counters: the arrays behind them are written before they
     * are read, and clearing 4 KiB per request shows in a benchmark. */
    resp->started = resp->sent = resp->code = 0;
    resp->status[0] = '\0';
    resp->nheaders = resp->used = 0;
}

/* RFC 9110's token characters: what a header name may be made of. */
static int is_token(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
            return 0;
    return 1;
}

/* A value may hold anything visible, spaces and tabs; never CR, LF or
 * NUL (NUL ends the C string anyway). */
static int is_field_value(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 && *s != '\t')
            return 0;
    return 1;
}

/* "200 OK": three digits, a space, a reason without control characters. */
static int is_status(const char *s)
{
    return isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
           isdigit((unsigned char)s[2]) && s[3] == ' ' && s[0] >= '1' &&
           s[0] <= '5' && is_field_value(s + 4) && strlen(s) < 64;
}

/* Append s to store[0..*used) (of size GREEN_RESPONSE_STORE); its offset,
 * or -1 when it does not fit. */
static long append(char *store, size_t *used, const char *s)
{
    size_t n = strlen(s) + 1;
    if (*used + n > GREEN_RESPONSE_STORE)
        return -1;
    memcpy(store + *used, s, n);
    *used += n;
    return (long)(*used - n);
}

int green_start_response(green_response_t *resp, const char *status,
                         const green_header_t *headers, size_t n)
{
    if (resp->sent) {
        errno = EALREADY;
        return -1;
    }
    if (!status || !is_status(status)) {
        errno = EINVAL;
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!headers[i].name || !headers[i].value ||
            !is_token(headers[i].name) || !is_field_value(headers[i].value)) {
            errno = EINVAL;
            return -1;
        }
    if (n > GREEN_RESPONSE_MAX_HEADERS) {
        errno = E2BIG;
        return -1;
    }
    /* Checked first, built aside second: a refused call changes nothing,
     * and the new strings may come from resp itself (a middleware that
     * passes resp->status and resp->headers back with one header more). */
    char store[GREEN_RESPONSE_STORE];
    long name_at[GREEN_RESPONSE_MAX_HEADERS], value_at[GREEN_RESPONSE_MAX_HEADERS];
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        name_at[i] = append(store, &used, headers[i].name);
        value_at[i] = append(store, &used, headers[i].value);
        if (name_at[i] < 0 || value_at[i] < 0) {
            errno = E2BIG;
            return -1;
        }
    }
    memmove(resp->status, status, strlen(status) + 1);
    memcpy(resp->store, store, used);
    resp->used = used;
    for (size_t i = 0; i < n; i++) {
        resp->headers[i].name = resp->store + name_at[i];
        resp->headers[i].value = resp->store + value_at[i];
    }
    resp->nheaders = n;
    resp->code = atoi(resp->status);
    resp->started = 1;
    return 0;
}

const char *green_response_header(const green_response_t *resp,
                                  const char *name)
{
    for (size_t i = 0; i < resp->nheaders; i++)
        if (strcasecmp(resp->headers[i].name, name) == 0)
            return resp->headers[i].value;
    return NULL;
}

/* ---- The body --------------------------------------------------------------- */

green_body_t green_body_empty(void)
{
    green_body_t b = { 0 };
    return b;
}

green_body_t green_body_str(const char *s)
{
    green_body_t b = { .one = { s, strlen(s) }, .n = 1 };
    return b;
}

static void free_data(green_body_t *b)
{
    free(b->data);
}

green_body_t green_body_take(void *data, size_t len)
{
    green_body_t b = { .one = { data, len }, .n = 1, .close = free_data,
                       .data = data };
    return b;
}

green_body_t green_body_copy(const void *data, size_t len)
{
    void *copy = malloc(len ? len : 1);
    if (!copy) {
        errno = ENOMEM;
        return green_body_empty();
    }
    memcpy(copy, data, len);
    return green_body_take(copy, len);
}

green_body_t green_body_list(const green_chunk_t *list, size_t n)
{
    green_body_t b = { .list = list, .n = n };
    return b;
}

green_body_t green_body_gen(green_gen_t *gen, void (*close)(green_body_t *),
                            void *data)
{
    green_body_t b = { .gen = gen, .close = close, .data = data };
    return b;
}

/* What a failure chunk points at: an address no data can have.  Its
 * errno rides in len, so green_chunk_t needs no field that every other
 * chunk would carry. */
static const char failure_mark;

green_chunk_t green_chunk_failure(int err)
{
    green_chunk_t c = { &failure_mark, err > 0 ? (size_t)err : EIO };
    return c;
}

static void close_file(green_body_t *b)
{
    close(b->fd);
    free(b->filebuf);
    b->filebuf = NULL;
}

green_body_t green_body_file(int fd, long long offset, long long length)
{
    green_body_t b = { .is_file = 1, .fd = fd, .offset = offset,
                       .length = length, .close = close_file };
    return b;
}

/* The next piece of a file body, read at b->offset.  Files never block
 * the way sockets do (the page cache answers), so a plain pread. */
static int file_next(green_body_t *b, green_chunk_t *out)
{
    enum { FILE_CHUNK = 64 * 1024 };
    if (b->length <= 0)
        return 0;
    if (!b->filebuf && !(b->filebuf = malloc(FILE_CHUNK))) {
        b->error = ENOMEM;
        return 0;
    }
    size_t want = b->length < FILE_CHUNK ? (size_t)b->length : FILE_CHUNK;
    ssize_t got = pread(b->fd, b->filebuf, want, (off_t)b->offset);
    if (got <= 0) {
        b->error = got < 0 ? errno : EIO;   /* EIO: the file shrank */
        return 0;
    }
    b->offset += got;
    b->length -= got;
    *out = (green_chunk_t){ b->filebuf, (size_t)got };
    return 1;
}

int green_body_is_list(const green_body_t *b)
{
    return b->gen == NULL;
}

/* Chunk i of a list body, wherever it is kept. */
static green_chunk_t chunk_at(const green_body_t *b, size_t i)
{
    return b->list ? b->list[i] : b->one;
}

long long green_body_length(const green_body_t *b)
{
    if (b->is_file)
        return b->length;
    if (b->gen)
        return -1;
    long long total = 0;
    for (size_t i = 0; i < b->n; i++)
        total += (long long)chunk_at(b, i).len;
    return total;
}

int green_body_next(green_body_t *b, green_chunk_t *out)
{
    if (b->is_file)
        return file_next(b, out);
    if (!b->gen) {
        while (b->next < b->n) {
            *out = chunk_at(b, b->next++);
            if (out->len > 0)
                return 1;
        }
        return 0;
    }
    void *value;
    while (!b->error && green_gen_next(b->gen, &value)) {
        green_chunk_t *c = value;
        if (c && c->data == &failure_mark) {
            b->error = (int)c->len;   /* it failed: the body ends here */
        } else if (c && c->len > 0) {
            *out = *c;
            return 1;
        }
    }
    return 0;
}

int green_body_error(const green_body_t *b)
{
    return b->error;
}

void green_body_close(green_body_t *b)
{
    void (*close)(green_body_t *) = b->close;
    b->close = NULL;              /* a second call does nothing */
    if (close)
        close(b);
    *b = green_body_empty();      /* and green_body_next() ends at once */
}

/* ---- The application ---------------------------------------------------------- */

green_body_t green_app_call(green_app_t *app, green_environ_t *env,
                            green_response_t *resp)
{
    return app->call(app, env, resp);
}

/* ---- The test client ------------------------------------------------------------ */

/* The request body of a test request: a string, read in pieces. */
struct string_input {
    green_input_t input;
    const char *data;
    size_t left;
};

static ssize_t string_read(green_input_t *in, void *buf, size_t n)
{
    struct string_input *s = (struct string_input *)in;
    if (n > s->left)
        n = s->left;
    memcpy(buf, s->data, n);
    s->data += n;
    s->left -= n;
    return (ssize_t)n;
}

#define TEST_MAX_HEADERS 32

/* Split uri into the percent-decoded path and the query, as a server does.
 * Returns 0, or -1 with errno EINVAL (a bad escape, or a path too long). */
static int split_uri(const char *uri, char *path, size_t size,
                     const char **query)
{
    const char *q = strchr(uri, '?');
    size_t len = q ? (size_t)(q - uri) : strlen(uri);
    *query = q ? q + 1 : "";
    if (green_url_unescape(path, size, uri, len, 0) < 0) {
        errno = EINVAL;          /* a path too long for the test client */
        return -1;
    }
    return 0;
}

/* Append chunk c to out->body, whose buffer holds *cap bytes. */
static int collect(green_wsgi_result_t *out, size_t *cap, green_chunk_t c)
{
    if (out->len + c.len + 1 > *cap) {
        size_t want = 2 * (out->len + c.len + 1);
        char *bigger = realloc(out->body, want);
        if (!bigger)
            return -1;
        out->body = bigger;
        *cap = want;
    }
    memcpy(out->body + out->len, c.data, c.len);
    out->len += c.len;
    out->body[out->len] = '\0';
    out->chunks++;
    return 0;
}

int green_wsgi_request(green_app_t *app, const char *method, const char *uri,
                       const char *const *headers, const char *body,
                       green_wsgi_result_t *out)
{
    memset(out, 0, sizeof *out);
    green_response_init(&out->resp);

    green_header_t hs[TEST_MAX_HEADERS + 1];
    size_t nh = 0;
    for (; headers && headers[0] && nh < TEST_MAX_HEADERS; headers += 2)
        hs[nh++] = (green_header_t){ headers[0], headers[1] };

    char path[1024];
    char length[32];
    green_environ_t env = {
        .method = method, .uri = uri, .protocol = "HTTP/1.1",
        .remote_addr = "127.0.0.1", .server_name = "localhost",
        .server_port = "80", .content_length = -1, .url_scheme = "http",
        .headers = hs, .nheaders = nh, .path = path,
    };
    if (split_uri(uri, path, sizeof path, &env.query) < 0)
        return -1;
    struct string_input input = { { string_read }, body ? body : "",
                                  body ? strlen(body) : 0 };
    env.input = &input.input;
    const char *cl = green_environ_header(&env, "Content-Length");
    if (cl) {
        env.content_length = strtoll(cl, NULL, 10);
    } else if (body) {
        snprintf(length, sizeof length, "%zu", input.left);
        hs[env.nheaders++] = (green_header_t){ "Content-Length", length };
        env.content_length = (long long)input.left;
    }

    green_body_t b = green_app_call(app, &env, &out->resp);
    out->streamed = !green_body_is_list(&b);
    green_chunk_t c;
    size_t cap = 0;
    int rc = 0, err = 0;
    while (green_body_next(&b, &c)) {
        out->resp.sent = 1;       /* a server sends the status line now */
        if (collect(out, &cap, c) < 0) {
            rc = -1, err = ENOMEM;
            break;
        }
    }
    if (rc == 0 && green_body_error(&b))
        rc = -1, err = green_body_error(&b);  /* no whole body to show */
    green_body_close(&b);
    out->resp.sent = 1;
    if (rc == 0 && !out->resp.started)
        rc = -1, err = EPROTO;
    if (rc == 0 && !out->body && !(out->body = calloc(1, 1)))
        rc = -1, err = ENOMEM;
    if (rc < 0)
        green_wsgi_result_free(out);
    errno = err;
    return rc;
}

void green_wsgi_result_free(green_wsgi_result_t *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
}
