/*
 * readline.h - exercise 04-io/readline: read a connection line by line,
 * like Python's sock.makefile().readline(), with one timeout per line.
 *
 * void    ex_reader_init(struct ex_reader *r, int fd);
 * ssize_t ex_readline(struct ex_reader *r, char *line, size_t size, double timeout);
 *
 * TCP delivers a stream of bytes, not messages: one recv may return half a
 * line, or three lines and the start of a fourth.  A line reader keeps a
 * buffer of what it has received but not handed out yet, and reads more
 * (with green_recv()) only when the buffer holds no complete line.
 *
 * ex_reader_init: set r up to read from fd (a non-blocking socket or pipe)
 * with an empty buffer.
 *
 * ex_readline: the next line, copied into line and terminated with '\0'.
 *   - Returns the number of bytes copied (without the '\0'), including the
 *     '\n' that ends the line.
 *   - A line too long for `line` comes in pieces, like fgets(): at most
 *     size - 1 bytes per call (and at most EX_READER_SIZE); the rest stays
 *     for the next call.  size is at least 2.
 *   - End of stream (green_recv() returned 0): a last line without '\n' is
 *     returned as it is; after that, 0.
 *   - `timeout` is for the whole line: if no complete line is there when it
 *     runs out, return -1 with errno ETIMEDOUT, and KEEP what has been
 *     received so far in the buffer: the next call continues the line.
 *   - Any other failure of green_recv() (ECANCELED when killed, ECONNRESET,
 *     ...): -1 with that errno.
 *
 * The trap: a client that sends one byte every 0.1 s never lets a single
 * green_recv(..., timeout) time out, so giving each recv the full timeout
 * would wait for ever (a "slowloris" attack on a server).  Compute one
 * deadline per call and give each green_recv() only the time left (never
 * less than 0).  See chapters/04-io/README.md, "Timeouts are deadlines".
 *
 * Hints
 *   - The buffered bytes are buf[start] .. buf[end - 1].  memchr() finds the
 *     '\n' among them.  Before reading more, move them to the front
 *     (memmove) so there is room at the end.
 *   - Keep everything in *r, nothing in static variables: a server has a
 *     reader per connection, all in use at the same time.
 *
 * Lesson: chapters/04-io/README.md, "Timeouts are deadlines", then
 *         "Exercise: readline".
 * Tests:  tests/exercises/04-io/readline.c
 * Run:    make grade E=readline
 * Stuck?  make hint E=readline (one more hint each time you ask)
 */
#ifndef EX_READLINE_H
#define EX_READLINE_H

#include <stddef.h>
#include <sys/types.h>

#define EX_READER_SIZE 4096

struct ex_reader {
    int fd;
    size_t start, end;              /* buffered, not yet returned: buf[start..end) */
    char buf[EX_READER_SIZE];
};

void ex_reader_init(struct ex_reader *r, int fd);
ssize_t ex_readline(struct ex_reader *r, char *line, size_t size, double timeout);

#endif
