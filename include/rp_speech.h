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
} rp_clip;

void rp_clip_deinit(rp_clip *c);

typedef struct rp_speech rp_speech;

// Initializes espeak-ng (once per process). Missing voice data is an error
// with a diagnostic, never a process exit.
rp_status rp_speech_new(rp_speech **out, rp_diags *d);
void rp_speech_free(rp_speech *s);

// Checks that the voice and variant exist (espeak-ng silently ignores an
// unknown variant and turns a failed voice switch into near-silence).
rp_status rp_speech_check_voice(rp_speech *s, const rp_voice *v, char *why, size_t cap);

// espeak-ng's output rate (22050 Hz); clips come at this rate.
int rp_speech_rate_hz(const rp_speech *s);

// Synthesizes text with voice v into *out at rp_speech_rate_hz (caller frees
// with rp_clip_deinit).
rp_status rp_speech_say(rp_speech *s, const rp_voice *v, const char *text, rp_clip *out);

// espeak-ng's version string, e.g. "1.51".
const char *rp_speech_version(void);

// One line per installed voice ("language  gender  name  file") and one per
// variant into out.
rp_status rp_speech_list_voices(rp_speech *s, rp_strbuf *out);

#endif
