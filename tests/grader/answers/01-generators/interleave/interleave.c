/* A broken answer for the grader's tests: it does not compile. */
#include "interleave.h"

static int missing_semicolon(void)
{
    return 0
}
