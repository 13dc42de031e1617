/* ctx.c - chapter 2: what every context back end shares.  See ctx.h. */
#include "ctx_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <ucontext.h>

/* AddressSanitizer keeps a shadow of every stack and must be told when we
 * move to another one; otherwise it mistakes the new stack for a buffer
 * overflow of the old.  The protocol: start_switch_fiber() just before the
 * switch (naming the stack we go to), finish_switch_fiber() just after it,
 * on the new stack (which tells us the bounds of the stack we came from:
 * that is how we learn the bounds of the thread's own stack). */
#if defined(__SANITIZE_ADDRESS__)
#define GREEN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GREEN_ASAN 1
#endif
#endif

#ifdef GREEN_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>

static _Thread_local green_ctx_t *switching_from;

static void asan_before(green_ctx_t *from, green_ctx_t *to, int last)
{
    switching_from = from;
    /* A context that will never run again passes NULL: ASan then frees
     * its fake stack instead of keeping it for a return that never comes. */
    __sanitizer_start_switch_fiber(last ? NULL : &from->asan_fake_stack,
                                   to->asan_bottom, to->asan_size);
}

static void asan_after(green_ctx_t *self)
{
    green_ctx_t *from = switching_from;
    __sanitizer_finish_switch_fiber(self->asan_fake_stack,
                                    &from->asan_bottom, &from->asan_size);
}

static void asan_new_stack(green_ctx_t *c, green_stack_t *s)
{
    /* A reused stack still carries the poison of frames that never
     * returned (the last switch of its previous owner). */
    ASAN_UNPOISON_MEMORY_REGION(s->lo, s->size);
    c->asan_bottom = s->lo;
    c->asan_size = s->size;
}
#else
static void asan_before(green_ctx_t *from, green_ctx_t *to, int last)
{
    (void)from, (void)to, (void)last;
}
static void asan_after(green_ctx_t *self) { (void)self; }
static void asan_new_stack(green_ctx_t *c, green_stack_t *s)
{
    (void)c, (void)s;
}
#endif

void green_ctx_make(green_ctx_t *c, green_stack_t *s,
                    void (*entry)(void *arg, void *value), void *arg)
{
    c->entry = entry;
    c->arg = arg;
    c->asan_fake_stack = NULL;
    asan_new_stack(c, s);
    green__ctx_backend_make(c, s);
}

void green__ctx_start(green_ctx_t *c, void *value)
{
    asan_after(c);
    c->entry(c->arg, value);
    /* entry's contract is to switch away for good; returning has nowhere
     * to go, since nothing called us. */
    fputs("green: a context's entry function returned; it must end with "
          "green_ctx_switch_last()\n", stderr);
    abort();
}

#ifdef GREEN_ASAN
void *green_ctx_switch(green_ctx_t *from, green_ctx_t *to, void *value)
{
    asan_before(from, to, 0);
    value = green__ctx_backend_swap(from, to, value);
    asan_after(from);
    return value;
}
#else
/* Without the sanitizer the swap is this function's last act: a tail call,
 * so the resumed context jumps straight back to its caller, and no `ret`
 * has to be predicted from the other context's calls. */
void *green_ctx_switch(green_ctx_t *from, green_ctx_t *to, void *value)
{
    return green__ctx_backend_swap(from, to, value);
}
#endif

void green_ctx_switch_last(green_ctx_t *from, green_ctx_t *to, void *value)
{
    asan_before(from, to, 1);
    green__ctx_backend_swap(from, to, value);
    /* not reached: nobody switches back into a finished context */
    abort();
}

/* The registers a signal saved (or swapcontext: ctx_ucontext.c), in the
 * machine's own layout (<sys/ucontext.h>). */
green_ctx_regs_t green_ctx_signal_regs(const void *ucontext)
{
    const mcontext_t *m = &((const ucontext_t *)ucontext)->uc_mcontext;
#if defined(__x86_64__)
    return (green_ctx_regs_t){ .pc = (void *)m->gregs[REG_RIP],
                               .fp = (void *)m->gregs[REG_RBP],
                               .sp = (void *)m->gregs[REG_RSP] };
#elif defined(__aarch64__)
    return (green_ctx_regs_t){ .pc = (void *)m->pc, .fp = (void *)m->regs[29],
                               .sp = (void *)m->sp };
#else
    (void)m;
    return (green_ctx_regs_t){ 0 };
#endif
}
