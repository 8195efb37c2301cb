// SPDX-License-Identifier: GPL-3.0-or-later
// The clip cache on disk (see rp_cache.h for the layout and the file format).
// Clips are written without fsync: renaming a whole file into place is
// atomic against a killed process, and a file torn by a power cut fails its
// checksum and is synthesized again.
#include "rp_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rp_config.h"
#include "rp_io.h"

static const char CLIP_MAGIC[8] = {'R', 'P', 'C', 'L', 'I', 'P', 0, RP_CACHE_FORMAT};

typedef struct {
    char magic[8];
    uint32_t rate_hz, voiced_frames;
    int64_t n_frames;
    uint64_t n_words;
    uint64_t checksum;
} clip_header;

struct rp_cache {
    char *dir;
    int private_dir;
    int lock_fd;  // a private folder's, held until it is removed; else -1
    uint64_t max_bytes;
};

// ---- keys and checksums ------------------------------------------------------------

rp_cache_key rp_cache_key_of(const void *bytes, size_t n)
{
    return (rp_cache_key){rp_hash64(bytes, n, RP_HASH_INIT), rp_hash_words(bytes, n, 0x5eedc11bull)};
}

void rp_cache_key_hex(rp_cache_key k, char hex[33])
{
    snprintf(hex, 33, "%016llx%016llx", (unsigned long long)k.hi, (unsigned long long)k.lo);
}

// ---- opening -------------------------------------------------------------------------

