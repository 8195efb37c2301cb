// SPDX-License-Identifier: GPL-3.0-or-later
// `radioplay check`: a lint of a parsed, attributed chapter for what a
// listener would trip over: quotes whose speaker is a weak guess, the proper
// nouns worth auditioning with `radioplay say` (and whether the cast sheet's
// [say] already respells them), and paragraphs that nearly repeat an earlier
// one (draft revisions left in the text); and [voice] sections of the cast
// sheet that name no speaker. Pure: it reads memory and returns findings;
// main.c prints them.
#ifndef RP_CHECK_H
#define RP_CHECK_H

#include "rp_cast.h"
#include "rp_script.h"

typedef struct {
    double min_confidence;  // untagged quotes attributed less surely are listed
    double repeat_share;    // a paragraph with this share of words heard twice repeats
    size_t min_repeat_words;  // shorter paragraphs only count when repeated word for word,
    size_t min_exact_words;   // and have at least this many words
} rp_check_config;

rp_check_config rp_check_config_default(void);

// A capitalized word of the chapter that looks like a name.
typedef struct {
    char *word;        // as written, ' for U+2019, without a possessive 's
    size_t count;      // capitalized occurrences
    int line, col;     // the first one
    const rp_respelling *say;  // the [say] entry that respells it, or NULL (borrowed)
} rp_check_name;

// A paragraph whose words were mostly heard before.
typedef struct {
    int line, col;              // this paragraph
    int first_line, first_col;  // the earlier one it repeats
    double share;               // of the words of one of them, heard in the other
    int of_first;               // 1: share is of the earlier paragraph's words,
                                //    which this one contains and adds to
} rp_check_repeat;

typedef struct {
    const rp_run **quotes;  // low-confidence quotes, in chapter order (borrowed)
    size_t n_quotes;
    rp_check_name *names;   // most frequent first, then alphabetical
    size_t n_names;
    rp_check_repeat *repeats;  // in chapter order; exact repeats have share 1
    size_t n_repeats;
} rp_check_report;

// Checks the script s parsed from text[0..len) (the names need the text's
// exact positions; the rest comes from the script). c gives the [say]
// entries. Caller deinits *out whatever the result.
rp_status rp_check_chapter(const rp_script *s, const char *text, size_t len, const rp_cast *c,
                           const rp_check_config *cfg, rp_check_report *out);
void rp_check_report_deinit(rp_check_report *r);

// Warns, at its section, of every [voice NAME] of the cast sheet c that no
// speaker of s answers to (names compare in any case), with the nearest
// speaker's name as a hint.
rp_status rp_check_cast(const rp_cast *c, const rp_script *s, rp_diags *d);

// What decided a quote's speaker: "tag" or "screenplay" for explicit ones,
// else the attribution rule's name ("none" if there is none).
const char *rp_check_rule(const rp_run *r);

// The first max_cps code points of text, cut at a space when one is near the
// end, with "…" when anything was cut.
void rp_check_excerpt(const char *text, size_t max_cps, rp_strbuf *out);

#endif
