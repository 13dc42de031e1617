/*
 * sync.h - chapter 6: synchronization between greenlets.
 *
 * Greenlets are never preempted, but they still interleave: every time one
 * waits (sleeps, reads a socket, joins), the others run, and anything it
 * read before the wait may have changed after it.  These objects are how
 * greenlets wait for *each other*, the way hub.h lets them wait for time
 * and file descriptors.  They are gevent's (gevent.event, gevent.queue,
 * gevent.lock, gevent.local), in C:
 *
 *   green_event_t   a flag that greenlets wait for        Event
 *   green_async_t   a value or an error, delivered once   AsyncResult
 *   green_queue_t   items passed in order, maybe bounded  Queue
 *   green_sem_t     a counter of permits                  Semaphore
 *   green_lock_t    one permit: mutual exclusion          BoundedSemaphore(1)
 *   green_local_*   a value per greenlet                  local
 *
 * Each is built on the hub's pattern (hub.h, bottom part): a waiting
 * greenlet puts a node on the object's list of waiters, parks with
 * green_hub_wait(), and whoever changes the object readies it.
 *
 * Fairness.  Waiters are served strictly first come, first served.  What a
 * waiter waited for (an item, a free slot, a permit) is handed to it
 * directly when it is woken, so a greenlet that arrives later, while the
 * woken one is still in the ready queue, cannot take it first.
 *
 * Errors, C style, as in hub.h.  Every call that waits returns 0, or -1
 * with errno:
 *   ETIMEDOUT  the timeout ran out first.  A timeout of 0 never waits: the
 *              call succeeds at once or fails (Python's block=False);
 *   ECANCELED  the waiting greenlet was killed (green_kill);
 *   EDEADLK    nothing could ever wake the caller (hub.h's deadlock).
 * A wait that fails leaves the object as if it had never been called: the
 * waiter is off the list, nothing was taken.  A wait that was served (an
 * item handed over, say) succeeds even if a timeout or a kill arrives
 * before the waiter runs again: the item is not lost, and the killed
 * greenlet's next wait fails.  Timeouts are in seconds; GREEN_FOREVER
 * (any negative value) never expires.
 *
 * Objects belong to one thread's hub.  None of them may be freed while a
 * greenlet waits on it (the library says so on stderr and aborts).
 */
#ifndef GREEN_SYNC_H
#define GREEN_SYNC_H

#include <stddef.h>

#include "hub.h"

/* ---- Event: a flag to wait for ----------------------------------------- */

typedef struct green_event green_event_t;

/* A new event, not set.  NULL with errno ENOMEM on failure.
 * Python: gevent.event.Event(). */
green_event_t *green_event_new(void);
void green_event_free(green_event_t *e);

/* Set the flag and wake every greenlet waiting for it, in the order they
 * began to wait.  Later waits return at once until green_event_clear().
 * Python: e.set(). */
void green_event_set(green_event_t *e);

/* Reset the flag: later waits wait again.  Greenlets already woken by
 * green_event_set() still return 0.  Python: e.clear(). */
void green_event_clear(green_event_t *e);

/* 1 when the flag is set, else 0.  Python: e.is_set(). */
int green_event_is_set(const green_event_t *e);

/* Wait until the flag is set, at most `timeout` seconds.  Returns 0, or -1
 * with errno ETIMEDOUT, ECANCELED or EDEADLK.  If the flag is set already
 * it returns at once, except while greenlets that green_event_set() woke
 * have not run yet: then it yields once, so that they run first (gevent's
 * order; a timeout of 0 never yields).  Python: e.wait(timeout). */
int green_event_wait(green_event_t *e, double timeout);

/* ---- AsyncResult: one value, or one error, for whoever asks ------------ */

typedef struct green_async green_async_t;

/* A new result, not ready.  NULL with errno ENOMEM on failure.
 * Python: gevent.event.AsyncResult(). */
green_async_t *green_async_new(void);
void green_async_free(green_async_t *a);

/* Make the result ready with `value` and wake every greenlet waiting in
 * green_async_get().  Setting it again replaces the value (as in gevent).
 * Python: a.set(value). */
void green_async_set(green_async_t *a, void *value);

/* Make the result ready with an error instead: green_async_get() will
 * return -1 with errno `error` (a positive errno value, e.g. EHOSTUNREACH).
 * Python: a.set_exception(e). */
void green_async_set_error(green_async_t *a, int error);

/* 1 when a value or an error has been set, else 0.  Python: a.ready(). */
int green_async_ready(const green_async_t *a);

/* Wait until the result is ready, at most `timeout` seconds.  Returns 0 and
 * stores the value in *value (when value is not NULL), or -1 with errno =
 * the error given to green_async_set_error(), or ETIMEDOUT, ECANCELED,
 * EDEADLK (green_async_ready() tells a set error from a failed wait).
 * Python: a.get(timeout=timeout). */
