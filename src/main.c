// SPDX-License-Identifier: GPL-3.0-or-later
// radioplay's command line: parses arguments, wires the pipeline stages
// (render.c), prints diagnostics and picks the exit code: 0 success, 1 input,
// render or I/O failure, 2 usage.
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rp_annotate.h"
#include "rp_check.h"
#include "rp_cache.h"
#include "rp_config.h"
#include "rp_device.h"
#include "rp_io.h"
#include "rp_master.h"
#include "rp_play.h"
#include "rp_render.h"
#include "rp_sidecar.h"
#include "rp_svg.h"
#include "rp_worker.h"
#include "rp_sink.h"

enum { EXIT_INPUT = 1, EXIT_USAGE = 2 };

static int verbosity = 1;  // 0 quiet, 1 normal, 2 verbose
static volatile sig_atomic_t interrupted;
static double started_s;   // when main began (CLOCK_MONOTONIC)

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void print_diags(const rp_diags *d)
{
    char buf[2048];
    for (size_t i = 0; i < d->n; i++) {
        if (d->items[i].sev != RP_DIAG_ERROR && verbosity == 0)
            continue;
        fprintf(stderr, "radioplay: %s\n", rp_diag_format(&d->items[i], buf, sizeof buf));
    }
    if (d->n_errors > d->n)
        fprintf(stderr, "radioplay: %zu more errors not shown\n", d->n_errors - d->n);
}

static int exit_code(rp_status st)
{
    return st == RP_OK ? 0 : st == RP_ERR_USAGE ? EXIT_USAGE : EXIT_INPUT;
}

// ---- help ------------------------------------------------------------------

static const char usage_text[] =
    "usage: radioplay COMMAND [OPTIONS]\n"
    "\n"
    "Turns a story chapter into an audio drama.\n"
    "\n"
    "commands:\n"
    "  render CHAPTER [-o OUT]   render to an audio file (.wav, .flac, .ogg, .mp3)\n"
    "  play CHAPTER [--from T]   play live, showing who speaks (keys: space, arrows, n, p, q)\n"
    "  devices                   list the audio output devices\n"
    "  cast CHAPTER              print the resolved cast sheet\n"
    "  cues CHAPTER              print the timeline as TSV\n"
    "  annotate CHAPTER [-o OUT] write the chapter back with its speakers and cues\n"
    "  quotes CHAPTER            print every quote with its speaker as TSV\n"
    "  check CHAPTER             list weak attributions, names to audition, repeats\n"
    "  say WORD [-o OUT]         print how a word is pronounced, and speak it\n"
    "  voices                    list espeak-ng voices and variants\n"
    "  sfx NAME -o OUT | --list  audition an effect preset\n"
    "  info FILE                 print an audio file's length and format\n"
    "  loudness FILE|CHAPTER     loudness, true peak, RMS, floor: pass or fail\n"
    "  cache [--stats|--clear]   the clip cache: size, clear, --trim, --verify\n"
    "\n"
    "'radioplay COMMAND --help' shows a command's options.\n"
    "exit status: 0 success, 1 input/render/I-O error, 2 usage error\n";

static const char common_opts[] =
    "  --cast FILE     cast sheet (default: CHAPTER.cast beside the chapter)\n"
    "  --sfx-dir DIR   extra effect presets (*.sfx), overriding built-in ones\n"
    "  --rate HZ       output sample rate (default 48000)\n"
    "  --channels N    1 or 2 (default 2)\n"
    "  --seed N        effects seed (default 1)\n"
    "  -q, --quiet     errors only\n"
    "  -v, --verbose   more detail\n";

static const struct {
    const char *name, *synopsis, *about;
} commands[] = {
    {"render", "radioplay render CHAPTER [-o OUT] [options] | CHAPTER... -o DIR/ [--format EXT]",
     "Renders CHAPTER to OUT (default: CHAPTER with .wav). The format follows OUT's\n"
     "extension: .wav and .flac (16-bit, or --bits), .ogg (Vorbis), .mp3 (constant\n"
     "192 kbit/s, where libsndfile has MP3). The mix is measured, then written\n"
     "normalized to the loudness target (default -16 LUFS stereo, -19 mono) under\n"
     "a true-peak ceiling (default -1 dBTP). The file is written to a temporary\n"
     "name and renamed into place when complete. Several chapters (or -o naming a\n"
     "folder) render each into the folder as NAME.EXT, several at once."},
    {"play", "radioplay play CHAPTER [--from T | --from-line N | --from-cue N] [--device D] "
             "[options]",
     "Plays CHAPTER on an audio device as it is synthesized: it starts at once and\n"
     "is the audio 'render' would write. A terminal shows each line as it is\n"
     "spoken and a progress bar; keys: space pause/resume, Left/Right 10 s back or\n"
     "forward, n/p next/previous paragraph, q quit. When standard output is not a\n"
     "terminal, one plain line per utterance: \"[m:ss] Speaker: text\"."},
    {"devices", "radioplay devices",
     "Lists the audio output devices as TSV: number (for --device), name, host API,\n"
     "channels, default rate, and 'default' on the default one."},
    {"cast", "radioplay cast CHAPTER [options]",
     "Prints the cast sheet radioplay would use, every automatic choice filled in;\n"
     "save it as CHAPTER.cast, edit it, and render again."},
    {"cues", "radioplay cues CHAPTER [options]",
     "Prints the resolved timeline as TSV: start, end (seconds), kind (speech, sfx,\n"
     "bed, pause, room), who, text."},
    {"annotate", "radioplay annotate CHAPTER [-o OUT] [options]",
     "Writes CHAPTER back with every automatic decision made explicit: a {Name}\n"
     "tag before each quote whose speaker radioplay chose, and the cues the sound\n"
     "rules add ({sfx NAME} and {bed NAME} before their word, {stop NAME} at the\n"
     "end of a scene). The rest is the chapter byte for byte. Renders to the same\n"
     "audio; annotating the result again changes nothing. Prints to standard\n"
     "output, or writes OUT atomically (OUT may be CHAPTER itself)."},
    {"quotes", "radioplay quotes CHAPTER [--explain] [options]",
     "Prints one row per quote: line, col (1-based, in characters, of the opening\n"
     "quote mark) and speaker. --explain adds the rule that chose the speaker\n"
     "(tag and screenplay for explicit ones), its confidence and the quote's start."},
    {"check", "radioplay check CHAPTER [--cast FILE] [--min-confidence X] [options]",
     "Lints CHAPTER: quotes whose speaker is a guess below the confidence X\n"
     "(default 0.5), the names in it with their counts (to audition with\n"
     "'radioplay say' and respell in the cast sheet's [say]), and paragraphs that\n"
     "nearly repeat an earlier one. Exit 0 when the chapter loads, warnings or not."},
    {"say", "radioplay say WORD [--cast FILE] [--voice SPEAKER] [-o OUT.wav]",
     "Prints the respelling the cast sheet's [say] gives WORD, if any, and\n"
     "espeak-ng's phonemes for it, ready to paste into [say]. With -o, writes the\n"
     "word as SPEAKER's voice (default: the narrator) would say it."},
    {"voices", "radioplay voices", "Lists the espeak-ng voices and variants for the cast sheet."},
    {"sfx", "radioplay sfx NAME -o OUT [--seed N] [--duration S] [--sfx-dir DIR] | --list",
     "Renders one effect preset to OUT, or lists the presets with --list."},
    {"info", "radioplay info FILE", "Prints an audio file's duration, rate, channels and format."},
    {"cache", "radioplay cache [--stats | --clear | --trim | --verify]",
     "The clip cache ($XDG_CACHE_HOME/radioplay): synthesized lines kept so that a\n"
     "render after a tweak speaks only what changed. --stats (the default) prints\n"
     "its folder, clips, size and bound ($RADIOPLAY_CACHE_SIZE, default 2G);\n"
     "--trim, past the bound, removes the least recently used clips down to nine\n"
     "tenths of it; --verify reads every clip back and removes damaged ones;\n"
     "--clear removes everything."},
    {"loudness", "radioplay loudness FILE|CHAPTER [--loudness LUFS|acx] [--ceiling DBTP] [options]",
     "Measures an audio file (or renders a chapter without writing it) and prints a\n"
     "compliance report: integrated loudness (EBU R128), loudness range, true peak,\n"
     "sample peak, RMS and noise floor (the RMS of the quietest 0.5 s), each with\n"
     "pass or fail where a rule applies: the loudness target +-0.5 LU and the\n"
     "ceiling, or with --loudness acx the ACX rules (RMS -23 to -18 dB, peak at\n"
     "most -3 dB, floor at most -60 dB). Exit 0 when all pass, 1 when one fails."},
};

