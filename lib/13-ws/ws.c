/*
 * ws.c - the WebSocket opening handshake (ws.h).
 *
 * Every check reads the environ the server built: nothing here touches a
 * socket, so green_ws_check is tested like a pure function, and
 * green_ws_accept only adds the answer and chapter 11's takeover.
 */
#include "ws.h"
#include "http.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

/* The RFC's constant (section 1.3): no client could have made up this
 * answer without reading the key, so a 101 with it is a real WebSocket. */
static const char GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static const char B64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The base64 of 16 bytes is 22 characters and "==".  The 22nd holds only
 * 2 bits of data, so its low 4 bits must be 0: one spelling per key. */
static int key_is_16_bytes(const char *key)
{
    if (strlen(key) != 24 || strcmp(key + 22, "==") != 0)
        return 0;
    for (int i = 0; i < 22; i++)
        if (key[i] == '\0' || !strchr(B64, key[i]))
            return 0;
    return ((strchr(B64, key[21]) - B64) & 0x0f) == 0;
}

int green_ws_accept_key(const char *key, char *out)
{
    if (!key_is_16_bytes(key)) {
        errno = EINVAL;
        return -1;
    }
    unsigned char in[24 + sizeof GUID], digest[SHA_DIGEST_LENGTH];
    memcpy(in, key, 24);
    memcpy(in + 24, GUID, sizeof GUID - 1);
    SHA1(in, 24 + sizeof GUID - 1, digest);
    EVP_EncodeBlock((unsigned char *)out, digest, SHA_DIGEST_LENGTH);  /* NUL-terminates */
    return 0;
}

/* Is `token` one of the comma-separated tokens of `list`, in any case
 * ("keep-alive, Upgrade" holds "upgrade")? */
static int has_token(const char *list, const char *token)
{
    size_t n = strlen(token);
    const char *p = list;
    while (p && *p) {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, ",");
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == n && strncasecmp(p, token, n) == 0)
            return 1;
        p = strchr(p, ',');
    }
    return 0;
}

/* How many times the header `name` was sent. */
static int count_header(const green_environ_t *env, const char *name)
{
    int n = 0;
    for (size_t i = 0; i < env->nheaders; i++)
        n += strcasecmp(env->headers[i].name, name) == 0;
    return n;
}

static int refuse(green_ws_handshake_t *hs, int status, const char *why)
{
    hs->status = status;
    hs->why = why;
    hs->accept[0] = '\0';
    return status;
}

int green_ws_check(const green_environ_t *env, green_ws_handshake_t *hs)
{
    if (strcmp(env->method, "GET") != 0)
        return refuse(hs, 400, "a WebSocket handshake is a GET request");
    if (strcmp(env->protocol, "HTTP/1.0") == 0 || strncmp(env->protocol, "HTTP/1.", 7) != 0)
        return refuse(hs, 400, "a WebSocket handshake needs HTTP/1.1");
    const char *upgrade = green_environ_header(env, "Upgrade");
    if (!upgrade || !has_token(upgrade, "websocket"))
        return refuse(hs, 400, "no \"Upgrade: websocket\" header: this URL speaks WebSocket only");
    const char *connection = green_environ_header(env, "Connection");
    if (!connection || !has_token(connection, "upgrade"))
        return refuse(hs, 400, "the Connection header does not hold \"Upgrade\"");
    const char *version = green_environ_header(env, "Sec-WebSocket-Version");
    if (!version || count_header(env, "Sec-WebSocket-Version") != 1)
        return refuse(hs, 400, "no Sec-WebSocket-Version header, or more than one");
    if (strcmp(version, "13") != 0)
        return refuse(hs, 426, "this server speaks WebSocket version 13 only");
    const char *key = green_environ_header(env, "Sec-WebSocket-Key");
    if (!key || count_header(env, "Sec-WebSocket-Key") != 1)
        return refuse(hs, 400, "no Sec-WebSocket-Key header, or more than one");
    if (green_ws_accept_key(key, hs->accept) < 0)
        return refuse(hs, 400, "Sec-WebSocket-Key is not the base64 of 16 bytes");
    hs->status = 101;
    hs->why = NULL;
    return 101;
}

