// SPDX-License-Identifier: GPL-3.0-or-later
// Look-ahead peak limiter over 64-frame chunks. A chunk is collected, then
// limited while the next one is collected, so the output lags the input by
// two chunks (rp_master_latency). The gain for
// each chunk is the smallest gain needed by it and the chunk after it, and
// the gain moves linearly across a chunk from the previous chunk's value.
// Because both ends of that ramp are at most what the current chunk needs,
// no sample passes the ceiling (sample peak; true-peak limiting comes with
// mastering). Release is a linear rise capped per chunk.
#include "rp_master.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rp_config.h"

enum { CHUNK = 64 };

struct rp_master {
    int channels;
    float ceiling;
    float gain;          // gain reached at the end of the last chunk
    float release_step;  // largest gain rise per chunk
    float need_prev;     // gain needed by the delayed chunk
    float delay[CHUNK * 2];  // the delayed chunk (interleaved)
    float in[CHUNK * 2];     // the chunk being collected
    float out[CHUNK * 2];    // the limited chunk being emitted
    size_t fill;             // frames collected in `in` (and emitted from `out`)
};

rp_master *rp_master_new(int channels, int rate_hz, double ceiling_db)
{
    if (channels < 1 || channels > 2)
        return NULL;
    rp_master *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->channels = channels;
    m->ceiling = (float)rp_db_to_gain(ceiling_db);
    m->gain = 1.0f;
    m->need_prev = 1.0f;
    m->release_step = (float)CHUNK / (float)(RP_LIMITER_RELEASE_S * rate_hz);
    return m;
}

void rp_master_free(rp_master *m)
{
    free(m);
}

int64_t rp_master_latency(const rp_master *m)
{
    (void)m;
    return 2 * CHUNK;
}

static float chunk_need(const rp_master *m, const float *x)
{
    float peak = 0.0f;
    for (size_t i = 0; i < (size_t)CHUNK * (size_t)m->channels; i++) {
        float a = fabsf(x[i]);
        if (a > peak)
            peak = a;
    }
    return peak > m->ceiling ? m->ceiling / peak : 1.0f;
}

// The collected chunk is complete: limit the delayed one into out, using
// the collected one as look-ahead.
static void step(rp_master *m, float *out)
{
    float need_next = chunk_need(m, m->in);
    float target = m->need_prev < need_next ? m->need_prev : need_next;
    if (target > m->gain + m->release_step)
        target = m->gain + m->release_step;
    int ch = m->channels;
    float g0 = m->gain, dg = (target - g0) / CHUNK;
    for (int i = 0; i < CHUNK; i++) {
        float g = g0 + dg * (float)(i + 1);
        for (int c = 0; c < ch; c++) {
            float y = m->delay[i * ch + c] * g;
            // Rounding in the ramp can leave a hair over the ceiling.
            out[i * ch + c] = y > m->ceiling ? m->ceiling : y < -m->ceiling ? -m->ceiling : y;
        }
    }
    m->gain = target;
    m->need_prev = need_next;
    memcpy(m->delay, m->in, sizeof(float) * CHUNK * (size_t)ch);
}

void rp_master_process(rp_master *m, float *io, size_t n)
{
    int ch = m->channels;
    for (size_t i = 0; i < n; i++) {
        for (int c = 0; c < ch; c++) {
            float x = io[i * (size_t)ch + (size_t)c];
            io[i * (size_t)ch + (size_t)c] = m->out[m->fill * (size_t)ch + (size_t)c];
            m->in[m->fill * (size_t)ch + (size_t)c] = x;
        }
        if (++m->fill == CHUNK) {
            step(m, m->out);
            m->fill = 0;
        }
    }
}
