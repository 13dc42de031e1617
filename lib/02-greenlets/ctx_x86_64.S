/*
 * ctx_x86_64.S - the context switch for x86-64, System V ABI (Linux, BSD, macOS).
 *
 *     void *green__ctx_swap(void **save_sp, void *load_sp, void *value);
 *                          %rdi            %rsi           %rdx
 *
 * Saves the running context on its own stack, stores the stack pointer in
 * *save_sp, loads load_sp and restores the context saved there, whose own
 * green__ctx_swap call then returns `value` (in %rax).  To the C
 * code that calls it, this is an ordinary function call, so it only has to
 * preserve what the ABI says a called function must preserve:
 *
 *   rbx rbp r12 r13 r14 r15   the callee-saved registers; every other
 *                             general register may be clobbered by a call,
 *                             so the compiler already keeps nothing in them
 *   rsp                       the stack pointer: it *is* the context
 *   MXCSR control bits        SSE rounding mode and exception masks
 *   x87 control word          x87 rounding mode and precision
 *
 * The two control registers are easy to forget: a greenlet that calls
 * fesetround() must not change the rounding of every other greenlet.
 * Saving them is cheap (stmxcsr, fnstcw); loading them is not (ldmxcsr and
 * fldcw stall the pipeline), and nearly every program leaves them at their
 * defaults.  So we load them only when the saved value differs from the
 * current one: correct always, cheap in the common case.
 *
 * The frame a context leaves on its stack, from its saved sp upwards:
 *
 *     sp+0    MXCSR (4 bytes), x87 control word (2 bytes), 2 unused bytes
 *     sp+8    r15
 *     sp+16   r14
 *     sp+24   r13
 *     sp+32   r12
 *     sp+40   rbx
 *     sp+48   rbp
 *     sp+56   return address: where this context continues
 *
 * green__ctx_backend_make() (ctx_asm.c) writes the same frame by hand for a
 * new context, with green__ctx_boot below as its return address.
 */

/* Symbol names: Mach-O (macOS) prefixes C names with an underscore and has
 * no .type/.size; ELF (Linux, BSD) has both. */
#ifdef __APPLE__
#define SYM(name) _##name
#define TYPE(name)
#define SIZE(name)
#else
#define SYM(name) name
#define TYPE(name) .type name, %function
#define SIZE(name) .size name, .-name
#endif

        .text
        .globl  SYM(green__ctx_swap)
        TYPE(green__ctx_swap)
        .p2align 4
SYM(green__ctx_swap):
        /* 1. Save the callee-saved registers on the current stack.  The
         *    call instruction has already pushed our return address. */
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        subq    $8, %rsp
        stmxcsr (%rsp)
        fnstcw  4(%rsp)

        /* Keep the current control words in scratch registers (caller-saved:
         * free to use) to compare with the ones we are about to resume, and
         * the value to hand over where the resumed side's call returns it. */
        movq    %rdx, %r8
        movl    (%rsp), %eax
        movzwl  4(%rsp), %ecx

        /* 2. The switch itself: remember where we are, go where we were. */
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp

        /* 3. Restore the control words, only where they differ.  Only bits
         *    6-15 of MXCSR are control; bits 0-5 are sticky exception flags
         *    that any arithmetic may set and the ABI does not preserve. */
        movl    (%rsp), %edx
        xorl    %eax, %edx
        testl   $0xffc0, %edx
        jnz     .Lload_mxcsr
.Lcheck_x87:
        cmpw    4(%rsp), %cx
        jne     .Lload_x87
.Lpop:
        /* 4. Restore the resumed context's registers, in reverse order. */
        addq    $8, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        /* 5. Continue the resumed context: its own green__ctx_swap call
         *    returns, or, the first time, green__ctx_boot starts.  We pop
         *    the return address and jump to it rather than `ret`: the CPU
         *    predicts a ret from the calls it has seen, and the call into
         *    this function was made by the *other* context, so a ret would
         *    be mispredicted on every switch (see tests/bench/README.md). */
        movq    %r8, %rax
        popq    %rdx
        jmpq    *%rdx

.Lload_mxcsr:
        /* Their control bits, our exception flags: %edx holds the bits
         * where theirs and ours differ.  Loading their flags would be
         * allowed, but an ldmxcsr that changes the flags makes the next
         * stmxcsr wait for all floating-point work in flight (tens of ns). */
        andl    $0xffffffc0, %edx
        xorl    %eax, %edx
        movl    %edx, (%rsp)
        ldmxcsr (%rsp)
        jmp     .Lcheck_x87
.Lload_x87:
        fldcw   4(%rsp)
        jmp     .Lpop
        SIZE(green__ctx_swap)

/*
 * The first code a new context runs: green_ctx_make() leaves the C function
 * to call in r12 and its argument in r13, the two registers green__ctx_swap
 * restores just before it returns here; the value handed over is in %rax.
 * That function never returns (it switches away for the last time), so a
 * return lands on ud2 and faults.  The .cfi lines tell debuggers (gdb,
 * and the kit's own green-gdb.py) that this is the bottom of the stack:
 * no return address above it, so a backtrace stops here instead of
 * printing a frame of garbage.
 */
        .globl  SYM(green__ctx_boot)
        TYPE(green__ctx_boot)
        .p2align 4
SYM(green__ctx_boot):
        .cfi_startproc
        .cfi_undefined rip
        movq    %r13, %rdi
        movq    %rax, %rsi
        callq   *%r12
        ud2
        .cfi_endproc
        SIZE(green__ctx_boot)

#ifdef __ELF__
        .section .note.GNU-stack, "", %progbits
#endif
