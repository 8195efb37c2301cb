// SPDX-License-Identifier: GPL-3.0-or-later
// The chapter lint, three independent passes over one parsed chapter:
// - quotes: the attribution's own confidence, below a threshold;
// - names: a scan of the raw text (for exact line:col) counting capitalized
//   words. A word is a name when it is capitalized at least once where no
//   sentence starts: a capital mid-sentence is what tells "Kirk" from "Then".
// - near-repeats: word 3-gram shingles per paragraph, an inverted index from
//   shingle to the paragraphs holding it (so only paragraphs that share
//   something are ever compared), and for the best candidate the share of
//   words covered by shared shingles: Broder's containment ("On the
//   resemblance and containment of documents", 1997), counted in words so
//   the message can say how much of a paragraph a listener hears twice.
//   Paragraphs too short for shingles to mean much ("Then the rain began.")
//   are reported only when repeated word for word, and only narration: a
//   short line of dialogue said twice ("What do you mean?") is usually meant.
// And one over the cast sheet: a [voice NAME] section that no speaker of the
// chapter answers to is most often a misspelt name, whose speaker is then
// cast automatically without a word.
#include "rp_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_config.h"

rp_check_config rp_check_config_default(void)
{
    return (rp_check_config){
        .min_confidence = RP_CHECK_MIN_CONFIDENCE,
        .repeat_share = RP_CHECK_REPEAT_SHARE,
        .min_repeat_words = RP_CHECK_REPEAT_MIN_WORDS,
        .min_exact_words = RP_CHECK_EXACT_MIN_WORDS,
    };
}

const char *rp_check_rule(const rp_run *r)
{
    if (r->spk_source == RP_SPK_TAG)
        return "tag";
    if (r->spk_source == RP_SPK_SCREENPLAY)
        return "screenplay";
    return r->rule ? r->rule : "none";
}

void rp_check_excerpt(const char *text, size_t max_cps, rp_strbuf *out)
{
    size_t len = strlen(text), i = 0, n = 0, space = 0;
    while (i < len && n < max_cps) {
        int l;
        rp_utf8_decode(text + i, len - i, &l);
        if (text[i] == ' ')
            space = i;
        i += (size_t)l;
        n++;
    }
    if (i >= len) {
        rp_strbuf_append(out, text, len);
        return;
    }
    // Whole words read better, unless that would drop half of the excerpt.
    size_t cut = space > i / 2 ? space : i;
    while (cut > 0 && strchr(" ,;:", text[cut - 1]))
        cut--;
    rp_strbuf_append(out, text, cut);
    rp_strbuf_puts(out, "\xE2\x80\xA6");
}

// ---- low-confidence quotes ---------------------------------------------------

static rp_status check_quotes(const rp_script *s, double min_conf, rp_check_report *out)
{
    size_t cap = 0;
    for (size_t i = 0; i < s->n_blocks; i++) {
        const rp_block *b = &s->blocks[i];
        for (size_t k = 0; k < b->n_runs; k++) {
            const rp_run *r = &b->runs[k];
            // Tags and screenplay lines are the user's own word.
            if (r->kind != RP_RUN_QUOTE || r->spk_source == RP_SPK_TAG ||
                r->spk_source == RP_SPK_SCREENPLAY || r->confidence >= min_conf)
                continue;
            if (rp_grow((void **)&out->quotes, &cap, out->n_quotes + 1, sizeof *out->quotes))
                return RP_ERR_NOMEM;
            out->quotes[out->n_quotes++] = r;
        }
    }
    return RP_OK;
}

// ---- proper nouns ------------------------------------------------------------

// Capitalized at sentence starts, hardly ever names; pronoun I is handled
// apart, with its contractions. Titles are left to espeak-ng, which knows them.
static const char *const function_words[] = {
    "a",      "about",  "after",   "again",  "ah",     "all",    "also",   "although",
    "an",     "and",    "any",     "are",    "as",     "at",     "be",     "because",
    "been",   "before", "both",    "but",    "by",     "can",    "could",  "did",
    "do",     "does",   "dr",      "each",   "even",   "every",  "for",    "from",
    "had",    "has",    "have",    "he",     "her",    "here",   "hers",   "him",
    "his",    "how",    "if",      "in",     "into",   "is",     "it",     "its",
    "just",   "let",    "may",     "maybe",  "me",     "might",  "mr",     "mrs",
    "ms",     "must",   "my",      "no",     "nor",    "not",    "now",    "o",
    "of",     "oh",     "ok",      "okay",   "on",     "once",   "one",    "only",
    "onto",   "or",     "our",     "perhaps", "please", "she",   "should", "so",
    "some",   "st",     "still",   "than",   "that",   "the",    "their",  "them",
    "then",   "there",  "these",   "they",   "this",   "those",  "though", "to",
    "too",    "until",  "us",      "was",    "we",     "well",   "were",   "what",
    "when",   "where",  "which",   "while",  "who",    "whom",   "whose",  "why",
    "will",   "with",   "without", "would",  "yes",    "yet",    "you",    "your",
    NULL};

