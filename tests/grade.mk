# tests/grade.mk - the grader's targets, included by the Makefile.  The
# scripts are in tests/grade/; `make help` lists the targets.
#
#   make grade [E=NAME] [N=K] [DIR=PATH] [CSV=FILE]
#   make watch [E=NAME] [DIR=PATH]    re-grade on every save
#   make hint E=NAME                  the next hint of an exercise
#   make reset E=NAME [DIR=PATH]      put the stub back (a backup is kept)
#   make progress [DIR=PATH]          not started / failing / done, and next
#   make test-grader                  the grader's own tests
#
# DIR=PATH grades a student's exercises folder kept outside the tree (same
# layout as exercises/; no spaces in the path).  Its tests are built in a
# folder of their own, named after the path, so two folders never mix.
.PHONY: grade watch hint reset progress test-grader

GRADE_SRC   := $(if $(DIR),$(patsubst %/,%,$(abspath $(DIR))),exercises)
GRADE_B     := $(if $(DIR),$(B)/grade-dir/$(shell printf '%s' '$(GRADE_SRC)' | cksum | cut -d' ' -f1),$(B)/grade)
GRADE_STATE ?= build/state
GRADE_ENV    = MAKE="$(MAKE)" B="$(B)" SRC="$(GRADE_SRC)" GB="$(GRADE_B)" STATE="$(GRADE_STATE)" \
               E="$(E)" N="$(N)" CSV="$(CSV)" EXERCISES="$(EXERCISES)"

# The Makefile's EXERCISE_RULE builds $(B)/grade/E from exercises/E; the
# same, from DIR.
ifdef DIR
define GRADE_DIR_RULE
$(GRADE_B)/$(1): tests/exercises/$(1).c $(call sources_in,$(GRADE_SRC)/$(1)) \
                 $(call headers_in,$(GRADE_SRC)/$(1)) $(HARNESS) $(HARNESS_H) $(LIBGREEN_A)
	@mkdir -p $$(@D)
	$$(TEST_LINK) -I$(GRADE_SRC)/$(1)
endef
$(foreach e,$(EXERCISES),$(eval $(call GRADE_DIR_RULE,$(e))))
# Chapter 5's exercises are --wrap wrappers, as chapters/05-patch/chapter.mk
# says for the other builds.
$(GRADE_B)/05-patch/usleep: override LDFLAGS += -Wl,--wrap=usleep
$(GRADE_B)/05-patch/read: override LDFLAGS += -Wl,--wrap=read
endif

grade: lib
	@$(GRADE_ENV) sh tests/grade/grade.sh
watch: lib
	@$(GRADE_ENV) sh tests/grade/watch.sh
progress: lib
	@$(GRADE_ENV) sh tests/grade/progress.sh
hint:
	@$(GRADE_ENV) AGAIN="$(AGAIN)" sh tests/grade/hint.sh
reset:
	@$(GRADE_ENV) sh tests/grade/reset.sh

# The grader's own tests: tests/grader/README.md.
GRADER_TEST := $(B)/tests/grader/grader
# Through a variable: a recipe line that names $(MAKE) itself runs even
# under `make -n`, and CI's contract check (make -n) must not run the suite.
GRADER_MAKE  = $(MAKE)
test-grader: lib $(GRADER_TEST)
	@GRADER_MAKE="$(GRADER_MAKE)" B="$(B)" $(GRADER_TEST)
$(GRADER_TEST): tests/grader/grader.c $(HARNESS) $(HARNESS_H) $(LIBGREEN_A)
	@mkdir -p $(@D)
	$(TEST_LINK) $(STRICT)
