// SPDX-License-Identifier: GPL-3.0-or-later
// Voice effects measured on white noise, pure tones and a voice-like signal
// (a 120 Hz harmonic series with formant peaks near 500, 1500 and 2500 Hz):
// each effect's signature (radio's band and key clicks, the robot's
// sidebands, the horns' drive and band, the PA's echo, the helmet's comb),
// levels, padding, silence and determinism.
#include <stdlib.h>
#include <string.h>

#include "rp_voicefx.h"
#include "test.h"
#include "wav.h"

enum { RATE = 48000, N = RATE * 2 };

static wav make(int64_t frames)
{
    wav w = {.frames = frames, .rate = RATE, .channels = 1};
    w.x = calloc((size_t)frames + 1, sizeof(float));
    return w;
}

static wav noise(uint64_t seed)
{
    wav w = make(N);
    rp_rng r = {seed};
    for (int i = 0; i < N; i++)
        w.x[i] = 0.25f * rp_rng_bipolar(&r);
    return w;
}

static wav tone(double f_hz, double amp, int64_t frames)
{
    wav w = make(frames);
    for (int64_t i = 0; i < frames; i++)
        w.x[i] = (float)(amp * sin(2 * M_PI * f_hz * (double)i / RATE));
    return w;
}

// A vowel-like buzz: harmonics of 120 Hz up to 8 kHz falling 3 dB per
// octave, lifted around three formants, random fixed phases, RMS 0.1.
#define F0 120.0
static wav voice(int64_t frames)
{
    wav w = make(frames);
    rp_rng r = {42};
    for (int k = 1; k * F0 <= 8000; k++) {
        double f = k * F0;
        double a = (1 + 3 * exp(-pow((f - 500) / 150, 2)) + 2 * exp(-pow((f - 1500) / 200, 2)) +
                    1.5 * exp(-pow((f - 2500) / 250, 2))) /
                   sqrt(k);
        double ph = 2 * M_PI * rp_rng_unit(&r);
        for (int64_t i = 0; i < frames; i++)
            w.x[i] += (float)(a * sin(2 * M_PI * f * (double)i / RATE + ph));
    }
    double s = 0;
    for (int64_t i = 0; i < frames; i++)
        s += (double)w.x[i] * w.x[i];
    float g = (float)(0.1 / sqrt(s / (double)frames));
    for (int64_t i = 0; i < frames; i++)
        w.x[i] *= g;
    return w;
}

// Amplitude of the component at exactly f_hz in x[a..b) (Hann-windowed DFT).
static double amp_at(const float *x, int64_t a, int64_t b, double f_hz)
{
    double re = 0, im = 0, len = (double)(b - a);
    for (int64_t i = a; i < b; i++) {
        double w = 0.5 - 0.5 * cos(2 * M_PI * (double)(i - a) / len);
        double ph = 2 * M_PI * f_hz * (double)(i - a) / RATE;
        re += w * x[i] * cos(ph);
        im -= w * x[i] * sin(ph);
    }
    return 4 * sqrt(re * re + im * im) / len;
}

// |DFT| of x[0..n) at f_hz, no window (for impulse responses).
static double dft_mag(const float *x, int64_t n, double f_hz)
{
    double re = 0, im = 0;
    for (int64_t i = 0; i < n; i++) {
        re += x[i] * cos(2 * M_PI * f_hz * (double)i / RATE);
        im -= x[i] * sin(2 * M_PI * f_hz * (double)i / RATE);
    }
    return sqrt(re * re + im * im);
}

// Power of the harmonics of F0 in [lo, hi) Hz over x[a..b).
static double harmonic_power(const float *x, int64_t a, int64_t b, double lo, double hi)
{
    double p = 0;
    for (int k = 1; k * F0 < RATE / 2; k++) {
        double f = k * F0;
        if (f >= lo && f < hi) {
            double v = amp_at(x, a, b, f);
            p += v * v;
        }
    }
    return p;
}

static double band(const wav *w, double lo, double hi)
{
    return wav_band_rms(w, 0, 0.1, 1.9, lo, hi);
}

static double rms_frames(const float *x, int64_t a, int64_t b)
{
    double s = 0;
    for (int64_t i = a; i < b; i++)
        s += (double)x[i] * x[i];
    return b > a ? sqrt(s / (double)(b - a)) : 0;
}

