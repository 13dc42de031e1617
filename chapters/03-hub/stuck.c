/*
 * stuck.c - a program that hangs, to find out why with gdb (the lesson's
 * 'Debugging greenlets with gdb').
 *
 * A waits for B to finish and B for A, as in deadlock.c; "reader" waits for
 * a line on a pipe that nobody writes to; main waits for A.  But here the
 * hub cannot see the deadlock: "ticker" sleeps and wakes for ever, and as
 * long as a timer is pending, someone may still be woken.  So the program
 * just sits there, printing its ticks, and Ctrl-C is all a student has...
 * unless gdb can say who waits for what (lib/03-hub/green-gdb.py).
 *
 * Usage: stuck [TICKS]
 * With TICKS, the ticker stops after that many ticks and closes the pipe:
 * the reader sees the end of the file, the hub sees the deadlock it could
 * not see before, main's wait fails with EDEADLK and the program ends (the
 * gdb test, tests/lib/gdb.c, runs it so).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "green.h"

static green_t *a, *b;
static int pipe_fds[2];     /* [0]: the reader's end, [1]: nobody writes */

static void *join_other(void *arg)
{
    green_t *other = *(green_t **)arg;
    if (green_join(other, GREEN_FOREVER) < 0)
        printf("%s: join failed: %s\n", green_name(green_current()), strerror(errno));
    return NULL;
}

static void *read_line(void *unused)
{
    (void)unused;
    char line[80];
    ssize_t n = 0;
    if (green_wait_read(pipe_fds[0], GREEN_FOREVER) == 0)
        n = read(pipe_fds[0], line, sizeof line);
    printf("reader: %s\n", n == 0 ? "end of file" : "a line?");
    return NULL;
}

/* Where the gdb test puts its breakpoint: every other greenlet is parked
 * by then. */
static void show_tick(int n)
{
    printf("tick %d\n", n);
}

static void *tick(void *arg)
{
    int ticks = *(int *)arg;     /* 0: for ever */
    for (int n = 1; ticks == 0 || n <= ticks; n++) {
        green_sleep(0.5);
        show_tick(n);
    }
    close(pipe_fds[1]);          /* the reader's end of file */
    return NULL;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int ticks = argc > 1 ? atoi(argv[1]) : 0;
    if (pipe(pipe_fds) < 0) {
        perror("stuck: pipe");
        return 1;
    }

    a = green_spawn(join_other, &b);
    b = green_spawn(join_other, &a);
    green_t *reader = green_spawn(read_line, NULL);
    green_t *ticker = green_spawn(tick, &ticks);
    green_set_name(a, "A");
    green_set_name(b, "B");
    green_set_name(reader, "reader");
    green_set_name(ticker, "ticker");

    printf("main: waiting for A (pid %d: gdb -p %d)\n", (int)getpid(), (int)getpid());
    if (green_join(a, GREEN_FOREVER) < 0)
        printf("main: join failed: %s\n", strerror(errno));

    green_t *all[] = { a, b, reader, ticker };
    for (int i = 0; i < 4; i++) {
        green_kill(all[i], GREEN_FOREVER);
        green_free(all[i]);
    }
    close(pipe_fds[0]);
    green_hub_destroy();
    return 0;
}
