/*
 * backtrace.h - private, chapter 3: the frames of a greenlet that is not
 * running, walked from its saved context, and their names (backtrace.c).
 * green_dump (report.c) is its one user.
 *
 * Both calls are async-signal-safe: no malloc, no stdio, no lock of ours
 * (the SIGQUIT dump runs them in a signal handler), and bounded, so that a
 * corrupt stack ends the walk instead of the program.  Not thread-safe:
 * one dump at a time (report.c sees to it).
 */
#ifndef GREEN_BACKTRACE_H
#define GREEN_BACKTRACE_H

#include <stddef.h>
#include <stdint.h>

/* The deepest walk: a dump is for reading, and a runaway recursion would
 * otherwise print thousands of identical lines. */
#define GREEN_BT_MAX 24

/* Follow the frame pointers from (pc, fp), a context whose stack pointer
 * is sp, staying inside [sp, hi): store each frame's address in pcs[]
 * (pcs[0] = pc; pc NULL: start with fp's caller), at most `max`.
 * Returns how many.  Each next frame must
 * lie above the last and inside the stack, or the walk stops.  `stopped`:
 * a signal stopped the code at pc, perhaps in a function that keeps no
 * frame (a leaf: see backtrace.c). */
int green__backtrace(void *pc, void *fp, void *sp, const void *hi, int stopped,
                     void **pcs, int max);

/* Write "function+0x1c (file)" for code address pc into buf (len bytes,
 * always terminated).  `ret`: pc is a return address (every frame but a
 * signal's first), so the call is the byte before it.  Names come from the
 * object's ELF symbol table (static functions too), else "0x55d0c2a1b1c9
 * (file)". */
void green__symbolize(void *pc, int ret, char *buf, size_t len);

/* The digits of n in `base` (10 or 16), NUL-terminated, into out: a
 * printf that a signal handler may call.  Returns out. */
char *green__digits(uintptr_t n, unsigned base, char out[24]);

/* Close the files green__symbolize opened (it keeps a few, for the next
 * frames of the same dump). */
void green__symbolize_done(void);

#endif
