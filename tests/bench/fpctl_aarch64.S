/*
 * fpctl_aarch64.S - the yardstick switch plus the floating-point control
 * register, kept in two ways, to price what correctness costs.
 *
 *     void bench_swap_reload(void **save, void *to);
 *     void bench_swap_cmp(void **save, void *to);
 *     void bench_swap_save(void **save, void *to);
 *
 * AAPCS64 makes the modes in FPCR (rounding mode, flush-to-zero, default
 * NaN) part of what a call preserves.  A switch looks like a call to the
 * coroutine that makes it, so each coroutine must find the modes it left
 * with: one coroutine's fesetround() must not leak into the others.
 *
 * Reading FPCR is cheap; writing it can stall the floating-point pipeline.
 *   bench_swap_reload  saves FPCR and writes it back on every switch;
 *   bench_swap_cmp     saves it, compares with what the other side saved,
 *                      and writes only when they differ (almost never);
 *   bench_swap_save    saves it and never writes it back: wrong, and the
 *                      floor the other two add their write or compare to.
 *
 * The frame is the one of baseline_aarch64.S with one more slot at the bottom:
 *
 *     sp ->  FPCR  (unused)  x19 x20 ... x28  x29  x30
 */

    .text

    .globl bench_swap_reload
    .type bench_swap_reload, %function
bench_swap_reload:
    sub sp, sp, #112
    stp x19, x20, [sp, #16]
    stp x21, x22, [sp, #32]
    stp x23, x24, [sp, #48]
    stp x25, x26, [sp, #64]
    stp x27, x28, [sp, #80]
    stp x29, x30, [sp, #96]
    mrs x9, fpcr            /* our modes */
    str x9, [sp]
    mov x10, sp
    str x10, [x0]
    mov sp, x1
    ldr x9, [sp]            /* theirs, always */
    msr fpcr, x9
    ldp x19, x20, [sp, #16]
    ldp x21, x22, [sp, #32]
    ldp x23, x24, [sp, #48]
    ldp x25, x26, [sp, #64]
    ldp x27, x28, [sp, #80]
    ldp x29, x30, [sp, #96]
    add sp, sp, #112
    br x30
    .size bench_swap_reload, .-bench_swap_reload

    .globl bench_swap_cmp
    .type bench_swap_cmp, %function
bench_swap_cmp:
    sub sp, sp, #112
    stp x19, x20, [sp, #16]
    stp x21, x22, [sp, #32]
    stp x23, x24, [sp, #48]
    stp x25, x26, [sp, #64]
    stp x27, x28, [sp, #80]
    stp x29, x30, [sp, #96]
    mrs x9, fpcr            /* ours stays in x9 across the switch */
    str x9, [sp]
    mov x10, sp
    str x10, [x0]
    mov sp, x1
    ldr x10, [sp]           /* theirs */
    cmp x9, x10
    b.ne 1f                 /* differ: the rare case, out of line */
2:  ldp x19, x20, [sp, #16]
    ldp x21, x22, [sp, #32]
    ldp x23, x24, [sp, #48]
    ldp x25, x26, [sp, #64]
    ldp x27, x28, [sp, #80]
    ldp x29, x30, [sp, #96]
    add sp, sp, #112
    br x30
1:  msr fpcr, x10
    b 2b
    .size bench_swap_cmp, .-bench_swap_cmp

    .globl bench_swap_save
    .type bench_swap_save, %function
bench_swap_save:
    sub sp, sp, #112
    stp x19, x20, [sp, #16]
    stp x21, x22, [sp, #32]
    stp x23, x24, [sp, #48]
    stp x25, x26, [sp, #64]
    stp x27, x28, [sp, #80]
    stp x29, x30, [sp, #96]
    mrs x9, fpcr
    str x9, [sp]
    mov x10, sp
    str x10, [x0]
    mov sp, x1
    ldp x19, x20, [sp, #16]
    ldp x21, x22, [sp, #32]
    ldp x23, x24, [sp, #48]
    ldp x25, x26, [sp, #64]
    ldp x27, x28, [sp, #80]
    ldp x29, x30, [sp, #96]
    add sp, sp, #112
    br x30
    .size bench_swap_save, .-bench_swap_save

    .section .note.GNU-stack,"",%progbits
