// SPDX-License-Identifier: GPL-3.0-or-later
// Voice effects: where a voice is heard from (a comms channel, a robot's
// speaker, a megaphone or a public-address horn, a whisper, the far end of a
// street, the inside of a helmet). Applied to a speech clip once, after
// resampling, before mixing; deterministic from the seed.
//
// Some effects sound beyond the speech: a radio keys up with a click and a
// burst of squelch before the voice and releases with a squelch tail and a
// click after it; a PA's slap-back echo, a distant voice's street echo and
// the short reflections of a helmet ring on after the last word. Those
// sounds are written into the first pre_frames and the last post_frames of
// the buffer (rp_voicefx_padding), so a caller who wants them clear of the
// speech grows the clip first:
//
//     int64_t shift;
//     if (rp_voicefx_pad(fx, rate_hz, &clip.pcm, &clip.n_frames, &shift))
//         return RP_ERR_NOMEM;
//     for (size_t w = 0; w < clip.n_words; w++)
//         clip.words[w].frame += shift;   // the speech now starts shift frames in
//     rp_voicefx_apply(fx, clip.pcm, clip.n_frames, rate_hz, seed);
//
// The clip is then longer by pre + post frames; to keep the first word where
// the timeline had it, start the clip shift frames earlier. A caller that does
// not pad still gets every effect, with the squelch over the clip's own first
// and last frames and tails cut at the clip's end.
#ifndef RP_VOICEFX_H
#define RP_VOICEFX_H

#include "rp_cast.h"

// Frames the effect writes before the speech (*pre_frames: a radio's key-up
// click and squelch burst) and after it (*post_frames: the release squelch
// and click, echo and reflection tails) at rate_hz. 0 and 0 for none,
// whisper and any effect without sound of its own.
void rp_voicefx_padding(rp_voice_fx fx, int rate_hz, int64_t *pre_frames, int64_t *post_frames);

// Grows a heap clip (from malloc; it may move) by the effect's padding:
// pre_frames of silence before the samples and post_frames after them.
// *shift_frames is set to pre_frames, the distance the speech moved. On
// RP_ERR_NOMEM or RP_ERR_LIMIT (the clip would exceed INT64 or SIZE_MAX
// bytes) the clip is left as it was and *shift_frames is 0.
rp_status rp_voicefx_pad(rp_voice_fx fx, int rate_hz, float **pcm, int64_t *n_frames,
                         int64_t *shift_frames);

// Processes pcm[0..n_frames) in place at rate_hz (the whole buffer, padding
// included). seed drives the noise of the radio's hiss and squelch and the
// whisper's breath; the same inputs give the same samples. Effects keep the
// clip's RMS level, except whisper and distant, which are meant to sound
// quieter. RP_VFX_NONE and an empty clip are left untouched; a silent clip
// stays silent. Does not allocate.
void rp_voicefx_apply(rp_voice_fx fx, float *pcm, int64_t n_frames, int rate_hz, uint64_t seed);

#endif
