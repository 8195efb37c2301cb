// SPDX-License-Identifier: GPL-3.0-or-later
// rp_cue: sound words in the narration become effect cues. Each [rules] line
// of the cast sheet maps a phrase to an effect:
//
//     thunder         = thunder           one-shot on the word "thunder"
//     rain fell       = rain              a bed from here to the scene break
//     the rain eased  = stop rain         ends a bed
//     incoming        = alarm dialogue    may fire inside quotes too
//     thunder         = none              switches a built-in rule off
//
// A phrase matches whole words, case ignored, with common endings: "slam"
// matches "slams", "slammed", "slamming"; "detonate" matches "detonated".
// The longest phrase matching at a word wins. Limits keep a sound from
// firing on every repetition: one effect fires at most once per
// RP_CUE_SPACING_WORDS words, and a paragraph holds at most
// RP_CUE_MAX_PER_PARAGRAPH cues, explicit ones included. A word quoted in
// the narration (he called it “thunder”) is mentioned, not heard: no cue
// fires in it. The chapter's own cues keep a rule for the same effect quiet
// within that spacing on either side, so a cue written just after its word
// is not doubled, and `annotate` is idempotent: the cues it writes out
// suppress the rules that made them.
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_config.h"
#include "rp_cue.h"

#define PHRASE_WORDS 6
#define WORD_BYTES 32
// A cue goes before its word's token when that starts this close before the
// word (rp_cue_split): finding it stays cheap in a line of one long token.
#define MAX_TOKEN_BYTES 64

typedef enum { ACT_SFX, ACT_BED, ACT_STOP } action;

typedef struct {
    char w[PHRASE_WORDS][WORD_BYTES];
    size_t n;
    action act;
    const char *name;  // effect or bed name, into the cast rule
    int dialogue;      // may fire inside quotes
    size_t order;      // position in the sheet: earlier wins a tie
} rule;

typedef struct {
    const char *name;
    size_t at;         // word count when it last fired
} fired;

typedef struct {
    rule *rules;
    size_t n_rules;
    fired *fired;
    size_t n_fired, cap_fired;
    fired *written;                 // the chapter's own {sfx} and {bed} cues
    size_t n_written, cap_written;
    const char *beds[RP_MAX_BEDS];  // playing
    int bed_auto[RP_MAX_BEDS];      // started by a rule: stopped at the scene break
    size_t n_beds;
    size_t words;                   // words of text seen so far
    size_t n_cues;                  // the chapter's own and those fired, at most RP_MAX_CUES
    const char *chapter;            // for the error when one more would fire
    rp_diags *d;
    int over;                       // that error was reported
    int nomem;
} state;

// ---- words ------------------------------------------------------------------------

// 1 when the text before byte a ends in a quote mark that the parser wrote
// around a word quoted (“ ”): its source may have spaces inside the marks.
static int after_quote_mark(const char *text, size_t a)
{
    return a >= 3 && !memcmp(text + a - 3, "\xE2\x80", 2) &&
           (text[a - 1] == '\x9C' || text[a - 1] == '\x9D');
}

size_t rp_cue_split(const char *text, size_t a, size_t scrap)
{
    size_t t = a;
    while (t > 0 && a - t < MAX_TOKEN_BYTES && text[t - 1] != ' ' && !after_quote_mark(text, t))
        t--;
    if (t > 0 && text[t - 1] != ' ' && !after_quote_mark(text, t))
        t = a;  // a longer token: before the word itself
    return t <= scrap ? 0 : t;
}

static void lower_copy(char *out, const char *s, size_t n)
{
    if (n >= WORD_BYTES)
        n = WORD_BYTES - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[n] = '\0';
}

// Does text word t match phrase word w, allowing the common endings?
static int word_matches(const char *t, const char *w)
{
    static const char *const endings[] = {"", "s", "es", "ed", "d", "ing", "er", "ers", NULL};
    size_t n = strlen(w);
    if (strncmp(t, w, n) != 0) {
        // "detonate" -> "detonating"
        return n > 3 && w[n - 1] == 'e' && strncmp(t, w, n - 1) == 0 &&
               strcmp(t + n - 1, "ing") == 0;
    }
    const char *rest = t + n;
    if (rest[0] == '-')
        return 1;  // "rail" -> "rail-rounds"
    if (n > 0 && rest[0] == w[n - 1] && rest[0] != 'e')
        rest++;  // "slam" -> "slammed", "slamming"
    for (size_t k = 0; endings[k]; k++)
        if (strcmp(rest, endings[k]) == 0 && (rest == t + n || endings[k][0]))
            return 1;
    return 0;
}

