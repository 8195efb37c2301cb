// SPDX-License-Identifier: GPL-3.0-or-later
// Tests for the automatic cues: small chapters go through the real parser,
// attribution, cast sheet (with its built-in rules) and effect library, then
// rp_cue_apply; the tests read the runs it leaves: which cue stands before
// which word, none inside dialogue, the spacing and per-paragraph limits,
// beds that end at scene breaks, explicit cues counted as fired, and the
// located errors for bad rules. Then rp_annotate: the chapter written back
// with those cues and the chosen speakers, byte for byte otherwise, and
// unchanged when annotated again; its {room} cues too, which lay out to the
// same rooms on the same cues, and tags with an effect= kept as written,
// which lay out to the same utterances with the same effects.
#include "rp_annotate.h"
#include "rp_cast.h"
#include "rp_config.h"
#include "rp_cue.h"
#include "rp_layout.h"
#include "rp_script.h"
#include "rp_sfx.h"
#include "test.h"

static rp_sfx_library LIB;
static rp_script S;
static rp_cast C;
static rp_diags D;
static rp_status ST;
static int live;

static void release(void)
{
    if (live) {
        rp_cast_deinit(&C);
        rp_script_deinit(&S);
        rp_diags_deinit(&D);
    }
    live = 0;
}

// Runs the chapter through parse, attribute, cast (sheet may be NULL) and cues.
static void cue(const char *chapter, const char *sheet)
{
    release();
    rp_diags_init(&D);
    rp_cast_init(&C);
    live = 1;
    CHECK_INT(rp_parse("t.txt", chapter, strlen(chapter), &S, &D), RP_OK);
    CHECK_INT(rp_attribute(&S, &D), RP_OK);
    if (sheet)
        CHECK_INT(rp_cast_load(&C, "t.cast", sheet, strlen(sheet), &D), RP_OK);
    CHECK_INT(rp_cast_assign(&C, &S), RP_OK);
    ST = rp_cue_apply(&S, &C, &LIB, "t.cast", &D);
}

// The cues of the chapter in order, as "kind name>next words|..." where
// next words are the start of the text run after the cue.
static const char *cues(void)
{
    static char buf[2048];
    size_t len = 0;
    buf[0] = '\0';
    for (size_t b = 0; b < S.n_blocks; b++) {
        const rp_block *bl = &S.blocks[b];
        for (size_t i = 0; i < bl->n_runs; i++) {
            const rp_run *r = &bl->runs[i];
            if (r->kind != RP_RUN_DIRECTIVE || r->dir.kind == RP_DIR_COMMENT)
                continue;
            const char *kind = r->dir.kind == RP_DIR_SFX    ? "sfx"
                               : r->dir.kind == RP_DIR_BED  ? "bed"
                               : r->dir.kind == RP_DIR_STOP ? "stop"
                               : r->dir.kind == RP_DIR_ROOM ? "room"
                                                            : "?";
            const char *next = "";
            for (size_t k = i + 1; k < bl->n_runs && !next[0]; k++)
                if (bl->runs[k].kind != RP_RUN_DIRECTIVE)
                    next = bl->runs[k].text;
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s %s%s>%.12s", len ? "|" : "",
                                    kind, r->dir.name, r->automatic ? "" : "(x)", next);
            if (len >= sizeof buf)
                return buf;
        }
    }
    return buf;
}

static void test_fires_on_its_word(void)
{
    cue("The sky was quiet. Then thunder rolled over the city.\n", NULL);
    CHECK_INT(ST, RP_OK);
    CHECK_STR(cues(), "sfx thunder>thunder roll");
    // The narration is split around the cue, nothing lost.
    const rp_block *b = &S.blocks[0];
    CHECK_INT(b->n_runs, 3);
    CHECK_STR(b->runs[0].text, "The sky was quiet. Then");
    CHECK_STR(b->runs[2].text, "thunder rolled over the city.");
}

