// SPDX-License-Identifier: GPL-3.0-or-later
// The player. The stream's render thread starts synthesizing while
// PortAudio starts (both take tens of milliseconds; in parallel they cost
// the longer of the two), the device starts once the ring is full, and
// then this thread only reads keys, asks the stream for seeks and pauses,
// and shows what is playing, twenty-five times a second. Every line spoken
// is shown, even when the device plays faster than real time (a headless
// capture), except the lines a seek jumps over.
#include "rp_play.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "rp_config.h"
#include "rp_console.h"
#include "rp_device.h"
#include "rp_io.h"

enum { TICK_MS = 40, WATCH_TICKS = RP_WATCH_POLL_MS / TICK_MS };

enum { KEPT, SOUGHT, QUIT };

// Acts on a key: QUIT, SOUGHT (a seek was asked for) or KEPT.
static int on_key(rp_key key, rp_stream *s, const rp_plan *p, const rp_stream_info *i)
{
    int64_t step = (int64_t)(RP_PLAY_SEEK_S * i->rate_hz);
    switch (key) {
    case RP_KEY_QUIT:
        return QUIT;
    case RP_KEY_PAUSE:
        rp_stream_pause(s, !i->paused);
        return KEPT;
    case RP_KEY_BACK:
        rp_stream_seek(s, RP_SEEK_FRAME, i->pos > step ? i->pos - step : 0);
        return SOUGHT;
    case RP_KEY_FORWARD:
        rp_stream_seek(s, RP_SEEK_FRAME, i->pos + step);
        return SOUGHT;
    case RP_KEY_NEXT: {
        size_t k = rp_plan_next_paragraph(p, i->utt);
        if (k < p->n_utts)
            rp_stream_seek(s, RP_SEEK_UTT, (int64_t)k);
        else
            rp_stream_seek(s, RP_SEEK_FRAME, INT64_MAX);
        return SOUGHT;
    }
    case RP_KEY_PREV: {
        if (i->utt < 0) {
            rp_stream_seek(s, RP_SEEK_FRAME, 0);
            return SOUGHT;
        }
        // Well into a paragraph, back to its start; near it, the one before.
        size_t k = rp_plan_paragraph_start(p, (size_t)i->utt);
        int64_t at = rp_stream_utt_start(s, k);
        if (at >= 0 && i->pos - at < (int64_t)(RP_PLAY_RESTART_S * i->rate_hz))
            k = k > 0 ? rp_plan_paragraph_start(p, k - 1) : 0;
        rp_stream_seek(s, RP_SEEK_UTT, (int64_t)k);
        return SOUGHT;
    }
    case RP_KEY_NONE:
        break;
    }
    return KEPT;
}

typedef struct {
    long shown;  // the last utterance shown
    int jumped;  // a seek was asked for: skip the lines it jumps over
} view;

static void show(rp_console *c, view *v, rp_stream *s, const rp_plan *p, const rp_stream_info *i)
{
    rp_console_state cs = {.pos_s = (double)i->pos / i->rate_hz,
                           .total_s = (double)i->total / i->rate_hz,
                           .total_exact = i->exact,
                           .paused = i->paused,
                           .seeking = i->seeking || v->jumped};
    if (v->jumped && !i->seeking) {
        v->shown = i->utt - 1;
        v->jumped = 0;
    }
    if (v->jumped) {
        rp_console_show(c, &cs);
        return;
    }
    // Each line at its own time (a device faster than real time gets ahead
    // of this loop).
    while (v->shown < i->utt) {
        const rp_utterance *u = &p->utts[++v->shown];
        int64_t at = rp_stream_utt_start(s, (size_t)v->shown);
        cs.pos_s = (double)(at > 0 ? at : 0) / i->rate_hz;
        cs.speaker = u->speaker;
        cs.text = u->text;
        cs.line = u->line;
        rp_console_show(c, &cs);
    }
    cs.pos_s = (double)i->pos / i->rate_hz;
    cs.speaker = cs.text = NULL;
    cs.line = 0;
    if (i->speaking && i->utt >= 0) {
        const rp_utterance *u = &p->utts[i->utt];
        cs.speaker = u->speaker;
        cs.text = u->text;
        cs.line = u->line;
    }
    rp_console_show(c, &cs);
}

