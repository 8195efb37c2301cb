// SPDX-License-Identifier: GPL-3.0-or-later
// Fuzz target: the timeline over random scripts. The input is a chapter
// and, after the first NUL byte if there is one, its cast sheet. Every
// stage of rp_drama_load (render.c) runs as a render runs it, stopping at
// the first that fails: parse, attribute, cast sheet, automatic casting,
// the sheet's [sfx] overrides on the built-in effects, sound rules, layout.
// Synthesis is replaced by a fake clip for every utterance (a fixed length
// per code point, a word mark at each word start), so placement runs too,
// both at once and step by step as the player does it: the two timelines
// must be the same, sorted, and inside the drama's length; the cue sheet is
// written from it; and the chapter `annotate` writes lays out to the same
// timeline.
#include <string.h>

#include "fuzz.h"
#include "rp_annotate.h"
#include "rp_cast.h"
#include "rp_cue.h"
#include "rp_layout.h"
#include "rp_script.h"
#include "rp_sfx.h"

enum { FRAMES_PER_CP = 2400 }; // 50 ms at 48 kHz

// The built-in effects and rooms, parsed once: only a sheet with [sfx]
// overrides needs a copy of its own.
static const rp_sfx_library *builtin_library(void)
{
    static rp_sfx_library lib;
    static int loaded;
    if (!loaded) {
        rp_diags d;
        rp_diags_init(&d);
        rp_sfx_library_init(&lib);
        FUZZ_ASSERT(rp_sfx_library_add_builtin(&lib, &d) == RP_OK);
        rp_diags_deinit(&d);
        loaded = 1;
    }
    return &lib;
}

static rp_status apply_sfx_settings(rp_sfx_library *lib, const rp_cast *c, rp_diags *d)
{
    rp_status st = RP_OK;
    for (size_t i = 0; i < c->n_sfx; i++) {
        const rp_sfx_setting *s = &c->sfx[i];
        rp_sfx_preset *p = rp_sfx_library_find_mut(lib, s->preset);
        if (!p)
            rp_diag_add(d, RP_DIAG_ERROR, c->file, s->line, 1, "cast", NULL,
                        "[sfx %s]: unknown effect", s->preset);
        if (!p || rp_sfx_preset_override(p, s->key, s->value, c->file, s->line, s->col, d))
            st = RP_ERR_INPUT;
    }
    return st;
}

static void fake_clip(rp_utterance *u)
{
    const char *t = u->text;
    size_t len = strlen(t), n_cp = rp_utf8_count(t, len);
    rp_clip *c = &u->clip;
    c->n_frames = (int64_t)n_cp * FRAMES_PER_CP;
    c->rate_hz = RP_DEFAULT_RATE_HZ;
    c->words = rp_calloc(n_cp + 1, sizeof *c->words);
    FUZZ_ASSERT(c->words);
    int32_t cp = 0;
    int prev_space = 1;
    for (size_t i = 0; i < len;) {
        int l;
        int space = rp_utf8_decode(t + i, len - i, &l) == ' ';
        if (!space && prev_space)
            c->words[c->n_words++] = (rp_word_mark){cp, (int64_t)cp * FRAMES_PER_CP};
        prev_space = space;
        i += (size_t)l;
        cp++;
    }
}

static void check_timeline(const rp_timeline *t, const rp_plan *p)
{
    FUZZ_ASSERT(t->n_frames >= 0 && t->n_frames < INT64_MAX);
    for (size_t i = 0; i < t->n; i++) {
        const rp_event *e = &t->ev[i];
        FUZZ_ASSERT(e->start >= 0 && e->end >= e->start && e->end <= t->n_frames);
        FUZZ_ASSERT(i == 0 || t->ev[i - 1].start <= e->start);
        FUZZ_ASSERT(e->kind != RP_EV_SPEECH || e->utt < p->n_utts);
        FUZZ_ASSERT(e->room >= 0 && (size_t)e->room <= p->n_rooms);
    }
}

// Places the plan at once and step by step; the two timelines must agree.
// *all gets the first.
static void place(const rp_plan *p, const rp_render_config *r, rp_timeline *all)
{
    rp_timeline steps;
    FUZZ_ASSERT(rp_layout_place(p, r, all) == RP_OK);
    check_timeline(all, p);
    rp_placer *pl = rp_placer_new(p, r, &steps);
    FUZZ_ASSERT(pl);
    for (size_t ready = 0; !rp_placer_done(pl); ready++) {
        int64_t before = rp_placer_horizon(pl);
        FUZZ_ASSERT(rp_placer_advance(pl, ready) == RP_OK);
        FUZZ_ASSERT(rp_placer_horizon(pl) >= before);
    }
    rp_placer_free(pl);
    FUZZ_ASSERT(steps.n == all->n && steps.n_frames == all->n_frames);
    for (size_t i = 0; i < all->n; i++)
        FUZZ_ASSERT(rp_event_same(&steps.ev[i], &all->ev[i]));
    rp_strbuf tsv;
    rp_strbuf_init(&tsv);
    rp_timeline_write_tsv(all, p, &tsv);
    rp_strbuf_deinit(&tsv);
    rp_timeline_deinit(&steps);
}

