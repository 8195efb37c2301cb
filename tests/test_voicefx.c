// SPDX-License-Identifier: GPL-3.0-or-later
// Voice effects measured on white noise and a tone: radio and megaphone are
// band-limited and keep their level, robot ring-modulates, whisper and
// distant are quieter and darker or brighter as intended, none is a no-op.
#include <stdlib.h>
#include <string.h>

#include "rp_voicefx.h"
#include "test.h"
#include "wav.h"

enum { RATE = 48000, N = RATE * 2 };

static wav noise(uint64_t seed)
{
    wav w = {.frames = N, .rate = RATE, .channels = 1};
    w.x = malloc(sizeof(float) * N);
    rp_rng r = {seed};
    for (int i = 0; i < N; i++)
        w.x[i] = 0.25f * rp_rng_bipolar(&r);
    return w;
}

static double band(const wav *w, double lo, double hi)
{
    return wav_band_rms(w, 0, 0.1, 1.9, lo, hi);
}

static void test_none_is_untouched(void)
{
    wav a = noise(1), b = noise(1);
    rp_voicefx_apply(RP_VFX_NONE, b.x, N, RATE, 7);
    CHECK(memcmp(a.x, b.x, sizeof(float) * N) == 0);
    wav_free(&a);
    wav_free(&b);
}

static void test_radio_is_band_limited_at_same_level(void)
{
    wav dry = noise(2), wet = noise(2);
    rp_voicefx_apply(RP_VFX_RADIO, wet.x, N, RATE, 7);
    double low = band(&wet, 50, 150) / band(&dry, 50, 150);
    double mid = band(&wet, 900, 1800) / band(&dry, 900, 1800);
    double high = band(&wet, 7000, 12000) / band(&dry, 7000, 12000);
    CHECK_MSG(low < 0.1 * mid, "low %.3f mid %.3f", low, mid);
    CHECK_MSG(high < 0.1 * mid, "high %.3f mid %.3f", high, mid);
    CHECK_NEAR(wav_rms(&wet, 0, 0, 2), wav_rms(&dry, 0, 0, 2), 0.02);
    // Deterministic.
    wav again = noise(2);
    rp_voicefx_apply(RP_VFX_RADIO, again.x, N, RATE, 7);
    CHECK(memcmp(again.x, wet.x, sizeof(float) * N) == 0);
    wav_free(&dry);
    wav_free(&wet);
    wav_free(&again);
}

static void test_robot_ring_modulates(void)
{
    wav w = {.frames = N, .rate = RATE, .channels = 1};
    w.x = malloc(sizeof(float) * N);
    for (int i = 0; i < N; i++)
        w.x[i] = 0.3f * (float)sin(2 * M_PI * 1000.0 * i / RATE);
    rp_voicefx_apply(RP_VFX_ROBOT, w.x, N, RATE, 7);
    // Sidebands appear around the carrier, the amplitude envelope moves.
    double side = band(&w, 1080, 1140);
    CHECK_MSG(side > 0.02, "sideband %.4f", side);
    double a = wav_rms(&w, 0, 0.100, 0.105), b = wav_rms(&w, 0, 0.1166, 0.1216);
    CHECK_MSG(fabs(a - b) > 0.02, "envelope %.3f vs %.3f", a, b);
    wav_free(&w);
}

static void test_distant_and_whisper_are_quieter(void)
{
    wav dry = noise(3), far = noise(3), wh = noise(3);
    rp_voicefx_apply(RP_VFX_DISTANT, far.x, N, RATE, 7);
    rp_voicefx_apply(RP_VFX_WHISPER, wh.x, N, RATE, 7);
    double d = wav_rms(&dry, 0, 0, 2);
    CHECK(wav_rms(&far, 0, 0, 2) < 0.6 * d);
    CHECK(wav_rms(&wh, 0, 0, 2) < 0.8 * d);
    // Distant is dark, whisper is bright.
    CHECK(band(&far, 5000, 10000) < 0.1 * band(&far, 400, 1200));
    CHECK(band(&wh, 100, 300) < 0.3 * band(&wh, 2000, 6000));
    wav_free(&dry);
    wav_free(&far);
    wav_free(&wh);
}

static void test_megaphone_is_driven_and_narrow(void)
{
    wav dry = noise(4), wet = noise(4);
    rp_voicefx_apply(RP_VFX_MEGAPHONE, wet.x, N, RATE, 7);
    CHECK(band(&wet, 80, 200) < 0.1 * band(&wet, 1000, 2500));
    CHECK_NEAR(wav_rms(&wet, 0, 0, 2), wav_rms(&dry, 0, 0, 2), 0.02);
    wav_free(&dry);
    wav_free(&wet);
}

int main(void)
{
    RUN(test_none_is_untouched);
    RUN(test_radio_is_band_limited_at_same_level);
    RUN(test_robot_ring_modulates);
    RUN(test_distant_and_whisper_are_quieter);
    RUN(test_megaphone_is_driven_and_narrow);
    return TEST_SUMMARY("test_voicefx");
}
