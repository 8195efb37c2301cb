// SPDX-License-Identifier: GPL-3.0-or-later
// The block mixer. Events are sorted by start; the mixer keeps a cursor into
// them and a small set of active events, so each block costs only what is
// sounding in it. Speech is panned with a constant-power law; effects and
// beds are stereo already and are placed with a balance control.
//
// Two things keep every word clear. Beds duck under speech by the sheet's
// `duck`: since the timeline is known in advance, the duck starts
// RP_DUCK_ATTACK_S before a line so the bed is down when the first word
// lands, and recovers over RP_DUCK_RELEASE_S after it. And while a voice
// speaks, effects and beds together stay `clearance` dB below it: the
// background's level (its mean square over 64-frame slices, averaged over
// 50 ms, or a quarter of the slice's own when that is more, so that a crack
// counts at once; taken before it is heard) is held under the line's own
// mean square less the clearance, by a gain that falls within
// RP_CLEAR_ATTACK_S (a thunder crack on a word is caught in its first
// slice) and recovers over RP_CLEAR_RELEASE_S. The clearance eases in over
// the lead before a line and out over the tail after it, in dB, so the
// background bows out rather than drops. Speech-to-background over every
// line then comes within a fraction of a dB of the clearance
// (tests/test_render.c requires >= 12 dB with the default 13).
//
// The output can be limited to some buses (dialogue, narration, effects,
// beds) with everything else computed as in the full mix, so the buses
// add up to it: stems, and the measurement above.
#include "rp_mix.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rp_config.h"

enum { MAX_ACTIVE = 256, SLICE = RP_MIX_SLICE };

// A line quieter than this (mean square, -60 dBFS) asks for no clearance.
#define RP_CLEAR_QUIET 1e-6f

// Events are named by index: a player's timeline grows (and moves) while
// the mixer runs, and a bed's end may be set after it has started.
typedef struct {
    size_t ev;
    rp_sfx_voice *voice;  // effects and beds
} active;

struct rp_mixer {
    const rp_timeline *t;
    const rp_plan *p;
    int channels;
    int64_t pos;        // frames produced
    size_t next;        // first event not yet started
    active act[MAX_ACTIVE];
    size_t n_act;
    unsigned buses;     // RP_BUS_* that reach the output
    // Ducking of beds.
    float duck_gain, duck_floor, duck_attack, duck_release;
    int64_t duck_lead, duck_tail;
    struct span {
        int64_t start, end;
        size_t ev;
        float limit;  // the background's highest mean square under it; < 0: not yet known
    } *speech;  // speech events, in order
    size_t n_speech, cap_speech, speech_from;
    size_t seen;  // events of the timeline looked at for speech
    // Clearance of effects and beds under a voice.
    float clear_ratio;  // clearance as a power ratio (< 1)
    float clear_gain, clear_env, clear_attack, clear_release, clear_avg;
    float mix[RP_BLOCK_FRAMES * 2];
    float fx[RP_BLOCK_FRAMES * 2];
    float bg_sfx[RP_BLOCK_FRAMES * 2];  // the effects of this block
    float bg_bed[RP_BLOCK_FRAMES * 2];  // the beds of this block
    float duck[RP_BLOCK_FRAMES];
    float clear[RP_BLOCK_FRAMES];
};

void rp_pan_gains(float pan, float *gl, float *gr)
{
    if (pan < -1.0f)
        pan = -1.0f;
    if (pan > 1.0f)
        pan = 1.0f;
    double theta = (pan + 1.0) * (M_PI / 4.0);
    *gl = (float)cos(theta);
    *gr = (float)sin(theta);
}

