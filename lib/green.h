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
 *   io.h        green sockets, name resolution            (chapter 4)
 *   patch.h     greening blocking calls: a library of its own (chapter 5)
 *   sync.h      Event, AsyncResult, Queue, Semaphore, local (chapter 6)
 *   pool.h      Group and Pool                            (chapter 7)
 *   server.h    StreamServer                              (chapter 7)
 *   wsgi.h      the WSGI-style interface                  (chapter 9)
 *   http_parser.h  a strict HTTP/1.x request parser: it needs nothing
 *               of the kit; chapter 11 explains it, and chapter 10's
 *               guard already frames requests with it
 *   wsgi_evhttp.h  any app on libevent's evhttp            (chapter 10)
 *   http.h      the cooperative HTTP/1.1 server           (chapter 11)
 * Each sits in its chapter's folder (hub.h in lib/03-hub/, patch.h in
 * lib/05-patch/); the headers the library shares between its own files,
 * never a program's business, in lib/private/.  Installed, the headers
 * green.h includes sit flat in PREFIX/include/green/.
 * "Built only on the ones before it" is checked, not hoped: `make test`
 * runs tests/check-layers.sh, which fails when a file needs a symbol of a
 * later chapter.  A lower layer that must hear from an upper one offers a
 * hook the upper one registers (green_on_exit, green_hub_observe,
 * green_hub_at_destroy); files of one chapter may use each other.
 */
#ifndef GREEN_H
#define GREEN_H

#include "gen.h"
#include "ctx.h"
#include "greenlet.h"
#include "hub.h"
#include "io.h"
#include "sync.h"
#include "pool.h"
#include "server.h"
#include "wsgi.h"
#include "http_parser.h"
#include "wsgi_evhttp.h"
#include "http.h"

#endif
