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
 *
 * Two greenlets may share a connection (the chat's reader and writer), so
 * the socket is guarded by two locks (chapter 6):
 *   - `wire`: one frame at a time.  A send parked on a full socket holds
 *     it, and the reader's pong waits for the frame to end: bytes of two
 *     frames never mix;
 *   - `message`: one data message at a time, held from its first fragment
 *     to its last (RFC 6455 5.4: the fragments of two messages must not
 *     interleave).  Control frames take only `wire`, so a pong still goes
 *     out between the fragments of a long message, as the RFC allows.
 * A frame that could not go whole (timeout, error, kill) leaves the stream
 * cut in the middle of a frame: nothing may follow it, so the connection
 * is done (die()).
 *
 * Over wss:// the bytes go through the TLS session chapter 11's server
 * attached to the descriptor (green_tls_of, tls.h); four small functions
 * (wire_*) are the only ones that know, and the rest of the file reads
 * the same for ws:// and wss://.
 */
#include "ws.h"
#include "ws_frame.h"
#include "utf8.h"
#include "io.h"
#include "tls.h"
#include "sync.h"
#include "wait.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_MAX_MESSAGE (1u << 20)
#define DEFAULT_TIMEOUT 300.0
#define DEFAULT_PING_INTERVAL 30.0
#define DEFAULT_SEND_TIMEOUT 10.0
#define DEFAULT_MESSAGE_TIMEOUT 60.0
#define DEFAULT_CLOSE_TIMEOUT 5.0
#define READ_SIZE 4096
#define LINGER_BYTES (256 * 1024)   /* at most this much dropped, as chapter 11 */

struct green_ws {
    int fd;
    green_tls_t *tls;         /* wss://: the session over fd; NULL: ws:// */
    green_ws_options_t opt;   /* with the defaults filled in */

    /* Receiving: one greenlet at a time (green_ws_recv). */
    green_t *receiver;        /* the greenlet in green_ws_recv, or NULL */
    green_t *parked;          /* the same, while it waits for bytes */
    unsigned char *buf;       /* received, not yet used: buf[0..len) */
    size_t len, cap;
    char *msg;                /* the message being assembled */
    size_t msg_len, msg_cap;
    int msg_opcode;           /* its opcode: TEXT or BINARY */
    int fragmented;           /* green_ws_frame_order's bit */
    green_utf8_t utf8;        /* a text message's validator */
    double msg_deadline;      /* when the message under way must be whole;
                                 -1: none under way (wait.h's deadlines) */
    int close_code;           /* the client's; 0 until it closes */

    /* Sending: any greenlets, through the locks. */
    green_lock_t *wire;       /* one frame at a time */
    green_lock_t *message;    /* one data message at a time */
    green_t *streamer;        /* the greenlet whose fragmented message is
                                 open (it holds `message`), or NULL */
    int stream_opcode;        /* that message's opcode */
    green_utf8_t stream_utf8; /* and its text, checked so far */
    int close_sent;
    double close_deadline;    /* our close frame's answer is due by then */
    int dead;                 /* the errno of the send that failed: the
                                 connection is done; 0 while it lives */
};

/* A zero option is its default. */
static double or_default(double v, double def)
{
    return v ? v : def;
}

static void set_options(green_ws_t *ws, const green_ws_options_t *opt)
{
    green_ws_options_t o = opt ? *opt : (green_ws_options_t){ 0 };
    o.max_message = o.max_message ? o.max_message : DEFAULT_MAX_MESSAGE;
    o.timeout = or_default(o.timeout, DEFAULT_TIMEOUT);
    o.ping_interval = or_default(o.ping_interval, DEFAULT_PING_INTERVAL);
    o.send_timeout = or_default(o.send_timeout, DEFAULT_SEND_TIMEOUT);
    o.message_timeout = or_default(o.message_timeout, DEFAULT_MESSAGE_TIMEOUT);
    o.close_timeout = or_default(o.close_timeout, DEFAULT_CLOSE_TIMEOUT);
    ws->opt = o;
}

green_ws_t *green_ws_open(int fd, const char *data, size_t len,
                          const green_ws_options_t *opt)
{
    green_ws_t *ws = calloc(1, sizeof *ws);
    if (!ws)
        return NULL;
    ws->fd = fd;
    ws->tls = green_tls_of(fd);
    set_options(ws, opt);
    ws->msg_deadline = -1;
    ws->cap = len > READ_SIZE ? len : READ_SIZE;
    ws->buf = malloc(ws->cap);
    ws->wire = green_lock_new();
    ws->message = green_lock_new();
    if (!ws->buf || !ws->wire || !ws->message) {
        green_ws_free(ws);
        errno = ENOMEM;
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
    if (ws->wire)
        green_lock_free(ws->wire);
    if (ws->message)
        green_lock_free(ws->message);
    free(ws->buf);
    free(ws->msg);
    free(ws);
}

int green_ws_close_code(const green_ws_t *ws)
{
    return ws->close_code;
}

/* ---- The wire: TCP or TLS ---------------------------------------------- */

/* Write all n bytes by the deadline.  Returns 0, or -1 with errno. */
static int wire_sendall(green_ws_t *ws, const void *buf, size_t n, double deadline)
{
    ssize_t sent = ws->tls ? green_tls_sendall(ws->tls, buf, n, green__time_left(deadline))
                           : green_sendall(ws->fd, buf, n, green__time_left(deadline));
    return sent < 0 ? -1 : 0;
}

/* Read what is there without waiting: > 0 bytes, 0 at the end, or -1
 * (EAGAIN: nothing yet).  Each spends a unit of the greenlet's budget,
 * so a client that floods us does not keep the thread. */
static ssize_t wire_read_now(green_ws_t *ws, void *buf, size_t n)
{
    if (ws->tls) {
        ssize_t got = green_tls_recv(ws->tls, buf, n, 0);
        if (got < 0 && errno == ETIMEDOUT)
            errno = EAGAIN;     /* tls.h's "would have to wait" */
        return got;
    }
    if (green_budget_consume() != 0)
        return -1;
    ssize_t got;
    do
        got = read(ws->fd, buf, n);
    while (got < 0 && errno == EINTR);
    return got;
}

/* Read, waiting up to `timeout`. */
static ssize_t wire_recv(green_ws_t *ws, void *buf, size_t n, double timeout)
{
    return ws->tls ? green_tls_recv(ws->tls, buf, n, timeout)
                   : green_recv(ws->fd, buf, n, timeout);
}

/* Park until there is something to read.  Over TLS, bytes OpenSSL has
 * already decrypted count, and the descriptor cannot show them. */
static int wire_wait_read(green_ws_t *ws, double timeout)
{
    return ws->tls ? green_tls_wait_read(ws->tls, timeout)
                   : green_wait_read(ws->fd, timeout);
}

/* ---- Sending: frames ---------------------------------------------------- */

/* A send failed, or could not start in time: a frame may be cut in two,
 * and no frame may follow it.  The connection is done: shutting the
 * socket down wakes whoever waits on it (the reader parked in recv sees
 * the end, a writer parked on a full socket gets EPIPE) instead of
 * leaving them to their timeouts.  Returns -1, errno kept. */
static int die(green_ws_t *ws)
{
    int e = errno;
    if (!ws->dead) {
        ws->dead = e;
        shutdown(ws->fd, SHUT_RDWR);
    }
    errno = e;
    return -1;
}

/* Header and payload in one send when it is small (one packet for a chat
 * message), two otherwise (no copy of a large payload), by the deadline. */
static int put_frame(green_ws_t *ws, int fin, int opcode, const void *data,
                     size_t len, double deadline)
{
    unsigned char small[GREEN_WS_MAX_HEADER + 512];
    int n = green_ws_frame_header(small, fin, opcode, len);
    if (n < 0)
        return -1;
    if (len <= sizeof small - (size_t)n) {
        if (len)
            memcpy(small + n, data, len);   /* data may be NULL when len is 0 */
        return wire_sendall(ws, small, (size_t)n + len, deadline);
    }
    if (wire_sendall(ws, small, (size_t)n, deadline) < 0)
        return -1;
    return wire_sendall(ws, data, len, deadline);
}

/* Our close frame is out: the reader, parked in a wait as long as the
 * idle timeout, must now wait close_timeout at most.  Wake it to see. */
static void close_is_sent(green_ws_t *ws)
{
    ws->close_sent = 1;
    ws->close_deadline = green__deadline(ws->opt.close_timeout);
    if (ws->parked && ws->parked != green_current())
        green_ready(ws->parked, NULL);
}

/* One frame on the socket, whole and alone, by the deadline.  Returns 0;
 * or -1 with errno EPIPE (a close frame went out before: nothing may
 * follow it; or the connection is done) or the send's errno (ETIMEDOUT,
 * ECANCELED, ECONNRESET...), and then the connection is done. */
static int send_frame(green_ws_t *ws, int fin, int opcode, const void *data,
                      size_t len, double deadline)
{
    if (green_lock_acquire(ws->wire, green__time_left(deadline)) < 0)
        return die(ws);
    int rc = -1;
    if (ws->dead || ws->close_sent)
        errno = EPIPE;
    else if ((rc = put_frame(ws, fin, opcode, data, len, deadline)) < 0)
        die(ws);
    else if (opcode == GREEN_WS_CLOSE)
        close_is_sent(ws);
    green_lock_release(ws->wire);
    return rc;
}

/* A control frame from the library itself (pong, ping, close). */
static int send_control(green_ws_t *ws, int opcode, const void *data, size_t len)
{
    return send_frame(ws, 1, opcode, data, len, green__deadline(ws->opt.send_timeout));
}

/* ---- Sending: messages -------------------------------------------------- */

/* May the calling greenlet send this data frame now?  The RFC's order
 * (a continuation continues the caller's own open message; a new message
 * may not start inside it), and text that stays UTF-8, checked in *u (a
 * copy: the open message's state only moves once the frame is sent).
 * Returns 0, or -1 with errno EINVAL or EILSEQ. */
static int check_data(green_ws_t *ws, int opcode, const void *data, size_t len,
                      int fin, green_utf8_t *u)
{
    int mine = ws->streamer && ws->streamer == green_current();
    if ((opcode == GREEN_WS_CONT) != mine) {
        errno = EINVAL;
        return -1;
    }
    int text = opcode == GREEN_WS_TEXT || (mine && ws->stream_opcode == GREEN_WS_TEXT);
    if (mine)
        *u = ws->stream_utf8;
    else
        green_utf8_init(u);
    if (text && (green_utf8_feed(u, data, len, NULL) < 0 || (fin && green_utf8_end(u) < 0))) {
        errno = EILSEQ;
        return -1;
    }
    return 0;
}

/* A new data message: wait for the one in progress (another greenlet's)
 * to end, then it is ours until its last fragment. */
static int begin_message(green_ws_t *ws, int opcode, double deadline)
{
    if (green_lock_acquire(ws->message, green__time_left(deadline)) < 0)
        return die(ws);
    ws->streamer = green_current();
    ws->stream_opcode = opcode;
    return 0;
}

static void end_message(green_ws_t *ws)
{
    ws->streamer = NULL;
    green_lock_release(ws->message);
}

static int send_data(green_ws_t *ws, int opcode, const void *data, size_t len, int fin)
{
    green_utf8_t u;
    if (check_data(ws, opcode, data, len, fin, &u) < 0)
        return -1;
    double deadline = green__deadline(ws->opt.send_timeout);
    if (opcode != GREEN_WS_CONT && begin_message(ws, opcode, deadline) < 0)
        return -1;
    int rc = send_frame(ws, fin, opcode, data, len, deadline);
    if (rc == 0)
        ws->stream_utf8 = u;
    if (fin || rc < 0)
        end_message(ws);        /* a failed fragment ends its message too */
    return rc;
}

int green_ws_send_frame(green_ws_t *ws, int opcode, const void *data, size_t len, int fin)
{
    if (opcode == GREEN_WS_PING || opcode == GREEN_WS_PONG) {
        if (!fin || len > GREEN_WS_MAX_CONTROL) {
            errno = EINVAL;     /* control frames are whole and short */
            return -1;
        }
        return send_control(ws, opcode, data, len);
    }
    if (opcode != GREEN_WS_TEXT && opcode != GREEN_WS_BINARY && opcode != GREEN_WS_CONT) {
        errno = EINVAL;         /* CLOSE goes through green_ws_close */
        return -1;
    }
    return send_data(ws, opcode, data, len, fin != 0);
}

int green_ws_send(green_ws_t *ws, int opcode, const void *data, size_t len)
{
    if (opcode == GREEN_WS_CONT) {
        errno = EINVAL;
        return -1;
    }
    return green_ws_send_frame(ws, opcode, data, len, 1);
}

int green_ws_close(green_ws_t *ws, int code, const char *reason)
{
    size_t n = reason ? strlen(reason) : 0;
    if (!green_ws_close_code_valid(code) || n > GREEN_WS_MAX_CONTROL - 2 ||
        !green_utf8_valid(reason ? reason : "", n)) {
        errno = EINVAL;
        return -1;
    }
    unsigned char payload[GREEN_WS_MAX_CONTROL];
    payload[0] = (unsigned char)(code >> 8);
    payload[1] = (unsigned char)code;
    memcpy(payload + 2, reason ? reason : "", n);
    if (send_control(ws, GREEN_WS_CLOSE, payload, 2 + n) == 0)
        return 0;
    return errno == EPIPE && ws->close_sent ? 0 : -1;   /* one was sent already */
}

int green_ws_close_wait(green_ws_t *ws, int code, const char *reason)
{
    if (green_ws_close(ws, code, reason) < 0)
        return -1;
    int opcode, rc;
    const char *msg;
    size_t len;
    while ((rc = green_ws_recv(ws, &opcode, &msg, &len)) > 0)
        ;                       /* data the client sent before it saw our close */
    return rc;
}

/* We closed and wait for no answer (the client broke the protocol, or
 * took too long): end the TCP connection cleanly, "discarding any
 * trailing bytes" (section 7.1.1).  Closing the socket with bytes of the
 * client's unread would make the kernel reset the connection, and a
 * reset can destroy our close frame before the client reads it (chapter
 * 11's linger_close, the same rule).  So: our FIN first, then read and
 * drop what still comes, until the client closes too, close_timeout at
 * most. */
static void linger(green_ws_t *ws)
{
    double deadline = green__deadline(ws->opt.close_timeout);
    size_t total = 0;
    if (ws->tls)                        /* TLS's own end first: close_notify */
        green_tls_shutdown(ws->tls, green__time_left(deadline));
    shutdown(ws->fd, SHUT_WR);
    ws->len = 0;
    while (total < LINGER_BYTES && green__time_left(deadline) != 0) {
        ssize_t n = wire_recv(ws, ws->buf, ws->cap, green__time_left(deadline));
        if (n <= 0)
            break;
        total += (size_t)n;
    }
}

/* The client broke the protocol: say why with the close code, and fail. */
static int fail(green_ws_t *ws, int code)
{
    if (green_ws_close(ws, code, NULL) == 0)    /* it may be gone */
        linger(ws);
    errno = EPROTO;
    return -1;
}

/* ---- Receiving: waiting for bytes --------------------------------------- */

/* The earlier of two deadlines (negative: never). */
static double earlier(double a, double b)
{
    if (a < 0)
        return b;
    return b < 0 || a < b ? a : b;
}

/* Has this deadline (negative: never) passed? */
static int passed(double deadline)
{
    return deadline >= 0 && green__time_left(deadline) == 0;
}

/* The wait is over and no byte came: say why to the client, and fail
 * with ETIMEDOUT.  Our close was not answered in time: nothing more to
 * say.  A message that is taking too long (a client trickling a byte now
 * and then): 1008.  A client silent for `timeout`: 1001, "going away". */
static int give_up(green_ws_t *ws)
{
    int slow = passed(ws->msg_deadline);
    if (!ws->close_sent &&
        green_ws_close(ws, slow ? GREEN_WS_POLICY : GREEN_WS_GOING_AWAY,
                       slow ? "message too slow" : "idle for too long") == 0)
        linger(ws);
    errno = ETIMEDOUT;
    return -1;
}

/* What the client has sent, without waiting: > 0 bytes, 0 at its end, or
 * -1 (EAGAIN: nothing yet). */
static ssize_t read_now(green_ws_t *ws)
{
    return wire_read_now(ws, ws->buf + ws->len, ws->cap - ws->len);
}

/* Park until the socket is readable, the deadline, or a wake-up (another
 * greenlet sent our close frame: close_is_sent). */
static int park(green_ws_t *ws, double deadline)
{
    ws->parked = green_current();
    int rc = wire_wait_read(ws, green__time_left(deadline));
    ws->parked = NULL;
    return rc;
}

/* Wait for the client's bytes until the first of: `timeout` from now,
 * the deadline of the message under way, the end of the close handshake;
 * with a ping each time the client has been silent for ping_interval.
 * Returns what read returns (> 0, or 0 at the end), or -1 with errno. */
static ssize_t wait_bytes(green_ws_t *ws)
{
    double idle = green__deadline(ws->opt.timeout);
    for (;;) {
        ssize_t n = read_now(ws);
        if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            return n;
        double limit = earlier(idle, ws->msg_deadline);
        if (ws->close_sent)
            limit = earlier(limit, ws->close_deadline);
        double ping = ws->opt.ping_interval > 0 && !ws->close_sent
                    ? green__deadline(ws->opt.ping_interval) : -1;
        int pinging = ping >= 0 && earlier(ping, limit) == ping;
        if (park(ws, pinging ? ping : limit) == 0)
            continue;                       /* readable, or woken: look */
        if (errno != ETIMEDOUT)
            return -1;
        if (!pinging)
            return give_up(ws);
        if (send_control(ws, GREEN_WS_PING, "", 0) < 0 && errno != EPIPE)
            return -1;
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
    ssize_t n = wait_bytes(ws);
    if (n == 0)                             /* gone without a close frame, */
        errno = ws->dead ? ws->dead : ECONNRESET;   /* or our send failed */
    if (n <= 0)
        return -1;
    ws->len += (size_t)n;
    return 0;
}

/* ---- Receiving: frames -------------------------------------------------- */

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
    if (f->length > ws->opt.max_message - ws->msg_len)
        return -GREEN_WS_TOO_BIG;
    return 0;
}

/* A message is under way (part of a frame is here, or a fragmented
 * message is open): the clock of message_timeout starts, once.  So a
 * client that trickles a byte every few minutes, each within `timeout`,
 * still has its connection closed (chapter 11's rule for request heads,
 * against Slowloris). */
static void message_started(green_ws_t *ws)
{
    if (ws->msg_deadline < 0 && (ws->len > 0 || ws->fragmented))
        ws->msg_deadline = green__deadline(ws->opt.message_timeout);
}

/* Wait until buf starts with a whole frame, unmasked, its text checked. */
static int read_frame(green_ws_t *ws, green_ws_frame_t *f)
{
    int head = 0;
    size_t seen = 0;                        /* payload bytes unmasked so far */
    for (;;) {
        if (!head) {
            head = green_ws_frame_parse(ws->buf, ws->len, ws->opt.max_message, f);
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
        message_started(ws);
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
 * with the same code (unless we closed first: then it is the answer).
 * 0, or -1 when the frame itself is wrong. */
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
    if (send_control(ws, GREEN_WS_CLOSE, p, n >= 2 ? 2 : 0) < 0 && errno != EPIPE)
        return -1;
    return 0;
}

/* A control frame in the middle of the stream: answer a ping (not once
 * we closed: nothing may follow our close frame), ignore a pong (an
 * unsolicited one, or our ping's).  0, or -1 when the pong failed. */
static int control_frame(green_ws_t *ws, const green_ws_frame_t *f)
{
    int rc = 0;
    if (f->opcode == GREEN_WS_PING &&
        send_control(ws, GREEN_WS_PONG, ws->buf + f->head_len, (size_t)f->length) < 0 && errno != EPIPE)
        rc = -1;
    consume(ws, f->head_len + (size_t)f->length);
    if (!ws->fragmented)
        ws->msg_deadline = -1;      /* it was a message of its own */
    return rc;
}

/* Frames until a whole message, or the client's close (0), or -1. */
static int next_message(green_ws_t *ws, int *opcode, const char **msg, size_t *len)
{
    for (;;) {
        green_ws_frame_t f;
        if (read_frame(ws, &f) < 0)
            return -1;
        if (f.opcode == GREEN_WS_CLOSE)
            return closed_by_client(ws, ws->buf + f.head_len, (size_t)f.length);
        if (green_ws_is_control(f.opcode)) {
            if (control_frame(ws, &f) < 0)
                return -1;
            continue;
        }
        if (append(ws, ws->buf + f.head_len, (size_t)f.length) < 0)
            return -1;
        consume(ws, f.head_len + (size_t)f.length);
        if (!f.fin)
            continue;
        if (ws->msg_opcode == GREEN_WS_TEXT && green_utf8_end(&ws->utf8) < 0)
            return fail(ws, GREEN_WS_INVALID_DATA);   /* cut in a character */
        ws->msg_deadline = -1;
        *opcode = ws->msg_opcode;
        *msg = ws->msg ? ws->msg : "";
        *len = ws->msg_len;
        return 1;
    }
}

int green_ws_recv(green_ws_t *ws, int *opcode, const char **msg, size_t *len)
{
    if (ws->receiver) {
        errno = EBUSY;                      /* one reader at a time */
        return -1;
    }
    if (ws->close_code)
        return 0;                           /* data after a close is ignored */
    if (ws->dead) {
        errno = ws->dead;
        return -1;
    }
    ws->receiver = green_current();
    int rc = next_message(ws, opcode, msg, len);
    ws->receiver = NULL;
    return rc;
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
