/*
 * tests/lib/trace.c - the library's own tests of trace.h: the timeline in
 * Chrome's trace format, and its SVG.
 *
 * A scene of every kind of wait (three sleepers, a producer and a consumer
 * on a Queue, a join, a kill, a wait on a pipe) is traced, the JSON parsed
 * back with jansson and checked for what Perfetto needs: every "B" ends
 * with an "E" on its own lane, time never goes back within a lane, lanes
 * carry the greenlets' names, waits say what they wait on.  Never an
 * absolute time: the machine may be loaded.
 */
#include "harness.h"
#include "green.h"
#include "sync.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LESSON KIT_LESSON("chapters/03-hub/README.md", "A timeline of the three tasks")

/* ---- Files ------------------------------------------------------------ */

static char dir[64];
static char json_path[128], svg_path[128];

/* A fresh folder for the test's files; the test removes it (clean_up). */
static void make_paths(void)
{
    snprintf(dir, sizeof dir, "/tmp/green-trace-XXXXXX");
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
    snprintf(json_path, sizeof json_path, "%s/trace.json", dir);
    snprintf(svg_path, sizeof svg_path, "%s/trace.svg", dir);
}

static void clean_up(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* The whole file, NUL-terminated; the caller frees it. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "expected %s to exist, got %s", path, strerror(errno));
    long size = file_size(path);
    char *text = calloc(1, (size_t)size + 1);
    ck_assert_ptr_nonnull(text);
    ck_assert_int_eq(fread(text, 1, (size_t)size, f), size);
    fclose(f);
    return text;
}

/* ---- The scene ---------------------------------------------------------- */

struct named { const char *name; void *arg; };

static void *sleeper(void *arg)
{
    green_set_name(green_current(), ((struct named *)arg)->name);
    for (int i = 0; i < 3; i++)
        green_sleep(0.01);
    return NULL;
}

static void *producer(void *q)
{
    green_set_name(green_current(), "producer");
    for (intptr_t i = 1; i <= 4; i++)
        green_queue_put(q, (void *)i, GREEN_FOREVER);
    green_queue_put(q, NULL, GREEN_FOREVER);
    return NULL;
}

static void *consumer(void *q)
{
    green_set_name(green_current(), "consumer");
    void *item;
    while (green_queue_get(q, &item, GREEN_FOREVER) == 0 && item != NULL)
        green_sleep(0.002);
    return NULL;
}

static void *victim(void *unused)
{
    (void)unused;
    green_set_name(green_current(), "victim");
    green_sleep(60);            /* killed long before */
    return NULL;
}

static int pipe_fds[2];

static void *reader(void *unused)
{
    (void)unused;
    green_set_name(green_current(), "reader");
    char c;
    if (green_wait_read(pipe_fds[0], 5) == 0)
        ck_assert_int_eq(read(pipe_fds[0], &c, 1), 1);
    return NULL;
}

static void *writer(void *unused)
{
    (void)unused;
    green_set_name(green_current(), "writer");
    green_sleep(0.005);
    ck_assert_int_eq(write(pipe_fds[1], "x", 1), 1);
    return NULL;
}

/* Every kind of event, with the trace recording. */
static void run_scene(void)
{
    struct named names[3] = { { "sleeper1", 0 }, { "sleeper2", 0 }, { "sleeper3", 0 } };
    green_queue_t *q = green_queue_new(2);
    ck_assert_int_eq(pipe(pipe_fds), 0);
    green_t *gs[8];
    int n = 0;
    for (int i = 0; i < 3; i++)
        gs[n++] = green_spawn(sleeper, &names[i]);
    gs[n++] = green_spawn(consumer, q);
    gs[n++] = green_spawn(producer, q);
    gs[n++] = green_spawn(reader, NULL);
    gs[n++] = green_spawn(writer, NULL);
    green_t *v = green_spawn(victim, NULL);
    green_sleep(0.001);         /* the victim starts its sleep */
    ck_assert_int_eq(green_kill(v, GREEN_FOREVER), 0);
    ck_assert_int_eq(green_joinall(gs, n, 10), 0);
    for (int i = 0; i < n; i++)
        green_free(gs[i]);
    green_free(v);
    green_queue_free(q);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}