static double peak_frames(const float *x, int64_t a, int64_t b)
{
    double p = 0;
    for (int64_t i = a; i < b; i++)
        p = fabs(x[i]) > p ? fabs(x[i]) : p;
    return p;
}

static int64_t ms(double v)
{
    return (int64_t)(v * RATE / 1000.0 + 0.5);
}

// The clip grown by the effect's padding, as a caller is told to do.
static wav padded(wav w, rp_voice_fx fx, int64_t *shift)
{
    CHECK(rp_voicefx_pad(fx, RATE, &w.x, &w.frames, shift) == RP_OK);
    return w;
}

static void test_none_is_untouched(void)
{
    wav a = noise(1), b = noise(1);
    rp_voicefx_apply(RP_VFX_NONE, b.x, N, RATE, 7);
    CHECK(memcmp(a.x, b.x, sizeof(float) * N) == 0);
    int64_t pre = -1, post = -1, shift = -1;
    rp_voicefx_padding(RP_VFX_NONE, RATE, &pre, &post);
    CHECK_INT(pre, 0);
    CHECK_INT(post, 0);
    float *p = b.x;
    CHECK(rp_voicefx_pad(RP_VFX_NONE, RATE, &b.x, &b.frames, &shift) == RP_OK);
    CHECK(b.x == p);
    CHECK_INT(b.frames, N);
    CHECK_INT(shift, 0);
    wav_free(&a);
    wav_free(&b);
}

// Padding moves the samples by pre frames and zero-fills both sides.
static void test_pad_grows_the_clip(void)
{
    for (int fx = 0; fx < RP_VFX_COUNT; fx++) {
        int64_t pre, post, shift = -1;
        rp_voicefx_padding((rp_voice_fx)fx, RATE, &pre, &post);
        wav w = noise(5), dry = noise(5);
        CHECK(rp_voicefx_pad((rp_voice_fx)fx, RATE, &w.x, &w.frames, &shift) == RP_OK);
        CHECK_INT(shift, pre);
        CHECK_INT(w.frames, N + pre + post);
        CHECK(memcmp(w.x + pre, dry.x, sizeof(float) * N) == 0);
        CHECK(peak_frames(w.x, 0, pre) == 0);
        CHECK(peak_frames(w.x, pre + N, w.frames) == 0);
        wav_free(&w);
        wav_free(&dry);
    }
    int64_t pre, post;
    rp_voicefx_padding(RP_VFX_RADIO, RATE, &pre, &post);
    CHECK(pre >= ms(50) && post >= ms(50));
    rp_voicefx_padding(RP_VFX_PA, RATE, &pre, &post);
    CHECK_INT(pre, 0);
    CHECK(post >= ms(400));
}

static void test_radio_is_band_limited_at_same_level(void)
{
    wav dry = noise(2), wet = noise(2);
    rp_voicefx_apply(RP_VFX_RADIO, wet.x, N, RATE, 7);
    double low = band(&wet, 40, 100) / band(&dry, 40, 100);
    double mid = band(&wet, 900, 1800) / band(&dry, 900, 1800);
    double high = band(&wet, 7000, 12000) / band(&dry, 7000, 12000);
    // (The measuring band-pass's own skirts limit this to about -25 dB; the
    // voice test below measures the band harmonic by harmonic.)
    CHECK_MSG(low < 0.1 * mid, "low %.3f mid %.3f", low, mid);
    CHECK_MSG(high < 0.1 * mid, "high %.3f mid %.3f", high, mid);
    CHECK_NEAR(wav_rms(&wet, 0, 0.1, 1.9), wav_rms(&dry, 0, 0.1, 1.9), 0.02);
    wav_free(&dry);
    wav_free(&wet);
}

