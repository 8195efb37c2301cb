// SPDX-License-Identifier: GPL-3.0-or-later
// Mastering. The meter measures BS.1770 integrated loudness itself (see
// below), leaves the loudness range and 4x true peak to libebur128 when
// they are asked for, and adds the plain RMS and noise floor the ACX rules
// use. The limiter works on 64-frame chunks with two chunks of
// look-ahead and one being emitted (rp_master_latency). Each chunk's need (the gain that keeps
// its true peak under the ceiling) is found by interpolating it 4x with a
// 49-tap windowed sinc, the way BS.1770 Annex 2 measures true peak; the
// interpolation looks six samples either side, which the chunks around it
// provide. The gain for a chunk is the smallest gain needed by it and the
// chunk after it, and moves linearly across the chunk from the previous
// chunk's value: both ends of that ramp are at most what the chunk needs,
// so no peak, between samples or on them, passes the ceiling. Release is a
// linear rise capped per chunk.
#include "rp_master.h"

#include <ebur128.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_config.h"
#include "rp_vec.h"

// ---- the limiter ---------------------------------------------------------------

enum {
    CHUNK = 64,
    OVER = 4,               // oversampling factor
    HALF = 6,               // the interpolator reaches this many samples either side
    TAPS = 2 * HALF * OVER + 1,
};

struct rp_master {
    int channels;
    float ceiling;
    float pre_gain;
    float gain;              // gain reached at the end of the last chunk
    float release_step;      // largest gain rise per chunk
    float need_mid;          // gain needed by the middle chunk
    float peak_mid, peak_in; // the largest |sample| of the middle chunk, of the third so far
    float bound;             // largest |interpolated| / largest |sample| the filter allows
    float ramp[CHUNK * 2];   // ramp[i]: the frame of sample i in a chunk, from 1
    float phase[OVER][2 * HALF + 1];  // phase[p][i]: weight of x[t + i - HALF] in x(t + p/4)
    float win[3 * CHUNK * 2];  // three chunks, a ring: emitting, middle, collecting
    int first;                 // the emitting chunk's place in win (the others follow)
    float out[CHUNK * 2];      // the limited chunk being emitted
    size_t fill;               // frames collected in the third chunk (and emitted from out)
    int64_t stepped;           // chunks limited (the first two: the look-ahead's silence)
    // Not saved (rp_master_save stops here): rp_master_track's record.
    unsigned char *untouched;  // [c]: chunk c of the mix came out times the gain alone
    size_t n_untouched;
};

static void design_interpolator(rp_master *m)
{
    // Windowed sinc at the 4x rate, cut off at the original Nyquist
    // frequency; each phase is scaled to unit DC gain.
    double h[TAPS];
    for (int k = 0; k < TAPS; k++) {
        double t = (double)(k - HALF * OVER) / OVER;
        double sinc = t == 0 ? 1.0 : sin(M_PI * t) / (M_PI * t);
        double w = 0.5 + 0.5 * cos(M_PI * (k - HALF * OVER) / (HALF * OVER + 1));
        h[k] = sinc * w;
    }
    m->bound = 1.0f;
    for (int p = 0; p < OVER; p++) {
        double sum = 0, abs_sum = 0;
        for (int i = 0; i <= 2 * HALF; i++) {
            // x(t + p/4) = sum_j h[4j + p] x[t + HALF - j]; i = HALF - j + HALF.
            int j = 2 * HALF - i, k = OVER * j + p;
            double c = k < TAPS ? h[k] : 0.0;
            m->phase[p][i] = (float)c;
            sum += c;
        }
        for (int i = 0; i <= 2 * HALF; i++) {
            m->phase[p][i] = (float)(m->phase[p][i] / sum);
            abs_sum += fabs(m->phase[p][i]);
        }
        if (abs_sum > m->bound)
            m->bound = (float)abs_sum;
    }
}

rp_master *rp_master_new(int channels, int rate_hz, double ceiling_db)
{
    if (channels < 1 || channels > 2 || rate_hz <= 0)
        return NULL;
    rp_master *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->channels = channels;
    m->ceiling = (float)rp_db_to_gain(ceiling_db - RP_LIMITER_MARGIN_DB);
    m->pre_gain = 1.0f;
    m->gain = 1.0f;
    m->need_mid = 1.0f;
    m->release_step = (float)CHUNK / (float)(RP_LIMITER_RELEASE_S * rate_hz);
    for (int i = 0; i < CHUNK * channels; i++)
        m->ramp[i] = (float)(i / channels + 1);
    design_interpolator(m);
    return m;
}

void rp_master_free(rp_master *m)
{
    if (m)
        free(m->untouched);
    free(m);
}

rp_status rp_master_track(rp_master *m, int64_t frames)
{
    size_t n = frames > 0 ? (size_t)((frames + CHUNK - 1) / CHUNK) : 0;
    unsigned char *u = calloc(n ? n : 1, 1);
    if (!u)
        return RP_ERR_NOMEM;
    free(m->untouched);
    m->untouched = u;
    m->n_untouched = n;
    return RP_OK;
}

void rp_master_set_gain(rp_master *m, double gain_db)
{
    m->pre_gain = (float)rp_db_to_gain(gain_db);
}

int64_t rp_master_latency(const rp_master *m)
{
    (void)m;
    return 3 * CHUNK;
}

void rp_master_save(const rp_master *m, rp_strbuf *out)
{
    rp_strbuf_append(out, (const char *)m, offsetof(rp_master, untouched));
}

rp_status rp_master_load(rp_master *m, rp_unpacker *in)
{
    rp_master *c = malloc(sizeof *c);
    if (!c)
        return RP_ERR_NOMEM;
    rp_unpack(in, c, offsetof(rp_master, untouched));
    int bad = in->bad || c->channels != m->channels || c->fill >= CHUNK || c->first < 0 ||
              c->first > 2;
    rp_status st = bad ? RP_ERR_FORMAT : RP_OK;
    if (!st)
        memcpy(m, c, offsetof(rp_master, untouched));
    free(c);
    return st;
}

// The gain the middle chunk needs: ceiling over its true peak, or 1.
//
// An interpolated value is at most bound times the largest sample the
// interpolator reaches (with room here for rounding), so a group of GROUP
// values is worked out only when the samples near it could pass both the
// ceiling and the peak found so far: the largest of the values computed is
// the largest of them all whenever it matters, to the bit.
enum { GROUP = 8, QUAD = 4, QUADS = (CHUNK + 2 * HALF) / QUAD };
_Static_assert(GROUP == 8 && QUAD == 4, "a group's values are two vectors, a quad one");
_Static_assert(CHUNK % GROUP == 0 && GROUP % QUAD == 0 && 2 * HALF % QUAD == 0,
               "a group's reach is whole quads");

