// SPDX-License-Identifier: GPL-3.0-or-later
// Tests for rp_parse: both paragraph styles, headings (marked and bare),
// scene breaks, every quote style and apostrophes, speaker tags, screenplay
// lines, directives with their parameters, and every diagnostic with its
// text, line and column. Texts are embedded, so the suite runs anywhere; a
// detection check against the shared LitBank corpus runs only when present.
#include <dirent.h>
#include <stdint.h>

#include "rp_cast.h"
#include "rp_config.h"
#include "rp_script.h"
#include "test.h"

static rp_script S;
static rp_diags D;
static rp_status ST;
static int parsed;

static void release(void)
{
    if (parsed) {
        rp_script_deinit(&S);
        rp_diags_deinit(&D);
    }
    parsed = 0;
}

static void parse_n(const char *text, size_t n)
{
    release();
    rp_diags_init(&D);
    ST = rp_parse("t.txt", text, n, &S, &D);
    parsed = 1;
}

static void parse(const char *text) { parse_n(text, strlen(text)); }

// The k-th run of a kind over the whole script, or NULL.
static const rp_run *nth_run(rp_run_kind kind, size_t k)
{
    for (size_t i = 0; i < S.n_blocks; i++)
        for (size_t j = 0; j < S.blocks[i].n_runs; j++)
            if (S.blocks[i].runs[j].kind == kind && k-- == 0)
                return &S.blocks[i].runs[j];
    return NULL;
}

static size_t count_runs(rp_run_kind kind)
{
    size_t n = 0;
    while (nth_run(kind, n))
        n++;
    return n;
}

static const rp_run *quote(size_t k) { return nth_run(RP_RUN_QUOTE, k); }
static const rp_run *narr(size_t k) { return nth_run(RP_RUN_NARRATION, k); }
static const rp_run *dirv(size_t k) { return nth_run(RP_RUN_DIRECTIVE, k); }

static size_t n_errors(void)
{
    size_t n = 0;
    for (size_t i = 0; i < D.n; i++)
        n += D.items[i].sev == RP_DIAG_ERROR;
    return n;
}

// Checks that diagnostic k has this severity, location, message and hint
// (hint NULL: not checked).
static void check_diag(int src_line, size_t k, rp_severity sev, int line, int col,
                       const char *msg, const char *hint)
{
    if (k >= D.n) {
        test_failed_checks++;
        fprintf(stderr, "%s:%d: no diagnostic #%zu (have %zu)\n", __FILE__, src_line, k, D.n);
        return;
    }
    const rp_diag *g = &D.items[k];
    int ok = g->sev == sev && g->line == line && g->col == col && strcmp(g->msg, msg) == 0 &&
             strcmp(g->subsystem, "parse") == 0 && g->file && strcmp(g->file, "t.txt") == 0 &&
             (!hint || (g->hint && strcmp(g->hint, hint) == 0));
    if (!ok) {
        test_failed_checks++;
        fprintf(stderr, "%s:%d: diagnostic #%zu is %d %d:%d '%s' (hint '%s'), want %d %d:%d '%s' (hint '%s')\n",
                __FILE__, src_line, k, g->sev, g->line, g->col, g->msg, g->hint ? g->hint : "",
                sev, line, col, msg, hint ? hint : "");
    }
}
#define CHECK_DIAG(k, sev, line, col, msg, hint) check_diag(__LINE__, k, sev, line, col, msg, hint)

#define CHECK_RUN(r, l, c, txt)                              \
    do {                                                     \
        const rp_run *r_ = (r);                              \
        CHECK(r_ != NULL);                                   \
        if (r_) {                                            \
            CHECK_INT(r_->line, l);                          \
            CHECK_INT(r_->col, c);                           \
            CHECK_STR(r_->text, txt);                        \
        }                                                    \
    } while (0)

// ---- paragraphs -------------------------------------------------------------------

static void test_empty(void)
{
    parse("");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(S.n_blocks, 0);
    CHECK_STR(S.name, "t.txt");
    CHECK_DIAG(0, RP_DIAG_WARNING, 0, 0, "chapter is empty", NULL);
    parse("  \n\n\t\n");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(S.n_blocks, 0);
    CHECK_INT(D.n, 1);
    parse_n(NULL, 0);
    CHECK_INT(ST, RP_OK);
}

static void test_one_line_per_paragraph(void)
{
    parse("The sky bled red.\nAsh floated  in\tspirals.\n  Amara moved quickly.\n");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(D.n, 0);
    CHECK_INT(S.n_blocks, 3);
    CHECK_INT(S.blocks[1].kind, RP_BLOCK_PARAGRAPH);
    CHECK_RUN(narr(0), 1, 1, "The sky bled red.");
    CHECK_RUN(narr(1), 2, 1, "Ash floated in spirals.");
    CHECK_RUN(narr(2), 3, 3, "Amara moved quickly.");
    CHECK_INT(S.blocks[2].line, 3);
    CHECK_INT(S.blocks[2].col, 3);
}

static void test_blank_lines_between_one_line_paragraphs(void)
{
    // Chapter 000's style: every paragraph one (long) line, blank lines between.
    parse("The fall of the city began with a sound deeper than thunder.\n\n"
          "High in the ritual tower, the sensors screamed.\n\n"
          "Then the rain began.\n");
    CHECK_INT(S.n_blocks, 3);
    CHECK_RUN(narr(2), 5, 1, "Then the rain began.");
}

static void test_hard_wrapped(void)
{
    parse("It is a truth universally acknowledged, that a single man in\n"
          "possession of a good fortune, must be in want of a wife.\n"
          "\n"
          "However little known the feelings or views of such a man may be\n"
          "on his first entering a neighbourhood.\n"
          "\n"
          "Short one.\n");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(S.n_blocks, 3);
    CHECK_RUN(narr(0), 1, 1,
              "It is a truth universally acknowledged, that a single man in possession of a "
              "good fortune, must be in want of a wife.");
    CHECK_RUN(narr(1), 4, 1,
              "However little known the feelings or views of such a man may be on his first "
              "entering a neighbourhood.");
    CHECK_RUN(narr(2), 7, 1, "Short one.");
}

static void test_hard_wrapped_quote_across_lines(void)
{
    parse("\"My dear Mr. Bennet,\" said his lady to him one day, \"have you heard\n"
          "that Netherfield Park is let at last?\"\n"
          "\n"
          "Mr. Bennet replied that he had not, and went on\n"
          "reading.\n");
    CHECK_INT(count_runs(RP_RUN_QUOTE), 2);
    CHECK_RUN(quote(0), 1, 1, "My dear Mr. Bennet,");
    CHECK_RUN(quote(1), 1, 53, "have you heard that Netherfield Park is let at last?");
    CHECK_RUN(narr(0), 1, 23, "said his lady to him one day,");
}

// ---- headings and breaks ------------------------------------------------------------

static void test_hash_headings(void)
{
    parse("# The Fall of the City\n\nText here.\n## Part Two\nMore text.\n");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(S.n_blocks, 4);
    CHECK_INT(S.blocks[0].kind, RP_BLOCK_HEADING);
    CHECK_INT(S.blocks[0].n_runs, 1);
    CHECK_RUN(&S.blocks[0].runs[0], 1, 3, "The Fall of the City");
    CHECK_INT(S.blocks[2].kind, RP_BLOCK_HEADING);
    CHECK_RUN(&S.blocks[2].runs[0], 4, 4, "Part Two");
    CHECK_INT(S.blocks[3].kind, RP_BLOCK_PARAGRAPH);
    // No space after '#': prose, not a heading.
    parse("#hashtag is text.\n");
    CHECK_INT(S.blocks[0].kind, RP_BLOCK_PARAGRAPH);
    // Directives on a heading line follow the title.
    parse("# Siege {sfx gong}\nText.\n");
    CHECK_INT(S.blocks[0].kind, RP_BLOCK_HEADING);
    CHECK_INT(S.blocks[0].n_runs, 2);
    CHECK_STR(S.blocks[0].runs[0].text, "Siege");
    CHECK_INT(S.blocks[0].runs[1].kind, RP_RUN_DIRECTIVE);
}

