// SPDX-License-Identifier: GPL-3.0-or-later
// Tests for the PortAudio sink, through real PortAudio and ALSA, headless:
// each test points HOME at a fresh directory whose .asoundrc makes ALSA's
// default device either a `file` plugin over `null` (whatever is played
// lands in a WAV we read back and measure) or a card that does not exist (no
// output device at all). The null device is not paced, so a second of audio
// plays in milliseconds. Also checked: that none of PortAudio's ALSA/JACK
// chatter reaches stderr, device selection by number and by name, and that
// ALSA re-reads its configuration on every open.
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rp_common.h"
#include "rp_device.h"
#include "test.h"
#include "wav.h"

#define RATE 48000
#define TONE_HZ 440.0
#define TONE_AMP 0.5

// ---- fixtures ----------------------------------------------------------------

// The capture device. alsa-lib's `file` plugin (1.2.8) accepts FLOAT_LE,
// which PortAudio then sends, but labels it 32-bit integer PCM in the WAV
// header; the `plug` in front makes the file hold real S32_LE, as a card
// would take it.
#define CAPTURE_PCM                                                                                \
    "{ type plug; slave { pcm { type file; slave.pcm \"null\"; file \"%s/cap.wav\"; "              \
    "format \"wav\" }; format S32_LE } }\n"
static const char CAPTURE_RC[] = "pcm.!default " CAPTURE_PCM;
static const char NODEV_RC[] = "pcm.!default { type hw; card 9 }\n";
// Several devices: two that share a prefix, and one whose name contains
// "default" (as ALSA's "sysdefault" does on a real machine).
static const char MULTI_RC[] =
    "pcm.!default " CAPTURE_PCM "pcm.radio_a { type file; slave.pcm \"null\"; file \"%s/a.wav\" }\n"
    "pcm.radio_b { type file; slave.pcm \"null\"; file \"%s/b.wav\" }\n"
    "pcm.mydefault { type file; slave.pcm \"null\"; file \"%s/m.wav\" }\n";

static char home[512];

// A fresh HOME with this .asoundrc (every %s becomes the directory).
static const char *make_home(const char *rc)
{
    snprintf(home, sizeof home, "%.400s/homeXXXXXX", test_tmpdir());
    if (!mkdtemp(home)) {
        home[0] = '\0';
        return NULL;
    }
    char path[600];
    snprintf(path, sizeof path, "%s/.asoundrc", home);
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    fprintf(f, rc, home, home, home, home);
    fclose(f);
    setenv("HOME", home, 1);
    return home;
}

static const char *home_file(const char *name)
{
    static char path[600];
    snprintf(path, sizeof path, "%s/%s", home, name);
    return path;
}

// stderr into a file, to see what the module lets through.
static int saved_stderr = -1;

static void capture_stderr(const char *path)
{
    fflush(stderr);
    saved_stderr = dup(2);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        dup2(fd, 2);
        close(fd);
    }
}

// Restores stderr; returns how many bytes were written meanwhile.
static long release_stderr(const char *path)
{
    fflush(stderr);
    if (saved_stderr >= 0) {
        dup2(saved_stderr, 2);
        close(saved_stderr);
        saved_stderr = -1;
    }
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

// A cosine on the left channel (so the first frame is at full amplitude and
// marks the start), silence on the right. frames is written by the audio
// thread only and read by the test.
typedef struct {
    atomic_uint_least64_t frames;
} tone;

static double tone_at(uint64_t k)
{
    return TONE_AMP * cos(2.0 * M_PI * TONE_HZ * (double)k / RATE);
}

static void tone_pull(void *user, float *out, size_t n)
{
    tone *t = user;
    uint64_t k = atomic_load_explicit(&t->frames, memory_order_relaxed);
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = (float)tone_at(k + i);
        out[2 * i + 1] = 0.0f;
    }
    atomic_store_explicit(&t->frames, k + n, memory_order_release);
}

