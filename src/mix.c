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
// Rooms: one bus per room in use, each with its rp_reverb, made when the
// first sound in that room starts and freed once it has rung out and no
// sound sounding is in it. Every event sends its signal (after pan, gain,
// fades and ducking: post-fader, as a desk's aux send) at its own send
// level to the room it started in; effects and beds are sent after the
// clearance too, so a voice keeps its clearance over the background's echo
// as it is sent. The room's return is added to the mix. A room no longer in
// effect keeps ringing until its tail dies away. The reverb works frame by
// frame, so the output still does not depend on the block sizes.
//
// The output can be limited to some buses (dialogue, narration, effects,
// beds) with everything else computed as in the full mix, so the buses
// add up to it; and rp_mixer_process_stems gives all four at once, with
// per-stem reverbs (see rp_mix.h).
#include "rp_mix.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rp_config.h"

enum { MAX_ACTIVE = 256, SLICE = RP_MIX_SLICE };

// A line quieter than this (mean square, -60 dBFS) asks for no clearance.
#define RP_CLEAR_QUIET 1e-6f

const char *const rp_stem_names[RP_STEM_COUNT] = {"dialogue", "narration", "effects", "beds"};

enum { RAMP_DUCK_ATTACK, RAMP_DUCK_RELEASE, RAMP_CLEAR_ATTACK, RAMP_CLEAR_RELEASE };

// Events are named by index: a player's timeline grows (and moves) while
// the mixer runs, and a bed's end may be set after it has started.
typedef struct {
    size_t ev;
    rp_sfx_voice *voice;  // effects and beds
    int bus;              // its room's bus (index into rooms), -1: dry
    int stem;             // rp_stem
} active;

// A room's bus. The sends are this block's, by stem (stereo, effects and
// beds before the clearance); rv is fed them all, and with stems the first
// three stems each feed their own reverb (beds get the rest of rv's).
typedef struct {
    rp_reverb *rv;
    rp_reverb *stem_rv[RP_STEM_BEDS];
    float *send;  // RP_STEM_COUNT blocks of RP_BLOCK_FRAMES stereo frames
    unsigned fed; // stems sent something this block (1 << rp_stem)
    int users;    // active events in this room
} room_bus;

struct rp_mixer {
    const rp_timeline *t;
    const rp_plan *p;
    int channels;
    int64_t pos;        // frames produced
    size_t next;        // first event not yet started
    active act[MAX_ACTIVE];
    size_t n_act;
    unsigned buses;     // RP_BUS_* that reach the output
    room_bus *rooms;    // one per plan room (unused ones hold nothing)
    size_t n_rooms;
    int stems; // stems were asked for: the stem reverbs run
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
    // The one-pole smoothers over a slice in closed form: ramp[k][j] is
    // (1 - coefficient k)^(j + 1), k a RAMP_* index.
    float ramp[4][SLICE];
    float mix[RP_BLOCK_FRAMES * 2];
    float fx[RP_BLOCK_FRAMES * 2];
    float bg_sfx[RP_BLOCK_FRAMES * 2];  // the effects of this block
    float bg_bed[RP_BLOCK_FRAMES * 2];  // the beds of this block
    float duck[RP_BLOCK_FRAMES * 2];   // the beds' ducking gain, twice per frame
    float clear[RP_BLOCK_FRAMES * 2];  // the clearance gain, twice per frame (stereo)
    float wet_in[RP_BLOCK_FRAMES * 2], wet[RP_BLOCK_FRAMES * 2]; // a room's input and return
    float stem[RP_STEM_COUNT][RP_BLOCK_FRAMES * 2];              // with stems: each, stereo
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
    float k[4] = {m->duck_attack, m->duck_release, m->clear_attack, m->clear_release};
    for (int c = 0; c < 4; c++)
        for (int j = 0; j < SLICE; j++)
            m->ramp[c][j] = (float)pow(1.0 - (double)k[c], j + 1);
    if (p->n_rooms) {
        m->rooms = calloc(p->n_rooms, sizeof *m->rooms);
        if (!m->rooms) {
            free(m);
            *st = RP_ERR_NOMEM;
            return NULL;
        }
        m->n_rooms = p->n_rooms;
    }
    return m;
}