static void test_endings_and_longest_phrase(void)
{
    cue("The first pod slammed into the street.\n\nFar off, distant thunder grumbled.\n\n"
        "The plaza detonated.\n",
        NULL);
    CHECK_STR(cues(), "sfx pod_impact>slammed into|sfx distant_thunder>distant thun|"
                      "sfx explosion>detonated.");
    // A hyphenated word is one word, and its first part matches.
    cue("Kinetic rail-rounds streaked down.\n\nThe re-entry burn lit the sky.\n", NULL);
    CHECK_STR(cues(), "sfx rail_shot>rail-rounds |sfx reentry>re-entry bur");
}

static void test_not_in_dialogue_unless_asked(void)
{
    cue("\"It's just thunder,\" she whispered.\n", NULL);
    CHECK_STR(cues(), "");
    cue("\"It's just thunder,\" she whispered.\n", "[rules]\nthunder = thunder dialogue\n");
    CHECK_INT(ST, RP_OK);
    CHECK_STR(cues(), "sfx thunder>thunder,");
    CHECK_STR(S.blocks[0].runs[0].text, "It's just");
    CHECK(S.blocks[0].runs[0].kind == RP_RUN_QUOTE && S.blocks[0].runs[2].kind == RP_RUN_QUOTE);
    CHECK_STR(S.blocks[0].runs[2].speaker, S.blocks[0].runs[0].speaker);
    // Nor in a word quoted in the narration: it is mentioned, not heard.
    cue("He called it \"thunder\" and laughed. Then thunder rolled.\n", NULL);
    CHECK_STR(cues(), "sfx thunder>thunder roll");
}

static void test_spacing_and_paragraph_cap(void)
{
    // Twice within a few words: once. Far enough apart: twice.
    cue("Thunder. More thunder.\n", NULL);
    CHECK_STR(cues(), "sfx thunder>Thunder. Mor");
    char text[4096] = "Thunder rolled.";
    for (int i = 0; i < 70; i++)
        strcat(text, " word");
    strcat(text, ". Thunder again.\n");
    cue(text, NULL);
    CHECK_STR(cues(), "sfx thunder>Thunder roll|sfx thunder>Thunder agai");
    // Three sounds in one paragraph: the first two.
    cue("Thunder, a drone, then an explosion.\n", NULL);
    CHECK_STR(cues(), "sfx thunder>Thunder, a|sfx drone>drone, then ");
}

static void test_beds_end_at_scene_break(void)
{
    cue("The rain fell on the roofs.\n\nThey waited.\n\n* * *\n\nMorning came.\n", NULL);
    CHECK_STR(cues(), "bed rain>rain fell on|stop rain>");
    // The stop closes the scene: it is the last run before the break.
    const rp_block *b = &S.blocks[1];
    CHECK(b->n_runs > 0 && b->runs[b->n_runs - 1].kind == RP_RUN_DIRECTIVE);
    // A rule can stop it too, and a bed already playing is not restarted.
    cue("The rain fell. The rain fell harder. At last the rain eased.\n",
        "[rules]\nthe rain eased = stop rain\n");
    CHECK_STR(cues(), "bed rain>rain fell. T|stop rain>the rain eas");
    // Two beds stop at one break, after the paragraph's last words (the
    // second stop was read from freed memory).
    cue("The rain fell on the roofs. A gust rattled the shutters.\n\n* * *\n\nMorning.\n", NULL);
    CHECK_STR(cues(), "bed rain>rain fell on|bed wind>gust rattled|stop wind>|stop rain>");
    b = &S.blocks[0];
    CHECK_INT(b->n_runs, 7);
    for (size_t i = 5; i < b->n_runs; i++) {
        CHECK_INT(b->runs[i].line, 1);
        CHECK_INT(b->runs[i].origin_at, RP_AT_BLOCK_END);
        CHECK_INT(b->runs[i].origin_run, 0);
    }
}

static void test_explicit_cues_count(void)
{
    // The annotated form gets no second thunder.
    cue("Then {sfx thunder}thunder rolled.\n", NULL);
    CHECK_STR(cues(), "sfx thunder(x)>thunder roll");
    cue("{bed rain}The rain fell.\n", NULL);
    CHECK_STR(cues(), "bed rain(x)>The rain fel");
    // One written on a scene break's line counts too.
    cue("Night.\n\n* * * {sfx thunder}\n\nThunder rolled.\n", NULL);
    CHECK_STR(cues(), "sfx thunder(x)>");
}

