/*
 * grader.c - the grader's own tests (`make test-grader`): it grades the
 * broken answers of tests/grader/answers/ and checks what a student is told.
 * See tests/grader/README.md for the answers and what each must produce.
 *
 * Grading takes a while (a timeout is a timeout), so it all happens once,
 * in an unchecked fixture (in the parent, not under a test's time limit);
 * each test then reads what the grader printed.  Run from the kit's root,
 * with GRADER_MAKE (the make to call) and B (the build folder) set.
 */
#include <glob.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* Seconds a test may run while graded here: short, to keep this suite
 * quick; every check of a right answer still passes in a few ms. */
#define TIMEOUT "2"

static char work[256];              /* $B/grader: everything of this run */
static const char *make_cmd;

/* ---- Running the grader --------------------------------------------- */

/* Run a shell command; returns its exit status (or 128 + signal). */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    if (st == -1)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* `make -s ARGS` with the grader's environment; stdout in work/NAME.out,
 * stderr in work/NAME.err, the exit status in work/NAME.status. */
static void grade(const char *name, const char *args)
{
    sh("GRADE_TIMEOUT=" TIMEOUT " GRADE_PROGRESS=1 GRADE_STATE=%s/state "
       "%s -s --no-print-directory %s >%s/%s.out 2>%s/%s.err; echo $? >%s/%s.status",
       work, make_cmd, args, work, name, work, name, work, name);
}

