/*
 * wsgi.h - chapter 9: a web application as a C function (Python's WSGI,
 * PEP 3333, in C).
 *
 * WSGI splits a web server in two.  The *server* speaks HTTP: it reads a
 * request off a socket and writes the response back.  The *application*
 * knows nothing of sockets: it is one function, called once per request,
 * that gets the request as an `environ` and answers through a
 * `start_response` callback and a body it returns:
 *
 *     def hello(environ, start_response):
 *         start_response('200 OK', [('Content-Type', 'text/plain')])
 *         return [b'Hello, World!']
 *
 * In C (chapter 9):
 *
 *     static green_body_t hello(green_app_t *self, green_environ_t *env,
 *                               green_response_t *resp)
 *     {
 *         green_header_t h[] = { { "Content-Type", "text/plain" } };
 *         green_start_response(resp, "200 OK", h, 1);
 *         return green_body_str("Hello, World!");
 *     }
 *     static green_app_t app = { hello };
 *
 * Any server that speaks this interface runs any application: chapter 10's
 * on libevent's evhttp, chapter 11's own cooperative HTTP/1.1 server, and
 * the test client at the end of this header, which needs no socket at all.
 *
 * The body is either a list of chunks (the server knows the length before
 * it sends a byte: Content-Length) or a generator that yields chunks one
 * at a time: chapter 1's stackless generators come back, and a server that
 * can stream sends each chunk as it is yielded (chunked encoding), so a
 * response can be larger than memory or last for minutes.
 *
 * Every call of the application runs in a greenlet of its own, so the
 * application may block the green way (green_sleep, green sockets, a
 * Queue): the server's other requests go on meanwhile.
 *
 * Errors, C style: -1 with errno.
 */
#ifndef GREEN_WSGI_H
#define GREEN_WSGI_H

#include <stddef.h>
#include <sys/types.h>

#include "gen.h"

/* A header: name and value, NUL-terminated strings. */
typedef struct green_header {
    const char *name;
    const char *value;
} green_header_t;

/* ---- The request: environ ---------------------------------------------- */

/* wsgi.input: the request body, read on demand.  The server sets `read`;
 * an application calls green_input_read().  Nothing of the body is read
 * from the client before the application asks for it, so an application
 * that refuses an upload never receives it (and a client that sent
 * "Expect: 100-continue" is told to go on only at the first read). */
typedef struct green_input green_input_t;
struct green_input {
    ssize_t (*read)(green_input_t *in, void *buf, size_t n);
};

/* Read up to n bytes of the body into buf.  Returns how many (> 0), 0 at
 * the end of the body, or -1 with errno: ETIMEDOUT (the client sent
 * nothing for too long), EMSGSIZE (the body is over the server's limit),
 * EPROTO (a malformed chunked body), ECONNRESET.  Python:
 * environ['wsgi.input'].read(n). */
ssize_t green_input_read(green_input_t *in, void *buf, size_t n);

/* Read the whole body, at most `max` bytes, into a malloc'ed buffer
 * (NUL-terminated, free() it) and its length into *len.  Returns the
 * buffer, or NULL with errno (EMSGSIZE when the body is over max, and
 * those of green_input_read).  Python: environ['wsgi.input'].read(). */
char *green_input_read_all(green_input_t *in, size_t max, size_t *len);

/* The request as the server saw it: WSGI's environ dict, with its CGI
 * names beside each field.  Strings are NUL-terminated and live until the
 * application's body has been closed. */
typedef struct green_environ {
    const char *method;       /* REQUEST_METHOD: "GET" */
    const char *path;         /* PATH_INFO, percent-decoded: "/echo" */
    const char *query;        /* QUERY_STRING, as sent ("" when none): "n=3" */
    const char *uri;          /* the request target as sent: "/stream?n=3" */
    const char *protocol;     /* SERVER_PROTOCOL: "HTTP/1.1" */
    const char *remote_addr;  /* REMOTE_ADDR: "127.0.0.1" */
    const char *server_name;  /* SERVER_NAME: the address the server listens on */
    const char *server_port;  /* SERVER_PORT: "8000" */
    long long content_length; /* CONTENT_LENGTH; -1 when the request has
                                 none (no body, or a chunked one) */
    const green_header_t *headers;  /* the request's headers, as sent */
    size_t nheaders;
    green_input_t *input;     /* wsgi.input */
    const char *url_scheme;   /* wsgi.url_scheme: "https" when the request
                                 came over TLS, else "http" (NULL counts
                                 as "http") */
} green_environ_t;

