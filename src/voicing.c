// SPDX-License-Identifier: GPL-3.0-or-later
// Voicing a drama: every utterance gets its clip from the clip cache or,
// on a miss, from a worker process (speak with espeak-ng, resample to the
// output rate, write the clip into the cache). The drama keeps only what
// placing needs (each clip's length and word marks); the samples stay on
// disk until the mixer is about to play them (rp_drama_clips_window), so
// memory does not grow with the chapter.
//
// One zygote serves the whole process (rp_worker.h): it is started the
// first time anything is voiced, before this process initializes espeak-ng
// itself (it does, to check the cast's voices), so every job starts from a
// freshly initialized espeak-ng. It runs radioplay-worker (src/worker_main.c,
// the jobs' side in voicejob.c) where that is found, else it is this
// process's fork: the same bytes. Requests carry everything a job needs
// (voice, text, respellings, rate, where the cache is), so one zygote
// serves every drama of a process (`--watch`, books).
//
// A job speaks a run of lines, not one (see "runs" below): espeak-ng's
// output for a line depends on what the same process spoke before it, so
// a line's clip is keyed by the lines before it in its run too, and a job
// always speaks a run from its first line.
#include "rp_render.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rp_cache.h"
#include "rp_config.h"
#include "rp_resample.h"
#include "rp_voicefx.h"
#include "rp_voicejob.h"
#include "rp_worker.h"

// A line's state. SUBMITTED: in the job of the run it belongs to (the job
// its line `by` asked for). SINGLE: that job failed, and the line is
// spoken alone. RETRYING: alone, with its punctuation simplified.
enum { UNKNOWN, SUBMITTED, SINGLE, RETRYING, VOICED };

#define NONE ((size_t)-1)

typedef struct {
    size_t utt;
    int64_t end;  // where its event ends: the samples go after that
} held_clip;

typedef struct rp_voicing rp_voicing;

struct rp_voicing {
    uint64_t gen;           // this drama's jobs carry it in their ids
    rp_cache *cache;
    rp_cache_key *keys;     // each line's clip's, its run's lines before it included
    unsigned char *state;
    size_t *prev, *next;    // the line before and after it in its run, or NONE
    size_t *by;             // SUBMITTED: the line whose job speaks it
    unsigned char *live;    // jobs known by each line (a job goes by its line `by`) not yet ended
    size_t next_up;         // the first utterance not looked up yet (or in a run looked up)
    size_t n_voiced;        // utterances with their clip's length known
    size_t ready;           // utterances voiced from the first on
    size_t hits, misses;
    size_t jobs;            // submitted
    size_t noted;           // lines taken from a job's note, before its end
    uint64_t grown;         // bytes of the clips synthesized into the cache
    // The clip window: samples held for events that may sound soon.
    size_t win_next;        // the first event not yet looked at
    int64_t win_from;
    held_clip *held;        // utterances whose samples are loaded
    size_t n_held, cap_held;
};

static rp_workers *pool;
static uint64_t n_dramas;        // voiced in this process
static int pool_jobs;

// ---- requests (rp_voicejob.h) ------------------------------------------------------

static void put_str(rp_strbuf *b, const char *s)
{
    rp_strbuf_append(b, s, strlen(s) + 1);
}

// ---- keys ---------------------------------------------------------------------------

// A voice's settings, as a clip's key holds them: lines with the same are
// one speaker's (runs, below).
static void put_voice(rp_strbuf *b, const rp_voice *v)
{
    rp_strbuf_printf(b, "voice %s+%s %d %d %d %d\n", v->voice, v->variant, v->rate_wpm, v->pitch,
                     v->range, v->volume);
}

