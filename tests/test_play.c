// SPDX-License-Identifier: GPL-3.0-or-later
// `radioplay play` for real, headless: each test gets its own HOME whose
// .asoundrc sends ALSA's default device to the `file` plugin over `null`, so
// whatever PortAudio plays lands in a WAV (as 32-bit integers, through
// `plug`: the file plugin labels float data as integers). The capture is
// aligned with `radioplay render`'s file of the same chapter and compared
// sample by sample. The null device is not paced and drains the ring faster
// than any renderer fills it, so these runs use a buffer longer than the
// chapter (the whole drama is in the ring before the device starts) and
// assert no underrun; time to first audio is measured by `make bench`.
#include <sys/stat.h>

#include "test.h"
#include "wav.h"

static const char *CHAPTER = "tests/data/wall.txt";
static char home[512], cap_path[600], ref_path[600];
static wav REF;
static int have_ref;

static void write_asoundrc(const char *dir, int with_device)
{
    char path[700];
    snprintf(path, sizeof path, "%s/.asoundrc", dir);
    FILE *f = fopen(path, "w");
    if (with_device)
        fprintf(f, "pcm.!default { type plug; slave { pcm { type file; slave.pcm \"null\"; "
                   "file \"%s/cap.wav\"; format \"wav\" }; format S32_LE } }\n", dir);
    else
        fprintf(f, "pcm.!default { type hw; card 9 }\n");  // no card 9: no device at all
    fclose(f);
}

static void setup(void)
{
    snprintf(home, sizeof home, "%s/home", test_tmpdir());
    mkdir(home, 0700);
    write_asoundrc(home, 1);
    snprintf(cap_path, sizeof cap_path, "%s/cap.wav", home);
    snprintf(ref_path, sizeof ref_path, "%s/ref.wav", test_tmpdir());
    have_ref = render_reference(CHAPTER, ref_path, &REF) == 0;
    CHECK(have_ref);
}

// Runs play with HOME set; stdout and stderr are kept apart.
static int play(const char *args, char **out, char **err)
{
    char cmd[4096], err_path[600];
    snprintf(err_path, sizeof err_path, "%s/stderr.txt", test_tmpdir());
    remove(cap_path);
    snprintf(cmd, sizeof cmd, "(HOME=%s %s play %s %s 2>%s)", home, radioplay_bin(), CHAPTER,
             args, err_path);
    int rc = run(cmd, out);
    *err = read_text(err_path);
    if (!*err)
        *err = strdup("");
    return rc;
}

// The capture frame where the render's frame `from` was played: the
// offset that makes the first loud stretch after it agree best.
static int64_t align(const wav *cap, int64_t from)
{
    int64_t r0 = -1, c0 = -1;
    for (int64_t i = from; i < REF.frames && r0 < 0; i++)
        if (fabsf(REF.x[2 * i]) > 1e-3f)
            r0 = i;
    for (int64_t i = 0; i < cap->frames && c0 < 0; i++)
        if (fabsf(cap->x[2 * i]) > 1e-3f)
            c0 = i;
    if (r0 < 0 || c0 < 0)
        return -1;
    int64_t best = 0;
    double best_e = -1;
    for (int64_t off = c0 - r0 - 512; off <= c0 - r0 + 512; off++) {
        if (off + r0 < 0 || off + r0 + 4800 > cap->frames)
            continue;
        double e = 0;
        for (int64_t i = r0; i < r0 + 4800; i++)
            e += fabs(cap->x[2 * (off + i)] - REF.x[2 * i]);
        if (best_e < 0 || e < best_e) {
            best_e = e;
            best = off;
        }
    }
    return best_e < 0 ? -1 : best + from;
}

// Compares the capture from frame at with the render from `from` to its
// end; returns the largest difference in 16-bit steps (the render is float
// and the capture 32-bit: anything over 0.01 of a step is a difference), and
// checks the capture is silent after.
static double compare(const wav *cap, int64_t at, int64_t from)
{
    double worst = 0;
    for (int64_t i = from; i < REF.frames; i++)
        for (int ch = 0; ch < 2; ch++) {
            int64_t k = at + (i - from);
            float c = k < cap->frames ? cap->x[2 * k + ch] : 1.0f;
            double e = fabs(c - REF.x[2 * i + ch]) * 32768.0;
            worst = e > worst ? e : worst;
        }
    double after = 0;
    for (int64_t k = at + (REF.frames - from); k < cap->frames; k++)
        after += fabs(cap->x[2 * k]) + fabs(cap->x[2 * k + 1]);
    CHECK_MSG(after == 0.0, "sound after the end of the drama");
    return worst;
}