// Chunk k of the window (0: emitting, 1: middle, 2: collecting).
static float *chunk_at(const rp_master *m, int k)
{
    return (float *)m->win + (size_t)((m->first + k) % 3) * CHUNK * (size_t)m->channels;
}

static float middle_need(const rp_master *m)
{
    int ch = m->channels;
    const float *e = chunk_at(m, 0), *mid = chunk_at(m, 1), *next = chunk_at(m, 2);
    // The middle chunk's largest sample was taken as it came in (exchange):
    // only the HALF frames either side are looked at here.
    float before = rp_peak(e + (size_t)(CHUNK - HALF) * ch, (size_t)HALF * ch);
    float after = rp_peak(next, (size_t)HALF * ch);
    float sample_peak = before > after ? before : after;
    sample_peak = m->peak_mid > sample_peak ? m->peak_mid : sample_peak;
    // Nothing the interpolator can make of these samples reaches the ceiling.
    if (sample_peak * m->bound <= m->ceiling)
        return 1.0f;
    float peak = sample_peak, reach = m->bound * 1.0001f;
    for (int c = 0; c < ch; c++) {
        // One channel around the middle chunk, contiguous, so that the
        // loops below run over t and vectorize.
        float x[CHUNK + 2 * HALF], near[QUADS];
        for (int t = 0; t < HALF; t++)
            x[t] = e[(size_t)(CHUNK - HALF + t) * ch + c];
        for (int t = 0; t < CHUNK; t++)
            x[HALF + t] = mid[(size_t)t * ch + c];
        for (int t = 0; t < HALF; t++)
            x[HALF + CHUNK + t] = next[(size_t)t * ch + c];
        for (int q = 0; q < QUADS; q++) {
            v4f v;
            memcpy(&v, x + q * QUAD, sizeof v);
            near[q] = rp_vec_top(rp_vec_abs(v), 0.0f);
        }
        for (int g = 0; g < CHUNK; g += GROUP) {
            // Values g..g+GROUP-1 reach x[g .. g + GROUP - 1 + 2 HALF].
            float most = 0.0f;
            for (int q = g / QUAD; q < (g + GROUP + 2 * HALF) / QUAD; q++)
                most = near[q] > most ? near[q] : most;
            if (most * reach <= (peak > m->ceiling ? peak : m->ceiling))
                continue;
            // The group's values in two vectors kept in registers (as an
            // array they made a chain through memory), each summed tap by
            // tap in the same order.
            v4f top = {peak, peak, peak, peak};
            for (int p = 1; p < OVER; p++) {
                v4f y0 = {0}, y1 = {0};
                for (int i = 0; i <= 2 * HALF; i++) {
                    float k = m->phase[p][i];
                    v4f kv = {k, k, k, k}, a, b;
                    memcpy(&a, x + g + i, sizeof a);
                    memcpy(&b, x + g + i + 4, sizeof b);
                    y0 += kv * a;
                    y1 += kv * b;
                }
                top = rp_vec_larger(rp_vec_larger(top, rp_vec_abs(y0)), rp_vec_abs(y1));
            }
            peak = rp_vec_top(top, peak);
        }
    }
    return peak > m->ceiling ? m->ceiling / peak : 1.0f;
}

// out[i] = x[i] times the gain g0 + dg * ramp[i], held within +-ceiling
// (rounding in the ramp can leave a hair over it).
static void apply_ramp(float *restrict out, const float *restrict x, const float *restrict ramp,
                       float g0, float dg, float ceiling, size_t n)
{
    size_t n8 = n & ~(size_t)7, i;
    for (i = 0; i < n8; i++) {
        float y = x[i] * (g0 + dg * ramp[i]);
        y = y > ceiling ? ceiling : y;
        out[i] = y < -ceiling ? -ceiling : y;
    }
    for (; i < n; i++) {
        float y = x[i] * (g0 + dg * ramp[i]);
        y = y > ceiling ? ceiling : y;
        out[i] = y < -ceiling ? -ceiling : y;
    }
}

// The third chunk is complete: limit the first into out, with the middle
// one as look-ahead, and move the window on by a chunk (the ring turns:
// the first chunk's place takes the next chunk in).
static void step(rp_master *m)
{
    float need_next = middle_need(m);
    float target = m->need_mid < need_next ? m->need_mid : need_next;
    if (target > m->gain + m->release_step)
        target = m->gain + m->release_step;
    size_t ch = (size_t)m->channels;
    float g0 = m->gain, dg = (target - g0) / CHUNK;
    // (A constant count, which GCC needs to vectorize the loop once inlined.)
    if (ch == 2)
        apply_ramp(m->out, chunk_at(m, 0), m->ramp, g0, dg, m->ceiling, 2 * CHUNK);
    else
        apply_ramp(m->out, chunk_at(m, 0), m->ramp, g0, dg, m->ceiling, CHUNK);
    // The chunk limited here is the mix's chunk stepped - 2 (the first two
    // are the silence the look-ahead starts with).
    if (m->stepped >= 2 && (uint64_t)(m->stepped - 2) < m->n_untouched)
        m->untouched[m->stepped - 2] = g0 == 1.0f && target == 1.0f;
    m->stepped++;
    m->gain = target;
    m->need_mid = need_next;
    m->first = (m->first + 1) % 3;
    m->peak_mid = m->peak_in;
    m->peak_in = 0.0f;
}

// Four samples of io, times gain, into in, and four of out into io; the
// magnitudes put into in.
static inline v4f scale_in(float *restrict io, float *restrict in, const float *restrict out,
                           v4f gain)
{
    v4f x, o;
    memcpy(&x, io, sizeof x);
    memcpy(&o, out, sizeof o);
    x *= gain;
    memcpy(in, &x, sizeof x);
    memcpy(io, &o, sizeof o);
    return rp_vec_abs(x);
}

