// SPDX-License-Identifier: GPL-3.0-or-later
// Tests for the block mixer on hand-built timelines: length in frames,
// sample-accurate starts mid-block, the constant-power pan law, mono
// fold-down at unity, silence, effects placed with their balance, bed fades
// and ducking under speech measured against the bed rendered alone, the
// clearance of the background under a voice, buses that add up, rooms (an
// echo with the room's decay time after a sound sent to it, nothing after
// a dry one, tails that ring on after the room changes), and stems that add
// up to the mix, each holding its own sounds, on hand-built timelines and
// on a voiced chapter with rooms.
#include <stdint.h>

#include <unistd.h>

#include "rp_config.h"
#include "rp_mix.h"
#include "rp_render.h"
#include "rp_room.h"
#include "rp_sfx.h"
#include "test.h"

enum { RATE = 48000 };

static const double PI = 3.14159265358979323846;

// ---- fixtures ----------------------------------------------------------------------------

typedef struct {
    rp_plan plan;
    rp_utterance utts[8];
    rp_timeline tl;
    rp_event ev[8];
    rp_render_config r;
    unsigned buses;  // what mix_all mixes (RP_BUS_*)
    rp_room_preset rooms[2];
} fixture;

static void fixture_init(fixture *f, int64_t n_frames)
{
    memset(f, 0, sizeof *f);
    f->plan.utts = f->utts;
    f->plan.rooms = f->rooms;
    f->tl.ev = f->ev;
    f->tl.n_frames = n_frames;
    f->tl.rate_hz = RATE;
    f->r = rp_render_config_default();
    f->buses = RP_BUS_ALL;
}

// A mono clip: a sine with a phase offset so that its first sample is not 0.
static size_t add_clip(fixture *f, int64_t n, double freq, double amp)
{
    size_t k = f->plan.n_utts++;
    rp_clip *c = &f->utts[k].clip;
    c->pcm = calloc((size_t)n, sizeof *c->pcm);
    c->n_frames = n;
    c->rate_hz = RATE;
    for (int64_t i = 0; c->pcm && i < n; i++)
        c->pcm[i] = (float)(amp * sin(2.0 * PI * freq * (double)i / RATE + 0.5));
    f->utts[k].speaker = "Narrator";
    f->utts[k].narration = 1;
    f->utts[k].text = "text";
    return k;
}

static void add_speech(fixture *f, size_t utt, int64_t start, float gain, float pan)
{
    rp_event *e = &f->ev[f->tl.n++];
    memset(e, 0, sizeof *e);
    e->kind = RP_EV_SPEECH;
    e->utt = utt;
    e->start = start;
    e->end = start + f->utts[utt].clip.n_frames;
    e->gain = gain;
    e->pan = pan;
    e->name = "Narrator";
}

static void add_bed(fixture *f, const rp_sfx_preset *p, int64_t start, int64_t end,
                    uint64_t seed, float gain, int64_t fade_in, int64_t fade_out)
{
    f->ev[f->tl.n++] = (rp_event){.kind = RP_EV_BED, .start = start, .end = end, .preset = p,
                                  .name = "bed", .seed = seed, .gain = gain,
                                  .fade_in = fade_in, .fade_out = fade_out};
}

static void fixture_deinit(fixture *f)
{
    for (size_t i = 0; i < f->plan.n_utts; i++)
        free(f->utts[i].clip.pcm);
}

// Mixes the whole timeline in calls of `chunk` frames; returns the frames
// written (the buffer is allocated for n_frames + 1 frames).
static float *mix_all(fixture *f, int channels, size_t chunk, int64_t *frames)
{
    rp_status st;
    rp_mixer *m = rp_mixer_new(&f->tl, &f->plan, &f->r, channels, &st);
    CHECK_INT(st, RP_OK);
    if (!m)
        return NULL;
    rp_mixer_set_buses(m, f->buses);
    size_t cap = (size_t)f->tl.n_frames + 1;
    float *out = calloc(cap * (size_t)channels + 2 * chunk, sizeof *out);
    int64_t total = 0;
    size_t got;
    int calls = 0;
    while (out && (got = rp_mixer_process(m, out + (size_t)total * (size_t)channels, chunk)) > 0) {
        CHECK(got <= chunk && got <= RP_BLOCK_FRAMES);
        total += (int64_t)got;
        CHECK_INT(rp_mixer_position(m), total);
        if (++calls > 1000000)
            break;
    }
    // At the end it keeps returning 0.
    CHECK_INT(rp_mixer_process(m, out, chunk), 0);
    *frames = total;
    rp_mixer_free(m);
    return out;
}

static double rms(const float *x, size_t n, size_t stride)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i * stride] * x[i * stride];
    return n ? sqrt(s / (double)n) : 0.0;
}

// ---- pan law ------------------------------------------------------------------------------

static void test_pan_law(void)
{
    float gl, gr;
    rp_pan_gains(-1.0f, &gl, &gr);
    CHECK_NEAR(gl, 1.0, 1e-6);
    CHECK_NEAR(gr, 0.0, 1e-6);
    rp_pan_gains(0.0f, &gl, &gr);
    CHECK_NEAR(gl, 0.70710678, 1e-6);
    CHECK_NEAR(gr, 0.70710678, 1e-6);
    rp_pan_gains(1.0f, &gl, &gr);
    CHECK_NEAR(gl, 0.0, 1e-6);
    CHECK_NEAR(gr, 1.0, 1e-6);
    // sin/cos law: pan 0.5 is 3/8 of a quarter turn.
    rp_pan_gains(0.5f, &gl, &gr);
    CHECK_NEAR(gl, cos(3.0 * PI / 8.0), 1e-6);
    CHECK_NEAR(gr, sin(3.0 * PI / 8.0), 1e-6);
    // Out of range clamps.
    rp_pan_gains(-3.0f, &gl, &gr);
    CHECK_NEAR(gl, 1.0, 1e-6);
    CHECK_NEAR(gr, 0.0, 1e-6);
    rp_pan_gains(7.0f, &gl, &gr);
    CHECK_NEAR(gr, 1.0, 1e-6);
    // Constant power, monotonic, mirror-symmetric.
    float prev_l = 2.0f;
    for (int i = -100; i <= 100; i++) {
        float p = (float)i / 100.0f, ml, mr;
        rp_pan_gains(p, &gl, &gr);
        CHECK_NEAR((double)gl * gl + (double)gr * gr, 1.0, 1e-6);
        CHECK(gl >= 0.0f && gr >= 0.0f && gl <= prev_l);
        prev_l = gl;
        rp_pan_gains(-p, &ml, &mr);
        CHECK_NEAR(ml, gr, 1e-6);
        CHECK_NEAR(mr, gl, 1e-6);
    }
}

