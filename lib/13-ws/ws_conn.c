/*
 * ws_conn.c - a WebSocket connection, server side (ws.h): frames in,
 * messages out.
 *
 * One buffer holds what the client sent and nobody has used yet.  A frame
 * is read where it lies: its header parsed (ws_frame.h), its payload
 * unmasked in place as the bytes arrive, and a text message's bytes
 * checked for UTF-8 as they arrive too, so that garbage is refused at its
 * first byte, not once a megabyte of it has been buffered.  A data
 * frame's payload is then copied to the message being assembled (the
 * frame's own bytes make room for the next frame); a control frame is
 * answered at once, between fragments or not.
 */
#include "ws.h"
#include "ws_frame.h"
#include "utf8.h"
#include "io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_MESSAGE (1u << 20)
#define DEFAULT_TIMEOUT 300.0
#define DEFAULT_PING_INTERVAL 30.0
#define READ_SIZE 4096

struct green_ws {
    int fd;
    size_t max_message;
    double timeout;
    double ping_interval;
    unsigned char *buf;       /* received, not yet used: buf[0..len) */
    size_t len, cap;
    char *msg;                /* the message being assembled */
    size_t msg_len, msg_cap;
    int msg_opcode;           /* its opcode: TEXT or BINARY */
    int fragmented;           /* green_ws_frame_order's bit */
    green_utf8_t utf8;        /* a text message's validator */
    int close_sent;
    int close_code;           /* the client's; 0 until it closes */
};

green_ws_t *green_ws_open(int fd, const char *data, size_t len,
                          const green_ws_options_t *opt)
{
    green_ws_t *ws = calloc(1, sizeof *ws);
    if (!ws)
        return NULL;
    ws->fd = fd;
    ws->max_message = opt && opt->max_message ? opt->max_message : DEFAULT_MAX_MESSAGE;
    ws->timeout = opt && opt->timeout ? opt->timeout : DEFAULT_TIMEOUT;
    ws->ping_interval = opt && opt->ping_interval ? opt->ping_interval : DEFAULT_PING_INTERVAL;
    ws->cap = len > READ_SIZE ? len : READ_SIZE;
    ws->buf = malloc(ws->cap);
    if (!ws->buf) {
        free(ws);
        return NULL;
    }
    memcpy(ws->buf, data, len);
    ws->len = len;
    return ws;
}

void green_ws_free(green_ws_t *ws)
{
    if (!ws)
        return;
    free(ws->buf);
    free(ws->msg);
    free(ws);
}

int green_ws_close_code(const green_ws_t *ws)
{
    return ws->close_code;
}

/* ---- Sending ---------------------------------------------------------- */

/* One frame: header and payload in one send when it is small (one packet
 * for a chat message), two otherwise (no copy of a large payload). */
static int send_frame(green_ws_t *ws, int opcode, const void *data, size_t len)
{
    unsigned char small[GREEN_WS_MAX_HEADER + 512];
    int n = green_ws_frame_header(small, 1, opcode, len);
    if (n < 0)
        return -1;
    if (len <= sizeof small - (size_t)n) {
        memcpy(small + n, data, len);
        return green_sendall(ws->fd, small, (size_t)n + len, ws->timeout) < 0 ? -1 : 0;
    }
    if (green_sendall(ws->fd, small, (size_t)n, ws->timeout) < 0)
        return -1;
    return green_sendall(ws->fd, data, len, ws->timeout) < 0 ? -1 : 0;
}

int green_ws_send(green_ws_t *ws, int opcode, const void *data, size_t len)
{
    if (opcode != GREEN_WS_TEXT && opcode != GREEN_WS_BINARY &&
        opcode != GREEN_WS_PING && opcode != GREEN_WS_PONG) {
        errno = EINVAL;
        return -1;
    }
    if (opcode == GREEN_WS_TEXT && !green_utf8_valid(data, len)) {
        errno = EILSEQ;
        return -1;
    }
    if (ws->close_sent) {
        errno = EPIPE;                      /* nothing may follow a close */
        return -1;
    }
    return send_frame(ws, opcode, data, len);
}

