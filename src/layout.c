// SPDX-License-Identifier: GPL-3.0-or-later
// Layout: the script becomes a plan (utterances, cues and gaps in chapter
// order), and after synthesis the plan becomes a timeline of events at
// absolute frames. Pauses owed at a point (sentence, speaker change,
// paragraph, heading, scene break) do not add up: the longest one wins, so a
// scene break after a paragraph is a scene break, not both. Explicit {pause}
// adds its silence on top. A bed started before the first words of a scene
// starts with the scene break, where the beds stopped at the end of the last
// scene begin to fade: changing beds at a break is a crossfade.
//
// Rooms: a {room NAME} cue puts everything after it in the chapter in that
// room, until the next {room}; {room none} is dry again. A scene break keeps
// the room: a new scene in the same place needs no cue, and one that moves
// says where it goes (the room is a place, not a scene's property). Each
// event keeps the room in effect where it stands in the chapter, so a bed
// started in the hall stays in the hall after the story moves to the street.
// A room cue on the first word of an utterance applies to that utterance;
// further in, to what comes after it (an utterance has one room). The
// narrator is not in the room, unless RP_ROOM_NARRATOR; radio and helmet
// voices are heard at the ear and send nothing. The timeline lasts until
// the last room's echo has died away (rp_room_decay_s).
#include "rp_layout.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_config.h"

void rp_plan_deinit(rp_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_utts; i++) {
        free(p->utts[i].text);
        rp_clip_deinit(&p->utts[i].clip);
    }
    free(p->utts);
    free(p->cues);
    free(p->items);
    free(p->rooms);
    memset(p, 0, sizeof *p);
}

void rp_timeline_deinit(rp_timeline *t)
{
    if (!t)
        return;
    free(t->ev);
    memset(t, 0, sizeof *t);
}

int rp_event_same(const rp_event *a, const rp_event *b)
{
    return a->kind == b->kind && a->start == b->start && a->end == b->end && a->utt == b->utt &&
           a->preset == b->preset && a->name == b->name && a->seed == b->seed &&
           a->gain == b->gain && a->pan == b->pan && a->fade_in == b->fade_in &&
           a->fade_out == b->fade_out && a->room == b->room && a->send == b->send &&
           a->line == b->line && a->col == b->col && a->order == b->order;
}

// ---- building the plan -----------------------------------------------------

typedef struct {
    const rp_script *s;
    const rp_cast *c;
    const rp_sfx_library *lib;
    rp_plan *p;
    rp_diags *d;
    double pending;          // longest pause owed before the next utterance
    double extra;            // explicit {pause} seconds owed on top of it
    const rp_voice *last_voice;
    int started;             // an utterance or cursor cue has been placed
    int scene_open;          // a scene break, and no words since
    size_t n_errors;
    int nomem;
    // Beds playing, for {stop} checks.
    const char *beds[RP_MAX_BEDS];
    size_t n_beds;
    // Cue occurrence counts per preset name, for stable seeds.
    struct { const char *name; uint32_t count; } seen[256];
    size_t n_seen;
} builder;

static void owe(builder *B, double s)
{
    if (B->started && s > B->pending)
        B->pending = s;
}

static int is_closer(const char *s);

static rp_status add_item(builder *B, rp_item_kind kind, size_t index, double seconds)
{
    rp_plan *p = B->p;
    if (rp_grow((void **)&p->items, &p->cap_items, p->n_items + 1, sizeof *p->items))
        return RP_ERR_NOMEM;
    p->items[p->n_items++] = (rp_item){kind, index, seconds};
    return RP_OK;
}

static rp_status flush_gap(builder *B)
{
    rp_status st = RP_OK;
    if (B->pending + B->extra > 0)
        st = add_item(B, RP_ITEM_GAP, 0, B->pending + B->extra);
    B->pending = B->extra = 0;
    return st;
}

static int ends_sentence(const char *t, size_t len)
{
    while (len > 0 && is_closer(t + len - 1))
        len--;
    // A closing mark of several bytes (” ’) ends in a continuation byte.
    while (len >= 3 && !strncmp(t + len - 3, "\xE2\x80", 2) &&
           ((unsigned char)t[len - 1] == 0x9D || (unsigned char)t[len - 1] == 0x99))
        len -= 3;
    return len > 0 && (t[len - 1] == '.' || t[len - 1] == '!' || t[len - 1] == '?' ||
                       (len >= 3 && !strncmp(t + len - 3, "\xE2\x80\xA6", 3)));
}

static rp_status add_utterance(builder *B, const char *text, size_t len, const rp_voice *v,
                               rp_voice_fx fx, const char *speaker, int line, int col, size_t block)
{
    if (B->last_voice && v != B->last_voice)
        owe(B, B->c->render.pause_speaker_s);
    rp_status st = flush_gap(B);
    if (st)
        return st;
    rp_plan *p = B->p;
    if (rp_grow((void **)&p->utts, &p->cap_utts, p->n_utts + 1, sizeof *p->utts))
        return RP_ERR_NOMEM;
    rp_utterance *u = &p->utts[p->n_utts];
    memset(u, 0, sizeof *u);
    if (!(u->text = rp_strndup(text, len)))
        return RP_ERR_NOMEM;
    u->voice = v;
    u->fx = fx;
    u->speaker = speaker;
    u->narration = !strcmp(speaker, "Narrator");
    u->line = line;
    u->col = col;
    u->block = block;
    B->last_voice = v;
    B->started = 1;
    B->scene_open = 0;
    return add_item(B, RP_ITEM_UTT, p->n_utts++, 0);
}

