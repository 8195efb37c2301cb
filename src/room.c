// SPDX-License-Identifier: GPL-3.0-or-later
// Rooms: the room preset format and its parser (pure: bytes in, located
// diagnostics out), lookup in a table of preset sources, and the stereo
// reverb a room becomes.
//
// Room format (sfx/rooms/*.room; each file repeats a short reference)
// -------------------------------------------------------------------
// Line based, UTF-8, no sections. `#` at the start of a line or after
// whitespace starts a comment. `key = value`, each key at most once.
// Numbers may carry their unit (`1.8 s`, `25 ms`, `4 kHz`, `-9 dB`, `16 m`).
//
//   description   text
//   rt60          s, 0.1..20: time for the late reverb to decay by 60 dB,
//                 below hf_reference (measured as T30 in the 500 Hz octave).
//                 Required unless wet = off.
//   hf_ratio      0.1..1: decay time above hf_reference / rt60 (damping by
//                 soft surfaces and air; I3DL2's DecayHFRatio)
//   hf_reference  Hz, 1000..20000 (I3DL2's HFReference)
//   predelay      s, 0..0.5: direct sound to the first reflection
//   size          m, 1..100: distance to the surfaces. It spreads the early
//                 reflections (diffuse: over 1.5 size / c; parallel: one
//                 every size / c; sparse: over 2 size / c, c = 343 m/s,
//                 at most 0.5 s) and sets the late reverb's delay lines
//                 (around the mean free path 2/3 size / c, 8..70 ms)
//   pattern       diffuse | parallel | sparse (see rp_room_pattern)
//   reflections   0..24 early reflections
//   early, wet    dB, -60..6, or off: energy of the early reflections and
//                 of the late reverb relative to the dry sound's energy
//                 (reverberant-to-direct ratio), below hf_reference
//   width         0..1: stereo width of the wet sound (mid/side)
//   lowcut        Hz, 0..1000: 12 dB/oct highpass on the reverb's input
//
// Reverb
// ------
// Input: a highpass at lowcut, then one stereo delay line that serves the
// pre-delay, the early reflections (taps placed by the pattern, each panned
// by level and by a delay of up to EAR_DELAY_S at the far ear, from a fixed
// seed: the same preset sounds the same in every render; together through a
// one-pole lowpass at hf_reference) and the late reverb's feed at predelay.
// Late reverb: a feedback delay network after J.-M. Jot and A. Chaigne,
// "Digital delay networks for designing artificial reverberators" (AES
// 90th convention, 1991): 8 delay lines of mutually prime lengths, an
// orthogonal (lossless) 8x8 Hadamard feedback matrix, and in each line a
// first-order shelving absorption filter whose gain gives exactly the
// decay asked for: a line of m samples is attenuated by
// 10^(-3 m / (T fs)) per pass, T = rt60 below hf_reference and
// rt60 * hf_ratio above it (the shelf is a bilinear-transformed analog
// first-order shelf with its transition at hf_reference; its low gain is
// corrected so that the gain at 500 Hz is exact). Two short allpasses per
// channel (M. R. Schroeder, "Natural sounding artificial reverberation",
// JAES 1962) diffuse the feed. Left and right are fed and read through
// different orthogonal sign vectors, so a mono source gives a decorrelated
// stereo tail. Levels: the late output gain is set from the network's
// energy decay, sum over t of e^(-2 t / tau) = tau fs / 2 with
// tau = rt60 / ln(1000), so the tail's energy is wet_db below the dry.
// State below DENORMAL is flushed to zero at every sample, so the output
// does not depend on how the calls split the frames.
#include "rp_room.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846
#define SPEED_OF_SOUND 343.0
#define LINES 8
#define MAX_EARLY_SPAN_S 0.5
#define MIN_LINE_S 0.008 // mean delay of the late reverb's lines: bounds
#define MAX_LINE_S 0.070
#define MID_HZ 500.0 // where rt60 is exact
#define DENORMAL 1e-20f
// The far ear hears a reflection from the side up to this much later.
#define EAR_DELAY_S 0.0006
// Paths through the lines in different orders (i then j, j then i) arrive
// together, so the lines' outputs are not quite uncorrelated: with these
// sign vectors the tail measures 0 to 0.8 dB below the uncorrelated estimate
// (over sizes 3..40 m and rt60 0.5..3 s); the gain makes up the middle.
#define LATE_CORRELATION_DB (-0.5)
// Seed of the early reflections' placement: fixed, so a room sounds the same
// whatever the render seed.
#define EARLY_SEED 0x726f6f6d73ull

const char *const rp_room_pattern_names[RP_ROOM_PATTERN_COUNT] = {"diffuse", "parallel", "sparse"};

// ---- keys ---------------------------------------------------------------------

enum { T_NUM, T_INT, T_ENUM, T_TEXT, T_LEVEL };

typedef struct {
    const char *name;
    unsigned char type, unit;
    double min, max;
} keydef;

enum {
    K_DESCRIPTION,
    K_RT60,
    K_HF_RATIO,
    K_HF_REFERENCE,
    K_PREDELAY,
    K_SIZE,
    K_PATTERN,
    K_REFLECTIONS,
    K_EARLY,
    K_WET,
    K_WIDTH,
    K_LOWCUT,
    K_COUNT
};

