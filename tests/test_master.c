// SPDX-License-Identifier: GPL-3.0-or-later
// Tests for the look-ahead limiter: no sample over the ceiling for loud
// sines, impulses, squares and noise; quiet material passes bit-exact after
// the reported latency; silence stays silence; gain recovers after a burst;
// the result does not depend on how the stream is cut into blocks.
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rp_common.h"
#include "rp_config.h"
#include "rp_master.h"
#include "test.h"
#include "wav.h"

enum { RATE = 48000 };

static const double PI = 3.14159265358979323846;

static float ceiling_gain(void)
{
    return (float)rp_db_to_gain(RP_LIMITER_CEILING_DB - RP_LIMITER_MARGIN_DB);
}

// Runs n interleaved frames (plus latency frames of silence) through a new
// limiter in blocks of `block` frames; returns the output aligned with the
// input (the latency dropped), in a new buffer.
static float *limit(const float *in, size_t n, int ch, size_t block, int64_t *latency)
{
    rp_master *m = rp_master_new(ch, RATE, RP_LIMITER_CEILING_DB);
    if (!m)
        return NULL;
    int64_t lat = rp_master_latency(m);
    size_t total = n + (size_t)lat;
    float *buf = calloc(total * (size_t)ch, sizeof *buf);
    float *out = calloc(n * (size_t)ch + 1, sizeof *out);
    if (!buf || !out) {
        free(buf);
        free(out);
        rp_master_free(m);
        return NULL;
    }
    memcpy(buf, in, n * (size_t)ch * sizeof *buf);
    for (size_t i = 0; i < total; i += block) {
        size_t k = total - i < block ? total - i : block;
        rp_master_process(m, buf + i * (size_t)ch, k);
    }
    memcpy(out, buf + (size_t)lat * (size_t)ch, n * (size_t)ch * sizeof *out);
    if (latency)
        *latency = lat;
    free(buf);
    rp_master_free(m);
    return out;
}

static float peak(const float *x, size_t n)
{
    float p = 0.0f;
    for (size_t i = 0; i < n; i++)
        p = fabsf(x[i]) > p ? fabsf(x[i]) : p;
    return p;
}

static int all_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

static float *sine(size_t n, double freq, double amp)
{
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; x && i < n; i++)
        x[i] = (float)(amp * sin(2.0 * PI * freq * (double)i / RATE));
    return x;
}

// ---- latency and transparency ------------------------------------------------------------

static void test_latency_exact(void)
{
    rp_master *m = rp_master_new(2, RATE, RP_LIMITER_CEILING_DB);
    CHECK(m != NULL);
    if (!m)
        return;
    int64_t lat = rp_master_latency(m);
    CHECK(lat > 0 && lat <= (int64_t)(0.02 * RATE));
    // An impulse comes out exactly lat frames later, on its channel only.
    size_t n = (size_t)lat * 4;
    float *buf = calloc(n * 2, sizeof *buf);
    CHECK(buf != NULL);
    if (!buf) {
        rp_master_free(m);
        return;
    }
    size_t at = 37;
    buf[at * 2 + 1] = 0.5f;
    rp_master_process(m, buf, n);
    for (size_t i = 0; i < n * 2; i++) {
        float want = i == (at + (size_t)lat) * 2 + 1 ? 0.5f : 0.0f;
        CHECK_MSG(buf[i] == want, "sample %zu is %g, want %g", i, buf[i], want);
    }
    free(buf);
    rp_master_free(m);
    CHECK(rp_master_new(0, RATE, -1.0) == NULL);
    CHECK(rp_master_new(3, RATE, -1.0) == NULL);
    rp_master_free(NULL);
}

static void test_quiet_bit_exact(void)
{
    size_t n = RATE;  // 1 s of a -12 dBFS sine, mono and stereo
    float *x = sine(n, 441.0, rp_db_to_gain(-12.0));
    CHECK(x != NULL);
    if (!x)
        return;
    int64_t lat = 0;
    float *y = limit(x, n, 1, 256, &lat);
    CHECK(y != NULL);
    size_t diff = 0;
    for (size_t i = 0; y && i < n; i++)
        diff += y[i] != x[i];
    CHECK_INT(diff, 0);
    free(y);
    float *st = malloc(n * 2 * sizeof *st);
    for (size_t i = 0; st && i < n; i++) {
        st[2 * i] = x[i];
        st[2 * i + 1] = -0.5f * x[i];
    }
    y = st ? limit(st, n, 2, 1000, NULL) : NULL;
    CHECK(y != NULL);
    diff = 0;
    for (size_t i = 0; y && i < 2 * n; i++)
        diff += y[i] != st[i];
    CHECK_INT(diff, 0);
    free(y);
    free(st);
    free(x);
    // Just under the ceiling still passes untouched (whole periods: a sine
    // cut off mid-swing would peak between samples).
    float edge[4080];
    for (size_t i = 0; i < 4080; i++)
        edge[i] = (float)(sin(2.0 * PI * 1000.0 * (double)i / RATE) * ceiling_gain() * 0.995);
    y = limit(edge, 4080, 1, 4096, NULL);
    CHECK(y && memcmp(y, edge, sizeof edge) == 0);
    free(y);
}

static void test_silence(void)
{
    static float z[RATE / 2 * 2];
    float *y = limit(z, RATE / 2, 2, 333, NULL);
    CHECK(y != NULL);
    int nonzero = 0;
    for (size_t i = 0; y && i < RATE; i++)
        nonzero += y[i] != 0.0f;
    CHECK_INT(nonzero, 0);
    free(y);
}

// ---- loud input ---------------------------------------------------------------------------

static void check_under_ceiling(int src_line, const char *what, const float *y, size_t n)
{
    float c = ceiling_gain();
    size_t over = 0;
    for (size_t i = 0; i < n; i++)
        over += fabsf(y[i]) > c;
    if (over || !all_finite(y, n)) {
        test_failed_checks++;
        fprintf(stderr, "%s:%d: %s: %zu samples over the ceiling %g (peak %g)\n", __FILE__,
                src_line, what, over, c, peak(y, n));
    }
}
#define CHECK_CEILING(what, y, n) check_under_ceiling(__LINE__, what, y, n)

