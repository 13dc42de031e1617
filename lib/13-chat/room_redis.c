/*
 * room_redis.c - chapter 13: rooms shared through Redis pub/sub
 * (room_redis.h has the design; this file is the plumbing).
 *
 * Two greenlets, each the only owner of its connection, so that no
 * connection is ever closed under somebody else's feet:
 *   publisher   takes posts from the outbox (a Queue the rooms' hook
 *               fills without waiting) and runs the post script on its
 *               connection;
 *   subscriber  connects, raises the counters, PSUBSCRIBEs chat:* and
 *               appends every message; when the connection fails it says
 *               so, backs off and connects again.
 * A post never waits for Redis: green_room_post returns as soon as the
 * message is in the outbox, and its id arrives with the message itself.
 */
#include "room_redis.h"
#include "room.h"
#include "redis.h"
#include "hub.h"
#include "sync.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CONNECT_TIMEOUT 1.0  /* seconds to reach Redis */
#define COMMAND_TIMEOUT 2.0  /* a post script slower than this: Redis is gone */
#define BACKOFF_FIRST   0.05 /* seconds before the first retry, doubling */
#define BACKOFF_MAX     1.0  /* ... up to this: a restarted Redis is found fast */

/* The post, atomically: the room's next id (never at or below the
 * poster's last id, see room_redis.h), Redis's clock, and the message
 * published as "ID TIME NAME\0TEXT".  Returns the id.
 * KEYS[1] chat:ROOM:id; ARGV channel, poster's last id, name, text. */
static const char POST_SCRIPT[] =
    "local id = redis.call('INCR', KEYS[1])\n"
    "local floor = tonumber(ARGV[2])\n"
    "if id <= floor then\n"
    "  id = floor + 1\n"
    "  redis.call('SET', KEYS[1], string.format('%d', id))\n"
    "end\n"
    "local t = redis.call('TIME')\n"
    "local msg = string.format('%d %d.%06d ', id, tonumber(t[1]), tonumber(t[2]))"
    " .. ARGV[3] .. '\\0' .. ARGV[4]\n"
    "redis.call('PUBLISH', ARGV[1], msg)\n"
    "return id\n";

/* On reconnecting: each room's counter raised to at least this worker's
 * last id.  KEYS: chat:ROOM:id...; ARGV: the last ids, in the same order. */
static const char RAISE_SCRIPT[] =
    "for i, key in ipairs(KEYS) do\n"
    "  local have = tonumber(redis.call('GET', key) or '0')\n"
    "  if have < tonumber(ARGV[i]) then redis.call('SET', key, ARGV[i]) end\n"
    "end\n"
    "return #KEYS\n";

/* A post waiting in the outbox.  The room lives as long as the thread's
 * rooms (room.h), longer than the bridge. */
struct post {
    green_room_t *room;
    char *name, *text;
};

struct bridge {
    char url[GREEN_REDIS_HOST_MAX + 32];
    char where[GREEN_REDIS_HOST_MAX + 8];  /* "HOST:PORT", for messages */
    int up;                     /* posts go through Redis */
    unsigned epoch;             /* counts the times it came up */
    int said_down;              /* the outage line is out; "again" is due */
    green_queue_t *outbox;      /* struct post *, for the publisher */
    green_t *publisher, *subscriber;
    green_redis_t *sub;         /* the subscriber's connection (it owns it) */
    char **rooms;               /* the rooms the bridge has seen */
    size_t nrooms, cap;
};

static _Thread_local struct bridge *bridge;
static _Thread_local int forget_registered;  /* with this thread's hub */

/* ---- Up and down -------------------------------------------------------- */

/* Redis failed one of the two greenlets: serve locally, say so once per
 * outage, and make the subscriber start over (it may still be happily
 * waiting on a connection that works, if only the publisher's failed). */
static void went_down(struct bridge *b, int why)
{
    b->up = 0;
    if (!b->said_down) {
        fprintf(stderr, "process %ld: redis %s unreachable (%s): serving this "
                "worker's clients alone; reconnecting\n", (long)getpid(), b->where,
                strerror(why));
        b->said_down = 1;
    }
    if (b->sub)
        green_redis_shutdown(b->sub);
}

