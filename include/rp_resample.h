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

// One converter from in_hz to out_hz, its filter designed once: each run
// starts from the same state and gives what rp_resample_mono gives. A
// synthesis worker's parent makes one, so the jobs forked from it do not
// design the filter again.
typedef struct rp_resampler rp_resampler;
rp_status rp_resampler_new(rp_resampler **out, int in_hz, int out_hz);
void rp_resampler_free(rp_resampler *r);
int rp_resampler_converts(const rp_resampler *r, int in_hz, int out_hz);
rp_status rp_resampler_run(rp_resampler *r, const float *in, int64_t n_in, float **out,
                           int64_t *n_out);
// The same run, its output handed to take a piece at a time as it comes
// (the same frames in the same order), never whole: for a caller that
// writes it straight out. An error take returns ends the run with it.
typedef rp_status (*rp_resample_take)(void *ctx, const float *out, size_t n);
rp_status rp_resampler_each(rp_resampler *r, const float *in, int64_t n_in, rp_resample_take take,
                            void *ctx);
// The same run from 16-bit samples, each taken as the float in[i] * scale
// (rp_s16_to_float's): widened a piece at a time as the run reaches it,
// so the clip is never whole as floats either. The same floats give the
// same output to the bit.
rp_status rp_resampler_each_s16(rp_resampler *r, const int16_t *in, int64_t n_in, float scale,
                                rp_resample_take take, void *ctx);

// The converter, its version and engine, e.g. "libsoxr-0.1.3 hq cr32s":
// part of every cached clip's key, so a different converter makes new clips.
const char *rp_resample_name(void);

#endif

