// SPDX-License-Identifier: GPL-3.0-or-later
// The timeline drawn as SVG: lanes of labelled blocks under a waveform, for a
// person to see at a glance who speaks when and what sounds under them. The
// document is built in memory from the placed timeline and written through
// io.c's atomic writer. Lane colours come from a hash of the lane's kind and
// name, so a speaker or an effect keeps its colour in every chapter.
#include "rp_svg.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_io.h"

// Geometry, in px.
enum {
    LABEL_W = 170, // the lane names left of the plot; time 0 is here
    RIGHT_W = 24,
    HEAD_H = 56, // title and subtitle
    WAVE_H = 96,
    AXIS_H = 24,
    LANE_H = 30,
    BLOCK_PAD = 3, // between a lane's edge and its blocks
    FOOT_H = 16,
    LABEL_EVERY_PX = 1600 // lane names repeat along long lanes
};
#define CHAR_W 6.4 // average width of a character at font-size 11, for trimming labels
#define MIN_LABEL_CPS 2
#define LABEL_CPS 19 // a lane's name in the left column

typedef struct {
    rp_event_kind kind;
    const char *name;
    int narration;
    char color[8]; // "#rrggbb"
} lane;

typedef struct {
    lane *v;
    size_t n, cap;
} lanes;

// ---- scale -------------------------------------------------------------------

static void scale(int64_t n_frames, int rate_hz, double *px_per_s, size_t *width)
{
    double dur = n_frames > 0 && rate_hz > 0 ? (double)n_frames / rate_hz : 0;
    double w = dur * RP_SVG_PX_PER_S;
    *px_per_s = RP_SVG_PX_PER_S;
    if (w <= RP_SVG_MIN_PLOT_PX) {
        if (dur > 0)
            *px_per_s = RP_SVG_MIN_PLOT_PX / dur;
        *width = RP_SVG_MIN_PLOT_PX;
    } else if (w >= RP_SVG_MAX_PLOT_PX) {
        *px_per_s = RP_SVG_MAX_PLOT_PX / dur;
        *width = RP_SVG_MAX_PLOT_PX;
    } else {
        *width = (size_t)ceil(w);
    }
}

size_t rp_svg_columns(int64_t n_frames, int rate_hz)
{
    double pps;
    size_t w;
    scale(n_frames, rate_hz, &pps, &w);
    return w;
}

void rp_svg_peaks_add(float *peaks, size_t n_peaks, int64_t n_frames, int64_t at,
                      const float *frames, size_t n, int channels)
{
    if (!peaks || !n_peaks || n_frames <= 0 || channels < 1)
        return;
    size_t i = 0;
    if (at < 0)
        i = (size_t)-at < n ? (size_t)-at : n;
    while (i < n) {
        int64_t f = at + (int64_t)i;
        if (f >= n_frames)
            break;
        // Column col holds frames [ceil(col * n_frames / n_peaks), ceil((col + 1) * ...)).
        size_t col = (size_t)((double)f * (double)n_peaks / (double)n_frames);
        if (col >= n_peaks)
            col = n_peaks - 1;
        int64_t next = (int64_t)ceil((double)(col + 1) * (double)n_frames / (double)n_peaks);
        if (next <= f)
            next = f + 1;
        size_t stop = (uint64_t)(next - f) < n - i ? i + (size_t)(next - f) : n;
        float m = peaks[col];
        for (; i < stop; i++)
            for (int c = 0; c < channels; c++) {
                float a = fabsf(frames[i * (size_t)channels + (size_t)c]);
                m = a > m ? a : m;
            }
        peaks[col] = m;
    }
}

// ---- text --------------------------------------------------------------------

static void put_cp(rp_strbuf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12)), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18)), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    }
    rp_strbuf_append(b, u, n);
}