static const keydef keys[K_COUNT] = {
    [K_DESCRIPTION] = {"description", T_TEXT, RP_UNIT_NONE, 0, 0},
    [K_RT60] = {"rt60", T_NUM, RP_UNIT_S, 0.1, 20},
    [K_HF_RATIO] = {"hf_ratio", T_NUM, RP_UNIT_NONE, 0.1, 1},
    [K_HF_REFERENCE] = {"hf_reference", T_NUM, RP_UNIT_HZ, 1000, 20000},
    [K_PREDELAY] = {"predelay", T_NUM, RP_UNIT_S, 0, 0.5},
    [K_SIZE] = {"size", T_NUM, RP_UNIT_M, 1, 100},
    [K_PATTERN] = {"pattern", T_ENUM, RP_UNIT_NONE, 0, 0},
    [K_REFLECTIONS] = {"reflections", T_INT, RP_UNIT_NONE, 0, RP_ROOM_MAX_REFLECTIONS},
    [K_EARLY] = {"early", T_LEVEL, RP_UNIT_DB, -60, 6},
    [K_WET] = {"wet", T_LEVEL, RP_UNIT_DB, -60, 6},
    [K_WIDTH] = {"width", T_NUM, RP_UNIT_NONE, 0, 1},
    [K_LOWCUT] = {"lowcut", T_NUM, RP_UNIT_HZ, 0, 1000},
};

static double *num_field(rp_room_preset *p, int k)
{
    switch (k) {
    case K_RT60:
        return &p->rt60_s;
    case K_HF_RATIO:
        return &p->hf_ratio;
    case K_HF_REFERENCE:
        return &p->hf_reference_hz;
    case K_PREDELAY:
        return &p->predelay_s;
    case K_SIZE:
        return &p->size_m;
    case K_EARLY:
        return &p->early_db;
    case K_WET:
        return &p->wet_db;
    case K_WIDTH:
        return &p->width;
    case K_LOWCUT:
        return &p->lowcut_hz;
    default:
        return NULL;
    }
}

rp_room_preset rp_room_preset_default(void)
{
    return (rp_room_preset){
        .rt60_s = 1.0,
        .hf_ratio = 0.6,
        .hf_reference_hz = 5000,
        .predelay_s = 0.010,
        .size_m = 10,
        .pattern = RP_ROOM_DIFFUSE,
        .reflections = 8,
        .early_db = -10,
        .wet_db = -12,
        .width = 1.0,
        .lowcut_hz = 80,
    };
}

uint64_t rp_room_preset_hash(const rp_room_preset *p)
{
    // Value by value, so that no padding of the struct is hashed.
    const double d[] = {p->rt60_s,   p->hf_ratio, p->hf_reference_hz, p->predelay_s, p->size_m,
                        p->early_db, p->wet_db,   p->width,           p->lowcut_hz};
    const int64_t k[] = {p->pattern, p->reflections};
    return rp_hash64(k, sizeof k, rp_hash64(d, sizeof d, RP_HASH_INIT));
}

int rp_room_is_dry(const rp_room_preset *p)
{
    return isinf(p->early_db) && isinf(p->wet_db);
}

int rp_room_same(const rp_room_preset *a, const rp_room_preset *b)
{
    // Levels may be -INFINITY (off), which compares equal to itself.
    return !strcmp(a->name, b->name) && !strcmp(a->description, b->description) &&
           a->rt60_s == b->rt60_s && a->hf_ratio == b->hf_ratio &&
           a->hf_reference_hz == b->hf_reference_hz && a->predelay_s == b->predelay_s &&
           a->size_m == b->size_m && a->pattern == b->pattern && a->reflections == b->reflections &&
           a->early_db == b->early_db && a->wet_db == b->wet_db && a->width == b->width &&
           a->lowcut_hz == b->lowcut_hz;
}

double rp_room_decay_s(const rp_room_preset *p)
{
    if (rp_room_is_dry(p))
        return 0;
    double early = p->pattern == RP_ROOM_PARALLEL ? p->reflections * p->size_m / SPEED_OF_SOUND
                   : p->pattern == RP_ROOM_SPARSE ? 2 * p->size_m / SPEED_OF_SOUND
                                                  : 1.5 * p->size_m / SPEED_OF_SOUND;
    early = isinf(p->early_db) ? 0 : fmin(early, MAX_EARLY_SPAN_S);
    return p->predelay_s + (isinf(p->wet_db) ? early : fmax(early, p->rt60_s));
}

// ---- value parsing --------------------------------------------------------------

// Where a problem is reported: the value's line and first column.
typedef struct {
    const char *file;
    int line, col;
    int fixed; // everything at col (a cue's settings: the caller's column)
    rp_diags *d;
} loc;

static int col_of(const loc *at, const char *text, size_t off)
{
    return at->fixed ? at->col : at->col + (int)rp_utf8_count(text, off);
}

static void range_error(const keydef *kd, const loc *at, int col)
{
    const char *u = rp_unit_names[kd->unit];
    if (kd->type == T_INT)
        rp_diag_add(at->d, RP_DIAG_ERROR, at->file, at->line, col, "room", NULL,
                    "%s must be a whole number between %g and %g", kd->name, kd->min, kd->max);
    else
        rp_diag_add(at->d, RP_DIAG_ERROR, at->file, at->line, col, "room",
                    kd->type == T_LEVEL ? "or off" : NULL, "%s must be between %g and %g%s%s",
                    kd->name, kd->min, kd->max, *u ? " " : "", u);
}

