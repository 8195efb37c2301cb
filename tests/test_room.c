// SPDX-License-Identifier: GPL-3.0-or-later
// Rooms: every preset in sfx/rooms parses; parse errors are located; the
// reverb's decay time, measured from its impulse response (Schroeder
// backward integration, T30 in the 500 Hz octave), matches the preset's
// rt60; early and late levels match the preset; a 30 s noise burst neither
// grows nor rings past the tail; the tail of a mono source is decorrelated
// between left and right; output is deterministic and independent of the
// block size (the late reverb's and the early reflections' alone); a reverb
// reports itself idle once it has rung out. The built-in table holds sfx/rooms as
// it is on disk, and the effects library holds it with user rooms over it.
#include <stdlib.h>
#include <string.h>

#include "rp_room.h"
#include "rp_sfx.h"
#include "test.h"
#include "wav.h"

enum { RATE = 48000 };

static const char *const room_names[] = {"street", "hall",       "basement",
                                         "tunnel", "open_field", "none"};
enum { N_ROOMS = sizeof room_names / sizeof room_names[0] };

static int load_file_room(const char *name, rp_room_preset *p)
{
    char path[256];
    snprintf(path, sizeof path, "sfx/rooms/%s.room", name);
    char *text = read_text(path);
    if (!text) {
        fprintf(stderr, "cannot read %s (run from the repository root)\n", path);
        return 0;
    }
    rp_diags d;
    rp_diags_init(&d);
    rp_status st = rp_room_parse(name, path, text, strlen(text), p, &d);
    for (size_t i = 0; i < d.n; i++) {
        char buf[512];
        fprintf(stderr, "%s\n", rp_diag_format(&d.items[i], buf, sizeof buf));
    }
    rp_diags_deinit(&d);
    free(text);
    return st == RP_OK;
}

// ---- measuring ------------------------------------------------------------------

// The wet impulse response: a unit impulse on both channels, interleaved
// stereo, tail_frames + pad long.
static float *impulse_response(const rp_room_preset *p, int rate, int64_t *n_out)
{
    rp_reverb *r = rp_reverb_new(p, rate);
    CHECK(r != NULL);
    if (!r)
        return NULL;
    int64_t n = rp_reverb_tail_frames(r) + rate / 5;
    float *x = calloc((size_t)n * 2, sizeof(float));
    x[0] = x[1] = 1.0f;
    for (int64_t at = 0; at < n; at += 1000) {
        size_t k = n - at < 1000 ? (size_t)(n - at) : 1000;
        rp_reverb_process(r, x + 2 * at, x + 2 * at, k);
    }
    rp_reverb_free(r);
    *n_out = n;
    return x;
}

typedef struct {
    double b0, b1, b2, a1, a2, x1, x2, y1, y2;
} bq;

static bq rbj(int high, double f, int rate)
{
    double w0 = 2 * M_PI * f / rate, c = cos(w0), al = sin(w0) / (2 * M_SQRT1_2), a0 = 1 + al;
    bq b = {0};
    b.b0 = b.b2 = (high ? (1 + c) : (1 - c)) / 2 / a0;
    b.b1 = (high ? -(1 + c) : (1 - c)) / a0;
    b.a1 = -2 * c / a0;
    b.a2 = (1 - al) / a0;
    return b;
}

static double bq_step(bq *b, double x)
{
    double y = b->b0 * x + b->b1 * b->x1 + b->b2 * b->x2 - b->a1 * b->y1 - b->a2 * b->y2;
    b->x2 = b->x1;
    b->x1 = x;
    b->y2 = b->y1;
    b->y1 = y;
    return y;
}

// Channel ch of interleaved stereo x through the octave band lo..hi Hz
// (two Butterworth highpasses and two lowpasses), into a new array.
static double *octave(const float *x, int ch, int64_t n, int rate, double lo, double hi)
{
    double *y = malloc(sizeof(double) * (size_t)n);
    bq f[4] = {rbj(1, lo, rate), rbj(1, lo, rate), rbj(0, hi, rate), rbj(0, hi, rate)};
    for (int64_t i = 0; i < n; i++) {
        double v = x[2 * i + ch];
        for (int k = 0; k < 4; k++)
            v = bq_step(&f[k], v);
        y[i] = v;
    }
    return y;
}

// Reverberation time by ISO 3382: Schroeder's backward-integrated energy
// decay curve, a least-squares line through its -5..-35 dB part, T30 = the
// time that line takes to fall 60 dB.
static double t30(const double *y, int64_t n, int rate)
{
    double *edc = malloc(sizeof(double) * (size_t)n);
    double acc = 0;
    for (int64_t i = n - 1; i >= 0; i--) {
        acc += y[i] * y[i];
        edc[i] = acc;
    }
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int64_t k = 0, i5 = -1, i35 = -1;
    for (int64_t i = 0; i < n; i++) {
        double db = 10 * log10(edc[i] / edc[0] + 1e-300);
        if (db <= -5 && i5 < 0)
            i5 = i;
        if (db <= -35) {
            i35 = i;
            break;
        }
        if (i5 >= 0) {
            double t = (double)i / rate;
            sx += t;
            sy += db;
            sxx += t * t;
            sxy += t * db;
            k++;
        }
    }
    free(edc);
    if (i35 < 0 || k < 2)
        return -1;
    double slope = (k * sxy - sx * sy) / (k * sxx - sx * sx);
    return -60.0 / slope;
}

