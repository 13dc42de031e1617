/* readline.c - exercise 04-io/readline.  Read readline.h first. */
#include <errno.h>
#include <string.h>

#include "green.h"
#include "readline.h"

void ex_reader_init(struct ex_reader *r, int fd)
{
    /* TODO: remember fd; the buffer starts empty. */
    (void)r;
    (void)fd;
}

ssize_t ex_readline(struct ex_reader *r, char *line, size_t size, double timeout)
{
    /* TODO: one deadline; loop: a '\n' in the buffer (or size - 1 bytes, or
     * a full buffer)? copy it out and return.  Otherwise move the buffered
     * bytes to the front and green_recv() more with the time left; 0 means
     * end of stream: return what is left (0 if nothing). */
    (void)r;
    (void)line;
    (void)size;
    (void)timeout;
    errno = ENOSYS;
    return -1;
}