/* A refusal: the status, the headers it needs, and why, as text. */
static int answer_refusal(green_response_t *resp, const green_ws_handshake_t *hs,
                          green_body_t *body)
{
    green_header_t h[] = {
        { "Content-Type", "text/plain; charset=utf-8" },
        { "Upgrade", "websocket" },           /* a 426 must say what to upgrade to */
        { "Sec-WebSocket-Version", "13" },    /* and which version: section 4.4 */
    };
    if (hs->status == 426)
        green_start_response(resp, "426 Upgrade Required", h, 3);
    else
        green_start_response(resp, "400 Bad Request", h, 1);
    *body = green_body_str(hs->why);
    errno = EPROTO;
    return -1;
}

int green_ws_accept(green_environ_t *env, green_response_t *resp,
                    green_takeover_fn_t fn, void *arg, green_body_t *body)
{
    green_ws_handshake_t hs;
    if (green_ws_check(env, &hs) != 101)
        return answer_refusal(resp, &hs, body);
    if (green_http_takeover(env, fn, arg) < 0) {
        green_header_t h[] = { { "Content-Type", "text/plain; charset=utf-8" } };
        green_start_response(resp, "501 Not Implemented", h, 1);
        *body = green_body_str("this server cannot hand a connection over to WebSocket");
        errno = EINVAL;
        return -1;
    }
    green_header_t h[] = {
        { "Upgrade", "websocket" },
        { "Connection", "Upgrade" },
        { "Sec-WebSocket-Accept", hs.accept },
    };
    green_start_response(resp, "101 Switching Protocols", h, 3);
    *body = green_body_empty();
    return 0;
}

/* ---- Origin ----------------------------------------------------------- */

/* An origin, as a browser serializes it (RFC 6454 section 6.2): scheme
 * "://" host, and ":" port when it is not the scheme's default. */
struct origin {
    const char *scheme, *host;
    size_t scheme_len, host_len;
    long port;
};

/* The default port of the schemes a chat page may come from; 0: none. */
static long default_port(const char *scheme, size_t n)
{
    if ((n == 4 && strncasecmp(scheme, "http", 4) == 0) || (n == 2 && strncasecmp(scheme, "ws", 2) == 0))
        return 80;
    if ((n == 5 && strncasecmp(scheme, "https", 5) == 0) || (n == 3 && strncasecmp(scheme, "wss", 3) == 0))
        return 443;
    return 0;
}

/* Split s into *o.  Returns 0, or -1 when it is no origin ("null", a
 * path, an empty host, a port that is not a number). */
static int parse_origin(const char *s, struct origin *o)
{
    const char *sep = strstr(s, "://");
    if (!sep || sep == s)
        return -1;
    o->scheme = s;
    o->scheme_len = (size_t)(sep - s);
    o->host = sep + 3;
    const char *end = o->host[0] == '[' ? strchr(o->host, ']') : o->host;  /* [::1] */
    if (!end)
        return -1;
    o->host_len = (size_t)(end - o->host) + strcspn(end, ":/");
    const char *rest = o->host + o->host_len;
    o->port = default_port(o->scheme, o->scheme_len);
    if (*rest == ':') {
        char *stop;
        o->port = strtol(rest + 1, &stop, 10);
        if (!isdigit((unsigned char)rest[1]) || *stop || o->port <= 0 || o->port > 65535)
            return -1;
    } else if (*rest) {
        return -1;
    }
    return o->host_len > 0 ? 0 : -1;
}

static int same_origin(const char *a, const char *b)
{
    struct origin x, y;
    return parse_origin(a, &x) == 0 && parse_origin(b, &y) == 0 &&
           x.scheme_len == y.scheme_len && strncasecmp(x.scheme, y.scheme, x.scheme_len) == 0 &&
           x.host_len == y.host_len && strncasecmp(x.host, y.host, x.host_len) == 0 &&
           x.port == y.port;
}

int green_ws_origin_allowed(const green_environ_t *env, const char *const *allowed)
{
    int n = count_header(env, "Origin");
    if (n == 0)
        return 1;               /* not a browser's page: see ws.h */
    if (n > 1)
        return 0;
    const char *origin = green_environ_header(env, "Origin");
    for (; allowed && *allowed; allowed++)
        if (same_origin(origin, *allowed))
            return 1;
    return 0;
}