// ---- speech -------------------------------------------------------------------------------

static void test_length_and_start(void)
{
    fixture f;
    fixture_init(&f, 48000 + 77);  // not a multiple of the block size
    size_t u = add_clip(&f, 4800, 440.0, 0.5);
    int64_t start = 12345;         // mid-block
    add_speech(&f, u, start, 1.0f, 0.0f);
    for (size_t chunk = 1; chunk <= 4096; chunk = chunk * 5 + 3) {
        int64_t n = 0;
        float *out = mix_all(&f, 2, chunk, &n);
        CHECK(out != NULL);
        if (!out)
            break;
        CHECK_INT(n, f.tl.n_frames);
        int64_t first = -1, last = -1;
        for (int64_t i = 0; i < n; i++) {
            if (out[2 * i] != 0.0f || out[2 * i + 1] != 0.0f) {
                if (first < 0)
                    first = i;
                last = i;
            }
        }
        CHECK_INT(first, start);
        CHECK_INT(last, start + 4800 - 1);
        // Sample by sample: clip times the centre gains.
        float gl, gr;
        rp_pan_gains(0.0f, &gl, &gr);
        int bad = 0;
        for (int64_t i = 0; i < 4800; i++) {
            float x = f.utts[u].clip.pcm[i];
            bad += fabsf(out[2 * (start + i)] - x * gl) > 1e-6f ||
                   fabsf(out[2 * (start + i) + 1] - x * gr) > 1e-6f;
        }
        CHECK_MSG(bad == 0, "chunk %zu: %d frames differ from the clip", chunk, bad);
        free(out);
    }
    fixture_deinit(&f);
}

static void test_pan_and_gain(void)
{
    fixture f;
    fixture_init(&f, 30000);
    size_t u = add_clip(&f, 9600, 300.0, 0.8);
    add_speech(&f, u, 1000, 0.5f, -0.8f);
    int64_t n = 0;
    float *out = mix_all(&f, 2, 1024, &n);
    CHECK(out != NULL);
    if (out) {
        double l = rms(out + 2 * 1000, 9600, 2), r = rms(out + 2 * 1000 + 1, 9600, 2);
        double x = rms(f.utts[u].clip.pcm, 9600, 1);
        float gl, gr;
        rp_pan_gains(-0.8f, &gl, &gr);
        CHECK(l > 5.0 * r);                             // left well above right
        CHECK_NEAR(l / r, gl / gr, 1e-3 * gl / gr);     // by the pan law
        CHECK_NEAR(l, x * 0.5 * gl, 1e-4);              // with the event gain
        CHECK_NEAR(l * l + r * r, x * x * 0.25, 1e-5);  // constant power
        free(out);
    }
    fixture_deinit(&f);
}

static void test_mono_unity(void)
{
    fixture f;
    fixture_init(&f, 20000);
    size_t u = add_clip(&f, 9000, 440.0, 0.7);
    add_speech(&f, u, 2500, 1.0f, 0.0f);
    int64_t n = 0;
    float *out = mix_all(&f, 1, 700, &n);
    CHECK(out != NULL);
    if (out) {
        CHECK_INT(n, 20000);
        double worst = 0.0;
        for (int64_t i = 0; i < 9000; i++)
            worst = fmax(worst, fabs(out[2500 + i] - f.utts[u].clip.pcm[i]));
        CHECK_MSG(worst < 1e-6, "mono fold-down departs from the clip by %g", worst);
        CHECK(out[2499] == 0.0f && out[2500] != 0.0f && out[11500] == 0.0f);
        free(out);
    }
    rp_status st;
    CHECK(rp_mixer_new(&f.tl, &f.plan, &f.r, 3, &st) == NULL);
    CHECK_INT(st, RP_ERR_USAGE);
    CHECK(rp_mixer_new(&f.tl, &f.plan, &f.r, 0, &st) == NULL);
    rp_mixer_free(NULL);
    fixture_deinit(&f);
}

static void test_silence(void)
{
    // No events at all, and a speech event whose clip is silent.
    fixture f;
    fixture_init(&f, 10000);
    int64_t n = 0;
    float *out = mix_all(&f, 2, 1024, &n);
    CHECK_INT(n, 10000);
    int nz = 0;
    for (int64_t i = 0; out && i < 2 * n; i++)
        nz += out[i] != 0.0f;
    CHECK_INT(nz, 0);
    free(out);
    size_t u = add_clip(&f, 3000, 440.0, 0.0);
    add_speech(&f, u, 1234, 1.0f, 0.3f);
    f.ev[f.tl.n++] = (rp_event){.kind = RP_EV_PAUSE, .start = 5000, .end = 8000};
    out = mix_all(&f, 2, 1024, &n);
    nz = 0;
    for (int64_t i = 0; out && i < 2 * n; i++)
        nz += out[i] != 0.0f;
    CHECK_INT(nz, 0);
    free(out);
    // An empty timeline ends at once.
    fixture_deinit(&f);
    fixture_init(&f, 0);
    out = mix_all(&f, 2, 1024, &n);
    CHECK_INT(n, 0);
    free(out);
}

static void test_overlap_sums(void)
{
    fixture f;
    fixture_init(&f, 6000);
    size_t a = add_clip(&f, 2000, 440.0, 0.3), b = add_clip(&f, 2000, 660.0, 0.3);
    add_speech(&f, a, 1000, 1.0f, -1.0f);
    add_speech(&f, b, 2000, 1.0f, -1.0f);
    int64_t n = 0;
    float *out = mix_all(&f, 2, 512, &n);
    CHECK(out != NULL);
    int bad = 0;
    for (int64_t i = 0; out && i < n; i++) {
        float want = 0.0f;
        if (i >= 1000 && i < 3000)
            want += f.utts[a].clip.pcm[i - 1000];
        if (i >= 2000 && i < 4000)
            want += f.utts[b].clip.pcm[i - 2000];
        bad += fabsf(out[2 * i] - want) > 1e-6f || fabsf(out[2 * i + 1]) > 1e-6f;
    }
    CHECK_INT(bad, 0);
    free(out);
    fixture_deinit(&f);
}

// ---- effects and beds ------------------------------------------------------------------------

static rp_sfx_library LIB;
static int lib_ok;

