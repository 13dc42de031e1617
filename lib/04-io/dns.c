/*
 * dns.c - chapter 4: cooperative name resolution on libevent's evdns.  See
 * dns.h.
 *
 * Its own file because it is its own topic: io.c waits on descriptors the
 * kernel makes ready, while here nothing is a descriptor of ours.  evdns
 * owns the question, its sockets and its callback, and the asker parks on
 * the hub until that callback wakes it (or its timeout, or a kill, ends
 * the wait first).  green_tcp_connect (io.c) is this file's one user in
 * the chapter; chapter 5's getaddrinfo is the other.
 */
#include "hub.h"
#include "dns.h"
#include "wait.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>

/* One resolver per thread, on that thread's hub.  DISABLE_WHEN_INACTIVE:
 * with no question in flight, its sockets do not count as pending events,
 * so the hub's deadlock detection still works. */
static _Thread_local struct evdns_base *dns_base;
static _Thread_local int abandoned;      /* lookups given up, not called back yet */

static void dns_free(void *unused)
{
    (void)unused;
    /* A cancelled question's last callback is deferred to the loop's next
     * turn; it frees evdns's records and our struct lookup.  Give it that
     * turn, or they leak.  (Every greenlet's event is gone by now.) */
    if (abandoned > 0)
        event_base_loop(green_hub_base(), EVLOOP_NONBLOCK);
    /* 1: fail the questions still in flight (their callbacks run now). */
    evdns_base_free(dns_base, 1);
    dns_base = NULL;
}

static struct evdns_base *dns(void)
{
    if (dns_base)
        return dns_base;
    struct event_base *base = green_hub_base();
    dns_base = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS
                                    | EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    if (dns_base == NULL) {
        /* No usable /etc/resolv.conf (an offline machine): names from
         * /etc/hosts still resolve, and a name server can be set later. */
        dns_base = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
        if (dns_base == NULL)
            return NULL;
        evdns_base_load_hosts(dns_base, NULL);
    }
    if (green_hub_at_destroy(dns_free, NULL) != 0) {
        evdns_base_free(dns_base, 0);   /* it would outlive the hub */
        dns_base = NULL;
        errno = EAGAIN;
        return NULL;
    }
    return dns_base;
}

int green_dns_set_nameserver(const char *addr_port)
{
    struct evdns_base *d = dns();
    if (d == NULL)
        return -1;
    evdns_base_clear_nameservers_and_suspend(d);
    int rc = evdns_base_nameserver_ip_add(d, addr_port);
    evdns_base_resume(d);
    return rc == 0 ? 0 : -1;
}

/* A question in flight.  It lives on the heap, not on the asker's stack:
 * when the asker gives up (timeout, kill), libevent may still call back
 * later, and the callback then frees it. */
struct lookup {
    green_t *asker;           /* NULL once the asker gave up */
    int waiting;              /* the asker is parked, waiting for us */
    int done;
    int result;
    struct evutil_addrinfo *ai;
};

static void on_resolved(int result, struct evutil_addrinfo *ai, void *arg)
{
    struct lookup *l = arg;
    if (l->asker == NULL) {           /* abandoned: clean up alone */
        abandoned--;
        if (ai)
            evutil_freeaddrinfo(ai);
        free(l);
        return;
    }
    l->result = result;
    l->ai = ai;
    l->done = 1;
    /* An answer known at once (a literal, /etc/hosts) comes from inside
     * evdns_getaddrinfo: the asker is not waiting, and a wake-up left
     * behind would end its next, unrelated wait. */
    if (l->waiting)
        green_ready(l->asker, NULL);
}

int green_getaddrinfo(const char *node, const char *service,
                      const struct addrinfo *hints, struct addrinfo **res,
                      double timeout)
{
    struct evdns_base *d = dns();
    struct lookup *l = calloc(1, sizeof *l);
    if (d == NULL || l == NULL) {
        free(l);
        return EAI_MEMORY;
    }
    l->asker = green_current();
    struct evdns_getaddrinfo_request *req =
        evdns_getaddrinfo(d, node, service, hints, on_resolved, l);
    /* req is NULL when the answer was known at once (a literal address,
     * /etc/hosts): the callback has already run. */
    double deadline = green__deadline(timeout);
    l->waiting = 1;
    while (!l->done) {
        if (green_hub_wait(green__time_left(deadline)) != 0) {
            int err = errno;
            if (l->done) {                /* answered as we gave up */
                green_freeaddrinfo((struct addrinfo *)l->ai);
                free(l);
            } else {
                l->asker = NULL;          /* the callback frees l */
                abandoned++;
                evdns_getaddrinfo_cancel(req);
            }
            if (err == ETIMEDOUT)
                return EAI_AGAIN;
            errno = err;
            return EAI_SYSTEM;
        }
    }
    int result = l->result;
    *res = (struct addrinfo *)l->ai;
    free(l);
    return result;
}

void green_freeaddrinfo(struct addrinfo *ai)
{
    if (ai)
        evutil_freeaddrinfo((struct evutil_addrinfo *)ai);
}

int green_gethostbyname(const char *name, char *buf, size_t len, double timeout)
{
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };
    struct addrinfo *ai;
    int rc = green_getaddrinfo(name, NULL, &hints, &ai, timeout);
    if (rc != 0)
        return rc;
    const struct sockaddr_in *sin = (const struct sockaddr_in *)ai->ai_addr;
    if (inet_ntop(AF_INET, &sin->sin_addr, buf, (socklen_t)len) == NULL)
        rc = EAI_OVERFLOW;
    green_freeaddrinfo(ai);
    return rc;
}
