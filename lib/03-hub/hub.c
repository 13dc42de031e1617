/*
 * hub.c - chapter 3: the hub, a scheduler of greenlets on libevent. See hub.h.
 *
 * The whole scheduler is hub_loop(): run every greenlet that is ready, then
 * let libevent wait for the next timer or file descriptor; the callbacks of
 * those events put greenlets back in the ready queue.  A greenlet that
 * waits always does three things: arm an event (or join a list), switch
 * to the hub (park), disarm the event whatever woke it.
 *
 * Beside it, each in its own file: the list of waiters of wait.h
 * (wait.c), what the hub says when things go wrong (report.c), signals
 * (signal.c) and the blocking detector (monitor.c).
 */
#include "internal.h"
#include "hub.h"
#include "trace_hooks.h"
#include "dump.h"

#include <errno.h>
#include <pthread.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct hub {
    green_t *g;                     /* the hub greenlet itself */
    struct event_base *base;
    green_t *ready_head, *ready_tail;
    int ready_len;
    green_t *all;                   /* every greenlet that spawned or waited */
    green_t *finished;              /* died since the hub last looked */
    int alive;                      /* spawned and not yet dead */
    int batches_since_poll;
    double last_poll;
    unsigned long turns;            /* greenlets resumed by run_ready */
    unsigned long budget_turn;      /* the turn the budget below belongs to */
    int budget_used;                /* green_budget_consume: units spent */
    struct { long usec; const struct timeval *tv; } common[16];
    int ncommon;                    /* common timeouts made so far */
    struct { void (*fn)(void *); void *arg; } at_destroy[GREEN_AT_DESTROY_MAX];
    int nat_destroy;
    void (*observer)(void *arg, green_t *g);   /* green_hub_observe */
    void *observer_arg;
    struct green__hub_view view;    /* in the process's list (dump.h) */
};
#define COMMON_TIMEOUTS 16

static _Thread_local struct hub *hub;

/* A program that uses the hub is one gdb should understand: this
 * reference brings gdb's extension (gdb_script.c) into every such
 * program, even one linked with the static library. */
__attribute__((used)) static const char *const gdb_extension = &green__gdb_script;

/* The value a timer's callback wakes its greenlet with, so a wait can tell
 * "time ran out" from "what I waited for happened". */
static char timed_out_token;
#define TIMED_OUT ((void *)&timed_out_token)

/* While greenlets stay ready (a busy server) the hub never needs to block
 * in the kernel, but it must still look at file descriptors and timers now
 * and then, or they starve.  Checking costs a system call, so it checks
 * once every POLL_EVERY rounds of the ready queue, or once POLL_INTERVAL
 * seconds have passed, whichever comes first: often enough for timers, and
 * rarely enough that greenlets yielding to each other stay cheap. */
#define POLL_EVERY 32
#define POLL_INTERVAL 0.001

static void *hub_loop(void *unused);
static void register_exit_hook(void);

/* ---- The hub itself --------------------------------------------------- */

/* The hub's event base.  The changelist makes epoll see only the net
 * change of one loop turn: a greenlet that waits for a socket, reads, and
 * waits again costs no
 * epoll_ctl at all in between, instead of an add and a delete each time
 * (a third of the system calls of a green echo round trip).  libevent's
 * caveat is a descriptor closed and reopened under a pending event; the
 * kit never closes a descriptor that a wait still watches: every wait
 * deletes its event before it returns. */
static struct event_base *new_base(void)
{
    struct event_config *cfg = event_config_new();
    if (cfg == NULL)
        return NULL;
    event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    /* Without it libevent reads CLOCK_MONOTONIC_COARSE, a clock that lags
     * by up to a timer tick: a sleep could end a few ms before its time. */
    event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    struct event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return base;
}

static struct hub *get_hub(void)
{
    if (hub != NULL)
        return hub;
    register_exit_hook();
    struct hub *h = calloc(1, sizeof *h);
    if (h == NULL || (h->base = new_base()) == NULL
        || (h->g = green_new(hub_loop, 0)) == NULL) {
        fputs("green: cannot create the hub (out of memory?)\n", stderr);
        abort();
    }
    green_set_name(h->g, "hub");
    /* Whoever first needed the hub, it belongs to the thread. */
    green_set_parent(h->g, green_current()->main);
    hub = h;
    green__trace_from_env();        /* GREEN_TRACE=FILE (trace.h) */
    /* In the process's list of hubs, for green_dump and SIGQUIT (report.c,
     * which installs SIGQUIT's handler once, with the first hub). */
    static pthread_once_t sigquit_once = PTHREAD_ONCE_INIT;
    pthread_once(&sigquit_once, green__dump_install);
    h->view.hub = h->g;
    h->view.all = &h->all;
    green__dump_register(&h->view);
    return h;
}