// n samples of io, times g, into in; as many limited ones from out into io.
// Returns the largest magnitude put into in, or peak when that is larger
// (a NaN is passed over, as rp_peak does).
static float exchange(float *restrict io, float *restrict in, const float *restrict out, float g,
                      size_t n, float peak)
{
    const v4f gain = {g, g, g, g};
    // Four running maxima (as rp_peak keeps), so that each compare waits on
    // the one four vectors back.
    v4f t0 = {peak, peak, peak, peak}, t1 = {0}, t2 = {0}, t3 = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        v4f a = scale_in(io + i, in + i, out + i, gain);
        v4f b = scale_in(io + i + 4, in + i + 4, out + i + 4, gain);
        v4f c = scale_in(io + i + 8, in + i + 8, out + i + 8, gain);
        v4f e = scale_in(io + i + 12, in + i + 12, out + i + 12, gain);
        t0 = rp_vec_larger(t0, a);
        t1 = rp_vec_larger(t1, b);
        t2 = rp_vec_larger(t2, c);
        t3 = rp_vec_larger(t3, e);
    }
    peak = rp_vec_top(rp_vec_larger(rp_vec_larger(t0, t1), rp_vec_larger(t2, t3)), peak);
    for (; i < n; i++) {
        in[i] = io[i] * g;
        io[i] = out[i];
        float a = fabsf(in[i]);
        peak = a > peak ? a : peak;
    }
    return peak;
}

void rp_master_process(rp_master *m, float *io, size_t n)
{
    size_t ch = (size_t)m->channels;
    while (n > 0) {
        float *in = chunk_at(m, 2);
        size_t k = CHUNK - m->fill < n ? CHUNK - m->fill : n;
        m->peak_in = exchange(io, in + m->fill * ch, m->out + m->fill * ch, m->pre_gain, k * ch,
                              m->peak_in);
        io += k * ch;
        n -= k;
        if ((m->fill += k) == CHUNK) {
            step(m);
            m->fill = 0;
        }
    }
}

// ---- the meter -----------------------------------------------------------------
//
// Integrated loudness after ITU-R BS.1770-4, measured here (libebur128 runs
// only for the loudness range and the true peak, which cost more than the
// rest). Each channel is K-weighted: a high shelf, then the RLB high-pass,
// two biquads designed for any rate by the bilinear transform from
// libebur128's analogue prototypes, which gives the standard's table at
// 48 kHz. Mean squares over 400 ms blocks every 100 ms (75% overlap) are
// summed over the channels (weight 1 for left and right), gated at -70 LUFS
// and then 10 LU under the mean of the blocks that passed. Memory stays
// bounded: the blocks go into a histogram of 0.01 LU bins that keeps each
// bin's count and exact energy sum, so that only blocks within 0.01 LU of
// the relative gate can be misjudged (tests/test_master.c holds it to
// libebur128's exact figure within 0.05 LU).

enum {
    MAX_CH = 2,
    HIST_FLOOR_LUFS = -70,  // the absolute gate
    HIST_TOP_LUFS = 30,     // louder blocks share the top bin
    HIST_PER_LU = 100,
    HIST_BINS = (HIST_TOP_LUFS - HIST_FLOOR_LUFS) * HIST_PER_LU,
    FLOOR_BLOCKS = 5,       // 100 ms blocks per noise-floor window
};

typedef struct {
    double b0, b1, b2, a1, a2;
} biquad;

// The sums a meter gathers, kept apart from its filters' state (see
// rp_meter_fold).
typedef struct {
    uint32_t hist_n[HIST_BINS];  // the gated blocks' loudness
    double hist_e[HIST_BINS];
    double sum_sq;               // every sample, for the RMS
    float sample_peak;
    double floor_sq;             // smallest window mean so far (< 0: none yet)
} meter_acc;

struct rp_meter {
    ebur128_state *st;  // RP_METER_PEAKS or RP_METER_REFERENCE only
    int channels, flags;
    int fused;  // its filters use fused multiply-adds (kweight)
    int64_t frames;
    // Loudness.
    biquad kw[2];                 // the shelf, the high-pass
    double z[MAX_CH][2][4];       // [channel][biquad]: direct form I state
    int64_t step_frames, in_step; // 100 ms steps (rounded as libebur128 does)
    double step_sum, steps[4];    // weighted energy of the step being summed; the last four
    double step_sq;               // the step's squared samples and peak (rp_meter_keep)
    float step_peak;
    int64_t n_steps;
    double gate_abs;              // the energy of -70 LUFS
    // The ACX figures.
    int64_t block_frames, in_block;  // 100 ms blocks for the floor
    double block_sq, ring[FLOOR_BLOCKS];
    int64_t blocks;
    // What it has summed: since the last rp_meter_fold, and before.
    meter_acc seg, all;
    // Not saved: the steps it keeps for another meter (rp_meter_keep), or
    // another meter's steps it follows (rp_meter_follow, below).
    rp_meter_steps *keep;
    const rp_meter_steps *follow;
    const rp_master *ms;          // whose record tells which steps to take
    float gain;                   // the limiter's gain, and its square
    double gain2;
    int64_t every, lat, total;    // where the state is saved (every - lat on); frames in all
    float *held, *prev;           // the step in progress, and the one before it
    const float *before;          // the frames of the step before (prev's or the caller's)
    int live;                     // the step in progress is measured as it comes
    int fresh;                    // the filters ran through the step before
    size_t taken, ended;          // steps taken, of those it ended following
};

// A step as a meter kept it: its K-weighted energy, squared samples and
// peak (all channels).
typedef struct {
    double e, sq;
    float peak;
    int set;
} step_rec;

struct rp_meter_steps {
    step_rec *s;
    size_t n;
    int64_t step_frames;
};

static void kweight_design(biquad kw[2], double rate_hz)
{
    // The shelf: +4 dB above about 1.7 kHz, the head's effect.
    double f0 = 1681.974450955533, gain_db = 3.999843853973347, q = 0.7071752369554196;
    double k = tan(M_PI * f0 / rate_hz);
    double vh = pow(10.0, gain_db / 20.0), vb = pow(vh, 0.4996667741545416);
    double a0 = 1.0 + k / q + k * k;
    kw[0] = (biquad){(vh + vb * k / q + k * k) / a0, 2.0 * (k * k - vh) / a0,
                     (vh - vb * k / q + k * k) / a0, 2.0 * (k * k - 1.0) / a0,
                     (1.0 - k / q + k * k) / a0};
    // The revised low-frequency B curve: a second-order high-pass at 38 Hz.
    f0 = 38.13547087602444;
    q = 0.5003270373238773;
    k = tan(M_PI * f0 / rate_hz);
    a0 = 1.0 + k / q + k * k;
    kw[1] = (biquad){1.0, -2.0, 1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0};
}

