/*
 * redis.h - chapter 13: a green Redis client, for sharing rooms between
 * processes (room_redis.h).
 *
 * Two ways to talk to Redis from a hub were on the table:
 *
 * (a) hiredis's async API, its libevent adapter attached to the hub's own
 *     event_base (green_hub_base), each reply bridged into a green wait: a
 *     callback sets an AsyncResult a greenlet waits on.  A callback library
 *     joining the green world: the pattern for any library that only
 *     offers callbacks.
 * (b) hiredis's RESP reader (redisReader: bytes in, replies out, no I/O of
 *     its own) over chapter 4's green sockets: the client reads as if it
 *     blocked, and the socket parks the greenlet.
 *
 * This is (b), for three reasons.
 * - It is what gevent's users actually run: redis-py is a blocking client,
 *   and gevent makes it concurrent by greening its socket.  Here the socket
 *   is green from the start: the client is straight code (redis.c's
 *   read_reply is the heart of it): send the command, then read until
 *   the reader has a reply.
 * - Every failure is one the kit already names.  A timeout is green_recv's
 *   ETIMEDOUT, a kill its ECANCELED, a server that dies mid-wait is
 *   recv()'s end of stream: one code path each.  With (a), a reply's
 *   callback outlives a waiter that timed out or was killed (who frees the
 *   AsyncResult then?), a disconnect arrives as yet another callback,
 *   hiredis 0.14's async context has no timeouts at all, and its context
 *   must be freed before the hub's base (green_hub_at_destroy): each a
 *   lifetime rule to get right, none of them the lesson.
 * - RESP parsing is not the lesson either, so hiredis still does it: the
 *   reader is the part of hiredis worth reusing, its sockets are not.
 * What (a) does better: pipelining for free (many greenlets' commands in
 *   flight on one connection).  Here a connection serves one command at a
 *   time (a lock), so one connection gives at most one command per round
 *   trip: 90,000 to 110,000 INCRs a second over loopback, measured on the
 *   kit's 2-core machine, plenty for a chat's posts.
 *   At scale you would pipeline: queue the waiters in order, and let the
 *   head read every reply and hand each to its waiter.
 *
 * A connection may be shared by greenlets: each call waits its turn.  A
 * subscribed connection (green_redis_subscribe) only receives messages,
 * as in Redis itself; use a second connection for commands.
 *
 * Replies are hiredis's own redisReply (type REDIS_REPLY_STRING, _ARRAY,
 * _INTEGER, _NIL, _STATUS, _ERROR; str and len, integer, element and
 * elements): free one with green_redis_reply_free.
 *
 * Errors, C style: -1 (or NULL) with errno.  Every call that waits fails
 * with ETIMEDOUT, ECANCELED (the greenlet was killed), ECONNRESET (the
 * server closed the connection, or died), EPROTO (it sent something that
 * is not RESP) or what the kernel said (EPIPE...).  A call that fails in
 * the middle of a command (sent, reply not read) leaves the connection out
 * of step with its replies: it is closed, and every later call on it fails
 * with ENOTCONN (redis-py does the same); green_redis_close it and connect
 * again.  A message wait that times out (green_redis_next) loses nothing:
 * the connection stays usable.
 * Python: redis-py (redis.Redis, r.pubsub()) under gevent's monkey-patching.
 */
#ifndef GREEN_REDIS_H
#define GREEN_REDIS_H

#include <stddef.h>
#include <hiredis/hiredis.h>

typedef struct green_redis green_redis_t;
typedef redisReply green_redis_reply_t;

#define GREEN_REDIS_HOST_MAX 256  /* bytes of a host name, with its NUL */

/* Split url, "redis://HOST:PORT" or "redis://HOST" (port 6379), HOST a
 * name, an IPv4 address or an IPv6 one in brackets ("redis://[::1]:6380"),
 * into host (GREEN_REDIS_HOST_MAX bytes) and *port.  Connects to nothing.
 * Returns 0, or -1 with errno EINVAL (not such a URL: another scheme, a
 * password, a database number, a port outside 1..65535). */
int green_redis_parse_url(const char *url, char *host, int *port);

/* Connect to the Redis server at url (as above), within `timeout`
 * seconds.  Returns the connection, or NULL with errno EINVAL (a bad URL),
 * ECONNREFUSED (nobody listens there), ETIMEDOUT, EHOSTUNREACH (the name
 * does not resolve), ENOMEM.  Python: redis.Redis.from_url(url). */
green_redis_t *green_redis_connect(const char *url, double timeout);

/* Send the command argv[0..argc-1] (argvlen[i] bytes each: binary-safe;
 * argvlen NULL: NUL-terminated strings) and wait up to `timeout` seconds
 * in all (the turn, the send, the reply) for its reply.  Returns 0 with
 * the reply in *reply (yours: green_redis_reply_free), whatever it says:
 * a refusal from the server (an unknown command, a script that failed) is
 * a reply too, of type REDIS_REPLY_ERROR, and leaves the connection fine.
 * Or -1 with errno as above, EBUSY (c is subscribed), EINVAL (argc < 1).
 * Python: r.execute_command(*argv). */
int green_redis_command(green_redis_t *c, int argc, const char **argv,
                        const size_t *argvlen, green_redis_reply_t **reply,
                        double timeout);

/* Free a reply (NULL: nothing). */
void green_redis_reply_free(green_redis_reply_t *reply);

/* Subscribe c to a channel (SUBSCRIBE) or to every channel matching a
 * glob-style pattern (PSUBSCRIBE "chat:*"), and wait up to `timeout`
 * seconds for the server to confirm.  From then on c receives messages
 * (green_redis_next) and takes no other command (EBUSY).  Returns 0, or -1
 * with errno as above, or EPROTO when the server refused.
 * Python: p = r.pubsub(); p.subscribe(channel), p.psubscribe(pattern). */
int green_redis_subscribe(green_redis_t *c, const char *channel, double timeout);
int green_redis_psubscribe(green_redis_t *c, const char *pattern, double timeout);

/* A message received on a subscribed connection.  Borrowed: valid until
 * the next call on the connection. */
typedef struct green_redis_msg {
    const char *pattern;   /* the pattern it matched; NULL for SUBSCRIBE */
    const char *channel;   /* the channel it was published on */
    const char *data;      /* its bytes (NUL-terminated too, for text) */
    size_t len;            /* how many */
} green_redis_msg_t;

/* Wait up to `timeout` seconds for the next message on subscribed c.
 * Returns 0 and fills *msg, or -1 with errno as above (ETIMEDOUT: nothing
 * came; c stays usable), or EINVAL (c is not subscribed).
 * Python: p.get_message(timeout=timeout). */
int green_redis_next(green_redis_t *c, green_redis_msg_t *msg, double timeout);

/* Wake whoever waits on c (another greenlet) with ECONNRESET, as if the
 * server had gone: for a program that learns elsewhere that the server is
 * gone, or that must stop a reader.  c must still be closed by its owner.
 * Python: socket.shutdown(). */
void green_redis_shutdown(green_redis_t *c);

/* Close the connection and free it (NULL: nothing), leaving errno as it
 * was (so a caller may close, then report the failure).  No greenlet may
 * be waiting on it.  Python: r.close(). */
void green_redis_close(green_redis_t *c);

#endif