static double energy(const double *y, int64_t a, int64_t b)
{
    double e = 0;
    for (int64_t i = a; i < b; i++)
        e += y[i] * y[i];
    return e;
}

// ---- parsing --------------------------------------------------------------------

static void test_every_room_parses(void)
{
    for (int i = 0; i < N_ROOMS; i++) {
        rp_room_preset p;
        CHECK_MSG(load_file_room(room_names[i], &p), "%s", room_names[i]);
        CHECK_STR(p.name, room_names[i]);
        CHECK_MSG(p.description[0] != 0, "%s has no description", room_names[i]);
        CHECK_MSG(rp_room_is_dry(&p) == !strcmp(room_names[i], "none"), "%s", room_names[i]);
    }
    rp_room_preset s;
    if (load_file_room("street", &s)) {
        CHECK_NEAR(s.rt60_s, 1.3, 1e-12);
        CHECK_NEAR(s.predelay_s, 0.012, 1e-12);
        CHECK_NEAR(s.hf_reference_hz, 4000, 1e-9);
        CHECK_NEAR(s.size_m, 16, 1e-12);
        CHECK_INT(s.pattern, RP_ROOM_PARALLEL);
        CHECK_INT(s.reflections, 10);
        CHECK_NEAR(s.wet_db, -16, 1e-12);
    }
    rp_room_preset none;
    if (load_file_room("none", &none)) {
        CHECK(isinf(none.wet_db) && none.wet_db < 0);
        CHECK(isinf(none.early_db));
    }
}

// One diagnostic at line:col whose message contains want.
static void expect_error(const char *text, int line, int col, const char *want)
{
    rp_diags d;
    rp_diags_init(&d);
    rp_room_preset p;
    rp_status st = rp_room_parse("bad", "rooms/bad.room", text, strlen(text), &p, &d);
    CHECK_MSG(st == RP_ERR_INPUT, "'%s' parsed", text);
    int found = 0;
    for (size_t i = 0; i < d.n; i++) {
        const rp_diag *g = &d.items[i];
        if (g->line == line && g->col == col && strstr(g->msg, want) &&
            !strcmp(g->file, "rooms/bad.room") && !strcmp(g->subsystem, "room"))
            found = 1;
    }
    if (!found) {
        fprintf(stderr, "  wanted %d:%d '%s' for:\n%s\n  got:\n", line, col, want, text);
        for (size_t i = 0; i < d.n; i++) {
            char buf[512];
            fprintf(stderr, "    %s\n", rp_diag_format(&d.items[i], buf, sizeof buf));
        }
    }
    CHECK(found);
    // A failed parse leaves the defaults.
    CHECK_NEAR(p.rt60_s, rp_room_preset_default().rt60_s, 0);
    rp_diags_deinit(&d);
}

static void test_parse_errors_are_located(void)
{
    expect_error("rt60 = 1 s\nwetness = -6 dB\n", 2, 1, "unknown room key 'wetness'");
    expect_error("rt60 = 1 s\n  rt6O = 2 s\n", 2, 3, "unknown room key 'rt6O'");
    expect_error("rt60 = fast\n", 1, 8, "expected a number, got 'fast'");
    expect_error("rt60 = 1.5 s\nsize = 1x2 m\n", 2, 9, "unit 'x' does not fit size");
    expect_error("rt60 = 1.5 s extra\n", 1, 14, "unexpected 'extra' after the value of rt60");
    expect_error("rt60 = 45 s\n", 1, 8, "rt60 must be between 0.1 and 20 s");
    expect_error("rt60 = 50 ms\n", 1, 8, "rt60 must be between 0.1 and 20 s");
    expect_error("rt60 = 1 s\nwidth = 1.5\n", 2, 9, "width must be between 0 and 1");
    expect_error("rt60 = 1 s\nreflections = 2.5\n", 2, 15, "whole number");
    expect_error("rt60 = 1 s\npredelay = 10 Hz\n", 2, 15, "unit 'Hz' does not fit predelay");
    expect_error("rt60 = 1 s\npattern = difuse\n", 2, 11, "unknown pattern 'difuse'");
    expect_error("rt60 = 1 s\nwet = loud\n", 2, 7, "expected a number");
    expect_error("rt60 = 1 s\nrt60 = 2 s\n", 2, 1, "set twice (first on line 1)");
    expect_error("rt60 =\n", 1, 7, "missing value for 'rt60'");
    expect_error("rt60 = 1 s\n[hall]\n", 2, 1, "no sections");
    expect_error("rt60 = 1 s\njust words\n", 2, 1, "expected 'key = value'");
    // UTF-8 before the value: columns count code points.
    expect_error("description = Café\nrt60 = 1 s\nsize = ∞\n", 3, 8, "expected a number");
    // Missing content: nothing at all, only comments, or no decay time.
    expect_error("", 0, 0, "is empty");
    expect_error("# just a comment\n\n   \n", 0, 0, "is empty");
    expect_error("description = a room\nwet = -6 dB\n", 2, 1, "needs an rt60");
    expect_error("description = a room\nsize = 5 m\n", 0, 0, "has no rt60");
    // Several errors in one file are all reported.
    rp_diags d;
    rp_diags_init(&d);
    rp_room_preset p;
    const char *many = "rt60 = 0 s\nwidht = 1\nhf_ratio = 3\n";
    CHECK(rp_room_parse("m", "m.room", many, strlen(many), &p, &d) == RP_ERR_INPUT);
    CHECK_INT(d.n_errors, 3);
    int hint = 0;
    for (size_t i = 0; i < d.n; i++)
        hint |= d.items[i].hint && strstr(d.items[i].hint, "did you mean 'width'?") != NULL;
    CHECK(hint);
    rp_diags_deinit(&d);
    // A NUL byte, CRLF line ends, and a name over the limit.
    rp_diags_init(&d);
    const char nul[] = "rt60 = 1 s\r\nsi\0ze = 3 m\r\n";
    CHECK(rp_room_parse("n", "n.room", nul, sizeof nul - 1, &p, &d) == RP_ERR_INPUT);
    CHECK(d.n == 1 && d.items[0].line == 2);
    char longname[RP_MAX_NAME_BYTES + 8];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    CHECK(rp_room_parse(longname, "x.room", "rt60 = 1 s", 10, &p, &d) == RP_ERR_LIMIT);
    rp_diags_deinit(&d);
}

