// SPDX-License-Identifier: GPL-3.0-or-later
// libsndfile output. libsndfile does not choose a format from the file name,
// wraps out-of-range floats in PCM WAV and silently stops writing FLAC on
// them unless clipping is enabled; so the format is mapped from the
// extension here, clipping is always on, samples are converted to 16-bit
// with TPDF dither by us (deterministic, seeded), and every call that
// writes is checked: each sf_write, sf_command and sf_close, and the
// fsync and close of the file. Samples gather in a buffer of BUF_BYTES and
// go to libsndfile in writes that large: it passes them on as they come,
// and written 4 KB at a time a file costs the kernel more in zeroing the
// page cache it is growing into than in copying the samples. libsndfile
// writes through our own callbacks (its virtual I/O), so that the first
// failed write's reason is kept: libsndfile drops the errors of some of
// its writes (FLAC's last frames and header are written when the file is
// closed, and sf_close says nothing of them). Before the rename the
// temporary file is opened again and must hold the frames, channels, rate
// and container written, down to a readable last frame.
#define _GNU_SOURCE  // sync_file_range
#include "rp_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rp_config.h"
#include "rp_io.h"
#include "rp_vec.h"

enum { B16 = 1, B24 = 2, BFLOAT = 4 };

enum {
    BUF_BYTES = 1 << 18,  // samples held before a write
    DITHER_LANES = 8,     // xorshift32 generators, one per sample of a group of eight
    DITHER_N = 4096,      // dither values made at a time
    BEHIND = 1 << 22,     // write-behind window, bytes
};

static const struct {
    const char *ext;
    int major, minor;  // minor: the default sample format
    int bits_ok;       // sample formats it takes: B16 | B24 | BFLOAT
    const char *name;
} formats[RP_FMT_COUNT] = {
    [RP_FMT_WAV] = {".wav", SF_FORMAT_WAV, SF_FORMAT_PCM_16, B16 | B24 | BFLOAT, "WAV"},
    [RP_FMT_FLAC] = {".flac", SF_FORMAT_FLAC, SF_FORMAT_PCM_16, B16 | B24, "FLAC"},
    [RP_FMT_OGG] = {".ogg", SF_FORMAT_OGG, SF_FORMAT_VORBIS, 0, "Ogg Vorbis"},
    [RP_FMT_MP3] = {".mp3", SF_FORMAT_MPEG, SF_FORMAT_MPEG_LAYER_III, 0, "MP3"},
};

struct rp_sink {
    SNDFILE *sf;
    int fd;   // the temporary file, ours to fsync and close; -1 when closed
    int lock_fd;  // holds the temporary file's lock until the rename; -1: none
    int err;  // errno of the first write to fd that failed, or 0
    off_t behind;  // write-back started for the file before this offset
    int keep;      // its pages stay in the page cache (rp_sink_keep_cached)
    char *path, *target, *tmp;  // as named; where written (a link's file); temporary
    rp_format fmt;
    int channels, rate_hz;
    int pcm16;  // we dither to 16 bits; otherwise libsndfile takes floats
    int64_t frames;     // frames written to libsndfile
    size_t fill, cap;   // samples in buf, and room for
    void *buf;          // short (pcm16) or float samples
    uint32_t lanes[DITHER_LANES];
    uint32_t made_from[DITHER_LANES];  // the lanes that made dither (for rp_sink_load)
    float dither[DITHER_N];  // TPDF values, in LSBs; the next is dither[dither_at]
    size_t dither_at;
    int patch;      // rp_sink_open_patch: samples go to at, in the copy
    // rp_sink_open_over: the file holds the caller's frames from over_from
    // on (over_unit bytes each), which a write may replace once they have
    // been handed to the sink; end is how far the sink has written.
    int over;
    off_t over_from, over_unit, end;
    int64_t handed;  // frames given to rp_sink_write
    int clobber;     // a write would have replaced frames not yet handed
    off_t data, at; // where the samples start in the file, and the next write
    // Patching: the last render's file is copied into ours on a thread of
    // its own while the render mixes; a write waits until the copy has
    // passed the bytes it replaces.
    int copier;     // the copying thread was started (and not yet joined)
    int copy_from;  // the last render's file; -1: closed
    pthread_mutex_t copy_lock;
    pthread_cond_t copy_moved;
    off_t copy_in;  // where the copy starts in the last render's file...
    off_t copy_at;  // ...and in ours (data; 0 copying ahead: the whole file)
    off_t copied;   // the offset in ours the copy has reached
    off_t copy_to;  // where it ends in ours: the samples both files have
    off_t ahead;    // copying ahead (rp_sink_copy_ahead): the last render's data offset
    int copy_end;   // 1: the copy is over (copy_err says how it ended)
    int copy_err;   // errno of a failed copy, or 0
    int copy_stop;  // 1: the render was given up, stop copying
    pthread_t copy_thread;
};

static int subformat(int bits)
{
    return bits == 24 ? SF_FORMAT_PCM_24 : bits == 32 ? SF_FORMAT_FLOAT : SF_FORMAT_PCM_16;
}

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

int rp_format_bits_ok(rp_format f, int bits)
{
    if ((unsigned)f >= RP_FMT_COUNT)
        return 0;
    int flag = bits == 16 ? B16 : bits == 24 ? B24 : bits == 32 ? BFLOAT : 0;
    return bits == 0 || (formats[f].bits_ok & flag);
}

int rp_format_can_write(rp_format f, int rate_hz, int channels)
{
    if ((unsigned)f >= RP_FMT_COUNT)
        return 0;
    SF_INFO info = {.samplerate = rate_hz,
                    .channels = channels,
                    .format = formats[f].major | formats[f].minor};
    return sf_format_check(&info);
}

// ---- libsndfile's virtual I/O on the temporary file ----------------------------

static sf_count_t vio_length(void *user)
{
    rp_sink *s = user;
    struct stat sb;
    if (s->over)
        return (sf_count_t)s->end;
    return fstat(s->fd, &sb) == 0 ? (sf_count_t)sb.st_size : -1;
}

static sf_count_t vio_seek(sf_count_t offset, int whence, void *user)
{
    rp_sink *s = user;
    if (s->over && whence == SEEK_END) {  // its end, as vio_length gives it
        offset += (sf_count_t)s->end;
        whence = SEEK_SET;
    }
    return (sf_count_t)lseek(s->fd, (off_t)offset, whence);
}

