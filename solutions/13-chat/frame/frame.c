/* frame.c - solution of exercise 13-chat/frame.  See frame.h. */
#include <errno.h>
#include <stdint.h>

#include "frame.h"

#define FIN_BIT  0x80
#define RSV_BITS 0x70
#define MASK_BIT 0x80

static int is_control(int opcode)
{
    return (opcode & 0x8) != 0;
}

static int known_opcode(int opcode)
{
    return opcode <= EX_OP_BINARY || (opcode >= EX_OP_CLOSE && opcode <= EX_OP_PONG);
}

static int refuse(void)
{
    errno = EPROTO;             /* the server closes with 1002 */
    return -1;
}

/* Byte 0: FIN, RSV, opcode.  0, or -1 (refused). */
static int read_byte0(unsigned char b, ex_frame_t *f)
{
    f->fin = (b & FIN_BIT) != 0;
    f->opcode = b & 0x0f;
    if (b & RSV_BITS)
        return refuse();        /* no extension was agreed */
    if (!known_opcode(f->opcode))
        return refuse();
    if (is_control(f->opcode) && !f->fin)
        return refuse();        /* a control frame in pieces */
    return 0;
}

/* Byte 1: MASK, and the 7-bit length, which alone decides a control
 * frame's fate.  0, or -1 (refused). */
static int read_byte1(unsigned char b, const ex_frame_t *f)
{
    if (!(b & MASK_BIT))
        return refuse();        /* every client frame is masked */
    if (is_control(f->opcode) && (b & 0x7f) > EX_MAX_CONTROL)
        return refuse();
    return 0;
}

/* The big-endian number in p[0..size): the first byte is the most
 * significant, whatever this machine's own order. */
static uint64_t big_endian(const unsigned char *p, int size)
{
    uint64_t n = 0;
    for (int i = 0; i < size; i++)
        n = n << 8 | p[i];
    return n;
}

int ex_frame_parse(const void *buf, size_t len, ex_frame_t *f)
{
    const unsigned char *p = buf;
    if (len < 1)
        return 0;
    if (read_byte0(p[0], f) < 0)
        return -1;
    if (len < 2)
        return 0;
    if (read_byte1(p[1], f) < 0)
        return -1;

    int len7 = p[1] & 0x7f;
    int size = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;     /* the extended length */
    size_t head = 2 + (size_t)size + 4;
    if (len < head)
        return 0;
    f->length = size ? big_endian(p + 2, size) : (uint64_t)len7;
    for (int i = 0; i < 4; i++)
        f->key[i] = p[2 + size + i];
    f->head_len = head;
    return (int)head;
}

void ex_unmask(void *data, size_t n, const unsigned char key[4], uint64_t offset)
{
    unsigned char *p = data;
    /* Byte number offset + i of the payload goes with key[(offset + i) % 4];
     * the compiler makes wide XORs of this loop. */
    for (size_t i = 0; i < n; i++)
        p[i] ^= key[(offset + i) & 3];
}
