/*
 * server.c - chapter 13: a chat on chapter 11's server, every layer of
 * the kit at work (chat_app.h has the routes).  Article 002's author
 * built a web chat with gevent; this is one in C, over WebSocket,
 * long-polling and Server-Sent Events, in one process by default, or on
 * chapter 12's workers.
 *
 * Usage: server [--host HOST] [--port PORT] [--static DIR] [--workers N]
 *               [--redis URL] [--poll-timeout S] [--rate N]
 *               [--ws-timeout S] [--access-log] [--trusted-proxy ADDR]
 *               [--cert FILE --key FILE]
 * --static DIR: the page and its assets (chapters/13-chat/static).
 * --workers N: chapter 12's pre-fork master with N workers.  Rooms live in
 *   each process: without Redis, clients of two workers do not see each
 *   other (the lesson's point).
 * --redis redis://HOST:PORT: rooms shared through Redis pub/sub, between
 *   the workers and between servers (two servers: two machines).  Redis
 *   down: each process serves its own clients, says so, and reconnects.
 * --trusted-proxy ADDR: behind nginx (make proxy13), a client's address,
 *   for the rate limits and the log, is X-Forwarded-For's (chapter 12).
 * --cert FILE --key FILE: HTTPS, and so wss:// (chapter 4's TLS, on
 *   chapter 11's server): the page then opens wss://, since a page served
 *   over https:// may not open an unencrypted WebSocket.
 * --poll-timeout S: how long /poll waits (25 s); --rate N: messages a
 *   second per client (10); --ws-timeout S: a WebSocket that answers no
 *   ping, or takes no byte, for S seconds is closed (60).
 * Try it: `make serve13 PORT=8000` and open http://127.0.0.1:8000/ in two
 * browser tabs.  Ctrl-C or SIGTERM: every client is told (WebSockets
 * close 1001, long-polls answer, streams end), then it stops.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "green.h"
#include "chat_app.h"

#define GRACE 5.0                    /* requests in flight at a stop */

static double seconds_from(const char *opt, const char *text)
{
    char *end;
    double s = strtod(text, &end);
    if (*text == '\0' || *end || s <= 0) {
        fprintf(stderr, "server: %s %s: give a number of seconds above 0\n", opt, text);
        exit(2);
    }
    return s;
}

/* What each process serving the chat needs of its own, on its own hub:
 * the watch on SIGTERM that ends long-polls, streams and WebSockets, and
 * its connections to Redis.  A worker makes its own after the fork (a
 * connection shared by two processes would mix their replies): chapter
 * 12's post_fork hook, gunicorn's. */
static void chat_process_start(void *arg)
{
    (void)arg;
    chat_watch_stop();
    if (chat.redis && green_room_redis_start(chat.redis) < 0)
        fprintf(stderr, "process %ld: --redis %s: %s: rooms stay in this process\n",
                (long)getpid(), chat.redis, strerror(errno));
}

static const char *scheme = "http";   /* "https" with --cert */

/* One process, one hub: chapter 11's life. */
static int serve_alone(green_http_server_t *http, const char *host)
{
    green_server_t *core = green_http_server_core(http);
    if (green_server_start(core) < 0)
        return -1;
    green_server_close_on_signal(core, SIGINT);
    green_server_close_on_signal(core, SIGTERM);
    chat_process_start(NULL);
    printf("listening on %s://%s:%d\n", scheme, host, green_server_port(core));
    fflush(stdout);             /* tools wait for the line above */
    green_server_serve_forever(core);       /* until a signal */
    green_room_close_all();     /* the signal did it too: said here for the reader */
    int killed = green_server_stop(core, GRACE);
    printf("server: %lu request(s) served, %d connection(s) cut at stop\n",
           green_http_server_requests(http), killed < 0 ? 0 : killed);
    green_http_server_free(http);
    green_room_redis_stop();
    green_room_free_all();
    green_hub_destroy();
    return 0;
}