static sf_count_t vio_read(void *p, sf_count_t n, void *user)
{
    rp_sink *s = user;
    sf_count_t got = 0;
    while (got < n) {
        ssize_t r = read(s->fd, (char *)p + got, (size_t)(n - got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += r;
    }
    return got;
}

// An output file is written once and read later, by someone else: its pages
// go back to the kernel as they reach the disk, a window behind the writing
// (each window's write-back starts once it is full; the one before is
// waited for and dropped). So the page cache a file grows into is the same
// few megabytes over and over instead of the whole file's worth of new
// memory, a render does not evict the user's page cache, and fsync finds
// little left to do. A file the next render will copy (rp_sink_keep_cached)
// keeps its pages: read from the disk, the copy took half a tweak's time.
static void write_behind(rp_sink *s)
{
#if defined(__linux__)
    off_t end = lseek(s->fd, 0, SEEK_CUR);
    for (; end >= s->behind + BEHIND; s->behind += BEHIND) {
        sync_file_range(s->fd, s->behind, BEHIND, SYNC_FILE_RANGE_WRITE);
        if (s->behind >= BEHIND) {
            off_t last = s->behind - BEHIND;
            sync_file_range(s->fd, last, BEHIND,
                            SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                                SYNC_FILE_RANGE_WAIT_AFTER);
            if (!s->keep)
                posix_fadvise(s->fd, last, BEHIND, POSIX_FADV_DONTNEED);
        }
    }
#else
    (void)s;
#endif
}

// Over the caller's frames (rp_sink_open_over), a write ends where the
// frames handed so far did: the ones after are still to be read.
static int over_room(rp_sink *s, sf_count_t n)
{
    off_t at = lseek(s->fd, 0, SEEK_CUR);
    if (at < 0 || at + n > s->over_from + s->over_unit * s->handed) {
        s->clobber = 1;
        errno = EFBIG;
        return 0;
    }
    if (at + n > s->end)
        s->end = at + n;
    return 1;
}

static sf_count_t vio_write(const void *p, sf_count_t n, void *user)
{
    rp_sink *s = user;
    if ((!s->over || over_room(s, n)) && rp_write_all(s->fd, p, (size_t)n) == 0) {
        write_behind(s);
        return n;
    }
    if (!s->err)
        s->err = errno ? errno : EIO;
    return 0;
}

static sf_count_t vio_tell(void *user)
{
    return (sf_count_t)lseek(((rp_sink *)user)->fd, 0, SEEK_CUR);
}

// Reports a failed write to the output: what failed, and why.
static rp_status fail(const rp_sink *s, const char *what, const char *why, rp_diags *d)
{
    rp_diag_add(d, RP_DIAG_ERROR, s->path, 0, 0, "output", NULL, "%s: %s", what, why);
    return RP_ERR_IO;
}

// Why a libsndfile call failed with error code: the system's reason when
// one of its writes failed (ENOSPC, EFBIG, EIO), else libsndfile's own.
// Some encoders fail with -1, which sf_error_number (and sf_strerror)
// would print to stdout as not a valid error number.
static const char *why_sf(const rp_sink *s, int code)
{
    if (s->clobber)
        return "its header outgrew the room before the mix it replaces (a radioplay bug)";
    return s->err ? strerror(s->err) : code > 0 ? sf_error_number(code) : "the encoder failed";
}

// An existing output must be a file: renaming over a directory fails only
// after the whole render, and over a device or pipe would replace it.
static rp_status check_target(const char *path, rp_diags *d)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || S_ISREG(sb.st_mode))
        return RP_OK;
    rp_diag_add(d, RP_DIAG_ERROR, path, 0, 0, "output", "name a file to write",
                S_ISDIR(sb.st_mode) ? "is a directory, not a file"
                                    : "is a device or pipe, not a file (audio needs a file)");
    return RP_ERR_IO;
}

// Clipping, and the encoder's settings; 1 when libsndfile took them all.
// A float WAV gets no PEAK chunk: libsndfile stamps it with the time of
// writing, and the same render must give the same bytes.
static int set_up(rp_sink *s)
{
    int ok = sf_command(s->sf, SFC_SET_CLIPPING, NULL, SF_TRUE) == SF_TRUE;
    if (ok && s->fmt == RP_FMT_WAV && !s->pcm16)
        ok = sf_command(s->sf, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE) == SF_FALSE;
    if (ok && s->fmt == RP_FMT_OGG) {
        double q = 0.6;
        ok = sf_command(s->sf, SFC_SET_VBR_ENCODING_QUALITY, &q, sizeof q) == SF_TRUE;
    }
    if (ok && s->fmt == RP_FMT_MP3) {
        // Constant bit rate, as audiobook platforms ask: 192 kbit/s. Setting
        // the mode returns SF_FALSE even when it works (libsndfile 1.2):
        // the mode is read back instead.
        int mode = SF_BITRATE_MODE_CONSTANT;
        double level = RP_MP3_COMPRESSION;
        sf_command(s->sf, SFC_SET_BITRATE_MODE, &mode, sizeof mode);
        ok = sf_error(s->sf) == SF_ERR_NO_ERROR &&
             sf_command(s->sf, SFC_GET_BITRATE_MODE, NULL, 0) == mode &&
             sf_command(s->sf, SFC_SET_COMPRESSION_LEVEL, &level, sizeof level) == SF_TRUE;
    }
    return ok;
}

static void seed_dither(rp_sink *s, uint64_t dither_seed)
{
    rp_rng rng = {dither_seed};
    for (int j = 0; j < DITHER_LANES; j++) {
        do
            s->lanes[j] = (uint32_t)rp_rng_next(&rng);
        while (s->lanes[j] == 0);  // xorshift's one fixed point
    }
    s->dither_at = DITHER_N;
}

// A sink with its buffer and names, no file yet; NULL when out of memory.
static rp_sink *sink_new(const char *path, rp_format fmt, int rate_hz, int channels, int pcm16,
                         uint64_t dither_seed)
{
    rp_sink *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->fd = s->lock_fd = s->copy_from = -1;
    pthread_mutex_init(&s->copy_lock, NULL);
    pthread_cond_init(&s->copy_moved, NULL);
    s->fmt = fmt;
    s->channels = channels;
    s->rate_hz = rate_hz;
    s->pcm16 = pcm16;
    seed_dither(s, dither_seed);
    s->cap = BUF_BYTES / (pcm16 ? sizeof(short) : sizeof(float)) / (size_t)channels *
             (size_t)channels;
    s->buf = malloc(BUF_BYTES);
    s->path = rp_strdup(path);
    s->target = rp_output_target(path);
    if (!s->path || !s->target || !s->buf) {
        rp_sink_close(s, 0, NULL);
        return NULL;
    }
    return s;
}