// Parses text (trimmed, non-empty) as the value of key k into *p. Returns 1
// on success; errors go to at->d and leave *p as it was.
static int parse_value(int k, const char *text, rp_room_preset *p, const loc *at)
{
    const keydef *kd = &keys[k];
    if (kd->type == T_TEXT) {
        size_t n = strlen(text);
        if (n > RP_ROOM_MAX_DESCRIPTION_BYTES) {
            rp_diag_add(at->d, RP_DIAG_ERROR, at->file, at->line, at->col, "room", NULL,
                        "%s is longer than %d bytes", kd->name, RP_ROOM_MAX_DESCRIPTION_BYTES);
            return 0;
        }
        // What a preset line could not hold (rp_preset_line_trim), a setting
        // cannot either: the room would not be written back.
        for (size_t i = 0; i < n; i++) {
            if (text[i] == '#' && (i == 0 || strchr(" \t\r\v\f", text[i - 1]))) {
                rp_diag_add(at->d, RP_DIAG_ERROR, at->file, at->line, col_of(at, text, i), "room",
                            "a '#' after a space starts a comment", "'#' in %s", kd->name);
                return 0;
            }
        }
        memcpy(p->description, text, n + 1);
        return 1;
    }
    if (kd->type == T_ENUM) {
        for (int i = 0; i < RP_ROOM_PATTERN_COUNT; i++) {
            if (!rp_strcasecmp(text, rp_room_pattern_names[i])) {
                p->pattern = (rp_room_pattern)i;
                return 1;
            }
        }
        const char *s = rp_suggest(text, rp_room_pattern_names, RP_ROOM_PATTERN_COUNT);
        char hint[120];
        if (s)
            snprintf(hint, sizeof hint, "did you mean '%s'?", s);
        else
            snprintf(hint, sizeof hint, "one of: diffuse, parallel, sparse");
        rp_diag_add(at->d, RP_DIAG_ERROR, at->file, at->line, at->col, "room", hint,
                    "unknown %s '%s'", kd->name, text);
        return 0;
    }
    if (kd->type == T_LEVEL && !rp_strcasecmp(text, "off")) {
        *num_field(p, k) = -INFINITY;
        return 1;
    }
    double v;
    size_t i, word;
    rp_qty_status q = rp_read_quantity(text, kd->unit, &v, &i, &word);
    if (q == RP_QTY_NO_NUMBER) {
        rp_diag_add(at->d, RP_DIAG_ERROR, at->file, at->line, at->col, "room",
                    kd->type == T_LEVEL ? "a level in dB, or off" : NULL,
                    "%s: expected a number, got '%s'", kd->name, text);
        return 0;
    }
    if (q == RP_QTY_BAD_UNIT) {
        rp_diag_add(at->d, RP_DIAG_ERROR, at->file, at->line, col_of(at, text, word), "room",
                    rp_unit_hint(kd->unit), "unit '%.*s' does not fit %s", (int)(i - word),
                    text + word, kd->name);
        return 0;
    }
    if (text[i]) {
        rp_diag_add(at->d, RP_DIAG_ERROR, at->file, at->line, col_of(at, text, i), "room", NULL,
                    "unexpected '%s' after the value of %s", text + i, kd->name);
        return 0;
    }
    if (!(v >= kd->min && v <= kd->max) || (kd->type == T_INT && v != floor(v))) {
        range_error(kd, at, at->col);
        return 0;
    }
    if (kd->type == T_INT)
        p->reflections = (int)v;
    else
        *num_field(p, k) = v;
    return 1;
}

static int key_index(const char *name)
{
    for (int k = 0; k < K_COUNT; k++)
        if (!strcmp(keys[k].name, name))
            return k;
    return -1;
}

static void unknown_key(const char *name, const loc *at, int col)
{
    const char *cands[K_COUNT];
    for (int k = 0; k < K_COUNT; k++)
        cands[k] = keys[k].name;
    const char *s = rp_suggest(name, cands, K_COUNT);
    char hint[120];
    if (s)
        snprintf(hint, sizeof hint, "did you mean '%s'?", s);
    else
        snprintf(hint, sizeof hint, "the keys are listed at the top of every sfx/rooms/*.room");
    rp_diag_add(at->d, RP_DIAG_ERROR, at->file, at->line, col, "room", hint,
                "unknown room key '%s'", name);
}

// ---- parser -------------------------------------------------------------------

typedef struct {
    int line[K_COUNT]; // where each key was set (0: not yet)
    int n_keys;
} seen;

static void parse_line(rp_room_preset *p, char *s, int line, int col, const char *file, seen *sn,
                       rp_diags *d)
{
    loc at = {file, line, col, 0, d};
    if (s[0] == '[') {
        rp_diag_add(d, RP_DIAG_ERROR, file, line, col, "room",
                    "a room is a list of 'key = value' lines", "rooms have no sections");
        return;
    }
    char *val;
    if (!rp_preset_split(s, &val)) {
        rp_diag_add(d, RP_DIAG_ERROR, file, line, col, "room", NULL,
                    "expected 'key = value', got '%s'", s);
        return;
    }
    if (!s[0]) {
        rp_diag_add(d, RP_DIAG_ERROR, file, line, col, "room", NULL, "missing key before '='");
        return;
    }
    int k = key_index(s);
    if (k < 0) {
        unknown_key(s, &at, col);
        return;
    }
    sn->n_keys++;
    if (sn->line[k]) {
        rp_diag_add(d, RP_DIAG_ERROR, file, line, col, "room", NULL,
                    "'%s' is set twice (first on line %d)", s, sn->line[k]);
        return;
    }
    sn->line[k] = line;
    at.col = col + (int)rp_utf8_count(s, (size_t)(val - s));
    if (!*val) {
        rp_diag_add(d, RP_DIAG_ERROR, file, line, at.col, "room", NULL, "missing value for '%s'",
                    s);
        return;
    }
    parse_value(k, val, p, &at);
}