static void test_loud_sine(void)
{
    size_t n = RATE;
    float *x = sine(n, 440.0, rp_db_to_gain(6.0));
    float *y = x ? limit(x, n, 1, 512, NULL) : NULL;
    CHECK(y != NULL);
    if (!y) {
        free(x);
        return;
    }
    CHECK_CEILING("+6 dBFS sine", y, n);
    // Limiting, not clipping: after the first attack the output is the input
    // times one steady gain that puts the peaks at the ceiling.
    double g = ceiling_gain() / rp_db_to_gain(6.0);
    double err = 0.0;
    for (size_t i = RATE / 10; i < n; i++)
        err = fmax(err, fabs(y[i] - g * x[i]));
    CHECK_MSG(err < 2e-3, "largest departure from a clean gain: %g", err);
    CHECK_NEAR(peak(y + RATE / 10, n - RATE / 10), ceiling_gain(), 2e-3);
    free(x);
    free(y);
}

static void test_impulses(void)
{
    size_t n = RATE / 2;
    float *x = calloc(n, sizeof *x);
    CHECK(x != NULL);
    if (!x)
        return;
    // Clustered impulses, then isolated ones (further apart than the
    // release), at levels up to +600 dBFS.
    size_t where[] = {0, 1, 63, 64, 65, 6000, 12000, 12001, 18000, n - 1};
    float amp[] = {4.0f, -3.0f, 2.0f, -10.0f, 1.2f, 100.0f, -1.0f, 1.0f, 1e30f, -8.0f};
    for (size_t k = 0; k < 10; k++)
        x[where[k]] = amp[k];
    float *y = limit(x, n, 1, 100, NULL);
    CHECK(y != NULL);
    if (y) {
        CHECK_CEILING("impulses", y, n);
        // Each impulse still comes through at its place with its sign.
        for (size_t k = 0; k < 10; k++) {
            float v = y[where[k]];
            CHECK_MSG(v != 0.0f && (v > 0) == (amp[k] > 0), "impulse %zu (%g) came out as %g",
                      k, amp[k], v);
        }
        // Isolated loud ones land on the ceiling, not below it. The -1, +1
        // pair peaks between its samples, higher than either: it comes
        // out lower, but not much.
        for (size_t k = 6; k < 8; k++)
            CHECK_MSG(fabsf(y[where[k]]) < ceiling_gain() && fabsf(y[where[k]]) > 0.8f * ceiling_gain(),
                      "impulse %zu (%g) came out as %g", k, amp[k], y[where[k]]);
        for (size_t k = 5; k < 10; k += k == 5 ? 3 : 1)
            CHECK_MSG(fabsf(fabsf(y[where[k]]) - ceiling_gain()) < 1e-3f,
                      "impulse %zu (%g) came out as %g", k, amp[k], y[where[k]]);
        // Nothing appears where the input is silent.
        int stray = 0;
        for (size_t i = 0; i < n; i++)
            stray += x[i] == 0.0f && y[i] != 0.0f;
        CHECK_INT(stray, 0);
    }
    free(x);
    free(y);
}

static void test_square_and_noise(void)
{
    size_t n = RATE;
    float *x = malloc(n * 2 * sizeof *x);
    CHECK(x != NULL);
    if (!x)
        return;
    // Stereo: a 100 Hz square at +3.5 dBFS left, a quiet sine right.
    for (size_t i = 0; i < n; i++) {
        x[2 * i] = (i / 240) % 2 ? -1.5f : 1.5f;
        x[2 * i + 1] = 0.1f * (float)sin(2.0 * PI * 1000.0 * (double)i / RATE);
    }
    float *y = limit(x, n, 2, 64, NULL);
    CHECK(y != NULL);
    if (y) {
        CHECK_CEILING("square", y, 2 * n);
        // Linked channels: the right channel is turned down with the left
        // (by more than the ceiling over 1.5: a square peaks between its
        // samples).
        float right = 0.0f, left = 0.0f;
        for (size_t i = RATE / 10; i < n; i++) {
            right = fmaxf(right, fabsf(y[2 * i + 1]));
            left = fmaxf(left, fabsf(y[2 * i]));
        }
        CHECK(left < ceiling_gain());
        CHECK_NEAR(right, 0.1 * left / 1.5, 2e-3);
        free(y);
    }
    // White noise of seeded random amplitude up to +12 dBFS.
    unsigned long long seed = 20240611;
    const char *env = getenv("SEED");
    if (env)
        seed = strtoull(env, NULL, 0);
    printf("  seed %llu\n", seed);
    rp_rng r = {seed};
    for (size_t i = 0; i < 2 * n; i++)
        x[i] = rp_rng_bipolar(&r) * (float)(4.0 * rp_rng_unit(&r));
    for (size_t block = 1; block <= 4096; block *= 8) {
        y = limit(x, n, 2, block, NULL);
        CHECK(y != NULL);
        if (y)
            CHECK_CEILING("noise", y, 2 * n);
        free(y);
    }
    // Alternating bursts and silence, at extreme levels.
    for (size_t i = 0; i < 2 * n; i++)
        x[i] = (i / 1000) % 2 ? 0.0f : (i % 3 ? 1e6f : -1e-6f);
    y = limit(x, n, 2, 777, NULL);
    CHECK(y != NULL);
    if (y)
        CHECK_CEILING("bursts", y, 2 * n);
    free(y);
    free(x);
}

static void test_blocks_do_not_matter(void)
{
    size_t n = RATE / 2;
    float *x = malloc(n * sizeof *x);
    CHECK(x != NULL);
    if (!x)
        return;
    rp_rng r = {99};
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(3.0 * sin((double)i * 0.01)) * rp_rng_bipolar(&r);
    float *a = limit(x, n, 1, n, NULL), *b = limit(x, n, 1, 1, NULL), *c = limit(x, n, 1, 61, NULL);
    CHECK(a && b && c);
    if (a && b && c) {
        CHECK(memcmp(a, b, n * sizeof *a) == 0);
        CHECK(memcmp(a, c, n * sizeof *a) == 0);
    }
    free(a);
    free(b);
    free(c);
    free(x);
}

// ---- recovery ------------------------------------------------------------------------------

