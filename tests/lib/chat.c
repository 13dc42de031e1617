/*
 * tests/lib/chat.c - chapter 13's chat over the wire: its application
 * (chapters/13-chat/chat_app.h) on chapter 11's server, in a child of the
 * test, talked to by plain blocking clients: WebSocket clients written
 * here on raw sockets, HTTP/1.0 requests for /poll, /send and /events.
 *
 * What is checked: two WebSocket clients see each other's messages with
 * increasing ids, history and join/leave notices; /poll answers after a
 * post and times out empty; /events resumes exactly after Last-Event-ID;
 * POST /send reaches a WebSocket client; bad JSON, oversized messages and
 * floods are refused with their status or close code; a client that
 * stops reading is dropped (4000) while the room keeps serving the
 * others; SIGTERM ends WebSockets (1001), long-polls and streams at once.
 * Bounds are generous (seconds): these tests say what happens, never how
 * fast, so they pass on a slow or loaded machine.
 */
#include "harness.h"
#include "green.h"
#include "../../chapters/13-chat/chat_app.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define APP "chapters/13-chat/chat_app.h"
#define T 10.0                  /* the bound on anything awaited */

static pid_t child;
static int port;
static char static_dir[64];

/* ---- The chat, in a child of the test ------------------------------------- */

/* What the next start_chat() serves with: tests change it first. */
static struct chat_config config = { .poll_timeout = 25, .rate = 1000, .ws_timeout = 60 };

/* The child's whole life: server.c's serve_alone, reporting its port. */
static void serve(int report)
{
    chat = config;
    chat.static_dir = static_dir;
    green_http_options_t opt = { .static_dir = static_dir };
    green_http_server_t *http = green_http_server_new("127.0.0.1", "0", &chat_app, &opt);
    green_server_t *core = http ? green_http_server_core(http) : NULL;
    if (!core || green_server_start(core) < 0)
        _exit(3);
    green_server_close_on_signal(core, SIGTERM);
    int p = green_server_port(core);
    if (write(report, &p, sizeof p) != sizeof p)
        _exit(3);
    close(report);
    green_server_serve_forever(core);
    green_room_close_all();
    int killed = green_server_stop(core, 5.0);
    green_http_server_free(http);
    green_room_free_all();
    green_hub_destroy();
    _exit(killed == 0 ? 0 : 4);
}

static void make_static_dir(void)
{
    snprintf(static_dir, sizeof static_dir, "/tmp/kit-chat-XXXXXX");
    ck_assert_msg(mkdtemp(static_dir), "mkdtemp: %s", strerror(errno));
    char path[128];
    snprintf(path, sizeof path, "%s/index.html", static_dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("<!doctype html><title>chat</title>\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/app.js", static_dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("// the page's script\n", f);
    fclose(f);
}

static void start_chat(void)
{
    signal(SIGPIPE, SIG_IGN);   /* a write to a closed connection fails a check, with its why */
    make_static_dir();
    int p[2];
    ck_assert(pipe(p) == 0);
    child = fork();
    ck_assert_msg(child >= 0, "fork: %s", strerror(errno));
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);       /* a test that fails takes it along */
        close(p[0]);
        serve(p[1]);
    }
    close(p[1]);
    ck_assert_msg(read(p[0], &port, sizeof port) == sizeof port,
                  "the chat server did not start (see its messages above)");
    close(p[0]);
}

/* Wait up to `within` seconds for the child to exit; its status, or -1. */
static int wait_child(double within)
{
    int status;
    for (double waited = 0; waited < within; waited += 0.01) {
        if (waitpid(child, &status, WNOHANG) == child)
            return status;
        kit_nap(0.01);
    }
    return -1;
}

static void remove_static_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", static_dir);
    ck_assert(system(cmd) == 0);
}

static void stop_chat(void)
{
    kill(child, SIGTERM);
    int status = wait_child(T);
    if (status < 0) {
        kill(child, SIGKILL);
        waitpid(child, &status, 0);
        ck_abort_msg("the chat server did not stop within %.0f s of SIGTERM", T);
    }
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the chat server should stop "
                  "cleanly at SIGTERM (exit 0, nothing killed), got status %#x", status);
    remove_static_dir();
}

/* ---- Plain HTTP --------------------------------------------------------------- */

