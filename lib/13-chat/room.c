/*
 * room.c - chapter 13: chat rooms, each a bounded ring of counted
 * messages with a cursor per reader (room.h).
 *
 * The ring holds the room's last GREEN_ROOM_CAPACITY messages in the
 * order they came, oldest first; slot `count % CAPACITY` takes the next
 * one, overwriting the oldest once the ring is full.  Ids increase, but
 * not always by one (green_room_append takes an id from elsewhere, and
 * may skip some), so a reader's next message is found by a binary search
 * of the ring for the first id above its cursor: O(log CAPACITY), the
 * same for a reader one message behind or two hundred.
 *
 * A reader has fallen behind when a message it has not seen was
 * overwritten: the room remembers the id of the newest message it
 * dropped (`dropped`), and a cursor below it gets ENOBUFS.  That one
 * number replaces any list of readers: the room never knows who reads it,
 * so a post costs the same for one reader as for a thousand.
 *
 * Waiting readers sit on one list of waiters (wait.h, chapter 3's); a
 * post serves them all, and each one looks at the ring again when it
 * runs.  A message is one allocation (its strings follow the record),
 * with a count of references: one for the ring, one for each reader that
 * holds it, so overwriting a slot never frees a message a writer greenlet
 * is still sending.
 */
#include "room.h"
#include "utf8.h"
#include "hub.h"
#include "wait.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A message and its count of references; the strings follow it. */
struct message {
    green_room_msg_t msg;       /* first: a green_room_msg_t * is ours */
    int refs;
    char strings[];             /* room, name, text, each NUL-terminated */
};

struct green_room {
    char name[GREEN_ROOM_NAME_MAX + 1];
    struct message *ring[GREEN_ROOM_CAPACITY];
    int64_t count;              /* messages appended so far: the next slot */
    int64_t last;               /* the newest message's id (0: none yet) */
    int64_t dropped;            /* the newest overwritten message's id */
    struct green__waitlist readers;  /* waiting in green_room_next */
    struct green_room *next;    /* the thread's list of rooms */
};

/* One hub per thread, so one set of rooms per thread (green.h). */
static _Thread_local struct green_room *rooms;
static _Thread_local green_room_publish_fn_t publisher;
static _Thread_local void *publisher_arg;
static _Thread_local int closed;

/* ---- Names, texts, messages -------------------------------------------- */

/* [A-Za-z0-9_-], 1 to GREEN_ROOM_NAME_MAX bytes. */
static int valid_room_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > GREEN_ROOM_NAME_MAX)
        return 0;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789_-") == n;
}

/* A poster's name (0 to NAME_MAX bytes) and text (1 to TEXT_MAX), both
 * UTF-8: the chat sends them to browsers, which refuse anything else. */
static int valid_post(const char *name, const char *text)
{
    size_t n = strlen(name), t = strlen(text);
    return n <= GREEN_ROOM_NAME_MAX && t >= 1 && t <= GREEN_ROOM_TEXT_MAX &&
           green_utf8_valid(name, n) && green_utf8_valid(text, t);
}

static struct message *message_new(const green_room_t *r, int64_t id, double time,
                                   const char *name, const char *text)
{
    size_t lr = strlen(r->name) + 1, ln = strlen(name) + 1, lt = strlen(text) + 1;
    struct message *m = malloc(sizeof *m + lr + ln + lt);
    if (!m)
        return NULL;
    char *p = m->strings;
    m->msg.room = memcpy(p, r->name, lr);
    m->msg.name = memcpy(p + lr, name, ln);
    m->msg.text = memcpy(p + lr + ln, text, lt);
    m->msg.id = id;
    m->msg.time = time;
    m->refs = 1;                /* the ring's */
    return m;
}

void green_room_msg_unref(green_room_msg_t *msg)
{
    struct message *m = (struct message *)msg;
    if (m && --m->refs == 0)
        free(m);
}

/* Seconds since the epoch: a message's time is for people, not a clock
 * for measuring (that is green_now's). */
static double wall_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- Rooms ------------------------------------------------------------- */

/* A list, searched from the start: a server has tens of rooms, not
 * millions (at scale, a hash table keyed by name). */
green_room_t *green_room_get(const char *name)
{
    if (!valid_room_name(name)) {
        errno = EINVAL;
        return NULL;
    }
    for (green_room_t *r = rooms; r; r = r->next)
        if (strcmp(r->name, name) == 0)
            return r;
    green_room_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    strcpy(r->name, name);
    r->next = rooms;
    rooms = r;
    return r;
}

