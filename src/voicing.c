// SPDX-License-Identifier: GPL-3.0-or-later
// Voicing a drama: every utterance gets its clip from the clip cache or,
// on a miss, from a worker process (speak with espeak-ng, resample to the
// output rate, write the clip into the cache). The drama keeps only what
// placing needs (each clip's length and word marks); the samples stay on
// disk until the mixer is about to play them (rp_drama_clips_window), so
// memory does not grow with the chapter.
//
// One zygote serves the whole process (rp_worker.h): it is forked the
// first time anything is voiced, before this process initializes espeak-ng
// itself (it does, to check the cast's voices), so every job starts from a
// freshly initialized espeak-ng. Requests carry everything a job needs
// (voice, text, respellings, rate, where the cache is), so one zygote
// serves every drama of a process (`--watch`, books).
#include "rp_render.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_cache.h"
#include "rp_config.h"
#include "rp_resample.h"
#include "rp_voicefx.h"
#include "rp_worker.h"

enum { UNKNOWN, SUBMITTED, RETRYING, VOICED };

typedef struct {
    size_t utt;
    int64_t end;  // where its event ends: the samples go after that
} held_clip;

typedef struct rp_voicing rp_voicing;

struct rp_voicing {
    uint64_t gen;           // this drama's jobs carry it in their ids
    rp_cache *cache;
    rp_cache_key *keys;
    unsigned char *state;
    size_t next;            // the first utterance not looked up yet
    size_t n_voiced;        // utterances with their clip's length known
    size_t ready;           // utterances voiced from the first on
    size_t hits, misses;
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
static rp_speech *zygote_speech;  // in the zygote only

// ---- requests ---------------------------------------------------------------------

// A job's request: a fixed part, then the cache folder, the text and the
// [say] list as NUL-terminated strings.
typedef struct {
    rp_cache_key key;
    int32_t out_hz;
    int32_t rate_wpm, pitch, range, volume;
    char voice[64], variant[32];
    uint32_t n_say;
    int32_t simplify;  // a retry after espeak-ng crashed: simplify_punctuation
} request;

static void put_str(rp_strbuf *b, const char *s)
{
    rp_strbuf_append(b, s, strlen(s) + 1);
}

static const char *take_str(const char **p, const char *end)
{
    const char *s = *p, *z = memchr(s, '\0', (size_t)(end - s));
    if (!z)
        return NULL;
    *p = z + 1;
    return s;
}

// espeak-ng (1.51) overflows its stack on some runs of punctuation, such as
// "é.é.é." sixty times over, which it reads as one long abbreviation. A
// line it crashed on is tried once more with every full stop a comma and
// every other mark but ,;:!?'- a space: the same length, so the word marks
// still point into the line's own text.
static void simplify_punctuation(char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '.')
            *s = ',';
        else if (c < 0x80 && ispunct(c) && !strchr(",;:!?'-", c))
            *s = ' ';
    }
}

// A count of the frames in 10 ms windows louder than RP_VOICED_DBFS, as
// the samples come (the last window may be shorter).
typedef struct {
    int64_t win, in_win;  // frames in a window, in this one so far
    double floor_sq, sq;
    int64_t voiced;
} voiced_count;

static voiced_count voiced_start(int rate_hz)
{
    voiced_count v = {.win = rate_hz / 100 > 0 ? rate_hz / 100 : 1};
    v.floor_sq = pow(10.0, RP_VOICED_DBFS / 10.0) * (double)v.win;
    return v;
}

static void voiced_window(voiced_count *v)
{
    if (v->sq > v->floor_sq * (double)v->in_win / (double)v->win)
        v->voiced += v->in_win;
    v->sq = 0.0;
    v->in_win = 0;
}

// The sum of the squares of n samples, in four running sums (one would be
// a chain of adds, each waiting on the last: most of a job's own time).
static double sum_sq(const float *x, size_t n)
{
    double s[4] = {0.0, 0.0, 0.0, 0.0};
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int k = 0; k < 4; k++)
            s[k] += (double)x[i + (size_t)k] * x[i + (size_t)k];
    for (; i < n; i++)
        s[0] += (double)x[i] * x[i];
    return (s[0] + s[1]) + (s[2] + s[3]);
}

static void voiced_add(voiced_count *v, const float *x, size_t n)
{
    while (n > 0) {
        size_t k = (size_t)(v->win - v->in_win) < n ? (size_t)(v->win - v->in_win) : n;
        v->sq += sum_sq(x, k);
        v->in_win += (int64_t)k;
        x += k;
        n -= k;
        if (v->in_win == v->win)
            voiced_window(v);
    }
}

