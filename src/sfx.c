// SPDX-License-Identifier: GPL-3.0-or-later
// The procedural effects synthesizer: the preset format and its parser (pure:
// bytes in, located diagnostics out), the preset library with cast-sheet
// overrides, and the voice that renders a preset block by block without
// allocating. Every sound is built from layers; each layer is one source
// (oscillator, noise or crackle) gated by random events, through a filter,
// a fixed low cut and a tanh drive, shaped by an envelope and LFOs, and
// placed by a constant-power panner, with an optional send to a reverb.
//
// Preset format (sfx/*.sfx; each file repeats a short reference at its top)
// -------------------------------------------------------------------------
// Line based, UTF-8. `#` at the start of a line or after whitespace starts a
// comment. Top-level `key = value` lines come first, then one or more
// `[layer NAME]` sections (NAME: letters, digits, '_' and '-'; unique).
// Numbers may carry their unit (`0.4 s`, `400 ms`, `2 kHz`, `-6 dB`,
// `3 st`, `1 oct`, `20 /s`); freq, cutoff and pan may sweep: `1500 -> 400`.
// Every key is checked against its range; a key may appear once per scope.
//
//   top level    description (text), kind (oneshot | bed), duration (s,
//                one-shots), tail (s: ring-out after duration, one-shots),
//                gain (dB), reverb_size, reverb_damp, reverb_width (0..1)
//   source       sine saw square triangle white pink brown crackle
//                freq (Hz, sweeps), duty (square), density (crackle
//                impulses per second), grain (s, crackle burst length)
//   timing       start, length (s, one-shots only; length defaults to the
//                rest of the preset; layers are cut at duration)
//   envelope     envelope = adsr | exp; attack, decay, sustain, release.
//                adsr: linear attack, linear decay to sustain, release at
//                the layer's end. exp: linear attack, then exp(-t / decay),
//                release at the end. Beds use only attack (a fade-in).
//   sweeps       sweep = linear | exp | doppler (geometric, S-shaped in
//                time: fastest in the middle, as a passing source's pitch),
//                sweep_time (s, defaults to the layer length; beds need it)
//   filter       filter = none | lowpass | highpass | bandpass; cutoff (Hz,
//                sweeps), q, stages (1..4 cascaded biquads), lowcut (Hz, a
//                fixed 12 dB/oct highpass after the filter, 0 = off: keeps
//                rumbles free of sub-sonic drift)
//   LFOs         vibrato_*, tremolo_*, cutoff_lfo_*, pan_lfo_* each with
//                _rate (Hz), _depth (st / 0..1 / oct / 0..2) and
//                _shape (sine triangle square saw random; random is a
//                smoothly interpolated random walk, for slow drift in beds)
//   texture      drive (dB): tanh(g x) / tanh(g) after the filter, grit that
//                also bounds the layer's peak at its gain; events (random
//                bursts per second that gate the layer; the first fires at
//                the layer's start) with event_decay (s)
//   output       gain (dB), pan (-1 left .. 1 right, sweeps), reverb (send)
//
// Levels are set by design: a one-shot's layer gains are chosen so its
// peak sits near -2 dBFS at gain 0, a bed's near -12 dBFS RMS. Nothing is
// measured at run time.
//
// Algorithms: biquads from R. Bristow-Johnson, "Cookbook formulae for audio
// EQ biquad filter coefficients" (transposed direct form II); band-limited
// saw and pulse by PolyBLEP (V. Valimaki, A. Huovilainen, "Antialiasing
// oscillators in subtractive synthesis", IEEE SPM 2007); pink noise by Paul
// Kellet's refined three-pole-plus filter (music-dsp archive, 1999); reverb
// is Jezar's public-domain Freeverb (8 lowpass-feedback combs and 4
// allpasses per channel, after Schroeder/Moorer); pan is the sin/cos
// constant-power law.
#include "rp_sfx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_config.h"

// Named limits on what a preset may ask for.
#define MAX_LAYERS 16
#define MAX_DESCRIPTION_BYTES 300
#define MAX_STAGES 4
// Control rate: envelopes, sweeps, LFOs and filter coefficients are
// recomputed every CTRL_FRAMES frames and amplitudes ramp linearly between.
#define CTRL_FRAMES 16
// A one-shot always ends with this fade so a cut reverb tail cannot click.
#define END_FADE_S 0.05
#define DENORMAL 1e-20f
#define PI 3.14159265358979323846

// ---- vocabulary -------------------------------------------------------------

enum { SRC_SINE, SRC_SAW, SRC_SQUARE, SRC_TRIANGLE, SRC_WHITE, SRC_PINK, SRC_BROWN, SRC_CRACKLE };
enum { FILT_NONE, FILT_LOWPASS, FILT_HIGHPASS, FILT_BANDPASS };
enum { ENV_ADSR, ENV_EXP };
enum { SWEEP_LINEAR, SWEEP_EXP, SWEEP_DOPPLER };
enum { SHAPE_SINE, SHAPE_TRIANGLE, SHAPE_SQUARE, SHAPE_SAW, SHAPE_RANDOM };
enum { KIND_ONESHOT, KIND_BED };

static const char *const source_names[] = {"sine", "saw",   "square",  "triangle", "white",
                                           "pink", "brown", "crackle", NULL};
static const char *const filter_names[] = {"none", "lowpass", "highpass", "bandpass", NULL};
static const char *const envelope_names[] = {"adsr", "exp", NULL};
static const char *const sweep_names[] = {"linear", "exp", "doppler", NULL};
static const char *const shape_names[] = {"sine", "triangle", "square", "saw", "random", NULL};
static const char *const kind_names[] = {"oneshot", "bed", NULL};

enum { T_NUM, T_INT, T_SWEEP, T_ENUM, T_TEXT };
enum { U_NONE, U_S, U_HZ, U_DB, U_ST, U_OCT, U_PER_S };

static const char *const unit_text[] = {
    [U_NONE] = "", [U_S] = "s",     [U_HZ] = "Hz",    [U_DB] = "dB",
    [U_ST] = "st", [U_OCT] = "oct", [U_PER_S] = "/s",
};

typedef struct {
    const char *name;
    unsigned char type, unit;
    double min, max, def;
    const char *const *choices; // T_ENUM
} keydef;

enum {
    P_DESCRIPTION,
    P_KIND,
    P_DURATION,
    P_TAIL,
    P_GAIN,
    P_REVERB_SIZE,
    P_REVERB_DAMP,
    P_REVERB_WIDTH,
    P_COUNT
};

static const keydef top_keys[P_COUNT] = {
    [P_DESCRIPTION] = {"description", T_TEXT, U_NONE, 0, 0, 0, NULL},
    [P_KIND] = {"kind", T_ENUM, U_NONE, 0, 0, KIND_ONESHOT, kind_names},
    [P_DURATION] = {"duration", T_NUM, U_S, 0.01, 120, 1.0, NULL},
    [P_TAIL] = {"tail", T_NUM, U_S, 0, 30, 0, NULL},
    [P_GAIN] = {"gain", T_NUM, U_DB, -60, 24, 0, NULL},
    [P_REVERB_SIZE] = {"reverb_size", T_NUM, U_NONE, 0, 1, 0.5, NULL},
    [P_REVERB_DAMP] = {"reverb_damp", T_NUM, U_NONE, 0, 1, 0.5, NULL},
    [P_REVERB_WIDTH] = {"reverb_width", T_NUM, U_NONE, 0, 1, 1.0, NULL},
};

// Grouped as the preset reference groups them.
// clang-format off
enum {
    L_SOURCE, L_FREQ, L_DUTY, L_DENSITY, L_GRAIN,
    L_START, L_LENGTH, L_GAIN,
    L_ENVELOPE, L_ATTACK, L_DECAY, L_SUSTAIN, L_RELEASE,
    L_SWEEP, L_SWEEP_TIME,
    L_FILTER, L_CUTOFF, L_Q, L_STAGES, L_LOWCUT,
    L_VIBRATO_RATE, L_VIBRATO_DEPTH, L_VIBRATO_SHAPE,
    L_TREMOLO_RATE, L_TREMOLO_DEPTH, L_TREMOLO_SHAPE,
    L_CUTOFF_LFO_RATE, L_CUTOFF_LFO_DEPTH, L_CUTOFF_LFO_SHAPE,
    L_PAN_LFO_RATE, L_PAN_LFO_DEPTH, L_PAN_LFO_SHAPE,
    L_DRIVE, L_EVENTS, L_EVENT_DECAY,
    L_PAN, L_REVERB,
    L_COUNT
};
// clang-format on

