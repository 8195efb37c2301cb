// SPDX-License-Identifier: GPL-3.0-or-later
// A synthesis job's work (rp_voicejob.h): in a worker process, each line of
// a request spoken with espeak-ng, resampled to the output rate and written
// into the clip cache as it comes.
#include "rp_voicejob.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rp_config.h"
#include "rp_resample.h"
#include "rp_speech.h"
#include "rp_worker.h"

static rp_speech *zygote_speech;  // in the zygote and its jobs

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

rp_status rp_voicejob_init(void *user)
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

// A job's head, cache folder and [say] list, as voicing.c's submit_job wrote them;
// *p is then at its first line.
static rp_status take_job(const void *bytes, size_t len, rp_job_head *h, const char **dir,
                          rp_respelling **say, const char **p, const char **end)
{
    *p = bytes;
    *end = *p + len;
    *say = NULL;
    if (len < sizeof *h)
        return RP_ERR_SPEECH;
    memcpy(h, *p, sizeof *h);
    *p += sizeof *h;
    *dir = take_str(p, *end);
    *say = calloc(h->n_say ? h->n_say : 1, sizeof **say);
    if (!*say)
        return RP_ERR_NOMEM;
    for (uint32_t i = 0; i < h->n_say; i++) {
        (*say)[i].word = *dir ? (char *)take_str(p, *end) : NULL;
        (*say)[i].say = (*say)[i].word ? (char *)take_str(p, *end) : NULL;
        if (!(*say)[i].say)
            return RP_ERR_SPEECH;
    }
    return *dir ? RP_OK : RP_ERR_SPEECH;
}

// The next line of a job: its fixed part and text.
static rp_status take_line(const char **p, const char *end, rp_job_line *q, const char **text)
{
    if ((size_t)(end - *p) < sizeof *q)
        return RP_ERR_SPEECH;
    memcpy(q, *p, sizeof *q);
    *p += sizeof *q;
    *text = take_str(p, end);
    return *text ? RP_OK : RP_ERR_SPEECH;
}

static rp_voice request_voice(const rp_job_line *q)
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
rp_status rp_voicejob_prepare(void *user, const void *bytes, size_t len)
{
    (void)user;
    rp_job_head h;
    const char *dir, *p, *end, *text;
    rp_respelling *say;
    rp_job_line q;
    rp_status st = take_job(bytes, len, &h, &dir, &say, &p, &end);
    free(say);
    if (!st)
        st = take_line(&p, end, &q, &text);
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

// A clip spoken: resampled a piece at a time straight into its file (the
// clip at the output rate is never whole in memory: each new page of it
// was a page fault, most of a job's).
static rp_status store(rp_cache *c, const rp_job_line *q, int out_hz, rp_clip *clip,
                       const int16_t *pcm16)
{
    rp_worker_hold(1);
    job_out o = {.voiced = voiced_start(out_hz)};
    rp_status st = rp_cache_clip_begin(c, q->key, out_hz, &o.w);
    if (!st)
        st = resample_into(pcm16, clip->n_frames, clip->rate_hz, out_hz, &o);
    int64_t n = o.w ? rp_cache_clip_frames(o.w) : 0;
    for (size_t w = 0; w < clip->n_words; w++) {
        int64_t f = clip->words[w].frame * out_hz / clip->rate_hz;
        clip->words[w].frame = f > n ? n : f;
    }
    rp_status es = rp_cache_clip_end(o.w, clip->words, clip->n_words, voiced_end(&o.voiced),
                                     st == RP_OK);
    rp_worker_hold(0);
    return st ? st : es;
}

// In a job's process: speak each line in turn, and store those the cache
// lacks. The process ends in _exit, and still frees what it took: valgrind
// follows the workers, and a leak there is a leak in a long-lived caller
// of the same code.
rp_status rp_voicejob_run(void *user, const void *bytes, size_t len)
{
    (void)user;
    rp_job_head h;
    const char *dir, *p, *end;
    rp_respelling *say;
    rp_status st = take_job(bytes, len, &h, &dir, &say, &p, &end);
    rp_cache *c = NULL;
    if (!st) {
        rp_diags d;
        rp_diags_init(&d);
        st = rp_cache_open(&c, dir, &d);
        rp_diags_deinit(&d);
    }
    if (!st)
        rp_speech_set_respellings(zygote_speech, say, h.n_say);
    for (uint32_t i = 0; !st && i < h.n_lines; i++) {
        rp_job_line q;
        const char *text;
        st = take_line(&p, end, &q, &text);
        if (st)
            break;
        rp_voice v = request_voice(&q);
        char *plain = q.simplify ? rp_strdup(text) : NULL;
        if (plain)
            simplify_punctuation(plain);
        rp_speech_voice_file_known(v.voice);
        rp_clip clip;
        const int16_t *pcm16;
        st = rp_speech_say_s16(zygote_speech, &v, plain ? plain : text, &clip, &pcm16);
        free(plain);
        if (!st && q.write)
            st = store(c, &q, h.out_hz, &clip, pcm16);
        rp_clip_deinit(&clip);
        // The clip is in the cache: the caller can take it now, not once
        // the whole run is spoken (the last line's news is the job's end).
        if (!st && q.write && i + 1 < h.n_lines)
            rp_worker_note(q.utt);
    }
    rp_speech_set_respellings(zygote_speech, NULL, 0);
    rp_cache_close(c);
    free(say);
    return st;
}