// ---- rules ------------------------------------------------------------------------

static int rule_error(rp_diags *d, const char *cast_path, const rp_rule *r, const char *hint,
                      const char *what, const char *name)
{
    rp_diag_add(d, RP_DIAG_ERROR, r->line ? cast_path : NULL, r->line, 1, "cue", hint,
                "[rules] %s: %s '%s'", r->phrase, what, name);
    return 1;
}

// Reads one cast rule into *out. 0: usable; 1: skipped (none, or a built-in
// rule whose effect is missing); -1: an error was reported.
static int read_rule(const rp_rule *r, size_t order, const rp_sfx_library *lib,
                     const char *cast_path, rule *out, rp_diags *d)
{
    memset(out, 0, sizeof *out);
    out->order = order;
    if (!rp_strcasecmp(r->phrase, "defaults"))
        return 1;  // "defaults = off", read by cast.c
    size_t pos = 0, a, b, len = strlen(r->phrase);
    while (rp_word_next(r->phrase, len, &pos, &a, &b)) {
        if (out->n == PHRASE_WORDS) {
            rule_error(d, cast_path, r, "use a shorter phrase", "more than 6 words in",
                       r->phrase);
            return -1;
        }
        lower_copy(out->w[out->n++], r->phrase + a, b - a);
    }
    // The value: NAME [dialogue] | stop NAME | none
    char v[3][RP_MAX_NAME_BYTES + 1];
    size_t nv = 0;
    pos = 0;
    while (nv < 3 && r->preset[pos]) {
        while (r->preset[pos] == ' ' || r->preset[pos] == '\t')
            pos++;
        size_t s = pos;
        while (r->preset[pos] && r->preset[pos] != ' ' && r->preset[pos] != '\t')
            pos++;
        if (pos > s)
            snprintf(v[nv++], sizeof v[0], "%.*s", (int)(pos - s), r->preset + s);
    }
    if (!out->n || !nv) {
        rule_error(d, cast_path, r, "write: sound words = effect", "no", out->n ? "effect" : "words");
        return -1;
    }
    if (!rp_strcasecmp(v[0], "none"))
        return 1;
    const char *name = v[0];
    if (!rp_strcasecmp(v[0], "stop")) {
        if (nv < 2) {
            rule_error(d, cast_path, r, "write: words = stop BED", "no bed after", "stop");
            return -1;
        }
        out->act = ACT_STOP;
        name = v[1];
    } else if (nv > 1 && !rp_strcasecmp(v[1], "dialogue")) {
        out->dialogue = 1;
    } else if (nv > 1) {
        rule_error(d, cast_path, r, "write: words = effect [dialogue]", "unexpected", v[1]);
        return -1;
    }
    const rp_sfx_preset *p = rp_sfx_library_find(lib, name);
    if (!p) {
        if (!r->line)
            return 1;  // a built-in rule for an effect the user removed
        char hint[160];
        rp_sfx_library_hint(lib, name, -1, hint, sizeof hint);
        rule_error(d, cast_path, r, hint, "unknown effect", name);
        return -1;
    }
    if (out->act != ACT_STOP)
        out->act = rp_sfx_preset_is_bed(p) ? ACT_BED : ACT_SFX;
    else if (!rp_sfx_preset_is_bed(p)) {
        rule_error(d, cast_path, r, "only beds are stopped", "not a bed:", name);
        return -1;
    }
    out->name = rp_sfx_preset_name(p);
    return 0;
}