int green_ws_close(green_ws_t *ws, int code, const char *reason)
{
    size_t n = reason ? strlen(reason) : 0;
    if (!green_ws_close_code_valid(code) || n > GREEN_WS_MAX_CONTROL - 2 ||
        !green_utf8_valid(reason ? reason : "", n)) {
        errno = EINVAL;
        return -1;
    }
    if (ws->close_sent)
        return 0;
    unsigned char payload[GREEN_WS_MAX_CONTROL];
    payload[0] = (unsigned char)(code >> 8);
    payload[1] = (unsigned char)code;
    memcpy(payload + 2, reason ? reason : "", n);
    ws->close_sent = 1;
    return send_frame(ws, GREEN_WS_CLOSE, payload, 2 + n);
}

/* The client broke the protocol: say why with the close code, and fail. */
static int fail(green_ws_t *ws, int code)
{
    green_ws_close(ws, code, NULL);         /* best effort: it may be gone */
    errno = EPROTO;
    return -1;
}

/* ---- Receiving -------------------------------------------------------- */

/* Wait for the client's bytes up to the timeout, with a ping each time
 * it has been silent for ping_interval.  What green_recv returns. */
static ssize_t recv_or_ping(green_ws_t *ws)
{
    double left = ws->timeout;              /* negative: no limit */
    for (;;) {
        double wait = left;
        int ping = ws->ping_interval > 0 && !ws->close_sent &&
                   (left < 0 || ws->ping_interval < left);
        if (ping)
            wait = ws->ping_interval;
        ssize_t n = green_recv(ws->fd, ws->buf + ws->len, ws->cap - ws->len, wait);
        if (n >= 0 || errno != ETIMEDOUT || !ping)
            return n;
        if (send_frame(ws, GREEN_WS_PING, "", 0) < 0)
            return -1;
        if (left >= 0)
            left -= wait;
    }
}

/* More bytes from the client into buf, with room for `want` in all. */
static int read_more(green_ws_t *ws, size_t want)
{
    if (want < ws->len + READ_SIZE)
        want = ws->len + READ_SIZE;
    if (want > ws->cap) {
        unsigned char *p = realloc(ws->buf, want);
        if (!p)
            return -1;
        ws->buf = p;
        ws->cap = want;
    }
    ssize_t n = recv_or_ping(ws);
    if (n == 0)
        errno = ECONNRESET;                 /* gone without a close frame */
    if (n <= 0)
        return -1;
    ws->len += (size_t)n;
    return 0;
}

/* Is this frame part of a text message (its bytes to be checked)? */
static int is_text(const green_ws_t *ws, const green_ws_frame_t *f)
{
    return f->opcode == GREEN_WS_TEXT || (f->opcode == GREEN_WS_CONT && ws->msg_opcode == GREEN_WS_TEXT);
}

/* A frame's header was just parsed: may it come now, and does it fit? */
static int admit(green_ws_t *ws, const green_ws_frame_t *f)
{
    if (green_ws_frame_order(&ws->fragmented, f) < 0)
        return -GREEN_WS_PROTOCOL_ERROR;
    if (green_ws_is_control(f->opcode))
        return 0;
    if (f->opcode != GREEN_WS_CONT) {       /* a new message */
        ws->msg_opcode = f->opcode;
        ws->msg_len = 0;
        green_utf8_init(&ws->utf8);
    }
    if (f->length > ws->max_message - ws->msg_len)
        return -GREEN_WS_TOO_BIG;
    return 0;
}

/* Wait until buf starts with a whole frame, unmasked, its text checked. */
static int read_frame(green_ws_t *ws, green_ws_frame_t *f)
{
    int head = 0;
    size_t seen = 0;                        /* payload bytes unmasked so far */
    for (;;) {
        if (!head) {
            head = green_ws_frame_parse(ws->buf, ws->len, ws->max_message, f);
            if (head < 0)
                return fail(ws, -head);
            if (head > 0) {
                int rc = admit(ws, f);
                if (rc < 0)
                    return fail(ws, -rc);
            }
        }
        if (head > 0) {
            size_t have = ws->len - (size_t)head;
            if (have > f->length)
                have = (size_t)f->length;
            unsigned char *p = ws->buf + head;
            green_ws_unmask(p + seen, have - seen, f->mask, seen);
            if (is_text(ws, f) && green_utf8_feed(&ws->utf8, p + seen, have - seen, NULL) < 0)
                return fail(ws, GREEN_WS_INVALID_DATA);
            seen = have;
            if (have == f->length)
                return 0;
        }
        if (read_more(ws, head > 0 ? (size_t)head + (size_t)f->length : 0) < 0)
            return -1;
    }
}

