/*
 * url.h - chapter 9: percent-decoding, once for the whole kit.
 *
 * A URL carries any byte as "%XX" (two hex digits).  Every place that
 * turns a request into an environ decodes the path: the test client
 * green_wsgi_request (chapter 9), the evhttp adapter (chapter 10) and the
 * HTTP/1.1 server (chapter 11).  They call this one function, so they
 * cannot disagree on a path: "/admin%00.txt" is refused (400) by all of
 * them, never handed to an application as "/admin".  Like the request
 * parser, it needs nothing of the kit: a pure function of bytes.
 */
#ifndef GREEN_URL_H
#define GREEN_URL_H

#include <stddef.h>
#include <sys/types.h>

/* Percent-decode src[0..len) into dst, which holds `size` bytes, and
 * NUL-terminate it.  dst may be src: decoding never makes a string longer,
 * so `size` = len + 1 always fits.  "%XX" is the byte XX ("%2F" is '/', a
 * plain byte once decoded); with `plus` (a query's values, as HTML forms
 * send them) '+' is a space, without it (a path) '+' stays '+'.
 * Returns the decoded length, or -1 with errno:
 *   EINVAL  a bad escape ("%zz", a '%' without two hex digits after it,
 *           a trailing '%') or "%00": a NUL byte would cut the C string
 *           short, and a path that means two things ("/admin%00.txt",
 *           "/admin" to C) is refused, the way every server of the kit
 *           answers 400 for it;
 *   ENOSPC  dst is too small.
 * Python: urllib.parse.unquote(), which lets both through. */
ssize_t green_url_unescape(char *dst, size_t size, const char *src,
                           size_t len, int plus);

#endif
