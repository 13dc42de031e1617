/* readline.c - solution of exercise 04-io/readline.  See readline.h. */
#include <errno.h>
#include <string.h>

#include "green.h"
#include "readline.h"

void ex_reader_init(struct ex_reader *r, int fd)
{
    r->fd = fd;
    r->start = r->end = 0;
}

/* Hand out the first n buffered bytes as a string. */
static ssize_t take(struct ex_reader *r, char *line, size_t n)
{
    memcpy(line, r->buf + r->start, n);
    line[n] = '\0';
    r->start += n;
    return (ssize_t)n;
}

ssize_t ex_readline(struct ex_reader *r, char *line, size_t size, double timeout)
{
    double deadline = timeout < 0 ? -1.0 : green_now() + timeout;
    size_t limit = size - 1 < EX_READER_SIZE ? size - 1 : EX_READER_SIZE;
    for (;;) {
        size_t have = r->end - r->start;
        const char *nl = memchr(r->buf + r->start, '\n', have);
        if (nl && (size_t)(nl - (r->buf + r->start)) < limit)
            return take(r, line, (size_t)(nl - (r->buf + r->start)) + 1);
        if (have >= limit)                      /* a long line: a piece */
            return take(r, line, limit);

        /* No complete line yet: make room at the end, read more. */
        memmove(r->buf, r->buf + r->start, have);
        r->start = 0;
        r->end = have;
        double left = GREEN_FOREVER;
        if (deadline >= 0) {
            left = deadline - green_now();
            if (left < 0)
                left = 0;
        }
        ssize_t got = green_recv(r->fd, r->buf + r->end, EX_READER_SIZE - r->end, left);
        if (got < 0)
            return -1;          /* ETIMEDOUT, ECANCELED, ...: the bytes stay */
        if (got == 0)           /* end of stream: the rest, then 0 */
            return take(r, line, have);
        r->end += (size_t)got;
    }
}