static const keydef layer_keys[L_COUNT] = {
    [L_SOURCE] = {"source", T_ENUM, U_NONE, 0, 0, SRC_SINE, source_names},
    [L_FREQ] = {"freq", T_SWEEP, U_HZ, 1, 20000, 440, NULL},
    [L_DUTY] = {"duty", T_NUM, U_NONE, 0.05, 0.95, 0.5, NULL},
    [L_DENSITY] = {"density", T_NUM, U_PER_S, 0.1, 20000, 50, NULL},
    [L_GRAIN] = {"grain", T_NUM, U_S, 0.0001, 0.1, 0.001, NULL},
    [L_START] = {"start", T_NUM, U_S, 0, 120, 0, NULL},
    [L_LENGTH] = {"length", T_NUM, U_S, 0.001, 120, 0, NULL},
    [L_GAIN] = {"gain", T_NUM, U_DB, -60, 24, 0, NULL},
    [L_ENVELOPE] = {"envelope", T_ENUM, U_NONE, 0, 0, ENV_ADSR, envelope_names},
    [L_ATTACK] = {"attack", T_NUM, U_S, 0, 60, 0.005, NULL},
    [L_DECAY] = {"decay", T_NUM, U_S, 0.001, 60, 0.1, NULL},
    [L_SUSTAIN] = {"sustain", T_NUM, U_NONE, 0, 1, 1, NULL},
    [L_RELEASE] = {"release", T_NUM, U_S, 0, 60, 0.01, NULL},
    [L_SWEEP] = {"sweep", T_ENUM, U_NONE, 0, 0, SWEEP_EXP, sweep_names},
    [L_SWEEP_TIME] = {"sweep_time", T_NUM, U_S, 0.001, 120, 0, NULL},
    [L_FILTER] = {"filter", T_ENUM, U_NONE, 0, 0, FILT_NONE, filter_names},
    [L_CUTOFF] = {"cutoff", T_SWEEP, U_HZ, 20, 20000, 1000, NULL},
    [L_Q] = {"q", T_NUM, U_NONE, 0.1, 30, 0.707, NULL},
    [L_STAGES] = {"stages", T_INT, U_NONE, 1, MAX_STAGES, 1, NULL},
    [L_LOWCUT] = {"lowcut", T_NUM, U_HZ, 0, 20000, 0, NULL},
    [L_VIBRATO_RATE] = {"vibrato_rate", T_NUM, U_HZ, 0, 100, 0, NULL},
    [L_VIBRATO_DEPTH] = {"vibrato_depth", T_NUM, U_ST, 0, 24, 0, NULL},
    [L_VIBRATO_SHAPE] = {"vibrato_shape", T_ENUM, U_NONE, 0, 0, SHAPE_SINE, shape_names},
    [L_TREMOLO_RATE] = {"tremolo_rate", T_NUM, U_HZ, 0, 500, 0, NULL},
    [L_TREMOLO_DEPTH] = {"tremolo_depth", T_NUM, U_NONE, 0, 1, 0, NULL},
    [L_TREMOLO_SHAPE] = {"tremolo_shape", T_ENUM, U_NONE, 0, 0, SHAPE_SINE, shape_names},
    [L_CUTOFF_LFO_RATE] = {"cutoff_lfo_rate", T_NUM, U_HZ, 0, 100, 0, NULL},
    [L_CUTOFF_LFO_DEPTH] = {"cutoff_lfo_depth", T_NUM, U_OCT, 0, 8, 0, NULL},
    [L_CUTOFF_LFO_SHAPE] = {"cutoff_lfo_shape", T_ENUM, U_NONE, 0, 0, SHAPE_SINE, shape_names},
    [L_PAN_LFO_RATE] = {"pan_lfo_rate", T_NUM, U_HZ, 0, 50, 0, NULL},
    [L_PAN_LFO_DEPTH] = {"pan_lfo_depth", T_NUM, U_NONE, 0, 2, 0, NULL},
    [L_PAN_LFO_SHAPE] = {"pan_lfo_shape", T_ENUM, U_NONE, 0, 0, SHAPE_SINE, shape_names},
    [L_DRIVE] = {"drive", T_NUM, U_DB, 0, 40, 0, NULL},
    [L_EVENTS] = {"events", T_NUM, U_PER_S, 0, 1000, 0, NULL},
    [L_EVENT_DECAY] = {"event_decay", T_NUM, U_S, 0.001, 10, 0.1, NULL},
    [L_PAN] = {"pan", T_SWEEP, U_NONE, -1, 1, 0, NULL},
    [L_REVERB] = {"reverb", T_NUM, U_NONE, 0, 1, 0, NULL},
};

// One parameter value: a number (or an enum index), or a sweep a -> b, and
// where it was last set, for diagnostics found after the whole file is read.
typedef struct {
    double a, b;
    int swept;
    int set;
    int line, col;
} pval;

typedef struct {
    char name[RP_MAX_NAME_BYTES + 1];
    int line, col;
    pval v[L_COUNT];
} layer_def;

struct rp_sfx_preset {
    char *name;
    char *file;
    char *description;
    pval v[P_COUNT];
    size_t n_layers;
    layer_def layers[MAX_LAYERS];
};

// ---- small text helpers -----------------------------------------------------

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_name_char(int c)
{
    return is_alpha(c) || is_digit(c) || c == '_' || c == '-';
}

static size_t n_choices(const char *const *c)
{
    size_t n = 0;
    while (c[n])
        n++;
    return n;
}

static int find_choice(const char *const *c, const char *w)
{
    for (int i = 0; c[i]; i++)
        if (rp_strcasecmp(c[i], w) == 0)
            return i;
    return -1;
}

static void choices_text(const char *const *c, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = 0;
    for (int i = 0; c[i] && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", c[i]);
}

static int key_index(const keydef *keys, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(keys[i].name, name) == 0)
            return i;
    return -1;
}

static const char *suggest_key(const keydef *keys, int n, const char *word)
{
    const char *cands[L_COUNT];
    for (int i = 0; i < n && i < L_COUNT; i++)
        cands[i] = keys[i].name;
    return rp_suggest(word, cands, (size_t)n);
}

// Column (1-based, in code points) of byte offset off of a line that starts
// at column col0.
static int col_at(const char *s, size_t off, int col0)
{
    return col0 + (int)rp_utf8_count(s, off);
}

// Reads a decimal number "[+-]digits[.digits][e[+-]digits]" without strtod,
// whose decimal point follows the locale. Returns bytes consumed, 0 if none.
static size_t read_number(const char *s, double *out)
{
    size_t i = 0;
    int neg = 0, digits = 0, exp10 = 0;
    double m = 0;
    if (s[i] == '+' || s[i] == '-')
        neg = s[i++] == '-';
    for (; is_digit(s[i]); i++, digits++) {
        if (m < 1e17)
            m = m * 10 + (s[i] - '0');
        else
            exp10++;
    }
    if (s[i] == '.') {
        i++;
        for (; is_digit(s[i]); i++, digits++) {
            if (m < 1e17) {
                m = m * 10 + (s[i] - '0');
                exp10--;
            }
        }
    }
    if (digits == 0)
        return 0;
    if ((s[i] == 'e' || s[i] == 'E') &&
        (is_digit(s[i + 1]) || ((s[i + 1] == '+' || s[i + 1] == '-') && is_digit(s[i + 2])))) {
        size_t j = i + 1;
        int eneg = 0, e = 0;
        if (s[j] == '+' || s[j] == '-')
            eneg = s[j++] == '-';
        for (; is_digit(s[j]); j++)
            if (e < 10000)
                e = e * 10 + (s[j] - '0');
        exp10 += eneg ? -e : e;
        i = j;
    }
    if (exp10 > 400)
        exp10 = 400;
    if (exp10 < -400)
        exp10 = -400;
    double v = m * pow(10.0, exp10);
    *out = neg ? -v : v;
    return i;
}

// Unit suffix accepted after a number of the given unit; sets the factor that
// converts it to the canonical unit. 0 when the suffix does not fit.
static int unit_factor(int unit, const char *w, double *factor)
{
    *factor = 1.0;
    switch (unit) {
    case U_S:
        if (rp_strcasecmp(w, "s") == 0)
            return 1;
        if (rp_strcasecmp(w, "ms") == 0) {
            *factor = 0.001;
            return 1;
        }
        return 0;
    case U_HZ:
        if (rp_strcasecmp(w, "hz") == 0)
            return 1;
        if (rp_strcasecmp(w, "khz") == 0) {
            *factor = 1000.0;
            return 1;
        }
        return 0;
    case U_DB:
        return rp_strcasecmp(w, "db") == 0;
    case U_ST:
        return rp_strcasecmp(w, "st") == 0;
    case U_OCT:
        return rp_strcasecmp(w, "oct") == 0;
    case U_PER_S:
        return strcmp(w, "/s") == 0;
    default:
        return 0;
    }
}

static const char *unit_hint(int unit)
{
    switch (unit) {
    case U_S:
        return "use s or ms";
    case U_HZ:
        return "use Hz or kHz";
    case U_DB:
        return "use dB";
    case U_ST:
        return "use st (semitones)";
    case U_OCT:
        return "use oct (octaves)";
    case U_PER_S:
        return "use /s (per second)";
    default:
        return "this value has no unit";
    }
}

// Parse context: where the value text sits, for located diagnostics.
typedef struct {
    const char *file;
    int line, col; // column of the value's first byte
    rp_diags *d;
    int fixed; // report everything at col (overrides: the caller's column)
} loc;

// Column of byte off of the value text.
static int vcol(const loc *at, const char *text, size_t off)
{
    return at->fixed ? at->col : col_at(text, off, at->col);
}

static void range_error(const keydef *kd, const loc *at, int col)
{
    const char *u = unit_text[kd->unit];
    if (kd->type == T_INT)
        rp_diag_add(at->d, RP_DIAG_ERROR, at->file, at->line, col, "sfx", NULL,
                    "%s must be a whole number between %g and %g", kd->name, kd->min, kd->max);
    else
        rp_diag_add(at->d, RP_DIAG_ERROR, at->file, at->line, col, "sfx", NULL,
                    "%s must be between %g and %g%s%s", kd->name, kd->min, kd->max, *u ? " " : "",
                    u);
}