// Appends s escaped for XML text and attribute values alike, at most max_cps
// code points (a longer text is cut and ends in an ellipsis). Invalid UTF-8
// and the code points XML 1.0 forbids become U+FFFD; tabs and line breaks a
// space, since a label is one line.
static void put_text(rp_strbuf *b, const char *s, size_t max_cps)
{
    if (!s)
        s = "";
    size_t len = strlen(s);
    size_t keep = rp_utf8_count(s, len) > max_cps ? (max_cps ? max_cps - 1 : 0) : SIZE_MAX;
    size_t k = 0;
    for (size_t i = 0; i < len && k < keep; k++) {
        int n;
        uint32_t cp = rp_utf8_decode(s + i, len - i, &n);
        i += (size_t)n;
        switch (cp) {
        case '&':
            rp_strbuf_puts(b, "&amp;");
            continue;
        case '<':
            rp_strbuf_puts(b, "&lt;");
            continue;
        case '>':
            rp_strbuf_puts(b, "&gt;");
            continue;
        case '"':
            rp_strbuf_puts(b, "&quot;");
            continue;
        case '\'':
            rp_strbuf_puts(b, "&apos;");
            continue;
        case '\t':
        case '\n':
        case '\r':
            cp = ' ';
            break;
        default:
            break;
        }
        if (cp < 0x20 || cp == 0xFFFE || cp == 0xFFFF)
            cp = 0xFFFD;
        put_cp(b, cp);
    }
    if (keep != SIZE_MAX && max_cps)
        put_cp(b, 0x2026);
}