static void test_bare_titles(void)
{
    parse("The first thing to die was the sky.\n"
          "Command from the Bridge of The Unfading\n"
          "Admiral Kia stood tall upon the bridge.\n"
          "The Thalor Commander's Last Stand\n"
          "Then the rain began.\n"
          "Not water. Containment pods.\n"
          "The Aftermath: Flame and Silence\n"
          "the city burned on and on\n"
          "\"Fire at will\"\n"
          "High Commander Vantos\xE2\x80\x94In Hiding\n"
          "Then he waited\n"
          "Silence fell over the Vale and the Ridge Below Us in the Night of Nights\n"
          "The End Is Near\n");
    CHECK_INT(S.n_blocks, 13);
    rp_block_kind want[] = {RP_BLOCK_PARAGRAPH, RP_BLOCK_HEADING,   RP_BLOCK_PARAGRAPH,
                            RP_BLOCK_HEADING,   RP_BLOCK_PARAGRAPH, RP_BLOCK_PARAGRAPH,
                            RP_BLOCK_HEADING,   RP_BLOCK_PARAGRAPH, RP_BLOCK_PARAGRAPH,
                            RP_BLOCK_HEADING,   RP_BLOCK_PARAGRAPH, RP_BLOCK_PARAGRAPH,
                            RP_BLOCK_PARAGRAPH};
    for (size_t i = 0; i < 13 && i < S.n_blocks; i++)
        CHECK_MSG(S.blocks[i].kind == want[i], "block %zu (line %d) kind %d, want %d", i,
                  S.blocks[i].line, S.blocks[i].kind, want[i]);
    CHECK_INT(S.blocks[1].n_runs, 1);
    CHECK_RUN(&S.blocks[1].runs[0], 2, 1, "Command from the Bridge of The Unfading");
    CHECK_INT(S.blocks[1].runs[0].kind, RP_RUN_NARRATION);
}

static void test_bare_title_hard_wrapped(void)
{
    parse("CHAPTER I\n"
          "\n"
          "It was a dark and stormy night; the rain fell in\n"
          "torrents, except at occasional intervals.\n"
          "\n"
          "Down the Rabbit Hole\n"
          "\n"
          "Alice Was Beginning To Get\n"
          "Very Tired Of Sitting\n"
          "\n"
          "The end came.\n");
    CHECK_INT(S.n_blocks, 5);
    CHECK_INT(S.blocks[0].kind, RP_BLOCK_HEADING);
    CHECK_STR(S.blocks[0].runs[0].text, "CHAPTER I");
    CHECK_INT(S.blocks[1].kind, RP_BLOCK_PARAGRAPH);
    CHECK_INT(S.blocks[2].kind, RP_BLOCK_HEADING);
    CHECK_INT(S.blocks[3].kind, RP_BLOCK_PARAGRAPH);  // two lines: never a bare title
}

static void test_scene_breaks(void)
{
    parse("One.\n***\nTwo.\n* * *\nThree.\n#\nFour.\n~~~\nFive.\n\xC2\xA7\nSix.\n"
          "  * * * *  \nSeven.\n---\nEight.\n**\nNine.\n");
    size_t breaks = 0;
    for (size_t i = 0; i < S.n_blocks; i++)
        breaks += S.blocks[i].kind == RP_BLOCK_SCENE_BREAK;
    CHECK_INT(breaks, 6);
    // "---" and "**" stay prose, and holding no word they make no block.
    CHECK_INT(S.n_blocks, 15);
    CHECK_INT(count_runs(RP_RUN_NARRATION), 9);
    CHECK_INT(S.blocks[1].kind, RP_BLOCK_SCENE_BREAK);
    CHECK_INT(S.blocks[1].line, 2);
    CHECK_INT(S.blocks[1].n_runs, 0);
    CHECK_INT(S.blocks[11].line, 12);
    CHECK_INT(S.blocks[11].col, 3);
    parse("Rain.\n\n*** {bed rain fade=3} {pause 2}\n\nDry.\n");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(S.blocks[1].kind, RP_BLOCK_SCENE_BREAK);
    CHECK_INT(S.blocks[1].n_runs, 2);
    CHECK_INT(S.blocks[1].runs[0].dir.kind, RP_DIR_BED);
    CHECK_INT(S.blocks[1].runs[1].dir.kind, RP_DIR_PAUSE);
    // Text after the stars: not a break.
    parse("*** Later that day\n");
    CHECK_INT(S.blocks[0].kind, RP_BLOCK_PARAGRAPH);
}

// ---- quotes -------------------------------------------------------------------------

static void test_straight_quotes(void)
{
    parse("\"They're early,\" he said, staring up. \"Look.\"\n"
          "\"Or we were late,\" Ksena answered.\n"
          "She nodded, \"Fine\" , \"Go.\"\n");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(count_runs(RP_RUN_QUOTE), 5);
    CHECK_RUN(quote(0), 1, 1, "They're early,");
    CHECK_RUN(narr(0), 1, 18, "he said, staring up.");
    CHECK_RUN(quote(1), 1, 39, "Look.");
    CHECK_RUN(quote(2), 2, 1, "Or we were late,");
    CHECK_RUN(narr(1), 2, 20, "Ksena answered.");
    CHECK_RUN(quote(3), 3, 13, "Fine");
    CHECK_RUN(quote(4), 3, 22, "Go.");
    CHECK_INT(count_runs(RP_RUN_NARRATION), 3);  // the lone "," is dropped
    CHECK(quote(0)->speaker == NULL);
    CHECK_INT(quote(0)->spk_source, RP_SPK_NONE);
}

static void test_curly_quotes_and_columns(void)
{
    // Columns count code points: the curly marks and "’" are one column each.
    parse("Ksena\xE2\x80\x99s comms: \xE2\x80\x9CShield at forty,\xE2\x80\x9D a voice said. "
          "\xE2\x80\x9CHold.\xE2\x80\x9D\n");
    CHECK_INT(count_runs(RP_RUN_QUOTE), 2);
    CHECK_RUN(quote(0), 1, 16, "Shield at forty,");
    CHECK_RUN(narr(0), 1, 1, "Ksena\xE2\x80\x99s comms:");
    CHECK_RUN(narr(1), 1, 35, "a voice said.");
    CHECK_RUN(quote(1), 1, 49, "Hold.");
    // A missing closing mark: the next opening mark starts a new quote.
    parse("\xE2\x80\x9C" "One, \xE2\x80\x9C" "Two.\xE2\x80\x9D\n");
    CHECK_INT(count_runs(RP_RUN_QUOTE), 2);
    CHECK_RUN(quote(1), 1, 7, "Two.");
}

static void test_nested_single_in_double(void)
{
    parse("\"Father won't answer,\" Ksena said. \"He doesn't negotiate with 'primitives'.\"\n");
    CHECK_INT(count_runs(RP_RUN_QUOTE), 2);
    CHECK_RUN(quote(1), 1, 36, "He doesn't negotiate with 'primitives'.");
}