typedef struct {
    rp_check_name pub;
    size_t mid;  // occurrences where no sentence starts
} name_entry;

typedef struct {
    name_entry *v;
    size_t n, cap;
    size_t *slots;  // open addressing: index + 1, 0 when empty
    size_t n_slots;
} name_table;

static size_t slot_of(const name_table *T, const char *w)
{
    size_t mask = T->n_slots - 1;
    size_t h = (size_t)rp_hash64(w, strlen(w), RP_HASH_INIT) & mask;
    while (T->slots[h] && strcmp(T->v[T->slots[h] - 1].pub.word, w))
        h = (h + 1) & mask;
    return h;
}

static rp_status grow_slots(name_table *T)
{
    size_t n = T->n_slots ? T->n_slots * 2 : 256;
    size_t *old = T->slots, n_old = T->n_slots;
    if (!(T->slots = rp_calloc(n, sizeof *T->slots))) {
        T->slots = old;
        return RP_ERR_NOMEM;
    }
    T->n_slots = n;
    for (size_t i = 0; i < n_old; i++)
        if (old[i])
            T->slots[slot_of(T, T->v[old[i] - 1].pub.word)] = old[i];
    free(old);
    return RP_OK;
}

static name_entry *name_get(name_table *T, const char *w, int line, int col)
{
    if (2 * (T->n + 1) > T->n_slots && grow_slots(T))
        return NULL;
    size_t h = slot_of(T, w);
    if (T->slots[h])
        return &T->v[T->slots[h] - 1];
    if (rp_grow((void **)&T->v, &T->cap, T->n + 1, sizeof *T->v))
        return NULL;
    name_entry *e = &T->v[T->n];
    memset(e, 0, sizeof *e);
    if (!(e->pub.word = rp_strdup(w)))
        return NULL;
    e->pub.line = line;
    e->pub.col = col;
    T->slots[h] = ++T->n;
    return e;
}

enum { LINE_BLOCK = 1, LINE_HEADING = 2 };

typedef struct {
    const char *text;
    size_t len;
    unsigned char *kind;  // per line: LINE_BLOCK when a block starts there, LINE_HEADING
    size_t n_lines;
    int line, col;
    int at_start;      // the next word begins a sentence
    int in_heading, in_directive;
    uint32_t prev;     // the code point before
    char last[16];     // the last word, lower case, for abbreviations
    name_table names;
    int nomem;
} scanner;

static void begin_line(scanner *S)
{
    unsigned char k = (size_t)S->line < S->n_lines ? S->kind[S->line] : 0;
    if (k & LINE_BLOCK)
        S->at_start = 1;
    S->in_heading = (k & LINE_HEADING) != 0;
}

static int opens_quote(uint32_t c, uint32_t prev)
{
    if (c == 0x201C || c == 0x2018)
        return 1;
    return (c == '"' || c == '\'') && (prev == 0 || prev == ' ' || prev == '\t' ||
                                       prev == '\n' || prev == '(' || prev == 0x2014);
}

// Punctuation and spaces between words: lines, directives, sentence ends.
static void scan_gap(scanner *S, size_t from, size_t to)
{
    for (size_t i = from; i < to;) {
        int l;
        uint32_t c = rp_utf8_decode(S->text + i, to - i, &l);
        i += (size_t)l;
        S->col++;
        if (c == '\n') {
            S->line++;
            S->col = 1;
            begin_line(S);
        } else if (S->in_directive) {
            S->in_directive = c != '}';
        } else if (c == '{') {
            S->in_directive = 1;
        } else if (c == '.' ? !rp_in_list(S->last, rp_abbreviations)
                            : (c == '!' || c == '?' || c == ':' || c == 0x2026)) {
            S->at_start = 1;
        } else if (opens_quote(c, S->prev)) {
            S->at_start = 1;
        }
        S->prev = c;
    }
}

