/*
 * treewalk.h - exercise 02-greenlets/treewalk: a stackful tree walker.
 *
 * The natural way to visit a binary tree in order is recursion:
 *
 *     walk(node):  walk(node->left);  visit(node);  walk(node->right);
 *
 * Turn that into a generator: a walker that hands out one node per call,
 * in order, so that the caller decides when to continue (and may run two
 * walks side by side, or stop halfway).  Chapter 1's stackless generators
 * cannot do this without rewriting the recursion as a loop with a stack of
 * its own: their yield only works in the generator's own body, never from
 * inside a function it calls.  A greenlet can switch away from any depth:
 * the whole chain of walk() calls waits on the greenlet's stack.
 *
 * The demo chapters/02-greenlets/treewalk.c walks a tree the same way.
 *
 * What it must do, in treewalk.c (search for TODO)
 *
 *   - ex_walk_start(root): create the walker greenlet (green_new, with a
 *     stack of EX_WALK_STACK bytes) and get root into it.  A greenlet's
 *     function receives the value of the *first* switch into it; the walk
 *     must not begin before the first ex_walk_next, so one way is: switch
 *     to it once here with root, and let it switch straight back to its
 *     parent ("got it, waiting") before it starts walking.
 *   - the walker's function: the recursive in-order walk, which hands each
 *     node to the caller with green_switch(green_parent(green_current()),
 *     node), from whatever depth it is at.  When the walk is over, the
 *     function returns NULL: that return value is what the caller's
 *     pending green_switch receives, and the walker is dead.
 *   - ex_walk_next(walker): switch to the walker and return what comes
 *     back.  Once the walker is dead, return NULL without switching
 *     (switching to a dead greenlet is an error: see green_switch).
 *   - ex_walk_free(walker): free it, finished or not.
 *
 * Call ex_walk_next from the greenlet that called ex_walk_start: the walker
 * hands its nodes to its parent, which is the greenlet that created it.
 *
 * The tests walk trees up to 100,000 levels deep, so the recursion needs
 * 100,000 frames on the walker's stack: far more than the default 128 KiB
 * (GREEN_STACK_DEFAULT), which the guard page would catch.  That is what
 * EX_WALK_STACK is sized for.  The stack is committed lazily, so a shallow
 * walk costs a page or two of memory however large EX_WALK_STACK is; see
 * the README's "Stacks: mmap, a guard page, lazy commit".
 *
 * Lesson: chapters/02-greenlets/README.md, "A stackful generator",
 *         "Parents, return values and death", then "Exercise: treewalk".
 * Tests:  tests/exercises/02-greenlets/treewalk.c
 * Run:    make grade E=treewalk
 * Stuck?  make hint E=treewalk (one more hint each time you ask)
 */
#ifndef EX_TREEWALK_H
#define EX_TREEWALK_H

#include "green.h"

/* Room for a 100,000-deep recursion at up to 160 bytes a frame (-O0 and
 * sanitizer builds make frames larger). */
#define EX_WALK_STACK (16 * 1024 * 1024)

struct ex_node {
    int key;
    struct ex_node *left, *right;
};

/* Make a walker over the tree at root (NULL: the empty tree).  The walk
 * has not begun: the first ex_walk_next returns the leftmost node.
 * Returns NULL, with errno set, when the walker cannot be created. */
green_t *ex_walk_start(struct ex_node *root);

/* The next node in order (left subtree, node, right subtree), or NULL once
 * every node has been returned, and on every call after that. */
struct ex_node *ex_walk_next(green_t *walker);

/* Free the walker and its stack, whether its walk has finished or not. */
void ex_walk_free(green_t *walker);

#endif