int green_async_get(green_async_t *a, void **value, double timeout);

/* ---- Queue: items in order, between greenlets -------------------------- */

typedef struct green_queue green_queue_t;

/* A new, empty queue holding at most `maxsize` items; 0 means no limit.
 * NULL with errno ENOMEM on failure.  Python: gevent.queue.Queue(maxsize). */
green_queue_t *green_queue_new(size_t maxsize);
void green_queue_free(green_queue_t *q);

/* Add `item` (any pointer, NULL too) at the end.  While the queue is full,
 * wait at most `timeout` seconds for a slot.  If greenlets wait in
 * green_queue_get(), the item goes straight to the first of them.
 * Returns 0, or -1 with errno ETIMEDOUT, ECANCELED, EDEADLK, or ENOMEM (an
 * unbounded queue could not grow).  Python: q.put(item, timeout=timeout). */
int green_queue_put(green_queue_t *q, void *item, double timeout);

/* Take the first item into *item.  While the queue is empty, wait at most
 * `timeout` seconds for one.  Returns 0, or -1 with errno ETIMEDOUT,
 * ECANCELED or EDEADLK (*item is then left alone).
 * Python: item = q.get(timeout=timeout). */
int green_queue_get(green_queue_t *q, void **item, double timeout);

/* How many items the queue holds now.  Python: q.qsize(). */
size_t green_queue_len(const green_queue_t *q);

/* ---- Semaphore and Lock -------------------------------------------------- */

typedef struct green_sem green_sem_t;

/* A semaphore holding `value` permits.  NULL with errno ENOMEM on failure.
 * Python: gevent.lock.Semaphore(value). */
green_sem_t *green_sem_new(unsigned value);
void green_sem_free(green_sem_t *s);

/* Take a permit, waiting at most `timeout` seconds while there is none.
 * Returns 0, or -1 with errno ETIMEDOUT, ECANCELED or EDEADLK.
 * Python: s.acquire(timeout=timeout). */
int green_sem_acquire(green_sem_t *s, double timeout);

/* Give a permit back: to the first waiter if there is one, else to the
 * count.  Python: s.release(). */
void green_sem_release(green_sem_t *s);

/* Permits available now (0 while greenlets wait).  Python: s.counter. */
unsigned green_sem_value(const green_sem_t *s);

typedef struct green_lock green_lock_t;

/* A lock: a semaphore with one permit that cannot be released twice.  It
 * does not remember who holds it: any greenlet may release it, as with
 * Python's threading.Lock.  NULL with errno ENOMEM on failure.
 * Python: gevent.lock.BoundedSemaphore(1), which is what gevent's
 * monkey-patching makes of threading.Lock(). */
green_lock_t *green_lock_new(void);
void green_lock_free(green_lock_t *l);

/* Lock it, waiting at most `timeout` seconds while another holds it.
 * Returns 0, or -1 with errno ETIMEDOUT, ECANCELED or EDEADLK.  A greenlet
 * that locks a lock it already holds waits for ever (EDEADLK if nothing
 * else can run).  Python: l.acquire(timeout=timeout). */
int green_lock_acquire(green_lock_t *l, double timeout);

/* Unlock it, handing it to the first waiter if there is one.  Returns 0,
 * or -1 with errno EPERM when it is not locked.  Python: l.release(). */
int green_lock_release(green_lock_t *l);

/* 1 when locked, else 0.  Python: l.locked(). */
int green_lock_locked(const green_lock_t *l);

/* ---- Greenlet-local storage ---------------------------------------------- */

/* Make a key: a slot that every greenlet has its own value for (NULL until
 * it sets one), like pthread_key_create.  When a greenlet's function
 * returns, `destructor` (if not NULL) is called with each non-NULL value
 * it left under the key, on that greenlet; a destructor must not wait.  A
 * greenlet freed before its function returned has its values destroyed by
 * green_free(); the main greenlet's values are never destroyed.
 * Keys are shared by all threads and never deleted; make them at start-up,
 * before several threads use the library (green_local_new is not
 * thread-safe).  Returns the key (>= 0), or -1 with errno EAGAIN when all
 * GREEN_LOCALS_MAX keys are taken.  Python: gevent.local.local(). */
#define GREEN_LOCALS_MAX 64
int green_local_new(void (*destructor)(void *));

/* The running greenlet's value under key, or NULL (never set, bad key). */
void *green_local_get(int key);

/* Set the running greenlet's value under key.  Returns 0, or -1 with errno
 * EINVAL (not a key from green_local_new) or ENOMEM. */
int green_local_set(int key, void *value);

#endif