/* A connection to the chat whose reads give up after T seconds; with
 * rcvbuf > 0, a receive buffer that small (a client that reads slowly). */
static int dial(int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert(fd >= 0);
    struct timeval tv = { (time_t)T, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (rcvbuf)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_msg(connect(fd, (struct sockaddr *)&a, sizeof a) == 0, "connect: %s", strerror(errno));
    return fd;
}

static void send_all(int fd, const void *data, size_t n)
{
    const char *p = data;
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        ck_assert_msg(k > 0, "write to the chat: %s", strerror(errno));
        p += k;
        n -= (size_t)k;
    }
}

/* Send an HTTP/1.0 request (the answer ends when the server closes). */
static int request(const char *method, const char *target, const char *headers, const char *body)
{
    int fd = dial(0);
    char head[1024];
    int n = snprintf(head, sizeof head, "%s %s HTTP/1.0\r\nHost: t\r\n%sContent-Length: %zu\r\n\r\n",
                     method, target, headers ? headers : "", body ? strlen(body) : 0);
    send_all(fd, head, (size_t)n);
    if (body)
        send_all(fd, body, strlen(body));
    return fd;
}

/* The whole answer into buf; its status.  body (may be NULL): where the
 * body starts. */
static int answer(int fd, char *buf, size_t size, char **body)
{
    int status = kit_read_response(fd, buf, size);
    close(fd);
    char *b = strstr(buf, "\r\n\r\n");
    if (body)
        *body = b ? b + 4 : buf + strlen(buf);
    return status;
}

static int http(const char *method, const char *target, const char *body, char *buf, size_t size,
                char **out)
{
    return answer(request(method, target, NULL, body), buf, size, out);
}

/* POST /send; the status. */
static int post(const char *room, const char *name, const char *json)
{
    char target[256], buf[4096];
    snprintf(target, sizeof target, "/send?room=%s&name=%s", room, name);
    return http("POST", target, json, buf, sizeof buf, NULL);
}

/* ---- A WebSocket client on a raw socket ------------------------------------- */

struct ws {
    int fd;
    unsigned char buf[1 << 16];
    size_t len;
};

static int ws_need(struct ws *c, size_t n)
{
    while (c->len < n) {
        ssize_t k = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
        if (k <= 0)
            return -1;
        c->len += (size_t)k;
    }
    return 0;
}

