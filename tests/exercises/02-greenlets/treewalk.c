/*
 * Tests of exercise 02-greenlets/treewalk: an in-order walk as a stackful
 * generator.  Every tree here holds the keys 0..n-1, so an in-order walk
 * must return 0, 1, 2, ... n-1 and then NULL.
 */
#include "harness.h"
#include "treewalk.h"

#include <errno.h>
#include <stddef.h>

#define SEE_GEN KIT_LESSON("chapters/02-greenlets/README.md", "A stackful generator")
#define SEE_LIFE KIT_LESSON("chapters/02-greenlets/README.md", "Parents, return values and death")
#define DEEP 100000

static struct ex_node nodes[DEEP];
static struct ex_node other[DEEP];

/* keys lo..hi-1 as a balanced tree; nodes come from pool[key] */
static struct ex_node *balanced(struct ex_node *pool, int lo, int hi)
{
    if (lo >= hi)
        return NULL;
    int mid = lo + (hi - lo) / 2;
    pool[mid].key = mid;
    pool[mid].left = balanced(pool, lo, mid);
    pool[mid].right = balanced(pool, mid + 1, hi);
    return &pool[mid];
}

/* keys 0..n-1, each node the left child of the next: the walk must go n
 * levels deep before it finds its first node */
static struct ex_node *left_chain(struct ex_node *pool, int n)
{
    for (int k = 0; k < n; k++)
        pool[k] = (struct ex_node){ k, k > 0 ? &pool[k - 1] : NULL, NULL };
    return &pool[n - 1];
}

/* keys 0..n-1, each node the right child of the one before: the walk ends
 * n levels deep */
static struct ex_node *right_chain(struct ex_node *pool, int n)
{
    for (int k = 0; k < n; k++)
        pool[k] = (struct ex_node){ k, NULL, k + 1 < n ? &pool[k + 1] : NULL };
    return &pool[0];
}

static green_t *start(struct ex_node *root)
{
    green_t *w = ex_walk_start(root);
    ck_assert_msg(w != NULL, "ex_walk_start returned NULL; expected a new walker greenlet "
                  "(green_new with EX_WALK_STACK); " SEE_GEN);
    return w;
}

/* The next node must have key k. */
static void expect_next(green_t *w, int k, int n, const char *tree)
{
    struct ex_node *node = ex_walk_next(w);
    ck_assert_msg(node != NULL,
                  "%s: ex_walk_next returned NULL after %d nodes, expected %d nodes; " SEE_GEN,
                  tree, k, n);
    ck_assert_msg(node->key == k,
                  "%s: node %d of the walk has key %d, expected %d (in order means: the left "
                  "subtree, then the node, then the right subtree); " SEE_GEN,
                  tree, k, node->key, k);
}

static void expect_end(green_t *w, int n, const char *tree)
{
    struct ex_node *node = ex_walk_next(w);
    ck_assert_msg(node == NULL,
                  "%s: after its %d nodes, ex_walk_next returned a node with key %d; expected "
                  "NULL: the walker's function returns NULL when the walk is over; " SEE_LIFE,
                  tree, n, node ? node->key : -1);
}

static void expect_walk(struct ex_node *root, int n, const char *tree)
{
    green_t *w = start(root);
    for (int k = 0; k < n; k++)
        expect_next(w, k, n, tree);
    expect_end(w, n, tree);
    ex_walk_free(w);
}

START_TEST(test_small_tree)
{
    expect_walk(balanced(nodes, 0, 7), 7, "a balanced tree of 7 nodes");
}
END_TEST

START_TEST(test_empty_tree)
{
    green_t *w = start(NULL);
    ck_assert_msg(ex_walk_next(w) == NULL,
                  "the walk of an empty tree (root NULL) returned a node; expected NULL at once; "
                  SEE_GEN);
    ck_assert_msg(ex_walk_next(w) == NULL,
                  "after the end of an empty tree's walk, ex_walk_next returned a node; "
                  "expected NULL again; " SEE_LIFE);
    ex_walk_free(w);
}
END_TEST

