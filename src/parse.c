// SPDX-License-Identifier: GPL-3.0-or-later
// rp_parse: chapter bytes to a script of blocks (headings, paragraphs, scene
// breaks) made of runs (narration, quotes, directives), each located by line
// and code-point column. The input is memory plus a name, never a path, so a
// fuzzer can drive it. Two passes over the lines: the first decides per file
// whether paragraphs are one line each or hard-wrapped between blank lines
// (hard-wrapped when blank lines exist and at least one in five paragraphs,
// or any paragraph of short lines, spans several lines), and which marks are
// dialogue: double quotes; single quotes when they clearly outnumber double
// ones; or, in a file with no marks at all, a dash opening a paragraph
// after any tags and cues (Joyce's "—Come up, Kinch!"); the second pass
// builds the blocks. Errors never stop the parse: every problem becomes a
// located diagnostic and the parser carries on, so one run reports them
// all. Work is linear in the input: directive bodies are bounded and
// per-paragraph state is counted, not rescanned.
//
// A speaker tag inside a quote, before more of its words, names the speaker
// of the rest of it ("Hold {pause 1} {Tom}on."): `annotate` tags each piece
// of a quote that a cue splits, and each resumed piece of dash speech. A
// screenplay line has its speaker; a tag in it is an error.
//
// Comments ({# ...}) are dropped entirely; a line holding only comments adds
// no block. Directives on a '#' heading line follow the title run in the
// heading block. A punctuation-only scrap of narration that a directive split
// off ("street {sfx x}.") is appended to the narration run before it, so the
// sentence still ends on its punctuation.
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_cast.h"
#include "rp_config.h"
#include "rp_script.h"

const char *const rp_directive_names[] = {"sfx", "bed", "stop", "pause", "room"};
const size_t rp_n_directive_names = sizeof rp_directive_names / sizeof rp_directive_names[0];

#define MAX_DIRECTIVE_CHARS 200   // an unclosed '{' is reported after this many
#define MAX_UTF8_REPORTS 20       // invalid UTF-8 errors reported per file
#define TITLE_MAX_WORDS 10
#define TITLE_MAX_CHARS 80

// One decoded code point with its source position.
typedef struct {
    uint32_t cp;
    int line, col;
} pchar;

typedef struct {
    pchar *v;
    size_t n, cap;
} pvec;

typedef struct {
    rp_run *v;
    size_t n, cap;
} runvec;

typedef enum { L_BLANK, L_TEXT, L_STARTER, L_DIRECTIVES, L_HEADING, L_BREAK } line_kind;

typedef struct {
    const char *name;
    rp_diags *d;
    rp_script *out;
    int nomem;
    int single_quotes;   // ‘…’ and '…' are the dialogue marks of this file
    int dash_quotes;     // no marks: a paragraph opening with a dash is speech
    int annotated;       // the file contains a '{'
    int joined;          // hard-wrapped: consecutive lines form one paragraph
    int last_text_line;  // last non-blank line, for the bare-title rule
    int n_bad_utf8;
    int saw_nul;
    size_t n_cues;       // directives that became runs, at most RP_MAX_CUES
    pchar unclosed;      // the mark of a quote a paragraph left open (line 0: none)
    pvec line;           // the current line, decoded
    pvec para;           // the paragraph being collected
    int para_lines;
    line_kind para_kind; // kind of the paragraph's first line
    size_t cap_blocks;
    size_t n_errors;     // errors added by this parse (d may be NULL)
} parser;

// ---- character classes ------------------------------------------------------

static int is_space(uint32_t c)
{
    return c == ' ' || c == '\t' || c == 0xA0 || (c >= 0x2000 && c <= 0x200B) || c == 0x202F ||
           c == 0x205F || c == 0x3000 || c == 0xFEFF || c < 0x20 || c == 0x7F;
}

static int is_upper(uint32_t c)
{
    if (c < 0x80)
        return c >= 'A' && c <= 'Z';
    if (c >= 0xC0 && c <= 0xDE)
        return c != 0xD7;
    if (c >= 0x100 && c <= 0x17F)
        return (c & 1) == 0;
    return c >= 0x391 && c <= 0x3A9;
}

static int is_lower(uint32_t c)
{
    if (c < 0x80)
        return c >= 'a' && c <= 'z';
    if (c >= 0xDF && c <= 0xFF)
        return c != 0xF7;
    if (c >= 0x100 && c <= 0x17F)
        return (c & 1) == 1;
    return c >= 0x3B1 && c <= 0x3C9;
}

static int is_digit(uint32_t c) { return c >= '0' && c <= '9'; }

// Letters of every script, approximately: anything above Latin-1 that is not
// in a punctuation, symbol or space block counts.
static int is_letter(uint32_t c)
{
    if (is_upper(c) || is_lower(c))
        return 1;
    if (c < 0x180)
        return c == 0xAA || c == 0xB5 || c == 0xBA;
    if (c >= 0x2000 && c <= 0x2BFF)
        return 0;
    if (c >= 0x3000 && c <= 0x303F)
        return 0;
    if (c >= 0xFE30 && c <= 0xFE4F)
        return 0;
    if (c >= 0xFF00 && c <= 0xFF20)
        return 0;
    return c != 0xFFFD;
}

static int is_alnum(uint32_t c) { return is_letter(c) || is_digit(c); }

static int is_double_mark(uint32_t c) { return c == '"' || c == 0x201C || c == 0x201D; }
static int is_single_mark(uint32_t c) { return c == '\'' || c == 0x2018 || c == 0x2019; }

// Characters after which a quote mark starts a word.
static int is_opening_context(uint32_t c)
{
    return is_space(c) || c == '(' || c == '[' || c == '{' || c == '}' || c == '<' ||
           c == 0x2014 || c == 0x2013 || c == '-' || c == '/' || c == ':' || c == ';' ||
           c == ',' || is_double_mark(c) || c == 0x2018;
}

// Sentence punctuation that may stand before a closing mark or after it.
static int is_punct(uint32_t c)
{
    return c == '.' || c == ',' || c == '!' || c == '?' || c == ';' || c == ':' || c == 0x2026 ||
           c == 0x2014 || c == 0x2013 || c == '-' || c == ')' || c == ']' || c == '_' ||
           c == '*' || is_double_mark(c) || is_single_mark(c);
}

