/*
 * trace.c - chapter 3: the timeline (trace.h).
 *
 * Two halves, one after the other in time:
 *   recording  the hub's hooks (trace_hooks.h) append a small record per
 *              event to one array: what happened, to which greenlet, when;
 *   writing    at green_trace_stop() or exit, the records are replayed,
 *              greenlet by greenlet, into stretches (running, waiting,
 *              ready) and marks (spawn, wake, kill, finish), which two
 *              writers turn into Chrome's JSON and into an SVG.
 * Recording does as little as it can (a clock read and a few stores), so
 * that the trace changes what it shows as little as possible; every
 * decision (is this a yield? where does a wait end?) is the replay's.
 *
 * Several hubs (threads) share one trace behind one mutex.  Per-thread
 * buffers would spare the lock, but then stop() and exit would have to
 * collect buffers that other threads are still writing, and the records
 * of a thread that is gone.  A lock nobody else wants costs some 20 ns,
 * the price of one more clock read; it only runs while a trace records,
 * and it keeps every record in one order (make bench shows what it costs).
 */
#include "internal.h"
#include "trace_hooks.h"
#include "trace.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int green__trace_on;

/* Memory stays bounded: past this many records the trace stops growing and
 * says so in both files (about 48 bytes a record: 24 MiB at most).  Two
 * greenlets yielding to each other make some 4 records a turn: 130,000
 * turns; chapter 3's demo makes about 100.  GREEN_TRACE_MAX=N in the
 * environment lowers the cap (tests/lib/trace.c fills a trace so). */
#define MAX_RECORDS 500000
#define MAX_LANES 65536
#define NO_LANE UINT32_MAX

enum kind { T_BEGIN, T_SPAWN, T_RUN, T_BACK, T_PARK, T_WAKE, T_KILL, T_FINISH };

/* One event.  `what` is the waiting call's name (sched.waiting_on): the
 * library's string constants, which outlive any trace. */
struct record {
    double t;               /* green_now() */
    const char *what;       /* T_PARK: the waiting call */
    const void *obj;        /* T_PARK: the object waited on, or NULL */
    double timeout;         /* T_PARK: seconds, or negative: forever */
    uint32_t lane;          /* whose event */
    uint32_t other;         /* who spawned, woke or killed it; whom a
                               join waits for; NO_LANE: the hub itself */
    int fd;                 /* T_PARK: the descriptor, or -1 */
    short events;           /* T_PARK: EV_READ or EV_WRITE */
    unsigned char kind;
};

/* A lane is one greenlet: its id is the JSON's "tid".  A main greenlet
 * has id 0 in every thread: its lane takes its hub's id instead, which is
 * unique and never a lane of its own (the hub is the loop between the
 * stretches, not a greenlet that runs user code). */
struct lane {
    unsigned long tid;
    char name[sizeof ((green_t *)0)->name];
};

static struct {
    char *json_path, *svg_path;   /* as given: "%p" not yet replaced */
    int active;                   /* started, not yet stopped */
    double t0;                    /* green_now() at start */
    struct record *recs;
    size_t n, cap;
    size_t max;                   /* MAX_RECORDS, or GREEN_TRACE_MAX's */
    int full;                     /* a record or lane was refused */
    struct lane *lanes;
    uint32_t nlanes, lanes_cap;
    uint32_t *index;              /* open addressing: tid -> lane + 1 */
    uint32_t index_cap;           /* a power of 2, or 0 */
} tr;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- Recording -------------------------------------------------------- */

static uint32_t slot_of(unsigned long tid, uint32_t cap)
{
    return (uint32_t)(tid * 0x9E3779B97F4A7C15ull >> 32) & (cap - 1);
}

/* Keep the index at most half full: a lookup then stops after a probe or
 * two.  Returns 0, or -1 (out of memory). */
static int grow_index(void)
{
    uint32_t cap = tr.index_cap ? tr.index_cap * 2 : 64;
    uint32_t *index = calloc(cap, sizeof *index);
    if (index == NULL)
        return -1;
    for (uint32_t i = 0; i < tr.nlanes; i++) {
        uint32_t s = slot_of(tr.lanes[i].tid, cap);
        while (index[s])
            s = (s + 1) & (cap - 1);
        index[s] = i + 1;
    }
    free(tr.index);
    tr.index = index;
    tr.index_cap = cap;
    return 0;
}