static int command_help(const char *cmd, FILE *f)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(commands[i].name, cmd))
            continue;
        fprintf(f, "usage: %s\n\n%s\n", commands[i].synopsis, commands[i].about);
        if (!strcmp(cmd, "say"))
            fprintf(f, "\noptions:\n  --cast FILE     cast sheet whose [say] and voices to use\n"
                       "  --voice SPEAKER speak as this speaker's voice (default: narrator)\n"
                       "  -o OUT          also write the spoken word (.wav, .flac, .ogg)\n"
                       "  --seed N        seed of the voice effect's noise (default 1)\n");
        else if (strcmp(cmd, "voices") && strcmp(cmd, "info") && strcmp(cmd, "devices") &&
                 strcmp(cmd, "cache"))
            fprintf(f, "\noptions:\n%s", common_opts);
        if (!strcmp(cmd, "play"))
            fprintf(f, "  --from T        start at time T (seconds, m:ss or h:mm:ss)\n"
                       "  --from-line N   start at the first line spoken at or after chapter line N\n"
                       "  --from-cue N    start at row N of 'radioplay cues' (1 = the first)\n"
                       "  --device D      output device: number or part of the name "
                       "('radioplay devices')\n"
                       "  --buffer S      seconds mixed ahead of the device (default %.1f)\n"
                       "  --stats         print level, time to first audio, underruns, frames played\n",
                    RP_PLAY_BUFFER_S);
        if (!strcmp(cmd, "quotes"))
            fprintf(f, "  --explain       add rule, confidence and text columns\n");
        if (!strcmp(cmd, "check"))
            fprintf(f, "  --min-confidence X  list quotes attributed below X, 0..1 "
                       "(default %.2g)\n", RP_CHECK_MIN_CONFIDENCE);
        if (!strcmp(cmd, "render") || !strcmp(cmd, "annotate"))
            fprintf(f, "  -o, --output OUT  output file\n");
        if (!strcmp(cmd, "render") || !strcmp(cmd, "play") || !strcmp(cmd, "loudness"))
            fprintf(f, "  --loudness L    integrated loudness target in LUFS (default -16 stereo,\n"
                       "                  -19 mono), 'acx' (RMS -20 dB, peak -3 dB) or 'off'\n"
                       "  --acx           the same as --loudness acx (audiobook platforms)\n"
                       "  --ceiling DB    true-peak ceiling in dBTP (default %.0f)\n",
                    RP_LIMITER_CEILING_DB);
        if (!strcmp(cmd, "render") || !strcmp(cmd, "play") || !strcmp(cmd, "loudness"))
            fprintf(f, "  -j, --jobs N    synthesis workers at once (default: one per processor)\n"
                       "  --no-cache      neither read nor write the clip cache\n");
        if (!strcmp(cmd, "render") || !strcmp(cmd, "play"))
            fprintf(f, "  --watch         again whenever the chapter, cast sheet or presets change\n");
        if (!strcmp(cmd, "render"))
            fprintf(f, "  --format EXT    several chapters: wav (default), flac, ogg or mp3\n");
        if (!strcmp(cmd, "render"))
            fprintf(f, "  --bits B        WAV and FLAC samples: 16 (default), 24 or float\n"
                       "  --subs FILE     subtitles with speaker labels (.srt or .vtt)\n"
                       "  --labels FILE   an Audacity label track of every line and cue\n"
                       "  --timeline FILE a picture of the drama (.svg)\n"
                       "  --stems DIR     also write DIR/dialogue.wav, narration, effects, beds\n"
                       "                  (float; they sum to the mix before mastering)\n");
        if (!strcmp(cmd, "sfx"))
            fprintf(f, "  -o OUT          output file\n  --duration S    length in seconds "
                       "(default: the preset's; beds 10 s)\n  --list          list presets\n");
        return 0;
    }
    return 1;
}

// ---- options -----------------------------------------------------------------

typedef struct {
    const char *cmd;
    const char *positional[RP_MAX_CHAPTERS];
    int n_positional;
    const char *out;
    double duration_s;
    int list;
    int explain;             // quotes --explain
    double min_confidence;   // check; < 0: the default
    const char *voice;       // say --voice
    rp_play_options play;
    int n_from;              // --from, --from-line and --from-cue given
    const char *subs, *labels, *timeline, *stems;  // render's files beside the audio
    const char *cache_op;    // cache --stats, --clear, --trim, --verify
    const char *format;      // render of several chapters: the files' extension
    int watch;               // render and play --watch
    rp_drama_options drama;
} options;

