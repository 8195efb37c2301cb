// SPDX-License-Identifier: GPL-3.0-or-later
// espeak-ng into memory. The library is driven in synchronous mode: a call to
// espeak_ng_Synthesize runs the callback with 16-bit samples and word events
// until the utterance is done. Voice, variant, rate, pitch, range and volume
// go through the C API for every utterance (inline SSML voice changes have
// long-open bugs). espeak-ng is global state: one instance per process, and
// initialising it twice in a process hangs, so it is initialised once and
// never terminated.
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
};

static int espeak_ready;           // espeak-ng initialised in this process
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
        espeak_ready = 1;
    }
    rp_speech *s = calloc(1, sizeof *s);
    if (!s)
        return RP_ERR_NOMEM;
    s->es_rate_hz = espeak_rate_hz;
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
    const espeak_VOICE **list = espeak_ListVoices(NULL);
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

static rp_status set_voice(const rp_voice *v)
{
    char file[128], name[200];
    if (!resolve_voice(v->voice, file, sizeof file))
        return RP_ERR_VOICE;
    if (v->variant[0])
        snprintf(name, sizeof name, "%s+%s", file, v->variant);
    else
        snprintf(name, sizeof name, "%s", file);
    // Loading a voice reads its files; skip it when the voice is already set.
    if (strcmp(name, loaded_voice) != 0) {
        if (espeak_ng_SetVoiceByName(name) != ENS_OK)
            return RP_ERR_VOICE;
        snprintf(loaded_voice, sizeof loaded_voice, "%s", name);
    }
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

rp_status rp_speech_say(rp_speech *s, const rp_voice *v, const char *text, rp_clip *out)
{
    memset(out, 0, sizeof *out);
    rp_status st = set_voice(v);
    if (st != RP_OK)
        return st;
    s->n_wav = 0;
    s->n_words = 0;
    s->failed = 0;
    current = s;
    espeak_ng_STATUS es = espeak_ng_Synthesize(text, strlen(text) + 1, 0, POS_CHARACTER, 0,
                                               espeakCHARS_UTF8, NULL, NULL);
    if (es == ENS_OK)
        es = espeak_ng_Synchronize();
    current = NULL;
    if (es != ENS_OK)
        return RP_ERR_SPEECH;
    if (s->failed)
        return RP_ERR_NOMEM;

    size_t first, end;
    trim_range(s->wav, s->n_wav, s->es_rate_hz, &first, &end);
    size_t n = end - first;
    float *mono = malloc((n ? n : 1) * sizeof *mono);
    if (!mono)
        return RP_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        mono[i] = s->wav[first + i] * (1.0f / 32768.0f);

    out->pcm = mono;
    out->n_frames = (int64_t)n;
    out->rate_hz = s->es_rate_hz;
    out->words = malloc((s->n_words ? s->n_words : 1) * sizeof *out->words);
    if (!out->words) {
        rp_clip_deinit(out);
        return RP_ERR_NOMEM;
    }
    for (size_t i = 0; i < s->n_words; i++) {
        int64_t f = s->words[i].frame - (int64_t)first;
        out->words[i].char_pos = s->words[i].char_pos;
        out->words[i].frame = f < 0 ? 0 : f > out->n_frames ? out->n_frames : f;
    }
    out->n_words = s->n_words;
    return RP_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

rp_status rp_speech_list_voices(rp_speech *s, rp_strbuf *out)
{
    const espeak_VOICE **list = espeak_ListVoices(NULL);
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
