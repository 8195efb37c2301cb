// SPDX-License-Identifier: GPL-3.0-or-later
// Tests for layout: small chapters go through the real parser, attribution,
// casting and the built-in effects; every utterance then gets a fake clip of
// 1000 frames per code point with a word mark at each word start (frame =
// 1000 * char_pos), so that every position on the timeline can be predicted
// exactly from the render settings: sentence splitting, voices, the pauses
// between utterances (the longest owed wins, {pause} adds), cues on their
// word, beds and stops, rooms carried to the events after them with their
// send levels, the errors, and the TSV cue sheet.
#include <stdint.h>

#include "rp_cast.h"
#include "rp_config.h"
#include "rp_layout.h"
#include "rp_script.h"
#include "rp_sfx.h"
#include "test.h"

enum { RATE = RP_DEFAULT_RATE_HZ, PER_CHAR = 1000 };

static rp_sfx_library LIB;
static int lib_loaded;

static rp_script S;
static rp_diags D;
static rp_cast C;
static rp_plan P;
static rp_timeline T;
static rp_status ST_PARSE, ST_BUILD, ST_PLACE;
static int live;

static void release(void)
{
    if (live) {
        rp_timeline_deinit(&T);
        rp_plan_deinit(&P);
        rp_cast_deinit(&C);
        rp_script_deinit(&S);
        rp_diags_deinit(&D);
    }
    live = 0;
}

static void load_library(void)
{
    if (lib_loaded)
        return;
    rp_diags d;
    rp_diags_init(&d);
    rp_sfx_library_init(&LIB);
    CHECK_INT(rp_sfx_library_add_builtin(&LIB, &d), RP_OK);
    CHECK_INT(d.n_errors, 0);
    rp_diags_deinit(&d);
    lib_loaded = 1;
}

// 1000 frames per code point, a word mark at every word start.
static void fake_clip(rp_utterance *u, int rate_hz)
{
    const char *t = u->text;
    size_t len = strlen(t), n_cp = rp_utf8_count(t, len);
    rp_clip *c = &u->clip;
    c->pcm = NULL;
    c->n_frames = (int64_t)n_cp * PER_CHAR;
    c->rate_hz = rate_hz;
    c->words = calloc(n_cp + 1, sizeof *c->words);
    c->n_words = 0;
    int32_t cp = 0;
    int prev_space = 1;
    for (size_t i = 0; i < len && c->words;) {
        int l;
        uint32_t ch = rp_utf8_decode(t + i, len - i, &l);
        int space = ch == ' ';
        if (!space && prev_space)
            c->words[c->n_words++] = (rp_word_mark){cp, (int64_t)cp * PER_CHAR};
        prev_space = space;
        i += (size_t)l;
        cp++;
    }
}

// The whole pipeline; cfg (may be NULL) replaces the render settings, and
// sheet (may be NULL) is loaded as the cast sheet.
static void run_sheet(const char *text, const rp_render_config *cfg, const char *sheet)
{
    release();
    load_library();
    live = 1;
    rp_diags_init(&D);
    ST_PARSE = rp_parse("ch.txt", text, strlen(text), &S, &D);
    CHECK_INT(rp_attribute(&S, &D), RP_OK);
    CHECK_INT(rp_cast_init(&C), RP_OK);
    if (sheet)
        CHECK_INT(rp_cast_load(&C, "ch.cast", sheet, strlen(sheet), &D), RP_OK);
    if (cfg)
        C.render = *cfg;
    CHECK_INT(rp_cast_assign(&C, &S), RP_OK);
    ST_BUILD = rp_layout_build(&S, &C, &LIB, &P, &D);
    for (size_t i = 0; i < P.n_utts; i++)
        fake_clip(&P.utts[i], C.render.rate_hz);
    ST_PLACE = rp_layout_place(&P, &C.render, &T);
}

static void run_cfg(const char *text, const rp_render_config *cfg)
{
    run_sheet(text, cfg, NULL);
}

static void run(const char *text)
{
    run_cfg(text, NULL);
}

static void run_ok(int src_line, const char *text, const rp_render_config *cfg)
{
    run_cfg(text, cfg);
    if (ST_PARSE != RP_OK || ST_BUILD != RP_OK || ST_PLACE != RP_OK || D.n_errors) {
        test_failed_checks++;
        fprintf(stderr, "%s:%d: pipeline failed (parse %d, build %d, place %d, %zu errors)\n",
                __FILE__, src_line, ST_PARSE, ST_BUILD, ST_PLACE, D.n_errors);
        char line[512];
        for (size_t i = 0; i < D.n; i++)
            fprintf(stderr, "  %s\n", rp_diag_format(&D.items[i], line, sizeof line));
    }
}
#define RUN_OK(text) run_ok(__LINE__, text, NULL)
#define RUN_OK_CFG(text, cfg) run_ok(__LINE__, text, cfg)

static int64_t frames(double s)
{
    return (int64_t)llround(s * RATE);
}

// The k-th event of a kind on the timeline, or NULL.
static const rp_event *nth_event(rp_event_kind kind, size_t k)
{
    for (size_t i = 0; i < T.n; i++)
        if (T.ev[i].kind == kind && k-- == 0)
            return &T.ev[i];
    return NULL;
}

static size_t count_events(rp_event_kind kind)
{
    size_t n = 0;
    while (nth_event(kind, n))
        n++;
    return n;
}

static const rp_event *speech(size_t k)
{
    return nth_event(RP_EV_SPEECH, k);
}

static int64_t chars(const char *s)
{
    return (int64_t)rp_utf8_count(s, strlen(s)) * PER_CHAR;
}

// Gap in frames between the end of speech k and the start of speech k + 1.
static int64_t gap_after(size_t k)
{
    const rp_event *a = speech(k), *b = speech(k + 1);
    return a && b ? b->start - a->end : -1;
}

