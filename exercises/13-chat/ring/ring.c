/* ring.c - exercise 13-chat/ring.  Read ring.h first. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"

int ex_ring_init(ex_ring_t *r, int capacity)
{
    /* TODO: check capacity, allocate the slots, last id 0.  Until then:
     * -1 with errno ENOSYS ("not implemented"). */
    (void)r;
    (void)capacity;
    errno = ENOSYS;
    return -1;
}

void ex_ring_free(ex_ring_t *r)
{
    /* TODO: free the slots. */
    (void)r;
}

int64_t ex_ring_post(ex_ring_t *r, const char *text)
{
    /* TODO: check text, copy it with the next id into its slot. */
    (void)r;
    (void)text;
    errno = ENOSYS;
    return -1;
}

int64_t ex_ring_cursor(const ex_ring_t *r, int history)
{
    /* TODO: the id just before the oldest of the last `history` messages
     * the ring still holds. */
    (void)r;
    (void)history;
    errno = ENOSYS;
    return -1;
}

int ex_ring_next(const ex_ring_t *r, int64_t *cursor, const ex_msg_t **msg)
{
    /* TODO: the message *cursor + 1: EINVAL, EAGAIN, ENOBUFS, or found. */
    (void)r;
    (void)cursor;
    (void)msg;
    errno = ENOSYS;
    return -1;
}
