/*
 * lifecycle.c - a greenlet's life: created, started, suspended, dead.
 *
 * A greenlet does nothing until someone switches to it.  When its function
 * returns it is dead, and the return value goes to its parent (the
 * greenlet that created it), whose pending green_switch() returns it.
 * A dead greenlet cannot be resumed: switching to it is an error.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "green.h"

static void show(const char *when, green_t *g)
{
    printf("%-26s started=%d dead=%d result=%s\n", when, green_started(g),
           green_dead(g), green_result(g) ? (char *)green_result(g) : "(none)");
}

static void *child(void *arg)
{
    green_t *self = green_current();
    printf("  child: I am '%s', my parent is '%s', I got \"%s\"\n",
           green_name(self), green_name(green_parent(self)), (char *)arg);
    char *reply = green_switch(green_parent(self), "halfway there");
    printf("  child: back again with \"%s\"; returning\n", reply);
    return "the end";
}

int main(void)
{
    /* our lines and the library's messages on stderr, in order */
    setvbuf(stdout, NULL, _IOLBF, 0);

    green_t *g = green_new(child, 0);
    green_set_name(g, "child");
    show("created:", g);

    char *v = green_switch(g, "hello");
    printf("main: the child switched back \"%s\"\n", v);
    show("suspended:", g);

    v = green_switch(g, "go on");
    printf("main: the child returned \"%s\" to its parent\n", v);
    show("dead:", g);

    errno = 0;
    v = green_switch(g, "are you there?");
    int err = errno;
    printf("main: switching to the dead child returned %s, errno %s (%s)\n",
           v ? v : "NULL", err == ESRCH ? "ESRCH" : "?", strerror(err));

    green_free(g);
    return 0;
}
