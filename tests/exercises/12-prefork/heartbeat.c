/* Tests of exercise 12-prefork/heartbeat: a file's time as a heartbeat, SIGABRT then SIGKILL. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "heartbeat.h"

#define MASTER KIT_LESSON("chapters/12-prefork/README.md", "What the master does (`lib/12-prefork/prefork.c`)")
#define EXERCISE KIT_LESSON("chapters/12-prefork/README.md", "Exercise: heartbeat")

/* What a hung worker says when asked (its SIGABRT handler). */
#define LAST_WORDS "busy in greenlet 'handler' on GET /cpu"

/* ---- Heartbeat files, and times set by the test ------------------------- */

static int beat_file(void)
{
    char path[] = "/tmp/kit-heartbeat-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_msg(fd >= 0, "test setup: mkstemp: %s", strerror(errno));
    unlink(path);                       /* open, and gone when closed */
    return fd;
}

/* The test plays the worker's beat, at a time of its own choosing. */
static void beat_at(int fd, double t)
{
    struct timespec ts = { (time_t)t, (long)((t - (double)(time_t)t) * 1e9) };
    struct timespec both[2] = { ts, ts };
    ck_assert_msg(futimens(fd, both) == 0, "test setup: futimens: %s", strerror(errno));
}

/* ---- Real workers ------------------------------------------------------- */

enum mode { HEALTHY, HUNG, STUBBORN };

static int words[2] = { -1, -1 };       /* what a hung worker says, to the test */

static void say_last_words(int signum)
{
    static const char msg[] = LAST_WORDS "\n";
    if (write(words[1], msg, sizeof msg - 1) < 0) {
        /* nobody listens: die all the same */
    }
    signal(signum, SIG_DFL);
    raise(signum);
}

/* Fork a worker, and return once it has set its handlers: a SIGABRT
 * sent before that would kill it without a word. */
static pid_t fork_worker(enum mode mode)
{
    int up[2];
    ck_assert_int_eq(pipe(up), 0);
    pid_t pid = fork();
    ck_assert_msg(pid >= 0, "test setup: fork: %s", strerror(errno));
    if (pid > 0) {
        char b;
        close(up[1]);
        ck_assert_msg(read(up[0], &b, 1) == 1, "test setup: a worker died at start");
        close(up[0]);
        return pid;
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);   /* never outlive the test */
    prctl(PR_SET_DUMPABLE, 0);          /* SIGABRT leaves no core file */
    struct rlimit none = { 0, 0 };
    setrlimit(RLIMIT_CORE, &none);
    if (mode == HUNG)
        signal(SIGABRT, say_last_words);
    else if (mode == STUBBORN)
        signal(SIGABRT, SIG_IGN);
    else
        signal(SIGABRT, SIG_DFL);
    if (write(up[1], "!", 1) < 0)
        _exit(1);
    /* "Hung" is what its file says (the test sets its time); the process
     * itself waits without using a core. */
    for (;;)
        pause();
}

/* Has pid died?  Looks without collecting it. */
static int is_dead(pid_t pid)
{
    siginfo_t si = { 0 };
    waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT);
    return si.si_pid == pid;
}

/* Wait for pid's death and collect it: the signal that killed it, or 0
 * if it is still alive after 5 s (a signal is delivered in microseconds:
 * 5 s only ends the wait when no signal was sent). */
static int death_signal(pid_t pid)
{
    siginfo_t si = { 0 };
    for (int i = 0; i < 500 && !is_dead(pid); i++)
        usleep(10000);
    if (!is_dead(pid) || waitid(P_PID, (id_t)pid, &si, WEXITED) < 0)
        return 0;
    return si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED ? si.si_status : 0;
}

struct said {
    int n;
    char lines[8][200];
};

static void say(const char *line, void *arg)
{
    struct said *s = arg;
    if (s->n < 8)
        snprintf(s->lines[s->n], sizeof s->lines[0], "%s", line);
    s->n++;
}

static int lines_with(const struct said *s, const char *what)
{
    int n = 0;
    for (int i = 0; i < s->n && i < 8; i++)
        n += strstr(s->lines[i], what) != NULL;
    return n;
}