static void test_written_cue_after_its_word(void)
{
    // A cue the writer put just after (or a few words before) its sound word
    // is that word's cue: the rule does not double it.
    cue("A patrol drone {sfx drone}began its sweep.\n", NULL);
    CHECK_STR(cues(), "sfx drone(x)>began its sw");
    cue("{sfx drone}A whirr: the drone was back.\n", NULL);
    CHECK_STR(cues(), "sfx drone(x)>A whirr: the");
}

// The chapter annotated: parse, attribute, cast, cue, then rp_annotate.
static char *annotated(const char *chapter, const char *sheet)
{
    cue(chapter, sheet);
    CHECK_INT(ST, RP_OK);
    rp_strbuf b;
    rp_strbuf_init(&b);
    CHECK_INT(rp_annotate(chapter, strlen(chapter), &S, &b, &D), RP_OK);
    return rp_strbuf_take(&b);
}

static void test_annotate_writes_decisions(void)
{
    const char *ch = "The night was still. Then thunder rolled over the roofs.\n"
                     "\n"
                     "\"Get down!\" Mira shouted. \"Now!\"\n"
                     "\n"
                     "{Tomas}\"Where?\" The rain fell on\n"
                     "  the street.\n"
                     "\n"
                     "* * *\n"
                     "\n"
                     "Morning.\n";
    char *out = annotated(ch, NULL);
    CHECK_STR(out, "The night was still. Then {sfx thunder} thunder rolled over the roofs.\n"
                   "\n"
                   "{Mira}\"Get down!\" Mira shouted. {Mira}\"Now!\"\n"
                   "\n"
                   "{Tomas}\"Where?\" The {bed rain} rain fell on\n"
                   "  the street. {stop rain}\n"
                   "\n"
                   "* * *\n"
                   "\n"
                   "Morning.\n");
    free(out);
}

static void test_annotate_finds_the_word(void)
{
    // The second "thunder" of a run fires (the first is too close to the
    // first paragraph's); columns count code points, lines end in CRLF.
    char ch[4096] = "\xe2\x80\x9cThunder!\xe2\x80\x9d she said.\r\n\r\nThunder\xe2\x80\x94no.";
    for (int i = 0; i < 70; i++)
        strcat(ch, " word");
    strcat(ch, "\r\nThunder\xe2\x80\x94yes.\r\n");
    char *out = annotated(ch, "[rules]\nthunder = thunder dialogue\n");
    const char *first = strstr(out, "{sfx thunder} Thunder!"),
               *second = strstr(out, "{sfx thunder} Thunder\xe2\x80\x94yes");
    CHECK_MSG(first && second && !strstr(out, "{sfx thunder} Thunder\xe2\x80\x94no"), "%s", out);
    CHECK_MSG(strstr(out, "yes.\r\n") && strstr(out, "}\xe2\x80\x9c{sfx thunder} Thunder!"), "%s", out);
    free(out);
}

static void test_annotate_is_idempotent(void)
{
    const char *ch = "Thunder rolled. \"Down!\" Kade shouted, and the drone swept past.\n"
                     "\n"
                     "\"Is it gone?\" asked Mira.\n"
                     "\n"
                     "\"Gone,\" he said. Rain fell. The rain fell harder.\n";
    char *once = annotated(ch, NULL);
    char *twice = annotated(once, NULL);
    CHECK_STR(twice, once);
    // Every quote is now tagged, every cue written, none automatic.
    for (size_t b = 0; b < S.n_blocks; b++)
        for (size_t i = 0; i < S.blocks[b].n_runs; i++) {
            const rp_run *r = &S.blocks[b].runs[i];
            CHECK(!r->automatic);
            CHECK(r->kind != RP_RUN_QUOTE || r->spk_source == RP_SPK_TAG);
        }
    CHECK_STR(cues(), "sfx thunder(x)>Thunder roll|sfx drone(x)>drone swept |bed rain(x)>Rain fell. T");
    free(once);
    free(twice);
}

