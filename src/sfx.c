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
// Line based (LF, CRLF or CR), UTF-8. `#` at the start of a line or after
// whitespace starts a comment. Top-level `key = value` lines come first, then one or more
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
// EQ biquad filter coefficients" (direct form I); band-limited
// saw and pulse by PolyBLEP (V. Valimaki, A. Huovilainen, "Antialiasing
// oscillators in subtractive synthesis", IEEE SPM 2007); pink noise by Paul
// Kellet's refined three-pole-plus filter (music-dsp archive, 1999); reverb
// is Jezar's public-domain Freeverb (8 lowpass-feedback combs and 4
// allpasses per channel, after Schroeder/Moorer); pan is the sin/cos
// constant-power law; a driven saw or pulse passes a 2 Hz DC blocker.
//
// Speed (`make bench` times every preset; issue 4 asks for 500x real time):
// work is done a control block at a time, in fixed-count loops the compiler
// vectorizes, with no libm call per sample (drive's tanh is a rational
// approximation, sines a polynomial: rp_fast_tanh and rp_sin_turns in
// rp_common.h); gates and grains decay in closed form between their random
// events; a silent layer stops; a slowly modulated filter or pan is updated
// once it has moved by FC_STEP or PAN_STEP; feedback state is flushed to
// zero below DENORMAL.
// Each fast formula matches the plain one to float precision.
#include "rp_sfx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_config.h"

