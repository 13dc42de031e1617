/* read.c - exercise 05-patch/read.  Read read.h first. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "green.h"
#include "read.h"

ssize_t __wrap_read(int fd, void *buf, size_t n)
{
    /* TODO: inside a greenlet, on a blocking socket or pipe, wait with
     * green_wait_read() until fd is readable; in every other case, and
     * then, make the real call: return __real_read(fd, buf, n).  Until
     * then every read() of the tests fails: -1 with errno ENOSYS ("not
     * implemented"). */
    (void)fd;
    (void)buf;
    (void)n;
    errno = ENOSYS;
    return -1;
}