static void test_open_quote_runs_to_paragraph_end(void)
{
    // Novels open every paragraph of a long speech and close only the last.
    parse("\"It began in the spring,\n\n\"and it ended in the fall.\"\n\nShe left.\n");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(D.n, 0);
    CHECK_INT(count_runs(RP_RUN_QUOTE), 2);
    CHECK_RUN(quote(0), 1, 1, "It began in the spring,");
    CHECK_RUN(quote(1), 3, 1, "and it ended in the fall.");
    CHECK_RUN(narr(0), 5, 1, "She left.");
}

static void test_single_quote_dialogue_curly(void)
{
    // ‘…’ dialogue (no double marks in the file); ’ inside and after words
    // is an apostrophe.
    parse("\xE2\x80\x98Well,\xE2\x80\x99 thought Alice, \xE2\x80\x98I don\xE2\x80\x99t know "
          "the boys\xE2\x80\x99 toys at four o\xE2\x80\x99" "clock.\xE2\x80\x99\n"
          "\xE2\x80\x98" "Come here\xE2\x80\x99 said the Queen.\n"
          "It was Ksena\xE2\x80\x99s turn.\n");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(count_runs(RP_RUN_QUOTE), 3);
    CHECK_RUN(quote(0), 1, 1, "Well,");
    CHECK_RUN(quote(1), 1, 24,
              "I don\xE2\x80\x99t know the boys\xE2\x80\x99 toys at four o\xE2\x80\x99" "clock.");
    CHECK_RUN(quote(2), 2, 1, "Come here");
    CHECK_RUN(narr(1), 2, 13, "said the Queen.");
    CHECK_RUN(narr(2), 3, 1, "It was Ksena\xE2\x80\x99s turn.");
}

static void test_single_quote_dialogue_straight(void)
{
    parse("'Let me see the child, and die.' The surgeon rose.\n"
          "'Oh, you must not talk about dying yet,' said he; 'give 'em time.'\n"
          "Rock 'n' roll was 'tis not a quote.\n"
          "'Tis the season, said the boys' father.\n");
    CHECK_INT(count_runs(RP_RUN_QUOTE), 3);
    CHECK_RUN(quote(0), 1, 1, "Let me see the child, and die.");
    CHECK_RUN(quote(1), 2, 1, "Oh, you must not talk about dying yet,");
    CHECK_RUN(quote(2), 2, 51, "give 'em time.");
    CHECK_RUN(narr(2), 3, 1, "Rock 'n' roll was 'tis not a quote.");
    CHECK_RUN(narr(3), 4, 1, "'Tis the season, said the boys' father.");
}

static void test_single_marks_not_dialogue_with_double(void)
{
    // The file speaks in double marks: 'word' stays text.
    parse("\"Hi,\" he said.\n\"Go,\" she said.\nThe 'primitives' waited.\n");
    CHECK_INT(count_runs(RP_RUN_QUOTE), 2);
    CHECK_RUN(narr(2), 3, 1, "The 'primitives' waited.");
}

static void test_dash_dialogue(void)
{
    // No quote marks in the file, paragraphs opening with a dash: speech,
    // with "he cried briskly." read as narration inside it.
    parse("Buck Mulligan came from the stairhead.\n\n"
          "\xE2\x80\x94Introibo ad altare Dei.\n\n"
          "\xE2\x80\x94Thanks, old chap, he cried briskly. That will do nicely.\n\n"
          "\xE2\x80\x94" "Back to barracks!\n\n"
          "He skipped off\nthe gunrest.\n");
    CHECK_INT(count_runs(RP_RUN_QUOTE), 4);
    CHECK_RUN(quote(0), 3, 1, "Introibo ad altare Dei.");
    CHECK_RUN(quote(1), 5, 1, "Thanks, old chap,");
    CHECK_RUN(narr(1), 5, 20, "he cried briskly.");
    CHECK_RUN(quote(2), 5, 38, "That will do nicely.");
    CHECK_RUN(quote(3), 7, 1, "Back to barracks!");
    // "--" works too; a file with quote marks keeps its dashes as prose.
    parse("--What is your name?\n--Stephen Dedalus.\n--What kind of a name is that?\n");
    CHECK_INT(count_runs(RP_RUN_QUOTE), 3);
    CHECK_RUN(quote(1), 2, 1, "Stephen Dedalus.");
    parse("\"Hi,\" he said.\n\"Go.\"\n\xE2\x80\x94" "and then\n\xE2\x80\x94" "nothing\n\xE2\x80\x94" "at all\n");
    CHECK_INT(count_runs(RP_RUN_QUOTE), 2);
}

static void test_empty_and_punctuation_quotes(void)
{
    parse("He said \"\" and then \"...\" softly.\n");
    CHECK_INT(count_runs(RP_RUN_QUOTE), 1);
    CHECK_RUN(quote(0), 1, 21, "...");
    CHECK_INT(count_runs(RP_RUN_NARRATION), 3);
}

static void test_scare_quotes(void)
{
    // A word quoted inside a sentence is the narrator's, marks and all.
    parse("They were built for \"style,\" not service, by the \"Coach and Horses\" folk.\n");
    CHECK_INT(count_runs(RP_RUN_QUOTE), 0);
    CHECK_RUN(narr(0), 1, 1,
              "They were built for \xE2\x80\x9Cstyle,\xE2\x80\x9D not service, by the "
              "\xE2\x80\x9C"
              "Coach and Horses\xE2\x80\x9D folk.");
    // Speech stays speech: after a speech verb, an exclamation, a long quote.
    parse("He said \"Go\" and left. Then came \"M'ama!\" from the stage. She "
          "muttered \"no, no\" twice. I heard \"we will see about that, my boy\" in the hall.\n");
    CHECK_INT(count_runs(RP_RUN_QUOTE), 4);
}

// ---- tags and screenplay --------------------------------------------------------------

static void test_speaker_tags(void)
{
    parse("{Kirk}\"Shield harmonics at forty percent,\" a voice crackled.\n"
          "{Mr. Darcy} \"Hello.\" \"Not tagged.\"\n"
          "She turned. {Unit 774}\xE2\x80\x9CHalt.\xE2\x80\x9D\n");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(D.n, 0);
    CHECK_INT(count_runs(RP_RUN_QUOTE), 4);
    CHECK_RUN(quote(0), 1, 7, "Shield harmonics at forty percent,");
    CHECK_STR(quote(0)->speaker, "Kirk");
    CHECK_INT(quote(0)->spk_source, RP_SPK_TAG);
    CHECK_NEAR(quote(0)->confidence, 1.0, 1e-9);
    CHECK_STR(quote(1)->speaker, "Mr. Darcy");
    CHECK_RUN(quote(1), 2, 13, "Hello.");
    CHECK(quote(2)->speaker == NULL);
    CHECK_STR(quote(3)->speaker, "Unit 774");
    CHECK_RUN(quote(3), 3, 23, "Halt.");
    CHECK_RUN(narr(1), 3, 1, "She turned.");
}

static void test_tag_whole_paragraph(void)
{
    parse("{Kirk} Shield harmonics at forty.\n");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(count_runs(RP_RUN_QUOTE), 1);
    CHECK_INT(count_runs(RP_RUN_NARRATION), 0);
    CHECK_RUN(quote(0), 1, 8, "Shield harmonics at forty.");
    CHECK_STR(quote(0)->speaker, "Kirk");
    CHECK_INT(quote(0)->spk_source, RP_SPK_TAG);
}

static void test_tag_without_quote(void)
{
    parse("The wall shook. {Kirk} Then nothing.\n{Hale}\n");
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(n_errors(), 2);
    CHECK_DIAG(0, RP_DIAG_ERROR, 1, 17, "speaker tag {Kirk} is not followed by a quote",
               "write the tag right before the opening mark: {Kirk}\"...\"");
    CHECK_DIAG(1, RP_DIAG_ERROR, 2, 1, "speaker tag {Hale} is not followed by a quote", NULL);
    // A second tag before any quote: the first one is reported.
    parse("{Kirk} {Hale} \"Fire.\"\n");
    CHECK_INT(n_errors(), 1);
    CHECK_DIAG(0, RP_DIAG_ERROR, 1, 1, "speaker tag {Kirk} is not followed by a quote", NULL);
    CHECK_STR(quote(0)->speaker, "Hale");
}

