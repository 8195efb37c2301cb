// SPDX-License-Identifier: GPL-3.0-or-later
// Mastering: a look-ahead peak limiter that keeps the mix under a ceiling
// without clipping. Loudness normalisation comes later (issue: mastering).
#ifndef RP_MASTER_H
#define RP_MASTER_H

#include "rp_common.h"

typedef struct rp_master rp_master;

rp_master *rp_master_new(int channels, int rate_hz, double ceiling_db);
void rp_master_free(rp_master *m);
// Processes n interleaved frames in place. The output is delayed by
// rp_master_latency() frames: feed that many frames of silence at the end and
// drop that many at the start. RT-safe.
void rp_master_process(rp_master *m, float *io, size_t n);
int64_t rp_master_latency(const rp_master *m);

#endif
