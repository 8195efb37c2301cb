// SPDX-License-Identifier: GPL-3.0-or-later
// Checkpoints of a render (see rp_checkpoint.h): recording each stage's
// state and the meters' sums at every point, and a re-render's jump over
// the stretches it would mix the same. The records live in the clip cache,
// as a value beside the remembered gains.
#define _GNU_SOURCE  // dl_iterate_phdr
#include "rp_checkpoint.h"

#include <link.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rp_cache.h"
#include "rp_io.h"

static void sb_reset(rp_strbuf *b)
{
    b->len = 0;
    b->failed = 0;
}

static void sb_copy(rp_strbuf *to, const rp_strbuf *from)
{
    sb_reset(to);
    rp_strbuf_append(to, from->s, from->len);
}

static int sb_same(const rp_strbuf *a, const rp_strbuf *b)
{
    return a->len == b->len && !a->failed && !b->failed &&
           (a->len == 0 || memcmp(a->s, b->s, a->len) == 0);
}

static rp_unpacker sb_unpacker(const rp_strbuf *b)
{
    return (rp_unpacker){(const unsigned char *)b->s, b->len, 0};
}

// A point's six buffers, in the order the record keeps them.
enum { BUFS = 6 };
static void point_bufs(rp_ckpt_point *p, rp_strbuf *b[BUFS])
{
    b[0] = &p->mix;
    b[1] = &p->pre;
    b[2] = &p->out;
    b[3] = &p->file;
    b[4] = &p->pre_d;
    b[5] = &p->out_d;
}

static void points_free(rp_ckpt_point *pt, size_t n)
{
    for (size_t k = 0; pt && k < n + 1; k++) {
        rp_strbuf *b[BUFS];
        point_bufs(&pt[k], b);
        for (int i = 0; i < BUFS; i++)
            rp_strbuf_deinit(b[i]);
    }
    free(pt);
}

rp_ckpt_point *rp_ckpt_point_at(rp_ckpt *ck, size_t k)
{
    if (k >= ck->cap) {
        size_t cap = ck->cap;
        if (rp_grow((void **)&ck->pt, &cap, k + 1, sizeof *ck->pt))
            return NULL;
        memset(ck->pt + ck->cap, 0, (cap - ck->cap) * sizeof *ck->pt);  // empty buffers
        ck->cap = cap;
    }
    return &ck->pt[k];
}

// A meter at point k: its sums since point k - 1 into *sums (that point's),
// its state into *state.
static void meter_at(rp_meter *m, long k, rp_strbuf *sums, rp_strbuf *state)
{
    if (k > 0) {
        sb_reset(sums);
        rp_meter_fold(m, sums);
    }
    sb_reset(state);
    rp_meter_save(m, state);
}

// The output side at point k: the output's meter and the file's state;
// and the mix's meter when pre.
static void taken(rp_ckpt *ck, long k, int pre)
{
    rp_ckpt_point *p = rp_ckpt_point_at(ck, (size_t)k);
    if (!p)
        return;
    rp_ckpt_point *before = k > 0 ? &ck->pt[k - 1] : NULL;
    if (ck->out) {
        meter_at(ck->out, k, before ? &before->out_d : NULL, &p->out);
        sb_reset(&p->file);
        if (ck->sink)
            rp_sink_save(ck->sink, &p->file);
        int64_t where[2] = {*ck->skip, *ck->at};
        rp_strbuf_append(&p->file, (const char *)where, sizeof where);
        p->at = *ck->at;
    }
    if (ck->pre && pre)
        meter_at(ck->pre, k, before ? &before->pre_d : NULL, &p->pre);
}

void rp_ckpt_taken(rp_ckpt *ck, long k)
{
    taken(ck, k, ck->pre_on_taker);
}

// The measuring pass keeps the mixer's state in mixes (its points grow on
// the taker's thread).
static rp_status keep_mixer(rp_ckpt *ck, rp_mixer *mx, long k)
{
    size_t n = ck->n_mixes;
    if ((size_t)k >= n) {
        if (rp_grow((void **)&ck->mixes, &n, (size_t)k + 1, sizeof *ck->mixes))
            return RP_ERR_NOMEM;
        memset(ck->mixes + ck->n_mixes, 0, (n - ck->n_mixes) * sizeof *ck->mixes);
        ck->n_mixes = n;
    }
    sb_reset(&ck->mixes[k]);
    return rp_mixer_save(mx, &ck->mixes[k]);
}

