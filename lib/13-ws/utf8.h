/*
 * utf8.h - chapter 13: an incremental UTF-8 validator.
 *
 * A WebSocket text message must be UTF-8, and the server must fail the
 * connection (close 1007) as soon as it is not (RFC 6455 section 8.1):
 * not after the whole message has been buffered, which would let a client
 * make the server hold megabytes of garbage.  A message comes in frames,
 * and a frame in reads of any size, so a character can be cut anywhere:
 * the validator keeps, between calls, how many continuation bytes the
 * current character still needs and which range the next one must lie in.
 *
 * What is valid is the Unicode standard's table 3-7 ("well-formed UTF-8
 * byte sequences"), which RFC 3629 restates:
 *
 *     U+0000..U+007F      00..7F
 *     U+0080..U+07FF      C2..DF  80..BF
 *     U+0800..U+0FFF      E0      A0..BF  80..BF
 *     U+1000..U+CFFF      E1..EC  80..BF  80..BF
 *     U+D000..U+D7FF      ED      80..9F  80..BF
 *     U+E000..U+FFFF      EE..EF  80..BF  80..BF
 *     U+10000..U+3FFFF    F0      90..BF  80..BF  80..BF
 *     U+40000..U+FFFFF    F1..F3  80..BF  80..BF  80..BF
 *     U+100000..U+10FFFF  F4      80..8F  80..BF  80..BF
 *
 * Each refusal is in the table: C0, C1 and the narrow second bytes after
 * E0 and F0 refuse overlong forms (a '/' spelled in two bytes, the classic
 * path-traversal trick); ED's refuses the UTF-16 surrogates D800..DFFF;
 * F4's and F5..FF refuse everything past U+10FFFF.  So the first invalid
 * byte is found as soon as it arrives, even in the middle of a character.
 * A message that ends in the middle of a character is invalid too:
 * green_utf8_end says so.
 *
 * It needs nothing of the kit: a pure function of bytes.
 */
#ifndef GREEN_UTF8_H
#define GREEN_UTF8_H

#include <stddef.h>

/* The validator's state, carried from one call to the next. */
typedef struct green_utf8 {
    unsigned need;            /* continuation bytes the character still needs */
    unsigned char lo, hi;     /* the range the next continuation byte must be in */
    int failed;               /* 1 after an invalid byte: every later call fails */
} green_utf8_t;

/* Ready u for a new message. */
void green_utf8_init(green_utf8_t *u);

/* Check the next n bytes of the message.  Returns 0 when every byte so far
 * can begin valid UTF-8 (a character cut at the end is fine: its next
 * bytes come in the next call).  Returns -1 with errno EILSEQ at the first
 * invalid byte, and sets *bad (when not NULL) to its offset in data; once
 * failed, u stays failed (*bad is then 0). */
int green_utf8_feed(green_utf8_t *u, const void *data, size_t n, size_t *bad);

/* The message has ended: returns 0 when it ended between characters, -1
 * with errno EILSEQ when it failed or stopped in the middle of one. */
int green_utf8_end(const green_utf8_t *u);

/* The whole of data[0..n) at once: 1 when valid UTF-8, else 0. */
int green_utf8_valid(const void *data, size_t n);

#endif
