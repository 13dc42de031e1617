/* Tests of exercise 13-chat/frame: a WebSocket frame's header, and unmasking. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "frame.h"

#define FRAMES KIT_LESSON("chapters/13-chat/README.md", "Frames")

/* The bytes of buf[0..n) in hex, "81 85 37 ..." (at most 16, then "..."),
 * in one of four rotating buffers so that a message can show two. */
static const char *hex(const void *buf, size_t n)
{
    static char out[4][64];
    static int turn;
    char *s = out[turn++ % 4];
    const unsigned char *p = buf;
    size_t at = 0;
    for (size_t i = 0; i < n && i < 16; i++)
        at += (size_t)snprintf(s + at, sizeof out[0] - at, "%s%02X", i ? " " : "", p[i]);
    if (n > 16)
        snprintf(s + at, sizeof out[0] - at, " ...");
    if (n == 0)
        snprintf(s, sizeof out[0], "nothing");
    return s;
}

/* What a header should parse to. */
struct want {
    int head;                   /* its length */
    int fin, opcode;
    uint64_t length;
    unsigned char key[4];
};

/* ex_frame_parse on a copy of buf[0..len) in a block of exactly len
 * bytes: a parser that reads past len is caught by `make test SANITIZE=1`
 * and Valgrind. */
static int parse_prefix(const unsigned char *buf, size_t len, ex_frame_t *f)
{
    unsigned char *copy = malloc(len ? len : 1);
    ck_assert(copy != NULL);
    memcpy(copy, buf, len);
    int rc = ex_frame_parse(copy, len, f);
    int err = errno;
    free(copy);
    errno = err;
    return rc;
}

/* buf[0..len) starts with a whole header: it parses to *w. */
static void parses_whole(const unsigned char *buf, size_t len, const struct want *w,
                         const char *what)
{
    ex_frame_t f;
    memset(&f, 0xAA, sizeof f);
    errno = 0;
    int rc = ex_frame_parse(buf, len, &f);
    ck_assert_msg(rc == w->head, "%s: bytes %s hold a whole header of %d bytes: expected %d, "
                  "got %d (%s); %s", what, hex(buf, len), w->head, w->head, rc,
                  kit_why(rc, errno), FRAMES);
    ck_assert_msg(f.head_len == (size_t)w->head, "%s: head_len should be %d, got %zu; %s",
                  what, w->head, f.head_len, FRAMES);
    ck_assert_msg(f.fin == w->fin, "%s: byte 0 is %02X: its top bit (FIN) is %d, so fin "
                  "should be %d, got %d; %s", what, buf[0], w->fin, w->fin, f.fin, FRAMES);
    ck_assert_msg(f.opcode == w->opcode, "%s: byte 0 is %02X: its low 4 bits (the opcode) "
                  "are %d, got %d; %s", what, buf[0], w->opcode, f.opcode, FRAMES);
    ck_assert_msg(f.length == w->length, "%s: the payload's length is %llu, got %llu; %s",
                  what, (unsigned long long)w->length, (unsigned long long)f.length, FRAMES);
    ck_assert_msg(memcmp(f.key, w->key, 4) == 0, "%s: the masking key is the 4 bytes after "
                  "the length, %s; got %s; %s", what, hex(w->key, 4), hex(f.key, 4), FRAMES);
}

/* Every prefix of the header is "not yet" (0); the whole header, and the
 * header followed by payload bytes, parse to *w. */
static void parses(const unsigned char *buf, size_t n, const struct want *w, const char *what)
{
    for (size_t len = 0; len < (size_t)w->head; len++) {
        ex_frame_t f;
        errno = 0;
        int rc = parse_prefix(buf, len, &f);
        ck_assert_msg(rc == 0, "%s: the first %zu byte(s) of its %d-byte header (%s) are not "
                      "a whole header yet: expected 0 (\"read more\"), got %d (%s); %s",
                      what, len, w->head, hex(buf, len), rc, kit_why(rc, errno), FRAMES);
    }
    parses_whole(buf, (size_t)w->head, w, what);
    if (n > (size_t)w->head)
        parses_whole(buf, n, w, what);      /* with payload bytes after it */
}

/* Byte 1's length is 126 or 127: the message says what that means. */
static void length_is(const unsigned char *buf, size_t n, uint64_t want, const char *what)
{
    ex_frame_t f;
    memset(&f, 0, sizeof f);
    int rc = ex_frame_parse(buf, n, &f);
    int len7 = buf[1] & 0x7f;
    const char *rule = len7 == 126 ? "a 126 length byte means a 16-bit length follows in network "
                                     "byte order (the first byte the most significant)"
                     : len7 == 127 ? "a 127 length byte means a 64-bit length follows in network "
                                     "byte order (the first byte the most significant)"
                     : "a length byte under 126 is the length itself (its low 7 bits)";
    ck_assert_msg(rc > 0 && f.length == want, "%s: %s; for bytes %s expected %llu, got %llu "
                  "(ex_frame_parse returned %d); %s", what, rule, hex(buf, n),
                  (unsigned long long)want, (unsigned long long)f.length, rc, FRAMES);
}

