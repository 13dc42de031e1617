/*
 * tests/lib/gdb.c - gdb that knows greenlets (lib/03-hub/green-gdb.py):
 * `info greenlets` and `greenlet bt N`, checked on a real gdb session.
 *
 * The test builds nothing: it runs `gdb -batch -nx` on chapter 3's stuck
 * demo (the Makefile builds it before this test), stops it at its first
 * tick, when A and B join each other, the reader waits on a pipe and main
 * joins A, and reads what gdb printed.  Twice: with the extension loaded
 * by gdb itself from the program's .debug_gdb_scripts section
 * (lib/03-hub/gdb_script.c; -iex puts the build folder in gdb's auto-load
 * safe-path), and by an explicit `source`.  Both back ends run it: `make
 * test` and `make test CTX=ucontext`.
 *
 * Under Valgrind (make test VALGRIND=1) only this test program is
 * Valgrind's: gdb, and the demo gdb starts, are exec'd without it (no
 * --trace-children), so the session is the same and the test runs.
 * Under the sanitizers, LeakSanitizer refuses to work under ptrace and
 * fails the demo's exit: the demo runs with ASAN_OPTIONS=detect_leaks=0.
 */
#include "harness.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LESSON "chapters/03-hub/README.md"
#define SECTION KIT_LESSON(LESSON, "Debugging greenlets with gdb")
#define GDB_SECONDS 120         /* gdb is slow to start on a loaded machine */
#define SCRIPT "lib/03-hub/green-gdb.py"    /* from the top of the kit */

/* The build folder this test was built in ($(B): build/asm, ...), from
 * where the test program itself lies: $(B)/tests/lib/gdb. */
static void build_dir(char *out, size_t size)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    ck_assert_msg(n > 0, "readlink /proc/self/exe: %s", strerror(errno));
    self[n] = '\0';
    for (int up = 0; up < 3; up++)
        *strrchr(self, '/') = '\0';
    snprintf(out, size, "%s", self);
}

/* The demo must not trip over LeakSanitizer, which cannot run under ptrace
 * (a sanitized build, make test SANITIZE=1; harmless otherwise). */