// rp_sink_open, on a new temporary file (over NULL) or over the caller's.
// Ends a sink that failed to open. A sink over the caller's file takes
// that file only once open: the caller keeps its name (and removes it).
static void discard(rp_sink *s)
{
    if (s->over) {
        free(s->tmp);
        s->tmp = NULL;
    }
    rp_sink_close(s, 0, NULL);
}

static rp_status open_sink(rp_sink **out, const char *path, int rate_hz, int channels, int bits,
                           uint64_t dither_seed, const rp_sink_over *over, rp_diags *d)
{
    *out = NULL;
    int fmt = rp_format_from_path(path);
    if (fmt < 0 || fmt >= RP_FMT_COUNT) {
        rp_diag_add(d, RP_DIAG_ERROR, path, 0, 0, "output", "use .wav, .flac, .ogg or .mp3",
                    "unknown output format");
        return RP_ERR_FORMAT;
    }
    if (!rp_format_bits_ok((rp_format)fmt, bits)) {
        rp_diag_add(d, RP_DIAG_ERROR, path, 0, 0, "output",
                    fmt == RP_FMT_FLAC ? "FLAC takes 16 or 24 bits" : "bits apply to .wav and .flac",
                    "%s cannot hold %s samples", formats[fmt].name,
                    bits == 32 ? "float" : bits == 24 ? "24-bit" : "16-bit");
        return RP_ERR_FORMAT;
    }
    SF_INFO info = {.samplerate = rate_hz,
                    .channels = channels,
                    .format = formats[fmt].major |
                              (formats[fmt].bits_ok ? subformat(bits) : formats[fmt].minor)};
    if (!sf_format_check(&info)) {
        const char *v = sf_version_string();
        rp_diag_add(d, RP_DIAG_ERROR, path, 0, 0, "output",
                    fmt == RP_FMT_MP3 ? "write .flac or .ogg, or convert the .wav with lame" : NULL,
                    "this libsndfile (%s) cannot write %s at %d Hz, %d channels%s", v ? v : "?",
                    formats[fmt].name, rate_hz, channels,
                    fmt == RP_FMT_MP3 ? " (it was built without MP3 support)" : "");
        return RP_ERR_FORMAT;
    }
    rp_status st = check_target(path, d);
    if (st)
        return st;
    rp_sink *s = sink_new(path, (rp_format)fmt, rate_hz, channels,
                          formats[fmt].bits_ok &&
                              (info.format & SF_FORMAT_SUBMASK) == SF_FORMAT_PCM_16,
                          dither_seed);
    if (!s)
        return RP_ERR_NOMEM;
    if (over) {
        s->tmp = rp_strdup(over->tmp);
        s->fd = s->tmp ? open(s->tmp, O_RDWR | O_CLOEXEC) : -1;
        s->over = 1;
        s->over_from = (off_t)over->from;
        s->over_unit = (off_t)over->per_frame;
    } else {
        s->fd = rp_temp_create(s->target, &s->tmp, &s->lock_fd);
    }
    if (s->fd < 0) {
        int nomem = errno == ENOMEM;
        if (!nomem)
            fail(s, "cannot create output", strerror(errno), d);
        discard(s);
        return nomem ? RP_ERR_NOMEM : RP_ERR_IO;
    }
    SF_VIRTUAL_IO vio = {vio_length, vio_seek, vio_read, vio_write, vio_tell};
    s->sf = sf_open_virtual(&vio, SFM_WRITE, &info, s);
    if (!s->sf) {
        fail(s, "cannot write", why_sf(s, sf_error(NULL)), d);
        discard(s);
        return RP_ERR_IO;
    }
    if (!set_up(s)) {
        rp_diag_add(d, RP_DIAG_ERROR, path, 0, 0, "output", NULL,
                    "cannot set up the %s encoder: %s", formats[fmt].name,
                    why_sf(s, sf_error(s->sf)));
        discard(s);
        return RP_ERR_IO;
    }
    *out = s;
    return RP_OK;
}

rp_status rp_sink_open(rp_sink **out, const char *path, int rate_hz, int channels, int bits,
                       uint64_t dither_seed, rp_diags *d)
{
    return open_sink(out, path, rate_hz, channels, bits, dither_seed, NULL, d);
}

rp_status rp_sink_open_over(rp_sink **out, const char *path, int rate_hz, int channels, int bits,
                            uint64_t dither_seed, const rp_sink_over *over, rp_diags *d)
{
    *out = NULL;
    if (rp_format_from_path(path) != RP_FMT_WAV) {
        rp_diag_add(d, RP_DIAG_ERROR, path, 0, 0, "output", NULL,
                    "only a WAV file is written over the frames it is made from");
        return RP_ERR_USAGE;
    }
    rp_status st = open_sink(out, path, rate_hz, channels, bits, dither_seed, over, d);
    if (!st)
        (*out)->lock_fd = over->lock_fd;
    return st;
}

// TPDF dither: the difference of two uniform variables of one LSB each,
// here the two 16-bit halves of an xorshift32 draw (Marsaglia 2003). Eight
// generators side by side, in two vectors of four kept in registers across
// the loop (written back and read again each time, they made a chain of
// stores and loads); d[i] comes from lane i % 8, and n is a multiple of
// eight.

static v4f tpdf(v4u *lanes)
{
    v4u r = *lanes;
    r ^= r << 13;
    r ^= r >> 17;
    r ^= r << 5;
    *lanes = r;
    return __builtin_convertvector((v4i)(r & 0xffff) - (v4i)(r >> 16), v4f) * 0x1p-16f;
}

static void make_dither(uint32_t *restrict lanes, float *restrict d, size_t n)
{
    _Static_assert(DITHER_LANES == 8, "two vectors of four generators");
    v4u a, b;
    memcpy(&a, lanes, sizeof a);
    memcpy(&b, lanes + 4, sizeof b);
    for (size_t i = 0; i < n; i += DITHER_LANES) {
        v4f x = tpdf(&a), y = tpdf(&b);
        memcpy(d + i, &x, sizeof x);
        memcpy(d + i + 4, &y, sizeof y);
    }
    memcpy(lanes, &a, sizeof a);
    memcpy(lanes + 4, &b, sizeof b);
}

// Float samples to 16 bits with the dither d (in LSBs): rounded to nearest
// and clipped, computed offset into 0..65535 (so that the float's
// truncation rounds), eight at a time in vectors (the compiler's own
// vectorization of the loop took 60% longer, widening to pack).
static v4i pcm16_of(v4f x, v4f d)
{
    const v4f top = {65535.0f, 65535.0f, 65535.0f, 65535.0f}, zero = {0};
    v4f v = (x * 32767.0f + d) + 32768.5f;
    v = rp_vec_min(top, v);   // v > top ? top : v, a NaN kept
    v = rp_vec_max(zero, v);  // v < 0 ? 0 : v
    return __builtin_convertvector(v, v4i) - 32768;
}