/* Trace the scene into json_path and svg_path. */
static void trace_scene(void)
{
    make_paths();
    ck_assert_msg(green_trace_start(json_path, svg_path) == 0,
                  "green_trace_start: expected 0, got -1 (%s)", strerror(errno));
    run_scene();
    ck_assert_msg(green_trace_stop() == 0, "green_trace_stop: expected 0, got -1 (%s)",
                  strerror(errno));
    green_hub_destroy();
}

/* ---- Reading the JSON back ------------------------------------------------ */

static json_t *load_trace(const char *path)
{
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    ck_assert_msg(root != NULL, "%s is not valid JSON: line %d: %s (%s)", path,
                  err.line, err.text, LESSON);
    json_t *events = json_object_get(root, "traceEvents");
    ck_assert_msg(json_is_array(events), "expected a \"traceEvents\" array in %s", path);
    return root;
}

static json_t *events_of(json_t *root) { return json_object_get(root, "traceEvents"); }

static const char *str(json_t *e, const char *key)
{
    const char *s = json_string_value(json_object_get(e, key));
    return s ? s : "";
}

/* The lane (tid) named `name` by a thread_name event, or -1. */
static json_int_t lane_named(json_t *root, const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach(events_of(root), i, e) {
        if (strcmp(str(e, "ph"), "M") == 0 && strcmp(str(e, "name"), "thread_name") == 0
            && strcmp(str(json_object_get(e, "args"), "name"), name) == 0)
            return json_integer_value(json_object_get(e, "tid"));
    }
    return -1;
}

/* How many events of phase `ph` named `name` lie on `lane` (-1: any). */
static int count(json_t *root, const char *ph, const char *name, json_int_t lane)
{
    size_t i;
    json_t *e;
    int n = 0;
    json_array_foreach(events_of(root), i, e) {
        if (strcmp(str(e, "ph"), ph) == 0 && strcmp(str(e, "name"), name) == 0
            && (lane < 0 || json_integer_value(json_object_get(e, "tid")) == lane))
            n++;
    }
    return n;
}

#define MAX_LANES 64

struct lane_seen { json_int_t tid; int depth; double last; };

static struct lane_seen *seen(struct lane_seen *ls, int *n, json_int_t tid)
{
    for (int i = 0; i < *n; i++)
        if (ls[i].tid == tid)
            return &ls[i];
    ck_assert_int_lt(*n, MAX_LANES);
    ls[*n] = (struct lane_seen){ tid, 0, -1 };
    return &ls[(*n)++];
}

/* Every "B" ends with an "E" on its lane, in order, and no lane's time
 * goes back. */
static void assert_well_formed(json_t *root)
{
    struct lane_seen ls[MAX_LANES];
    int nl = 0;
    size_t i;
    json_t *e;
    json_array_foreach(events_of(root), i, e) {
        const char *ph = str(e, "ph");
        if (strcmp(ph, "M") == 0)
            continue;
        json_int_t tid = json_integer_value(json_object_get(e, "tid"));
        double ts = json_number_value(json_object_get(e, "ts"));
        struct lane_seen *l = seen(ls, &nl, tid);
        ck_assert_msg(ts >= l->last, "event %zu (%s) on lane %lld: time goes back, "
                      "from %.3f to %.3f us", i, ph, (long long)tid, l->last, ts);
        l->last = ts;
        if (strcmp(ph, "B") == 0)
            l->depth++;
        if (strcmp(ph, "E") == 0) {
            ck_assert_msg(l->depth > 0, "event %zu: an \"E\" on lane %lld without its \"B\"",
                          i, (long long)tid);
            l->depth--;
        }
    }
    for (int k = 0; k < nl; k++)
        ck_assert_msg(ls[k].depth == 0, "lane %lld: %d \"B\" without their \"E\"",
                      (long long)ls[k].tid, ls[k].depth);
    ck_assert_int_gt(nl, 0);
}