// The plan's cues as "kind:room" (rooms by their index + 1, 0: dry), and
// its rooms by name and wet level, for comparing two layouts.
static void plan_summary(const rp_plan *p, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < p->n_cues && len < cap; i++)
        len +=
            (size_t)snprintf(buf + len, cap - len, "%d:%d ", (int)p->cues[i].kind, p->cues[i].room);
    for (size_t i = 0; i < p->n_rooms && len < cap; i++)
        len +=
            (size_t)snprintf(buf + len, cap - len, "| %s %g", p->rooms[i].name, p->rooms[i].wet_db);
}

// What the fuzzer found annotate breaking, each annotated twice: a quote a
// cue splits (a tag before each piece), dash dialogue (tags before the
// dash and before resumed speech), a byte order mark (columns of line 1
// count after it), a hard-wrapped file whose lines the tags lengthen past
// what one-line paragraphs have (the wrapping is told from the text), and
// a single quote closed before the next one opens (a tag between them is
// not a word after the mark), "Name: text" prose, which an annotated file
// would read as a screenplay line without the empty comment before it, and
// a sound word after punctuation: the cue goes before the whole token, or
// before the run when only punctuation comes first; a bare title is still
// one after the comment.
static void test_annotate_round_trips(void)
{
    static const char *const chapters[] = {
        "\"Hold {pause 1} on,\" said Tom. \"Wait {sfx thunder} there.\"\n",
        "\xE2\x80\x94" "Come up, Kinch! he cried.\n\n"
        "\xE2\x80\x94" "Where are you going? she asked. To the tower.\n\n"
        "\xE2\x80\x94" "Nowhere, said Stephen.\n",
        "\xEF\xBB\xBF\"Hello,\" she said. \"Come here.\"\n",
        "\"One,\" said Ann. \"Two,\" said Ann. \"Three,\" said Ann. \"Four,\" said Ann. "
        "\"Five.\"\n\n"
        "\"Six,\" she said.\n\n\"Seven,\" Bob said.\n\n\"Eight,\" she said.\n\n"
        "\"Ten,\" she\nsaid to Bob.\n",
        "'Come here,' said Alice.\n\n'Wait here' 'now,' she said.\n",
        "Monday: We rode north.\n\n\"Halt,\" said Tom.\n",
        "Far off (thunder) rolled; then\xE2\x80\x94thunder again.\n",
        "Night fell.\n\nDay One: The Crossing\n\n\"Halt,\" said Tom.\n",
        "\"Go,\" she said.\n\n\xE2\x80\x94 thunder rolled over the hills.\n",
    };
    for (size_t k = 0; k < sizeof chapters / sizeof chapters[0]; k++) {
        char *once = annotated(chapters[k], NULL);
        size_t blocks = S.n_blocks;
        char *twice = annotated(once, NULL);
        CHECK_STR(twice, once);
        CHECK_INT(S.n_blocks, blocks);
        for (size_t b = 0; b < S.n_blocks; b++)
            for (size_t i = 0; i < S.blocks[b].n_runs; i++)
                CHECK(S.blocks[b].runs[i].kind != RP_RUN_QUOTE ||
                      S.blocks[b].runs[i].spk_source == RP_SPK_TAG);
        free(once);
        free(twice);
    }
    char *out = annotated(chapters[2], NULL);
    CHECK_STR(out, "\xEF\xBB\xBF{Unnamed woman}\"Hello,\" she said. "
                   "{Unnamed woman}\"Come here.\"\n");
    free(out);
    out = annotated(chapters[5], NULL);
    CHECK_STR(out, "{#}Monday: We rode north.\n\n{Tom}\"Halt,\" said Tom.\n");
    free(out);
    out = annotated(chapters[6], "[rules]\nthunder = thunder\n");
    CHECK_STR(cues(), "sfx thunder>(thunder) ro");
    CHECK_STR(out, "Far off {sfx thunder} (thunder) rolled; then\xE2\x80\x94thunder again.\n");
    free(out);
    out = annotated(chapters[7], NULL);
    CHECK(S.n_blocks > 1 && S.blocks[1].kind == RP_BLOCK_HEADING);
    CHECK_STR(out, "Night fell.\n\n{#}Day One: The Crossing\n\n{Tom}\"Halt,\" said Tom.\n");
    free(out);
    out = annotated(chapters[8], NULL);
    CHECK_STR(out, "{Unnamed woman}\"Go,\" she said.\n\n"
                   "{sfx thunder} \xE2\x80\x94 thunder rolled over the hills.\n");
    free(out);
}