int rp_ckpt_replayable(const rp_ckpt *ck)
{
    if (ck->n_mixes < ck->n)
        return 0;
    for (size_t k = 0; k < ck->n; k++)
        if (ck->mixes[k].len == 0 || ck->mixes[k].failed)
            return 0;
    return 1;
}

rp_status rp_ckpt_mixed(rp_ckpt *ck, rp_mixer *mx, long k)
{
    if (k == 0)
        rp_ckpt_taken(ck, 0);
    if (!ck->ms && ck->pre_on_taker)
        return mx ? keep_mixer(ck, mx, k) : RP_OK;
    if (!ck->ms && !ck->pre)
        return RP_OK;
    rp_ckpt_point *p = rp_ckpt_point_at(ck, (size_t)k);
    if (!p)
        return RP_ERR_NOMEM;
    rp_status st = RP_OK;
    if (ck->ms) {
        if (mx) {
            sb_reset(&p->mix);
            st = rp_mixer_save(mx, &p->mix);
        } else if ((size_t)k < ck->n_mixes) {
            sb_copy(&p->mix, &ck->mixes[k]);
        } else {
            st = RP_ERR_FORMAT;  // not kept: render.c replays only when every point was
        }
        rp_master_save(ck->ms, &p->mix);
    }
    rp_ckpt_point *before = k > 0 ? &ck->pt[k - 1] : NULL;
    if (ck->pre && !ck->pre_on_taker)
        meter_at(ck->pre, k, before ? &before->pre_d : NULL, &p->pre);
    return st;
}

void rp_ckpt_end(rp_ckpt *ck)
{
    taken(ck, (long)ck->n, 1);
}

// Puts the output side's state of point p back.
static rp_status load_out(rp_ckpt *ck, const rp_ckpt_point *p, rp_diags *d)
{
    rp_unpacker m = sb_unpacker(&p->out), u = sb_unpacker(&p->file);
    rp_status st = rp_meter_load(ck->out, &m);
    if (!st && (m.bad || m.left))
        st = RP_ERR_FORMAT;
    if (!st && ck->sink)
        st = rp_sink_load(ck->sink, &u);
    int64_t where[2];
    rp_unpack(&u, where, sizeof where);
    if (!st && (u.bad || u.left))
        st = RP_ERR_FORMAT;
    if (!st) {
        *ck->skip = where[0];
        *ck->at = where[1];
    }
    if (!st && ck->sink)
        st = rp_sink_seek(ck->sink, where[1], d);
    return st;
}

rp_status rp_ckpt_skip(rp_ckpt *ck, rp_mixer *mx, long k, int *finished, rp_diags *d)
{
    if (!ck->old)
        return RP_OK;
    const rp_ckpt_point *o = ck->old;
    rp_ckpt_point *p = ck->pt;
    size_t to = (size_t)k, n = ck->n < ck->n_old ? ck->n : ck->n_old;
    while (to < n && p[to].input == o[to].input)
        to++;
    if (to == (size_t)k || !sb_same(&p[k].mix, &o[k].mix) || !sb_same(&p[k].pre, &o[k].pre) ||
        !sb_same(&p[k].out, &o[k].out) || !sb_same(&p[k].file, &o[k].file))
        return RP_OK;
    rp_status st = RP_OK;
    for (size_t j = (size_t)k; j < to && !st; j++) {
        rp_unpacker a = sb_unpacker(&o[j].pre_d), b = sb_unpacker(&o[j].out_d);
        st = ck->pre ? rp_meter_unfold(ck->pre, &a) : RP_OK;
        st = st ? st : rp_meter_unfold(ck->out, &b);
        sb_copy(&p[j].pre_d, &o[j].pre_d);
        sb_copy(&p[j].out_d, &o[j].out_d);
        sb_copy(&p[j + 1].mix, &o[j + 1].mix);
        sb_copy(&p[j + 1].pre, &o[j + 1].pre);
        sb_copy(&p[j + 1].out, &o[j + 1].out);
        sb_copy(&p[j + 1].file, &o[j + 1].file);
        p[j + 1].at = o[j + 1].at;
    }
    rp_unpacker u = sb_unpacker(&o[to].pre);
    st = st || !ck->pre ? st : rp_meter_load(ck->pre, &u);
    st = st ? st : load_out(ck, &o[to], d);
    if (!st && to == ck->n) {  // (and ck->n_old: each last stretch's events hash the length)
        *finished = ck->finished = 1;
        return RP_OK;
    }
    u = sb_unpacker(&o[to].mix);
    st = st ? st : rp_mixer_load(mx, &u);
    st = st ? st : rp_master_load(ck->ms, &u);
    st = st ? st : u.bad || u.left ? RP_ERR_FORMAT : RP_OK;
    if (st)
        ck->refused = 1;
    return st;
}

