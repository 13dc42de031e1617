/*
 * dns.c - article 001's example, with real DNS this time:
 *
 *     jobs = [gevent.spawn(socket.gethostbyname, url) for url in urls]
 *     gevent.joinall(jobs, timeout=2)
 *     print [job.value for job in jobs]
 *
 * Each lookup is a real DNS question over UDP, asked by libevent's evdns
 * while its greenlet waits on the hub.  So that the demo works offline, it
 * answers the questions itself: a tiny DNS server on 127.0.0.1, in this
 * same process, on the hub's own event loop (evdns can serve as well as
 * ask).  It knows the article's names, but drops every question about
 * www.foofish.net, like a server that is down: that lookup is still
 * waiting when joinall's 2 s are up, so its value prints as None.
 * "localhost" never reaches the server: evdns finds it in /etc/hosts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/dns.h>
#include <event2/dns_struct.h>   /* the fields of a question */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "green.h"

/* ---- The fake internet: a name server on 127.0.0.1 ---------------------- */

static const char *const zone[][2] = {
    { "www.google.com", "74.125.128.147" },
    { "www.python.org", "82.94.164.162" },
};

/* A libevent callback, run by the hub when a question arrives: it must not
 * wait, so it answers (or drops) at once.  evdns mixes the case of the
 * names it asks (wWw.GooGLe.cOm, a defence against forged answers), hence
 * strcasecmp. */
static void answer(struct evdns_server_request *req, void *unused)
{
    (void)unused;
    const struct evdns_server_question *q = req->questions[0];
    for (size_t i = 0; i < sizeof zone / sizeof zone[0]; i++) {
        struct in_addr addr;
        if (q->type == EVDNS_TYPE_A && strcasecmp(q->name, zone[i][0]) == 0
            && inet_pton(AF_INET, zone[i][1], &addr) == 1) {
            evdns_server_request_add_a_reply(req, q->name, 1, &addr, 60);
            evdns_server_request_respond(req, 0);
            return;
        }
    }
    if (strcasecmp(q->name, "www.foofish.net") == 0)
        evdns_server_request_drop(req);                  /* never answer */
    else
        evdns_server_request_respond(req, DNS_ERR_NOTEXIST);
}

static struct evdns_server_port *start_dns_server(void)
{
    struct sockaddr_in sin = { .sin_family = AF_INET,
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = green_socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0)
        return NULL;
    char where[32];
    snprintf(where, sizeof where, "127.0.0.1:%d", green_socket_port(fd));
    green_dns_set_nameserver(where);        /* ask only our server */
    return evdns_add_server_port_with_base(green_hub_base(), fd, 0, answer, NULL);
}

/* ---- Article 001, in C --------------------------------------------------- */

/* socket.gethostbyname(url): the greenlet's value is the address, or NULL
 * (None) while it has none. */
struct job { const char *url; char addr[INET_ADDRSTRLEN]; };

static void *gethostbyname_job(void *arg)
{
    struct job *j = arg;
    if (green_gethostbyname(j->url, j->addr, sizeof j->addr, GREEN_FOREVER) != 0)
        return NULL;                        /* no answer, or killed */
    return j->addr;
}

int main(void)
{
    struct evdns_server_port *server = start_dns_server();
    if (server == NULL) {
        perror("dns: cannot start the local DNS server");
        return 1;
    }
    struct job jobs[] = { { "www.google.com", "" }, { "www.python.org", "" },
                          { "www.foofish.net", "" }, { "localhost", "" } };
    enum { N = sizeof jobs / sizeof jobs[0] };
    green_t *g[N];

    double start = green_now();
    for (int i = 0; i < N; i++)                     /* gevent.spawn(...) */
        g[i] = green_spawn(gethostbyname_job, &jobs[i]);
    if (green_joinall(g, N, 2.0) < 0 && errno == ETIMEDOUT)  /* joinall */
        printf("joinall: timed out after %.2f s\n", green_now() - start);

    printf("[");                            /* print [job.value for job in jobs] */
    for (int i = 0; i < N; i++) {
        const char *value = green_result(g[i]);   /* NULL: still waiting */
        if (value)
            printf("'%s'", value);
        else
            printf("None");
        printf(i < N - 1 ? ", " : "]\n");
    }

    for (int i = 0; i < N; i++) {       /* stop the lookup still waiting */
        if (!green_dead(g[i]))
            printf("killing the lookup of %s: it is cancelled\n", jobs[i].url);
        green_kill(g[i], GREEN_FOREVER);
        green_free(g[i]);
    }
    evdns_close_server_port(server);
    green_hub_destroy();
    return 0;
}