// A chapter holds RP_MAX_CUES cues, its own and automatic ones: a sound
// word that would fire one more is an error at its run.
static void test_cue_limit(void)
{
    static const char cue_line[] = "{pause 0.1}\n", last[] = "Then thunder rolled.\n";
    size_t len = sizeof cue_line - 1, n = RP_MAX_CUES - 1;
    char *text = malloc((n + 1) * len + sizeof last), want[96];
    CHECK(text != NULL);
    if (!text)
        return;
    for (size_t i = 0; i < n; i++)
        memcpy(text + i * len, cue_line, len);
    memcpy(text + n * len, last, sizeof last);
    cue(text, NULL);
    CHECK_INT(ST, RP_OK);
    memcpy(text + n * len, cue_line, len);
    memcpy(text + (n + 1) * len, last, sizeof last);
    cue(text, NULL);
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(D.n, 1);
    snprintf(want, sizeof want, "more than %d cues in the chapter with the automatic ones",
             RP_MAX_CUES);
    if (D.n) {
        CHECK_STR(D.items[0].msg, want);
        CHECK_STR(D.items[0].file, "t.txt");
        CHECK_INT(D.items[0].line, RP_MAX_CUES + 1);
        CHECK_INT(D.items[0].col, 1);
    }
    free(text);
}

static void test_rooms_round_trip(void)
{
    const char *ch = "{room hall wet=-12}\n"
                     "\n"
                     "Thunder rolled. \"Down!\" Kade shouted.\n"
                     "\n"
                     "* * *\n"
                     "\n"
                     "{room street} The rain fell. {room none} Inside.\n";
    // Sound rules work around the rooms, which stay where they were written.
    cue(ch, NULL);
    CHECK_INT(ST, RP_OK);
    CHECK_STR(cues(), "room hall(x)>|sfx thunder>Thunder roll|room street(x)>The|"
                      "bed rain>rain fell.|room none(x)>Inside.");
    const rp_run *r = &S.blocks[0].runs[0];
    CHECK_INT(r->dir.kind, RP_DIR_ROOM);
    CHECK_INT(r->dir.n_params, 1);
    char *once = annotated(ch, NULL);
    CHECK_MSG(once && !strncmp(once, "{room hall wet=-12}\n\n{sfx thunder} Thunder", 39), "%s",
              once);
    CHECK(once && strstr(once, "{room street} The {bed rain} rain fell. {room none} Inside."));
    char *twice = annotated(once, NULL);
    CHECK_STR(twice, once);
    // The annotated chapter lays out to the same rooms on the same cues.
    char a[1024], b[1024];
    rp_plan p;
    cue(ch, NULL);
    CHECK_INT(rp_layout_build(&S, &C, &LIB, &p, &D), RP_OK);
    plan_summary(&p, a, sizeof a);
    rp_plan_deinit(&p);
    cue(once, NULL);
    CHECK_INT(rp_layout_build(&S, &C, &LIB, &p, &D), RP_OK);
    plan_summary(&p, b, sizeof b);
    CHECK_INT(p.n_rooms, 2);
    rp_plan_deinit(&p);
    CHECK_STR(a, b);
    free(once);
    free(twice);
}

// The plan's utterances as "speaker:fx:text|...", for comparing two layouts.
static void utt_summary(const rp_plan *p, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < p->n_utts && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s:%d:%s|", p->utts[i].speaker,
                                (int)p->utts[i].fx, p->utts[i].text);
}

