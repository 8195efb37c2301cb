// SPDX-License-Identifier: GPL-3.0-or-later
// The bad-input catalogue: build/radioplay run on what users really feed it
// (files written here, in a temporary folder removed at the end), each case
// checked for its message, its location (FILE:LINE:COL where the input has
// one) and its exit status. Chapters: empty, binary, invalid UTF-8, a BOM,
// CRLF and CR line ends, a line at and over the limit, 50 MB, unbalanced
// quotes and braces, unknown directives, effects, rooms, voices and
// speakers, numbers out of range, negative, NaN and huge; cast sheets with
// duplicate sections and syntax errors; missing and malformed presets.
// Outputs: a missing or unwritable folder, the input as output, a full disk
// (/dev/full, and files cut short by RLIMIT_FSIZE at every stage of a WAV,
// FLAC, Ogg and MP3 file in each sample format), symbolic links, SIGINT,
// SIGTERM and SIGKILL mid-render: a failed render leaves the old file byte
// for byte and no temporary file.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rp_config.h"
#include "rp_sink.h"
#include "test.h"
#include "wav.h"

enum { PATH_CAP = 1024, BIG_MB = 50 };

// A plain chapter, and one another render wrote before (the "old" file).
static const char plain[] = "The rain fell on the harbour.\n";
static const char other[] = "The wind rose over the hills.\n";

// test_tmpdir()/name into buf.
static const char *at(char *buf, const char *name)
{
    snprintf(buf, PATH_CAP, "%s/%s", test_tmpdir(), name);
    return buf;
}

static void put(const char *path, const char *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(bytes, 1, len, f) == len;
    if (f)
        ok = fclose(f) == 0 && ok;
    CHECK_MSG(ok, "cannot write %s", path);
}

static int lines_of(const char *s)
{
    int n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

// Only radioplay's standard error (standard output to /dev/null).
static int stderr_of(const char *args, char **err)
{
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "{ %s %s 2>&1 >/dev/null; }", radioplay_bin(), args);
    return run(cmd, err);
}

// A case counts as one test, like RUN().
static void record(const char *name, int failed_before)
{
    int ok = test_failed_checks == failed_before;
    if (ok)
        test_passed++;
    else
        test_failed++;
    printf("  %s  %s\n", ok ? "ok  " : "FAIL", name);
    fflush(stdout);
}

// ---- the table: chapters, cast sheets and presets ------------------------------------

typedef struct {
    const char *name;
    const char *text;  // the chapter (NULL: plain)
    size_t nul_len;    // the bytes of the file holding a NUL (the cast sheet if
                       // there is one, else the chapter); 0: none does
    const char *cast;  // written beside the chapter as its cast sheet, or NULL
    const char *args;  // {ch} {cast} {out} {dir} stand for the paths
    int rc;
    const char *want, *also;  // in standard error, expanded alike; NULL: nothing asked
} bad_case;

static const char docx[] = "PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00word/document.xml"
                           "\x9c\x8f\xff\xfe\x00\x01";