// One number with an optional unit at text + *pos; advances *pos. Returns 0
// (with an error) when it is not a valid value for kd.
static int parse_one(const keydef *kd, const char *text, size_t *pos, double *out, const loc *at)
{
    size_t i = *pos;
    int col = vcol(at, text, i);
    double v;
    size_t n = read_number(text + i, &v);
    if (n == 0) {
        size_t e = i;
        while (text[e] && !is_space(text[e]))
            e++;
        rp_diag_add(at->d, RP_DIAG_ERROR, at->file, at->line, col, "sfx", NULL,
                    "%s: expected a number, got '%.*s'", kd->name, (int)(e - i), text + i);
        return 0;
    }
    i += n;
    while (is_space(text[i]))
        i++;
    if (is_alpha(text[i]) || text[i] == '/') {
        size_t s = i;
        if (text[i] == '/')
            i++;
        while (is_alpha(text[i]))
            i++;
        char w[16];
        size_t wl = i - s < sizeof w - 1 ? i - s : sizeof w - 1;
        memcpy(w, text + s, wl);
        w[wl] = 0;
        double f;
        if (!unit_factor(kd->unit, w, &f)) {
            rp_diag_add(at->d, RP_DIAG_ERROR, at->file, at->line, vcol(at, text, s), "sfx",
                        unit_hint(kd->unit), "unit '%s' does not fit %s", w, kd->name);
            return 0;
        }
        v *= f;
        while (is_space(text[i]))
            i++;
    }
    if (!(v >= kd->min && v <= kd->max) || (kd->type == T_INT && v != floor(v))) {
        range_error(kd, at, col);
        return 0;
    }
    *out = v;
    *pos = i;
    return 1;
}

// Parses value text (trimmed, NUL-terminated) for key kd into *pv (text
// values into *text). Returns 1 on success; errors go to at->d.
static int parse_value(const keydef *kd, const char *text, pval *pv, char **textv, const loc *at)
{
    pval nv = *pv;
    nv.swept = 0;
    if (kd->type == T_TEXT) {
        size_t len = strlen(text);
        if (len > MAX_DESCRIPTION_BYTES) {
            rp_diag_add(at->d, RP_DIAG_ERROR, at->file, at->line, at->col, "sfx", NULL,
                        "%s is longer than %d bytes", kd->name, MAX_DESCRIPTION_BYTES);
            return 0;
        }
        char *s = rp_strdup(text);
        if (!s) {
            rp_diag_add(at->d, RP_DIAG_ERROR, at->file, at->line, at->col, "sfx", NULL,
                        "out of memory");
            return 0;
        }
        free(*textv);
        *textv = s;
    } else if (kd->type == T_ENUM) {
        int k = find_choice(kd->choices, text);
        if (k < 0) {
            char all[200], hint[240];
            const char *s =
                rp_suggest(text, (const char *const *)kd->choices, n_choices(kd->choices));
            if (s) {
                snprintf(hint, sizeof hint, "did you mean '%s'?", s);
            } else {
                choices_text(kd->choices, all, sizeof all);
                snprintf(hint, sizeof hint, "one of: %s", all);
            }
            rp_diag_add(at->d, RP_DIAG_ERROR, at->file, at->line, at->col, "sfx", hint,
                        "unknown %s '%s'", kd->name, text);
            return 0;
        }
        nv.a = nv.b = k;
    } else {
        size_t i = 0;
        if (!parse_one(kd, text, &i, &nv.a, at))
            return 0;
        nv.b = nv.a;
        if (text[i] == '-' && text[i + 1] == '>') {
            if (kd->type != T_SWEEP) {
                rp_diag_add(at->d, RP_DIAG_ERROR, at->file, at->line, vcol(at, text, i), "sfx",
                            "only freq, cutoff and pan can sweep",
                            "%s takes one value, not a sweep", kd->name);
                return 0;
            }
            i += 2;
            while (is_space(text[i]))
                i++;
            if (!parse_one(kd, text, &i, &nv.b, at))
                return 0;
            nv.swept = 1;
        }
        if (text[i]) {
            rp_diag_add(at->d, RP_DIAG_ERROR, at->file, at->line, vcol(at, text, i), "sfx",
                        kd->type == T_SWEEP ? "a sweep is written 'a -> b'" : NULL,
                        "unexpected '%s' after the value of %s", text + i, kd->name);
            return 0;
        }
    }
    nv.set = 1;
    nv.line = at->line;
    nv.col = at->col;
    *pv = nv;
    return 1;
}

static void init_defaults(pval *v, const keydef *keys, int n)
{
    for (int i = 0; i < n; i++) {
        memset(&v[i], 0, sizeof v[i]);
        v[i].a = v[i].b = keys[i].def;
    }
}

// ---- validation across keys -------------------------------------------------

// Rules that need the whole preset (kind, duration, every layer). When ov is
// given (an override), every error is reported at the override's location.
static void validate(const rp_sfx_preset *p, const loc *ov, rp_diags *d)
{
    const char *file = p->file;
    int bed = (int)p->v[P_KIND].a == KIND_BED;
#define AT(pv) (ov ? ov->file : file), (ov ? ov->line : (pv).line), (ov ? ov->col : (pv).col)
    if (p->n_layers == 0 && !ov)
        rp_diag_add(d, RP_DIAG_ERROR, file, 0, 0, "sfx", "add a section such as [layer body]",
                    "preset has no [layer NAME] section");
    if (bed && p->v[P_DURATION].set)
        rp_diag_add(d, RP_DIAG_ERROR, AT(p->v[P_DURATION]), "sfx", NULL,
                    "duration has no meaning in a bed (beds loop until stopped)");
    if (bed && p->v[P_TAIL].set)
        rp_diag_add(d, RP_DIAG_ERROR, AT(p->v[P_TAIL]), "sfx", NULL,
                    "tail has no meaning in a bed (beds loop until stopped)");
    if (!bed && !p->v[P_DURATION].set && !ov)
        rp_diag_add(d, RP_DIAG_ERROR, file, p->v[P_KIND].set ? p->v[P_KIND].line : 0,
                    p->v[P_KIND].set ? p->v[P_KIND].col : 0, "sfx", "add e.g. duration = 2.0",
                    "a one-shot preset needs a duration");
    double dur = p->v[P_DURATION].a;
    for (size_t li = 0; li < p->n_layers; li++) {
        const layer_def *l = &p->layers[li];
        if (!l->v[L_SOURCE].set && l->v[L_SOURCE].line == 0 && !ov)
            rp_diag_add(d, RP_DIAG_ERROR, file, l->line, l->col, "sfx", "add e.g. source = white",
                        "layer '%s' has no source", l->name);
        if (bed && l->v[L_LENGTH].set)
            rp_diag_add(d, RP_DIAG_ERROR, AT(l->v[L_LENGTH]), "sfx", NULL,
                        "length has no meaning in a bed layer (beds loop until stopped)");
        if (!bed && l->v[L_START].a >= dur)
            rp_diag_add(d, RP_DIAG_ERROR, AT(l->v[L_START]), "sfx", NULL,
                        "layer '%s' starts at %g s, not before the preset's duration %g s", l->name,
                        l->v[L_START].a, dur);
        static const int sweepable[] = {L_FREQ, L_CUTOFF, L_PAN};
        for (size_t k = 0; k < sizeof sweepable / sizeof *sweepable; k++) {
            const pval *pv = &l->v[sweepable[k]];
            if (bed && pv->swept && !l->v[L_SWEEP_TIME].set)
                rp_diag_add(d, RP_DIAG_ERROR, AT(*pv), "sfx", "add sweep_time",
                            "a sweep in a bed layer needs sweep_time (a bed has no end)");
        }
    }
#undef AT
}

// ---- parser -----------------------------------------------------------------

static layer_def *find_layer(rp_sfx_preset *p, const char *name)
{
    for (size_t i = 0; i < p->n_layers; i++)
        if (strcmp(p->layers[i].name, name) == 0)
            return &p->layers[i];
    return NULL;
}

static rp_sfx_preset *preset_alloc(const char *name, const char *file)
{
    rp_sfx_preset *p = rp_calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->name = rp_strdup(name ? name : "unnamed");
    p->file = file ? rp_strdup(file) : NULL;
    if (!p->name || (file && !p->file)) {
        rp_sfx_preset_free(p);
        return NULL;
    }
    init_defaults(p->v, top_keys, P_COUNT);
    return p;
}

// Handles "[layer NAME]". s is the trimmed line, col0 its column.
static void parse_section(rp_sfx_preset *p, char *s, const loc *at, int *in_layer)
{
    size_t len = strlen(s);
    rp_diags *d = at->d;
    if (s[len - 1] != ']') {
        rp_diag_add(d, RP_DIAG_ERROR, at->file, at->line, col_at(s, len, at->col), "sfx",
                    "a section is written [layer NAME]", "expected ']' at the end of the line");
        return;
    }
    s[len - 1] = 0;
    size_t i = 1;
    while (is_space(s[i]))
        i++;
    size_t w0 = i;
    while (s[i] && !is_space(s[i]))
        i++;
    char word[32];
    size_t wl = i - w0 < sizeof word - 1 ? i - w0 : sizeof word - 1;
    memcpy(word, s + w0, wl);
    word[wl] = 0;
    if (strcmp(word, "layer") != 0) {
        static const char *const sections[] = {"layer"};
        const char *sg = rp_suggest(word, sections, 1);
        rp_diag_add(d, RP_DIAG_ERROR, at->file, at->line, col_at(s, w0, at->col), "sfx",
                    sg ? "did you mean 'layer'?" : "the only section is [layer NAME]",
                    "unknown section '%s'", word);
        *in_layer = -1; // swallow its keys quietly
        return;
    }
    while (is_space(s[i]))
        i++;
    size_t n0 = i;
    while (is_name_char(s[i]))
        i++;
    size_t nl = i - n0;
    size_t rest = i;
    while (is_space(s[rest]))
        rest++;
    int ncol = col_at(s, n0, at->col);
    if (nl == 0 || s[rest] || nl > RP_MAX_NAME_BYTES) {
        rp_diag_add(d, RP_DIAG_ERROR, at->file, at->line, ncol, "sfx",
                    "letters, digits, '_' and '-', at most 64 bytes",
                    nl == 0 ? "missing layer name" : "bad layer name");
        *in_layer = -1;
        return;
    }
    s[n0 + nl] = 0;
    layer_def *dup = find_layer(p, s + n0);
    if (dup) {
        rp_diag_add(d, RP_DIAG_ERROR, at->file, at->line, ncol, "sfx", NULL,
                    "duplicate layer '%s' (first on line %d)", s + n0, dup->line);
        *in_layer = -1;
        return;
    }
    if (p->n_layers >= MAX_LAYERS) {
        rp_diag_add(d, RP_DIAG_ERROR, at->file, at->line, at->col, "sfx", NULL,
                    "too many layers (at most %d)", MAX_LAYERS);
        *in_layer = -1;
        return;
    }
    layer_def *l = &p->layers[p->n_layers];
    memcpy(l->name, s + n0, nl + 1);
    l->line = at->line;
    l->col = at->col;
    init_defaults(l->v, layer_keys, L_COUNT);
    *in_layer = (int)p->n_layers++;
}