// {Name effect=FX}: a voice effect for that one quote, kept on every run
// of it (a directive inside splits it); 1 + rp_voice_fx, 0 = the speaker's.
static void test_tag_effect(void)
{
    parse("{Kirk effect=radio}\"Shields {sfx beep} at forty.\" {Kirk}\"Hold.\"\n"
          "{Unit 774 effect=\"none\"}\"Halt.\"\n"
          "{Mara effect=PA} Attention, all decks.\n");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(D.n, 0);
    CHECK_INT(count_runs(RP_RUN_QUOTE), 5);
    CHECK_RUN(quote(0), 1, 20, "Shields");
    CHECK_STR(quote(0)->speaker, "Kirk");
    CHECK_INT(quote(0)->spk_source, RP_SPK_TAG);
    CHECK_INT(quote(0)->fx, 1 + RP_VFX_RADIO);
    CHECK_STR(quote(1)->text, "at forty.");
    CHECK_STR(quote(1)->speaker, "Kirk");
    CHECK_INT(quote(1)->fx, 1 + RP_VFX_RADIO);
    CHECK_STR(quote(2)->speaker, "Kirk"); // the next quote: the speaker's own
    CHECK_INT(quote(2)->fx, 0);
    CHECK_STR(quote(3)->speaker, "Unit 774"); // several words, a quoted value
    CHECK_INT(quote(3)->fx, 1 + RP_VFX_NONE);
    CHECK_STR(quote(4)->speaker, "Mara"); // a tag making the paragraph a line
    CHECK_STR(quote(4)->text, "Attention, all decks.");
    CHECK_INT(quote(4)->fx, 1 + RP_VFX_PA); // effect names in any case
    // Untagged and screenplay quotes have none.
    parse("\"Go,\" said Kirk.\n\nKIRK: Go.\n");
    CHECK_INT(quote(0)->fx, 0);
    CHECK_INT(quote(1)->fx, 0);
}

static void test_tag_effect_errors(void)
{
    parse("{Kirk effect=raido}\"A.\" {Kirk efect=radio}\"B.\" {Kirk effect=zzz}\"C.\"\n"
          "{effect=radio}\"D.\" {Kirk effect=}\"E.\" {Kirk effect=radio loud}\"F.\"\n"
          "{Kirk effect=radio effect=pa}\"G.\" {Kirk gain=3}\"H.\" {frob x=1}\n");
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(n_errors(), 9);
    CHECK_DIAG(0, RP_DIAG_ERROR, 1, 14, "unknown voice effect 'raido'", "did you mean 'radio'?");
    CHECK_DIAG(1, RP_DIAG_ERROR, 1, 31, "unknown setting 'efect' in speaker tag",
               "did you mean 'effect'?");
    CHECK_DIAG(2, RP_DIAG_ERROR, 1, 61, "unknown voice effect 'zzz'",
               "one of none, radio, robot, megaphone, whisper, distant, pa, helmet");
    CHECK_DIAG(3, RP_DIAG_ERROR, 2, 2, "speaker tag needs a name before 'effect=radio'",
               "e.g. {Kirk effect=radio}\"...\"");
    CHECK_DIAG(4, RP_DIAG_ERROR, 2, 26, "missing value for 'effect'", "e.g. effect=radio");
    CHECK_DIAG(5, RP_DIAG_ERROR, 2, 58, "expected key=value, got 'loud'",
               "the name comes first: {Kirk effect=radio}");
    CHECK_DIAG(6, RP_DIAG_ERROR, 3, 20, "effect given twice in speaker tag", NULL);
    CHECK_DIAG(7, RP_DIAG_ERROR, 3, 41, "unknown setting 'gain' in speaker tag",
               "a speaker tag takes effect=NAME");
    CHECK_DIAG(8, RP_DIAG_ERROR, 3, 54, "unknown directive 'frob'", NULL);
    // A tag with a bad setting still names the speaker; the quote keeps the
    // speaker's own effect.
    CHECK_STR(quote(0)->speaker, "Kirk");
    CHECK_INT(quote(0)->fx, 0);
    CHECK_STR(quote(5)->speaker, "Kirk");
    CHECK_INT(quote(5)->fx, 1 + RP_VFX_RADIO);
}

static void test_screenplay(void)
{
    parse("KIRK: Shield harmonics.\n"
          "GENERAL HALE: Fire at will.\n"
          "O'BRIEN: Aye.\n"
          "He had one rule: never stop.\n"
          "Note: the wall was cold.\n"
          "CHAPTER I: The Start Of It.\n"
          "Unit 774: Halt.\n");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(count_runs(RP_RUN_QUOTE), 3);
    CHECK_RUN(quote(0), 1, 7, "Shield harmonics.");
    CHECK_STR(quote(0)->speaker, "Kirk");
    CHECK_INT(quote(0)->spk_source, RP_SPK_SCREENPLAY);
    CHECK_NEAR(quote(0)->confidence, 1.0, 1e-9);
    CHECK_RUN(quote(1), 2, 15, "Fire at will.");
    CHECK_STR(quote(1)->speaker, "General Hale");
    CHECK_STR(quote(2)->speaker, "O'Brien");
    CHECK_RUN(narr(0), 4, 1, "He had one rule: never stop.");
    CHECK_RUN(narr(3), 7, 1, "Unit 774: Halt.");  // capitalized names need an annotated file
    // In an annotated file (it has a '{'), Capitalized names count too.
    parse("{pause 1}\nUnit 774: Halt. {sfx beep} Now.\nKIRK: Go.\nKIRK: Stay.\n");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(count_runs(RP_RUN_QUOTE), 4);
    CHECK_STR(quote(0)->speaker, "Unit 774");
    CHECK_RUN(quote(0), 2, 11, "Halt.");
    CHECK_RUN(quote(1), 2, 28, "Now.");
    CHECK_STR(quote(1)->speaker, "Unit 774");
    CHECK_STR(quote(3)->speaker, "Kirk");
}

static void test_screenplay_in_hard_wrapped_file(void)
{
    // Screenplay lines start their own paragraph even without blank lines.
    parse("The bunker was quiet. Too quiet for\nthe middle of a siege.\n\n"
          "KIRK: Shield harmonics.\nHALE: Fire.\n");
    CHECK_INT(count_runs(RP_RUN_QUOTE), 2);
    CHECK_STR(quote(1)->speaker, "Hale");
    CHECK_RUN(quote(1), 5, 7, "Fire.");
}

// ---- directives -----------------------------------------------------------------------

