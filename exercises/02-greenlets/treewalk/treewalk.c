/* treewalk.c - exercise 02-greenlets/treewalk.  Read treewalk.h first. */
#include "treewalk.h"

#include <errno.h>
#include <stddef.h>

/* TODO: the recursive walk, and the walker greenlet's function around it.
 * Each node goes to the caller with
 *     green_switch(green_parent(green_current()), node);
 * and the function returns NULL when the walk is over. */

green_t *ex_walk_start(struct ex_node *root)
{
    /* TODO: green_new(your walker function, EX_WALK_STACK), then hand it
     * root with a first green_switch (see the hint in treewalk.h).  Until
     * then: NULL with errno ENOSYS ("not implemented"). */
    (void)root;
    errno = ENOSYS;
    return NULL;
}

struct ex_node *ex_walk_next(green_t *walker)
{
    /* TODO: NULL if the walker is dead, else switch to it and return the
     * node it hands back. */
    (void)walker;
    errno = ENOSYS;
    return NULL;
}

void ex_walk_free(green_t *walker)
{
    /* TODO: green_free. */
    (void)walker;
}
