// SPDX-License-Identifier: GPL-3.0-or-later
// Clip resampling with libsoxr, the SoX Resampler library (R. Sykes), at
// SOXR_HQ: a linear-phase, 20-bit-precision FFT/polyphase converter whose
// pass band is flat to 91% of the input's Nyquist. Chosen on the figures
// of tests/bench_resample.c (make bench): speed in M input samples/s on
// 10 M samples of speech-like sound cut into 1-6 s clips, one call per clip
// as here; SNR of a log sweep 20 Hz-10 kHz against the ideal sweep at the
// output rate, over the sweep below 4 kHz, below 8 kHz and all of it; pass
// band ripple 50 Hz-8 kHz and the gain at 9 kHz ("1shot": a converter
// made per clip; "reuse": one reset between clips). x86-64, 2 cores.
//
//                     M in/s         sweep SNR, dB        dB pp     dB
//   22050 -> 48000   1shot  reuse    <4k    <8k   <10k   ripple  @9kHz
//   lsr SINC_BEST        0.7    0.7  149.0  147.4  146.3   0.0000   -0.00
//   lsr SINC_MEDIUM      2.9    2.9  134.1  127.9   41.1   0.0000   -0.00
//   lsr SINC_FASTEST     6.1    6.1  112.9   62.5   20.8   0.1530   -4.26
//   lsr LINEAR          56.3   56.4    9.6    5.3    4.4   3.9391   -5.05
//   soxr QQ            121.0  116.4   47.9   26.6   20.8   2.4597   -3.68
//   soxr LQ             68.9   66.1  115.2   70.7   21.3   0.0665   -3.49
//   soxr MQ            114.0  112.1  108.7   66.0   53.0   0.0408   -0.09
//   soxr HQ            104.3  102.5  132.2  115.8   84.1   0.0002   -0.00
//   soxr VHQ            69.2   68.3  150.8  115.9   86.2   0.0002   -0.00
//   22050 -> 44100
//   lsr SINC_BEST        1.1    1.1  151.6  150.3  148.8   0.0000   -0.00
//   lsr SINC_MEDIUM      3.2    3.3  133.6  128.0   41.1   0.0000   -0.00
//   lsr SINC_FASTEST     6.6    6.7  112.1   62.5   20.8   0.1528   -4.26
//   lsr LINEAR          66.1   66.2    9.5    5.1    4.1   2.9884   -3.85
//   soxr QQ            132.5  126.5   48.1   26.8   21.0   1.9916   -3.00
//   soxr LQ            264.6  265.3  128.2   72.6   21.3   0.0552   -3.45
//   soxr MQ            232.8  232.6  125.7  125.1  123.5   0.0000    0.00
//   soxr HQ            222.4  222.8  134.0  133.9  133.8   0.0000    0.00
//   soxr VHQ           146.8  148.2  152.1  152.1  152.1   0.0000   -0.00
//
// Rule: the fastest converter with a sweep SNR of at least 90 dB over
// espeak-ng's speech band (it has almost nothing above 8 kHz; 16-bit output
// is 96 dB), at every output rate. At 48 kHz only soxr HQ and VHQ and
// libsamplerate SINC_MEDIUM and SINC_BEST pass (soxr MQ passes at 44.1 kHz
// but not at 48); soxr HQ is the fastest of them by far, 17 times faster
// than the SINC_FASTEST used before, which fails: its pass band ends at 80%
// of Nyquist, so it droops 0.15 dB by 8 kHz and is 4 dB down at 9 kHz.
// soxr_oneshot designs its filter per call, and measured as fast as one
// converter reset between clips (soxr_clear) in one process; but a worker
// forked per clip would design it each time, in memory of its own, so the
// workers' parent makes a converter (rp_resampler) that each job uses
// once. Nothing is shared between threads. One thread (runtime spec) and
// the same engine every call: the same input gives bit-identical output.
#include "rp_resample.h"

#include <pthread.h>
#include <soxr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PIECE 8192       // input frames handed to soxr at once
#define OUT_PIECE 16384  // output frames taken from it at once

struct rp_resampler {
    soxr_t soxr;
    int in_hz, out_hz;
    int used;  // run before: cleared at the next run's start
};

rp_status rp_resampler_new(rp_resampler **out, int in_hz, int out_hz)
{
    *out = NULL;
    if (in_hz <= 0 || out_hz <= 0)
        return RP_ERR_RESAMPLE;
    rp_resampler *r = calloc(1, sizeof *r);
    if (!r)
        return RP_ERR_NOMEM;
    soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
    soxr_runtime_spec_t rt = soxr_runtime_spec(1);
    soxr_error_t err = NULL;
    r->soxr = in_hz == out_hz ? NULL : soxr_create(in_hz, out_hz, 1, &err, &io, &q, &rt);
    if (err) {
        free(r);
        return RP_ERR_RESAMPLE;
    }
    r->in_hz = in_hz;
    r->out_hz = out_hz;
    *out = r;
    return RP_OK;
}

void rp_resampler_free(rp_resampler *r)
{
    if (!r)
        return;
    if (r->soxr)
        soxr_delete(r->soxr);
    free(r);
}

int rp_resampler_converts(const rp_resampler *r, int in_hz, int out_hz)
{
    return r && r->in_hz == in_hz && r->out_hz == out_hz;
}

