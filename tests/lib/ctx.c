/*
 * tests/lib/ctx.c - the library's own tests of ctx.h: stacks with a guard
 * page, and the machine context switch (whichever back end is built in).
 */
#include "harness.h"
#include "green.h"

#include <errno.h>
#include <fenv.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static size_t page(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

static size_t round_to_pages(size_t n)
{
    return (n + page() - 1) / page() * page();
}

/* The fault tests want the kernel's default action, whatever handler a
 * sanitizer (or the greenlet layer) may have installed: a guard page must
 * stop the process by itself. */
static void default_segv(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
}

/* ---- Stacks ---------------------------------------------------------- */

START_TEST(test_stack_sizes_rounded_to_pages)
{
    size_t p = page();
    size_t asked[] = { 1, p - 1, p, p + 1, 3 * p, 100000, 1 << 20 };
    for (size_t i = 0; i < sizeof asked / sizeof asked[0]; i++) {
        green_stack_t s;
        memset(&s, 0xa5, sizeof s);
        int r = green_stack_alloc(&s, asked[i]);
        ck_assert_msg(r == 0, "green_stack_alloc(%zu): expected 0, got %d",
                      asked[i], r);
        ck_assert_msg(s.size == round_to_pages(asked[i]),
                      "green_stack_alloc(%zu): expected size %zu (whole "
                      "pages of %zu), got %zu", asked[i],
                      round_to_pages(asked[i]), p, s.size);
        ck_assert_msg(s.guard_size == p, "expected a guard of one page (%zu), "
                      "got %zu", p, s.guard_size);
        ck_assert_msg((uintptr_t)s.guard % p == 0, "expected the guard page "
                      "page-aligned, got %p", (void *)s.guard);
        ck_assert_msg(s.lo == s.guard + s.guard_size, "expected lo just above "
                      "the guard (%p), got %p", (void *)(s.guard + s.guard_size),
                      (void *)s.lo);
        /* Every usable byte is writable, first and last included. */
        s.lo[0] = 1;
        s.lo[s.size - 1] = 2;
        memset(s.lo, 7, s.size);
        ck_assert(s.lo[s.size / 2] == 7);
        green_stack_free(&s);
    }
}
END_TEST

START_TEST(test_stack_default_size)
{
    green_stack_t s;
    ck_assert_int_eq(green_stack_alloc(&s, 0), 0);
    ck_assert_msg(s.size == round_to_pages(GREEN_STACK_DEFAULT),
                  "green_stack_alloc(0): expected the default %zu bytes, "
                  "got %zu", round_to_pages(GREEN_STACK_DEFAULT), s.size);
    green_stack_free(&s);
}
END_TEST

START_TEST(test_stack_alloc_too_big)
{
    /* Sizes no machine can map, including ones whose rounding up to whole
     * pages would wrap around to a small number. */
    size_t p = page();
    size_t huge[] = { SIZE_MAX, SIZE_MAX - p, SIZE_MAX - 2 * p + 2,
                      (size_t)1 << 62 };
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        green_stack_t s;
        memset(&s, 0, sizeof s);
        errno = 0;
        int r = green_stack_alloc(&s, huge[i]);
        int saved = errno;
        if (r == 0) {
            size_t got = s.size;
            green_stack_free(&s);
            ck_abort_msg("green_stack_alloc(%#zx): expected -1 with ENOMEM, "
                         "got 0 with a stack of %zu bytes", huge[i], got);
        }
        ck_assert_msg(r == -1 && saved == ENOMEM, "green_stack_alloc(%#zx): "
                      "expected -1 with ENOMEM, got %d with errno %d (%s)",
                      huge[i], r, saved, strerror(saved));
    }
}
END_TEST

START_TEST(test_guard_page_faults)
{
    green_stack_t s;
    ck_assert_int_eq(green_stack_alloc(&s, 4 * page()), 0);
    default_segv();
    *(volatile char *)s.guard = 1;
    ck_abort_msg("expected writing the guard page to raise SIGSEGV; it "
                 "did not");
}
END_TEST

