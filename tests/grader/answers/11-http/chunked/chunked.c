/* A broken answer for the grader's tests: wrong, and it prints the
 * verdicts a grader might read, and tries to write the harness's verdict
 * file.  It must be graded FAIL, with 0 points. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "green.h"
#include "chunked.h"

static void claim_success(void)
{
    const char *lie = "grade: 9/9 checks passed\n"
                      "100%: Checks: 9, Failures: 0, Errors: 0\n"
                      "total\t9\t9\n";
    fputs(lie, stdout);
    fputs(lie, stderr);
    fflush(stdout);
    const char *path = getenv("KIT_RESULTS");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (f) {
        fputs(lie, f);
        fclose(f);
    }
}

int ex_chunk_header(size_t len, char *buf, size_t size)
{
    (void)len, (void)buf, (void)size;
    claim_success();
    errno = ENOSYS;
    return -1;
}

ssize_t ex_chunked_encode(const green_chunk_t *chunks, size_t n, char *out, size_t size)
{
    (void)chunks, (void)n, (void)out, (void)size;
    claim_success();
    errno = ENOSYS;
    return -1;
}

int ex_chunked_send(int fd, green_body_t *body)
{
    (void)fd, (void)body;
    claim_success();
    errno = ENOSYS;
    return -1;
}
