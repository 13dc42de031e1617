/*
 * prodcons.c - a producer and a consumer joined by a bounded queue, as
 * with gevent's Queue(maxsize=3).  The producer is fast, the consumer slow
 * (0.1 s per item), so the queue fills up; from then on each put waits
 * until the consumer frees a slot.  The producer never gets more than
 * three items ahead: a bounded queue is back-pressure.
 */
#include <stdint.h>
#include <stdio.h>

#include "green.h"
#include "sync.h"

#define ITEMS 6

static double start;

static double now(void) { return green_now() - start; }

static void *producer(void *arg)
{
    green_queue_t *q = arg;
    for (intptr_t i = 1; i <= ITEMS; i++) {
        if (green_queue_len(q) == 3)
            printf("[%.2f] producer: queue full, waiting to put item %ld\n", now(), (long)i);
        if (green_queue_put(q, (void *)i, GREEN_FOREVER) < 0)
            return NULL;
        printf("[%.2f] producer: put item %ld, queue holds %zu\n", now(), (long)i, green_queue_len(q));
    }
    green_queue_put(q, NULL, GREEN_FOREVER);      /* NULL: "no more items" */
    return NULL;
}

static void *consumer(void *arg)
{
    green_queue_t *q = arg;
    void *item;
    while (green_queue_get(q, &item, GREEN_FOREVER) == 0 && item != NULL) {
        printf("[%.2f] consumer: got item %ld\n", now(), (long)(intptr_t)item);
        green_sleep(0.1);                         /* slow work */
    }
    return NULL;
}

int main(void)
{
    green_queue_t *q = green_queue_new(3);        /* Queue(maxsize=3) */
    start = green_now();

    /* The consumer starts first and finds the queue empty: it waits. */
    green_t *c = green_spawn(consumer, q);
    green_t *p = green_spawn(producer, q);
    green_set_name(c, "consumer");              /* for dumps and traces */
    green_set_name(p, "producer");
    green_join(p, GREEN_FOREVER);
    green_join(c, GREEN_FOREVER);
    printf("[%.2f] done: %d items through a queue of 3\n", now(), ITEMS);

    green_free(p);
    green_free(c);
    green_queue_free(q);
    green_hub_destroy();
    return 0;
}
