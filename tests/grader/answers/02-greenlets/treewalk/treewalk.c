/* A broken answer for the grader's tests: the walk recurses on the same
 * node forever, and overflows the walker greenlet's stack. */
#include "treewalk.h"

#include <stddef.h>

static void walk(struct ex_node *node)
{
    volatile char frame[256];       /* a frame the compiler cannot drop */
    frame[0] = 0;
    if (node == NULL)
        return;
    walk(node);                     /* the bug: node, not node->left */
    green_switch(green_parent(green_current()), node);
    walk(node->right);
    frame[1] = frame[0];
}

static void *walker_main(void *arg)
{
    struct ex_node *root = arg;
    green_switch(green_parent(green_current()), NULL);
    walk(root);
    return NULL;
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
