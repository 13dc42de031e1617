/*
 * baseline_x86_64.S - the cheapest stack switch there is: the yardstick.
 *
 *     void bench_swap_bare(void **save, void *to);
 *     void bench_swap_bare_ret(void **save, void *to);
 *
 * Both park the running code on its own stack, store the stack pointer in
 * *save, and resume whatever parked itself at `to`.  They keep only what
 * the System V ABI makes a callee preserve among the general registers:
 * rbx, rbp, r12-r15 and rsp.  Everything else is caller-saved, so the C code
 * that called us has already given up on it.
 *
 * What they leave out on purpose: the MXCSR control bits and the x87 control
 * word, which the ABI also makes callee-saved.  That makes them incorrect for
 * a program that changes a rounding mode in one coroutine, and exactly right
 * as a floor: no correct switch can be cheaper.  fpctl_x86_64.S adds the
 * control words back, in two ways, to price them.
 *
 * The frame a parked coroutine leaves on its stack (lowest address first),
 * which switch.c builds by hand to start a coroutine:
 *
 *     sp ->  r15 r14 r13 r12 rbx rbp  return-address
 */

    .text

/* The yardstick: leave by jumping to the return address we popped.
 * An indirect `jmp` is predicted by the branch target buffer, which learns
 * that this one instruction alternates between two places. */
    .globl bench_swap_bare
    .type bench_swap_bare, @function
bench_swap_bare:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)       /* we are parked: remember where */
    movq %rsi, %rsp         /* from here on we run on the other stack */
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    popq %rcx               /* where the other side called us from */
    jmpq *%rcx
    .size bench_swap_bare, .-bench_swap_bare

/* The same switch leaving with `ret`.  The CPU predicts a `ret` from its
 * return stack buffer: the address pushed by the matching `call`.  But the
 * call came from this coroutine and the ret goes back into the other one,
 * so the prediction is wrong on every switch and the pipeline restarts.
 * The difference between the two is the price of that misprediction. */
    .globl bench_swap_bare_ret
    .type bench_swap_bare_ret, @function
bench_swap_bare_ret:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size bench_swap_bare_ret, .-bench_swap_bare_ret

    .section .note.GNU-stack,"",@progbits