/* N processes: chapter 12's master.  Each worker has its own rooms. */
static int serve_workers(green_http_server_t *http, const char *host, int workers)
{
    green_prefork_options_t popt = { .workers = workers, .grace = GRACE, .http = http,
                                     .post_fork = chat_process_start };
    green_prefork_t *master = green_prefork_new(green_http_server_core(http), &popt);
    if (!master || green_prefork_listen(master) < 0)
        return -1;
    printf("master %ld, %d worker(s)\n", (long)getpid(), green_prefork_workers(master));
    printf("listening on %s://%s:%d\n", scheme, host, green_server_port(green_http_server_core(http)));
    fflush(stdout);
    int rc = green_prefork_run(master);
    green_prefork_free(master);
    green_http_server_free(http);
    return rc;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *port = "8000", *cert = NULL, *key = NULL;
    int workers = 0;
    green_http_options_t opt = { 0 };
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : "";
        if (strcmp(arg, "--access-log") == 0)         { opt.access_log_fd = 2; continue; }
        if (strcmp(arg, "--host") == 0)               host = val;
        else if (strcmp(arg, "--port") == 0)          port = val;
        else if (strcmp(arg, "--static") == 0)        chat.static_dir = val;
        else if (strcmp(arg, "--trusted-proxy") == 0) opt.trusted_proxy = val;
        else if (strcmp(arg, "--workers") == 0)       workers = atoi(val);
        else if (strcmp(arg, "--redis") == 0)         chat.redis = val;
        else if (strcmp(arg, "--poll-timeout") == 0)  chat.poll_timeout = seconds_from(arg, val);
        else if (strcmp(arg, "--rate") == 0)          chat.rate = seconds_from(arg, val);
        else if (strcmp(arg, "--ws-timeout") == 0)    chat.ws_timeout = seconds_from(arg, val);
        else if (strcmp(arg, "--cert") == 0)          cert = val;
        else if (strcmp(arg, "--key") == 0)           key = val;
        else { fprintf(stderr, "server: unknown option %s\n", arg); return 2; }
        i++;
    }
    if (workers && green_prefork_check_workers(workers) < 0) {
        fprintf(stderr, "server: --workers: give a number from 1 to %d\n", GREEN_PREFORK_MAX_WORKERS);
        return 2;
    }
    if (!cert != !key) {
        fprintf(stderr, "server: give both --cert FILE and --key FILE, or neither\n");
        return 2;
    }
    if (cert && !(opt.tls = green_tls_server_ctx(cert, key))) {
        fprintf(stderr, "server: --cert %s --key %s: %s%s%s\n", cert, key, strerror(errno),
                *green_tls_error() ? ": " : "", green_tls_error());
        return 2;
    }
    if (cert)
        scheme = "https";
    char redis_host[GREEN_REDIS_HOST_MAX];
    int redis_port;
    if (chat.redis && green_redis_parse_url(chat.redis, redis_host, &redis_port) < 0) {
        fprintf(stderr, "server: --redis %s: give redis://HOST:PORT\n", chat.redis);
        return 2;
    }
    if (!chat.redis && workers > 1)
        fprintf(stderr, "server: %d workers and no --redis: each worker has rooms of its own, "
                "and clients of two workers do not see each other\n", workers);

    if (access(chat.static_dir, R_OK | X_OK) == 0)
        opt.static_dir = chat.static_dir;   /* /static/... */
    else
        fprintf(stderr, "server: no folder %s (--static DIR): / and /static/ answer 404\n",
                chat.static_dir);
    green_http_server_t *http = green_http_server_new(host, port, &chat_app, &opt);
    int rc = !http ? -1 : workers ? serve_workers(http, host, workers) : serve_alone(http, host);
    if (rc < 0) {
        fprintf(stderr, "server: cannot serve on %s:%s: %s\n", host, port, strerror(errno));
        return 1;
    }
    return 0;
}
