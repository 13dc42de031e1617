/* harness.c - see harness.h. */
#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <event2/event.h>
#include <signal.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

int kit_valgrind(void)
{
    return RUNNING_ON_VALGRIND ? 1 : 0;
}

int kit_can_fork(void)
{
    const char *mode = getenv("CK_FORK");
    return !(mode && strcmp(mode, "no") == 0);
}

void kit_capture_start(struct kit_capture *c)
{
    fflush(stderr);
    c->file = tmpfile();
    ck_assert_msg(c->file != NULL, "test setup: tmpfile() failed");
    c->saved_fd = dup(STDERR_FILENO);
    dup2(fileno(c->file), STDERR_FILENO);
}

void kit_capture_end(struct kit_capture *c, char *buf, size_t size)
{
    fflush(stderr);
    dup2(c->saved_fd, STDERR_FILENO);
    close(c->saved_fd);
    rewind(c->file);
    size_t n = fread(buf, 1, size - 1, c->file);
    buf[n] = '\0';
    fclose(c->file);
}

int kit_die_in_child(void (*fn)(void *), void *arg, int sig, char *err, size_t size)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_msg(pid >= 0, "fork failed: %s", strerror(errno));
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        signal(sig, SIG_DFL);
        fn(arg);
        _exit(4);   /* survived */
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t n;
    while ((n = read(fds[0], err + len, size - 1 - len)) > 0)
        len += (size_t)n;
    err[len] = '\0';
    close(fds[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return status;
}

const char *kit_why(long rc, int err)
{
    return rc < 0 ? strerror(err) : "no error";
}

green_body_t kit_buffered_echo(green_environ_t *env, green_response_t *resp, size_t limit)
{
    size_t len;
    char *body = green_input_read_all(env->input, limit, &len);
    green_header_t h[] = { { "Content-Type", "application/octet-stream" } };
    green_start_response(resp, body ? "200 OK" : errno == EMSGSIZE ? "413 Content Too Large"
                                                                   : "400 Bad Request", h, 1);
    return body ? green_body_take(body, len) : green_body_empty();
}

void kit_tcp_pair(int *client, int *server)
{
    int l = green_tcp_listen("127.0.0.1", "0", 64);
    ck_assert_msg(l >= 0, "test setup: green_tcp_listen(127.0.0.1) failed: %s", strerror(errno));
    char port[16];
    snprintf(port, sizeof port, "%d", green_socket_port(l));
    *client = green_tcp_connect("127.0.0.1", port, 2.0);
    ck_assert_msg(*client >= 0, "test setup: green_tcp_connect(127.0.0.1, %s) failed: %s", port,
                  strerror(errno));
    *server = green_accept(l, NULL, NULL, 2.0);
    ck_assert_msg(*server >= 0, "test setup: green_accept failed: %s", strerror(errno));
    close(l);
}

void kit_join_free(green_t **gs, int n)
{
    green_joinall(gs, n, 3.0);
    for (int i = 0; i < n; i++) {
        if (!green_dead(gs[i]))
            green_kill(gs[i], 1.0);
        green_free(gs[i]);
    }
}

void kit_nap(double s)
{
    struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };
    nanosleep(&ts, NULL);
}

/* Field 4 of /proc/PID/stat is the parent, field 3 the state; the name in
 * field 2 may hold spaces and parentheses, hence the last ')'. */
static int child_of(const char *pid, pid_t parent)
{
    char path[300], buf[512], state;
    long ppid;
    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = 0;
    char *close_paren = strrchr(buf, ')');
    return close_paren && sscanf(close_paren + 1, " %c %ld", &state, &ppid) == 2 &&
           ppid == parent && state != 'Z';
}

int kit_children(pid_t parent, pid_t *out, int max)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)) && n < max)
        if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && child_of(e->d_name, parent))
            out[n++] = (pid_t)atol(e->d_name);
    if (d)
        closedir(d);
    return n;
}

int kit_pid_in(const pid_t *set, int n, pid_t pid)
{
    for (int i = 0; i < n; i++)
        if (set[i] == pid)
            return 1;
    return 0;
}

