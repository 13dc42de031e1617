/*
 * treewalk.c - a stackful generator: yield from deep inside a recursion.
 *
 * walk() is the textbook recursive in-order walk of a binary tree, with
 * one change: instead of printing a node it switches to its parent, handing
 * over the node.  The recursion is then frozen, however deep, on the
 * walker's stack, until main asks for the next node.  Chapter 1's
 * generators cannot do this: their yield is a `return`, which can only
 * leave the generator's own body, and would throw away the frames of
 * every walk() call in between.
 */
#include <stdio.h>

#include "green.h"

struct node {
    int key;
    struct node *left, *right;
};

/* What the walker hands over: it lives in walk()'s frame, deep in the
 * walker's stack, and stays valid while the walker waits. */
struct visit {
    struct node *node;
    int depth;
};

static void walk(struct node *n, int depth)
{
    if (n == NULL)
        return;
    walk(n->left, depth + 1);
    struct visit v = { n, depth };
    green_switch(green_parent(green_current()), &v);   /* yield v */
    walk(n->right, depth + 1);
}

static void *walker(void *root)
{
    walk(root, 0);
    return NULL;            /* the end of the walk, for the parent */
}

/* A binary search tree, so that in-order means sorted. */
static void insert(struct node **at, struct node *n)
{
    while (*at != NULL)
        at = n->key < (*at)->key ? &(*at)->left : &(*at)->right;
    *at = n;
}

int main(void)
{
    int keys[] = { 50, 30, 70, 20, 40, 60, 80, 35, 45, 42 };
    enum { N = sizeof keys / sizeof keys[0] };
    struct node nodes[N];
    struct node *root = NULL;
    for (int i = 0; i < N; i++) {
        nodes[i] = (struct node){ keys[i], NULL, NULL };
        insert(&root, &nodes[i]);
    }

    /* The first switch starts walker(root); each later one resumes walk()
     * right after its last yield.  At depth d, d + 1 calls of walk() wait on
     * the walker's stack; the indentation shows the tree, turned sideways. */
    green_t *g = green_new(walker, 0);
    for (struct visit *v = green_switch(g, root); v != NULL; v = green_switch(g, NULL))
        printf("%*s%d   (yielded at depth %d)\n", 4 * v->depth, "", v->node->key, v->depth);
    printf("walker dead: %d\n", green_dead(g));
    green_free(g);
    return 0;
}