static void test_directives(void)
{
    parse("The first pod {sfx pod_impact} slammed into the street.\n"
          "{sfx thunder gain=-6 pan=-0.4 delay=0.5}\n"
          "{bed rain fade=3 label=\"soft rain\"} Rain. {stop rain fade=2}\n"
          "{pause 1.5}\n"
          "{# a comment} Quiet.\n"
          "{#only a comment}\n");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(D.n, 0);
    CHECK_INT(S.n_blocks, 5);
    CHECK_INT(S.blocks[0].n_runs, 3);
    CHECK_RUN(narr(0), 1, 1, "The first pod");
    CHECK_RUN(narr(1), 1, 32, "slammed into the street.");
    const rp_run *d = dirv(0);
    CHECK_INT(d->line, 1);
    CHECK_INT(d->col, 15);
    CHECK_INT(d->dir.kind, RP_DIR_SFX);
    CHECK_STR(d->dir.name, "pod_impact");
    CHECK_INT(d->dir.n_params, 0);
    CHECK(d->text == NULL);
    CHECK_INT(S.blocks[0].runs[1].kind, RP_RUN_DIRECTIVE);  // between the two halves
    d = dirv(1);
    CHECK_INT(S.blocks[1].n_runs, 1);  // a directive-only line is a paragraph of directives
    CHECK_STR(d->dir.name, "thunder");
    CHECK_INT(d->dir.n_params, 3);
    CHECK_STR(d->dir.params[0].key, "gain");
    CHECK_STR(d->dir.params[0].value, "-6");
    CHECK_INT(d->dir.params[0].line, 2);
    CHECK_INT(d->dir.params[0].col, 14);
    CHECK_STR(d->dir.params[1].key, "pan");
    CHECK_STR(d->dir.params[1].value, "-0.4");
    CHECK_INT(d->dir.params[1].col, 22);
    CHECK_STR(d->dir.params[2].value, "0.5");
    CHECK_INT(d->dir.params[2].col, 31);
    d = dirv(2);
    CHECK_INT(d->dir.kind, RP_DIR_BED);
    CHECK_STR(d->dir.name, "rain");
    CHECK_INT(d->dir.n_params, 2);
    CHECK_STR(d->dir.params[1].key, "label");
    CHECK_STR(d->dir.params[1].value, "soft rain");
    CHECK_INT(d->dir.params[1].col, 18);
    d = dirv(3);
    CHECK_INT(d->dir.kind, RP_DIR_STOP);
    CHECK_STR(d->dir.name, "rain");
    CHECK_INT(d->col, 43);
    d = dirv(4);
    CHECK_INT(d->dir.kind, RP_DIR_PAUSE);
    CHECK_NEAR(d->dir.seconds, 1.5, 1e-12);
    CHECK(d->dir.name == NULL);
    CHECK_INT(count_runs(RP_RUN_DIRECTIVE), 5);  // comments are dropped
    CHECK_RUN(narr(3), 5, 15, "Quiet.");
}

static void test_directive_split_keeps_text(void)
{
    parse("It hit the street {sfx boom}. Then {sfx crash}, silence.\n");
    CHECK_INT(count_runs(RP_RUN_DIRECTIVE), 2);
    CHECK_INT(S.blocks[0].n_runs, 5);
    CHECK_RUN(narr(0), 1, 1, "It hit the street.");
    CHECK_RUN(narr(1), 1, 31, "Then,");
    CHECK_RUN(narr(2), 1, 49, "silence.");
    CHECK_INT(S.blocks[0].runs[1].kind, RP_RUN_DIRECTIVE);
    CHECK_INT(S.blocks[0].runs[3].kind, RP_RUN_DIRECTIVE);
}

static void test_directive_inside_quote(void)
{
    parse("{Hale}\"Fire {sfx cannon} now!\" she ordered.\n");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(count_runs(RP_RUN_QUOTE), 2);
    CHECK_RUN(quote(0), 1, 7, "Fire");
    CHECK_RUN(quote(1), 1, 26, "now!");
    CHECK_STR(quote(1)->speaker, "Hale");
    CHECK_INT(S.blocks[0].runs[1].kind, RP_RUN_DIRECTIVE);
    CHECK_RUN(narr(0), 1, 32, "she ordered.");
}

static void test_max_params(void)
{
    char buf[512] = "{sfx x";
    for (int i = 0; i < RP_MAX_DIRECTIVE_PARAMS; i++)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), " k%d=%d", i, i);
    strcat(buf, "}\n");
    parse(buf);
    CHECK_INT(ST, RP_OK);
    CHECK_INT(dirv(0)->dir.n_params, RP_MAX_DIRECTIVE_PARAMS);
    buf[strlen(buf) - 2] = '\0';
    strcat(buf, " extra=1}\n");
    parse(buf);
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_DIAG(0, RP_DIAG_ERROR, 1, 100, "too many settings (at most 16)", NULL);
    CHECK_INT(count_runs(RP_RUN_DIRECTIVE), 0);
}

static void test_directive_names(void)
{
    CHECK_INT(rp_n_directive_names, 5);
    CHECK_STR(rp_directive_names[0], "sfx");
    CHECK_STR(rp_directive_names[1], "bed");
    CHECK_STR(rp_directive_names[2], "stop");
    CHECK_STR(rp_directive_names[3], "pause");
    CHECK_STR(rp_directive_names[4], "room");
}

// {room NAME key=value ...}: a directive of its own, with its settings
// located for the layout's checks; its mistakes located here.
static void test_room_directive(void)
{
    parse("# The Hall {room hall}\n"
          "***\n"
          "{room street wet=-12 rt60=\"1.5 s\"} \"Here,\" she said. {room none}\n");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(D.n, 0);
    CHECK_INT(count_runs(RP_RUN_DIRECTIVE), 3);
    const rp_run *d = dirv(0);
    CHECK_INT(d->dir.kind, RP_DIR_ROOM);
    CHECK_STR(d->dir.name, "hall");
    CHECK_INT(d->line, 1);
    CHECK_INT(d->col, 12);
    CHECK_INT(S.blocks[0].kind, RP_BLOCK_HEADING);
    CHECK_INT(S.blocks[1].kind, RP_BLOCK_SCENE_BREAK);
    d = dirv(1);
    CHECK_INT(d->dir.kind, RP_DIR_ROOM);
    CHECK_STR(d->dir.name, "street");
    CHECK_INT(d->line, 3);
    CHECK_INT(d->col, 1);
    CHECK_INT(d->dir.n_params, 2);
    CHECK_STR(d->dir.params[0].key, "wet");
    CHECK_STR(d->dir.params[0].value, "-12");
    CHECK_INT(d->dir.params[0].col, 14);
    CHECK_STR(d->dir.params[1].key, "rt60");
    CHECK_STR(d->dir.params[1].value, "1.5 s");
    CHECK_INT(d->dir.params[1].col, 22);
    CHECK_INT(dirv(2)->dir.kind, RP_DIR_ROOM);
    CHECK_STR(dirv(2)->dir.name, "none");
    CHECK_INT(dirv(2)->col, 54);
    CHECK_RUN(quote(0), 3, 36, "Here,");

    parse("Sky. {room} {rom hall} {room big-hall} {room hall wet}\n");
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(n_errors(), 4);
    CHECK_DIAG(0, RP_DIAG_ERROR, 1, 7, "{room} needs a name", "e.g. {room hall}");
    CHECK_DIAG(1, RP_DIAG_ERROR, 1, 14, "unknown directive 'rom'", "did you mean 'room'?");
    CHECK_DIAG(2, RP_DIAG_ERROR, 1, 30, "invalid room name 'big-hall'",
               "names use letters, digits and '_' (at most 64)");
    CHECK_DIAG(3, RP_DIAG_ERROR, 1, 51, "expected key=value, got 'wet'",
               "settings are written key=value, e.g. gain=-6");
    CHECK_INT(count_runs(RP_RUN_DIRECTIVE), 0);
    // A capitalized word is still a speaker tag.
    parse("{Room}\"Who is there?\"\n");
    CHECK_INT(ST, RP_OK);
    CHECK_STR(quote(0)->speaker, "Room");
}

// ---- diagnostics ------------------------------------------------------------------------

