# loom: a suite of small filters that run a graph of tasks in parallel.
#
#   make            build every program into bin/
#   make check      build with warnings as errors and run the bats suite
#   make check SANITIZE=1   the same under AddressSanitizer and UBSan
#   make demo       run the shipped security audit on loom's own sources
#   make install    PREFIX=/usr/local DESTDIR= (programs, man pages, share/)
#
# Missing build and test dependencies are installed with apt-get, saying
# so; NO_INSTALL=1 (or LOOM_NO_INSTALL=1 in the environment) turns that off.

VERSION	= 0.1
PREFIX	?= /usr/local
BINDIR	= $(PREFIX)/bin
MANDIR	= $(PREFIX)/share/man
SHAREDIR = $(PREFIX)/share/loom

CC	?= cc
CFLAGS	?= -O2 -g
WARN	= -std=c11 -Wall -Wextra -pedantic -Wshadow -Wstrict-prototypes \
	  -Wmissing-prototypes
CPPFLAGS += -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	  -DLOOM_VERSION='"$(VERSION)"' -Ilib
LDLIBS	+= -ljq -lm

ifeq ($(SANITIZE),1)
SANFLAGS = -fsanitize=address,undefined,float-cast-overflow
CFLAGS	+= -O1 $(SANFLAGS) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS	+= $(SANFLAGS)
endif
ifeq ($(WERROR),1)
WARN	+= -Werror
endif

PROGS	= $(patsubst cmd/%.c,bin/%,$(wildcard cmd/loom-*.c))
SCRIPTS	= $(patsubst cmd/%,bin/%,$(filter-out %.c,$(wildcard cmd/loom*)))
LIBSRC	= $(wildcard lib/*.c)
LIBOBJ	= $(patsubst lib/%.c,build/%.o,$(LIBSRC))
MAN1	= $(wildcard man/*.1)
MAN7	= $(wildcard man/*.7)
DEPS	= tests/deps.sh

all: deps-build $(PROGS) $(SCRIPTS)

# Rebuild everything when the flags change (SANITIZE=1, WERROR=1).
FLAGS	= $(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) $(LDFLAGS) $(LDLIBS)
build/flags: FORCE
	@mkdir -p build
	@echo '$(FLAGS)' | cmp -s - $@ || echo '$(FLAGS)' > $@

build/%.o: lib/%.c lib/loom.h lib/engine.h build/flags
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -c -o $@ $<

build/libloom.a: $(LIBOBJ)
	rm -f $@
	ar rcs $@ $(LIBOBJ)

bin/%: cmd/%.c build/libloom.a lib/loom.h lib/engine.h build/flags
	@mkdir -p bin
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) $(LDFLAGS) -o $@ $< \
	    build/libloom.a $(LDLIBS)

bin/%: cmd/%
	@mkdir -p bin
	cp $< $@
	chmod +x $@

deps-build:
	@sh $(DEPS) build
deps-check:
	@sh $(DEPS) check

check: deps-check
	@$(MAKE) --no-print-directory WERROR=1 all
	@for m in $(MAN1) $(MAN7); do \
	    groff -mdoc -ww -z $$m 2>&1 | { ! grep . ; } || \
	    { echo "man page warnings in $$m"; exit 1; }; done
	@{ bats $(BATSFLAGS) tests; echo $$? > build/bats.rc; } | \
	    tee build/check.tap
	@awk '/^ok .* # skip/ { s++; next } /^ok / { p++ } /^not ok / { f++ } \
	    END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' \
	    build/check.tap
	@exit $$(cat build/bats.rc)

demo: all
	@sh $(DEPS) demo
	@sh share/loom/examples/demo.sh

bench: all
	@for b in bench/*; do [ -x $$b ] && echo "== $$b" && ./$$b; done; true

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(SHAREDIR)
	cp $(PROGS) $(SCRIPTS) $(DESTDIR)$(BINDIR)/
	cp $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	cp $(MAN7) $(DESTDIR)$(MANDIR)/man7/
	cp -R share/loom/. $(DESTDIR)$(SHAREDIR)/

uninstall:
	for p in $(PROGS) $(SCRIPTS); do rm -f $(DESTDIR)$(BINDIR)/$${p#bin/}; done
	for m in $(MAN1); do rm -f $(DESTDIR)$(MANDIR)/man1/$${m#man/}; done
	for m in $(MAN7); do rm -f $(DESTDIR)$(MANDIR)/man7/$${m#man/}; done
	rm -rf $(DESTDIR)$(SHAREDIR)

clean:
	rm -rf bin build

.PHONY: all check demo bench install uninstall clean deps-build deps-check FORCE

# make fuzz: one libFuzzer harness per reader (tests/fuzz/fuzz_NAME.c),
# built with clang against the lib sources and run FUZZ_TIME seconds each
# on a copy of its seed corpus (tests/fuzz/corpus/NAME); prints the
# executions and crashes per reader and keeps crashing inputs in
# build/fuzz/NAME/.
FUZZ_TIME ?= 60
FUZZ_CC	?= clang
FUZZERS	= $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIBSRC) lib/loom.h
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(WARN) -g -O1 -fno-omit-frame-pointer \
	    -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=undefined $(CPPFLAGS) -o $@ $< $(LIBSRC) \
	    $(LDLIBS)

fuzz: $(FUZZERS)
	@sh tests/fuzz/run.sh build/fuzz $(FUZZ_TIME) $(FUZZERS)

.PHONY: fuzz

# make valgrind: the bats suite (but tests/make.bats) with every program
# under valgrind's memcheck, leaks included (tests/valgrind.sh); slow, so
# not part of check.  VALGRIND_TESTS=tests/FILE.bats runs fewer.
VALGRIND_TESTS ?=

valgrind: all
	@sh tests/valgrind.sh $(VALGRIND_TESTS)

.PHONY: valgrind
