# lib/05-patch/build.mk - chapter 5, the patch layer (included by the
# Makefile).
#
# patch.c is NOT part of libgreen: a libgreen that defined sleep() would
# green every program linked with it.  It is built twice, on its own:
#   $(B)/lib/libgreenpatch.so   the load-time form:  LD_PRELOAD=... ./program
#   $(B)/lib/greenwrap.o        the link-time form, with the flags listed in
#   $(B)/lib/greenwrap.flags    (-Wl,--wrap=sleep ...):
#       cc ... program.o $(B)/lib/greenwrap.o $(B)/lib/libgreen.a $$(cat $(B)/lib/greenwrap.flags) -levent
# Both need a GNU/Linux toolchain (LD_PRELOAD, RTLD_NEXT, ld --wrap).
#
# libgreenpatch.so is linked against libgreen.so, not libgreen.a: one copy
# of libgreen per process (see patch.h, "What link order or static linking
# breaks").  It finds libgreen.so.0 next to itself ($ORIGIN).

ifeq ($(shell uname -s),Linux)

PATCH_SO         := $(B)/lib/libgreenpatch.so
PATCH_WRAP       := $(B)/lib/greenwrap.o
PATCH_WRAP_FILE  := $(B)/lib/greenwrap.flags
PATCH_CALLS      := sleep usleep nanosleep read write recv send accept connect \
                    poll getaddrinfo freeaddrinfo
PATCH_WRAP_FLAGS := $(foreach f,$(PATCH_CALLS),-Wl,--wrap=$(f))
# libgreen.so's soname is libgreen.so.0: the name a program linked with it
# asks the dynamic linker for.
LIBGREEN_SO0     := $(B)/lib/libgreen.so.0
# Where a program in $(B)/<dir>/<dir>/ finds libgreen.so.0 at run time.
PATCH_RPATH       = -Wl,-rpath,'$$ORIGIN/../../lib'

# _FORTIFY_SOURCE would turn read() into __read_chk(), which is not patched.
PATCH_CPPFLAGS   := -Ilib/05-patch -U_FORTIFY_SOURCE

.PHONY: patch
patch: $(PATCH_SO) $(PATCH_WRAP) $(PATCH_WRAP_FILE)
all: patch

$(LIBGREEN_SO0): $(LIBGREEN_SO)
	ln -sf libgreen.so $@

$(PATCH_SO): lib/05-patch/patch.c lib/05-patch/patch.h $(LIB_ALL_H) $(LIBGREEN_SO) $(LIBGREEN_SO0)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(PATCH_CPPFLAGS) $(CFLAGS) $(STRICT) -shared \
	  -Wl,-soname,libgreenpatch.so $(LDFLAGS) -o $@ $< $(LIBGREEN_SO) \
	  -Wl,-rpath,'$$ORIGIN' $(LDLIBS) -ldl

$(PATCH_WRAP): lib/05-patch/patch.c lib/05-patch/patch.h $(LIB_ALL_H) | need-deps
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(PATCH_CPPFLAGS) -DGREEN_PATCH_WRAP $(CFLAGS) $(STRICT) -c -o $@ $<

$(PATCH_WRAP_FILE): lib/05-patch/build.mk
	@mkdir -p $(@D)
	@echo '$(PATCH_WRAP_FLAGS)' > $@

# ---- The library's tests of this layer -----------------------------------
# tests/lib/patch is itself linked in the --wrap form; it also runs a
# helper program with and without LD_PRELOAD.  The helper lives outside
# $(B)/tests/lib/, where every program is taken for a test suite.
PATCH_HELPER := $(B)/tests/patch/sleepers

$(PATCH_HELPER): tests/lib/patch/sleepers.c $(LIBGREEN_SO) $(LIBGREEN_SO0)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(STRICT) $(LDFLAGS) -o $@ $< $(LIBGREEN_SO) \
	  $(PATCH_RPATH) $(LDLIBS)

$(B)/tests/lib/patch: tests/lib/patch.c $(HARNESS) $(HARNESS_H) $(LIBGREEN_A) $(PATCH_WRAP) $(PATCH_SO) $(PATCH_HELPER)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(PATCH_CPPFLAGS) -Itests $(CFLAGS) $(STRICT) $(LDFLAGS) \
	  -DPATCH_SO='"$(abspath $(PATCH_SO))"' -DPATCH_HELPER='"$(abspath $(PATCH_HELPER))"' \
	  -o $@ tests/lib/patch.c $(HARNESS) $(PATCH_WRAP) $(LIBGREEN_A) \
	  $(PATCH_WRAP_FLAGS) $(CHECK_LIBS) $(LDLIBS)

endif
