/*
 * redis.c - chapter 13: a green Redis client (redis.h says why this way).
 *
 * The whole client is one loop, read_reply: ask hiredis's reader for a
 * reply; when it has none yet, green_recv more bytes (the greenlet parks
 * there, the hub runs the others) and feed them to the reader.  A command
 * is redisFormatCommandArgv (hiredis writes the RESP), green_sendall, then
 * that loop.  Pub/sub is the same loop with no command: after SUBSCRIBE
 * the server sends replies nobody asked for, the messages.
 */
#include "redis.h"
#include "io.h"
#include "sync.h"
#include "wait.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* A message that came while subscribe() waited for its confirmation:
 * kept, in order, for green_redis_next. */
struct pending {
    redisReply *reply;
    struct pending *next;
};

struct green_redis {
    int fd;                  /* -1 once broken (see redis.h): ENOTCONN */
    redisReader *reader;     /* hiredis: RESP bytes in, redisReply out */
    green_lock_t *lock;      /* one call at a time on the connection */
    int subscribed;          /* SUBSCRIBE confirmed: messages only */
    struct pending *head, *tail;
    redisReply *lent;        /* the reply green_redis_next's msg points into */
};

/* ---- The URL ------------------------------------------------------------ */

int green_redis_parse_url(const char *url, char *host, int *port)
{
    static const char scheme[] = "redis://";
    if (strncmp(url, scheme, sizeof scheme - 1) != 0)
        goto bad;
    const char *h = url + sizeof scheme - 1, *end;
    if (*h == '[') {                      /* [IPv6]: the colons are its own */
        end = strchr(++h, ']');
        if (!end)
            goto bad;
    } else {
        end = h + strcspn(h, ":/@?#[]");
    }
    size_t n = (size_t)(end - h);
    if (n == 0 || n >= GREEN_REDIS_HOST_MAX)
        goto bad;
    const char *rest = end + (*end == ']');
    long p = 6379;
    if (*rest == ':') {
        char *stop;
        if (rest[1] < '0' || rest[1] > '9')
            goto bad;
        p = strtol(rest + 1, &stop, 10);
        rest = stop;
    }
    if (*rest != '\0' || p < 1 || p > 65535)  /* "/0", "?", "@": not ours */
        goto bad;
    memcpy(host, h, n);
    host[n] = '\0';
    *port = (int)p;
    return 0;
bad:
    errno = EINVAL;
    return -1;
}

/* ---- Connecting and closing -------------------------------------------- */

green_redis_t *green_redis_connect(const char *url, double timeout)
{
    char host[GREEN_REDIS_HOST_MAX], port[8];
    int p;
    if (green_redis_parse_url(url, host, &p) != 0)
        return NULL;
    snprintf(port, sizeof port, "%d", p);
    green_redis_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = -1;
    c->reader = redisReaderCreate();
    c->lock = green_lock_new();
    if (!c->reader || !c->lock) {
        errno = ENOMEM;
        goto err;
    }
    c->fd = green_tcp_connect(host, port, timeout);
    if (c->fd < 0)
        goto err;
    /* A command is one small write that waits for its answer: Nagle's
     * algorithm would only add delay (hiredis sets this too). */
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return c;
err:
    green_redis_close(c);                 /* keeps errno */
    return NULL;
}

void green_redis_reply_free(green_redis_reply_t *reply)
{
    if (reply)
        freeReplyObject(reply);
}

/* Keeps errno: a caller closes after a failure, then reports it. */
void green_redis_close(green_redis_t *c)
{
    if (!c)
        return;
    int saved = errno;
    if (c->fd >= 0)
        green_close(c->fd);
    while (c->head) {
        struct pending *p = c->head;
        c->head = p->next;
        freeReplyObject(p->reply);
        free(p);
    }
    green_redis_reply_free(c->lent);
    if (c->reader)
        redisReaderFree(c->reader);
    if (c->lock)
        green_lock_free(c->lock);
    free(c);
    errno = saved;
}

