/*
 * server.c - chapter 12: chapter 11's server on every core.  A master
 * listens once and forks N workers; each serves chapter 9's demo app on
 * its own hub, on the socket it inherited.  gunicorn's design:
 *
 *     gunicorn --workers 4 --worker-class gevent app:application
 *
 * Usage: server [--host HOST] [--port PORT] [--workers N] [--grace S]
 *               [--reuseport] [--max-requests N [--max-requests-jitter J]]
 *               [--access-log | --access-log=FILE] [--trusted-proxy ADDR]
 * --reuseport: one SO_REUSEPORT socket per worker instead of one shared
 * socket (lib/12-prefork/prefork.c, "Listening", compares them).
 * --max-requests N: a worker retires after N + rand(0..J) requests
 * (gunicorn's names).  --access-log: to stderr; --access-log=FILE: to
 * FILE, reopened by every worker on `kill -USR1 MASTER` (log rotation).
 * Try it: `make serve12 PORT=8000 WORKERS=2`, then
 * `curl http://127.0.0.1:8000/pid` a few times: different workers answer.
 * Signals to the master (its pid is in its first line):
 *   kill -HUP   reload with no failed request     kill -TTIN/-TTOU  one more/fewer
 *   kill -TERM  graceful stop                     Ctrl-C (INT)      stop at once
 *   kill -USR1  reopen the access log
 * --timeout S (gunicorn's): a worker whose hub has not turned for S seconds
 * says which greenlet holds it, and is killed and replaced; 30 s, 0: never.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "green.h"
#include "../09-wsgi/demo_app.h"

/* One line saying what to do, and out: nothing is left running, since
 * nothing has been forked yet. */
static int workers_from(const char *text)
{
    char *end;
    long n = strtol(text, &end, 10);
    if (*text == '\0' || *end || green_prefork_check_workers(n) < 0) {
        fprintf(stderr, "server: --workers %s: give a number from 1 to %d "
                "(or leave it out: one per CPU, here %d)\n",
                text, GREEN_PREFORK_MAX_WORKERS, green_prefork_cpus());
        exit(2);
    }
    return (int)n;
}

/* --access-log=FILE: opened here (an error is one line, before any
 * fork); each worker opens it again at start and on USR1. */
static int open_log(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "server: --access-log=%s: %s\n", path, strerror(errno));
        exit(2);
    }
    return fd;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *port = "8000";
    green_prefork_options_t popt = { 0 };
    green_http_options_t hopt = { 0 };
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : "";
        if (strcmp(arg, "--access-log") == 0)     { hopt.access_log_fd = 2; continue; }
        if (strcmp(arg, "--reuseport") == 0)      { popt.reuseport = 1; continue; }
        if (strncmp(arg, "--access-log=", 13) == 0) {
            popt.access_log = arg + 13;
            popt.access_log_fd = hopt.access_log_fd = open_log(popt.access_log);
            continue;
        }
        if (strcmp(arg, "--host") == 0)           host = val;
        else if (strcmp(arg, "--port") == 0)      port = val;
        else if (strcmp(arg, "--workers") == 0)   popt.workers = workers_from(val);
        else if (strcmp(arg, "--grace") == 0)     popt.grace = atof(val);
        else if (strcmp(arg, "--max-requests") == 0) popt.max_requests = strtoul(val, NULL, 10);
        else if (strcmp(arg, "--max-requests-jitter") == 0)
            popt.max_requests_jitter = strtoul(val, NULL, 10);
        else if (strcmp(arg, "--timeout") == 0)   popt.timeout = atof(val) > 0 ? atof(val) : -1;
        else if (strcmp(arg, "--trusted-proxy") == 0) hopt.trusted_proxy = val;
        else { fprintf(stderr, "server: unknown option %s\n", arg); return 2; }
        i++;
    }

    green_http_server_t *http = green_http_server_new(host, port, &demo_app, &hopt);
    popt.http = http;           /* each worker's request count, at its exit */
    green_prefork_t *master = http ? green_prefork_new(green_http_server_core(http), &popt)
                                   : NULL;
    /* The master binds once, before any fork: a port in use is one error
     * here, not one per worker. */
    if (!master || green_prefork_listen(master) < 0) {
        fprintf(stderr, "server: cannot serve on %s:%s: %s\n", host, port, strerror(errno));
        return 1;
    }
    printf("master %ld, %d worker(s)\n", (long)getpid(), green_prefork_workers(master));
    printf("listening on http://%s:%d\n", host, green_server_port(green_http_server_core(http)));
    fflush(stdout);             /* tools wait for the line above; clients
                                   wait in the backlog until a worker accepts */
    int rc = green_prefork_run(master);
    green_prefork_free(master);
    green_http_server_free(http);
    return rc < 0 ? 1 : 0;
}
