/* harness.c - see harness.h. */
#include "harness.h"

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

TCase *kit_tcase(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, KIT_TEST_TIMEOUT);
    return tc;
}

int kit_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);

    int total = srunner_ntests_run(sr);
    int failed = srunner_ntests_failed(sr);
    printf("grade: %d/%d checks passed\n", total - failed, total);
    if (failed > 0) {
        TestResult **results = srunner_failures(sr);
        printf("grade: first failure: %s\n", tr_msg(results[0]));
        free(results);
    }
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