static void check_utt(int src_line, size_t k, const char *text, const char *speaker)
{
    if (k >= P.n_utts) {
        test_failed_checks++;
        fprintf(stderr, "%s:%d: no utterance #%zu (have %zu)\n", __FILE__, src_line, k, P.n_utts);
        return;
    }
    const rp_utterance *u = &P.utts[k];
    const rp_voice *want = rp_cast_voice(&C, speaker);
    if (strcmp(u->text, text) != 0 || !u->speaker || strcmp(u->speaker, speaker) != 0 ||
        !want || u->voice != want) {
        test_failed_checks++;
        fprintf(stderr, "%s:%d: utterance #%zu is '%s' by %s (voice %s), want '%s' by %s\n",
                __FILE__, src_line, k, u->text, u->speaker ? u->speaker : "(null)",
                u->voice && u->voice->name ? u->voice->name : "?", text, speaker);
    }
}
#define CHECK_UTT(k, text, speaker) check_utt(__LINE__, k, text, speaker)

// Diagnostic k of a subsystem: location, message and hint (NULL: none).
static void check_diag(int src_line, const char *subsystem, size_t k, int line, int col,
                       const char *msg, const char *hint)
{
    size_t seen = 0;
    const rp_diag *g = NULL;
    for (size_t i = 0; i < D.n && !g; i++)
        if (!strcmp(D.items[i].subsystem, subsystem) && seen++ == k)
            g = &D.items[i];
    if (!g) {
        test_failed_checks++;
        fprintf(stderr, "%s:%d: no %s diagnostic #%zu\n", __FILE__, src_line, subsystem, k);
        return;
    }
    int ok = g->sev == RP_DIAG_ERROR && g->line == line && g->col == col &&
             !strcmp(g->msg, msg) && g->file && !strcmp(g->file, "ch.txt") &&
             (hint ? g->hint && !strcmp(g->hint, hint) : !g->hint);
    if (!ok) {
        test_failed_checks++;
        fprintf(stderr, "%s:%d: diagnostic #%zu is %d:%d '%s' (hint '%s'), want %d:%d '%s' (hint '%s')\n",
                __FILE__, src_line, k, g->line, g->col, g->msg, g->hint ? g->hint : "(none)", line,
                col, msg, hint ? hint : "(none)");
    }
}
#define CHECK_DIAG(k, line, col, msg, hint) check_diag(__LINE__, "layout", k, line, col, msg, hint)
#define CHECK_ROOM_DIAG(k, line, col, msg, hint)                                                   \
    check_diag(__LINE__, "room", k, line, col, msg, hint)

// ---- sentences and voices -------------------------------------------------------------------

static void test_sentences(void)
{
    RUN_OK("It rained. It poured.\n");
    CHECK_INT(P.n_utts, 2);
    CHECK_UTT(0, "It rained.", "Narrator");
    CHECK_UTT(1, "It poured.", "Narrator");
    RUN_OK("Mr. Darcy arrived.\n");
    CHECK_INT(P.n_utts, 1);
    CHECK_UTT(0, "Mr. Darcy arrived.", "Narrator");
    RUN_OK("Dr. Watson and Mrs. Hudson left. J. Smith stayed! Did he? Yes... he did.\n");
    CHECK_INT(P.n_utts, 4);
    CHECK_UTT(0, "Dr. Watson and Mrs. Hudson left.", "Narrator");
    CHECK_UTT(1, "J. Smith stayed!", "Narrator");
    CHECK_UTT(2, "Did he?", "Narrator");
    CHECK_UTT(3, "Yes... he did.", "Narrator");
    RUN_OK("Numbers like 3.5 stay whole. Really?! Yes.\n");
    CHECK_INT(P.n_utts, 3);
    CHECK_UTT(0, "Numbers like 3.5 stay whole.", "Narrator");
    CHECK_UTT(1, "Really?!", "Narrator");
    // Every utterance is on the timeline once, in order.
    CHECK_INT(count_events(RP_EV_SPEECH), 3);
    for (size_t k = 0; k < 3; k++)
        CHECK(speech(k) && speech(k)->utt == k);
}

static void test_quotes_get_their_voice(void)
{
    RUN_OK("{Amara}\"Hold the line.\" The captain nodded. {Bosun Kell}\"Aye.\"\n");
    CHECK_INT(P.n_utts, 3);
    CHECK_UTT(0, "Hold the line.", "Amara");
    CHECK_UTT(1, "The captain nodded.", "Narrator");
    CHECK_UTT(2, "Aye.", "Bosun Kell");
    const rp_voice *a = rp_cast_voice(&C, "Amara"), *k = rp_cast_voice(&C, "Bosun Kell");
    CHECK(a && k && a != k && a != &C.narrator && k != &C.narrator);
    CHECK(P.n_utts == 3 && P.utts[1].voice == &C.narrator);
    // Speech events carry the voice's pan and the speech gain.
    const rp_event *e = speech(0);
    CHECK(e && a && e->pan == (float)a->pan);
    CHECK(e && fabsf(e->gain - (float)rp_db_to_gain(C.render.speech_gain_db + a->gain_db)) < 1e-6f);
    CHECK(e && e->name && !strcmp(e->name, "Amara"));
    CHECK_INT(P.n_utts ? P.utts[0].line : 0, 1);
    // A quote of two sentences is two utterances in the same voice.
    RUN_OK("{Amara}\"Run. Now.\"\n");
    CHECK_INT(P.n_utts, 2);
    CHECK_UTT(0, "Run.", "Amara");
    CHECK_UTT(1, "Now.", "Amara");
    CHECK_INT(gap_after(0), frames(RP_PAUSE_SENTENCE_S));
}

// ---- timing -----------------------------------------------------------------------------------