static void to_pcm16(const float *restrict x, const float *restrict d, short *restrict out,
                     size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v4f a, b, da, db;
        memcpy(&a, x + i, sizeof a);
        memcpy(&b, x + i + 4, sizeof b);
        memcpy(&da, d + i, sizeof da);
        memcpy(&db, d + i + 4, sizeof db);
        v8s s = rp_vec_pack16(pcm16_of(a, da), pcm16_of(b, db));
        memcpy(out + i, &s, sizeof s);
    }
    for (; i < n; i++) {
        v4f v = {x[i]}, dv = {d[i]};
        out[i] = (short)pcm16_of(v, dv)[0];
    }
}

static void format_mark_time(char *buf, size_t cap, int64_t frame, int rate_hz)
{
    int64_t ms = (frame * 1000 + rate_hz / 2) / rate_hz;
    snprintf(buf, cap, "%lld:%02lld.%03lld", (long long)(ms / 60000), (long long)(ms / 1000 % 60),
             (long long)(ms % 1000));
}

// A tag libsndfile refuses costs a warning, not the file.
static void tag(rp_sink *s, int type, const char *what, const char *value, rp_diags *d)
{
    if (sf_set_string(s->sf, type, value) != 0)
        rp_diag_add(d, RP_DIAG_WARNING, s->path, 0, 0, "output", NULL, "%s left out: %s", what,
                    why_sf(s, sf_error(s->sf)));
}

rp_status rp_sink_set_meta(rp_sink *s, const char *title, const rp_mark *marks, size_t n,
                           int rate_hz, rp_diags *d)
{
    if (title && title[0])
        tag(s, SF_STR_TITLE, "the title", title, d);
    tag(s, SF_STR_SOFTWARE, "the software tag", "radioplay " RP_VERSION, d);
    if (n == 0)
        return RP_OK;
    char comment[1024] = "chapters:";
    size_t len = strlen(comment);
    for (size_t i = 0; i < n && len + 1 < sizeof comment; i++) {
        char at[32];
        format_mark_time(at, sizeof at, marks[i].frame, rate_hz);
        int k = snprintf(comment + len, sizeof comment - len, "%s %s %s", i ? ";" : "", at,
                         marks[i].title);
        len = k < 0 ? len : len + (size_t)k < sizeof comment ? len + (size_t)k : sizeof comment - 1;
    }
    tag(s, SF_STR_COMMENT, "the list of chapter marks", comment, d);
    if (s->fmt != RP_FMT_WAV)
        return RP_OK;
    SF_CUES *cues = calloc(1, sizeof *cues);
    if (!cues)
        return RP_ERR_NOMEM;
    size_t k = n < RP_MAX_MARKS ? n : RP_MAX_MARKS;
    cues->cue_count = (uint32_t)k;
    for (size_t i = 0; i < k; i++) {
        SF_CUE_POINT *c = &cues->cue_points[i];
        c->indx = (int32_t)i + 1;
        c->position = (uint32_t)marks[i].frame;
        c->fcc_chunk = 0x61746164;  // "data"
        c->sample_offset = (uint32_t)marks[i].frame;
        snprintf(c->name, sizeof c->name, "%s", marks[i].title);
    }
    if (sf_command(s->sf, SFC_SET_CUE, cues, sizeof *cues) != SF_TRUE)
        rp_diag_add(d, RP_DIAG_WARNING, s->path, 0, 0, "output", NULL,
                    "chapter marks left out: this libsndfile writes no cue chunk");
    free(cues);
    return RP_OK;
}

// ---- copying the last render's file, to patch it (rp_sink_open_patch) ----------

enum { COPY_PIECE = 1 << 20 };  // bytes a copy_file_range call copies

// Moves the copy on by n bytes; 1 when it is to stop.
static int copy_moved(rp_sink *s, off_t n)
{
    pthread_mutex_lock(&s->copy_lock);
    s->copied += n;
    pthread_cond_broadcast(&s->copy_moved);
    int stop = s->copy_stop;
    pthread_mutex_unlock(&s->copy_lock);
    return stop;
}

// The copying thread: the last render's samples into the sink's file, as
// many as both files have, its pages written back as it goes, as a
// render's are.
static void *copy_all(void *arg)
{
    rp_sink *s = arg;
    int from = s->copy_from, to = s->fd, err = 0, stop = 0;
    off_t left = s->copy_to - s->copy_at;
    if (lseek(from, s->copy_in, SEEK_SET) != s->copy_in ||
        lseek(to, s->copy_at, SEEK_SET) != s->copy_at) {
        err = errno ? errno : EIO;
        left = 0;
    }
#if defined(__linux__)
    posix_fadvise(from, 0, 0, POSIX_FADV_SEQUENTIAL);
    // COPY_PIECE bytes a call, announced to the patching writer BEHIND bytes
    // at a time. (Unlike write(), whose pieces io.c keeps small, each call
    // costs as much as copying 32 kB: in RP_WRITE_PIECE pieces the copy of
    // chapter 000's file took 35 ms more CPU, and the bench's warm pitch
    // tweak 0.12 s where it takes 0.09 s in pieces of 1 MB.)
    while (left > 0 && !stop) {
        ssize_t n = 0, k = 1;
        while (n < BEHIND && left > n && k > 0) {
            off_t want = left - n < COPY_PIECE ? left - n : COPY_PIECE;
            k = copy_file_range(from, NULL, to, NULL, (size_t)want, 0);
            n += k > 0 ? k : 0;
        }
        if (n == 0)
            break;
        left -= n;
        write_behind(s);
        stop = copy_moved(s, n);
    }
    // Not between these file systems: by hand, from where it got to.
#endif
    char *buf = left > 0 && !stop ? malloc(RP_WRITE_PIECE) : NULL;
    off_t at = s->copy_to - left, in = s->copy_in - s->copy_at;  // in + at: the same byte there
    // Each way it can stop says why here: errno may still hold what
    // copy_file_range left (EXDEV), or nothing at all.
    while (buf && left > 0 && !stop && !err) {
        size_t want = left < RP_WRITE_PIECE ? (size_t)left : RP_WRITE_PIECE;
        ssize_t n = pread(from, buf, want, in + at);
        ssize_t w = n > 0 ? pwrite(to, buf, (size_t)n, at) : 0;
        if (n <= 0)
            err = n < 0 ? errno : EIO;  // a read error, or the file ended early
        else if (w != n)
            err = w < 0 ? errno : ENOSPC;
        if (err)
            break;
        at += n;
        left -= n;
        stop = copy_moved(s, n);
    }
    if (left != 0 && !stop && !err)
        err = buf ? EIO : ENOMEM;
    free(buf);
    pthread_mutex_lock(&s->copy_lock);
    s->copy_end = 1;
    s->copy_err = err;
    pthread_cond_broadcast(&s->copy_moved);
    pthread_mutex_unlock(&s->copy_lock);
    return NULL;
}