static const bad_case cases[] = {
    {"empty file: check warns, exit 0", "", 0, NULL, "check {ch}", 0,
     "{ch}: warning: chapter is empty", NULL},
    {"empty file: render refuses, old file kept", "", 0, NULL, "render {ch} -o {out}", 1,
     "{ch}: error: the chapter has no text (nothing to render)", NULL},
    {"blank lines and a comment only: render refuses", "  \n\n{# a note}\n", 0, NULL,
     "render {ch} -o {out}", 1, "{ch}: error: the chapter has no text", NULL},
    {"binary garbage (a .docx): NUL located, output bounded", docx, sizeof docx - 1, NULL,
     "check {ch}", 1, "{ch}:1:6: error: binary data (NUL byte) (a chapter is UTF-8 text)",
     "{ch}:1:32: error: invalid UTF-8 byte 0x9C"},
    {"invalid UTF-8: Latin-1 e-acute", "caf\xe9 au lait.\n", 0, NULL, "check {ch}", 1,
     "{ch}:1:4: error: invalid UTF-8 byte 0xE9 (save the chapter as UTF-8 text)", NULL},
    {"invalid UTF-8: a stray byte on line 3", "Good line.\n\nBad \xff byte here.\n", 0, NULL,
     "check {ch}", 1, "{ch}:3:5: error: invalid UTF-8 byte 0xFF", NULL},
    {"invalid UTF-8: an overlong '/'", "A \xc0\xaf slash.\n", 0, NULL, "check {ch}", 1,
     "{ch}:1:3: error: invalid UTF-8 byte 0xC0", NULL},
    {"invalid UTF-8: a UTF-16 surrogate", "A \xed\xa0\x80 half.\n", 0, NULL, "check {ch}", 1,
     "{ch}:1:3: error: invalid UTF-8 byte 0xED", NULL},
    {"BOM: columns count from after it", "\xef\xbb\xbfText {sfx thundr} more.\n", 0, NULL,
     "check {ch}", 1, "{ch}:1:6: error: unknown effect 'thundr' (did you mean 'thunder'?)",
     NULL},
    {"CRLF: lines count as LF", "One.\r\n\r\nText {sfx thundr} more.\r\n", 0, NULL, "check {ch}",
     1, "{ch}:3:6: error: unknown effect 'thundr'", NULL},
    {"lone CR: lines count as LF", "One.\r\rText {sfx thundr} more.\r", 0, NULL, "check {ch}", 1,
     "{ch}:3:6: error: unknown effect 'thundr'", NULL},
    {"unbalanced quote across paragraphs: a warning where it opens",
     "He said, \"This quote never ends.\n\nAnd the narration goes on.\n\n\"Another,\" said Ann.\n",
     0, NULL, "check {ch}", 0, "{ch}:1:10: warning: unclosed quote", NULL},
    {"nested braces", "Text {sfx {sfx thunder}} more.\n", 0, NULL, "check {ch}", 1,
     "{ch}:1:6: error: unclosed '{' (directives end with '}')", "{ch}:1:24: error: stray '}'"},
    {"unclosed brace across a paragraph", "Text {sfx thunder more.\n\nNext.\n", 0, NULL,
     "check {ch}", 1, "{ch}:1:6: error: unclosed '{'", NULL},
    {"stray closing brace", "Text } more.\n", 0, NULL, "check {ch}", 1,
     "{ch}:1:6: error: stray '}'", NULL},
    {"unknown directive, misspelt", "Text {pasue 2} more.\n", 0, NULL, "check {ch}", 1,
     "{ch}:1:7: error: unknown directive 'pasue' (did you mean 'pause'?)", NULL},
    {"unknown directive", "Text {frob gain=3} more.\n", 0, NULL, "check {ch}", 1,
     "{ch}:1:7: error: unknown directive 'frob' (directives are sfx, bed, stop, pause, room",
     NULL},
    {"unknown effect", "The sky {sfx thundr} cracked.\n", 0, NULL, "check {ch}", 1,
     "{ch}:1:9: error: unknown effect 'thundr' (did you mean 'thunder'?)", NULL},
    {"unknown bed", "Text {bed rian} more.\n", 0, NULL, "check {ch}", 1,
     "{ch}:1:6: error: unknown bed 'rian' (did you mean 'rain'?)", NULL},
    {"unknown room", "Text {room hal} more.\n", 0, NULL, "check {ch}", 1,
     "{ch}:1:6: error: unknown room 'hal' (did you mean 'hall'?)", NULL},
    {"stopping a bed that is not playing", "Text {stop rain} more.\n", 0, NULL, "check {ch}", 1,
     "{ch}:1:6: error: no bed named 'rain' is playing", NULL},
    {"unknown parameter", "Text {sfx thunder loud=3} more.\n", 0, NULL, "check {ch}", 1,
     "{ch}:1:19: error: unknown parameter 'loud' (sfx takes gain, pan, delay)", NULL},
    {"a parameter given twice", "Text {sfx thunder gain=3 gain=4} more.\n", 0, NULL,
     "check {ch}", 1, "{ch}:1:26: error: gain", "twice"},
    {"a speaker name over the limit",
     "{AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA}\"Hi.\"\n", 0, NULL,
     "check {ch}", 1, "{ch}:1:2: error: speaker name is longer than 64 bytes", NULL},
    {"number out of range", "Text {sfx thunder gain=99} more.\n", 0, NULL, "check {ch}", 1,
     "{ch}:1:19: error: gain must be between -60 and 12 dB", NULL},
    {"negative number", "Text {pause -1} more.\n", 0, NULL, "check {ch}", 1,
     "{ch}:1:13: error: pause '-1' is not a number of seconds", NULL},
    {"negative delay", "Text {sfx thunder delay=-0.5} more.\n", 0, NULL, "check {ch}", 1,
     "{ch}:1:19: error: delay must be between 0 and 60 s", NULL},
    {"NaN", "Text {pause nan} more.\n", 0, NULL, "check {ch}", 1,
     "{ch}:1:13: error: pause 'nan' is not a number of seconds", NULL},
    {"NaN in a parameter", "Text {bed rain fade=NaN} more.\n", 0, NULL, "check {ch}", 1,
     "{ch}:1:16: error: fade: 'NaN' is not a number", NULL},
    {"infinity", "Text {sfx thunder pan=inf} more.\n", 0, NULL, "check {ch}", 1,
     "{ch}:1:19: error: pan: 'inf' is not a number", NULL},
    {"huge number", "Text {pause 1e308} more.\n", 0, NULL, "check {ch}", 1,
     "{ch}:1:13: error: pause '1e308' is not a number of seconds", NULL},
    {"huge integer", "Text {pause 99999999999999999999999999999999} more.\n", 0, NULL,
     "check {ch}", 1, "{ch}:1:13: error: pause '99999999999999999999999999999999' is not", NULL},
    {"room setting out of range", "Text {room hall rt60=1e9} more.\n", 0, NULL, "check {ch}", 1,
     "{ch}:1:17: error: rt60 must be between 0.1 and 20 s", NULL},
    {"cast: numbers out of range, negative, NaN, huge", "\"Hello,\" said Ann.\n",
     0, "[voice Ann]\npitch = 400\nrate = -5\nvolume = nan\ngain = 1e400\n", "check {ch}", 1,
     "{cast}:2:9: error: pitch must be between 0 and 100",
     "{cast}:5:8: error: gain: '1e400' is not a number"},
    {"cast: duplicate voice section", "\"Hello,\" said Ann.\n", 0,
     "[voice Ann]\npitch = 40\n\n[voice Ann]\npitch = 60\n", "check {ch}", 1,
     "{cast}:4:1: error: duplicate section [voice Ann] (first at line 1)", NULL},
    {"cast: duplicate narrator section", "\"Hello,\" said Ann.\n", 0,
     "[narrator]\nrate = 165\n[narrator]\nrate = 100\n", "check {ch}", 1,
     "{cast}:3:1: error: duplicate section [narrator]", NULL},
    {"cast: a key given twice", "\"Hello,\" said Ann.\n", 0,
     "[voice Ann]\npitch = 40\npitch = 50\n", "check {ch}", 1, "{cast}:3:1: error: ", "pitch"},
    {"cast: syntax errors", "\"Hello,\" said Ann.\n", 0, "[voice Ann\npitch 40\n= 3\n",
     "check {ch}", 1, "{cast}:1:1: error: unclosed section header",
     "{cast}:2:1: error: cannot parse this line of the cast sheet (write key = value)"},
    {"cast: unknown section and key", "\"Hello,\" said Ann.\n", 0,
     "[frobnicate]\nx = 1\n[voice Ann]\npich = 40\n", "check {ch}", 1,
     "{cast}:1:1: error: unknown section [frobnicate]",
     "{cast}:4:1: error: unknown key 'pich' in [voice Ann] (did you mean 'pitch'?)"},
    {"cast: invalid UTF-8", "\"Hello,\" said Ann.\n", 0, "[voice Ann]\npitch = 4\xff" "0\n",
     "check {ch}", 1, "{cast}:2:10: error: invalid UTF-8 byte 0xFF", NULL},
    {"cast: binary data", "\"Hello,\" said Ann.\n", 24, "[voice Ann]\npitch = 40\x00\n",
     "check {ch}", 1, "{cast}:2:11: error: binary data (NUL byte)", NULL},
    {"cast: missing --cast file", NULL, 0, NULL, "check {ch} --cast {dir}/nosuch.cast", 1,
     "{dir}/nosuch.cast: error: cannot open: No such file or directory", NULL},
    {"unknown espeak-ng voice", "\"Hello,\" said Ann.\n", 0, "[voice Ann]\nvoice = xx-nope\n",
     "check {ch}", 1, "{cast}:1:1: error: unknown espeak-ng voice 'xx-nope', for Ann", NULL},
    {"unknown espeak-ng variant", "\"Hello,\" said Ann.\n", 0,
     "[voice Ann]\nvoice = en-us\nvariant = bogus\n", "check {ch}", 1,
     "{cast}:1:1: error: unknown espeak-ng variant 'bogus', for Ann", NULL},
    {"unknown speaker in the cast sheet: a warning", "\"Hello,\" said Ann.\n", 0,
     "[voice Anne]\nvoice = en-us\n", "check {ch}", 0,
     "{cast}:1:1: warning: [voice Anne]: no one in the chapter speaks as Anne (did you mean "
     "'Ann'?)",
     NULL},
    {"missing preset folder", NULL, 0, NULL, "check {ch} --sfx-dir {dir}/nosuch", 1,
     "{dir}/nosuch: error: cannot open directory: No such file or directory", NULL},
    {"malformed effect preset", NULL, 0, NULL, "check {ch} --sfx-dir {dir}/badsfx", 1,
     "{dir}/badsfx/boom.sfx:1:1: error: expected 'key = value', got 'this is not a preset'",
     "{dir}/badsfx/boom.sfx:3:8: error: unknown kind 'frob' (one of: oneshot, bed)"},
    {"malformed room preset", NULL, 0, NULL, "check {ch} --sfx-dir {dir}/badroom", 1,
     "{dir}/badroom/cave.room:1:8: error: rt60 must be between 0.1 and 20 s",
     "{dir}/badroom/cave.room:2:11: error: unknown pattern 'wobbly'"},
    {"chapter is a folder", NULL, 0, NULL, "check {dir}", 1,
     "{dir}: error: is a directory, not a file", NULL},
    {"chapter missing", NULL, 0, NULL, "render {dir}/nosuch.txt -o {out}", 1,
     "{dir}/nosuch.txt: error: cannot open: No such file or directory", NULL},
};

