// SPDX-License-Identifier: GPL-3.0-or-later
// Sample-rate conversion of mono clips (libsoxr at high quality; resample.c
// is the only file that includes soxr.h, and says why soxr).
#ifndef RP_RESAMPLE_H
#define RP_RESAMPLE_H

#include "rp_common.h"

// Converts n_in mono frames at in_hz to out_hz into a new buffer *out of
// *n_out frames (caller frees): the whole clip, end of input included, so
// *n_out is n_in * out_hz / in_hz rounded. Equal rates copy. The same input
// always gives bit-identical output.
rp_status rp_resample_mono(const float *in, int64_t n_in, int in_hz, int out_hz, float **out,
                           int64_t *n_out);

// The converter, its version and engine, e.g. "libsoxr-0.1.3 hq cr32s":
// part of every cached clip's key, so a different converter makes new clips.
const char *rp_resample_name(void);

#endif

