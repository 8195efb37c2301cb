// SPDX-License-Identifier: GPL-3.0-or-later
// The cast sheet. INI text is parsed with libinih (this is the only file that
// includes ini.h); Debian builds inih without line numbers in the handler, so
// a reader callback feeds it one line at a time and remembers which line it
// is, which gives every diagnostic its line and column. Automatic casting
// picks voices from a palette by a hash of the speaker's name, so a name gets
// the same voice in every run and every chapter unless two names collide.
#include "rp_cast.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_config.h"

#define MAX_UTF8_REPORTS 20  // invalid UTF-8 bytes reported per sheet

const char *const rp_voice_fx_names[RP_VFX_COUNT] = {
    "none", "radio", "robot", "megaphone", "whisper", "distant", "pa", "helmet",
};

rp_render_config rp_render_config_default(void)
{
    return (rp_render_config){
        .rate_hz = RP_DEFAULT_RATE_HZ,
        .channels = RP_DEFAULT_CHANNELS,
        .seed = RP_DEFAULT_SEED,
        .pause_sentence_s = RP_PAUSE_SENTENCE_S,
        .pause_paragraph_s = RP_PAUSE_PARAGRAPH_S,
        .pause_speaker_s = RP_PAUSE_SPEAKER_S,
        .pause_heading_s = RP_PAUSE_HEADING_S,
        .pause_scene_s = RP_PAUSE_SCENE_S,
        .lead_in_s = RP_LEAD_IN_S,
        .tail_s = RP_TAIL_S,
        .speech_gain_db = RP_SPEECH_GAIN_DB,
        .sfx_gain_db = RP_SFX_GAIN_DB,
        .bed_gain_db = RP_BED_GAIN_DB,
        .duck_db = RP_BED_DUCK_DB,
        .clearance_db = RP_CLEARANCE_DB,
        .announce_headings = 1,
        .master = {.norm = RP_NORM_LUFS, .target_lufs = NAN, .ceiling_dbtp = RP_LIMITER_CEILING_DB},
    };
}

double rp_render_loudness_target(const rp_render_config *r)
{
    if (!isnan(r->master.target_lufs))
        return r->master.target_lufs;
    return rp_master_default_lufs(r->channels);
}

static void voice_defaults(rp_voice *v)
{
    snprintf(v->voice, sizeof v->voice, "%s", "en-us");
    v->variant[0] = '\0';
    v->rate_wpm = RP_DEFAULT_WPM;
    v->pitch = RP_DEFAULT_PITCH;
    v->range = RP_DEFAULT_RANGE;
    v->volume = RP_DEFAULT_VOLUME;
    v->pan = 0.0;
    v->gain_db = 0.0;
    v->fx = RP_VFX_NONE;
}

rp_status rp_cast_init(rp_cast *c)
{
    memset(c, 0, sizeof *c);
    c->render = rp_render_config_default();
    voice_defaults(&c->narrator);
    snprintf(c->narrator.voice, sizeof c->narrator.voice, "%s", RP_DEFAULT_NARRATOR_VOICE);
    snprintf(c->narrator.variant, sizeof c->narrator.variant, "%s", RP_DEFAULT_NARRATOR_VARIANT);
    c->narrator.name = rp_strdup("Narrator");
    return c->narrator.name ? RP_OK : RP_ERR_NOMEM;
}

void rp_cast_deinit(rp_cast *c)
{
    if (!c)
        return;
    free(c->file);
    free(c->narrator.name);
    for (size_t i = 0; i < c->n_voices; i++)
        free(c->voices[i].name);
    free(c->voices);
    for (size_t i = 0; i < c->n_sfx; i++) {
        free(c->sfx[i].preset);
        free(c->sfx[i].key);
        free(c->sfx[i].value);
    }
    free(c->sfx);
    for (size_t i = 0; i < c->n_rules; i++) {
        free(c->rules[i].phrase);
        free(c->rules[i].preset);
    }
    free(c->rules);
    for (size_t i = 0; i < c->n_say; i++) {
        free(c->say[i].word);
        free(c->say[i].say);
    }
    free(c->say);
    memset(c, 0, sizeof *c);
}

void rp_voice_espeak_name(const rp_voice *v, char *buf, size_t cap)
{
    if (v->variant[0])
        snprintf(buf, cap, "%s+%s", v->voice, v->variant);
    else
        snprintf(buf, cap, "%s", v->voice);
}

// ---- loading -------------------------------------------------------------

enum section { SEC_NONE, SEC_RENDER, SEC_NARRATOR, SEC_VOICE, SEC_SFX, SEC_RULES, SEC_SAY, SEC_BAD };

typedef struct {
    rp_cast *c;
    rp_diags *d;
    const char *pos, *end;  // reader position in the sheet text
    int line;               // 1-based number of the line inih is handling
    char text[1024];        // that line, for columns
    char section[256];      // the section inih reported last
    enum section sec;
    rp_voice *voice;        // the [voice]/[narrator] being filled
    char sfx_name[RP_MAX_NAME_BYTES + 1];
    int key_seen;           // a key line since the last header (inih's prev_name)
    int key_line[24];       // where each [render] or [voice] key got its value (0: not yet)
    int continued;          // the line continues the value of the key before it
    int nomem;              // an allocation failed
    size_t n_errors;
} loader;

static void scan_line(loader *L, const char *str);
static void err(loader *L, int col, const char *hint, const char *fmt, const char *a,
                const char *b);

// Hands inih the next line. One longer than RP_MAX_CAST_LINE_BYTES (or
// than inih's buffer of num bytes allows) is an error, and inih gets an
// empty line instead: it would cut the line and read on as if it ended there.
static char *read_line(char *str, int num, void *stream)
{
    loader *L = stream;
    if (L->pos >= L->end)
        return NULL;
    const char *nl = memchr(L->pos, '\n', (size_t)(L->end - L->pos));
    size_t len = nl ? (size_t)(nl - L->pos) + 1 : (size_t)(L->end - L->pos);
    size_t max = num > 3 && (size_t)num - 3 < RP_MAX_CAST_LINE_BYTES ? (size_t)num - 3
                                                                     : RP_MAX_CAST_LINE_BYTES;
    const char *line = L->pos;
    L->pos += len;
    L->line++;
    if (len - (nl != NULL) > max) {
        char n[24];
        snprintf(n, sizeof n, "%zu", max);
        err(L, (int)rp_utf8_count(line, max) + 1, "split a long [say] or [rules] line in two",
            "line is longer than %s bytes%s", n, "");
        str[0] = L->text[0] = '\0';
        return str;
    }
    memcpy(str, line, len);  // len <= max + 1 < num: the whole line fits
    str[len] = '\0';
    memcpy(L->text, line, len);
    L->text[len] = '\0';
    scan_line(L, str);
    return str;
}