static int is_capital(uint32_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7);
}

// The name key of word w[0..n) into buf: ' for U+2019, no possessive 's, and
// cut before a hyphen that leads to a lower-case part ("Coalition-held").
// Returns 0 when it is no name: pronoun I, a function word, too long.
static int name_key(const char *w, size_t n, char *buf, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 3 <= n && !strncmp(w + i, "\xE2\x80\x99", 3)) {
            buf[k++] = '\'';
            i += 2;
        } else if (w[i] == '-' && i + 1 < n && !is_capital((unsigned char)w[i + 1])) {
            break;
        } else {
            buf[k++] = w[i];
        }
        if (k + 4 >= cap)
            return 0;
    }
    buf[k] = '\0';
    if (k > 2 && !strcmp(buf + k - 2, "'s"))
        buf[k -= 2] = '\0';
    if (!strcmp(buf, "I") || !strncmp(buf, "I'", 2))
        return 0;
    return !rp_in_list(buf, function_words);
}

static void scan_word(scanner *S, size_t a, size_t b)
{
    int line = S->line, col = S->col;
    S->col += (int)rp_utf8_count(S->text + a, b - a);
    S->prev = 'a';
    if (S->in_directive)
        return;
    int sentence_start = S->at_start || S->in_heading;
    S->at_start = 0;
    size_t n = b - a < sizeof S->last - 1 ? b - a : sizeof S->last - 1;
    for (size_t i = 0; i < n; i++) {
        char ch = S->text[a + i];
        S->last[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    S->last[n] = '\0';
    int l;
    char key[RP_MAX_NAME_BYTES + 1];
    if (!is_capital(rp_utf8_decode(S->text + a, b - a, &l)) ||
        !name_key(S->text + a, b - a, key, sizeof key))
        return;
    name_entry *e = name_get(&S->names, key, line, col);
    if (!e) {
        S->nomem = 1;
        return;
    }
    e->pub.count++;
    e->mid += !sentence_start;
}

static int cmp_names(const void *a, const void *b)
{
    const rp_check_name *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->word, y->word);
}

// Which lines begin a block, and which are headings.
static unsigned char *line_kinds(const rp_script *s, const char *text, size_t len, size_t *n)
{
    *n = 2;
    for (size_t i = 0; i < len; i++)
        *n += text[i] == '\n';
    unsigned char *kind = rp_calloc(*n, 1);
    for (size_t i = 0; kind && i < s->n_blocks; i++) {
        const rp_block *b = &s->blocks[i];
        if (b->line > 0 && (size_t)b->line < *n)
            kind[b->line] |= LINE_BLOCK | (b->kind == RP_BLOCK_HEADING ? LINE_HEADING : 0);
    }
    return kind;
}

static rp_status check_names(const rp_script *s, const char *text, size_t len, const rp_cast *c,
                             rp_check_report *out)
{
    scanner S = {.text = text, .len = len, .line = 1, .col = 1};
    if (!(S.kind = line_kinds(s, text, len, &S.n_lines)))
        return RP_ERR_NOMEM;
    S.at_start = 1;
    begin_line(&S);
    size_t pos = 0, a, b, done = 0;
    while (!S.nomem && rp_word_next(text, len, &pos, &a, &b)) {
        scan_gap(&S, done, a);
        scan_word(&S, a, b);
        done = b;
    }
    free(S.kind);
    free(S.names.slots);
    rp_status st = S.nomem ? RP_ERR_NOMEM : RP_OK;
    if (!st && S.names.n && !(out->names = rp_calloc(S.names.n, sizeof *out->names)))
        st = RP_ERR_NOMEM;
    for (size_t i = 0; i < S.names.n; i++) {
        name_entry *e = &S.names.v[i];
        if (st || !e->mid) {
            free(e->pub.word);
            continue;
        }
        e->pub.say = rp_respelling_find(c->say, c->n_say, e->pub.word, strlen(e->pub.word));
        out->names[out->n_names++] = e->pub;
    }
    free(S.names.v);
    if (out->n_names)
        qsort(out->names, out->n_names, sizeof *out->names, cmp_names);
    return st;
}

// ---- near-repeats ------------------------------------------------------------

enum { K = RP_CHECK_SHINGLE_WORDS };

typedef struct {
    int line, col;
    size_t n_words;
    uint64_t *sh;   // shingle hashes in word order: n_words - K + 1 of them
    uint64_t *set;  // the same sorted, without duplicates
    size_t n_set;
} para;

typedef struct {
    uint64_t key;
    size_t *ids;  // paragraphs holding the shingle, in order
    size_t n, cap;
    int used;
} posting;

typedef struct {
    posting *slots;
    size_t cap, n;
} shingle_index;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

// A word folded for comparison: ASCII lower case, U+2019 as '.
static uint64_t word_hash(const char *w, size_t n)
{
    uint64_t h = RP_HASH_INIT;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)w[i];
        if (i + 3 <= n && !strncmp(w + i, "\xE2\x80\x99", 3)) {
            ch = '\'';
            i += 2;
        } else if (ch >= 'A' && ch <= 'Z') {
            ch += 32;
        }
        h = rp_hash64(&ch, 1, h);
    }
    return h;
}

