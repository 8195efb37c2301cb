// SPDX-License-Identifier: GPL-3.0-or-later
// Voice effects: each one a short chain that puts the voice somewhere.
//
//   radio      a comms channel: 300 Hz..3 kHz through 8th-order Butterworth
//              skirts on both sides of a tanh drive (the second pair removes
//              what the drive adds outside the band), a faint hiss while the
//              key is down, and a push-to-talk key: click and squelch burst
//              before the voice, squelch tail and click after it
//   robot      ring modulation by a 30 Hz and a 110 Hz carrier (the classic
//              "Dalek" throb plus a faster metallic one; the voice's own
//              frequencies are suppressed, f +/- carrier sidebands remain),
//              a short feedback comb for a tinny cabinet, a little drive
//   megaphone  a horn: 500 Hz..3.5 kHz with a resonance near 1.8 kHz, driven
//              hard, then the cone's own band
//   pa         a public-address horn: a little wider and less driven than
//              the megaphone, with a 130 ms slap-back echo from the far wall
//              (a feedback delay whose repeats darken)
//   whisper    the voice's breathy upper band, with breath noise following
//              its envelope; quieter
//   distant    the far end of a street: dark, quieter, two street echoes
//   helmet     a small closed space: reflections at 1.3, 2.5 and 3.4 ms
//              (the strongest, at 2.5 ms, recirculates: a comb with 400 Hz
//              between peaks), a low-mid boost at 400 Hz, 120 Hz..5 kHz
//
// Filters are RBJ "Audio EQ Cookbook" biquads (R. Bristow-Johnson), cascaded
// with Butterworth Qs for the steep skirts; drive is tanh(a x) / tanh(a)
// applied at a fixed RMS, so the distortion does not depend on how loud
// espeak-ng spoke. Effects keep the clip's RMS level so that a radio voice is
// not quieter than the rest; whisper and distant keep only part of it. Noise
// is splitmix64 from the seed.
#include "rp_voicefx.h"

#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

// Radio timing (seconds). Key-up: a click, then a squelch burst decaying
// over the first 40 ms, then hiss until the voice. Release: hiss for a
// moment after the last word, the squelch tail, the click, then silence.
#define RADIO_PRE_S 0.060
#define RADIO_POST_S 0.150
#define RADIO_CLICK_S 0.001       // the key's click, from the buffer's ends
#define RADIO_BURST_DECAY_S 0.012 // key-up burst
#define RADIO_TAIL_START_S 0.020  // squelch tail, after the end of the speech
#define RADIO_TAIL_S 0.095
#define RADIO_RELEASE_S 0.012 // release click this far before the end
#define RADIO_HISS_DB (-36.0) // hiss re the speech's RMS, in the band
#define RADIO_BURST_DB (-3.0) // squelch bursts (peak) re the speech's RMS, in the band
#define RADIO_CLICK_DB (12.0) // click pulse peak re the speech's RMS
// Echo tails, seconds after the speech.
#define PA_DELAY_S 0.130
#define PA_FEEDBACK 0.42f
#define PA_POST_S 0.650
#define DISTANT_POST_S 0.300
#define HELMET_POST_S 0.030
#define ROBOT_POST_S 0.030
// Drive works on the clip scaled to this RMS (of its sounding samples).
#define DRIVE_RMS 0.25

// ---- filters ----------------------------------------------------------------

typedef struct {
    float b0, b1, b2, a1, a2;
    float z1, z2;
} biquad;

enum { LOWPASS, HIGHPASS, PEAK };

static biquad make_biquad(int type, double f_hz, double q, double gain_db, int rate_hz)
{
    if (f_hz > 0.45 * rate_hz)
        f_hz = 0.45 * rate_hz;
    double w0 = 2 * PI * f_hz / rate_hz, c = cos(w0), alpha = sin(w0) / (2 * q);
    double b0, b1, b2, a0, a1, a2;
    if (type == LOWPASS) {
        b0 = b2 = (1 - c) / 2;
        b1 = 1 - c;
        a0 = 1 + alpha;
        a1 = -2 * c;
        a2 = 1 - alpha;
    } else if (type == HIGHPASS) {
        b0 = b2 = (1 + c) / 2;
        b1 = -(1 + c);
        a0 = 1 + alpha;
        a1 = -2 * c;
        a2 = 1 - alpha;
    } else {
        double A = pow(10.0, gain_db / 40.0);
        b0 = 1 + alpha * A;
        b1 = -2 * c;
        b2 = 1 - alpha * A;
        a0 = 1 + alpha / A;
        a1 = -2 * c;
        a2 = 1 - alpha / A;
    }
    biquad b = {(float)(b0 / a0),
                (float)(b1 / a0),
                (float)(b2 / a0),
                (float)(a1 / a0),
                (float)(a2 / a0),
                0,
                0};
    return b;
}