static void came_up(struct bridge *b)
{
    b->up = 1;
    b->epoch++;
    if (b->said_down) {
        fprintf(stderr, "process %ld: redis %s reachable again: rooms shared "
                "with the other workers\n", (long)getpid(), b->where);
        b->said_down = 0;
    }
}

/* ---- Rooms the bridge knows --------------------------------------------- */

/* Called when a room gets its first message here (last id 0): a room is
 * remembered once, without searching on every message. */
static void remember(struct bridge *b, const green_room_t *r)
{
    const char *name = green_room_name(r);
    for (size_t i = 0; i < b->nrooms; i++)
        if (strcmp(b->rooms[i], name) == 0)
            return;
    if (b->nrooms == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 16;
        char **more = realloc(b->rooms, cap * sizeof *more);
        if (!more)
            return;               /* only the outage rule is weakened */
        b->rooms = more;
        b->cap = cap;
    }
    char *copy = strdup(name);
    if (copy)
        b->rooms[b->nrooms++] = copy;
}

/* Append a message here, with the next local id: Redis is not serving. */
static int append_here(struct bridge *b, green_room_t *r, const char *name,
                       const char *text)
{
    if (green_room_last_id(r) == 0)
        remember(b, r);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return green_room_append(r, green_room_last_id(r) + 1,
                             (double)now.tv_sec + now.tv_nsec / 1e9, name, text);
}

/* ---- Posting ------------------------------------------------------------ */

/* The rooms' hook (room.h): into the outbox, or here while Redis is down.
 * Never waits: the greenlet that posts (a client's reader) goes on. */