static void test_unclosed_brace(void)
{
    parse("The pod {sfx thunder slammed down.\n");
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_DIAG(0, RP_DIAG_ERROR, 1, 9, "unclosed '{'", "directives end with '}'");
    CHECK_INT(S.n_blocks, 1);  // what could be parsed is kept
    // The next '{' ends the search.
    parse("A {sfx x {sfx y} b.\n");
    CHECK_INT(n_errors(), 1);
    CHECK_DIAG(0, RP_DIAG_ERROR, 1, 3, "unclosed '{'", NULL);
    CHECK_STR(dirv(0)->dir.name, "y");
    // So do 200 characters.
    char buf[400] = "{sfx x ";
    memset(buf + 7, 'a', 250);
    strcpy(buf + 257, "}\n");
    parse(buf);
    CHECK_DIAG(0, RP_DIAG_ERROR, 1, 1, "unclosed '{'", NULL);
}

static void test_unknown_directive(void)
{
    parse("Sky. {sxf thunder} {paus 2} {frob x=1} {sfx} {sfx bad-name}\n");
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(n_errors(), 5);
    CHECK_DIAG(0, RP_DIAG_ERROR, 1, 7, "unknown directive 'sxf'", "did you mean 'sfx'?");
    CHECK_DIAG(1, RP_DIAG_ERROR, 1, 21, "unknown directive 'paus'", "did you mean 'pause'?");
    CHECK_DIAG(2, RP_DIAG_ERROR, 1, 30, "unknown directive 'frob'",
               "directives are sfx, bed, stop, pause, room and {# comments}");
    CHECK_DIAG(3, RP_DIAG_ERROR, 1, 41, "{sfx} needs a name", "e.g. {sfx rain}");
    CHECK_DIAG(4, RP_DIAG_ERROR, 1, 51, "invalid sfx name 'bad-name'",
               "names use letters, digits and '_' (at most 64)");
    CHECK_INT(count_runs(RP_RUN_DIRECTIVE), 0);
}

static void test_bad_params(void)
{
    parse("{sfx x gain} {bed y =3} {stop z fade=} {sfx w a=\"open}\n");
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_DIAG(0, RP_DIAG_ERROR, 1, 8, "expected key=value, got 'gain'",
               "settings are written key=value, e.g. gain=-6");
    CHECK_DIAG(1, RP_DIAG_ERROR, 1, 21, "invalid setting name ''",
               "setting names use letters, digits and '_'");
    CHECK_DIAG(2, RP_DIAG_ERROR, 1, 33, "missing value for 'fade'", NULL);
    CHECK_DIAG(3, RP_DIAG_ERROR, 1, 40, "unclosed '{'", NULL);  // '}' inside "..."
    parse("{sfx x=1}\n");
    CHECK_DIAG(0, RP_DIAG_ERROR, 1, 2, "{sfx} needs a name before 'x=1'", NULL);
    parse("{bed rain a=\"b c}\n");
    CHECK_DIAG(0, RP_DIAG_ERROR, 1, 1, "unclosed '{'", NULL);
}

static void test_bad_pause(void)
{
    parse("{pause 0} {pause -1} {pause 61} {pause abc} {pause inf} {pause nan} {pause} "
          "{pause 1 2} {pause 60}\n");
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(n_errors(), 8);
    CHECK_DIAG(0, RP_DIAG_ERROR, 1, 8, "pause '0' is not a number of seconds in (0, 60]",
               "e.g. {pause 1.5}");
    CHECK_DIAG(1, RP_DIAG_ERROR, 1, 18, "pause '-1' is not a number of seconds in (0, 60]", NULL);
    CHECK_DIAG(2, RP_DIAG_ERROR, 1, 29, "pause '61' is not a number of seconds in (0, 60]", NULL);
    CHECK_DIAG(3, RP_DIAG_ERROR, 1, 40, "pause 'abc' is not a number of seconds in (0, 60]", NULL);
    CHECK_DIAG(4, RP_DIAG_ERROR, 1, 52, "pause 'inf' is not a number of seconds in (0, 60]", NULL);
    CHECK_DIAG(5, RP_DIAG_ERROR, 1, 64, "pause 'nan' is not a number of seconds in (0, 60]", NULL);
    CHECK_DIAG(6, RP_DIAG_ERROR, 1, 70, "{pause} needs a duration in seconds", NULL);
    CHECK_DIAG(7, RP_DIAG_ERROR, 1, 86, "unexpected '2' in {pause}", NULL);
    CHECK_INT(count_runs(RP_RUN_DIRECTIVE), 1);
    CHECK_NEAR(dirv(0)->dir.seconds, 60.0, 1e-12);
}

static void test_stray_and_empty_braces(void)
{
    parse("Done} here. {} {  }\n");
    CHECK_INT(n_errors(), 3);
    CHECK_DIAG(0, RP_DIAG_ERROR, 1, 5, "stray '}'",
               "directives are written {like this}; remove the '}'");
    CHECK_DIAG(1, RP_DIAG_ERROR, 1, 13, "empty directive '{}'", NULL);
    CHECK_DIAG(2, RP_DIAG_ERROR, 1, 16, "empty directive '{}'", NULL);
    CHECK_RUN(narr(0), 1, 1, "Done here.");
}

static void test_invalid_utf8(void)
{
    parse("Good line.\nBad \xFF here \xC3 and \xE2\x80\x9CHi.\xE2\x80\x9D\n");
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(n_errors(), 2);
    CHECK_DIAG(0, RP_DIAG_ERROR, 2, 5, "invalid UTF-8 byte 0xFF", "save the chapter as UTF-8 text");
    CHECK_DIAG(1, RP_DIAG_ERROR, 2, 12, "invalid UTF-8 byte 0xC3", NULL);
    CHECK_INT(count_runs(RP_RUN_QUOTE), 1);  // parsing went on
    CHECK_RUN(quote(0), 2, 18, "Hi.");
    // Floods are capped, with a note saying how many more there were.
    char buf[64];
    memset(buf, 0xFF, 30);
    buf[30] = '\0';
    parse(buf);
    CHECK_INT(D.n, 21);
    CHECK_DIAG(20, RP_DIAG_NOTE, 0, 0, "10 more invalid UTF-8 bytes not reported", NULL);
}

static void test_nul_bytes(void)
{
    static const char text[] = "One.\nTw\0o.\n\0\0\n";
    parse_n(text, sizeof text - 1);
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(D.n, 1);
    CHECK_DIAG(0, RP_DIAG_ERROR, 2, 3, "binary data (NUL byte)", "a chapter is UTF-8 text");
}

static void test_line_endings_and_bom(void)
{
    parse("\xEF\xBB\xBF\"Hi,\" he said.\r\nNext line.\rThird \"one\".\r\nLast.");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(S.n_blocks, 4);
    CHECK_RUN(quote(0), 1, 1, "Hi,");
    CHECK_RUN(narr(0), 1, 7, "he said.");
    CHECK_RUN(narr(1), 2, 1, "Next line.");
    CHECK_RUN(quote(1), 3, 7, "one");
    CHECK_RUN(narr(3), 4, 1, "Last.");
    // Hard-wrapped with CRLF.
    parse("A long line\r\nwrapped here.\r\n\r\nAnother\r\none.\r\n");
    CHECK_INT(S.n_blocks, 2);
    CHECK_RUN(narr(0), 1, 1, "A long line wrapped here.");
    CHECK_RUN(narr(1), 4, 1, "Another one.");
}

static void test_several_errors(void)
{
    parse("Line {sxf a}.\n\n{pause 99} \"Hi,\" he said.\n\nEnd } {Kirk}\n");
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(n_errors(), 4);
    CHECK_DIAG(0, RP_DIAG_ERROR, 1, 7, "unknown directive 'sxf'", "did you mean 'sfx'?");
    CHECK_DIAG(1, RP_DIAG_ERROR, 3, 8, "pause '99' is not a number of seconds in (0, 60]", NULL);
    CHECK_DIAG(2, RP_DIAG_ERROR, 5, 5, "stray '}'", NULL);
    CHECK_DIAG(3, RP_DIAG_ERROR, 5, 7, "speaker tag {Kirk} is not followed by a quote", NULL);
    CHECK_INT(count_runs(RP_RUN_QUOTE), 1);
}