rp_mixer *rp_mixer_new(const rp_timeline *t, const rp_plan *p, const rp_render_config *r,
                       int channels, rp_status *st)
{
    *st = RP_OK;
    if (channels < 1 || channels > 2) {
        *st = RP_ERR_USAGE;
        return NULL;
    }
    rp_mixer *m = calloc(1, sizeof *m);
    if (!m) {
        *st = RP_ERR_NOMEM;
        return NULL;
    }
    m->t = t;
    m->p = p;
    m->channels = channels;
    m->duck_gain = 1.0f;
    m->duck_floor = (float)rp_db_to_gain(r->duck_db);
    // One-pole smoothing coefficients reaching ~95% in the given time.
    m->duck_attack = (float)(1.0 - exp(-3.0 / (RP_DUCK_ATTACK_S * t->rate_hz)));
    m->duck_release = (float)(1.0 - exp(-3.0 / (RP_DUCK_RELEASE_S * t->rate_hz)));
    m->duck_lead = (int64_t)(RP_DUCK_ATTACK_S * t->rate_hz);
    m->duck_tail = (int64_t)(0.1 * t->rate_hz);
    m->buses = RP_BUS_ALL;
    m->clear_ratio = (float)pow(10.0, -r->clearance_db / 10.0);
    m->clear_gain = 1.0f;
    m->clear_attack = (float)(1.0 - exp(-3.0 / (RP_CLEAR_ATTACK_S * t->rate_hz)));
    m->clear_release = (float)(1.0 - exp(-3.0 / (RP_CLEAR_RELEASE_S * t->rate_hz)));
    m->clear_avg = (float)(1.0 - exp(-SLICE / (0.05 * t->rate_hz)));
    return m;
}

// Takes in the speech events the timeline has gained since the last block.
static int see_speech(rp_mixer *m)
{
    const rp_timeline *t = m->t;
    for (; m->seen < t->n; m->seen++) {
        const rp_event *e = &t->ev[m->seen];
        if (e->kind != RP_EV_SPEECH)
            continue;
        if (rp_grow((void **)&m->speech, &m->cap_speech, m->n_speech + 1, sizeof *m->speech))
            return -1;
        m->speech[m->n_speech++] = (struct span){e->start, e->end, m->seen, -1};
    }
    return 0;
}

int64_t rp_mixer_lookahead(const rp_mixer *m)
{
    return m->duck_lead;
}

void rp_mixer_free(rp_mixer *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_act; i++)
        rp_sfx_voice_free(m->act[i].voice);
    free(m->speech);
    free(m);
}

int64_t rp_mixer_position(const rp_mixer *m)
{
    return m->pos;
}

void rp_mixer_set_buses(rp_mixer *m, unsigned buses)
{
    m->buses = buses;
}

// 1 where speech sounds within [from - tail, to + lead).
static int speech_near(rp_mixer *m, int64_t from, int64_t to)
{
    while (m->speech_from < m->n_speech && m->speech[m->speech_from].end + m->duck_tail <= from)
        m->speech_from++;
    return m->speech_from < m->n_speech && m->speech[m->speech_from].start < to + m->duck_lead;
}

// The mean square per channel of a line as heard: constant-power panning
// keeps the clip's power, shared by the two channels.
static float line_power(const rp_mixer *m, const rp_event *e)
{
    const rp_clip *c = &m->p->utts[e->utt].clip;
    int64_t n = e->end - e->start < c->n_frames ? e->end - e->start : c->n_frames;
    double sum = 0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)c->pcm[i] * c->pcm[i];
    return n > 0 ? (float)(sum / (double)n * e->gain * e->gain / 2.0) : 0.0f;
}

// The highest mean square the background may have at frame at: the
// clearance under the lines sounding there, eased in over the lead before a
// line and out over the tail after it. < 0: no limit.
static float clear_limit(rp_mixer *m, size_t from, int64_t at)
{
    float limit = -1.0f;
    for (size_t i = from; i < m->n_speech && m->speech[i].start < at + m->duck_lead; i++) {
        struct span *sp = &m->speech[i];
        if (sp->end + m->duck_tail <= at)
            continue;
        if (sp->limit < 0)
            sp->limit = line_power(m, &m->t->ev[sp->ev]);
        if (sp->limit < RP_CLEAR_QUIET || m->clear_ratio >= 1.0f)
            continue;  // a silent line, or no clearance asked for
        // 0 at the line, 1 at the far end of the lead or tail.
        float away = at < sp->start ? (float)(sp->start - at) / (float)m->duck_lead
                     : at >= sp->end ? (float)(at - sp->end) / (float)m->duck_tail
                                     : 0.0f;
        float l = sp->limit * powf(m->clear_ratio, 1.0f - away);
        if (limit < 0 || l < limit)
            limit = l;
    }
    return limit;
}