/* ---- Tests -------------------------------------------------------------- */

START_TEST(test_json_is_valid_and_balanced)
{
    trace_scene();
    json_t *root = load_trace(json_path);
    assert_well_formed(root);
    json_decref(root);
    clean_up();
}
END_TEST

START_TEST(test_lanes_carry_names)
{
    trace_scene();
    json_t *root = load_trace(json_path);
    const char *names[] = { "main", "sleeper1", "sleeper2", "sleeper3", "producer",
                            "consumer", "victim", "reader", "writer" };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        json_int_t lane = lane_named(root, names[i]);
        ck_assert_msg(lane >= 0, "expected a lane named '%s' (a thread_name event); %s",
                      names[i], LESSON);
        ck_assert_msg(count(root, "B", "running", lane) > 0,
                      "expected '%s' to run at least once", names[i]);
    }
    json_decref(root);
    clean_up();
}
END_TEST

START_TEST(test_waits_say_what_they_wait_on)
{
    trace_scene();
    json_t *root = load_trace(json_path);
    json_int_t s1 = lane_named(root, "sleeper1");
    ck_assert_msg(count(root, "B", "sleep 0.01", s1) == 3,
                  "expected sleeper1's three waits labelled \"sleep 0.01\", got %d",
                  count(root, "B", "sleep 0.01", s1));
    ck_assert_msg(count(root, "B", "queue get", lane_named(root, "consumer")) > 0,
                  "expected the consumer to wait in \"queue get\"");
    ck_assert_msg(count(root, "B", "queue put", lane_named(root, "producer")) > 0,
                  "expected the producer to wait in \"queue put\" (a queue of 2)");
    char label[32];
    snprintf(label, sizeof label, "read fd %d", pipe_fds[0]);
    ck_assert_msg(count(root, "B", label, lane_named(root, "reader")) == 1,
                  "expected the reader to wait in \"%s\"", label);
    ck_assert_msg(count(root, "B", "join 'sleeper1'", lane_named(root, "main")) > 0,
                  "expected main to wait in \"join 'sleeper1'\"");
    json_decref(root);
    clean_up();
}
END_TEST

START_TEST(test_marks_spawn_wake_kill_finish)
{
    trace_scene();
    json_t *root = load_trace(json_path);
    json_int_t v = lane_named(root, "victim"), s2 = lane_named(root, "sleeper2");
    ck_assert_int_eq(count(root, "i", "spawn", s2), 1);
    ck_assert_int_ge(count(root, "i", "wake", s2), 3);
    ck_assert_int_eq(count(root, "i", "finish", s2), 1);
    ck_assert_msg(count(root, "i", "kill", v) == 1, "expected a kill mark on the victim's lane");
    ck_assert_msg(count(root, "s", "wakes", -1) > 0 &&
                  count(root, "s", "wakes", -1) == count(root, "f", "wakes", -1),
                  "expected wake-up arrows, each with a start and a finish");
    json_decref(root);
    clean_up();
}
END_TEST

START_TEST(test_svg_draws_a_lane_per_greenlet)
{
    trace_scene();
    char *svg = slurp(svg_path);
    ck_assert_msg(strncmp(svg, "<svg", 4) == 0, "expected the SVG to start with <svg, got '%.20s'", svg);
    ck_assert_msg(strstr(svg, "</svg>") != NULL, "expected the SVG to end with </svg>");
    const char *names[] = { ">main<", ">sleeper1<", ">producer<", ">consumer<", ">reader<" };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        ck_assert_msg(strstr(svg, names[i]) != NULL, "expected a lane labelled %s in the SVG", names[i]);
    ck_assert_msg(strstr(svg, "class=\"run\"") != NULL, "expected running bars in the SVG");
    free(svg);
    clean_up();
}
END_TEST

