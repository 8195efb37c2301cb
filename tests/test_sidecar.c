// SPDX-License-Identifier: GPL-3.0-or-later
// The files beside the audio, made by the real binary and read back:
// subtitles (SRT and WebVTT) and Audacity labels agree with `radioplay cues`
// to the millisecond and carry every line with its speaker; long lines are
// split into timed cues of two short lines; chapter marks land in the WAV
// cue chunk and in the tags; bad paths are refused with their messages;
// when the audio cannot be written (a full disk), the subtitles and labels
// already there stay as they were, and no temporary file is left.
#include <signal.h>
#include <stdint.h>

#include "test.h"
#include "wav.h"

static const char *CHAPTER = "tests/data/wall.txt";

static long long srt_ms(int h, int m, int s, int ms)
{
    return ((h * 60LL + m) * 60 + s) * 1000 + ms;
}

typedef struct {
    long long a, b;
    char text[1024];  // lines joined by "\n"
} sub;

// Parses SRT (sep ',') or WebVTT (sep '.') cues.
static int read_subs(const char *text, char sep, sub *subs, int max)
{
    int n = 0;
    const char *p = text;
    while (p && *p && n < max) {
        const char *arrow = strstr(p, " --> ");
        if (!arrow)
            break;
        const char *ls = arrow;
        while (ls > text && ls[-1] != '\n')
            ls--;
        int h1, m1, s1, f1, h2, m2, s2, f2;
        char c1, c2;
        if (sscanf(ls, "%d:%d:%d%c%d --> %d:%d:%d%c%d", &h1, &m1, &s1, &c1, &f1, &h2, &m2, &s2,
                   &c2, &f2) != 10 || c1 != sep || c2 != sep)
            return -1;
        sub u = {srt_ms(h1, m1, s1, f1), srt_ms(h2, m2, s2, f2), ""};
        const char *t = strchr(arrow, '\n');
        const char *end = t ? strstr(t + 1, "\n\n") : NULL;
        if (!t || !end)
            return -1;
        size_t len = (size_t)(end - (t + 1));
        snprintf(u.text, sizeof u.text, "%.*s", (int)(len < 1023 ? len : 1023), t + 1);
        subs[n++] = u;
        p = end + 2;
    }
    return n;
}

// The subtitle cues' text with line breaks as spaces.
static void flatten(char *s)
{
    for (; *s; s++)
        if (*s == '\n')
            *s = ' ';
}

static void render_with(const char *chapter, const char *extra, int want_rc, char **log)
{
    char args[4096];
    snprintf(args, sizeof args, "render %s -o %s -q %s", chapter, tmp(0, "out.wav"), extra);
    int rc = rp(args, log);
    CHECK_MSG(rc == want_rc, "exit %d: %s", rc, *log ? *log : "");
}

static void test_srt_matches_cues(void)
{
    char *log = NULL, args[256];
    snprintf(args, sizeof args, "--subs %s", tmp(1, "w.srt"));
    render_with(CHAPTER, args, 0, &log);
    free(log);
    cue rows[64];
    int n = cues_of(CHAPTER, rows, 64);
    char *srt = read_text(tmp(1, "w.srt"));
    CHECK(srt != NULL);
    if (!srt || n <= 0)
        return;
    static sub subs[64];
    int m = read_subs(srt, ',', subs, 64);
    int k = 0, speech = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(rows[i].kind, "speech"))
            continue;
        speech++;
        CHECK_MSG(k < m, "no subtitle for '%s'", rows[i].text);
        if (k >= m)
            break;
        // Short lines: one cue each, the utterance's times exactly, its
        // speaker in front.
        char want[700];
        snprintf(want, sizeof want, "%s: %s", rows[i].who, rows[i].text);
        flatten(subs[k].text);
        CHECK_MSG(subs[k].a == rows[i].start_ms && subs[k].b == rows[i].end_ms,
                  "'%s': %lld..%lld ms, cues say %lld..%lld", rows[i].text, subs[k].a,
                  subs[k].b, rows[i].start_ms, rows[i].end_ms);
        CHECK_MSG(!strcmp(subs[k].text, want), "'%s' != '%s'", subs[k].text, want);
        k++;
    }
    CHECK_INT(m, speech);
    CHECK_INT(speech, 12);
    // Numbered from 1.
    CHECK(!strncmp(srt, "1\n00:00:00,500 --> ", 19));
    free(srt);
}