struct event_base *green_hub_base(void) { return get_hub()->base; }
int green_hub_active(void) { return hub != NULL; }
green_t *green_hub(void) { return get_hub()->g; }

/* report.c walks this list: it reads the hub and never changes it. */
green_t *green__hub_all(void) { return get_hub()->all; }

/* ---- The ready queue: a FIFO linked through the greenlets ------------- */

static void enqueue(struct hub *h, green_t *g)
{
    g->sched.ready_next = NULL;
    if (h->ready_tail)
        h->ready_tail->sched.ready_next = g;
    else
        h->ready_head = g;
    h->ready_tail = g;
    h->ready_len++;
    g->sched.queued = 1;
}

static green_t *dequeue(struct hub *h)
{
    green_t *g = h->ready_head;
    h->ready_head = g->sched.ready_next;
    if (h->ready_head == NULL)
        h->ready_tail = NULL;
    h->ready_len--;
    g->sched.queued = 0;
    return g;
}

/* Take g out of the middle of the queue: rare (a greenlet freed while
 * ready), so a linear walk is fine. */
static void unqueue(struct hub *h, green_t *g)
{
    green_t *prev = NULL;
    for (green_t *q = h->ready_head; q; prev = q, q = q->sched.ready_next) {
        if (q != g)
            continue;
        if (prev)
            prev->sched.ready_next = g->sched.ready_next;
        else
            h->ready_head = g->sched.ready_next;
        if (h->ready_tail == g)
            h->ready_tail = prev;
        h->ready_len--;
        g->sched.queued = 0;
        return;
    }
}

void green_ready(green_t *g, void *value)
{
    struct hub *h = get_hub();
    if (g->sched.queued || g->dead || g == h->g)
        return;
    g->sched.wake_value = value;
    g->sched.wake_error = 0;
    g->sched.since = green__coarse_now();
    enqueue(h, g);
    if (green__trace_on)
        green__trace_wake(g);
}

/* ---- The loop --------------------------------------------------------- */

/* A greenlet that finished is done with its stack: give the stack back now,
 * and the whole record too if nobody will ever ask for its result. */
static void reap_finished(struct hub *h)
{
    while (h->finished) {
        green_t *g = h->finished;
        h->finished = g->sched.ready_next;
        green__stack_release(g);
        if (g->sched.detached)
            green_free(g);
    }
}

/* Run the greenlets that are ready now; those they wake wait for the next
 * round, so two greenlets yielding to each other cannot starve the rest. */
static void run_ready(struct hub *h)
{
    for (int n = h->ready_len; n > 0 && h->ready_head; n--) {
        green_t *g = dequeue(h);
        if (h->observer)
            h->observer(h->observer_arg, g);
        h->turns++;                 /* g starts a turn: a fresh budget */
        g->sched.since = green__coarse_now();
        if (green__trace_on)
            green__trace_run(g);
        green_switch(g, g->sched.wake_value);
        if (green__trace_on)
            green__trace_back(g);
        if (h->observer)
            h->observer(h->observer_arg, NULL);
        reap_finished(h);
    }
}

static void *hub_loop(void *unused)
{
    (void)unused;
    struct hub *h = hub;
    for (;;) {
        run_ready(h);
        if (h->ready_head) {
            if (++h->batches_since_poll < POLL_EVERY
                && green_now() - h->last_poll < POLL_INTERVAL)
                continue;
            h->batches_since_poll = 0;
            h->last_poll = green_now();
            event_base_loop(h->base, EVLOOP_NONBLOCK);
            continue;
        }
        /* Nobody is ready: block in the kernel until an event fires.
         * libevent returns 1 when no event is pending at all: then
         * nothing can ever make anyone ready again. */
        h->batches_since_poll = 0;
        int rc = event_base_loop(h->base, EVLOOP_ONCE);
        h->last_poll = green_now();
        if (rc < 0) {
            fputs("green: libevent's event loop failed\n", stderr);
            abort();
        }
        if (rc == 1 && h->ready_head == NULL)
            green__report_deadlock();
    }
    return NULL;
}

