/*
 * tests/lib/ws.c - the library's own tests of chapter 13's WebSocket layer:
 * the frame header parser and writer (ws_frame.h), the incremental UTF-8
 * validator (utf8.h) and the opening handshake (ws.h), over a raw socket
 * on chapter 11's server too.
 *
 * The cases follow the Autobahn test suite's categories, the conformance
 * suite every WebSocket server is measured by: 1 framing (each length
 * encoding), 2 ping/pong (control payload sizes), 3 reserved bits,
 * 4 opcodes, 5 fragmentation, 6 UTF-8, 7 close codes, 9 limits.  Here
 * each case is checked on the function that decides it; the same cases
 * over a real socket belong to the /ws/echo tests.
 */
#include "harness.h"
#include "ws_frame.h"
#include "utf8.h"
#include "ws.h"
#include "http.h"
#include "tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FRAME_H "lib/13-ws/ws_frame.h"
#define UTF8_H "lib/13-ws/utf8.h"

/* bytes, shown in hex for messages.  Four buffers in turn. */
static const char *hex(const void *data, size_t n)
{
    static char bufs[4][128];
    static int turn;
    char *out = bufs[turn++ % 4];
    const unsigned char *p = data;
    size_t j = 0;
    for (size_t i = 0; i < n && j + 4 < sizeof bufs[0]; i++)
        j += (size_t)snprintf(out + j, 4, "%02x ", p[i]);
    out[j ? j - 1 : 0] = '\0';
    return out;
}

/* ---- Good headers (Autobahn 1.x: each length encoding) ------------------ */

/* The RFC's own example (section 5.7): a masked "Hello" from a client. */
START_TEST(test_rfc_example)
{
    unsigned char b[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
    green_ws_frame_t f;
    int n = green_ws_frame_parse(b, sizeof b, 0, &f);
    ck_assert_msg(n == 6 && f.head_len == 6,
                  "the RFC's masked \"Hello\" has a 6-byte header (2 + mask key), got %d; see " FRAME_H, n);
    ck_assert_msg(f.fin == 1 && f.opcode == GREEN_WS_TEXT && f.masked && f.length == 5,
                  "expected fin 1, text, masked, length 5; got fin %d opcode %d masked %d length %llu",
                  f.fin, f.opcode, f.masked, (unsigned long long)f.length);
    green_ws_unmask(b + n, 5, f.mask, 0);
    ck_assert_msg(memcmp(b + n, "Hello", 5) == 0, "unmasked in place, expected \"Hello\", got %s",
                  hex(b + n, 5));
}
END_TEST

/* A masked client header for `length`, encoded the shortest way, with the
 * mask key 01 02 03 04.  Returns its length. */
static size_t client_header(unsigned char *out, int b0, uint64_t length)
{
    int n = green_ws_frame_header(out, 1, GREEN_WS_BINARY, length);
    ck_assert_int_gt(n, 0);
    out[0] = (unsigned char)b0;
    out[1] |= 0x80;
    memcpy(out + n, "\x01\x02\x03\x04", 4);
    return (size_t)n + 4;
}

/* Every length at the edges of the three encodings: 7 bits (0, 125),
 * 16 bits (126, 65535), 64 bits (65536, 2^32), and every prefix of the
 * header is "read more". */
START_TEST(test_lengths)
{
    const uint64_t lengths[] = { 0, 1, 125, 126, 127, 65535, 65536, 1ull << 32 };
    const size_t heads[] = { 6, 6, 6, 8, 8, 8, 14, 14 };
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        unsigned char b[GREEN_WS_MAX_HEADER];
        size_t len = client_header(b, 0x82, lengths[i]);
        green_ws_frame_t f;
        int n = green_ws_frame_parse(b, len, UINT64_MAX >> 1, &f);
        ck_assert_msg(n == (int)heads[i] && f.length == lengths[i],
                      "length %llu (header %s): expected a %zu-byte header and that length, "
                      "got %d and %llu; see " FRAME_H, (unsigned long long)lengths[i], hex(b, len),
                      heads[i], n, (unsigned long long)f.length);
        for (size_t k = 0; k < len; k++)
            ck_assert_msg(green_ws_frame_parse(b, k, UINT64_MAX >> 1, &f) == 0,
                          "the first %zu bytes of a header (%s) should be 0, \"read more\"",
                          k, hex(b, len));
    }
}
END_TEST

/* The writer: the shortest encoding, no mask, and what it writes parses
 * back (once masked, as a client would send it). */