// pattern with {ch}, {cast}, {out} and {dir} replaced; caller frees.
static char *expand(const char *pattern, const char *ch, const char *cast, const char *out)
{
    const char *keys[] = {"{ch}", "{cast}", "{out}", "{dir}"};
    const char *vals[] = {ch, cast, out, test_tmpdir()};
    size_t cap = strlen(pattern) + 1;
    for (const char *p = pattern; *p; p++)
        cap += *p == '{' ? PATH_CAP : 0;
    char *s = malloc(cap), *o = s;
    for (const char *p = pattern; s && *p;) {
        size_t k = 0;
        while (k < 4 && strncmp(p, keys[k], strlen(keys[k])))
            k++;
        if (k < 4) {
            o += sprintf(o, "%s", vals[k]);
            p += strlen(keys[k]);
        } else {
            *o++ = *p++;
        }
    }
    if (s)
        *o = '\0';
    return s;
}

static void presets(void)
{
    char p[PATH_CAP];
    mkdir(at(p, "badsfx"), 0777);
    write_text(at(p, "badsfx/boom.sfx"), "this is not a preset\n[layer\nkind = frob\n");
    mkdir(at(p, "badroom"), 0777);
    write_text(at(p, "badroom/cave.room"), "rt60 = -4\npattern = wobbly\n");
}

