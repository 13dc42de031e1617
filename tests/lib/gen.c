/*
 * tests/lib/gen.c - the library's own tests of gen.h (stackless generators).
 */
#include "harness.h"
#include "green.h"

#include <stdint.h>
#include <string.h>

/* ---- Generators under test ------------------------------------------- */

/* Yields first, first + 1, ..., first + n - 1 (as integers in pointers). */
struct counter {
    green_gen_t gen;
    int i, first, n;
};

static int counter_step(green_gen_t *g)
{
    struct counter *c = (struct counter *)g;
    GREEN_GEN_BEGIN(g);
    for (c->i = 0; c->i < c->n; c->i++)
        GREEN_GEN_YIELD(g, (void *)(intptr_t)(c->first + c->i));
    GREEN_GEN_END(g);
}

static void counter_init(struct counter *c, int first, int n)
{
    memset(c, 0, sizeof *c);
    c->first = first;
    c->n = n;
    green_gen_init(&c->gen, counter_step);
}

/* Several yields in a row, outside any loop, each with its own value. */
static int words_step(green_gen_t *g)
{
    static const char *const words[] = { "one", "two", "three" };
    GREEN_GEN_BEGIN(g);
    GREEN_GEN_YIELD(g, (void *)words[0]);
    GREEN_GEN_YIELD(g, (void *)words[1]);
    GREEN_GEN_YIELD(g, (void *)words[2]);
    GREEN_GEN_END(g);
}

/* Counts how often its body is entered, to show a finished generator's
 * body is never entered again. */
static int entries;

static int counted_step(green_gen_t *g)
{
    entries++;
    GREEN_GEN_BEGIN(g);
    GREEN_GEN_YIELD(g, (void *)1);
    GREEN_GEN_END(g);
}

/* A task of the round-robin scheduler: each yield appends "<tag><k> " to a
 * shared trace, so the test sees the interleaving. */
static char trace[256];

struct task {
    green_gen_t gen;
    char tag;
    int k, n;
};

static void trace_add(char tag, int k)
{
    size_t len = strlen(trace);
    trace[len] = tag;
    trace[len + 1] = (char)('0' + k);
    trace[len + 2] = ' ';
    trace[len + 3] = '\0';
}

static int task_step(green_gen_t *g)
{
    struct task *t = (struct task *)g;
    GREEN_GEN_BEGIN(g);
    for (t->k = 0; t->k < t->n; t->k++) {
        trace_add(t->tag, t->k);
        GREEN_GEN_YIELD(g, t);
    }
    GREEN_GEN_END(g);
}

static void task_init(struct task *t, char tag, int n)
{
    memset(t, 0, sizeof *t);
    t->tag = tag;
    t->n = n;
    green_gen_init(&t->gen, task_step);
}

/* ---- Tests ----------------------------------------------------------- */

START_TEST(test_yield_order_and_values)
{
    struct counter c;
    counter_init(&c, 10, 5);
    for (int k = 0; k < 5; k++) {
        void *v = (void *)-1;
        int r = green_gen_next(&c.gen, &v);
        ck_assert_msg(r == 1, "step %d: expected green_gen_next to return 1 "
                      "(yielded), got %d", k, r);
        ck_assert_msg((intptr_t)v == 10 + k, "step %d: expected the value %d, "
                      "got %ld", k, 10 + k, (long)(intptr_t)v);
        ck_assert_msg((intptr_t)c.gen.value == 10 + k, "step %d: expected "
                      "g->value %d, got %ld", k, 10 + k,
                      (long)(intptr_t)c.gen.value);
    }
}
END_TEST

START_TEST(test_straight_line_yields)
{
    green_gen_t g;
    green_gen_init(&g, words_step);
    const char *expected[] = { "one", "two", "three" };
    for (int k = 0; k < 3; k++) {
        void *v = NULL;
        int r = green_gen_next(&g, &v);
        ck_assert_msg(r == 1, "yield %d: expected 1, got %d", k, r);
        ck_assert_msg(v != NULL && strcmp(v, expected[k]) == 0,
                      "yield %d: expected \"%s\", got \"%s\"", k, expected[k],
                      v ? (const char *)v : "(null)");
    }
    ck_assert_msg(green_gen_next(&g, NULL) == 0,
                  "expected 0 after the third yield, the end of the body");
}
END_TEST

START_TEST(test_next_with_null_value)
{
    struct counter c;
    counter_init(&c, 0, 2);
    ck_assert_msg(green_gen_next(&c.gen, NULL) == 1,
                  "expected green_gen_next(g, NULL) to yield (1)");
    ck_assert_msg((intptr_t)c.gen.value == 0, "expected g->value 0, got %ld",
                  (long)(intptr_t)c.gen.value);
    ck_assert_msg(green_gen_next(&c.gen, NULL) == 1,
                  "expected a second yield (1)");
    ck_assert_msg((intptr_t)c.gen.value == 1, "expected g->value 1, got %ld",
                  (long)(intptr_t)c.gen.value);
    ck_assert_msg(green_gen_next(&c.gen, NULL) == 0,
                  "expected 0 after two yields of a 2-value generator");
}
END_TEST

