/*
 * asyncresult.c - a result made by one greenlet and handed to others, as
 * with gevent's AsyncResult.  A resolver looks a host name up (faked: 0.1 s
 * of waiting) and sets the address, or an error.  Clients that need the
 * address wait in green_async_get(); each gets the same answer, and a
 * failed lookup reaches each of them as -1 with errno.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "green.h"
#include "sync.h"

struct lookup { const char *host, *addr; green_async_t *result; };
struct client { const char *name; struct lookup *lookup; };

static void *resolve(void *arg)
{
    struct lookup *l = arg;
    if (green_sleep(0.1) < 0)                     /* "the network" */
        return NULL;
    if (l->addr)
        green_async_set(l->result, (void *)l->addr);
    else
        green_async_set_error(l->result, EHOSTUNREACH);
    return NULL;
}

static void *client(void *arg)
{
    struct client *c = arg;
    void *addr;
    printf("%s: waiting for %s\n", c->name, c->lookup->host);
    if (green_async_get(c->lookup->result, &addr, 1.0) < 0)
        printf("%s: %s failed: %s\n", c->name, c->lookup->host, strerror(errno));
    else
        printf("%s: %s is %s\n", c->name, c->lookup->host, (const char *)addr);
    return NULL;
}

int main(void)
{
    struct lookup python = { "www.python.org", "82.94.164.162", green_async_new() };
    struct lookup nowhere = { "nowhere.invalid", NULL, green_async_new() };
    struct client clients[] = {
        { "client A", &python }, { "client B", &python }, { "client C", &nowhere },
    };
    green_t *g[5];

    g[0] = green_spawn(resolve, &python);
    g[1] = green_spawn(resolve, &nowhere);
    for (int i = 0; i < 3; i++)
        g[2 + i] = green_spawn(client, &clients[i]);
    green_joinall(g, 5, GREEN_FOREVER);

    /* Ready now: a late reader gets the same answer without waiting. */
    void *addr;
    double t0 = green_now();
    green_async_get(python.result, &addr, GREEN_FOREVER);
    printf("main: later, %s is still %s (in %.3f s, no waiting)\n",
           python.host, (const char *)addr, green_now() - t0);

    for (int i = 0; i < 5; i++)
        green_free(g[i]);
    green_async_free(python.result);
    green_async_free(nowhere.result);
    green_hub_destroy();
    return 0;
}
