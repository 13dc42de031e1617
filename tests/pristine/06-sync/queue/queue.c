/* queue.c - exercise 06-sync/queue.  Read queue.h first. */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>

#include "green.h"
#include "queue.h"

/* TODO: a node for each waiting greenlet (see queue.h, the recipe). */

struct ex_queue {
    void **items;           /* ring buffer of maxsize slots */
    size_t maxsize, head, len;
    /* TODO: the getters and the putters waiting, oldest first */
};

ex_queue *ex_queue_new(size_t maxsize)
{
    ex_queue *q = calloc(1, sizeof *q);
    if (q == NULL || maxsize == 0)
        goto fail;
    q->items = malloc(maxsize * sizeof *q->items);
    if (q->items == NULL)
        goto fail;
    q->maxsize = maxsize;
    return q;
fail:
    free(q);
    errno = maxsize == 0 ? EINVAL : ENOMEM;
    return NULL;
}

void ex_queue_free(ex_queue *q)
{
    if (q == NULL)
        return;
    free(q->items);
    free(q);
}

size_t ex_queue_len(const ex_queue *q)
{
    return q->len;
}

/* The ring buffer (given): push at the end when len < maxsize, pop the
 * first when len > 0. */
static void push(ex_queue *q, void *item)
{
    q->items[(q->head + q->len) % q->maxsize] = item;
    q->len++;
}

static void *pop(ex_queue *q)
{
    void *item = q->items[q->head];
    q->head = (q->head + 1) % q->maxsize;
    q->len--;
    return item;
}

int ex_queue_put(ex_queue *q, void *item, double timeout)
{
    /* TODO: a getter waits?  hand it the item.  Room?  push.  Otherwise
     * wait on the putters' list for a getter to move your item in. */
    (void)q;
    (void)item;
    (void)timeout;
    (void)push;
    errno = ENOSYS;
    return -1;
}

int ex_queue_get(ex_queue *q, void **item, double timeout)
{
    /* TODO: an item?  pop it, and give the freed slot to the first putter
     * waiting.  Otherwise wait on the getters' list to be handed one. */
    (void)q;
    (void)item;
    (void)timeout;
    (void)pop;
    errno = ENOSYS;
    return -1;
}
