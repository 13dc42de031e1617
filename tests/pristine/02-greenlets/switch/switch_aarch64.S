/*
 * switch_aarch64.S - exercise 02-greenlets/switch (ex_ctx_swap,
 * AArch64, AAPCS64).  Read switch.h first.
 *
 * void ex_ctx_swap(void **save_sp, void *load_sp)
 *   save_sp arrives in x0, load_sp in x1, the return address in x30.
 */
        .text
        .globl  ex_ctx_swap
        .type   ex_ctx_swap, %function
        .p2align 2
ex_ctx_swap:
        /* TODO: make a 160-byte frame, store x19-x30 and d8-d15 into it
         * with stp (layout: see switch.h), store sp into *save_sp (through
         * a scratch register), load load_sp into sp, load the registers
         * back with ldp, drop the frame.  The `ret` below then jumps to the
         * x30 you loaded.  Until then this returns at once: nothing switches. */
        ret
        .size   ex_ctx_swap, .-ex_ctx_swap

        /* This code does not need an executable stack. */
        .section .note.GNU-stack,"",%progbits
