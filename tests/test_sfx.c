// SPDX-License-Identifier: GPL-3.0-or-later
// Tests of the effects synthesizer: every built-in preset parses, renders
// clean and sounds like its name (measured as energy by band, modulation,
// panning and level, not by ear); rendering is deterministic, independent of
// how the caller slices its buffers, and scales with the rate; beds loop for
// a minute without clicks or drift; the parser and overrides report located
// errors with did-you-mean hints.
#include "rp_sfx.h"

#include <stdint.h>

#include "test.h"
#include "wav.h"

#define RATE 48000
#define PI 3.14159265358979323846

// ---- helpers ----------------------------------------------------------------

static rp_sfx_library lib;

static const rp_sfx_preset *preset(const char *name)
{
    const rp_sfx_preset *p = rp_sfx_library_find(&lib, name);
    if (!p)
        fprintf(stderr, "built-in preset '%s' is missing\n", name);
    return p;
}

// Renders n frames (the whole one-shot when n == 0) in odd-sized slices, as
// a mixer would. Returns interleaved stereo; *n_out gets the frame count.
static float *render(const rp_sfx_preset *p, int rate, uint64_t seed, int64_t n, int64_t *n_out)
{
    rp_sfx_voice *v = rp_sfx_voice_new(p, rate, seed);
    if (!v)
        return NULL;
    if (n == 0)
        n = rp_sfx_voice_length(v);
    float *buf = calloc((size_t)n * 2, sizeof *buf);
    if (buf) {
        int64_t done = 0;
        size_t slice = 1000;
        while (done < n) {
            size_t k = (size_t)(n - done) < slice ? (size_t)(n - done) : slice;
            rp_sfx_voice_render(v, buf + 2 * done, k);
            done += (int64_t)k;
            slice = slice == 1000 ? 777 : 1000;
        }
    }
    rp_sfx_voice_free(v);
    *n_out = n;
    return buf;
}

static double peak(const float *x, int64_t i0, int64_t i1)
{
    double pk = 0.0;
    for (int64_t i = 2 * i0; i < 2 * i1; i++)
        if (fabs(x[i]) > pk)
            pk = fabs(x[i]);
    return pk;
}

// Mean square over both channels of frames [i0, i1).
static double power(const float *x, int64_t i0, int64_t i1)
{
    double e = 0.0;
    for (int64_t i = 2 * i0; i < 2 * i1; i++)
        e += (double)x[i] * x[i];
    return e / (double)(2 * (i1 - i0));
}

static double db(double v)
{
    return 10.0 * log10(v + 1e-30);
}

// Spread in dB between the loudest and quietest windows of `win` frames in
// [i0, i1): how much a sound rumbles or gusts.
static double level_swing(const float *x, int64_t i0, int64_t i1, int64_t win)
{
    double lo = 1e9, hi = -1e9;
    for (int64_t w = i0; w + win <= i1; w += win) {
        double lv = db(power(x, w, w + win));
        lo = lv < lo ? lv : lo;
        hi = lv > hi ? lv : hi;
    }
    return hi - lo;
}

static void filter4(double *s, int64_t n, int highpass, double fc, int rate);

// Energy of one channel of frames [i0, i1) after a 4th-order RBJ low- or
// high-pass (two cascaded Butterworth-Q biquads, filter4): a band-energy meter.
static double band_energy(const float *x, int64_t i0, int64_t i1, int ch, int highpass, double fc,
                          int rate)
{
    double *v = malloc((size_t)(i1 - i0 > 0 ? i1 - i0 : 1) * sizeof *v), e = 0.0;
    if (!v)
        return 0.0;
    for (int64_t i = i0; i < i1; i++)
        v[i - i0] = x[2 * i + ch];
    filter4(v, i1 - i0, highpass, fc, rate);
    for (int64_t i = 0; i < i1 - i0; i++)
        e += v[i] * v[i];
    free(v);
    return e;
}

// Share of the energy of frames [i0, i1) (both channels) below (highpass ==
// 0) or above fc.
static double band_share(const float *x, int64_t i0, int64_t i1, int highpass, double fc, int rate)
{
    double total = 0.0;
    for (int64_t i = 2 * i0; i < 2 * i1; i++)
        total += (double)x[i] * x[i];
    double b = band_energy(x, i0, i1, 0, highpass, fc, rate) +
               band_energy(x, i0, i1, 1, highpass, fc, rate);
    return total > 0.0 ? b / total : 0.0;
}

// Left minus right energy of frames [i0, i1), in dB.
static double balance_db(const float *x, int64_t i0, int64_t i1)
{
    double l = 0.0, r = 0.0;
    for (int64_t i = i0; i < i1; i++) {
        l += (double)x[2 * i] * x[2 * i];
        r += (double)x[2 * i + 1] * x[2 * i + 1];
    }
    return db(l) - db(r);
}

// Magnitude of the DFT of s[0..n) at f Hz (sample rate fs), normalised so a
// sinusoid of amplitude A reads A.
static double dft_mag(const double *s, int n, double f, double fs)
{
    double re = 0.0, im = 0.0;
    for (int i = 0; i < n; i++) {
        re += s[i] * cos(2.0 * PI * f * i / fs);
        im -= s[i] * sin(2.0 * PI * f * i / fs);
    }
    return 2.0 * sqrt(re * re + im * im) / n;
}

// The strongest frequency in [f0, f1] of the mono mix of frames [i0, i1),
// scanned in 0.5 Hz steps (a Hann window keeps leakage out of the way).
static double dominant_hz(const float *x, int64_t i0, int64_t i1, double f0, double f1, int rate)
{
    int n = (int)(i1 - i0);
    double *s = malloc((size_t)n * sizeof *s);
    if (!s)
        return 0.0;
    for (int i = 0; i < n; i++) {
        double w = 0.5 - 0.5 * cos(2.0 * PI * i / (n - 1));
        s[i] = w * (x[2 * (i0 + i)] + x[2 * (i0 + i) + 1]);
    }
    double best = 0.0, best_f = 0.0;
    for (double f = f0; f <= f1; f += 0.5) {
        double m = dft_mag(s, n, f, rate);
        if (m > best) {
            best = m;
            best_f = f;
        }
    }
    free(s);
    return best_f;
}

static int has_bad_sample(const float *x, int64_t n)
{
    for (int64_t i = 0; i < 2 * n; i++)
        if (!isfinite(x[i]) || fpclassify(x[i]) == FP_SUBNORMAL)
            return 1;
    return 0;
}

// The mono mix (L + R) / 2 of frames [i0, i1), as doubles; the caller frees.
static double *mono(const float *x, int64_t i0, int64_t i1)
{
    double *s = malloc((size_t)(i1 - i0) * sizeof *s);
    for (int64_t i = i0; s && i < i1; i++)
        s[i - i0] = 0.5 * ((double)x[2 * i] + x[2 * i + 1]);
    return s;
}

// Filters s[0..n) in place with a 4th-order low- or high-pass (two
// cascaded Butterworth-Q biquads); a high-pass then a low-pass make a band.
static void filter4(double *s, int64_t n, int highpass, double fc, int rate)
{
    double w0 = 2.0 * PI * fc / rate, cw = cos(w0), alpha = sin(w0) / (2.0 * 0.7071);
    double a0 = 1.0 + alpha;
    double b0 = (highpass ? (1.0 + cw) : (1.0 - cw)) / 2.0 / a0;
    double b1 = (highpass ? -(1.0 + cw) : (1.0 - cw)) / a0;
    double a1 = -2.0 * cw / a0, a2 = (1.0 - alpha) / a0;
    double z[2][2] = {{0, 0}, {0, 0}};
    for (int64_t i = 0; i < n; i++) {
        double v = s[i];
        for (int k = 0; k < 2; k++) {
            double y = b0 * v + z[k][0];
            z[k][0] = b1 * v - a1 * y + z[k][1];
            z[k][1] = b0 * v - a2 * y;
            v = y;
        }
        s[i] = v;
    }
}

// The mono mix of frames [i0, i1) in the band lo_hz..hi_hz (0: that edge
// open). NULL when out of memory; the caller frees it.
static double *band(const float *x, int64_t i0, int64_t i1, double lo_hz, double hi_hz)
{
    double *s = mono(x, i0, i1);
    if (s && lo_hz > 0)
        filter4(s, i1 - i0, 1, lo_hz, RATE);
    if (s && hi_hz > 0)
        filter4(s, i1 - i0, 0, hi_hz, RATE);
    return s;
}

// How far (dB) the level of n 10 s windows from frame `from` on strays from
// the first: a bed is stationary when this stays small.
static double spread_db(const float *x, int64_t from, int n)
{
    double w0 = db(power(x, from, 10 * RATE)), worst = 0.0;
    for (int i = 1; i < n; i++) {
        double d = fabs(db(power(x, i * 10 * RATE, (i + 1) * 10 * RATE)) - w0);
        worst = d > worst ? d : worst;
    }
    return worst;
}

// Levels in dB of consecutive windows of `win` samples of s[0..n) into
// out[]; returns how many (at most cap).
static int window_db(const double *s, int64_t n, int64_t win, double *out, int cap)
{
    int k = 0;
    for (int64_t w = 0; w + win <= n && k < cap; w += win, k++) {
        double e = 0.0;
        for (int64_t i = w; i < w + win; i++)
            e += s[i] * s[i];
        out[k] = db(e / (double)win);
    }
    return k;
}

