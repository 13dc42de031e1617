/*
 * ws.h - chapter 13: WebSocket (RFC 6455) on chapter 11's server: the
 * opening handshake, and connections that carry messages.
 *
 * A WebSocket starts as an HTTP request (section 4.1):
 *
 *     GET /ws/echo HTTP/1.1
 *     Host: example.com
 *     Upgrade: websocket
 *     Connection: Upgrade
 *     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
 *     Sec-WebSocket-Version: 13
 *
 * and the server answers "101 Switching Protocols" with
 * Sec-WebSocket-Accept: base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-
 * C5AB0DC85B11")), which proves it read this request (a cache or an HTTP
 * server that knows nothing of WebSocket could not).  From then on the
 * connection carries frames (ws_frame.h) and no more HTTP: chapter 11's
 * green_http_takeover hands the socket to a function of the application.
 *
 * What is checked, and the answer when it fails (section 4.2.1, 4.2.2):
 *   - the method is GET and the version HTTP/1.1 or later         -> 400
 *   - Upgrade holds the token "websocket", Connection the token
 *     "upgrade": in any case, and among others ("keep-alive, Upgrade",
 *     as Firefox sends it)                                          -> 400
 *   - exactly one Sec-WebSocket-Key, the base64 of 16 bytes: 22
 *     characters of the base64 alphabet, then "=="                  -> 400
 *   - Sec-WebSocket-Version: present (else 400) and 13 (else 426
 *     Upgrade Required with "Sec-WebSocket-Version: 13", so the client
 *     knows what to retry with: the RFC's MUST, section 4.4.  Python's
 *     websockets and node's ws answer 400 without the header (node's
 *     also accepts version 8); gevent-websocket sends it, with a 400).
 * Origin is the application's to check, before accepting: a browser
 * always sends it, and a page of another site must not talk to the chat
 * with its visitor's cookies (green_ws_origin_allowed, below).
 *
 * SHA-1 and base64 come from OpenSSL's libcrypto: a well-kept library,
 * where the lesson is not the code.
 *
 * Errors, C style: -1 with errno.
 */
#ifndef GREEN_WS_H
#define GREEN_WS_H

#include "server.h"
#include "wsgi.h"

/* The length of a Sec-WebSocket-Accept value (base64 of 20 bytes). */
#define GREEN_WS_ACCEPT_LEN 28

/* The handshake's verdict on a request. */
typedef struct green_ws_handshake {
    int status;               /* 101 (accept it), 400 or 426 */
    const char *why;          /* for 400 and 426, a sentence saying what was
                                 wrong ("no Sec-WebSocket-Key header") */
    char accept[GREEN_WS_ACCEPT_LEN + 1];  /* with 101: Sec-WebSocket-Accept */
} green_ws_handshake_t;

/* The Sec-WebSocket-Accept value for `key` (NUL-terminated, as sent) into
 * out (GREEN_WS_ACCEPT_LEN + 1 bytes).  Returns 0, or -1 with errno EINVAL
 * when key is not the base64 of 16 bytes. */
int green_ws_accept_key(const char *key, char *out);

/* Judge env's handshake (the list above) into *hs, sending nothing.
 * Returns hs->status: 101, 400 or 426. */
int green_ws_check(const green_environ_t *env, green_ws_handshake_t *hs);

/* The whole handshake, from an application: judge env, and either accept
 * it (green_http_takeover(env, fn, arg), then "101 Switching Protocols";
 * fn then runs in the connection's greenlet with the socket, as chapter
 * 11's takeover promises, and the first bytes of frames the client sent
 * early) or refuse it (400 or 426, a text/plain body saying why).  Either
 * way the response is started and *body is what the application returns:
 *
 *     green_body_t body;
 *     green_ws_accept(env, resp, echo_connection, NULL, &body);
 *     return body;
 *
 * Returns 0 when accepted; -1 when refused, with errno EPROTO (a bad
 * handshake: 400 or 426 was answered) or EINVAL (a server that cannot
 * hand a connection over, chapter 10's evhttp: 501 was answered). */
int green_ws_accept(green_environ_t *env, green_response_t *resp,
                    green_takeover_fn_t fn, void *arg, green_body_t *body);

/* Does env's Origin header name one of the origins in `allowed` (a NULL-
 * terminated list of "scheme://host" or "scheme://host:port")?  The
 * scheme and host match in any case, a missing port is the scheme's
 * default (http, ws: 80; https, wss: 443), and nothing else may follow.
 * Returns 1 when it does, or when the request has no Origin at all; 0
 * otherwise: another site, two Origin headers, or "null" (a sandboxed or
 * file:// page: it could be anyone's).
 * Why no Origin passes: the check guards against one attack, a page of
 * another site opening a WebSocket from its visitor's browser, with the
 * visitor's cookies (cross-site WebSocket hijacking).  Browsers always
 * send Origin with a WebSocket handshake (RFC 6455 section 4.1), so a
 * request without one does not come from a page; a program (curl, a
 * bot, the tests) could send any Origin it likes, so refusing it would
 * protect nothing.  Authenticate such clients otherwise.
 *
 *     static const char *const ours[] = { "http://localhost:8000", NULL };
 *     if (!green_ws_origin_allowed(env, ours))
 *         return forbidden(resp);        (a 403, before green_ws_accept)
 */