static void test_gaps(void)
{
    // Sentence, speaker change, paragraph, scene break, each once.
    RUN_OK("One two. Three.\n"                 // sentence
           "\n"
           "Four. {Amara}\"Five.\"\n"          // paragraph, then speaker change
           "\n"
           "***\n"
           "\n"
           "Six.\n");                          // scene break
    CHECK_INT(P.n_utts, 5);
    const rp_render_config *r = &C.render;
    const rp_event *e0 = speech(0);
    CHECK(e0 && e0->start == frames(r->lead_in_s));
    CHECK(e0 && e0->end == e0->start + chars("One two."));
    CHECK_INT(gap_after(0), frames(r->pause_sentence_s));
    CHECK_INT(gap_after(1), frames(r->pause_paragraph_s));
    CHECK_INT(gap_after(2), frames(r->pause_speaker_s));
    CHECK_INT(gap_after(3), frames(r->pause_scene_s));
    CHECK(frames(r->pause_sentence_s) < frames(r->pause_speaker_s));
    CHECK(frames(r->pause_speaker_s) < frames(r->pause_paragraph_s));
    CHECK(frames(r->pause_paragraph_s) < frames(r->pause_scene_s));
    // Exact positions, end to end.
    int64_t at = frames(r->lead_in_s);
    const char *texts[] = {"One two.", "Three.", "Four.", "Five.", "Six."};
    double gaps[] = {r->pause_sentence_s, r->pause_paragraph_s, r->pause_speaker_s,
                     r->pause_scene_s, 0};
    for (size_t k = 0; k < 5; k++) {
        const rp_event *e = speech(k);
        CHECK_MSG(e && e->start == at && e->end == at + chars(texts[k]), "utterance %zu", k);
        at += chars(texts[k]) + frames(gaps[k]);
    }
    CHECK_INT(T.n_frames, at + frames(r->tail_s));
    CHECK_INT(T.rate_hz, RATE);
}

static void test_gaps_do_not_add(void)
{
    // A new paragraph in a new voice: the paragraph pause only.
    RUN_OK("One.\n\n{Amara}\"Two.\"\n\n***\n\n{Bosun Kell}\"Three.\"\n");
    CHECK_INT(P.n_utts, 3);
    CHECK_INT(gap_after(0), frames(RP_PAUSE_PARAGRAPH_S));
    CHECK_INT(gap_after(1), frames(RP_PAUSE_SCENE_S));
    // With a speaker pause longer than the paragraph pause, that one wins.
    rp_render_config cfg = rp_render_config_default();
    cfg.pause_speaker_s = 0.9;
    cfg.pause_sentence_s = 0.1;
    cfg.lead_in_s = 0.25;
    RUN_OK_CFG("One. Two.\n\n{Amara}\"Three.\"\n\nFour.\n", &cfg);
    CHECK_INT(P.n_utts, 4);
    CHECK(speech(0) && speech(0)->start == frames(0.25));
    CHECK_INT(gap_after(0), frames(0.1));
    CHECK_INT(gap_after(1), frames(0.9));
    CHECK_INT(gap_after(2), frames(0.9));
    // Heading: no pause before it at the start, the heading pause after it.
    RUN_OK("# The Siege\n\nRain fell.\n\n# Part Two\n\nDry.\n");
    CHECK_INT(P.n_utts, 4);
    CHECK_UTT(0, "The Siege", "Narrator");
    CHECK(speech(0) && speech(0)->start == frames(RP_LEAD_IN_S));
    CHECK_INT(gap_after(0), frames(RP_PAUSE_HEADING_S));
    CHECK_INT(gap_after(1), frames(RP_PAUSE_HEADING_S));
    CHECK_INT(gap_after(2), frames(RP_PAUSE_HEADING_S));
    // Headings not read aloud still leave their pause.
    cfg = rp_render_config_default();
    cfg.announce_headings = 0;
    RUN_OK_CFG("Rain fell.\n\n# Part Two\n\nDry.\n", &cfg);
    CHECK_INT(P.n_utts, 2);
    CHECK_INT(gap_after(0), frames(RP_PAUSE_HEADING_S));
}

static void test_pause(void)
{
    const int64_t p15 = frames(1.5);
    // Mid-sentence: exactly the pause, and a pause event over it.
    RUN_OK("The door {pause 1.5} opened.\n");
    CHECK_INT(P.n_utts, 2);
    CHECK_UTT(0, "The door", "Narrator");
    CHECK_UTT(1, "opened.", "Narrator");
    CHECK_INT(gap_after(0), p15);
    CHECK_INT(count_events(RP_EV_PAUSE), 1);
    const rp_event *pe = nth_event(RP_EV_PAUSE, 0);
    CHECK(pe && speech(0) && pe->start == speech(0)->end && pe->end == pe->start + p15);
    CHECK(pe && pe->line == 1 && pe->col == 10);
    // At the end of a paragraph: the paragraph pause plus 1.5 s.
    RUN_OK("One. {pause 1.5}\n\nTwo.\n");
    CHECK_INT(gap_after(0), frames(RP_PAUSE_PARAGRAPH_S) + p15);
    // At the start of a paragraph: the same.
    RUN_OK("One.\n\n{pause 1.5} Two.\n");
    CHECK_INT(gap_after(0), frames(RP_PAUSE_PARAGRAPH_S) + p15);
    // On its own line between paragraphs: the same again.
    RUN_OK("One.\n\n{pause 1.5}\n\nTwo.\n");
    CHECK_MSG(gap_after(0) == frames(RP_PAUSE_PARAGRAPH_S) + p15,
              "pause paragraph: gap %lld, want %lld", (long long)gap_after(0),
              (long long)(frames(RP_PAUSE_PARAGRAPH_S) + p15));
    // Between two sentences: the sentence pause plus 1.5 s.
    RUN_OK("One. {pause 1.5} Two.\n");
    CHECK_MSG(gap_after(0) == frames(RP_PAUSE_SENTENCE_S) + p15,
              "pause between sentences: gap %lld, want %lld", (long long)gap_after(0),
              (long long)(frames(RP_PAUSE_SENTENCE_S) + p15));
    CHECK_INT(count_events(RP_EV_PAUSE), 1);
}

