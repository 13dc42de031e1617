# chapters/05-patch/chapter.mk - chapter 5's builds (included by the Makefile).
#
# The demos link libgreen.so, not libgreen.a: under LD_PRELOAD the patch
# library brings libgreen.so with it, and a program with its own static
# copy would have two hubs (README, "One libgreen per process").  Two more
# builds of sleepers.c show the other cases:
#   sleepers-wrap     the link-time form: greenwrap.o, -Wl,--wrap=..., libgreen.a
#   sleepers-static   libgreen.a linked in: what LD_PRELOAD cannot fix
# -U_FORTIFY_SOURCE: fortified read() is __read_chk(), which is not patched.

ifeq ($(shell uname -s),Linux)

CH5       := chapters/05-patch
CH5_BIN   := $(B)/$(CH5)
CH5_DEMOS := $(patsubst %.c,$(B)/%,$(wildcard $(CH5)/*.c))
CH5_FLAGS  = $(CPPFLAGS) -U_FORTIFY_SOURCE $(CFLAGS) $(STRICT) $(LDFLAGS)

# A static pattern rule is an explicit rule: it wins over the Makefile's
# generic $(B)/chapters/% rule.
$(CH5_DEMOS): $(CH5_BIN)/%: $(CH5)/%.c $(LIBGREEN_SO) $(B)/lib/libgreen.so.0
	@mkdir -p $(@D)
	$(CC) $(CH5_FLAGS) -o $@ $< $(LIBGREEN_SO) -Wl,-rpath,'$$ORIGIN/../../lib' $(LDLIBS)

$(CH5_BIN)/sleepers-wrap: $(CH5)/sleepers.c $(B)/lib/greenwrap.o $(B)/lib/greenwrap.flags $(LIBGREEN_A)
	@mkdir -p $(@D)
	$(CC) $(CH5_FLAGS) -o $@ $< $(B)/lib/greenwrap.o $(LIBGREEN_A) \
	  $$(cat $(B)/lib/greenwrap.flags) $(LDLIBS)

$(CH5_BIN)/sleepers-static: $(CH5)/sleepers.c $(LIBGREEN_A)
	@mkdir -p $(@D)
	$(CC) $(CH5_FLAGS) -o $@ $< $(LIBGREEN_A) $(LDLIBS)

CH5_EXTRA := $(B)/lib/libgreenpatch.so $(CH5_BIN)/sleepers-wrap $(CH5_BIN)/sleepers-static
chapter5: $(CH5_EXTRA)
all: $(CH5_EXTRA)

# The exercises are --wrap wrappers: their tests link with the flag.
CH5_EX_USLEEP := $(B)/solutions/05-patch/usleep $(B)/stubs/05-patch/usleep $(B)/grade/05-patch/usleep
CH5_EX_READ   := $(B)/solutions/05-patch/read $(B)/stubs/05-patch/read $(B)/grade/05-patch/read
$(CH5_EX_USLEEP): override LDFLAGS += -Wl,--wrap=usleep
$(CH5_EX_READ): override LDFLAGS += -Wl,--wrap=read

endif
