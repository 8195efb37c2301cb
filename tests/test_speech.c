// SPDX-License-Identifier: GPL-3.0-or-later
// Tests for speech with the cast sheet's [say] respellings, with real
// espeak-ng: the respelled text and its map back to the original, that a
// respelled word changes the audio exactly as speaking the respelling would,
// that phonemes in [[ ]] are spoken as phonemes, that word marks after a
// respelled word still point at the right code points of the original text,
// that a voice loaded ahead of a line (a worker's zygote per voice)
// leaves the line the same samples as loading it with the line, and that
// espeak-ng linked statically brings no audio library with it.
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rp_cast.h"
#include "rp_speech.h"
#include "test.h"

// Code point index of the first occurrence of needle in s, or -1.
static int32_t cp_index(const char *s, const char *needle)
{
    const char *p = strstr(s, needle);
    return p ? (int32_t)rp_utf8_count(s, (size_t)(p - s)) : -1;
}

static rp_respelling entry(const char *word, const char *say)
{
    return (rp_respelling){(char *)word, (char *)say, 1};
}

// ---- the text --------------------------------------------------------------------

static void test_respell_text(void)
{
    rp_respelling list[] = {
        entry("Ksena", "Kseh-nah"),
        entry("Thal'Karn", "[[T'al.k'A@n]]"),
        entry("Vos", "[[v'0s]]"),
        entry("Kip", "[[k'Ip]]"),
    };
    const char *text = "Ksena\xE2\x80\x99s friend Thal'Karn's ship, Ksena-like; Vos's and "
                       "Kip's. ksena stays.";
    rp_respelled r;
    CHECK_INT(rp_respell(list, 4, text, &r), RP_OK);
    CHECK_STR(r.text, "Kseh-nah's friend [[T'al.k'A@nz]] ship, Kseh-nah-like; [[v'0sI#z]] and "
                      "[[k'Ips]]. ksena stays.");
    CHECK_INT(r.has_phonemes, 1);
    CHECK_INT(r.n, rp_utf8_count(r.text, strlen(r.text)));
    CHECK_INT(r.n_orig, rp_utf8_count(text, strlen(text)));
    // Untouched words map to themselves in the original...
    static const char *const kept[] = {"friend", "ship", "-like", "and", "stays", "ksena"};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        int32_t at = cp_index(r.text, kept[i]), want = cp_index(text, kept[i]);
        for (int32_t k = 0; at >= 0 && k < (int32_t)strlen(kept[i]); k++)
            CHECK_MSG(r.orig[at + k] == want + k, "%s+%d -> %d, want %d", kept[i], k,
                      r.orig[at + k], want + k);
    }
    // ...and every code point of a respelling to the start of its word.
    int32_t at = cp_index(r.text, "[[T'al"), want = cp_index(text, "Thal'Karn's");
    for (int32_t k = 0; k < (int32_t)strlen("[[T'al.k'A@nz]]"); k++)
        CHECK_INT(r.orig[at + k], want);
    CHECK_INT(r.orig[0], 0);
    CHECK_INT(r.orig[9], 0);  // the 's of Ksena's
    rp_respelled_deinit(&r);

    // Nothing to respell: the same text, the identity map, no phonemes flag.
    CHECK_INT(rp_respell(list, 2, "Nobody here, [[not]] even Ksenas.", &r), RP_OK);
    CHECK_STR(r.text, "Nobody here, [[not]] even Ksenas.");
    CHECK_INT(r.has_phonemes, 0);
    for (size_t k = 0; k < r.n; k++)
        CHECK_INT(r.orig[k], (int32_t)k);
    rp_respelled_deinit(&r);
    CHECK_INT(rp_respell(NULL, 0, "", &r), RP_OK);
    CHECK_STR(r.text, "");
    CHECK_INT(r.n, 0);
    rp_respelled_deinit(&r);
    rp_respelled_deinit(NULL);
}

// ---- the audio -------------------------------------------------------------------

static rp_speech *SP;
static rp_cast CAST;

