/*
 * room_redis.h - chapter 13: chat rooms shared by every process (chapter
 * 12's workers) and every machine, through Redis pub/sub.
 *
 * With several workers, the clients of one room land on different
 * processes, each with its own rooms (room.h).  The bridge makes them one:
 *
 *   post (any worker)                            every worker, this one too
 *   green_room_post -> publisher hook -> Redis -> subscriber greenlet
 *                      EVAL: INCR chat:ROOM:id     PSUBSCRIBE chat:*
 *                            PUBLISH chat:ROOM     green_room_append
 *
 * One Lua script gives the message its id and publishes it, atomically
 * (Redis runs one script at a time): so the order messages are published
 * in is the order of their ids, and every worker appends them in that
 * order, with the same ids.  The poster gets no special treatment: its
 * own message comes back to it through Redis like everyone else's, so
 * every worker's room holds the same messages in the same order.  On the
 * wire a message is "ID TIME NAME\0TEXT" on channel chat:ROOM (TIME is
 * Redis's clock, NAME holds no NUL, TEXT is the rest).
 *
 * Redis down, or gone.  Posts are appended locally, and each worker serves
 * its own clients alone; ONE line on stderr says so (each worker its own)
 *     process 2325: redis 127.0.0.1:6379 unreachable (Connection refused): serving this worker's clients alone; reconnecting
 * The subscriber reconnects with back-off (0.05 s, doubling, at most 1 s)
 * and, once it has, says so once
 *     process 2325: redis 127.0.0.1:6379 reachable again: rooms shared with the other workers
 * and posts go through Redis again.
 * The rooms' publisher stays set meanwhile, and appends the posts here
 * itself, rather than being removed: so the bridge sees every room that
 * gets a message, which the id rules below need.
 *
 * Ids after an outage.  Meanwhile each worker went on numbering locally
 * from its own last id: two workers may both have a message 42, and they
 * are different messages (a long-poll client that moves between them with
 * since=42 may miss or repeat some of those: an outage is not invisible).
 * Redis may come back empty (a restart without persistence: the counters
 * start again from 0), and green_room_append ignores every id at or below
 * a room's last: a worker whose rooms are ahead would then drop every
 * message until the counter caught up.  Two rules keep ids increasing in
 * every worker:
 *   - on reconnecting, before it subscribes, a worker raises each room's
 *     counter in Redis to at least its own last id (SET if greater);
 *   - every post carries the poster's last id, and the script gives the
 *     message max(counter + 1, last + 1).
 * So after the outage, ids go on from the highest any worker reached, the
 * gap is harmless (room.h: an id ahead is taken as it is), and nothing a
 * worker receives is mistaken for a duplicate.  What is lost: messages
 * published while a worker was disconnected never reach it (pub/sub keeps
 * nothing); its clients see them missing, not late.
 *
 * The rooms the bridge knows are those it saw (a post, a message): start
 * the bridge before the first post.  Like rooms, the bridge belongs to the
 * thread (the hub) that started it: with chapter 12's workers, start it in
 * each worker, after the fork.
 */
#ifndef GREEN_ROOM_REDIS_H
#define GREEN_ROOM_REDIS_H

/* Share this thread's rooms through the Redis server at url
 * ("redis://HOST:PORT", redis.h): sets the rooms' publisher (room.h) and
 * spawns the subscriber greenlet, which delivers every room's messages
 * through green_room_append.  Returns at once, connected or not: Redis
 * down at start is an outage like any other (the line above, then
 * reconnecting).  Returns 0, or -1 with errno EINVAL (a bad URL), EALREADY
 * (already started on this thread) or ENOMEM. */
int green_room_redis_start(const char *url);

/* 1 while posts go through Redis (connected and subscribed), 0 while
 * this thread's rooms serve locally (an outage, not yet connected, not
 * started): for a status page, and for tests that must not post before
 * the bridge is up. */
int green_room_redis_shared(void);

/* Stop sharing: remove the publisher, stop the subscriber greenlet, close
 * the connections.  Rooms keep their messages and serve locally.  Call it
 * from a greenlet (main too), not from the hub (a signal's handler).
 * Nothing when not started.  A program that ends with green_hub_destroy
 * need not call it (a worker of chapter 12 ends so): the hub kills the
 * bridge's greenlets, which close their connections, and the bridge
 * frees the rest then (green_hub_at_destroy). */
void green_room_redis_stop(void);

#endif
