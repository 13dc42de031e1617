/*
 * chunked.h - exercise 11-http/chunked: send a body in chunked encoding.
 *
 * A generator body (chapter 9's /stream) has no length the server knows
 * in advance, so an HTTP/1.1 server cannot send a Content-Length header.
 * Instead it frames each piece as it comes (RFC 9112 section 7.1):
 *
 *     8\r\n              the chunk's size in hexadecimal, CRLF
 *     chunk 0\n\r\n      the chunk's bytes, CRLF
 *     8\r\n
 *     chunk 1\n\r\n
 *     0\r\n              the last chunk: size 0 ...
 *     \r\n               ... and an empty line (no trailers)
 *
 * This is what `curl -v` calls "Transfer-Encoding: chunked" in article
 * 004, and what lets pywsgi stream.  Write three functions:
 *
 * int ex_chunk_header(size_t len, char *buf, size_t size);
 *   The size line of a chunk of `len` bytes into buf: lower-case hex, no
 *   leading zeros, then "\r\n" (255 -> "ff\r\n", 0 -> "0\r\n"), NUL-
 *   terminated.  Returns its length (without the NUL), or -1 with errno
 *   ENOSPC when buf (size bytes) is too small for the line and its NUL.
 *
 * ssize_t ex_chunked_encode(const green_chunk_t *chunks, size_t n,
 *                           char *out, size_t size);
 *   A whole chunked body for chunks[0..n) into out: each chunk framed as
 *   above, then the last chunk "0\r\n\r\n".  An EMPTY chunk (len 0) must
 *   be skipped: its size line would read "0", which ends the body.
 *   Returns the number of bytes written, or -1 with errno ENOSPC when out
 *   is too small (no NUL needed).
 *
 * int ex_chunked_send(int fd, green_body_t *body);
 *   Stream a body to the socket fd: for each chunk green_body_next()
 *   gives, send it framed (green_sendall, timeout 5 s) BEFORE asking for
 *   the next one (the generator may sleep between chunks: the client must
 *   get each chunk as soon as it exists); then send "0\r\n\r\n".  Does
 *   not close the body.  Returns 0, or -1 with errno when a send fails.
 *
 * Hints
 *   - snprintf(buf, size, "%zx\r\n", len) does the hex; look at what it
 *     returns when the buffer is too small.
 *   - For ex_chunked_send, gather a chunk's three pieces (size line, data,
 *     CRLF) with three green_sendall calls, or one sendmsg() as
 *     lib/11-http/http.c does (send_piece).
 *   - See chapters/11-http/README.md, "Chunked responses".
 *
 * Lesson: chapters/11-http/README.md, "Chunked responses", then
 *         "Exercise: chunked".
 * Tests:  tests/exercises/11-http/chunked.c
 * Run:    make grade E=chunked
 * Stuck?  make hint E=chunked (one more hint each time you ask)
 */
#ifndef EX_CHUNKED_H
#define EX_CHUNKED_H

#include <stddef.h>
#include <sys/types.h>

#include "wsgi.h"

int ex_chunk_header(size_t len, char *buf, size_t size);
ssize_t ex_chunked_encode(const green_chunk_t *chunks, size_t n, char *out,
                          size_t size);
int ex_chunked_send(int fd, green_body_t *body);

#endif