// Waits until the device has pulled at least n frames; 0 on timeout.
static int wait_frames(tone *t, uint64_t n, double timeout_s)
{
    double end = rp_now_s() + timeout_s;
    while (atomic_load_explicit(&t->frames, memory_order_acquire) < n) {
        if (rp_now_s() > end)
            return 0;
        sleep_ms(1);
    }
    return 1;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

// The one error in d (NULL unless there is exactly one diagnostic and it is
// an error).
static const rp_diag *only_error(const rp_diags *d)
{
    return d->n == 1 && d->n_errors == 1 && d->items[0].sev == RP_DIAG_ERROR ? &d->items[0] : NULL;
}

static const char NO_DEVICE_MSG[] =
    "no audio output device; use `radioplay render` to write a file";

// ---- listing -------------------------------------------------------------------

static void test_list_capture(void)
{
    CHECK(make_home(CAPTURE_RC));
    rp_strbuf out;
    rp_strbuf_init(&out);
    rp_diags d;
    rp_diags_init(&d);
    double t0 = rp_now_s();
    CHECK_INT(rp_device_list(&out, &d), RP_OK);
    double took = rp_now_s() - t0;
    CHECK_INT(d.n, 0);
    // The capture device, and on a machine with sound cards, theirs: the
    // line marked default is ours.
    CHECK(count_lines(out.s) >= 1);
    // "N\tNAME\tHOSTAPI\tCHANNELS\tRATE\tdefault"
    char name[64] = "", api[64] = "", mark[16] = "";
    int idx = -1, ch = 0;
    double rate = 0;
    const char *line = out.s ? strstr(out.s, "\tdefault\tALSA\t") : NULL;
    while (line && line > out.s && line[-1] != '\n')
        line--;
    int got = line ? sscanf(line, "%d\t%63[^\t]\t%63[^\t]\t%d\t%lf\t%15[^\n]", &idx, name, api,
                            &ch, &rate, mark)
                   : 0;
    CHECK_INT(got, 6);
    CHECK(idx >= 0);
    CHECK_STR(name, "default");
    CHECK_STR(api, "ALSA");
    CHECK(ch >= 2);
    CHECK(rate >= 8000);
    CHECK_STR(mark, "default");
    CHECK(out.s && strstr(out.s, "\tdefault\n"));
    printf("  note  listing (Pa_Initialize, enumeration, Pa_Terminate) took %.0f ms\n", took * 1e3);
    rp_strbuf_deinit(&out);
    rp_diags_deinit(&d);
}

static void test_list_several(void)
{
    CHECK(make_home(MULTI_RC));
    rp_strbuf out;
    rp_strbuf_init(&out);
    rp_diags d;
    rp_diags_init(&d);
    CHECK_INT(rp_device_list(&out, &d), RP_OK);
    CHECK(count_lines(out.s) >= 4);
    const char *names[] = {"\tradio_a\t", "\tradio_b\t", "\tmydefault\t", "\tdefault\t"};
    for (int i = 0; i < 4; i++)
        CHECK_MSG(out.s && strstr(out.s, names[i]), "%s missing from:\n%s", names[i], out.s);
    // Exactly one line is marked, and it is the one named "default".
    int marked = 0;
    for (const char *p = out.s; p && (p = strstr(p, "\tdefault\n")); p++)
        marked++;
    CHECK_INT(marked, 1);
    const char *line = out.s ? strstr(out.s, "\tdefault\tALSA") : NULL;
    const char *eol = line ? strchr(line, '\n') : NULL;
    CHECK(eol && !strncmp(eol - 8, "\tdefault", 8));
    rp_strbuf_deinit(&out);
    rp_diags_deinit(&d);
}

// ---- playing into the capture file -----------------------------------------------

// Goertzel power of frequency f in channel ch over frames [a, a + n).
static double goertzel(const wav *w, int ch, int64_t a, int64_t n, double f)
{
    double k = 2.0 * cos(2.0 * M_PI * f / w->rate), s1 = 0, s2 = 0;
    for (int64_t i = a; i < a + n; i++) {
        double s0 = w->x[i * w->channels + ch] + k * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    return s1 * s1 + s2 * s2 - k * s1 * s2;
}

static void test_capture_tone(void)
{
    CHECK(make_home(CAPTURE_RC));
    rp_diags d;
    rp_diags_init(&d);
    tone t;
    atomic_init(&t.frames, 0);
    rp_device *dev = NULL;
    CHECK_INT(rp_device_open(&dev, NULL, RATE, 2, tone_pull, &t, &d), RP_OK);
    if (!dev) {
        rp_diags_deinit(&d);
        return;
    }
    CHECK_STR(rp_device_name(dev), "default");
    double lat = rp_device_latency_s(dev);
    CHECK(lat > 0 && lat < 2.0);
    CHECK_INT(atomic_load(&t.frames), 0); // silent until started
    double t0 = rp_now_s();
    CHECK_INT(rp_device_start(dev, &d), RP_OK);
    CHECK_INT(rp_device_start(dev, &d), RP_OK); // a second start does nothing
    CHECK(wait_frames(&t, RATE, 10.0));
    double waited = rp_now_s() - t0;
    CHECK_INT(rp_device_stop(dev, &d), RP_OK);
    CHECK_INT(rp_device_stop(dev, &d), RP_OK);
    uint64_t pulled = atomic_load(&t.frames);
    uint64_t xruns = rp_device_xruns(dev);
    rp_device_close(dev);
    CHECK_INT(d.n, 0);
    printf("  note  1 s pulled in %.0f ms; %llu frames pulled, latency %.1f ms, %llu xruns\n",
           waited * 1e3, (unsigned long long)pulled, lat * 1e3, (unsigned long long)xruns);

    wav w;
    CHECK_INT(wav_read(home_file("cap.wav"), &w), 0);
    if (!w.x) {
        rp_diags_deinit(&d);
        return;
    }
    CHECK_INT(w.rate, RATE);
    CHECK_INT(w.channels, 2);
    // PortAudio primes the device with silence; the tone starts at the first
    // frame at full amplitude.
    int64_t start = wav_onset(&w, 0.0, TONE_AMP / 2);
    CHECK(start >= 0);
    if (start < 0)
        start = 0;
    int64_t played = w.frames - start;
    CHECK_MSG(played >= RATE, "%lld frames of tone captured", (long long)played);
    // Every frame pulled reached the device, and nothing else after the
    // priming. (The null device is unpaced, so draining and dropping look
    // alike here: this does not tell Pa_StopStream from Pa_AbortStream.)
    CHECK_INT(played, (int64_t)pulled);
    for (int64_t i = 0; i < start; i++)
        CHECK_MSG(w.x[2 * i] == 0 && w.x[2 * i + 1] == 0, "priming frame %lld not silent",
                  (long long)i);
    // Sample for sample the tone we gave: no gap, repeat or reorder.
    double max_err = 0, max_right = 0;
    for (int64_t i = 0; i < played; i++) {
        double e = fabs(w.x[2 * (start + i)] - tone_at((uint64_t)i));
        double r = fabs(w.x[2 * (start + i) + 1]);
        max_err = e > max_err ? e : max_err;
        max_right = r > max_right ? r : max_right;
    }
    CHECK_MSG(max_err < 1e-5, "left differs from the tone by up to %g", max_err);
    CHECK_MSG(max_right < 1e-6, "right channel peaks at %g", max_right);
    // Level and frequency over the first second of tone.
    double t_start = (double)start / RATE;
    double rms = wav_rms(&w, 0, t_start, t_start + 1.0);
    CHECK_NEAR(rms, TONE_AMP / sqrt(2.0), 0.01 * TONE_AMP / sqrt(2.0));
    CHECK(wav_rms(&w, 1, t_start, t_start + 1.0) < 1e-6);
    int crossings = 0;
    for (int64_t i = start + 1; i < start + RATE && i < w.frames; i++)
        crossings += (w.x[2 * (i - 1)] < 0) != (w.x[2 * i] < 0);
    CHECK_NEAR(crossings / 2.0, TONE_HZ, 1.0);
    double p440 = goertzel(&w, 0, start, RATE, TONE_HZ);
    const double others[] = {220.0, 400.0, 480.0, 880.0, 1000.0};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        CHECK_MSG(p440 > 1e4 * goertzel(&w, 0, start, RATE, others[i]),
                  "%g Hz not far below 440 Hz", others[i]);
    wav_free(&w);
    rp_diags_deinit(&d);
}

static void test_restart(void)
{
    CHECK(make_home(CAPTURE_RC));
    rp_diags d;
    rp_diags_init(&d);
    tone t;
    atomic_init(&t.frames, 0);
    rp_device *dev = NULL;
    CHECK_INT(rp_device_open(&dev, NULL, RATE, 2, tone_pull, &t, &d), RP_OK);
    if (!dev) {
        rp_diags_deinit(&d);
        return;
    }
    CHECK_INT(rp_device_start(dev, &d), RP_OK);
    CHECK(wait_frames(&t, RATE / 10, 10.0));
    CHECK_INT(rp_device_stop(dev, &d), RP_OK);
    uint64_t first = atomic_load(&t.frames);
    sleep_ms(20);
    CHECK_INT(atomic_load(&t.frames), first); // stopped means no more pulls
    CHECK_INT(rp_device_start(dev, &d), RP_OK);
    CHECK(wait_frames(&t, first + RATE / 10, 10.0));
    CHECK_INT(rp_device_stop(dev, &d), RP_OK);
    rp_device_close(dev);
    CHECK_INT(d.n, 0);
    // Closing a playing device cuts it off without draining.
    rp_device *dev2 = NULL;
    CHECK_INT(rp_device_open(&dev2, NULL, RATE, 2, tone_pull, &t, &d), RP_OK);
    if (dev2) {
        CHECK_INT(rp_device_start(dev2, &d), RP_OK);
        rp_device_close(dev2);
    }
    rp_device_close(NULL);
    CHECK_INT(d.n, 0);
    rp_diags_deinit(&d);
}

// ---- no noise on stderr ------------------------------------------------------------

static void test_stderr_clean(void)
{
    CHECK(make_home(CAPTURE_RC));
    char err_path[600];
    snprintf(err_path, sizeof err_path, "%s/stderr.txt", home);
    rp_strbuf out;
    rp_strbuf_init(&out);
    rp_diags d;
    rp_diags_init(&d);
    tone t;
    atomic_init(&t.frames, 0);
    rp_device *dev = NULL;

    capture_stderr(err_path);
    rp_status st_list = rp_device_list(&out, &d);
    rp_status st_open = rp_device_open(&dev, "default", RATE, 2, tone_pull, &t, &d);
    rp_status st_start = dev ? rp_device_start(dev, &d) : RP_ERR_IO;
    int played = wait_frames(&t, RATE / 2, 10.0);
    rp_status st_stop = dev ? rp_device_stop(dev, &d) : RP_ERR_IO;
    rp_device_close(dev);
    // And the failing paths, with no device at all.
    make_home(NODEV_RC);
    rp_device *none = NULL;
    rp_status st_none = rp_device_open(&none, NULL, RATE, 2, tone_pull, &t, &d);
    rp_status st_none_list = rp_device_list(&out, &d);
    long bytes = release_stderr(err_path);

    CHECK_INT(st_list, RP_OK);
    CHECK_INT(st_open, RP_OK);
    CHECK_INT(st_start, RP_OK);
    CHECK(played);
    CHECK_INT(st_stop, RP_OK);
    CHECK_INT(st_none, RP_ERR_IO);
    CHECK_INT(st_none_list, RP_ERR_IO);
    char *text = read_text(err_path);
    CHECK_MSG(bytes == 0, "%ld bytes on stderr:\n%.600s", bytes, text ? text : "");
    free(text);

    // The control: RADIOPLAY_AUDIO_DEBUG=1 lets PortAudio speak. How much it
    // says depends on the machine (a real sound card quiets ALSA), so this is
    // reported, not checked.
    make_home(CAPTURE_RC);
    snprintf(err_path, sizeof err_path, "%s/stderr.txt", home);
    setenv("RADIOPLAY_AUDIO_DEBUG", "1", 1);
    capture_stderr(err_path);
    rp_status st_dbg = rp_device_list(&out, &d);
    bytes = release_stderr(err_path);
    unsetenv("RADIOPLAY_AUDIO_DEBUG");
    CHECK_INT(st_dbg, RP_OK);
    printf("  note  with RADIOPLAY_AUDIO_DEBUG=1 listing wrote %ld bytes to stderr\n", bytes);
    // stderr works again afterwards.
    CHECK(fprintf(stderr, "%s", "") >= 0);
    rp_strbuf_deinit(&out);
    rp_diags_deinit(&d);
}

// ---- no device -----------------------------------------------------------------------

static void test_no_device(void)
{
    CHECK(make_home(NODEV_RC));
    tone t;
    atomic_init(&t.frames, 0);
    const char *whichs[] = {NULL, "", "0", "default", "nosuchcard"};
    for (size_t i = 0; i < sizeof whichs / sizeof whichs[0]; i++) {
        rp_diags d;
        rp_diags_init(&d);
        rp_device *dev = (rp_device *)&t; // must be reset to NULL
        CHECK_INT(rp_device_open(&dev, whichs[i], RATE, 2, tone_pull, &t, &d), RP_ERR_IO);
        CHECK(dev == NULL);
        const rp_diag *e = only_error(&d);
        CHECK_MSG(e != NULL, "which=%s: %zu diagnostics", whichs[i] ? whichs[i] : "NULL", d.n);
        if (e) {
            CHECK_STR(e->msg, NO_DEVICE_MSG);
            CHECK_STR(e->subsystem, "play");
            CHECK(e->file == NULL);
            CHECK_INT(e->line, 0);
        }
        rp_diags_deinit(&d);
    }
    rp_strbuf out;
    rp_strbuf_init(&out);
    rp_diags d;
    rp_diags_init(&d);
    CHECK_INT(rp_device_list(&out, &d), RP_ERR_IO);
    CHECK_INT(out.len, 0);
    const rp_diag *e = only_error(&d);
    CHECK(e != NULL);
    if (e)
        CHECK_STR(e->msg, NO_DEVICE_MSG);
    // Printed the way main.c prints it: no location.
    char buf[256];
    if (e)
        CHECK(strstr(rp_diag_format(e, buf, sizeof buf), NO_DEVICE_MSG) != NULL);
    rp_strbuf_deinit(&out);
    rp_diags_deinit(&d);
}

// ---- --device ------------------------------------------------------------------------

// Opens `which` (no playing) and returns the device's name in name_out, or
// the status with the diagnostics in d.
static rp_status try_open(const char *which, char *name_out, size_t cap, rp_diags *d)
{
    static tone t;
    rp_device *dev = NULL;
    rp_status st = rp_device_open(&dev, which, RATE, 2, tone_pull, &t, d);
    snprintf(name_out, cap, "%s", dev ? rp_device_name(dev) : "");
    rp_device_close(dev);
    return st;
}

static void test_select(void)
{
    CHECK(make_home(CAPTURE_RC));
    char name[128];
    const char *good[] = {NULL, "", "0", "default", "DEFAULT", "fAu"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        rp_diags d;
        rp_diags_init(&d);
        CHECK_MSG(try_open(good[i], name, sizeof name, &d) == RP_OK, "which=%s",
                  good[i] ? good[i] : "NULL");
        CHECK_STR(name, "default");
        CHECK_INT(d.n, 0);
        rp_diags_deinit(&d);
    }
    const char *bad[] = {"7", "99999999999999999999", "nosuchcard"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rp_diags d;
        rp_diags_init(&d);
        CHECK_INT(try_open(bad[i], name, sizeof name, &d), RP_ERR_IO);
        const rp_diag *e = only_error(&d);
        CHECK_MSG(e != NULL, "which=%s: %zu diagnostics", bad[i], d.n);
        if (e) {
            CHECK_MSG(strstr(e->msg, bad[i]) != NULL, "'%s' not named in: %s", bad[i], e->msg);
            CHECK(e->hint && strstr(e->hint, "'radioplay devices' lists them"));
            CHECK_STR(e->subsystem, "play");
            CHECK(e->file == NULL);
        }
        rp_diags_deinit(&d);
    }
}

static void test_select_several(void)
{
    CHECK(make_home(MULTI_RC));
    char name[128];
    rp_diags d;
    rp_diags_init(&d);
    // An exact name wins over names containing it.
    CHECK_INT(try_open("default", name, sizeof name, &d), RP_OK);
    CHECK_STR(name, "default");
    CHECK_INT(try_open("RADIO_B", name, sizeof name, &d), RP_OK);
    CHECK_STR(name, "radio_b");
    CHECK_INT(try_open("mydef", name, sizeof name, &d), RP_OK);
    CHECK_STR(name, "mydefault");
    CHECK_INT(try_open(NULL, name, sizeof name, &d), RP_OK);
    CHECK_STR(name, "default");
    CHECK_INT(d.n, 0);
    // Ambiguous: an error naming the candidates.
    CHECK_INT(try_open("radio", name, sizeof name, &d), RP_ERR_IO);
    const rp_diag *e = only_error(&d);
    CHECK(e != NULL);
    if (e) {
        CHECK_MSG(strstr(e->msg, "'radio_a'") && strstr(e->msg, "'radio_b'"), "%s", e->msg);
        CHECK(e->hint && strstr(e->hint, "'radioplay devices' lists them"));
    }
    rp_diags_deinit(&d);
    // Numbers are the listing's.
    rp_strbuf out;
    rp_strbuf_init(&out);
    rp_diags_init(&d);
    CHECK_INT(rp_device_list(&out, &d), RP_OK);
    for (const char *line = out.s; line && *line;) {
        int n = -1;
        char listed[128] = "";
        if (sscanf(line, "%d\t%127[^\t]", &n, listed) == 2) {
            char num[16];
            snprintf(num, sizeof num, "%d", n);
            CHECK_INT(try_open(num, name, sizeof name, &d), RP_OK);
            CHECK_STR(name, listed);
        }
        const char *nl = strchr(line, '\n');
        line = nl ? nl + 1 : NULL;
    }
    CHECK_INT(d.n, 0);
    rp_strbuf_deinit(&out);
    rp_diags_deinit(&d);
}

// ---- what the device cannot do ---------------------------------------------------------

static void test_unsupported(void)
{
    CHECK(make_home(CAPTURE_RC));
    tone t;
    atomic_init(&t.frames, 0);
    rp_diags d;
    rp_diags_init(&d);
    rp_device *dev = NULL;
    // ALSA refuses rates above 768 kHz.
    CHECK_INT(rp_device_open(&dev, NULL, 1000000, 2, tone_pull, &t, &d), RP_ERR_IO);
    CHECK(dev == NULL);
    const rp_diag *e = only_error(&d);
    CHECK(e != NULL);
    if (e) {
        CHECK_MSG(strstr(e->msg, "'default'") && strstr(e->msg, "1000000 Hz"), "%s", e->msg);
        CHECK(e->hint && strstr(e->hint, "try --rate "));
        CHECK(e->file == NULL);
    }
    rp_diags_deinit(&d);
    rp_diags_init(&d);
    CHECK_INT(rp_device_open(&dev, NULL, RATE, 4096, tone_pull, &t, &d), RP_ERR_IO);
    e = only_error(&d);
    CHECK(e != NULL);
    if (e)
        CHECK_MSG(strstr(e->msg, "'default'") && strstr(e->msg, "4096"), "%s", e->msg);
    rp_diags_deinit(&d);
    // After the failures PortAudio is back to uninitialised: an open works.
    rp_diags_init(&d);
    CHECK_INT(rp_device_open(&dev, NULL, 44100, 2, tone_pull, &t, &d), RP_OK);
    rp_device_close(dev);
    rp_diags_deinit(&d);
}

// ---- ALSA re-reads its configuration on every open ---------------------------------------

static void test_config_reread(void)
{
    const char *rcs[] = {CAPTURE_RC, NODEV_RC, MULTI_RC, CAPTURE_RC};
    const size_t want[] = {1, 0, 4, 1};
    for (size_t i = 0; i < 4; i++) {
        CHECK(make_home(rcs[i]));
        rp_strbuf out;
        rp_strbuf_init(&out);
        rp_diags d;
        rp_diags_init(&d);
        rp_status st = rp_device_list(&out, &d);
        CHECK_INT(st, want[i] ? RP_OK : RP_ERR_IO);
        CHECK_MSG(count_lines(out.s) == want[i], "config %zu: %zu devices, %zu expected", i,
                  count_lines(out.s), want[i]);
        rp_strbuf_deinit(&out);
        rp_diags_deinit(&d);
    }
}

// Sanitizers and valgrind. Every Pa_Initialize makes ALSA dlopen the plugins
// PortAudio probes (a52, jack, pulse, ...; a52 brings libavcodec, libgomp
// and pixman), whose constructors leak, and dlclose them again, so their
// frames have no name by the time LeakSanitizer reports. tests/lsan.supp
// names these allocations by the loader's _dl_init instead, which the stack
// reaches only when it is unwound slowly, through the plugins' frames that
// lack frame pointers. Under valgrind: PortAudio's ALSA host API hands
// libasound uninitialised values of its own stack while it probes devices,
// and memcheck follows them into the frame counts our callback gets, so it
// reports our code for values that are not ours. The tests are skipped
// there, with a note; test_stream runs the callback's code under valgrind
// without a device.
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}

static int under_valgrind(void)
{
    const char *p = getenv("LD_PRELOAD");
    return p && strstr(p, "vgpreload") != NULL;
}

int main(void)
{
    // A JACK or PulseAudio server on the machine would add its devices.
    setenv("JACK_DEFAULT_SERVER", "radioplay-test-no-server", 1);
    setenv("PULSE_SERVER", "unix:/nonexistent/radioplay-test", 1);
    if (under_valgrind()) {
        printf("  note  skipped under valgrind: PortAudio's uninitialised values would fail it\n");
        return TEST_SUMMARY("test_device");
    }
    RUN(test_list_capture);
    RUN(test_list_several);
    RUN(test_capture_tone);
    RUN(test_restart);
    RUN(test_stderr_clean);
    RUN(test_no_device);
    RUN(test_select);
    RUN(test_select_several);
    RUN(test_unsupported);
    RUN(test_config_reread);
    return TEST_SUMMARY("test_device");
}
