// SPDX-License-Identifier: GPL-3.0-or-later
// Tests for the chapter lint (check.c) on short passages written here:
// which quotes are listed as weak attributions (never tagged ones), which
// capitalized words are names with their counts, first locations and [say]
// entries, and which paragraphs nearly repeat an earlier one, with the share
// of words heard twice; plus a long generated chapter with one planted repeat
// and a phrase common to every paragraph.
#include <stdint.h>

#include "rp_cast.h"
#include "rp_check.h"
#include "rp_config.h"
#include "rp_script.h"
#include "test.h"

static rp_script S;
static rp_cast C;
static rp_check_report R;

// Parses text (without attribution: tests set what attribution would).
static int parse(const char *text)
{
    rp_diags d;
    rp_diags_init(&d);
    rp_status st = rp_parse("t.txt", text, strlen(text), &S, &d);
    for (size_t i = 0; i < d.n; i++) {
        char buf[512];
        fprintf(stderr, "  %s\n", rp_diag_format(&d.items[i], buf, sizeof buf));
    }
    rp_diags_deinit(&d);
    return st == RP_OK;
}

static rp_status check(const char *text, const rp_check_config *cfg)
{
    rp_check_config def = rp_check_config_default();
    return rp_check_chapter(&S, text, strlen(text), &C, cfg ? cfg : &def, &R);
}

static void done(void)
{
    rp_check_report_deinit(&R);
    rp_script_deinit(&S);
    rp_cast_deinit(&C);
    rp_cast_init(&C);
}

static rp_run *quote_at(int line)
{
    for (size_t i = 0; i < S.n_blocks; i++)
        for (size_t k = 0; k < S.blocks[i].n_runs; k++)
            if (S.blocks[i].runs[k].kind == RP_RUN_QUOTE && S.blocks[i].runs[k].line == line)
                return &S.blocks[i].runs[k];
    return NULL;
}

// What attribution would have decided (the run owns its speaker).
static void attribute(rp_run *r, const char *speaker, const char *rule, double conf)
{
    if (!r)
        return;
    free(r->speaker);
    r->speaker = rp_strdup(speaker);
    r->rule = rule;
    r->confidence = conf;
    r->spk_source = conf < 0.3 ? RP_SPK_GUESS : RP_SPK_RULE;
}

// ---- quotes ----------------------------------------------------------------------

static const char dialogue[] =
    "{Kade}\"Hold the line,\" Kade said.\n"  // 1
    "\n"                                     // 2
    "\"Who goes there?\"\n"                  // 3
    "\n"                                     // 4
    "\"Nobody,\" said Mira.\n"               // 5
    "\n"                                     // 6
    "\"Then who?\"\n";                       // 7

static void test_weak_quotes(void)
{
    CHECK(parse(dialogue));
    rp_run *tagged = quote_at(1);
    CHECK(tagged && tagged->spk_source == RP_SPK_TAG);
    if (tagged)
        tagged->confidence = 0.1;  // a tag is the user's word, whatever the number
    attribute(quote_at(3), "Mira", "turn-taking", 0.35);
    attribute(quote_at(5), "Mira", "said-name", 0.9);
    attribute(quote_at(7), "Kade", NULL, 0.2);
    CHECK_INT(check(dialogue, NULL), RP_OK);
    CHECK_INT(R.n_quotes, 2);
    if (R.n_quotes == 2) {
        CHECK_INT(R.quotes[0]->line, 3);
        CHECK_STR(R.quotes[0]->speaker, "Mira");
        CHECK_STR(rp_check_rule(R.quotes[0]), "turn-taking");
        CHECK_INT(R.quotes[1]->line, 7);
        CHECK_STR(rp_check_rule(R.quotes[1]), "none");
    }
    if (tagged)
        CHECK_STR(rp_check_rule(tagged), "tag");
    rp_check_report_deinit(&R);
    // A higher bar lists the said-name quote too, still not the tag.
    rp_check_config cfg = rp_check_config_default();
    cfg.min_confidence = 0.95;
    CHECK_INT(check(dialogue, &cfg), RP_OK);
    CHECK_INT(R.n_quotes, 3);
    for (size_t i = 0; i < R.n_quotes; i++)
        CHECK(R.quotes[i]->spk_source != RP_SPK_TAG);
    rp_run sp = {.kind = RP_RUN_QUOTE, .spk_source = RP_SPK_SCREENPLAY, .rule = "x"};
    CHECK_STR(rp_check_rule(&sp), "screenplay");
    CHECK_NEAR(rp_check_config_default().min_confidence, RP_CHECK_MIN_CONFIDENCE, 0);
    done();
}