/* The whole of a file, NUL-terminated ("" when it cannot be read). */
static char *slurp(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *slurp(const char *fmt, ...)
{
    char path[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (f) {
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
            fwrite(chunk, 1, n, mem);
        fclose(f);
    }
    fclose(mem);
    return buf;
}

/* The part of the table about exercise e: its row and the lines under it. */
static char *section(const char *table, const char *e)
{
    char row[128];
    snprintf(row, sizeof row, "\n%s ", e);
    const char *start = strstr(table, row);
    if (start == NULL)
        return strdup("");
    start++;
    const char *end = start;
    for (;;) {                  /* up to the next line not indented */
        end = strchr(end, '\n');
        if (end == NULL || (end[1] != ' ' || strncmp(end + 1, "  chapter", 9) == 0))
            break;
        end++;
    }
    return end ? strndup(start, (size_t)(end - start)) : strdup(start);
}

static int status_of(const char *name)
{
    char *s = slurp("%s/%s.status", work, name);
    int st = *s ? atoi(s) : -1;
    free(s);
    return st;
}

/* make watch, in a process group of its own so that it can be stopped
 * whole; waits until its output holds `want` (or `seconds` pass). */
static int wait_for(const char *path, const char *want, int seconds)
{
    for (int i = 0; i < seconds * 10; i++) {
        char *out = slurp("%s", path);
        int found = strstr(out, want) != NULL;
        free(out);
        if (found)
            return 1;
        usleep(100 * 1000);
    }
    return 0;
}

static void run_watch(void)
{
    char dir[600], out[600];
    snprintf(dir, sizeof dir, "%s/watched", work);
    snprintf(out, sizeof out, "%s/watch.out", work);
    sh("mkdir -p %s && cp -R tests/pristine/. %s/ && cp tests/grader/answers/01-generators/fib/fib.c "
       "%s/01-generators/fib/", dir, dir, dir);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        char cmd[2048];
        snprintf(cmd, sizeof cmd, "GRADE_TIMEOUT=" TIMEOUT " exec %s -s --no-print-directory "
                 "watch DIR=%s >%s 2>&1", make_cmd, dir, out);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    /* The first grading shows fib's crash; a save of a right answer makes
     * it grade fib again, pass, and move on to the next exercise. */
    if (wait_for(out, "first_values", 60)) {
        sleep(1);               /* a later mtime than the grading's stamp */
        sh("cp solutions/01-generators/fib/fib.c %s/01-generators/fib/fib.c", dir);
        wait_for(out, "stuck? make hint E=interleave\n", 60);
    }
    kill(-pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

static void grade_everything(void)
{
    const char *b = getenv("B");
    make_cmd = getenv("GRADER_MAKE");
    if (make_cmd == NULL || *make_cmd == '\0')
        make_cmd = "make";
    snprintf(work, sizeof work, "%s/grader", b && *b ? b : "build/asm");
    sh("rm -rf %s && mkdir -p %s/answers", work, work);

    /* The stubs, the broken answers over them, and one right answer. */
    sh("cp -R tests/pristine/. %s/answers/ && cp -R tests/grader/answers/. %s/answers/ && "
       "cp solutions/11-http/request_line/*.c %s/answers/11-http/request_line/", work, work, work);
    char args[1024];
    snprintf(args, sizeof args, "grade DIR=%s/answers CSV=%s/table.csv", work, work);
    grade("grade", args);
    snprintf(args, sizeof args, "grade DIR=%s/answers E=fib", work);
    grade("e-name", args);
    snprintf(args, sizeof args, "grade DIR=%s/answers E=01-generators/fib", work);
    grade("e-path", args);
    snprintf(args, sizeof args, "grade DIR=%s/answers N=1", work);
    grade("n-1", args);
    snprintf(args, sizeof args, "grade DIR=%s/answers N=01", work);
    grade("n-01", args);
    grade("untouched", "grade DIR=tests/pristine");
    snprintf(args, sizeof args, "progress DIR=%s/answers", work);
    grade("progress", args);
    for (int i = 1; i <= 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "hint%d", i);
        grade(name, "hint E=fib");
    }
    snprintf(args, sizeof args, "reset DIR=%s/answers E=chunked", work);
    grade("reset", args);
    run_watch();
}

/* ---- The table -------------------------------------------------------- */

static char *table, *errors;

static void load(void)
{
    table = slurp("%s/grade.out", work);
    errors = slurp("%s/grade.err", work);
}

static void unload(void)
{
    free(table);
    free(errors);
}

#define ASSERT_HAS(text, want, what) \
    ck_assert_msg(strstr((text), (want)) != NULL, "%s: expected \"%s\" in:\n%s", (what), (want), (text))

/* How many exercises the kit has (each tests/exercises/NN-slug/NAME.c), so
 * that a new exercise does not break the counts below. */
static int exercise_count(void)
{
    glob_t g;
    int n = glob("tests/exercises/[0-9][0-9]-*/*.c", 0, NULL, &g) == 0 ? (int)g.gl_pathc : 0;
    globfree(&g);
    return n;
}

/* A line the grader prints with a count in it, made with printf. */
static const char *counted(const char *fmt, int n)
{
    static char buf[4][128];
    static int next;
    char *b = buf[next++ % 4];
    snprintf(b, sizeof buf[0], fmt, n);
    return b;
}

START_TEST(segfault_names_test_and_gives_gdb_command)
{
    char *s = section(table, "01-generators/fib");
    ASSERT_HAS(s, "FAIL", "a crashing answer");
    ASSERT_HAS(s, "first_values: crashed", "the row names the crashed test");
    ASSERT_HAS(s, "segmentation fault (signal 11)", "what the crash was");
    ASSERT_HAS(s, "CK_FORK=no KIT_TEST=first_values \\\n", "the gdb command selects the test");
    ASSERT_HAS(s, "gdb -q -ex run --args build/", "the gdb command");
    ASSERT_HAS(s, "/01-generators/fib\n", "the gdb command names the test program");
    free(s);
}
END_TEST

/* The command the row gives really runs that one test, in the foreground. */
START_TEST(gdb_command_runs_that_test_alone)
{
    char *s = section(table, "01-generators/fib");
    const char *at = strstr(s, "CK_FORK=no KIT_TEST=");
    ck_assert_msg(at != NULL, "no command in:\n%s", s);
    char cmd[1024];
    size_t n = strcspn(at, "\n");
    snprintf(cmd, sizeof cmd, "%.*s", (int)n, at);
    char *cont = strstr(cmd, " \\");
    ck_assert_msg(cont != NULL, "the command's first line should end in a backslash: %s", cmd);
    *cont = '\0';
    const char *prog = strstr(at, "--args ");
    ck_assert_msg(prog != NULL, "no --args in:\n%s", at);
    prog += strlen("--args ");
    n = strcspn(prog, "\n");
    /* Without gdb: the test alone, in this process, dies of SIGSEGV. */
    int st = sh("%s %.*s >%s/alone.out 2>&1", cmd, (int)n, prog, work);
    char *out = slurp("%s/alone.out", work);
    ck_assert_msg(st == 128 + SIGSEGV || st == 139, "the test alone should die of SIGSEGV "
                  "(status 139), got status %d; output:\n%s", st, out);
    free(out);
    if (sh("command -v gdb >/dev/null") == 0) {
        sh("%s gdb -q -batch -ex run --args %.*s >%s/gdb.out 2>&1 </dev/null", cmd, (int)n, prog, work);
        out = slurp("%s/gdb.out", work);
        ASSERT_HAS(out, "SIGSEGV", "under gdb, the crash stops the program");
        free(out);
    }
    free(s);
}
END_TEST

START_TEST(warnings_are_shown)
{
    char *s = section(table, "01-generators/fib");
    ASSERT_HAS(s, "warnings: 1", "a warning of the student's code");
    ASSERT_HAS(s, "01-generators/fib/fib.c:", "the warning's place");
    ASSERT_HAS(s, "unused variable 'unused_total'", "gcc's words");
    free(s);
}
END_TEST

START_TEST(compile_error_is_shown)
{
    char *s = section(table, "01-generators/interleave");
    ASSERT_HAS(s, "0/", "a program that does not compile scores nothing");
    ASSERT_HAS(s, "does not compile", "the row");
    ASSERT_HAS(s, "interleave.c:", "the error's place");
    ASSERT_HAS(s, "error: expected ';'", "gcc's error");
    free(s);
}
END_TEST

START_TEST(assembler_error_is_shown)
{
    char *s = section(table, "02-greenlets/switch");
    ASSERT_HAS(s, "does not compile", "the row");
    ASSERT_HAS(s, "Error: no such instruction", "the assembler's Error: line");
    ASSERT_HAS(s, "pushq2", "the assembler names the typo");
    free(s);
}
END_TEST

START_TEST(stack_overflow_names_the_greenlet)
{
    char *s = section(table, "02-greenlets/treewalk");
    ASSERT_HAS(s, "crashed: a greenlet overflowed its stack", "the diagnosis");
    ASSERT_HAS(s, "green: greenlet 'greenlet-1' overflowed its stack", "the library's report");
    ASSERT_HAS(s, "gdb -q -ex run", "the gdb command");
    free(s);
}
END_TEST

/* An answer that retries on EDEADLK forever prints the hub's report each
 * time: stopped at the cap, and the report reaches the student. */
START_TEST(runaway_output_is_capped_and_deadlock_shown)
{
    char *s = section(table, "03-hub/sleep");
    ASSERT_HAS(s, "printed more than 1 MiB and was stopped", "the cap");
    ASSERT_HAS(s, "green: deadlock: every greenlet is waiting", "the library's report");
    /* Its tests' output files sit beside its log: build/.../03-hub/sleep.d/ */
    const char *at = strstr(s, "details: ");
    ck_assert_msg(at != NULL, "no log named under the row:\n%s", s);
    at += strlen("details: ");
    int n = (int)strcspn(at, "\n") - (int)strlen(".log");
    int st = sh("find %.*s.d -name '*.out' -size +1025k | grep -q .", n, at);
    ck_assert_msg(st != 0, "a test's output file in %.*s.d is over 1 MiB", n, at);
    st = sh("find %.*s.d -name '*.out' -size +1000k | grep -q .", n, at);
    ck_assert_msg(st == 0, "no output file in %.*s.d reached the cap: did the test run?", n, at);
    free(s);
}
END_TEST

START_TEST(endless_loop_times_out)
{
    char *s = section(table, "08-threads/crunch");
    ASSERT_HAS(s, "timed out after " TIMEOUT " s", "an endless loop");
    ASSERT_HAS(s, "CK_FORK=no KIT_TEST=", "the gdb command");
    free(s);
}
END_TEST

START_TEST(fake_verdict_is_not_believed)
{
    char *s = section(table, "11-http/chunked");
    ASSERT_HAS(s, " 0/9  FAIL", "an answer that prints \"9/9 checks passed\"");
    free(s);
}
END_TEST

START_TEST(right_answer_passes)
{
    char *s = section(table, "11-http/request_line");
    ASSERT_HAS(s, "9/9  PASS", "the solution of request_line");
    free(s);
}
END_TEST

START_TEST(untouched_is_not_started)
{
    char *s = section(table, "04-io/readline");
    ASSERT_HAS(s, "0/9  not started", "an untouched stub");
    free(s);
    char *all = slurp("%s/untouched.out", work);
    ASSERT_HAS(all, "Score: 0/", "untouched stubs score nothing");
    ASSERT_HAS(all, counted("0 done, 0 failing, %d not started", exercise_count()),
               "every stub is not started");
    ck_assert_msg(strstr(all, "FAIL") == NULL && strstr(all, "PASS") == NULL,
                  "an untouched stub is neither PASS nor FAIL:\n%s", all);
    ck_assert_msg(status_of("untouched") != 0, "make grade on untouched stubs should exit non-zero");
    free(all);
}
END_TEST

/* How many tests exercise e has, as the harness lists them (KIT_LIST=1)
 * from the program built against its stub. */
static int listed_tests(const char *e)
{
    const char *b = getenv("B");
    char list[512];
    snprintf(list, sizeof list, "%s/%s.list", work, strrchr(e, '/') + 1);
    sh("%s -s --no-print-directory %s/stubs/%s >/dev/null 2>&1; KIT_LIST=1 KIT_RESULTS=%s %s/stubs/%s "
       ">/dev/null 2>&1", make_cmd, b && *b ? b : "build/asm", e, list, b && *b ? b : "build/asm", e);
    char *text = slurp("%s", list);
    int n = 0;
    for (char *p = text; (p = strstr(p, "test\t")) != NULL; p += 5)
        n += p == text || p[-1] == '\n';
    free(text);
    return n;
}

/* A row that ran no test (not started, does not compile) still shows how
 * many there are: the harness's list, not a count of START_TEST in the
 * test file (switch.c has a test that only some builds include). */
START_TEST(totals_come_from_the_harness)
{
    const char *rows[][2] = {
        { "04-io/readline", "not started" },
        { "01-generators/interleave", "FAIL" },
        { "02-greenlets/switch", "FAIL" },
    };
    for (int i = 0; i < 3; i++) {
        int n = listed_tests(rows[i][0]);
        ck_assert_msg(n > 0, "KIT_LIST=1 listed no test for %s", rows[i][0]);
        char want[64];
        snprintf(want, sizeof want, " 0/%d  %s", n, rows[i][1]);
        char *s = section(table, rows[i][0]);
        ck_assert_msg(strstr(s, want) != NULL, "the row of %s should read \"%s\" (the harness lists %d "
                      "tests):\n%s", rows[i][0], want, n, s);
        free(s);
    }
}
END_TEST

START_TEST(rows_fit_100_columns)
{
    const char *names[] = { "grade", "untouched", "progress", "watch", NULL };
    for (int i = 0; names[i]; i++) {
        char *out = slurp("%s/%s.out", work, names[i]);
        int line = 1;
        for (char *p = out; *p; line++) {
            size_t n = strcspn(p, "\n");
            ck_assert_msg(n <= 100, "%s.out, line %d is %zu columns: %.*s", names[i], line, n, (int)n, p);
            p += n + (p[n] == '\n');
        }
        free(out);
    }
}
END_TEST

START_TEST(subtotals_score_and_exit_status)
{
    ASSERT_HAS(table, "\n  chapter 1                  0/16\n", "chapter 1's subtotal");
    ASSERT_HAS(table, "\n  chapter 11                 9/27\n", "chapter 11's subtotal");
    ASSERT_HAS(table, "Score: 10/", "the score");
    /* The answers: 1 passes, 7 fail, every other exercise is untouched. */
    ASSERT_HAS(table, counted("(1 done, 7 failing, %d not started;", exercise_count() - 8),
               "the counts");
    ASSERT_HAS(table, "next: 01-generators/fib\n  open build/", "the next exercise");
    ASSERT_HAS(table, "/01-generators/fib/fib.h\n  stuck? make hint E=fib\n", "where to start");
    ck_assert_msg(status_of("grade") != 0, "make grade should exit non-zero when something fails");
}
END_TEST

START_TEST(progress_while_grading)
{
    ASSERT_HAS(errors, "grading 08-threads/crunch: test 1/", "progress on stderr");
    ASSERT_HAS(errors, " s)\n", "elapsed time in the progress line");
}
END_TEST

START_TEST(log_per_exercise)
{
    char *s = section(table, "01-generators/fib");
    const char *at = strstr(s, "details: ");
    ck_assert_msg(at != NULL, "no log named under the row:\n%s", s);
    char path[512];
    snprintf(path, sizeof path, "%.*s", (int)strcspn(at + 9, "\n"), at + 9);
    char *log = slurp("%s", path);
    ASSERT_HAS(log, "== first_values: error", "the log's entry for each test");
    ASSERT_HAS(log, "unused variable", "the compiler's output in the log");
    free(log);
    free(s);
}
END_TEST

START_TEST(csv_table)
{
    char *csv = slurp("%s/table.csv", work);
    ASSERT_HAS(csv, "exercise,chapter,points,checks,result,", "the CSV header");
    ASSERT_HAS(csv, "\n11-http/request_line,11,9,9,PASS,", "a passing row");
    ASSERT_HAS(csv, "\n04-io/readline,4,0,9,not started,", "an untouched row");
    ASSERT_HAS(csv, "\n01-generators/fib,1,0,8,FAIL,", "a failing row");
    ASSERT_HAS(csv, "first_values: crashed: segmentation fault", "the first failure, named");
    ASSERT_HAS(csv, "Error: no such instruction", "the assembler's error");
    int lines = 0;
    for (char *p = csv; *p; p++)
        lines += *p == '\n';
    ck_assert_msg(lines == exercise_count() + 1, "the CSV should have a header and %d rows, "
                  "it has %d lines", exercise_count(), lines);
    free(csv);
}
END_TEST

START_TEST(one_exercise_or_one_chapter)
{
    const char *runs[] = { "e-name", "e-path", "n-1", "n-01" };
    for (int i = 0; i < 4; i++) {
        char *out = slurp("%s/%s.out", work, runs[i]);
        ASSERT_HAS(out, "\n01-generators/fib ", runs[i]);
        int chapter = i >= 2;
        ck_assert_msg((strstr(out, "\n01-generators/interleave ") != NULL) == chapter,
                      "%s: interleave should%s be graded:\n%s", runs[i], chapter ? "" : " not", out);
        ck_assert_msg(strstr(out, "\n02-greenlets/") == NULL, "%s graded chapter 2:\n%s", runs[i], out);
        ck_assert_msg(status_of(runs[i]) != 0, "%s: a failing exercise, yet exit status 0", runs[i]);
        free(out);
    }
}
END_TEST

START_TEST(hints_one_more_each_time)
{
    const char *want[] = { "hint 1 of 3", "hint 2 of 3", "hint 3 of 3", "hint 3 of 3" };
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "hint%d", i + 1);
        char *out = slurp("%s/%s.out", work, name);
        ASSERT_HAS(out, want[i], name);
        free(out);
    }
    char *last = slurp("%s/hint4.out", work);
    ASSERT_HAS(last, "that was the last hint", "the last hint says so");
    free(last);
}
END_TEST

START_TEST(reset_restores_and_keeps_a_backup)
{
    char *out = slurp("%s/reset.out", work);
    ASSERT_HAS(out, "the stub is back", "make reset");
    const char *at = strstr(out, "your files are kept in ");
    ck_assert_msg(at != NULL, "make reset should say where the backup is:\n%s", out);
    at += strlen("your files are kept in ");
    char backup[512];
    snprintf(backup, sizeof backup, "%.*s", (int)strcspn(at, "\n"), at);
    ck_assert_msg(sh("cmp -s %s/chunked.c tests/grader/answers/11-http/chunked/chunked.c", backup) == 0,
                  "the backup %s should hold the student's chunked.c", backup);
    ck_assert_msg(sh("diff -r -q %s/answers/11-http/chunked tests/pristine/11-http/chunked", work) == 0,
                  "after make reset, the exercise should be the stub as shipped");
    free(out);
}
END_TEST

START_TEST(progress_lists_every_exercise)
{
    char *out = slurp("%s/progress.out", work);
    ASSERT_HAS(out, "  11-http/request_line       done\n", "a passing exercise");
    ASSERT_HAS(out, "  01-generators/fib          failing (0/8)\n", "a failing exercise");
    ASSERT_HAS(out, "  04-io/readline             not started\n", "an untouched exercise");
    ASSERT_HAS(out, counted("1 of %d exercises done", exercise_count()), "the count");
    ASSERT_HAS(out, "next: 01-generators/fib", "the next exercise");
    free(out);
}
END_TEST

START_TEST(watch_regrades_on_save_and_moves_on)
{
    char *out = slurp("%s/watch.out", work);
    ASSERT_HAS(out, "first_values: crashed", "make watch's first grading");
    ASSERT_HAS(out, "01-generators/fib             8/8  PASS", "the grading after a save");
    ASSERT_HAS(out, "next: 01-generators/interleave", "make watch names the next exercise");
    ASSERT_HAS(out, "stuck? make hint E=interleave\n", "make watch moves on to it");
    free(out);
}
END_TEST

static Suite *grader_suite(void)
{
    Suite *s = suite_create("grader");
    TCase *tc = kit_tcase("grader");
    tcase_add_unchecked_fixture(tc, grade_everything, NULL);
    tcase_add_checked_fixture(tc, load, unload);
    tcase_add_test(tc, segfault_names_test_and_gives_gdb_command);
    tcase_add_test(tc, gdb_command_runs_that_test_alone);
    tcase_add_test(tc, warnings_are_shown);
    tcase_add_test(tc, compile_error_is_shown);
    tcase_add_test(tc, assembler_error_is_shown);
    tcase_add_test(tc, stack_overflow_names_the_greenlet);
    tcase_add_test(tc, runaway_output_is_capped_and_deadlock_shown);
    tcase_add_test(tc, endless_loop_times_out);
    tcase_add_test(tc, fake_verdict_is_not_believed);
    tcase_add_test(tc, right_answer_passes);
    tcase_add_test(tc, untouched_is_not_started);
    tcase_add_test(tc, totals_come_from_the_harness);
    tcase_add_test(tc, rows_fit_100_columns);
    tcase_add_test(tc, subtotals_score_and_exit_status);
    tcase_add_test(tc, progress_while_grading);
    tcase_add_test(tc, log_per_exercise);
    tcase_add_test(tc, csv_table);
    tcase_add_test(tc, one_exercise_or_one_chapter);
    tcase_add_test(tc, hints_one_more_each_time);
    tcase_add_test(tc, reset_restores_and_keeps_a_backup);
    tcase_add_test(tc, progress_lists_every_exercise);
    tcase_add_test(tc, watch_regrades_on_save_and_moves_on);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(grader_suite()); }