// Random damage to a real preset (bytes replaced, deleted, duplicated) never
// crashes the parser, and every failure is reported. SEED= repeats a run.
static void test_parse_survives_damage(void)
{
    char *text = read_text("sfx/rooms/hall.room");
    if (!text) {
        CHECK(text != NULL);
        return;
    }
    const char *env = getenv("SEED");
    uint64_t seed = env ? strtoull(env, NULL, 10) : 20240601;
    printf("  (damage seed %llu; SEED=N repeats it)\n", (unsigned long long)seed);
    rp_rng rng = {seed};
    size_t len = strlen(text);
    char *buf = malloc(2 * len + 64);
    static const char junk[] = "=#[] \n\r\t0123456789.-+eE msHzkdBoff\xc3\xa9\xff";
    for (int round = 0; round < 3000; round++) {
        memcpy(buf, text, len);
        size_t n = len;
        int edits = 1 + (int)(rp_rng_next(&rng) % 8);
        for (int e = 0; e < edits && n > 0; e++) {
            size_t at = (size_t)(rp_rng_next(&rng) % n);
            switch (rp_rng_next(&rng) % 3) {
            case 0:
                buf[at] = junk[rp_rng_next(&rng) % (sizeof junk - 1)];
                break;
            case 1:
                memmove(buf + at, buf + at + 1, n - at - 1);
                n--;
                break;
            default: {
                size_t k = 1 + (size_t)(rp_rng_next(&rng) % 16);
                if (at + k > n)
                    k = n - at;
                memmove(buf + at + k, buf + at, n - at);
                n += k;
                break;
            }
            }
        }
        rp_diags d;
        rp_diags_init(&d);
        rp_room_preset p;
        rp_status st = rp_room_parse("hall", "hall.room", buf, n, &p, &d);
        CHECK(st == RP_OK || d.n_errors > 0);
        if (st == RP_OK) {
            CHECK(p.rt60_s >= 0.1 && p.rt60_s <= 20 && p.width >= 0 && p.width <= 1);
            CHECK(p.reflections >= 0 && p.reflections <= RP_ROOM_MAX_REFLECTIONS);
        }
        rp_diags_deinit(&d);
    }
    free(buf);
    free(text);
}

static void test_units_and_defaults(void)
{
    const char *t = "rt60 = 800 ms  # short\r\nhf_reference = 2.5 kHz\r\npredelay = 0.02\r\n"
                    "early = OFF\r\nwet = -6\r\npattern = Sparse\r\n";
    rp_room_preset p;
    rp_diags d;
    rp_diags_init(&d);
    CHECK(rp_room_parse("u", "u.room", t, strlen(t), &p, &d) == RP_OK);
    CHECK_INT(d.n, 0);
    CHECK_NEAR(p.rt60_s, 0.8, 1e-12);
    CHECK_NEAR(p.hf_reference_hz, 2500, 1e-9);
    CHECK_NEAR(p.predelay_s, 0.02, 1e-12);
    CHECK(isinf(p.early_db));
    CHECK_NEAR(p.wet_db, -6, 0);
    CHECK_INT(p.pattern, RP_ROOM_SPARSE);
    rp_room_preset def = rp_room_preset_default();
    CHECK_NEAR(p.width, def.width, 0);
    CHECK_NEAR(p.size_m, def.size_m, 0);
    CHECK(!rp_room_is_dry(&p));
    // Written back, it reads back the same.
    rp_strbuf b;
    rp_strbuf_init(&b);
    rp_room_write(&p, &b);
    rp_room_preset q;
    CHECK(rp_room_parse("u", "u.room", b.s, b.len, &q, &d) == RP_OK);
    CHECK(memcmp(&p, &q, sizeof p) == 0);
    rp_strbuf_deinit(&b);
    rp_diags_deinit(&d);
}

