# chapters/12-prefork/chapter.mk - chapter 12's targets.
# `make serve12 PORT=P WORKERS=N`: the pre-fork master in the foreground on
# 127.0.0.1:P (default 8000) with N workers (default: one per CPU) serving
# chapter 9's demo app.  Ctrl-C stops it at once, SIGTERM gracefully; both
# with exit status 0.  TIMEOUT=S: a worker whose hub is held S seconds
# (default 30, 0: never) names the greenlet holding it, and is replaced.
# REUSEPORT=1: one SO_REUSEPORT socket per worker instead of one shared.
# `make proxy12 PORT=P`: Debian's nginx (its binary only; the configuration
# is generated from nginx.conf.in into build/proxy12/) on 127.0.0.1:P in
# front of a chapter 12 master started on a port of its own.  Ctrl-C or
# SIGTERM stops both.  UPSTREAMS=2 puts two masters behind it (two
# machines, in the lesson).
# `make test-proxy12`: the proxy's tests (they start nginx themselves).
PORT ?= 8000
WORKERS ?=
TIMEOUT ?=
REUSEPORT ?=
UPSTREAMS ?= 1

.PHONY: serve12 proxy12 test-proxy12
serve12: lib $(B)/chapters/12-prefork/server
	$(B)/chapters/12-prefork/server --host 127.0.0.1 --port $(PORT) \
	  $(if $(WORKERS),--workers $(WORKERS)) $(if $(TIMEOUT),--timeout $(TIMEOUT)) \
	  $(if $(REUSEPORT),--reuseport)

# The demo talks to the master with chapter 11's raw client.
chapter12: $(B)/chapters/11-http/client

# The server behind nginx: a chapter 12 master (proxy.sh adds --host,
# --port 0 and --trusted-proxy).
PROXY12_UPSTREAM = $(B)/chapters/12-prefork/server $(if $(WORKERS),--workers $(WORKERS)) --access-log

proxy12: lib $(B)/chapters/12-prefork/server
	bash chapters/12-prefork/proxy.sh --host 127.0.0.1 --port $(PORT) \
	  --upstreams $(UPSTREAMS) --prefix build/proxy12 -- $(PROXY12_UPSTREAM)

test-proxy12: lib $(B)/chapters/12-prefork/server
	bash chapters/12-prefork/test-proxy.sh -- $(PROXY12_UPSTREAM)