static void put_cp(rp_strbuf *b, uint32_t c)
{
    char u[4];
    size_t n;
    if (c < 0x80) {
        u[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        u[0] = (char)(0xC0 | (c >> 6));
        u[1] = (char)(0x80 | (c & 0x3F));
        n = 2;
    } else if (c < 0x10000) {
        u[0] = (char)(0xE0 | (c >> 12));
        u[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        u[2] = (char)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (c >> 18));
        u[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        u[3] = (char)(0x80 | (c & 0x3F));
        n = 4;
    }
    rp_strbuf_append(b, u, n);
}

// ---- small containers ---------------------------------------------------------

static int pvec_push(parser *p, pvec *v, pchar c)
{
    if (rp_grow((void **)&v->v, &v->cap, v->n + 1, sizeof *v->v) != RP_OK) {
        p->nomem = 1;
        return 0;
    }
    v->v[v->n++] = c;
    return 1;
}

static void run_free(rp_run *r)
{
    free(r->text);
    free(r->speaker);
    free(r->dir.name);
    for (size_t i = 0; i < r->dir.n_params; i++) {
        free(r->dir.params[i].key);
        free(r->dir.params[i].value);
    }
    free(r->dir.params);
    memset(r, 0, sizeof *r);
}

static void runvec_free(runvec *rv)
{
    for (size_t i = 0; i < rv->n; i++)
        run_free(&rv->v[i]);
    free(rv->v);
    memset(rv, 0, sizeof *rv);
}

// Moves *r into the vector; on failure frees it.
static int runvec_push(parser *p, runvec *rv, rp_run *r)
{
    if (rp_grow((void **)&rv->v, &rv->cap, rv->n + 1, sizeof *rv->v) != RP_OK) {
        p->nomem = 1;
        run_free(r);
        return 0;
    }
    rv->v[rv->n++] = *r;
    memset(r, 0, sizeof *r);
    return 1;
}

// Folded UTF-8 copy of v[0..n): whitespace runs become one space, trimmed.
static char *pchars_str(parser *p, const pchar *v, size_t n)
{
    rp_strbuf b;
    rp_strbuf_init(&b);
    int space = 0;
    for (size_t i = 0; i < n; i++) {
        if (is_space(v[i].cp)) {
            space = 1;
            continue;
        }
        if (space && b.len)
            rp_strbuf_append(&b, " ", 1);
        space = 0;
        put_cp(&b, v[i].cp);
    }
    if (!b.s && !b.failed)
        rp_strbuf_append(&b, "", 0);
    if (b.failed || !b.s) {
        p->nomem = 1;
        rp_strbuf_deinit(&b);
        return NULL;
    }
    return rp_strbuf_take(&b);
}


// ---- diagnostics --------------------------------------------------------------

static void report(parser *p, rp_severity sev, int line, int col, const char *hint,
                   const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

static void report(parser *p, rp_severity sev, int line, int col, const char *hint,
                   const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (sev == RP_DIAG_ERROR)
        p->n_errors++;
    rp_diag_add(p->d, sev, p->name, line, col, "parse", hint, "%s", msg);
}

// ---- blocks ---------------------------------------------------------------------

// Moves the runs of rv into a new block; frees them on failure.
static void add_block(parser *p, rp_block_kind kind, int line, int col, runvec *rv)
{
    rp_script *s = p->out;
    if (p->nomem ||
        rp_grow((void **)&s->blocks, &p->cap_blocks, s->n_blocks + 1, sizeof *s->blocks) != RP_OK) {
        p->nomem = 1;
        runvec_free(rv);
        return;
    }
    rp_block *b = &s->blocks[s->n_blocks++];
    memset(b, 0, sizeof *b);
    b->kind = kind;
    b->line = line;
    b->col = col;
    b->runs = rv->v;
    b->n_runs = rv->n;
    for (size_t i = 0; i < b->n_runs; i++)
        b->runs[i].origin_run = i;
    memset(rv, 0, sizeof *rv);
}

void rp_script_deinit(rp_script *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_blocks; i++) {
        for (size_t j = 0; j < s->blocks[i].n_runs; j++)
            run_free(&s->blocks[i].runs[j]);
        free(s->blocks[i].runs);
    }
    free(s->blocks);
    for (size_t i = 0; i < s->n_chars; i++)
        free(s->chars[i].name);
    free(s->chars);
    free(s->name);
    memset(s, 0, sizeof *s);
}

// ---- lines ----------------------------------------------------------------------

// Decodes one line into p->line. Unless quiet, reports an over-long line, NUL
// bytes (once per file) and invalid UTF-8 (which decodes as U+FFFD).
static void decode_line(parser *p, const char *s, size_t n, int lineno, int quiet)
{
    p->line.n = 0;
    if (n > RP_MAX_LINE_BYTES) {
        if (!quiet)
            report(p, RP_DIAG_ERROR, lineno, 1, "break the paragraph into shorter lines",
                   "line is longer than %u bytes; the rest of it is ignored",
                   (unsigned)RP_MAX_LINE_BYTES);
        n = RP_MAX_LINE_BYTES;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    int col = 1;
    for (size_t i = 0; i < n; col++) {
        int len;
        uint32_t c = rp_utf8_decode(s + i, n - i, &len);
        if (c == 0xFFFD && len == 1 && !quiet) {
            if (++p->n_bad_utf8 <= MAX_UTF8_REPORTS)
                report(p, RP_DIAG_ERROR, lineno, col, "save the chapter as UTF-8 text",
                       "invalid UTF-8 byte 0x%02X", (unsigned)(unsigned char)s[i]);
        } else if (c == 0) {
            if (!quiet && !p->saw_nul) {
                p->saw_nul = 1;
                report(p, RP_DIAG_ERROR, lineno, col, "a chapter is UTF-8 text",
                       "binary data (NUL byte)");
            }
            c = ' ';
        }
        if (!pvec_push(p, &p->line, (pchar){c, lineno, col}))
            return;
        i += (size_t)len;
    }
}

static size_t skip_spaces(const pchar *v, size_t n, size_t i)
{
    while (i < n && is_space(v[i].cp))
        i++;
    return i;
}

// The '}' closing the directive whose '{' is at v[i], as the builder reads
// it (a quoted value may hold braces; at most MAX_DIRECTIVE_CHARS), or 0
// when there is none: the '{' is then an error, and text.
static size_t directive_end(const pchar *v, size_t n, size_t i)
{
    int inq = 0;
    for (size_t j = i + 1; j < n && j - i <= MAX_DIRECTIVE_CHARS; j++) {
        uint32_t c = v[j].cp;
        if (c == '"')
            inq = !inq;
        else if (!inq && c == '{')
            return 0;
        else if (!inq && c == '}')
            return j;
    }
    return 0;
}

// The '}' closing a comment ({# ...}) whose '{' is at v[i], or 0.
static size_t comment_end(const pchar *v, size_t n, size_t i)
{
    size_t j = v[i].cp == '{' ? directive_end(v, n, i) : 0;
    size_t f = skip_spaces(v, n, i + 1);
    return j && f < j && v[f].cp == '#' ? j : 0;
}

// The first character at or after i that is neither whitespace nor part of
// a directive: where the text after a line's tags and cues starts.
static size_t skip_directives(const pchar *v, size_t n, size_t i)
{
    size_t j;
    for (;;) {
        i = skip_spaces(v, n, i);
        if (i >= n || v[i].cp != '{' || !(j = directive_end(v, n, i)))
            return i;
        i = j + 1;
    }
}

// True when v[i..n) holds only whitespace and directives (at least one).
static int only_directives(const pchar *v, size_t n, size_t i)
{
    i = skip_spaces(v, n, i);
    return i < n && skip_directives(v, n, i) >= n;
}

// End of a scene-break marker starting at i (stars, tildes, section signs or
// an asterism, spaces between), or 0 when there is none.
static size_t break_marker(const pchar *v, size_t n, size_t i)
{
    size_t stars = 0, tildes = 0, other = 0, j = i;
    for (; j < n; j++) {
        uint32_t c = v[j].cp;
        if (c == '*')
            stars++;
        else if (c == '~')
            tildes++;
        else if (c == 0xA7 || c == 0x2042)
            other++;
        else if (!is_space(c))
            break;
    }
    int ok = (stars >= 3 && !tildes && !other) || (tildes >= 3 && !stars && !other) ||
             (other >= 1 && !stars && !tildes);
    return ok ? j : 0;
}

static line_kind classify(parser *p, const pvec *l, size_t *body);
static int screenplay_prefix(parser *p, const pchar *v, size_t n, size_t *text_at,
                             char **speaker, int *all_caps);

// Classifies a decoded line; *body is where a heading's title or the
// directives after a break marker start.
static line_kind classify(parser *p, const pvec *l, size_t *body)
{
    const pchar *v = l->v;
    size_t n = l->n, i = skip_spaces(v, n, 0);
    *body = i;
    if (i >= n)
        return L_BLANK;
    if (v[i].cp == '#') {
        size_t j = i;
        while (j < n && v[j].cp == '#')
            j++;
        size_t k = skip_spaces(v, n, j);
        *body = k;
        if (k >= n || only_directives(v, n, k))
            return L_BREAK;
        if (k > j)
            return L_HEADING;
        return L_TEXT;
    }
    size_t m = break_marker(v, n, i);
    if (m && (skip_spaces(v, n, m) >= n || only_directives(v, n, m))) {
        *body = m;
        return L_BREAK;
    }
    if (v[i].cp == '{' && only_directives(v, n, i))
        return L_DIRECTIVES;
    size_t at;
    int caps;
    if (screenplay_prefix(p, v, n, &at, NULL, &caps))
        return L_STARTER;
    return L_TEXT;
}

// ---- word tests -------------------------------------------------------------------

// Lower-case ASCII copy of the letters of the word starting at v[i], at most
// cap-1 of them; empty when the word holds other characters first.
static void word_lower(const pchar *v, size_t n, size_t i, char *out, size_t cap)
{
    size_t k = 0;
    for (; i < n && k + 1 < cap; i++) {
        uint32_t c = v[i].cp;
        if (c >= 'A' && c <= 'Z')
            c += 32;
        if (c < 'a' || c > 'z')
            break;
        out[k++] = (char)c;
    }
    out[k] = '\0';
}


// Words that begin with an apostrophe ('em, 'tis) rather than a quote.
static int is_elision(const pchar *v, size_t n, size_t i)
{
    static const char *const elisions[] = {"em", "tis", "twas", "twere", "twill", "twould",
                                           "tisn", "cause", "bout", "round", "til", "till",
                                           "neath", "n", "nuff", "im", "er", "ow", NULL};
    char w[16];
    word_lower(v, n, i, w, sizeof w);
    return w[0] && rp_in_list(w, elisions);
}

// Words after which an ambiguous letter-mark-space (the boys' toys) closes a
// quote ('Come here' said Alice) rather than marking a possessive. Tags and
// cues in between do not count: annotate writes them there.
static int is_tag_word(const pchar *v, size_t n, size_t i)
{
    static const char *const words[] = {"said", "says", "cried", "replied", "asked",
                                        "answered", "he", "she", "i", "they", "we",
                                        "thought", "returned", "continued", "exclaimed",
                                        "added", "whispered", "shouted", "and", NULL};
    i = skip_directives(v, n, i);
    if (i >= n)
        return 1;
    if (is_upper(v[i].cp) || is_punct(v[i].cp))
        return 1;
    char w[16];
    word_lower(v, n, i, w, sizeof w);
    return w[0] && rp_in_list(w, words);
}

// ---- quote marks ----------------------------------------------------------------

enum { Q_NONE, Q_OPEN, Q_CLOSE, Q_REOPEN };

static int at_word_start(const pchar *v, size_t i)
{
    return i == 0 || is_opening_context(v[i - 1].cp);
}

// A mark at v[i] that can open a quote: it starts a word and text follows.
static int opener_ok(const pchar *v, size_t n, size_t i)
{
    if (!at_word_start(v, i) || i + 1 >= n || is_space(v[i + 1].cp))
        return 0;
    if (v[i].cp != 0x2018 && (is_elision(v, n, i + 1) || is_digit(v[i + 1].cp)))
        return 0;
    return 1;
}

// A single mark at v[i] that can close a quote: it follows text and is not
// inside a word (don't, o'clock).
static int closer_ok(const pchar *v, size_t n, size_t i)
{
    if (i == 0 || is_space(v[i - 1].cp))
        return 0;
    if (i + 1 >= n)
        return 1;
    uint32_t next = v[i + 1].cp;
    if (is_alnum(next))
        return 0;
    if (is_space(next) && is_letter(v[i - 1].cp))
        return is_tag_word(v, n, i + 1);
    return 1;
}

static int mark_event(int single, int in_quote, const pchar *v, size_t n, size_t i)
{
    uint32_t c = v[i].cp;
    if (!single) {
        if (c == '"')
            return in_quote ? Q_CLOSE : Q_OPEN;
        if (c == 0x201C)
            return in_quote ? Q_REOPEN : Q_OPEN;
        if (c == 0x201D) {
            if (in_quote)
                return Q_CLOSE;
            return at_word_start(v, i) && i + 1 < n && !is_space(v[i + 1].cp) ? Q_OPEN : Q_NONE;
        }
        return Q_NONE;
    }
    if (c == 0x2018) {
        if (!opener_ok(v, n, i))
            return Q_NONE;
        return in_quote ? Q_REOPEN : Q_OPEN;
    }
    if (c == 0x2019 || c == '\'') {
        if (in_quote)
            return closer_ok(v, n, i) ? Q_CLOSE : Q_NONE;
        return c == '\'' && opener_ok(v, n, i) ? Q_OPEN : Q_NONE;
    }
    return Q_NONE;
}

// ---- run builder ------------------------------------------------------------------

typedef struct {
    parser *p;
    runvec runs;
    rp_strbuf text;
    int line, col;       // position of the run being collected
    int have_pos;
    int alnum;           // the text holds a letter or digit
    int space;           // a space is due before the next character
    int in_quote;
    int quotes_off;      // headings, breaks and screenplay text: marks are text
    char *qspeaker;      // speaker of the open quote (tag or screenplay)
    rp_spk_source qsource;
    int qfx;             // rp_run.fx of the open quote
    pchar qmark;         // the mark that opened it (line 0: a dash or a screenplay name)
    char *tag;           // a {Name} waiting for its quote
    int tag_fx;          // its effect= as rp_run.fx (0: none given)
    int tag_line, tag_col;
    int tag_at_start;    // nothing but directives came before the tag
    size_t tag_run;      // runs.n when the tag was read
    int seen_text;
    int glue;            // a directive was just pushed: punctuation goes back
    size_t n_quotes;     // quote runs pushed so far
    size_t last_text;    // 1 + index of the last non-directive run, 0 = none
} builder;

static void builder_init(builder *b, parser *p)
{
    memset(b, 0, sizeof *b);
    b->p = p;
    rp_strbuf_init(&b->text);
}

static void builder_deinit(builder *b)
{
    runvec_free(&b->runs);
    rp_strbuf_deinit(&b->text);
    free(b->qspeaker);
    free(b->tag);
    memset(b, 0, sizeof *b);
}

static void append_scrap(builder *b, const char *scrap);
static void adopt_tag(builder *b);

static void add_char(builder *b, pchar c)
{
    if (is_space(c.cp)) {
        b->glue = 0;
        if (b->text.len)
            b->space = 1;
        return;
    }
    // "street {sfx boom}. Then": the full stop still ends "street".
    if (b->glue && !b->in_quote && !b->text.len && is_punct(c.cp) && !is_double_mark(c.cp) &&
        !is_single_mark(c.cp)) {
        rp_strbuf one;
        rp_strbuf_init(&one);
        put_cp(&one, c.cp);
        if (one.s)
            append_scrap(b, one.s);
        rp_strbuf_deinit(&one);
        return;
    }
    b->glue = 0;
    if (b->tag && b->in_quote && b->qsource != RP_SPK_SCREENPLAY)
        adopt_tag(b);  // a screenplay line has its speaker: a tag there is an error
    if (!b->have_pos) {
        b->line = c.line;
        b->col = c.col;
        b->have_pos = 1;
    }
    if (b->space)
        rp_strbuf_append(&b->text, " ", 1);
    b->space = 0;
    put_cp(&b->text, c.cp);
    if (is_alnum(c.cp))
        b->alnum = 1;
    b->seen_text = 1;
}

static void reset_text(builder *b)
{
    rp_strbuf_deinit(&b->text);
    rp_strbuf_init(&b->text);
    b->have_pos = b->alnum = b->space = 0;
}

// A punctuation-only scrap of narration joins the narration run it was split
// from by a directive; elsewhere (between quotes) it is dropped.
static void append_scrap(builder *b, const char *scrap)
{
    size_t k = b->last_text;
    if (k == 0 || k == b->runs.n || b->runs.v[k - 1].kind != RP_RUN_NARRATION)
        return;
    rp_run *r = &b->runs.v[k - 1];
    if (strlen(r->text) > RP_MAX_UTTERANCE_BYTES)
        return;  // keeps "a {x}. {x}. {x}." linear
    rp_strbuf s;
    rp_strbuf_init(&s);
    rp_strbuf_puts(&s, r->text);
    if (!strchr(".,;:!?)]\xE2", scrap[0]))
        rp_strbuf_append(&s, " ", 1);
    rp_strbuf_puts(&s, scrap);
    if (s.failed) {
        b->p->nomem = 1;
        rp_strbuf_deinit(&s);
        return;
    }
    free(r->text);
    r->text = rp_strbuf_take(&s);
}

// Ends the run being collected (narration, or a piece of the open quote).
static void flush(builder *b)
{
    if (b->text.failed)
        b->p->nomem = 1;
    if (!b->text.len || b->text.failed) {
        reset_text(b);
        return;
    }
    if (!b->in_quote && !b->alnum) {
        append_scrap(b, b->text.s);
        reset_text(b);
        return;
    }
    rp_run r;
    memset(&r, 0, sizeof r);
    r.kind = b->in_quote ? RP_RUN_QUOTE : RP_RUN_NARRATION;
    r.line = b->line;
    r.col = b->col;
    r.text = rp_strbuf_take(&b->text);
    if (b->in_quote && b->qspeaker) {
        r.speaker = rp_strdup(b->qspeaker);
        if (!r.speaker)
            b->p->nomem = 1;
        r.spk_source = b->qsource;
        r.confidence = 1.0;
    }
    if (b->in_quote)
        r.fx = b->qfx;
    reset_text(b);
    if (!r.text) {
        b->p->nomem = 1;
        return;
    }
    b->n_quotes += r.kind == RP_RUN_QUOTE;
    if (runvec_push(b->p, &b->runs, &r))
        b->last_text = b->runs.n;
}

// The waiting tag names the speaker of the open quote from here on.
static void adopt_tag(builder *b)
{
    free(b->qspeaker);
    b->qspeaker = b->tag;
    b->qsource = RP_SPK_TAG;
    b->qfx = b->tag_fx;
    b->tag = NULL;
    b->tag_fx = 0;
}

static void open_quote(builder *b, pchar mark)
{
    flush(b);
    b->in_quote = 1;
    b->line = mark.line;
    b->col = mark.col;
    b->have_pos = 1;
    if (b->tag)
        adopt_tag(b);
}

static void close_quote(builder *b)
{
    flush(b);
    b->in_quote = 0;
    b->qmark.line = 0;
    free(b->qspeaker);
    b->qspeaker = NULL;
    b->qsource = RP_SPK_NONE;
    b->qfx = 0;
}

static void tag_error(builder *b)
{
    char hint[RP_MAX_NAME_BYTES + 64];
    snprintf(hint, sizeof hint, "write the tag right before the opening mark: {%s}\"...\"",
             b->tag);
    report(b->p, RP_DIAG_ERROR, b->tag_line, b->tag_col, hint,
           "speaker tag {%s} is not followed by a quote", b->tag);
    free(b->tag);
    b->tag = NULL;
    b->tag_fx = 0;
}

// Takes ownership of name; fx as rp_run.fx.
static void set_tag(builder *b, char *name, int fx, pchar at)
{
    flush(b);
    if (b->tag)
        tag_error(b);
    b->tag = name;
    b->tag_fx = fx;
    b->tag_line = at.line;
    b->tag_col = at.col;
    b->tag_at_start = !b->seen_text && !b->in_quote && !b->n_quotes;
    b->tag_run = b->runs.n;
}

// A tag opening a paragraph that has no quote marks makes the paragraph the
// tagged speaker's line: {Kirk} Shield harmonics at forty.
static int tag_whole_paragraph(builder *b)
{
    if (!b->tag_at_start || b->n_quotes)
        return 0;
    int any = 0;
    for (size_t i = b->tag_run; i < b->runs.n; i++) {
        rp_run *r = &b->runs.v[i];
        if (r->kind != RP_RUN_NARRATION)
            continue;
        r->kind = RP_RUN_QUOTE;
        r->speaker = rp_strdup(b->tag);
        if (!r->speaker)
            b->p->nomem = 1;
        r->spk_source = RP_SPK_TAG;
        r->confidence = 1.0;
        r->fx = b->tag_fx;
        any = 1;
    }
    return any;
}

static size_t count_words(const char *s)
{
    size_t n = 0;
    for (int in = 0; *s; s++) {
        int w = !isspace((unsigned char)*s);
        n += w && !in;
        in = w;
    }
    return n;
}

// The last word of narration text, lower-cased into w; 0 when the text does
// not end in a lower-case word ("built for", not "said:" or "Kade.").
static int ends_in_word(const char *s, char *w, size_t cap)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    size_t e = n;
    while (n && isalpha((unsigned char)s[n - 1]))
        n--;
    if (n == e || e - n >= cap || !islower((unsigned char)s[n]))
        return 0;
    memcpy(w, s + n, e - n);
    w[e - n] = 0;
    return 1;
}

// A short quote inside a sentence of narration is a word quoted, a name or a
// title, not speech: built for "style," not service / the "Coach and
// Horses" inn. The narrator reads it, marks and all.
// The text runs nearest run i, before and after it: a cue between changes
// nothing of how a quote reads.
static const rp_run *prev_text(const builder *b, size_t i)
{
    while (i-- > 0)
        if (b->runs.v[i].kind != RP_RUN_DIRECTIVE)
            return &b->runs.v[i];
    return NULL;
}

static const rp_run *next_text(const builder *b, size_t i)
{
    for (i++; i < b->runs.n; i++)
        if (b->runs.v[i].kind != RP_RUN_DIRECTIVE)
            return &b->runs.v[i];
    return NULL;
}

static int scare_quote(const builder *b, size_t i)
{
    const rp_run *q = &b->runs.v[i], *prev = prev_text(b, i), *next = next_text(b, i);
    char w[32];
    if (q->kind != RP_RUN_QUOTE || q->spk_source != RP_SPK_NONE || !prev ||
        prev->kind != RP_RUN_NARRATION || !ends_in_word(prev->text, w, sizeof w) ||
        rp_in_list(w, rp_speech_verbs) || count_words(q->text) > RP_SCARE_QUOTE_WORDS ||
        strpbrk(q->text, "!?"))  // "M'ama!" is sung, "H'm!" said
        return 0;
    int letter = 0;
    for (const char *t = q->text; *t && !letter; t++)
        letter = isalpha((unsigned char)*t);
    if (!letter)
        return 0;  // "..." is a silence kept
    if (!next)
        return q->text[strlen(q->text) - 1] != '.';  // and "Hi." a last word
    unsigned char c0 = (unsigned char)next->text[0];
    return next->kind == RP_RUN_NARRATION && (islower(c0) || strchr(",.;:)-", c0));
}

// Folds run i (a scare quote), marks and all, into the narration run before
// it and the narration run after it into that, each when no directive
// stands between (else run i becomes narration of its own).
static void demote_quote(builder *b, size_t i)
{
    int after = b->runs.v[i - 1].kind == RP_RUN_NARRATION;
    int join = i + 1 < b->runs.n && b->runs.v[i + 1].kind == RP_RUN_NARRATION;
    rp_run *into = &b->runs.v[after ? i - 1 : i], *q = &b->runs.v[i];
    rp_strbuf s;
    rp_strbuf_init(&s);
    if (after) {
        rp_strbuf_puts(&s, into->text);
        rp_strbuf_append(&s, " ", 1);
    }
    rp_strbuf_puts(&s, "\xE2\x80\x9C");
    rp_strbuf_puts(&s, q->text);
    rp_strbuf_puts(&s, "\xE2\x80\x9D");
    if (join) {
        const char *t = b->runs.v[i + 1].text;
        if (!strchr(",.;:)", t[0]))
            rp_strbuf_append(&s, " ", 1);
        rp_strbuf_puts(&s, t);
    }
    if (s.failed) {
        b->p->nomem = 1;
        rp_strbuf_deinit(&s);
        return;
    }
    free(into->text);
    into->text = rp_strbuf_take(&s);
    into->kind = RP_RUN_NARRATION;
    size_t from = after ? i : i + 1, drop = (size_t)after + (size_t)join;
    for (size_t k = from; k < from + drop; k++)
        run_free(&b->runs.v[k]);
    memmove(&b->runs.v[from], &b->runs.v[from + drop],
            (b->runs.n - from - drop) * sizeof *b->runs.v);
    b->runs.n -= drop;
    b->n_quotes--;
}

static void finish(builder *b)
{
    flush(b);
    if (b->in_quote && b->qmark.line)
        b->p->unclosed = b->qmark;  // a speech that runs on into the next paragraph?
    if (b->in_quote)
        close_quote(b);
    for (size_t i = 1; i < b->runs.n; i++)
        if (scare_quote(b, i))
            demote_quote(b, i--);
    if (b->tag) {
        if (tag_whole_paragraph(b)) {
            free(b->tag);
            b->tag = NULL;
            b->tag_fx = 0;
        } else {
            tag_error(b);
        }
    }
}

// ---- directives -----------------------------------------------------------------

typedef struct {
    size_t a, b;  // [a, b) in the directive body
} span;

#define MAX_TOKENS 128

// Splits a directive body at whitespace; "..." keeps its spaces. Returns the
// token count, or -1 (after reporting) on an unclosed '"'.
static int tokenize(parser *p, const pchar *v, size_t n, span *tok)
{
    int nt = 0;
    size_t i = 0;
    for (;;) {
        i = skip_spaces(v, n, i);
        if (i >= n || nt >= MAX_TOKENS)
            return nt;
        size_t a = i;
        while (i < n && !is_space(v[i].cp)) {
            if (v[i].cp == '"') {
                size_t q = i++;
                while (i < n && v[i].cp != '"')
                    i++;
                if (i >= n) {
                    report(p, RP_DIAG_ERROR, v[q].line, v[q].col,
                           "a quoted value ends with '\"'", "unclosed '\"' in directive");
                    return -1;
                }
            }
            i++;
        }
        tok[nt++] = (span){a, i};
    }
}

static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > RP_MAX_NAME_BYTES)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(s[i] > 0 && is_alnum((uint32_t)s[i])) && s[i] != '_')
            return 0;
    return 1;
}