static int usage_error(const char *cmd, const char *fmt, const char *arg)
{
    fprintf(stderr, "radioplay: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'radioplay %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
    return EXIT_USAGE;
}

static int parse_number(const char *cmd, const char *opt, const char *s, double lo, double hi,
                        double *out)
{
    char *end;
    double x = strtod(s, &end);
    if (end == s || *end || !(x >= lo && x <= hi)) {
        fprintf(stderr, "radioplay: %s: '%s' must be a number from %g to %g\n", opt, s, lo, hi);
        fprintf(stderr, "Try 'radioplay %s --help'.\n", cmd);
        return EXIT_USAGE;
    }
    *out = x;
    return 0;
}

// Seconds, m:ss or h:mm:ss, each part possibly with decimals; 0 on success.
static int parse_time(const char *s, double *out)
{
    double t = 0;
    int parts = 0;
    const char *p = s;
    for (;;) {
        char *end;
        if (*p < '0' || *p > '9')
            return -1;
        double x = strtod(p, &end);
        if (parts > 0 && x >= 60)
            return -1;
        t = t * 60 + x;
        parts++;
        if (*end == '\0')
            break;
        if (*end != ':' || parts == 3 || memchr(p, '.', (size_t)(end - p)))
            return -1;
        p = end + 1;
    }
    if (!(t >= 0 && t < 1e7))
        return -1;
    *out = t;
    return 0;
}

static int parse_options(int argc, char **argv, options *o)
{
    const char *cmd = o->cmd;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        double x;
        int rc;
#define NEED_ARG                                                              \
    if (!next)                                                                \
        return usage_error(cmd, "option %s needs a value", a);                \
    i++
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            command_help(cmd, stdout);
            exit(0);
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            verbosity = 0;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            verbosity = 2;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            NEED_ARG;
            o->out = next;
        } else if (!strcmp(a, "--cast")) {
            NEED_ARG;
            o->drama.cast_path = next;
        } else if (!strcmp(a, "--sfx-dir")) {
            NEED_ARG;
            o->drama.sfx_dir = next;
        } else if (!strcmp(a, "--rate")) {
            NEED_ARG;
            if ((rc = parse_number(cmd, a, next, RP_MIN_RATE_HZ, RP_MAX_RATE_HZ, &x)))
                return rc;
            o->drama.rate_hz = (int)x;
        } else if (!strcmp(a, "--channels")) {
            NEED_ARG;
            if ((rc = parse_number(cmd, a, next, 1, 2, &x)))
                return rc;
            o->drama.channels = (int)x;
        } else if (!strcmp(a, "--seed")) {
            NEED_ARG;
            if ((rc = parse_number(cmd, a, next, 0, 4294967295.0, &x)))
                return rc;
            o->drama.seed = (long long)x;
        } else if (!strcmp(a, "--duration")) {
            NEED_ARG;
            if ((rc = parse_number(cmd, a, next, 0.01, 3600, &x)))
                return rc;
            o->duration_s = x;
        } else if (!strcmp(a, "--list")) {
            o->list = 1;
        } else if (!strcmp(a, "--explain")) {
            o->explain = 1;
        } else if (!strcmp(a, "--min-confidence")) {
            NEED_ARG;
            if ((rc = parse_number(cmd, a, next, 0, 1, &o->min_confidence)))
                return rc;
        } else if (!strcmp(a, "--voice")) {
            NEED_ARG;
            o->voice = next;
        } else if (!strcmp(a, "--from")) {
            NEED_ARG;
            if (parse_time(next, &o->play.from_s))
                return usage_error(cmd, "--from: '%s' is not a time (seconds, m:ss or h:mm:ss)",
                                   next);
            o->play.from_kind = RP_SEEK_FRAME;
            o->n_from++;
        } else if (!strcmp(a, "--from-line") || !strcmp(a, "--from-cue")) {
            NEED_ARG;
            if ((rc = parse_number(cmd, a, next, 1, 1e9, &x)))
                return rc;
            int cue = !strcmp(a, "--from-cue");
            o->play.from_kind = cue ? RP_SEEK_EVENT : RP_SEEK_LINE;
            o->play.from = cue ? (int64_t)x - 1 : (int64_t)x;
            o->n_from++;
        } else if (!strcmp(a, "--device")) {
            NEED_ARG;
            o->play.device = next;
        } else if (!strcmp(a, "--buffer")) {
            NEED_ARG;
            if ((rc = parse_number(cmd, a, next, 0.05, 600, &x)))
                return rc;
            o->play.buffer_s = x;
        } else if (!strcmp(a, "--stats")) {
            o->play.stats = 1;
        } else if (!strcmp(a, "--loudness")) {
            NEED_ARG;
            rp_master_target *t = &o->drama.master;
            if (!rp_strcasecmp(next, "acx")) {
                t->norm = RP_NORM_ACX;
            } else if (!rp_strcasecmp(next, "off")) {
                t->norm = RP_NORM_OFF;
            } else {
                if ((rc = parse_number(cmd, a, next, RP_LOUDNESS_MIN_LUFS, RP_LOUDNESS_MAX_LUFS,
                                       &t->target_lufs)))
                    return rc;
                t->norm = RP_NORM_LUFS;
            }
            o->drama.master_set |= RP_SET_LOUDNESS;
        } else if (!strcmp(a, "--acx")) {
            o->drama.master.norm = RP_NORM_ACX;
            o->drama.master_set |= RP_SET_LOUDNESS;
        } else if (!strcmp(a, "--ceiling")) {
            NEED_ARG;
            if ((rc = parse_number(cmd, a, next, -20, 0, &o->drama.master.ceiling_dbtp)))
                return rc;
            o->drama.master_set |= RP_SET_CEILING;
        } else if (!strcmp(a, "--subs") || !strcmp(a, "--labels") || !strcmp(a, "--timeline") ||
                   !strcmp(a, "--stems")) {
            NEED_ARG;
            *(!strcmp(a, "--subs")     ? &o->subs
              : !strcmp(a, "--labels") ? &o->labels
              : !strcmp(a, "--stems")  ? &o->stems
                                       : &o->timeline) = next;
        } else if (!strcmp(a, "-j") || !strcmp(a, "--jobs")) {
            NEED_ARG;
            if ((rc = parse_number(cmd, a, next, 1, RP_MAX_JOBS, &x)))
                return rc;
            o->drama.jobs = (int)x;
        } else if (!strcmp(a, "--watch")) {
            o->watch = 1;
        } else if (!strcmp(a, "--format")) {
            NEED_ARG;
            o->format = next;
        } else if (!strcmp(a, "--no-cache")) {
            o->drama.no_cache = 1;
        } else if (!strcmp(a, "--stats") && !strcmp(cmd, "cache")) {
            o->cache_op = "stats";
        } else if (!strcmp(a, "--clear") || !strcmp(a, "--trim") || !strcmp(a, "--verify")) {
            o->cache_op = a + 2;
        } else if (!strcmp(a, "--bits")) {
            NEED_ARG;
            if (!rp_strcasecmp(next, "float"))
                o->drama.bits = 32;
            else if (!strcmp(next, "16") || !strcmp(next, "24"))
                o->drama.bits = atoi(next);
            else
                return usage_error(cmd, "--bits: '%s' must be 16, 24 or float", next);
        } else if (a[0] == '-' && a[1]) {
            return usage_error(cmd, "unknown option '%s'", a);
        } else if (o->n_positional < RP_MAX_CHAPTERS) {
            o->positional[o->n_positional++] = a;
        } else {
            return usage_error(cmd, "too many arguments%s", "");
        }
#undef NEED_ARG
    }
    return 0;
}

// ---- progress ------------------------------------------------------------------

static int progress_on;

static void progress(void *user, const char *stage, int64_t done, int64_t total)
{
    (void)user;
    if (!progress_on || total <= 0)
        return;
    static int last = -1;
    int pct = (int)(done * 100 / total);
    if (pct == last && done != total)
        return;
    last = pct;
    int bar = pct * 30 / 100;
    fprintf(stderr, "\r%-6s [%.*s%*s] %3d%%", stage, bar, "==============================",
            30 - bar, "", pct);
    if (done == total) {
        fputc('\n', stderr);
        last = -1;
    }
}

// ---- commands --------------------------------------------------------------------

static int need_chapter(const options *o)
{
    if (o->n_positional != 1)
        return usage_error(o->cmd, o->n_positional ? "expected one chapter file%s"
                                                   : "missing chapter file%s", "");
    return 0;
}

static void print_out(const char *s)
{
    if (s)
        fputs(s, stdout);
}