/* ---- Waiting ---------------------------------------------------------- */

/* Give the hub control until it resumes us.  Only the hub may: a stray
 * green_switch() into a parked greenlet would end its wait early with
 * nothing to show for it, and leave the switcher suspended with nobody to
 * resume it (gevent's "invalid switch").  `resumer` makes green_switch()
 * refuse it instead. */
static void *switch_to_hub(struct hub *h, green_t *self)
{
    self->resumer = h->g;
    void *v = green_switch(h->g, NULL);
    self->resumer = NULL;
    return v;
}

/* Write down what g is about to wait for, for green_dump(), deadlock
 * reports, the trace and gdb: the call (`what`), the object or descriptor,
 * and until when.  The coarse clock: a few ns, at every park. */
static void note_wait(green_t *g, const char *what, const void *obj,
                      int fd, short events, double timeout)
{
    g->sched.waiting_on = what;
    g->sched.wait_obj = obj;
    g->sched.wait_fd = fd;
    g->sched.wait_events = events;
    g->sched.since = green__coarse_now();
    g->sched.wait_until = timeout >= 0 ? g->sched.since + timeout : GREEN_FOREVER;
}

/* Switch to the hub until something readies us.  Returns 0 and the wake
 * value, or -1 with errno ECANCELED, EDEADLK, or EPERM (the caller is the
 * hub itself, in an event callback: it cannot wait for itself).  The
 * caller has said what it waits for (note_wait); park forgets it when the
 * wait ends. */
static int park(void **value)
{
    struct hub *h = get_hub();
    green_t *self = green_current();
    if (self == h->g) {
        /* Misuse, not a crash (green.h): the caller gets EPERM. */
        fputs("green: the hub cannot wait: a blocking call was made from an "
              "event callback\n", stderr);
        errno = EPERM;
        return -1;
    }
    if (self->sched.killed) {
        /* Yield once anyway: a killed greenlet that ignores ECANCELED and
         * loops would otherwise spin forever without letting anyone run. */
        green_ready(self, NULL);
        switch_to_hub(h, self);
        errno = ECANCELED;
        return -1;
    }
    /* errno is the thread's: the greenlets that run while we are parked
     * set it as they please.  Ours comes back with us (green.h, Errors). */
    int callers_errno = errno;
    if (green__trace_on)
        green__trace_park(self);
    void *v = switch_to_hub(h, self);
    self->sched.waiting_on = NULL;
    self->sched.wait_obj = NULL;
    self->sched.wait_fd = -1;
    errno = callers_errno;
    if (self->sched.killed) {
        errno = ECANCELED;
        return -1;
    }
    if (self->sched.wake_error) {
        errno = self->sched.wake_error;
        self->sched.wake_error = 0;
        return -1;
    }
    if (value)
        *value = v;
    return 0;
}

void *green_hub_switch(void)
{
    void *value;
    note_wait(green_current(), "green_hub_switch", NULL, -1, 0, GREEN_FOREVER);
    return park(&value) == 0 ? value : NULL;
}

static void on_event(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    green_ready(arg, (what & EV_TIMEOUT) ? TIMED_OUT : NULL);
}


static struct timeval to_timeval(double seconds)
{
    struct timeval tv;
    tv.tv_sec = (time_t)seconds;
    tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
    return tv;
}

/* libevent keeps timers in a heap, which does not keep the order of timers
 * that expire at the same moment: three greenlets that each sleep(0.1)
 * could wake in any order.  A "common timeout" is libevent's queue for
 * timers of one duration, in the order they were added: FIFO, and O(1) to
 * add.  The hub makes one for each of the first few durations it sees. */
static const struct timeval *timeout_for(struct hub *h, double seconds,
                                         struct timeval *tv)
{
    *tv = to_timeval(seconds);
    long usec = (long)tv->tv_sec * 1000000 + (long)tv->tv_usec;
    for (int i = 0; i < h->ncommon; i++)
        if (h->common[i].usec == usec)
            return h->common[i].tv;
    if (h->ncommon == COMMON_TIMEOUTS)
        return tv;
    const struct timeval *common = event_base_init_common_timeout(h->base, tv);
    if (common == NULL)
        return tv;
    h->common[h->ncommon].usec = usec;
    h->common[h->ncommon++].tv = common;
    return common;
}

