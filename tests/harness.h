/*
 * harness.h - what every test program of the kit shares.
 *
 * Each test program is one Check suite with a main() of one line:
 *
 *     int main(void) { return kit_run_suite(my_suite()); }
 *
 * Tests run forked (a crash or a hang fails one test, not the run) with a
 * time limit each; CK_TIMEOUT_MULTIPLIER stretches it under Valgrind.
 */
#ifndef KIT_HARNESS_H
#define KIT_HARNESS_H

#include <check.h>
#include <sys/types.h>
#include <stddef.h>
#include <stdio.h>

#include "green.h"

/* Seconds a test may run before Check kills it. */
#define KIT_TEST_TIMEOUT 10

/* 0 when tests run without fork (CK_FORK=no): then a test that forks, or
 * that expects a signal, must be left out.  `make test-aarch64` runs so,
 * because qemu-user's fork() hangs on this machine's kernel. */
int kit_can_fork(void);

/* 1 when the tests run under Valgrind (`make test VALGRIND=1`), which
 * makes everything some 20 times slower: a test of timing or of many
 * connections scales its figures down then. */
int kit_valgrind(void);

/* A test case with the kit's time limit. */
TCase *kit_tcase(const char *name);

/* Capture what the code under test prints on stderr (the library's
 * deadlock and error reports): start, run the code, then end, which puts
 * stderr back and copies what was printed into buf (NUL-terminated). */
struct kit_capture {
    int saved_fd;
    FILE *file;
};
void kit_capture_start(struct kit_capture *c);
void kit_capture_end(struct kit_capture *c, char *buf, size_t size);

/* Run fn(arg) in a forked child whose stderr goes to a pipe, for a test of
 * how a program dies (a crash the library must report by name).  The
 * child sets `sig` back to its default action first (a sanitizer may have
 * installed its own), runs fn, and exits 4 if fn returns.  Returns the
 * child's wait status; what it wrote on stderr is in err (NUL-terminated).
 * Only where kit_can_fork(). */
int kit_die_in_child(void (*fn)(void *), void *arg, int sig, char *err, size_t size);

/* ---- What a failing check tells the student ---------------------------
 *
 * A message says what was expected, what came instead, and where to read:
 *
 *     ck_assert_msg(rc == 0, "expected 0, got %d (%s); "
 *                   KIT_LESSON(LESSON, "Joining: join and joinall"),
 *                   rc, kit_why(rc, errno));
 *
 * KIT_LESSON(file, section) is the string literal
 * "see FILE, 'SECTION'": both arguments are string literals (or macros of
 * one, like a test file's #define LESSON "chapters/03-hub/README.md"), so
 * it joins the format string, or goes in a "%s" as an argument of its
 * own.  SECTION is a heading of FILE, word for word: tests/check-lessons.sh
 * finds every KIT_LESSON and fails when the file or the heading is gone. */
#define KIT_LESSON(file, section) "see " file ", '" section "'"

/* What errno says about a call that returned rc: its message when the call
 * failed (rc < 0), else "no error" (errno means nothing then). */
const char *kit_why(long rc, int err);

/* ---- Setup and cleanup that several test files need ------------------
 * (a helper that a second test file needs moves here, instead of being
 * copied: tests/exercises/README.md) */

/* The answer of an application that buffers the whole body, as most do,
 * with a limit of its own: 200 and the body; over `limit`, 413 (what
 * green_input_read_all's EMSGSIZE means); any other failure, 400. */
green_body_t kit_buffered_echo(green_environ_t *env, green_response_t *resp, size_t limit);

/* Two connected TCP sockets on 127.0.0.1, both non-blocking, made with the
 * library's own calls: *client and *server (the accepted end).  Done from
 * one greenlet: the kernel completes the handshake before anyone accepts.
 * A failure fails the test, as test setup. */
void kit_tcp_pair(int *client, int *server);

/* ---- A server forked by the test, and a blocking client ----------------
 *
 * For tests that fork a whole server (chapter 12's master) and talk to it
 * without a hub of their own. */

/* Sleep s seconds (the thread, not a greenlet). */
void kit_nap(double s);

/* The live (not zombie) children of `parent`, read from /proc: at most
 * `max` pids in out; their number. */
int kit_children(pid_t parent, pid_t *out, int max);

/* Is pid among the n pids of set? */
int kit_pid_in(const pid_t *set, int n, pid_t pid);

/* A blocking TCP connection to 127.0.0.1:port whose reads give up after
 * `timeout` seconds; the fd, or -1. */
int kit_dial(int port, double timeout);

/* Read the response on fd until the server closes it (send HTTP/1.0
 * requests) into buf, NUL-terminated; its status code, or -1 (a reset, a
 * timeout, nothing). */
int kit_read_response(int fd, char *buf, size_t size);

/* Join the n greenlets (3 s in all), kill those still alive, free them
 * all: a test's cleanup, whatever the code under test left running. */
