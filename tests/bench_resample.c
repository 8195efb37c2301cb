// SPDX-License-Identifier: GPL-3.0-or-later
// make bench, resampler part: the evidence behind src/resample.c's choice.
// For 22050 -> 48000 and 22050 -> 44100 Hz (espeak-ng's rate to the usual
// output rates) it measures every libsamplerate and libsoxr quality:
//
//   speed  M input samples/s, best of RUNS (default 3), over about 10 M
//          samples of speech-like sound (glottal pulses through moving
//          formants, hiss, pauses) cut into clips of 1 to 6 s, one call with
//          end of input per clip, as the renderer does. "1shot" makes a new
//          converter per clip (src_simple, soxr_oneshot); "reuse" keeps one
//          and resets it between clips (src_reset, soxr_clear).
//   SNR    of a 10 s log sine sweep 20 Hz -> 10 kHz at -6 dBFS against the
//          ideal sweep computed at the output rate, over the part of the
//          sweep below 4 kHz, below 8 kHz (espeak-ng's speech band) and all
//          of it, skipping 10 ms at each end. Everything that is not the
//          ideal sweep counts: pass-band gain error, phase error, images,
//          aliases, noise.
//   ripple peak-to-peak gain over 40 sines, 50 Hz to 8 kHz (least-squares
//          fit of each sine), and the gain at 9 kHz.
//   same   whether "reuse" gives bit-identical output to "1shot".
//
// This is a bench tool, so unlike the program it includes both libraries'
// headers. Build: make build/bench_resample.
#include <math.h>
#include <samplerate.h>
#include <soxr.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IN_HZ 22050
#define SPEECH_SAMPLES 10000000
#define SWEEP_S 10.0
#define SWEEP_F1 20.0
#define SWEEP_F2 10000.0
#define SWEEP_AMP 0.5
#define EDGE_S 0.010

typedef struct {
    const char *name;
    int is_soxr;
    int type;  // SRC_* converter or SOXR_* recipe
} candidate;

static const candidate candidates[] = {
    {"lsr SINC_BEST", 0, SRC_SINC_BEST_QUALITY},
    {"lsr SINC_MEDIUM", 0, SRC_SINC_MEDIUM_QUALITY},
    {"lsr SINC_FASTEST", 0, SRC_SINC_FASTEST},
    {"lsr LINEAR", 0, SRC_LINEAR},
    {"soxr QQ", 1, SOXR_QQ},
    {"soxr LQ", 1, SOXR_LQ},
    {"soxr MQ", 1, SOXR_MQ},
    {"soxr HQ", 1, SOXR_HQ},
    {"soxr VHQ", 1, SOXR_VHQ},
};
#define N_CAND (sizeof candidates / sizeof candidates[0])

// One converter, either made per clip (state NULL) or kept across clips.
typedef struct {
    const candidate *c;
    int out_hz;
    SRC_STATE *src;
    soxr_t soxr;
} conv;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int conv_open(conv *v, const candidate *c, int out_hz, int reuse)
{
    *v = (conv){c, out_hz, NULL, NULL};
    if (!reuse)
        return 0;
    if (c->is_soxr) {
        soxr_error_t err = NULL;
        soxr_quality_spec_t q = soxr_quality_spec((unsigned long)c->type, 0);
        v->soxr = soxr_create(IN_HZ, out_hz, 1, &err, NULL, &q, NULL);
        return err ? -1 : 0;
    }
    int err = 0;
    v->src = src_new(c->type, 1, &err);
    return v->src ? 0 : -1;
}

static void conv_close(conv *v)
{
    if (v->src)
        src_delete(v->src);
    if (v->soxr)
        soxr_delete(v->soxr);
}

// Converts a whole clip (end of input); returns the frames made or -1.
static long conv_run(conv *v, const float *in, long n_in, float *out, long cap)
{
    double ratio = (double)v->out_hz / IN_HZ;
    if (v->c->is_soxr) {
        size_t odone = 0;
        soxr_error_t err;
        if (v->soxr) {
            // All the input, then flush (in NULL) until nothing more comes.
            size_t idone = 0, more = 0;
            soxr_clear(v->soxr);
            err = soxr_process(v->soxr, in, (size_t)n_in, &idone, out, (size_t)cap, &odone);
            do {
                err = err ? err
                          : soxr_process(v->soxr, NULL, 0, NULL, out + odone, (size_t)cap - odone,
                                         &more);
                odone += more;
            } while (!err && more > 0 && odone < (size_t)cap);
            if (!err && idone != (size_t)n_in)
                err = "input not taken";
        } else {
            soxr_quality_spec_t q = soxr_quality_spec((unsigned long)v->c->type, 0);
            err = soxr_oneshot(IN_HZ, v->out_hz, 1, in, (size_t)n_in, NULL, out, (size_t)cap,
                               &odone, NULL, &q, NULL);
        }
        return err ? -1 : (long)odone;
    }
    SRC_DATA d = {
        .data_in = in,
        .data_out = out,
        .input_frames = n_in,
        .output_frames = cap,
        .src_ratio = ratio,
        .end_of_input = 1,
    };
    if (v->src) {
        src_reset(v->src);
        return src_process(v->src, &d) ? -1 : d.output_frames_gen;
    }
    return src_simple(&d, v->c->type, 1) ? -1 : d.output_frames_gen;
}

