/*
 * report.c - chapter 3: what the hub says when things go wrong: a dump of
 * every greenlet of every hub (green_dump, and SIGQUIT), and the deadlock
 * report.
 *
 * Its own file because it only reads: it walks the hubs' greenlets and
 * describes each, and the scheduler calls it once, when nothing can ever
 * run again (green__report_deadlock).  Reading the scheduler needs none
 * of it.  The models: libtask's SIGQUIT handler lists each task's id,
 * name, state string and "(running)" or "(ready)", no frames; Go's
 * prints every goroutine's state, how long it has waited ("goroutine 7
 * [chan receive, 2 minutes]:") and its stack, then exits.  Ours says what
 * and since when, with the frames, and the program goes on.
 *
 * What makes it harder than a loop of printf: the dump must work while a
 * greenlet hogs its hub (chapter 8) - exactly when a program seems stuck.
 * The hub cannot run anything then, so nothing can be asked of it: the
 * dump runs in the SIGQUIT handler itself, on whichever thread the kernel
 * picked, and reads the hubs as they stand.  Hence the rules of this file:
 *   - only what a signal handler may call: write(2), no malloc, no stdio,
 *     no lock (the interrupted code may hold it), fixed buffers;
 *   - a hub is read only while its thread stands still: the dumping
 *     thread sends every other hub's thread the same signal (tgkill), and
 *     each, seeing a dump in progress, says where it stopped (its running
 *     greenlet, the registers the signal saved) and waits in its handler
 *     until the dump is over.  A thread that does not answer within
 *     STOP_WAIT (blocked signals, a hang) is named, not read;
 *   - one dump at a time: `dumping` holds the number of the dump in
 *     progress, taken with a compare-and-swap.
 * A parked greenlet's backtrace starts at the registers its last switch
 * saved; the running one's at those the signal interrupted (backtrace.c).
 * One lock remains that we cannot avoid: dladdr() takes the dynamic
 * loader's, so a thread stopped inside dlopen() would hold up the names
 * until it goes on (STOPPED_MAX_MS): late, never hung.
 */
#include "internal.h"
#include "hub.h"
#include "dump.h"
#include "backtrace.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* ---- The list of hubs --------------------------------------------------- */

static struct green__hub_view *_Atomic hubs[GREEN_HUBS_MAX];
static atomic_uint dumping;     /* the dump in progress, or 0 */
static atomic_uint dumps;       /* to number them */

static void on_sigquit(int sig, siginfo_t *info, void *uc);

static pid_t this_thread(void) { return (pid_t)syscall(SYS_gettid); }

/* Whether SIGQUIT is ours now: only then may a dump stop other threads
 * with it (a program's own handler, chapter 12's master's "quick stop",
 * must never be set off by a dump).  Asked at every dump, since the
 * program may install its handler after our own. */
static int sigquit_ours(void)
{
    struct sigaction now;
    return sigaction(SIGQUIT, NULL, &now) == 0 && (now.sa_flags & SA_SIGINFO)
           && now.sa_sigaction == on_sigquit;
}

/* Where the thread's own stack ends (its main greenlet's frames stop
 * there): asked now, in ordinary code, since a signal handler may not. */
static const char *thread_stack_top(void)
{
    pthread_attr_t attr;
    void *lo = NULL;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return NULL;
    pthread_attr_getstack(&attr, &lo, &size);
    pthread_attr_destroy(&attr);
    return (const char *)lo + size;
}

static void nap_ms(long ms)
{
    struct timespec ts = { .tv_sec = 0, .tv_nsec = ms * 1000000L };
    nanosleep(&ts, NULL);
}

void green__dump_register(struct green__hub_view *v)
{
    v->tid = this_thread();
    v->stack_top = thread_stack_top();
    for (int i = 0; i < GREEN_HUBS_MAX; i++) {
        struct green__hub_view *none = NULL;
        if (atomic_compare_exchange_strong(&hubs[i], &none, v))
            return;
    }
    static const char full[] = "green: more than 64 hubs: green_dump will not show this one\n";
    long unused = syscall(SYS_write, STDERR_FILENO, full, sizeof full - 1);
    (void)unused;
}

