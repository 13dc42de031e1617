/*
 * Tests of exercise 02-greenlets/switch: ex_ctx_swap and ex_ctx_make.
 *
 * Each test runs in its own process: a broken switch that crashes fails
 * one test, not the run.  Checks are made on the main stack, after the
 * other context has swapped back and left its findings in globals, which
 * reset_globals() clears before each test (for runs without fork).
 */
#include "harness.h"
#include "switch.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define HAVE_VALGRIND 1
#endif
#endif

#define STACK_SIZE (64 * 1024)
#define SEE_SWITCH KIT_LESSON("chapters/02-greenlets/README.md", "Two stacks and a switch")
#ifdef __x86_64__
#define SEE_ASM KIT_LESSON("chapters/02-greenlets/README.md", "The switch in x86-64 assembly, line by line")
#else
#define SEE_ASM KIT_LESSON("chapters/02-greenlets/README.md", "The same on AArch64")
#endif

static void *main_sp;   /* where the test's main stack waits */
static void *co_sp;     /* where the other context waits (or starts) */
static int entered;     /* set by an entry function when it runs */

static char *new_stack(void)
{
    char *s = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_msg(s != MAP_FAILED, "test setup: mmap of a %d-byte stack failed", STACK_SIZE);
#ifdef HAVE_VALGRIND
    /* so that Valgrind takes a jump of the stack pointer into it for a
     * switch, not for a wild write (lib/02-greenlets/stack.c does the same) */
    VALGRIND_STACK_REGISTER(s, s + STACK_SIZE);
#endif
    return s;
}

/* ex_ctx_make, checked before anyone swaps to its result: a stub's NULL
 * fails here instead of crashing the test. */
static void *make_context(char *stack, void (*entry)(void))
{
    char *top = stack + STACK_SIZE;
    char *sp = ex_ctx_make(top, entry);
    ck_assert_msg(sp != NULL && sp >= top - 512 && sp < top,
                  "ex_ctx_make(top=%p, entry) returned %p; expected a stack pointer a few "
                  "words below top, where it laid out the first frame; " SEE_SWITCH,
                  (void *)top, (void *)sp);
    return sp;
}

/* ---- the first frame ---- */

static void entry_unused(void)
{
    for (;;)
        ex_ctx_swap(&co_sp, main_sp);
}

START_TEST(test_make_frame)
{
    char *stack = new_stack();
    uintptr_t *sp = make_context(stack, entry_unused);
    ck_assert_msg((uintptr_t)sp % 16 == 0,
                  "ex_ctx_make returned %p, which is not 16-byte aligned; round stack_top "
                  "down to 16 first, then lay out the whole frame (x86-64: 8 words, the zero "
                  "word included; AArch64: 160 bytes); " SEE_SWITCH, (void *)sp);
#if defined(__x86_64__)
    /* six registers, then the address that ex_ctx_swap's `ret` pops */
    ck_assert_msg(sp[6] == (uintptr_t)entry_unused,
                  "the 7th word of the frame (sp[6], what `ret` pops after six pops) is %#lx, "
                  "expected entry's address %p; " SEE_ASM,
                  (unsigned long)sp[6], (void *)(uintptr_t)entry_unused);
#elif defined(__aarch64__)
    ck_assert_msg(sp[11] == (uintptr_t)entry_unused,
                  "the x30 slot of the frame (byte 88) is %#lx, expected entry's address %p; " SEE_ASM,
                  (unsigned long)sp[11], (void *)(uintptr_t)entry_unused);
#endif
}
END_TEST

/* ---- the first switch reaches entry, and comes back ---- */

static void entry_once(void)
{
    entered = 1;
    for (;;)
        ex_ctx_swap(&co_sp, main_sp);
}

START_TEST(test_entry_runs)
{
    co_sp = make_context(new_stack(), entry_once);
    ex_ctx_swap(&main_sp, co_sp);
    ck_assert_msg(entered == 1,
                  "after ex_ctx_swap(&main_sp, sp_from_ex_ctx_make) returned, the entry "
                  "function had not run: the swap did not switch stacks; " SEE_SWITCH);
}
END_TEST

/* ---- many round trips; a local of the other context survives ---- */

static long echo;

static void entry_counter(void)
{
    /* i lives on this context's own stack, across every swap */
    for (long i = 1;; i++) {
        echo = i;
        ex_ctx_swap(&co_sp, main_sp);
    }
}

