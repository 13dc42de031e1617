/*
 * frame.h - exercise 13-chat/frame: read a WebSocket frame's header, unmask its payload.
 *
 * int ex_frame_parse(const void *buf, size_t len, ex_frame_t *f);
 * void ex_unmask(void *data, size_t n, const unsigned char key[4],
 *                uint64_t offset);
 *
 * Everything a browser sends over a WebSocket comes in frames (RFC 6455
 * section 5.2).  A frame is a header of 2 to 14 bytes, then its payload:
 *
 *     byte 0   FIN (bit 7), RSV1-3 (bits 6-4), opcode (bits 3-0)
 *     byte 1   MASK (bit 7), length (bits 6-0): 0-125 is the length;
 *              126: the length is the next 2 bytes, a 16-bit number;
 *              127: the length is the next 8 bytes, a 64-bit number
 *              (both in network byte order: the most significant first)
 *     then     the 4-byte masking key, if MASK is set
 *
 * "Hello" from a browser, the RFC's example (section 5.7):
 *
 *     81 85 37 FA 21 3D 7F 9F 4D 51 58
 *     |  |  '---------' '------------'
 *     |  |   the key      "Hello", masked
 *     |  MASK, length 5
 *     FIN, opcode 1 (text)
 *
 * A server reads frames from a socket, a few bytes at a time: the header
 * may be cut anywhere.  So the parser is called on what has arrived so
 * far and says "complete: the header is N bytes", "not yet: read more",
 * or "refused": the server then closes the connection with code 1002
 * (protocol error).  It keeps no state: a header is at most 14 bytes,
 * and parsing them again when more arrive costs nothing.
 *
 * Then the payload: every byte a client sends is XORed with the key, byte
 * i with key[i % 4] (section 5.3), so that a browser's script cannot
 * choose the bytes a proxy on the way sees.  XOR twice gives the bytes
 * back: unmasking is masking again.
 *
 * What it must do (the tests check each point)
 *   - ex_frame_parse(buf, len, f): the header at the start of buf[0..len).
 *       - Complete: fill *f (fin, opcode, mask key, payload length, header
 *         length) and return the header's length, 2 to 14.
 *       - Not complete (any prefix of a valid header, 0 bytes too):
 *         return 0.
 *       - Refused: return -1 with errno EPROTO, for
 *           - a frame without MASK (every client frame is masked);
 *           - RSV1, RSV2 or RSV3 set (no extension was agreed);
 *           - an opcode the RFC does not define: 3-7 and 11-15;
 *           - a control frame (opcode 8 or more: close, ping, pong) with a
 *             7-bit length over 125, or without FIN (control frames are
 *             never cut in pieces: section 5.5).
 *         Refuse as soon as the byte that proves it is there: byte 0 for
 *         RSV, opcode and FIN of a control frame; byte 1 for MASK and a
 *         control frame's length.  A server does not wait for twelve more
 *         bytes from a client it is going to drop.
 *   - ex_unmask(data, n, key, offset): XOR data[0..n) in place with the
 *     key, data[0] being byte number `offset` of the payload: unmasking
 *     bytes 0-2, then bytes 3-9 with offset 3, is unmasking bytes 0-9.
 *     (A payload arrives in pieces of any size, too.)
 *
 * The trap
 *   The 16- and 64-bit lengths are big-endian, and this machine is not:
 *   copying them into an integer with memcpy reads 01 00 as 1, not 256.
 *   Build the number byte by byte, the first one the most significant.
 *
 * Hints
 *   - One check per byte, in the order they arrive: byte 0, byte 1, the
 *     extended length, the key.  Before each, "is it there?": len.
 *   - lib/13-ws/ws_frame.c is the library's version (it refuses two more
 *     things: a length not written in its shortest form, and a payload
 *     over a limit).  Try without it first.
 *
 * Lesson: chapters/13-chat/README.md, "Frames", then "Exercise: frame".
 * Tests:  tests/exercises/13-chat/frame.c
 * Run:    make grade E=frame
 * Stuck?  make hint E=frame (one more hint each time you ask)
 */
#ifndef EX_FRAME_H
#define EX_FRAME_H

#include <stddef.h>
#include <stdint.h>

/* Opcodes (section 5.2).  8 and above are control frames. */
#define EX_OP_CONT   0x0        /* the next piece of a message */
#define EX_OP_TEXT   0x1
#define EX_OP_BINARY 0x2
#define EX_OP_CLOSE  0x8
#define EX_OP_PING   0x9
#define EX_OP_PONG   0xA

#define EX_MAX_HEADER  14       /* 2 + 8 (a 64-bit length) + 4 (the key) */
#define EX_MAX_CONTROL 125      /* a control frame's longest payload */

/* A parsed header. */
typedef struct ex_frame {
    int fin;                    /* 1: the last frame of its message */
    int opcode;                 /* EX_OP_TEXT... */
    unsigned char key[4];       /* the masking key */
    uint64_t length;            /* the payload's length in bytes */
    size_t head_len;            /* the header's length: 2 to 14 */
} ex_frame_t;

int ex_frame_parse(const void *buf, size_t len, ex_frame_t *f);
void ex_unmask(void *data, size_t n, const unsigned char key[4], uint64_t offset);

#endif