// Everything that shapes utterance i's clip before its voice effect.
static rp_status clip_key(const rp_drama *dr, size_t i, rp_cache_key *out)
{
    const rp_utterance *u = &dr->plan.utts[i];
    const rp_voice *v = u->voice;
    rp_respelled r;
    rp_status st = rp_respell(dr->cast.say, dr->cast.n_say, u->text, &r);
    if (st)
        return st;
    rp_strbuf b;
    rp_strbuf_init(&b);
    rp_strbuf_printf(&b, "radioplay clip %d\nespeak-ng %s\nresampler %s\nrate %d\n",
                     RP_CACHE_FORMAT, rp_speech_version(), rp_resample_name(),
                     dr->cast.render.rate_hz);
    put_voice(&b, v);
    put_str(&b, u->text);
    put_str(&b, r.text);
    rp_strbuf_printf(&b, "%d %zu %d\n", r.has_phonemes, r.n, (int)r.n_orig);
    rp_strbuf_append(&b, (const char *)r.orig, r.n * sizeof *r.orig);
    *out = rp_cache_key_of(b.s, b.len);
    rp_strbuf_deinit(&b);
    rp_respelled_deinit(&r);
    return RP_OK;
}

// ---- runs -----------------------------------------------------------------------------
//
// A job forked per line cost about 1.1 ms of CPU in fork, exit and page
// faults, as much as espeak-ng took to speak the line. So a job speaks a
// run of lines: a speaker's lines (the same voice settings) in the order
// of the chapter, up to RUN_MAX of them. Its clips are what that process
// makes, line after line: each depends on the lines before it in the run,
// so its key is its own chained to theirs (run_keys), and a job always
// starts at its run's first line, speaking the lines the cache has only
// for the state they leave. Where a run ends depends on its lines' own
// keys (a line ends its run one time in RUN_SPLIT), not on counting from
// the chapter's start: an edited line changes its own run and no other.
// Runs of up to 16 (one line in 8 ending one) speak chapter 000's 206
// lines in 47 jobs, where up to 8 (one in 4) took 78: 0.06 s less CPU in a
// cold render (forks and their page faults), for an edited line speaking a
// little more of its run again.

enum { RUN_MAX = 16, RUN_SPLIT = 8 };

typedef struct {
    uint64_t speaker;
    size_t last, len;
} open_run;

static uint64_t speaker_of(const rp_voice *v)
{
    rp_strbuf b;
    rp_strbuf_init(&b);
    put_voice(&b, v);
    uint64_t h = rp_hash64(b.s ? b.s : "", b.len, RP_HASH_INIT);
    rp_strbuf_deinit(&b);
    return h;
}

// Puts the lines into runs (prev, next) and chains their keys, which hold
// each line's own on entry.
static rp_status run_keys(rp_drama *dr)
{
    rp_voicing *V = dr->voicing;
    size_t n = dr->plan.n_utts, n_open = 0;
    open_run *open = calloc(n ? n : 1, sizeof *open);
    if (!open)
        return RP_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        uint64_t who = speaker_of(dr->plan.utts[i].voice);
        size_t k = 0;
        while (k < n_open && open[k].speaker != who)
            k++;
        rp_cache_key own = V->keys[i];
        V->prev[i] = V->next[i] = NONE;
        if (k < n_open) {
            size_t before = open[k].last;
            V->prev[i] = before;
            V->next[before] = i;
            struct {
                char tag[8];
                rp_cache_key own, before;
            } chain = {"after", own, V->keys[before]};
            V->keys[i] = rp_cache_key_of(&chain, sizeof chain);
            open[k].last = i;
            open[k].len++;
        } else {
            open[n_open++] = (open_run){who, i, 1};
        }
        if (own.hi % RUN_SPLIT == 0 || open[k].len == RUN_MAX)
            open[k] = open[--n_open];
    }
    free(open);
    return RP_OK;
}

static size_t run_first(const rp_voicing *V, size_t i)
{
    while (V->prev[i] != NONE)
        i = V->prev[i];
    return i;
}