static long stat_value(const char *out, const char *key)
{
    const char *p = out ? strstr(out, key) : NULL;
    return p ? atol(p + strlen(key)) : -1;
}

// Settings no render has measured yet: play estimates the gain from the
// sample chapters' (+7.4 dB for -16 LUFS) and says so.
static void test_level_before_any_render(void)
{
    char *out, *err;
    int rc = play("--buffer 60 --stats --loudness -20", &out, &err);
    CHECK_MSG(rc == 0, "%s%s", out, err);
    CHECK_MSG(strstr(out, "level: +3.4 dB, estimated (render once to play at the measured "
                          "loudness)"), "%s", out);
    free(out);
    free(err);
}

static void test_plays_what_render_writes(void)
{
    if (!have_ref)
        return;
    char *out, *err;
    int rc = play("--buffer 60 --stats", &out, &err);
    CHECK_MSG(rc == 0, "%s%s", out, err);
    // No JACK or ALSA noise, and nothing else either.
    CHECK_MSG(err[0] == '\0', "stderr: %s", err);
    CHECK_INT(stat_value(out, "underruns: "), 0);
    CHECK_INT(stat_value(out, "frames played: "), REF.frames);
    CHECK(strstr(out, "time to first audio: ") != NULL);
    // At the loudness the render measured (it remembered the gain).
    CHECK_MSG(strstr(out, "as the last render measured") != NULL, "%s", out);
    // Plain output: one line per utterance, no escape codes.
    CHECK(strchr(out, '\033') == NULL);
    CHECK(strstr(out, "[0:00] Narrator: The Wall\n") != NULL);
    CHECK(strstr(out, "] Kirk: Shield harmonics at forty percent,\n") != NULL);
    CHECK(strstr(out, "] Kirk: Down!\n") != NULL);
    int lines = 0;
    for (const char *p = out; (p = strstr(p, "\n[")); p++)
        lines++;
    CHECK_INT(lines + (out[0] == '['), 12);
    wav cap;
    CHECK(wav_read(cap_path, &cap) == 0);
    CHECK_INT(cap.rate, 48000);
    CHECK_INT(cap.channels, 2);
    int64_t at = align(&cap, 0);
    CHECK(at >= 0);
    if (at >= 0) {
        double off = compare(&cap, at, 0);
        printf("  captured %.3f s; the render's %.3f s start at frame %lld, %.1f steps apart\n",
               (double)cap.frames / 48000, (double)REF.frames / 48000, (long long)at, off);
        CHECK_MSG(off <= 0.01, "the capture is %.3f 16-bit steps off the render", off);
    }
    wav_free(&cap);
    free(out);
    free(err);
}

static void from_check(const char *args, int64_t from, const char *what)
{
    char *out, *err;
    int rc = play(args, &out, &err);
    CHECK_MSG(rc == 0, "%s%s", out, err);
    CHECK_MSG(err[0] == '\0', "stderr: %s", err);
    CHECK_INT(stat_value(out, "underruns: "), 0);
    CHECK_INT(stat_value(out, "frames played: "), REF.frames - from);
    wav cap;
    CHECK(wav_read(cap_path, &cap) == 0);
    // Everything before the render's frame `from` is left out: the capture
    // starts (after the device's own silence) with the render from there.
    int64_t at = align(&cap, from);
    CHECK(at >= 0);
    if (at >= 0) {
        double off = compare(&cap, at, from);
        CHECK_MSG(off <= 0.01, "%s: %.3f steps off the render from %lld", what, off,
                  (long long)from);
        for (int64_t k = 0; k < at; k++)
            CHECK(cap.x[2 * k] == 0.0f && cap.x[2 * k + 1] == 0.0f);
        printf("  %-14s starts at the render's %.3f s, %.1f steps apart\n", what,
               (double)from / 48000, off);
    }
    wav_free(&cap);
    free(out);
    free(err);
}

static void test_from_a_time(void)
{
    if (have_ref)
        from_check("--buffer 60 --stats --from 0:07.25", 348000, "--from 0:07.25");
}