static void say(const rp_respelling *list, size_t n, const char *text, rp_clip *out)
{
    rp_speech_set_respellings(SP, list, n);
    // espeak-ng's output depends a little on what it said last: say the same
    // thing before every measured utterance so that they compare exactly.
    rp_clip warm;
    CHECK_INT(rp_speech_say(SP, &CAST.narrator, "Ready.", &warm), RP_OK);
    rp_clip_deinit(&warm);
    CHECK_INT(rp_speech_say(SP, &CAST.narrator, text, out), RP_OK);
}

static double seconds(const rp_clip *c)
{
    return (double)c->n_frames / (c->rate_hz ? c->rate_hz : 1);
}

// Correlation of the 20 ms RMS envelopes of two clips over their common
// length: 1 for the same speech. (Samples cannot be compared: espeak-ng's
// noise and phase differ from call to call even for the same text.)
static double envelope_match(const rp_clip *a, const rp_clip *b)
{
    enum { MAX_WIN = 2000 };
    static double ea[MAX_WIN], eb[MAX_WIN];
    int64_t w = a->rate_hz / 50, n = a->n_frames < b->n_frames ? a->n_frames : b->n_frames;
    size_t k = 0;
    for (int64_t s = 0; s + w <= n && k < MAX_WIN; s += w, k++) {
        double x = 0, y = 0;
        for (int64_t i = s; i < s + w; i++) {
            x += a->pcm[i] * (double)a->pcm[i];
            y += b->pcm[i] * (double)b->pcm[i];
        }
        ea[k] = sqrt(x / (double)w);
        eb[k] = sqrt(y / (double)w);
    }
    double ma = 0, mb = 0, ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < k; i++)
        ma += ea[i] / (double)k, mb += eb[i] / (double)k;
    for (size_t i = 0; i < k; i++) {
        ab += (ea[i] - ma) * (eb[i] - mb);
        aa += (ea[i] - ma) * (ea[i] - ma);
        bb += (eb[i] - mb) * (eb[i] - mb);
    }
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0;
}

// Largest difference between the word frames of two clips, in seconds.
static double word_drift(const rp_clip *a, const rp_clip *b)
{
    double worst = 0;
    for (size_t i = 0; i < a->n_words && i < b->n_words; i++) {
        double d = fabs((double)(a->words[i].frame - b->words[i].frame)) / a->rate_hz;
        worst = d > worst ? d : worst;
    }
    return worst;
}

static void test_respelling_changes_audio(void)
{
    const char *text = "Ksena waited by the door.";
    const int32_t marks[] = {0, 6, 13, 16, 20};  // Ksena waited by the door
    rp_respelling long_name = entry("Ksena", "Constantinople");
    rp_clip plain, respelled, direct;
    say(NULL, 0, text, &plain);
    say(&long_name, 1, text, &respelled);
    say(NULL, 0, "Constantinople waited by the door.", &direct);
    // The respelling is what is heard: longer than the plain name, and the
    // same audio as writing the respelling into the text.
    CHECK_MSG(seconds(&respelled) > seconds(&plain) + 0.15, "respelled %.3f s, plain %.3f s",
              seconds(&respelled), seconds(&plain));
    CHECK_INT(respelled.n_frames, direct.n_frames);
    double same = envelope_match(&respelled, &direct), other = envelope_match(&plain, &direct);
    CHECK_MSG(same > 0.99 && other < 0.9, "envelope match %.4f (plain: %.4f)", same, other);
    // Word marks point into the original text, at the words that follow.
    CHECK_INT(respelled.n_words, 5);
    CHECK_INT(plain.n_words, 5);
    for (size_t i = 0; i < respelled.n_words && i < 5; i++) {
        CHECK_INT(respelled.words[i].char_pos, marks[i]);
        CHECK_INT(plain.words[i].char_pos, marks[i]);
    }
    // ...and at the times the respelled words are spoken.
    CHECK_INT(direct.n_words, 5);
    CHECK(word_drift(&respelled, &direct) < 1e-9);
    CHECK(respelled.n_words > 1 && plain.n_words > 1 &&
          respelled.words[1].frame > plain.words[1].frame + plain.rate_hz / 10);
    rp_clip_deinit(&plain);
    rp_clip_deinit(&respelled);
    rp_clip_deinit(&direct);
}