rp_status rp_room_parse(const char *name, const char *file, const char *text, size_t len,
                        rp_room_preset *out, rp_diags *d)
{
    *out = rp_room_preset_default();
    if (strlen(name) > RP_MAX_NAME_BYTES) {
        rp_diag_add(d, RP_DIAG_ERROR, file, 0, 0, "room", NULL, "room name is longer than %d bytes",
                    RP_MAX_NAME_BYTES);
        return RP_ERR_LIMIT;
    }
    if (len > RP_MAX_PRESET_BYTES) {
        rp_diag_add(d, RP_DIAG_ERROR, file, 0, 0, "room", NULL, "room is larger than %u bytes",
                    RP_MAX_PRESET_BYTES);
        return RP_ERR_LIMIT;
    }
    char *buf = rp_calloc(len + 1, 1);
    if (!buf)
        return RP_ERR_NOMEM;
    rp_diags local;
    rp_diags_init(&local);
    rp_diags *dd = d ? d : &local;
    size_t errors0 = dd->n_errors;
    rp_room_preset p = rp_room_preset_default();
    snprintf(p.name, sizeof p.name, "%s", name);
    seen sn = {{0}, 0};
    size_t pos = 0, start, n;
    int lineno = 0;
    while (text && rp_line_next(text, len, &pos, &start, &n)) {
        lineno++;
        if (memchr(text + start, 0, n)) {
            rp_diag_add(dd, RP_DIAG_ERROR, file, lineno, 1, "room", NULL, "NUL byte in room");
            continue;
        }
        memcpy(buf, text + start, n);
        buf[n] = 0;
        size_t s = rp_preset_line_trim(buf);
        if (buf[s])
            parse_line(&p, buf + s, lineno, 1 + (int)rp_utf8_count(buf, s), file, &sn, dd);
    }
    free(buf);
    if (sn.n_keys == 0 && dd->n_errors == errors0)
        rp_diag_add(dd, RP_DIAG_ERROR, file, 0, 0, "room",
                    "a room needs at least 'rt60 = 1.2 s', or 'wet = off'", "room '%s' is empty",
                    name);
    else if (!sn.line[K_RT60] && !isinf(p.wet_db) && !sn.line[K_WET] && dd->n_errors == errors0)
        rp_diag_add(dd, RP_DIAG_ERROR, file, 0, 0, "room",
                    "add 'rt60 = 1.2 s' (the decay time), or 'wet = off'", "room '%s' has no rt60",
                    name);
    else if (!sn.line[K_RT60] && !isinf(p.wet_db) && dd->n_errors == errors0)
        rp_diag_add(dd, RP_DIAG_ERROR, file, sn.line[K_WET], 1, "room",
                    "add 'rt60 = 1.2 s' (the decay time), or 'wet = off'",
                    "a wet room needs an rt60");
    size_t errors = dd->n_errors - errors0;
    rp_diags_deinit(&local);
    if (errors)
        return RP_ERR_INPUT;
    *out = p;
    return RP_OK;
}

rp_status rp_room_override(rp_room_preset *p, const char *key, const char *value, const char *file,
                           int line, int col, rp_diags *d)
{
    rp_diags local;
    rp_diags_init(&local);
    loc at = {file, line, col, 1, d ? d : &local};
    rp_status st = RP_ERR_INPUT;
    int k = key_index(key);
    char *val = rp_strdup_trim(value);
    if (!val) {
        rp_diags_deinit(&local);
        return RP_ERR_NOMEM;
    }
    if (k < 0) {
        unknown_key(key, &at, col);
    } else if (!*val) {
        rp_diag_add(at.d, RP_DIAG_ERROR, file, line, col, "room", NULL, "missing value for '%s'",
                    key);
    } else {
        rp_room_preset q = *p;
        if (parse_value(k, val, &q, &at)) {
            *p = q;
            st = RP_OK;
        }
    }
    free(val);
    rp_diags_deinit(&local);
    return st;
}

static void write_level(rp_strbuf *b, const char *key, double db)
{
    if (isinf(db))
        rp_strbuf_printf(b, "%s = off\n", key);
    else
        rp_strbuf_printf(b, "%s = %.9g dB\n", key, db);
}

void rp_room_write(const rp_room_preset *p, rp_strbuf *b)
{
    if (p->description[0])
        rp_strbuf_printf(b, "description = %s\n", p->description);
    rp_strbuf_printf(b, "rt60 = %.9g s\nhf_ratio = %.9g\nhf_reference = %.9g Hz\n", p->rt60_s,
                     p->hf_ratio, p->hf_reference_hz);
    rp_strbuf_printf(b, "predelay = %.9g s\nsize = %.9g m\npattern = %s\nreflections = %d\n",
                     p->predelay_s, p->size_m, rp_room_pattern_names[p->pattern], p->reflections);
    write_level(b, "early", p->early_db);
    write_level(b, "wet", p->wet_db);
    rp_strbuf_printf(b, "width = %.9g\nlowcut = %.9g Hz\n", p->width, p->lowcut_hz);
}

// ---- library ------------------------------------------------------------------

const rp_source *rp_room_source_find(const rp_source *table, size_t n, const char *name)
{
    for (size_t i = n; i-- > 0;)
        if (table[i].name && !strcmp(table[i].name, name))
            return &table[i];
    return NULL;
}

rp_status rp_room_load(const rp_source *table, size_t n, const char *name, rp_room_preset *out,
                       const char *file, int line, int col, rp_diags *d)
{
    const rp_source *src = rp_room_source_find(table, n, name);
    if (!src) {
        *out = rp_room_preset_default();
        enum { MAX_SUGGEST = 256 };
        const char *names[MAX_SUGGEST] = {0};
        size_t k = 0;
        for (size_t i = 0; i < n && k < MAX_SUGGEST; i++)
            if (table[i].name)
                names[k++] = table[i].name;
        const char *s = rp_suggest(name, names, k);
        char hint[160];
        if (s) {
            snprintf(hint, sizeof hint, "did you mean '%s'?", s);
        } else {
            size_t len = (size_t)snprintf(hint, sizeof hint, "rooms:");
            for (size_t i = 0; i < k && len < sizeof hint; i++)
                len += (size_t)snprintf(hint + len, sizeof hint - len, " %s", names[i]);
        }
        rp_diag_add(d, RP_DIAG_ERROR, file, line, col, "room", hint, "unknown room '%s'", name);
        return RP_ERR_INPUT;
    }
    char path[RP_MAX_NAME_BYTES + 32];
    snprintf(path, sizeof path, "sfx/rooms/%.*s.room", RP_MAX_NAME_BYTES, name);
    return rp_room_parse(name, path, src->text, src->len, out, d);
}

// ---- reverb -------------------------------------------------------------------

// Second-order Butterworth highpass (RBJ), direct form I, one per channel.
typedef struct {
    float b0, b1, b2, a1, a2;
    float x1, x2, y1, y2;
} hp2;