// Starts where `cues` says (to the millisecond it prints; the frame count
// of --stats gives the exact frame), then matches the render from there.
static void from_row(const char *args, double cues_s, const char *what)
{
    int64_t at = llround(cues_s * 48000);
    CHECK(at > 0);
    if (at <= 0)
        return;
    char *o, *e;
    play(args, &o, &e);
    int64_t from = REF.frames - stat_value(o, "frames played: ");
    CHECK_MSG(llabs(from - at) <= 24, "%s starts at %lld, cues says %lld", what,
              (long long)from, (long long)at);
    free(o);
    free(e);
    from_check(args, from, what);
}

static void test_from_a_line(void)
{
    // Mara's line is chapter line 7.
    if (have_ref)
        from_row("--buffer 60 --stats --from-line 7", cues_start_s(CHAPTER, 0, "Hold the line"),
                 "--from-line 7");
}

static void test_from_a_cue(void)
{
    if (have_ref)
        from_row("--buffer 60 --stats --from-cue 6", cues_start_s(CHAPTER, 6, NULL),
                 "--from-cue 6");
}

static void test_no_device(void)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/nodev", test_tmpdir());
    mkdir(dir, 0700);
    write_asoundrc(dir, 0);
    char cmd[2048], *out = NULL;
    snprintf(cmd, sizeof cmd, "HOME=%s %s play %s", dir, radioplay_bin(), CHAPTER);
    int rc = run(cmd, &out);
    CHECK_INT(rc, 1);
    // One line, the error and what to do instead, no ALSA or JACK noise.
    CHECK_STR(out, "radioplay: error: no audio output device; use `radioplay render` to write a "
                   "file\n");
    free(out);
    snprintf(cmd, sizeof cmd, "HOME=%s %s devices", dir, radioplay_bin());
    rc = run(cmd, &out);
    CHECK_INT(rc, 1);
    CHECK(strstr(out, "no audio output device") && !strstr(out, "ALSA") && !strstr(out, "jack"));
    free(out);
}

static void test_devices_and_bad_options(void)
{
    char cmd[2048], *out = NULL;
    snprintf(cmd, sizeof cmd, "HOME=%s %s devices", home, radioplay_bin());
    CHECK_INT(run(cmd, &out), 0);
    CHECK(strncmp(out, "device\tname\thost_api\tchannels\trate\tdefault\n", 40) == 0);
    CHECK(strstr(out, "\tdefault\tALSA\t") && strstr(out, "\tdefault\n"));
    free(out);
    char *err;
    CHECK_INT(play("--device nosuchcard", &out, &err), 1);
    CHECK(strstr(err, "nosuchcard") && strstr(err, "radioplay devices"));
    free(out);
    free(err);
    CHECK_INT(play("--from 9:00", &out, &err), 2);
    // The chapter is 22-23 s long (it depends on the voices and the resampler).
    CHECK_MSG(strstr(err, "--from 9:00 is past the end of the chapter (0:2"), "%s", err);
    free(out);
    free(err);
    CHECK_INT(play("--from 1:75", &out, &err), 2);
    CHECK(strstr(err, "not a time"));
    free(out);
    free(err);
    CHECK_INT(play("--from-cue 99", &out, &err), 2);
    CHECK_MSG(strstr(err, "--from-cue 99: the timeline has"), "%s", err);
    free(out);
    free(err);
    CHECK_INT(play("--from 3 --from-line 4", &out, &err), 2);
    free(out);
    free(err);
}