static void test_excerpt(void)
{
    rp_strbuf b;
    rp_strbuf_init(&b);
    rp_check_excerpt("Shield harmonics at forty percent, a voice crackled.", 20, &b);
    CHECK_STR(b.s, "Shield harmonics at\xE2\x80\xA6");
    rp_strbuf_deinit(&b);
    rp_check_excerpt("Shields, now please", 10, &b);
    CHECK_STR(b.s, "Shields\xE2\x80\xA6");  // the comma before the cut goes too
    rp_strbuf_deinit(&b);
    rp_check_excerpt("Short.", 20, &b);
    CHECK_STR(b.s, "Short.");
    rp_strbuf_deinit(&b);
    // No space near the end: cut at the limit, never inside a character.
    rp_check_excerpt("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 4, &b);
    CHECK_STR(b.s, "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xE2\x80\xA6");
    rp_strbuf_deinit(&b);
    rp_check_excerpt("", 4, &b);
    CHECK(b.s == NULL || !strcmp(b.s, ""));
    rp_strbuf_deinit(&b);
}

// ---- names -------------------------------------------------------------------------

static const char names_text[] =
    "# The Fall of Thal'Karn\n"                                                      // 1
    "\n"                                                                             // 2
    "Ksena stood on the wall. Beside her, Alcuin waited.\n"                          // 3
    "\n"                                                                             // 4
    "\"They're early,\" said Alcuin. Then Ksena\xE2\x80\x99s comms crackled from "   // 5
    "Earth Coalition headquarters. I saw it, I'm sure.\n"                            //
    "\n"                                                                             // 6
    "The Peacekeepers came at dawn. Mr. Vantos ran. Thal'Karn burned.\n"             // 7
    "\n"                                                                             // 8
    "{sfx thunder}Thunder rolled over Thal'Karn-held streets and the "               // 9
    "Coalition-held bridge.\n"                                                       //
    "\n"                                                                             // 10
    "{Kade}\"Go,\" she told Mira: \"Now.\"\n";                                       // 11

static void test_names(void)
{
    const char *sheet = "[say]\nKsena = Kseh-nah\n";
    rp_diags d;
    rp_diags_init(&d);
    CHECK_INT(rp_cast_load(&C, "c.cast", sheet, strlen(sheet), &d), RP_OK);
    rp_diags_deinit(&d);
    CHECK(parse(names_text));
    CHECK_INT(check(names_text, NULL), RP_OK);
    static const struct {
        const char *word;
        size_t count;
        int line, col;
        const char *say;
    } want[] = {
        {"Thal'Karn", 3, 1, 15, NULL},   {"Alcuin", 2, 3, 38, NULL},
        {"Coalition", 2, 5, 70, NULL},   {"Ksena", 2, 3, 1, "Kseh-nah"},
        {"Earth", 1, 5, 64, NULL},       {"Mira", 1, 11, 22, NULL},
        {"Peacekeepers", 1, 7, 5, NULL}, {"Vantos", 1, 7, 36, NULL},
    };
    size_t n = sizeof want / sizeof want[0];
    CHECK_INT(R.n_names, n);
    for (size_t i = 0; i < R.n_names && i < n; i++) {
        const rp_check_name *g = &R.names[i];
        CHECK_MSG(!strcmp(g->word, want[i].word) && g->count == want[i].count &&
                      g->line == want[i].line && g->col == want[i].col,
                  "name %zu: %s x%zu at %d:%d, want %s x%zu at %d:%d", i, g->word, g->count,
                  g->line, g->col, want[i].word, want[i].count, want[i].line, want[i].col);
        if (want[i].say)
            CHECK(g->say && !strcmp(g->say->say, want[i].say));
        else
            CHECK(g->say == NULL);
    }
    done();
}

// ---- near-repeats ----------------------------------------------------------------

static const char drafts[] =
    "The first ship was large enough to block the sun, and the second was larger still "   // 1
    "than the first.\n"
    "\n"                                                                                   // 2
    "Steam hissed from the vents as the hatch blew open and the soldiers climbed out "    // 3
    "into the square.\n"
    "\n"                                                                                   // 4
    "The first ship was large enough to block the sun, and the second was larger than "   // 5
    "any of them.\n"
    "\n"                                                                                   // 6
    "Then the rain began.\n"                                                               // 7
    "\n"                                                                                   // 8
    "Then the rain began.\n"                                                               // 9
    "\n"                                                                                   // 10
    "Not water.\n"                                                                         // 11
    "\n"                                                                                   // 12
    "Not water.\n"                                                                         // 13
    "\n"                                                                                   // 14
    "Steam hissed from the vents as the hatch blew open and the soldiers climbed out "    // 15
    "into the square. Nobody in the crowd moved, and nobody spoke.\n"
    "\n"                                                                                   // 16
    "She walked out of the house and into the street, where the crowd was still "         // 17
    "waiting for the soldiers.\n"
    "\n"                                                                                   // 18
    "\"What do you mean?\"\n"                                                              // 19
    "\n"                                                                                   // 20
    "\"What do you mean?\"\n";                                                             // 21

static void test_near_repeats(void)
{
    CHECK(parse(drafts));
    CHECK_INT(check(drafts, NULL), RP_OK);
    CHECK_INT(R.n_repeats, 3);
    if (R.n_repeats == 3) {
        // A revision: 15 of its 19 words were heard in the first draft.
        const rp_check_repeat *r = &R.repeats[0];
        CHECK_INT(r->line, 5);
        CHECK_INT(r->col, 1);
        CHECK_INT(r->first_line, 1);
        CHECK_NEAR(r->share, 15.0 / 19.0, 1e-9);
        CHECK_INT(r->of_first, 0);
        // Too short for shingles, but word for word (and narration: the
        // repeated line of dialogue at 21 is not reported).
        CHECK_INT(R.repeats[1].line, 9);
        CHECK_INT(R.repeats[1].first_line, 7);
        CHECK_NEAR(R.repeats[1].share, 1.0, 0);
        // The earlier paragraph whole, with more added.
        CHECK_INT(R.repeats[2].line, 15);
        CHECK_INT(R.repeats[2].first_line, 3);
        CHECK_NEAR(R.repeats[2].share, 1.0, 1e-9);
        CHECK_INT(R.repeats[2].of_first, 1);
    }
    rp_check_report_deinit(&R);
    // A stricter share drops the revision; a lower minimum for exact
    // repeats catches "Not water." too.
    rp_check_config cfg = rp_check_config_default();
    cfg.repeat_share = 0.85;
    cfg.min_exact_words = 2;
    CHECK_INT(check(drafts, &cfg), RP_OK);
    CHECK_INT(R.n_repeats, 3);
    if (R.n_repeats == 3) {
        CHECK_INT(R.repeats[0].line, 9);
        CHECK_INT(R.repeats[1].line, 13);
        CHECK_INT(R.repeats[2].line, 15);
    }
    done();
}

// Thousands of paragraphs of random words, each with a phrase they all
// share ("out of the house"), and one paragraph planted again near the end.
static void test_long_chapter(void)
{
    enum { N_PARA = 3000, N_WORDS = 20, VOCAB = 400, PLANT_FROM = 10, PLANT_AT = 2500 };
    unsigned long seed = getenv("SEED") ? strtoul(getenv("SEED"), NULL, 10) : 7;
    printf("  (test_long_chapter: SEED=%lu)\n", seed);
    rp_rng rng = {seed};
    rp_strbuf b;
    rp_strbuf_init(&b);
    char planted[1024] = "";
    for (int p = 0; p < N_PARA; p++) {
        if (p == PLANT_AT) {
            rp_strbuf_printf(&b, "%s\n\n", planted);
            continue;
        }
        rp_strbuf par;
        rp_strbuf_init(&par);
        rp_strbuf_puts(&par, "They walked out of the house");
        for (int w = 0; w < N_WORDS; w++)
            rp_strbuf_printf(&par, " w%u", (unsigned)(rp_rng_next(&rng) % VOCAB));
        rp_strbuf_puts(&par, ".");
        if (p == PLANT_FROM)
            snprintf(planted, sizeof planted, "%s", par.s);
        rp_strbuf_printf(&b, "%s\n\n", par.s);
        rp_strbuf_deinit(&par);
    }
    CHECK(parse(b.s));
    CHECK_INT(check(b.s, NULL), RP_OK);
    CHECK_INT(R.n_repeats, 1);
    if (R.n_repeats == 1) {
        CHECK_INT(R.repeats[0].line, 2 * PLANT_AT + 1);
        CHECK_INT(R.repeats[0].first_line, 2 * PLANT_FROM + 1);
        CHECK_NEAR(R.repeats[0].share, 1.0, 0);
    }
    CHECK_INT(R.n_names, 0);  // "They" starts every sentence
    rp_strbuf_deinit(&b);
    done();
}

int main(void)
{
    rp_cast_init(&C);
    RUN(test_weak_quotes);
    RUN(test_excerpt);
    RUN(test_names);
    RUN(test_near_repeats);
    RUN(test_long_chapter);
    rp_cast_deinit(&C);
    return TEST_SUMMARY("test_check");
}