static int col_of(const loader *L, const char *s)
{
    const char *p = s && *s ? strstr(L->text, s) : NULL;
    return p ? (int)rp_utf8_count(L->text, (size_t)(p - L->text)) + 1 : 1;
}

// Column of the value: just after '=' (or ':'), skipping spaces.
static int value_col(const loader *L)
{
    const char *p = strpbrk(L->text, "=:");
    if (p)
        p++;
    else
        p = L->text;  // a continuation line: all of it is value
    while (*p == ' ' || *p == '\t')
        p++;
    return (int)rp_utf8_count(L->text, (size_t)(p - L->text)) + 1;
}

static void err(loader *L, int col, const char *hint, const char *fmt, const char *a,
                const char *b)
{
    char msg[600];
    snprintf(msg, sizeof msg, fmt, a, b);
    rp_diag_add(L->d, RP_DIAG_ERROR, L->c->file, L->line, col, "cast", hint, "%s", msg);
    L->n_errors++;
}

static int parse_double(loader *L, const char *key, const char *value, double lo, double hi,
                        const char *unit, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(value, &end);
    while (*end == ' ' || *end == '\t')
        end++;
    if (end == value || *end || errno || !isfinite(x)) {
        err(L, value_col(L), NULL, "%s: '%s' is not a number", key, value);
        return 0;
    }
    if (x < lo || x > hi) {
        char range[160];
        snprintf(range, sizeof range, "%.15g and %.15g%s%s", lo, hi, unit[0] ? " " : "", unit);
        err(L, value_col(L), NULL, "%s must be between %s", key, range);
        return 0;
    }
    *out = x;
    return 1;
}

static int parse_int(loader *L, const char *key, const char *value, int lo, int hi,
                     const char *unit, int *out)
{
    double x;
    if (!parse_double(L, key, value, lo, hi, unit, &x))
        return 0;
    if (x != floor(x)) {
        err(L, value_col(L), NULL, "%s must be a whole number, not '%s'", key, value);
        return 0;
    }
    *out = (int)x;
    return 1;
}

static int parse_bool(loader *L, const char *key, const char *value, int *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (!rp_strcasecmp(value, yes[i]))
            return *out = 1, 1;
        if (!rp_strcasecmp(value, no[i]))
            return *out = 0, 1;
    }
    err(L, value_col(L), "use yes or no", "%s: '%s' is not yes or no", key, value);
    return 0;
}

static int copy_name(loader *L, char *dst, size_t cap, const char *key, const char *value)
{
    size_t n = strlen(value);
    if (n == 0 || n >= cap) {
        err(L, value_col(L), NULL, "%s: '%s' is empty or too long", key, value);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = value[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '/')) {
            err(L, value_col(L), NULL, "%s: '%s' is not a voice name", key, value);
            return 0;
        }
    }
    memcpy(dst, value, n + 1);
    return 1;
}

static const char *const render_keys[] = {
    "rate", "channels", "seed", "pause_sentence", "pause_paragraph", "pause_speaker",
    "pause_heading", "pause_scene", "lead_in", "tail", "speech_gain", "sfx_gain",
    "bed_gain", "duck", "clearance", "headings", "loudness", "ceiling", "bits",
};

static const char *const voice_keys[] = {
    "voice", "variant", "rate", "pitch", "range", "volume", "pan", "gain", "effect",
};

static void unknown_key(loader *L, const char *key, const char *const *keys, size_t n)
{
    char hint[128] = "";
    const char *s = rp_suggest(key, keys, n);
    if (s)
        snprintf(hint, sizeof hint, "did you mean '%s'?", s);
    err(L, col_of(L, key), s ? hint : NULL, "unknown key '%s' in [%s]", key, L->section);
}

static void render_value(loader *L, const char *key, const char *value)
{
    rp_render_config *r = &L->c->render;
    double x;
    int i;
    if (!strcmp(key, "rate")) {
        if (parse_int(L, key, value, RP_MIN_RATE_HZ, RP_MAX_RATE_HZ, "Hz", &i))
            r->rate_hz = i;
    } else if (!strcmp(key, "channels")) {
        if (parse_int(L, key, value, 1, 2, "", &i))
            r->channels = i;
    } else if (!strcmp(key, "seed")) {
        if (parse_double(L, key, value, 0, 4294967295.0, "", &x)) {
            if (x == floor(x))
                r->seed = (uint64_t)x;
            else
                err(L, value_col(L), NULL, "%s must be a whole number, not '%s'", key, value);
        }
    } else if (!strcmp(key, "headings")) {
        if (parse_bool(L, key, value, &i))
            r->announce_headings = i;
    } else if (!strcmp(key, "loudness")) {
        if (!rp_strcasecmp(value, "acx")) {
            r->master.norm = RP_NORM_ACX;
        } else if (!rp_strcasecmp(value, "off")) {
            r->master.norm = RP_NORM_OFF;
        } else if (parse_double(L, key, value, RP_LOUDNESS_MIN_LUFS, RP_LOUDNESS_MAX_LUFS,
                                "LUFS (or acx, off)", &x)) {
            r->master.norm = RP_NORM_LUFS;
            r->master.target_lufs = x;
        }
    } else if (!strcmp(key, "bits")) {
        if (!rp_strcasecmp(value, "float"))
            r->bits = 32;
        else if (!strcmp(value, "16") || !strcmp(value, "24"))
            r->bits = atoi(value);
        else
            err(L, value_col(L), NULL, "%s must be 16, 24 or float, not '%s'", key, value);
    } else if (!strcmp(key, "ceiling")) {
        if (parse_double(L, key, value, -20, 0, "dBTP", &x))
            r->master.ceiling_dbtp = x;
    } else {
        struct { const char *k; double *p; double lo, hi; const char *unit; } t[] = {
            {"pause_sentence", &r->pause_sentence_s, 0, RP_MAX_PAUSE_S, "s"},
            {"pause_paragraph", &r->pause_paragraph_s, 0, RP_MAX_PAUSE_S, "s"},
            {"pause_speaker", &r->pause_speaker_s, 0, RP_MAX_PAUSE_S, "s"},
            {"pause_heading", &r->pause_heading_s, 0, RP_MAX_PAUSE_S, "s"},
            {"pause_scene", &r->pause_scene_s, 0, RP_MAX_PAUSE_S, "s"},
            {"lead_in", &r->lead_in_s, 0, RP_MAX_PAUSE_S, "s"},
            {"tail", &r->tail_s, 0, RP_MAX_PAUSE_S, "s"},
            {"speech_gain", &r->speech_gain_db, -60, 12, "dB"},
            {"sfx_gain", &r->sfx_gain_db, -60, 12, "dB"},
            {"bed_gain", &r->bed_gain_db, -60, 12, "dB"},
            {"duck", &r->duck_db, -60, 0, "dB"},
            {"clearance", &r->clearance_db, 0, 40, "dB"},
        };
        for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
            if (!strcmp(key, t[k].k)) {
                if (parse_double(L, key, value, t[k].lo, t[k].hi, t[k].unit, &x))
                    *t[k].p = x;
                return;
            }
        }
        unknown_key(L, key, render_keys, sizeof render_keys / sizeof render_keys[0]);
    }
}

