/*
 * tests/fuzz/ws_frame.c - libFuzzer target for chapter 13's frame parser
 * (lib/13-ws/ws_frame.c) and UTF-8 validator (lib/13-ws/utf8.c).
 *
 * The input is what a client might send after the handshake: frames, one
 * after another.  Its first byte picks the payload limit (so 1009 comes
 * often); the rest is read as a server would, frame by frame.  Beyond "no
 * crash, no sanitizer report", it aborts when a promise of ws_frame.h or
 * utf8.h is broken:
 *   - the answer is a header length (2 to 14), 0, -1002 or -1009;
 *   - a parsed header is what its bytes say: masked, no RSV bit, a known
 *     opcode, a control frame final and at most 125 bytes, the length
 *     within the limit and in its shortest encoding (the header length
 *     agrees with it);
 *   - a prefix of a header gets 0 or the whole header's answer;
 *   - the writer's header for the same fin, opcode and length, masked as
 *     a client would, parses back to the same frame;
 *   - unmasking the payload in two pieces (cut where the input says)
 *     equals unmasking it at once;
 *   - the UTF-8 validator gives one verdict, at one byte, however the
 *     payload is cut.
 * `make fuzz-ws` builds and runs it (tests/fuzz/README.md).
 */
#include "ws_frame.h"
#include "utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond) \
    do { \
        if (!(cond)) \
            abort(); \
    } while (0)

static void check_header(const uint8_t *p, size_t len, uint64_t max, int r,
                         const green_ws_frame_t *f)
{
    CHECK(r == 0 || r == -1002 || r == -1009 || (r >= 2 && r <= GREEN_WS_MAX_HEADER));
    if (r <= 0)
        return;
    CHECK((size_t)r == f->head_len && f->head_len <= len);
    CHECK(f->masked && (p[0] & 0x70) == 0 && f->opcode == (p[0] & 0x0f));
    CHECK(f->length <= max);
    if (green_ws_is_control(f->opcode))
        CHECK(f->fin && f->length <= GREEN_WS_MAX_CONTROL);
    size_t want = f->length < 126 ? 6 : f->length <= 0xffff ? 8 : 14;
    CHECK(f->head_len == want);
    CHECK(memcmp(f->mask, p + f->head_len - 4, 4) == 0);

    /* Every prefix: "read more" or the same answer. */
    for (size_t k = 0; k < f->head_len; k++) {
        green_ws_frame_t g;
        CHECK(green_ws_frame_parse(p, k, max, &g) == 0);
    }

    /* The writer's header, masked like a client's, parses back. */
    uint8_t w[GREEN_WS_MAX_HEADER];
    int n = green_ws_frame_header(w, f->fin, f->opcode, f->length);
    CHECK(n == (int)f->head_len - 4);
    w[1] |= 0x80;
    memcpy(w + n, f->mask, 4);
    green_ws_frame_t g;
    CHECK(green_ws_frame_parse(w, (size_t)n + 4, max, &g) == r);
    CHECK(g.fin == f->fin && g.opcode == f->opcode && g.length == f->length);
}

static void check_payload(uint8_t *data, size_t n, const unsigned char mask[4], size_t cut)
{
    if (cut > n)
        cut = n;
    uint8_t *copy = malloc(n ? n : 1);
    CHECK(copy);
    memcpy(copy, data, n);
    green_ws_unmask(data, n, mask, 0);
    green_ws_unmask(copy, cut, mask, 0);
    green_ws_unmask(copy + cut, n - cut, mask, cut);
    CHECK(memcmp(data, copy, n) == 0);
    free(copy);

    /* UTF-8: whole, then in two pieces: one verdict, at one byte. */
    green_utf8_t u;
    size_t bad_whole = 0, bad = 0;
    green_utf8_init(&u);
    int whole = green_utf8_feed(&u, data, n, &bad_whole);
    int end_whole = whole == 0 ? green_utf8_end(&u) : -1;
    green_utf8_init(&u);
    int split = green_utf8_feed(&u, data, cut, &bad);
    if (split == 0) {
        split = green_utf8_feed(&u, data + cut, n - cut, &bad);
        bad += cut;
    }
    CHECK(split == whole);
    if (whole < 0)
        CHECK(bad == bad_whole && bad_whole < n);
    else
        CHECK(green_utf8_end(&u) == end_whole);
    CHECK(green_utf8_valid(data, n) == (end_whole == 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
    if (size < 2)
        return 0;
    /* Limits from 0 (the default, 1 MiB) to 255 bytes; the cut of each
     * payload for the piecewise checks. */
    uint64_t max = in[0] ? in[0] : GREEN_WS_DEFAULT_MAX_PAYLOAD;
    size_t cut = in[1];
    uint8_t *buf = malloc(size);
    CHECK(buf);
    memcpy(buf, in + 2, size - 2);
    size_t len = size - 2, at = 0;
    int fragmented = 0;
    while (at < len) {
        green_ws_frame_t f;
        int r = green_ws_frame_parse(buf + at, len - at, max, &f);
        check_header(buf + at, len - at, max, r, &f);
        if (r <= 0)
            break;
        at += (size_t)r;
        size_t n = len - at < f.length ? len - at : (size_t)f.length;
        check_payload(buf + at, n, f.mask, cut);
        green_ws_frame_order(&fragmented, &f);
        at += n;
    }
    free(buf);
    return 0;
}
