// SPDX-License-Identifier: GPL-3.0-or-later
// make bench, effects part: renders every built-in preset at 48 kHz stereo
// (one-shots for their whole length, again and again with new seeds until a
// minute of audio is done; beds for a minute) in mixer-sized blocks and
// prints how many times faster than real time each one runs, best of RUNS
// (default 3), then the slowest. Issue 4 asks for at least 500x.
// Preset names on the command line bench only those (for profiling).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rp_config.h"
#include "rp_sfx.h"

#define RATE 48000
#define BED_S 60.0

// One timing: renders voices of the preset (seeds from seed up) until at
// least BED_S seconds of audio are done, so that short one-shots are timed
// over more than a few milliseconds. Returns the seconds taken and the
// frames rendered in *n_frames, or -1 when a voice cannot be made.
static double time_one(const rp_sfx_preset *p, uint64_t seed, int64_t *n_frames, float *buf)
{
    int64_t total = 0;
    double t0 = rp_now_s();
    while (total < (int64_t)(BED_S * RATE)) {
        rp_sfx_voice *v = rp_sfx_voice_new(p, RATE, seed++);
        if (!v)
            return -1.0;
        int64_t n = rp_sfx_voice_length(v);
        if (n < 0)
            n = (int64_t)(BED_S * RATE);
        for (int64_t done = 0; done < n; done += RP_BLOCK_FRAMES) {
            int64_t k = n - done < RP_BLOCK_FRAMES ? n - done : RP_BLOCK_FRAMES;
            rp_sfx_voice_render(v, buf, (size_t)k);
        }
        rp_sfx_voice_free(v);
        total += n;
    }
    *n_frames = total;
    return rp_now_s() - t0;
}

int main(int argc, char **argv)
{
    int runs = 3;
    const char *env = getenv("RUNS");
    if (env && atoi(env) > 0)
        runs = atoi(env);
    rp_diags d;
    rp_diags_init(&d);
    rp_sfx_library lib;
    rp_sfx_library_init(&lib);
    rp_status st = rp_sfx_library_add_builtin(&lib, &d);
    rp_diags_deinit(&d);
    float *buf = malloc(2 * RP_BLOCK_FRAMES * sizeof *buf);
    if (st != RP_OK || !buf) {
        fprintf(stderr, "bench_sfx: cannot load the built-in presets\n");
        free(buf);
        rp_sfx_library_deinit(&lib);
        return 1;
    }
    double slowest = -1.0;
    const char *slowest_name = "";
    for (size_t i = 0; i < lib.n; i++) {
        const rp_sfx_preset *p = lib.items[i];
        int wanted = argc < 2;
        for (int a = 1; a < argc; a++)
            wanted |= strcmp(argv[a], rp_sfx_preset_name(p)) == 0;
        if (!wanted)
            continue;
        double best = -1.0;
        int64_t n = 0;
        for (int r = 0; r < runs; r++) {
            double t = time_one(p, (uint64_t)r * 1000 + 1, &n, buf);
            if (t < 0.0) {
                fprintf(stderr, "bench_sfx: out of memory\n");
                free(buf);
                rp_sfx_library_deinit(&lib);
                return 1;
            }
            if (best < 0.0 || t < best)
                best = t;
        }
        double x = (double)n / RATE / (best > 1e-9 ? best : 1e-9);
        printf("bench: sfx %-16s %7.0fx real time\n", rp_sfx_preset_name(p), x);
        if (slowest < 0.0 || x < slowest) {
            slowest = x;
            slowest_name = rp_sfx_preset_name(p);
        }
    }
    printf("bench: sfx slowest   %s, %.0fx real time (48 kHz stereo, best of %d)\n", slowest_name,
           slowest, runs);
    free(buf);
    rp_sfx_library_deinit(&lib);
    return 0;
}
