// SPDX-License-Identifier: GPL-3.0-or-later
// rp_annotate: the chapter as the renderer understood it. Each decision the
// rules made becomes the explicit form a writer would type:
//
//     "Get down!" said the sergeant.      {Sergeant Hale}"Get down!" said ...
//     Thunder rolled over the roofs.      {sfx thunder} Thunder rolled ...
//
// Nothing else changes: the output is the source with insertions, so a diff
// shows exactly the decisions. Tags and explicit cues are what attribution
// and the sound rules defer to (explicit cues count as fired, see cue.c), so
// annotating the output again inserts nothing, and it renders the same audio.
//
// Runs carry line and code-point column; cue.c records, for each cue, the
// parsed run it was cut from and the byte offset of its word in that run's
// folded text. The source position of the word is found by parsing the
// source again (the same runs, before cue.c split them), counting the word's
// earlier occurrences in the run's text and finding the same occurrence in
// the source after the run's start, outside {...}.
#include "rp_annotate.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_cast.h"
#include "rp_cue.h"

typedef struct {
    size_t at;     // byte offset in the source
    size_t order;  // insertion order, for a stable sort
    char *text;
} insertion;

typedef struct {
    size_t at, end;  // bytes: the line's start, and its end before the terminator
} src_line;

typedef struct {
    const char *src;
    size_t len;
    src_line *lines;   // [0] unused: lines count from 1
    size_t cap_lines;
    int n_lines;
    insertion *ins;
    size_t n_ins, cap_ins;
    int nomem;
} annotator;

// ---- source positions --------------------------------------------------------------

// Splits the source into lines the way the parser does (which counts the
// columns of line 1 after a byte order mark).
static int index_lines(annotator *A)
{
    size_t pos = A->len >= 3 && !memcmp(A->src, "\xEF\xBB\xBF", 3) ? 3 : 0, start, n;
    A->n_lines = 0;
    if (rp_grow((void **)&A->lines, &A->cap_lines, 1, sizeof *A->lines))
        return 0;
    while (rp_line_next(A->src, A->len, &pos, &start, &n)) {
        if (rp_grow((void **)&A->lines, &A->cap_lines, (size_t)A->n_lines + 2, sizeof *A->lines))
            return 0;
        A->lines[++A->n_lines] = (src_line){start, start + n};
    }
    return 1;
}

// Byte offset of line:col (col in code points, as the parser counts them).
static size_t offset_of(const annotator *A, int line, int col)
{
    if (line < 1)
        return 0;
    if (line > A->n_lines)
        return A->len;
    size_t i = A->lines[line].at, end = A->lines[line].end;
    for (int c = 1; c < col && i < end; c++) {
        int l;
        rp_utf8_decode(A->src + i, end - i, &l);
        i += (size_t)l;
    }
    return i;
}

static int blank_line(const annotator *A, int line)
{
    for (size_t i = A->lines[line].at; i < A->lines[line].end; i++)
        if (A->src[i] != ' ' && A->src[i] != '\t')
            return 0;
    return 1;
}

// The end of the block that starts at or after from_line and ends before
// next_line (the next block's first line, or past the end): the end of its
// last non-blank line.
static size_t block_end(const annotator *A, int from_line, int next_line)
{
    int l = next_line - 1 < A->n_lines ? next_line - 1 : A->n_lines;
    while (l > from_line && blank_line(A, l))
        l--;
    if (l < 1)
        return A->len;
    return A->lines[l].end;
}

static int same_word(const char *a, size_t na, const char *b, size_t nb)
{
    return na == nb && memcmp(a, b, na) == 0;
}

// The nth (0-based) occurrence of word w[0..n) as a whole word in the source
// from byte from on, outside {...} groups; SIZE_MAX when there is none.
static size_t find_word(const annotator *A, size_t from, const char *w, size_t n, size_t nth)
{
    size_t i = from;
    while (i < A->len) {
        const char *brace = memchr(A->src + i, '{', A->len - i);
        size_t seg = brace ? (size_t)(brace - A->src) : A->len;
        size_t pos = i, a, b;
        while (rp_word_next(A->src, seg, &pos, &a, &b))
            if (same_word(A->src + a, b - a, w, n) && nth-- == 0)
                return a;
        if (!brace)
            break;
        const char *close = memchr(brace, '}', A->len - seg);
        i = close ? (size_t)(close - A->src) + 1 : A->len;
    }
    return SIZE_MAX;
}

