/*
 * switch.c - what one context switch costs.
 *
 * Two coroutines play ping-pong: main switches to a partner, which switches
 * straight back.  A round trip is two switches; we time many round trips and
 * divide.  Every figure gets its own partner, so the figures can take turns:
 * each takes one trial of about 5 ms per round, for ten rounds, and keeps
 * its best trial.  A noisy moment on a shared machine then hits all of them
 * alike, and the best trial is the one the neighbours disturbed least.
 * run.sh runs this program several times and quotes the median.
 *
 * usage: switch [all|kit|yardsticks|hub]
 *   kit         green_ctx_switch() and green_switch() on the back end this
 *               binary was linked with (asm, or ucontext when built from the
 *               `make CTX=ucontext` library)
 *   yardsticks  the bare swap of baseline_*.S (leaving with jmp, and with
 *               ret), the ways of keeping the floating-point modes in
 *               fpctl_*.S, libc's swapcontext() on its own, and the peer,
 *               boost.context's jump_fcontext() (boost_fcontext.cpp), when
 *               built with -DBENCH_BOOST
 *   hub         a yield through the hub, green_sleep(0), between two
 *               greenlets: with the trace off, and recording (trace.h)
 * Prints one line "sample: NAME VALUE ns" per figure, and "skip: NAME why"
 * for a peer that is not installed.
 */
#include "green.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>

#define STACK_SIZE (64 * 1024)
#define TRIAL_SECONDS 0.005
#define ROUNDS 10
#define MAX_FIGURES 20

struct figure {
    const char *name;
    void (*round_trips)(long n); /* n round trips with this figure's partner */
    long n;                      /* round trips per trial */
    int traced;                  /* each trial records a trace (trace.h) */
    double best;                 /* seconds, the best trial so far */
};

static struct figure figure(const char *name, void (*round_trips)(long n))
{
    struct figure f = {name, round_trips, 0, 0, 0};
    return f;
}

/* Nanoseconds, in integers: no floating-point arithmetic near the loops
 * that time the floating-point control words. */
static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#if defined(__x86_64__)
#include <xmmintrin.h>
#define MXCSR_FLAGS 0x3f /* bits 0-5: sticky exception flags */
/* Every trial starts with MXCSR's exception flags clear.  The timing code's
 * own arithmetic raises "inexact", and a switch that loads a context's MXCSR
 * with different flags pays dearly for it (see fpctl_x86_64.S): swapcontext()
 * does, and so does switch.reload_flag, on purpose. */
static void clear_fp_flags(void)
{
    _mm_setcsr(_mm_getcsr() & ~MXCSR_FLAGS);
}
#else
static void clear_fp_flags(void)
{
    /* AArch64 keeps the flags apart from the modes (FPSR, FPCR); other
     * machines have no yardsticks */
}
#endif

/* A traced trial starts a trace and stops it (writing it to /dev/null)
 * outside the time measured: what is timed is what recording costs the
 * program, not the writing of the file at its end. */
static double trial(struct figure *f)
{
    clear_fp_flags();
    if (f->traced && green_trace_start("/dev/null", NULL) != 0) {
        perror("green_trace_start");
        exit(1);
    }
    long long t0 = now_ns();
    f->round_trips(f->n);
    long long t1 = now_ns();
    if (f->traced)
        green_trace_stop();
    return (t1 - t0) * 1e-9;
}

/* Find each figure's n (a trial of TRIAL_SECONDS), then let them take
 * turns for ROUNDS rounds, and print each one's best. */
static void measure(struct figure *fs, int count)
{
    for (int i = 0; i < count; i++)
        for (fs[i].n = 1000; (fs[i].best = trial(&fs[i])) < TRIAL_SECONDS;)
            fs[i].n *= 2;
    for (int round = 0; round < ROUNDS; round++)
        for (int i = 0; i < count; i++) {
            double t = trial(&fs[i]);
            if (t < fs[i].best)
                fs[i].best = t;
        }
    for (int i = 0; i < count; i++)
        printf("sample: %s %.3f ns\n", fs[i].name,
               fs[i].best * 1e9 / (2.0 * fs[i].n));
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static char *map_stack(void)
{
    char *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack == MAP_FAILED)
        die("mmap");
    return stack;
}

/* ---- the kit: green_ctx_switch() and green_switch() ------------------- */

static green_ctx_t main_ctx, partner_ctx;

static void ctx_partner(void *arg, void *value)
{
    (void)arg, (void)value;
    for (;;)
        green_ctx_switch(&partner_ctx, &main_ctx, NULL);
}