// The number and unit reader rooms share with effect presets (common.c):
// locale-free, correctly rounded short decimals, units converted, and the
// word that is not a unit of the key located.
static void test_shared_number_reader(void)
{
    double v = 0;
    size_t end = 0, word = 0;
    CHECK_INT(rp_read_number("0.3", &v), 3);
    CHECK(v == 0.3);
    CHECK_INT(rp_read_number("-1.5e-3x", &v), 7);
    CHECK(v == -1.5e-3);
    CHECK_INT(rp_read_number(".", &v), 0);
    CHECK_INT(rp_read_quantity("25 ms ", RP_UNIT_S, &v, &end, &word), RP_QTY_OK);
    CHECK(v == 0.025 && end == 6);
    CHECK_INT(rp_read_quantity("4kHz", RP_UNIT_HZ, &v, &end, &word), RP_QTY_OK);
    CHECK(v == 4000 && end == 4);
    CHECK_INT(rp_read_quantity("3 /s", RP_UNIT_PER_S, &v, &end, &word), RP_QTY_OK);
    CHECK_INT(rp_read_quantity("16 m", RP_UNIT_M, &v, &end, &word), RP_QTY_OK);
    CHECK_INT(rp_read_quantity("16 M", RP_UNIT_M, &v, &end, &word), RP_QTY_BAD_UNIT);
    CHECK_INT(rp_read_quantity("2 parsecs", RP_UNIT_S, &v, &end, &word), RP_QTY_BAD_UNIT);
    CHECK(word == 2 && end == 9);
    CHECK_INT(rp_read_quantity("loud", RP_UNIT_DB, &v, &end, &word), RP_QTY_NO_NUMBER);
    CHECK_STR(rp_unit_hint(RP_UNIT_M), "use m (metres)");
    CHECK_STR(rp_unit_names[RP_UNIT_HZ], "Hz");
    char line[] = "  rt60 = 1.2 s   # a comment", *val = NULL;
    size_t at = rp_preset_line_trim(line);
    CHECK_STR(line + at, "rt60 = 1.2 s");
    CHECK(rp_preset_split(line + at, &val));
    CHECK_STR(line + at, "rt60");
    CHECK_STR(val, "1.2 s");
    char *t = rp_strdup_trim(" \t a b \t");
    CHECK_STR(t, "a b");
    free(t);
}

static void test_override(void)
{
    rp_room_preset p;
    if (!load_file_room("hall", &p))
        return;
    rp_diags d;
    rp_diags_init(&d);
    CHECK(rp_room_override(&p, "wet", " -20 dB ", "ch.txt", 7, 12, &d) == RP_OK);
    CHECK_NEAR(p.wet_db, -20, 0);
    CHECK(rp_room_override(&p, "rt60", "3.5", "ch.txt", 7, 12, &d) == RP_OK);
    CHECK_NEAR(p.rt60_s, 3.5, 0);
    rp_room_preset before = p;
    CHECK(rp_room_override(&p, "rt60", "99 s", "ch.txt", 7, 12, &d) == RP_ERR_INPUT);
    CHECK(rp_room_override(&p, "wett", "-3", "ch.txt", 8, 3, &d) == RP_ERR_INPUT);
    CHECK(rp_room_override(&p, "wet", "", "ch.txt", 9, 3, &d) == RP_ERR_INPUT);
    CHECK(memcmp(&p, &before, sizeof p) == 0);
    CHECK_INT(d.n_errors, 3);
    CHECK(d.n >= 2 && d.items[0].line == 7 && d.items[0].col == 12);
    CHECK(d.n >= 2 && d.items[1].line == 8 && d.items[1].col == 3);
    CHECK(d.n >= 2 && d.items[1].hint && strstr(d.items[1].hint, "'wet'"));
    // A description holds what a preset line can: no comment mark, or the
    // room would not read back from rp_room_write.
    CHECK(rp_room_override(&p, "description", "a hall # echoing", "ch.txt", 9, 5, &d) ==
          RP_ERR_INPUT);
    CHECK(memcmp(&p, &before, sizeof p) == 0);
    CHECK(d.n == 4 && !strcmp(d.items[3].msg, "'#' in description") && d.items[3].line == 9 &&
          d.items[3].col == 5);
    CHECK(rp_room_override(&p, "description", "hall #2", "ch.txt", 9, 5, &d) == RP_ERR_INPUT);
    CHECK(rp_room_override(&p, "description", "hall#2", "ch.txt", 9, 5, &d) == RP_OK);
    rp_diags_deinit(&d);
}

static void test_lookup_in_a_table(void)
{
    static const char street[] = "rt60 = 1.3 s\n", mine[] = "rt60 = 2 s\nwet = -3 dB\n";
    static const char broken[] = "rt60 = 1.3 parsecs\n";
    const rp_source table[] = {
        {"street", street, sizeof street - 1},
        {"hall", street, sizeof street - 1},
        {"broken", broken, sizeof broken - 1},
        {"street", mine, sizeof mine - 1}, // a user room replacing a built-in one
    };
    rp_room_preset p;
    rp_diags d;
    rp_diags_init(&d);
    CHECK(rp_room_source_find(table, 4, "street") == &table[3]);
    CHECK(rp_room_source_find(table, 4, "cave") == NULL);
    CHECK(rp_room_load(table, 4, "street", &p, "ch.txt", 3, 1, &d) == RP_OK);
    CHECK_NEAR(p.rt60_s, 2, 0);
    CHECK_STR(p.name, "street");
    CHECK(rp_room_load(table, 4, "hal", &p, "ch.txt", 5, 7, &d) == RP_ERR_INPUT);
    CHECK(d.n == 1 && d.items[0].line == 5 && d.items[0].col == 7);
    CHECK(d.n == 1 && strstr(d.items[0].msg, "unknown room 'hal'"));
    CHECK(d.n == 1 && d.items[0].hint && strstr(d.items[0].hint, "did you mean 'hall'?"));
    CHECK(rp_room_load(table, 4, "broken", &p, "ch.txt", 6, 1, &d) == RP_ERR_INPUT);
    CHECK(d.n == 2 && !strcmp(d.items[1].file, "sfx/rooms/broken.room") && d.items[1].line == 1 &&
          d.items[1].col == 12);
    rp_diags_deinit(&d);
}

