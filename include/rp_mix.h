// SPDX-License-Identifier: GPL-3.0-or-later
// The block mixer: sums the timeline's events (speech clips, effects, beds)
// block by block into interleaved float frames, with per-event gain and pan,
// bed fades, ducking of beds under speech, clearance of all effects under
// a voice, and the reverb of the rooms the events sound in. Memory does not
// grow with the chapter: only the events sounding in the current block, and
// the rooms still ringing, hold state.
#ifndef RP_MIX_H
#define RP_MIX_H

#include "rp_layout.h"

typedef struct rp_mixer rp_mixer;

// Borrows t and p, which must outlive the mixer. channels is 1 or 2.
rp_mixer *rp_mixer_new(const rp_timeline *t, const rp_plan *p, const rp_render_config *r,
                       int channels, rp_status *st);
void rp_mixer_free(rp_mixer *m);

// Writes up to max_frames interleaved frames into out; returns how many
// (0 at the end of the timeline). Allocates only when an effect starts, a
// sound starts in a room whose reverb is not running, or the timeline has
// grown. The timeline may grow between calls (events
// appended in order, as rp_placer_advance does). The frames do not depend
// on how the calls split them, as long as every call but the last asks for
// a multiple of RP_MIX_SLICE frames (ducking and clearance move per slice).
enum { RP_MIX_SLICE = 64 };
size_t rp_mixer_process(rp_mixer *m, float *out, size_t max_frames);

// The stems of the mix: speech by the narrator is narration, by anyone else
// dialogue; one-shot effects; beds. Each carries its sounds as they are in
// the mix (after ducking and clearance) with their echo in the rooms they
// were sent to, so the four add up to the mix.
typedef enum {
    RP_STEM_DIALOGUE,
    RP_STEM_NARRATION,
    RP_STEM_EFFECTS,
    RP_STEM_BEDS,
    RP_STEM_COUNT
} rp_stem;

extern const char *const rp_stem_names[RP_STEM_COUNT]; // "dialogue", "narration", ...

// The mix into mix (as rp_mixer_process) and, when stems is not NULL, each
// stem into stems[k] (max_frames interleaved frames of the mixer's channels
// each; stems[k] NULL skips that one). The stems add up to the mix within
// float rounding (1e-6 of full scale). A room's echo is split by a reverb
// per stem for dialogue, narration and effects, and beds get what is left
// of the room's own reverb, so the mix is the same sample for sample
// whether stems are asked for or not; ask for them from the first block
// (a stem's reverb starts when stems are first asked for). Without stems it
// costs nothing more than rp_mixer_process. RT-safe as rp_mixer_process.
size_t rp_mixer_process_stems(rp_mixer *m, float *mix, float *stems[RP_STEM_COUNT],
                              size_t max_frames);

// The same stems as a mask of buses (1 << rp_stem).
enum {
    RP_BUS_DIALOGUE = 1 << RP_STEM_DIALOGUE,
    RP_BUS_NARRATION = 1 << RP_STEM_NARRATION,
    RP_BUS_EFFECTS = 1 << RP_STEM_EFFECTS,
    RP_BUS_BEDS = 1 << RP_STEM_BEDS,
    RP_BUS_ALL = 15
};

// Limits the output to the buses in the mask (RP_BUS_*; default all), and
// the rooms to what those buses send them. The ducking and clearance are
// computed from the whole mix all the same, so the buses rendered one by
// one add up to the full mix (a room's reverb fed one bus at a time adds up
// to the one fed them all, within float rounding).
void rp_mixer_set_buses(rp_mixer *m, unsigned buses);

// How far past a block the mixer looks at the timeline (the lead of ducking
// and clearance), in frames: a timeline still being placed must be final
// that far beyond what is mixed.
int64_t rp_mixer_lookahead(const rp_mixer *m);

// The mixer's state as bytes (a render's checkpoint, see rp_checkpoint.h), and
// back into a mixer made by rp_mixer_new over the same timeline, plan and
// settings, which then goes on as the saved one would have, to the bit.
// Two mixers in the same state save the same bytes. Not with stems
// (RP_ERR_USAGE): their reverbs are not saved.
rp_status rp_mixer_save(const rp_mixer *m, rp_strbuf *out);
rp_status rp_mixer_load(rp_mixer *m, rp_unpacker *in);

// Frames produced so far.
int64_t rp_mixer_position(const rp_mixer *m);

// Constant-power pan law (sin/cos, -3 dB at centre): gains for pan in -1..1.
void rp_pan_gains(float pan, float *gl, float *gr);

#endif