START_TEST(test_round_trips)
{
    co_sp = make_context(new_stack(), entry_counter);
    for (long k = 1; k <= 1000; k++) {
        echo = 0;
        ex_ctx_swap(&main_sp, co_sp);
        ck_assert_msg(echo == k,
                      "round trip %ld: the other context reported %ld, expected %ld "
                      "(it counts in a local variable on its own stack); " SEE_SWITCH,
                      k, echo, k);
    }
}
END_TEST

/* ---- values the compiler keeps in callee-saved registers survive ---- */

static volatile long seed = 7;
static volatile long co_sink;

/* Keeps many values alive across each swap, so the compiler puts them in
 * callee-saved registers (x86-64: rbx r12-r15; AArch64: x19-x28, d8-d15),
 * which the switch must restore: their values differ from main's. */
static void entry_busy(void)
{
    entered = 1;
    for (;;) {
        long s = seed;
        long a = s * 101, b = s * 103, c = s * 107, d = s * 109, e = s * 113, f = s * 127;
        long g = s * 131, h = s * 137, i = s * 139, j = s * 149;
        double x = s * 1.5, y = s * 2.5, z = s * 3.5, w = s * 4.5;
        double u = s * 5.5, v = s * 6.5, t = s * 7.5, r = s * 8.5;
        ex_ctx_swap(&co_sp, main_sp);
        co_sink = a + b + c + d + e + f + g + h + i + j
                + (long)(x + y + z + w + u + v + t + r);
    }
}

START_TEST(test_live_values)
{
    co_sp = make_context(new_stack(), entry_busy);
    long s = seed;
    long a = s + 1, b = s + 2, c = s + 3, d = s + 4, e = s + 5, f = s + 6;
    long g = s + 7, h = s + 8, i = s + 9, j = s + 10;
    double x = s * 0.25, y = s * 0.75, z = s * 1.25, w = s * 1.75;
    double u = s * 2.25, v = s * 2.75, t = s * 3.25, r = s * 3.75;
    for (int round = 0; round < 3; round++)
        ex_ctx_swap(&main_sp, co_sp);
    ck_assert_msg(entered == 1, "the other context never ran; " SEE_SWITCH);
    s = seed;
    int bad = (a != s + 1) + (b != s + 2) + (c != s + 3) + (d != s + 4) + (e != s + 5)
            + (f != s + 6) + (g != s + 7) + (h != s + 8) + (i != s + 9) + (j != s + 10);
    int badf = (x != s * 0.25) + (y != s * 0.75) + (z != s * 1.25) + (w != s * 1.75)
             + (u != s * 2.25) + (v != s * 2.75) + (t != s * 3.25) + (r != s * 3.75);
    ck_assert_msg(bad == 0 && badf == 0,
                  "%d integer and %d floating-point local variables changed across three "
                  "swaps to another context: some callee-saved register is not saved and "
                  "restored; " SEE_ASM, bad, badf);
}
END_TEST

/* ---- look at the callee-saved registers directly ---- */

/* probe_swap() loads in[] into the callee-saved registers, calls
 * swap(save, load), and stores what those registers hold when it returns
 * into out[].  One asm statement, so that the compiler cannot save them for
 * us; the offsets in it are those of the fields (checked below). */
#if defined(__x86_64__)
#define HAVE_PROBE 1
#define NPROBE 5
static const char *const probe_names[NPROBE] = { "rbx", "r12", "r13", "r14", "r15" };
#elif defined(__aarch64__)
#define HAVE_PROBE 1
#define NPROBE 18
static const char *const probe_names[NPROBE] = {
    "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28",
    "d8", "d9", "d10", "d11", "d12", "d13", "d14", "d15" };
#endif

#ifdef HAVE_PROBE
struct probe {
    unsigned long in[NPROBE];
    unsigned long out[NPROBE];
    void **save;
    void *load;
    void (*swap)(void **, void *);
    unsigned long sp;
};

#if defined(__x86_64__)
_Static_assert(offsetof(struct probe, out) == 40 && offsetof(struct probe, save) == 80
               && offsetof(struct probe, swap) == 96 && offsetof(struct probe, sp) == 104,
               "probe_swap's offsets");

