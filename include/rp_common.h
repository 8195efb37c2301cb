// SPDX-License-Identifier: GPL-3.0-or-later
// Shared vocabulary of every radioplay module: the status enum, located
// diagnostics (the only way a module reports a problem; only main.c prints
// them), a growable string buffer, overflow-checked allocation, a
// deterministic PRNG, the effects' fast tanh and sine, and the did-you-mean
// helper used by every name lookup.
#ifndef RP_COMMON_H
#define RP_COMMON_H

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    RP_OK = 0,
    RP_ERR_NOMEM,     // an allocation failed
    RP_ERR_IO,        // reading or writing a file failed
    RP_ERR_INPUT,     // the chapter, cast sheet or a preset is malformed
    RP_ERR_USAGE,     // bad command line
    RP_ERR_LIMIT,     // an input exceeded a named limit
    RP_ERR_SPEECH,    // espeak-ng failed
    RP_ERR_VOICE,     // unknown voice or variant
    RP_ERR_FORMAT,    // unsupported output format
    RP_ERR_RESAMPLE,  // the resampler failed
    RP_ERR_INTERRUPTED, // stopped by a signal
    RP_STATUS_COUNT
} rp_status;

const char *rp_strerror(rp_status st);

typedef enum { RP_DIAG_ERROR, RP_DIAG_WARNING, RP_DIAG_NOTE } rp_severity;

// One located message. line/col are 1-based; col counts code points, not
// bytes. line == 0 means "the whole file"; file == NULL means no file.
typedef struct {
    rp_severity sev;
    char *file;
    int line, col;
    char *subsystem;  // "parse", "cast", "sfx", "speech", ...
    char *msg;
    char *hint;       // may be NULL
} rp_diag;

typedef struct {
    rp_diag *items;
    size_t n, cap;
    size_t n_errors;
} rp_diags;

void rp_diags_init(rp_diags *d);
void rp_diags_deinit(rp_diags *d);
// Adds a diagnostic; hint may be NULL. Never fails visibly: on allocation
// failure the message is dropped but n_errors is still counted.
void rp_diag_add(rp_diags *d, rp_severity sev, const char *file, int line, int col,
                 const char *subsystem, const char *hint, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 8, 9)))
#endif
    ;
// Adds every diagnostic of from to d (NULL: none), in order, and empties from.
void rp_diags_move(rp_diags *d, rp_diags *from);
// "file:line:col: error: msg (hint)" into buf; returns buf.
char *rp_diag_format(const rp_diag *dg, char *buf, size_t cap);

// Growable NUL-terminated byte string.
typedef struct {
    char *s;
    size_t len, cap;
    int failed;  // set once an allocation failed; further appends are ignored
} rp_strbuf;

