/*
 * fpctl_x86_64.S - the yardstick switch plus the floating-point control
 * words, kept in two ways, to price what correctness costs.
 *
 *     void bench_swap_reload(void **save, void *to);
 *     void bench_swap_cmp(void **save, void *to);
 *     void bench_swap_keep(void **save, void *to);
 *     void bench_swap_save(void **save, void *to);
 *
 * The System V ABI makes a callee preserve two pieces of floating-point
 * state besides the registers: the control bits of MXCSR (SSE rounding mode,
 * flush-to-zero, denormals-are-zero, exception masks) and the x87 control
 * word (x87 rounding and precision, exception masks).  A switch looks like a
 * call to the coroutine that makes it, so it must hand each coroutine back
 * the modes it left with: if one coroutine sets "round down" with fesetround()
 * and switches away, the others must not start rounding down, and it must
 * find "round down" again when it comes back.
 *
 * Saving them is cheap (two stores), and so is loading a value that does not
 * change anything.  But MXCSR also holds the sticky exception flags (bits
 * 0-5, caller-saved: no need to keep them), and an ldmxcsr that changes the
 * flags makes the next stmxcsr wait for the floating-point work in flight:
 * tens of nanoseconds per switch on the build machines.  In a real program
 * the flags of two greenlets differ whenever one of them has done an inexact
 * division and the other has not.  The ways to keep the modes:
 *
 *   bench_swap_reload  saves both and loads both on every switch, flags
 *                      and all (simple; what boost.context's jump_fcontext
 *                      does);
 *   bench_swap_keep    the same, but loads their control bits with our
 *                      flags, so that the load never changes a flag: the
 *                      safe "always reload", still without a branch;
 *   bench_swap_cmp     saves both, compares with what the other side saved,
 *                      and loads only when a control bit differs, which is
 *                      almost never: the branch is predicted and the loads
 *                      are skipped.  Same guarantee, and it never changes
 *                      the exception flags (see below).  What
 *                      lib/02-greenlets/ctx_x86_64.S does: the cheaper of the
 *                      two on Intel, not on the AMD EPYC of issue 9
 *                      (chapter 2, "Always reload, or reload if changed?
 *                      Measured");
 *   bench_swap_save    saves both and never loads them: wrong, and the floor
 *                      that the others add a load or a compare to.
 *
 * The frame is the one of baseline_x86_64.S with one more slot at the bottom:
 *
 *     sp ->  [MXCSR: 4 bytes][x87 control word: 2][unused: 2]
 *            r15 r14 r13 r12 rbx rbp  return-address
 */

    .text

    .globl bench_swap_reload
    .type bench_swap_reload, @function
bench_swap_reload:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)          /* our SSE modes */
    fnstcw 4(%rsp)          /* our x87 modes */
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)          /* theirs, always */
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    popq %rcx
    jmpq *%rcx
    .size bench_swap_reload, .-bench_swap_reload

/* Saved, never loaded: wrong (a rounding mode leaks from one coroutine to
 * the next), and a floor for the other two.  Against the bare swap it
 * prices the two stores; the others against it price what they add, a
 * load or a compare. */
    .globl bench_swap_save
    .type bench_swap_save, @function
bench_swap_save:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    popq %rcx
    jmpq *%rcx
    .size bench_swap_save, .-bench_swap_save

/* Always reloaded, but with our own exception flags: their control bits,
 * the flags as they are now, so that the load never changes a flag (see
 * bench_swap_cmp's rare case, below, for why that matters).  No branch,
 * but it must read back what stmxcsr just stored, as the compare does. */
    .globl bench_swap_keep
    .type bench_swap_keep, @function
bench_swap_keep:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movl (%rsp), %eax       /* our flags cross the switch in %eax */
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    andl $0x3f, %eax        /* our flags... */
    movl (%rsp), %ecx
    andl $0xffffffc0, %ecx  /* ...their control bits */
    orl %eax, %ecx
    movl %ecx, (%rsp)
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    popq %rcx
    jmpq *%rcx
    .size bench_swap_keep, .-bench_swap_keep

    .globl bench_swap_cmp
    .type bench_swap_cmp, @function
bench_swap_cmp:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movl (%rsp), %eax       /* keep ours in scratch registers: they cross */
    movzwl 4(%rsp), %edx    /* the stack switch untouched */
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    movl (%rsp), %ecx
    xorl %eax, %ecx         /* the MXCSR bits where we and they differ */
    testl $0xffc0, %ecx     /* bits 0-5 are status flags, caller-saved: */
    jnz 1f                  /* only a control bit forces a load */
2:  cmpw 4(%rsp), %dx
    jne 3f
4:  addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    popq %rcx
    jmpq *%rcx

/* The rare cases, out of the straight line.  MXCSR: their control bits with
 * the flags as they are now.  Loading their flags too would be allowed, but
 * changing the flags with ldmxcsr makes the next stmxcsr wait (tens of ns
 * on the build machines): see README.md. */
1:  andl $0xffffffc0, %ecx  /* their control bits where they differ... */
    xorl %eax, %ecx         /* ...applied to ours, flags included */
    movl %ecx, (%rsp)
    ldmxcsr (%rsp)
    jmp 2b
3:  fldcw 4(%rsp)           /* the x87 control word holds no flags */
    jmp 4b
    .size bench_swap_cmp, .-bench_swap_cmp

    .section .note.GNU-stack,"",@progbits
