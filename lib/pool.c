/*
 * pool.c - layer 7: groups and pools of greenlets.  See pool.h.
 *
 * A group is a list of member records.  Each member greenlet runs
 * member_main(), a wrapper that calls the user's function and then takes
 * the member out of the list (finish): the group learns of every death
 * without polling.  finish() is also where waiters are woken, following
 * hub.h's pattern: a waiter puts a node on one of the group's lists, parks
 * (green_hub_wait), and takes the node off again whatever woke it.
 *
 *   changed  greenlets in green_group_join / green_group_kill: woken at
 *            every death, each checks whether the group is empty enough;
 *   slots    spawners of a full pool, first come first served: each death
 *            hands the freed slot to the spawner at the head of the queue.
 *
 * Dead members are not freed at once (a greenlet cannot free itself while
 * it runs): they wait on a `dead` list until the group's next call frees
 * them.  A member whose greenlet one of our own calls is joining (`busy`)
 * stays until that call is done with it.
 */
#include "pool.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

/* How long green_group_free lets killed members unwind. */
#define FREE_GRACE 1.0

struct member {
    green_t *g;
    struct green_group *group;  /* NULL once green_group_free gave it up */
    green_fn fn;                /* what the member runs (spawned members) */
    void *arg;
    int busy;                   /* our calls joining g: do not free g yet */
    unsigned finished : 1;      /* out of the living list */
    unsigned signalled : 1;     /* green_group_kill has killed it */
    struct member *prev, *next;
};

/* A greenlet waiting on the group; it lives on the waiter's stack. */
struct waiter {
    green_t *g;
    int granted;                /* slots: a slot was handed to us */
    struct waiter *next;
};

struct green_group {
    struct member *head, *tail; /* living members, in spawn order */
    struct member *dead;        /* finished; greenlets not freed yet */
    int size;                   /* living members */
    int limit;                  /* pools: at most this many; 0: no limit */
    int reserved;               /* slots handed to spawners not yet back */
    struct waiter *changed;     /* joiners and killers */
    struct waiter *slots_head, *slots_tail;  /* spawners, FIFO */
};

/* Python's Pool is a Group with a limit; so is ours. */
struct green_pool {
    struct green_group group;
};

/* ---- Deadlines (one per call, shared by its waits) -------------------- */

static double deadline_of(double timeout)
{
    return timeout < 0 ? -1.0 : green_now() + timeout;
}

static double time_left(double deadline)
{
    if (deadline < 0)
        return GREEN_FOREVER;
    double left = deadline - green_now();
    return left > 0 ? left : 0;
}

/* ---- Waking waiters --------------------------------------------------- */

static void wake_changed(struct green_group *gr)
{
    for (struct waiter *w = gr->changed; w; w = w->next)
        green_ready(w->g, NULL);
}

/* Hand every free slot to the spawner at the head of the queue.  The slot
 * is reserved for it, so that a spawner arriving before it runs cannot
 * take the slot from under it (that would break first come, first served). */
static void grant_slots(struct green_group *gr)
{
    while (gr->slots_head && gr->size + gr->reserved < gr->limit) {
        struct waiter *w = gr->slots_head;
        gr->slots_head = w->next;
        if (gr->slots_head == NULL)
            gr->slots_tail = NULL;
        w->granted = 1;
        gr->reserved++;
        green_ready(w->g, NULL);
    }
}

/* ---- Members: living, finished, freed --------------------------------- */

static void link_living(struct green_group *gr, struct member *m)
{
    m->prev = gr->tail;
    m->next = NULL;
    if (gr->tail)
        gr->tail->next = m;
    else
        gr->head = m;
    gr->tail = m;
    gr->size++;
}

static void unlink_living(struct green_group *gr, struct member *m)
{
    if (m->prev)
        m->prev->next = m->next;
    else
        gr->head = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        gr->tail = m->prev;
    gr->size--;
}

/* m's greenlet has died (or is about to: called from its last lines).
 * Take it out of the group and tell whoever waits for a change. */
static void finish(struct member *m)
{
    if (m->finished)
        return;
    m->finished = 1;
    struct green_group *gr = m->group;
    if (gr == NULL) {
        /* Given up by green_group_free: nobody else will free it. */
        if (m->g == green_current())
            green_detach(m->g);      /* the hub frees it once it is dead */
        else
            green_free(m->g);
        free(m);
        return;
    }
    unlink_living(gr, m);
    m->next = gr->dead;
    gr->dead = m;
    wake_changed(gr);
    grant_slots(gr);
}

/* Free the dead members nobody looks at any more. */
static void reap(struct green_group *gr)
{
    struct member **p = &gr->dead;
    while (*p) {
        struct member *m = *p;
        if (m->busy > 0) {
            p = &m->next;
            continue;
        }
        *p = m->next;
        green_free(m->g);
        free(m);
    }
}

