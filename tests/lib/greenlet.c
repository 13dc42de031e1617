/*
 * tests/lib/greenlet.c - the library's own tests of greenlet.h: switch,
 * parents, return values, death, names, stacks and their overflow.
 */
#include "harness.h"
#include "green.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define INT2P(i) ((void *)(intptr_t)(i))
#define P2INT(p) ((long)(intptr_t)(p))

static size_t page(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

/* ---- The main greenlet ------------------------------------------------ */

START_TEST(test_main_greenlet)
{
    green_t *m = green_current();
    ck_assert_msg(m != NULL, "expected green_current() to give the main "
                  "greenlet before any switch, got NULL");
    ck_assert_msg(strcmp(green_name(m), "main") == 0, "expected the main "
                  "greenlet to be named \"main\", got \"%s\"", green_name(m));
    ck_assert_msg(green_parent(m) == NULL, "expected the main greenlet to have "
                  "no parent, got %p", (void *)green_parent(m));
    ck_assert_msg(green_stack_size(m) == 0, "expected stack size 0 for the "
                  "main greenlet, got %zu", green_stack_size(m));
    ck_assert_msg(!green_dead(m), "expected the main greenlet alive");
    ck_assert_msg(green_result(m) == NULL, "expected no result for main");
    ck_assert_msg(green_current() == m, "expected green_current() to be "
                  "stable");
}
END_TEST

/* ---- Starting, switching, returning ----------------------------------- */

static void *seen_arg;
static green_t *seen_current, *seen_parent;

static void *record_and_return(void *arg)
{
    seen_arg = arg;
    seen_current = green_current();
    seen_parent = green_parent(green_current());
    return INT2P(P2INT(arg) + 1);
}

START_TEST(test_first_switch_starts_with_argument)
{
    green_t *m = green_current();
    green_t *g = green_new(record_and_return, 0);
    ck_assert_msg(g != NULL, "green_new failed: %s", strerror(errno));
    ck_assert_msg(!green_started(g), "expected a new greenlet not started");
    ck_assert_msg(!green_dead(g), "expected a new greenlet not dead");
    ck_assert_msg(seen_arg == NULL, "green_new must not run the function");
    ck_assert_msg(green_parent(g) == m, "expected the creator (main) as "
                  "parent, got %p", (void *)green_parent(g));

    void *r = green_switch(g, INT2P(41));
    ck_assert_msg(seen_arg == INT2P(41), "expected the function's argument "
                  "to be the first switch's value 41, got %ld",
                  P2INT(seen_arg));
    ck_assert_msg(seen_current == g, "inside the greenlet: expected "
                  "green_current() == g (%p), got %p", (void *)g,
                  (void *)seen_current);
    ck_assert_msg(seen_parent == m, "inside the greenlet: expected its parent "
                  "to be main, got %p", (void *)seen_parent);
    ck_assert_msg(r == INT2P(42), "expected green_switch to return the "
                  "function's return value 42, got %ld", P2INT(r));
    ck_assert_msg(green_current() == m, "back in main: expected "
                  "green_current() == main");
    ck_assert_msg(green_started(g), "expected started after the switch");
    ck_assert_msg(green_dead(g), "expected dead after the function returned");
    ck_assert_msg(green_result(g) == INT2P(42), "expected green_result 42, "
                  "got %ld", P2INT(green_result(g)));
    green_free(g);
}
END_TEST

/* Doubles what it receives and hands it back, until it receives -1. */
static void *doubler(void *arg)
{
    long v = P2INT(arg);
    green_t *parent = green_parent(green_current());
    while (v != -1)
        v = P2INT(green_switch(parent, INT2P(v * 2)));
    return "doubler done";
}

START_TEST(test_values_both_ways)
{
    green_t *g = green_new(doubler, 0);
    for (long i = 0; i < 5000; i++) {
        void *r = green_switch(g, INT2P(i));
        ck_assert_msg(r == INT2P(2 * i), "switch %ld: sent %ld, expected %ld "
                      "back, got %ld", i, i, 2 * i, P2INT(r));
        ck_assert_msg(green_started(g) && !green_dead(g),
                      "switch %ld: expected the greenlet suspended, alive", i);
        ck_assert_msg(green_result(g) == NULL, "expected green_result NULL "
                      "while alive, got %p", green_result(g));
    }
    void *r = green_switch(g, INT2P(-1));
    ck_assert_msg(r != NULL && strcmp(r, "doubler done") == 0,
                  "expected the return value \"doubler done\", got %p", r);
    ck_assert(green_dead(g));
    green_free(g);
}
END_TEST

/* A greenlet a switches straight to its sibling b; b's return goes to its
 * parent (main), not to a, who switched to it. */
static green_t *sibling_b;

static void *sibling_a_fn(void *arg)
{
    (void)arg;
    void *back = green_switch(sibling_b, "from a");
    return back;
}

static void *sibling_b_fn(void *arg)
{
    return arg;
}

START_TEST(test_return_goes_to_parent_not_switcher)
{
    green_t *a = green_new(sibling_a_fn, 0);
    sibling_b = green_new(sibling_b_fn, 0);
    void *r = green_switch(a, NULL);
    ck_assert_msg(r != NULL && strcmp(r, "from a") == 0, "expected b's result "
                  "\"from a\" to reach b's parent main, got %p", r);
    ck_assert(green_dead(sibling_b));
    ck_assert_msg(!green_dead(a), "expected a still suspended in its switch");
    r = green_switch(a, "resume a");
    ck_assert_msg(r != NULL && strcmp(r, "resume a") == 0, "expected a to "
                  "return the value main resumed it with, got %p", r);
    green_free(a);
    green_free(sibling_b);
}
END_TEST

/* ---- Names and stack sizes -------------------------------------------- */

static void *nothing(void *arg)
{
    return arg;
}

static int parse_default_name(const char *name, unsigned long *n)
{
    int end = 0;
    if (sscanf(name, "greenlet-%lu%n", n, &end) != 1)
        return 0;
    return name[end] == '\0';
}

START_TEST(test_default_names)
{
    green_t *a = green_new(nothing, 0);
    green_t *b = green_new(nothing, 0);
    unsigned long na, nb;
    ck_assert_msg(parse_default_name(green_name(a), &na), "expected a default "
                  "name \"greenlet-N\", got \"%s\"", green_name(a));
    ck_assert_msg(parse_default_name(green_name(b), &nb), "expected a default "
                  "name \"greenlet-N\", got \"%s\"", green_name(b));
    ck_assert_msg(na != nb, "expected two greenlets to get different default "
                  "names, both are \"%s\"", green_name(a));
    green_free(a);
    green_free(b);
}
END_TEST

START_TEST(test_set_name)
{
    green_t *g = green_new(nothing, 0);
    char name[64];
    strcpy(name, "worker");
    green_set_name(g, name);
    strcpy(name, "changed");
    ck_assert_msg(strcmp(green_name(g), "worker") == 0, "expected the name to "
                  "be copied (\"worker\"), got \"%s\"", green_name(g));

    const char *exact = "abcdefghijklmnopqrstuvwxyz01234";   /* 31 */
    green_set_name(g, exact);
    ck_assert_msg(strcmp(green_name(g), exact) == 0, "expected a 31-character "
                  "name kept whole, got \"%s\"", green_name(g));

    const char *longer = "abcdefghijklmnopqrstuvwxyz0123456789ABCD";   /* 40 */
    green_set_name(g, longer);
    ck_assert_msg(strlen(green_name(g)) == 31 &&
                  strncmp(green_name(g), longer, 31) == 0,
                  "expected a 40-character name cut to its first 31, "
                  "got \"%s\" (%zu characters)", green_name(g),
                  strlen(green_name(g)));

    green_set_name(g, "");
    ck_assert_msg(strcmp(green_name(g), "") == 0, "expected the empty name, "
                  "got \"%s\"", green_name(g));
    green_free(g);
}
END_TEST

START_TEST(test_stack_sizes)
{
    green_t *d = green_new(nothing, 0);
    ck_assert_msg(green_stack_size(d) == GREEN_STACK_DEFAULT, "green_new(fn, "
                  "0): expected a stack of %d bytes, got %zu",
                  GREEN_STACK_DEFAULT, green_stack_size(d));
    green_t *s = green_new(nothing, 10000);
    size_t got = green_stack_size(s);
    ck_assert_msg(got >= 10000 && got < 10000 + page() && got % page() == 0,
                  "green_new(fn, 10000): expected 10000 rounded up to whole "
                  "pages of %zu, got %zu", page(), got);
    green_t *big = green_new(nothing, 1 << 20);
    ck_assert_msg(green_stack_size(big) == 1 << 20, "green_new(fn, 1 MiB): "
                  "expected %d, got %zu", 1 << 20, green_stack_size(big));
    green_free(d);
    green_free(s);
    green_free(big);
}
END_TEST

/* ---- Parents ---------------------------------------------------------- */

START_TEST(test_set_parent_refuses_cycles)
{
    green_t *m = green_current();
    green_t *a = green_new(nothing, 0);
    green_t *b = green_new(nothing, 0);
    green_t *c = green_new(nothing, 0);

    errno = 0;
    ck_assert_msg(green_set_parent(a, a) == -1 && errno == EINVAL,
                  "green_set_parent(a, a): expected -1 with EINVAL, got "
                  "errno %d (%s)", errno, strerror(errno));
    ck_assert_msg(green_parent(a) == m, "a refused green_set_parent must not "
                  "change the parent");

    ck_assert_msg(green_set_parent(b, a) == 0, "green_set_parent(b, a): "
                  "expected 0, got -1 (%s)", strerror(errno));
    ck_assert_msg(green_parent(b) == a, "expected b's parent a");
    ck_assert_msg(green_set_parent(c, b) == 0, "green_set_parent(c, b): "
                  "expected 0");

    errno = 0;
    ck_assert_msg(green_set_parent(a, b) == -1 && errno == EINVAL,
                  "a -> b -> a: expected -1 with EINVAL, got errno %d",
                  errno);
    errno = 0;
    ck_assert_msg(green_set_parent(a, c) == -1 && errno == EINVAL,
                  "a -> c -> b -> a: expected -1 with EINVAL, got errno %d",
                  errno);
    errno = 0;
    ck_assert_msg(green_set_parent(m, c) == -1 && errno == EINVAL,
                  "main -> c -> b -> a -> main: expected -1 with EINVAL, got "
                  "errno %d", errno);
    ck_assert_msg(green_parent(a) == m && green_parent(m) == NULL,
                  "refused calls must leave the parents as they were");

    /* Not a cycle: c may move up to main. */
    ck_assert_msg(green_set_parent(c, m) == 0, "green_set_parent(c, main): "
                  "expected 0");
    green_free(a);
    green_free(b);
    green_free(c);
}
END_TEST

/* A greenlet made by another thread, which then ended: its record stays
 * until someone frees it. */
static void *make_foreign_greenlet(void *arg)
{
    (void)arg;
    return green_new(nothing, 0);
}

/* Dying switches to the parent: a parent of another thread would run on
 * this thread's stack.  greenlet raises ValueError; the kit refuses. */
START_TEST(test_set_parent_refuses_other_thread_and_null)
{
    pthread_t t;
    void *foreign = NULL;
    ck_assert_int_eq(pthread_create(&t, NULL, make_foreign_greenlet, NULL), 0);
    pthread_join(t, &foreign);
    ck_assert_ptr_nonnull(foreign);

    green_t *m = green_current();
    green_t *g = green_new(nothing, 0);
    errno = 0;
    int rc = green_set_parent(g, foreign);
    ck_assert_msg(rc == -1 && errno == EINVAL, "green_set_parent(g, p) with "
                  "p of another thread: expected -1 with EINVAL, got %d "
                  "(errno %d)", rc, errno);
    ck_assert_msg(green_parent(g) == m, "a refused green_set_parent must not "
                  "change the parent");

    errno = 0;
    rc = green_set_parent(g, NULL);
    ck_assert_msg(rc == -1 && errno == EINVAL, "green_set_parent(g, NULL): "
                  "expected -1 with EINVAL, got %d (errno %d)", rc, errno);
    ck_assert_msg(green_parent(g) == m, "a refused green_set_parent must not "
                  "change the parent");
    green_free(g);
    green_free(foreign);
}
END_TEST

/* b's parent is set to a: b's return value goes to a, a's to main. */
static green_t *chain_b;

static void *chain_a_fn(void *arg)
{
    (void)arg;
    long from_b = P2INT(green_switch(chain_b, INT2P(5)));
    return INT2P(from_b * 10);
}

static void *chain_b_fn(void *arg)
{
    return INT2P(P2INT(arg) + 1);
}

START_TEST(test_set_parent_redirects_result)
{
    green_t *a = green_new(chain_a_fn, 0);
    chain_b = green_new(chain_b_fn, 0);
    ck_assert_int_eq(green_set_parent(chain_b, a), 0);
    void *r = green_switch(a, NULL);
    ck_assert_msg(r == INT2P(60), "expected b's 6 to reach its new parent a, "
                  "and a's 60 to reach main; main got %ld", P2INT(r));
    green_free(a);
    green_free(chain_b);
}
END_TEST

/* ---- Death ------------------------------------------------------------ */

START_TEST(test_switch_to_dead)
{
    green_t *g = green_new(nothing, 0);
    green_set_name(g, "gone");
    green_switch(g, INT2P(7));
    ck_assert(green_dead(g));
    ck_assert_msg(green_result(g) == INT2P(7), "expected green_result 7, got "
                  "%ld", P2INT(green_result(g)));

    struct kit_capture cap;
    char err[512];
    kit_capture_start(&cap);
    errno = 0;
    void *r = green_switch(g, INT2P(8));
    int saved = errno;
    kit_capture_end(&cap, err, sizeof err);
    ck_assert_msg(r == NULL, "switching to a dead greenlet: expected NULL, "
                  "got %p", r);
    ck_assert_msg(saved == ESRCH, "switching to a dead greenlet: expected "
                  "errno ESRCH, got %d (%s)", saved, strerror(saved));
    ck_assert_msg(err[0] != '\0', "switching to a dead greenlet: expected an "
                  "explanation on stderr, got nothing");
    ck_assert_msg(green_current() == green_parent(g), "expected to still be "
                  "running in main after the refused switch");
    ck_assert_msg(green_result(g) == INT2P(7), "a refused switch must not "
                  "change the result");
    green_free(g);
}
END_TEST

/* The greenlet layer's exit hooks (green_on_exit): how the hub and
 * greenlet-local storage learn of a death without this layer knowing them. */
static green_t *exited[4];
static int nexited, exited_while_running;

static void note_exit(green_t *g)
{
    if (nexited < 4)
        exited[nexited++] = g;
    exited_while_running += (g == green_current() && !green_dead(g));
}

static void *park_in_main(void *arg)
{
    (void)arg;
    green_switch(green_parent(green_current()), NULL);
    return NULL;
}

START_TEST(test_exit_hooks)
{
    ck_assert_msg(green_on_exit(note_exit) == 0, "green_on_exit: expected 0, "
                  "got -1 (%s)", strerror(errno));
    green_t *done = green_new(nothing, 0);
    green_switch(done, NULL);
    ck_assert_msg(nexited == 1 && exited[0] == done && exited_while_running == 1,
                  "a greenlet whose function returned: expected its exit hook "
                  "called once, on its own stack (it still running, not yet "
                  "dead); got %d call(s), %d of them so; see "
                  "chapters/02-greenlets/README.md, 'Parents, return values "
                  "and death'", nexited, exited_while_running);
    green_free(done);
    ck_assert_msg(nexited == 1, "green_free of a greenlet that ended: the hook "
                  "ran already, expected no second call, got %d calls", nexited);

    green_t *parked = green_new(park_in_main, 0);
    green_switch(parked, NULL);
    green_free(parked);             /* its function never returns */
    ck_assert_msg(nexited == 2 && exited[1] == parked,
                  "a greenlet freed before its function returned: expected "
                  "its exit hook called in green_free, got %d call(s) in all",
                  nexited);

    int full = 0;
    while (green_on_exit(note_exit) == 0)
        full++;
    ck_assert_msg(errno == EAGAIN && full < GREEN_EXIT_HOOKS, "registering "
                  "past GREEN_EXIT_HOOKS (%d): expected -1 with errno EAGAIN, "
                  "got errno %d after %d more", GREEN_EXIT_HOOKS, errno, full);
}
END_TEST

/* a creates b and starts it; b comes back to a; a dies.  Then main resumes
 * b, whose parent a is dead: b's result goes to a's parent, main. */
static green_t *orphan;

static void *orphan_fn(void *arg)
{
    (void)arg;
    void *v = green_switch(green_parent(green_current()), "b parked");
    return INT2P(P2INT(v) + 1);
}

static void *short_lived_parent(void *arg)
{
    (void)arg;
    orphan = green_new(orphan_fn, 0);
    void *v = green_switch(orphan, NULL);
    return v;   /* "b parked", and a is dead */
}

START_TEST(test_dead_parent_passes_to_grandparent)
{
    green_t *a = green_new(short_lived_parent, 0);
    void *r = green_switch(a, NULL);
    ck_assert_msg(r != NULL && strcmp(r, "b parked") == 0, "expected a's "
                  "result \"b parked\", got %p", r);
    ck_assert(green_dead(a));
    ck_assert_msg(green_parent(orphan) == a, "expected b's parent to be a");
    r = green_switch(orphan, INT2P(99));
    ck_assert_msg(r == INT2P(100), "b's parent a is dead: expected b's result "
                  "100 to reach a's parent (main), got %ld", P2INT(r));
    ck_assert(green_dead(orphan));
    green_free(orphan);
    green_free(a);
}
END_TEST

/* A child's death can be the first switch into its parent: the parent then
 * starts, with the child's result as its argument, and is started like any
 * greenlet a green_switch() started. */
static void *add_one(void *arg)
{
    return INT2P(P2INT(arg) + 1);
}

START_TEST(test_parent_started_by_childs_death)
{
    green_t *parent = green_new(add_one, 0);
    green_t *child = green_new(add_one, 0);
    ck_assert_int_eq(green_set_parent(child, parent), 0);
    void *r = green_switch(child, INT2P(1));
    ck_assert_msg(r == INT2P(3), "expected child 1+1=2 to start its parent, "
                  "whose 2+1=3 reaches main; main got %ld", P2INT(r));
    ck_assert_msg(green_dead(parent), "expected the parent to have run and "
                  "died");
    ck_assert_msg(green_started(parent), "the parent ran (its child's death "
                  "switched into it), yet green_started(parent) is 0");
    green_free(child);
    green_free(parent);
}
END_TEST

/* The same, but main frees the dead parent a (allowed: it is dead and not
 * running) before b dies: b's result must still reach main, and nothing
 * may read the freed a (AddressSanitizer and Valgrind would say so). */
START_TEST(test_freed_dead_parent)
{
    green_t *a = green_new(short_lived_parent, 0);
    void *r = green_switch(a, NULL);
    ck_assert(r != NULL && strcmp(r, "b parked") == 0);
    ck_assert(green_dead(a));
    green_free(a);
    /* Reuse a's memory, as a busy program would. */
    green_t *filler[4];
    for (int i = 0; i < 4; i++)
        filler[i] = green_new(nothing, 0);
    r = green_switch(orphan, INT2P(41));
    ck_assert_msg(r == INT2P(42), "b's parent a is dead and freed: expected "
                  "b's result 42 to reach main, got %ld", P2INT(r));
    ck_assert_msg(green_dead(orphan), "expected b dead");
    for (int i = 0; i < 4; i++)
        ck_assert_msg(!green_dead(filler[i]), "greenlet %d, never switched "
                      "to, has run and died: b's result went to whatever "
                      "now lives where its freed parent was", i);
    green_free(orphan);
    for (int i = 0; i < 4; i++)
        green_free(filler[i]);
}
END_TEST

/* main -> g1 -> g2 -> g3: each creates and starts the next; results climb
 * back up through the parents. */
static green_t *nest[4];
static green_t *nest_parent_seen[4];

static void *nest_fn(void *arg)
{
    long level = P2INT(arg);
    nest[level] = green_current();
    nest_parent_seen[level] = green_parent(green_current());
    if (level == 3)
        return INT2P(3);
    green_t *child = green_new(nest_fn, 0);
    long below = P2INT(green_switch(child, INT2P(level + 1)));
    ck_assert_msg(green_current() == nest[level], "level %ld: expected "
                  "green_current() to be this level's greenlet again", level);
    green_free(child);
    return INT2P(below * 10 + level);
}

START_TEST(test_nested_three_deep)
{
    nest[0] = green_current();
    green_t *g1 = green_new(nest_fn, 0);
    void *r = green_switch(g1, INT2P(1));
    ck_assert_msg(r == INT2P(321), "expected 3, then 3*10+2, then 32*10+1 = "
                  "321 up the chain, got %ld", P2INT(r));
    for (int level = 1; level <= 3; level++)
        ck_assert_msg(nest_parent_seen[level] == nest[level - 1],
                      "level %d: expected its parent to be level %d's "
                      "greenlet", level, level - 1);
    ck_assert(green_current() == nest[0]);
    green_free(g1);
}
END_TEST

/* ---- Deep stacks ------------------------------------------------------ */

static uintptr_t deepest_frame;
static long recurse_result;

static __attribute__((noinline)) long recurse(int depth)
{
    volatile char frame[512];
    memset((char *)frame, depth & 0x7f, sizeof frame);
    if (depth == 0) {
        deepest_frame = (uintptr_t)__builtin_frame_address(0);
        return frame[0];
    }
    return recurse(depth - 1) + frame[depth % 512];
}

static void *deep_fn(void *arg)
{
    uintptr_t top = (uintptr_t)__builtin_frame_address(0);
    recurse_result = recurse((int)P2INT(arg));
    return (void *)(top - deepest_frame);
}

START_TEST(test_deep_recursion_in_1mib)
{
    int depth = 1200;   /* at least 600 KiB of frames */
    green_t *g = green_new(deep_fn, 1 << 20);
    ck_assert_msg(g != NULL, "green_new with a 1 MiB stack failed");
    uintptr_t used = (uintptr_t)green_switch(g, INT2P(depth));
    ck_assert_msg(green_dead(g), "expected the recursion to finish");
    ck_assert_msg(used >= (uintptr_t)depth * 512, "expected %d frames of 512+ "
                  "bytes to span at least %d bytes of the greenlet's stack, "
                  "they spanned %lu", depth, depth * 512,
                  (unsigned long)used);
    green_free(g);
}
END_TEST

/* A stackful generator: yields from deep inside a recursion, which a
 * stackless generator (gen.h) cannot do. */
static void visit(long n, green_t *consumer)
{
    volatile char pad[1024];
    pad[0] = (char)n;
    if (n == 0)
        return;
    green_switch(consumer, INT2P(n));
    visit(n - 1, consumer);
    ck_assert_msg(pad[0] == (char)n, "depth %ld: a local changed while the "
                  "greenlet was suspended", n);
    green_switch(consumer, INT2P(-n));
}

static void *visitor(void *arg)
{
    visit(P2INT(arg), green_parent(green_current()));
    return INT2P(0);
}

START_TEST(test_yield_from_deep_recursion)
{
    enum { N = 200 };
    green_t *g = green_new(visitor, 1 << 20);
    long got[2 * N];
    int n = 0;
    void *v = green_switch(g, INT2P(N));
    while (!green_dead(g)) {
        ck_assert_msg(n < 2 * N, "expected exactly %d values", 2 * N);
        got[n++] = P2INT(v);
        v = green_switch(g, NULL);
    }
    ck_assert_msg(n == 2 * N, "expected %d values, got %d", 2 * N, n);
    for (int i = 0; i < N; i++) {
        ck_assert_msg(got[i] == N - i, "value %d (on the way down): expected "
                      "%d, got %ld", i, N - i, got[i]);
        ck_assert_msg(got[N + i] == -(i + 1), "value %d (on the way up): "
                      "expected %d, got %ld", N + i, -(i + 1), got[N + i]);
    }
    green_free(g);
}
END_TEST

/* ---- Stack overflow --------------------------------------------------- */

static volatile long forever = 1L << 40;

static __attribute__((noinline)) long dive(long depth)
{
    volatile char frame[256];
    frame[0] = (char)depth;
    if (depth >= forever)
        return frame[0];
    return dive(depth + 1) + frame[0];
}

static void *diver(void *arg)
{
    (void)arg;
    return INT2P(dive(0));
}

/* In the child: a greenlet with a 16 KiB stack that recurses forever. */
static void dive_in_child(void *unused)
{
    (void)unused;
    green_t *g = green_new(diver, 16 * 1024);
    if (g == NULL)
        _exit(3);
    green_set_name(g, "deep-diver");
    green_switch(g, NULL);
}

START_TEST(test_overflow_names_greenlet_and_dies)
{
    char err[4096];
    int status = kit_die_in_child(dive_in_child, NULL, SIGSEGV, err, sizeof err);

    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
                  "expected the child whose greenlet recursed forever to die "
                  "of SIGSEGV, it %s %d; stderr: %s",
                  WIFSIGNALED(status) ? "died of signal" : "exited with",
                  WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
                  err);
    ck_assert_msg(strstr(err, "deep-diver") != NULL, "expected the overflow "
                  "report to name the greenlet \"deep-diver\"; stderr: %s",
                  err);
    ck_assert_msg(strstr(err, "16 KiB") != NULL, "expected the overflow "
                  "report to give the stack size \"16 KiB\"; stderr: %s", err);
}
END_TEST

