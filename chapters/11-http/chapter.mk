# chapters/11-http/chapter.mk - `make serve11 PORT=P`: the cooperative
# HTTP/1.1 server in the foreground on 127.0.0.1:P (default 8000), serving
# chapter 9's demo application and this folder's static/ under /static/,
# with the access log on stderr.  Ctrl-C or SIGTERM stops it gracefully,
# with exit status 0.
PORT ?= 8000

.PHONY: serve11
serve11: lib $(B)/chapters/11-http/server
	$(B)/chapters/11-http/server --host 127.0.0.1 --port $(PORT) \
	  --static chapters/11-http/static --access-log