// ---- cues ---------------------------------------------------------------------------------------

static void test_sfx_on_its_word(void)
{
    RUN_OK("The first pod {sfx thunder} slammed into the street.\n");
    CHECK_INT(P.n_utts, 1);
    CHECK_UTT(0, "The first pod slammed into the street.", "Narrator");
    const rp_event *s = speech(0), *x = nth_event(RP_EV_SFX, 0);
    CHECK(s && x);
    if (!s || !x)
        return;
    // "slammed" is code point 14 of the utterance.
    CHECK_INT(x->start, s->start + 14 * PER_CHAR);
    const rp_sfx_preset *thunder = rp_sfx_library_find(&LIB, "thunder");
    CHECK(x->preset == thunder);
    CHECK_INT(x->end - x->start, frames(rp_sfx_preset_duration_s(thunder)));
    CHECK_STR(x->name, "thunder");
    CHECK_INT(x->line, 1);
    CHECK_INT(x->col, 15);
    CHECK(fabsf(x->gain - (float)rp_db_to_gain(RP_SFX_GAIN_DB)) < 1e-6f);
    // The timeline runs to the end of the effect plus the tail.
    CHECK_INT(T.n_frames, x->end + frames(RP_TAIL_S));
    // Events are sorted by start.
    for (size_t i = 1; i < T.n; i++)
        CHECK(T.ev[i - 1].start <= T.ev[i].start);

    // Second sentence, with parameters: gain, pan and delay.
    RUN_OK("It was quiet. Then the {sfx thunder gain=-3 pan=-0.5 delay=0.25} sky split.\n");
    CHECK_INT(P.n_utts, 2);
    s = speech(1);
    x = nth_event(RP_EV_SFX, 0);
    CHECK(s && x);
    if (s && x) {
        CHECK_INT(x->start, s->start + 9 * PER_CHAR + frames(0.25));  // "sky" at 9
        CHECK(fabsf(x->gain - (float)rp_db_to_gain(RP_SFX_GAIN_DB - 3.0)) < 1e-6f);
        CHECK(x->pan == -0.5f);
    }
    // Two cues of the same effect get different seeds; the render seed
    // changes them all.
    RUN_OK("A {sfx thunder} b {sfx thunder} c.\n");
    CHECK_INT(count_events(RP_EV_SFX), 2);
    uint64_t s0 = nth_event(RP_EV_SFX, 0) ? nth_event(RP_EV_SFX, 0)->seed : 0;
    uint64_t s1 = nth_event(RP_EV_SFX, 1) ? nth_event(RP_EV_SFX, 1)->seed : 0;
    CHECK(s0 != s1);
    rp_render_config cfg = rp_render_config_default();
    cfg.seed = 99;
    RUN_OK_CFG("A {sfx thunder} b {sfx thunder} c.\n", &cfg);
    CHECK(nth_event(RP_EV_SFX, 0) && nth_event(RP_EV_SFX, 0)->seed != s0);
}

static void test_cue_at_paragraph_end(void)
{
    RUN_OK("The door closed. {sfx thunder}\n\nSilence.\n");
    CHECK_INT(P.n_utts, 2);
    const rp_event *s = speech(0), *x = nth_event(RP_EV_SFX, 0);
    CHECK(s && x && x->start == s->end);
    // The next paragraph still waits its pause after the speech.
    CHECK_INT(gap_after(0), frames(RP_PAUSE_PARAGRAPH_S));
    // A cue between two sentences fires on the first word of the second.
    RUN_OK("One. {sfx thunder} Two.\n");
    s = speech(1);
    x = nth_event(RP_EV_SFX, 0);
    CHECK(s && x && x->start == s->start);
    // A line of cues only is no paragraph of its own: it fires where the
    // chapter has got to, and the next paragraph waits one paragraph pause.
    RUN_OK("One.\n\n{sfx thunder}\n\nTwo.\n");
    s = speech(0);
    x = nth_event(RP_EV_SFX, 0);
    CHECK(s && x && x->start == s->end);
    CHECK_INT(gap_after(0), frames(RP_PAUSE_PARAGRAPH_S));
}

static void test_bed_and_stop(void)
{
    RUN_OK("{bed rain} Rain fell on the roofs. {stop rain fade=2}\n\nThe sun came out.\n");
    CHECK_INT(count_events(RP_EV_BED), 1);
    const rp_event *b = nth_event(RP_EV_BED, 0), *s0 = speech(0);
    CHECK(b && s0);
    if (!b || !s0)
        return;
    CHECK(b->preset == rp_sfx_library_find(&LIB, "rain"));
    CHECK_INT(b->start, s0->start);  // on the first word
    CHECK_INT(b->fade_in, frames(RP_BED_FADE_S));
    // Stopped at the end of the paragraph, ending 2 s later.
    CHECK_INT(b->fade_out, frames(2.0));
    CHECK_INT(b->end, s0->end + frames(2.0));
    CHECK(fabsf(b->gain - (float)rp_db_to_gain(RP_BED_GAIN_DB)) < 1e-6f);
    // Stopped mid-paragraph, on the word after the stop.
    RUN_OK("{bed rain fade=1 gain=-3} Rain. It stops {stop rain fade=0.5} now.\n");
    b = nth_event(RP_EV_BED, 0);
    const rp_event *s1 = speech(1);
    CHECK(b && s1);
    if (b && s1) {
        CHECK_INT(b->fade_in, frames(1.0));
        CHECK_INT(b->end, s1->start + 9 * PER_CHAR + frames(0.5));  // "now." at 9
        CHECK(fabsf(b->gain - (float)rp_db_to_gain(RP_BED_GAIN_DB - 3.0)) < 1e-6f);
    }
    // Never stopped: it plays to the end and fades over the tail.
    RUN_OK("{bed rain} Rain.\n");
    b = nth_event(RP_EV_BED, 0);
    CHECK(b && b->end == T.n_frames && b->fade_out == frames(RP_TAIL_S));
    // Started again after a stop: two beds.
    RUN_OK("{bed rain} A. {stop rain}\n\n{bed rain} B.\n");
    CHECK_INT(ST_BUILD, RP_OK);
    CHECK_INT(count_events(RP_EV_BED), 2);
}