// The word of text at byte at, and how many times it occurs before.
static size_t word_at(const char *text, size_t at, size_t *a, size_t *b)
{
    size_t len = strlen(text), pos = at, nth = 0, p = 0, s, e;
    if (!rp_word_next(text, len, &pos, a, b))
        return SIZE_MAX;
    while (rp_word_next(text, *a, &p, &s, &e))
        nth += same_word(text + s, e - s, text + *a, *b - *a);
    return nth;
}

// ---- insertions ----------------------------------------------------------------------

// Inserts what fmt makes of name (and kw) before byte at of the source.
static void insert(annotator *A, size_t at, const char *fmt, const char *kw, const char *name)
{
    if (A->nomem)
        return;
    rp_strbuf t;
    rp_strbuf_init(&t);
    rp_strbuf_printf(&t, fmt, kw, name);
    char *s = rp_strbuf_take(&t);
    if (!s || rp_grow((void **)&A->ins, &A->cap_ins, A->n_ins + 1, sizeof *A->ins)) {
        free(s);
        A->nomem = 1;
        return;
    }
    A->ins[A->n_ins] = (insertion){at, A->n_ins, s};
    A->n_ins++;
}

static int cmp_insertion(const void *x, const void *y)
{
    const insertion *a = x, *b = y;
    if (a->at != b->at)
        return a->at < b->at ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

static const char *cue_word(rp_dir_kind k)
{
    return k == RP_DIR_SFX ? "sfx" : k == RP_DIR_BED ? "bed" : "stop";
}

// An automatic cue of block bi (parsed again as p).
static void annotate_cue(annotator *A, const rp_script *s, const rp_script *p, size_t bi,
                         const rp_run *r, rp_diags *d)
{
    const char *kw = cue_word(r->dir.kind);
    if (r->origin_at == RP_AT_BLOCK_END) {
        int next = bi + 1 < s->n_blocks ? s->blocks[bi + 1].line : A->n_lines + 1;
        insert(A, block_end(A, r->line, next), " {%s %s}", kw, r->dir.name);
        return;
    }
    const rp_run *o = NULL;
    if (bi < p->n_blocks && r->origin_run < p->blocks[bi].n_runs)
        o = &p->blocks[bi].runs[r->origin_run];
    size_t start = offset_of(A, o ? o->line : r->line, o ? o->col : r->col), at = SIZE_MAX;
    if (o && o->text && r->origin_at < strlen(o->text)) {
        size_t a, b, nth = word_at(o->text, r->origin_at, &a, &b);
        if (nth != SIZE_MAX)
            at = find_word(A, start, o->text + a, b - a, nth);
        // Where cue.c split the run: at its start, or before the word's
        // token, back over the code points between them (never spaces,
        // never a directive).
        size_t split = rp_cue_split(o->text, a, rp_scrap_len(o->text, strlen(o->text)));
        if (at != SIZE_MAX && split == 0 && a > 0)
            at = start;
        for (size_t k = rp_utf8_count(o->text + split, a - split); at != SIZE_MAX && split && k > 0;
             k--)
            while (at > 0 && ((unsigned char)A->src[--at] & 0xC0) == 0x80)
                ;
    }
    if (at == SIZE_MAX) {
        rp_diag_add(d, RP_DIAG_WARNING, s->name, r->line, r->col, "annotate",
                    "move it to its word by hand", "cue {%s %s} placed before its sentence", kw,
                    r->dir.name);
        at = start;
    }
    insert(A, at, "{%s %s} ", kw, r->dir.name);
}

// The source with the insertions made so far, sorted, into out.
static void render(annotator *A, rp_strbuf *out)
{
    if (A->n_ins)  // qsort wants a real array even for nothing
        qsort(A->ins, A->n_ins, sizeof *A->ins, cmp_insertion);
    size_t done = 0;
    for (size_t i = 0; i < A->n_ins; i++) {
        size_t at = A->ins[i].at < A->len ? A->ins[i].at : A->len;
        rp_strbuf_append(out, A->src + done, at - done);
        rp_strbuf_puts(out, A->ins[i].text);
        done = at;
    }
    rp_strbuf_append(out, A->src + done, A->len - done);
}

// 1 when block b (starting at a line of 1..n_lines) is a screenplay line.
static int screenplay(const rp_block *b, int n_lines)
{
    for (size_t k = 0; k < b->n_runs; k++)
        if (b->runs[k].spk_source == RP_SPK_SCREENPLAY)
            return b->line >= 1 && b->line <= n_lines;
    return 0;
}

// A chapter without a '{' reads "Name: text" with a capitalized name as
// prose, an annotated one as a screenplay line. Lines of s that the
// annotated text would read so keep their reading behind an empty comment
// at their start ("{#}Monday: we rode north."). An escaped line no longer
// starts a paragraph of its own and may join the one above it, which may
// then read as a screenplay line: a second round escapes that (a third
// finds nothing more).
static void keep_prose(annotator *A, const rp_script *s)
{
    uint8_t *done = rp_calloc((size_t)A->n_lines + 1, 1);  // read as screenplay, or escaped
    if (!done) {
        A->nomem = 1;
        return;
    }
    for (size_t i = 0; i < s->n_blocks; i++)
        if (screenplay(&s->blocks[i], A->n_lines))
            done[s->blocks[i].line] = 1;
    int added = 1;
    for (int round = 0; round < 3 && added && !A->nomem; round++) {
        added = 0;
        rp_strbuf text;
        rp_strbuf_init(&text);
        render(A, &text);
        rp_script p;
        rp_diags scratch;
        rp_diags_init(&scratch);
        if (text.failed ||
            rp_parse(s->name ? s->name : "", text.s, text.len, &p, &scratch) == RP_ERR_NOMEM)
            A->nomem = 1;
        for (size_t i = 0; !text.failed && i < p.n_blocks && !A->nomem; i++) {
            int line = p.blocks[i].line;
            if (screenplay(&p.blocks[i], A->n_lines) && !done[line]) {
                insert(A, A->lines[line].at, "{#}%s%s", "", "");
                done[line] = added = 1;
            }
        }
        if (!text.failed)
            rp_script_deinit(&p);
        rp_diags_deinit(&scratch);
        rp_strbuf_deinit(&text);
    }
    free(done);
}

rp_status rp_annotate(const char *src, size_t len, const rp_script *s, rp_strbuf *out,
                      rp_diags *d)
{
    annotator A;
    memset(&A, 0, sizeof A);
    A.src = src;
    A.len = len;
    rp_script p;
    rp_diags scratch;  // the chapter's own diagnostics were reported when s was made
    rp_diags_init(&scratch);
    rp_status st = rp_parse(s->name ? s->name : "", src, len, &p, &scratch);
    rp_diags_deinit(&scratch);
    if (st == RP_ERR_NOMEM || !index_lines(&A))
        A.nomem = 1;
    for (size_t bi = 0; bi < s->n_blocks && !A.nomem; bi++) {
        const rp_block *b = &s->blocks[bi];
        for (size_t k = 0; k < b->n_runs; k++) {
            const rp_run *r = &b->runs[k];
            if (r->kind == RP_RUN_QUOTE && r->speaker && r->origin_at == 0 &&
                (r->spk_source == RP_SPK_RULE || r->spk_source == RP_SPK_GUESS))
                insert(&A, offset_of(&A, r->line, r->col), "{%s%s}", "", r->speaker);
            else if (r->kind == RP_RUN_DIRECTIVE && r->automatic && r->dir.name)
                annotate_cue(&A, s, &p, bi, r, d);
        }
    }
    if (!A.nomem && A.n_ins && !memchr(src, '{', len))
        keep_prose(&A, s);
    if (!A.nomem)
        render(&A, out);
    for (size_t i = 0; i < A.n_ins; i++)
        free(A.ins[i].text);
    free(A.ins);
    free(A.lines);
    rp_script_deinit(&p);
    return A.nomem || out->failed ? RP_ERR_NOMEM : RP_OK;
}
