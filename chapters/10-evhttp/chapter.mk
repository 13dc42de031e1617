# chapters/10-evhttp/chapter.mk - `make serve10 PORT=P`: chapter 9's demo
# application on libevent's evhttp, in the foreground on 127.0.0.1:P
# (default 8000).  Ctrl-C or SIGTERM stops it gracefully, with status 0.
PORT ?= 8000

.PHONY: serve10
serve10: lib $(B)/chapters/10-evhttp/server
	$(B)/chapters/10-evhttp/server --host 127.0.0.1 --port $(PORT)