// The files a render reads (the chapter and its cast sheet) are never among
// those it writes, no file is named twice, and every output's folder exists
// and takes files: found before a long render, not after it.
static int check_outputs(const options *o, const char *chapter, const char *const *outs, size_t n)
{
    char *cast = o->drama.cast_path ? rp_strdup(o->drama.cast_path)
                                    : rp_path_with_ext(chapter, ".cast");
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (!outs[i])
            continue;
        const char *input = rp_same_file(chapter, outs[i])        ? "chapter"
                            : cast && rp_same_file(cast, outs[i]) ? "cast sheet"
                                                                  : NULL;
        if (input) {
            fprintf(stderr, "radioplay: %s: error: refusing to overwrite the input %s\n",
                    outs[i], input);
            rc = EXIT_INPUT;
        }
        for (size_t k = 0; k < i && !rc; k++) {
            if (outs[k] && (!strcmp(outs[k], outs[i]) || rp_same_file(outs[k], outs[i]))) {
                fprintf(stderr, "radioplay: %s: error: named as two outputs\n", outs[i]);
                rc = EXIT_USAGE;
            }
        }
        char why[256];
        if (!rc && rp_output_dir_check(outs[i], why, sizeof why)) {
            fprintf(stderr, "radioplay: %s: error: cannot create output: %s\n", outs[i], why);
            rc = EXIT_INPUT;
        }
    }
    free(cast);
    return rc;
}

// Renders one chapter to out_path (NULL: the chapter's name with .wav).
static int render_one(options *o, const char *chapter, const char *out_path, rp_diags *d)
{
    o->drama.chapter_path = chapter;
    char *out = out_path ? rp_strdup(out_path) : rp_path_with_ext(chapter, ".wav");
    int fmt = rp_format_from_path(out);
    if (fmt < 0) {
        fprintf(stderr, "radioplay: %s: unknown output format (use .wav, .flac, .ogg or .mp3)\n",
                out);
        free(out);
        return EXIT_USAGE;
    }
    if (!rp_format_bits_ok((rp_format)fmt, o->drama.bits)) {
        fprintf(stderr, "radioplay: %s: --bits applies to .wav (16, 24, float) and .flac (16, 24)\n",
                out);
        free(out);
        return EXIT_USAGE;
    }
    const char *extra[] = {out, o->subs, o->labels, o->timeline};
    int rc = check_outputs(o, chapter, extra, sizeof extra / sizeof extra[0]);
    if (rc) {
        free(out);
        return rc;
    }
    if (o->subs && rp_subs_format_from_path(o->subs) < 0) {
        fprintf(stderr, "radioplay: %s: unknown subtitle format (use .srt or .vtt)\n", o->subs);
        free(out);
        return EXIT_USAGE;
    }
    rp_drama dr;
    progress_on = verbosity > 0 && isatty(2);
    double t0 = rp_now_s();
    rp_status st = rp_drama_load(&dr, &o->drama, d);
    if (!st && dr.script.n_blocks == 0) {
        // An empty file is a mistake (the wrong file, a failed export), not
        // a second of silence to publish.
        rp_diag_add(d, RP_DIAG_ERROR, chapter, 0, 0, "render", "nothing to render",
                    "the chapter has no text");
        st = RP_ERR_INPUT;
    }
    double t1 = rp_now_s();
    if (!st && o->stems) {
        // The folder is made if need be; the stems in it are written atomically.
        if (mkdir(o->stems, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "radioplay: %s: cannot make the stems folder: %s\n", o->stems,
                    strerror(errno));
            st = RP_ERR_IO;
        }
    }
    rp_render_outputs want = {.audio = out, .stems_dir = o->stems, .peaks = o->timeline != NULL};
    if (!st)
        st = rp_drama_render(&dr, &want, &interrupted, progress, NULL, d);
    // The files beside the audio, once the audio is in place.
    if (!st && o->subs)
        st = rp_subs_write(&dr.timeline, &dr.plan, o->subs, d);
    if (!st && o->labels)
        st = rp_labels_write(&dr.timeline, &dr.plan, &dr.script, o->labels, d);
    if (!st && o->timeline)
        st = rp_svg_write(&dr, dr.peaks, dr.n_peaks, o->timeline, d);
    double t3 = rp_now_s();
    print_diags(d);
    if (verbosity > 1) {
        size_t hits, misses, jobs, noted;
        rp_drama_voicing_counts(&dr, &hits, &misses, &jobs, &noted);
        // The measuring pass mixes alongside the speech; mix+write is
        // what came after the last line's clip.
        double t2 = dr.voiced_s > t1 ? dr.voiced_s : t1;
        fprintf(stderr, "radioplay: times: load %.3f s, speech %.3f s, mix+write %.3f s\n",
                t1 - t0, t2 - t1, t3 - t2);
        if (dr.mixed_alongside > 0 && dr.timeline.n_frames > 0)
            fprintf(stderr, "radioplay: the measuring pass mixed %.0f%% of the chapter alongside "
                    "the speech\n", 100.0 * (double)dr.mixed_alongside /
                    (double)dr.timeline.n_frames);
        fprintf(stderr, "radioplay: clips: %zu from the cache, %zu synthesized", hits, misses);
        if (jobs)
            fprintf(stderr, " in %zu job%s", jobs, jobs == 1 ? "" : "s");
        if (noted)
            fprintf(stderr, " (%zu taken as they were made, before their job's end)", noted);
        fputc('\n', stderr);
        if (jobs)
            fprintf(stderr, "radioplay: workers: %s\n",
                    rp_drama_worker_program() ? rp_drama_worker_program()
                                              : "forks of radioplay itself");
        if (!st)
            fprintf(stderr, "radioplay: passes over the mix: %d%s%s\n", dr.passes,
                    dr.guessed ? " (the gain the last render measured held)" : "",
                    !dr.replayed                   ? ""
                    : dr.replayed == dr.passes - 1 ? " (the measured mix read back, not mixed again)"
                                                   : " (the measured mix read back once, then "
                                                     "mixed again to correct the gain)");
        if (!st && dr.not_guessed)
            fprintf(stderr, "radioplay: measured first: the last render's checkpoints would "
                    "have spared less than half of the chapter\n");
        if (!st && dr.mixed_again >= 0 && dr.timeline.n_frames > 0)
            fprintf(stderr, "radioplay: the pass that wrote the file mixed %.1f%% of the chapter%s\n",
                    100.0 * (double)dr.mixed_again / (double)dr.timeline.n_frames,
                    dr.mixed_again < dr.timeline.n_frames
                        ? " (the rest was the last render's, from its checkpoints)"
                    : dr.other_gain ? " (with another gain than the last render's, none of its "
                                      "file could be kept)"
                                    : "");
        if (!st && dr.copied_ahead)
            fprintf(stderr, "radioplay: the last render's file was copied from the start, while "
                    "the lines were voiced\n");
        if (!st && dr.meter_steps > 0)
            fprintf(stderr, "radioplay: the file's meter took %.0f%% of its 100 ms steps from the "
                    "mix's, times the gain\n", 100.0 * (double)dr.meter_taken /
                    (double)dr.meter_steps);
    }
    if (st == RP_ERR_INTERRUPTED)
        fprintf(stderr, "radioplay: interrupted; %s was not written\n", out);
    else if (st && d->n == 0)
        fprintf(stderr, "radioplay: %s: %s\n", chapter, rp_strerror(st));
    if (!st && verbosity > 0) {
        // In tenths first, so that 59.96 s is 1:00.0, not 0:60.0.
        double secs = round((double)dr.timeline.n_frames / dr.cast.render.rate_hz * 10) / 10;
        fprintf(stderr, "radioplay: wrote %s (%d:%04.1f, %d Hz, %d ch, %zu lines, %zu cues)\n", out,
                (int)(secs / 60), secs - 60 * (int)(secs / 60), dr.cast.render.rate_hz,
                dr.cast.render.channels, dr.plan.n_utts, dr.plan.n_cues);
        fprintf(stderr, "radioplay: loudness %.1f LUFS, peak %.1f dBFS, RMS %.1f dB (gain %+.1f dB)\n",
                dr.loudness.integrated_lufs, dr.loudness.sample_peak_dbfs, dr.loudness.rms_db,
                dr.gain_db);
    }
    rp_drama_deinit(&dr);
    free(out);
    return exit_code(st);
}

