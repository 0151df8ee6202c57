# SPDX-License-Identifier: ISC
# isogate build. `make` builds bin/; `make run` starts the demo; `make test`
# runs every test and ends with "N passed, N failed".

CC	?= cc
PKGS	 = openssl libevent jansson sqlite3 libseccomp libcap-ng libpcap
OUTER_PKGS = libevent_openssl libnetfilter_queue libmnl
BUILD	?= build
BIN	?= bin
SAN	?=
OPT	?= -O2

CFLAGS	+= -std=c11 -D_GNU_SOURCE $(OPT) -g -Wall -Wextra -Werror \
	   -Wshadow -Wpointer-arith -Wmissing-prototypes -Wstrict-prototypes \
	   -fstack-protector-strong -I. -I$(BUILD) \
	   $(shell pkg-config --cflags $(PKGS)) $(SAN)
LDFLAGS	+= $(SAN)
LDLIBS	+= $(shell pkg-config --libs $(PKGS)) -lm

# Library folders become archives; daemons and tools link what they use.
COMMON_SRC = $(wildcard common/*.c)
POLICY_SRC = $(wildcard policy/*.c)
POLICY_GEN = $(BUILD)/policy/parse.c $(BUILD)/policy/lex.c
FERRY_SRC  = $(wildcard ferry/*.c)
AUDIT_SRC  = $(wildcard audit/*.c)
OUTER_SRC  = $(wildcard outer/*.c)
INNER_SRC  = $(wildcard inner/*.c)
TOOLS_SRC  = $(wildcard tools/*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

LIBCOMMON = $(BUILD)/libcommon.a
LIBPOLICY = $(BUILD)/libpolicy.a
LIBFERRY  = $(BUILD)/libferry.a
LIBAUDIT  = $(BUILD)/libaudit.a
LIBS	  = $(LIBPOLICY) $(LIBFERRY) $(LIBAUDIT) $(LIBCOMMON)

PROGS	= $(BIN)/isogate-outer $(BIN)/isogate-inner $(BIN)/isogate
HOOKS	= $(BIN)/hook/isogate-outer $(BIN)/hook/isogate-inner
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT	 = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.PHONY: all deps run test test-external test-unit test-e2e fuzz bench clean asan
all: $(PROGS) $(HOOKS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# One bison run writes both, so make must know both are its outputs.
$(BUILD)/policy/parse.c $(BUILD)/policy/parse.h &: policy/parse.y
	@mkdir -p $(@D)
	bison -Wall -Werror -d -o $(BUILD)/policy/parse.c $<
$(BUILD)/policy/lex.c: policy/lex.l $(BUILD)/policy/parse.h
	@mkdir -p $(@D)
	flex -o $@ $<
# Generated code is not held to our warning set beyond -Wall -Wextra.
$(BUILD)/policy/parse.o $(BUILD)/policy/lex.o: CFLAGS += -Wno-missing-prototypes -Wno-unused-function -Wno-sign-compare
$(BUILD)/policy/%.o: $(BUILD)/policy/%.c
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<
$(call obj,$(POLICY_SRC)): $(BUILD)/policy/parse.h

$(LIBCOMMON): $(call obj,$(COMMON_SRC))
$(LIBPOLICY): $(call obj,$(POLICY_SRC)) $(POLICY_GEN:.c=.o)
$(LIBFERRY):  $(call obj,$(FERRY_SRC))
$(LIBAUDIT):  $(call obj,$(AUDIT_SRC))
$(BUILD)/%.a:
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BIN)/isogate-outer: $(call obj,$(OUTER_SRC)) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs $(OUTER_PKGS)) $(LDLIBS)
$(BIN)/isogate-inner: $(call obj,$(INNER_SRC)) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
# The daemons with a journal that writes nothing: bench/audit.sh measures
# what journalling costs. Never installed, never tested as the product.
NULLJ = $(BUILD)/nulljournal
$(NULLJ)/isogate-outer: $(call obj,$(OUTER_SRC)) $(BUILD)/bench/audit_null.o \
    $(LIBPOLICY) $(LIBFERRY) $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs $(OUTER_PKGS)) $(LDLIBS)
$(NULLJ)/isogate-inner: $(call obj,$(INNER_SRC)) $(BUILD)/bench/audit_null.o \
    $(LIBPOLICY) $(LIBFERRY) $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
# Writes a journal of N records through the library (bench/audit.sh).
$(BUILD)/bench/audit_gen: $(BUILD)/bench/audit_gen.o $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
# Frames over eth: on a veth pair, two processes (bench/eth.sh).
$(BUILD)/bench/eth_bench: $(BUILD)/bench/eth_bench.o $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BIN)/isogate: $(call obj,$(TOOLS_SRC)) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Test-only daemons: main.c built with -DISOGATE_TEST_HOOKS, which makes the
# daemon perform the forbidden syscall named in $$ISOGATE_TEST_FORBIDDEN once
# it is sandboxed (tests/e2e/sandbox.sh proves it dies of SIGSYS). Never
# installed; the daemons in $(BIN)/ have no such code.
$(BUILD)/hook/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DISOGATE_TEST_HOOKS -MMD -MP -c -o $@ $<
$(BIN)/hook/isogate-outer: $(BUILD)/hook/outer/main.o $(call obj,$(filter-out outer/main.c,$(OUTER_SRC))) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs $(OUTER_PKGS)) $(LDLIBS)
$(BIN)/hook/isogate-inner: $(BUILD)/hook/inner/main.o $(call obj,$(filter-out inner/main.c,$(INNER_SRC))) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Daemon objects a unit test links besides the libraries.
TEST_OBJS_test_http = $(BUILD)/outer/http.o
.SECONDEXPANSION:
$(BUILD)/tests/%: tests/unit/%.c $(LIBS) $$(TEST_OBJS_$$*)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -o $@ $< $(TEST_OBJS_$*) $(LIBS) $(LDFLAGS) -lcmocka $(LDLIBS)

deps:
	@sh tools/deps.sh build

run: deps all
	@sh tools/demo.sh run

# The bench's null-journal daemons are built too: a stub that no longer
# links fails here, not later in `make bench`.
test:
	@sh tools/deps.sh test
	@$(MAKE) --no-print-directory all units $(NULLJ)/isogate-outer \
	    $(NULLJ)/isogate-inner
	@$(MAKE) --no-print-directory BUILD=build/asan BIN=build/asan/bin \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    OPT=-O1 all
	@sh tests/run.sh

# sqlmap and testssl.sh against a TLS front: minutes, so not in `make test`.
test-external:
	@sh tools/deps.sh external
	@$(MAKE) --no-print-directory all
	@bash tests/external/scanners.sh

units: $(UNIT)

fuzz:
	@sh tools/deps.sh test
	@sh tests/fuzz/run.sh $${FUZZ_SECONDS:-60}

bench: all
	@sh tools/deps.sh test
	@sh bench/run.sh

clean:
	rm -rf build bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