static void voice_value(loader *L, rp_voice *v, const char *key, const char *value)
{
    double x;
    int i;
    if (!strcmp(key, "voice")) {
        copy_name(L, v->voice, sizeof v->voice, key, value);
    } else if (!strcmp(key, "variant")) {
        if (!value[0] || !rp_strcasecmp(value, "none"))
            v->variant[0] = '\0';
        else
            copy_name(L, v->variant, sizeof v->variant, key, value);
    } else if (!strcmp(key, "rate")) {
        if (parse_int(L, key, value, 80, 450, "words/min", &i))
            v->rate_wpm = i;
    } else if (!strcmp(key, "pitch")) {
        if (parse_int(L, key, value, 0, 100, "", &i))
            v->pitch = i;
    } else if (!strcmp(key, "range")) {
        if (parse_int(L, key, value, 0, 100, "", &i))
            v->range = i;
    } else if (!strcmp(key, "volume")) {
        if (parse_int(L, key, value, 0, 200, "", &i))
            v->volume = i;
    } else if (!strcmp(key, "pan")) {
        if (parse_double(L, key, value, -1, 1, "", &x))
            v->pan = x;
    } else if (!strcmp(key, "gain")) {
        if (parse_double(L, key, value, -40, 12, "dB", &x))
            v->gain_db = x;
    } else if (!strcmp(key, "effect")) {
        for (int k = 0; k < RP_VFX_COUNT; k++) {
            if (!rp_strcasecmp(value, rp_voice_fx_names[k])) {
                v->fx = (rp_voice_fx)k;
                return;
            }
        }
        char hint[128] = "one of none, radio, robot, megaphone, whisper, distant, pa, helmet";
        const char *s = rp_suggest(value, rp_voice_fx_names, RP_VFX_COUNT);
        if (s)
            snprintf(hint, sizeof hint, "did you mean '%s'?", s);
        err(L, value_col(L), hint, "unknown voice effect '%s'%s", value, "");
    } else {
        unknown_key(L, key, voice_keys, sizeof voice_keys / sizeof voice_keys[0]);
    }
}

// A [render] or [voice] key given a second time in its section, after a
// good value, is an error at it; a continuation line of a value is not
// another key. Returns the key's index in keys (n: not a key of them) when
// the value is to be read.
static size_t key_once(loader *L, const char *key, const char *const *keys, size_t n)
{
    size_t k = 0;
    while (k < n && strcmp(key, keys[k]))
        k++;
    if (k < n && L->key_line[k] && !L->continued) {
        char first[32];
        snprintf(first, sizeof first, "%d", L->key_line[k]);
        err(L, col_of(L, key), "keep one of the two lines",
            "'%s' is given twice in this section (first at line %s)", key, first);
        return SIZE_MAX;
    }
    return k;
}

static void render_key(loader *L, const char *key, const char *value)
{
    size_t n = sizeof render_keys / sizeof render_keys[0], k = key_once(L, key, render_keys, n);
    size_t errors = L->n_errors;
    if (k != SIZE_MAX)
        render_value(L, key, value);
    if (k < n && L->n_errors == errors)
        L->key_line[k] = L->line;
}

static void voice_key(loader *L, rp_voice *v, const char *key, const char *value)
{
    size_t n = sizeof voice_keys / sizeof voice_keys[0], k = key_once(L, key, voice_keys, n);
    size_t errors = L->n_errors;
    if (k != SIZE_MAX)
        voice_value(L, v, key, value);
    if (k < n && L->n_errors == errors)
        L->key_line[k] = L->line;
}

static rp_voice *find_voice(rp_cast *c, const char *name)
{
    for (size_t i = 0; i < c->n_voices; i++)
        if (!rp_strcasecmp(c->voices[i].name, name))
            return &c->voices[i];
    return NULL;
}

static rp_voice *add_voice(rp_cast *c, const char *name)
{
    if (rp_grow((void **)&c->voices, &c->cap_voices, c->n_voices + 1, sizeof *c->voices))
        return NULL;
    rp_voice *v = &c->voices[c->n_voices];
    memset(v, 0, sizeof *v);
    voice_defaults(v);
    if (!(v->name = rp_strdup(name)))
        return NULL;
    c->n_voices++;
    return v;
}

static const char *trim_prefix(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    if (rp_strcasecmp(prefix, "") && !strncmp(s, prefix, n) && (s[n] == ' ' || s[n] == '\t')) {
        s += n;
        while (*s == ' ' || *s == '\t')
            s++;
        return s;
    }
    return NULL;
}

// [narrator], or [voice Narrator]: the one narrator section.
static void begin_narrator(loader *L)
{
    rp_voice *n = &L->c->narrator;
    if (n->line) {
        char first[32];
        snprintf(first, sizeof first, "%d", n->line);
        err(L, 1, "merge the two sections", "duplicate section [%s] (first at line %s)", L->section,
            first);
        L->sec = SEC_BAD;
        return;
    }
    L->sec = SEC_NARRATOR;
    L->voice = n;
    n->line = L->line;
}