// Whether the limiter about to start (its gain set) starts as the last
// render's did, in the record's first point.
static int limiter_same(const rp_ckpt *ck)
{
    rp_strbuf b;
    rp_strbuf_init(&b);
    rp_master_save(ck->ms, &b);
    const rp_strbuf *o = &ck->old[0].mix;  // the mixer's state, then the limiter's
    int same = !b.failed && o->len >= b.len && memcmp(o->s + o->len - b.len, b.s, b.len) == 0;
    rp_strbuf_deinit(&b);
    return same;
}

size_t rp_ckpt_unchanged(const rp_ckpt *ck)
{
    size_t same = 0;
    for (size_t k = 0; ck->old && k < ck->n && k < ck->n_old; k++)
        same += ck->pt[k].input == ck->old[k].input;
    return same;
}

// The events reaching each stretch: whatever the mixer reads from the
// timeline while it mixes there. It reads an event from its look-ahead
// before it starts (the ducking's lead, 0.15 s) to the ducking's tail after
// it ends (0.1 s); what sounds on after that (echoes, envelopes coming
// back) is state, compared at each point. The margins here are generous.
void rp_ckpt_inputs(rp_ckpt *ck, const rp_drama *dr)
{
    const rp_timeline *t = &dr->timeline;
    rp_ckpt_point *pt = ck->pt;
    size_t n = ck->n;
    int64_t before = 4 * (int64_t)t->rate_hz, after = 10 * (int64_t)t->rate_hz;
    for (size_t k = 0; k < n; k++)
        pt[k].input = RP_HASH_INIT;
    for (size_t i = 0; i < t->n; i++) {
        const rp_event *e = &t->ev[i];
        struct {
            int64_t kind, start, end, fade_in, fade_out, room, narration;
            uint64_t seed, clip[2], preset, room_preset;
            float gain, pan, send, pad;
        } f;
        memset(&f, 0, sizeof f);
        f.kind = e->kind;
        f.start = e->start;
        f.end = e->end;
        f.fade_in = e->fade_in;
        f.fade_out = e->fade_out;
        f.room = e->room;
        f.seed = e->seed;
        f.gain = e->gain;
        f.pan = e->pan;
        f.send = e->send;
        if (e->kind == RP_EV_SPEECH) {
            rp_drama_clip_key(dr, e->utt, f.clip);
            f.narration = dr->plan.utts[e->utt].narration;
        }
        if (e->preset)
            f.preset = rp_sfx_preset_hash(e->preset);
        if (e->room > 0 && (size_t)e->room <= dr->plan.n_rooms) {
            f.room_preset = rp_room_preset_hash(&dr->plan.rooms[e->room - 1]);
        }
        uint64_t h = rp_hash64(&f, sizeof f, RP_HASH_INIT);
        int64_t from = e->start - before, to = e->end + after;
        for (int64_t k = from < 0 ? 0 : from / RP_CKPT_FRAMES; k < (int64_t)n && k * RP_CKPT_FRAMES < to; k++)
            pt[k].input = rp_hash64(&h, sizeof h, pt[k].input);
    }
    // The last stretch ends with the timeline: a render of another length
    // mixes it (and every stretch of its own after the last render's end).
    if (n > 0)
        pt[n - 1].input = rp_hash64(&t->n_frames, sizeof t->n_frames, pt[n - 1].input);
}

// The build's GNU build-id note (a hash the linker makes of the program),
// found in the program's own headers: no file to read. 0 without one.
static int build_id_of(struct dl_phdr_info *info, size_t size, void *user)
{
    (void)size;
    uint64_t *id = user;
    for (int i = 0; i < info->dlpi_phnum && !*id; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr),
                            *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end && !*id) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
            const unsigned char *name = p + sizeof *nh,
                                *desc = name + ((nh->n_namesz + 3) & ~(size_t)3);
            if (desc + nh->n_descsz > end)
                break;
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && !memcmp(name, "GNU", 4))
                *id = rp_hash_words(desc, nh->n_descsz, 0xb1d) | 1;
            p = desc + ((nh->n_descsz + 3) & ~(size_t)3);
        }
    }
    return 1;  // the first object is the program itself
}

