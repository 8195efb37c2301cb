// SPDX-License-Identifier: GPL-3.0-or-later
// The file sink: libsndfile (sink.c is the only file that includes
// sndfile.h). The format comes from the output file's extension. Audio goes
// to a temporary file beside the target, is read back to verify its length,
// and is renamed into place only when complete: a failed or interrupted
// render never leaves a partial file or destroys an older one.
#ifndef RP_SINK_H
#define RP_SINK_H

#include "rp_common.h"

typedef enum { RP_FMT_WAV, RP_FMT_FLAC, RP_FMT_OGG, RP_FMT_COUNT } rp_format;

// The format for a path's extension (case-insensitive); -1 if none fits.
int rp_format_from_path(const char *path);
const char *rp_format_name(rp_format f);

typedef struct rp_sink rp_sink;

rp_status rp_sink_open(rp_sink **out, const char *path, int rate_hz, int channels,
                       uint64_t dither_seed, rp_diags *d);
// Writes n interleaved float frames (full scale ±1). 16-bit formats get TPDF
// dither. Every write is checked.
rp_status rp_sink_write(rp_sink *s, const float *frames, size_t n, rp_diags *d);
// commit: verify and rename into place; otherwise remove the temporary file.
// Frees the sink either way.
rp_status rp_sink_close(rp_sink *s, int commit, rp_diags *d);

// Audio file facts read back with libsndfile, for `radioplay info` and tests.
typedef struct {
    int64_t frames;
    int rate_hz, channels;
    char format[64];
} rp_audio_info;

rp_status rp_audio_info_read(const char *path, rp_audio_info *out, rp_diags *d);

#endif