// The input from frame at, k frames of it, as floats: in's own, or in16's
// widened into buf.
static const float *input_at(const float *in, const int16_t *in16, float scale, size_t at,
                             size_t k, float *buf)
{
    if (in)
        return in + at;
    rp_s16_to_float(in16 + at, buf, k, scale);
    return buf;
}

// rp_resampler_each, from floats (in) or 16-bit samples (in16).
static rp_status each(rp_resampler *r, const float *in, const int16_t *in16, float scale,
                      int64_t n_in, rp_resample_take take, void *ctx)
{
    if (n_in < 0)
        return RP_ERR_RESAMPLE;
    rp_status st = RP_OK;
    float piece[OUT_PIECE];
    if (!r->soxr) {  // equal rates: the input as it is, in the same pieces
        for (size_t at = 0, n = (size_t)n_in; at < n && !st; at += OUT_PIECE) {
            size_t k = n - at < OUT_PIECE ? n - at : OUT_PIECE;
            st = take(ctx, input_at(in, in16, scale, at, k, piece), k);
        }
        return st;
    }
    float wide[PIECE];
    // In pieces, so soxr's own buffers stay small (given the whole clip it
    // would copy it all through them); ~k marks the last piece, and empty
    // calls then drain what the filter holds. The output comes a piece at a
    // time too, into the same small buffer: the clip is never whole here.
    // Cleared before a run, not after: a job forked from the zygote runs
    // its converter once, fresh, and ends (killed mid-clear, it would leave
    // soxr's memory half freed).
    if (r->used)
        soxr_clear(r->soxr);
    r->used = 1;
    soxr_error_t err = NULL;
    for (size_t at = 0, n = (size_t)n_in; at < n && !err && !st;) {
        size_t k = n - at < PIECE ? n - at : PIECE, took = 0, made = 0;
        err = soxr_process(r->soxr, input_at(in, in16, scale, at, k, wide), at + k == n ? ~k : k,
                           &took, piece, OUT_PIECE, &made);
        at += took;
        if (!err && !took && !made)
            err = "stalled";
        if (!err && made)
            st = take(ctx, piece, made);
    }
    for (size_t made = 1; n_in && !err && !st && made;) {
        made = 0;
        err = soxr_process(r->soxr, NULL, 0, NULL, piece, OUT_PIECE, &made);
        if (!err && made)
            st = take(ctx, piece, made);
    }
    return err ? RP_ERR_RESAMPLE : st;
}

rp_status rp_resampler_each(rp_resampler *r, const float *in, int64_t n_in, rp_resample_take take,
                            void *ctx)
{
    return each(r, in, NULL, 0.0f, n_in, take, ctx);
}

rp_status rp_resampler_each_s16(rp_resampler *r, const int16_t *in, int64_t n_in, float scale,
                                rp_resample_take take, void *ctx)
{
    return each(r, NULL, in, scale, n_in, take, ctx);
}

// rp_resampler_run's take: onto the end of a growing buffer.
typedef struct {
    float *buf;
    size_t n, cap;
} gather;

static rp_status gather_take(void *ctx, const float *out, size_t n)
{
    gather *g = ctx;
    if (rp_grow((void **)&g->buf, &g->cap, g->n + n, sizeof *g->buf))
        return RP_ERR_NOMEM;
    memcpy(g->buf + g->n, out, n * sizeof *out);
    g->n += n;
    return RP_OK;
}

rp_status rp_resampler_run(rp_resampler *r, const float *in, int64_t n_in, float **out,
                           int64_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    // soxr makes round(n_in * ratio) frames; the margin is for rounding.
    gather g = {.cap = (size_t)((double)(n_in > 0 ? n_in : 0) * r->out_hz / r->in_hz) + 64};
    g.buf = malloc(g.cap * sizeof *g.buf);
    rp_status st = g.buf ? rp_resampler_each(r, in, n_in, gather_take, &g) : RP_ERR_NOMEM;
    if (st) {
        free(g.buf);
        return st;
    }
    *out = g.buf;
    *n_out = (int64_t)g.n;
    return RP_OK;
}

rp_status rp_resample_mono(const float *in, int64_t n_in, int in_hz, int out_hz, float **out,
                           int64_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    rp_resampler *r;
    rp_status st = n_in < 0 ? RP_ERR_RESAMPLE : rp_resampler_new(&r, in_hz, out_hz);
    if (st)
        return st;
    st = rp_resampler_run(r, in, n_in, out, n_out);
    rp_resampler_free(r);
    return st;
}

static char name[128];

// The library's version, the quality and the engine soxr picked for this
// machine (e.g. "libsoxr-0.1.3 hq cr32s"): a different engine may round
// differently.
static void make_name(void)
{
    soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
    soxr_runtime_spec_t rt = soxr_runtime_spec(1);
    soxr_error_t err = NULL;
    soxr_t s = soxr_create(22050, 48000, 1, &err, NULL, &q, &rt);
    snprintf(name, sizeof name, "%s hq %s", soxr_version(), s ? soxr_engine(s) : "?");
    if (s)
        soxr_delete(s);
}

const char *rp_resample_name(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, make_name);
    return name;
}