// render --watch: renders, then again whenever the chapter, its cast sheet
// or the --sfx-dir presets change, until Ctrl-C. A bad edit is reported
// and waited out; the last good file stays.
static int watch_render(options *o, rp_diags *d)
{
    const char *chapter = o->positional[0];
    char *cast = o->drama.cast_path ? rp_strdup(o->drama.cast_path)
                                    : rp_path_with_ext(chapter, ".cast");
    const char *paths[] = {chapter, cast, o->drama.sfx_dir};
    rp_watch w;
    rp_watch_init(&w, paths, 3);
    int rc = 0;
    for (;;) {
        rc = render_one(o, chapter, o->out, d);
        rp_diags_deinit(d);
        rp_diags_init(d);
        if (interrupted)
            break;
        fprintf(stderr, "radioplay: watching %s and %s%s%s for changes (Ctrl-C stops)\n", chapter,
                cast, o->drama.sfx_dir ? " and " : "", o->drama.sfx_dir ? o->drama.sfx_dir : "");
        if (!rp_watch_wait(&w, &interrupted))
            break;
        fprintf(stderr, "radioplay: changed; rendering again\n");
    }
    free(cast);
    // Ctrl-C is how a watch ends.
    return interrupted ? 0 : rc;
}

static int is_dir_path(const char *p)
{
    struct stat sb;
    size_t n = strlen(p);
    return (n && p[n - 1] == '/') || (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode));
}

// DIR/NAME.EXT for chapter DIR2/NAME.txt; caller frees.
static char *book_output(const char *dir, const char *chapter, const char *ext)
{
    const char *base = strrchr(chapter, '/');
    base = base ? base + 1 : chapter;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    rp_strbuf b;
    rp_strbuf_init(&b);
    rp_strbuf_printf(&b, "%s%s%.*s.%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", (int)n, base,
                     ext);
    return rp_strbuf_take(&b);
}

// render A.txt B.txt ... -o DIR/: one process per chapter, as many at once
// as there are jobs, each with its share of synthesis workers. Chapters are
// independent, so the files are what rendering each alone would give.
static int render_book(options *o, rp_diags *d)
{
    const char *dir = o->out ? o->out : ".";
    const char *ext = o->format ? o->format : "wav";
    if (*ext == '.')
        ext++;
    int n = o->n_positional;
    char **outs = calloc((size_t)n, sizeof *outs);
    pid_t *pids = calloc((size_t)n, sizeof *pids);
    if (!outs || !pids) {
        free(outs);
        free(pids);
        return EXIT_INPUT;
    }
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        outs[i] = book_output(dir, o->positional[i], ext);
        if (!outs[i] || rp_format_from_path(outs[i]) < 0) {
            rc = usage_error(o->cmd, "--format %s: use wav, flac, ogg or mp3", ext);
            break;
        }
        for (int k = 0; k < i && !rc; k++)
            if (!strcmp(outs[k], outs[i])) {
                fprintf(stderr, "radioplay: %s and %s would both be written to %s\n",
                        o->positional[k], o->positional[i], outs[i]);
                rc = EXIT_USAGE;
            }
    }
    // The folder once the names are known to be good.
    if (!rc && mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "radioplay: %s: cannot make the output folder: %s\n", dir, strerror(errno));
        rc = EXIT_INPUT;
    }
    int jobs = o->drama.jobs > 0 ? o->drama.jobs : rp_workers_default_jobs();
    int at_once = jobs < n ? jobs : n, running = 0, failed = 0, next = 0;
    o->drama.jobs = jobs / at_once > 0 ? jobs / at_once : 1;
    while (!rc && (next < n || running > 0)) {
        if (next < n && running < at_once && !interrupted) {
            fflush(NULL);
            pid_t pid = fork();
            if (pid == 0) {
                rp_diags own;
                rp_diags_init(&own);
                int crc = render_one(o, o->positional[next], outs[next], &own);
                rp_drama_workers_leave();
                rp_diags_deinit(&own);
                fflush(NULL);
                _exit(crc);
            }
            if (pid < 0) {
                failed++;
                fprintf(stderr, "radioplay: %s: cannot start: %s\n", o->positional[next],
                        strerror(errno));
            } else {
                pids[next] = pid;
                running++;
            }
            next++;
            continue;
        }
        if (next < n && interrupted)
            next = n;  // start nothing more
        int status;
        pid_t got = wait(&status);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            break;
        // Only a chapter's: run as process 1 (a container) or a subreaper,
        // this process also reaps the orphans of others (rp_rename_into_place's,
        // a chapter's left pool: rp_workers_leave).
        int ours = 0;
        for (int i = 0; i < n && !ours; i++)
            if (pids[i] == got)
                ours = 1, pids[i] = 0;
        if (!ours)
            continue;
        running--;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failed++;
    }
    if (!rc && verbosity > 0)
        fprintf(stderr, "radioplay: %d of %d chapters written to %s\n", n - failed, n, dir);
    for (int i = 0; i < n; i++)
        free(outs[i]);
    free(outs);
    free(pids);
    (void)d;
    return rc ? rc : interrupted || failed ? EXIT_INPUT : 0;
}

static int cmd_render(options *o, rp_diags *d)
{
    if (o->n_positional == 0)
        return usage_error(o->cmd, "expected a chapter file%s", "");
    int book = o->n_positional > 1 || (o->out && is_dir_path(o->out));
    if (!book) {
        if (o->format)
            return usage_error(o->cmd, "--format is for several chapters; name the file with -o%s",
                               "");
        return o->watch ? watch_render(o, d) : render_one(o, o->positional[0], o->out, d);
    }
    if (o->watch)
        return usage_error(o->cmd, "--watch takes one chapter%s", "");
    if (o->subs || o->labels || o->timeline || o->stems)
        return usage_error(o->cmd, "--subs, --labels, --timeline and --stems take one chapter%s",
                           "");
    return render_book(o, d);
}

static int cmd_play(options *o, rp_diags *d)
{
    int rc = need_chapter(o);
    if (rc)
        return rc;
    if (o->n_from > 1)
        return usage_error(o->cmd, "give one of --from, --from-line and --from-cue%s", "");
    o->play.drama = o->drama;
    o->play.started_s = started_s;
    o->play.watch = o->watch;
    // The workers' zygote, before PortAudio starts its threads.
    if (rp_drama_workers_start(o->drama.jobs)) {
        fprintf(stderr, "radioplay: cannot start the synthesis workers\n");
        return EXIT_INPUT;
    }
    rp_status st = rp_play(&o->play, &interrupted, d);
    print_diags(d);
    return exit_code(st);
}

