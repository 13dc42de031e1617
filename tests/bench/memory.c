/*
 * memory.c - the resident memory of 100,000 greenlets asleep in the hub.
 *
 * usage: memory [N [RUNS]]     (defaults: 100000 greenlets, 1 run)
 *
 * Each run happens in a child process: read VmRSS from /proc/self/status,
 * spawn N greenlets that each sleep for an hour, let them all start and fall
 * asleep, read VmRSS again.  The difference divided by N is what one
 * sleeping greenlet costs: the pages of its stack it has touched (stacks are
 * reserved at full size but committed by the kernel a page at a time, when
 * first touched), its green_t, and its timer.  Page tables are not part of
 * VmRSS; they are reported beside it (VmPTE).
 *
 * Every stack is two mappings (the stack and the guard page below it), and
 * the kernel allows vm.max_map_count mappings per process: 65530 by default,
 * enough for about 32,000 greenlets.  When that is too low, this program
 * raises it for the duration of the runs if it may (root), and restores it
 * afterwards, from the parent process, however the children ended.  When it
 * may not, it says what to run, measures as many greenlets as fit, and
 * scales the total to N.
 *
 * Prints, per run, "sample: memory.kit MIB MiB" (total for N greenlets),
 * "sample: memory.kit_each KIB KiB" (per greenlet) and
 * "sample: memory.kit_pagetables KIB KiB" (page tables per greenlet).
 */
#include "green.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_MAP_COUNT "/proc/sys/vm/max_map_count"
#define MAPS_SPARE 1000 /* mappings left for libc, libevent and malloc */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A field of /proc/self/status in KiB ("VmRSS:"), or -1. */
static long status_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, strlen(field)) == 0)
            kib = strtol(line + strlen(field), NULL, 10);
    fclose(f);
    return kib;
}

static long read_long(const char *path)
{
    FILE *f = fopen(path, "r");
    long v = -1;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

static int write_long(const char *path, long v)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int ok = fprintf(f, "%ld\n", v) > 0;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* How many mappings this process has now: one per line of /proc/self/maps. */
static long mappings_in_use(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    long lines = 0;
    int c;
    if (!f)
        return 0;
    while ((c = getc(f)) != EOF)
        lines += c == '\n';
    fclose(f);
    return lines;
}

static void *sleeper(void *arg)
{
    /* fails with ECANCELED when green_hub_destroy() kills us */
    green_sleep(3600);
    return arg;
}

/* One measurement with `count` greenlets, the total scaled to `n`. */
static int measure(long count, long n)
{
    green_t **gs = calloc(count, sizeof *gs);
    if (!gs || !green_hub()) {
        perror("memory: setting up");
        return 1;
    }
    long rss0 = status_kib("VmRSS:"), pte0 = status_kib("VmPTE:");
    double t0 = now();

    long spawned = 0;
    while (spawned < count && (gs[spawned] = green_spawn(sleeper, NULL)))
        spawned++;
    if (spawned < count)
        printf("memory: green_spawn failed after %ld greenlets: %s\n",
               spawned, strerror(errno));
    if (spawned == 0)
        return 1;
    /* Our sleep(0) puts us behind all of them in the ready queue: when it
     * returns, each has run up to its own green_sleep(). */
    for (int round = 0; round < 10 && !green_started(gs[spawned - 1]); round++)
        green_sleep(0);
    for (long i = 0; i < spawned; i++)
        if (!green_started(gs[i]) || green_dead(gs[i])) {
            fprintf(stderr, "memory: greenlet %ld is not asleep\n", i);
            return 1;
        }
    double seconds = now() - t0;
    long rss1 = status_kib("VmRSS:"), pte1 = status_kib("VmPTE:");

    double each = (double)(rss1 - rss0) / spawned;
    printf("memory: %ld greenlets asleep after %.2f s: VmRSS %ld -> %ld KiB, "
           "page tables %ld -> %ld KiB\n",
           spawned, seconds, rss0, rss1, pte0, pte1);
    printf("sample: memory.kit %.1f MiB\n", each * n / 1024);
    printf("sample: memory.kit_each %.3f KiB\n", each);
    printf("sample: memory.kit_pagetables %.3f KiB\n",
           (double)(pte1 - pte0) / spawned);
    fflush(stdout);

    green_hub_destroy();
    free(gs);
    return 0;
}

static volatile sig_atomic_t interrupted;
static volatile pid_t child;

/* Ctrl-C or a time limit: pass it on to the measuring child, so that it
 * ends now and the parent gets to restore vm.max_map_count. */
static void pass_signal(int sig)
{
    interrupted = sig;
    if (child > 0)
        kill(child, sig);
}

/* Run measure() in a child; the parent only waits, so that it can restore
 * vm.max_map_count however the child ends. */
static int run_child(long count, long n)
{
    fflush(stdout);
    pid_t pid = child = fork();
    if (pid < 0) {
        perror("memory: fork");
        return 1;
    }
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        _exit(measure(count, n));
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            perror("memory: waitpid");
            return 1;
        }
    child = 0;
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "memory: the measuring process died of signal %d\n",
                WTERMSIG(status));
        return 1;
    }
    return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    int runs = argc > 2 ? atoi(argv[2]) : 1;
    if (n <= 0 || runs <= 0) {
        fprintf(stderr, "usage: %s [GREENLETS [RUNS]]\n", argv[0]);
        return 2;
    }

    long limit = read_long(MAX_MAP_COUNT);
    long in_use = mappings_in_use();
    long needed = in_use + MAPS_SPARE + 2 * n;
    long restore = -1;
    long count = n;
    if (limit >= 0 && limit < needed) {
        if (write_long(MAX_MAP_COUNT, needed) == 0) {
            restore = limit;
            printf("memory: raised vm.max_map_count from %ld to %ld for this "
                   "benchmark (2 mappings per greenlet stack); restored "
                   "afterwards\n", limit, needed);
        } else {
            count = (limit - in_use - MAPS_SPARE) / 2;
            if (count <= 0) {
                fprintf(stderr, "memory: vm.max_map_count is %ld: no room "
                        "for any greenlet stack\n", limit);
                return 1;
            }
            printf("memory: vm.max_map_count is %ld, too low for %ld "
                   "greenlets (2 mappings per stack) and we may not raise it; "
                   "to measure all of them run `sudo sysctl -w "
                   "vm.max_map_count=%ld`.  Measuring %ld greenlets and "
                   "scaling to %ld.\n", limit, n, needed, count, n);
        }
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = pass_signal; /* no SA_RESTART: waitpid returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int failed = 0;
    for (int r = 0; r < runs && !failed && !interrupted; r++)
        failed = run_child(count, n);

    if (restore >= 0) {
        if (write_long(MAX_MAP_COUNT, restore) == 0)
            printf("memory: restored vm.max_map_count to %ld\n", restore);
        else
            fprintf(stderr, "memory: could not restore vm.max_map_count to "
                    "%ld: run `sysctl -w vm.max_map_count=%ld`\n",
                    restore, restore);
    }
    if (interrupted)
        return 128 + interrupted;
    return failed;
}