int green_ws_origin_allowed(const green_environ_t *env, const char *const *allowed);

/* ---- A connection: messages over frames (RFC 6455 section 5 to 7) ------ */

/* Options; zero everywhere means the defaults (shown).  A negative
 * timeout is no limit. */
typedef struct green_ws_options {
    size_t max_message;       /* the longest message, all its fragments
                                 together (1 MiB); longer is closed 1009 */
    double timeout;           /* how long green_ws_recv waits for the
                                 client's next bytes (300 s); then it
                                 closes 1001, "going away" */
    double ping_interval;     /* a client silent this long gets a ping
                                 (30 s; negative: never), so that a proxy's
                                 read timeout (nginx: 60 s) sees traffic and
                                 does not cut an idle connection */
    double send_timeout;      /* how long a frame may take to leave, lock
                                 waits included (10 s): a client that
                                 never reads must not hold a writer for
                                 ever once the kernel's buffers are full */
    double message_timeout;   /* how long a message may take to arrive,
                                 from its first byte to its last, control
                                 frames between fragments included (60 s:
                                 1 MiB at 17 kB/s); then it closes 1008.
                                 `timeout` bounds each wait, so without
                                 this a client trickling one byte every
                                 few minutes would keep its connection for
                                 ever (chapter 11's header_timeout is the
                                 same rule for request heads: Slowloris) */
    double close_timeout;     /* once our close frame is out, how long
                                 green_ws_recv waits for the client's (5 s) */
} green_ws_options_t;

/* A WebSocket connection, server side.
 *
 * Two greenlets may use one connection at once, as the chat does (one
 * reads the client, one writes the room's messages):
 *   - green_ws_recv: one greenlet at a time (a second gets EBUSY).  The
 *     message it returns is valid until that greenlet's next recv;
 *   - green_ws_send, green_ws_send_frame, green_ws_close: any greenlets,
 *     at any time, the reader included (its recv answers pings).  Frames
 *     never mix: each leaves whole before the next starts, even when a
 *     send waits on a full socket; and a fragmented message is one
 *     greenlet's until its last fragment (another's data message waits
 *     for it), while control frames (ping, pong, close) may go between
 *     its fragments, as the RFC allows;
 *   - green_ws_close_wait reads: it is the reader's call (or a lone
 *     greenlet's);
 *   - green_ws_free: once nobody uses the connection (join the others
 *     first: a lock freed while a greenlet waits on it aborts).
 * A send that fails (send_timeout, a reset, a kill) may have cut a frame
 * in two; nothing may follow it, so the connection is then done: the
 * socket is shut down, which wakes the other greenlet, every later send
 * fails with EPIPE and recv with that send's errno. */
typedef struct green_ws green_ws_t;

/* Start speaking WebSocket on fd, once the 101 is out (in the function
 * green_ws_accept handed the connection to): data[0..len) are the bytes
 * the client sent early, which are the first frames' (copied).  opt NULL:
 * the defaults.  Returns the connection, or NULL with errno ENOMEM. */
green_ws_t *green_ws_open(int fd, const char *data, size_t len,
                          const green_ws_options_t *opt);

/* The next whole message: its opcode (GREEN_WS_TEXT or GREEN_WS_BINARY)
 * in *opcode, its bytes in *msg and *len (the connection's memory, valid
 * until the next call; a text message is valid UTF-8).  On the way, it
 * answers every ping with a pong carrying the same payload (not once our
 * close frame is out), ignores pongs, reassembles fragments, control
 * frames between them included, and pings a client that has been silent
 * for ping_interval.
 * Returns 1 with a message; 0 when the client closed (its close frame is
 * answered with the same code, unless it was the answer to ours;
 * green_ws_close_code tells which); -1 with errno
 *   EPROTO      the client broke the protocol; the close frame with the
 *               code has been sent: 1002, 1007 for text that is not
 *               UTF-8, 1009 for a message over max_message;
 *   ETIMEDOUT   the client was silent for `timeout` (1001 sent), or took
 *               longer than message_timeout over a message (1008 sent),
 *               or did not answer our close frame within close_timeout;
 *               (after EPROTO's and ETIMEDOUT's close frames, the server
 *               shuts its side down and reads and drops what the client
 *               still sends, until it closes or for close_timeout: a
 *               socket closed with bytes unread would be reset, and the
 *               reset could destroy the close frame: section 7.1.1)
 *   ECONNRESET  the connection ended without a close frame;
 *   EBUSY       another greenlet is in green_ws_recv on ws;
 *   ECANCELED   the caller was killed;
 *   or the errno of a send that failed (a pong's, or another greenlet's
 *   send: the connection is done).
 * Python: websockets' `await ws.recv()`. */