static const char *last_line(const struct said *s)
{
    return s->n == 0 ? "(nothing was said)" : s->lines[(s->n < 8 ? s->n : 8) - 1];
}

static void cleanup(ex_hb_worker_t *w, int n)
{
    for (int i = 0; i < n; i++) {
        if (w[i].pid > 0) {
            kill(w[i].pid, SIGKILL);
            waitpid(w[i].pid, NULL, 0);
        }
        if (w[i].fd >= 0)
            close(w[i].fd);
    }
}

/* ---- The tests ---------------------------------------------------------- */

START_TEST(test_beat_and_last_beat)
{
    int fd = beat_file();
    beat_at(fd, 1000.25);
    double t = ex_last_beat(fd);
    ck_assert_msg(t > 1000.25 - 1e-6 && t < 1000.25 + 1e-6, "a file whose time is 1000.25 s: "
                  "ex_last_beat should return 1000.25 (st_mtim, with its nanoseconds), got %f "
                  "(%s); %s", t, kit_why((long)t, errno), EXERCISE);
    int rc = ex_beat(fd);
    ck_assert_msg(rc == 0, "ex_beat should return 0, returned %d (%s); %s",
                  rc, kit_why(rc, errno), EXERCISE);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    t = ex_last_beat(fd);
    double real = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
    ck_assert_msg(t > real - 5 && t <= real + 1, "just after ex_beat, ex_last_beat should be "
                  "the current time (%.0f s since the epoch), got %.0f: ex_beat sets the "
                  "file's time to now; %s", real, t, EXERCISE);
    close(fd);
    errno = 0;
    t = ex_last_beat(fd);
    ck_assert_msg(t == -1 && errno == EBADF, "ex_last_beat on a closed descriptor should "
                  "return -1 with EBADF, got %f (%s); %s", t, strerror(errno), EXERCISE);
}
END_TEST

START_TEST(test_hung_worker_is_asked_then_dies)
{
    ck_assert_int_eq(pipe(words), 0);
    ex_hb_worker_t w[4] = {
        { .pid = fork_worker(HEALTHY), .fd = beat_file() },
        { .pid = fork_worker(HUNG), .fd = beat_file() },
        { .pid = 0, .fd = -1 },         /* a free slot */
        { .pid = fork_worker(HEALTHY), .fd = beat_file() },
    };
    double now = 5000.0;
    beat_at(w[0].fd, now - 0.5);
    beat_at(w[1].fd, now - 30);         /* silent for 30 s */
    beat_at(w[3].fd, now - 2);
    struct said s = { 0 };
    int sent = ex_check_heartbeats(w, 4, now, 10.0, say, &s);
    ck_assert_msg(sent == 1, "one worker silent for 30 s (timeout 10 s): ex_check_heartbeats "
                  "should send 1 signal, returned %d (%s); %s", sent, kit_why(sent, errno),
                  MASTER);
    char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)w[1].pid);
    ck_assert_msg(s.n == 1 && strstr(s.lines[0], pid) && strstr(s.lines[0], "timed out"),
                  "one line should name the silent worker (%s) and say \"timed out\"; %d "
                  "line(s) said, the last: \"%s\"; %s", pid, s.n, last_line(&s), EXERCISE);
    ck_assert_msg(w[1].abort_sent == now, "abort_sent should be the `now` of the SIGABRT "
                  "(%.0f), it is %.1f; %s", now, w[1].abort_sent, EXERCISE);
    int sig = death_signal(w[1].pid);
    ck_assert_msg(sig == SIGABRT, "the silent worker should be sent SIGABRT first (it then "
                  "says what it was doing), it died of %s; %s",
                  sig ? strsignal(sig) : "nothing (it exited, or is still alive)", EXERCISE);
    w[1].pid = 0;
    char got[128] = "";
    struct pollfd p = { words[0], POLLIN, 0 };
    if (poll(&p, 1, 5000) == 1) {
        ssize_t n = read(words[0], got, sizeof got - 1);
        got[n > 0 ? n : 0] = '\0';
    }
    ck_assert_msg(strstr(got, LAST_WORDS), "the hung worker should have been able to say what "
                  "it was doing, it said \"%s\"; %s", got, EXERCISE);
    ck_assert_msg(!is_dead(w[0].pid) && !is_dead(w[3].pid), "the workers that beat should be "
                  "left alone: %s died; %s", is_dead(w[0].pid) ? "the first" : "the last", EXERCISE);
    cleanup(w, 4);
    close(words[0]);
    close(words[1]);
}
END_TEST

