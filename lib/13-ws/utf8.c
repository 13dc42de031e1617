/*
 * utf8.c - the incremental UTF-8 validator (utf8.h).
 *
 * The state is the table of utf8.h turned sideways: a lead byte says how
 * many continuation bytes follow and the range of the first one; every
 * later one is 80..BF.  No decoding: a server checks text, it does not
 * need the code points.
 */
#include "utf8.h"

#include <errno.h>

void green_utf8_init(green_utf8_t *u)
{
    u->need = 0;
    u->lo = 0x80;
    u->hi = 0xbf;
    u->failed = 0;
}

/* A lead byte: how many continuation bytes follow, and the first one's
 * range.  Returns 0 for a byte that cannot lead (80..C1, F5..FF). */
static int lead(green_utf8_t *u, unsigned char b)
{
    u->lo = 0x80;
    u->hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) {
        u->need = 1;
    } else if (b >= 0xe0 && b <= 0xef) {
        u->need = 2;
        if (b == 0xe0)
            u->lo = 0xa0;                   /* under U+0800: overlong */
        if (b == 0xed)
            u->hi = 0x9f;                   /* U+D800..DFFF: surrogates */
    } else if (b >= 0xf0 && b <= 0xf4) {
        u->need = 3;
        if (b == 0xf0)
            u->lo = 0x90;                   /* under U+10000: overlong */
        if (b == 0xf4)
            u->hi = 0x8f;                   /* over U+10FFFF */
    } else {
        return 0;
    }
    return 1;
}

static int fail(green_utf8_t *u, size_t at, size_t *bad)
{
    u->failed = 1;
    if (bad)
        *bad = at;
    errno = EILSEQ;
    return -1;
}

int green_utf8_feed(green_utf8_t *u, const void *data, size_t n, size_t *bad)
{
    const unsigned char *p = data;
    if (u->failed)
        return fail(u, 0, bad);
    for (size_t i = 0; i < n; i++) {
        unsigned char b = p[i];
        if (u->need == 0) {
            if (b < 0x80)
                continue;                   /* ASCII: most text */
            if (!lead(u, b))
                return fail(u, i, bad);
        } else {
            if (b < u->lo || b > u->hi)
                return fail(u, i, bad);
            u->need--;
            u->lo = 0x80;
            u->hi = 0xbf;
        }
    }
    return 0;
}

int green_utf8_end(const green_utf8_t *u)
{
    if (u->failed || u->need != 0) {
        errno = EILSEQ;
        return -1;
    }
    return 0;
}

int green_utf8_valid(const void *data, size_t n)
{
    green_utf8_t u;
    green_utf8_init(&u);
    return green_utf8_feed(&u, data, n, NULL) == 0 && green_utf8_end(&u) == 0;
}
