/*
 * ws_frame.c - WebSocket frame headers read and written (ws_frame.h).
 *
 * The parser checks each byte as soon as it has it, so that a bad header
 * is refused from its first bytes: byte 0 (RSV, opcode), byte 1 (MASK,
 * the 7-bit length, which alone decides a control frame's fate), then the
 * extended length, then the mask key.
 */
#include "ws_frame.h"

#include <errno.h>

#define FIN_BIT   0x80
#define RSV_BITS  0x70
#define MASK_BIT  0x80

int green_ws_is_control(int opcode)
{
    return (opcode & 0x8) != 0;
}

static int known_opcode(int opcode)
{
    switch (opcode) {
    case GREEN_WS_CONT: case GREEN_WS_TEXT: case GREEN_WS_BINARY:
    case GREEN_WS_CLOSE: case GREEN_WS_PING: case GREEN_WS_PONG:
        return 1;
    default:
        return 0;
    }
}

/* Byte 0: FIN, RSV, opcode. */
static int check_byte0(unsigned char b, green_ws_frame_t *f)
{
    f->fin = (b & FIN_BIT) != 0;
    f->opcode = b & 0x0f;
    if (b & RSV_BITS)
        return -GREEN_WS_PROTOCOL_ERROR;    /* no extension was negotiated */
    if (!known_opcode(f->opcode))
        return -GREEN_WS_PROTOCOL_ERROR;
    if (green_ws_is_control(f->opcode) && !f->fin)
        return -GREEN_WS_PROTOCOL_ERROR;    /* a fragmented control frame */
    return 0;
}

/* Byte 1: MASK and the 7-bit length.  A control frame's fate is decided
 * here: its length must fit in these 7 bits, and be at most 125. */
static int check_byte1(unsigned char b, green_ws_frame_t *f)
{
    f->masked = (b & MASK_BIT) != 0;
    if (!f->masked)
        return -GREEN_WS_PROTOCOL_ERROR;    /* a client frame must be masked */
    if (green_ws_is_control(f->opcode) && (b & 0x7f) > GREEN_WS_MAX_CONTROL)
        return -GREEN_WS_PROTOCOL_ERROR;
    return 0;
}

/* The 16- or 64-bit length at p (its `size` bytes all there). */
static uint64_t read_length(const unsigned char *p, int size)
{
    uint64_t n = 0;
    for (int i = 0; i < size; i++)
        n = n << 8 | p[i];
    return n;
}

int green_ws_frame_parse(const void *buf, size_t len, uint64_t max_payload,
                         green_ws_frame_t *f)
{
    const unsigned char *p = buf;
    if (max_payload == 0)
        max_payload = GREEN_WS_DEFAULT_MAX_PAYLOAD;
    if (len < 1)
        return 0;
    int rc = check_byte0(p[0], f);
    if (rc < 0)
        return rc;
    if (len < 2)
        return 0;
    if ((rc = check_byte1(p[1], f)) < 0)
        return rc;

    /* The extended length: 126 -> 2 bytes, 127 -> 8 bytes. */
    int size = (p[1] & 0x7f) == 126 ? 2 : (p[1] & 0x7f) == 127 ? 8 : 0;
    if (size == 8 && len > 2 && (p[2] & 0x80))
        return -GREEN_WS_PROTOCOL_ERROR;    /* the top bit MUST be 0 */
    if (len < (size_t)2 + size)
        return 0;
    f->length = size ? read_length(p + 2, size) : (uint64_t)(p[1] & 0x7f);
    if ((size == 2 && f->length < 126) || (size == 8 && f->length <= 0xffff))
        return -GREEN_WS_PROTOCOL_ERROR;    /* not the shortest encoding */
    if (f->length > max_payload)
        return -GREEN_WS_TOO_BIG;

    /* The mask key. */
    size_t head = (size_t)2 + size + 4;
    if (len < head)
        return 0;
    for (int i = 0; i < 4; i++)
        f->mask[i] = p[2 + size + i];
    f->head_len = head;
    return (int)head;
}

void green_ws_unmask(void *data, size_t n, const unsigned char mask[4],
                     uint64_t offset)
{
    unsigned char *p = data;
    /* Byte i of the payload is XORed with mask[i % 4]; the compiler turns
     * this loop into wide XORs, so no hand-written word-at-a-time code. */
    for (size_t i = 0; i < n; i++)
        p[i] ^= mask[(offset + i) & 3];
}

int green_ws_frame_order(int *fragmented, const green_ws_frame_t *f)
{
    if (green_ws_is_control(f->opcode))
        return 0;                           /* allowed between fragments */
    if (f->opcode == GREEN_WS_CONT) {
        if (!*fragmented)
            return -GREEN_WS_PROTOCOL_ERROR;   /* nothing to continue */
    } else if (*fragmented) {
        return -GREEN_WS_PROTOCOL_ERROR;       /* a message inside a message */
    }
    *fragmented = !f->fin;
    return 0;
}

int green_ws_frame_header(void *out, int fin, int opcode, uint64_t length)
{
    unsigned char *p = out;
    if (!known_opcode(opcode) || length >> 63
        || (green_ws_is_control(opcode) && (length > GREEN_WS_MAX_CONTROL || !fin))) {
        errno = EINVAL;
        return -1;
    }
    p[0] = (unsigned char)((fin ? FIN_BIT : 0) | opcode);
    if (length < 126) {
        p[1] = (unsigned char)length;
        return 2;
    }
    int size = length <= 0xffff ? 2 : 8;
    p[1] = size == 2 ? 126 : 127;
    for (int i = 0; i < size; i++)
        p[2 + i] = (unsigned char)(length >> (8 * (size - 1 - i)));
    return 2 + size;
}

int green_ws_close_code_valid(int code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011)
        || (code >= 3000 && code <= 4999);
}