START_TEST(test_writer)
{
    unsigned char b[GREEN_WS_MAX_HEADER];
    ck_assert_int_eq(green_ws_frame_header(b, 1, GREEN_WS_TEXT, 5), 2);
    ck_assert_msg(b[0] == 0x81 && b[1] == 0x05, "a final 5-byte text frame is 81 05, got %s", hex(b, 2));
    ck_assert_int_eq(green_ws_frame_header(b, 0, GREEN_WS_BINARY, 126), 4);
    ck_assert_msg(memcmp(b, "\x02\x7e\x00\x7e", 4) == 0, "126 bytes, not final: 02 7e 00 7e, got %s", hex(b, 4));
    ck_assert_int_eq(green_ws_frame_header(b, 1, GREEN_WS_CONT, 65536), 10);
    ck_assert_msg(memcmp(b, "\x80\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10) == 0,
                  "65536 bytes take the 64-bit length: got %s", hex(b, 10));
    ck_assert_int_eq(green_ws_frame_header(b, 1, GREEN_WS_PONG, 125), 2);

    errno = 0;
    ck_assert_msg(green_ws_frame_header(b, 1, GREEN_WS_PING, 126) == -1 && errno == EINVAL,
                  "a 126-byte ping should be -1 EINVAL (control frames are <= 125 bytes)");
    errno = 0;
    ck_assert_msg(green_ws_frame_header(b, 0, GREEN_WS_CLOSE, 2) == -1 && errno == EINVAL,
                  "a close frame without FIN should be -1 EINVAL");
    errno = 0;
    ck_assert_msg(green_ws_frame_header(b, 1, 3, 0) == -1 && errno == EINVAL,
                  "opcode 3 is reserved: -1 EINVAL");
    errno = 0;
    ck_assert_msg(green_ws_frame_header(b, 1, GREEN_WS_BINARY, 1ull << 63) == -1 && errno == EINVAL,
                  "a length of 2^63 cannot be sent: -1 EINVAL");
}
END_TEST

/* Unmasking in pieces of any size is unmasking the whole. */
START_TEST(test_unmask_pieces)
{
    const unsigned char mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
    unsigned char whole[100], pieces[100];
    for (int i = 0; i < 100; i++)
        whole[i] = pieces[i] = (unsigned char)(i * 7);
    green_ws_unmask(whole, 100, mask, 0);
    size_t cuts[] = { 0, 1, 2, 7, 10, 33, 34, 99, 100 };
    for (size_t c = 0; c + 1 < sizeof cuts / sizeof cuts[0]; c++)
        green_ws_unmask(pieces + cuts[c], cuts[c + 1] - cuts[c], mask, cuts[c]);
    ck_assert_msg(memcmp(whole, pieces, 100) == 0,
                  "unmasking 0-1, 1-2, 2-7... with their offsets should equal unmasking 0-100 at once");
    green_ws_unmask(whole, 100, mask, 0);
    for (int i = 0; i < 100; i++)
        ck_assert_msg(whole[i] == (unsigned char)(i * 7), "masking twice gives the bytes back (XOR)");
}
END_TEST

/* ---- Refused headers (Autobahn 2.x, 3.x, 4.x, 5.x, 9.x) ------------------- */

#define FR(s, code, why) { s, sizeof s - 1, code, why }
static const struct bad_frame {
    const char *bytes;
    size_t len;
    int code;
    const char *why;
} bad[] = {
    FR("\x81\x05Hello", -1002, "an unmasked client frame (section 5.1)"),
    FR("\xc1\x80\x00\x00\x00\x00", -1002, "RSV1 set (Autobahn 3.1)"),
    FR("\xa1\x80\x00\x00\x00\x00", -1002, "RSV2 set (Autobahn 3.2)"),
    FR("\x91\x80\x00\x00\x00\x00", -1002, "RSV3 set (Autobahn 3.4)"),
    FR("\xf1\x80\x00\x00\x00\x00", -1002, "RSV1-3 all set (Autobahn 3.7)"),
    FR("\x83\x80\x00\x00\x00\x00", -1002, "opcode 3 is reserved (Autobahn 4.1.1)"),
    FR("\x87\x80\x00\x00\x00\x00", -1002, "opcode 7 is reserved (Autobahn 4.1.5)"),
    FR("\x8b\x80\x00\x00\x00\x00", -1002, "opcode 11 is reserved (Autobahn 4.2.1)"),
    FR("\x8f\x80\x00\x00\x00\x00", -1002, "opcode 15 is reserved (Autobahn 4.2.5)"),
    FR("\x89\xfe\x00\x7e", -1002, "a 126-byte ping (Autobahn 2.5: control frames are <= 125)"),
    FR("\x88\xff", -1002, "a close frame with a 64-bit length"),
    FR("\x09\x80\x00\x00\x00\x00", -1002, "a ping without FIN (Autobahn 5.1: control frames are never fragmented)"),
    FR("\x0a\x80\x00\x00\x00\x00", -1002, "a pong without FIN (Autobahn 5.2)"),
    FR("\x82\xff\x80\x00\x00\x00\x00\x00\x00\x00", -1002, "a 64-bit length with its top bit set (section 5.2)"),
    FR("\x82\xfe\x00\x05", -1002, "5 spelled in 16 bits (not the shortest encoding)"),
    FR("\x82\xfe\x00\x7d", -1002, "125 spelled in 16 bits"),
    FR("\x82\xff\x00\x00\x00\x00\x00\x00\xff\xff", -1002, "65535 spelled in 64 bits"),
    FR("\x82\xff\x00\x00\x00\x00\x00\x00\x00\x05", -1002, "5 spelled in 64 bits"),
    FR("\x82\xff\x00\x00\x00\x00\x00\x10\x00\x01", -1009, "1 MiB + 1, over the default limit (Autobahn 9.x)"),
};

/* Each bad header gets its close code, and every prefix gets 0 or that
 * same code (an error is found at the first byte that proves it). */
START_TEST(test_bad_frame)
{
    const struct bad_frame *t = &bad[_i];
    green_ws_frame_t f;
    int n = green_ws_frame_parse(t->bytes, t->len, 0, &f);
    ck_assert_msg(n == t->code, "%s: %s should be refused with %d, got %d; see " FRAME_H,
                  t->why, hex(t->bytes, t->len), t->code, n);
    for (size_t k = 0; k < t->len; k++) {
        int p = green_ws_frame_parse(t->bytes, k, 0, &f);
        ck_assert_msg(p == 0 || p == t->code, "%s: its first %zu bytes gave %d, expected 0 or %d",
                      t->why, k, p, t->code);
    }
    /* The two cases decided by byte 0 alone are refused from byte 0. */
    if (t->bytes[0] & 0x70)
        ck_assert_int_eq(green_ws_frame_parse(t->bytes, 1, 0, &f), t->code);
}
END_TEST

/* The limit is the caller's: exactly at it is fine, one over is 1009. */
START_TEST(test_limit)
{
    unsigned char b[GREEN_WS_MAX_HEADER];
    green_ws_frame_t f;
    size_t len = client_header(b, 0x82, 1000);
    ck_assert_int_eq(green_ws_frame_parse(b, len, 1000, &f), 8);
    ck_assert_msg(green_ws_frame_parse(b, len, 999, &f) == -1009,
                  "a 1000-byte frame over a limit of 999 should be -1009 (message too big)");
    ck_assert_msg(green_ws_frame_parse(b, 4, 999, &f) == -1009,
                  "the limit is known from the length alone, before the mask key: -1009");
    len = client_header(b, 0x82, GREEN_WS_DEFAULT_MAX_PAYLOAD);
    ck_assert_int_eq(green_ws_frame_parse(b, len, 0, &f), 14);
}
END_TEST

/* Control frames: 0 and 125 bytes are fine (Autobahn 2.1, 2.4). */
START_TEST(test_control_sizes)
{
    green_ws_frame_t f;
    ck_assert_int_eq(green_ws_frame_parse("\x89\x80\x00\x00\x00\x00", 6, 0, &f), 6);
    ck_assert_int_eq(green_ws_frame_parse("\x8a\xfd\x00\x00\x00\x00", 6, 0, &f), 6);
    ck_assert_int_eq(f.length, 125);
    ck_assert_int_eq(green_ws_frame_parse("\x88\x82\x00\x00\x00\x00", 6, 0, &f), 6);
}
END_TEST

/* ---- Fragmentation (Autobahn 5.x) --------------------------------------- */

static int order(int *frag, int fin, int opcode)
{
    green_ws_frame_t f = { .fin = fin, .opcode = opcode, .masked = 1 };
    return green_ws_frame_order(frag, &f);
}

START_TEST(test_fragment_order)
{
    int frag = 0;
    /* 5.3-5.9: text in 2 fragments with a ping in between. */
    ck_assert_int_eq(order(&frag, 0, GREEN_WS_TEXT), 0);
    ck_assert_int_eq(frag, 1);
    ck_assert_msg(order(&frag, 1, GREEN_WS_PING) == 0 && frag == 1,
                  "a ping between fragments is allowed and leaves the message open (Autobahn 5.6)");
    ck_assert_int_eq(order(&frag, 0, GREEN_WS_CONT), 0);
    ck_assert_int_eq(order(&frag, 1, GREEN_WS_CONT), 0);
    ck_assert_int_eq(frag, 0);
    /* 5.9: a continuation with nothing to continue. */
    ck_assert_msg(order(&frag, 1, GREEN_WS_CONT) == -1002,
                  "a continuation frame outside a message should be -1002 (Autobahn 5.9)");
    frag = 0;
    ck_assert_msg(order(&frag, 0, GREEN_WS_CONT) == -1002,
                  "a non-final continuation outside a message should be -1002 (Autobahn 5.10)");
    /* 5.18: a new message while one is open. */
    frag = 0;
    ck_assert_int_eq(order(&frag, 0, GREEN_WS_TEXT), 0);
    ck_assert_msg(order(&frag, 1, GREEN_WS_TEXT) == -1002,
                  "a text frame inside a fragmented message should be -1002 (Autobahn 5.18)");
    frag = 0;
    ck_assert_int_eq(order(&frag, 0, GREEN_WS_BINARY), 0);
    ck_assert_msg(order(&frag, 1, GREEN_WS_BINARY) == -1002,
                  "a binary frame inside a fragmented message should be -1002");
}
END_TEST

/* ---- Close codes (Autobahn 7.7 valid, 7.9 invalid) ----------------------- */

START_TEST(test_close_codes)
{
    const int valid[] = { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999 };
    const int invalid[] = { 0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999, 5000, 65535 };
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
        ck_assert_msg(green_ws_close_code_valid(valid[i]), "close code %d is valid (Autobahn 7.7)", valid[i]);
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
        ck_assert_msg(!green_ws_close_code_valid(invalid[i]),
                      "close code %d may not be sent (Autobahn 7.9): a close frame with it is a protocol error",
                      invalid[i]);
}
END_TEST

/* ---- UTF-8 (Autobahn 6.x) --------------------------------------------- */

#define U8(s, at, why) { s, sizeof s - 1, at, why }
static const struct utf8_case {
    const char *bytes;
    size_t len;
    long bad_at;                /* the first invalid byte; -1: valid; -2: cut at the end */
    const char *why;
} utf8_cases[] = {
    U8("", -1, "the empty message (6.1)"),
    U8("Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!", -1, "6.2: Hello-µ@ßöäüàá-UTF-8!!"),
    U8("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", -1, "6.5.1: κόσμε"),
    U8("\x00", -1, "6.7.1: U+0000"),
    U8("\xc2\x80", -1, "6.7.2: U+0080, the first 2-byte"),
    U8("\xe0\xa0\x80", -1, "6.7.3: U+0800, the first 3-byte"),
    U8("\xf0\x90\x80\x80", -1, "6.7.4: U+10000, the first 4-byte"),
    U8("\x7f\xdf\xbf\xef\xbf\xbf", -1, "6.8: U+007F, U+07FF, U+FFFF"),
    U8("\xf4\x8f\xbf\xbf", -1, "6.11.x: U+10FFFF, the last code point"),
    U8("\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbd", -1, "6.11.x: U+D7FF, U+E000, U+FFFD around the surrogates"),
    U8("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80" "edited", 12, "6.3.1: κόσμε then a surrogate"),
    U8("\x80", 0, "6.10.1: a lone continuation byte"),
    U8("\xbf", 0, "6.10.2: another one"),
    U8("a\xc0\xafz", 1, "6.9.1: '/' overlong in 2 bytes (C0 AF)"),
    U8("\xc1\xbf", 0, "6.9.2: C1 can only start an overlong"),
    U8("\xe0\x80\xaf", 1, "6.9.2: '/' overlong in 3 bytes (E0 80 AF)"),
    U8("\xe0\x9f\xbf", 1, "6.9.4: U+07FF overlong in 3 bytes"),
    U8("\xf0\x80\x80\xaf", 1, "6.9.3: '/' overlong in 4 bytes"),
    U8("\xf0\x8f\xbf\xbf", 1, "6.9.5: U+FFFF overlong in 4 bytes"),
    U8("\xed\xa0\x80", 1, "6.13.1: U+D800, a high surrogate"),
    U8("\xed\xbf\xbf", 1, "6.13.7: U+DFFF, a low surrogate"),
    U8("\xed\xa0\x80\xed\xb0\x80", 1, "6.14.1: a surrogate pair spelled in UTF-8 (CESU-8)"),
    U8("\xf4\x90\x80\x80", 1, "6.12.x: U+110000, past the last code point"),
    U8("\xf5\x80\x80\x80", 0, "6.12.x: F5 cannot start anything"),
    U8("\xff", 0, "6.16.x: FF is never UTF-8"),
    U8("\xfe", 0, "6.16.x: FE neither"),
    U8("\xc2\x41", 1, "6.4.x: a 2-byte character cut by an ASCII byte"),
    U8("\xe1\x80\xc2\x80", 2, "6.4.x: a 3-byte character cut by a new lead byte"),
    U8("\xc2", -2, "6.6.x: a message ending after a lead byte"),
    U8("\xe1\x80", -2, "6.6.x: a message ending in a 3-byte character"),
    U8("\xf0\x90\x80", -2, "6.6.x: a message ending in a 4-byte character"),
};

/* Each case fed whole, then cut at every point in two calls (a frame or a
 * read may end anywhere): the same verdict, at the same byte. */
START_TEST(test_utf8)
{
    const struct utf8_case *t = &utf8_cases[_i];
    for (size_t cut = 0; cut <= t->len; cut++) {
        green_utf8_t u;
        green_utf8_init(&u);
        size_t bad = 0;
        long at = -1;
        if (green_utf8_feed(&u, t->bytes, cut, &bad) < 0) {
            at = (long)bad;
            ck_assert_int_eq(errno, EILSEQ);
        } else if (green_utf8_feed(&u, t->bytes + cut, t->len - cut, &bad) < 0) {
            at = (long)(cut + bad);
        } else if (green_utf8_end(&u) < 0) {
            at = -2;
        }
        ck_assert_msg(at == t->bad_at,
                      "%s: %s cut after byte %zu: expected %s%ld, got %ld (-1: valid, -2: cut short "
                      "at the end, else the first bad byte's offset); see " UTF8_H,
                      t->why, hex(t->bytes, t->len), cut, t->bad_at >= 0 ? "a failure at byte " : "",
                      t->bad_at, at);
    }
    ck_assert_int_eq(green_utf8_valid(t->bytes, t->len), t->bad_at == -1);
}
END_TEST

/* One byte a call, across "fragments": the validator fails at the very
 * byte, and stays failed. */
START_TEST(test_utf8_bytewise)
{
    const char *s = "ok \xe2\x82\xac then \xed\xa0\x80 never";
    green_utf8_t u;
    green_utf8_init(&u);
    size_t i, bad;
    for (i = 0; s[i]; i++)
        if (green_utf8_feed(&u, s + i, 1, &bad) < 0)
            break;
    ck_assert_msg(i == 13, "fed a byte at a time, the surrogate's second byte (offset 13) "
                  "should fail, got offset %zu", i);
    ck_assert_msg(green_utf8_feed(&u, "a", 1, &bad) < 0 && green_utf8_end(&u) < 0,
                  "after a failure, every call should fail");
}
END_TEST


/* ---- The opening handshake (ws.h) ------------------------------------- */

#define WS_H "lib/13-ws/ws.h"

/* The RFC's example (section 1.3: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; Python's hashlib
 * and base64 agree), and keys that are not 16 bytes. */
START_TEST(test_accept_key)
{
    char out[GREEN_WS_ACCEPT_LEN + 1];
    ck_assert_msg(green_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out) == 0
                  && strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0,
                  "the RFC's key dGhlIHNhbXBsZSBub25jZQ== should give s3pPLMBiTxaQ9kYGzzhZRbK+xOo=, "
                  "got \"%s\"; see " WS_H, out);
    const char *bad_keys[] = {
        "", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZQ===",
        "dGhlIHNhbXBsZSBub25jZR==",     /* low bits of the last character set */
        "dGhlIHNhbXBsZSBub25j*Q==",     /* not the base64 alphabet */
        "dGhlIHNhbXBsZSBub25jZSE=",     /* 17 bytes */
        "dGhlIHNhbXBsZSBub25jZQ== ",    /* a trailing space (the server trims; we do not) */
    };
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
        errno = 0;
        ck_assert_msg(green_ws_accept_key(bad_keys[i], out) == -1 && errno == EINVAL,
                      "the key \"%s\" is not the base64 of 16 bytes: expected -1 EINVAL", bad_keys[i]);
    }
}
END_TEST

