// SPDX-License-Identifier: GPL-3.0-or-later
// The live source. Three threads meet here:
//
// - The render thread (produce) owns the drama, the placer, the mixer and
//   the master. It synthesizes utterances in order, mixes and masters block
//   by block exactly as rp_drama_render does, and writes into the ring.
// - The audio callback (rp_stream_pull) owns the ring's read side and the
//   play position. It never waits: when the ring is short it plays silence.
// - The caller (the terminal loop) asks for seeks and pauses and reads the
//   position, through atomics, and the spoken lines, under a mutex the
//   callback never takes.
//
// A seek is a handshake in generations. The render thread stops writing,
// publishes the new position and a new generation; the callback, on seeing
// it, drops what the ring holds, takes the new position and acknowledges;
// the render thread then fills the ring from there and, once it is full,
// marks the generation ready, and the callback starts playing it. So a seek
// never plays stale audio, and the silence while it is prepared is not an
// underrun.
//
// Reaching a frame means mixing up to it: a forward seek goes on from where
// the mixer is, a backward one starts the mixer again from the beginning
// (effects and beds depend on everything before), and both are the audio
// `render` writes, frame for frame.
#include "rp_stream.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rp_config.h"
#include "rp_master.h"
#include "rp_mix.h"
#include "rp_ring.h"

typedef struct {
    int64_t start, end;
    size_t utt;
} spoken;

struct rp_stream {
    rp_drama *dr;
    int channels, rate_hz;
    double created_s;
    double gain_db;
    rp_ring *ring;
    pthread_t thread;
    int running;

    // Render thread only.
    rp_placer *placer;
    size_t voiced;         // utterances synthesized
    size_t seen;           // timeline events looked at for speech
    rp_mixer *mixer;
    rp_master *master;
    int64_t out_pos;       // timeline frame of the master's next output frame
    int64_t flushed;       // silence fed to push the limiter's look-ahead out
    int64_t want;          // first timeline frame to write to the ring
    int at_end;            // the master has given everything
    unsigned gen;          // generation being written
    size_t chars_voiced, chars_total;
    rp_diags diags;
    float buf[RP_BLOCK_FRAMES * 2];

    // Caller -> render thread.
    atomic_uint req_gen;
    atomic_uint handled;   // the last request the render thread took
    atomic_int req_kind;
    atomic_llong req_where;
    atomic_int quit;
    atomic_int go;         // synthesis may begin
    atomic_int paused;

    // Render thread -> callback.
    atomic_uint flush_gen;
    atomic_llong flush_base;
    atomic_uint ready_gen;
    atomic_uint ending_gen;  // the last frames are being written: no more underruns
    atomic_uint end_gen;     // ... and are in the ring

    // Callback -> others.
    unsigned cb_gen;       // the callback's own
    atomic_uint ack_gen;
    atomic_llong play_pos;
    atomic_ullong underruns, frames;
    atomic_llong first_ns;
    atomic_int drained;

    // Render thread -> caller, under lock.
    pthread_mutex_t lock;
    spoken *lines;
    size_t n_lines, cap_lines;
    int64_t total;
    int exact, failed, seeking;
    size_t voiced_at_start;  // utterances synthesized when playback could start
    size_t n_events;         // events placed
    rp_status status;
};

static void nap(long us)
{
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
}

// ---- the render thread -------------------------------------------------------

// Hands the speech events placed since last time to the caller's list, and
// refreshes the length: exact once everything is placed, else the placed
// length scaled by the text still to come.
static rp_status publish(rp_stream *s)
{
    const rp_timeline *t = &s->dr->timeline;
    rp_status st = RP_OK;
    pthread_mutex_lock(&s->lock);
    for (; s->seen < t->n && !st; s->seen++) {
        const rp_event *e = &t->ev[s->seen];
        if (e->kind != RP_EV_SPEECH)
            continue;
        if (rp_grow((void **)&s->lines, &s->cap_lines, s->n_lines + 1, sizeof *s->lines))
            st = RP_ERR_NOMEM;
        else
            s->lines[s->n_lines++] = (spoken){e->start, e->end, e->utt};
    }
    s->n_events = t->n;
    if (rp_placer_done(s->placer)) {
        s->total = t->n_frames;
        s->exact = 1;
    } else if (s->n_lines && s->chars_voiced) {
        s->total = (int64_t)((double)s->lines[s->n_lines - 1].end * (double)s->chars_total /
                             (double)s->chars_voiced);
    }
    pthread_mutex_unlock(&s->lock);
    return st;
}

