# chapters/12-prefork/chapter.mk - `make proxy12 PORT=P`: Debian's nginx
# (its binary only; the configuration is generated from nginx.conf.in into
# build/proxy12/) on 127.0.0.1:P in front of chapter 12's server, started
# on a port of its own.  Ctrl-C or SIGTERM stops both.  UPSTREAMS=2 puts
# two servers behind it (two machines, in the lesson).
# `make test-proxy12`: the proxy's tests (they start nginx themselves).
PORT ?= 8000
UPSTREAMS ?= 1

# The server behind nginx.  For now chapter 11's (the chapter 12 master
# replaces it: `$(B)/chapters/12-prefork/server --workers $(WORKERS)`).
PROXY12_UPSTREAM = $(B)/chapters/11-http/server --access-log

.PHONY: proxy12 test-proxy12
proxy12: lib $(firstword $(PROXY12_UPSTREAM))
	bash chapters/12-prefork/proxy.sh --host 127.0.0.1 --port $(PORT) \
	  --upstreams $(UPSTREAMS) --prefix build/proxy12 -- $(PROXY12_UPSTREAM)

test-proxy12: lib $(firstword $(PROXY12_UPSTREAM))
	bash chapters/12-prefork/test-proxy.sh -- $(PROXY12_UPSTREAM)
