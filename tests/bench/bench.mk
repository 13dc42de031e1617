# tests/bench/bench.mk - `make bench`, included by the Makefile.
#
# Builds the benchmark programs against this build's library ($(B), asm
# back end by default), builds switch.c once more against the ucontext
# flavour of the library (build/ucontext), then runs tests/bench/run.sh,
# which repeats every measurement, takes medians and prints the table.
# `make bench-switch` runs the switch figures alone (about 20 s);
# `make bench-http`, `bench-fair`, `bench-prefork`, `bench-ws` and
# `bench-tls` the HTTP, fairness, chapter 12, chapter 13 and HTTPS
# figures alone.
# tests/bench/README.md explains the figures.

BENCH_BIN    := $(B)/tests/bench
BENCH_UC     := build/ucontext
BENCH_ASM    := $(filter-out $(OTHER_ARCH),$(wildcard tests/bench/*_x86_64.S tests/bench/*_aarch64.S))
BENCH_PROGS  := $(addprefix $(BENCH_BIN)/,switch gen spawn memory)
# Benchmarks are optimised whatever CFLAGS says.
BENCH_CC      = $(CC) $(CPPFLAGS) $(CFLAGS) -O2 $(STRICT) $(LDFLAGS)
# The peer boost.context is C++; its shim exports two C functions.
BENCH_CXX     = $(CXX) -O2 -fno-exceptions -fno-rtti -Wall -Wextra $(STRICT)

.PHONY: bench bench-ucontext bench-switch

bench: lib $(BENCH_PROGS) bench-ucontext bench-threads-build bench-http-build bench-fair-build \
       bench-prefork-build bench-ws-build bench-tls-build
	@$(if $(SANITIZE),echo "bench: warning: built with SANITIZE=1: sanitized figures mean nothing",true)
	@sh tests/bench/run.sh $(BENCH_BIN) $(BENCH_UC)/tests/bench
	@echo
	@echo "== chapter 8's experiment at 200, 1,000 and 10,000 clients, and the green round trip"
	@sh chapters/08-threads/experiment.sh $(BENCH_CH8) full
	@$(BENCH_CH8)/roundtrip
	@$(BENCH_HTTP_RUN)
	@$(BENCH_FAIR_RUN)
	@$(BENCH_PREFORK_RUN)
	@$(BENCH_WS_RUN)
	@$(BENCH_TLS_RUN)

# Chapter 8's servers, load generator and round trip: the targets of the
# threads-versus-greenlets experiment are measured there (its README).
BENCH_CH8 := $(B)/chapters/08-threads
.PHONY: bench-threads-build
bench-threads-build: $(addprefix $(BENCH_CH8)/,server load roundtrip)

# The switch figures alone: the kit's switch beside the bare swap, both FP
# strategies and boost.context, with the switch target's verdict.
bench-switch: lib $(BENCH_BIN)/switch bench-ucontext
	@$(if $(SANITIZE),echo "bench: warning: built with SANITIZE=1: sanitized figures mean nothing",true)
	@BENCH_ONLY=switch sh tests/bench/run.sh $(BENCH_BIN) $(BENCH_UC)/tests/bench

# The same switch.c on the ucontext back end, for switch.ucontext.  If it
# cannot be built, run.sh compares with libc's swapcontext() alone.
bench-ucontext:
	@$(MAKE) --no-print-directory CTX=ucontext B=$(BENCH_UC) lib \
	  $(BENCH_UC)/tests/bench/switch >/dev/null || \
	  echo "bench: the ucontext flavour did not build; comparing with swapcontext() alone"

# switch.c measures boost.context's jump_fcontext() beside the kit's switch
# when boost's header compiles (libboost-context-dev: make deps-bench), and
# says "not installed" otherwise.
$(BENCH_BIN)/switch: tests/bench/switch.c tests/bench/boost_fcontext.cpp $(BENCH_ASM) $(LIBGREEN_A)
	@mkdir -p $(@D)
	@if $(BENCH_CXX) -c -o $@-boost.o tests/bench/boost_fcontext.cpp 2>/dev/null; then \
	  set -x; $(BENCH_CC) -DBENCH_BOOST -o $@ $(filter %.c %.S,$^) $@-boost.o \
	    $(LIBGREEN_A) $(LDLIBS) -lboost_context; \
	else \
	  echo "bench: boost.context: not installed (make deps-bench): switch.c is built without it"; \
	  set -x; $(BENCH_CC) -o $@ $(filter %.c %.S,$^) $(LIBGREEN_A) $(LDLIBS); \
	fi

$(addprefix $(BENCH_BIN)/,gen spawn memory): $(BENCH_BIN)/%: tests/bench/%.c $(LIBGREEN_A)
	@mkdir -p $(@D)
	$(BENCH_CC) -o $@ $< $(LIBGREEN_A) $(LDLIBS)

# ---- HTTP: `make bench-http` (also part of `make bench`) -----------------
# The kit's HTTP servers (chapters 10 and 11) beside libevent's evhttp,
# gevent's pywsgi and nginx, loaded by wrk (where installed) and by the
# kit's own load generator, httpload.  tests/bench/http.sh runs them;
# a server or peer that is missing is skipped with a line saying why.
BENCH_HTTP   := $(BENCH_BIN)/http
BENCH_CH10   := $(B)/chapters/10-evhttp/server
BENCH_CH11   := $(B)/chapters/11-http/server
# Build the chapters' servers only once their sources exist.
BENCH_HTTP_SERVERS := $(if $(wildcard chapters/10-evhttp/server.c),$(BENCH_CH10)) \
                      $(if $(wildcard chapters/11-http/server.c),$(BENCH_CH11))

BENCH_HTTP_RUN = echo; \
  echo "== HTTP: the kit's servers beside libevent's evhttp, gevent's pywsgi and nginx"; \
  CH10=$(BENCH_CH10) CH11=$(BENCH_CH11) sh tests/bench/http.sh $(BENCH_HTTP)

.PHONY: bench-http bench-http-build
bench-http-build: lib $(BENCH_HTTP)/httpload $(BENCH_HTTP)/evhttp_hello $(BENCH_HTTP_SERVERS)

bench-http: bench-http-build
	@$(if $(SANITIZE),echo "bench: warning: built with SANITIZE=1: sanitized figures mean nothing",true)
	@$(BENCH_HTTP_RUN)

$(BENCH_HTTP)/httpload: tests/bench/http/httpload.c $(LIBGREEN_A)
	@mkdir -p $(@D)
	$(BENCH_CC) -o $@ $< $(LIBGREEN_A) $(LDLIBS)

# The peer uses libevent alone, as any evhttp program would.
$(BENCH_HTTP)/evhttp_hello: tests/bench/http/evhttp_hello.c
	@mkdir -p $(@D)
	$(BENCH_CC) -o $@ $< $(EVENT_LIBS)

# The articles' own benchmarks (000, 003, 004), re-run with the kit's two
# servers beside the Python servers they measured: a table and a chart
# (chapters/11-http/README.md, "Re-running the articles' benchmarks").
.PHONY: bench-articles
bench-articles: bench-http-build
	@sh chapters/11-http/articles.sh $(BENCH_CH10) $(BENCH_CH11)


# ---- Fairness: `make bench-fair` (also part of `make bench`) ---------------
# A fresh GET / while other clients stream, and during slowhttptest's
# slow-read attack; and what chapter 11's budget costs, against the same
# server built once more without it (GREEN_BUDGET=0, in build/nobudget).
# tests/bench/fair.sh runs them.
BENCH_NOBUDGET := build/nobudget
BENCH_CH11_NOBUDGET := $(BENCH_NOBUDGET)/chapters/11-http/server
BENCH_FAIR_RUN = echo; \
  echo "== Fairness: a fresh GET / while others stream or read slowly, and what the budget costs"; \
  CH10=$(BENCH_CH10) CH11=$(BENCH_CH11) CH11_NOBUDGET=$(BENCH_CH11_NOBUDGET) \
  sh tests/bench/fair.sh $(BENCH_HTTP)

.PHONY: bench-fair bench-fair-build bench-nobudget
bench-fair-build: bench-http-build $(BENCH_HTTP)/fairload $(if $(wildcard chapters/11-http/server.c),bench-nobudget)

bench-fair: bench-fair-build
	@$(if $(SANITIZE),echo "bench: warning: built with SANITIZE=1: sanitized figures mean nothing",true)
	@$(BENCH_FAIR_RUN)

bench-nobudget:
	@$(MAKE) --no-print-directory B=$(BENCH_NOBUDGET) EXTRA_CPPFLAGS=-DGREEN_BUDGET=0 \
	  lib $(BENCH_CH11_NOBUDGET) >/dev/null

# Plain sockets and a thread: the probe must not wait in a hub of its own.
$(BENCH_HTTP)/fairload: tests/bench/http/fairload.c
	@mkdir -p $(@D)
	$(BENCH_CC) -o $@ $< -pthread


# ---- Chapter 12: `make bench-prefork` (also part of `make bench`) ----------
# The pre-fork master: /cpu with 2 workers against 1, keep-alive hello
# world against gunicorn -k gevent (same workers) and through nginx
# (chapters/12-prefork/proxy.sh), which worker answers (shared socket,
# SO_REUSEPORT), and failed requests during reloads and a worker's crash.
# tests/bench/prefork.sh runs them (with tests/bench/prefork_client.py
# and tests/bench/gunicorn_app.py); about a minute.
BENCH_CH12 := $(B)/chapters/12-prefork/server
BENCH_PREFORK_RUN = echo; \
  echo "== Chapter 12: the pre-fork master on every core, beside gunicorn -k gevent and behind nginx"; \
  CH12=$(BENCH_CH12) sh tests/bench/prefork.sh

.PHONY: bench-prefork bench-prefork-build
bench-prefork-build: lib $(if $(wildcard chapters/12-prefork/server.c),$(BENCH_CH12))

bench-prefork: bench-prefork-build
	@$(if $(SANITIZE),echo "bench: warning: built with SANITIZE=1: sanitized figures mean nothing",true)
	@$(BENCH_PREFORK_RUN)


# ---- Chapter 13: `make bench-ws` (also part of `make bench`) ----------------
# WebSocket: the kit's /ws/echo beside node's ws, Python's websockets and
# gevent-websocket (echo round trip and rate, pipelined, 10,000 idle
# connections' memory), and the chat's fan-out to 1,000 clients, in one
# process and across two workers through Redis.  tests/bench/ws.sh runs
# them with the load client tests/bench/wsload.c; about two minutes.
# The kit's side is chapter 13's server once it is built, else
# tests/bench/ws_echo_server.c (the same green_ws_echo on chapter 11);
# tests/bench/ws_floor.c is the echo figures' floor (a bare C loop).
BENCH_WS     := $(BENCH_BIN)/ws
BENCH_CH13   := $(B)/chapters/13-chat/server
BENCH_WS_RUN = echo; \
  echo "== Chapter 13: WebSocket echo, idle connections and fan-out, beside node's ws, websockets and gevent-websocket"; \
  CH13=$(BENCH_CH13) WS_ECHO=$(BENCH_WS)/ws_echo_server WS_FLOOR=$(BENCH_WS)/ws_floor \
  sh tests/bench/ws.sh $(BENCH_WS)/wsload

.PHONY: bench-ws bench-ws-build
bench-ws-build: lib $(BENCH_WS)/wsload $(BENCH_WS)/ws_echo_server $(BENCH_WS)/ws_floor \
                $(if $(wildcard chapters/13-chat/server.c),$(BENCH_CH13))

bench-ws: bench-ws-build
	@$(if $(SANITIZE),echo "bench: warning: built with SANITIZE=1: sanitized figures mean nothing",true)
	@$(BENCH_WS_RUN)

# Plain sockets: the load must not run on the code it measures, and the
# floor (the least an echo server can do) is not the kit's either.
$(BENCH_WS)/wsload $(BENCH_WS)/ws_floor: $(BENCH_WS)/%: tests/bench/%.c
	@mkdir -p $(@D)
	$(BENCH_CC) -o $@ $<

$(BENCH_WS)/ws_echo_server: tests/bench/ws_echo_server.c $(LIBGREEN_A)
	@mkdir -p $(@D)
	$(BENCH_CC) -o $@ $< $(LIBGREEN_A) $(LDLIBS)


# ---- HTTPS: `make bench-tls` (also part of `make bench`) --------------------
# Chapter 11's server over TLS beside nginx with one worker and gevent's
# pywsgi with ssl_args: keep-alive hello world, then a full handshake per
# connection, with the same certificate (ECDSA P-256, made anew under
# $(BENCH_BIN)/tls each run) and the same OpenSSL settings for every server.
# tests/bench/tls.sh runs them with wrk (tls.md explains the figures);
# about 45 s.
BENCH_TLS_RUN = echo; \
  echo "== HTTPS: chapter 11's server over TLS beside nginx (1 worker) and gevent's pywsgi"; \
  CH11=$(BENCH_CH11) sh tests/bench/tls.sh $(BENCH_BIN)/tls

.PHONY: bench-tls bench-tls-build
bench-tls-build: lib $(if $(wildcard chapters/11-http/server.c),$(BENCH_CH11))

bench-tls: bench-tls-build
	@$(if $(SANITIZE),echo "bench: warning: built with SANITIZE=1: sanitized figures mean nothing",true)
	@$(BENCH_TLS_RUN)
