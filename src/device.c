// SPDX-License-Identifier: GPL-3.0-or-later
// PortAudio output. PortAudio is initialised per open device (and per
// listing), because its ALSA back end reads the ALSA configuration only in
// Pa_Initialize and drops it in Pa_Terminate. The back ends write their
// probing chatter straight to fd 2, so fd 2 is pointed at /dev/null around
// each stretch of PortAudio calls (dup/dup2), never while the stream merely
// plays. The callback only calls the caller's pull and counts underflows in
// an atomic: no locks, allocation or I/O on the audio thread.
#include "rp_device.h"

#include <fcntl.h>
#include <portaudio.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SUBSYS "play"
#define LIST_HINT "'radioplay devices' lists them"
#define MAX_CANDIDATES 8 // named in an "ambiguous device" error

struct rp_device {
    PaStream *stream;
    rp_pull_fn pull;
    void *user;
    int started;
    char *name;
    atomic_uint_least64_t xruns;
};

// ---- stderr muting ----------------------------------------------------------

static int audio_debug(void)
{
    const char *v = getenv("RADIOPLAY_AUDIO_DEBUG");
    return v && v[0] && strcmp(v, "0") != 0;
}

// Points fd 2 at /dev/null; returns the saved descriptor for unmute, or -1
// when nothing was changed (debug mode, or no descriptor to spare).
static int mute(void)
{
    if (audio_debug())
        return -1;
    fflush(stderr);
    int saved = fcntl(2, F_DUPFD_CLOEXEC, 3);
    if (saved < 0)
        return -1;
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null < 0 || dup2(null, 2) < 0) {
        if (null >= 0)
            close(null);
        close(saved);
        return -1;
    }
    close(null);
    return saved;
}

static void unmute(int saved)
{
    if (saved < 0)
        return;
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
}

// ---- PortAudio helpers (called muted) ---------------------------------------

static rp_status pa_start(rp_diags *d)
{
    // Probing JACK must never launch a server; a user's own setting wins.
    setenv("JACK_NO_START_SERVER", "1", 0);
    PaError e = Pa_Initialize();
    if (e != paNoError) {
        rp_diag_add(d, RP_DIAG_ERROR, NULL, 0, 0, SUBSYS, NULL, "cannot initialise PortAudio: %s",
                    Pa_GetErrorText(e));
        return RP_ERR_IO;
    }
    return RP_OK;
}

static void no_device(rp_diags *d)
{
    rp_diag_add(d, RP_DIAG_ERROR, NULL, 0, 0, SUBSYS, NULL,
                "no audio output device; use `radioplay render` to write a file");
}

// PortAudio's text for e, with the host API's own words when it has them.
static void pa_error(rp_diags *d, PaError e, const char *fmt_what, const char *name)
{
    const char *host = NULL;
    if (e == paUnanticipatedHostError) {
        const PaHostErrorInfo *hi = Pa_GetLastHostErrorInfo();
        if (hi && hi->errorText && hi->errorText[0])
            host = hi->errorText;
    }
    rp_diag_add(d, RP_DIAG_ERROR, NULL, 0, 0, SUBSYS, NULL, "%s audio device '%s': %s%s%s",
                fmt_what, name, Pa_GetErrorText(e), host ? ": " : "", host ? host : "");
}

static const PaDeviceInfo *output_info(PaDeviceIndex i)
{
    const PaDeviceInfo *di = Pa_GetDeviceInfo(i);
    return di && di->maxOutputChannels > 0 ? di : NULL;
}

static int count_outputs(void)
{
    int n = Pa_GetDeviceCount(), outs = 0;
    for (int i = 0; i < n; i++)
        outs += output_info(i) != NULL;
    return outs;
}

static int lower(char c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

// ASCII case-insensitive strstr.
static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t k = 0;
        while (k < n && hay[k] && lower(hay[k]) == lower(needle[k]))
            k++;
        if (k == n)
            return 1;
    }
    return n == 0;
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

