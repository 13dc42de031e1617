/*
 * utf8_check.h - exercise 13-chat/utf8_check: check UTF-8 as it arrives, byte by byte.
 *
 * void ex_utf8_init(ex_utf8_t *u);
 * int ex_utf8_feed(ex_utf8_t *u, const void *data, size_t n, size_t *bad);
 * int ex_utf8_end(const ex_utf8_t *u);
 *
 * A WebSocket text message must be UTF-8, and a server must close the
 * connection (code 1007) as soon as it is not (RFC 6455 section 8.1).
 * "As soon as": not once the whole message is in, or a client could make
 * the server keep megabytes of garbage.  But a message comes in frames,
 * and frames in reads of any size: a character of 2, 3 or 4 bytes can be
 * cut anywhere.  So the validator keeps, between calls, where it is in
 * the current character: how many bytes it still needs, and which values
 * the next one may take.
 *
 * Valid UTF-8 is this table (the Unicode standard's table 3-7, RFC 3629):
 *
 *     code points         byte 1   byte 2   byte 3   byte 4
 *     U+0000..U+007F      00..7F
 *     U+0080..U+07FF      C2..DF   80..BF
 *     U+0800..U+0FFF      E0       A0..BF   80..BF
 *     U+1000..U+CFFF      E1..EC   80..BF   80..BF
 *     U+D000..U+D7FF      ED       80..9F   80..BF
 *     U+E000..U+FFFF      EE..EF   80..BF   80..BF
 *     U+10000..U+3FFFF    F0       90..BF   80..BF   80..BF
 *     U+40000..U+FFFFF    F1..F3   80..BF   80..BF   80..BF
 *     U+100000..U+10FFFF  F4       80..8F   80..BF   80..BF
 *
 * Every byte sequence not in it is invalid, and the table says why:
 *   - C0, C1, and E0 or F0 followed by a byte under the range: an
 *     "overlong" form, a character written with more bytes than it needs
 *     ("/" as C0 AF: the classic way past a filter that looks for "/");
 *   - ED followed by A0..BF: U+D800..U+DFFF, the UTF-16 surrogates, which
 *     are not characters;
 *   - F4 followed by 90..BF, and F5..FF: past U+10FFFF, the last code
 *     point;
 *   - a continuation byte (80..BF) where a character should start, or a
 *     byte outside the range where a continuation byte should be.
 *
 * What it must do (the tests check each point)
 *   - ex_utf8_init(u): ready u for a new message.
 *   - ex_utf8_feed(u, data, n, bad): the next n bytes of the message.
 *     Returns 0 when every byte so far can start valid UTF-8 (a character
 *     cut at the end of data is fine: its other bytes come in the next
 *     call).  Returns -1 with errno EILSEQ at the FIRST byte that cannot
 *     be, even in the middle of a character, and sets *bad (when bad is
 *     not NULL) to that byte's offset in data.  Once failed, u stays
 *     failed: every later call returns -1 (EILSEQ), *bad then 0.
 *   - ex_utf8_end(u): the message has ended.  0 when it ended between two
 *     characters; -1 with errno EILSEQ when it failed, or stopped in the
 *     middle of a character (E2 82 without its last byte).
 *   The same bytes give the same answer however they are cut: at once,
 *   one byte per call, or in two pieces cut anywhere.
 *
 * The trap
 *   Checking that a lead byte is followed by the right NUMBER of
 *   continuation bytes is not enough: E0 80 80 has the right number and
 *   is an overlong NUL; ED A0 80 is a surrogate.  The second byte's range
 *   depends on the first byte: that is why the state holds a range.
 *
 * Hints
 *   - ex_utf8_t is yours: the tests never look inside it; they only pass
 *     it from call to call.  The fields given are one way to do it.
 *   - No decoding: a server checks the text, it does not need the code
 *     points.
 *   - lib/13-ws/utf8.c is the library's version.  Try without it first.
 *
 * Lesson: chapters/13-chat/README.md, "UTF-8, one byte at a time", then
 *         "Exercise: utf8_check".
 * Tests:  tests/exercises/13-chat/utf8_check.c
 * Run:    make grade E=utf8_check
 * Stuck?  make hint E=utf8_check (one more hint each time you ask)
 */
#ifndef EX_UTF8_CHECK_H
#define EX_UTF8_CHECK_H

#include <stddef.h>

/* Where the validator is, between two calls. */
typedef struct ex_utf8 {
    unsigned need;              /* continuation bytes the character still needs */
    unsigned char lo, hi;       /* the range the next one must be in */
    int failed;                 /* 1 after an invalid byte */
} ex_utf8_t;

void ex_utf8_init(ex_utf8_t *u);
int ex_utf8_feed(ex_utf8_t *u, const void *data, size_t n, size_t *bad);
int ex_utf8_end(const ex_utf8_t *u);

#endif