START_TEST(test_zero_after_end_forever)
{
    struct counter c;
    counter_init(&c, 0, 3);
    int yields = 0;
    while (green_gen_next(&c.gen, NULL) == 1)
        ck_assert_msg(++yields <= 3, "a 3-value generator yielded more than "
                      "3 times");
    ck_assert_msg(yields == 3, "expected 3 yields, got %d", yields);
    for (int k = 0; k < 5; k++) {
        void *v = NULL;
        int r = green_gen_next(&c.gen, &v);
        ck_assert_msg(r == 0, "call %d after the end: expected 0, got %d",
                      k + 1, r);
    }
    ck_assert_msg(c.gen.resume == -1, "expected resume -1 once finished, "
                  "got %d", c.gen.resume);
}
END_TEST

START_TEST(test_finished_body_not_reentered)
{
    green_gen_t g;
    entries = 0;
    green_gen_init(&g, counted_step);
    ck_assert_int_eq(green_gen_next(&g, NULL), 1);
    ck_assert_int_eq(green_gen_next(&g, NULL), 0);
    int after_end = entries;
    ck_assert_msg(after_end == 2, "expected the body to be entered twice "
                  "(one yield, one end), got %d", after_end);
    for (int k = 0; k < 3; k++)
        ck_assert_int_eq(green_gen_next(&g, NULL), 0);
    ck_assert_msg(entries == after_end, "expected a finished generator's body "
                  "not to be entered again, entered %d more times",
                  entries - after_end);
}
END_TEST

START_TEST(test_empty_generator)
{
    struct counter c;
    counter_init(&c, 0, 0);
    ck_assert_msg(!green_gen_done(&c.gen), "expected a fresh generator not "
                  "to be done");
    ck_assert_msg(green_gen_next(&c.gen, NULL) == 0,
                  "expected 0 from a generator that never yields");
    ck_assert_msg(green_gen_done(&c.gen), "expected done after running off "
                  "the end without a yield");
}
END_TEST

START_TEST(test_done)
{
    struct counter c;
    counter_init(&c, 0, 2);
    ck_assert_msg(green_gen_done(&c.gen) == 0, "fresh: expected done 0, got %d",
                  green_gen_done(&c.gen));
    green_gen_next(&c.gen, NULL);
    ck_assert_msg(green_gen_done(&c.gen) == 0, "after 1 yield: expected done "
                  "0, got %d", green_gen_done(&c.gen));
    green_gen_next(&c.gen, NULL);
    ck_assert_msg(green_gen_done(&c.gen) == 0, "after the last yield but "
                  "before the end: expected done 0, got %d",
                  green_gen_done(&c.gen));
    green_gen_next(&c.gen, NULL);
    ck_assert_msg(green_gen_done(&c.gen) == 1, "after the end: expected done "
                  "1, got %d", green_gen_done(&c.gen));
    green_gen_next(&c.gen, NULL);
    ck_assert_msg(green_gen_done(&c.gen) == 1, "still after the end: expected "
                  "done 1, got %d", green_gen_done(&c.gen));
}
END_TEST

START_TEST(test_init_restarts)
{
    struct counter c;
    counter_init(&c, 5, 2);
    while (green_gen_next(&c.gen, NULL))
        ;
    ck_assert(green_gen_done(&c.gen));
    green_gen_init(&c.gen, counter_step);
    ck_assert_msg(!green_gen_done(&c.gen), "expected green_gen_init to make a "
                  "finished generator fresh again");
    void *v = NULL;
    ck_assert_msg(green_gen_next(&c.gen, &v) == 1 && (intptr_t)v == 5,
                  "expected the re-initialised generator to yield 5 first, "
                  "got %ld", (long)(intptr_t)v);
}
END_TEST

START_TEST(test_independent_generators)
{
    struct counter a, b;
    counter_init(&a, 0, 3);
    counter_init(&b, 100, 3);
    void *va = NULL, *vb = NULL;
    for (int k = 0; k < 3; k++) {
        ck_assert_int_eq(green_gen_next(&a.gen, &va), 1);
        ck_assert_int_eq(green_gen_next(&b.gen, &vb), 1);
        ck_assert_msg((intptr_t)va == k && (intptr_t)vb == 100 + k,
                      "step %d: expected %d and %d, got %ld and %ld", k, k,
                      100 + k, (long)(intptr_t)va, (long)(intptr_t)vb);
    }
}
END_TEST

START_TEST(test_round_robin_order)
{
    struct task a, b, c;
    task_init(&a, 'A', 3);
    task_init(&b, 'B', 1);
    task_init(&c, 'C', 2);
    green_gen_t *gens[] = { &a.gen, &b.gen, &c.gen };
    trace[0] = '\0';
    long steps = green_gen_round_robin(gens, 3, -1);
    const char *expected = "A0 B0 C0 A1 C1 A2 ";
    ck_assert_msg(strcmp(trace, expected) == 0,
                  "expected the interleaving \"%s\", got \"%s\"", expected,
                  trace);
    ck_assert_msg(steps == 6, "expected 6 yielding steps (3+1+2), got %ld",
                  steps);
    ck_assert_msg(green_gen_done(&a.gen) && green_gen_done(&b.gen) &&
                  green_gen_done(&c.gen),
                  "expected every generator done after an unlimited run "
                  "(done: A %d, B %d, C %d)", green_gen_done(&a.gen),
                  green_gen_done(&b.gen), green_gen_done(&c.gen));
}
END_TEST

