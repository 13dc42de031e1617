/*
 * joinall.c - article 001's example, with the network faked:
 *
 *     jobs = [gevent.spawn(socket.gethostbyname, url) for url in urls]
 *     gevent.joinall(jobs, timeout=2)
 *     print [job.value for job in jobs]
 *
 * Real DNS lookups come in chapter 4; here each "lookup" just sleeps for a
 * while and returns a canned address.  The third is slower than the timeout
 * (time is scaled down: 0.5 s instead of 2 s), so joinall gives up on it and
 * its value is still None.
 */
#include <errno.h>
#include <stdio.h>

#include "green.h"

struct lookup { const char *host; double seconds; const char *addr; };

static void *gethostbyname_fake(void *arg)
{
    struct lookup *l = arg;
    if (green_sleep(l->seconds) < 0)
        return NULL;            /* killed: no answer */
    return (void *)l->addr;
}

int main(void)
{
    struct lookup urls[] = {
        { "www.google.com",  0.1, "74.125.128.147" },
        { "www.python.org",  0.2, "82.94.164.162" },
        { "www.foofish.net", 0.9, "106.186.27.60" },
    };
    enum { N = sizeof urls / sizeof urls[0] };
    green_t *jobs[N];

    for (int i = 0; i < N; i++) {
        jobs[i] = green_spawn(gethostbyname_fake, &urls[i]);
        green_set_name(jobs[i], urls[i].host);
    }

    /* one deadline for all of them, not 0.5 s each */
    if (green_joinall(jobs, N, 0.5) < 0 && errno == ETIMEDOUT)
        printf("joinall: ETIMEDOUT, not every lookup finished within 0.5 s\n");

    /* print [job.value for job in jobs] */
    printf("[");
    for (int i = 0; i < N; i++) {
        const char *value = green_result(jobs[i]);  /* NULL: not finished */
        if (value)
            printf("'%s'", value);
        else
            printf("None");
        printf(i < N - 1 ? ", " : "]\n");
    }

    /* the straggler is still sleeping: stop it before we free it */
    for (int i = 0; i < N; i++) {
        if (!green_dead(jobs[i])) {
            printf("killing %s, still waiting for its answer\n", green_name(jobs[i]));
            green_kill(jobs[i], GREEN_FOREVER);
        }
        green_free(jobs[i]);
    }
    green_hub_destroy();
    return 0;
}
