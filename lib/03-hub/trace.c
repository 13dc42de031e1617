/*
 * trace.c - chapter 3: the timeline (trace.h).  STUB of the contract
 * commit: the hooks do nothing yet.
 */
#include "internal.h"
#include "trace_hooks.h"
#include "trace.h"

#include <errno.h>

int green__trace_on;

void green__trace_from_env(void) {}
void green__trace_spawn(const green_t *g) { (void)g; }
void green__trace_run(const green_t *g) { (void)g; }
void green__trace_back(const green_t *g) { (void)g; }
void green__trace_park(const green_t *g) { (void)g; }
void green__trace_wake(const green_t *g) { (void)g; }
void green__trace_kill(const green_t *g) { (void)g; }
void green__trace_finish(const green_t *g) { (void)g; }

int green_trace_start(const char *json_path, const char *svg_path)
{
    (void)json_path;
    (void)svg_path;
    errno = ENOSYS;
    return -1;
}

int green_trace_stop(void) { return 0; }