// The device `which` names (see rp_device_open), or paNoDevice with an error.
static PaDeviceIndex pick(const char *which, rp_diags *d)
{
    int n = Pa_GetDeviceCount();
    if (count_outputs() == 0) {
        no_device(d);
        return paNoDevice;
    }
    if (!which || !which[0]) {
        PaDeviceIndex def = Pa_GetDefaultOutputDevice();
        if (def == paNoDevice || !output_info(def)) {
            rp_diag_add(d, RP_DIAG_ERROR, NULL, 0, 0, SUBSYS,
                        "choose one with --device; " LIST_HINT, "no default audio output device");
            return paNoDevice;
        }
        return def;
    }
    if (all_digits(which)) {
        long i = strlen(which) <= 9 ? strtol(which, NULL, 10) : -1;
        if (i < 0 || i >= n || !output_info((PaDeviceIndex)i)) {
            rp_diag_add(d, RP_DIAG_ERROR, NULL, 0, 0, SUBSYS, LIST_HINT,
                        "no audio output device number %s", which);
            return paNoDevice;
        }
        return (PaDeviceIndex)i;
    }
    // A name equal to `which` wins: ALSA lists "default" beside "sysdefault".
    PaDeviceIndex found[MAX_CANDIDATES];
    int n_exact = 0, n_part = 0;
    PaDeviceIndex exact = paNoDevice;
    for (int i = 0; i < n; i++) {
        const PaDeviceInfo *di = output_info(i);
        if (!di || !di->name)
            continue;
        if (!rp_strcasecmp(di->name, which)) {
            exact = i;
            n_exact++;
        }
        if (contains_ci(di->name, which)) {
            if (n_part < MAX_CANDIDATES)
                found[n_part] = i;
            n_part++;
        }
    }
    if (n_exact == 1)
        return exact;
    if (n_part == 1)
        return found[0];
    if (n_part == 0) {
        rp_diag_add(d, RP_DIAG_ERROR, NULL, 0, 0, SUBSYS, LIST_HINT,
                    "no audio output device matches '%s'", which);
        return paNoDevice;
    }
    rp_strbuf cands;
    rp_strbuf_init(&cands);
    for (int k = 0; k < n_part && k < MAX_CANDIDATES; k++)
        rp_strbuf_printf(&cands, "%s%d '%s'", k ? ", " : "", (int)found[k],
                         Pa_GetDeviceInfo(found[k])->name);
    if (n_part > MAX_CANDIDATES)
        rp_strbuf_printf(&cands, " and %d more", n_part - MAX_CANDIDATES);
    rp_diag_add(d, RP_DIAG_ERROR, NULL, 0, 0, SUBSYS,
                "give more of the name, or the number; " LIST_HINT,
                "'%s' matches %d audio output devices: %s", which, n_part, cands.s ? cands.s : "");
    rp_strbuf_deinit(&cands);
    return paNoDevice;
}

// Tabs and line breaks would break the listing's columns.
static void put_field(rp_strbuf *out, const char *s)
{
    for (; s && *s; s++) {
        char c = (*s == '\t' || *s == '\n' || *s == '\r') ? ' ' : *s;
        rp_strbuf_append(out, &c, 1);
    }
}

// ---- public -----------------------------------------------------------------

rp_status rp_device_list(rp_strbuf *out, rp_diags *d)
{
    int q = mute();
    rp_status st = pa_start(d);
    if (st != RP_OK) {
        unmute(q);
        return st;
    }
    int n = Pa_GetDeviceCount(), outs = 0;
    PaDeviceIndex def = Pa_GetDefaultOutputDevice();
    for (int i = 0; i < n; i++) {
        const PaDeviceInfo *di = output_info(i);
        if (!di)
            continue;
        const PaHostApiInfo *hi = Pa_GetHostApiInfo(di->hostApi);
        rp_strbuf_printf(out, "%d\t", i);
        put_field(out, di->name);
        rp_strbuf_puts(out, "\t");
        put_field(out, hi ? hi->name : "?");
        rp_strbuf_printf(out, "\t%d\t%.0f%s\n", di->maxOutputChannels, di->defaultSampleRate,
                         i == def ? "\tdefault" : "");
        outs++;
    }
    Pa_Terminate();
    unmute(q);
    if (outs == 0) {
        no_device(d);
        return RP_ERR_IO;
    }
    return out->failed ? RP_ERR_NOMEM : RP_OK;
}

// The audio thread: pull and count device underflows, nothing else.
static int on_buffer(const void *in, void *out, unsigned long n_frames,
                     const PaStreamCallbackTimeInfo *when, PaStreamCallbackFlags flags, void *p)
{
    (void)in;
    (void)when;
    rp_device *dev = p;
    if (flags & paOutputUnderflow)
        atomic_fetch_add_explicit(&dev->xruns, 1, memory_order_relaxed);
    dev->pull(dev->user, out, (size_t)n_frames);
    return paContinue;
}

// A rate worth suggesting to someone whose rate_hz was refused.
static int other_rate(const PaDeviceInfo *di, int rate_hz)
{
    int def = (int)(di->defaultSampleRate + 0.5);
    if (def > 0 && def != rate_hz)
        return def;
    return rate_hz != 44100 ? 44100 : 48000;
}