void green_redis_shutdown(green_redis_t *c)
{
    /* The reader's recv() then sees the end of the stream, at once. */
    if (c->fd >= 0)
        shutdown(c->fd, SHUT_RDWR);
}

/* The connection is out of step with its replies (or dead): close it
 * now, so that every later call fails plainly with ENOTCONN instead of
 * reading the answer to somebody else's command.  Keeps errno. */
static void breaks(green_redis_t *c)
{
    int saved = errno;
    if (c->fd >= 0)
        green_close(c->fd);
    c->fd = -1;
    errno = saved;
}

/* ---- Replies ------------------------------------------------------------ */

/* The next reply into *reply, reading as much as it takes until
 * `deadline`.  Returns 0, or -1 with errno (the connection is left as it
 * is: the caller decides whether it broke). */
static int read_reply(green_redis_t *c, redisReply **reply, double deadline)
{
    for (;;) {
        void *r = NULL;
        if (redisReaderGetReply(c->reader, &r) != REDIS_OK) {
            errno = EPROTO;               /* not RESP: nothing more makes sense */
            return -1;
        }
        if (r) {
            *reply = r;
            return 0;
        }
        char buf[16384];
        ssize_t got = green_recv(c->fd, buf, sizeof buf, green__time_left(deadline));
        if (got == 0)
            errno = ECONNRESET;           /* the server closed, or died */
        if (got <= 0)
            return -1;
        if (redisReaderFeed(c->reader, buf, (size_t)got) != REDIS_OK) {
            errno = ENOMEM;
            return -1;
        }
    }
}

/* Send the command (formatted by hiredis). */
static int send_command(green_redis_t *c, int argc, const char **argv,
                        const size_t *argvlen, double deadline)
{
    size_t lens[argc];
    if (!argvlen) {
        for (int i = 0; i < argc; i++)
            lens[i] = strlen(argv[i]);
        argvlen = lens;
    }
    char *cmd;
    int n = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
    if (n < 0) {
        errno = ENOMEM;
        return -1;
    }
    ssize_t sent = green_sendall(c->fd, cmd, (size_t)n, green__time_left(deadline));
    redisFreeCommand(cmd);
    return sent < 0 ? -1 : 0;
}

/* Take the connection's turn: the lock, then a live connection. */
static int take_turn(green_redis_t *c, double deadline)
{
    if (green_lock_acquire(c->lock, green__time_left(deadline)) != 0)
        return -1;
    if (c->fd < 0) {
        green_lock_release(c->lock);
        errno = ENOTCONN;
        return -1;
    }
    return 0;
}

/* Release the turn, returning rc with errno as it was. */
static int end_turn(green_redis_t *c, int rc)
{
    int saved = errno;
    green_lock_release(c->lock);
    errno = saved;
    return rc;
}

int green_redis_command(green_redis_t *c, int argc, const char **argv,
                        const size_t *argvlen, green_redis_reply_t **reply,
                        double timeout)
{
    if (argc < 1) {
        errno = EINVAL;
        return -1;
    }
    double deadline = green__deadline(timeout);
    if (take_turn(c, deadline) != 0)
        return -1;
    if (c->subscribed) {
        errno = EBUSY;
        return end_turn(c, -1);
    }
    if (send_command(c, argc, argv, argvlen, deadline) != 0 ||
        read_reply(c, reply, deadline) != 0) {
        breaks(c);                        /* a reply may still be on its way */
        return end_turn(c, -1);
    }
    return end_turn(c, 0);
}

/* ---- Pub/sub ------------------------------------------------------------ */

/* Is r the array [kind, ...] of at least n elements, kind a string? */
static int is_push(const redisReply *r, const char *kind, size_t n)
{
    return r->type == REDIS_REPLY_ARRAY && r->elements >= n &&
           r->element[0]->type == REDIS_REPLY_STRING &&
           strcasecmp(r->element[0]->str, kind) == 0;
}

/* A message: ["message", channel, data] or ["pmessage", pattern,
 * channel, data], every element a string. */
