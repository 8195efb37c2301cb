// SPDX-License-Identifier: GPL-3.0-or-later
// The parsed chapter: blocks (headings, paragraphs, scene breaks) made of
// runs (narration, quotes, directives), every element located by line and
// column. Produced by rp_parse (parse.c), completed by rp_attribute
// (attribute.c), read by the cast and layout stages.
#ifndef RP_SCRIPT_H
#define RP_SCRIPT_H

#include "rp_common.h"

typedef enum { RP_BLOCK_HEADING, RP_BLOCK_PARAGRAPH, RP_BLOCK_SCENE_BREAK } rp_block_kind;

typedef enum {
    RP_RUN_NARRATION, // prose read by the narrator
    RP_RUN_QUOTE,     // dialogue, spoken by run.speaker
    RP_RUN_DIRECTIVE  // {sfx ...}, {bed ...}, {stop ...}, {pause ...}, {room ...}, {# ...}
} rp_run_kind;

typedef enum {
    RP_DIR_SFX,     // {sfx NAME key=value ...}: one-shot effect at the next word
    RP_DIR_BED,     // {bed NAME fade=S gain=DB ...}: looping ambience from here
    RP_DIR_STOP,    // {stop NAME fade=S}: ends the bed NAME
    RP_DIR_PAUSE,   // {pause S}: silence of S seconds
    RP_DIR_COMMENT, // {# ...}: ignored
    RP_DIR_ROOM     // {room NAME key=value ...}: the space what follows is heard in
} rp_dir_kind;

typedef struct {
    char *key;    // "gain", "pan", "delay", "fade", ...
    char *value;  // raw text, validated by the consumer
    int line, col;
} rp_param;

typedef struct {
    rp_dir_kind kind;
    char *name;         // effect, bed or room name (NULL for pause and comment)
    double seconds;     // for pause
    rp_param *params;
    size_t n_params;
} rp_directive;

// Who decided a quote's speaker, most authoritative first.
typedef enum {
    RP_SPK_NONE = 0,     // not attributed yet
    RP_SPK_TAG,          // {Name}"..." or {Name effect=FX}"..."
    RP_SPK_SCREENPLAY,   // NAME: text
    RP_SPK_RULE,         // attribute.c decided; see run.rule
    RP_SPK_GUESS         // fallback; low confidence
} rp_spk_source;

typedef struct {
    rp_run_kind kind;
    int line, col;     // of the first character (the opening quote mark for quotes)
    // Text to speak: UTF-8, quote marks removed, whitespace runs folded to one
    // space, no leading or trailing space. NULL for directives.
    char *text;
    // Quotes only.
    char *speaker;     // NULL until attributed
    rp_spk_source spk_source;
    const char *rule;  // static string naming the rule that decided, or NULL
    double confidence; // 0..1
    // The voice effect of this one quote, from its tag's effect= setting
    // ({Kirk effect=radio}"..."): 1 + an rp_voice_fx (rp_cast.h), so that 1
    // is a dry quote; 0 (the default): the speaker's effect from the cast.
    int fx;
    // Directives only.
    rp_directive dir;
    int automatic;     // added by a sound rule (cue.c), not written in the chapter
    // Where a run made by cue.c comes from, for `annotate`: byte origin_at of
    // the text of run origin_run of the block as parsed. A piece of a split
    // text run starts there; an automatic cue goes before the word there, or
    // after the block's last line when origin_at is RP_AT_BLOCK_END. Parsed
    // runs have origin_run = their index and origin_at = 0.
    size_t origin_run, origin_at;
} rp_run;

#define RP_AT_BLOCK_END ((size_t)-1)

typedef struct {
    rp_block_kind kind;
    int line, col;
    // Headings hold one narration run (the title); scene breaks hold none
    // (or only directives that followed the break on its line).
    rp_run *runs;
    size_t n_runs;
} rp_block;

typedef enum { RP_GENDER_UNKNOWN, RP_GENDER_MALE, RP_GENDER_FEMALE } rp_gender;

// A speaker found by rp_attribute (or named by a tag or screenplay line).
typedef struct {
    char *name;        // canonical label, as used in run.speaker
    rp_gender gender;
    size_t n_quotes;
} rp_character;

typedef struct {
    char *name;        // the file name given to rp_parse, for diagnostics
    rp_block *blocks;
    size_t n_blocks;
    rp_character *chars;  // filled by rp_attribute, in order of first quote
    size_t n_chars;
} rp_script;

// Parses a chapter from memory. name is used in diagnostics only. Returns
// RP_OK, or RP_ERR_INPUT when at least one error diagnostic was added (the
// parser goes on after an error to report several per run; *out then holds
// what could be parsed and must still be freed), or RP_ERR_NOMEM/RP_ERR_LIMIT.
rp_status rp_parse(const char *name, const char *bytes, size_t len, rp_script *out,
                   rp_diags *d);
void rp_script_deinit(rp_script *s);

// Fills the speaker of every quote run that has none (see attribute.c for the
// rules). Explicit tags and screenplay lines are never changed. Every quote
// ends with a non-NULL speaker: unattributed ones get a character label,
// never the narrator. Attribution only guesses worse on odd prose; the one
// error is a chapter of more than RP_MAX_SPEAKERS speakers (RP_ERR_INPUT,
// located at the first quote of one more).
rp_status rp_attribute(rp_script *s, rp_diags *d);

// 1 when name can be a speaker's name in a tag ({Name}"..."): at most
// RP_MAX_NAME_BYTES of letters, digits, spaces and . ' ’ - _, so that a cast
// sheet's [voice Name] reads it back. Attribution makes no other names.
int rp_speaker_name_ok(const char *name);

// Bytes of text[0..n) before its first letter or digit, as the parser
// counts them (n when there is none). Narration before a directive that
// has none is a scrap the parser never makes a run of its own: it adds it
// to the narration before, or drops it.
size_t rp_scrap_len(const char *text, size_t n);

// The names of known directives, for did-you-mean in the parser and docs.
extern const char *const rp_directive_names[];
extern const size_t rp_n_directive_names;

#endif