/* ---- Freeing, and many greenlets -------------------------------------- */

START_TEST(test_free_never_started)
{
    green_t *g = green_new(record_and_return, 0);
    seen_arg = NULL;
    green_free(g);
    green_t *h = green_new(nothing, 64 * 1024);
    green_free(h);
    ck_assert_msg(seen_arg == NULL, "freeing a never-started greenlet must not "
                  "run its function");
}
END_TEST

static int suspended_cleanup_ran;

static void *park_forever(void *arg)
{
    green_switch(green_parent(green_current()), arg);
    suspended_cleanup_ran = 1;
    return NULL;
}

START_TEST(test_new_too_big)
{
    errno = 0;
    green_t *g = green_new(nothing, SIZE_MAX);
    int saved = errno;
    if (g != NULL) {
        size_t got = green_stack_size(g);
        green_free(g);
        ck_abort_msg("green_new(fn, SIZE_MAX): expected NULL with ENOMEM, got "
                     "a greenlet with a stack of %zu bytes", got);
    }
    ck_assert_msg(saved == ENOMEM, "green_new(fn, SIZE_MAX): expected errno "
                  "ENOMEM, got %d (%s)", saved, strerror(saved));
    errno = 0;
    g = green_new(nothing, (size_t)1 << 62);
    ck_assert_msg(g == NULL && errno == ENOMEM, "green_new(fn, 2^62): expected "
                  "NULL with ENOMEM, got %p with errno %d", (void *)g, errno);
}
END_TEST

