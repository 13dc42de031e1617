/*
 * sync.c - chapter 6: Event, AsyncResult, Queue, Semaphore, Lock and
 * greenlet-local storage.  See sync.h.
 *
 * Everything here is one idea, used five times: a greenlet that must wait
 * for another puts a node on the object's list of waiters and parks
 * (green__wait); the greenlet that changes the object takes the first
 * node off the list, hands it what it waited for, and readies it
 * (green__wake_one).  The list is the hub's (wait.h, wait.c): the one
 * green_join waits in, so every wait of the kit is served in the same
 * order, by the same rules, written once.  What stays here is what each
 * object hands over, and when.
 */
#include "internal.h"
#include "sync.h"
#include "wait.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- Event ---------------------------------------------------------------- */

struct green_event {
    int flag;
    struct green__waitlist waiters;
    struct green__waitlist woken;  /* served by set(), not yet back from
                                      their wait (green__wait_turn) */
};

green_event_t *green_event_new(void)
{
    return calloc(1, sizeof(green_event_t));
}

void green_event_free(green_event_t *e)
{
    if (e == NULL)
        return;
    green__waitlist_check_empty(&e->waiters, "green_event_free");
    green__waitlist_forget(&e->woken);
    free(e);
}

void green_event_set(green_event_t *e)
{
    e->flag = 1;
    green__wake_all(&e->waiters, &e->woken);
}

void green_event_clear(green_event_t *e) { e->flag = 0; }

int green_event_is_set(const green_event_t *e) { return e->flag; }

/* A greenlet that finds the flag set while the waiters that set() woke
 * have not run yet must not overtake them (gevent issue 1520): they waited
 * first.  green__wait_turn lets them run first. */
int green_event_wait(green_event_t *e, double timeout)
{
    if (e->flag)
        return green__wait_turn(&e->woken, timeout);
    struct green__waiter me = { 0 };
    return green__wait(&e->waiters, &me, timeout, "green_event_wait");
}

/* ---- AsyncResult: an Event with a value ------------------------------- */

struct green_async {
    green_event_t ready;
    void *value;
    int error;
};

green_async_t *green_async_new(void)
{
    return calloc(1, sizeof(green_async_t));
}

void green_async_free(green_async_t *a)
{
    if (a == NULL)
        return;
    green__waitlist_check_empty(&a->ready.waiters, "green_async_free");
    green__waitlist_forget(&a->ready.woken);
    free(a);
}

void green_async_set(green_async_t *a, void *value)
{
    a->value = value;
    a->error = 0;
    green_event_set(&a->ready);
}

void green_async_set_error(green_async_t *a, int error)
{
    a->value = NULL;
    a->error = error;
    green_event_set(&a->ready);
}

int green_async_ready(const green_async_t *a) { return a->ready.flag; }

int green_async_get(green_async_t *a, void **value, double timeout)
{
    if (green_event_wait(&a->ready, timeout) != 0)
        return -1;
    if (a->error) {
        errno = a->error;
        return -1;
    }
    if (value)
        *value = a->value;
    return 0;
}

/* ---- Queue ---------------------------------------------------------------- */

/* The items sit in a ring buffer.  Invariants, kept by handing over
 * instead of storing: getters wait only while the buffer is empty, and
 * putters only while it is full.  So nobody who arrives later can take
 * what a woken waiter is about to get. */
struct green_queue {
    void **items;
    size_t cap, head, len;
    size_t maxsize;           /* 0: unbounded */
    struct green__waitlist getters, putters;
};

green_queue_t *green_queue_new(size_t maxsize)
{
    green_queue_t *q = calloc(1, sizeof *q);
    if (q == NULL)
        return NULL;
    q->maxsize = maxsize;
    if (maxsize > 0) {       /* a bounded queue never needs to grow */
        q->cap = maxsize;
        q->items = malloc(maxsize * sizeof *q->items);
        if (q->items == NULL) {
            free(q);
            errno = ENOMEM;
            return NULL;
        }
    }
    return q;
}

void green_queue_free(green_queue_t *q)
{
    if (q == NULL)
        return;
    green__waitlist_check_empty(&q->getters, "green_queue_free");
    green__waitlist_check_empty(&q->putters, "green_queue_free");
    free(q->items);
    free(q);
}

size_t green_queue_len(const green_queue_t *q) { return q->len; }

static int full(const green_queue_t *q)
{
    return q->maxsize > 0 && q->len >= q->maxsize;
}

/* Double an unbounded queue's buffer, unrolling the ring as we copy. */
static int grow(green_queue_t *q)
{
    size_t cap = q->cap ? 2 * q->cap : 16;
    void **items = malloc(cap * sizeof *items);
    if (items == NULL) {
        errno = ENOMEM;
        return -1;
    }
    for (size_t i = 0; i < q->len; i++)
        items[i] = q->items[(q->head + i) % q->cap];
    free(q->items);
    q->items = items;
    q->cap = cap;
    q->head = 0;
    return 0;
}

static int push(green_queue_t *q, void *item)
{
    if (q->len == q->cap && grow(q) != 0)
        return -1;
    q->items[(q->head + q->len) % q->cap] = item;
    q->len++;
    return 0;
}

