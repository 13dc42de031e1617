/*
 * Tests of exercise chapter 1 / fib: exercises/01-generators/fib/fib.h.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "fib.h"

#define SEE_STRUCT KIT_LESSON("chapters/01-generators/README.md", "State lives in a struct")
#define SEE_EXERCISE KIT_LESSON("chapters/01-generators/README.md", "Exercise: fib")

/* Run f for at most max values; store them in out and return how many. */
static int take(struct ex_fib *f, long *out, int max)
{
    int got = 0;
    void *v;
    while (got < max && green_gen_next(&f->gen, &v))
        out[got++] = *(long *)v;
    return got;
}

/* "0 1 1 2" for messages. */
static const char *show(const long *vals, int n)
{
    static char buf[512];
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && len < sizeof buf - 32; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%ld", i ? " " : "", vals[i]);
    return n ? buf : "(nothing)";
}

START_TEST(first_values)
{
    static const long want[] = { 0, 1, 1, 2, 3, 5, 8, 13, 21, 34 };
    struct ex_fib f;
    long got[10];
    ex_fib_init(&f, 10);
    int n = take(&f, got, 10);
    ck_assert_msg(n == 10 && memcmp(got, want, sizeof want) == 0,
                  "ex_fib_init(&f, 10) should yield 0 1 1 2 3 5 8 13 21 34, "
                  "it yielded %s; " SEE_EXERCISE, show(got, n));
}
END_TEST

START_TEST(exactly_n_then_done)
{
    struct ex_fib f;
    long got[20];
    ex_fib_init(&f, 5);
    int n = take(&f, got, 20);
    ck_assert_msg(n == 5, "ex_fib_init(&f, 5) should yield exactly 5 values and "
                  "then finish, it yielded %d: %s; " SEE_EXERCISE, n, show(got, n));
    ck_assert_msg(green_gen_done(&f.gen), "after its 5 values the generator should "
                  "be finished (green_gen_done), it is not; does your step function "
                  "reach GREEN_GEN_END? " SEE_EXERCISE);
}
END_TEST

/* A used struct, so that "nothing" comes from n <= 0 and not from a
 * generator that yields nothing whatever n is (the untouched stub). */
START_TEST(zero_yields_nothing)
{
    struct ex_fib f;
    long got[4];
    ex_fib_init(&f, 2);
    int n = take(&f, got, 4);
    ck_assert_msg(n == 2 && got[0] == 0 && got[1] == 1, "ex_fib_init(&f, 2) should "
                  "yield 0 1, it yielded %s; " SEE_EXERCISE, show(got, n));
    ex_fib_init(&f, 0);
    n = take(&f, got, 4);
    ck_assert_msg(n == 0, "ex_fib_init(&f, 0) should yield nothing, it yielded "
                  "%s; " SEE_EXERCISE, show(got, n));
    ex_fib_init(&f, -3);
    n = take(&f, got, 4);
    ck_assert_msg(n == 0, "ex_fib_init(&f, -3) should yield nothing (n <= 0), it "
                  "yielded %s; " SEE_EXERCISE, show(got, n));
}
END_TEST

START_TEST(two_generators_independent)
{
    static const long want[] = { 0, 1, 1, 2, 3, 5 };
    struct ex_fib f, g;
    long from_f[6], from_g[6];
    int nf = 0, ng = 0;
    void *v;

    ex_fib_init(&f, 6);
    ex_fib_init(&g, 6);
    for (int turn = 0; turn < 6; turn++) {   /* take turns, like chapter 1's tasks */
        if (green_gen_next(&f.gen, &v))
            from_f[nf++] = *(long *)v;
        if (green_gen_next(&g.gen, &v))
            from_g[ng++] = *(long *)v;
    }
    ck_assert_msg(nf == 6 && memcmp(from_f, want, sizeof want) == 0,
                  "two generators resumed in turn: the first should yield "
                  "0 1 1 2 3 5, it yielded %s; does some state live in a "
                  "static or global variable instead of the struct? " SEE_STRUCT,
                  show(from_f, nf));
    ck_assert_msg(ng == 6 && memcmp(from_g, want, sizeof want) == 0,
                  "two generators resumed in turn: the second should yield "
                  "0 1 1 2 3 5, it yielded %s; does some state live in a "
                  "static or global variable instead of the struct? " SEE_STRUCT,
                  show(from_g, ng));
}
END_TEST