typedef struct {
    float *buf;
    int len, pos;
} allpass;

struct rp_reverb {
    int rate_hz;
    int dry; // nothing to do
    int has_late;
    int64_t tail;       // rp_reverb_tail_frames
    int64_t quiet;      // frames since the last non-zero input, up to skip_after
    int64_t skip_after; // silent this long (1.5 tails, 90 dB down): stop working
    int idle;           // skipping, with every state cleared
    int lowcut;         // 1 when the input highpass runs
    hp2 hp[2];
    // Input delay line (both channels), a power of two long.
    float *in_l, *in_r;
    size_t in_mask, in_pos;
    size_t feed; // late reverb's feed: frames behind the write position
    int n_taps;
    size_t tap_dl[RP_ROOM_MAX_REFLECTIONS], tap_dr[RP_ROOM_MAX_REFLECTIONS];
    float tap_l[RP_ROOM_MAX_REFLECTIONS], tap_r[RP_ROOM_MAX_REFLECTIONS];
    float early_a, early_zl, early_zr; // one-pole lowpass: walls take the highs
    allpass ap[4];                     // two per channel
    float ap_g;
    // Feedback delay network.
    float *line[LINES];
    int len[LINES], pos[LINES];
    float sb0[LINES], sb1[LINES], sa1[LINES]; // absorption shelves
    float sx1[LINES], sy1[LINES];
    float in_gain, out_gain;
    float mid, side; // width: out = mid * M + side * S
    float *mem;      // one allocation for every buffer
    size_t mem_floats;
};

// Orthogonal sign vectors: feeds for left and right, taps for left and
// right. None is a row of the Hadamard matrix, so a feed reaches several
// lines after the first pass, not one.
static const float feed_l[LINES] = {1, 1, 1, -1, 1, -1, -1, -1};
static const float feed_r[LINES] = {1, -1, 1, 1, -1, -1, 1, -1};
static const float out_l[LINES] = {1, -1, -1, 1, 1, 1, -1, -1};
static const float out_r[LINES] = {1, 1, 1, 1, -1, 1, -1, 1};

static int is_prime(int n)
{
    if (n < 2)
        return 0;
    for (int i = 2; (long)i * i <= n; i++)
        if (n % i == 0)
            return 0;
    return 1;
}

static hp2 highpass(double f_hz, int rate_hz)
{
    double w0 = 2 * PI * f_hz / rate_hz, c = cos(w0), alpha = sin(w0) / (2 * M_SQRT1_2);
    double a0 = 1 + alpha;
    hp2 h = {0};
    h.b0 = h.b2 = (float)((1 + c) / 2 / a0);
    h.b1 = (float)(-(1 + c) / a0);
    h.a1 = (float)(-2 * c / a0);
    h.a2 = (float)((1 - alpha) / a0);
    return h;
}

// First-order shelf with gain k_lo well below f_hz and k_hi at Nyquist:
// analog H(s) = k_lo (1 + s/wz) / (1 + s/wp), wp = w sqrt(k_hi/k_lo),
// wz = w sqrt(k_lo/k_hi), bilinear with the frequency prewarped.
static void shelf(double k_lo, double k_hi, double f_hz, int rate_hz, double *b0, double *b1,
                  double *a1)
{
    double K = tan(PI * f_hz / rate_hz);
    double a = K * sqrt(k_hi / k_lo), b = K * sqrt(k_lo / k_hi);
    *b0 = k_hi * (1 + b) / (1 + a);
    *b1 = k_hi * (b - 1) / (1 + a);
    *a1 = (a - 1) / (1 + a);
}

static double shelf_gain_at(double b0, double b1, double a1, double f_hz, int rate_hz)
{
    double w = 2 * PI * f_hz / rate_hz;
    double nr = b0 + b1 * cos(w), ni = -b1 * sin(w);
    double dr = 1 + a1 * cos(w), di = -a1 * sin(w);
    return sqrt((nr * nr + ni * ni) / (dr * dr + di * di));
}

// Early reflections: delay (seconds after the direct sound), amplitude and
// pan (-1..1) of each, from the pattern; amplitudes scaled so that their
// energies add up to the early level.
static int early_pattern(const rp_room_preset *p, double *t, double *amp, double *pan)
{
    rp_rng rng = {EARLY_SEED};
    int n = p->reflections;
    double c = SPEED_OF_SOUND;
    if (n == 0 || isinf(p->early_db))
        return 0;
    for (int k = 0; k < n; k++) {
        double u = (double)k / n, r1 = rp_rng_unit(&rng), r2 = rp_rng_unit(&rng);
        double r3 = rp_rng_unit(&rng);
        switch (p->pattern) {
        case RP_ROOM_PARALLEL: {
            // Flutter: one reflection per crossing of the street, alternating
            // sides, a little jitter (walls are not perfect); spreading and
            // absorption weaken each.
            double every = p->size_m / c;
            t[k] = k * every * (1 + 0.03 * (2 * r1 - 1));
            amp[k] = pow(0.8, k) / (1 + 0.5 * k);
            pan[k] = (k % 2 ? -0.75 : 0.75) * (0.8 + 0.2 * r2);
            break;
        }
        case RP_ROOM_SPARSE: {
            // A bounce off the ground at once, then far, scattered echoes.
            double span = fmin(2 * p->size_m / c, MAX_EARLY_SPAN_S);
            t[k] = k == 0 ? 0 : span * (0.15 + 0.85 * (k - 1 + r1) / (n > 1 ? n - 1 : 1));
            amp[k] = k == 0 ? 1.0 : (0.4 + 0.4 * r2) / (1 + 2 * t[k] / span);
            pan[k] = k == 0 ? 0 : 2 * r3 - 1;
            break;
        }
        default: {
            // Denser with time (the count of image sources grows as t^3):
            // times spread as the square root of an even grid.
            double span = fmin(1.5 * p->size_m / c, MAX_EARLY_SPAN_S);
            t[k] = span * sqrt(k == 0 ? 0 : (u + r1 / n));
            amp[k] = (r2 < 0.3 ? -1 : 1) * (0.7 + 0.3 * r3) / (1 + 3 * u);
            pan[k] = 2 * rp_rng_unit(&rng) - 1;
            break;
        }
        }
        if (t[k] > MAX_EARLY_SPAN_S)
            t[k] = MAX_EARLY_SPAN_S;
    }
    double e = 0;
    for (int k = 0; k < n; k++)
        e += amp[k] * amp[k];
    double g = rp_db_to_gain(p->early_db) / sqrt(e);
    for (int k = 0; k < n; k++)
        amp[k] *= g;
    return n;
}