static void parse_line(rp_sfx_preset *p, char *s, const loc *at, int *in_layer)
{
    rp_diags *d = at->d;
    if (s[0] == '[') {
        parse_section(p, s, at, in_layer);
        return;
    }
    char *eq = strchr(s, '=');
    if (!eq) {
        rp_diag_add(d, RP_DIAG_ERROR, at->file, at->line, at->col, "sfx", NULL,
                    "expected 'key = value', got '%s'", s);
        return;
    }
    char *ke = eq;
    while (ke > s && is_space(ke[-1]))
        ke--;
    *ke = 0;
    char *val = eq + 1;
    while (is_space(*val))
        val++;
    loc vat = *at;
    vat.col = col_at(s, (size_t)(val - s), at->col);
    if (s[0] == 0) {
        rp_diag_add(d, RP_DIAG_ERROR, at->file, at->line, at->col, "sfx", NULL,
                    "missing key before '='");
        return;
    }
    if (*in_layer == -1)
        return; // inside a broken section, already reported
    const keydef *keys = *in_layer >= 0 ? layer_keys : top_keys;
    int nkeys = *in_layer >= 0 ? L_COUNT : P_COUNT;
    int k = key_index(keys, nkeys, s);
    if (k < 0) {
        char hint[160];
        const char *sg = suggest_key(keys, nkeys, s);
        int other = key_index(*in_layer >= 0 ? top_keys : layer_keys,
                              *in_layer >= 0 ? P_COUNT : L_COUNT, s);
        if (other >= 0 && *in_layer >= 0) {
            rp_diag_add(d, RP_DIAG_ERROR, at->file, at->line, at->col, "sfx",
                        "preset keys go before the first [layer]",
                        "'%s' is a preset key, not a layer key", s);
        } else if (other >= 0) {
            rp_diag_add(d, RP_DIAG_ERROR, at->file, at->line, at->col, "sfx",
                        "start a layer first, e.g. [layer body]",
                        "'%s' belongs in a [layer NAME] section", s);
        } else {
            if (sg)
                snprintf(hint, sizeof hint, "did you mean '%s'?", sg);
            rp_diag_add(d, RP_DIAG_ERROR, at->file, at->line, at->col, "sfx", sg ? hint : NULL,
                        "unknown key '%s'", s);
        }
        return;
    }
    pval *pv = *in_layer >= 0 ? &p->layers[*in_layer].v[k] : &p->v[k];
    if (pv->set) {
        rp_diag_add(d, RP_DIAG_ERROR, at->file, at->line, at->col, "sfx", NULL,
                    "'%s' is set twice (first on line %d)", s, pv->line);
        return;
    }
    if (!*val) {
        rp_diag_add(d, RP_DIAG_ERROR, at->file, at->line, vat.col, "sfx", NULL,
                    "missing value for '%s'", s);
        return;
    }
    if (!parse_value(&keys[k], val, pv, &p->description, &vat)) {
        // Remember the attempt, so "layer has no source" does not pile onto
        // "unknown source 'whte'".
        pv->line = at->line;
        pv->col = vat.col;
    }
}

rp_status rp_sfx_preset_parse(const char *name, const char *file, const char *bytes, size_t len,
                              rp_sfx_preset **out, rp_diags *d)
{
    *out = NULL;
    if (len > RP_MAX_PRESET_BYTES) {
        rp_diag_add(d, RP_DIAG_ERROR, file, 0, 0, "sfx", NULL, "preset is larger than %u bytes",
                    RP_MAX_PRESET_BYTES);
        return RP_ERR_LIMIT;
    }
    rp_sfx_preset *p = preset_alloc(name, file);
    char *line = rp_calloc(len + 1, 1);
    if (!p || !line) {
        rp_sfx_preset_free(p);
        free(line);
        return RP_ERR_NOMEM;
    }
    size_t errors0 = d ? d->n_errors : 0;
    rp_diags local;
    rp_diags_init(&local);
    rp_diags *dd = d ? d : &local;
    int in_layer = -2; // -2: top level, -1: in a broken section, >= 0: layer
    size_t pos = 0;
    int lineno = 0;
    while (pos < len) {
        size_t e = pos;
        while (e < len && bytes[e] != '\n')
            e++;
        lineno++;
        size_t ll = e - pos;
        memcpy(line, bytes + pos, ll);
        line[ll] = 0;
        pos = e + 1;
        if (memchr(bytes + (e - ll), 0, ll)) {
            rp_diag_add(dd, RP_DIAG_ERROR, file, lineno, 1, "sfx", NULL, "NUL byte in preset");
            continue;
        }
        // '#' starts a comment at the line start or after whitespace.
        for (size_t i = 0; i < ll; i++) {
            if (line[i] == '#' && (i == 0 || is_space(line[i - 1]))) {
                line[i] = 0;
                break;
            }
        }
        size_t s = 0;
        while (is_space(line[s]))
            s++;
        size_t t = strlen(line);
        while (t > s && is_space(line[t - 1]))
            t--;
        line[t] = 0;
        if (s == t)
            continue;
        loc at = {file, lineno, col_at(line, s, 1), dd, 0};
        parse_line(p, line + s, &at, &in_layer);
    }
    free(line);
    validate(p, NULL, dd);
    size_t errors = dd->n_errors - (d ? errors0 : 0);
    rp_diags_deinit(&local);
    if (errors) {
        rp_sfx_preset_free(p);
        return RP_ERR_INPUT;
    }
    *out = p;
    return RP_OK;
}

void rp_sfx_preset_free(rp_sfx_preset *p)
{
    if (!p)
        return;
    free(p->name);
    free(p->file);
    free(p->description);
    free(p);
}

rp_sfx_preset *rp_sfx_preset_clone(const rp_sfx_preset *p)
{
    if (!p)
        return NULL;
    rp_sfx_preset *c = rp_calloc(1, sizeof *c);
    if (!c)
        return NULL;
    *c = *p;
    c->name = rp_strdup(p->name);
    c->file = p->file ? rp_strdup(p->file) : NULL;
    c->description = p->description ? rp_strdup(p->description) : NULL;
    if (!c->name || (p->file && !c->file) || (p->description && !c->description)) {
        rp_sfx_preset_free(c);
        return NULL;
    }
    return c;
}

const char *rp_sfx_preset_name(const rp_sfx_preset *p)
{
    return p->name;
}

const char *rp_sfx_preset_description(const rp_sfx_preset *p)
{
    return p->description ? p->description : "";
}

int rp_sfx_preset_is_bed(const rp_sfx_preset *p)
{
    return (int)p->v[P_KIND].a == KIND_BED;
}

double rp_sfx_preset_duration_s(const rp_sfx_preset *p)
{
    if (rp_sfx_preset_is_bed(p))
        return 0.0;
    return p->v[P_DURATION].a + p->v[P_TAIL].a;
}

// ---- overrides --------------------------------------------------------------

