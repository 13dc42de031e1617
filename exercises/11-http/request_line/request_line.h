/*
 * request_line.h - exercise 11-http/request_line: parse the first line of
 * an HTTP/1.x request, the way the chapter's server does, without copying.
 *
 * int ex_parse_request_line(const char *line, size_t len,
 *                           struct ex_request_line *out);
 *
 * Every HTTP/1.x request starts with one line:
 *
 *     GET /stream?n=3 HTTP/1.1
 *     ^^^ ^^^^^^^^^^^ ^^^^^^^^
 *     method  target   version       separated by ONE space each
 *
 * line[0..len) is that line, its CRLF already cut off by the caller.  It
 * is NOT a C string: it is not NUL-terminated and may be followed by the
 * rest of the request, so read exactly len bytes (never strlen, strchr or
 * sscanf on it), and a NUL byte inside it is just a bad character.
 *
 * On success, return 0 and fill *out with pointers INTO line (copy
 * nothing): method/method_len, target/target_len, and minor, the digit
 * after "HTTP/1." (0 for HTTP/1.0, 1 for HTTP/1.1).  On failure, return
 * the HTTP status the server will answer with, negated:
 *
 *   -414 (URI Too Long)   len > EX_MAX_REQUEST_LINE, whatever the line
 *                         holds: decide this first, before reading it;
 *   -505 (HTTP Version Not Supported)
 *                         a well-formed version that is not 1.x
 *                         ("HTTP/2.0", "HTTP/0.9"), or no version at all
 *                         ("GET /", an HTTP/0.9 request);
 *   -400 (Bad Request)    anything else that is not exactly
 *                         METHOD SP TARGET SP HTTP/D.D, where
 *                           METHOD is one or more tchar: letters, digits
 *                             and !#$%&'*+-.^_`|~ (RFC 9110, 5.6.2);
 *                           TARGET is one or more visible ASCII
 *                             characters, '!' (0x21) to '~' (0x7e);
 *                           SP is one space (0x20): not two, not a tab;
 *                           HTTP/D.D is "HTTP" in capitals, '/', a digit,
 *                             '.', a digit, and then the line ends.
 *
 * Why so strict?  A front proxy and the server behind it must read every
 * request the same way.  If one accepts "GET  /" or a tab and the other
 * does not, an attacker can make them disagree about where requests
 * begin and end ("request smuggling").  Refusing everything unusual is
 * the safe choice.  See chapters/11-http/README.md, "Parsing a request
 * line".
 *
 * Hints
 *   - Walk the line once with an index: read the method while the bytes
 *     are tchar, expect one ' ', read the target while the bytes are
 *     visible, expect one ' ', then compare the rest with "HTTP/".
 *   - An empty method or target is an error: check the length of each run.
 *   - When the line ends right after the target, it is HTTP/0.9 (-505).
 *   - The version is exactly 8 bytes: "HTTP/1.1".  Check the shape
 *     (-400) before the major digit (-505).
 *   - memcmp(a, b, n) compares n bytes without needing a NUL.
 *
 * Lesson: chapters/11-http/README.md, "Parsing a request line", then
 *         "Exercise: request_line".
 * Tests:  tests/exercises/11-http/request_line.c
 * Run:    make grade E=request_line
 * Stuck?  make hint E=request_line (one more hint each time you ask)
 */
#ifndef EX_REQUEST_LINE_H
#define EX_REQUEST_LINE_H

#include <stddef.h>

/* The longest request line accepted, without its CRLF (as nginx). */
#define EX_MAX_REQUEST_LINE 8190

struct ex_request_line {
    const char *method;       /* "GET", pointing into the line */
    size_t method_len;
    const char *target;       /* "/stream?n=3", pointing into the line */
    size_t target_len;
    int minor;                /* HTTP/1.<minor>: 0 or 1 */
};

int ex_parse_request_line(const char *line, size_t len, struct ex_request_line *out);

#endif