START_TEST(value_points_into_struct)
{
    struct ex_fib f;
    void *v = NULL;
    ex_fib_init(&f, 3);
    int ok = green_gen_next(&f.gen, &v);
    ck_assert_msg(ok, "ex_fib_init(&f, 3): the first green_gen_next should yield "
                  "a value, the generator finished instead; " SEE_EXERCISE);
    char *p = v, *lo = (char *)&f, *hi = (char *)(&f + 1);
    ck_assert_msg(p >= lo && p + sizeof(long) <= hi,
                  "each yield should hand out a pointer to a long inside struct "
                  "ex_fib (e.g. &f->a); this one points elsewhere (a local is "
                  "gone as soon as the step function returns); " SEE_STRUCT);
}
END_TEST

START_TEST(done_stays_done)
{
    struct ex_fib f;
    long got[8];
    void *v = NULL;
    ex_fib_init(&f, 3);
    int n = take(&f, got, 8);
    ck_assert_msg(n == 3, "ex_fib_init(&f, 3) should yield 3 values, it yielded "
                  "%d: %s; " SEE_EXERCISE, n, show(got, n));
    for (int i = 0; i < 3; i++)
        ck_assert_msg(green_gen_next(&f.gen, &v) == 0,
                      "a finished generator yielded again (call %d after the "
                      "end); it should stay finished: end the body with "
                      "GREEN_GEN_END; " SEE_EXERCISE, i + 1);
}
END_TEST

START_TEST(init_starts_over)
{
    static const long want[] = { 0, 1, 1, 2 };
    struct ex_fib f;
    long got[8];
    ex_fib_init(&f, 7);
    take(&f, got, 8);               /* run it to the end */
    ex_fib_init(&f, 4);
    int n = take(&f, got, 8);
    ck_assert_msg(n == 4 && memcmp(got, want, sizeof want) == 0,
                  "ex_fib_init on a used generator should start over: "
                  "expected 0 1 1 2, got %s; does ex_fib_init set every "
                  "field (n, i, a, b)? " SEE_EXERCISE, show(got, n));
}
END_TEST

START_TEST(longest_sequence)
{
    struct ex_fib f;
    long got[EX_FIB_MAX + 10];
    ex_fib_init(&f, EX_FIB_MAX + 10);
    int n = take(&f, got, EX_FIB_MAX + 10);
    ck_assert_msg(n == EX_FIB_MAX, "ex_fib_init(&f, %d) should yield EX_FIB_MAX "
                  "(%d) values, it yielded %d; " SEE_EXERCISE,
                  EX_FIB_MAX + 10, EX_FIB_MAX, n);
    ck_assert_msg(got[n - 1] == 1779979416004714189L,
                  "the 90th value should be F(89) = 1779979416004714189, it is "
                  "%ld; are a and b of type long? " SEE_EXERCISE, got[n - 1]);
}
END_TEST

static Suite *fib_suite(void)
{
    Suite *s = suite_create("01-generators/fib");
    TCase *tc = kit_tcase("fib");
    tcase_add_test(tc, first_values);
    tcase_add_test(tc, exactly_n_then_done);
    tcase_add_test(tc, zero_yields_nothing);
    tcase_add_test(tc, two_generators_independent);
    tcase_add_test(tc, value_points_into_struct);
    tcase_add_test(tc, done_stays_done);
    tcase_add_test(tc, init_starts_over);
    tcase_add_test(tc, longest_sequence);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(fib_suite()); }