static void test_recovery_after_burst(void)
{
    // 0.5 s of a +12 dBFS tone, then 1 s of a -12 dBFS tone.
    size_t burst = RATE / 2, n = burst + RATE;
    double quiet = rp_db_to_gain(-12.0);
    float *x = malloc(n * sizeof *x);
    CHECK(x != NULL);
    if (!x)
        return;
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((i < burst ? 4.0 : quiet) * sin(2.0 * PI * 500.0 * (double)i / RATE));
    float *y = limit(x, n, 1, 480, NULL);
    CHECK(y != NULL);
    if (!y) {
        free(x);
        return;
    }
    CHECK_CEILING("burst", y, n);
    CHECK(all_finite(y, n));
    // The level of the quiet tone in 5 ms windows (two periods of 500 Hz).
    size_t win = RATE / 200, back = 0;
    for (size_t w = burst; w + win <= n; w += win) {
        if (peak(y + w, win) >= 0.99 * quiet * 0.9999) {  // 0.9999: the sine's sampled peak
            back = w + win - burst;
            break;
        }
    }
    CHECK_MSG(back > 0 && back <= RATE / 5, "level back after %.1f ms",
              back ? 1000.0 * (double)back / RATE : -1.0);
    // And fully back: 300 ms later the quiet tone passes bit-exact.
    size_t diff = 0;
    for (size_t i = burst + RATE * 3 / 10; i < n; i++)
        diff += y[i] != x[i];
    CHECK_INT(diff, 0);
    free(x);
    free(y);
}

// ---- true peak and gain --------------------------------------------------------------------

// True peak of interleaved audio as libebur128 measures it, in dBTP.
static double true_peak_db(const float *y, size_t n, int ch)
{
    rp_meter *m = rp_meter_new(ch, RATE, 1);
    rp_loudness l;
    CHECK(m && rp_meter_add(m, y, n) == RP_OK);
    rp_meter_result(m, &l);
    rp_meter_free(m);
    return l.true_peak_dbtp;
}

static void test_true_peak_under_ceiling(void)
{
    // A sine at a quarter of the rate, sampled 45 degrees off its crests:
    // every sample is 3 dB under the peak between them. A sample-peak
    // limiter lets it through at +1.6 dBTP.
    size_t n = RATE;
    float *x = malloc(n * 2 * sizeof *x);
    CHECK(x != NULL);
    if (!x)
        return;
    for (size_t i = 0; i < n; i++) {
        x[2 * i] = (float)(1.2 * sin(2.0 * PI * 0.25 * (double)i + PI / 4));
        x[2 * i + 1] = 0.5f * x[2 * i];
    }
    float sp = peak(x, 2 * n);
    CHECK(sp < ceiling_gain());
    CHECK(true_peak_db(x, n, 2) > 1.0);
    float *y = limit(x, n, 2, 300, NULL);
    CHECK(y != NULL);
    if (y) {
        double tp = true_peak_db(y, n, 2);
        CHECK_MSG(tp <= RP_LIMITER_CEILING_DB && tp > RP_LIMITER_CEILING_DB - 0.5,
                  "true peak %.3f dBTP", tp);
    }
    free(y);
    // Loud seeded noise through every block size: never over the ceiling.
    rp_rng r = {7};
    for (size_t i = 0; i < 2 * n; i++)
        x[i] = rp_rng_bipolar(&r) * (float)(3.0 * rp_rng_unit(&r));
    y = limit(x, n, 2, 64, NULL);
    CHECK(y != NULL);
    if (y) {
        double tp = true_peak_db(y, n, 2);
        CHECK_MSG(tp <= RP_LIMITER_CEILING_DB, "noise: true peak %.3f dBTP", tp);
    }
    free(y);
    free(x);
}

static void test_gain_before_limiting(void)
{
    size_t n = RATE / 2;
    float *x = sine(n, 440.0, rp_db_to_gain(-30.0));
    CHECK(x != NULL);
    if (!x)
        return;
    rp_master *m = rp_master_new(1, RATE, RP_LIMITER_CEILING_DB);
    CHECK(m != NULL);
    if (!m) {
        free(x);
        return;
    }
    rp_master_set_gain(m, 12.0);
    int64_t lat = rp_master_latency(m);
    float *buf = calloc(n + (size_t)lat, sizeof *buf);
    memcpy(buf, x, n * sizeof *x);
    rp_master_process(m, buf, n + (size_t)lat);
    float g = (float)rp_db_to_gain(12.0);
    double err = 0;
    for (size_t i = 0; i < n; i++)
        err = fmax(err, fabs(buf[i + (size_t)lat] - x[i] * g));
    CHECK_MSG(err < 1e-6, "largest departure from +12 dB: %g", err);
    // Then a gain that would take it over the ceiling: limited.
    rp_master_set_gain(m, 40.0);
    memcpy(buf, x, n * sizeof *x);
    memset(buf + n, 0, (size_t)lat * sizeof *buf);
    rp_master_process(m, buf, n + (size_t)lat);
    CHECK_CEILING("+40 dB", buf, n + (size_t)lat);
    free(buf);
    free(x);
    rp_master_free(m);
}

// ---- the meter -----------------------------------------------------------------------------

static rp_loudness measure(const float *x, size_t n, int ch)
{
    rp_loudness l;
    memset(&l, 0, sizeof l);
    rp_meter *m = rp_meter_new(ch, RATE, 1);
    CHECK(m != NULL);
    if (!m)
        return l;
    // In odd blocks, as the renderer feeds it.
    for (size_t i = 0; i < n; i += 1000) {
        size_t k = n - i < 1000 ? n - i : 1000;
        CHECK(rp_meter_add(m, x + i * (size_t)ch, k) == RP_OK);
    }
    rp_meter_result(m, &l);
    rp_meter_free(m);
    return l;
}

static float *stereo_tone(size_t n, double freq, const double *level_db, size_t parts)
{
    float *x = malloc(n * 2 * sizeof *x);
    for (size_t i = 0; x && i < n; i++) {
        double a = rp_db_to_gain(level_db[i * parts / n]);
        x[2 * i] = x[2 * i + 1] = (float)(a * sin(2.0 * PI * freq * (double)i / RATE));
    }
    return x;
}

