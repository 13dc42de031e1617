/* utf8_check.c - exercise 13-chat/utf8_check.  Read utf8_check.h first. */
#include <errno.h>

#include "utf8_check.h"

void ex_utf8_init(ex_utf8_t *u)
{
    /* TODO: no character begun, not failed. */
    (void)u;
}

int ex_utf8_feed(ex_utf8_t *u, const void *data, size_t n, size_t *bad)
{
    /* TODO: for each byte: a new character (how many bytes follow, the
     * range of the next one), or the next byte of the current one.  Until
     * then: -1 with errno ENOSYS ("not implemented"). */
    (void)u;
    (void)data;
    (void)n;
    (void)bad;
    errno = ENOSYS;
    return -1;
}

int ex_utf8_end(const ex_utf8_t *u)
{
    /* TODO: 0 between two characters, -1 (EILSEQ) otherwise. */
    (void)u;
    errno = ENOSYS;
    return -1;
}
