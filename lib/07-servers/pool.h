/*
 * pool.h - chapter 7: groups and pools of greenlets.
 *
 * A Group keeps the greenlets spawned through it, so that they can be
 * waited for (green_group_join) or stopped (green_group_kill) all at once:
 * a server's connection handlers, a crawler's fetchers.  A Pool is a Group
 * with a limit: at most N of its greenlets run at once, and spawning into a
 * full pool waits until one of them finishes.  This is gevent.pool's Group
 * and Pool.
 *
 * Why bound concurrency at all, when greenlets are cheap?  Because what they
 * do is not: each may hold a socket, a buffer, a database connection, or
 * load a backend that answers 10 requests at a time.  A Pool turns "10,000
 * requests arrived" into "at most N are being worked on; the rest wait".
 *
 * Who owns what.  The greenlets a group spawns belong to the group: it
 * frees each one once it has died and nobody of the group's own calls still
 * looks at it.  The pointer green_group_spawn() returns is for naming the
 * greenlet (green_set_name) or reading its state before the caller next
 * waits; do not keep it, join it, kill it or free it yourself.  Members
 * leave the group when their function returns (or when they are killed
 * before they started).
 *
 * Errors, C style, as in hub.h: calls that wait return 0, or -1 with errno
 * ETIMEDOUT (the timeout ran out), ECANCELED (the caller was killed) or
 * EDEADLK (nothing could ever wake the caller).
 *
 * A member may call these functions on its own group: joining or killing
 * "the group" then means every member but itself (waiting for itself would
 * never end).  Free groups and pools before green_hub_destroy().
 */
#ifndef GREEN_POOL_H
#define GREEN_POOL_H

#include "hub.h"

typedef struct green_group green_group_t;
typedef struct green_pool green_pool_t;

/* ---- Group: spawn many, join or kill them together ------------------- */

/* A new, empty group.  Returns NULL with errno ENOMEM.
 * Python: gevent.pool.Group(). */
green_group_t *green_group_new(void);

/* Spawn fn(arg) as a member of the group (see "Who owns what" above).
 * Never waits.  Returns the new greenlet, or NULL with errno ENOMEM.
 * Python: group.spawn(fn, arg). */
green_t *green_group_spawn(green_group_t *group, green_fn_t fn, void *arg);

/* Make g, a greenlet from green_spawn() that the caller owns, a member:
 * the group now owns it (the caller must not join or free it any more) and
 * frees it once it has died.  A g that is already dead is freed at once.
 * Costs a small watcher greenlet that waits for g to die.  Returns 0, or
 * -1 with errno ENOMEM (g stays the caller's).  Python: group.add(g). */
int green_group_add(green_group_t *group, green_t *g);

/* How many members are alive (spawned, or added, and not yet dead).
 * Python: len(group). */
int green_group_size(const green_group_t *group);

/* Wait until every member (but the caller, if it is one) is dead, at most
 * `timeout` seconds.  Returns 0, or -1 with errno ETIMEDOUT, ECANCELED or
 * EDEADLK.  Members spawned while we wait are waited for too.
 * Python: group.join(timeout). */
int green_group_join(green_group_t *group, double timeout);

/* Kill every member (but the caller, if it is one), as green_kill() does:
 * those that have not started never will, the others see their waits fail
 * with ECANCELED.  Then wait up to `timeout` seconds for them all to die.
 * Returns 0 when they are, or -1 with errno ETIMEDOUT (some ignore being
 * killed, or compute without waiting), ECANCELED or EDEADLK.
 * Python: group.kill(timeout=timeout). */
int green_group_kill(green_group_t *group, double timeout);

/* Kill the members still alive, give them up to 1 s to unwind (like
 * green_hub_destroy), then free the group.  Every member is freed, added
 * ones too: those whose watcher has not yet seen them die are freed by it,
 * at the caller's next wait.  A member that ignores being
 * killed for that long is left running on its own, and a warning says so.
 * Must be called from a greenlet that may wait, never from a member.
 * After green_hub_destroy() it only frees memory (the hub has freed the
 * greenlets). */
void green_group_free(green_group_t *group);

/* ---- Pool: a group of at most N running greenlets -------------------- */

/* A new pool that runs at most `size` greenlets at once; size <= 0 means
 * no limit (a Group with a pool's interface).  Returns NULL with errno
 * ENOMEM.  Python: gevent.pool.Pool(size). */
green_pool_t *green_pool_new(int size);

/* Spawn fn(arg) into the pool.  While `size` members are alive, wait until
 * one dies; spawners that wait are served first come, first served, and
 * one that arrives while others wait queues behind them.  Returns the new
 * greenlet (same rules as green_group_spawn), or NULL with errno ECANCELED
 * (killed while waiting), EDEADLK or ENOMEM.  Python: pool.spawn(fn, arg). */
green_t *green_pool_spawn(green_pool_t *pool, green_fn_t fn, void *arg);

/* How many members are alive.  Python: len(pool). */
int green_pool_size(const green_pool_t *pool);

/* How many more could be spawned now without waiting: size minus the
 * members alive (and minus slots already promised to waiting spawners).
 * INT_MAX for a pool without a limit.  Python: pool.free_count(). */
int green_pool_free_count(const green_pool_t *pool);

/* green_group_join / green_group_kill / green_group_free, for a pool.
 * Spawners waiting in green_pool_spawn are not members: kill them
 * yourself if they should stop, and before freeing the pool. */
int green_pool_join(green_pool_t *pool, double timeout);
int green_pool_kill(green_pool_t *pool, double timeout);
void green_pool_free(green_pool_t *pool);

#endif
