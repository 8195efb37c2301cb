// SPDX-License-Identifier: GPL-3.0-or-later
// Checkpoints: a re-render mixes only what changed.
//
// A render that writes a 16-bit WAV keeps, in the clip cache, a point every
// RP_CKPT_FRAMES frames of the mix: the state of everything that carries
// sound from one block to the next (the mixer with its effects and rooms,
// the limiter, both meters' filters, the dither), a hash of the timeline's
// events that reach the stretch up to the next point (their times, levels,
// presets, and the clips' cache keys), and what the meters summed over that
// stretch. The next render of the chapter to the same file (one pass, as
// after a tweak, with the same gain) starts from a copy of that file and,
// at each point, compares: where its own state is the last render's to the
// byte and the stretch's events are the same, the stretch would come out
// the same, so it takes the last render's sums for it and goes on from the
// last render's state at the next stretch that differs. Everything else is
// mixed as a full render mixes it, in the same blocks, so the file is the
// same bytes as a render from scratch. A state that differs (a tweaked
// line's echo still ringing) is simply mixed on until it is the same again.
//
// The record is used only when it fits: the same program (a hash of its
// own executable, as the states are its structures), rate and channels,
// and the file as the last render left it (device, inode, size,
// modification and change times). The timeline's length may be another's:
// a line that changed length moved every line after it, and the stretches
// before it are still the last render's (each render's last stretch hashes
// the length, so it is never taken from a render of another length). The
// patched file gets a header of its own (rp_sink_open_patch).
// render.c calls these from its passes; the points are written by one
// thread at a time (the mixer's side and the output's side of a point by
// their own threads, and the measuring pass's points by the taker's).
#ifndef RP_CHECKPOINT_H
#define RP_CHECKPOINT_H

#include "rp_master.h"
#include "rp_mix.h"
#include "rp_render.h"
#include "rp_sink.h"

// Mixer frames between two points: about 11 s at 48 kHz, a whole number of
// render.c's handoff slots.
#define RP_CKPT_FRAMES ((int64_t)RP_BLOCK_FRAMES * 512)

typedef struct {
    uint64_t input;   // the events reaching the stretch from here to the next point
    int64_t at;       // output frames written here
    rp_strbuf mix;    // mixer and limiter, here
    rp_strbuf pre;    // the mix's meter
    rp_strbuf out;    // the output's meter
    rp_strbuf file;   // the dither, the frames still to drop and written
    rp_strbuf pre_d, out_d;  // what each meter summed from here to the next point
} rp_ckpt_point;

typedef struct {
    size_t n;             // stretches; points 0..n, n being the end
    rp_ckpt_point *pt;    // this render's (cap of them)
    size_t cap;
    rp_ckpt_point *old;   // the last render's, when this pass may use them...
    size_t n_old;         // ...and its stretches (points 0..n_old)
    // What the pass works on (NULL: not in it).
    rp_master *ms;
    rp_meter *pre, *out;
    rp_sink *sink;
    int64_t *skip, *at;   // the limiter's latency still to drop; output frames written
    int pre_on_taker;     // the measuring pass meters on the taker's thread
    int finished;         // the pass ended at a point: the rest is the last render's
    int64_t mixed;        // frames this pass mixed (or replayed)
    // The mixer's state at each point as the measuring pass mixed it, for
    // the passes that replay its mix instead of mixing (render.c's spool).
    rp_strbuf *mixes;
    size_t n_mixes;
    int no_recall;        // set: the last render's points are not used (rp_ckpt_recall)
    int refused;          // a state of the last render's would not load (rp_ckpt_skip)
    int other_gain;       // the record fit but for the limiter's gain (rp_ckpt_recall)
} rp_ckpt;

// Point k, made if need be.
rp_ckpt_point *rp_ckpt_point_at(rp_ckpt *ck, size_t k);
// Records point k: rp_ckpt_mixed on the mixer's thread once it has mixed
// (and limited) up to it, rp_ckpt_taken on the taker's once that has
// taken up to it (rp_ckpt_mixed does both at 0); rp_ckpt_end the end,
// once the pass is over. Each meter's sums since the last point are folded
// into the point before. A pass that replays the measuring pass's mix
// passes mx NULL: the mixer's state is the one the measuring pass kept.
rp_status rp_ckpt_mixed(rp_ckpt *ck, rp_mixer *mx, long k);
// Whether the measuring pass kept the mixer's state at every point.
int rp_ckpt_replayable(const rp_ckpt *ck);
void rp_ckpt_taken(rp_ckpt *ck, long k);
void rp_ckpt_end(rp_ckpt *ck);
// At point k, everything before it taken: when the state is the last
// render's and so is the stretch, the last render's sums stand for every
// stretch up to the next that differs, and mx, the limiter, the meters and
// the sink go on from the last render's state there. *finished: there is
// none; the file is complete and the pass is over. A state that will not
// load (its loader refuses it) sets ck->refused and fails the pass: the
// objects are then half the last render's, and the render starts again
// without the record (ck->no_recall).
rp_status rp_ckpt_skip(rp_ckpt *ck, rp_mixer *mx, long k, int *finished, rp_diags *d);
// Each stretch's events (ck->n set, the timeline placed, the clips keyed).
void rp_ckpt_inputs(rp_ckpt *ck, const rp_drama *dr);
// The stretches whose events are the last render's (rp_ckpt_inputs against
// ck->old); 0 without a record.
size_t rp_ckpt_unchanged(const rp_ckpt *ck);
// The last render's record into ck->old, if it fits (0), after
// rp_ckpt_forget. With ck->ms set (a master pass, its gain set), it fits
// only when the limiter starts as the last render's did: another gain
// changes every sample, and the record is set aside (ck->other_gain), its
// file not copied only to be written over. rp_ckpt_save writes this
// render's, once the file is in place.
int rp_ckpt_recall(rp_ckpt *ck, const rp_drama *dr, const char *out_path);
// Whether a record of the last render may fit this one, from its head
// alone (the program, rate, channels and file; before the timeline is
// placed): the render then copies the file ahead (rp_sink_copy_ahead).
int rp_ckpt_may_fit(const rp_drama *dr, const char *out_path);
void rp_ckpt_forget(rp_ckpt *ck);
void rp_ckpt_save(const rp_ckpt *ck, const rp_drama *dr, const char *out_path);
void rp_ckpt_deinit(rp_ckpt *ck);

#endif