// A requested start past the end is the user's mistake: say so.
static rp_status check_start(const rp_play_options *o, const rp_drama *dr,
                             const rp_stream_info *i, rp_diags *d)
{
    char at[32], end[32];
    rp_console_format_time(end, sizeof end, (double)i->total / i->rate_hz);
    if (o->from_kind == RP_SEEK_FRAME && i->exact && i->pos >= i->total && o->from_s > 0) {
        rp_console_format_time(at, sizeof at, o->from_s);
        rp_diag_add(d, RP_DIAG_ERROR, NULL, 0, 0, "play", "'radioplay cues' shows the timeline",
                    "--from %s is past the end of the chapter (%s)", at, end);
        return RP_ERR_USAGE;
    }
    if (o->from_kind == RP_SEEK_EVENT && i->exact && (size_t)o->from >= i->n_events) {
        rp_diag_add(d, RP_DIAG_ERROR, NULL, 0, 0, "play", "'radioplay cues' lists them",
                    "--from-cue %lld: the timeline has %zu cues", (long long)o->from + 1,
                    i->n_events);
        return RP_ERR_USAGE;
    }
    if (o->from_kind == RP_SEEK_LINE) {
        int last = 0;
        for (size_t k = 0; k < dr->plan.n_utts; k++)
            last = dr->plan.utts[k].line > last ? dr->plan.utts[k].line : last;
        if (o->from > last) {
            rp_diag_add(d, RP_DIAG_ERROR, dr->script.name, 0, 0, "play", NULL,
                        "--from-line %lld: nothing is spoken after line %d", (long long)o->from,
                        last);
            return RP_ERR_USAGE;
        }
    }
    return RP_OK;
}

// The normalization gain a render of this drama measured, or an estimate
// (*measured 0) when none has been rendered with these settings yet.
static double play_gain(const rp_drama *dr, int *measured)
{
    rp_master_target t = rp_drama_master_target(dr);
    double g = 0.0;
    *measured = 1;
    if (t.norm == RP_NORM_OFF || rp_drama_gain_recall(dr, &g) == 0)
        return g;
    *measured = 0;
    // The sample chapters need 7.1 to 7.7 dB for -16 LUFS; ACX's -20 dB RMS
    // sits about 0.5 dB lower.
    return t.norm == RP_NORM_ACX ? RP_PLAY_GAIN_GUESS_DB - 0.5
                                 : RP_PLAY_GAIN_GUESS_DB + t.target_lufs - RP_LOUDNESS_LUFS;
}

static void print_stats(const rp_stream_info *i, uint64_t xruns, double gain_db, int measured)
{
    printf("level: %+.1f dB, %s\n", gain_db,
           measured ? "as the last render measured"
                    : "estimated (render once to play at the measured loudness)");
    printf("time to first audio: %.3f s\n", i->first_audio_s);
    printf("underruns: %llu\n", (unsigned long long)i->underruns);
    printf("frames played: %llu (%.3f s)\n", (unsigned long long)i->frames,
           (double)i->frames / i->rate_hz);
    printf("device underflows: %llu\n", (unsigned long long)xruns);
    printf("lines synthesized before playing: %zu of %zu\n", i->voiced_at_start, i->n_utts);
}

