// SPDX-License-Identifier: GPL-3.0-or-later
// Shared helpers: status text, diagnostics, string buffers, checked
// allocation, UTF-8 decoding, hashing and did-you-mean suggestions.
#include "rp_common.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rp_config.h"
#include "rp_vec.h"

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_blank(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static const char *const status_text[RP_STATUS_COUNT] = {
    [RP_OK] = "success",
    [RP_ERR_NOMEM] = "out of memory",
    [RP_ERR_IO] = "input/output error",
    [RP_ERR_INPUT] = "malformed input",
    [RP_ERR_USAGE] = "bad usage",
    [RP_ERR_LIMIT] = "input exceeds a limit",
    [RP_ERR_SPEECH] = "speech synthesis failed",
    [RP_ERR_VOICE] = "unknown voice",
    [RP_ERR_FORMAT] = "unsupported output format",
    [RP_ERR_RESAMPLE] = "resampling failed",
    [RP_ERR_INTERRUPTED] = "interrupted",
};

const char *rp_strerror(rp_status st)
{
    if ((unsigned)st >= RP_STATUS_COUNT || !status_text[st])
        return "unknown status";
    return status_text[st];
}

void rp_diags_init(rp_diags *d)
{
    memset(d, 0, sizeof *d);
}

void rp_diags_deinit(rp_diags *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->items[i].file);
        free(d->items[i].subsystem);
        free(d->items[i].msg);
        free(d->items[i].hint);
    }
    free(d->items);
    memset(d, 0, sizeof *d);
}

void rp_diags_move(rp_diags *d, rp_diags *from)
{
    for (size_t i = 0; d && i < from->n; i++) {
        const rp_diag *g = &from->items[i];
        rp_diag_add(d, g->sev, g->file, g->line, g->col, g->subsystem, g->hint, "%s", g->msg);
    }
    rp_diags_deinit(from);
}

void rp_diag_add(rp_diags *d, rp_severity sev, const char *file, int line, int col,
                 const char *subsystem, const char *hint, const char *fmt, ...)
{
    if (!d)
        return;
    if (sev == RP_DIAG_ERROR)
        d->n_errors++;
    if (d->n >= RP_MAX_DIAGS)
        return;
    if (rp_grow((void **)&d->items, &d->cap, d->n + 1, sizeof *d->items) != RP_OK)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rp_diag *dg = &d->items[d->n];
    dg->sev = sev;
    dg->file = file ? rp_strdup(file) : NULL;
    dg->line = line;
    dg->col = col;
    dg->subsystem = rp_strdup(subsystem ? subsystem : "");
    dg->msg = rp_strdup(msg);
    dg->hint = hint ? rp_strdup(hint) : NULL;
    if (!dg->msg || !dg->subsystem) {
        free(dg->file);
        free(dg->subsystem);
        free(dg->msg);
        free(dg->hint);
        return;
    }
    d->n++;
}

char *rp_diag_format(const rp_diag *dg, char *buf, size_t cap)
{
    static const char *const sev_text[] = {"error", "warning", "note"};
    char loc[600] = "";
    if (dg->file && dg->line > 0)
        snprintf(loc, sizeof loc, "%s:%d:%d: ", dg->file, dg->line, dg->col > 0 ? dg->col : 1);
    else if (dg->file)
        snprintf(loc, sizeof loc, "%s: ", dg->file);
    snprintf(buf, cap, "%s%s: %s%s%s%s", loc, sev_text[dg->sev], dg->msg,
             dg->hint ? " (" : "", dg->hint ? dg->hint : "", dg->hint ? ")" : "");
    return buf;
}

void rp_strbuf_init(rp_strbuf *b)
{
    memset(b, 0, sizeof *b);
}

void rp_strbuf_deinit(rp_strbuf *b)
{
    free(b->s);
    memset(b, 0, sizeof *b);
}