static void put_line(rp_strbuf *b, const rp_drama *dr, size_t i, int simplify, int write)
{
    const rp_utterance *u = &dr->plan.utts[i];
    // Zeroed first: its padding goes down the pipe too.
    rp_job_line q;
    memset(&q, 0, sizeof q);
    q.key = dr->voicing->keys[i];
    q.simplify = simplify;
    q.write = write;
    q.utt = (uint32_t)i;
    q.rate_wpm = u->voice->rate_wpm;
    q.pitch = u->voice->pitch;
    q.range = u->voice->range;
    q.volume = u->voice->volume;
    // The voice file, found here once, spares each job the search.
    if (rp_speech_voice_file(u->voice, q.voice, sizeof q.voice))
        memcpy(q.voice, u->voice->voice, sizeof q.voice);
    memcpy(q.variant, u->voice->variant, sizeof q.variant);
    rp_strbuf_append(b, (const char *)&q, sizeof q);
    put_str(b, u->text);
}

// A job for the lines from first to last, following their run (first..last
// of one line: that line alone). It writes the clips of the lines its line
// `by` asks for (SINGLE and RETRYING lines: by themselves) and is known by
// that line. RETRYING simplifies the punctuation.
static rp_status submit_job(rp_drama *dr, size_t first, size_t last, size_t by)
{
    rp_voicing *V = dr->voicing;
    rp_job_head h = {.n_say = (uint32_t)dr->cast.n_say, .out_hz = dr->cast.render.rate_hz};
    for (size_t k = first;; k = V->next[k]) {
        h.n_lines++;
        if (k == last)
            break;
    }
    rp_strbuf b;
    rp_strbuf_init(&b);
    rp_strbuf_append(&b, (const char *)&h, sizeof h);
    put_str(&b, rp_cache_dir(V->cache));
    for (size_t k = 0; k < dr->cast.n_say; k++) {
        put_str(&b, dr->cast.say[k].word);
        put_str(&b, dr->cast.say[k].say);
    }
    for (size_t k = first;; k = V->next[k]) {
        int write = k == by || (V->state[k] == SUBMITTED && V->by[k] == by);
        put_line(&b, dr, k, k == by && V->state[k] == RETRYING, write);
        if (k == last)
            break;
    }
    uint64_t id = V->gen << 32 | by;
    // Lines of one voice and variant share a zygote with the voice loaded.
    const rp_voice *v = dr->plan.utts[by].voice;
    char voice[sizeof v->voice + sizeof v->variant + 2];
    int n = snprintf(voice, sizeof voice, "%s+%s", v->voice, v->variant);
    uint64_t group = rp_hash64(voice, (size_t)n, RP_HASH_INIT) | 1;
    rp_status st = b.s ? rp_workers_submit(pool, id, group, b.s, b.len) : RP_ERR_NOMEM;
    rp_strbuf_deinit(&b);
    V->jobs += !st;
    V->live[by] += !st;
    return st;
}

// ---- voicing --------------------------------------------------------------------------

// Letters and digits in s, counting each non-ASCII character as one.
static size_t letters(const char *s)
{
    size_t n = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        n += isalnum(c) || c >= 0xc0;
    }
    return n;
}

// Reports a clip far shorter or longer than its line's letters take to say:
// near-silence (a failed voice switch), a cut, or runaway speech.
static void check_length(const rp_drama *dr, const rp_utterance *u, int64_t pre, int64_t post,
                         rp_diags *d)
{
    size_t n = letters(u->text);
    if (n == 0)
        return;
    double hz = dr->cast.render.rate_hz, wpm = u->voice->rate_wpm > 0 ? u->voice->rate_wpm : 175;
    double want = (double)n * RP_SPEECH_S_PER_LETTER * 175.0 / wpm;
    double heard = (double)u->clip.voiced_frames / hz;
    double total = (double)(u->clip.n_frames - pre - post) / hz;
    if (heard == 0.0 || (n >= RP_SPEECH_MIN_LETTERS && heard < RP_SPEECH_MIN_SHARE * want))
        rp_diag_add(d, RP_DIAG_WARNING, dr->script.name, u->line, u->col, "speech",
                    "espeak-ng may have failed on it; try 'radioplay say' with its text",
                    "only %.1f s of speech is heard for this line, where its %zu letters take "
                    "about %.1f s", heard, n, want);
    else if (total > RP_SPEECH_MAX_SHARE * want + RP_SPEECH_SLACK_S)
        rp_diag_add(d, RP_DIAG_WARNING, dr->script.name, u->line, u->col, "speech",
                    "espeak-ng may have failed on it; try 'radioplay say' with its text",
                    "the speech for this line runs %.1f s, where its %zu letters take about "
                    "%.1f s", total, n, want);
}

