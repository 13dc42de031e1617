/* pool_spawn.c - exercise 07-servers/pool_spawn.  Read pool_spawn.h first. */
#include <errno.h>
#include <stdlib.h>

#include "green.h"
#include "pool_spawn.h"

void ex_pool_init(ex_pool_t *pool, int size)
{
    pool->size = size;
    pool->running = 0;
    pool->head = pool->tail = NULL;
}

green_t *ex_pool_spawn(ex_pool_t *pool, green_fn_t fn, void *arg)
{
    /* TODO: spawn a wrapper that runs fn(arg) and then hands its slot to
     * the first waiting spawner (or running--); wait first, in the queue,
     * while the pool is full or others wait. */
    (void)pool;
    (void)fn;
    (void)arg;
    errno = ENOSYS;
    return NULL;
}