rp_status rp_sfx_preset_override(rp_sfx_preset *p, const char *key, const char *value,
                                 const char *file, int line, int col, rp_diags *d)
{
    // The caller's column may be the key's or the value's: report there.
    loc at = {file, line, col, d, 1};
    rp_diags local;
    rp_diags_init(&local);
    if (!d)
        at.d = &local;
    rp_status st = RP_ERR_INPUT;
    while (*value && is_space(*value))
        value++;
    char *val = rp_strdup(value);
    if (!val) {
        rp_diags_deinit(&local);
        return RP_ERR_NOMEM;
    }
    size_t vl = strlen(val);
    while (vl > 0 && is_space(val[vl - 1]))
        val[--vl] = 0;

    const keydef *kd;
    pval *pv;
    if (strncmp(key, "layer.", 6) == 0) {
        const char *ln = key + 6;
        const char *dot = strchr(ln, '.');
        char lname[RP_MAX_NAME_BYTES + 1];
        size_t nl = dot ? (size_t)(dot - ln) : strlen(ln);
        if (!dot || nl == 0 || nl > RP_MAX_NAME_BYTES) {
            rp_diag_add(at.d, RP_DIAG_ERROR, file, line, col, "sfx",
                        "write layer.NAME.KEY, e.g. layer.body.cutoff", "bad layer key '%s'", key);
            goto done;
        }
        memcpy(lname, ln, nl);
        lname[nl] = 0;
        layer_def *l = find_layer(p, lname);
        if (!l) {
            const char *cands[MAX_LAYERS];
            for (size_t i = 0; i < p->n_layers; i++)
                cands[i] = p->layers[i].name;
            const char *sg = rp_suggest(lname, cands, p->n_layers);
            char hint[160];
            snprintf(hint, sizeof hint, "did you mean '%s'?", sg ? sg : "");
            rp_diag_add(at.d, RP_DIAG_ERROR, file, line, col, "sfx", sg ? hint : NULL,
                        "preset '%s' has no layer '%s'", p->name, lname);
            goto done;
        }
        int k = key_index(layer_keys, L_COUNT, dot + 1);
        if (k < 0) {
            const char *sg = suggest_key(layer_keys, L_COUNT, dot + 1);
            char hint[160];
            snprintf(hint, sizeof hint, "did you mean 'layer.%s.%s'?", lname, sg ? sg : "");
            rp_diag_add(at.d, RP_DIAG_ERROR, file, line, col, "sfx", sg ? hint : NULL,
                        "unknown layer key '%s'", dot + 1);
            goto done;
        }
        kd = &layer_keys[k];
        pv = &l->v[k];
    } else {
        int k = key_index(top_keys, P_COUNT, key);
        if (k < 0) {
            const char *sg = suggest_key(top_keys, P_COUNT, key);
            char hint[160];
            if (sg)
                snprintf(hint, sizeof hint, "did you mean '%s'?", sg);
            else
                snprintf(hint, sizeof hint,
                         "layer keys are written layer.NAME.KEY, e.g. layer.%s.gain",
                         p->n_layers ? p->layers[0].name : "body");
            rp_diag_add(at.d, RP_DIAG_ERROR, file, line, col, "sfx", hint,
                        "unknown effect key '%s'", key);
            goto done;
        }
        if (k == P_KIND) {
            rp_diag_add(at.d, RP_DIAG_ERROR, file, line, col, "sfx", NULL,
                        "kind cannot be overridden; copy the preset instead");
            goto done;
        }
        kd = &top_keys[k];
        pv = &p->v[k];
    }
    if (!*val) {
        rp_diag_add(at.d, RP_DIAG_ERROR, file, line, col, "sfx", NULL, "missing value for '%s'",
                    key);
        goto done;
    }
    // Apply, then check the rules that span keys; undo on any error.
    pval old = *pv;
    char *old_desc = p->description ? rp_strdup(p->description) : NULL;
    size_t e0 = at.d->n_errors;
    if (parse_value(kd, val, pv, &p->description, &at)) {
        validate(p, &at, at.d);
        if (at.d->n_errors == e0) {
            st = RP_OK;
        } else {
            *pv = old;
        }
    }
    if (st != RP_OK && kd->type == T_TEXT) {
        free(p->description);
        p->description = old_desc;
        old_desc = NULL;
    }
    free(old_desc);
done:
    free(val);
    rp_diags_deinit(&local);
    return st;
}

static void value_text(const keydef *kd, const pval *pv, const char *text, char *buf, size_t cap)
{
    const char *u = unit_text[kd->unit];
    const char *sp = *u ? " " : "";
    switch (kd->type) {
    case T_TEXT:
        snprintf(buf, cap, "%s", text ? text : "");
        break;
    case T_ENUM:
        snprintf(buf, cap, "%s", kd->choices[(int)pv->a]);
        break;
    default:
        if (pv->swept)
            snprintf(buf, cap, "%g%s%s -> %g%s%s", pv->a, sp, u, pv->b, sp, u);
        else
            snprintf(buf, cap, "%g%s%s", pv->a, sp, u);
    }
}

static void describe_one(rp_strbuf *b, const char *prefix, const keydef *kd, const pval *pv,
                         const char *text)
{
    char val[400], range[200];
    value_text(kd, pv, text, val, sizeof val);
    if (kd->type == T_ENUM)
        choices_text(kd->choices, range, sizeof range);
    else if (kd->type == T_TEXT)
        snprintf(range, sizeof range, "text");
    else
        snprintf(range, sizeof range, "%g..%g%s%s%s", kd->min, kd->max,
                 *unit_text[kd->unit] ? " " : "", unit_text[kd->unit],
                 kd->type == T_SWEEP ? ", may sweep 'a -> b'" : "");
    rp_strbuf_printf(b, "%s%s = %s    # %s\n", prefix, kd->name, val, range);
}

void rp_sfx_preset_describe_keys(const rp_sfx_preset *p, rp_strbuf *b)
{
    for (int k = 0; k < P_COUNT; k++) {
        if (k == P_KIND)
            continue;
        if (rp_sfx_preset_is_bed(p) && (k == P_DURATION || k == P_TAIL))
            continue;
        describe_one(b, "", &top_keys[k], &p->v[k], p->description);
    }
    for (size_t li = 0; li < p->n_layers; li++) {
        char prefix[RP_MAX_NAME_BYTES + 16];
        snprintf(prefix, sizeof prefix, "layer.%s.", p->layers[li].name);
        for (int k = 0; k < L_COUNT; k++) {
            if (rp_sfx_preset_is_bed(p) && k == L_LENGTH)
                continue;
            describe_one(b, prefix, &layer_keys[k], &p->layers[li].v[k], NULL);
        }
    }
}

// ---- library ----------------------------------------------------------------

void rp_sfx_library_init(rp_sfx_library *lib)
{
    memset(lib, 0, sizeof *lib);
}

void rp_sfx_library_deinit(rp_sfx_library *lib)
{
    if (!lib)
        return;
    for (size_t i = 0; i < lib->n; i++)
        rp_sfx_preset_free(lib->items[i]);
    free(lib->items);
    memset(lib, 0, sizeof *lib);
}

rp_status rp_sfx_library_add(rp_sfx_library *lib, rp_sfx_preset *p)
{
    for (size_t i = 0; i < lib->n; i++) {
        if (strcmp(lib->items[i]->name, p->name) == 0) {
            rp_sfx_preset_free(lib->items[i]);
            lib->items[i] = p;
            return RP_OK;
        }
    }
    rp_status st = rp_grow((void **)&lib->items, &lib->cap, lib->n + 1, sizeof *lib->items);
    if (st != RP_OK) {
        rp_sfx_preset_free(p);
        return st;
    }
    lib->items[lib->n++] = p;
    return RP_OK;
}

rp_status rp_sfx_library_add_builtin(rp_sfx_library *lib, rp_diags *d)
{
    rp_status result = RP_OK;
    for (size_t i = 0; i < rp_sfx_n_builtin; i++) {
        const rp_sfx_source *src = &rp_sfx_builtin[i];
        char file[RP_MAX_NAME_BYTES + 16];
        snprintf(file, sizeof file, "sfx/%s.sfx", src->name);
        rp_sfx_preset *p;
        rp_status st = rp_sfx_preset_parse(src->name, file, src->text, src->len, &p, d);
        if (st == RP_OK)
            st = rp_sfx_library_add(lib, p);
        if (st != RP_OK && result == RP_OK)
            result = st;
    }
    return result;
}

const rp_sfx_preset *rp_sfx_library_find(const rp_sfx_library *lib, const char *name)
{
    for (size_t i = 0; i < lib->n; i++)
        if (strcmp(lib->items[i]->name, name) == 0)
            return lib->items[i];
    return NULL;
}

const char *rp_sfx_library_suggest(const rp_sfx_library *lib, const char *name, int want_bed)
{
    const char *names[512];
    size_t n = 0;
    for (size_t i = 0; i < lib->n && n < 512; i++)
        if (want_bed < 0 || rp_sfx_preset_is_bed(lib->items[i]) == want_bed)
            names[n++] = rp_sfx_preset_name(lib->items[i]);
    return rp_suggest(name, names, n);
}

void rp_sfx_library_hint(const rp_sfx_library *lib, const char *name, int want_bed, char *hint,
                         size_t cap)
{
    const char *s = rp_sfx_library_suggest(lib, name, want_bed);
    if (s)
        snprintf(hint, cap, "did you mean '%s'?", s);
    else
        snprintf(hint, cap, "'radioplay sfx --list' shows the effects");
}

rp_sfx_preset *rp_sfx_library_find_mut(rp_sfx_library *lib, const char *name)
{
    return (rp_sfx_preset *)rp_sfx_library_find(lib, name);
}

// ---- DSP building blocks ----------------------------------------------------

// A low-frequency oscillator, evaluated at the control rate, bipolar [-1, 1].
typedef struct {
    double phase; // [0, 1)
    double rate_hz;
    float depth;
    int shape;
    float r0, r1; // random shape: the values it glides between
    float value;
    rp_rng rng;
} lfo;

static float lfo_eval(const lfo *o)
{
    double ph = o->phase;
    switch (o->shape) {
    case SHAPE_TRIANGLE:
        return (float)(4.0 * fabs(ph - 0.5) - 1.0);
    case SHAPE_SQUARE:
        return ph < 0.5 ? 1.0f : -1.0f;
    case SHAPE_SAW:
        return (float)(2.0 * ph - 1.0);
    case SHAPE_RANDOM: {
        // Cosine-interpolated random steps: smooth, no corners to click.
        double w = 0.5 - 0.5 * cos(PI * ph);
        return o->r0 + (o->r1 - o->r0) * (float)w;
    }
    default:
        return (float)sin(2.0 * PI * ph);
    }
}

static void lfo_init(lfo *o, double rate_hz, double depth, int shape, uint64_t seed)
{
    memset(o, 0, sizeof *o);
    o->rate_hz = rate_hz;
    o->depth = (float)depth;
    o->shape = shape;
    o->rng.s = seed;
    o->r0 = rp_rng_bipolar(&o->rng);
    o->r1 = rp_rng_bipolar(&o->rng);
    o->value = lfo_eval(o);
}

