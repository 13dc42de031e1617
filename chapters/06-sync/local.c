/*
 * local.c - greenlet-local storage, as with gevent.local.local.  Three
 * request handlers interleave; each stores its request under one key, and
 * log_line(), called with no request argument, finds the right one for
 * whichever greenlet calls it.  When a handler returns, the key's
 * destructor frees its request.
 */
#include <stdio.h>
#include <stdlib.h>

#include "green.h"
#include "sync.h"

struct request { int id; const char *path; };

static int request_key;     /* one key; every greenlet has its own value */

static void free_request(void *value)
{
    struct request *r = value;
    printf("    (destructor: request %d's handler is done, freeing it)\n", r->id);
    free(r);
}

/* Deep inside the program: no request passed in, yet the right one. */
static void log_line(const char *what)
{
    struct request *r = green_local_get(request_key);
    printf("[request %d %s] %s\n", r->id, r->path, what);
}

static void *handle(void *arg)
{
    struct request *r = malloc(sizeof *r);
    *r = *(struct request *)arg;
    green_local_set(request_key, r);      /* freed by free_request */

    log_line("started");
    green_sleep(0.05);                    /* ask a database: others run */
    log_line("database answered");
    green_sleep(0.02);                    /* send the response */
    log_line("response sent");
    return NULL;
}

int main(void)
{
    struct request requests[] = { { 1, "/" }, { 2, "/about" }, { 3, "/news" } };
    green_t *g[3];

    request_key = green_local_new(free_request);
    for (int i = 0; i < 3; i++)
        g[i] = green_spawn(handle, &requests[i]);
    green_joinall(g, 3, GREEN_FOREVER);
    printf("main: my own value under the key: %s\n",
           green_local_get(request_key) ? "set?!" : "NULL (never set)");

    for (int i = 0; i < 3; i++)
        green_free(g[i]);
    green_hub_destroy();
    return 0;
}
