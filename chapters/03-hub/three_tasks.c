/*
 * three_tasks.c - article 003 section 1.3 in C: gevent.spawn, gevent.sleep,
 * join.  Three tasks each print five lines and sleep 0.1 s after each one.
 * Run one after the other that would take 1.5 s; on the hub the three
 * sleeps overlap, so the whole program takes about 0.5 s.
 */
#include <stdio.h>

#include "green.h"

struct task { const char *name; int n; };

/* def task01(n): for i in range(n): print("task01", i); gevent.sleep(0.1) */
static void *task(void *arg)
{
    struct task *t = arg;
    green_set_name(green_current(), t->name);   /* for green_dump() */
    for (int i = 0; i < t->n; i++) {
        printf("%s %d\n", t->name, i);
        green_sleep(0.1);   /* the hub runs the others meanwhile */
    }
    return NULL;
}

int main(void)
{
    struct task t1 = { "task01", 5 }, t2 = { "task02", 5 }, t3 = { "task03", 5 };
    double start = green_now();

    /* spawn only queues a task: nothing runs until main waits */
    printf("---1---\n");
    green_t *g1 = green_spawn(task, &t1);
    printf("---2---\n");
    green_t *g2 = green_spawn(task, &t2);
    printf("---3---\n");
    green_t *g3 = green_spawn(task, &t3);
    printf("---4---\n");

    /* main waits here, so the hub gets to run the three tasks */
    green_join(g1, GREEN_FOREVER);
    green_join(g2, GREEN_FOREVER);
    green_join(g3, GREEN_FOREVER);

    printf("15 lines, 15 sleeps of 0.1 s, in %.2f s\n", green_now() - start);

    green_free(g1);
    green_free(g2);
    green_free(g3);
    green_hub_destroy();
    return 0;
}