START_TEST(test_round_robin_max_rounds)
{
    struct task a, b, c;
    task_init(&a, 'A', 3);
    task_init(&b, 'B', 1);
    task_init(&c, 'C', 2);
    green_gen_t *gens[] = { &a.gen, &b.gen, &c.gen };
    trace[0] = '\0';
    long steps = green_gen_round_robin(gens, 3, 2);
    const char *expected = "A0 B0 C0 A1 C1 ";
    ck_assert_msg(strcmp(trace, expected) == 0,
                  "max_rounds 2: expected \"%s\", got \"%s\"", expected, trace);
    ck_assert_msg(steps == 5, "max_rounds 2: expected 5 yielding steps "
                  "(B's end does not count), got %ld", steps);
    ck_assert_msg(!green_gen_done(&a.gen), "expected A unfinished after 2 "
                  "rounds");
    ck_assert_msg(green_gen_done(&b.gen), "expected B finished in round 2");

    /* The rest runs on a second call, skipping B. */
    trace[0] = '\0';
    steps = green_gen_round_robin(gens, 3, -1);
    ck_assert_msg(strcmp(trace, "A2 ") == 0, "second run: expected \"A2 \", "
                  "got \"%s\"", trace);
    ck_assert_msg(steps == 1, "second run: expected 1 step, got %ld", steps);
}
END_TEST

START_TEST(test_round_robin_zero_rounds)
{
    struct task a;
    task_init(&a, 'A', 2);
    green_gen_t *gens[] = { &a.gen };
    trace[0] = '\0';
    long steps = green_gen_round_robin(gens, 1, 0);
    ck_assert_msg(steps == 0 && trace[0] == '\0', "max_rounds 0: expected no "
                  "step, got %ld steps and trace \"%s\"", steps, trace);
    ck_assert_msg(green_gen_round_robin(gens, 0, -1) == 0,
                  "expected 0 steps for an empty array");
}
END_TEST

START_TEST(test_round_robin_one_round_each)
{
    struct task a, b;
    task_init(&a, 'A', 2);
    task_init(&b, 'B', 2);
    green_gen_t *gens[] = { &a.gen, &b.gen };
    trace[0] = '\0';
    long s1 = green_gen_round_robin(gens, 2, 1);
    long s2 = green_gen_round_robin(gens, 2, 1);
    long s3 = green_gen_round_robin(gens, 2, 1);
    ck_assert_msg(strcmp(trace, "A0 B0 A1 B1 ") == 0,
                  "expected \"A0 B0 A1 B1 \", got \"%s\"", trace);
    ck_assert_msg(s1 == 2 && s2 == 2 && s3 == 0,
                  "expected 2, 2 and 0 steps from three one-round runs, "
                  "got %ld, %ld, %ld", s1, s2, s3);
    ck_assert(green_gen_done(&a.gen) && green_gen_done(&b.gen));
}
END_TEST

START_TEST(test_round_robin_many)
{
    enum { N = 50 };
    struct counter cs[N];
    green_gen_t *gens[N];
    long total = 0;
    for (int i = 0; i < N; i++) {
        counter_init(&cs[i], 0, i);   /* lengths 0 .. N-1 */
        gens[i] = &cs[i].gen;
        total += i;
    }
    long steps = green_gen_round_robin(gens, N, -1);
    ck_assert_msg(steps == total, "expected %ld steps, got %ld", total, steps);
    for (int i = 0; i < N; i++)
        ck_assert_msg(green_gen_done(gens[i]), "generator %d not done", i);
}
END_TEST

static Suite *gen_suite(void)
{
    Suite *s = suite_create("lib/gen");
    TCase *tc = kit_tcase("yield");
    tcase_add_test(tc, test_yield_order_and_values);
    tcase_add_test(tc, test_straight_line_yields);
    tcase_add_test(tc, test_next_with_null_value);
    tcase_add_test(tc, test_independent_generators);
    suite_add_tcase(s, tc);

    tc = kit_tcase("end");
    tcase_add_test(tc, test_zero_after_end_forever);
    tcase_add_test(tc, test_finished_body_not_reentered);
    tcase_add_test(tc, test_empty_generator);
    tcase_add_test(tc, test_done);
    tcase_add_test(tc, test_init_restarts);
    suite_add_tcase(s, tc);

    tc = kit_tcase("round robin");
    tcase_add_test(tc, test_round_robin_order);
    tcase_add_test(tc, test_round_robin_max_rounds);
    tcase_add_test(tc, test_round_robin_zero_rounds);
    tcase_add_test(tc, test_round_robin_one_round_each);
    tcase_add_test(tc, test_round_robin_many);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(gen_suite()); }