// ---- the reverb -------------------------------------------------------------------

// T30 of the late reverb (early reflections off: rt60 is the late decay),
// and of the whole room as heard, in the 500 Hz octave, both channels.
static void test_rt60_matches_every_preset(void)
{
    for (int i = 0; i < N_ROOMS; i++) {
        rp_room_preset p;
        if (!load_file_room(room_names[i], &p) || rp_room_is_dry(&p))
            continue;
        for (int late_only = 1; late_only >= 0; late_only--) {
            rp_room_preset q = p;
            if (late_only)
                q.early_db = -INFINITY;
            int64_t n;
            float *ir = impulse_response(&q, RATE, &n);
            if (!ir)
                continue;
            for (int ch = 0; ch < 2; ch++) {
                double *y = octave(ir, ch, n, RATE, 354, 707);
                double t = t30(y, n, RATE);
                double err = t / p.rt60_s - 1;
                printf("  %-10s %s ch%d: T30 %.3f s, rt60 %.3f s (%+.1f%%)\n", room_names[i],
                       late_only ? "late" : "full", ch, t, p.rt60_s, 100 * err);
                // The whole room: within 20 %, except where the early
                // reflections dominate the energy (open ground, where a
                // bounce off the ground is most of what is heard).
                if (late_only || p.pattern != RP_ROOM_SPARSE)
                    CHECK_MSG(fabs(err) < 0.2, "%s: T30 %.3f s, rt60 %.3f s", room_names[i], t,
                              p.rt60_s);
                free(y);
            }
            free(ir);
        }
    }
}

// Late energy (early off) and early energy (wet off) re the impulse's, in
// the 500 Hz octave, match wet and early within 2 dB.
static void test_levels_match_the_preset(void)
{
    const char *names[] = {"hall", "street", "basement"};
    for (int i = 0; i < 3; i++) {
        rp_room_preset p;
        if (!load_file_room(names[i], &p))
            continue;
        for (int part = 0; part < 2; part++) {
            rp_room_preset q = p;
            if (part == 0)
                q.early_db = -INFINITY;
            else
                q.wet_db = -INFINITY;
            int64_t n;
            float *ir = impulse_response(&q, RATE, &n);
            float *dirac = calloc((size_t)n * 2, sizeof(float));
            dirac[0] = dirac[1] = 1;
            double e = 0, e0 = 0;
            for (int ch = 0; ch < 2; ch++) {
                double *y = octave(ir, ch, n, RATE, 354, 707);
                double *y0 = octave(dirac, ch, n, RATE, 354, 707);
                e += energy(y, 0, n);
                e0 += energy(y0, 0, n);
                free(y);
                free(y0);
            }
            double db = 10 * log10(e / e0), want = part == 0 ? p.wet_db : p.early_db;
            printf("  %-10s %s: %.1f dB, preset %.1f dB\n", names[i], part == 0 ? "late" : "early",
                   db, want);
            CHECK_MSG(fabs(db - want) < 2.0, "%s %s: %.1f dB, preset %.1f dB", names[i],
                      part == 0 ? "late" : "early", db, want);
            free(ir);
            free(dirac);
        }
    }
}

// 30 s of noise then silence: the level settles (no growth), the tail is
// 60 dB down by rp_reverb_tail_frames and exactly silent not long after.
static void test_noise_burst_then_silence(void)
{
    for (int i = 0; i < N_ROOMS; i++) {
        rp_room_preset p;
        if (!load_file_room(room_names[i], &p) || rp_room_is_dry(&p))
            continue;
        rp_reverb *r = rp_reverb_new(&p, RATE);
        CHECK(r != NULL);
        if (!r)
            continue;
        int64_t tail = rp_reverb_tail_frames(r);
        CHECK(tail > (int64_t)(p.rt60_s * RATE) && tail < (int64_t)(3 * p.rt60_s * RATE + RATE));
        enum { BLOCK = 1024 };
        float buf[2 * BLOCK];
        rp_rng rng = {77};
        int64_t burst = 30LL * RATE, total = burst + 2 * tail + RATE;
        double e_a = 0, e_b = 0, e_tail = 0, last = 0;
        int64_t n_a = 0, n_b = 0, n_tail = 0, silent_from = -1;
        int finite = 1;
        for (int64_t at = 0; at < total; at += BLOCK) {
            for (int k = 0; k < BLOCK; k++) {
                float v = at + k < burst ? 0.3f * rp_rng_bipolar(&rng) : 0.0f;
                buf[2 * k] = buf[2 * k + 1] = v;
            }
            rp_reverb_process(r, buf, buf, BLOCK);
            for (int k = 0; k < BLOCK; k++) {
                int64_t t = at + k;
                double s =
                    (double)buf[2 * k] * buf[2 * k] + (double)buf[2 * k + 1] * buf[2 * k + 1];
                finite &= isfinite(s);
                if (t >= 10LL * RATE && t < 15LL * RATE)
                    e_a += s, n_a++;
                if (t >= 25LL * RATE && t < burst)
                    e_b += s, n_b++;
                if (t >= burst + tail && t < burst + tail + RATE / 10)
                    e_tail += s, n_tail++;
                if (s != 0)
                    last = (double)t, silent_from = -1;
                else if (silent_from < 0)
                    silent_from = t;
            }
        }
        CHECK(finite);
        double a = sqrt(e_a / n_a), b = sqrt(e_b / n_b), after = sqrt(e_tail / n_tail);
        CHECK_MSG(fabs(20 * log10(b / a)) < 1.0, "%s: %.2f dB from 10 s to 25 s", room_names[i],
                  20 * log10(b / a));
        CHECK_MSG(after < 1e-3 * b, "%s: %.1f dB at the tail's end", room_names[i],
                  20 * log10(after / b));
        // Exact silence within 1.5 tails (then the reverb stops working).
        CHECK_MSG(silent_from >= 0 && silent_from <= burst + tail + tail / 2 + BLOCK,
                  "%s: last sample at %.2f s", room_names[i], last / RATE);
        rp_reverb_free(r);
    }
}

