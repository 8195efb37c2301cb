// SPDX-License-Identifier: GPL-3.0-or-later
// Mastering: a loudness meter (ITU-R BS.1770 / EBU R128 integrated loudness,
// with libebur128 for the loudness range and true peak, plus the RMS, peak
// and noise-floor figures of the ACX audiobook rules) and
// a look-ahead true-peak limiter that applies the normalization gain and
// keeps the mix under a ceiling. master.c is the only file that includes
// ebur128.h.
#ifndef RP_MASTER_H
#define RP_MASTER_H

#include "rp_common.h"

// ---- the limiter ---------------------------------------------------------------

typedef struct rp_master rp_master;

// ceiling_db is a true-peak ceiling (dBTP): peaks between samples count,
// found by 4x oversampling as BS.1770 measures them.
rp_master *rp_master_new(int channels, int rate_hz, double ceiling_db);
void rp_master_free(rp_master *m);
// The normalization gain, applied before limiting (0 dB until set).
void rp_master_set_gain(rp_master *m, double gain_db);
// Processes n interleaved frames in place. The output is delayed by
// rp_master_latency() frames: feed that many frames of silence at the end and
// drop that many at the start. RT-safe.
void rp_master_process(rp_master *m, float *io, size_t n);
int64_t rp_master_latency(const rp_master *m);
// Its state as bytes, and back into a limiter of the same channels, rate
// and ceiling (as rp_mixer_save and rp_mixer_load).
void rp_master_save(const rp_master *m, rp_strbuf *out);
rp_status rp_master_load(rp_master *m, rp_unpacker *in);
// Records, for each 64-frame chunk of a mix of frames frames (the frames
// it is fed, its latency dropped), whether the chunk came out as it went in
// times the gain: the limiter's own gain 1 all through it. For the meter
// after it (rp_meter_follow); not part of the saved state.
rp_status rp_master_track(rp_master *m, int64_t frames);

// ---- the meter -----------------------------------------------------------------

typedef struct {
    double integrated_lufs;   // -HUGE_VAL when everything is gated out (silence)
    double range_lu;          // loudness range (LRA)
    double true_peak_dbtp;    // -HUGE_VAL for silence
    double sample_peak_dbfs;
    double rms_db;            // mean power of all channels; a full-scale sine is -3 dB
    double floor_db;          // RMS of the quietest 500 ms (the noise floor)
    int64_t frames;
} rp_loudness;

typedef struct rp_meter rp_meter;

// What a meter measures besides the integrated loudness, RMS, sample peak
// and floor (rp_meter_new's flags, or'ed; 0 for those alone).
enum {
    // The loudness range and the true peak too, through libebur128 (which
    // costs several times the rest); without it those two are NAN.
    RP_METER_PEAKS = 1,
    // For tests: the integrated loudness from libebur128, keeping every
    // block (memory grows with the length), the figure the meter's own is
    // checked against.
    RP_METER_REFERENCE = 2,
    // For tests: the K-weighting without fused multiply-adds, as on a
    // processor that has none (rp_meter_fused).
    RP_METER_UNFUSED = 4,
};

// 1 when the meters of this process K-weight with fused multiply-adds (the
// processor has them), else 0. The two ways differ in the last bits of a
// measurement, so the choice is made once per process, and a render's
// checkpoints are kept for it (checkpoint.c).
int rp_meter_fused(void);

// Bounded memory whatever the length (unless RP_METER_REFERENCE). The
// integrated loudness is BS.1770-4's, measured in master.c.
rp_meter *rp_meter_new(int channels, int rate_hz, int flags);
void rp_meter_free(rp_meter *m);
rp_status rp_meter_add(rp_meter *m, const float *frames, size_t n);
void rp_meter_result(const rp_meter *m, rp_loudness *out);

