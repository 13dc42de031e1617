# chapters/07-servers/chapter.mk - `make serve7 PORT=P`: the echo server in
# the foreground on 127.0.0.1:P (default 8000).  Ctrl-C or SIGTERM stops it
# gracefully, with exit status 0.
PORT ?= 8000

.PHONY: serve7
serve7: lib $(B)/chapters/07-servers/echo
	$(B)/chapters/07-servers/echo --host 127.0.0.1 --port $(PORT)
