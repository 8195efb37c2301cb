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
        low[k] = wav_band_share(&w, cues[i].start, cues[i].end, 0, 250);
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
