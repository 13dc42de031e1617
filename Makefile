# Makefile - the kit: library, chapters, exercises, tests.  `make help` lists
# the targets.  Everything built lands under build/ (`make clean` removes it).
#
# Variables you may set:
#   CTX=asm|ucontext   the context switch back end (default: asm)
#   SANITIZE=1         build and test with AddressSanitizer + UBSan
#   VALGRIND=1         run `make test` under Valgrind
#   N=K, E=NAME, DIR=PATH, CSV=FILE   `make grade`'s (see tests/grade.mk)
#   PORT=P             `make serveN PORT=P` (server chapters)
#   PREFIX=/usr/local  where `make install` puts the library

CC       ?= cc
CTX      ?= asm
PREFIX   ?= /usr/local
PKG_CONFIG ?= pkg-config
B        ?= build/$(CTX)$(if $(SANITIZE),-san)
ARCH     := $(shell $(CC) -dumpmachine 2>/dev/null | cut -d- -f1)

# ---- Flags (lazy "=": `make deps chapter1` installs libevent before they are read)
DEPS_CFLAGS = $(shell $(PKG_CONFIG) --cflags libevent check libssl libcrypto 2>/dev/null)
EVENT_LIBS  = $(shell $(PKG_CONFIG) --libs libevent 2>/dev/null)
# OpenSSL: libssl for chapter 4's cooperative TLS (lib/04-io/tls.h), and
# libcrypto's SHA-1 and base64 for chapter 13's WebSocket handshake.
CRYPTO_LIBS = $(shell $(PKG_CONFIG) --libs libssl libcrypto 2>/dev/null)
# hiredis: the RESP reader of chapter 13's Redis client (lib/13-chat/redis.h).
# Its headers are included as <hiredis/hiredis.h>, without its --cflags: they
# add -I/usr/include/hiredis, whose read.h would hide chapter 5's exercise's.
REDIS_LIBS  = $(shell $(PKG_CONFIG) --libs hiredis 2>/dev/null)
# jansson: chapter 13's chat parses and writes JSON with it (never by hand:
# it parses what strangers send).  The chat's programs only, not libgreen
# (chapters/13-chat/chapter.mk), so the library and the cross build
# (make test-aarch64, whose sysroot has no jansson) do without it.
JANSSON_CFLAGS = $(shell $(PKG_CONFIG) --cflags jansson 2>/dev/null)
JANSSON_LIBS = $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null)
CHECK_LIBS  = $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

# CFLAGS, CPPFLAGS and LDFLAGS are yours: `make CFLAGS=-O0` replaces only
# the optimisation.  The kit's own flags are added with `override`, because
# without it a variable set on the command line ignores every `+=` below,
# and the library would then build without -fPIC or libevent's -I and fail
# to link.
WARN      := -Wall -Wextra
CFLAGS    ?= -O2 -g
override CFLAGS   += -std=c11 -fPIC -fno-omit-frame-pointer $(WARN)
override CPPFLAGS += -D_GNU_SOURCE $(LIB_INCLUDES) $(DEPS_CFLAGS) $(EXTRA_CPPFLAGS)
override LDFLAGS  += $(EXTRA_LDFLAGS)
ifeq ($(CTX),ucontext)
override CPPFLAGS += -DGREEN_CTX_UCONTEXT
endif
ifeq ($(SANITIZE),1)
SAN       := -fsanitize=address,undefined -fno-sanitize-recover=all
override CFLAGS   += $(SAN)
override LDFLAGS  += $(SAN)
endif
# The kit's own code must be warning-free; a student's code that warns is
# still graded (the warnings are shown).
STRICT    := -Werror
LDLIBS    = $(EVENT_LIBS) $(CRYPTO_LIBS) $(REDIS_LIBS) -lpthread -lm