START_TEST(test_free_suspended)
{
    suspended_cleanup_ran = 0;
    green_t *g = green_new(park_forever, 0);
    ck_assert(green_switch(g, INT2P(3)) == INT2P(3));
    green_free(g);   /* abandons its call chain: documented */
    ck_assert_msg(!suspended_cleanup_ran, "green_free must not resume the "
                  "greenlet");
}
END_TEST

static void *half_then_return(void *arg)
{
    void *back = green_switch(green_parent(green_current()), arg);
    return INT2P(P2INT(arg) + P2INT(back));
}

START_TEST(test_many_greenlets)
{
    enum { N = 10000 };
    green_t **gs = calloc(N, sizeof *gs);
    ck_assert(gs != NULL);
    for (int i = 0; i < N; i++) {
        gs[i] = green_new(half_then_return, 16 * 1024);
        ck_assert_msg(gs[i] != NULL, "green_new %d of %d failed: %s", i, N,
                      strerror(errno));
    }
    /* All N are suspended halfway at once, each on its own stack. */
    for (int i = 0; i < N; i++) {
        void *r = green_switch(gs[i], INT2P(i));
        ck_assert_msg(r == INT2P(i), "greenlet %d: expected %d back, got %ld",
                      i, i, P2INT(r));
    }
    for (int i = N - 1; i >= 0; i--) {
        void *r = green_switch(gs[i], INT2P(N));
        ck_assert_msg(r == INT2P(i + N), "greenlet %d: expected result %d, got "
                      "%ld", i, i + N, P2INT(r));
        ck_assert(green_dead(gs[i]));
        green_free(gs[i]);
    }
    free(gs);
}
END_TEST