// A mono source: the tail differs between left and right (correlation well
// below 1); with width 0 the two are the same.
static void test_tail_is_decorrelated(void)
{
    for (int i = 0; i < N_ROOMS; i++) {
        rp_room_preset p;
        if (!load_file_room(room_names[i], &p) || rp_room_is_dry(&p))
            continue;
        for (int narrow = 0; narrow < 2; narrow++) {
            if (narrow)
                p.width = 0;
            int64_t n;
            float *ir = impulse_response(&p, RATE, &n);
            if (!ir)
                continue;
            // The late part: from 80 ms after the first reflection.
            int64_t a = (int64_t)((p.predelay_s + 0.08) * RATE);
            double lr = 0, ll = 0, rr = 0;
            for (int64_t k = a; k < n; k++) {
                lr += (double)ir[2 * k] * ir[2 * k + 1];
                ll += (double)ir[2 * k] * ir[2 * k];
                rr += (double)ir[2 * k + 1] * ir[2 * k + 1];
            }
            double c = lr / sqrt(ll * rr);
            if (narrow)
                CHECK_MSG(c > 0.999, "%s width 0: correlation %.3f", room_names[i], c);
            else
                CHECK_MSG(fabs(c) < 0.3, "%s: L/R correlation %.3f", room_names[i], c);
            if (!narrow)
                printf("  %-10s L/R correlation of the tail %.3f\n", room_names[i], c);
            free(ir);
        }
    }
}

// Same input, same bytes, whatever the block size, in place or not; a reset
// reverb repeats itself.
static void test_deterministic_and_streaming(void)
{
    rp_room_preset p;
    if (!load_file_room("hall", &p))
        return;
    enum { N = RATE * 3 };
    float *in = calloc(2 * N, sizeof(float)), *a = calloc(2 * N, sizeof(float));
    float *b = calloc(2 * N, sizeof(float));
    rp_rng rng = {5};
    for (int i = 0; i < RATE; i++) {
        in[2 * i] = 0.2f * rp_rng_bipolar(&rng);
        in[2 * i + 1] = 0.5f * in[2 * i] + 0.1f * rp_rng_bipolar(&rng);
    }
    rp_reverb *r1 = rp_reverb_new(&p, RATE), *r2 = rp_reverb_new(&p, RATE);
    rp_reverb_process(r1, in, a, N);
    memcpy(b, in, sizeof(float) * 2 * N);
    static const size_t sizes[] = {1, 7, 64, 333, 1024, 4096};
    size_t at = 0;
    for (int k = 0; at < N; k++) {
        size_t m = sizes[k % 6] < N - at ? sizes[k % 6] : N - at;
        rp_reverb_process(r2, b + 2 * at, b + 2 * at, m);
        at += m;
    }
    CHECK(memcmp(a, b, sizeof(float) * 2 * N) == 0);
    rp_reverb_reset(r1);
    rp_reverb_process(r1, in, b, N);
    CHECK(memcmp(a, b, sizeof(float) * 2 * N) == 0);
    // Something came out, and it is not the input.
    double e = 0;
    for (int i = 0; i < 2 * N; i++)
        e += (double)a[i] * a[i];
    CHECK(e > 0);
    rp_reverb_free(r1);
    rp_reverb_free(r2);
    free(in);
    free(a);
    free(b);
}

// The hash a render's checkpoints compare: the same for presets that sound
// the same whatever their names, another for any value changed.
static void test_preset_hash_follows_every_value(void)
{
    rp_room_preset a = rp_room_preset_default(), b = a;
    snprintf(b.name, sizeof b.name, "other");
    snprintf(b.description, sizeof b.description, "another room");
    CHECK(rp_room_preset_hash(&a) == rp_room_preset_hash(&b));
    uint64_t h = rp_room_preset_hash(&a);
    for (int k = 0; k < 11; k++) {
        b = a;
        double *d[] = {&b.rt60_s,   &b.hf_ratio, &b.hf_reference_hz, &b.predelay_s, &b.size_m,
                       &b.early_db, &b.wet_db,   &b.width,           &b.lowcut_hz};
        if (k < 9)
            *d[k] += 0.5;
        else if (k == 9)
            b.pattern = RP_ROOM_SPARSE;
        else
            b.reflections++;
        CHECK_MSG(rp_room_preset_hash(&b) != h, "value %d changed, the same hash", k);
    }
}