// Advances by dt seconds; returns the new value times depth (0 when off).
static float lfo_step(lfo *o, double dt)
{
    if (o->rate_hz <= 0.0 || o->depth <= 0.0f)
        return 0.0f;
    o->phase += o->rate_hz * dt;
    while (o->phase >= 1.0) {
        o->phase -= 1.0;
        o->r0 = o->r1;
        o->r1 = rp_rng_bipolar(&o->rng);
    }
    o->value = lfo_eval(o);
    return o->value * o->depth;
}

static float lfo_now(const lfo *o)
{
    if (o->rate_hz <= 0.0 || o->depth <= 0.0f)
        return 0.0f;
    return o->value * o->depth;
}

typedef struct {
    float b0, b1, b2, a1, a2;
    float z1[MAX_STAGES], z2[MAX_STAGES];
} biquad;

// RBJ cookbook low/high/band-pass (band-pass with 0 dB peak gain).
static void biquad_design(biquad *f, int type, double fc, double q, double rate)
{
    if (fc > 0.45 * rate)
        fc = 0.45 * rate;
    double w0 = 2.0 * PI * fc / rate;
    double cw = cos(w0), sw = sin(w0);
    double alpha = sw / (2.0 * q);
    double a0 = 1.0 + alpha, b0, b1, b2;
    switch (type) {
    case FILT_HIGHPASS:
        b0 = (1.0 + cw) / 2.0;
        b1 = -(1.0 + cw);
        b2 = b0;
        break;
    case FILT_BANDPASS:
        b0 = alpha;
        b1 = 0.0;
        b2 = -alpha;
        break;
    default:
        b0 = (1.0 - cw) / 2.0;
        b1 = 1.0 - cw;
        b2 = b0;
    }
    f->b0 = (float)(b0 / a0);
    f->b1 = (float)(b1 / a0);
    f->b2 = (float)(b2 / a0);
    f->a1 = (float)(-2.0 * cw / a0);
    f->a2 = (float)((1.0 - alpha) / a0);
}

// Transposed direct form II, stages cascaded in place.
static void biquad_run(biquad *f, int stages, float *x, int n)
{
    const float b0 = f->b0, b1 = f->b1, b2 = f->b2, a1 = f->a1, a2 = f->a2;
    for (int s = 0; s < stages; s++) {
        float z1 = f->z1[s], z2 = f->z2[s];
        for (int i = 0; i < n; i++) {
            float in = x[i];
            float y = b0 * in + z1;
            z1 = b1 * in - a1 * y + z2;
            z2 = b2 * in - a2 * y;
            x[i] = y;
        }
        if (fabsf(z1) < DENORMAL)
            z1 = 0.0f;
        if (fabsf(z2) < DENORMAL)
            z2 = 0.0f;
        f->z1[s] = z1;
        f->z2[s] = z2;
    }
}

// PolyBLEP residual for a discontinuity at phase 0 (t in [0,1), dt = inc).
static double polyblep(double t, double dt)
{
    if (t < dt) {
        t /= dt;
        return t + t - t * t - 1.0;
    }
    if (t > 1.0 - dt) {
        t = (t - 1.0) / dt;
        return t * t + t + t + 1.0;
    }
    return 0.0;
}

// Freeverb (Jezar at Dreampoint, public domain). Tunings are at 44.1 kHz
// and scaled to the voice's rate.
#define FV_COMBS 8
#define FV_ALLPASSES 4
static const int fv_comb_tuning[FV_COMBS] = {1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617};
static const int fv_allpass_tuning[FV_ALLPASSES] = {556, 441, 341, 225};
#define FV_SPREAD 23
#define FV_FIXED_GAIN 0.015f

typedef struct {
    float *buf;
    int len, idx;
    float store;
} fv_comb;

typedef struct {
    float *buf;
    int len, idx;
} fv_allpass;

typedef struct {
    fv_comb comb[2][FV_COMBS];
    fv_allpass ap[2][FV_ALLPASSES];
    float feedback, damp1, damp2, wet1, wet2;
} reverb;

static size_t reverb_frames(int rate_hz, int *lens)
{
    size_t total = 0;
    int k = 0;
    for (int ch = 0; ch < 2; ch++) {
        for (int i = 0; i < FV_COMBS; i++, k++) {
            lens[k] = (int)((fv_comb_tuning[i] + ch * FV_SPREAD) * (double)rate_hz / 44100.0 + 0.5);
            total += (size_t)lens[k];
        }
        for (int i = 0; i < FV_ALLPASSES; i++, k++) {
            lens[k] =
                (int)((fv_allpass_tuning[i] + ch * FV_SPREAD) * (double)rate_hz / 44100.0 + 0.5);
            total += (size_t)lens[k];
        }
    }
    return total;
}

static void reverb_run(reverb *r, const float *in, float *outl, float *outr, int n)
{
    for (int i = 0; i < n; i++) {
        float x = in[i] * FV_FIXED_GAIN;
        float o[2] = {0.0f, 0.0f};
        for (int ch = 0; ch < 2; ch++) {
            for (int c = 0; c < FV_COMBS; c++) {
                fv_comb *cb = &r->comb[ch][c];
                float y = cb->buf[cb->idx];
                cb->store = y * r->damp2 + cb->store * r->damp1;
                if (fabsf(cb->store) < DENORMAL)
                    cb->store = 0.0f;
                cb->buf[cb->idx] = x + cb->store * r->feedback;
                if (++cb->idx >= cb->len)
                    cb->idx = 0;
                o[ch] += y;
            }
            for (int a = 0; a < FV_ALLPASSES; a++) {
                fv_allpass *ap = &r->ap[ch][a];
                float bo = ap->buf[ap->idx];
                float y = -o[ch] + bo;
                float w = o[ch] + bo * 0.5f;
                ap->buf[ap->idx] = fabsf(w) < DENORMAL ? 0.0f : w;
                if (++ap->idx >= ap->len)
                    ap->idx = 0;
                o[ch] = y;
            }
        }
        outl[i] += o[0] * r->wet1 + o[1] * r->wet2;
        outr[i] += o[1] * r->wet1 + o[0] * r->wet2;
    }
}

// ---- voices -----------------------------------------------------------------

typedef struct {
    // Parameters, copied so the voice does not borrow the preset.
    int source, filter, envelope, sweep, stages;
    int64_t start_f, end_f; // end_f < 0: endless (bed)
    double len_s, sweep_s;
    double attack, decay, sustain, release;
    double freq_a, freq_b, cutoff_a, cutoff_b, pan_a, pan_b;
    int freq_swept, cutoff_swept, pan_swept;
    float gain, duty, q, reverb;
    float drive_g, drive_norm; // tanh(g x) / tanh(g); g == 0: off
    double crackle_rate, grain_coef;
    double event_rate;
    float event_coef, event_attack;
    float vib_depth, cut_depth;
    // State.
    double phase;
    rp_rng noise, crackle_rng, event_rng;
    float pink[7];
    float brown, brown_gain, brown_a;
    double crackle_next, event_next;
    float crackle_amp, ev, ev_smooth;
    int event_first;
    lfo vib, trem, cut_lfo, pan_lfo;
    biquad bq, lowcut;
    int has_lowcut;
    float amp_prev, gl_prev, gr_prev;
    int started;
} voice_layer;

struct rp_sfx_voice {
    int rate_hz;
    int bed;
    int64_t pos;    // frames rendered into blocks so far
    int64_t length; // one-shot length in frames; -1: bed
    int64_t fade_f; // end fade length (one-shots)
    float gain;
    int has_reverb;
    reverb rev;
    size_t n_layers;
    voice_layer *layers;
    float *rev_mem;
    float block[2 * CTRL_FRAMES]; // the current control block, interleaved
    int block_n, block_at;
};

// Where a sweep is at time t: 0..1 shaped by the layer's sweep curve.
static double sweep_pos(const voice_layer *l, double t)
{
    double x = l->sweep_s > 0.0 ? t / l->sweep_s : 1.0;
    if (x < 0.0)
        x = 0.0;
    if (x > 1.0)
        x = 1.0;
    if (l->sweep == SWEEP_DOPPLER) {
        // The pitch of a passing source changes fastest at closest approach.
        const double k = 3.0;
        x = 0.5 + 0.5 * tanh(k * (2.0 * x - 1.0)) / tanh(k);
    }
    return x;
}

static double sweep_hz(const voice_layer *l, double a, double b, int swept, double t)
{
    if (!swept)
        return a;
    double x = sweep_pos(l, t);
    if (l->sweep == SWEEP_LINEAR)
        return a + (b - a) * x;
    return a * pow(b / a, x);
}

static double envelope_at(const voice_layer *l, double t)
{
    double e;
    if (t < 0.0)
        return 0.0;
    if (t < l->attack) {
        e = t / l->attack;
    } else if (l->envelope == ENV_EXP) {
        e = exp(-(t - l->attack) / l->decay);
    } else if (t < l->attack + l->decay) {
        e = 1.0 - (1.0 - l->sustain) * (t - l->attack) / l->decay;
    } else {
        e = l->sustain;
    }
    if (l->end_f >= 0) {
        double left = l->len_s - t;
        if (left <= 0.0)
            return 0.0;
        if (left < l->release)
            e *= left / l->release;
    }
    return e;
}

// Constant-power pan law: p in [-1, 1] to left/right gains.
static void pan_gains(double p, float *gl, float *gr)
{
    if (p < -1.0)
        p = -1.0;
    if (p > 1.0)
        p = 1.0;
    double th = (p + 1.0) * (PI / 4.0);
    *gl = (float)cos(th);
    *gr = (float)sin(th);
}

