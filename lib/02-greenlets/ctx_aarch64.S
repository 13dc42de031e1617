/*
 * ctx_aarch64.S - the context switch for AArch64, AAPCS64 (Linux, macOS).
 *
 *     void *green__ctx_swap(void **save_sp, void *load_sp, void *value);
 *                          x0              x1             x2
 *
 * The same idea as ctx_x86_64.S with the registers AAPCS64 says a called
 * function must preserve:
 *
 *   x19-x28   callee-saved general registers
 *   x29       frame pointer
 *   x30       link register: the return address, which is where the saved
 *             context continues (AArch64 has no return address on the stack)
 *   d8-d15    the low 64 bits of v8-v15 (the rest of v8-v15 is caller-saved)
 *   sp        the stack pointer: it *is* the context
 *   FPCR      rounding mode and other floating point controls; as on
 *             x86-64, loading it is costly, so only when it differs
 *
 * The frame, 176 bytes (a multiple of 16, as sp must stay 16-byte aligned):
 *
 *     sp+0    x19 x20      sp+48   x25 x26      sp+96   d8  d9
 *     sp+16   x21 x22      sp+64   x27 x28      sp+112  d10 d11
 *     sp+32   x23 x24      sp+80   x29 x30      sp+128  d12 d13
 *                                               sp+144  d14 d15
 *                                               sp+160  FPCR, unused
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
        /* 1. Save the callee-saved registers on the current stack. */
        sub     sp, sp, #176
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
        mrs     x9, fpcr
        str     x9, [sp, #160]

        /* 2. The switch: remember where we are, go where we were. */
        mov     x10, sp
        str     x10, [x0]
        mov     sp, x1

        /* 3. Restore FPCR only if it differs from the current one (x9). */
        ldr     x10, [sp, #160]
        cmp     x9, x10
        b.eq    1f
        msr     fpcr, x10
1:
        /* 4. Restore the resumed context's registers. */
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
        add     sp, sp, #176
        mov     x0, x2          /* the resumed side's call returns value */
        /* 5. Continue at the resumed context's x30.  `br`, not `ret`: ret
         *    tells the CPU "return to my caller", and it predicts that from
         *    the calls it has seen, which were the *other* context's; a
         *    plain branch is predicted like any indirect jump. */
        br      x30
        SIZE(green__ctx_swap)

/*
 * The first code a new context runs: green_ctx_make() leaves the C function
 * to call in x19 and its argument in x20, and this address in x30; the
 * value handed over is in x0.  That function never returns; if it did,
 * brk traps.  The .cfi lines tell debuggers that this is the bottom of
 * the stack, so a backtrace stops here (ctx_x86_64.S says more).
 */
        .globl  SYM(green__ctx_boot)
        TYPE(green__ctx_boot)
        .p2align 4
SYM(green__ctx_boot):
        .cfi_startproc
        .cfi_undefined x30
        mov     x1, x0
        mov     x0, x20
        blr     x19
        brk     #0
        .cfi_endproc
        SIZE(green__ctx_boot)

#ifdef __ELF__
        .section .note.GNU-stack, "", %progbits
#endif