// The words of a paragraph's spoken runs, hashed, into *words.
static rp_status paragraph_words(const rp_block *b, uint64_t **words, size_t *n, size_t *cap)
{
    *n = 0;
    for (size_t k = 0; k < b->n_runs; k++) {
        const char *t = b->runs[k].text;
        if (b->runs[k].kind == RP_RUN_DIRECTIVE || !t)
            continue;
        size_t len = strlen(t), pos = 0, a, e;
        while (rp_word_next(t, len, &pos, &a, &e)) {
            if (rp_grow((void **)words, cap, *n + 1, sizeof **words))
                return RP_ERR_NOMEM;
            (*words)[(*n)++] = word_hash(t + a, e - a);
        }
    }
    return RP_OK;
}

static rp_status make_para(para *p, const rp_block *b, const uint64_t *w, size_t n)
{
    memset(p, 0, sizeof *p);
    p->line = b->line;
    p->col = b->col;
    p->n_words = n;
    size_t m = n - K + 1;
    p->sh = rp_calloc(m, sizeof *p->sh);
    p->set = rp_calloc(m, sizeof *p->set);
    if (!p->sh || !p->set)
        return RP_ERR_NOMEM;
    for (size_t i = 0; i < m; i++)
        p->sh[i] = p->set[i] = rp_hash64(w + i, K * sizeof *w, RP_HASH_INIT);
    qsort(p->set, m, sizeof *p->set, cmp_u64);
    for (size_t i = 0; i < m; i++)
        if (!p->n_set || p->set[p->n_set - 1] != p->set[i])
            p->set[p->n_set++] = p->set[i];
    return RP_OK;
}

static posting *index_slot(const shingle_index *x, uint64_t key)
{
    size_t mask = x->cap - 1, h = (size_t)(key ^ (key >> 29)) & mask;
    while (x->slots[h].used && x->slots[h].key != key)
        h = (h + 1) & mask;
    return &x->slots[h];
}

static rp_status index_grow(shingle_index *x)
{
    shingle_index y = {.cap = x->cap ? x->cap * 2 : 1024, .n = x->n};
    if (!(y.slots = rp_calloc(y.cap, sizeof *y.slots)))
        return RP_ERR_NOMEM;
    for (size_t i = 0; i < x->cap; i++)
        if (x->slots[i].used)
            *index_slot(&y, x->slots[i].key) = x->slots[i];
    free(x->slots);
    *x = y;
    return RP_OK;
}

// Files paragraph id under each of its shingles. A shingle already in more
// paragraphs than the cap ("out of the") stops collecting: it would only
// make every paragraph a candidate for every other.
static rp_status index_add(shingle_index *x, const para *p, size_t id)
{
    for (size_t i = 0; i < p->n_set; i++) {
        if (2 * (x->n + 1) > x->cap && index_grow(x))
            return RP_ERR_NOMEM;
        posting *po = index_slot(x, p->set[i]);
        if (!po->used) {
            *po = (posting){.key = p->set[i], .used = 1};
            x->n++;
        }
        if (po->n > RP_CHECK_MAX_POSTINGS)
            continue;
        if (rp_grow((void **)&po->ids, &po->cap, po->n + 1, sizeof *po->ids))
            return RP_ERR_NOMEM;
        po->ids[po->n++] = id;
    }
    return RP_OK;
}