static const rp_sfx_preset *preset(const char *name)
{
    if (!lib_ok) {
        rp_diags d;
        rp_diags_init(&d);
        rp_sfx_library_init(&LIB);
        lib_ok = rp_sfx_library_add_builtin(&LIB, &d) == RP_OK;
        CHECK_MSG(lib_ok && d.n_errors == 0, "built-in presets do not load");
        rp_diags_deinit(&d);
    }
    return rp_sfx_library_find(&LIB, name);
}

// The preset alone: n frames of interleaved stereo.
static float *render_alone(const rp_sfx_preset *p, uint64_t seed, size_t n)
{
    rp_sfx_voice *v = rp_sfx_voice_new(p, RATE, seed);
    float *x = calloc(2 * n, sizeof *x);
    if (v && x)
        rp_sfx_voice_render(v, x, n);
    rp_sfx_voice_free(v);
    return x;
}

// Any bed among the built-ins ("rain" preferred).
static const rp_sfx_preset *a_bed(void)
{
    const rp_sfx_preset *p = preset("rain");
    if (p && rp_sfx_preset_is_bed(p))
        return p;
    for (size_t i = 0; lib_ok && i < LIB.n; i++)
        if (rp_sfx_preset_is_bed(LIB.items[i]))
            return LIB.items[i];
    return NULL;
}

static void test_oneshot_placed(void)
{
    const rp_sfx_preset *p = preset("thunder");
    CHECK_MSG(p != NULL && !rp_sfx_preset_is_bed(p), "no one-shot 'thunder' preset");
    if (!p || rp_sfx_preset_is_bed(p))
        return;
    int64_t len = (int64_t)llround(rp_sfx_preset_duration_s(p) * RATE);
    CHECK(len > RATE);
    fixture f;
    fixture_init(&f, 5000 + len + 20000);
    int64_t start = 3333;
    f.ev[f.tl.n++] = (rp_event){.kind = RP_EV_SFX, .start = start, .end = start + len,
                                .preset = p, .name = "thunder", .seed = 42, .gain = 0.5f,
                                .pan = 0.25f};
    int64_t n = 0;
    float *out = mix_all(&f, 2, 1024, &n);
    float *ref = render_alone(p, 42, (size_t)len);
    CHECK(out && ref);
    if (out && ref) {
        // Balance: right of centre turns the left side down by the pan.
        float bl = 0.75f, br = 1.0f;
        int bad = 0, before = 0, after = 0;
        for (int64_t i = 0; i < len; i++) {
            bad += fabsf(out[2 * (start + i)] - ref[2 * i] * 0.5f * bl) > 1e-6f ||
                   fabsf(out[2 * (start + i) + 1] - ref[2 * i + 1] * 0.5f * br) > 1e-6f;
        }
        for (int64_t i = 0; i < start; i++)
            before += out[2 * i] != 0.0f || out[2 * i + 1] != 0.0f;
        for (int64_t i = start + len; i < n; i++)
            after += out[2 * i] != 0.0f || out[2 * i + 1] != 0.0f;
        CHECK_MSG(bad == 0, "%d frames differ from the effect rendered alone", bad);
        CHECK_INT(before, 0);
        CHECK_INT(after, 0);
        CHECK(rms(ref, (size_t)len, 2) > 1e-3);  // the effect is not silent
    }
    free(out);
    free(ref);
}

static void test_bed_fades(void)
{
    const rp_sfx_preset *p = a_bed();
    if (!p) {
        printf("  note: no bed preset among the built-ins; bed tests skipped\n");
        return;
    }
    fixture f;
    fixture_init(&f, 4 * RATE);
    int64_t start = 10007, fade_in = RATE / 2, end = 3 * RATE + 501, fade_out = RATE / 4;
    add_bed(&f, p, start, end, 7, 0.8f, fade_in, fade_out);
    int64_t n = 0;
    float *out = mix_all(&f, 2, 1024, &n);
    float *ref = render_alone(p, 7, (size_t)(end - start));
    CHECK(out && ref);
    if (!out || !ref) {
        free(out);
        free(ref);
        return;
    }
    // Sample by sample: the bed times an equal-power (quarter sine) fade in
    // and out, nothing else (no speech: no ducking).
    int bad = 0;
    for (int64_t i = 0; i < end - start; i++) {
        double x = 1.0;
        if (i < fade_in)
            x = (double)i / (double)fade_in;
        if (end - start - i < fade_out)
            x = fmin(x, (double)(end - start - i) / (double)fade_out);
        double g = 0.8 * sin(PI / 2 * x);
        for (int c = 0; c < 2; c++)
            bad += fabs(out[2 * (start + i) + c] - ref[2 * i + c] * g) > 1e-5;
    }
    CHECK_MSG(bad == 0, "%d samples depart from the faded bed", bad);
    int outside = 0;
    for (int64_t i = 0; i < 2 * n; i++)
        outside += (i / 2 < start || i / 2 >= end) && out[i] != 0.0f;
    CHECK_INT(outside, 0);
    // The fade in is audible as a rise: the first tenth is far quieter than
    // the last tenth.
    size_t w = (size_t)fade_in / 10;
    double a = rms(out + 2 * start, w, 2), b = rms(out + 2 * (start + fade_in - (int64_t)w), w, 2);
    CHECK(b > 0.0 && a < 0.3 * b);
    free(out);
    free(ref);
}

static double db(double x)
{
    return 20.0 * log10(x);
}

static void test_bed_crossfade_keeps_level(void)
{
    const rp_sfx_preset *p = a_bed();
    if (!p)
        return;
    // One bed fades out from 2 s to 3 s as another (a different seed) fades
    // in: in the middle the level is that of either alone (a linear
    // crossfade would dip 3 dB).
    fixture f;
    fixture_init(&f, 5 * RATE);
    add_bed(&f, p, 0, 3 * RATE, 11, 1.0f, 0, RATE);
    add_bed(&f, p, 2 * RATE, 5 * RATE, 12, 1.0f, RATE, 0);
    int64_t n = 0;
    float *out = mix_all(&f, 2, 1024, &n);
    if (out) {
        size_t w = RATE / 5;
        double alone = (rms(out + 2 * (RATE + RATE / 2), 2 * w, 1) +
                        rms(out + 2 * (4 * RATE), 2 * w, 1)) / 2.0;
        double mid = rms(out + 2 * (2 * RATE + RATE / 2 - (int64_t)w / 2), 2 * w, 1);
        CHECK_MSG(fabs(db(mid / alone)) < 1.0, "mid-crossfade %.2f dB", db(mid / alone));
    }
    free(out);
    fixture_deinit(&f);
}

