// SPDX-License-Identifier: GPL-3.0-or-later
// espeak-ng into memory. The library is driven in synchronous mode: a call to
// espeak_ng_Synthesize runs the callback with 16-bit samples and word events
// until the utterance is done. Voice, variant, rate, pitch, range and volume
// go through the C API for every utterance (inline SSML voice changes have
// long-open bugs). espeak-ng is global state: one instance per process, and
// initialising it twice in a process hangs, so it is initialised once and
// terminated only at the end of a process (rp_speech_terminate). The cast
// sheet's [say] respellings are applied here, just before espeak-ng sees the
// text, with a map back to the original text so that word marks (and the
// effect cues anchored to them) stay put.
#include "rp_speech.h"

#include <dirent.h>
#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rp_config.h"

struct rp_speech {
    int es_rate_hz;
    char data_path[512];
    // Filled by the callback during one synthesis call.
    short *wav;
    size_t n_wav, cap_wav;
    rp_word_mark *words;
    size_t n_words, cap_words;
    int failed;
    const rp_respelling *say;  // borrowed from the cast
    size_t n_say;
};

static int espeak_ready;           // espeak-ng initialised in this process
// espeak-ng's list of voices, made once: each call of espeak_ListVoices reads
// every voice file again (about 3 ms), and frees the list it gave before.
static const espeak_VOICE **voice_list;
static int espeak_rate_hz;
static struct rp_speech *current;  // the instance the callback fills
static char loaded_voice[200];     // the voice+variant espeak-ng has loaded
static struct {
    char name[64], file[128];
} resolved[64];                    // voice names already resolved to files
static size_t n_resolved;

void rp_clip_deinit(rp_clip *c)
{
    if (!c)
        return;
    free(c->pcm);
    free(c->words);
    memset(c, 0, sizeof *c);
}

#define WAV_RESERVE ((size_t)1 << 21)  // samples: 95 s at 22050 Hz

static int synth_callback(short *wav, int n, espeak_EVENT *ev)
{
    struct rp_speech *s = current;
    if (!s)
        return 1;
    for (; ev && ev->type != espeakEVENT_LIST_TERMINATED; ev++) {
        if (ev->type != espeakEVENT_WORD)
            continue;
        if (rp_grow((void **)&s->words, &s->cap_words, s->n_words + 1, sizeof *s->words)) {
            s->failed = 1;
            return 1;
        }
        // audio_position is in ms from the start of this synthesis call.
        s->words[s->n_words].char_pos = ev->text_position > 0 ? ev->text_position - 1 : 0;
        s->words[s->n_words].frame = (int64_t)ev->audio_position * s->es_rate_hz / 1000;
        s->n_words++;
    }
    if (wav && n > 0) {
        if (rp_grow((void **)&s->wav, &s->cap_wav, s->n_wav + (size_t)n, sizeof *s->wav)) {
            s->failed = 1;
            return 1;
        }
        memcpy(s->wav + s->n_wav, wav, (size_t)n * sizeof *wav);
        s->n_wav += (size_t)n;
    }
    return 0;
}

static void status_text(espeak_ng_STATUS st, char *buf, size_t cap)
{
    char msg[512] = "";
    espeak_ng_GetStatusCodeMessage(st, msg, sizeof msg);
    snprintf(buf, cap, "%s", msg[0] ? msg : "unknown espeak-ng error");
}

