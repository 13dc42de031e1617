/*
 * url.c - chapter 9: percent-decoding (see url.h).
 */
#include <errno.h>

#include "url.h"

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The byte "%XX" at src[i] stands for, or -1 for a bad escape or "%00". */
static int escaped_byte(const char *src, size_t i, size_t len)
{
    if (i + 2 >= len)
        return -1;               /* "%", "%4": not two digits left */
    int hi = hex_digit((unsigned char)src[i + 1]);
    int lo = hex_digit((unsigned char)src[i + 2]);
    if (hi < 0 || lo < 0)
        return -1;
    int c = hi << 4 | lo;
    return c == 0 ? -1 : c;
}

ssize_t green_url_unescape(char *dst, size_t size, const char *src,
                           size_t len, int plus)
{
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)src[i];
        if (c == '%') {
            c = escaped_byte(src, i, len);
            if (c < 0) {
                errno = EINVAL;
                return -1;
            }
            i += 2;
        } else if (c == '+' && plus) {
            c = ' ';
        }
        if (j + 1 >= size) {
            errno = ENOSPC;
            return -1;
        }
        /* j <= i always, so decoding src in place is safe. */
        dst[j++] = (char)c;
    }
    if (size == 0) {
        errno = ENOSPC;
        return -1;
    }
    dst[j] = '\0';
    return (ssize_t)j;
}
