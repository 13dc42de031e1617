/*
 * ctx.h - chapter 2: machine contexts and their stacks.
 *
 * A context is "where a computation is": its stack pointer and the registers
 * a function call promises to preserve.  Switching context means saving
 * those registers on the current stack, remembering the stack pointer, and
 * loading another.  Everything above this layer (greenlets, the hub) is
 * built on one operation, green_ctx_switch().
 *
 * Back ends, chosen at build time, behind the same three calls:
 *   ctx_x86_64.S   x86-64 System V: rbx rbp r12-r15, rsp, MXCSR and x87 control
 *   ctx_aarch64.S  AArch64 AAPCS64: x19-x30, sp, d8-d15, FPCR
 *   ctx_ucontext.c POSIX swapcontext(), portable and slow (`make CTX=ucontext`)
 *
 * The sanitizers need to be told when the stack changes under them:
 * AddressSanitizer through __sanitizer_start_switch_fiber/finish (called here
 * around every switch when built with -fsanitize=address) and Valgrind through
 * VALGRIND_STACK_REGISTER (called when a stack is allocated).  Code above this
 * layer never needs to think about either.
 */
#ifndef GREEN_CTX_H
#define GREEN_CTX_H

#include <stddef.h>
#ifdef GREEN_CTX_UCONTEXT
#include <ucontext.h>
#endif

/* Default usable size of a greenlet stack.  Pages are committed only when
 * first touched, so a greenlet that stays shallow costs about one page of
 * memory however large its stack is. */
#define GREEN_STACK_DEFAULT (128 * 1024)

/* A stack: `size` usable bytes above one inaccessible guard page.  Running
 * off the bottom touches the guard page and faults at once, instead of
 * silently overwriting whatever lies below. */
typedef struct green_stack {
    char *guard;        /* lowest address: the guard page (PROT_NONE) */
    size_t guard_size;
    char *lo;           /* lowest usable byte (just above the guard) */
    size_t size;        /* usable bytes; the stack grows down from lo + size */
    unsigned valgrind_id;
} green_stack_t;

/* Reserve a stack of at least `size` usable bytes (0 means the default),
 * rounded up to whole pages, with a guard page below it.  Returns 0, or -1
 * with errno ENOMEM when the address space or the kernel's limit on mappings
 * (vm.max_map_count: two mappings per stack) runs out. */
int green_stack_alloc(green_stack_t *s, size_t size);

/* Give the stack's memory back to the kernel.  `s` must not be in use. */
void green_stack_free(green_stack_t *s);

/* 1 when `addr` lies in the guard page of `s` (or in the page just below it,
 * where a large frame can land), else 0.  Used to tell a stack overflow from
 * any other segmentation fault. */
int green_stack_overflowed(const green_stack_t *s, const void *addr);

typedef struct green_ctx {
#ifdef GREEN_CTX_UCONTEXT
    ucontext_t uc;
#else
    void *sp;                 /* saved stack pointer; registers sit above it */
#endif
    void (*entry)(void *, void *);  /* what a new context runs first */
    void *arg;
    /* AddressSanitizer's view of this context's stack (unused otherwise) */
    const void *asan_bottom;
    size_t asan_size;
    void *asan_fake_stack;
} green_ctx_t;

/* Prepare `c` so that the first switch into it calls entry(arg, value) on
 * stack `s`, where value is what that first switch handed over.
 * `entry` must never return: its last act is green_ctx_switch_last(). */
void green_ctx_make(green_ctx_t *c, green_stack_t *s,
                    void (*entry)(void *arg, void *value), void *arg);

/* Save the running context into `from` and continue `to` where it stopped
 * (or at its entry, the first time), handing it `value`: to's own pending
 * green_ctx_switch() returns it.  Returns when some context switches back
 * into `from`, with the value that one handed over. */
void *green_ctx_switch(green_ctx_t *from, green_ctx_t *to, void *value);

/* Like green_ctx_switch(), for a context that will never run again: its
 * stack may be freed once this call has switched away from it. */
void green_ctx_switch_last(green_ctx_t *from, green_ctx_t *to, void *value);

/* Where a suspended context stands, for a debugger's eye (chapter 3's
 * dump walks its frames from here): the address it will continue at (pc),
 * its frame pointer (fp: the kit builds with -fno-omit-frame-pointer, so
 * it heads a chain of frames) and its stack pointer once resumed (sp).
 * Only meaningful for a context that has switched away and not yet been
 * resumed; each back end knows where its own switch left them. */
typedef struct green_ctx_regs {
    void *pc, *fp, *sp;
} green_ctx_regs_t;
green_ctx_regs_t green_ctx_saved_regs(const green_ctx_t *c);

/* The same three for the code a signal interrupted: `ucontext` is a signal
 * handler's third argument (SA_SIGINFO), a ucontext_t.  All zero on a
 * machine the kit does not know. */
green_ctx_regs_t green_ctx_signal_regs(const void *ucontext);

/* The name of the back end compiled in: "x86_64", "aarch64" or "ucontext". */
const char *green_ctx_backend(void);

#endif
