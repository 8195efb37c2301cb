// SPDX-License-Identifier: GPL-3.0-or-later
// Tests for the timeline picture (svg.c): the shared test chapter is loaded,
// voiced with real espeak-ng and mixed to collect the waveform, then drawn;
// the file must parse as XML (xmllint and/or python3), hold one block per
// utterance, effect and bed in the right lane, at the x and width its start
// and duration give (data-start and data-dur within 1 ms of the timeline),
// and carry text with & < > " ' in it intact. Hand-made timelines check
// invalid UTF-8 and control characters, label trimming, the scale of short
// and long dramas, and the waveform collector. An unwritable path is an
// error that leaves no file; a disk that fills mid-file (RLIMIT_FSIZE) is
// an error naming the file that leaves the old one; /dev/full is written
// into, not replaced; a symbolic link's file is replaced, not the link.
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rp_config.h"
#include "rp_io.h"
#include "rp_mix.h"
#include "rp_render.h"
#include "rp_svg.h"
#include "test.h"
#include "wav.h"

static const char *CHAPTER = "tests/data/wall.txt";

// ---- XML checks ----------------------------------------------------------------

static int have(const char *tool)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
    return system(cmd) == 0;
}

// 1 when every XML parser at hand accepts the file, 0 when one rejects it;
// -1 when there is none (the check is skipped with a note).
static int xml_well_formed(const char *path)
{
    int tried = 0, ok = 1;
    char cmd[2048], *out = NULL;
    if (have("xmllint")) {
        snprintf(cmd, sizeof cmd, "xmllint --noout '%s'", path);
        tried++;
        if (run(cmd, &out) != 0) {
            fprintf(stderr, "xmllint rejects %s:\n%s", path, out);
            ok = 0;
        }
        free(out);
    }
    if (have("python3")) {
        snprintf(cmd, sizeof cmd,
                 "python3 -c 'import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])' '%s'",
                 path);
        tried++;
        if (run(cmd, &out) != 0) {
            fprintf(stderr, "python3 rejects %s:\n%s", path, out);
            ok = 0;
        }
        free(out);
    }
    if (!tried)
        fprintf(stderr, "note: neither xmllint nor python3: XML not parsed\n");
    return tried ? ok : -1;
}

