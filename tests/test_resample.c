// SPDX-License-Identifier: GPL-3.0-or-later
// Tests for clip resampling: a 1 kHz sine from espeak-ng's 22050 Hz to the
// output rates keeps its length, frequency (zero crossings), level (RMS) and
// shape (SNR against the ideal sine); the output is bit-identical run after
// run; silence stays silent; equal rates copy; bad arguments fail.
#include <stdint.h>

#include "rp_resample.h"
#include "test.h"

#define IN_HZ 22050
#define TONE_HZ 1000.0
#define AMP 0.5

static float *sine(int64_t n, int rate_hz)
{
    float *x = malloc((size_t)n * sizeof *x);
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(AMP * sin(2.0 * M_PI * TONE_HZ * (double)i / rate_hz));
    return x;
}

// Frequency from the first and last upward zero crossings in [a, b),
// each placed between its two samples by linear interpolation.
static double crossing_hz(const float *y, int64_t a, int64_t b, int rate_hz)
{
    double first = -1.0, last = -1.0;
    int n = 0;
    for (int64_t i = a; i + 1 < b; i++)
        if (y[i] < 0.0f && y[i + 1] >= 0.0f) {
            double t = (double)i + y[i] / (double)(y[i] - y[i + 1]);
            if (first < 0.0)
                first = t;
            last = t;
            n++;
        }
    return n > 1 ? (n - 1) * rate_hz / (last - first) : 0.0;
}

// One tone through the converter, checked over the middle (a quarter of a
// second off each end).
static void check_tone(int out_hz)
{
    int64_t n_in = 2 * IN_HZ;
    float *x = sine(n_in, IN_HZ), *y = NULL;
    int64_t n_y = 0;
    CHECK_INT(rp_resample_mono(x, n_in, IN_HZ, out_hz, &y, &n_y), RP_OK);
    CHECK_MSG(llabs(n_y - 2 * (int64_t)out_hz) <= 2, "%d Hz: %lld frames", out_hz, (long long)n_y);
    if (!y || n_y < out_hz) {
        free(x);
        free(y);
        return;
    }
    int64_t a = out_hz / 4, b = n_y - out_hz / 4;
    CHECK_MSG(fabs(crossing_hz(y, a, b, out_hz) - TONE_HZ) < 0.05, "%d Hz: tone at %g Hz", out_hz,
              crossing_hz(y, a, b, out_hz));
    double sig = 0.0, err = 0.0, ms = 0.0;
    for (int64_t i = a; i < b; i++) {
        double ideal = AMP * sin(2.0 * M_PI * TONE_HZ * (double)i / out_hz);
        ms += (double)y[i] * y[i];
        sig += ideal * ideal;
        err += (y[i] - ideal) * (y[i] - ideal);
    }
    double rms_db = 10.0 * log10(ms / (double)(b - a)) - 20.0 * log10(AMP / sqrt(2.0));
    double snr_db = 10.0 * log10(sig / err);
    CHECK_MSG(fabs(rms_db) < 0.1, "%d Hz: RMS off by %g dB", out_hz, rms_db);
    CHECK_MSG(snr_db >= 80.0, "%d Hz: SNR %g dB", out_hz, snr_db);
    // Again: bit-identical.
    float *y2 = NULL;
    int64_t n_y2 = 0;
    CHECK_INT(rp_resample_mono(x, n_in, IN_HZ, out_hz, &y2, &n_y2), RP_OK);
    CHECK_INT(n_y2, n_y);
    CHECK(y2 && n_y2 == n_y && memcmp(y, y2, (size_t)n_y * sizeof *y) == 0);
    free(y2);
    // One converter made once and run three times (a shorter clip between)
    // gives the same bits each time: each run starts from the same state.
    rp_resampler *r = NULL;
    CHECK_INT(rp_resampler_new(&r, IN_HZ, out_hz), RP_OK);
    CHECK(rp_resampler_converts(r, IN_HZ, out_hz) && !rp_resampler_converts(r, IN_HZ, 1000));
    for (int run = 0; r && run < 3; run++) {
        y2 = NULL;
        CHECK_INT(rp_resampler_run(r, x, run == 1 ? n_in / 3 : n_in, &y2, &n_y2), RP_OK);
        if (run != 1)
            CHECK(y2 && n_y2 == n_y && memcmp(y, y2, (size_t)n_y * sizeof *y) == 0);
        free(y2);
    }
    rp_resampler_free(r);
    free(x);
    free(y);
}

static void test_sine_to_48000(void)
{
    check_tone(48000);
}

static void test_sine_to_other_rates(void)
{
    check_tone(44100);
    check_tone(24000);
    check_tone(96000);
    check_tone(16000);
}

static void test_silence_stays_silent(void)
{
    float x[4000] = {0};
    float *y = NULL;
    int64_t n = 0;
    CHECK_INT(rp_resample_mono(x, 4000, IN_HZ, 48000, &y, &n), RP_OK);
    CHECK(n > 8000);
    double peak = 0.0;
    for (int64_t i = 0; i < n; i++)
        peak = fabs(y[i]) > peak ? fabs(y[i]) : peak;
    CHECK(peak == 0.0);
    free(y);
}

