/*
 * dns.h - chapter 4: cooperative name resolution, through libevent's evdns.
 *
 * getaddrinfo(3) blocks the whole thread while it asks the name servers;
 * these calls ask them with evdns, on the hub, so other greenlets run
 * meanwhile (gevent's first resolver did the same).  Apart from io.h
 * because it is a topic of its own: no descriptor of the caller's is
 * involved.  green_tcp_connect (io.h) resolves its host with them.
 *
 * Errors: these return an EAI_* code, as getaddrinfo() does, not -1 and
 * errno: one of the two exceptions that green.h's conventions name.
 */
#ifndef GREEN_DNS_H
#define GREEN_DNS_H

#include <stddef.h>

struct addrinfo;

/* getaddrinfo(3), cooperatively: the hub's evdns asks the name servers of
 * /etc/resolv.conf (or the one set below) and reads /etc/hosts, while
 * other greenlets run.  Returns 0, or an EAI_* code (EAI_AGAIN on timeout,
 * EAI_SYSTEM with errno ECANCELED when killed).  Free the result with
 * green_freeaddrinfo. */
int green_getaddrinfo(const char *node, const char *service,
                      const struct addrinfo *hints, struct addrinfo **res,
                      double timeout);
void green_freeaddrinfo(struct addrinfo *ai);

/* The first IPv4 address of `name` as text in buf (like Python's
 * socket.gethostbyname).  Returns 0, or an EAI_* code as above. */
int green_gethostbyname(const char *name, char *buf, size_t len, double timeout);

/* Use only this name server ("127.0.0.1:5353", say) from now on, instead
 * of those of /etc/resolv.conf.  Returns 0 or -1. */
int green_dns_set_nameserver(const char *addr_port);

#endif