// This program's identity: checkpoints are states of its structures, so
// another build's are not used. Its build-id (reading and hashing its 1.9
// MB took a render 2 to 4 ms), else its bytes; and the meters' arithmetic
// on this processor (rp_meter_fused), which the same program chooses
// differently on another.
static uint64_t exe_id(void)
{
    static uint64_t id;
    if (!id)
        dl_iterate_phdr(build_id_of, &id);
    if (!id) {
        char *bytes = NULL;
        size_t len = 0;
        rp_diags quiet;
        rp_diags_init(&quiet);
        if (rp_read_file("/proc/self/exe", (size_t)1 << 30, &bytes, &len, &quiet) == RP_OK)
            id = rp_hash_words(bytes, len, RP_HASH_INIT) | 1;
        rp_diags_deinit(&quiet);
        free(bytes);
    }
    return id ? id ^ (uint64_t)rp_meter_fused() << 1 : 0;
}

// Where the checkpoints of rendering this chapter to out_path are kept (0: nowhere).
static uint64_t ckpt_key(const rp_drama *dr, const char *out_path)
{
    char *where = dr->script.name ? realpath(dr->script.name, NULL) : NULL;
    char *target = rp_output_target(out_path), dir[4096];
    uint64_t h = 0;
    if (where && target && exe_id()) {
        h = rp_hash64("checkpoints\n", 12, RP_HASH_INIT);
        h = rp_hash64(where, strlen(where) + 1, h);
        if (target[0] != '/' && getcwd(dir, sizeof dir))
            h = rp_hash64(dir, strlen(dir) + 1, h);
        h = rp_hash64(target, strlen(target) + 1, h);
    }
    free(where);
    free(target);
    return h;
}

// What a record fits: this program, the rate and channels, and the file
// as the last render left it. The number of stretches is the record's own
// (a tweak may have changed the timeline's length).
typedef struct {
    char magic[8];
    uint64_t exe, n, dev, ino, size;
    int64_t mtime_s, mtime_ns, ctime_s, ctime_ns;
    int32_t rate, channels;
} memo_head;

typedef struct {
    uint64_t input;
    int64_t at;
    uint64_t len[BUFS];
} memo_point;

static void memo_file(memo_head *h, const char *out_path)
{
    char *target = rp_output_target(out_path);
    struct stat sb;
    if (target && stat(target, &sb) == 0) {
        h->dev = sb.st_dev;
        h->ino = sb.st_ino;
        h->size = (uint64_t)sb.st_size;
        h->mtime_s = sb.st_mtim.tv_sec;
        h->mtime_ns = sb.st_mtim.tv_nsec;
        h->ctime_s = sb.st_ctim.tv_sec;
        h->ctime_ns = sb.st_ctim.tv_nsec;
    }
    free(target);
}

static void memo_head_of(const rp_drama *dr, const char *out_path, size_t n, memo_head *h)
{
    memset(h, 0, sizeof *h);
    memcpy(h->magic, "rpckpt3", 8);
    h->exe = exe_id();
    h->n = n;
    h->rate = dr->cast.render.rate_hz;
    h->channels = dr->cast.render.channels;
    memo_file(h, out_path);
}

void rp_ckpt_save(const rp_ckpt *ck, const rp_drama *dr, const char *out_path)
{
    uint64_t key = ckpt_key(dr, out_path);
    rp_cache *c;
    rp_diags quiet;
    rp_diags_init(&quiet);
    if (key && !dr->no_cache && rp_cache_open(&c, NULL, &quiet) == RP_OK) {
        rp_strbuf b;
        rp_strbuf_init(&b);
        memo_head h;
        memo_head_of(dr, out_path, ck->n, &h);
        rp_strbuf_append(&b, (const char *)&h, sizeof h);
        rp_strbuf *s[BUFS];
        for (size_t k = 0; k <= ck->n; k++) {
            memo_point m = {ck->pt[k].input, ck->pt[k].at, {0}};
            point_bufs(&ck->pt[k], s);
            for (int i = 0; i < BUFS; i++)
                m.len[i] = s[i]->len;
            rp_strbuf_append(&b, (const char *)&m, sizeof m);
        }
        for (size_t k = 0; k <= ck->n; k++) {
            point_bufs(&ck->pt[k], s);
            for (int i = 0; i < BUFS; i++)
                rp_strbuf_append(&b, s[i]->s, s[i]->len);
        }
        uint64_t sum = rp_hash_words(b.s, b.len, RP_HASH_INIT);
        rp_strbuf_append(&b, (const char *)&sum, sizeof sum);
        if (!b.failed)
            rp_cache_put_blob(c, key, b.s, b.len);
        rp_strbuf_deinit(&b);
        rp_cache_close(c);
    }
    rp_diags_deinit(&quiet);
}

