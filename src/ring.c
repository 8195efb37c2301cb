// SPDX-License-Identifier: GPL-3.0-or-later
// The SPSC ring. The indices count frames from the start and only grow; a
// frame's slot is its index masked by the capacity, a power of two, so the
// fill level is write - read even after the counters wrap. Each index sits
// on its own cache line so the two threads do not share one.
#include "rp_ring.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct rp_ring {
    alignas(64) atomic_size_t write;  // frames written (producer)
    alignas(64) atomic_size_t read;   // frames read (consumer)
    alignas(64) size_t mask;          // capacity - 1, in frames
    int channels;
    float *data;
};

rp_ring *rp_ring_new(size_t frames, int channels)
{
    if (channels < 1 || frames == 0 || frames > ((size_t)1 << 30))
        return NULL;
    size_t cap = 1;
    while (cap < frames)
        cap <<= 1;
    rp_ring *r = aligned_alloc(64, sizeof *r);
    if (!r)
        return NULL;
    memset(r, 0, sizeof *r);
    r->data = calloc(cap * (size_t)channels, sizeof *r->data);
    if (!r->data) {
        free(r);
        return NULL;
    }
    atomic_init(&r->write, 0);
    atomic_init(&r->read, 0);
    r->mask = cap - 1;
    r->channels = channels;
    return r;
}

void rp_ring_free(rp_ring *r)
{
    if (!r)
        return;
    free(r->data);
    free(r);
}

size_t rp_ring_capacity(const rp_ring *r)
{
    return r->mask + 1;
}

size_t rp_ring_writable(const rp_ring *r)
{
    size_t w = atomic_load_explicit(&r->write, memory_order_relaxed);
    size_t rd = atomic_load_explicit(&r->read, memory_order_acquire);
    return r->mask + 1 - (w - rd);
}

size_t rp_ring_readable(const rp_ring *r)
{
    size_t w = atomic_load_explicit(&r->write, memory_order_acquire);
    size_t rd = atomic_load_explicit(&r->read, memory_order_relaxed);
    return w - rd;
}

// Copies n frames between the ring at frame index `at` and buf, in the
// direction asked, in at most two pieces around the end.
static void copy(rp_ring *r, size_t at, float *buf, size_t n, int into_ring)
{
    size_t ch = (size_t)r->channels, cap = r->mask + 1, slot = at & r->mask;
    size_t first = n < cap - slot ? n : cap - slot;
    float *a = r->data + slot * ch;
    if (into_ring) {
        memcpy(a, buf, first * ch * sizeof *buf);
        memcpy(r->data, buf + first * ch, (n - first) * ch * sizeof *buf);
    } else {
        memcpy(buf, a, first * ch * sizeof *buf);
        memcpy(buf + first * ch, r->data, (n - first) * ch * sizeof *buf);
    }
}

size_t rp_ring_write(rp_ring *r, const float *in, size_t n)
{
    size_t w = atomic_load_explicit(&r->write, memory_order_relaxed);
    size_t rd = atomic_load_explicit(&r->read, memory_order_acquire);
    size_t room = r->mask + 1 - (w - rd);
    if (n > room)
        n = room;
    copy(r, w, (float *)in, n, 1);
    atomic_store_explicit(&r->write, w + n, memory_order_release);
    return n;
}

size_t rp_ring_read(rp_ring *r, float *out, size_t n)
{
    size_t rd = atomic_load_explicit(&r->read, memory_order_relaxed);
    size_t w = atomic_load_explicit(&r->write, memory_order_acquire);
    if (n > w - rd)
        n = w - rd;
    copy(r, rd, out, n, 0);
    atomic_store_explicit(&r->read, rd + n, memory_order_release);
    return n;
}

size_t rp_ring_drain(rp_ring *r)
{
    size_t rd = atomic_load_explicit(&r->read, memory_order_relaxed);
    size_t w = atomic_load_explicit(&r->write, memory_order_acquire);
    atomic_store_explicit(&r->read, w, memory_order_release);
    return w - rd;
}
