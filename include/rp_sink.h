// SPDX-License-Identifier: GPL-3.0-or-later
// The file sink: libsndfile (sink.c is the only file that includes
// sndfile.h). The format comes from the output file's extension. Audio goes
// to a temporary file beside the target, is read back to verify its length,
// and is renamed into place only when complete: a failed or interrupted
// render never leaves a partial file or destroys an older one.
#ifndef RP_SINK_H
#define RP_SINK_H

#include "rp_common.h"
#include "rp_config.h"

typedef enum { RP_FMT_WAV, RP_FMT_FLAC, RP_FMT_OGG, RP_FMT_MP3, RP_FMT_COUNT } rp_format;

// The format for a path's extension (case-insensitive); -1 if none fits.
int rp_format_from_path(const char *path);
const char *rp_format_name(rp_format f);
// Whether f takes bits per sample (16, 24, 32 = float; 0 = its default).
int rp_format_bits_ok(rp_format f, int bits);
// Whether the installed libsndfile writes f at this rate and channel count
// (MP3 needs a libsndfile built with LAME).
int rp_format_can_write(rp_format f, int rate_hz, int channels);

typedef struct rp_sink rp_sink;

// A chapter mark: where a heading starts, and its title.
typedef struct {
    int64_t frame;
    const char *title;
} rp_mark;

// bits: 16 (default for WAV and FLAC), 24 or 32 (float, WAV only); 0 for
// the format's own (Vorbis and MP3 are compressed: 0 only).
rp_status rp_sink_open(rp_sink **out, const char *path, int rate_hz, int channels, int bits,
                       uint64_t dither_seed, rp_diags *d);
// A WAV file written over a temporary file the caller made for path
// (rp_temp_create) and reads from as the sink writes: from byte `from` on,
// it holds per_frame bytes of each frame the caller has still to hand the
// sink. Each write of the sink ends before the frames not yet handed
// (a header that would reach them fails the write), and the file is cut
// to the sink's length when it is put in place. On success the sink takes
// the name's lock (lock_fd) and the file; the caller keeps its descriptor
// to read on, and frees its copy of the name. On failure the file and its
// name stay the caller's, as they were. A render that reads back a
// mix it kept writes its file into the same pages: no new memory.
typedef struct {
    const char *tmp;
    int lock_fd;
    int64_t from, per_frame;
} rp_sink_over;
rp_status rp_sink_open_over(rp_sink **out, const char *path, int rate_hz, int channels, int bits,
                            uint64_t dither_seed, const rp_sink_over *over, rp_diags *d);
// Titles the file and embeds chapter marks where the format allows: a WAV
// cue chunk (positions; at most RP_MAX_MARKS), and for every format the
// title and a comment listing the marks ("0:00.500 Title; ..."). Call before
// the first write (Vorbis and FLAC put tags in their headers).
rp_status rp_sink_set_meta(rp_sink *s, const char *title, const rp_mark *marks, size_t n,
                           int rate_hz, rp_diags *d);
// The file will be read again soon (the next render after a tweak copies
// it): its pages stay in the page cache as they reach the disk, where by
// default they are dropped. Call before the first write; a patching sink
// (below) always keeps them.
void rp_sink_keep_cached(rp_sink *s);
// Writes n interleaved float frames (full scale ±1). 16-bit formats get TPDF
// dither; the rest take the floats as they are (clipped at full scale).
// The sink gathers samples and writes them in large pieces: every write is
// checked, and a failure shows at the call that flushes (a later write, or
// rp_sink_close).
rp_status rp_sink_write(rp_sink *s, const float *frames, size_t n, rp_diags *d);
// A render that changes only some stretches of a 16-bit WAV file (see
// rp_checkpoint.h): the file at path, which the same settings wrote (the
// same rate and channels; its length and marks may be another's), gets a
// header of its own for frames, title and marks (as rp_sink_set_meta writes
// them), and as many of its samples as both files have are copied to the
// temporary file; writes replace them from the frame rp_sink_seek last set,
// and the file ends at frames. The dither starts as rp_sink_open's, or goes
// on from where rp_sink_load puts it. rp_sink_can_patch says whether a file
// of that name and bits can be (bits 0: the default, 16).
// rp_sink_open_patch returns RP_ERR_USAGE when the file there is not a
// plain 16-bit WAV of that rate and channels, or libsndfile's header is not
// one it knows how to finish (the caller then renders it all), RP_ERR_IO
// with a message when it cannot be copied.
int rp_sink_can_patch(const char *path, int bits);
// Whether a file of that name and bits holds nothing finer than 16-bit
// samples: 16-bit WAV and FLAC, Vorbis and MP3.
int rp_sink_at_most_16bit(const char *path, int bits);
// ahead (NULL, or *ahead NULL: none): the file copied ahead, which is taken
// over (*ahead set to NULL) when this file's header has the size of the
// last render's, else dropped.
rp_status rp_sink_open_patch(rp_sink **out, const char *path, int rate_hz, int channels,
                             int64_t frames, const char *title, const rp_mark *marks, size_t n,
                             uint64_t dither_seed, rp_sink **ahead, rp_diags *d);
// The file at path copied ahead of its patching, whole, on a thread of its
// own that starts now: a render after a tweak starts it as it starts, long
// before it knows what it will patch, so that the copy is not what it waits
// for at its end (chapter 000's 97 MB take it 40 to 70 ms). NULL when path
// is not a plain 16-bit WAV of that rate and channels, or on a failure (the
// patching sink copies it then). rp_sink_close(ahead, 0, NULL) drops it.
rp_sink *rp_sink_copy_ahead(const char *path, int rate_hz, int channels);
// Whether a patching sink took over a file copied ahead.
int rp_sink_copied_ahead(const rp_sink *s);
// Where the next write lands (a patching sink); writes what is pending first.
rp_status rp_sink_seek(rp_sink *s, int64_t frame, rp_diags *d);
// The dither's state as bytes, and back (as rp_mixer_save, rp_mixer_load).
void rp_sink_save(const rp_sink *s, rp_strbuf *out);
rp_status rp_sink_load(rp_sink *s, rp_unpacker *in);

// commit: verify and rename into place; otherwise remove the temporary file.
// Frees the sink either way.
rp_status rp_sink_close(rp_sink *s, int commit, rp_diags *d);

// Audio file facts read back with libsndfile, for `radioplay info` and tests.
typedef struct {
    int64_t frames;
    int rate_hz, channels;
    char format[64];    // the container ("WAV (Microsoft)")
    char encoding[64];  // the samples ("Signed 24 bit PCM")
    char title[256], comment[1024];  // tags, "" when none
    size_t n_cues;                   // WAV cue points
    int64_t cues[RP_MAX_MARKS];
} rp_audio_info;

rp_status rp_audio_info_read(const char *path, rp_audio_info *out, rp_diags *d);

// Reads the whole file as interleaved floats, block by block, into fn
// (which stops the reading by returning an error). out->frames gets the
// frames actually read.
typedef rp_status (*rp_audio_fn)(void *ctx, const float *frames, size_t n);
rp_status rp_audio_read(const char *path, rp_audio_fn fn, void *ctx, rp_audio_info *out,
                        rp_diags *d);

#endif