// Whether a record's head h fits this render (its own count of stretches).
static int head_fits(const rp_drama *dr, const char *out_path, const memo_head *h)
{
    memo_head want;
    memo_head_of(dr, out_path, h->n, &want);
    return want.ino && memcmp(h, &want, sizeof want) == 0;
}

int rp_ckpt_may_fit(const rp_drama *dr, const char *out_path)
{
    uint64_t key = ckpt_key(dr, out_path);
    rp_cache *c;
    rp_diags quiet;
    rp_diags_init(&quiet);
    memo_head h;
    int got = -1;
    if (key && !dr->no_cache && rp_cache_open(&c, NULL, &quiet) == RP_OK) {
        got = rp_cache_get_blob_head(c, key, &h, sizeof h);
        rp_cache_close(c);
    }
    rp_diags_deinit(&quiet);
    return got == 0 && head_fits(dr, out_path, &h);
}

// The last render's points for this chapter and file, if they fit it, and
// how many stretches it had (*n, when they do).
static rp_ckpt_point *recall(const rp_drama *dr, const char *out_path, size_t *n)
{
    uint64_t key = ckpt_key(dr, out_path);
    rp_cache *c;
    rp_diags quiet;
    rp_diags_init(&quiet);
    char *bytes = NULL;
    size_t len = 0;
    rp_ckpt_point *pt = NULL;
    if (key && !dr->no_cache && rp_cache_open(&c, NULL, &quiet) == RP_OK) {
        if (rp_cache_get_blob(c, key, (size_t)1 << 28, &bytes, &len) != 0)
            bytes = NULL;
        rp_cache_close(c);
    }
    rp_diags_deinit(&quiet);
    memo_head h;
    uint64_t sum;
    int whole = bytes && len >= sizeof h + sizeof sum;
    if (whole)
        memcpy(&h, bytes, sizeof h);
    *n = whole ? (size_t)h.n : 0;
    size_t points = (*n + 1) * sizeof(memo_point);
    if (!whole || h.n >= len / sizeof(memo_point) || len < sizeof h + points + sizeof sum ||
        !head_fits(dr, out_path, &h)) {
        free(bytes);
        return NULL;
    }
    memcpy(&sum, bytes + len - sizeof sum, sizeof sum);
    if (sum == rp_hash_words(bytes, len - sizeof sum, RP_HASH_INIT))
        pt = calloc(*n + 1, sizeof *pt);  // empty buffers
    rp_unpacker u = {(const unsigned char *)bytes + sizeof h + points,
                     len - sizeof h - points - sizeof sum, 0};
    for (size_t k = 0; pt && k <= *n && !u.bad; k++) {
        memo_point m;
        memcpy(&m, bytes + sizeof h + k * sizeof m, sizeof m);
        pt[k].input = m.input;
        pt[k].at = m.at;
        rp_strbuf *s[BUFS];
        point_bufs(&pt[k], s);
        for (int i = 0; i < BUFS && !u.bad; i++) {
            if (m.len[i] > u.left) {
                u.bad = 1;
                break;
            }
            rp_strbuf_append(s[i], (const char *)u.p, m.len[i]);
            u.p += m.len[i];
            u.left -= m.len[i];
        }
    }
    free(bytes);
    if (pt && (u.bad || u.left)) {
        points_free(pt, *n);
        pt = NULL;
    }
    return pt;
}

int rp_ckpt_recall(rp_ckpt *ck, const rp_drama *dr, const char *out_path)
{
    rp_ckpt_forget(ck);
    size_t n = 0;
    ck->old = ck->no_recall ? NULL : recall(dr, out_path, &n);
    ck->n_old = ck->old ? n : 0;
    // Another gain changes every sample, and every point's state with it:
    // nothing of the last render's would be kept.
    ck->other_gain = ck->old && ck->ms && !limiter_same(ck);
    if (ck->other_gain)
        rp_ckpt_forget(ck);
    return ck->old ? 0 : -1;
}

void rp_ckpt_forget(rp_ckpt *ck)
{
    points_free(ck->old, ck->n_old);
    ck->old = NULL;
    ck->n_old = 0;
}

void rp_ckpt_deinit(rp_ckpt *ck)
{
    rp_ckpt_forget(ck);
    for (size_t k = 0; k < ck->n_mixes; k++)
        rp_strbuf_deinit(&ck->mixes[k]);
    free(ck->mixes);
    points_free(ck->pt, ck->cap ? ck->cap - 1 : 0);
    memset(ck, 0, sizeof *ck);
}