void rp_strbuf_init(rp_strbuf *b);
void rp_strbuf_deinit(rp_strbuf *b);
void rp_strbuf_append(rp_strbuf *b, const char *s, size_t n);
void rp_strbuf_puts(rp_strbuf *b, const char *s);
void rp_strbuf_printf(rp_strbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
// Takes the string out of the buffer (caller frees); the buffer is reset.
char *rp_strbuf_take(rp_strbuf *b);

// Reading back what was appended to an rp_strbuf as bytes (a saved state):
// rp_unpack copies n bytes out and advances; past the end it sets bad,
// zeroes dst and keeps failing.
typedef struct {
    const unsigned char *p;
    size_t left;
    int bad;
} rp_unpacker;

void rp_unpack(rp_unpacker *u, void *dst, size_t n);

// calloc/realloc with overflow-checked n * size; NULL on failure.
void *rp_calloc(size_t n, size_t size);
void *rp_realloc_array(void *p, size_t n, size_t size);
char *rp_strdup(const char *s);
char *rp_strndup(const char *s, size_t n);
// A copy of s without the spaces and tabs around it.
char *rp_strdup_trim(const char *s);
// Grows *items (element size esz) so that it holds at least need elements.
rp_status rp_grow(void **items, size_t *cap, size_t need, size_t esz);

// Case-insensitive ASCII compare.
int rp_strcasecmp(const char *a, const char *b);
// 1 when w is in the NULL-terminated list (ASCII case ignored).
int rp_in_list(const char *w, const char *const *list);
// Lower-case words whose full stop does not end a sentence ("Mr.", "Dr."),
// NULL-terminated: the attribution and the chapter lint agree on them.
extern const char *const rp_abbreviations[];
extern const char *const rp_speech_verbs[]; // said, asked, whispered, ...

// The candidate closest to word (Damerau-Levenshtein, case-insensitive), or
// NULL when none is close enough to suggest.
const char *rp_suggest(const char *word, const char *const *cands, size_t n);

// Number of code points in the first n bytes of UTF-8 s.
size_t rp_utf8_count(const char *s, size_t n);
// Decodes one code point at s (at most n bytes); stores its byte length in
// *len (1 for an invalid byte, which decodes as U+FFFD).
uint32_t rp_utf8_decode(const char *s, size_t n, int *len);

// The next line of buf[*pos..len): [*start, *start + *n), its end not
// included; LF, CRLF and a lone CR each end one. 0 at the end. The parser
// and `annotate` count lines by it.
int rp_line_next(const char *buf, size_t len, size_t *pos, size_t *start, size_t *n);

// Numbers in preset files (effects and rooms), read without strtod, whose
// decimal point follows the locale: "[+-]digits[.digits][e[+-]digits]".
// Bytes consumed, 0 when s does not start with a number. Short decimals are
// correctly rounded ("0.3" is the double nearest 0.3).
size_t rp_read_number(const char *s, double *out);

// The units a preset value may carry. A value is held in its unit's base
// (seconds, hertz, decibels, semitones, octaves, per second, metres); "ms"
// and "kHz" are read into it.
typedef enum {
    RP_UNIT_NONE,
    RP_UNIT_S,     // s, ms
    RP_UNIT_HZ,    // Hz, kHz
    RP_UNIT_DB,    // dB
    RP_UNIT_ST,    // st (semitones)
    RP_UNIT_OCT,   // oct (octaves)
    RP_UNIT_PER_S, // /s
    RP_UNIT_M,     // m
    RP_UNIT_COUNT
} rp_unit;

// The base unit as written after a value in messages ("s", "Hz", "" for none).
extern const char *const rp_unit_names[RP_UNIT_COUNT];
// What to write instead of a unit that does not fit ("use s or ms").
const char *rp_unit_hint(rp_unit u);

typedef enum { RP_QTY_OK, RP_QTY_NO_NUMBER, RP_QTY_BAD_UNIT } rp_qty_status;

// Reads a number and, when a unit word follows ("25 ms", "4kHz", "-9 dB",
// "3 /s"), the unit, converted to unit u's base; then the spaces after it.
// RP_QTY_OK: *out is the value and *end the offset past it. RP_QTY_NO_NUMBER:
// s does not start with a number. RP_QTY_BAD_UNIT: the word [*word, *end)
// after the number is not a unit of u. Words are letters, with an optional
// leading '/'.
rp_qty_status rp_read_quantity(const char *s, rp_unit u, double *out, size_t *end, size_t *word);

// A line of a preset file, in place: its comment ('#' at the start or
// after a space) and the spaces around what is left are removed. Returns
// the offset of the first byte kept: line + that is the content, "" when the
// line is blank.
size_t rp_preset_line_trim(char *line);
// Splits "key = value" at the first '=', in place: s keeps the key (spaces
// before the '=' removed) and *value points at the value (spaces after it
// skipped). 0 when there is no '='.
int rp_preset_split(char *s, char **value);

// splitmix64: a tiny, well-mixed, seedable PRNG. Every noise source owns one.
typedef struct { uint64_t s; } rp_rng;
static inline uint64_t rp_rng_next(rp_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
// Uniform in [0, 1).
static inline double rp_rng_unit(rp_rng *r) { return (double)(rp_rng_next(r) >> 11) * 0x1.0p-53; }
// Uniform in [-1, 1).
static inline float rp_rng_bipolar(rp_rng *r) { return (float)(rp_rng_unit(r) * 2.0 - 1.0); }

// FNV-1a 64-bit, for stable seeds and names-to-voices hashing.
uint64_t rp_hash64(const void *data, size_t n, uint64_t h);
// A 64-bit hash for large inputs (clips, records, files): several times
// faster than rp_hash64, with values of its own. A clip's checksum in the
// cache is this.
uint64_t rp_hash_words(const void *bytes, size_t n, uint64_t h);
#define RP_HASH_INIT 0xcbf29ce484222325ull
// Mixes two 64-bit values into a seed (for "render seed + cue identity").
uint64_t rp_seed_mix(uint64_t a, uint64_t b);

// Seconds on CLOCK_MONOTONIC, for timings and deadlines.
double rp_now_s(void);

// For a program's start (radioplay's, its workers'): clips are large and
// short-lived, so freed memory stays in the heap instead of going back to
// the kernel, which would zero fresh pages for every clip (a fifth of a
// render's time without this).
void rp_keep_freed_memory(void);

static inline double rp_db_to_gain(double db) { return pow(10.0, db / 20.0); }

// sin(2 pi s) for s in [-0.5, 0.5]: folded to a quarter turn, then the Taylor
// series to the 11th power (error below 6e-8, float rounding dominates).
// Fast enough for every sample of a sine oscillator and every control value.
static inline float rp_sin_turns(float s)
{
    float a = fabsf(s);
    float u = a < 0.5f - a ? a : 0.5f - a; // sin(pi - x) = sin(x)
    float u2 = u * u;
    // Coefficients of u^11, u^9, ... u: (-1)^k (2 pi)^(2k+1) / (2k+1)!.
    float p = -15.094642576822984f;
    p = p * u2 + 42.058693944897634f;
    p = p * u2 - 76.70585975306136f;
    p = p * u2 + 81.60524927607504f;
    p = p * u2 - 41.341702240399755f;
    p = p * u2 + 6.283185307179586f;
    return copysignf(p * u, s);
}

// tanh(x) to float precision (error below 4e-7, |result| <= 1): the 13/6
// rational minimax approximation of Eigen's float ptanh (MPL-2.0), clamped
// where it reaches 1. Several times faster than tanhf (which goes through
// expm1f), and its loops vectorize: the clamp compares the magnitude's bits
// as an integer, as a float compare would count as control flow that may
// trap.
static inline float rp_fast_tanh(float x)
{
    const float lim = 7.90531110763549805f;
    int32_t bits, lim_bits;
    __builtin_memcpy(&bits, &x, sizeof bits);
    __builtin_memcpy(&lim_bits, &lim, sizeof lim_bits);
    int32_t mag = bits & INT32_MAX;
    mag = mag > lim_bits ? lim_bits : mag;
    bits = (bits & INT32_MIN) | mag;
    __builtin_memcpy(&x, &bits, sizeof x);
    float x2 = x * x;
    float p = -2.76076847742355e-16f;
    p = p * x2 + 2.00018790482477e-13f;
    p = p * x2 - 8.60467152213735e-11f;
    p = p * x2 + 5.12229709037114e-08f;
    p = p * x2 + 1.48572235717979e-05f;
    p = p * x2 + 6.37261928875436e-04f;
    p = p * x2 + 4.89352455891786e-03f;
    float q = 1.19825839466702e-06f;
    q = q * x2 + 1.18534705686654e-04f;
    q = q * x2 + 2.26843463243900e-03f;
    q = q * x2 + 4.89352518554385e-03f;
    return x * p / q;
}

// Samples to 16-bit numbers: each times scale, to the nearest whole number
// (ties to even, as lrintf), clamped to the 16-bit range, NaN as 0. And
// back: each times scale. Vectorized; the same results one at a time.
void rp_s16_from_float(const float *in, int16_t *out, size_t n, float scale);
void rp_s16_to_float(const int16_t *in, float *out, size_t n, float scale);
// Both at once, on the grid of 2^-e: q gets x times 2^e rounded as
// rp_s16_from_float rounds it, and x the same number times 2^-e (what
// rp_s16_to_float makes of q), to the bit. Every |x| times 2^e must be
// under 32767.5 (NaN is 0): there is no clamp. -126 < e < 128.
void rp_s16_round(float *x, int16_t *q, size_t n, int e);
// The largest magnitude among n samples (NaN left out).
float rp_peak(const float *x, size_t n);

// A data file's text by name: the built-in effect presets and rooms
// (generated by src/embed.sh from sfx/) and the ones a user adds.
typedef struct {
    const char *name;  // file stem
    const char *text;
    size_t len;
} rp_source;

#endif