static void bus_close(room_bus *b)
{
    rp_reverb_free(b->rv);
    for (int k = 0; k < RP_STEM_BEDS; k++)
        rp_reverb_free(b->stem_rv[k]);
    free(b->send);
    memset(b, 0, sizeof *b);
}

// The bus of room (rp_event.room) for an event starting, opened if need
// be; -1 (the event stays dry) for no room or when memory runs out.
static int bus_open(rp_mixer *m, int room, float send)
{
    if (room <= 0 || (size_t)room > m->n_rooms || !(send > 0.0f))
        return -1;
    room_bus *b = &m->rooms[room - 1];
    if (!b->rv) {
        b->rv = rp_reverb_new(&m->p->rooms[room - 1], m->t->rate_hz);
        b->send = rp_calloc((size_t)RP_STEM_COUNT * RP_BLOCK_FRAMES * 2, sizeof *b->send);
        if (!b->rv || !b->send) {
            bus_close(b);
            return -1;
        }
    }
    b->users++;
    return room - 1;
}

static float *bus_send(const room_bus *b, int stem)
{
    return b->send + (size_t)stem * RP_BLOCK_FRAMES * 2;
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
    for (size_t i = 0; i < m->n_rooms; i++)
        bus_close(&m->rooms[i]);
    free(m->rooms);
    free(m->speech);
    free(m);
}

// ---- checkpoints ------------------------------------------------------------------
//
// The state, field by field (the block buffers are scratch, rewritten by
// every block, and the addresses differ from one process to the next).

typedef struct {
    int64_t pos, duck_lead, duck_tail;
    // Not how far the mixer has looked through the timeline for lines: a
    // timeline still being placed (the measuring pass) has fewer events
    // than the whole one, in the same order, and the state is the same.
    uint64_t next, n_act, speech_from, n_rooms;
    uint32_t buses, pad;  // no padding: equal states save equal bytes
    float duck_gain, duck_floor, duck_attack, duck_release;
    float clear_ratio, clear_gain, clear_env, clear_attack, clear_release, clear_avg;
} mixer_head;

typedef struct {
    uint64_t ev;
    int32_t bus, stem, voiced, pad;
} active_saved;

typedef struct {
    int64_t line;  // index into speech
    float limit;
    int32_t pad;
} limit_saved;

rp_status rp_mixer_save(const rp_mixer *m, rp_strbuf *out)
{
    if (m->stems)
        return RP_ERR_USAGE;
    mixer_head h;
    h = (mixer_head){m->pos, m->duck_lead, m->duck_tail, m->next, m->n_act,
                     m->speech_from, m->n_rooms, m->buses, 0, m->duck_gain,
                     m->duck_floor, m->duck_attack, m->duck_release, m->clear_ratio,
                     m->clear_gain, m->clear_env, m->clear_attack, m->clear_release,
                     m->clear_avg};
    rp_strbuf_append(out, (const char *)&h, sizeof h);
    for (size_t i = 0; i < m->n_act; i++) {
        const active *a = &m->act[i];
        active_saved s = {a->ev, a->bus, a->stem, a->voice != NULL, 0};
        rp_strbuf_append(out, (const char *)&s, sizeof s);
        if (a->voice)
            rp_sfx_voice_save(a->voice, out);
    }
    for (size_t r = 0; r < m->n_rooms; r++) {
        const room_bus *b = &m->rooms[r];
        int32_t open[2] = {b->rv != NULL, b->users};
        rp_strbuf_append(out, (const char *)open, sizeof open);
        if (b->rv)
            rp_reverb_save(b->rv, out);
    }
    // The lines come from the timeline again; what the mixer has learned of
    // them (the background's level under each line ahead) is state.
    uint64_t n = 0;
    for (size_t i = m->speech_from; i < m->n_speech; i++)
        n += m->speech[i].limit >= 0;
    rp_strbuf_append(out, (const char *)&n, sizeof n);
    for (size_t i = m->speech_from; i < m->n_speech; i++) {
        if (m->speech[i].limit < 0)
            continue;
        limit_saved s = {(int64_t)i, m->speech[i].limit, 0};
        rp_strbuf_append(out, (const char *)&s, sizeof s);
    }
    return out->failed ? RP_ERR_NOMEM : RP_OK;
}