// Plays once. With w (--watch), stops when the files change, with *again
// set to where it was (seconds); when the chapter ends, waits for a change
// (or q) and sets *again to 0.
static rp_status play_once(const rp_play_options *o, volatile sig_atomic_t *stop, rp_watch *w,
                           double *again, rp_diags *d)
{
    rp_drama dr;
    rp_status st = rp_drama_load(&dr, &o->drama, d);
    rp_stream *s = NULL;
    rp_device *dev = NULL;
    rp_stream_info i = {0};
    int measured = 0;
    double gain = st ? 0.0 : play_gain(&dr, &measured);
    if (!st) {
        int rate = dr.cast.render.rate_hz;
        rp_stream_options so = {.buffer_s = o->buffer_s,
                                .from_kind = o->from_kind,
                                .from = o->from_kind == RP_SEEK_FRAME ? llround(o->from_s * rate)
                                                                      : o->from,
                                .started_s = o->started_s,
                                .hold = 1,
                                .gain_db = gain};
        st = rp_stream_new(&s, &dr, &so);
    }
    if (!st)
        st = rp_device_open(&dev, o->device, dr.cast.render.rate_hz, dr.cast.render.channels,
                            rp_stream_pull, s, d);
    if (!st) {
        rp_stream_go(s);
        st = rp_stream_wait_ready(s);
    }
    if (!st) {
        rp_stream_info_get(s, &i);
        st = check_start(o, &dr, &i, d);
    }
    if (!st)
        st = rp_device_start(dev, d);
    rp_console *c = st ? NULL : rp_console_open(stdout, STDIN_FILENO);
    view v = {.shown = -1};
    int quit = 0, changed = 0;
    for (unsigned tick = 1; c && !quit; tick++) {
        rp_key key = rp_console_key(c, TICK_MS);
        rp_stream_info_get(s, &i);
        int did = on_key(key, s, &dr.plan, &i);
        v.jumped |= did == SOUGHT;
        quit = did == QUIT || (stop && *stop);
        show(c, &v, s, &dr.plan, &i);
        if (w && tick % WATCH_TICKS == 0 && (changed = rp_watch_changed(w)))
            break;
        if (i.ended)
            break;
    }
    if (c) {
        char at[32];
        rp_console_format_time(at, sizeof at, (double)i.pos / i.rate_hz);
        if (i.ended && !changed) {
            rp_device_stop(dev, d);  // the device plays out what it holds
            if (w)
                rp_console_message(c, "the end; playing again when the files change (q quits)");
            for (unsigned tick = 1; w && !quit && !changed; tick++) {
                quit = rp_console_key(c, TICK_MS) == RP_KEY_QUIT || (stop && *stop);
                changed = tick % WATCH_TICKS == 0 && rp_watch_changed(w);
            }
            i.pos = 0;
        }
        if (changed) {
            *again = (double)i.pos / i.rate_hz;
            rp_console_format_time(at, sizeof at, *again);
            rp_console_message(c, "changed: playing again from %s", at);
        } else if (quit) {
            rp_console_message(c, "stopped at %s ('--from %s' goes on from there)", at, at);
        }
        rp_console_close(c);
    }
    uint64_t xruns = dev ? rp_device_xruns(dev) : 0;
    rp_device_close(dev);
    if (s)
        rp_stream_info_get(s, &i);
    if (o->stats && s && !st)
        print_stats(&i, xruns, gain, measured);
    rp_status ss = rp_stream_free(s, d);
    rp_drama_deinit(&dr);
    return st ? st : ss;
}

// Prints and forgets what went wrong, while watching for a fix.
static void report(rp_diags *d)
{
    char line[1024];
    for (size_t k = 0; k < d->n; k++)
        fprintf(stderr, "%s\n", rp_diag_format(&d->items[k], line, sizeof line));
    rp_diags_deinit(d);
    rp_diags_init(d);
}

rp_status rp_play(const rp_play_options *o, volatile sig_atomic_t *stop, rp_diags *d)
{
    if (!o->watch)
        return play_once(o, stop, NULL, NULL, d);
    const char *chapter = o->drama.chapter_path;
    char *cast = o->drama.cast_path ? rp_strdup(o->drama.cast_path)
                                    : rp_path_with_ext(chapter, ".cast");
    const char *paths[] = {chapter, cast, o->drama.sfx_dir};
    rp_watch w;
    rp_watch_init(&w, paths, 3);
    rp_play_options cur = *o;
    rp_status st = RP_OK;
    for (;;) {
        double again = -1;
        st = play_once(&cur, stop, &w, &again, d);
        if (stop && *stop)
            break;
        if (again < 0 && st != RP_ERR_INPUT && st != RP_ERR_VOICE && st != RP_ERR_LIMIT)
            break;  // quit, or a failure no edit can fix
        if (again < 0) {
            // A bad edit: say what, and wait for the next one.
            report(d);
            fprintf(stderr, "radioplay: waiting for %s or %s to change (Ctrl-C stops)\n",
                    chapter, cast);
            if (!rp_watch_wait(&w, stop))
                break;
        } else {
            cur.from_kind = RP_SEEK_FRAME;
            cur.from_s = again;
            rp_watch_settle(&w);
        }
    }
    free(cast);
    return stop && *stop ? RP_OK : st;
}