/* An environ variable by its WSGI name: "REQUEST_METHOD", "PATH_INFO",
 * "QUERY_STRING", "REQUEST_URI", "SERVER_PROTOCOL", "REMOTE_ADDR",
 * "SERVER_NAME", "SERVER_PORT", "CONTENT_TYPE", "CONTENT_LENGTH",
 * "wsgi.url_scheme", and
 * "HTTP_<NAME>" for a request header (HTTP_USER_AGENT is the header
 * User-Agent: upper case, '-' as '_').  Returns NULL when absent.
 * Python: environ.get(key). */
const char *green_environ_get(const green_environ_t *env, const char *key);

/* The request header `name`, in any case ("content-type"), or NULL. */
const char *green_environ_header(const green_environ_t *env, const char *name);

/* The query parameter `name` of env->query ("n" in "n=3&x=1"), percent-
 * and '+'-decoded into buf (NUL-terminated).  Returns its length, or -1
 * (errno ENOENT: absent; ENOSPC: longer than size-1; EINVAL: a bad
 * escape, or "%00": url.h's decoder).  Python: urllib.parse.parse_qs(environ['QUERY_STRING']). */
ssize_t green_query_param(const green_environ_t *env, const char *name,
                          char *buf, size_t size);

/* ---- The response: start_response ---------------------------------------- */

#define GREEN_RESPONSE_MAX_HEADERS 32
#define GREEN_RESPONSE_STORE 4096

/* What start_response recorded, for the server to send.  The server owns
 * it; an application only passes it to green_start_response(). */
typedef struct green_response {
    int started;              /* start_response was called */
    int sent;                 /* the server has sent the status line */
    int code;                 /* 200 */
    char status[64];          /* "200 OK" */
    green_header_t headers[GREEN_RESPONSE_MAX_HEADERS];
    size_t nheaders;
    char store[GREEN_RESPONSE_STORE];  /* copies of the application's strings */
    size_t used;
} green_response_t;

/* Ready `resp` for a new request (servers call this). */
void green_response_init(green_response_t *resp);

/* Set the response's status ("404 Not Found": three digits, a space, a
 * reason) and headers.  The strings are copied, so they may live on the
 * caller's stack.  Called again before the server has sent anything (it
 * sends the head with the body's first chunk), it replaces the first
 * call's status and headers (WSGI's exc_info case).
 * Returns 0, or -1 with errno: EINVAL for a bad status, a header name that
 * is not a token, or a CR or LF in a value (which would let whoever
 * controls that value write headers of their own: response splitting);
 * E2BIG for more than GREEN_RESPONSE_MAX_HEADERS headers or more than
 * 4 KiB of them; EALREADY when the server has sent the status line.
 * Python: start_response(status, headers). */
int green_start_response(green_response_t *resp, const char *status,
                         const green_header_t *headers, size_t n);

/* The response header `name` (any case) the application set, or NULL. */
const char *green_response_header(const green_response_t *resp,
                                  const char *name);

/* ---- The body: a list or a generator --------------------------------------- */

/* A piece of the body. */
typedef struct green_chunk {
    const void *data;
    size_t len;
} green_chunk_t;

/* What the application returns.  Build one with the green_body_*
 * functions; a server walks it with green_body_next() and always ends
 * with green_body_close(), even when the client went away half-way. */
typedef struct green_body green_body_t;
struct green_body {
    const green_chunk_t *list;   /* a list body: list[0..n) */
    size_t n;
    green_chunk_t one;           /* a body of one chunk keeps it here
                                    (list NULL, n 1): nothing to allocate */
    size_t next;                 /* the server's place in the list */
    green_gen_t *gen;              /* a generator body: each yield's value is
                                    a green_chunk_t * (NULL: skipped) */
    void (*close)(green_body_t *b);  /* NULL, or frees what the body owns */
    void *data;                  /* for close */
    int error;                   /* errno of a body that failed half-way,
                                    set by green_body_next */
    int is_file;                 /* a file body: length bytes of fd from
                                    offset (wsgi.file_wrapper) */
    int fd;
    long long offset, length;
    char *filebuf;               /* green_body_next's buffer for it */
};

/* An empty body. */
green_body_t green_body_empty(void);

/* One chunk: the NUL-terminated string s, not copied (a literal, or
 * anything that outlives the response). */
green_body_t green_body_str(const char *s);

/* One chunk: a malloc'ed copy of data[0..len), freed by close.  A body of
 * no chunks (and errno ENOMEM) when memory runs out. */
green_body_t green_body_copy(const void *data, size_t len);

/* One chunk that takes over `data` (malloc'ed): close will free() it. */
green_body_t green_body_take(void *data, size_t len);

/* A list of n chunks, not copied: the list and the chunks must outlive
 * the response. */
green_body_t green_body_list(const green_chunk_t *list, size_t n);

