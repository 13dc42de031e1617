/*
 * switch_x86_64.S - solution of exercise 02-greenlets/switch (ex_ctx_swap,
 * x86-64, System V).  See switch.h.
 *
 * void ex_ctx_swap(void **save_sp, void *load_sp)
 *   save_sp arrives in %rdi, load_sp in %rsi; the `call` that brought us
 *   here left the return address on top of the stack.
 */
        .text
        .globl  ex_ctx_swap
        .type   ex_ctx_swap, @function
ex_ctx_swap:
        /* The ABI lets the caller keep values in these six registers across
         * any call, so they must come back unchanged, even though another
         * context will run in between.  Everything else is the caller's
         * to lose. */
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15

        /* The registers and the return address now sit on our stack, so
         * the stack pointer alone describes this context. */
        movq    %rsp, (%rdi)

        /* The switch itself: from here on we are on the other stack. */
        movq    %rsi, %rsp

        /* Its registers, in the reverse order of the pushes above (or of
         * the frame ex_ctx_make built by hand). */
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp

        /* Pops the other context's return address: back into its own
         * ex_ctx_swap call, or, the first time, into its entry. */
        ret
        .size   ex_ctx_swap, .-ex_ctx_swap

        /* This code does not need an executable stack. */
        .section .note.GNU-stack,"",@progbits
