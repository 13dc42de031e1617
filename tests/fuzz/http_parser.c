/*
 * tests/fuzz/http_parser.c - libFuzzer target for lib/11-http/http_parser.c.
 *
 * The input is a request as it might arrive on a socket.  Beyond "no
 * crash, no sanitizer report", it checks what the header promises:
 *   - the answer is a head length or one of the documented statuses;
 *   - a parsed head only points inside the buffer, its lengths agree, its
 *     values hold no line ends, and its meaning respects the limits;
 *   - a prefix of the input gets 0 (read more) or the whole's answer:
 *     a server that parses again on every read sees one story;
 *   - unless a limit decided, the default limits give the same answer;
 *   - the chunked decoder, fed the rest of the input (the body, or all of
 *     it when the head is not a head) in pieces derived from the input,
 *     decodes exactly what it decodes from one piece.
 * `make fuzz` builds and runs it (tests/fuzz/README.md).
 */
#include "http_parser.h"
#include "url.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Small limits, so the fuzzer reaches each of them often. */
static const green_http_limits_t limits = {
    .max_request_line = 200,
    .max_head = 1024,
    .max_headers = 8,
    .max_body = 4096,
};

#define CHECK(cond) \
    do { \
        if (!(cond)) \
            abort(); \
    } while (0)

static int inside(const char *p, size_t n, const char *buf, size_t len)
{
    return p && p >= buf && n <= len && (size_t)(p - buf) <= len - n;
}

static int known_status(int r)
{
    return r == -400 || r == -413 || r == -414 || r == -431 || r == -501 || r == -505;
}

static void check_head(const char *buf, size_t len, const green_http_request_t *req)
{
    size_t n = req->head_len;
    CHECK(n > 0 && n <= len && n <= limits.max_head);
    CHECK(inside(req->method, req->method_len, buf, n) && req->method_len > 0);
    CHECK(inside(req->target, req->target_len, buf, n) && req->target_len > 0);
    CHECK(req->path == req->target && req->path_len <= req->target_len);
    CHECK(inside(req->query, req->query_len, buf, n));
    if (req->path_len < req->target_len)
        CHECK(req->query == req->path + req->path_len + 1
              && req->path_len + 1 + req->query_len == req->target_len);
    else
        CHECK(req->query_len == 0);
    CHECK(req->minor == 0 || req->minor == 1);
    CHECK(req->nheaders <= limits.max_headers);
    for (size_t i = 0; i < req->nheaders; i++) {
        const green_http_header_t *h = &req->headers[i];
        CHECK(inside(h->name, h->name_len, buf, n) && h->name_len > 0);
        CHECK(inside(h->value, h->value_len, buf, n));
        CHECK(!memchr(h->name, ':', h->name_len));
        for (size_t j = 0; j < h->value_len; j++)
            CHECK(h->value[j] != '\r' && h->value[j] != '\n' && h->value[j] != '\0');
        if (h->value_len > 0)
            CHECK(h->value[0] != ' ' && h->value[h->value_len - 1] != ' ');
    }
    CHECK(req->content_length >= -1 && req->content_length <= limits.max_body);
    CHECK(!(req->chunked && req->content_length >= 0));
    CHECK(!(req->chunked && req->minor == 0));
    size_t host_len;
    if (req->minor == 1)
        CHECK(green_http_find_header(req, "HOST", &host_len) != NULL);
}

/* A prefix never gets another answer than the whole. */
static void check_prefixes(const char *buf, size_t len, int whole)
{
    green_http_request_t req;
    /* Every prefix of a short input, a sample of a long one. */
    size_t step = len <= 256 ? 1 : len / 64;
    for (size_t k = 0; k < len; k += step) {
        int r = green_http_parse_request(buf, k, &limits, &req);
        if (whole > 0)
            CHECK(r == (k < (size_t)whole ? 0 : whole));
        else
            CHECK(r == 0 || r == whole);
    }
    if (whole > 0)
        CHECK(green_http_parse_request(buf, (size_t)whole - 1, &limits, &req) == 0);
}