// Strict UTF-8: no overlongs, surrogates or code points past U+10FFFF.
static int utf8_valid(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        int n = *u < 0x80             ? 0
                : (*u & 0xE0) == 0xC0 ? 1
                : (*u & 0xF0) == 0xE0 ? 2
                : (*u & 0xF8) == 0xF0 ? 3
                                      : -1;
        if (n < 0)
            return 0;
        uint32_t cp = n == 0 ? *u : n == 1 ? (*u & 0x1Fu) : n == 2 ? (*u & 0x0Fu) : (*u & 0x07u);
        for (int i = 1; i <= n; i++) {
            if ((u[i] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (u[i] & 0x3Fu);
        }
        static const uint32_t min[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        u += n + 1;
    }
    return 1;
}

// ---- reading our own markup ---------------------------------------------------------

// The value of attribute name in the tag that starts at tag, unescaped; 0
// when the tag has none.
static int attr(const char *tag, const char *name, char *out, size_t cap)
{
    const char *end = strchr(tag, '>');
    char key[64];
    snprintf(key, sizeof key, " %s=\"", name);
    const char *a = strstr(tag, key);
    if (!a || !end || a > end)
        return 0;
    a += strlen(key);
    size_t n = 0;
    while (*a && *a != '"' && n + 1 < cap) {
        static const char *const ent[][2] = {
            {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}};
        size_t k = 0;
        for (; k < 5; k++)
            if (!strncmp(a, ent[k][0], strlen(ent[k][0])))
                break;
        if (k < 5) {
            out[n++] = ent[k][1][0];
            a += strlen(ent[k][0]);
        } else {
            out[n++] = *a++;
        }
    }
    out[n] = '\0';
    return 1;
}

static double attr_num(const char *tag, const char *name)
{
    char v[64];
    return attr(tag, name, v, sizeof v) ? atof(v) : NAN;
}

typedef struct {
    char kind[16], name[128];
    double y, h;
} lane;

typedef struct {
    long ev, lane, line;
    char kind[16], who[128];
    double start, dur, x, y, w, h;
} block;

typedef struct {
    double x0, pps, duration;
    lane lanes[64];
    int n_lanes;
    block *blocks;
    int n_blocks;
    int has_wave;
} picture;

static void picture_read(const char *svg, picture *pc)
{
    memset(pc, 0, sizeof *pc);
    const char *root = strstr(svg, "<svg ");
    if (!root)
        return;
    pc->x0 = attr_num(root, "data-x0");
    pc->pps = attr_num(root, "data-px-per-s");
    pc->duration = attr_num(root, "data-duration");
    for (const char *g = strstr(svg, "<g class=\"lane\""); g && pc->n_lanes < 64;
         g = strstr(g + 1, "<g class=\"lane\"")) {
        lane *l = &pc->lanes[pc->n_lanes++];
        attr(g, "data-kind", l->kind, sizeof l->kind);
        attr(g, "data-name", l->name, sizeof l->name);
        l->y = attr_num(g, "data-y");
        l->h = attr_num(g, "data-h");
        CHECK_INT(attr_num(g, "data-lane"), pc->n_lanes - 1);
    }
    int cap = 0;
    for (const char *g = strstr(svg, "<g class=\"ev "); g; g = strstr(g + 1, "<g class=\"ev ")) {
        if (pc->n_blocks == cap) {
            cap = cap ? 2 * cap : 64;
            pc->blocks = realloc(pc->blocks, (size_t)cap * sizeof *pc->blocks);
        }
        block *b = &pc->blocks[pc->n_blocks++];
        memset(b, 0, sizeof *b);
        b->ev = (long)attr_num(g, "data-ev");
        b->lane = (long)attr_num(g, "data-lane");
        b->line = (long)attr_num(g, "data-line");
        attr(g, "data-kind", b->kind, sizeof b->kind);
        attr(g, "data-who", b->who, sizeof b->who);
        b->start = attr_num(g, "data-start");
        b->dur = attr_num(g, "data-dur");
        const char *r = strstr(g, "<rect ");
        const char *close = strstr(g, "</g>");
        if (r && close && r < close) {
            b->x = attr_num(r, "x");
            b->y = attr_num(r, "y");
            b->w = attr_num(r, "width");
            b->h = attr_num(r, "height");
        }
    }
    pc->has_wave = strstr(svg, "<path class=\"env\"") != NULL;
}

// ---- the voiced test chapter ------------------------------------------------------

static rp_drama DR;
static int have_drama;
static float *PEAKS;
static size_t N_PEAKS;

static rp_status load_voiced(rp_drama *dr, const char *chapter)
{
    rp_diags d;
    rp_diags_init(&d);
    rp_drama_options o = {.chapter_path = chapter, .seed = -1};
    rp_status st = rp_drama_load(dr, &o, &d);
    if (!st)
        st = rp_drama_voice(dr, NULL, NULL, NULL, &d);
    if (!st)
        st = rp_drama_clips_load_all(dr, &d);
    char buf[1024];
    for (size_t i = 0; i < d.n; i++)
        fprintf(stderr, "%s\n", rp_diag_format(&d.items[i], buf, sizeof buf));
    rp_diags_deinit(&d);
    return st;
}

// The waveform as the renderer collects it: every mixed block folded in.
static void collect_peaks(const rp_drama *dr, float **peaks, size_t *n_peaks)
{
    const rp_timeline *t = &dr->timeline;
    int ch = dr->cast.render.channels;
    *n_peaks = rp_svg_columns(t->n_frames, t->rate_hz);
    *peaks = calloc(*n_peaks, sizeof **peaks);
    rp_status st = RP_OK;
    rp_mixer *m = rp_mixer_new(t, &dr->plan, &dr->cast.render, ch, &st);
    CHECK_INT(st, RP_OK);
    if (!m || !*peaks)
        return;
    float *buf = malloc((size_t)RP_BLOCK_FRAMES * (size_t)ch * sizeof *buf);
    int64_t pos = 0;
    size_t n;
    while ((n = rp_mixer_process(m, buf, RP_BLOCK_FRAMES)) > 0) {
        rp_svg_peaks_add(*peaks, *n_peaks, t->n_frames, pos, buf, n, ch);
        pos += (int64_t)n;
    }
    CHECK_INT(pos, t->n_frames);
    free(buf);
    rp_mixer_free(m);
}

static void setup(void)
{
    have_drama = load_voiced(&DR, CHAPTER) == RP_OK;
    CHECK(have_drama);
    if (have_drama)
        collect_peaks(&DR, &PEAKS, &N_PEAKS);
}

// ---- tests ---------------------------------------------------------------------------

static int lane_kind_rank(const char *kind)
{
    return !strcmp(kind, "speech") ? 0 : !strcmp(kind, "sfx") ? 1 : 2;
}

static int has_lane(const picture *pc, const char *kind, const char *name)
{
    for (int i = 0; i < pc->n_lanes; i++)
        if (!strcmp(pc->lanes[i].kind, kind) && !strcmp(pc->lanes[i].name, name))
            return 1;
    return 0;
}

static void test_svg_blocks_match_the_timeline(void)
{
    if (!have_drama)
        return;
    const char *out = tmp(0, "wall.svg");
    rp_diags d;
    rp_diags_init(&d);
    CHECK_INT(rp_svg_write(&DR, PEAKS, N_PEAKS, out, &d), RP_OK);
    CHECK_INT(d.n_errors, 0);
    rp_diags_deinit(&d);
    CHECK(xml_well_formed(out) != 0);
    char *svg = read_text(out);
    CHECK(svg != NULL);
    if (!svg)
        return;
    CHECK(utf8_valid(svg));
    picture pc;
    picture_read(svg, &pc);
    const rp_timeline *t = &DR.timeline;
    double rate = t->rate_hz;
    CHECK_NEAR(pc.x0, 170, 1e-9);
    double dur = t->n_frames / rate;
    // 20 px/s, or wider to fill the minimum plot for a short chapter.
    CHECK_NEAR(pc.pps,
               dur * RP_SVG_PX_PER_S < RP_SVG_MIN_PLOT_PX ? RP_SVG_MIN_PLOT_PX / dur
                                                          : RP_SVG_PX_PER_S,
               1e-6);
    CHECK_NEAR(pc.duration, t->n_frames / rate, 0.001);
    CHECK(pc.has_wave);

    // Lanes: the narrator first, then speakers, effects, beds; one per name.
    CHECK(pc.n_lanes >= 7);
    CHECK_STR(pc.lanes[0].kind, "speech");
    CHECK_STR(pc.lanes[0].name, "Narrator");
    for (int i = 1; i < pc.n_lanes; i++) {
        CHECK(lane_kind_rank(pc.lanes[i - 1].kind) <= lane_kind_rank(pc.lanes[i].kind));
        for (int k = 0; k < i; k++)
            CHECK(strcmp(pc.lanes[i].kind, pc.lanes[k].kind) ||
                  strcmp(pc.lanes[i].name, pc.lanes[k].name));
    }
    CHECK(has_lane(&pc, "speech", "Kirk"));
    CHECK(has_lane(&pc, "speech", "Mara"));
    CHECK(has_lane(&pc, "sfx", "thunder"));
    CHECK(has_lane(&pc, "sfx", "pod_impact"));
    CHECK(has_lane(&pc, "bed", "rain"));
    CHECK(has_lane(&pc, "bed", "wind"));

    // One block per utterance, effect and bed, in timeline order.
    size_t expect = 0, speech = 0, sfx = 0, beds = 0;
    for (size_t i = 0; i < t->n; i++)
        expect += t->ev[i].kind != RP_EV_PAUSE;
    CHECK_INT(pc.n_blocks, expect);
    int bi = 0;
    for (size_t i = 0; i < t->n && bi < pc.n_blocks; i++) {
        const rp_event *e = &t->ev[i];
        if (e->kind == RP_EV_PAUSE)
            continue;
        const block *b = &pc.blocks[bi++];
        CHECK_INT(b->ev, i);
        CHECK(b->lane >= 0 && b->lane < pc.n_lanes);
        if (b->lane < 0 || b->lane >= pc.n_lanes)
            continue;
        const lane *l = &pc.lanes[b->lane];
        static const char *const kinds[] = {"speech", "sfx", "bed", "pause"};
        CHECK_STR(b->kind, kinds[e->kind]);
        CHECK_STR(l->kind, kinds[e->kind]);
        if (e->kind == RP_EV_SPEECH && DR.plan.utts[e->utt].narration) {
            CHECK_INT(b->lane, 0);
        } else {
            CHECK_STR(l->name, e->name);
            CHECK_STR(b->who, e->name);
        }
        speech += e->kind == RP_EV_SPEECH;
        sfx += e->kind == RP_EV_SFX;
        beds += e->kind == RP_EV_BED;
        double s0 = e->start / rate, s1 = e->end / rate;
        CHECK_MSG(fabs(b->start - s0) <= 0.001, "event %zu: data-start %.3f, timeline %.6f", i,
                  b->start, s0);
        CHECK_MSG(fabs(b->dur - (s1 - s0)) <= 0.001, "event %zu: data-dur %.3f, timeline %.6f", i,
                  b->dur, s1 - s0);
        // x from the time, to the printed precision (0.01 px)...
        CHECK_NEAR(b->x, pc.x0 + s0 * pc.pps, 0.006);
        CHECK_NEAR(b->w, (s1 - s0) * pc.pps, 0.011);
        // ...and from data-start, to its millisecond.
        CHECK_NEAR(b->x, pc.x0 + b->start * pc.pps, 0.0005 * pc.pps + 0.006);
        // Inside its lane's band.
        CHECK(b->y >= l->y && b->y + b->h <= l->y + l->h);
        CHECK_INT(b->line, e->line);
    }
    CHECK_INT(speech, DR.plan.n_utts);
    CHECK(sfx >= 2 && beds >= 2);
    // The tooltip holds the whole line.
    for (size_t k = 0; k < DR.plan.n_utts; k++)
        CHECK_MSG(strstr(svg, DR.plan.utts[k].text) != NULL, "utterance %zu not in a <title>", k);
    free(pc.blocks);
    free(svg);
}

static void test_svg_waveform_from_the_mix(void)
{
    if (!have_drama || !PEAKS)
        return;
    const rp_timeline *t = &DR.timeline;
    double plot = ceil((double)t->n_frames / t->rate_hz * RP_SVG_PX_PER_S);
    CHECK_INT(N_PEAKS, plot < RP_SVG_MIN_PLOT_PX ? RP_SVG_MIN_PLOT_PX : plot);
    // Loud where someone speaks, silent in the lead-in.
    float top = 0;
    for (size_t i = 0; i < N_PEAKS; i++)
        top = PEAKS[i] > top ? PEAKS[i] : top;
    CHECK(top > 0.1f && top <= 1.0f);
    CHECK(PEAKS[0] < 1e-4f);
    // No peaks: no waveform.
    rp_strbuf b;
    rp_strbuf_init(&b);
    CHECK_INT(rp_svg_build(t, &DR.plan, "t", NULL, NULL, 0, &b), RP_OK);
    CHECK(b.s && !strstr(b.s, "class=\"env\"") && !strstr(b.s, "class=\"wave\""));
    // Fewer peaks than columns are stretched; the path has one point per column each way.
    rp_strbuf_deinit(&b);
    rp_strbuf_init(&b);
    float few[3] = {0.1f, 0.5f, 0.2f};
    CHECK_INT(rp_svg_build(t, &DR.plan, "t", NULL, few, 3, &b), RP_OK);
    const char *path = b.s ? strstr(b.s, "<path class=\"env\" d=\"") : NULL;
    CHECK(path != NULL);
    size_t points = 0;
    for (const char *c = path; c && *c && *c != '/'; c++)
        points += *c == 'M' || *c == 'L';
    CHECK_INT(points, 2 * N_PEAKS);
    rp_strbuf_deinit(&b);
}

static void test_svg_deterministic(void)
{
    if (!have_drama)
        return;
    rp_strbuf a, b;
    rp_strbuf_init(&a);
    rp_strbuf_init(&b);
    CHECK_INT(rp_svg_build(&DR.timeline, &DR.plan, "x", "y", PEAKS, N_PEAKS, &a), RP_OK);
    CHECK_INT(rp_svg_build(&DR.timeline, &DR.plan, "x", "y", PEAKS, N_PEAKS, &b), RP_OK);
    CHECK(a.len == b.len && a.s && b.s && !memcmp(a.s, b.s, a.len));
    rp_strbuf_deinit(&a);
    rp_strbuf_deinit(&b);
}

// Every <title> text, one per line, as an XML parser decodes it.
static char *titles_of(const char *path)
{
    char cmd[2048], *out = NULL;
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import xml.dom.minidom as m,sys\n"
             "for t in m.parse(sys.argv[1]).getElementsByTagName(\"title\"):\n"
             "    print(\"\".join(n.data for n in t.childNodes))' '%s'",
             path);
    if (run(cmd, &out) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

static void test_svg_escapes_xml_specials(void)
{
    const char *ch = tmp(1, "specials.txt"), *out = tmp(2, "specials.svg");
    write_text(ch, "# Tom & Jerry <Part 1>\n"
                   "\n"
                   "The cat & the mouse met when 5 < 6 > 4, in the \"old\" barn's loft.\n"
                   "\n"
                   "\"Is it <really> you & me?\" Tom asked. \"Say 'yes' & \"mean\" it.\"\n"
                   "\n"
                   "{sfx thunder}Thunder & lightning <rolled>.\n");
    rp_drama dr;
    rp_status st = load_voiced(&dr, ch);
    CHECK_INT(st, RP_OK);
    if (st) {
        rp_drama_deinit(&dr);
        return;
    }
    rp_diags d;
    rp_diags_init(&d);
    CHECK_INT(rp_svg_write(&dr, NULL, 0, out, &d), RP_OK);
    rp_diags_deinit(&d);
    CHECK(xml_well_formed(out) == 1);
    char *svg = read_text(out);
    CHECK(svg && utf8_valid(svg));
    CHECK(svg && strstr(svg, "Tom &amp; Jerry &lt;Part 1&gt;"));
    CHECK(svg && !strstr(svg, "<really>") && !strstr(svg, "<rolled>") && !strstr(svg, "<Part"));
    // Every line comes back from an XML parser as it was spoken.
    if (have("python3")) {
        char *titles = titles_of(out);
        CHECK(titles != NULL);
        CHECK(titles && !strncmp(titles, "Tom & Jerry <Part 1>\n", 21));
        for (size_t k = 0; titles && k < dr.plan.n_utts; k++)
            CHECK_MSG(strstr(titles, dr.plan.utts[k].text) != NULL, "\"%s\" not in a title",
                      dr.plan.utts[k].text);
        int specials = 0;
        for (size_t k = 0; k < dr.plan.n_utts; k++)
            specials += strpbrk(dr.plan.utts[k].text, "&<>\"'") != NULL;
        CHECK(specials >= 3);
        free(titles);
    }
    free(svg);
    rp_drama_deinit(&dr);
}

// A hand-made timeline: two utterances, a {pause} and an effect, at 48 kHz.
typedef struct {
    rp_utterance u[2];
    rp_event ev[4];
    rp_plan p;
    rp_timeline t;
} fake;

static void fake_init(fake *f, const char *speaker, const char *text, double seconds)
{
    memset(f, 0, sizeof *f);
    f->u[0] = (rp_utterance){.text = (char *)"Narration first.",
                             .speaker = "Narrator",
                             .narration = 1,
                             .line = 1,
                             .col = 1};
    f->u[1] = (rp_utterance){.text = (char *)text, .speaker = speaker, .line = 3, .col = 1};
    f->p.utts = f->u;
    f->p.n_utts = 2;
    int64_t r = 48000, end = (int64_t)(seconds * r);
    f->ev[0] = (rp_event){.kind = RP_EV_SPEECH,
                          .start = r / 2,
                          .end = r * 2,
                          .utt = 0,
                          .name = "Narrator",
                          .line = 1};
    f->ev[1] = (rp_event){.kind = RP_EV_SPEECH,
                          .start = r * 2 + r / 4,
                          .end = r * 3,
                          .utt = 1,
                          .name = speaker,
                          .line = 3};
    f->ev[2] = (rp_event){.kind = RP_EV_SFX,
                          .start = end - 2 * r,
                          .end = end - r,
                          .name = "a&b<c>",
                          .gain = 0.5f,
                          .line = 4};
    f->ev[3] = (rp_event){.kind = RP_EV_PAUSE, .start = end - r, .end = end - r / 2, .line = 5};
    f->t.ev = f->ev;
    f->t.n = 4;
    f->t.n_frames = end;
    f->t.rate_hz = 48000;
}

static void test_svg_invalid_utf8_and_controls(void)
{
    const char *out = tmp(3, "bytes.svg");
    fake f;
    // A stray byte, a lone continuation, an encoded surrogate, an overlong
    // slash, a truncated sequence at the end, control characters; and good
    // text around them that must survive.
    fake_init(&f, "Ann \"<&>\" O'Neil",
              "caf\xc3\xa9 \xff stray \x80 cont \xed\xa0\x80 surr \xc0\xaf over \x01\x1f ctl "
              "\t tab \xe2\x80\x9cquoted\xe2\x80\x9d \xf0\x9f\x8e\xa7 end \xe2\x82",
              30);
    rp_strbuf b;
    rp_strbuf_init(&b);
    CHECK_INT(rp_svg_build(&f.t, &f.p, "bad \xfe title & <x>", "sub\x02title", NULL, 0, &b), RP_OK);
    CHECK(b.s && utf8_valid(b.s));
    rp_diags d;
    rp_diags_init(&d);
    CHECK_INT(rp_write_file_atomic(out, b.s ? b.s : "", b.len, &d), RP_OK);
    rp_diags_deinit(&d);
    CHECK(xml_well_formed(out) == 1);
    CHECK(b.s && strstr(b.s, "caf\xc3\xa9 \xef\xbf\xbd stray \xef\xbf\xbd cont"));
    CHECK(b.s && strstr(b.s, "\xe2\x80\x9cquoted\xe2\x80\x9d \xf0\x9f\x8e\xa7 end \xef\xbf\xbd"));
    CHECK(b.s && strstr(b.s, "data-name=\"Ann &quot;&lt;&amp;&gt;&quot; O&apos;Neil\""));
    CHECK(b.s && strstr(b.s, "sfx a&amp;b&lt;c&gt;"));
    CHECK(b.s && strstr(b.s, "bad \xef\xbf\xbd title &amp; &lt;x&gt;"));
    CHECK(b.s && !strchr(b.s, '\x01') && !strchr(b.s, '\x1f') && !strchr(b.s, '\t'));
    rp_strbuf_deinit(&b);
}

static void test_svg_labels_trimmed_to_their_block(void)
{
    // 0.75 s at 800 px / 30 s is 20 px: two characters, the second an ellipsis.
    fake f;
    fake_init(&f, "Zo\xc3\xab", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 and more words than fit", 30);
    rp_strbuf b;
    rp_strbuf_init(&b);
    CHECK_INT(rp_svg_build(&f.t, &f.p, NULL, NULL, NULL, 0, &b), RP_OK);
    CHECK(b.s && strstr(b.s, "<text x=\"4\" y=\"16.00\">\xc3\xa9\xe2\x80\xa6</text>"));
    // A pause is a band across the lanes, not a block.
    CHECK(b.s && strstr(b.s, "<title>pause 0.500 s (line 5)</title>"));
    CHECK(b.s && !strstr(b.s, "data-kind=\"pause\""));
    // The tooltip keeps every word.
    CHECK(b.s && strstr(b.s, ": \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 and more words than fit</title>"));
    CHECK(b.s && utf8_valid(b.s));
    rp_strbuf_deinit(&b);
}

static void test_svg_scale_follows_duration(void)
{
    CHECK_INT(rp_svg_columns(10 * 48000, 48000), RP_SVG_MIN_PLOT_PX); // short: widened
    CHECK_INT(rp_svg_columns(0, 48000), RP_SVG_MIN_PLOT_PX);
    CHECK_INT(rp_svg_columns(90 * 48000, 48000), 1800); // 20 px/s
    CHECK_INT(rp_svg_columns(90 * 48000 + 1, 48000), 1801);
    CHECK_INT(rp_svg_columns(3600LL * 48000, 48000), RP_SVG_MAX_PLOT_PX); // long: capped
    // An hour-long drama: the x of an event late in it still maps from its time.
    fake f;
    fake_init(&f, "Bob", "Late words.", 3600);
    rp_strbuf b;
    rp_strbuf_init(&b);
    CHECK_INT(rp_svg_build(&f.t, &f.p, NULL, NULL, NULL, 0, &b), RP_OK);
    picture pc;
    picture_read(b.s ? b.s : "", &pc);
    CHECK_NEAR(pc.pps, (double)RP_SVG_MAX_PLOT_PX / 3600, 1e-6);
    CHECK_INT(pc.n_blocks, 3);
    CHECK_INT(pc.n_lanes, 3);
    if (pc.n_blocks == 3) {
        CHECK_NEAR(pc.blocks[2].start, 3598.0, 1e-9);
        CHECK_NEAR(pc.blocks[2].x, pc.x0 + 3598.0 * pc.pps, 0.006);
        CHECK_NEAR(pc.blocks[2].w, pc.pps, 0.011);
        CHECK_STR(pc.blocks[2].kind, "sfx");
        CHECK_STR(pc.lanes[pc.blocks[2].lane].name, "a&b<c>");
    }
    // Ticks every 10 s at 8.9 px/s (at least 72 px apart), labelled h:mm:ss in an hour.
    CHECK(b.s && strstr(b.s, ">0:00:10</text>") && strstr(b.s, ">1:00:00</text>"));
    CHECK(b.s && !strstr(b.s, ">0:00:05</text>"));
    // The svg is as wide as the plot plus its margins.
    char w[32];
    CHECK(b.s && attr(strstr(b.s, "<svg "), "width", w, sizeof w));
    CHECK_NEAR(atof(w), pc.x0 + RP_SVG_MAX_PLOT_PX + 24, 0.5);
    free(pc.blocks);
    rp_strbuf_deinit(&b);
}

static void test_svg_peaks_any_split(void)
{
    enum { N = 48000 * 3 + 17, COLS = 97, CH = 2 };
    float *x = malloc(sizeof *x * N * CH);
    rp_rng r = {42};
    for (int i = 0; i < N * CH; i++)
        x[i] = rp_rng_bipolar(&r) * (float)(i % 5000) / 5000.0f;
    // The reference: column of frame f is floor(f * COLS / N).
    float want[COLS] = {0}, one[COLS] = {0}, split[COLS] = {0};
    for (int64_t f = 0; f < N; f++) {
        size_t c = (size_t)(f * COLS / N);
        for (int k = 0; k < CH; k++)
            want[c] = fabsf(x[f * CH + k]) > want[c] ? fabsf(x[f * CH + k]) : want[c];
    }
    rp_svg_peaks_add(one, COLS, N, 0, x, N, CH);
    for (int64_t at = 0; at < N;) {
        size_t n = 1 + (size_t)(rp_rng_next(&r) % 3000);
        if (at + (int64_t)n > N)
            n = (size_t)(N - at);
        rp_svg_peaks_add(split, COLS, N, at, x + at * CH, n, CH);
        at += (int64_t)n;
    }
    int same = 1;
    for (int c = 0; c < COLS; c++)
        same &= one[c] == want[c] && split[c] == want[c];
    CHECK(same);
    // Frames before 0 and past the end are ignored; NULL and empty are no-ops.
    float edge[4] = {0};
    float loud[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    rp_svg_peaks_add(edge, 4, 100, -4, loud, 4, 2);  // frames -4..-1
    rp_svg_peaks_add(edge, 4, 100, 100, loud, 4, 2); // past the end
    rp_svg_peaks_add(NULL, 4, 100, 0, loud, 4, 2);
    rp_svg_peaks_add(edge, 0, 100, 0, loud, 4, 2);
    CHECK(edge[0] == 0 && edge[1] == 0 && edge[2] == 0 && edge[3] == 0);
    rp_svg_peaks_add(edge, 4, 100, 98, loud, 4, 1); // 2 frames in, 2 past
    CHECK(edge[3] == 1 && edge[2] == 0);
    free(x);
}

static void test_svg_unwritable_path_leaves_nothing(void)
{
    if (!have_drama)
        return;
    const char *paths[] = {"/nonexistent-radioplay-dir/t.svg", tmp(4, "plain.txt/t.svg")};
    write_text(tmp(6, "plain.txt"), "not a directory\n");
    for (size_t i = 0; i < 2; i++) {
        rp_diags d;
        rp_diags_init(&d);
        CHECK_INT(rp_svg_write(&DR, PEAKS, N_PEAKS, paths[i], &d), RP_ERR_IO);
        CHECK_INT(d.n_errors, 1);
        if (d.n) {
            char buf[1024];
            CHECK_STR(d.items[0].file, paths[i]);
            rp_diag_format(&d.items[0], buf, sizeof buf);
            CHECK_MSG(strstr(buf, paths[i]) && strstr(buf, "error"), "%s", buf);
        }
        CHECK(!file_exists(paths[i]));
        rp_diags_deinit(&d);
    }
    // Over an existing file: replaced whole, no temporary file left beside it.
    const char *out = tmp(5, "old.svg");
    write_text(out, "old");
    rp_diags d;
    rp_diags_init(&d);
    CHECK_INT(rp_svg_write(&DR, PEAKS, N_PEAKS, out, &d), RP_OK);
    rp_diags_deinit(&d);
    char *svg = read_text(out);
    CHECK(svg && !strncmp(svg, "<?xml", 5) && strstr(svg, "</svg>\n"));
    free(svg);
    CHECK_INT(count_files(test_tmpdir(), ".old.svg.radioplay-"), 0);
}

// rp_svg_write with files limited to limit bytes and SIGXFSZ ignored: a
// write past the limit fails (EFBIG), as one on a full disk does.
static rp_status write_limited(rlim_t limit, const char *path, rp_diags *d)
{
    file_limit_begin((long long)limit);
    rp_status st = rp_svg_write(&DR, PEAKS, N_PEAKS, path, d);
    file_limit_end();
    return st;
}

static void test_svg_full_disk_keeps_the_old_file(void)
{
    if (!have_drama)
        return;
    const char *out = tmp(5, "full.svg");
    rp_diags d;
    rp_diags_init(&d);
    CHECK_INT(rp_svg_write(&DR, PEAKS, N_PEAKS, out, &d), RP_OK);
    rp_diags_deinit(&d);
    struct stat sb;
    rlim_t size = stat(out, &sb) == 0 ? (rlim_t)sb.st_size : 2;
    const rlim_t limits[] = {1, size / 2, size - 1};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        write_text(out, "old");
        rp_diags_init(&d);
        CHECK_INT(write_limited(limits[i], out, &d), RP_ERR_IO);
        char buf[1024] = "";
        if (d.n)
            rp_diag_format(&d.items[0], buf, sizeof buf);
        CHECK_MSG(d.n == 1 && !strcmp(d.items[0].file, out) &&
                      strstr(buf, "error: cannot write: File too large"),
                  "%s", buf);
        rp_diags_deinit(&d);
        char *kept = read_text(out);
        CHECK_STR(kept, "old");
        free(kept);
        CHECK_INT(count_files(test_tmpdir(), ".full.svg.radioplay-"), 0);
    }
    // A device is written into (ENOSPC), never renamed over.
    rp_diags_init(&d);
    CHECK_INT(rp_svg_write(&DR, PEAKS, N_PEAKS, "/dev/full", &d), RP_ERR_IO);
    char buf[1024] = "";
    if (d.n)
        rp_diag_format(&d.items[0], buf, sizeof buf);
    CHECK_MSG(strstr(buf, "/dev/full: error: cannot write: No space left on device"), "%s", buf);
    rp_diags_deinit(&d);
    CHECK(stat("/dev/full", &sb) == 0 && S_ISCHR(sb.st_mode));
}

static void test_svg_through_a_symbolic_link(void)
{
    if (!have_drama)
        return;
    const char *real = tmp(5, "real.svg"), *link = tmp(6, "link.svg");
    write_text(real, "old");
    unlink(link);
    CHECK_INT(symlink("real.svg", link), 0);
    rp_diags d;
    rp_diags_init(&d);
    CHECK_INT(rp_svg_write(&DR, PEAKS, N_PEAKS, link, &d), RP_OK);
    rp_diags_deinit(&d);
    struct stat sb;
    CHECK(lstat(link, &sb) == 0 && S_ISLNK(sb.st_mode));
    char *svg = read_text(real);
    CHECK(svg && !strncmp(svg, "<?xml", 5));
    free(svg);
    CHECK_INT(count_files(test_tmpdir(), ".real.svg.radioplay-"), 0);
}

int main(void)
{
    setup();
    RUN(test_svg_blocks_match_the_timeline);
    RUN(test_svg_waveform_from_the_mix);
    RUN(test_svg_deterministic);
    RUN(test_svg_escapes_xml_specials);
    RUN(test_svg_invalid_utf8_and_controls);
    RUN(test_svg_labels_trimmed_to_their_block);
    RUN(test_svg_scale_follows_duration);
    RUN(test_svg_peaks_any_split);
    RUN(test_svg_unwritable_path_leaves_nothing);
    RUN(test_svg_full_disk_keeps_the_old_file);
    RUN(test_svg_through_a_symbolic_link);
    if (have_drama)
        rp_drama_deinit(&DR);
    free(PEAKS);
    return TEST_SUMMARY("test_svg");
}
