/*
 * trace.h - chapter 3: a timeline of every switch (gevent's greenlet.settrace,
 * Go's runtime/trace).
 *
 * While a trace records, the hub writes down every spawn, every switch into
 * and out of a greenlet, every wait (sleep, a descriptor, an Event, Queue,
 * Lock or join), every wake-up, kill and finish, with a monotonic timestamp
 * and the greenlet's name.  The file is Chrome's trace event format (JSON):
 * open it in https://ui.perfetto.dev or chrome://tracing.  The kit also
 * draws it as an SVG, one lane per greenlet, so no browser is needed.
 *
 * Start one without touching the program: GREEN_TRACE=FILE in the
 * environment (FILE's "%p" becomes the process id, for pre-fork workers),
 * and GREEN_TRACE_SVG=FILE for the drawing (read only with GREEN_TRACE);
 * the first hub made reads them.  Both are written when the program exits
 * (or green_trace_stop()).  `make trace N=3` does it for chapter 3's demo.
 *
 * In the JSON, "pid" is the process and "tid" a lane: the number in the
 * greenlet's default name ("greenlet-3": 3), or for a thread's main
 * greenlet its hub's; a "thread_name" event names each lane.  A running
 * stretch is a "B"/"E" pair named "running", a wait one named for what it
 * waits on ("sleep 0.1", "read fd 5", "queue get", "join 'name'"), a wait
 * for one's turn "ready"; spawn, wake, kill and finish are instants
 * ("i"), and an arrow ("s"/"f") goes from a greenlet that wakes another to
 * where it runs.
 *
 * Off, a trace costs one predictable branch per event; on, some 40 ns an
 * event (make bench).  Memory is bounded: at 500,000 events (about 24 MiB;
 * GREEN_TRACE_MAX=N for fewer) a trace stops recording and says so in
 * both files.  A process that forks while a
 * trace records: the child writes its own file if the name holds "%p",
 * else none (never its parent's).  Every thread's hub records into the
 * same trace.
 */
#ifndef GREEN_TRACE_H
#define GREEN_TRACE_H

/* Start recording every hub's events into `json_path` (Chrome's trace
 * event format); `svg_path`, if not NULL, also gets the timeline drawn as
 * an SVG.  Both are written by green_trace_stop() or at exit.  Returns 0,
 * or -1 with errno (EBUSY: a trace is already recording; EINVAL:
 * json_path is NULL; or what fopen said: both files are tried at once).
 * Python: sys.settrace, for a whole program's greenlets. */
int green_trace_start(const char *json_path, const char *svg_path);

/* Stop recording and write the files.  Returns 0, or -1 with errno when
 * a file could not be written.  Nothing to stop: 0. */
int green_trace_stop(void);

#endif