// Synthesizes the next utterance and places what it allows.
static rp_status voice_next(rp_stream *s)
{
    rp_drama *dr = s->dr;
    rp_status st = RP_OK;
    if (s->voiced < dr->plan.n_utts) {
        st = rp_drama_voice_one(dr, s->voiced, &s->diags);
        s->chars_voiced += strlen(dr->plan.utts[s->voiced].text);
        s->voiced++;
    }
    if (!st)
        st = rp_placer_advance(s->placer, s->voiced);
    return st ? st : publish(s);
}

// Starts mixing again from the beginning of the timeline.
static rp_status restart(rp_stream *s)
{
    rp_drama *dr = s->dr;
    rp_mixer_free(s->mixer);
    rp_master_free(s->master);
    rp_status st = RP_OK;
    s->mixer = rp_mixer_new(&dr->timeline, &dr->plan, &dr->cast.render, s->channels, &st);
    s->master = rp_master_new(s->channels, s->rate_hz, rp_drama_master_target(dr).ceiling_dbtp);
    if (!st && !s->master)
        st = RP_ERR_NOMEM;
    if (s->master)
        rp_master_set_gain(s->master, s->gain_db);
    if (!st)
        s->out_pos = -rp_master_latency(s->master);
    s->flushed = 0;
    s->at_end = 0;
    return st;
}

// Mixes and masters one block, as rp_drama_render does; *n gets how many
// frames came out (0: not yet: synthesize more; the end: s->at_end).
static rp_status mix_block(rp_stream *s, size_t *n)
{
    *n = 0;
    rp_status st = RP_OK;
    int64_t pos = rp_mixer_position(s->mixer), room = RP_BLOCK_FRAMES;
    if (!rp_placer_done(s->placer)) {
        // Whole slices only, so the mix is the one `render` makes in its
        // blocks.
        int64_t h = rp_placer_horizon(s->placer) - rp_mixer_lookahead(s->mixer) - pos;
        h -= h % RP_MIX_SLICE;
        if (h <= 0)
            return voice_next(s);
        room = h < room ? h : room;
    }
    st = rp_drama_clips_window(s->dr, pos, pos + room + rp_mixer_lookahead(s->mixer), &s->diags);
    if (st)
        return st;
    size_t k = rp_mixer_process(s->mixer, s->buf, (size_t)room);
    if (k == 0) {
        // Push the limiter's look-ahead out with silence: the last block.
        int64_t lat = rp_master_latency(s->master);
        k = (size_t)(lat - s->flushed < RP_BLOCK_FRAMES ? lat - s->flushed : RP_BLOCK_FRAMES);
        memset(s->buf, 0, sizeof(float) * k * (size_t)s->channels);
        s->flushed += (int64_t)k;
        s->at_end = s->flushed >= lat;
    }
    rp_master_process(s->master, s->buf, k);
    *n = k;
    return st;
}