static void test_beds_crossfade_at_scene_break(void)
{
    // The bed that opens a scene starts with the break, as the last scene's
    // bed begins to fade: they cross over the break.
    RUN_OK("{bed rain} A. {stop rain}\n\n* * *\n\n{bed wind} B.\n");
    const rp_event *rain = nth_event(RP_EV_BED, 0), *wind = nth_event(RP_EV_BED, 1);
    const rp_event *a = speech(0), *b = speech(1);
    CHECK(rain && wind && a && b);
    if (rain && wind && a && b) {
        CHECK(rain->preset == rp_sfx_library_find(&LIB, "rain"));
        CHECK_INT(rain->end - rain->fade_out, a->end);  // fades from the break
        CHECK_INT(wind->start, a->end);                 // and wind comes in there
        CHECK_INT(wind->fade_in, frames(RP_BED_FADE_S));
        CHECK_INT(b->start - a->end, frames(RP_PAUSE_SCENE_S));
    }
    // Without a scene break, or after the scene's first words, a bed starts
    // on its word.
    RUN_OK("{bed rain} A. {stop rain}\n\n{bed wind} B.\n");
    wind = nth_event(RP_EV_BED, 1);
    b = speech(1);
    CHECK(wind && b && wind->start == b->start);
    RUN_OK("{bed rain} A. {stop rain}\n\n* * *\n\nBe here. {bed wind} Come.\n");
    wind = nth_event(RP_EV_BED, 1);
    const rp_event *c = speech(2);
    CHECK(wind && c && wind->start == c->start);
}

// Whether two timelines hold the same events (rp_event_same: not their padding).
static int same_events(const rp_timeline *a, const rp_timeline *b)
{
    for (size_t i = 0; a->n == b->n && i < a->n; i++)
        if (!rp_event_same(&a->ev[i], &b->ev[i]))
            return 0;
    return a->n == b->n;
}

// Step by step, one utterance at a time as a player synthesizes them, the
// placer releases events that are final: sorted, never starting before the
// horizon reached before, and in the end the very timeline of one pass.
static void test_placer_step_by_step_equals_one_pass(void)
{
    RUN_OK("{bed rain} The rain fell. {sfx thunder} Thunder. \"Go,\" he said.\n\n"
           "{pause 1}Then more. {sfx pod_impact delay=0.3} Slam!\n\n* * *\n\n"
           "{stop rain}{bed wind fade=2} Wind. And on. {stop wind}\n\n# End\n\nLast words.\n");
    rp_timeline step;
    rp_placer *pl = rp_placer_new(&P, &C.render, &step);
    CHECK(pl != NULL);
    if (!pl)
        return;
    int64_t horizon = 0;
    size_t released = 0, grew = 0;
    for (size_t ready = 0; ready <= P.n_utts; ready++) {
        CHECK_INT(rp_placer_advance(pl, ready), RP_OK);
        CHECK(rp_placer_done(pl) == (ready == P.n_utts));
        CHECK(ready == P.n_utts || step.n_frames == INT64_MAX);
        for (size_t i = released; i < step.n; i++) {
            CHECK_MSG(step.ev[i].start >= horizon, "event %zu starts at %lld, before %lld", i,
                      (long long)step.ev[i].start, (long long)horizon);
            CHECK(i == 0 || step.ev[i - 1].start <= step.ev[i].start);
        }
        grew += step.n > released;
        released = step.n;
        int64_t h = rp_placer_horizon(pl);
        CHECK(h >= horizon);
        horizon = h;
    }
    CHECK(grew >= 4);  // events came out along the way, not all at the end
    CHECK_INT(step.n, T.n);
    CHECK_INT(step.n_frames, T.n_frames);
    CHECK(same_events(&step, &T));
    rp_placer_free(pl);
    rp_timeline_deinit(&step);
}

// n and p in `play` move by paragraph: a heading is one, quotes and
// narration of one paragraph are one.
static void test_paragraph_moves(void)
{
    RUN_OK("# Title\n\nOne. Two. \"Three,\" he said.\n\nFour.\n\n* * *\n\nFive. Six.\n");
    check_utt(__LINE__, 0, "Title", "Narrator");
    check_utt(__LINE__, 5, "Four.", "Narrator");
    check_utt(__LINE__, 6, "Five.", "Narrator");
    CHECK_INT(P.n_utts, 8);
    const size_t start[] = {0, 1, 1, 1, 1, 5, 6, 6};
    const size_t next[] = {1, 5, 5, 5, 5, 6, 8, 8};
    for (size_t k = 0; k < P.n_utts && k < 8; k++) {
        CHECK_INT(rp_plan_paragraph_start(&P, k), start[k]);
        CHECK_INT(rp_plan_next_paragraph(&P, (long)k), next[k]);
    }
    CHECK_INT(rp_plan_next_paragraph(&P, -1), 0);
}

// ---- errors -------------------------------------------------------------------------------------

