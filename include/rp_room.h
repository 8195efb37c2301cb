// SPDX-License-Identifier: GPL-3.0-or-later
// Rooms: the space the story's sounds are heard in (a street, a hall, a
// basement, a tunnel, open ground, or none). A room is data, a small text
// preset (sfx/rooms/NAME.room, format in src/room.c and at the top of each
// file) parsed from memory with located diagnostics; a stereo reverb built
// from it runs block by block without allocating.
//
// How the mixer uses a room: one send bus per room in use. Every event that
// starts after a {room NAME} cue sends its stereo signal to that room's bus
// (at unity: the preset's early and wet levels are built into the reverb);
// each bus runs through its rp_reverb_process once per block, and the wet
// output is added to the dry mix. When the room changes, the old bus stops
// receiving new events but keeps being processed until
// rp_reverb_tail_frames() frames after the last sound it was sent, so its
// tail rings out under the new room; a room used again reuses its reverb.
// A dry room (rp_room_is_dry) needs no bus at all.
#ifndef RP_ROOM_H
#define RP_ROOM_H

#include "rp_common.h"
#include "rp_config.h"

#define RP_ROOM_MAX_REFLECTIONS 24
#define RP_ROOM_MAX_DESCRIPTION_BYTES 300

typedef enum {
    RP_ROOM_DIFFUSE,  // reflections from every side, denser with time (rooms, halls)
    RP_ROOM_PARALLEL, // flutter between two parallel walls (streets, tunnels)
    RP_ROOM_SPARSE,   // a few far, discrete reflections (open ground)
    RP_ROOM_PATTERN_COUNT
} rp_room_pattern;

extern const char *const rp_room_pattern_names[RP_ROOM_PATTERN_COUNT];

// A parsed room. Levels are energy ratios to the dry sound in dB (for the
// frequencies below hf_reference); -INFINITY means off.
typedef struct {
    char name[RP_MAX_NAME_BYTES + 1];
    char description[RP_ROOM_MAX_DESCRIPTION_BYTES + 1];
    double rt60_s;          // late decay time, 60 dB, below hf_reference
    double hf_ratio;        // decay time above hf_reference_hz / rt60_s
    double hf_reference_hz; // where the high-frequency damping takes over
    double predelay_s;      // direct sound to the first reflection
    double size_m;          // distance to the surfaces
    rp_room_pattern pattern;
    int reflections;  // early reflections, 0..RP_ROOM_MAX_REFLECTIONS
    double early_db;  // the early reflections together
    double wet_db;    // the late reverb
    double width;     // 0 (mono) .. 1 (full)
    double lowcut_hz; // highpass on the reverb's input; 0 = none
} rp_room_preset;

// The values a key not given in a preset takes (no name, rt60 1 s).
rp_room_preset rp_room_preset_default(void);

// Parses one room preset from text[0..len). name is the room's name (file
// stem), file names it in diagnostics. Unknown keys, bad numbers or units,
// values out of range, keys given twice, an empty preset and a missing rt60
// are errors located at file:line:col (line 0: the whole file); on any,
// returns RP_ERR_INPUT and *out holds the defaults. RP_ERR_LIMIT for text
// over RP_MAX_PRESET_BYTES or a name over RP_MAX_NAME_BYTES.
rp_status rp_room_parse(const char *name, const char *file, const char *text, size_t len,
                        rp_room_preset *out, rp_diags *d);

// Applies one "key = value" to a parsed room (for settings on a cue, e.g.
// {room hall wet=-12}). Errors are reported at file:line:col; on error the
// room is unchanged and RP_ERR_INPUT is returned.
rp_status rp_room_override(rp_room_preset *p, const char *key, const char *value, const char *file,
                           int line, int col, rp_diags *d);

// 1 when the room adds nothing (early and wet both off).
int rp_room_is_dry(const rp_room_preset *p);

// The room as preset text that rp_room_parse reads back to the same values.
void rp_room_write(const rp_room_preset *p, rp_strbuf *out);

// Preset sources by name, e.g. generated from sfx/rooms/*.room.
typedef struct {
    const char *name; // file stem
    const char *text;
    size_t len;
} rp_room_source;

// The source named name in table[0..n) (names compare exactly); when names
// repeat, the last one wins, so user rooms listed after the built-in ones
// replace them. NULL when there is none.
const rp_room_source *rp_room_source_find(const rp_room_source *table, size_t n, const char *name);

// Finds name in table[0..n) and parses it (diagnostics name the preset
// "sfx/rooms/NAME.room"). An unknown name is an error at file:line:col (the
// cue that asked for it) with a did-you-mean hint; RP_ERR_INPUT.
rp_status rp_room_load(const rp_room_source *table, size_t n, const char *name, rp_room_preset *out,
                       const char *file, int line, int col, rp_diags *d);

// A room's reverb: early reflections from a tapped delay line, then a
// feedback delay network (8 lines, Hadamard feedback, per-line absorption
// shelves set from rt60 and hf_ratio). Deterministic; state is bounded by
// the preset (at most about 2.5 MB at 192 kHz).
typedef struct rp_reverb rp_reverb;

// Allocates everything the reverb will need. rate_hz in RP_MIN_RATE_HZ..
// RP_MAX_RATE_HZ and the preset's values in the parser's ranges (both
// clamped). NULL on allocation failure.
rp_reverb *rp_reverb_new(const rp_room_preset *p, int rate_hz);
void rp_reverb_free(rp_reverb *r);
// Clears every delay and filter state: silence, as after rp_reverb_new.
void rp_reverb_reset(rp_reverb *r);

// Reads n_frames of interleaved stereo from in and writes the room's wet
// sound (early reflections and late reverb, at the preset's levels) as
// interleaved stereo to out, overwriting it; the caller adds it to the dry
// mix. in and out may be the same buffer. A mono source is sent as the same
// signal on both channels. Once the input has been silent for longer than
// the tail, the reverb skips its work and writes silence. RT-safe: no
// allocation, locks or I/O.
void rp_reverb_process(rp_reverb *r, const float *in, float *out, size_t n_frames);

// Frames after the last non-silent input until the output has decayed by at
// least 60 dB (pre-delay, reflections and the slowest band's decay); 0 for
// a dry room.
int64_t rp_reverb_tail_frames(const rp_reverb *r);

#endif