static void test_quote_effect_round_trip(void)
{
    // A cue inside the tagged quote splits it: both pieces keep the effect.
    const char *ch = "{Kirk effect=radio}\"Thunder ahead. Shields at forty,\" Kirk said.\n"
                     "\n"
                     "\"Hold,\" Kirk said. {Mara effect=none}\"Aye.\"\n";
    const char *sheet = "[rules]\nthunder = thunder dialogue\n\n[voice Mara]\neffect = radio\n";
    char *once = annotated(ch, sheet);
    CHECK_STR(once, "{Kirk effect=radio}\"{sfx thunder} Thunder ahead. Shields at forty,\" Kirk "
                    "said.\n"
                    "\n"
                    "{Kirk}\"Hold,\" Kirk said. {Mara effect=none}\"Aye.\"\n");
    char *twice = annotated(once, sheet);
    CHECK_STR(twice, once);
    // The annotated chapter lays out to the same utterances with the same effects.
    char a[1024], b[1024];
    rp_plan p;
    cue(ch, sheet);
    CHECK_INT(rp_layout_build(&S, &C, &LIB, &p, &D), RP_OK);
    utt_summary(&p, a, sizeof a);
    rp_plan_deinit(&p);
    CHECK_STR(a, "Kirk:1:Thunder ahead.|Kirk:1:Shields at forty,|Narrator:0:Kirk said.|"
                 "Kirk:0:Hold,|Narrator:0:Kirk said.|Mara:0:Aye.|");
    cue(once, sheet);
    CHECK_INT(rp_layout_build(&S, &C, &LIB, &p, &D), RP_OK);
    utt_summary(&p, b, sizeof b);
    rp_plan_deinit(&p);
    CHECK_STR(a, b);
    free(once);
    free(twice);
}

static void test_rules_switch_off(void)
{
    cue("Thunder rolled.\n", "[rules]\nthunder = none\n");
    CHECK_STR(cues(), "");
    cue("Thunder rolled. A drone buzzed.\n", "[rules]\ndefaults = off\nbuzzed = alarm\n");
    CHECK_STR(cues(), "sfx alarm>buzzed.");
    // The sheet prints its rules, defaults included, and reads them back.
    cue("Quiet.\n", "[rules]\nthunder = distant_thunder\n");
    rp_strbuf b;
    rp_strbuf_init(&b);
    rp_cast_write(&C, &b);
    CHECK(b.s && strstr(b.s, "[rules]\nthunder = distant_thunder\n"));
    CHECK(b.s && strstr(b.s, "drone = drone\n"));
    CHECK(b.s && !strstr(b.s, "thunder = thunder\n"));
    rp_strbuf_deinit(&b);
}

static void test_bad_rules(void)
{
    cue("Thunder.\n", "[rules]\nthunder = thundr\nrain = stop\ndrone = drone loudly\n"
                      "boom = stop thunder\n");
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(D.n_errors, 4);
    const rp_diag *e = &D.items[0];
    CHECK_STR(e->file, "t.cast");
    CHECK_INT(e->line, 2);
    CHECK(strstr(e->msg, "unknown effect 'thundr'") != NULL);
    CHECK(e->hint && strstr(e->hint, "did you mean 'thunder'?"));
    CHECK_INT(D.items[1].line, 3);
    CHECK_INT(D.items[2].line, 4);
    CHECK(strstr(D.items[3].msg, "not a bed") != NULL);
}

int main(void)
{
    rp_diags d;
    rp_diags_init(&d);
    rp_sfx_library_init(&LIB);
    CHECK_INT(rp_sfx_library_add_builtin(&LIB, &d), RP_OK);
    rp_diags_deinit(&d);
    RUN(test_fires_on_its_word);
    RUN(test_endings_and_longest_phrase);
    RUN(test_not_in_dialogue_unless_asked);
    RUN(test_spacing_and_paragraph_cap);
    RUN(test_beds_end_at_scene_break);
    RUN(test_explicit_cues_count);
    RUN(test_written_cue_after_its_word);
    RUN(test_annotate_writes_decisions);
    RUN(test_annotate_finds_the_word);
    RUN(test_annotate_is_idempotent);
    RUN(test_annotate_round_trips);
    RUN(test_cue_limit);
    RUN(test_rooms_round_trip);
    RUN(test_quote_effect_round_trip);
    RUN(test_rules_switch_off);
    RUN(test_bad_rules);
    release();
    rp_sfx_library_deinit(&LIB);
    return TEST_SUMMARY("test_cue");
}