static void ws_consume(struct ws *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

/* Connect to target and do the handshake: the client, or NULL with the
 * refusal's status line in why. */
static struct ws *ws_open_with(const char *target, int rcvbuf)
{
    struct ws *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    c->fd = dial(rcvbuf);
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n", target);
    send_all(c->fd, req, (size_t)n);
    unsigned char *end;
    while (!(end = memmem(c->buf, c->len, "\r\n\r\n", 4)))
        ck_assert_msg(ws_need(c, c->len + 1) == 0, "%s: the handshake's answer did not come", target);
    ck_assert_msg(memcmp(c->buf, "HTTP/1.1 101 ", 13) == 0, "%s: expected 101, got %.*s", target,
                  (int)(end - c->buf), c->buf);
    ws_consume(c, (size_t)(end + 4 - c->buf));
    return c;
}

static struct ws *ws_open(const char *target) { return ws_open_with(target, 0); }

/* A masked client frame. */
static void ws_frame(struct ws *c, int opcode, const void *data, size_t n)
{
    static unsigned char out[GREEN_WS_MAX_HEADER + 4 + (1 << 17)];
    ck_assert(n <= 1 << 17);
    int h = green_ws_frame_header(out, 1, opcode, n);
    out[1] |= 0x80;
    memcpy(out + h, "\x11\x22\x33\x44", 4);
    memcpy(out + h + 4, data, n);
    green_ws_unmask(out + h + 4, n, (const unsigned char *)"\x11\x22\x33\x44", 0);
    send_all(c->fd, out, (size_t)h + 4 + n);
}

static void ws_say(struct ws *c, const char *text)
{
    json_t *o = json_pack("{s:s}", "text", text);
    char *s = json_dumps(o, JSON_COMPACT);
    ws_frame(c, GREEN_WS_TEXT, s, strlen(s));
    free(s);
    json_decref(o);
}

/* The next data or close frame (pings answered on the way): its opcode,
 * its payload NUL-terminated in payload[size]; -1 at the end. */
static int ws_read(struct ws *c, char *payload, size_t size)
{
    for (;;) {
        if (ws_need(c, 2) < 0)
            return -1;
        size_t ext = (c->buf[1] & 0x7f) == 126 ? 2 : (c->buf[1] & 0x7f) == 127 ? 8 : 0;
        if (ws_need(c, 2 + ext) < 0)
            return -1;
        size_t len = ext ? 0 : c->buf[1] & 0x7f;
        for (size_t i = 0; i < ext; i++)
            len = len << 8 | c->buf[2 + i];
        ck_assert_msg(2 + ext + len <= sizeof c->buf && len < size, "a frame of %zu bytes is too big "
                      "for this test", len);
        if (ws_need(c, 2 + ext + len) < 0)
            return -1;
        int opcode = c->buf[0] & 0x0f;
        memcpy(payload, c->buf + 2 + ext, len);
        payload[len] = '\0';
        ws_consume(c, 2 + ext + len);
        if (opcode == GREEN_WS_PING)
            ws_frame(c, GREEN_WS_PONG, payload, len);
        else if (opcode != GREEN_WS_PONG)
            return opcode;
    }
}

/* A chat message, as the client saw it. */
struct msg {
    char name[64], text[5000];
    long long id;
};

/* The next chat message; fails the test when something else comes. */
static struct msg ws_msg(struct ws *c, const char *what)
{
    static char payload[1 << 16];
    int op = ws_read(c, payload, sizeof payload);
    ck_assert_msg(op == GREEN_WS_TEXT, "%s: expected a chat message, got %s (opcode %d, %s); see " APP,
                  what, op < 0 ? "the end of the connection" : "another frame", op, payload);
    json_t *o = json_loads(payload, 0, NULL);
    struct msg m = { .id = -1 };
    json_t *name = json_object_get(o, "name"), *text = json_object_get(o, "text"),
           *id = json_object_get(o, "id");
    ck_assert_msg(json_is_string(name) && json_is_string(text) && json_is_integer(id) &&
                  json_is_string(json_object_get(o, "room")) && json_is_number(json_object_get(o, "time")),
                  "%s: a message is {\"room\",\"name\",\"text\",\"id\",\"time\"}, got %s", what, payload);
    snprintf(m.name, sizeof m.name, "%s", json_string_value(name));
    snprintf(m.text, sizeof m.text, "%s", json_string_value(text));
    m.id = (long long)json_integer_value(id);
    json_decref(o);
    return m;
}

static void ws_expect(struct ws *c, const char *name, const char *text, const char *what)
{
    struct msg m = ws_msg(c, what);
    ck_assert_msg(strcmp(m.name, name) == 0 && strcmp(m.text, text) == 0,
                  "%s: expected \"%s\" from \"%s\", got \"%.60s\" from \"%s\" (id %lld); see " APP,
                  what, text, name, m.text, m.name, m.id);
}

/* Read until a close frame: its code (1005 without one), or -1 when the
 * connection ended without one. */
static int ws_close_code(struct ws *c)
{
    static char payload[1 << 16];
    int op;
    while ((op = ws_read(c, payload, sizeof payload)) >= 0)
        if (op == GREEN_WS_CLOSE)
            return (unsigned char)payload[0] << 8 | (unsigned char)payload[1];
    return -1;
}

static void ws_bye(struct ws *c)
{
    ws_frame(c, GREEN_WS_CLOSE, "\x03\xe8", 2);
    ck_assert_msg(ws_close_code(c) == 1000, "a client's close 1000 should be answered with 1000");
    close(c->fd);
    free(c);
}

static void ws_drop(struct ws *c)
{
    close(c->fd);
    free(c);
}

/* ---- Rooms over WebSocket --------------------------------------------------- */

START_TEST(test_two_clients)
{
    start_chat();
    struct ws *a = ws_open("/ws/chat?room=r&name=ann");
    ws_expect(a, "", "ann joined", "ann joins an empty room: her own notice");
    struct ws *b = ws_open("/ws/chat?room=r&name=bob");
    ws_expect(b, "", "ann joined", "bob's history");
    ws_expect(b, "", "bob joined", "bob's own notice, after the history");
    ws_expect(a, "", "bob joined", "ann sees bob join");
    ws_say(b, "hello ann");
    struct msg at_a = ws_msg(a, "bob's message, at ann"), at_b = ws_msg(b, "bob's message, at bob");
    ck_assert_msg(strcmp(at_a.text, "hello ann") == 0 && strcmp(at_a.name, "bob") == 0 &&
                  at_a.id == at_b.id && at_a.id == 3, "both should get bob's \"hello ann\" with id 3, "
                  "got \"%s\" from %s id %lld and id %lld", at_a.text, at_a.name, at_a.id, at_b.id);
    ws_say(a, "hi bob <3");
    struct msg m = ws_msg(b, "ann's answer");
    ck_assert_msg(m.id == 4 && strcmp(m.text, "hi bob <3") == 0,
                  "ids increase: ann's answer should be id 4 at bob, got %lld \"%s\"", m.id, m.text);
    ws_expect(a, "ann", "hi bob <3", "ann gets her own message too");
    ws_bye(a);
    ws_expect(b, "", "ann left", "bob sees ann leave");
    ws_bye(b);
    stop_chat();
}
END_TEST

START_TEST(test_history_on_join)
{
    start_chat();
    char json[64];
    for (int i = 1; i <= CHAT_HISTORY + 10; i++) {
        snprintf(json, sizeof json, "{\"text\": \"m%d\"}", i);
        ck_assert_int_eq(post("h", "ann", json), 200);
    }
    struct ws *c = ws_open("/ws/chat?room=h&name=cat");
    for (int i = 11; i <= CHAT_HISTORY + 10; i++) {
        snprintf(json, sizeof json, "m%d", i);
        struct msg m = ws_msg(c, "the history");
        ck_assert_msg(m.id == i && strcmp(m.text, json) == 0, "a client joining after %d messages gets "
                      "the last %d first: expected id %d \"%s\", got %lld \"%s\"", CHAT_HISTORY + 10,
                      CHAT_HISTORY, i, json, m.id, m.text);
    }
    ws_expect(c, "", "cat joined", "after the history, the client's own join notice");
    ws_bye(c);
    stop_chat();
}
END_TEST

START_TEST(test_bad_names)
{
    start_chat();
    char buf[4096];
    const char *bad[] = { "/ws/chat?room=r", "/ws/chat?name=x", "/ws/chat?room=a%20b&name=x",
                          "/ws/chat?room=r&name=", "/ws/chat?room=r&name=%01x",
                          "/ws/chat?room=r&name=%ff", "/ws/chat?room=r&name=123456789012345678901234567890123" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int status = http("GET", bad[i], NULL, buf, sizeof buf, NULL);
        ck_assert_msg(status == 400, "%s: a bad room or name should be 400, got %d", bad[i], status);
    }
    /* Markup in a name is kept, as text: JSON carries it, the page escapes it. */
    struct ws *c = ws_open("/ws/chat?room=r&name=%3Cb%3Eeve%3C%2Fb%3E");
    ws_expect(c, "", "<b>eve</b> joined", "a name with markup, kept as it is in JSON");
    ws_bye(c);
    stop_chat();
}
END_TEST

/* ---- Long-polling, SSE, POST /send ------------------------------------------- */

START_TEST(test_poll)
{
    config.poll_timeout = 0.5;
    start_chat();
    char buf[8192], *body;
    double t0 = green_now();
    int status = http("GET", "/poll?room=p&since=0", NULL, buf, sizeof buf, &body);
    double waited = green_now() - t0;
    ck_assert_msg(status == 200 && strcmp(body, "[]") == 0, "a poll of an empty room should time out "
                  "with 200 [], got %d %s", status, body);
    ck_assert_msg(waited >= 0.3, "the poll should wait (poll timeout 0.5 s) before answering [], "
                  "it answered after %.2f s", waited);
    int fd = request("GET", "/poll?room=p&since=0", NULL, NULL);
    kit_nap(0.1);               /* most likely waiting now; either way the answer is the same */
    ck_assert_int_eq(post("p", "ann", "{\"text\": \"wake up\"}"), 200);
    status = answer(fd, buf, sizeof buf, &body);
    json_t *list = json_loads(body, 0, NULL);
    json_t *first = json_array_get(list, 0);
    ck_assert_msg(status == 200 && json_array_size(list) == 1 &&
                  strcmp(json_string_value(json_object_get(first, "text")), "wake up") == 0 &&
                  json_integer_value(json_object_get(first, "id")) == 1,
                  "a waiting poll should answer the post: expected [{... \"text\":\"wake up\",\"id\":1}], "
                  "got %d %s; see " APP, status, body);
    json_decref(list);
    ck_assert_int_eq(post("p", "ann", "{\"text\": \"two\"}"), 200);
    ck_assert_int_eq(post("p", "ann", "{\"text\": \"three\"}"), 200);
    status = http("GET", "/poll?room=p&since=1", NULL, buf, sizeof buf, &body);
    list = json_loads(body, 0, NULL);
    ck_assert_msg(status == 200 && json_array_size(list) == 2 &&
                  json_integer_value(json_object_get(json_array_get(list, 0), "id")) == 2,
                  "since=1 with messages 2 and 3 there: both at once, got %s", body);
    json_decref(list);
    stop_chat();
}
END_TEST

/* Read the stream on fd until `want` is in it (or T seconds pass); all
 * of it so far into buf. */
static int stream_until(int fd, char *buf, size_t size, size_t *len, const char *want)
{
    while (!strstr(buf, want)) {
        ssize_t k = read(fd, buf + *len, size - 1 - *len);
        if (k <= 0)
            return -1;
        *len += (size_t)k;
        buf[*len] = '\0';
    }
    return 0;
}

START_TEST(test_events_resume)
{
    start_chat();
    char json[64];
    for (int i = 1; i <= 5; i++) {
        snprintf(json, sizeof json, "{\"text\": \"e%d\"}", i);
        ck_assert_int_eq(post("ev", "ann", json), 200);
    }
    int fd = request("GET", "/events?room=ev", "Last-Event-ID: 3\r\n", NULL);
    static char buf[16384];
    size_t len = 0;
    buf[0] = '\0';
    ck_assert_msg(stream_until(fd, buf, sizeof buf, &len, "\"e5\"") == 0,
                  "/events with Last-Event-ID: 3 should send messages 4 and 5, got:\n%s", buf);
    ck_assert_msg(strstr(buf, "text/event-stream") != NULL, "an SSE answer is text/event-stream:\n%s", buf);
    char *first = strstr(buf, "id: ");
    ck_assert_msg(first && strncmp(first, "id: 4\ndata: {", 13) == 0 && !strstr(buf, "\"e3\""),
                  "resuming after 3, the first event should be \"id: 4\" then \"data: {...}\", "
                  "and 3 not sent again; got:\n%s", buf);
    ck_assert_int_eq(post("ev", "bob", "{\"text\": \"live\"}"), 200);
    ck_assert_msg(stream_until(fd, buf, sizeof buf, &len, "id: 6\ndata: ") == 0 && strstr(buf, "\"live\""),
                  "a post while streaming comes as event 6, got:\n%s", buf);
    close(fd);
    stop_chat();
}
END_TEST

START_TEST(test_send_reaches_ws)
{
    start_chat();
    struct ws *c = ws_open("/ws/chat?room=s&name=ws");
    ws_expect(c, "", "ws joined", "the join notice");
    ck_assert_int_eq(post("s", "poster", "{\"text\": \"from HTTP\"}"), 200);
    ws_expect(c, "poster", "from HTTP", "a POST /send reaches a WebSocket client of the room");
    ws_bye(c);
    stop_chat();
}
END_TEST

START_TEST(test_send_refusals)
{
    start_chat();
    static char big[8192];
    snprintf(big, sizeof big, "{\"text\": \"%0*d\"}", GREEN_ROOM_TEXT_MAX + 1, 0);
    static char huge[CHAT_MAX_MESSAGE + 100];
    memset(huge, ' ', sizeof huge - 1);
    const struct { const char *json; int status; const char *why; } cases[] = {
        { "not json", 400, "a body that is not JSON" },
        { "{\"txt\": \"hi\"}", 400, "JSON without \"text\"" },
        { "{\"text\": 5}", 400, "a text that is not a string" },
        { "{\"text\": \"\"}", 400, "an empty text" },
        { big, 413, "a text of 4097 bytes" },
        { huge, 413, "a body over the limit" },
        { "{\"text\": \"fine\"}", 200, "a good message" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int status = post("x", "ann", cases[i].json);
        ck_assert_msg(status == cases[i].status, "POST /send, %s: expected %d, got %d; see " APP,
                      cases[i].why, cases[i].status, status);
    }
    stop_chat();
}
END_TEST

/* ---- Refusals over WebSocket, and floods ---------------------------------------- */

START_TEST(test_ws_refusals)
{
    start_chat();
    static char big[8192];
    struct ws *c = ws_open("/ws/chat?room=w&name=ann");
    ws_expect(c, "", "ann joined", "the join notice");
    ws_frame(c, GREEN_WS_TEXT, "not json", 8);
    ck_assert_msg(ws_close_code(c) == 1003, "text that is not {\"text\": ...} should close 1003");
    ws_drop(c);

    c = ws_open("/ws/chat?room=w&name=ann");
    snprintf(big, sizeof big, "{\"text\": \"%0*d\"}", GREEN_ROOM_TEXT_MAX + 1, 0);
    ws_frame(c, GREEN_WS_TEXT, big, strlen(big));
    ck_assert_msg(ws_close_code(c) == 1009, "a text over 4096 bytes should close 1009");
    ws_drop(c);

    c = ws_open("/ws/chat?room=w&name=ann");
    static char huge[CHAT_MAX_MESSAGE + 1];
    memset(huge, 'x', sizeof huge);
    ws_frame(c, GREEN_WS_TEXT, huge, sizeof huge);
    ck_assert_msg(ws_close_code(c) == 1009, "a frame over %d bytes should close 1009 (the layer's "
                  "max_message)", CHAT_MAX_MESSAGE);
    ws_drop(c);

    c = ws_open("/ws/chat?room=w&name=ann");
    ws_frame(c, GREEN_WS_TEXT, "{\"text\": \"\xc0\xaf\"}", 14);
    ck_assert_msg(ws_close_code(c) == 1007, "text that is not UTF-8 should close 1007");
    ws_drop(c);
    stop_chat();
}
END_TEST

START_TEST(test_flood)
{
    config.rate = 1;            /* 1 a second, bursts of 2: 20 at once is a flood anywhere */
    start_chat();
    int limited = 0;
    for (int i = 0; i < 20; i++)
        limited += post("f", "ann", "{\"text\": \"spam\"}") == 429;
    ck_assert_msg(limited > 0, "20 posts at once, at 1 a second (bursts of 2): some should be 429, "
                  "none was; see " APP);
    struct ws *c = ws_open("/ws/chat?room=f2&name=bob");
    for (int i = 0; i < 20; i++)
        ws_say(c, "spam");
    int code = ws_close_code(c);
    ck_assert_msg(code == 1008, "20 WebSocket messages at once, at 1 a second: close 1008 \"too many "
                  "messages\" expected, got %d", code);
    ws_drop(c);
    stop_chat();
}
END_TEST

/* A client that stops reading fills its socket, then the room laps it:
 * it is closed 4000 when it reads again, and meanwhile the others get
 * every message. */
START_TEST(test_slow_client_dropped)
{
    start_chat();
    struct ws *slow = ws_open_with("/ws/chat?room=z&name=slow", 4096);
    ws_expect(slow, "", "slow joined", "the join notice");
    struct ws *fast = ws_open("/ws/chat?room=z&name=fast");
    ws_expect(fast, "", "slow joined", "history");
    ws_expect(fast, "", "fast joined", "own notice");
    static char text[4001];
    memset(text, 'y', 4000);
    int n = 2 * GREEN_ROOM_CAPACITY;
    for (int i = 0; i < n; i++) {
        ws_say(fast, text);
        struct msg m = ws_msg(fast, "the fast client's own messages, while another does not read");
        ck_assert_msg(m.id == i + 3, "message %d: expected id %d, got %lld", i, i + 3, m.id);
    }
    int code = ws_close_code(slow);
    ck_assert_msg(code == CHAT_CLOSE_BEHIND, "a client that fell %d messages behind should be closed "
                  "%d (fell behind), got %d; see " APP, n, CHAT_CLOSE_BEHIND, code);
    ws_drop(slow);
    ws_expect(fast, "", "slow left", "the others see the slow client go");
    ws_say(fast, "still here");
    ws_expect(fast, "fast", "still here", "the room still serves the others");
    ws_bye(fast);
    stop_chat();
}
END_TEST

/* ---- The page, the demo app, /ws/echo, and the stop ---------------------------- */

START_TEST(test_page_and_demo)
{
    start_chat();
    char buf[8192], *body;
    int status = http("GET", "/", NULL, buf, sizeof buf, &body);
    ck_assert_msg(status == 200 && strstr(buf, "text/html") && strstr(body, "<title>chat</title>"),
                  "GET / should be the page (STATIC/index.html), got %d:\n%s", status, buf);
    status = http("GET", "/static/app.js", NULL, buf, sizeof buf, &body);
    ck_assert_msg(status == 200 && strstr(body, "the page's script"), "GET /static/app.js: got %d", status);
    status = http("GET", "/stream?n=2", NULL, buf, sizeof buf, &body);
    ck_assert_msg(status == 200 && strcmp(body, "chunk 0\nchunk 1\n") == 0, "the demo app's /stream "
                  "should still work, got %d %s", status, body);
    status = http("POST", "/echo", "ping", buf, sizeof buf, &body);
    ck_assert_msg(status == 200 && strcmp(body, "ping") == 0, "the demo app's /echo, got %d %s", status, body);
    status = http("GET", "/nothing", NULL, buf, sizeof buf, NULL);
    ck_assert_int_eq(status, 404);
    struct ws *e = ws_open("/ws/echo");
    ws_frame(e, GREEN_WS_TEXT, "echo me", 7);
    static char payload[64];
    ck_assert_msg(ws_read(e, payload, sizeof payload) == GREEN_WS_TEXT && strcmp(payload, "echo me") == 0,
                  "/ws/echo should echo, got %s", payload);
    ws_bye(e);
    stop_chat();
}
END_TEST

START_TEST(test_sigterm)
{
    start_chat();
    struct ws *c = ws_open("/ws/chat?room=t&name=ann");
    ws_expect(c, "", "ann joined", "the join notice");
    int poll = request("GET", "/poll?room=t&since=1", NULL, NULL);
    int events = request("GET", "/events?room=t", NULL, NULL);
    kit_nap(0.2);               /* let both start waiting */
    double t0 = green_now();
    kill(child, SIGTERM);
    ck_assert_msg(ws_close_code(c) == 1001, "at SIGTERM a WebSocket client should get close 1001 "
                  "(going away); see " APP);
    ws_frame(c, GREEN_WS_CLOSE, "\x03\xe9", 2);
    char buf[8192], *body;
    int status = answer(poll, buf, sizeof buf, &body);
    ck_assert_msg(status == 200 && strcmp(body, "[]") == 0, "a waiting /poll should answer [] at "
                  "SIGTERM, got %d %s", status, body);
    status = answer(events, buf, sizeof buf, &body);
    ck_assert_msg(status == 200, "the /events stream should end at SIGTERM, got %d", status);
    int exit_status = wait_child(T);
    double took = green_now() - t0;
    ck_assert_msg(exit_status >= 0 && WIFEXITED(exit_status) && WEXITSTATUS(exit_status) == 0,
                  "the server should exit cleanly after SIGTERM, nothing killed (%#x)", exit_status);
    ck_assert_msg(took < 4.0, "everything should end at once at SIGTERM, well within the 5 s grace: "
                  "took %.1f s", took);
    ws_drop(c);
    remove_static_dir();
}
END_TEST

static Suite *chat_suite(void)
{
    Suite *s = suite_create("lib/chat");
    TCase *tc = kit_tcase("websocket");
    tcase_add_test(tc, test_two_clients);
    tcase_add_test(tc, test_history_on_join);
    tcase_add_test(tc, test_bad_names);
    tcase_add_test(tc, test_ws_refusals);
    suite_add_tcase(s, tc);

    tc = kit_tcase("http");
    tcase_add_test(tc, test_poll);
    tcase_add_test(tc, test_events_resume);
    tcase_add_test(tc, test_send_reaches_ws);
    tcase_add_test(tc, test_send_refusals);
    tcase_add_test(tc, test_page_and_demo);
    suite_add_tcase(s, tc);

    tc = kit_tcase("abuse and stop");
    tcase_add_test(tc, test_flood);
    tcase_add_test(tc, test_slow_client_dropped);
    tcase_add_test(tc, test_sigterm);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(chat_suite()); }
