// SPDX-License-Identifier: GPL-3.0-or-later
// Mastering. The meter wraps libebur128 (BS.1770 K-weighting, gating,
// loudness range, 4x true peak) and adds the plain RMS and noise floor the
// ACX rules use. The limiter works on 64-frame chunks with two chunks of
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp_config.h"

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
    float bound;             // largest |interpolated| / largest |sample| the filter allows
    float phase[OVER][2 * HALF + 1];  // phase[p][i]: weight of x[t + i - HALF] in x(t + p/4)
    float win[3 * CHUNK * 2];  // three chunks: emitting, middle, collecting
    float out[CHUNK * 2];      // the limited chunk being emitted
    size_t fill;               // frames collected in the third chunk (and emitted from out)
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
    design_interpolator(m);
    return m;
}

void rp_master_free(rp_master *m)
{
    free(m);
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

// The gain the middle chunk needs: ceiling over its true peak, or 1.
static float middle_need(const rp_master *m)
{
    int ch = m->channels;
    const float *w = m->win;
    float sample_peak = 0.0f;
    for (size_t i = (size_t)(CHUNK - HALF) * ch; i < (size_t)(2 * CHUNK + HALF) * ch; i++) {
        float a = fabsf(w[i]);
        sample_peak = a > sample_peak ? a : sample_peak;
    }
    // Nothing the interpolator can make of these samples reaches the ceiling.
    if (sample_peak * m->bound <= m->ceiling)
        return 1.0f;
    float peak = sample_peak;
    for (int c = 0; c < ch; c++) {
        // One channel around the middle chunk, contiguous, so that the
        // loops below run over t and vectorize.
        float x[CHUNK + 2 * HALF + 1], y[CHUNK];
        for (int t = 0; t < CHUNK + 2 * HALF + 1; t++)
            x[t] = w[(size_t)(CHUNK - HALF + t) * ch + c];
        for (int p = 1; p < OVER; p++) {
            for (int t = 0; t < CHUNK; t++)
                y[t] = 0.0f;
            for (int i = 0; i <= 2 * HALF; i++) {
                float k = m->phase[p][i];
                for (int t = 0; t < CHUNK; t++)
                    y[t] += k * x[t + i];
            }
            for (int t = 0; t < CHUNK; t++) {
                float a = fabsf(y[t]);
                peak = a > peak ? a : peak;
            }
        }
    }
    return peak > m->ceiling ? m->ceiling / peak : 1.0f;
}

// The third chunk is complete: limit the first into out, with the middle
// one as look-ahead, and move the window on by a chunk.
static void step(rp_master *m)
{
    float need_next = middle_need(m);
    float target = m->need_mid < need_next ? m->need_mid : need_next;
    if (target > m->gain + m->release_step)
        target = m->gain + m->release_step;
    int ch = m->channels;
    float g0 = m->gain, dg = (target - g0) / CHUNK;
    for (int i = 0; i < CHUNK; i++) {
        float g = g0 + dg * (float)(i + 1);
        for (int c = 0; c < ch; c++) {
            float y = m->win[i * ch + c] * g;
            // Rounding in the ramp can leave a hair over the ceiling.
            m->out[i * ch + c] = y > m->ceiling ? m->ceiling : y < -m->ceiling ? -m->ceiling : y;
        }
    }
    m->gain = target;
    m->need_mid = need_next;
    memmove(m->win, m->win + CHUNK * ch, sizeof(float) * 2 * CHUNK * (size_t)ch);
}

void rp_master_process(rp_master *m, float *io, size_t n)
{
    int ch = m->channels;
    float *in = m->win + 2 * CHUNK * ch;
    for (size_t i = 0; i < n; i++) {
        for (int c = 0; c < ch; c++) {
            float x = io[i * (size_t)ch + (size_t)c] * m->pre_gain;
            io[i * (size_t)ch + (size_t)c] = m->out[m->fill * (size_t)ch + (size_t)c];
            in[m->fill * (size_t)ch + (size_t)c] = x;
        }
        if (++m->fill == CHUNK) {
            step(m);
            m->fill = 0;
        }
    }
}

// ---- the meter -----------------------------------------------------------------

enum { FLOOR_BLOCKS = 5 };  // 100 ms blocks per noise-floor window

struct rp_meter {
    ebur128_state *st;
    int channels, peaks;
    int64_t frames;
    double sum_sq;                   // every sample, for the RMS
    int64_t block_frames, in_block;  // 100 ms blocks for the floor
    double block_sq, ring[FLOOR_BLOCKS];
    float sample_peak;
    int64_t blocks;
    double floor_sq;                 // smallest window mean so far (< 0: none yet)
};

rp_meter *rp_meter_new(int channels, int rate_hz, int peaks)
{
    if (channels < 1 || channels > 2 || rate_hz <= 0)
        return NULL;
    rp_meter *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    int mode = EBUR128_MODE_I | EBUR128_MODE_HISTOGRAM;
    if (peaks)
        mode |= EBUR128_MODE_LRA | EBUR128_MODE_TRUE_PEAK;
    m->st = ebur128_init((unsigned)channels, (unsigned long)rate_hz, mode);
    if (!m->st) {
        free(m);
        return NULL;
    }
    m->channels = channels;
    m->peaks = peaks;
    m->block_frames = rate_hz / 10;
    m->floor_sq = -1.0;
    return m;
}

void rp_meter_free(rp_meter *m)
{
    if (!m)
        return;
    ebur128_destroy(&m->st);
    free(m);
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
    if (m->floor_sq < 0 || mean < m->floor_sq)
        m->floor_sq = mean;
}

rp_status rp_meter_add(rp_meter *m, const float *frames, size_t n)
{
    if (ebur128_add_frames_float(m->st, frames, n) != EBUR128_SUCCESS)
        return RP_ERR_NOMEM;
    int ch = m->channels;
    for (size_t i = 0; i < n; i++) {
        double sq = 0;
        for (int c = 0; c < ch; c++) {
            float x = frames[i * (size_t)ch + (size_t)c];
            sq += (double)x * x;
            m->sample_peak = fabsf(x) > m->sample_peak ? fabsf(x) : m->sample_peak;
        }
        m->sum_sq += sq;
        m->block_sq += sq;
        if (++m->in_block == m->block_frames)
            end_block(m);
    }
    m->frames += (int64_t)n;
    return RP_OK;
}

static double power_db(double mean_sq)
{
    return mean_sq > 0 ? 10.0 * log10(mean_sq) : -HUGE_VAL;
}

static double amp_db(double a)
{
    return a > 0 ? 20.0 * log10(a) : -HUGE_VAL;
}

void rp_meter_result(const rp_meter *m, rp_loudness *out)
{
    memset(out, 0, sizeof *out);
    out->frames = m->frames;
    double x = -HUGE_VAL;
    if (ebur128_loudness_global(m->st, &x) != EBUR128_SUCCESS || !isfinite(x))
        x = -HUGE_VAL;
    out->integrated_lufs = x;
    out->range_lu = out->true_peak_dbtp = NAN;
    out->sample_peak_dbfs = amp_db(m->sample_peak);
    if (m->peaks) {
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
    out->rms_db = samples ? power_db(m->sum_sq / (double)samples) : -HUGE_VAL;
    // Shorter than one window: the floor is the whole thing's RMS.
    out->floor_db = m->floor_sq >= 0 ? power_db(m->floor_sq) : out->rms_db;
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