static void test_meter_ebu_cases(void)
{
    // EBU Tech 3341 cases 1 and 2: a stereo 1 kHz sine at -23 and -33 dBFS
    // measures -23 and -33 LUFS (+-0.1).
    size_t n = 20 * RATE;
    for (int k = 0; k < 2; k++) {
        double level = k ? -33.0 : -23.0;
        float *x = stereo_tone(n, 1000.0, &level, 1);
        CHECK(x != NULL);
        if (!x)
            return;
        rp_loudness l = measure(x, n, 2);
        CHECK_NEAR(l.integrated_lufs, level, 0.1);
        CHECK_NEAR(l.true_peak_dbtp, level, 0.05);
        CHECK_NEAR(l.sample_peak_dbfs, level, 0.05);
        CHECK_NEAR(l.rms_db, level - 3.01, 0.02);
        CHECK_NEAR(l.floor_db, level - 3.01, 0.02);
        CHECK_INT(l.frames, n);
        free(x);
    }
    // EBU Tech 3342 case 1: 20 s at -20 dBFS then 20 s at -30: LRA 10 LU (+-1).
    double steps[] = {-20.0, -30.0};
    float *x = stereo_tone(2 * n, 1000.0, steps, 2);
    CHECK(x != NULL);
    if (!x)
        return;
    rp_loudness l = measure(x, 2 * n, 2);
    CHECK_NEAR(l.range_lu, 10.0, 1.0);
    free(x);
    // Silence: no loudness, no peak, no gain.
    float z[2000] = {0};
    l = measure(z, 1000, 2);
    CHECK(l.integrated_lufs == -HUGE_VAL && l.true_peak_dbtp == -HUGE_VAL);
    rp_master_target t = {RP_NORM_LUFS, -16.0, -1.0};
    CHECK(rp_master_gain_db(&t, &l) == 0.0);
}

// The meter's own integrated loudness against libebur128's exact one (every
// block kept), fed in odd blocks at rate_hz.
static rp_loudness measure_as(const float *x, size_t n, int ch, int rate_hz, int flags)
{
    rp_loudness l;
    memset(&l, 0, sizeof l);
    rp_meter *m = rp_meter_new(ch, rate_hz, flags);
    CHECK(m != NULL);
    if (!m)
        return l;
    for (size_t i = 0; i < n; i += 777) {
        size_t len = n - i < 777 ? n - i : 777;
        CHECK(rp_meter_add(m, x + i * (size_t)ch, len) == RP_OK);
    }
    rp_meter_result(m, &l);
    rp_meter_free(m);
    return l;
}

static void check_against_reference(const char *what, const float *x, size_t n, int ch,
                                    int rate_hz)
{
    double got[2];
    for (int k = 0; k < 2; k++)
        got[k] = measure_as(x, n, ch, rate_hz, k ? RP_METER_REFERENCE : 0).integrated_lufs;
    printf("  %-28s %9.4f LUFS, libebur128 %9.4f\n", what, got[0], got[1]);
    if (isinf(got[1]))
        CHECK_MSG(got[0] == got[1], "%s: %g vs %g", what, got[0], got[1]);
    else
        CHECK_MSG(fabs(got[0] - got[1]) <= 0.05, "%s: %.3f vs libebur128 %.3f", what, got[0],
                  got[1]);
}

static void test_meter_matches_libebur128(void)
{
    size_t n = 12 * RATE;
    float *x = malloc(2 * n * sizeof *x);
    CHECK(x != NULL);
    if (!x)
        return;
    // Sines: mid, low (the high-pass), high (the shelf), mono and stereo.
    double freqs[] = {1000.0, 40.0, 9000.0};
    for (int f = 0; f < 3; f++) {
        for (size_t i = 0; i < n; i++) {
            double t = (double)i / RATE;
            x[2 * i] = (float)(0.1 * sin(2.0 * PI * freqs[f] * t));
            x[2 * i + 1] = (float)(0.03 * sin(2.0 * PI * freqs[f] * 1.01 * t));
        }
        char what[64];
        snprintf(what, sizeof what, "stereo sine %.0f Hz", freqs[f]);
        check_against_reference(what, x, n, 2, RATE);
        for (size_t i = 0; i < n; i++)
            x[i] = x[2 * i];  // the left channel alone
        snprintf(what, sizeof what, "mono sine %.0f Hz", freqs[f]);
        check_against_reference(what, x, n, 1, RATE);
    }
    // Noise bursts a second long at levels that both gates act on: loud,
    // 15 dB down (under the relative gate), silence and -80 dBFS (under the
    // absolute gate), with changes inside the 400 ms blocks.
    rp_rng r = {77};
    double levels[] = {-12.0, -27.0, -300.0, -18.0, -80.0, -9.0, -24.0};
    for (size_t i = 0; i < n; i++) {
        double a = rp_db_to_gain(levels[(i * 7 / 5 / RATE) % 7]);
        x[2 * i] = (float)(a * rp_rng_bipolar(&r));
        x[2 * i + 1] = (float)(a * 0.5 * rp_rng_bipolar(&r));
    }
    check_against_reference("noise bursts", x, n, 2, RATE);
    // Both channels alike: 3.01 dB over either alone. (Stereo and mono take
    // different code: this holds them to the same arithmetic.)
    float *y = malloc(n * sizeof *y);
    CHECK(y != NULL);
    for (size_t i = 0; y && i < n; i++)
        y[i] = x[2 * i + 1] = x[2 * i];
    if (y) {
        rp_loudness lm = measure_as(y, n, 1, RATE, 0), ls = measure_as(x, n, 2, RATE, 0);
        CHECK_NEAR(ls.integrated_lufs - lm.integrated_lufs, 10.0 * log10(2.0), 1e-9);
        free(y);
        for (size_t i = 0; i < n; i++)
            x[2 * i + 1] *= 0.5f;
    }
    check_against_reference("noise bursts at 44.1 kHz", x, n, 2, 44100);
    check_against_reference("mono noise at 22.05 kHz", x, n, 1, 22050);
    // Only a little over one block, and nothing but silence.
    check_against_reference("450 ms of noise", x, RATE * 45 / 100, 2, RATE);
    memset(x, 0, 2 * n * sizeof *x);
    check_against_reference("silence", x, n, 2, RATE);
    free(x);
    // A real render, as the renderer's second pass meters it.
    const char *out = tmp(0, "siege.wav");
    char args[4096];
    snprintf(args, sizeof args, "render scripts/siege.txt -o %s -q --bits float", out);
    char *log = NULL;
    wav w;
    if (rp(args, &log) == 0 && wav_read(out, &w) == 0) {
        check_against_reference("a render (siege.txt)", w.x, (size_t)w.frames, w.channels,
                                w.rate);
        wav_free(&w);
    } else {
        printf("  no render to measure: %s\n", log ? log : "");
        CHECK(0);
    }
    free(log);
}