// Parses key=value into the directive's next parameter. Returns 0 on error.
static int parse_param(parser *p, const pchar *v, span t, rp_directive *dir)
{
    size_t eq = t.a;
    while (eq < t.b && v[eq].cp != '=')
        eq++;
    char *tok = pchars_str(p, v + t.a, t.b - t.a);
    if (!tok)
        return 0;
    int line = v[t.a].line, col = v[t.a].col, ok = 0;
    char *key = NULL, *val = NULL;
    if (eq == t.b) {
        report(p, RP_DIAG_ERROR, line, col, "settings are written key=value, e.g. gain=-6",
               "expected key=value, got '%s'", tok);
        goto done;
    }
    key = pchars_str(p, v + t.a, eq - t.a);
    size_t va = eq + 1, vb = t.b;
    if (vb - va >= 2 && v[va].cp == '"' && v[vb - 1].cp == '"')
        va++, vb--;
    val = pchars_str(p, v + va, vb - va);
    if (!key || !val)
        goto done;
    if (!name_ok(key)) {
        report(p, RP_DIAG_ERROR, line, col, "setting names use letters, digits and '_'",
               "invalid setting name '%s'", key);
        goto done;
    }
    if (eq + 1 == t.b) {
        report(p, RP_DIAG_ERROR, line, col, "e.g. gain=-6", "missing value for '%s'", key);
        goto done;
    }
    for (size_t k = 0; k < dir->n_params; k++) {
        if (!strcmp(dir->params[k].key, key)) {
            report(p, RP_DIAG_ERROR, line, col, "give it once",
                   "%s given twice (first at column %d)", key, dir->params[k].col);
            goto done;
        }
    }
    if (dir->n_params >= RP_MAX_DIRECTIVE_PARAMS) {
        report(p, RP_DIAG_ERROR, line, col, NULL, "too many settings (at most %d)",
               RP_MAX_DIRECTIVE_PARAMS);
        goto done;
    }
    if (!dir->params) {
        dir->params = rp_calloc(RP_MAX_DIRECTIVE_PARAMS, sizeof *dir->params);
        if (!dir->params) {
            p->nomem = 1;
            goto done;
        }
    }
    dir->params[dir->n_params++] = (rp_param){key, val, line, col};
    key = val = NULL;
    ok = 1;
done:
    free(tok);
    free(key);
    free(val);
    return ok;
}