// Waits until the copy has passed byte upto, or its end (or ended); the
// copy's error.
static int copy_wait(rp_sink *s, off_t upto)
{
    if (!s->copier)
        return 0;
    if (upto > s->copy_to)
        upto = s->copy_to;
    pthread_mutex_lock(&s->copy_lock);
    while (s->copied < upto && !s->copy_end)
        pthread_cond_wait(&s->copy_moved, &s->copy_lock);
    int err = s->copied >= upto ? 0 : s->copy_err ? s->copy_err : EIO;
    pthread_mutex_unlock(&s->copy_lock);
    return err;
}

// Ends the copy (stopping it first when stop) and closes the last render's
// file; the copy's error.
static int copy_finish(rp_sink *s, int stop)
{
    int err = 0;
    if (s->copier) {
        pthread_mutex_lock(&s->copy_lock);
        s->copy_stop = stop;
        pthread_mutex_unlock(&s->copy_lock);
        pthread_join(s->copy_thread, NULL);
        err = s->copy_err;
        s->copier = 0;
    }
    if (s->copy_from >= 0)
        close(s->copy_from);
    s->copy_from = -1;
    return err;
}

// Hands the buffered samples to libsndfile (or, patching, to the file).
static rp_status flush(rp_sink *s, rp_diags *d)
{
    sf_count_t k = (sf_count_t)(s->fill / (size_t)s->channels);
    if (k == 0)
        return RP_OK;
    if (s->patch) {
        size_t bytes = s->fill * sizeof(short);
        s->fill = 0;
        // (Past the samples copied, there is nothing to wait for.)
        int err = s->at < s->copy_to ? copy_wait(s, s->at + (off_t)bytes) : 0;
        if (err)
            return fail(s, "cannot write", strerror(err), d);
        if (pwrite(s->fd, s->buf, bytes, s->at) != (ssize_t)bytes)
            return fail(s, "cannot write", errno ? strerror(errno) : "short write", d);
        s->at += (off_t)bytes;
        return RP_OK;
    }
    sf_count_t wrote = s->pcm16 ? sf_writef_short(s->sf, s->buf, k)
                                : sf_writef_float(s->sf, s->buf, k);
    s->fill = 0;
    if (wrote != k || s->err)
        return fail(s, "cannot write", why_sf(s, sf_error(s->sf)), d);
    s->frames += k;
    return RP_OK;
}

rp_status rp_sink_write(rp_sink *s, const float *frames, size_t n, rp_diags *d)
{
    const float *x = frames;
    s->handed += (int64_t)n;
    for (size_t left = n * (size_t)s->channels; left > 0;) {
        if (s->fill == s->cap) {
            rp_status st = flush(s, d);
            if (st)
                return st;
        }
        size_t k = s->cap - s->fill < left ? s->cap - s->fill : left;
        if (!s->pcm16) {
            memcpy((float *)s->buf + s->fill, x, k * sizeof *x);
        } else {
            if (s->dither_at == DITHER_N) {
                memcpy(s->made_from, s->lanes, sizeof s->lanes);
                make_dither(s->lanes, s->dither, DITHER_N);
                s->dither_at = 0;
            }
            k = DITHER_N - s->dither_at < k ? DITHER_N - s->dither_at : k;
            to_pcm16(x, s->dither + s->dither_at, (short *)s->buf + s->fill, k);
            s->dither_at += k;
        }
        s->fill += k;
        x += k;
        left -= k;
    }
    return RP_OK;
}

// The file as a reader finds it: the container, frames, channels and rate
// written, and a last frame that decodes (a FLAC header counts the frames
// before they are written: only reading the end proves they all were).
static rp_status verify(rp_sink *s, rp_diags *d)
{
    SF_INFO info = {0};
    SNDFILE *sf = sf_open(s->tmp, SFM_READ, &info);
    if (!sf)
        return fail(s, "cannot read back the written file", why_sf(s, sf_error(NULL)), d);
    int same = (info.format & SF_FORMAT_TYPEMASK) == formats[s->fmt].major &&
               info.frames == s->frames && info.channels == s->channels &&
               info.samplerate == s->rate_hz;
    int last = !same || s->frames == 0 ||
               (sf_seek(sf, s->frames - 1, SEEK_SET) == s->frames - 1 &&
                sf_readf_float(sf, s->buf, 1) == 1);
    sf_close(sf);
    if (!same && info.frames == SF_COUNT_MAX)
        return fail(s, "cannot read back the written file", "its header gives no length", d);
    if (!same) {
        rp_diag_add(d, RP_DIAG_ERROR, s->path, 0, 0, "output", NULL,
                    "the written file reads back as %lld frames, %d channels at %d Hz; "
                    "%lld, %d at %d were written",
                    (long long)info.frames, info.channels, info.samplerate,
                    (long long)s->frames, s->channels, s->rate_hz);
        return RP_ERR_IO;
    }
    if (!last)
        return fail(s, "cannot read back the written file", "its last frame does not decode",
                    d);
    return RP_OK;
}

// ---- Ogg: a stream serial number of our own --------------------------------------------
//
// libsndfile gives each Ogg stream a random serial number (from the time),
// which every page carries, under its checksum: so the same render would
// not give the same bytes. Once the file is written, each page gets a
// serial made from the pages' contents instead (two renders of different
// audio are unlikely to share one, which matters to players when Ogg files
// are chained), and its checksum again (RFC 3533: CRC-32, polynomial
// 0x04c11db7, unreflected, over the page with the field zeroed). The file
// is read a page at a time, so a long chapter needs no more memory.

enum { OGG_HEAD = 27, OGG_MAX_PAGE = OGG_HEAD + 255 + 255 * 255 };

static uint32_t ogg_crc_table[256];

static void ogg_crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t r = i << 24;
        for (int k = 0; k < 8; k++)
            r = r & 0x80000000u ? (r << 1) ^ 0x04c11db7u : r << 1;
        ogg_crc_table[i] = r;
    }
}

static uint32_t ogg_crc(uint32_t crc, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        crc = (crc << 8) ^ ogg_crc_table[((crc >> 24) ^ p[i]) & 0xff];
    return crc;
}

