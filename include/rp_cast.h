// SPDX-License-Identifier: GPL-3.0-or-later
// The cast sheet: render settings, the narrator, one voice per speaker,
// effect overrides and sound-word rules. Loaded from INI text with libinih
// (cast.c is the only file that includes ini.h), completed by automatic
// casting, and printed back in a form that loads unchanged.
#ifndef RP_CAST_H
#define RP_CAST_H

#include "rp_common.h"
#include "rp_master.h"
#include "rp_script.h"

typedef enum {
    RP_VFX_NONE,
    RP_VFX_RADIO,      // band-limited comms channel
    RP_VFX_ROBOT,      // ring-modulated
    RP_VFX_MEGAPHONE,  // narrow band, driven
    RP_VFX_WHISPER,    // breathy, quieter
    RP_VFX_DISTANT,    // darker, quieter
    RP_VFX_PA,         // public address: narrow, driven, slap-back echo
    RP_VFX_HELMET,     // a small closed space: short reflections, boxy
    RP_VFX_COUNT
} rp_voice_fx;

extern const char *const rp_voice_fx_names[RP_VFX_COUNT];

typedef struct {
    char *name;           // speaker label ("Narrator" for the narrator)
    char voice[64];       // espeak-ng voice name, e.g. "en-gb", "en-us"
    char variant[32];     // espeak-ng variant, e.g. "m3", "f2"; "" for none
    int rate_wpm;         // 80..450
    int pitch;            // 0..100 (espeak-ng base pitch)
    int range;            // 0..100 (espeak-ng pitch range)
    int volume;           // 0..200 (espeak-ng amplitude)
    double pan;           // -1 (left) .. +1 (right)
    double gain_db;       // -40..+12
    rp_voice_fx fx;
    int automatic;        // 1 when chosen by auto-casting, not by the sheet
    int line;             // where its section starts in the sheet (0: none)
} rp_voice;

// One [sfx NAME] override: "key = value" for preset NAME.
typedef struct {
    char *preset, *key, *value;
    int line, col;
} rp_sfx_setting;

// One [rules] line: sound phrase -> effect preset.
typedef struct {
    char *phrase, *preset;
    int line;
} rp_rule;

// One [say] line: how to pronounce a word wherever it is spoken. say is a
// respelling ("Kseh-nah"), espeak-ng phoneme mnemonics in [[ ]]
// ("[[T'al.k'A@n]]"), or a mix of both.
typedef struct {
    char *word, *say;
    int line;
} rp_respelling;

typedef struct {
    int rate_hz;          // output sample rate
    int channels;         // 1 or 2
    uint64_t seed;        // render seed for effects
    double pause_sentence_s, pause_paragraph_s, pause_speaker_s;
    double pause_heading_s, pause_scene_s, lead_in_s, tail_s;
    double speech_gain_db, sfx_gain_db, bed_gain_db, duck_db;
    double clearance_db;  // effects and beds stay this far below a voice speaking
    int announce_headings;  // read headings aloud
    rp_master_target master;  // loudness normalization and ceiling; target NAN: by channels
    int bits;                 // sample format of WAV and FLAC: 16, 24, 32 (float); 0: 16
} rp_render_config;

// The loudness target in effect: the sheet's, or -16 LUFS stereo, -19 mono.
double rp_render_loudness_target(const rp_render_config *r);

typedef struct {
    char *file;           // sheet file name for diagnostics (NULL: defaults only)
    rp_render_config render;
    rp_voice narrator;
    rp_voice *voices;
    size_t n_voices, cap_voices;
    rp_sfx_setting *sfx;
    size_t n_sfx, cap_sfx;
    rp_rule *rules;
    size_t n_rules, cap_rules;
    rp_respelling *say;
    size_t n_say, cap_say;
} rp_cast;

rp_render_config rp_render_config_default(void);

// Defaults only: narrator, render settings, no voices.
rp_status rp_cast_init(rp_cast *c);
void rp_cast_deinit(rp_cast *c);

// Loads an INI cast sheet from memory over the defaults. Every bad section,
// key or value gets a located diagnostic; returns RP_ERR_INPUT if any.
rp_status rp_cast_load(rp_cast *c, const char *file, const char *bytes, size_t len,
                       rp_diags *d);

// Gives every speaker in the script without a [voice] section a distinct,
// stable voice (the same name gets the same voice in every run and every
// chapter), fitting the inferred gender, distinct from the narrator and
// spread across the stereo field.
rp_status rp_cast_assign(rp_cast *c, const rp_script *s);

// The voice for a speaker (NULL or "Narrator": the narrator); NULL if none.
const rp_voice *rp_cast_voice(const rp_cast *c, const char *speaker);

// The whole resolved sheet as INI text that rp_cast_load reads back to the
// same cast.
void rp_cast_write(const rp_cast *c, rp_strbuf *out);

// "en-gb+m3" style name for espeak-ng.
void rp_voice_espeak_name(const rp_voice *v, char *buf, size_t cap);

// Words as [say] and `radioplay check` see them: letters and digits (any
// non-ASCII letter too), joined by inner apostrophes (' or U+2019) and
// hyphens, so "Thal'Karn", "Ksena's" and "rail-rounds" are one word each.
// Finds the next word of text[0..len) at or after *pos: its bytes are
// [*start, *end), and *pos moves to *end. Returns 0 when there is none.
int rp_word_next(const char *text, size_t len, size_t *pos, size_t *start, size_t *end);

// The [say] entry for the word w[0..len), or NULL. Letters compare in any
// case, except that a key written with a capital first letter matches only
// words that begin with a capital ("Rose" leaves the flower "rose" alone,
// "ksena" matches every Ksena); ' and U+2019 are the same letter.
const rp_respelling *rp_respelling_find(const rp_respelling *list, size_t n, const char *w,
                                        size_t len);
// Whether w[0..len) has key's letters, in any case (' and U+2019 the same):
// two [say] keys that do would claim the same words.
int rp_word_same_letters(const char *key, const char *w, size_t len);

#endif