// K-weighting with fused multiply-adds (where the processor has them,
// rp_meter_fused) and without: the same figures but for rounding, each
// within libebur128's; and a meter made without RP_METER_UNFUSED uses the
// fused one where there is one (the sums differ in their last bits).
static void test_meter_fused_and_unfused_agree(void)
{
    size_t n = 10 * RATE;
    float *x = malloc(2 * n * sizeof *x);
    CHECK(x != NULL);
    if (!x)
        return;
    rp_rng r = {91};
    for (size_t i = 0; i < n; i++) {
        double a = rp_db_to_gain(i / (RATE / 2) % 3 ? -14.0 : -40.0);
        double t = (double)i / RATE;
        x[2 * i] = (float)(a * rp_rng_bipolar(&r) + 0.05 * sin(2.0 * PI * 31.0 * t));
        x[2 * i + 1] = (float)(0.5 * a * rp_rng_bipolar(&r) + 0.05 * sin(2.0 * PI * 7000.0 * t));
    }
    int fused = rp_meter_fused();
    printf("  fused multiply-adds on this processor: %s\n", fused ? "yes" : "no");
    int differs = 0;
    for (int ch = 1; ch <= 2; ch++) {
        rp_loudness f = measure_as(x, n, ch, RATE, 0);
        rp_loudness u = measure_as(x, n, ch, RATE, RP_METER_UNFUSED);
        rp_loudness ref = measure_as(x, n, ch, RATE, RP_METER_REFERENCE);
        printf("  %d channel(s): %.15f LUFS, unfused %.15f, libebur128 %.4f\n", ch,
               f.integrated_lufs, u.integrated_lufs, ref.integrated_lufs);
        CHECK(isfinite(f.integrated_lufs) && isfinite(u.integrated_lufs));
        CHECK_NEAR(f.integrated_lufs, u.integrated_lufs, 1e-9);
        CHECK_NEAR(f.integrated_lufs, ref.integrated_lufs, 0.05);
        CHECK(f.rms_db == u.rms_db && f.sample_peak_dbfs == u.sample_peak_dbfs);
        differs |= f.integrated_lufs != u.integrated_lufs;
    }
    CHECK_MSG(differs == fused, "fused %d, but the figures %s", fused,
              differs ? "differ" : "are the same to the bit");
    free(x);
}

// A 1 kHz tone with pauses holding noise at floor_db RMS, scaled so that
// the whole measures rms_db, with one crest at peak_db.
// Checkpoints: a meter that takes the sums of some stretches from an
// earlier run (rp_meter_unfold) and that run's filters at the next point
// (rp_meter_load) gives the very figures measuring it all gives, as long
// as both fold at the same points; and folding moves no figure by more
// than rounding.
// The limiter's state saved in the middle of loud noise (its look-ahead
// full, its gain pulled down) and loaded into a new limiter: it goes on to
// the same samples, to the bit, and refuses bytes cut short or made for
// another channel count.
// A limiter that takes bytes as its state limits 4096 frames of ctx.
static int try_limiter(const char *bytes, size_t len, void *ctx)
{
    rp_master *t = rp_master_new(2, RATE, RP_LIMITER_CEILING_DB);
    rp_unpacker u = {(const unsigned char *)bytes, len, 0};
    float y[4096 * 2];
    int refused = !t || rp_master_load(t, &u) != RP_OK;
    if (!refused) {
        memcpy(y, ctx, sizeof y);
        rp_master_process(t, y, 4096);
    }
    rp_master_free(t);
    return refused;
}

static void test_a_saved_limiter_goes_on_to_the_bit(void)
{
    enum { N = RATE, HALF_N = RATE / 2 + 123 };
    float *x = malloc(N * 2 * sizeof *x), *y = malloc(N * 2 * sizeof *y);
    CHECK(x && y);
    if (!x || !y) {
        free(x);
        free(y);
        return;
    }
    rp_rng r = {11};
    for (size_t i = 0; i < 2 * (size_t)N; i++)
        x[i] = rp_rng_bipolar(&r) * (float)(2.0 * rp_rng_unit(&r));
    memcpy(y, x, N * 2 * sizeof *x);
    rp_master *a = rp_master_new(2, RATE, RP_LIMITER_CEILING_DB);
    rp_master *b = rp_master_new(2, RATE, RP_LIMITER_CEILING_DB);
    rp_master *mono = rp_master_new(1, RATE, RP_LIMITER_CEILING_DB);
    CHECK(a && b && mono);
    if (a && b && mono) {
        rp_master_set_gain(a, 3.0);
        rp_master_process(a, x, HALF_N);
        rp_strbuf saved;
        rp_strbuf_init(&saved);
        rp_master_save(a, &saved);
        rp_master_process(a, x + 2 * HALF_N, N - HALF_N);
        rp_unpacker u = {(const unsigned char *)saved.s, saved.len, 0};
        CHECK_INT(rp_master_load(b, &u), RP_OK);
        rp_master_process(b, y + 2 * HALF_N, N - HALF_N);
        CHECK(memcmp(x + 2 * HALF_N, y + 2 * HALF_N, (N - HALF_N) * 2 * sizeof *x) == 0);
        float pk = peak(x + 2 * HALF_N, 2 * (size_t)(N - HALF_N));
        printf("  %zu bytes of state; the second half, limited to %.3f, the same to the bit\n",
               saved.len, pk);
        CHECK(pk <= ceiling_gain());
        u = (rp_unpacker){(const unsigned char *)saved.s, saved.len - 1, 0};
        CHECK(rp_master_load(b, &u) != RP_OK);
        u = (rp_unpacker){(const unsigned char *)saved.s, saved.len, 0};
        CHECK(rp_master_load(mono, &u) != RP_OK);
        CHECK(damaged_refused(saved.s, saved.len, saved.len, try_limiter, x, NULL) >= 2);
        rp_strbuf_deinit(&saved);
    }
    rp_master_free(a);
    rp_master_free(b);
    rp_master_free(mono);
    free(x);
    free(y);
}

// A meter at point 1 goes on as a re-render does: stretches 1 and 2 taken
// from the sums an earlier run folded there (delta[k]: stretch k's), and on
// from that run's state at point 3 (state[3]).
static void on_from_point_3(rp_meter *b, const rp_strbuf *delta, const rp_strbuf *state)
{
    rp_meter_fold(b, NULL);
    for (int k = 1; k <= 2; k++) {
        rp_unpacker u = {(const unsigned char *)delta[k].s, delta[k].len, 0};
        CHECK_INT(rp_meter_unfold(b, &u), RP_OK);
    }
    rp_unpacker u = {(const unsigned char *)state[3].s, state[3].len, 0};
    CHECK_INT(rp_meter_load(b, &u), RP_OK);
}