/* ---- Threads ---------------------------------------------------------- */

static pthread_mutex_t thread_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t thread_cond = PTHREAD_COND_INITIALIZER;
static int thread_stage;
static green_t *thread_g, *thread_main;
static char thread_main_name[32];

static void thread_wait_for(int stage)
{
    pthread_mutex_lock(&thread_lock);
    while (thread_stage < stage)
        pthread_cond_wait(&thread_cond, &thread_lock);
    pthread_mutex_unlock(&thread_lock);
}

static void thread_advance(int stage)
{
    pthread_mutex_lock(&thread_lock);
    thread_stage = stage;
    pthread_cond_broadcast(&thread_cond);
    pthread_mutex_unlock(&thread_lock);
}

static void *other_thread(void *arg)
{
    (void)arg;
    thread_main = green_current();
    snprintf(thread_main_name, sizeof thread_main_name, "%s",
             green_name(thread_main));
    thread_g = green_new(nothing, 0);
    thread_advance(1);
    thread_wait_for(2);          /* main thread tries its switch */
    green_switch(thread_g, NULL);  /* fine from its own thread */
    green_free(thread_g);
    return NULL;
}

START_TEST(test_other_threads_greenlet)
{
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, other_thread, NULL), 0);
    thread_wait_for(1);
    ck_assert_msg(strcmp(thread_main_name, "main") == 0, "expected another "
                  "thread's main greenlet to be named \"main\" too, got "
                  "\"%s\"", thread_main_name);
    ck_assert_msg(thread_main != green_current(), "expected each thread to "
                  "have its own main greenlet");

    struct kit_capture cap;
    char err[512];
    kit_capture_start(&cap);
    errno = 0;
    void *r = green_switch(thread_g, INT2P(1));
    int saved = errno;
    kit_capture_end(&cap, err, sizeof err);
    thread_advance(2);
    pthread_join(t, NULL);
    ck_assert_msg(r == NULL && saved == EPERM, "switching to another thread's "
                  "greenlet: expected NULL with EPERM (a call from the wrong thread: "
                  "lib/green.h, Misuse), got %p with errno %d",
                  r, saved);
    ck_assert_msg(err[0] != '\0', "expected an explanation on stderr");
}
END_TEST

