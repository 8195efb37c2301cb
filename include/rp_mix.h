// SPDX-License-Identifier: GPL-3.0-or-later
// The block mixer: sums the timeline's events (speech clips, effects, beds)
// block by block into interleaved float frames, with per-event gain and pan,
// bed fades, ducking of beds under speech and clearance of all effects under
// a voice. Memory does not grow with the
// chapter: only the events sounding in the current block hold state.
#ifndef RP_MIX_H
#define RP_MIX_H

#include "rp_layout.h"

typedef struct rp_mixer rp_mixer;

// Borrows t and p, which must outlive the mixer. channels is 1 or 2.
rp_mixer *rp_mixer_new(const rp_timeline *t, const rp_plan *p, const rp_render_config *r,
                       int channels, rp_status *st);
void rp_mixer_free(rp_mixer *m);

// Writes up to max_frames interleaved frames into out; returns how many
// (0 at the end of the timeline). Allocates only when an effect starts or
// the timeline has grown. The timeline may grow between calls (events
// appended in order, as rp_placer_advance does). The frames do not depend
// on how the calls split them, as long as every call but the last asks for
// a multiple of RP_MIX_SLICE frames (ducking and clearance move per slice).
enum { RP_MIX_SLICE = 64 };
size_t rp_mixer_process(rp_mixer *m, float *out, size_t max_frames);

// The buses of the mix. Speech by the narrator is narration, by anyone else
// dialogue.
enum {
    RP_BUS_DIALOGUE = 1,
    RP_BUS_NARRATION = 2,
    RP_BUS_EFFECTS = 4,
    RP_BUS_BEDS = 8,
    RP_BUS_ALL = 15
};

// Limits the output to the buses in the mask (RP_BUS_*; default all). The
// ducking and clearance are computed from the whole mix all the same, so
// the buses rendered one by one add up to the full mix.
void rp_mixer_set_buses(rp_mixer *m, unsigned buses);

// How far past a block the mixer looks at the timeline (the lead of ducking
// and clearance), in frames: a timeline still being placed must be final
// that far beyond what is mixed.
int64_t rp_mixer_lookahead(const rp_mixer *m);

// Frames produced so far.
int64_t rp_mixer_position(const rp_mixer *m);

// Constant-power pan law (sin/cos, -3 dB at centre): gains for pan in -1..1.
void rp_pan_gains(float pan, float *gl, float *gr);

#endif