# ---- The library ---------------------------------------------------------
# lib/ has a folder per chapter (lib/03-hub/ is chapter 3's code), the
# private headers the library shares between its files (lib/private/), and
# lib/green.h, the one header a program includes.  Every lib/NN-*/*.c is
# part of the library, but for the back ends picked below and the folders
# that build a library of their own (a build.mk: lib/05-patch/).
# A program finds every public header by its bare name ("hub.h"), as it
# will once they are installed flat in PREFIX/include/green/: one -I per
# chapter folder.  Only the library's own files see lib/private/.
# A source left flat in lib/ would be left out of the library: say so.
$(foreach f,$(wildcard lib/*.c lib/*.S),$(error $(f): the library's sources \
  live in their chapter's folder, lib/NN-slug/ (git mv $(f) lib/NN-slug/)))
LIB_OWN_BUILD := $(dir $(wildcard lib/*/build.mk))
LIB_DIRS    := $(filter-out $(LIB_OWN_BUILD),$(sort $(dir $(wildcard lib/[0-9][0-9]-*/))))
LIB_INCLUDES = -Ilib $(patsubst %/,-I%,$(LIB_DIRS))
LIB_ALL_H   := $(wildcard lib/*.h lib/*/*.h)
LIB_HEADERS := lib/green.h $(wildcard $(addsuffix *.h,$(LIB_DIRS)))
LIB_SRCS    := $(filter-out %/ctx_asm.c %/ctx_ucontext.c,$(wildcard $(addsuffix *.c,$(LIB_DIRS))))
ifeq ($(CTX),ucontext)
LIB_SRCS    += lib/02-greenlets/ctx_ucontext.c
else
LIB_SRCS    += lib/02-greenlets/ctx_asm.c lib/02-greenlets/ctx_$(ARCH).S
endif
LIB_OBJS    := $(patsubst lib/%,$(B)/lib/%.o,$(LIB_SRCS))
LIBGREEN_A  := $(B)/lib/libgreen.a
LIBGREEN_SO := $(B)/lib/libgreen.so
GREEN_PC    := $(B)/lib/green.pc