// mkdir -p for the cache's own folders.
static int make_dirs(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

uint64_t rp_cache_max_bytes(void)
{
    const char *s = getenv("RADIOPLAY_CACHE_SIZE");
    if (!s || !*s)
        return RP_CACHE_DEFAULT_BYTES;
    char *end;
    double v = strtod(s, &end);
    if (end == s || !isfinite(v) || v < 0)
        return RP_CACHE_DEFAULT_BYTES;
    double unit = 1;
    switch (*end) {
    case 'k': case 'K': unit = 1024.0; end++; break;
    case 'm': case 'M': unit = 1024.0 * 1024.0; end++; break;
    case 'g': case 'G': unit = 1024.0 * 1024.0 * 1024.0; end++; break;
    default: break;
    }
    if (*end)
        return RP_CACHE_DEFAULT_BYTES;
    v *= unit;
    return v == 0 ? UINT64_MAX : v > 1e18 ? UINT64_MAX : (uint64_t)v;
}

static rp_status open_at(rp_cache **out, char *dir, int private_dir, rp_diags *d)
{
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/clips", dir);
    int bad = make_dirs(sub);
    snprintf(sub, sizeof sub, "%s/values", dir);
    bad = bad || make_dirs(sub);
    if (bad) {
        rp_diag_add(d, RP_DIAG_ERROR, dir, 0, 0, "cache", "--no-cache runs without it",
                    "cannot create the clip cache: %s", strerror(errno));
        free(dir);
        return RP_ERR_IO;
    }
    rp_cache *c = calloc(1, sizeof *c);
    if (!c) {
        free(dir);
        return RP_ERR_NOMEM;
    }
    c->dir = dir;
    c->private_dir = private_dir;
    c->lock_fd = -1;
    c->max_bytes = rp_cache_max_bytes();
    *out = c;
    return RP_OK;
}

rp_status rp_cache_open(rp_cache **out, const char *dir, rp_diags *d)
{
    *out = NULL;
    rp_strbuf b;
    rp_strbuf_init(&b);
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (dir)
        rp_strbuf_printf(&b, "%s", dir);
    else if (xdg && xdg[0] == '/')
        rp_strbuf_printf(&b, "%s/radioplay", xdg);
    else if (home && home[0])
        rp_strbuf_printf(&b, "%s/.cache/radioplay", home);
    else {
        rp_diag_add(d, RP_DIAG_ERROR, NULL, 0, 0, "cache", "set XDG_CACHE_HOME or HOME",
                    "no place for the clip cache");
        return RP_ERR_IO;
    }
    char *path = rp_strbuf_take(&b);
    return path ? open_at(out, path, 0, d) : RP_ERR_NOMEM;
}

rp_status rp_cache_open_private(rp_cache **out, rp_diags *d)
{
    *out = NULL;
    // Removed as the render ends; what a killed one left, the next removes.
    int lock_fd;
    char *dir = rp_temp_dir_create("radioplay-clips-", &lock_fd);
    if (!dir) {
        const char *tmp = getenv("TMPDIR");
        rp_diag_add(d, RP_DIAG_ERROR, tmp && *tmp ? tmp : "/tmp", 0, 0, "cache", NULL,
                    "cannot create a temporary folder: %s", strerror(errno));
        return RP_ERR_IO;
    }
    char *path = rp_strdup(dir);
    rp_status st = path ? open_at(out, path, 1, d) : RP_ERR_NOMEM;
    if (!st) {
        (*out)->lock_fd = lock_fd;
    } else {
        rp_remove_tree(dir, 0);
        rp_temp_release(lock_fd);
    }
    free(dir);
    return st;
}

// ---- walking the clips ---------------------------------------------------------------

typedef struct {
    char *path;
    time_t mtime;
    uint64_t bytes;
    int record;  // a checkpoint record, not a clip
} entry;

typedef struct {
    entry *e;
    size_t n, cap;
    uint64_t bytes, temporaries, records;
} walk;

static rp_status walk_add(walk *w, const char *path, const struct stat *sb, int record)
{
    if (rp_grow((void **)&w->e, &w->cap, w->n + 1, sizeof *w->e) ||
        !(w->e[w->n].path = rp_strdup(path)))
        return RP_ERR_NOMEM;
    w->e[w->n].mtime = sb->st_mtime;
    w->e[w->n].bytes = (uint64_t)sb->st_blocks * 512u;
    w->e[w->n].record = record;
    w->bytes += w->e[w->n].bytes;
    w->records += record != 0;
    w->n++;
    return RP_OK;
}

// The files of one folder whose names end in suffix, as clips or (record)
// checkpoint records; a name starting with a dot is a temporary, which a
// killed render left when it is over an hour old (removed with remove_temps).
static rp_status walk_folder(walk *w, const char *dir, const char *suffix, int record,
                             int remove_temps, time_t now)
{
    DIR *dd = opendir(dir);
    if (!dd)
        return RP_OK;
    size_t n_suffix = strlen(suffix);
    rp_status st = RP_OK;
    struct dirent *fe;
    while (!st && (fe = readdir(dd))) {
        size_t len = strlen(fe->d_name);
        int temporary = fe->d_name[0] == '.';
        if (!strcmp(fe->d_name, ".") || !strcmp(fe->d_name, "..") ||
            (!temporary && (len < n_suffix || strcmp(fe->d_name + len - n_suffix, suffix))))
            continue;
        char path[4600];
        snprintf(path, sizeof path, "%s/%s", dir, fe->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        if (temporary) {
            w->temporaries++;
            if (remove_temps && now - sb.st_mtime > 3600)
                unlink(path);
            continue;
        }
        st = walk_add(w, path, &sb, record);
    }
    closedir(dd);
    return st;
}

// Every clip file in clips/ and every checkpoint record under values/
// (a few hundred kB for each chapter and output file rendered, so they
// count against the bound too), and the temporaries beside them. Clips an
// older radioplay wrote sit in folders clips/XX/ (one mkdir per clip, and
// a directory to create for most clips of a new cache): walked too, so
// that they are trimmed and cleared.
static rp_status walk_clips(const rp_cache *c, walk *w, int remove_temps)
{
    memset(w, 0, sizeof *w);
    char top[4200];
    snprintf(top, sizeof top, "%s/clips", c->dir);
    DIR *dt = opendir(top);
    if (!dt && errno != ENOENT)
        return RP_ERR_IO;
    time_t now = time(NULL);
    rp_status st = dt ? walk_folder(w, top, ".clip", 0, remove_temps, now) : RP_OK;
    struct dirent *de;
    while (dt && !st && (de = readdir(dt))) {
        if (de->d_name[0] == '.' || strlen(de->d_name) != 2)
            continue;
        char sub[4300];
        snprintf(sub, sizeof sub, "%s/%.2s", top, de->d_name);
        st = walk_folder(w, sub, ".clip", 0, remove_temps, now);
    }
    if (dt)
        closedir(dt);
    snprintf(top, sizeof top, "%s/values", c->dir);
    return st ? st : walk_folder(w, top, ".ckpt", 1, remove_temps, now);
}

static void walk_free(walk *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->e[i].path);
    free(w->e);
}

static int by_age(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    return x->mtime < y->mtime ? -1 : x->mtime > y->mtime ? 1 : strcmp(x->path, y->path);
}

void rp_cache_close(rp_cache *c)
{
    if (!c)
        return;
    if (c->private_dir)
        rp_remove_tree(c->dir, 0);
    rp_temp_release(c->lock_fd);
    free(c->dir);
    free(c);
}

const char *rp_cache_dir(const rp_cache *c)
{
    return c->dir;
}

int rp_cache_is_private(const rp_cache *c)
{
    return c->private_dir;
}

rp_status rp_cache_stat(const rp_cache *c, rp_cache_stats *out)
{
    walk w;
    rp_status st = walk_clips(c, &w, 0);
    *out = (rp_cache_stats){.clips = w.n - w.records, .records = w.records, .bytes = w.bytes,
                            .max_bytes = c->max_bytes, .temporaries = w.temporaries};
    walk_free(&w);
    return st;
}

// ---- the ledger ------------------------------------------------------------------
//
// Trimming walks every clip (a stat each: 10,000 clips, a full cache,
// cost a tweaked render 60 ms, a third of its time). So a render does not
// walk after it has written: the file ledger keeps the cache's size as the
// last walk found it, plus what renders have written since, and only a
// size past the bound, no ledger, or a ledger a day old (what a killed
// render or another program wrote is not in it) makes the next walk.

typedef struct {
    uint64_t bytes;
    int64_t walked_at;  // time(NULL) of the walk
} ledger;

// The ledger, opened and locked (-1: none to be had); *l is zero when it
// is missing or unreadable.
static int ledger_open(const rp_cache *c, ledger *l)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/ledger", c->dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    *l = (ledger){0, 0};
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX) != 0) {
        close(fd);
        return -1;
    }
    char text[64] = "";
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    unsigned long long bytes;
    long long at;
    if (n > 0 && sscanf(text, "%llu %lld", &bytes, &at) == 2)
        *l = (ledger){bytes, at};
    return fd;
}

