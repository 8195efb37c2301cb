// SPDX-License-Identifier: GPL-3.0-or-later
// Pipeline wiring. Each function runs stages in the order of DESIGN.md and
// stops at the first stage that reports an error, so that the user sees the
// located diagnostics of the earliest problem.
#include "rp_render.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rp_cache.h"
#include "rp_checkpoint.h"
#include "rp_config.h"
#include "rp_cue.h"
#include "rp_io.h"
#include "rp_master.h"
#include "rp_mix.h"
#include "rp_resample.h"
#include "rp_sidecar.h"
#include "rp_sink.h"
#include "rp_svg.h"
#include "rp_voicefx.h"

rp_status rp_sfx_library_load(rp_sfx_library *lib, const char *dir, rp_diags *d)
{
    rp_status st = rp_sfx_library_add_builtin(lib, d);
    static const char *const exts[] = {".sfx", ".room"};
    size_t errors = 0;
    for (size_t k = 0; dir && !st && k < sizeof exts / sizeof exts[0]; k++) {
        char **names;
        size_t n;
        if ((st = rp_list_dir(dir, exts[k], &names, &n, d)))
            break;
        for (size_t i = 0; i < n; i++) {
            char path[4096], *text = NULL;
            size_t len;
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            names[i][strlen(names[i]) - strlen(exts[k])] = '\0';
            rp_status rs = rp_read_file(path, RP_MAX_PRESET_BYTES, &text, &len, d);
            if (rs == RP_OK)
                rs = rp_sfx_library_add_text(lib, names[i], path, text, len, d);
            if (rs == RP_ERR_NOMEM)
                st = rs;
            else if (rs)
                errors++;
            free(text);
            free(names[i]);
        }
        free(names);
    }
    return st ? st : errors ? RP_ERR_INPUT : RP_OK;
}

rp_status rp_drama_load_script(rp_drama *dr, const rp_drama_options *o, rp_diags *d)
{
    memset(dr, 0, sizeof *dr);
    rp_sfx_library_init(&dr->lib);
    rp_status st = rp_cast_init(&dr->cast);
    if (!st)
        st = rp_read_file(o->chapter_path, RP_MAX_CHAPTER_BYTES, &dr->text, &dr->len, d);
    if (!st)
        st = rp_parse(o->chapter_path, dr->text, dr->len, &dr->script, d);
    if (!st)
        st = rp_attribute(&dr->script, d);
    return st;
}

static rp_status read_cast(rp_cast *c, const char *path, rp_diags *d)
{
    char *text;
    size_t len;
    rp_status st = rp_read_file(path, RP_MAX_CAST_BYTES, &text, &len, d);
    if (!st)
        st = rp_cast_load(c, path, text, len, d);
    free(text);
    return st;
}

static rp_status load_cast(rp_drama *dr, const rp_drama_options *o, rp_diags *d)
{
    char *path = o->cast_path ? rp_strdup(o->cast_path) : rp_path_with_ext(o->chapter_path, ".cast");
    if (!path)
        return RP_ERR_NOMEM;
    if (!o->cast_path && !rp_file_exists(path)) {
        free(path);
        return RP_OK;
    }
    dr->cast_path = path;
    return read_cast(&dr->cast, path, d);
}

// [sfx NAME] sections of the sheet adjust the presets of this render.
static rp_status apply_sfx_settings(rp_drama *dr, rp_diags *d)
{
    rp_status st = RP_OK;
    for (size_t i = 0; i < dr->cast.n_sfx; i++) {
        const rp_sfx_setting *s = &dr->cast.sfx[i];
        rp_sfx_preset *p = rp_sfx_library_find_mut(&dr->lib, s->preset);
        if (!p) {
            char hint[160];
            rp_sfx_library_hint(&dr->lib, s->preset, -1, hint, sizeof hint);
            rp_diag_add(d, RP_DIAG_ERROR, dr->cast_path, s->line, 1, "cast", hint,
                        "[sfx %s]: unknown effect", s->preset);
            st = RP_ERR_INPUT;
            continue;
        }
        if (rp_sfx_preset_override(p, s->key, s->value, dr->cast_path, s->line, s->col, d))
            st = RP_ERR_INPUT;
    }
    return st;
}

rp_status rp_drama_load(rp_drama *dr, const rp_drama_options *o, rp_diags *d)
{
    rp_status st = rp_drama_load_script(dr, o, d);
    dr->jobs = o->jobs;
    dr->no_cache = o->no_cache;
    if (!st)
        st = load_cast(dr, o, d);
    if (!st) {
        if (o->rate_hz > 0)
            dr->cast.render.rate_hz = o->rate_hz;
        if (o->channels > 0)
            dr->cast.render.channels = o->channels;
        if (o->seed >= 0)
            dr->cast.render.seed = (uint64_t)o->seed;
        rp_master_target *t = &dr->cast.render.master;
        if (o->master_set & RP_SET_LOUDNESS) {
            t->norm = o->master.norm;
            t->target_lufs = o->master.target_lufs;
        }
        if (o->bits)
            dr->cast.render.bits = o->bits;
        if (o->master_set & RP_SET_CEILING)
            t->ceiling_dbtp = o->master.ceiling_dbtp;
        st = rp_cast_assign(&dr->cast, &dr->script);
    }
    if (!st)
        st = rp_sfx_library_load(&dr->lib, o->sfx_dir, d);
    if (!st)
        st = apply_sfx_settings(dr, d);
    if (!st)
        st = rp_cue_apply(&dr->script, &dr->cast, &dr->lib, dr->cast_path, d);
    if (!st)
        st = rp_layout_build(&dr->script, &dr->cast, &dr->lib, &dr->plan, d);
    return st;
}

// Grows a clip by the room its voice effect needs before and after the
// words (a radio's squelch, a PA's echo) and moves the word marks with them.
static rp_status pad_clip(rp_clip *c, rp_voice_fx fx, int rate_hz)
{
    int64_t shift = 0;
    rp_status st = rp_voicefx_pad(fx, rate_hz, &c->pcm, &c->n_frames, &shift);
    for (size_t w = 0; !st && w < c->n_words; w++)
        c->words[w].frame += shift;
    return st;
}

#define HANDOFF_SLOTS 4
#define HANDOFF_BLOCKS 32  // mixer blocks in one slot

// A slot's blocks as they were rounded for a 16-bit file (round16):
// each block's shift, and its samples as the 16-bit numbers they are on
// that grid (which the spool keeps).
typedef struct {
    int16_t q[RP_BLOCK_FRAMES * HANDOFF_BLOCKS * 2];
    int8_t shifts[HANDOFF_BLOCKS];
} rounded;

// Mixes the whole timeline from the start, handing each block to take.
// r: NULL, or the blocks as they were rounded (round16).
typedef rp_status (*take_fn)(void *ctx, float *frames, const rounded *r, size_t n,
                             rp_diags *d);
// A step before take, on the same context, that may drop frames from the
// start of a block: *n is how many are left, moved to the front.
typedef rp_status (*shape_fn)(void *ctx, float *frames, size_t *n);