// A reverb of the room ctx that takes bytes as its state runs a block of noise.
static int try_reverb(const char *bytes, size_t len, void *ctx)
{
    rp_reverb *t = rp_reverb_new(ctx, RATE);
    rp_unpacker u = {(const unsigned char *)bytes, len, 0};
    int refused = !t || rp_reverb_load(t, &u) != RP_OK;
    if (!refused) {
        enum { B = 2048 };
        static float x[2 * B];
        rp_rng rng = {3};
        for (int i = 0; i < 2 * B; i++)
            x[i] = 0.3f * rp_rng_bipolar(&rng);
        rp_reverb_process(t, x, x, B);
    }
    rp_reverb_free(t);
    return refused;
}

// A saved state goes on to the bit in another reverb of the same room. A
// damaged one is refused or runs within its buffers: each 32-bit word of
// the saved header set in turn to a large value, to -1 and to 0, the
// reverb that took it runs a block of noise (AddressSanitizer's build
// reports a read or write outside them).
static void test_saved_state_is_checked(void)
{
    rp_room_preset p;
    if (!load_file_room("hall", &p))
        return;
    enum { N = RATE / 2, B = 2048 };
    float *in = calloc(2 * N, sizeof(float)), *a = calloc(2 * B, sizeof(float));
    float *b = calloc(2 * B, sizeof(float));
    rp_rng rng = {9};
    for (int i = 0; in && i < 2 * N; i++)
        in[i] = 0.3f * rp_rng_bipolar(&rng);
    rp_reverb *r = rp_reverb_new(&p, RATE), *fresh = rp_reverb_new(&p, RATE);
    CHECK(in && a && b && r && fresh);
    if (!in || !a || !b || !r || !fresh)
        return;
    rp_strbuf head, saved;
    rp_strbuf_init(&head);
    rp_strbuf_init(&saved);
    rp_reverb_save(fresh, &head);  // idle: the header alone
    rp_reverb_process(r, in, in, N);
    rp_reverb_save(r, &saved);
    CHECK(head.len > 0 && saved.len > head.len);
    rp_unpacker u = {(const unsigned char *)saved.s, saved.len, 0};
    CHECK_INT(rp_reverb_load(fresh, &u), RP_OK);
    rp_reverb_process(r, in, a, B);
    rp_reverb_process(fresh, in, b, B);
    CHECK(memcmp(a, b, sizeof(float) * 2 * B) == 0);
    int tried, refused = damaged_refused(saved.s, saved.len, head.len, try_reverb, &p, &tried);
    printf("  %d damaged headers: %d refused, the rest ran within bounds\n", tried, refused);
    CHECK(refused > 0 && refused < tried);
    rp_strbuf_deinit(&head);
    rp_strbuf_deinit(&saved);
    rp_reverb_free(r);
    rp_reverb_free(fresh);
    free(in);
    free(a);
    free(b);
}

// Early reflections alone (no late reverb) decay to nothing through their
// one-pole lowpass, in blocks of any size alike (state is flushed frame by
// frame, not at the end of a call). Then the reverb is idle, and says so.
static void test_early_only_split_and_idle(void)
{
    rp_room_preset p = rp_room_preset_default();
    p.wet_db = -INFINITY;
    p.rt60_s = 0.3;
    enum { N = RATE };
    float *in = calloc(2 * N, sizeof(float)), *a = calloc(2 * N, sizeof(float));
    float *b = calloc(2 * N, sizeof(float));
    in[0] = in[1] = 1.0f;
    rp_reverb *r1 = rp_reverb_new(&p, RATE), *r2 = rp_reverb_new(&p, RATE);
    CHECK(r1 && r2 && rp_reverb_idle(r1));
    if (in && a && b && r1 && r2) {
        rp_reverb_process(r1, in, a, 1);
        CHECK(!rp_reverb_idle(r1));
        rp_reverb_process(r1, in + 2, a + 2, N - 1);
        for (size_t at = 0, k = 0; at < N; k++) {
            size_t m = (k % 3 + 1) * 64 < N - at ? (k % 3 + 1) * 64 : N - at;
            rp_reverb_process(r2, in + 2 * at, b + 2 * at, m);
            at += m;
        }
        CHECK(memcmp(a, b, sizeof(float) * 2 * N) == 0);
        // Long silence: idle, writing zeros.
        memset(in, 0, sizeof(float) * 2 * N);
        for (int k = 0; k < 4 && !rp_reverb_idle(r1); k++)
            rp_reverb_process(r1, in, a, N);
        CHECK(rp_reverb_idle(r1));
    }
    rp_reverb_free(r1);
    rp_reverb_free(r2);
    free(in);
    free(a);
    free(b);
}

