// SPDX-License-Identifier: GPL-3.0-or-later
// Fuzz target: the chapter parser, the attribution that follows it, and
// `annotate` over the result. Besides crashes, leaks and undefined
// behaviour it checks what rp_script.h and rp_annotate.h promise: a status
// that matches the errors, located runs with folded text, a speaker for
// every quote, and annotate output that parses as cleanly as its source and
// that reads back to the same blocks, runs and speakers, and that a
// second annotate leaves unchanged.
#include <string.h>

#include "fuzz.h"
#include "rp_annotate.h"
#include "rp_script.h"

static void check_script(const rp_script *s, int attributed)
{
    for (size_t i = 0; i < s->n_blocks; i++) {
        const rp_block *b = &s->blocks[i];
        FUZZ_ASSERT(b->line >= 1 && b->col >= 1);
        for (size_t k = 0; k < b->n_runs; k++) {
            const rp_run *r = &b->runs[k];
            FUZZ_ASSERT(r->line >= 1 && r->col >= 1);
            if (r->kind == RP_RUN_DIRECTIVE) {
                FUZZ_ASSERT(!r->text);
                continue;
            }
            size_t n = strlen(r->text);
            FUZZ_ASSERT(n > 0 && r->text[0] != ' ' && r->text[n - 1] != ' ');
            FUZZ_ASSERT(!strstr(r->text, "  "));
            if (attributed && r->kind == RP_RUN_QUOTE)
                FUZZ_ASSERT(r->speaker && r->speaker[0]);
        }
    }
}

// What a render hears of the script: blocks by kind and line, runs by kind,
// speaker and text (directives by their name), without columns.
static void sign(const rp_script *s, rp_strbuf *sig)
{
    for (size_t i = 0; i < s->n_blocks; i++) {
        const rp_block *b = &s->blocks[i];
        rp_strbuf_printf(sig, "%d@%d\n", (int)b->kind, b->line);
        for (size_t k = 0; k < b->n_runs; k++) {
            const rp_run *r = &b->runs[k];
            rp_strbuf_printf(sig, " %d %s %s %d\n", (int)r->kind, r->speaker ? r->speaker : "-",
                             r->text       ? r->text
                             : r->dir.name ? r->dir.name
                                           : "-",
                             r->fx);
        }
    }
}

// Parses and attributes text, and annotates it into out and signs it into
// sig when both went well.
static rp_status load(const char *text, size_t len, rp_strbuf *out, rp_strbuf *sig)
{
    rp_diags d;
    rp_diags_init(&d);
    rp_script s;
    rp_status st = rp_parse("fuzz.txt", text, len, &s, &d);
    FUZZ_ASSERT(st == RP_OK || st == RP_ERR_INPUT);
    FUZZ_ASSERT((st == RP_ERR_INPUT) == (d.n_errors > 0));
    check_script(&s, 0);
    // Attribution fails only on more than RP_MAX_SPEAKERS speakers.
    rp_status at = rp_attribute(&s, &d);
    FUZZ_ASSERT(at == RP_OK || (at == RP_ERR_INPUT && s.n_chars == 0 && d.n_errors > 0));
    check_script(&s, at == RP_OK);
    if (!st)
        st = at;
    if (!st) {
        FUZZ_ASSERT(rp_annotate(text, len, &s, out, &d) == RP_OK);
        sign(&s, sig);
    }
    fuzz_check_diags(&d, "fuzz.txt");
    rp_script_deinit(&s);
    rp_diags_deinit(&d);
    return st;
}

static int same(const rp_strbuf *a, const rp_strbuf *b)
{
    return a->len == b->len && (!a->len || !memcmp(a->s, b->s, a->len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rp_strbuf once, twice, sig_once, sig_twice;
    rp_strbuf_init(&once);
    rp_strbuf_init(&twice);
    rp_strbuf_init(&sig_once);
    rp_strbuf_init(&sig_twice);
    rp_status st = load((const char *)data, size, &once, &sig_once);
    if (st == RP_OK) {
        // Tags go before quotes and cues before words, never into a directive
        // or a word: the annotated chapter is as clean as its source and
        // reads the same, and its quotes all carry tags now, so annotating
        // it again adds nothing.
        FUZZ_ASSERT(load(once.s, once.len, &twice, &sig_twice) == RP_OK);
        FUZZ_ASSERT(same(&sig_twice, &sig_once));
        FUZZ_ASSERT(same(&twice, &once));
    }
    rp_strbuf_deinit(&once);
    rp_strbuf_deinit(&twice);
    rp_strbuf_deinit(&sig_once);
    rp_strbuf_deinit(&sig_twice);
    return 0;
}