// K-weighting is two direct form I biquads in a row, each sum ordered so
// that only the a1 y[n-1] and a2 y[n-2] terms wait on earlier outputs. The
// high-pass reads the shelf's output, so its x[n-1], x[n-2] are the shelf's
// y[n-1], y[n-2] (z[c][1][0..1] always equals z[c][0][2..3]), a history
// kept once here; and its b0 = 1, b1 = -2, b2 = 1 are taken as such.
//
// Where the processor has fused multiply-adds (x86-64's FMA3, and those
// that always have them), each product is added in the same instruction,
// rounded once: a step's wait on the last output is one fused
// multiply-add (4 cycles) where it was a product and a sum (6 to 8), and
// the meter takes a third less time (57 -> 40 ms over chapter 000's 24 M
// frames). The two ways differ by rounding only (the sums by about 1e-15
// of themselves); which one a process uses is fixed when it starts
// (rp_meter_fused), so every meter in it, and so every pass of a render,
// makes the same bits.
//
// Both channels of a stereo frame go through in one vector (GCC's vector
// extension), in half the instructions; other channel counts one at a
// time, in a vector's first lane, by the same arithmetic to the bit.

#if defined(__x86_64__) && defined(__GNUC__)
#define FUSED_TARGET __attribute__((target("fma")))
#define FUSED_HERE __builtin_cpu_supports("fma")
#elif defined(__FP_FAST_FMA)
#define FUSED_TARGET
#define FUSED_HERE 1
#else
#define FUSED_TARGET
#define FUSED_HERE 0
#endif

int rp_meter_fused(void)
{
    return FUSED_HERE != 0;
}

#define ALWAYS_INLINE static inline __attribute__((always_inline))

typedef struct {
    v2d b0, b1, b2, a1, a2;
} biquad2;

typedef struct {
    v2d x1, x2;  // x[n-1], x[n-2]
    v2d y1, y2;  // the shelf's y[n-1], y[n-2], the high-pass's x[n-1], x[n-2]
    v2d h1, h2;  // the high-pass's y[n-1], y[n-2]
} kstate2;

// a b + c, rounded once (an instruction where the function it is inlined
// into targets fused multiply-adds).
ALWAYS_INLINE v2d fma2(v2d a, v2d b, v2d c)
{
    return (v2d){__builtin_fma(a[0], b[0], c[0]), __builtin_fma(a[1], b[1], c[1])};
}

ALWAYS_INLINE v2d kweight_step2(const biquad2 *p, const biquad2 *h, kstate2 *s, v2d v,
                                int fused)
{
    v2d y, g;
    if (fused) {
        const v2d minus2 = {-2.0, -2.0};
        y = fma2(p->b2, s->x2, fma2(p->b1, s->x1, p->b0 * v));
        y = fma2(-p->a1, s->y1, fma2(-p->a2, s->y2, y));
        g = fma2(-h->a1, s->h1, fma2(-h->a2, s->h2, fma2(minus2, s->y1, y + s->y2)));
    } else {
        y = ((p->b0 * v + p->b1 * s->x1) + (p->b2 * s->x2 - p->a2 * s->y2)) - p->a1 * s->y1;
        g = ((y - 2.0 * s->y1) + (s->y2 - h->a2 * s->h2)) - h->a1 * s->h1;
    }
    s->x2 = s->x1;
    s->x1 = v;
    s->y2 = s->y1;
    s->y1 = y;
    s->h2 = s->h1;
    s->h1 = g;
    return g;
}

static biquad2 widen(const biquad *c)
{
    return (biquad2){{c->b0, c->b0}, {c->b1, c->b1}, {c->b2, c->b2},
                     {c->a1, c->a1}, {c->a2, c->a2}};
}

// K-weights n frames of ch interleaved channels, returning the sum of the
// squared weighted samples over all of them; adds the sum of the squared
// samples themselves to *sq and takes their largest magnitude into *peak.
// One channel at a time, for any channel count.
ALWAYS_INLINE double kweight_plain(const biquad kw[2], double z[][2][4], const float *x,
                                   size_t n, int ch, double *sq, float *peak, int fused)
{
    biquad2 p = widen(&kw[0]), h = widen(&kw[1]);
    double e = 0;
    for (int c = 0; c < ch; c++) {
        kstate2 st = {{z[c][0][0]}, {z[c][0][1]}, {z[c][0][2]},
                      {z[c][0][3]}, {z[c][1][2]}, {z[c][1][3]}};
        double ec = 0, sc = 0;
        float pk = *peak;
        for (size_t i = 0; i < n; i++) {
            float v = x[i * (size_t)ch + (size_t)c], a = fabsf(v);
            double y = kweight_step2(&p, &h, &st, (v2d){v, 0.0}, fused)[0];
            ec += y * y;
            sc += (double)v * v;
            pk = a > pk ? a : pk;
        }
        double zc[2][4] = {{st.x1[0], st.x2[0], st.y1[0], st.y2[0]},
                           {st.y1[0], st.y2[0], st.h1[0], st.h2[0]}};
        memcpy(z[c], zc, sizeof zc);
        e += ec;
        *sq += sc;
        *peak = pk;
    }
    return e;
}

// z[c][b][j] of both channels in one vector.
static v2d zpair(double z[][2][4], int b, int j)
{
    return (v2d){z[0][b][j], z[1][b][j]};
}

// Stereo: both channels at once, two frames at a time, whose four samples
// give the peak in one vector too.
ALWAYS_INLINE double kweight_stereo(const biquad kw[2], double z[][2][4], const float *x,
                                    size_t n, double *sq, float *peak, int fused)
{
    biquad2 p = widen(&kw[0]), h = widen(&kw[1]);
    kstate2 st = {zpair(z, 0, 0), zpair(z, 0, 1), zpair(z, 0, 2),
                  zpair(z, 0, 3), zpair(z, 1, 2), zpair(z, 1, 3)};
    v2d e = {0.0, 0.0}, s = {0.0, 0.0};
    // The peak's lanes are left, right, left, right.
    v4f pk = {*peak, *peak, *peak, *peak};
    size_t i = 0;
    for (; i + 2 <= n; i += 2) {
        v4f q;
        memcpy(&q, x + 2 * i, sizeof q);
        pk = rp_vec_larger(pk, rp_vec_abs(q));
        v2d v0 = {x[2 * i], x[2 * i + 1]}, v1 = {x[2 * i + 2], x[2 * i + 3]};
        v2d y0 = kweight_step2(&p, &h, &st, v0, fused);
        v2d y1 = kweight_step2(&p, &h, &st, v1, fused);
        e = (e + y0 * y0) + y1 * y1;
        s = (s + v0 * v0) + v1 * v1;
    }
    float pl = pk[0] > pk[2] ? pk[0] : pk[2], pr = pk[1] > pk[3] ? pk[1] : pk[3];
    if (i < n) {
        float al = fabsf(x[2 * i]), ar = fabsf(x[2 * i + 1]);
        v2d v = {x[2 * i], x[2 * i + 1]}, y = kweight_step2(&p, &h, &st, v, fused);
        e += y * y;
        s += v * v;
        pl = al > pl ? al : pl;
        pr = ar > pr ? ar : pr;
    }
    *sq += s[0] + s[1];
    *peak = pl > pr ? pl : pr;
    v2d zs[2][4] = {{st.x1, st.x2, st.y1, st.y2}, {st.y1, st.y2, st.h1, st.h2}};
    for (int c = 0; c < 2; c++)
        for (int j = 0; j < 8; j++)
            z[c][j / 4][j % 4] = zs[j / 4][j % 4][c];
    return e[0] + e[1];
}