static void test_errors(void)
{
    run("The {sfx thundr} came.\n");
    CHECK_INT(ST_BUILD, RP_ERR_INPUT);
    CHECK_DIAG(0, 1, 5, "unknown effect 'thundr'", "did you mean 'thunder'?");
    CHECK_INT(count_events(RP_EV_SFX), 0);
    CHECK_INT(P.n_utts, 1);  // the text is still laid out
    run("Quiet.\n\nStill {stop rain} quiet.\n");
    CHECK_INT(ST_BUILD, RP_ERR_INPUT);
    CHECK_DIAG(0, 3, 7, "no bed named 'rain' is playing", "start it with {bed NAME}");
    run("A {bed rain} b {stop rian} c.\n");
    CHECK_INT(ST_BUILD, RP_ERR_INPUT);
    CHECK_DIAG(0, 1, 16, "no bed named 'rian' is playing", "did you mean 'rain'?");
    run("A {sfx thunder gain=loud} b.\n");
    CHECK_INT(ST_BUILD, RP_ERR_INPUT);
    CHECK_DIAG(0, 1, 16, "gain: 'loud' is not a number", NULL);
    run("A {sfx thunder pan=2} b.\n");
    CHECK_INT(ST_BUILD, RP_ERR_INPUT);
    CHECK_DIAG(0, 1, 16, "pan must be between -1 and 1", NULL);
    run("A {sfx thunder volume=3} b.\n");
    CHECK_INT(ST_BUILD, RP_ERR_INPUT);
    CHECK_DIAG(0, 1, 16, "unknown parameter 'volume'", "sfx takes gain, pan, delay");
    run("A {sfx thunder gian=3} b.\n");
    CHECK_DIAG(0, 1, 16, "unknown parameter 'gian'", "did you mean 'gain'?");
    // Named limits are located errors, never silently dropped cues.
    {
        char many[2048] = "Start";
        for (int i = 0; i < 65; i++)
            strcat(many, " {sfx thunder} x");
        strcat(many, ".\n");
        run(many);
        CHECK_INT(ST_BUILD, RP_ERR_INPUT);
        CHECK_DIAG(0, 1, 6 + 16 * 64 + 1, "more than 64 cues in one paragraph", "split the paragraph");
        CHECK_INT(count_events(RP_EV_SFX), 64);
    }
    run("A {stop rain}\n{bed rain delay=1} b.\n");
    CHECK_INT(ST_BUILD, RP_ERR_INPUT);
    CHECK_DIAG(0, 1, 3, "no bed named 'rain' is playing", "start it with {bed NAME}");
    CHECK_DIAG(1, 2, 11, "unknown parameter 'delay'", "bed takes gain, pan, fade");
    run("A {sfx rain} b {bed thunder} c.\n");
    CHECK_DIAG(0, 1, 3, "'rain' is a looping bed, not a one-shot effect", "use {bed rain}");
    CHECK_DIAG(1, 1, 16, "'thunder' is a one-shot effect, not a bed", "use {sfx thunder}");
    // Several errors in one chapter, in order.
    run("A {sfx thundr} b.\n\nC {stop wind} d {sfx thunder gain=99} e.\n");
    CHECK_INT(ST_BUILD, RP_ERR_INPUT);
    size_t n = 0;
    for (size_t i = 0; i < D.n; i++)
        n += !strcmp(D.items[i].subsystem, "layout");
    CHECK_INT(n, 3);
    CHECK_DIAG(0, 1, 3, "unknown effect 'thundr'", "did you mean 'thunder'?");
    CHECK_DIAG(1, 3, 3, "no bed named 'wind' is playing", "start it with {bed NAME}");
    CHECK_DIAG(2, 3, 30, "gain must be between -60 and 12 dB", NULL);
}

// ---- rooms
// ----------------------------------------------------------------------------------------

// The speech event of the utterance whose text starts with text, or NULL.
static const rp_event *speech_of(const char *text)
{
    for (size_t i = 0; i < T.n; i++)
        if (T.ev[i].kind == RP_EV_SPEECH && !strncmp(P.utts[T.ev[i].utt].text, text, strlen(text)))
            return &T.ev[i];
    return NULL;
}

#define CHECK_IN_ROOM(e, want_room, want_send)                                                     \
    do {                                                                                           \
        const rp_event *e_ = (e);                                                                  \
        CHECK(e_ != NULL);                                                                         \
        if (e_) {                                                                                  \
            CHECK_INT(e_->room, want_room);                                                        \
            CHECK_NEAR(e_->send, want_send, 1e-6);                                                 \
        }                                                                                          \
    } while (0)

// {Kirk effect=radio}"...": every utterance of that quote gets the effect,
// the speaker's next quote has the cast's again; effect=none makes a quote
// dry under a cast effect. The room send follows the quote's effect.
static void test_quote_effect(void)
{
    static const char sheet[] = "[voice Kestrel]\neffect = pa\n";
    run_sheet("{room hall}{Kirk effect=radio}\"Shields at forty. Hull {sfx thunder} holding.\" "
              "{Kirk}\"Hold.\"\n\n"
              "{Kestrel effect=none}\"Quiet now.\" {Kestrel}\"All hands.\"\n\n"
              "KIRK: Aye.\n",
              NULL, sheet);
    CHECK_INT(ST_PARSE, RP_OK);
    CHECK_INT(ST_BUILD, RP_OK);
    CHECK_INT(D.n_errors, 0);
    CHECK_INT(P.n_utts, 7);
    if (P.n_utts != 7)
        return;
    CHECK_UTT(0, "Shields at forty.", "Kirk");
    CHECK_UTT(1, "Hull", "Kirk");
    CHECK_UTT(2, "holding.", "Kirk");
    CHECK_UTT(3, "Hold.", "Kirk");
    CHECK_INT(P.utts[0].fx, RP_VFX_RADIO);
    CHECK_INT(P.utts[1].fx, RP_VFX_RADIO);
    CHECK_INT(P.utts[2].fx, RP_VFX_RADIO);
    CHECK_INT(P.utts[3].fx, RP_VFX_NONE);
    CHECK(P.utts[0].voice == P.utts[3].voice); // the same voice, only the effect differs
    CHECK_INT(P.utts[0].voice->fx, RP_VFX_NONE);
    CHECK_UTT(4, "Quiet now.", "Kestrel");
    CHECK_UTT(5, "All hands.", "Kestrel");
    CHECK_INT(P.utts[4].fx, RP_VFX_NONE);
    CHECK_INT(P.utts[5].fx, RP_VFX_PA);
    CHECK_INT(P.utts[6].fx, RP_VFX_NONE); // a screenplay line: the cast's
    // In the hall: the radio is heard at the ear, the dry Kestrel in the room.
    CHECK_IN_ROOM(speech_of("Shields"), 1, 0);
    CHECK_IN_ROOM(speech_of("holding."), 1, 0);
    CHECK_IN_ROOM(speech_of("Hold."), 1, 1.0);
    CHECK_IN_ROOM(speech_of("Quiet now."), 1, 1.0);
    CHECK_IN_ROOM(speech_of("All hands."), 1, rp_db_to_gain(RP_ROOM_SEND_PA_DB));
}