static void probe_swap(struct probe *p)
{
    __asm__ volatile(
        "movq   %%rsp, 104(%0)\n\t"
        "subq   $128, %%rsp\n\t"        /* step over the red zone the compiler may use */
        "andq   $-16, %%rsp\n\t"        /* the ABI's alignment at a call */
        "pushq  %0\n\t"                 /* keep p across the call (twice: stay aligned) */
        "pushq  %0\n\t"
        "movq   0(%0), %%rbx\n\t"
        "movq   8(%0), %%r12\n\t"
        "movq   16(%0), %%r13\n\t"
        "movq   24(%0), %%r14\n\t"
        "movq   32(%0), %%r15\n\t"
        "movq   80(%0), %%rdi\n\t"
        "movq   88(%0), %%rsi\n\t"
        "callq  *96(%0)\n\t"
        "popq   %0\n\t"
        "popq   %0\n\t"
        "movq   %%rbx, 40(%0)\n\t"
        "movq   %%r12, 48(%0)\n\t"
        "movq   %%r13, 56(%0)\n\t"
        "movq   %%r14, 64(%0)\n\t"
        "movq   %%r15, 72(%0)\n\t"
        "movq   104(%0), %%rsp\n\t"
        : "+a"(p)
        :
        : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11",
          "r12", "r13", "r14", "r15", "memory", "cc",
          "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
          "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}
#else
_Static_assert(offsetof(struct probe, out) == 144 && offsetof(struct probe, save) == 288
               && offsetof(struct probe, load) == 296 && offsetof(struct probe, swap) == 304,
               "probe_swap's offsets");

static void probe_swap(struct probe *p)
{
    /* x8 carries p: it is not an argument register of the call */
    register struct probe *r __asm__("x8") = p;
    __asm__ volatile(
        "str    %0, [sp, #-16]!\n\t"    /* keep p across the call */
        "ldp    x19, x20, [%0, #0]\n\t"
        "ldp    x21, x22, [%0, #16]\n\t"
        "ldp    x23, x24, [%0, #32]\n\t"
        "ldp    x25, x26, [%0, #48]\n\t"
        "ldp    x27, x28, [%0, #64]\n\t"
        "ldp    d8, d9, [%0, #80]\n\t"
        "ldp    d10, d11, [%0, #96]\n\t"
        "ldp    d12, d13, [%0, #112]\n\t"
        "ldp    d14, d15, [%0, #128]\n\t"
        "ldr    x0, [%0, #288]\n\t"
        "ldr    x1, [%0, #296]\n\t"
        "ldr    x16, [%0, #304]\n\t"
        "blr    x16\n\t"
        "ldr    %0, [sp], #16\n\t"
        "stp    x19, x20, [%0, #144]\n\t"
        "stp    x21, x22, [%0, #160]\n\t"
        "stp    x23, x24, [%0, #176]\n\t"
        "stp    x25, x26, [%0, #192]\n\t"
        "stp    x27, x28, [%0, #208]\n\t"
        "stp    d8, d9, [%0, #224]\n\t"
        "stp    d10, d11, [%0, #240]\n\t"
        "stp    d12, d13, [%0, #256]\n\t"
        "stp    d14, d15, [%0, #272]\n\t"
        : "+r"(r)
        :
        : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x9", "x10", "x11",
          "x12", "x13", "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21",
          "x22", "x23", "x24", "x25", "x26", "x27", "x28", "x30", "memory", "cc",
          "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11",
          "v12", "v13", "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21",
          "v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31");
}
#endif

static int co_probe_bad = -1;   /* the other side's verdict: a bad register's index, NPROBE = all good */

static int first_bad(const struct probe *p)
{
    int k = 0;
    while (k < NPROBE && p->in[k] == p->out[k])
        k++;
    return k;
}

static void fill_probe(struct probe *p, unsigned long pattern, void **save, void *load)
{
    for (int k = 0; k < NPROBE; k++) {
        p->in[k] = pattern + (unsigned long)k;
        p->out[k] = 0;
    }
    p->save = save;
    p->load = load;
    p->swap = ex_ctx_swap;
}

static void entry_probe(void)
{
    struct probe q;
    fill_probe(&q, 0xb0b0b0b0b0b0b000ul, &co_sp, main_sp);
    entered = 1;
    probe_swap(&q);
    co_probe_bad = first_bad(&q);
    for (;;)
        ex_ctx_swap(&co_sp, main_sp);
}

START_TEST(test_registers)
{
    co_sp = make_context(new_stack(), entry_probe);
    struct probe p;
    fill_probe(&p, 0xa0a0a0a0a0a0a000ul, &main_sp, co_sp);
    probe_swap(&p);
    ck_assert_msg(entered == 1, "the other context never ran; " SEE_SWITCH);
    int k = first_bad(&p);
    ck_assert_msg(k == NPROBE,
                  "%s held %#lx before ex_ctx_swap and %#lx when it returned (the other "
                  "context had put its own value there): the switch must save and restore "
                  "%s; " SEE_ASM,
                  probe_names[k % NPROBE], p.in[k % NPROBE], p.out[k % NPROBE],
                  probe_names[k % NPROBE]);

    /* and the same in the other direction */
    fill_probe(&p, 0xa0a0a0a0a0a0a000ul, &main_sp, co_sp);
    probe_swap(&p);
    ck_assert_msg(co_probe_bad == NPROBE,
                  "in the other context, %s changed across ex_ctx_swap: the switch must "
                  "save and restore it; " SEE_ASM,
                  co_probe_bad >= 0 ? probe_names[co_probe_bad % NPROBE] : "(never checked)");
}
END_TEST
#endif

/* ---- the stack is aligned as the ABI demands when entry starts ---- */

static uintptr_t entry_frame, entry_local;

static void entry_align(void)
{
    /* The compiler places this local assuming an aligned stack at entry,
     * so a misaligned stack shows in its address (and would crash any
     * SSE code that stores 16 bytes at once, printf's included). */
    _Alignas(16) volatile char local[16];
    local[0] = 1;
    entry_local = (uintptr_t)local;
    entry_frame = (uintptr_t)__builtin_frame_address(0);
    entered = 1;
    for (;;)
        ex_ctx_swap(&co_sp, main_sp);
}

START_TEST(test_entry_alignment)
{
    co_sp = make_context(new_stack(), entry_align);
    ex_ctx_swap(&main_sp, co_sp);
    ck_assert_msg(entered == 1, "the entry function never ran; " SEE_SWITCH);
    ck_assert_msg(entry_frame % 16 == 0 && entry_local % 16 == 0,
                  "in the entry function, the frame address is %#lx and a 16-byte aligned "
                  "local sits at %#lx: the stack was not aligned as the ABI demands at a "
                  "function's start (x86-64: rsp + 8 a multiple of 16; AArch64: sp a "
                  "multiple of 16); check the frame ex_ctx_make lays out; " SEE_SWITCH,
                  (unsigned long)entry_frame, (unsigned long)entry_local);
}
END_TEST

/* ---- two contexts, each with its own stack ---- */

static void *a_sp, *b_sp;
static char trace[32];
static int ntrace;
static long a_count, b_count;

static void entry_a(void)
{
    for (long i = 1;; i++) {
        trace[ntrace++] = 'a';
        a_count = i;
        ex_ctx_swap(&a_sp, b_sp);   /* A hands over to B... */
    }
}

static void entry_b(void)
{
    for (long i = 1;; i++) {
        trace[ntrace++] = 'b';
        b_count = i * 10;
        ex_ctx_swap(&b_sp, main_sp);   /* ...and B back to main */
    }
}

START_TEST(test_two_contexts)
{
    a_sp = make_context(new_stack(), entry_a);
    b_sp = make_context(new_stack(), entry_b);
    for (int round = 0; round < 3; round++) {
        trace[ntrace++] = 'm';
        ex_ctx_swap(&main_sp, a_sp);
    }
    trace[ntrace] = '\0';
    ck_assert_msg(strcmp(trace, "mabmabmab") == 0 && a_count == 3 && b_count == 30,
                  "main -> A -> B -> main, three times, should run in the order \"mabmabmab\" "
                  "with A counting to 3 and B to 30; got \"%s\", A at %ld, B at %ld; each "
                  "context needs its own saved stack pointer; " SEE_SWITCH,
                  trace, a_count, b_count);
}
END_TEST

static void reset_globals(void)
{
    main_sp = co_sp = a_sp = b_sp = NULL;
    entered = 0;
    echo = 0;
#ifdef HAVE_PROBE
    co_probe_bad = -1;
#endif
    entry_frame = entry_local = 0;
    memset(trace, 0, sizeof trace);
    ntrace = 0;
    a_count = b_count = 0;
}

static Suite *switch_suite(void)
{
    Suite *s = suite_create("02-greenlets/switch");
    TCase *tc = kit_tcase("switch");
    tcase_add_checked_fixture(tc, reset_globals, NULL);
    tcase_add_test(tc, test_make_frame);
    tcase_add_test(tc, test_entry_runs);
    tcase_add_test(tc, test_round_trips);
    tcase_add_test(tc, test_live_values);
#ifdef HAVE_PROBE
    tcase_add_test(tc, test_registers);
#endif
    tcase_add_test(tc, test_entry_alignment);
    tcase_add_test(tc, test_two_contexts);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(switch_suite()); }
