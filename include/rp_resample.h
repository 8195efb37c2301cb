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

// The converter and its version, e.g. "libsamplerate 0.2.2 sinc-fastest":
// part of every cached clip's key, so a different converter makes new clips.
const char *rp_resample_name(void);

#endif

// A pool that resamples clips on a helper thread while the caller goes on
// synthesizing, then shares the remaining work with the caller in
// rp_resample_pool_finish. Each job is independent, so results do not depend
// on which thread ran it.
typedef struct rp_resample_pool rp_resample_pool;

rp_resample_pool *rp_resample_pool_new(int in_hz, int out_hz, size_t max_jobs);
// Queues in[0..n_in) (the pool takes ownership of in); the result lands in
// *out and *n_out by the time rp_resample_pool_finish returns.
rp_status rp_resample_pool_submit(rp_resample_pool *p, float *in, int64_t n_in, float **out,
                                  int64_t *n_out);
// Waits for every job; returns the first failure. Frees the pool.
rp_status rp_resample_pool_finish(rp_resample_pool *p);