rp_status rp_voice_check(rp_speech *sp, const char *cast_path, const rp_voice *v, rp_diags *d)
{
    char why[256];
    if (rp_speech_check_voice(sp, v, why, sizeof why) == RP_OK)
        return RP_OK;
    char hint[256];
    snprintf(hint, sizeof hint, "'radioplay voices' lists them%s",
             v->automatic ? "" : "; fix the cast sheet");
    rp_diag_add(d, RP_DIAG_ERROR, v->line ? cast_path : NULL, v->line, 1, "speech", hint,
                "%s, for %s", why, v->name);
    return RP_ERR_VOICE;
}

rp_status rp_drama_voice_begin(rp_drama *dr, rp_diags *d)
{
    if (dr->voicing)
        return RP_OK;
    // The zygote first, before this process touches espeak-ng.
    rp_status st = rp_drama_workers_start(dr->jobs);
    if (st) {
        rp_diag_add(d, RP_DIAG_ERROR, NULL, 0, 0, "speech", NULL,
                    "cannot start the synthesis workers");
        return st;
    }
    if (!dr->speech && (st = rp_speech_new(&dr->speech, d)))
        return st;
    rp_status vs = rp_voice_check(dr->speech, dr->cast_path, &dr->cast.narrator, d);
    for (size_t i = 0; i < dr->cast.n_voices; i++)
        if (rp_voice_check(dr->speech, dr->cast_path, &dr->cast.voices[i], d))
            vs = RP_ERR_VOICE;
    if (vs)
        return vs;
    rp_voicing *V = calloc(1, sizeof *V);
    if (!V)
        return RP_ERR_NOMEM;
    dr->voicing = V;
    V->gen = ++n_dramas;
    size_t n = dr->plan.n_utts;
    if (n > 0xffffffffu)
        return RP_ERR_LIMIT;
    V->keys = calloc(n ? n : 1, sizeof *V->keys);
    V->state = calloc(n ? n : 1, 1);
    V->prev = calloc(n ? n : 1, sizeof *V->prev);
    V->next = calloc(n ? n : 1, sizeof *V->next);
    V->by = calloc(n ? n : 1, sizeof *V->by);
    V->live = calloc(n ? n : 1, 1);
    if (!V->keys || !V->state || !V->prev || !V->next || !V->by || !V->live)
        return RP_ERR_NOMEM;
    for (size_t i = 0; i < n && !st; i++)
        st = clip_key(dr, i, &V->keys[i]);
    if (!st)
        st = run_keys(dr);
    if (st)
        return st;
    if (!dr->no_cache) {
        rp_diags quiet;
        rp_diags_init(&quiet);
        st = rp_cache_open(&V->cache, NULL, &quiet);
        if (st && quiet.n)
            rp_diag_add(d, RP_DIAG_WARNING, quiet.items[0].file, 0, 0, "cache",
                        quiet.items[0].hint, "%s; rendering without it", quiet.items[0].msg);
        rp_diags_deinit(&quiet);
    }
    if (!V->cache && (st = rp_cache_open_private(&V->cache, d)))
        return st;
    return RP_OK;
}

// Utterance i's clip is in the cache (synthesized: just written there):
// take its length and word marks, grown by its voice effect's padding (the
// samples come later).
static rp_status take_info(rp_drama *dr, size_t i, int synthesized, rp_diags *d)
{
    rp_utterance *u = &dr->plan.utts[i];
    rp_clip_deinit(&u->clip);
    rp_status st = rp_cache_get_clip_info(dr->voicing->cache, dr->voicing->keys[i], &u->clip);
    if (st)
        return st;
    if (synthesized)
        dr->voicing->grown += rp_cache_clip_bytes(&u->clip);
    int64_t pre, post;
    rp_voicefx_padding(u->fx, dr->cast.render.rate_hz, &pre, &post);
    u->clip.n_frames += pre + post;
    for (size_t w = 0; w < u->clip.n_words; w++)
        u->clip.words[w].frame += pre;
    dr->voicing->state[i] = VOICED;
    dr->voicing->n_voiced++;
    check_length(dr, u, pre, post, d);
    return RP_OK;
}

