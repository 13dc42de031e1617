/* pool_spawn.c - solution of exercise 07-servers/pool_spawn.
 * See pool_spawn.h. */
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

/* A slot is free: hand it straight to the oldest waiting spawner (running
 * stays the same), or give it back. */
static void release_slot(ex_pool_t *pool)
{
    struct ex_waiter *w = pool->head;
    if (w == NULL) {
        pool->running--;
        return;
    }
    pool->head = w->next;
    if (pool->head == NULL)
        pool->tail = NULL;
    w->granted = 1;
    green_ready(w->g, NULL);
}

struct job {
    ex_pool_t *pool;
    green_fn_t fn;
    void *arg;
};

static void *run_job(void *p)
{
    struct job job = *(struct job *)p;
    free(p);
    void *result = job.fn(job.arg);
    release_slot(job.pool);
    return result;
}

static void unlink_waiter(ex_pool_t *pool, struct ex_waiter *w)
{
    struct ex_waiter *prev = NULL;
    for (struct ex_waiter *q = pool->head; q; prev = q, q = q->next) {
        if (q != w)
            continue;
        if (prev)
            prev->next = w->next;
        else
            pool->head = w->next;
        if (pool->tail == w)
            pool->tail = prev;
        return;
    }
}

/* Wait in the queue until a slot is handed to us.  0, or -1 with errno. */
static int wait_for_slot(ex_pool_t *pool)
{
    struct ex_waiter me = { green_current(), 0, NULL };
    if (pool->tail)
        pool->tail->next = &me;
    else
        pool->head = &me;
    pool->tail = &me;

    int rc = 0;
    while (!me.granted && rc == 0)
        rc = green_hub_wait(GREEN_FOREVER);
    int err = errno;
    unlink_waiter(pool, &me);   /* still queued only if we gave up */
    if (rc != 0 && me.granted)
        release_slot(pool);     /* killed as the slot came: pass it on */
    errno = err;
    return rc;
}

green_t *ex_pool_spawn(ex_pool_t *pool, green_fn_t fn, void *arg)
{
    if (pool->running < pool->size && pool->head == NULL)
        pool->running++;
    else if (wait_for_slot(pool) != 0)
        return NULL;

    /* We hold a slot now. */
    struct job *job = malloc(sizeof *job);
    green_t *g = job ? green_spawn(run_job, job) : NULL;
    if (g == NULL) {
        free(job);
        release_slot(pool);
        errno = ENOMEM;
        return NULL;
    }
    *job = (struct job){ pool, fn, arg };
    green_detach(g);
    return g;
}
