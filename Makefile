# SPDX-License-Identifier: GPL-3.0-or-later
# radioplay: GNU Makefile. `make` builds build/radioplay; `make demo` and
# `make check` install missing Debian packages first. V=1 shows commands.

# ---- options ---------------------------------------------------------------
CC       ?= cc
PREFIX   ?= /usr/local
BUILD    ?= build
# -O3: a cold render of chapter 000 took about 40 ms less CPU than at -O2
# (and a warm one about 30 ms less), the same bytes out.
OPT      ?= -O3
CSTD     := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARN     := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wvla
PKGS     := espeak-ng sndfile soxr inih portaudio-2.0 libebur128
DEB_PKGS := build-essential pkg-config libespeak-ng-dev espeak-ng-data espeak-ng \
            libsndfile1-dev portaudio19-dev libsoxr-dev libsamplerate0-dev libebur128-dev \
            libinih-dev sox bc time libxml2-utils
CHAPTER  ?= $(firstword $(wildcard ../shared/chapters/000_*.txt) scripts/siege.txt)

ifeq ($(V),1)
Q :=
else
Q := @
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS    ?= $(OPT) -g
ALL_CFLAGS = $(CSTD) $(WARN) $(CFLAGS) -Iinclude -MMD -MP $(PKG_CFLAGS)
LDLIBS     = $(PKG_LIBS) -lpthread -lm

# espeak-ng linked statically where its archive is installed (Debian's
# libespeak-ng-dev has one), with src/espeak_quiet.c in place of the audio
# library the shared one needs (pcaudiolib, and through it PulseAudio, X11,
# D-Bus, systemd: 21 libraries radioplay never calls). Each of a render's
# worker processes then forks and exits with about 110 fewer mappings, and
# each start loads half the libraries. -z now binds espeak-ng's calls into
# libc once, at start, not again in every job forked after. Elsewhere the
# shared library, as pkg-config gives it.
ESPEAK_LIBDIR := $(shell pkg-config --variable=libdir espeak-ng 2>/dev/null)
ESPEAK_A      := $(wildcard $(ESPEAK_LIBDIR)/libespeak-ng.a)
SONIC_SO      := $(wildcard $(ESPEAK_LIBDIR)/libsonic.so.0)
ifneq ($(ESPEAK_A),)
ifneq ($(SONIC_SO),)
PKG_LIBS   = $(shell pkg-config --libs $(filter-out espeak-ng,$(PKGS)) 2>/dev/null)
LDLIBS     = -Wl,-z,now $(BUILD)/obj/espeak_quiet.o $(ESPEAK_A) $(SONIC_SO) $(PKG_LIBS) \
             -lpthread -lm
ALL_CFLAGS += -DRP_ESPEAK_STATIC
endif
endif