static void put_time(rp_strbuf *b, double s, int hours)
{
    long t = lround(s);
    if (hours)
        rp_strbuf_printf(b, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        rp_strbuf_printf(b, "%ld:%02ld", t / 60, t % 60);
}

// ---- lanes -------------------------------------------------------------------

static void hsl_hex(double h, double s, double l, char out[8])
{
    double c = (1 - fabs(2 * l - 1)) * s, hp = h / 60, x = c * (1 - fabs(fmod(hp, 2) - 1));
    double r = 0, g = 0, bl = 0;
    if (hp < 1)
        r = c, g = x;
    else if (hp < 2)
        r = x, g = c;
    else if (hp < 3)
        g = c, bl = x;
    else if (hp < 4)
        g = x, bl = c;
    else if (hp < 5)
        r = x, bl = c;
    else
        r = c, bl = x;
    double m = l - c / 2;
    snprintf(out, 8, "#%02x%02x%02x", (int)lround((r + m) * 255), (int)lround((g + m) * 255),
             (int)lround((bl + m) * 255));
}

static const char *kind_name(rp_event_kind k)
{
    return k == RP_EV_SPEECH ? "speech" : k == RP_EV_SFX ? "sfx" : k == RP_EV_BED ? "bed" : "pause";
}

static int lane_is(const lane *l, const rp_event *e, const rp_plan *p)
{
    if (l->kind != e->kind)
        return 0;
    if (e->kind == RP_EV_SPEECH && (l->narration || p->utts[e->utt].narration))
        return l->narration && p->utts[e->utt].narration;
    return !strcmp(l->name, e->name ? e->name : "-");
}

static long lane_find(const lanes *ls, const rp_event *e, const rp_plan *p)
{
    for (size_t i = 0; i < ls->n; i++)
        if (lane_is(&ls->v[i], e, p))
            return (long)i;
    return -1;
}

// The lanes in order: the narrator, the other speakers, effects, beds; each
// group in order of first appearance.
static rp_status collect_lanes(const rp_timeline *t, const rp_plan *p, lanes *ls)
{
    for (int group = 0; group < 4; group++) {
        for (size_t i = 0; i < t->n; i++) {
            const rp_event *e = &t->ev[i];
            int narration = e->kind == RP_EV_SPEECH && p->utts[e->utt].narration;
            int g = e->kind == RP_EV_SPEECH ? (narration ? 0 : 1)
                    : e->kind == RP_EV_SFX  ? 2
                    : e->kind == RP_EV_BED  ? 3
                                            : -1;
            if (g != group || lane_find(ls, e, p) >= 0)
                continue;
            if (rp_grow((void **)&ls->v, &ls->cap, ls->n + 1, sizeof *ls->v))
                return RP_ERR_NOMEM;
            lane *l = &ls->v[ls->n++];
            l->kind = e->kind;
            l->name = e->name ? e->name : "-";
            l->narration = narration;
            // Hue from the name; each kind its own saturation and lightness.
            uint64_t h = rp_hash64(l->name, strlen(l->name), RP_HASH_INIT);
            h = rp_hash64(kind_name(e->kind), strlen(kind_name(e->kind)), h);
            double hue = (double)(h % 360);
            if (narration)
                hsl_hex(210, 0.18, 0.68, l->color);
            else if (e->kind == RP_EV_SPEECH)
                hsl_hex(hue, 0.55, 0.66, l->color);
            else if (e->kind == RP_EV_SFX)
                hsl_hex(hue, 0.75, 0.58, l->color);
            else
                hsl_hex(hue, 0.40, 0.62, l->color);
        }
    }
    return RP_OK;
}

// ---- the document ------------------------------------------------------------

typedef struct {
    rp_strbuf *b;
    const rp_timeline *t;
    const rp_plan *p;
    double pps, x0;
    size_t width;  // plot width
    int64_t total; // frames
    double wave_y, axis_y, lanes_y, bottom;
} doc;

static double x_of(const doc *dc, int64_t frame)
{
    return dc->x0 + (double)frame / dc->t->rate_hz * dc->pps;
}

static void draw_wave(doc *dc, const float *peaks, size_t n_peaks)
{
    rp_strbuf *b = dc->b;
    double mid = dc->wave_y + WAVE_H / 2.0, half = WAVE_H / 2.0 - 4;
    rp_strbuf_printf(b,
                     "<g class=\"wave\">\n<rect x=\"%.2f\" y=\"%.2f\" width=\"%zu\" height=\"%d\" "
                     "fill=\"#f3f5f8\"/>\n<text class=\"lname\" x=\"12\" y=\"%.2f\">mix</text>\n"
                     "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#c8ced6\"/>\n",
                     dc->x0, dc->wave_y, dc->width, WAVE_H, mid + 4, dc->x0, mid,
                     dc->x0 + (double)dc->width, mid);
    float *v = rp_calloc(dc->width, sizeof *v);
    if (!v) {
        b->failed = 1;
        return;
    }
    for (size_t j = 0; j < dc->width; j++) {
        size_t a = (size_t)((uint64_t)j * n_peaks / dc->width);
        size_t e = (size_t)((uint64_t)(j + 1) * n_peaks / dc->width);
        if (e <= a)
            e = a + 1;
        float m = 0;
        for (size_t k = a; k < e && k < n_peaks; k++)
            m = peaks[k] > m ? peaks[k] : m; // NaN compares false: stays 0
        v[j] = m > 1 ? 1 : m;
    }
    rp_strbuf_puts(b, "<path class=\"env\" d=\"M");
    for (size_t j = 0; j < dc->width; j++)
        rp_strbuf_printf(b, "%s%.1f %.1f", j ? " L" : "", dc->x0 + (double)j + 0.5,
                         mid - v[j] * half);
    for (size_t j = dc->width; j-- > 0;)
        rp_strbuf_printf(b, " L%.1f %.1f", dc->x0 + (double)j + 0.5, mid + v[j] * half);
    rp_strbuf_puts(b, " Z\" fill=\"#3d5a80\"/>\n</g>\n");
    free(v);
}

static void draw_axis(doc *dc)
{
    static const double steps[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600};
    rp_strbuf *b = dc->b;
    double dur = (double)dc->total / dc->t->rate_hz, step = steps[0];
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        step = steps[i];
        if (step * dc->pps >= 72)
            break;
    }
    int hours = dur >= 3600;
    rp_strbuf_puts(b, "<g class=\"axis\">\n");
    for (long k = 0; k * step <= dur + 1e-9; k++) {
        double x = dc->x0 + k * step * dc->pps;
        rp_strbuf_printf(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>", x,
                         dc->axis_y + AXIS_H - 6, x, dc->bottom);
        rp_strbuf_printf(b, "<text x=\"%.2f\" y=\"%.2f\"%s>", x, dc->axis_y + AXIS_H - 9,
                         k ? " text-anchor=\"middle\"" : "");
        put_time(b, k * step, hours);
        rp_strbuf_puts(b, "</text>\n");
    }
    rp_strbuf_puts(b, "</g>\n");
}

// A lane's name ("Kirk", "sfx thunder"), trimmed to fit the left column.
static void lane_name(rp_strbuf *b, const lane *l, const char *cls, double x, double y)
{
    rp_strbuf_printf(b, "<text class=\"%s\" x=\"%.2f\" y=\"%.2f\">", cls, x, y);
    size_t cps = LABEL_CPS;
    if (l->kind != RP_EV_SPEECH) {
        rp_strbuf_printf(b, "%s ", kind_name(l->kind));
        cps -= strlen(kind_name(l->kind)) + 1;
    }
    put_text(b, l->name, cps);
    rp_strbuf_puts(b, "</text>");
}