// {pause S}: S is a finite number of seconds in (0, RP_MAX_PAUSE_S].
static int parse_pause(parser *p, const pchar *v, const span *tok, int nt, rp_directive *dir)
{
    const pchar *kw = &v[tok[0].a];
    if (nt < 2) {
        report(p, RP_DIAG_ERROR, kw->line, kw->col, "e.g. {pause 1.5}",
               "{pause} needs a duration in seconds");
        return 0;
    }
    char *s = pchars_str(p, v + tok[1].a, tok[1].b - tok[1].a);
    if (!s)
        return 0;
    char *end = NULL;
    double sec = strtod(s, &end);
    int ok = end != s && *end == '\0' && isfinite(sec) && sec > 0 && sec <= RP_MAX_PAUSE_S &&
             strlen(s) < 32;
    if (!ok)
        report(p, RP_DIAG_ERROR, v[tok[1].a].line, v[tok[1].a].col, "e.g. {pause 1.5}",
               "pause '%s' is not a number of seconds in (0, %g]", s, RP_MAX_PAUSE_S);
    free(s);
    if (ok && nt > 2) {
        char *extra = pchars_str(p, v + tok[2].a, tok[2].b - tok[2].a);
        report(p, RP_DIAG_ERROR, v[tok[2].a].line, v[tok[2].a].col, "e.g. {pause 1.5}",
               "unexpected '%s' in {pause}", extra ? extra : "");
        free(extra);
        ok = 0;
    }
    dir->seconds = ok ? sec : 0;
    return ok;
}

