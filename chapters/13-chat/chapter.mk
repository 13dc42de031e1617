# chapters/13-chat/chapter.mk - chapter 13's targets.
# `make serve13 PORT=P`: the chat on 127.0.0.1:P (default 8000), one
# process, no Redis (GUIDE's default); WORKERS=N: chapter 12's master with
# N workers (each with rooms of its own until REDIS is wired in).
# REDIS=URL: shares rooms across workers through Redis pub/sub (said on
# stderr while lib/13-chat/room_redis.h is not wired in).  Ctrl-C or
# SIGTERM: WebSockets close 1001, long-polls answer, streams end, stop.
PORT ?= 8000
WORKERS ?=
REDIS ?=

# The chat's programs parse and write JSON with jansson (Makefile,
# JANSSON_LIBS): the server, and the tests that link its app.
$(B)/chapters/13-chat/server $(B)/tests/lib/chat: LDLIBS += $(JANSSON_LIBS)
$(B)/tests/lib/chat: $(wildcard chapters/13-chat/*.h)

.PHONY: serve13
serve13: lib $(B)/chapters/13-chat/server
	$(B)/chapters/13-chat/server --host 127.0.0.1 --port $(PORT) \
	  $(if $(WORKERS),--workers $(WORKERS)) $(if $(REDIS),--redis $(REDIS))