// Transposed direct form II.
static inline float biquad_step(biquad *f, float in)
{
    float y = f->b0 * in + f->z1;
    f->z1 = f->b1 * in - f->a1 * y + f->z2;
    f->z2 = f->b2 * in - f->a2 * y;
    return y;
}

static void run_biquad(biquad *f, float *x, int64_t n)
{
    biquad s = *f;
    for (int64_t i = 0; i < n; i++)
        x[i] = biquad_step(&s, x[i]);
    f->z1 = s.z1;
    f->z2 = s.z2;
}

// A Butterworth low- or highpass of even order (2..8) as a cascade of
// biquads: section k has Q = 1 / (2 cos((2k + 1) pi / (2 order))).
enum { MAX_ORDER = 8 };

typedef struct {
    biquad s[MAX_ORDER / 2];
    int n;
} cascade;

static cascade butterworth(int type, int order, double f_hz, int rate_hz)
{
    cascade c = {.n = order / 2};
    for (int k = 0; k < c.n; k++) {
        double q = 1.0 / (2.0 * cos((2 * k + 1) * PI / (2.0 * order)));
        c.s[k] = make_biquad(type, f_hz, q, 0, rate_hz);
    }
    return c;
}

// Runs the biquads f[0..count) over x in place, four at a time in one pass
// over the samples: each one's recursion is a chain of dependent operations
// that would leave the processor waiting, and four chains overlap. The
// arithmetic of each stage is run_biquad's, so the result is the same.
static void run_stages(biquad *f, int count, float *x, int64_t n)
{
    for (; count >= 4; f += 4, count -= 4) {
        biquad a = f[0], b = f[1], c = f[2], d = f[3];
        for (int64_t i = 0; i < n; i++)
            x[i] = biquad_step(&d, biquad_step(&c, biquad_step(&b, biquad_step(&a, x[i]))));
        f[0] = a, f[1] = b, f[2] = c, f[3] = d;
    }
    if (count >= 2) {
        biquad a = f[0], b = f[1];
        for (int64_t i = 0; i < n; i++)
            x[i] = biquad_step(&b, biquad_step(&a, x[i]));
        f[0] = a, f[1] = b;
        f += 2, count -= 2;
    }
    if (count == 1)
        run_biquad(f, x, n);
}

static void run_cascade(cascade *c, float *x, int64_t n)
{
    run_stages(c->s, c->n, x, n);
}

static inline float cascade_step(cascade *c, float v)
{
    for (int k = 0; k < c->n; k++)
        v = biquad_step(&c->s[k], v);
    return v;
}

// Band-pass lo..hi with Butterworth skirts of the given order.
static void band(float *x, int64_t n, int rate_hz, double lo_hz, double hi_hz, int order)
{
    cascade hp = butterworth(HIGHPASS, order, lo_hz, rate_hz);
    cascade lp = butterworth(LOWPASS, order, hi_hz, rate_hz);
    biquad all[MAX_ORDER];
    memcpy(all, hp.s, (size_t)hp.n * sizeof *all);
    memcpy(all + hp.n, lp.s, (size_t)lp.n * sizeof *all);
    run_stages(all, hp.n + lp.n, x, n);
}

static void peak(float *x, int64_t n, int rate_hz, double f_hz, double q, double gain_db)
{
    biquad b = make_biquad(PEAK, f_hz, q, gain_db, rate_hz);
    run_biquad(&b, x, n);
}

// ---- level ------------------------------------------------------------------

static double rms(const float *x, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return n ? sqrt(s / (double)n) : 0;
}

static void scale(float *x, int64_t n, double g)
{
    float gf = (float)g;
    for (int64_t i = 0; i < n; i++)
        x[i] *= gf;
}

