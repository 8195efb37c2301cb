// SPDX-License-Identifier: GPL-3.0-or-later
// Test helpers: audio read-back and measurement, and running the binary.
#include "wav.h"

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int wav_read(const char *path, wav *w)
{
    memset(w, 0, sizeof *w);
    SF_INFO info = {0};
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    if (!sf)
        return -1;
    w->frames = info.frames;
    w->rate = info.samplerate;
    w->channels = info.channels;
    w->format = info.format & SF_FORMAT_TYPEMASK;
    w->x = calloc((size_t)(info.frames * info.channels + 1), sizeof *w->x);
    sf_count_t got = w->x ? sf_readf_float(sf, w->x, info.frames) : -1;
    sf_close(sf);
    if (got != info.frames) {
        wav_free(w);
        return -1;
    }
    return 0;
}

void wav_free(wav *w)
{
    free(w->x);
    memset(w, 0, sizeof *w);
}

static void window(const wav *w, double t0, double t1, int64_t *a, int64_t *b)
{
    *a = (int64_t)(t0 * w->rate);
    *b = (int64_t)(t1 * w->rate);
    if (*a < 0)
        *a = 0;
    if (*b > w->frames)
        *b = w->frames;
}

double wav_rms(const wav *w, int ch, double t0, double t1)
{
    int64_t a, b;
    window(w, t0, t1, &a, &b);
    double sum = 0;
    int64_t n = 0;
    for (int64_t i = a; i < b; i++) {
        for (int c = 0; c < w->channels; c++) {
            if (ch >= 0 && c != ch)
                continue;
            double v = w->x[i * w->channels + c];
            sum += v * v;
            n++;
        }
    }
    return n ? sqrt(sum / (double)n) : 0.0;
}

// RBJ cookbook band-pass (constant 0 dB peak gain), applied twice for a
// steeper skirt.
double wav_band_rms(const wav *w, int ch, double t0, double t1, double lo_hz, double hi_hz)
{
    int64_t a, b;
    window(w, t0, t1, &a, &b);
    double f0 = sqrt(lo_hz * hi_hz), bw = log2(hi_hz / lo_hz);
    double w0 = 2 * M_PI * f0 / w->rate;
    double alpha = sin(w0) * sinh(log(2) / 2 * bw * w0 / sin(w0));
    double a0 = 1 + alpha;
    double b0 = alpha / a0, b2 = -alpha / a0, a1 = -2 * cos(w0) / a0, a2 = (1 - alpha) / a0;
    double sum = 0;
    int64_t n = 0;
    for (int c = 0; c < w->channels; c++) {
        if (ch >= 0 && c != ch)
            continue;
        double s[2][4] = {{0}};
        for (int64_t i = a; i < b; i++) {
            double x = w->x[i * w->channels + c];
            for (int k = 0; k < 2; k++) {
                double y = b0 * x + b2 * s[k][1] - a1 * s[k][2] - a2 * s[k][3];
                s[k][1] = s[k][0];
                s[k][0] = x;
                s[k][3] = s[k][2];
                s[k][2] = y;
                x = y;
            }
            sum += x * x;
            n++;
        }
    }
    return n ? sqrt(sum / (double)n) : 0.0;
}

int wav_diff(const wav *a, const wav *b, wav *out)
{
    memset(out, 0, sizeof *out);
    if (a->frames != b->frames || a->channels != b->channels || a->rate != b->rate)
        return -1;
    size_t n = (size_t)(a->frames * a->channels);
    out->x = malloc((n + 1) * sizeof *out->x);
    if (!out->x)
        return -1;
    for (size_t i = 0; i < n; i++)
        out->x[i] = a->x[i] - b->x[i];
    out->frames = a->frames;
    out->channels = a->channels;
    out->rate = a->rate;
    return 0;
}

int64_t wav_onset(const wav *w, double t0, double thresh)
{
    for (int64_t i = (int64_t)(t0 * w->rate); i < w->frames; i++)
        for (int c = 0; c < w->channels; c++)
            if (fabsf(w->x[i * w->channels + c]) > thresh)
                return i;
    return -1;
}