static int64_t voiced_end(voiced_count *v)
{
    if (v->in_win > 0)
        voiced_window(v);
    return v->voiced;
}

// Converters from espeak-ng's rate to the usual output rates, made once in
// the zygote: a job at another rate makes its own.
static const int prepared_hz[] = {48000, 44100};
static rp_resampler *zygote_resampler[sizeof prepared_hz / sizeof prepared_hz[0]];

static rp_status zygote_init(void *user)
{
    (void)user;
    rp_diags d;
    rp_diags_init(&d);
    rp_status st = rp_speech_new(&zygote_speech, &d);
    rp_diags_deinit(&d);
    for (size_t k = 0; !st && k < sizeof prepared_hz / sizeof prepared_hz[0]; k++)
        st = rp_resampler_new(&zygote_resampler[k], rp_speech_rate_hz(zygote_speech),
                              prepared_hz[k]);
    return st;
}

// A request's fixed part and strings, as submit wrote them.
static rp_status take_request(const void *bytes, size_t len, request *q, const char **dir,
                              const char **text, const char **rest, const char **end)
{
    const char *p = bytes;
    *end = p + len;
    if (len < sizeof *q)
        return RP_ERR_SPEECH;
    memcpy(q, p, sizeof *q);
    p += sizeof *q;
    *dir = take_str(&p, *end);
    *text = take_str(&p, *end);
    *rest = p;
    return *dir && *text ? RP_OK : RP_ERR_SPEECH;
}

static rp_voice request_voice(const request *q)
{
    rp_voice v = {.rate_wpm = q->rate_wpm, .pitch = q->pitch, .range = q->range,
                  .volume = q->volume};
    memcpy(v.voice, q->voice, sizeof v.voice);
    memcpy(v.variant, q->variant, sizeof v.variant);
    return v;
}

// In a voice's own zygote (jobs are grouped by voice and variant): the
// voice loaded once for all its lines. A job then sets its rate and pitch
// on it, as it did after loading it itself: the same state, the same
// bytes, without the voice's files read and its dictionary built again
// for each line (0.28 ms and about 50 page faults a line).
static rp_status voice_prepare(void *user, const void *bytes, size_t len)
{
    (void)user;
    request q;
    const char *dir, *text, *rest, *end;
    rp_status st = take_request(bytes, len, &q, &dir, &text, &rest, &end);
    if (st)
        return st;
    rp_voice v = request_voice(&q);
    rp_speech_voice_file_known(v.voice);
    return rp_speech_load_voice(zygote_speech, &v);
}

// A job's output as it is resampled: counted, and written to its clip.
typedef struct {
    voiced_count voiced;
    rp_clip_writer *w;
} job_out;

static rp_status job_take(void *ctx, const float *out, size_t n)
{
    job_out *o = ctx;
    voiced_add(&o->voiced, out, n);
    rp_cache_clip_add(o->w, out, n);
    return RP_OK;
}

// From espeak-ng's 16-bit samples: the float copy of a clip was a sixth of
// a job's page faults.
static rp_status resample_into(const int16_t *in, int64_t n_in, int in_hz, int out_hz,
                               job_out *o)
{
    const float scale = RP_SPEECH_S16_SCALE;
    for (size_t k = 0; k < sizeof prepared_hz / sizeof prepared_hz[0]; k++)
        if (rp_resampler_converts(zygote_resampler[k], in_hz, out_hz))
            return rp_resampler_each_s16(zygote_resampler[k], in, n_in, scale, job_take, o);
    rp_resampler *r;
    rp_status st = rp_resampler_new(&r, in_hz, out_hz);
    if (!st) {
        st = rp_resampler_each_s16(r, in, n_in, scale, job_take, o);
        rp_resampler_free(r);
    }
    return st;
}

