/*
 * chat_http.h - chapter 13: the same rooms for browsers without
 * WebSocket (included by chat_app.h, which it needs).
 *
 *   /poll     long-polling: one request per batch of messages.  It waits
 *             in green_room_next like a WebSocket's writer, and answers
 *             as soon as there is something: a JSON array.
 *   /events   Server-Sent Events: one response that never ends, a
 *             generator body (chapter 9) that yields an event per
 *             message; chapter 11 sends each chunk as it comes.
 *   /send     how those two clients talk: a POST per message.
 */
#ifndef CHAT_HTTP_H
#define CHAT_HTTP_H

/* ---- GET /poll?room=R&since=ID -------------------------------------------- */

/* Wait up to poll_timeout for the first message, then take what else is
 * there without waiting: one answer carries a whole burst. */
static green_body_t chat_poll(green_environ_t *env, green_response_t *resp)
{
    green_room_t *room;
    const char *why = chat_where(env, &room, NULL);
    if (why)
        return chat_text(resp, "400 Bad Request", why);
    char since[24];
    int64_t cursor = chat_cursor_from(room, green_query_param(env, "since", since, sizeof since) > 0
                                            ? since : NULL);
    json_t *list = json_array();
    green_room_msg_t *m;
    double wait = chat.poll_timeout;
    while (list && json_array_size(list) < CHAT_POLL_MAX &&
           green_room_next(room, &cursor, &m, wait) == 0) {
        json_array_append_new(list, chat_object(m));
        green_room_msg_unref(m);
        wait = 0;
    }
    return chat_json_body(resp, "200 OK", chat_dump(list));
}

/* ---- GET /events?room=R ------------------------------------------------------- */

/* The stream's state: a stackless generator's locals live here. */
struct chat_events {
    green_gen_t gen;
    green_room_t *room;
    int64_t cursor;
    char *event;                 /* the chunk being sent (malloc'ed) */
    green_chunk_t chunk;
};

/* An SSE event: "id: N\ndata: JSON\n\n" (JSON has no newline to split). */
static int chat_event_of(struct chat_events *s, const green_room_msg_t *m)
{
    char *json = chat_json(m);
    free(s->event);
    s->event = NULL;
    if (json && asprintf(&s->event, "id: %lld\ndata: %s\n\n", (long long)m->id, json) < 0)
        s->event = NULL;
    free(json);
    return s->event ? 0 : -1;
}

static void chat_yielding(struct chat_events *s, const char *text)
{
    s->chunk = (green_chunk_t){ text, strlen(text) };
}

/* The first chunk goes at once (chapter 11 sends the head with it, and
 * EventSource waits for the head); then an event per message, and a
 * comment line after CHAT_HEARTBEAT of silence.  A reader that fell
 * behind, or a server that stops, ends the stream: EventSource
 * reconnects by itself, with Last-Event-ID. */
static int chat_events_step(green_gen_t *g)
{
    struct chat_events *s = (struct chat_events *)g;
    green_room_msg_t *m;
    GREEN_GEN_BEGIN(g);
    chat_yielding(s, "retry: 2000\n\n");
    GREEN_GEN_YIELD(g, &s->chunk);
    for (;;) {
        if (green_room_next(s->room, &s->cursor, &m, CHAT_HEARTBEAT) == 0) {
            int rc = chat_event_of(s, m);
            green_room_msg_unref(m);
            if (rc < 0)
                break;
            chat_yielding(s, s->event);
        } else if (errno == ETIMEDOUT) {
            chat_yielding(s, ": heartbeat\n\n");
        } else {
            break;               /* ENOBUFS, ESHUTDOWN, ECANCELED */
        }
        GREEN_GEN_YIELD(g, &s->chunk);
    }
    GREEN_GEN_END(g);
}

static void chat_events_close(green_body_t *b)
{
    struct chat_events *s = b->data;
    free(s->event);
    free(s);
}

static green_body_t chat_events(green_environ_t *env, green_response_t *resp)
{
    green_room_t *room;
    const char *why = chat_where(env, &room, NULL);
    if (why)
        return chat_text(resp, "400 Bad Request", why);
    struct chat_events *s = calloc(1, sizeof *s);
    if (!s)
        return chat_text(resp, "500 Internal Server Error", "out of memory\n");
    s->room = room;
    s->cursor = chat_cursor_from(room, green_environ_header(env, "Last-Event-ID"));
    green_gen_init(&s->gen, chat_events_step);
    green_header_t h[] = { { "Content-Type", "text/event-stream" },
                           { "Cache-Control", "no-store" },
                           { "X-Accel-Buffering", "no" } };   /* nginx: pass each event on */
    green_start_response(resp, "200 OK", h, 3);
    return green_body_gen(&s->gen, chat_events_close, s);
}

/* ---- POST /send?room=R&name=N ---------------------------------------------- */

static green_body_t chat_send(green_environ_t *env, green_response_t *resp)
{
    green_room_t *room;
    char name[GREEN_ROOM_NAME_MAX + 1];
    const char *why = chat_where(env, &room, name);
    if (why)
        return chat_text(resp, "400 Bad Request", why);
    size_t len;
    char *body = green_input_read_all(env->input, CHAT_MAX_MESSAGE, &len);
    if (!body)
        return errno == EMSGSIZE ? chat_text(resp, "413 Content Too Large", "a message is at most 4096 bytes\n")
                                 : chat_text(resp, "400 Bad Request", "could not read the body\n");
    const char *text;
    json_t *o = chat_parse(body, len, &text);
    free(body);
    green_body_t answer;
    int64_t id;
    if (!o || !*text)
        answer = chat_text(resp, "400 Bad Request", "send {\"text\": \"...\"}, text not empty\n");
    else if (strlen(text) > GREEN_ROOM_TEXT_MAX)
        answer = chat_text(resp, "413 Content Too Large", "a message is at most 4096 bytes\n");
    else if (!chat_allow(chat_send_bucket(env->remote_addr, name)))
        answer = chat_text(resp, "429 Too Many Requests", "too many messages: slow down\n");
    else if ((id = green_room_post(room, name, text)) < 0)
        answer = chat_text(resp, errno == EINVAL ? "400 Bad Request" : "503 Service Unavailable",
                           "the message was not posted\n");
    else
        answer = chat_json_body(resp, "200 OK", chat_dump(json_pack("{s:I}", "id", (json_int_t)id)));
    json_decref(o);
    return answer;
}

#endif
