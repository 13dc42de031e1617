# chapters/13-chat/chapter.mk - chapter 13's targets.
# `make serve13 PORT=P`: the chat on 127.0.0.1:P (default 8000), one
# process, no Redis (GUIDE's default); WORKERS=N: chapter 12's master with
# N workers (each with rooms of its own: clients of two workers do not
# see each other).  REDIS=redis://HOST:PORT: rooms shared through Redis
# pub/sub, across the workers and across servers.  CERT=FILE KEY=FILE:
# HTTPS and wss:// (chapter 4's TLS); `make serve13-tls PORT=P` makes a
# throwaway certificate first, as serve11-tls does.  Ctrl-C or SIGTERM:
# WebSockets close 1001, long-polls answer, streams end, stop.
PORT ?= 8000
WORKERS ?=
REDIS ?=

# The chat's programs parse and write JSON with jansson (Makefile,
# JANSSON_LIBS): the server, and the tests that link its app.  Said in
# one line when it is missing, as need-deps does for the rest.
CHAT_PROGRAMS := $(B)/chapters/13-chat/server $(B)/tests/lib/chat
$(CHAT_PROGRAMS): override CPPFLAGS += $(JANSSON_CFLAGS)
$(CHAT_PROGRAMS): LDLIBS += $(JANSSON_LIBS)
$(CHAT_PROGRAMS): | need-jansson
$(B)/tests/lib/chat: $(wildcard chapters/13-chat/*.h)

.PHONY: need-jansson serve13
need-jansson:
	@$(PKG_CONFIG) --exists jansson 2>/dev/null || { \
	  echo "jansson is missing (chapter 13's JSON; pkg-config cannot find it)."; \
	  echo "Run: make deps"; exit 1; }

SERVE13 = $(B)/chapters/13-chat/server --host 127.0.0.1 --port $(PORT) \
	  $(if $(WORKERS),--workers $(WORKERS)) $(if $(REDIS),--redis $(REDIS))

serve13: lib $(B)/chapters/13-chat/server
	$(SERVE13) $(if $(CERT),--cert $(CERT)) $(if $(KEY),--key $(KEY))

# serve13-tls: chapter 11's throwaway certificate (serve11-tls's).
.PHONY: serve13-tls
serve13-tls: lib $(B)/chapters/13-chat/server $(TLS11)/cert.pem
	@echo "serve13-tls: a self-signed certificate in $(TLS11)/cert.pem;" \
	  "a browser warns once: open https://localhost:$(PORT)/"
	$(SERVE13) --cert $(TLS11)/cert.pem --key $(TLS11)/key.pem

# `make proxy13 PORT=P [UPSTREAMS=N] [WORKERS=W] [REDIS=URL]`: two machines'
# worth of chat (N servers, default 2, of W workers each, default 2) behind
# Debian's nginx on 127.0.0.1:P, sharing rooms through a redis-server the
# script starts (or REDIS=URL).  `make test-proxy13`: its tests.
.PHONY: proxy13 test-proxy13
PROXY13_ARGS = --upstreams $(if $(filter command line,$(origin UPSTREAMS)),$(UPSTREAMS),2) --workers $(or $(WORKERS),2) \
  $(if $(REDIS),--redis $(REDIS)) --server $(B)/chapters/13-chat/server
proxy13: lib $(B)/chapters/13-chat/server
	bash chapters/13-chat/proxy.sh --port $(PORT) $(PROXY13_ARGS)

test-proxy13: lib $(B)/chapters/13-chat/server
	bash chapters/13-chat/test-proxy.sh $(PROXY13_ARGS)
