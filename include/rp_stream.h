// SPDX-License-Identifier: GPL-3.0-or-later
// The live source behind `radioplay play`: a render thread synthesizes the
// utterances in chapter order, places them step by step (rp_placer), and
// mixes and masters ahead into a lock-free ring, exactly as `render` would
// for the same frames; the audio callback only copies frames out of the
// ring (rp_stream_pull). Playback starts as soon as the ring is full, long
// before the chapter is synthesized; when the ring is full the thread
// synthesizes further ahead, so the length becomes exact and seeks are
// quick. Seeks, pause and position go through atomics; nothing the
// callback touches blocks.
#ifndef RP_STREAM_H
#define RP_STREAM_H

#include "rp_render.h"

typedef struct rp_stream rp_stream;

typedef enum {
    RP_SEEK_FRAME,  // a frame of the timeline
    RP_SEEK_UTT,    // the start of utterance N (0-based)
    RP_SEEK_LINE,   // the first utterance at or after chapter line N
    RP_SEEK_EVENT   // row N (0-based) of `radioplay cues`
} rp_seek_kind;

typedef struct {
    double buffer_s;   // how far ahead to mix (ring size); <= 0: RP_PLAY_BUFFER_S
    rp_seek_kind from_kind;
    int64_t from;      // where to start (RP_SEEK_FRAME 0: the beginning)
    double started_s;  // CLOCK_MONOTONIC seconds to time the first audio from (0: now)
    int hold;          // start espeak-ng, then wait for rp_stream_go before synthesizing
    double gain_db;    // the loudness normalization gain (a render measures it)
} rp_stream_options;

// Borrows dr (loaded with rp_drama_load, not yet voiced), which must outlive
// the stream, starts this process's synthesis workers if need be
// (rp_drama_workers_start, before any thread of the stream's) and then the
// render thread.
rp_status rp_stream_new(rp_stream **s, rp_drama *dr, const rp_stream_options *o);

// Waits until the ring is full (or the chapter is all in it), or the
// render thread failed. RP_OK: ready to start the device.
rp_status rp_stream_wait_ready(rp_stream *s);

// The device callback (an rp_pull_fn): copies n frames out of the ring, or
// silence while paused, seeking or starved (counted as an underrun).
// Lock-free and allocation-free.
void rp_stream_pull(void *s, float *out, size_t n);

// Lets a held stream synthesize. The player holds it while PortAudio starts:
// both take tens of milliseconds, so they overlap, but PortAudio's start-up
// calls rand(), which breathy espeak-ng voices draw their noise from.
void rp_stream_go(rp_stream *s);

void rp_stream_seek(rp_stream *s, rp_seek_kind kind, int64_t where);
void rp_stream_pause(rp_stream *s, int paused);

typedef struct {
    int64_t pos;          // frame being played (timeline frames)
    int64_t total;        // length in frames (an estimate while !exact)
    int exact;
    long utt;             // utterance sounding at pos, or the last one before; -1 before any
    int speaking;         // pos is within utt's speech
    int paused, seeking;
    int ended;            // everything has been played
    int failed;           // the render thread stopped on an error
    uint64_t underruns;   // callbacks that found the ring short while playing
    uint64_t frames;      // frames played from the ring
    size_t n_events;      // rows of `radioplay cues` placed so far (all of them once exact)
    size_t voiced_at_start, n_utts;  // lines synthesized when playback could start, of all
    double first_audio_s; // seconds from started_s to the first frame played; < 0: none yet
    int rate_hz;
} rp_stream_info;

void rp_stream_info_get(rp_stream *s, rp_stream_info *i);

// Where utterance k starts, if it has been placed yet (-1 if not).
int64_t rp_stream_utt_start(rp_stream *s, size_t k);

// Stops the render thread and frees the stream. The render thread's
// status comes back, its diagnostics are appended to d.
rp_status rp_stream_free(rp_stream *s, rp_diags *d);

#endif