static void test_phonemes_are_spoken_as_phonemes(void)
{
    // espeak-ng's own phonemes for the respelling, pasted back in [[ ]] as a
    // user would from `radioplay say`, sound like the respelling.
    rp_strbuf ph;
    rp_strbuf_init(&ph);
    rp_speech_set_respellings(SP, NULL, 0);
    CHECK_INT(rp_speech_phonemes(SP, &CAST.narrator, "Constantinople", 0, &ph), RP_OK);
    CHECK_MSG(ph.s && strlen(ph.s) > 6 && !strchr(ph.s, ' '), "phonemes '%s'", ph.s);
    char say_ph[256];
    snprintf(say_ph, sizeof say_ph, "[[%s]]", ph.s ? ph.s : "");
    rp_respelling by_phonemes = entry("Ksena", say_ph);
    rp_clip a, b;
    say(&by_phonemes, 1, "Ksena's door was open.", &a);
    say(NULL, 0, "Constantinople's door was open.", &b);
    CHECK_MSG(fabs(seconds(&a) - seconds(&b)) < 0.03, "phonemes %.3f s, text %.3f s",
              seconds(&a), seconds(&b));
    // espeak-ng times phoneme input a little differently from the same
    // phonemes it derives itself, so the envelopes match less than exactly;
    // still far more than they match the name said as written.
    rp_clip c;
    say(NULL, 0, "Ksena's door was open.", &c);
    double same = envelope_match(&a, &b), other = envelope_match(&a, &c);
    CHECK_MSG(same > 0.7 && same > other + 0.2, "envelope match %.4f (as written: %.4f)", same,
              other);
    rp_clip_deinit(&c);
    // Spelled out letter by letter, "[[...]]" would last several seconds.
    CHECK(seconds(&a) < 2.5);
    const int32_t marks[] = {0, 8, 13, 17};  // Ksena's door was open
    CHECK_INT(a.n_words, 4);
    for (size_t i = 0; i < a.n_words && i < 4; i++)
        CHECK_INT(a.words[i].char_pos, marks[i]);
    CHECK(word_drift(&a, &b) < 0.03);
    rp_clip_deinit(&a);
    rp_clip_deinit(&b);

    // The phonemes reported for a respelled word are those of its respelling,
    // phoneme input included.
    rp_strbuf again;
    rp_strbuf_init(&again);
    rp_speech_set_respellings(SP, &by_phonemes, 1);
    CHECK_INT(rp_speech_phonemes(SP, &CAST.narrator, "Ksena", 0, &again), RP_OK);
    CHECK_STR(again.s, ph.s);
    rp_strbuf_deinit(&again);
    rp_strbuf_init(&again);
    CHECK_INT(rp_speech_phonemes(SP, &CAST.narrator, "Ksena", 1, &again), RP_OK);
    CHECK_MSG(again.s && strstr(again.s, "\xCB\x88"), "IPA '%s' has no stress mark", again.s);
    rp_strbuf_deinit(&again);
    rp_strbuf_deinit(&ph);
    rp_speech_set_respellings(SP, NULL, 0);
}

// The samples of text said by v in a process forked from this one, after
// `first` (NULL: nothing) loaded first with load (its voice alone) or said.
static float *said_in_a_fork(const rp_voice *first, int load, const rp_voice *v,
                             const char *text, int64_t *n)
{
    int p[2];
    *n = -1;
    if (pipe(p) != 0)
        return NULL;
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        rp_clip c, before;
        if (first && load && rp_speech_load_voice(SP, first) != RP_OK)
            _exit(1);
        if (first && !load) {
            if (rp_speech_say(SP, first, "Something else first.", &before) != RP_OK)
                _exit(1);
            rp_clip_deinit(&before);
        }
        if (rp_speech_say(SP, v, text, &c) != RP_OK)
            _exit(1);
        int bad = write(p[1], &c.n_frames, sizeof c.n_frames) != sizeof c.n_frames;
        for (int64_t at = 0; !bad && at < c.n_frames;) {
            ssize_t w = write(p[1], c.pcm + at, (size_t)(c.n_frames - at) * sizeof *c.pcm);
            bad = w <= 0;
            at += bad ? 0 : w / (ssize_t)sizeof *c.pcm;
        }
        _exit(bad);
    }
    close(p[1]);
    float *x = NULL;
    FILE *f = pid > 0 ? fdopen(p[0], "rb") : NULL;
    if (f && fread(n, sizeof *n, 1, f) == 1 && *n >= 0 && *n < (int64_t)1 << 26) {
        x = malloc((size_t)(*n ? *n : 1) * sizeof *x);
        if (!x || fread(x, sizeof *x, (size_t)*n, f) != (size_t)*n)
            *n = -1;
    }
    if (f)
        fclose(f);
    else
        close(p[0]);
    int status = 1;
    if (pid > 0)
        waitpid(pid, &status, 0);
    if (status != 0)
        *n = -1;
    return x;
}

