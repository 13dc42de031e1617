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
#include <stddef.h>
#include <stdio.h>

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

/* Run s; print Check's report, then "grade: P/T checks passed" and, when
 * some failed, "grade: first failure: MESSAGE" (read by tests/grade.sh).
 * Returns the exit status for main: 0 when every test passed, else 1. */
int kit_run_suite(Suite *s);

#endif