static void no_leak_check(void)
{
    const char *old = getenv("ASAN_OPTIONS");
    char opts[1024];
    snprintf(opts, sizeof opts, "%s%sdetect_leaks=0", old ? old : "", old ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
}

/* The end of gdb's output, short enough for a Check message (a message
 * longer than Check's limit kills the test instead of failing it). */
static const char *clip(const char *out)
{
    size_t n = strlen(out);
    return n > 1500 ? out + n - 1500 : out;
}

/* Run gdb with argv (argv[0] is "gdb"), its stdout and stderr into out
 * (NUL-terminated), within GDB_SECONDS.  A missing gdb fails the test. */
static void run_gdb(char *const argv[], char *out, size_t size)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = kit_fork_tied();
    if (pid == 0) {
        setpgid(0, 0);          /* gdb and the demo: one group to kill */
        dup2(p[1], 1);
        dup2(p[1], 2);
        close(p[0]);
        no_leak_check();
        execvp("gdb", argv);
        dprintf(1, "kit: cannot run gdb: %s\n", strerror(errno));
        _exit(127);
    }
    close(p[1]);
    size_t len = 0;
    time_t deadline = time(NULL) + GDB_SECONDS;
    struct pollfd pfd = { .fd = p[0], .events = POLLIN };
    while (len + 1 < size && time(NULL) < deadline) {
        if (poll(&pfd, 1, 1000) <= 0)
            continue;
        ssize_t n = read(p[0], out + len, size - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    out[len] = '\0';
    close(p[0]);
    int timed_out = time(NULL) >= deadline;
    if (timed_out)
        kill(-pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    ck_assert_msg(!(WIFEXITED(status) && WEXITSTATUS(status) == 127
                    && strstr(out, "kit: cannot run gdb")),
                  "gdb is not installed, and this test runs it: install it "
                  "(make deps, or apt-get install gdb / dnf install gdb)");
    ck_assert_msg(!timed_out, "gdb did not finish within %d s; it printed (the end):\n%s",
                  GDB_SECONDS, clip(out));
}

/* The text gdb printed after `echo ==name==` and before the next marker
 * (the session below marks each command's output so), into buf. */
static const char *section(const char *out, const char *name, char *buf, size_t size)
{
    char marker[64];
    snprintf(marker, sizeof marker, "==%s==\n", name);
    const char *start = strstr(out, marker);
    ck_assert_msg(start != NULL, "gdb's output has no '%s' part: did a command "
                  "before it fail? gdb printed (the end):\n%s", name, clip(out));
    start += strlen(marker);
    const char *end = strstr(start, "==");
    size_t n = end ? (size_t)(end - start) : strlen(start);
    snprintf(buf, size, "%.*s", (int)(n < size ? n : size - 1), start);
    return buf;
}

/* Assert that part `name` of gdb's output contains `want`. */
static void expect(const char *out, const char *name, const char *want, const char *why)
{
    char part[8192];
    section(out, name, part, sizeof part);
    ck_assert_msg(strstr(part, want) != NULL,
                  "%s: expected '%s' in gdb's '%s', got:\n%s\n%s",
                  why, want, name, clip(part), SECTION);
}

/* The line of `info greenlets` for greenlet `name` contains `want`
 * (and gives it id `id`: the ids the backtraces below ask for). */
static void expect_greenlet(const char *out, int id, const char *name, const char *want)
{
    char part[8192], head[64];
    section(out, "info", part, sizeof part);
    snprintf(head, sizeof head, "%4d  %-20s ", id, name);
    const char *line = strstr(part, head);
    ck_assert_msg(line != NULL, "expected greenlet %d '%s' in `info greenlets`, "
                  "got:\n%s\n%s", id, name, clip(part), SECTION);
    const char *eol = strchr(line, '\n');
    const char *hit = strstr(line, want);
    ck_assert_msg(hit != NULL && (eol == NULL || hit < eol),
                  "expected '%s' on %s's line of `info greenlets`, got:\n%s\n%s",
                  want, name, clip(part), SECTION);
}

/* The whole session: stuck stopped at its first tick (every other
 * greenlet parked), the extension's commands, then `continue` to the end.
 * The option `load` with `arg` loads the extension. */
static void session(const char *load, const char *arg, char *out, size_t size)
{
    char dir[PATH_MAX], demo[PATH_MAX + 32];
    build_dir(dir, sizeof dir);
    snprintf(demo, sizeof demo, "%s/chapters/03-hub/stuck", dir);
    ck_assert_msg(access(demo, X_OK) == 0, "%s is missing: make builds it "
                  "before this test (Makefile: $(B)/tests/lib/gdb)", demo);
    char *const argv[] = {
        "gdb", "-batch", "-nx", (char *)load, (char *)arg,
        "-ex", "break show_tick", "-ex", "run 2",
        "-ex", "echo ==bt before==\\n", "-ex", "bt",
        "-ex", "echo ==info==\\n", "-ex", "info greenlets",
        "-ex", "echo ==A==\\n", "-ex", "greenlet bt 2",
        "-ex", "echo ==reader==\\n", "-ex", "greenlet bt 4",
        "-ex", "echo ==main==\\n", "-ex", "greenlet bt 0",
        "-ex", "echo ==ticker==\\n", "-ex", "greenlet bt 5",
        "-ex", "echo ==frame==\\n", "-ex", "greenlet frame 2",
        "-ex", "echo ==bt after==\\n", "-ex", "bt",
        "-ex", "echo ==end==\\n", "-ex", "delete", "-ex", "continue",
        demo, NULL
    };
    run_gdb(argv, out, size);
}

/* What both ways of loading must show. */
static void check_session(const char *out)
{
    expect_greenlet(out, 0, "main", "waiting in green_join, joining 'A'");
    expect_greenlet(out, 1, "hub", "in its loop");
    expect_greenlet(out, 2, "A", "waiting in green_join, joining 'B'");
    expect_greenlet(out, 3, "B", "waiting in green_join, joining 'A'");
    expect_greenlet(out, 4, "reader", "waiting in green_wait_read, on fd");
    expect_greenlet(out, 4, "reader", "(read)");
    expect_greenlet(out, 5, "ticker", "running");

    /* Each suspended greenlet's own stack: its function in stuck.c, the
     * call it waits in. */
    expect(out, "A", "join_other (", "greenlet bt of a joining greenlet");
    expect(out, "A", "green_join (", "greenlet bt of a joining greenlet");
    expect(out, "reader", "read_line (", "greenlet bt of a reader");
    expect(out, "reader", "green_wait_read (", "greenlet bt of a reader");
    expect(out, "main", "main (", "greenlet bt of the main greenlet");
    expect(out, "main", "stuck.c:", "greenlet bt of the main greenlet");
    expect(out, "ticker", "show_tick (", "greenlet bt of the running greenlet is bt");
    expect(out, "frame", "#0 ", "greenlet frame prints the frame");

    /* The thread's registers are its own again: the same bt, and the
     * program goes on to its normal end. */
    char before[8192], after[8192];
    section(out, "bt before", before, sizeof before);
    section(out, "bt after", after, sizeof after);
    ck_assert_msg(strstr(before, "show_tick (") != NULL,
                  "expected the breakpoint in show_tick, got:\n%s", clip(before));
    ck_assert_msg(strcmp(before, after) == 0, "the thread's bt changed after the "
                  "greenlet commands (registers not restored):\nbefore:\n%.700s\nafter:\n%.700s",
                  before, after);
    expect(out, "end", "exited normally", "after `continue`, stuck ends (its "
           "ticker stops after 2 ticks, then the deadlock report)");
}

START_TEST(test_auto_loaded)
{
    static char out[1 << 16];
    char dir[PATH_MAX], allow[PATH_MAX + 32];
    build_dir(dir, sizeof dir);
    snprintf(allow, sizeof allow, "add-auto-load-safe-path %s", dir);
    session("-iex", allow, out, sizeof out);
    ck_assert_msg(strstr(out, "auto-loading has been declined") == NULL,
                  "gdb declined to load the script from the program: is the "
                  "build folder in its safe-path? gdb printed (the end):\n%s", clip(out));
    check_session(out);
}
END_TEST

START_TEST(test_sourced)
{
    static char out[1 << 16];
    session("-ex", "source " SCRIPT, out, sizeof out);
    check_session(out);
}
END_TEST

static Suite *gdb_suite(void)
{
    Suite *s = suite_create("gdb");
    TCase *tc = kit_tcase("gdb");
    tcase_set_timeout(tc, GDB_SECONDS + 30);
    tcase_add_test(tc, test_auto_loaded);
    tcase_add_test(tc, test_sourced);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(gdb_suite()); }