START_TEST(test_guard_page_read_faults)
{
    green_stack_t s;
    ck_assert_int_eq(green_stack_alloc(&s, 4 * page()), 0);
    default_segv();
    /* The byte just below the usable stack: the first one an overflow hits */
    char c = *(volatile char *)(s.lo - 1);
    ck_abort_msg("expected reading the guard page to raise SIGSEGV; it read "
                 "%d", c);
}
END_TEST

/* An address `n` bytes below `p`, outside any object (so not by pointer
 * arithmetic, which C defines only within an object). */
static const char *below(const char *p, size_t n)
{
    return (const char *)((uintptr_t)p - n);
}

START_TEST(test_stack_overflowed)
{
    size_t p = page();
    green_stack_t s;
    ck_assert_int_eq(green_stack_alloc(&s, 8 * p), 0);
    struct { const char *what; const char *addr; int expected; } cases[] = {
        { "the guard's first byte", s.guard, 1 },
        { "the guard's middle", s.guard + p / 2, 1 },
        { "the guard's last byte", s.lo - 1, 1 },
        { "the page below the guard", below(s.guard, p / 2), 1 },
        { "the lowest usable byte", s.lo, 0 },
        { "the middle of the stack", s.lo + s.size / 2, 0 },
        { "the highest usable byte", s.lo + s.size - 1, 0 },
        { "just above the stack", s.lo + s.size, 0 },
        { "two pages below the guard", below(s.guard, 2 * p + 1), 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = green_stack_overflowed(&s, cases[i].addr);
        ck_assert_msg(got == cases[i].expected, "green_stack_overflowed at "
                      "%s: expected %d, got %d", cases[i].what,
                      cases[i].expected, got);
    }
    int got = green_stack_overflowed(&s, NULL);
    ck_assert_msg(got == 0, "green_stack_overflowed(NULL): expected 0, got %d",
                  got);
    green_stack_free(&s);
}
END_TEST

START_TEST(test_many_stacks)
{
    enum { N = 500 };
    static green_stack_t s[N];
    for (int i = 0; i < N; i++) {
        ck_assert_msg(green_stack_alloc(&s[i], 16 * 1024) == 0,
                      "stack %d of %d: allocation failed", i, N);
        s[i].lo[s[i].size - 1] = (char)i;
    }
    for (int i = 0; i < N; i++) {
        ck_assert_msg(s[i].lo[s[i].size - 1] == (char)i, "stack %d: expected "
                      "its own byte back; stacks overlap", i);
        for (int j = i + 1; j < N && j < i + 4; j++)
            ck_assert(s[i].guard + s[i].guard_size + s[i].size <= s[j].guard ||
                      s[j].guard + s[j].guard_size + s[j].size <= s[i].guard);
    }
    for (int i = 0; i < N; i++)
        green_stack_free(&s[i]);
}
END_TEST

/* ---- Switching ------------------------------------------------------- */

static green_ctx_t main_ctx, other_ctx, third_ctx;
static green_stack_t other_stack, third_stack;

static void start(green_ctx_t *c, green_stack_t *s, size_t size,
                  void (*entry)(void *, void *), void *arg)
{
    ck_assert_int_eq(green_stack_alloc(s, size), 0);
    memset(c, 0, sizeof *c);
    memset(&main_ctx, 0, sizeof main_ctx);
    green_ctx_make(c, s, entry, arg);
}

/* The other side of a ping-pong: it receives k from main and answers with
 * 2k + 1; main checks every answer, and the other side checks that each
 * value it receives is the one main sent. */
static long pongs;
static int pong_finished;
static void *pong_arg, *pong_first_value;
static long pong_bad_value = -1;

#define INT2P(i) ((void *)(intptr_t)(i))
#define P2INT(p) ((long)(intptr_t)(p))

static void pong_entry(void *arg, void *value)
{
    pong_arg = arg;
    pong_first_value = value;
    long n = *(long *)arg;
    long k = P2INT(value);
    for (long i = 0; i < n; i++) {
        if (k != i && pong_bad_value < 0)
            pong_bad_value = i;
        pongs++;
        k = P2INT(green_ctx_switch(&other_ctx, &main_ctx, INT2P(2 * k + 1)));
    }
    pong_finished = 1;
    green_ctx_switch_last(&other_ctx, &main_ctx, "bye");
}

START_TEST(test_ping_pong)
{
    long n = 20000;
    pongs = 0;
    pong_finished = 0;
    pong_bad_value = -1;
    start(&other_ctx, &other_stack, 0, pong_entry, &n);
    ck_assert_msg(pongs == 0, "green_ctx_make must not run the entry");
    for (long k = 0; k < n; k++) {
        void *back = green_ctx_switch(&main_ctx, &other_ctx, INT2P(k));
        ck_assert_msg(pongs == k + 1, "after switch %ld: expected the other "
                      "context to have run %ld times, got %ld", k + 1, k + 1,
                      pongs);
        ck_assert_msg(back == INT2P(2 * k + 1), "switch %ld: sent %ld, "
                      "expected %ld back, got %ld", k, k, 2 * k + 1,
                      P2INT(back));
        if (k == 0) {
            ck_assert_msg(pong_arg == &n, "expected entry's argument %p, "
                          "got %p", (void *)&n, pong_arg);
            ck_assert_msg(pong_first_value == INT2P(0), "expected entry's "
                          "value to be the first switch's value 0, got %p",
                          pong_first_value);
        }
    }
    ck_assert_msg(pong_bad_value < 0, "switch %ld: the other context "
                  "received a value other than the one main sent",
                  pong_bad_value);
    ck_assert(!pong_finished);
    void *last = green_ctx_switch(&main_ctx, &other_ctx, INT2P(n));
    ck_assert_msg(pong_finished, "expected the other context to finish and "
                  "switch_last back");
    ck_assert_msg(last != NULL && strcmp(last, "bye") == 0, "expected "
                  "green_ctx_switch_last's value \"bye\", got %p", last);
    green_stack_free(&other_stack);
}
END_TEST

/* Three contexts in a ring: main -> A -> B -> main, several laps. */
static char ring_trace[64];

static void ring_add(char c)
{
    size_t n = strlen(ring_trace);
    ring_trace[n] = c;
    ring_trace[n + 1] = '\0';
}

static void ring_a(void *arg, void *value)
{
    (void)value;
    (void)arg;
    for (;;) {
        ring_add('a');
        green_ctx_switch(&other_ctx, &third_ctx, NULL);
    }
}

static void ring_b(void *arg, void *value)
{
    (void)value;
    (void)arg;
    for (;;) {
        ring_add('b');
        green_ctx_switch(&third_ctx, &main_ctx, NULL);
    }
}

START_TEST(test_three_contexts)
{
    ring_trace[0] = '\0';
    start(&other_ctx, &other_stack, 0, ring_a, NULL);
    ck_assert_int_eq(green_stack_alloc(&third_stack, 0), 0);
    green_ctx_make(&third_ctx, &third_stack, ring_b, NULL);
    for (int lap = 0; lap < 4; lap++) {
        ring_add('m');
        green_ctx_switch(&main_ctx, &other_ctx, NULL);
    }
    ck_assert_msg(strcmp(ring_trace, "mabmabmabmab") == 0,
                  "expected \"mabmabmabmab\", got \"%s\"", ring_trace);
    /* Both contexts are parked mid-loop; their stacks can go. */
    green_stack_free(&other_stack);
    green_stack_free(&third_stack);
}
END_TEST

static unsigned long bits_of(double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return (unsigned long)bits;
}

/* Many values live across switches: the compiler keeps them in callee-saved
 * registers, which the switch must preserve on both sides. */
static __attribute__((noinline)) unsigned long
mix(unsigned long seed, int rounds, green_ctx_t *self, green_ctx_t *peer)
{
    unsigned long a = seed * 3 + 1, b = seed ^ 0x5bd1e995, c = seed + 77;
    unsigned long d = seed * seed, e = ~seed, f = seed << 7, g = seed >> 3;
    unsigned long h = seed * 0x9e3779b9, i = seed + 0x1234, j = seed ^ 0xff;
    double x = (double)(seed % 1000) / 7.0, y = 1.5, z = (double)seed;
    for (int r = 0; r < rounds; r++) {
        if (self)
            green_ctx_switch(self, peer, NULL);
        a = a * 31 + b;  b ^= c >> 3;   c += d * 7;  d = d * 13 + e;
        e ^= f << 1;     f += g;        g = g * 5 + h; h ^= i + r;
        i += j * 3;      j = j * 17 + a;
        x = x * 0.5 + y; y = y * 1.25 - z * 0.001; z = z + x;
    }
    return a ^ b ^ c ^ d ^ e ^ f ^ g ^ h ^ i ^ j ^
           bits_of(x) ^ (bits_of(y) << 1) ^ (bits_of(z) << 2);
}

static unsigned long other_mix;

static void mix_entry(void *arg, void *value)
{
    (void)value;
    (void)arg;
    other_mix = mix(424242, 1000, &other_ctx, &main_ctx);
    green_ctx_switch_last(&other_ctx, &main_ctx, NULL);
}

START_TEST(test_live_locals_survive)
{
    unsigned long want_main = mix(1001, 1000, NULL, NULL);
    unsigned long want_other = mix(424242, 1000, NULL, NULL);
    start(&other_ctx, &other_stack, 0, mix_entry, NULL);
    unsigned long got_main = mix(1001, 1000, &main_ctx, &other_ctx);
    green_ctx_switch(&main_ctx, &other_ctx, NULL);   /* let the other finish */
    ck_assert_msg(got_main == want_main, "main context: locals changed "
                  "across switches: expected %#lx, got %#lx", want_main,
                  got_main);
    ck_assert_msg(other_mix == want_other, "new context: locals changed "
                  "across switches: expected %#lx, got %#lx", want_other,
                  other_mix);
    green_stack_free(&other_stack);
}
END_TEST

/* ---- Callee-saved registers, checked in assembly ---------------------- */

/* probe(fn, out, in) loads the callee-saved registers from in[], calls fn(),
 * and stores what those registers hold afterwards in out[].  The C compiler
 * is out of the loop, so this checks the switch itself. */
#if defined(__x86_64__)
#define PROBE_REGS 6
static const char *const probe_names[PROBE_REGS] = {
    "rbx", "rbp", "r12", "r13", "r14", "r15"
};
__asm__(
    "    .text\n"
    "    .p2align 4\n"
    "    .globl kit_probe_callee_saved\n"
    "    .hidden kit_probe_callee_saved\n"
    "    .type kit_probe_callee_saved, @function\n"
    "kit_probe_callee_saved:\n"
    "    pushq %rbp\n"
    "    pushq %rbx\n"
    "    pushq %r12\n"
    "    pushq %r13\n"
    "    pushq %r14\n"
    "    pushq %r15\n"
    "    pushq %rsi\n"              /* out; also makes rsp 16-byte aligned */
    "    movq 0(%rdx), %rbx\n"
    "    movq 8(%rdx), %rbp\n"
    "    movq 16(%rdx), %r12\n"
    "    movq 24(%rdx), %r13\n"
    "    movq 32(%rdx), %r14\n"
    "    movq 40(%rdx), %r15\n"
    "    call *%rdi\n"
    "    movq (%rsp), %rax\n"
    "    movq %rbx, 0(%rax)\n"
    "    movq %rbp, 8(%rax)\n"
    "    movq %r12, 16(%rax)\n"
    "    movq %r13, 24(%rax)\n"
    "    movq %r14, 32(%rax)\n"
    "    movq %r15, 40(%rax)\n"
    "    addq $8, %rsp\n"
    "    popq %r15\n"
    "    popq %r14\n"
    "    popq %r13\n"
    "    popq %r12\n"
    "    popq %rbx\n"
    "    popq %rbp\n"
    "    ret\n"
    "    .size kit_probe_callee_saved, .-kit_probe_callee_saved\n");
#elif defined(__aarch64__)
#define PROBE_REGS 18
static const char *const probe_names[PROBE_REGS] = {
    "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28",
    "d8", "d9", "d10", "d11", "d12", "d13", "d14", "d15"
};
__asm__(
    "    .text\n"
    "    .p2align 2\n"
    "    .globl kit_probe_callee_saved\n"
    "    .hidden kit_probe_callee_saved\n"
    "    .type kit_probe_callee_saved, %function\n"
    "kit_probe_callee_saved:\n"
    "    stp x29, x30, [sp, #-176]!\n"
    "    mov x29, sp\n"
    "    stp x19, x20, [sp, #16]\n"
    "    stp x21, x22, [sp, #32]\n"
    "    stp x23, x24, [sp, #48]\n"
    "    stp x25, x26, [sp, #64]\n"
    "    stp x27, x28, [sp, #80]\n"
    "    stp d8, d9, [sp, #96]\n"
    "    stp d10, d11, [sp, #112]\n"
    "    stp d12, d13, [sp, #128]\n"
    "    stp d14, d15, [sp, #144]\n"
    "    str x1, [sp, #160]\n"
    "    ldp x19, x20, [x2, #0]\n"
    "    ldp x21, x22, [x2, #16]\n"
    "    ldp x23, x24, [x2, #32]\n"
    "    ldp x25, x26, [x2, #48]\n"
    "    ldp x27, x28, [x2, #64]\n"
    "    ldp d8, d9, [x2, #80]\n"
    "    ldp d10, d11, [x2, #96]\n"
    "    ldp d12, d13, [x2, #112]\n"
    "    ldp d14, d15, [x2, #128]\n"
    "    blr x0\n"
    "    ldr x1, [sp, #160]\n"
    "    stp x19, x20, [x1, #0]\n"
    "    stp x21, x22, [x1, #16]\n"
    "    stp x23, x24, [x1, #32]\n"
    "    stp x25, x26, [x1, #48]\n"
    "    stp x27, x28, [x1, #64]\n"
    "    stp d8, d9, [x1, #80]\n"
    "    stp d10, d11, [x1, #96]\n"
    "    stp d12, d13, [x1, #112]\n"
    "    stp d14, d15, [x1, #128]\n"
    "    ldp x19, x20, [sp, #16]\n"
    "    ldp x21, x22, [sp, #32]\n"
    "    ldp x23, x24, [sp, #48]\n"
    "    ldp x25, x26, [sp, #64]\n"
    "    ldp x27, x28, [sp, #80]\n"
    "    ldp d8, d9, [sp, #96]\n"
    "    ldp d10, d11, [sp, #112]\n"
    "    ldp d12, d13, [sp, #128]\n"
    "    ldp d14, d15, [sp, #144]\n"
    "    ldp x29, x30, [sp], #176\n"
    "    ret\n"
    "    .size kit_probe_callee_saved, .-kit_probe_callee_saved\n");
#endif

#ifdef PROBE_REGS
void kit_probe_callee_saved(void (*fn)(void), uint64_t *out, const uint64_t *in);

static uint64_t probe_in_main[PROBE_REGS], probe_out_main[PROBE_REGS];
static uint64_t probe_in_other[PROBE_REGS], probe_out_other[PROBE_REGS];

static void switch_to_other(void) { green_ctx_switch(&main_ctx, &other_ctx, NULL); }
static void switch_to_main(void) { green_ctx_switch(&other_ctx, &main_ctx, NULL); }

static void probe_entry(void *arg, void *value)
{
    (void)value;
    (void)arg;
    for (;;)
        kit_probe_callee_saved(switch_to_main, probe_out_other, probe_in_other);
}

static void fill(uint64_t *v, uint64_t seed)
{
    for (int i = 0; i < PROBE_REGS; i++)
        v[i] = seed * 0x0101010101010101ull + (uint64_t)i * 0x1111;
}

START_TEST(test_callee_saved_registers)
{
    uint64_t other_loaded[PROBE_REGS];
    start(&other_ctx, &other_stack, 0, probe_entry, NULL);
    for (int round = 0; round < 8; round++) {
        /* What the other context loaded last round (it is parked inside
         * its probe with these values in its registers). */
        memcpy(other_loaded, probe_in_other, sizeof other_loaded);
        fill(probe_in_main, 0x10 + (uint64_t)round);
        fill(probe_in_other, 0xa0 + (uint64_t)round);
        memset(probe_out_main, 0, sizeof probe_out_main);
        memset(probe_out_other, 0, sizeof probe_out_other);
        /* main probes around a switch to other; other comes back out of
         * last round's probe (storing what it finds in its registers),
         * starts a new probe with this round's values, and switches back. */
        kit_probe_callee_saved(switch_to_other, probe_out_main, probe_in_main);
        for (int i = 0; i < PROBE_REGS; i++)
            ck_assert_msg(probe_out_main[i] == probe_in_main[i],
                          "round %d: the main context's %s changed across a "
                          "switch: expected %#llx, got %#llx", round,
                          probe_names[i],
                          (unsigned long long)probe_in_main[i],
                          (unsigned long long)probe_out_main[i]);
        if (round == 0)
            continue;   /* the other context's first probe is still open */
        for (int i = 0; i < PROBE_REGS; i++)
            ck_assert_msg(probe_out_other[i] == other_loaded[i],
                          "round %d: the new context's %s changed across a "
                          "switch: expected %#llx, got %#llx", round,
                          probe_names[i],
                          (unsigned long long)other_loaded[i],
                          (unsigned long long)probe_out_other[i]);
    }
    green_stack_free(&other_stack);
}
END_TEST
#endif

/* ---- Floating point modes --------------------------------------------- */

/* The rounding mode as the arithmetic sees it (SSE's MXCSR on x86-64,
 * FPCR on AArch64), told apart by double-to-float conversions, which even
 * Valgrind rounds as the mode says. */
static int rounding_by_arithmetic(void)
{
    volatile double just_above_one = 1.0 + 0x1p-30;
    volatile double just_below_minus_one = -(1.0 + 0x1p-30);
    volatile double third = 1.0 / 3.0;
    float a = (float)just_above_one;
    float b = (float)just_below_minus_one;
    float c = (float)third;
    if (a > 1.0f)
        return FE_UPWARD;
    if (b < -1.0f)
        return FE_DOWNWARD;
    return c == 0x1.555556p-2f ? FE_TONEAREST : FE_TOWARDZERO;
}

static const char *mode_name(int mode)
{
    switch (mode) {
    case FE_TONEAREST: return "FE_TONEAREST";
    case FE_UPWARD: return "FE_UPWARD";
    case FE_DOWNWARD: return "FE_DOWNWARD";
    case FE_TOWARDZERO: return "FE_TOWARDZERO";
    default: return "unknown";
    }
}

enum { FP_ROUNDS = 6 };
static int other_fegetround[FP_ROUNDS], other_arith[FP_ROUNDS];

static void fp_entry(void *arg, void *value)
{
    (void)value;
    (void)arg;
    fesetround(FE_UPWARD);
    for (int r = 0; r < FP_ROUNDS; r++) {
        green_ctx_switch(&other_ctx, &main_ctx, NULL);
        other_fegetround[r] = fegetround();
        other_arith[r] = rounding_by_arithmetic();
    }
    green_ctx_switch_last(&other_ctx, &main_ctx, NULL);
}

START_TEST(test_rounding_mode_per_context)
{
    static const int main_modes[FP_ROUNDS] = {
        FE_TONEAREST, FE_DOWNWARD, FE_TOWARDZERO,
        FE_TONEAREST, FE_DOWNWARD, FE_TOWARDZERO
    };
    ck_assert_msg(rounding_by_arithmetic() == FE_TONEAREST,
                  "test setup: expected to start in FE_TONEAREST, got %s",
                  mode_name(rounding_by_arithmetic()));
    /* The arithmetic probe itself must see every mode. */
    static const int all[] = { FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO,
                               FE_TONEAREST };
    for (int i = 0; i < 4; i++) {
        fesetround(all[i]);
        ck_assert_msg(rounding_by_arithmetic() == all[i], "test setup: "
                      "expected arithmetic to round %s, got %s",
                      mode_name(all[i]), mode_name(rounding_by_arithmetic()));
    }

    start(&other_ctx, &other_stack, 0, fp_entry, NULL);
    green_ctx_switch(&main_ctx, &other_ctx, NULL);   /* other sets FE_UPWARD */
    for (int r = 0; r < FP_ROUNDS; r++) {
        fesetround(main_modes[r]);
        green_ctx_switch(&main_ctx, &other_ctx, NULL);
        int got = fegetround();
        int arith = rounding_by_arithmetic();
        fesetround(FE_TONEAREST);   /* so that messages print sanely */
        ck_assert_msg(got == main_modes[r], "round %d: main context set %s; "
                      "after switching to a context that uses FE_UPWARD and "
                      "back, fegetround() says %s", r,
                      mode_name(main_modes[r]), mode_name(got));
        ck_assert_msg(arith == main_modes[r], "round %d: main context set %s; "
                      "after switching to a context that uses FE_UPWARD and "
                      "back, arithmetic rounds %s", r,
                      mode_name(main_modes[r]), mode_name(arith));
        ck_assert_msg(other_fegetround[r] == FE_UPWARD, "round %d: the new "
                      "context set FE_UPWARD; after main set %s and switched "
                      "back, fegetround() there says %s", r,
                      mode_name(main_modes[r]),
                      mode_name(other_fegetround[r]));
        ck_assert_msg(other_arith[r] == FE_UPWARD, "round %d: the new "
                      "context set FE_UPWARD; after main set %s and switched "
                      "back, its arithmetic rounds %s", r,
                      mode_name(main_modes[r]), mode_name(other_arith[r]));
    }
    fesetround(FE_TONEAREST);
    green_stack_free(&other_stack);
}
END_TEST

/* ---- Stack alignment and use ------------------------------------------ */

static uintptr_t aligned_local_entry, aligned_local_nested, aligned_local_later;

static __attribute__((noinline)) void note_aligned_local(uintptr_t *where)
{
    _Alignas(16) volatile char buf[16];
    buf[0] = 1;
    *where = (uintptr_t)buf;
}

static void align_entry(void *arg, void *value)
{
    (void)value;
    (void)arg;
    /* The compiler aligns 16-byte objects relative to the stack pointer,
     * trusting the ABI's promise that it is 16-byte aligned at a call. */
    _Alignas(16) volatile char buf[16];
    buf[0] = 1;
    aligned_local_entry = (uintptr_t)buf;
    note_aligned_local(&aligned_local_nested);
    green_ctx_switch(&other_ctx, &main_ctx, NULL);
    note_aligned_local(&aligned_local_later);
    green_ctx_switch_last(&other_ctx, &main_ctx, NULL);
}

START_TEST(test_entry_stack_aligned)
{
    /* An odd size, so that the top of the stack is no accident. */
    size_t sizes[] = { 0, 5000, 3 * page() + 8 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        aligned_local_entry = aligned_local_nested = aligned_local_later = 1;
        start(&other_ctx, &other_stack, sizes[i], align_entry, NULL);
        green_ctx_switch(&main_ctx, &other_ctx, NULL);
        green_ctx_switch(&main_ctx, &other_ctx, NULL);
        ck_assert_msg(aligned_local_entry % 16 == 0, "stack of %zu bytes: "
                      "expected a 16-byte aligned local in the entry "
                      "function, got address %#lx (stack misaligned at "
                      "entry)", sizes[i], (unsigned long)aligned_local_entry);
        ck_assert_msg(aligned_local_nested % 16 == 0, "stack of %zu bytes: "
                      "expected a 16-byte aligned local in a function the "
                      "entry calls, got %#lx", sizes[i],
                      (unsigned long)aligned_local_nested);
        ck_assert_msg(aligned_local_later % 16 == 0, "stack of %zu bytes: "
                      "expected a 16-byte aligned local after a switch back, "
                      "got %#lx", sizes[i],
                      (unsigned long)aligned_local_later);
        ck_assert_msg(aligned_local_entry > (uintptr_t)other_stack.lo &&
                      aligned_local_entry < (uintptr_t)(other_stack.lo +
                                                        other_stack.size),
                      "expected the entry function to run on the given stack "
                      "[%p, %p), its local is at %#lx", (void *)other_stack.lo,
                      (void *)(other_stack.lo + other_stack.size),
                      (unsigned long)aligned_local_entry);
        green_stack_free(&other_stack);
    }
}
END_TEST

static __attribute__((noinline)) long dig(int depth)
{
    volatile char frame[512];
    memset((char *)frame, depth & 0x7f, sizeof frame);
    if (depth == 0)
        return frame[0];
    return dig(depth - 1) + frame[depth % 512];
}

static long dig_result;

static void dig_entry(void *arg, void *value)
{
    (void)value;
    dig_result = dig(*(int *)arg);
    green_ctx_switch_last(&other_ctx, &main_ctx, NULL);
}

START_TEST(test_deep_use_of_stack)
{
    int depth = 100;   /* about 60 KiB of a 256 KiB stack */
    long want = dig(depth);
    dig_result = -1;
    start(&other_ctx, &other_stack, 256 * 1024, dig_entry, &depth);
    green_ctx_switch(&main_ctx, &other_ctx, NULL);
    ck_assert_msg(dig_result == want, "expected %ld from the recursion on "
                  "the new stack, got %ld", want, dig_result);
    green_stack_free(&other_stack);
}
END_TEST

/* "Forever" as far as any stack is concerned; the compiler cannot see it. */
static volatile long forever = 1L << 40;

static __attribute__((noinline)) long dig_forever(long depth)
{
    volatile char frame[256];
    frame[0] = (char)depth;
    if (depth >= forever)
        return frame[0];
    return dig_forever(depth + 1) + frame[0];
}

static void overflow_entry(void *arg, void *value)
{
    (void)value;
    (void)arg;
    dig_forever(0);
    green_ctx_switch_last(&other_ctx, &main_ctx, NULL);
}

START_TEST(test_context_overflow_faults)
{
    start(&other_ctx, &other_stack, 16 * 1024, overflow_entry, NULL);
    default_segv();
    green_ctx_switch(&main_ctx, &other_ctx, NULL);
    ck_abort_msg("expected endless recursion on a 16 KiB stack to hit the "
                 "guard page and raise SIGSEGV; it came back");
}
END_TEST

/* ---- The back end ----------------------------------------------------- */

START_TEST(test_backend_name)
{
    const char *name = green_ctx_backend();
    ck_assert_msg(name != NULL, "expected a back end name, got NULL");
    ck_assert_msg(strcmp(name, "x86_64") == 0 || strcmp(name, "aarch64") == 0 ||
                  strcmp(name, "ucontext") == 0,
                  "expected \"x86_64\", \"aarch64\" or \"ucontext\", got "
                  "\"%s\"", name);
#if defined(GREEN_CTX_UCONTEXT)
    const char *expected = "ucontext";
#elif defined(__x86_64__)
    const char *expected = "x86_64";
#elif defined(__aarch64__)
    const char *expected = "aarch64";
#else
    const char *expected = name;
#endif
    ck_assert_msg(strcmp(name, expected) == 0, "this build should use the "
                  "\"%s\" back end, green_ctx_backend() says \"%s\"", expected,
                  name);
}
END_TEST

static Suite *ctx_suite(void)
{
    Suite *s = suite_create("lib/ctx");
    TCase *tc = kit_tcase("stacks");
    tcase_add_test(tc, test_stack_sizes_rounded_to_pages);
    tcase_add_test(tc, test_stack_default_size);
    tcase_add_test(tc, test_stack_alloc_too_big);
    if (kit_can_fork()) {
        tcase_add_test_raise_signal(tc, test_guard_page_faults, SIGSEGV);
        tcase_add_test_raise_signal(tc, test_guard_page_read_faults, SIGSEGV);
    }
    tcase_add_test(tc, test_stack_overflowed);
    tcase_add_test(tc, test_many_stacks);
    suite_add_tcase(s, tc);

    tc = kit_tcase("switch");
    tcase_add_test(tc, test_ping_pong);
    tcase_add_test(tc, test_three_contexts);
    tcase_add_test(tc, test_live_locals_survive);
#ifdef PROBE_REGS
    tcase_add_test(tc, test_callee_saved_registers);
#endif
    tcase_add_test(tc, test_rounding_mode_per_context);
    tcase_add_test(tc, test_entry_stack_aligned);
    tcase_add_test(tc, test_deep_use_of_stack);
    if (kit_can_fork())
        tcase_add_test_raise_signal(tc, test_context_overflow_faults, SIGSEGV);
    tcase_add_test(tc, test_backend_name);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(ctx_suite()); }