/* buf[0..n) is refused, from its byte number `at` on (the byte that proves
 * it); shorter prefixes are "not yet". */
static void refused(const unsigned char *buf, size_t n, size_t at, const char *why)
{
    for (size_t len = 0; len <= n; len++) {
        ex_frame_t f;
        errno = 0;
        int rc = parse_prefix(buf, len, &f);
        if (len <= at) {
            ck_assert_msg(rc == 0, "the first %zu byte(s) of %s (%s) prove nothing wrong yet: "
                          "expected 0 (\"read more\"), got %d (%s); %s", len, hex(buf, n),
                          hex(buf, len), rc, kit_why(rc, errno), FRAMES);
        } else {
            ck_assert_msg(rc == -1 && errno == EPROTO, "%s must be refused as soon as byte %zu "
                          "is there (%s): expected -1 with errno EPROTO, for %s (%zu bytes "
                          "given), got %d (%s); %s", hex(buf, n), at, why, hex(buf, len), len,
                          rc, kit_why(rc, errno), FRAMES);
        }
    }
}

/* ---- Headers ------------------------------------------------------------------ */

/* RFC 6455 section 5.7: "A single-frame masked text message". */
static const unsigned char rfc_hello[] = {
    0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };

START_TEST(test_rfc_hello)
{
    struct want w = { 6, 1, EX_OP_TEXT, 5, { 0x37, 0xfa, 0x21, 0x3d } };
    parses(rfc_hello, sizeof rfc_hello, &w, "the RFC's masked \"Hello\" (section 5.7)");
    length_is(rfc_hello, sizeof rfc_hello, 5, "the RFC's masked \"Hello\"");
}
END_TEST