static void begin_section(loader *L, const char *section)
{
    static const char *const names[] = {"render", "narrator", "voice", "sfx", "rules", "say"};
    snprintf(L->section, sizeof L->section, "%s", section);
    L->voice = NULL;
    memset(L->key_line, 0, sizeof L->key_line);
    const char *arg;
    if (!section[0]) {
        L->sec = SEC_NONE;
    } else if (!strcmp(section, "render")) {
        L->sec = SEC_RENDER;
    } else if (!strcmp(section, "narrator")) {
        begin_narrator(L);
    } else if (!strcmp(section, "rules")) {
        L->sec = SEC_RULES;
    } else if (!strcmp(section, "say")) {
        L->sec = SEC_SAY;
    } else if ((arg = trim_prefix(section, "voice"))) {
        L->sec = SEC_VOICE;
        if (strlen(arg) > RP_MAX_NAME_BYTES) {
            err(L, 2, NULL, "speaker name '%s' is longer than %s bytes", arg, "64");
            L->sec = SEC_BAD;
            return;
        }
        if (!rp_strcasecmp(arg, "narrator")) {
            begin_narrator(L);
            return;
        }
        rp_voice *v = find_voice(L->c, arg);
        if (v) {
            char prev[32];
            snprintf(prev, sizeof prev, "%d", v->line);
            err(L, 1, "merge the two sections", "duplicate section [voice %s] (first at line %s)",
                arg, prev);
            L->sec = SEC_BAD;
            return;
        }
        if (L->c->n_voices >= RP_MAX_SPEAKERS) {
            char max[24];
            snprintf(max, sizeof max, "%d", RP_MAX_SPEAKERS);
            err(L, 1, "leave the other speakers to automatic casting",
                "more than %s [voice] sections%s", max, "");
            L->sec = SEC_BAD;
            return;
        }
        if (!(v = add_voice(L->c, arg))) {
            L->nomem = 1;
            L->sec = SEC_BAD;
            return;
        }
        v->line = L->line;
        L->voice = v;
    } else if ((arg = trim_prefix(section, "sfx"))) {
        if (strlen(arg) > RP_MAX_NAME_BYTES) {
            err(L, 2, NULL, "effect name '%s' is longer than %s bytes", arg, "64");
            L->sec = SEC_BAD;
            return;
        }
        L->sec = SEC_SFX;
        snprintf(L->sfx_name, sizeof L->sfx_name, "%s", arg);
    } else {
        char word[64];
        snprintf(word, sizeof word, "%.*s", (int)strcspn(section, " \t"), section);
        const char *s = rp_suggest(word, names, sizeof names / sizeof names[0]);
        char hint[200];
        if (s)
            snprintf(hint, sizeof hint, "did you mean '%s'?", s);
        else
            snprintf(hint, sizeof hint, "sections are [render], [narrator], [voice NAME], "
                                        "[sfx NAME], [rules] and [say]");
        err(L, 1, hint, "unknown section [%s]%s", section, "");
        L->sec = SEC_BAD;
    }
}

static int add_setting(loader *L, const char *key, const char *value)
{
    rp_cast *c = L->c;
    if (!key[0]) {
        err(L, 1, "write: key = value, e.g. gain = -3", "[sfx %s] setting needs a key%s",
            L->sfx_name, "");
        return 1;
    }
    if (rp_grow((void **)&c->sfx, &c->cap_sfx, c->n_sfx + 1, sizeof *c->sfx))
        return 0;
    rp_sfx_setting *s = &c->sfx[c->n_sfx];
    s->preset = rp_strdup(L->sfx_name);
    s->key = rp_strdup(key);
    s->value = rp_strdup(value);
    s->line = L->line;
    s->col = col_of(L, key);
    if (!s->preset || !s->key || !s->value) {
        free(s->preset), free(s->key), free(s->value);
        return 0;
    }
    c->n_sfx++;
    return 1;
}

static rp_status push_rule(rp_cast *c, const char *phrase, const char *preset, int line)
{
    if (rp_grow((void **)&c->rules, &c->cap_rules, c->n_rules + 1, sizeof *c->rules))
        return RP_ERR_NOMEM;
    rp_rule *r = &c->rules[c->n_rules];
    r->phrase = rp_strdup(phrase);
    r->preset = rp_strdup(preset);
    r->line = line;
    if (!r->phrase || !r->preset) {
        free(r->phrase), free(r->preset);
        return RP_ERR_NOMEM;
    }
    c->n_rules++;
    return RP_OK;
}

static int add_rule(loader *L, const char *phrase, const char *preset)
{
    if (!phrase[0] || !preset[0]) {
        err(L, 1, "write: sound words = preset", "rule needs a phrase and a preset%s%s", "", "");
        return 1;
    }
    if (L->c->n_rules >= RP_MAX_RULES) {
        char max[24];
        snprintf(max, sizeof max, "%d", RP_MAX_RULES);
        err(L, 1, NULL, "more than %s rules in [rules]%s", max, "");
        return 1;
    }
    return push_rule(L->c, phrase, preset, L->line) == RP_OK;
}

// ---- [say] -----------------------------------------------------------------

// Byte offset of the first problem with the [[ ]] of a respelling, or -1:
// phonemes do not nest, every [[ is closed, and none is empty (espeak-ng
// would read a stray bracket aloud or swallow the text after it).
static long bad_brackets(const char *v, const char **why)
{
    const char *open = NULL;
    for (const char *p = v; *p; p++) {
        if (p[0] == '[' && p[1] == '[') {
            if (open) {
                *why = "phonemes in [[ ]] cannot nest";
                return p - v;
            }
            open = p++;
        } else if (p[0] == ']' && p[1] == ']') {
            if (!open) {
                *why = "']]' without '[['";
                return p - v;
            }
            if (p == open + 2) {
                *why = "empty phonemes '[[]]'";
                return open - v;
            }
            open = NULL;
            p++;
        }
    }
    *why = "'[[' is not closed with ']]'";
    return open ? open - v : -1;
}

