/*
 * dump.h - private, chapter 3: the process's list of hubs, for green_dump
 * and SIGQUIT (report.c), which print every greenlet of every hub.
 *
 * Each hub (hub.c) holds one green__hub_view and registers it when it is
 * created; green_hub_destroy unregisters it before freeing anything.  The
 * list is a fixed array of atomic pointers: a signal handler and another
 * thread may read it at any time, without a lock (a signal handler may
 * not take one: the thread it interrupted may hold it).
 */
#ifndef GREEN_DUMP_H
#define GREEN_DUMP_H

#include "internal.h"

#include <stdatomic.h>
#include <sys/types.h>

/* More hubs than this are not listed (each is said once, on stderr). */
#define GREEN_HUBS_MAX 64

struct green__hub_view {
    /* Filled by hub.c before it registers: */
    green_t *hub;               /* the hub greenlet */
    green_t *const *all;        /* its list of greenlets (sched.all_next) */
    /* Filled by green__dump_register, on the hub's thread: */
    pid_t tid;                  /* the thread, for tgkill */
    const char *stack_top;      /* where its main greenlet's frames end */
    /* A dump's hand-shake with the thread (report.c): */
    atomic_uint stop_asked;     /* the dump that asked it to stop, or 0 */
    atomic_uint stopped;        /* the dump it stopped for, or 0 */
    green_t *running;           /* ...its greenlet when it stopped */
    const void *uc;             /* ...and the registers the signal saved */
    void *fp;                   /* or, without a signal, the frame of the
                                   green_dump call (its caller comes next) */
};

/* On the hub's thread, when the hub is created, and first of all in
 * green_hub_destroy (it waits for a dump in progress to finish). */
void green__dump_register(struct green__hub_view *v);
void green__dump_unregister(struct green__hub_view *v);

/* Dump only the hub of thread `tid` (the blocking detector's: monitor.c)
 * to fd, stopping that thread with SIGQUIT if our handler has it.  0, or
 * -1 with errno EBUSY (another dump is in progress). */
int green__dump_thread(pid_t tid, int fd);

/* Once per process, with the first hub: SIGQUIT dumps every greenlet,
 * unless the program has its own handler for it (it is left alone). */
void green__dump_install(void);

#endif
