/*
 * keepalive.h - exercise 11-http/keepalive: the keep-alive loop.
 *
 * gevent.wsgi (on evhttp) closed the connection after every response;
 * pywsgi keeps it open and reads the next request on it, and when a
 * client sends several requests at once without waiting (pipelining),
 * it answers them one after the other, in order.  That loop is the heart
 * of lib/11-http/http.c (handle_connection and serve_request); here you write
 * a small version of it, in three steps.
 *
 * int ex_keep_alive(const green_http_request_t *req);
 *   1 when the connection stays open after this request, 0 when it must
 *   close (RFC 9112 section 9.3):
 *     - HTTP/1.1 (req->minor >= 1): open, unless a Connection header
 *       holds the option "close";
 *     - HTTP/1.0: closed, unless a Connection header holds "keep-alive".
 *   Options compare without regard to case ("Close", "Keep-Alive"), and
 *   a Connection header may list several, separated by commas and
 *   spaces: "Upgrade, close".  Find the header with
 *   green_http_find_header() (its value is NOT NUL-terminated: use its
 *   length).  Do not read req->keep_alive: that is the parser's answer
 *   to this very question (the tests set it wrong on purpose).
 *
 * typedef int (*ex_respond_fn)(int status, const green_http_request_t *req,
 *                              int keep_alive, void *arg);
 *   What answers one request (the tests give you one): status 200 with
 *   the parsed request, or an error status with req NULL.  It returns 0,
 *   or -1 when the response could not be sent.
 *
 * ssize_t ex_serve_buffer(const char *buf, size_t len,
 *                         ex_respond_fn respond, void *arg, int *close);
 *   buf[0..len) is what a client has sent so far: zero, one or several
 *   whole requests, maybe followed by the first part of the next one.
 *   Answer the whole ones, in order.  Set *close to 0 first; then, for
 *   the request at buf + used (used starts at 0):
 *     - rc = green_http_parse_request(buf + used, len - used, NULL, &req);
 *     - rc == 0: the head is not all there: stop, return used;
 *     - rc < 0: a bad request: respond(-rc, NULL, 0, arg), *close = 1,
 *       return used;
 *     - rc > 0: the head is rc bytes; a body of req.content_length bytes
 *       (when > 0) follows it.  If the body is not all in the buffer yet,
 *       stop and return used: the caller will read more.  (A chunked body,
 *       req.chunked, is beyond this exercise: respond(501, NULL, 0, arg),
 *       *close = 1, return used.)  Otherwise call
 *       respond(200, &req, keep, arg) with keep = ex_keep_alive(&req),
 *       and count the head and body as used.  If respond returned -1 or
 *       keep is 0: *close = 1, return used.  Else go on with the next.
 *   Returns the bytes used: the caller keeps the rest for next time.
 *
 * int ex_serve_connection(int fd, ex_respond_fn respond, void *arg,
 *                         double idle_timeout);
 *   The loop on a socket: read (green_recv, at most idle_timeout seconds
 *   each) into a buffer of EX_BUFFER bytes, hand what it holds to
 *   ex_serve_buffer, drop the bytes it used by moving the rest to the
 *   front of the buffer, read more, and so on.  Stop when ex_serve_buffer
 *   sets *close (return 0 at once: do not wait for more bytes), when the
 *   client closes (green_recv returns 0: return 0), or when green_recv
 *   fails (return -1, errno as it left it: ETIMEDOUT for an idle client).
 *   A buffer full of a request that is still incomplete is a head too
 *   large: respond(431, NULL, 0, arg) and return 0.
 *
 * Hints
 *   - Test your loop with pipelined requests cut anywhere: the bytes of
 *     one read may end in the middle of a request line.
 *   - See chapters/11-http/README.md, "The keep-alive loop" and
 *     "Pipelining".
 *
 * Lesson: chapters/11-http/README.md, "The keep-alive loop", "Pipelining",
 *         then "Exercise: keepalive".
 * Tests:  tests/exercises/11-http/keepalive.c
 * Run:    make grade E=keepalive
 * Stuck?  make hint E=keepalive (one more hint each time you ask)
 */
#ifndef EX_KEEPALIVE_H
#define EX_KEEPALIVE_H

#include <stddef.h>
#include <sys/types.h>

#include "http_parser.h"

#define EX_BUFFER 8192

typedef int (*ex_respond_fn)(int status, const green_http_request_t *req,
                             int keep_alive, void *arg);

int ex_keep_alive(const green_http_request_t *req);
ssize_t ex_serve_buffer(const char *buf, size_t len, ex_respond_fn respond,
                        void *arg, int *close);
int ex_serve_connection(int fd, ex_respond_fn respond, void *arg,
                        double idle_timeout);

#endif
