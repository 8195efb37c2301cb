// SPDX-License-Identifier: GPL-3.0-or-later
// Speech synthesis: espeak-ng's C library into memory, with word events, one
// utterance at a time (the caller resamples to the output rate). speech.c is the only
// file that includes espeak-ng's headers. espeak-ng keeps global state and is
// not thread-safe: one rp_speech per process, initialized once.
#ifndef RP_SPEECH_H
#define RP_SPEECH_H

#include "rp_cast.h"
#include "rp_common.h"

// Where a word starts in a clip.
typedef struct {
    int32_t char_pos;   // 0-based code-point offset of the word in the text
    int64_t frame;      // frame in the clip (after trimming)
} rp_word_mark;

// A synthesized utterance: mono float, silence trimmed.
typedef struct {
    float *pcm;
    int64_t n_frames;
    int rate_hz;
    rp_word_mark *words;
    size_t n_words;
    int64_t voiced_frames;  // frames one hears: in 10 ms windows above RP_VOICED_DBFS
} rp_clip;

void rp_clip_deinit(rp_clip *c);

typedef struct rp_speech rp_speech;

// Initializes espeak-ng (once per process). Missing voice data is an error
// with a diagnostic, never a process exit.
rp_status rp_speech_new(rp_speech **out, rp_diags *d);
void rp_speech_free(rp_speech *s);
// Releases espeak-ng (its helper thread and tables) at the end of a
// process, for leak checkers. No rp_speech may be created after it.
void rp_speech_terminate(void);

// Checks that the voice and variant exist (espeak-ng silently ignores an
// unknown variant and turns a failed voice switch into near-silence).
rp_status rp_speech_check_voice(rp_speech *s, const rp_voice *v, char *why, size_t cap);

// The voice file espeak-ng loads for v->voice ("en-gb" -> "gmw/en"), found
// once and remembered: a worker given the file skips the search through
// every voice espeak-ng has. 0, or -1 when there is none.
int rp_speech_voice_file(const rp_voice *v, char *file, size_t cap);
// Takes file as a voice file rp_speech_voice_file gave (in another
// process): saying with it loads it once, untried. Loading a voice is most
// of a short line's cost.
void rp_speech_voice_file_known(const char *file);
// Loads v's voice and variant (not its rate, pitch, range or volume),
// which saying with it then does not load again: what a worker readies
// once for every line of one voice. espeak-ng is left as loading it when
// the first line was said would leave it.
rp_status rp_speech_load_voice(rp_speech *s, const rp_voice *v);

// espeak-ng's output rate (22050 Hz); clips come at this rate.
int rp_speech_rate_hz(const rp_speech *s);

// Synthesizes text with voice v into *out at rp_speech_rate_hz (caller frees
// with rp_clip_deinit). The respellings set with rp_speech_set_respellings
// are applied first; word marks still point into text as given.
rp_status rp_speech_say(rp_speech *s, const rp_voice *v, const char *text, rp_clip *out);
// The same, the samples left as espeak-ng made them: out->pcm is NULL, and
// *pcm16 holds out->n_frames 16-bit samples, s's own until its next call
// (each is the float rp_speech_say gives times 1 / RP_SPEECH_S16_SCALE).
#define RP_SPEECH_S16_SCALE (1.0f / 32768.0f)
rp_status rp_speech_say_s16(rp_speech *s, const rp_voice *v, const char *text, rp_clip *out,
                            const int16_t **pcm16);

// The cast sheet's [say] entries, applied by every later rp_speech_say.
// Borrowed: list must outlive their use (n = 0 turns respelling off).
void rp_speech_set_respellings(rp_speech *s, const rp_respelling *list, size_t n);

// espeak-ng's phonemes for text as voice v would speak it (respellings
// applied): its mnemonics, the ones [[ ]] accepts, or with ipa set the IPA.
rp_status rp_speech_phonemes(rp_speech *s, const rp_voice *v, const char *text, int ipa,
                             rp_strbuf *out);

// Text with [say] respellings applied, and the way back: code point k of
// text came from code point orig[k] of the original (every code point of a
// respelling maps to the start of the word it replaces).
typedef struct {
    char *text;
    int32_t *orig;
    size_t n;           // code points in text
    int32_t n_orig;     // code points in the original
    int has_phonemes;   // a respelling put [[ ]] phonemes into text
} rp_respelled;

// Pure text work, no espeak-ng: every word that rp_respelling_find matches
// is replaced by its respelling, whole words only; a possessive ("Ksena's")
// keeps its 's (inside the brackets, as a phoneme, after [[ ]]); in a
// hyphenated word each part is looked up when the whole is not.
rp_status rp_respell(const rp_respelling *list, size_t n, const char *text, rp_respelled *out);
void rp_respelled_deinit(rp_respelled *r);

// espeak-ng's version string, e.g. "1.51".
const char *rp_speech_version(void);

// One line per installed voice ("language  gender  name  file") and one per
// variant into out.
rp_status rp_speech_list_voices(rp_speech *s, rp_strbuf *out);

#endif