// Longest phrase first; the sheet's order breaks ties.
static int cmp_rule(const void *a, const void *b)
{
    const rule *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

// ---- state --------------------------------------------------------------------------

static fired *find_fired(state *S, const char *name)
{
    for (size_t i = 0; i < S->n_fired; i++)
        if (!strcmp(S->fired[i].name, name))
            return &S->fired[i];
    return NULL;
}

static void mark_fired(state *S, const char *name)
{
    fired *f = find_fired(S, name);
    if (!f) {
        if (rp_grow((void **)&S->fired, &S->cap_fired, S->n_fired + 1, sizeof *S->fired)) {
            S->nomem = 1;
            return;
        }
        f = &S->fired[S->n_fired++];
        f->name = name;
    }
    f->at = S->words;
}

static int bed_index(const state *S, const char *name)
{
    for (size_t i = 0; i < S->n_beds; i++)
        if (!strcmp(S->beds[i], name))
            return (int)i;
    return -1;
}

static void bed_on(state *S, const char *name, int automatic)
{
    if (bed_index(S, name) < 0 && S->n_beds < RP_MAX_BEDS) {
        S->bed_auto[S->n_beds] = automatic;
        S->beds[S->n_beds++] = name;
    }
}

static void bed_off(state *S, const char *name)
{
    int i = bed_index(S, name);
    if (i >= 0) {
        S->n_beds--;
        S->beds[i] = S->beds[S->n_beds];
        S->bed_auto[i] = S->bed_auto[S->n_beds];
    }
}

// A bed cue of the chapter: what plays (its spacing is written_near's).
static void note_directive(state *S, const rp_directive *dir)
{
    if (!dir->name)
        return;
    if (dir->kind == RP_DIR_BED)
        bed_on(S, dir->name, 0);
    else if (dir->kind == RP_DIR_STOP)
        bed_off(S, dir->name);
}

// Is one of the chapter's own cues for name within the spacing, before or
// after the word? A cue written just after its sound word ("a drone {sfx
// drone}began") is that word's cue.
static int written_near(const state *S, const char *name)
{
    for (size_t i = 0; i < S->n_written; i++)
        if (S->written[i].at + RP_CUE_SPACING_WORDS > S->words &&
            S->written[i].at < S->words + RP_CUE_SPACING_WORDS && !strcmp(S->written[i].name, name))
            return 1;
    return 0;
}

// Would rule r fire now? Updates the state when it does.
static int may_fire(state *S, const rule *r, int in_quote, int *per_para)
{
    if ((in_quote && !r->dialogue) || *per_para >= RP_CUE_MAX_PER_PARAGRAPH)
        return 0;
    if (r->act == ACT_STOP) {
        if (bed_index(S, r->name) < 0)
            return 0;
        bed_off(S, r->name);
    } else {
        fired *f = find_fired(S, r->name);
        if ((f && S->words - f->at < RP_CUE_SPACING_WORDS) || written_near(S, r->name))
            return 0;
        if (r->act == ACT_BED && bed_index(S, r->name) >= 0)
            return 0;
        mark_fired(S, r->name);
        if (r->act == ACT_BED)
            bed_on(S, r->name, 1);
    }
    ++*per_para;
    return 1;
}

// ---- runs ---------------------------------------------------------------------------

typedef struct {
    rp_run *v;
    size_t n, cap;
    uint8_t *owned;  // 1: made here (a piece or a cue), 0: moved from the block
    size_t cap_owned;
} runvec;

static int push_owned(runvec *rv, const rp_run *r, int owned)
{
    if (rp_grow((void **)&rv->v, &rv->cap, rv->n + 1, sizeof *rv->v) ||
        rp_grow((void **)&rv->owned, &rv->cap_owned, rv->n + 1, 1))
        return 0;
    rv->owned[rv->n] = (uint8_t)owned;
    rv->v[rv->n++] = *r;
    return 1;
}

static int push(runvec *rv, const rp_run *r) { return push_owned(rv, r, 0); }

// A cue on the word at byte at of the text of the parsed run origin, standing
// at byte split before it (RP_AT_BLOCK_END for both: after the block).
static int push_cue(runvec *rv, action act, const char *name, const rp_run *origin, size_t at,
                    size_t split)
{
    rp_run r;
    memset(&r, 0, sizeof r);
    r.kind = RP_RUN_DIRECTIVE;
    r.line = origin->line;
    r.col = origin->col + (split == RP_AT_BLOCK_END ? 0 : (int)split);  // near enough, see push_piece
    r.automatic = 1;
    r.origin_run = origin->origin_run;
    r.origin_at = at;
    r.dir.kind = act == ACT_SFX ? RP_DIR_SFX : act == ACT_BED ? RP_DIR_BED : RP_DIR_STOP;
    r.dir.name = rp_strdup(name);
    if (!r.dir.name || !push_owned(rv, &r, 1)) {
        free(r.dir.name);
        return 0;
    }
    return 1;
}

// A piece [a, b) of a run's text as a run of its own (trimmed).
static int push_piece(runvec *rv, const rp_run *from, size_t a, size_t b)
{
    while (a < b && from->text[a] == ' ')
        a++;
    while (b > a && from->text[b - 1] == ' ')
        b--;
    if (a == b)
        return 1;
    rp_run r = *from;
    r.text = malloc(b - a + 1);
    r.speaker = from->speaker ? rp_strdup(from->speaker) : NULL;
    if (!r.text || (from->speaker && !r.speaker)) {
        free(r.text);
        free(r.speaker);
        return 0;
    }
    memcpy(r.text, from->text + a, b - a);
    r.text[b - a] = '\0';
    r.origin_at = a;
    if (a > 0)
        r.col += (int)a;  // near enough: folded whitespace may shift it
    if (push_owned(rv, &r, 1))
        return 1;
    free(r.text);
    free(r.speaker);
    return 0;
}

// The rule matching at the word of text[0..len) that starts at a, or NULL.
// *after is set past the phrase. Words are rp_word_next's: "re-entry" and
// "rail-rounds" are one word each.
static const rule *match_at(const state *S, const char *text, size_t len, size_t a,
                            size_t *after)
{
    char w[PHRASE_WORDS][WORD_BYTES];
    size_t n = 0, pos = a, s, e, ends[PHRASE_WORDS];
    while (n < PHRASE_WORDS && rp_word_next(text, len, &pos, &s, &e)) {
        lower_copy(w[n], text + s, e - s);
        ends[n++] = e;
    }
    for (size_t k = 0; k < S->n_rules; k++) {
        const rule *r = &S->rules[k];
        if (r->n > n)
            continue;
        size_t j = 0;
        while (j < r->n && word_matches(w[j], r->w[j]))
            j++;
        if (j == r->n) {
            *after = ends[r->n - 1];
            return r;
        }
    }
    return NULL;
}

// Splits the text runs of a paragraph at the words that cue a sound.
static int cue_block(state *S, rp_block *b)
{
    runvec out;
    memset(&out, 0, sizeof out);
    uint8_t *split = rp_calloc(b->n_runs ? b->n_runs : 1, 1);
    if (!split)
        return 0;
    int per_para = 0, any = 0;
    for (size_t i = 0; i < b->n_runs; i++)
        if (b->runs[i].kind == RP_RUN_DIRECTIVE)
            per_para += b->runs[i].dir.kind == RP_DIR_SFX || b->runs[i].dir.kind == RP_DIR_BED;
    for (size_t i = 0; i < b->n_runs; i++) {
        rp_run *r = &b->runs[i];
        if (r->kind == RP_RUN_DIRECTIVE)
            note_directive(S, &r->dir);
        if (r->kind == RP_RUN_DIRECTIVE || !r->text) {
            if (!push(&out, r))
                goto nomem;
            continue;
        }
        size_t piece = 0, pos = 0, a, e, len = strlen(r->text), seen = 0;
        size_t scrap = rp_scrap_len(r->text, len), words0 = S->words;
        int quoted = 0;  // inside a word quoted (“thunder”, see scare_quote in parse.c)
        while (rp_word_next(r->text, len, &pos, &a, &e)) {
            for (; r->kind == RP_RUN_NARRATION && seen + 3 <= a; seen++)
                if (!memcmp(r->text + seen, "\xE2\x80\x9C", 3) ||
                    !memcmp(r->text + seen, "\xE2\x80\x9D", 3))
                    quoted = r->text[seen + 2] == '\x9C';
            size_t after = a;
            const rule *m = quoted ? NULL : match_at(S, r->text, len, a, &after);
            // The cue would stand before the word's token (rp_cue_split): the
            // spacing counts from there, as it does for one written there.
            size_t at = m ? rp_cue_split(r->text, a, scrap) : a, back = 0, p = at, ws, we;
            if (at == 0)
                back = S->words - words0;
            else
                while (rp_word_next(r->text, a, &p, &ws, &we))
                    back++;
            S->words -= back;
            int fire = m && may_fire(S, m, r->kind == RP_RUN_QUOTE, &per_para);
            S->words += back;
            if (fire) {
                if (S->n_cues == RP_MAX_CUES) {
                    if (!S->over)
                        rp_diag_add(S->d, RP_DIAG_ERROR, S->chapter, r->line, r->col, "cue",
                                    "switch some sound words off in the cast sheet's [rules]",
                                    "more than %d cues in the chapter with the automatic ones",
                                    RP_MAX_CUES);
                    S->over = 1;
                } else {
                    if (!push_piece(&out, r, piece, at) ||
                        !push_cue(&out, m->act, m->name, r, a, at))
                        goto nomem;
                    S->n_cues++;
                    piece = at;
                    split[i] = 1;
                    pos = after;
                    S->words += m->n - 1;  // the phrase's words, as note_written counts them
                }
            }
            S->words++;
        }
        if (split[i] ? !push_piece(&out, r, piece, len) : !push(&out, r))
            goto nomem;
        any |= split[i];
    }
    if (any) {
        for (size_t i = 0; i < b->n_runs; i++)
            if (split[i]) {
                free(b->runs[i].text);
                free(b->runs[i].speaker);
            }
        free(b->runs);
        b->runs = out.v;
        b->n_runs = out.n;
        out.v = NULL;
    }
    free(out.v);
    free(out.owned);
    free(split);
    return 1;
nomem:
    for (size_t k = 0; k < out.n; k++)
        if (out.owned[k]) {
            free(out.v[k].text);
            free(out.v[k].speaker);
            free(out.v[k].dir.name);
        }
    free(out.v);
    free(out.owned);
    free(split);
    return 0;
}

// Where the chapter's own cues are, in words of paragraph text, counted as
// cue_block counts them (headings and scene breaks add no words), and how
// many there are.
static void note_written(state *S, const rp_script *s)
{
    for (size_t i = 0; i < s->n_blocks && !S->nomem; i++) {
        const rp_block *b = &s->blocks[i];
        for (size_t k = 0; k < b->n_runs; k++) {
            const rp_run *r = &b->runs[k];
            size_t pos = 0, a, e;
            if (r->kind != RP_RUN_DIRECTIVE) {
                if (b->kind != RP_BLOCK_PARAGRAPH || !r->text)
                    continue;
                size_t len = strlen(r->text);
                while (rp_word_next(r->text, len, &pos, &a, &e))
                    S->words++;
                continue;
            }
            S->n_cues++;
            if (r->dir.name && (r->dir.kind == RP_DIR_SFX || r->dir.kind == RP_DIR_BED)) {
                if (rp_grow((void **)&S->written, &S->cap_written, S->n_written + 1,
                            sizeof *S->written)) {
                    S->nomem = 1;
                    return;
                }
                S->written[S->n_written++] = (fired){r->dir.name, S->words};
            }
        }
    }
    S->words = 0;
}

// A scene break ends the beds the rules started: they fade out over it.
static int stop_auto_beds(state *S, rp_block *last)
{
    if (!last)
        return 1;
    runvec rv = {last->runs, last->n_runs, last->n_runs, NULL, 0};
    // The stops go after the block's last run: a copy of it, as rv.v moves
    // when it grows.
    rp_run at = {.line = last->line, .col = last->col};
    if (last->n_runs)
        at = last->runs[last->n_runs - 1];
    for (size_t i = S->n_beds; i-- > 0;) {
        if (!S->bed_auto[i])
            continue;
        if (!push_cue(&rv, ACT_STOP, S->beds[i], &at, RP_AT_BLOCK_END, RP_AT_BLOCK_END)) {
            last->runs = rv.v;
            last->n_runs = rv.n;
            free(rv.owned);
            return 0;
        }
        bed_off(S, S->beds[i]);
    }
    last->runs = rv.v;
    last->n_runs = rv.n;
    free(rv.owned);
    return 1;
}

rp_status rp_cue_apply(rp_script *s, const rp_cast *cast, const rp_sfx_library *lib,
                       const char *cast_path, rp_diags *d)
{
    state S;
    memset(&S, 0, sizeof S);
    S.chapter = s->name;
    S.d = d;
    S.rules = rp_calloc(cast->n_rules ? cast->n_rules : 1, sizeof *S.rules);
    if (!S.rules)
        return RP_ERR_NOMEM;
    int bad = 0;
    for (size_t i = 0; i < cast->n_rules; i++) {
        int k = read_rule(&cast->rules[i], i, lib, cast_path, &S.rules[S.n_rules], d);
        if (k < 0)
            bad = 1;
        else if (k == 0)
            S.n_rules++;
    }
    rp_status st = bad ? RP_ERR_INPUT : RP_OK;
    if (!bad && S.n_rules) {
        qsort(S.rules, S.n_rules, sizeof *S.rules, cmp_rule);
        note_written(&S, s);
        rp_block *last = NULL;
        for (size_t i = 0; i < s->n_blocks && !S.nomem; i++) {
            rp_block *b = &s->blocks[i];
            if (b->kind == RP_BLOCK_SCENE_BREAK) {
                if (!stop_auto_beds(&S, last))
                    S.nomem = 1;
                for (size_t k = 0; k < b->n_runs; k++)
                    if (b->runs[k].kind == RP_RUN_DIRECTIVE)
                        note_directive(&S, &b->runs[k].dir);
                continue;
            }
            if (b->kind == RP_BLOCK_PARAGRAPH) {
                if (!cue_block(&S, b))
                    S.nomem = 1;
                last = b;
            }
        }
        if (S.nomem)
            st = RP_ERR_NOMEM;
        else if (S.over)
            st = RP_ERR_INPUT;
    }
    free(S.rules);
    free(S.fired);
    free(S.written);
    return st;
}