static void hub_release(green_t *g);

/* The hub keeps a list of every greenlet it has dealt with: the spawned
 * ones, which it owns, and any other (main, or one made with green_new)
 * that has waited on it.  Deadlock reports and green_dump() read the list,
 * and green_hub_destroy() uses it to let go of every libevent event. */
static void enlist(struct hub *h, green_t *g)
{
    g->release = hub_release;
    g->sched.all_prev = NULL;
    g->sched.all_next = h->all;
    if (h->all)
        h->all->sched.all_prev = g;
    h->all = g;
}

/* Each greenlet owns one libevent event, reused for every wait: a greenlet
 * waits for one thing at a time, and this spares a malloc per wait.
 * Returns 0, or -1 when libevent refuses the fd (not open, say). */
static int arm(green_t *g, int fd, short what, double timeout)
{
    struct hub *h = get_hub();
    if (g->sched.ev == NULL) {
        g->sched.ev = malloc(event_get_struct_event_size());
        if (g->sched.ev == NULL) {
            fputs("green: out of memory for an event\n", stderr);
            abort();
        }
        if (g->release != hub_release)
            enlist(h, g);
    }
    struct timeval tv;
    if (event_assign(g->sched.ev, h->base, fd, what, on_event, g) != 0
        || event_add(g->sched.ev, timeout >= 0 ? timeout_for(h, timeout, &tv) : NULL) != 0)
        return -1;
    return 0;
}

static void disarm(green_t *g)
{
    if (g->sched.ev)
        event_del(g->sched.ev);
}

/* Every timed wait of the kit ends here: arm our event (fd -1: a timer
 * alone; timeout negative: no timer), park, and disarm it whatever woke
 * us, or an event left behind would end our next, unrelated wait.
 * Returns 0, or -1 with errno ETIMEDOUT, ECANCELED, EDEADLK, or EBADF
 * (libevent refused fd).  `name` and `obj` are for green_dump(). */
static int wait_fd(int fd, short what, double timeout, const char *name,
                   const void *obj)
{
    green_t *self = green_current();
    void *why = NULL;
    if ((fd >= 0 || timeout >= 0) && arm(self, fd, what, timeout) != 0) {
        errno = EBADF;
        return -1;
    }
    note_wait(self, name, obj, fd, what, timeout);
    int rc = park(&why);
    disarm(self);
    if (rc == 0 && why == TIMED_OUT) {
        errno = ETIMEDOUT;
        return -1;
    }
    return rc;
}

/* wait.c's lists park here: a wait for no fd, named `what` in dumps. */
int green__hub_park(double timeout, const char *what, const void *obj)
{
    return wait_fd(-1, 0, timeout, what, obj);
}

int green_hub_wait(double timeout)
{
    return wait_fd(-1, 0, timeout, "green_hub_wait", NULL);
}

int green_sleep(double seconds)
{
    green_t *self = green_current();
    if (seconds <= 0) {
        green_ready(self, NULL);     /* to the back of the queue */
        note_wait(self, "green_sleep", NULL, -1, 0, 0);
        return park(NULL);
    }
    arm(self, -1, 0, seconds);
    note_wait(self, "green_sleep", NULL, -1, 0, seconds);
    int rc = park(NULL);
    disarm(self);
    return rc;
}

/* The budget counts units, not time: a unit is one system call that
 * moved data, and the kernel bounds what one call can move (a socket's
 * buffer), so GREEN_BUDGET units is a bounded slice of the thread:
 * 32 sends of a small chunk take some 30 us, after which the hub runs the
 * others and, every 32 rounds or 1 ms, polls for new events.  Reading the
 * clock at every unit would cost more than counting, for no better bound.
 * The turn number tells a new turn from the old one without the hub
 * having to reset anything when it resumes a greenlet: one increment. */
int green_budget_consume(void)
{
    struct hub *h = hub;
    if (GREEN_BUDGET <= 0)
        return 0;               /* built without a budget (the bench's "before") */
    if (h == NULL || green_current() == h->g)
        return 0;               /* no hub, or the hub itself: nobody to yield to */
    if (h->budget_turn != h->turns) {
        h->budget_turn = h->turns;
        h->budget_used = 0;
    }
    if (++h->budget_used < GREEN_BUDGET)
        return 0;
    return green_sleep(0);      /* back in the ready queue: a new turn */
}