static void test_limits(void)
{
    // A line over RP_MAX_LINE_BYTES.
    size_t n = RP_MAX_LINE_BYTES + 100;
    char *big = malloc(n + 20);
    CHECK(big != NULL);
    if (!big)
        return;
    strcpy(big, "Short.\n");
    memset(big + 7, 'a', n);
    strcpy(big + 7 + n, "\nEnd.\n");
    parse(big);
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_DIAG(0, RP_DIAG_ERROR, 2, 1, "line is longer than 1048576 bytes; the rest of it is ignored",
               NULL);
    CHECK_RUN(narr(2), 3, 1, "End.");
    free(big);
    // A chapter over RP_MAX_CHAPTER_BYTES.
    char *huge = calloc(RP_MAX_CHAPTER_BYTES + 1u, 1);
    CHECK(huge != NULL);
    if (!huge)
        return;
    parse_n(huge, RP_MAX_CHAPTER_BYTES + 1u);
    CHECK_INT(ST, RP_ERR_LIMIT);
    CHECK_INT(S.n_blocks, 0);
    CHECK_DIAG(0, RP_DIAG_ERROR, 0, 0, "chapter is larger than 67108864 bytes", NULL);
    free(huge);
}

// RP_MAX_CUES directives make cues; one more is an error where it stands,
// and is left out.
static size_t count_directives(void)
{
    size_t n = 0;
    for (size_t i = 0; i < S.n_blocks; i++)
        for (size_t j = 0; j < S.blocks[i].n_runs; j++)
            n += S.blocks[i].runs[j].kind == RP_RUN_DIRECTIVE;
    return n;
}

static void test_cue_limit(void)
{
    static const char cue[] = "{pause 1}\n";
    size_t n = RP_MAX_CUES + 1, len = sizeof cue - 1;
    char *text = malloc(n * len), want[64];
    CHECK(text != NULL);
    if (!text)
        return;
    for (size_t i = 0; i < n; i++)
        memcpy(text + i * len, cue, len);
    parse_n(text, (n - 1) * len);
    CHECK_INT(ST, RP_OK);
    CHECK_INT(count_directives(), RP_MAX_CUES);
    parse_n(text, n * len);
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_INT(D.n, 1);
    snprintf(want, sizeof want, "more than %d cues in the chapter", RP_MAX_CUES);
    CHECK_DIAG(0, RP_DIAG_ERROR, RP_MAX_CUES + 1, 1, want, "split the chapter in two");
    CHECK_INT(count_directives(), RP_MAX_CUES);
    free(text);
}

// Speaker names are letters, digits, spaces and . ' - _ (others would break
// the cast sheet's [voice NAME]); a screenplay name longer than
// RP_MAX_NAME_BYTES is prose.
static void test_speaker_names(void)
{
    parse("{Dr. O'Brien-Smith}\"Hi.\" {Unit_7}\"Yes.\"\n");
    CHECK_INT(ST, RP_OK);
    CHECK_STR(quote(0)->speaker, "Dr. O'Brien-Smith");
    CHECK_STR(quote(1)->speaker, "Unit_7");
    parse("{Kirk]x}\"Hi.\"\n{Ann ;b}\"Yes.\"\n");
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_DIAG(0, RP_DIAG_ERROR, 1, 6, "']' in a speaker name",
               "names are letters, digits, spaces and . ' - _");
    CHECK_DIAG(1, RP_DIAG_ERROR, 2, 6, "';' in a speaker name",
               "names are letters, digits, spaces and . ' - _");
    CHECK(quote(0)->speaker == NULL);
    char line[RP_MAX_NAME_BYTES + 32];
    memset(line, 'A', RP_MAX_NAME_BYTES);
    strcpy(line + RP_MAX_NAME_BYTES, ": Shields up.\n");
    parse(line);
    CHECK_INT(count_runs(RP_RUN_QUOTE), 1);
    memset(line, 'A', RP_MAX_NAME_BYTES + 1);
    strcpy(line + RP_MAX_NAME_BYTES + 1, ": Shields up.\n");
    parse(line);
    CHECK_INT(ST, RP_OK);
    CHECK_INT(count_runs(RP_RUN_QUOTE), 0);
}

// A tag inside a quote names the speaker of the rest of it, and a tag may
// stand before a dash and before dash speech resumed after its speech tag:
// where `annotate` writes them.
static void test_tags_inside_speech(void)
{
    parse("\"Hold {pause 1} {Tom}on,\" she said.\n");
    CHECK_INT(ST, RP_OK);
    CHECK_RUN(quote(0), 1, 1, "Hold");
    CHECK(quote(0)->speaker == NULL);
    CHECK_RUN(quote(1), 1, 22, "on,");
    CHECK_STR(quote(1)->speaker, "Tom");
    CHECK_INT(quote(1)->spk_source, RP_SPK_TAG);
    parse("{Kinch}\xE2\x80\x94" "Come up, Kinch! he cried.\n\n"
          "{Ann} \xE2\x80\x94" "Where are you going? she asked. {Ann}To the tower.\n\n"
          "\xE2\x80\x94" "Nowhere.\n");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(count_runs(RP_RUN_QUOTE), 4);
    CHECK_RUN(quote(0), 1, 8, "Come up, Kinch!");
    CHECK_STR(quote(0)->speaker, "Kinch");
    CHECK_RUN(quote(1), 3, 7, "Where are you going?");
    CHECK_STR(quote(1)->speaker, "Ann");
    CHECK_RUN(narr(1), 3, 29, "she asked.");
    CHECK_RUN(quote(2), 3, 45, "To the tower.");
    CHECK_STR(quote(2)->speaker, "Ann");
    CHECK_RUN(quote(3), 5, 1, "Nowhere.");
    CHECK(quote(3)->speaker == NULL);
    // A screenplay line has its speaker: a tag inside it is not followed by
    // a quote.
    parse("KIRK: {Tom}Hello.\n");
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_DIAG(0, RP_DIAG_ERROR, 1, 7, "speaker tag {Tom} is not followed by a quote", NULL);
    CHECK_STR(quote(0)->speaker, "Kirk");
}

// A cue next to a short quote changes nothing of how it reads (a cue after
// one crashed): a word quoted is still narrated, the cue where it stood.
static void test_scare_quote_next_to_cue(void)
{
    parse("He built it for \"style\" {sfx thunder} here.\n");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(count_runs(RP_RUN_QUOTE), 0);
    CHECK_RUN(narr(0), 1, 1, "He built it for \xE2\x80\x9Cstyle\xE2\x80\x9D");
    CHECK_RUN(narr(1), 1, 39, "here.");
    CHECK_STR(dirv(0)->dir.name, "thunder");
    parse("He built it for {sfx thunder} \"style\" not service.\n");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(count_runs(RP_RUN_QUOTE), 0);
    CHECK_RUN(narr(0), 1, 1, "He built it for");
    CHECK_RUN(narr(1), 1, 31, "\xE2\x80\x9Cstyle\xE2\x80\x9D not service.");
}

