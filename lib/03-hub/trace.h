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
 * and GREEN_TRACE_SVG=FILE for the drawing; both are written when the
 * program exits (or green_trace_stop()).  `make trace N=3` does it for
 * chapter 3's demo.  Off, a trace costs one predictable branch per event.
 */
#ifndef GREEN_TRACE_H
#define GREEN_TRACE_H

/* Start recording every hub's events into `json_path` (Chrome's trace
 * event format); `svg_path`, if not NULL, also gets the timeline drawn as
 * an SVG.  Both are written by green_trace_stop() or at exit.  Returns 0,
 * or -1 with errno (EBUSY: a trace is already recording; or what fopen
 * said). */
int green_trace_start(const char *json_path, const char *svg_path);

/* Stop recording and write the files.  Returns 0, or -1 with errno when
 * a file could not be written.  Nothing to stop: 0. */
int green_trace_stop(void);

#endif
