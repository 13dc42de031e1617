# tests/fuzz/fuzz.mk - `make fuzz`, included by the Makefile.
#
# Fuzzes lib/11-http/http_parser.c (and lib/09-wsgi/url.c, the percent-decoder)
# alone with libFuzzer, AddressSanitizer and UBSan for FUZZ_TIME seconds
# (default 60).  The committed seeds in
# tests/fuzz/corpus/http_parser/ are only read; what the fuzzer finds
# goes to $(B)/fuzz/corpus, a crash's input to $(B)/fuzz/artifacts/.
# tests/fuzz/README.md explains how to run it and read the results.

FUZZ_TIME  ?= 60
FUZZ_CC    ?= clang
FUZZ_DIR   := $(B)/fuzz
FUZZ_BIN   := $(FUZZ_DIR)/http_parser
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -Ilib/11-http -Ilib/09-wsgi -g -O1 -Wall -Wextra $(STRICT) \
              -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

.PHONY: fuzz fuzz-need-clang

fuzz: $(FUZZ_BIN)
	@mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/artifacts
	$(FUZZ_BIN) -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
	  -dict=tests/fuzz/http.dict -artifact_prefix=$(FUZZ_DIR)/artifacts/ \
	  $(FUZZ_DIR)/corpus tests/fuzz/corpus/http_parser

$(FUZZ_BIN): tests/fuzz/http_parser.c lib/11-http/http_parser.c lib/11-http/http_parser.h \
             lib/09-wsgi/url.c lib/09-wsgi/url.h | fuzz-need-clang
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz/http_parser.c lib/11-http/http_parser.c \
	  lib/09-wsgi/url.c

fuzz-need-clang:
	@command -v $(FUZZ_CC) >/dev/null || { \
	  echo "make fuzz needs clang with libFuzzer, and $(FUZZ_CC) is missing."; \
	  echo "Install it: sudo apt-get install clang   (or: make fuzz FUZZ_CC=clang-NN)"; \
	  exit 1; }

# ---- `make fuzz-ws`: chapter 13's frame parser and UTF-8 validator ------
# Like `make fuzz`, on lib/13-ws/ws_frame.c and lib/13-ws/utf8.c alone (they
# need nothing of the kit): seeds in tests/fuzz/corpus/ws_frame/, what the
# fuzzer finds in $(B)/fuzz/ws-corpus, a crash in $(B)/fuzz/ws-artifacts/.
FUZZ_WS_BIN := $(FUZZ_DIR)/ws_frame

.PHONY: fuzz-ws
fuzz-ws: $(FUZZ_WS_BIN)
	@mkdir -p $(FUZZ_DIR)/ws-corpus $(FUZZ_DIR)/ws-artifacts
	$(FUZZ_WS_BIN) -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
	  -artifact_prefix=$(FUZZ_DIR)/ws-artifacts/ \
	  $(FUZZ_DIR)/ws-corpus tests/fuzz/corpus/ws_frame

$(FUZZ_WS_BIN): tests/fuzz/ws_frame.c lib/13-ws/ws_frame.c lib/13-ws/ws_frame.h \
                lib/13-ws/utf8.c lib/13-ws/utf8.h | fuzz-need-clang
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Ilib/13-ws -o $@ tests/fuzz/ws_frame.c lib/13-ws/ws_frame.c \
	  lib/13-ws/utf8.c