static void ctx_round_trips(long n)
{
    for (long i = 0; i < n; i++)
        green_ctx_switch(&main_ctx, &partner_ctx, NULL);
}

static green_t *main_greenlet, *partner_greenlet;

static void *greenlet_partner(void *arg)
{
    for (;;)
        arg = green_switch(main_greenlet, arg);
    return arg; /* never reached: the partner stays parked until exit */
}

static void greenlet_round_trips(long n)
{
    for (long i = 0; i < n; i++)
        green_switch(partner_greenlet, NULL);
}

static int kit_figures(struct figure *fs)
{
    int linked_ucontext = strcmp(green_ctx_backend(), "ucontext") == 0;
#ifdef GREEN_CTX_UCONTEXT
    int built_ucontext = 1;
#else
    int built_ucontext = 0;
#endif
    /* green_ctx_t differs between back ends: a mix-up would corrupt memory */
    if (linked_ucontext != built_ucontext) {
        fprintf(stderr, "switch: compiled for one context back end, linked "
                "with the library of the other (%s)\n", green_ctx_backend());
        exit(1);
    }

    static green_stack_t stack;
    if (green_stack_alloc(&stack, 0) != 0)
        die("green_stack_alloc");
    green_ctx_make(&partner_ctx, &stack, ctx_partner, NULL);
    main_greenlet = green_current();
    if (!(partner_greenlet = green_new(greenlet_partner, 0)))
        die("green_new");

    if (linked_ucontext) {
        fs[0] = figure("switch.ucontext", ctx_round_trips);
        fs[1] = figure("switch.greenlet_ucontext", greenlet_round_trips);
    } else {
        fs[0] = figure("switch.asm", ctx_round_trips);
        fs[1] = figure("switch.greenlet_asm", greenlet_round_trips);
    }
    return 2;
}

/* ---- the hub: a yield, the trace off and on ---------------------------- */

/* main and a partner yield to each other through the hub: a round trip is
 * main's green_sleep(0) -> hub -> partner, whose green_sleep(0) -> hub ->
 * main: two turns, so the figure is per turn (a yield and the hub's pick
 * of the next).  With the trace off, the hooks of hub.c cost one branch
 * each; on, some four records a turn. */
static void *hub_partner(void *unused)
{
    (void)unused;
    for (;;)
        green_sleep(0);
    return NULL; /* never reached: the partner yields until exit */
}

static void hub_round_trips(long n)
{
    for (long i = 0; i < n; i++)
        green_sleep(0);
}

static int hub_figures(struct figure *fs)
{
    if (green_spawn(hub_partner, NULL) == NULL)
        die("green_spawn");
    fs[0] = figure("switch.hub", hub_round_trips);
    fs[1] = figure("switch.hub_traced", hub_round_trips);
    fs[1].traced = 1;
    return 2;
}

/* ---- libc's swapcontext() on its own ---------------------------------- */

static ucontext_t uc_main, uc_partner;

static void swapcontext_partner(void)
{
    for (;;)
        swapcontext(&uc_partner, &uc_main);
}

static void swapcontext_round_trips(long n)
{
    for (long i = 0; i < n; i++)
        swapcontext(&uc_main, &uc_partner);
}

static int swapcontext_figure(struct figure *fs)
{
    if (getcontext(&uc_partner) != 0)
        die("getcontext");
    uc_partner.uc_stack.ss_sp = map_stack();
    uc_partner.uc_stack.ss_size = STACK_SIZE;
    uc_partner.uc_link = NULL;
    makecontext(&uc_partner, swapcontext_partner, 0);
    fs[0] = figure("switch.swapcontext", swapcontext_round_trips);
    return 1;
}

/* ---- the peer: boost.context's jump_fcontext() ----------------------- */

#ifdef BENCH_BOOST
int bench_boost_start(void);              /* boost_fcontext.cpp */
void bench_boost_round_trips(long n);

static int boost_figure(struct figure *fs)
{
    if (bench_boost_start() != 0)
        die("mmap");
    fs[0] = figure("switch.boost", bench_boost_round_trips);
    return 1;
}
#else
static int boost_figure(struct figure *fs)
{
    (void)fs;
    printf("skip: switch.boost boost.context: not installed (make deps-bench)\n");
    return 0;
}
#endif

/* ---- the yardsticks of baseline_*.S and fpctl_*.S --------------------- */

#if defined(__x86_64__) || defined(__aarch64__)
void bench_swap_bare(void **save, void *to);
void bench_swap_bare_ret(void **save, void *to);
void bench_swap_reload(void **save, void *to);
void bench_swap_cmp(void **save, void *to);
void bench_swap_save(void **save, void *to);
#if defined(__x86_64__)
void bench_swap_keep(void **save, void *to);
#endif

/* What a partner's floating-point control slot holds, against main's:
 * no slot at all, the same words, the same modes but a sticky exception
 * flag raised (as after any inexact division), or another rounding mode
 * and the flag (a greenlet that called fesetround() and computed). */
enum fp_slot { FP_NONE, FP_SAME, FP_FLAG, FP_ROUND_DOWN };

#if defined(__x86_64__)
#define MXCSR_INEXACT 0x20
#define MXCSR_ROUNDING 0x6000
#define MXCSR_ROUND_DOWN 0x2000
#define X87_ROUNDING 0x0c00
#define X87_ROUND_DOWN 0x0400

/* The frame the swaps pop (see the .S files), built at the top of a new
 * stack so that the first switch "returns" into entry. */
static void *first_frame(char *stack, void (*entry)(void), enum fp_slot fp)
{
    uint64_t *sp = (uint64_t *)(stack + STACK_SIZE);
    *--sp = 0;                          /* entry starts with rsp % 16 == 8, */
    *--sp = (uint64_t)(uintptr_t)entry; /* as if it had just been called */
    for (int i = 0; i < 6; i++)
        *--sp = 0;                      /* r15 r14 r13 r12 rbx rbp */
    if (fp != FP_NONE) {
        uint32_t mxcsr = _mm_getcsr() & ~MXCSR_FLAGS;
        uint16_t x87;
        __asm__ volatile("fnstcw %0" : "=m"(x87));
        if (fp == FP_FLAG || fp == FP_ROUND_DOWN)
            mxcsr |= MXCSR_INEXACT;
        if (fp == FP_ROUND_DOWN) {
            mxcsr = (mxcsr & ~MXCSR_ROUNDING) | MXCSR_ROUND_DOWN;
            x87 = (x87 & ~X87_ROUNDING) | X87_ROUND_DOWN;
        }
        *--sp = mxcsr | (uint64_t)x87 << 32;
    }
    return sp;
}
#else
#define FPCR_ROUNDING (3ull << 22)
#define FPCR_ROUND_DOWN (2ull << 22)

static void *first_frame(char *stack, void (*entry)(void), enum fp_slot fp)
{
    uint64_t *sp = (uint64_t *)(stack + STACK_SIZE) - 12; /* x19..x30 */
    memset(sp, 0, 12 * sizeof *sp);
    sp[11] = (uint64_t)(uintptr_t)entry;  /* x30: where `br x30` goes */
    if (fp != FP_NONE) {
        uint64_t fpcr;
        __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
        if (fp == FP_ROUND_DOWN)
            fpcr = (fpcr & ~FPCR_ROUNDING) | FPCR_ROUND_DOWN;
        sp -= 2;
        sp[0] = fpcr;
        sp[1] = 0;
    }
    return sp;
}
#endif

/* Where main and each yardstick's partner are parked.  Each yardstick has
 * its own partner, and a pair of loops that call its swap directly, as the
 * kit's loops call green_ctx_switch(). */
static void *main_sp, *bare_sp, *ret_sp, *reload_sp, *reload_flag_sp,
            *cmp_sp, *cmp_round_sp, *save_sp;

static void bare_partner(void)
{
    for (;;)
        bench_swap_bare(&bare_sp, main_sp);
}

static void bare_round_trips(long n)
{
    for (long i = 0; i < n; i++)
        bench_swap_bare(&main_sp, bare_sp);
}

static void ret_partner(void)
{
    for (;;)
        bench_swap_bare_ret(&ret_sp, main_sp);
}

static void ret_round_trips(long n)
{
    for (long i = 0; i < n; i++)
        bench_swap_bare_ret(&main_sp, ret_sp);
}

static void reload_partner(void)
{
    for (;;)
        bench_swap_reload(&reload_sp, main_sp);
}

static void reload_round_trips(long n)
{
    for (long i = 0; i < n; i++)
        bench_swap_reload(&main_sp, reload_sp);
}

static void reload_flag_partner(void)
{
    for (;;)
        bench_swap_reload(&reload_flag_sp, main_sp);
}

