// SPDX-License-Identifier: GPL-3.0-or-later
// libsndfile output. libsndfile does not choose a format from the file name,
// wraps out-of-range floats in PCM WAV and silently stops writing FLAC on
// them unless clipping is enabled; so the format is mapped from the
// extension here, clipping is always on, samples are converted to 16-bit
// with TPDF dither by us (deterministic, seeded), and every write's count is
// checked. The temporary file is read back before the rename.
#include "rp_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rp_io.h"

static const struct {
    const char *ext;
    int major, minor;
    const char *name;
} formats[RP_FMT_COUNT] = {
    [RP_FMT_WAV] = {".wav", SF_FORMAT_WAV, SF_FORMAT_PCM_16, "WAV 16-bit"},
    [RP_FMT_FLAC] = {".flac", SF_FORMAT_FLAC, SF_FORMAT_PCM_16, "FLAC 16-bit"},
    [RP_FMT_OGG] = {".ogg", SF_FORMAT_OGG, SF_FORMAT_VORBIS, "Ogg Vorbis"},
};

struct rp_sink {
    SNDFILE *sf;
    char *path, *tmp;
    rp_format fmt;
    int channels;
    int64_t frames;
    rp_rng rng;
    short buf[4096];
};

int rp_format_from_path(const char *path)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash))
        return -1;
    for (int f = 0; f < RP_FMT_COUNT; f++)
        if (!rp_strcasecmp(dot, formats[f].ext))
            return f;
    return -1;
}

const char *rp_format_name(rp_format f)
{
    return (unsigned)f < RP_FMT_COUNT ? formats[f].name : "unknown";
}