// A job of one line ended: its clip is in the cache, or the line is tried
// again with its punctuation simplified, or it gets its error.
static rp_status line_done(rp_drama *dr, size_t i, rp_status result, int sig, rp_diags *d)
{
    const rp_utterance *u = &dr->plan.utts[i];
    if (!result && !take_info(dr, i, 1, d))
        return RP_OK;
    const char *what = sig == SIGKILL ? "took too long or was killed" : "crashed";
    if (sig && dr->voicing->state[i] != RETRYING) {
        rp_diag_add(d, RP_DIAG_WARNING, dr->script.name, u->line, u->col, "speech", NULL,
                    "espeak-ng %s on this line (signal %d); spoken again with its punctuation "
                    "simplified", what, sig);
        dr->voicing->state[i] = RETRYING;
        return submit_job(dr, i, i, i);
    }
    if (sig)
        rp_diag_add(d, RP_DIAG_ERROR, dr->script.name, u->line, u->col, "speech", NULL,
                    "espeak-ng %s on this line (signal %d), also with its punctuation "
                    "simplified", what, sig);
    else
        rp_diag_add(d, RP_DIAG_ERROR, dr->script.name, u->line, u->col, "speech", NULL,
                    "espeak-ng could not speak this line: %s",
                    rp_strerror(result ? result : RP_ERR_IO));
    return result ? result : RP_ERR_SPEECH;
}

// The job line `by` asked for ended. A job of one line is that line's. A
// run's gives every line it wrote and sent no note for; when it failed,
// the lines it wrote before it failed are taken as they are and the others
// are spoken alone, where a line that fails is its own (espeak-ng crashes
// on a line).
static rp_status job_done(rp_drama *dr, size_t by, rp_status result, int sig, rp_diags *d)
{
    rp_voicing *V = dr->voicing;
    if (V->state[by] != SUBMITTED && V->state[by] != VOICED)
        return line_done(dr, by, result, sig, d);
    size_t last = NONE;
    for (size_t k = by; k != NONE; k = V->next[k])
        if (V->state[k] == SUBMITTED && V->by[k] == by)
            last = k;
    if (last == NONE)  // every line came with a note
        return RP_OK;
    if (last == by && V->prev[by] == NONE)  // one line: as if alone
        return line_done(dr, by, result, sig, d);
    rp_status st = RP_OK;
    for (size_t k = by; !st; k = V->next[k]) {
        if (V->state[k] == SUBMITTED && V->by[k] == by && take_info(dr, k, 1, d)) {
            if (!result) {  // the job said it wrote it
                st = line_done(dr, k, RP_ERR_IO, 0, d);
            } else {
                V->state[k] = SINGLE;
                st = submit_job(dr, k, k, k);
            }
        }
        if (k == last)
            break;
    }
    return st;
}

// Waits for one job of this drama to end, or for a note from one: a run's
// job sends one as each line's clip is in the cache but its last, so that
// the line is placed and mixed while the job speaks the rest of the run.
static rp_status wait_one(rp_drama *dr, volatile sig_atomic_t *stop, rp_diags *d)
{
    rp_voicing *V = dr->voicing;
    uint64_t id;
    rp_status result;
    int sig;
    int64_t note;
    rp_status st = rp_workers_next(pool, stop, &id, &result, &sig, &note);
    if (st == RP_ERR_SPEECH)
        rp_diag_add(d, RP_DIAG_ERROR, NULL, 0, 0, "speech", NULL,
                    "the synthesis workers stopped unexpectedly");
    if (st)
        return st;
    size_t i = (size_t)(id & 0xffffffffu), n = dr->plan.n_utts;
    if (id >> 32 != V->gen || i >= n || !V->live[i])
        return RP_OK;  // a job of an earlier drama (an interrupted one)
    if (note < 0) {
        V->live[i]--;
        return job_done(dr, i, result, sig, d);
    }
    size_t k = (size_t)note;
    // (A clip not readable after all is tried again at the job's end.)
    if (k < n && V->state[k] == SUBMITTED && V->by[k] == i)
        V->noted += take_info(dr, k, 1, d) == RP_OK;
    return RP_OK;
}

