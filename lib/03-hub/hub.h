/*
 * hub.h - chapter 3: the hub, a scheduler of greenlets on libevent's loop.
 *
 * Each thread that uses these calls gets one hub: a greenlet that runs
 * libevent's event loop and a FIFO queue of greenlets ready to run.  A
 * greenlet that must wait (for time to pass, for a file descriptor, for
 * another greenlet) registers what should wake it and switches to the hub;
 * the hub runs whoever is ready next.  This is gevent's design: only the
 * hub ever blocks, in the kernel, when nobody is ready.
 *
 * Spawned greenlets have the hub as their parent, so when one finishes the
 * hub simply carries on with the next ready greenlet.
 *
 * Errors, C style.  Every call that waits returns 0, or -1 with errno:
 *   ETIMEDOUT  the timeout ran out first;
 *   ECANCELED  the waiting greenlet was killed (green_kill).  From then on
 *              every waiting call it makes fails with ECANCELED, after one
 *              turn of the ready queue (so even a greenlet that ignores it
 *              and loops lets the others run), and it unwinds through its
 *              own cleanup code and returns;
 *   EDEADLK    nothing could ever wake the caller: no greenlet is ready and
 *              no event is pending.  The hub prints who was waiting, and on
 *              what, then fails the main greenlet's wait with EDEADLK;
 *   EPERM      the caller is the hub itself: a waiting call made from an
 *              event callback (the hub cannot wait for itself).
 * Timeouts are in seconds; GREEN_FOREVER (any negative value) never expires.
 * Greenlets that sleep for the same duration wake in the order they slept.
 */
#ifndef GREEN_HUB_H
#define GREEN_HUB_H

#include "greenlet.h"

struct event_base;

#define GREEN_FOREVER (-1.0)

/* Create a greenlet that runs fn(arg) and put it at the end of the ready
 * queue; it starts when the spawner next waits.  The new greenlet's parent
 * is the hub.  Returns NULL with errno ENOMEM on failure.
 * The caller owns the returned greenlet: green_join() it and green_free() it,
 * or give it up with green_detach().  Python: gevent.spawn(fn, arg). */
green_t *green_spawn(green_fn_t fn, void *arg);

/* Like green_spawn(), but g joins the ready queue after `seconds`; a delay
 * at or below 0 means as soon as possible (at the hub's next look at its
 * timers), never "not at all".  Python: gevent.spawn_later(seconds, fn, arg). */
green_t *green_spawn_later(double seconds, green_fn_t fn, void *arg);

/* Let the hub free g as soon as it is dead (at once if it already is).
 * After this call g must not be used.  Like pthread_detach(). */
void green_detach(green_t *g);

/* Wait `seconds`, letting other greenlets run.  green_sleep(0) only yields:
 * the caller goes to the back of the ready queue.  `seconds` is a
 * duration, not a timeout: a negative one (the time left until a deadline
 * that has passed) counts as 0, not as forever.  Returns 0, or -1 with
 * errno ECANCELED (killed).  Python: gevent.sleep(seconds). */
int green_sleep(double seconds);

/* Spend one unit of the running greenlet's budget, and yield (as
 * green_sleep(0) does) once it has spent GREEN_BUDGET since the hub last
 * resumed it.  Call it in every loop that might never wait: a send that
 * keeps succeeding because the client reads fast, a request after
 * request already buffered, a body produced without waiting.  Without it
 * such a greenlet holds the hub for as long as the work lasts, and every
 * other connection and timer stalls (cooperative means every loop must
 * yield, not just the ones that block).  green_recv, green_send,
 * green_sendall and the HTTP server spend it for you.  Costs a counter
 * when it does not yield.  Returns 0, or -1 with errno ECANCELED (the
 * greenlet was killed, perhaps while it yielded).  No Python equivalent
 * in gevent (pywsgi has this very flaw); Tokio's consume_budget().
 * Building the library with -DGREEN_BUDGET=0 turns the budget off (never
 * yields): `make bench` builds chapter 11's server so, to measure what
 * the budget costs and what it buys. */
#ifndef GREEN_BUDGET
#define GREEN_BUDGET 32
#endif
int green_budget_consume(void);

/* Wait until g is dead, at most `timeout` seconds.  Returns 0 (g's result is
 * green_result(g)), or -1 with errno ETIMEDOUT, ECANCELED or EDEADLK.
 * Python: g.join(timeout). */
int green_join(green_t *g, double timeout);

/* Wait until all n greenlets are dead, at most `timeout` seconds in all.
 * Returns 0, or -1 with errno ETIMEDOUT (green_dead() tells which finished),
 * ECANCELED or EDEADLK.  Python: gevent.joinall(gs, timeout). */
int green_joinall(green_t **gs, int n, double timeout);