static void draw_lanes(doc *dc, const lanes *ls)
{
    rp_strbuf *b = dc->b;
    double full = dc->x0 + (double)dc->width + RIGHT_W;
    rp_strbuf_puts(b, "<g class=\"lanes\">\n");
    for (size_t i = 0; i < ls->n; i++) {
        const lane *l = &ls->v[i];
        double y = dc->lanes_y + (double)i * LANE_H;
        rp_strbuf_printf(b, "<g class=\"lane\" data-lane=\"%zu\" data-kind=\"%s\" data-name=\"", i,
                         kind_name(l->kind));
        put_text(b, l->name, SIZE_MAX);
        rp_strbuf_printf(b,
                         "\" data-y=\"%.2f\" data-h=\"%d\"><rect x=\"0\" y=\"%.2f\" "
                         "width=\"%.2f\" height=\"%d\" fill=\"%s\"/>",
                         y, LANE_H, y, full, LANE_H, i % 2 ? "#ffffff" : "#f6f7f9");
        // The swatch and name at the left, then repeated along the lane.
        rp_strbuf_printf(b, "<rect x=\"8\" y=\"%.2f\" width=\"10\" height=\"10\" fill=\"%s\"/>",
                         y + LANE_H / 2.0 - 5, l->color);
        double ty = y + LANE_H / 2.0 + 4, end = dc->x0 + (double)dc->width - LABEL_EVERY_PX / 4.0;
        lane_name(b, l, "lname", 24, ty);
        for (double x = dc->x0 + LABEL_EVERY_PX; x < end; x += LABEL_EVERY_PX)
            lane_name(b, l, "lrep", x, ty);
        rp_strbuf_puts(b, "</g>\n");
    }
    rp_strbuf_puts(b, "</g>\n");
}

static void draw_pauses(doc *dc)
{
    rp_strbuf *b = dc->b;
    const rp_timeline *t = dc->t;
    rp_strbuf_puts(b, "<g class=\"pauses\">\n");
    for (size_t i = 0; i < t->n; i++) {
        const rp_event *e = &t->ev[i];
        if (e->kind != RP_EV_PAUSE)
            continue;
        double x = x_of(dc, e->start), w = x_of(dc, e->end) - x;
        rp_strbuf_printf(b,
                         "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\">"
                         "<title>pause %.3f s (line %d)</title></rect>\n",
                         x, dc->axis_y + AXIS_H, w, dc->bottom - dc->axis_y - AXIS_H,
                         (double)(e->end - e->start) / t->rate_hz, e->line);
    }
    rp_strbuf_puts(b, "</g>\n");
}