START_TEST(test_fragments_and_control_frames)
{
    /* The RFC's fragmented "Hel" + "lo" (section 5.7), masked as a client
     * sends them, and its masked pong. */
    static const unsigned char hel[] = { 0x01, 0x83, 1, 2, 3, 4, 0x49, 0x67, 0x6f };
    static const unsigned char lo[] = { 0x80, 0x82, 1, 2, 3, 4, 0x6d, 0x6d };
    static const unsigned char pong[] = {
        0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
    static const unsigned char close[] = { 0x88, 0x80, 9, 8, 7, 6 };
    struct want w_hel = { 6, 0, EX_OP_TEXT, 3, { 1, 2, 3, 4 } };
    struct want w_lo = { 6, 1, EX_OP_CONT, 2, { 1, 2, 3, 4 } };
    struct want w_pong = { 6, 1, EX_OP_PONG, 5, { 0x37, 0xfa, 0x21, 0x3d } };
    struct want w_close = { 6, 1, EX_OP_CLOSE, 0, { 9, 8, 7, 6 } };
    parses(hel, sizeof hel, &w_hel, "\"Hel\", the first piece of a text message (FIN 0)");
    parses(lo, sizeof lo, &w_lo, "\"lo\", its last piece (FIN 1, opcode 0: continuation)");
    parses(pong, sizeof pong, &w_pong, "the RFC's masked pong");
    parses(close, sizeof close, &w_close, "a close frame with no payload");
}
END_TEST

START_TEST(test_length_16)
{
    /* The RFC's "256 bytes binary message in a single unmasked frame",
     * masked as a client sends it. */
    static const unsigned char buf[] = { 0x82, 0xfe, 0x01, 0x00, 0xa1, 0xb2, 0xc3, 0xd4 };
    struct want w = { 8, 1, EX_OP_BINARY, 256, { 0xa1, 0xb2, 0xc3, 0xd4 } };
    length_is(buf, sizeof buf, 256, "a 256-byte binary frame");
    parses(buf, sizeof buf, &w, "a 256-byte binary frame (16-bit length)");
    static const unsigned char max[] = { 0x82, 0xfe, 0xff, 0xfe, 1, 2, 3, 4 };
    length_is(max, sizeof max, 65534, "a 65534-byte frame (both bytes count)");
    static const unsigned char small[] = { 0x82, 0xfe, 0x00, 0x7e, 1, 2, 3, 4 };
    length_is(small, sizeof small, 126, "a 126-byte frame");
}
END_TEST

START_TEST(test_length_64)
{
    /* The RFC's "64KiB binary message in a single unmasked frame", masked. */
    static const unsigned char buf[] = {
        0x82, 0xff, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00, 0x11, 0x22, 0x33, 0x44 };
    struct want w = { 14, 1, EX_OP_BINARY, 65536, { 0x11, 0x22, 0x33, 0x44 } };
    length_is(buf, sizeof buf, 65536, "a 64 KiB binary frame");
    parses(buf, sizeof buf, &w, "a 64 KiB binary frame (64-bit length)");
    /* Past 32 bits: an int or a 32-bit shift loses the top half. */
    static const unsigned char big[] = {
        0x82, 0xff, 0, 0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 1, 2, 3, 4 };
    length_is(big, sizeof big, 0x010203040506ull,
              "a frame of 0x010203040506 bytes (all 8 bytes count, in a uint64_t)");
}
END_TEST

START_TEST(test_payload_after_header)
{
    /* The header is followed by its payload in the same buffer: the parser
     * reads the header only. */
    unsigned char buf[8 + 300];
    memset(buf, 0xff, sizeof buf);
    memcpy(buf, (const unsigned char[]){ 0x82, 0xfe, 0x01, 0x2c, 5, 6, 7, 8 }, 8);
    struct want w = { 8, 1, EX_OP_BINARY, 300, { 5, 6, 7, 8 } };
    parses(buf, sizeof buf, &w, "a 300-byte frame, header and payload in one buffer");
}
END_TEST

START_TEST(test_control_frame_of_125)
{
    static const unsigned char ping[] = { 0x89, 0xfd, 1, 2, 3, 4 };   /* 0xfd: MASK, 125 */
    struct want w = { 6, 1, EX_OP_PING, 125, { 1, 2, 3, 4 } };
    parses(ping, sizeof ping, &w, "a ping of 125 bytes (the most a control frame may carry)");
}
END_TEST

/* ---- Refusals ------------------------------------------------------------------- */

START_TEST(test_refuses_unmasked)
{
    /* The RFC's own "Hello" in a single unmasked frame: what a server
     * sends, never a client. */
    static const unsigned char buf[] = { 0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
    refused(buf, sizeof buf, 1, "byte 1 is 05: no MASK bit, and every client frame is masked");
    static const unsigned char b16[] = { 0x82, 0x7e, 0x01, 0x00, 1, 2, 3, 4 };
    refused(b16, sizeof b16, 1, "byte 1 is 7E: no MASK bit, whatever the length");
}
END_TEST

START_TEST(test_refuses_rsv)
{
    static const unsigned char rsv1[] = { 0xc1, 0x85, 1, 2, 3, 4 };
    static const unsigned char rsv2[] = { 0xa1, 0x85, 1, 2, 3, 4 };
    static const unsigned char rsv3[] = { 0x91, 0x85, 1, 2, 3, 4 };
    refused(rsv1, sizeof rsv1, 0, "byte 0 is C1: RSV1 is set, and no extension was agreed");
    refused(rsv2, sizeof rsv2, 0, "byte 0 is A1: RSV2 is set, and no extension was agreed");
    refused(rsv3, sizeof rsv3, 0, "byte 0 is 91: RSV3 is set, and no extension was agreed");
}
END_TEST

START_TEST(test_refuses_reserved_opcodes)
{
    for (int op = 0; op < 16; op++) {
        unsigned char buf[] = { (unsigned char)(0x80 | op), 0x80, 1, 2, 3, 4 };
        char why[120];
        snprintf(why, sizeof why, "byte 0 is %02X: opcode %d is reserved (the RFC defines "
                 "0-2 and 8-10 only)", buf[0], op);
        int known = op <= 2 || (op >= 8 && op <= 10);
        if (known) {
            struct want w = { 6, 1, op, 0, { 1, 2, 3, 4 } };
            parses(buf, sizeof buf, &w, "an empty final frame of a defined opcode");
        } else {
            refused(buf, sizeof buf, 0, why);
        }
    }
}
END_TEST

START_TEST(test_refuses_long_control_frame)
{
    static const unsigned char ping126[] = { 0x89, 0xfe, 0x00, 0x7e, 1, 2, 3, 4 };
    static const unsigned char close127[] = {
        0x88, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x7e, 1, 2, 3, 4 };
    static const unsigned char pong126[] = { 0x8a, 0xfe, 1, 2, 3, 4 };
    refused(ping126, sizeof ping126, 1, "byte 1 is FE: a ping longer than 125 bytes, and a "
            "control frame carries at most 125");
    refused(close127, sizeof close127, 1, "byte 1 is FF: a close frame with a 64-bit length, "
            "and a control frame carries at most 125 bytes");
    refused(pong126, sizeof pong126, 1, "byte 1 is FE: a pong longer than 125 bytes");
}
END_TEST

START_TEST(test_refuses_fragmented_control)
{
    static const unsigned char ping[] = { 0x09, 0x80, 1, 2, 3, 4 };
    static const unsigned char close[] = { 0x08, 0x82, 1, 2, 3, 4, 0x02, 0xea };
    refused(ping, sizeof ping, 0, "byte 0 is 09: a ping without FIN, and control frames "
            "are never cut in pieces");
    refused(close, sizeof close, 0, "byte 0 is 08: a close without FIN");
}
END_TEST

/* ---- Unmasking -------------------------------------------------------------------- */

START_TEST(test_unmask_rfc_hello)
{
    unsigned char payload[5];
    memcpy(payload, rfc_hello + 6, 5);
    ex_unmask(payload, 5, rfc_hello + 2, 0);
    ck_assert_msg(memcmp(payload, "Hello", 5) == 0, "unmasking %s with the key %s should give "
                  "\"Hello\" (48 65 6C 6C 6F: byte i XOR key[i %% 4]), got %s; %s",
                  hex(rfc_hello + 6, 5), hex(rfc_hello + 2, 4), hex(payload, 5), FRAMES);
    ex_unmask(payload, 5, rfc_hello + 2, 0);
    ck_assert_msg(memcmp(payload, rfc_hello + 6, 5) == 0, "unmasking twice should give the "
                  "masked bytes back (XOR is its own inverse): expected %s, got %s; %s",
                  hex(rfc_hello + 6, 5), hex(payload, 5), FRAMES);
}
END_TEST

START_TEST(test_unmask_in_pieces)
{
    /* 23 bytes (not a multiple of 4), unmasked in two pieces cut at every
     * point, then in pieces of 1, 2, 3... bytes: always the same text. */
    static const char text[] = "a payload cut anywhere!";
    const size_t n = sizeof text - 1;
    static const unsigned char key[4] = { 0x01, 0x20, 0x03, 0x40 };
    unsigned char masked[sizeof text], buf[sizeof text];
    for (size_t i = 0; i < n; i++)
        masked[i] = (unsigned char)text[i] ^ key[i % 4];
    for (size_t cut = 0; cut <= n; cut++) {
        memcpy(buf, masked, n);
        ex_unmask(buf, cut, key, 0);
        ex_unmask(buf + cut, n - cut, key, cut);
        ck_assert_msg(memcmp(buf, text, n) == 0, "unmasking the first %zu bytes (offset 0), "
                      "then the other %zu (offset %zu) should give \"%s\", got bytes %s: the "
                      "second piece starts at payload byte %zu, which goes with key[%zu %% 4]; %s",
                      cut, n - cut, cut, text, hex(buf, n), cut, cut, FRAMES);
    }
    for (size_t step = 1; step <= 5; step++) {
        memcpy(buf, masked, n);
        for (size_t at = 0; at < n; at += step)
            ex_unmask(buf + at, at + step <= n ? step : n - at, key, at);
        ck_assert_msg(memcmp(buf, text, n) == 0, "unmasking in pieces of %zu bytes, each with "
                      "its offset, should give \"%s\", got bytes %s; %s", step, text,
                      hex(buf, n), FRAMES);
    }
    /* An offset past 4 GiB: a 64-bit payload can be that long. */
    memcpy(buf, masked, n);
    ex_unmask(buf, n, key, 0x100000000ull);
    ck_assert_msg(memcmp(buf, text, n) == 0, "offset 2^32 is a multiple of 4: unmasking with it "
                  "should give \"%s\", got bytes %s; %s", text, hex(buf, n), FRAMES);
}
END_TEST

START_TEST(test_unmask_nothing)
{
    unsigned char b = 0x42;
    ex_unmask(&b, 0, (const unsigned char[]){ 1, 2, 3, 4 }, 7);
    ck_assert_msg(b == 0x42, "unmasking 0 bytes should change nothing, the byte after became "
                  "%02X; %s", b, FRAMES);
}
END_TEST

static Suite *frame_suite(void)
{
    Suite *s = suite_create("13-chat/frame");
    TCase *tc = kit_tcase("frame");
    tcase_add_test(tc, test_rfc_hello);
    tcase_add_test(tc, test_fragments_and_control_frames);
    tcase_add_test(tc, test_length_16);
    tcase_add_test(tc, test_length_64);
    tcase_add_test(tc, test_payload_after_header);
    tcase_add_test(tc, test_control_frame_of_125);
    tcase_add_test(tc, test_refuses_unmasked);
    tcase_add_test(tc, test_refuses_rsv);
    tcase_add_test(tc, test_refuses_reserved_opcodes);
    tcase_add_test(tc, test_refuses_long_control_frame);
    tcase_add_test(tc, test_refuses_fragmented_control);
    tcase_add_test(tc, test_unmask_rfc_hello);
    tcase_add_test(tc, test_unmask_in_pieces);
    tcase_add_test(tc, test_unmask_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(frame_suite()); }