// A cold play speaks the line it starts with in a job of its own, and the
// rest of that line's run in another, which speaks it again for the state
// it leaves (voicing.c, look_up_run): the clips it leaves in the cache are
// those a render makes, so a render from them synthesizes nothing and is
// the same bytes as a render without a cache.
static void test_a_cold_play_leaves_the_clips_a_render_makes(void)
{
    char cmd[8192], *out;
    const char *cache = tmp(0, "cold-play-cache");
    snprintf(cmd, sizeof cmd, "HOME=%s XDG_CACHE_HOME='%s' %s play %s --buffer 60 > /dev/null 2>&1",
             home, cache, radioplay_bin(), CHAPTER);
    CHECK_INT(run(cmd, &out), 0);
    free(out);
    snprintf(cmd, sizeof cmd, "XDG_CACHE_HOME='%s' %s render %s -o '%s' -v 2>&1", cache,
             radioplay_bin(), CHAPTER, tmp(1, "after-play.wav"));
    CHECK_INT(run(cmd, &out), 0);
    const char *clips = strstr(out, "clips: ");
    CHECK_MSG(clips && strstr(clips, " 0 synthesized"), "%s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "XDG_CACHE_HOME='%s' %s render %s -o '%s' --no-cache -q 2>&1",
             tmp(2, "unused-cache"), radioplay_bin(), CHAPTER, tmp(3, "no-cache.wav"));
    CHECK_INT(run(cmd, &out), 0);
    free(out);
    int same = same_file(tmp(1, "after-play.wav"), tmp(3, "no-cache.wav"));
    CHECK(same);
    if (same)
        printf("  a render from a cold play's cache: nothing synthesized, the same bytes\n");
}

// play --watch: when the chapter is edited, playback starts again with the
// edit in it (here at the end, where the first run stopped: from 0:00).
static void test_watch_plays_the_edit(void)
{
    char cmd[8192], *out;
    const char *ch = tmp(0, "watched.txt"), *log = tmp(1, "watch.out");
    snprintf(cmd, sizeof cmd,
             "cp %s '%s' && (HOME=%s %s play '%s' --watch --buffer 600 > '%s' 2>&1 < /dev/null & "
             "pid=$!; n=0; until grep -q 'the end' '%s' || [ $n -gt 600 ]; do sleep 0.05; "
             "n=$((n+1)); done; printf '\\nThe wall held until morning.\\n' >> '%s'; n=0; "
             "until [ $(grep -c 'the end' '%s') -ge 2 ] || [ $n -gt 600 ]; do sleep 0.05; "
             "n=$((n+1)); done; kill -INT $pid; wait $pid; echo rc=$?)",
             CHAPTER, ch, home, radioplay_bin(), ch, log, log, ch, log);
    run(cmd, &out);
    char *text = read_text(log);
    CHECK_MSG(strstr(out, "rc=0"), "%s", out);
    CHECK_MSG(text && strstr(text, "changed: playing again from 0:00"), "%s", text ? text : "");
    const char *again = text ? strstr(text, "changed:") : NULL;
    CHECK_MSG(again && strstr(again, "The wall held until morning."), "%s", text ? text : "");
    free(text);
    free(out);
}

// Under valgrind, PortAudio feeds memcheck uninitialised values that reach
// our callback's frame counts (test_device.c says more): skipped there.
// test_stream and test_console run the play code under valgrind without a
// device.
static int under_valgrind(void)
{
    const char *p = getenv("LD_PRELOAD");
    return p && strstr(p, "vgpreload") != NULL;
}

int main(void)
{
    if (under_valgrind()) {
        printf("  note  skipped under valgrind: PortAudio's uninitialised values would fail it\n");
        return TEST_SUMMARY("test_play");
    }
    // A JACK or PulseAudio server on the machine would add its devices.
    setenv("JACK_DEFAULT_SERVER", "radioplay-test-no-server", 1);
    setenv("PULSE_SERVER", "unix:/nonexistent/radioplay-test", 1);
    // Under `make asan`: ALSA unloads the plugins PortAudio probed, whose
    // constructors leak, before the process exits. tests/lsan.supp names
    // those allocations by the loader's _dl_init, which radioplay's stacks
    // reach only when unwound slowly (test_device.c says more); its own
    // leaks are still reported.
    const char *asan = getenv("ASAN_OPTIONS");
    if (asan) {
        char opts[2048];
        snprintf(opts, sizeof opts, "%s:fast_unwind_on_malloc=0", asan);
        setenv("ASAN_OPTIONS", opts, 1);
    }
    setup();
    RUN(test_plays_what_render_writes);
    RUN(test_level_before_any_render);
    RUN(test_from_a_time);
    RUN(test_from_a_line);
    RUN(test_from_a_cue);
    RUN(test_no_device);
    RUN(test_devices_and_bad_options);
    RUN(test_watch_plays_the_edit);
    RUN(test_a_cold_play_leaves_the_clips_a_render_makes);
    if (have_ref)
        wav_free(&REF);
    return TEST_SUMMARY("test_play");
}