static void ledger_close(int fd, const ledger *l)
{
    if (fd < 0)
        return;
    char text[64];
    int n = snprintf(text, sizeof text, "%llu %lld\n", (unsigned long long)l->bytes,
                     (long long)l->walked_at);
    if (pwrite(fd, text, (size_t)n, 0) != n || ftruncate(fd, n) != 0) {
        // The next render walks: an unreadable ledger is a missing one.
    }
    close(fd);  // (and unlocks)
}

static rp_status trim_walk(const rp_cache *c, uint64_t *removed, ledger *l)
{
    if (removed)
        *removed = 0;
    walk w;
    rp_status st = walk_clips(c, &w, 1);
    // Past the bound, down to a tenth under it: room for the next renders
    // to write without a walk each.
    uint64_t low = c->max_bytes - c->max_bytes / 10;
    if (!st && w.bytes > c->max_bytes) {
        qsort(w.e, w.n, sizeof *w.e, by_age);
        time_t recent = time(NULL) - RP_CACHE_KEEP_RECENT_S;
        for (size_t i = 0; i < w.n && w.bytes > low; i++) {
            if (w.e[i].mtime >= recent)
                break;  // in use by a render running now, perhaps
            if (unlink(w.e[i].path) == 0) {
                w.bytes -= w.e[i].bytes;
                if (removed && !w.e[i].record)
                    (*removed)++;  // clips: as rp_cache_clear counts them
            }
        }
    }
    if (!st)
        *l = (ledger){w.bytes, (int64_t)time(NULL)};
    walk_free(&w);
    return st;
}