// A preset built by hand rather than parsed is held to the parser's ranges.
static rp_room_preset clamped(const rp_room_preset *in)
{
    rp_room_preset p = *in;
    p.rt60_s = fmin(fmax(p.rt60_s, keys[K_RT60].min), keys[K_RT60].max);
    p.hf_ratio = fmin(fmax(p.hf_ratio, keys[K_HF_RATIO].min), keys[K_HF_RATIO].max);
    p.hf_reference_hz =
        fmin(fmax(p.hf_reference_hz, keys[K_HF_REFERENCE].min), keys[K_HF_REFERENCE].max);
    p.predelay_s = fmin(fmax(p.predelay_s, keys[K_PREDELAY].min), keys[K_PREDELAY].max);
    p.size_m = fmin(fmax(p.size_m, keys[K_SIZE].min), keys[K_SIZE].max);
    p.width = fmin(fmax(p.width, keys[K_WIDTH].min), keys[K_WIDTH].max);
    p.lowcut_hz = fmin(fmax(p.lowcut_hz, keys[K_LOWCUT].min), keys[K_LOWCUT].max);
    if (!isinf(p.early_db))
        p.early_db = fmin(fmax(p.early_db, keys[K_EARLY].min), keys[K_EARLY].max);
    if (!isinf(p.wet_db))
        p.wet_db = fmin(fmax(p.wet_db, keys[K_WET].min), keys[K_WET].max);
    if (p.reflections < 0 || p.reflections > RP_ROOM_MAX_REFLECTIONS)
        p.reflections = p.reflections < 0 ? 0 : RP_ROOM_MAX_REFLECTIONS;
    if ((unsigned)p.pattern >= RP_ROOM_PATTERN_COUNT)
        p.pattern = RP_ROOM_DIFFUSE;
    return p;
}

