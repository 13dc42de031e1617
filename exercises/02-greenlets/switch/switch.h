/*
 * switch.h - exercise 02-greenlets/switch: write the context switch yourself.
 *
 * Everything in chapter 2 rests on one small function: save the registers
 * a function call promises to preserve, remember the stack pointer, load
 * another stack pointer, restore that stack's registers, return.  The
 * "return" then lands wherever the *other* stack was when it left.  Here
 * you write that function (in assembly) and the function that prepares a
 * fresh stack so that the first switch into it starts a function (in C).
 * This is the uthread lab of MIT's xv6 course, for user space.
 *
 * lib/02-greenlets/ctx_x86_64.S and lib/02-greenlets/ctx_aarch64.S do the same
 * job, plus the floating-point control state, which you do not need here.
 *
 * Files to fill in (search for TODO):
 *   switch_x86_64.S   ex_ctx_swap for x86-64 (built only on x86-64)
 *   switch_aarch64.S  ex_ctx_swap for AArch64 (built only on AArch64)
 *   make.c            ex_ctx_make, for both (one #if per machine)
 * Only your machine's .S file is built and tested; `uname -m` tells you
 * which one that is.
 *
 * Lesson: chapters/02-greenlets/README.md, "Two stacks and a switch",
 *         "The switch in x86-64 assembly, line by line",
 *         "The same on AArch64", then "Exercise: switch".
 * Tests:  tests/exercises/02-greenlets/switch.c
 * Run:    make grade E=switch
 * Stuck?  make hint E=switch (one more hint each time you ask)
 */
#ifndef EX_SWITCH_H
#define EX_SWITCH_H

/*
 * ex_ctx_swap(save_sp, load_sp): leave the running context, continue another.
 *
 *   1. save the callee-saved registers on the current stack (push them);
 *   2. store the stack pointer into *save_sp: that one pointer is now all
 *      anyone needs to come back here;
 *   3. load load_sp into the stack pointer: we are on the other stack;
 *   4. restore that stack's callee-saved registers (pop them, in the
 *      reverse order of step 1) and return: the return address on top of
 *      the other stack is where its own ex_ctx_swap call was made (or, on
 *      a fresh stack, the entry that ex_ctx_make put there).
 *
 * The call returns when some other context swaps back to *save_sp.
 *
 * Which registers?  Exactly the ones the calling convention says a callee
 * must preserve; the caller of ex_ctx_swap already assumes every other
 * register is clobbered by the call, so saving those would be wasted work.
 *
 *   x86-64 (System V ABI): rbx, rbp, r12, r13, r14, r15, and rsp itself.
 *     Arguments arrive in rdi (save_sp) and rsi (load_sp).  The return
 *     address is already on the stack (the `call` pushed it), so `ret`
 *     after the pops does step 4's "return".  Push in this order, so that
 *     ex_ctx_make (below) can build the same frame by hand:
 *         push rbp, rbx, r12, r13, r14, r15     (r15 ends up lowest)
 *
 *   AArch64 (AAPCS64): x19-x28, x29 (frame pointer), x30 (link register:
 *     the return address lives in a register here, not on the stack),
 *     d8-d15 (the low 64 bits of v8-v15), and sp.  Arguments arrive in x0
 *     (save_sp) and x1 (load_sp).  sp must stay 16-byte aligned, so save
 *     the 20 registers in one 160-byte frame with stp (store pair):
 *         [sp,  #0] x19 x20   [sp, #16] x21 x22   [sp, #32] x23 x24
 *         [sp, #48] x25 x26   [sp, #64] x27 x28   [sp, #80] x29 x30
 *         [sp, #96] d8  d9    [sp,#112] d10 d11   [sp,#128] d12 d13
 *         [sp,#144] d14 d15
 *     sp cannot be stored directly: `mov x9, sp` first (x9 is a scratch
 *     register the caller does not expect to survive).  `ret` jumps to x30,
 *     so the x30 you load from the other frame decides where you land.
 *
 * Not needed here (the library does it): the floating-point control
 * registers (MXCSR and the x87 control word; FPCR on AArch64), see the
 * README's "Floating-point control state".  The library also ends with
 * "pop the return address, jump to it" (x86-64) or `br x30` (AArch64)
 * instead of `ret`, which is faster (the README says why); a plain `ret`
 * is correct, and is what the tests expect you to start with.
 */
void ex_ctx_swap(void **save_sp, void *load_sp);

/*
 * ex_ctx_make(stack_top, entry): prepare a fresh stack.
 *
 * stack_top is one past the highest usable byte of a stack (stacks grow
 * down).  Write, just below it, a frame that looks exactly like the one
 * ex_ctx_swap leaves behind when it saves a context, and return the address
 * of its lowest word: the stack pointer that ex_ctx_swap will load.  The
 * first ex_ctx_swap(&somewhere, that_pointer) then pops your (zeroed)
 * registers and "returns" into entry.
 *
 *   x86-64:  first round stack_top down to a multiple of 16.  Then, going
 *     down: a zero word where entry's own return address would be (entry
 *     never returns, and a zero makes a backtrace stop there), the address
 *     of entry (the `ret` in ex_ctx_swap pops it), and six zero words for
 *     rbp rbx r12 r13 r14 r15.  The ABI wants (rsp + 8) to be a multiple of
 *     16 when a function starts, as if a `call` had just pushed a return
 *     address: check that your layout gives exactly that.
 *
 *   AArch64: round stack_top down to a multiple of 16, reserve the
 *     160-byte frame below it, zero it, and put entry in the x30 slot.  sp
 *     is 16-byte aligned at entry because the frame size is a multiple of 16.
 *
 * entry must never return (there is nothing to return to): it ends by
 * swapping to another context, for good.
 *
 * Hint: treat the stack as an array of uintptr_t and fill it from the top
 * with *--sp = value; a function pointer converts to uintptr_t with a cast.
 */
void *ex_ctx_make(void *stack_top, void (*entry)(void));

#endif