const char *green_room_name(const green_room_t *r) { return r->name; }
int64_t green_room_last_id(const green_room_t *r) { return r->last; }

/* How many messages the ring holds, and the i-th of them, oldest first. */
static int held(const green_room_t *r)
{
    return r->count < GREEN_ROOM_CAPACITY ? (int)r->count : GREEN_ROOM_CAPACITY;
}

static struct message *oldest_plus(const green_room_t *r, int i)
{
    return r->ring[(r->count - held(r) + i) % GREEN_ROOM_CAPACITY];
}

int64_t green_room_cursor(const green_room_t *r, int history)
{
    int n = held(r);
    if (history <= 0 || n == 0)
        return r->last;
    if (history > n)
        history = n;
    return oldest_plus(r, n - history)->msg.id - 1;
}

/* ---- Posting ----------------------------------------------------------- */

/* Into the ring, over the oldest message when it is full, and wake every
 * reader: each looks for its own next message when it runs. */
static int append(green_room_t *r, int64_t id, double time, const char *name,
                  const char *text)
{
    struct message *m = message_new(r, id, time, name, text);
    if (!m)
        return -1;
    struct message **slot = &r->ring[r->count % GREEN_ROOM_CAPACITY];
    if (*slot) {
        r->dropped = (*slot)->msg.id;
        green_room_msg_unref(&(*slot)->msg);    /* a reader may still hold it */
    }
    *slot = m;
    r->count++;
    r->last = id;
    green__wake_all(&r->readers, NULL);
    return 0;
}

int64_t green_room_post(green_room_t *r, const char *name, const char *text)
{
    if (closed) {
        errno = ESHUTDOWN;
        return -1;
    }
    if (!valid_post(name, text)) {
        errno = EINVAL;
        return -1;
    }
    if (publisher)              /* the id comes back through green_room_append */
        return publisher(r, name, text, publisher_arg) < 0 ? -1 : 0;
    if (append(r, r->last + 1, wall_clock(), name, text) < 0)
        return -1;
    return r->last;
}

int green_room_append(green_room_t *r, int64_t id, double time,
                      const char *name, const char *text)
{
    if (!valid_post(name, text)) {
        errno = EINVAL;
        return -1;
    }
    if (id <= r->last)
        return 0;               /* a duplicate: seen already */
    return append(r, id, time, name, text);
}

void green_room_set_publisher(green_room_publish_fn_t publish, void *arg)
{
    publisher = publish;
    publisher_arg = publish ? arg : NULL;
}

/* ---- Reading ----------------------------------------------------------- */

/* The oldest message with an id above cursor (there is one: cursor <
 * last): a binary search, the ring's ids being in increasing order. */
static struct message *after(const green_room_t *r, int64_t cursor)
{
    int lo = 0, hi = held(r) - 1;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (oldest_plus(r, mid)->msg.id > cursor)
            hi = mid;
        else
            lo = mid + 1;
    }
    return oldest_plus(r, lo);
}

/* Look at the ring, wait if there is nothing new, look again: one
 * deadline for the whole call, since a reader may be woken by posts to
 * the room that another reader's cursor wanted, never its own (after a
 * close_all, say).  The hub cannot wait: green__wait says EPERM. */
int green_room_next(green_room_t *r, int64_t *cursor,
                    green_room_msg_t **msg, double timeout)
{
    double deadline = green__deadline(timeout);
    for (;;) {
        if (closed) {
            errno = ESHUTDOWN;
            return -1;
        }
        if (*cursor < r->dropped) {
            errno = ENOBUFS;    /* its next message is gone: drop the reader */
            return -1;
        }
        if (*cursor < r->last) {
            struct message *m = after(r, *cursor);
            m->refs++;
            *cursor = m->msg.id;
            *msg = &m->msg;
            return 0;
        }
        struct green__waiter w = { 0 };
        if (green__wait(&r->readers, &w, green__time_left(deadline), "green_room_next") < 0)
            return -1;
    }
}

/* ---- The end ----------------------------------------------------------- */

void green_room_close_all(void)
{
    closed = 1;
    for (green_room_t *r = rooms; r; r = r->next)
        green__wake_all(&r->readers, NULL);
}

void green_room_free_all(void)
{
    while (rooms) {
        green_room_t *r = rooms;
        green__waitlist_check_empty(&r->readers, "green_room_free_all");
        for (int i = 0; i < GREEN_ROOM_CAPACITY; i++)
            green_room_msg_unref(r->ring[i] ? &r->ring[i]->msg : NULL);
        rooms = r->next;
        free(r);
    }
    publisher = NULL;
    publisher_arg = NULL;
    closed = 0;
}