// Looks up the lines of the run that line i starts: those in the cache are
// voiced at once, and when some are not, one job speaks the run up to the
// last of them and writes theirs (the first of them asks for it). When
// line `urgent` is one of them (what `play` waits for to start), the lines
// up to it are one job and the rest another, which speaks those before it
// again for their state: the first audio waits for those lines only.
static rp_status look_up_run(rp_drama *dr, size_t i, size_t urgent, rp_diags *d)
{
    rp_voicing *V = dr->voicing;
    size_t by = NONE, last = NONE, split = NONE, by2 = NONE;
    for (size_t k = i; k != NONE; k = V->next[k]) {
        if (take_info(dr, k, 0, d) == RP_OK) {
            V->hits++;
            continue;
        }
        V->misses++;
        by = by == NONE ? k : by;
        by2 = split != NONE && by2 == NONE ? k : by2;
        V->state[k] = SUBMITTED;
        V->by[k] = by2 != NONE ? by2 : by;
        last = k;
        split = k == urgent ? k : split;
    }
    if (by == NONE)
        return RP_OK;
    if (by2 == NONE)
        return submit_job(dr, i, last, by);
    rp_status st = submit_job(dr, i, split, by);
    return st ? st : submit_job(dr, i, last, by2);
}

// Looks runs up (hits are voiced at once, misses go to the workers) as far
// as `ahead`, then waits until every utterance before `want` is voiced.
static rp_status voice_upto(rp_drama *dr, size_t want, size_t ahead, size_t urgent,
                            volatile sig_atomic_t *stop, rp_progress_fn progress, void *user,
                            rp_diags *d)
{
    rp_voicing *V = dr->voicing;
    size_t n = dr->plan.n_utts;
    rp_status st = RP_OK;
    if (ahead > n)
        ahead = n;
    for (; V->next_up < ahead && !st; V->next_up++)
        if (V->prev[V->next_up] == NONE)  // a run's first line: the run looked up with it
            st = look_up_run(dr, V->next_up, urgent, d);
    for (size_t i = 0; i < want && !st;) {
        if (V->state[i] == VOICED) {
            i++;
            continue;
        }
        if (progress)
            progress(user, "speech", (int64_t)V->n_voiced, (int64_t)n);
        st = wait_one(dr, stop, d);
    }
    return st;
}

rp_status rp_drama_voice_one(rp_drama *dr, size_t i, rp_diags *d)
{
    // Keep the workers busy a few lines ahead of what is asked for.
    size_t ahead = i + 1 + 4 * (size_t)pool_jobs;
    return voice_upto(dr, i + 1, ahead, i, NULL, NULL, NULL, d);
}

// Every utterance is voiced: new clips may have taken the cache past its
// bound (nothing new, no need to look).
static void voiced_all(rp_drama *dr)
{
    dr->voiced_s = rp_now_s();
    if (dr->voicing->grown)
        rp_cache_grew(dr->voicing->cache, dr->voicing->grown);
    dr->voicing->grown = 0;
}

rp_status rp_drama_voice(rp_drama *dr, volatile sig_atomic_t *stop, rp_progress_fn progress,
                         void *user, rp_diags *d)
{
    rp_status st = rp_drama_voice_begin(dr, d);
    size_t n = dr->plan.n_utts;
    if (!st)
        st = voice_upto(dr, n, n, NONE, stop, progress, user, d);
    if (st)
        return st;
    if (progress)
        progress(user, "speech", (int64_t)n, (int64_t)n);
    voiced_all(dr);
    st = rp_layout_place(&dr->plan, &dr->cast.render, &dr->timeline);
    dr->voiced = !st;
    return st;
}