static void test_rooms_carried_to_events(void)
{
    static const char sheet[] = "[voice Kestrel]\neffect = radio\n\n"
                                "[voice Tannoy]\neffect = pa\n";
    run_sheet(
        "Outside first.\n\n"
        "{room hall}\n\n"
        "\"Hello?\" Mira called. {sfx thunder} Thunder. {bed rain} Rain.\n\n"
        "KESTREL: Come in.\n\n"
        "TANNOY: All hands.\n\n"
        "* * *\n\n"
        "\"Still here,\" Mira said.\n\n"
        "{room street wet=-12}\"Out,\" Mira said. She went {room hall} in {sfx thunder} again.\n\n"
        "{stop rain}{room none}\"Dry,\" Mira said.\n",
        NULL, sheet);
    CHECK_INT(ST_BUILD, RP_OK);
    CHECK_INT(ST_PLACE, RP_OK);
    CHECK_INT(D.n_errors, 0);
    // Two rooms with a reverb: the hall, and the street with its wet level;
    // none is dry and needs no bus.
    CHECK_INT(P.n_rooms, 2);
    if (P.n_rooms == 2) {
        CHECK_STR(P.rooms[0].name, "hall");
        CHECK_NEAR(P.rooms[0].rt60_s, 2.4, 1e-9);
        CHECK_STR(P.rooms[1].name, "street");
        CHECK_NEAR(P.rooms[1].wet_db, -12.0, 1e-9);
    }
    double send = 1.0, bed = rp_db_to_gain(RP_ROOM_SEND_BED_DB);
    CHECK_IN_ROOM(speech_of("Outside first."), 0, 0);
    // In the hall: dialogue is sent, the narrator is not in the room, a radio
    // voice is heard at the ear, a PA horn sends more.
    CHECK_IN_ROOM(speech_of("Hello?"), 1, send);
    CHECK_IN_ROOM(speech_of("Mira called."), 1, 0);
    CHECK_IN_ROOM(nth_event(RP_EV_SFX, 0), 1, send);
    CHECK_IN_ROOM(nth_event(RP_EV_BED, 0), 1, bed);
    CHECK_IN_ROOM(speech_of("Come in."), 1, 0);
    CHECK_IN_ROOM(speech_of("All hands."), 1, rp_db_to_gain(RP_ROOM_SEND_PA_DB));
    // A scene break keeps the room.
    CHECK_IN_ROOM(speech_of("Still here,"), 1, send);
    // A room on the first word of a line is that line's; further in, it is
    // what follows: "She went in" stays in the street, the thunder after
    // "in" is in the hall.
    CHECK_IN_ROOM(speech_of("Out,"), 2, send);
    CHECK_IN_ROOM(speech_of("She went in"), 2, 0);
    CHECK_IN_ROOM(nth_event(RP_EV_SFX, 1), 1, send);
    CHECK_IN_ROOM(speech_of("Dry,"), 0, 0);
    // The room events: where each takes effect, until the next.
    CHECK_INT(count_events(RP_EV_ROOM), 4);
    const rp_event *r0 = nth_event(RP_EV_ROOM, 0), *r1 = nth_event(RP_EV_ROOM, 1),
                   *r2 = nth_event(RP_EV_ROOM, 2), *r3 = nth_event(RP_EV_ROOM, 3);
    if (r0 && r1 && r2 && r3) {
        CHECK_STR(r0->name, "hall");
        CHECK_INT(r0->room, 1);
        CHECK_INT(r0->line, 3);
        CHECK_INT(r0->start, speech_of("Outside first.")->end);
        CHECK_INT(r0->end, r1->start);
        CHECK_INT(r1->room, 2);
        CHECK_INT(r1->start, speech_of("Out,")->start);
        CHECK_INT(r2->room, 1);
        CHECK_INT(r2->start, speech_of("She went in")->start + 9 * PER_CHAR); // at "in"
        CHECK_STR(r3->name, "none");
        CHECK_INT(r3->room, 0);
        CHECK_INT(r3->end, T.n_frames);
    }
    // The last thing sent to a room is the second thunder: the timeline lasts
    // until the hall has rung out after it.
    const rp_event *th = nth_event(RP_EV_SFX, 1);
    if (th)
        CHECK_INT(T.n_frames, th->end + frames(rp_room_decay_s(&P.rooms[0])));
    // The cue sheet shows each room as it was resolved.
    rp_strbuf b;
    rp_strbuf_init(&b);
    rp_timeline_write_tsv(&T, &P, &b);
    CHECK(b.s && strstr(b.s, "\troom\thall\tline 3: rt60 2.40 s, early -8.0 dB, wet -8.0 dB\n"));
    CHECK(b.s &&
          strstr(b.s, "\troom\tstreet\tline 15: rt60 1.30 s, early -9.0 dB, wet -12.0 dB\n"));
    CHECK(b.s && strstr(b.s, "\troom\tnone\tline 17: dry\n"));
    rp_strbuf_deinit(&b);

    // The same room twice is one bus; the same name with other settings is
    // another. Placed step by step, rooms come out as in one pass.
    RUN_OK("{room hall} One. {room hall} Two. {room hall wet=-20} Three.\n\n"
           "{bed rain}{room tunnel} Four. {stop rain} Five.\n");
    CHECK_INT(P.n_rooms, 3);
    CHECK_IN_ROOM(speech_of("One."), 1, 0);
    CHECK_INT(nth_event(RP_EV_ROOM, 1)->room, 1);
    CHECK_INT(nth_event(RP_EV_ROOM, 2)->room, 2);
    CHECK_IN_ROOM(nth_event(RP_EV_BED, 0), 2, bed); // started before the tunnel
    rp_timeline step;
    rp_placer *pl = rp_placer_new(&P, &C.render, &step);
    for (size_t ready = 0; pl && ready <= P.n_utts; ready++)
        CHECK_INT(rp_placer_advance(pl, ready), RP_OK);
    CHECK(step.n_frames == T.n_frames && same_events(&step, &T));
    rp_placer_free(pl);
    rp_timeline_deinit(&step);
}

