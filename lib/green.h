/*
 * green.h - the whole library, one include.
 *
 * Layers, one per chapter, each built only on the ones before it (read
 * them in this order):
 *   gen.h       stackless generators                     (chapter 1)
 *   ctx.h       machine context switch, stacks            (chapter 2)
 *   greenlet.h  stackful coroutines, switch, exit hooks   (chapter 2)
 *   hub.h       the scheduler on libevent, its observer
 *               and the blocking detector (monitor.c)     (chapter 3)
 *   trace.h     a timeline of every switch: Chrome's trace
 *               format, and an SVG the kit draws         (chapter 3)
 *   io.h        green sockets                             (chapter 4)
 *   dns.h       name resolution on evdns                  (chapter 4)
 *   tls.h       cooperative TLS on OpenSSL: gevent's ssl   (chapter 4)
 *   patch.h     greening blocking calls: a library of its own (chapter 5)
 *   sync.h      Event, AsyncResult, Queue, Semaphore, local (chapter 6)
 *   pool.h      Group and Pool                            (chapter 7)
 *   server.h    StreamServer                              (chapter 7)
 *   url.h       percent-decoding, one decoder for all     (chapter 9)
 *   wsgi.h      the WSGI-style interface                  (chapter 9)
 *   http_parser.h  a strict HTTP/1.x request parser: it needs nothing
 *               of the kit; chapter 11 explains it, and chapter 10's
 *               guard already frames requests with it
 *   wsgi_evhttp.h  any app on libevent's evhttp            (chapter 10)
 *   http.h      the cooperative HTTP/1.1 server           (chapter 11)
 *   prefork.h   a pre-fork master and its workers         (chapter 12)
 *   prefork_heartbeat.h  the master's --timeout: a worker whose hub
 *               is held names the greenlet, then is killed (chapter 12)
 *   ws_frame.h  WebSocket frame headers, read and written: a pure
 *               function of bytes, like the request parser  (chapter 13)
 *   utf8.h      an incremental UTF-8 validator              (chapter 13)
 *   ws.h        the WebSocket handshake, on chapter 11's takeover (chapter 13)
 *   room.h      chat rooms: a bounded ring of messages, a cursor per
 *               reader, a publisher hook for Redis          (chapter 13)
 *   redis.h     a green Redis client: hiredis's RESP reader over
 *               chapter 4's sockets, commands and pub/sub    (chapter 13)
 *   room_redis.h  chat rooms shared by processes and machines
 *               through Redis pub/sub                       (chapter 13)
 * Each sits in its chapter's folder (hub.h in lib/03-hub/, patch.h in
 * lib/05-patch/); the headers the library shares between its own files,
 * never a program's business, in lib/private/.  Installed, the headers
 * green.h includes sit flat in PREFIX/include/green/.
 * "Built only on the ones before it" is checked, not hoped: `make test`
 * runs tests/check-layers.sh, which fails when a file needs a symbol of a
 * later chapter.  A lower layer that must hear from an upper one offers a
 * hook the upper one registers (green_on_exit, green_hub_observe,
 * green_hub_at_destroy); files of one chapter may use each other.
 *
 * Conventions: every file follows these, so a header need not repeat them.
 *
 * Names.  green_<object>_<verb>: green_server_start, green_queue_put,
 *   green_budget_consume.  The object is left out for the greenlet, the
 *   library's own object (green_spawn, green_join(g), green_set_name(g)),
 *   and a call that stands for one a student knows keeps its name
 *   (green_recv, green_getaddrinfo: POSIX; green_joinall,
 *   green_start_response, green_signal_handler: gevent and WSGI).  A
 *   getter is named by what it returns: green_server_port(srv).
 *   Every public type ends in _t, function types too (green_fn_t).
 *   Constants and macros are GREEN_UPPER_CASE.  A name that several files
 *   of lib/ share but users must not call starts with green__ (two
 *   underscores, libuv's uv__), and lives in a private header (wait.h,
 *   internal.h) that is not installed.  A name used by one file only is
 *   static and has no prefix.
 *
 * Errors.  A call that can fail returns -1 (or NULL) and sets errno; its
 *   header lists every errno.  On success errno is left as it was: a
 *   caller may read errno only after a failure.  Two exceptions, each
 *   documented at its call: the resolver returns an EAI_* code, as
 *   getaddrinfo() does (dns.h), and the HTTP parser returns a negated HTTP
 *   status (-400, -431...), so the server answers with it (http_parser.h).
 *
 * Misuse.  A mistake the library can detect fails like any error, never
 *   with a crash: EINVAL for a bad argument, EPERM for a call made where
 *   it may not be (a wait inside the hub, a lock released twice, a switch
 *   to another thread's greenlet or to one somebody else waits for),
 *   ESRCH for a switch to a dead greenlet, EBUSY or EALREADY for a call
 *   made at the wrong moment of an object's life (a server started twice,
 *   a response begun after its status line went out).  Where the mistake is
 *   hard to see from the caller's side, a line on stderr says which.
 *   abort(), after such a line, is kept for what no caller could handle:
 *   the library's own failure (no memory for a thread's hub) and a void
 *   call that would leave greenlets pointing into freed memory (freeing
 *   an object they still wait on).  As in libc, a NULL given where the
 *   contract asks for an object is not checked; NULL is accepted only
 *   where a header gives it a meaning (opt NULL: the defaults).
 *
 * Time.  Seconds, as a double, everywhere: 0.25 is a quarter second.  A
 *   timeout that is negative (GREEN_FOREVER) never expires; 0 means do not
 *   wait: try once, and fail with ETIMEDOUT rather than wait.  A duration
 *   is not a timeout: green_sleep of 0 or less only yields.  Deadlines are
 *   absolute times on green_now()'s clock (wait.h computes them, once).
 *   lib/patch/ replaces libc's sleep() and poll(), so it keeps their int
 *   seconds and milliseconds.  One exception, in the three servers'
 *   option structs (green_server_options_t, green_evhttp_options_t,
 *   green_http_options_t): a field left 0 takes its default, so that
 *   `opt = {0}`, or a NULL opt, gives a working server, and a student
 *   names only what differs (`{ .idle_timeout = 5 }`: C's designated
 *   initializers zero the rest).
 *   A server timeout of "do not wait" would close every connection before
 *   its first byte, so 0 loses nothing there; negative still means no
 *   limit.
 *
 * Strings a call returns.  `const char *`: borrowed, never freed by the
 *   caller, valid as long as the object it came from (green_name: until
 *   the greenlet is freed) or forever when it names a constant
 *   (green_http_reason).  `char *`: yours, release it with free()
 *   (green_input_read_all).  A call that fills a buffer takes it from the
 *   caller, and its size is in the header (green_http_date: 30 bytes).
 *
 * Thread-local state.  Each thread has its own hub, so per-thread state is
 *   `static _Thread_local` (C11), spelled that one way.
 */
#ifndef GREEN_H
#define GREEN_H

#include "gen.h"
#include "ctx.h"
#include "greenlet.h"
#include "hub.h"
#include "trace.h"
#include "io.h"
#include "dns.h"
#include "tls.h"
#include "sync.h"
#include "pool.h"
#include "server.h"
#include "url.h"
#include "wsgi.h"
#include "http_parser.h"
#include "wsgi_evhttp.h"
#include "http.h"
#include "prefork.h"
#include "prefork_heartbeat.h"
#include "ws_frame.h"
#include "utf8.h"
#include "ws.h"
#include "room.h"
#include "redis.h"
#include "room_redis.h"

#endif
