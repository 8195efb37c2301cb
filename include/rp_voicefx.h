// SPDX-License-Identifier: GPL-3.0-or-later
// Voice effects: where a voice is heard from (a comms channel, a robot's
// speaker, a megaphone, a whisper, the far end of a street). Applied to a
// speech clip once, after resampling, before mixing; deterministic.
#ifndef RP_VOICEFX_H
#define RP_VOICEFX_H

#include "rp_cast.h"

// Processes pcm[0..n) in place at rate_hz. seed drives the noise of radio
// hiss and squelch. RP_VFX_NONE leaves the clip untouched.
void rp_voicefx_apply(rp_voice_fx fx, float *pcm, int64_t n, int rate_hz, uint64_t seed);

#endif