rp_status rp_cache_trim(const rp_cache *c, uint64_t *removed)
{
    ledger l;
    int fd = ledger_open(c, &l);
    rp_status st = trim_walk(c, removed, &l);
    ledger_close(fd, &l);
    return st;
}

// A file of n bytes on disk, in blocks, as a walk counts it.
static uint64_t disk_bytes(uint64_t n)
{
    return (n + 4095) / 4096 * 4096;
}

uint64_t rp_cache_clip_bytes(const rp_clip *clip)
{
    return disk_bytes(sizeof(clip_header) + (uint64_t)clip->n_frames * sizeof(int16_t) +
                      clip->n_words * sizeof(rp_word_mark));
}

void rp_cache_grew(const rp_cache *c, uint64_t bytes)
{
    if (c->private_dir)
        return;
    ledger l;
    int fd = ledger_open(c, &l);
    l.bytes += bytes;
    int64_t age = (int64_t)time(NULL) - l.walked_at;
    if (fd < 0 || l.walked_at == 0 || age < 0 || age > RP_CACHE_WALK_S ||
        l.bytes > c->max_bytes)
        trim_walk(c, NULL, &l);
    ledger_close(fd, &l);
}

rp_status rp_cache_clear(const rp_cache *c, uint64_t *removed)
{
    walk w;
    rp_status st = walk_clips(c, &w, 1);
    for (size_t i = 0; i < w.n; i++)
        if (!w.e[i].record && unlink(w.e[i].path) == 0 && removed)
            (*removed)++;
    walk_free(&w);
    // The folders clips/XX/ an older radioplay made, once empty (a render
    // running meanwhile may still be writing in one: then it stays).
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/clips", c->dir);
    DIR *dd = opendir(dir);
    struct dirent *de;
    while (dd && (de = readdir(dd)))
        if (de->d_name[0] != '.' && strlen(de->d_name) == 2) {
            snprintf(dir, sizeof dir, "%s/clips/%s", c->dir, de->d_name);
            rmdir(dir);
        }
    if (dd)
        closedir(dd);
    snprintf(dir, sizeof dir, "%s/values", c->dir);
    rp_remove_tree(dir, 1);  // the values and checkpoint records
    snprintf(dir, sizeof dir, "%s/ledger", c->dir);
    unlink(dir);  // the next render walks
    return st;
}

// ---- clips ---------------------------------------------------------------------------

void rp_cache_clip_path(const rp_cache *c, rp_cache_key k, char *path, size_t cap)
{
    char hex[33];
    rp_cache_key_hex(k, hex);
    snprintf(path, cap, "%s/clips/%s.clip", c->dir, hex);
}

// Samples are stored as 16-bit integers, espeak-ng's own resolution (its
// samples are read as s / 32768), rounded after resampling: half the bytes
// of floats to write, read and keep. They go through in chunks of
// PCM_CHUNK, each hashed in turn, the same on writing and on reading.
#define PCM_CHUNK 16384

struct rp_clip_writer {
    int fd;
    char *tmp, *path;
    clip_header h;  // n_frames and checksum so far
    int bad;
    // Samples are hashed and written in whole chunks from the clip's start,
    // as they are read, whatever pieces they came in.
    int16_t s16[PCM_CHUNK];
    size_t fill;
};

static void clip_flush(rp_clip_writer *w)
{
    w->h.checksum = rp_hash_words(w->s16, w->fill * sizeof *w->s16, w->h.checksum);
    w->bad = w->bad || rp_write_all(w->fd, w->s16, w->fill * sizeof *w->s16);
    w->fill = 0;
}