static double kweight_unfused(rp_meter *m, const float *x, size_t n, double *sq, float *peak)
{
    if (m->channels == 2)
        return kweight_stereo(m->kw, m->z, x, n, sq, peak, 0);
    return kweight_plain(m->kw, m->z, x, n, m->channels, sq, peak, 0);
}

FUSED_TARGET static double kweight_fused(rp_meter *m, const float *x, size_t n, double *sq,
                                         float *peak)
{
    if (m->channels == 2)
        return kweight_stereo(m->kw, m->z, x, n, sq, peak, 1);
    return kweight_plain(m->kw, m->z, x, n, m->channels, sq, peak, 1);
}

static double kweight(rp_meter *m, const float *x, size_t n, double *sq, float *peak)
{
    return m->fused ? kweight_fused(m, x, n, sq, peak) : kweight_unfused(m, x, n, sq, peak);
}

// Frames in a 100 ms loudness step (rounded as libebur128 does).
static int64_t step_frames_at(int rate_hz)
{
    return (rate_hz + 5) / 10;
}

rp_meter *rp_meter_new(int channels, int rate_hz, int flags)
{
    if (channels < 1 || channels > MAX_CH || rate_hz <= 0)
        return NULL;
    rp_meter *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    if (flags & (RP_METER_PEAKS | RP_METER_REFERENCE)) {
        int mode = 0;
        if (flags & RP_METER_PEAKS)
            mode |= EBUR128_MODE_LRA | EBUR128_MODE_TRUE_PEAK;
        // The reference keeps every block, as the histogram would round them.
        mode |= flags & RP_METER_REFERENCE ? EBUR128_MODE_I : EBUR128_MODE_HISTOGRAM;
        m->st = ebur128_init((unsigned)channels, (unsigned long)rate_hz, mode);
        if (!m->st) {
            free(m);
            return NULL;
        }
    }
    m->channels = channels;
    m->flags = flags;
    m->fused = rp_meter_fused() && !(flags & RP_METER_UNFUSED);
    kweight_design(m->kw, rate_hz);
    m->step_frames = step_frames_at(rate_hz);
    m->gate_abs = pow(10.0, (HIST_FLOOR_LUFS + 0.691) / 10.0);
    m->block_frames = rate_hz / 10;
    m->seg.floor_sq = m->all.floor_sq = -1.0;
    return m;
}

void rp_meter_free(rp_meter *m)
{
    if (!m)
        return;
    if (m->st)
        ebur128_destroy(&m->st);
    free(m->held);
    free(m->prev);
    free(m);
}

static double energy_to_lufs(double e)
{
    return 10.0 * log10(e) - 0.691;
}

// The histogram bin of a block's energy (e >= the absolute gate).
static size_t hist_bin(double e)
{
    double b = floor((energy_to_lufs(e) - HIST_FLOOR_LUFS) * HIST_PER_LU);
    return b < 0 ? 0 : b >= HIST_BINS - 1 ? HIST_BINS - 1 : (size_t)b;
}

// Room in s for step j, the steps added unset. A meter following s on
// another thread needs it made long enough first (rp_meter_steps_room):
// then it never moves.
static int steps_room(rp_meter_steps *s, size_t j)
{
    size_t cap = s->n;
    if (j < s->n)
        return 1;
    if (rp_grow((void **)&s->s, &cap, j + 1, sizeof *s->s))
        return 0;
    memset(s->s + s->n, 0, (cap - s->n) * sizeof *s->s);
    s->n = cap;
    return 1;
}

// A 100 ms step is complete: the 400 ms block ending with it is gated.
static void end_step(rp_meter *m)
{
    rp_meter_steps *k = m->keep;
    if (k && m->n_steps >= 0 && steps_room(k, (size_t)m->n_steps))
        k->s[m->n_steps] = (step_rec){m->step_sum, m->step_sq, m->step_peak, 1};
    m->step_sq = 0;
    m->step_peak = 0.0f;
    m->steps[m->n_steps++ % 4] = m->step_sum;
    m->step_sum = 0;
    m->in_step = 0;
    // A decaying filter would reach subnormal numbers in long silence.
    for (int c = 0; c < m->channels; c++)
        for (int j = 0; j < 8; j++) {
            double *s = &m->z[c][j / 4][j % 4];
            *s = fabs(*s) < 1e-30 ? 0.0 : *s;
        }
    if (m->n_steps < 4)
        return;
    double e = (m->steps[0] + m->steps[1] + m->steps[2] + m->steps[3]) /
               (double)(4 * m->step_frames);
    if (!(e >= m->gate_abs))
        return;
    size_t b = hist_bin(e);
    m->seg.hist_n[b]++;
    m->seg.hist_e[b] += e;
}

static void end_block(rp_meter *m)
{
    m->ring[m->blocks % FLOOR_BLOCKS] = m->block_sq;
    m->blocks++;
    m->block_sq = 0;
    m->in_block = 0;
    if (m->blocks < FLOOR_BLOCKS)
        return;
    double sum = 0;
    for (int i = 0; i < FLOOR_BLOCKS; i++)
        sum += m->ring[i];
    double mean = sum / (double)(FLOOR_BLOCKS * m->block_frames * m->channels);
    if (m->seg.floor_sq < 0 || mean < m->seg.floor_sq)
        m->seg.floor_sq = mean;
}

// Adds n frames' figures (at most to the end of the step): K-weighted
// energy e, squared samples sq and peak; ends the step and the block when
// they are whole.
static void add_span(rp_meter *m, double e, double sq, float peak, size_t n)
{
    m->step_sum += e;
    m->seg.sum_sq += sq;
    m->block_sq += sq;
    m->step_sq += sq;
    m->step_peak = peak > m->step_peak ? peak : m->step_peak;
    m->seg.sample_peak = peak > m->seg.sample_peak ? peak : m->seg.sample_peak;
    m->in_step += (int64_t)n;
    m->in_block += (int64_t)n;
    if (m->in_step == m->step_frames)
        end_step(m);
    if (m->in_block == m->block_frames)
        end_block(m);
}