// A quote a paragraph leaves open goes on when the next paragraph opens with
// a mark too; otherwise a warning where it opened. A directive's setting
// given twice is an error at the second.
static void test_unclosed_quote_and_twice(void)
{
    parse("He said, \"This quote never ends.\n\nAnd the narration goes on.\n\n"
          "\"Another,\" said Ann. \"Long speech,\n\n\"still going.\"\n\n"
          "\"Last one.\n");
    CHECK_INT(ST, RP_OK);
    CHECK_INT(D.n, 2);
    CHECK_DIAG(0, RP_DIAG_WARNING, 1, 10, "unclosed quote",
               "close it, or open the next paragraph with a quote mark too");
    CHECK_DIAG(1, RP_DIAG_WARNING, 9, 1, "unclosed quote",
               "close it, or open the next paragraph with a quote mark too");
    CHECK_RUN(quote(0), 1, 10, "This quote never ends.");
    parse("Text {sfx thunder gain=3 gain=4} more.\n");
    CHECK_INT(ST, RP_ERR_INPUT);
    CHECK_DIAG(0, RP_DIAG_ERROR, 1, 26, "gain given twice (first at column 19)", "give it once");
    CHECK_INT(D.n, 1);
}

static void test_deinit_safe(void)
{
    rp_script s;
    memset(&s, 0, sizeof s);
    rp_script_deinit(&s);
    rp_script_deinit(&s);
    rp_script_deinit(NULL);
    parse("\"Hi.\"\n");
    rp_script_deinit(&S);
    rp_script_deinit(&S);
    CHECK_INT(S.n_blocks, 0);
    CHECK(S.blocks == NULL);
}

// Random bytes biased towards the parser's special characters: no crash, no
// hang, and every run well-formed. SEED= reproduces a run.
static void test_random_input(void)
{
    static const char *const pieces[] = {"{", "}", "\"", "'", "\xE2\x80\x9C", "\xE2\x80\x9D",
                                         "\xE2\x80\x98", "\xE2\x80\x99", " ", "\n", "\r",
                                         "\n\n", "sfx", "pause", "=", "#", "***", "KIRK:",
                                         "a", "Word", ".", "\xFF", "\0", "{Kirk}"};
    const char *env = getenv("SEED");
    uint64_t seed = env ? strtoull(env, NULL, 10) : 12345;
    printf("  test_random_input: SEED=%llu\n", (unsigned long long)seed);
    rp_rng rng = {seed};
    char buf[2048];
    for (int iter = 0; iter < 2000; iter++) {
        size_t n = 0, want = (size_t)(rp_rng_next(&rng) % 200);
        for (size_t k = 0; k < want; k++) {
            const char *p = pieces[rp_rng_next(&rng) % (sizeof pieces / sizeof pieces[0])];
            size_t l = p[0] ? strlen(p) : 1;
            if (n + l >= sizeof buf)
                break;
            memcpy(buf + n, p, l);
            n += l;
        }
        parse_n(buf, n);
        CHECK(ST == RP_OK || ST == RP_ERR_INPUT);
        for (size_t i = 0; i < S.n_blocks; i++)
            for (size_t j = 0; j < S.blocks[i].n_runs; j++) {
                const rp_run *r = &S.blocks[i].runs[j];
                CHECK(r->line >= 1 && r->col >= 1);
                CHECK((r->kind == RP_RUN_DIRECTIVE) == (r->text == NULL));
                CHECK(!r->text || (r->text[0] && r->text[0] != ' '));
            }
    }
}

// ---- the shared corpus (only when present) -----------------------------------------------

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *b = NULL;
    size_t cap = 0;
    *n = 0;
    for (;;) {
        if (*n + 4096 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(b, cap);
            if (!nb)
                break;
            b = nb;
        }
        size_t got = fread(b + *n, 1, cap - *n, f);
        if (!got)
            break;
        *n += got;
    }
    fclose(f);
    return b;
}

// Fraction of the gold opening marks of a few passages that the parser finds
// as quote runs at the same line and column (or up to 3 columns away).
static void test_corpus_detection(void)
{
    static const char *const books[] = {"1342_pride_and_prejudice", "11_alices_adventures_in_wonderland",
                                        "730_oliver_twist", "2852_the_hound_of_the_baskervilles",
                                        "1661_the_adventures_of_sherlock_holmes"};
    const char *root = "../shared/corpus/litbank-quotes";
    size_t gold = 0, found = 0;
    for (size_t b = 0; b < sizeof books / sizeof books[0]; b++) {
        char path[512];
        size_t n = 0, gn = 0;
        snprintf(path, sizeof path, "%s/passages/%s.txt", root, books[b]);
        char *text = slurp(path, &n);
        snprintf(path, sizeof path, "%s/gold/%s.tsv", root, books[b]);
        char *g = slurp(path, &gn);
        CHECK(text && g);
        if (!text || !g) {
            free(text);
            free(g);
            continue;
        }
        g = realloc(g, gn + 1);
        g[gn] = '\0';
        parse_n(text, n);
        char *save = NULL;
        for (char *line = strtok_r(g, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            int num, l, c;
            if (sscanf(line, "%d\t%d\t%d", &num, &l, &c) != 3)
                continue;
            gold++;
            int hit = 0;
            for (size_t k = 0; quote(k) && !hit; k++)
                hit = quote(k)->line == l && abs(quote(k)->col - c) <= 3;
            found += hit;
        }
        free(text);
        free(g);
    }
    printf("  corpus detection: %zu/%zu gold quotes found\n", found, gold);
    CHECK(gold > 0 && found * 100 >= gold * 90);
}

static int corpus_present(void)
{
    DIR *d = opendir("../shared/corpus/litbank-quotes/passages");
    if (!d)
        return 0;
    closedir(d);
    return 1;
}

int main(void)
{
    RUN(test_empty);
    RUN(test_one_line_per_paragraph);
    RUN(test_blank_lines_between_one_line_paragraphs);
    RUN(test_hard_wrapped);
    RUN(test_hard_wrapped_quote_across_lines);
    RUN(test_hash_headings);
    RUN(test_bare_titles);
    RUN(test_bare_title_hard_wrapped);
    RUN(test_scene_breaks);
    RUN(test_straight_quotes);
    RUN(test_curly_quotes_and_columns);
    RUN(test_nested_single_in_double);
    RUN(test_open_quote_runs_to_paragraph_end);
    RUN(test_single_quote_dialogue_curly);
    RUN(test_single_quote_dialogue_straight);
    RUN(test_single_marks_not_dialogue_with_double);
    RUN(test_dash_dialogue);
    RUN(test_empty_and_punctuation_quotes);
    RUN(test_scare_quotes);
    RUN(test_speaker_tags);
    RUN(test_tag_whole_paragraph);
    RUN(test_tag_without_quote);
    RUN(test_tag_effect);
    RUN(test_tag_effect_errors);
    RUN(test_screenplay);
    RUN(test_screenplay_in_hard_wrapped_file);
    RUN(test_directives);
    RUN(test_directive_split_keeps_text);
    RUN(test_directive_inside_quote);
    RUN(test_max_params);
    RUN(test_directive_names);
    RUN(test_room_directive);
    RUN(test_unclosed_brace);
    RUN(test_unknown_directive);
    RUN(test_bad_params);
    RUN(test_bad_pause);
    RUN(test_stray_and_empty_braces);
    RUN(test_invalid_utf8);
    RUN(test_nul_bytes);
    RUN(test_line_endings_and_bom);
    RUN(test_several_errors);
    RUN(test_limits);
    RUN(test_cue_limit);
    RUN(test_speaker_names);
    RUN(test_tags_inside_speech);
    RUN(test_scare_quote_next_to_cue);
    RUN(test_unclosed_quote_and_twice);
    RUN(test_deinit_safe);
    RUN(test_random_input);
    if (corpus_present())
        RUN(test_corpus_detection);
    else
        printf("  skip  test_corpus_detection (../shared/corpus not present; not counted)\n");
    release();
    return TEST_SUMMARY("test_parse");
}
