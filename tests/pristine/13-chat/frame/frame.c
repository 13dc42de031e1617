/* frame.c - exercise 13-chat/frame.  Read frame.h first. */
#include <errno.h>
#include <stdint.h>

#include "frame.h"

int ex_frame_parse(const void *buf, size_t len, ex_frame_t *f)
{
    /* TODO: byte 0 (FIN, RSV, opcode), byte 1 (MASK, 7-bit length), the
     * 16- or 64-bit length, the key: each checked as soon as it is there.
     * Until then: -1 with errno ENOSYS ("not implemented"). */
    (void)buf;
    (void)len;
    (void)f;
    errno = ENOSYS;
    return -1;
}

void ex_unmask(void *data, size_t n, const unsigned char key[4], uint64_t offset)
{
    /* TODO: XOR byte i of data with key[(offset + i) % 4]. */
    (void)data;
    (void)n;
    (void)key;
    (void)offset;
}
