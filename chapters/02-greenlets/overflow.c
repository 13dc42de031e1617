/*
 * overflow.c - a greenlet recurses without end on a small stack.
 *
 * Below every greenlet stack lies a guard page that may not be touched.
 * The first push past the bottom of the stack touches it, and the fault
 * stops the program right there, instead of letting the greenlet overwrite
 * whatever memory lies below (another greenlet's stack, perhaps, and the
 * bug would show up much later, somewhere else).  The library recognises
 * the fault address as a guard page, says which greenlet overflowed, and
 * lets the process die of SIGSEGV as it would have anyway.
 */
#include <stdint.h>
#include <stdio.h>

#include "green.h"

static volatile long limit = 1000000;   /* never reached; keeps the compiler honest */
static uintptr_t stack_start;

static long dig(long depth)
{
    volatile char frame[200];           /* a couple of hundred bytes per call */
    frame[0] = (char)depth;
    if (depth % 16 == 0)
        printf("depth %3ld: %5lu bytes of stack used\n", depth,
               (unsigned long)(stack_start - (uintptr_t)frame));
    if (depth == limit)
        return 0;
    return dig(depth + 1) + frame[0];   /* not a tail call: each call keeps its frame */
}

static void *digger(void *arg)
{
    (void)arg;
    stack_start = (uintptr_t)__builtin_frame_address(0);
    return (void *)dig(0);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);   /* the last lines survive the crash */

    green_t *g = green_new(digger, 16 * 1024);
    green_set_name(g, "digger");
    printf("'%s' has a %zu-byte stack; digging...\n", green_name(g), green_stack_size(g));
    green_switch(g, NULL);
    printf("not reached\n");
    return 0;
}