static int cmd_devices(options *o, rp_diags *d)
{
    if (o->n_positional)
        return usage_error(o->cmd, "'devices' takes no arguments%s", "");
    rp_strbuf b;
    rp_strbuf_init(&b);
    rp_status st = rp_device_list(&b, d);
    print_diags(d);
    if (!st) {
        fputs("device\tname\thost_api\tchannels\trate\tdefault\n", stdout);
        print_out(b.s);
    }
    rp_strbuf_deinit(&b);
    return exit_code(st);
}

static int cmd_cast(options *o, rp_diags *d)
{
    int rc = need_chapter(o);
    if (rc)
        return rc;
    rp_drama dr;
    rp_status st = rp_drama_load(&dr, &o->drama, d);
    print_diags(d);
    if (!st) {
        rp_strbuf b;
        rp_strbuf_init(&b);
        rp_cast_write(&dr.cast, &b);
        print_out(b.s);
        rp_strbuf_deinit(&b);
    }
    rp_drama_deinit(&dr);
    return exit_code(st);
}

static int cmd_cues(options *o, rp_diags *d)
{
    int rc = need_chapter(o);
    if (rc)
        return rc;
    rp_drama dr;
    rp_status st = rp_drama_load(&dr, &o->drama, d);
    if (!st)
        st = rp_drama_voice(&dr, &interrupted, NULL, NULL, d);
    print_diags(d);
    if (!st) {
        rp_strbuf b;
        rp_strbuf_init(&b);
        rp_timeline_write_tsv(&dr.timeline, &dr.plan, &b);
        print_out(b.s);
        rp_strbuf_deinit(&b);
    }
    rp_drama_deinit(&dr);
    return exit_code(st);
}

static int cmd_annotate(options *o, rp_diags *d)
{
    int rc = need_chapter(o);
    if (rc)
        return rc;
    rp_drama dr;
    rp_status st = rp_drama_load(&dr, &o->drama, d);
    rp_strbuf b;
    rp_strbuf_init(&b);
    if (!st)
        st = rp_annotate(dr.text, dr.len, &dr.script, &b, d);
    if (!st && o->out && strcmp(o->out, "-"))
        st = rp_write_file_atomic(o->out, b.s ? b.s : "", b.len, d);
    else if (!st)
        fwrite(b.s ? b.s : "", 1, b.len, stdout);
    print_diags(d);
    if (st && d->n == 0)
        fprintf(stderr, "radioplay: %s: %s\n", o->positional[0], rp_strerror(st));
    rp_strbuf_deinit(&b);
    rp_drama_deinit(&dr);
    return exit_code(st);
}

static void print_quote_row(const rp_run *r, int explain)
{
    printf("%d\t%d\t%s", r->line, r->col, r->speaker ? r->speaker : "unknown");
    if (explain) {
        rp_strbuf b;
        rp_strbuf_init(&b);
        rp_check_excerpt(r->text, RP_QUOTES_EXCERPT_CPS, &b);
        printf("\t%s\t%.2f\t%s", rp_check_rule(r), r->confidence, b.s ? b.s : "");
        rp_strbuf_deinit(&b);
    }
    putchar('\n');
}

static int cmd_quotes(options *o, rp_diags *d)
{
    int rc = need_chapter(o);
    if (rc)
        return rc;
    rp_drama dr;
    rp_status st = rp_drama_load_script(&dr, &o->drama, d);
    print_diags(d);
    if (!st) {
        // Without --explain the output is exactly three columns: scorers read it.
        printf("line\tcol\tspeaker%s\n", o->explain ? "\trule\tconfidence\ttext" : "");
        for (size_t i = 0; i < dr.script.n_blocks; i++) {
            const rp_block *b = &dr.script.blocks[i];
            for (size_t k = 0; k < b->n_runs; k++)
                if (b->runs[k].kind == RP_RUN_QUOTE)
                    print_quote_row(&b->runs[k], o->explain);
        }
    }
    rp_drama_deinit(&dr);
    return exit_code(st);
}

static void print_weak_quotes(const char *file, const rp_check_report *r, double min_conf)
{
    printf("# quotes attributed with confidence below %.2f: %zu\n", min_conf, r->n_quotes);
    for (size_t i = 0; i < r->n_quotes; i++) {
        const rp_run *q = r->quotes[i];
        rp_strbuf b;
        rp_strbuf_init(&b);
        rp_check_excerpt(q->text, RP_CHECK_EXCERPT_CPS, &b);
        printf("%s:%d:%d: note: \"%s\" given to %s by %s (confidence %.2f); add {Name} "
               "before the quote to be sure\n", file, q->line, q->col, b.s ? b.s : "",
               q->speaker ? q->speaker : "nobody", rp_check_rule(q), q->confidence);
        rp_strbuf_deinit(&b);
    }
}

static void print_names(const rp_check_report *r)
{
    printf("\n# names: %zu (audition with 'radioplay say WORD'; respell in the cast sheet's "
           "[say])\n", r->n_names);
    if (r->n_names)
        printf("%5s  %-20s %-10s %s\n", "count", "word", "first", "[say]");
    for (size_t i = 0; i < r->n_names; i++) {
        const rp_check_name *n = &r->names[i];
        char at[32];
        snprintf(at, sizeof at, "%d:%d", n->line, n->col);
        printf("%5zu  %-20s %-10s %s\n", n->count, n->word, at, n->say ? n->say->say : "-");
    }
}

static void print_repeats(const char *file, const rp_check_report *r)
{
    printf("\n# near-repeats: %zu\n", r->n_repeats);
    for (size_t i = 0; i < r->n_repeats; i++) {
        const rp_check_repeat *p = &r->repeats[i];
        if (p->share >= 1.0 && !p->of_first)
            printf("%s:%d:%d: warning: this paragraph repeats the one at line %d word for word; "
                   "a listener would hear it twice\n", file, p->line, p->col, p->first_line);
        else
            printf("%s:%d:%d: warning: this paragraph nearly repeats the one at line %d (%.0f%% "
                   "of %s words); a listener would hear it twice\n", file, p->line, p->col,
                   p->first_line, 100 * p->share, p->of_first ? "that one's" : "its");
    }
}

// The voices and variants the cast sheet names, as a render checks them.
static rp_status check_voices(rp_drama *dr, rp_diags *d)
{
    rp_status st = rp_speech_new(&dr->speech, d);
    if (st)
        return st;
    st = rp_voice_check(dr->speech, dr->cast_path, &dr->cast.narrator, d);
    for (size_t i = 0; i < dr->cast.n_voices; i++)
        if (rp_voice_check(dr->speech, dr->cast_path, &dr->cast.voices[i], d))
            st = RP_ERR_VOICE;
    return st;
}

static int cmd_check(options *o, rp_diags *d)
{
    int rc = need_chapter(o);
    if (rc)
        return rc;
    rp_check_config cfg = rp_check_config_default();
    if (o->min_confidence >= 0)
        cfg.min_confidence = o->min_confidence;
    rp_drama dr;
    rp_check_report report = {0};
    rp_status st = rp_drama_load(&dr, &o->drama, d);
    if (!st)
        st = check_voices(&dr, d);
    if (!st)
        st = rp_check_cast(&dr.cast, &dr.script, d);
    if (!st)
        st = rp_check_chapter(&dr.script, dr.text, dr.len, &dr.cast, &cfg, &report);
    print_diags(d);
    if (!st) {
        print_weak_quotes(o->positional[0], &report, cfg.min_confidence);
        print_names(&report);
        print_repeats(o->positional[0], &report);
    }
    rp_check_report_deinit(&report);
    rp_drama_deinit(&dr);
    return exit_code(st);
}