rp_status rp_mixer_load(rp_mixer *m, rp_unpacker *in)
{
    const rp_timeline *t = m->t;
    mixer_head h;
    rp_unpack(in, &h, sizeof h);
    for (size_t i = 0; i < m->n_act; i++)
        rp_sfx_voice_free(m->act[i].voice);
    m->n_act = 0;
    if (in->bad || m->stems || h.n_act > MAX_ACTIVE || h.n_rooms != m->n_rooms ||
        h.next > t->n || h.speech_from > t->n)
        return RP_ERR_FORMAT;
    m->pos = h.pos;
    m->duck_lead = h.duck_lead;
    m->duck_tail = h.duck_tail;
    m->next = h.next;
    m->speech_from = h.speech_from;
    m->buses = h.buses;
    m->duck_gain = h.duck_gain;
    m->duck_floor = h.duck_floor;
    m->duck_attack = h.duck_attack;
    m->duck_release = h.duck_release;
    m->clear_ratio = h.clear_ratio;
    m->clear_gain = h.clear_gain;
    m->clear_env = h.clear_env;
    m->clear_attack = h.clear_attack;
    m->clear_release = h.clear_release;
    m->clear_avg = h.clear_avg;
    rp_status st = RP_OK;
    for (size_t i = 0; i < h.n_act && !st; i++) {
        active_saved s;
        rp_unpack(in, &s, sizeof s);
        if (in->bad || s.ev >= t->n || s.bus >= (int32_t)m->n_rooms || s.bus < -1 ||
            s.stem < 0 || s.stem >= RP_STEM_COUNT)
            return RP_ERR_FORMAT;
        const rp_event *e = &t->ev[s.ev];
        active a = {s.ev, NULL, s.bus, s.stem};
        if (s.voiced && e->kind != RP_EV_SFX && e->kind != RP_EV_BED)
            return RP_ERR_FORMAT;
        if (s.voiced) {
            a.voice = rp_sfx_voice_new(e->preset, t->rate_hz, e->seed);
            if (!a.voice)
                return RP_ERR_NOMEM;
            st = rp_sfx_voice_load(a.voice, in);
        }
        m->act[m->n_act++] = a;
    }
    for (size_t r = 0; r < m->n_rooms && !st; r++) {
        room_bus *b = &m->rooms[r];
        int32_t open[2];
        rp_unpack(in, open, sizeof open);
        bus_close(b);
        if (in->bad)
            return RP_ERR_FORMAT;
        b->users = open[1];
        if (!open[0])
            continue;
        b->rv = rp_reverb_new(&m->p->rooms[r], t->rate_hz);
        b->send = rp_calloc((size_t)RP_STEM_COUNT * RP_BLOCK_FRAMES * 2, sizeof *b->send);
        if (!b->rv || !b->send)
            return RP_ERR_NOMEM;
        st = rp_reverb_load(b->rv, in);
    }
    if (st)
        return st;
    m->seen = 0;
    m->n_speech = 0;
    if (see_speech(m))
        return RP_ERR_NOMEM;
    if (m->speech_from > m->n_speech)
        return RP_ERR_FORMAT;
    uint64_t n;
    rp_unpack(in, &n, sizeof n);
    for (uint64_t i = 0; i < n && !in->bad; i++) {
        limit_saved s;
        rp_unpack(in, &s, sizeof s);
        if (s.line < (int64_t)m->speech_from || s.line >= (int64_t)m->n_speech)
            return RP_ERR_FORMAT;
        m->speech[s.line].limit = s.limit;
    }
    return st ? st : in->bad ? RP_ERR_FORMAT : RP_OK;
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

// ---- kernels ----------------------------------------------------------------------
//
// The per-sample loops, each over distinct buffers (restrict) and split
// into a run of whole groups of eight and the rest: that is what GCC needs
// to vectorize a loop at -O2. n counts samples unless it says frames.

// d[i] += x[i].
static void add_to(float *restrict d, const float *restrict x, size_t n)
{
    size_t n8 = n & ~(size_t)7, i;
    for (i = 0; i < n8; i++)
        d[i] += x[i];
    for (; i < n; i++)
        d[i] += x[i];
}

// d[i] -= x[i].
static void sub_from(float *restrict d, const float *restrict x, size_t n)
{
    size_t n8 = n & ~(size_t)7, i;
    for (i = 0; i < n8; i++)
        d[i] -= x[i];
    for (; i < n; i++)
        d[i] -= x[i];
}

// d[i] += x[i] * g.
static void add_scaled(float *restrict d, const float *restrict x, float g, size_t n)
{
    size_t n8 = n & ~(size_t)7, i;
    for (i = 0; i < n8; i++)
        d[i] += x[i] * g;
    for (; i < n; i++)
        d[i] += x[i] * g;
}

// x[i] *= g[i].
static void mul_by(float *restrict x, const float *restrict g, size_t n)
{
    size_t n8 = n & ~(size_t)7, i;
    for (i = 0; i < n8; i++)
        x[i] *= g[i];
    for (; i < n; i++)
        x[i] *= g[i];
}

// n stereo frames of x times gl (left) and gr (right).
static void scale_lr(float *restrict x, float gl, float gr, size_t n)
{
    size_t n4 = n & ~(size_t)3, i;
    for (i = 0; i < n4; i++) {
        x[2 * i] *= gl;
        x[2 * i + 1] *= gr;
    }
    for (; i < n; i++) {
        x[2 * i] *= gl;
        x[2 * i + 1] *= gr;
    }
}

// n mono frames of src panned into the stereo frames of d.
static void pan_add(float *restrict d, const float *restrict src, float gl, float gr, size_t n)
{
    size_t n4 = n & ~(size_t)3, i;
    for (i = 0; i < n4; i++) {
        d[2 * i] += src[i] * gl;
        d[2 * i + 1] += src[i] * gr;
    }
    for (; i < n; i++) {
        d[2 * i] += src[i] * gl;
        d[2 * i + 1] += src[i] * gr;
    }
}

// Each g[i] twice into d: a gain per frame for stereo frames.
static void spread_lr(float *restrict d, const float *restrict g, size_t n)
{
    size_t n4 = n & ~(size_t)3, i;
    for (i = 0; i < n4; i++)
        d[2 * i] = d[2 * i + 1] = g[i];
    for (; i < n; i++)
        d[2 * i] = d[2 * i + 1] = g[i];
}

// d[i] += (a[i] * ga + b[i] * gb) * g[i]: the background cleared into the mix.
static void add_cleared(float *restrict d, const float *restrict a, float ga,
                        const float *restrict b, float gb, const float *restrict g, size_t n)
{
    size_t n8 = n & ~(size_t)7, i;
    for (i = 0; i < n8; i++)
        d[i] += (a[i] * ga + b[i] * gb) * g[i];
    for (; i < n; i++)
        d[i] += (a[i] * ga + b[i] * gb) * g[i];
}

// d[i] += a[i] * ga * g[i]: one stem's share of add_cleared.
static void add_cleared1(float *restrict d, const float *restrict a, float ga,
                         const float *restrict g, size_t n)
{
    size_t n8 = n & ~(size_t)7, i;
    for (i = 0; i < n8; i++)
        d[i] += a[i] * ga * g[i];
    for (; i < n; i++)
        d[i] += a[i] * ga * g[i];
}

// The sum of squares of a[i] + b[i] over [0, n), in eight float lanes so
// that it vectorizes; n is at most a block.
static float sum_sq2(const float *a, const float *b, size_t n)
{
    float acc[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int j = 0; j < 8; j++) {
            float x = a[i + (size_t)j] + b[i + (size_t)j];
            acc[j] += x * x;
        }
    }
    float sum = 0.0f;
    for (; i < n; i++)
        sum += (a[i] + b[i]) * (a[i] + b[i]);
    for (int j = 0; j < 8; j++)
        sum += acc[j];
    return sum;
}

