// SPDX-License-Identifier: GPL-3.0-or-later
// The live output sink: a PortAudio output stream (device.c is the only file
// that includes portaudio.h). The caller's pull function runs on PortAudio's
// callback thread and fills each buffer, normally from a single-producer
// single-consumer ring that the render thread feeds. Each open device holds
// one Pa_Initialize and its close the matching Pa_Terminate, so a changed
// audio configuration (HOME, ~/.asoundrc) is seen by the next open.
//
// PortAudio's ALSA and JACK back ends print dozens of lines of probing noise
// ("ALSA lib pcm.c ... Unknown PCM", "jack server is not running") on stderr
// while they initialise and open devices. Every rp_device_* call that enters
// PortAudio therefore points fd 2 at /dev/null for its duration and restores
// it before returning; stderr is left alone while the stream plays, so the
// caller may print progress. Our own problems go to the rp_diags as usual.
// Set RADIOPLAY_AUDIO_DEBUG=1 to leave stderr alone and see PortAudio's and
// ALSA's messages. JACK_NO_START_SERVER=1 is set (unless the user set it) so
// that probing JACK never tries to launch a server.
//
// The rp_device_* functions are not thread-safe (fd 2 is process-wide):
// call them from one thread. Only the pull function runs elsewhere.
#ifndef RP_DEVICE_H
#define RP_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "rp_common.h"

// Fills out with n_frames interleaved float frames (full scale ±1; PortAudio
// clips at the device edge). n_frames varies from call to call. Runs on the
// audio thread: RT-safe code only, it must not block, allocate, lock or do
// I/O.
typedef void (*rp_pull_fn)(void *user, float *out, size_t n_frames);

typedef struct rp_device rp_device;

// Appends the output devices, one line each:
// "N\tNAME\tHOSTAPI\tCHANNELS\tRATE", plus "\tdefault" on the default one.
// N is PortAudio's device index, what --device takes; RATE is the device's
// default rate in Hz. With no output device: RP_ERR_IO and the diagnostic
// described at rp_device_open.
rp_status rp_device_list(rp_strbuf *out, rp_diags *d);

// Opens a 32-bit float interleaved output stream of `channels` channels at
// rate_hz on the device `which`, calling pull(user, ...) for every buffer.
// which: NULL or "" = the default output device; all digits = the number N
// of rp_device_list; anything else = a case-insensitive part of the device's
// name (a name equal to it wins over names containing it; several matches
// are an error that lists them). The suggested latency is the device's
// default high output latency, and PortAudio chooses the buffer size.
// The stream is silent until rp_device_start.
// Errors (subsystem "play", no file location), all RP_ERR_IO:
//   no output device at all: exactly one error, "no audio output device;
//   use `radioplay render` to write a file";
//   unknown or ambiguous `which`, a rate or channel count the device cannot
//   play (with a hint such as "try --rate 44100"), PortAudio failing to open.
// rate_hz or channels below 1: RP_ERR_USAGE. Allocation failure: RP_ERR_NOMEM.
rp_status rp_device_open(rp_device **dev, const char *which, int rate_hz, int channels,
                         rp_pull_fn pull, void *user, rp_diags *d);
// Starts calling pull. Starting a started device does nothing.
rp_status rp_device_start(rp_device *dev, rp_diags *d);
// Stops calling pull after the device has played every buffer it was given
// (Pa_StopStream drains; this blocks for up to the output latency).
// Stopping a stopped device does nothing; the device may be started again.
rp_status rp_device_stop(rp_device *dev, rp_diags *d);
// The stream's output latency in seconds (Pa_GetStreamInfo), 0 when unknown.
double rp_device_latency_s(const rp_device *dev);
// The device's name, for messages. Valid until rp_device_close.
const char *rp_device_name(const rp_device *dev);
// Buffers in which the device itself ran dry (PortAudio's paOutputUnderflow
// flag), counted since open. Distinct from the caller's ring underruns: it
// means pull returned too late, not that it had nothing to give. Any thread.
uint64_t rp_device_xruns(const rp_device *dev);
// Closes the stream without draining (a playing stream is cut off at once,
// as on Ctrl-C; call rp_device_stop first to hear the end), terminates
// PortAudio and frees the device. NULL is a no-op.
void rp_device_close(rp_device *dev);

#endif