rp_status rp_cache_clip_begin(const rp_cache *c, rp_cache_key k, int rate_hz,
                              rp_clip_writer **out)
{
    *out = NULL;
    char path[4300];
    rp_cache_clip_path(c, k, path, sizeof path);
    rp_clip_writer *w = calloc(1, sizeof *w);
    char *tmp = w ? rp_temp_template(path) : NULL, *dst = tmp ? rp_strdup(path) : NULL;
    if (!dst) {
        free(tmp);
        free(w);
        return RP_ERR_NOMEM;
    }
    w->tmp = tmp;
    w->path = dst;
    w->fd = mkstemp(w->tmp);
    // The header goes in last, once the length and checksum are known.
    w->bad = w->fd < 0 || lseek(w->fd, (off_t)sizeof w->h, SEEK_SET) != (off_t)sizeof w->h;
    w->h.rate_hz = (uint32_t)rate_hz;
    memcpy(w->h.magic, CLIP_MAGIC, sizeof w->h.magic);
    *out = w;
    return RP_OK;
}

void rp_cache_clip_add(rp_clip_writer *w, const float *pcm, size_t n)
{
    w->h.n_frames += (int64_t)n;
    while (n > 0 && !w->bad) {
        size_t m = PCM_CHUNK - w->fill < n ? PCM_CHUNK - w->fill : n;
        rp_s16_from_float(pcm, w->s16 + w->fill, m, 32768.0f);
        w->fill += m;
        pcm += m;
        n -= m;
        if (w->fill == PCM_CHUNK)
            clip_flush(w);
    }
}

int64_t rp_cache_clip_frames(const rp_clip_writer *w)
{
    return w->h.n_frames;
}

rp_status rp_cache_clip_end(rp_clip_writer *w, const rp_word_mark *words, size_t n_words,
                            int64_t voiced_frames, int commit)
{
    if (!w)
        return RP_ERR_IO;
    // The word marks as the file holds them: copied with their padding
    // zeroed, as the caller's copy may hold anything there and the file
    // and its checksum take the marks byte for byte.
    rp_word_mark *marks = calloc(n_words ? n_words : 1, sizeof *marks);
    if (w->fill > 0)
        clip_flush(w);
    int bad = w->bad || !marks;
    for (size_t i = 0; !bad && i < n_words; i++) {
        marks[i].char_pos = words[i].char_pos;
        marks[i].frame = words[i].frame;
    }
    w->h.n_words = n_words;
    w->h.voiced_frames = (uint32_t)voiced_frames;
    if (!bad) {
        w->h.checksum = rp_hash_words(marks, n_words * sizeof *marks, w->h.checksum);
        bad = rp_write_all(w->fd, marks, n_words * sizeof *marks) ||
              pwrite(w->fd, &w->h, sizeof w->h, 0) != (ssize_t)sizeof w->h;
    }
    bad = (w->fd >= 0 && close(w->fd) != 0) || bad || !commit;
    if (!bad)
        bad = rename(w->tmp, w->path) != 0;
    if (bad && w->fd >= 0)
        unlink(w->tmp);
    free(marks);
    free(w->tmp);
    free(w->path);
    free(w);
    return bad && commit ? RP_ERR_IO : RP_OK;
}

rp_status rp_cache_put_clip(const rp_cache *c, rp_cache_key k, const rp_clip *clip)
{
    rp_clip_writer *w;
    rp_status st = rp_cache_clip_begin(c, k, clip->rate_hz, &w);
    if (st)
        return st;
    rp_cache_clip_add(w, clip->pcm, (size_t)clip->n_frames);
    return rp_cache_clip_end(w, clip->words, clip->n_words, clip->voiced_frames, 1);
}

