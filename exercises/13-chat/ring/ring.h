/*
 * ring.h - exercise 13-chat/ring: a room's messages in a ring, a cursor per reader.
 *
 * int ex_ring_init(ex_ring_t *r, int capacity);
 * void ex_ring_free(ex_ring_t *r);
 * int64_t ex_ring_post(ex_ring_t *r, const char *text);
 * int64_t ex_ring_cursor(const ex_ring_t *r, int history);
 * int ex_ring_next(const ex_ring_t *r, int64_t *cursor, const ex_msg_t **msg);
 *
 * A chat room keeps its last messages for the readers: every client of
 * the room, each at its own pace (a phone on a train reads later than a
 * desktop).  A queue per reader would copy each message once per reader,
 * and a reader that never reads would make its queue grow without end.
 * Instead the room keeps ONE ring of its last `capacity` messages, each
 * with an id (1, 2, 3...), and each reader keeps one number, its cursor:
 * the id of the last message it has read.  Posting writes one slot,
 * whatever the number of readers; reading copies nothing.
 *
 * The message with id N goes in slot (N - 1) % capacity: the ring
 * overwrites its oldest message when it is full.  A reader so far behind
 * that the message after its cursor was overwritten cannot catch up: it
 * is told so ("fell behind"), and the chat drops it.  Nobody else waits
 * for it, and the memory stays bounded.
 *
 * This is the heart of lib/13-chat/room.c without the waiting: there, a
 * reader with nothing new parks its greenlet until a post wakes it; here,
 * it is told "nothing new" and the tests call again.
 *
 * What it must do (the tests check each point)
 *   - ex_ring_init(r, capacity): an empty ring (its last id 0) of
 *     `capacity` slots.  0, or -1 with errno EINVAL (capacity < 1) or
 *     ENOMEM.  ex_ring_free(r) frees what init allocated.
 *   - ex_ring_post(r, text): append a copy of text (a C string, at most
 *     EX_RING_TEXT_MAX - 1 bytes) with the next id (the first is 1), over
 *     the oldest message if the ring is full.  Returns its id, or -1 with
 *     errno EINVAL (text NULL or too long: nothing is posted).
 *   - ex_ring_cursor(r, history): a cursor for a reader that joins now
 *     and wants up to `history` past messages first (fewer if the ring
 *     holds fewer): the id just before the oldest of them.  history 0: the
 *     last id, so only new messages (a negative history counts as 0).
 *   - ex_ring_next(r, cursor, msg): the message after *cursor.
 *       - It is in the ring: *msg points to it (valid until `capacity`
 *         more posts overwrite it), *cursor becomes its id, returns 0.
 *       - Nothing new (*cursor is the last id): -1, errno EAGAIN.
 *       - Fell behind (the message after *cursor was overwritten): -1,
 *         errno ENOBUFS.  With capacity C, a reader at cursor 0 can still
 *         read message 1 after C posts, not after C + 1.
 *       - A cursor that no ring gave (negative, or past the last id): -1,
 *         errno EINVAL.
 *     *cursor and *msg change only when it returns 0.
 *
 * The trap
 *   Comparing slots instead of ids: after the ring has wrapped, slot 0
 *   holds message 1, then C + 1, then 2C + 1...  Only the ids say which
 *   message a reader wants, and whether it is still there.
 *
 * Hints
 *   - Everything follows from the last id and the capacity: the oldest
 *     id kept, whether the wanted one (*cursor + 1) exists yet, is still
 *     kept, and its slot.
 *
 * Lesson: chapters/13-chat/README.md, "Rooms: a ring and a cursor each",
 *         then "Exercise: ring".
 * Tests:  tests/exercises/13-chat/ring.c
 * Run:    make grade E=ring
 * Stuck?  make hint E=ring (one more hint each time you ask)
 */
#ifndef EX_RING_H
#define EX_RING_H

#include <stdint.h>

#define EX_RING_TEXT_MAX 128    /* bytes of a message's text, with its NUL */

/* One message, in its slot. */
typedef struct ex_msg {
    int64_t id;                 /* 1, 2, 3... */
    char text[EX_RING_TEXT_MAX];
} ex_msg_t;

/* The ring: you may add fields, the tests only call the functions. */
typedef struct ex_ring {
    ex_msg_t *slots;            /* capacity of them */
    int capacity;
    int64_t last;               /* the newest message's id; 0 when empty */
} ex_ring_t;

int ex_ring_init(ex_ring_t *r, int capacity);
void ex_ring_free(ex_ring_t *r);
int64_t ex_ring_post(ex_ring_t *r, const char *text);
int64_t ex_ring_cursor(const ex_ring_t *r, int history);
int ex_ring_next(const ex_ring_t *r, int64_t *cursor, const ex_msg_t **msg);

#endif