// Peak over RMS of s[0..n), in dB: how impulsive a signal is.
static double crest_db(const double *s, int64_t n)
{
    double pk = 0.0, e = 0.0;
    for (int64_t i = 0; i < n; i++) {
        pk = fabs(s[i]) > pk ? fabs(s[i]) : pk;
        e += s[i] * s[i];
    }
    return 20.0 * log10(pk + 1e-30) - db(e / (double)n);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

// The p-th fraction (0..1) of v[0..n), from a sorted copy.
static double percentile(const double *v, int n, double p)
{
    double *c = malloc((size_t)n * sizeof *c);
    if (!c || n == 0) {
        free(c);
        return 0.0;
    }
    memcpy(c, v, (size_t)n * sizeof *c);
    qsort(c, (size_t)n, sizeof *c, cmp_double);
    double r = c[(int)(p * (n - 1) + 0.5)];
    free(c);
    return r;
}

// Onsets in a sequence of window levels lv[0..n): a window at least rise_db
// louder than the one `back` windows before it and within range_db of the
// loudest, at least `gap` windows after the previous onset. Returns how
// many (at most cap) with their window indices in at[].
static int onsets(const double *lv, int n, int back, double rise_db, double range_db, int gap,
                  int *at, int cap)
{
    double top = -1e9;
    for (int i = 0; i < n; i++)
        top = lv[i] > top ? lv[i] : top;
    int k = 0, last = -gap;
    for (int i = back; i < n && k < cap; i++) {
        if (lv[i] > top - range_db && lv[i] > lv[i - back] + rise_db && i - last >= gap) {
            at[k++] = i;
            last = i;
        }
    }
    return k;
}

// The strongest frequency in [f0, f1] of the mono mix of frames [i0, i1),
// scanned in `step` Hz steps: dominant_hz for wide, coarse searches.
static double strongest_hz(const float *x, int64_t i0, int64_t i1, double f0, double f1,
                           double step, int rate)
{
    int n = (int)(i1 - i0);
    double *s = mono(x, i0, i1);
    if (!s)
        return 0.0;
    for (int i = 0; i < n; i++)
        s[i] *= 0.5 - 0.5 * cos(2.0 * PI * i / (n - 1));
    double best = 0.0, best_f = 0.0;
    for (double f = f0; f <= f1; f += step) {
        double m = dft_mag(s, n, f, rate);
        if (m > best) {
            best = m;
            best_f = f;
        }
    }
    free(s);
    return best_f;
}

// The diagnostic whose message contains msg_part, preferably on line.
static const rp_diag *find_diag(const rp_diags *d, const char *msg_part, int line)
{
    const rp_diag *any = NULL;
    for (size_t i = 0; i < d->n; i++) {
        if (strstr(d->items[i].msg, msg_part)) {
            if (d->items[i].line == line)
                return &d->items[i];
            any = any ? any : &d->items[i];
        }
    }
    return any;
}

// Checks that a diagnostic containing msg exists at line:col (and, when
// hint is given, that its hint contains it).
#define CHECK_DIAG(d, msg, ln, cl, hint_part)                                                      \
    do {                                                                                           \
        const rp_diag *dg_ = find_diag((d), (msg), (ln));                                          \
        CHECK_MSG(dg_ != NULL, "no diagnostic '%s'", (msg));                                       \
        if (dg_) {                                                                                 \
            CHECK_INT(dg_->line, (ln));                                                            \
            CHECK_INT(dg_->col, (cl));                                                             \
            CHECK_STR(dg_->subsystem, "sfx");                                                      \
            if (hint_part)                                                                         \
                CHECK_MSG(dg_->hint &&strstr(dg_->hint, (hint_part) ? (hint_part) : ""),           \
                          "hint '%s' lacks '%s'", dg_->hint ? dg_->hint : "(none)",                \
                          (hint_part) ? (hint_part) : "");                                         \
        }                                                                                          \
    } while (0)

static rp_sfx_preset *parse_text(const char *text, rp_diags *d)
{
    rp_sfx_preset *p = NULL;
    rp_status st = rp_sfx_preset_parse("test", "test.sfx", text, strlen(text), &p, d);
    if (st != RP_OK && p)
        fprintf(stderr, "parse failed but returned a preset\n");
    return p;
}

static int keys_contain(const rp_sfx_preset *p, const char *line)
{
    rp_strbuf b;
    rp_strbuf_init(&b);
    rp_sfx_preset_describe_keys(p, &b);
    int found = b.s && strstr(b.s, line) != NULL;
    if (!found)
        fprintf(stderr, "describe_keys lacks \"%s\"\n", line);
    rp_strbuf_deinit(&b);
    return found;
}

// ---- built-in presets -------------------------------------------------------

static void test_builtins_parse_and_render(void)
{
    CHECK(rp_sfx_n_builtin >= 4);
    for (size_t i = 0; i < rp_sfx_n_builtin; i++) {
        const rp_source *src = &rp_sfx_builtin[i];
        rp_diags d;
        rp_diags_init(&d);
        rp_sfx_preset *p = NULL;
        rp_status st = rp_sfx_preset_parse(src->name, src->name, src->text, src->len, &p, &d);
        CHECK_MSG(st == RP_OK && d.n == 0, "%s: %zu diagnostics, first: %s", src->name, d.n,
                  d.n ? d.items[0].msg : "");
        rp_diags_deinit(&d);
        if (!p)
            continue;
        CHECK(strlen(rp_sfx_preset_description(p)) > 10);
        int bed = rp_sfx_preset_is_bed(p);
        for (uint64_t seed = 1; seed <= 4; seed++) {
            int64_t n;
            float *x = render(p, RATE, seed, bed ? 10 * RATE : 0, &n);
            CHECK(x != NULL);
            if (!x)
                continue;
            CHECK_MSG(!has_bad_sample(x, n), "%s seed %d: NaN, inf or subnormal", src->name,
                      (int)seed);
            double pk = peak(x, 0, n), rms_db = db(power(x, 0, n));
            CHECK_MSG(pk <= 1.0, "%s seed %d: peak %.2f dBFS", src->name, (int)seed,
                      20 * log10(pk));
            // No DC offset: each channel's mean stays below -46 dBFS.
            for (int ch = 0; ch < 2; ch++) {
                double mean = 0.0;
                for (int64_t j = 0; j < n; j++)
                    mean += x[2 * j + ch];
                mean /= (double)n;
                CHECK_MSG(fabs(mean) < 0.005, "%s seed %d: DC %.4f", src->name, (int)seed, mean);
            }
            if (bed) {
                // Beds sit around -12 dBFS RMS; the mixer adds its bed gain.
                CHECK_MSG(rms_db > -17.0 && rms_db < -10.0, "%s: RMS %.1f dBFS", src->name, rms_db);
            } else {
                // One-shots peak near -2 dBFS by design.
                CHECK_MSG(pk > rp_db_to_gain(-6.0), "%s seed %d: peak %.2f dBFS", src->name,
                          (int)seed, 20 * log10(pk));
                CHECK_NEAR((double)n, rp_sfx_preset_duration_s(p) * RATE, 1.0);
            }
            free(x);
        }
        rp_sfx_preset_free(p);
    }
}

static void test_oneshot_ends_in_silence(void)
{
    CHECK(preset("pod_impact") != NULL);
    for (size_t i = 0; i < lib.n; i++) {
        const rp_sfx_preset *p = lib.items[i];
        if (rp_sfx_preset_is_bed(p))
            continue;
        rp_sfx_voice *v = rp_sfx_voice_new(p, RATE, 7);
        CHECK(v != NULL);
        if (!v)
            continue;
        int64_t n = rp_sfx_voice_length(v);
        float *x = malloc((size_t)(n + 500) * 2 * sizeof *x);
        if (x) {
            rp_sfx_voice_render(v, x, (size_t)n + 500);
            CHECK_MSG(peak(x, n, n + 500) == 0.0, "%s sounds past its end",
                      rp_sfx_preset_name(p));
            // The end fade means the last frames are already near silence.
            CHECK_MSG(peak(x, n - 10, n) < 1e-3, "%s ends at %.4f", rp_sfx_preset_name(p),
                      peak(x, n - 10, n));
            rp_sfx_voice_render(v, x, 100);
            CHECK(peak(x, 0, 100) == 0.0);
            free(x);
        }
        rp_sfx_voice_free(v);
    }
}

// Tails decay to silence without subnormal floats (which are slow on most
// CPUs): every feedback path (filters, reverb, gates, grains, envelopes,
// the DC blocker) is flushed to exact zero once below audibility. A preset
// built to ring out: low resonant filters, gates that close for seconds, a
// short dense reverb and a long tail. (The built-in presets are checked for
// subnormals in the parse-and-render and the bed tests.)
static void test_tails_decay_to_exact_silence(void)
{
    const char *text = "duration = 3 s\ntail = 20 s\nreverb_size = 0\nreverb_damp = 1\n"
                       "[layer burst]\nsource = white\nlength = 0.05 s\nenvelope = exp\n"
                       "decay = 5 ms\ndrive = 12 dB\nreverb = 1\n"
                       "[layer ring]\nsource = pink\nevents = 0.3 /s\nevent_decay = 1 ms\n"
                       "filter = lowpass\ncutoff = 40 Hz\nq = 20\nstages = 4\nlowcut = 20 Hz\n"
                       "reverb = 0.5\n"
                       "[layer tone]\nsource = sine\nfreq = 55 Hz\nenvelope = exp\ndecay = 10 ms\n"
                       "filter = bandpass\ncutoff = 55 Hz\nq = 30\n"
                       "[layer ticks]\nsource = crackle\ndensity = 0.5 /s\ngrain = 0.1 s\n"
                       "filter = highpass\ncutoff = 30 Hz\nq = 10\nreverb = 0.3\n"
                       "[layer buzz]\nsource = square\nduty = 0.3\nfreq = 110 Hz\n"
                       "envelope = exp\ndecay = 20 ms\ndrive = 12 dB\nreverb = 0.2\n";
    rp_diags d;
    rp_diags_init(&d);
    rp_sfx_preset *p = parse_text(text, &d);
    CHECK(p != NULL && d.n == 0);
    rp_diags_deinit(&d);
    int rates[] = {8000, 44100, 48000};
    for (size_t r = 0; p && r < sizeof rates / sizeof *rates; r++) {
        for (uint64_t seed = 1; seed <= 3; seed++) {
            int64_t n;
            float *x = render(p, rates[r], seed, 0, &n);
            CHECK(x != NULL);
            if (!x)
                continue;
            int64_t sub = 0, nonzero = 0;
            for (int64_t i = 0; i < 2 * n; i++) {
                sub += fpclassify(x[i]) == FP_SUBNORMAL;
                nonzero += i >= 2 * (n - 2 * (int64_t)rates[r]) && x[i] != 0.0f;
            }
            CHECK_MSG(sub == 0, "%d Hz seed %d: %lld subnormal samples", rates[r], (int)seed,
                      (long long)sub);
            CHECK_MSG(nonzero == 0, "%d Hz seed %d: %lld non-zero samples in the last 2 s",
                      rates[r], (int)seed, (long long)nonzero);
            CHECK(peak(x, 0, n) > 0.01);
            free(x);
        }
    }
    rp_sfx_preset_free(p);
}

static void test_thunder_sounds_like_thunder(void)
{
    const rp_sfx_preset *p = preset("thunder");
    if (!p)
        return;
    double dur = rp_sfx_preset_duration_s(p);
    CHECK(dur >= 5.0 && dur <= 10.0);
    for (uint64_t seed = 1; seed <= 3; seed++) {
        int64_t n;
        float *x = render(p, RATE, seed, 0, &n);
        if (!x)
            continue;
        // The crack: bright, broadband.
        double crack_hi = band_share(x, 0, RATE * 3 / 10, 1, 2000.0, RATE);
        CHECK_MSG(crack_hi > 0.2, "crack >2 kHz share %.2f", crack_hi);
        // The roll: mostly below 250 Hz, long and still loud after 1 s.
        double roll_lo = band_share(x, RATE, n, 0, 250.0, RATE);
        CHECK_MSG(roll_lo > 0.8, "roll <250 Hz share %.2f", roll_lo);
        CHECK(db(power(x, RATE, 2 * RATE)) > -30.0);
        CHECK(db(power(x, 4 * RATE, 5 * RATE)) > -45.0);
        // It rumbles: the level in 100 ms windows swings by more than 6 dB.
        double swing = level_swing(x, RATE, 4 * RATE, RATE / 10);
        CHECK_MSG(swing > 6.0, "roll swings only %.1f dB", swing);
        free(x);
    }
}

static void test_pod_impact_sounds_like_a_slam(void)
{
    const rp_sfx_preset *p = preset("pod_impact");
    if (!p)
        return;
    double dur = rp_sfx_preset_duration_s(p);
    CHECK(dur >= 2.0 && dur <= 3.5);
    int64_t n;
    float *x = render(p, RATE, 1, 0, &n);
    if (!x)
        return;
    int64_t onset = RATE / 5;
    // A heavy low thump in the first 200 ms: loud and mostly below 120 Hz.
    CHECK(db(power(x, 0, onset)) > -20.0);
    double low = band_share(x, 0, onset, 0, 120.0, RATE);
    CHECK_MSG(low > 0.6, "onset <120 Hz share %.2f", low);
    // Its pitch falls: the dominant low frequency early beats the later one.
    double f_early = dominant_hz(x, 0, RATE / 20, 20.0, 120.0, RATE);
    double f_late = dominant_hz(x, RATE / 4, RATE / 2, 20.0, 120.0, RATE);
    CHECK_MSG(f_early > f_late + 10.0, "thump %.1f Hz -> %.1f Hz", f_early, f_late);
    // The crunch: real energy above 2 kHz at the hit.
    double crunch = band_energy(x, 0, onset, 0, 1, 2000.0, RATE) / (double)onset;
    CHECK_MSG(db(crunch) > -40.0, "crunch %.1f dB", db(crunch));
    // Debris and ring keep going after the thump has died away.
    CHECK(db(power(x, RATE, 2 * RATE)) > -55.0);
    double tail_low = band_share(x, RATE, 2 * RATE, 0, 120.0, RATE);
    CHECK_MSG(tail_low < 0.5, "tail <120 Hz share %.2f", tail_low);
    free(x);
}

static void test_drone_whirrs_past(void)
{
    const rp_sfx_preset *p = preset("drone");
    if (!p)
        return;
    int64_t n;
    float *x = render(p, RATE, 1, 0, &n);
    if (!x)
        return;
    // Amplitude modulation (the rotor whirr): the envelope of the middle
    // second has a strong component between 30 and 60 Hz.
    int m = 1000; // envelope at 1 kHz
    double env[1000], state[2] = {0, 0};
    double k = 1.0 - exp(-2.0 * PI * 80.0 / RATE);
    int64_t i0 = 2 * RATE - RATE / 2;
    for (int64_t i = i0 - RATE / 10, j = 0; j < m; i++) {
        double a = fabs(x[2 * i]) + fabs(x[2 * i + 1]);
        state[0] += k * (a - state[0]);
        state[1] += k * (state[0] - state[1]);
        if (i >= i0 && (i - i0) % (RATE / 1000) == 0)
            env[j++] = state[1];
    }
    double mean = 0.0;
    for (int j = 0; j < m; j++)
        mean += env[j] / m;
    for (int j = 0; j < m; j++)
        env[j] -= mean;
    double best = 0.0, best_f = 0.0, floor_sum = 0.0;
    int floor_n = 0;
    for (double f = 30.0; f <= 60.0; f += 1.0) {
        double mag = dft_mag(env, m, f, 1000.0);
        if (mag > best) {
            best = mag;
            best_f = f;
        }
    }
    for (double f = 5.0; f <= 25.0; f += 1.0, floor_n++)
        floor_sum += dft_mag(env, m, f, 1000.0);
    double depth = best / mean;
    CHECK_MSG(depth > 0.3, "whirr modulation depth %.2f at %.0f Hz", depth, best_f);
    CHECK_MSG(best > 5.0 * floor_sum / floor_n, "whirr %.4f vs floor %.4f", best,
              floor_sum / floor_n);
    // It passes from left to right.
    double start_bal = balance_db(x, RATE / 5, RATE + RATE / 5);
    double end_bal = balance_db(x, n - RATE - RATE / 2, n - RATE / 2);
    CHECK_MSG(start_bal > 6.0, "start balance %.1f dB", start_bal);
    CHECK_MSG(end_bal < -6.0, "end balance %.1f dB", end_bal);
    // It swells as it passes: the middle is louder than either end.
    double mid = db(power(x, 2 * RATE, 3 * RATE));
    CHECK(mid > db(power(x, 0, RATE)) + 6.0);
    CHECK(mid > db(power(x, 4 * RATE, 5 * RATE)) + 6.0);
    // The Doppler drop: the rotor's fundamental falls by over 1.5 semitones.
    double f_in = dominant_hz(x, RATE / 2, RATE + RATE / 2, 100.0, 200.0, RATE);
    double f_out = dominant_hz(x, 3 * RATE + RATE / 2, 4 * RATE + RATE / 2, 100.0, 200.0, RATE);
    CHECK_MSG(f_in > 120.0 && f_in < 190.0, "rotor at %.1f Hz", f_in);
    CHECK_MSG(12.0 * log2(f_in / f_out) > 1.5, "Doppler %.1f Hz -> %.1f Hz", f_in, f_out);
    free(x);
}

static void test_rain_is_steady_and_bright(void)
{
    const rp_sfx_preset *p = preset("rain");
    if (!p)
        return;
    CHECK(rp_sfx_preset_is_bed(p));
    CHECK(rp_sfx_preset_duration_s(p) == 0.0);
    int64_t n;
    float *x = render(p, RATE, 3, 30 * RATE, &n);
    if (!x)
        return;
    double spread = spread_db(x, 0, 3);
    CHECK_MSG(spread < 1.5, "10 s windows within %.2f dB", spread);
    double hi = band_share(x, RATE, n, 1, 2000.0, RATE);
    CHECK_MSG(hi > 0.2, "rain >2 kHz share %.2f", hi);
    CHECK(band_share(x, RATE, n, 0, 250.0, RATE) < 0.3);
    // Droplets: short ticks that stand out from the wash by 7 dB or more.
    double crest = 20 * log10(peak(x, RATE, n)) - db(power(x, RATE, n));
    CHECK_MSG(crest > 7.0, "crest %.1f dB", crest);
    free(x);
}

static void test_wind_gusts(void)
{
    const rp_sfx_preset *p = preset("wind");
    if (!p)
        return;
    CHECK(rp_sfx_preset_is_bed(p));
    int64_t n;
    float *x = render(p, RATE, 2, 30 * RATE, &n);
    if (!x)
        return;
    // Mostly a mid band: little above 4 kHz, not a sub rumble.
    double total = power(x, RATE, n) * 2.0 * (double)(n - RATE);
    double above =
        band_energy(x, RATE, n, 0, 1, 4000.0, RATE) + band_energy(x, RATE, n, 1, 1, 4000.0, RATE);
    CHECK_MSG(above / total < 0.1, "wind >4 kHz share %.2f", above / total);
    CHECK(band_share(x, RATE, n, 0, 100.0, RATE) < 0.5);
    // Gusts: half-second levels swing by more than 4 dB.
    double swing = level_swing(x, RATE, n, RATE / 2);
    CHECK_MSG(swing > 4.0, "wind swings only %.1f dB", swing);
    free(x);
}

static void test_distant_thunder_is_muffled(void)
{
    const rp_sfx_preset *p = preset("distant_thunder");
    if (!p)
        return;
    int64_t n;
    float *x = render(p, RATE, 1, 0, &n);
    if (!x)
        return;
    // No crack: even the start is low, and nearly nothing above 2 kHz.
    CHECK(band_share(x, 0, RATE * 3 / 10, 1, 2000.0, RATE) < 0.01);
    CHECK(band_share(x, 0, n, 0, 250.0, RATE) > 0.9);
    CHECK(db(power(x, 2 * RATE, 3 * RATE)) > -30.0);
    free(x);
}

static void test_explosion_blast_then_boom(void)
{
    const rp_sfx_preset *p = preset("explosion");
    if (!p)
        return;
    int64_t n;
    float *x = render(p, RATE, 1, 0, &n);
    if (!x)
        return;
    // A broadband blast at once, a low boom under it, then a low decay.
    CHECK(band_share(x, 0, RATE / 10, 1, 2000.0, RATE) > 0.1);
    CHECK(band_share(x, 0, RATE / 2, 0, 120.0, RATE) > 0.4);
    CHECK(band_share(x, RATE, n, 0, 250.0, RATE) > 0.8);
    CHECK(db(power(x, 0, RATE / 5)) > db(power(x, 2 * RATE, 3 * RATE)) + 15.0);
    free(x);
}

static void test_alarm_two_tones(void)
{
    const rp_sfx_preset *p = preset("alarm");
    if (!p)
        return;
    int64_t n;
    float *x = render(p, RATE, 1, 0, &n);
    if (!x)
        return;
    // The square vibrato at 1.5 Hz holds each tone for 1/3 s: the dominant
    // pitch of the first and second third of a second differs by 4 st.
    double f1 = dominant_hz(x, RATE / 30, RATE * 9 / 30, 500.0, 1000.0, RATE);
    double f2 = dominant_hz(x, RATE * 11 / 30, RATE * 19 / 30, 500.0, 1000.0, RATE);
    double st = 12.0 * log2(f1 / f2);
    CHECK_MSG(fabs(fabs(st) - 4.0) < 0.5, "tones %.1f Hz and %.1f Hz", f1, f2);
    CHECK(band_share(x, 0, n, 0, 250.0, RATE) < 0.05);
    free(x);
}

static void test_comms_static_is_radio_band(void)
{
    const rp_sfx_preset *p = preset("comms_static");
    if (!p)
        return;
    int64_t n;
    float *x = render(p, RATE, 1, 0, &n);
    if (!x)
        return;
    CHECK(band_share(x, 0, n, 0, 250.0, RATE) < 0.02);
    CHECK(band_share(x, 0, n, 1, 1000.0, RATE) > 0.5);
    // The squelch bursts make both ends louder than the middle.
    double mid = db(power(x, RATE / 2, RATE));
    CHECK(db(power(x, 0, RATE / 20)) > mid + 3.0);
    CHECK(db(power(x, n - RATE / 5, n - RATE / 10)) > mid + 3.0);
    free(x);
}

static void test_reentry_roars_overhead(void)
{
    const rp_sfx_preset *p = preset("reentry");
    if (!p)
        return;
    double dur = rp_sfx_preset_duration_s(p);
    CHECK(dur >= 5.0 && dur <= 12.0);
    for (uint64_t seed = 1; seed <= 3; seed++) {
        int64_t n;
        float *x = render(p, RATE, seed, 0, &n);
        if (!x)
            continue;
        // It crosses the sky: from the left to the right.
        double start_bal = balance_db(x, RATE / 2, 2 * RATE);
        double end_bal = balance_db(x, 6 * RATE, 7 * RATE + RATE / 2);
        CHECK_MSG(start_bal > 4.0, "start balance %.1f dB", start_bal);
        CHECK_MSG(end_bal < -4.0, "end balance %.1f dB", end_bal);
        // It swells to the pass at 4 s and dies away.
        double mid = db(power(x, 3 * RATE + RATE / 2, 4 * RATE + RATE / 2));
        double first = db(power(x, RATE / 4, RATE + RATE / 4));
        double last = db(power(x, 6 * RATE + RATE / 2, 7 * RATE + RATE / 2));
        CHECK_MSG(mid > first + 10.0 && mid > last + 10.0, "levels %.1f, %.1f, %.1f dB", first,
                  mid, last);
        // A broadband roar, mostly low: at the pass over half the energy is
        // below 1 kHz, yet over 1% is above 2 kHz.
        double lo = band_share(x, 3 * RATE + RATE / 2, 4 * RATE + RATE / 2, 0, 1000.0, RATE);
        double hi = band_share(x, 3 * RATE + RATE / 2, 4 * RATE + RATE / 2, 1, 2000.0, RATE);
        CHECK_MSG(lo > 0.5 && hi > 0.01, "pass <1 kHz share %.2f, >2 kHz share %.3f", lo, hi);
        // The Doppler fall: brighter approaching than receding.
        double in = band_share(x, 2 * RATE + RATE / 2, 3 * RATE + RATE / 2, 1, 1000.0, RATE);
        double out = band_share(x, 4 * RATE + RATE / 2, 5 * RATE + RATE / 2, 1, 1000.0, RATE);
        CHECK_MSG(in > 1.5 * out, ">1 kHz share %.3f approaching, %.3f receding", in, out);
        free(x);
    }
}

static void test_plasma_shot_zaps_down(void)
{
    const rp_sfx_preset *p = preset("plasma_shot");
    if (!p)
        return;
    CHECK(rp_sfx_preset_duration_s(p) < 1.0);
    int64_t n;
    float *x = render(p, RATE, 1, 0, &n);
    if (!x)
        return;
    // A bright onset: the loudest moment is in the first 30 ms, and the
    // first 20 ms hold ten times the share above 3 kHz of 100..200 ms.
    CHECK(peak(x, 0, RATE * 3 / 100) >= peak(x, 0, n));
    double bright = band_share(x, 0, RATE / 50, 1, 3000.0, RATE);
    double dull = band_share(x, RATE / 10, RATE / 5, 1, 3000.0, RATE);
    CHECK_MSG(bright > 0.15 && bright > 10.0 * dull, ">3 kHz share %.3f at the onset, %.3f later",
              bright, dull);
    // The pitch dives: over an octave and a half from the first 50 ms to
    // 150..200 ms.
    double f_start = strongest_hz(x, RATE / 200, RATE / 20, 100.0, 5000.0, 5.0, RATE);
    double f_end = strongest_hz(x, RATE * 15 / 100, RATE / 5, 50.0, 2000.0, 2.0, RATE);
    CHECK_MSG(log2(f_start / f_end) > 1.5, "pitch %.0f Hz -> %.0f Hz", f_start, f_end);
    // It is gone fast: 250..350 ms in, it is 20 dB below its first 50 ms.
    double fall = db(power(x, 0, RATE / 20)) - db(power(x, RATE / 4, RATE * 7 / 20));
    CHECK_MSG(fall > 20.0, "falls only %.1f dB", fall);
    free(x);
}

// The time (s) of the crack: the first frame whose |sample| exceeds half
// the sound's peak.
static double first_loud_s(const float *x, int64_t n)
{
    double half = 0.5 * peak(x, 0, n);
    for (int64_t i = 0; i < n; i++)
        if (fabs(x[2 * i]) > half || fabs(x[2 * i + 1]) > half)
            return (double)i / RATE;
    return -1.0;
}

static void test_rail_shot_charges_cracks_rings(void)
{
    const rp_sfx_preset *p = preset("rail_shot");
    if (!p)
        return;
    int64_t n;
    float *x = render(p, RATE, 1, 0, &n);
    if (!x)
        return;
    // The crack comes after a charge of at least half a second.
    double tc = first_loud_s(x, n);
    CHECK_MSG(tc > 0.5 && tc < 1.5, "crack at %.3f s", tc);
    int64_t c = (int64_t)(tc * RATE);
    if (tc > 0.5 && tc < 1.5) {
        // The charge whine rises in pitch (over two octaves) and swells.
        double f1 = strongest_hz(x, c - RATE * 8 / 10, c - RATE * 6 / 10, 100.0, 6000.0, 5.0, RATE);
        double f2 = strongest_hz(x, c - RATE * 12 / 100, c - RATE / 50, 100.0, 6000.0, 5.0, RATE);
        CHECK_MSG(log2(f2 / f1) > 2.0, "charge %.0f Hz -> %.0f Hz", f1, f2);
        double swell = db(power(x, c - RATE * 12 / 100, c - RATE / 50)) -
                       db(power(x, c - RATE * 8 / 10, c - RATE * 6 / 10));
        CHECK_MSG(swell > 6.0, "charge swells %.1f dB", swell);
        // The crack is sharp: within 5 ms it peaks 10 dB over the whine of
        // the 50 ms before it (up to 2 ms before, where it starts to rise),
        // and it is bright.
        double jump =
            20.0 * log10(peak(x, c, c + RATE / 200) / peak(x, c - RATE / 20, c - RATE / 500));
        CHECK_MSG(jump > 10.0, "crack rises %.1f dB over the whine", jump);
        double crack_hi = band_share(x, c, c + RATE / 40, 1, 2000.0, RATE);
        CHECK_MSG(crack_hi > 0.5, "crack >2 kHz share %.2f", crack_hi);
        // Then the metal rings: high and tonal (one partial near 1.9 kHz
        // stands 20 dB over the spectrum around it), dying away.
        int64_t r0 = c + RATE * 3 / 10, r1 = c + RATE * 6 / 10;
        double hi = band_share(x, r0, r1, 1, 1000.0, RATE);
        CHECK_MSG(hi > 0.8, "ring >1 kHz share %.2f", hi);
        double fr = strongest_hz(x, r0, r1, 1000.0, 2500.0, 2.0, RATE);
        CHECK_MSG(fr > 1700.0 && fr < 2100.0, "ring at %.0f Hz", fr);
        double *s = mono(x, r0, r1);
        if (s) {
            int m = (int)(r1 - r0);
            for (int i = 0; i < m; i++)
                s[i] *= 0.5 - 0.5 * cos(2.0 * PI * i / (m - 1));
            double on = dft_mag(s, m, fr, RATE);
            double off = 0.5 * (dft_mag(s, m, fr - 150.0, RATE) + dft_mag(s, m, fr + 150.0, RATE));
            CHECK_MSG(20.0 * log10(on / off) > 20.0, "ring %.1f dB over its neighbours",
                      20.0 * log10(on / off));
            free(s);
        }
        CHECK(db(power(x, r0, r1)) > db(power(x, n - RATE / 2, n)) + 15.0);
    }
    free(x);
}

static void test_distant_battle_is_low_with_booms(void)
{
    const rp_sfx_preset *p = preset("distant_battle");
    if (!p)
        return;
    CHECK(rp_sfx_preset_is_bed(p));
    int64_t n;
    float *x = render(p, RATE, 4, 30 * RATE, &n);
    if (!x)
        return;
    // Far away: the energy is nearly all below 500 Hz, almost none above
    // 2 kHz.
    double lo = band_share(x, RATE, n, 0, 500.0, RATE);
    double hi = band_share(x, RATE, n, 1, 2000.0, RATE);
    CHECK_MSG(lo > 0.9 && hi < 0.01, "<500 Hz share %.3f, >2 kHz share %.4f", lo, hi);
    // Booms: below 90 Hz the level in 50 ms windows often jumps 6 dB or
    // more within 100 ms, at least once every two seconds.
    double *s = band(x, RATE, n, 0, 90.0);
    if (s) {
        double lv[600];
        int m = window_db(s, n - RATE, RATE / 20, lv, 600);
        int at[600];
        int k = onsets(lv, m, 2, 6.0, 20.0, 4, at, 600);
        double per_s = k / ((n - RATE) / (double)RATE);
        CHECK_MSG(per_s > 0.5 && per_s < 4.0, "%.2f booms a second", per_s);
        free(s);
    }
    // Gunfire: short transients in the 300 Hz..1 kHz band (crest factor).
    s = band(x, RATE, n, 300.0, 1000.0);
    if (s) {
        double cr = crest_db(s, n - RATE);
        CHECK_MSG(cr > 15.0, "300 Hz..1 kHz crest %.1f dB", cr);
        free(s);
    }
    // Steady over the half minute: 10 s windows within 1.5 dB.
    double spread = spread_db(x, RATE, 3);
    CHECK_MSG(spread < 1.5, "10 s windows within %.2f dB", spread);
    free(x);
}

static void test_shield_hum_is_steady(void)
{
    const rp_sfx_preset *p = preset("shield_hum");
    if (!p)
        return;
    CHECK(rp_sfx_preset_is_bed(p));
    int64_t n;
    float *x = render(p, RATE, 2, 20 * RATE, &n);
    if (!x)
        return;
    // One low fundamental, the same in every second: the strongest partial
    // (found coarsely, then to 0.5 Hz) of half-second windows 3 s apart.
    double f[5];
    for (int i = 0; i < 5; i++) {
        int64_t a = (2 + 3 * i) * RATE, e = a + RATE / 2;
        double c = strongest_hz(x, a, e, 40.0, 400.0, 2.0, RATE);
        f[i] = dominant_hz(x, a, e, c - 3.0, c + 3.0, RATE);
        CHECK_MSG(f[i] >= 50.0 && f[i] <= 130.0, "hum at %.1f Hz", f[i]);
        CHECK_MSG(fabs(f[i] - f[0]) <= 1.0, "hum drifts %.1f -> %.1f Hz", f[0], f[i]);
    }
    // Rich in harmonics: the 2nd and 3rd are within 12 dB of the
    // fundamental.
    double *s = mono(x, 5 * RATE, 6 * RATE);
    if (s) {
        for (int i = 0; i < RATE; i++)
            s[i] *= 0.5 - 0.5 * cos(2.0 * PI * i / (RATE - 1));
        double h1 = dft_mag(s, RATE, f[0], RATE);
        for (int h = 2; h <= 3; h++) {
            double hh = dft_mag(s, RATE, h * f[0], RATE);
            CHECK_MSG(20.0 * log10(hh / h1) > -12.0, "harmonic %d at %.1f dB", h,
                      20.0 * log10(hh / h1));
        }
        free(s);
    }
    // Steady: half-second levels swing by less than 3 dB...
    double swing = level_swing(x, RATE, n, RATE / 2);
    CHECK_MSG(swing < 3.0, "level swings %.1f dB", swing);
    // ...but it shimmers: the share above 400 Hz moves between seconds.
    double lo = 1.0, hi = 0.0;
    for (int64_t t = 1; t < 20; t++) {
        double b = band_share(x, t * RATE, (t + 1) * RATE, 1, 400.0, RATE);
        lo = b < lo ? b : lo;
        hi = b > hi ? b : hi;
    }
    CHECK_MSG(hi > 1.5 * lo, ">400 Hz share only %.3f..%.3f", lo, hi);
    free(x);
}

static void test_metal_footsteps_march(void)
{
    const rp_sfx_preset *p = preset("metal_footsteps");
    if (!p)
        return;
    double dur = rp_sfx_preset_duration_s(p);
    CHECK(dur >= 2.0 && dur <= 6.0);
    int64_t n;
    float *x = render(p, RATE, 1, 0, &n);
    if (!x)
        return;
    // Steps: 10 ms levels that jump 20 dB, at least 200 ms apart.
    double *s = mono(x, 0, n);
    double lv[1000];
    int m = s ? window_db(s, n, RATE / 100, lv, 1000) : 0;
    int at[64];
    int k = onsets(lv, m, 3, 20.0, 20.0, 20, at, 64);
    CHECK_MSG(k >= 4, "%d steps", k);
    if (k >= 4) {
        // Marching: 1.2..2.5 steps a second, evenly spaced (each gap
        // within 10% of the mean).
        double mean = (at[k - 1] - at[0]) / 100.0 / (k - 1);
        CHECK_MSG(1.0 / mean > 1.2 && 1.0 / mean < 2.5, "%.2f steps a second", 1.0 / mean);
        for (int i = 1; i < k; i++) {
            double gap = (at[i] - at[i - 1]) / 100.0;
            CHECK_MSG(fabs(gap - mean) < 0.1 * mean, "gap %.2f s, mean %.2f s", gap, mean);
        }
        for (int i = 0; i < k; i++) {
            int64_t t = (int64_t)at[i] * (RATE / 100) - RATE / 100;
            if (t < 0)
                t = 0;
            // Each strike is bright: a fifth of its first 50 ms is above
            // 2 kHz...
            double hi = band_share(x, t, t + RATE / 20, 1, 2000.0, RATE);
            CHECK_MSG(hi > 0.2, "step %d: >2 kHz share %.2f", i, hi);
            // ...and rings: 100..200 ms later, a tone between 2 and 3 kHz
            // is still sounding, 6..40 dB below the strike.
            double strike = db(power(x, t, t + RATE / 50));
            double ring = db(power(x, t + RATE / 10, t + RATE / 5));
            CHECK_MSG(ring > strike - 40.0 && ring < strike - 6.0, "step %d: ring %.1f dB",
                      i, ring - strike);
            double fr = strongest_hz(x, t + RATE / 10, t + RATE / 5, 1000.0, 4000.0, 5.0, RATE);
            CHECK_MSG(fr > 2000.0 && fr < 3000.0, "step %d rings at %.0f Hz", i, fr);
        }
        // Silence between steps: the 50 ms before each step is 30 dB down.
        for (int i = 1; i < k; i++) {
            int64_t t = (int64_t)at[i] * (RATE / 100) - RATE / 100;
            double gap = db(power(x, t - RATE / 20, t));
            double hit = db(power(x, t, t + RATE / 50));
            CHECK_MSG(gap < hit - 30.0, "before step %d: %.1f dB below", i, hit - gap);
        }
    }
    free(s);
    free(x);
}

static void test_steam_hiss_bursts_and_fades(void)
{
    const rp_sfx_preset *p = preset("steam_hiss");
    if (!p)
        return;
    double dur = rp_sfx_preset_duration_s(p);
    CHECK(dur >= 1.0 && dur <= 3.0);
    int64_t n;
    float *x = render(p, RATE, 1, 0, &n);
    if (!x)
        return;
    // A high hiss: over 70% of the energy above 2 kHz, next to nothing
    // below 250 Hz.
    double hi = band_share(x, 0, n, 1, 2000.0, RATE);
    CHECK_MSG(hi > 0.7, ">2 kHz share %.2f", hi);
    CHECK(band_share(x, 0, n, 0, 250.0, RATE) < 0.01);
    // Fast attack: the loudest 50 ms window is one of the first three.
    double *s = mono(x, 0, n);
    double lv[100];
    int m = s ? window_db(s, n, RATE / 20, lv, 100) : 0;
    int loudest = 0;
    for (int i = 1; i < m; i++)
        loudest = lv[i] > lv[loudest] ? i : loudest;
    CHECK_MSG(loudest <= 2, "loudest at %d ms", loudest * 50);
    // Slow decay: half a second in it is still within 10 dB of the start;
    // by 1.8 s it has fallen by more than 12 dB.
    double start = db(power(x, 0, RATE / 4));
    double half = db(power(x, RATE / 2, RATE * 3 / 4));
    double late = db(power(x, RATE * 18 / 10, RATE * 21 / 10));
    CHECK_MSG(half > start - 10.0, "at 0.5 s: %.1f dB", half - start);
    CHECK_MSG(late < start - 12.0, "at 1.8 s: %.1f dB", late - start);
    free(s);
    free(x);
}

static void test_scanner_beeps_steadily(void)
{
    const rp_sfx_preset *p = preset("scanner_beep");
    if (!p)
        return;
    int64_t n;
    float *x = render(p, RATE, 1, 0, &n);
    if (!x)
        return;
    // Beeps: 5 ms levels crossing 20 dB below the loudest.
    double *s = mono(x, 0, n);
    double lv[1000];
    int m = s ? window_db(s, n, RATE / 200, lv, 1000) : 0;
    double top = -1e9;
    for (int i = 0; i < m; i++)
        top = lv[i] > top ? lv[i] : top;
    int on[32], off[32], k = 0, koff = 0;
    for (int i = 1; i < m; i++) {
        if (lv[i] > top - 20.0 && lv[i - 1] <= top - 20.0 && k < 32)
            on[k++] = i;
        if (lv[i] <= top - 20.0 && lv[i - 1] > top - 20.0 && koff < 32)
            off[koff++] = i;
    }
    if (lv[0] > top - 20.0 && k < 32) { // a beep right at the start
        memmove(on + 1, on, (size_t)k * sizeof *on);
        on[0] = 0;
        k++;
    }
    CHECK_MSG(k >= 3 && k <= 10, "%d beeps", k);
    if (k >= 3 && koff >= k) {
        // A steady rate: every gap within 5 ms of the first, 0.2..1 s.
        double period = (on[1] - on[0]) / 200.0;
        CHECK_MSG(period > 0.2 && period < 1.0, "a beep every %.3f s", period);
        for (int i = 2; i < k; i++)
            CHECK_MSG(fabs((on[i] - on[i - 1]) / 200.0 - period) <= 0.005,
                      "beep %d after %.3f s", i, (on[i] - on[i - 1]) / 200.0);
        // Short beeps with silence between: 40 dB down in each gap.
        for (int i = 0; i + 1 < k; i++) {
            CHECK((off[i] - on[i]) / 200.0 < 0.6 * period);
            double quiet = 0.0;
            for (int j = off[i] + 2; j < on[i + 1] - 1; j++)
                quiet = lv[j] - top < quiet ? lv[j] - top : quiet;
            CHECK_MSG(quiet < -40.0, "gap %d only %.1f dB down", i, quiet);
        }
        // Each beep is the same electronic tone, 0.8..4 kHz.
        for (int i = 0; i < k; i++) {
            int64_t a = (int64_t)on[i] * (RATE / 200) + RATE / 200;
            double f = strongest_hz(x, a, a + RATE / 20, 200.0, 8000.0, 10.0, RATE);
            CHECK_MSG(f >= 800.0 && f <= 4000.0, "beep %d at %.0f Hz", i, f);
            if (i == 0)
                continue;
            int64_t a0 = (int64_t)on[0] * (RATE / 200) + RATE / 200;
            double f0 = strongest_hz(x, a0, a0 + RATE / 20, 200.0, 8000.0, 10.0, RATE);
            CHECK_MSG(fabs(f - f0) <= 20.0, "beep %d at %.0f Hz, first at %.0f Hz", i, f, f0);
        }
    }
    free(s);
    free(x);
}

static void test_fire_crackles(void)
{
    const rp_sfx_preset *p = preset("fire");
    if (!p)
        return;
    CHECK(rp_sfx_preset_is_bed(p));
    int64_t n;
    float *x = render(p, RATE, 5, 30 * RATE, &n);
    if (!x)
        return;
    // A low roar carries the energy...
    double lo = band_share(x, RATE, n, 0, 500.0, RATE);
    CHECK_MSG(lo > 0.7, "<500 Hz share %.2f", lo);
    // ...and crackles poke out of the 2..8 kHz band: it is impulsive
    // (crest factor over 20 dB), with a few pops a second that peak 20 dB
    // over the band's RMS.
    double *s = band(x, RATE, n, 2000.0, 8000.0);
    if (s) {
        int64_t m = n - RATE;
        double cr = crest_db(s, m);
        CHECK_MSG(cr > 20.0, "2..8 kHz crest %.1f dB", cr);
        double e = 0.0;
        for (int64_t i = 0; i < m; i++)
            e += s[i] * s[i];
        double loud = 10.0 * sqrt(e / (double)m);
        int pops = 0;
        for (int64_t i = 0, last = -RATE; i < m; i++) {
            if (fabs(s[i]) > loud && i - last > RATE / 50) {
                pops++;
                last = i;
            }
        }
        double per_s = pops / ((double)m / RATE);
        CHECK_MSG(per_s > 2.0 && per_s < 40.0, "%.1f pops a second", per_s);
        free(s);
    }
    free(x);
}

static void test_city_ruins_rumble(void)
{
    const rp_sfx_preset *p = preset("city_ruins");
    if (!p)
        return;
    CHECK(rp_sfx_preset_is_bed(p));
    int64_t n;
    float *x = render(p, RATE, 6, 40 * RATE, &n);
    if (!x)
        return;
    // A very low rumble carries the energy.
    double lo = band_share(x, RATE, n, 0, 300.0, RATE);
    CHECK_MSG(lo > 0.7, "<300 Hz share %.2f", lo);
    CHECK(band_share(x, RATE, n, 0, 30.0, RATE) < 0.2);
    // Stationary: 10 s windows within 1.5 dB.
    double spread = spread_db(x, RATE, 4);
    CHECK_MSG(spread < 1.5, "10 s windows within %.2f dB", spread);
    // Wind: the 400..900 Hz band gusts, its 1 s levels swinging 5 dB.
    double *s = band(x, RATE, n, 400.0, 900.0);
    if (s) {
        double lv[64];
        int m = window_db(s, n - RATE, RATE, lv, 64);
        double swing = percentile(lv, m, 1.0) - percentile(lv, m, 0.0);
        CHECK_MSG(swing > 5.0, "wind swings %.1f dB", swing);
        free(s);
    }
    // Debris now and then: above 3 kHz, 50 ms levels mostly quiet, with
    // bursts 15 dB over the median in a few percent of windows.
    s = band(x, RATE, n, 3000.0, 0);
    if (s) {
        double lv[1000];
        int m = window_db(s, n - RATE, RATE / 20, lv, 1000);
        double med = percentile(lv, m, 0.5);
        int loud = 0;
        for (int i = 0; i < m; i++)
            loud += lv[i] > med + 15.0;
        CHECK_MSG(loud > m / 100 && loud < m / 4, "%d of %d windows hold debris", loud, m);
        free(s);
    }
    free(x);
}

// Every bed plays a minute with no clicks and no drift in level, for
// several seeds. A click is a step between samples beyond what the bed
// does by nature: its largest step over the first 10 s of every seed. (One
// seed's first 10 s is too short a sample for a bed whose slow random
// drift brightens it now and then: wind's largest steps come with its
// gusts, as likely in any 10 s as in the first.)
#define BED_SEEDS 10
static void test_beds_loop_without_clicks(void)
{
    for (size_t i = 0; i < lib.n; i++) {
        const rp_sfx_preset *p = lib.items[i];
        if (!rp_sfx_preset_is_bed(p))
            continue;
        double natural = 0.0, later[BED_SEEDS] = {0};
        for (int seed = 1; seed <= BED_SEEDS; seed++) {
            int64_t n;
            float *x = render(p, RATE, (uint64_t)seed, 60 * RATE, &n);
            CHECK(x != NULL);
            if (!x)
                continue;
            CHECK_MSG(!has_bad_sample(x, n), "%s seed %d: NaN, inf or subnormal",
                      rp_sfx_preset_name(p), seed);
            for (int64_t j = 1; j < n; j++) {
                for (int ch = 0; ch < 2; ch++) {
                    double step = fabs(x[2 * j + ch] - x[2 * (j - 1) + ch]);
                    if (j < 10 * RATE)
                        natural = step > natural ? step : natural;
                    else
                        later[seed - 1] = step > later[seed - 1] ? step : later[seed - 1];
                }
            }
            // Level: every 10 s window within 2 dB of the minute's median
            // (wind gusts; rain is held to 1.5 dB in its own test).
            double w[6], sorted[6];
            for (int k = 0; k < 6; k++)
                w[k] = sorted[k] =
                    db(power(x, k * 10 * RATE + (k == 0 ? RATE : 0), (k + 1) * 10 * RATE));
            for (int a = 0; a < 6; a++)
                for (int b = a + 1; b < 6; b++)
                    if (sorted[b] < sorted[a]) {
                        double t = sorted[a];
                        sorted[a] = sorted[b];
                        sorted[b] = t;
                    }
            double median = 0.5 * (sorted[2] + sorted[3]);
            for (int k = 0; k < 6; k++)
                CHECK_MSG(fabs(w[k] - median) < 2.0,
                          "%s seed %d: window %d at %.2f dB, median %.2f dB", rp_sfx_preset_name(p),
                          seed, k, w[k], median);
            CHECK(peak(x, 0, n) <= 1.0);
            free(x);
        }
        for (int seed = 1; seed <= BED_SEEDS; seed++)
            CHECK_MSG(later[seed - 1] <= natural * 1.5 + 1e-6,
                      "%s seed %d: step %.3f vs natural %.3f", rp_sfx_preset_name(p), seed,
                      later[seed - 1], natural);
    }
}

// ---- determinism and rate ---------------------------------------------------

static void test_determinism(void)
{
    const char *names[] = {"thunder", "drone", "rain"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const rp_sfx_preset *p = preset(names[i]);
        if (!p)
            continue;
        int64_t n1, n2, n3;
        int64_t want = rp_sfx_preset_is_bed(p) ? 5 * RATE : 0;
        float *a = render(p, RATE, 42, want, &n1);
        float *b = render(p, RATE, 42, want, &n2);
        float *c = render(p, RATE, 43, want, &n3);
        CHECK(a && b && c && n1 == n2 && n1 == n3);
        if (a && b && c) {
            CHECK_MSG(memcmp(a, b, (size_t)n1 * 2 * sizeof *a) == 0, "%s: same seed differs",
                      names[i]);
            CHECK_MSG(memcmp(a, c, (size_t)n1 * 2 * sizeof *a) != 0, "%s: seeds agree", names[i]);
        }
        free(a);
        free(b);
        free(c);
    }
}

// A voice of the preset ctx, seed 5, that takes bytes as its state renders
// 2048 frames.
static int try_voice(const char *bytes, size_t len, void *ctx)
{
    rp_sfx_voice *t = rp_sfx_voice_new(ctx, RATE, 5);
    rp_unpacker u = {(const unsigned char *)bytes, len, 0};
    int refused = !t || rp_sfx_voice_load(t, &u) != RP_OK;
    if (!refused) {
        static float y[2 * 2048];
        rp_sfx_voice_render(t, y, 2048);
    }
    rp_sfx_voice_free(t);
    return refused;
}

// A saved voice (thunder: layers and a reverb) goes on to the bit in
// another. Damaged, each 32-bit word of the state's first 4 kB set in turn
// to a large value, to -1 and to 0: refused, or it renders within its
// buffers (AddressSanitizer's build reports a read or write outside them).
static void test_saved_voice_is_checked(void)
{
    const rp_sfx_preset *p = preset("thunder");
    if (!p)
        return;
    enum { N = RATE / 2, B = 4096 };
    rp_sfx_voice *v = rp_sfx_voice_new(p, RATE, 5), *w = rp_sfx_voice_new(p, RATE, 5);
    float *a = malloc(sizeof(float) * 2 * N), *b = malloc(sizeof(float) * 2 * B);
    CHECK(v && w && a && b);
    if (v && w && a && b) {
        rp_sfx_voice_render(v, a, N);
        rp_strbuf saved;
        rp_strbuf_init(&saved);
        rp_sfx_voice_save(v, &saved);
        rp_unpacker u = {(const unsigned char *)saved.s, saved.len, 0};
        CHECK_INT(rp_sfx_voice_load(w, &u), RP_OK);
        rp_sfx_voice_render(v, a, B);
        rp_sfx_voice_render(w, b, B);
        CHECK(memcmp(a, b, sizeof(float) * 2 * B) == 0);
        int tried;
        int refused = damaged_refused(saved.s, saved.len, 4096, try_voice, (void *)p, &tried);
        printf("  %zu bytes of state; %d damaged: %d refused, the rest ran within bounds\n",
               saved.len, tried, refused);
        CHECK(refused > 0 && refused < tried);
        rp_strbuf_deinit(&saved);
    }
    free(a);
    free(b);
    rp_sfx_voice_free(v);
    rp_sfx_voice_free(w);
}

// One call for the whole sound or frame-by-frame slices: same bytes.
static void test_slicing_does_not_matter(void)
{
    const rp_sfx_preset *p = preset("thunder");
    if (!p)
        return;
    rp_sfx_voice *v1 = rp_sfx_voice_new(p, RATE, 5), *v2 = rp_sfx_voice_new(p, RATE, 5);
    int64_t n = RATE;
    float *a = malloc((size_t)n * 2 * sizeof *a), *b = malloc((size_t)n * 2 * sizeof *b);
    if (v1 && v2 && a && b) {
        rp_sfx_voice_render(v1, a, (size_t)n);
        int64_t done = 0;
        size_t k = 1;
        while (done < n) {
            size_t m = (size_t)(n - done) < k ? (size_t)(n - done) : k;
            rp_sfx_voice_render(v2, b + 2 * done, m);
            done += (int64_t)m;
            k = k % 37 + 3;
        }
        CHECK(memcmp(a, b, (size_t)n * 2 * sizeof *a) == 0);
    } else {
        CHECK(0);
    }
    free(a);
    free(b);
    rp_sfx_voice_free(v1);
    rp_sfx_voice_free(v2);
}

// A layer's randomness comes from its own name: changing one layer does not
// reshuffle another.
static void test_layers_have_own_randomness(void)
{
    const char *a_text = "duration = 1\n[layer a]\nsource = white\npan = -1\n"
                         "[layer b]\nsource = crackle\ndensity = 30\npan = 1\n";
    const char *b_text = "duration = 1\n[layer a]\nsource = white\npan = -1\n"
                         "[layer b]\nsource = pink\nfilter = lowpass\ncutoff = 300\npan = 1\n"
                         "[layer c]\nsource = brown\npan = 1\n";
    rp_diags d;
    rp_diags_init(&d);
    rp_sfx_preset *pa = parse_text(a_text, &d), *pb = parse_text(b_text, &d);
    CHECK(pa && pb && d.n == 0);
    if (pa && pb) {
        int64_t n1, n2;
        float *x = render(pa, RATE, 9, 0, &n1), *y = render(pb, RATE, 9, 0, &n2);
        CHECK(x && y && n1 == n2);
        double diff = 0.0, lvl = 0.0;
        for (int64_t i = 0; x && y && i < n1; i++) {
            diff = fmax(diff, fabs(x[2 * i] - y[2 * i]));
            lvl = fmax(lvl, fabs(x[2 * i]));
        }
        // Hard right leaks cos(pi/2) ~ 6e-17 into the left channel, no more.
        CHECK_MSG(diff < 1e-6 && lvl > 0.1, "left differs by %g", diff);
        free(x);
        free(y);
    }
    rp_sfx_preset_free(pa);
    rp_sfx_preset_free(pb);
    rp_diags_deinit(&d);
}

static void test_rate_independence(void)
{
    const rp_sfx_preset *p = preset("thunder");
    if (!p)
        return;
    rp_sfx_voice *v44 = rp_sfx_voice_new(p, 44100, 1), *v48 = rp_sfx_voice_new(p, 48000, 1);
    CHECK(v44 && v48);
    if (v44 && v48) {
        double dur = rp_sfx_preset_duration_s(p);
        CHECK_INT(rp_sfx_voice_length(v44), llround(dur * 44100));
        CHECK_INT(rp_sfx_voice_length(v48), llround(dur * 48000));
    }
    rp_sfx_voice_free(v44);
    rp_sfx_voice_free(v48);
    // The same sound at both rates: same level and the same band balance.
    const char *names[] = {"thunder", "drone", "pod_impact"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        p = preset(names[i]);
        if (!p)
            continue;
        int64_t na, nb;
        float *a = render(p, 44100, 1, 0, &na), *b = render(p, 48000, 1, 0, &nb);
        if (a && b) {
            CHECK_NEAR(db(power(a, 0, na)), db(power(b, 0, nb)), 1.0);
            CHECK_NEAR(band_share(a, 0, na, 0, 250.0, 44100), band_share(b, 0, nb, 0, 250.0, 48000),
                       0.05);
            CHECK_NEAR(balance_db(a, 0, 44100), balance_db(b, 0, 48000), 1.5);
        }
        free(a);
        free(b);
    }
    // Beds and rate limits.
    p = preset("rain");
    if (p) {
        rp_sfx_voice *v = rp_sfx_voice_new(p, 22050, 1);
        CHECK(v && rp_sfx_voice_length(v) == -1);
        rp_sfx_voice_free(v);
    }
    CHECK(rp_sfx_voice_new(p, 100, 1) == NULL);
}

// ---- parser -----------------------------------------------------------------

static void test_parse_valid_with_units_and_comments(void)
{
    const char *text = "# a test preset\r\n"
                       "description = Test: a#b stays # but this is a comment\r\n"
                       "kind = oneshot  # comment\r\n"
                       "duration = 1500 ms\r\n"
                       "\r\n"
                       "[layer body]\r\n"
                       "source = SAW\r\n"
                       "freq = 2 kHz -> 100Hz\r\n"
                       "filter = bandpass\r\n"
                       "cutoff = 800 -> 1.2e3 Hz\r\n"
                       "gain = -6 dB\r\n"
                       "pan = -0.5 -> .5\r\n"
                       "[ layer  tail-2 ]\r\n"
                       "source = crackle\r\n"
                       "density = 20 /s\r\n";
    rp_diags d;
    rp_diags_init(&d);
    rp_sfx_preset *p = parse_text(text, &d);
    CHECK(p != NULL);
    CHECK_INT(d.n, 0);
    if (p) {
        CHECK_STR(rp_sfx_preset_name(p), "test");
        CHECK_STR(rp_sfx_preset_description(p), "Test: a#b stays");
        CHECK(!rp_sfx_preset_is_bed(p));
        CHECK_NEAR(rp_sfx_preset_duration_s(p), 1.5, 1e-12);
        CHECK(keys_contain(p, "layer.body.freq = 2000 Hz -> 100 Hz"));
        CHECK(keys_contain(p, "layer.body.cutoff = 800 Hz -> 1200 Hz"));
        CHECK(keys_contain(p, "layer.body.source = saw"));
        CHECK(keys_contain(p, "layer.body.pan = -0.5 -> 0.5"));
        CHECK(keys_contain(p, "layer.tail-2.density = 20 /s"));
        CHECK(keys_contain(p, "gain = 0 dB"));
    }
    rp_sfx_preset_free(p);
    rp_diags_deinit(&d);
}

static void test_parse_errors(void)
{
    const char *text = "description = broken\n"     // 1
                       "duraton = 2\n"              // 2
                       "source = white\n"           // 3
                       "[layer a]\n"                // 4
                       "source = whte\n"            // 5
                       "cutoff = 50000\n"           // 6
                       "q = abc\n"                  // 7
                       "attack = 5 Hz\n"            // 8
                       "  gain = -3 dB -> 0\n"      // 9
                       "filter = lowpass\n"         // 10
                       "filter = highpass\n"        // 11
                       "stages = 2.5\n"             // 12
                       "cutoff = 100 -> 30000 Hz\n" // 13
                       "just words\n"               // 14
                       "duration = 3\n"             // 15
                       "[lyer b]\n"                 // 16
                       "[layer a]\n"                // 17
                       "[layer c]\n"                // 18
                       "pan = 0.5 0.7\n";           // 19
    rp_diags d;
    rp_diags_init(&d);
    rp_sfx_preset *p = NULL;
    rp_status st = rp_sfx_preset_parse("broken", "broken.sfx", text, strlen(text), &p, &d);
    CHECK_INT(st, RP_ERR_INPUT);
    CHECK(p == NULL);
    CHECK_DIAG(&d, "unknown key 'duraton'", 2, 1, "did you mean 'duration'?");
    CHECK_DIAG(&d, "'source' belongs in a [layer NAME] section", 3, 1, "start a layer");
    CHECK_DIAG(&d, "unknown source 'whte'", 5, 10, "did you mean 'white'?");
    CHECK_DIAG(&d, "cutoff must be between 20 and 20000 Hz", 6, 10, NULL);
    CHECK_DIAG(&d, "q: expected a number, got 'abc'", 7, 5, NULL);
    CHECK_DIAG(&d, "unit 'Hz' does not fit attack", 8, 12, "use s or ms");
    CHECK_DIAG(&d, "gain takes one value, not a sweep", 9, 16, "only freq, cutoff and pan");
    CHECK_DIAG(&d, "'filter' is set twice (first on line 10)", 11, 1, NULL);
    CHECK_DIAG(&d, "stages must be a whole number between 1 and 4", 12, 10, NULL);
    CHECK_DIAG(&d, "cutoff must be between 20 and 20000 Hz", 13, 17, NULL);
    CHECK_DIAG(&d, "expected 'key = value', got 'just words'", 14, 1, NULL);
    CHECK_DIAG(&d, "'duration' is a preset key, not a layer key", 15, 1, "before the first");
    CHECK_DIAG(&d, "unknown section 'lyer'", 16, 2, "did you mean 'layer'?");
    CHECK_DIAG(&d, "duplicate layer 'a' (first on line 4)", 17, 8, NULL);
    CHECK_DIAG(&d, "layer 'c' has no source", 18, 1, "source = white");
    CHECK_DIAG(&d, "unexpected '0.7' after the value of pan", 19, 11, "a -> b");
    CHECK_DIAG(&d, "a one-shot preset needs a duration", 0, 0, NULL);
    CHECK_INT(d.n_errors, 17);
    for (size_t i = 0; i < d.n; i++)
        CHECK_STR(d.items[i].file, "broken.sfx");
    rp_diags_deinit(&d);

    // No layer at all, and a file that is not text.
    rp_diags_init(&d);
    p = parse_text("kind = bed\n", &d);
    CHECK(p == NULL);
    CHECK_DIAG(&d, "preset has no [layer NAME] section", 0, 0, "[layer");
    rp_diags_deinit(&d);
    rp_diags_init(&d);
    p = parse_text("duration = 1\n[layer a\nsource = white\n", &d);
    CHECK(p == NULL);
    CHECK_DIAG(&d, "expected ']' at the end of the line", 2, 9, NULL);
    rp_diags_deinit(&d);
    rp_diags_init(&d);
    const char nul[] = "duration = 1\n[layer a]\nsource = wh\0ite\n";
    CHECK(rp_sfx_preset_parse("n", "n.sfx", nul, sizeof nul - 1, &p, &d) == RP_ERR_INPUT);
    CHECK_DIAG(&d, "NUL byte", 3, 1, NULL);
    rp_diags_deinit(&d);
    // Columns count code points, not bytes.
    rp_diags_init(&d);
    p = parse_text("description = \xc3\xa9t\xc3\xa9\nduration = 1\n[layer a]\n"
                   "source = sine\ngain=\xc3\xa9\xc3\xa9 \n",
                   &d);
    CHECK(p == NULL);
    CHECK_DIAG(&d, "gain: expected a number", 5, 6, NULL);
    rp_diags_deinit(&d);
}

static void test_parse_kind_rules(void)
{
    rp_diags d;
    rp_diags_init(&d);
    rp_sfx_preset *p = parse_text("kind = bed\nduration = 3\n[layer a]\nsource = white\n"
                                  "length = 2\nfilter = lowpass\ncutoff = 100 -> 200\n"
                                  "[layer b]\nsource = pink\nstart = 1\n",
                                  &d);
    CHECK(p == NULL);
    CHECK_DIAG(&d, "duration has no meaning in a bed", 2, 12, NULL);
    CHECK_DIAG(&d, "length has no meaning in a bed layer", 5, 10, NULL);
    CHECK_DIAG(&d, "a sweep in a bed layer needs sweep_time", 7, 10, "sweep_time");
    CHECK_INT(d.n_errors, 3);
    rp_diags_deinit(&d);
    rp_diags_init(&d);
    p = parse_text("duration = 2\n[layer a]\nsource = white\nstart = 2.5\n", &d);
    CHECK(p == NULL);
    CHECK_DIAG(&d, "layer 'a' starts at 2.5 s, not before the preset's duration 2 s", 4, 9, NULL);
    rp_diags_deinit(&d);
}

// ---- overrides and library --------------------------------------------------

// RP_MAX_SFX_LAYERS layers parse; one more is an error at its section line.
static void test_layer_limit(void)
{
    rp_strbuf b;
    rp_strbuf_init(&b);
    rp_strbuf_puts(&b, "kind = bed\n");
    for (int i = 0; i < RP_MAX_SFX_LAYERS; i++)
        rp_strbuf_printf(&b, "[layer l%d]\nsource = pink\n", i);
    rp_diags d;
    rp_diags_init(&d);
    rp_sfx_preset *p = parse_text(b.s, &d);
    CHECK(p != NULL);
    CHECK_INT(d.n, 0);
    rp_sfx_preset_free(p);
    rp_strbuf_puts(&b, "[layer one_more]\nsource = pink\n");
    p = parse_text(b.s, &d);
    CHECK(p == NULL);
    char want[64];
    snprintf(want, sizeof want, "too many layers (at most %d)", RP_MAX_SFX_LAYERS);
    CHECK_DIAG(&d, want, 2 + 2 * RP_MAX_SFX_LAYERS, 1, NULL);
    CHECK_INT(d.n_errors, 1);
    rp_diags_deinit(&d);
    rp_strbuf_deinit(&b);
}

// LF, CRLF and lone CR end lines alike, as in chapters and rooms.
static void test_line_ends(void)
{
    static const char *const texts[] = {"kind = bed\n[layer a]\nsource = pink\n",
                                        "kind = bed\r\n[layer a]\r\nsource = pink\r\n",
                                        "kind = bed\r[layer a]\rsource = pinc\r"};
    for (size_t i = 0; i < 3; i++) {
        rp_diags d;
        rp_diags_init(&d);
        rp_sfx_preset *p = parse_text(texts[i], &d);
        CHECK(i < 2 ? p != NULL : p == NULL);
        if (i == 2)
            CHECK_DIAG(&d, "unknown source 'pinc'", 3, 10, "did you mean 'pink'?");
        rp_sfx_preset_free(p);
        rp_diags_deinit(&d);
    }
}

static void test_overrides(void)
{
    const rp_sfx_preset *orig = preset("thunder");
    if (!orig)
        return;
    rp_sfx_preset *p = rp_sfx_preset_clone(orig);
    CHECK(p != NULL);
    if (!p)
        return;
    rp_diags d;
    rp_diags_init(&d);
    CHECK_INT(rp_sfx_preset_override(p, "gain", "-6", "ch.cast", 3, 8, &d), RP_OK);
    CHECK_INT(rp_sfx_preset_override(p, "layer.crack.cutoff", " 800 Hz ", "ch.cast", 4, 22, &d),
              RP_OK);
    CHECK_INT(rp_sfx_preset_override(p, "duration", "5 s", "ch.cast", 5, 12, &d), RP_OK);
    CHECK_INT(rp_sfx_preset_override(p, "description", "Mine", "ch.cast", 6, 15, &d), RP_OK);
    CHECK_INT(d.n, 0);
    CHECK(keys_contain(p, "gain = -6 dB"));
    CHECK(keys_contain(p, "layer.crack.cutoff = 800 Hz    #"));
    CHECK_STR(rp_sfx_preset_description(p), "Mine");
    CHECK_NEAR(rp_sfx_preset_duration_s(p), 5.0 + rp_sfx_preset_duration_s(orig) - 7.0, 1e-9);
    // The clone is independent of the library's preset.
    CHECK(keys_contain(orig, "gain = 0 dB"));

    // Invalid ones leave the preset as it was, with located errors.
    CHECK_INT(rp_sfx_preset_override(p, "layer.crak.cutoff", "800", "ch.cast", 7, 1, &d),
              RP_ERR_INPUT);
    CHECK_DIAG(&d, "preset 'thunder' has no layer 'crak'", 7, 1, "did you mean 'crack'?");
    CHECK_INT(rp_sfx_preset_override(p, "layer.crack.cutof", "800", "ch.cast", 8, 1, &d),
              RP_ERR_INPUT);
    CHECK_DIAG(&d, "unknown layer key 'cutof'", 8, 1, "did you mean 'layer.crack.cutoff'?");
    CHECK_INT(rp_sfx_preset_override(p, "gian", "1", "ch.cast", 9, 1, &d), RP_ERR_INPUT);
    CHECK_DIAG(&d, "unknown effect key 'gian'", 9, 1, "did you mean 'gain'?");
    CHECK_INT(rp_sfx_preset_override(p, "cutoff", "1", "ch.cast", 10, 1, &d), RP_ERR_INPUT);
    CHECK_DIAG(&d, "unknown effect key 'cutoff'", 10, 1, "layer.crack.gain");
    // Errors sit at the column the caller gives (its key or its value).
    CHECK_INT(
        rp_sfx_preset_override(p, "layer.crack.cutoff", "800 -> 50000", "ch.cast", 11, 20, &d),
        RP_ERR_INPUT);
    CHECK_DIAG(&d, "cutoff must be between 20 and 20000 Hz", 11, 20, NULL);
    CHECK_INT(rp_sfx_preset_override(p, "gain", "loud", "ch.cast", 12, 8, &d), RP_ERR_INPUT);
    CHECK_DIAG(&d, "gain: expected a number, got 'loud'", 12, 8, NULL);
    CHECK_INT(rp_sfx_preset_override(p, "kind", "bed", "ch.cast", 13, 8, &d), RP_ERR_INPUT);
    CHECK_DIAG(&d, "kind cannot be overridden", 13, 8, NULL);
    CHECK_INT(rp_sfx_preset_override(p, "duration", "0.1", "ch.cast", 14, 12, &d), RP_ERR_INPUT);
    CHECK_DIAG(&d, "layer 'roll' starts at 0.15 s, not before the preset's duration 0.1 s", 14, 12,
               NULL);
    CHECK_INT(rp_sfx_preset_override(p, "layer.crack.source", "sinus", "ch.cast", 15, 20, &d),
              RP_ERR_INPUT);
    CHECK_DIAG(&d, "unknown source 'sinus'", 15, 20, "did you mean 'sine'?");
    CHECK_INT(rp_sfx_preset_override(p, "layer.crack.", "1", "ch.cast", 16, 1, &d), RP_ERR_INPUT);
    CHECK(keys_contain(p, "gain = -6 dB"));
    CHECK(keys_contain(p, "layer.crack.cutoff = 800 Hz    #"));
    CHECK(keys_contain(p, "duration = 5 s"));
    CHECK(keys_contain(p, "layer.crack.source = white"));
    // 0.1 s cuts off three layers (floor, roll, crackles): three errors.
    CHECK_INT(d.n_errors, 12);

    // Overrides change the sound: -6 dB is -6 dB.
    int64_t na, nb;
    rp_sfx_preset *q = rp_sfx_preset_clone(orig);
    float *a = render(orig, RATE, 1, 0, &na);
    CHECK(q && rp_sfx_preset_override(q, "gain", "-6", NULL, 1, 1, NULL) == RP_OK);
    float *b = q ? render(q, RATE, 1, 0, &nb) : NULL;
    if (a && b)
        CHECK_NEAR(db(power(b, 0, nb)) - db(power(a, 0, na)), -6.0, 0.01);
    free(a);
    free(b);
    rp_sfx_preset_free(q);

    // Beds reject one-shot keys.
    const rp_sfx_preset *rain = preset("rain");
    q = rain ? rp_sfx_preset_clone(rain) : NULL;
    if (q) {
        CHECK_INT(rp_sfx_preset_override(q, "duration", "3", "c", 2, 3, &d), RP_ERR_INPUT);
        CHECK_DIAG(&d, "duration has no meaning in a bed", 2, 3, NULL);
        CHECK_INT(rp_sfx_preset_override(q, "layer.wash.cutoff", "3000", "c", 3, 3, &d), RP_OK);
    }
    rp_sfx_preset_free(q);
    rp_sfx_preset_free(p);
    rp_diags_deinit(&d);
}

static void test_library(void)
{
    rp_sfx_library l;
    rp_sfx_library_init(&l);
    rp_diags d;
    rp_diags_init(&d);
    CHECK_INT(rp_sfx_library_add_builtin(&l, &d), RP_OK);
    CHECK_INT(d.n, 0);
    CHECK_INT(l.n, rp_sfx_n_builtin);
    CHECK(rp_sfx_library_find(&l, "thunder") != NULL);
    CHECK(rp_sfx_library_find(&l, "thundr") == NULL);
    // A user preset of the same name replaces the built-in one.
    rp_sfx_preset *mine =
        parse_text("description = Mine\nduration = 1\n[layer a]\nsource = sine\n", &d);
    CHECK(mine != NULL);
    if (mine) {
        rp_sfx_preset *named = NULL;
        const char *t = "description = Mine\nduration = 1\n[layer a]\nsource = sine\n";
        CHECK(rp_sfx_preset_parse("thunder", "my/thunder.sfx", t, strlen(t), &named, &d) == RP_OK);
        rp_sfx_preset_free(mine);
        CHECK_INT(rp_sfx_library_add(&l, named), RP_OK);
        CHECK_INT(l.n, rp_sfx_n_builtin);
        CHECK_STR(rp_sfx_preset_description(rp_sfx_library_find(&l, "thunder")), "Mine");
        rp_sfx_preset *m = rp_sfx_library_find_mut(&l, "thunder");
        CHECK(m && rp_sfx_preset_override(m, "gain", "-3", "c", 1, 1, &d) == RP_OK);
    }
    rp_sfx_preset_free(NULL);
    rp_sfx_voice_free(NULL);
    rp_sfx_library_deinit(&l);
    rp_diags_deinit(&d);
}

static void test_describe_keys(void)
{
    const rp_sfx_preset *p = preset("thunder");
    if (!p)
        return;
    CHECK(keys_contain(p, "duration = 7 s    # 0.01..120 s\n"));
    CHECK(keys_contain(p, "layer.crack.cutoff = 2500 Hz -> 700 Hz    # 20..20000 Hz, may sweep"));
    CHECK(keys_contain(p, "layer.roll.filter = lowpass    # none, lowpass, highpass, bandpass"));
    const rp_sfx_preset *r = preset("rain");
    if (r) {
        rp_strbuf b;
        rp_strbuf_init(&b);
        rp_sfx_preset_describe_keys(r, &b);
        CHECK(b.s && !strstr(b.s, "duration") && !strstr(b.s, ".length"));
        rp_strbuf_deinit(&b);
    }
}

int main(void)
{
    rp_diags d;
    rp_diags_init(&d);
    rp_sfx_library_init(&lib);
    if (rp_sfx_library_add_builtin(&lib, &d) != RP_OK) {
        for (size_t i = 0; i < d.n; i++) {
            char buf[1200];
            fprintf(stderr, "%s\n", rp_diag_format(&d.items[i], buf, sizeof buf));
        }
    }
    rp_diags_deinit(&d);
    RUN(test_builtins_parse_and_render);
    RUN(test_oneshot_ends_in_silence);
    RUN(test_tails_decay_to_exact_silence);
    RUN(test_thunder_sounds_like_thunder);
    RUN(test_pod_impact_sounds_like_a_slam);
    RUN(test_drone_whirrs_past);
    RUN(test_rain_is_steady_and_bright);
    RUN(test_wind_gusts);
    RUN(test_distant_thunder_is_muffled);
    RUN(test_explosion_blast_then_boom);
    RUN(test_alarm_two_tones);
    RUN(test_comms_static_is_radio_band);
    RUN(test_reentry_roars_overhead);
    RUN(test_plasma_shot_zaps_down);
    RUN(test_rail_shot_charges_cracks_rings);
    RUN(test_distant_battle_is_low_with_booms);
    RUN(test_shield_hum_is_steady);
    RUN(test_metal_footsteps_march);
    RUN(test_steam_hiss_bursts_and_fades);
    RUN(test_scanner_beeps_steadily);
    RUN(test_fire_crackles);
    RUN(test_city_ruins_rumble);
    RUN(test_beds_loop_without_clicks);
    RUN(test_determinism);
    RUN(test_slicing_does_not_matter);
    RUN(test_saved_voice_is_checked);
    RUN(test_layers_have_own_randomness);
    RUN(test_rate_independence);
    RUN(test_parse_valid_with_units_and_comments);
    RUN(test_parse_errors);
    RUN(test_parse_kind_rules);
    RUN(test_layer_limit);
    RUN(test_line_ends);
    RUN(test_overrides);
    RUN(test_library);
    RUN(test_describe_keys);
    rp_sfx_library_deinit(&lib);
    return TEST_SUMMARY("test_sfx");
}