/* An environ as a server would build it: GET HTTP/1.1 and the headers
 * given (NULL-terminated name, value pairs). */
static green_environ_t make_env(const char *method, const char *protocol, const char *const *pairs,
                                green_header_t *store)
{
    green_environ_t env = { .method = method, .path = "/ws", .query = "", .uri = "/ws",
                            .protocol = protocol, .content_length = -1, .headers = store };
    while (pairs && pairs[2 * env.nheaders]) {
        store[env.nheaders].name = pairs[2 * env.nheaders];
        store[env.nheaders].value = pairs[2 * env.nheaders + 1];
        env.nheaders++;
    }
    return env;
}

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define HS(status, why, method, protocol, ...) \
    { status, why, method, protocol, { __VA_ARGS__, NULL } }
static const struct handshake_case {
    int status;
    const char *why;
    const char *method, *protocol;
    const char *pairs[16];
} handshakes[] = {
    HS(101, "the RFC's request", "GET", "HTTP/1.1", "Host", "x", "Upgrade", "websocket",
       "Connection", "Upgrade", "Sec-WebSocket-Key", KEY, "Sec-WebSocket-Version", "13"),
    HS(101, "tokens in any case", "GET", "HTTP/1.1", "upgrade", "WebSocket",
       "connection", "UPGRADE", "sec-websocket-key", KEY, "sec-websocket-version", "13"),
    HS(101, "tokens among others (Firefox: \"keep-alive, Upgrade\")", "GET", "HTTP/1.1",
       "Upgrade", "foo/2, websocket", "Connection", "keep-alive,  Upgrade ",
       "Sec-WebSocket-Key", KEY, "Sec-WebSocket-Version", "13"),
    HS(400, "a POST", "POST", "HTTP/1.1", "Upgrade", "websocket", "Connection", "Upgrade",
       "Sec-WebSocket-Key", KEY, "Sec-WebSocket-Version", "13"),
    HS(400, "HTTP/1.0", "GET", "HTTP/1.0", "Upgrade", "websocket", "Connection", "Upgrade",
       "Sec-WebSocket-Key", KEY, "Sec-WebSocket-Version", "13"),
    HS(400, "no Upgrade header", "GET", "HTTP/1.1", "Connection", "Upgrade",
       "Sec-WebSocket-Key", KEY, "Sec-WebSocket-Version", "13"),
    HS(400, "\"Upgrade: websockets\" is another token", "GET", "HTTP/1.1", "Upgrade", "websockets",
       "Connection", "Upgrade", "Sec-WebSocket-Key", KEY, "Sec-WebSocket-Version", "13"),
    HS(400, "no Connection header", "GET", "HTTP/1.1", "Upgrade", "websocket",
       "Sec-WebSocket-Key", KEY, "Sec-WebSocket-Version", "13"),
    HS(400, "\"Connection: upgraded\" is another token", "GET", "HTTP/1.1", "Upgrade", "websocket",
       "Connection", "upgraded", "Sec-WebSocket-Key", KEY, "Sec-WebSocket-Version", "13"),
    HS(400, "no Sec-WebSocket-Key", "GET", "HTTP/1.1", "Upgrade", "websocket",
       "Connection", "Upgrade", "Sec-WebSocket-Version", "13"),
    HS(400, "a key that is not 16 bytes", "GET", "HTTP/1.1", "Upgrade", "websocket",
       "Connection", "Upgrade", "Sec-WebSocket-Key", "c2hvcnQ=", "Sec-WebSocket-Version", "13"),
    HS(400, "two keys", "GET", "HTTP/1.1", "Upgrade", "websocket", "Connection", "Upgrade",
       "Sec-WebSocket-Key", KEY, "Sec-WebSocket-Key", KEY, "Sec-WebSocket-Version", "13"),
    HS(400, "no Sec-WebSocket-Version", "GET", "HTTP/1.1", "Upgrade", "websocket",
       "Connection", "Upgrade", "Sec-WebSocket-Key", KEY),
    HS(426, "version 8 (an old draft)", "GET", "HTTP/1.1", "Upgrade", "websocket",
       "Connection", "Upgrade", "Sec-WebSocket-Key", KEY, "Sec-WebSocket-Version", "8"),
};

