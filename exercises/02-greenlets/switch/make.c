/* make.c - exercise 02-greenlets/switch (ex_ctx_make).  Read switch.h
 * first. */
#include "switch.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

void *ex_ctx_make(void *stack_top, void (*entry)(void))
{
    /* TODO: round stack_top down to 16 bytes, then write the frame that
     * your ex_ctx_swap pops (switch.h shows it for each machine; use
     * #if defined(__x86_64__) / #elif defined(__aarch64__)), and return
     * the lowest address of that frame.  Until then: NULL with errno
     * ENOSYS ("not implemented"). */
    (void)stack_top;
    (void)entry;
    errno = ENOSYS;
    return NULL;
}
