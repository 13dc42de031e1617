/*
 * switch_aarch64.S - solution of exercise 02-greenlets/switch (ex_ctx_swap,
 * AArch64, AAPCS64).  See switch.h.
 *
 * void ex_ctx_swap(void **save_sp, void *load_sp)
 *   save_sp arrives in x0, load_sp in x1, the return address in x30.
 */
        .text
        .globl  ex_ctx_swap
        .type   ex_ctx_swap, %function
        .p2align 2
ex_ctx_swap:
        /* One 160-byte frame (a multiple of 16: sp must stay 16-byte
         * aligned) for the registers the callee must preserve: x19-x28,
         * the frame pointer x29, the link register x30 (our return
         * address: on AArch64 it is in a register, not on the stack), and
         * d8-d15, the low halves of v8-v15. */
        sub     sp, sp, #160
        stp     x19, x20, [sp, #0]
        stp     x21, x22, [sp, #16]
        stp     x23, x24, [sp, #32]
        stp     x25, x26, [sp, #48]
        stp     x27, x28, [sp, #64]
        stp     x29, x30, [sp, #80]
        stp     d8,  d9,  [sp, #96]
        stp     d10, d11, [sp, #112]
        stp     d12, d13, [sp, #128]
        stp     d14, d15, [sp, #144]

        /* str cannot take sp as its source: go through x9, a scratch
         * register the caller does not expect to survive the call. */
        mov     x9, sp
        str     x9, [x0]

        /* The switch itself: from here on we are on the other stack. */
        mov     sp, x1

        ldp     x19, x20, [sp, #0]
        ldp     x21, x22, [sp, #16]
        ldp     x23, x24, [sp, #32]
        ldp     x25, x26, [sp, #48]
        ldp     x27, x28, [sp, #64]
        ldp     x29, x30, [sp, #80]
        ldp     d8,  d9,  [sp, #96]
        ldp     d10, d11, [sp, #112]
        ldp     d12, d13, [sp, #128]
        ldp     d14, d15, [sp, #144]
        add     sp, sp, #160

        /* Jumps to the x30 just loaded: back into the other context's own
         * ex_ctx_swap call, or, the first time, into its entry. */
        ret
        .size   ex_ctx_swap, .-ex_ctx_swap

        /* This code does not need an executable stack. */
        .section .note.GNU-stack,"",%progbits