// In a job's process: speak, resample, store. The process ends in _exit,
// and still frees what it took: valgrind follows the workers, and a leak
// there is a leak in a long-lived caller of the same code.
static rp_status voice_job(void *user, const void *bytes, size_t len)
{
    (void)user;
    request q;
    const char *dir, *text, *p, *end;
    rp_status st = take_request(bytes, len, &q, &dir, &text, &p, &end);
    if (st)
        return st;
    rp_respelling *say = calloc(q.n_say ? q.n_say : 1, sizeof *say);
    st = say ? RP_OK : RP_ERR_NOMEM;
    for (uint32_t i = 0; !st && i < q.n_say; i++) {
        say[i].word = (char *)take_str(&p, end);
        say[i].say = (char *)take_str(&p, end);
        if (!say[i].word || !say[i].say)
            st = RP_ERR_SPEECH;
    }
    if (st) {
        free(say);
        return st;
    }
    rp_voice v = request_voice(&q);
    char *plain = q.simplify ? rp_strdup(text) : NULL;
    if (plain)
        simplify_punctuation(plain);
    rp_speech_voice_file_known(v.voice);
    rp_speech_set_respellings(zygote_speech, say, q.n_say);
    rp_clip clip;
    const int16_t *pcm16;
    st = rp_speech_say_s16(zygote_speech, &v, plain ? plain : text, &clip, &pcm16);
    rp_speech_set_respellings(zygote_speech, NULL, 0);
    free(plain);
    free(say);
    // Resampled a piece at a time straight into the clip's file: the clip
    // at the output rate is never whole in memory (each new page of it was
    // a page fault, most of a job's).
    if (!st) {
        rp_cache *c;
        rp_diags d;
        rp_diags_init(&d);
        st = rp_cache_open(&c, dir, &d);
        rp_diags_deinit(&d);
        if (!st) {
            rp_worker_hold(1);
            job_out o = {.voiced = voiced_start(q.out_hz)};
            st = rp_cache_clip_begin(c, q.key, q.out_hz, &o.w);
            if (!st)
                st = resample_into(pcm16, clip.n_frames, clip.rate_hz, q.out_hz, &o);
            int64_t n = o.w ? rp_cache_clip_frames(o.w) : 0;
            for (size_t w = 0; w < clip.n_words; w++) {
                int64_t f = clip.words[w].frame * q.out_hz / clip.rate_hz;
                clip.words[w].frame = f > n ? n : f;
            }
            rp_status es = rp_cache_clip_end(o.w, clip.words, clip.n_words,
                                             voiced_end(&o.voiced), st == RP_OK);
            st = st ? st : es;
            rp_worker_hold(0);
            rp_cache_close(c);
        }
    }
    rp_clip_deinit(&clip);
    return st;
}

// ---- keys ---------------------------------------------------------------------------

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
    rp_strbuf_printf(&b, "voice %s+%s %d %d %d %d\n", v->voice, v->variant, v->rate_wpm,
                     v->pitch, v->range, v->volume);
    put_str(&b, u->text);
    put_str(&b, r.text);
    rp_strbuf_printf(&b, "%d %zu %d\n", r.has_phonemes, r.n, (int)r.n_orig);
    rp_strbuf_append(&b, (const char *)r.orig, r.n * sizeof *r.orig);
    *out = rp_cache_key_of(b.s, b.len);
    rp_strbuf_deinit(&b);
    rp_respelled_deinit(&r);
    return RP_OK;
}