void kit_join_free(green_t **gs, int n);

/* Events the hub's libevent base holds (added, not yet fired or deleted):
 * a wait that returned must leave none behind. */
int kit_pending_events(void);

/* A greenlet that sleeps `every` seconds at a time and counts its
 * wake-ups: if it counts while the code under test waits, that code parked
 * on the hub instead of blocking the thread.  kit_ticks() is the count so
 * far; kit_ticker_stop() returns the count, then stops the ticker and
 * frees it.  One ticker at a time.
 *
 * Assert at least ONE tick, never a rate: a loaded machine can stall the
 * test for the whole wait, and then every timer fires at once.  One tick
 * is certain all the same: kit_ticker_start() yields once, so the ticker's
 * timer is armed before the wait under test arms its own, and the hub
 * fires expired timers in deadline order.  Code that blocks the thread
 * gives 0. */
green_t *kit_ticker_start(double every);
int kit_ticks(void);
int kit_ticker_stop(green_t *ticker);

/* fork(), for a child that must never outlive the test: it gets SIGKILL
 * when the test process dies (PR_SET_PDEATHSIG), even when Check kills a
 * test that hangs, and exits at once if the test died before it could ask
 * for that.  Fails the test when fork fails.  Returns 0 in the child, its
 * pid in the test. */
pid_t kit_fork_tied(void);

/* ---- A redis-server of the test's own (chapter 13) --------------------
 *
 * Never the system's service: a private server on 127.0.0.1, without
 * persistence, that dies with the test process (PR_SET_PDEATHSIG) even
 * when Check kills a test that hangs. */

/* Start redis-server on 127.0.0.1:*port (*port 0: a free port, written
 * back) and wait until it answers PING.  Returns its pid.  Fails the test
 * when it cannot: redis-server missing (the message names the package and
 * `make deps`), or a server that never answers. */
pid_t kit_redis_start(int *port);

/* Kill it (SIGKILL: to its clients, a crash) and reap it. */
void kit_redis_kill(pid_t pid);

/* ---- Certificates for the TLS tests (chapter 4's tls.h) ---------------
 *
 * Made at test time by tests/tls-certs.sh (never committed), once per test
 * process, into a fresh folder under /tmp that goes when the process that
 * made it exits.  Its files: ca.pem ca.key (our own CA), cert.pem key.pem
 * (signed by it for localhost, 127.0.0.1 and ::1), other.pem other.key
 * (signed by it for wrong.example).  Returns the folder; a failure (no
 * openssl, the script not found from the current folder) fails the test.
 * Call it from an unchecked fixture (tcase_add_unchecked_fixture: it runs
 * in the process that forks the tests) to make one CA for all of them. */
const char *kit_tls_certs(void);

/* ---- Running a suite, and what the grader reads ----------------------
 *
 * kit_run_suite(s) runs the suite and returns main's exit status: 0 when
 * every test passed, 1 when some failed, 2 when the run was misused.  Its
 * environment (read by the scripts of tests/grade/ and by tests/run-tests.sh):
 *
 *   KIT_TEST=NAME     run only the test NAME (the name in START_TEST), e.g.
 *                     to run one test alone, in the foreground, under gdb:
 *                       CK_FORK=no KIT_TEST=first_values gdb -q -ex run \
 *                         --args build/asm/grade/01-generators/fib
 *   KIT_LIST=1        run nothing: list the tests' names, one a line.
 *   KIT_RESULTS=FILE  write the verdict to FILE instead of printing Check's
 *                     report on stdout.  The code under test prints on
 *                     stdout and stderr, so a verdict there could be forged
 *                     (a student's printf("100%: Checks: 8 ...")); the file
 *                     is written by the parent process after the tests
 *                     ran, and KIT_RESULTS is removed from the environment
 *                     before any test starts.  Lines, tab-separated:
 *                       test    NAME                        (KIT_LIST=1)
 *                       result  pass|fail|error  NAME  TCASE  FILE:LINE  MESSAGE
 *                       total   PASSED  RUN
 *                     "error" is a test that crashed, timed out or exited;
 *                     MESSAGE is Check's ("Received signal 11 ...", "Test
 *                     timeout expired").  The total line comes last: a file
 *                     without it means the run itself died.
 *   CK_FORK, CK_RUN_CASE, CK_RUN_SUITE, CK_TIMEOUT_MULTIPLIER: Check's own.
 *
 * The harness knows each result's test by name because every
 * tcase_add_*test macro of Check ends in _tcase_add_test, and every
 * TCase joins the suite through suite_add_tcase: both are routed through
 * the harness below, which records the order in which Check will run them. */
int kit_run_suite(Suite *s);

void kit_add_test(TCase *tc, const TTest *t, int signal, int allowed_exit_value,
                  int start, int end);
void kit_suite_add_tcase(Suite *s, TCase *tc);
#define _tcase_add_test kit_add_test
#define suite_add_tcase kit_suite_add_tcase

#endif