static uint64_t cue_seed(builder *B, const char *name)
{
    uint32_t count = 0;
    size_t i;
    for (i = 0; i < B->n_seen; i++)
        if (!strcmp(B->seen[i].name, name))
            break;
    if (i < B->n_seen) {
        count = ++B->seen[i].count;
    } else if (B->n_seen < sizeof B->seen / sizeof B->seen[0]) {
        B->seen[B->n_seen].name = name;
        B->seen[B->n_seen++].count = 0;
    }
    // Seeded by the effect's name and its occurrence among cues of that name,
    // so editing one cue leaves every other cue's sound as it was.
    uint64_t h = rp_hash64(name, strlen(name), RP_HASH_INIT);
    return rp_seed_mix(B->c->render.seed, rp_seed_mix(h, count));
}

static void cue_error(builder *B, int line, int col, const char *hint, const char *fmt,
                      const char *a, const char *b)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, a, b ? b : "");
    rp_diag_add(B->d, RP_DIAG_ERROR, B->s->name, line, col, "layout", hint, "%s", msg);
    B->n_errors++;
}

static int param_number(builder *B, const rp_param *pr, double lo, double hi, const char *unit,
                        double *out)
{
    char *end;
    errno = 0;
    double x = strtod(pr->value, &end);
    if (end == pr->value || *end || errno || !isfinite(x)) {
        cue_error(B, pr->line, pr->col, NULL, "%s: '%s' is not a number", pr->key, pr->value);
        return 0;
    }
    if (x < lo || x > hi) {
        char range[128];
        snprintf(range, sizeof range, "%g and %g%s%s", lo, hi, unit[0] ? " " : "", unit);
        cue_error(B, pr->line, pr->col, NULL, "%s must be between %s", pr->key, range);
        return 0;
    }
    *out = x;
    return 1;
}

static void read_params(builder *B, const rp_directive *dir, rp_cue *q)
{
    static const char *const sfx_keys[] = {"gain", "pan", "delay"};
    static const char *const bed_keys[] = {"gain", "pan", "fade"};
    static const char *const stop_keys[] = {"fade"};
    const char *const *keys = dir->kind == RP_DIR_SFX   ? sfx_keys
                              : dir->kind == RP_DIR_BED ? bed_keys
                                                        : stop_keys;
    size_t n_keys = dir->kind == RP_DIR_STOP ? 1 : 3;
    for (size_t i = 0; i < dir->n_params; i++) {
        const rp_param *pr = &dir->params[i];
        size_t k;
        for (k = 0; k < n_keys; k++)
            if (!strcmp(pr->key, keys[k]))
                break;
        if (k == n_keys) {
            const char *s = rp_suggest(pr->key, keys, n_keys);
            char hint[128];
            if (s)
                snprintf(hint, sizeof hint, "did you mean '%s'?", s);
            else
                snprintf(hint, sizeof hint, "%s takes %s%s%s%s%s",
                         dir->kind == RP_DIR_STOP ? "stop" : dir->kind == RP_DIR_BED ? "bed" : "sfx",
                         keys[0], n_keys > 1 ? ", " : "", n_keys > 1 ? keys[1] : "",
                         n_keys > 2 ? ", " : "", n_keys > 2 ? keys[2] : "");
            cue_error(B, pr->line, pr->col, hint, "unknown parameter '%s'%s", pr->key, "");
            continue;
        }
        if (!strcmp(pr->key, "gain"))
            param_number(B, pr, -60, 12, "dB", &q->gain_db);
        else if (!strcmp(pr->key, "pan") && param_number(B, pr, -1, 1, "", &q->pan))
            q->has_pan = 1;
        else if (!strcmp(pr->key, "delay"))
            param_number(B, pr, 0, RP_MAX_PAUSE_S, "s", &q->delay_s);
        else if (!strcmp(pr->key, "fade"))
            param_number(B, pr, 0, RP_MAX_PAUSE_S, "s", &q->fade_s);
    }
}

static const rp_sfx_preset *find_preset(builder *B, const rp_run *r, int want_bed)
{
    const char *name = r->dir.name ? r->dir.name : "";
    const rp_sfx_preset *pr = rp_sfx_library_find(B->lib, name);
    if (!pr) {
        char hint[160];
        rp_sfx_library_hint(B->lib, name, want_bed, hint, sizeof hint);
        cue_error(B, r->line, r->col, hint, "unknown %s '%s'", want_bed ? "bed" : "effect", name);
        return NULL;
    }
    if (rp_sfx_preset_is_bed(pr) != want_bed) {
        char hint[160];
        snprintf(hint, sizeof hint, "use {%s %s}", want_bed ? "sfx" : "bed", name);
        cue_error(B, r->line, r->col, hint,
                  want_bed ? "'%s' is a one-shot effect, not a bed%s"
                           : "'%s' is a looping bed, not a one-shot effect%s",
                  name, "");
        return NULL;
    }
    return pr;
}

