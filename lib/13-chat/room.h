/*
 * room.h - chapter 13: a chat room, a bounded ring of messages with a
 * cursor per reader.
 *
 * A room keeps its last GREEN_ROOM_CAPACITY messages, each with an id
 * that increases by one within the room.  A reader (a WebSocket client's
 * writer greenlet, a long-poll request, an SSE stream) holds a cursor: the
 * id of the last message it has seen.  green_room_next gives the message
 * after the cursor, waiting for it if it has not been posted yet.  So a
 * post costs the same for 1 reader or 1,000: it writes one slot and wakes
 * the waiters; each reader copies nothing and walks at its own pace.
 *
 * Memory stays bounded whatever the readers do: a reader that falls more
 * than GREEN_ROOM_CAPACITY messages behind (a client that never reads)
 * finds its next message overwritten, is told so (ENOBUFS), and the chat
 * drops it with a close code.  Nobody else waits for it.
 *
 * A message is immutable and counted: green_room_next hands the caller a
 * reference it must give back with green_room_msg_unref, so the ring may
 * overwrite a slot while a writer greenlet is still sending that message.
 *
 * More than one process (chapter 12's workers): a post is handed to the
 * publisher when one is set (green_room_set_publisher; Redis pub/sub in
 * room_redis.c), which gives the message its id and delivers it back to
 * every process, this one included, through green_room_append.  Without a
 * publisher, green_room_post appends at once: one process, the default.
 *
 * Rooms live in the thread that made them (one hub, one set of rooms).
 *
 * Errors, C style: -1 with errno.
 */
#ifndef GREEN_ROOM_H
#define GREEN_ROOM_H

#include <stdint.h>

#define GREEN_ROOM_CAPACITY 256  /* messages a room keeps */
#define GREEN_ROOM_NAME_MAX 32   /* bytes of a room's or a nickname's name */
#define GREEN_ROOM_TEXT_MAX 4096 /* bytes of a message's text */

typedef struct green_room green_room_t;

/* One message of a room.  Immutable once posted; counted (see above). */
typedef struct green_room_msg {
    int64_t id;        /* 1, 2, 3... within its room */
    double time;       /* when it was posted: seconds since the epoch */
    const char *room;  /* the room's name */
    const char *name;  /* who posted it ("" for the room's own notices) */
    const char *text;  /* UTF-8, NUL-terminated */
} green_room_msg_t;

/* The room called name, made (empty, last id 0) the first time it is
 * asked for.  name: 1 to GREEN_ROOM_NAME_MAX bytes of [A-Za-z0-9_-]: a
 * name a stranger chose ends up in logs and Redis channel names.
 * Returns the room (owned by the thread, never freed by the caller), or
 * NULL with errno EINVAL (a bad name) or ENOMEM. */
green_room_t *green_room_get(const char *name);

/* The room's name, and the id of its newest message (0 when empty). */
const char *green_room_name(const green_room_t *r);
int64_t green_room_last_id(const green_room_t *r);

/* A cursor for a reader that joins now and wants up to `history` past
 * messages first: the id just before the oldest of them. */
int64_t green_room_cursor(const green_room_t *r, int history);

/* Post a message from `name` (0 to GREEN_ROOM_NAME_MAX bytes) with text
 * (UTF-8, 1 to GREEN_ROOM_TEXT_MAX bytes).  Without a publisher, it is
 * appended and every waiting reader is woken; returns its id.  With a
 * publisher, it is handed over and 0 is returned: the id comes back with
 * green_room_append.  Returns -1 with errno EINVAL (a bad length or text
 * that is not UTF-8), ENOMEM, ESHUTDOWN (green_room_close_all), or the
 * publisher's errno. */
int64_t green_room_post(green_room_t *r, const char *name, const char *text);

/* Append a message whose id and time were given elsewhere (by the
 * publisher, in every process).  An id at or below the room's last is
 * ignored (a duplicate); an id further ahead than last + 1 is taken as
 * it is (messages this process missed while it was away are lost, not
 * waited for).  Returns 0, or -1 with errno EINVAL or ENOMEM. */
int green_room_append(green_room_t *r, int64_t id, double time,
                      const char *name, const char *text);

/* The message after *cursor, waiting up to timeout seconds for it to be
 * posted.  Returns 0 with a reference in *msg and *cursor moved to its
 * id; or -1 with errno ETIMEDOUT (nothing new in time), ENOBUFS (the
 * reader fell so far behind that the message after its cursor was
 * overwritten: drop it), ESHUTDOWN (green_room_close_all), ECANCELED (the
 * greenlet was killed) or EPERM (called from the hub). */
int green_room_next(green_room_t *r, int64_t *cursor,
                    green_room_msg_t **msg, double timeout);

/* Give back a reference from green_room_next. */
void green_room_msg_unref(green_room_msg_t *msg);

/* How a post leaves this process: publish(r, name, text, arg) returns 0
 * once the message is on its way, or -1 with errno.  NULL: posts are
 * appended here (the default).  For this thread's rooms. */
typedef int (*green_room_publish_fn_t)(green_room_t *r, const char *name,
                                       const char *text, void *arg);
void green_room_set_publisher(green_room_publish_fn_t publish, void *arg);

/* The server stops: wake every reader of this thread's rooms for good.
 * From now on green_room_next fails with ESHUTDOWN (at once, even with
 * messages left to read) and so does green_room_post, so a long-poll
 * answers, an event stream ends and a WebSocket's writer closes 1001
 * "going away", instead of waiting for a message that will never come
 * until the graceful stop's grace runs out and kills them.  Python: the
 * nearest is closing a Queue that readers block on. */
void green_room_close_all(void);

/* Free every room of this thread (at the end of a program, so that
 * Valgrind and LeakSanitizer see nothing left), and forget the publisher
 * and green_room_close_all: the thread may start again.  No reader may be
 * waiting (the library says so on stderr and aborts); references given
 * out stay valid until unref'ed. */
void green_room_free_all(void);

#endif