rp_reverb *rp_reverb_new(const rp_room_preset *preset, int rate_hz)
{
    rp_room_preset room = clamped(preset);
    const rp_room_preset *p = &room;
    if (rate_hz < RP_MIN_RATE_HZ)
        rate_hz = RP_MIN_RATE_HZ;
    if (rate_hz > RP_MAX_RATE_HZ)
        rate_hz = RP_MAX_RATE_HZ;
    rp_reverb *r = rp_calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->rate_hz = rate_hz;
    if (rp_room_is_dry(p)) {
        r->dry = 1;
        return r;
    }
    double fs = rate_hz;
    // Early reflections.
    double t[RP_ROOM_MAX_REFLECTIONS], amp[RP_ROOM_MAX_REFLECTIONS], pan[RP_ROOM_MAX_REFLECTIONS];
    int n_taps = early_pattern(p, t, amp, pan);
    size_t pre = (size_t)(p->predelay_s * fs + 0.5), reach = pre;
    r->n_taps = n_taps;
    for (int k = 0; k < n_taps; k++) {
        // A reflection from one side reaches the far ear a little later.
        size_t at = pre + (size_t)(t[k] * fs + 0.5);
        r->tap_dl[k] = at + (size_t)(fmax(pan[k], 0) * EAR_DELAY_S * fs + 0.5);
        r->tap_dr[k] = at + (size_t)(fmax(-pan[k], 0) * EAR_DELAY_S * fs + 0.5);
        reach = r->tap_dl[k] > reach ? r->tap_dl[k] : reach;
        reach = r->tap_dr[k] > reach ? r->tap_dr[k] : reach;
        // Constant power per channel on average: 0.5 (l + r) is the source.
        r->tap_l[k] = (float)(0.5 * amp[k] * sqrt(1 - pan[k]));
        r->tap_r[k] = (float)(0.5 * amp[k] * sqrt(1 + pan[k]));
    }
    r->feed = pre;
    r->early_a = (float)exp(-2 * PI * fmin(p->hf_reference_hz, 0.45 * fs) / fs);
    size_t in_len = 1;
    while (in_len < reach + 1)
        in_len <<= 1;
    r->in_mask = in_len - 1;
    // Late reverb: lines around the mean free path, spread 0.55..1.45 of it
    // geometrically, rounded up to distinct primes.
    r->has_late = !isinf(p->wet_db);
    double mean = fmin(fmax(2.0 / 3.0 * p->size_m / SPEED_OF_SOUND, MIN_LINE_S), MAX_LINE_S);
    int prev = 0;
    size_t total = 2 * in_len;
    for (int i = 0; i < LINES; i++) {
        double s = mean * 0.55 * pow(1.45 / 0.55, i / (LINES - 1.0));
        int m = (int)(s * fs);
        if (m <= prev)
            m = prev + 1;
        while (!is_prime(m))
            m++;
        r->len[i] = prev = m;
        total += (size_t)m;
    }
    // Feed diffusers: 4.7 / 3.3 ms left, 4.1 / 2.9 ms right (scaled with size
    // for small rooms), allpass gain 0.5.
    static const double ap_s[4] = {0.0047, 0.0033, 0.0041, 0.0029};
    double ap_scale = fmin(1.0, fmax(0.4, p->size_m / 10.0));
    for (int i = 0; i < 4; i++) {
        r->ap[i].len = (int)(ap_s[i] * ap_scale * fs) + 1;
        total += (size_t)r->ap[i].len;
    }
    r->ap_g = 0.5f;
    r->mem = rp_calloc(total, sizeof(float));
    if (!r->mem) {
        free(r);
        return NULL;
    }
    r->mem_floats = total;
    float *m = r->mem;
    r->in_l = m;
    r->in_r = m + in_len;
    m += 2 * in_len;
    for (int i = 0; i < LINES; i++) {
        r->line[i] = m;
        m += r->len[i];
    }
    for (int i = 0; i < 4; i++) {
        r->ap[i].buf = m;
        m += r->ap[i].len;
    }
    // Absorption: per pass, 10^(-3 m / (T fs)) with T = rt60 low and
    // rt60 * hf_ratio high; the low gain corrected until the gain at MID_HZ
    // is exact, but never so far that the lows ring more than twice as long.
    double fr = fmin(p->hf_reference_hz, 0.45 * fs);
    double slowest = 0;
    for (int i = 0; i < LINES; i++) {
        double k_mid = pow(10.0, -3.0 * r->len[i] / (p->rt60_s * fs));
        double k_hi = pow(10.0, -3.0 * r->len[i] / (p->rt60_s * p->hf_ratio * fs));
        double k_lo = k_mid, b0, b1, a1;
        for (int it = 0; it < 8; it++) {
            shelf(k_lo, k_hi, fr, rate_hz, &b0, &b1, &a1);
            k_lo *= k_mid / shelf_gain_at(b0, b1, a1, MID_HZ, rate_hz);
            k_lo = fmin(fmax(k_lo, k_mid), sqrt(k_mid));
        }
        shelf(k_lo, k_hi, fr, rate_hz, &b0, &b1, &a1);
        r->sb0[i] = (float)b0;
        r->sb1[i] = (float)b1;
        r->sa1[i] = (float)a1;
        double t60 = -3.0 * r->len[i] / (fs * log10(k_lo));
        slowest = fmax(slowest, t60);
    }
    // Levels. A unit impulse on both channels puts energy 1 into the lines
    // (feeds of +-1 times 1/4: |feed_l|^2 + |feed_r|^2 = 16). Each line is
    // written at the same rate, so with k_i its gain per pass (at MID_HZ),
    // all the energy absorbed, sum (1 - k_i^2), is the energy fed, and all
    // that leaves the lines, sum k_i^2, is the tail's (before the output
    // vector, whose +-1 taps add the lines' energies when they are
    // uncorrelated; see LATE_CORRELATION_DB).
    r->in_gain = 0.25f;
    double absorbed = 0, passed = 0;
    for (int i = 0; i < LINES; i++) {
        double k2 = pow(10.0, -6.0 * r->len[i] / (p->rt60_s * fs));
        absorbed += 1 - k2;
        passed += k2;
    }
    r->out_gain =
        r->has_late
            ? (float)(rp_db_to_gain(p->wet_db - LATE_CORRELATION_DB) * sqrt(absorbed / passed))
            : 0.0f;
    // Width: side scaled by width, both scaled so that a decorrelated tail
    // keeps its energy per channel.
    double keep = sqrt(2.0 / (1.0 + p->width * p->width));
    r->mid = (float)keep;
    r->side = (float)(p->width * keep);
    r->lowcut = p->lowcut_hz > 0;
    if (r->lowcut) {
        r->hp[0] = highpass(fmin(p->lowcut_hz, 0.45 * fs), rate_hz);
        r->hp[1] = r->hp[0];
    }
    // The tail: the last reflection (or the feed plus the longest line), then
    // 60 dB of the slowest decay, and a margin for the diffusers.
    double end = (double)reach / fs;
    if (r->has_late)
        end = fmax(end, (double)(pre + (size_t)r->len[LINES - 1]) / fs + slowest * 1.05 + 0.01);
    r->tail = (int64_t)ceil(end * fs) + 1;
    r->skip_after = r->tail + r->tail / 2;
    r->quiet = r->skip_after;
    r->idle = 1;
    return r;
}

void rp_reverb_free(rp_reverb *r)
{
    if (!r)
        return;
    free(r->mem);
    free(r);
}

void rp_reverb_reset(rp_reverb *r)
{
    if (r->mem)
        memset(r->mem, 0, r->mem_floats * sizeof(float));
    for (int c = 0; c < 2; c++)
        r->hp[c].x1 = r->hp[c].x2 = r->hp[c].y1 = r->hp[c].y2 = 0;
    for (int i = 0; i < LINES; i++) {
        r->pos[i] = 0;
        r->sx1[i] = r->sy1[i] = 0;
    }
    for (int i = 0; i < 4; i++)
        r->ap[i].pos = 0;
    r->early_zl = r->early_zr = 0;
    r->in_pos = 0;
    r->quiet = r->skip_after;
    r->idle = 1;
}

// The struct with its addresses (into mem) zeroed.
static rp_reverb reverb_plain(const rp_reverb *r)
{
    rp_reverb c = *r;
    c.in_l = c.in_r = c.mem = NULL;
    for (int i = 0; i < 4; i++)
        c.ap[i].buf = NULL;
    for (int i = 0; i < LINES; i++)
        c.line[i] = NULL;
    return c;
}

void rp_reverb_save(const rp_reverb *r, rp_strbuf *out)
{
    rp_reverb c = reverb_plain(r);
    rp_strbuf_append(out, (const char *)&c, sizeof c);
    if (!r->idle && r->mem)
        rp_strbuf_append(out, (const char *)r->mem, r->mem_floats * sizeof(float));
}