// {room NAME key=value ...}: the room from the library with the cue's
// settings over it. A room with a reverb gets its place in plan.rooms, once.
static int room_cue(builder *B, const rp_run *r, rp_cue *q)
{
    const rp_directive *dir = &r->dir;
    rp_room_preset room;
    rp_status st = rp_room_load(B->lib->rooms, B->lib->n_rooms, dir->name ? dir->name : "", &room,
                                B->s->name, r->line, r->col, B->d);
    int bad = 0; // every bad setting is reported; the room is made when all are good
    for (size_t i = 0; !st && i < dir->n_params; i++) {
        const rp_param *pr = &dir->params[i];
        rp_status ps =
            rp_room_override(&room, pr->key, pr->value, B->s->name, pr->line, pr->col, B->d);
        if (ps == RP_ERR_NOMEM)
            st = ps;
        bad |= ps != RP_OK;
    }
    if (!st && bad)
        st = RP_ERR_INPUT;
    if (st) {
        B->nomem |= st == RP_ERR_NOMEM;
        B->n_errors++;
        return 0;
    }
    q->kind = RP_CUE_ROOM;
    if (rp_room_is_dry(&room))
        return 1;
    rp_plan *p = B->p;
    size_t k = 0;
    while (k < p->n_rooms && !rp_room_same(&p->rooms[k], &room))
        k++;
    if (k == p->n_rooms) {
        if (k == RP_MAX_ROOMS) {
            cue_error(B, r->line, r->col, "use a room again rather than new settings",
                      "more than %s different rooms in one chapter%s", "32", "");
            return 0;
        }
        if (rp_grow((void **)&p->rooms, &p->cap_rooms, k + 1, sizeof *p->rooms)) {
            B->nomem = 1;
            return 0;
        }
        p->rooms[p->n_rooms++] = room;
    }
    q->room = (int)k + 1;
    return 1;
}

// Turns a directive into a cue; returns 0 when it makes none (comments,
// errors).
static int make_cue(builder *B, const rp_run *r, rp_cue *q)
{
    memset(q, 0, sizeof *q);
    q->line = r->line;
    q->col = r->col;
    q->name = r->dir.name;
    switch (r->dir.kind) {
    case RP_DIR_COMMENT:
        return 0;
    case RP_DIR_PAUSE:
        q->kind = RP_CUE_PAUSE;
        q->seconds = r->dir.seconds;
        return q->seconds > 0;
    case RP_DIR_ROOM:
        return room_cue(B, r, q);
    case RP_DIR_SFX:
        q->kind = RP_CUE_SFX;
        if (!(q->preset = find_preset(B, r, 0)))
            return 0;
        break;
    case RP_DIR_BED: {
        q->kind = RP_CUE_BED;
        q->fade_s = RP_BED_FADE_S;
        q->preset = find_preset(B, r, 1);
        for (size_t i = 0; q->preset && i < B->n_beds; i++) {
            if (!strcmp(B->beds[i], q->name)) {
                cue_error(B, r->line, r->col, "stop it first with {stop NAME}",
                          "bed '%s' is already playing%s", q->name, "");
                return 0;
            }
        }
        if (B->n_beds == RP_MAX_BEDS) {
            cue_error(B, r->line, r->col, "stop some with {stop NAME}",
                      "more than %s beds playing at once%s", "64", "");
            return 0;
        }
        // Even an unknown bed counts as playing, so its {stop} adds no error.
        B->beds[B->n_beds++] = q->name;
        if (!q->preset)
            return 0;
        break;
    }
    case RP_DIR_STOP: {
        q->kind = RP_CUE_STOP;
        q->fade_s = RP_BED_FADE_S;
        size_t i;
        for (i = 0; i < B->n_beds; i++)
            if (q->name && !strcmp(B->beds[i], q->name))
                break;
        if (i == B->n_beds) {
            const char *s = rp_suggest(q->name ? q->name : "", B->beds, B->n_beds);
            char hint[128] = "start it with {bed NAME}";
            if (s)
                snprintf(hint, sizeof hint, "did you mean '%s'?", s);
            cue_error(B, r->line, r->col, hint, "no bed named '%s' is playing%s",
                      q->name ? q->name : "", "");
            return 0;
        }
        B->beds[i] = B->beds[--B->n_beds];
        break;
    }
    }
    read_params(B, &r->dir, q);
    if (q->kind == RP_CUE_SFX || q->kind == RP_CUE_BED)
        q->seed = cue_seed(B, q->name);
    return 1;
}

static rp_status add_cue(builder *B, const rp_cue *q)
{
    rp_plan *p = B->p;
    if (rp_grow((void **)&p->cues, &p->cap_cues, p->n_cues + 1, sizeof *p->cues))
        return RP_ERR_NOMEM;
    p->cues[p->n_cues] = *q;
    return add_item(B, RP_ITEM_CUE, p->n_cues++, 0);
}

// ---- sentences -------------------------------------------------------------

static int is_abbrev(const char *text, size_t dot)
{
    static const char *const abbrev[] = {
        "Mr", "Mrs", "Ms", "Dr", "St", "Jr", "Sr", "Prof", "Gen", "Capt", "Col", "Lt",
        "Sgt", "Cpl", "Maj", "Adm", "Rev", "Hon", "vs", "etc", "e.g", "i.e", "No", "Mt", "Cmdr",
    };
    size_t b = dot;
    while (b > 0 && text[b - 1] != ' ')
        b--;
    size_t n = dot - b;
    if (n == 1 && text[b] >= 'A' && text[b] <= 'Z')
        return 1;  // an initial: "J. Smith"
    for (size_t i = 0; i < sizeof abbrev / sizeof abbrev[0]; i++)
        if (strlen(abbrev[i]) == n && !strncmp(text + b, abbrev[i], n))
            return 1;
    return 0;
}

