/*
 * kill.c - stopping a greenlet from outside, C style.
 *
 * green_kill() cannot yank a greenlet off its stack: that would skip its
 * cleanup.  Instead the greenlet's current wait fails with -1 and errno
 * ECANCELED (and so does every later one), and the greenlet unwinds
 * through its own cleanup code, exactly as it would for any other error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "green.h"

/* The pattern: every wait can fail; on failure, go to the cleanup. */
static void *worker(void *arg)
{
    (void)arg;
    char *buffer = malloc(4096);
    printf("worker: got a buffer, going to sleep for 10 s\n");
    if (green_sleep(10.0) < 0) {
        printf("worker: green_sleep failed: %s\n", strerror(errno));
        goto out;
    }
    printf("worker: woke up normally (not this time)\n");
out:
    free(buffer);
    printf("worker: buffer freed, returning\n");
    return NULL;
}

static int said;    /* how many times say() ran */

static void *say(void *arg)
{
    said++;
    printf("%s\n", (const char *)arg);
    return NULL;
}

int main(void)
{
    double start = green_now();

    printf("1. kill a sleeping greenlet\n");
    green_t *w = green_spawn(worker, NULL);
    green_sleep(0.1);                       /* let it start and fall asleep */
    printf("main: killing the worker\n");
    green_kill(w, GREEN_FOREVER);
    printf("main: worker dead after %.2f s, not 10\n", green_now() - start);
    green_free(w);

    printf("2. kill a greenlet before it starts\n");
    green_t *g = green_spawn(say, "say: you will never see this line");
    green_kill(g, GREEN_FOREVER);
    printf("main: dead? %s  say() ran %d times\n", green_dead(g) ? "yes" : "no", said);
    green_free(g);

    printf("3. spawn_later: start a greenlet 0.2 s from now\n");
    start = green_now();
    g = green_spawn_later(0.2, say, "say: hello from a late greenlet");
    green_join(g, GREEN_FOREVER);
    printf("main: it ran after %.2f s\n", green_now() - start);
    green_free(g);

    green_hub_destroy();
    return 0;
}