// A meter that takes bytes as its state measures 9600 frames of ctx.
static int try_meter(const char *bytes, size_t len, void *ctx)
{
    rp_meter *t = rp_meter_new(2, RATE, 0);
    rp_unpacker u = {(const unsigned char *)bytes, len, 0};
    int refused = !t || rp_meter_load(t, &u) != RP_OK;
    if (!refused)
        CHECK_INT(rp_meter_add(t, ctx, 9600), RP_OK);
    rp_meter_free(t);
    return refused;
}

static void test_meter_sums_from_a_checkpoint(void)
{
    enum { N = 20 * RATE, P = 3 * RATE + 77, POINTS = N / P + 2 };  // points 0..n
    const double levels[] = {-20, -35, -12, -50, -23, -18, -80, -25};
    float *x = stereo_tone(N, 997.0, levels, sizeof levels / sizeof levels[0]);
    rp_meter *a = rp_meter_new(2, RATE, 0), *b = rp_meter_new(2, RATE, 0);
    rp_meter *plain = rp_meter_new(2, RATE, 0);
    CHECK(x && a && b && plain);
    if (!x || !a || !b || !plain)
        return;
    rp_strbuf delta[POINTS], state[POINTS];
    for (int k = 0; k < POINTS; k++) {
        rp_strbuf_init(&delta[k]);
        rp_strbuf_init(&state[k]);
    }
    // a: measured stretch by stretch, folding at each point.
    for (int k = 0; k * P < N; k++) {
        size_t from = (size_t)k * P, n = from + P <= N ? P : N - from;
        CHECK_INT(rp_meter_add(a, x + 2 * from, n), RP_OK);
        rp_meter_fold(a, &delta[k]);
        rp_meter_save(a, &state[k + 1]);
    }
    CHECK_INT(rp_meter_add(plain, x, N), RP_OK);
    // b: the first stretch, then stretches 1 and 2 from a, then the rest.
    CHECK_INT(rp_meter_add(b, x, P), RP_OK);
    on_from_point_3(b, delta, state);
    for (int k = 3; k * P < N; k++) {
        size_t from = (size_t)k * P, n = from + P <= N ? P : N - from;
        CHECK_INT(rp_meter_add(b, x + 2 * from, n), RP_OK);
        rp_meter_fold(b, NULL);
    }
    rp_loudness la, lb, lp;
    rp_meter_result(a, &la);
    rp_meter_result(b, &lb);
    rp_meter_result(plain, &lp);
    CHECK_INT(lb.frames, N);
    CHECK(la.integrated_lufs == lb.integrated_lufs && la.rms_db == lb.rms_db &&
          la.sample_peak_dbfs == lb.sample_peak_dbfs && la.floor_db == lb.floor_db);
    CHECK_MSG(fabs(la.integrated_lufs - lp.integrated_lufs) < 1e-9 &&
                  fabs(la.rms_db - lp.rms_db) < 1e-9 && la.floor_db == lp.floor_db &&
                  la.sample_peak_dbfs == lp.sample_peak_dbfs,
              "folded %.12f LUFS, plain %.12f", la.integrated_lufs, lp.integrated_lufs);
    printf("  %.3f LUFS, the same to the bit with stretches 1-2 taken from the checkpoints\n",
           lb.integrated_lufs);
    // A damaged delta is refused; a damaged state is refused or runs in bounds.
    rp_unpacker bad = {(const unsigned char *)delta[1].s, delta[1].len / 2, 0};
    CHECK(rp_meter_unfold(b, &bad) != RP_OK);
    CHECK(damaged_refused(state[2].s, state[2].len, state[2].len, try_meter, x, NULL) >= 2);
    for (int k = 0; k < POINTS; k++) {
        rp_strbuf_deinit(&delta[k]);
        rp_strbuf_deinit(&state[k]);
    }
    rp_meter_free(a);
    rp_meter_free(b);
    rp_meter_free(plain);
    free(x);
}

// The file's meter following the mix's (rp_meter_follow). A mix of tones
// and noise at changing levels, some loud enough after the gain for the
// limiter to act, is measured (keeping its steps), then limited with the
// gain in slot-sized pieces, and the output measured twice: following and
// measuring every step. The figures agree to a millionth of a dB, and most
// steps are taken, not all. With checkpoints every F frames, a meter and a
// limiter that go on from one (the sums of two stretches unfolded, the
// states at the next point loaded, nothing of the limiter's record from
// before it) give the very figures of a straight run.
enum { FOLLOW_N = 24 * RATE + 1234, FOLLOW_F = 2048 * 70, FOLLOW_SLOT = 32768 };

static float *follow_mix(void)
{
    const double levels[] = {-30, -26, -4, -33, -22, -70, -28, -6, -24, -31, -19, -27};
    float *x = stereo_tone(FOLLOW_N, 331.0, levels, sizeof levels / sizeof levels[0]);
    rp_rng r = {11};
    for (size_t i = 0; x && i < 2 * (size_t)FOLLOW_N; i++)
        x[i] += (float)(0.01 * rp_rng_bipolar(&r));
    return x;
}

// Limits x (gain 10 dB) from input frame `from` on, with lim, into out
// (output frame from - latency on), feeding the output to meters m[0..nm)
// a slot at a time, folding and saving at each point k * FOLLOW_F when
// state is not NULL (the meter's into state[k], the limiter's into
// lstate[k], deltas into delta[k - 1]).
static void follow_limit(rp_master *lim, const float *x, int64_t from, rp_meter **m, int nm,
                         rp_strbuf *state, rp_strbuf *lstate, rp_strbuf *delta)
{
    int64_t lat = rp_master_latency(lim), skip = from == 0 ? lat : 0;
    float *buf = malloc(sizeof(float) * 2 * FOLLOW_SLOT);
    for (int64_t at = from; buf && at < FOLLOW_N + lat;) {
        int64_t end = at + FOLLOW_SLOT;
        if (state && (at / FOLLOW_F + 1) * FOLLOW_F < end)
            end = (at / FOLLOW_F + 1) * FOLLOW_F;
        if (end > FOLLOW_N + lat)
            end = FOLLOW_N + lat;
        size_t n = (size_t)(end - at);
        for (size_t i = 0; i < n; i++)
            for (int c = 0; c < 2; c++)
                buf[2 * i + c] = at + (int64_t)i < FOLLOW_N ? x[2 * (at + (int64_t)i) + c] : 0.0f;
        rp_master_process(lim, buf, n);
        size_t drop = (size_t)(skip < (int64_t)n ? skip : (int64_t)n);
        skip -= (int64_t)drop;
        for (int k = 0; k < nm; k++)
            CHECK_INT(rp_meter_add(m[k], buf + 2 * drop, n - drop), RP_OK);
        at = end;
        if (state && at % FOLLOW_F == 0 && at < FOLLOW_N) {
            int64_t k = at / FOLLOW_F;
            rp_meter_fold(m[0], delta ? &delta[k - 1] : NULL);
            rp_meter_save(m[0], &state[k]);
            rp_master_save(lim, &lstate[k]);
        }
    }
    free(buf);
}