rp_status rp_sink_open(rp_sink **out, const char *path, int rate_hz, int channels,
                       uint64_t dither_seed, rp_diags *d)
{
    *out = NULL;
    int fmt = rp_format_from_path(path);
    if (fmt < 0) {
        rp_diag_add(d, RP_DIAG_ERROR, path, 0, 0, "output", "use .wav, .flac or .ogg",
                    "unknown output format");
        return RP_ERR_FORMAT;
    }
    SF_INFO info = {.samplerate = rate_hz,
                    .channels = channels,
                    .format = formats[fmt].major | formats[fmt].minor};
    if (!sf_format_check(&info)) {
        rp_diag_add(d, RP_DIAG_ERROR, path, 0, 0, "output", NULL,
                    "this libsndfile cannot write %s at %d Hz, %d channels", formats[fmt].name,
                    rate_hz, channels);
        return RP_ERR_FORMAT;
    }
    rp_sink *s = calloc(1, sizeof *s);
    if (!s)
        return RP_ERR_NOMEM;
    s->fmt = (rp_format)fmt;
    s->channels = channels;
    s->rng.s = dither_seed;
    s->path = rp_strdup(path);
    s->tmp = rp_temp_template(path);
    if (!s->path || !s->tmp) {
        rp_sink_close(s, 0, NULL);
        return RP_ERR_NOMEM;
    }
    int fd = mkstemp(s->tmp);
    if (fd < 0) {
        rp_diag_add(d, RP_DIAG_ERROR, path, 0, 0, "output", NULL, "cannot create output: %s",
                    strerror(errno));
        free(s->tmp);
        s->tmp = NULL;
        rp_sink_close(s, 0, NULL);
        return RP_ERR_IO;
    }
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    s->sf = sf_open_fd(fd, SFM_WRITE, &info, 1);
    if (!s->sf) {
        rp_diag_add(d, RP_DIAG_ERROR, path, 0, 0, "output", NULL, "cannot write output: %s",
                    sf_strerror(NULL));
        close(fd);
        rp_sink_close(s, 0, NULL);
        return RP_ERR_IO;
    }
    sf_command(s->sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
    if (s->fmt == RP_FMT_OGG) {
        double q = 0.6;
        sf_command(s->sf, SFC_SET_VBR_ENCODING_QUALITY, &q, sizeof q);
    }
    *out = s;
    return RP_OK;
}

// TPDF dither: the sum of two uniform variables of one LSB each.
static short to_pcm16(rp_sink *s, float x)
{
    // One 64-bit draw gives both uniforms.
    uint64_t r = rp_rng_next(&s->rng);
    double v = (double)x * 32767.0;
    v += ((double)(uint32_t)r - (double)(uint32_t)(r >> 32)) * 0x1.0p-32;
    v = v < 0 ? v - 0.5 : v + 0.5;
    if (v > 32767.0)
        v = 32767.0;
    if (v < -32768.0)
        v = -32768.0;
    return (short)v;
}

rp_status rp_sink_write(rp_sink *s, const float *frames, size_t n, rp_diags *d)
{
    size_t ch = (size_t)s->channels;
    size_t per = sizeof s->buf / sizeof s->buf[0] / ch;
    for (size_t done = 0; done < n;) {
        size_t k = n - done < per ? n - done : per;
        sf_count_t wrote;
        if (s->fmt == RP_FMT_OGG) {
            wrote = sf_writef_float(s->sf, frames + done * ch, (sf_count_t)k);
        } else {
            for (size_t i = 0; i < k * ch; i++)
                s->buf[i] = to_pcm16(s, frames[done * ch + i]);
            wrote = sf_writef_short(s->sf, s->buf, (sf_count_t)k);
        }
        if (wrote != (sf_count_t)k) {
            rp_diag_add(d, RP_DIAG_ERROR, s->path, 0, 0, "output", NULL, "write failed: %s",
                        sf_strerror(s->sf));
            return RP_ERR_IO;
        }
        done += k;
        s->frames += (sf_count_t)k;
    }
    return RP_OK;
}

static rp_status verify(rp_sink *s, rp_diags *d)
{
    SF_INFO info = {0};
    SNDFILE *sf = sf_open(s->tmp, SFM_READ, &info);
    if (!sf) {
        rp_diag_add(d, RP_DIAG_ERROR, s->path, 0, 0, "output", NULL,
                    "cannot read back the written file: %s", sf_strerror(NULL));
        return RP_ERR_IO;
    }
    sf_close(sf);
    if (info.frames != s->frames) {
        rp_diag_add(d, RP_DIAG_ERROR, s->path, 0, 0, "output", NULL,
                    "written file holds %lld frames, expected %lld", (long long)info.frames,
                    (long long)s->frames);
        return RP_ERR_IO;
    }
    return RP_OK;
}

rp_status rp_sink_close(rp_sink *s, int commit, rp_diags *d)
{
    if (!s)
        return RP_OK;
    rp_status st = RP_OK;
    if (s->sf) {
        if (commit)
            sf_write_sync(s->sf);
        if (sf_close(s->sf) != 0 && commit) {
            rp_diag_add(d, RP_DIAG_ERROR, s->path, 0, 0, "output", NULL, "closing failed");
            st = RP_ERR_IO;
        }
        s->sf = NULL;
    }
    if (commit && st == RP_OK)
        st = verify(s, d);
    if (commit && st == RP_OK && rename(s->tmp, s->path) != 0) {
        rp_diag_add(d, RP_DIAG_ERROR, s->path, 0, 0, "output", NULL, "cannot rename into place: %s",
                    strerror(errno));
        st = RP_ERR_IO;
    }
    if ((!commit || st != RP_OK) && s->tmp)
        unlink(s->tmp);
    free(s->path);
    free(s->tmp);
    free(s);
    return st;
}

rp_status rp_audio_info_read(const char *path, rp_audio_info *out, rp_diags *d)
{
    SF_INFO info = {0};
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    if (!sf) {
        rp_diag_add(d, RP_DIAG_ERROR, path, 0, 0, "info", NULL, "cannot read audio: %s",
                    sf_strerror(NULL));
        return RP_ERR_IO;
    }
    sf_close(sf);
    out->frames = info.frames;
    out->rate_hz = info.samplerate;
    out->channels = info.channels;
    SF_FORMAT_INFO fi = {.format = info.format & SF_FORMAT_TYPEMASK};
    sf_command(NULL, SFC_GET_FORMAT_INFO, &fi, sizeof fi);
    snprintf(out->format, sizeof out->format, "%s", fi.name ? fi.name : "audio");
    return RP_OK;
}