START_TEST(test_end_stays_end)
{
    green_t *w = start(balanced(nodes, 0, 3));
    for (int k = 0; k < 3; k++)
        expect_next(w, k, 3, "a tree of 3 nodes");
    expect_end(w, 3, "a tree of 3 nodes");
    for (int again = 0; again < 3; again++) {
        errno = 0;
        expect_end(w, 3, "a tree of 3 nodes");
        ck_assert_msg(errno != ESRCH,
                      "after the end of the walk, ex_walk_next switched to the dead walker "
                      "(green_switch printed an error and failed with ESRCH); check "
                      "green_dead() first and return NULL; " SEE_LIFE);
    }
    ck_assert_msg(green_dead(w),
                  "the walk is over but the walker greenlet is not dead: its function "
                  "should return (NULL) when the recursion is done; " SEE_LIFE);
    ex_walk_free(w);
}
END_TEST

START_TEST(test_deep_left)
{
    expect_walk(left_chain(nodes, DEEP), DEEP,
                "a tree 100,000 levels deep (each node the left child of the next)");
}
END_TEST

START_TEST(test_deep_right)
{
    expect_walk(right_chain(nodes, DEEP), DEEP,
                "a tree 100,000 levels deep (each node the right child of the one before)");
}
END_TEST

START_TEST(test_two_walkers)
{
    /* Two walks advanced in turn must not disturb each other; a third is
     * abandoned halfway and freed. */
    static struct ex_node third[10];
    green_t *a = start(balanced(nodes, 0, 100));
    green_t *b = start(left_chain(other, 50));
    green_t *c = start(right_chain(third, 10));
    for (int k = 0; k < 5; k++)
        expect_next(c, k, 10, "the third walker (stopped halfway)");
    for (int k = 0; k < 50; k++) {
        expect_next(a, k, 100, "walker A of two, interleaved");
        expect_next(b, k, 50, "walker B of two, interleaved");
    }
    ex_walk_free(c);
    expect_end(b, 50, "walker B of two, interleaved");
    for (int k = 50; k < 100; k++)
        expect_next(a, k, 100, "walker A of two, interleaved");
    expect_end(a, 100, "walker A of two, interleaved");
    ex_walk_free(a);
    ex_walk_free(b);
}
END_TEST

/* Walkers used from inside another greenlet: the nodes must go to that
 * greenlet (the walker's parent), not to main. */
static int inside_count;
static int inside_done;

static void *walk_inside(void *arg)
{
    green_t *w = ex_walk_start(arg);
    if (w == NULL)
        return NULL;
    struct ex_node *node;
    while ((node = ex_walk_next(w)) != NULL && node->key == inside_count)
        inside_count++;
    ex_walk_free(w);
    inside_done = 1;
    return &inside_done;
}

START_TEST(test_from_a_greenlet)
{
    green_t *g = green_new(walk_inside, 0);
    ck_assert_msg(g != NULL, "test setup: green_new failed");
    void *back = green_switch(g, balanced(nodes, 0, 20));
    ck_assert_msg(back == &inside_done,
                  "a greenlet G walked a tree of 20 nodes with ex_walk_start/ex_walk_next; "
                  "main expected G's return value and got %p instead (a node that should have "
                  "gone to G?): the walker must hand its nodes to its parent, the greenlet "
                  "that created it; " SEE_LIFE, back);
    ck_assert_msg(inside_count == 20,
                  "a greenlet walked a tree of 20 nodes and got keys 0..%d in order, then %s; "
                  SEE_GEN, inside_count - 1, "something else");
    green_free(g);
}
END_TEST

/* for runs without fork, where every test shares these */
static void reset_globals(void)
{
    inside_count = 0;
    inside_done = 0;
}

static Suite *treewalk_suite(void)
{
    Suite *s = suite_create("02-greenlets/treewalk");
    TCase *tc = kit_tcase("treewalk");
    tcase_add_checked_fixture(tc, reset_globals, NULL);
    tcase_add_test(tc, test_small_tree);
    tcase_add_test(tc, test_empty_tree);
    tcase_add_test(tc, test_end_stays_end);
    tcase_add_test(tc, test_deep_left);
    tcase_add_test(tc, test_deep_right);
    tcase_add_test(tc, test_two_walkers);
    tcase_add_test(tc, test_from_a_greenlet);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(treewalk_suite()); }