// {sfx NAME k=v ...}, {bed ...}, {stop ...}, {room ...}.
static int parse_named(parser *p, const pchar *v, const span *tok, int nt, const char *kw,
                       rp_directive *dir)
{
    const pchar *at = &v[tok[0].a];
    char hint[64];
    snprintf(hint, sizeof hint, "e.g. {%s %s}", kw, strcmp(kw, "room") ? "rain" : "hall");
    if (nt < 2) {
        report(p, RP_DIAG_ERROR, at->line, at->col, hint, "{%s} needs a name", kw);
        return 0;
    }
    char *name = pchars_str(p, v + tok[1].a, tok[1].b - tok[1].a);
    if (!name)
        return 0;
    if (strchr(name, '=')) {
        report(p, RP_DIAG_ERROR, at->line, at->col, hint, "{%s} needs a name before '%s'", kw,
               name);
        free(name);
        return 0;
    }
    if (!name_ok(name)) {
        report(p, RP_DIAG_ERROR, v[tok[1].a].line, v[tok[1].a].col,
               "names use letters, digits and '_' (at most 64)", "invalid %s name '%s'", kw,
               name);
        free(name);
        return 0;
    }
    dir->name = name;
    int ok = 1;
    for (int i = 2; i < nt; i++)
        if (!parse_param(p, v, tok[i], dir))
            ok = 0;
    return ok;
}

// Speaker tags: {Name}, or {Name key=value ...} with settings for this one
// quote. The name is every word before the first key=value; the one setting
// is effect=FX, a voice effect (rp_voice_fx_names) that replaces the
// speaker's own for the quote: {Kirk effect=radio}"...", {Kirk effect=none}.
// There is no short form {Kirk radio}: names have several words ({Unit
// 774}, {Tom Whisper}), so a bare effect word could be part of the name.
static const char *const tag_keys[] = {"effect"};

// A speaker name is letters, digits and spaces, and the marks names use:
// "Dr. Who", "O'Brien", "Jean-Luc", "Unit_7". Others would not survive a
// cast sheet's [voice NAME] line (']' ends it, " ;" starts a comment).
static int name_char(uint32_t c)
{
    return is_alnum(c) || is_space(c) || c == '.' || c == '\'' || c == 0x2019 || c == '-' ||
           c == '_';
}

size_t rp_scrap_len(const char *text, size_t n)
{
    size_t i = 0;
    for (int len; i < n && !is_alnum(rp_utf8_decode(text + i, n - i, &len));)
        i += (size_t)len;
    return i < n ? i : n;
}

int rp_speaker_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > RP_MAX_NAME_BYTES)
        return 0;
    for (size_t i = 0; i < n;) {
        int len;
        uint32_t c = rp_utf8_decode(name + i, n - i, &len);
        if (!name_char(c) || (c == 0xFFFD && len == 1))
            return 0;
        i += (size_t)len;
    }
    return 1;
}

// The '=' of token t, or t.b when it has none.
static size_t find_eq(const pchar *v, span t)
{
    size_t eq = t.a;
    while (eq < t.b && v[eq].cp != '=')
        eq++;
    return eq;
}

static int key_is(parser *p, const pchar *v, span t, const char *want)
{
    char *key = pchars_str(p, v + t.a, find_eq(v, t) - t.a);
    int is = key && !strcmp(key, want);
    free(key);
    return is;
}

// Reads the settings tok[from..nt) of a speaker tag; *fx gets the effect as
// rp_run.fx (0 when none is given or it is bad). Every bad one is reported.
static void tag_settings(parser *p, const pchar *v, const span *tok, int from, int nt, int *fx)
{
    int seen = 0;
    for (int i = from; i < nt; i++) {
        span t = tok[i];
        size_t eq = find_eq(v, t);
        int line = v[t.a].line, col = v[t.a].col;
        if (eq == t.b) {
            char *w = pchars_str(p, v + t.a, t.b - t.a);
            report(p, RP_DIAG_ERROR, line, col, "the name comes first: {Kirk effect=radio}",
                   "expected key=value, got '%s'", w ? w : "");
            free(w);
            continue;
        }
        size_t va = eq + 1, vb = t.b;
        if (vb - va >= 2 && v[va].cp == '"' && v[vb - 1].cp == '"')
            va++, vb--;
        char *key = pchars_str(p, v + t.a, eq - t.a);
        char *val = pchars_str(p, v + va, vb - va);
        if (key && val && strcmp(key, "effect") != 0) {
            const char *sugg = rp_suggest(key, tag_keys, 1);
            report(p, RP_DIAG_ERROR, line, col,
                   sugg ? "did you mean 'effect'?" : "a speaker tag takes effect=NAME",
                   "unknown setting '%s' in speaker tag", key);
        } else if (key && val && !val[0]) {
            report(p, RP_DIAG_ERROR, line, col, "e.g. effect=radio", "missing value for '%s'", key);
        } else if (key && val && seen) {
            report(p, RP_DIAG_ERROR, line, col, "give it once",
                   "effect given twice in speaker tag");
        } else if (key && val) {
            seen = 1;
            int k = 0;
            while (k < RP_VFX_COUNT && rp_strcasecmp(val, rp_voice_fx_names[k]))
                k++;
            if (k < RP_VFX_COUNT) {
                *fx = 1 + k;
            } else {
                char hint[128] = "one of";
                for (int j = 0; j < RP_VFX_COUNT; j++)
                    snprintf(hint + strlen(hint), sizeof hint - strlen(hint), "%s %s", j ? "," : "",
                             rp_voice_fx_names[j]);
                const char *sugg = rp_suggest(val, rp_voice_fx_names, RP_VFX_COUNT);
                if (sugg)
                    snprintf(hint, sizeof hint, "did you mean '%s'?", sugg);
                report(p, RP_DIAG_ERROR, v[eq + 1].line, v[eq + 1].col, hint,
                       "unknown voice effect '%s'", val);
            }
        }
        free(key);
        free(val);
    }
}