// Where a seek request lands, in frames, synthesizing as far as it takes.
static rp_status resolve(rp_stream *s, rp_seek_kind kind, int64_t where, int64_t *frame)
{
    rp_drama *dr = s->dr;
    const rp_timeline *t = &dr->timeline;
    rp_status st = RP_OK;
    *frame = 0;
    if (kind == RP_SEEK_LINE) {
        size_t k = 0;
        while (k < dr->plan.n_utts && dr->plan.utts[k].line < where)
            k++;
        kind = RP_SEEK_UTT;
        where = (int64_t)k;
    }
    if (kind == RP_SEEK_UTT) {
        if (where >= (int64_t)dr->plan.n_utts) {
            kind = RP_SEEK_FRAME;
            where = INT64_MAX;
        } else {
            int64_t at;
            while ((at = rp_stream_utt_start(s, (size_t)where)) < 0 && !st)
                st = voice_next(s);
            *frame = at;
            return st;
        }
    }
    if (kind == RP_SEEK_EVENT) {
        while (t->n <= (size_t)where && !rp_placer_done(s->placer) && !st)
            st = voice_next(s);
        if ((size_t)where < t->n) {
            *frame = t->ev[where].start;
            return st;
        }
        where = INT64_MAX;
    }
    // A frame: past the end is the end, which may take synthesizing.
    while (!st && !rp_placer_done(s->placer) && rp_placer_horizon(s->placer) <= where)
        st = voice_next(s);
    *frame = where < 0 ? 0 : where;
    if (*frame > t->n_frames)
        *frame = t->n_frames;
    return st;
}

// Drops the frames before s->want from buf[0..n) and writes the rest.
static void write_out(rp_stream *s, size_t n)
{
    size_t from = 0;
    if (s->out_pos < s->want)
        from = s->want - s->out_pos < (int64_t)n ? (size_t)(s->want - s->out_pos) : n;
    size_t ch = (size_t)s->channels;
    for (size_t done = from; done < n;) {
        size_t k = rp_ring_write(s->ring, s->buf + done * ch, n - done);
        done += k;
        if (!k) {
            if (atomic_load(&s->quit))
                break;
            nap(2000);
        }
    }
    s->out_pos += (int64_t)n;
}

// Acts on a seek request: flushes the ring through the callback, then
// moves the mixer to the new place.
static rp_status seek(rp_stream *s, int first)
{
    unsigned g = atomic_load(&s->req_gen);
    rp_seek_kind kind = (rp_seek_kind)atomic_load(&s->req_kind);
    int64_t where = atomic_load(&s->req_where), frame;
    atomic_store(&s->handled, g);
    pthread_mutex_lock(&s->lock);
    s->seeking = 1;
    pthread_mutex_unlock(&s->lock);
    rp_status st = resolve(s, kind, where, &frame);
    if (st)
        return st;
    if (!first) {
        // Nothing is written until the callback has dropped the old audio.
        s->gen++;
        atomic_store(&s->flush_base, frame);
        atomic_store(&s->flush_gen, s->gen);
        while (atomic_load(&s->ack_gen) != s->gen && !atomic_load(&s->quit))
            nap(1000);
    } else {
        atomic_store(&s->play_pos, frame);
    }
    s->want = frame;
    if (frame < s->out_pos || !s->mixer)
        st = restart(s);
    pthread_mutex_lock(&s->lock);
    s->seeking = 0;
    pthread_mutex_unlock(&s->lock);
    return st;
}

static void *produce(void *arg)
{
    rp_stream *s = arg;
    rp_status st = rp_drama_voice_begin(s->dr, &s->diags);
    while (!st && !atomic_load(&s->go) && !atomic_load(&s->quit))
        nap(200);
    if (!st)
        st = seek(s, 1);
    int ready = 0;
    while (!st && !atomic_load(&s->quit)) {
        if (atomic_load(&s->req_gen) != atomic_load(&s->handled)) {
            st = seek(s, 0);
            ready = 0;
            continue;
        }
        if (!s->at_end && rp_ring_writable(s->ring) >= RP_BLOCK_FRAMES) {
            size_t n;
            if ((st = mix_block(s, &n)))
                break;
            if (s->at_end)
                atomic_store(&s->ending_gen, s->gen);
            write_out(s, n);
            if (s->at_end)
                atomic_store(&s->end_gen, s->gen);
            continue;
        }
        if (s->at_end) {  // a seek to the end
            atomic_store(&s->ending_gen, s->gen);
            atomic_store(&s->end_gen, s->gen);
        }
        if (!ready) {
            if (s->gen == 0) {
                pthread_mutex_lock(&s->lock);
                s->voiced_at_start = s->voiced;
                pthread_mutex_unlock(&s->lock);
            }
            atomic_store(&s->ready_gen, s->gen);
            ready = 1;
        }
        // The ring is full: synthesize ahead while the callback plays.
        if (s->voiced < s->dr->plan.n_utts)
            st = voice_next(s);
        else
            nap(3000);
    }
    pthread_mutex_lock(&s->lock);
    s->status = st;
    s->failed = st != RP_OK;
    pthread_mutex_unlock(&s->lock);
    if (st) {  // let the callback play out what it has, then end
        atomic_store(&s->ending_gen, s->gen);
        atomic_store(&s->end_gen, s->gen);
    }
    atomic_store(&s->ready_gen, s->gen);
    return NULL;
}