// ---- test signals ------------------------------------------------------------------

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static double rnd(void)  // splitmix64, uniform in [0,1)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

typedef struct {
    double a1, a2, y1, y2, g;
} reson;

static void reson_set(reson *r, double f_hz, double bw_hz)
{
    double rad = exp(-M_PI * bw_hz / IN_HZ);
    r->a1 = 2.0 * rad * cos(2.0 * M_PI * f_hz / IN_HZ);
    r->a2 = -rad * rad;
    r->g = 1.0 - rad;
}

static double reson_run(reson *r, double x)
{
    double y = r->g * x + r->a1 * r->y1 + r->a2 * r->y2;
    r->y2 = r->y1;
    r->y1 = y;
    return y;
}

// Speech-like sound: syllables of 120-320 ms (glottal pulses at a drifting
// pitch through three formants that move per syllable, or formant-filtered
// hiss for fricatives) with a raised-cosine envelope, and pauses.
static void make_speech(float *x, long n)
{
    reson f[3] = {{0}}, fric = {0};
    double phase = 0.0, peak = 0.0;
    long i = 0;
    while (i < n) {
        long len = (long)((0.12 + 0.2 * rnd()) * IN_HZ);
        if (len > n - i)
            len = n - i;
        double u = rnd();
        if (u < 0.15) {  // pause
            for (long k = 0; k < len; k++)
                x[i + k] = 0.0f;
            i += len;
            continue;
        }
        int voiced = u > 0.3;
        reson_set(&f[0], 300 + 500 * rnd(), 80);
        reson_set(&f[1], 900 + 1400 * rnd(), 120);
        reson_set(&f[2], 2300 + 900 * rnd(), 180);
        reson_set(&fric, 3500 + 3500 * rnd(), 1500);
        double f0 = 90 + 130 * rnd(), df0 = (rnd() - 0.5) * 60.0 / len;
        for (long k = 0; k < len; k++) {
            double env = 0.5 - 0.5 * cos(2.0 * M_PI * (double)k / (double)len);
            double y;
            if (voiced) {
                phase += (f0 + df0 * (double)k) / IN_HZ;
                double src = 0.0;
                if (phase >= 1.0) {
                    phase -= 1.0;
                    src = 1.0;
                }
                y = reson_run(&f[0], src) * 8 + reson_run(&f[1], src) * 5 +
                    reson_run(&f[2], src) * 3;
            } else {
                y = reson_run(&fric, rnd() - 0.5) * 2;
            }
            y *= env;
            x[i + k] = (float)y;
            if (fabs(y) > peak)
                peak = fabs(y);
        }
        i += len;
    }
    for (long k = 0; k < n; k++)
        x[k] = (float)(x[k] * (0.5 / peak));
}

// The log sweep at time t (s): A sin(2 pi f1 L (e^(t/L) - 1)), L = T/ln(f2/f1).
static double sweep_at(double t)
{
    double L = SWEEP_S / log(SWEEP_F2 / SWEEP_F1);
    return SWEEP_AMP * sin(2.0 * M_PI * SWEEP_F1 * L * expm1(t / L));
}

static double sweep_time_of(double f_hz)
{
    return SWEEP_S / log(SWEEP_F2 / SWEEP_F1) * log(f_hz / SWEEP_F1);
}

// SNR (dB) of y against the ideal sweep over output frames [a, b).
static double sweep_snr(const float *y, long n_y, int out_hz, double t0, double t1)
{
    long a = (long)ceil(t0 * out_hz), b = (long)floor(t1 * out_hz);
    if (b > n_y)
        b = n_y;
    double sig = 0.0, err = 0.0;
    for (long m = a; m < b; m++) {
        double ideal = sweep_at((double)m / out_hz);
        sig += ideal * ideal;
        err += (y[m] - ideal) * (y[m] - ideal);
    }
    return err > 0.0 ? 10.0 * log10(sig / err) : 999.0;
}

// Gain (dB) of a sine of f_hz through the converter: least-squares fit of
// sin and cos at f_hz over the middle half of the output.
static double sine_gain_db(conv *v, double f_hz, float *in, long n_in, float *out, long cap)
{
    for (long k = 0; k < n_in; k++)
        in[k] = (float)(SWEEP_AMP * sin(2.0 * M_PI * f_hz * (double)k / IN_HZ));
    long n = conv_run(v, in, n_in, out, cap);
    if (n <= 0)
        return NAN;
    double ss = 0, cc = 0, sc = 0, ys = 0, yc = 0;
    for (long m = n / 4; m < 3 * n / 4; m++) {
        double w = 2.0 * M_PI * f_hz * (double)m / v->out_hz, s = sin(w), c = cos(w);
        ss += s * s, cc += c * c, sc += s * c, ys += out[m] * s, yc += out[m] * c;
    }
    double det = ss * cc - sc * sc;
    double a = (ys * cc - yc * sc) / det, b = (yc * ss - ys * sc) / det;
    return 20.0 * log10(sqrt(a * a + b * b) / SWEEP_AMP);
}