// A directive body that is not a keyword: a speaker tag, or a misspelt
// keyword. Returns the tag name (caller owns) or NULL; *fx gets the tag's
// effect as rp_run.fx. Settings make a speaker tag when the name is
// capitalized or one of them is effect=; otherwise ({frob x=1}) the body is
// taken for a misspelt directive.
static char *parse_other(parser *p, const pchar *v, const span *tok, int nt, const char *kw,
                         int *fx)
{
    *fx = 0;
    int first_kv = nt, effect = 0; // the first key=value token; an effect= among them
    for (int i = 0; i < nt; i++) {
        if (find_eq(v, tok[i]) == tok[i].b)
            continue;
        if (first_kv == nt)
            first_kv = i;
        effect |= key_is(p, v, tok[i], "effect");
    }
    const pchar *at = &v[tok[0].a];
    const char *sugg = NULL;
    if (at->cp >= 'a' && at->cp <= 'z')
        sugg = rp_suggest(kw, rp_directive_names, rp_n_directive_names);
    if (first_kv == 0 && effect && !sugg) {
        report(p, RP_DIAG_ERROR, at->line, at->col, "e.g. {Kirk effect=radio}\"...\"",
               "speaker tag needs a name before '%s'", kw);
        return NULL;
    }
    int settings = first_kv < nt && first_kv > 0 && (effect || (at->cp >= 'A' && at->cp <= 'Z'));
    if ((first_kv < nt && !settings) || sugg) {
        char hint[80];
        if (sugg)
            snprintf(hint, sizeof hint, "did you mean '%s'?", sugg);
        else
            snprintf(hint, sizeof hint,
                     "directives are sfx, bed, stop, pause, room and {# comments}");
        report(p, RP_DIAG_ERROR, at->line, at->col, hint, "unknown directive '%s'", kw);
        return NULL;
    }
    size_t end = tok[first_kv - 1].b;
    for (size_t k = tok[0].a; k < end; k++) {
        if (!name_char(v[k].cp)) {
            rp_strbuf c;
            rp_strbuf_init(&c);
            put_cp(&c, v[k].cp);
            report(p, RP_DIAG_ERROR, v[k].line, v[k].col,
                   "names are letters, digits, spaces and . ' - _",
                   "'%s' in a speaker name", c.s ? c.s : "?");
            rp_strbuf_deinit(&c);
            return NULL;
        }
    }
    char *name = pchars_str(p, v + tok[0].a, end - tok[0].a);
    if (name && strlen(name) > RP_MAX_NAME_BYTES) {
        report(p, RP_DIAG_ERROR, at->line, at->col, NULL, "speaker name is longer than %d bytes",
               RP_MAX_NAME_BYTES);
        free(name);
        return NULL;
    }
    if (name)
        tag_settings(p, v, tok, first_kv, nt, fx);
    return name;
}

// Parses the body v[0..n) of a directive whose '{' is at open.
static void parse_directive(builder *b, const pchar *v, size_t n, pchar open)
{
    parser *p = b->p;
    size_t f = skip_spaces(v, n, 0);
    if (f >= n) {
        report(p, RP_DIAG_ERROR, open.line, open.col,
               "write {sfx NAME}, {bed NAME}, {stop NAME}, {pause S}, {room NAME}, {# comment} "
               "or {Speaker}",
               "empty directive '{}'");
        return;
    }
    if (v[f].cp == '#')
        return;  // comment: dropped
    span tok[MAX_TOKENS];
    int nt = tokenize(p, v, n, tok);
    if (nt <= 0)
        return;
    char *kw = pchars_str(p, v + tok[0].a, tok[0].b - tok[0].a);
    if (!kw)
        return;
    rp_run r;
    memset(&r, 0, sizeof r);
    r.kind = RP_RUN_DIRECTIVE;
    r.line = open.line;
    r.col = open.col;
    int ok = 0;
    if (strcmp(kw, "sfx") == 0 || strcmp(kw, "bed") == 0 || strcmp(kw, "stop") == 0 ||
        strcmp(kw, "room") == 0) {
        r.dir.kind = kw[0] == 'r'   ? RP_DIR_ROOM
                     : kw[0] == 'b' ? RP_DIR_BED
                     : kw[1] == 'f' ? RP_DIR_SFX
                                    : RP_DIR_STOP;
        ok = parse_named(p, v, tok, nt, kw, &r.dir);
    } else if (strcmp(kw, "pause") == 0) {
        r.dir.kind = RP_DIR_PAUSE;
        ok = parse_pause(p, v, tok, nt, &r.dir);
    } else {
        int fx = 0;
        char *name = parse_other(p, v, tok, nt, kw, &fx);
        if (name)
            set_tag(b, name, fx, open);
    }
    free(kw);
    if (ok && p->n_cues++ == RP_MAX_CUES)
        report(p, RP_DIAG_ERROR, open.line, open.col, "split the chapter in two",
               "more than %d cues in the chapter", RP_MAX_CUES);
    if (ok && p->n_cues <= RP_MAX_CUES) {
        flush(b);
        runvec_push(p, &b->runs, &r);
        b->glue = 1;
    } else {
        run_free(&r);
    }
}

// Handles the '{' at v[i]; returns the index after the directive.
static size_t directive(builder *b, const pchar *v, size_t n, size_t i)
{
    size_t j = directive_end(v, n, i);
    if (!j) {
        report(b->p, RP_DIAG_ERROR, v[i].line, v[i].col, "directives end with '}'",
               "unclosed '{'");
        return i + 1;
    }
    parse_directive(b, v + i + 1, j - i - 1, v[i]);
    return j + 1;
}

// Feeds v[0..n) to the builder: directives, quote marks and text.
static void build_runs(builder *b, const pchar *v, size_t n)
{
    int single = b->p->single_quotes;
    for (size_t i = 0; i < n && !b->p->nomem;) {
        uint32_t c = v[i].cp;
        if (c == '{') {
            i = directive(b, v, n, i);
            continue;
        }
        if (c == '}') {
            report(b->p, RP_DIAG_ERROR, v[i].line, v[i].col,
                   "directives are written {like this}; remove the '}'", "stray '}'");
            i++;
            continue;
        }
        int ev = Q_NONE;
        if (!b->quotes_off && (is_double_mark(c) || is_single_mark(c)))
            ev = mark_event(single, b->in_quote, v, n, i);
        if (ev == Q_CLOSE || ev == Q_REOPEN)
            close_quote(b);
        if (ev == Q_OPEN || ev == Q_REOPEN) {
            open_quote(b, v[i]);
            b->qmark = v[i];
        }
        if (ev == Q_NONE)
            add_char(b, v[i]);
        i++;
    }
}

// ---- dash dialogue ----------------------------------------------------------------

// Length of a dialogue dash at v[i] ("—", "―" or "--" then text), or 0.
static size_t dash_len(const pchar *v, size_t n, size_t i)
{
    size_t k = i;
    if (k < n && (v[k].cp == 0x2014 || v[k].cp == 0x2015))
        k++;
    else if (k + 1 < n && v[k].cp == '-' && v[k + 1].cp == '-')
        k += 2;
    else
        return 0;
    if (k >= n || v[k].cp == '-' || v[k].cp == 0x2014)
        return 0;
    return k - i;
}

// A speech tag inside dash dialogue: after ", " or "! " or "? " comes a
// pronoun or one to three capitalized words, then a speech verb; the tag runs
// to the next '.', ',' or ':'. Returns the tag's end (after its punctuation)
// or 0 when v[i] does not start one.
static size_t dash_tag_end(const pchar *v, size_t n, size_t i)
{
    static const char *const verbs[] = {"said", "says", "cried", "asked", "asks", "answered",
                                        "replied", "called", "shouted", "whispered",
                                        "murmured", "began", "added", "sighed", "cries",
                                        "laughed", "repeated", "continued", NULL};
    static const char *const pronouns[] = {"he", "she", "i", "they", "we", NULL};
    char w[16];
    size_t k = i, words = 0;
    word_lower(v, n, k, w, sizeof w);
    if (rp_in_list(w, pronouns)) {
        while (k < n && is_letter(v[k].cp))
            k++;
        words = 1;
    } else {
        while (words < 3 && k < n && is_upper(v[k].cp)) {
            while (k < n && (is_letter(v[k].cp) || v[k].cp == '.'))
                k++;
            words++;
            if (k < n && v[k].cp == ' ' && k + 1 < n && is_upper(v[k + 1].cp))
                k++;
        }
    }
    if (!words || k >= n || v[k].cp != ' ')
        return 0;
    word_lower(v, n, k + 1, w, sizeof w);
    if (!rp_in_list(w, verbs))
        return 0;
    for (k++; k < n; k++)
        if (v[k].cp == '.' || v[k].cp == ',' || v[k].cp == ':')
            return k + 1;
    return n;
}