static void test_builtin_table_and_library(void)
{
    // The table compiled in is sfx/rooms as it is on disk.
    CHECK_INT(rp_room_n_builtin, N_ROOMS);
    for (size_t i = 0; i < rp_room_n_builtin && i < N_ROOMS; i++) {
        const rp_source *src =
            rp_room_source_find(rp_room_builtin, rp_room_n_builtin, room_names[i]);
        char path[256];
        snprintf(path, sizeof path, "sfx/rooms/%s.room", room_names[i]);
        char *text = read_text(path);
        CHECK_MSG(src && text && src->len == strlen(text) && !memcmp(src->text, text, src->len),
                  "built-in %s differs from %s", room_names[i], path);
        free(text);
    }
    // The library holds them, user rooms over them.
    rp_sfx_library lib;
    rp_sfx_library_init(&lib);
    rp_diags d;
    rp_diags_init(&d);
    CHECK_INT(rp_sfx_library_add_builtin(&lib, &d), RP_OK);
    CHECK_INT(lib.n_rooms, N_ROOMS);
    uint64_t h = lib.hash;
    static const char mine[] = "rt60 = 1 s\nwet = -20 dB\n", bad[] = "rt60 = 1 parsec\n";
    CHECK_INT(rp_sfx_library_add_text(&lib, "hall", "my/hall.room", mine, strlen(mine), &d), RP_OK);
    CHECK_INT(rp_sfx_library_add_text(&lib, "cave", "my/cave.room", mine, strlen(mine), &d), RP_OK);
    CHECK_INT(lib.n_rooms, N_ROOMS + 1);
    CHECK(lib.hash != h);
    CHECK_INT(rp_sfx_library_add_text(&lib, "hall", "my/hall.room", bad, strlen(bad), &d),
              RP_ERR_INPUT);
    CHECK(d.n == 1 && !strcmp(d.items[0].file, "my/hall.room") && d.items[0].line == 1 &&
          d.items[0].col == 10);
    rp_room_preset p, q;
    CHECK_INT(rp_room_load(lib.rooms, lib.n_rooms, "hall", &p, "ch.txt", 1, 1, &d), RP_OK);
    CHECK_NEAR(p.rt60_s, 1.0, 0);
    CHECK_NEAR(p.wet_db, -20.0, 0);
    CHECK_INT(rp_room_load(lib.rooms, lib.n_rooms, "cave", &q, "ch.txt", 1, 1, &d), RP_OK);
    // The same values under another name are another room.
    CHECK(!rp_room_same(&p, &q));
    snprintf(q.name, sizeof q.name, "hall");
    CHECK(rp_room_same(&p, &q));
    q.wet_db = -19;
    CHECK(!rp_room_same(&p, &q));
    // The echo lasts the pre-delay and rt60; a dry room has none.
    CHECK_NEAR(rp_room_decay_s(&p), p.predelay_s + 1.0, 1e-12);
    CHECK_INT(rp_room_load(lib.rooms, lib.n_rooms, "none", &q, "ch.txt", 1, 1, &d), RP_OK);
    CHECK(rp_room_decay_s(&q) == 0.0);
    CHECK_INT(d.n, 1);
    rp_diags_deinit(&d);
    rp_sfx_library_deinit(&lib);
}

static void test_dry_room_and_rates(void)
{
    rp_room_preset none;
    if (load_file_room("none", &none)) {
        rp_reverb *r = rp_reverb_new(&none, RATE);
        CHECK_INT(rp_reverb_tail_frames(r), 0);
        float x[8] = {1, 1, 0.5f, -0.5f, 0, 0, 0.1f, 0.2f};
        rp_reverb_process(r, x, x, 4);
        for (int i = 0; i < 8; i++)
            CHECK(x[i] == 0.0f);
        rp_reverb_free(r);
    }
    rp_reverb_free(NULL);
    // The hall's decay holds at other rates.
    rp_room_preset p;
    if (!load_file_room("hall", &p))
        return;
    static const int rates[] = {8000, 22050, 96000, 192000};
    for (int i = 0; i < 4; i++) {
        rp_room_preset q = p;
        q.early_db = -INFINITY;
        int64_t n;
        float *ir = impulse_response(&q, rates[i], &n);
        if (!ir)
            continue;
        double *y = octave(ir, 0, n, rates[i], 354, 707);
        double t = t30(y, n, rates[i]);
        CHECK_MSG(fabs(t / p.rt60_s - 1) < 0.2, "hall at %d Hz: T30 %.3f s", rates[i], t);
        free(y);
        free(ir);
    }
    // An early-only room has a short tail, and rooms of every pattern and
    // extreme settings stay finite.
    rp_room_preset e = p;
    e.wet_db = -INFINITY;
    rp_reverb *r = rp_reverb_new(&e, RATE);
    CHECK(rp_reverb_tail_frames(r) < RATE / 2);
    rp_reverb_free(r);
    for (int pat = 0; pat < RP_ROOM_PATTERN_COUNT; pat++) {
        rp_room_preset x = rp_room_preset_default();
        x.pattern = (rp_room_pattern)pat;
        x.reflections = RP_ROOM_MAX_REFLECTIONS;
        x.size_m = 100;
        x.predelay_s = 0.5;
        x.rt60_s = 20;
        x.hf_ratio = 0.1;
        x.early_db = 6;
        x.wet_db = 6;
        int64_t n;
        float *ir = impulse_response(&x, 8000, &n);
        int finite = 1;
        for (int64_t k = 0; ir && k < 2 * n; k++)
            finite &= isfinite(ir[k]);
        CHECK_MSG(finite, "pattern %s", rp_room_pattern_names[pat]);
        free(ir);
    }
}

int main(void)
{
    RUN(test_every_room_parses);
    RUN(test_parse_errors_are_located);
    RUN(test_parse_survives_damage);
    RUN(test_units_and_defaults);
    RUN(test_shared_number_reader);
    RUN(test_override);
    RUN(test_lookup_in_a_table);
    RUN(test_rt60_matches_every_preset);
    RUN(test_levels_match_the_preset);
    RUN(test_noise_burst_then_silence);
    RUN(test_tail_is_decorrelated);
    RUN(test_deterministic_and_streaming);
    RUN(test_preset_hash_follows_every_value);
    RUN(test_saved_state_is_checked);
    RUN(test_dry_room_and_rates);
    RUN(test_early_only_split_and_idle);
    RUN(test_builtin_table_and_library);
    return TEST_SUMMARY("test_room");
}
