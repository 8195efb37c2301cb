// SPDX-License-Identifier: GPL-3.0-or-later
// Sample-rate conversion of mono clips (libsamplerate; resample.c is the only
// file that includes samplerate.h).
#ifndef RP_RESAMPLE_H
#define RP_RESAMPLE_H

#include "rp_common.h"

// Converts n_in mono frames at in_hz to out_hz into a new buffer *out of
// *n_out frames (caller frees). Equal rates copy.
rp_status rp_resample_mono(const float *in, int64_t n_in, int in_hz, int out_hz, float **out,
                           int64_t *n_out);

#endif
