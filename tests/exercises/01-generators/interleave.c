/*
 * Tests of exercise chapter 1 / interleave:
 * exercises/01-generators/interleave/interleave.h.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "interleave.h"

#define SEE_LOOP KIT_LESSON("chapters/01-generators/README.md", "The round-robin loop: the first scheduler")
#define SEE_EXERCISE KIT_LESSON("chapters/01-generators/README.md", "Exercise: interleave")

/* A test generator: yields its words (string literals) one by one, e.g.
 * "a1", "a2", "a3", so the order of out is easy to read in a message. */
struct words {
    green_gen_t gen;
    const char **words;     /* NULL-terminated */
    int i;
};

static int words_step(green_gen_t *g)
{
    struct words *w = (struct words *)g;
    GREEN_GEN_BEGIN(g);
    for (w->i = 0; w->words[w->i] != NULL; w->i++)
        GREEN_GEN_YIELD(g, (void *)w->words[w->i]);
    GREEN_GEN_END(g);
}

static const char *A[] = { "a1", "a2", "a3", NULL };
static const char *B[] = { "b1", "b2", "b3", NULL };
static const char *C[] = { "c1", "c2", NULL };
static const char *ONE[] = { "b1", NULL };
static const char *NONE[] = { NULL };

static void start(struct words *w, const char **words)
{
    w->words = words;
    green_gen_init(&w->gen, words_step);
}

/* out[0..n) as "a1 b1 c1", for comparing and for messages. */
static const char *joined(void **out, int n)
{
    static char buf[256];
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && len < sizeof buf - 8; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s",
                                i ? " " : "", (const char *)out[i]);
    return n ? buf : "(nothing)";
}

START_TEST(two_take_turns)
{
    static const char *X[] = { "a1", "a2", NULL }, *Y[] = { "b1", "b2", NULL };
    struct words a, b;
    start(&a, X);
    start(&b, Y);
    green_gen_t *gens[] = { &a.gen, &b.gen };
    void *out[16];
    int n = ex_interleave(gens, 2, out, 16);
    ck_assert_msg(n == 4 && strcmp(joined(out, n), "a1 b1 a2 b2") == 0,
                  "two generators of 2 values each: expected a1 b1 a2 b2 "
                  "(returning 4), got %s (returning %d); " SEE_LOOP,
                  joined(out, n), n);
}
END_TEST

START_TEST(different_lengths)
{
    struct words a, b, c;
    start(&a, A);
    start(&b, ONE);
    start(&c, C);
    green_gen_t *gens[] = { &a.gen, &b.gen, &c.gen };
    void *out[16];
    int n = ex_interleave(gens, 3, out, 16);
    ck_assert_msg(n == 6 && strcmp(joined(out, n), "a1 b1 c1 a2 c2 a3") == 0,
                  "generators of 3, 1 and 2 values: expected a1 b1 c1 a2 c2 a3 "
                  "(finished ones drop out, the rest keep their order), got %s "
                  "(returning %d); " SEE_EXERCISE, joined(out, n), n);
}
END_TEST

START_TEST(empty_generator_skipped)
{
    struct words a, none, c;
    start(&a, A);
    start(&none, NONE);
    start(&c, C);
    green_gen_t *gens[] = { &a.gen, &none.gen, &c.gen };
    void *out[16];
    int n = ex_interleave(gens, 3, out, 16);
    ck_assert_msg(n == 5 && strcmp(joined(out, n), "a1 c1 a2 c2 a3") == 0,
                  "a generator that finishes without yielding stores nothing: "
                  "expected a1 c1 a2 c2 a3, got %s (returning %d); "
                  "green_gen_next returns 0 for it; " SEE_EXERCISE,
                  joined(out, n), n);
}
END_TEST

START_TEST(runs_all_to_the_end)
{
    struct words a, b, c;
    start(&a, A);
    start(&b, B);
    start(&c, C);
    green_gen_t *gens[] = { &a.gen, &b.gen, &c.gen };
    void *out[16];
    int n = ex_interleave(gens, 3, out, 16);
    ck_assert_msg(n == 8, "generators of 3, 3 and 2 values with room for 16: "
                  "expected all 8 values, got %d: %s; " SEE_LOOP, n, joined(out, n));
    for (int i = 0; i < 3; i++)
        ck_assert_msg(green_gen_done(gens[i]), "with room to spare, every "
                      "generator should have run to its end; gens[%d] has not "
                      "finished; " SEE_LOOP, i);
}
END_TEST

START_TEST(no_generators)
{
    void *out[4] = { 0 };
    int n = ex_interleave(NULL, 0, out, 4);
    ck_assert_msg(n == 0, "with n = 0 there is nothing to run: expected 0, got "
                  "%d; " SEE_EXERCISE, n);
}
END_TEST

START_TEST(max_limits)
{
    struct words a, b;
    start(&a, A);
    start(&b, B);
    green_gen_t *gens[] = { &a.gen, &b.gen };
    void *out[16];
    int n = ex_interleave(gens, 2, out, 3);
    ck_assert_msg(n == 3 && strcmp(joined(out, n), "a1 b1 a2") == 0,
                  "with max = 3: expected a1 b1 a2 (returning 3), got %s "
                  "(returning %d); " SEE_EXERCISE, joined(out, n), n);
}
END_TEST

START_TEST(max_loses_nothing)
{
    struct words a, b;
    void *v = NULL;
    start(&a, A);
    start(&b, B);
    green_gen_t *gens[] = { &a.gen, &b.gen };
    void *out[16];
    int n = ex_interleave(gens, 2, out, 3);
    ck_assert_msg(n == 3, "with max = 3: expected 3 values, got %d; " SEE_EXERCISE, n);
    ck_assert_msg(green_gen_next(&b.gen, &v) && strcmp(v, "b2") == 0,
                  "after max = 3 values (a1 b1 a2) the second generator should "
                  "not have been resumed again, so its next value is b2; it is "
                  "%s: a value was lost.  Check for room in out before each "
                  "green_gen_next; " SEE_EXERCISE, v ? (const char *)v : "(none)");
}
END_TEST

START_TEST(max_zero)
{
    struct words a;
    void *v = NULL;
    start(&a, A);
    green_gen_t *gens[] = { &a.gen };
    int n = ex_interleave(gens, 1, NULL, 0);
    ck_assert_msg(n == 0, "with max = 0: expected 0, got %d; " SEE_EXERCISE, n);
    ck_assert_msg(green_gen_next(&a.gen, &v) && strcmp(v, "a1") == 0,
                  "with max = 0 no generator may be resumed, so the next value "
                  "is still a1; it is %s; " SEE_EXERCISE,
                  v ? (const char *)v : "(none)");
}
END_TEST

static Suite *interleave_suite(void)
{
    Suite *s = suite_create("01-generators/interleave");
    TCase *tc = kit_tcase("interleave");
    tcase_add_test(tc, two_take_turns);
    tcase_add_test(tc, different_lengths);
    tcase_add_test(tc, empty_generator_skipped);
    tcase_add_test(tc, runs_all_to_the_end);
    tcase_add_test(tc, no_generators);
    tcase_add_test(tc, max_limits);
    tcase_add_test(tc, max_loses_nothing);
    tcase_add_test(tc, max_zero);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(interleave_suite()); }
