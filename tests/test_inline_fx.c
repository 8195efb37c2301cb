// SPDX-License-Identifier: GPL-3.0-or-later
// End to end for per-quote voice effects ({Kirk effect=radio}"..."): renders
// a chapter with build/radioplay and real espeak-ng, finds each line with
// `radioplay cues`, and measures the share of its energy below 250 Hz. A
// quote tagged effect=radio has next to none there (the radio band starts at
// 300 Hz), the same speaker's next quote has plenty; a speaker cast with the
// radio is dry for the one quote tagged effect=none.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "wav.h"

typedef struct {
    double start, end;
    char kind[16], who[64];
} cue;

static int read_cues(const char *tsv, cue *cues, int max)
{
    int n = 0;
    const char *p = strchr(tsv, '\n');
    if (!p || strncmp(tsv, "start\tend\tkind\twho\ttext\n", 24) != 0)
        return -1;
    for (p++; *p && n < max;) {
        cue c = {0};
        if (sscanf(p, "%lf\t%lf\t%15[^\t]\t%63[^\t]", &c.start, &c.end, c.kind, c.who) == 4)
            cues[n++] = c;
        p = strchr(p, '\n');
        if (!p)
            break;
        p++;
    }
    return n;
}

// The share of the energy in [lo_hz, hi_hz) over [t0, t1) seconds (both
// channels summed): Hann-windowed blocks of 2048 frames through a plain DFT.
static double band_share(const wav *w, double t0, double t1, double lo_hz, double hi_hz)
{
    enum { N = 2048 };
    static double x[N];
    const double pi = 3.14159265358979323846;
    double in_band = 0, all = 0;
    for (int64_t at = (int64_t)(t0 * w->rate); at + N <= (int64_t)(t1 * w->rate); at += N) {
        for (int i = 0; i < N; i++) {
            double h = 0.5 - 0.5 * cos(2 * pi * i / N);
            const float *f = &w->x[(at + i) * w->channels];
            x[i] = h * (f[0] + f[w->channels - 1]);
        }
        for (int k = 1; k < N / 2; k++) {
            double re = 0, im = 0, c = 1, s = 0;
            double dc = cos(2 * pi * k / N), ds = -sin(2 * pi * k / N);
            for (int i = 0; i < N; i++) {
                re += x[i] * c;
                im += x[i] * s;
                double t = c * dc - s * ds;
                s = c * ds + s * dc;
                c = t;
            }
            double p = re * re + im * im, f = (double)k * w->rate / N;
            all += p;
            if (f >= lo_hz && f < hi_hz)
                in_band += p;
        }
    }
    return all > 0 ? in_band / all : 0;
}

static void test_quote_effect_is_heard(void)
{
    const char *ch = tmp(0, "inline.txt"), *out = tmp(1, "inline.wav");
    write_text(ch, "{Kirk effect=radio}\"Shields are holding at forty percent, captain.\"\n\n"
                   "{Kirk}\"Shields are holding at forty percent, captain.\"\n\n"
                   "{Mara effect=none}\"Shields are holding at forty percent, captain.\"\n\n"
                   "{Mara}\"Shields are holding at forty percent, captain.\"\n");
    write_text(tmp(2, "inline.cast"), "[voice Kirk]\nvoice = en-us\nvariant = m3\n\n"
                                      "[voice Mara]\nvoice = en-us\nvariant = m1\n"
                                      "effect = radio\n");
    char *log = NULL, *tsv = NULL, args[4096];
    snprintf(args, sizeof args, "render %s -o %s -q --loudness off", ch, out);
    CHECK_INT(rp(args, &log), 0);
    snprintf(args, sizeof args, "cues %s", ch);
    CHECK_INT(rp(args, &tsv), 0);
    cue cues[16];
    int n = tsv ? read_cues(tsv, cues, 16) : -1;
    wav w;
    int have = wav_read(out, &w) == 0;
    CHECK(have);
    double low[4] = {0};
    int k = 0;
    for (int i = 0; have && i < n && k < 4; i++) {
        if (strcmp(cues[i].kind, "speech"))
            continue;
        low[k] = band_share(&w, cues[i].start, cues[i].end, 0, 250);
        printf("  %-5s at %5.2f s: %.5f of the energy below 250 Hz\n", cues[i].who, cues[i].start,
               low[k]);
        CHECK_STR(cues[i].who, k < 2 ? "Kirk" : "Mara");
        k++;
    }
    CHECK_INT(k, 4);
    // Kirk over the radio, then Kirk dry; Mara dry, then over her radio.
    CHECK_MSG(low[0] < 1e-3 && low[1] > 1e-2, "Kirk: radio %.5f, dry %.5f", low[0], low[1]);
    CHECK_MSG(low[2] > 1e-2 && low[3] < 1e-3, "Mara: dry %.5f, radio %.5f", low[2], low[3]);
    if (have)
        wav_free(&w);
    free(log);
    free(tsv);
}

int main(void)
{
    RUN(test_quote_effect_is_heard);
    return TEST_SUMMARY("test_inline_fx");
}