int green_wait_read(int fd, double timeout)
{
    return wait_fd(fd, EV_READ, timeout, "green_wait_read", NULL);
}

int green_wait_write(int fd, double timeout)
{
    return wait_fd(fd, EV_WRITE, timeout, "green_wait_write", NULL);
}

/* ---- Spawning and dying ----------------------------------------------- */

static void wake_joiners(green_t *g)
{
    green__wake_all(&g->sched.joiners, NULL);
}

/* What every spawned greenlet runs: the user's function, unless it was
 * killed before it started.  Its death is the exit hook's business. */
static void *spawned_main(void *unused)
{
    (void)unused;
    green_t *self = green_current();
    disarm(self);                    /* spawn_later's timer */
    if (self->sched.killed)
        return NULL;
    return self->sched.spawn_fn(self->sched.spawn_arg);
}

/* The greenlet layer calls this as any greenlet ends (green_on_exit): wake
 * whoever joins it, spawned or made with green_new, and count a spawned
 * one out.  It still runs on g's stack; greenlet.c then switches to g's
 * parent, the hub for a spawned one, which reaps it.  A greenlet freed
 * before it finished (not running: g is not current) needs nothing here:
 * green_free calls hub_release next. */
static void hub_on_exit(green_t *g)
{
    struct hub *h = hub;
    if (h == NULL || g != green_current())
        return;
    if (green__trace_on)
        green__trace_finish(g);
    wake_joiners(g);
    if (!g->sched.hub_owned)
        return;
    h->alive--;
    if (g->sched.queued)
        unqueue(h, g);
    g->sched.ready_next = h->finished;     /* not queued any more: reuse the link */
    h->finished = g;
}

static void add_exit_hook(void)
{
    if (green_on_exit(hub_on_exit) != 0) {
        fputs("green: cannot register the hub's exit hook: too many "
              "green_on_exit hooks\n", stderr);
        abort();
    }
}

/* Once per process: the hook serves every thread's hub. */
static void register_exit_hook(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, add_exit_hook);
}

/* Called by green_free() (and by green_hub_destroy for greenlets it does
 * not own): forget g, and free its event. */
static void hub_release(green_t *g)
{
    struct hub *h = hub;
    if (g->sched.queued)
        unqueue(h, g);
    if (g->sched.all_prev)
        g->sched.all_prev->sched.all_next = g->sched.all_next;
    else
        h->all = g->sched.all_next;
    if (g->sched.all_next)
        g->sched.all_next->sched.all_prev = g->sched.all_prev;
    if (g->sched.hub_owned && !g->dead)
        h->alive--;
    if (g->sched.ev) {
        event_del(g->sched.ev);
        free(g->sched.ev);
        g->sched.ev = NULL;
    }
}

static green_t *spawn_new(green_fn_t fn, void *arg)
{
    struct hub *h = get_hub();
    green_t *g = green_new(spawned_main, 0);
    if (g == NULL)
        return NULL;
    green_set_parent(g, h->g);
    g->sched.spawn_fn = fn;
    g->reported_fn = fn;         /* a crash names fn, not spawned_main */
    g->sched.spawn_arg = arg;
    g->sched.hub_owned = 1;
    g->sched.wait_fd = -1;
    enlist(h, g);
    h->alive++;
    if (green__trace_on)
        green__trace_spawn(g);
    return g;
}

green_t *green_spawn(green_fn_t fn, void *arg)
{
    green_t *g = spawn_new(fn, arg);
    if (g)
        green_ready(g, NULL);
    return g;
}

green_t *green_spawn_later(double seconds, green_fn_t fn, void *arg)
{
    green_t *g = spawn_new(fn, arg);
    /* Its callback readies g: g starts.  arm() takes a negative timeout
     * for "no timer", which would never start g: a delay at or below 0
     * (or NaN) is 0, "as soon as possible", as in gevent. */
    if (g)
        arm(g, -1, 0, seconds > 0 ? seconds : 0);
    return g;
}

void green_detach(green_t *g)
{
    g->sched.detached = 1;
    /* Dead and already reaped: nobody else will free it. */
    if (g->dead && g->stack.guard == NULL)
        green_free(g);
}

int green_killed(const green_t *g) { return g->sched.killed; }

/* ---- Joining and killing ---------------------------------------------- */