static void test_bed_ducks_under_speech(void)
{
    const rp_sfx_preset *p = a_bed();
    if (!p)
        return;
    // Speech from 2 s to 3 s; its clip is silent so the output is the bed.
    fixture f;
    fixture_init(&f, 5 * RATE);
    add_bed(&f, p, 0, 5 * RATE, 3, 1.0f, 0, 0);
    size_t u = add_clip(&f, RATE, 440.0, 0.0);
    int64_t s0 = 2 * RATE + 123, s1 = s0 + RATE;
    add_speech(&f, u, s0, 1.0f, 0.0f);
    int64_t n = 0;
    float *out = mix_all(&f, 2, 1024, &n);
    float *ref = render_alone(p, 3, (size_t)(5 * RATE));
    CHECK(out && ref);
    if (!out || !ref) {
        free(out);
        free(ref);
        fixture_deinit(&f);
        return;
    }
    double duck = f.r.duck_db;
    // Level change in a window, mixed against alone, in dB.
    size_t w = RATE / 20;
#define CHANGE_DB(at) (db(rms(out + 2 * (at), w, 2) / rms(ref + 2 * (at), w, 2)))
    double before = CHANGE_DB(RATE), first_word = CHANGE_DB(s0), during = CHANGE_DB(s0 + RATE / 2),
           after = CHANGE_DB(s1 + RATE);
    CHECK_MSG(fabs(before) < 0.01, "bed moved by %.2f dB before any speech", before);
    CHECK_MSG(fabs(during - duck) <= 2.0, "ducked by %.2f dB, want %.2f", during, duck);
    // The duck starts ahead of the line: the first word already hears it.
    CHECK_MSG(fabs(first_word - duck) <= 2.0, "at the first word: %.2f dB", first_word);
    CHECK_MSG(fabs(after) < 0.5, "after the line the bed is at %.2f dB", after);
    // Recovery is a smooth rise, not a jump: 100 ms after the line (plus the
    // 100 ms hold) the bed is between the duck and full level.
    double rising = CHANGE_DB(s1 + RATE / 5);
    CHECK_MSG(rising > duck + 1.0 && rising < -0.5, "recovering: %.2f dB", rising);
#undef CHANGE_DB
    // A deeper duck from the cast sheet is honoured too.
    f.r.duck_db = -20.0;
    free(out);
    out = mix_all(&f, 2, 1024, &n);
    if (out) {
        double d20 = db(rms(out + 2 * (s0 + RATE / 2), w, 2) / rms(ref + 2 * (s0 + RATE / 2), w, 2));
        CHECK_MSG(fabs(d20 + 20.0) <= 2.0, "ducked by %.2f dB, want -20", d20);
    }
    free(out);
    free(ref);
    fixture_deinit(&f);
}

// Mixes f with only the given buses, stereo.
static float *mix_buses(fixture *f, unsigned buses)
{
    int64_t n;
    f->buses = buses;
    float *out = mix_all(f, 2, 1000, &n);
    f->buses = RP_BUS_ALL;
    return out;
}

static void test_background_cleared_under_voice(void)
{
    const rp_sfx_preset *p = a_bed();
    if (!p)
        return;
    // A loud bed, and a quiet line from 2 s to 3 s: over the line the bed
    // stays the clearance under it; before the line it is untouched.
    fixture f;
    fixture_init(&f, 5 * RATE);
    add_bed(&f, p, 0, 5 * RATE, 3, 4.0f, 0, 0);
    size_t u = add_clip(&f, RATE, 300.0, 0.05);
    int64_t s0 = 2 * RATE + 77;
    add_speech(&f, u, s0, 1.0f, -0.3f);
    float *speech = mix_buses(&f, RP_BUS_NARRATION), *bg = mix_buses(&f, RP_BUS_BEDS);
    float *all = mix_buses(&f, RP_BUS_ALL), *none = mix_buses(&f, RP_BUS_DIALOGUE);
    float *ref = render_alone(p, 3, (size_t)(5 * RATE));
    CHECK(speech && bg && all && none && ref);
    if (speech && bg && all && none && ref) {
        double clear = db(rms(speech + 2 * s0, 2 * RATE, 1) / rms(bg + 2 * s0, 2 * RATE, 1));
        CHECK_MSG(clear >= f.r.clearance_db, "speech over the bed: %.2f dB", clear);
        double before = db(rms(bg + RATE, RATE / 2, 1) / rms(ref + RATE, RATE / 2, 1) / 4.0);
        CHECK_MSG(fabs(before) < 0.01, "bed moved by %.2f dB before the line", before);
        double err = 0, silent = 0;
        for (int64_t i = 0; i < 2 * f.tl.n_frames; i++) {
            err = fmax(err, fabs(all[i] - speech[i] - bg[i]));
            silent = fmax(silent, fabs(none[i]));
        }
        CHECK_MSG(err < 1e-6, "buses miss the mix by %.2g", err);
        CHECK(silent == 0.0);  // no dialogue in this timeline
    }
    // clearance = 0 turns it off: the bed is only ducked.
    f.r.clearance_db = 0;
    float *off = mix_buses(&f, RP_BUS_BEDS);
    if (off && ref) {
        double d = db(rms(off + 2 * (s0 + RATE / 2), RATE / 4, 1) /
                      rms(ref + 2 * (s0 + RATE / 2), RATE / 4, 1) / 4.0);
        CHECK_MSG(fabs(d - f.r.duck_db) <= 2.0, "without clearance: %.2f dB", d);
    }
    free(off);
    free(speech);
    free(bg);
    free(all);
    free(none);
    free(ref);
    fixture_deinit(&f);
}

// A block with no effect or bed in it works out only where the ducking's
// and the clearance's gains end (nothing there uses their frames); a block
// with one works out every frame. What such blocks carry is what working
// out every frame gives: with a silent bed all along (so that every block
// has one), a bed that comes in while both gains still move after lines and
// an earlier bed is mixed to the same frames, to the bit.
static int moving_gains_fixture(fixture *f, int silent_bed)
{
    const rp_sfx_preset *p = a_bed();
    if (!p)
        return -1;
    fixture_init(f, 5 * RATE);
    if (silent_bed)
        add_bed(f, p, 0, 5 * RATE, 9, 0.0f, 0, 0);
    add_speech(f, add_clip(f, RATE, 300.0, 0.05), RATE / 2, 1.0f, 0.0f);
    add_bed(f, p, RATE, RATE + RATE / 2, 3, 4.0f, 0, 0);  // cleared under the line
    add_speech(f, add_clip(f, RATE / 2, 250.0, 0.05), 2 * RATE + 300, 1.0f, 0.2f);
    add_bed(f, p, 2 * RATE + RATE / 2 + 77, 5 * RATE, 5, 4.0f, 0, 0);
    add_speech(f, add_clip(f, RATE / 2, 200.0, 0.05), 3 * RATE + 1000, 1.0f, -0.2f);
    return 0;
}