// The mixer (and shape, when given) and what takes its blocks (the meter;
// the meter and encoder) each run on a thread of their own, handing slots of
// blocks over a small ring. take sees the same blocks in the same order as
// it would on one thread, so the output is the same bytes.
// A checkpoint (rp_checkpoint.h) falls between two slots.
_Static_assert(RP_CKPT_FRAMES % (RP_BLOCK_FRAMES * HANDOFF_BLOCKS) == 0,
               "checkpoints fall between slots");

typedef struct {
    float buf[RP_BLOCK_FRAMES * HANDOFF_BLOCKS * 2];
    rounded r;
    size_t n;
    long ckpt;  // >= 1: the slot ends at checkpoint ckpt (see below); else -1
} slot;


typedef struct {
    slot slots[HANDOFF_SLOTS];
    size_t head, tail;  // slots filled, slots taken (counts, not indexes)
    int done;           // the mixer has no more
    rp_status taken;    // the first error take returned
    pthread_mutex_t lock;
    pthread_cond_t filled, freed;
    shape_fn shape;     // NULL, or run on each slot by the mixer's thread
    take_fn take;
    int rounded;        // the slots' r is set
    int round_ch;       // > 0: the taker rounds each slot first (round16), of so many channels
    void *ctx;
    rp_ckpt *ck;  // NULL, or recording checkpoints
    rp_diags d;  // take's messages, merged once the thread has ended
} handoff;

static void round_slot(slot *sl, int ch);