static rp_master *follow_limiter(void)
{
    rp_master *lim = rp_master_new(2, RATE, RP_LIMITER_CEILING_DB);
    if (lim) {
        rp_master_set_gain(lim, 10.0);
        CHECK_INT(rp_master_track(lim, FOLLOW_N), RP_OK);
    }
    return lim;
}

static void test_the_file_meter_follows_the_mix_meter(void)
{
    float *x = follow_mix();
    rp_meter *mix = rp_meter_new(2, RATE, 0);
    rp_meter_steps *steps = rp_meter_steps_new(RATE);
    CHECK(x && mix && steps);
    if (!x || !mix || !steps)
        return;
    rp_meter_keep(mix, steps);
    for (size_t i = 0; i < FOLLOW_N; i += 5000)
        CHECK_INT(rp_meter_add(mix, x + 2 * i, FOLLOW_N - i < 5000 ? FOLLOW_N - i : 5000), RP_OK);
    enum { POINTS = FOLLOW_N / FOLLOW_F + 2 };
    for (int every = 0; every <= FOLLOW_F; every += FOLLOW_F) {
        rp_master *lim = follow_limiter();
        rp_meter *m[2] = {rp_meter_new(2, RATE, 0), rp_meter_new(2, RATE, 0)};  // following, all
        CHECK(lim && m[0] && m[1]);
        if (!lim || !m[0] || !m[1])
            return;
        CHECK_INT(rp_meter_follow(m[0], steps, lim, every, FOLLOW_N), RP_OK);
        rp_strbuf state[POINTS], lstate[POINTS], delta[POINTS];
        for (int k = 0; k < POINTS; k++) {
            rp_strbuf_init(&state[k]);
            rp_strbuf_init(&lstate[k]);
            rp_strbuf_init(&delta[k]);
        }
        follow_limit(lim, x, 0, m, 2, every ? state : NULL, lstate, delta);
        rp_loudness lf, lm;
        rp_meter_result(m[0], &lf);
        rp_meter_result(m[1], &lm);
        size_t all, taken = rp_meter_taken(m[0], &all);
        printf("  every %d: %zu of %zu steps taken; %.9f LUFS against %.9f measured, RMS %.9f "
               "against %.9f dB\n", every, taken, all, lf.integrated_lufs, lm.integrated_lufs,
               lf.rms_db, lm.rms_db);
        CHECK(taken > all / 2 && taken < all - 10);
        CHECK_INT(lf.frames, FOLLOW_N);
        CHECK_NEAR(lf.integrated_lufs, lm.integrated_lufs, 1e-6);
        CHECK_NEAR(lf.rms_db, lm.rms_db, 1e-6);
        CHECK_NEAR(lf.floor_db, lm.floor_db, 1e-6);
        CHECK(lf.sample_peak_dbfs == lm.sample_peak_dbfs);
        if (every) {
            // From the first stretch to point 1, the next two from the
            // checkpoints, then on from point 3 with the states there.
            rp_master *lim2 = follow_limiter();
            rp_meter *b = rp_meter_new(2, RATE, 0);
            CHECK(lim2 && b);
            if (lim2 && b) {
                CHECK_INT(rp_meter_follow(b, steps, lim2, every, FOLLOW_N), RP_OK);
                float *head = malloc(sizeof(float) * 2 * FOLLOW_F);
                memcpy(head, x, sizeof(float) * 2 * FOLLOW_F);
                rp_master_process(lim2, head, FOLLOW_F);
                CHECK_INT(rp_meter_add(b, head + 2 * rp_master_latency(lim2),
                                       FOLLOW_F - (size_t)rp_master_latency(lim2)), RP_OK);
                free(head);
                on_from_point_3(b, delta, state);
                rp_unpacker u = {(const unsigned char *)lstate[3].s, lstate[3].len, 0};
                CHECK_INT(rp_master_load(lim2, &u), RP_OK);
                // (Folding at the same points: then the sums add in the same order.)
                rp_strbuf s2[POINTS], l2[POINTS];
                for (int k = 0; k < POINTS; k++) {
                    rp_strbuf_init(&s2[k]);
                    rp_strbuf_init(&l2[k]);
                }
                follow_limit(lim2, x, 3 * FOLLOW_F, &b, 1, s2, l2, NULL);
                for (int k = 4; k <= FOLLOW_N / FOLLOW_F; k++)  // points 4..8 were saved
                    CHECK(state[k].len > 0 && s2[k].len == state[k].len &&
                          memcmp(s2[k].s, state[k].s, state[k].len) == 0);
                for (int k = 0; k < POINTS; k++) {
                    rp_strbuf_deinit(&s2[k]);
                    rp_strbuf_deinit(&l2[k]);
                }
                rp_loudness lb;
                rp_meter_result(b, &lb);
                CHECK_MSG(lb.integrated_lufs == lf.integrated_lufs && lb.rms_db == lf.rms_db &&
                              lb.floor_db == lf.floor_db &&
                              lb.sample_peak_dbfs == lf.sample_peak_dbfs,
                          "from point 3: %.12f LUFS, RMS %.12f, floor %.12f, peak %.12f; "
                          "straight %.12f, %.12f, %.12f, %.12f", lb.integrated_lufs, lb.rms_db,
                          lb.floor_db, lb.sample_peak_dbfs, lf.integrated_lufs, lf.rms_db,
                          lf.floor_db, lf.sample_peak_dbfs);
            }
            rp_meter_free(b);
            rp_master_free(lim2);
        }
        for (int k = 0; k < POINTS; k++) {
            rp_strbuf_deinit(&state[k]);
            rp_strbuf_deinit(&lstate[k]);
            rp_strbuf_deinit(&delta[k]);
        }
        rp_meter_free(m[0]);
        rp_meter_free(m[1]);
        rp_master_free(lim);
    }
    rp_meter_steps_free(steps);
    rp_meter_free(mix);
    free(x);
}