static void test_vtt_has_voices(void)
{
    char *log = NULL, args[256];
    snprintf(args, sizeof args, "--subs %s", tmp(1, "w.vtt"));
    render_with(CHAPTER, args, 0, &log);
    free(log);
    char *vtt = read_text(tmp(1, "w.vtt"));
    CHECK(vtt && !strncmp(vtt, "WEBVTT\n\n", 8));
    static sub subs[64];
    int m = vtt ? read_subs(vtt, '.', subs, 64) : 0;
    CHECK_INT(m, 12);
    CHECK(m > 0 && !strcmp(subs[0].text, "<v Narrator>The Wall"));
    int kirk = 0;
    for (int i = 0; i < m; i++)
        kirk += !strncmp(subs[i].text, "<v Kirk>", 8);
    CHECK_INT(kirk, 2);
    free(vtt);
    // WebVTT's own markup characters come through as text.
    const char *ch = tmp(2, "marks.txt");
    write_text(ch, "\"Bread & salt <now>,\" Kirk said.\n");
    char *log2 = NULL, args2[1024];
    snprintf(args2, sizeof args2, "render %s -o %s -q --subs %s", ch, tmp(0, "marks.wav"),
             tmp(1, "marks.vtt"));
    CHECK_INT(rp(args2, &log2), 0);
    free(log2);
    vtt = read_text(tmp(1, "marks.vtt"));
    CHECK_MSG(vtt && strstr(vtt, "<v Kirk>Bread &amp; salt &lt;now>,"), "%s", vtt ? vtt : "");
    free(vtt);
}

