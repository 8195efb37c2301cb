// SPDX-License-Identifier: GPL-3.0-or-later
// The live source, without a device: a consumer thread plays the part of
// the audio callback, pulling blocks as a device would, and what it gets is
// compared with the file `radioplay render` writes for the same chapter,
// from the start, from a frame, a line and a cue, and across seeks and a
// pause. `make tsan` runs this under ThreadSanitizer.
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rp_stream.h"
#include "test.h"
#include "wav.h"

static char chapter_path[512], ref_path[512];
static wav REF;
static int have_ref;

static void nap_ms(int ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static void setup(void)
{
    // A scene with a bed, effects on their words, dialogue and a break.
    snprintf(chapter_path, sizeof chapter_path, "tests/data/wall.txt");
    snprintf(ref_path, sizeof ref_path, "%s/wall.wav", test_tmpdir());
    have_ref = render_reference(chapter_path, ref_path, &REF) == 0;
    CHECK(have_ref);
}

// A consumer standing in for the audio callback.
typedef struct {
    rp_stream *s;
    float *got;             // what was really played, interleaved stereo
    int64_t n_got, cap;
    int64_t stop_after;     // frames; then it stops pulling
    atomic_int stop;
} player;

static void *play_thread(void *arg)
{
    player *p = arg;
    float buf[2 * 1000];
    unsigned seed = 7;
    while (!atomic_load(&p->stop) && p->n_got < p->stop_after) {
        size_t n = 1 + (seed = seed * 1103515245u + 12345u) % 1000;
        rp_stream_info a, b;
        rp_stream_info_get(p->s, &a);
        rp_stream_pull(p->s, buf, n);
        rp_stream_info_get(p->s, &b);
        int64_t real = (int64_t)(b.frames - a.frames);  // the rest is silence
        if (p->n_got + real > p->cap)
            real = p->cap - p->n_got;
        memcpy(p->got + 2 * p->n_got, buf, (size_t)real * 2 * sizeof(float));
        p->n_got += real;
        if (b.ended)
            break;
        if (!real)
            nap_ms(1);
    }
    return NULL;
}

static rp_status open_stream(rp_drama *dr, rp_stream **s, rp_seek_kind kind, int64_t from,
                             double buffer_s)
{
    rp_diags d;
    rp_diags_init(&d);
    rp_drama_options o = {.chapter_path = chapter_path, .seed = -1};
    rp_status st = rp_drama_load(dr, &o, &d);
    rp_stream_options so = {.buffer_s = buffer_s, .from_kind = kind, .from = from};
    // The render of the reference remembered its loudness gain.
    if (!st)
        CHECK_INT(rp_drama_gain_recall(dr, &so.gain_db), 0);
    if (!st)
        st = rp_stream_new(s, dr, &so);
    rp_diags_deinit(&d);
    return st;
}

// Largest difference between got[0..n) and the render from frame `at`, in
// 16-bit steps. The render is float, so the stream must match it exactly
// (0.01 of a step allows for nothing but printing).
static double steps_off(const float *got, int64_t n, int64_t at)
{
    double worst = 0;
    for (int64_t i = 0; i < n && at + i < REF.frames; i++)
        for (int c = 0; c < 2; c++) {
            double e = fabs(got[2 * i + c] - REF.x[2 * (at + i) + c]) * 32768.0;
            worst = e > worst ? e : worst;
        }
    return worst;
}

// Plays from the given place to the end and compares with the render.
// expect_at: where it should start, to within `slack` frames (`cues` prints
// milliseconds).
static void play_from(rp_seek_kind kind, int64_t from, int64_t expect_at, int64_t slack,
                      const char *what)
{
    if (!have_ref)
        return;
    rp_drama dr;
    rp_stream *s = NULL;
    CHECK_INT(open_stream(&dr, &s, kind, from, 0.25), RP_OK);
    if (!s) {
        rp_drama_deinit(&dr);
        return;
    }
    player p = {.s = s, .cap = REF.frames + 48000, .stop_after = INT64_MAX};
    p.got = malloc((size_t)p.cap * 2 * sizeof(float));
    CHECK_INT(rp_stream_wait_ready(s), RP_OK);
    rp_stream_info i;
    rp_stream_info_get(s, &i);
    CHECK_MSG(llabs(i.pos - expect_at) <= slack, "starts at %lld, not %lld", (long long)i.pos,
              (long long)expect_at);
    expect_at = i.pos;
    pthread_t t;
    pthread_create(&t, NULL, play_thread, &p);
    pthread_join(t, NULL);
    rp_stream_info_get(s, &i);
    CHECK(i.ended);
    CHECK(i.exact && i.total == REF.frames);
    CHECK_INT(i.pos, REF.frames);
    CHECK_INT(p.n_got, REF.frames - expect_at);
    double off = steps_off(p.got, p.n_got, expect_at);
    CHECK_MSG(off <= 0.01, "%s: %.3f steps off the render", what, off);
    printf("  %-22s from %7.3f s: %7lld frames, %.1f 16-bit steps from the render, "
           "%llu underruns\n", what, (double)expect_at / 48000, (long long)p.n_got, off,
           (unsigned long long)i.underruns);
    rp_diags d;
    rp_diags_init(&d);
    CHECK_INT(rp_stream_free(s, &d), RP_OK);
    CHECK_INT((int)d.n_errors, 0);
    rp_diags_deinit(&d);
    rp_drama_deinit(&dr);
    free(p.got);
}

static void test_plays_what_render_writes(void)
{
    play_from(RP_SEEK_FRAME, 0, 0, 0, "from the start");
}

static void test_from_a_frame(void)
{
    play_from(RP_SEEK_FRAME, 123457, 123457, 0, "from a frame");
}

// Line 7 is Mara's quote; row 6 of `cues`. (`cues` prints milliseconds.)
static void test_from_a_line(void)
{
    int64_t at = llround(cues_start_s(chapter_path, 0, "Hold the line") * 48000);
    CHECK(at > 0);
    if (at > 0)
        play_from(RP_SEEK_LINE, 7, at, 24, "from line 7");
}

static void test_from_a_cue(void)
{
    int64_t at = llround(cues_start_s(chapter_path, 6, NULL) * 48000);
    CHECK(at > 0);
    if (at > 0)
        play_from(RP_SEEK_EVENT, 5, at, 24, "from cue 6");
}

// Pulls until n real frames came out (a seek may first give silence).
static int64_t pull_frames(rp_stream *s, float *got, int64_t n)
{
    int64_t have = 0;
    for (int spins = 0; have < n && spins < 100000; spins++) {
        rp_stream_info a, b;
        rp_stream_info_get(s, &a);
        size_t want = n - have < 480 ? (size_t)(n - have) : 480;
        rp_stream_pull(s, got + 2 * have, want);
        rp_stream_info_get(s, &b);
        int64_t real = (int64_t)(b.frames - a.frames);
        have += real;
        if (!real)
            nap_ms(1);
    }
    return have;
}

// Seeks and a pause while playing: after each, the audio is the render's
// from the new place.
static void test_seek_and_pause_while_playing(void)
{
    if (!have_ref)
        return;
    rp_drama dr;
    rp_stream *s = NULL;
    CHECK_INT(open_stream(&dr, &s, RP_SEEK_FRAME, 0, 0.25), RP_OK);
    if (!s) {
        rp_drama_deinit(&dr);
        return;
    }
    CHECK_INT(rp_stream_wait_ready(s), RP_OK);
    static float got[2 * 48000];
    // Play a second.
    CHECK_INT(pull_frames(s, got, 48000), 48000);
    CHECK_MSG(steps_off(got, 48000, 0) <= 0.01, "the first second");
    rp_stream_info i;
    rp_stream_info_get(s, &i);
    CHECK_INT(i.pos, 48000);
    // Paused: silence, and the position stays.
    rp_stream_pause(s, 1);
    float buf[2 * 512];
    rp_stream_pull(s, buf, 512);
    double e = 0;
    for (int k = 0; k < 1024; k++)
        e += fabs(buf[k]);
    CHECK(e == 0.0);
    rp_stream_info_get(s, &i);
    CHECK(i.paused && i.pos == 48000);
    rp_stream_pause(s, 0);
    // Back to 0.5 s, forward to 9 s, back to the start: each time, the next
    // 0.2 s are the render's from there.
    const int64_t targets[] = {24000, 432000, 100};
    for (size_t t = 0; t < 3; t++) {
        rp_stream_seek(s, RP_SEEK_FRAME, targets[t]);
        // Until the seek lands, pulls give silence or the old audio.
        for (int spins = 0; spins < 10000; spins++) {
            rp_stream_pull(s, buf, 0);
            rp_stream_info_get(s, &i);
            if (!i.seeking && i.pos == targets[t])
                break;
            nap_ms(1);
        }
        CHECK_INT(i.pos, targets[t]);
        CHECK_INT(pull_frames(s, got, 9600), 9600);
        double off = steps_off(got, 9600, targets[t]);
        CHECK_MSG(off <= 0.01, "after a seek to %lld: %.3f steps off", (long long)targets[t], off);
        rp_stream_info_get(s, &i);
        if (targets[t] == 432000)
            CHECK(i.utt >= 0 && i.rate_hz == 48000);
        if (targets[t] == 100)
            CHECK(i.utt == -1);  // before the first words
    }
    CHECK_INT(rp_stream_free(s, NULL), RP_OK);
    rp_drama_deinit(&dr);
}

// Time to first audio does not wait for the whole chapter: the stream is
// ready while most utterances are still unsynthesized.
static void test_ready_before_the_chapter_is_voiced(void)
{
    rp_drama dr;
    rp_stream *s = NULL;
    CHECK_INT(open_stream(&dr, &s, RP_SEEK_FRAME, 0, 1.0), RP_OK);
    if (!s) {
        rp_drama_deinit(&dr);
        return;
    }
    CHECK_INT(rp_stream_wait_ready(s), RP_OK);
    rp_stream_info i;
    rp_stream_info_get(s, &i);
    printf("  ready with %zu of %zu lines synthesized\n", i.voiced_at_start, i.n_utts);
    CHECK(i.n_utts == dr.plan.n_utts && i.n_utts > 8);
    CHECK(i.voiced_at_start >= 1 && i.voiced_at_start < i.n_utts / 2);
    CHECK_INT(rp_stream_free(s, NULL), RP_OK);
    rp_drama_deinit(&dr);
}

// espeak-ng's output depends on what the process spoke before, as `render`
// speaks a chapter from a fresh process: so does each test here.
static void fresh(void (*fn)(void))
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        int before = test_failed_checks;
        fn();
        fflush(stdout);
        _exit(test_failed_checks != before);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        test_failed_checks++;
        fprintf(stderr, "  (child exited with status %d)\n", status);
    }
}

#define FRESH(fn)                            \
    static void fn##_fresh(void)             \
    {                                        \
        fresh(fn);                           \
    }
FRESH(test_plays_what_render_writes)
FRESH(test_from_a_frame)
FRESH(test_from_a_line)
FRESH(test_from_a_cue)
FRESH(test_seek_and_pause_while_playing)
FRESH(test_ready_before_the_chapter_is_voiced)

int main(void)
{
    setup();
    RUN(test_plays_what_render_writes_fresh);
    RUN(test_from_a_frame_fresh);
    RUN(test_from_a_line_fresh);
    RUN(test_from_a_cue_fresh);
    RUN(test_seek_and_pause_while_playing_fresh);
    RUN(test_ready_before_the_chapter_is_voiced_fresh);
    if (have_ref)
        wav_free(&REF);
    return TEST_SUMMARY("test_stream");
}