// The clearance gain of every frame of the block, from the background of it.
// from: the first line that may still matter at the block's start (the
// ducking has moved m->speech_from on to its end).
static void fill_clear(rp_mixer *m, size_t from, size_t n)
{
    float g = m->clear_gain, avg = m->clear_env, env;
    for (size_t s = 0; s < n; s += SLICE) {
        size_t e = s + SLICE < n ? s + SLICE : n;
        double sum = 0;
        for (size_t i = 2 * s; i < 2 * e; i++) {
            float x = m->bg_sfx[i] + m->bg_bed[i];
            sum += (double)x * x;
        }
        float ms = (float)(sum / (double)(2 * (e - s)));
        // The level: a 50 ms average, but a sudden crack counts at once.
        avg += (ms - avg) * m->clear_avg;
        env = ms * 0.25f > avg ? ms * 0.25f : avg;
        float limit = clear_limit(m, from, m->pos + (int64_t)s);
        float target = limit >= 0 && env > limit ? sqrtf(limit / env) : 1.0f;
        float k = target < g ? m->clear_attack : m->clear_release;
        for (size_t i = s; i < e; i++) {
            g += (target - g) * k;
            m->clear[i] = g;
        }
    }
    m->clear_gain = g;
    m->clear_env = avg < 1e-20f ? 0.0f : avg;  // no subnormals in the average
}

static void fill_duck(rp_mixer *m, size_t n)
{
    // Decided per 64-frame slice: fine enough for a 150 ms attack.
    float g = m->duck_gain;
    for (size_t s = 0; s < n; s += SLICE) {
        size_t e = s + SLICE < n ? s + SLICE : n;
        int near = speech_near(m, m->pos + (int64_t)s, m->pos + (int64_t)e);
        float target = near ? m->duck_floor : 1.0f;
        float k = target < g ? m->duck_attack : m->duck_release;
        for (size_t i = s; i < e; i++) {
            g += (target - g) * k;
            m->duck[i] = g;
        }
    }
    m->duck_gain = g;
}

static void add_speech(rp_mixer *m, const rp_event *e, int64_t off, size_t from, size_t n)
{
    const rp_clip *c = &m->p->utts[e->utt].clip;
    if (!(m->buses & (m->p->utts[e->utt].narration ? RP_BUS_NARRATION : RP_BUS_DIALOGUE)))
        return;
    float gl, gr;
    rp_pan_gains(e->pan, &gl, &gr);
    gl *= e->gain;
    gr *= e->gain;
    const float *src = c->pcm + off;
    float *dst = m->mix + from * 2;
    for (size_t i = 0; i < n; i++) {
        dst[2 * i] += src[i] * gl;
        dst[2 * i + 1] += src[i] * gr;
    }
}

// Bed fades follow the equal-power law (a quarter sine): a bed fading out
// and another fading in over the same span keep the level of either, as
// uncorrelated sounds add by power.
static float fade_gain(const rp_event *e, int64_t at)
{
    float x = 1.0f;
    if (e->fade_in > 0 && at - e->start < e->fade_in)
        x = (float)(at - e->start) / (float)e->fade_in;
    if (e->fade_out > 0 && e->end - at < e->fade_out) {
        float h = (float)(e->end - at) / (float)e->fade_out;
        x = h < x ? h : x;
    }
    return x < 1.0f ? sinf((float)M_PI_2 * x) : 1.0f;
}