// What `say` tells the user: the respelling in use and the phonemes to keep.
static rp_status print_say(rp_speech *sp, const rp_cast *c, const rp_voice *v, const char *text)
{
    char name[200];
    rp_voice_espeak_name(v, name, sizeof name);
    printf("voice: %s (%s%s)\n", v->name, name, v->automatic ? ", chosen automatically" : "");
    rp_respelled r;
    rp_status st = rp_respell(c->say, c->n_say, text, &r);
    if (st)
        return st;
    const rp_respelling *e = rp_respelling_find(c->say, c->n_say, text, strlen(text));
    if (e)
        printf("respelling: %s (%s:%d)\n", e->say, c->file, e->line);
    else if (strcmp(r.text, text))
        printf("respelling: %s\n", r.text);
    else
        printf("respelling: none in %s\n", c->file ? c->file : "the cast sheet (no --cast)");
    rp_respelled_deinit(&r);
    rp_strbuf ph, ipa;
    rp_strbuf_init(&ph);
    rp_strbuf_init(&ipa);
    st = rp_speech_phonemes(sp, v, text, 0, &ph);
    if (!st)
        st = rp_speech_phonemes(sp, v, text, 1, &ipa);
    if (!st) {
        printf("phonemes: %s\nipa: %s\n", ph.s ? ph.s : "", ipa.s ? ipa.s : "");
        size_t pos = 0, a, b, len = strlen(text);
        // A [say] key is one word: offer the line only for one.
        if (ph.s && rp_word_next(text, len, &pos, &a, &b) && a == 0 && b == len)
            printf("for the cast sheet:\n[say]\n%s = [[%s]]\n", text, ph.s);
    }
    rp_strbuf_deinit(&ph);
    rp_strbuf_deinit(&ipa);
    return st;
}

static int cmd_say(options *o, rp_diags *d)
{
    if (o->n_positional != 1)
        return usage_error(o->cmd, o->n_positional ? "expected one word (quote a phrase)%s"
                                                   : "missing the word to say%s", "");
    if (o->out && rp_format_from_path(o->out) < 0) {
        fprintf(stderr, "radioplay: %s: unknown output format (use .wav, .flac or .ogg)\n",
                o->out);
        return EXIT_USAGE;
    }
    const char *text = o->positional[0];
    size_t pos = 0, a, b;
    if (!rp_word_next(text, strlen(text), &pos, &a, &b))
        return usage_error(o->cmd, "'%s' has no word to say", text);
    rp_cast cast;
    const rp_voice *v = NULL;
    rp_speech *sp = NULL;
    rp_status st = rp_say_load(&cast, o->drama.cast_path, o->voice, &v, d);
    if (!st)
        st = rp_speech_new(&sp, d);
    if (!st)
        st = rp_say_prepare(sp, &cast, v, d);
    if (!st)
        st = print_say(sp, &cast, v, text);
    uint64_t seed = o->drama.seed >= 0 ? (uint64_t)o->drama.seed : RP_DEFAULT_SEED;
    if (!st && o->out)
        st = rp_render_say(sp, v, text, o->out, seed, d);
    print_diags(d);
    if (!st && o->out && verbosity > 0)
        fprintf(stderr, "radioplay: wrote %s\n", o->out);
    rp_speech_free(sp);
    rp_cast_deinit(&cast);
    return exit_code(st);
}

static int cmd_voices(options *o, rp_diags *d)
{
    if (o->n_positional)
        return usage_error(o->cmd, "voices takes no arguments%s", "");
    rp_speech *sp;
    rp_status st = rp_speech_new(&sp, d);
    if (!st) {
        rp_strbuf b;
        rp_strbuf_init(&b);
        st = rp_speech_list_voices(sp, &b);
        print_out(b.s);
        rp_strbuf_deinit(&b);
        rp_speech_free(sp);
    }
    print_diags(d);
    return exit_code(st);
}

static int cmd_sfx(options *o, rp_diags *d)
{
    rp_sfx_library lib;
    rp_sfx_library_init(&lib);
    rp_status st = rp_sfx_library_load(&lib, o->drama.sfx_dir, d);
    int rc = 0;
    if (st) {
        print_diags(d);
        rc = exit_code(st);
    } else if (o->list) {
        for (size_t i = 0; i < lib.n; i++)
            printf("%-16s %-8s %s\n", rp_sfx_preset_name(lib.items[i]),
                   rp_sfx_preset_is_bed(lib.items[i]) ? "bed" : "one-shot",
                   rp_sfx_preset_description(lib.items[i]));
    } else if (o->n_positional != 1 || !o->out) {
        rc = usage_error("sfx", "expected: radioplay sfx NAME -o OUT%s", "");
    } else {
        const rp_sfx_preset *p = rp_sfx_library_find(&lib, o->positional[0]);
        if (!p) {
            const char *s = rp_sfx_library_suggest(&lib, o->positional[0], -1);
            fprintf(stderr, "radioplay: unknown effect '%s'%s%s%s\n", o->positional[0],
                    s ? " (did you mean '" : " (see 'radioplay sfx --list')", s ? s : "",
                    s ? "'?)" : "");
            rc = EXIT_INPUT;
        } else {
            int rate = o->drama.rate_hz > 0 ? o->drama.rate_hz : RP_DEFAULT_RATE_HZ;
            uint64_t seed = o->drama.seed >= 0 ? (uint64_t)o->drama.seed : RP_DEFAULT_SEED;
            st = rp_render_sfx(p, o->out, rate, seed, o->duration_s, d);
            print_diags(d);
            rc = exit_code(st);
        }
    }
    rp_sfx_library_deinit(&lib);
    return rc;
}

static int cmd_info(options *o, rp_diags *d)
{
    if (o->n_positional != 1)
        return usage_error(o->cmd, "expected one audio file%s", "");
    rp_audio_info info;
    rp_status st = rp_audio_info_read(o->positional[0], &info, d);
    print_diags(d);
    if (!st) {
        double secs = (double)info.frames / info.rate_hz;
        printf("%.3f s (%d:%04.1f), %d Hz, %d channels, %s, %s\n", secs, (int)(secs / 60),
               secs - 60 * (int)(secs / 60), info.rate_hz, info.channels, info.format,
               info.encoding);
        if (info.title[0])
            printf("title: %s\n", info.title);
        if (info.comment[0])
            printf("comment: %s\n", info.comment);
        for (size_t i = 0; i < info.n_cues; i++)
            printf("cue %zu: %.3f s\n", i + 1, (double)info.cues[i] / info.rate_hz);
    }
    return exit_code(st);
}

static void print_level(const char *what, double v, const char *unit, const char *rule, int pass)
{
    char num[32];
    if (isnan(v))
        snprintf(num, sizeof num, "-");
    else if (isinf(v))
        snprintf(num, sizeof num, "%s", v < 0 ? "-inf" : "inf");
    else
        snprintf(num, sizeof num, "%.1f", v);
    printf("%-12s %7s %-5s %-16s %s\n", what, num, unit, rule, pass < 0 ? "" : pass ? "pass" : "FAIL");
}