SRC      := $(filter-out src/main.c src/worker_main.c,$(wildcard src/*.c))
OBJ      := $(SRC:src/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/sfx_builtin.o $(BUILD)/obj/room_builtin.o
TESTS    := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
TEST_LIB := $(BUILD)/obj/tests/wav.o
PRESETS  := $(sort $(wildcard sfx/*.sfx))
ROOMS    := $(sort $(wildcard sfx/rooms/*.room))

.PHONY: all check bench bench-attribution fmt install uninstall clean deps demo tests

all: $(BUILD)/radioplay $(BUILD)/radioplay-worker

# ---- build -----------------------------------------------------------------
$(BUILD)/radioplay: $(BUILD)/obj/main.o $(BUILD)/libradioplay.a
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The synthesis workers' program (src/worker_main.c), which radioplay runs
# from beside itself: the same libraries offered, and only those its part
# of the archive calls recorded (--as-needed), so it loads no libsndfile,
# PortAudio or their dependencies.
$(BUILD)/radioplay-worker: $(BUILD)/obj/worker_main.o $(BUILD)/libradioplay.a
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -Wl,--as-needed -o $@ $^ $(LDLIBS)

$(BUILD)/libradioplay.a: $(OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

# The compiler and its flags as the objects were built with: rewritten only
# when they change (a new OPT, CFLAGS, LDFLAGS or libraries into the same
# build folder), and every object depends on it, so such a change builds
# them all again, and links the programs again.
BUILT_WITH = $(CC) $(ALL_CFLAGS) $(LDFLAGS) $(LDLIBS)
$(BUILD)/flags: FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' '$(BUILT_WITH)' | cmp -s - $@ || printf '%s\n' '$(BUILT_WITH)' > $@

.PHONY: FORCE
FORCE:

$(BUILD)/obj/%.o: src/%.c $(BUILD)/flags
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Built-in effect presets and rooms are compiled into the binary, so it runs
# from any directory; users add or override them with --sfx-dir.
$(BUILD)/gen/sfx_builtin.c: $(PRESETS) src/embed.sh
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)sh src/embed.sh rp_sfx.h rp_sfx_builtin rp_sfx_n_builtin .sfx \
	    $(PRESETS) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/room_builtin.c: $(ROOMS) src/embed.sh
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)sh src/embed.sh rp_room.h rp_room_builtin rp_room_n_builtin .room \
	    $(ROOMS) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/%_builtin.o: $(BUILD)/gen/%_builtin.c $(BUILD)/flags
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/obj/tests/%.o: tests/%.c $(BUILD)/flags
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(TEST_LIB) $(BUILD)/libradioplay.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

tests: $(BUILD)/radioplay $(BUILD)/radioplay-worker $(TESTS)

# ---- user targets ----------------------------------------------------------
# Installs the Debian packages that are missing (with sudo when not root).
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "  DEPS   $$missing"; \
	    SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null || exit 1; \
	fi

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(BUILD)/radioplay render scripts/siege.txt -o $(BUILD)/siege.wav
	@echo "demo: wrote $(BUILD)/siege.wav ($$($(BUILD)/radioplay info $(BUILD)/siege.wav | head -n 1))"

check: deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)BUILD=$(BUILD) sh tests/run.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/bench_sfx $(BUILD)/bench_resample
	$(Q)BUILD=$(BUILD) sh tests/bench.sh "$(CHAPTER)"

# Effect presets' speed, one line each (run by tests/bench.sh).
$(BUILD)/bench_sfx: $(BUILD)/obj/tests/bench_sfx.o $(BUILD)/libradioplay.a
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# libsamplerate's and libsoxr's converters, speed and quality (run by
# tests/bench.sh): the evidence for src/resample.c's choice. Links both.
$(BUILD)/bench_resample: tests/bench_resample.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CSTD) $(WARN) $(CFLAGS) $$(pkg-config --cflags samplerate soxr) $(LDFLAGS) \
	    -o $@ $< $$(pkg-config --libs samplerate soxr) -lm

bench-attribution: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) sh tests/bench_attribution.sh

fmt:
	clang-format -i src/*.c include/*.h tests/*.c tests/*.h

install: $(BUILD)/radioplay $(BUILD)/radioplay-worker
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/libexec/radioplay
	install -m 755 $(BUILD)/radioplay $(DESTDIR)$(PREFIX)/bin/radioplay
	install -m 755 $(BUILD)/radioplay-worker $(DESTDIR)$(PREFIX)/libexec/radioplay/radioplay-worker
	install -m 644 src/radioplay.1 $(DESTDIR)$(PREFIX)/share/man/man1/radioplay.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/radioplay $(DESTDIR)$(PREFIX)/share/man/man1/radioplay.1 \
	    $(DESTDIR)$(PREFIX)/libexec/radioplay/radioplay-worker
	-rmdir $(DESTDIR)$(PREFIX)/libexec/radioplay 2>/dev/null

clean:
	rm -rf build

# ---- sanitizers ------------------------------------------------------------
# `make asan`, `make ubsan` and `make valgrind` run the whole suite, `make
# tsan` the tests whose code runs on several threads (the playback ring, the
# live stream, the device callback, the render pipeline's mixer and encoder
# threads). asan, ubsan and tsan build into build/NAME, valgrind into BUILD.
# Every finding is fatal. Each process (a test, the radioplay it starts, a
# synthesis worker) writes its reports to a file of its own in
# BUILD/san-logs, and tests/run.sh fails the test that left one: an exit
# code alone would miss a report from a run the test expects to fail, or
# from a worker whose crash the renderer retries. LeakSanitizer checks the
# tests and radioplay (the zygote and its workers end in _exit); valgrind
# checks the workers too. tests/lsan.supp and tests/tsan.supp silence
# third-party code only. In asan, UBSan's checks trap and ASan reports the
# trap with its stack (handle_sigill): GCC's UBSan runtime beside ASan's
# ignores log_path. ubsan has the runtime and its messages.
.PHONY: asan ubsan tsan valgrind

SAN_FLAGS   := -O1 -g -fno-omit-frame-pointer
UBSAN_FLAGS := -fsanitize=undefined,float-cast-overflow
SAN_LOGS     = $(abspath $(1))/san-logs
TSAN_TESTS  := test_ring test_stream test_device test_play test_render test_cache
TSAN_OPTS    = log_path=$(call SAN_LOGS,build/tsan)/tsan:halt_on_error=1:second_deadlock_stack=1:$\
               suppressions=$(CURDIR)/tests/tsan.supp:print_suppressions=0

asan: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan \
	    CFLAGS="$(SAN_FLAGS) -fsanitize=address $(UBSAN_FLAGS) -fsanitize-undefined-trap-on-error" \
	    LDFLAGS="-fsanitize=address $(UBSAN_FLAGS) -fsanitize-undefined-trap-on-error" tests
	$(Q)RP_SAN_LOGS=$(call SAN_LOGS,build/asan) \
	    ASAN_OPTIONS=log_path=$(call SAN_LOGS,build/asan)/asan:detect_leaks=1:handle_sigill=1 \
	    LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	    BUILD=build/asan sh tests/run.sh

ubsan: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build/ubsan \
	    CFLAGS="$(SAN_FLAGS) $(UBSAN_FLAGS) -fno-sanitize-recover=all" \
	    LDFLAGS="$(UBSAN_FLAGS)" tests
	$(Q)RP_SAN_LOGS=$(call SAN_LOGS,build/ubsan) \
	    UBSAN_OPTIONS=log_path=$(call SAN_LOGS,build/ubsan)/ubsan:print_stacktrace=1:halt_on_error=1 \
	    BUILD=build/ubsan sh tests/run.sh

tsan: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build/tsan CFLAGS="$(SAN_FLAGS) -fsanitize=thread" \
	    LDFLAGS="-fsanitize=thread" build/tsan/radioplay $(TSAN_TESTS:%=build/tsan/tests/%)
	$(Q)RP_SAN_LOGS=$(call SAN_LOGS,build/tsan) TSAN_OPTIONS=$(TSAN_OPTS) \
	    BUILD=build/tsan sh tests/run.sh $(TSAN_TESTS)

# Memcheck over every test, the radioplay and replay programs the tests
# start (tests/run.sh starts those under valgrind too) and the workers they
# fork, which valgrind follows. Definite leaks are errors.
VALGRIND_CMD = valgrind -q --vgdb=no --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
               --errors-for-leak-kinds=definite --log-file=$(call SAN_LOGS,$(BUILD))/valgrind.%p

valgrind: deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)RP_SAN_LOGS=$(call SAN_LOGS,$(BUILD)) VALGRIND="$(VALGRIND_CMD)" BUILD=$(BUILD) \
	    sh tests/run.sh

# ---- fuzz ------------------------------------------------------------------
# A libFuzzer target for every parser (tests/fuzz/fuzz_*.c). `make fuzz
# FUZZ_TIME=60` builds them with clang, ASan and UBSan into FUZZ_BUILD and
# runs each in turn for FUZZ_TIME seconds from its seed corpus and
# regression inputs (tests/fuzz/corpus/T, tests/fuzz/regressions/T); what
# it learns goes to FUZZ_BUILD/corpus/T, a finding to FUZZ_BUILD/findings/
# and the log to FUZZ_BUILD/T.log (libFuzzer's exit code 72, an interrupt,
# is not a finding). The same targets with tests/fuzz/replay.c
# for main are built by the normal compiler as $(BUILD)/fuzz/replay_T, and
# test_fuzz_replay runs every corpus and regression file through them.
FUZZ_TIME    ?= 60
FUZZ_BUILD   ?= build/fuzz
FUZZ_CC      ?= clang
FUZZ_TIMEOUT ?= 10
FUZZ_RSS_MB  ?= 2048
FUZZ_MAX_LEN ?= 8192
FUZZ_TARGETS := parse cast preset layout
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_REPLAY  := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/replay_%)
FUZZ_BIN     := $(FUZZ_TARGETS:%=$(BUILD)/fuzz_%)

.PHONY: fuzz

tests: $(FUZZ_REPLAY)

$(FUZZ_REPLAY): $(BUILD)/fuzz/replay_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o \
                $(BUILD)/obj/tests/fuzz/replay.o $(BUILD)/libradioplay.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Built by `make fuzz` with BUILD=$(FUZZ_BUILD); libFuzzer brings the main.
$(FUZZ_BIN): $(BUILD)/fuzz_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(BUILD)/libradioplay.a
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

fuzz: deps
	$(Q)$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) LDFLAGS="$(FUZZ_SAN)" \
	    CFLAGS="-O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link" \
	    $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
	$(Q)found=""; total=0; for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/findings; \
	    seeds=""; for s in tests/fuzz/corpus/$$t tests/fuzz/regressions/$$t; do \
	        [ -d $$s ] && seeds="$$seeds $$s"; done; \
	    $(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_TIME) -timeout=$(FUZZ_TIMEOUT) \
	        -rss_limit_mb=$(FUZZ_RSS_MB) -max_len=$(FUZZ_MAX_LEN) -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_BUILD)/findings/$$t- $(FUZZ_BUILD)/corpus/$$t $$seeds \
	        > $(FUZZ_BUILD)/$$t.log 2>&1; rc=$$?; \
	    runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_BUILD)/$$t.log); \
	    case $$rc in 0) ;; 72) echo "fuzz_$$t: interrupted";; *) found="$$found $$t";; esac; \
	    echo "fuzz_$$t: $${runs:-0} executions in $(FUZZ_TIME) s"; \
	    total=$$((total + $${runs:-0})); \
	done; \
	echo "fuzz: $$total executions"; \
	if [ -n "$$found" ]; then echo "fuzz: findings in:$$found ($(FUZZ_BUILD)/*.log)"; exit 1; fi

-include $(wildcard $(BUILD)/obj/tests/fuzz/*.d)

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/obj/tests/*.d)