static void test_labels_match_cues(void)
{
    char *log = NULL, args[256];
    snprintf(args, sizeof args, "--labels %s", tmp(1, "w.txt"));
    render_with(CHAPTER, args, 0, &log);
    free(log);
    cue rows[64];
    int n = cues_of(CHAPTER, rows, 64);
    char *txt = read_text(tmp(1, "w.txt"));
    CHECK(txt != NULL && n > 0);
    if (!txt)
        return;
    // Every cues row in order, then only the chapter point label added.
    char *save = NULL;
    int i = 0, chapters = 0;
    for (char *l = strtok_r(txt, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        double a, b;
        char label[700];
        CHECK_MSG(sscanf(l, "%lf\t%lf\t%699[^\n]", &a, &b, label) == 3, "bad label row '%s'", l);
        if (!strncmp(label, "chapter: ", 9)) {
            CHECK(a == b && !strcmp(label, "chapter: The Wall"));
            CHECK(i < n && llround(a * 1000) == rows[i].start_ms);
            chapters++;
            continue;
        }
        CHECK_MSG(i < n, "more labels than cues");
        if (i >= n)
            break;
        char want[700];
        if (!strcmp(rows[i].kind, "speech"))
            snprintf(want, sizeof want, "%s: %s", rows[i].who, rows[i].text);
        else
            snprintf(want, sizeof want, "%s: %s", rows[i].kind,
                     strcmp(rows[i].kind, "pause") ? rows[i].who : "-");
        CHECK_MSG(!strcmp(label, want), "label '%s', cue '%s'", label, want);
        CHECK_MSG(llround(a * 1000) == rows[i].start_ms && llround(b * 1000) == rows[i].end_ms,
                  "'%s' at %.3f..%.3f, cues say %lld..%lld ms", label, a, b, rows[i].start_ms, rows[i].end_ms);
        i++;
    }
    CHECK_INT(i, n);
    CHECK_INT(chapters, 1);
    free(txt);
}

static void test_long_lines_split(void)
{
    const char *ch = tmp(2, "long.txt");
    write_text(ch, "\"This is a very long line of dialogue that goes on and on, well past what "
                   "anyone could read in one glance at the bottom of a screen, so it must be cut "
                   "into pieces --> each of which is timed to its own words,\" Kirk said.\n");
    char *log = NULL, args[256];
    snprintf(args, sizeof args, "--subs %s", tmp(1, "long.srt"));
    render_with(ch, args, 0, &log);
    free(log);
    cue rows[16];
    int n = cues_of(ch, rows, 16);
    CHECK(n >= 1 && !strcmp(rows[0].who, "Kirk"));
    char *srt = read_text(tmp(1, "long.srt"));
    static sub subs[32];
    int m = srt ? read_subs(srt, ',', subs, 32) : 0;
    CHECK_MSG(m >= 3, "%d cues", m);
    if (m < 3 || n < 1) {
        free(srt);
        return;
    }
    // The utterance's span, cut in order, each cue starting later.
    CHECK(subs[0].a == rows[0].start_ms);
    long long last_b = -1;
    char joined[4096] = "";
    for (int i = 0; i < m; i++) {
        if (subs[i].b > rows[0].end_ms)
            break;
        CHECK_MSG(subs[i].a < subs[i].b, "cue %d: %lld..%lld", i, subs[i].a, subs[i].b);
        if (i)
            CHECK_MSG(subs[i].a == last_b, "cue %d starts at %lld, the last ended at %lld", i,
                      subs[i].a, last_b);
        last_b = subs[i].b;
        // At most two lines of at most 42 characters (ASCII here; the
        // first line of the first cue also holds "Kirk: ").
        int lines = 1;
        size_t len = 0;
        for (const char *p = subs[i].text;; p++) {
            if (*p == '\n' || !*p) {
                size_t allowed = 42 + (i == 0 && lines == 1 ? 6 : 0);
                CHECK_MSG(len <= allowed, "cue %d line %d: %zu characters", i, lines, len);
                if (!*p)
                    break;
                lines++;
                len = 0;
            } else {
                len += (*p & 0xc0) != 0x80;
            }
        }
        CHECK_MSG(lines <= 2, "cue %d has %d lines", i, lines);
        flatten(subs[i].text);
        strncat(joined, i ? " " : "", sizeof joined - strlen(joined) - 1);
        strncat(joined, subs[i].text, sizeof joined - strlen(joined) - 1);
    }
    CHECK(last_b == rows[0].end_ms);
    // The words are all there, in order; "-->" cannot end a cue's timing line.
    char want[1024];
    snprintf(want, sizeof want, "Kirk: %s", rows[0].text);
    char *arrow = strstr(want, "-->");
    CHECK(arrow != NULL);
    if (arrow)
        memcpy(arrow, "\xe2\x80\x94", 3);  // an em dash, three bytes too
    CHECK_MSG(!strcmp(joined, want), "'%s' != '%s'", joined, want);
    free(srt);
}

static void test_marks_in_the_file(void)
{
    cue rows[64];
    int n = cues_of(CHAPTER, rows, 64);
    CHECK(n > 0);
    const char *files[] = {"m.wav", "m.flac", "m.ogg"};
    for (size_t f = 0; f < 3; f++) {
        char args[512], *log = NULL;
        snprintf(args, sizeof args, "render %s -o %s -q && %s info %s", CHAPTER,
                 tmp(1, files[f]), radioplay_bin(), tmp(1, files[f]));
        CHECK_INT(rp(args, &log), 0);
        CHECK_MSG(log && strstr(log, "title: The Wall\n"), "%s", log ? log : "");
        CHECK_MSG(log && strstr(log, "comment: chapters: 0:00.500 The Wall\n"), "%s",
                  log ? log : "");
        // WAV: a cue point where the heading is spoken.
        if (f == 0 && n > 0) {
            double at = -1;
            const char *c = log ? strstr(log, "cue 1: ") : NULL;
            CHECK(c && sscanf(c, "cue 1: %lf", &at) == 1);
            CHECK_MSG(llround(at * 1000) == rows[0].start_ms, "cue at %.3f s", at);
            CHECK(!strstr(log, "cue 2: "));
        }
        free(log);
    }
}

static void test_bad_paths(void)
{
    char *log = NULL, args[512];
    snprintf(args, sizeof args, "--subs %s", tmp(1, "w.txt"));
    render_with(CHAPTER, args, 2, &log);
    CHECK(log && strstr(log, "unknown subtitle format (use .srt or .vtt)"));
    free(log);
    log = NULL;
    const char *ch = tmp(2, "self.txt");
    write_text(ch, "A line.\n");
    snprintf(args, sizeof args, "render %s -o %s --labels %s", ch, tmp(3, "self.wav"), ch);
    CHECK_INT(rp(args, &log), 1);
    CHECK(log && strstr(log, "refusing to overwrite the input chapter"));
    free(log);
    log = NULL;
    char *text = read_text(ch);
    CHECK(text && !strcmp(text, "A line.\n"));
    free(text);
    // An unwritable place: a located error, no file.
    snprintf(args, sizeof args, "--subs %s/no/such/dir/w.srt", test_tmpdir());
    render_with(CHAPTER, args, 1, &log);
    CHECK_MSG(log && strstr(log, "w.srt") && strstr(log, "error"), "%s", log ? log : "");
    free(log);
}

static void test_failed_audio_leaves_the_sidecars(void)
{
    const char *subs = tmp(1, "keep.srt"), *labels = tmp(2, "keep.txt");
    write_text(subs, "OLD SUBS");
    write_text(labels, "OLD LABELS");
    char args[4096], *log = NULL;
    snprintf(args, sizeof args, "render %s -o %s --subs %s --labels %s", CHAPTER,
             tmp(3, "keep.wav"), subs, labels);
    // Room for the subtitles, not the audio; SIGXFSZ ignored: EFBIG.
    file_limit_begin(64 * 1024);
    int rc = rp(args, &log);
    file_limit_end();
    CHECK_INT(rc, 1);
    CHECK_MSG(log && strstr(log, "keep.wav: error: cannot write: File too large"), "%s",
              log ? log : "");
    free(log);
    char *text = read_text(subs);
    CHECK_STR(text, "OLD SUBS");
    free(text);
    text = read_text(labels);
    CHECK_STR(text, "OLD LABELS");
    free(text);
    CHECK(!file_exists(tmp(3, "keep.wav")));
    CHECK_INT(count_files(test_tmpdir(), ".radioplay-"), 0);
}

int main(void)
{
    RUN(test_srt_matches_cues);
    RUN(test_vtt_has_voices);
    RUN(test_labels_match_cues);
    RUN(test_long_lines_split);
    RUN(test_marks_in_the_file);
    RUN(test_bad_paths);
    RUN(test_failed_audio_leaves_the_sidecars);
    return TEST_SUMMARY("test_sidecar");
}
