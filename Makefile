# socklab - every entry point of the lab.
#
#   make            build every lesson program (lessons/ and solutions/)
#   make lab        build and start the lab REPL (make install: `lab` on PATH)
#   make check      grade lessons/ (LESSON=NN for one, LAB_IMPL=solutions)
#   make grade      grade a class: SUBMISSIONS=DIR, one folder per student
#   make test       the project's own test (what CI runs)
#   make bench      how fast: check, make check, grade, make test (medians)
#   make doctor     say what is missing and why;  make setup  installs it
#   make dist       the student hand-out tarball (LESSONS=01-03: a stage)
#   make gradescope the Gradescope autograder zip;  make export FORMAT=...
#   make clean      remove build/
#
# Everything generated goes under build/.

.DEFAULT_GOAL := all
SHELL := /bin/bash

# ---------------------------------------------------------------- settings

CC ?= cc
CFLAGS ?= -O2 -g
LAB_CFLAGS := -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L
LDLIBS += -pthread
ifeq ($(SANITIZE),1)
LAB_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all \
              -fno-omit-frame-pointer
endif

BUILD ?= build
# Reports stay where CI looks for them, sanitized or not.
REPORTS ?= $(BUILD)/reports
REPORTS := $(REPORTS)
# Sanitized programs never mix with plain ones: a build folder of their own.
ifeq ($(SANITIZE),1)
ifeq ($(origin BUILD),file)
BUILD := build/sanitize
endif
endif
LAB_IMPL ?= lessons
LESSONS_SRC ?= lessons