// Measures n frames (at most to the end of the step).
static void measure(rp_meter *m, const float *x, size_t n)
{
    double sq = 0;
    float peak = 0.0f;
    double e = kweight(m, x, n, &sq, &peak);
    add_span(m, e, sq, peak, n);
}

static void add_following(rp_meter *m, const float *frames, size_t n);

rp_status rp_meter_add(rp_meter *m, const float *frames, size_t n)
{
    if (m->st && ebur128_add_frames_float(m->st, frames, n) != EBUR128_SUCCESS)
        return RP_ERR_NOMEM;
    if (m->follow) {
        add_following(m, frames, n);
        m->frames += (int64_t)n;
        return RP_OK;
    }
    size_t ch = (size_t)m->channels;
    // In spans that end where a loudness step or a floor block does.
    for (size_t i = 0; i < n;) {
        size_t k = n - i;
        if ((size_t)(m->step_frames - m->in_step) < k)
            k = (size_t)(m->step_frames - m->in_step);
        if ((size_t)(m->block_frames - m->in_block) < k)
            k = (size_t)(m->block_frames - m->in_block);
        measure(m, frames + i * ch, k);
        i += k;
    }
    m->frames += (int64_t)n;
    return RP_OK;
}

// ---- following another meter ------------------------------------------------------
//
// A render measures its mix in one pass (or beside the limiter in the same
// one), then writes it into the file times the gain, through the limiter,
// measuring what it writes. Wherever the limiter's own gain stays 1, the
// file's samples are the mix's times the gain, to a float's rounding, and
// K-weighting is linear: the file's meter can take such a step's figures
// from the mix's meter, scaled by the gain (its energy and squares by the
// square), instead of filtering it again: 85% of chapter 000's steps.
//
// The filters remember the samples before a step: a step is taken when
// the limiter left it and the step before it alone (the high-pass, a
// double pole at 0.995, keeps 2e-7 of what came before that). Taken steps
// leave the filters behind, so before a step measured after a taken one
// they start from rest and run through the step before it, its figures
// dropped. Which steps those are, the limiter says as it goes (in its
// record, rp_master_track), so a step is decided once all its frames are
// in: until then they are held. Around each point where a checkpoint saves
// the meter's state, the steps are measured as they come, so that the
// state saved is the filters' own with nothing held, the same in a render
// that goes on from it; the steps after the point read nothing of the
// limiter's record from before it.

rp_meter_steps *rp_meter_steps_new(int rate_hz)
{
    rp_meter_steps *s = calloc(1, sizeof *s);
    if (s)
        s->step_frames = rate_hz > 0 ? step_frames_at(rate_hz) : 1;
    return s;
}

rp_status rp_meter_steps_room(rp_meter_steps *s, int64_t frames)
{
    return frames <= 0 || steps_room(s, (size_t)(frames / s->step_frames)) ? RP_OK
                                                                            : RP_ERR_NOMEM;
}

void rp_meter_steps_free(rp_meter_steps *s)
{
    if (s)
        free(s->s);
    free(s);
}

void rp_meter_keep(rp_meter *m, rp_meter_steps *s)
{
    m->keep = s && s->step_frames == m->step_frames ? s : NULL;
}

rp_status rp_meter_follow(rp_meter *m, const rp_meter_steps *s, const rp_master *ms,
                          int64_t every, int64_t total)
{
    m->follow = NULL;
    int64_t S = m->step_frames;
    if (m->st || !s || !s->n || s->step_frames != S || m->block_frames != S ||
        ms->channels != m->channels || !ms->untouched)
        return RP_OK;
    size_t bytes = (size_t)S * (size_t)m->channels * sizeof(float);
    if (!m->held)
        m->held = malloc(bytes);
    if (!m->prev)
        m->prev = malloc(bytes);
    if (!m->held || !m->prev)
        return RP_ERR_NOMEM;
    m->follow = s;
    m->ms = ms;
    m->gain = ms->pre_gain;
    m->gain2 = (double)ms->pre_gain * (double)ms->pre_gain;
    m->every = every;
    m->lat = rp_master_latency(ms);
    m->total = total;
    m->before = NULL;
    m->live = 1;
    m->fresh = 1;
    m->taken = m->ended = 0;
    return RP_OK;
}