static void run_case(size_t i)
{
    const bad_case *c = &cases[i];
    int before = test_failed_checks;
    char ch[PATH_CAP], cast[PATH_CAP], out[PATH_CAP], name[64];
    snprintf(name, sizeof name, "c%02zu.txt", i);
    at(ch, name);
    snprintf(name, sizeof name, "c%02zu.cast", i);
    at(cast, name);
    snprintf(name, sizeof name, "c%02zu.wav", i);
    at(out, name);
    const char *text = c->text ? c->text : plain;
    put(ch, text, c->nul_len && !c->cast ? c->nul_len : strlen(text));
    if (c->cast)
        put(cast, c->cast, c->nul_len ? c->nul_len : strlen(c->cast));
    write_text(out, "OLD");
    char *args = expand(c->args, ch, cast, out), *log = NULL;
    int rc = stderr_of(args, &log);
    CHECK_MSG(rc == c->rc, "exit %d, expected %d; stderr:\n%s", rc, c->rc, log);
    const char *frags[] = {c->want, c->also};
    for (int k = 0; k < 2; k++) {
        if (!frags[k])
            continue;
        char *want = expand(frags[k], ch, cast, out);
        CHECK_MSG(strstr(log, want) != NULL, "wanted \"%s\" in stderr:\n%s", want, log);
        free(want);
    }
    // However bad the input, the report stays readable.
    CHECK_MSG(lines_of(log) <= RP_MAX_DIAGS + 3, "%d lines of stderr", lines_of(log));
    char *kept = read_text(out);
    CHECK_MSG(kept && !strcmp(kept, "OLD"), "%s was changed", out);
    free(kept);
    CHECK_INT(count_files(test_tmpdir(), ".radioplay-"), 0);
    free(args);
    free(log);
    record(c->name, before);
}

// ---- chapters that need more than a table row ---------------------------------------

static void test_bom_is_accepted_silently(void)
{
    char a[PATH_CAP], b[PATH_CAP], wa[PATH_CAP], wb[PATH_CAP], args[5 * PATH_CAP];
    static const char text[] = "# Harbour\n\n\"Is anyone there?\" Ann called.\n\nThe boat drifted.\n";
    char bom[sizeof text + 3];
    snprintf(bom, sizeof bom, "\xef\xbb\xbf%s", text);
    write_text(at(a, "plain.txt"), text);
    write_text(at(b, "bom.txt"), bom);
    char *log = NULL, *ca = NULL, *cb = NULL;
    snprintf(args, sizeof args, "render %s -o %s -q", b, at(wb, "bom.wav"));
    CHECK_INT(stderr_of(args, &log), 0);
    CHECK_STR(log, "");
    free(log);
    snprintf(args, sizeof args, "render %s -o %s -q", a, at(wa, "plain.wav"));
    CHECK_INT(stderr_of(args, &log), 0);
    free(log);
    CHECK(same_file(wa, wb));
    snprintf(args, sizeof args, "cues %s", a);
    CHECK_INT(rp(args, &ca), 0);
    snprintf(args, sizeof args, "cues %s", b);
    CHECK_INT(rp(args, &cb), 0);
    CHECK_STR(ca, cb);
    free(ca);
    free(cb);
}

static void test_crlf_and_cr_line_ends_render_like_lf(void)
{
    static const char *const ends[] = {"\n", "\r\n", "\r"};
    static const char *const lines[] = {"# Harbour", "", "The rain fell.", "",
                                        "\"Is anyone there?\" Ann called.", "",
                                        "{sfx thunder}The boat drifted."};
    char ch[3][PATH_CAP], audio[3][PATH_CAP], args[5 * PATH_CAP], *cues[3] = {0};
    for (int e = 0; e < 3; e++) {
        char name[32];
        snprintf(name, sizeof name, "ends%d.txt", e);
        FILE *f = fopen(at(ch[e], name), "wb");
        for (size_t i = 0; f && i < sizeof lines / sizeof lines[0]; i++)
            fprintf(f, "%s%s", lines[i], ends[e]);
        if (f)
            fclose(f);
        snprintf(name, sizeof name, "ends%d.wav", e);
        char *log = NULL;
        snprintf(args, sizeof args, "render %s -o %s -q", ch[e], at(audio[e], name));
        CHECK_INT(stderr_of(args, &log), 0);
        CHECK_STR(log, "");
        free(log);
        snprintf(args, sizeof args, "cues %s", ch[e]);
        CHECK_INT(rp(args, &cues[e]), 0);
    }
    for (int e = 1; e < 3; e++) {
        CHECK_MSG(same_file(audio[0], audio[e]), "line ends %d", e);
        CHECK_STR(cues[0], cues[e]);
    }
    for (int e = 0; e < 3; e++)
        free(cues[e]);
}