int run(const char *cmd, char **out)
{
    char full[16500];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    if (!p) {
        *out = strdup("");
        return -1;
    }
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    size_t k;
    while (buf && (k = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += k;
        if (cap - len < 4096) {
            char *nb = realloc(buf, cap * 2);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
    }
    if (buf)
        buf[len] = '\0';
    int st = pclose(p);
    *out = buf ? buf : strdup("");
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

const char *radioplay_bin(void)
{
    static char path[1024];
    const char *b = getenv("RP_BUILD");
    snprintf(path, sizeof path, "%s/radioplay", b && b[0] ? b : "build");
    return path;
}

double cues_start_s(const char *chapter, int row, const char *text)
{
    char cmd[4096], *out = NULL;
    snprintf(cmd, sizeof cmd, "%s cues '%s' 2>/dev/null", radioplay_bin(), chapter);
    run(cmd, &out);
    double at = -1;
    int k = 0;
    char *save = NULL;
    for (char *l = strtok_r(out, "\n", &save); l && at < 0; l = strtok_r(NULL, "\n", &save)) {
        if (k++ == 0)
            continue;  // the header
        if (text ? strstr(l, text) != NULL : k - 1 == row)
            at = atof(l);
    }
    free(out);
    return at;
}

static char tmpdir_path[256];
static pid_t tmpdir_owner;

const char *test_tmpdir(void)
{
    if (!tmpdir_path[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir_path, sizeof tmpdir_path, "%s/radioplay-test-XXXXXX",
                 base && base[0] == '/' ? base : "/tmp");
        if (mkdtemp(tmpdir_path))
            tmpdir_owner = getpid();
        else
            snprintf(tmpdir_path, sizeof tmpdir_path, "/tmp");
    }
    return tmpdir_path;
}

void test_remove(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            size_t n = strlen(path) + strlen(e->d_name) + 2;
            char *sub = malloc(n);
            if (sub) {
                snprintf(sub, n, "%s/%s", path, e->d_name);
                test_remove(sub);
                free(sub);
            }
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

void test_tmpdir_done(int failed)
{
    if (!tmpdir_owner || tmpdir_owner != getpid())
        return;  // never made, or a forked child's copy of the name
    if (failed) {
        printf("  (this program's files are kept in %s)\n", tmpdir_path);
        return;
    }
    test_remove(tmpdir_path);
    tmpdir_path[0] = '\0';
    tmpdir_owner = 0;
}

int same_file(const char *a, const char *b)
{
    char cmd[8300], *out;
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    int rc = run(cmd, &out);
    free(out);
    return rc == 0;
}

int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = '\0';
    fclose(f);
    return s;
}

const char *tmp(int slot, const char *name)
{
    static char buf[8][1024];
    snprintf(buf[slot & 7], sizeof buf[0], "%.200s/%.200s", test_tmpdir(), name);
    return buf[slot & 7];
}

void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

int rp(const char *args, char **out)
{
    char cmd[16400];
    snprintf(cmd, sizeof cmd, "%s %s", radioplay_bin(), args);
    return run(cmd, out);
}

int read_cues(const char *tsv, cue *cues, int max)
{
    int n = 0;
    const char *p = strchr(tsv, '\n');
    if (!p || strncmp(tsv, "start\tend\tkind\twho\ttext\n", 24) != 0)
        return -1;
    for (p++; *p && n < max;) {
        cue c = {0};
        if (sscanf(p, "%lf\t%lf\t%15[^\t]\t%63[^\t]\t%511[^\n]", &c.start, &c.end, c.kind, c.who,
                   c.text) >= 4) {
            c.start_ms = llround(c.start * 1000);
            c.end_ms = llround(c.end * 1000);
            cues[n++] = c;
        }
        p = strchr(p, '\n');
        if (!p)
            break;
        p++;
    }
    return n;
}

int render_reference(const char *chapter, const char *path, wav *w)
{
    char cache[1024], args[4200], *out = NULL;
    snprintf(cache, sizeof cache, "%s/cache", test_tmpdir());
    setenv("XDG_CACHE_HOME", cache, 1);
    snprintf(args, sizeof args, "render %s -o %s -q --bits float", chapter, path);
    int rc = rp(args, &out);
    if (rc != 0)
        fprintf(stderr, "%s", out ? out : "");
    free(out);
    return rc == 0 ? wav_read(path, w) : -1;
}

int cues_of(const char *args, cue *cues, int max)
{
    char cmd[4200], *tsv = NULL;
    snprintf(cmd, sizeof cmd, "cues %s", args);
    int n = rp(cmd, &tsv) == 0 && tsv ? read_cues(tsv, cues, max) : -1;
    free(tsv);
    return n;
}

double wav_band_share(const wav *w, double t0, double t1, double lo_hz, double hi_hz)
{
    enum { N = 2048 };
    static double re[N / 2], im[N / 2], x[N];
    double in_band = 0, all = 0;
    for (int64_t at = (int64_t)(t0 * w->rate); at + N <= (int64_t)(t1 * w->rate); at += N) {
        for (int i = 0; i < N; i++) {
            double h = 0.5 - 0.5 * cos(2 * M_PI * i / N);
            x[i] = h * (w->x[(at + i) * w->channels] + w->x[(at + i) * w->channels + w->channels - 1]);
        }
        for (int k = 1; k < N / 2; k++) {
            double c = 1, sn = 0, dc = cos(2 * M_PI * k / N), ds = -sin(2 * M_PI * k / N);
            re[k] = im[k] = 0;
            for (int i = 0; i < N; i++) {
                re[k] += x[i] * c;
                im[k] += x[i] * sn;
                double t = c * dc - sn * ds;
                sn = c * ds + sn * dc;
                c = t;
            }
            double p = re[k] * re[k] + im[k] * im[k], f = (double)k * w->rate / N;
            all += p;
            if (f >= lo_hz && f < hi_hz)
                in_band += p;
        }
    }
    return all > 0 ? in_band / all : 0;
}

int count_files(const char *dir, const char *part)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strstr(e->d_name, part) != NULL;
    if (d)
        closedir(d);
    return n;
}

void remove_files(const char *part)
{
    DIR *d = opendir(test_tmpdir());
    for (struct dirent *e; d && (e = readdir(d));) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", test_tmpdir(), e->d_name);
        if (strstr(e->d_name, part))
            unlink(path);
    }
    if (d)
        closedir(d);
}

static struct rlimit limit_was;
static void (*limit_handler)(int);

void file_limit_begin(long long limit)
{
    getrlimit(RLIMIT_FSIZE, &limit_was);
    struct rlimit lim = limit_was;
    lim.rlim_cur = (rlim_t)limit;
    limit_handler = signal(SIGXFSZ, SIG_IGN);
    setrlimit(RLIMIT_FSIZE, &lim);
}

void file_limit_end(void)
{
    setrlimit(RLIMIT_FSIZE, &limit_was);
    signal(SIGXFSZ, limit_handler);
}

int damaged_refused(const char *bytes, size_t len, size_t words,
                    int (*try)(const char *bytes, size_t len, void *ctx), void *ctx, int *tried)
{
    static const uint32_t values[] = {0x7ffff000u, 0xffffffffu, 0};
    char *bad = malloc(len ? len : 1);
    int refused = bad ? 0 : -1, n = 0;
    for (size_t w = 0; bad && w + 4 <= words && w + 4 <= len; w += 4) {
        for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
            if (memcmp(bytes + w, &values[v], 4) == 0)
                continue;
            memcpy(bad, bytes, len);
            memcpy(bad + w, &values[v], 4);
            n++;
            refused += try(bad, len, ctx) != 0;
        }
    }
    free(bad);
    if (tried)
        *tried = n;
    return refused;
}
