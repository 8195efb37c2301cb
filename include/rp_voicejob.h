// SPDX-License-Identifier: GPL-3.0-or-later
// The synthesis jobs' side of voicing (voicing.c is the caller's): what a
// worker process does with a request, and the request's layout, which
// voicing.c writes. The workers' own program (src/worker_main.c) is this
// and what it calls (speech, resampling, the clip cache) and nothing of
// the mixing, files or devices, so each job it forks carries less.
#ifndef RP_VOICEJOB_H
#define RP_VOICEJOB_H

#include "rp_cache.h"

// A job's request: its head, the cache folder and the [say] list as
// NUL-terminated strings, then each line it speaks: a fixed part and the
// text. All its lines have the same voice and variant.
typedef struct {
    uint32_t n_lines, n_say;
    int32_t out_hz, pad;
} rp_job_head;

typedef struct {
    rp_cache_key key;
    int32_t rate_wpm, pitch, range, volume;
    char voice[64], variant[32];
    int32_t simplify;  // a retry after espeak-ng crashed: simplify_punctuation
    int32_t write;     // its clip goes into the cache (else spoken for the state it leaves)
    uint32_t utt;      // which line it is (the job's notes name it)
} rp_job_line;

// The workers' callbacks (rp_worker.h): in the zygote, espeak-ng started
// and the usual converters made; in a voice's zygote, the voice loaded;
// in a job, each line spoken and the missing clips written to the cache.
rp_status rp_voicejob_init(void *user);
rp_status rp_voicejob_prepare(void *user, const void *req, size_t len);
rp_status rp_voicejob_run(void *user, const void *req, size_t len);

#endif