static void test_gains_carried_through_blocks_without_background(void)
{
    fixture a, b;
    if (moving_gains_fixture(&a, 0) || moving_gains_fixture(&b, 1))
        return;
    int64_t na = 0, nb = 0;
    float *x = mix_all(&a, 2, 1024, &na), *y = mix_all(&b, 2, 1024, &nb);
    CHECK(x && y && na == nb && na == 5 * RATE);
    int64_t first = -1;
    for (int64_t i = 0; x && y && na == nb && i < 2 * na && first < 0; i++)
        if (memcmp(&x[i], &y[i], sizeof *x))
            first = i / 2;
    CHECK_MSG(first < 0, "frame %lld differs: %g against %g with a bed all along",
              (long long)first, first >= 0 ? x[2 * first] : 0.0, first >= 0 ? y[2 * first] : 0.0);
    // The late bed is ducked and cleared as it comes in (the gains moved).
    double late = x ? rms(x + 2 * (3 * RATE + 1000), RATE / 2, 2) : 0;
    printf("  %lld frames compared; the late bed under the last line: %.4f RMS\n", (long long)na,
           late);
    free(x);
    free(y);
    fixture_deinit(&a);
    fixture_deinit(&b);
}

// A built-in room into the fixture's rooms; returns its rp_event.room.
static int add_room(fixture *f, const char *name)
{
    size_t k = f->plan.n_rooms++;
    rp_diags d;
    rp_diags_init(&d);
    CHECK_INT(rp_room_load(rp_room_builtin, rp_room_n_builtin, name, &f->rooms[k], "t", 1, 1, &d),
              RP_OK);
    rp_diags_deinit(&d);
    return (int)k + 1;
}

// The frames do not depend on how the calls split them (in whole slices):
// a player mixes as far as its timeline is placed, a render in blocks. With
// rooms too: lines in a hall, the bed in a basement, a dry line after them
// while they ring.
static int ringing_fixture(fixture *f, int rooms)
{
    const rp_sfx_preset *p = a_bed();
    if (!p)
        return -1;
    fixture_init(f, 4 * RATE);
    add_bed(f, p, 0, 4 * RATE, 5, 4.0f, 0, 0);
    int hall = rooms ? add_room(f, "hall") : 0, basement = rooms ? add_room(f, "basement") : 0;
    f->ev[0].room = basement;
    f->ev[0].send = 0.5f;
    // Short lines that end and begin inside the same block.
    for (int k = 0; k < 6; k++) {
        size_t u = add_clip(f, RATE / 7 + 13 * k, 200.0 + 50 * k, 0.03 + 0.01 * k);
        add_speech(f, u, RATE / 2 + k * (RATE / 5) + 17 * k, 1.0f, 0.2f * (float)(k - 3));
        f->ev[f->tl.n - 1].room = k < 5 ? hall : 0;
        f->ev[f->tl.n - 1].send = 1.0f;
    }
    return 0;
}

static void same_frames_whatever_the_split(int rooms)
{
    fixture f;
    if (ringing_fixture(&f, rooms))
        return;
    int64_t n1, n2, n3;
    float *a = mix_all(&f, 2, 1024, &n1), *b = mix_all(&f, 2, 64, &n2), *c = mix_all(&f, 2, 320, &n3);
    CHECK(a && b && c && n1 == n2 && n2 == n3);
    double worst = 0;
    for (int64_t i = 0; a && b && c && i < 2 * n1; i++)
        worst = fmax(worst, fmax(fabs(a[i] - b[i]), fabs(a[i] - c[i])));
    CHECK_MSG(worst == 0.0, "the split moved a sample by %.3g", worst);
    free(a);
    free(b);
    free(c);
    fixture_deinit(&f);
}

static void test_same_frames_whatever_the_split(void)
{
    same_frames_whatever_the_split(0);
}

static void test_rooms_same_frames_whatever_the_split(void)
{
    same_frames_whatever_the_split(1);
}

// Checkpoints: a mixer saved mid-way, with the bed sounding, lines in the
// hall and the hall ringing, and loaded into a new one, goes on to the same
// frames to the bit; a mixer loaded saves the very bytes it was loaded from
// (so two in the same state compare equal); bytes cut short are refused.
static void test_a_saved_mixer_goes_on_to_the_bit(void)
{
    fixture f;
    if (ringing_fixture(&f, 1))
        return;
    int64_t n;
    float *whole = mix_all(&f, 2, RP_BLOCK_FRAMES, &n);
    rp_status st;
    rp_mixer *a = rp_mixer_new(&f.tl, &f.plan, &f.r, 2, &st), *b = NULL;
    float buf[RP_BLOCK_FRAMES * 2];
    const int64_t cut = 60 * RP_BLOCK_FRAMES;  // 1.28 s: the third line sounding in the hall
    while (a && rp_mixer_position(a) < cut)
        rp_mixer_process(a, buf, RP_BLOCK_FRAMES);
    rp_strbuf saved, again;
    rp_strbuf_init(&saved);
    rp_strbuf_init(&again);
    CHECK_INT(a ? rp_mixer_save(a, &saved) : RP_ERR_NOMEM, RP_OK);
    printf("  a mixer's state mid-way: %zu bytes\n", saved.len);
    b = rp_mixer_new(&f.tl, &f.plan, &f.r, 2, &st);
    rp_unpacker u = {(const unsigned char *)saved.s, saved.len, 0};
    CHECK_INT(b ? rp_mixer_load(b, &u) : RP_ERR_NOMEM, RP_OK);
    CHECK_INT((long long)u.left, 0);
    CHECK_INT(b ? rp_mixer_position(b) : -1, cut);
    CHECK_INT(b ? rp_mixer_save(b, &again) : RP_ERR_NOMEM, RP_OK);
    CHECK(again.len == saved.len && !memcmp(again.s, saved.s, saved.len));
    // Both go on: the one loaded and the one saved give the whole mix's frames.
    double worst = 0;
    for (int64_t at = cut; b && whole && at < n;) {
        float other[RP_BLOCK_FRAMES * 2];
        size_t got = rp_mixer_process(b, buf, RP_BLOCK_FRAMES);
        CHECK_INT(rp_mixer_process(a, other, RP_BLOCK_FRAMES), got);
        for (size_t i = 0; i < 2 * got; i++)
            worst = fmax(worst, fmax(fabs(buf[i] - whole[2 * at + (int64_t)i]),
                                     fabs(other[i] - whole[2 * at + (int64_t)i])));
        at += (int64_t)got;
        if (!got)
            break;
    }
    CHECK_MSG(worst == 0.0, "the loaded mixer moved a sample by %.3g", worst);
    u = (rp_unpacker){(const unsigned char *)saved.s, saved.len / 2, 0};
    CHECK(rp_mixer_load(b, &u) != RP_OK);
    rp_strbuf_deinit(&saved);
    rp_strbuf_deinit(&again);
    rp_mixer_free(a);
    rp_mixer_free(b);
    free(whole);
    fixture_deinit(&f);
}