// On the voice-like signal: little below 300 Hz and above 3.5 kHz (harmonic
// by harmonic, drive products included), the key's click and squelch in the
// first and last 50 ms, faint hiss between them and the voice.
static void test_radio_voice_band_and_squelch(void)
{
    int64_t shift, pre, post;
    rp_voicefx_padding(RP_VFX_RADIO, RATE, &pre, &post);
    wav dry = voice(RATE);
    wav w = padded(voice(RATE), RP_VFX_RADIO, &shift);
    rp_voicefx_apply(RP_VFX_RADIO, w.x, w.frames, RATE, 11);
    int64_t a = shift + ms(200), b = shift + ms(900);
    double in_band = harmonic_power(w.x, a, b, 300, 3500);
    double below = harmonic_power(w.x, a, b, 0, 300);
    double above = harmonic_power(w.x, a, b, 3500, RATE / 2);
    double below_db = 10 * log10(below / in_band), above_db = 10 * log10(above / in_band);
    CHECK_MSG(below_db < -25, "below 300 Hz: %.1f dB re the band", below_db);
    CHECK_MSG(above_db < -25, "above 3.5 kHz: %.1f dB re the band", above_db);
    // The dry signal had plenty there: the effect removed it.
    double dry_below = harmonic_power(dry.x, ms(200), ms(900), 0, 300);
    double dry_in = harmonic_power(dry.x, ms(200), ms(900), 300, 3500);
    CHECK(10 * log10(dry_below / dry_in) > -15);
    // Same level as the dry voice.
    double speech = rms_frames(w.x, a, b), dry_rms = rms_frames(dry.x, ms(200), ms(900));
    CHECK_MSG(fabs(speech / dry_rms - 1) < 0.15, "speech %.4f dry %.4f", speech, dry_rms);
    // Key-up: a click and a burst in the first 50 ms, hiss after it.
    double first = rms_frames(w.x, 0, ms(50)), last = rms_frames(w.x, w.frames - ms(50), w.frames);
    double hiss = rms_frames(w.x, ms(48), pre);
    CHECK_MSG(first > 0.3 * speech, "first 50 ms %.4f, speech %.4f", first, speech);
    CHECK_MSG(last > 0.2 * speech, "last 50 ms %.4f, speech %.4f", last, speech);
    CHECK_MSG(peak_frames(w.x, 0, ms(5)) > speech, "click %.4f", peak_frames(w.x, 0, ms(5)));
    CHECK_MSG(peak_frames(w.x, w.frames - ms(20), w.frames) > speech, "release click %.4f",
              peak_frames(w.x, w.frames - ms(20), w.frames));
    CHECK_MSG(hiss > 0.003 * speech && hiss < 0.1 * speech, "hiss %.5f, speech %.4f", hiss, speech);
    CHECK_MSG(first > 5 * hiss, "burst %.4f over hiss %.4f", first, hiss);
    // Deterministic: same seed, same bytes; another seed, other noise.
    wav again = padded(voice(RATE), RP_VFX_RADIO, &shift);
    wav other = padded(voice(RATE), RP_VFX_RADIO, &shift);
    rp_voicefx_apply(RP_VFX_RADIO, again.x, again.frames, RATE, 11);
    rp_voicefx_apply(RP_VFX_RADIO, other.x, other.frames, RATE, 12);
    CHECK(memcmp(again.x, w.x, sizeof(float) * (size_t)w.frames) == 0);
    CHECK(memcmp(other.x, w.x, sizeof(float) * (size_t)w.frames) != 0);
    wav_free(&dry);
    wav_free(&w);
    wav_free(&again);
    wav_free(&other);
}

