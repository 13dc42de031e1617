/*
 * ctx_asm.c - chapter 2: new contexts for the assembly back ends
 * (ctx_x86_64.S, ctx_aarch64.S).  A new context's stack gets, by hand, the
 * frame that green__ctx_swap would have left there had the context been
 * running and switched away at its very first instruction.
 */
#include "ctx_backend.h"

#include <stdint.h>
#include <string.h>

void *green__ctx_swap(void **save_sp, void *load_sp, void *value); /* .S */
void green__ctx_boot(void);                             /* the .S file */

/* The frame is built below a 16-byte gap at the top of the stack, so that
 * when green__ctx_boot calls green__ctx_start the stack pointer is 16-byte
 * aligned, as both ABIs require at a call. */
static uint64_t *frame_below_top(green_stack_t *s, size_t frame_bytes)
{
    uintptr_t top = ((uintptr_t)(s->lo + s->size)) & ~(uintptr_t)15;
    uint64_t *frame = (uint64_t *)(top - 16 - frame_bytes);
    memset(frame, 0, frame_bytes + 16);
    return frame;
}

#if defined(__x86_64__)

void green__ctx_backend_make(green_ctx_t *c, green_stack_t *s)
{
    uint64_t *f = frame_below_top(s, 8 * 8);
    uint32_t mxcsr;
    uint16_t x87cw;
    /* A new greenlet starts with its creator's floating point modes, the
     * way a new thread does. */
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(x87cw));
    f[0] = mxcsr | (uint64_t)x87cw << 32;
    f[3] = (uint64_t)(uintptr_t)c;                  /* r13: the argument */
    f[4] = (uint64_t)(uintptr_t)green__ctx_start;    /* r12: what to call */
    f[7] = (uint64_t)(uintptr_t)green__ctx_boot;     /* the return address */
    c->sp = f;
}

/* The frame green__ctx_swap pushed (ctx_x86_64.S): rbp at sp+48, the
 * return address at sp+56, and the stack pointer once both are popped. */
green_ctx_regs_t green_ctx_saved_regs(const green_ctx_t *c)
{
    void *const *f = c->sp;
    return (green_ctx_regs_t){ .pc = f[7], .fp = f[6], .sp = (void *)(f + 8) };
}

const char *green_ctx_backend(void) { return "x86_64"; }

#elif defined(__aarch64__)

void green__ctx_backend_make(green_ctx_t *c, green_stack_t *s)
{
    uint64_t *f = frame_below_top(s, 176);
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    f[0] = (uint64_t)(uintptr_t)green__ctx_start;    /* x19: what to call */
    f[1] = (uint64_t)(uintptr_t)c;                  /* x20: the argument */
    f[11] = (uint64_t)(uintptr_t)green__ctx_boot;    /* x30: where to go */
    f[20] = fpcr;
    c->sp = f;
}

/* The frame green__ctx_swap stored (ctx_aarch64.S): x29 at sp+80, x30
 * (where it continues) at sp+88, and 176 bytes popped on resuming. */
green_ctx_regs_t green_ctx_saved_regs(const green_ctx_t *c)
{
    void *const *f = c->sp;
    return (green_ctx_regs_t){ .pc = f[11], .fp = f[10], .sp = (void *)(f + 22) };
}

const char *green_ctx_backend(void) { return "aarch64"; }

#else
#error "no assembly context switch for this machine: build with make CTX=ucontext"
#endif

void *green__ctx_backend_swap(green_ctx_t *from, green_ctx_t *to, void *value)
{
    return green__ctx_swap(&from->sp, to->sp, value);
}
