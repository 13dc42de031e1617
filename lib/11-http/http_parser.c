/*
 * http_parser.c - chapter 11: the HTTP/1.x request parser and the chunked
 * body decoder.  See http_parser.h for the contract.
 *
 * The head is parsed from its first byte every time, left to right, by a
 * cursor (struct scan) that can run out of bytes anywhere.  Running out is
 * not an error: it means "read more" (0), unless the cursor stopped at a
 * limit while more bytes had arrived, which is 414 or 431.  Every error is
 * decided by the bytes before the point where it is found, so a prefix of
 * a request never gets an answer its whole would not: 0, or the same one.
 *
 * The body decoder is the opposite design: a state machine that eats one
 * byte at a time and remembers where it is, because a body has no length
 * limit worth re-reading.
 */
#include "http_parser.h"

#include <limits.h>
#include <string.h>

#define DEFAULT_MAX_REQUEST_LINE 8190
#define DEFAULT_MAX_HEAD 16384
#define DEFAULT_MAX_BODY (1024LL * 1024)
/* Chunk extensions carry nothing we use; the cap keeps a client from
 * making us read forever without a single body byte. */
#define MAX_CHUNK_LINE 4096

/* ---- Bytes ---------------------------------------------------------------- */

/* tchar of RFC 9110 section 5.6.2: what a method or a header name is made of. */
static int is_tchar(int c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A visible character of a request target (RFC 9112 section 3.2). */
static int is_target_char(int c)
{
    return c > ' ' && c < 0x7f;
}

/* What a header value may contain: visible characters, obs-text (bytes
 * 0x80-0xff, legacy encodings) and the spaces between words.  Every other
 * control character, CR and NUL above all, is refused. */
static int is_value_char(int c)
{
    return (c > ' ' && c != 0x7f) || c == ' ' || c == '\t';
}

static int is_space(int c)
{
    return c == ' ' || c == '\t';
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* s[0..n) equals the NUL-terminated word, in any case (header names and
 * most header values are case-insensitive). */
static int ieq(const char *s, size_t n, const char *word)
{
    size_t i;
    for (i = 0; i < n && word[i]; i++)
        if (lower((unsigned char)s[i]) != lower((unsigned char)word[i]))
            return 0;
    return i == n && word[i] == '\0';
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static green_http_limits_t resolve_limits(const green_http_limits_t *l)
{
    green_http_limits_t r = { 0, 0, 0, 0 };
    if (l)
        r = *l;
    if (r.max_request_line == 0)
        r.max_request_line = DEFAULT_MAX_REQUEST_LINE;
    if (r.max_head == 0)
        r.max_head = DEFAULT_MAX_HEAD;
    if (r.max_head > INT_MAX)           /* the parser returns the length as an int */
        r.max_head = INT_MAX;
    if (r.max_headers == 0 || r.max_headers > GREEN_HTTP_MAX_HEADERS)
        r.max_headers = GREEN_HTTP_MAX_HEADERS;
    if (r.max_body <= 0)
        r.max_body = DEFAULT_MAX_BODY;
    return r;
}

/* ---- The head: a cursor that may run out ------------------------------------ */

/* Functions that read part of the head return 1 when they read it, or
 * what stop() says when the bytes ran out (0, -414 or -431), or the
 * error they found (-400, -505). */
struct scan {
    const char *p;      /* the next byte */
    const char *lim;    /* where reading must stop for now */
    const char *end;    /* the end of the bytes received */
    int over;           /* the status when lim is a limit, not the end */
};

/* The next byte, or -1 when there is none to read. */
static int peek(const struct scan *s)
{
    return s->p < s->lim ? (unsigned char)*s->p : -1;
}

/* Why the cursor could not read on: the bytes ran out (read more) or a
 * limit came first (the request is too large whatever follows). */
static int stop(const struct scan *s)
{
    return s->lim < s->end ? -s->over : 0;
}

/* A line end: CRLF, or a bare LF (RFC 9112 section 2.2).  A CR not
 * followed by LF is how two parsers disagree on where a line ends. */
static int line_end(struct scan *s)
{
    int c = peek(s);
    if (c == '\r') {
        s->p++;
        c = peek(s);
        if (c < 0)
            return stop(s);
        if (c != '\n')
            return -400;
    }
    if (c < 0)
        return stop(s);
    if (c != '\n')
        return -400;
    s->p++;
    return 1;
}

/* A run of at least one byte that `ok` accepts, ending at `delim`, which
 * is consumed.  *start, *n: the run. */
static int run_until(struct scan *s, int (*ok)(int), int delim,
                     const char **start, size_t *n)
{
    int c;
    *start = s->p;
    while ((c = peek(s)) >= 0 && ok(c))
        s->p++;
    if (c < 0)
        return stop(s);
    *n = (size_t)(s->p - *start);
    if (c != delim || *n == 0)
        return -400;
    s->p++;
    return 1;
}

/* "HTTP/1.1": the name is case-sensitive, each number one digit. */
static int version(struct scan *s, int *minor)
{
    const char *name = "HTTP/";
    int c;
    for (int i = 0; name[i]; i++, s->p++) {
        if ((c = peek(s)) < 0)
            return stop(s);
        if (c != name[i])
            return -400;
    }
    char v[3];
    for (int i = 0; i < 3; i++, s->p++) {
        if ((c = peek(s)) < 0)
            return stop(s);
        v[i] = (char)c;
    }
    if (v[0] < '0' || v[0] > '9' || v[1] != '.' || v[2] < '0' || v[2] > '9')
        return -400;
    if (v[0] != '1')
        return -505;
    *minor = v[2] == '0' ? 0 : 1;
    return 1;
}

/* A scheme: a letter, then letters, digits, '+', '-' or '.' (RFC 3986). */
static int is_scheme(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int c = lower((unsigned char)p[i]);
        if (c >= 'a' && c <= 'z')
            continue;
        if (i == 0 || !((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
            return 0;
    }
    return n > 0;
}

/* The forms of target a server accepts (RFC 9112 section 3.2): "/path",
 * "scheme://authority/path" (what a client sends to a proxy), and "*"
 * for OPTIONS.  Anything else ("x", "HTTP/1.1" when the target was left
 * out, "*" for PRI, HTTP/2's preface) is no request of ours: a server
 * that routed it anyway would answer a question nobody asked. */
static int target_form(const green_http_request_t *req)
{
    const char *t = req->target;
    size_t n = req->target_len;
    if (t[0] == '/')
        return 1;
    if (n == 1 && t[0] == '*')      /* methods are case-sensitive */
        return req->method_len == 7 && memcmp(req->method, "OPTIONS", 7) == 0 ? 1 : -400;
    const char *sep = n > 3 ? memmem(t, n, "://", 3) : NULL;
    return sep && is_scheme(t, (size_t)(sep - t)) ? 1 : -400;
}

/* "METHOD SP TARGET SP HTTP/1.x": its length limit is tighter than the
 * head's, and it is a different status (414). */
static int request_line(struct scan *s, size_t max_line, green_http_request_t *req)
{
    const char *head_lim = s->lim;
    int head_over = s->over;
    if ((size_t)(s->lim - s->p) > max_line) {
        s->lim = s->p + max_line;
        s->over = 414;
    }
    int r = run_until(s, is_tchar, ' ', &req->method, &req->method_len);
    if (r == 1) {
        r = run_until(s, is_target_char, ' ', &req->target, &req->target_len);
        /* "GET /" and the line ends: an HTTP/0.9 request.  ("GET HTTP/1.1"
         * ends there too, but it is a request line with no target.) */
        if (r == -400 && s->p > req->target && req->target[0] == '/' &&
            (*s->p == '\r' || *s->p == '\n'))
            r = -505;
    }
    if (r == 1)
        r = target_form(req);
    if (r == 1)
        r = version(s, &req->minor);
    /* The line end may follow the longest line allowed. */
    s->lim = head_lim;
    s->over = head_over;
    return r == 1 ? line_end(s) : r;
}

/* "name: value" with the value's outer spaces trimmed. */
static int header_line(struct scan *s, green_http_header_t *h)
{
    int c;
    h->name = s->p;
    while ((c = peek(s)) >= 0 && is_tchar(c))
        s->p++;
    if (c < 0)
        return stop(s);
    h->name_len = (size_t)(s->p - h->name);
    /* "Name : value" is refused: some servers would read "Name " as
     * another header than we do (RFC 9112 section 5.1). */
    if (c != ':' || h->name_len == 0)
        return -400;
    s->p++;
    while ((c = peek(s)) >= 0 && is_space(c))
        s->p++;
    h->value = s->p;
    while ((c = peek(s)) >= 0 && is_value_char(c))
        s->p++;
    if (c < 0)
        return stop(s);
    if (c != '\r' && c != '\n')
        return -400;
    h->value_len = (size_t)(s->p - h->value);
    while (h->value_len > 0 && is_space((unsigned char)h->value[h->value_len - 1]))
        h->value_len--;
    return line_end(s);
}

/* The header lines up to and including the blank line that ends them. */
static int header_lines(struct scan *s, size_t max_headers, green_http_request_t *req)
{
    for (;;) {
        int c = peek(s);
        if (c < 0)
            return stop(s);
        if (c == '\r' || c == '\n')
            return line_end(s);
        /* A line that starts with a space continues the previous one
         * (obs-fold), which RFC 9112 section 5.2 lets a server refuse. */
        if (is_space(c))
            return -400;
        if (req->nheaders == max_headers)
            return -431;
        int r = header_line(s, &req->headers[req->nheaders]);
        if (r <= 0)
            return r;
        req->nheaders++;
    }
}

/* ---- The head: what the headers mean ---------------------------------------- */

/* Content-Length: 1*DIGIT, nothing else: no sign, no spaces inside, no
 * list.  A number that does not fit is refused, not wrapped around. */
static int content_length(const char *v, size_t n, long long *out)
{
    long long x = 0;
    if (n == 0)
        return -400;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -400;
        int d = v[i] - '0';
        if (x > (LLONG_MAX - d) / 10)
            return -400;
        x = x * 10 + d;
    }
    *out = x;
    return 1;
}

/* Calls fn on each element of a comma-separated list, its outer spaces
 * trimmed and empty elements skipped (RFC 9110 section 5.6.1).  Stops at
 * the first non-zero answer and returns it. */
static int each_element(const char *v, size_t n, int (*fn)(const char *, size_t, void *),
                        void *arg)
{
    size_t i = 0;
    while (i < n) {
        size_t start = i;
        while (i < n && v[i] != ',')
            i++;
        size_t end = i++;
        while (start < end && is_space((unsigned char)v[start]))
            start++;
        while (end > start && is_space((unsigned char)v[end - 1]))
            end--;
        if (end > start) {
            int r = fn(v + start, end - start, arg);
            if (r != 0)
                return r;
        }
    }
    return 0;
}

/* What the framing and connection headers said, before checking. */
struct meaning {
    int chunked;        /* "chunked" codings seen */
    int codings;        /* transfer codings seen, chunked included */
    int unknown;        /* codings other than chunked */
    int te_headers;
    int cl_headers;
    int hosts;
    int close, keep_alive, expect_continue;
};

/* "chunked" is the only coding we decode (any other is 501), and it may
 * be applied once only (RFC 9112 section 6.1). */
static int coding(const char *v, size_t n, void *arg)
{
    struct meaning *m = arg;
    m->codings++;
    if (!ieq(v, n, "chunked"))
        m->unknown++;
    else if (m->chunked++ > 0)
        return -400;
    return 0;
}

static int connection_option(const char *v, size_t n, void *arg)
{
    struct meaning *m = arg;
    if (ieq(v, n, "close"))
        m->close = 1;
    else if (ieq(v, n, "keep-alive"))
        m->keep_alive = 1;
    return 0;
}

static int expectation(const char *v, size_t n, void *arg)
{
    struct meaning *m = arg;
    if (ieq(v, n, "100-continue"))
        m->expect_continue = 1;
    return 0;
}

/* One header's contribution to what the request means. */
static int read_header(const green_http_header_t *h, struct meaning *m,
                       green_http_request_t *req)
{
    if (ieq(h->name, h->name_len, "content-length")) {
        long long n;
        if (content_length(h->value, h->value_len, &n) < 0)
            return -400;
        /* Two lengths that disagree: which one a proxy in front of us
         * believed is anyone's guess. */
        if (m->cl_headers++ > 0 && n != req->content_length)
            return -400;
        req->content_length = n;
    } else if (ieq(h->name, h->name_len, "transfer-encoding")) {
        m->te_headers++;
        return each_element(h->value, h->value_len, coding, m);
    } else if (ieq(h->name, h->name_len, "host")) {
        m->hosts++;
    } else if (ieq(h->name, h->name_len, "connection")) {
        return each_element(h->value, h->value_len, connection_option, m);
    } else if (ieq(h->name, h->name_len, "expect")) {
        return each_element(h->value, h->value_len, expectation, m);
    }
    return 0;
}

/* The checks of RFC 9112 sections 3.2 and 6 that only the whole head allows. */
static int check_meaning(const struct meaning *m, long long max_body,
                         green_http_request_t *req)
{
    if (m->te_headers > 0) {
        /* Both framings at once is the classic smuggling request; and a
         * 1.0 peer cannot have meant chunked (RFC 9112 section 6.1). */
        if (m->cl_headers > 0 || req->minor == 0 || m->codings == 0)
            return -400;
        if (m->unknown > 0)
            return -501;
        req->chunked = 1;
    }
    if (req->minor == 1 ? m->hosts != 1 : m->hosts > 1)
        return -400;
    if (req->content_length > max_body)
        return -413;
    req->keep_alive = req->minor == 1 ? !m->close : m->keep_alive && !m->close;
    /* A 1.0 client does not know 100 Continue (RFC 9110 section 10.1.1). */
    req->expect_continue = req->minor == 1 && m->expect_continue;
    return 1;
}

static void clear_request(green_http_request_t *req)
{
    req->method = req->target = req->path = req->query = NULL;
    req->method_len = req->target_len = req->path_len = req->query_len = 0;
    req->minor = 0;
    req->nheaders = 0;
    req->content_length = -1;
    req->chunked = req->keep_alive = req->expect_continue = 0;
    req->head_len = 0;
}

int green_http_parse_request(const char *buf, size_t len,
                             const green_http_limits_t *limits,
                             green_http_request_t *req)
{
    green_http_limits_t lim = resolve_limits(limits);
    struct scan s = { buf, buf + (len < lim.max_head ? len : lim.max_head), buf + len, 431 };
    clear_request(req);

    /* Empty lines before the request line are ignored (RFC 9112 section
     * 2.2 asks for at least one: some clients send CRLF after a POST
     * body).  Any number, as llhttp and nginx do; the head's size limit
     * bounds them like every other byte of the head. */
    while (peek(&s) == '\r' || peek(&s) == '\n') {
        int r = line_end(&s);
        if (r <= 0)
            return r;
    }
    int r = request_line(&s, lim.max_request_line, req);
    if (r == 1)
        r = header_lines(&s, lim.max_headers, req);
    if (r <= 0)
        return r;

    struct meaning m;
    memset(&m, 0, sizeof m);
    for (size_t i = 0; i < req->nheaders; i++)
        if ((r = read_header(&req->headers[i], &m, req)) < 0)
            return r;
    if ((r = check_meaning(&m, lim.max_body, req)) < 0)
        return r;

    const char *q = memchr(req->target, '?', req->target_len);
    req->path = req->target;
    req->path_len = q ? (size_t)(q - req->target) : req->target_len;
    req->query = q ? q + 1 : req->target + req->target_len;
    req->query_len = req->target_len - req->path_len - (q ? 1 : 0);
    req->head_len = (size_t)(s.p - buf);
    return (int)req->head_len;
}

const char *green_http_find_header(const green_http_request_t *req,
                                   const char *name, size_t *len)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < req->nheaders; i++) {
        const green_http_header_t *h = &req->headers[i];
        if (h->name_len == n && ieq(h->name, n, name)) {
            *len = h->value_len;
            return h->value;
        }
    }
    return NULL;
}

/* ---- The chunked body -------------------------------------------------------- */

/* Where in RFC 9112 section 7.1's grammar the decoder is.  Every line of
 * the body must end with CRLF: being lenient here (a bare LF, a CR alone)
 * is exactly what chunked-body smuggling exploits. */
enum {
    CH_SIZE,            /* chunk-size: hex digits */
    CH_SIZE_WS,         /* spaces after the size, before ';' */
    CH_EXT,             /* ";name=value...": skipped */
    CH_SIZE_LF,         /* the size line's CR is read, LF next */
    CH_DATA,            /* chunk-data: d->left bytes */
    CH_DATA_CR,         /* the CRLF after the data */
    CH_DATA_LF,
    CH_TRAILER,         /* at the start of a trailer line, or the final CRLF */
    CH_TRAILER_LINE,    /* inside a trailer line: skipped */
    CH_TRAILER_LF,      /* a trailer line's CR is read */
    CH_END_LF,          /* the final CR is read */
    CH_DONE
};

void green_http_chunked_init(green_http_chunked_t *d, const green_http_limits_t *limits)
{
    green_http_limits_t lim = resolve_limits(limits);
    memset(d, 0, sizeof *d);
    d->state = CH_SIZE;
    d->max_body = lim.max_body;
    d->max_trailers = lim.max_head;
}

/* The size line has ended (its CRLF is read): data, or the last chunk. */
static int size_done(green_http_chunked_t *d)
{
    long long max = d->max_body > 0 ? d->max_body : DEFAULT_MAX_BODY;
    if (d->left > (unsigned long long)(max - d->total))
        return -413;
    d->state = d->left > 0 ? CH_DATA : CH_TRAILER;
    d->line = 0;
    d->digits = 0;
    return 0;
}

/* A hex digit of the chunk size. */
static int size_digit(green_http_chunked_t *d, int v)
{
    /* Sixteen significant digits fill 64 bits; one more would wrap. */
    if (d->left > (ULLONG_MAX >> 4))
        return -400;
    d->left = d->left << 4 | (unsigned)v;
    d->digits++;
    return 0;
}

/* One byte of the size line: "1a;name=value\r\n" (spaces are allowed
 * before the ';', RFC 9112 section 7.1.1). */
static int size_byte(green_http_chunked_t *d, int c)
{
    if (++d->line > MAX_CHUNK_LINE)
        return -400;
    if (d->state == CH_SIZE && hex_value(c) >= 0)
        return size_digit(d, hex_value(c));
    if (d->state == CH_SIZE && d->digits == 0)
        return -400;
    if (d->state == CH_EXT) {
        if (is_value_char(c))
            return 0;
    } else if (is_space(c) || c == ';') {
        d->state = c == ';' ? CH_EXT : CH_SIZE_WS;
        return 0;
    }
    if (c != '\r')
        return -400;
    d->state = CH_SIZE_LF;
    return 0;
}

/* One byte of the trailers, which are read to find their end, then
 * dropped: no header we act on may arrive after the body. */
static int trailer_byte(green_http_chunked_t *d, int c)
{
    if (++d->trailers > d->max_trailers)
        return -431;
    if (d->state == CH_TRAILER && c == '\r') {
        d->state = CH_END_LF;           /* an empty line: the end */
        return 0;
    }
    if (d->state == CH_TRAILER || d->state == CH_TRAILER_LINE) {
        if (c != '\r' && !is_value_char(c))
            return -400;
        d->state = c == '\r' ? CH_TRAILER_LF : CH_TRAILER_LINE;
        return 0;
    }
    if (c != '\n')
        return -400;
    if (d->state == CH_TRAILER_LF) {
        d->state = CH_TRAILER;
    } else {
        d->state = CH_DONE;
        d->done = 1;
    }
    return 0;
}

/* One byte of framing: anything but chunk data. */
static int framing_byte(green_http_chunked_t *d, int c)
{
    switch (d->state) {
    case CH_SIZE:
    case CH_SIZE_WS:
    case CH_EXT:
        return size_byte(d, c);
    case CH_SIZE_LF:
        return c == '\n' ? size_done(d) : -400;
    case CH_DATA_CR:
        d->state = CH_DATA_LF;
        return c == '\r' ? 0 : -400;
    case CH_DATA_LF:
        d->state = CH_SIZE;
        return c == '\n' ? 0 : -400;
    default:
        return trailer_byte(d, c);
    }
}

ssize_t green_http_chunked_feed(green_http_chunked_t *d, const char *in,
                                size_t n, size_t max, const char **data,
                                size_t *data_len)
{
    size_t i = 0;
    *data = in;
    *data_len = 0;
    while (i < n && d->state != CH_DONE) {
        if (d->state == CH_DATA) {
            /* One run of data per call: the caller gets it, then calls
             * again for what follows. */
            size_t take = n - i;
            if (take > d->left)
                take = (size_t)d->left;
            if (take > max)
                take = max;
            *data = in + i;
            *data_len = take;
            d->left -= take;
            d->total += (long long)take;
            if (d->left == 0)
                d->state = CH_DATA_CR;
            return (ssize_t)(i + take);
        }
        int r = framing_byte(d, (unsigned char)in[i]);
        if (r < 0)
            return r;
        i++;
    }
    return (ssize_t)i;
}

/* ---- Small helpers ---------------------------------------------------------- */

const char *green_http_reason(int code)
{
    switch (code) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}