static int add_say(loader *L, const char *key, const char *value)
{
    size_t pos = 0, a, b, len = strlen(key);
    if (!rp_word_next(key, len, &pos, &a, &b) || a != 0 || b != len) {
        err(L, col_of(L, key), "one word per line: Name = respelling",
            "[say] key '%s' is not one word%s", key, "");
        return 1;
    }
    if (!value[0]) {
        err(L, value_col(L), "write Word = respelling, or Word = [[phonemes]]",
            "'%s' has no respelling%s", key, "");
        return 1;
    }
    const char *why;
    long at = bad_brackets(value, &why);
    if (at >= 0) {
        err(L, value_col(L) + (int)rp_utf8_count(value, (size_t)at),
            "phonemes are written [[...]]; 'radioplay say WORD' prints them",
            "%s in the respelling of '%s'", why, key);
        return 1;
    }
    rp_cast *c = L->c;
    if (c->n_say >= RP_MAX_SAY) {
        char max[24];
        snprintf(max, sizeof max, "%d", RP_MAX_SAY);
        err(L, 1, NULL, "more than %s respellings in [say]%s", max, "");
        return 1;
    }
    // "Ksena" and "ksena" would both claim the capitalized word.
    for (size_t i = 0; i < c->n_say; i++) {
        if (rp_word_same_letters(c->say[i].word, key, len)) {
            char first[32];
            snprintf(first, sizeof first, "%d", c->say[i].line);
            err(L, col_of(L, key), "keep one of the two lines",
                "duplicate [say] entry for '%s' (first at line %s)", key, first);
            return 1;
        }
    }
    if (rp_grow((void **)&c->say, &c->cap_say, c->n_say + 1, sizeof *c->say))
        return 0;
    rp_respelling *r = &c->say[c->n_say];
    r->word = rp_strdup(key);
    r->say = rp_strdup(value);
    r->line = L->line;
    if (!r->word || !r->say) {
        free(r->word), free(r->say);
        return 0;
    }
    c->n_say++;
    return 1;
}

// inih's search for the end of a name or value: the first of chars, or a
// ';' after a space (an inline comment), or the end.
static const char *find_chars_or_comment(const char *s, const char *chars)
{
    int was_space = 0;
    while (*s && (!chars || !strchr(chars, *s)) && !(was_space && *s == ';')) {
        was_space = isspace((unsigned char)*s);
        s++;
    }
    return s;
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
    loader *L = user;
    (void)section;  // scan_line has begun the section already (inih keeps only 50 bytes of it)
    int ok = 1;
    // inih drops a key line's inline comment but keeps a continuation
    // line's: drop it here too, as the line is read back once written.
    char cut[RP_MAX_CAST_LINE_BYTES + 1];
    if (L->continued) {
        snprintf(cut, sizeof cut, "%s", value);
        char *end = (char *)find_chars_or_comment(cut, NULL);
        while (end > cut && isspace((unsigned char)end[-1]))
            end--;
        *end = '\0';
        value = cut;
    }
    // Lines kept as text are written back as "key = value": that must fit
    // the limit too, or the sheet `radioplay cast` prints would not load.
    int text = L->sec == SEC_SFX || L->sec == SEC_RULES || L->sec == SEC_SAY;
    if (text && strlen(key) + 3 + strlen(value) > RP_MAX_CAST_LINE_BYTES) {
        char n[24];
        snprintf(n, sizeof n, "%d", RP_MAX_CAST_LINE_BYTES);
        err(L, 1, "split a long [say] or [rules] line in two",
            "line is longer than %s bytes written as '%s = ...'", n, key);
        return 1;
    }
    switch (L->sec) {
    case SEC_NONE:
        err(L, 1, "put keys inside a section such as [render]",
            "key '%s' is outside any section%s", key, "");
        break;
    case SEC_BAD:
        break;
    case SEC_RENDER:
        render_key(L, key, value);
        break;
    case SEC_NARRATOR:
    case SEC_VOICE:
        if (L->voice)
            voice_key(L, L->voice, key, value);
        break;
    case SEC_SFX:
        ok = add_setting(L, key, value);
        break;
    case SEC_RULES:
        ok = add_rule(L, key, value);
        break;
    case SEC_SAY:
        ok = add_say(L, key, value);
        break;
    }
    if (!ok)
        L->nomem = 1;
    return ok;
}

// inih hands a section to the handler only with its first key, and reports
// only the first malformed line. So the reader classifies each line the way
// inih will (ini.c: rstrip, lskip, comments, continuation lines, inline ';'
// comments): headers begin their section on their own line, even with no
// keys, and every malformed line gets its own located diagnostic.
static void scan_line(loader *L, const char *str)
{
    const char *p = str;
    if (L->line == 1 && !strncmp(p, "\xEF\xBB\xBF", 3))
        p += 3;
    const char *bol = p;
    while (*p && isspace((unsigned char)*p))
        p++;
    L->continued = *p && *p != ';' && *p != '#' && p > bol && L->key_seen;
    if (!*p || *p == ';' || *p == '#' || L->continued)
        return;  // blank, a comment, or more of the value before
    int col = (int)rp_utf8_count(bol, (size_t)(p - bol)) + 1;
    if (*p == '[') {
        const char *q = find_chars_or_comment(p + 1, "]");
        if (*q != ']') {
            err(L, col, "close the section name with ']'", "unclosed section header%s%s", "", "");
            return;
        }
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(q - p - 1), p + 1);
        L->key_seen = 0;
        begin_section(L, name);
        return;
    }
    const char *q = find_chars_or_comment(p, "=:");
    if (*q != '=' && *q != ':') {
        err(L, col, "write key = value", "cannot parse this line of the cast sheet%s%s", "", "");
        return;
    }
    L->key_seen = 1;
}

// Reports the invalid UTF-8 bytes of the sheet (the first MAX_UTF8_REPORTS
// of them) where they stand; 1 if there are any.
static int bad_utf8(const char *file, const char *bytes, size_t len, rp_diags *d)
{
    int line = 1, col = 1, bad = 0;
    size_t i = len >= 3 && !memcmp(bytes, "\xEF\xBB\xBF", 3) ? 3 : 0;  // columns count after it
    for (; i < len; col++) {
        int l;
        uint32_t c = rp_utf8_decode(bytes + i, len - i, &l);
        if (c == 0xFFFD && l == 1 && bad++ < MAX_UTF8_REPORTS)
            rp_diag_add(d, RP_DIAG_ERROR, file, line, col, "cast", "save the cast sheet as UTF-8",
                        "invalid UTF-8 byte 0x%02X", (unsigned)(unsigned char)bytes[i]);
        if (c == '\n')
            line++, col = 0;
        i += (size_t)l;
    }
    return bad > 0;
}