// ---- the callback ------------------------------------------------------------

void rp_stream_pull(void *arg, float *out, size_t n)
{
    rp_stream *s = arg;
    size_t ch = (size_t)s->channels, got = 0;
    unsigned g = atomic_load_explicit(&s->flush_gen, memory_order_acquire);
    if (g != s->cb_gen) {
        rp_ring_drain(s->ring);
        atomic_store(&s->play_pos, atomic_load(&s->flush_base));
        atomic_store(&s->drained, 0);
        s->cb_gen = g;
        atomic_store_explicit(&s->ack_gen, g, memory_order_release);
    }
    int ready = atomic_load(&s->ready_gen) == g;
    if (ready && !atomic_load_explicit(&s->paused, memory_order_relaxed)) {
        got = rp_ring_read(s->ring, out, n);
        if (got) {
            atomic_fetch_add(&s->play_pos, (long long)got);
            atomic_fetch_add(&s->frames, got);
            if (atomic_load_explicit(&s->first_ns, memory_order_relaxed) < 0) {
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                atomic_store(&s->first_ns, (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
            }
        }
        if (got < n) {
            // The end is written after the last frames: an empty ring then
            // is the end; an empty ring while the last frames are on their
            // way is not an underrun.
            if (atomic_load(&s->end_gen) == g && rp_ring_readable(s->ring) == 0)
                atomic_store(&s->drained, 1);
            else if (atomic_load(&s->ending_gen) != g)
                atomic_fetch_add(&s->underruns, 1);
        }
    }
    memset(out + got * ch, 0, (n - got) * ch * sizeof *out);
}

// ---- the caller ----------------------------------------------------------------

rp_status rp_stream_new(rp_stream **out, rp_drama *dr, const rp_stream_options *o)
{
    *out = NULL;
    rp_stream *s = calloc(1, sizeof *s);
    if (!s)
        return RP_ERR_NOMEM;
    s->dr = dr;
    s->created_s = o && o->started_s > 0 ? o->started_s : rp_now_s();
    s->gain_db = o ? o->gain_db : 0.0;
    s->channels = dr->cast.render.channels;
    s->rate_hz = dr->cast.render.rate_hz;
    double buffer = o && o->buffer_s > 0 ? o->buffer_s : RP_PLAY_BUFFER_S;
    size_t frames = (size_t)(buffer * s->rate_hz);
    s->ring = rp_ring_new(frames < 2 * RP_BLOCK_FRAMES ? 2 * RP_BLOCK_FRAMES : frames, s->channels);
    s->placer = rp_placer_new(&dr->plan, &dr->cast.render, &dr->timeline);
    rp_diags_init(&s->diags);
    for (size_t i = 0; i < dr->plan.n_utts; i++)
        s->chars_total += strlen(dr->plan.utts[i].text);
    atomic_init(&s->ready_gen, ~0u);
    atomic_init(&s->end_gen, ~0u);
    atomic_init(&s->ending_gen, ~0u);
    atomic_init(&s->first_ns, -1);
    atomic_init(&s->go, !(o && o->hold));
    atomic_init(&s->req_kind, o ? (int)o->from_kind : RP_SEEK_FRAME);
    atomic_init(&s->req_where, o ? o->from : 0);
    pthread_mutex_init(&s->lock, NULL);
    if (!s->ring || !s->placer) {
        rp_stream_free(s, NULL);
        return RP_ERR_NOMEM;
    }
    // The workers' zygote is forked here, on the caller's thread, before the
    // render thread exists: the render thread would fork it from a process
    // with several threads, whose child must not start threads of its own,
    // and the zygote's espeak-ng does.
    rp_status st = rp_drama_workers_start(dr->jobs);
    if (st) {
        rp_stream_free(s, NULL);
        return st;
    }
    if (pthread_create(&s->thread, NULL, produce, s)) {
        rp_stream_free(s, NULL);
        return RP_ERR_NOMEM;
    }
    s->running = 1;
    *out = s;
    return RP_OK;
}

rp_status rp_stream_wait_ready(rp_stream *s)
{
    while (atomic_load(&s->ready_gen) != 0)
        nap(500);
    pthread_mutex_lock(&s->lock);
    rp_status st = s->status;
    pthread_mutex_unlock(&s->lock);
    return st;
}

void rp_stream_seek(rp_stream *s, rp_seek_kind kind, int64_t where)
{
    atomic_store(&s->req_kind, (int)kind);
    atomic_store(&s->req_where, where);
    atomic_fetch_add(&s->req_gen, 1);
    pthread_mutex_lock(&s->lock);
    s->seeking = 1;
    pthread_mutex_unlock(&s->lock);
}

void rp_stream_go(rp_stream *s)
{
    atomic_store(&s->go, 1);
}

void rp_stream_pause(rp_stream *s, int paused)
{
    atomic_store(&s->paused, paused);
}

// The last line starting at or before pos, by bisection; -1 if none.
static long line_at(const rp_stream *s, int64_t pos)
{
    size_t lo = 0, hi = s->n_lines;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->lines[mid].start <= pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (long)lo - 1;
}

void rp_stream_info_get(rp_stream *s, rp_stream_info *i)
{
    memset(i, 0, sizeof *i);
    i->rate_hz = s->rate_hz;
    i->pos = atomic_load(&s->play_pos);
    i->paused = atomic_load(&s->paused);
    i->underruns = atomic_load(&s->underruns);
    i->frames = atomic_load(&s->frames);
    long long first = atomic_load(&s->first_ns);
    i->first_audio_s = first < 0 ? -1.0 : (double)first * 1e-9 - s->created_s;
    unsigned g = atomic_load(&s->flush_gen);
    i->ended = atomic_load(&s->drained) && atomic_load(&s->ack_gen) == g &&
               atomic_load(&s->req_gen) == atomic_load(&s->handled);
    pthread_mutex_lock(&s->lock);
    i->total = s->total > i->pos ? s->total : i->pos;
    i->exact = s->exact;
    i->failed = s->failed;
    i->seeking = s->seeking;
    i->voiced_at_start = s->voiced_at_start;
    i->n_events = s->n_events;
    i->n_utts = s->dr->plan.n_utts;
    long k = line_at(s, i->pos);
    i->utt = k < 0 ? -1 : (long)s->lines[k].utt;
    i->speaking = k >= 0 && i->pos < s->lines[k].end;
    pthread_mutex_unlock(&s->lock);
}

int64_t rp_stream_utt_start(rp_stream *s, size_t k)
{
    int64_t at = -1;
    pthread_mutex_lock(&s->lock);
    // Lines are in timeline order, which is utterance order.
    size_t lo = 0, hi = s->n_lines;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->lines[mid].utt < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->n_lines && s->lines[lo].utt == k)
        at = s->lines[lo].start;
    pthread_mutex_unlock(&s->lock);
    return at;
}

rp_status rp_stream_free(rp_stream *s, rp_diags *d)
{
    if (!s)
        return RP_OK;
    atomic_store(&s->quit, 1);
    if (s->running)
        pthread_join(s->thread, NULL);
    rp_status st = s->status;
    rp_diags_move(d, &s->diags);
    rp_mixer_free(s->mixer);
    rp_master_free(s->master);
    rp_placer_free(s->placer);
    rp_ring_free(s->ring);
    pthread_mutex_destroy(&s->lock);
    free(s->lines);
    free(s);
    return st;
}
