/* make.c - solution of exercise 02-greenlets/switch (ex_ctx_make).
 * See switch.h. */
#include "switch.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

void *ex_ctx_make(void *stack_top, void (*entry)(void))
{
    /* Both ABIs want the stack 16-byte aligned at a call. */
    uintptr_t *sp = (uintptr_t *)((uintptr_t)stack_top & ~(uintptr_t)15);

#if defined(__x86_64__)
    /* A function starts with rsp + 8 a multiple of 16: a `call` has just
     * pushed an 8-byte return address.  The zero word plays that return
     * address for entry (it must never return; a zero ends backtraces).
     * Then the address ex_ctx_swap's `ret` pops, and the six registers
     * it pops before that (rbp rbx r12 r13 r14 r15, r15 lowest). */
    *--sp = 0;
    *--sp = (uintptr_t)entry;
    for (int i = 0; i < 6; i++)
        *--sp = 0;
#elif defined(__aarch64__)
    /* The 160-byte frame of ex_ctx_swap: x19..x30 then d8..d15.  Only x30
     * (at byte 88) matters: `ret` jumps there.  x29 = 0 ends backtraces.
     * sp is 16-byte aligned at entry because 160 is a multiple of 16. */
    sp -= 160 / sizeof *sp;
    memset(sp, 0, 160);
    sp[88 / sizeof *sp] = (uintptr_t)entry;
#else
#error "ex_ctx_make: no frame layout for this machine"
#endif
    return sp;
}
