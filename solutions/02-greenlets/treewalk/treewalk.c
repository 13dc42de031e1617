/* treewalk.c - solution of exercise 02-greenlets/treewalk.  See treewalk.h. */
#include "treewalk.h"

#include <stddef.h>

/* Plain recursion: the only unusual line is the yield, a switch to the
 * parent from however deep we are.  The frames above it wait on the
 * walker's own stack until the parent switches back. */
static void walk(struct ex_node *node)
{
    if (node == NULL)
        return;
    walk(node->left);
    green_switch(green_parent(green_current()), node);
    walk(node->right);
}

static void *walker_main(void *arg)
{
    struct ex_node *root = arg;
    /* The first switch (from ex_walk_start) only delivers the root; go
     * back at once and start walking on the first ex_walk_next. */
    green_switch(green_parent(green_current()), NULL);
    walk(root);
    return NULL;    /* the last value the parent receives: the end */
}

green_t *ex_walk_start(struct ex_node *root)
{
    green_t *walker = green_new(walker_main, EX_WALK_STACK);
    if (walker == NULL)
        return NULL;
    green_switch(walker, root);
    return walker;
}

struct ex_node *ex_walk_next(green_t *walker)
{
    if (green_dead(walker))
        return NULL;
    return green_switch(walker, NULL);
}

void ex_walk_free(green_t *walker)
{
    green_free(walker);
}
