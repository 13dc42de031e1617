/*
 * http_parser.h - chapter 11: an incremental HTTP/1.x request parser.
 *
 * The parser never copies and never allocates: it reads the bytes the
 * server has received so far and answers with pointers into them (like
 * picohttpparser, nginx and h2o).  It keeps no state between calls for the
 * request head: the server calls it again with more bytes each time a read
 * adds some, and a head is at most a few KiB, so parsing it again costs
 * less than remembering where we were.  The body is another matter (it can
 * be any length), so the chunked decoder below is a real state machine that
 * takes the bytes in any pieces.
 *
 * What is accepted is RFC 9112, strictly where being lenient is how
 * request smuggling works:
 *   - a request line "METHOD SP TARGET SP HTTP/1.x" (one space each);
 *   - header lines "name: value", the name a token (no space before the
 *     colon), obs-fold (a line starting with a space) refused;
 *   - lines end with CRLF; a bare LF is accepted too (RFC 9112 section 2.2
 *     allows it), a bare CR is not;
 *   - Content-Length and Transfer-Encoding together: refused; two
 *     Content-Length headers that disagree: refused; a Transfer-Encoding
 *     whose last coding is not "chunked": refused (501);
 *   - HTTP/1.1 without a Host header: refused (RFC 9112 section 3.2).
 * And, in the same spirit (all 400 unless said):
 *   - Content-Length is 1*DIGIT: no sign, no list, no "0x"; one too large
 *     for a long long is 400, one over max_body 413;
 *   - any coding but "chunked" in Transfer-Encoding is 501 ("gzip,
 *     chunked" too: we could not undo the gzip); "chunked" twice, and
 *     Transfer-Encoding in an HTTP/1.0 request (RFC 9112 section 6.1),
 *     are 400; so are two Host headers;
 *   - a request line without a version ("GET /", HTTP/0.9) is 505, as
 *     is any major version but 1; one without a target ("GET HTTP/1.1")
 *     is 400;
 *   - the target is "/path", "scheme://..." or, for OPTIONS alone, "*"
 *     (RFC 9112 section 3.2); anything else is 400, HTTP/2's preface
 *     "PRI * HTTP/2.0" included.  The method is a case-sensitive token,
 *     kept as sent: "get" is not "GET";
 *   - empty lines before the request line are skipped, any number, as
 *     llhttp and nginx do (RFC 9112 section 2.2; head_len counts them);
 *   - controls (NUL, bare CR, DEL...) in the target or a value are 400.
 * An error is found at the first byte that proves it, scanning left to
 * right, so a prefix of a request gets 0 or the answer the whole gets.
 *
 * Errors are HTTP status codes, negated, so the server can answer with
 * them directly: -400 malformed, -413 body larger than the limit, -414
 * request line too long, -431 headers too large or too many, -501
 * transfer coding not implemented, -505 HTTP version not supported.
 */
#ifndef GREEN_HTTP_PARSER_H
#define GREEN_HTTP_PARSER_H

#include <stddef.h>
#include <sys/types.h>

/* The most header lines a request may have (the limit below may be lower).
 * 100, as nginx and llhttp allow at least: a browser behind a proxy or two
 * sends 30 to 60, and 64 refused real requests with 431. */
#define GREEN_HTTP_MAX_HEADERS 100

/* One header line, pointing into the caller's buffer (not NUL-terminated).
 * The value has no leading or trailing spaces or tabs. */
typedef struct green_http_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} green_http_header_t;

/* Limits.  Each field 0 = its default:
 *   max_request_line  8190 bytes (request line without CRLF)  -> 414
 *   max_head          16384 bytes (request line + headers)     -> 431
 *   max_headers       GREEN_HTTP_MAX_HEADERS header lines      -> 431
 *   max_body          1 MiB (Content-Length, or a chunked body's
 *                     total, counted by the decoder)            -> 413 */
typedef struct green_http_limits {
    size_t max_request_line;
    size_t max_head;
    size_t max_headers;
    long long max_body;
} green_http_limits_t;

