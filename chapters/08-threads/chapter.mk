# chapters/08-threads/chapter.mk - included by the Makefile.
#
#   make serve8 PORT=P MODE=sequential|threads|greenlets
#
# runs the chapter's server in the foreground on 127.0.0.1:P (MODE defaults
# to greenlets; PORT to 8080 unless a fragment included earlier set a
# default); Ctrl-C or SIGTERM stops it with status 0.
# `make chapter8 FULL=1` adds the 10,000-client runs to the experiment
# (run.sh reads FULL from the environment).

SERVE8_MODE := $(or $(MODE),greenlets)
SERVE8_PORT := $(or $(PORT),8080)

.PHONY: serve8
serve8: lib $(B)/chapters/08-threads/server
	$(B)/chapters/08-threads/server --mode $(SERVE8_MODE) --host 127.0.0.1 --port $(SERVE8_PORT)
