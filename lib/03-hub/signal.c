/*
 * signal.c - chapter 3: signals, gevent's signal_handler.  See
 * green_signal_handler in hub.h.
 *
 * Its own file because a signal is only one more libevent event on the
 * hub's base (green_hub_base): its callback runs in the hub, never in a
 * real signal handler, so it may do anything.  The scheduler knows
 * nothing of signals; the servers of chapter 7 use these to stop.
 */
#include "hub.h"

#include <errno.h>
#include <signal.h>
#include <event2/event.h>
#include <stdlib.h>

/* ---- Signals ------------------------------------------------------------ */

struct green_signal {
    struct event *ev;
    void (*fn)(int signum, void *arg);
    void *arg;
    green_signal_t *next;         /* on its owner's list (green_signal_add) */
};

static void on_signal(evutil_socket_t signum, short what, void *arg)
{
    green_signal_t *sig = arg;
    (void)what;
    sig->fn((int)signum, sig->arg);
}

green_signal_t *green_signal_handler(int signum,
                                     void (*fn)(int signum, void *arg),
                                     void *arg)
{
    green_signal_t *sig = calloc(1, sizeof *sig);
    if (!sig)
        return NULL;
    sig->fn = fn;
    sig->arg = arg;
    sig->ev = evsignal_new(green_hub_base(), signum, on_signal, sig);
    if (!sig->ev || event_add(sig->ev, NULL) != 0) {
        green_signal_cancel(sig);
        errno = EINVAL;
        return NULL;
    }
    return sig;
}

void green_signal_cancel(green_signal_t *sig)
{
    if (!sig)
        return;
    if (sig->ev)
        event_free(sig->ev);
    free(sig);
}

int green_signal_add(green_signal_t **list, int signum,
                     void (*fn)(int signum, void *arg), void *arg)
{
    green_signal_t *sig = green_signal_handler(signum, fn, arg);
    if (!sig)
        return -1;
    sig->next = *list;
    *list = sig;
    return 0;
}

void green_signal_cancel_all(green_signal_t **list)
{
    while (*list) {
        green_signal_t *next = (*list)->next;
        green_signal_cancel(*list);
        *list = next;
    }
}

const char *green_signal_name(int signum)
{
    switch (signum) {
    case SIGINT:  return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP:  return "SIGHUP";
    case SIGQUIT: return "SIGQUIT";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    default:      return "a signal";
    }
}