// Share of P's words that lie in a shingle Q also has.
static double coverage(const para *p, const para *q, unsigned char *mark)
{
    memset(mark, 0, p->n_words);
    for (size_t i = 0; i + K <= p->n_words; i++)
        if (bsearch(&p->sh[i], q->set, q->n_set, sizeof *q->set, cmp_u64))
            memset(mark + i, 1, K);
    size_t n = 0;
    for (size_t i = 0; i < p->n_words; i++)
        n += mark[i];
    return (double)n / (double)p->n_words;
}

typedef struct {
    para *v;
    size_t n;
    shingle_index index;
    size_t *shared;   // per earlier paragraph: shingles shared with the current one
    size_t *touched;  // the paragraphs with shared > 0
    unsigned char *mark;
} repeat_ctx;

// The earlier paragraph that the paragraph i repeats most, if any.
static void best_repeat(repeat_ctx *R, size_t i, double min_share, rp_check_repeat *best)
{
    const para *p = &R->v[i];
    size_t n_touched = 0;
    for (size_t k = 0; k < p->n_set; k++) {
        if (!R->index.cap)
            break;
        const posting *po = index_slot(&R->index, p->set[k]);
        if (!po->used || po->n > RP_CHECK_MAX_POSTINGS)
            continue;
        for (size_t t = 0; t < po->n; t++)
            if (!R->shared[po->ids[t]]++)
                R->touched[n_touched++] = po->ids[t];
    }
    best->share = 0;
    for (size_t t = 0; t < n_touched; t++) {
        size_t j = R->touched[t];
        const para *q = &R->v[j];
        size_t fewer = p->n_set < q->n_set ? p->n_set : q->n_set;
        // Each shared shingle covers up to K words: a cheap bound first.
        if ((double)(R->shared[j] * K) >= min_share * (double)fewer) {
            double mine = coverage(p, q, R->mark), theirs = coverage(q, p, R->mark);
            double share = mine >= theirs ? mine : theirs;
            if (share > best->share)
                *best = (rp_check_repeat){p->line, p->col, q->line, q->col, share, theirs > mine};
        }
        R->shared[j] = 0;
    }
}

static rp_status find_repeats(repeat_ctx *R, const rp_check_config *cfg, rp_check_report *out)
{
    size_t cap = 0, max_words = 0;
    for (size_t i = 0; i < R->n; i++)
        max_words = R->v[i].n_words > max_words ? R->v[i].n_words : max_words;
    R->shared = rp_calloc(R->n + 1, sizeof *R->shared);
    R->touched = rp_calloc(R->n + 1, sizeof *R->touched);
    R->mark = rp_calloc(max_words + 1, 1);
    if (!R->shared || !R->touched || !R->mark)
        return RP_ERR_NOMEM;
    for (size_t i = 0; i < R->n; i++) {
        rp_check_repeat best;
        best_repeat(R, i, cfg->repeat_share, &best);
        if (best.share >= cfg->repeat_share) {
            if (rp_grow((void **)&out->repeats, &cap, out->n_repeats + 1, sizeof *out->repeats))
                return RP_ERR_NOMEM;
            out->repeats[out->n_repeats++] = best;
        }
        if (index_add(&R->index, &R->v[i], i))
            return RP_ERR_NOMEM;
    }
    return RP_OK;
}

// A short paragraph, identified by the hash of all its words.
typedef struct {
    uint64_t hash;
    size_t order;
    int line, col;
} short_para;