static void layer_setup(voice_layer *vl, const rp_sfx_preset *p, const layer_def *ld, int rate,
                        uint64_t seed)
{
    const pval *v = ld->v;
    double rate_d = rate;
    int bed = rp_sfx_preset_is_bed(p);
    memset(vl, 0, sizeof *vl);
    vl->source = (int)v[L_SOURCE].a;
    vl->filter = (int)v[L_FILTER].a;
    vl->envelope = (int)v[L_ENVELOPE].a;
    vl->sweep = (int)v[L_SWEEP].a;
    vl->stages = (int)v[L_STAGES].a;
    vl->start_f = (int64_t)llround(v[L_START].a * rate_d);
    if (bed) {
        vl->end_f = -1;
        vl->len_s = 0.0;
    } else {
        int64_t dur_f = (int64_t)llround(p->v[P_DURATION].a * rate_d);
        int64_t len_f =
            v[L_LENGTH].set ? (int64_t)llround(v[L_LENGTH].a * rate_d) : dur_f - vl->start_f;
        if (vl->start_f + len_f > dur_f)
            len_f = dur_f - vl->start_f;
        if (len_f < 1)
            len_f = 1;
        vl->end_f = vl->start_f + len_f;
        vl->len_s = (double)len_f / rate_d;
    }
    vl->sweep_s = v[L_SWEEP_TIME].set ? v[L_SWEEP_TIME].a : vl->len_s;
    vl->attack = v[L_ATTACK].a;
    vl->decay = v[L_DECAY].a;
    vl->sustain = v[L_SUSTAIN].a;
    vl->release = v[L_RELEASE].a;
    vl->freq_a = v[L_FREQ].a;
    vl->freq_b = v[L_FREQ].b;
    vl->freq_swept = v[L_FREQ].swept;
    vl->cutoff_a = v[L_CUTOFF].a;
    vl->cutoff_b = v[L_CUTOFF].b;
    vl->cutoff_swept = v[L_CUTOFF].swept;
    vl->pan_a = v[L_PAN].a;
    vl->pan_b = v[L_PAN].b;
    vl->pan_swept = v[L_PAN].swept;
    vl->gain = (float)rp_db_to_gain(v[L_GAIN].a);
    vl->duty = (float)v[L_DUTY].a;
    vl->q = (float)v[L_Q].a;
    vl->reverb = (float)v[L_REVERB].a;
    if (v[L_DRIVE].a > 0.0) {
        vl->drive_g = (float)rp_db_to_gain(v[L_DRIVE].a);
        vl->drive_norm = 1.0f / tanhf(vl->drive_g);
    }
    vl->crackle_rate = v[L_DENSITY].a;
    vl->grain_coef = exp(-1.0 / (v[L_GRAIN].a * rate_d));
    vl->event_rate = v[L_EVENTS].a;
    vl->event_coef = (float)exp(-1.0 / (v[L_EVENT_DECAY].a * rate_d));
    vl->event_attack = (float)(1.0 - exp(-1.0 / (0.002 * rate_d)));
    vl->vib_depth = (float)v[L_VIBRATO_DEPTH].a;
    if (v[L_LOWCUT].a > 0.0) {
        vl->has_lowcut = 1;
        biquad_design(&vl->lowcut, FILT_HIGHPASS, v[L_LOWCUT].a, 0.7071, rate_d);
    }
    vl->cut_depth = (float)v[L_CUTOFF_LFO_DEPTH].a;

    // Each layer's random streams come from the voice seed and the layer's
    // name, so adding, removing or editing one layer leaves the others alone.
    uint64_t ls = rp_seed_mix(seed, rp_hash64(ld->name, strlen(ld->name), RP_HASH_INIT));
    vl->noise.s = rp_seed_mix(ls, 1);
    vl->crackle_rng.s = rp_seed_mix(ls, 2);
    vl->event_rng.s = rp_seed_mix(ls, 3);
    lfo_init(&vl->vib, v[L_VIBRATO_RATE].a, 1.0, (int)v[L_VIBRATO_SHAPE].a, rp_seed_mix(ls, 4));
    lfo_init(&vl->trem, v[L_TREMOLO_RATE].a, v[L_TREMOLO_DEPTH].a, (int)v[L_TREMOLO_SHAPE].a,
             rp_seed_mix(ls, 5));
    lfo_init(&vl->cut_lfo, v[L_CUTOFF_LFO_RATE].a, 1.0, (int)v[L_CUTOFF_LFO_SHAPE].a,
             rp_seed_mix(ls, 6));
    lfo_init(&vl->pan_lfo, v[L_PAN_LFO_RATE].a, v[L_PAN_LFO_DEPTH].a, (int)v[L_PAN_LFO_SHAPE].a,
             rp_seed_mix(ls, 7));
    if (vl->vib_depth <= 0.0f)
        vl->vib.rate_hz = 0.0;
    if (vl->cut_depth <= 0.0f)
        vl->cut_lfo.rate_hz = 0.0;
    // Brown noise: white (RMS 1/sqrt(3)) through a leaky integrator with
    // its corner at 20 Hz, a 1/f^2 spectrum above it. The integrator's
    // output variance is var(w) / (1 - a^2); scale it to an RMS of 0.3 at
    // any rate.
    double a = exp(-2.0 * PI * 20.0 / rate_d);
    vl->brown_a = (float)a;
    vl->brown_gain = (float)(0.3 * sqrt(3.0) * sqrt(1.0 - a * a));
    vl->crackle_next = vl->crackle_rate > 0.0
                           ? -log(1.0 - rp_rng_unit(&vl->crackle_rng)) * rate_d / vl->crackle_rate
                           : 0.0;
    // The first event fires at full level on the layer's first frame, so a
    // gated layer (a crack, a roll) always starts on time.
    vl->event_next = 0.0;
    vl->event_first = 1;
}

rp_sfx_voice *rp_sfx_voice_new(const rp_sfx_preset *p, int rate_hz, uint64_t seed)
{
    if (!p || rate_hz < RP_MIN_RATE_HZ || rate_hz > RP_MAX_RATE_HZ)
        return NULL;
    rp_sfx_voice *v = rp_calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->rate_hz = rate_hz;
    v->bed = rp_sfx_preset_is_bed(p);
    v->length = v->bed ? -1 : (int64_t)llround(rp_sfx_preset_duration_s(p) * rate_hz);
    v->fade_f = (int64_t)(END_FADE_S * rate_hz);
    if (!v->bed && v->fade_f > v->length / 2)
        v->fade_f = v->length / 2;
    v->gain = (float)rp_db_to_gain(p->v[P_GAIN].a);
    v->n_layers = p->n_layers;
    v->layers = rp_calloc(p->n_layers ? p->n_layers : 1, sizeof *v->layers);
    if (!v->layers) {
        rp_sfx_voice_free(v);
        return NULL;
    }
    for (size_t i = 0; i < p->n_layers; i++) {
        layer_setup(&v->layers[i], p, &p->layers[i], rate_hz, seed);
        if (v->layers[i].reverb > 0.0f)
            v->has_reverb = 1;
    }
    if (v->has_reverb) {
        int lens[2 * (FV_COMBS + FV_ALLPASSES)];
        size_t total = reverb_frames(rate_hz, lens);
        v->rev_mem = rp_calloc(total, sizeof *v->rev_mem);
        if (!v->rev_mem) {
            rp_sfx_voice_free(v);
            return NULL;
        }
        float *m = v->rev_mem;
        int k = 0;
        for (int ch = 0; ch < 2; ch++) {
            for (int i = 0; i < FV_COMBS; i++, k++) {
                v->rev.comb[ch][i].buf = m;
                v->rev.comb[ch][i].len = lens[k];
                m += lens[k];
            }
            for (int i = 0; i < FV_ALLPASSES; i++, k++) {
                v->rev.ap[ch][i].buf = m;
                v->rev.ap[ch][i].len = lens[k];
                m += lens[k];
            }
        }
        double size = p->v[P_REVERB_SIZE].a, damp = p->v[P_REVERB_DAMP].a;
        double width = p->v[P_REVERB_WIDTH].a;
        v->rev.feedback = (float)(0.7 + 0.28 * size);
        v->rev.damp1 = (float)(0.4 * damp);
        v->rev.damp2 = 1.0f - v->rev.damp1;
        v->rev.wet1 = (float)(width / 2.0 + 0.5);
        v->rev.wet2 = (float)((1.0 - width) / 2.0);
    }
    return v;
}

void rp_sfx_voice_free(rp_sfx_voice *v)
{
    if (!v)
        return;
    free(v->layers);
    free(v->rev_mem);
    free(v);
}

int64_t rp_sfx_voice_length(const rp_sfx_voice *v)
{
    return v->length;
}