START_TEST(test_off_writes_nothing)
{
    make_paths();
    run_scene();                /* no trace: nothing anywhere */
    ck_assert_int_eq(green_trace_stop(), 0);
    ck_assert_int_eq(green_trace_start(json_path, NULL), 0);
    ck_assert_int_eq(green_trace_stop(), 0);
    long size = file_size(json_path);
    run_scene();                /* stopped: the file stays as it was */
    green_hub_destroy();
    ck_assert_msg(file_size(json_path) == size, "expected a stopped trace to write "
                  "nothing more, the file went from %ld to %ld bytes", size,
                  file_size(json_path));
    ck_assert_int_eq(file_size(svg_path), -1);
    clean_up();
}
END_TEST

START_TEST(test_second_start_is_busy)
{
    make_paths();
    ck_assert_int_eq(green_trace_start(json_path, NULL), 0);
    errno = 0;
    ck_assert_int_eq(green_trace_start(json_path, NULL), -1);
    ck_assert_int_eq(errno, EBUSY);
    ck_assert_int_eq(green_trace_stop(), 0);
    ck_assert_int_eq(green_trace_start("/nonexistent-dir/t.json", NULL), -1);
    ck_assert_int_eq(errno, ENOENT);
    clean_up();
}
END_TEST

/* A trace that fills up stops recording, stays well formed, and says so
 * in both files.  GREEN_TRACE_MAX lowers the cap from 500,000 records. */
static void *yielder(void *unused)
{
    (void)unused;
    for (int i = 0; i < 500; i++)
        green_sleep(0);
    return NULL;
}

START_TEST(test_a_full_trace_says_so)
{
    make_paths();
    setenv("GREEN_TRACE_MAX", "300", 1);
    ck_assert_int_eq(green_trace_start(json_path, svg_path), 0);
    unsetenv("GREEN_TRACE_MAX");
    green_t *g[2] = { green_spawn(yielder, NULL), green_spawn(yielder, NULL) };
    ck_assert_int_eq(green_joinall(g, 2, GREEN_FOREVER), 0);
    green_free(g[0]);
    green_free(g[1]);
    ck_assert_int_eq(green_trace_stop(), 0);
    green_hub_destroy();
    json_t *root = load_trace(json_path);
    assert_well_formed(root);
    const char *full = str(json_object_get(root, "otherData"), "full");
    ck_assert_msg(strstr(full, "the trace is full (300 records)") != NULL,
                  "expected otherData.full to say the trace is full, got '%s'", full);
    json_t *events = events_of(root);
    const char *last = str(json_array_get(events, json_array_size(events) - 1), "name");
    ck_assert_msg(strncmp(last, "trace full", 10) == 0,
                  "expected the last event to be the \"trace full\" mark, got '%s'", last);
    json_decref(root);
    char *svg = slurp(svg_path);
    ck_assert_msg(strstr(svg, "the trace is full") != NULL, "expected the SVG to say the trace is full");
    free(svg);
    clean_up();
}
END_TEST

/* GREEN_TRACE from the environment, read when the hub is made: "%p" is
 * the process id.  Each test is a fresh process (forked), whose hub is its
 * first. */
START_TEST(test_environment_starts_it)
{
    if (!kit_can_fork())
        return;
    make_paths();
    char tmpl[160], expect[160];
    snprintf(tmpl, sizeof tmpl, "%s/t-%%p.json", dir);
    snprintf(expect, sizeof expect, "%s/t-%ld.json", dir, (long)getpid());
    setenv("GREEN_TRACE", tmpl, 1);
    run_scene();
    unsetenv("GREEN_TRACE");
    ck_assert_int_eq(green_trace_stop(), 0);
    green_hub_destroy();
    json_t *root = load_trace(expect);
    assert_well_formed(root);
    ck_assert_int_ge(lane_named(root, "sleeper3"), 0);
    json_decref(root);
    clean_up();
}
END_TEST