static void add_effect(rp_mixer *m, const active *a, int64_t at, size_t from, size_t n)
{
    const rp_event *e = &m->t->ev[a->ev];
    rp_sfx_voice_render(a->voice, m->fx, n);
    // Balance: moving right attenuates the left channel and vice versa.
    float bl = e->pan > 0 ? 1.0f - e->pan : 1.0f;
    float br = e->pan < 0 ? 1.0f + e->pan : 1.0f;
    int bed = e->kind == RP_EV_BED;
    float *dst = (bed ? m->bg_bed : m->bg_sfx) + from * 2;
    for (size_t i = 0; i < n; i++) {
        float g = e->gain;
        if (bed)
            g *= fade_gain(e, at + (int64_t)i) * m->duck[from + i];
        dst[2 * i] += m->fx[2 * i] * g * bl;
        dst[2 * i + 1] += m->fx[2 * i + 1] * g * br;
    }
}

size_t rp_mixer_process(rp_mixer *m, float *out, size_t max_frames)
{
    const rp_timeline *t = m->t;
    if (m->pos >= t->n_frames || see_speech(m))
        return 0;
    size_t n = max_frames < RP_BLOCK_FRAMES ? max_frames : RP_BLOCK_FRAMES;
    if ((int64_t)n > t->n_frames - m->pos)
        n = (size_t)(t->n_frames - m->pos);
    int64_t b0 = m->pos, b1 = m->pos + (int64_t)n;
    memset(m->mix, 0, sizeof(float) * 2 * n);
    memset(m->bg_sfx, 0, sizeof(float) * 2 * n);
    memset(m->bg_bed, 0, sizeof(float) * 2 * n);

    // Start the events that begin in this block.
    for (; m->next < t->n && t->ev[m->next].start < b1; m->next++) {
        const rp_event *e = &t->ev[m->next];
        if (e->end <= b0 || e->kind == RP_EV_PAUSE || m->n_act == MAX_ACTIVE)
            continue;
        active a = {m->next, NULL};
        if (e->kind == RP_EV_SFX || e->kind == RP_EV_BED) {
            a.voice = rp_sfx_voice_new(e->preset, t->rate_hz, e->seed);
            if (!a.voice)
                continue;  // out of memory: the effect is skipped, the render goes on
        }
        m->act[m->n_act++] = a;
    }
    size_t lines_from = m->speech_from;
    fill_duck(m, n);

    for (size_t i = 0; i < m->n_act;) {
        active *a = &m->act[i];
        const rp_event *e = &t->ev[a->ev];
        int64_t s = e->start > b0 ? e->start : b0;
        int64_t f = e->end < b1 ? e->end : b1;
        if (f > s) {
            size_t from = (size_t)(s - b0), len = (size_t)(f - s);
            if (e->kind == RP_EV_SPEECH)
                add_speech(m, e, s - e->start, from, len);
            else
                add_effect(m, a, s, from, len);
        }
        if (e->end <= b1) {
            rp_sfx_voice_free(a->voice);
            m->act[i] = m->act[--m->n_act];
        } else {
            i++;
        }
    }

    // The background, cleared under the voices, joins the speech.
    fill_clear(m, lines_from, n);
    float use_sfx = m->buses & RP_BUS_EFFECTS ? 1.0f : 0.0f;
    float use_bed = m->buses & RP_BUS_BEDS ? 1.0f : 0.0f;
    for (size_t i = 0; i < n; i++) {
        float g = m->clear[i];
        m->mix[2 * i] += (m->bg_sfx[2 * i] * use_sfx + m->bg_bed[2 * i] * use_bed) * g;
        m->mix[2 * i + 1] += (m->bg_sfx[2 * i + 1] * use_sfx + m->bg_bed[2 * i + 1] * use_bed) * g;
    }

    if (m->channels == 2) {
        memcpy(out, m->mix, sizeof(float) * 2 * n);
    } else {
        // Mono: the centre of the constant-power law comes back to unity.
        for (size_t i = 0; i < n; i++)
            out[i] = (m->mix[2 * i] + m->mix[2 * i + 1]) * (float)M_SQRT1_2;
    }
    m->pos = b1;
    return n;
}