int kit_dial(int port, double timeout)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = { (time_t)timeout, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int kit_read_response(int fd, char *buf, size_t size)
{
    size_t len = 0;
    ssize_t n;
    while (fd >= 0 && len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = 0;
    int code;
    return sscanf(buf, "HTTP/1.%*d %d", &code) == 1 ? code : -1;
}

int kit_pending_events(void)
{
    return event_base_get_num_events(green_hub_base(), EVENT_BASE_COUNT_ADDED);
}

static int ticks, stop_ticking;
static double tick_every;

static void *ticker(void *unused)
{
    (void)unused;
    while (!stop_ticking && green_sleep(tick_every) == 0)
        ticks++;
    return NULL;
}

green_t *kit_ticker_start(double every)
{
    ticks = stop_ticking = 0;
    tick_every = every;
    green_t *t = green_spawn(ticker, NULL);
    ck_assert_msg(t != NULL, "test setup: green_spawn failed: %s", strerror(errno));
    green_sleep(0);         /* the ticker arms its first timer before the
                               caller arms any: see harness.h */
    return t;
}

int kit_ticks(void)
{
    return ticks;
}

int kit_ticker_stop(green_t *t)
{
    int seen = ticks;       /* not the wake-up that sees the stop */
    stop_ticking = 1;
    if (green_join(t, 2.0) != 0)
        green_kill(t, 1.0);
    green_free(t);
    return seen;
}

TCase *kit_tcase(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, KIT_TEST_TIMEOUT);
    return tc;
}

/* ---- Which test is which ----------------------------------------------
 * Check's results carry no test name, but they come in the order Check
 * runs the tests: the suite's test cases in the order they were added, and
 * in each, its tests in the order they were added (a loop test once per
 * iteration).  The harness records both orders as they are made. */

#undef _tcase_add_test
#undef suite_add_tcase

#define KIT_MAX_TESTS 512
#define KIT_MAX_TCASES 64

static struct kit_test {
    TCase *tc;
    const char *name;
    int runs;               /* a loop test runs end - start times */
} tests[KIT_MAX_TESTS];
static int ntests, nskipped;
static TCase *tcases[KIT_MAX_TCASES];
static int ntcases;

void kit_add_test(TCase *tc, const TTest *t, int signal, int allowed_exit_value,
                  int start, int end)
{
    const char *only = getenv("KIT_TEST");
    if (only && *only && strcmp(only, t->name) != 0) {
        nskipped++;
        return;
    }
    if (ntests < KIT_MAX_TESTS)
        tests[ntests++] = (struct kit_test){ tc, t->name, end > start ? end - start : 0 };
    _tcase_add_test(tc, t, signal, allowed_exit_value, start, end);
}

void kit_suite_add_tcase(Suite *s, TCase *tc)
{
    if (ntcases < KIT_MAX_TCASES)
        tcases[ntcases++] = tc;
    suite_add_tcase(s, tc);
}

/* The name of every result, in the order Check reports them; NULL when the
 * harness lost count (a suite built without its macros). */
static const char **names_in_run_order(int nresults)
{
    const char **names = calloc((size_t)nresults + 1, sizeof *names);
    int n = 0;
    for (int c = 0; c < ntcases; c++)
        for (int i = 0; i < ntests; i++)
            for (int r = 0; tests[i].tc == tcases[c] && r < tests[i].runs; r++)
                if (n < nresults)
                    names[n++] = tests[i].name;
    if (n != nresults) {
        free(names);
        return NULL;
    }
    return names;
}

/* One line of the results file: tabs and newlines in a message would
 * break its columns. */
static void put_field(FILE *out, const char *text)
{
    fputc('\t', out);
    for (const char *p = text ? text : ""; *p; p++)
        fputc(*p == '\t' || *p == '\n' || *p == '\r' ? ' ' : *p, out);
}

static void write_results(FILE *out, SRunner *sr)
{
    int run = srunner_ntests_run(sr);
    TestResult **results = srunner_results(sr);
    const char **names = names_in_run_order(run);
    for (int i = 0; i < run; i++) {
        TestResult *tr = results[i];
        int type = tr_rtype(tr);
        char where[512];
        snprintf(where, sizeof where, "%s:%d", tr_lfile(tr) ? tr_lfile(tr) : "?", tr_lno(tr));
        fputs("result", out);
        put_field(out, type == CK_PASS ? "pass" : type == CK_FAILURE ? "fail" : "error");
        put_field(out, names ? names[i] : "?");
        put_field(out, tr_tcname(tr));
        put_field(out, where);
        put_field(out, tr_msg(tr));
        fputc('\n', out);
    }
    fprintf(out, "total\t%d\t%d\n", run - srunner_ntests_failed(sr), run);
    free(names);
    free(results);
}

int kit_run_suite(Suite *s)
{
    /* Read, then hide: no code under test may find where the verdict goes. */
    const char *env = getenv("KIT_RESULTS");
    char *results_path = env && *env ? strdup(env) : NULL;
    unsetenv("KIT_RESULTS");
    const char *only = getenv("KIT_TEST");
    const char *list = getenv("KIT_LIST");

    if (only && *only && ntests == 0) {
        fprintf(stderr, "KIT_TEST=%s: this program has no test of that name "
                        "(KIT_LIST=1 lists them)\n", only);
        return 2;
    }
    if (list && strcmp(list, "1") == 0) {
        FILE *out = results_path ? fopen(results_path, "w") : stdout;
        if (out == NULL) {
            perror(results_path);
            return 2;
        }
        for (int i = 0; i < ntests; i++)
            fprintf(out, "test\t%s\n", tests[i].name);
        return out == stdout ? 0 : (fclose(out) == 0 ? 0 : 2);
    }

    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, results_path ? CK_SILENT : CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    int status = failed == 0 ? 0 : 1;
    if (results_path) {
        FILE *out = fopen(results_path, "w");
        if (out == NULL) {
            perror(results_path);
            status = 2;
        } else {
            write_results(out, sr);
            if (fclose(out) != 0)
                status = 2;
        }
    }
    srunner_free(sr);
    free(results_path);
    return status;
}

/* ---- A redis-server of the test's own ---------------------------------- */

/* Is prog an executable on $PATH? */
static int on_path(const char *prog)
{
    const char *path = getenv("PATH");
    char dir[4096], file[4200];
    while (path && *path) {
        size_t n = strcspn(path, ":");
        snprintf(dir, sizeof dir, "%.*s", (int)n, path);
        snprintf(file, sizeof file, "%s/%s", n ? dir : ".", prog);
        if (access(file, X_OK) == 0)
            return 1;
        path += n + (path[n] == ':');
    }
    return 0;
}

/* A port nobody listens on now (the kernel's choice for port 0). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t len = sizeof a;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_msg(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
                  getsockname(fd, (struct sockaddr *)&a, &len) == 0,
                  "could not find a free port: %s", strerror(errno));
    close(fd);
    return ntohs(a.sin_port);
}

/* Does the server on port answer PING with +PONG? */
static int redis_pings(int port)
{
    int fd = kit_dial(port, 1);
    char buf[16] = "";
    int ok = fd >= 0 && write(fd, "PING\r\n", 6) == 6 &&
             read(fd, buf, sizeof buf - 1) >= 5 && strncmp(buf, "+PONG", 5) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

pid_t kit_fork_tied(void)
{
    pid_t parent = getpid();
    fflush(NULL);                   /* nothing printed twice */
    pid_t pid = fork();
    ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)    /* the test died before prctl */
            _exit(1);
    }
    return pid;
}

