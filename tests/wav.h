// SPDX-License-Identifier: GPL-3.0-or-later
// Test helpers: read audio files back (libsndfile, in tests/wav.c only),
// measure them (RMS in windows, energy in a band), and run the radioplay
// binary capturing its output and exit code.
#ifndef RP_TEST_WAV_H
#define RP_TEST_WAV_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    float *x;  // interleaved
    int64_t frames;
    int rate, channels;
    int format;  // libsndfile major format
} wav;

int wav_read(const char *path, wav *w);  // 0 on success
void wav_free(wav *w);
// RMS of channel ch (-1: all channels) over [t0, t1) seconds.
double wav_rms(const wav *w, int ch, double t0, double t1);
// RMS after a 2nd-order band-pass (RBJ) centred at f_hz with quality q.
double wav_band_rms(const wav *w, int ch, double t0, double t1, double lo_hz, double hi_hz);
// out = a - b sample by sample (same shape required); returns 0 on success.
int wav_diff(const wav *a, const wav *b, wav *out);
// First frame at or after t0 whose |sample| exceeds thresh, or -1.
int64_t wav_onset(const wav *w, double t0, double thresh);

// Runs a shell command; returns its exit status (or -1) and its combined
// stdout/stderr in *out (caller frees).
int run(const char *cmd, char **out);
// The start, in seconds, of a row of `radioplay cues CHAPTER`: row `row`
// (1 = the first after the header) when text is NULL, else the first row
// whose text contains it. -1 when there is none.
double cues_start_s(const char *chapter, int row, const char *text);
// A saved state damaged: each 32-bit word of its first `words` bytes set in
// turn to a large value, to -1 and to 0 (where it was not that already),
// handed to try. try loads the bytes into a fresh object and, when that
// takes them, runs it on some sound (AddressSanitizer's build reports any
// read or write outside its buffers); it returns nonzero when it refused
// them. How many were refused; *tried (when not NULL) how many were tried.
int damaged_refused(const char *bytes, size_t len, size_t words,
                    int (*try)(const char *bytes, size_t len, void *ctx), void *ctx, int *tried);
// Path of build/radioplay, from RP_BUILD (default "build").
const char *radioplay_bin(void);
// A fresh temporary directory for one test program, under $TMPDIR (or
// /tmp); TEST_SUMMARY removes it (see test.h).
const char *test_tmpdir(void);
// Removes a file, or a folder and all it holds (symbolic links are
// removed, never followed).
void test_remove(const char *path);
int file_exists(const char *path);
// Whether files a and b hold the same bytes (cmp).
int same_file(const char *a, const char *b);
char *read_text(const char *path);
// test_tmpdir()/name, in one of 8 slots (a slot's string lives until the
// slot is used again).
const char *tmp(int slot, const char *name);
void write_text(const char *path, const char *text);
// Runs build/radioplay with args (see run).
int rp(const char *args, char **out);
// Files in dir whose names hold part; and removing those in test_tmpdir()
// (temporaries: ".NAME.radioplay-XXXXXX", what a killed write leaves).
int count_files(const char *dir, const char *part);
void remove_files(const char *part);
// Files written from now on are limited to limit bytes, with SIGXFSZ
// ignored, so a write past it fails with EFBIG as one on a full disk does;
// file_limit_end puts back what was before.
void file_limit_begin(long long limit);
void file_limit_end(void);

// Rows of `radioplay cues` output.
typedef struct {
    double start, end;
    long long start_ms, end_ms;  // as printed: whole milliseconds
    char kind[16], who[64], text[512];
} cue;
// Parses TSV from `radioplay cues` into cues[0..max); -1 without its header.
int read_cues(const char *tsv, cue *cues, int max);
// Renders chapter to a float WAV at path, as play and the stream must
// reproduce it exactly, and reads it into *w; 0 on success. The render
// remembers its loudness gain for play in a cache of this test's own
// (XDG_CACHE_HOME is set for the rest of the test).
int render_reference(const char *chapter, const char *path, wav *w);
// Runs `radioplay cues ARGS` and parses it; -1 when it fails.
int cues_of(const char *args, cue *cues, int max);
// The share of the energy of w's mono sum in [t0, t1) between lo_hz and
// hi_hz: a Hann-windowed DFT over 2048-frame windows (slow; for short lines).
double wav_band_share(const wav *w, double t0, double t1, double lo_hz, double hi_hz);

#endif
