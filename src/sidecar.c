// SPDX-License-Identifier: GPL-3.0-or-later
// Subtitles, Audacity labels and chapter marks from the placed timeline.
// Times are whole milliseconds rounded from frames, as `cues` prints them.
// A long utterance becomes several subtitle cues: its words are packed
// greedily into lines of RP_SUBS_LINE_CHARS characters, two lines to a cue,
// and each cue starts where espeak-ng said its first word starts.
#include "rp_sidecar.h"

#include <string.h>

#include "rp_config.h"
#include "rp_io.h"

int rp_subs_format_from_path(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot && !rp_strcasecmp(dot, ".srt"))
        return RP_SUBS_SRT;
    if (dot && !rp_strcasecmp(dot, ".vtt"))
        return RP_SUBS_VTT;
    return -1;
}

static int64_t frame_ms(int64_t frame, int rate_hz)
{
    return (frame * 1000 + rate_hz / 2) / rate_hz;
}

static void put_time(rp_strbuf *out, int64_t ms, char frac_sep)
{
    rp_strbuf_printf(out, "%02lld:%02lld:%02lld%c%03lld", (long long)(ms / 3600000),
                     (long long)(ms / 60000 % 60), (long long)(ms / 1000 % 60), frac_sep,
                     (long long)(ms % 1000));
}

// Where the code point at cp starts to be heard, in clip frames: the first
// word mark at or after it, or a share of the clip by characters.
static int64_t frame_of(const rp_clip *c, int32_t cp, int32_t total_cp, int64_t len)
{
    for (size_t w = 0; w < c->n_words; w++)
        if (c->words[w].char_pos >= cp)
            return c->words[w].frame < len ? c->words[w].frame : len;
    return total_cp > 0 ? len * cp / total_cp : 0;
}

// Text without line breaks or the characters a subtitle file would take for
// its own syntax ("-->" in a cue, "<" starting a WebVTT tag).
static void put_text(rp_strbuf *out, const char *s, size_t n, rp_subs_format f)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '-' && i + 2 < n && s[i + 1] == '-' && s[i + 2] == '>') {
            rp_strbuf_puts(out, "\xe2\x80\x94");  // an em dash instead
            i += 2;
        } else if (f == RP_SUBS_VTT && c == '<') {
            rp_strbuf_puts(out, "&lt;");
        } else if (f == RP_SUBS_VTT && c == '&') {
            rp_strbuf_puts(out, "&amp;");
        } else {
            rp_strbuf_printf(out, "%c", c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
        }
    }
}

// The end (byte offset) of the next line of at most RP_SUBS_LINE_CHARS
// characters from byte `from` (a single longer word is a line of its own).
static size_t line_end(const char *s, size_t n, size_t from)
{
    size_t end = from, chars = 0, i = from;
    while (i < n) {
        size_t w = i;
        while (w < n && s[w] != ' ')
            w++;
        size_t wc = rp_utf8_count(s + i, w - i);
        if (end > from && chars + 1 + wc > RP_SUBS_LINE_CHARS)
            break;
        chars += (end > from ? 1 : 0) + wc;
        end = w;
        i = w;
        while (i < n && s[i] == ' ')
            i++;
    }
    return end;
}

static size_t skip_spaces(const char *s, size_t n, size_t i)
{
    while (i < n && s[i] == ' ')
        i++;
    return i;
}

static void subs_utterance(rp_strbuf *out, const rp_event *e, const rp_utterance *u, int rate_hz,
                           rp_subs_format f, int *number)
{
    const char *s = u->text;
    size_t n = strlen(s);
    int32_t total_cp = (int32_t)rp_utf8_count(s, n);
    int64_t len = e->end - e->start;
    size_t from = skip_spaces(s, n, 0);
    int first = 1;
    while (from < n) {
        size_t l1 = line_end(s, n, from), l2s = skip_spaces(s, n, l1);
        size_t l2 = l2s < n ? line_end(s, n, l2s) : l1;
        size_t next = skip_spaces(s, n, l2);
        int32_t cp0 = (int32_t)rp_utf8_count(s, from), cp1 = (int32_t)rp_utf8_count(s, next);
        int64_t a = e->start + (first ? 0 : frame_of(&u->clip, cp0, total_cp, len));
        int64_t b = next < n ? e->start + frame_of(&u->clip, cp1, total_cp, len) : e->end;
        if (f == RP_SUBS_SRT)
            rp_strbuf_printf(out, "%d\n", ++*number);
        put_time(out, frame_ms(a, rate_hz), f == RP_SUBS_SRT ? ',' : '.');
        rp_strbuf_puts(out, " --> ");
        put_time(out, frame_ms(b, rate_hz), f == RP_SUBS_SRT ? ',' : '.');
        rp_strbuf_puts(out, "\n");
        if (f == RP_SUBS_VTT) {
            rp_strbuf_puts(out, "<v ");
            put_text(out, u->speaker, strlen(u->speaker), f);
            rp_strbuf_puts(out, ">");
        } else if (first) {
            put_text(out, u->speaker, strlen(u->speaker), f);
            rp_strbuf_puts(out, ": ");
        }
        put_text(out, s + from, l1 - from, f);
        if (l2 > l1) {
            rp_strbuf_puts(out, "\n");
            put_text(out, s + l2s, l2 - l2s, f);
        }
        rp_strbuf_puts(out, "\n\n");
        first = 0;
        from = next;
    }
}