int green_ws_recv(green_ws_t *ws, int *opcode, const char **msg, size_t *len);

/* Send one message (GREEN_WS_TEXT or GREEN_WS_BINARY) in one frame, or a
 * control frame (GREEN_WS_PING, GREEN_WS_PONG: at most 125 bytes).  Text
 * must be UTF-8, checked here: a browser that receives anything else
 * fails the connection, and the bug would be ours, found far from here.
 * A data message waits for another greenlet's fragmented message to end.
 * Returns 0, or -1 with errno
 *   EINVAL      a bad opcode or length (GREEN_WS_CONT, GREEN_WS_CLOSE:
 *               see green_ws_send_frame, green_ws_close), or a new message
 *               inside the caller's own fragmented one;
 *   EILSEQ      text that is not UTF-8;
 *   EPIPE       our close frame is out (nothing may follow it), or the
 *               connection is done;
 *   ETIMEDOUT   the frame could not leave whole within send_timeout;
 *   ECANCELED   the caller was killed;
 *   or the kernel's (ECONNRESET, EPIPE).
 * The last three leave the connection done (see green_ws_t).
 * Python: websockets' `await ws.send(message)`. */
int green_ws_send(green_ws_t *ws, int opcode, const void *data, size_t len);

/* Send one frame of a message sent in pieces (section 5.4), for a message
 * too long to hold at once, or produced as it goes:
 *
 *     green_ws_send_frame(ws, GREEN_WS_TEXT, "Hel", 3, 0);   first, not final
 *     green_ws_send_frame(ws, GREEN_WS_CONT, "lo", 2, 0);    more
 *     green_ws_send_frame(ws, GREEN_WS_CONT, "!", 1, 1);     the last (fin)
 *
 * The first frame has the message's opcode (TEXT or BINARY), the others
 * GREEN_WS_CONT; fin 1 ends the message (a first frame with fin 1 is a
 * whole message, as green_ws_send).  From its first frame to its last,
 * the message is the calling greenlet's: another greenlet's data waits
 * (up to its send_timeout), its control frames and the caller's own
 * (GREEN_WS_PING, GREEN_WS_PONG with fin 1) may go between the
 * fragments.  A text message may cut a character between two frames; it
 * must be UTF-8 as a whole, checked frame by frame (a frame that would
 * break it is refused and not sent: the message stays open).
 * Returns 0, or -1 with green_ws_send's errno; EINVAL also for
 * GREEN_WS_CONT without a message of the caller's open, or a control
 * frame with fin 0.  A frame that fails otherwise than EINVAL or EILSEQ
 * ends its message.  Python: websockets' `await ws.send(iterable)`. */
int green_ws_send_frame(green_ws_t *ws, int opcode, const void *data, size_t len, int fin);

/* Send a close frame with code (green_ws_close_code_valid) and a reason
 * (NULL or UTF-8, at most 123 bytes), unless one was sent already; it may
 * go between the fragments of a message, which then ends there (its next
 * frame gets EPIPE).  The reader, if it waits, now waits close_timeout at
 * most for the client's answer.  Returns 0, or -1 with errno EINVAL or
 * green_ws_send's.  The server closes the socket when the function it
 * handed the connection to returns. */
int green_ws_close(green_ws_t *ws, int code, const char *reason);

/* The whole closing handshake, from the server's side (section 7.1.1):
 * send the close frame (green_ws_close), then read until the client's
 * own close frame comes back, discarding the messages that were on their
 * way, for close_timeout at most.  Then the TCP close comes from the
 * server, as the RFC prefers (the server, not the client, keeps the
 * TIME_WAIT).  Returns 0 when the client answered, or -1 with
 * green_ws_close's or green_ws_recv's errno (ETIMEDOUT: no answer within
 * close_timeout).  It reads: call it from the reader, or when no other
 * greenlet is in green_ws_recv (EBUSY).  Python: websockets'
 * `await ws.close(code, reason)`. */
int green_ws_close_wait(green_ws_t *ws, int code, const char *reason);

/* The code of the client's close frame: 1005 when it had none, 0 while
 * the client has not closed. */
int green_ws_close_code(const green_ws_t *ws);

/* Free the connection (not the socket: the server closes it). */
void green_ws_free(green_ws_t *ws);

/* /ws/echo, the conformance endpoint (the Autobahn test suite's
 * convention): every message comes back with its opcode, until the client
 * closes.  A green_takeover_fn_t for green_ws_accept; arg: a
 * green_ws_options_t *, or NULL for the defaults. */
void green_ws_echo(int fd, const char *data, size_t len, void *arg);

#endif