static void test_room_errors(void)
{
    run("A {room hal} b.\n");
    CHECK_INT(ST_BUILD, RP_ERR_INPUT);
    CHECK_ROOM_DIAG(0, 1, 3, "unknown room 'hal'", "did you mean 'hall'?");
    CHECK_INT(P.n_utts, 1); // the text is still laid out
    CHECK_INT(count_events(RP_EV_ROOM), 0);
    run("A {room hall wet=loud} b\n{room hall wett=-3 rt60=50} c.\n");
    CHECK_INT(ST_BUILD, RP_ERR_INPUT);
    CHECK_ROOM_DIAG(0, 1, 14, "wet: expected a number, got 'loud'", "a level in dB, or off");
    CHECK_ROOM_DIAG(1, 2, 12, "unknown room key 'wett'", "did you mean 'wet'?");
    CHECK_ROOM_DIAG(2, 2, 20, "rt60 must be between 0.1 and 20 s", NULL);
    CHECK_INT(count_events(RP_EV_ROOM), 0);
    run("A {room hall size=\"3 km\"} b.\n");
    CHECK_ROOM_DIAG(0, 1, 14, "unit 'km' does not fit size", "use m (metres)");
    // Named limit: rooms, each with its own reverb.
    char many[4096] = "Start";
    int col = 0;
    for (int i = 0; i < RP_MAX_ROOMS + 1; i++) {
        col = (int)strlen(many) + 2;
        snprintf(many + strlen(many), sizeof many - strlen(many), " {room hall wet=-%d} x", i + 1);
    }
    strcat(many, ".\n");
    run(many);
    CHECK_INT(ST_BUILD, RP_ERR_INPUT);
    CHECK_DIAG(0, 1, col, "more than 32 different rooms in one chapter",
               "use a room again rather than new settings");
    CHECK_INT(P.n_rooms, RP_MAX_ROOMS);
}

// ---- cue sheet ----------------------------------------------------------------------------------

static void test_tsv(void)
{
    RUN_OK("One two. {sfx thunder}\n\n{Amara}\"Tab\there.\" {pause 0.25}\n");
    rp_strbuf b;
    rp_strbuf_init(&b);
    rp_timeline_write_tsv(&T, &P, &b);
    // Speech 0.500-0.667 (8 chars), thunder from 0.667 for its duration, the
    // paragraph pause (0.7 s), "Tab here." 1.367-1.554, the pause to 1.804.
    double thunder = rp_sfx_preset_duration_s(rp_sfx_library_find(&LIB, "thunder"));
    char want[1024];
    snprintf(want, sizeof want,
             "start\tend\tkind\twho\ttext\n"
             "0.500\t0.667\tspeech\tNarrator\tOne two.\n"
             "0.667\t%.3f\tsfx\tthunder\tline 1\n"
             "1.367\t1.554\tspeech\tAmara\tTab here.\n"
             "1.554\t1.804\tpause\t-\tline 3\n",
             (32000.0 + (double)frames(thunder)) / RATE);
    CHECK_STR(b.s, want);
    rp_strbuf_deinit(&b);
    // Tabs and newlines in a text cannot break the columns.
    if (P.n_utts == 2) {
        free(P.utts[1].text);
        P.utts[1].text = rp_strdup("Tab\there.\nNext");
        rp_strbuf_init(&b);
        rp_timeline_write_tsv(&T, &P, &b);
        CHECK(b.s && strstr(b.s, "\tAmara\tTab here. Next\n") != NULL);
        size_t tabs = 0, lines = 0;
        for (const char *q = b.s; q && *q; q++) {
            tabs += *q == '\t';
            lines += *q == '\n';
        }
        CHECK_INT(lines, 5);
        CHECK_INT(tabs, 4 * 5);
    }
    rp_strbuf_deinit(&b);
}

int main(void)
{
    RUN(test_sentences);
    RUN(test_quotes_get_their_voice);
    RUN(test_gaps);
    RUN(test_placer_step_by_step_equals_one_pass);
    RUN(test_paragraph_moves);
    RUN(test_gaps_do_not_add);
    RUN(test_pause);
    RUN(test_sfx_on_its_word);
    RUN(test_beds_crossfade_at_scene_break);
    RUN(test_cue_at_paragraph_end);
    RUN(test_bed_and_stop);
    RUN(test_errors);
    RUN(test_quote_effect);
    RUN(test_rooms_carried_to_events);
    RUN(test_room_errors);
    RUN(test_tsv);
    release();
    if (lib_loaded)
        rp_sfx_library_deinit(&LIB);
    return TEST_SUMMARY("test_layout");
}