// Opens a clip file and reads its header and word marks, and with pcm set
// its samples too, verifying the checksum. The file's size must be exactly
// what the header says. A hit refreshes the clip's time (touch set).
static rp_status read_clip(const char *path, rp_clip *out, int pcm, int touch)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return RP_ERR_IO;
    clip_header h;
    struct stat sb;
    rp_status st = RP_OK;
    if (rp_read_all(fd, &h, sizeof h) || fstat(fd, &sb) != 0 ||
        memcmp(h.magic, CLIP_MAGIC, sizeof h.magic) != 0 || h.n_frames < 0 ||
        h.n_words > (1u << 20) || h.n_frames > ((int64_t)1 << 36) ||
        (uint64_t)sb.st_size != sizeof h + h.n_words * sizeof(rp_word_mark) +
                                    (uint64_t)h.n_frames * sizeof(int16_t))
        st = RP_ERR_IO;
    size_t n = st ? 0 : (size_t)h.n_frames;
    if (!st) {
        out->words = malloc((h.n_words ? h.n_words : 1) * sizeof *out->words);
        out->pcm = pcm ? malloc((n ? n : 1) * sizeof *out->pcm) : NULL;
        if (!out->words || (pcm && !out->pcm))
            st = RP_ERR_NOMEM;
    }
    uint64_t sum = 0;
    int16_t s16[PCM_CHUNK];
    for (size_t at = 0; pcm && !st && at < n; at += PCM_CHUNK) {
        size_t k = n - at < PCM_CHUNK ? n - at : PCM_CHUNK;
        if (rp_read_all(fd, s16, k * sizeof *s16)) {
            st = RP_ERR_IO;
            break;
        }
        sum = rp_hash_words(s16, k * sizeof *s16, sum);
        rp_s16_to_float(s16, out->pcm + at, k, 1.0f / 32768.0f);
    }
    // The word marks follow the samples.
    size_t words_bytes = st ? 0 : h.n_words * sizeof *out->words;
    off_t words_at = (off_t)(sizeof h + n * sizeof *s16);
    if (!st && pread(fd, out->words, words_bytes, words_at) != (ssize_t)words_bytes)
        st = RP_ERR_IO;
    out->n_words = st ? 0 : h.n_words;
    if (!st) {
        sum = rp_hash_words(out->words, words_bytes, sum);
        out->n_frames = h.n_frames;
        out->voiced_frames = h.voiced_frames;
        out->rate_hz = (int)h.rate_hz;
        if (pcm && sum != h.checksum) {
            unlink(path);  // damaged: it will be synthesized again
            st = RP_ERR_IO;
        }
    }
    if (!st && touch)
        futimens(fd, NULL);
    close(fd);
    if (st)
        rp_clip_deinit(out);
    return st;
}

// Where clip k is, into path. A clip an older radioplay left in a folder
// per key prefix (clips/XX/) is moved to its place the first time it is
// asked for, so an upgrade does not synthesize the cache again. (Two
// renders may race to move it: one does, and both find it there.)
static void find_clip(const rp_cache *c, rp_cache_key k, char *path, size_t cap)
{
    rp_cache_clip_path(c, k, path, cap);
    if (access(path, F_OK) == 0 || errno != ENOENT)
        return;
    char hex[33], old[4300];
    rp_cache_key_hex(k, hex);
    snprintf(old, sizeof old, "%s/clips/%.2s/%s.clip", c->dir, hex, hex);
    if (rename(old, path) == 0) {
        old[strlen(old) - strlen(hex) - strlen(".clip") - 1] = '\0';
        rmdir(old);  // its folder, once empty
    }
}

rp_status rp_cache_get_clip_info(const rp_cache *c, rp_cache_key k, rp_clip *out)
{
    char path[4300];
    find_clip(c, k, path, sizeof path);
    return read_clip(path, out, 0, 1);
}

rp_status rp_cache_get_clip(const rp_cache *c, rp_cache_key k, rp_clip *out)
{
    char path[4300];
    find_clip(c, k, path, sizeof path);
    return read_clip(path, out, 1, 0);
}

