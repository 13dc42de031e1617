/*
 * deadlock.c - waiting for something that can never happen.
 *
 * A waits for B to finish, B waits for A, and main waits for A.  Nobody is
 * ready and no event is pending, so nothing could ever wake anyone.  Instead
 * of hanging forever, the hub says who waits on what and fails main's wait
 * with EDEADLK (Python's gevent raises LoopExit; Go dies with "all goroutines
 * are asleep - deadlock!").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "green.h"

static green_t *a, *b;

static void *join_other(void *arg)
{
    green_t *other = *(green_t **)arg;
    const char *me = green_name(green_current());

    printf("%s: waiting for %s\n", me, green_name(other));
    if (green_join(other, GREEN_FOREVER) < 0)
        printf("%s: join failed: %s\n", me, strerror(errno));
    else
        printf("%s: %s is dead, so am I now\n", me, green_name(other));
    return NULL;
}

int main(void)
{
    /* our lines and the hub's report (on stderr) should come out in order */
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* &b, not b: A reads it when it runs, after both are spawned */
    a = green_spawn(join_other, &b);
    b = green_spawn(join_other, &a);
    green_set_name(a, "A");
    green_set_name(b, "B");

    printf("main: waiting for A\n");
    if (green_join(a, GREEN_FOREVER) < 0)
        printf("main: join failed: %s (%s)\n",
               errno == EDEADLK ? "EDEADLK" : "unexpected errno", strerror(errno));

    /* A and B still wait on each other: kill them so they unwind */
    green_kill(a, GREEN_FOREVER);
    green_kill(b, GREEN_FOREVER);
    green_free(a);
    green_free(b);
    green_hub_destroy();
    return 0;
}