// One chapter through every stage before synthesis, fake clips, placement.
typedef struct {
    rp_diags d;
    rp_script s;
    rp_cast c;
    rp_sfx_library own; // the built-in effects with the sheet's [sfx] settings
    rp_plan p;
    rp_timeline t;
} drama;

static rp_status drama_load(drama *dr, const char *text, size_t len, const char *sheet,
                            size_t sheet_len)
{
    memset(dr, 0, sizeof *dr);
    rp_diags_init(&dr->d);
    FUZZ_ASSERT(rp_cast_init(&dr->c) == RP_OK);
    rp_sfx_library_init(&dr->own);
    const rp_sfx_library *lib = builtin_library();
    rp_status st = rp_parse("fuzz.txt", text, len, &dr->s, &dr->d);
    if (!st)
        st = rp_attribute(&dr->s, &dr->d);
    if (!st && sheet)
        st = rp_cast_load(&dr->c, "fuzz.cast", sheet, sheet_len, &dr->d);
    if (!st)
        st = rp_cast_assign(&dr->c, &dr->s);
    if (!st && dr->c.n_sfx) {
        st = rp_sfx_library_add_builtin(&dr->own, &dr->d);
        if (!st)
            st = apply_sfx_settings(&dr->own, &dr->c, &dr->d);
        lib = &dr->own;
    }
    if (!st)
        st = rp_cue_apply(&dr->s, &dr->c, lib, dr->c.file, &dr->d);
    if (!st)
        st = rp_layout_build(&dr->s, &dr->c, lib, &dr->p, &dr->d);
    FUZZ_ASSERT(st == RP_OK || st == RP_ERR_INPUT);
    FUZZ_ASSERT((st == RP_ERR_INPUT) == (dr->d.n_errors > 0));
    fuzz_check_diags(&dr->d, NULL);
    if (!st) {
        for (size_t i = 0; i < dr->p.n_utts; i++) {
            FUZZ_ASSERT(dr->p.utts[i].voice && dr->p.utts[i].text[0]);
            fake_clip(&dr->p.utts[i]);
        }
        place(&dr->p, &dr->c.render, &dr->t);
    }
    return st;
}

static void drama_free(drama *dr)
{
    rp_timeline_deinit(&dr->t);
    rp_plan_deinit(&dr->p);
    rp_sfx_library_deinit(&dr->own);
    rp_cast_deinit(&dr->c);
    rp_script_deinit(&dr->s);
    rp_diags_deinit(&dr->d);
}

static int same_name(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

// The same sound: an event of the annotated chapter against the original's
// (where it stands in the text moves with what annotate wrote in).
static int same_sound(const rp_event *a, const rp_event *b)
{
    return a->kind == b->kind && a->start == b->start && a->end == b->end && a->utt == b->utt &&
           same_name(a->preset ? rp_sfx_preset_name(a->preset) : NULL,
                     b->preset ? rp_sfx_preset_name(b->preset) : NULL) &&
           same_name(a->name, b->name) && a->seed == b->seed && a->gain == b->gain &&
           a->pan == b->pan && a->fade_in == b->fade_in && a->fade_out == b->fade_out &&
           a->room == b->room && a->send == b->send && a->order == b->order;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nul = memchr(text, '\0', size);
    size_t len = nul ? (size_t)(nul - text) : size;
    const char *sheet = nul ? nul + 1 : NULL;
    size_t sheet_len = nul ? size - len - 1 : 0;
    drama dr;
    if (drama_load(&dr, text, len, sheet, sheet_len) == RP_OK) {
        // `annotate` writes the decisions in, the automatic cues among them:
        // the annotated chapter lays out to the same timeline.
        rp_strbuf a;
        rp_strbuf_init(&a);
        FUZZ_ASSERT(rp_annotate(text, len, &dr.s, &a, &dr.d) == RP_OK);
        drama again;
        FUZZ_ASSERT(drama_load(&again, a.s, a.len, sheet, sheet_len) == RP_OK);
        FUZZ_ASSERT(again.t.n == dr.t.n && again.t.n_frames == dr.t.n_frames);
        for (size_t i = 0; i < dr.t.n; i++)
            FUZZ_ASSERT(same_sound(&again.t.ev[i], &dr.t.ev[i]));
        drama_free(&again);
        rp_strbuf_deinit(&a);
    }
    drama_free(&dr);
    return 0;
}
