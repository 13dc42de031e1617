/*
 * greenlet.h - chapter 2: stackful coroutines with explicit switch.
 *
 * A greenlet is a function running on a stack of its own.  Unlike a
 * generator (gen.h) it can stop anywhere, however deep in its calls, because
 * its whole call chain waits on its own stack until someone switches back.
 *
 * The rules are Python's greenlet module, in C:
 *   - green_switch(g, v) suspends the running greenlet and continues g.  The
 *     first switch into g starts g's function with v as its argument; later
 *     switches make g's own pending green_switch() call return v.
 *   - every greenlet has a parent (by default the greenlet that created it).
 *     When a greenlet's function returns, the greenlet is dead and its return
 *     value is switched to its parent: the parent's pending green_switch()
 *     returns it.  (A dead parent hands it on to its own parent.)
 *   - each thread starts inside an implicit "main" greenlet, which runs on
 *     the thread's own stack and cannot die.  It is made on the thread's
 *     first call here and freed when the thread ends (pthread_exit or a
 *     return from its start function), so a thread per task leaks nothing.
 *
 * There is no scheduler here: nothing runs unless someone switches to it.
 * The hub (hub.h) is a scheduler built on these calls.
 *
 * A greenlet that runs off the end of its stack hits the guard page; the
 * process then prints the greenlet's name and stack size and dies of SIGSEGV,
 * instead of corrupting memory silently.  Any other fatal signal in a
 * greenlet other than a main one (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT)
 * is reported the same way, with the greenlet's name, the signal and the
 * function it was running; then the signal's previous action (by default:
 * die, with a core dump) takes over, so the exit status is unchanged.
 */
#ifndef GREEN_GREENLET_H
#define GREEN_GREENLET_H

#include <stddef.h>

typedef struct green green_t;

/* What a greenlet runs: it receives the value of the first switch into it,
 * and what it returns goes to its parent. */
typedef void *(*green_fn_t)(void *arg);

/* Create a greenlet that will run fn, with the running greenlet as parent and
 * a stack of `stack_size` bytes (0: GREEN_STACK_DEFAULT).  It does not start
 * until someone switches to it.  Returns NULL with errno ENOMEM on failure. */
green_t *green_new(green_fn_t fn, size_t stack_size);

/* Suspend the running greenlet and continue g, handing it `value`.
 * Returns the value handed back by whoever next switches to us (or the
 * return value of a child that died with us as its parent).
 * Switching to a dead greenlet, or to a greenlet of another thread, is a
 * mistake: it prints why to stderr and returns NULL with errno ESRCH (it
 * is dead) or EPERM (another thread's: it would run on this thread).
 * So is switching to a greenlet parked on the hub (in green_sleep, a join,
 * a lock, any wait of hub.h and above): only the hub may resume it, when
 * what it waits for happens.  The call refuses: it prints both greenlets'
 * names and returns NULL with errno EPERM, and nothing else changes (the
 * parked greenlet waits on; the caller goes on).  Refusing at the switch,
 * rather than failing the parked greenlet's wait as gevent does (its
 * InvalidSwitchError), loses nobody: a switch that went through would
 * leave the caller suspended with nobody to resume it.
 * Python: greenlet's g.switch(v); gevent's invalid switch. */
void *green_switch(green_t *g, void *value);

/* The running greenlet (the thread's main greenlet if none was switched to). */
green_t *green_current(void);

/* g's parent, or NULL for a main greenlet. */
green_t *green_parent(green_t *g);

/* Make p the parent of g.  Returns 0, or -1 with errno EINVAL (g's parent
 * unchanged) if p is NULL, if p belongs to another thread (g's death would
 * switch into it: Python's greenlet raises ValueError), or if that would
 * make a cycle (p is g or one of g's children). */
int green_set_parent(green_t *g, green_t *p);

/* 1 when g has been started (switched to at least once, by green_switch or
 * by the death of a child whose parent g is), else 0. */
int green_started(const green_t *g);

/* 1 when g's function has returned (or the hub killed g before it started). */
int green_dead(const green_t *g);

/* What g's function returned; NULL while g is alive. */
void *green_result(const green_t *g);

/* Name g for messages (deadlock reports, stack overflows, green_dump()).
 * The name is copied; at most 31 characters are kept.  Greenlets start
 * named "greenlet-N"; each thread's main greenlet is named "main". */
void green_set_name(green_t *g, const char *name);
const char *green_name(const green_t *g);

/* The usable size of g's stack in bytes (0 for a main greenlet). */
size_t green_stack_size(const green_t *g);

/* Call fn(g) for every greenlet g that ends, in every thread: once its
 * function has returned, on g's own stack (g is still green_current(), not
 * yet dead, and its result not yet handed to its parent), or, for one freed
 * before its function returned, inside green_free(g), on the freeing
 * greenlet's stack.  Each greenlet ends once; a main greenlet never does.
 * Hooks run in the order they were registered and must not switch or wait:
 * g is on its way out.  Returns 0, or -1 with errno EAGAIN when all
 * GREEN_EXIT_HOOKS are taken.  Register at start-up, once per layer.
 * Why a hook: this layer comes first, and must not know who is built on
 * it; the hub (which wakes whoever joins g) and greenlet-local storage
 * (which destroys g's values) register here instead of being called by
 * name.  (gevent.local does the same with a weak reference to each
 * greenlet, whose callback runs when the greenlet goes away.) */
#define GREEN_EXIT_HOOKS 8
int green_on_exit(void (*fn)(green_t *g));

/* Free g and its stack.  g must not be running, and must not be used
 * afterwards.  Freeing a suspended greenlet abandons its call chain (no
 * cleanup runs): the hub's green_kill() is the clean way to stop one.
 * A greenlet that is still the parent of living greenlets keeps its small
 * record until the last of them dies (their results pass through it). */
void green_free(green_t *g);

#endif