/* A new lane for tid, entered in the index; NO_LANE when none can be
 * had (MAX_LANES, or no memory). */
static uint32_t add_lane(unsigned long tid, const char *name)
{
    if (tr.nlanes == MAX_LANES)
        return NO_LANE;
    if (tr.nlanes == tr.lanes_cap) {
        uint32_t cap = tr.lanes_cap ? tr.lanes_cap * 2 : 16;
        struct lane *lanes = realloc(tr.lanes, cap * sizeof *lanes);
        if (lanes == NULL)
            return NO_LANE;
        tr.lanes = lanes;
        tr.lanes_cap = cap;
    }
    if (2 * (tr.nlanes + 1) > tr.index_cap && grow_index() != 0)
        return NO_LANE;
    uint32_t s = slot_of(tid, tr.index_cap);
    while (tr.index[s])
        s = (s + 1) & (tr.index_cap - 1);
    tr.index[s] = tr.nlanes + 1;
    struct lane *l = &tr.lanes[tr.nlanes];
    l->tid = tid;
    snprintf(l->name, sizeof l->name, "%s", name);
    return tr.nlanes++;
}

/* g's lane, made on first sight; its name follows g's (a greenlet often
 * names itself once it runs: three_tasks.c).  NO_LANE for the hub, or
 * when the trace is full. */
static uint32_t lane_of(const green_t *g)
{
    if (g == NULL || !green_hub_active() || g == green_hub())
        return NO_LANE;
    unsigned long tid = g->id ? g->id : green_hub()->id;
    uint32_t s = tr.index_cap ? slot_of(tid, tr.index_cap) : 0;
    for (; tr.index_cap && tr.index[s]; s = (s + 1) & (tr.index_cap - 1)) {
        struct lane *l = &tr.lanes[tr.index[s] - 1];
        if (l->tid != tid)
            continue;
        if (strcmp(l->name, g->name) != 0)
            snprintf(l->name, sizeof l->name, "%s", g->name);
        return tr.index[s] - 1;
    }
    uint32_t lane = add_lane(tid, g->name);
    if (lane == NO_LANE)
        tr.full = 1;
    return lane;
}

/* A fresh record for g, or NULL when the trace is full (or g is the hub).
 * The caller holds the lock. */
static struct record *new_record(enum kind kind, const green_t *g,
                                 uint32_t other)
{
    if (tr.full)
        return NULL;
    if (tr.n == tr.cap) {
        size_t cap = tr.cap ? tr.cap * 2 : 1024;
        if (cap > tr.max)
            cap = tr.max;
        struct record *recs = tr.n < cap ? realloc(tr.recs, cap * sizeof *recs) : NULL;
        if (recs == NULL) {
            tr.full = 1;
            return NULL;
        }
        tr.recs = recs;
        tr.cap = cap;
    }
    uint32_t lane = lane_of(g);
    if (lane == NO_LANE)
        return NULL;
    struct record *r = &tr.recs[tr.n++];
    memset(r, 0, sizeof *r);
    r->t = green_now();
    r->kind = (unsigned char)kind;
    r->lane = lane;
    r->other = other;
    r->fd = -1;
    return r;
}

/* What g waits on, from the fields park() was given (internal.h). */
static void note_wait(struct record *r, const green_t *g)
{
    const struct green__sched *s = &g->sched;
    r->what = s->waiting_on;
    r->obj = s->wait_obj;
    r->fd = s->wait_fd;
    r->events = s->wait_events;
    r->timeout = s->wait_until == GREEN_FOREVER ? -1 : s->wait_until - s->since;
    if (s->waiting_for)
        r->other = lane_of(s->waiting_for);
}

/* Record `kind` for g; `by` is the greenlet that did it (spawned, woke,
 * killed g), or NULL. */
static void record(enum kind kind, const green_t *g, const green_t *by)
{
    pthread_mutex_lock(&lock);
    if (tr.active) {            /* again, under the lock: stop() may have run */
        struct record *r = new_record(kind, g, lane_of(by));
        if (r && kind == T_PARK)
            note_wait(r, g);
    }
    pthread_mutex_unlock(&lock);
}