static void test_edges(void)
{
    float x[3] = {0.25f, -0.5f, 1.0f}, *y = NULL;
    int64_t n = -1;
    CHECK_INT(rp_resample_mono(x, 3, 48000, 48000, &y, &n), RP_OK);  // equal rates copy
    CHECK_INT(n, 3);
    CHECK(y && memcmp(x, y, sizeof x) == 0);
    free(y);
    CHECK_INT(rp_resample_mono(x, 0, IN_HZ, 48000, &y, &n), RP_OK);
    CHECK_INT(n, 0);
    free(y);
    CHECK_INT(rp_resample_mono(x, 1, IN_HZ, 48000, &y, &n), RP_OK);
    CHECK(n >= 1 && n <= 3);
    free(y);
    CHECK_INT(rp_resample_mono(x, -1, IN_HZ, 48000, &y, &n), RP_ERR_RESAMPLE);
    CHECK(y == NULL && n == 0);
    CHECK_INT(rp_resample_mono(x, 3, 0, 48000, &y, &n), RP_ERR_RESAMPLE);
    CHECK_INT(rp_resample_mono(x, 3, IN_HZ, -48000, &y, &n), RP_ERR_RESAMPLE);
}

// rp_resampler_each's take: checks each piece against the whole run's
// output, and fails on call fail_at (0: never).
typedef struct {
    const float *want;
    int64_t n_want, at;
    size_t largest;
    int calls, fail_at, differs;
} pieces;

static rp_status take_piece(void *ctx, const float *out, size_t n)
{
    pieces *p = ctx;
    if (++p->calls == p->fail_at)
        return RP_ERR_IO;
    p->largest = n > p->largest ? n : p->largest;
    if (p->at + (int64_t)n > p->n_want || memcmp(out, p->want + p->at, n * sizeof *out) != 0)
        p->differs = 1;
    p->at += (int64_t)n;
    return RP_OK;
}

// A job writes its clip as the converter hands it out: the same frames as
// the whole run gives, in bounded pieces, and an error from the taker ends
// the run with that error.
static void test_output_comes_in_pieces(void)
{
    const int64_t n_in = IN_HZ * 10;  // 10 s, so the output takes many pieces
    float *x = sine(n_in, IN_HZ), *y = NULL;
    int64_t n_y = 0;
    CHECK_INT(rp_resample_mono(x, n_in, IN_HZ, 48000, &y, &n_y), RP_OK);
    const int rates[][2] = {{IN_HZ, 48000}, {48000, 48000}};
    for (int k = 0; k < 2; k++) {
        const float *want = k == 0 ? y : x;
        int64_t n_want = k == 0 ? n_y : n_in;
        rp_resampler *r = NULL;
        CHECK_INT(rp_resampler_new(&r, rates[k][0], rates[k][1]), RP_OK);
        pieces p = {.want = want, .n_want = n_want};
        CHECK_INT(rp_resampler_each(r, x, n_in, take_piece, &p), RP_OK);
        CHECK_MSG(p.at == n_want && !p.differs, "rate %d: %lld of %lld frames, differs %d",
                  rates[k][1], (long long)p.at, (long long)n_want, p.differs);
        CHECK(p.calls > 10 && p.largest <= 16384);
        pieces fail = {.want = want, .n_want = n_want, .fail_at = 2};
        CHECK_INT(rp_resampler_each(r, x, n_in, take_piece, &fail), RP_ERR_IO);
        CHECK_INT(fail.calls, 2);
        rp_resampler_free(r);
    }
    free(x);
    free(y);
}

// A job hands espeak-ng's 16-bit samples to the converter as they are: the
// output is the same, to the bit, as from the floats they stand for.
static void test_16_bit_input_gives_what_its_floats_give(void)
{
    const int64_t n_in = IN_HZ * 3 + 7;  // several input pieces and a ragged end
    float *x = sine(n_in, IN_HZ), *xf = malloc(sizeof *xf * (size_t)n_in);
    int16_t *x16 = malloc(sizeof *x16 * (size_t)n_in);
    CHECK(xf && x16);
    if (!xf || !x16) {
        free(x);
        free(xf);
        free(x16);
        return;
    }
    rp_s16_from_float(x, x16, (size_t)n_in, 32768.0f);
    rp_s16_to_float(x16, xf, (size_t)n_in, 1.0f / 32768.0f);
    const int out_hz[] = {48000, 44100, IN_HZ};
    for (int k = 0; k < 3; k++) {
        float *y = NULL;
        int64_t n_y = 0;
        CHECK_INT(rp_resample_mono(xf, n_in, IN_HZ, out_hz[k], &y, &n_y), RP_OK);
        rp_resampler *r = NULL;
        CHECK_INT(rp_resampler_new(&r, IN_HZ, out_hz[k]), RP_OK);
        for (int run = 0; r && run < 2; run++) {  // the second from a cleared converter
            pieces p = {.want = y, .n_want = n_y};
            CHECK_INT(rp_resampler_each_s16(r, x16, n_in, 1.0f / 32768.0f, take_piece, &p),
                      RP_OK);
            CHECK_MSG(p.at == n_y && !p.differs, "%d Hz, run %d: %lld of %lld frames, differs %d",
                      out_hz[k], run, (long long)p.at, (long long)n_y, p.differs);
        }
        rp_resampler_free(r);
        free(y);
    }
    free(x);
    free(xf);
    free(x16);
}

int main(void)
{
    RUN(test_sine_to_48000);
    RUN(test_sine_to_other_rates);
    RUN(test_silence_stays_silent);
    RUN(test_edges);
    RUN(test_output_comes_in_pieces);
    RUN(test_16_bit_input_gives_what_its_floats_give);
    return TEST_SUMMARY("test_resample");
}