/* Once off the list no new dump can find the hub; one that already did
 * has stopped this thread, or is about to, or finishes soon: wait for it
 * before the hub is freed under its eyes. */
void green__dump_unregister(struct green__hub_view *v)
{
    for (int i = 0; i < GREEN_HUBS_MAX; i++) {
        struct green__hub_view *mine = v;
        atomic_compare_exchange_strong(&hubs[i], &mine, NULL);
    }
    while (atomic_load(&dumping) != 0)
        nap_ms(1);
}

static struct green__hub_view *view_of(pid_t tid)
{
    for (int i = 0; i < GREEN_HUBS_MAX; i++) {
        struct green__hub_view *v = atomic_load(&hubs[i]);
        if (v && v->tid == tid)
            return v;
    }
    return NULL;
}

/* ---- Output without malloc or stdio -------------------------------------- */

struct out {
    int fd;
    size_t len;
    char buf[1024];
};

static void out_flush(struct out *o)
{
    size_t done = 0;
    while (done < o->len) {
        /* The system call itself, not libc's write(): under chapter 5's
         * patch library write() may try to wait on the hub. */
        long n = syscall(SYS_write, o->fd, o->buf + done, o->len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    o->len = 0;
}

static void out_str(struct out *o, const char *s)
{
    for (; *s; s++) {
        if (o->len == sizeof o->buf)
            out_flush(o);
        o->buf[o->len++] = *s;
    }
}

static void out_num(struct out *o, uintptr_t n, unsigned base)
{
    char digits[24];
    out_str(o, green__digits(n, base, digits));
}

/* Seconds with two decimals, "0.08": printf("%.2f") is not allowed here. */
static void out_secs(struct out *o, double s)
{
    uintptr_t hundredths = s > 0 ? (uintptr_t)(s * 100 + 0.5) : 0;
    out_num(o, hundredths / 100, 10);
    out_str(o, hundredths % 100 < 10 ? ".0" : ".");
    out_num(o, hundredths % 100, 10);
    out_str(o, " s");
}

/* ---- One greenlet --------------------------------------------------------- */

/* The frames of g, from regs (sp: the lowest address they may use).
 * `exact`: regs.pc is where a signal stopped the code, not a return
 * address (where a call, a context switch's included, will return). */
static void out_backtrace(struct out *o, const green_t *g, green_ctx_regs_t regs,
                          int exact, const struct green__hub_view *v)
{
    static void *pcs[GREEN_BT_MAX];
    static char line[256];
    const char *top = g->stack.guard ? g->stack.lo + g->stack.size : v->stack_top;
    if (top == NULL || regs.sp == NULL)
        return;
    int n = green__backtrace(regs.pc, regs.fp, regs.sp, top, exact, pcs, GREEN_BT_MAX);
    for (int i = 0; i < n; i++) {
        green__symbolize(pcs[i], i > 0 || !exact, line, sizeof line);
        out_str(o, "        ");
        out_str(o, line);
        out_str(o, "\n");
    }
    if (n == GREEN_BT_MAX)
        out_str(o, "        ...\n");
}

/* "waiting to read fd 7", "sleeping, wakes in 0.08 s", "joining 'x'"... */
static void out_wait(struct out *o, const green_t *g, double now)
{
    const struct green__sched *s = &g->sched;
    int sleeping = strcmp(s->waiting_on, "green_sleep") == 0;
    if (sleeping) {
        /* Overdue: its hub has not looked at the clock (a hog?). */
        out_str(o, s->wait_until >= now ? "sleeping, wakes in " : "sleeping, overdue by ");
        out_secs(o, s->wait_until >= now ? s->wait_until - now : now - s->wait_until);
        return;
    }
    if (s->waiting_for) {
        out_str(o, "joining '");
        out_str(o, s->waiting_for->name);
        out_str(o, "'");
    } else if (s->wait_fd >= 0) {
        out_str(o, s->wait_events & EV_WRITE ? "waiting to write fd " : "waiting to read fd ");
        out_num(o, (uintptr_t)s->wait_fd, 10);
    } else {
        out_str(o, "waiting in ");
        out_str(o, s->waiting_on);
        if (s->wait_obj) {
            out_str(o, " on 0x");
            out_num(o, (uintptr_t)s->wait_obj, 16);
        }
    }
    if (s->wait_until >= 0) {
        out_str(o, ", times out in ");
        out_secs(o, s->wait_until - now);
    }
}

/* One greenlet: "  greenlet 4 'reader': waiting to read fd 7, for 0.12 s",
 * then its frames.  `running`: the greenlet its thread runs now. */
static void describe(struct out *o, const green_t *g, const green_t *running,
                     const struct green__hub_view *v, double now)
{
    const struct green__sched *s = &g->sched;
    int has_since = s->since > 0;
    green_ctx_regs_t regs = { 0 };
    int exact = 0;
    out_str(o, "  greenlet ");
    out_num(o, g->id, 10);
    out_str(o, " '");
    out_str(o, g->name);
    out_str(o, "': ");
    if (g->dead) {
        out_str(o, "dead\n");
        return;
    }
    if (g == running) {
        out_str(o, "running");
        if (g == v->hub)            /* the event loop: no turn to time */
            has_since = 0;
        exact = v->uc != NULL;
        if (v->uc)
            regs = green_ctx_signal_regs(v->uc);
        else                        /* green_dump()'s caller and up */
            regs = (green_ctx_regs_t){ NULL, v->fp, v->fp };
    } else if (!g->started) {
        out_str(o, s->queued ? "not started (ready)" : "not started");
    } else {
        if (g == v->hub && running) {
            out_str(o, "switched to '");    /* a hog's hub says whom */
            out_str(o, running->name);
            out_str(o, "', waits for it to yield or wait");
            has_since = 0;
        } else if (s->queued)
            out_str(o, "ready");
        else if (s->waiting_on)
            out_wait(o, g, now);
        else                         /* chapter 2's green_switch away */
            out_str(o, "suspended (switched away, not by the hub)");
        regs = green_ctx_saved_regs(&g->ctx);
    }
    if (has_since) {
        out_str(o, ", for ");
        out_secs(o, now - s->since);
    }
    out_str(o, "\n");
    out_backtrace(o, g, regs, exact, v);
}

/* Every greenlet of one hub: main first, then the others, the hub last. */
static void describe_hub(struct out *o, const struct green__hub_view *v,
                         int (*want)(const green_t *g))
{
    const green_t *running = v->running;
    double now = green__coarse_now();
    const green_t *main = v->hub->main;
    int n = 0, running_seen = running == main || running == v->hub;
    if (want(main))
        describe(o, main, running, v, now);
    /* A cap: a list caught half-changed must not loop forever. */
    for (const green_t *g = *v->all; g && n < 100000; g = g->sched.all_next, n++) {
        running_seen |= g == running;
        if (g != main && g != v->hub && want(g))
            describe(o, g, running, v, now);
    }
    /* A greenlet the hub never dealt with (chapter 2's green_new and
     * green_switch) is on no list, but it may be the one running. */
    if (!running_seen && running && want(running))
        describe(o, running, running, v, now);
    if (want(v->hub))
        describe(o, v->hub, running, v, now);
    out_flush(o);
}

static int everyone(const green_t *g) { (void)g; return 1; }

/* ---- A dump of every hub ---------------------------------------------------- */

/* How long a dump waits for each thread to stop, and a stopped thread
 * for the dump to end (a safety net: a dump takes milliseconds). */
#define STOP_WAIT_MS 1000
#define STOPPED_MAX_MS 10000

/* Ask v's thread to stand still for dump n: it answers in its SIGQUIT
 * handler (stand_still). */
static void ask_to_stop(struct green__hub_view *v, unsigned n)
{
    atomic_store(&v->stop_asked, n);
    syscall(SYS_tgkill, getpid(), v->tid, SIGQUIT);
}

/* Wait for the answer, out of the dump's whole budget of waiting: 0 once
 * it stands still, -1 if it did not in time. */
static int wait_stopped(struct green__hub_view *v, unsigned n, long *budget_ms)
{
    while (atomic_load(&v->stopped) != n) {
        if (*budget_ms <= 0)
            return -1;
        nap_ms(1);
        --*budget_ms;
    }
    return 0;
}

/* In the SIGQUIT handler of a thread asked to stop: say where we are, and
 * wait until the dump is over. */
static void stand_still(struct green__hub_view *v, unsigned n, const void *uc)
{
    v->running = green_current();
    v->uc = uc;
    atomic_store(&v->stopped, n);
    for (int ms = 0; atomic_load(&dumping) == n && ms < STOPPED_MAX_MS; ms++)
        nap_ms(1);
}

/* The dump itself, on the thread that dumps: `uc` its own registers if a
 * signal interrupted it, else `fp` the frame of the public call that asked
 * (the backtrace of its running greenlet starts above), `only` a single
 * thread's hub (0: every hub).
 * -1 with errno EBUSY when another dump is in progress. */
static int dump(int fd, const void *uc, void *fp, pid_t only)
{
    unsigned n = atomic_fetch_add(&dumps, 1) + 1;
    if (n == 0)
        n = atomic_fetch_add(&dumps, 1) + 1;        /* 0 means "none" */
    unsigned none = 0;
    if (!atomic_compare_exchange_strong(&dumping, &none, n)) {
        errno = EBUSY;
        return -1;
    }
    pid_t me = this_thread();
    int can_stop = sigquit_ours();
    struct green__hub_view *seen[GREEN_HUBS_MAX];
    int nseen = 0;
    for (int i = 0; i < GREEN_HUBS_MAX; i++) {
        struct green__hub_view *v = atomic_load(&hubs[i]);
        if (v == NULL || (only && v->tid != only))
            continue;
        seen[nseen++] = v;
        if (v->tid == me) {
            v->running = green_current();
            v->uc = uc;
            v->fp = fp;
            atomic_store(&v->stopped, n);
        } else if (can_stop) {
            ask_to_stop(v, n);
        }
    }
    struct out o = { .fd = fd, .len = 0 };
    out_str(&o, "green: every greenlet of process ");
    out_num(&o, (uintptr_t)getpid(), 10);
    out_str(&o, only ? " (one hub)" : "");
    out_str(&o, ":\n");
    long budget_ms = STOP_WAIT_MS;
    for (int i = 0; i < nseen; i++) {
        struct green__hub_view *v = seen[i];
        out_str(&o, "hub of thread ");
        out_num(&o, (uintptr_t)v->tid, 10);
        if (wait_stopped(v, n, &budget_ms) != 0) {
            out_str(&o, can_stop ? ": did not stop within 1 s (SIGQUIT blocked?), not shown\n"
                                     : ": not shown (SIGQUIT is the program's: the thread cannot be stopped)\n");
            continue;
        }
        out_str(&o, v->tid == me ? " (this thread):\n" : ":\n");
        describe_hub(&o, v, everyone);
    }
    out_str(&o, "green: end of the dump\n");   /* for whoever reads it */
    out_flush(&o);
    green__symbolize_done();
    for (int i = 0; i < nseen; i++)
        seen[i]->uc = NULL;
    atomic_store(&dumping, 0);
    return 0;
}

/* The running greenlet's frames start at the frame of the public call
 * (its caller comes next), so that frame must still exist while dump()
 * runs: the empty asm after the call keeps the compiler from turning the
 * call into a jump that would first tear it down (a tail call, which
 * GCC makes at -O2 on AArch64). */
#define KEEP_THIS_FRAME() __asm__ volatile("" ::: "memory")

int green_dump_fd(int fd)
{
    int rc = dump(fd, NULL, __builtin_frame_address(0), 0);
    KEEP_THIS_FRAME();
    return rc;
}

void green_dump(void)
{
    dump(STDERR_FILENO, NULL, __builtin_frame_address(0), 0);
    KEEP_THIS_FRAME();
}

/* The monitor's: from another thread, so no frame of ours to start at. */
int green__dump_thread(pid_t tid, int fd)
{
    return dump(fd, NULL, NULL, tid);
}

/* ---- SIGQUIT ------------------------------------------------------------------ */

/* Either somebody's dump asked this thread to stand still (stop_asked),
 * or SIGQUIT came from outside (kill -QUIT, Ctrl-\) and this thread
 * dumps.  A request that arrives after its dump gave up on us is
 * dropped, and so is a SIGQUIT during a dump: one is being printed. */
static void on_sigquit(int sig, siginfo_t *info, void *uc)
{
    (void)sig;
    (void)info;
    int saved_errno = errno;
    struct green__hub_view *v = view_of(this_thread());
    unsigned asked = v ? atomic_exchange(&v->stop_asked, 0) : 0;
    if (asked != 0) {
        if (atomic_load(&dumping) == asked)
            stand_still(v, asked, uc);
    } else if (atomic_load(&dumping) == 0) {
        dump(STDERR_FILENO, uc, NULL, 0);
    }
    errno = saved_errno;
}

int green_dump_on_sigquit(void)
{
    struct sigaction sa, old;
    if (sigaction(SIGQUIT, NULL, &old) != 0)
        return 0;
    if ((old.sa_flags & SA_SIGINFO) && old.sa_sigaction == on_sigquit)
        return 1;
    /* The program's own handler wins.  SIG_IGN does not count: the shell
     * sets it for every `server &` when job control is off (scripts, CI),
     * and a server started so must still dump on kill -QUIT. */
    int handled = (old.sa_flags & SA_SIGINFO)
                  || (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN);
    if (handled)
        return 0;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigquit;
    /* SA_ONSTACK: the thread's signal stack (greenlet.c's) if it has one,
     * so a greenlet near the end of its stack can still be dumped. */
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGQUIT, &sa, NULL) == 0;
}

/* A child of fork() has one thread, the one that forked: its hub lives
 * on under a new thread id, and every other thread's hub is gone (their
 * memory is copied, but nobody will ever run or destroy them). */
static pid_t forking_thread;
static void before_fork(void) { forking_thread = this_thread(); }
static void in_child(void)
{
    for (int i = 0; i < GREEN_HUBS_MAX; i++) {
        struct green__hub_view *v = atomic_load(&hubs[i]);
        if (v && v->tid == forking_thread)
            v->tid = this_thread();
        else if (v)
            atomic_store(&hubs[i], NULL);
    }
    atomic_store(&dumping, 0);
}

void green__dump_install(void)
{
    pthread_atfork(before_fork, NULL, in_child);
    green_dump_on_sigquit();
}

/* ---- The deadlock report -------------------------------------------------- */

/* The report runs on the hub, which it leaves out. */
static int stuck(const green_t *g)
{
    return g == g->main
           || (g != green_current() && !g->dead && !g->sched.queued && g->started);
}

/* Nothing is ready and no event is pending: whoever waits, waits forever.
 * Say who (with the frames where each waits), and fail the main
 * greenlet's wait so the program can go on (gevent raises LoopExit in the
 * main greenlet; Go panics with "all goroutines are asleep"). */
void green__report_deadlock(void)
{
    green_t *main = green_hub()->main;
    struct green__hub_view *v = view_of(this_thread());
    struct out o = { .fd = STDERR_FILENO, .len = 0 };
    out_str(&o, "green: deadlock: every greenlet is waiting and nothing "
                "can wake any of them:\n");
    if (v) {
        unsigned none = 0;
        /* A dump in progress reads us too: then names only, below. */
        if (atomic_compare_exchange_strong(&dumping, &none, UINT32_MAX)) {
            v->running = green_current();
            v->uc = NULL;
            v->fp = __builtin_frame_address(0);
            describe_hub(&o, v, stuck);
            green__symbolize_done();
            atomic_store(&dumping, 0);
        }
    }
    out_str(&o, "green: main's wait fails with EDEADLK\n");
    out_flush(&o);
    green_ready(main, NULL);
    main->sched.wake_error = EDEADLK;
}