/* The result of decoding a chunked body. */
struct decoded {
    long status;        /* 0, or the error */
    size_t used;        /* bytes used */
    char body[4096];
    size_t body_len;
    green_http_chunked_t d;
};

/* Decodes in[0..n) in pieces whose sizes come from `sizes` (cycled;
 * NULL: one piece), at most max data bytes a call. */
static void decode(const char *in, size_t n, const uint8_t *sizes, size_t nsizes, size_t max,
                   struct decoded *out)
{
    green_http_chunked_t *d = &out->d;
    green_http_chunked_init(d, &limits);
    out->status = 0;
    out->used = 0;
    out->body_len = 0;
    for (size_t turn = 0; out->used < n && !d->done; turn++) {
        size_t give = n - out->used;
        if (sizes && give > 1u + sizes[turn % nsizes] % 16)
            give = 1u + sizes[turn % nsizes] % 16;
        const char *at = in + out->used;
        const char *data;
        size_t len;
        ssize_t used = green_http_chunked_feed(d, at, give, max, &data, &len);
        if (used < 0) {
            CHECK(used == -400 || used == -413 || used == -431);
            out->status = (long)used;
            return;
        }
        CHECK((size_t)used <= give && (used > 0 || d->done));
        CHECK(len <= max && (len == 0 || inside(data, len, at, (size_t)used)));
        CHECK(out->body_len + len <= sizeof out->body);
        memcpy(out->body + out->body_len, data, len);
        out->body_len += len;
        out->used += (size_t)used;
        CHECK(d->total == (long long)out->body_len && d->total <= limits.max_body);
    }
    if (d->done) {
        const char *data;
        size_t len;
        CHECK(green_http_chunked_feed(d, in, n, max, &data, &len) == 0 && len == 0);
    }
}

static void check_chunked(const char *in, size_t n, const uint8_t *seed, size_t nseed)
{
    static struct decoded whole, split;
    decode(in, n, NULL, 0, n + 1, &whole);
    decode(in, n, seed, nseed, 1u + (nseed ? seed[0] % 7 : 0), &split);
    CHECK(whole.status == split.status);
    CHECK(whole.body_len == split.body_len && memcmp(whole.body, split.body, whole.body_len) == 0);
    if (whole.status == 0) {
        CHECK(whole.used == split.used && whole.d.done == split.d.done);
        CHECK(whole.d.state == split.d.state && whole.d.left == split.d.left);
    }
}

static void check_unescape(const char *s, size_t n)
{
    char *dst = malloc(n + 1);
    CHECK(dst);
    ssize_t r = green_url_unescape(dst, n + 1, s, n, 0);
    CHECK(r == -1 || (r >= 0 && (size_t)r <= n));
    if (r >= 0)
        CHECK(dst[r] == '\0' && memchr(dst, '\0', (size_t)r) == NULL);
    free(dst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    green_http_request_t req;
    int r = green_http_parse_request(buf, size, &limits, &req);
    CHECK(r >= 0 || known_status(r));
    if (r > 0) {
        CHECK((size_t)r == req.head_len);
        check_head(buf, size, &req);
        check_unescape(req.target, req.target_len);
    }
    check_prefixes(buf, size, r);
    /* Unless a limit decided, the default (larger) limits agree. */
    if (r != -413 && r != -414 && r != -431)
        CHECK(green_http_parse_request(buf, size, NULL, &req) == r);
    if (r < 0)
        CHECK(strcmp(green_http_reason(-r), "Unknown") != 0);

    /* The body of a chunked request, else the whole input as a body: the
     * decoder gets fuzzed even while the head is not valid. */
    size_t off = r > 0 ? (size_t)r : 0;
    check_chunked(buf + off, size - off, data, size);
    return 0;
}