START_TEST(test_healthy_workers_left_alone)
{
    ex_hb_worker_t w[2] = {
        { .pid = fork_worker(HEALTHY), .fd = beat_file() },
        { .pid = fork_worker(HEALTHY), .fd = beat_file() },
    };
    double now = 5000.0;
    beat_at(w[0].fd, now - 1);
    beat_at(w[1].fd, now - 10);         /* exactly the timeout: not MORE */
    struct said s = { 0 };
    int sent = ex_check_heartbeats(w, 2, now, 10.0, say, &s);
    ck_assert_msg(sent == 0 && s.n == 0 && !is_dead(w[0].pid) && !is_dead(w[1].pid),
                  "workers that beat 1 s and 10 s ago (timeout 10 s: timed out only when MORE "
                  "than 10 s) should get nothing; %d signal(s) sent (%s), %d line(s): \"%s\"; %s",
                  sent, kit_why(sent, errno), s.n, last_line(&s), EXERCISE);
    cleanup(w, 2);
}
END_TEST

START_TEST(test_stubborn_worker_gets_sigkill)
{
    ex_hb_worker_t w[1] = { { .pid = fork_worker(STUBBORN), .fd = beat_file() } };
    double now = 5000.0;
    beat_at(w[0].fd, now - 60);
    struct said s = { 0 };
    int sent = ex_check_heartbeats(w, 1, now, 10.0, say, &s);
    ck_assert_msg(sent == 1, "a silent worker: 1 signal (SIGABRT), returned %d (%s); %s",
                  sent, kit_why(sent, errno), MASTER);
    sent = ex_check_heartbeats(w, 1, now + EX_ABORT_GRACE / 2, 10.0, say, &s);
    ck_assert_msg(sent == 0 && lines_with(&s, "timed out") == 1,
                  "%.1f s after its SIGABRT, the worker gets nothing more (it may be saying "
                  "what it was doing): %d signal(s) sent, \"timed out\" said %d time(s); %s",
                  EX_ABORT_GRACE / 2, sent, lines_with(&s, "timed out"), EXERCISE);
    ck_assert_msg(!is_dead(w[0].pid), "a worker that ignores SIGABRT should still be alive "
                  "within the grace: was it sent SIGKILL at once? %s", EXERCISE);
    sent = ex_check_heartbeats(w, 1, now + EX_ABORT_GRACE, 10.0, say, &s);
    ck_assert_msg(sent == 1, "%.0f s after SIGABRT, a worker still there should get SIGKILL: "
                  "1 signal, returned %d; %s", EX_ABORT_GRACE, sent, EXERCISE);
    int sig = death_signal(w[0].pid);
    ck_assert_msg(sig == SIGKILL, "the worker that ignored SIGABRT should die of SIGKILL, "
                  "died of %s; %s", sig ? strsignal(sig) : "nothing", EXERCISE);
    w[0].pid = 0;
    cleanup(w, 1);
}
END_TEST

static Suite *heartbeat_suite(void)
{
    Suite *s = suite_create("12-prefork/heartbeat");
    TCase *tc = kit_tcase("heartbeat");
    tcase_add_test(tc, test_beat_and_last_beat);
    if (kit_can_fork()) {
        tcase_add_test(tc, test_hung_worker_is_asked_then_dies);
        tcase_add_test(tc, test_healthy_workers_left_alone);
        tcase_add_test(tc, test_stubborn_worker_gets_sigkill);
    }
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(heartbeat_suite()); }
