# chapters/12-prefork/chapter.mk - `make serve12 PORT=P WORKERS=N`: the
# pre-fork master in the foreground on 127.0.0.1:P (default 8000) with N
# workers (default: one per CPU) serving chapter 9's demo app.  Ctrl-C
# stops it at once, SIGTERM gracefully; both with exit status 0.
PORT ?= 8000
WORKERS ?=

.PHONY: serve12
serve12: lib $(B)/chapters/12-prefork/server
	$(B)/chapters/12-prefork/server --host 127.0.0.1 --port $(PORT) \
	  $(if $(WORKERS),--workers $(WORKERS))

# The demo talks to the master with chapter 11's raw client.
chapter12: $(B)/chapters/11-http/client