static rp_status measure_block(void *ctx, const float *frames, size_t n)
{
    return rp_meter_add(ctx, frames, n);
}

static int cmd_loudness(options *o, rp_diags *d)
{
    if (o->n_positional != 1)
        return usage_error(o->cmd, "expected one audio file or chapter%s", "");
    const char *path = o->positional[0];
    rp_loudness l;
    rp_master_target t = {RP_NORM_LUFS, NAN, RP_LIMITER_CEILING_DB};
    rp_status st;
    int rate = 0, channels = 0;
    if (rp_format_from_path(path) >= 0) {
        rp_audio_info info;
        st = rp_audio_info_read(path, &info, d);
        rp_meter *m = NULL;
        if (!st && !(m = rp_meter_new(info.channels, info.rate_hz, 1))) {
            rp_diag_add(d, RP_DIAG_ERROR, path, 0, 0, "loudness", NULL,
                        "cannot measure %d channels", info.channels);
            st = RP_ERR_FORMAT;
        }
        if (!st)
            st = rp_audio_read(path, measure_block, m, &info, d);
        if (!st)
            rp_meter_result(m, &l);
        rp_meter_free(m);
        rate = info.rate_hz;
        channels = info.channels;
    } else {
        rp_drama dr;
        progress_on = verbosity > 0 && isatty(2);
        st = rp_drama_load(&dr, &o->drama, d);
        if (!st)
            st = rp_drama_render(&dr, &(rp_render_outputs){0}, &interrupted, progress, NULL, d);
        if (!st) {
            l = dr.loudness;
            t = dr.cast.render.master;
            t.target_lufs = rp_render_loudness_target(&dr.cast.render);
        }
        rate = dr.cast.render.rate_hz;
        channels = dr.cast.render.channels;
        rp_drama_deinit(&dr);
    }
    print_diags(d);
    if (st)
        return exit_code(st);
    if (o->drama.master_set & RP_SET_LOUDNESS) {
        t.norm = o->drama.master.norm;
        t.target_lufs = o->drama.master.target_lufs;
    }
    if (isnan(t.target_lufs))
        t.target_lufs = rp_master_default_lufs(channels);
    if (o->drama.master_set & RP_SET_CEILING)
        t.ceiling_dbtp = o->drama.master.ceiling_dbtp;
    double secs = (double)l.frames / rate;
    printf("%s: %d:%04.1f, %d Hz, %d channel%s; rules: %s\n", path, (int)(secs / 60),
           secs - 60 * (int)(secs / 60), rate, channels, channels == 1 ? "" : "s",
           t.norm == RP_NORM_ACX ? "ACX" : "loudness target and ceiling");
    rp_loudness_check c[RP_LOUDNESS_CHECKS_MAX];
    size_t n = rp_loudness_checks(&t, &l, c);
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        print_level(c[i].what, c[i].value, c[i].unit, c[i].rule, c[i].pass);
        failed += c[i].pass == 0;
    }
    printf("result: %s\n", failed ? "FAIL" : "pass");
    return failed ? EXIT_INPUT : 0;
}

static void print_size(const char *what, uint64_t bytes)
{
    printf("%-12s %.1f MiB\n", what, (double)bytes / (1024.0 * 1024.0));
}

static int cmd_cache(options *o, rp_diags *d)
{
    if (o->n_positional)
        return usage_error(o->cmd, "expected: radioplay cache [--stats | --clear | --trim | --verify]%s", "");
    rp_cache *c;
    rp_status st = rp_cache_open(&c, NULL, d);
    if (st) {
        print_diags(d);
        return exit_code(st);
    }
    const char *op = o->cache_op ? o->cache_op : "stats";
    uint64_t removed = 0, checked = 0;
    if (!strcmp(op, "clear"))
        st = rp_cache_clear(c, &removed);
    else if (!strcmp(op, "trim"))
        st = rp_cache_trim(c, &removed);
    else if (!strcmp(op, "verify"))
        st = rp_cache_verify(c, &checked, &removed);
    if (!strcmp(op, "verify"))
        printf("checked %llu clips, %llu damaged (removed)\n", (unsigned long long)checked,
               (unsigned long long)removed);
    else if (strcmp(op, "stats"))
        printf("removed %llu clips\n", (unsigned long long)removed);
    rp_cache_stats s;
    if (!st)
        st = rp_cache_stat(c, &s);
    if (!st) {
        printf("%-12s %s\n", "folder", rp_cache_dir(c));
        printf("%-12s %llu\n", "clips", (unsigned long long)s.clips);
        if (s.records)
            printf("%-12s %llu (checkpoints of renders, for re-renders after a tweak)\n",
                   "checkpoints", (unsigned long long)s.records);
        print_size("size", s.bytes);
        if (s.max_bytes == UINT64_MAX)
            printf("%-12s none\n", "limit");
        else
            print_size("limit", s.max_bytes);
        if (s.temporaries)
            printf("%-12s %llu (left by killed renders; removed after an hour)\n", "temporaries",
                   (unsigned long long)s.temporaries);
    } else {
        fprintf(stderr, "radioplay: %s: %s\n", rp_cache_dir(c), rp_strerror(st));
    }
    rp_cache_close(c);
    return exit_code(st);
}

// What a command printed must have reached standard output: a full disk
// (> /dev/full) is an I/O error, not a silent success.
static int finish_stdout(int rc)
{
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout))
        return rc;
    fprintf(stderr, "radioplay: standard output: error: cannot write: %s\n",
            errno ? strerror(errno) : "a write failed");
    return rc ? rc : EXIT_INPUT;
}

int main(int argc, char **argv)
{
    rp_keep_freed_memory();
    started_s = rp_now_s();
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        if (argc > 2 && !command_help(argv[2], stdout))
            return 0;
        fputs(usage_text, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("radioplay %s\n", RP_VERSION);
        return 0;
    }
    static const struct {
        const char *name;
        int (*fn)(options *, rp_diags *);
    } table[] = {
        {"render", cmd_render}, {"play", cmd_play}, {"devices", cmd_devices}, {"cast", cmd_cast}, {"cues", cmd_cues}, {"annotate", cmd_annotate}, {"quotes", cmd_quotes},
        {"check", cmd_check},   {"say", cmd_say},   {"voices", cmd_voices}, {"sfx", cmd_sfx},
        {"info", cmd_info},     {"loudness", cmd_loudness}, {"cache", cmd_cache},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(cmd, table[i].name))
            continue;
        options o = {.cmd = cmd, .min_confidence = -1, .drama = {.seed = -1, .master.target_lufs = NAN}};
        int rc = parse_options(argc, argv, &o);
        if (rc)
            return rc;
        o.drama.chapter_path = o.positional[0];
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        rp_diags d;
        rp_diags_init(&d);
        rc = table[i].fn(&o, &d);
        rp_drama_workers_leave();
        rp_diags_deinit(&d);
        return finish_stdout(rc);
    }
    const char *names[sizeof table / sizeof table[0]];
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        names[i] = table[i].name;
    const char *s = rp_suggest(cmd, names, sizeof table / sizeof table[0]);
    fprintf(stderr, "radioplay: unknown command '%s'%s%s%s\n", cmd, s ? " (did you mean '" : "",
            s ? s : "", s ? "'?)" : "");
    fputs(usage_text, stderr);
    return EXIT_USAGE;
}