/* A parsed request head.  Every pointer points into the buffer that was
 * parsed, so the buffer must stay put while they are used. */
typedef struct green_http_request {
    const char *method;       /* "GET" */
    size_t method_len;
    const char *target;       /* as sent: "/stream?n=3" */
    size_t target_len;
    const char *path;         /* the target up to '?': "/stream" */
    size_t path_len;
    const char *query;        /* after '?': "n=3" (length 0 when none) */
    size_t query_len;
    int minor;                /* HTTP/1.<minor>: 0 or 1 (1.2+ parse as 1) */
    green_http_header_t headers[GREEN_HTTP_MAX_HEADERS];
    size_t nheaders;

    /* What the headers mean, already checked: */
    long long content_length; /* -1: no Content-Length header */
    int chunked;              /* 1: Transfer-Encoding ends with chunked */
    int keep_alive;           /* 1.1: unless "Connection: close";
                                 1.0: only with "Connection: keep-alive" */
    int expect_continue;      /* 1: "Expect: 100-continue" */
    size_t head_len;          /* bytes of the head, blank line included */
} green_http_request_t;

/* Parse the request head at the start of buf[0..len).
 * Returns the head's length (> 0, also in req->head_len) once the blank
 * line that ends it has arrived; the body, or the next pipelined request,
 * starts right after it.  Returns 0 when the head is not complete yet:
 * read more and call again with the same buffer, grown.  Returns -status
 * (see above) when the request is bad, even before it is complete (a
 * request line already too long is -414 at once).  limits may be NULL
 * (all defaults). */
int green_http_parse_request(const char *buf, size_t len,
                             const green_http_limits_t *limits,
                             green_http_request_t *req);

/* The header `name` (any case) of a parsed request: its value and length
 * in *len, or NULL when there is none. */
const char *green_http_find_header(const green_http_request_t *req,
                                   const char *name, size_t *len);

/* A chunked request body decoder: a state machine fed with the body's
 * bytes in any pieces (one byte at a time works).  Chunk extensions are
 * skipped (a size line longer than 4 KiB is 400), trailers are read and
 * dropped (their bytes count against max_head).  Every line of the body
 * must end with CRLF: a bare LF there is 400, unlike in the head, because
 * lenient chunk parsing is how chunked smuggling works. */
typedef struct green_http_chunked {
    int state;                /* where in the grammar we are (http_parser.c) */
    unsigned long long left;  /* bytes left in the current chunk */
    long long total;          /* body bytes so far */
    long long max_body;       /* limit on total (0: the default, 1 MiB) */
    size_t line;              /* bytes of the current size/trailer line */
    size_t trailers;          /* bytes of trailers so far */
    int digits;               /* hex digits of the current size */
    int done;                 /* 1: the last chunk and trailers are read */
    size_t max_trailers;      /* limit on trailers (the limits' max_head) */
} green_http_chunked_t;

/* Ready `d` for a new body; limits as for the parser (NULL: defaults). */
void green_http_chunked_init(green_http_chunked_t *d,
                             const green_http_limits_t *limits);

/* Feed in[0..n) to the decoder.  Returns how many bytes of `in` it used,
 * and sets *data, *data_len to the body bytes found among them: a run
 * inside `in` of at most `max` bytes (*data_len = 0 when this call found
 * none, e.g. it read a chunk-size line).  A call returns right after the
 * one run it found, so it may not use all of `in` (max must be > 0, or
 * no data ever comes out).  Call again with the bytes it did not use.
 * Once d->done is 1 the body has ended: the bytes after it are the next
 * request's.  Returns -400 (bad chunk syntax, a chunk size that does not
 * fit in 64 bits), -413 (body over max_body) or -431 (trailers too
 * large); after an error the decoder must not be fed again. */
ssize_t green_http_chunked_feed(green_http_chunked_t *d, const char *in,
                                size_t n, size_t max, const char **data,
                                size_t *data_len);

/* The reason phrase for a status code ("Not Found"), "Unknown" if none. */
const char *green_http_reason(int code);

#endif
