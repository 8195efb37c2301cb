// SPDX-License-Identifier: GPL-3.0-or-later
// The whole pipeline wired together for one chapter: read, parse, attribute,
// cast, lay out, synthesize, mix, master, write. main.c (and later the live
// player) drive these stages; each stage's work lives in its own module.
#ifndef RP_RENDER_H
#define RP_RENDER_H

#include <signal.h>

#include "rp_cast.h"
#include "rp_layout.h"
#include "rp_script.h"
#include "rp_sfx.h"
#include "rp_speech.h"

typedef struct {
    const char *chapter_path;
    const char *cast_path;  // NULL: CHAPTER.cast beside the chapter, if present
    const char *sfx_dir;    // NULL: built-in presets only
    int rate_hz;            // 0: from the cast sheet
    int channels;           // 0: from the cast sheet
    long long seed;         // < 0: from the cast sheet
    int bits;               // 0: from the cast sheet
    // Mastering settings that replace the cast sheet's: RP_SET_LOUDNESS
    // takes master.norm and master.target_lufs, RP_SET_CEILING its ceiling.
    unsigned master_set;
    rp_master_target master;
    int jobs;               // synthesis workers at once; 0: one per processor
    int no_cache;           // 1: neither read nor write the clip cache
} rp_drama_options;

enum { RP_SET_LOUDNESS = 1, RP_SET_CEILING = 2 };

typedef struct {
    char *text;             // the chapter's bytes
    size_t len;
    char *cast_path;        // the sheet that was loaded, or NULL
    rp_script script;
    rp_cast cast;
    rp_sfx_library lib;
    rp_plan plan;
    rp_timeline timeline;
    rp_speech *speech;      // this process's espeak-ng, for checking voices only
    struct rp_voicing *voicing;  // clips: cache, keys, workers (voicing.c)
    int jobs, no_cache;     // from the options
    rp_loudness loudness;   // the last render's output, measured
    double gain_db;         // the normalization gain it applied
    int passes;             // passes it took over the mix (1 to 3)
    int guessed;            // 1: the first was the master pass, from a guessed gain
    int not_guessed;        // 1: a gain was remembered, but measuring first cost less
    int replayed;           // passes that read the measuring pass's mix back
    int voiced;             // 1: every clip is known and the timeline placed
    double voiced_s;        // rp_now_s() when the last clip came in
    int64_t mixed_alongside;  // frames the render mixed before that (rp_drama_render)
    int64_t mixed_again;    // frames the pass that wrote the file mixed (-1: no checkpoints)
    int other_gain;         // 1: that pass had the last render's checkpoints, not its gain
    int copied_ahead;       // 1: it took over the last render's file copied ahead
    int64_t meter_taken;    // steps of it whose figures the file's meter took from the mix's
    int64_t meter_steps;    // of the steps it ended (0: it did not follow the mix's)
    float *peaks;           // the waveform, when the render was asked for it
    size_t n_peaks;
} rp_drama;

// What rp_drama_render makes.
typedef struct {
    const char *audio;      // the file; NULL: measure only (`radioplay loudness CHAPTER`)
    const char *stems_dir;  // NULL, or DIR/dialogue.wav, narration, effects, beds (float WAV)
    int peaks;              // 1: the waveform into dr->peaks, for rp_svg_write
} rp_render_outputs;

// Called with a stage name ("speech", "mix") and progress within it.
typedef void (*rp_progress_fn)(void *user, const char *stage, int64_t done, int64_t total);

// Reads and parses everything up to the plan (no synthesis).
rp_status rp_drama_load(rp_drama *dr, const rp_drama_options *o, rp_diags *d);
// Parses and attributes only (for `quotes`).
rp_status rp_drama_load_script(rp_drama *dr, const rp_drama_options *o, rp_diags *d);
// Voicing (voicing.c). Every utterance's clip comes from the clip cache
// (rp_cache.h) or, on a miss, from a worker process (rp_worker.h) that
// speaks it from a freshly initialized espeak-ng, resamples it and stores
// it in the cache; so a clip is the same bytes whatever was spoken before,
// with any number of jobs, cold or warm. The drama keeps each clip's
// length and word marks (u->clip with pcm NULL); the samples are read back
// for the stretch being mixed (rp_drama_clips_window).
//
// rp_drama_voice voices every utterance and places the timeline. *stop
// (may be NULL), when it becomes non-zero, abandons the work with
// RP_ERR_INTERRUPTED.
rp_status rp_drama_voice(rp_drama *dr, volatile sig_atomic_t *stop, rp_progress_fn progress,
                         void *user, rp_diags *d);
// The same, for a render that mixes as lines come in (rp_drama_render):
// rp_drama_voice_start looks every utterance up and hands the misses to
// the workers, without waiting; rp_drama_voice_more waits until the first
// utterance not yet voiced is, and sets *ready to how many from the first
// are voiced now (n_utts: all of them). Place the timeline with an
// rp_placer.
rp_status rp_drama_voice_start(rp_drama *dr, rp_diags *d);
rp_status rp_drama_voice_more(rp_drama *dr, volatile sig_atomic_t *stop, size_t *ready,
                              rp_diags *d);
