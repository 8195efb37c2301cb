// SPDX-License-Identifier: GPL-3.0-or-later
// Voice effects. Filters are RBJ "Audio EQ Cookbook" biquads (R. Bristow-
// Johnson), cascaded for steeper skirts; drive is a tanh waveshaper; the
// robot is a ring modulator (the classic 30 Hz "Dalek" treatment plus a
// faster carrier for metal). Band-limited effects keep the clip's RMS level
// so that a radio voice is not quieter than the rest; whisper and distant are
// meant to sound quieter and keep part of the loss.
#include "rp_voicefx.h"

#include <math.h>
#include <string.h>

typedef struct {
    float b0, b1, b2, a1, a2;
    float z1, z2;
} biquad;

enum { LOWPASS, HIGHPASS };

static biquad make_biquad(int type, double f_hz, double q, int rate_hz)
{
    double w0 = 2 * M_PI * f_hz / rate_hz, c = cos(w0), alpha = sin(w0) / (2 * q);
    double a0 = 1 + alpha;
    biquad b = {0};
    if (type == LOWPASS) {
        b.b0 = (float)((1 - c) / 2 / a0);
        b.b1 = (float)((1 - c) / a0);
        b.b2 = b.b0;
    } else {
        b.b0 = (float)((1 + c) / 2 / a0);
        b.b1 = (float)(-(1 + c) / a0);
        b.b2 = b.b0;
    }
    b.a1 = (float)(-2 * c / a0);
    b.a2 = (float)((1 - alpha) / a0);
    return b;
}

// Transposed direct form II, state written back after the loop.
static void run_biquad(biquad *f, float *x, int64_t n)
{
    float z1 = f->z1, z2 = f->z2;
    for (int64_t i = 0; i < n; i++) {
        float in = x[i], y = f->b0 * in + z1;
        z1 = f->b1 * in - f->a1 * y + z2;
        z2 = f->b2 * in - f->a2 * y;
        x[i] = y;
    }
    f->z1 = z1;
    f->z2 = z2;
}

static void band(float *x, int64_t n, int rate_hz, double lo_hz, double hi_hz, int stages)
{
    for (int s = 0; s < stages; s++) {
        biquad hp = make_biquad(HIGHPASS, lo_hz, M_SQRT1_2, rate_hz);
        biquad lp = make_biquad(LOWPASS, hi_hz, M_SQRT1_2, rate_hz);
        run_biquad(&hp, x, n);
        run_biquad(&lp, x, n);
    }
}

static void drive(float *x, int64_t n, float amount)
{
    float norm = 1.0f / tanhf(amount);
    for (int64_t i = 0; i < n; i++)
        x[i] = tanhf(amount * x[i]) * norm;
}

static double rms(const float *x, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return n ? sqrt(s / (double)n) : 0;
}

static void scale(float *x, int64_t n, double g)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(x[i] * g);
}

// Radio: a squelch burst of band-limited noise at the start and end of a
// transmission, and a faint hiss under it.
static void radio_noise(float *x, int64_t n, int rate_hz, uint64_t seed, float level)
{
    rp_rng rng = {seed};
    int64_t burst = (int64_t)(0.025 * rate_hz);
    for (int64_t i = 0; i < n; i++) {
        float hiss = level * 0.04f;
        if (i < burst || i >= n - burst)
            hiss = level * 0.5f;
        x[i] += hiss * rp_rng_bipolar(&rng);
    }
}

void rp_voicefx_apply(rp_voice_fx fx, float *x, int64_t n, int rate_hz, uint64_t seed)
{
    if (fx == RP_VFX_NONE || n <= 0)
        return;
    double before = rms(x, n);
    double keep = 1.0;  // share of the original level to restore
    switch (fx) {
    case RP_VFX_RADIO:
        band(x, n, rate_hz, 350, 3000, 2);
        drive(x, n, 2.5f);
        radio_noise(x, n, rate_hz, seed, (float)before);
        band(x, n, rate_hz, 300, 3400, 1);
        break;
    case RP_VFX_MEGAPHONE:
        band(x, n, rate_hz, 600, 4000, 2);
        drive(x, n, 5.0f);
        break;
    case RP_VFX_ROBOT: {
        double p1 = 0, p2 = 0, d1 = 30.0 / rate_hz, d2 = 110.0 / rate_hz;
        for (int64_t i = 0; i < n; i++) {
            float m = (float)(0.6 * sin(2 * M_PI * p1) + 0.4 * sin(2 * M_PI * p2));
            x[i] *= m;
            p1 += d1;
            p2 += d2;
            p1 -= floor(p1);
            p2 -= floor(p2);
        }
        drive(x, n, 1.5f);
        break;
    }
    case RP_VFX_WHISPER:
        band(x, n, rate_hz, 900, 9000, 1);
        keep = 0.6;
        break;
    case RP_VFX_DISTANT: {
        band(x, n, rate_hz, 150, 1800, 2);
        // A slap-back echo from the street's far walls (90 ms, -10 dB).
        int64_t d = (int64_t)(0.09 * rate_hz);
        for (int64_t i = n - 1; i >= d; i--)
            x[i] += 0.32f * x[i - d];
        keep = 0.45;
        break;
    }
    default:
        return;
    }
    double after = rms(x, n);
    if (after > 1e-9)
        scale(x, n, keep * before / after);
}