static int publish(green_room_t *r, const char *name, const char *text, void *arg)
{
    struct bridge *b = arg;
    if (!b->up)
        return append_here(b, r, name, text);
    struct post *p = malloc(sizeof *p);
    if (!p)
        return -1;
    *p = (struct post){ r, strdup(name), strdup(text) };
    if (!p->name || !p->text || green_queue_put(b->outbox, p, 0) != 0) {
        free(p->name);
        free(p->text);
        free(p);
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

static void post_free(struct post *p)
{
    free(p->name);
    free(p->text);
    free(p);
}

/* Run the post script on c.  Returns 0, or -1 with errno (the connection's
 * failure, or EIO when Redis refused the script, its error on stderr). */
static int post_to_redis(struct bridge *b, green_redis_t *c, const struct post *p)
{
    const char *room = green_room_name(p->room);
    char key[GREEN_ROOM_NAME_MAX + 16], channel[GREEN_ROOM_NAME_MAX + 16], last[24];
    snprintf(key, sizeof key, "chat:%s:id", room);
    snprintf(channel, sizeof channel, "chat:%s", room);
    snprintf(last, sizeof last, "%lld", (long long)green_room_last_id(p->room));
    const char *argv[] = { "EVAL", POST_SCRIPT, "1", key, channel, last, p->name, p->text };
    green_redis_reply_t *reply;
    if (green_redis_command(c, 8, argv, NULL, &reply, COMMAND_TIMEOUT) != 0)
        return -1;
    int refused = reply->type == REDIS_REPLY_ERROR;
    if (refused)
        fprintf(stderr, "redis %s refused a post to room %s: %s\n", b->where, room, reply->str);
    green_redis_reply_free(reply);
    if (refused)
        errno = EIO;
    return refused ? -1 : 0;
}

/* Hand p to Redis on *c (connected now if need be: *epoch says when c was
 * made; a connection older than Redis's last coming up is a dead one).
 * Returns 1 when Redis is done with it, 0 when it must be kept here:
 * Redis failed (now down: *c is dropped, the subscriber told).  A post
 * Redis refuses (out of memory, a read-only replica: the line on stderr)
 * is dropped, not kept: a local id would be the id of somebody else's
 * next message, which this worker would then drop as a duplicate. */
static int share(struct bridge *b, green_redis_t **c, unsigned *epoch,
                 const struct post *p)
{
    if (*c && *epoch != b->epoch) {       /* made before the last outage */
        green_redis_close(*c);
        *c = NULL;
    }
    *epoch = b->epoch;
    if (*c || (*c = green_redis_connect(b->url, CONNECT_TIMEOUT))) {
        if (post_to_redis(b, *c, p) == 0 || errno == EIO)
            return 1;
        green_redis_close(*c);
        *c = NULL;
    }
    if (errno != ECANCELED)               /* killed: stopping, not an outage */
        went_down(b, errno);
    return 0;
}

/* The publisher greenlet: one post at a time, in the order posted.  Its
 * connection is made when Redis is up and a post comes, and dropped at
 * the first failure.  What Redis cannot take is appended here: not lost,
 * only not shared. */
static void *publisher(void *arg)
{
    struct bridge *b = arg;
    green_redis_t *c = NULL;
    unsigned epoch = 0;
    void *item;
    while (green_queue_get(b->outbox, &item, GREEN_FOREVER) == 0) {
        struct post *p = item;
        if (!b->up || !share(b, &c, &epoch, p))
            append_here(b, p->room, p->name, p->text);
        post_free(p);
    }
    green_redis_close(c);
    return NULL;
}

/* ---- Receiving ---------------------------------------------------------- */

/* Raise every known room's counter to this worker's last id (room_redis.h,
 * "Ids after an outage"), in one script: one round trip. */
static int raise_counters(struct bridge *b, green_redis_t *c)
{
    if (b->nrooms == 0)
        return 0;
    size_t n = b->nrooms, argc = 3 + 2 * n;
    const char **argv = calloc(argc, sizeof *argv);
    char (*keys)[GREEN_ROOM_NAME_MAX + 16] = calloc(n, sizeof *keys);
    char (*lasts)[24] = calloc(n, sizeof *lasts);
    char numkeys[24];
    int rc = -1;
    if (!argv || !keys || !lasts) {
        errno = ENOMEM;
        goto out;
    }
    snprintf(numkeys, sizeof numkeys, "%zu", n);
    argv[0] = "EVAL";
    argv[1] = RAISE_SCRIPT;
    argv[2] = numkeys;
    for (size_t i = 0; i < n; i++) {
        green_room_t *r = green_room_get(b->rooms[i]);
        snprintf(keys[i], sizeof keys[i], "chat:%s:id", b->rooms[i]);
        snprintf(lasts[i], sizeof lasts[i], "%lld", r ? (long long)green_room_last_id(r) : 0LL);
        argv[3 + i] = keys[i];
        argv[3 + n + i] = lasts[i];
    }
    green_redis_reply_t *reply;
    rc = green_redis_command(c, (int)argc, argv, NULL, &reply, COMMAND_TIMEOUT);
    if (rc == 0) {
        if (reply->type == REDIS_REPLY_ERROR) {
            fprintf(stderr, "redis %s refused to raise the rooms' counters: %s\n",
                    b->where, reply->str);
            errno = EIO;
            rc = -1;
        }
        green_redis_reply_free(reply);
    }
out:
    free(argv);
    free(keys);
    free(lasts);
    return rc;
}

/* A message on chat:ROOM, "ID TIME NAME\0TEXT", into its room.  What does
 * not parse is not ours (anybody may publish on chat:*): ignored. */
static void deliver(struct bridge *b, const green_redis_msg_t *m)
{
    if (strncmp(m->channel, "chat:", 5) != 0)
        return;
    green_room_t *r = green_room_get(m->channel + 5);
    if (!r)
        return;                           /* not a room's name */
    char *p;
    long long id = strtoll(m->data, &p, 10);
    if (p == m->data || *p != ' ')
        return;
    double time = strtod(p + 1, &p);
    if (*p != ' ')
        return;
    const char *name = p + 1;
    const char *nul = memchr(name, '\0', m->len - (size_t)(name - m->data));
    if (!nul)
        return;
    if (green_room_last_id(r) == 0)
        remember(b, r);
    green_room_append(r, id, time, name, nul + 1);  /* a duplicate: ignored */
}

/* One connection's life: connect, raise, subscribe, deliver until it
 * fails.  Returns 1 if it came up on the way, else 0; errno says why it
 * ended. */
static int subscribe_and_deliver(struct bridge *b)
{
    int came = 0;
    b->sub = green_redis_connect(b->url, CONNECT_TIMEOUT);
    if (!b->sub)
        return 0;
    if (raise_counters(b, b->sub) == 0 &&
        green_redis_psubscribe(b->sub, "chat:*", COMMAND_TIMEOUT) == 0) {
        came_up(b);
        came = 1;
        green_redis_msg_t m;
        while (green_redis_next(b->sub, &m, GREEN_FOREVER) == 0)
            deliver(b, &m);
    }
    green_redis_close(b->sub);           /* keeps errno: why it ended */
    b->sub = NULL;
    return came;
}

/* The subscriber greenlet: connect, deliver, and after a failure say so
 * and try again, waiting longer each time, up to BACKOFF_MAX (a fresh
 * outage starts from BACKOFF_FIRST again). */
static void *subscriber(void *arg)
{
    struct bridge *b = arg;
    double backoff = BACKOFF_FIRST;
    for (;;) {
        if (subscribe_and_deliver(b))
            backoff = BACKOFF_FIRST;
        if (errno == ECANCELED)
            break;                        /* green_room_redis_stop */
        went_down(b, errno);
        if (green_sleep(backoff) != 0)
            break;
        backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
    }
    b->up = 0;
    return NULL;
}

/* ---- Start and stop ----------------------------------------------------- */

/* Free the bridge's memory: its greenlets are gone (stopped, or freed by
 * green_hub_destroy), and each closed its own connection on the way out.
 * Posts still in the outbox are freed, not appended: their rooms may be
 * gone already. */
static void bridge_free(struct bridge *b)
{
    void *item;
    while (green_queue_get(b->outbox, &item, 0) == 0)
        post_free(item);
    green_queue_free(b->outbox);
    for (size_t i = 0; i < b->nrooms; i++)
        free(b->rooms[i]);
    free(b->rooms);
    free(b);
}

/* green_hub_destroy without green_room_redis_stop (a worker that ends
 * with its hub, chapter 12): what the hub did not free, freed here. */
static void forget_bridge(void *arg)
{
    (void)arg;
    forget_registered = 0;
    if (bridge) {
        bridge_free(bridge);
        bridge = NULL;
    }
}

int green_room_redis_start(const char *url)
{
    char host[GREEN_REDIS_HOST_MAX];
    int port;
    if (bridge) {
        errno = EALREADY;
        return -1;
    }
    if (strlen(url) >= sizeof bridge->url || green_redis_parse_url(url, host, &port) != 0) {
        errno = EINVAL;
        return -1;
    }
    struct bridge *b = calloc(1, sizeof *b);
    if (!b)
        return -1;
    strcpy(b->url, url);
    snprintf(b->where, sizeof b->where, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
    b->outbox = green_queue_new(0);
    b->publisher = b->outbox ? green_spawn(publisher, b) : NULL;
    b->subscriber = b->publisher ? green_spawn(subscriber, b) : NULL;
    if (!b->subscriber) {
        if (b->publisher) {
            green_kill(b->publisher, GREEN_FOREVER);
            green_free(b->publisher);
        }
        if (b->outbox)
            green_queue_free(b->outbox);
        free(b);
        errno = ENOMEM;
        return -1;
    }
    green_set_name(b->publisher, "redis publisher");
    green_set_name(b->subscriber, "redis subscriber");
    if (!forget_registered && green_hub_at_destroy(forget_bridge, NULL) == 0)
        forget_registered = 1;
    bridge = b;
    green_room_set_publisher(publish, b);
    return 0;
}

int green_room_redis_shared(void)
{
    return bridge && bridge->up;
}

void green_room_redis_stop(void)
{
    struct bridge *b = bridge;
    if (!b)
        return;
    green_room_set_publisher(NULL, NULL);
    green_kill(b->subscriber, GREEN_FOREVER);
    green_free(b->subscriber);
    green_kill(b->publisher, GREEN_FOREVER);
    green_free(b->publisher);
    void *item;                           /* posts not yet sent: kept here */
    while (green_queue_get(b->outbox, &item, 0) == 0) {
        struct post *p = item;
        append_here(b, p->room, p->name, p->text);
        post_free(p);
    }
    bridge_free(b);
    bridge = NULL;
}
