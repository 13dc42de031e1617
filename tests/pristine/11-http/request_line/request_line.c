/* request_line.c - exercise 11-http/request_line.  Read request_line.h
 * first. */
#include <string.h>

#include "request_line.h"

int ex_parse_request_line(const char *line, size_t len, struct ex_request_line *out)
{
    /* TODO: -414 if the line is too long; then the method (tchar, at
     * least one), one space, the target (visible characters, at least
     * one), one space, and "HTTP/D.D" up to the end of the line.  Fill
     * *out with pointers into line and return 0, or return -400 / -505. */
    (void)line;
    (void)len;
    (void)out;
    return -501;                /* Not Implemented, until you implement it */
}