rp_status rp_speech_new(rp_speech **out, rp_diags *d)
{
    *out = NULL;
    if (!espeak_ready) {
        espeak_ng_InitializePath(NULL);
        espeak_ng_ERROR_CONTEXT ctx = NULL;
        espeak_ng_STATUS st = espeak_ng_Initialize(&ctx);
        if (st != ENS_OK) {
            char msg[512];
            status_text(st, msg, sizeof msg);
            espeak_ng_ClearErrorContext(&ctx);
            rp_diag_add(d, RP_DIAG_ERROR, NULL, 0, 0, "speech",
                        "install espeak-ng-data (make deps) or set ESPEAK_DATA_PATH",
                        "cannot initialise espeak-ng: %s", msg);
            return RP_ERR_SPEECH;
        }
        st = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 0, NULL);
        if (st != ENS_OK) {
            char msg[512];
            status_text(st, msg, sizeof msg);
            rp_diag_add(d, RP_DIAG_ERROR, NULL, 0, 0, "speech", NULL,
                        "cannot initialise espeak-ng output: %s", msg);
            return RP_ERR_SPEECH;
        }
        espeak_SetSynthCallback(synth_callback);
        espeak_rate_hz = espeak_ng_GetSampleRate();
        // espeak-ng finds a voice named by its language ("en-us") in its
        // list of voices, which it makes on the first such search by reading
        // every voice file, and keeps. Made here once, the list is inherited
        // by every synthesis job forked from this process, instead of each
        // job reading the voice files again (a tenth of a cold render's
        // time). The list holds no synthesis state.
        voice_list = espeak_ListVoices(NULL);
        espeak_ready = 1;
    }
    rp_speech *s = calloc(1, sizeof *s);
    if (!s)
        return RP_ERR_NOMEM;
    s->es_rate_hz = espeak_rate_hz;
    // Room for a long line at once, reserved but not touched: a worker
    // forked from here fills pages as it goes instead of copying a
    // growing buffer (on failure it grows as it must).
    s->wav = malloc(WAV_RESERVE * sizeof *s->wav);
    s->cap_wav = s->wav ? WAV_RESERVE : 0;
    const char *path = NULL;
    espeak_Info(&path);
    snprintf(s->data_path, sizeof s->data_path, "%s", path ? path : "");
    *out = s;
    return RP_OK;
}

void rp_speech_free(rp_speech *s)
{
    if (!s)
        return;
    if (current == s)
        current = NULL;
    free(s->wav);
    free(s->words);
    free(s);
}

void rp_speech_terminate(void)
{
    if (espeak_ready)
        espeak_ng_Terminate();
    espeak_ready = 0;
    loaded_voice[0] = '\0';
    current = NULL;
}

const char *rp_speech_version(void)
{
    return espeak_Info(NULL);
}

