/* ring.c - solution of exercise 13-chat/ring.  See ring.h. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"

int ex_ring_init(ex_ring_t *r, int capacity)
{
    if (capacity < 1) {
        errno = EINVAL;
        return -1;
    }
    r->slots = calloc((size_t)capacity, sizeof *r->slots);
    if (r->slots == NULL)
        return -1;              /* errno ENOMEM, from calloc */
    r->capacity = capacity;
    r->last = 0;
    return 0;
}

void ex_ring_free(ex_ring_t *r)
{
    free(r->slots);
    r->slots = NULL;
}

/* Where message `id` lives (or lived, or will live). */
static ex_msg_t *slot(const ex_ring_t *r, int64_t id)
{
    return &r->slots[(id - 1) % r->capacity];
}

/* The oldest id the ring still holds: 1 until it has wrapped, then the
 * one `capacity` before the next.  (last + 1 when empty: nothing held.) */
static int64_t oldest(const ex_ring_t *r)
{
    return r->last < r->capacity ? 1 : r->last - r->capacity + 1;
}

int64_t ex_ring_post(ex_ring_t *r, const char *text)
{
    if (text == NULL || strlen(text) >= EX_RING_TEXT_MAX) {
        errno = EINVAL;
        return -1;
    }
    /* One slot written, whatever the number of readers: the oldest
     * message goes, and with it every reader still that far behind. */
    ex_msg_t *m = slot(r, r->last + 1);
    m->id = r->last + 1;
    strcpy(m->text, text);
    r->last = m->id;
    return m->id;
}

int64_t ex_ring_cursor(const ex_ring_t *r, int history)
{
    int64_t held = r->last - oldest(r) + 1;
    int64_t want = history < 0 ? 0 : history;
    return r->last - (want < held ? want : held);
}

int ex_ring_next(const ex_ring_t *r, int64_t *cursor, const ex_msg_t **msg)
{
    int64_t want = *cursor + 1;
    if (*cursor < 0 || *cursor > r->last) {
        errno = EINVAL;         /* no ring gave that cursor */
        return -1;
    }
    if (want > r->last) {
        errno = EAGAIN;         /* nothing new: room.c waits here */
        return -1;
    }
    if (want < oldest(r)) {
        errno = ENOBUFS;        /* overwritten: this reader cannot catch up */
        return -1;
    }
    *msg = slot(r, want);
    *cursor = want;
    return 0;
}