/* What every spawned member runs: the user's function, then its exit
 * from the group.  (A member killed before it started never runs this:
 * green_group_kill notices and calls finish() for it.) */
static void *member_main(void *arg)
{
    struct member *m = arg;
    void *result = m->fn(m->arg);
    finish(m);
    return result;
}

static green_t *spawn_member(struct green_group *gr, green_fn fn, void *arg)
{
    struct member *m = calloc(1, sizeof *m);
    if (m == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    m->fn = fn;
    m->arg = arg;
    m->group = gr;
    m->g = green_spawn(member_main, m);
    if (m->g == NULL) {
        free(m);
        errno = ENOMEM;
        return NULL;
    }
    link_living(gr, m);
    return m->g;
}

/* The caller's own member record, if the caller is a member. */
static struct member *find_self(struct green_group *gr)
{
    green_t *self = green_current();
    for (struct member *m = gr->head; m; m = m->next)
        if (m->g == self)
            return m;
    return NULL;
}

/* ---- Waiting for the group to empty ----------------------------------- */

/* Park until the next death in the group (or the deadline).  Returns 0 or
 * -1 with errno, like green_hub_wait. */
static int wait_changed(struct green_group *gr, double deadline)
{
    struct waiter w = { green_current(), 0, gr->changed };
    gr->changed = &w;
    int rc = green_hub_wait(time_left(deadline));
    int err = errno;
    for (struct waiter **p = &gr->changed; *p; p = &(*p)->next) {
        if (*p == &w) {
            *p = w.next;
            break;
        }
    }
    errno = err;
    return rc;
}

/* Kill, with green_kill, every member not killed yet but `self`.  Returns
 * how many it killed.  Each green_kill waits a little (one turn of the
 * hub), so the members are first collected in an array: the list may
 * change meanwhile.  `busy` keeps their greenlets from being freed while
 * we still look at them. */
static int kill_some(struct green_group *gr, struct member *self)
{
    int n = 0;
    for (struct member *m = gr->head; m; m = m->next)
        if (m != self && !m->signalled)
            n++;
    if (n == 0)
        return 0;
    struct member *one;
    struct member **batch = malloc((size_t)n * sizeof *batch);
    if (batch == NULL) {        /* no memory: one at a time, slower */
        batch = &one;
        n = 1;
    }
    int i = 0;
    for (struct member *m = gr->head; m && i < n; m = m->next) {
        if (m != self && !m->signalled) {
            m->signalled = 1;
            m->busy++;
            batch[i++] = m;
        }
    }
    for (i = 0; i < n; i++) {
        struct member *m = batch[i];
        green_kill(m->g, 0);    /* do not wait here: we wait for all below */
        if (green_dead(m->g))
            finish(m);          /* killed before it started: member_main never ran */
        m->busy--;
    }
    if (batch != &one)
        free(batch);
    return n;
}

/* ---- Group ------------------------------------------------------------ */

green_group_t *green_group_new(void)
{
    struct green_group *gr = calloc(1, sizeof *gr);
    if (gr == NULL)
        errno = ENOMEM;
    return gr;
}

green_t *green_group_spawn(green_group_t *group, green_fn fn, void *arg)
{
    reap(group);
    return spawn_member(group, fn, arg);
}

/* An added greenlet does not run member_main, so a watcher joins it and
 * calls finish() when it dies.  The watcher is the last to let go of the
 * member: green_group_kill may see the greenlet die (and finish it) before
 * the watcher wakes, and green_group_free then leaves the record to it. */
static void *watch(void *arg)
{
    struct member *m = arg;
    green_join(m->g, GREEN_FOREVER);   /* fails only if we are killed */
    m->busy--;
    if (m->group != NULL) {
        if (green_dead(m->g))
            finish(m);
        return NULL;
    }
    /* Given up by green_group_free.  A greenlet still alive here means
     * green_hub_destroy killed us first: the hub frees it. */
    if (green_dead(m->g))
        green_free(m->g);
    free(m);
    return NULL;
}

int green_group_add(green_group_t *group, green_t *g)
{
    reap(group);
    if (green_dead(g)) {
        green_free(g);
        return 0;
    }
    struct member *m = calloc(1, sizeof *m);
    green_t *watcher = m ? green_spawn(watch, m) : NULL;
    if (watcher == NULL) {
        free(m);
        errno = ENOMEM;
        return -1;
    }
    green_set_name(watcher, "group watcher");
    green_detach(watcher);
    m->g = g;
    m->group = group;
    m->busy = 1;                /* the watcher's join */
    link_living(group, m);
    return 0;
}

int green_group_size(const green_group_t *group)
{
    return group->size;
}

int green_group_join(green_group_t *group, double timeout)
{
    double deadline = deadline_of(timeout);
    int keep = find_self(group) ? 1 : 0;
    int rc = 0;
    while (group->size > keep && rc == 0)
        rc = wait_changed(group, deadline);
    int err = errno;
    reap(group);
    errno = err;
    return rc;
}

int green_group_kill(green_group_t *group, double timeout)
{
    double deadline = deadline_of(timeout);
    struct member *self = find_self(group);
    int keep = self ? 1 : 0;
    int rc = 0;
    for (;;) {
        /* Members spawned while we wait (by a member that is unwinding,
         * say) are killed too. */
        while (kill_some(group, self) > 0)
            ;
        if (group->size <= keep || rc != 0)
            break;
        rc = wait_changed(group, deadline);
    }
    int err = errno;
    reap(group);
    errno = err;
    return group->size <= keep ? 0 : rc;
}

void green_group_free(green_group_t *group)
{
    if (group == NULL)
        return;
    if (!green_hub_active()) {
        /* green_hub_destroy() has freed every greenlet: records only. */
        while (group->head) {
            struct member *m = group->head;
            group->head = m->next;
            free(m);
        }
        while (group->dead) {
            struct member *m = group->dead;
            group->dead = m->next;
            free(m);
        }
        free(group);
        return;
    }
    if (group->size > 0 && green_group_kill(group, FREE_GRACE) != 0)
        fprintf(stderr, "green: green_group_free: %d member(s) ignored being "
                        "killed; they are left running on their own\n",
                group->size);
    for (struct member *m = group->head; m; m = m->next)
        m->group = NULL;        /* finish() frees them when they die */
    reap(group);
    /* Dead ones still busy: added members whose watcher has not woken
     * yet.  It frees them (watch). */
    for (struct member *m = group->dead; m; m = m->next)
        m->group = NULL;
    free(group);
}

/* ---- Pool ------------------------------------------------------------- */

green_pool_t *green_pool_new(int size)
{
    struct green_pool *pool = calloc(1, sizeof *pool);
    if (pool == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    pool->group.limit = size > 0 ? size : 0;
    return pool;
}

/* Take w out of the queue of spawners, if it is still there (a spawner
 * that gave up; grant_slots takes out those it serves). */
static void unlink_slot(struct green_group *gr, struct waiter *w)
{
    struct waiter *prev = NULL;
    for (struct waiter *q = gr->slots_head; q; prev = q, q = q->next) {
        if (q != w)
            continue;
        if (prev)
            prev->next = w->next;
        else
            gr->slots_head = w->next;
        if (gr->slots_tail == w)
            gr->slots_tail = prev;
        return;
    }
}

/* Queue up behind the spawners already waiting, and park until a dying
 * member hands us its slot (grant_slots).  Returns 0 with the slot
 * reserved for us, or -1 with errno. */
static int wait_for_slot(struct green_group *gr)
{
    struct waiter w = { green_current(), 0, NULL };
    if (gr->slots_tail)
        gr->slots_tail->next = &w;
    else
        gr->slots_head = &w;
    gr->slots_tail = &w;

    int rc = 0;
    while (!w.granted && rc == 0)
        rc = green_hub_wait(GREEN_FOREVER);  /* 0 without a slot: woken by
                                                someone else, wait again */
    int err = errno;
    unlink_slot(gr, &w);
    if (rc != 0 && w.granted) {
        /* Killed just as a slot came: pass the slot on. */
        gr->reserved--;
        grant_slots(gr);
    }
    errno = err;
    return rc;
}

green_t *green_pool_spawn(green_pool_t *pool, green_fn fn, void *arg)
{
    struct green_group *gr = &pool->group;
    reap(gr);
    if (gr->limit > 0 && (gr->slots_head || gr->size + gr->reserved >= gr->limit)) {
        if (wait_for_slot(gr) != 0)
            return NULL;
        gr->reserved--;         /* the slot is ours: spawn_member fills it */
    }
    green_t *g = spawn_member(gr, fn, arg);
    if (g == NULL) {
        int err = errno;
        grant_slots(gr);        /* the slot we could not use */
        errno = err;
    }
    return g;
}

int green_pool_size(const green_pool_t *pool)
{
    return pool->group.size;
}

int green_pool_free_count(const green_pool_t *pool)
{
    const struct green_group *gr = &pool->group;
    if (gr->limit == 0)
        return INT_MAX;
    int n = gr->limit - gr->size - gr->reserved;
    return n > 0 ? n : 0;
}

int green_pool_join(green_pool_t *pool, double timeout)
{
    return green_group_join(&pool->group, timeout);
}

int green_pool_kill(green_pool_t *pool, double timeout)
{
    return green_group_kill(&pool->group, timeout);
}

void green_pool_free(green_pool_t *pool)
{
    if (pool == NULL)
        return;
    /* green_group_free frees the group record itself: it is the pool's
     * first (and only) field, so that is the pool's memory. */
    green_group_free(&pool->group);
}
