/*
 * ctx_ucontext.c - chapter 2: the portable back end, POSIX ucontext.
 *
 * swapcontext() saves and restores the signal mask as well as the
 * registers, and that takes a system call (rt_sigprocmask) on every switch:
 * it is why this back end is tens of times slower than the assembly ones.
 * (`strace -c` on chapter 2's switchcost shows it.)
 */
#include "ctx_backend.h"

#include <stdio.h>
#include <stdlib.h>

/* makecontext() can pass only int arguments to the new context, and a
 * pointer does not fit in an int; the context being entered and the value
 * handed over travel through these variables instead. */
static _Thread_local green_ctx_t *entering;
static _Thread_local void *handed;

static void boot(void)
{
    green__ctx_start(entering, handed);
}

void green__ctx_backend_make(green_ctx_t *c, green_stack_t *s)
{
    if (getcontext(&c->uc) != 0) {
        perror("green: getcontext");
        abort();
    }
    c->uc.uc_stack.ss_sp = s->lo;
    c->uc.uc_stack.ss_size = s->size;
    c->uc.uc_link = NULL;
    makecontext(&c->uc, boot, 0);
}

void *green__ctx_backend_swap(green_ctx_t *from, green_ctx_t *to, void *value)
{
    entering = to;
    handed = value;
    swapcontext(&from->uc, &to->uc);
    return handed;      /* set by whoever switched back to us */
}

/* swapcontext() keeps the registers where a signal does. */
green_ctx_regs_t green_ctx_saved_regs(const green_ctx_t *c)
{
    return green_ctx_signal_regs(&c->uc);
}

const char *green_ctx_backend(void) { return "ucontext"; }