static void draw_block(doc *dc, size_t i, size_t li, const lane *l)
{
    rp_strbuf *b = dc->b;
    const rp_timeline *t = dc->t;
    const rp_event *e = &t->ev[i];
    int64_t end = e->end < dc->total ? e->end : dc->total;
    if (end < e->start)
        end = e->start;
    double s0 = (double)e->start / t->rate_hz, s1 = (double)end / t->rate_hz;
    double x = x_of(dc, e->start), w = x_of(dc, end) - x;
    double y = dc->lanes_y + (double)li * LANE_H + BLOCK_PAD, h = LANE_H - 2 * BLOCK_PAD;
    const char *kind = kind_name(e->kind);
    rp_strbuf_printf(b,
                     "<g class=\"ev %s\" data-ev=\"%zu\" data-lane=\"%zu\" data-kind=\"%s\" "
                     "data-who=\"",
                     kind, i, li, kind);
    put_text(b, l->name, SIZE_MAX);
    rp_strbuf_printf(b, "\" data-start=\"%.3f\" data-dur=\"%.3f\" data-line=\"%d\"><title>", s0,
                     s1 - s0, e->line);
    // The tooltip: who or what, when, where in the chapter, and the words.
    if (e->kind != RP_EV_SPEECH)
        rp_strbuf_printf(b, "%s ", kind);
    put_text(b, l->name, SIZE_MAX);
    rp_strbuf_printf(b, ", %.3f\xe2\x80\x93%.3f s, line %d", s0, s1, e->line);
    if (e->kind != RP_EV_SPEECH && e->gain > 0)
        rp_strbuf_printf(b, ", %.1f dB, pan %.2f", 20 * log10(e->gain), e->pan);
    if (e->kind == RP_EV_BED)
        rp_strbuf_printf(b, ", fade in %.2f s, out %.2f s", (double)e->fade_in / t->rate_hz,
                         (double)e->fade_out / t->rate_hz);
    if (e->kind == RP_EV_SPEECH) {
        rp_strbuf_puts(b, ": ");
        put_text(b, dc->p->utts[e->utt].text, SIZE_MAX);
    }
    rp_strbuf_printf(b,
                     "</title><rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                     "fill=\"%s\"/>",
                     x, y, w, h, l->color);
    if (e->kind == RP_EV_BED) {
        // The bed's level: up over its fade-in, down over its fade-out.
        double fi = (double)e->fade_in / t->rate_hz * dc->pps;
        double fo = (double)e->fade_out / t->rate_hz * dc->pps;
        if (fi + fo > w)
            fi = fo = w / 2;
        rp_strbuf_printf(b,
                         "<polygon class=\"fade\" points=\"%.2f,%.2f %.2f,%.2f %.2f,%.2f "
                         "%.2f,%.2f\" fill=\"%s\"/>",
                         x, y + h, x + fi, y + 4, x + w - fo, y + 4, x + w, y + h, l->color);
    }
    size_t cps = w > 6 ? (size_t)((w - 6) / CHAR_W) : 0;
    if (cps >= MIN_LABEL_CPS) {
        // A nested viewport clips the label to its block.
        rp_strbuf_printf(b,
                         "<svg x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\">"
                         "<text x=\"4\" y=\"%.2f\">",
                         x, y, w, h, h / 2 + 4);
        put_text(b, e->kind == RP_EV_SPEECH ? dc->p->utts[e->utt].text : e->name, cps);
        rp_strbuf_puts(b, "</text></svg>");
    }
    rp_strbuf_puts(b, "</g>\n");
}

static const char style[] = "<style>\n"
                            "text { fill: #1d2433; }\n"
                            ".title { font-size: 17px; font-weight: bold; }\n"
                            ".sub { fill: #5b6475; }\n"
                            ".lname { font-weight: bold; }\n"
                            ".lrep { fill: #8a93a3; }\n"
                            ".axis line { stroke: #dde1e7; }\n"
                            ".axis text { fill: #5b6475; }\n"
                            ".pauses rect { fill: #9aa3b2; fill-opacity: 0.12; }\n"
                            ".ev rect { stroke: #1d2433; stroke-opacity: 0.25; }\n"
                            ".sfx rect { fill-opacity: 0.85; }\n"
                            ".bed rect { fill-opacity: 0.35; }\n"
                            ".fade { fill-opacity: 0.7; }\n"
                            ".ev:hover rect { stroke-opacity: 1; }\n"
                            "</style>\n";