static int cmp_short(const void *a, const void *b)
{
    const short_para *x = a, *y = b;
    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int cmp_repeat(const void *a, const void *b)
{
    const rp_check_repeat *x = a, *y = b;
    return x->line != y->line ? (x->line < y->line ? -1 : 1) : (x->col > y->col) - (x->col < y->col);
}

// Sorting by hash brings every short paragraph next to its exact repeats.
static rp_status find_exact(short_para *v, size_t n, rp_check_report *out)
{
    size_t cap = out->n_repeats;  // at most what find_repeats allocated: rp_grow reallocates
    if (n)
        qsort(v, n, sizeof *v, cmp_short);
    for (size_t i = 1, first = 0; i < n; i++) {
        if (v[i].hash != v[first].hash) {
            first = i;
            continue;
        }
        if (rp_grow((void **)&out->repeats, &cap, out->n_repeats + 1, sizeof *out->repeats))
            return RP_ERR_NOMEM;
        out->repeats[out->n_repeats++] =
            (rp_check_repeat){v[i].line, v[i].col, v[first].line, v[first].col, 1.0, 0};
    }
    if (out->n_repeats)
        qsort(out->repeats, out->n_repeats, sizeof *out->repeats, cmp_repeat);
    return RP_OK;
}

static rp_status add_short(short_para **v, size_t *n, size_t *cap, const rp_block *b,
                           const uint64_t *w, size_t n_words)
{
    if (rp_grow((void **)v, cap, *n + 1, sizeof **v))
        return RP_ERR_NOMEM;
    (*v)[*n] = (short_para){rp_hash64(w, n_words * sizeof *w, RP_HASH_INIT), *n, b->line, b->col};
    (*n)++;
    return RP_OK;
}

static int has_quote(const rp_block *b)
{
    for (size_t k = 0; k < b->n_runs; k++)
        if (b->runs[k].kind == RP_RUN_QUOTE)
            return 1;
    return 0;
}

static rp_status check_repeats(const rp_script *s, const rp_check_config *cfg,
                               rp_check_report *out)
{
    repeat_ctx R = {0};
    uint64_t *words = NULL;
    short_para *shorts = NULL;
    size_t n_words, cap_words = 0, cap = 0, n_shorts = 0, cap_shorts = 0;
    size_t min_words = cfg->min_repeat_words > K ? cfg->min_repeat_words : K;
    size_t min_exact = cfg->min_exact_words > 1 ? cfg->min_exact_words : 1;
    rp_status st = RP_OK;
    for (size_t i = 0; !st && i < s->n_blocks; i++) {
        const rp_block *b = &s->blocks[i];
        if (b->kind != RP_BLOCK_PARAGRAPH)
            continue;
        st = paragraph_words(b, &words, &n_words, &cap_words);
        if (st || n_words < min_exact)
            continue;
        if (n_words < min_words) {
            if (!has_quote(b))
                st = add_short(&shorts, &n_shorts, &cap_shorts, b, words, n_words);
        } else if (!(st = rp_grow((void **)&R.v, &cap, R.n + 1, sizeof *R.v))) {
            st = make_para(&R.v[R.n++], b, words, n_words);
        }
    }
    free(words);
    if (!st)
        st = find_repeats(&R, cfg, out);
    if (!st)
        st = find_exact(shorts, n_shorts, out);
    free(shorts);
    for (size_t i = 0; i < R.n; i++) {
        free(R.v[i].sh);
        free(R.v[i].set);
    }
    for (size_t i = 0; i < R.index.cap; i++)
        free(R.index.slots[i].ids);
    free(R.index.slots);
    free(R.v);
    free(R.shared);
    free(R.touched);
    free(R.mark);
    return st;
}

// ---- the cast sheet ----------------------------------------------------------

rp_status rp_check_cast(const rp_cast *c, const rp_script *s, rp_diags *d)
{
    const char **speakers = calloc(s->n_chars ? s->n_chars : 1, sizeof *speakers);
    if (!speakers)
        return RP_ERR_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < s->n_chars; i++)
        if (s->chars[i].n_quotes > 0)
            speakers[n++] = s->chars[i].name;
    for (size_t i = 0; i < c->n_voices; i++) {
        const rp_voice *v = &c->voices[i];
        size_t k = 0;
        while (k < n && rp_strcasecmp(speakers[k], v->name))
            k++;
        if (v->automatic || k < n)
            continue;
        const char *like = rp_suggest(v->name, speakers, n);
        char hint[RP_MAX_NAME_BYTES + 32];
        snprintf(hint, sizeof hint, "did you mean '%s'?", like ? like : "");
        rp_diag_add(d, RP_DIAG_WARNING, c->file, v->line, 1, "check", like ? hint : NULL,
                    "[voice %s]: no one in the chapter speaks as %s", v->name, v->name);
    }
    free(speakers);
    return RP_OK;
}

// ---- the report --------------------------------------------------------------

rp_status rp_check_chapter(const rp_script *s, const char *text, size_t len, const rp_cast *c,
                           const rp_check_config *cfg, rp_check_report *out)
{
    memset(out, 0, sizeof *out);
    rp_status st = check_quotes(s, cfg->min_confidence, out);
    if (!st)
        st = check_names(s, text, len, c, out);
    if (!st)
        st = check_repeats(s, cfg, out);
    return st;
}

void rp_check_report_deinit(rp_check_report *r)
{
    if (!r)
        return;
    free(r->quotes);
    for (size_t i = 0; i < r->n_names; i++)
        free(r->names[i].word);
    free(r->names);
    free(r->repeats);
    memset(r, 0, sizeof *r);
}