// ---- the bench ---------------------------------------------------------------------

typedef struct {
    long start, len;
} clip;

static double time_clips(const candidate *c, int out_hz, int reuse, const float *speech,
                         const clip *clips, int n_clips, float *out, long cap, int runs)
{
    double best = -1.0;
    for (int r = 0; r < runs; r++) {
        double t0 = now_s();
        conv v;
        if (conv_open(&v, c, out_hz, reuse))
            return -1.0;
        for (int i = 0; i < n_clips; i++)
            if (conv_run(&v, speech + clips[i].start, clips[i].len, out, cap) < 0) {
                conv_close(&v);
                return -1.0;
            }
        conv_close(&v);
        double dt = now_s() - t0;
        if (best < 0.0 || dt < best)
            best = dt;
    }
    return best;
}

int main(void)
{
    int runs = 3;
    const char *env = getenv("RUNS");
    if (env && atoi(env) > 0)
        runs = atoi(env);
    static const int rates[] = {48000, 44100};

    float *speech = malloc(SPEECH_SAMPLES * sizeof *speech);
    clip *clips = malloc(SPEECH_SAMPLES / IN_HZ * sizeof *clips);
    long n_sweep = (long)(SWEEP_S * IN_HZ);
    float *sweep = malloc((size_t)n_sweep * sizeof *sweep);
    long cap = (long)(SWEEP_S * 48000) + 4096;  // longest output: the sweep
    float *out = malloc((size_t)cap * sizeof *out), *out2 = malloc((size_t)cap * sizeof *out2);
    float *tone = malloc((size_t)IN_HZ * sizeof *tone);
    if (!speech || !clips || !sweep || !out || !out2 || !tone) {
        fprintf(stderr, "bench_resample: out of memory\n");
        return 1;
    }
    make_speech(speech, SPEECH_SAMPLES);
    int n_clips = 0;
    for (long at = 0; at + 6 * IN_HZ <= SPEECH_SAMPLES;) {
        long len = (long)((1.0 + 5.0 * rnd()) * IN_HZ);
        clips[n_clips++] = (clip){at, len};
        at += len;
    }
    long n_speech = clips[n_clips - 1].start + clips[n_clips - 1].len;
    for (long k = 0; k < n_sweep; k++)
        sweep[k] = (float)sweep_at((double)k / IN_HZ);

    printf("bench: resample     %.1f M samples of speech-like sound at %d Hz in %d clips of "
           "1-6 s; speed best of %d\n",
           n_speech / 1e6, IN_HZ, n_clips, runs);
    for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
        int out_hz = rates[r];
        printf("\n%d -> %d Hz      speed M in/s   sweep SNR dB       ripple  @9kHz  same\n", IN_HZ,
               out_hz);
        printf("%-18s  1shot  reuse   <4k   <8k  <10k     dB pp     dB\n", "converter");
        for (size_t i = 0; i < N_CAND; i++) {
            const candidate *c = &candidates[i];
            double t1 = time_clips(c, out_hz, 0, speech, clips, n_clips, out, cap, runs);
            double t2 = time_clips(c, out_hz, 1, speech, clips, n_clips, out, cap, runs);
            conv one, re;
            if (t1 < 0 || t2 < 0 || conv_open(&one, c, out_hz, 0) || conv_open(&re, c, out_hz, 1)) {
                printf("%-18s  failed\n", c->name);
                continue;
            }
            long n = conv_run(&one, sweep, n_sweep, out, cap);
            double s4 = sweep_snr(out, n, out_hz, EDGE_S, sweep_time_of(4000));
            double s8 = sweep_snr(out, n, out_hz, EDGE_S, sweep_time_of(8000));
            double s10 = sweep_snr(out, n, out_hz, EDGE_S, SWEEP_S - EDGE_S);
            // Reused after another signal, then reset: same output as new?
            conv_run(&re, speech, IN_HZ, out2, cap);
            long n2 = conv_run(&re, sweep, n_sweep, out2, cap);
            int same = n == n2 && memcmp(out, out2, (size_t)n * sizeof *out) == 0;
            double lo = 1e9, hi = -1e9;
            for (int k = 0; k < 40; k++) {
                double g =
                    sine_gain_db(&one, 50.0 * pow(8000.0 / 50.0, k / 39.0), tone, IN_HZ, out2, cap);
                lo = g < lo ? g : lo;
                hi = g > hi ? g : hi;
            }
            double g9 = sine_gain_db(&one, 9000.0, tone, IN_HZ, out2, cap);
            printf("%-18s %6.1f %6.1f %5.1f %5.1f %5.1f %9.4f %6.2f  %s\n", c->name,
                   n_speech / t1 / 1e6, n_speech / t2 / 1e6, s4, s8, s10, hi - lo, g9,
                   same ? "yes" : "NO");
            fflush(stdout);
            conv_close(&one);
            conv_close(&re);
        }
    }
    free(speech);
    free(clips);
    free(sweep);
    free(out);
    free(out2);
    free(tone);
    return 0;
}