static float *acx_signal(size_t n, double rms_db, double peak_db, double floor_db)
{
    float *x = malloc(n * sizeof *x);
    if (!x)
        return NULL;
    rp_rng r = {5};
    double nf = rp_db_to_gain(floor_db) * sqrt(3.0);  // uniform noise: RMS = a / sqrt(3)
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        int pause = (i / (RATE * 2)) % 3 == 2;  // 4 s of tone, 2 s of pause
        x[i] = pause ? (float)(nf * rp_rng_bipolar(&r)) : (float)sin(2.0 * PI * 1000.0 * (double)i / RATE);
        if (!pause)
            sum += (double)x[i] * x[i];
    }
    double g = rp_db_to_gain(rms_db) / sqrt(sum / (double)n);
    for (size_t i = 0; i < n; i++)
        if ((i / (RATE * 2)) % 3 != 2)
            x[i] = (float)(x[i] * g);
    x[RATE / 2] = (float)rp_db_to_gain(peak_db);
    return x;
}

static void test_acx_report(void)
{
    rp_master_target acx = {RP_NORM_ACX, -16.0, RP_ACX_PEAK_DB};
    struct {
        double rms, peak, floor;
        int pass_rms, pass_peak, pass_floor;
    } cases[] = {
        {-20.0, -6.0, -70.0, 1, 1, 1},
        {-16.0, -6.0, -70.0, 0, 1, 1},   // too loud
        {-25.0, -6.0, -70.0, 0, 1, 1},   // too quiet
        {-20.0, -2.0, -70.0, 1, 0, 1},   // a peak over -3 dB
        {-20.0, -6.0, -50.0, 1, 1, 0},   // a noisy room
    };
    size_t n = 12 * RATE;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        float *x = acx_signal(n, cases[k].rms, cases[k].peak, cases[k].floor);
        CHECK(x != NULL);
        if (!x)
            return;
        rp_loudness l = measure(x, n, 1);
        CHECK_NEAR(l.rms_db, cases[k].rms, 0.1);
        CHECK_NEAR(l.sample_peak_dbfs, cases[k].peak, 0.01);
        CHECK_NEAR(l.floor_db, cases[k].floor, 0.3);
        rp_loudness_check c[RP_LOUDNESS_CHECKS_MAX];
        size_t m = rp_loudness_checks(&acx, &l, c);
        int got[3] = {-2, -2, -2};
        for (size_t i = 0; i < m; i++) {
            if (!strcmp(c[i].what, "RMS"))
                got[0] = c[i].pass;
            else if (!strcmp(c[i].what, "peak"))
                got[1] = c[i].pass;
            else if (!strcmp(c[i].what, "noise floor"))
                got[2] = c[i].pass;
        }
        CHECK_MSG(got[0] == cases[k].pass_rms && got[1] == cases[k].pass_peak &&
                      got[2] == cases[k].pass_floor,
                  "case %zu: rms %d peak %d floor %d", k, got[0], got[1], got[2]);
        // The gain ACX normalization asks for brings the RMS to -20 dB.
        CHECK_NEAR(rp_master_gain_db(&acx, &l), RP_ACX_RMS_DB - cases[k].rms, 0.1);
        free(x);
    }
    // Under the podcast target the integrated loudness is what passes or fails.
    double level = -16.3;
    float *x = stereo_tone(10 * RATE, 1000.0, &level, 1);
    CHECK(x != NULL);
    if (!x)
        return;
    rp_loudness l = measure(x, 10 * RATE, 2);
    rp_master_target pod = {RP_NORM_LUFS, -16.0, -1.0};
    rp_loudness_check c[RP_LOUDNESS_CHECKS_MAX];
    size_t m = rp_loudness_checks(&pod, &l, c);
    CHECK(m >= 5 && !strcmp(c[0].what, "integrated") && c[0].pass == 1);
    pod.target_lufs = -15.0;
    rp_loudness_checks(&pod, &l, c);
    CHECK(c[0].pass == 0);
    CHECK_NEAR(rp_master_gain_db(&pod, &l), -15.0 - l.integrated_lufs, 1e-9);
    free(x);
}

// The gain a render applies is a whole number of steps: the nearest one,
// and a rounded gain rounds to itself to the bit (rp_drama_render compares
// them to know that a remembered gain holds).
static void test_gain_round(void)
{
    CHECK_NEAR(rp_master_gain_round(7.180727), 7.2, 1e-12);
    CHECK_NEAR(rp_master_gain_round(7.149), 7.1, 1e-12);
    CHECK_NEAR(rp_master_gain_round(-3.0499), -3.0, 1e-12);
    CHECK_NEAR(rp_master_gain_round(-3.0501), -3.1, 1e-12);
    CHECK(rp_master_gain_round(0.0) == 0.0);
    int exact = 1, near = 1;
    for (int i = -4000; i <= 4000; i++) {
        double g = i * 0.01234567, r = rp_master_gain_round(g);
        exact &= rp_master_gain_round(r) == r;
        near &= fabs(r - g) <= RP_GAIN_STEP_DB / 2 + 1e-12;
    }
    CHECK(exact);
    CHECK(near);
}

int main(void)
{
    RUN(test_latency_exact);
    RUN(test_gain_round);
    RUN(test_quiet_bit_exact);
    RUN(test_silence);
    RUN(test_loud_sine);
    RUN(test_impulses);
    RUN(test_square_and_noise);
    RUN(test_blocks_do_not_matter);
    RUN(test_recovery_after_burst);
    RUN(test_true_peak_under_ceiling);
    RUN(test_gain_before_limiting);
    RUN(test_meter_ebu_cases);
    RUN(test_meter_matches_libebur128);
    RUN(test_meter_fused_and_unfused_agree);
    RUN(test_meter_sums_from_a_checkpoint);
    RUN(test_a_saved_limiter_goes_on_to_the_bit);
    RUN(test_the_file_meter_follows_the_mix_meter);
    RUN(test_acx_report);
    return TEST_SUMMARY("test_master");
}