// A line of exactly RP_MAX_LINE_BYTES ending in a quote is read whole (the
// quote is found at its column); one byte more is an error at the line.
static void test_a_line_of_one_megabyte(void)
{
    static const char quote[] = " \"Is anyone there?\" Ann called.";
    size_t n = RP_MAX_LINE_BYTES, head = n - strlen(quote);
    char *line = malloc(n + 2);
    if (!line)
        return;
    for (size_t i = 0; i < head; i++)
        line[i] = i % 5 == 4 ? ' ' : "word"[i % 5];
    memcpy(line + head, quote, strlen(quote));
    line[n] = '\n';
    char ch[PATH_CAP], args[2 * PATH_CAP], want[64], *log = NULL;
    put(at(ch, "megaline.txt"), line, n + 1);
    snprintf(args, sizeof args, "quotes %s", ch);
    CHECK_INT(rp(args, &log), 0);
    snprintf(want, sizeof want, "\n1\t%zu\tAnn\n", head + 2);
    CHECK_MSG(strstr(log, want) != NULL, "wanted %s in %.200s", want, log);
    free(log);
    line[n] = 'x';
    line[n + 1] = '\n';
    put(ch, line, n + 2);
    CHECK_INT(stderr_of(args, &log), 1);
    snprintf(want, sizeof want, ":1:1: error: line is longer than %u bytes",
             (unsigned)RP_MAX_LINE_BYTES);
    CHECK_MSG(strstr(log, ch) && strstr(log, want), "%s", log);
    free(log);
    free(line);
}

// 50 MB of prose with a quote every tenth paragraph: `quotes` (the cheapest
// command that reads it all) finds every quote, the last one on its line.
// A chapter over RP_MAX_CHAPTER_BYTES is refused by name.
static void test_a_fifty_megabyte_chapter(void)
{
    static const char narration[] =
        "The boat drifted closer to the pier, and the gulls wheeled over the grey harbour "
        "while the rain came down on the slate roofs of the town.\n\n";
    static const char quote[] = "\"Is anyone there?\" Ann called across the water.\n\n";
    char ch[PATH_CAP], args[2 * PATH_CAP], *log = NULL;
    FILE *f = fopen(at(ch, "big.txt"), "wb");
    size_t bytes = 0, quotes = 0, line = 1, last = 0;
    while (f && bytes < (size_t)BIG_MB * 1000 * 1000) {
        for (int k = 0; k < 9; k++) {
            fputs(narration, f);
            bytes += sizeof narration - 1;
            line += 2;
        }
        fputs(quote, f);
        bytes += sizeof quote - 1;
        last = line;
        line += 2;
        quotes++;
    }
    CHECK(f && fclose(f) == 0);
    snprintf(args, sizeof args, "quotes %s", ch);
    CHECK_INT(rp(args, &log), 0);
    char want[64];
    snprintf(want, sizeof want, "\n%zu\t1\tAnn\n", last);
    CHECK_INT(lines_of(log), quotes + 1);
    CHECK_MSG(strstr(log, want) != NULL, "no row %s", want);
    free(log);
    unlink(ch);
    // Sparse: over the limit costs no disk.
    int fd = open(ch, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && ftruncate(fd, (off_t)RP_MAX_CHAPTER_BYTES + 1) == 0);
    if (fd >= 0)
        close(fd);
    CHECK_INT(stderr_of(args, &log), 1);
    snprintf(want, sizeof want, ": error: file is larger than the limit of %u bytes",
             (unsigned)RP_MAX_CHAPTER_BYTES);
    CHECK_MSG(strstr(log, ch) && strstr(log, want), "%s", log);
    free(log);
    unlink(ch);
}

// ---- outputs ---------------------------------------------------------------------------

// The chapter for output cases, rendered once (warming the clip cache) to
// ref.wav; "old" is a valid WAV of another chapter, the file a failed
// render must leave as it was.
static char ch_plain[PATH_CAP], ref_wav[PATH_CAP], old_wav[PATH_CAP];

static int prepare_outputs(void)
{
    char ch_other[PATH_CAP], args[3 * PATH_CAP], *log = NULL;
    write_text(at(ch_plain, "out.txt"), plain);
    write_text(at(ch_other, "other.txt"), other);
    snprintf(args, sizeof args, "render %s -o %s -q", ch_plain, at(ref_wav, "ref.wav"));
    int rc = rp(args, &log);
    free(log);
    snprintf(args, sizeof args, "render %s -o %s -q", ch_other, at(old_wav, "old.wav"));
    rc = rc ? rc : rp(args, &log);
    free(log);
    return rc;
}