void rp_subs_build(const rp_timeline *t, const rp_plan *p, rp_subs_format f, rp_strbuf *out)
{
    int number = 0;
    if (f == RP_SUBS_VTT)
        rp_strbuf_puts(out, "WEBVTT\n\n");
    for (size_t i = 0; i < t->n; i++)
        if (t->ev[i].kind == RP_EV_SPEECH)
            subs_utterance(out, &t->ev[i], &p->utts[t->ev[i].utt], t->rate_hz, f, &number);
}

static rp_status write_buf(const char *path, rp_strbuf *b, rp_diags *d)
{
    rp_status st = b->failed ? RP_ERR_NOMEM : rp_write_file_atomic(path, b->s ? b->s : "", b->len, d);
    rp_strbuf_deinit(b);
    return st;
}

rp_status rp_subs_write(const rp_timeline *t, const rp_plan *p, const char *path, rp_diags *d)
{
    int f = rp_subs_format_from_path(path);
    if (f < 0) {
        rp_diag_add(d, RP_DIAG_ERROR, path, 0, 0, "subtitles", "name it .srt or .vtt",
                    "unknown subtitle format");
        return RP_ERR_USAGE;
    }
    rp_strbuf b;
    rp_strbuf_init(&b);
    rp_subs_build(t, p, (rp_subs_format)f, &b);
    return write_buf(path, &b, d);
}

// A label's text: tabs and line breaks would end its field or row.
static void label_text(rp_strbuf *out, const char *s)
{
    for (; *s; s++)
        rp_strbuf_printf(out, "%c", *s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s);
}

static int is_heading(const rp_script *s, const rp_utterance *u)
{
    return u->block < s->n_blocks && s->blocks[u->block].kind == RP_BLOCK_HEADING;
}

size_t rp_marks_collect(const rp_timeline *t, const rp_plan *p, const rp_script *s, rp_mark *out,
                        size_t cap)
{
    size_t n = 0;
    size_t last_block = (size_t)-1;
    for (size_t i = 0; i < t->n; i++) {
        const rp_event *e = &t->ev[i];
        if (e->kind != RP_EV_SPEECH)
            continue;
        const rp_utterance *u = &p->utts[e->utt];
        // A heading spoken in several utterances is one mark.
        if (!is_heading(s, u) || u->block == last_block)
            continue;
        last_block = u->block;
        if (n < cap)
            out[n] = (rp_mark){e->start, u->text};
        n++;
    }
    return n;
}

void rp_labels_build(const rp_timeline *t, const rp_plan *p, const rp_script *s, rp_strbuf *out)
{
    size_t last_block = (size_t)-1;
    for (size_t i = 0; i < t->n; i++) {
        const rp_event *e = &t->ev[i];
        double a = (double)frame_ms(e->start, t->rate_hz) / 1000.0;
        double b = (double)frame_ms(e->end, t->rate_hz) / 1000.0;
        if (e->kind == RP_EV_SPEECH) {
            const rp_utterance *u = &p->utts[e->utt];
            if (is_heading(s, u) && u->block != last_block) {
                rp_strbuf_printf(out, "%.3f\t%.3f\tchapter: ", a, a);
                label_text(out, u->text);
                rp_strbuf_puts(out, "\n");
                last_block = u->block;
            }
            rp_strbuf_printf(out, "%.3f\t%.3f\t", a, b);
            label_text(out, u->speaker);
            rp_strbuf_puts(out, ": ");
            label_text(out, u->text);
        } else {
            static const char *const kinds[] = {"speech", "sfx", "bed", "pause"};
            rp_strbuf_printf(out, "%.3f\t%.3f\t%s: ", a, b, kinds[e->kind]);
            label_text(out, e->name ? e->name : "-");
        }
        rp_strbuf_puts(out, "\n");
    }
}

rp_status rp_labels_write(const rp_timeline *t, const rp_plan *p, const rp_script *s,
                          const char *path, rp_diags *d)
{
    rp_strbuf b;
    rp_strbuf_init(&b);
    rp_labels_build(t, p, s, &b);
    return write_buf(path, &b, d);
}