static int is_closer(const char *s)
{
    unsigned char c = (unsigned char)s[0];
    if (c == '"' || c == '\'' || c == ')' || c == ']')
        return 1;
    // ” ’ » as UTF-8
    return !strncmp(s, "\xE2\x80\x9D", 3) || !strncmp(s, "\xE2\x80\x99", 3) ||
           !strncmp(s, "\xC2\xBB", 2);
}

static size_t closer_len(const char *s)
{
    return (unsigned char)s[0] < 0x80 ? 1 : (unsigned char)s[0] == 0xC2 ? 2 : 3;
}

// End (exclusive) of the sentence starting at text[from], before any space.
static size_t sentence_end(const char *text, size_t len, size_t from)
{
    for (size_t i = from; i < len; i++) {
        int stop = text[i] == '.' || text[i] == '!' || text[i] == '?';
        size_t j = i + 1;
        if (!stop && !strncmp(text + i, "\xE2\x80\xA6", 3)) {  // …
            stop = 1;
            j = i + 3;
        }
        if (!stop)
            continue;
        while (j < len && (text[j] == '.' || text[j] == '!' || text[j] == '?'))
            j++;
        while (j < len && is_closer(text + j))
            j += closer_len(text + j);
        if (j >= len)
            return len;
        if (text[j] != ' ')
            continue;
        unsigned char next = (unsigned char)text[j + 1];
        if (next >= 'a' && next <= 'z')
            continue;
        if (text[i] == '.' && is_abbrev(text, i))
            continue;
        if (j - from > 1)
            return j;
    }
    return len;
}

// Splits overlong sentences at a comma, semicolon or space so that espeak-ng
// gets bounded input and clips stay short.
static size_t chunk_end(const char *text, size_t from, size_t end)
{
    if (end - from <= RP_MAX_UTTERANCE_BYTES)
        return end;
    size_t limit = from + RP_MAX_UTTERANCE_BYTES;
    size_t cut = 0;
    for (size_t i = limit; i > from + RP_MAX_UTTERANCE_BYTES / 2; i--) {
        if ((text[i] == ',' || text[i] == ';') && text[i + 1] == ' ') {
            cut = i + 1;
            break;
        }
    }
    for (size_t i = limit; !cut && i > from; i--)
        if (text[i] == ' ')
            cut = i;
    if (!cut) {  // no space at all: cut on a UTF-8 boundary
        cut = limit;
        while (cut > from + 1 && ((unsigned char)text[cut] & 0xC0) == 0x80)
            cut--;
    }
    return cut;
}

// ---- segments: the text of one voice with the cues anchored in it -----------

typedef struct {
    size_t offset;  // byte offset in the segment text
    rp_cue cue;
} anchored;

typedef struct {
    rp_strbuf text;
    const rp_voice *voice;
    rp_voice_fx fx; // every utterance of the segment's
    const char *speaker;
    int line, col;
    anchored cues[RP_MAX_PARAGRAPH_CUES];
    size_t n_cues;
} segment;

static rp_status emit_segment(builder *B, segment *g, size_t block)
{
    const char *t = g->text.s ? g->text.s : "";
    size_t len = g->text.len;
    size_t ci = 0;
    rp_status st = RP_OK;
    int line = g->line, col = g->col;
    for (size_t from = 0; from < len && !st;) {
        size_t end = chunk_end(t, from, sentence_end(t, len, from));
        // Cues inside this sentence fire on their word.
        for (; ci < g->n_cues && g->cues[ci].offset < end && !st; ci++) {
            anchored *a = &g->cues[ci];
            size_t at = a->offset > from ? a->offset - from : 0;
            a->cue.char_pos = (int32_t)rp_utf8_count(t + from, at);
            st = add_cue(B, &a->cue);
        }
        if (!st && from > 0)
            owe(B, B->c->render.pause_sentence_s);
        if (!st)
            st = add_utterance(B, t + from, end - from, g->voice, g->fx, g->speaker, line, col,
                               block);
        from = end;
        while (from < len && t[from] == ' ')
            from++;
        // Later sentences of a wrapped paragraph: their exact line is not
        // tracked, so they keep the segment's start as their location.
    }
    // Cues after the last word fire when the segment ends.
    for (; ci < g->n_cues && !st; ci++) {
        g->cues[ci].cue.char_pos = -1;
        st = add_cue(B, &g->cues[ci].cue);
    }
    rp_strbuf_deinit(&g->text);
    memset(g, 0, sizeof *g);
    return st;
}

static const rp_voice *voice_for(builder *B, const rp_run *r)
{
    if (r->kind != RP_RUN_QUOTE)
        return &B->c->narrator;
    const rp_voice *v = rp_cast_voice(B->c, r->speaker ? r->speaker : "Stranger");
    return v ? v : &B->c->narrator;
}