// Reads the page at *at into page (OGG_MAX_PAGE bytes); its length, 0 at
// the end of the file, -1 when what is there is not a page.
static ssize_t ogg_page(int fd, off_t at, unsigned char *page)
{
    ssize_t got = pread(fd, page, OGG_HEAD, at);
    if (got == 0)
        return 0;
    if (got != OGG_HEAD || memcmp(page, "OggS", 4) != 0 || page[4] != 0)
        return -1;
    size_t segs = page[26], body = 0;
    if (pread(fd, page + OGG_HEAD, segs, at + OGG_HEAD) != (ssize_t)segs)
        return -1;
    for (size_t i = 0; i < segs; i++)
        body += page[OGG_HEAD + i];
    size_t len = OGG_HEAD + segs + body;
    if (pread(fd, page + OGG_HEAD + segs, body, at + (off_t)(OGG_HEAD + segs)) != (ssize_t)body)
        return -1;
    return (ssize_t)len;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static rp_status ogg_settle_serial(rp_sink *s, rp_diags *d)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, ogg_crc_init);
    unsigned char *page = malloc(OGG_MAX_PAGE);
    if (!page)
        return RP_ERR_NOMEM;
    // The first walk makes the serial: a checksum of every page with its
    // serial and checksum fields zeroed. The second puts it in each page
    // (bytes 14-17), with the page's checksum (22-25).
    uint32_t serial = 0;
    ssize_t len = 0;
    for (int walk = 0; walk < 2 && len == 0; walk++) {
        for (off_t at = 0; (len = ogg_page(s->fd, at, page)) > 0; at += len) {
            put_le32(page + 14, walk ? serial : 0);
            put_le32(page + 22, 0);
            if (!walk) {
                serial = ogg_crc(serial, page, (size_t)len);
                continue;
            }
            put_le32(page + 22, ogg_crc(0, page, (size_t)len));
            if (pwrite(s->fd, page + 14, 12, at + 14) != 12) {
                free(page);
                return fail(s, "cannot write", strerror(errno), d);
            }
        }
    }
    free(page);
    if (len != 0)
        return fail(s, "cannot give the Ogg stream its serial number",
                    "what libsndfile wrote is not a sequence of Ogg pages", d);
    return RP_OK;
}

// ---- patching a render already written ---------------------------------------------

static uint32_t get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

// Where a RIFF WAV's samples start, if it is 16-bit PCM of the given
// shape, and *bytes of them; -1 if not.
static off_t wav16_data(int fd, int rate_hz, int channels, uint64_t *bytes)
{
    unsigned char h[12], c[8], fmt[16];
    if (pread(fd, h, 12, 0) != 12 || memcmp(h, "RIFF", 4) || memcmp(h + 8, "WAVE", 4))
        return -1;
    int fmt_ok = 0;
    for (off_t at = 12; pread(fd, c, 8, at) == 8;) {
        uint32_t len = get_le32(c + 4);
        if (!memcmp(c, "fmt ", 4)) {
            if (len < 16 || pread(fd, fmt, 16, at + 8) != 16)
                return -1;
            fmt_ok = (fmt[0] | fmt[1] << 8) == 1 && (fmt[2] | fmt[3] << 8) == channels &&
                     get_le32(fmt + 4) == (uint32_t)rate_hz && (fmt[14] | fmt[15] << 8) == 16;
        } else if (!memcmp(c, "data", 4)) {
            *bytes = len;
            return fmt_ok && len % (uint32_t)(2 * channels) == 0 ? at + 8 : -1;
        }
        at += 8 + (off_t)len + (len & 1);
    }
    return -1;
}

int rp_sink_at_most_16bit(const char *path, int bits)
{
    int fmt = rp_format_from_path(path);
    if (fmt == RP_FMT_OGG || fmt == RP_FMT_MP3)
        return 1;
    return (fmt == RP_FMT_WAV || fmt == RP_FMT_FLAC) && (bits == 0 || bits == 16);
}

int rp_sink_can_patch(const char *path, int bits)
{
    return rp_format_from_path(path) == RP_FMT_WAV && (bits == 0 || bits == 16);
}

void rp_sink_keep_cached(rp_sink *s)
{
    s->keep = 1;
}

// A file in memory, for libsndfile's virtual I/O.
typedef struct {
    unsigned char *b;
    sf_count_t len, cap, pos;
    int err;
} memfile;

static sf_count_t mem_length(void *user)
{
    return ((memfile *)user)->len;
}

static sf_count_t mem_seek(sf_count_t offset, int whence, void *user)
{
    memfile *m = user;
    sf_count_t to = whence == SEEK_SET ? offset : whence == SEEK_CUR ? m->pos + offset
                                                                     : m->len + offset;
    if (to < 0)
        return -1;
    return m->pos = to;
}

static sf_count_t mem_read(void *p, sf_count_t n, void *user)
{
    memfile *m = user;
    sf_count_t k = m->pos < m->len ? (m->len - m->pos < n ? m->len - m->pos : n) : 0;
    memcpy(p, m->b + m->pos, (size_t)k);
    m->pos += k;
    return k;
}

static sf_count_t mem_write(const void *p, sf_count_t n, void *user)
{
    memfile *m = user;
    sf_count_t end = m->pos + n;
    if (end > m->cap) {
        size_t cap = (size_t)m->cap;
        if (end > (sf_count_t)1 << 24 || rp_grow((void **)&m->b, &cap, (size_t)end, 1)) {
            m->err = 1;
            return 0;
        }
        m->cap = (sf_count_t)cap;
    }
    if (m->pos > m->len)
        memset(m->b + m->len, 0, (size_t)(m->pos - m->len));
    memcpy(m->b + m->pos, p, (size_t)n);
    m->pos = end;
    m->len = end > m->len ? end : m->len;
    return n;
}

static sf_count_t mem_tell(void *user)
{
    return ((memfile *)user)->pos;
}