/* A thread that uses greenlets and ends. */
static void *use_greenlets_and_end(void *arg)
{
    (void)arg;
    green_t *g = green_new(nothing, 0);
    green_switch(g, NULL);
    green_free(g);
    return NULL;
}

static void run_threads(int n)
{
    for (int i = 0; i < n; i++) {
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, NULL, use_greenlets_and_end,
                                        NULL), 0);
        pthread_join(t, NULL);
    }
}

/* Each thread's main greenlet is made on first use; it must be freed when
 * the thread ends (gevent checks that a hub in a new thread does not leak).
 * One arena for all threads, so that mallinfo2 (which reports the main
 * arena) sees their memory; under AddressSanitizer and Valgrind it reports
 * 0, and their own leak checkers judge. */
START_TEST(test_thread_exit_frees_main_greenlet)
{
    mallopt(M_ARENA_MAX, 1);
    run_threads(20);            /* warm up: glibc's caches of threads */
    size_t before = mallinfo2().uordblks;
    enum { THREADS = 200 };
    run_threads(THREADS);
    long grew = (long)mallinfo2().uordblks - (long)before;
    ck_assert_msg(grew < 16 * THREADS, "%d threads that used greenlets and "
                  "ended grew the heap by %ld bytes (%ld per thread): each "
                  "thread's main greenlet must be freed at its exit",
                  THREADS, grew, grew / THREADS);
}
END_TEST