// RMS of the samples that sound (above -60 dB re the peak), so padding and
// pauses do not change how hard the drive is hit.
static double active_rms(const float *x, int64_t n)
{
    float peak = 0;
    for (int64_t i = 0; i < n; i++)
        peak = fabsf(x[i]) > peak ? fabsf(x[i]) : peak;
    float quiet = peak * 1e-3f;
    double s = 0;
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) {
        if (fabsf(x[i]) > quiet) {
            s += (double)x[i] * x[i];
            k++;
        }
    }
    return k ? sqrt(s / (double)k) : 0;
}

// tanh(a x) / tanh(a) on the clip scaled to DRIVE_RMS (level is restored by
// the caller's RMS match); tanh as the effects compute it (rp_fast_tanh: to
// float precision, and the loop vectorizes).
static void drive(float *x, int64_t n, float amount)
{
    double r = active_rms(x, n);
    if (r <= 0)
        return;
    float pre = (float)(DRIVE_RMS / r) * amount, norm = 1.0f / rp_fast_tanh(amount);
    for (int64_t i = 0; i < n; i++)
        x[i] = rp_fast_tanh(pre * x[i]) * norm;
}

// ---- radio --------------------------------------------------------------------

static int64_t frames(double s, int rate_hz)
{
    return (int64_t)(s * rate_hz + 0.5);
}

// The channel's own sound, added after the voice is band-limited and levelled:
// hiss from the key-up click to the release click, squelch bursts at both
// ends, and the two clicks, all through the channel's band. Placed from the
// buffer's ends, in the padding rp_voicefx_padding asks for.
static void radio_channel(float *x, int64_t n, int rate_hz, uint64_t seed, double level)
{
    rp_rng rng = {seed};
    int64_t post = frames(RADIO_POST_S, rate_hz);
    int64_t click = frames(RADIO_CLICK_S, rate_hz), pw = frames(0.001, rate_hz) + 1;
    int64_t on = click, off = n - frames(RADIO_RELEASE_S, rate_hz);
    int64_t speech_end = n - post;
    int64_t tail0 = speech_end + frames(RADIO_TAIL_START_S, rate_hz);
    int64_t tail1 = tail0 + frames(RADIO_TAIL_S, rate_hz);
    if (off < on + 1)
        off = n;
    double hiss = level * rp_db_to_gain(RADIO_HISS_DB);
    double burst = level * rp_db_to_gain(RADIO_BURST_DB);
    double click_amp = level * rp_db_to_gain(RADIO_CLICK_DB);
    double decay = exp(-1.0 / (RADIO_BURST_DECAY_S * rate_hz));
    cascade hp = butterworth(HIGHPASS, 4, 300, rate_hz);
    cascade lp = butterworth(LOWPASS, 4, 3000, rate_hz);
    // Uniform noise has RMS 1/sqrt(3); of white noise the band keeps
    // (3000 - 300) / (rate / 2) of the power. Levels are in the band.
    double unit = sqrt(3.0 * (0.5 * rate_hz) / 2700.0);
    double b_env = 0;
    for (int64_t i = 0; i < n; i++) {
        double env = 0, pulse = 0;
        if (i >= on && i < off)
            env = hiss;
        // Key-up burst: starts with the click, decays.
        if (i == click)
            b_env = burst;
        else
            b_env *= decay;
        env += b_env;
        // Squelch tail: a raised-cosine swell of noise before the release.
        if (i >= tail0 && i < tail1 && i < off) {
            double t = (double)(i - tail0) / (double)(tail1 - tail0);
            env += burst * 0.8 * sin(PI * t) * (1.0 - 0.5 * t);
        }
        // The clicks: a 1 ms half-sine pulse each (key down, key up).
        int64_t c0 = i - click, c1 = i - off;
        if (c0 >= 0 && c0 < pw)
            pulse += click_amp * sin(PI * (double)c0 / (double)pw);
        if (c1 >= 0 && c1 < pw)
            pulse -= 0.8 * click_amp * sin(PI * (double)c1 / (double)pw);
        float v = (float)(env * unit * rp_rng_bipolar(&rng) + pulse);
        x[i] += cascade_step(&lp, cascade_step(&hp, v));
    }
}

static void radio(float *x, int64_t n, int rate_hz, uint64_t seed, double before)
{
    double speech = active_rms(x, n); // the channel's noise is set against this
    band(x, n, rate_hz, 300, 3000, 8);
    drive(x, n, 2.0f);
    band(x, n, rate_hz, 300, 3000, 8);
    double after = rms(x, n);
    if (after > 1e-12)
        scale(x, n, before / after);
    radio_channel(x, n, rate_hz, seed, speech);
}