static void copy(const char *from, const char *to)
{
    char cmd[3 * PATH_CAP], *out = NULL;
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
    CHECK_INT(run(cmd, &out), 0);
    free(out);
}

static void test_output_folder_missing_or_unwritable(void)
{
    char out[PATH_CAP], args[3 * PATH_CAP], want[3 * PATH_CAP], *log = NULL;
    snprintf(args, sizeof args, "render %s -o %s", ch_plain, at(out, "nosuch/ch.wav"));
    CHECK_INT(stderr_of(args, &log), 1);
    snprintf(want, sizeof want, "%s: error: cannot create output: %s/nosuch: No such file or "
             "directory", out, test_tmpdir());
    CHECK_MSG(strstr(log, want) != NULL, "%s", log);
    free(log);
    // A file where a folder should be.
    snprintf(args, sizeof args, "render %s -o %s/ch.wav", ch_plain, ch_plain);
    CHECK_INT(stderr_of(args, &log), 1);
    CHECK_MSG(strstr(log, ": Not a directory") != NULL, "%s", log);
    free(log);
    // A folder without write permission (root writes anywhere: not there).
    char ro[PATH_CAP];
    mkdir(at(ro, "readonly"), 0777);
    copy(old_wav, at(out, "readonly/ch.wav"));
    chmod(ro, 0555);
    if (access(ro, W_OK) != 0) {
        snprintf(args, sizeof args, "render %s -o %s", ch_plain, out);
        CHECK_INT(stderr_of(args, &log), 1);
        snprintf(want, sizeof want, "%s: error: cannot create output: %s: Permission denied",
                 out, ro);
        CHECK_MSG(strstr(log, want) != NULL, "%s", log);
        free(log);
        CHECK(same_file(out, old_wav));
    } else {
        printf("  (running as root: the read-only folder case is skipped)\n");
    }
    chmod(ro, 0755);
    CHECK_INT(count_files(test_tmpdir(), ".radioplay-"), 0);
}

static void test_output_is_an_input(void)
{
    char self[PATH_CAP], cast[PATH_CAP], out[PATH_CAP], args[4 * PATH_CAP], *log = NULL;
    // A chapter whose name ends in .wav, rendered onto itself.
    write_text(at(self, "self.wav"), plain);
    snprintf(args, sizeof args, "render %s -o %s", self, self);
    CHECK_INT(stderr_of(args, &log), 1);
    CHECK_MSG(strstr(log, "self.wav: error: refusing to overwrite the input chapter"), "%s", log);
    free(log);
    char *kept = read_text(self);
    CHECK_STR(kept, plain);
    free(kept);
    // The labels onto the chapter's cast sheet.
    write_text(at(cast, "out.cast"), "[narrator]\nrate = 170\n");
    snprintf(args, sizeof args, "render %s -o %s --labels %s", ch_plain, at(out, "o.wav"), cast);
    CHECK_INT(stderr_of(args, &log), 1);
    CHECK_MSG(strstr(log, "out.cast: error: refusing to overwrite the input cast sheet"), "%s",
              log);
    free(log);
    kept = read_text(cast);
    CHECK_STR(kept, "[narrator]\nrate = 170\n");
    free(kept);
    unlink(cast);
    CHECK(!file_exists(out));
    // One file named as two outputs.
    snprintf(args, sizeof args, "render %s -o %s --labels %s", ch_plain, out, out);
    CHECK_INT(stderr_of(args, &log), 2);
    CHECK_MSG(strstr(log, "o.wav: error: named as two outputs"), "%s", log);
    free(log);
    CHECK(!file_exists(out));
    // The audio onto a folder.
    char folder[PATH_CAP];
    mkdir(at(folder, "folder.wav"), 0777);
    snprintf(args, sizeof args, "sfx thunder -o %s", folder);
    CHECK_INT(stderr_of(args, &log), 1);
    CHECK_MSG(strstr(log, "folder.wav: error: is a directory, not a file"), "%s", log);
    free(log);
    CHECK_INT(count_files(test_tmpdir(), ".radioplay-"), 0);
}

static int is_char_device(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISCHR(sb.st_mode);
}

// /dev/full: every write fails with ENOSPC.
static void test_full_disk_dev_full(void)
{
    char args[4 * PATH_CAP], out[PATH_CAP], link[PATH_CAP], *log = NULL;
    snprintf(args, sizeof args, "{ %s cues %s > /dev/full; }", radioplay_bin(), ch_plain);
    CHECK_INT(run(args, &log), 1);
    CHECK_MSG(strstr(log, "radioplay: standard output: error: cannot write: No space left on "
                          "device"), "%s", log);
    free(log);
    snprintf(args, sizeof args, "annotate %s -o /dev/full", ch_plain);
    CHECK_INT(stderr_of(args, &log), 1);
    CHECK_MSG(strstr(log, "/dev/full: error: cannot write: No space left on device"), "%s", log);
    free(log);
    // Written into, never renamed over.
    CHECK(is_char_device("/dev/full"));
    // Subtitles that cannot be written: the render fails, by name.
    unlink(at(link, "full.srt"));
    CHECK_INT(symlink("/dev/full", link), 0);
    snprintf(args, sizeof args, "render %s -o %s --subs %s -q", ch_plain, at(out, "full.wav"),
             link);
    CHECK_INT(stderr_of(args, &log), 1);
    CHECK_MSG(strstr(log, "full.srt: error: cannot write: No space left on device"), "%s", log);
    free(log);
    CHECK(is_char_device(link));
    unlink(link);
    unlink(out);
    CHECK_INT(count_files(test_tmpdir(), ".radioplay-"), 0);
}