/* Trace into `path`, fork a child that waits once and exits (writing
 * what it has, at exit), and wait for it.  Returns the child's pid. */
static pid_t fork_while_tracing(const char *path)
{
    ck_assert_int_eq(green_trace_start(path, NULL), 0);
    green_sleep(0.001);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        green_sleep(0.001);
        exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return pid;
}

/* A forked child (chapter 12's workers) must not write its parent's file. */
START_TEST(test_forked_child_leaves_the_file_alone)
{
    if (!kit_can_fork())
        return;
    make_paths();
    fork_while_tracing(json_path);
    ck_assert_int_eq(file_size(json_path), 0);
    ck_assert_int_eq(green_trace_stop(), 0);
    green_hub_destroy();
    json_t *root = load_trace(json_path);
    assert_well_formed(root);
    json_decref(root);
    clean_up();
}
END_TEST

/* ...and with "%p" in the name, it writes a file of its own. */
START_TEST(test_forked_child_writes_its_own_file)
{
    if (!kit_can_fork())
        return;
    make_paths();
    char tmpl[160], mine[160], childs[160];
    snprintf(tmpl, sizeof tmpl, "%s/t-%%p.json", dir);
    snprintf(mine, sizeof mine, "%s/t-%ld.json", dir, (long)getpid());
    pid_t pid = fork_while_tracing(tmpl);
    ck_assert_int_eq(file_size(mine), 0);
    snprintf(childs, sizeof childs, "%s/t-%ld.json", dir, (long)pid);
    json_t *root = load_trace(childs);
    assert_well_formed(root);
    ck_assert_int_ge(lane_named(root, "main"), 0);
    json_decref(root);
    ck_assert_int_eq(green_trace_stop(), 0);
    green_hub_destroy();
    clean_up();
}
END_TEST

/* Two hubs in two threads, traced at once: their lanes do not mix. */
static void *thread_main(void *arg)
{
    struct named names[2] = { { arg, 0 }, { arg, 0 } };
    green_t *g[2] = { green_spawn(sleeper, &names[0]), green_spawn(sleeper, &names[1]) };
    green_joinall(g, 2, GREEN_FOREVER);
    green_free(g[0]);
    green_free(g[1]);
    green_hub_destroy();
    return NULL;
}

START_TEST(test_two_threads_keep_their_lanes)
{
    make_paths();
    ck_assert_int_eq(green_trace_start(json_path, NULL), 0);
    pthread_t t[2];
    ck_assert_int_eq(pthread_create(&t[0], NULL, thread_main, "left"), 0);
    ck_assert_int_eq(pthread_create(&t[1], NULL, thread_main, "right"), 0);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    ck_assert_int_eq(green_trace_stop(), 0);
    json_t *root = load_trace(json_path);
    assert_well_formed(root);
    ck_assert_int_eq(count(root, "M", "thread_name", -1), 6);   /* 2 mains, 4 sleepers */
    json_decref(root);
    clean_up();
}
END_TEST

static Suite *trace_suite(void)
{
    Suite *s = suite_create("lib/trace");
    TCase *tc = kit_tcase("trace");
    tcase_add_test(tc, test_json_is_valid_and_balanced);
    tcase_add_test(tc, test_lanes_carry_names);
    tcase_add_test(tc, test_waits_say_what_they_wait_on);
    tcase_add_test(tc, test_marks_spawn_wake_kill_finish);
    tcase_add_test(tc, test_svg_draws_a_lane_per_greenlet);
    tcase_add_test(tc, test_off_writes_nothing);
    tcase_add_test(tc, test_second_start_is_busy);
    tcase_add_test(tc, test_a_full_trace_says_so);
    tcase_add_test(tc, test_environment_starts_it);
    tcase_add_test(tc, test_forked_child_leaves_the_file_alone);
    tcase_add_test(tc, test_forked_child_writes_its_own_file);
    tcase_add_test(tc, test_two_threads_keep_their_lanes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return kit_run_suite(trace_suite()); }