rp_status rp_svg_build(const rp_timeline *t, const rp_plan *p, const char *title,
                       const char *subtitle, const float *peaks, size_t n_peaks, rp_strbuf *out)
{
    assert(t->rate_hz > 0);
    lanes ls = {0};
    if (collect_lanes(t, p, &ls)) {
        free(ls.v);
        return RP_ERR_NOMEM;
    }
    doc dc = {.b = out, .t = t, .p = p, .x0 = LABEL_W, .total = t->n_frames};
    if (dc.total == INT64_MAX) { // not complete: as far as the events reach
        dc.total = 0;
        for (size_t i = 0; i < t->n; i++) {
            int64_t e = t->ev[i].end != INT64_MAX ? t->ev[i].end : t->ev[i].start;
            dc.total = e > dc.total ? e : dc.total;
        }
    }
    scale(dc.total, t->rate_hz, &dc.pps, &dc.width);
    dc.wave_y = HEAD_H;
    dc.axis_y = dc.wave_y + (peaks && n_peaks ? WAVE_H : 0);
    dc.lanes_y = dc.axis_y + AXIS_H;
    dc.bottom = dc.lanes_y + (double)ls.n * LANE_H;
    double width = dc.x0 + (double)dc.width + RIGHT_W, height = dc.bottom + FOOT_H;

    rp_strbuf_printf(out,
                     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
                     "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" "
                     "font-size=\"11\" data-x0=\"%.2f\" data-px-per-s=\"%.6f\" "
                     "data-rate=\"%d\" data-duration=\"%.3f\">\n",
                     width, height, width, height, dc.x0, dc.pps, t->rate_hz,
                     (double)dc.total / t->rate_hz);
    rp_strbuf_puts(out, "<title>");
    put_text(out, title ? title : "radioplay timeline", SIZE_MAX);
    rp_strbuf_puts(out, "</title>\n");
    rp_strbuf_puts(out, style);
    rp_strbuf_printf(out, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n", width,
                     height);
    rp_strbuf_puts(out, "<text class=\"title\" x=\"12\" y=\"24\">");
    put_text(out, title ? title : "", SIZE_MAX);
    rp_strbuf_puts(out, "</text>\n<text class=\"sub\" x=\"12\" y=\"44\">");
    put_text(out, subtitle ? subtitle : "", SIZE_MAX);
    rp_strbuf_puts(out, "</text>\n");

    draw_lanes(&dc, &ls);
    draw_axis(&dc);
    draw_pauses(&dc);
    rp_strbuf_puts(out, "<g class=\"blocks\">\n");
    for (size_t i = 0; i < t->n; i++) {
        const rp_event *e = &t->ev[i];
        long li = e->kind == RP_EV_PAUSE ? -1 : lane_find(&ls, e, p);
        if (li >= 0)
            draw_block(&dc, i, (size_t)li, &ls.v[li]);
    }
    rp_strbuf_puts(out, "</g>\n");
    if (peaks && n_peaks)
        draw_wave(&dc, peaks, n_peaks);
    rp_strbuf_puts(out, "</svg>\n");
    free(ls.v);
    return out->failed ? RP_ERR_NOMEM : RP_OK;
}

// The first heading's words, else the chapter's file name.
static const char *drama_title(const rp_drama *dr)
{
    const rp_script *s = &dr->script;
    for (size_t i = 0; i < s->n_blocks; i++)
        if (s->blocks[i].kind == RP_BLOCK_HEADING)
            for (size_t k = 0; k < s->blocks[i].n_runs; k++)
                if (s->blocks[i].runs[k].text && s->blocks[i].runs[k].text[0])
                    return s->blocks[i].runs[k].text;
    if (!s->name)
        return "radioplay";
    const char *slash = strrchr(s->name, '/');
    return slash ? slash + 1 : s->name;
}

rp_status rp_svg_write(const rp_drama *dr, const float *peaks, size_t n_peaks, const char *path,
                       rp_diags *d)
{
    const rp_timeline *t = &dr->timeline;
    const char *name = dr->script.name ? dr->script.name : "";
    const char *slash = strrchr(name, '/');
    size_t speakers = 0;
    for (size_t i = 0; i < dr->script.n_chars; i++)
        speakers += dr->script.chars[i].n_quotes > 0;
    long tenths = t->n_frames != INT64_MAX ? lround((double)t->n_frames / t->rate_hz * 10) : 0;
    rp_strbuf sub, b;
    rp_strbuf_init(&sub);
    rp_strbuf_init(&b);
    size_t n_lines = dr->plan.n_utts, n_cues = dr->plan.n_cues;
    rp_strbuf_printf(&sub,
                     "%s \xc2\xb7 %ld:%02ld.%ld \xc2\xb7 %zu line%s \xc2\xb7 %zu cue%s \xc2\xb7 "
                     "%zu speaker%s \xc2\xb7 %d Hz",
                     slash ? slash + 1 : name, tenths / 600, tenths / 10 % 60, tenths % 10, n_lines,
                     n_lines == 1 ? "" : "s", n_cues, n_cues == 1 ? "" : "s", speakers,
                     speakers == 1 ? "" : "s", t->rate_hz);
    rp_status st = sub.failed
                       ? RP_ERR_NOMEM
                       : rp_svg_build(t, &dr->plan, drama_title(dr), sub.s, peaks, n_peaks, &b);
    if (st)
        rp_diag_add(d, RP_DIAG_ERROR, path, 0, 0, "timeline", NULL,
                    "out of memory drawing the timeline");
    else
        st = rp_write_file_atomic(path, b.s ? b.s : "", b.len, d);
    rp_strbuf_deinit(&sub);
    rp_strbuf_deinit(&b);
    return st;
}