/* Kill g: if it has not started it never will (it dies at once, unrun);
 * if it is waiting, its wait fails with ECANCELED, and so does every later
 * wait it makes (after yielding once, so even a greenlet that ignores the
 * error cannot hog the loop).  Then wait up to `timeout` seconds for g to
 * die.  Returns 0 when g is dead, or -1 with errno ETIMEDOUT (g did not
 * return in time: it ignores ECANCELED, or computes without waiting) or
 * EDEADLK.  A greenlet may not kill itself (EINVAL).  Python: g.kill(). */
int green_kill(green_t *g, double timeout);

/* Wait until fd can be read (green_wait_read) or written (green_wait_write)
 * without blocking, at most `timeout` seconds.  Returns 0, or -1 with errno
 * ETIMEDOUT, ECANCELED, EDEADLK, or EBADF (fd is not an open descriptor the
 * kernel can watch).  Only one greenlet may wait on a given fd in a given
 * direction at a time. */
int green_wait_read(int fd, double timeout);
int green_wait_write(int fd, double timeout);

/* Seconds on a monotonic clock (CLOCK_MONOTONIC): for measuring how long
 * things take, never for the date. */
double green_now(void);

/* 1 when g has been killed (green_kill), else 0. */
int green_killed(const green_t *g);

/* --- The hub's own primitives: what the calls above are made of. -------
 * Every waiting call follows one pattern:
 *     1. arrange to be woken: an event whose callback calls green_ready(me)
 *        (or put yourself on a list that somebody will wake);
 *     2. green_hub_switch(): the hub runs others until you are woken;
 *     3. undo step 1 (delete the event, leave the list), whatever woke you.
 * Step 3 matters: a wake-up source left behind could wake you later, in the
 * middle of some unrelated wait.
 * While parked (step 2) a greenlet is resumed by the hub only: a
 * green_switch() into it from any other greenlet is refused with errno
 * EPERM and a message naming both (see greenlet.h), and the wait goes on.
 * Wake it with green_ready() instead. */

/* The calling thread's libevent event_base, created with the hub. */
struct event_base *green_hub_base(void);

/* The calling thread's hub greenlet (created on first use). */
green_t *green_hub(void);

/* 1 when the calling thread has a hub (it has used any call of this
 * header), else 0.  Never creates one. */
int green_hub_active(void);

/* Put g at the end of the ready queue, so that the hub switches to it soon,
 * handing it `value` (the return value of its green_hub_switch()).  If g is
 * in green_sleep, green_wait_read/write or green_hub_wait, that wait ends
 * early and returns 0 (so its caller must check whatever it waited for).  Waking a
 * greenlet that is already in the ready queue, or dead, does nothing (the
 * first wake-up wins).  A greenlet may wake itself: green_ready(me) then
 * green_hub_switch() is how green_sleep(0) yields. */
void green_ready(green_t *g, void *value);

/* Suspend the running greenlet until something calls green_ready() on it
 * or `timeout` seconds pass.  Returns 0 when readied, or -1 with errno
 * ETIMEDOUT, ECANCELED or EDEADLK.  The usual way to wait for a callback:
 * register one that calls green_ready(me), then green_hub_wait(timeout). */
int green_hub_wait(double timeout);

/* Suspend the running greenlet until something calls green_ready() on it,
 * and return the value given there.  Returns at once with NULL and errno
 * ECANCELED if the caller has been killed, or with NULL and errno EDEADLK if
 * nothing could ever wake it.  Must not be called by the hub itself. */
void *green_hub_switch(void);

/* Watch this thread's hub: it calls fn(arg, g) just before it resumes
 * greenlet g, and fn(arg, NULL) when g has handed control back.  fn runs
 * on the hub, between two greenlets: it must be short and must not wait.
 * One observer per hub (a hub per thread, each with its own); fn NULL
 * removes it.  Returns 0, or -1 with errno EBUSY when another is set.
 * The blocking detector below is one.  Python: greenlet.settrace(fn),
 * which sees every switch. */
int green_hub_observe(void (*fn)(void *arg, green_t *g), void *arg);

/* The blocking detector (gevent's monitor thread).  Cooperative scheduling
 * has one failure mode threads do not: a greenlet that computes without
 * ever waiting holds the whole thread, and every other greenlet (timers,
 * connections) stalls behind it.  green_monitor_start() starts a watchdog
 * thread that watches the calling thread's hub and, when one greenlet has
 * run for `threshold` seconds without yielding, prints once
 *     green: greenlet 'NAME' has held the loop for 0.52 s without yielding
 * to stderr, then the dump of that hub (green_dump below), where the
 * hog's backtrace shows the loop that never yields.  It cannot stop the
 * greenlet: it tells you where to add a green_sleep(0).  The watchdog observes the calling thread's hub only
 * (green_hub_observe): each thread may start its own, and a busy thread
 * does not hide a stalled one.  Returns 0, or -1 with errno (EBUSY: this
 * hub already has a watchdog or another observer). */
