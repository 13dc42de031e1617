/*
 * chat_ws.h - chapter 13: /ws/chat, a WebSocket client of a room
 * (included by chat_app.h, which it needs).
 *
 * A chat client waits for two things at once: its socket (what the
 * person types) and its room (what the others type).  A thread would
 * poll both, or take a lock around a shared queue; here each wait gets a
 * greenlet of its own, and each is a plain loop:
 *
 *     reader (the connection's greenlet)     writer (spawned)
 *       for (;;)                               for (;;)
 *           green_ws_recv  -> JSON               green_room_next -> JSON
 *           green_room_post                      green_ws_send
 *
 * The writer's cursor is its place in the room: the room never waits for
 * it, and a writer that falls behind is told (ENOBUFS) and closes 4000.
 * The two end each other: when the reader ends (the client closed), it
 * kills the writer; when the writer ends, it closes the WebSocket, and
 * the client's answering close ends the reader (or, when the socket is
 * dead, a shutdown() does).
 *
 * Both send on one connection: the writer the room's messages, the
 * reader its close frames and, inside green_ws_recv, pongs.  A frame must
 * leave whole before the next starts, even when a send waits on a full
 * socket: that is the WebSocket layer's job (ws.h, one connection and two
 * greenlets), not this file's.
 */
#ifndef CHAT_WS_H
#define CHAT_WS_H

#define CHAT_CLOSE_BEHIND 4000       /* our own code (4000-4999: private use) */
#define CHAT_SNDBUF (64 * 1024)      /* the kernel's buffer for a client (it
                                        doubles it): see chat_ws */

struct chat_client {
    green_room_t *room;
    char name[GREEN_ROOM_NAME_MAX + 1];
    int fd;
    green_ws_t *ws;
    int64_t cursor;              /* the writer's place in the room */
    struct chat_bucket bucket;   /* the reader's rate limit */
};

/* A notice from the room itself: name "", text "NAME joined". */
static void chat_notice(struct chat_client *c, const char *what)
{
    char text[GREEN_ROOM_NAME_MAX + 16];
    snprintf(text, sizeof text, "%s %s", c->name, what);
    green_room_post(c->room, "", text);     /* at a stop it fails: nobody is left */
}

/* ---- The writer: the room, to the client ----------------------------------- */

static int chat_send_msg(struct chat_client *c, const green_room_msg_t *m)
{
    char *json = chat_json(m);
    int rc = json ? green_ws_send(c->ws, GREEN_WS_TEXT, json, strlen(json)) : -1;
    int err = errno;
    free(json);
    errno = err;
    return rc;
}

static void *chat_writer(void *arg)
{
    struct chat_client *c = arg;
    green_room_msg_t *m;
    while (green_room_next(c->room, &c->cursor, &m, GREEN_FOREVER) == 0) {
        int rc = chat_send_msg(c, m);
        green_room_msg_unref(m);
        if (rc < 0) {
            /* EPIPE: the reader closed the WebSocket (a flood, say) and
             * waits for the client's answer: nothing more to send.  Else
             * the client took no byte for ws_timeout, or is gone: end
             * the reader's wait too. */
            if (errno != EPIPE)
                shutdown(c->fd, SHUT_RDWR);
            return NULL;
        }
    }
    if (errno == ENOBUFS)
        green_ws_close(c->ws, CHAT_CLOSE_BEHIND, "fell behind");
    else if (errno == ESHUTDOWN)
        green_ws_close(c->ws, 1001, "going away");
    return NULL;                 /* ECANCELED: the reader ended, and killed us */
}

/* ---- The reader: the client, to the room ----------------------------------- */

/* One message from the client.  0, or the close code that refuses it. */
static int chat_take(struct chat_client *c, int opcode, const char *data, size_t n,
                     const char **why)
{
    const char *text;
    json_t *o = opcode == GREEN_WS_TEXT ? chat_parse(data, n, &text) : NULL;
    int code = 0;
    if (!o) {
        code = 1003;
        *why = "send {\"text\": \"...\"}";
    } else if (strlen(text) > GREEN_ROOM_TEXT_MAX) {
        code = 1009;
        *why = "text over 4096 bytes";
    } else if (!chat_allow(&c->bucket)) {
        code = 1008;
        *why = "too many messages";
    } else if (*text && green_room_post(c->room, c->name, text) < 0 && errno == EINVAL) {
        code = 1003;
        *why = "text not accepted";
    }
    json_decref(o);
    return code;
}

static void chat_reader(struct chat_client *c)
{
    int opcode;
    const char *data, *why = NULL;
    size_t n;
    while (green_ws_recv(c->ws, &opcode, &data, &n) > 0) {
        int code = chat_take(c, opcode, data, n, &why);
        if (code == 0)
            continue;
        green_ws_close(c->ws, code, why);
        /* Until the client answers our close: what it sends meanwhile
         * is read and dropped, so that closing the socket with unread
         * bytes does not reset the connection under our close frame. */
        while (green_ws_recv(c->ws, &opcode, &data, &n) > 0)
            ;
        return;
    }
}

/* ---- The connection ---------------------------------------------------------- */

/* The takeover (ws.h): runs in the connection's greenlet once the 101 is
 * out.  The history comes first: the cursor is taken before the join
 * notice, so a client sees its own "joined" after the history. */
static void chat_ws(int fd, const char *data, size_t len, void *arg)
{
    struct chat_client *c = arg;
    green_ws_options_t opt = { .max_message = CHAT_MAX_MESSAGE, .timeout = chat.ws_timeout,
                               .ping_interval = chat.ws_timeout / 3 };
    /* Left to itself, Linux grows a socket's send buffer up to 4 MiB
     * (tcp_wmem): a client that stops reading would hold megabytes of
     * kernel memory before its writer even waited, and the ring would
     * never lap it.  A fixed buffer bounds what a slow client costs. */
    int sndbuf = CHAT_SNDBUF;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    c->fd = fd;
    c->ws = green_ws_open(fd, data, len, &opt);
    c->cursor = green_room_cursor(c->room, CHAT_HISTORY);
    green_t *writer = c->ws ? green_spawn(chat_writer, c) : NULL;
    if (writer) {
        green_set_name(writer, "chat writer");
        chat_notice(c, "joined");
        chat_reader(c);
        chat_notice(c, "left");
        /* A killed greenlet's kill and join fail at once (ECANCELED): the
         * writer then still has to run to its end, and it uses c. */
        if (green_kill(writer, GREEN_FOREVER) < 0)
            while (!green_dead(writer))
                green_sleep(0);
        green_free(writer);
    }
    green_ws_free(c->ws);
    free(c);
}

/* GET /ws/chat?room=R&name=N.  The client struct goes to the takeover,
 * which frees it.  (If the 101 cannot be written, the client being gone,
 * chapter 11 never calls the takeover and the struct is lost: server.h's
 * takeover has no "never mind" call.) */
static green_body_t chat_ws_route(green_environ_t *env, green_response_t *resp)
{
    struct chat_client *c = calloc(1, sizeof *c);
    if (!c)
        return chat_text(resp, "500 Internal Server Error", "out of memory\n");
    const char *why = chat_where(env, &c->room, c->name);
    if (why) {
        free(c);
        return chat_text(resp, "400 Bad Request", why);
    }
    green_body_t body;
    if (green_ws_accept(env, resp, chat_ws, c, &body) < 0)
        free(c);
    return body;
}

#endif