// ---- rooms ------------------------------------------------------------------------------------

// n frames of noise through two one-pole lowpasses at 700 Hz: a source
// below the rooms' hf_reference, where rt60 holds.
static size_t add_noise_clip(fixture *f, int64_t n, double amp, uint64_t seed)
{
    size_t k = add_clip(f, n, 100.0, 0.0);
    rp_rng rng = {seed};
    double a = exp(-2.0 * PI * 700.0 / RATE), y1 = 0, y2 = 0;
    for (int64_t i = 0; f->utts[k].clip.pcm && i < n; i++) {
        y1 = (1 - a) * rp_rng_bipolar(&rng) + a * y1;
        y2 = (1 - a) * y1 + a * y2;
        f->utts[k].clip.pcm[i] = (float)(amp * 4.0 * y2);
    }
    f->utts[k].speaker = "Mira";
    f->utts[k].narration = 0;
    return k;
}

// out minus dry: what the rooms added, stereo.
static double *difference(const float *out, const float *dry, int64_t n)
{
    double *w = calloc((size_t)(2 * n), sizeof *w);
    for (int64_t i = 0; w && out && dry && i < 2 * n; i++)
        w[i] = (double)out[i] - dry[i];
    return w;
}

// Decay time from the energy of w[from..n) by Schroeder's backward
// integration: the time from -5 to -25 dB, times 3.
static double t20(const double *w, int64_t from, int64_t n)
{
    double total = 0, left = 0;
    for (int64_t i = from; i < n; i++)
        total += w[2 * i] * w[2 * i] + w[2 * i + 1] * w[2 * i + 1];
    int64_t t5 = -1, t25 = -1;
    left = total;
    for (int64_t i = from; i < n && t25 < 0 && total > 0; i++) {
        double db_left = 10 * log10(left / total);
        if (t5 < 0 && db_left <= -5)
            t5 = i;
        if (db_left <= -25)
            t25 = i;
        left -= w[2 * i] * w[2 * i] + w[2 * i + 1] * w[2 * i + 1];
    }
    return t5 >= 0 && t25 > t5 ? 3.0 * (double)(t25 - t5) / RATE : -1;
}

static double energy(const double *w, int64_t a, int64_t b)
{
    double e = 0;
    for (int64_t i = 2 * a; i < 2 * b; i++)
        e += w[i] * w[i];
    return e;
}

// A dry line, then a line in the hall: nothing after the dry one, and after
// the one in the hall an echo with the hall's decay time and level.
static void test_room_adds_a_tail(void)
{
    fixture f;
    int64_t s0 = RATE / 2, len = 3 * RATE / 10, s1 = 2 * RATE, n = s1 + len + 6 * RATE;
    fixture_init(&f, n);
    int hall = add_room(&f, "hall");
    size_t a = add_noise_clip(&f, len, 0.2, 1), b = add_noise_clip(&f, len, 0.2, 2);
    add_speech(&f, a, s0, 1.0f, 0.0f);
    add_speech(&f, b, s1, 1.0f, 0.3f);
    f.ev[1].room = hall;
    int64_t got;
    float *dry = mix_all(&f, 2, 1024, &got);
    f.ev[1].send = 1.0f;
    float *out = mix_all(&f, 2, 1024, &got);
    double *w = difference(out, dry, n);
    CHECK(out && dry && w);
    if (out && dry && w) {
        // Nothing rings after the dry line, nor before the line in the hall.
        int after_dry = 0;
        for (int64_t i = s0 + len; i < s1; i++)
            after_dry += out[2 * i] != 0.0f || out[2 * i + 1] != 0.0f;
        CHECK_INT(after_dry, 0);
        CHECK(energy(w, 0, s1) == 0.0);
        // The echo: it starts after the pre-delay, decays at the hall's rt60
        // (2.4 s; the source is below hf_reference), and holds the energy
        // of its early and late levels (-8 dB each: -5 dB together).
        double rt = t20(w, s1 + len, n);
        CHECK_MSG(rt > 0.75 * f.rooms[0].rt60_s && rt < 1.25 * f.rooms[0].rt60_s,
                  "decay time %.2f s in a room of rt60 %.2f s", rt, f.rooms[0].rt60_s);
        int64_t pre = (int64_t)(f.rooms[0].predelay_s * RATE);
        CHECK(energy(w, s1, s1 + pre - 1) < 1e-12);
        double e_dry = 0;
        for (int64_t i = 2 * s1; i < 2 * (s1 + len); i++)
            e_dry += (double)dry[i] * dry[i];
        double level = 10 * log10(energy(w, s1, n) / e_dry);
        CHECK_MSG(fabs(level - -5.0) < 3.0, "the room's echo is %.1f dB re the line", level);
        // Still ringing 2 s on; silent at the end of the timeline but for
        // the last 60 dB.
        CHECK(energy(w, s1 + len + 2 * RATE, s1 + len + 2 * RATE + RATE / 10) > 0);
        printf("  note: hall: decay %.2f s, echo %.1f dB\n", rt, level);
    }
    free(w);
    free(dry);
    free(out);
    fixture_deinit(&f);
}