/* A generator: gen yields green_chunk_t * values (chapter 1's macros); the
 * server sends each chunk before it resumes the generator, and calls
 * close(body) at the end (close may be NULL; body->data = data).
 *
 * A generator that cannot go on (the request body it echoes stopped
 * coming: ETIMEDOUT, ECONNRESET, EPROTO) yields green_chunk_failure(errno)
 * as its last chunk: the body ends there, and the server must not tell
 * the client that it is complete (chapter 11 closes the connection
 * without the last chunk).  Python: the generator raises. */
green_body_t green_body_gen(green_gen_t *gen, void (*close)(green_body_t *),
                            void *data);

/* The chunk a generator yields to say it failed with errno `err` (> 0):
 * no data, a mark that green_body_next() recognises (it ends the body
 * and green_body_error() returns err).  Keep it where the yielded
 * pointer points, like any chunk:
 *     s->chunk = green_chunk_failure(errno);
 *     GREEN_GEN_YIELD(g, &s->chunk);
 * Python: raise OSError(err). */
green_chunk_t green_chunk_failure(int err);

/* A file body: `length` bytes of the open file `fd` from `offset`.  A
 * server that can send it with sendfile() does (chapter 11), others read
 * it through green_body_next().  close() closes fd.  Python:
 * environ['wsgi.file_wrapper'](f). */
green_body_t green_body_file(int fd, long long offset, long long length);

/* 1 when the body's total length is known before sending (a list or a
 * file). */
int green_body_is_list(const green_body_t *b);

/* The total length of a list or file body (what Content-Length says), or
 * -1 for a generator. */
long long green_body_length(const green_body_t *b);

/* The next non-empty chunk: 1 and *out set, or 0 when the body is over,
 * whole or not: green_body_error() then tells which.  A generator runs
 * (and may block on the hub) inside this call.  Python: next(iter(body)). */
int green_body_next(green_body_t *b, green_chunk_t *out);

/* After green_body_next() has returned 0: 0 when the body ended whole, or
 * the errno with which it failed (a generator yielded
 * green_chunk_failure(); a file body could not be read: EIO for one that
 * shrank).  A server checks it before green_body_close(), which forgets
 * it, and must then not end the response as if it were complete: no last
 * chunk for a chunked one; closing the connection tells the client it
 * was cut (a server that has sent nothing yet answers 500 instead).  A
 * middleware that wraps a body yields the same failure in turn.  Python:
 * the exception that next(iter(body)) raised. */
int green_body_error(const green_body_t *b);

/* Release the body (once; later calls do nothing) and leave it empty:
 * green_body_next() then returns 0.  Python: body.close(). */
void green_body_close(green_body_t *b);

/* ---- The application ------------------------------------------------------- */

/* An application is a struct whose first member is a green_app_t, so it
 * can carry state: a middleware is an app that holds the app it wraps.
 *
 *     struct timing { green_app_t app; green_app_t *inner; };
 *
 * call() must call green_start_response() before it returns (or before
 * its generator yields its first chunk).  A server answers 500 when it
 * did not. */
typedef struct green_app green_app_t;
struct green_app {
    green_body_t (*call)(green_app_t *self, green_environ_t *env,
                         green_response_t *resp);
};

/* Call an application: self->call(self, env, resp). */
green_body_t green_app_call(green_app_t *app, green_environ_t *env,
                            green_response_t *resp);

/* ---- A test client: an application called without a server ------------- */

/* What green_wsgi_request() got back.  body is malloc'ed (NUL-terminated). */
typedef struct green_wsgi_result {
    green_response_t resp;    /* status, code and headers */
    char *body;               /* all the chunks, joined */
    size_t len;
    size_t chunks;            /* how many chunks the body had */
    int streamed;             /* 1: the body was a generator */
} green_wsgi_result_t;

/* Call `app` on a request made up of method, uri ("/stream?n=3"), headers
 * (NULL-terminated pairs "Name", "value", ..., NULL, or NULL) and a body
 * (NULL: none), as a server would, and collect the whole response into
 * *out.  Like a server, it percent-decodes the path, adds Content-Length
 * for a body, and marks resp.sent once the first chunk comes out (a later
 * green_start_response fails with EALREADY).  Must run in a greenlet (the
 * app may sleep).  Returns 0, or -1 with errno (ENOMEM; EINVAL for a path
 * that every server refuses with 400: a bad %-escape, or "%00" (url.h);
 * EPROTO when the app never called start_response; the body's own errno
 * when it failed half-way: green_body_error); on
 * failure out->body is NULL, out->resp holds what the app set.
 * Python: webtest.TestApp(app).get(uri). */
int green_wsgi_request(green_app_t *app, const char *method, const char *uri,
                       const char *const *headers, const char *body,
                       green_wsgi_result_t *out);

/* Free what green_wsgi_request() allocated in *r. */
void green_wsgi_result_free(green_wsgi_result_t *r);

#endif
