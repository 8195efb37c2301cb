// SPDX-License-Identifier: GPL-3.0-or-later
// espeak-ng's own audio output, stood in for. libespeak-ng can play what it
// speaks through pcaudiolib, which brings PulseAudio, ALSA, X11, D-Bus and
// systemd with it: 21 shared libraries and about 110 mappings that every
// process radioplay forks would copy and tear down again, and that every
// start would load and relocate. radioplay never lets espeak-ng play (it
// synthesizes into memory, ENOUTPUT_MODE_SYNCHRONOUS without SPEAK_AUDIO:
// src/speech.c; it plays through PortAudio), so where libespeak-ng.a is
// installed the Makefile links it statically, with these in pcaudiolib's
// place: no device, and an error should espeak-ng ever ask for one. Linked
// only then; otherwise the shared libespeak-ng brings pcaudiolib itself.
//
// The declarations are pcaudiolib's (its audio.h, not installed with
// espeak-ng); the format is an enum there, passed as an int.
#include <stddef.h>
#include <stdint.h>

struct audio_object;

struct audio_object *create_audio_device_object(const char *device, const char *application_name,
                                                const char *description);
int audio_object_open(struct audio_object *object, int format, uint32_t rate, uint8_t channels);
void audio_object_close(struct audio_object *object);
void audio_object_destroy(struct audio_object *object);
int audio_object_write(struct audio_object *object, const void *data, size_t bytes);
int audio_object_drain(struct audio_object *object);
int audio_object_flush(struct audio_object *object);
const char *audio_object_strerror(struct audio_object *object, int error);

struct audio_object *create_audio_device_object(const char *device, const char *application_name,
                                                const char *description)
{
    (void)device;
    (void)application_name;
    (void)description;
    return NULL;  // espeak-ng reports that it cannot open an audio device
}

int audio_object_open(struct audio_object *object, int format, uint32_t rate, uint8_t channels)
{
    (void)object;
    (void)format;
    (void)rate;
    (void)channels;
    return -1;
}

void audio_object_close(struct audio_object *object)
{
    (void)object;
}

void audio_object_destroy(struct audio_object *object)
{
    (void)object;
}

int audio_object_write(struct audio_object *object, const void *data, size_t bytes)
{
    (void)object;
    (void)data;
    (void)bytes;
    return -1;
}

int audio_object_drain(struct audio_object *object)
{
    (void)object;
    return 0;
}

int audio_object_flush(struct audio_object *object)
{
    (void)object;
    return 0;
}

const char *audio_object_strerror(struct audio_object *object, int error)
{
    (void)object;
    (void)error;
    return "radioplay plays through PortAudio, not through espeak-ng";
}
