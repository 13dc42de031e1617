/*
 * switch_x86_64.S - exercise 02-greenlets/switch (ex_ctx_swap,
 * x86-64, System V).  Read switch.h first.
 *
 * void ex_ctx_swap(void **save_sp, void *load_sp)
 *   save_sp arrives in %rdi, load_sp in %rsi.
 */
        .text
        .globl  ex_ctx_swap
        .type   ex_ctx_swap, @function
ex_ctx_swap:
        /* TODO: push the six callee-saved registers (order: see switch.h),
         * store %rsp into *save_sp, load load_sp into %rsp, pop the six
         * registers in reverse order.  The `ret` below then returns on the
         * other stack.  Until then this returns at once: nothing switches. */
        ret
        .size   ex_ctx_swap, .-ex_ctx_swap

        /* This code does not need an executable stack. */
        .section .note.GNU-stack,"",@progbits