// The patching sink's header, as rp_sink_open and rp_sink_set_meta would
// write it for its frames: libsndfile writes it for no samples into memory
// (*hdr, *len bytes; caller frees), and the lengths are set after. The
// samples start at *len. RP_ERR_USAGE: not a header this code knows how to
// finish.
static rp_status patch_header(rp_sink *s, const char *title, const rp_mark *marks, size_t n,
                              unsigned char **hdr, size_t *len)
{
    SF_INFO info = {.samplerate = s->rate_hz, .channels = s->channels,
                    .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SF_VIRTUAL_IO vio = {mem_length, mem_seek, mem_read, mem_write, mem_tell};
    memfile m = {0};
    s->sf = sf_open_virtual(&vio, SFM_WRITE, &info, &m);
    // (What it leaves out, the last render's rp_sink_set_meta warned of.)
    rp_diags quiet;
    rp_diags_init(&quiet);
    rp_status st = s->sf && set_up(s) ? rp_sink_set_meta(s, title, marks, n, s->rate_hz, &quiet)
                                      : RP_ERR_USAGE;
    rp_diags_deinit(&quiet);
    if (s->sf && sf_close(s->sf) != 0 && !st)
        st = RP_ERR_USAGE;
    s->sf = NULL;
    if (!st && (m.err || m.len < 44 || memcmp(m.b + m.len - 8, "data", 4) ||
                get_le32(m.b + m.len - 4) != 0))
        st = RP_ERR_USAGE;  // not the header this code knows: render it all
    uint64_t bytes = (uint64_t)s->frames * (uint64_t)s->channels * 2;
    if (!st && (uint64_t)m.len - 8 + bytes > UINT32_MAX)
        st = RP_ERR_USAGE;
    if (!st) {
        put_le32(m.b + 4, (uint32_t)((uint64_t)m.len - 8 + bytes));
        put_le32(m.b + m.len - 4, (uint32_t)bytes);
        *hdr = m.b;
        *len = (size_t)m.len;
    } else {
        free(m.b);
    }
    return st;
}

// Whether fd is the file at path still, as it was: the same file, size,
// modification and change times.
static int same_file(int fd, const char *path)
{
    struct stat a, b;
    return fd >= 0 && fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino && a.st_size == b.st_size &&
           a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
           a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

int rp_sink_copied_ahead(const rp_sink *s)
{
    return s && s->ahead > 0;
}

// The last render's file opened to copy (s->copy_from) and the sink's
// temporary file made: where the old file's samples start, and *bytes of
// them; -1 when it is not a plain 16-bit WAV of the sink's shape. s->fd is
// -1 (errno set) when the temporary file could not be made.
static off_t copy_open(rp_sink *s, uint64_t *bytes)
{
    s->copy_from = open(s->target, O_RDONLY | O_CLOEXEC);
    off_t data =
        s->copy_from < 0 ? -1 : wav16_data(s->copy_from, s->rate_hz, s->channels, bytes);
    if (data >= 0)
        s->fd = rp_temp_create(s->target, &s->tmp, &s->lock_fd);
    return data;
}

// Starts the copying thread: the old file's bytes from offset in, into
// ours from offset at up to offset to. 0, or -1 when no thread started.
static int copy_start(rp_sink *s, off_t in, off_t at, off_t to)
{
    s->copy_in = in;
    s->copy_at = s->copied = at;
    s->copy_to = to;
    s->copier = pthread_create(&s->copy_thread, NULL, copy_all, s) == 0;
    return s->copier ? 0 : -1;
}

rp_sink *rp_sink_copy_ahead(const char *path, int rate_hz, int channels)
{
    if (!rp_sink_can_patch(path, 16))
        return NULL;
    rp_sink *s = sink_new(path, RP_FMT_WAV, rate_hz, channels, 1, 0);
    if (!s)
        return NULL;
    s->patch = s->keep = 1;
    uint64_t old_bytes = 0;
    s->ahead = copy_open(s, &old_bytes);
    // The whole file, header and all, to the same offsets.
    if (s->ahead < 0 || s->fd < 0 || copy_start(s, 0, 0, s->ahead + (off_t)old_bytes)) {
        rp_sink_close(s, 0, NULL);
        return NULL;
    }
    return s;
}

rp_status rp_sink_open_patch(rp_sink **out, const char *path, int rate_hz, int channels,
                             int64_t frames, const char *title, const rp_mark *marks, size_t n,
                             uint64_t dither_seed, rp_sink **ahead, rp_diags *d)
{
    *out = NULL;
    rp_sink *s = ahead ? *ahead : NULL;
    if (ahead)
        *ahead = NULL;
    if (s && (strcmp(s->path, path) || s->rate_hz != rate_hz || s->channels != channels)) {
        rp_sink_close(s, 0, NULL);
        s = NULL;
    }
    if (!rp_sink_can_patch(path, 16) || frames < 0) {
        rp_sink_close(s, 0, NULL);
        return RP_ERR_USAGE;
    }
    if (s && !same_file(s->copy_from, s->target)) {
        // Replaced since the copy began (a render beside this one): the
        // record that fits is the new file's.
        rp_sink_close(s, 0, NULL);
        s = NULL;
    }
    int adopt = s != NULL;
    if (adopt) {
        seed_dither(s, dither_seed);  // (patch and keep are set: the copy reads keep)
    } else {
        s = sink_new(path, RP_FMT_WAV, rate_hz, channels, 1, dither_seed);
        if (!s)
            return RP_ERR_NOMEM;
        s->patch = 1;
        s->keep = 1;  // the tweak loop: the next render copies this file in turn
    }
    s->frames = frames;
    unsigned char *hdr = NULL;
    size_t len = 0;
    rp_status st = patch_header(s, title, marks, n, &hdr, &len);
    if (!st && adopt && (off_t)len != s->ahead) {
        // Another header's size: the samples copied ahead are not where
        // this file's go. Copied again, to their place.
        free(hdr);
        rp_sink_close(s, 0, NULL);
        return rp_sink_open_patch(out, path, rate_hz, channels, frames, title, marks, n,
                                  dither_seed, NULL, d);
    }
    uint64_t old_bytes = 0;
    off_t old_data = -1;
    if (!st && !adopt) {
        old_data = copy_open(s, &old_bytes);
        if (old_data < 0)
            st = RP_ERR_USAGE;
        else if (s->fd < 0)
            st = errno == ENOMEM ? RP_ERR_NOMEM
                                 : fail(s, "cannot create output", strerror(errno), d);
    }
    // Its own header (the length and marks may be another's), once the
    // copy ahead is past it; then the samples both files have, copied.
    int err = !st && adopt ? copy_wait(s, (off_t)len) : 0;
    if (err)
        st = fail(s, "cannot write", strerror(err), d);
    if (!st && pwrite(s->fd, hdr, len, 0) != (ssize_t)len)
        st = fail(s, "cannot write", errno ? strerror(errno) : "short write", d);
    free(hdr);
    s->data = s->at = (off_t)len;
    uint64_t bytes = (uint64_t)frames * (uint64_t)channels * 2;
    if (!st && !adopt &&
        copy_start(s, old_data, s->data, s->data + (off_t)(bytes < old_bytes ? bytes : old_bytes)))
        st = RP_ERR_NOMEM;
    if (st) {
        rp_sink_close(s, 0, NULL);
        return st;
    }
    *out = s;
    return RP_OK;
}

rp_status rp_sink_seek(rp_sink *s, int64_t frame, rp_diags *d)
{
    if (!s->patch || frame < 0 || frame > s->frames)
        return RP_ERR_USAGE;
    rp_status st = flush(s, d);
    s->at = s->data + (off_t)frame * s->channels * (off_t)sizeof(short);
    return st;
}

typedef struct {
    uint32_t lanes[DITHER_LANES], made_from[DITHER_LANES];
    uint64_t dither_at;
} dither_saved;

void rp_sink_save(const rp_sink *s, rp_strbuf *out)
{
    dither_saved v;
    memcpy(v.lanes, s->lanes, sizeof v.lanes);
    memcpy(v.made_from, s->made_from, sizeof v.made_from);
    v.dither_at = s->dither_at;
    rp_strbuf_append(out, (const char *)&v, sizeof v);
}

rp_status rp_sink_load(rp_sink *s, rp_unpacker *in)
{
    dither_saved v;
    rp_unpack(in, &v, sizeof v);
    if (in->bad || v.dither_at > DITHER_N)
        return RP_ERR_FORMAT;
    // The values still to use are made again from the lanes that made them.
    if (v.dither_at < DITHER_N) {
        memcpy(s->lanes, v.made_from, sizeof s->lanes);
        make_dither(s->lanes, s->dither, DITHER_N);
        if (memcmp(s->lanes, v.lanes, sizeof s->lanes))
            return RP_ERR_FORMAT;
    }
    memcpy(s->lanes, v.lanes, sizeof s->lanes);
    memcpy(s->made_from, v.made_from, sizeof s->made_from);
    s->dither_at = (size_t)v.dither_at;
    return RP_OK;
}

rp_status rp_sink_close(rp_sink *s, int commit, rp_diags *d)
{
    if (!s)
        return RP_OK;
    rp_status st = RP_OK;
    if (s->patch && commit)
        st = flush(s, d);
    int copied = s->patch ? copy_finish(s, !commit || st) : 0;
    if (copied && commit && !st)
        st = fail(s, "cannot write", strerror(copied), d);
    if (s->sf) {
        if (commit)
            st = flush(s, d);
        int e = sf_close(s->sf);
        s->sf = NULL;
        if ((e != 0 || s->err) && commit && !st)
            st = fail(s, "cannot write", why_sf(s, e), d);
        if (commit && !st && s->fmt == RP_FMT_OGG)
            st = ogg_settle_serial(s, d);
    }
    // What libsndfile wrote is in the kernel's hands; on the disk, or an
    // error (a full disk, a quota, a network file system that failed late).
    if (s->fd >= 0) {
        // Over the caller's frames, the file ends where the sink's writing did.
        if (s->over && commit && !st && ftruncate(s->fd, s->end) != 0)
            st = fail(s, "cannot write", strerror(errno), d);
        // Patching, at its samples' end, where the last render's went on
        // (every sample past the copied ones was written).
        off_t end = s->data + (off_t)s->frames * s->channels * (off_t)sizeof(short);
        struct stat sb;
        if (s->patch && commit && !st && fstat(s->fd, &sb) == 0 && sb.st_size < end)
            st = fail(s, "cannot write", "samples were left out (a radioplay bug)", d);
        if (s->patch && commit && !st && ftruncate(s->fd, end) != 0)
            st = fail(s, "cannot write", strerror(errno), d);
        if (commit && !st && fsync(s->fd) != 0)
            st = fail(s, "cannot write", strerror(errno), d);
        if (close(s->fd) != 0 && commit && !st)
            st = fail(s, "cannot write", strerror(errno), d);
        s->fd = -1;
    }
    if (commit && !st)
        st = verify(s, d);
    if (commit && !st && rp_rename_into_place(s->tmp, s->target) != 0)
        st = fail(s, "cannot rename into place", strerror(errno), d);
    if ((!commit || st) && s->tmp)
        unlink(s->tmp);
    rp_temp_release(s->lock_fd);
    pthread_cond_destroy(&s->copy_moved);
    pthread_mutex_destroy(&s->copy_lock);
    free(s->path);
    free(s->target);
    free(s->tmp);
    free(s->buf);
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
    out->frames = info.frames;
    out->rate_hz = info.samplerate;
    out->channels = info.channels;
    SF_FORMAT_INFO fi = {.format = info.format & SF_FORMAT_TYPEMASK};
    sf_command(NULL, SFC_GET_FORMAT_INFO, &fi, sizeof fi);
    snprintf(out->format, sizeof out->format, "%s", fi.name ? fi.name : "audio");
    const char *t = sf_get_string(sf, SF_STR_TITLE), *c = sf_get_string(sf, SF_STR_COMMENT);
    snprintf(out->title, sizeof out->title, "%s", t ? t : "");
    snprintf(out->comment, sizeof out->comment, "%s", c ? c : "");
    SF_CUES *cues = calloc(1, sizeof *cues);
    out->n_cues = 0;
    if (cues && sf_command(sf, SFC_GET_CUE, cues, sizeof *cues) == SF_TRUE) {
        for (uint32_t i = 0; i < cues->cue_count && i < RP_MAX_MARKS; i++)
            out->cues[out->n_cues++] = cues->cue_points[i].sample_offset;
    }
    free(cues);
    sf_close(sf);
    SF_FORMAT_INFO si = {.format = info.format & SF_FORMAT_SUBMASK};
    sf_command(NULL, SFC_GET_FORMAT_INFO, &si, sizeof si);
    snprintf(out->encoding, sizeof out->encoding, "%s", si.name ? si.name : "?");
    return RP_OK;
}

rp_status rp_audio_read(const char *path, rp_audio_fn fn, void *ctx, rp_audio_info *out,
                        rp_diags *d)
{
    rp_status st = rp_audio_info_read(path, out, d);
    if (st)
        return st;
    SF_INFO info = {0};
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    if (!sf)
        return RP_ERR_IO;
    float buf[4096];
    sf_count_t per = (sf_count_t)(sizeof buf / sizeof buf[0]) / info.channels, got;
    int64_t frames = 0;
    while (!st && (got = sf_readf_float(sf, buf, per)) > 0) {
        st = fn(ctx, buf, (size_t)got);
        frames += got;
    }
    if (!st && sf_error(sf)) {
        rp_diag_add(d, RP_DIAG_ERROR, path, 0, 0, "info", NULL, "cannot read audio: %s",
                    sf_strerror(sf));
        st = RP_ERR_IO;
    }
    sf_close(sf);
    out->frames = frames;
    return st;
}