// Runs radioplay with files limited to limit bytes and SIGXFSZ ignored, so
// that a write past it fails with EFBIG, as one on a full disk fails with
// ENOSPC. Standard error comes through a pipe, which the limit spares;
// standard output goes to stdout_path (nothing is expected there).
static char stdout_path[PATH_CAP];

static int run_limited(rlim_t limit, const char *args, char **log)
{
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "{ %s %s 2>&1 >'%s'; }", radioplay_bin(), args,
             at(stdout_path, "stdout.txt"));
    file_limit_begin((long long)limit);
    int rc = run(cmd, log);
    file_limit_end();
    return rc;
}

static long long size_of(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

// A disk that fills at any point of the file, in every format: in the
// header, in the samples, one byte short of the end. The old file stays
// byte for byte and the error names the file. With room for the file
// (exactly, for PCM WAV; a compressed file's size depends on the gain of
// the pass that writes it), it is written. The target is loud (-10 LUFS):
// the limiter costs loudness and a further pass corrects the gain, and
// still the file must change once, from old to new.
static void test_full_disk_at_every_stage(void)
{
    static const struct {
        const char *ext, *bits;
        int exact;  // 1: the file's size is the same whatever the gain
    } formats[] = {
        {"wav", "", 1},        {"wav", "--bits 24", 1}, {"wav", "--bits float", 1},
        {"flac", "", 0},       {"flac", "--bits 24", 0}, {"ogg", "", 0},
        {"mp3", "", 0},
    };
    for (size_t e = 0; e < sizeof formats / sizeof formats[0]; e++) {
        const char *ext = formats[e].ext, *bits = formats[e].bits;
        if (!strcmp(ext, "mp3") && !rp_format_can_write(RP_FMT_MP3, 48000, 2)) {
            printf("  (this libsndfile writes no MP3: skipped)\n");
            continue;
        }
        char ref[PATH_CAP], out[PATH_CAP], old[PATH_CAP], name[32], args[4 * PATH_CAP];
        char *log = NULL;
        snprintf(name, sizeof name, "limref%zu.%s", e, ext);
        snprintf(args, sizeof args, "render %s -o %s -q --loudness -10 %s", ch_plain,
                 at(ref, name), bits);
        CHECK_INT(rp(args, &log), 0);
        free(log);
        snprintf(name, sizeof name, "limold%zu.%s", e, ext);
        snprintf(args, sizeof args, "render %s -o %s -q --seed 9 --loudness -30 %s", ch_plain,
                 at(old, name), bits);
        CHECK_INT(rp(args, &log), 0);
        free(log);
        long long size = size_of(ref);
        const long long room = formats[e].exact ? size : 2 * size;
        const long long limits[] = {1, 44, size / 3, size - 4096, size - 1, room};
        snprintf(name, sizeof name, "lim%zu.%s", e, ext);
        at(out, name);
        snprintf(args, sizeof args, "render %s -o %s -q --loudness -10 %s", ch_plain, out, bits);
        for (size_t k = 0; k < sizeof limits / sizeof limits[0]; k++) {
            if (limits[k] <= 0)
                continue;
            copy(old, out);
            int rc = run_limited((rlim_t)limits[k], args, &log);
            if (limits[k] < size) {
                CHECK_MSG(rc == 1 && strstr(log, "error: cannot write: File too large") &&
                              strstr(log, name),
                          "%s %s limited to %lld of %lld bytes: exit %d\n%s", ext, bits,
                          limits[k], size, rc, log);
                CHECK_MSG(same_file(out, old), "%s %s limited to %lld of %lld bytes: the old "
                          "file was replaced", ext, bits, limits[k], size);
            } else {
                CHECK_MSG(rc == 0, "%s %s with room for %lld bytes: exit %d\n%s", ext, bits,
                          room, rc, log);
                CHECK_MSG(same_file(out, ref),
                          "%s %s with room: not the reference", ext, bits);
            }
            // Nothing on stdout: sf_strerror prints codes it does not know there.
            CHECK_MSG(size_of(stdout_path) == 0, "%s %s limited to %lld bytes: output on stdout",
                      ext, bits, limits[k]);
            CHECK_INT(count_files(test_tmpdir(), ".radioplay-"), 0);
            free(log);
        }
    }
}

// An output that is a symbolic link: its file gets the output, the link stays.
static void test_outputs_through_symbolic_links(void)
{
    char real[PATH_CAP], link[PATH_CAP], args[3 * PATH_CAP], *log = NULL;
    copy(old_wav, at(real, "real.wav"));
    unlink(at(link, "link.wav"));
    CHECK_INT(symlink("real.wav", link), 0);
    snprintf(args, sizeof args, "render %s -o %s -q", ch_plain, link);
    CHECK_INT(stderr_of(args, &log), 0);
    free(log);
    struct stat sb;
    CHECK(lstat(link, &sb) == 0 && S_ISLNK(sb.st_mode));
    CHECK(same_file(real, ref_wav));
    write_text(at(real, "real.txt"), "OLD");
    unlink(at(link, "link.txt"));
    CHECK_INT(symlink("real.txt", link), 0);
    snprintf(args, sizeof args, "annotate %s -o %s", ch_plain, link);
    CHECK_INT(stderr_of(args, &log), 0);
    free(log);
    CHECK(lstat(link, &sb) == 0 && S_ISLNK(sb.st_mode));
    char *annotated = NULL, *text = read_text(real);
    snprintf(args, sizeof args, "annotate %s", ch_plain);
    CHECK_INT(rp(args, &annotated), 0);
    CHECK_STR(text, annotated);
    free(annotated);
    free(text);
    CHECK_INT(count_files(test_tmpdir(), ".radioplay-"), 0);
}

// ---- signals -----------------------------------------------------------------------------

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

// Whether the clip cache (clips/NAME.clip) holds a clip yet: synthesis
// is under way.
static int has_clip(const char *cache)
{
    char dir[2 * PATH_CAP];
    snprintf(dir, sizeof dir, "%s/radioplay/clips", cache);
    DIR *d = opendir(dir);
    int yes = 0;
    for (struct dirent *c; d && !yes && (c = readdir(d));) {
        size_t n = strlen(c->d_name);
        yes = c->d_name[0] != '.' && n > 5 && !strcmp(c->d_name + n - 5, ".clip");
    }
    if (d)
        closedir(d);
    return yes;
}

// Starts a render of a long chapter (no clip of it cached) over an old
// file, sends sig once synthesis is under way, and checks what is left.
static void signal_mid_render(int sig)
{
    char ch[PATH_CAP], out[PATH_CAP], cache[PATH_CAP], logpath[PATH_CAP];
    FILE *f = fopen(at(ch, "long.txt"), "wb");
    for (int i = 0; f && i < 300; i++)
        fprintf(f, "Paragraph %d of a chapter that takes a while to speak, with "
                   "\"a line of dialogue,\" said Ann, \"and another.\"\n\n", i);
    if (f)
        fclose(f);
    copy(old_wav, at(out, "long.wav"));
    char name[32];
    snprintf(name, sizeof name, "cache-sig%d", sig);
    at(cache, name);
    at(logpath, "signal.log");
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 2);
        dup2(fd, 1);
        setenv("XDG_CACHE_HOME", cache, 1);
        execl(radioplay_bin(), "radioplay", "render", ch, "-o", out, "-j", "2", (char *)NULL);
        _exit(127);
    }
    int status = 0;
    for (int waited = 0; waited < 30000 && !has_clip(cache); waited += 5)
        sleep_ms(5);
    kill(pid, sig);
    waitpid(pid, &status, 0);
    char *log = read_text(logpath);
    if (sig == SIGKILL) {
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        remove_files(".radioplay-");
    } else {
        char want[2 * PATH_CAP];
        snprintf(want, sizeof want, "radioplay: interrupted; %s was not written", out);
        CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status %d", status);
        CHECK_MSG(log && strstr(log, want), "%s", log ? log : "(no log)");
        CHECK_INT(count_files(test_tmpdir(), ".radioplay-"), 0);
    }
    CHECK(same_file(out, old_wav));
    free(log);
    unlink(logpath);
}

static void test_sigint_mid_render(void)
{
    signal_mid_render(SIGINT);
}

static void test_sigterm_mid_render(void)
{
    signal_mid_render(SIGTERM);
}

static void test_sigkill_mid_render(void)
{
    signal_mid_render(SIGKILL);
}

int main(void)
{
    char cache[PATH_CAP];
    setenv("XDG_CACHE_HOME", at(cache, "cache"), 1);
    presets();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(i);
    RUN(test_bom_is_accepted_silently);
    RUN(test_crlf_and_cr_line_ends_render_like_lf);
    RUN(test_a_line_of_one_megabyte);
    RUN(test_a_fifty_megabyte_chapter);
    CHECK_INT(prepare_outputs(), 0);
    RUN(test_output_folder_missing_or_unwritable);
    RUN(test_output_is_an_input);
    RUN(test_full_disk_dev_full);
    RUN(test_full_disk_at_every_stage);
    RUN(test_outputs_through_symbolic_links);
    RUN(test_sigint_mid_render);
    RUN(test_sigterm_mid_render);
    RUN(test_sigkill_mid_render);
    return TEST_SUMMARY("test_badinput");
}