rp_status rp_drama_voice_start(rp_drama *dr, rp_diags *d)
{
    rp_status st = rp_drama_voice_begin(dr, d);
    size_t n = dr->plan.n_utts;
    return st ? st : voice_upto(dr, 0, n, NONE, NULL, NULL, NULL, d);
}

rp_status rp_drama_voice_more(rp_drama *dr, volatile sig_atomic_t *stop, size_t *ready,
                              rp_diags *d)
{
    rp_voicing *V = dr->voicing;
    size_t n = dr->plan.n_utts;
    rp_status st = RP_OK;
    if (V->ready < n && V->state[V->ready] != VOICED)
        st = voice_upto(dr, V->ready + 1, 0, NONE, stop, NULL, NULL, d);
    size_t was = V->ready;
    while (!st && V->ready < n && V->state[V->ready] == VOICED)
        V->ready++;
    if (!st && V->ready == n && was < n)
        voiced_all(dr);
    *ready = V->ready;
    return st;
}

// The seed of utterance i's voice effect.
static uint64_t fx_seed(const rp_drama *dr, size_t i)
{
    return rp_seed_mix(dr->cast.render.seed, i);
}

void rp_drama_clip_key(const rp_drama *dr, size_t i, uint64_t out[2])
{
    const struct rp_voicing *V = dr->voicing;
    const rp_utterance *u = &dr->plan.utts[i];
    struct {
        uint64_t lo, seed;
        int64_t fx;
    } after = {V && V->keys ? V->keys[i].lo : 0, fx_seed(dr, i), u->fx};
    out[0] = V && V->keys ? V->keys[i].hi : 0;
    out[1] = rp_hash64(&after, sizeof after, RP_HASH_INIT);
}

void rp_drama_voicing_counts(const rp_drama *dr, size_t *hits, size_t *misses, size_t *jobs,
                             size_t *noted)
{
    *jobs = dr->voicing ? dr->voicing->jobs : 0;
    *noted = dr->voicing ? dr->voicing->noted : 0;
    *hits = dr->voicing ? dr->voicing->hits : 0;
    *misses = dr->voicing ? dr->voicing->misses : 0;
}

// ---- samples ---------------------------------------------------------------------------

// Reads utterance i's samples and applies its voice effect. A clip that
// vanished from the cache since (trimmed by another render, damaged) is
// synthesized again, and must come back the same length.
static rp_status load_samples(rp_drama *dr, size_t i, rp_diags *d)
{
    rp_voicing *V = dr->voicing;
    rp_utterance *u = &dr->plan.utts[i];
    rp_clip c;
    rp_status st = rp_cache_get_clip(V->cache, V->keys[i], &c);
    if (st == RP_ERR_IO) {
        // Gone from the cache (trimmed by another render, or damaged), it
        // is spoken again. Its run's job may not have ended yet (the line
        // came with a note): that job's end comes first, so that the job
        // asked for here is the only one known by this line.
        st = RP_OK;
        while (!st && V->live[i])
            st = wait_one(dr, NULL, d);
        if (st)
            return st;
        V->state[i] = SUBMITTED;
        V->by[i] = i;
        V->n_voiced--;
        rp_clip_deinit(&u->clip);
        if (!(st = submit_job(dr, run_first(V, i), i, i)))
            st = voice_upto(dr, i + 1, 0, NONE, NULL, NULL, NULL, d);
        if (!st)
            st = rp_cache_get_clip(V->cache, V->keys[i], &c);
    }
    if (st)
        return st;
    int64_t shift = 0;
    int out_hz = dr->cast.render.rate_hz;
    st = rp_voicefx_pad(u->fx, out_hz, &c.pcm, &c.n_frames, &shift);
    if (!st && c.n_frames != u->clip.n_frames) {
        rp_diag_add(d, RP_DIAG_ERROR, dr->script.name, u->line, u->col, "cache", NULL,
                    "this line's clip changed length in the cache; 'radioplay cache --clear'");
        st = RP_ERR_IO;
    }
    if (!st) {
        rp_voicefx_apply(u->fx, c.pcm, c.n_frames, out_hz, fx_seed(dr, i));
        u->clip.pcm = c.pcm;
        c.pcm = NULL;
    }
    rp_clip_deinit(&c);
    return st;
}