rp_status rp_reverb_load(rp_reverb *r, rp_unpacker *in)
{
    rp_reverb c, keep = *r;
    rp_unpack(in, &c, sizeof c);
    rp_reverb plain = reverb_plain(r);
    // Only the state may differ: the sizes, and so the layout of mem, are
    // the preset's, and every position lies within its line.
    int bad = in->bad || c.mem_floats != r->mem_floats || c.in_mask != r->in_mask ||
              memcmp(c.len, plain.len, sizeof c.len) || c.n_taps != r->n_taps ||
              c.in_pos > c.in_mask;
    for (int i = 0; i < LINES && !bad; i++)
        bad = c.pos[i] < 0 || c.pos[i] >= c.len[i];
    for (int i = 0; i < 4 && !bad; i++)
        bad = c.ap[i].len != r->ap[i].len || c.ap[i].pos < 0 || c.ap[i].pos >= c.ap[i].len;
    if (bad)
        return RP_ERR_FORMAT;
    *r = c;
    r->in_l = keep.in_l;
    r->in_r = keep.in_r;
    r->mem = keep.mem;
    for (int i = 0; i < 4; i++)
        r->ap[i].buf = keep.ap[i].buf;
    for (int i = 0; i < LINES; i++)
        r->line[i] = keep.line[i];
    if (r->mem && r->idle)
        memset(r->mem, 0, r->mem_floats * sizeof(float));
    else if (r->mem)
        rp_unpack(in, r->mem, r->mem_floats * sizeof(float));
    return in->bad ? RP_ERR_FORMAT : RP_OK;
}

int rp_reverb_idle(const rp_reverb *r)
{
    return r->dry || r->idle;
}

int64_t rp_reverb_tail_frames(const rp_reverb *r)
{
    return r->dry ? 0 : r->tail;
}

static inline float flush(float v)
{
    return fabsf(v) < DENORMAL ? 0.0f : v;
}

static inline float hp_step(hp2 *h, float x)
{
    float y = h->b0 * x + h->b1 * h->x1 + h->b2 * h->x2 - h->a1 * h->y1 - h->a2 * h->y2;
    h->x2 = h->x1;
    h->x1 = x;
    h->y2 = h->y1;
    h->y1 = flush(y);
    return y;
}

static inline float allpass_step(allpass *a, float g, float x)
{
    float d = a->buf[a->pos];
    float y = d - g * x;
    a->buf[a->pos] = flush(x + g * y);
    if (++a->pos == a->len)
        a->pos = 0;
    return y;
}

// In-place 8-point fast Walsh-Hadamard transform, scaled to be orthogonal.
static inline void hadamard8(float *v)
{
    for (int h = 1; h < LINES; h <<= 1) {
        for (int i = 0; i < LINES; i += h << 1) {
            for (int j = i; j < i + h; j++) {
                float a = v[j], b = v[j + h];
                v[j] = a + b;
                v[j + h] = a - b;
            }
        }
    }
    const float s = 0.35355339059327373f; // 1 / sqrt(8)
    for (int i = 0; i < LINES; i++)
        v[i] *= s;
}

void rp_reverb_process(rp_reverb *r, const float *in, float *out, size_t n_frames)
{
    if (r->dry) {
        memset(out, 0, n_frames * 2 * sizeof(float));
        return;
    }
    size_t mask = r->in_mask, wpos = r->in_pos;
    float *il = r->in_l, *ir = r->in_r;
    for (size_t f = 0; f < n_frames; f++) {
        float xl = in[2 * f], xr = in[2 * f + 1];
        if (xl != 0.0f || xr != 0.0f)
            r->quiet = 0;
        else if (r->quiet < r->skip_after)
            r->quiet++;
        if (r->quiet >= r->skip_after) {
            // Silent for good (90 dB down): skip the work, from a clean state.
            if (!r->idle) {
                rp_reverb_reset(r);
                wpos = 0;
            }
            out[2 * f] = out[2 * f + 1] = 0.0f;
            continue;
        }
        r->idle = 0;
        if (r->lowcut) {
            xl = hp_step(&r->hp[0], xl);
            xr = hp_step(&r->hp[1], xr);
        }
        il[wpos] = xl;
        ir[wpos] = xr;
        float el = 0, er = 0;
        for (int k = 0; k < r->n_taps; k++) {
            size_t jl = (wpos - r->tap_dl[k]) & mask, jr = (wpos - r->tap_dr[k]) & mask;
            el += r->tap_l[k] * (il[jl] + ir[jl]);
            er += r->tap_r[k] * (il[jr] + ir[jr]);
        }
        el = r->early_zl = flush((1 - r->early_a) * el + r->early_a * r->early_zl);
        er = r->early_zr = flush((1 - r->early_a) * er + r->early_a * r->early_zr);
        float ll = 0, lr = 0;
        if (r->has_late) {
            size_t j = (wpos - r->feed) & mask;
            float fl = allpass_step(&r->ap[1], r->ap_g, allpass_step(&r->ap[0], r->ap_g, il[j]));
            float fr = allpass_step(&r->ap[3], r->ap_g, allpass_step(&r->ap[2], r->ap_g, ir[j]));
            fl *= r->in_gain;
            fr *= r->in_gain;
            float v[LINES];
            for (int i = 0; i < LINES; i++) {
                float o = r->line[i][r->pos[i]];
                float y = r->sb0[i] * o + r->sb1[i] * r->sx1[i] - r->sa1[i] * r->sy1[i];
                r->sx1[i] = o;
                r->sy1[i] = flush(y);
                v[i] = y;
                ll += out_l[i] * y;
                lr += out_r[i] * y;
            }
            hadamard8(v);
            for (int i = 0; i < LINES; i++) {
                r->line[i][r->pos[i]] = flush(v[i] + feed_l[i] * fl + feed_r[i] * fr);
                if (++r->pos[i] == r->len[i])
                    r->pos[i] = 0;
            }
            ll *= r->out_gain;
            lr *= r->out_gain;
        }
        float wl = el + ll, wr = er + lr;
        float mid = 0.5f * (wl + wr) * r->mid, side = 0.5f * (wl - wr) * r->side;
        out[2 * f] = mid + side;
        out[2 * f + 1] = mid - side;
        wpos = (wpos + 1) & mask;
    }
    r->in_pos = wpos;
}