// The same, one utterance at a time, for the player: rp_drama_voice_begin
// starts the workers and checks the voices, then rp_drama_voice_one(i)
// gives utterance i its clip (the workers go on a few lines ahead). Place
// the timeline with an rp_placer.
rp_status rp_drama_voice_begin(rp_drama *dr, rp_diags *d);
rp_status rp_drama_voice_one(rp_drama *dr, size_t i, rp_diags *d);
// Loads the samples of the speech events that may sound in [from, to)
// (to: the end of the block to mix plus rp_mixer_lookahead) and frees
// those of events that ended before from. Call before each block mixed.
rp_status rp_drama_clips_window(rp_drama *dr, int64_t from, int64_t to, rp_diags *d);
// Loads every clip's samples (for whoever mixes a whole voiced chapter
// with rp_mixer directly).
rp_status rp_drama_clips_load_all(rp_drama *dr, rp_diags *d);
// The key of utterance i's samples as the mixer reads them: its clip's
// cache key (known once voicing has started), its voice effect and the
// effect's seed (applied after the cache).
void rp_drama_clip_key(const rp_drama *dr, size_t i, uint64_t out[2]);
// Clips the cache had, clips the workers made, the jobs they made them in
// (a job speaks a run of a speaker's lines), and the clips taken while
// their job still ran (each but a job's last), for this drama.
void rp_drama_voicing_counts(const rp_drama *dr, size_t *hits, size_t *misses, size_t *jobs,
                             size_t *noted);
void rp_drama_voicing_free(rp_drama *dr);
// Starts this process's synthesis workers (jobs <= 0: one per processor),
// once; rp_drama_voice_begin does if need be. A program with threads
// starts them first, while it has one thread (fork copies only the caller's).
rp_status rp_drama_workers_start(int jobs);
// The program the workers run (radioplay-worker, found beside this one),
// or NULL: forks of this process, or not started.
const char *rp_drama_worker_program(void);
// Stops them, at the process's end, without waiting for them
// (rp_workers_leave).
void rp_drama_workers_leave(void);
// Checks that espeak-ng has voice v; a located error if not.
rp_status rp_voice_check(rp_speech *sp, const char *cast_path, const rp_voice *v, rp_diags *d);
// Mixes, masters and writes the timeline to want->audio. Loudness
// normalization takes two passes over the mix (one to measure, one to write;
// a third when the limiter left the file more than 0.2 LU off target), so
// memory stays bounded; one when the gain the last render of the chapter
// measured holds (see rp_master_gain_round), with the same bytes.
// dr->loudness gets what was written. *stop, when it becomes non-zero (a
// signal), abandons the render and leaves no file behind. A drama not yet
// voiced (rp_drama_voice) is voiced here, its measuring pass mixing each
// block as soon as the lines under it are placed: the same blocks, so the
// same bytes, as voicing first.
rp_status rp_drama_render(rp_drama *dr, const rp_render_outputs *want, volatile sig_atomic_t *stop,
                          rp_progress_fn progress, void *user, rp_diags *d);
void rp_drama_deinit(rp_drama *dr);

// The mastering target in effect (ACX lowers the ceiling to its -3 dB).
rp_master_target rp_drama_master_target(const rp_drama *dr);

// What a render measured, remembered for `play`: the normalization gain
// depends on the whole mix, which play cannot wait for. The key hashes
// everything that shapes the mix (chapter, resolved cast sheet, effect
// presets, versions); the memo is a value in the clip cache.
// rp_drama_gain_recall returns 0 when found (*gain_db set), -1 if not.
uint64_t rp_drama_mix_key(const rp_drama *dr);
void rp_drama_gain_remember(const rp_drama *dr, double gain_db);
int rp_drama_gain_recall(const rp_drama *dr, double *gain_db);

// Loads the built-in presets and, when dir is given, every dir/*.sfx over
// them (a user preset replaces a built-in one of the same name).
rp_status rp_sfx_library_load(rp_sfx_library *lib, const char *dir, rp_diags *d);

// `radioplay say`: the cast sheet at cast_path (NULL: defaults only) with
// *voice set to the voice of speaker (NULL: the narrator), cast
// automatically as in a chapter when the sheet has no section for them.
// The caller deinits c whatever the result.
rp_status rp_say_load(rp_cast *c, const char *cast_path, const char *speaker,
                      const rp_voice **voice, rp_diags *d);
// Checks that espeak-ng has v and hands it the sheet's [say] respellings.
rp_status rp_say_prepare(rp_speech *sp, const rp_cast *c, const rp_voice *v, rp_diags *d);
// Speaks text with v (effect and gain applied) into out_path at
// espeak-ng's rate, mono, through the file sink.
rp_status rp_render_say(rp_speech *sp, const rp_voice *v, const char *text, const char *out_path,
                        uint64_t seed, rp_diags *d);

// Renders one preset alone to a file (`radioplay sfx NAME -o FILE`).
rp_status rp_render_sfx(const rp_sfx_preset *p, const char *out_path, int rate_hz,
                        uint64_t seed, double duration_s, rp_diags *d);

#endif