static rp_status hold(rp_drama *dr, const rp_event *e, rp_diags *d)
{
    rp_voicing *V = dr->voicing;
    if (dr->plan.utts[e->utt].clip.pcm)
        return RP_OK;
    if (rp_grow((void **)&V->held, &V->cap_held, V->n_held + 1, sizeof *V->held))
        return RP_ERR_NOMEM;
    rp_status st = load_samples(dr, e->utt, d);
    if (!st)
        V->held[V->n_held++] = (held_clip){e->utt, e->end};
    return st;
}

rp_status rp_drama_clips_window(rp_drama *dr, int64_t from, int64_t to, rp_diags *d)
{
    rp_voicing *V = dr->voicing;
    const rp_timeline *t = &dr->timeline;
    if (!V)
        return RP_OK;  // clips given some other way (tests that build plans by hand)
    if (from < V->win_from)
        V->win_next = 0;  // mixing again from further back
    V->win_from = from;
    for (size_t k = 0; k < V->n_held;) {
        if (V->held[k].end > from) {
            k++;
            continue;
        }
        rp_clip *c = &dr->plan.utts[V->held[k].utt].clip;
        free(c->pcm);
        c->pcm = NULL;
        V->held[k] = V->held[--V->n_held];
    }
    rp_status st = RP_OK;
    for (; V->win_next < t->n && t->ev[V->win_next].start < to && !st; V->win_next++) {
        const rp_event *e = &t->ev[V->win_next];
        if (e->kind == RP_EV_SPEECH && e->end > from)
            st = hold(dr, e, d);
    }
    return st;
}

rp_status rp_drama_clips_load_all(rp_drama *dr, rp_diags *d)
{
    return rp_drama_clips_window(dr, 0, INT64_MAX, d);
}

void rp_drama_voicing_free(rp_drama *dr)
{
    rp_voicing *V = dr->voicing;
    if (!V)
        return;
    rp_cache_close(V->cache);
    free(V->keys);
    free(V->state);
    free(V->prev);
    free(V->next);
    free(V->by);
    free(V->live);
    free(V->held);
    free(V);
    dr->voicing = NULL;
}

// The workers' program (rp_voicejob.h): RADIOPLAY_WORKER when set (empty:
// none), else radioplay-worker beside this program or in ../libexec/radioplay
// from it, where it can run; NULL: the workers are forks of this process.
static char worker_exe[4096];

static const char *find_worker_program(void)
{
    const char *env = getenv("RADIOPLAY_WORKER");
    if (env)
        return *env && access(env, X_OK) == 0 ? env : NULL;
    char self[sizeof worker_exe - 64];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return NULL;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    static const char *const places[] = {"%s/radioplay-worker",
                                         "%s/../libexec/radioplay/radioplay-worker"};
    for (size_t k = 0; k < sizeof places / sizeof places[0]; k++) {
        snprintf(worker_exe, sizeof worker_exe, places[k], self);
        if (access(worker_exe, X_OK) == 0)
            return worker_exe;
    }
    return NULL;
}

static const char *worker_program;

rp_status rp_drama_workers_start(int jobs)
{
    if (pool)
        return RP_OK;
    pool_jobs = jobs > 0 ? jobs : rp_workers_default_jobs();
    worker_program = find_worker_program();
    return rp_workers_start_exec(&pool, pool_jobs, worker_program, rp_voicejob_init,
                                 rp_voicejob_prepare, rp_voicejob_run, NULL);
}

const char *rp_drama_worker_program(void)
{
    return pool ? worker_program : NULL;
}

void rp_drama_workers_leave(void)
{
    rp_workers_leave(pool);
    pool = NULL;
}