static rp_status submit(rp_drama *dr, size_t i, int simplify)
{
    const rp_utterance *u = &dr->plan.utts[i];
    // Zeroed first: its padding goes down the pipe too.
    request q;
    memset(&q, 0, sizeof q);
    q.key = dr->voicing->keys[i];
    q.simplify = simplify;
    q.out_hz = dr->cast.render.rate_hz;
    q.rate_wpm = u->voice->rate_wpm;
    q.pitch = u->voice->pitch;
    q.range = u->voice->range;
    q.volume = u->voice->volume;
    q.n_say = (uint32_t)dr->cast.n_say;
    // The voice file, found here once, spares each job the search.
    if (rp_speech_voice_file(u->voice, q.voice, sizeof q.voice))
        memcpy(q.voice, u->voice->voice, sizeof q.voice);
    memcpy(q.variant, u->voice->variant, sizeof q.variant);
    rp_strbuf b;
    rp_strbuf_init(&b);
    rp_strbuf_append(&b, (const char *)&q, sizeof q);
    put_str(&b, rp_cache_dir(dr->voicing->cache));
    put_str(&b, u->text);
    for (size_t k = 0; k < dr->cast.n_say; k++) {
        put_str(&b, dr->cast.say[k].word);
        put_str(&b, dr->cast.say[k].say);
    }
    uint64_t id = dr->voicing->gen << 32 | i;
    // Lines of one voice and variant share a zygote with the voice loaded.
    char voice[sizeof q.voice + sizeof q.variant + 2];
    int n = snprintf(voice, sizeof voice, "%s+%s", q.voice, q.variant);
    uint64_t group = rp_hash64(voice, (size_t)n, RP_HASH_INIT) | 1;
    rp_status st = b.s ? rp_workers_submit(pool, id, group, b.s, b.len) : RP_ERR_NOMEM;
    rp_strbuf_deinit(&b);
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
    if (!V->keys || !V->state)
        return RP_ERR_NOMEM;
    for (size_t i = 0; i < n && !st; i++)
        st = clip_key(dr, i, &V->keys[i]);
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

// A job ended: its clip is in the cache, or the line is tried again with
// its punctuation simplified, or it gets its error.
static rp_status job_done(rp_drama *dr, size_t i, rp_status result, int sig, rp_diags *d)
{
    const rp_utterance *u = &dr->plan.utts[i];
    if (!result && !take_info(dr, i, 1, d))
        return RP_OK;
    const char *what = sig == SIGKILL ? "took too long or was killed" : "crashed";
    if (sig && dr->voicing->state[i] == SUBMITTED) {
        rp_diag_add(d, RP_DIAG_WARNING, dr->script.name, u->line, u->col, "speech", NULL,
                    "espeak-ng %s on this line (signal %d); spoken again with its punctuation "
                    "simplified", what, sig);
        dr->voicing->state[i] = RETRYING;
        return submit(dr, i, 1);
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

// Waits for one job of this drama to end.
static rp_status wait_one(rp_drama *dr, volatile sig_atomic_t *stop, rp_diags *d)
{
    uint64_t id;
    rp_status result;
    int sig;
    rp_status st = rp_workers_next(pool, stop, &id, &result, &sig);
    if (st == RP_ERR_SPEECH)
        rp_diag_add(d, RP_DIAG_ERROR, NULL, 0, 0, "speech", NULL,
                    "the synthesis workers stopped unexpectedly");
    if (st)
        return st;
    size_t i = (size_t)(id & 0xffffffffu);
    if (id >> 32 != dr->voicing->gen || i >= dr->plan.n_utts ||
        (dr->voicing->state[i] != SUBMITTED && dr->voicing->state[i] != RETRYING))
        return RP_OK;  // a job of an earlier drama (an interrupted one)
    return job_done(dr, i, result, sig, d);
}

// Looks utterances up (hits are voiced at once, misses go to the workers)
// as far as `ahead`, then waits until every utterance before `want` is voiced.
static rp_status voice_upto(rp_drama *dr, size_t want, size_t ahead, volatile sig_atomic_t *stop,
                            rp_progress_fn progress, void *user, rp_diags *d)
{
    rp_voicing *V = dr->voicing;
    size_t n = dr->plan.n_utts;
    rp_status st = RP_OK;
    if (ahead > n)
        ahead = n;
    for (; V->next < ahead && !st; V->next++) {
        size_t i = V->next;
        if (take_info(dr, i, 0, d) == RP_OK) {
            V->hits++;
            continue;
        }
        V->misses++;
        V->state[i] = SUBMITTED;
        st = submit(dr, i, 0);
    }
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
    return voice_upto(dr, i + 1, ahead, NULL, NULL, NULL, d);
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
        st = voice_upto(dr, n, n, stop, progress, user, d);
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
    return st ? st : voice_upto(dr, 0, n, NULL, NULL, NULL, d);
}

rp_status rp_drama_voice_more(rp_drama *dr, volatile sig_atomic_t *stop, size_t *ready,
                              rp_diags *d)
{
    rp_voicing *V = dr->voicing;
    size_t n = dr->plan.n_utts;
    rp_status st = RP_OK;
    if (V->ready < n && V->state[V->ready] != VOICED)
        st = voice_upto(dr, V->ready + 1, 0, stop, NULL, NULL, d);
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

void rp_drama_voicing_counts(const rp_drama *dr, size_t *hits, size_t *misses)
{
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
        V->state[i] = SUBMITTED;
        V->n_voiced--;
        rp_clip_deinit(&u->clip);
        if (!(st = submit(dr, i, 0)))
            st = voice_upto(dr, i + 1, 0, NULL, NULL, NULL, d);
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
    free(V->held);
    free(V);
    dr->voicing = NULL;
}

rp_status rp_drama_workers_start(int jobs)
{
    if (pool)
        return RP_OK;
    pool_jobs = jobs > 0 ? jobs : rp_workers_default_jobs();
    return rp_workers_start(&pool, pool_jobs, zygote_init, voice_prepare, voice_job, NULL);
}

void rp_drama_workers_stop(void)
{
    rp_workers_stop(pool);
    pool = NULL;
}