size_t rp_meter_taken(const rp_meter *m, size_t *steps)
{
    if (steps)
        *steps = m->ended;
    return m->taken;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

// Step j is measured as it comes: the last (a part), or one that, with
// the step before it, lies near a point where the state is saved (from a
// step before it to two chunks after, the limiter's chunks there limited
// before the point). Where the frames are, not what another thread has
// done yet, decides it: the same steps in every render.
static int forced(const rp_meter *m, int64_t j)
{
    int64_t S = m->step_frames;
    if ((j + 1) * S > m->total || j < 0)
        return 1;
    if (m->every <= 0)
        return 0;
    int64_t a = (j - 1) * S, b = (j + 1) * S;  // the two steps
    // The first point after a - 2 CHUNK; the window around it, [P - S, P + 2 CHUNK).
    int64_t k = floor_div(a - 2 * CHUNK + m->lat, m->every) + 1;
    int64_t p = (k < 1 ? 1 : k) * m->every - m->lat;
    return p < b + S;
}

// The limiter left step j alone (the steps before the first, silence, too).
static int untouched(const rp_meter *m, int64_t j)
{
    if (j < 0)
        return 1;
    int64_t S = m->step_frames;
    size_t c0 = (size_t)(j * S / CHUNK), c1 = (size_t)(((j + 1) * S - 1) / CHUNK);
    if (c1 >= m->ms->n_untouched)
        return 0;
    for (size_t c = c0; c <= c1; c++)
        if (!m->ms->untouched[c])
            return 0;
    return 1;
}

// The filters from rest through the step before (its figures dropped).
static void warm_up(rp_meter *m)
{
    memset(m->z, 0, sizeof m->z);
    double sq = 0;
    float peak = 0.0f;
    if (m->before)
        kweight(m, m->before, (size_t)m->step_frames, &sq, &peak);
    m->fresh = 1;
}

// A whole step, held or in the caller's frames, decided. By the time its
// frames are all in, the mix's meter has kept it, unless it never saw it (a
// stretch a pass before this one took from the checkpoints): measured.
static void decide(rp_meter *m, const float *x)
{
    int64_t j = m->n_steps;
    size_t S = (size_t)m->step_frames;
    int kept = (size_t)j < m->follow->n && m->follow->s[j].set;
    m->ended++;
    m->in_step = m->in_block = 0;  // (counting the frames held)
    if (kept && untouched(m, j - 1) && untouched(m, j)) {
        const step_rec *r = &m->follow->s[j];
        add_span(m, m->gain2 * r->e, m->gain2 * r->sq, r->peak * m->gain, S);
        m->taken++;
        m->fresh = 0;
    } else {
        if (!m->fresh)
            warm_up(m);
        measure(m, x, S);
    }
    m->before = x;
}

static void add_following(rp_meter *m, const float *frames, size_t n)
{
    size_t ch = (size_t)m->channels, S = (size_t)m->step_frames;
    const float *callers = NULL;  // the last step decided in place
    for (size_t i = 0; i < n;) {
        if (m->in_step == 0) {
            m->live = forced(m, m->n_steps);
            if (m->live && !m->fresh)
                warm_up(m);
        }
        size_t at = (size_t)m->in_step, k = n - i < S - at ? n - i : S - at;
        const float *x = frames + i * ch;
        if (m->live) {
            measure(m, x, k);
            m->ended += m->in_step == 0;
        } else if (at == 0 && k == S) {
            decide(m, x);  // in place
            callers = x;
        } else {
            memcpy(m->held + at * ch, x, k * ch * sizeof *x);
            m->in_step += (int64_t)k;
            m->in_block += (int64_t)k;
            if ((size_t)m->in_step == S) {
                decide(m, m->held);
                float *t = m->prev;  // the held step is the one before now
                m->prev = m->held;
                m->held = t;
            }
        }
        i += k;
    }
    // The step before, when it is the caller's, copied: the frames go.
    if (callers && m->before == callers) {
        memcpy(m->prev, m->before, S * ch * sizeof *frames);
        m->before = m->prev;
    }
}

// The gated mean of the histogram's blocks.
// The integrated loudness of the blocks in a and b together (a meter's
// folded sums and those of its segment), added as acc_fold adds them.
static double integrated_lufs(const rp_meter *m, const meter_acc *a, const meter_acc *b)
{
    double sum = 0;
    uint64_t count = 0;
    for (size_t k = 0; k < HIST_BINS; k++) {
        count += a->hist_n[k] + b->hist_n[k];
        sum += a->hist_e[k] + b->hist_e[k];
    }
    if (!count)
        return -HUGE_VAL;
    // The relative gate, 10 LU under the mean. Its own bin counts when the
    // mean of the blocks in it passes.
    double gate = sum / (double)count * 0.1;
    size_t from = gate >= m->gate_abs ? hist_bin(gate) : 0;
    sum = 0;
    count = 0;
    for (size_t k = from; k < HIST_BINS; k++) {
        uint32_t n = a->hist_n[k] + b->hist_n[k];
        double e = a->hist_e[k] + b->hist_e[k];
        if (k == from && e < gate * (double)n)
            continue;
        count += n;
        sum += e;
    }
    return count ? energy_to_lufs(sum / (double)count) : -HUGE_VAL;
}

static double power_db(double mean_sq)
{
    return mean_sq > 0 ? 10.0 * log10(mean_sq) : -HUGE_VAL;
}

static double amp_db(double a)
{
    return a > 0 ? 20.0 * log10(a) : -HUGE_VAL;
}

// Two sets of sums' peak and quietest window (< 0: none) together.
static float peak_of(const meter_acc *a, const meter_acc *b)
{
    return b->sample_peak > a->sample_peak ? b->sample_peak : a->sample_peak;
}

static double floor_of(const meter_acc *a, const meter_acc *b)
{
    return b->floor_sq >= 0 && (a->floor_sq < 0 || b->floor_sq < a->floor_sq) ? b->floor_sq
                                                                               : a->floor_sq;
}

// into gets from's sums, as a fold does.
static void acc_fold(meter_acc *into, const meter_acc *from)
{
    for (size_t b = 0; b < HIST_BINS; b++) {
        into->hist_n[b] += from->hist_n[b];
        into->hist_e[b] += from->hist_e[b];
    }
    into->sum_sq += from->sum_sq;
    into->sample_peak = peak_of(into, from);
    into->floor_sq = floor_of(into, from);
}

static void acc_clear(meter_acc *a)
{
    memset(a, 0, sizeof *a);
    a->floor_sq = -1.0;
}

void rp_meter_fold(rp_meter *m, rp_strbuf *delta)
{
    if (delta) {
        // Sparse: the bins this stretch filled.
        uint32_t n = 0;
        for (size_t b = 0; b < HIST_BINS; b++)
            n += m->seg.hist_n[b] != 0;
        rp_strbuf_append(delta, (const char *)&n, sizeof n);
        for (size_t b = 0; b < HIST_BINS; b++) {
            if (!m->seg.hist_n[b])
                continue;
            uint32_t bn[2] = {(uint32_t)b, m->seg.hist_n[b]};
            rp_strbuf_append(delta, (const char *)bn, sizeof bn);
            rp_strbuf_append(delta, (const char *)&m->seg.hist_e[b], sizeof(double));
        }
        double sums[3] = {m->seg.sum_sq, m->seg.sample_peak, m->seg.floor_sq};
        rp_strbuf_append(delta, (const char *)sums, sizeof sums);
    }
    acc_fold(&m->all, &m->seg);
    acc_clear(&m->seg);
}

rp_status rp_meter_unfold(rp_meter *m, rp_unpacker *delta)
{
    meter_acc *a = malloc(sizeof *a);
    if (!a)
        return RP_ERR_NOMEM;
    acc_clear(a);
    uint32_t n;
    rp_unpack(delta, &n, sizeof n);
    for (uint32_t i = 0; i < n && !delta->bad; i++) {
        uint32_t bn[2];
        double e;
        rp_unpack(delta, bn, sizeof bn);
        rp_unpack(delta, &e, sizeof e);
        if (bn[0] >= HIST_BINS)
            delta->bad = 1;
        else
            a->hist_n[bn[0]] = bn[1], a->hist_e[bn[0]] = e;
    }
    double sums[3];
    rp_unpack(delta, sums, sizeof sums);
    a->sum_sq = sums[0];
    a->sample_peak = (float)sums[1];
    a->floor_sq = sums[2];
    if (!delta->bad)
        acc_fold(&m->all, a);
    free(a);
    return delta->bad ? RP_ERR_FORMAT : RP_OK;
}

// The filters' state and the counts: everything but the sums.
void rp_meter_save(const rp_meter *m, rp_strbuf *out)
{
    rp_strbuf_append(out, (const char *)m, offsetof(rp_meter, seg));
}

rp_status rp_meter_load(rp_meter *m, rp_unpacker *in)
{
    if (m->st)
        return RP_ERR_USAGE;
    rp_meter *c = malloc(sizeof *c);
    if (!c)
        return RP_ERR_NOMEM;
    rp_unpack(in, c, offsetof(rp_meter, seg));
    // The counts index its rings and end its steps and blocks: in range.
    rp_status st = in->bad || c->channels != m->channels || c->flags != m->flags || c->st ||
                           c->step_frames != m->step_frames || c->in_step < 0 ||
                           c->in_step >= c->step_frames || c->block_frames != m->block_frames ||
                           c->in_block < 0 || c->in_block >= c->block_frames ||
                           c->n_steps < 0 || c->blocks < 0
                       ? RP_ERR_FORMAT
                       : RP_OK;
    if (!st)
        memcpy(m, c, offsetof(rp_meter, seg));
    free(c);
    // A following meter goes on from a point where nothing was held: its
    // step measured as it comes.
    m->before = NULL;
    m->live = m->fresh = 1;
    return st;
}

void rp_meter_result(const rp_meter *m, rp_loudness *out)
{
    memset(out, 0, sizeof *out);
    out->frames = m->frames;
    // The folded sums and the segment's, together, as rp_meter_fold would
    // leave them (read where they are: no copy to allocate, or fail).
    const meter_acc *a = &m->all, *g = &m->seg;
    out->integrated_lufs = integrated_lufs(m, a, g);
    if (m->flags & RP_METER_REFERENCE) {
        double x = -HUGE_VAL;
        if (ebur128_loudness_global(m->st, &x) != EBUR128_SUCCESS || !isfinite(x))
            x = -HUGE_VAL;
        out->integrated_lufs = x;
    }
    out->range_lu = out->true_peak_dbtp = NAN;
    out->sample_peak_dbfs = amp_db(peak_of(a, g));
    if (m->flags & RP_METER_PEAKS) {
        double lra = 0, tp = 0, v;
        if (ebur128_loudness_range(m->st, &lra) != EBUR128_SUCCESS)
            lra = NAN;
        for (int c = 0; c < m->channels; c++) {
            if (ebur128_true_peak(m->st, (unsigned)c, &v) == EBUR128_SUCCESS && v > tp)
                tp = v;
        }
        out->range_lu = lra;
        out->true_peak_dbtp = amp_db(tp);
    }
    int64_t samples = m->frames * m->channels;
    out->rms_db = samples ? power_db((a->sum_sq + g->sum_sq) / (double)samples) : -HUGE_VAL;
    double floor_sq = floor_of(a, g);
    // Shorter than one window: the floor is the whole thing's RMS.
    out->floor_db = floor_sq >= 0 ? power_db(floor_sq) : out->rms_db;
}

// ---- targets and compliance ----------------------------------------------------

double rp_master_default_lufs(int channels)
{
    return channels == 1 ? RP_LOUDNESS_MONO_LUFS : RP_LOUDNESS_LUFS;
}

double rp_master_gain_db(const rp_master_target *t, const rp_loudness *l)
{
    double have = t->norm == RP_NORM_LUFS ? l->integrated_lufs
                  : t->norm == RP_NORM_ACX ? l->rms_db
                                           : -HUGE_VAL;
    double want = t->norm == RP_NORM_LUFS ? t->target_lufs : RP_ACX_RMS_DB;
    return isfinite(have) ? want - have : 0.0;
}

double rp_master_gain_round(double gain_db)
{
    return (double)llround(gain_db / RP_GAIN_STEP_DB) * RP_GAIN_STEP_DB;
}

static void add_check(rp_loudness_check *out, size_t *n, const char *what, double value,
                      const char *unit, int pass, const char *rule)
{
    rp_loudness_check *k = &out[(*n)++];
    k->what = what;
    k->value = value;
    k->unit = unit;
    k->pass = pass;
    snprintf(k->rule, sizeof k->rule, "%s", rule ? rule : "");
}

size_t rp_loudness_checks(const rp_master_target *t, const rp_loudness *l,
                          rp_loudness_check out[RP_LOUDNESS_CHECKS_MAX])
{
    size_t n = 0;
    char rule[48];
    double lo = t->target_lufs - RP_LOUDNESS_TOLERANCE_LU;
    double hi = t->target_lufs + RP_LOUDNESS_TOLERANCE_LU;
    int acx = t->norm == RP_NORM_ACX;
    snprintf(rule, sizeof rule, "%.1f to %.1f", lo, hi);
    if (t->norm == RP_NORM_LUFS)
        add_check(out, &n, "integrated", l->integrated_lufs, "LUFS",
                  l->integrated_lufs >= lo && l->integrated_lufs <= hi, rule);
    else
        add_check(out, &n, "integrated", l->integrated_lufs, "LUFS", -1, NULL);
    add_check(out, &n, "range", l->range_lu, "LU", -1, NULL);
    snprintf(rule, sizeof rule, "at most %.1f", t->ceiling_dbtp);
    add_check(out, &n, "true peak", l->true_peak_dbtp, "dBTP",
              acx ? -1 : l->true_peak_dbtp <= t->ceiling_dbtp, acx ? NULL : rule);
    snprintf(rule, sizeof rule, "at most %.0f", RP_ACX_PEAK_DB);
    add_check(out, &n, "peak", l->sample_peak_dbfs, "dBFS",
              acx ? l->sample_peak_dbfs <= RP_ACX_PEAK_DB : -1, acx ? rule : NULL);
    snprintf(rule, sizeof rule, "%.0f to %.0f", RP_ACX_RMS_MIN_DB, RP_ACX_RMS_MAX_DB);
    add_check(out, &n, "RMS", l->rms_db, "dB",
              acx ? l->rms_db >= RP_ACX_RMS_MIN_DB && l->rms_db <= RP_ACX_RMS_MAX_DB : -1,
              acx ? rule : NULL);
    snprintf(rule, sizeof rule, "at most %.0f", RP_ACX_FLOOR_DB);
    add_check(out, &n, "noise floor", l->floor_db, "dB",
              acx ? l->floor_db <= RP_ACX_FLOOR_DB : -1, acx ? rule : NULL);
    return n;
}