// A dash paragraph: speech from the dash on, with speech tags as narration
// ("—Thanks, old chap, he cried briskly. That will do nicely.").
static void build_dash(builder *b, const pchar *v, size_t n, size_t dash, size_t dl)
{
    open_quote(b, v[dash]);
    for (size_t i = dash + dl; i < n && !b->p->nomem;) {
        uint32_t c = v[i].cp;
        if (c == '{') {
            i = directive(b, v, n, i);
            continue;
        }
        size_t end = 0;
        if (b->in_quote && i >= 2 && v[i - 1].cp == ' ' &&
            (v[i - 2].cp == ',' || v[i - 2].cp == '!' || v[i - 2].cp == '?'))
            end = dash_tag_end(v, n, i);
        if (end) {
            close_quote(b);
            for (; i < end; i++)
                add_char(b, v[i]);
            flush(b);
            i = skip_spaces(v, n, i);
            if (i < n) {
                b->in_quote = 1;  // the speech goes on, positioned at its first word
                b->have_pos = 0;
            }
            continue;
        }
        add_char(b, v[i]);
        i++;
    }
}

// ---- paragraphs -----------------------------------------------------------------

// "NAME: text" at the start of v, NAME being one to three words, all in
// capitals (or, in an annotated file, capitalized), and no longer than a
// speaker name (RP_MAX_NAME_BYTES). Prose such as "He had one rule: never
// stop." never qualifies: the colon must end the first 1-3 words.
static int screenplay_prefix(parser *p, const pchar *v, size_t n, size_t *text_at,
                             char **speaker, int *all_caps)
{
    static const char *const not_names[] = {"chapter", "part", "book", "section", "note",
                                            "act", "scene", "volume", "vol", "ps", "nb",
                                            "the", "a", "an", NULL};
    size_t i = skip_spaces(v, n, 0), start = i, bytes = 0;
    int words = 0, letters = 0, lower = 0;
    for (;;) {
        size_t w = i;
        if (i >= n || !(is_upper(v[i].cp) || (words > 0 && is_digit(v[i].cp))))
            return 0;
        for (; i < n && !is_space(v[i].cp) && v[i].cp != ':'; i++) {
            uint32_t c = v[i].cp;
            if (!is_alnum(c) && c != '.' && c != '\'' && c != 0x2019 && c != '-')
                return 0;
            letters += is_letter(c);
            lower += is_lower(c);
            bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
        }
        if (bytes + (size_t)words > RP_MAX_NAME_BYTES)
            return 0;  // longer than a speaker name: prose
        words++;
        if (words == 1) {
            char lw[16];
            word_lower(v, n, w, lw, sizeof lw);
            if (rp_in_list(lw, not_names))
                return 0;
        }
        if (i < n && v[i].cp == ':')
            break;
        if (i >= n || v[i].cp != ' ' || words == 3)
            return 0;
        i++;
    }
    size_t end = i++;
    if (i >= n || !is_space(v[i].cp) || letters < 2)
        return 0;
    size_t t = skip_spaces(v, n, i);
    if (t >= n)
        return 0;
    *all_caps = lower == 0;
    if (!*all_caps && !p->annotated)
        return 0;
    *text_at = t;
    if (!speaker)
        return 1;
    // Title Case for ALL CAPS names: KIRK -> Kirk, O'BRIEN -> O'Brien.
    rp_strbuf sb;
    rp_strbuf_init(&sb);
    int word_start = 1;
    for (size_t k = start; k < end; k++) {
        uint32_t c = v[k].cp;
        if (*all_caps && !word_start && is_upper(c))
            c = c < 0x100 ? c + 0x20 : c + 1;
        word_start = c == ' ' || c == '-' ||
                     ((c == '\'' || c == 0x2019) && k >= 2 && v[k - 2].cp == ' ') ||
                     ((c == '\'' || c == 0x2019) && k == start + 1);
        put_cp(&sb, c);
    }
    if (sb.failed || !sb.s) {
        p->nomem = 1;
        rp_strbuf_deinit(&sb);
        return 0;
    }
    *speaker = rp_strbuf_take(&sb);
    return 1;
}

static int is_small_word(const char *w)
{
    static const char *const small[] = {"a", "an", "the", "and", "or", "but", "nor", "of",
                                        "in", "on", "to", "from", "for", "at", "by", "with",
                                        "into", "upon", "as", "vs", "over", "under", "via",
                                        NULL};
    return rp_in_list(w, small);
}

// A short Title Case line without sentence punctuation: "Command from the
// Bridge of The Unfading". Prose lines end in punctuation or have lower-case
// words, so "Then the rain began." never qualifies.
static int is_bare_title(const pchar *v, size_t n)
{
    // Comments before it change nothing: `annotate` writes {#} before a
    // capitalized "Name: Text" line to keep it what it was.
    size_t a = skip_spaces(v, n, 0), b = n, e;
    while (a < n && (e = comment_end(v, n, a)))
        a = skip_spaces(v, n, e + 1);
    while (b > a && is_space(v[b - 1].cp))
        b--;
    if (a >= b || b - a > TITLE_MAX_CHARS)
        return 0;
    uint32_t first = v[a].cp, last = v[b - 1].cp;
    if (is_double_mark(first) || is_single_mark(first) || first == '(' || first == '-')
        return 0;
    static const uint32_t enders[] = {'.', '!', '?', ':', ';', ',', '"', 0x201D, 0x2026,
                                      0x2019, '\'', 0x2014, 0x2013, '-'};
    for (size_t i = 0; i < sizeof enders / sizeof enders[0]; i++)
        if (last == enders[i])
            return 0;
    int words = 0, caps = 0, lower = 0;
    for (size_t i = a; i < b;) {
        size_t w = i;
        while (i < b && !is_space(v[i].cp)) {
            if (is_double_mark(v[i].cp) || v[i].cp == '{' || v[i].cp == '}')
                return 0;
            i++;
        }
        if (++words > TITLE_MAX_WORDS)
            return 0;
        size_t k = w;
        while (k < i && !is_alnum(v[k].cp))
            k++;
        if (k < i && is_upper(v[k].cp)) {
            caps++;
        } else if (k < i && is_letter(v[k].cp)) {
            char lw[16];
            word_lower(v, i, k, lw, sizeof lw);
            if (words == 1 || !is_small_word(lw))
                lower++;
        } else if (words == 1 && k < i) {
            return 0;  // starts with a number
        }
        i = skip_spaces(v, b, i);
    }
    return caps >= 1 && (lower == 0 || (lower == 1 && caps >= 4));
}

// A quote a paragraph left open is speech that goes on into the next
// paragraph when that one (v[0..n)) opens with a quote mark too; else it was
// never closed: a warning where it opened. v NULL: no paragraph follows.
static void check_unclosed(parser *p, const pchar *v, size_t n)
{
    if (!p->unclosed.line)
        return;
    size_t i = v ? skip_directives(v, n, 0) : n;
    uint32_t c = i < n ? v[i].cp : 0;
    if (!(p->single_quotes ? is_single_mark(c) : is_double_mark(c)))
        report(p, RP_DIAG_WARNING, p->unclosed.line, p->unclosed.col,
               "close it, or open the next paragraph with a quote mark too", "unclosed quote");
    p->unclosed.line = 0;
}

static void emit_builder(parser *p, builder *b, rp_block_kind kind, int line, int col)
{
    if (b->runs.n || kind == RP_BLOCK_SCENE_BREAK)
        add_block(p, kind, line, col, &b->runs);
}

static void emit_heading(parser *p, const pchar *v, size_t n, int line, int col)
{
    check_unclosed(p, NULL, 0);
    builder b;
    builder_init(&b, p);
    b.quotes_off = 1;
    build_runs(&b, v, n);
    finish(&b);
    // The title narration (split by any directives) becomes one run, first.
    rp_strbuf t;
    rp_strbuf_init(&t);
    runvec rv = {0};
    rp_run title;
    memset(&title, 0, sizeof title);
    title.kind = RP_RUN_NARRATION;
    for (size_t i = 0; i < b.runs.n; i++) {
        rp_run *r = &b.runs.v[i];
        if (r->kind != RP_RUN_NARRATION)
            continue;
        if (!title.line) {
            title.line = r->line;
            title.col = r->col;
        } else {
            rp_strbuf_append(&t, " ", 1);
        }
        rp_strbuf_puts(&t, r->text);
    }
    if (t.failed)
        p->nomem = 1;
    title.text = t.s ? rp_strbuf_take(&t) : NULL;
    rp_strbuf_deinit(&t);
    if (title.text)
        runvec_push(p, &rv, &title);
    for (size_t i = 0; i < b.runs.n; i++)
        if (b.runs.v[i].kind == RP_RUN_DIRECTIVE)
            runvec_push(p, &rv, &b.runs.v[i]);
    add_block(p, rv.n && rv.v[0].kind == RP_RUN_NARRATION ? RP_BLOCK_HEADING : RP_BLOCK_PARAGRAPH,
              line, col, &rv);
    builder_deinit(&b);
}

