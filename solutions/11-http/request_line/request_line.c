/* request_line.c - solution of exercise 11-http/request_line.
 * See request_line.h. */
#include <string.h>

#include "request_line.h"

/* A tchar (RFC 9110 section 5.6.2): what a method is made of. */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    /* c != 0: strchr would find the string's own terminator. */
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A visible ASCII character: what a target is made of. */
static int is_visible(unsigned char c)
{
    return c > ' ' && c < 0x7f;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The longest run of bytes from line[*i] that `ok` accepts; *i moves past
 * it.  Returns the run's length. */
static size_t run(const char *line, size_t len, size_t *i, int (*ok)(unsigned char))
{
    size_t start = *i;
    while (*i < len && ok((unsigned char)line[*i]))
        (*i)++;
    return *i - start;
}

/* "HTTP/D.D" and nothing after: 0 with *minor set, or -400 / -505. */
static int version(const char *v, size_t n, int *minor)
{
    if (n != 8 || memcmp(v, "HTTP/", 5) != 0 || !is_digit(v[5]) || v[6] != '.' || !is_digit(v[7]))
        return -400;
    if (v[5] != '1')
        return -505;
    *minor = v[7] - '0';
    return 0;
}

int ex_parse_request_line(const char *line, size_t len, struct ex_request_line *out)
{
    if (len > EX_MAX_REQUEST_LINE)
        return -414;
    size_t i = 0;
    out->method = line;
    out->method_len = run(line, len, &i, is_tchar);
    if (out->method_len == 0 || i == len || line[i] != ' ')
        return -400;
    i++;
    out->target = line + i;
    out->target_len = run(line, len, &i, is_visible);
    if (out->target_len == 0)
        return -400;
    if (i == len)
        return -505;            /* "GET /": HTTP/0.9 had no version */
    if (line[i] != ' ')
        return -400;
    i++;
    return version(line + i, len - i, &out->minor);
}
