/*
 * sleepers.c - the helper tests/lib/patch.c runs with and without
 * LD_PRELOAD=libgreenpatch.so (it is linked with libgreen.so, so that the
 * preloaded patch and the program share one libgreen).
 *
 *   sleepers          three greenlets each call plain usleep(100000);
 *                     prints the seconds it took (about 0.1 patched, 0.3
 *                     not) and how many were asleep when the first woke
 *                     (3 patched, 1 not)
 *   sleepers plain    no greenlet at all: usleep, a pipe, getaddrinfo, a
 *                     poll that times out; prints "plain ok" when each
 *                     behaved as the original (patched or not)
 */
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "green.h"

static int asleep, asleep_at_first_wake;

static void *sleeper(void *arg)
{
    (void)arg;
    asleep++;
    usleep(100000);
    if (asleep_at_first_wake == 0)
        asleep_at_first_wake = asleep;
    return NULL;
}

static int three_sleepers(void)
{
    green_t *gs[3];
    double start = green_now();
    for (int i = 0; i < 3; i++)
        gs[i] = green_spawn(sleeper, NULL);
    green_joinall(gs, 3, GREEN_FOREVER);
    printf("%.3f %d\n", green_now() - start, asleep_at_first_wake);
    for (int i = 0; i < 3; i++)
        green_free(gs[i]);
    green_hub_destroy();
    return 0;
}

static int fail(const char *what)
{
    printf("plain: %s\n", what);
    return 1;
}

static int plain(void)
{
    double start = green_now();
    if (usleep(50000) != 0 || green_now() - start < 0.045)
        return fail("usleep(50000) did not sleep 50 ms");

    int p[2];
    char buf[8] = "";
    if (pipe(p) != 0 || write(p[1], "hi", 2) != 2 || read(p[0], buf, sizeof buf) != 2
        || memcmp(buf, "hi", 2) != 0)
        return fail("a pipe did not carry 'hi'");

    struct pollfd pfd = { .fd = p[0], .events = POLLIN };
    start = green_now();
    if (poll(&pfd, 1, 50) != 0 || green_now() - start < 0.045)
        return fail("poll on an empty pipe did not time out after 50 ms");
    close(p[0]);
    close(p[1]);

    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
    if (getaddrinfo("127.0.0.1", "80", &hints, &ai) != 0)
        return fail("getaddrinfo(\"127.0.0.1\") failed");
    freeaddrinfo(ai);

    if (green_hub_active())
        return fail("a hub appeared, though the program never used one");
    printf("plain ok\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "plain") == 0)
        return plain();
    return three_sleepers();
}
