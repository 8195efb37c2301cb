// SPDX-License-Identifier: GPL-3.0-or-later
// A lock-free single-producer single-consumer ring of interleaved float
// frames, between the render thread (producer) and the audio callback
// (consumer). Neither side blocks, allocates or locks: the producer owns the
// write index, the consumer the read index, and each publishes its own with
// a release store that the other reads with an acquire load. Debian's
// PortAudio does not ship its ring helpers, so this one is ours.
#ifndef RP_RING_H
#define RP_RING_H

#include <stddef.h>

typedef struct rp_ring rp_ring;

// A ring holding at least `frames` frames (rounded up to a power of two)
// of `channels` floats each. NULL when out of memory.
rp_ring *rp_ring_new(size_t frames, int channels);
void rp_ring_free(rp_ring *r);
size_t rp_ring_capacity(const rp_ring *r);

// Producer side.
size_t rp_ring_writable(const rp_ring *r);
// Copies up to n frames in; returns how many fitted.
size_t rp_ring_write(rp_ring *r, const float *in, size_t n);

// Consumer side.
size_t rp_ring_readable(const rp_ring *r);
// Copies up to n frames out; returns how many there were.
size_t rp_ring_read(rp_ring *r, float *out, size_t n);
// Drops everything written so far; returns how many frames that was.
size_t rp_ring_drain(rp_ring *r);

#endif
