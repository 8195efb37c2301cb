// SPDX-License-Identifier: GPL-3.0-or-later
// The clip cache: synthesized, resampled speech clips on disk, addressed by
// a hash of everything that shapes them (text, voice settings, output rate,
// espeak-ng's version, the resampler, this format's version), so a re-render
// after a tweak synthesizes only the lines the tweak changed. It lives in
// $XDG_CACHE_HOME/radioplay (~/.cache/radioplay):
//
//     clips/ab12...ef.clip       one clip (format below)
//     values/KEY                 small remembered figures (play's loudness gain),
//                                the number and a checksum of it, as text
//     ledger                     its size, as the last trim found it, plus since
//
// Every file is written to a temporary name beside it and renamed into
// place, so a render killed at any point, or two renders writing the same
// clip at once, never leave a torn file under a clip's name; each clip (and
// value and record) also carries a checksum that loading verifies, so none
// is written with fsync: what a power cut leaves is a miss. The cache is bounded
// (RP_CACHE_DEFAULT_BYTES, or $RADIOPLAY_CACHE_SIZE such as "500M"):
// rp_cache_trim removes the least recently used clips (a hit refreshes a
// clip's time) until it fits, and never a clip used in the last minute, so
// a render running beside it keeps its clips. Writers tell the ledger what
// they wrote (rp_cache_grew), which trims only when the cache may be past
// its bound.
//
// A clip file, native byte order (the cache belongs to one machine):
//     char     magic[8]    "RPCLIP\0" and RP_CACHE_FORMAT
//     uint32   rate_hz, voiced_frames (speech one hears, rp_clip)
//     int64    n_frames
//     uint64   n_words
//     uint64   checksum    of what follows
//     int16    pcm[n_frames]   sample * 32768, rounded (espeak-ng's resolution)
//     rp_word_mark words[n_words]
// The marks come last so that a clip can be written as it is resampled,
// before its length is known (rp_cache_clip_begin).
#ifndef RP_CACHE_H
#define RP_CACHE_H

#include "rp_common.h"
#include "rp_speech.h"

// The key of a clip: 128 bits, written as 32 hex digits.
typedef struct {
    uint64_t hi, lo;
} rp_cache_key;

rp_cache_key rp_cache_key_of(const void *bytes, size_t n);
void rp_cache_key_hex(rp_cache_key k, char hex[33]);

typedef struct rp_cache rp_cache;

// Opens (creating) the cache in dir, or the default place when dir is NULL.
// When there is no usable place (no HOME, a read-only disk) it is an error
// the caller may treat as "run without a cache".
rp_status rp_cache_open(rp_cache **out, const char *dir, rp_diags *d);
// A private cache in a new temporary folder, removed by rp_cache_close
// (--no-cache: clips still travel from the workers through files).
rp_status rp_cache_open_private(rp_cache **out, rp_diags *d);
void rp_cache_close(rp_cache *c);
const char *rp_cache_dir(const rp_cache *c);
int rp_cache_is_private(const rp_cache *c);

// The path of a clip (whether or not it exists): caller's buffer.
void rp_cache_clip_path(const rp_cache *c, rp_cache_key k, char *path, size_t cap);

// Writes a clip under its key, atomically (temporary file, then rename).
// These two leave the ledger to the caller (rp_cache_grew).
rp_status rp_cache_put_clip(const rp_cache *c, rp_cache_key k, const rp_clip *clip);

// The same as its samples come: begin, add them in pieces of any size, then
// end with the word marks, which puts the file in place when commit is set
// and drops it otherwise. end frees the writer whatever happened (a failed
// begin leaves *out NULL, which end takes as an I/O error).
typedef struct rp_clip_writer rp_clip_writer;
rp_status rp_cache_clip_begin(const rp_cache *c, rp_cache_key k, int rate_hz,
                              rp_clip_writer **out);
void rp_cache_clip_add(rp_clip_writer *w, const float *pcm, size_t n);
int64_t rp_cache_clip_frames(const rp_clip_writer *w);  // added so far
rp_status rp_cache_clip_end(rp_clip_writer *w, const rp_word_mark *words, size_t n_words,
                            int64_t voiced_frames, int commit);

// Reads a clip's length, rate and word marks, without its samples (pcm
// NULL). Returns RP_OK, or RP_ERR_IO when there is no such clip or it is
// not a whole clip file (a miss). A hit refreshes the clip's time.
rp_status rp_cache_get_clip_info(const rp_cache *c, rp_cache_key k, rp_clip *out);
// Reads a clip whole and verifies its checksum; RP_ERR_IO on a miss or a
// damaged file (which is then removed).
rp_status rp_cache_get_clip(const rp_cache *c, rp_cache_key k, rp_clip *out);

// Small figures remembered under a key (play's loudness gain).
void rp_cache_put_value(const rp_cache *c, uint64_t key, double v);
int rp_cache_get_value(const rp_cache *c, uint64_t key, double *v);  // 0: found
// Larger records under a key (a render's checkpoints), beside the values.
// They count against the cache's bound and are trimmed with the clips,
// least recently used first. rp_cache_get_blob returns 0 and the bytes
// (caller frees) when found, no longer than max.
void rp_cache_put_blob(const rp_cache *c, uint64_t key, const void *data, size_t n);
int rp_cache_get_blob(const rp_cache *c, uint64_t key, size_t max, char **data, size_t *n);
// The first n bytes of a record into head (0), without reading the rest.
int rp_cache_get_blob_head(const rp_cache *c, uint64_t key, void *head, size_t n);

typedef struct {
    uint64_t clips;          // clips
    uint64_t records;        // checkpoint records (rp_cache_put_blob)
    uint64_t bytes;          // the clips' and records' size on disk
    uint64_t max_bytes;      // the bound
    uint64_t temporaries;    // files left by killed renders
} rp_cache_stats;

rp_status rp_cache_stat(const rp_cache *c, rp_cache_stats *out);
// Removes the least recently used clips and checkpoint records (and stale
// temporaries) when the cache holds more than its bound, until it holds at
// most nine tenths of it; *removed (may be NULL) gets how many clips.
rp_status rp_cache_trim(const rp_cache *c, uint64_t *removed);
// After writing clips or records of so many bytes: trims when the cache
// may be past its bound (its ledger says so, or is missing or a day old;
// see cache.c). rp_cache_clip_bytes: a clip's file, as trimming counts it.
void rp_cache_grew(const rp_cache *c, uint64_t bytes);
uint64_t rp_cache_clip_bytes(const rp_clip *clip);
// Reads every clip back and checks it; damaged ones are removed.
rp_status rp_cache_verify(const rp_cache *c, uint64_t *checked, uint64_t *damaged);
// Removes every clip and value, and the folders an older radioplay kept
// clips in; *removed (may be NULL) gets how many clips.
rp_status rp_cache_clear(const rp_cache *c, uint64_t *removed);

// The bound: $RADIOPLAY_CACHE_SIZE ("2G", "500M", "0" for no bound) or the
// default. A malformed value is the default.
uint64_t rp_cache_max_bytes(void);

#endif
