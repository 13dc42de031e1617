/*
 * ws_frame.h - chapter 13: WebSocket frames (RFC 6455 section 5), read
 * and written.
 *
 * A frame is a header of 2 to 14 bytes, then its payload:
 *
 *     byte 0   FIN (1 bit), RSV1-3 (3 bits), opcode (4 bits)
 *     byte 1   MASK (1 bit), length (7 bits): 0-125 is the length;
 *              126: the length follows in 16 bits; 127: in 64 bits
 *     then     the 16- or 64-bit length (network order), if any
 *     then     the 4-byte mask key, if MASK is set
 *
 * Like chapter 11's request parser (http_parser.h) the parser never copies
 * and keeps no state: a header is at most 14 bytes, so the connection
 * calls it again on the bytes it holds each time a read adds some, and
 * "not complete yet" costs nothing to find again.  The payload is the
 * caller's: it lies in its read buffer, right after the header, and is
 * unmasked there, in place, as it arrives (green_ws_unmask takes the
 * payload's offset, so the pieces can be any size).  The parser needs
 * nothing of the kit: a pure function of bytes, fuzzed alone.
 *
 * It reads frames a *client* sent, for a server, and is strict where the
 * RFC says a server MUST fail the connection (section 5.1 to 5.5), with
 * the close code it must send (section 7.4.1):
 *   1002 (protocol error)
 *     - a frame without MASK (every client frame is masked: section 5.1);
 *     - RSV1, RSV2 or RSV3 set (no extension was negotiated: section 5.2);
 *     - an opcode the RFC does not define (3-7, 11-15);
 *     - a control frame (close, ping, pong) longer than 125 bytes, or
 *       without FIN (control frames are never fragmented: section 5.5);
 *     - a 64-bit length with its top bit set (section 5.2: "the most
 *       significant bit MUST be 0");
 *     - a length not in its shortest form (126 with a 16-bit length under
 *       126, 127 with a 64-bit length under 65536).  Section 5.2 says
 *       "the minimal number of bytes MUST be used": no browser or library
 *       sends anything else, so a frame that does is a broken or probing
 *       client, and one spelling per length is one less way for two
 *       readers (a proxy and the server) to disagree.
 *   1009 (message too big)
 *     - a payload longer than the caller's limit, refused from its header
 *       alone, before a byte of it is read.
 * Errors are close codes, negated (-1002, -1009), as the request parser's
 * are HTTP statuses: the connection sends that code in its close frame.
 * An error is found at the first byte that proves it: a prefix of a bad
 * header gets 0 ("read more") or the error the whole header gets.
 *
 * Which frame may follow which (a continuation needs a message begun, a
 * new message may not start inside another) needs one bit of state:
 * green_ws_frame_order keeps it.
 */
#ifndef GREEN_WS_FRAME_H
#define GREEN_WS_FRAME_H

#include <stddef.h>
#include <stdint.h>

/* Opcodes (section 5.2).  8 and above are control frames. */
#define GREEN_WS_CONT   0x0
#define GREEN_WS_TEXT   0x1
#define GREEN_WS_BINARY 0x2
#define GREEN_WS_CLOSE  0x8
#define GREEN_WS_PING   0x9
#define GREEN_WS_PONG   0xA

/* Close codes (section 7.4.1) the library sends. */
#define GREEN_WS_NORMAL          1000
#define GREEN_WS_GOING_AWAY      1001
#define GREEN_WS_PROTOCOL_ERROR  1002
#define GREEN_WS_INVALID_DATA    1007  /* text that is not UTF-8 */
#define GREEN_WS_POLICY          1008  /* a rule of ours: too slow, say */
#define GREEN_WS_TOO_BIG         1009

/* The longest header: 2 + 8 (64-bit length) + 4 (mask key). */
#define GREEN_WS_MAX_HEADER 14
/* A control frame's payload is at most this long (section 5.5). */
#define GREEN_WS_MAX_CONTROL 125
/* The payload limit green_ws_frame_parse uses when given 0: 1 MiB. */
#define GREEN_WS_DEFAULT_MAX_PAYLOAD (1u << 20)

/* A parsed frame header. */
typedef struct green_ws_frame {
    int fin;                  /* 1: the last frame of its message */
    int opcode;               /* GREEN_WS_TEXT... */
    int masked;               /* always 1 once parsed (a server's reading) */
    unsigned char mask[4];    /* the mask key */
    uint64_t length;          /* the payload's length */
    size_t head_len;          /* bytes of the header: 2 to 14 */
} green_ws_frame_t;

/* 1 for close, ping and pong: the opcodes with the high bit set. */
int green_ws_is_control(int opcode);

/* Parse the frame header at the start of buf[0..len).  Returns the
 * header's length (2 to 14, also in f->head_len) once it is all there: the
 * payload starts right after it.  Returns 0 when it is not complete yet:
 * read more and call again with the same buffer, grown.  Returns -1002 or
 * -1009 (see above) for a frame the server must refuse, even before the
 * header is complete.  max_payload: the longest payload accepted (0: the
 * default, 1 MiB); a message made of fragments is the connection's to
 * count. */
int green_ws_frame_parse(const void *buf, size_t len, uint64_t max_payload,
                         green_ws_frame_t *f);

/* Unmask data[0..n) in place: bytes of a payload masked with `mask`, the
 * first being the payload's byte number `offset`.  Masking is its own
 * inverse (XOR), so this masks too.  Pieces can be any size: unmasking
 * bytes 0-9, then 10-99 (offset 10), is unmasking 0-99. */
void green_ws_unmask(void *data, size_t n, const unsigned char mask[4],
                     uint64_t offset);

/* Which frame may follow which (section 5.4).  *fragmented is the
 * connection's one bit of state: 1 while a message's fragments are
 * coming (start it at 0).  A text or binary frame starts a message and is
 * refused inside one; a continuation continues one and is refused outside;
 * control frames may come anywhere, between fragments too.  Returns 0 (and
 * updates *fragmented), or -1002. */
int green_ws_frame_order(int *fragmented, const green_ws_frame_t *f);

/* Write the header of a server frame (unmasked: section 5.1 forbids a
 * server to mask) into out (GREEN_WS_MAX_HEADER bytes are enough), with
 * the shortest length encoding.  Returns its length (2, 4 or 10), or -1
 * with errno EINVAL for an opcode the RFC does not define, a control
 * frame longer than 125 bytes or not final, or a length of 2^63 or more. */
int green_ws_frame_header(void *out, int fin, int opcode, uint64_t length);

/* 1 when `code` may be sent in a close frame (section 7.4): 1000-1003,
 * 1007-1011, 3000-4999.  1004-1006 and 1015 are reserved for reports that
 * no close frame was received, so a close frame carrying one is a
 * protocol error; anything under 1000 or from 5000 on is not a code. */
int green_ws_close_code_valid(int code);

#endif