static void emit_break(parser *p, const pchar *v, size_t n, int line, int col)
{
    check_unclosed(p, NULL, 0);
    builder b;
    builder_init(&b, p);
    b.quotes_off = 1;
    build_runs(&b, v, n);
    finish(&b);
    emit_builder(p, &b, RP_BLOCK_SCENE_BREAK, line, col);
    builder_deinit(&b);
}

// Turns the collected paragraph into a heading, a screenplay line or a
// paragraph of narration, quotes and directives.
static void end_paragraph(parser *p)
{
    const pchar *v = p->para.v;
    size_t n = p->para.n, f = skip_spaces(v, n, 0);
    int lines = p->para_lines;
    p->para.n = 0;
    p->para_lines = 0;
    if (f >= n)
        return;
    check_unclosed(p, v, n);
    size_t at = 0;
    char *speaker = NULL;
    int caps = 0;
    int sp = screenplay_prefix(p, v, n, &at, &speaker, &caps);
    if (!(sp && caps) && lines == 1 && p->para_kind == L_TEXT && v[f].line < p->last_text_line &&
        is_bare_title(v, n)) {
        free(speaker);
        builder b;
        builder_init(&b, p);
        b.quotes_off = 1;
        build_runs(&b, v, n);
        finish(&b);
        emit_builder(p, &b, RP_BLOCK_HEADING, v[f].line, v[f].col);
        builder_deinit(&b);
        return;
    }
    builder b;
    builder_init(&b, p);
    size_t dash = p->dash_quotes ? skip_directives(v, n, f) : f;
    size_t dl = p->dash_quotes ? dash_len(v, n, dash) : 0;
    if (sp) {
        b.in_quote = 1;
        b.quotes_off = 1;
        b.qspeaker = speaker;
        b.qsource = RP_SPK_SCREENPLAY;
        build_runs(&b, v + at, n - at);
    } else if (dl) {
        b.quotes_off = 1;
        build_runs(&b, v, dash);  // the tags and cues before the dash
        build_dash(&b, v, n, dash, dl);
    } else {
        build_runs(&b, v, n);
    }
    finish(&b);
    emit_builder(p, &b, RP_BLOCK_PARAGRAPH, v[f].line, v[f].col);
    builder_deinit(&b);
}

static void append_line(parser *p, line_kind kind)
{
    if (p->para.n && p->line.n) {
        pchar last = p->para.v[p->para.n - 1];
        pvec_push(p, &p->para, (pchar){' ', last.line, last.col + 1});
    }
    if (p->para_lines == 0)
        p->para_kind = kind;
    p->para_lines++;
    for (size_t i = 0; i < p->line.n && !p->nomem; i++)
        pvec_push(p, &p->para, p->line.v[i]);
}

// ---- the two passes -----------------------------------------------------------------

// Columns of a line's text, its directives left out: the tags and cues
// `annotate` writes in do not make a hard-wrapped file's lines longer.
static size_t text_cols(const pvec *l)
{
    size_t cols = 0, j;
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i].cp == '{' && (j = directive_end(l->v, l->n, i)))
            i = j;
        else
            cols++;
    }
    return cols;
}

// Counts mark candidates on one line for the per-file quote style (outside
// directives).
static void count_marks(const pvec *l, size_t *dbl, size_t *sgl)
{
    size_t j;
    for (size_t i = 0; i < l->n; i++) {
        uint32_t c = l->v[i].cp;
        if (c == '{' && (j = directive_end(l->v, l->n, i)))
            i = j;  // marks in a tag's or cue's settings are not dialogue
        else if (c == 0x201C || c == '"')
            *dbl += c == '"' ? 1 : 2;  // a straight pair counts as one quote
        else if ((c == 0x2018 || c == '\'') && opener_ok(l->v, l->n, i))
            *sgl += 1;
    }
}

// Pass 1: paragraph style, quote style, last text line.
static void survey(parser *p, const char *buf, size_t len)
{
    size_t pos = 0, start, n, dbl = 0, sgl = 0;
    size_t groups = 0, multi = 0, cur = 0, max_cols = 0, dashes = 0;
    int lineno = 0, blank = 0;
    p->annotated = len && memchr(buf, '{', len) != NULL;
    while (rp_line_next(buf, len, &pos, &start, &n) && !p->nomem) {
        lineno++;
        decode_line(p, buf + start, n, lineno, 1);
        size_t body;
        line_kind k = classify(p, &p->line, &body);
        if (k != L_BLANK)
            p->last_text_line = lineno;
        count_marks(&p->line, &dbl, &sgl);
        dashes += dash_len(p->line.v, p->line.n, skip_directives(p->line.v, p->line.n, 0)) > 0;
        if (k == L_DIRECTIVES)
            continue;
        if (k == L_TEXT || k == L_STARTER) {
            size_t cols = text_cols(&p->line);
            if (cols > max_cols)
                max_cols = cols;
            if (k == L_STARTER && cur) {
                groups++;
                multi += cur > 1;
                cur = 0;
            }
            cur++;
            continue;
        }
        blank |= k == L_BLANK;
        if (cur) {
            groups++;
            multi += cur > 1;
        }
        cur = 0;
    }
    if (cur) {
        groups++;
        multi += cur > 1;
    }
    p->joined = blank && multi > 0 && (multi * 5 >= groups || max_cols <= 100);
    p->single_quotes = sgl >= 2 && sgl > dbl;  // dbl counts each pair twice
    p->dash_quotes = !p->single_quotes && dbl < 2 && dashes >= 3;
}

// Pass 2: blocks.
static void build(parser *p, const char *buf, size_t len)
{
    size_t pos = 0, start, n;
    int lineno = 0;
    while (rp_line_next(buf, len, &pos, &start, &n) && !p->nomem) {
        lineno++;
        decode_line(p, buf + start, n, lineno, 0);
        size_t body;
        line_kind k = classify(p, &p->line, &body);
        const pchar *v = p->line.v;
        size_t f = skip_spaces(v, p->line.n, 0);
        switch (k) {
        case L_BLANK:
            end_paragraph(p);
            break;
        case L_HEADING:
        case L_BREAK:
            end_paragraph(p);
            if (k == L_HEADING)
                emit_heading(p, v + body, p->line.n - body, v[f].line, v[f].col);
            else
                emit_break(p, v + body, p->line.n - body, v[f].line, v[f].col);
            break;
        case L_STARTER:
        case L_TEXT:
        case L_DIRECTIVES:
            if (!p->joined || k == L_STARTER)
                end_paragraph(p);
            append_line(p, k);
            if (!p->joined)
                end_paragraph(p);
            break;
        }
    }
    end_paragraph(p);
    check_unclosed(p, NULL, 0);
}

rp_status rp_parse(const char *name, const char *bytes, size_t len, rp_script *out, rp_diags *d)
{
    memset(out, 0, sizeof *out);
    parser p;
    memset(&p, 0, sizeof p);
    p.name = name;
    p.d = d;
    p.out = out;
    out->name = rp_strdup(name ? name : "");
    if (!out->name)
        return RP_ERR_NOMEM;
    if (len > RP_MAX_CHAPTER_BYTES) {
        report(&p, RP_DIAG_ERROR, 0, 0, "split the chapter into smaller files",
               "chapter is larger than %u bytes", (unsigned)RP_MAX_CHAPTER_BYTES);
        return RP_ERR_LIMIT;
    }
    if (!bytes)
        len = 0;
    if (len >= 3 && memcmp(bytes, "\xEF\xBB\xBF", 3) == 0)
        bytes += 3, len -= 3;
    survey(&p, bytes, len);
    if (!p.nomem)
        build(&p, bytes, len);
    if (p.n_bad_utf8 > MAX_UTF8_REPORTS)
        report(&p, RP_DIAG_NOTE, 0, 0, NULL, "%d more invalid UTF-8 bytes not reported",
               p.n_bad_utf8 - MAX_UTF8_REPORTS);
    free(p.line.v);
    free(p.para.v);
    if (p.nomem)
        return RP_ERR_NOMEM;
    if (out->n_blocks == 0 && p.n_errors == 0)
        report(&p, RP_DIAG_WARNING, 0, 0, NULL, "chapter is empty");
    return p.n_errors ? RP_ERR_INPUT : RP_OK;
}