double green_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double green__coarse_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int green_join(green_t *g, double timeout)
{
    green_t *self = green_current();
    if (g->dead)
        return 0;
    if (g == self) {
        errno = EDEADLK;      /* it would wait for itself forever */
        return -1;
    }
    /* g's death serves its joiners (wake_joiners): a join is one wait in
     * g's list.  waiting_for lets green_dump() say whom we join. */
    struct green__waiter me = { 0 };
    self->sched.waiting_for = g;
    int rc = green__wait(&g->sched.joiners, &me, timeout, "green_join");
    self->sched.waiting_for = NULL;
    return rc;
}

int green_joinall(green_t **gs, int n, double timeout)
{
    double deadline = green__deadline(timeout);   /* one for all n joins */
    for (int i = 0; i < n; i++)
        if (green_join(gs[i], green__time_left(deadline)) != 0)
            return -1;
    return 0;
}

/* A spawned greenlet killed before it ever ran dies without running: it is
 * taken off the ready queue (or its spawn_later timer is cancelled). */
static void die_unstarted(struct hub *h, green_t *g)
{
    if (g->sched.queued)
        unqueue(h, g);
    disarm(g);
    g->dead = 1;
    h->alive--;
    wake_joiners(g);
    green__stack_release(g);
    if (g->sched.detached)
        green_free(g);
}

int green_kill(green_t *g, double timeout)
{
    if (g == green_current()) {
        errno = EINVAL;
        return -1;
    }
    if (g->dead)
        return 0;
    g->sched.killed = 1;
    if (green__trace_on)
        green__trace_kill(g);
    if (!g->started && g->sched.spawn_fn) {
        die_unstarted(hub, g);
        return 0;
    }
    green_ready(g, NULL);  /* its wait fails with ECANCELED */
    return green_join(g, timeout);
}

/* ---- Observers ---------------------------------------------------------- */

/* The hub calls its observer by pointer, so it needs nothing of who
 * watches (the blocking detector, monitor.c, is one): a test of a pointer
 * per switch when nobody does. */
int green_hub_observe(void (*fn)(void *arg, green_t *g), void *arg)
{
    struct hub *h = get_hub();
    if (fn && h->observer) {
        errno = EBUSY;
        return -1;
    }
    h->observer = fn;
    h->observer_arg = fn ? arg : NULL;
    return 0;
}

/* ---- The end ---------------------------------------------------------- */

int green_hub_at_destroy(void (*fn)(void *arg), void *arg)
{
    struct hub *h = get_hub();
    if (h->nat_destroy == GREEN_AT_DESTROY_MAX) {
        errno = EAGAIN;
        return -1;
    }
    h->at_destroy[h->nat_destroy].fn = fn;
    h->at_destroy[h->nat_destroy++].arg = arg;
    return 0;
}

/* How long green_hub_destroy waits for killed greenlets to unwind. */
#define DESTROY_GRACE 1.0

void green_hub_destroy(void)
{
    struct hub *h = hub;
    if (h == NULL)
        return;
    if (green_current() != h->g->main) {
        fputs("green: green_hub_destroy must be called from main\n", stderr);
        return;
    }
    green__dump_unregister(&h->view);   /* no dump reads it from now on */
    for (green_t *g = h->all; g; g = g->sched.all_next) {
        if (g->sched.hub_owned && !g->dead) {
            g->sched.killed = 1;
            green_ready(g, NULL);
        }
    }
    double deadline = green__deadline(DESTROY_GRACE);
    while (h->alive > 0 && green__time_left(deadline) > 0)
        green_sleep(0);
    if (h->alive > 0)
        fprintf(stderr, "green: %d greenlet(s) ignored being killed; their "
                        "cleanup code will not run\n", h->alive);
    /* Spawned greenlets are the hub's to free; any other keeps living (main
     * does, for one) but must let go of its event, which belongs to the
     * event base about to be freed. */
    while (h->all) {
        green_t *g = h->all;
        if (g->sched.hub_owned) {
            green_free(g);
        } else {
            hub_release(g);
            g->release = NULL;
        }
    }
    green_free(h->g);
    for (int i = 0; i < h->nat_destroy; i++)
        h->at_destroy[i].fn(h->at_destroy[i].arg);
    event_base_free(h->base);
    free(h);
    hub = NULL;
    green__stack_cache_flush();
}