pid_t kit_redis_start(int *port)
{
    ck_assert_msg(on_path("redis-server"),
                  "redis-server is not installed, and chapter 13's Redis tests need it: "
                  "install Debian's package redis-server (Fedora's: redis), or run make deps");
    if (*port == 0)
        *port = free_port();
    char port_arg[16];
    snprintf(port_arg, sizeof port_arg, "%d", *port);
    pid_t pid = kit_fork_tied();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execlp("redis-server", "redis-server", "--port", port_arg, "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", "/tmp",
               "--logfile", "", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {             /* 5 s */
        if (redis_pings(*port))
            return pid;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            ck_abort_msg("redis-server --port %d exited at once (status %d): "
                         "is the port taken?", *port, status);
        kit_nap(0.01);
    }
    kit_redis_kill(pid);
    ck_abort_msg("redis-server --port %d never answered PING within 5 s", *port);
    return -1;
}

void kit_redis_kill(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
}

/* ---- Certificates for the TLS tests ------------------------------------
 * A folder /tmp/kit-tls-PID-XXXXXX, PID the process that made it, which
 * removes it at exit.  A forked test that fails ends without running
 * atexit handlers, so each new folder first sweeps those whose maker is
 * gone. */

static char tls_dir[64];
static pid_t tls_maker;

static void rm_rf(const char *dir)
{
    char cmd[320];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "kit_tls_certs: could not remove %s\n", dir);
}

/* Not in a forked test: the folder is its parent's, still in use. */
static void tls_certs_remove(void)
{
    if (tls_maker == getpid())
        rm_rf(tls_dir);
}

static void tls_certs_sweep(void)
{
    DIR *d = opendir("/tmp");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        const char *pid = e->d_name + strlen("kit-tls-");
        size_t digits = strspn(pid, "0123456789");
        if (strncmp(e->d_name, "kit-tls-", 8) != 0 || digits == 0 || pid[digits] != '-')
            continue;
        if (kill((pid_t)atol(pid), 0) == 0 || errno != ESRCH)
            continue;                           /* its maker still runs */
        char path[300];
        snprintf(path, sizeof path, "/tmp/%s", e->d_name);
        rm_rf(path);
    }
    if (d)
        closedir(d);
}

const char *kit_tls_certs(void)
{
    if (tls_dir[0])
        return tls_dir;
    const char *script = "tests/tls-certs.sh";
    ck_assert_msg(access(script, R_OK) == 0,
                  "%s not found: run the tests from the kit's top folder (make test)", script);
    tls_certs_sweep();
    char dir[64], cmd[256];
    snprintf(dir, sizeof dir, "/tmp/kit-tls-%ld-XXXXXX", (long)getpid());
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
    snprintf(cmd, sizeof cmd, "sh %s '%s'", script, dir);
    int status = system(cmd);
    if (status != 0)
        rm_rf(dir);
    ck_assert_msg(status == 0, "%s failed (status %d; its message is above): "
                  "is the openssl command installed? (make deps)", cmd, status);
    snprintf(tls_dir, sizeof tls_dir, "%s", dir);
    tls_maker = getpid();
    atexit(tls_certs_remove);
    return tls_dir;
}