// The same of a[i] alone.
static float sum_sq(const float *a, size_t n)
{
    float acc[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int j = 0; j < 8; j++)
            acc[j] += a[i + (size_t)j] * a[i + (size_t)j];
    }
    float sum = 0.0f;
    for (; i < n; i++)
        sum += a[i] * a[i];
    for (int j = 0; j < 8; j++)
        sum += acc[j];
    return sum;
}

// One-pole smoothing of *g towards target over n <= SLICE values into out:
// g += (target - g) * k at each, in closed form from ramp (the powers of
// 1 - k), so that it vectorizes. out NULL: only where *g ends, to the bit.
static void smooth(float *restrict out, size_t n, float *g, float target,
                   const float *restrict ramp)
{
    float d = *g - target;
    if (!out) {
        *g = target + d * ramp[n - 1];
        return;
    }
    size_t n8 = n & ~(size_t)7, j;
    for (j = 0; j < n8; j++)
        out[j] = target + d * ramp[j];
    for (; j < n; j++)
        out[j] = target + d * ramp[j];
    *g = out[n - 1];
}

// The mean square per channel of a line as heard: constant-power panning
// keeps the clip's power, shared by the two channels.
static float line_power(const rp_mixer *m, const rp_event *e)
{
    const rp_clip *c = &m->p->utts[e->utt].clip;
    int64_t n = e->end - e->start < c->n_frames ? e->end - e->start : c->n_frames;
    double sum = 0;
    for (int64_t i = 0; i < n; i += RP_BLOCK_FRAMES) {
        size_t k = n - i < RP_BLOCK_FRAMES ? (size_t)(n - i) : RP_BLOCK_FRAMES;
        sum += sum_sq(c->pcm + i, k);
    }
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
// ducking has moved m->speech_from on to its end). fed: an effect or bed
// sounded in the block. Without, the background is zeros, of level 0, and
// the gains multiply nothing but zeros: only where the gain ends each slice
// is worked out, and m->clear is left as it was (gains all, so finite).
static void fill_clear(rp_mixer *m, size_t from, size_t n, int fed)
{
    float g = m->clear_gain, avg = m->clear_env, env, gains[SLICE];
    for (size_t s = 0; s < n; s += SLICE) {
        size_t e = s + SLICE < n ? s + SLICE : n;
        float sum = fed ? sum_sq2(m->bg_sfx + 2 * s, m->bg_bed + 2 * s, 2 * (e - s)) : 0.0f;
        float ms = sum / (float)(2 * (e - s));
        // The level: a 50 ms average, but a sudden crack counts at once.
        avg += (ms - avg) * m->clear_avg;
        env = ms * 0.25f > avg ? ms * 0.25f : avg;
        float limit = clear_limit(m, from, m->pos + (int64_t)s);
        float target = limit >= 0 && env > limit ? sqrtf(limit / env) : 1.0f;
        smooth(fed ? gains : NULL, e - s, &g, target,
               m->ramp[target < g ? RAMP_CLEAR_ATTACK : RAMP_CLEAR_RELEASE]);
        if (fed)
            spread_lr(m->clear + 2 * s, gains, e - s);
    }
    m->clear_gain = g;
    m->clear_env = avg < 1e-20f ? 0.0f : avg;  // no subnormals in the average
}

// The beds' ducking gain of every frame of the block; with no bed in it,
// only where the gain ends each slice.
static void fill_duck(rp_mixer *m, size_t n, int beds)
{
    // Decided per 64-frame slice: fine enough for a 150 ms attack.
    float g = m->duck_gain, gains[SLICE];
    for (size_t s = 0; s < n; s += SLICE) {
        size_t e = s + SLICE < n ? s + SLICE : n;
        int near = speech_near(m, m->pos + (int64_t)s, m->pos + (int64_t)e);
        float target = near ? m->duck_floor : 1.0f;
        smooth(beds ? gains : NULL, e - s, &g, target,
               m->ramp[target < g ? RAMP_DUCK_ATTACK : RAMP_DUCK_RELEASE]);
        if (beds)
            spread_lr(m->duck + 2 * s, gains, e - s);
    }
    m->duck_gain = g;
}

static void add_speech(rp_mixer *m, const active *a, int64_t off, size_t from, size_t n)
{
    const rp_event *e = &m->t->ev[a->ev];
    const rp_clip *c = &m->p->utts[e->utt].clip;
    if (!(m->buses & (1u << a->stem)))
        return;
    float gl, gr;
    rp_pan_gains(e->pan, &gl, &gr);
    gl *= e->gain;
    gr *= e->gain;
    const float *src = c->pcm + off;
    pan_add(m->mix + from * 2, src, gl, gr, n);
    if (m->stems)
        pan_add(m->stem[a->stem] + from * 2, src, gl, gr, n);
    if (a->bus >= 0) {
        room_bus *b = &m->rooms[a->bus];
        pan_add(bus_send(b, a->stem) + from * 2, src, gl * e->send, gr * e->send, n);
        b->fed |= 1u << a->stem;
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
    float *snd = NULL, send = e->send;
    if (a->bus >= 0) {
        snd = bus_send(&m->rooms[a->bus], a->stem) + from * 2;
        m->rooms[a->bus].fed |= 1u << a->stem;
    }
    float *x = m->fx;
    if (bed) {
        // The fades and the ducking, into the effect's own frames.
        int fading = (e->fade_in > 0 && at - e->start < e->fade_in) ||
                     (e->fade_out > 0 && e->end - (at + (int64_t)n) < e->fade_out);
        const float *duck = m->duck + 2 * from;
        for (size_t i = 0; fading && i < n; i++) {
            float g = fade_gain(e, at + (int64_t)i) * duck[2 * i];
            x[2 * i] *= g;
            x[2 * i + 1] *= g;
        }
        if (!fading)
            mul_by(x, duck, 2 * n);
    }
    scale_lr(x, e->gain * bl, e->gain * br, n);
    add_to(dst, x, 2 * n);
    if (snd)
        add_scaled(snd, x, send, 2 * n);
}

// Adds x[0..2n) to dst and subtracts it from rest (either may be NULL).
static void add_return(float *dst, float *rest, const float *x, size_t n)
{
    if (dst)
        add_to(dst, x, 2 * n);
    if (rest)
        sub_from(rest, x, 2 * n);
}

// Runs every open room bus over the block: the sends of the buses that
// reach the output (effects and beds after the clearance) through the
// room's reverb into the mix, and with stems each stem's share into it.
// A bus that has rung out with no sound in its room left is closed.
static void run_rooms(rp_mixer *m, size_t n)
{
    for (size_t r = 0; r < m->n_rooms; r++) {
        room_bus *b = &m->rooms[r];
        if (!b->rv)
            continue;
        for (int k = RP_STEM_EFFECTS; k <= RP_STEM_BEDS; k++) {
            if (b->fed >> k & 1)
                mul_by(bus_send(b, k), m->clear, 2 * n);
        }
        memset(m->wet_in, 0, sizeof(float) * 2 * n);
        for (int k = 0; k < RP_STEM_COUNT; k++)
            if ((b->fed >> k & 1) && (m->buses >> k & 1))
                add_to(m->wet_in, bus_send(b, k), 2 * n);
        rp_reverb_process(b->rv, m->wet_in, m->wet, n);
        add_return(m->mix, NULL, m->wet, n);
        int idle = rp_reverb_idle(b->rv);
        if (m->stems) {
            // Beds get the room's return less the others' own.
            add_return(m->stem[RP_STEM_BEDS], NULL, m->wet, n);
            for (int k = 0; k < RP_STEM_BEDS; k++) {
                int fed = (b->fed >> k & 1) && (m->buses >> k & 1);
                if (!b->stem_rv[k] && fed)
                    b->stem_rv[k] = rp_reverb_new(&m->p->rooms[r], m->t->rate_hz);
                if (!b->stem_rv[k])
                    continue; // nothing sent yet (or no memory: beds keep its share)
                if (!fed)
                    memset(bus_send(b, k), 0, sizeof(float) * 2 * n);
                rp_reverb_process(b->stem_rv[k], bus_send(b, k), m->wet, n);
                add_return(m->stem[k], m->stem[RP_STEM_BEDS], m->wet, n);
                idle &= rp_reverb_idle(b->stem_rv[k]);
            }
        }
        if (idle && b->users == 0)
            bus_close(b);
    }
}

// Clears the sends of the open buses for the next block.
static void clear_sends(rp_mixer *m, size_t n)
{
    for (size_t r = 0; r < m->n_rooms; r++) {
        room_bus *b = &m->rooms[r];
        for (int k = 0; b->rv && k < RP_STEM_COUNT; k++)
            if (b->fed >> k & 1)
                memset(bus_send(b, k), 0, sizeof(float) * 2 * n);
        b->fed = 0;
    }
}

// The stem an event belongs to.
static int stem_of(const rp_mixer *m, const rp_event *e)
{
    if (e->kind == RP_EV_SPEECH)
        return m->p->utts[e->utt].narration ? RP_STEM_NARRATION : RP_STEM_DIALOGUE;
    return e->kind == RP_EV_BED ? RP_STEM_BEDS : RP_STEM_EFFECTS;
}

// Folds stereo x[0..2n) into out: a copy, or the mono centre at unity.
static void fold(const rp_mixer *m, const float *x, float *out, size_t n)
{
    if (m->channels == 2) {
        memcpy(out, x, sizeof(float) * 2 * n);
    } else {
        // Mono: the centre of the constant-power law comes back to unity.
        for (size_t i = 0; i < n; i++)
            out[i] = (x[2 * i] + x[2 * i + 1]) * (float)M_SQRT1_2;
    }
}

size_t rp_mixer_process_stems(rp_mixer *m, float *out, float *stems[RP_STEM_COUNT],
                              size_t max_frames)
{
    const rp_timeline *t = m->t;
    if (m->pos >= t->n_frames || see_speech(m))
        return 0;
    size_t n = max_frames < RP_BLOCK_FRAMES ? max_frames : RP_BLOCK_FRAMES;
    if ((int64_t)n > t->n_frames - m->pos)
        n = (size_t)(t->n_frames - m->pos);
    int64_t b0 = m->pos, b1 = m->pos + (int64_t)n;
    m->stems |= stems != NULL;
    memset(m->mix, 0, sizeof(float) * 2 * n);
    memset(m->bg_sfx, 0, sizeof(float) * 2 * n);
    memset(m->bg_bed, 0, sizeof(float) * 2 * n);
    for (int k = 0; m->stems && k < RP_STEM_COUNT; k++)
        memset(m->stem[k], 0, sizeof(float) * 2 * n);

    // Start the events that begin in this block.
    for (; m->next < t->n && t->ev[m->next].start < b1; m->next++) {
        const rp_event *e = &t->ev[m->next];
        if (e->end <= b0 || e->kind == RP_EV_PAUSE || e->kind == RP_EV_ROOM ||
            m->n_act == MAX_ACTIVE)
            continue;
        active a = {m->next, NULL, -1, stem_of(m, e)};
        if (e->kind == RP_EV_SFX || e->kind == RP_EV_BED) {
            a.voice = rp_sfx_voice_new(e->preset, t->rate_hz, e->seed);
            if (!a.voice)
                continue;  // out of memory: the effect is skipped, the render goes on
        }
        a.bus = bus_open(m, e->room, e->send);
        m->act[m->n_act++] = a;
    }
    size_t lines_from = m->speech_from;
    int beds = 0, fed = 0;
    for (size_t i = 0; i < m->n_act && !beds; i++)
        beds = t->ev[m->act[i].ev].kind == RP_EV_BED;
    fill_duck(m, n, beds);

    for (size_t i = 0; i < m->n_act;) {
        active *a = &m->act[i];
        const rp_event *e = &t->ev[a->ev];
        int64_t s = e->start > b0 ? e->start : b0;
        int64_t f = e->end < b1 ? e->end : b1;
        if (f > s) {
            size_t from = (size_t)(s - b0), len = (size_t)(f - s);
            if (e->kind == RP_EV_SPEECH) {
                add_speech(m, a, s - e->start, from, len);
            } else {
                add_effect(m, a, s, from, len);
                fed = 1;
            }
        }
        if (e->end <= b1) {
            rp_sfx_voice_free(a->voice);
            if (a->bus >= 0)
                m->rooms[a->bus].users--;
            m->act[i] = m->act[--m->n_act];
        } else {
            i++;
        }
    }

    // The background, cleared under the voices, joins the speech.
    fill_clear(m, lines_from, n, fed);
    float use_sfx = m->buses & RP_BUS_EFFECTS ? 1.0f : 0.0f;
    float use_bed = m->buses & RP_BUS_BEDS ? 1.0f : 0.0f;
    add_cleared(m->mix, m->bg_sfx, use_sfx, m->bg_bed, use_bed, m->clear, 2 * n);
    if (m->stems) {
        add_cleared1(m->stem[RP_STEM_EFFECTS], m->bg_sfx, use_sfx, m->clear, 2 * n);
        add_cleared1(m->stem[RP_STEM_BEDS], m->bg_bed, use_bed, m->clear, 2 * n);
    }
    run_rooms(m, n);
    clear_sends(m, n);

    fold(m, m->mix, out, n);
    for (int k = 0; stems && k < RP_STEM_COUNT; k++)
        if (stems[k])
            fold(m, m->stem[k], stems[k], n);
    m->pos = b1;
    return n;
}

size_t rp_mixer_process(rp_mixer *m, float *out, size_t max_frames)
{
    return rp_mixer_process_stems(m, out, NULL, max_frames);
}
