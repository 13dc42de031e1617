/*
 * chat_app.h - chapter 13's application: a chat on chapter 11's server,
 * over WebSocket, long-polling and Server-Sent Events, on the rooms of
 * lib/13-chat/room.h.  Every other route is chapter 9's demo app.
 *
 *   GET  /                     the chat page (STATIC/index.html)
 *   GET  /static/...           its assets (chapter 11's static files)
 *   GET  /ws/echo              WebSocket echo (the conformance endpoint)
 *   GET  /ws/chat?room=R&name=N   WebSocket chat: send {"text": "..."},
 *                              receive every message of the room as
 *                              {"room","name","text","id","time"}: the
 *                              last CHAT_HISTORY first, then live
 *   GET  /poll?room=R&since=ID the messages after ID as a JSON array,
 *                              waiting up to chat.poll_timeout for one
 *   GET  /events?room=R        Server-Sent Events, one event per message
 *                              (`id:` its id), resumed after Last-Event-ID
 *   POST /send?room=R&name=N   body {"text": "..."}: 200 {"id": N}; 400
 *                              bad JSON or no text, 413 text too long,
 *                              429 over the rate limit
 *
 * Join and leave notices are messages with name "" and text "N joined"
 * or "N left".  A room is [A-Za-z0-9_-], 1 to 32 bytes (room.h); a name
 * is 1 to 32 bytes of UTF-8 without control characters.  A name with
 * markup ("<b>eve</b>") is kept as it is, and jansson escapes it as JSON:
 * the page must show it with textContent, never innerHTML.
 *
 * How a WebSocket chat connection ends, by its close code:
 *   1000  the client closed
 *   1001  "going away": the server stops
 *   1003  a binary message, or text that is not {"text": "..."}
 *   1007  text that is not UTF-8 (lib/13-ws checks it as it arrives)
 *   1008  "too many messages": over the rate limit (CHAT_RATE a second,
 *         bursts of 2 x CHAT_RATE)
 *   1009  a frame over CHAT_MAX_MESSAGE bytes, or a text over 4096
 *   4000  "fell behind": the room overwrote messages this client had
 *         not been sent yet (a client that does not read); it may
 *         reconnect, and gets the history again
 *
 * JSON is parsed and written by jansson, never by hand: a chat parses
 * what strangers send.
 */
#ifndef CHAT_APP_H
#define CHAT_APP_H

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "green.h"
#include "../09-wsgi/demo_app.h"

#define CHAT_HISTORY 50              /* messages a client gets on joining */
#define CHAT_RATE 10.0               /* messages a second, per client */
#define CHAT_MAX_MESSAGE (16 * 1024) /* a WebSocket message: 4096 bytes of
                                        text, escaped as JSON, fit */
#define CHAT_POLL_MAX 100            /* messages in one /poll answer */
#define CHAT_HEARTBEAT 15.0          /* an SSE comment after this silence,
                                        so that proxies keep the stream */
#define CHAT_SEND_BUCKETS 1024       /* POST /send's rate limits (below) */

/* What a server may change (chapters/13-chat/server.c's options; the
 * tests make the waits short). */
struct chat_config {
    const char *static_dir;      /* where index.html is */
    double poll_timeout;         /* how long /poll waits for a message */
    double rate;                 /* messages a second per client */
    double ws_timeout;           /* a WebSocket silent this long (pings
                                    unanswered) or that takes no byte of
                                    ours this long is closed */
};
static struct chat_config chat = {
    .static_dir = "chapters/13-chat/static",
    .poll_timeout = 25.0,
    .rate = CHAT_RATE,
    .ws_timeout = 60.0,
};

/* ---- JSON, both ways (jansson) ------------------------------------------ */

/* A message as JSON: {"room","name","text","id","time"}. */
static json_t *chat_object(const green_room_msg_t *m)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:f}", "room", m->room, "name", m->name,
                     "text", m->text, "id", (json_int_t)m->id, "time", m->time);
}