// A line in the hall, then one in the street from where it ends: the hall
// goes on ringing under the street with its own decay.
static void test_tail_rings_after_room_change(void)
{
    fixture f;
    int64_t s1 = RATE / 2, len = 3 * RATE / 10, s2 = s1 + len, n = s2 + len + 5 * RATE;
    fixture_init(&f, n);
    int hall = add_room(&f, "hall"), street = add_room(&f, "street");
    size_t a = add_noise_clip(&f, len, 0.2, 3), b = add_noise_clip(&f, len, 0.2, 4);
    add_speech(&f, a, s1, 1.0f, 0.0f);
    add_speech(&f, b, s2, 1.0f, 0.0f);
    f.ev[0].room = hall;
    f.ev[1].room = street;
    f.ev[1].send = 1.0f;
    int64_t got;
    float *without = mix_all(&f, 2, 512, &got);
    f.ev[0].send = 1.0f;
    float *with = mix_all(&f, 2, 512, &got);
    double *w = difference(with, without, n);
    CHECK(w != NULL);
    if (w) {
        double under = energy(w, s2, s2 + len), later = energy(w, s2 + RATE, s2 + RATE + len);
        CHECK_MSG(under > 0 && later > 0 && later < under, "hall under the street: %g, %g later",
                  under, later);
        double rt = t20(w, s2, n);
        CHECK_MSG(rt > 0.75 * f.rooms[0].rt60_s && rt < 1.25 * f.rooms[0].rt60_s,
                  "the hall decays over %.2f s after the room changed", rt);
    }
    free(w);
    free(with);
    free(without);
    fixture_deinit(&f);
}

// ---- stems ------------------------------------------------------------------------------------

// Mixes the whole timeline with stems in calls of chunk frames: the mix
// into *mix, the stems into st[k] (allocated here).
static void mix_stems(const rp_timeline *t, const rp_plan *p, const rp_render_config *r,
                      int channels, size_t chunk, float **mix, float *st[RP_STEM_COUNT])
{
    rp_status status;
    rp_mixer *m = rp_mixer_new(t, p, r, channels, &status);
    CHECK_INT(status, RP_OK);
    size_t cap = (size_t)(t->n_frames + 1) * (size_t)channels;
    *mix = calloc(cap, sizeof **mix);
    for (int k = 0; k < RP_STEM_COUNT; k++)
        st[k] = calloc(cap, sizeof *st[k]);
    int64_t at = 0;
    size_t got = 1;
    while (m && *mix && st[RP_STEM_COUNT - 1] && got) {
        float *to[RP_STEM_COUNT];
        for (int k = 0; k < RP_STEM_COUNT; k++)
            to[k] = st[k] + at * channels;
        got = rp_mixer_process_stems(m, *mix + at * channels, to, chunk);
        at += (int64_t)got;
    }
    CHECK_INT(at, t->n_frames);
    rp_mixer_free(m);
}

static void free_stems(float *mix, float *st[RP_STEM_COUNT])
{
    free(mix);
    for (int k = 0; k < RP_STEM_COUNT; k++)
        free(st[k]);
}

// The largest |stems - mix| over n samples.
static double stems_miss(const float *mix, float *const st[RP_STEM_COUNT], size_t n)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double sum = 0;
        for (int k = 0; k < RP_STEM_COUNT; k++)
            sum += st[k][i];
        worst = fmax(worst, fabs(sum - mix[i]));
    }
    return worst;
}

// The peak of x over frames [a, b) of a channels-wide signal.
static double peak(const float *x, int channels, int64_t a, int64_t b)
{
    double m = 0;
    for (int64_t i = a * channels; i < b * channels; i++)
        m = fmax(m, fabs(x[i]));
    return m;
}

static void test_stems_add_up(void)
{
    const rp_sfx_preset *thunder = preset("thunder"), *bed = a_bed();
    if (!thunder || !bed)
        return;
    fixture f;
    int64_t n = 6 * RATE, len = RATE / 2;
    fixture_init(&f, n);
    int hall = add_room(&f, "hall"), basement = add_room(&f, "basement");
    // The narrator (dry) 0.2-0.7 s; a line in the hall 1.0-1.5 s; thunder in
    // the hall from 2 s; a bed in the basement from 3 s.
    size_t nar = add_noise_clip(&f, len, 0.2, 5), dlg = add_noise_clip(&f, len, 0.2, 6);
    f.utts[nar].narration = 1;
    f.utts[nar].speaker = "Narrator";
    add_speech(&f, nar, RATE / 5, 1.0f, 0.0f);
    add_speech(&f, dlg, RATE, 1.0f, -0.4f);
    f.ev[1].room = hall;
    f.ev[1].send = 1.0f;
    int64_t th = 2 * RATE, tl = (int64_t)llround(rp_sfx_preset_duration_s(thunder) * RATE);
    f.ev[f.tl.n++] = (rp_event){.kind = RP_EV_SFX,
                                .start = th,
                                .end = th + tl,
                                .preset = thunder,
                                .name = "thunder",
                                .seed = 9,
                                .gain = 0.5f,
                                .room = hall,
                                .send = 1.0f};
    add_bed(&f, bed, 3 * RATE, n, 4, 0.5f, RATE / 2, 0);
    f.ev[f.tl.n - 1].room = basement;
    f.ev[f.tl.n - 1].send = 0.5f;
    for (int channels = 1; channels <= 2; channels++) {
        float *mix, *st[RP_STEM_COUNT];
        mix_stems(&f.tl, &f.plan, &f.r, channels, 960, &mix, st);  // whole slices
        int64_t got;
        float *plain = mix_all(&f, channels, 1024, &got);
        if (!mix || !st[RP_STEM_COUNT - 1] || !plain) {
            free_stems(mix, st);
            free(plain);
            continue;
        }
        size_t samples = (size_t)n * (size_t)channels;
        // The mix is the same with stems or without; the stems add up to it.
        CHECK(memcmp(mix, plain, samples * sizeof *mix) == 0);
        double miss = stems_miss(mix, st, samples);
        CHECK_MSG(miss < 1e-6, "%d channels: stems miss the mix by %.3g", channels, miss);
        // Each holds its own: the narrator is dry, so narration is silent but
        // for its line; dialogue starts with its line and rings on in the
        // hall; effects start with the thunder; beds with the bed (before
        // it, the rest of the hall's echo is rounding only).
        float *const *S = st;
        CHECK(peak(S[RP_STEM_NARRATION], channels, RATE / 5, RATE / 5 + len) > 0.01);
        CHECK(peak(S[RP_STEM_NARRATION], channels, RATE / 5 + len, n) == 0.0);
        CHECK(peak(S[RP_STEM_DIALOGUE], channels, 0, RATE) == 0.0);
        CHECK(peak(S[RP_STEM_DIALOGUE], channels, RATE, RATE + len) > 0.01);
        CHECK(peak(S[RP_STEM_DIALOGUE], channels, RATE + len, RATE + len + RATE / 2) > 1e-3);
        CHECK(peak(S[RP_STEM_EFFECTS], channels, 0, th) == 0.0);
        CHECK(peak(S[RP_STEM_EFFECTS], channels, th, th + RATE / 2) > 0.01);
        double early = peak(S[RP_STEM_BEDS], channels, 0, 3 * RATE);
        CHECK_MSG(early < 1e-6, "beds stem before the bed: %.3g", early);
        CHECK(peak(S[RP_STEM_BEDS], channels, 4 * RATE, 5 * RATE) > 0.01);
        // One stem is the mix of its bus alone (the room fed that bus only).
        if (channels == 2) {
            float *solo = mix_buses(&f, RP_BUS_DIALOGUE);
            double d = 0;
            for (size_t i = 0; solo && i < samples; i++)
                d = fmax(d, fabs(solo[i] - S[RP_STEM_DIALOGUE][i]));
            CHECK_MSG(solo && d < 1e-6, "dialogue stem vs the dialogue bus: %.3g", d);
            free(solo);
        }
        free_stems(mix, st);
        free(plain);
    }
    fixture_deinit(&f);
}