static rp_status paragraph(builder *B, const rp_block *b, size_t bi)
{
    segment g = {0};
    rp_status st = RP_OK;
    for (size_t i = 0; i < b->n_runs && !st; i++) {
        const rp_run *r = &b->runs[i];
        if (r->kind == RP_RUN_DIRECTIVE) {
            rp_cue q;
            if (!make_cue(B, r, &q))
                continue;
            if (q.kind == RP_CUE_PAUSE) {
                // The pause comes on top of the natural pause owed here: a
                // sentence pause if the text before it ended a sentence.
                int sentence = g.text.len && ends_sentence(g.text.s, g.text.len);
                if ((st = emit_segment(B, &g, bi)) != RP_OK)
                    break;
                if (sentence)
                    owe(B, B->c->render.pause_sentence_s);
                q.char_pos = -1;
                st = add_cue(B, &q);
                B->extra += q.seconds;
                B->started = 1;
                continue;
            }
            if (g.n_cues == RP_MAX_PARAGRAPH_CUES) {
                cue_error(B, r->line, r->col, "split the paragraph",
                          "more than %s cues in one paragraph%s", "64", "");
                continue;
            }
            // On the word that follows: offset just past the joining space.
            q.opens_scene = q.kind == RP_CUE_BED && B->scene_open && !g.text.len;
            g.cues[g.n_cues].offset = g.text.len + (g.text.len > 0);
            g.cues[g.n_cues++].cue = q;
            continue;
        }
        if (!r->text || !r->text[0])
            continue;
        const rp_voice *v = voice_for(B, r);
        int starts_new = r->kind == RP_RUN_QUOTE || (g.voice && g.voice != v) ||
                         (i > 0 && b->runs[i - 1].kind == RP_RUN_QUOTE);
        if (g.text.len && starts_new) {
            // Cues waiting at the very end of the previous segment belong to
            // the start of this one.
            segment next = {0};
            size_t keep = g.n_cues;
            while (keep > 0 && g.cues[keep - 1].offset > g.text.len)
                keep--;
            for (size_t k = keep; k < g.n_cues; k++)
                next.cues[next.n_cues++] = (anchored){0, g.cues[k].cue};
            g.n_cues = keep;
            if ((st = emit_segment(B, &g, bi)))
                break;
            g = next;
        }
        if (!g.text.len) {
            g.voice = v;
            // A quote is a segment of its own, so its tag's effect= covers
            // exactly its utterances.
            g.fx = r->kind == RP_RUN_QUOTE && r->fx > 0 && r->fx <= RP_VFX_COUNT
                       ? (rp_voice_fx)(r->fx - 1)
                       : v->fx;
            g.speaker = r->kind == RP_RUN_QUOTE ? r->speaker : "Narrator";
            g.line = r->line;
            g.col = r->col;
        } else {
            rp_strbuf_puts(&g.text, " ");
        }
        rp_strbuf_puts(&g.text, r->text);
        if (g.text.failed)
            st = RP_ERR_NOMEM;
    }
    if (!st) {
        if (!g.text.len && g.n_cues) {
            // Cues with no text after them in their paragraph fire where the
            // chapter has got to; the pause owed stays owed to what follows.
            for (size_t k = 0; k < g.n_cues && !st; k++) {
                g.cues[k].cue.char_pos = -1;
                st = add_cue(B, &g.cues[k].cue);
            }
            g.n_cues = 0;
        }
        st = emit_segment(B, &g, bi);
    }
    return st;
}

static int has_text(const rp_block *b)
{
    for (size_t i = 0; i < b->n_runs; i++)
        if (b->runs[i].kind != RP_RUN_DIRECTIVE && b->runs[i].text && b->runs[i].text[0])
            return 1;
    return 0;
}

rp_status rp_layout_build(const rp_script *s, const rp_cast *c, const rp_sfx_library *lib,
                          rp_plan *out, rp_diags *d)
{
    memset(out, 0, sizeof *out);
    builder B = {.s = s, .c = c, .lib = lib, .p = out, .d = d};
    const rp_render_config *r = &c->render;
    rp_status st = RP_OK;
    for (size_t i = 0; i < s->n_blocks && !st; i++) {
        const rp_block *b = &s->blocks[i];
        switch (b->kind) {
        case RP_BLOCK_SCENE_BREAK:
            owe(&B, r->pause_scene_s);
            B.scene_open = 1;
            st = paragraph(&B, b, i);
            break;
        case RP_BLOCK_HEADING:
            owe(&B, r->pause_heading_s);
            if (r->announce_headings) {
                st = paragraph(&B, b, i);
            } else {
                for (size_t k = 0; k < b->n_runs && !st; k++) {
                    if (b->runs[k].kind != RP_RUN_DIRECTIVE)
                        continue;
                    rp_cue q;
                    if (make_cue(&B, &b->runs[k], &q) && q.kind != RP_CUE_PAUSE) {
                        q.char_pos = -1;
                        st = add_cue(&B, &q);
                    }
                }
            }
            owe(&B, r->pause_heading_s);
            break;
        case RP_BLOCK_PARAGRAPH:
            // A line of directives only is not a paragraph break of its own.
            if (has_text(b))
                owe(&B, r->pause_paragraph_s);
            st = paragraph(&B, b, i);
            break;
        }
    }
    if (!st)
        st = flush_gap(&B);
    if (!st && B.nomem)
        st = RP_ERR_NOMEM;
    if (st)
        return st;
    return B.n_errors ? RP_ERR_INPUT : RP_OK;
}

size_t rp_plan_paragraph_start(const rp_plan *p, size_t k)
{
    while (k > 0 && p->utts[k - 1].block == p->utts[k].block)
        k--;
    return k;
}

size_t rp_plan_next_paragraph(const rp_plan *p, long k)
{
    size_t i = k < 0 ? 0 : (size_t)k + 1;
    while (k >= 0 && i < p->n_utts && p->utts[i].block == p->utts[k].block)
        i++;
    return i;
}

// ---- placing ---------------------------------------------------------------

static int64_t to_frames(double s, int rate_hz)
{
    return (int64_t)llround(s * rate_hz);
}