static void *taker(void *arg)
{
    handoff *h = arg;
    pthread_mutex_lock(&h->lock);
    for (;;) {
        while (h->tail == h->head && !h->done)
            pthread_cond_wait(&h->filled, &h->lock);
        if (h->tail == h->head)
            break;
        slot *sl = &h->slots[h->tail % HANDOFF_SLOTS];
        pthread_mutex_unlock(&h->lock);
        if (h->round_ch)
            round_slot(sl, h->round_ch);
        rp_status st = h->take(h->ctx, sl->buf, h->rounded ? &sl->r : NULL, sl->n, &h->d);
        if (!st && h->ck && sl->ckpt > 0)
            rp_ckpt_taken(h->ck, sl->ckpt);
        pthread_mutex_lock(&h->lock);
        h->tail++;
        pthread_cond_signal(&h->freed);
        if (st) {
            h->taken = st;
            break;
        }
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

// The next slot to mix into; NULL once take has failed.
static slot *handoff_claim(handoff *h)
{
    pthread_mutex_lock(&h->lock);
    while (h->head - h->tail == HANDOFF_SLOTS && !h->taken)
        pthread_cond_wait(&h->freed, &h->lock);
    slot *sl = h->taken ? NULL : &h->slots[h->head % HANDOFF_SLOTS];
    pthread_mutex_unlock(&h->lock);
    return sl;
}

// Waits until take has taken every slot filled (or failed).
static void handoff_drain(handoff *h)
{
    pthread_mutex_lock(&h->lock);
    while (h->tail != h->head && !h->taken)
        pthread_cond_wait(&h->freed, &h->lock);
    pthread_mutex_unlock(&h->lock);
}

static void handoff_fill(handoff *h)
{
    pthread_mutex_lock(&h->lock);
    h->head++;
    pthread_cond_signal(&h->filled);
    pthread_mutex_unlock(&h->lock);
}

// ---- a 16-bit file's mix ------------------------------------------------------------
//
// A render to a file of 16-bit samples (rp_sink_at_most_16bit) rounds its
// mix as it makes it (on the taker's thread in the measuring pass, on the
// mixer's before the limiter): each block, its channels together, to a
// 16-bit grid scaled by a power of two to the block's peak (block floating
// point, as NICAM does). The rounding lies 96 dB under the block's peak,
// below the file's own dither after the master's gain. Every pass rounds
// the mix it makes, so a kept mix (the spool, below) holds it in half the
// bytes and reads back the same floats: half the memory, the file's own
// size.

// The largest shift e that puts every sample of magnitude up to peak on
// the grid of 2^-e with a 16-bit number (rp_s16_from_float rounds them to
// it).
static int round_shift(float peak)
{
    if (!(peak <= FLT_MAX))  // infinite: nothing to keep
        return -100;
    int k;
    frexpf(peak, &k);  // peak < 2^k
    int e = 15 - k;
    e = e > 100 ? 100 : e < -100 ? -100 : e;
    if (peak * ldexpf(1.0f, e) >= 32767.5f)
        e--;
    return e;
}

// Rounds a block (n frames of ch channels, at most RP_BLOCK_FRAMES) in
// place, its shift in *shift and its 16-bit numbers in q. A block whose
// peak fits the grid (every block but one with an infinity or a number
// past 2^115) needs no clamp, and is rounded in one go.
static void round16(float *x, size_t n, int ch, int8_t *shift, int16_t *q)
{
    n *= (size_t)ch;
    float peak = rp_peak(x, n);
    int e = round_shift(peak);
    *shift = (int8_t)e;
    if (peak * ldexpf(1.0f, e) < 32767.5f) {
        rp_s16_round(x, q, n, e);
    } else {
        rp_s16_from_float(x, q, n, ldexpf(1.0f, e));
        rp_s16_to_float(q, x, n, ldexpf(1.0f, -e));
    }
}

// A slot's blocks rounded, each as the mixer made it (every block whole
// but a timeline's last).
static void round_slot(slot *sl, int ch)
{
    for (size_t at = 0, b = 0; at < sl->n; at += RP_BLOCK_FRAMES, b++) {
        size_t n = sl->n - at < RP_BLOCK_FRAMES ? sl->n - at : RP_BLOCK_FRAMES;
        round16(sl->buf + at * (size_t)ch, n, ch, &sl->r.shifts[b], sl->r.q + at * (size_t)ch);
    }
}

// The mix as the measuring pass made it, kept for the passes after it in
// a temporary file: they read it back instead of mixing it again (about
// 20 ms for chapter 000's 97 MB of 16-bit numbers, where mixing took the
// mixer's thread 0.28 s). It is written on the taker's thread, beside the meter, and
// stays in the page cache (it is gone before the kernel would write it
// out). A file that cannot be written (no room) is dropped, and the next
// pass mixes. For a WAV file the mix is kept in the file's own temporary
// file, SPOOL_FROM bytes in: the master pass writes the file over the mix
// as it reads it (rp_sink_open_over), into the same pages. Otherwise it is
// an unnamed temporary file (rp_temp_scratch).
typedef struct {
    int fd;          // -1: none
    int compact;     // 16-bit samples and a shift per block (round16)
    int8_t *shifts;  // compact: each block's
    char *tmp;       // NULL, or the output's temporary file it is in...
    int lock_fd;     // ...and its lock (-1: none)
    int64_t from;    // where the mix starts in the file
    int64_t kept;    // bytes of it (from `from`) never dropped: the file written over it
    int channels;
    int64_t frames;  // written
    int failed;      // not whole: not written in full, or read for the last time
} spool;

// Room for the WAV file's header before the mix (100 marks' cue chunk and
// labels take under 30 kB).
enum { SPOOL_FROM = 1 << 20 };

// The spool's pages up to byte `to` of it, read for the last time, go
// back to the system as they are read, in steps of SPOOL_DROP bytes (past
// `kept`: below it, the file written over the spool takes them over).
// Another file the pass writes takes them over instead of pages new to
// the process (on a virtual machine that hands freed memory back to its
// host, a new page costs more than copying into it), and there is nothing
// left to free when the render ends. Only the next pass can need them: it
// mixes instead (replayable), as when the spool could not be written.
enum { SPOOL_DROP = 8 << 20 };

static void spool_drop(spool *sp, int64_t *dropped, int64_t to)
{
    to -= to % SPOOL_DROP;
    if (to > *dropped && rp_scratch_drop(sp->fd, sp->from + *dropped, to - *dropped) == 0)
        *dropped = to;
}

static void spool_close(spool *sp)
{
    if (sp->fd >= 0)
        close(sp->fd);
    free(sp->shifts);
    sp->shifts = NULL;
    if (sp->tmp)
        unlink(sp->tmp);
    free(sp->tmp);
    rp_temp_release(sp->lock_fd);
    sp->fd = sp->lock_fd = -1;
    sp->tmp = NULL;
    sp->failed = 1;
}

static void spool_open(spool *sp, const char *audio, int channels, int compact)
{
    *sp = (spool){.fd = -1, .lock_fd = -1, .channels = channels};
    char *target = audio && rp_format_from_path(audio) == RP_FMT_WAV ? rp_output_target(audio)
                                                                     : NULL;
    if (target) {
        sp->fd = rp_temp_create(target, &sp->tmp, &sp->lock_fd);
        sp->from = SPOOL_FROM;
        if (sp->fd >= 0 && lseek(sp->fd, SPOOL_FROM, SEEK_SET) != SPOOL_FROM)
            spool_close(sp);
        free(target);
    }
    if (sp->fd < 0)
        *sp = (spool){.fd = rp_temp_scratch(audio), .lock_fd = -1, .channels = channels};
    sp->compact = compact;
    sp->failed = sp->fd < 0;
}

// Bytes of the spool for each frame.
static int64_t spool_unit(const spool *sp)
{
    return sp->channels * (int64_t)(sp->compact ? sizeof(int16_t) : sizeof(float));
}

static void spool_write(spool *sp, const float *frames, const rounded *r, size_t n)
{
    if (sp->failed)
        return;
    const void *bytes = frames;
    if (sp->compact) {
        // The rounded blocks: their 16-bit numbers and shifts.
        int64_t b0 = sp->frames / RP_BLOCK_FRAMES;
        size_t nb = (n + RP_BLOCK_FRAMES - 1) / RP_BLOCK_FRAMES;
        int8_t *s = r ? realloc(sp->shifts, (size_t)b0 + nb) : NULL;
        if (!s) {
            sp->failed = 1;
            return;
        }
        sp->shifts = s;
        memcpy(s + b0, r->shifts, nb);
        bytes = r->q;
    }
    if (rp_write_all(sp->fd, bytes, n * (size_t)spool_unit(sp)))
        sp->failed = 1;
    else
        sp->frames += (int64_t)n;
}

// Reads the next n frames, from frame at, into buf (a compact spool's
// 16-bit numbers by way of q).
static int spool_read(spool *sp, float *buf, int16_t *q, int64_t at, size_t n)
{
    if (rp_read_all(sp->fd, sp->compact ? (void *)q : (void *)buf, n * (size_t)spool_unit(sp)))
        return -1;
    for (size_t b = 0; sp->compact && b < n; b += RP_BLOCK_FRAMES) {
        size_t from = b * (size_t)sp->channels,
               to = (n - b < RP_BLOCK_FRAMES ? n : b + RP_BLOCK_FRAMES) * (size_t)sp->channels;
        int e = sp->shifts[(at + (int64_t)b) / RP_BLOCK_FRAMES];
        rp_s16_to_float(q + from, buf + from, to - from, ldexpf(1.0f, -e));
    }
    return 0;
}

// The master pass's file, written over the mix it reads back: the sink
// takes the temporary file, and the pages up to the file's end are no
// longer the spool's to drop.
static rp_status spool_sink(spool *sp, rp_sink **sink, const char *path, const rp_drama *dr,
                            uint64_t dither, rp_diags *d)
{
    const rp_render_config *r = &dr->cast.render;
    rp_sink_over over = {.tmp = sp->tmp, .lock_fd = sp->lock_fd, .from = sp->from,
                         .per_frame = spool_unit(sp)};
    rp_status st = rp_sink_open_over(sink, path, r->rate_hz, r->channels, r->bits, dither, &over, d);
    if (!st) {
        free(sp->tmp);
        sp->tmp = NULL;
        sp->lock_fd = -1;
        // The file reaches its header (within the room before the spool)
        // plus its samples from the file's start: at most its samples'
        // bytes from the spool's.
        int64_t sample = r->bits == 24 ? 3 : r->bits == 32 ? 4 : 2;
        sp->kept = dr->timeline.n_frames * r->channels * sample;
    }
    return st;
}

// One pass over the mix. stems (NULL: none): one sink per bus, written with
// the mix as it is, before the master's gain and limiter, by the first pass.
// replay (NULL: none): the measuring pass's mix, read back for this pass.
typedef struct {
    rp_drama *dr;
    const char *stage;
    rp_sink *const *stems;
    volatile sig_atomic_t *stop;
    rp_progress_fn progress;
    void *user;
    rp_placer *placer;  // NULL, or placing the timeline as lines are voiced
    rp_ckpt *ck;        // NULL, or recording (and maybe using) checkpoints
    spool *keep;        // NULL, or the measuring pass keeps its mix in it
    spool *replay;      // NULL, or the pass reads its mix from it
    int round16;        // the mix is rounded for a 16-bit file (round16)
    rp_meter_steps *steps;  // NULL, or the mix's meter keeps its steps, for the file's
    rp_sink **ahead;        // NULL, or the last render's file copied ahead (rp_sink_copy_ahead)
} pass;

// The spool, when the next pass can read it instead of mixing: whole, and
// with the mixer's state kept at every checkpoint the pass records.
static spool *replayable(const pass *p, spool *sp)
{
    return !sp->failed && (!p->ck || rp_ckpt_replayable(p->ck)) ? sp : NULL;
}

// At checkpoint k, when the pass may use the last render's: everything
// mixed so far taken, then rp_ckpt_skip.
static rp_status ckpt_skip(const pass *p, handoff *h, rp_mixer *mx, long k, int *finished,
                           rp_diags *d)
{
    if (!p->ck->old)
        return RP_OK;
    handoff_drain(h);
    return h->taken ? RP_OK : rp_ckpt_skip(p->ck, mx, k, finished, d);
}

// Before the block at the mixer's position, while the timeline is still
// being placed: voices and places lines until the whole block and the
// mixer's look-ahead are placed, so that every block is the one a placed
// timeline gives (and the meter sees the same blocks, to the bit).
static rp_status place_ahead(const pass *p, rp_mixer *mx, rp_diags *d)
{
    rp_drama *dr = p->dr;
    int64_t need = rp_mixer_position(mx) + RP_BLOCK_FRAMES + rp_mixer_lookahead(mx);
    rp_status st = RP_OK;
    while (!st && !rp_placer_done(p->placer) && rp_placer_horizon(p->placer) < need) {
        size_t ready;
        st = rp_drama_voice_more(dr, p->stop, &ready, d);
        if (!st)
            st = rp_placer_advance(p->placer, ready);
        if (!st && ready == dr->plan.n_utts && ready > 0)
            dr->mixed_alongside = rp_mixer_position(mx);  // the last clip is in
        if (!st && p->progress)
            p->progress(p->user, "speech", (int64_t)ready, (int64_t)dr->plan.n_utts);
    }
    return st;
}

// A slot mixed (mx NULL: read back) up to frame at: shaped, recorded at the
// checkpoint it ends at, if any (*k, else -1), and handed to the taker.
static rp_status slot_hand(const pass *p, handoff *h, rp_mixer *mx, slot *sl, int64_t at, long *k)
{
    rp_status st = sl->n > 0 && h->shape ? h->shape(h->ctx, sl->buf, &sl->n) : RP_OK;
    *k = p->ck && at < p->dr->timeline.n_frames && at % RP_CKPT_FRAMES == 0
             ? (long)(at / RP_CKPT_FRAMES)
             : -1;
    if (*k > 0 && !st) {
        sl->ckpt = *k;
        st = rp_ckpt_mixed(p->ck, mx, *k);
    }
    if (sl->n > 0 && !st)
        handoff_fill(h);
    else if (*k > 0 && !st) {
        handoff_drain(h);
        rp_ckpt_taken(p->ck, *k);  // nothing in it to take (the limiter's latency)
    }
    return st;
}

static rp_status mix_blocks(const pass *p, rp_mixer *mx, handoff *h, rp_diags *d)
{
    rp_drama *dr = p->dr;
    const int ch = dr->cast.render.channels;
    float stem_buf[RP_STEM_COUNT][RP_BLOCK_FRAMES * 2];
    float *stem_ptr[RP_STEM_COUNT];
    for (int k = 0; k < RP_STEM_COUNT; k++)
        stem_ptr[k] = stem_buf[k];
    rp_status st = p->ck ? rp_ckpt_mixed(p->ck, mx, 0) : RP_OK;
    int finished = 0;
    if (!st && p->ck)
        st = ckpt_skip(p, h, mx, 0, &finished, d);
    for (size_t n = 1; n > 0 && !st && !finished;) {
        slot *sl = handoff_claim(h);
        if (!sl)
            break;
        sl->n = 0;
        sl->ckpt = -1;
        for (int b = 0; b < HANDOFF_BLOCKS && n > 0 && !st; b++) {
            if (p->stop && *p->stop) {
                st = RP_ERR_INTERRUPTED;
                break;
            }
            if (p->placer && (st = place_ahead(p, mx, d)))
                break;
            int64_t at = rp_mixer_position(mx);
            st = rp_drama_clips_window(dr, at, at + RP_BLOCK_FRAMES + rp_mixer_lookahead(mx), d);
            if (st)
                break;
            float *out = sl->buf + sl->n * (size_t)ch;
            n = p->stems ? rp_mixer_process_stems(mx, out, stem_ptr, RP_BLOCK_FRAMES)
                         : rp_mixer_process(mx, out, RP_BLOCK_FRAMES);
            if (p->round16 && !h->round_ch)
                round16(out, n, ch, &sl->r.shifts[b], sl->r.q + (out - sl->buf));
            for (int k = 0; p->stems && k < RP_STEM_COUNT && !st; k++)
                st = rp_sink_write(p->stems[k], stem_buf[k], n, d);
            sl->n += n;
            if (p->ck)
                p->ck->mixed += (int64_t)n;
            if (p->progress && (!p->placer || rp_placer_done(p->placer)))
                p->progress(p->user, p->stage, rp_mixer_position(mx), dr->timeline.n_frames);
        }
        long k = -1;
        if (!st)
            st = slot_hand(p, h, mx, sl, rp_mixer_position(mx), &k);
        if (k > 0 && !st)
            st = ckpt_skip(p, h, mx, k, &finished, d);
    }
    return st;
}

// The same slots from the measuring pass's mix: the same frames, so shape
// and take make the same bytes of them.
static rp_status replay_blocks(const pass *p, handoff *h, rp_diags *d)
{
    rp_drama *dr = p->dr;
    spool *sp = p->replay;
    const size_t whole = RP_BLOCK_FRAMES * HANDOFF_BLOCKS;
    int64_t dropped = sp->kept + (SPOOL_DROP - sp->kept % SPOOL_DROP) % SPOOL_DROP;
    sp->failed = 1;  // read for the last time (spool_drop)
    rp_status st = p->ck ? rp_ckpt_mixed(p->ck, NULL, 0) : RP_OK;
    if (!st && lseek(sp->fd, sp->from, SEEK_SET) != sp->from)
        st = RP_ERR_IO;
    for (int64_t at = 0; at < sp->frames && !st;) {
        slot *sl = handoff_claim(h);
        if (!sl)
            break;
        if (p->stop && *p->stop) {
            st = RP_ERR_INTERRUPTED;
            break;
        }
        size_t n = sp->frames - at < (int64_t)whole ? (size_t)(sp->frames - at) : whole;
        if (spool_read(sp, sl->buf, sl->r.q, at, n)) {
            st = RP_ERR_IO;
            break;
        }
        at += (int64_t)n;
        spool_drop(sp, &dropped, at * spool_unit(sp));
        sl->n = n;
        sl->ckpt = -1;
        if (p->ck)
            p->ck->mixed += (int64_t)n;
        if (p->progress)
            p->progress(p->user, p->stage, at, dr->timeline.n_frames);
        long k;
        st = slot_hand(p, h, NULL, sl, at, &k);
    }
    if (st == RP_ERR_IO)
        rp_diag_add(d, RP_DIAG_ERROR, NULL, 0, 0, p->stage, NULL,
                    "cannot read back the mix's temporary file: %s", strerror(errno));
    return st;
}

static rp_status mix_pass(const pass *p, shape_fn shape, take_fn take, void *ctx, rp_diags *d)
{
    const rp_render_config *r = &p->dr->cast.render;
    rp_status st = RP_OK;
    rp_mixer *mx =
        p->replay ? NULL : rp_mixer_new(&p->dr->timeline, &p->dr->plan, r, r->channels, &st);
    handoff *h = st ? NULL : calloc(1, sizeof *h);
    if (!st && !h)
        st = RP_ERR_NOMEM;
    if (st) {
        rp_mixer_free(mx);
        return st;
    }
    // A pass that shapes its mix (the limiter) rounds it first, on the
    // mixer's thread; the measuring pass leaves the rounding to the taker,
    // whose meter and spool leave it the lighter load (a slot's rounding
    // is the same wherever it runs).
    *h = (handoff){.shape = shape, .take = take, .ctx = ctx, .ck = p->ck,
                   .rounded = p->round16 && !p->replay,
                   .round_ch = p->round16 && !p->replay && !shape ? r->channels : 0};
    rp_diags_init(&h->d);
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->filled, NULL);
    pthread_cond_init(&h->freed, NULL);
    pthread_t thread;
    if (pthread_create(&thread, NULL, taker, h) != 0) {
        st = RP_ERR_NOMEM;
    } else {
        st = p->replay ? replay_blocks(p, h, d) : mix_blocks(p, mx, h, d);
        pthread_mutex_lock(&h->lock);
        h->done = 1;
        pthread_cond_signal(&h->filled);
        pthread_mutex_unlock(&h->lock);
        pthread_join(thread, NULL);
        st = st ? st : h->taken;
    }
    rp_diags_move(d, &h->d);
    pthread_cond_destroy(&h->freed);
    pthread_cond_destroy(&h->filled);
    pthread_mutex_destroy(&h->lock);
    free(h);
    rp_mixer_free(mx);
    return st;
}

// The measuring pass's take: the meter, and the spool when it keeps one.
typedef struct {
    rp_meter *meter;
    spool *keep;
} measure;

static rp_status take_measure(void *ctx, float *frames, const rounded *r, size_t n,
                             rp_diags *d)
{
    (void)d;
    measure *m = ctx;
    if (m->keep)
        spool_write(m->keep, frames, r, n);
    return rp_meter_add(m->meter, frames, n);
}

// The master pass: gain and limiter, then the meter and the file.
typedef struct {
    rp_master *ms;
    rp_meter *meter;
    rp_meter *pre;  // NULL, or measuring the mix before the master too
    rp_sink *sink;
    int64_t skip;   // the limiter's latency, still to drop
    int64_t at;     // output frames so far
    int channels;
    float *peaks;   // NULL, or the waveform's
    size_t n_peaks;
    int64_t n_frames;
} output;

// The limiter, its latency dropped.
static rp_status shape_master(void *ctx, float *frames, size_t *n)
{
    output *o = ctx;
    rp_master_process(o->ms, frames, *n);
    size_t from = 0;
    if (o->skip > 0) {
        from = (size_t)o->skip < *n ? (size_t)o->skip : *n;
        o->skip -= (int64_t)from;
        memmove(frames, frames + from * (size_t)o->channels,
                (*n - from) * (size_t)o->channels * sizeof *frames);
        *n -= from;
    }
    return RP_OK;
}

// The same, measuring each block first as the measuring pass would: the
// same blocks in the same order, so the same figures to the last bit.
static rp_status shape_master_measured(void *ctx, float *frames, size_t *n)
{
    output *o = ctx;
    rp_status st = rp_meter_add(o->pre, frames, *n);
    return st ? st : shape_master(ctx, frames, n);
}

// The rest: the waveform's peaks, the meter and the file.
static rp_status take_master(void *ctx, float *frames, const rounded *r, size_t n,
                            rp_diags *d)
{
    (void)r;
    output *o = ctx;
    if (n == 0)
        return RP_OK;
    if (o->peaks)
        rp_svg_peaks_add(o->peaks, o->n_peaks, o->n_frames, o->at, frames, n, o->channels);
    o->at += (int64_t)n;
    rp_status st = rp_meter_add(o->meter, frames, n);
    return st || !o->sink ? st : rp_sink_write(o->sink, frames, n, d);
}

// Pushes the limiter's look-ahead out with silence.
static rp_status flush_master(output *o, rp_diags *d)
{
    float buf[RP_BLOCK_FRAMES * 2];
    rp_status st = RP_OK;
    for (int64_t left = rp_master_latency(o->ms); left > 0 && !st;) {
        size_t n = left < RP_BLOCK_FRAMES ? (size_t)left : RP_BLOCK_FRAMES;
        memset(buf, 0, sizeof(float) * n * (size_t)o->channels);
        left -= (int64_t)n;
        st = shape_master(o, buf, &n);
        st = st ? st : take_master(o, buf, NULL, n, d);
    }
    return st;
}

rp_master_target rp_drama_master_target(const rp_drama *dr)
{
    const rp_render_config *r = &dr->cast.render;
    rp_master_target t = r->master;
    t.target_lufs = rp_render_loudness_target(r);
    if (t.norm == RP_NORM_ACX && t.ceiling_dbtp > RP_ACX_PEAK_DB)
        t.ceiling_dbtp = RP_ACX_PEAK_DB;
    return t;
}

// The file's chapter marks, its title first (the WAV header's); how many.
static size_t file_marks(const rp_drama *dr, rp_mark marks[RP_MAX_MARKS])
{
    size_t n = rp_marks_collect(&dr->timeline, &dr->plan, &dr->script, marks, RP_MAX_MARKS);
    return n < RP_MAX_MARKS ? n : RP_MAX_MARKS;
}

// The stretches between checkpoints in the timeline.
static size_t stretches(const rp_drama *dr)
{
    return (size_t)((dr->timeline.n_frames + RP_CKPT_FRAMES - 1) / RP_CKPT_FRAMES);
}

// ck made ready for this render's timeline: a point at each stretch's
// start, each stretch's events hashed; and, when recall, the last render's
// record recalled into ck->old if it fits.
static rp_status ckpt_ready(rp_ckpt *ck, const rp_drama *dr, const char *out_path, int recall)
{
    ck->n = stretches(dr);
    if (!rp_ckpt_point_at(ck, ck->n))  // every point now: two threads write them
        return RP_ERR_NOMEM;
    rp_ckpt_inputs(ck, dr);
    if (recall)
        rp_ckpt_recall(ck, dr, out_path);
    return RP_OK;
}

// Mixes with gain_db through the limiter into the outputs, measuring what
// is written into *l and, when pre is not NULL, the mix before the master
// into *pre as measure_pass would. The audio is left written but not in
// place in *sink (NULL: none), for the caller to put in place if this pass
// is the last, or to drop: the file changes once, from old to new.
static rp_status master_pass(const pass *p, const rp_render_outputs *want, double gain_db,
                             rp_loudness *pre, rp_loudness *l, rp_sink **sink, rp_diags *d)
{
    rp_drama *dr = p->dr;
    const rp_render_config *r = &dr->cast.render;
    rp_master_target t = rp_drama_master_target(dr);
    const char *out_path = want->audio;
    output o = {.channels = r->channels, .n_frames = dr->timeline.n_frames};
    rp_status st = RP_OK;
    if (want->peaks) {
        if (!dr->peaks) {
            dr->n_peaks = rp_svg_columns(dr->timeline.n_frames, r->rate_hz);
            dr->peaks = malloc(dr->n_peaks * sizeof *dr->peaks);
        }
        if (!dr->peaks)
            st = RP_ERR_NOMEM;
        else
            memset(dr->peaks, 0, dr->n_peaks * sizeof *dr->peaks);
        o.peaks = dr->peaks;
        o.n_peaks = dr->n_peaks;
    }
    o.ms = st ? NULL : rp_master_new(r->channels, r->rate_hz, t.ceiling_dbtp);
    // Measuring only (`radioplay loudness CHAPTER`): the true peak too. A
    // render does without it (it costs more than the rest of the meter):
    // the limiter holds the ceiling.
    o.meter = rp_meter_new(r->channels, r->rate_hz, out_path == NULL);
    if (pre)
        o.pre = rp_meter_new(r->channels, r->rate_hz, 0);
    if (!o.ms || !o.meter || (pre && !o.pre))
        st = RP_ERR_NOMEM;
    if (!st) {
        rp_master_set_gain(o.ms, gain_db);
        o.skip = rp_master_latency(o.ms);
    }
    // The meter is the output thread's, with the dither and the file, in
    // every pass. In a pass that reads the mix back this leaves the other
    // thread only the reading and the limiter. It takes the mix's figures,
    // times the gain, for the steps the limiter leaves alone
    // (rp_meter_follow): chapter 000's output thread, which held the pass
    // up, spent 71 of its 145 ms K-weighting, and now takes 85 ms.
    if (!st && p->steps && out_path) {
        int64_t n = dr->timeline.n_frames;
        if (pre) {  // kept on the mixer's thread as the output's follows
            rp_meter_keep(o.pre, p->steps);
            st = rp_meter_steps_room(p->steps, n);
        }
        st = st ? st : rp_master_track(o.ms, n);
        st = st ? st : rp_meter_follow(o.meter, p->steps, o.ms, p->ck ? RP_CKPT_FRAMES : 0, n);
    }
    rp_ckpt *ck = p->ck;
    if (ck) {
        ck->ms = o.ms;
        ck->out = o.meter;
        ck->pre = o.pre;  // with pre, else the measuring pass's are kept
        ck->pre_on_taker = 0;
        ck->skip = &o.skip;
        ck->at = &o.at;
        ck->mixed = 0;
        ck->finished = 0;
        // (A replay writes the whole file: it costs no more than patching.)
        ck->other_gain = 0;
        st = st ? st : ckpt_ready(ck, dr, out_path, !p->replay);
        dr->other_gain = ck->other_gain;  // after a missed guess
    }
    if (!st && out_path) {
        rp_mark marks[RP_MAX_MARKS];
        size_t n = file_marks(dr, marks);
        const char *title = n ? marks[0].title : NULL;
        // With the last render's checkpoints, from a copy of its file.
        uint64_t dither = rp_seed_mix(r->seed, 0xd17e);
        rp_status ps = ck && ck->old ? rp_sink_open_patch(&o.sink, out_path, r->rate_hz,
                                                            r->channels, dr->timeline.n_frames,
                                                            title, marks, n, dither, p->ahead, d)
                                     : RP_ERR_USAGE;
        dr->copied_ahead = !ps && rp_sink_copied_ahead(o.sink);
        if (ps == RP_ERR_USAGE && ck)
            rp_ckpt_forget(ck);
        if (ps != RP_ERR_USAGE) {
            st = ps;
        } else {
            st = p->replay && p->replay->tmp
                     ? spool_sink(p->replay, &o.sink, out_path, dr, dither, d)
                     : rp_sink_open(&o.sink, out_path, r->rate_hz, r->channels, r->bits, dither,
                                    d);
            if (!st && ck)
                rp_sink_keep_cached(o.sink);  // the next render after a tweak copies it
            if (!st)
                st = rp_sink_set_meta(o.sink, title, marks, n, r->rate_hz, d);
        }
        if (ck)
            ck->sink = o.sink;
    }
    // A copy ahead this pass did not take (another gain than the last
    // render's, another header) is of no use to a pass after it.
    if (p->ahead && *p->ahead) {
        rp_sink_close(*p->ahead, 0, NULL);
        *p->ahead = NULL;
    }
    if (!st)
        st = mix_pass(p, pre ? shape_master_measured : shape_master, take_master, &o, d);
    dr->replayed += !st && p->replay;
    if (!st && !(ck && ck->finished))
        st = flush_master(&o, d);
    if (!st && ck && !ck->finished)
        rp_ckpt_end(ck);
    if (ck) {
        rp_ckpt_forget(ck);
        ck->ms = NULL;
        ck->out = ck->pre = NULL;
        ck->sink = NULL;
    }
    if (!st) {
        rp_meter_result(o.meter, l);
        if (pre)
            rp_meter_result(o.pre, pre);
        size_t steps;
        dr->meter_taken = (int64_t)rp_meter_taken(o.meter, &steps);
        dr->meter_steps = p->steps ? (int64_t)steps : 0;
    }
    *sink = o.sink;
    rp_master_free(o.ms);
    rp_meter_free(o.meter);
    rp_meter_free(o.pre);
    return st;
}

// The first pass: how loud is the mix?
static rp_status measure_pass(const pass *p, rp_loudness *pre, rp_diags *d)
{
    const rp_render_config *r = &p->dr->cast.render;
    rp_meter *m = rp_meter_new(r->channels, r->rate_hz, 0);
    if (p->ck) {
        p->ck->pre = m;
        p->ck->pre_on_taker = 1;
    }
    if (m)
        rp_meter_keep(m, p->steps);
    measure ctx = {m, p->keep};
    rp_status st = m ? mix_pass(p, NULL, take_measure, &ctx, d) : RP_ERR_NOMEM;
    if (!st && p->ck) {
        p->ck->n = stretches(p->dr);
        rp_ckpt_end(p->ck);
        p->ck->pre = NULL;
    }
    if (!st)
        rp_meter_result(m, pre);
    rp_meter_free(m);
    return st;
}

static int gain_guess(const rp_drama *dr, double *gain_db);
static void gain_guess_remember(const rp_drama *dr, double gain_db);

// Whether mastering with the remembered gain while measuring is worth a
// try: the last render's checkpoints fit this render (the same program,
// rate, channels and file), and at least half the stretches between them have the
// same events as the last render's, so that pass can take them from its
// file. Otherwise it mixes about all of the chapter, as the measuring pass
// does, and when the gain has moved a step it mixes it all again; measuring
// first costs as much when the gain holds (the master pass reads the mix
// back) and half as much when it moves. A tweak that changes the length of
// a clip (a voice's pitch, rate or words) moves every line after it: the
// stretches before its first line are the last render's still. On an
// error, it is worth a try: that pass reports it.
static int worth_guessing(const pass *p, const char *out_path)
{
    rp_ckpt *ck = p->ck;
    if (ckpt_ready(ck, p->dr, out_path, 1))
        return 1;
    size_t same = rp_ckpt_unchanged(ck);
    rp_ckpt_forget(ck);
    return 2 * same >= ck->n;
}

// A render, with the last render's checkpoints unless no_recall; *refused:
// one of their states would not load (rp_ckpt_skip).
static rp_status render_once(rp_drama *dr, const rp_render_outputs *want,
                             volatile sig_atomic_t *stop, rp_progress_fn progress, void *user,
                             int no_recall, int *refused, rp_diags *d)
{
    const rp_render_config *r = &dr->cast.render;
    rp_master_target t = rp_drama_master_target(dr);
    rp_status st = RP_OK;
    // The stems: float WAV, as they are not limited and may pass full scale.
    rp_sink *stems[RP_STEM_COUNT] = {0};
    for (int k = 0; !st && want->audio && want->stems_dir && k < RP_STEM_COUNT; k++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s.wav", want->stems_dir, rp_stem_names[k]);
        st = rp_sink_open(&stems[k], path, r->rate_hz, r->channels, 32, 0, d);
    }
    // Checkpoints: for a file the sink can patch, alone, with the cache.
    rp_ckpt ck = {.no_recall = no_recall};
    int checkpoints = want->audio && !want->stems_dir && !want->peaks && !dr->no_cache &&
                      rp_sink_can_patch(want->audio, r->bits);
    pass p = {.dr = dr, .stage = "master", .stems = stems[0] ? stems : NULL, .stop = stop,
              .progress = progress, .user = user, .ck = checkpoints ? &ck : NULL,
              .round16 = want->audio && rp_sink_at_most_16bit(want->audio, r->bits)};
    // The gain is the measuring pass's, in whole steps of RP_GAIN_STEP_DB.
    // A re-render after a small tweak usually measures the same step as the
    // last render of the chapter did: it masters with that step while it
    // measures, and when the measure agrees that one pass was the master
    // pass (the same bytes as measuring first). When it does not, the
    // master pass follows.
    double gain = 0.0, guess = 0.0;
    rp_loudness pre, l;
    rp_sink *sink = NULL;
    spool keep = {.fd = -1, .lock_fd = -1, .failed = 1};
    int mastered = 0;
    dr->passes = 1;
    dr->guessed = dr->not_guessed = dr->other_gain = 0;
    dr->replayed = 0;
    dr->mixed_alongside = 0;
    dr->meter_taken = dr->meter_steps = 0;
    dr->copied_ahead = 0;
    int guessing = t.norm != RP_NORM_OFF && gain_guess(dr, &guess) == 0;
    // A render that may patch the last render's file (it remembers a gain
    // to try, and the last render's checkpoints may fit) has that file
    // copied while it voices the lines; the copy is dropped if unused.
    // (The workers' zygote first: it is forked while this process has one
    // thread, as its espeak-ng starts threads of its own.)
    rp_sink *ahead = NULL;
    if (guessing && p.ck && !no_recall && rp_ckpt_may_fit(dr, want->audio) &&
        rp_drama_workers_start(dr->jobs) == RP_OK)
        ahead = rp_sink_copy_ahead(want->audio, r->rate_hz, r->channels);
    p.ahead = &ahead;
    // The mix's steps, for the file's meter.
    if (t.norm != RP_NORM_OFF) {
        p.steps = rp_meter_steps_new(r->rate_hz);
        if (!p.steps)
            st = RP_ERR_NOMEM;
    }
    // A drama not yet voiced: a pass that writes the file waits for every
    // line, as the file's chapter marks and length come first; the
    // measuring pass mixes as the lines come in (place_ahead).
    if (!st && !dr->voiced && (guessing || t.norm == RP_NORM_OFF))
        st = rp_drama_voice(dr, stop, progress, user, d);
    // Without checkpoints (stems, --svg, other formats) the remembered gain
    // is always tried: that pass writes the stems, and measuring first
    // would keep the mix in a file of its own beside the output's.
    if (!st && guessing && p.ck && !worth_guessing(&p, want->audio)) {
        guessing = 0;
        dr->not_guessed = 1;
    }
    if (!guessing || st) {
        rp_sink_close(ahead, 0, NULL);
        ahead = NULL;
    }
    if (!st && guessing) {
        st = master_pass(&p, want, guess, &pre, &l, &sink, d);
        gain = st ? 0.0 : rp_master_gain_round(rp_master_gain_db(&t, &pre));
        mastered = dr->guessed = !st && gain == guess;
        if (!st && !mastered && sink) {
            rp_sink_close(sink, 0, d);
            sink = NULL;
        }
        p.stems = NULL;  // written by the first pass
    } else if (!st && t.norm != RP_NORM_OFF) {
        if (!dr->voiced) {
            st = rp_drama_voice_start(dr, d);
            p.placer = st ? NULL : rp_placer_new(&dr->plan, r, &dr->timeline);
            if (!st && !p.placer)
                st = RP_ERR_NOMEM;
        }
        p.stage = "measure";
        if (!st)
            spool_open(&keep, want->audio, r->channels, p.round16);
        p.keep = &keep;
        st = st ? st : measure_pass(&p, &pre, d);
        p.keep = NULL;
        p.replay = replayable(&p, &keep);
        gain = st ? 0.0 : rp_master_gain_round(rp_master_gain_db(&t, &pre));
        if (p.placer) {
            dr->voiced = !st;  // the mixer reached the end: every line is placed
            rp_placer_free(p.placer);
            p.placer = NULL;
        }
        p.stage = "master";
        p.stems = NULL;
    }
    double first = gain;
    if (!st && !mastered) {
        dr->passes += t.norm != RP_NORM_OFF;
        st = master_pass(&p, want, gain, NULL, &l, &sink, d);
    }
    // The limiter takes a little loudness off the peaks; when that leaves
    // the file off target, one more pass corrects the gain by the miss.
    double miss = t.norm == RP_NORM_OFF || st ? 0.0 : rp_master_gain_db(&t, &l);
    if (!st && fabs(miss) > RP_LOUDNESS_CORRECT_LU) {
        if (sink)
            rp_sink_close(sink, 0, d);
        p.replay = replayable(&p, &keep);
        gain = rp_master_gain_round(gain + miss);
        dr->passes++;
        st = master_pass(&p, want, gain, NULL, &l, &sink, d);
    }
    spool_close(&keep);
    rp_sink_close(ahead, 0, NULL);  // (not taken over: the render failed first)
    rp_status cs = RP_OK;
    for (int k = 0; k < RP_STEM_COUNT; k++) {
        rp_status ks = stems[k] ? rp_sink_close(stems[k], st == RP_OK && cs == RP_OK, d) : RP_OK;
        cs = cs ? cs : ks;
    }
    // The audio last, once everything else is in place.
    rp_status as = sink ? rp_sink_close(sink, st == RP_OK && cs == RP_OK, d) : RP_OK;
    st = st ? st : cs ? cs : as;
    if (!st) {
        dr->loudness = l;
        dr->gain_db = gain;
        dr->mixed_again = checkpoints ? ck.mixed : -1;
        if (checkpoints)
            rp_ckpt_save(&ck, dr, want->audio);
        rp_drama_gain_remember(dr, gain);
        if (t.norm != RP_NORM_OFF)
            gain_guess_remember(dr, first);
    }
    *refused = ck.refused;
    rp_ckpt_deinit(&ck);
    rp_meter_steps_free(p.steps);
    return st;
}

// A checkpoint record passes its checksum, yet one of its states will not
// load (no build reads another's record, as the record names the program
// that wrote it, so only a bug in a state's saver or loader makes one):
// the cache costs the render only time. It starts again and mixes from the start,
// leaving the file as it was until then, and saves a record of its own.
rp_status rp_drama_render(rp_drama *dr, const rp_render_outputs *want, volatile sig_atomic_t *stop,
                          rp_progress_fn progress, void *user, rp_diags *d)
{
    rp_diags first;
    rp_diags_init(&first);
    int refused = 0;
    rp_status st = render_once(dr, want, stop, progress, user, 0, &refused, &first);
    if (st && refused && st != RP_ERR_INTERRUPTED) {
        rp_diags_deinit(&first);
        rp_diag_add(d, RP_DIAG_NOTE, NULL, 0, 0, "cache", NULL,
                    "the last render's checkpoints would not load: mixed from the start");
        return render_once(dr, want, stop, progress, user, 1, &refused, d);
    }
    rp_diags_move(d, &first);
    return st;
}

void rp_drama_deinit(rp_drama *dr)
{
    free(dr->text);
    free(dr->cast_path);
    rp_script_deinit(&dr->script);
    rp_cast_deinit(&dr->cast);
    rp_sfx_library_deinit(&dr->lib);
    rp_plan_deinit(&dr->plan);
    rp_timeline_deinit(&dr->timeline);
    rp_speech_free(dr->speech);
    rp_drama_voicing_free(dr);
    free(dr->peaks);
    memset(dr, 0, sizeof *dr);
}

rp_status rp_render_sfx(const rp_sfx_preset *p, const char *out_path, int rate_hz,
                        uint64_t seed, double duration_s, rp_diags *d)
{
    rp_sfx_voice *v = rp_sfx_voice_new(p, rate_hz, seed);
    if (!v)
        return RP_ERR_NOMEM;
    int64_t len = rp_sfx_voice_length(v);
    int64_t n = duration_s > 0 ? (int64_t)(duration_s * rate_hz) : len > 0 ? len
                                                                              : 10 * rate_hz;
    rp_sink *sink = NULL;
    rp_status st = rp_sink_open(&sink, out_path, rate_hz, 2, 0, seed, d);
    float buf[RP_BLOCK_FRAMES * 2];
    for (int64_t done = 0; !st && done < n;) {
        size_t k = n - done < RP_BLOCK_FRAMES ? (size_t)(n - done) : RP_BLOCK_FRAMES;
        rp_sfx_voice_render(v, buf, k);
        st = rp_sink_write(sink, buf, k, d);
        done += (int64_t)k;
    }
    rp_sfx_voice_free(v);
    rp_status cs = sink ? rp_sink_close(sink, st == RP_OK, d) : RP_OK;
    return st ? st : cs;
}

rp_status rp_say_load(rp_cast *c, const char *cast_path, const char *speaker,
                      const rp_voice **voice, rp_diags *d)
{
    *voice = NULL;
    rp_status st = rp_cast_init(c);
    if (!st && cast_path)
        st = read_cast(c, cast_path, d);
    if (!st && speaker) {
        // Cast as a chapter with this one speaker would cast them.
        rp_character ch = {.name = (char *)speaker, .gender = RP_GENDER_UNKNOWN};
        rp_script one = {.chars = &ch, .n_chars = 1};
        st = rp_cast_assign(c, &one);
    }
    if (!st)
        *voice = rp_cast_voice(c, speaker);
    return st;
}

rp_status rp_say_prepare(rp_speech *sp, const rp_cast *c, const rp_voice *v, rp_diags *d)
{
    rp_status st = rp_voice_check(sp, c->file, v, d);
    if (!st)
        rp_speech_set_respellings(sp, c->say, c->n_say);
    return st;
}

rp_status rp_render_say(rp_speech *sp, const rp_voice *v, const char *text, const char *out_path,
                        uint64_t seed, rp_diags *d)
{
    rp_clip clip;
    rp_status st = rp_speech_say(sp, v, text, &clip);
    if (st) {
        rp_diag_add(d, RP_DIAG_ERROR, NULL, 0, 0, "speech", NULL,
                    "espeak-ng could not speak '%.40s': %s", text, rp_strerror(st));
        return st;
    }
    st = pad_clip(&clip, v->fx, clip.rate_hz);
    if (st) {
        rp_clip_deinit(&clip);
        return st;
    }
    rp_voicefx_apply(v->fx, clip.pcm, clip.n_frames, clip.rate_hz, seed);
    float gain = (float)rp_db_to_gain(v->gain_db);
    for (int64_t i = 0; i < clip.n_frames; i++)
        clip.pcm[i] *= gain;
    rp_sink *sink = NULL;
    st = rp_sink_open(&sink, out_path, clip.rate_hz, 1, 0, seed, d);
    if (!st)
        st = rp_sink_write(sink, clip.pcm, (size_t)clip.n_frames, d);
    rp_status cs = sink ? rp_sink_close(sink, st == RP_OK, d) : RP_OK;
    rp_clip_deinit(&clip);
    return st ? st : cs;
}

// ---- the loudness memo -----------------------------------------------------------

uint64_t rp_drama_mix_key(const rp_drama *dr)
{
    rp_strbuf b;
    rp_strbuf_init(&b);
    rp_cast c = dr->cast;  // a shallow copy, to leave out what only the file format changes
    c.render.bits = 0;
    rp_cast_write(&c, &b);
    rp_master_target t = rp_drama_master_target(dr);
    rp_strbuf_printf(&b, "\n%s\n%s\n%d %.3f %.3f %d\n", RP_VERSION, rp_speech_version(),
                     (int)t.norm, t.target_lufs, t.ceiling_dbtp, RP_MEMO_FORMAT);
    uint64_t h = rp_hash64(dr->text, dr->len, RP_HASH_INIT);
    h = rp_hash64(b.s ? b.s : "", b.len, h);
    h = rp_hash64(&dr->lib.hash, sizeof dr->lib.hash, h);
    rp_strbuf_deinit(&b);
    return h;
}

// A value kept in the clip cache under key (nothing with --no-cache, or
// key 0); memo_get returns 0 when it holds a plausible gain.
static void memo_put(const rp_drama *dr, uint64_t key, double gain_db)
{
    rp_cache *c;
    rp_diags quiet;
    rp_diags_init(&quiet);
    if (key && !dr->no_cache && rp_cache_open(&c, NULL, &quiet) == RP_OK) {
        rp_cache_put_value(c, key, gain_db);
        rp_cache_close(c);
    }
    rp_diags_deinit(&quiet);
}

static int memo_get(const rp_drama *dr, uint64_t key, double *gain_db)
{
    rp_cache *c;
    rp_diags quiet;
    rp_diags_init(&quiet);
    int found = -1;
    double g;
    if (key && !dr->no_cache && rp_cache_open(&c, NULL, &quiet) == RP_OK) {
        if (rp_cache_get_value(c, key, &g) == 0 && fabs(g) < 100) {
            *gain_db = g;
            found = 0;
        }
        rp_cache_close(c);
    }
    rp_diags_deinit(&quiet);
    return found;
}

void rp_drama_gain_remember(const rp_drama *dr, double gain_db)
{
    memo_put(dr, rp_drama_mix_key(dr), gain_db);
}

int rp_drama_gain_recall(const rp_drama *dr, double *gain_db)
{
    return memo_get(dr, rp_drama_mix_key(dr), gain_db);
}

// The gain the measuring pass gave the last render of this chapter (the
// same file, whatever its cast sheet), which a render after a tweak tries
// first (rp_drama_render); 0 when the chapter has no path.
static uint64_t guess_key(const rp_drama *dr)
{
    char *where = dr->script.name ? realpath(dr->script.name, NULL) : NULL;
    if (!where)
        return 0;
    rp_master_target t = rp_drama_master_target(dr);
    char head[96];
    int n = snprintf(head, sizeof head, "gain guess %d %.3f %d\n", (int)t.norm, t.target_lufs,
                     RP_MEMO_FORMAT);
    uint64_t h = rp_hash64(where, strlen(where), rp_hash64(head, (size_t)n, RP_HASH_INIT));
    free(where);
    return h;
}

static int gain_guess(const rp_drama *dr, double *gain_db)
{
    return memo_get(dr, guess_key(dr), gain_db);
}

static void gain_guess_remember(const rp_drama *dr, double gain_db)
{
    memo_put(dr, guess_key(dr), gain_db);
}