// ---- a voiced chapter -------------------------------------------------------------------------

static rp_status voice_chapter(const char *path, rp_drama *dr)
{
    rp_diags d;
    rp_diags_init(&d);
    rp_drama_options o = {.chapter_path = path, .seed = -1};
    rp_status st = rp_drama_load(dr, &o, &d);
    st = st ? st : rp_drama_voice(dr, NULL, NULL, NULL, &d);
    st = st ? st : rp_drama_clips_load_all(dr, &d);
    for (size_t i = 0; i < d.n; i++) {
        char line[1024];
        fprintf(stderr, "%s\n", rp_diag_format(&d.items[i], line, sizeof line));
    }
    rp_diags_deinit(&d);
    return st;
}

// 1 when the narrator speaks in [a, b) of the timeline.
static int narrator_in(const rp_drama *dr, int64_t a, int64_t b)
{
    for (size_t i = 0; i < dr->timeline.n; i++) {
        const rp_event *e = &dr->timeline.ev[i];
        if (e->kind == RP_EV_SPEECH && dr->plan.utts[e->utt].narration && e->start < b &&
            e->end > a)
            return 1;
    }
    return 0;
}

// The stems of a voiced chapter add up to its mix; where only dialogue
// speaks, the narration stem is silent and the dialogue stem is not.
static void check_chapter_stems(const char *path, int want_rooms)
{
    rp_drama dr;
    if (voice_chapter(path, &dr) != RP_OK) {
        CHECK_MSG(0, "%s does not load and voice", path);
        rp_drama_deinit(&dr);
        return;
    }
    CHECK_INT(dr.plan.n_rooms, want_rooms);
    const rp_timeline *t = &dr.timeline;
    int ch = dr.cast.render.channels;
    float *mix, *st[RP_STEM_COUNT];
    mix_stems(t, &dr.plan, &dr.cast.render, ch, RP_BLOCK_FRAMES, &mix, st);
    if (mix && st[RP_STEM_COUNT - 1]) {
        double miss = stems_miss(mix, st, (size_t)t->n_frames * (size_t)ch);
        CHECK_MSG(miss < 1e-4, "%s: stems miss the mix by %.3g", path, miss);
        int lines = 0;
        for (size_t i = 0; i < t->n; i++) {
            const rp_event *e = &t->ev[i];
            if (e->kind != RP_EV_SPEECH || dr.plan.utts[e->utt].narration ||
                narrator_in(&dr, e->start, e->end))
                continue;
            lines++;
            CHECK_MSG(peak(st[RP_STEM_NARRATION], ch, e->start, e->end) == 0.0,
                      "%s: narration under '%s'", path, dr.plan.utts[e->utt].text);
            CHECK(peak(st[RP_STEM_DIALOGUE], ch, e->start, e->end) > 0.01);
        }
        CHECK(lines >= 3);
    }
    free_stems(mix, st);
    rp_drama_deinit(&dr);
}

static void test_chapter_stems(void)
{
    check_chapter_stems("tests/data/wall.txt", 0);
    // The same chapter in rooms: the wall is a street, the second scene a
    // tunnel with a wetter echo.
    FILE *in = fopen("tests/data/wall.txt", "rb");
    char *text = calloc(1 << 16, 1);
    if (in && text && fread(text, 1, (1 << 16) - 1, in) == 0)
        text[0] = '\0';
    if (in)
        fclose(in);
    const char *brk = text ? strstr(text, "* * *\n") : NULL;
    char path[] = "/tmp/radioplay-rooms-XXXXXX";
    int fd = mkstemp(path);
    FILE *out = fd >= 0 ? fdopen(fd, "wb") : NULL;
    CHECK(brk && out);
    if (brk && out) {
        int at = (int)(brk - text) + 6;
        fprintf(out, "{room street}\n\n%.*s\n{room tunnel wet=-6}\n%s", at, text, text + at);
        fclose(out);
        check_chapter_stems(path, 2);
    } else if (out) {
        fclose(out);
    } else if (fd >= 0) {
        close(fd);
    }
    if (fd >= 0)
        unlink(path);
    free(text);
}

int main(void)
{
    RUN(test_pan_law);
    RUN(test_length_and_start);
    RUN(test_pan_and_gain);
    RUN(test_mono_unity);
    RUN(test_silence);
    RUN(test_overlap_sums);
    RUN(test_oneshot_placed);
    RUN(test_bed_fades);
    RUN(test_bed_ducks_under_speech);
    RUN(test_bed_crossfade_keeps_level);
    RUN(test_background_cleared_under_voice);
    RUN(test_gains_carried_through_blocks_without_background);
    RUN(test_same_frames_whatever_the_split);
    RUN(test_rooms_same_frames_whatever_the_split);
    RUN(test_a_saved_mixer_goes_on_to_the_bit);
    RUN(test_room_adds_a_tail);
    RUN(test_tail_rings_after_room_change);
    RUN(test_stems_add_up);
    RUN(test_chapter_stems);
    if (lib_ok)
        rp_sfx_library_deinit(&LIB);
    return TEST_SUMMARY("test_mix");
}