START_TEST(test_check)
{
    const struct handshake_case *t = &handshakes[_i];
    green_header_t store[16];
    green_environ_t env = make_env(t->method, t->protocol, t->pairs, store);
    green_ws_handshake_t hs;
    int status = green_ws_check(&env, &hs);
    ck_assert_msg(status == t->status && hs.status == t->status,
                  "%s: expected %d, got %d (%s); see " WS_H, t->why, t->status, status,
                  hs.why ? hs.why : "no reason");
    if (status == 101)
        ck_assert_str_eq(hs.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    else
        ck_assert_msg(hs.why && *hs.why, "%s: a refusal should say why", t->why);
}
END_TEST

/* ---- The handshake on chapter 11's server, over a raw socket ------------- */

static green_http_server_t *srv;
static char port[8];

/* After the 101: send a text frame "hi" and, first, what the client sent
 * early (the bytes the server had read past the request), as a binary
 * frame, so the test sees nothing was lost. */
static void greet(int fd, const char *data, size_t len, void *arg)
{
    (void)arg;
    unsigned char head[GREEN_WS_MAX_HEADER];
    int n = green_ws_frame_header(head, 1, GREEN_WS_BINARY, len);
    green_sendall(fd, head, (size_t)n, 2.0);
    green_sendall(fd, data, len, 2.0);
    n = green_ws_frame_header(head, 1, GREEN_WS_TEXT, 2);
    green_sendall(fd, head, (size_t)n, 2.0);
    green_sendall(fd, "hi", 2, 2.0);
}

static green_body_t ws_app_call(green_app_t *self, green_environ_t *env, green_response_t *resp)
{
    (void)self;
    green_body_t body;
    green_ws_accept(env, resp, greet, NULL, &body);
    return body;
}

static green_app_t ws_app = { ws_app_call };

/* Send `request` on a new connection and read until the server closes it
 * (at most `size` - 1 bytes, NUL-terminated): their number. */
static size_t exchange(const char *request, char *buf, size_t size)
{
    int fd = green_tcp_connect("127.0.0.1", port, 2.0);
    ck_assert_msg(fd >= 0, "cannot connect to the server: %s", strerror(errno));
    ck_assert_int_eq(green_sendall(fd, request, strlen(request), 2.0), (ssize_t)strlen(request));
    size_t len = 0;
    ssize_t n;
    while (len + 1 < size && (n = green_recv(fd, buf + len, size - 1 - len, 2.0)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(fd);
    return len;
}

START_TEST(test_accept_on_the_server)
{
    srv = green_http_server_new("127.0.0.1", "0", &ws_app, NULL);
    ck_assert_msg(srv && green_server_start(green_http_server_core(srv)) == 0,
                  "the server should start: %s", strerror(errno));
    snprintf(port, sizeof port, "%d", green_server_port(green_http_server_core(srv)));
    char buf[4096];

    size_t len = exchange("GET /ws/echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\nearly", buf, sizeof buf);
    ck_assert_msg(strncmp(buf, "HTTP/1.1 101 ", 13) == 0
                  && strstr(buf, "\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n")
                  && strstr(buf, "\r\nUpgrade: websocket\r\n") && strstr(buf, "\r\nConnection: Upgrade\r\n"),
                  "expected 101 with Upgrade, Connection and the RFC's Sec-WebSocket-Accept, got:\n%s; "
                  "see " WS_H, buf);
    char *frames = strstr(buf, "\r\n\r\n") + 4;
    size_t flen = len - (size_t)(frames - buf);
    ck_assert_msg(flen == 2 + 5 + 2 + 2 && memcmp(frames, "\x82\x05" "early" "\x81\x02" "hi", flen) == 0,
                  "after the 101, the takeover's frames: binary \"early\" (what the client sent with "
                  "its handshake), then text \"hi\"; got %s", hex(frames, flen));

    exchange("GET /ws/echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 8\r\n\r\n", buf, sizeof buf);
    ck_assert_msg(strncmp(buf, "HTTP/1.1 426 ", 13) == 0 && strstr(buf, "\r\nSec-WebSocket-Version: 13\r\n"),
                  "version 8 should get 426 with \"Sec-WebSocket-Version: 13\" (RFC 6455 section 4.4), "
                  "got:\n%s", buf);

    exchange("GET /ws/echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", buf, sizeof buf);
    ck_assert_msg(strncmp(buf, "HTTP/1.1 400 ", 13) == 0 && strstr(buf, "Upgrade: websocket"),
                  "a plain GET should get 400 and a body saying it needs \"Upgrade: websocket\", got:\n%s", buf);

    ck_assert_int_eq(green_server_stop(green_http_server_core(srv), 2.0), 0);
    green_http_server_free(srv);
    srv = NULL;
    green_hub_destroy();
}
END_TEST

/* Without chapter 11's server (the test client of wsgi.h, or chapter 10's
 * evhttp), a connection cannot be handed over: 501, EINVAL. */
START_TEST(test_accept_needs_takeover)
{
    green_wsgi_result_t r;
    const char *headers[] = { "Upgrade", "websocket", "Connection", "Upgrade", "Sec-WebSocket-Key", KEY,
                              "Sec-WebSocket-Version", "13", NULL };
    ck_assert_int_eq(green_wsgi_request(&ws_app, "GET", "/ws", headers, NULL, &r), 0);
    ck_assert_msg(r.resp.code == 501, "a server that cannot hand the connection over: expected 501, "
                  "got %d", r.resp.code);
    green_wsgi_result_free(&r);
    green_hub_destroy();
}
END_TEST

/* ---- Messages over a raw socket: /ws/echo (Autobahn's categories) -------- */

/* /ws/echo with the defaults; /ws/small with messages of 64 bytes at most. */
static green_ws_options_t small = { .max_message = 64 };
/* /ws/idle pings a client silent for 0.1 s, and gives up after 1 s. */
static green_ws_options_t idle = { .ping_interval = 0.1, .timeout = 1.0 };

/* /ws/slow: a message must be whole within 0.5 s, each wait is 1 s. */
static green_ws_options_t slow = { .message_timeout = 0.5, .timeout = 1.0 };
/* /ws/bye: says goodbye at once (green_ws_close_wait), waiting 1 s at
 * most for the client's answer; what it returned, for the test. */
static green_ws_options_t bye_opt = { .close_timeout = 1.0 };
static int bye_rc = 99, bye_errno;

static void bye(int fd, const char *data, size_t len, void *arg)
{
    green_ws_t *ws = green_ws_open(fd, data, len, arg);
    bye_rc = green_ws_close_wait(ws, 1000, "bye");
    bye_errno = errno;
    green_ws_free(ws);
}

static green_body_t echo_app_call(green_app_t *self, green_environ_t *env, green_response_t *resp)
{
    (void)self;
    green_body_t body;
    if (strcmp(env->path, "/ws/bye") == 0) {
        green_ws_accept(env, resp, bye, &bye_opt, &body);
        return body;
    }
    green_ws_options_t *opt = strcmp(env->path, "/ws/small") == 0 ? &small
                            : strcmp(env->path, "/ws/idle") == 0 ? &idle
                            : strcmp(env->path, "/ws/slow") == 0 ? &slow : NULL;
    green_ws_accept(env, resp, green_ws_echo, opt, &body);
    return body;
}

static green_app_t echo_app = { echo_app_call };

/* A client: its socket (and its TLS session, for wss://) and what it
 * received but has not read yet. */
struct wsc {
    int fd;
    green_tls_t *tls;
    unsigned char buf[1 << 18];
    size_t len;
};

static ssize_t wsc_read_some(struct wsc *c, void *buf, size_t n, double timeout)
{
    return c->tls ? green_tls_recv(c->tls, buf, n, timeout) : green_recv(c->fd, buf, n, timeout);
}

static ssize_t wsc_write(struct wsc *c, const void *buf, size_t n)
{
    return c->tls ? green_tls_sendall(c->tls, buf, n, 2.0) : green_sendall(c->fd, buf, n, 2.0);
}

static int wsc_need(struct wsc *c, size_t n)
{
    while (c->len < n) {
        ssize_t got = wsc_read_some(c, c->buf + c->len, sizeof c->buf - c->len, 2.0);
        if (got <= 0)
            return -1;
        c->len += (size_t)got;
    }
    return 0;
}

static void wsc_consume(struct wsc *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

/* wss://: the server's TLS context, and a client's that trusts the
 * test's CA (kit_tls_certs).  NULL: ws:// */
static green_tls_ctx_t *server_tls, *client_tls;

/* Start the echo server (over TLS when server_tls is set) and connect a
 * client to `path`, handshakes done. */
static struct wsc *wsc_open(const char *path)
{
    if (!srv) {
        green_http_options_t opt = { .tls = server_tls };
        srv = green_http_server_new("127.0.0.1", "0", &echo_app, &opt);
        ck_assert_msg(srv && green_server_start(green_http_server_core(srv)) == 0,
                      "the server should start: %s", strerror(errno));
        snprintf(port, sizeof port, "%d", green_server_port(green_http_server_core(srv)));
    }
    struct wsc *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    c->fd = green_tcp_connect("127.0.0.1", port, 2.0);
    ck_assert_msg(c->fd >= 0, "cannot connect: %s", strerror(errno));
    if (client_tls) {
        c->tls = green_tls_new(client_tls, c->fd, "localhost");
        ck_assert_msg(c->tls && green_tls_handshake(c->tls, 5.0) == 0,
                      "the TLS handshake with the wss:// server failed: %s %s",
                      strerror(errno), green_tls_error());
    }
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n", path);
    ck_assert_int_eq(wsc_write(c, req, (size_t)n), n);
    unsigned char *end;
    while (!(end = memmem(c->buf, c->len, "\r\n\r\n", 4)))
        ck_assert_msg(wsc_need(c, c->len + 1) == 0, "the handshake's answer did not come");
    ck_assert_msg(memcmp(c->buf, "HTTP/1.1 101 ", 13) == 0, "expected 101, got %.*s", (int)c->len, c->buf);
    wsc_consume(c, (size_t)(end + 4 - c->buf));
    return c;
}

static void wsc_close(struct wsc *c)
{
    green_tls_free(c->tls);
    close(c->fd);
    free(c);
}

/* Send a client frame: byte 0 as given (FIN, RSV, opcode), masked unless
 * `unmasked`, its header claiming `claim` bytes (0: n) of which n are sent. */
static void wsc_send(struct wsc *c, int b0, const void *payload, size_t n, size_t claim, int unmasked)
{
    static unsigned char out[GREEN_WS_MAX_HEADER + (1 << 17)];
    const unsigned char mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
    int h = green_ws_frame_header(out, 1, GREEN_WS_BINARY, claim ? claim : n);
    ck_assert_int_gt(h, 0);
    ck_assert(n <= sizeof out - GREEN_WS_MAX_HEADER);
    out[0] = (unsigned char)b0;
    if (!unmasked) {
        out[1] |= 0x80;
        memcpy(out + h, mask, 4);
        h += 4;
    }
    memcpy(out + h, payload, n);
    if (!unmasked)
        green_ws_unmask(out + h, n, mask, 0);
    ck_assert_int_eq(wsc_write(c, out, (size_t)h + n), (ssize_t)h + (ssize_t)n);
}

/* Read a server frame: its byte 0, its payload into c's buffer (*payload,
 * *n).  -1 when the server closed instead. */
static int wsc_recv(struct wsc *c, int *b0, const unsigned char **payload, size_t *n)
{
    static unsigned char copy[1 << 17];
    if (wsc_need(c, 2) < 0)
        return -1;
    ck_assert_msg(!(c->buf[1] & 0x80), "a server frame must not be masked (RFC 6455 section 5.1)");
    size_t size = (c->buf[1] & 0x7f) == 126 ? 2 : (c->buf[1] & 0x7f) == 127 ? 8 : 0;
    if (wsc_need(c, 2 + size) < 0)
        return -1;
    uint64_t len = size ? 0 : c->buf[1] & 0x7f;
    for (size_t i = 0; i < size; i++)
        len = len << 8 | c->buf[2 + i];
    ck_assert(len <= sizeof copy);
    if (wsc_need(c, 2 + size + (size_t)len) < 0)
        return -1;
    *b0 = c->buf[0];
    memcpy(copy, c->buf + 2 + size, (size_t)len);
    *payload = copy;
    *n = (size_t)len;
    wsc_consume(c, 2 + size + (size_t)len);
    return 0;
}

/* Expect the frame b0 with exactly want[0..n). */
static void wsc_expect(struct wsc *c, int b0, const void *want, size_t n, const char *what)
{
    int got_b0;
    const unsigned char *p;
    size_t len;
    ck_assert_msg(wsc_recv(c, &got_b0, &p, &len) == 0, "%s: expected a frame, the server closed", what);
    ck_assert_msg(got_b0 == b0 && len == n && memcmp(p, want, n) == 0,
                  "%s: expected frame %02x with %zu bytes (%s), got %02x with %zu (%s); see " WS_H,
                  what, b0, n, hex(want, n < 16 ? n : 16), got_b0, len, hex(p, len < 16 ? len : 16));
}

/* Expect a close frame with `code`. */
static void wsc_expect_close_frame(struct wsc *c, int code, const char *what)
{
    int b0;
    const unsigned char *p;
    size_t len;
    ck_assert_msg(wsc_recv(c, &b0, &p, &len) == 0, "%s: expected a close frame with %d; the "
                  "connection ended without one, or none came within 2 s", what, code);
    int got = len >= 2 ? p[0] << 8 | p[1] : 1005;
    ck_assert_msg(b0 == 0x88 && got == code, "%s: expected a close frame (88) with code %d, got "
                  "frame %02x with code %d; see " WS_H, what, code, b0, got);
}

/* Expect a close frame with `code`, then the end of the connection. */
static void wsc_expect_close(struct wsc *c, int code, const char *what)
{
    wsc_expect_close_frame(c, code, what);
    char byte;
    ck_assert_msg(wsc_read_some(c, &byte, 1, 2.0) == 0, "%s: after its close frame, the server "
                  "should close the connection", what);
}

static void stop_server(void)
{
    ck_assert_int_eq(green_server_stop(green_http_server_core(srv), 2.0), 0);
    green_http_server_free(srv);
    srv = NULL;
    green_tls_ctx_free(server_tls);
    green_tls_ctx_free(client_tls);
    server_tls = client_tls = NULL;
    green_hub_destroy();
}

/* wss://: the tests below that end in _wss run again over chapter 4's TLS,
 * the server with a certificate of the test's own CA (kit_tls_certs), the
 * client trusting that CA: the WebSocket layer must read the same over
 * both (ws_conn.c's wire_* functions). */
static void use_tls(void)
{
    const char *dir = kit_tls_certs();
    char cert[512], key[512], ca[512];
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    server_tls = green_tls_server_ctx(cert, key);
    client_tls = green_tls_client_ctx(ca);
    ck_assert_msg(server_tls && client_tls, "the test's TLS contexts: %s %s", strerror(errno),
                  green_tls_error());
}

/* Autobahn 1.1, 1.2: text and binary of each length encoding come back. */
static void echo(void)
{
    struct wsc *c = wsc_open("/ws/echo");
    static unsigned char big[65536 + 1];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (unsigned char)(i * 31);
    wsc_send(c, 0x81, "Hello", 5, 0, 0);
    wsc_expect(c, 0x81, "Hello", 5, "text \"Hello\" (Autobahn 1.1.2)");
    wsc_send(c, 0x81, "", 0, 0, 0);
    wsc_expect(c, 0x81, "", 0, "an empty text message (Autobahn 1.1.1)");
    const size_t sizes[] = { 125, 126, 65535, 65536, 65537 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        wsc_send(c, 0x82, big, sizes[i], 0, 0);
        wsc_expect(c, 0x82, big, sizes[i], "binary messages of 125 to 65537 bytes (Autobahn 1.2.x)");
    }
    wsc_send(c, 0x88, "\x03\xe8" "bye", 5, 0, 0);
    wsc_expect_close(c, 1000, "a close 1000 is answered with 1000 (Autobahn 7.1.1)");
    wsc_close(c);
    stop_server();
}

START_TEST(test_echo) { echo(); }
END_TEST

START_TEST(test_echo_wss)
{
    use_tls();
    echo();
}
END_TEST

/* Autobahn 5.6-5.8, 2.2-2.3, 2.8: fragments with a ping between them, the
 * pong first with the ping's payload, the whole message after; an
 * unsolicited pong is ignored. */
static void fragments_ping_pong(void)
{
    struct wsc *c = wsc_open("/ws/echo");
    wsc_send(c, 0x01, "fragment1", 9, 0, 0);
    wsc_send(c, 0x89, "ping payload", 12, 0, 0);
    wsc_send(c, 0x00, "fragment2", 9, 0, 0);
    wsc_send(c, 0x8a, "unsolicited", 11, 0, 0);
    wsc_send(c, 0x80, "fragment3", 9, 0, 0);
    wsc_expect(c, 0x8a, "ping payload", 12, "a ping between fragments: a pong with the same payload, at once");
    wsc_expect(c, 0x81, "fragment1fragment2fragment3", 27,
               "three fragments (a ping and a pong between them) make one text message");
    /* UTF-8 cut across fragments, mid-character: still valid (Autobahn 6.2.x). */
    wsc_send(c, 0x01, "\xce", 1, 0, 0);
    wsc_send(c, 0x80, "\xba", 1, 0, 0);
    wsc_expect(c, 0x81, "\xce\xba", 2, "a character cut across two fragments");
    wsc_send(c, 0x88, "", 0, 0, 0);
    wsc_expect_close(c, 1005, "a close without a code is answered without one (Autobahn 7.3.1)");
    wsc_close(c);
    stop_server();
}

START_TEST(test_fragments_ping_pong) { fragments_ping_pong(); }
END_TEST

START_TEST(test_fragments_ping_pong_wss)
{
    use_tls();
    fragments_ping_pong();
}
END_TEST

/* Each refusal over the wire: the client sends frames, the server answers
 * with a close frame and this code, then closes. */
struct fspec {
    int b0;
    const char *p;
    size_t n;
    size_t claim;               /* the header's length, when more than n (0: n) */
    int unmasked;
};
#define F(b0, s) { b0, s, sizeof s - 1, 0, 0 }
static const struct refusal {
    const char *path;
    int code;
    const char *why;
    struct fspec frames[3];
} refusals[] = {
    { "/ws/echo", 1002, "an unmasked text frame", { { 0x81, "Hello", 5, 0, 1 } } },
    { "/ws/echo", 1002, "RSV1 set (Autobahn 3.1)", { F(0xc1, "Hello") } },
    { "/ws/echo", 1002, "opcode 3 (Autobahn 4.1.1)", { F(0x83, "") } },
    { "/ws/echo", 1002, "opcode 11 (Autobahn 4.2.1)", { F(0x8b, "") } },
    { "/ws/echo", 1002, "a continuation with nothing to continue (Autobahn 5.9)", { F(0x80, "x") } },
    { "/ws/echo", 1002, "a new text message inside a fragmented one (Autobahn 5.18)",
      { F(0x01, "fragment1"), F(0x81, "fragment2") } },
    { "/ws/echo", 1002, "a fragmented ping (Autobahn 5.1)", { F(0x09, "p") } },
    { "/ws/echo", 1002, "a close frame with a 1-byte payload (Autobahn 7.3.2)", { F(0x88, "\x03") } },
    { "/ws/echo", 1002, "close code 1005 (Autobahn 7.9.x)", { F(0x88, "\x03\xed") } },
    { "/ws/echo", 1002, "close code 999 (Autobahn 7.9.x)", { F(0x88, "\x03\xe7") } },
    { "/ws/echo", 1002, "close code 5000", { F(0x88, "\x13\x88") } },
    { "/ws/echo", 1007, "a close reason that is not UTF-8 (Autobahn 7.5.1)", { F(0x88, "\x03\xe8\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80") } },
    { "/ws/echo", 1007, "a text message ending mid-character (Autobahn 6.6.x)", { F(0x81, "\xe2\x82") } },
    { "/ws/echo", 1007, "a surrogate in the first of two fragments: refused before the second "
      "(Autobahn 6.3.2)", { F(0x01, "ab\xed\xa0\x80") } },
    { "/ws/echo", 1007, "an overlong byte in a frame not yet complete: refused at once, not at its end",
      { { 0x81, "a\xc0", 2, 100, 0 } } },
    { "/ws/small", 1009, "a 100-byte frame over a limit of 64 (Autobahn 9.x)", { { 0x82, "", 0, 100, 0 } } },
    { "/ws/small", 1009, "two 40-byte fragments over a limit of 64",
      { F(0x02, "0123456789012345678901234567890123456789"), F(0x80, "0123456789012345678901234567890123456789") } },
};

static void refusal(int i)
{
    const struct refusal *t = &refusals[i];
    struct wsc *c = wsc_open(t->path);
    for (int i = 0; i < 3 && t->frames[i].b0; i++)
        wsc_send(c, t->frames[i].b0, t->frames[i].p, t->frames[i].n, t->frames[i].claim, t->frames[i].unmasked);
    wsc_expect_close(c, t->code, t->why);
    wsc_close(c);
    stop_server();
}

START_TEST(test_refusal) { refusal(_i); }
END_TEST

START_TEST(test_refusal_wss)
{
    use_tls();
    refusal(_i);
}
END_TEST

/* A client that breaks the protocol and keeps sending: the server's close
 * frame still arrives, and the end of the connection is a plain end, not
 * a reset (section 7.1.1: close cleanly, "discarding any trailing
 * bytes"; a socket closed with unread bytes sends a reset, which can
 * destroy the close frame before the client reads it). */
START_TEST(test_refusal_lingers)
{
    struct wsc *c = wsc_open("/ws/echo");
    static unsigned char more[65536];
    wsc_send(c, 0x81, "Hello", 5, 0, 1);            /* unmasked: 1002 */
    ck_assert_int_eq(green_sendall(c->fd, more, sizeof more, 2.0), (ssize_t)sizeof more);
    green_sleep(0.05);                              /* the server has closed meanwhile */
    ssize_t n = green_sendall(c->fd, more, 100, 2.0);
    ck_assert_msg(n == 100, "the server reset the connection (%s): it closed its socket with our bytes "
                  "unread; after its close frame it should shut down its side and read what still comes "
                  "(RFC 6455 7.1.1); see " WS_H, kit_why(n, errno));
    wsc_expect_close(c, 1002, "an unmasked frame, then 64 kB more, then more again");
    wsc_close(c);
    stop_server();
}
END_TEST

/* A silent client is pinged (so a proxy's read timeout sees traffic), its
 * pong keeps nothing alive by itself, and the timeout still ends it, with
 * a close frame saying 1001. */
static void idle_ping(void)
{
    struct wsc *c = wsc_open("/ws/idle");
    double t0 = green_now();
    wsc_expect(c, 0x89, "", 0, "a client silent for ping_interval (0.1 s) should get a ping");
    double waited = green_now() - t0;
    ck_assert_msg(waited >= 0.05 && waited < 0.9, "the ping should come after about 0.1 s, came after %.2f s",
                  waited);
    wsc_send(c, 0x8a, "", 0, 0, 0);
    wsc_send(c, 0x81, "still here", 10, 0, 0);
    wsc_expect(c, 0x81, "still here", 10, "after a ping and its pong, messages still echo");
    wsc_expect(c, 0x89, "", 0, "and the next silence gets another ping");
    /* Silent until the timeout (1 s): the server says 1001, "going away",
     * and closes. */
    int b0;
    const unsigned char *p;
    size_t len;
    while (wsc_recv(c, &b0, &p, &len) == 0 && b0 == 0x89)
        ;
    ck_assert_msg(b0 == 0x88 && len >= 2 && (p[0] << 8 | p[1]) == 1001,
                  "a client silent past the timeout (1 s) should get pings, then a close frame with "
                  "1001 (going away); got frame %02x (%s); see " WS_H, b0, hex(p, len < 16 ? len : 16));
    char byte;
    ck_assert_msg(wsc_read_some(c, &byte, 1, 2.0) == 0, "after its 1001, the server should close the connection");
    ck_assert_msg(green_now() - t0 < 3.0, "the server should close a client silent past its timeout (1 s)");
    wsc_close(c);
    stop_server();
}

START_TEST(test_idle_ping) { idle_ping(); }
END_TEST

START_TEST(test_idle_ping_wss)
{
    use_tls();
    idle_ping();
}
END_TEST

/* green_ws_send's refusals, on one end of a socket pair (no server). */
START_TEST(test_send_refusals)
{
    int client, server;
    kit_tcp_pair(&client, &server);
    green_ws_t *ws = green_ws_open(server, "", 0, NULL);
    ck_assert_ptr_nonnull(ws);
    errno = 0;
    ck_assert_msg(green_ws_send(ws, GREEN_WS_TEXT, "\xc0\xaf", 2) == -1 && errno == EILSEQ,
                  "sending text that is not UTF-8 should fail with EILSEQ; see " WS_H);
    errno = 0;
    ck_assert_msg(green_ws_send(ws, GREEN_WS_CLOSE, "", 0) == -1 && errno == EINVAL,
                  "a close frame goes through green_ws_close: green_ws_send should fail with EINVAL");
    static char big[126];
    errno = 0;
    ck_assert_msg(green_ws_send(ws, GREEN_WS_PING, big, sizeof big) == -1 && errno == EINVAL,
                  "a 126-byte ping should fail with EINVAL");
    errno = 0;
    ck_assert_msg(green_ws_close(ws, 1005, NULL) == -1 && errno == EINVAL,
                  "1005 may not be sent in a close frame: EINVAL");
    ck_assert_int_eq(green_ws_close(ws, 1000, "bye"), 0);
    errno = 0;
    ck_assert_msg(green_ws_send(ws, GREEN_WS_TEXT, "late", 4) == -1 && errno == EPIPE,
                  "nothing may be sent after a close frame: EPIPE");
    unsigned char got[16];
    ssize_t n = green_recv(client, got, sizeof got, 2.0);
    ck_assert_msg(n == 7 && memcmp(got, "\x88\x05\x03\xe8" "bye", 7) == 0,
                  "green_ws_close(1000, \"bye\") should send 88 05 03 e8 \"bye\", got %s", hex(got, n > 0 ? (size_t)n : 0));
    green_ws_free(ws);
    close(client);
    close(server);
    green_hub_destroy();
}
END_TEST

/* ---- One connection, two greenlets; sends that cannot go (ws.h) --------- */

/* A client on our end of a socket pair (kit_tcp_pair): no server. */
static struct wsc *wsc_on(int fd)
{
    struct wsc *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    c->fd = fd;
    return c;
}

/* Small kernel buffers, so that a writer fills them soon and waits in
 * the middle of a frame.  (Not tiny: with a receive window of a few kB,
 * TCP crawls, a 100 kB message taking seconds on loopback.) */
static void small_buffers(int server, int client)
{
    int send = 65536, receive = 65536;
    ck_assert_int_eq(setsockopt(server, SOL_SOCKET, SO_SNDBUF, &send, sizeof send), 0);
    ck_assert_int_eq(setsockopt(client, SOL_SOCKET, SO_RCVBUF, &receive, sizeof receive), 0);
}

/* Byte i of the k-th message a writer streams: each message its own. */
static unsigned char nth_byte(int k, size_t i)
{
    return (unsigned char)(k * 7 + i * 13 + (i >> 8));
}

/* A greenlet's side of a shared connection: what it did, how it ended. */
struct side {
    green_ws_t *ws;
    size_t size;                /* a writer's message size */
    int want;                   /* how many it sends (0: until one fails) */
    int count;                  /* messages sent, or received */
    int rc, err;                /* the last call's result, and errno */
};

/* Send s->want messages of s->size bytes, or until one fails. */
static void *writer(void *arg)
{
    struct side *s = arg;
    static unsigned char m[1 << 17];
    ck_assert(s->size <= sizeof m);
    do {
        for (size_t i = 0; i < s->size; i++)
            m[i] = nth_byte(s->count, i);
        s->rc = green_ws_send(s->ws, GREEN_WS_BINARY, m, s->size);
        s->err = errno;
    } while (s->rc == 0 && ++s->count != s->want && s->count < 1000);
    return NULL;
}

/* Receive (answering pings) until the connection ends. */
static void *reader(void *arg)
{
    struct side *s = arg;
    int opcode;
    const char *msg;
    size_t len;
    while ((s->rc = green_ws_recv(s->ws, &opcode, &msg, &len)) > 0)
        s->count++;
    s->err = errno;
    return NULL;
}

/* Expect the k-th streamed message, whole. */
static void expect_nth(struct wsc *c, int k, size_t size, const char *what)
{
    int b0;
    const unsigned char *p;
    size_t n;
    ck_assert_msg(wsc_recv(c, &b0, &p, &n) == 0, "%s: message %d did not come", what, k);
    ck_assert_msg(b0 == 0x82 && n == size, "%s: expected message %d, binary (82) of %zu bytes; got frame "
                  "%02x of %zu bytes: frames mixed?  See " WS_H, what, k, size, b0, n);
    size_t i = 0;                   /* (one assertion: Check records each) */
    while (i < n && p[i] == nth_byte(k, i))
        i++;
    ck_assert_msg(i == n, "%s: message %d, byte %zu: expected %02x, got %02x: another frame's bytes in "
                  "the middle of this one?  See " WS_H, what, k, i, nth_byte(k, i), i < n ? p[i] : 0);
}

/* The chat's shape: a writer streams 100 kB messages (each many packets,
 * so it waits on the full socket in the middle of a frame) while the
 * reader answers the client's pings.  Every frame the client reads is
 * whole, the pongs in order between the messages, never inside one. */
static int server_handshake_rc;
static void *server_handshake(void *arg)
{
    server_handshake_rc = green_tls_handshake(arg, 5.0);
    return NULL;
}

/* wss:// on a pair of sockets: both handshakes, then the server's session
 * attached to its descriptor, as chapter 11's server does when it hands a
 * connection over.  Returns the server's session. */
static green_tls_t *tls_over_pair(struct wsc *c, int server)
{
    use_tls();
    green_tls_t *s = green_tls_new(server_tls, server, NULL);
    c->tls = green_tls_new(client_tls, c->fd, "localhost");
    ck_assert(s && c->tls);
    green_t *g = green_spawn(server_handshake, s);
    ck_assert_msg(green_tls_handshake(c->tls, 5.0) == 0, "client handshake: %s %s", strerror(errno),
                  green_tls_error());
    kit_join_free(&g, 1);
    ck_assert_msg(server_handshake_rc == 0, "server handshake failed");
    ck_assert_int_eq(green_tls_attach(server, s), 0);
    return s;
}

static void two_greenlets(int over_tls)
{
    int client, server;
    kit_tcp_pair(&client, &server);
    small_buffers(server, client);
    struct wsc *c = wsc_on(client);
    green_tls_t *server_session = over_tls ? tls_over_pair(c, server) : NULL;
    struct side w = { .ws = green_ws_open(server, "", 0, NULL), .size = 100000, .want = 16 };
    struct side r = { .ws = w.ws };
    green_t *g[2] = { green_spawn(writer, &w), green_spawn(reader, &r) };
    green_sleep(0.01);
    int opcode;
    const char *msg;
    size_t len;
    errno = 0;
    ck_assert_msg(green_ws_recv(w.ws, &opcode, &msg, &len) == -1 && errno == EBUSY,
                  "a second greenlet in green_ws_recv should get -1 EBUSY; see " WS_H);
    int pings = 0, pongs = 0, msgs = 0, want = w.want, early = 0;
    while (msgs < want || pongs < pings) {
        char ping[16];
        if (pings <= msgs && msgs < want) {
            int n = snprintf(ping, sizeof ping, "ping %d", pings++);
            wsc_send(c, 0x89, ping, (size_t)n, 0, 0);
            green_sleep(0.005);             /* the writer fills the socket */
        }
        ck_assert_msg(wsc_need(c, 1) == 0, "messages and pongs stopped coming (%d of %d messages, %d of %d "
                      "pongs)", msgs, want, pongs, pings);
        if (c->buf[0] == 0x8a) {
            int n = snprintf(ping, sizeof ping, "ping %d", pongs++);
            wsc_expect(c, 0x8a, ping, (size_t)n, "a pong between two messages");
            early += msgs < want;
        } else {
            expect_nth(c, msgs++, w.size, "a writer greenlet's messages while the reader pongs");
        }
    }
    ck_assert_msg(early > 0, "the test means something only if pongs come between the messages, while "
                  "the writer waits on the full socket: none did");
    wsc_send(c, 0x88, "\x03\xe8", 2, 0, 0);
    wsc_expect(c, 0x88, "\x03\xe8", 2, "the client's close, answered");
    kit_join_free(g, 2);
    ck_assert_msg(w.rc == 0 && w.count == want && r.rc == 0,
                  "the writer should have sent %d messages (sent %d, %s) and the reader seen the client's "
                  "close (%s)", want, w.count, kit_why(w.rc, w.err), kit_why(r.rc, r.err));
    green_ws_free(w.ws);
    wsc_close(c);
    green_tls_attach(server, NULL);
    green_tls_free(server_session);
    green_tls_ctx_free(server_tls);
    green_tls_ctx_free(client_tls);
    server_tls = client_tls = NULL;
    close(server);
    green_hub_destroy();
}

START_TEST(test_two_greenlets) { two_greenlets(0); }
END_TEST

/* The same over TLS: the reader's SSL_read runs while the writer's
 * SSL_write waits on the full socket, on one OpenSSL session. */
START_TEST(test_two_greenlets_wss) { two_greenlets(1); }
END_TEST

/* A client that never reads: once the kernel's buffers are full, a send
 * fails after send_timeout (not never), with ETIMEDOUT; the connection is
 * done (the reader, parked in recv, learns it at once; nothing more may
 * be sent), and what the client finally reads is whole messages, in
 * order, then the end: a cut frame at most, nothing after it. */
START_TEST(test_send_timeout)
{
    int client, server;
    kit_tcp_pair(&client, &server);
    small_buffers(server, client);
    green_ws_options_t opt = { .send_timeout = 0.3 };
    struct side w = { .ws = green_ws_open(server, "", 0, &opt), .size = 65536 }, r = { .ws = w.ws };
    green_t *g = green_spawn(reader, &r);
    double t0 = green_now();
    writer(&w);
    double took = green_now() - t0;
    ck_assert_msg(w.rc == -1 && w.err == ETIMEDOUT,
                  "sending to a client that never reads should fail with ETIMEDOUT once the buffers are "
                  "full; got %s after %d messages; see " WS_H, kit_why(w.rc, w.err), w.count);
    ck_assert_msg(took < 3.0, "with send_timeout 0.3 s, the writer should give up soon, took %.2f s", took);
    ck_assert_msg(green_join(g, 1.0) == 0 && r.rc == -1 && r.err == ETIMEDOUT,
                  "the reader, waiting in green_ws_recv, should end at once with the send's ETIMEDOUT; got "
                  "%s", kit_why(r.rc, r.err));
    green_free(g);
    errno = 0;
    ck_assert_msg(green_ws_send(w.ws, GREEN_WS_TEXT, "late", 4) == -1 && errno == EPIPE,
                  "after a failed send, nothing may be sent (a frame may be cut): expected EPIPE");
    errno = 0;
    ck_assert_msg(green_ws_close(w.ws, 1000, NULL) == -1 && errno == EPIPE,
                  "not even a close frame: expected EPIPE");
    struct wsc *c = wsc_on(client);
    for (int k = 0; k < w.count; k++)
        expect_nth(c, k, w.size, "what a slow client reads at last");
    int b0;
    const unsigned char *p;
    size_t n;
    ck_assert_msg(wsc_recv(c, &b0, &p, &n) == -1, "after the messages sent whole, the connection should "
                  "end (a cut frame at most), got a frame %02x of %zu bytes", b0, n);
    green_ws_free(w.ws);
    wsc_close(c);
    close(server);
    green_hub_destroy();
}
END_TEST

/* The chat's end: the reader kills the writer, which may be in the middle
 * of a frame on a full socket.  Its send fails (ECANCELED), the locks are
 * released (green_ws_free would abort on a waiter), the connection is
 * done, and the other greenlets learn it at once. */
START_TEST(test_killed_writer)
{
    int client, server;
    kit_tcp_pair(&client, &server);
    small_buffers(server, client);
    struct side w = { .ws = green_ws_open(server, "", 0, NULL), .size = 65536 }, r = { .ws = w.ws };
    green_t *g[2] = { green_spawn(writer, &w), green_spawn(reader, &r) };
    green_sleep(0.05);                  /* the writer waits on the full socket */
    ck_assert_msg(!green_dead(g[0]), "test setup: the writer should be waiting on the full socket");
    ck_assert_int_eq(green_kill(g[0], 1.0), 0);
    ck_assert_msg(w.rc == -1 && w.err == ECANCELED, "a writer killed in the middle of a frame: its send "
                  "should fail with ECANCELED, got %s", kit_why(w.rc, w.err));
    ck_assert_msg(green_join(g[1], 1.0) == 0 && r.rc == -1 && r.err == ECANCELED,
                  "the reader should end at once with the writer's ECANCELED (the connection is done), got %s",
                  kit_why(r.rc, r.err));
    errno = 0;
    ck_assert_msg(green_ws_send(w.ws, GREEN_WS_TEXT, "x", 1) == -1 && errno == EPIPE,
                  "after a frame was cut, nothing may be sent: expected EPIPE, not a wait on a lock");
    kit_join_free(g, 2);
    green_ws_free(w.ws);
    close(client);
    close(server);
    green_hub_destroy();
}
END_TEST

/* ---- Messages in fragments (green_ws_send_frame) ------------------------ */

static void *other_sender(void *arg)
{
    struct side *s = arg;
    s->rc = green_ws_send(s->ws, GREEN_WS_TEXT, "other", 5);
    s->err = errno;
    return NULL;
}

/* green_ws_send_frame's refusals in the middle of a message: each leaves
 * the message open, nothing sent. */
static void fragment_refusals(green_ws_t *ws)
{
    static const struct { int opcode, fin, err; const char *data, *why; } bad[] = {
        { GREEN_WS_TEXT, 1, EINVAL, "new", "a new message inside one's own" },
        { GREEN_WS_PING, 0, EINVAL, "p", "a ping that is not final (control frames are whole)" },
        { GREEN_WS_CLOSE, 1, EINVAL, "", "a close frame (green_ws_close sends those)" },
        { 3, 1, EINVAL, "", "opcode 3 (reserved)" },
        { GREEN_WS_CONT, 0, EILSEQ, "\xc0", "a byte that is never UTF-8 in a text message" },
        { GREEN_WS_CONT, 1, EILSEQ, "\xe2\x82", "a text message that would end mid-character" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        ck_assert_msg(green_ws_send_frame(ws, bad[i].opcode, bad[i].data, strlen(bad[i].data), bad[i].fin) == -1
                      && errno == bad[i].err, "green_ws_send_frame: %s should fail with %s; see " WS_H,
                      bad[i].why, bad[i].err == EINVAL ? "EINVAL" : "EILSEQ");
    }
}

/* A text message in three fragments, a character cut between two of them,
 * a ping between fragments, and another greenlet's message waiting for
 * the last fragment.  What goes out is then fed, masked as a client would
 * send it, to a second connection: the layer's own receiving side must
 * find two whole messages, in the RFC's order. */
START_TEST(test_send_fragments)
{
    int client, server, client2, server2;
    kit_tcp_pair(&client, &server);
    kit_tcp_pair(&client2, &server2);
    green_ws_t *ws = green_ws_open(server, "", 0, NULL);
    errno = 0;
    ck_assert_msg(green_ws_send_frame(ws, GREEN_WS_CONT, "x", 1, 1) == -1 && errno == EINVAL,
                  "a continuation with no message open should fail with EINVAL; see " WS_H);
    ck_assert_int_eq(green_ws_send_frame(ws, GREEN_WS_TEXT, "Hel", 3, 0), 0);
    struct side other = { .ws = ws, .rc = 99 };
    green_t *g = green_spawn(other_sender, &other);
    green_sleep(0.01);
    ck_assert_msg(other.rc == 99, "another greenlet's message must wait for the end of ours (RFC 6455 "
                  "5.4: no mixing), but its green_ws_send returned %d (%s); see " WS_H, other.rc,
                  kit_why(other.rc, other.err));
    ck_assert_int_eq(green_ws_send_frame(ws, GREEN_WS_PING, "p", 1, 1), 0);
    fragment_refusals(ws);
    ck_assert_int_eq(green_ws_send_frame(ws, GREEN_WS_CONT, "lo \xce", 4, 0), 0);
    ck_assert_int_eq(green_ws_send_frame(ws, GREEN_WS_CONT, "\xba!", 2, 1), 0);
    ck_assert_msg(green_join(g, 1.0) == 0 && other.rc == 0, "once our message ended, the other greenlet's "
                  "should go: %s", kit_why(other.rc, other.err));
    green_free(g);

    static const struct { int b0; const char *p; } wire[] = {
        { 0x01, "Hel" }, { 0x89, "p" }, { 0x00, "lo \xce" }, { 0x80, "\xba!" }, { 0x81, "other" },
    };
    struct wsc *c = wsc_on(client), *relay = wsc_on(client2);
    for (size_t i = 0; i < sizeof wire / sizeof wire[0]; i++) {
        int b0;
        const unsigned char *p;
        size_t n;
        ck_assert_int_eq(wsc_recv(c, &b0, &p, &n), 0);
        ck_assert_msg(b0 == wire[i].b0 && n == strlen(wire[i].p) && memcmp(p, wire[i].p, n) == 0,
                      "frame %zu on the wire: expected %02x \"%s\", got %02x (%s); see " WS_H, i,
                      wire[i].b0, wire[i].p, b0, hex(p, n));
        wsc_send(relay, b0, p, n, 0, 0);
    }
    green_ws_t *peer = green_ws_open(server2, "", 0, NULL);
    int opcode;
    const char *msg;
    size_t len;
    ck_assert_msg(green_ws_recv(peer, &opcode, &msg, &len) == 1 && opcode == GREEN_WS_TEXT && len == 9
                  && memcmp(msg, "Hello \xce\xba!", 9) == 0,
                  "the three fragments, read back by green_ws_recv, should make \"Hello \xce\xba!\"");
    ck_assert_msg(green_ws_recv(peer, &opcode, &msg, &len) == 1 && len == 5 && memcmp(msg, "other", 5) == 0,
                  "then the other greenlet's message, whole");
    green_ws_free(peer);

    /* A close between fragments ends the message there: its next frame
     * fails, and the message lock is free again (no wait). */
    ck_assert_int_eq(green_ws_send_frame(ws, GREEN_WS_BINARY, "a", 1, 0), 0);
    ck_assert_int_eq(green_ws_close(ws, 1001, NULL), 0);
    errno = 0;
    ck_assert_msg(green_ws_send_frame(ws, GREEN_WS_CONT, "b", 1, 1) == -1 && errno == EPIPE,
                  "a fragment after our close frame should fail with EPIPE");
    double t0 = green_now();
    errno = 0;
    ck_assert_msg(green_ws_send(ws, GREEN_WS_BINARY, "c", 1) == -1 && errno == EPIPE && green_now() - t0 < 0.5,
                  "and so should a new message, at once (the fragmented one ended)");
    green_ws_free(ws);
    wsc_close(c);
    wsc_close(relay);
    close(server);
    close(server2);
    green_hub_destroy();
}
END_TEST

/* ---- The closing handshake from the server's side ----------------------- */

/* green_ws_close_wait on the server (/ws/bye): a client that answers gets
 * the TCP close right after its answer, the messages and ping it sent
 * meanwhile dropped, unanswered (nothing follows a close frame); a client
 * that does not answer gets it after close_timeout (1 s). */
START_TEST(test_close_wait)
{
    bye_rc = 99;
    struct wsc *c = wsc_open("/ws/bye");
    wsc_send(c, 0x81, "late", 4, 0, 0);
    wsc_send(c, 0x89, "ping", 4, 0, 0);
    wsc_expect(c, 0x88, "\x03\xe8" "bye", 5, "green_ws_close_wait(1000, \"bye\"): its close frame first");
    double t0 = green_now();
    wsc_send(c, 0x88, "\x03\xe8", 2, 0, 0);
    char byte;
    ck_assert_msg(green_recv(c->fd, &byte, 1, 2.0) == 0, "after the client's answer the server should close "
                  "the connection, with nothing before (no echo, no pong after its close frame)");
    ck_assert_msg(green_now() - t0 < 0.8 && bye_rc == 0, "green_ws_close_wait should return 0 as soon as the "
                  "client answers: got %s after %.2f s; see " WS_H, kit_why(bye_rc, bye_errno), green_now() - t0);
    wsc_close(c);

    bye_rc = 99;
    c = wsc_open("/ws/bye");
    wsc_expect(c, 0x88, "\x03\xe8" "bye", 5, "green_ws_close_wait's close frame");
    t0 = green_now();
    ck_assert_msg(green_recv(c->fd, &byte, 1, 3.0) == 0, "a client that does not answer: the server should "
                  "close the connection after close_timeout");
    double took = green_now() - t0;
    ck_assert_msg(took > 0.8 && took < 2.5 && bye_rc == -1 && bye_errno == ETIMEDOUT,
                  "without an answer, green_ws_close_wait should wait close_timeout (1 s) and fail with "
                  "ETIMEDOUT: got %s after %.2f s; see " WS_H, kit_why(bye_rc, bye_errno), took);
    wsc_close(c);
    stop_server();
}
END_TEST

/* The writer closes while the reader waits in green_ws_recv (for up to
 * `timeout`, 300 s): the reader's wait shrinks to close_timeout. */
static void close_while_reading(int answer)
{
    int client, server;
    kit_tcp_pair(&client, &server);
    green_ws_options_t opt = { .close_timeout = 1.0 };
    struct side r = { .ws = green_ws_open(server, "", 0, &opt) };
    green_t *g = green_spawn(reader, &r);
    green_sleep(0.01);
    double t0 = green_now();
    ck_assert_int_eq(green_ws_close(r.ws, 1001, "restart"), 0);
    struct wsc *c = wsc_on(client);
    wsc_expect(c, 0x88, "\x03\xe9" "restart", 9, "green_ws_close(1001, \"restart\")");
    if (answer)
        wsc_send(c, 0x88, "\x03\xe9", 2, 0, 0);
    ck_assert_int_eq(green_join(g, 3.0), 0);
    double took = green_now() - t0;
    if (answer)
        ck_assert_msg(r.rc == 0 && green_ws_close_code(r.ws) == 1001 && took < 0.8,
                      "the client answered our close: the reader should return 0 at once, got %s after "
                      "%.2f s", kit_why(r.rc, r.err), took);
    else
        ck_assert_msg(r.rc == -1 && r.err == ETIMEDOUT && took > 0.9 && took < 3.0,
                      "no answer: the reader should give up after close_timeout (1 s), not its 300 s "
                      "timeout; got %s after %.2f s; see " WS_H, kit_why(r.rc, r.err), took);
    green_free(g);
    green_ws_free(r.ws);
    wsc_close(c);
    close(server);
    green_hub_destroy();
}

START_TEST(test_close_while_reading)
{
    close_while_reading(1);
    close_while_reading(0);
}
END_TEST

/* ---- Slow clients (message_timeout) ------------------------------------- */

/* Send bytes one at a time, `gap` seconds apart, until the server says
 * something.  Returns how many went. */
static size_t trickle(struct wsc *c, const unsigned char *bytes, size_t n, double gap)
{
    for (size_t i = 0; i < n; i++) {
        if (green_sendall(c->fd, bytes + i, 1, 1.0) < 0 || green_wait_read(c->fd, gap) == 0)
            return i + 1;
    }
    return n;
}

/* /ws/slow: each wait is 1 s at most, a message must be whole in 0.5 s.
 * Quick messages keep the connection open past 0.5 s; a frame trickled a
 * byte every 0.1 s (each wait short) is closed 1008 after 0.5 s; so is a
 * message whose fragments each come quickly, but not the whole. */
START_TEST(test_slow_message)
{
    struct wsc *c = wsc_open("/ws/slow");
    for (int i = 0; i < 5; i++) {
        wsc_send(c, 0x81, "tick", 4, 0, 0);
        wsc_expect(c, 0x81, "tick", 4, "quick messages, 0.2 s apart, past message_timeout (0.5 s)");
        green_sleep(0.2);
    }
    unsigned char frame[6 + 20] = { 0x81, 0x80 | 20, 1, 2, 3, 4 };
    double t0 = green_now();
    size_t sent = trickle(c, frame, sizeof frame, 0.1);
    ck_assert_msg(sent < sizeof frame, "a frame trickled a byte every 0.1 s should be closed before its end");
    wsc_expect_close(c, 1008, "a message that takes longer than message_timeout (Slowloris)");
    double took = green_now() - t0;
    ck_assert_msg(took > 0.4 && took < 2.0, "the 1008 should come after message_timeout (0.5 s), came after "
                  "%.2f s", took);
    wsc_close(c);

    c = wsc_open("/ws/slow");
    t0 = green_now();
    wsc_send(c, 0x01, "a", 1, 0, 0);
    while (green_wait_read(c->fd, 0.15) != 0 && green_now() - t0 < 2.0)
        wsc_send(c, 0x00, "b", 1, 0, 0);
    wsc_expect_close(c, 1008, "a fragmented message whose fragments never end");
    took = green_now() - t0;
    ck_assert_msg(took > 0.4 && took < 2.0, "message_timeout counts from the first fragment: 1008 expected "
                  "after 0.5 s, came after %.2f s", took);
    wsc_close(c);
    stop_server();
}
END_TEST

/* ---- Origin ---------------------------------------------------------------- */

static const struct origin_case {
    const char *origin;         /* NULL: no Origin header */
    int want;
} origins[] = {
    { NULL, 1 },                                    /* not a browser */
    { "http://chat.example:8000", 1 },
    { "HTTP://CHAT.Example:8000", 1 },              /* scheme and host in any case */
    { "https://chat.example", 1 },
    { "https://chat.example:443", 1 },              /* the default port, spelt out */
    { "http://[::1]:8000", 1 },
    { "http://chat.example", 0 },                   /* port 80, not 8000 */
    { "https://chat.example:8443", 0 },
    { "http://chat.example:8000.evil.example", 0 },
    { "http://evil.example:8000", 0 },
    { "http://chat.example.evil.example:8000", 0 },
    { "http://chat.example:8000/", 0 },             /* a URL, not an origin */
    { "http://chat.example: 8000", 0 },
    { "http://[::1:8000", 0 },
    { "http://", 0 },
    { "null", 0 },                                  /* a sandboxed or file:// page */
    { "", 0 },
};

START_TEST(test_origin)
{
    static const char *const ours[] = { "http://chat.example:8000", "https://Chat.Example", "http://[::1]:8000",
                                        NULL };
    const struct origin_case *t = &origins[_i];
    const char *pairs[] = { "Origin", t->origin, NULL };
    green_header_t store[4];
    green_environ_t env = make_env("GET", "HTTP/1.1", t->origin ? pairs : NULL, store);
    ck_assert_msg(green_ws_origin_allowed(&env, ours) == t->want,
                  "Origin %s%s%s against http://chat.example:8000, https://Chat.Example and "
                  "http://[::1]:8000: expected %s; see " WS_H, t->origin ? "\"" : "",
                  t->origin ? t->origin : "(none)", t->origin ? "\"" : "", t->want ? "allowed" : "refused");
}
END_TEST

START_TEST(test_origin_twice)
{
    static const char *const ours[] = { "http://chat.example:8000", NULL };
    const char *pairs[] = { "Origin", "http://chat.example:8000", "Origin", "http://evil.example", NULL };
    green_header_t store[4];
    green_environ_t env = make_env("GET", "HTTP/1.1", pairs, store);
    ck_assert_msg(green_ws_origin_allowed(&env, ours) == 0,
                  "two Origin headers should be refused (which one would the browser have meant?)");
    env.nheaders = 1;
    ck_assert_msg(green_ws_origin_allowed(&env, NULL) == 0, "an empty list (NULL) allows no origin");
}
END_TEST

static Suite *ws_suite(void)
{
    Suite *s = suite_create("ws");
    TCase *tc = kit_tcase("frames");
    tcase_add_test(tc, test_rfc_example);
    tcase_add_test(tc, test_lengths);
    tcase_add_test(tc, test_writer);
    tcase_add_test(tc, test_unmask_pieces);
    tcase_add_loop_test(tc, test_bad_frame, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, test_limit);
    tcase_add_test(tc, test_control_sizes);
    tcase_add_test(tc, test_fragment_order);
    tcase_add_test(tc, test_close_codes);
    suite_add_tcase(s, tc);

    tc = kit_tcase("utf8");
    tcase_add_loop_test(tc, test_utf8, 0, (int)(sizeof utf8_cases / sizeof utf8_cases[0]));
    tcase_add_test(tc, test_utf8_bytewise);
    suite_add_tcase(s, tc);

    tc = kit_tcase("handshake");
    tcase_add_test(tc, test_accept_key);
    tcase_add_loop_test(tc, test_check, 0, (int)(sizeof handshakes / sizeof handshakes[0]));
    tcase_add_test(tc, test_accept_on_the_server);
    tcase_add_test(tc, test_accept_needs_takeover);
    suite_add_tcase(s, tc);

    tc = kit_tcase("echo");
    tcase_add_test(tc, test_echo);
    tcase_add_test(tc, test_fragments_ping_pong);
    tcase_add_test(tc, test_idle_ping);
    tcase_add_test(tc, test_refusal_lingers);
    tcase_add_test(tc, test_send_refusals);
    tcase_add_loop_test(tc, test_refusal, 0, (int)(sizeof refusals / sizeof refusals[0]));
    suite_add_tcase(s, tc);

    tc = kit_tcase("wss");
    tcase_add_test(tc, test_echo_wss);
    tcase_add_test(tc, test_fragments_ping_pong_wss);
    tcase_add_test(tc, test_idle_ping_wss);
    tcase_add_loop_test(tc, test_refusal_wss, 0, (int)(sizeof refusals / sizeof refusals[0]));
    tcase_add_test(tc, test_two_greenlets_wss);
    suite_add_tcase(s, tc);

    tc = kit_tcase("conn");
    tcase_add_test(tc, test_two_greenlets);
    tcase_add_test(tc, test_send_timeout);
    tcase_add_test(tc, test_killed_writer);
    tcase_add_test(tc, test_send_fragments);
    tcase_add_test(tc, test_close_wait);
    tcase_add_test(tc, test_close_while_reading);
    tcase_add_test(tc, test_slow_message);
    tcase_add_loop_test(tc, test_origin, 0, (int)(sizeof origins / sizeof origins[0]));
    tcase_add_test(tc, test_origin_twice);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(ws_suite()); }
