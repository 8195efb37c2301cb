// SPDX-License-Identifier: GPL-3.0-or-later
// Layout: from the attributed, cast script to a timeline. First rp_layout_build
// splits the script into utterances (one sentence of one voice each) with the
// pause owed before each, and anchors every cue to the code point it stands
// at. After synthesis has given every utterance its clip, rp_layout_place
// turns that into events at absolute frames. Positions are int64_t frames at
// the output rate.
#ifndef RP_LAYOUT_H
#define RP_LAYOUT_H

#include "rp_cast.h"
#include "rp_room.h"
#include "rp_script.h"
#include "rp_sfx.h"
#include "rp_speech.h"

typedef struct {
    char *text;             // what is spoken (UTF-8)
    const rp_voice *voice;  // borrowed from the cast
    rp_voice_fx fx;         // the effect it is heard with: its quote's effect= or voice->fx
    const char *speaker;    // "Narrator" or the character's label (borrowed)
    int narration;          // spoken by the narrator (the narration bus)
    int line, col;          // where the text starts in the chapter
    size_t block;           // index of its block in the script
    rp_clip clip;           // filled by synthesis
} rp_utterance;

typedef enum { RP_CUE_SFX, RP_CUE_BED, RP_CUE_STOP, RP_CUE_PAUSE, RP_CUE_ROOM } rp_cue_kind;

typedef struct {
    rp_cue_kind kind;
    const rp_sfx_preset *preset;  // sfx and bed (borrowed from the library)
    const char *name;             // preset, bed or room name (borrowed from the script)
    // Where it fires: char_pos >= 0: on the word at that code point of the
    // next utterance in the plan; char_pos < 0: where the plan has got to.
    int32_t char_pos;
    double gain_db, pan, delay_s, fade_s, seconds;
    int has_pan;
    uint64_t seed;
    int opens_scene;  // a bed before the first words of a scene: it fades in over the break
    int room;         // RP_CUE_ROOM: 1 + its index in plan.rooms; 0: a dry room
    int line, col;
} rp_cue;

typedef enum { RP_ITEM_UTT, RP_ITEM_CUE, RP_ITEM_GAP } rp_item_kind;

// The plan in chapter order: utterances, cues and gaps (seconds of silence).
typedef struct {
    rp_item_kind kind;
    size_t index;    // into utts or cues
    double seconds;  // gaps
} rp_item;

typedef struct {
    rp_utterance *utts;
    size_t n_utts, cap_utts;
    rp_cue *cues;
    size_t n_cues, cap_cues;
    rp_item *items;
    size_t n_items, cap_items;
    // The rooms with a reverb that the chapter's {room} cues ask for, each
    // once (the same name with other settings is another room).
    rp_room_preset *rooms;
    size_t n_rooms, cap_rooms;
} rp_plan;

// Builds the plan. Unknown effects and rooms, bad cue parameters and stop
// without bed are located errors (RP_ERR_INPUT). Rooms come from
// lib->rooms. A {room} applies to everything after it in the chapter, scene
// breaks included, until the next {room}. The plan borrows from s, c and lib,
// which must outlive it.
rp_status rp_layout_build(const rp_script *s, const rp_cast *c, const rp_sfx_library *lib,
                          rp_plan *out, rp_diags *d);
void rp_plan_deinit(rp_plan *p);

// Paragraphs (blocks: a heading counts as one) in utterances, for moving
// about: the first utterance of utterance k's paragraph, and of the one
// after it (k < 0: the first paragraph; n_utts when there is none).
size_t rp_plan_paragraph_start(const rp_plan *p, size_t k);
size_t rp_plan_next_paragraph(const rp_plan *p, long k);

// A room event marks where a {room} cue takes effect (its end: where the next
// one does, or the end); it sounds nothing itself.
typedef enum { RP_EV_SPEECH, RP_EV_SFX, RP_EV_BED, RP_EV_PAUSE, RP_EV_ROOM } rp_event_kind;

typedef struct {
    rp_event_kind kind;
    int64_t start, end;           // frames; end exclusive (beds: end of fade-out)
    size_t utt;                   // speech: index into plan.utts
    const rp_sfx_preset *preset;  // sfx and bed
    const char *name;             // preset name, or speaker for speech
    uint64_t seed;
    float gain, pan;              // linear gain, pan -1..1
    int64_t fade_in, fade_out;    // frames (beds)
    // The room it sounds in (the one in effect where it stands in the
    // chapter): 1 + its index in plan.rooms, 0 for none (dry); and the
    // linear level it is sent to that room's reverb at (0: kept dry).
    int room;
    float send;
    int line, col;
    uint32_t order;               // placed so many events after the first
} rp_event;

typedef struct {
    rp_event *ev;       // sorted by start, then by order in the chapter
    size_t n;
    int64_t n_frames;   // total length including the tail (INT64_MAX until known)
    int rate_hz;
} rp_timeline;

// Places every utterance and cue on the timeline. Every utterance must have
// its clip.
rp_status rp_layout_place(const rp_plan *p, const rp_render_config *r, rp_timeline *out);

// The same placement, step by step, for playback that starts before every
// clip is synthesized. rp_placer_advance places the plan's items in order
// up to the first utterance whose index is >= ready (ready = n_utts places
// them all and completes the timeline). Events land in out sorted and
// final, as rp_layout_place would place them; only frames before
// rp_placer_horizon() are final (INT64_MAX once done), so mix no further
// than that.
typedef struct rp_placer rp_placer;
rp_placer *rp_placer_new(const rp_plan *p, const rp_render_config *r, rp_timeline *out);
rp_status rp_placer_advance(rp_placer *pl, size_t ready);
int64_t rp_placer_horizon(const rp_placer *pl);
int rp_placer_done(const rp_placer *pl);
void rp_placer_free(rp_placer *pl);
void rp_timeline_deinit(rp_timeline *t);
// Whether two events are the same, field by field (their padding is
// nothing: a copy need not keep it).
int rp_event_same(const rp_event *a, const rp_event *b);

// The cue sheet as TSV: "start\tend\tkind\twho\ttext", seconds with three
// decimals. A room row names the room and, in its text, the settings in
// effect (or "dry").
void rp_timeline_write_tsv(const rp_timeline *t, const rp_plan *p, rp_strbuf *out);

#endif