// Fills x[0..n) with the layer's raw source.
static void gen_source(voice_layer *l, float *x, int n, double inc)
{
    double ph = l->phase;
    switch (l->source) {
    case SRC_SINE:
        for (int i = 0; i < n; i++) {
            x[i] = (float)sin(2.0 * PI * ph);
            ph += inc;
            if (ph >= 1.0)
                ph -= 1.0;
        }
        break;
    case SRC_SAW:
        for (int i = 0; i < n; i++) {
            x[i] = (float)(2.0 * ph - 1.0 - polyblep(ph, inc));
            ph += inc;
            if (ph >= 1.0)
                ph -= 1.0;
        }
        break;
    case SRC_SQUARE: {
        double duty = l->duty;
        for (int i = 0; i < n; i++) {
            double y = ph < duty ? 1.0 : -1.0;
            double t2 = ph - duty;
            if (t2 < 0.0)
                t2 += 1.0;
            y += polyblep(ph, inc) - polyblep(t2, inc);
            // Remove the pulse's DC so duty changes do not thump.
            x[i] = (float)(y - (2.0 * duty - 1.0));
            ph += inc;
            if (ph >= 1.0)
                ph -= 1.0;
        }
        break;
    }
    case SRC_TRIANGLE:
        for (int i = 0; i < n; i++) {
            x[i] = (float)(4.0 * fabs(ph - 0.5) - 1.0);
            ph += inc;
            if (ph >= 1.0)
                ph -= 1.0;
        }
        break;
    case SRC_WHITE:
        for (int i = 0; i < n; i++)
            x[i] = rp_rng_bipolar(&l->noise);
        break;
    case SRC_PINK: {
        float b0 = l->pink[0], b1 = l->pink[1], b2 = l->pink[2], b3 = l->pink[3];
        float b4 = l->pink[4], b5 = l->pink[5], b6 = l->pink[6];
        for (int i = 0; i < n; i++) {
            float w = rp_rng_bipolar(&l->noise);
            b0 = 0.99886f * b0 + w * 0.0555179f;
            b1 = 0.99332f * b1 + w * 0.0750759f;
            b2 = 0.96900f * b2 + w * 0.1538520f;
            b3 = 0.86650f * b3 + w * 0.3104856f;
            b4 = 0.55000f * b4 + w * 0.5329522f;
            b5 = -0.7616f * b5 - w * 0.0168980f;
            x[i] = (b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362f) * 0.11f;
            b6 = w * 0.115926f;
        }
        l->pink[0] = b0, l->pink[1] = b1, l->pink[2] = b2, l->pink[3] = b3;
        l->pink[4] = b4, l->pink[5] = b5, l->pink[6] = b6;
        break;
    }
    case SRC_BROWN: {
        float y = l->brown, a = l->brown_a, g = l->brown_gain;
        for (int i = 0; i < n; i++) {
            y = a * y + rp_rng_bipolar(&l->noise);
            x[i] = y * g;
        }
        l->brown = y;
        break;
    }
    case SRC_CRACKLE: {
        // Poisson impulse train: exponential gaps, each impulse a noise
        // grain with a random level and sign and an exponential decay.
        double next = l->crackle_next;
        float amp = l->crackle_amp, coef = (float)l->grain_coef;
        for (int i = 0; i < n; i++) {
            next -= 1.0;
            if (next <= 0.0) {
                double u = rp_rng_unit(&l->crackle_rng);
                amp = (float)(0.2 + 0.8 * u * u);
                next += -log(1.0 - rp_rng_unit(&l->crackle_rng)) * inc;
            }
            x[i] = amp * rp_rng_bipolar(&l->crackle_rng);
            amp *= coef;
        }
        if (amp < DENORMAL)
            amp = 0.0f;
        l->crackle_next = next;
        l->crackle_amp = amp;
        break;
    }
    }
    l->phase = ph;
}

// Tremolo swings the gain between 1 - depth and 1 (v is the LFO times depth).
static float tremolo_gain(const voice_layer *l, float v)
{
    if (l->trem.rate_hz <= 0.0 || l->trem.depth <= 0.0f)
        return 1.0f;
    return 1.0f - 0.5f * l->trem.depth + 0.5f * v;
}

static double pan_at(const voice_layer *l, double t)
{
    if (!l->pan_swept)
        return l->pan_a;
    return l->pan_a + (l->pan_b - l->pan_a) * sweep_pos(l, t);
}

// Renders frames [i0, i1) of this control block into the mix buffers; t0 is
// the layer-local time at i0.
static void layer_block(voice_layer *l, double rate, double t0, int n, float *outl, float *outr,
                        float *send)
{
    float x[CTRL_FRAMES];
    double dt = n / rate;
    double t1 = t0 + dt;
    if (!l->started) {
        l->amp_prev = l->gain * (float)envelope_at(l, t0) * tremolo_gain(l, lfo_now(&l->trem));
        pan_gains(pan_at(l, t0) + lfo_now(&l->pan_lfo), &l->gl_prev, &l->gr_prev);
        l->started = 1;
    }
    // Control values at the block's end; amplitudes ramp towards them.
    float vib = lfo_step(&l->vib, dt);
    float trem = lfo_step(&l->trem, dt);
    float cut = lfo_step(&l->cut_lfo, dt);
    float panl = lfo_step(&l->pan_lfo, dt);
    double tm = 0.5 * (t0 + t1);
    if (l->source <= SRC_TRIANGLE) {
        double f = sweep_hz(l, l->freq_a, l->freq_b, l->freq_swept, tm);
        if (l->vib_depth > 0.0f)
            f *= pow(2.0, l->vib_depth * vib / 12.0);
        double inc = f / rate;
        if (inc > 0.49)
            inc = 0.49;
        gen_source(l, x, n, inc);
    } else {
        // Crackle passes the mean gap in frames through "inc".
        gen_source(l, x, n, l->crackle_rate > 0.0 ? rate / l->crackle_rate : 1.0);
    }
    if (l->event_rate > 0.0) {
        double next = l->event_next, gap = rate / l->event_rate;
        float ev = l->ev, evs = l->ev_smooth, c = l->event_coef, a = l->event_attack;
        for (int i = 0; i < n; i++) {
            next -= 1.0;
            if (next <= 0.0) {
                float lvl = (float)(0.25 + 0.75 * rp_rng_unit(&l->event_rng));
                if (l->event_first)
                    lvl = 1.0f;
                l->event_first = 0;
                if (lvl > ev)
                    ev = lvl;
                next += -log(1.0 - rp_rng_unit(&l->event_rng)) * gap;
            }
            evs += (ev - evs) * a;
            ev *= c;
            x[i] *= evs;
        }
        if (ev < DENORMAL)
            ev = 0.0f;
        if (evs < DENORMAL)
            evs = 0.0f;
        l->event_next = next;
        l->ev = ev;
        l->ev_smooth = evs;
    }
    if (l->filter != FILT_NONE) {
        double fc = sweep_hz(l, l->cutoff_a, l->cutoff_b, l->cutoff_swept, tm);
        if (l->cut_depth > 0.0f)
            fc *= pow(2.0, l->cut_depth * cut);
        if (fc < 10.0)
            fc = 10.0;
        biquad_design(&l->bq, l->filter, fc, l->q, rate);
        biquad_run(&l->bq, l->stages, x, n);
    }
    if (l->has_lowcut)
        biquad_run(&l->lowcut, 1, x, n);
    // Drive after the filter: it adds grit and also bounds the layer's peak
    // at its gain, which is what lets presets set their level by design.
    if (l->drive_g > 0.0f) {
        float g = l->drive_g, norm = l->drive_norm;
        for (int i = 0; i < n; i++)
            x[i] = tanhf(g * x[i]) * norm;
    }
    float amp1 = l->gain * (float)envelope_at(l, t1) * tremolo_gain(l, trem);
    float gl1, gr1;
    pan_gains(pan_at(l, t1) + panl, &gl1, &gr1);
    float a0 = l->amp_prev, da = (amp1 - a0) / n;
    float l0 = l->gl_prev, dl = (gl1 - l0) / n;
    float r0 = l->gr_prev, dr = (gr1 - r0) / n;
    float rs = l->reverb;
    for (int i = 0; i < n; i++) {
        float a = a0 + da * (float)(i + 1);
        float y = x[i] * a;
        outl[i] += y * (l0 + dl * (float)(i + 1));
        outr[i] += y * (r0 + dr * (float)(i + 1));
        send[i] += y * rs;
    }
    l->amp_prev = amp1;
    l->gl_prev = gl1;
    l->gr_prev = gr1;
}

// Renders the next control block (CTRL_FRAMES frames, fewer at a one-shot's
// end) into v->block.
static void render_block(rp_sfx_voice *v)
{
    const double rate = v->rate_hz;
    int n = CTRL_FRAMES;
    if (!v->bed && v->length - v->pos < n)
        n = (int)(v->length - v->pos);
    float L[CTRL_FRAMES] = {0}, R[CTRL_FRAMES] = {0}, S[CTRL_FRAMES] = {0};
    for (size_t li = 0; li < v->n_layers; li++) {
        voice_layer *l = &v->layers[li];
        // Split the block where the layer starts or ends.
        int64_t i0 = l->start_f - v->pos, i1 = n;
        if (i0 < 0)
            i0 = 0;
        if (l->end_f >= 0 && l->end_f - v->pos < i1)
            i1 = l->end_f - v->pos;
        if (i0 >= i1)
            continue;
        double t0 = (double)(v->pos + i0 - l->start_f) / rate;
        layer_block(l, rate, t0, (int)(i1 - i0), L + i0, R + i0, S + i0);
    }
    if (v->has_reverb)
        reverb_run(&v->rev, S, L, R, n);
    for (int i = 0; i < n; i++) {
        float g = v->gain;
        if (!v->bed) {
            int64_t rem = v->length - (v->pos + i);
            if (rem < v->fade_f)
                g *= (float)rem / (float)v->fade_f;
        }
        v->block[2 * i] = L[i] * g;
        v->block[2 * i + 1] = R[i] * g;
    }
    v->pos += n;
    v->block_n = n;
    v->block_at = 0;
}

// The voice works in whole control blocks and hands them out in whatever
// slices the caller asks for, so the output never depends on the slicing.
void rp_sfx_voice_render(rp_sfx_voice *v, float *out, size_t n_frames)
{
    size_t done = 0;
    while (done < n_frames) {
        if (v->block_at >= v->block_n) {
            if (!v->bed && v->pos >= v->length) {
                memset(out + 2 * done, 0, (n_frames - done) * 2 * sizeof *out);
                return;
            }
            render_block(v);
        }
        size_t k = (size_t)(v->block_n - v->block_at);
        if (k > n_frames - done)
            k = n_frames - done;
        memcpy(out + 2 * done, v->block + 2 * v->block_at, k * 2 * sizeof *out);
        v->block_at += (int)k;
        done += k;
    }
}