// A worker's zygote per voice loads the voice once (rp_speech_load_voice,
// from the first line's request: another rate and pitch), and each line
// then sets its own rate and pitch and is said: the same samples, to the
// bit, as a line loading its voice itself from the same state. Saying
// something else first does change them (espeak-ng's state carries over),
// which shows the comparison would see a difference.
static void test_a_voice_loaded_ahead_says_the_same(void)
{
    rp_voice v = CAST.narrator, other = CAST.narrator;
    snprintf(v.variant, sizeof v.variant, "%s", "f3");
    v.rate_wpm = 190;
    v.pitch = 70;
    snprintf(other.variant, sizeof other.variant, "%s", "f3");
    other.rate_wpm = 120;
    other.pitch = 30;
    const char *text = "The rain had not stopped for three days, and nobody spoke of it.";
    int64_t na, nb, nc;
    float *a = said_in_a_fork(NULL, 0, &v, text, &na);
    float *b = said_in_a_fork(&other, 1, &v, text, &nb);
    float *c = said_in_a_fork(&v, 0, &v, text, &nc);
    CHECK(na > 22050);
    CHECK_MSG(na == nb && a && b && !memcmp(a, b, (size_t)na * sizeof *a),
              "loaded ahead: %lld samples against %lld, or different ones", (long long)nb,
              (long long)na);
    CHECK_MSG(nc > 0 && c && a && !(nc == na && !memcmp(a, c, (size_t)na * sizeof *a)),
              "saying something first left the same samples: the comparison sees nothing");
    free(a);
    free(b);
    free(c);
}

// Linked with libespeak-ng.a (the Makefile, where it is installed),
// espeak-ng brings no audio library into the process: src/espeak_quiet.c
// stands in for pcaudiolib, so neither it nor PulseAudio is mapped, even
// with espeak-ng initialised (SP, below). With the shared library, which
// needs them, there is nothing to check.
static void test_espeak_brings_no_audio_library(void)
{
#ifdef RP_ESPEAK_STATIC
    FILE *f = fopen("/proc/self/maps", "r");
    CHECK(f != NULL);
    char line[4096];
    int lines = 0, audio = 0;
    while (f && fgets(line, sizeof line, f)) {
        lines++;
        if (strstr(line, "libpcaudio") || strstr(line, "libpulse") || strstr(line, "libX11"))
            audio++;
    }
    if (f)
        fclose(f);
    CHECK(lines > 0);
    CHECK_MSG(audio == 0, "%d mappings of pcaudiolib, PulseAudio or X11", audio);
#else
    printf("  (shared libespeak-ng: it brings its audio library)\n");
#endif
}

int main(void)
{
    RUN(test_respell_text);
    rp_diags d;
    rp_diags_init(&d);
    rp_cast_init(&CAST);
    if (rp_speech_new(&SP, &d) != RP_OK) {
        fprintf(stderr, "espeak-ng is not available\n");
        test_failed++;
    } else {
        RUN(test_respelling_changes_audio);
        RUN(test_phonemes_are_spoken_as_phonemes);
        RUN(test_a_voice_loaded_ahead_says_the_same);
        RUN(test_espeak_brings_no_audio_library);
    }
    rp_speech_free(SP);
    rp_speech_terminate();
    rp_cast_deinit(&CAST);
    rp_diags_deinit(&d);
    return TEST_SUMMARY("test_speech");
}