# Lessons are the folders lessons/NN-slug; nothing lists them by hand.
LESSON_DIRS := $(sort $(wildcard lessons/[0-9][0-9]-*))
PROGRAMS := $(foreach d,$(LESSON_DIRS),$(patsubst %.c,%,$(wildcard $(d)/*.c)))
SOLUTION_PROGRAMS := $(patsubst %.c,%,$(wildcard solutions/[0-9][0-9]-*/*.c))
TARGETS := $(addprefix $(BUILD)/,$(PROGRAMS) $(SOLUTION_PROGRAMS))

GRADE := python3 tests/grader/grade.py
export LAB_ROOT := $(CURDIR)

.PHONY: all lab check grade test mutants doctor setup dist clean

# ---------------------------------------------------------------- lesson programs

all: $(TARGETS) $(BUILD)/tools/peerc $(BUILD)/tools/sandbox-exec

# One C file is one program. LESSONS_SRC lets the grader build a student's
# lessons/ tree from elsewhere into its own BUILD folder.
$(BUILD)/lessons/%: $(LESSONS_SRC)/%.c
	@mkdir -p $(@D)
	$(CC) $(LAB_CFLAGS) $(CPPFLAGS) $(CFLAGS) -MMD -MP -o $@ $< $(LDFLAGS) $(LDLIBS)

$(BUILD)/solutions/%: solutions/%.c
	@mkdir -p $(@D)
	$(CC) $(LAB_CFLAGS) $(CPPFLAGS) $(CFLAGS) -MMD -MP -o $@ $< $(LDFLAGS) $(LDLIBS)

# The tests' own tools: peerc hands a harness peer to a running peerd;
# sandbox-exec starts a student program in its sandbox.
$(BUILD)/tools/%: tests/harness/%.c
	@mkdir -p $(@D)
	$(CC) $(LAB_CFLAGS) $(CPPFLAGS) $(CFLAGS) -MMD -MP -o $@ $< $(LDFLAGS)

# The header dependencies -MMD wrote: BUILD/DIR/x.d and BUILD/DIR/SUB/x.d
# (lessons/NN-slug, solutions/NN-slug, tools, lab/cmd, ...). A wildcard,
# not a find: make is run for every program the grader builds.
-include $(wildcard $(BUILD)/*/*.d $(BUILD)/*/*/*.d)

# The program rules need no bash: with sh, make runs each of their lines
# itself, without a shell process per line.
$(BUILD)/lessons/% $(BUILD)/solutions/% $(BUILD)/tools/%: SHELL := /bin/sh

# ---------------------------------------------------------------- the lab REPL

# In layers (lab/main.c tells; tests/lab/layers checks): base/ at the
# bottom, then core/, then the command groups of cmd/, then main.c.
LAB_SOURCES := $(wildcard lab/*.c lab/base/*.c lab/core/*.c lab/cmd/*.c)
LAB_OBJECTS := $(patsubst %.c,$(BUILD)/%.o,$(LAB_SOURCES))

$(BUILD)/lab/%.o: lab/%.c
	@mkdir -p $(@D)
	$(CC) $(LAB_CFLAGS) -D_DEFAULT_SOURCE -Ilab -I$(BUILD)/lab $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

# The grader's result record (results.json, --events) as the lab reads it:
# field names from its one definition, tests/grader/grading/record.py.
$(BUILD)/lab/record.h: tests/grader/grading/record.py
	@mkdir -p $(@D)
	python3 $< --c-header >$@.tmp && mv $@.tmp $@
$(BUILD)/lab/cmd/check.o: $(BUILD)/lab/record.h

$(BUILD)/lab/lab: $(LAB_OBJECTS)
	$(CC) $(LAB_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lreadline $(LDLIBS)

# The bench's load generator (a program of its own, not part of the REPL).
$(BUILD)/lab/tools/%: lab/tools/%.c
	@mkdir -p $(@D)
	$(CC) $(LAB_CFLAGS) $(CPPFLAGS) $(CFLAGS) -MMD -MP -o $@ $< $(LDFLAGS)

.PHONY: lab-build
lab-build: $(BUILD)/lab/lab $(BUILD)/lab/tools/loadgen

lab: setup-quiet lab-build
	@$(BUILD)/lab/lab

# `lab CMD ARGS` from any shell: a link in $(PREFIX)/bin to this
# checkout's lab, which finds its lessons through the link.
PREFIX ?= $(HOME)/.local
.PHONY: install uninstall
install: lab-build
	@mkdir -p $(DESTDIR)$(PREFIX)/bin
	ln -sfn $(abspath $(BUILD)/lab/lab) $(DESTDIR)$(PREFIX)/bin/lab
	@case ":$$PATH:" in *":$(PREFIX)/bin:"*) ;; \
	  *) echo "note: $(PREFIX)/bin is not on your PATH; add it to run 'lab' from anywhere";; esac

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/lab

# ---------------------------------------------------------------- grading

# A lesson that does not compile fails its own steps; the grader builds each
# program separately, so check does not depend on all. SANITIZE=1 builds
# with ASan+UBSan (into build/sanitize/). docs/instructors.md has it all.
GRADE_FLAGS = $(if $(LESSON),--lesson $(LESSON)) \
              $(if $(filter 1,$(SANITIZE)),--sanitize) $(if $(JOBS),--jobs $(JOBS))

check: setup-quiet
	$(GRADE) check --impl $(LAB_IMPL) --reports $(REPORTS) $(GRADE_FLAGS)

# A class: SUBMISSIONS=DIR holds one folder per student. Builds go to
# $(BUILD)/grade/STUDENT/, reports to $(REPORTS)/ (grades.csv,
# grades.json, junit/STUDENT.xml). LESSON=NN, JOBS=N, SANITIZE=1 apply.
grade: setup-quiet
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=DIR [LESSON=NN] [JOBS=N] [SANITIZE=1]" >&2; exit 2; }
	$(GRADE) class "$(SUBMISSIONS)" --build $(BUILD)/grade \
	    --reports $(REPORTS) $(GRADE_FLAGS)

# How long a class of 30 takes: all lessons, generated submissions.
.PHONY: bench-grade
bench-grade: setup-quiet
	tests/grader/bench-class $(BUILD)/bench

# ---------------------------------------------------------------- benchmarks

# Each figure of a student's loop and of the project's own runs, as the
# median of BENCH_RUNS (3) beside its target; BENCH_ONLY=check-solved,...
# picks some (tests/lib/bench --help). Reported, never asserted.
.PHONY: bench
bench: setup-quiet
	@tests/lib/bench $(if $(BENCH_RUNS),--runs $(BENCH_RUNS)) \
	    $(if $(BENCH_ONLY),--only $(BENCH_ONLY))

# ---------------------------------------------------------------- the project's own test

# Every step passes on solutions/ and fails on the untouched skeletons, and
# the harness, grader and REPL pass their own tests (tests/lib/selftest).
test: setup-quiet
	@tests/lib/selftest

# The long proof of the mutants: each one fails *first* at its named step,
# every earlier step passing (make test runs the named step alone).
mutants: setup-quiet
	@tests/lib/mutants --first $(LESSONS)

# ---------------------------------------------------------------- the hand-out

# The student hand-out, $(BUILD)/dist/socklab-student.tar.gz: the files git
# tracks minus solutions/ and the grader's self-tests (tests/grader/make-dist).
# LESSONS=01-03 hands out a stage of the course (docs/instructors.md).
dist:
	tests/grader/make-dist $(BUILD)/dist $(LESSONS)

# ---------------------------------------------------------------- set-up

doctor:
	@tests/lib/setup doctor

setup:
	@tests/lib/setup install

.PHONY: setup-quiet
setup-quiet:
	@tests/lib/setup quiet

# ---------------------------------------------------------------- housekeeping

clean:
	rm -rf $(BUILD)

# ---------------------------------------------------------------- classroom platforms

# Gradescope's autograder: $(BUILD)/gradescope/autograder.zip, setup.sh and
# run_autograder at its root beside this checkout (no solutions/). LESSON=NN
# (or LESSON="01 02") grades only those lessons. Other platforms: `make
# export FORMAT=...` turns make check's results.json into theirs
# (gradescope, classroom, prairielearn, autolab, junit) in $(REPORTS)/export/.
# docs/instructors.md has a section per platform.
.PHONY: gradescope export
gradescope:
	python3 tests/grader/export.py zip -o $(BUILD)/gradescope/autograder.zip$(foreach l,$(LESSON), --lesson $(l))

EXPORT_EXT = $(if $(filter junit,$(FORMAT)),xml,$(if $(filter autolab,$(FORMAT)),txt,json))
export:
	@case "$(FORMAT)" in gradescope|classroom|prairielearn|autolab|junit) ;; \
	    *) echo "usage: make export FORMAT=gradescope|classroom|prairielearn|autolab|junit [RESULTS=FILE] [OUT=FILE]" >&2; exit 2 ;; esac
	python3 tests/grader/export.py $(FORMAT) $(or $(RESULTS),$(REPORTS)/results.json) \
	    -o $(or $(OUT),$(REPORTS)/export/$(FORMAT).$(EXPORT_EXT))