int green_monitor_start(double threshold);

/* The same watchdog, with your report instead of its line: it calls
 * report(arg, name, held) once per stall, on the watchdog's own thread
 * (the hub's is held: that is the point), with the greenlet's name and
 * how long it has held the loop so far.  report must be thread-safe and
 * must not touch the hub.  Chapter 12's heartbeat sends the report to the
 * master, which names the greenlet before it kills the worker.
 * report NULL: the line above.  Returns as green_monitor_start(). */
typedef void (*green_monitor_fn_t)(void *arg, const char *name, double held);
int green_monitor_start_with(double threshold, green_monitor_fn_t report, void *arg);

/* Stop the calling thread's watchdog (if running) and wait for it to end. */
void green_monitor_stop(void);

/* Signals, gevent's signal_handler(): fn(signum, arg) runs on the hub,
 * between two greenlets, each time signal `signum` arrives.  The signal
 * becomes one more libevent event, so fn never interrupts a greenlet in
 * the middle of anything: it may wake greenlets or close a server (what
 * a libevent callback may do), but must not wait.  Returns a handle for
 * green_signal_cancel(), or NULL with errno (EINVAL: a bad signal). */
typedef struct green_signal green_signal_t;
green_signal_t *green_signal_handler(int signum,
                                     void (*fn)(int signum, void *arg),
                                     void *arg);

/* Stop handling the signal and free the handle (NULL: nothing). */
void green_signal_cancel(green_signal_t *sig);

/* The same, for an owner that keeps several (a server closing on SIGINT
 * and SIGTERM): the handle goes on the list *list (start it NULL), and
 * green_signal_cancel_all() cancels every handle on it.  Returns 0, or -1
 * with errno. */
int green_signal_add(green_signal_t **list, int signum,
                     void (*fn)(int signum, void *arg), void *arg);
void green_signal_cancel_all(green_signal_t **list);

/* "SIGINT", "SIGTERM", ..., or "a signal": for messages. */
const char *green_signal_name(int signum);

/* Print every greenlet of every hub of the process to stderr: the first
 * thing to look at when a program seems stuck.  For each: its id, name and
 * state - running, ready, sleeping (and when it wakes), waiting to read or
 * write fd N, waiting in green_event_wait, green_queue_get, ... on which
 * object, joining whom, not started, dead - how long it has been so, and
 * the backtrace of its own stack ("function+0x1c (file)").  Then the
 * program goes on.  Other hubs' threads are stopped while their greenlets
 * are read (with SIGQUIT, below).
 * SIGQUIT (kill -QUIT PID, or Ctrl-\ in a terminal) prints the same dump,
 * even while a greenlet hogs its hub: the kit installs the handler when
 * the first hub is created, unless the program already handles SIGQUIT
 * (its handler wins; then green_dump shows only the calling thread's
 * hub).  An ignored SIGQUIT counts as not handled: a shell without job
 * control starts every `cmd &` with SIGQUIT ignored, and a server started
 * so must still answer kill -QUIT with its dump (Go does the same).  Python: faulthandler.register(signal.SIGQUIT), which prints
 * every thread's stack; Go prints every goroutine's on SIGQUIT. */
void green_dump(void);

/* Make SIGQUIT dump now, if its action is still the default (or
 * ignored: see above); for a
 * forked child whose parent's handlers were set back to the default
 * (chapter 12's workers).  Returns 1 when SIGQUIT dumps, 0 when the
 * program handles it itself. */
int green_dump_on_sigquit(void);

/* The same dump, written to fd.  Returns 0, or -1 with errno EBUSY when
 * another dump is in progress (one at a time). */
int green_dump_fd(int fd);

/* Call fn(arg) in green_hub_destroy, after every greenlet is gone and
 * before the event base is freed, in the order registered.  For a layer
 * that keeps libevent objects of its own on this hub (dns.h's
 * resolver): they belong to the base, and must be freed before
 * it.  fn must not wait.  At most GREEN_AT_DESTROY_MAX per hub.  Returns
 * 0, or -1 with errno EAGAIN when all are taken.  Python: the nearest is
 * atexit.register, per hub instead of per process. */
#define GREEN_AT_DESTROY_MAX 8
int green_hub_at_destroy(void (*fn)(void *arg), void *arg);

/* Kill every greenlet of this thread's hub that is still alive, wait for
 * them to unwind, free them and the hub.  Call it at the end of main (or a
 * test) so that leak checkers see a clean exit.  Must be called from the
 * main greenlet. */
void green_hub_destroy(void);

#endif