void green__trace_spawn(const green_t *g) { record(T_SPAWN, g, green_current()); }
void green__trace_run(const green_t *g) { record(T_RUN, g, NULL); }
void green__trace_back(const green_t *g) { record(T_BACK, g, NULL); }
void green__trace_park(const green_t *g) { record(T_PARK, g, NULL); }
void green__trace_wake(const green_t *g) { record(T_WAKE, g, green_current()); }
void green__trace_kill(const green_t *g) { record(T_KILL, g, green_current()); }
void green__trace_finish(const green_t *g) { record(T_FINISH, g, NULL); }

/* ---- Starting, stopping ----------------------------------------------- */

static void free_all(void)
{
    free(tr.json_path);
    free(tr.svg_path);
    free(tr.recs);
    free(tr.lanes);
    free(tr.index);
    memset(&tr, 0, sizeof tr);
}

/* `path` with each "%p" replaced by the process id: pre-fork workers then
 * each write a file of their own.  The caller frees it. */
static char *expand(const char *path)
{
    char pid[24];
    int npid = snprintf(pid, sizeof pid, "%ld", (long)getpid());
    char *out = malloc(strlen(path) * (size_t)npid + 1);
    if (out == NULL)
        return NULL;
    char *o = out;
    for (const char *p = path; *p; p++) {
        if (p[0] == '%' && p[1] == 'p') {
            o = memcpy(o, pid, (size_t)npid) + npid;
            p++;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

/* Open `path` (its "%p" replaced) for writing.  NULL with errno. */
static FILE *open_expanded(const char *path)
{
    char *name = expand(path);
    if (name == NULL)
        return NULL;
    FILE *f = fopen(name, "w");
    int saved = errno;
    free(name);
    errno = saved;
    return f;
}

/* Fail now, not at exit, if a file cannot be written. */
static int can_write(const char *path)
{
    FILE *f = open_expanded(path);
    return f && fclose(f) == 0 ? 0 : -1;
}

/* A forked child has its parent's trace, and would write it again at its
 * exit: into its own file when the name holds "%p" (its history starts at
 * the fork), else not at all (the file is the parent's).  The lock was
 * taken before fork(): the child holds its own copy of it. */
static void before_fork(void) { pthread_mutex_lock(&lock); }
static void after_fork_parent(void) { pthread_mutex_unlock(&lock); }

static void after_fork_child(void)
{
    if (tr.active && strstr(tr.json_path, "%p") == NULL)
        free_all();
    if (tr.svg_path && strstr(tr.svg_path, "%p") == NULL) {
        free(tr.svg_path);      /* the drawing is the parent's too */
        tr.svg_path = NULL;
    }
    tr.n = 0;
    tr.full = 0;
    __atomic_store_n(&green__trace_on, tr.active, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&lock);
    if (tr.active)
        record(T_BEGIN, green_current(), NULL);
}

static void at_exit(void) { green_trace_stop(); }

static void register_once(void)
{
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
    atexit(at_exit);
}

int green_trace_start(const char *json_path, const char *svg_path)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (json_path == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (can_write(json_path) != 0 || (svg_path && can_write(svg_path) != 0))
        return -1;
    pthread_once(&once, register_once);
    pthread_mutex_lock(&lock);
    if (tr.active) {
        pthread_mutex_unlock(&lock);
        errno = EBUSY;
        return -1;
    }
    tr.json_path = strdup(json_path);
    tr.svg_path = svg_path ? strdup(svg_path) : NULL;
    if (tr.json_path == NULL || (svg_path && tr.svg_path == NULL)) {
        free_all();
        pthread_mutex_unlock(&lock);
        errno = ENOMEM;
        return -1;
    }
    const char *max = getenv("GREEN_TRACE_MAX");
    tr.max = max && atol(max) > 0 && atol(max) < MAX_RECORDS ? (size_t)atol(max) : MAX_RECORDS;
    tr.t0 = green_now();
    tr.active = 1;
    __atomic_store_n(&green__trace_on, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&lock);
    /* Whoever started the trace is running now (without a hub yet, the
     * hub's creation says it: green__trace_from_env). */
    record(T_BEGIN, green_current(), NULL);
    return 0;
}

void green__trace_from_env(void)
{
    static int looked;
    if (!__atomic_exchange_n(&looked, 1, __ATOMIC_RELAXED)) {
        const char *json = getenv("GREEN_TRACE");
        if (json && *json && green_trace_start(json, getenv("GREEN_TRACE_SVG")) != 0)
            fprintf(stderr, "green: GREEN_TRACE=%s: cannot trace: %s\n", json,
                    strerror(errno));
        if (json && *json)
            return;
    }
    /* A new hub in a thread while a trace records: its thread is running. */
    if (green__trace_on)
        record(T_BEGIN, green_current(), NULL);
}

/* Writing the files is the second half of this file (below). */
static int write_files(double t_end);

int green_trace_stop(void)
{
    pthread_mutex_lock(&lock);
    int active = tr.active;
    __atomic_store_n(&green__trace_on, 0, __ATOMIC_RELAXED);
    tr.active = 0;              /* a hook racing past its test records nothing */
    pthread_mutex_unlock(&lock);
    if (!active)
        return 0;
    /* Nobody records now: the rest needs no lock. */
    int rc = write_files(green_now());
    int saved = errno;
    free_all();
    errno = saved;
    return rc;
}

/* ---- Replaying: records into stretches and marks ------------------------
 * A greenlet's lane is a sequence of stretches:
 *   running  from T_RUN (or T_BEGIN) to T_PARK or T_BACK;
 *   waiting  from T_PARK to the T_WAKE that readies it (a yield, sleep(0),
 *            readies itself before it parks: its wait ends at T_RUN);
 *   ready    from T_WAKE to T_RUN: woken (or spawned), waiting for its
 *            turn.
 * A writer gets each stretch as it ends, and the marks as they happen. */

enum stretch { NONE, RUNNING, WAITING, READY };

struct lane_state {
    enum stretch state;
    double since;               /* when the stretch began */
    const struct record *park;  /* the wait's T_PARK */
    uint32_t woken_by;          /* the wake's waker (a flow arrow) */
    double woken_at;
    unsigned long flow;         /* the arrow's id, 0: none */
};

struct writer {
    /* a stretch begins and ends (JSON writes both; the SVG the second) */
    void (*begin)(struct writer *w, uint32_t lane, const struct lane_state *s);
    void (*end)(struct writer *w, uint32_t lane, double t, const struct lane_state *s);
    /* a mark: "spawn", "wake", "kill" or "finish", `by` whom, or NULL */
    void (*mark)(struct writer *w, uint32_t lane, double t, const char *what, uint32_t by);
    /* a wake-up's arrow: it leaves `from` as it wakes `to`, lands as `to` runs */
    void (*flow)(struct writer *w, uint32_t lane, double t, unsigned long id, int lands);
    FILE *f;
    long pid;                   /* getpid() once: it is a system call */
};

static void enter(struct writer *w, uint32_t lane, struct lane_state *s,
                  enum stretch state, double t, const struct record *park)
{
    if (s->state != NONE)
        w->end(w, lane, t, s);
    s->state = state;
    s->since = t;
    s->park = park;
    if (state != NONE)
        w->begin(w, lane, s);
}

static void replay_one(struct writer *w, struct lane_state *ls,
                       const struct record *r, unsigned long *flows)
{
    struct lane_state *s = &ls[r->lane];
    static const char *marks[] = {
        [T_SPAWN] = "spawn", [T_WAKE] = "wake", [T_KILL] = "kill", [T_FINISH] = "finish",
    };
    switch (r->kind) {
    case T_BEGIN:
        if (s->state != RUNNING)
            enter(w, r->lane, s, RUNNING, r->t, NULL);
        return;
    case T_RUN:
        enter(w, r->lane, s, RUNNING, r->t, NULL);
        if (s->flow) {
            w->flow(w, r->lane, r->t, s->flow, 1);
            s->flow = 0;
        }
        return;
    case T_PARK:
        enter(w, r->lane, s, WAITING, r->t, r);
        return;
    case T_BACK:
        if (s->state == RUNNING)
            enter(w, r->lane, s, NONE, r->t, NULL);
        return;
    case T_WAKE:
        if (s->state == WAITING || s->state == NONE)    /* or just spawned */
            enter(w, r->lane, s, READY, r->t, NULL);
        w->mark(w, r->lane, r->t, marks[r->kind], r->other);
        /* An arrow from the waker, if it is another greenlet, running. */
        if (r->other != NO_LANE && r->other != r->lane && ls[r->other].state == RUNNING) {
            s->flow = ++*flows;
            w->flow(w, r->other, r->t, s->flow, 0);
        }
        return;
    default:
        w->mark(w, r->lane, r->t, marks[r->kind], r->other);
    }
}

/* Replay every record, then end what is still open at t_end (the stop,
 * or the last record of a full trace).  Returns 0, or -1 (no memory). */
static int replay(struct writer *w, double t_end)
{
    struct lane_state *ls = calloc(tr.nlanes ? tr.nlanes : 1, sizeof *ls);
    if (ls == NULL)
        return -1;
    unsigned long flows = 0;
    for (size_t i = 0; i < tr.n; i++)
        replay_one(w, ls, &tr.recs[i], &flows);
    for (uint32_t l = 0; l < tr.nlanes; l++)
        if (ls[l].state != NONE)
            w->end(w, l, t_end, &ls[l]);
    free(ls);
    return 0;
}

/* What a wait is, in a few words: "sleep 0.1", "read fd 5", "join 'b'",
 * "queue get" (the call's name without green_, in words). */
static void wait_label(char *buf, size_t size, const struct record *r)
{
    const char *what = r->what ? r->what : "green_hub_switch";
    if (strncmp(what, "green_", 6) == 0)
        what += 6;
    if (strcmp(what, "sleep") == 0)
        snprintf(buf, size, "sleep %.3g", r->timeout < 0 ? 0 : r->timeout);
    else if (strcmp(what, "wait_read") == 0 || strcmp(what, "wait_write") == 0)
        snprintf(buf, size, "%s fd %d", what + 5, r->fd);
    else if (strcmp(what, "join") == 0 && r->other != NO_LANE)
        snprintf(buf, size, "join '%s'", tr.lanes[r->other].name);
    else {
        snprintf(buf, size, "%s", what);
        for (char *c = buf; *c; c++)
            if (*c == '_')
                *c = ' ';
    }
}

/* t in milliseconds from the start of the trace. */
static double ms(double t) { return (t - tr.t0) * 1e3; }

/* When the last thing happened: a full trace ends at its last record. */
static double trace_end(double t_stop)
{
    return tr.full && tr.n ? tr.recs[tr.n - 1].t : t_stop;
}

/* ---- Chrome's trace event format -----------------------------------------
 * {"traceEvents": [...]} where each event has a phase "ph": "M" metadata
 * (a lane's name), "B"/"E" a stretch begins/ends, "i" an instant, "s"/"f" an
 * arrow's start and finish; "ts" in microseconds; "pid" the process,
 * "tid" the lane. */

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* The fields every event has, up to the last one. */
static void json_head(struct writer *w, const char *ph, uint32_t lane, double t)
{
    fprintf(w->f, ",\n{\"ph\":\"%s\",\"pid\":%ld,\"tid\":%lu,\"ts\":%.3f", ph,
            w->pid, tr.lanes[lane].tid, ms(t) * 1e3);
}

static void json_begin(struct writer *w, uint32_t lane, const struct lane_state *s)
{
    json_head(w, "B", lane, s->since);
    if (s->state == RUNNING) {
        fputs(",\"name\":\"running\",\"cat\":\"run\"}", w->f);
        return;
    }
    if (s->state == READY) {
        fputs(",\"name\":\"ready\",\"cat\":\"ready\"}", w->f);
        return;
    }
    char label[96];
    wait_label(label, sizeof label, s->park);
    fputs(",\"name\":", w->f);
    json_string(w->f, label);
    fputs(",\"cat\":\"wait\",\"args\":{\"call\":", w->f);
    json_string(w->f, s->park->what ? s->park->what : "green_hub_switch");
    if (s->park->fd >= 0)
        fprintf(w->f, ",\"fd\":%d", s->park->fd);
    if (s->park->obj)
        fprintf(w->f, ",\"object\":\"%p\"", s->park->obj);
    if (s->park->timeout >= 0)
        fprintf(w->f, ",\"timeout_s\":%g", s->park->timeout);
    fputs("}}", w->f);
}

static void json_end(struct writer *w, uint32_t lane, double t, const struct lane_state *s)
{
    (void)s;
    json_head(w, "E", lane, t);
    fputc('}', w->f);
}

static void json_mark(struct writer *w, uint32_t lane, double t, const char *what, uint32_t by)
{
    json_head(w, "i", lane, t);
    fprintf(w->f, ",\"s\":\"t\",\"name\":\"%s\"", what);
    if (by != NO_LANE || strcmp(what, "wake") == 0) {
        fputs(",\"args\":{\"by\":", w->f);
        json_string(w->f, by == NO_LANE ? "the hub (a timer or a descriptor)" : tr.lanes[by].name);
        fputc('}', w->f);
    }
    fputc('}', w->f);
}

static void json_flow(struct writer *w, uint32_t lane, double t, unsigned long id, int lands)
{
    json_head(w, lands ? "f" : "s", lane, t);
    fprintf(w->f, ",\"name\":\"wakes\",\"cat\":\"wake\",\"id\":%lu%s}", id,
            lands ? ",\"bp\":\"e\"" : "");
}

static int write_json(FILE *f, double t_stop)
{
    long pid = (long)getpid();
    struct writer w = { json_begin, json_end, json_mark, json_flow, f, pid };
    fputs("{\"displayTimeUnit\":\"ms\",\"otherData\":{\"recorder\":\"libgreen trace.c\"", f);
    if (tr.full)
        fprintf(f, ",\"full\":\"the trace is full (%zu records): what "
                "happened after %.3f ms is not recorded\"", tr.max,
                ms(trace_end(t_stop)));
    fprintf(f, "},\n\"traceEvents\":[\n{\"ph\":\"M\",\"pid\":%ld,\"name\":"
            "\"process_name\",\"args\":{\"name\":", pid);
    json_string(f, program_invocation_short_name);
    fputs("}}", f);
    for (uint32_t l = 0; l < tr.nlanes; l++) {
        fprintf(f, ",\n{\"ph\":\"M\",\"pid\":%ld,\"tid\":%lu,\"name\":\"thread_name\","
                "\"args\":{\"name\":", pid, tr.lanes[l].tid);
        json_string(f, tr.lanes[l].name);
        fprintf(f, "}},\n{\"ph\":\"M\",\"pid\":%ld,\"tid\":%lu,\"name\":"
                "\"thread_sort_index\",\"args\":{\"sort_index\":%u}}", pid,
                tr.lanes[l].tid, l);
    }
    int rc = replay(&w, trace_end(t_stop));
    if (tr.full)
        fprintf(f, ",\n{\"ph\":\"i\",\"s\":\"g\",\"pid\":%ld,\"tid\":0,\"ts\":%.3f,"
                "\"name\":\"trace full: nothing recorded after this\"}", pid,
                ms(trace_end(t_stop)) * 1e3);
    fputs("\n]}\n", f);
    return rc;
}

/* ---- The SVG ------------------------------------------------------------
 * A lane per greenlet, time from left to right in ms: running stretches as
 * bars, waits as thin lines with what they wait on above them, the wait
 * for a turn (ready) dashed.  Stretches closer than a pixel are merged, so
 * a greenlet that yields ten thousand times draws as one bar, not ten
 * thousand: the file stays small, whatever the trace. */

#define SVG_W 960
#define SVG_LEFT 120            /* the lanes' names */
#define SVG_RIGHT 20
#define SVG_TOP 48              /* title and legend */
#define SVG_LANE 34
#define SVG_AXIS 34
#define SVG_CHAR 6.2            /* width of a character at 11px, about */

struct svg {
    struct writer w;
    double t0, t1;              /* the axis */
    double *bar_x0, *bar_x1;    /* per lane: the run bar being merged */
};

static double svg_x(const struct svg *s, double t)
{
    return SVG_LEFT + (t - s->t0) / (s->t1 - s->t0) * (SVG_W - SVG_LEFT - SVG_RIGHT);
}

static double lane_y(uint32_t lane) { return SVG_TOP + SVG_LANE * (lane + 0.5); }

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

static void svg_flush_bar(struct svg *s, uint32_t lane)
{
    if (s->bar_x1[lane] < 0)
        return;
    fprintf(s->w.f, "<rect class=\"run\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"14\"/>\n",
            s->bar_x0[lane], lane_y(lane) - 7, s->bar_x1[lane] - s->bar_x0[lane]);
    s->bar_x1[lane] = -1;
}

static void svg_begin(struct writer *w, uint32_t lane, const struct lane_state *st)
{
    (void)w, (void)lane, (void)st;     /* drawn whole, when it ends */
}

/* A run bar: merged into the one before when they are less than a pixel
 * apart, and at least a pixel wide. */
static void svg_run(struct svg *s, uint32_t lane, double x0, double x1)
{
    if (s->bar_x1[lane] >= 0 && x0 - s->bar_x1[lane] < 1) {
        if (x1 > s->bar_x1[lane])
            s->bar_x1[lane] = x1;
        return;
    }
    svg_flush_bar(s, lane);
    s->bar_x0[lane] = x0;
    s->bar_x1[lane] = x1 - x0 < 1 ? x0 + 1 : x1;
}

/* A thin line from x0 to x1, and its label above it if there is room. */
static void svg_line(FILE *f, uint32_t lane, double x0, double x1,
                     const char *class, const char *label)
{
    double y = lane_y(lane);
    if (x1 - x0 < 2)
        return;                 /* too short to see */
    fprintf(f, "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
            class, x0, y, x1, y);
    if (x1 - x0 < SVG_CHAR * (double)strlen(label) + 4)
        return;                 /* no room for its words */
    fprintf(f, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\">", x0 + 2, y - 4);
    xml_text(f, label);
    fputs("</text>\n", f);
}

/* A timed wait that ended well after its time (the hub was kept from
 * firing its timer: a greenlet that does not yield) is drawn in two: the
 * wait itself, then the lateness, in the colour of "ready". */
#define SVG_LATE 0.002

static void svg_end(struct writer *w, uint32_t lane, double t, const struct lane_state *st)
{
    struct svg *s = (struct svg *)w;
    double x0 = svg_x(s, st->since), x1 = svg_x(s, t);
    char label[96];
    if (st->state == RUNNING) {
        svg_run(s, lane, x0, x1);
        return;
    }
    if (st->state == READY) {
        svg_line(w->f, lane, x0, x1, "ready", "ready");
        return;
    }
    wait_label(label, sizeof label, st->park);
    double due = st->park->t + st->park->timeout;
    if (st->park->timeout < 0 || t - due < SVG_LATE) {
        svg_line(w->f, lane, x0, x1, "wait", label);
        return;
    }
    svg_line(w->f, lane, x0, svg_x(s, due), "wait", label);
    snprintf(label, sizeof label, "late %.0f ms", (t - due) * 1e3);
    svg_line(w->f, lane, svg_x(s, due), x1, "ready", label);
}

static void svg_mark(struct writer *w, uint32_t lane, double t, const char *what, uint32_t by)
{
    (void)by;
    struct svg *s = (struct svg *)w;
    if (strcmp(what, "wake") == 0)
        return;                 /* the end of a wait line already says it */
    fprintf(w->f, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\"/>\n",
            what, svg_x(s, t), lane_y(lane) + 11);
}

static void svg_flow(struct writer *w, uint32_t lane, double t, unsigned long id, int lands)
{
    (void)w, (void)lane, (void)t, (void)id, (void)lands;   /* JSON only */
}

/* Ticks 1, 2 or 5 times a power of ten apart: at most ten of them. */
static double tick_step(double span_ms)
{
    static const double mult[] = { 1, 2, 5 };
    for (double p = 1e-3;; p *= 10)
        for (int i = 0; i < 3; i++)
            if (span_ms / (p * mult[i]) <= 10)
                return p * mult[i];
}

static void svg_axis(FILE *f, const struct svg *s, int height)
{
    double span = (s->t1 - s->t0) * 1e3, step = tick_step(span);
    int y = height - SVG_AXIS + 6;
    fprintf(f, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
            SVG_LEFT, y, SVG_W - SVG_RIGHT, y);
    for (double v = 0; v <= span + 1e-9; v += step) {
        double x = svg_x(s, s->t0 + v / 1e3);
        fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
                "<text class=\"tick\" x=\"%.1f\" y=\"%d\">%g</text>\n",
                x, y, x, y + 4, x, y + 16, v);
    }
    fprintf(f, "<text class=\"tick\" x=\"%d\" y=\"%d\">ms</text>\n",
            SVG_LEFT - 30, y + 16);
}

static void svg_head(FILE *f, int height, double t_end)
{
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n", SVG_W, height, SVG_W, height);
    fputs("<style>\n"
          ".run{fill:#3574d4}.wait{stroke:#8a8a8a;stroke-width:2}"
          ".ready{stroke:#d9534f;stroke-width:2;stroke-dasharray:4 3}\n"
          ".spawn{fill:#2e9e44}.kill{fill:#d9534f}.finish{fill:#222}"
          ".axis{stroke:#444}.grid{stroke:#e4e4e4}\n"
          "text{font-size:11px;fill:#222}.label{font-size:10px;fill:#555}"
          ".tick{text-anchor:middle;font-size:10px}.name{text-anchor:end;font-size:12px}"
          ".title{font-size:13px;font-weight:bold}.full{fill:#d9534f}\n"
          "</style>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n", f);
    fputs("<text class=\"title\" x=\"8\" y=\"18\">", f);
    xml_text(f, program_invocation_short_name);
    fputs("</text>\n", f);
    /* The legend, one line: what each shape means. */
    fputs("<rect class=\"run\" x=\"160\" y=\"9\" width=\"18\" height=\"10\"/>"
          "<text x=\"182\" y=\"18\">running</text>\n"
          "<line class=\"wait\" x1=\"245\" y1=\"14\" x2=\"265\" y2=\"14\"/>"
          "<text x=\"269\" y=\"18\">waiting (on what: above the line)</text>\n"
          "<line class=\"ready\" x1=\"470\" y1=\"14\" x2=\"490\" y2=\"14\"/>"
          "<text x=\"494\" y=\"18\">ready or late: due, waiting for its turn</text>\n"
          "<circle class=\"spawn\" cx=\"700\" cy=\"14\" r=\"3.5\"/><text x=\"707\" y=\"18\">spawn</text>\n"
          "<circle class=\"kill\" cx=\"755\" cy=\"14\" r=\"3.5\"/><text x=\"762\" y=\"18\">kill</text>\n"
          "<circle class=\"finish\" cx=\"796\" cy=\"14\" r=\"3.5\"/><text x=\"803\" y=\"18\">finish</text>\n", f);
    if (tr.full)
        fprintf(f, "<text class=\"full\" x=\"8\" y=\"36\">the trace is full (%zu records): "
                "nothing after %.1f ms is drawn</text>\n", tr.max, ms(t_end));
}

static int write_svg(FILE *f, double t_stop)
{
    struct svg s = { { svg_begin, svg_end, svg_mark, svg_flow, f, 0 }, tr.t0,
                     trace_end(t_stop), NULL, NULL };
    if (s.t1 <= s.t0)
        s.t1 = s.t0 + 1e-3;
    s.bar_x0 = malloc((tr.nlanes + 1) * sizeof *s.bar_x0);
    s.bar_x1 = malloc((tr.nlanes + 1) * sizeof *s.bar_x1);
    if (s.bar_x0 == NULL || s.bar_x1 == NULL) {
        free(s.bar_x0);
        free(s.bar_x1);
        return -1;
    }
    int height = SVG_TOP + SVG_LANE * (int)tr.nlanes + SVG_AXIS;
    svg_head(f, height, s.t1);
    for (uint32_t l = 0; l < tr.nlanes; l++) {
        s.bar_x1[l] = -1;
        double y = lane_y(l);
        fprintf(f, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n"
                "<text class=\"name\" x=\"%d\" y=\"%.1f\">", SVG_LEFT, y, SVG_W - SVG_RIGHT, y,
                SVG_LEFT - 8, y + 4);
        xml_text(f, tr.lanes[l].name);
        fputs("</text>\n", f);
    }
    int rc = replay(&s.w, s.t1);
    for (uint32_t l = 0; l < tr.nlanes; l++)
        svg_flush_bar(&s, l);
    svg_axis(f, &s, height);
    fputs("</svg>\n", f);
    free(s.bar_x0);
    free(s.bar_x1);
    return rc;
}

/* Write one file with `fn`.  Returns 0, or -1 with errno. */
static int write_one(const char *path, int (*fn)(FILE *f, double t_stop), double t_stop)
{
    FILE *f = open_expanded(path);
    if (f == NULL)
        return -1;
    int rc = fn(f, t_stop);
    if (ferror(f))
        rc = -1;
    if (fclose(f) != 0)
        rc = -1;
    if (rc != 0 && errno == 0)
        errno = EIO;
    return rc;
}

static int write_files(double t_stop)
{
    int rc = write_one(tr.json_path, write_json, t_stop);
    if (tr.svg_path && write_one(tr.svg_path, write_svg, t_stop) != 0)
        rc = -1;
    return rc;
}