static int64_t word_frame(const rp_clip *clip, int32_t char_pos)
{
    for (size_t i = 0; i < clip->n_words; i++)
        if (clip->words[i].char_pos >= char_pos)
            return clip->words[i].frame;
    return char_pos > 0 ? clip->n_frames : 0;
}

// The placer walks the plan's items in order, keeping a cursor (where the
// next utterance starts) and the open beds. Events are placed into `pend`
// and released into the timeline, sorted, once nothing still to be placed
// can start before them: every later event starts at or after gap_from
// (where the last gap began: a bed opening a scene starts there, anything
// else at the cursor or later). So the released events are final, in their
// final order, and a player can mix them while synthesis goes on; the ends
// of open beds are the one thing that changes later, and only after the
// horizon.
struct rp_placer {
    const rp_plan *p;
    const rp_render_config *r;
    rp_timeline *out;
    size_t cap_out;
    rp_event *pend;  // placed, not yet released
    size_t n_pend, cap_pend;
    size_t item;     // next item of the plan
    int64_t cursor, last_end, gap_from;
    // Cues wait for the utterance they are anchored in; the builder allows
    // at most RP_MAX_PARAGRAPH_CUES of them and RP_MAX_BEDS open beds.
    size_t waiting[RP_MAX_PARAGRAPH_CUES], n_waiting;
    struct { const char *name; uint32_t order; } beds[RP_MAX_BEDS];
    size_t n_beds;
    uint32_t order;  // the next event's place in the chapter
    int room;        // the room in effect (rp_event.room)
    int room_open;   // a room event waits for its end: the one placed as room_order
    uint32_t room_order;
    int64_t echo_end; // where the last echo of a sound sent to a room dies away
    int done;
};

static int cmp_event(const void *a, const void *b)
{
    const rp_event *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    // An automatic cue stands at its word's column: before the words, as
    // `annotate` writes it.
    if (x->kind != y->kind && (x->kind == RP_EV_SPEECH || y->kind == RP_EV_SPEECH))
        return x->kind == RP_EV_SPEECH ? 1 : -1;
    if (x->kind != y->kind)
        return (int)x->kind - (int)y->kind;
    return x->order < y->order ? -1 : x->order > y->order;
}

rp_placer *rp_placer_new(const rp_plan *p, const rp_render_config *r, rp_timeline *out)
{
    rp_placer *pl = calloc(1, sizeof *pl);
    if (!pl)
        return NULL;
    memset(out, 0, sizeof *out);
    out->rate_hz = r->rate_hz;
    out->n_frames = INT64_MAX;
    pl->p = p;
    pl->r = r;
    pl->out = out;
    pl->cursor = pl->last_end = pl->gap_from = to_frames(r->lead_in_s, r->rate_hz);
    return pl;
}

void rp_placer_free(rp_placer *pl)
{
    if (pl)
        free(pl->pend);
    free(pl);
}

int64_t rp_placer_horizon(const rp_placer *pl)
{
    return pl->done ? INT64_MAX : pl->gap_from;
}

int rp_placer_done(const rp_placer *pl)
{
    return pl->done;
}

static rp_status place(rp_placer *pl, rp_event *e)
{
    e->order = pl->order++;
    if (rp_grow((void **)&pl->pend, &pl->cap_pend, pl->n_pend + 1, sizeof *pl->pend))
        return RP_ERR_NOMEM;
    pl->pend[pl->n_pend++] = *e;
    return RP_OK;
}

// The event placed with this order number (an open bed or room), released
// or not. Newest first: pending events are in the order they were placed
// until released, so the room before this one, or a bed, is found after
// at most the events since (a chapter of room changes stays linear).
static rp_event *find_placed(rp_placer *pl, uint32_t order)
{
    for (size_t i = pl->n_pend; i-- > 0;)
        if (pl->pend[i].order == order)
            return &pl->pend[i];
    for (size_t i = pl->out->n; i-- > 0;)
        if (pl->out->ev[i].order == order)
            return &pl->out->ev[i];
    return NULL;
}

// Moves the placed events that start before the horizon into the timeline.
static rp_status release(rp_placer *pl)
{
    if (pl->n_pend == 0)
        return RP_OK;
    int64_t h = rp_placer_horizon(pl);
    qsort(pl->pend, pl->n_pend, sizeof *pl->pend, cmp_event);
    size_t k = 0;
    while (k < pl->n_pend && pl->pend[k].start < h)
        k++;
    if (k == 0)
        return RP_OK;
    rp_timeline *t = pl->out;
    if (rp_grow((void **)&t->ev, &pl->cap_out, t->n + k, sizeof *t->ev))
        return RP_ERR_NOMEM;
    memcpy(t->ev + t->n, pl->pend, k * sizeof *t->ev);
    t->n += k;
    memmove(pl->pend, pl->pend + k, (pl->n_pend - k) * sizeof *pl->pend);
    pl->n_pend -= k;
    return RP_OK;
}

// ---- rooms -----------------------------------------------------------------

// The level a sound is sent to the room in effect at (linear; 0: dry).
static float send_level(const rp_placer *pl, double db)
{
    return pl->room ? (float)rp_db_to_gain(db) : 0.0f;
}