static int variant_exists(const rp_speech *s, const char *variant)
{
    if (!variant[0])
        return 1;
    if (strchr(variant, '/') || strstr(variant, ".."))
        return 0;
    char path[700];
    struct stat st;
    snprintf(path, sizeof path, "%s/voices/!v/%s", s->data_path, variant);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

// espeak-ng finds a voice by its file name ("gmw/en") but not always by the
// language it speaks ("en-gb" fails, "en-us" works, as its own CLI falls back
// to a property search). Resolve both to the voice file, so that a variant
// can be appended reliably.
static int resolve_voice(const char *name, char *file, size_t cap)
{
    for (size_t i = 0; i < n_resolved; i++) {
        if (!strcmp(resolved[i].name, name)) {
            snprintf(file, cap, "%s", resolved[i].file);
            return 1;
        }
    }
    loaded_voice[0] = '\0';
    int found = 0;
    if (espeak_ng_SetVoiceByName(name) == ENS_OK) {
        snprintf(file, cap, "%s", name);
        found = 1;
    }
    // By the list of voices, when the name fails.
    const espeak_VOICE **list = found ? NULL : voice_list;
    for (size_t i = 0; !found && list && list[i]; i++) {
        const espeak_VOICE *v = list[i];
        int match = v->name && !rp_strcasecmp(v->name, name);
        // languages: (priority byte, NUL-terminated name) pairs, then a 0.
        for (const char *l = v->languages; !match && l && *l; l += strlen(l + 1) + 2)
            match = !rp_strcasecmp(l + 1, name);
        if (match && v->identifier && espeak_ng_SetVoiceByName(v->identifier) == ENS_OK) {
            snprintf(file, cap, "%s", v->identifier);
            found = 1;
        }
    }
    if (found && n_resolved < sizeof resolved / sizeof resolved[0] &&
        strlen(name) < sizeof resolved[0].name && strlen(file) < sizeof resolved[0].file) {
        strcpy(resolved[n_resolved].name, name);
        strcpy(resolved[n_resolved++].file, file);
    }
    return found;
}

int rp_speech_voice_file(const rp_voice *v, char *file, size_t cap)
{
    return resolve_voice(v->voice, file, cap) ? 0 : -1;
}

void rp_speech_voice_file_known(const char *file)
{
    for (size_t i = 0; i < n_resolved; i++)
        if (!strcmp(resolved[i].name, file))
            return;
    if (n_resolved < sizeof resolved / sizeof resolved[0] &&
        strlen(file) < sizeof resolved[0].name) {
        strcpy(resolved[n_resolved].name, file);
        strcpy(resolved[n_resolved++].file, file);
    }
}

rp_status rp_speech_check_voice(rp_speech *s, const rp_voice *v, char *why, size_t cap)
{
    char file[128];
    if (!v->voice[0] || !resolve_voice(v->voice, file, sizeof file)) {
        snprintf(why, cap, "unknown espeak-ng voice '%s'", v->voice);
        return RP_ERR_VOICE;
    }
    if (!variant_exists(s, v->variant)) {
        snprintf(why, cap, "unknown espeak-ng variant '%s'", v->variant);
        return RP_ERR_VOICE;
    }
    return RP_OK;
}

// Loading a voice reads its files (the language's dictionary among them);
// it is skipped when the voice is already set.
static rp_status load_voice(const rp_voice *v)
{
    char file[128], name[200];
    if (!resolve_voice(v->voice, file, sizeof file))
        return RP_ERR_VOICE;
    if (v->variant[0])
        snprintf(name, sizeof name, "%s+%s", file, v->variant);
    else
        snprintf(name, sizeof name, "%s", file);
    if (strcmp(name, loaded_voice) != 0) {
        if (espeak_ng_SetVoiceByName(name) != ENS_OK)
            return RP_ERR_VOICE;
        snprintf(loaded_voice, sizeof loaded_voice, "%s", name);
    }
    return RP_OK;
}

rp_status rp_speech_load_voice(rp_speech *s, const rp_voice *v)
{
    (void)s;
    return load_voice(v);
}

static rp_status set_voice(const rp_voice *v)
{
    rp_status st = load_voice(v);
    if (st)
        return st;
    if (espeak_ng_SetParameter(espeakRATE, v->rate_wpm, 0) != ENS_OK ||
        espeak_ng_SetParameter(espeakPITCH, v->pitch, 0) != ENS_OK ||
        espeak_ng_SetParameter(espeakRANGE, v->range, 0) != ENS_OK ||
        espeak_ng_SetParameter(espeakVOLUME, v->volume, 0) != ENS_OK)
        return RP_ERR_SPEECH;
    return RP_OK;
}

// Drops leading and trailing near-silence (espeak-ng pads every call), keeping
// a short margin so consonant onsets and releases survive.
static void trim_range(const short *w, size_t n, int rate_hz, size_t *first, size_t *end)
{
    const double thresh = 32768.0 * rp_db_to_gain(RP_SILENCE_TRIM_DB);
    size_t a = 0, b = n;
    while (a < n && abs(w[a]) < thresh)
        a++;
    while (b > a && abs(w[b - 1]) < thresh)
        b--;
    size_t keep = (size_t)(RP_SILENCE_KEEP_S * rate_hz);
    *first = a > keep ? a - keep : 0;
    *end = b + keep < n ? b + keep : n;
    if (a >= b)
        *first = *end = 0;
}

int rp_speech_rate_hz(const rp_speech *s)
{
    return s->es_rate_hz;
}

void rp_speech_set_respellings(rp_speech *s, const rp_respelling *list, size_t n)
{
    s->say = list;
    s->n_say = list ? n : 0;
}

// ---- respelling ------------------------------------------------------------

typedef struct {
    const rp_respelling *list;
    size_t n;
    rp_strbuf text;
    int32_t *orig;
    size_t n_cps, cap;
    int has_phonemes, nomem;
} respeller;

// Appends s[0..len), whose code points came from code point `at` of the
// original: one for one when verbatim, all from `at` when it is a
// respelling. Returns the number of code points appended.
static int32_t put(respeller *R, const char *s, size_t len, int32_t at, int verbatim)
{
    rp_strbuf_append(&R->text, s, len);
    int32_t k = 0;
    for (size_t i = 0; i < len; k++) {
        int l;
        rp_utf8_decode(s + i, len - i, &l);
        i += (size_t)l;
        if (rp_grow((void **)&R->orig, &R->cap, R->n_cps + 1, sizeof *R->orig)) {
            R->nomem = 1;
            continue;
        }
        R->orig[R->n_cps++] = verbatim ? at + k : at;
    }
    return k;
}

// The possessive 's as an espeak-ng phoneme after the phonemes p[0..n):
// /Iz/ after a sibilant, /s/ after another voiceless consonant, else /z/.
// (Left as text after ]], espeak-ng reads it as the letter S.)
static const char *possessive_phoneme(const char *p, size_t n)
{
    while (n && strchr("':,;.#_!|=", p[n - 1]))
        n--;  // stress, length and pause marks
    char c = n ? p[n - 1] : 'a';
    if (strchr("szSZ", c))
        return "I#z";
    if (strchr("ptkfT", c))
        return "s";
    return "z";
}

static void put_respelling(respeller *R, const char *say, int possessive, int32_t at)
{
    size_t n = strlen(say);
    if (strstr(say, "[["))
        R->has_phonemes = 1;
    if (possessive && n >= 2 && !strcmp(say + n - 2, "]]")) {
        put(R, say, n - 2, at, 0);
        const char *ph = possessive_phoneme(say, n - 2);
        put(R, ph, strlen(ph), at, 0);
        put(R, "]]", 2, at, 0);
        return;
    }
    put(R, say, n, at, 0);
    if (possessive)
        put(R, "'s", 2, at, 0);
}

// Length of w without a possessive 's (or 's with U+2019), or len.
static size_t possessive_stem(const char *w, size_t len)
{
    if (len > 2 && !strncmp(w + len - 2, "'s", 2))
        return len - 2;
    if (len > 4 && !strncmp(w + len - 4, "\xE2\x80\x99s", 4))
        return len - 4;
    return len;
}

// Respells the word w[0..len) at code point `at` if [say] knows it.
static int respell_whole(respeller *R, const char *w, size_t len, int32_t at)
{
    const rp_respelling *r = rp_respelling_find(R->list, R->n, w, len);
    size_t stem = len;
    if (!r && (stem = possessive_stem(w, len)) < len)
        r = rp_respelling_find(R->list, R->n, w, stem);
    if (!r)
        return 0;
    put_respelling(R, r->say, stem < len, at);
    return 1;
}

// A word, or else each part of a hyphenated word ("Ksena-like").
static int32_t respell_word(respeller *R, const char *w, size_t len, int32_t at)
{
    int32_t n_cps = (int32_t)rp_utf8_count(w, len);
    if (respell_whole(R, w, len, at))
        return n_cps;
    if (!memchr(w, '-', len)) {
        put(R, w, len, at, 1);
        return n_cps;
    }
    for (size_t i = 0; i < len;) {
        const char *h = memchr(w + i, '-', len - i);
        size_t end = h ? (size_t)(h - w) : len;
        int32_t part = (int32_t)rp_utf8_count(w + i, end - i);
        if (!respell_whole(R, w + i, end - i, at))
            put(R, w + i, end - i, at, 1);
        at += part;
        if (h)
            at += put(R, "-", 1, at, 1);
        i = h ? end + 1 : len;
    }
    return n_cps;
}

rp_status rp_respell(const rp_respelling *list, size_t n, const char *text, rp_respelled *out)
{
    memset(out, 0, sizeof *out);
    respeller R = {.list = list, .n = n};
    rp_strbuf_init(&R.text);
    size_t len = strlen(text), pos = 0, a, b, done = 0;
    int32_t at = 0;
    while (rp_word_next(text, len, &pos, &a, &b)) {
        at += put(&R, text + done, a - done, at, 1);
        at += respell_word(&R, text + a, b - a, at);
        done = b;
    }
    at += put(&R, text + done, len - done, at, 1);
    out->text = R.text.s ? rp_strbuf_take(&R.text) : rp_strdup("");
    out->orig = R.orig;
    out->n = R.n_cps;
    out->n_orig = at;
    out->has_phonemes = R.has_phonemes;
    if (R.nomem || R.text.failed || !out->text) {
        rp_strbuf_deinit(&R.text);
        rp_respelled_deinit(out);
        return RP_ERR_NOMEM;
    }
    return RP_OK;
}

void rp_respelled_deinit(rp_respelled *r)
{
    if (!r)
        return;
    free(r->text);
    free(r->orig);
    memset(r, 0, sizeof *r);
}

// ---- synthesis -------------------------------------------------------------

// Runs espeak-ng over text into s->wav and s->words. espeakPHONEMES makes it
// read [[ ]] as phoneme mnemonics; it is set only when a respelling put
// phonemes in, so that brackets in a chapter's prose are read as before.
static rp_status synthesize(rp_speech *s, const char *text, int phonemes)
{
    s->n_wav = 0;
    s->n_words = 0;
    s->failed = 0;
    current = s;
    // Breathy and Klatt voices draw their noise from the C library's rand():
    // seeded from the text, a clip does not depend on what else in the
    // process called rand() before (PortAudio's start-up does, and the
    // player starts it while synthesizing). Nothing may call rand() while
    // espeak-ng synthesizes.
    srand((unsigned)rp_hash64(text, strlen(text), 0x5eed));
    unsigned flags = espeakCHARS_UTF8 | (phonemes ? espeakPHONEMES : 0);
    espeak_ng_STATUS es = espeak_ng_Synthesize(text, strlen(text) + 1, 0, POS_CHARACTER, 0,
                                               flags, NULL, NULL);
    if (es == ENS_OK)
        es = espeak_ng_Synchronize();
    current = NULL;
    if (es != ENS_OK)
        return RP_ERR_SPEECH;
    return s->failed ? RP_ERR_NOMEM : RP_OK;
}

// The original code point of code point k of the respelled text.
static int32_t original_pos(const rp_respelled *r, int32_t k)
{
    if (k < 0)
        return 0;
    return (size_t)k < r->n ? r->orig[k] : r->n_orig;
}

// Trims the synthesized audio into out, word marks mapped back through r:
// as floats, or with pcm16 set, as espeak-ng's own samples in *pcm16.
static rp_status make_clip(const rp_speech *s, const rp_respelled *r, rp_clip *out,
                           const int16_t **pcm16)
{
    size_t first, end;
    trim_range(s->wav, s->n_wav, s->es_rate_hz, &first, &end);
    size_t n = end - first;
    out->pcm = pcm16 ? NULL : malloc((n ? n : 1) * sizeof *out->pcm);
    out->words = malloc((s->n_words ? s->n_words : 1) * sizeof *out->words);
    if ((!pcm16 && !out->pcm) || !out->words) {
        rp_clip_deinit(out);
        return RP_ERR_NOMEM;
    }
    if (pcm16)
        *pcm16 = s->wav + first;
    else
        rp_s16_to_float(s->wav + first, out->pcm, n, RP_SPEECH_S16_SCALE);
    out->n_frames = (int64_t)n;
    out->rate_hz = s->es_rate_hz;
    for (size_t i = 0; i < s->n_words; i++) {
        int64_t f = s->words[i].frame - (int64_t)first;
        out->words[i].char_pos = original_pos(r, s->words[i].char_pos);
        out->words[i].frame = f < 0 ? 0 : f > out->n_frames ? out->n_frames : f;
    }
    out->n_words = s->n_words;
    return RP_OK;
}

static rp_status say(rp_speech *s, const rp_voice *v, const char *text, rp_clip *out,
                     const int16_t **pcm16)
{
    memset(out, 0, sizeof *out);
    rp_status st = set_voice(v);
    if (st != RP_OK)
        return st;
    rp_respelled r;
    if ((st = rp_respell(s->say, s->n_say, text, &r)))
        return st;
    st = synthesize(s, r.text, r.has_phonemes);
    if (!st)
        st = make_clip(s, &r, out, pcm16);
    rp_respelled_deinit(&r);
    return st;
}

rp_status rp_speech_say(rp_speech *s, const rp_voice *v, const char *text, rp_clip *out)
{
    return say(s, v, text, out, NULL);
}

rp_status rp_speech_say_s16(rp_speech *s, const rp_voice *v, const char *text, rp_clip *out,
                            const int16_t **pcm16)
{
    *pcm16 = NULL;
    return say(s, v, text, out, pcm16);
}

rp_status rp_speech_phonemes(rp_speech *s, const rp_voice *v, const char *text, int ipa,
                             rp_strbuf *out)
{
    rp_status st = set_voice(v);
    if (st != RP_OK)
        return st;
    rp_respelled r;
    if ((st = rp_respell(s->say, s->n_say, text, &r)))
        return st;
    // espeak_TextToPhonemes has no flags: it reads [[ ]] as phonemes only
    // when the last synthesis call had espeakPHONEMES (a global option), so
    // an empty synthesis sets it.
    if (r.has_phonemes)
        st = synthesize(s, "", 1);
    // One call per clause; it sets the pointer to NULL after the last.
    const void *p = st ? NULL : r.text;
    while (p) {
        const char *ph = espeak_TextToPhonemes(&p, espeakCHARS_UTF8, ipa ? espeakPHONEMES_IPA : 0);
        while (ph && *ph == ' ')
            ph++;
        if (ph && *ph)
            rp_strbuf_printf(out, "%s%s", out->len ? " " : "", ph);
    }
    rp_respelled_deinit(&r);
    return st ? st : out->failed ? RP_ERR_NOMEM : RP_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

rp_status rp_speech_list_voices(rp_speech *s, rp_strbuf *out)
{
    const espeak_VOICE **list = voice_list;
    rp_strbuf_puts(out, "# voices: language\tgender\tname\n");
    for (size_t i = 0; list && list[i]; i++) {
        const espeak_VOICE *v = list[i];
        const char *lang = v->languages ? v->languages + 1 : "";
        const char *g = v->gender == 1 ? "male" : v->gender == 2 ? "female" : "-";
        rp_strbuf_printf(out, "%s\t%s\t%s\n", lang, g, v->name ? v->name : "");
    }
    char dir[700];
    snprintf(dir, sizeof dir, "%s/voices/!v", s->data_path);
    DIR *dp = opendir(dir);
    if (!dp)
        return out->failed ? RP_ERR_NOMEM : RP_OK;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        if (e->d_name[0] == '.')
            continue;
        if (rp_grow((void **)&names, &cap, n + 1, sizeof *names) == RP_OK &&
            (names[n] = rp_strdup(e->d_name)))
            n++;
    }
    closedir(dp);
    qsort(names, n, sizeof *names, cmp_str);
    rp_strbuf_puts(out, "# variants (voice = en-gb, variant = NAME)\n");
    for (size_t i = 0; i < n; i++) {
        rp_strbuf_printf(out, "variant\t%s\n", names[i]);
        free(names[i]);
    }
    free(names);
    return out->failed ? RP_ERR_NOMEM : RP_OK;
}