rp_status rp_cast_load(rp_cast *c, const char *file, const char *bytes, size_t len, rp_diags *d)
{
    if (len > RP_MAX_CAST_BYTES) {
        rp_diag_add(d, RP_DIAG_ERROR, file, 0, 0, "cast", NULL, "cast sheet is larger than %u bytes",
                    RP_MAX_CAST_BYTES);
        return RP_ERR_LIMIT;
    }
    const char *nul = memchr(bytes, '\0', len);
    if (nul) {
        int line = 1;
        const char *bol = bytes;
        for (const char *p = bytes; p < nul; p++)
            if (*p == '\n')
                line++, bol = p + 1;
        rp_diag_add(d, RP_DIAG_ERROR, file, line, (int)rp_utf8_count(bol, (size_t)(nul - bol)) + 1,
                    "cast", "a cast sheet is UTF-8 text", "binary data (NUL byte)");
        return RP_ERR_INPUT;
    }
    if (bad_utf8(file, bytes, len, d))
        return RP_ERR_INPUT;
    free(c->file);
    c->file = rp_strdup(file);
    loader L = {.c = c, .d = d, .pos = bytes, .end = bytes + len, .sec = SEC_NONE};
    int rc = ini_parse_stream(read_line, &L, handler, &L);
    if (rc < 0 || L.nomem)
        return RP_ERR_NOMEM;
    if (rc > 0 && !L.n_errors) {
        // A line inih refused that scan_line did not foresee.
        rp_diag_add(d, RP_DIAG_ERROR, file, rc, 1, "cast", "write key = value",
                    "cannot parse this line of the cast sheet");
        L.n_errors++;
    }
    return L.n_errors ? RP_ERR_INPUT : RP_OK;
}

// ---- automatic casting -----------------------------------------------------

typedef struct {
    const char *voice, *variant;
    rp_gender gender;
} palette_entry;

// Distinct English voices: espeak-ng accents times its male/female variants.
static const palette_entry palette[] = {
    {"en-us", "m1", RP_GENDER_MALE},          {"en-gb", "f2", RP_GENDER_FEMALE},
    {"en-gb-scotland", "m2", RP_GENDER_MALE}, {"en-us", "f1", RP_GENDER_FEMALE},
    {"en-gb-x-rp", "m4", RP_GENDER_MALE},     {"en-us", "f3", RP_GENDER_FEMALE},
    {"en-029", "m7", RP_GENDER_MALE},         {"en-gb-x-rp", "f4", RP_GENDER_FEMALE},
    {"en-us", "m6", RP_GENDER_MALE},          {"en-gb-scotland", "f5", RP_GENDER_FEMALE},
    {"en-gb-x-gbclan", "m5", RP_GENDER_MALE}, {"en-029", "f2", RP_GENDER_FEMALE},
    {"en-gb", "m1", RP_GENDER_MALE},          {"en-gb-x-gbclan", "f1", RP_GENDER_FEMALE},
    {"en-gb-x-gbcwmd", "m2", RP_GENDER_MALE}, {"en-gb-x-gbcwmd", "f3", RP_GENDER_FEMALE},
};
enum { N_PALETTE = sizeof palette / sizeof palette[0] };

static uint64_t name_hash(const char *name)
{
    uint64_t h = RP_HASH_INIT;
    for (const char *p = name; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch >= 'A' && ch <= 'Z')
            ch += 32;
        h = rp_hash64(&ch, 1, h);
    }
    return h;
}

static int same_sound(const rp_voice *a, const char *voice, const char *variant, int pitch)
{
    // The palette's pitches are 6 apart: that is a different voice. A pitch
    // below 0 asks whether the voice and variant are used at any pitch.
    return !strcmp(a->voice, voice) && !strcmp(a->variant, variant) &&
           (pitch < 0 || abs(a->pitch - pitch) < 6);
}

static int voice_taken(const rp_cast *c, const char *voice, const char *variant, int pitch)
{
    if (same_sound(&c->narrator, voice, variant, pitch))
        return 1;
    for (size_t i = 0; i < c->n_voices; i++)
        if (same_sound(&c->voices[i], voice, variant, pitch))
            return 1;
    return 0;
}

// Another speaker already stands at this place in the stereo field.
static int pan_taken(const rp_cast *c, const rp_voice *self, double pan)
{
    for (size_t i = 0; i < c->n_voices; i++)
        if (&c->voices[i] != self && c->voices[i].voice[0] && fabs(c->voices[i].pan - pan) < 0.05)
            return 1;
    return 0;
}

static rp_gender gender_of(const rp_script *s, const char *name)
{
    for (size_t i = 0; i < s->n_chars; i++)
        if (!rp_strcasecmp(s->chars[i].name, name))
            return s->chars[i].gender;
    return RP_GENDER_UNKNOWN;
}

static void auto_voice(rp_cast *c, rp_voice *v, rp_gender g)
{
    uint64_t h = name_hash(v->name);
    if (g == RP_GENDER_UNKNOWN)
        g = (h >> 40) & 1 ? RP_GENDER_FEMALE : RP_GENDER_MALE;
    static const int pitches[] = {50, 38, 62, 44, 56};
    size_t start = (size_t)(h % N_PALETTE);
    // Round 0 wants a voice and variant nobody uses yet; later rounds settle
    // for one at a pitch nobody uses.
    for (size_t round = 0; round < 6; round++) {
        int pitch = pitches[(h / N_PALETTE + (round ? round - 1 : 0)) % 5];
        for (size_t k = 0; k < N_PALETTE; k++) {
            const palette_entry *e = &palette[(start + k) % N_PALETTE];
            if (e->gender != g || voice_taken(c, e->voice, e->variant, round ? pitch : -1))
                continue;
            snprintf(v->voice, sizeof v->voice, "%s", e->voice);
            snprintf(v->variant, sizeof v->variant, "%s", e->variant);
            v->pitch = pitch;
            goto placed;
        }
    }
    // More speakers than distinct voices: keep the hashed choice.
    snprintf(v->voice, sizeof v->voice, "%s", palette[start].voice);
    snprintf(v->variant, sizeof v->variant, "%s", palette[start].variant);
placed:
    v->rate_wpm = RP_DEFAULT_WPM - 10 + (int)((h >> 8) % 21);
    // Spread speakers across the field, never dead centre (the narrator's).
    static const double pans[] = {-0.5, 0.5, -0.3, 0.3, -0.65, 0.65, -0.15, 0.15};
    size_t p0 = (size_t)((h >> 16) % 8), p = p0;
    while (pan_taken(c, v, pans[p]) && (p = (p + 1) % 8) != p0)
        ;
    v->pan = pans[p];
    v->automatic = 1;
}