// A 1 kHz tone comes out as sidebands at 1000 +/- 30 and +/- 110 Hz, the
// tone itself suppressed (a ring modulator has no carrier of the input).
static void test_robot_ring_modulates(void)
{
    wav w = tone(1000, 0.3, N);
    rp_voicefx_apply(RP_VFX_ROBOT, w.x, N, RATE, 7);
    int64_t a = ms(200), b = ms(1700);
    double centre = amp_at(w.x, a, b, 1000);
    const double side[] = {970, 1030, 890, 1110};
    for (int i = 0; i < 4; i++) {
        double s = amp_at(w.x, a, b, side[i]);
        CHECK_MSG(s > 10 * centre, "%.0f Hz: %.4f, 1000 Hz: %.4f", side[i], s, centre);
        CHECK_MSG(s > 0.03, "%.0f Hz: %.4f", side[i], s);
    }
    // The amplitude envelope moves (the 30 Hz throb).
    double e1 = rms_frames(w.x, ms(100), ms(105)), e2 = rms_frames(w.x, ms(116.6), ms(121.6));
    CHECK_MSG(fabs(e1 - e2) > 0.02, "envelope %.3f vs %.3f", e1, e2);
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

// Narrow on noise, at the same level; driven: a pure 1 kHz tone gains odd
// harmonics (3 kHz) a clean band-pass would not make.
static void test_megaphone_is_driven_and_narrow(void)
{
    wav dry = noise(4), wet = noise(4);
    rp_voicefx_apply(RP_VFX_MEGAPHONE, wet.x, N, RATE, 7);
    CHECK(band(&wet, 80, 200) < 0.1 * band(&wet, 1000, 2500));
    CHECK(band(&wet, 8000, 12000) < 0.1 * band(&wet, 1000, 2500));
    CHECK_NEAR(wav_rms(&wet, 0, 0, 2), wav_rms(&dry, 0, 0, 2), 0.02);
    wav t = tone(1000, 0.3, RATE);
    rp_voicefx_apply(RP_VFX_MEGAPHONE, t.x, RATE, RATE, 7);
    double h1 = amp_at(t.x, ms(100), ms(900), 1000), h3 = amp_at(t.x, ms(100), ms(900), 3000);
    CHECK_MSG(h3 > 0.05 * h1, "3rd harmonic %.1f dB", 20 * log10(h3 / h1));
    wav_free(&dry);
    wav_free(&wet);
    wav_free(&t);
}

// A 30 ms burst through the PA comes back 130 ms later (about -8 dB) after a
// quiet gap, then again, darker and weaker; the megaphone has no echo. The
// PA is a horn too: narrow, at the clip's level.
static void test_pa_slaps_back(void)
{
    int64_t shift;
    wav pa = padded(tone(1000, 0.3, ms(30)), RP_VFX_PA, &shift);
    CHECK_INT(shift, 0);
    CHECK(pa.frames >= ms(400));
    rp_voicefx_apply(RP_VFX_PA, pa.x, pa.frames, RATE, 7);
    double burst = rms_frames(pa.x, ms(5), ms(25));
    double gap = rms_frames(pa.x, ms(60), ms(125));
    double echo = rms_frames(pa.x, ms(135), ms(155));
    double echo2 = rms_frames(pa.x, ms(265), ms(285));
    CHECK_MSG(echo > 0.2 * burst && echo < 0.7 * burst, "echo %.4f burst %.4f", echo, burst);
    CHECK_MSG(gap < 0.05 * burst, "gap %.4f burst %.4f", gap, burst);
    CHECK_MSG(echo2 > 0.02 * burst && echo2 < echo, "2nd echo %.4f first %.4f", echo2, echo);
    // The megaphone: nothing 100 ms after the burst.
    wav mega = tone(1000, 0.3, ms(400));
    for (int64_t i = ms(30); i < mega.frames; i++)
        mega.x[i] = 0;
    rp_voicefx_apply(RP_VFX_MEGAPHONE, mega.x, mega.frames, RATE, 7);
    double mb = rms_frames(mega.x, ms(5), ms(25)), me = rms_frames(mega.x, ms(135), ms(155));
    CHECK_MSG(me < 0.01 * mb, "megaphone echo %.5f burst %.4f", me, mb);
    wav dry = noise(6), wet = noise(6);
    rp_voicefx_apply(RP_VFX_PA, wet.x, N, RATE, 7);
    CHECK(band(&wet, 60, 150) < 0.1 * band(&wet, 1000, 2500));
    CHECK(band(&wet, 9000, 14000) < 0.1 * band(&wet, 1000, 2500));
    CHECK_NEAR(wav_rms(&wet, 0, 0, 2), wav_rms(&dry, 0, 0, 2), 0.02);
    wav_free(&pa);
    wav_free(&mega);
    wav_free(&dry);
    wav_free(&wet);
}

// The helmet's impulse response has comb ripple with peaks every 400 Hz (the
// 2.5 ms reflection) and troughs half way between, and lifts the low mids.
static void test_helmet_comb(void)
{
    enum { LEN = 8192 };
    wav ir = make(LEN);
    ir.x[100] = 1.0f;
    rp_voicefx_apply(RP_VFX_HELMET, ir.x, LEN, RATE, 7);
    double peaks = 0, troughs = 0;
    for (int k = 2; k <= 10; k++) {
        peaks += dft_mag(ir.x, LEN, 400.0 * k);
        troughs += dft_mag(ir.x, LEN, 400.0 * (k + 0.5));
    }
    CHECK_MSG(peaks > 1.6 * troughs, "peaks %.3f troughs %.3f (%.1f dB)", peaks, troughs,
              20 * log10(peaks / troughs));
    // The same measurement on a bare impulse is flat.
    wav flat = make(LEN);
    flat.x[100] = 1.0f;
    double fp = 0, ft = 0;
    for (int k = 2; k <= 10; k++) {
        fp += dft_mag(flat.x, LEN, 400.0 * k);
        ft += dft_mag(flat.x, LEN, 400.0 * (k + 0.5));
    }
    CHECK_NEAR(fp / ft, 1.0, 1e-6);
    wav_free(&flat);
    // The low mids lifted against the presence band, at the clip's level.
    wav dry = noise(8), wet = noise(8);
    rp_voicefx_apply(RP_VFX_HELMET, wet.x, N, RATE, 7);
    double lift = (band(&wet, 300, 500) / band(&dry, 300, 500)) /
                  (band(&wet, 1500, 2500) / band(&dry, 1500, 2500));
    CHECK_MSG(lift > 1.2, "low-mid lift %.2f", lift);
    CHECK(band(&wet, 9000, 14000) < 0.3 * band(&wet, 1000, 2500));
    CHECK_NEAR(wav_rms(&wet, 0, 0, 2), wav_rms(&dry, 0, 0, 2), 0.02);
    wav_free(&ir);
    wav_free(&dry);
    wav_free(&wet);
}

// Every effect: silence stays silence, the same seed gives the same bytes,
// output is finite and bounded.
static void test_every_effect_deterministic_and_silent(void)
{
    for (int fx = 0; fx < RP_VFX_COUNT; fx++) {
        int64_t shift;
        wav a = padded(voice(RATE / 2), (rp_voice_fx)fx, &shift);
        wav b = padded(voice(RATE / 2), (rp_voice_fx)fx, &shift);
        rp_voicefx_apply((rp_voice_fx)fx, a.x, a.frames, RATE, 99);
        rp_voicefx_apply((rp_voice_fx)fx, b.x, b.frames, RATE, 99);
        CHECK_MSG(memcmp(a.x, b.x, sizeof(float) * (size_t)a.frames) == 0, "%s",
                  rp_voice_fx_names[fx]);
        int finite = 1;
        for (int64_t i = 0; i < a.frames; i++)
            finite &= isfinite(a.x[i]) && fabsf(a.x[i]) < 4.0f;
        CHECK_MSG(finite, "%s", rp_voice_fx_names[fx]);
        wav s = make(RATE / 4);
        rp_voicefx_apply((rp_voice_fx)fx, s.x, s.frames, RATE, 99);
        CHECK_MSG(peak_frames(s.x, 0, s.frames) == 0, "%s", rp_voice_fx_names[fx]);
        // Other rates work too (the filters clamp below Nyquist).
        wav lo = voice(4000);
        rp_voicefx_apply((rp_voice_fx)fx, lo.x, lo.frames, 8000, 99);
        finite = 1;
        for (int64_t i = 0; i < lo.frames; i++)
            finite &= isfinite(lo.x[i]);
        CHECK_MSG(finite, "%s at 8 kHz", rp_voice_fx_names[fx]);
        wav_free(&a);
        wav_free(&b);
        wav_free(&s);
        wav_free(&lo);
    }
    CHECK_STR(rp_voice_fx_names[RP_VFX_HELMET], "helmet");
    CHECK_STR(rp_voice_fx_names[RP_VFX_PA], "pa");
}

int main(void)
{
    RUN(test_none_is_untouched);
    RUN(test_pad_grows_the_clip);
    RUN(test_radio_is_band_limited_at_same_level);
    RUN(test_radio_voice_band_and_squelch);
    RUN(test_robot_ring_modulates);
    RUN(test_distant_and_whisper_are_quieter);
    RUN(test_megaphone_is_driven_and_narrow);
    RUN(test_pa_slaps_back);
    RUN(test_helmet_comb);
    RUN(test_every_effect_deterministic_and_silent);
    return TEST_SUMMARY("test_voicefx");
}
