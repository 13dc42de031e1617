/*
 * ws.h - chapter 13: WebSocket (RFC 6455) on chapter 11's server: the
 * opening handshake.
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
 *     knows what to retry with: the RFC's MUST, section 4.4, which
 *     Python's websockets, node's ws and gevent-websocket leave out).
 * Origin is the application's to check (a browser always sends it; a page
 * of another site must not talk to the chat): read it with
 * green_environ_header(env, "Origin") before accepting.
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

#endif