static float speech_send(const rp_placer *pl, const rp_utterance *u)
{
    if (u->narration && !RP_ROOM_NARRATOR)
        return 0.0f; // the narrator tells the story from outside it
    switch (u->fx) {
    case RP_VFX_RADIO:
    case RP_VFX_HELMET:
        return 0.0f; // heard through a device, at the ear
    case RP_VFX_PA:
        return send_level(pl, RP_ROOM_SEND_PA_DB);
    case RP_VFX_MEGAPHONE:
        return send_level(pl, RP_ROOM_SEND_MEGAPHONE_DB);
    case RP_VFX_DISTANT:
        return send_level(pl, RP_ROOM_SEND_DISTANT_DB);
    case RP_VFX_WHISPER:
        return send_level(pl, RP_ROOM_SEND_WHISPER_DB);
    default:
        return send_level(pl, RP_ROOM_SEND_DB);
    }
}

// Keeps the timeline going until the echo of e in its room dies away.
static void note_echo(rp_placer *pl, const rp_event *e)
{
    if (e->room <= 0 || e->send <= 0.0f || e->end == INT64_MAX)
        return;
    int64_t end = e->end + to_frames(rp_room_decay_s(&pl->p->rooms[e->room - 1]), pl->r->rate_hz);
    if (end > pl->echo_end)
        pl->echo_end = end;
}

// The room event in effect ends at t.
static void end_room(rp_placer *pl, int64_t t)
{
    rp_event *e = pl->room_open ? find_placed(pl, pl->room_order) : NULL;
    if (e)
        e->end = t > e->start ? t : e->start;
    pl->room_open = 0;
}

// ---- cues ------------------------------------------------------------------

// Fires a cue at frame t (u: the utterance it is anchored in, or NULL).
static rp_status fire(rp_placer *pl, const rp_cue *c, int64_t t, const rp_utterance *u)
{
    const rp_render_config *r = pl->r;
    t += to_frames(c->delay_s, r->rate_hz);
    rp_event e = {.start = t,
                  .preset = c->preset,
                  .name = c->name,
                  .seed = c->seed,
                  .pan = (float)c->pan,
                  .room = pl->room,
                  .line = c->line,
                  .col = c->col};
    if (c->kind == RP_CUE_ROOM) {
        end_room(pl, t);
        e.kind = RP_EV_ROOM;
        e.room = pl->room = c->room;
        e.end = INT64_MAX; // until the next room, or the end
        pl->room_open = 1;
        pl->room_order = pl->order;
        return place(pl, &e);
    }
    if (c->kind == RP_CUE_SFX) {
        e.kind = RP_EV_SFX;
        e.gain = (float)rp_db_to_gain(r->sfx_gain_db + c->gain_db);
        e.end = t + to_frames(rp_sfx_preset_duration_s(c->preset), r->rate_hz);
        e.send = send_level(pl, RP_ROOM_SEND_DB);
        pl->last_end = e.end > pl->last_end ? e.end : pl->last_end;
        note_echo(pl, &e);
        return place(pl, &e);
    }
    if (c->kind == RP_CUE_BED) {
        // A bed opening a scene starts with the break, where the last
        // scene's beds begin to fade: a crossfade.
        if (c->opens_scene && u && pl->gap_from < e.start)
            e.start = pl->gap_from;
        e.kind = RP_EV_BED;
        e.gain = (float)rp_db_to_gain(r->bed_gain_db + c->gain_db);
        e.send = send_level(pl, RP_ROOM_SEND_BED_DB);
        e.fade_in = to_frames(c->fade_s, r->rate_hz);
        e.end = INT64_MAX;
        if (pl->n_beds < sizeof pl->beds / sizeof pl->beds[0]) {
            pl->beds[pl->n_beds].name = c->name;
            pl->beds[pl->n_beds++].order = pl->order;
        }
        return place(pl, &e);
    }
    for (size_t b = 0; c->kind == RP_CUE_STOP && b < pl->n_beds; b++) {
        if (strcmp(pl->beds[b].name, c->name))
            continue;
        rp_event *bed = find_placed(pl, pl->beds[b].order);
        if (bed) {
            bed->fade_out = to_frames(c->fade_s, r->rate_hz);
            bed->end = t + bed->fade_out;
            if (bed->end < bed->start)
                bed->end = bed->start;
            pl->last_end = bed->end > pl->last_end ? bed->end : pl->last_end;
            note_echo(pl, bed);
        }
        pl->beds[b] = pl->beds[--pl->n_beds];
        break;
    }
    return RP_OK;
}

