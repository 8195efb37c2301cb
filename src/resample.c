// SPDX-License-Identifier: GPL-3.0-or-later
// Clip resampling with libsamplerate (Secret Rabbit Code, E. de Castro Lopo).
// SRC_SINC_FASTEST: a band-limited sinc converter (97 dB SNR, 80% bandwidth,
// per libsamplerate's documentation). espeak-ng's 22.05 kHz speech has
// almost no energy near its Nyquist, so the narrower pass band costs nothing
// audible, and it converts about twice as fast as SINC_MEDIUM. Even so it is
// the slowest stage of a render (espeak-ng makes 22 M samples/s, the
// converter takes about 5 M/s), so clips are converted on a second thread
// while synthesis goes on.
#include "rp_resample.h"

#include <pthread.h>
#include <samplerate.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

rp_status rp_resample_mono(const float *in, int64_t n_in, int in_hz, int out_hz, float **out,
                           int64_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    if (n_in < 0 || in_hz <= 0 || out_hz <= 0)
        return RP_ERR_RESAMPLE;
    if (in_hz == out_hz) {
        float *copy = rp_calloc((size_t)n_in, sizeof *copy);
        if (!copy)
            return RP_ERR_NOMEM;
        if (n_in)
            memcpy(copy, in, (size_t)n_in * sizeof *copy);
        *out = copy;
        *n_out = n_in;
        return RP_OK;
    }
    double ratio = (double)out_hz / in_hz;
    int64_t cap = (int64_t)((double)n_in * ratio) + 64;
    float *buf = rp_calloc((size_t)cap, sizeof *buf);
    if (!buf)
        return RP_ERR_NOMEM;
    if (n_in == 0) {
        *out = buf;
        return RP_OK;
    }
    SRC_DATA data = {
        .data_in = in,
        .data_out = buf,
        .input_frames = (long)n_in,
        .output_frames = (long)cap,
        .src_ratio = ratio,
        .end_of_input = 1,
    };
    if (src_simple(&data, SRC_SINC_FASTEST, 1) != 0) {
        free(buf);
        return RP_ERR_RESAMPLE;
    }
    *out = buf;
    *n_out = data.output_frames_gen;
    return RP_OK;
}

typedef struct {
    float *in;
    int64_t n_in;
    float **out;
    int64_t *n_out;
} job;

struct rp_resample_pool {
    int in_hz, out_hz;
    job *jobs;
    size_t max_jobs;
    atomic_size_t n_ready;  // jobs submitted
    atomic_size_t next;     // next job to take
    atomic_int closing;     // no more submissions
    atomic_int status;      // first failure
    pthread_t thread;
    int has_thread;
};

// Takes and runs jobs until none is ready; returns 0 when there may be more.
static int drain(rp_resample_pool *p)
{
    for (;;) {
        size_t ready = atomic_load(&p->n_ready);
        size_t i = atomic_load(&p->next);
        if (i >= ready)
            return atomic_load(&p->closing) && i >= atomic_load(&p->n_ready);
        if (!atomic_compare_exchange_weak(&p->next, &i, i + 1))
            continue;
        job *j = &p->jobs[i];
        rp_status st = rp_resample_mono(j->in, j->n_in, p->in_hz, p->out_hz, j->out, j->n_out);
        free(j->in);
        j->in = NULL;
        if (st) {
            int ok = RP_OK;
            atomic_compare_exchange_strong(&p->status, &ok, (int)st);
        }
    }
}

static void *worker(void *arg)
{
    rp_resample_pool *p = arg;
    const struct timespec nap = {0, 200000};
    while (!drain(p))
        nanosleep(&nap, NULL);
    return NULL;
}

rp_resample_pool *rp_resample_pool_new(int in_hz, int out_hz, size_t max_jobs)
{
    rp_resample_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->jobs = rp_calloc(max_jobs, sizeof *p->jobs);
    if (!p->jobs) {
        free(p);
        return NULL;
    }
    p->in_hz = in_hz;
    p->out_hz = out_hz;
    p->max_jobs = max_jobs;
    atomic_init(&p->n_ready, 0);
    atomic_init(&p->next, 0);
    atomic_init(&p->closing, 0);
    atomic_init(&p->status, RP_OK);
    // Without a thread the caller does all the work in finish.
    p->has_thread = pthread_create(&p->thread, NULL, worker, p) == 0;
    return p;
}

rp_status rp_resample_pool_submit(rp_resample_pool *p, float *in, int64_t n_in, float **out,
                                  int64_t *n_out)
{
    size_t i = atomic_load(&p->n_ready);
    if (i >= p->max_jobs) {
        free(in);
        return RP_ERR_RESAMPLE;
    }
    p->jobs[i] = (job){in, n_in, out, n_out};
    atomic_store(&p->n_ready, i + 1);  // publishes the job to the worker
    return RP_OK;
}

rp_status rp_resample_pool_finish(rp_resample_pool *p)
{
    atomic_store(&p->closing, 1);
    drain(p);
    if (p->has_thread)
        pthread_join(p->thread, NULL);
    rp_status st = (rp_status)atomic_load(&p->status);
    for (size_t i = 0; i < p->max_jobs; i++)
        free(p->jobs[i].in);
    free(p->jobs);
    free(p);
    return st;
}

const char *rp_resample_name(void)
{
    static char name[128];
    if (!name[0])
        snprintf(name, sizeof name, "%s sinc-fastest", src_get_version());
    return name;
}
