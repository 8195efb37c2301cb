# SPDX-License-Identifier: GPL-3.0-or-later
# radioplay: GNU Makefile. `make` builds build/radioplay; `make demo` and
# `make check` install missing Debian packages first. V=1 shows commands.

# ---- options ---------------------------------------------------------------
CC       ?= cc
PREFIX   ?= /usr/local
BUILD    ?= build
OPT      ?= -O2
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

SRC      := $(filter-out src/main.c,$(wildcard src/*.c))
OBJ      := $(SRC:src/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/sfx_builtin.o $(BUILD)/obj/room_builtin.o
TESTS    := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
TEST_LIB := $(BUILD)/obj/tests/wav.o
PRESETS  := $(sort $(wildcard sfx/*.sfx))
ROOMS    := $(sort $(wildcard sfx/rooms/*.room))

.PHONY: all check bench bench-attribution asan tsan valgrind fmt install uninstall clean deps demo tests

all: $(BUILD)/radioplay

# ---- build -----------------------------------------------------------------
$(BUILD)/radioplay: $(BUILD)/obj/main.o $(BUILD)/libradioplay.a
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libradioplay.a: $(OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/obj/%.o: src/%.c
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

$(BUILD)/obj/%_builtin.o: $(BUILD)/gen/%_builtin.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/obj/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(TEST_LIB) $(BUILD)/libradioplay.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

tests: $(BUILD)/radioplay $(TESTS)

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

asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan \
	    CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" \
	    LDFLAGS="-fsanitize=address,undefined" check

# The threaded parts (the playback ring, the live stream's render thread and
# callback) under ThreadSanitizer.
TSAN_TESTS := test_ring test_stream
tsan:
	$(Q)$(MAKE) --no-print-directory BUILD=build/tsan CFLAGS="-O1 -g -fsanitize=thread" \
	    LDFLAGS="-fsanitize=thread" build/tsan/radioplay $(TSAN_TESTS:%=build/tsan/tests/%)
	$(Q)for t in $(TSAN_TESTS); do echo "== $$t"; \
	    RP_BUILD=build/tsan TSAN_OPTIONS="halt_on_error=1" build/tsan/tests/$$t || exit 1; done

valgrind: tests
	$(Q)BUILD=$(BUILD) VALGRIND="valgrind -q --error-exitcode=99 --leak-check=full" sh tests/run.sh

fmt:
	clang-format -i src/*.c include/*.h tests/*.c tests/*.h

install: $(BUILD)/radioplay
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BUILD)/radioplay $(DESTDIR)$(PREFIX)/bin/radioplay
	install -m 644 src/radioplay.1 $(DESTDIR)$(PREFIX)/share/man/man1/radioplay.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/radioplay $(DESTDIR)$(PREFIX)/share/man/man1/radioplay.1

clean:
	rm -rf build

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/obj/tests/*.d)
