/*
 * server.c - chapter 9's demo application on the kit's own HTTP/1.1
 * server: gevent's pywsgi, the server of article 004:
 *
 *     from gevent import pywsgi
 *     server = pywsgi.WSGIServer(('', 8080), hello_world)
 *     server.serve_forever()
 *
 * Usage: server [--host HOST] [--port PORT] [--static DIR] [--access-log]
 *               [--idle-timeout S] [--header-timeout S] [--max-body BYTES]
 *               [--trusted-proxy ADDR] [--cert FILE --key FILE]
 * Try it: `make serve11 PORT=8000`, then `curl -v http://127.0.0.1:8000/`,
 * `curl -N 'http://127.0.0.1:8000/stream?n=5'`.  Ctrl-C (or SIGTERM)
 * stops it gracefully: requests in flight get 5 s to finish.
 * --cert FILE --key FILE (both or neither): HTTPS, pywsgi's
 * WSGIServer(..., certfile=, keyfile=); `make serve11-tls PORT=8443` makes
 * a throwaway certificate and serves with it (chapter.mk).
 * --trusted-proxy ADDR: requests from ADDR (a reverse proxy: chapter 12's
 * nginx) get REMOTE_ADDR from their X-Forwarded-For (lib/11-http/http.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "green.h"
#include "../09-wsgi/demo_app.h"

/* The certificate and its key, both or neither: a server context
 * (lib/04-io/tls.h), or exit with a line that says what is wrong. */
static green_tls_ctx_t *tls_or_exit(const char *cert, const char *key)
{
    cert = cert && *cert ? cert : NULL;     /* "" (make's CERT= left out): none */
    key = key && *key ? key : NULL;
    if (!cert && !key)
        return NULL;            /* plain HTTP */
    if (!cert || !key) {
        fprintf(stderr, "server: --cert and --key go together (HTTPS needs both)\n");
        exit(2);
    }
    green_tls_ctx_t *tls = green_tls_server_ctx(cert, key);
    if (!tls && errno == EPROTO) {          /* OpenSSL's reason, and ours */
        fprintf(stderr, "server: cannot use --cert %s --key %s: %s (both must be PEM "
                "files, the key the certificate's)\n", cert, key, green_tls_error());
        exit(1);
    }
    if (!tls) {                             /* which file: the message names it */
        int err = errno;
        const char *file = access(cert, R_OK) < 0 ? cert : key;
        fprintf(stderr, "server: cannot read %s: %s\n", file, strerror(err));
        exit(1);
    }
    return tls;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *port = "8000", *cert = NULL, *key = NULL;
    green_http_options_t opt = { 0 };
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : "";
        if (strcmp(arg, "--access-log") == 0)          { opt.access_log_fd = 2; continue; }
        if (strcmp(arg, "--host") == 0)                host = val;
        else if (strcmp(arg, "--port") == 0)           port = val;
        else if (strcmp(arg, "--static") == 0)         opt.static_dir = val;
        else if (strcmp(arg, "--idle-timeout") == 0)   opt.idle_timeout = atof(val);
        else if (strcmp(arg, "--header-timeout") == 0) opt.header_timeout = atof(val);
        else if (strcmp(arg, "--max-body") == 0)       opt.limits.max_body = atoll(val);
        else if (strcmp(arg, "--trusted-proxy") == 0)  opt.trusted_proxy = val;
        else if (strcmp(arg, "--cert") == 0)           cert = val;
        else if (strcmp(arg, "--key") == 0)            key = val;
        else { fprintf(stderr, "server: unknown option %s\n", arg); return 2; }
        i++;
    }
    opt.tls = tls_or_exit(cert, key);

    green_http_server_t *srv = green_http_server_new(host, port, &demo_app, &opt);
    /* Its life (listen, signals, stop) is chapter 7's core's. */
    green_server_t *core = srv ? green_http_server_core(srv) : NULL;
    if (!core || green_server_start(core) < 0) {
        fprintf(stderr, "server: cannot serve on %s:%s: %s\n", host, port, strerror(errno));
        return 1;
    }
    /* A signal is one more event on the hub: the server stops accepting. */
    green_server_close_on_signal(core, SIGINT);
    green_server_close_on_signal(core, SIGTERM);
    printf("listening on %s://%s:%d\n", opt.tls ? "https" : "http", host,
           green_server_port(core));
    fflush(stdout);             /* tools wait for the line above */

    green_server_serve_forever(core);                /* until a signal */
    int killed = green_server_stop(core, 5.0);          /* in flight: 5 s */
    printf("server: %lu request(s) served, %d connection(s) cut at stop\n",
           green_http_server_requests(srv), killed < 0 ? 0 : killed);
    green_http_server_free(srv);
    green_tls_ctx_free(opt.tls);    /* NULL: nothing */
    green_hub_destroy();
    return killed < 0 ? 1 : 0;
}