// Picks, checks and opens; PortAudio is initialised and stderr muted.
static rp_status open_stream(rp_device *dev, const char *which, int rate_hz, int channels,
                             rp_diags *d)
{
    PaDeviceIndex i = pick(which, d);
    if (i == paNoDevice)
        return RP_ERR_IO;
    const PaDeviceInfo *di = Pa_GetDeviceInfo(i);
    dev->name = rp_strdup(di->name ? di->name : "?");
    if (!dev->name)
        return RP_ERR_NOMEM;
    if (channels > di->maxOutputChannels) {
        rp_diag_add(d, RP_DIAG_ERROR, NULL, 0, 0, SUBSYS,
                    "choose another with --device; " LIST_HINT,
                    "audio device '%s' has %d output channels, %d needed", dev->name,
                    di->maxOutputChannels, channels);
        return RP_ERR_IO;
    }
    PaStreamParameters par = {
        .device = i,
        .channelCount = channels,
        .sampleFormat = paFloat32,
        .suggestedLatency = di->defaultHighOutputLatency,
        .hostApiSpecificStreamInfo = NULL,
    };
    PaError e = Pa_IsFormatSupported(NULL, &par, rate_hz);
    if (e != paFormatIsSupported) {
        char hint[64];
        snprintf(hint, sizeof hint, "try --rate %d", other_rate(di, rate_hz));
        rp_diag_add(d, RP_DIAG_ERROR, NULL, 0, 0, SUBSYS, hint,
                    "audio device '%s' cannot play %d Hz, %d channels, 32-bit float: %s", dev->name,
                    rate_hz, channels, Pa_GetErrorText(e));
        return RP_ERR_IO;
    }
    e = Pa_OpenStream(&dev->stream, NULL, &par, rate_hz, paFramesPerBufferUnspecified, paNoFlag,
                      on_buffer, dev);
    if (e != paNoError) {
        dev->stream = NULL;
        pa_error(d, e, "cannot open", dev->name);
        return RP_ERR_IO;
    }
    return RP_OK;
}

rp_status rp_device_open(rp_device **out, const char *which, int rate_hz, int channels,
                         rp_pull_fn pull, void *user, rp_diags *d)
{
    *out = NULL;
    if (rate_hz <= 0 || channels <= 0 || !pull) {
        rp_diag_add(d, RP_DIAG_ERROR, NULL, 0, 0, SUBSYS, NULL,
                    "bad audio stream parameters: %d Hz, %d channels", rate_hz, channels);
        return RP_ERR_USAGE;
    }
    rp_device *dev = calloc(1, sizeof *dev);
    if (!dev)
        return RP_ERR_NOMEM;
    dev->pull = pull;
    dev->user = user;
    atomic_init(&dev->xruns, 0);
    int q = mute();
    rp_status st = pa_start(d);
    if (st != RP_OK) {
        unmute(q);
        free(dev);
        return st;
    }
    st = open_stream(dev, which, rate_hz, channels, d);
    if (st != RP_OK) {
        Pa_Terminate();
        unmute(q);
        free(dev->name);
        free(dev);
        return st;
    }
    unmute(q);
    *out = dev;
    return RP_OK;
}

rp_status rp_device_start(rp_device *dev, rp_diags *d)
{
    if (dev->started)
        return RP_OK;
    int q = mute();
    PaError e = Pa_StartStream(dev->stream);
    unmute(q);
    if (e != paNoError) {
        pa_error(d, e, "cannot start", dev->name);
        return RP_ERR_IO;
    }
    dev->started = 1;
    return RP_OK;
}

rp_status rp_device_stop(rp_device *dev, rp_diags *d)
{
    if (!dev->started)
        return RP_OK;
    int q = mute();
    PaError e = Pa_StopStream(dev->stream);
    unmute(q);
    dev->started = 0;
    if (e != paNoError) {
        pa_error(d, e, "cannot stop", dev->name);
        return RP_ERR_IO;
    }
    return RP_OK;
}

double rp_device_latency_s(const rp_device *dev)
{
    const PaStreamInfo *si = dev && dev->stream ? Pa_GetStreamInfo(dev->stream) : NULL;
    return si && si->outputLatency > 0 ? si->outputLatency : 0.0;
}

const char *rp_device_name(const rp_device *dev)
{
    return dev && dev->name ? dev->name : "";
}

uint64_t rp_device_xruns(const rp_device *dev)
{
    return atomic_load_explicit(&dev->xruns, memory_order_relaxed);
}

void rp_device_close(rp_device *dev)
{
    if (!dev)
        return;
    int q = mute();
    if (dev->stream)
        Pa_CloseStream(dev->stream);
    Pa_Terminate();
    unmute(q);
    free(dev->name);
    free(dev);
}