// ---- robot --------------------------------------------------------------------

static void robot(float *x, int64_t n, int rate_hz)
{
    // Phases in turns; sin(2 pi p) = -sin(2 pi (p - 1/2)), in [-1/2, 1/2).
    double p1 = 0, p2 = 0, d1 = 30.0 / rate_hz, d2 = 110.0 / rate_hz;
    for (int64_t i = 0; i < n; i++) {
        float m =
            -(0.6f * rp_sin_turns((float)(p1 - 0.5)) + 0.4f * rp_sin_turns((float)(p2 - 0.5)));
        x[i] *= m;
        p1 += d1;
        p2 += d2;
        p1 -= floor(p1);
        p2 -= floor(p2);
    }
    // The cabinet: c[i] = x[i] + g c[i - D] (D = 3.1 ms), mixed half and half
    // with the modulated voice; the comb's own outputs live in a D-long ring.
    enum { MAX_RING = 2048 };
    float ring[MAX_RING], g = 0.5f;
    int64_t d = frames(0.0031, rate_hz);
    if (d >= MAX_RING)
        d = MAX_RING - 1;
    if (d < 1)
        d = 1;
    memset(ring, 0, sizeof(float) * (size_t)d);
    for (int64_t i = 0, r = 0; i < n; i++) {
        float c = x[i] + g * ring[r];
        ring[r] = c;
        r = r + 1 == d ? 0 : r + 1;
        x[i] = 0.5f * x[i] + 0.5f * c;
    }
    band(x, n, rate_hz, 150, 6000, 2);
    drive(x, n, 1.5f);
}

// ---- horns: megaphone and PA ----------------------------------------------------

static void megaphone(float *x, int64_t n, int rate_hz)
{
    band(x, n, rate_hz, 500, 3500, 4);
    peak(x, n, rate_hz, 1800, 1.2, 6.0);
    drive(x, n, 4.0f);
    band(x, n, rate_hz, 400, 4500, 2);
}

// The slap-back: y[i] = x[i] + g lp(y[i - D]), each repeat darker (a one-pole
// lowpass in the loop). In place, forwards: the buffer is its own delay line,
// x[i - D] already holds the output when i is reached.
static void slapback(float *x, int64_t n, int rate_hz, double delay_s, float g, double lp_hz)
{
    int64_t d = frames(delay_s, rate_hz);
    if (d < 1 || d >= n)
        return;
    float a = (float)exp(-2 * PI * lp_hz / rate_hz), z = 0;
    for (int64_t i = d; i < n; i++) {
        z = (1 - a) * x[i - d] + a * z;
        x[i] += g * z;
    }
}

static void pa(float *x, int64_t n, int rate_hz)
{
    band(x, n, rate_hz, 350, 4500, 4);
    peak(x, n, rate_hz, 2200, 1.0, 4.0);
    drive(x, n, 2.5f);
    band(x, n, rate_hz, 300, 5000, 2);
    slapback(x, n, rate_hz, PA_DELAY_S, PA_FEEDBACK, 2500);
}

// ---- whisper, distant, helmet -----------------------------------------------------

// The upper band of the voice plus breath: noise through 1.5..7 kHz whose
// level follows the voice's envelope (10 ms), so it breathes with the words.
static void whisper(float *x, int64_t n, int rate_hz, uint64_t seed)
{
    band(x, n, rate_hz, 900, 9000, 2);
    rp_rng rng = {seed ^ 0x5768697370657221ull};
    cascade hp = butterworth(HIGHPASS, 2, 1500, rate_hz);
    cascade lp = butterworth(LOWPASS, 2, 7000, rate_hz);
    float a = (float)exp(-1.0 / (0.010 * rate_hz)), env = 0;
    for (int64_t i = 0; i < n; i++) {
        env = (1 - a) * fabsf(x[i]) + a * env;
        float breath = cascade_step(&lp, cascade_step(&hp, rp_rng_bipolar(&rng)));
        x[i] += 2.0f * env * breath;
    }
}

static void distant(float *x, int64_t n, int rate_hz)
{
    band(x, n, rate_hz, 150, 1800, 4);
    // Slap-backs from the street's far walls (90 ms, -10 dB; 170 ms, -16 dB),
    // added from the end backwards so each reads the dry signal.
    int64_t d1 = frames(0.090, rate_hz), d2 = frames(0.170, rate_hz);
    for (int64_t i = n - 1; i >= d1; i--) {
        x[i] += 0.32f * x[i - d1];
        if (i >= d2)
            x[i] += 0.16f * x[i - d2];
    }
}