typedef struct {
    uint64_t hash;
    rp_voice *v;
} pending_voice;

static int cmp_pending(const void *a, const void *b)
{
    const pending_voice *x = a, *y = b;
    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return rp_strcasecmp(x->v->name, y->v->name);
}

// The built-in sound rules: narration words that cue an effect, for
// chapters with no annotation. A sheet's own rule for the same phrase wins;
// "defaults = off" in [rules] leaves them all out.
static const char *const default_rules[][2] = {
    {"distant thunder", "distant_thunder"},
    {"thunder", "thunder"},
    {"slam", "pod_impact"},
    {"pod hit", "pod_impact"},
    {"pods hit", "pod_impact"},
    {"crash", "pod_impact"},
    {"reentry", "reentry"},
    {"re-entry", "reentry"},
    {"drone", "drone"},
    {"detonate", "explosion"},
    {"explosion", "explosion"},
    {"explode", "explosion"},
    {"blast", "explosion"},
    {"plasma", "plasma_shot"},
    {"opened fire", "plasma_shot"},
    {"rail", "rail_shot"},
    {"returned fire", "rail_shot"},
    {"gunfire", "distant_battle"},
    {"distant battle", "distant_battle"},
    {"steam", "steam_hiss"},
    {"footsteps", "metal_footsteps"},
    {"clank", "metal_footsteps"},
    {"marched", "metal_footsteps"},
    {"sensors screamed", "alarm"},
    {"alarm", "alarm"},
    {"siren", "alarm"},
    {"klaxon", "alarm"},
    {"scanner", "scanner_beep"},
    {"comms", "comms_static"},
    {"radio crackled", "comms_static"},
    {"shield hummed", "shield_hum"},
    {"rain fell", "rain"},
    {"rain poured", "rain"},
    {"raindrops", "rain"},
    {"downpour", "rain"},
    {"wind howled", "wind"},
    {"gust", "wind"},
    {"burning", "fire"},
    {"flames", "fire"},
    {"lit a fire", "fire"},
    {"ruins", "city_ruins"},
};

static int has_rule(const rp_cast *c, const char *phrase)
{
    for (size_t i = 0; i < c->n_rules; i++)
        if (!rp_strcasecmp(c->rules[i].phrase, phrase))
            return 1;
    return 0;
}

static rp_status add_default_rules(rp_cast *c)
{
    for (size_t i = 0; i < c->n_rules; i++)
        if (!rp_strcasecmp(c->rules[i].phrase, "defaults") &&
            (!rp_strcasecmp(c->rules[i].preset, "off") ||
             !rp_strcasecmp(c->rules[i].preset, "none")))
            return RP_OK;
    for (size_t i = 0; i < sizeof default_rules / sizeof default_rules[0]; i++)
        if (!has_rule(c, default_rules[i][0]) &&
            push_rule(c, default_rules[i][0], default_rules[i][1], 0))
            return RP_ERR_NOMEM;
    return RP_OK;
}

// Voice effects read from the prose: a word in a paragraph's narration that
// names the channel a voice comes through ("a voice crackled over Ksena's
// comms", "its voice a recorded loop") gives that paragraph's quotes the
// effect. A speaker heard that way in at least half of their quotes is cast
// with it; the cast sheet shows the choice and can undo it.
static const struct {
    const char *word;
    rp_voice_fx fx;
} fx_words[] = {
    {"comms", RP_VFX_RADIO},        {"comm", RP_VFX_RADIO},         {"radio", RP_VFX_RADIO},
    {"crackled", RP_VFX_RADIO},     {"headset", RP_VFX_RADIO},      {"transmitter", RP_VFX_RADIO},
    {"intercom", RP_VFX_RADIO},     {"earpiece", RP_VFX_RADIO},     {"walkie", RP_VFX_RADIO},
    {"recorded", RP_VFX_ROBOT},     {"synthesized", RP_VFX_ROBOT},  {"loudspeaker", RP_VFX_PA},
    {"loudspeakers", RP_VFX_PA},    {"tannoy", RP_VFX_PA},          {"megaphone", RP_VFX_MEGAPHONE},
    {"bullhorn", RP_VFX_MEGAPHONE},
};

static rp_voice_fx word_fx(const char *w, size_t n)
{
    char low[32];
    if (n >= sizeof low)
        return RP_VFX_NONE;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)w[i]);
    low[n] = '\0';
    for (size_t i = 0; i < sizeof fx_words / sizeof fx_words[0]; i++)
        if (!strcmp(low, fx_words[i].word))
            return fx_words[i].fx;
    return RP_VFX_NONE;
}

// The effect a paragraph's narration names, or none.
static rp_voice_fx paragraph_fx(const rp_block *b)
{
    for (size_t r = 0; r < b->n_runs; r++) {
        const char *t = b->runs[r].text;
        if (b->runs[r].kind != RP_RUN_NARRATION || !t)
            continue;
        for (const char *p = t; *p;) {
            while (*p && !isalpha((unsigned char)*p))
                p++;
            const char *w = p;
            while (isalpha((unsigned char)*p))
                p++;
            rp_voice_fx fx = word_fx(w, (size_t)(p - w));
            if (fx != RP_VFX_NONE)
                return fx;
        }
    }
    return RP_VFX_NONE;
}