static Suite *greenlet_suite(void)
{
    Suite *s = suite_create("lib/greenlet");
    TCase *tc = kit_tcase("switch");
    tcase_add_test(tc, test_main_greenlet);
    tcase_add_test(tc, test_first_switch_starts_with_argument);
    tcase_add_test(tc, test_values_both_ways);
    tcase_add_test(tc, test_return_goes_to_parent_not_switcher);
    tcase_add_test(tc, test_nested_three_deep);
    /* Where tests run without fork (qemu-user), clone() for a thread
     * hangs just as fork() does. */
    if (kit_can_fork())
        tcase_add_test(tc, test_other_threads_greenlet);
    if (kit_can_fork())
        tcase_add_test(tc, test_thread_exit_frees_main_greenlet);
    suite_add_tcase(s, tc);

    tc = kit_tcase("names and parents");
    tcase_add_test(tc, test_default_names);
    tcase_add_test(tc, test_set_name);
    tcase_add_test(tc, test_stack_sizes);
    tcase_add_test(tc, test_set_parent_refuses_cycles);
    tcase_add_test(tc, test_set_parent_redirects_result);
    if (kit_can_fork())         /* makes a thread: see above */
        tcase_add_test(tc, test_set_parent_refuses_other_thread_and_null);
    suite_add_tcase(s, tc);

    tc = kit_tcase("death");
    tcase_add_test(tc, test_switch_to_dead);
    tcase_add_test(tc, test_dead_parent_passes_to_grandparent);
    tcase_add_test(tc, test_freed_dead_parent);
    tcase_add_test(tc, test_parent_started_by_childs_death);
    tcase_add_test(tc, test_free_never_started);
    tcase_add_test(tc, test_new_too_big);
    tcase_add_test(tc, test_free_suspended);
    tcase_add_test(tc, test_many_greenlets);
    /* Hooks are process-wide and stay: only in a test process of its own. */
    if (kit_can_fork())
        tcase_add_test(tc, test_exit_hooks);
    suite_add_tcase(s, tc);

    tc = kit_tcase("stacks");
    tcase_add_test(tc, test_deep_recursion_in_1mib);
    tcase_add_test(tc, test_yield_from_deep_recursion);
    if (kit_can_fork())
        tcase_add_test(tc, test_overflow_names_greenlet_and_dies);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(greenlet_suite()); }