void rp_strbuf_append(rp_strbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (rp_grow((void **)&b->s, &b->cap, b->len + n + 1, 1) != RP_OK) {
        b->failed = 1;
        return;
    }
    if (n)  // s may be NULL when there is nothing (an empty buffer's is)
        memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void rp_unpack(rp_unpacker *u, void *dst, size_t n)
{
    if (u->bad || n > u->left) {
        u->bad = 1;
        memset(dst, 0, n);
        return;
    }
    memcpy(dst, u->p, n);
    u->p += n;
    u->left -= n;
}

void rp_strbuf_puts(rp_strbuf *b, const char *s)
{
    rp_strbuf_append(b, s, strlen(s));
}

void rp_strbuf_printf(rp_strbuf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        rp_strbuf_append(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    rp_strbuf_append(b, big, (size_t)n);
    free(big);
}

char *rp_strbuf_take(rp_strbuf *b)
{
    char *s = b->failed ? NULL : b->s;
    if (!s && !b->failed)
        s = rp_strdup("");
    if (b->failed)
        free(b->s);
    memset(b, 0, sizeof *b);
    return s;
}

void *rp_calloc(size_t n, size_t size)
{
    if (n == 0 || size == 0)
        return calloc(1, 1);
    return calloc(n, size);
}

void *rp_realloc_array(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    size_t bytes = n * size;
    return realloc(p, bytes ? bytes : 1);
}

char *rp_strdup(const char *s)
{
    return s ? rp_strndup(s, strlen(s)) : NULL;
}

char *rp_strndup(const char *s, size_t n)
{
    char *r = malloc(n + 1);
    if (!r)
        return NULL;
    memcpy(r, s, n);
    r[n] = '\0';
    return r;
}

char *rp_strdup_trim(const char *s)
{
    while (is_blank(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_blank(s[n - 1]))
        n--;
    return rp_strndup(s, n);
}

rp_status rp_grow(void **items, size_t *cap, size_t need, size_t esz)
{
    if (need <= *cap)
        return RP_OK;
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return RP_ERR_NOMEM;
        ncap *= 2;
    }
    void *p = rp_realloc_array(*items, ncap, esz);
    if (!p)
        return RP_ERR_NOMEM;
    *items = p;
    *cap = ncap;
    return RP_OK;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

int rp_strcasecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int d = lower((unsigned char)*a) - lower((unsigned char)*b);
        if (d || !*a)
            return d;
    }
}

int rp_in_list(const char *w, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (!rp_strcasecmp(w, list[i]))
            return 1;
    return 0;
}

// Verbs that tag speech: "said Kade", "she whispered", "the man cut in".
const char *const rp_speech_verbs[] = {
    "said", "says", "say", "asked", "asks", "replied", "replies", "answered", "answers",
    "whispered", "whispers", "shouted", "shouts", "muttered", "mutters", "murmured", "murmurs",
    "cried", "cries", "called", "calls", "ordered", "warned", "hissed", "snapped", "growled",
    "reported", "added", "adds", "continued", "continues", "exclaimed", "demanded", "insisted",
    "began", "begins", "repeated", "returned", "observed", "remarked", "interrupted",
    "breathed", "yelled", "screamed", "barked", "pleaded", "sighed", "laughed", "croaked",
    "crackled", "inquired", "enquired", "responded", "rejoined", "retorted", "explained",
    "declared", "protested", "pursued", "urged", "suggested", "admitted", "agreed", "roared",
    "stammered", "sobbed", "faltered", "groaned", "drawled", "gasped", "panted", "persisted",
    "ventured", "concluded", "echoed", "resumed", "mumbled", "grumbled", "ejaculated",
    "thought", "announced", "commanded", "corrected", "conceded", "chuckled", "giggled",
    "smiled", "grinned", "sneered", "stuttered", "wailed", "moaned", "shrieked", "bellowed",
    "exclaims", "joked", "teased", "lied", "promised", "reminded", "assured", "admonished",
    "cautioned", "countered", "whimpered", "sang", "chimed", "blurted", "quoth", "sniffed",
    "snorted", "scoffed", "purred", "thundered", "told", "queried", "queries", "interposed",
    "observes", "asserted", "challenged", "hesitated", "objected", "jeered", "mocked", "stated",
    "threatened", "complained", "gushed", "exploded", "confessed", "recalled", "insists",
    "yawned", "boomed", "blared", "buzzed", NULL};

const char *const rp_abbreviations[] = {"mr",   "mrs", "ms", "dr",  "st",     "mme", "mlle",
                                        "prof", "rev", "capt", "col", "lt", "sgt", "gen",
                                        "messrs", "jr",  "sr", NULL};

// Optimal string alignment distance, case-insensitive, capped at 64 bytes.
static int edit_distance(const char *a, const char *b)
{
    enum { N = 64 };
    size_t la = strlen(a), lb = strlen(b);
    if (la >= N || lb >= N)
        return 1000;
    int d[N + 1][N + 1];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            int cost = lower((unsigned char)a[i - 1]) != lower((unsigned char)b[j - 1]);
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && lower((unsigned char)a[i - 1]) == lower((unsigned char)b[j - 2]) &&
                lower((unsigned char)a[i - 2]) == lower((unsigned char)b[j - 1]) &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[la][lb];
}

const char *rp_suggest(const char *word, const char *const *cands, size_t n)
{
    const char *best = NULL;
    int best_d = 1000;
    size_t lw = strlen(word);
    int limit = lw <= 3 ? 1 : lw <= 6 ? 2 : 3;
    for (size_t i = 0; i < n; i++) {
        if (!cands[i])
            continue;
        int dist = edit_distance(word, cands[i]);
        if (dist < best_d) {
            best_d = dist;
            best = cands[i];
        }
    }
    return best_d <= limit ? best : NULL;
}

int rp_line_next(const char *buf, size_t len, size_t *pos, size_t *start, size_t *n)
{
    size_t i = *pos;
    if (i >= len)
        return 0;
    *start = i;
    while (i < len && buf[i] != '\n' && buf[i] != '\r')
        i++;
    *n = i - *start;
    if (i < len && buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n')
        i += 2;
    else if (i < len)
        i++;
    *pos = i;
    return 1;
}

uint32_t rp_utf8_decode(const char *s, size_t n, int *len)
{
    const unsigned char *u = (const unsigned char *)s;
    *len = 1;
    if (n == 0)
        return 0;
    if (u[0] < 0x80)
        return u[0];
    int need;
    uint32_t cp, min;
    if ((u[0] & 0xE0) == 0xC0) {
        need = 1, cp = u[0] & 0x1F, min = 0x80;
    } else if ((u[0] & 0xF0) == 0xE0) {
        need = 2, cp = u[0] & 0x0F, min = 0x800;
    } else if ((u[0] & 0xF8) == 0xF0) {
        need = 3, cp = u[0] & 0x07, min = 0x10000;
    } else {
        return 0xFFFD;
    }
    if ((size_t)need >= n)
        return 0xFFFD;
    for (int i = 1; i <= need; i++) {
        if ((u[i] & 0xC0) != 0x80)
            return 0xFFFD;
        cp = (cp << 6) | (u[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0xFFFD;
    *len = need + 1;
    return cp;
}

size_t rp_utf8_count(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n;) {
        int len;
        rp_utf8_decode(s + i, n - i, &len);
        i += (size_t)len;
        count++;
    }
    return count;
}

// ---- numbers with units ------------------------------------------------------

size_t rp_read_number(const char *s, double *out)
{
    size_t i = 0;
    int neg = 0, digits = 0, exp10 = 0;
    double m = 0;
    if (s[i] == '+' || s[i] == '-')
        neg = s[i++] == '-';
    // Digits past 15 cannot change a double's value: m stays an exact integer.
    for (; is_digit(s[i]); i++, digits++) {
        if (m < 1e15)
            m = m * 10 + (s[i] - '0');
        else
            exp10++;
    }
    if (s[i] == '.') {
        for (i++; is_digit(s[i]); i++, digits++) {
            if (m < 1e15) {
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
    // Dividing by an exact power of ten rounds correctly for short decimals.
    double v = exp10 < 0 && exp10 >= -22 ? m / pow(10.0, -exp10) : m * pow(10.0, exp10);
    *out = neg ? -v : v;
    return i;
}

const char *const rp_unit_names[RP_UNIT_COUNT] = {
    [RP_UNIT_NONE] = "", [RP_UNIT_S] = "s",     [RP_UNIT_HZ] = "Hz",    [RP_UNIT_DB] = "dB",
    [RP_UNIT_ST] = "st", [RP_UNIT_OCT] = "oct", [RP_UNIT_PER_S] = "/s", [RP_UNIT_M] = "m"};

const char *rp_unit_hint(rp_unit u)
{
    static const char *const hint[RP_UNIT_COUNT] = {[RP_UNIT_NONE] = "this value has no unit",
                                                    [RP_UNIT_S] = "use s or ms",
                                                    [RP_UNIT_HZ] = "use Hz or kHz",
                                                    [RP_UNIT_DB] = "use dB",
                                                    [RP_UNIT_ST] = "use st (semitones)",
                                                    [RP_UNIT_OCT] = "use oct (octaves)",
                                                    [RP_UNIT_PER_S] = "use /s (per second)",
                                                    [RP_UNIT_M] = "use m (metres)"};
    return (unsigned)u < RP_UNIT_COUNT ? hint[u] : hint[RP_UNIT_NONE];
}

// The factor from the unit word w[0..n) to u's base; 0 when w is not a unit of u.
static double unit_factor(rp_unit u, const char *w, size_t n)
{
    static const struct {
        rp_unit u;
        const char *word;
        double factor;
    } words[] = {{RP_UNIT_S, "s", 1},       {RP_UNIT_S, "ms", 0.001}, {RP_UNIT_HZ, "hz", 1},
                 {RP_UNIT_HZ, "khz", 1000}, {RP_UNIT_DB, "db", 1},    {RP_UNIT_ST, "st", 1},
                 {RP_UNIT_OCT, "oct", 1},   {RP_UNIT_PER_S, "/s", 1}, {RP_UNIT_M, "m", 1}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        const char *k = words[i].word;
        size_t j = 0;
        while (j < n && k[j] && lower(w[j]) == k[j])
            j++;
        // Metres are lower case only: "M" reads as mega elsewhere.
        if (words[i].u == u && j == n && !k[j] && (u != RP_UNIT_M || w[0] == 'm'))
            return words[i].factor;
    }
    return 0;
}

rp_qty_status rp_read_quantity(const char *s, rp_unit u, double *out, size_t *end, size_t *word)
{
    double v;
    size_t i = rp_read_number(s, &v);
    *end = *word = i;
    if (i == 0)
        return RP_QTY_NO_NUMBER;
    while (is_blank(s[i]))
        i++;
    if (is_alpha(s[i]) || s[i] == '/') {
        size_t w = i;
        if (s[i] == '/')
            i++;
        while (is_alpha(s[i]))
            i++;
        double f = unit_factor(u, s + w, i - w);
        if (f == 0) {
            *word = w;
            *end = i;
            return RP_QTY_BAD_UNIT;
        }
        v *= f;
        while (is_blank(s[i]))
            i++;
    }
    *out = v;
    *end = i;
    return RP_QTY_OK;
}

size_t rp_preset_line_trim(char *line)
{
    for (size_t i = 0; line[i]; i++) {
        if (line[i] == '#' && (i == 0 || is_blank(line[i - 1]))) {
            line[i] = 0;
            break;
        }
    }
    size_t s = 0, t = strlen(line);
    while (is_blank(line[s]))
        s++;
    while (t > s && is_blank(line[t - 1]))
        t--;
    line[t] = 0;
    return s;
}

int rp_preset_split(char *s, char **value)
{
    char *eq = strchr(s, '=');
    if (!eq)
        return 0;
    char *ke = eq;
    while (ke > s && is_blank(ke[-1]))
        ke--;
    *ke = 0;
    char *val = eq + 1;
    while (is_blank(*val))
        val++;
    *value = val;
    return 1;
}

uint64_t rp_hash64(const void *data, size_t n, uint64_t h)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

// Four independent multiply-xorshift lanes over 32 bytes at a time (the
// lanes keep the multiplier busy: several GB/s), folded together at the end.
static uint64_t mix64(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

uint64_t rp_hash_words(const void *bytes, size_t n, uint64_t h)
{
    const unsigned char *p = bytes;
    uint64_t lane[4] = {h, h ^ 0x1111, h ^ 0x2222, h ^ 0x3333};
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        uint64_t w[4];
        memcpy(w, p + i, 32);
        for (int k = 0; k < 4; k++)
            lane[k] = mix64(lane[k], w[k]);
    }
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        lane[0] = mix64(lane[0], w);
    }
    uint64_t w = 0;
    memcpy(&w, p + i, n - i);
    h = mix64(mix64(mix64(mix64(lane[0], lane[1]), lane[2]), lane[3]), w ^ (uint64_t)n);
    h *= 0xBF58476D1CE4E5B9ull;
    return h ^ (h >> 31);
}

uint64_t rp_seed_mix(uint64_t a, uint64_t b)
{
    rp_rng r = {a ^ (b * 0x9E3779B97F4A7C15ull)};
    return rp_rng_next(&r);
}

void rp_keep_freed_memory(void)
{
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
}

double rp_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

// ---- samples ----------------------------------------------------------------------
//
// Eight at a time, in GCC's vector extension (the scalar loops were most of
// a cold render's clip writing; the compiler makes no vector maximum or
// clamp of its own without SSE4.1, and widened 16-bit numbers to floats
// one at a time). Masks pick lanes; rounding adds and takes away
// 1.5 * 2^23, which leaves the nearest integer, ties to even, in a float's
// mantissa (exact, as |v| <= 2^15). The last few samples go through the
// same code in vectors padded with zeros, copied apart: a copy of varying
// size into the vector stalls the load that follows it, which in the main
// loop cost more than the rest.

// Four samples on the 16-bit grid (times scale, NaN as 0), rounded: the
// rounded float is the 16-bit number itself, exactly, within its range.
static v4f grid_of(v4f v, v4f scale)
{
    const v4f zero = {0}, round = zero + 12582912.0f;
    v *= scale;
    v = rp_vec_pick(v == v, v, zero);
    return (v + round) - round;
}

// The same, clamped to 16 bits (rounded first or clamped first, the same
// numbers).
static v4i s16_of(v4f v, v4f scale)
{
    const v4f hi = {32767.0f, 32767.0f, 32767.0f, 32767.0f}, lo = -hi - 1.0f;
    v = grid_of(v, scale);
    v = rp_vec_min(v, hi);
    v = rp_vec_max(v, lo);
    return __builtin_convertvector(v, v4i);
}

void rp_s16_from_float(const float *in, int16_t *out, size_t n, float scale)
{
    const v4f sc = {scale, scale, scale, scale};
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v4f a, b;
        memcpy(&a, in + i, sizeof a);
        memcpy(&b, in + i + 4, sizeof b);
        v8s s = rp_vec_pack16(s16_of(a, sc), s16_of(b, sc));
        memcpy(out + i, &s, sizeof s);
    }
    if (i < n) {
        v4f v[2] = {{0}};
        memcpy(v, in + i, (n - i) * sizeof *in);
        v8s s = rp_vec_pack16(s16_of(v[0], sc), s16_of(v[1], sc));
        memcpy(out + i, &s, (n - i) * sizeof *out);
    }
}

// Eight samples onto the grid in place (scaled up, rounded, scaled back
// down), and their 16-bit numbers.
static v8s round8(v4f v[2], v4f up, v4f down)
{
    v[0] = grid_of(v[0], up);
    v[1] = grid_of(v[1], up);
    v8s s = rp_vec_pack16(__builtin_convertvector(v[0], v4i), __builtin_convertvector(v[1], v4i));
    v[0] *= down;
    v[1] *= down;
    return s;
}

void rp_s16_round(float *x, int16_t *q, size_t n, int e)
{
    const v4f zero = {0}, up = zero + ldexpf(1.0f, e), down = zero + ldexpf(1.0f, -e);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v4f v[2];
        memcpy(v, x + i, sizeof v);
        v8s s = round8(v, up, down);
        memcpy(q + i, &s, sizeof s);
        memcpy(x + i, v, sizeof v);
    }
    if (i < n) {  // the same, apart (see above)
        v4f v[2] = {{0}};
        memcpy(v, x + i, (n - i) * sizeof *x);
        v8s s = round8(v, up, down);
        memcpy(q + i, &s, (n - i) * sizeof *q);
        memcpy(x + i, v, (n - i) * sizeof *x);
    }
}

// Each 16-bit number is put in both halves of a 32-bit lane (one unpack)
// and shifted down by 16, which widens it with its sign.
void rp_s16_to_float(const int16_t *in, float *out, size_t n, float scale)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v8s s;
        memcpy(&s, in + i, sizeof s);
        v4i a = (v4i)__builtin_shufflevector(s, s, 0, 0, 1, 1, 2, 2, 3, 3) >> 16;
        v4i b = (v4i)__builtin_shufflevector(s, s, 4, 4, 5, 5, 6, 6, 7, 7) >> 16;
        v4f fa = __builtin_convertvector(a, v4f) * scale, fb = __builtin_convertvector(b, v4f) * scale;
        memcpy(out + i, &fa, sizeof fa);
        memcpy(out + i + 4, &fb, sizeof fb);
    }
    for (; i < n; i++)
        out[i] = (float)in[i] * scale;
}

// Four running maxima, so that each compare waits on the one four vectors
// back, not the last.
float rp_peak(const float *x, size_t n)
{
    v4f t0 = {0}, t1 = {0}, t2 = {0}, t3 = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        v4f a, b, c, e;
        memcpy(&a, x + i, sizeof a);
        memcpy(&b, x + i + 4, sizeof b);
        memcpy(&c, x + i + 8, sizeof c);
        memcpy(&e, x + i + 12, sizeof e);
        t0 = rp_vec_larger(t0, rp_vec_abs(a));
        t1 = rp_vec_larger(t1, rp_vec_abs(b));
        t2 = rp_vec_larger(t2, rp_vec_abs(c));
        t3 = rp_vec_larger(t3, rp_vec_abs(e));
    }
    t0 = rp_vec_larger(rp_vec_larger(t0, t1), rp_vec_larger(t2, t3));
    for (; i + 4 <= n; i += 4) {
        v4f v;
        memcpy(&v, x + i, sizeof v);
        t0 = rp_vec_larger(t0, rp_vec_abs(v));
    }
    float p = rp_vec_top(t0, 0.0f);
    for (; i < n; i++)
        p = fabsf(x[i]) > p ? fabsf(x[i]) : p;
    return p;
}
