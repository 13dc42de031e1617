/*
 * pool.c - chapter 7: groups and pools of greenlets.  See pool.h.
 *
 * A group is a list of member records.  Each member greenlet runs
 * member_main(), a wrapper that calls the user's function and then takes
 * the member out of the list (finish): the group learns of every death
 * without polling.  finish() is also where waiters are woken.  They wait
 * in the hub's list of waiters (wait.h), the one green_join and sync.c
 * use: a node on one of the group's lists, a park, the node off again
 * whatever woke it, all in green__wait.
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
#include "wait.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

/* How long green_group_free lets killed members unwind. */
#define FREE_GRACE 1.0

struct member {
    green_t *g;
    struct green_group *group;  /* NULL once green_group_free gave it up */
    green_fn_t fn;                /* what the member runs (spawned members) */
    void *arg;
    int busy;                   /* our calls joining g: do not free g yet */
    unsigned finished : 1;      /* out of the living list */
    unsigned signalled : 1;     /* green_group_kill has killed it */
    struct member *prev, *next;
};

struct green_group {
    struct member *head, *tail; /* living members, in spawn order */
    struct member *dead;        /* finished; greenlets not freed yet */
    int size;                   /* living members */
    int limit;                  /* pools: at most this many; 0: no limit */
    int reserved;               /* slots handed to spawners not yet back */
    struct green__waitlist changed;  /* joiners and killers */
    struct green__waitlist slots;    /* spawners of a full pool, FIFO */
};

/* Python's Pool is a Group with a limit; so is ours. */
struct green_pool {
    struct green_group group;
};

/* ---- Waking waiters --------------------------------------------------- */

/* Every joiner and killer looks again at the group's size. */
static void wake_changed(struct green_group *gr)
{
    green__wake_all(&gr->changed, NULL);
}

/* Hand every free slot to the spawner at the head of the queue.  The slot
 * is reserved for it, so that a spawner arriving before it runs cannot
 * take the slot from under it (that would break first come, first served). */
static void grant_slots(struct green_group *gr)
{
    while (gr->slots.head && gr->size + gr->reserved < gr->limit) {
        green__wake_one(&gr->slots);
        gr->reserved++;
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

static green_t *spawn_member(struct green_group *gr, green_fn_t fn, void *arg)
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
 * -1 with errno, like green__wait. */
static int wait_changed(struct green_group *gr, double deadline,
                        const char *what)
{
    struct green__waiter w = { 0 };
    return green__wait(&gr->changed, &w, green__time_left(deadline), what);
}

/* Kill, with green_kill, every member not killed yet but `self`.  Returns
 * how many it killed.  green_kill(g, 0) does not wait, but it may finish
 * a member (one killed before it started), which takes it out of the list
 * we walk: so the members are first collected in an array.  `busy` keeps
 * their greenlets from being freed while we still look at them. */
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

green_t *green_group_spawn(green_group_t *group, green_fn_t fn, void *arg)
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
    double deadline = green__deadline(timeout);   /* one for all our waits */
    int keep = find_self(group) ? 1 : 0;
    int rc = 0;
    while (group->size > keep && rc == 0)
        rc = wait_changed(group, deadline, "green_group_join");
    int err = errno;
    reap(group);
    errno = err;
    return rc;
}

int green_group_kill(green_group_t *group, double timeout)
{
    double deadline = green__deadline(timeout);
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
        rc = wait_changed(group, deadline, "green_group_kill");
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

/* Queue up behind the spawners already waiting, and park until a dying
 * member hands us its slot (grant_slots).  Returns 0 with the slot
 * reserved for us, or -1 with errno (killed before any slot came: one
 * that came first wins over the kill, as in every wait of green__wait). */
static int wait_for_slot(struct green_group *gr)
{
    struct green__waiter w = { 0 };
    return green__wait(&gr->slots, &w, GREEN_FOREVER, "green_pool_spawn");
}

green_t *green_pool_spawn(green_pool_t *pool, green_fn_t fn, void *arg)
{
    struct green_group *gr = &pool->group;
    reap(gr);
    if (gr->limit > 0 && (gr->slots.head || gr->size + gr->reserved >= gr->limit)) {
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
