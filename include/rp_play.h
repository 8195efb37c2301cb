// SPDX-License-Identifier: GPL-3.0-or-later
// `radioplay play`: the live stream (stream.c) played on an audio device
// (device.c), with the terminal (console.c) showing who speaks and taking
// the keys. This module only wires the three together.
#ifndef RP_PLAY_H
#define RP_PLAY_H

#include <signal.h>

#include "rp_stream.h"

typedef struct {
    rp_drama_options drama;
    const char *device;     // NULL: the default output device
    rp_seek_kind from_kind; // where to start
    int64_t from;           // frames for RP_SEEK_FRAME (set from from_s)
    double from_s;          // --from, seconds (RP_SEEK_FRAME)
    double buffer_s;        // <= 0: RP_PLAY_BUFFER_S
    int stats;              // print time to first audio, underruns, frames at the end
    double started_s;       // CLOCK_MONOTONIC when the command started
    int watch;              // restart where it is when the chapter, cast or presets change
} rp_play_options;

// Plays the chapter until it ends, the user quits, or *stop becomes
// non-zero (a signal). The terminal is restored whatever happens.
rp_status rp_play(const rp_play_options *o, volatile sig_atomic_t *stop, rp_diags *d);

#endif