/* o as text (malloc'ed, or NULL), and o released. */
static char *chat_dump(json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

static char *chat_json(const green_room_msg_t *m)
{
    return chat_dump(chat_object(m));
}

/* The text of {"text": "..."}, in *text, valid while the returned object
 * lives (json_decref it); NULL when data is anything else. */
static json_t *chat_parse(const char *data, size_t len, const char **text)
{
    json_t *o = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *t = json_object_get(o, "text");     /* NULL when o is not an object */
    if (!json_is_string(t)) {
        json_decref(o);
        return NULL;
    }
    *text = json_string_value(t);
    return o;
}

/* ---- Who and where: the query's room and name --------------------------- */

/* 1 to 32 bytes of UTF-8, no control characters (a name is shown on
 * one line, in every other client). */
static int chat_name_ok(const char *name, size_t n)
{
    if (n == 0 || n > GREEN_ROOM_NAME_MAX || !green_utf8_valid(name, n))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return 0;
    return 1;
}

/* The room of ?room=R (made on first use), and with name not NULL the
 * poster of ?name=N into name[GREEN_ROOM_NAME_MAX + 1].  NULL when both
 * are fine, else why not, for a 400. */
static const char *chat_where(green_environ_t *env, green_room_t **room, char *name)
{
    char r[GREEN_ROOM_NAME_MAX + 1];
    if (green_query_param(env, "room", r, sizeof r) < 0 || !(*room = green_room_get(r)))
        return "room: 1 to 32 characters of A-Z a-z 0-9 _ -\n";
    if (!name)
        return NULL;
    ssize_t n = green_query_param(env, "name", name, GREEN_ROOM_NAME_MAX + 1);
    if (n < 0 || !chat_name_ok(name, (size_t)n))
        return "name: 1 to 32 bytes of UTF-8, no control characters\n";
    return NULL;
}

/* ---- Rate limits: a token bucket per client ------------------------------ */

/* Tokens drip in at chat.rate a second up to a burst of twice that; a
 * message takes one.  So a person typing is never limited, and a script
 * flooding gets chat.rate messages a second at most. */
struct chat_bucket {
    double tokens, stamp;
};

static int chat_allow(struct chat_bucket *b)
{
    double now = green_now(), burst = 2 * chat.rate;
    b->tokens = b->stamp == 0 ? burst : b->tokens + (now - b->stamp) * chat.rate;
    if (b->tokens > burst)
        b->tokens = burst;
    b->stamp = now;
    if (b->tokens < 1)
        return 0;
    b->tokens -= 1;
    return 1;
}

/* POST /send has no connection to keep a bucket in: it is found by the
 * client's address and name in a fixed table.  Two clients that land on
 * one bucket share its limit (they are limited sooner, never later), and
 * the table's memory is the same whatever strangers send. */
static _Thread_local struct chat_bucket chat_send_buckets[CHAT_SEND_BUCKETS];

static struct chat_bucket *chat_send_bucket(const char *addr, const char *name)
{
    unsigned h = 2166136261u;               /* FNV-1a */
    for (const char *p = addr; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return &chat_send_buckets[h % CHAT_SEND_BUCKETS];
}

/* ---- Stopping: every waiting reader ends at once ------------------------- */

/* A stopping server closes the rooms: each reader waiting in
 * green_room_next wakes with ESHUTDOWN, so long-polls answer, streams end
 * and WebSockets close 1001 within the grace period instead of being
 * killed at its end.  server.c does it when its server stops; a pre-fork
 * worker (chapter 12) learns of its graceful stop by SIGTERM only, so the
 * app watches SIGTERM on the hub of its first chat request.  Not SIGINT:
 * a worker must die of it at once (chapter 12's master forwards Ctrl-C). */
static _Thread_local green_signal_t *chat_signals;

static void chat_on_stop(int signum, void *arg)
{
    (void)signum, (void)arg;
    green_room_close_all();
}

static void chat_forget_signals(void *arg)
{
    (void)arg;
    green_signal_cancel_all(&chat_signals);
}

static void chat_watch_stop(void)
{
    if (chat_signals)
        return;
    green_signal_add(&chat_signals, SIGTERM, chat_on_stop, NULL);
    green_hub_at_destroy(chat_forget_signals, NULL);
}

/* ---- Answers ------------------------------------------------------------ */

static green_body_t chat_text(green_response_t *resp, const char *status, const char *text)
{
    return demo_text(resp, status, "text/plain; charset=utf-8", text);
}

/* A JSON body (taken over: freed with the body). */
static green_body_t chat_json_body(green_response_t *resp, const char *status, char *json)
{
    if (!json)
        return chat_text(resp, "500 Internal Server Error", "out of memory\n");
    green_header_t h[] = { { "Content-Type", "application/json" },
                           { "Cache-Control", "no-store" } };
    green_start_response(resp, status, h, 2);
    return green_body_take(json, strlen(json));
}

/* GET / : the page, from the static folder. */
static green_body_t chat_page(green_response_t *resp)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/index.html", chat.static_dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        if (fd >= 0)
            close(fd);
        return chat_text(resp, "404 Not Found", "no chat page here: see --static DIR\n");
    }
    green_header_t h[] = { { "Content-Type", "text/html; charset=utf-8" } };
    green_start_response(resp, "200 OK", h, 1);
    return green_body_file(fd, 0, st.st_size);
}

/* A reader's cursor from what it says it has seen (?since=, Last-Event-ID),
 * kept inside what the room holds: below the oldest message kept it starts
 * there (what was overwritten is gone), past the newest (a server that
 * restarted and counts from 1 again) it starts at the newest.  Nothing
 * said: the last CHAT_HISTORY messages. */
static int64_t chat_cursor_from(const green_room_t *room, const char *seen)
{
    char *end;
    if (!seen || !*seen)
        return green_room_cursor(room, CHAT_HISTORY);
    long long id = strtoll(seen, &end, 10);
    int64_t oldest = green_room_cursor(room, GREEN_ROOM_CAPACITY);
    if (*end || id < oldest)
        return oldest;
    return id > green_room_last_id(room) ? green_room_last_id(room) : id;
}

#include "chat_ws.h"
#include "chat_http.h"

static green_body_t chat_call(green_app_t *self, green_environ_t *env,
                              green_response_t *resp)
{
    const char *m = env->method, *p = env->path;
    int get = strcmp(m, "GET") == 0;
    chat_watch_stop();

    if (strcmp(p, "/") == 0 && (get || strcmp(m, "HEAD") == 0))
        return chat_page(resp);
    if (strcmp(p, "/ws/echo") == 0) {
        green_body_t body;
        green_ws_accept(env, resp, green_ws_echo, NULL, &body);
        return body;
    }
    if (strcmp(p, "/ws/chat") == 0)
        return chat_ws_route(env, resp);
    if (strcmp(p, "/poll") == 0 && get)
        return chat_poll(env, resp);
    if (strcmp(p, "/events") == 0 && get)
        return chat_events(env, resp);
    if (strcmp(p, "/send") == 0 && strcmp(m, "POST") == 0)
        return chat_send(env, resp);
    (void)self;
    return green_app_call(&demo_app, env, resp);    /* /echo, /stream, /sleep... */
}

static green_app_t chat_app = { chat_call };

#endif