static void *pop(green_queue_t *q)
{
    void *item = q->items[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
    return item;
}

int green_queue_put(green_queue_t *q, void *item, double timeout)
{
    struct green__waiter *getter = green__wake_one(&q->getters);
    if (getter) {            /* the buffer is empty: give it to them */
        getter->item = item; /* it reads it when it runs, after us */
        return 0;
    }
    if (!full(q))
        return push(q, item);
    /* Full: wait for a getter to move our item into the slot it frees. */
    struct green__waiter me = { .item = item };
    return green__wait(&q->putters, &me, timeout, "green_queue_put");
}

int green_queue_get(green_queue_t *q, void **item, double timeout)
{
    if (q->len > 0) {
        *item = pop(q);
        /* The slot just freed belongs to the first putter waiting:
         * fill it now, before any newcomer can. */
        struct green__waiter *putter = green__wake_one(&q->putters);
        if (putter)
            push(q, putter->item);   /* cannot fail: a bounded buffer */
        return 0;
    }
    struct green__waiter me = { 0 };
    if (green__wait(&q->getters, &me, timeout, "green_queue_get") != 0)
        return -1;
    *item = me.item;
    return 0;
}

/* ---- Semaphore and Lock ------------------------------------------------- */

/* Like the queue: permits are counted only while nobody waits; a release
 * with waiters hands its permit to the first of them. */
struct green_sem {
    unsigned value;
    struct green__waitlist waiters;
};

static void sem_init(green_sem_t *s, unsigned value)
{
    s->value = value;
    s->waiters.head = s->waiters.tail = NULL;
}

green_sem_t *green_sem_new(unsigned value)
{
    green_sem_t *s = malloc(sizeof *s);
    if (s != NULL)
        sem_init(s, value);
    return s;
}

void green_sem_free(green_sem_t *s)
{
    if (s == NULL)
        return;
    green__waitlist_check_empty(&s->waiters, "green_sem_free");
    free(s);
}

int green_sem_acquire(green_sem_t *s, double timeout)
{
    if (s->value > 0) {
        s->value--;
        return 0;
    }
    struct green__waiter me = { 0 };
    return green__wait(&s->waiters, &me, timeout, "green_sem_acquire");
}

void green_sem_release(green_sem_t *s)
{
    if (green__wake_one(&s->waiters) == NULL)
        s->value++;      /* nobody waits: keep the permit for later */
}

unsigned green_sem_value(const green_sem_t *s) { return s->value; }

struct green_lock {
    green_sem_t sem;    /* one permit: 1 unlocked, 0 locked */
};

green_lock_t *green_lock_new(void)
{
    green_lock_t *l = malloc(sizeof *l);
    if (l != NULL)
        sem_init(&l->sem, 1);
    return l;
}

void green_lock_free(green_lock_t *l)
{
    if (l == NULL)
        return;
    green__waitlist_check_empty(&l->sem.waiters, "green_lock_free");
    free(l);
}

int green_lock_acquire(green_lock_t *l, double timeout)
{
    return green_sem_acquire(&l->sem, timeout);
}

int green_lock_release(green_lock_t *l)
{
    if (l->sem.value > 0) {   /* a second permit would let two in */
        errno = EPERM;
        return -1;
    }
    green_sem_release(&l->sem);
    return 0;
}

int green_lock_locked(const green_lock_t *l) { return l->sem.value == 0; }

/* ---- Greenlet-local storage --------------------------------------------- */

/* A key is an index into every greenlet's `sync.locals` array (internal.h),
 * which grows on the first green_local_set() that needs it.  Keys are few
 * and made at start-up, like pthread keys: a fixed table is enough. */
static void (*destructors[GREEN_LOCALS_MAX])(void *);
static int nkeys;

/* POSIX runs thread-specific destructors up to 4 rounds too: a destructor
 * may store a value again, but not for ever. */
#define DESTRUCTOR_ROUNDS 4

/* One round over g's values: clear each, then destroy it.  Returns how many
 * destructors ran. */
static int destroy_round(green_t *g)
{
    int ran = 0;
    for (int k = 0; k < g->sync.nlocals; k++) {
        void *value = g->sync.locals[k];
        if (value == NULL || destructors[k] == NULL)
            continue;
        g->sync.locals[k] = NULL;   /* first: the destructor may look again */
        destructors[k](value);
        ran++;
    }
    return ran;
}

/* The greenlet layer calls this as any greenlet ends (green_on_exit):
 * still running on that greenlet when its function returned, or inside
 * green_free() for one freed before that. */
static void destroy_locals(green_t *g)
{
    if (g->sync.locals == NULL)
        return;
    for (int round = 0; round < DESTRUCTOR_ROUNDS; round++)
        if (destroy_round(g) == 0)
            break;
    free(g->sync.locals);
    g->sync.locals = NULL;
    g->sync.nlocals = 0;
}

int green_local_new(void (*destructor)(void *))
{
    if (nkeys == GREEN_LOCALS_MAX) {
        errno = EAGAIN;
        return -1;
    }
    /* The greenlet layer knows nothing of this one: it calls the hooks
     * registered with it.  Programs that never use locals pay nothing. */
    static int registered;
    if (!registered && green_on_exit(destroy_locals) != 0)
        return -1;
    registered = 1;
    destructors[nkeys] = destructor;
    return nkeys++;
}

void *green_local_get(int key)
{
    green_t *self = green_current();
    if (key < 0 || key >= self->sync.nlocals)
        return NULL;
    return self->sync.locals[key];
}

/* Make room in g's array for every key made so far. */
static int grow_locals(green_t *g)
{
    void **locals = realloc(g->sync.locals, (size_t)nkeys * sizeof *locals);
    if (locals == NULL) {
        errno = ENOMEM;
        return -1;
    }
    memset(locals + g->sync.nlocals, 0, (size_t)(nkeys - g->sync.nlocals) * sizeof *locals);
    g->sync.locals = locals;
    g->sync.nlocals = nkeys;
    return 0;
}

int green_local_set(int key, void *value)
{
    green_t *self = green_current();
    if (key < 0 || key >= nkeys) {
        errno = EINVAL;
        return -1;
    }
    if (key >= self->sync.nlocals && grow_locals(self) != 0)
        return -1;
    self->sync.locals[key] = value;
    return 0;
}