static void auto_effect(rp_voice *v, const rp_script *s)
{
    size_t quotes = 0, by_fx[RP_VFX_COUNT] = {0};
    for (size_t i = 0; i < s->n_blocks; i++) {
        const rp_block *b = &s->blocks[i];
        rp_voice_fx fx = RP_VFX_NONE;
        int looked = 0;
        for (size_t r = 0; r < b->n_runs; r++) {
            const rp_run *q = &b->runs[r];
            if (q->kind != RP_RUN_QUOTE || !q->speaker || rp_strcasecmp(q->speaker, v->name))
                continue;
            if (!looked) {
                fx = paragraph_fx(b);
                looked = 1;
            }
            quotes++;
            by_fx[fx]++;
        }
    }
    rp_voice_fx best = RP_VFX_NONE;
    for (int f = 1; f < RP_VFX_COUNT; f++)
        if (by_fx[f] > by_fx[best] || (best == RP_VFX_NONE && by_fx[f] > 0))
            best = (rp_voice_fx)f;
    if (best != RP_VFX_NONE && 2 * by_fx[best] >= quotes)
        v->fx = best;
}

rp_status rp_cast_assign(rp_cast *c, const rp_script *s)
{
    if (add_default_rules(c))
        return RP_ERR_NOMEM;
    size_t first = c->n_voices;
    for (size_t i = 0; i < s->n_chars; i++) {
        const char *name = s->chars[i].name;
        if (!name || find_voice(c, name) || !rp_strcasecmp(name, "narrator"))
            continue;
        if (!add_voice(c, name))
            return RP_ERR_NOMEM;
    }
    // When two names want the same voice, the first served keeps it. Serving
    // names in hash order, not in order of appearance, makes the outcome
    // depend only on who is in the chapter, not on who speaks first. (Voices
    // not yet served have no variant, so they block no palette entry.)
    size_t n = c->n_voices - first;
    pending_voice *todo = rp_calloc(n, sizeof *todo);
    if (!todo)
        return RP_ERR_NOMEM;
    for (size_t k = 0; k < n; k++)
        todo[k] = (pending_voice){name_hash(c->voices[first + k].name), &c->voices[first + k]};
    qsort(todo, n, sizeof *todo, cmp_pending);
    for (size_t k = 0; k < n; k++)
        auto_voice(c, todo[k].v, gender_of(s, todo[k].v->name));
    for (size_t k = 0; k < n; k++)
        auto_effect(todo[k].v, s);
    free(todo);
    return RP_OK;
}

const rp_voice *rp_cast_voice(const rp_cast *c, const char *speaker)
{
    if (!speaker || !rp_strcasecmp(speaker, "narrator"))
        return &c->narrator;
    for (size_t i = 0; i < c->n_voices; i++)
        if (!rp_strcasecmp(c->voices[i].name, speaker))
            return &c->voices[i];
    return NULL;
}

// ---- writing ---------------------------------------------------------------

static void write_voice(rp_strbuf *b, const rp_voice *v)
{
    rp_strbuf_printf(b, "voice = %s\nvariant = %s\nrate = %d\npitch = %d\nrange = %d\n",
                     v->voice, v->variant[0] ? v->variant : "none", v->rate_wpm, v->pitch,
                     v->range);
    rp_strbuf_printf(b, "volume = %d\npan = %.2f\ngain = %.1f\neffect = %s\n", v->volume, v->pan,
                     v->gain_db, rp_voice_fx_names[v->fx]);
}

// "key = value", as inih reads it back: a value that begins with ';' keeps
// it next to the '=' (after a space it would start a comment).
static void write_pair(rp_strbuf *b, const char *key, const char *value)
{
    rp_strbuf_printf(b, "%s =%s%s\n", key, value[0] == ';' ? "" : " ", value);
}

void rp_cast_write(const rp_cast *c, rp_strbuf *b)
{
    const rp_render_config *r = &c->render;
    rp_strbuf_puts(b, "# radioplay cast sheet: edit and render again.\n"
                      "# Times in seconds, gains in dB, pan from -1 (left) to 1 (right).\n\n");
    rp_strbuf_printf(b, "[render]\nrate = %d\nchannels = %d\nseed = %llu\n", r->rate_hz,
                     r->channels, (unsigned long long)r->seed);
    rp_strbuf_printf(b, "pause_sentence = %.3g\npause_paragraph = %.3g\npause_speaker = %.3g\n",
                     r->pause_sentence_s, r->pause_paragraph_s, r->pause_speaker_s);
    rp_strbuf_printf(b, "pause_heading = %.3g\npause_scene = %.3g\nlead_in = %.3g\ntail = %.3g\n",
                     r->pause_heading_s, r->pause_scene_s, r->lead_in_s, r->tail_s);
    rp_strbuf_printf(b, "speech_gain = %.3g\nsfx_gain = %.3g\nbed_gain = %.3g\nduck = %.3g\n",
                     r->speech_gain_db, r->sfx_gain_db, r->bed_gain_db, r->duck_db);
    rp_strbuf_printf(b, "clearance = %.3g\n", r->clearance_db);
    if (r->master.norm == RP_NORM_LUFS)
        rp_strbuf_printf(b, "loudness = %.3g\n", rp_render_loudness_target(r));
    else
        rp_strbuf_printf(b, "loudness = %s\n", r->master.norm == RP_NORM_ACX ? "acx" : "off");
    rp_strbuf_printf(b, "ceiling = %.3g\n", r->master.ceiling_dbtp);
    rp_strbuf_printf(b, "bits = %s\n", r->bits == 32 ? "float" : r->bits == 24 ? "24" : "16");
    rp_strbuf_printf(b, "headings = %s\n\n[narrator]\n", r->announce_headings ? "yes" : "no");
    write_voice(b, &c->narrator);
    for (size_t i = 0; i < c->n_voices; i++) {
        const rp_voice *v = &c->voices[i];
        rp_strbuf_printf(b, "\n%s[voice %s]\n", v->automatic ? "# chosen automatically\n" : "",
                         v->name);
        write_voice(b, v);
    }
    const char *open = NULL;
    for (size_t i = 0; i < c->n_sfx; i++) {
        const rp_sfx_setting *s = &c->sfx[i];
        if (!open || strcmp(open, s->preset))
            rp_strbuf_printf(b, "\n[sfx %s]\n", s->preset);
        open = s->preset;
        write_pair(b, s->key, s->value);
    }
    if (c->n_rules) {
        rp_strbuf_puts(b, "\n[rules]\n");
        for (size_t i = 0; i < c->n_rules; i++)
            write_pair(b, c->rules[i].phrase, c->rules[i].preset);
    }
    if (c->n_say) {
        rp_strbuf_puts(b, "\n[say]\n");
        for (size_t i = 0; i < c->n_say; i++)
            write_pair(b, c->say[i].word, c->say[i].say);
    }
}
