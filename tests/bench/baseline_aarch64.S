/*
 * baseline_aarch64.S - the cheapest stack switch there is: the yardstick.
 *
 *     void bench_swap_bare(void **save, void *to);
 *     void bench_swap_bare_ret(void **save, void *to);
 *
 * Both park the running code on its own stack, store the stack pointer in
 * *save, and resume whatever parked itself at `to`.  They keep only the
 * general registers AAPCS64 makes a callee preserve: x19-x28, the frame
 * pointer x29, the link register x30 (where to go back to), and sp.
 *
 * What they leave out on purpose: d8-d15 (callee-saved too) and the FPCR
 * modes.  That makes them incorrect for code that keeps floating-point values
 * or modes across a switch, and exactly right as a floor: no correct switch
 * can be cheaper.  fpctl_aarch64.S prices the FPCR.
 *
 * The frame a parked coroutine leaves on its stack (lowest address first),
 * which switch.c builds by hand to start a coroutine:
 *
 *     sp ->  x19 x20 ... x28  x29  x30 (= where to continue)
 */

    .text

/* The yardstick: leave with `br x30`, a plain indirect branch, predicted by
 * the branch target buffer, which learns that this one instruction
 * alternates between two places.  (Where BTI is enforced, a `br` may only
 * land on a `bti` instruction, which a return address is not: there a
 * switch has to leave with `ret` and pay for it.) */
    .globl bench_swap_bare
    .type bench_swap_bare, %function
bench_swap_bare:
    sub sp, sp, #96
    stp x19, x20, [sp, #0]
    stp x21, x22, [sp, #16]
    stp x23, x24, [sp, #32]
    stp x25, x26, [sp, #48]
    stp x27, x28, [sp, #64]
    stp x29, x30, [sp, #80]
    mov x9, sp
    str x9, [x0]            /* we are parked: remember where */
    mov sp, x1              /* from here on we run on the other stack */
    ldp x19, x20, [sp, #0]
    ldp x21, x22, [sp, #16]
    ldp x23, x24, [sp, #32]
    ldp x25, x26, [sp, #48]
    ldp x27, x28, [sp, #64]
    ldp x29, x30, [sp, #80]
    add sp, sp, #96
    br x30
    .size bench_swap_bare, .-bench_swap_bare

/* The same switch leaving with `ret`, which the CPU predicts from its return
 * stack: the address of the matching `bl`.  That `bl` was made by this
 * coroutine and the ret goes into the other one, so the prediction is wrong
 * on every switch.  The difference is the price of that misprediction. */
    .globl bench_swap_bare_ret
    .type bench_swap_bare_ret, %function
bench_swap_bare_ret:
    sub sp, sp, #96
    stp x19, x20, [sp, #0]
    stp x21, x22, [sp, #16]
    stp x23, x24, [sp, #32]
    stp x25, x26, [sp, #48]
    stp x27, x28, [sp, #64]
    stp x29, x30, [sp, #80]
    mov x9, sp
    str x9, [x0]
    mov sp, x1
    ldp x19, x20, [sp, #0]
    ldp x21, x22, [sp, #16]
    ldp x23, x24, [sp, #32]
    ldp x25, x26, [sp, #48]
    ldp x27, x28, [sp, #64]
    ldp x29, x30, [sp, #80]
    add sp, sp, #96
    ret
    .size bench_swap_bare_ret, .-bench_swap_bare_ret

    .section .note.GNU-stack,"",%progbits