rp_status rp_cache_verify(const rp_cache *c, uint64_t *checked, uint64_t *damaged)
{
    *checked = *damaged = 0;
    walk w;
    rp_status st = walk_clips(c, &w, 0);
    for (size_t i = 0; i < w.n && st != RP_ERR_NOMEM; i++) {
        if (w.e[i].record)
            continue;  // checked against its own sum when a render reads it
        rp_clip clip;
        rp_status cs = read_clip(w.e[i].path, &clip, 1, 0);
        (*checked)++;
        if (cs == RP_ERR_IO) {
            unlink(w.e[i].path);
            (*damaged)++;
        }
        st = cs == RP_ERR_NOMEM ? cs : st;
        rp_clip_deinit(&clip);
    }
    walk_free(&w);
    return st;
}

// ---- values --------------------------------------------------------------------------

// A value's file is its number as text and a checksum of that text, so
// that what a power cut leaves of it (it is written without fsync) is no
// value rather than a wrong one.
static unsigned long long value_sum(const char *text, size_t n)
{
    return (unsigned long long)rp_hash64(text, n, RP_HASH_INIT);
}

static void value_path(const rp_cache *c, uint64_t key, char *path, size_t cap)
{
    snprintf(path, cap, "%s/values/%016llx", c->dir, (unsigned long long)key);
}

// A record's file, beside the values.
static void blob_path(const rp_cache *c, uint64_t key, char *path, size_t cap)
{
    snprintf(path, cap, "%s/values/%016llx.ckpt", c->dir, (unsigned long long)key);
}

void rp_cache_put_value(const rp_cache *c, uint64_t key, double v)
{
    char path[4300], text[64];
    value_path(c, key, path, sizeof path);
    int n = snprintf(text, sizeof text, "%.17g", v);
    n += snprintf(text + n, sizeof text - (size_t)n, " %016llx\n", value_sum(text, (size_t)n));
    rp_diags quiet;
    rp_diags_init(&quiet);
    // A cache: failing to write it costs a recomputation, nothing else.
    rp_write_cache_file(path, text, (size_t)n, &quiet);
    rp_diags_deinit(&quiet);
}

void rp_cache_put_blob(const rp_cache *c, uint64_t key, const void *data, size_t n)
{
    char path[4300];
    blob_path(c, key, path, sizeof path);
    int is_new = !rp_file_exists(path);
    rp_diags quiet;
    rp_diags_init(&quiet);
    rp_status st = rp_write_cache_file(path, data, n, &quiet);  // (its reader checks its sum)
    rp_diags_deinit(&quiet);
    // A new record may take the cache past its bound, as a new clip may.
    if (!st && is_new)
        rp_cache_grew(c, disk_bytes(n));
}

int rp_cache_get_blob_head(const rp_cache *c, uint64_t key, void *head, size_t n)
{
    char path[4300];
    blob_path(c, key, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int got = fd >= 0 && pread(fd, head, n, 0) == (ssize_t)n ? 0 : -1;
    if (fd >= 0)
        close(fd);
    return got;
}

int rp_cache_get_blob(const rp_cache *c, uint64_t key, size_t max, char **data, size_t *n)
{
    char path[4300];
    blob_path(c, key, path, sizeof path);
    rp_diags quiet;
    rp_diags_init(&quiet);
    *data = NULL;
    int found = rp_file_exists(path) && rp_read_file(path, max, data, n, &quiet) == RP_OK ? 0 : -1;
    rp_diags_deinit(&quiet);
    return found;
}

int rp_cache_get_value(const rp_cache *c, uint64_t key, double *v)
{
    char path[4300], *text = NULL;
    size_t len = 0;
    value_path(c, key, path, sizeof path);
    int found = -1;
    rp_diags quiet;
    rp_diags_init(&quiet);
    if (rp_file_exists(path) && rp_read_file(path, 64, &text, &len, &quiet) == RP_OK) {
        char *end, *after = NULL;
        double g = strtod(text, &end);
        unsigned long long sum = end != text && *end == ' ' ? strtoull(end + 1, &after, 16) : 0;
        if (end != text && *end == ' ' && after == end + 17 && *after == '\n' &&
            sum == value_sum(text, (size_t)(end - text)) && isfinite(g)) {
            *v = g;
            found = 0;
        }
    }
    rp_diags_deinit(&quiet);
    free(text);
    return found;
}