# Assembly for another machine is left out of every build.
OTHER_ARCH  := $(filter-out %_$(ARCH).S,%_x86_64.S %_aarch64.S)
sources_in   = $(filter-out $(OTHER_ARCH),$(sort $(wildcard $(1)/*.c $(1)/*.S)))

# ---- Chapters, exercises, tests (found by their folders) -----------------
CHAPTER_DIRS := $(sort $(patsubst %/,%,$(dir $(wildcard chapters/[0-9][0-9]-*/run.sh))))
chapter_num   = $(shell echo $(notdir $(1)) | sed 's/^0*//; s/-.*//')
DEMOS        := $(patsubst %.c,$(B)/%,$(wildcard chapters/*/*.c))
EXERCISES    := $(sort $(patsubst tests/exercises/%.c,%,$(wildcard tests/exercises/*/*.c)))
LIB_TESTS    := $(patsubst tests/%.c,$(B)/tests/%,$(wildcard tests/lib/*.c))
# A run may name its suites: LIB_SUITES="gen ctx" EXERCISE_SET="01-% 02-%".
ifdef LIB_SUITES
LIB_TESTS    := $(addprefix $(B)/tests/lib/,$(LIB_SUITES))
endif
ifdef EXERCISE_SET
EXERCISES    := $(filter $(EXERCISE_SET),$(EXERCISES))
endif
SOLUTION_TESTS := $(addprefix $(B)/solutions/,$(EXERCISES))
STUB_TESTS   := $(addprefix $(B)/stubs/,$(EXERCISES))
HARNESS      := tests/harness.c
# Headers are prerequisites too, so that editing one (tests/harness.h, an
# exercise's contract, chapter 9's demo app that tests include) rebuilds
# every program that includes it.
HARNESS_H    := tests/harness.h $(wildcard chapters/*/*.h) $(wildcard tests/lib/*.h)
headers_in    = $(wildcard $(1)/*.h)

.PHONY: all lib help deps deps-bench deps-slides deps-cross deps-all test \
        bench clean install test-aarch64 need-deps FORCE
.DEFAULT_GOAL := all

all: lib $(DEMOS) $(SOLUTION_TESTS) $(LIB_TESTS)
lib: need-deps $(LIBGREEN_A) $(LIBGREEN_SO) $(GREEN_PC)

help:
	@echo "make deps          install libevent, Check, pkg-config (deps-bench, deps-slides, deps-cross, deps-all: optional sets)"
	@echo "make               build the library, every chapter and every solution"
	@echo "make chapterN      build and run chapter N's demos ($(foreach d,$(CHAPTER_DIRS),$(call chapter_num,$(d))))"
	@echo "make grade [N=K]   grade your exercises/: N=K one chapter, E=NAME one exercise,"
	@echo "                   DIR=PATH a folder outside the tree, CSV=FILE the table for an instructor"
	@echo "make watch         re-grade the exercise you edit each time you save it (Ctrl-C stops)"
	@echo "make hint E=NAME   the next hint of an exercise; make reset E=NAME puts its stub back"
	@echo "make progress      every exercise: not started, failing or done, and the next one"
	@echo "make test-grader   the grader's own tests (broken answers it must diagnose)"
	@echo "make trace N=K     chapter K's demo with a timeline (3, 6, 8): build/trace/chapterK.json for"
	@echo "                   Perfetto or chrome://tracing, and build/trace/chapterK.svg"
	@echo "make test          library tests + solutions + proof that every untouched stub fails"
	@echo "make bench         benchmarks, each figure beside its peers"
	@echo "make bench-switch  the switch alone: green_ctx_switch vs bare swap, both FP strategies, boost.context"
	@echo "make bench-http    only the HTTP figures (chapter 11 vs evhttp, pywsgi, nginx); bench-articles: the articles' comparisons"
	@echo "make bench-fair    only the fairness figures (a fresh GET / under streams and slowhttptest; the budget's cost)"
	@echo "make serve12 PORT=P WORKERS=N   chapter 12's pre-fork master (HUP reloads, TERM stops gracefully)"
	@echo "make proxy12 PORT=P nginx in front of chapter 12's master (UPSTREAMS=2: two machines); test-proxy12: its tests"
	@echo "make serve13 PORT=P [WORKERS=N REDIS=URL]   chapter 13's chat (open http://127.0.0.1:P/ in two tabs)"
	@echo "make proxy13 PORT=P nginx in front of two chat servers sharing Redis; test-proxy13: its tests"
	@echo "make test-browser13 [REDIS=1]   chapter 13's chat page in headless Chromium (make deps-slides)"
	@echo "make bench-prefork chapter 12: /cpu 2 workers vs 1, vs gunicorn -k gevent, behind nginx, balance, reload and crash"
	@echo "make bench-ws      chapter 13: WebSocket echo, 10,000 idle connections, fan-out; vs node ws, websockets, gevent-websocket"
	@echo "make bench-tls     HTTPS: chapter 11 over TLS vs nginx 1 worker and gevent pywsgi: keep-alive, a full handshake per connection"
	@echo "make fuzz [FUZZ_TIME=S]   fuzz the HTTP parser with libFuzzer for S seconds (default 60; needs clang)"
	@echo "make fuzz-ws [FUZZ_TIME=S]   fuzz the WebSocket frame parser and UTF-8 validator (chapter 13's start)"
	@echo "make slides        render slides/ to self-contained HTML in build/slides/ (make deps-slides first)"
	@echo "make slides-check  every slide in headless Chromium at 1280x720 and 1024x768: fails on one that"
	@echo "                   overflows or is blank; a PNG of each in build/slides/png/"
	@echo "make slides-pdf    one PDF per deck in build/slides/pdf/, a slide a page (16:9)"
	@echo "make slides-selftest   proof that slides-check fails on a deck of broken slides"
	@echo "make install PREFIX=DIR   install libgreen, its headers and green.pc"
	@echo "make test-aarch64  cross-compile the tests for AArch64 and run them under qemu"
	@echo "make clean         remove build/"

# The kit is Linux-only (accept4, SOCK_NONBLOCK, sendfile, epoll, the
# LD_PRELOAD chapter): say so at once instead of failing in a compiler error.
need-deps:
	@[ "$$(uname -s)" = Linux ] || { \
	  echo "This kit builds on Linux only (x86-64 or AArch64): it uses accept4,"; \
	  echo "sendfile and epoll.  On macOS or Windows, use a Linux VM or container."; exit 1; }
	@$(PKG_CONFIG) --exists libevent check libssl libcrypto hiredis 2>/dev/null || { \
	  echo "libevent, Check, OpenSSL (libssl) or hiredis is missing (pkg-config cannot find them)."; \
	  echo "Run: make deps"; exit 1; }

$(B)/lib/%.c.o: lib/%.c $(LIB_ALL_H) | need-deps
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Ilib/private $(CFLAGS) $(STRICT) -c -o $@ $<

$(B)/lib/%.S.o: lib/%.S
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Ilib/private $(CFLAGS) $(STRICT) -c -o $@ $<

# The object that embeds green-gdb.py (.incbin) is rebuilt when it changes.
$(B)/lib/03-hub/gdb_script.c.o: lib/03-hub/green-gdb.py

$(LIBGREEN_A): $(LIB_OBJS)
	$(AR) rcs $@ $^

$(LIBGREEN_SO): $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,libgreen.so.0 $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(GREEN_PC): Makefile
	@mkdir -p $(@D)
	@printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$${prefix}/lib' \
	  'includedir=$${prefix}/include/green' '' 'Name: green' \
	  'Description: greenlets and a gevent-style hub on libevent' \
	  'Version: 0.1.0' 'Requires: libevent libssl libcrypto hiredis' \
	  'Libs: -L$${libdir} -lgreen' \
	  'Cflags: -I$${includedir}$(if $(filter ucontext,$(CTX)), -DGREEN_CTX_UCONTEXT)' > $@

install: lib
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/green
	install -m 644 $(LIB_HEADERS) $(DESTDIR)$(PREFIX)/include/green
	install -m 644 $(LIBGREEN_A) $(DESTDIR)$(PREFIX)/lib
	install -m 755 $(LIBGREEN_SO) $(DESTDIR)$(PREFIX)/lib/libgreen.so.0
	ln -sf libgreen.so.0 $(DESTDIR)$(PREFIX)/lib/libgreen.so
	sed 's|^prefix=.*|prefix=$(PREFIX)|' $(GREEN_PC) > $(DESTDIR)$(PREFIX)/lib/pkgconfig/green.pc

# ---- Chapters ------------------------------------------------------------
# Demos link the static library, so they run from anywhere.  A chapter's
# headers (chapter 9's demo app, used by the servers of 10 and 11) are
# prerequisites of every demo.
$(B)/chapters/%: chapters/%.c $(wildcard chapters/*/*.h) $(LIBGREEN_A)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(STRICT) $(LDFLAGS) -o $@ $< $(LIBGREEN_A) $(LDLIBS)

define CHAPTER_RULE
.PHONY: chapter$(call chapter_num,$(1))
chapter$(call chapter_num,$(1)): lib $(filter $(B)/$(1)/%,$(DEMOS))
	@sh $(1)/run.sh $(B)/$(1) build/ucontext/$(1)
endef
$(foreach d,$(CHAPTER_DIRS),$(eval $(call CHAPTER_RULE,$(d))))

# Chapter 2 compares the assembly switch with ucontext: build both.
chapter2: chapter2-ucontext
.PHONY: chapter2-ucontext
chapter2-ucontext:
	@$(MAKE) --no-print-directory CTX=ucontext B=build/ucontext lib \
	  $(patsubst $(B)/%,build/ucontext/%,$(filter $(B)/chapters/02-%,$(DEMOS))) >/dev/null

# ---- The timeline: `make trace N=K` --------------------------------------
# Runs the demo that shows chapter K's point with GREEN_TRACE and
# GREEN_TRACE_SVG set (lib/03-hub/trace.h): three tasks interleaving (3), a
# producer and a consumer (6), a hog that blocks everyone (8).  The lessons'
# timeline.svg files are these SVGs.
TRACE_DEMOS := 3:03-hub/three_tasks 6:06-sync/prodcons 8:08-threads/hog
TRACE_DEMO   = $(patsubst $(N):%,%,$(filter $(N):%,$(TRACE_DEMOS)))
TRACE_OUT   := build/trace
.PHONY: trace
trace: $(if $(TRACE_DEMO),lib $(B)/chapters/$(TRACE_DEMO))
	@[ -n "$(TRACE_DEMO)" ] || { echo "make trace N=K: chapter K's demo with a timeline;" \
	  "the chapters that have one: 3 (three_tasks), 6 (prodcons), 8 (hog)"; exit 1; }
	@mkdir -p $(TRACE_OUT)
	GREEN_TRACE=$(TRACE_OUT)/chapter$(N).json GREEN_TRACE_SVG=$(TRACE_OUT)/chapter$(N).svg \
	  timeout 30 $(B)/chapters/$(TRACE_DEMO)
	@echo "trace: wrote $(TRACE_OUT)/chapter$(N).json (open it in https://ui.perfetto.dev:" \
	  "\"Open trace file\"; or chrome://tracing: \"Load\")"
	@echo "trace: wrote $(TRACE_OUT)/chapter$(N).svg (any browser or image viewer)"

# ---- Tests ---------------------------------------------------------------
# A test program is its test file + the code under test + the harness + the
# library.  Exercise tests are built three ways: against solutions/ (make
# test), against the untouched stubs as committed (make test), and against
# your exercises/ (make grade).
TEST_LINK = $(CC) $(CPPFLAGS) -Itests $(CFLAGS) $(LDFLAGS) -o $@ \
            $(filter %.c %.S,$^) $(LIBGREEN_A) $(CHECK_LIBS) $(LDLIBS)

$(B)/tests/lib/%: tests/lib/%.c $(HARNESS) $(HARNESS_H) $(LIBGREEN_A)
	@mkdir -p $(@D)
	$(TEST_LINK) $(STRICT)

# tests/lib/trace.c parses the trace back with jansson (chapter 13's JSON
# library, need-jansson: chapters/13-chat/chapter.mk); the library itself
# writes its JSON without it.
$(B)/tests/lib/trace: override CPPFLAGS += $(JANSSON_CFLAGS)
$(B)/tests/lib/trace: LDLIBS += $(JANSSON_LIBS)
$(B)/tests/lib/trace: | need-jansson

# tests/lib/gdb.c runs gdb on chapter 3's stuck demo.
$(B)/tests/lib/gdb: | $(B)/chapters/03-hub/stuck

# The untouched stubs live in tests/pristine/ (a copy of exercises/ as
# shipped), so `make test` proves they fail whatever a student has done to,
# or committed in, exercises/.  CI checks that the two copies agree.
PRISTINE := tests/pristine

define EXERCISE_RULE
$(B)/solutions/$(1): tests/exercises/$(1).c $(call sources_in,solutions/$(1)) $(call headers_in,$(PRISTINE)/$(1)) \
                      $(HARNESS) $(HARNESS_H) $(LIBGREEN_A)
	@mkdir -p $$(@D)
	$$(TEST_LINK) $(STRICT) -I$(PRISTINE)/$(1)
$(B)/stubs/$(1): tests/exercises/$(1).c $(call sources_in,$(PRISTINE)/$(1)) $(call headers_in,$(PRISTINE)/$(1)) \
                  $(HARNESS) $(HARNESS_H) $(LIBGREEN_A)
	@mkdir -p $$(@D)
	$$(TEST_LINK) -I$(PRISTINE)/$(1)
$(B)/grade/$(1): tests/exercises/$(1).c $(call sources_in,exercises/$(1)) $(call headers_in,exercises/$(1)) \
                  $(HARNESS) $(HARNESS_H) $(LIBGREEN_A)
	@mkdir -p $$(@D)
	$$(TEST_LINK) -Iexercises/$(1)
endef
$(foreach e,$(EXERCISES),$(eval $(call EXERCISE_RULE,$(e))))

# First the layer rule of lib/green.h (tests/check-layers.sh: nm on each
# object), then the tests.
test: lib $(LIB_TESTS) $(SOLUTION_TESTS) $(STUB_TESTS)
	@sh tests/check-layers.sh $(LIB_OBJS) $(wildcard $(PATCH_WRAP))
	@VALGRIND=$(VALGRIND) RUNNER="$(RUNNER)" LIB_TESTS="$(LIB_TESTS)" \
	  sh tests/run-tests.sh $(B) $(EXERCISES)

# Proof that the layer check above can fail (tests/check-layers.sh).
.PHONY: check-layers-selftest
check-layers-selftest: $(LIB_OBJS)
	@CC="$(CC)" sh tests/check-layers.sh --selftest $(LIB_OBJS)

# The tests, cross-compiled for AArch64 and run under qemu-user: proof that
# the AArch64 switch works (make deps-cross installs the tools).  Without
# fork (CK_FORK=no): qemu-user 7.2's fork() hangs on this kernel, and so
# does pthread_create(): the run leaves out the suites that need either.  The
# sysroot's headers come last (-idirafter): it holds libevent's old event.h,
# which must not hide an exercise's own event.h.
AARCH64_CC ?= aarch64-linux-gnu-gcc
SYSROOT    := build/aarch64-sysroot
# The stamp names what the sysroot holds: a package added changes its
# name, and an older sysroot is made again.
SYSROOT_STAMP := $(SYSROOT)/.stamp-libevent-libssl-hiredis
test-aarch64: $(SYSROOT_STAMP)
	@CK_FORK=no $(MAKE) --no-print-directory CC=$(AARCH64_CC) B=build/aarch64 \
	  PKG_CONFIG_LIBDIR=$(SYSROOT)/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/lib/aarch64-linux-gnu/pkgconfig \
	  EXTRA_CPPFLAGS="-idirafter $(SYSROOT)/usr/include -idirafter $(SYSROOT)/usr/include/aarch64-linux-gnu" \
	  EXTRA_LDFLAGS=-L$(SYSROOT)/usr/lib/aarch64-linux-gnu \
	  RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu" \
	  LIB_SUITES="gen ctx greenlet hub dump sync pool server wsgi http_parser http wsgi_evhttp ws" \
	  EXERCISE_SET="01-% 02-% 03-% 06-% 09-% 10-% 11-% 13-%" test
$(SYSROOT_STAMP):
	@command -v $(AARCH64_CC) >/dev/null && command -v qemu-aarch64 >/dev/null || \
	  { echo "the cross tools are missing: make deps-cross"; exit 1; }
	@rm -rf $(SYSROOT) && mkdir -p $(SYSROOT)
	cd $(SYSROOT) && apt-get download -q -o APT::Sandbox::User=root libevent-dev:arm64 libssl-dev:arm64 \
	  libhiredis-dev:arm64 && dpkg -x libevent-dev_*.deb . && dpkg -x libssl-dev_*.deb . \
	  && dpkg -x libhiredis-dev_*.deb .
	@# The package's libevent*.so links point next to themselves; the
	@# libraries they name are the multiarch ones installed by deps-cross.
	@cd $(SYSROOT)/usr/lib/aarch64-linux-gnu && rm -f *.a && for l in *.so; do \
	  ln -sf /usr/lib/aarch64-linux-gnu/$$(readlink $$l) $$l; done
	@touch $@

# ---- Benchmarks, dependencies (the slides' rules: slides/slides.mk) -----
# Builds that need more than the rules above (a preload library, a chapter's
# servers) bring their own fragment.
-include tests/bench/bench.mk $(wildcard lib/*/build.mk chapters/*/chapter.mk)
include tests/fuzz/fuzz.mk
# The grader's targets (grade, watch, hint, reset, progress) and the slides'.
-include tests/grade.mk slides/slides.mk
# Chapter 13's chat in headless Chromium: make test-browser13.
-include tests/browser/browser.mk

deps:
	@sh .ci/deps.sh core
deps-bench:
	@sh .ci/deps.sh bench
deps-slides:
	@sh .ci/deps.sh slides
deps-cross:
	@sh .ci/deps.sh cross
deps-all:
	@sh .ci/deps.sh core bench slides cross

clean:
	rm -rf build

FORCE:
