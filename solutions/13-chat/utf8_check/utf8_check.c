/* utf8_check.c - solution of exercise 13-chat/utf8_check.  See utf8_check.h. */
#include <errno.h>

#include "utf8_check.h"

/* Every continuation byte but the second of some characters: 80..BF. */
static void any_continuation(ex_utf8_t *u)
{
    u->lo = 0x80;
    u->hi = 0xbf;
}

void ex_utf8_init(ex_utf8_t *u)
{
    u->need = 0;
    any_continuation(u);
    u->failed = 0;
}

/* A byte that starts a character of 2 to 4 bytes: set how many follow,
 * and the range of the first of them, which the table narrows after E0,
 * ED, F0 and F4.  Returns 0 for a byte that cannot start one (80..C1,
 * F5..FF). */
static int lead(ex_utf8_t *u, unsigned char b)
{
    any_continuation(u);
    if (b >= 0xc2 && b <= 0xdf) {
        u->need = 1;
    } else if (b >= 0xe0 && b <= 0xef) {
        u->need = 2;
        if (b == 0xe0)
            u->lo = 0xa0;       /* under U+0800: overlong */
        if (b == 0xed)
            u->hi = 0x9f;       /* U+D800..DFFF: surrogates */
    } else if (b >= 0xf0 && b <= 0xf4) {
        u->need = 3;
        if (b == 0xf0)
            u->lo = 0x90;       /* under U+10000: overlong */
        if (b == 0xf4)
            u->hi = 0x8f;       /* past U+10FFFF */
    } else {
        return 0;
    }
    return 1;
}

static int fail(ex_utf8_t *u, size_t at, size_t *bad)
{
    u->failed = 1;
    if (bad)
        *bad = at;
    errno = EILSEQ;
    return -1;
}

int ex_utf8_feed(ex_utf8_t *u, const void *data, size_t n, size_t *bad)
{
    const unsigned char *p = data;
    if (u->failed)
        return fail(u, 0, bad);
    for (size_t i = 0; i < n; i++) {
        unsigned char b = p[i];
        if (u->need == 0) {
            if (b < 0x80)
                continue;       /* ASCII: most text, one comparison */
            if (!lead(u, b))
                return fail(u, i, bad);
        } else {
            if (b < u->lo || b > u->hi)
                return fail(u, i, bad);
            u->need--;
            any_continuation(u);
        }
    }
    return 0;
}

int ex_utf8_end(const ex_utf8_t *u)
{
    if (u->failed || u->need > 0) {
        errno = EILSEQ;
        return -1;
    }
    return 0;
}