static rp_status place_item(rp_placer *pl, const rp_item *it)
{
    const rp_plan *p = pl->p;
    const rp_render_config *r = pl->r;
    if (it->kind == RP_ITEM_GAP) {
        pl->gap_from = pl->cursor;
        pl->cursor += to_frames(it->seconds, r->rate_hz);
        return RP_OK;
    }
    const rp_cue *q = it->kind == RP_ITEM_CUE ? &p->cues[it->index] : NULL;
    if (q && q->kind == RP_CUE_PAUSE) {
        // Explicit pauses show in the cue list; natural gaps do not. The
        // silence itself is in the gap that follows (see flush_gap).
        rp_event e = {.kind = RP_EV_PAUSE, .start = pl->cursor, .line = q->line, .col = q->col};
        e.end = pl->cursor + to_frames(q->seconds, r->rate_hz);
        return place(pl, &e);
    }
    if (q && q->char_pos >= 0) {
        if (pl->n_waiting < sizeof pl->waiting / sizeof pl->waiting[0])
            pl->waiting[pl->n_waiting++] = it->index;
        return RP_OK;
    }
    if (q)
        return fire(pl, q, pl->cursor, NULL);
    // An utterance, then the cues anchored in it. A room cue on its first
    // word (and any cue written before that one) comes first: the
    // utterance is in that room.
    const rp_utterance *u = &p->utts[it->index];
    int64_t at = pl->cursor;
    size_t first = 0;
    for (size_t k = 0; k < pl->n_waiting; k++)
        if (p->cues[pl->waiting[k]].kind == RP_CUE_ROOM && p->cues[pl->waiting[k]].char_pos == 0)
            first = k + 1;
    rp_status st = RP_OK;
    for (size_t k = 0; k < first && !st; k++) {
        const rp_cue *c = &p->cues[pl->waiting[k]];
        st = fire(pl, c, c->kind == RP_CUE_ROOM ? at : at + word_frame(&u->clip, c->char_pos), u);
    }
    rp_event e = {.kind = RP_EV_SPEECH,
                  .start = at,
                  .end = at + u->clip.n_frames,
                  .utt = it->index,
                  .name = u->speaker,
                  .gain = (float)rp_db_to_gain(r->speech_gain_db + u->voice->gain_db),
                  .pan = (float)u->voice->pan,
                  .room = pl->room,
                  .send = speech_send(pl, u),
                  .line = u->line,
                  .col = u->col};
    note_echo(pl, &e);
    if (!st)
        st = place(pl, &e);
    pl->cursor = e.end;
    pl->last_end = pl->cursor > pl->last_end ? pl->cursor : pl->last_end;
    for (size_t k = first; k < pl->n_waiting && !st; k++) {
        const rp_cue *c = &p->cues[pl->waiting[k]];
        st = fire(pl, c, at + word_frame(&u->clip, c->char_pos), u);
    }
    pl->n_waiting = 0;
    return st;
}

// The end: the length with its tail, and beds still open fade out over it.
static void complete(rp_placer *pl)
{
    const rp_render_config *r = pl->r;
    int64_t n = (pl->cursor > pl->last_end ? pl->cursor : pl->last_end) +
                to_frames(r->tail_s, r->rate_hz);
    if (pl->echo_end > n)
        n = pl->echo_end;
    for (size_t b = 0; b < pl->n_beds; b++) {
        rp_event *bed = find_placed(pl, pl->beds[b].order);
        if (bed) {
            bed->end = n;
            bed->fade_out = to_frames(r->tail_s, r->rate_hz);
        }
    }
    pl->n_beds = 0;
    end_room(pl, n);
    pl->out->n_frames = n;
    pl->done = 1;
}

rp_status rp_placer_advance(rp_placer *pl, size_t ready)
{
    const rp_plan *p = pl->p;
    rp_status st = RP_OK;
    for (; pl->item < p->n_items && !st; pl->item++) {
        const rp_item *it = &p->items[pl->item];
        if (it->kind == RP_ITEM_UTT && it->index >= ready)
            break;
        st = place_item(pl, it);
    }
    if (!st && pl->item == p->n_items && !pl->done)
        complete(pl);
    return st ? st : release(pl);
}

rp_status rp_layout_place(const rp_plan *p, const rp_render_config *r, rp_timeline *out)
{
    rp_placer *pl = rp_placer_new(p, r, out);
    if (!pl)
        return RP_ERR_NOMEM;
    rp_status st = rp_placer_advance(pl, p->n_utts);
    rp_placer_free(pl);
    return st;
}

// ---- cue sheet ---------------------------------------------------------------

static void tsv_text(rp_strbuf *b, const char *s)
{
    for (; *s; s++)
        rp_strbuf_append(b, *s == '\t' || *s == '\n' ? " " : s, 1);
}

// The room's settings in effect, for the cue sheet.
static void room_text(rp_strbuf *b, const rp_plan *p, int room)
{
    if (room <= 0 || (size_t)room > p->n_rooms) {
        rp_strbuf_puts(b, ": dry");
        return;
    }
    const rp_room_preset *r = &p->rooms[room - 1];
    rp_strbuf_printf(b, ": rt60 %.2f s", r->rt60_s);
    const char *const keys[2] = {"early", "wet"};
    const double db[2] = {r->early_db, r->wet_db};
    for (int i = 0; i < 2; i++) {
        if (isinf(db[i]))
            rp_strbuf_printf(b, ", %s off", keys[i]);
        else
            rp_strbuf_printf(b, ", %s %.1f dB", keys[i], db[i]);
    }
}

void rp_timeline_write_tsv(const rp_timeline *t, const rp_plan *p, rp_strbuf *out)
{
    static const char *const kinds[] = {"speech", "sfx", "bed", "pause", "room"};
    rp_strbuf_puts(out, "start\tend\tkind\twho\ttext\n");
    for (size_t i = 0; i < t->n; i++) {
        const rp_event *e = &t->ev[i];
        rp_strbuf_printf(out, "%.3f\t%.3f\t%s\t", (double)e->start / t->rate_hz,
                         (double)e->end / t->rate_hz, kinds[e->kind]);
        tsv_text(out, e->name ? e->name : "-");
        rp_strbuf_puts(out, "\t");
        if (e->kind == RP_EV_SPEECH)
            tsv_text(out, p->utts[e->utt].text);
        else
            rp_strbuf_printf(out, "line %d", e->line);
        if (e->kind == RP_EV_ROOM)
            room_text(out, p, e->room);
        rp_strbuf_puts(out, "\n");
    }
}