/* Take the frame at the start of buf off it. */
static void consume(green_ws_t *ws, size_t n)
{
    memmove(ws->buf, ws->buf + n, ws->len - n);
    ws->len -= n;
}

static int append(green_ws_t *ws, const unsigned char *p, size_t n)
{
    if (ws->msg_len + n > ws->msg_cap) {
        size_t cap = ws->msg_cap ? ws->msg_cap : 1024;
        while (cap < ws->msg_len + n)
            cap *= 2;
        char *m = realloc(ws->msg, cap);
        if (!m)
            return -1;
        ws->msg = m;
        ws->msg_cap = cap;
    }
    memcpy(ws->msg + ws->msg_len, p, n);
    ws->msg_len += n;
    return 0;
}

/* The client's close frame: check it (section 7.4 and 5.5.1), answer it
 * with the same code.  0, or -1 when the frame itself is wrong. */
static int closed_by_client(green_ws_t *ws, const unsigned char *p, size_t n)
{
    if (n == 1)
        return fail(ws, GREEN_WS_PROTOCOL_ERROR);   /* half a code */
    int code = n >= 2 ? p[0] << 8 | p[1] : 1005;
    if (n >= 2 && !green_ws_close_code_valid(code))
        return fail(ws, GREEN_WS_PROTOCOL_ERROR);
    if (n > 2 && !green_utf8_valid(p + 2, n - 2))
        return fail(ws, GREEN_WS_INVALID_DATA);
    ws->close_code = code;
    if (!ws->close_sent) {
        ws->close_sent = 1;
        if (send_frame(ws, GREEN_WS_CLOSE, p, n >= 2 ? 2 : 0) < 0)
            return -1;
    }
    return 0;
}

int green_ws_recv(green_ws_t *ws, int *opcode, const char **msg, size_t *len)
{
    if (ws->close_code)
        return 0;                           /* data after a close is ignored */
    for (;;) {
        green_ws_frame_t f;
        if (read_frame(ws, &f) < 0)
            return -1;
        const unsigned char *p = ws->buf + f.head_len;
        size_t n = (size_t)f.length, total = f.head_len + n;
        if (f.opcode == GREEN_WS_CLOSE)
            return closed_by_client(ws, p, n);
        if (f.opcode == GREEN_WS_PING) {
            int rc = ws->close_sent ? 0 : send_frame(ws, GREEN_WS_PONG, p, n);
            consume(ws, total);
            if (rc < 0)
                return -1;
            continue;
        }
        if (f.opcode == GREEN_WS_PONG) {    /* unsolicited, or our ping's */
            consume(ws, total);
            continue;
        }
        if (append(ws, p, n) < 0)
            return -1;
        consume(ws, total);
        if (!f.fin)
            continue;
        if (ws->msg_opcode == GREEN_WS_TEXT && green_utf8_end(&ws->utf8) < 0)
            return fail(ws, GREEN_WS_INVALID_DATA);   /* cut in a character */
        *opcode = ws->msg_opcode;
        *msg = ws->msg ? ws->msg : "";
        *len = ws->msg_len;
        return 1;
    }
}

void green_ws_echo(int fd, const char *data, size_t len, void *arg)
{
    green_ws_t *ws = green_ws_open(fd, data, len, arg);
    if (!ws)
        return;
    int opcode;
    const char *msg;
    size_t n;
    while (green_ws_recv(ws, &opcode, &msg, &n) > 0)
        if (green_ws_send(ws, opcode, msg, n) < 0)
            break;
    green_ws_free(ws);
}