static int is_message(const redisReply *r)
{
    if (!is_push(r, "message", 3) && !is_push(r, "pmessage", 4))
        return 0;
    for (size_t i = 1; i < r->elements; i++)
        if (r->element[i]->type != REDIS_REPLY_STRING)
            return 0;
    return 1;
}

static int keep_pending(green_redis_t *c, redisReply *r)
{
    struct pending *p = malloc(sizeof *p);
    if (!p) {
        freeReplyObject(r);
        errno = ENOMEM;
        return -1;
    }
    *p = (struct pending){ r, NULL };
    if (c->tail)
        c->tail->next = p;
    else
        c->head = p;
    c->tail = p;
    return 0;
}

/* SUBSCRIBE or PSUBSCRIBE name, and wait for its confirmation, keeping
 * the messages of earlier subscriptions that come first. */
static int subscribe(green_redis_t *c, const char *verb, const char *name,
                     double timeout)
{
    double deadline = green__deadline(timeout);
    if (take_turn(c, deadline) != 0)
        return -1;
    const char *argv[] = { verb, name };
    if (send_command(c, 2, argv, NULL, deadline) != 0) {
        breaks(c);
        return end_turn(c, -1);
    }
    for (;;) {
        redisReply *r;
        if (read_reply(c, &r, deadline) != 0) {
            breaks(c);                    /* the confirmation may still come */
            return end_turn(c, -1);
        }
        if (r->type == REDIS_REPLY_ERROR) {
            freeReplyObject(r);           /* refused: nothing else owed */
            errno = EPROTO;
            return end_turn(c, -1);
        }
        if (is_message(r)) {
            if (keep_pending(c, r) != 0) {
                breaks(c);
                return end_turn(c, -1);
            }
            continue;
        }
        int confirmed = is_push(r, verb, 3) && r->element[1]->type == REDIS_REPLY_STRING &&
                        strcmp(r->element[1]->str, name) == 0;
        freeReplyObject(r);
        if (confirmed) {
            c->subscribed = 1;
            return end_turn(c, 0);
        }
    }
}

int green_redis_subscribe(green_redis_t *c, const char *channel, double timeout)
{
    return subscribe(c, "subscribe", channel, timeout);
}

int green_redis_psubscribe(green_redis_t *c, const char *pattern, double timeout)
{
    return subscribe(c, "psubscribe", pattern, timeout);
}

/* The next message: a kept one first, else from the socket, skipping the
 * other pushes of a subscribed connection (confirmations, pongs). */
static int next_message(green_redis_t *c, redisReply **out, double deadline)
{
    if (c->head) {
        struct pending *p = c->head;
        c->head = p->next;
        if (!c->head)
            c->tail = NULL;
        *out = p->reply;
        free(p);
        return 0;
    }
    for (;;) {
        redisReply *r;
        if (read_reply(c, &r, deadline) != 0)
            return -1;
        if (is_message(r)) {
            *out = r;
            return 0;
        }
        freeReplyObject(r);
    }
}

int green_redis_next(green_redis_t *c, green_redis_msg_t *msg, double timeout)
{
    double deadline = green__deadline(timeout);
    if (take_turn(c, deadline) != 0)
        return -1;
    if (!c->subscribed) {
        errno = EINVAL;
        return end_turn(c, -1);
    }
    green_redis_reply_free(c->lent);      /* the previous message's */
    c->lent = NULL;
    redisReply *r;
    if (next_message(c, &r, deadline) != 0) {
        /* Waiting owes nothing: a timeout or a kill leaves the connection
         * as good as it was (a half-read message stays in the reader). */
        if (errno != ETIMEDOUT && errno != ECANCELED)
            breaks(c);
        return end_turn(c, -1);
    }
    c->lent = r;
    int p = r->elements == 4;             /* pmessage: pattern, channel, data */
    *msg = (green_redis_msg_t){
        .pattern = p ? r->element[1]->str : NULL,
        .channel = r->element[1 + p]->str,
        .data = r->element[2 + p]->str,
        .len = r->element[2 + p]->len,
    };
    return end_turn(c, 0);
}