// Checkpoints (see rp_checkpoint.h). A meter keeps what it sums (the gated
// blocks, the RMS, the peak and the floor) apart from its filters' state.
// rp_meter_fold adds the sums since the last fold to the rest, appending
// them to delta (NULL: not kept); rp_meter_unfold adds a delta a fold
// wrote, for a stretch that is not measured again. A result is the same to
// the bit whether a stretch was measured or its delta unfolded, as long as
// the folds fall at the same places. rp_meter_save appends the filters'
// state and counts without the sums, and rp_meter_load puts them back into
// a meter of the same channels, rate and flags (not RP_METER_PEAKS or
// RP_METER_REFERENCE: libebur128's state is not saved).
void rp_meter_fold(rp_meter *m, rp_strbuf *delta);
rp_status rp_meter_unfold(rp_meter *m, rp_unpacker *delta);
void rp_meter_save(const rp_meter *m, rp_strbuf *out);
rp_status rp_meter_load(rp_meter *m, rp_unpacker *in);

// A meter after the limiter following the mix's meter (see master.c): the
// mix's meter keeps each 100 ms step's figures (rp_meter_keep), and the
// meter of the limiter's output takes a step's figures from them, times
// the gain, where the limiter's record (rp_master_track) shows it left the
// step alone, instead of measuring it. The figures are a measured meter's
// to float rounding (a millionth of a dB). The two meters may run on two
// threads when the output meter's frames come after the mix meter's and
// after the limiter's (render.c's handoff), and steps has room for the
// whole mix first (rp_meter_steps_room; it grows as it is kept, otherwise,
// by one thread). every (0: none): the checkpoints' spacing
// in mix frames, where the output meter's state must be saved (at every -
// the limiter's latency). Not for RP_METER_PEAKS or RP_METER_REFERENCE,
// nor at a rate where the floor's blocks are a frame off the steps (one
// whose last digit is 5 to 9): such meters measure every step.
typedef struct rp_meter_steps rp_meter_steps;
rp_meter_steps *rp_meter_steps_new(int rate_hz);
rp_status rp_meter_steps_room(rp_meter_steps *s, int64_t frames);
void rp_meter_steps_free(rp_meter_steps *s);
void rp_meter_keep(rp_meter *m, rp_meter_steps *s);
rp_status rp_meter_follow(rp_meter *m, const rp_meter_steps *s, const rp_master *ms,
                          int64_t every, int64_t total);
// Steps taken; *steps (may be NULL): of the steps it ended following.
size_t rp_meter_taken(const rp_meter *m, size_t *steps);

// ---- targets and compliance ----------------------------------------------------

typedef enum {
    RP_NORM_LUFS,  // integrated loudness to a target (podcasts: -16 LUFS stereo)
    RP_NORM_ACX,   // ACX audiobooks: RMS -23..-18 dB, peak <= -3 dB, floor <= -60 dB
    RP_NORM_OFF,   // no normalization; the limiter still holds the ceiling
} rp_norm;

typedef struct {
    rp_norm norm;
    double target_lufs;   // RP_NORM_LUFS
    double ceiling_dbtp;  // the limiter's ceiling
} rp_master_target;

// The default integrated loudness target for a channel count.
double rp_master_default_lufs(int channels);

// The gain (dB) that brings a mix measured as *l to the target; 0 for
// silence and RP_NORM_OFF.
double rp_master_gain_db(const rp_master_target *t, const rp_loudness *l);
// gain_db to the nearest whole step of RP_GAIN_STEP_DB. A render applies
// the rounded gain: a re-render after a tweak that moved the loudness by
// less than a step's fraction gives the same gain, to the bit, and needs no
// measuring pass of its own (rp_drama_render). At most half a step off.
double rp_master_gain_round(double gain_db);

// One compliance line: what, the measured value, the rule, pass or fail.
typedef struct {
    const char *what;
    double value;
    const char *unit;
    char rule[48];   // empty: shown for information, no rule applies
    int pass;        // 1 pass, 0 fail, -1 no rule
} rp_loudness_check;

enum { RP_LOUDNESS_CHECKS_MAX = 8 };

// The checks that apply to *l under t; returns how many were written.
size_t rp_loudness_checks(const rp_master_target *t, const rp_loudness *l,
                          rp_loudness_check out[RP_LOUDNESS_CHECKS_MAX]);

#endif