// Reflections off the visor and shell: taps at 1.3 ms and 3.4 ms, and a
// recirculating one at 2.5 ms; then the boxy low mids and a narrower band.
static void helmet(float *x, int64_t n, int rate_hz)
{
    int64_t t1 = frames(0.0013, rate_hz), t3 = frames(0.0034, rate_hz);
    for (int64_t i = n - 1; i >= t1; i--) {
        x[i] += -0.25f * x[i - t1];
        if (i >= t3)
            x[i] += 0.18f * x[i - t3];
    }
    int64_t d = frames(0.0025, rate_hz);
    for (int64_t i = d; i < n; i++)
        x[i] += 0.45f * x[i - d];
    peak(x, n, rate_hz, 400, 0.9, 4.0);
    cascade hp = butterworth(HIGHPASS, 2, 120, rate_hz);
    cascade lp = butterworth(LOWPASS, 4, 5000, rate_hz);
    run_cascade(&hp, x, n);
    run_cascade(&lp, x, n);
}

// ---- interface ------------------------------------------------------------------

void rp_voicefx_padding(rp_voice_fx fx, int rate_hz, int64_t *pre_frames, int64_t *post_frames)
{
    double pre = 0, post = 0;
    switch (fx) {
    case RP_VFX_RADIO:
        pre = RADIO_PRE_S;
        post = RADIO_POST_S;
        break;
    case RP_VFX_ROBOT:
        post = ROBOT_POST_S;
        break;
    case RP_VFX_PA:
        post = PA_POST_S;
        break;
    case RP_VFX_DISTANT:
        post = DISTANT_POST_S;
        break;
    case RP_VFX_HELMET:
        post = HELMET_POST_S;
        break;
    default:
        break;
    }
    *pre_frames = frames(pre, rate_hz);
    *post_frames = frames(post, rate_hz);
}

rp_status rp_voicefx_pad(rp_voice_fx fx, int rate_hz, float **pcm, int64_t *n_frames,
                         int64_t *shift_frames)
{
    int64_t pre, post, n = *n_frames;
    *shift_frames = 0;
    rp_voicefx_padding(fx, rate_hz, &pre, &post);
    if (pre == 0 && post == 0)
        return RP_OK;
    if (n < 0 || n > INT64_MAX - pre - post ||
        (uint64_t)(n + pre + post) > SIZE_MAX / sizeof(float))
        return RP_ERR_LIMIT;
    int64_t total = n + pre + post;
    float *p = rp_realloc_array(*pcm, (size_t)total, sizeof(float));
    if (!p)
        return RP_ERR_NOMEM;
    if (n > 0)
        memmove(p + pre, p, sizeof(float) * (size_t)n);
    memset(p, 0, sizeof(float) * (size_t)pre);
    memset(p + pre + n, 0, sizeof(float) * (size_t)post);
    *pcm = p;
    *n_frames = total;
    *shift_frames = pre;
    return RP_OK;
}

void rp_voicefx_apply(rp_voice_fx fx, float *x, int64_t n, int rate_hz, uint64_t seed)
{
    if (fx == RP_VFX_NONE || fx >= RP_VFX_COUNT || n <= 0)
        return;
    double before = rms(x, n);
    if (before <= 0)
        return;
    double keep = 1.0; // share of the original level to restore
    switch (fx) {
    case RP_VFX_RADIO:
        radio(x, n, rate_hz, seed, before);
        return; // levelled before the channel's own noise is added
    case RP_VFX_ROBOT:
        robot(x, n, rate_hz);
        break;
    case RP_VFX_MEGAPHONE:
        megaphone(x, n, rate_hz);
        break;
    case RP_VFX_PA:
        pa(x, n, rate_hz);
        break;
    case RP_VFX_WHISPER:
        whisper(x, n, rate_hz, seed);
        keep = 0.6;
        break;
    case RP_VFX_DISTANT:
        distant(x, n, rate_hz);
        keep = 0.45;
        break;
    case RP_VFX_HELMET:
        helmet(x, n, rate_hz);
        break;
    default:
        return;
    }
    double after = rms(x, n);
    if (after > 1e-12)
        scale(x, n, keep * before / after);
}