static void reload_flag_round_trips(long n)
{
    for (long i = 0; i < n; i++)
        bench_swap_reload(&main_sp, reload_flag_sp);
}

static void cmp_partner(void)
{
    for (;;)
        bench_swap_cmp(&cmp_sp, main_sp);
}

static void cmp_round_trips(long n)
{
    for (long i = 0; i < n; i++)
        bench_swap_cmp(&main_sp, cmp_sp);
}

static void cmp_round_partner(void)
{
    for (;;)
        bench_swap_cmp(&cmp_round_sp, main_sp);
}

static void cmp_round_round_trips(long n)
{
    for (long i = 0; i < n; i++)
        bench_swap_cmp(&main_sp, cmp_round_sp);
}

static void save_partner(void)
{
    for (;;)
        bench_swap_save(&save_sp, main_sp);
}

static void save_round_trips(long n)
{
    for (long i = 0; i < n; i++)
        bench_swap_save(&main_sp, save_sp);
}

#if defined(__x86_64__)
static void *keep_sp, *keep_flag_sp;

static void keep_partner(void)
{
    for (;;)
        bench_swap_keep(&keep_sp, main_sp);
}

static void keep_round_trips(long n)
{
    for (long i = 0; i < n; i++)
        bench_swap_keep(&main_sp, keep_sp);
}

static void keep_flag_partner(void)
{
    for (;;)
        bench_swap_keep(&keep_flag_sp, main_sp);
}

static void keep_flag_round_trips(long n)
{
    for (long i = 0; i < n; i++)
        bench_swap_keep(&main_sp, keep_flag_sp);
}

/* Always reloaded keeping our flags: only x86-64 has flags to keep (AArch64
 * keeps them apart, in FPSR, where no switch touches them). */
static int keep_figures(struct figure *fs)
{
    keep_sp = first_frame(map_stack(), keep_partner, FP_SAME);
    keep_flag_sp = first_frame(map_stack(), keep_flag_partner, FP_FLAG);
    fs[0] = figure("switch.keep", keep_round_trips);
    fs[1] = figure("switch.keep_flag", keep_flag_round_trips);
    return 2;
}
#else
static int keep_figures(struct figure *fs)
{
    (void)fs;
    return 0;
}
#endif

static int yardstick_figures(struct figure *fs)
{
    bare_sp = first_frame(map_stack(), bare_partner, FP_NONE);
    ret_sp = first_frame(map_stack(), ret_partner, FP_NONE);
    reload_sp = first_frame(map_stack(), reload_partner, FP_SAME);
    reload_flag_sp = first_frame(map_stack(), reload_flag_partner, FP_FLAG);
    cmp_sp = first_frame(map_stack(), cmp_partner, FP_SAME);
    cmp_round_sp = first_frame(map_stack(), cmp_round_partner, FP_ROUND_DOWN);
    fs[0] = figure("switch.baseline", bare_round_trips);
    fs[1] = figure("switch.baseline_ret", ret_round_trips);
    fs[2] = figure("switch.reload", reload_round_trips);
    fs[3] = figure("switch.reload_flag", reload_flag_round_trips);
    fs[4] = figure("switch.cmp", cmp_round_trips);
    fs[5] = figure("switch.cmp_round", cmp_round_round_trips);
    save_sp = first_frame(map_stack(), save_partner, FP_SAME);
    fs[6] = figure("switch.save", save_round_trips);
    int count = 7 + keep_figures(fs + 7);
    count += swapcontext_figure(fs + count);
    return count + boost_figure(fs + count);
}
#else
static int yardstick_figures(struct figure *fs)
{
    fprintf(stderr, "switch: no bare swap for this machine\n");
    int count = swapcontext_figure(fs);
    return count + boost_figure(fs + count);
}
#endif

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "all";
    int all = strcmp(what, "all") == 0;
    if (!all && strcmp(what, "kit") != 0 && strcmp(what, "yardsticks") != 0
        && strcmp(what, "hub") != 0) {
        fprintf(stderr, "usage: %s [all|kit|yardsticks|hub]\n", argv[0]);
        return 2;
    }
    struct figure fs[MAX_FIGURES];
    int count = 0;
    if (all || strcmp(what, "yardsticks") == 0)
        count += yardstick_figures(fs + count);
    if (all || strcmp(what, "kit") == 0)
        count += kit_figures(fs + count);
    if (all || strcmp(what, "hub") == 0)
        count += hub_figures(fs + count);
    measure(fs, count);
    /* The partners stay parked on their stacks; exit takes everything back. */
    return 0;
}