// Named limits on what a preset may ask for (and RP_MAX_SFX_LAYERS).
#define MAX_DESCRIPTION_BYTES 300
#define MAX_STAGES 4
// Control rate: envelopes, sweeps, LFOs and filter coefficients are
// recomputed every CTRL_FRAMES frames (0.67 ms at 48 kHz) and amplitudes
// ramp linearly between; a block is split where a layer starts, ends or
// finishes its attack, so those corners are exact.
#define CTRL_FRAMES 32
// A one-shot always ends with this fade so a cut reverb tail cannot click.
#define END_FADE_S 0.05
// Feedback state below this is flushed to zero at block ends, so decaying
// tails reach exact silence and never go subnormal (slow on most CPUs).
#define DENORMAL 1e-20f
// A layer whose envelope has passed its attack (from then on it only falls)
// and sits below this gain (-160 dB) is silent for good and no longer run.
#define SILENT 1e-8
// A modulated filter is redesigned, and a moving pan recomputed, once its
// cutoff has moved by this fraction (0.3 cents) or its pan by this much
// (gains within 0.01 dB): slow LFOs then cost a fraction of their blocks.
#define FC_STEP 2e-4
#define PAN_STEP 1e-3
// Drive on a saw or pulse (even harmonics: a lopsided wave, like the
// alarm's horn) leaves DC, which a DC blocker after the drive removes. Its
// corner: it settles in a tenth of a second and leaves 30 Hz within 0.02 dB.
#define DC_BLOCK_HZ 2.0
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
    [P_DESCRIPTION] = {"description", T_TEXT, RP_UNIT_NONE, 0, 0, 0, NULL},
    [P_KIND] = {"kind", T_ENUM, RP_UNIT_NONE, 0, 0, KIND_ONESHOT, kind_names},
    [P_DURATION] = {"duration", T_NUM, RP_UNIT_S, 0.01, 120, 1.0, NULL},
    [P_TAIL] = {"tail", T_NUM, RP_UNIT_S, 0, 30, 0, NULL},
    [P_GAIN] = {"gain", T_NUM, RP_UNIT_DB, -60, 24, 0, NULL},
    [P_REVERB_SIZE] = {"reverb_size", T_NUM, RP_UNIT_NONE, 0, 1, 0.5, NULL},
    [P_REVERB_DAMP] = {"reverb_damp", T_NUM, RP_UNIT_NONE, 0, 1, 0.5, NULL},
    [P_REVERB_WIDTH] = {"reverb_width", T_NUM, RP_UNIT_NONE, 0, 1, 1.0, NULL},
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
    [L_SOURCE] = {"source", T_ENUM, RP_UNIT_NONE, 0, 0, SRC_SINE, source_names},
    [L_FREQ] = {"freq", T_SWEEP, RP_UNIT_HZ, 1, 20000, 440, NULL},
    [L_DUTY] = {"duty", T_NUM, RP_UNIT_NONE, 0.05, 0.95, 0.5, NULL},
    [L_DENSITY] = {"density", T_NUM, RP_UNIT_PER_S, 0.1, 20000, 50, NULL},
    [L_GRAIN] = {"grain", T_NUM, RP_UNIT_S, 0.0001, 0.1, 0.001, NULL},
    [L_START] = {"start", T_NUM, RP_UNIT_S, 0, 120, 0, NULL},
    [L_LENGTH] = {"length", T_NUM, RP_UNIT_S, 0.001, 120, 0, NULL},
    [L_GAIN] = {"gain", T_NUM, RP_UNIT_DB, -60, 24, 0, NULL},
    [L_ENVELOPE] = {"envelope", T_ENUM, RP_UNIT_NONE, 0, 0, ENV_ADSR, envelope_names},
    [L_ATTACK] = {"attack", T_NUM, RP_UNIT_S, 0, 60, 0.005, NULL},
    [L_DECAY] = {"decay", T_NUM, RP_UNIT_S, 0.001, 60, 0.1, NULL},
    [L_SUSTAIN] = {"sustain", T_NUM, RP_UNIT_NONE, 0, 1, 1, NULL},
    [L_RELEASE] = {"release", T_NUM, RP_UNIT_S, 0, 60, 0.01, NULL},
    [L_SWEEP] = {"sweep", T_ENUM, RP_UNIT_NONE, 0, 0, SWEEP_EXP, sweep_names},
    [L_SWEEP_TIME] = {"sweep_time", T_NUM, RP_UNIT_S, 0.001, 120, 0, NULL},
    [L_FILTER] = {"filter", T_ENUM, RP_UNIT_NONE, 0, 0, FILT_NONE, filter_names},
    [L_CUTOFF] = {"cutoff", T_SWEEP, RP_UNIT_HZ, 20, 20000, 1000, NULL},
    [L_Q] = {"q", T_NUM, RP_UNIT_NONE, 0.1, 30, 0.707, NULL},
    [L_STAGES] = {"stages", T_INT, RP_UNIT_NONE, 1, MAX_STAGES, 1, NULL},
    [L_LOWCUT] = {"lowcut", T_NUM, RP_UNIT_HZ, 0, 20000, 0, NULL},
    [L_VIBRATO_RATE] = {"vibrato_rate", T_NUM, RP_UNIT_HZ, 0, 100, 0, NULL},
    [L_VIBRATO_DEPTH] = {"vibrato_depth", T_NUM, RP_UNIT_ST, 0, 24, 0, NULL},
    [L_VIBRATO_SHAPE] = {"vibrato_shape", T_ENUM, RP_UNIT_NONE, 0, 0, SHAPE_SINE, shape_names},
    [L_TREMOLO_RATE] = {"tremolo_rate", T_NUM, RP_UNIT_HZ, 0, 500, 0, NULL},
    [L_TREMOLO_DEPTH] = {"tremolo_depth", T_NUM, RP_UNIT_NONE, 0, 1, 0, NULL},
    [L_TREMOLO_SHAPE] = {"tremolo_shape", T_ENUM, RP_UNIT_NONE, 0, 0, SHAPE_SINE, shape_names},
    [L_CUTOFF_LFO_RATE] = {"cutoff_lfo_rate", T_NUM, RP_UNIT_HZ, 0, 100, 0, NULL},
    [L_CUTOFF_LFO_DEPTH] = {"cutoff_lfo_depth", T_NUM, RP_UNIT_OCT, 0, 8, 0, NULL},
    [L_CUTOFF_LFO_SHAPE] = {"cutoff_lfo_shape", T_ENUM, RP_UNIT_NONE, 0, 0, SHAPE_SINE,
                            shape_names},
    [L_PAN_LFO_RATE] = {"pan_lfo_rate", T_NUM, RP_UNIT_HZ, 0, 50, 0, NULL},
    [L_PAN_LFO_DEPTH] = {"pan_lfo_depth", T_NUM, RP_UNIT_NONE, 0, 2, 0, NULL},
    [L_PAN_LFO_SHAPE] = {"pan_lfo_shape", T_ENUM, RP_UNIT_NONE, 0, 0, SHAPE_SINE, shape_names},
    [L_DRIVE] = {"drive", T_NUM, RP_UNIT_DB, 0, 40, 0, NULL},
    [L_EVENTS] = {"events", T_NUM, RP_UNIT_PER_S, 0, 1000, 0, NULL},
    [L_EVENT_DECAY] = {"event_decay", T_NUM, RP_UNIT_S, 0.001, 10, 0.1, NULL},
    [L_PAN] = {"pan", T_SWEEP, RP_UNIT_NONE, -1, 1, 0, NULL},
    [L_REVERB] = {"reverb", T_NUM, RP_UNIT_NONE, 0, 1, 0, NULL},
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
    layer_def layers[RP_MAX_SFX_LAYERS];
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
    const char *u = rp_unit_names[kd->unit];
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
    size_t i = *pos, end, word;
    int col = vcol(at, text, i);
    double v;
    rp_qty_status q = rp_read_quantity(text + i, kd->unit, &v, &end, &word);
    if (q == RP_QTY_NO_NUMBER) {
        size_t e = i;
        while (text[e] && !is_space(text[e]))
            e++;
        rp_diag_add(at->d, RP_DIAG_ERROR, at->file, at->line, col, "sfx", NULL,
                    "%s: expected a number, got '%.*s'", kd->name, (int)(e - i), text + i);
        return 0;
    }
    if (q == RP_QTY_BAD_UNIT) {
        rp_diag_add(at->d, RP_DIAG_ERROR, at->file, at->line, vcol(at, text, i + word), "sfx",
                    rp_unit_hint(kd->unit), "unit '%.*s' does not fit %s", (int)(end - word),
                    text + i + word, kd->name);
        return 0;
    }
    i += end;
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
    if (p->n_layers >= RP_MAX_SFX_LAYERS) {
        rp_diag_add(d, RP_DIAG_ERROR, at->file, at->line, at->col, "sfx", NULL,
                    "too many layers (at most %d)", RP_MAX_SFX_LAYERS);
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
    char *val;
    if (!rp_preset_split(s, &val)) {
        rp_diag_add(d, RP_DIAG_ERROR, at->file, at->line, at->col, "sfx", NULL,
                    "expected 'key = value', got '%s'", s);
        return;
    }
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
    size_t pos = 0, start, ll;
    int lineno = 0;
    while (rp_line_next(bytes, len, &pos, &start, &ll)) {
        lineno++;
        memcpy(line, bytes + start, ll);
        line[ll] = 0;
        if (memchr(bytes + start, 0, ll)) {
            rp_diag_add(dd, RP_DIAG_ERROR, file, lineno, 1, "sfx", NULL, "NUL byte in preset");
            continue;
        }
        size_t s = rp_preset_line_trim(line);
        if (!line[s])
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

static uint64_t pvals_hash(const pval *v, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++) {
        double ab[2] = {v[i].a, v[i].b};
        int flags[2] = {v[i].swept, v[i].set};
        h = rp_hash64(flags, sizeof flags, rp_hash64(ab, sizeof ab, h));
    }
    return h;
}

uint64_t rp_sfx_preset_hash(const rp_sfx_preset *p)
{
    uint64_t h = rp_hash64(p->name, strlen(p->name), RP_HASH_INIT);
    h = pvals_hash(p->v, P_COUNT, h);
    for (size_t i = 0; i < p->n_layers; i++) {
        const layer_def *l = &p->layers[i];
        h = pvals_hash(l->v, L_COUNT, rp_hash64(l->name, strlen(l->name), h));
    }
    return h;
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
    char *val = rp_strdup_trim(value);
    if (!val) {
        rp_diags_deinit(&local);
        return RP_ERR_NOMEM;
    }

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
            const char *cands[RP_MAX_SFX_LAYERS];
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
    const char *u = rp_unit_names[kd->unit];
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
                 *rp_unit_names[kd->unit] ? " " : "", rp_unit_names[kd->unit],
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
    for (size_t i = 0; i < lib->n_rooms; i++) {
        free((char *)lib->rooms[i].name);
        free((char *)lib->rooms[i].text);
    }
    free(lib->rooms);
    memset(lib, 0, sizeof *lib);
}

rp_status rp_sfx_library_add_room(rp_sfx_library *lib, const char *name, const char *file,
                                  const char *text, size_t len, rp_diags *d)
{
    rp_room_preset check;
    rp_status st = rp_room_parse(name, file, text, len, &check, d);
    if (st)
        return st;
    char *nm = rp_strdup(name), *tx = rp_strndup(text, len);
    size_t i = 0;
    while (i < lib->n_rooms && strcmp(lib->rooms[i].name, name))
        i++;
    if (!nm || !tx ||
        (i == lib->n_rooms &&
         rp_grow((void **)&lib->rooms, &lib->cap_rooms, lib->n_rooms + 1, sizeof *lib->rooms))) {
        free(nm);
        free(tx);
        return RP_ERR_NOMEM;
    }
    if (i < lib->n_rooms) {
        free((char *)lib->rooms[i].name);
        free((char *)lib->rooms[i].text);
    } else {
        lib->n_rooms++;
    }
    lib->rooms[i] = (rp_source){nm, tx, len};
    return RP_OK;
}

rp_status rp_sfx_library_add_text(rp_sfx_library *lib, const char *name, const char *file,
                                  const char *text, size_t len, rp_diags *d)
{
    lib->hash = rp_hash64(text, len, rp_hash64(name, strlen(name), lib->hash));
    const char *dot = strrchr(file, '.');
    if (dot && !strcmp(dot, ".room"))
        return rp_sfx_library_add_room(lib, name, file, text, len, d);
    rp_sfx_preset *p;
    rp_status st = rp_sfx_preset_parse(name, file, text, len, &p, d);
    return st ? st : rp_sfx_library_add(lib, p);
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
    static const struct {
        const rp_source *table;
        const size_t *n;
        const char *dir, *ext;
    } sets[] = {{rp_sfx_builtin, &rp_sfx_n_builtin, "sfx", ".sfx"},
                {rp_room_builtin, &rp_room_n_builtin, "sfx/rooms", ".room"}};
    rp_status result = RP_OK;
    for (size_t k = 0; k < sizeof sets / sizeof sets[0]; k++) {
        for (size_t i = 0; i < *sets[k].n; i++) {
            const rp_source *src = &sets[k].table[i];
            char file[RP_MAX_NAME_BYTES + 24];
            snprintf(file, sizeof file, "%s/%s%s", sets[k].dir, src->name, sets[k].ext);
            rp_status st = rp_sfx_library_add_text(lib, src->name, file, src->text, src->len, d);
            if (st != RP_OK && result == RP_OK)
                result = st;
        }
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

static inline float flush_tiny(float v)
{
    return fabsf(v) < DENORMAL ? 0.0f : v;
}

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
        // cos(pi ph) = -sin(2 pi (ph / 2 - 1/4)).
        float w = 0.5f + 0.5f * rp_sin_turns((float)(0.5 * ph - 0.25));
        return o->r0 + (o->r1 - o->r0) * w;
    }
    default:
        return -rp_sin_turns((float)(ph - 0.5));
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
} biquad;

typedef struct {
    float x1, x2, y1, y2; // last inputs and outputs (direct form I)
} biquad_state;

// RBJ cookbook low/high/band-pass (band-pass with 0 dB peak gain).
static void biquad_design(biquad *f, int type, double fc, double q, double rate)
{
    if (fc > 0.45 * rate)
        fc = 0.45 * rate;
    // From the half angle w0 / 2 (in turns, fc / (2 rate)): 1 - cos w0 =
    // 2 sin^2, which stays accurate for the lowest cutoffs. (cos enters
    // only through alpha, and there float precision is plenty.)
    double h = 0.5 * fc / rate;
    double s = rp_sin_turns((float)h), c = rp_sin_turns((float)(0.25 - h));
    double omc = 2.0 * s * s, opc = 2.0 - omc; // 1 - cos w0, 1 + cos w0
    double cw = 1.0 - omc, sw = 2.0 * s * c;
    double alpha = sw / (2.0 * q);
    double a0 = 1.0 + alpha, b0, b1, b2;
    switch (type) {
    case FILT_HIGHPASS:
        b0 = opc / 2.0;
        b1 = -opc;
        b2 = b0;
        break;
    case FILT_BANDPASS:
        b0 = alpha;
        b1 = 0.0;
        b2 = -alpha;
        break;
    default:
        b0 = omc / 2.0;
        b1 = omc;
        b2 = b0;
    }
    double inv = 1.0 / a0;
    f->b0 = (float)(b0 * inv);
    f->b1 = (float)(b1 * inv);
    f->b2 = (float)(b2 * inv);
    f->a1 = (float)(-2.0 * cw * inv);
    f->a2 = (float)((1.0 - alpha) * inv);
}

// One direct form I step. The sum is ordered so that only a1 y[n-1] waits
// on the previous output: one multiply and one add per sample on the
// critical path, where the transposed form II has two adds.
static inline float biquad_step(const biquad *c, biquad_state *s, float in)
{
    float y = (c->b0 * in + c->b1 * s->x1) + (c->b2 * s->x2 - c->a2 * s->y2) - c->a1 * s->y1;
    s->x2 = s->x1;
    s->x1 = in;
    s->y2 = s->y1;
    s->y1 = y;
    return y;
}

static void biquad_flush(biquad_state *s)
{
    s->x1 = flush_tiny(s->x1);
    s->x2 = flush_tiny(s->x2);
    s->y1 = flush_tiny(s->y1);
    s->y2 = flush_tiny(s->y2);
}

// Runs a cascade of up to MAX_STAGES + 1 biquads (c[k], st[k]) over x in
// place, all in one pass over the samples: the stages' recursions are
// independent chains that overlap, where stage after stage they would wait
// on one another.
static void cascade_run(const biquad *const *c, biquad_state *st, int count, float *x, int n)
{
    // Local copies, so that the states live in registers.
    biquad c0 = *c[0], c1 = count > 1 ? *c[1] : *c[0], c2 = count > 2 ? *c[2] : *c[0];
    biquad_state s0 = st[0], s1 = st[1], s2 = st[2];
    switch (count) {
    case 1:
        for (int i = 0; i < n; i++)
            x[i] = biquad_step(&c0, &s0, x[i]);
        break;
    case 2:
        for (int i = 0; i < n; i++)
            x[i] = biquad_step(&c1, &s1, biquad_step(&c0, &s0, x[i]));
        break;
    case 3:
        for (int i = 0; i < n; i++)
            x[i] = biquad_step(&c2, &s2, biquad_step(&c1, &s1, biquad_step(&c0, &s0, x[i])));
        break;
    default:
        // Longer cascades (four or five stages): three, then the rest.
        for (int i = 0; i < n; i++)
            x[i] = biquad_step(&c2, &s2, biquad_step(&c1, &s1, biquad_step(&c0, &s0, x[i])));
        cascade_run(c + 3, st + 3, count - 3, x, n);
    }
    st[0] = s0, st[1] = s1, st[2] = s2;
    for (int k = 0; k < count && k < 3; k++)
        biquad_flush(&st[k]);
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
    float inv_damp2; // the combs hold damp2 times their signal (see reverb_run)
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

// Sample by sample, for a short last block.
static void reverb_run_short(reverb *r, const float *in, float *outl, float *outr, int n)
{
    const float d1 = r->damp1, d2 = r->damp2, d2fb = r->damp2 * r->feedback;
    for (int i = 0; i < n; i++) {
        float x2 = in[i] * FV_FIXED_GAIN * d2;
        float o[2] = {0.0f, 0.0f};
        for (int ch = 0; ch < 2; ch++) {
            for (int c = 0; c < FV_COMBS; c++) {
                fv_comb *cb = &r->comb[ch][c];
                float y2 = cb->buf[cb->idx];
                cb->store = y2 + cb->store * d1;
                cb->buf[cb->idx] = flush_tiny(x2 + cb->store * d2fb);
                if (++cb->idx >= cb->len)
                    cb->idx = 0;
                o[ch] += y2 * r->inv_damp2;
            }
            for (int a = 0; a < FV_ALLPASSES; a++) {
                fv_allpass *ap = &r->ap[ch][a];
                float bo = ap->buf[ap->idx];
                ap->buf[ap->idx] = flush_tiny(o[ch] + bo * 0.5f);
                if (++ap->idx >= ap->len)
                    ap->idx = 0;
                o[ch] = bo - o[ch];
            }
        }
        outl[i] += o[0] * r->wet1 + o[1] * r->wet2;
        outr[i] += o[1] * r->wet1 + o[0] * r->wet2;
    }
    for (int ch = 0; ch < 2; ch++)
        for (int c = 0; c < FV_COMBS; c++)
            r->comb[ch][c].store = flush_tiny(r->comb[ch][c].store);
}

// A whole control block at a time. Every delay is longer than a block, so
// a block only reads what earlier blocks wrote: each comb's inputs for the
// block are known up front. The one recursion left, each comb's damping
// lowpass, runs for all 8 combs of a channel in one loop (8 independent
// chains instead of one long one); everything else runs in fixed-count
// loops that vectorize. The combs hold damp2 times Freeverb's signal, which
// takes a multiply out of that recursion.
// A delay line that wraps inside the block is worked on as a linear copy.
// Written values are flushed below DENORMAL (the loop would otherwise
// recirculate an ever smaller tail); the damping states at block ends.
_Static_assert(FV_COMBS == 8, "reverb_run writes out 8 comb chains");
_Static_assert(225 * RP_MIN_RATE_HZ / 44100 >= CTRL_FRAMES, "a delay shorter than a block");
static void reverb_run(reverb *r, const float *in, float *outl, float *outr, int n)
{
    if (n < CTRL_FRAMES) {
        reverb_run_short(r, in, outl, outr, n);
        return;
    }
    const float d1 = r->damp1, d2fb = r->damp2 * r->feedback, inv_d2 = r->inv_damp2;
    float x2[CTRL_FRAMES], o[2][CTRL_FRAMES];
    for (int i = 0; i < CTRL_FRAMES; i++)
        x2[i] = in[i] * FV_FIXED_GAIN * r->damp2;
    for (int ch = 0; ch < 2; ch++) {
        fv_comb *cb = r->comb[ch];
        float lin[FV_COMBS][CTRL_FRAMES], st[FV_COMBS][CTRL_FRAMES];
        float *p[FV_COMBS];
        for (int c = 0; c < FV_COMBS; c++) {
            int k = cb[c].len - cb[c].idx;
            p[c] = cb[c].buf + cb[c].idx;
            if (k < CTRL_FRAMES) {
                memcpy(lin[c], p[c], (size_t)k * sizeof **lin);
                memcpy(lin[c] + k, cb[c].buf, (size_t)(CTRL_FRAMES - k) * sizeof **lin);
                p[c] = lin[c];
            }
        }
        float s0 = cb[0].store, s1 = cb[1].store, s2 = cb[2].store, s3 = cb[3].store;
        float s4 = cb[4].store, s5 = cb[5].store, s6 = cb[6].store, s7 = cb[7].store;
        for (int i = 0; i < CTRL_FRAMES; i++) {
            st[0][i] = s0 = p[0][i] + s0 * d1;
            st[1][i] = s1 = p[1][i] + s1 * d1;
            st[2][i] = s2 = p[2][i] + s2 * d1;
            st[3][i] = s3 = p[3][i] + s3 * d1;
            st[4][i] = s4 = p[4][i] + s4 * d1;
            st[5][i] = s5 = p[5][i] + s5 * d1;
            st[6][i] = s6 = p[6][i] + s6 * d1;
            st[7][i] = s7 = p[7][i] + s7 * d1;
        }
        cb[0].store = flush_tiny(s0), cb[1].store = flush_tiny(s1);
        cb[2].store = flush_tiny(s2), cb[3].store = flush_tiny(s3);
        cb[4].store = flush_tiny(s4), cb[5].store = flush_tiny(s5);
        cb[6].store = flush_tiny(s6), cb[7].store = flush_tiny(s7);
        float *oc = o[ch];
        for (int i = 0; i < CTRL_FRAMES; i++)
            oc[i] = (((p[0][i] + p[1][i]) + (p[2][i] + p[3][i])) +
                     ((p[4][i] + p[5][i]) + (p[6][i] + p[7][i]))) *
                    inv_d2;
        for (int c = 0; c < FV_COMBS; c++) {
            float *restrict pc = p[c];
            const float *sc = st[c];
            for (int i = 0; i < CTRL_FRAMES; i++)
                pc[i] = flush_tiny(x2[i] + sc[i] * d2fb);
            int k = cb[c].len - cb[c].idx;
            if (k < CTRL_FRAMES) {
                memcpy(cb[c].buf + cb[c].idx, lin[c], (size_t)k * sizeof **lin);
                memcpy(cb[c].buf, lin[c] + k, (size_t)(CTRL_FRAMES - k) * sizeof **lin);
                cb[c].idx = CTRL_FRAMES - k;
            } else {
                cb[c].idx = k == CTRL_FRAMES ? 0 : cb[c].idx + CTRL_FRAMES;
            }
        }
        for (int a = 0; a < FV_ALLPASSES; a++) {
            fv_allpass *ap = &r->ap[ch][a];
            int k = ap->len - ap->idx;
            float buf[CTRL_FRAMES];
            float *restrict pa = ap->buf + ap->idx;
            if (k < CTRL_FRAMES) {
                memcpy(buf, pa, (size_t)k * sizeof *buf);
                memcpy(buf + k, ap->buf, (size_t)(CTRL_FRAMES - k) * sizeof *buf);
                pa = buf;
            }
            for (int i = 0; i < CTRL_FRAMES; i++) {
                float bo = pa[i];
                pa[i] = flush_tiny(oc[i] + bo * 0.5f);
                oc[i] = bo - oc[i];
            }
            if (k < CTRL_FRAMES) {
                memcpy(ap->buf + ap->idx, buf, (size_t)k * sizeof *buf);
                memcpy(ap->buf, buf + k, (size_t)(CTRL_FRAMES - k) * sizeof *buf);
                ap->idx = CTRL_FRAMES - k;
            } else {
                ap->idx = k == CTRL_FRAMES ? 0 : ap->idx + CTRL_FRAMES;
            }
        }
    }
    for (int i = 0; i < CTRL_FRAMES; i++) {
        outl[i] += o[0][i] * r->wet1 + o[1][i] * r->wet2;
        outr[i] += o[1][i] * r->wet1 + o[0][i] * r->wet2;
    }
}

// ---- voices -----------------------------------------------------------------

typedef struct {
    // Parameters, copied so the voice does not borrow the preset.
    int source, filter, envelope, sweep, stages;
    int64_t start_f, end_f; // end_f < 0: endless (bed)
    int64_t attack_end_f;
    double len_s, sweep_s;
    double attack, decay, sustain, release;
    double freq_a, freq_b, cutoff_a, cutoff_b, pan_a, pan_b;
    double freq_lr, cutoff_lr; // log(b / a) of the exp sweeps
    double doppler_norm;
    double inv_sweep_s, inv_attack, inv_decay, inv_release; // 0 when not used
    double crackle_gap, event_gap;                          // mean gaps in frames
    double inv_rate;
    int freq_swept, cutoff_swept, pan_swept;
    float gain, duty, q, reverb;
    float drive_g, drive_norm; // tanh(g x) / tanh(g); g == 0: off
    double crackle_rate, grain_coef;
    double event_rate;
    float event_coef, event_attack;
    // Closed forms over k frames without an impulse or event: a grain's
    // level is amp grain_pow[k]; the gate's, ev and evs, become ev ev_c[k]
    // and, one frame after k, ev ev_p[k] + evs ev_q[k].
    float grain_pow[CTRL_FRAMES + 1];
    float ev_c[CTRL_FRAMES + 1], ev_p[CTRL_FRAMES], ev_q[CTRL_FRAMES];
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
    int n_biquads;                       // stages, then the lowcut
    const biquad *chain[MAX_STAGES + 1]; // their coefficients
    biquad_state chain_st[MAX_STAGES + 1];
    double fc_prev;    // the cutoff bq was designed for (0: none yet)
    double sweep_prev; // the sweep position at the block's start
    double pan_prev;   // the pan gl_prev and gr_prev were made for
    double env_prev;   // the envelope at the current block's start
    float amp_prev, gl_prev, gr_prev;
    int dc_block;      // a driven saw or pulse
    float dc_coef, dc; // its DC estimate: block means, one-pole smoothed
    int started, silent;
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

// The doppler sweep's steepness: tanh over [-k, k], normalised by
// doppler_norm = 1 / tanh(k) (the same tanh, so the ends are exactly 0, 1).
#define DOPPLER_K 3.0f

// Where a sweep is at time t: 0..1 shaped by the layer's sweep curve.
static double sweep_pos(const voice_layer *l, double t)
{
    double x = l->sweep_s > 0.0 ? t * l->inv_sweep_s : 1.0;
    if (x < 0.0)
        x = 0.0;
    if (x > 1.0)
        x = 1.0;
    if (l->sweep == SWEEP_DOPPLER) {
        // The pitch of a passing source changes fastest at closest approach.
        x = 0.5 + 0.5 * (double)rp_fast_tanh((float)(DOPPLER_K * (2.0 * x - 1.0))) * l->doppler_norm;
    }
    return x;
}

// A swept frequency at sweep position x (from sweep_pos); lr = log(b / a).
static double sweep_hz(const voice_layer *l, double a, double b, double lr, double x)
{
    if (l->sweep == SWEEP_LINEAR)
        return a + (b - a) * x;
    return a * (double)expf((float)(lr * x));
}

static double envelope_at(const voice_layer *l, double t)
{
    double e;
    if (t < 0.0)
        return 0.0;
    if (t < l->attack) {
        e = t * l->inv_attack;
    } else if (l->envelope == ENV_EXP) {
        e = (double)expf((float)(-(t - l->attack) * l->inv_decay));
    } else if (t < l->attack + l->decay) {
        e = 1.0 - (1.0 - l->sustain) * (t - l->attack) * l->inv_decay;
    } else {
        e = l->sustain;
    }
    if (l->end_f >= 0) {
        double left = l->len_s - t;
        if (left <= 0.0)
            return 0.0;
        if (left < l->release)
            e *= left * l->inv_release;
    }
    return e < 1e-30 ? 0.0 : e; // no subnormal gains
}

// Constant-power pan law: p in [-1, 1] to left/right gains.
static void pan_gains(double p, float *gl, float *gr)
{
    if (p < -1.0)
        p = -1.0;
    if (p > 1.0)
        p = 1.0;
    // The angle (p + 1) pi / 4 in turns, and cos x = sin(pi / 2 - x).
    float th = (float)((p + 1.0) / 8.0);
    *gl = rp_sin_turns(0.25f - th);
    *gr = rp_sin_turns(th);
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
    vl->attack_end_f = vl->start_f + (int64_t)llround(vl->attack * rate_d);
    vl->inv_rate = 1.0 / rate_d;
    vl->inv_sweep_s = vl->sweep_s > 0.0 ? 1.0 / vl->sweep_s : 0.0;
    vl->inv_attack = vl->attack > 0.0 ? 1.0 / vl->attack : 0.0;
    vl->inv_decay = 1.0 / vl->decay;
    vl->inv_release = vl->release > 0.0 ? 1.0 / vl->release : 0.0;
    vl->freq_a = v[L_FREQ].a;
    vl->freq_b = v[L_FREQ].b;
    vl->freq_swept = v[L_FREQ].swept;
    vl->cutoff_a = v[L_CUTOFF].a;
    vl->cutoff_b = v[L_CUTOFF].b;
    vl->cutoff_swept = v[L_CUTOFF].swept;
    vl->pan_a = v[L_PAN].a;
    vl->pan_b = v[L_PAN].b;
    vl->pan_swept = v[L_PAN].swept;
    vl->freq_lr = log(vl->freq_b / vl->freq_a);
    vl->doppler_norm = 1.0 / (double)rp_fast_tanh(DOPPLER_K);
    vl->cutoff_lr = log(vl->cutoff_b / vl->cutoff_a);
    vl->gain = (float)rp_db_to_gain(v[L_GAIN].a);
    vl->duty = (float)v[L_DUTY].a;
    vl->q = (float)v[L_Q].a;
    vl->reverb = (float)v[L_REVERB].a;
    if (v[L_DRIVE].a > 0.0) {
        vl->drive_g = (float)rp_db_to_gain(v[L_DRIVE].a);
        vl->drive_norm = 1.0f / tanhf(vl->drive_g);
        vl->dc_block = vl->source == SRC_SAW || vl->source == SRC_SQUARE;
        vl->dc_coef = (float)(1.0 - exp(-2.0 * PI * DC_BLOCK_HZ * CTRL_FRAMES / rate_d));
    }
    vl->crackle_rate = v[L_DENSITY].a;
    vl->crackle_gap = rate_d / vl->crackle_rate;
    vl->grain_coef = exp(-1.0 / (v[L_GRAIN].a * rate_d));
    vl->event_rate = v[L_EVENTS].a;
    vl->event_gap = vl->event_rate > 0.0 ? rate_d / vl->event_rate : 0.0;
    vl->event_coef = (float)exp(-1.0 / (v[L_EVENT_DECAY].a * rate_d));
    vl->event_attack = (float)(1.0 - exp(-1.0 / (0.002 * rate_d)));
    {
        double c = vl->event_coef, a = vl->event_attack, b = 1.0 - a, acc = 0.0, q = 1.0;
        for (int k = 0; k <= CTRL_FRAMES; k++) {
            vl->grain_pow[k] = (float)pow(vl->grain_coef, k);
            vl->ev_c[k] = (float)pow(c, k);
            if (k < CTRL_FRAMES) {
                acc = b * acc + a * pow(c, k);
                q *= b;
                vl->ev_p[k] = (float)acc;
                vl->ev_q[k] = (float)q;
            }
        }
    }
    vl->vib_depth = (float)v[L_VIBRATO_DEPTH].a;
    if (v[L_LOWCUT].a > 0.0) {
        vl->has_lowcut = 1;
        biquad_design(&vl->lowcut, FILT_HIGHPASS, v[L_LOWCUT].a, 0.7071, rate_d);
    }
    vl->cut_depth = (float)v[L_CUTOFF_LFO_DEPTH].a;
    // The filter chain: its stages (all sharing bq), then the lowcut.
    if (vl->filter != FILT_NONE)
        for (int k = 0; k < vl->stages; k++)
            vl->chain[vl->n_biquads++] = &vl->bq;
    if (vl->has_lowcut)
        vl->chain[vl->n_biquads++] = &vl->lowcut;

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
        v->rev.inv_damp2 = 1.0f / v->rev.damp2;
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

// The voice and its layers with their addresses zeroed.
static rp_sfx_voice voice_plain(const rp_sfx_voice *v)
{
    rp_sfx_voice c = *v;
    c.layers = NULL;
    c.rev_mem = NULL;
    for (int ch = 0; ch < 2; ch++) {
        for (int i = 0; i < FV_COMBS; i++)
            c.rev.comb[ch][i].buf = NULL;
        for (int i = 0; i < FV_ALLPASSES; i++)
            c.rev.ap[ch][i].buf = NULL;
    }
    return c;
}

static size_t voice_rev_floats(const rp_sfx_voice *v)
{
    size_t n = 0;
    for (int ch = 0; v->rev_mem && ch < 2; ch++) {
        for (int i = 0; i < FV_COMBS; i++)
            n += (size_t)v->rev.comb[ch][i].len;
        for (int i = 0; i < FV_ALLPASSES; i++)
            n += (size_t)v->rev.ap[ch][i].len;
    }
    return n;
}

void rp_sfx_voice_save(const rp_sfx_voice *v, rp_strbuf *out)
{
    rp_sfx_voice c = voice_plain(v);
    rp_strbuf_append(out, (const char *)&c, sizeof c);
    for (size_t i = 0; i < v->n_layers; i++) {
        voice_layer l = v->layers[i];
        memset(l.chain, 0, sizeof l.chain);
        rp_strbuf_append(out, (const char *)&l, sizeof l);
    }
    rp_strbuf_append(out, (const char *)v->rev_mem, voice_rev_floats(v) * sizeof(float));
}

rp_status rp_sfx_voice_load(rp_sfx_voice *v, rp_unpacker *in)
{
    rp_sfx_voice c, keep = *v;
    rp_unpack(in, &c, sizeof c);
    // Only the state may differ: the sizes are the preset's, and every
    // position lies within its buffer.
    int bad = in->bad || c.n_layers != v->n_layers || c.has_reverb != v->has_reverb ||
              c.rate_hz != v->rate_hz || c.block_n < 0 || c.block_n > CTRL_FRAMES ||
              c.block_at < 0 || c.block_at > c.block_n;
    for (int ch = 0; ch < 2 && !bad; ch++) {
        for (int i = 0; i < FV_COMBS && !bad; i++) {
            const fv_comb *a = &c.rev.comb[ch][i];
            bad = a->len != v->rev.comb[ch][i].len || a->idx < 0 || (a->len && a->idx >= a->len);
        }
        for (int i = 0; i < FV_ALLPASSES && !bad; i++) {
            const fv_allpass *a = &c.rev.ap[ch][i];
            bad = a->len != v->rev.ap[ch][i].len || a->idx < 0 || (a->len && a->idx >= a->len);
        }
    }
    if (bad)
        return RP_ERR_FORMAT;
    *v = c;
    v->layers = keep.layers;
    v->rev_mem = keep.rev_mem;
    for (int ch = 0; ch < 2; ch++) {
        for (int i = 0; i < FV_COMBS; i++)
            v->rev.comb[ch][i].buf = keep.rev.comb[ch][i].buf;
        for (int i = 0; i < FV_ALLPASSES; i++)
            v->rev.ap[ch][i].buf = keep.rev.ap[ch][i].buf;
    }
    for (size_t i = 0; i < v->n_layers; i++) {
        voice_layer *l = &v->layers[i];
        const biquad *chain[MAX_STAGES + 1];
        int n_biquads = l->n_biquads;
        memcpy(chain, l->chain, sizeof chain);
        rp_unpack(in, l, sizeof *l);
        memcpy(l->chain, chain, sizeof chain);
        if (l->n_biquads != n_biquads)  // it indexes the chain
            return RP_ERR_FORMAT;
    }
    if (v->rev_mem)
        rp_unpack(in, v->rev_mem, voice_rev_floats(v) * sizeof(float));
    return in->bad ? RP_ERR_FORMAT : RP_OK;
}

int64_t rp_sfx_voice_length(const rp_sfx_voice *v)
{
    return v->length;
}

// rp_rng_bipolar's value, rounded to float straight from the integer (the
// two differ by at most one unit in the last place): fewer steps per sample.
static inline float noise_bipolar(rp_rng *r)
{
    return (float)(int64_t)(rp_rng_next(r) ^ 0x8000000000000000ull) * 0x1p-63f;
}

// Random events (crackle impulses, gate events) count down `next` by one a
// frame and fire on the frame where it reaches 0: how many frames, at most
// max, pass before that one.
static int frames_before(double next, int max)
{
    double m = ceil(next) - 1.0;
    return !(m > 0.0) ? 0 : m >= (double)max ? max : (int)m;  // (NaN: 0)
}

// Waveforms from the phases p[i0..i1) of a control block, into xb[i0..i1).
// PolyBLEP's residual is non-zero only on the two samples around each
// discontinuity, so the naive shape is computed first (for a whole block in
// loops that vectorize) and those samples are corrected after; when no edge
// falls inside the span (the usual case below a few kHz), only its first and
// last samples can be next to one.
static void osc_shape(const voice_layer *l, const float *p, float *xb, int i0, int i1, double inc)
{
    int whole = i0 == 0 && i1 == CTRL_FRAMES, last = i1 - 1;
    float duty = l->duty, dc = 2.0f * duty - 1.0f; // the pulse's DC, removed
    // An edge inside the span: the phase wraps (it falls from first to
    // last, or the span holds half a cycle or more) or, for the pulse,
    // crosses duty.
    int inner = (double)(i1 - i0) * inc >= 0.5 || p[last] < p[i0] ||
                (l->source == SRC_SQUARE && (p[i0] < duty) != (p[last] < duty));
    int fix_step = inner || last == i0 ? 1 : last - i0;
    switch (l->source) {
    case SRC_SINE:
        if (whole) {
            for (int i = 0; i < CTRL_FRAMES; i++)
                xb[i] = -rp_sin_turns(p[i] - 0.5f);
        } else {
            for (int i = i0; i < i1; i++)
                xb[i] = -rp_sin_turns(p[i] - 0.5f);
        }
        break;
    case SRC_SAW:
        if (whole) {
            for (int i = 0; i < CTRL_FRAMES; i++)
                xb[i] = 2.0f * p[i] - 1.0f;
        } else {
            for (int i = i0; i < i1; i++)
                xb[i] = 2.0f * p[i] - 1.0f;
        }
        for (int i = i0; i < i1; i += fix_step)
            if (p[i] < inc || p[i] > 1.0 - inc)
                xb[i] = (float)(2.0 * p[i] - 1.0 - polyblep(p[i], inc));
        break;
    case SRC_SQUARE:
        // Without its DC, so duty changes do not thump.
        if (whole) {
            for (int i = 0; i < CTRL_FRAMES; i++)
                xb[i] = (float)(p[i] < duty) * 2.0f - 1.0f - dc;
        } else {
            for (int i = i0; i < i1; i++)
                xb[i] = (float)(p[i] < duty) * 2.0f - 1.0f - dc;
        }
        for (int i = i0; i < i1; i += fix_step) {
            double t2 = (double)p[i] - duty;
            if (t2 < 0.0)
                t2 += 1.0;
            if (p[i] < inc || p[i] > 1.0 - inc || t2 < inc || t2 > 1.0 - inc) {
                double y = (p[i] < duty) * 2.0 - 1.0;
                y += polyblep(p[i], inc) - polyblep(t2, inc);
                xb[i] = (float)(y - dc);
            }
        }
        break;
    default: // SRC_TRIANGLE
        if (whole) {
            for (int i = 0; i < CTRL_FRAMES; i++)
                xb[i] = 4.0f * fabsf(p[i] - 0.5f) - 1.0f;
        } else {
            for (int i = i0; i < i1; i++)
                xb[i] = 4.0f * fabsf(p[i] - 0.5f) - 1.0f;
        }
    }
}

// Fills xb[i0..i1) of a control block with the layer's raw source (the
// caller keeps the rest of the block zero).
static void gen_source(voice_layer *l, float *xb, int i0, int i1, double inc)
{
    float *x = xb + i0;
    int n = i1 - i0;
    double ph = l->phase;
    switch (l->source) {
    case SRC_SINE:
    case SRC_SAW:
    case SRC_SQUARE:
    case SRC_TRIANGLE: {
        // The span's phases in closed form, ph + k inc wrapped to [0, 1),
        // so that no sample waits on the one before and the loops
        // vectorize.
        // In float, four to a vector; the phase carried from block to block
        // stays double. (Outside the span, before i0, the phases are not
        // used.)
        float p[CTRL_FRAMES], phf = (float)ph, incf = (float)inc;
        for (int i = 0; i < CTRL_FRAMES; i++) {
            float q = phf + (float)(i - i0) * incf;
            p[i] = q - (float)(int)q;
        }
        double end = ph + (double)n * inc;
        ph = end - (double)(int)end;
        osc_shape(l, p, xb, i0, i1, inc);
        break;
    }
    case SRC_WHITE:
        for (int i = 0; i < n; i++)
            x[i] = noise_bipolar(&l->noise);
        break;
    case SRC_PINK: {
        float b0 = l->pink[0], b1 = l->pink[1], b2 = l->pink[2], b3 = l->pink[3];
        float b4 = l->pink[4], b5 = l->pink[5], b6 = l->pink[6];
        // The white noise first, then the filter: its six poles are
        // independent chains, summed pairwise.
        float wn[CTRL_FRAMES];
        for (int i = 0; i < n; i++)
            wn[i] = noise_bipolar(&l->noise);
        for (int i = 0; i < n; i++) {
            float w = wn[i];
            b0 = 0.99886f * b0 + w * 0.0555179f;
            b1 = 0.99332f * b1 + w * 0.0750759f;
            b2 = 0.96900f * b2 + w * 0.1538520f;
            b3 = 0.86650f * b3 + w * 0.3104856f;
            b4 = 0.55000f * b4 + w * 0.5329522f;
            b5 = -0.7616f * b5 - w * 0.0168980f;
            x[i] = (((b0 + b1) + (b2 + b3)) + ((b4 + b5) + (b6 + w * 0.5362f))) * 0.11f;
            b6 = w * 0.115926f;
        }
        l->pink[0] = b0, l->pink[1] = b1, l->pink[2] = b2, l->pink[3] = b3;
        l->pink[4] = b4, l->pink[5] = b5, l->pink[6] = b6;
        break;
    }
    case SRC_BROWN: {
        float y = l->brown, a = l->brown_a, g = l->brown_gain;
        for (int i = 0; i < n; i++) {
            y = a * y + noise_bipolar(&l->noise);
            x[i] = y * g;
        }
        l->brown = y;
        break;
    }
    case SRC_CRACKLE: {
        // Poisson impulse train: exponential gaps, each impulse a noise
        // grain with a random level and sign and an exponential decay.
        // Between impulses the grain decays in closed form (grain_pow), so
        // no frame waits on the one before.
        double next = l->crackle_next;
        float amp = l->crackle_amp;
        int i = 0;
        while (i < n) {
            int k = frames_before(next, n - i);
            for (int j = 0; j < k; j++)
                x[i + j] = amp * l->grain_pow[j] * noise_bipolar(&l->crackle_rng);
            amp *= l->grain_pow[k];
            next -= k;
            i += k;
            if (i < n) {
                next -= 1.0;
                double u = rp_rng_unit(&l->crackle_rng);
                amp = (float)(0.2 + 0.8 * u * u);
                next += -log(1.0 - rp_rng_unit(&l->crackle_rng)) * inc;
                x[i++] = amp * noise_bipolar(&l->crackle_rng);
                amp *= l->grain_pow[1];
            }
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

// The pan at sweep position x (from sweep_pos).
static double pan_at(const voice_layer *l, double x)
{
    if (!l->pan_swept)
        return l->pan_a;
    return l->pan_a + (l->pan_b - l->pan_a) * x;
}

// The sum of a block, pairwise, in loops that vectorize (a running sum is
// one long chain of adds).
static float block_sum(const float *x)
{
    float t[CTRL_FRAMES / 2];
    for (int i = 0; i < CTRL_FRAMES / 2; i++)
        t[i] = x[i] + x[i + CTRL_FRAMES / 2];
    for (int w = CTRL_FRAMES / 4; w >= 4; w /= 2)
        for (int i = 0; i < w; i++)
            t[i] += t[i + w];
    return (t[0] + t[1]) + (t[2] + t[3]);
}

// Renders frames [i0, i1) of this control block into the block's mix
// buffers; t0 is the layer-local time at i0. Control values are computed for
// the span (at its middle, or its end for the gains that ramp) and reused
// while they do not change: a fixed filter is designed once, a fixed pan
// panned once. Stateless stages run over the whole block, silent outside
// the span, so that their loops have a fixed count and vectorize.
static void layer_block(voice_layer *l, double rate, double t0, int i0, int i1,
                        float *restrict outl, float *restrict outr, float *restrict send)
{
    float xb[CTRL_FRAMES];
    float *x = xb + i0;
    int n = i1 - i0;
    if (n < CTRL_FRAMES)
        memset(xb, 0, sizeof xb);
    double inv_rate = l->inv_rate;
    double dt = n * inv_rate;
    double t1 = t0 + dt;
    int swept = l->freq_swept || l->cutoff_swept || l->pan_swept;
    if (!l->started) {
        l->sweep_prev = swept ? sweep_pos(l, t0) : 0.0;
        l->env_prev = envelope_at(l, t0);
        l->amp_prev = l->gain * (float)l->env_prev * tremolo_gain(l, lfo_now(&l->trem));
        l->pan_prev = pan_at(l, l->sweep_prev) + lfo_now(&l->pan_lfo);
        pan_gains(l->pan_prev, &l->gl_prev, &l->gr_prev);
        l->started = 1;
    }
    // Past its attack an envelope only falls: once inaudible, for good.
    if (t0 >= l->attack && l->gain * l->env_prev < SILENT) {
        l->silent = 1;
        return;
    }
    // Control values at the block's end; amplitudes ramp towards them.
    float vib = lfo_step(&l->vib, dt);
    float trem = lfo_step(&l->trem, dt);
    float cut = lfo_step(&l->cut_lfo, dt);
    float panl = lfo_step(&l->pan_lfo, dt);
    // The sweep at the block's end, and at its middle (pitch and cutoff)
    // as the mean of both ends: the curve is smooth, and this computes it
    // once per block instead of twice.
    double sx1 = swept ? sweep_pos(l, t1) : 0.0;
    double sx = 0.5 * (l->sweep_prev + sx1);
    if (l->source <= SRC_TRIANGLE) {
        double f = l->freq_swept ? sweep_hz(l, l->freq_a, l->freq_b, l->freq_lr, sx) : l->freq_a;
        if (l->vib_depth > 0.0f)
            f *= (double)exp2f(l->vib_depth * vib / 12.0f);
        double inc = f * inv_rate;
        if (inc > 0.49)
            inc = 0.49;
        gen_source(l, xb, i0, i1, inc);
    } else {
        // Crackle passes the mean gap in frames through "inc".
        gen_source(l, xb, i0, i1, l->crackle_rate > 0.0 ? l->crackle_gap : 1.0);
    }
    if (l->event_rate > 0.0) {
        // The gate: each event lifts ev (which decays) and evs follows it
        // with a 2 ms smoothing. Between events both run in closed form, so
        // no frame waits on the one before.
        double next = l->event_next;
        float ev = l->ev, evs = l->ev_smooth, g[CTRL_FRAMES];
        int i = 0;
        while (i < n) {
            int k = frames_before(next, n - i);
            if (k == CTRL_FRAMES) {
                for (int j = 0; j < CTRL_FRAMES; j++)
                    g[j] = l->ev_p[j] * ev + l->ev_q[j] * evs;
            } else {
                for (int j = 0; j < k; j++)
                    g[i + j] = l->ev_p[j] * ev + l->ev_q[j] * evs;
            }
            if (k > 0) {
                evs = l->ev_p[k - 1] * ev + l->ev_q[k - 1] * evs;
                ev *= l->ev_c[k];
                next -= k;
                i += k;
            }
            if (i < n) {
                next -= 1.0;
                float lvl = (float)(0.25 + 0.75 * rp_rng_unit(&l->event_rng));
                if (l->event_first)
                    lvl = 1.0f;
                l->event_first = 0;
                if (lvl > ev)
                    ev = lvl;
                next += -log(1.0 - rp_rng_unit(&l->event_rng)) * l->event_gap;
                evs += (ev - evs) * l->event_attack;
                g[i++] = evs;
                ev *= l->event_coef;
            }
        }
        if (n == CTRL_FRAMES) {
            for (int j = 0; j < CTRL_FRAMES; j++)
                x[j] *= g[j];
        } else {
            for (int j = 0; j < n; j++)
                x[j] *= g[j];
        }
        l->event_next = next;
        l->ev = ev < DENORMAL ? 0.0f : ev;
        l->ev_smooth = evs < DENORMAL ? 0.0f : evs;
    }
    if (l->filter != FILT_NONE) {
        double fc =
            l->cutoff_swept ? sweep_hz(l, l->cutoff_a, l->cutoff_b, l->cutoff_lr, sx) : l->cutoff_a;
        if (l->cut_depth > 0.0f)
            fc *= (double)exp2f(l->cut_depth * cut);
        if (fc < 10.0)
            fc = 10.0;
        if (fabs(fc - l->fc_prev) > FC_STEP * fc) {
            biquad_design(&l->bq, l->filter, fc, l->q, rate);
            l->fc_prev = fc;
        }
    }
    if (l->n_biquads > 0)
        cascade_run(l->chain, l->chain_st, l->n_biquads, x, n);
    // Drive after the filter: it adds grit and also bounds the layer's peak
    // at its gain, which is what lets presets set their level by design.
    if (l->drive_g > 0.0f) {
        float g = l->drive_g, norm = l->drive_norm;
        for (int i = 0; i < CTRL_FRAMES; i++)
            xb[i] = rp_fast_tanh(g * xb[i]) * norm;
    }
    if (l->dc_block) {
        // DC blocker at the control rate: the span's mean through a one-pole
        // lowpass estimates the DC, which is subtracted, ramped from the
        // last estimate. A high-pass like a one-pole at the sample rate;
        // the block's mean has its nulls at the multiples of the block rate,
        // so nothing aliases to DC.
        float coef =
            n == CTRL_FRAMES ? l->dc_coef : (float)(1.0 - exp(-2.0 * PI * DC_BLOCK_HZ * dt));
        float d0 = l->dc, d1 = d0 + (block_sum(xb) / (float)n - d0) * coef;
        float dd = (d1 - d0) / (float)n;
        for (int i = 0; i < n; i++)
            x[i] -= d0 + dd * (float)(i + 1);
        l->dc = flush_tiny(d1);
    }
    double env1 = envelope_at(l, t1);
    float amp1 = l->gain * (float)env1 * tremolo_gain(l, trem);
    float gl1 = l->gl_prev, gr1 = l->gr_prev;
    double pan1 = pan_at(l, sx1) + panl;
    if (fabs(pan1 - l->pan_prev) > PAN_STEP) {
        pan_gains(pan1, &gl1, &gr1);
        l->pan_prev = pan1;
    }
    float inv_n = n == CTRL_FRAMES ? 1.0f / CTRL_FRAMES : 1.0f / (float)n;
    float a0 = l->amp_prev, da = (amp1 - a0) * inv_n;
    float l0 = l->gl_prev, dl = (gl1 - l0) * inv_n;
    float r0 = l->gr_prev, dr = (gr1 - r0) * inv_n;
    float rs = l->reverb;
    if (rs > 0.0f) {
        for (int i = 0; i < CTRL_FRAMES; i++) {
            float k = (float)(i - i0 + 1); // frames into the span, from 1
            float y = xb[i] * (a0 + da * k);
            outl[i] += y * (l0 + dl * k);
            outr[i] += y * (r0 + dr * k);
            send[i] += y * rs;
        }
    } else {
        for (int i = 0; i < CTRL_FRAMES; i++) {
            float k = (float)(i - i0 + 1);
            float y = xb[i] * (a0 + da * k);
            outl[i] += y * (l0 + dl * k);
            outr[i] += y * (r0 + dr * k);
        }
    }
    l->sweep_prev = sx1;
    l->env_prev = env1;
    l->amp_prev = amp1;
    l->gl_prev = gl1;
    l->gr_prev = gr1;
}

// Renders the next control block (CTRL_FRAMES frames, fewer at a one-shot's
// end) into out, interleaved; returns its frame count.
static int render_block(rp_sfx_voice *v, float *out)
{
    const double rate = v->rate_hz;
    int n = CTRL_FRAMES;
    if (!v->bed && v->length - v->pos < n)
        n = (int)(v->length - v->pos);
    float L[CTRL_FRAMES] = {0}, R[CTRL_FRAMES] = {0}, S[CTRL_FRAMES] = {0};
    for (size_t li = 0; li < v->n_layers; li++) {
        voice_layer *l = &v->layers[li];
        // Split the block where the layer starts, ends or ends its attack.
        int64_t i0 = l->start_f - v->pos, i1 = n;
        if (i0 < 0)
            i0 = 0;
        if (l->end_f >= 0 && l->end_f - v->pos < i1)
            i1 = l->end_f - v->pos;
        if (i0 >= i1 || l->silent)
            continue;
        int64_t ia = l->attack_end_f - v->pos;
        if (ia > i0 && ia < i1) {
            double t0 = (double)(v->pos + i0 - l->start_f) * l->inv_rate;
            layer_block(l, rate, t0, (int)i0, (int)ia, L, R, S);
            i0 = ia;
        }
        double t0 = (double)(v->pos + i0 - l->start_f) * l->inv_rate;
        layer_block(l, rate, t0, (int)i0, (int)i1, L, R, S);
    }
    if (v->has_reverb)
        reverb_run(&v->rev, S, L, R, n);
    // Gain, and the end fade of a one-shot.
    if (n == CTRL_FRAMES && (v->bed || v->length - v->pos >= v->fade_f + n)) {
        for (int i = 0; i < CTRL_FRAMES; i++) {
            out[2 * i] = L[i] * v->gain;
            out[2 * i + 1] = R[i] * v->gain;
        }
    } else {
        for (int i = 0; i < n; i++) {
            float g = v->gain;
            int64_t rem = v->length - (v->pos + i);
            if (rem < v->fade_f)
                g *= (float)rem / (float)v->fade_f;
            out[2 * i] = L[i] * g;
            out[2 * i + 1] = R[i] * g;
        }
    }
    v->pos += n;
    return n;
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
            // A whole block the caller wants goes straight to its buffer.
            if (n_frames - done >= CTRL_FRAMES) {
                done += (size_t)render_block(v, out + 2 * done);
                continue;
            }
            v->block_n = render_block(v, v->block);
            v->block_at = 0;
        }
        size_t k = (size_t)(v->block_n - v->block_at);
        if (k > n_frames - done)
            k = n_frames - done;
        memcpy(out + 2 * done, v->block + 2 * v->block_at, k * 2 * sizeof *out);
        v->block_at += (int)k;
        done += k;
    }
}
