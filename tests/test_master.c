// SPDX-License-Identifier: GPL-3.0-or-later
// Tests for the look-ahead limiter: no sample over the ceiling for loud
// sines, impulses, squares and noise; quiet material passes bit-exact after
// the reported latency; silence stays silence; gain recovers after a burst;
// the result does not depend on how the stream is cut into blocks.
#include <stdint.h>

#include "rp_common.h"
#include "rp_config.h"
#include "rp_master.h"
#include "test.h"

enum { RATE = 48000 };

static const double PI = 3.14159265358979323846;

static float ceiling_gain(void)
{
    return (float)rp_db_to_gain(RP_LIMITER_CEILING_DB);
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
    // Just under the ceiling still passes untouched.
    float edge[4096];
    for (size_t i = 0; i < 4096; i++)
        edge[i] = (i % 2 ? -1.0f : 1.0f) * ceiling_gain() * 0.9999f;
    y = limit(edge, 4096, 1, 4096, NULL);
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
        // Isolated loud ones land on the ceiling, not below it.
        for (size_t k = 5; k < 10; k++)
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
        // Linked channels: the right channel is turned down with the left.
        float right = 0.0f;
        for (size_t i = RATE / 10; i < n; i++)
            right = fmaxf(right, fabsf(y[2 * i + 1]));
        CHECK_NEAR(right, 0.1 * ceiling_gain() / 1.5, 2e-3);
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

int main(void)
{
    RUN(test_latency_exact);
    RUN(test_quiet_bit_exact);
    RUN(test_silence);
    RUN(test_loud_sine);
    RUN(test_impulses);
    RUN(test_square_and_noise);
    RUN(test_blocks_do_not_matter);
    RUN(test_recovery_after_burst);
    return TEST_SUMMARY("test_master");
}
