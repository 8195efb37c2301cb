// SPDX-License-Identifier: GPL-3.0-or-later
// End to end: runs build/radioplay with real espeak-ng and libsndfile on small
// chapters written here, reads the files back and measures them: length and
// format, speech where `cues` says, each effect's energy in its band at its
// cue (null test against the same chapter without the cue), panning,
// byte-identical re-renders, diagnostics with locations and exit codes, and
// that a failed render leaves no file behind. When ../shared/chapters exists
// the three sample chapters are rendered and checked too.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rp_config.h"
#include "rp_io.h"
#include "rp_mix.h"
#include "rp_render.h"
#include "rp_sink.h"
#include "test.h"
#include "wav.h"

// ---- cue sheet parsing ---------------------------------------------------------

static const char dialogue[] =
    "# A Test of Voices\n"
    "\n"
    "The harbour lay quiet under a grey sky.\n"
    "\n"
    "\"Is anyone there?\" Ann called across the water.\n"
    "\n"
    "\"Only me,\" said Bob. \"And the gulls.\"\n"
    "\n"
    "The boat drifted closer to the pier.\n";

static const char dialogue_cast[] =
    "[voice Ann]\nvoice = en-us\nvariant = f2\npan = -0.9\n\n"
    "[voice Bob]\nvoice = en-gb\nvariant = m1\npan = 0.9\n";

static void test_render_speech_where_cues_say(void)
{
    const char *ch = tmp(0, "voices.txt"), *out = tmp(1, "voices.wav");
    write_text(ch, dialogue);
    write_text(tmp(2, "voices.cast"), dialogue_cast);
    char *log = NULL, *tsv = NULL, args[8192];
    snprintf(args, sizeof args, "render %s -o %s -q", ch, out);
    CHECK_INT(rp(args, &log), 0);
    snprintf(args, sizeof args, "cues %s", ch);
    CHECK_INT(rp(args, &tsv), 0);
    cue cues[64];
    int n = read_cues(tsv, cues, 64);
    CHECK(n >= 5);
    wav w;
    CHECK_INT(wav_read(out, &w), 0);
    CHECK_INT(w.rate, 48000);
    CHECK_INT(w.channels, 2);
    double dur = (double)w.frames / w.rate;
    // The file ends one tail (1 s) after the last cue.
    double last = 0;
    for (int i = 0; i < n; i++)
        last = cues[i].end > last ? cues[i].end : last;
    CHECK_NEAR(dur, last + 1.0, 0.01);
    // Every line is audible where cues put it; the gaps between are silent.
    int speech = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(cues[i].kind, "speech"))
            continue;
        speech++;
        double rms = wav_rms(&w, -1, cues[i].start, cues[i].end);
        CHECK_MSG(rms > 0.02, "line %d at %.3f s: rms %.4f", i, cues[i].start, rms);
        if (i + 1 < n && cues[i + 1].start - cues[i].end > 0.2) {
            double gap = wav_rms(&w, -1, cues[i].end + 0.05, cues[i + 1].start - 0.05);
            CHECK_MSG(gap < 0.002, "gap after line %d: rms %.4f", i, gap);
        }
    }
    CHECK(speech >= 6);
    // The lead-in is silent.
    CHECK(wav_rms(&w, -1, 0, 0.45) < 0.001);
    // Panning: Ann (pan -0.9) is in the left channel, Bob (0.9) in the right.
    int seen_ann = 0, seen_bob = 0;
    for (int i = 0; i < n; i++) {
        double l = wav_rms(&w, 0, cues[i].start, cues[i].end);
        double r = wav_rms(&w, 1, cues[i].start, cues[i].end);
        if (!strcmp(cues[i].who, "Ann")) {
            seen_ann = 1;
            CHECK_MSG(l > 4 * r, "Ann l=%.4f r=%.4f", l, r);
        } else if (!strcmp(cues[i].who, "Bob")) {
            seen_bob = 1;
            CHECK_MSG(r > 4 * l, "Bob l=%.4f r=%.4f", l, r);
        } else if (!strcmp(cues[i].who, "Narrator")) {
            CHECK_MSG(l / r > 0.9 && l / r < 1.1, "narrator l=%.4f r=%.4f", l, r);
        }
    }
    CHECK(seen_ann && seen_bob);
    wav_free(&w);
    free(log);
    free(tsv);
}

// The CRC-32 of RFC 3533 (polynomial 0x04c11db7, unreflected), bit by bit.
static uint32_t ogg_crc_bits(const unsigned char *p, size_t n)
{
    uint32_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint32_t)p[i] << 24;
        for (int k = 0; k < 8; k++)
            crc = crc & 0x80000000u ? (crc << 1) ^ 0x04c11db7u : crc << 1;
    }
    return crc;
}

// Walks an Ogg file's pages: each must hold a checksum that matches, and
// all the same serial number, which is returned (-1: not so).
static long ogg_pages_check(const char *path)
{
    FILE *f = fopen(path, "rb");
    static unsigned char buf[1 << 22];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    long serial = -1;
    int pages = 0;
    for (size_t at = 0; at < n; pages++) {
        unsigned char *pg = buf + at;
        if (n - at < 27 || memcmp(pg, "OggS", 4) != 0 || n - at < 27u + pg[26])
            return -1;
        size_t len = 27u + pg[26];
        for (int i = 0; i < pg[26]; i++)
            len += pg[27 + i];
        if (len > n - at)
            return -1;
        long sn = (long)((uint32_t)pg[14] | (uint32_t)pg[15] << 8 | (uint32_t)pg[16] << 16 |
                         (uint32_t)pg[17] << 24);
        uint32_t crc = (uint32_t)pg[22] | (uint32_t)pg[23] << 8 | (uint32_t)pg[24] << 16 |
                       (uint32_t)pg[25] << 24;
        memset(pg + 22, 0, 4);
        if (ogg_crc_bits(pg, len) != crc || (serial >= 0 && sn != serial)) {
            printf("  %s: page %d at %zu: bad checksum or serial\n", path, pages, at);
            return -1;
        }
        serial = sn;
        at += len;
    }
    return pages > 2 && n < sizeof buf ? serial : -1;
}

static void test_render_is_deterministic(void)
{
    const char *ch = tmp(0, "voices.txt");
    write_text(ch, dialogue);
    write_text(tmp(2, "voices.cast"), dialogue_cast);
    char *log = NULL, args[4096];
    snprintf(args, sizeof args, "render %s -o %s -q && %s render %s -o %s -q && cmp %s %s", ch,
             tmp(1, "a.wav"), radioplay_bin(), ch, tmp(3, "b.wav"), tmp(1, "a.wav"),
             tmp(3, "b.wav"));
    CHECK_INT(rp(args, &log), 0);
    free(log);
    // Ogg too, though libsndfile gives each stream a random serial number:
    // every page carries ours, under a checksum that holds, and other audio
    // gets another serial.
    snprintf(args, sizeof args,
             "render %s -o %s -q && %s render %s -o %s -q && cmp %s %s && "
             "%s render %s -o %s -q --loudness off",
             ch, tmp(4, "a.ogg"), radioplay_bin(), ch, tmp(5, "b.ogg"), tmp(4, "a.ogg"),
             tmp(5, "b.ogg"), radioplay_bin(), ch, tmp(6, "c.ogg"));
    CHECK_INT(rp(args, &log), 0);
    free(log);
    long serial_a = ogg_pages_check(tmp(4, "a.ogg")), serial_c = ogg_pages_check(tmp(6, "c.ogg"));
    CHECK(serial_a >= 0 && serial_c >= 0 && serial_a != serial_c);
    wav w, o;
    CHECK_INT(wav_read(tmp(1, "a.wav"), &w), 0);
    CHECK_INT(wav_read(tmp(4, "a.ogg"), &o), 0);
    CHECK(w.frames > 0 && o.frames == w.frames);
    wav_free(&w);
    wav_free(&o);
}

// The dialogue rendered to a file of type ext with extra, once as it is
// and once under a file size limit the kept mix cannot fit under: passes
// over the mix both times, the first saying `kept`, the second not reading
// back; the same bytes and the same figures (the first meters on the
// reading thread).
static void kept_against_mixed(const char *ext, const char *extra, int passes, const char *kept)
{
    char names[2][32];
    snprintf(names[0], sizeof names[0], "kept.%s", ext);
    snprintf(names[1], sizeof names[1], "mixed.%s", ext);
    const char *ch = tmp(0, "voices.txt"), *out[2] = {tmp(1, names[0]), tmp(3, names[1])};
    write_text(ch, dialogue);
    write_text(tmp(2, "voices.cast"), dialogue_cast);
    char figures[2][256] = {"", ""}, said[64];
    snprintf(said, sizeof said, "passes over the mix: %d", passes);
    for (int k = 0; k < 2; k++) {
        char *log = NULL, args[4096];
        struct stat sb;
        if (k == 1) {
            CHECK_INT(stat(out[0], &sb), 0);
            CHECK(sb.st_size > 200 * 1000);
            file_limit_begin((long long)sb.st_size + (512 << 10));
        }
        snprintf(args, sizeof args, "render %s -o %s -v --no-cache %s", ch, out[k], extra);
        int rc = rp(args, &log);
        if (k == 1)
            file_limit_end();
        CHECK_INT(rc, 0);
        CHECK_MSG(log && strstr(log, said) && (k == 0 ? strstr(log, kept) != NULL
                                                      : strstr(log, "read back") == NULL),
                  "%s", log ? log : "");
        const char *f = log ? strstr(log, "radioplay: loudness ") : NULL;
        if (f)
            snprintf(figures[k], sizeof figures[k], "%.*s", (int)strcspn(f, "\n"), f);
        // The file's meter took the measuring pass's figures for some steps
        // (the dialogue's quiet ones), not all (its loud words are limited).
        const char *t = log ? strstr(log, "the file's meter took ") : NULL;
        double took = t ? atof(t + strlen("the file's meter took ")) : -1;
        CHECK_MSG(took > 10 && took < 100, "the file's meter took %.0f%%", took);
        printf("  %s: the file's meter took %.0f%% of its steps from the mix's\n", names[k], took);
        free(log);
    }
    CHECK(same_file(out[0], out[1]));
    CHECK_MSG(figures[0][0] && !strcmp(figures[0], figures[1]), "'%s' against '%s'", figures[0],
              figures[1]);
}

// The measuring pass keeps its mix in a temporary file, and the master
// pass reads it back instead of mixing again (-v says so). A render that
// cannot keep it mixes again, to the same bytes: here a file size limit
// that the 16-bit output fits under and the kept mix (1 MiB of room for
// the file's header, then the mix at 16 bits) does not, as a full disk
// would stop it.
static void test_a_mix_not_kept_is_mixed_again_to_the_same_bytes(void)
{
    kept_against_mixed("wav", "", 2, "read back, not mixed again");
    // Kept at 16 bits, the mix takes the file's bytes and the header's
    // room: it fits where a float mix (twice the file) would not.
    struct stat sb;
    CHECK_INT(stat(tmp(1, "kept.wav"), &sb), 0);
    file_limit_begin((long long)sb.st_size * 6 / 5 + (2 << 20));
    char *log = NULL, args[4096];
    snprintf(args, sizeof args, "render %s -o %s -v --no-cache", tmp(0, "voices.txt"),
             tmp(1, "kept.wav"));
    int rc = rp(args, &log);
    file_limit_end();
    CHECK_INT(rc, 0);
    CHECK_MSG(log && strstr(log, "read back, not mixed again"), "%s", log ? log : "");
    free(log);
    // Another format keeps it apart (an unnamed temporary file), at 16 bits too.
    kept_against_mixed("flac", "", 2, "read back, not mixed again");
}

// A pass that reads the mix back writes the file over it as it goes, so
// the pass that corrects the gain after it mixes again.
static void test_a_correcting_pass_after_a_read_back_mixes_to_the_same_bytes(void)
{
    kept_against_mixed("wav", "--loudness -12", 3, "read back once");
}

// A 16-bit file's mix is rounded to 16 bits a block at a time (round16,
// so that it is kept in half the memory): the file stays within its own
// dither of the same render at 24 bits, whose mix is not rounded. The
// difference is the 16-bit file's dither and rounding (about half an LSB
// RMS) and the mix's rounding under it.
static void test_a_16_bit_file_is_within_its_dither_of_24_bits(void)
{
    const char *ch = tmp(0, "voices.txt"), *a = tmp(1, "at16.wav"), *b = tmp(3, "at24.wav");
    write_text(ch, dialogue);
    write_text(tmp(2, "voices.cast"), dialogue_cast);
    char args[4096], *log = NULL;
    snprintf(args, sizeof args, "render %s -o %s -q --no-cache && %s render %s -o %s -q "
             "--no-cache --bits 24", ch, a, radioplay_bin(), ch, b);
    CHECK_INT(rp(args, &log), 0);
    free(log);
    wav x, y, diff;
    CHECK_INT(wav_read(a, &x), 0);
    CHECK_INT(wav_read(b, &y), 0);
    CHECK_INT(wav_diff(&x, &y, &diff), 0);
    double lsb = 1.0 / 32768.0, peak = 0.0, sum = 0.0;
    for (int64_t i = 0; diff.x && i < diff.frames * diff.channels; i++) {
        peak = fabs(diff.x[i]) > peak ? fabs(diff.x[i]) : peak;
        sum += diff.x[i] * diff.x[i];
    }
    double rms = diff.frames > 0 ? sqrt(sum / (double)(diff.frames * diff.channels)) : 1.0;
    printf("  16-bit against 24-bit: %.2f LSB RMS, %.2f LSB at most, speech at %.1f dBFS RMS\n",
           rms / lsb, peak / lsb, 20 * log10(wav_rms(&y, -1, 0.0, 1e9) + 1e-30));
    CHECK(rms < 0.7 * lsb);
    CHECK(peak < 4.0 * lsb);
    CHECK(wav_rms(&y, -1, 0.0, 1e9) > 0.01);  // not silence
    wav_free(&x);
    wav_free(&y);
    wav_free(&diff);
}

// Bytes of fd's first len held in memory (mincore).
static size_t resident(int fd, size_t len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), pages = (len + page - 1) / page, held = 0;
    void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    unsigned char *in = calloc(pages, 1);
    CHECK(m != MAP_FAILED && in && mincore(m, len, in) == 0);
    for (size_t i = 0; in && i < pages; i++)
        held += in[i] & 1;
    free(in);
    if (m != MAP_FAILED)
        munmap(m, len);
    return held * page;
}

// A scratch file near a path with no folder in it is made in the current
// one, even for an empty path (it once copied "." into a copy of "": make
// asan caught the overflow).
static void test_a_scratch_file_near_a_bare_name(void)
{
    const char *near[] = {"", "bare.wav", "/"};
    for (size_t i = 0; i < sizeof near / sizeof near[0]; i++) {
        int fd = rp_temp_scratch(near[i]);
        CHECK_MSG(fd >= 0, "no scratch file near '%s'", near[i]);
        if (fd >= 0) {
            CHECK_INT(rp_write_all(fd, "x", 1), 0);
            close(fd);
        }
    }
}

// Files are written RP_WRITE_PIECE bytes at a time (io.c says why: larger
// writes took five times the system time on this machine). A packet socket
// keeps each write() whole, so the reader sees the pieces as written.
static void test_writes_go_in_pieces(void)
{
    enum { N = 3 * RP_WRITE_PIECE + 5000 };
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
    int big = 4 << 20;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    static unsigned char x[N], y[N + 1];
    for (size_t i = 0; i < N; i++)
        x[i] = (unsigned char)(i * 2654435761u >> 24);
    CHECK_INT(rp_write_all(sv[0], x, N), 0);
    close(sv[0]);
    size_t got = 0, pieces = 0, largest = 0;
    ssize_t r;
    while (got < N && (r = recv(sv[1], y + got, sizeof y - got, 0)) > 0) {
        got += (size_t)r;
        pieces++;
        largest = (size_t)r > largest ? (size_t)r : largest;
    }
    close(sv[1]);
    printf("  %zu bytes in %zu writes, the largest %zu bytes\n", got, pieces, largest);
    CHECK_INT((long long)got, N);
    CHECK_INT((long long)pieces, 4);
    CHECK_INT((long long)largest, RP_WRITE_PIECE);
    CHECK(memcmp(x, y, N) == 0);
}

// The spool's pages go back as they are read (rp_scratch_drop): what is
// dropped leaves memory and reads as zeros; the rest is untouched.
static void test_a_scratch_file_gives_its_pages_back(void)
{
    enum { MB = 1 << 20, SIZE = 24 * MB, DROP = 16 * MB };
    int fd = rp_temp_scratch(tmp(0, "near.wav"));
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    static unsigned char x[SIZE];
    for (size_t i = 0; i < SIZE; i++)
        x[i] = (unsigned char)(i * 2654435761u >> 24);
    CHECK_INT(rp_write_all(fd, x, SIZE), 0);
    size_t before = resident(fd, SIZE);
    CHECK_INT(rp_scratch_drop(fd, 0, DROP), 0);
    size_t after = resident(fd, SIZE);
    printf("  %.1f MB held before, %.1f MB after giving back the first %d MB\n", before / 1e6,
           after / 1e6, DROP / MB);
    CHECK(before >= SIZE - MB);
    CHECK(after <= SIZE - DROP + MB && after >= SIZE - DROP - MB);
    static unsigned char y[SIZE];
    CHECK(lseek(fd, 0, SEEK_SET) == 0 && rp_read_all(fd, y, SIZE) == 0);
    size_t zeros = 0;
    while (zeros < DROP && y[zeros] == 0)
        zeros++;
    CHECK_INT((long long)zeros, DROP);
    CHECK(memcmp(x + DROP, y + DROP, SIZE - DROP) == 0);
    close(fd);
}

// How many descriptors of process pid (0: of any process) are on the
// file sb describes (a deleted file's too: stat follows /proc's links).
static int holders(pid_t pid, const struct stat *sb)
{
    int n = 0;
    DIR *procs = opendir("/proc");
    for (struct dirent *p; procs && (p = readdir(procs));) {
        if (atoi(p->d_name) <= 0 || (pid > 0 && atoi(p->d_name) != (int)pid))
            continue;
        char dir[300];
        snprintf(dir, sizeof dir, "/proc/%s/fd", p->d_name);
        DIR *fds = opendir(dir);
        for (struct dirent *f; fds && (f = readdir(fds));) {
            char path[600];
            struct stat at;
            snprintf(path, sizeof path, "%s/%s", dir, f->d_name);
            n += f->d_name[0] != '.' && stat(path, &at) == 0 && at.st_dev == sb->st_dev &&
                 at.st_ino == sb->st_ino;
        }
        if (fds)
            closedir(fds);
    }
    if (procs)
        closedir(procs);
    return n;
}

// Bytes of dirty pages this process has dropped unwritten (a file's
// pages freed before they reached the disk), from /proc/self/io; -1 when
// unknown.
static long long cancelled_writes(void)
{
    FILE *f = fopen("/proc/self/io", "r");
    long long n = -1;
    char line[200];
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "cancelled_write_bytes:", 22))
            n = atoll(line + 22);
    if (f)
        fclose(f);
    return n;
}

// A new file of size bytes at path, its pages not yet written out.
static void dirty_file(const char *path, int size)
{
    static unsigned char x[1 << 20];
    memset(x, 7, sizeof x);
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    CHECK(fd >= 0);
    for (int i = 0; fd >= 0 && i < size / (int)sizeof x; i++)
        CHECK_INT(rp_write_all(fd, x, sizeof x), 0);
    if (fd >= 0)
        close(fd);
}

// A render's file replaces the last one by rp_rename_into_place, which lets
// go of a large old file in a grandchild: the kernel frees its pages and
// blocks there, not while the render waits. Measured by the dirty pages
// the caller drops: a plain rename over a file just written drops them
// all (where the file system shows it: not tmpfs), rp_rename_into_place
// none. The caller holds nothing of the old file after it and has no
// child left to reap, and the old file is soon gone from every process.
static void test_a_replaced_file_is_let_go_elsewhere(void)
{
    enum { SIZE = 32 << 20 };
    const char *target = tmp(0, "replaced.bin"), *next = tmp(1, "replacing.bin");
    // A plain rename, for the figure.
    dirty_file(target, SIZE);
    write_text(next, "new");
    long long before = cancelled_writes();
    CHECK_INT(rename(next, target), 0);
    long long plain = cancelled_writes() - before;
    dirty_file(target, SIZE);
    struct stat old;
    CHECK_INT(stat(target, &old), 0);
    write_text(next, "new");
    int pipe_fd[2];
    CHECK_INT(pipe(pipe_fd), 0);
    pid_t pid = fork();
    if (pid == 0) {  // a process of the test's own, with no other child
        before = cancelled_writes();
        int r = rp_rename_into_place(next, target), held = holders(getpid(), &old);
        long long dropped = cancelled_writes() - before;
        int left = waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD ? 0 : 1;
        if (write(pipe_fd[1], &dropped, sizeof dropped) != sizeof dropped)
            _exit(4);
        _exit(r != 0 ? 1 : held ? 2 : left ? 3 : 0);
    }
    close(pipe_fd[1]);
    long long dropped = -1;
    CHECK(read(pipe_fd[0], &dropped, sizeof dropped) == sizeof dropped);
    close(pipe_fd[0]);
    int status = -1;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "exit %d (1: the rename failed, 2: the caller holds the old file, 3: a child is "
              "left to reap)", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    printf("  replacing a %d MB file just written: a rename drops %.1f MB of its pages, "
           "rp_rename_into_place %.1f MB\n", SIZE >> 20, plain / 1e6, dropped / 1e6);
    if (plain >= SIZE / 2)
        CHECK_MSG(dropped >= 0 && dropped < SIZE / 8, "the caller dropped %lld bytes", dropped);
    else
        printf("  (this file system does not count dropped pages: that part is not checked)\n");
    char *now = read_text(target);
    CHECK(now && !strcmp(now, "new"));
    free(now);
    int held = 1;
    for (int i = 0; i < 1000 && (held = holders(0, &old)) > 0; i++)
        usleep(10000);
    CHECK_MSG(held == 0, "the old file is still held by %d descriptors after 10 s", held);
    // A rename that fails is rename's failure, and leaves the file be.
    errno = 0;
    CHECK_INT(rp_rename_into_place(tmp(2, "missing.bin"), target), -1);
    CHECK_INT(errno, ENOENT);
    now = read_text(target);
    CHECK(now && !strcmp(now, "new"));
    free(now);
    test_remove(target);
}

// Renders text with and without one cue; returns the difference signal.
// Loudness normalization is off: each render would get a gain of its own.
static int effect_alone(const char *with, const char *without, wav *diff, double *cue_start,
                        double *cue_end, const char *name)
{
    const char *a = tmp(4, "fx_a.txt"), *b = tmp(5, "fx_b.txt");
    write_text(a, with);
    write_text(b, without);
    char *log = NULL, *tsv = NULL, args[8192];
    int rc = 0;
    snprintf(args, sizeof args,
             "render %s -o %s -q --loudness off && %s render %s -o %s -q --loudness off", a,
             tmp(6, "fx_a.wav"), radioplay_bin(), b, tmp(7, "fx_b.wav"));
    rc |= rp(args, &log);
    snprintf(args, sizeof args, "cues %s", a);
    rc |= rp(args, &tsv);
    cue cues[64];
    int n = read_cues(tsv, cues, 64);
    *cue_start = *cue_end = -1;
    for (int i = 0; i < n; i++) {
        if (!strcmp(cues[i].kind, "sfx") && !strcmp(cues[i].who, name)) {
            *cue_start = cues[i].start;
            *cue_end = cues[i].end;
        }
    }
    wav wa, wb;
    rc |= wav_read(tmp(6, "fx_a.wav"), &wa);
    rc |= wav_read(tmp(7, "fx_b.wav"), &wb);
    if (!rc)
        rc = wav_diff(&wa, &wb, diff);
    wav_free(&wa);
    wav_free(&wb);
    if (rc)
        fprintf(stderr, "%s\n", log ? log : "");
    free(log);
    free(tsv);
    return rc;
}

static void test_effects_fire_on_their_word(void)
{
    static const struct {
        const char *name;
        double lo_hz, hi_hz;  // where most of its energy must be
    } fx[] = {{"thunder", 20, 250}, {"pod_impact", 20, 200}, {"drone", 80, 2000}};
    // The effect as written, not cleared under the voice (measured apart).
    write_text(tmp(1, "fx_a.cast"), "[render]\nclearance = 0\n");
    write_text(tmp(2, "fx_b.cast"), "[render]\nclearance = 0\n");
    for (size_t i = 0; i < sizeof fx / sizeof fx[0]; i++) {
        char with[1024], without[1024];
        snprintf(with, sizeof with,
                 "The night was still. Then the first sound {sfx %s}arrived over the roofs, "
                 "and nobody in the street moved at all.\n\n{pause 9}\n",
                 fx[i].name);
        snprintf(without, sizeof without,
                 "The night was still. Then the first sound arrived over the roofs, "
                 "and nobody in the street moved at all.\n\n{pause 9}\n");
        wav d;
        double s, e;
        CHECK_INT(effect_alone(with, without, &d, &s, &e, fx[i].name), 0);
        CHECK_MSG(s > 0.5, "%s: cue at %.3f", fx[i].name, s);
        if (!d.x)
            continue;
        // Nothing differs before the cue: the effect starts exactly at it.
        double before = wav_rms(&d, -1, 0, s - 0.01);
        CHECK_MSG(before < 1e-4, "%s: %.6f before the cue", fx[i].name, before);
        int64_t onset = wav_onset(&d, 0, 0.01);
        CHECK_MSG(onset >= 0 && llabs(onset - (int64_t)(s * d.rate)) < d.rate / 10,
                  "%s: onset %.3f s, cue %.3f s", fx[i].name, (double)onset / d.rate, s);
        // It is loud and its energy sits in its band.
        double all = wav_rms(&d, -1, s, e);
        double band = wav_band_rms(&d, -1, s, e, fx[i].lo_hz, fx[i].hi_hz);
        CHECK_MSG(all > 0.01, "%s: rms %.4f", fx[i].name, all);
        CHECK_MSG(band > 0.4 * all, "%s: band %.4f of %.4f", fx[i].name, band, all);
        wav_free(&d);
    }
    remove(tmp(1, "fx_a.cast"));
    remove(tmp(2, "fx_b.cast"));
}

static void test_sound_words_cue_effects(void)
{
    // "thunder" in the narration rolls thunder on that word: the same audio
    // as the cue written by hand, and nothing without the rule.
    const char *auto_text = "The night was still. Then thunder rolled over the roofs, and "
                            "nobody in the street moved at all.\n\n{pause 9}\n";
    const char *by_hand = tmp(0, "by_hand.txt");
    write_text(by_hand, "The night was still. Then {sfx thunder}thunder rolled over the roofs, "
                        "and nobody in the street moved at all.\n\n{pause 9}\n");
    write_text(tmp(1, "fx_b.cast"), "[rules]\ndefaults = off\n");
    wav d;
    double s, e;
    CHECK_INT(effect_alone(auto_text, auto_text, &d, &s, &e, "thunder"), 0);
    CHECK_MSG(s > 1.0, "thunder cue at %.3f", s);
    if (d.x) {
        CHECK(wav_rms(&d, -1, 0, s - 0.01) < 1e-4);
        double all = wav_rms(&d, -1, s, e), band = wav_band_rms(&d, -1, s, e, 20, 250);
        CHECK_MSG(all > 0.01 && band > 0.4 * all, "thunder: band %.4f of %.4f", band, all);
        wav_free(&d);
    }
    remove(tmp(1, "fx_b.cast"));
    char *log = NULL, args[4096];
    snprintf(args, sizeof args, "render %s -o %s -q --loudness off && cmp %s %s", by_hand, tmp(2, "hand.wav"),
             tmp(2, "hand.wav"), tmp(6, "fx_a.wav"));
    CHECK_INT(rp(args, &log), 0);
    free(log);
    // Dialogue stays quiet.
    const char *q = tmp(3, "quiet.txt");
    write_text(q, "\"It's just thunder,\" she whispered.\n");
    char *tsv = NULL;
    snprintf(args, sizeof args, "cues %s", q);
    CHECK_INT(rp(args, &tsv), 0);
    CHECK(tsv && !strstr(tsv, "\tsfx\t"));
    free(tsv);
}

static void test_formats_and_rates(void)
{
    const char *ch = tmp(0, "short.txt");
    write_text(ch, "A short line for every format, long enough to measure its loudness.\n"
                   "\n\"And a second voice,\" she said.\n");
    static const struct {
        const char *name, *opts, *encoding;
        int rate, channels, lossless;
    } f[] = {{"o16.wav", "", "Signed 16 bit PCM", 48000, 2, 1},
             {"o24.wav", "--bits 24", "Signed 24 bit PCM", 48000, 2, 1},
             {"of.wav", "--bits float", "32 bit float", 48000, 2, 1},
             {"o.flac", "", "Signed 16 bit PCM", 48000, 2, 1},
             {"o24.flac", "--bits 24", "Signed 24 bit PCM", 48000, 2, 1},
             {"o.ogg", "", "Vorbis", 48000, 2, 0},
             {"o.mp3", "", "MPEG Layer III", 48000, 2, 0},
             {"o44.wav", "--rate 44100 --channels 1", "Signed 16 bit PCM", 44100, 1, 1}};
    int64_t frames48 = -1;
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        char *log = NULL, *info = NULL, args[4096];
        snprintf(args, sizeof args, "render %s -o %s %s -q", ch, tmp(1, f[i].name), f[i].opts);
        int rc = rp(args, &log);
        if (strstr(f[i].name, ".mp3") && !rp_format_can_write(RP_FMT_MP3, 48000, 2)) {
            // A libsndfile without LAME: said clearly, nothing written.
            CHECK_INT(rc, 1);
            CHECK_MSG(log && strstr(log, "cannot write MP3") && strstr(log, "without MP3 support"),
                      "%s", log ? log : "");
            CHECK(!rp_file_exists(tmp(1, f[i].name)));
            free(log);
            continue;
        }
        CHECK_MSG(rc == 0, "%s: %s", f[i].name, log ? log : "");
        // Read back: rate, channels, encoding and length.
        snprintf(args, sizeof args, "info %s", tmp(1, f[i].name));
        CHECK_INT(rp(args, &info), 0);
        CHECK_MSG(info && strstr(info, f[i].encoding), "%s: %s", f[i].name, info ? info : "");
        wav w;
        CHECK_INT(wav_read(tmp(1, f[i].name), &w), 0);
        CHECK_INT(w.rate, f[i].rate);
        CHECK_INT(w.channels, f[i].channels);
        CHECK(w.frames > w.rate);
        if (f[i].rate == 48000 && frames48 < 0)
            frames48 = w.frames;
        // Every 48 kHz file holds the same drama, to the frame.
        if (f[i].rate == 48000)
            CHECK_MSG(w.frames == frames48, "%s: %lld frames, not %lld", f[i].name,
                      (long long)w.frames, (long long)frames48);
        CHECK(wav_rms(&w, -1, 0, (double)w.frames / w.rate) > 0.01);
        wav_free(&w);
        // And it is mastered: loudness on target, true peak under the
        // ceiling (lossy encoders move both a little: 1 LU and 0.5 dB).
        free(log);
        snprintf(args, sizeof args, "loudness %s", tmp(1, f[i].name));
        rc = rp(args, &log);
        if (f[i].lossless)
            CHECK_MSG(rc == 0 && log && strstr(log, "result: pass"), "%s: %s", f[i].name, log);
        double lufs = 0, tp = 0;
        const char *p = log ? strstr(log, "integrated") : NULL;
        CHECK(p && sscanf(p, "integrated %lf", &lufs) == 1);
        p = log ? strstr(log, "true peak") : NULL;
        CHECK(p && sscanf(p, "true peak %lf", &tp) == 1);
        double want = f[i].channels == 1 ? -19.0 : -16.0;
        CHECK_MSG(fabs(lufs - want) <= (f[i].lossless ? 0.5 : 1.0), "%s: %.2f LUFS", f[i].name,
                  lufs);
        CHECK_MSG(tp <= (f[i].lossless ? -1.0 : -0.5), "%s: true peak %.2f dBTP", f[i].name, tp);
        free(log);
        free(info);
    }
    // Sample formats a container cannot hold are refused before any work.
    char *log = NULL, args[4096];
    snprintf(args, sizeof args, "render %s -o %s --bits float", ch, tmp(1, "x.flac"));
    CHECK_INT(rp(args, &log), 2);
    CHECK(log && strstr(log, "--bits applies to .wav (16, 24, float) and .flac (16, 24)"));
    free(log);
    snprintf(args, sizeof args, "render %s -o %s --bits 12", ch, tmp(1, "x.wav"));
    CHECK_INT(rp(args, &log), 2);
    CHECK(log && strstr(log, "--bits: '12' must be 16, 24 or float"));
    free(log);
}

// The ACX preset: a render for audiobook platforms passes the ACX rules,
// and `loudness CHAPTER` measures without writing anything.
static void test_acx_and_loudness_of_a_chapter(void)
{
    const char *ch = tmp(0, "acx.txt");
    write_text(ch, "A short line for the audiobook check, long enough to measure.\n"
                   "\n\"And a second voice,\" she said.\n");
    char *log = NULL, args[4096];
    snprintf(args, sizeof args, "render %s -o %s -q --acx --rate 44100 && %s loudness %s --acx",
             ch, tmp(1, "acx.flac"), radioplay_bin(), tmp(1, "acx.flac"));
    CHECK_INT(rp(args, &log), 0);
    CHECK_MSG(log && strstr(log, "rules: ACX") && strstr(log, "result: pass"), "%s", log);
    double rms = 0, peak = 0;
    const char *p = log ? strstr(log, "\nRMS") : NULL;
    CHECK(p && sscanf(p, "\nRMS %lf", &rms) == 1);
    p = log ? strstr(log, "\npeak") : NULL;
    CHECK(p && sscanf(p, "\npeak %lf", &peak) == 1);
    CHECK_MSG(fabs(rms - RP_ACX_RMS_DB) <= 0.5, "RMS %.2f dB", rms);
    CHECK_MSG(peak <= RP_ACX_PEAK_DB, "peak %.2f dB", peak);
    free(log);
    // A lower ceiling holds too.
    snprintf(args, sizeof args, "render %s -o %s -q --ceiling -4 && %s loudness %s --ceiling -4",
             ch, tmp(1, "c4.flac"), radioplay_bin(), tmp(1, "c4.flac"));
    CHECK_INT(rp(args, &log), 0);
    p = log ? strstr(log, "true peak") : NULL;
    double tp = 0;
    CHECK(p && sscanf(p, "true peak %lf", &tp) == 1 && tp <= -4.0);
    CHECK_MSG(log && strstr(log, "at most -4.0     pass"), "%s", log);
    free(log);
    // The same file fails a louder target: exit 1.
    snprintf(args, sizeof args, "loudness %s --loudness -12", tmp(1, "acx.flac"));
    CHECK_INT(rp(args, &log), 1);
    CHECK(log && strstr(log, "FAIL") && strstr(log, "result: FAIL"));
    free(log);
    // A chapter is measured as it would be written, and no file appears.
    snprintf(args, sizeof args, "loudness %s", ch);
    CHECK_INT(rp(args, &log), 0);
    CHECK_MSG(log && strstr(log, "result: pass"), "%s", log);
    char *out = rp_path_with_ext(ch, ".wav");
    CHECK(out && !file_exists(out));
    free(out);
    free(log);
}

// A voice heard over the comms is cast with the radio effect from the prose
// alone, and sounds like it: next to no energy below 300 Hz or above 3.5 kHz,
// where the narrator has plenty.
static void test_comms_voice_sounds_like_a_radio(void)
{
    const char *ch = tmp(0, "comms.txt");
    write_text(ch, "\"Shield harmonics at forty percent,\" a voice crackled over Ksena's comms. "
                   "It was Kirk, safe in the bunker. \"The dome will hold for now.\"\n\n"
                   "Ksena looked up at the burning sky and waited for the next word.\n\n"
                   "\"Hold the line,\" Kirk said over the comms.\n");
    char *log = NULL, args[4096];
    snprintf(args, sizeof args, "cast %s", ch);
    CHECK_INT(rp(args, &log), 0);
    const char *kirk = log ? strstr(log, "[voice Kirk]") : NULL;
    const char *fx = kirk ? strstr(kirk, "effect = ") : NULL;
    CHECK_MSG(fx && !strncmp(fx, "effect = radio", 14), "%s", log ? log : "");
    free(log);
    // Without the sound rules' comms static, to hear the voice alone.
    write_text(tmp(2, "comms.cast"), "[rules]\ndefaults = off\n");
    snprintf(args, sizeof args, "render %s -o %s -q --loudness off --cast %s", ch,
             tmp(1, "comms.wav"), tmp(2, "comms.cast"));
    CHECK_INT(rp(args, &log), 0);
    free(log);
    snprintf(args, sizeof args, "cues %s --cast %s", ch, tmp(2, "comms.cast"));
    CHECK_INT(rp(args, &log), 0);
    cue cues[32];
    int n = log ? read_cues(log, cues, 32) : 0;
    free(log);
    wav w;
    CHECK_INT(wav_read(tmp(1, "comms.wav"), &w), 0);
    // Shares of the energy below and above the radio band.
    double k_low = 0, k_high = 0, n_low = 1, n_high = 1;
    int kirks = 0, narr = 0;
    for (int i = 0; i < n && w.x; i++) {
        if (strcmp(cues[i].kind, "speech"))
            continue;
        // The middle of the line, clear of the squelch before and after.
        double a = cues[i].start + 0.15, b = cues[i].end - 0.2;
        if (b - a < 0.3)
            continue;
        double low = wav_band_share(&w, a, b, 0, 250), high = wav_band_share(&w, a, b, 3800, 24000);
        printf("  %-8s at %6.2f s: %.5f of the energy below 250 Hz, %.5f above 3.8 kHz\n",
               cues[i].who, a, low, high);
        if (!strcmp(cues[i].who, "Kirk")) {
            k_low = fmax(k_low, low);
            k_high = fmax(k_high, high);
            kirks++;
        } else if (!strcmp(cues[i].who, "Narrator")) {
            n_low = fmin(n_low, low);
            n_high = fmin(n_high, high);
            narr++;
        }
    }
    // Under -30 dB outside the band; the narrator has ten times more there.
    CHECK_MSG(k_low < 1e-3 && k_high < 1e-3 && n_low + n_high > 1e-2,
              "Kirk low %.5f high %.5f, narrator low %.5f high %.5f", k_low, k_high, n_low, n_high);
    CHECK(kirks >= 2 && narr >= 1);
    wav_free(&w);
}

// --stems: four float files, one per bus, that add up to the mix before
// mastering. With normalization off and the mix under the ceiling, the
// master is that mix itself (the limiter passes it bit for bit).
static void test_stems_sum_to_the_mix(void)
{
    const char *dir = tmp(2, "stems");
    char *log = NULL, args[4096];
    snprintf(args, sizeof args, "render tests/data/wall.txt -o %s -q --loudness off --bits float "
             "--stems %s", tmp(1, "stems_mix.wav"), dir);
    CHECK_INT(rp(args, &log), 0);
    free(log);
    wav mix, stem[4];
    CHECK_INT(wav_read(tmp(1, "stems_mix.wav"), &mix), 0);
    static const char *const names[] = {"dialogue", "narration", "effects", "beds"};
    int ok = mix.x != NULL;
    for (int k = 0; k < 4; k++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s.wav", dir, names[k]);
        CHECK_MSG(wav_read(path, &stem[k]) == 0, "%s", path);
        ok &= stem[k].x != NULL;
        if (stem[k].x) {
            CHECK_INT(stem[k].frames, mix.frames);
            CHECK_INT(stem[k].channels, mix.channels);
            CHECK_INT(stem[k].rate, mix.rate);
            // Each holds something of its own.
            CHECK_MSG(wav_rms(&stem[k], -1, 0, (double)mix.frames / mix.rate) > 1e-4, "%s is silent",
                      names[k]);
        }
    }
    if (ok) {
        double worst = 0;
        for (int64_t i = 0; i < mix.frames * mix.channels; i++) {
            double sum = 0;
            for (int k = 0; k < 4; k++)
                sum += stem[k].x[i];
            worst = fmax(worst, fabs(sum - mix.x[i]));
        }
        printf("  stems sum to the mix within %.2g\n", worst);
        CHECK_MSG(worst < 1e-4, "stems are %.3g off the mix", worst);
        // Where only Kirk speaks, the narration stem is silent.
        double at = cues_start_s("tests/data/wall.txt", 0, "Shield harmonics");
        CHECK(at > 0 && wav_rms(&stem[1], -1, at + 0.1, at + 0.5) == 0.0);
        CHECK(at > 0 && wav_rms(&stem[0], -1, at + 0.1, at + 0.5) > 1e-3);
    }
    wav_free(&mix);
    for (int k = 0; k < 4; k++)
        wav_free(&stem[k]);
    test_remove(dir);
    test_remove(tmp(1, "stems_mix.wav"));
}

// A failed render leaves the old output (which says "OLD") untouched and no
// temporary file behind.
static void check_old_output_kept(const char *out)
{
    char *old = read_text(out), *log = NULL, args[4096];
    CHECK_STR(old, "OLD");
    free(old);
    snprintf(args, sizeof args, "ls -a %s | grep -c radioplay-", test_tmpdir());
    run(args, &log);
    CHECK_STR(log, "0\n");
    free(log);
}

static void test_errors_are_located_and_leave_no_file(void)
{
    const char *ch = tmp(0, "bad.txt"), *out = tmp(1, "bad.wav");
    write_text(ch, "Fine first line.\n\nThe second {sfx thunder line never closes.\n");
    write_text(out, "OLD");
    char *log = NULL, args[4096];
    snprintf(args, sizeof args, "render %s -o %s", ch, out);
    CHECK_INT(rp(args, &log), 1);
    char want[1200];
    snprintf(want, sizeof want, "%s:3:12: error:", ch);
    CHECK_MSG(strstr(log, want) != NULL, "stderr: %s", log);
    free(log);
    check_old_output_kept(out);

    snprintf(args, sizeof args, "render %s -o %s", tmp(2, "missing.txt"), out);
    CHECK_INT(rp(args, &log), 1);
    CHECK(strstr(log, "missing.txt") != NULL);
    free(log);

    write_text(ch, "The sky {sfx thundr} cracked.\n");
    snprintf(args, sizeof args, "render %s -o %s", ch, out);
    CHECK_INT(rp(args, &log), 1);
    CHECK_MSG(strstr(log, ":1:9: error: unknown effect 'thundr'") && strstr(log, "'thunder'"),
              "stderr: %s", log);
    free(log);

    CHECK_INT(rp("render", &log), 2);
    free(log);
    CHECK_INT(rp("render a.txt --bogus", &log), 2);
    free(log);
    CHECK_INT(rp("frobnicate", &log), 2);
    free(log);
    const char *self = tmp(3, "self.wav");
    write_text(self, "A chapter whose name ends in .wav.\n");
    snprintf(args, sizeof args, "render %s -o %s", self, self);
    CHECK_INT(rp(args, &log), 1);
    CHECK(strstr(log, "refusing") != NULL);
    free(log);
}

static void test_voice_problems_are_errors(void)
{
    const char *ch = tmp(0, "voices.txt"), *out = tmp(1, "v.wav");
    write_text(ch, dialogue);
    // espeak-ng ignores an unknown variant silently; radioplay must not.
    write_text(tmp(2, "voices.cast"), "[voice Ann]\nvoice = xx-nope\n\n[voice Bob]\n"
                                      "variant = bogus\n");
    char *log = NULL, args[8192], want[1200];
    snprintf(args, sizeof args, "render %s -o %s", ch, out);
    CHECK_INT(rp(args, &log), 1);
    snprintf(want, sizeof want, "%s:1:1: error: unknown espeak-ng voice 'xx-nope', for Ann",
             tmp(2, "voices.cast"));
    CHECK_MSG(strstr(log, want) != NULL, "%s", log);
    snprintf(want, sizeof want, "%s:4:1: error: unknown espeak-ng variant 'bogus', for Bob",
             tmp(2, "voices.cast"));
    CHECK_MSG(strstr(log, want) != NULL, "%s", log);
    CHECK(!file_exists(out));
    free(log);
    // Missing voice data is an error, not a process exit or a silent file.
    write_text(tmp(2, "voices.cast"), dialogue_cast);
    snprintf(args, sizeof args, "mkdir -p %s/nodata && ESPEAK_DATA_PATH=%s/nodata %s render %s -o %s",
             test_tmpdir(), test_tmpdir(), radioplay_bin(), ch, out);
    CHECK_INT(run(args, &log), 1);
    CHECK_MSG(strstr(log, "error: cannot initialise espeak-ng") != NULL, "%s", log);
    CHECK(!file_exists(out));
    free(log);
}

static void test_interrupt_leaves_no_file(void)
{
    // Long enough that the render is still going when the signal lands,
    // sent once synthesis is under way (a first clip in a cache of its own):
    // a fixed wait may end, under valgrind, before radioplay catches SIGINT.
    const char *ch = tmp(0, "long.txt"), *out = tmp(1, "long.wav"), *cache = tmp(2, "cache-int");
    FILE *f = fopen(ch, "wb");
    for (int i = 0; f && i < 400; i++)
        fprintf(f, "Paragraph %d of a chapter that takes a while to speak, with "
                   "\"a line of dialogue,\" said Ann, \"and another.\"\n\n", i);
    if (f)
        fclose(f);
    write_text(out, "OLD");
    char *log = NULL, args[8192];
    snprintf(args, sizeof args,
             "{ XDG_CACHE_HOME=%s %s render %s -o %s & pid=$!; while kill -0 $pid 2>/dev/null "
             "&& ! ls %s/radioplay/clips/*.clip >/dev/null 2>&1; do sleep 0.05; done; "
             "kill -INT $pid; wait $pid; echo rc=$?; }",
             cache, radioplay_bin(), ch, out, cache);
    run(args, &log);
    CHECK_MSG(strstr(log, "rc=1") && strstr(log, "interrupted"), "%s", log);
    free(log);
    check_old_output_kept(out);
}

static void test_cast_sheet_round_trip(void)
{
    const char *ch = tmp(0, "voices.txt");
    write_text(ch, dialogue);
    write_text(tmp(2, "voices.cast"), dialogue_cast);
    char *a = NULL, *b = NULL, args[4096];
    snprintf(args, sizeof args, "cast %s", ch);
    CHECK_INT(rp(args, &a), 0);
    write_text(tmp(3, "full.cast"), a);
    snprintf(args, sizeof args, "cast %s --cast %s", ch, tmp(3, "full.cast"));
    CHECK_INT(rp(args, &b), 0);
    CHECK(strstr(a, "[voice Ann]") && strstr(a, "pan = -0.90"));
    CHECK(strstr(a, "[narrator]") && strstr(a, "[render]"));
    // Same sheet apart from comments.
    char *pa = a, *pb = b;
    int same = 1;
    while (*pa || *pb) {
        while (*pa == '#')
            pa = strchr(pa, '\n') ? strchr(pa, '\n') + 1 : pa + strlen(pa);
        while (*pb == '#')
            pb = strchr(pb, '\n') ? strchr(pb, '\n') + 1 : pb + strlen(pb);
        if (*pa != *pb) {
            same = 0;
            break;
        }
        if (*pa)
            pa++, pb++;
    }
    CHECK_MSG(same, "first:\n%s\nsecond:\n%s", a, b);
    free(a);
    free(b);
}

static void test_quotes_format(void)
{
    const char *ch = tmp(0, "voices.txt");
    write_text(ch, dialogue);
    char *out = NULL, args[4096];
    snprintf(args, sizeof args, "quotes %s", ch);
    CHECK_INT(rp(args, &out), 0);
    const char *want = "line\tcol\tspeaker\n5\t1\tAnn\n7\t1\tBob\n7\t22\tBob\n";
    CHECK_MSG(!strcmp(out, want), "%s", out);
    free(out);
}

static void test_quotes_explain(void)
{
    const char *ch = tmp(0, "explain.txt");
    write_text(ch, "{Ann}\"Is anyone there?\" she called.\n\n\"Only me,\" said Bob.\n");
    char *out = NULL, args[4096];
    snprintf(args, sizeof args, "quotes --explain %s", ch);
    CHECK_INT(rp(args, &out), 0);
    const char *want = "line\tcol\tspeaker\trule\tconfidence\ttext\n"
                       "1\t6\tAnn\ttag\t1.00\tIs anyone there?\n3\t1\tBob\t";
    CHECK_MSG(!strncmp(out, want, strlen(want)), "%s", out);
    // Bob's row: a rule name, a confidence with two decimals, the text.
    char rule[64] = "", conf[64] = "", text[64] = "";
    const char *row = strstr(out, "\n3\t1\tBob\t");
    CHECK(row && sscanf(row + 9, "%63[^\t]\t%63[^\t]\t%63[^\n]", rule, conf, text) == 3);
    CHECK(strcmp(rule, "tag") && strcmp(rule, "none"));
    CHECK_MSG(strlen(conf) == 4 && conf[1] == '.' && atof(conf) > 0 && atof(conf) < 1, "%s", conf);
    CHECK_STR(text, "Only me,");
    free(out);
    // Without --explain: three columns, as scorers read them.
    snprintf(args, sizeof args, "quotes %s", ch);
    CHECK_INT(rp(args, &out), 0);
    CHECK_STR(out, "line\tcol\tspeaker\n1\t6\tAnn\n3\t1\tBob\n");
    free(out);
}

static const char drafts[] =
    "# Drafts\n"                                                                          // 1
    "\n"                                                                                  // 2
    "At dawn Ksena watched the first ship descend, large enough to block the sun over "  // 3
    "the wall.\n"
    "\n"                                                                                  // 4
    "{Ann}\"Look,\" said Ann. \"It is Vantos.\"\n"                                         // 5
    "\n"                                                                                  // 6
    "\"Only me,\" said Bob.\n"                                                             // 7
    "\n"                                                                                  // 8
    "At dawn Ksena watched the first ship descend, large enough to block the sun over "  // 9
    "the market.\n";

static void test_check_command(void)
{
    const char *ch = tmp(0, "drafts.txt");
    write_text(ch, drafts);
    write_text(tmp(2, "drafts.cast"), "[say]\nKsena = Kseh-nah\n");
    char *out = NULL, args[4096], want[2048];
    snprintf(args, sizeof args, "check %s --min-confidence 1", ch);
    CHECK_INT(rp(args, &out), 0);
    // Every untagged quote is below 1; the tagged one never shows.
    snprintf(want, sizeof want, "%s:7:1: note: \"Only me,\" given to Bob by ", ch);
    CHECK_MSG(strstr(out, want) != NULL, "%s", out);
    CHECK(strstr(out, "add {Name} before the quote to be sure\n") != NULL);
    CHECK(strstr(out, "\"Look,\" given") == NULL);
    CHECK(strstr(out, "# quotes attributed with confidence below 1.00: ") != NULL);
    // Names, most frequent first, with the sheet's respelling.
    CHECK_MSG(strstr(out, "    2  Ksena                3:9        Kseh-nah\n") != NULL, "%s", out);
    CHECK(strstr(out, "    1  Vantos               5:31       -\n") != NULL);
    snprintf(want, sizeof want,
             "%s:9:1: warning: this paragraph nearly repeats the one at line 3 (94%% of its "
             "words); a listener would hear it twice\n", ch);
    CHECK_MSG(strstr(out, want) != NULL, "%s", out);
    CHECK(strstr(out, "# near-repeats: 1\n") != NULL);
    free(out);
    // The default threshold lists no sure attribution.
    snprintf(args, sizeof args, "check %s", ch);
    CHECK_INT(rp(args, &out), 0);
    CHECK(strstr(out, "given to Bob") == NULL && strstr(out, "below 0.50: 0\n"));
    free(out);
    snprintf(args, sizeof args, "check %s --min-confidence 2", ch);
    CHECK_INT(rp(args, &out), 2);
    free(out);
    CHECK_INT(rp("check", &out), 2);
    free(out);
    snprintf(args, sizeof args, "check %s", tmp(3, "missing.txt"));
    CHECK_INT(rp(args, &out), 1);
    free(out);
    // A bad [say] line is a located error, for check as for render.
    write_text(tmp(2, "drafts.cast"), "[say]\nKsena = [[ks'En@\n");
    snprintf(args, sizeof args, "check %s", ch);
    CHECK_INT(rp(args, &out), 1);
    snprintf(want, sizeof want, "%s:2:9: error: '[[' is not closed with ']]' in the respelling "
             "of 'Ksena'", tmp(2, "drafts.cast"));
    CHECK_MSG(strstr(out, want) != NULL, "%s", out);
    free(out);
    remove(tmp(2, "drafts.cast"));
}

// Seconds of audio in a file, or -1.
static double file_seconds(const char *path, int *rate, int *channels)
{
    wav w;
    if (wav_read(path, &w))
        return -1;
    double s = (double)w.frames / w.rate;
    *rate = w.rate;
    *channels = w.channels;
    if (wav_rms(&w, -1, 0, s) < 0.01)
        s = 0;
    wav_free(&w);
    return s;
}

static void test_say_command(void)
{
    const char *cast = tmp(2, "say.cast"), *out_wav = tmp(1, "say.wav");
    write_text(cast, "[say]\nKsena = Constantinople\n\n[voice Kirk]\nvariant = m7\n");
    char *out = NULL, args[4096], want[2048];
    snprintf(args, sizeof args, "say Ksena --cast %s -o %s", cast, out_wav);
    CHECK_INT(rp(args, &out), 0);
    snprintf(want, sizeof want, "respelling: Constantinople (%s:2)\n", cast);
    CHECK_MSG(strstr(out, want) != NULL, "%s", out);
    CHECK(strstr(out, "voice: Narrator (en-gb+m3)\n") != NULL);
    // The phonemes are those of the respelling, ready to paste.
    char ph[256] = "";
    const char *p = strstr(out, "phonemes: ");
    CHECK(p && sscanf(p, "phonemes: %255s", ph) == 1 && strlen(ph) > 6);
    snprintf(want, sizeof want, "[say]\nKsena = [[%s]]\n", ph);
    CHECK_MSG(strstr(out, want) != NULL, "%s", out);
    CHECK(strstr(out, "ipa: ") != NULL);
    free(out);
    int rate = 0, ch = 0;
    double respelled = file_seconds(out_wav, &rate, &ch);
    CHECK_INT(rate, 22050);
    CHECK_INT(ch, 1);
    // Without the sheet the plain name is said: shorter.
    snprintf(args, sizeof args, "say Ksena -o %s", out_wav);
    CHECK_INT(rp(args, &out), 0);
    CHECK(strstr(out, "respelling: none") != NULL);
    free(out);
    double plain = file_seconds(out_wav, &rate, &ch);
    CHECK_MSG(plain > 0.2 && respelled > plain + 0.15, "plain %.3f s, respelled %.3f s", plain,
              respelled);
    // The phonemes pasted into [say] say the same thing as the respelling.
    snprintf(want, sizeof want, "[say]\nKsena = [[%s]]\n", ph);
    write_text(cast, want);
    snprintf(args, sizeof args, "say Ksena --cast %s -o %s", cast, out_wav);
    CHECK_INT(rp(args, &out), 0);
    free(out);
    double by_phonemes = file_seconds(out_wav, &rate, &ch);
    CHECK_MSG(fabs(by_phonemes - respelled) < 0.05, "phonemes %.3f s, respelling %.3f s",
              by_phonemes, respelled);
    // Another speaker's voice: from the sheet, or cast as in a chapter.
    write_text(cast, "[voice Kirk]\nvoice = en-us\nvariant = m7\n");
    snprintf(args, sizeof args, "say Ksena --cast %s --voice kirk", cast);
    CHECK_INT(rp(args, &out), 0);
    CHECK_MSG(strstr(out, "voice: Kirk (en-us+m7)\n") != NULL, "%s", out);
    free(out);
    CHECK_INT(rp("say Ksena --voice Amara", &out), 0);
    CHECK(strstr(out, "voice: Amara (") && strstr(out, "chosen automatically"));
    free(out);
    // Without -o nothing is written.
    remove(out_wav);
    CHECK_INT(rp("say Ksena", &out), 0);
    CHECK(!file_exists(out_wav));
    free(out);
    // Usage and input errors.
    CHECK_INT(rp("say", &out), 2);
    free(out);
    CHECK_INT(rp("say two words", &out), 2);
    free(out);
    CHECK_INT(rp("say '...'", &out), 2);
    free(out);
    snprintf(args, sizeof args, "say Ksena -o %s", tmp(3, "say.xyz"));
    CHECK_INT(rp(args, &out), 2);
    free(out);
    snprintf(args, sizeof args, "say Ksena --cast %s", tmp(3, "missing.cast"));
    CHECK_INT(rp(args, &out), 1);
    free(out);
    write_text(cast, "[say]\nKsena =\n");
    snprintf(args, sizeof args, "say Ksena --cast %s", cast);
    CHECK_INT(rp(args, &out), 1);
    snprintf(want, sizeof want, "%s:2:8: error: 'Ksena' has no respelling", cast);
    CHECK_MSG(strstr(out, want) != NULL, "%s", out);
    free(out);
}

// Start of the first cue row of kind and who, or -1.
static double cue_start(const char *tsv, const char *kind, const char *who, double *end)
{
    cue cues[64];
    int n = read_cues(tsv, cues, 64);
    for (int i = 0; i < n; i++) {
        if (!strcmp(cues[i].kind, kind) && !strcmp(cues[i].who, who)) {
            *end = cues[i].end;
            return cues[i].start;
        }
    }
    return -1;
}

static void test_respelling_in_render(void)
{
    // A respelled name is heard wherever it is spoken (the heading too), and
    // a cue after it still fires on its own word: as if the respelling had
    // been written into the chapter.
    const char *a = tmp(0, "respelled.txt"), *b = tmp(3, "written.txt");
    write_text(a, "# Ksena Returns\n\nKsena {sfx thunder}waited by the door.\n\n{pause 9}\n");
    write_text(tmp(2, "respelled.cast"), "[say]\nKsena = Constantinople\n");
    write_text(b, "# Constantinople Returns\n\nConstantinople {sfx thunder}waited by the door."
                  "\n\n{pause 9}\n");
    write_text(tmp(4, "empty.cast"), "");
    char *ta = NULL, *tb = NULL, *tc = NULL, args[4096];
    snprintf(args, sizeof args, "cues %s", a);
    CHECK_INT(rp(args, &ta), 0);
    snprintf(args, sizeof args, "cues %s", b);
    CHECK_INT(rp(args, &tb), 0);
    snprintf(args, sizeof args, "cues %s --cast %s", a, tmp(4, "empty.cast"));
    CHECK_INT(rp(args, &tc), 0);
    double ea, eb, ec;
    double sa = cue_start(ta, "sfx", "thunder", &ea), sb = cue_start(tb, "sfx", "thunder", &eb);
    double sc = cue_start(tc, "sfx", "thunder", &ec);
    CHECK_MSG(sa > 0 && fabs(sa - sb) < 0.002, "thunder at %.3f s, written %.3f s", sa, sb);
    CHECK_MSG(sc > 0 && sa > sc + 0.15, "thunder at %.3f s, not respelled %.3f s", sa, sc);
    // The heading is longer respelled, as long as written out.
    double ha, hb, hc;
    double h0 = cue_start(ta, "speech", "Narrator", &ha);
    cue_start(tb, "speech", "Narrator", &hb);
    cue_start(tc, "speech", "Narrator", &hc);
    CHECK_MSG(h0 >= 0 && fabs(ha - hb) < 0.002 && ha > hc + 0.15,
              "heading ends %.3f s (written %.3f s, plain %.3f s)", ha, hb, hc);
    free(ta);
    free(tb);
    free(tc);
}

static void test_sfx_command(void)
{
    char *out = NULL, args[4096];
    CHECK_INT(rp("sfx --list", &out), 0);
    CHECK(strstr(out, "thunder") && strstr(out, "pod_impact") && strstr(out, "drone"));
    free(out);
    snprintf(args, sizeof args, "sfx thunder -o %s --duration 2", tmp(1, "t.wav"));
    CHECK_INT(rp(args, &out), 0);
    free(out);
    wav w;
    CHECK_INT(wav_read(tmp(1, "t.wav"), &w), 0);
    CHECK_INT(w.frames, 96000);
    CHECK(wav_rms(&w, -1, 0, 2) > 0.01);
    wav_free(&w);
    CHECK_INT(rp("sfx thundr -o /tmp/x.wav", &out), 1);
    CHECK(strstr(out, "did you mean 'thunder'") != NULL);
    free(out);
}

// A rendered file is on the loudness target (+-0.5 LU) and under the
// true-peak ceiling, as libebur128 measures it through `radioplay loudness`.
static void check_mastered(const char *file, const char *what)
{
    char args[4096], *log = NULL;
    snprintf(args, sizeof args, "loudness %s", file);
    int rc = rp(args, &log);
    double lufs = 0, tp = 0;
    const char *p = log ? strstr(log, "integrated") : NULL;
    CHECK(p && sscanf(p, "integrated %lf", &lufs) == 1);
    p = log ? strstr(log, "true peak") : NULL;
    CHECK(p && sscanf(p, "true peak %lf", &tp) == 1);
    CHECK_MSG(rc == 0 && fabs(lufs - RP_LOUDNESS_LUFS) <= RP_LOUDNESS_TOLERANCE_LU &&
                  tp <= RP_LIMITER_CEILING_DB,
              "%s: %.2f LUFS, %.2f dBTP: %s", what, lufs, tp, log ? log : "");
    printf("  %-40s %6.2f LUFS, true peak %6.2f dBTP\n", what, lufs, tp);
    free(log);
}

static void test_example_drama(void)
{
    char *log = NULL, *tsv = NULL, args[8192];
    snprintf(args, sizeof args, "render scripts/siege.txt -o %s -q", tmp(1, "siege.wav"));
    CHECK_INT(rp(args, &log), 0);
    check_mastered(tmp(1, "siege.wav"), "scripts/siege.txt");
    CHECK_INT(rp("cues scripts/siege.txt", &tsv), 0);
    cue cues[256];
    int n = read_cues(tsv, cues, 256);
    int sfx = 0, beds = 0, voices = 0;
    const char *seen[16];
    for (int i = 0; i < n; i++) {
        sfx += !strcmp(cues[i].kind, "sfx");
        beds += !strcmp(cues[i].kind, "bed");
        if (strcmp(cues[i].kind, "speech"))
            continue;
        int k;
        for (k = 0; k < voices; k++)
            if (!strcmp(seen[k], cues[i].who))
                break;
        if (k == voices && voices < 16)
            seen[voices++] = cues[i].who;
    }
    CHECK(sfx >= 3 && beds >= 1 && voices >= 4);
    wav w;
    CHECK_INT(wav_read(tmp(1, "siege.wav"), &w), 0);
    // Audible effects: every sfx window is louder than silence.
    for (int i = 0; i < n; i++)
        if (!strcmp(cues[i].kind, "sfx"))
            CHECK_MSG(wav_rms(&w, -1, cues[i].start, cues[i].end) > 0.01, "%s at %.2f",
                      cues[i].who, cues[i].start);
    wav_free(&w);
    free(log);
    free(tsv);
}

// `annotate` writes the chapter with every decision explicit: rendering it
// gives the very same file, annotating it again changes nothing, and -o
// writes a file. rendered is removed before the annotated render (compared
// by checksum), so a whole chapter's 100 MB is on disk only once.
static int annotate_round_trip(const char *chapter, const char *cast_opt, const char *rendered)
{
    const char *once = tmp(3, "annotated.txt"), *twice = tmp(4, "again.txt");
    const char *audio = tmp(5, "annotated.wav");
    char a0[6144], a1[6144], a2[6144], *log = NULL, *want = NULL, *got = NULL;
    snprintf(a0, sizeof a0, "sha256sum < '%s'", rendered);
    if (run(a0, &want) != 0)
        want[0] = '\0';
    test_remove(rendered);
    snprintf(a0, sizeof a0, "annotate %s %s -o %s", chapter, cast_opt, once);
    snprintf(a1, sizeof a1, "annotate %s %s > %s && cmp %s %s", once, cast_opt, twice, once,
             twice);
    snprintf(a2, sizeof a2, "render -q %s %s -o %s", once, cast_opt, audio);
    const char *steps[] = {a0, a1, a2};
    int rc = want[0] ? 0 : 1;
    for (int i = 0; i < 3 && !rc; i++) {
        free(log);
        log = NULL;
        if ((rc = rp(steps[i], &log)))
            printf("  %s: %s\n", steps[i], log ? log : "");
    }
    snprintf(a0, sizeof a0, "sha256sum < '%s'", audio);
    if (!rc && (run(a0, &got) != 0 || strcmp(got, want) != 0)) {
        printf("  %s: rendering the annotated chapter gave other bytes\n", chapter);
        rc = 1;
    }
    free(got);
    free(want);
    free(log);
    test_remove(audio);
    return rc;
}

static void test_annotate_round_trip(void)
{
    char *log = NULL, *text = NULL, args[4096];
    snprintf(args, sizeof args, "render scripts/siege.txt -o %s -q", tmp(1, "siege.wav"));
    CHECK_INT(rp(args, &log), 0);
    CHECK_INT(annotate_round_trip("scripts/siege.txt", "--cast scripts/siege.cast",
                                  tmp(1, "siege.wav")), 0);
    // The example's chosen speakers and its rule cues are in the text.
    snprintf(args, sizeof args, "cat %s", tmp(3, "annotated.txt"));
    CHECK_INT(run(args, &text), 0);
    CHECK(text && strstr(text, "{Mira}\"Seven seconds,\" Mira said."));
    CHECK(text && strstr(text, "{sfx drone}began") && !strstr(text, "{sfx drone} drone"));
    free(text);
    free(log);
    // A folder that is not there: a located error, exit 1, nothing written.
    log = NULL;
    CHECK_INT(rp("annotate scripts/siege.txt -o /nonexistent/dir/x.txt", &log), 1);
    CHECK_MSG(log && strstr(log, "/nonexistent/dir/x.txt: error: cannot create output"), "%s", log);
    free(log);
}

// ---- speech stays clear ------------------------------------------------------------

// The timeline of dr mixed with only the given buses, stereo.
static float *mix_buses(rp_drama *dr, unsigned buses)
{
    rp_status st;
    rp_mixer *m = rp_mixer_new(&dr->timeline, &dr->plan, &dr->cast.render, 2, &st);
    float *out = m ? malloc(sizeof(float) * 2 * (size_t)dr->timeline.n_frames) : NULL;
    if (m)
        rp_mixer_set_buses(m, buses);
    size_t pos = 0, n;
    while (out && (n = rp_mixer_process(m, out + 2 * pos, RP_BLOCK_FRAMES)) > 0)
        pos += n;
    rp_mixer_free(m);
    return out;
}

static double ms_of(const float *x, int64_t a, int64_t b)
{
    double s = 0;
    for (int64_t i = 2 * a; i < 2 * b; i++)
        s += (double)x[i] * x[i];
    return b > a ? s / (double)(2 * (b - a)) : 0.0;
}

// Speech-to-background in dB over every line that has a background under
// it: the lowest, and how many lines. *sum_err: the largest departure of
// speech + background from the full mix.
static double clearance_of(rp_drama *dr, int *lines, double *sum_err)
{
    float *sp = mix_buses(dr, RP_BUS_DIALOGUE | RP_BUS_NARRATION);
    float *bg = mix_buses(dr, RP_BUS_EFFECTS | RP_BUS_BEDS), *all = mix_buses(dr, RP_BUS_ALL);
    double worst = 1e9;
    *lines = 0;
    *sum_err = 0;
    for (int64_t i = 0; sp && bg && all && i < 2 * dr->timeline.n_frames; i++)
        *sum_err = fmax(*sum_err, fabs((double)all[i] - sp[i] - bg[i]));
    for (size_t i = 0; sp && bg && i < dr->timeline.n; i++) {
        const rp_event *e = &dr->timeline.ev[i];
        double b = e->kind == RP_EV_SPEECH ? ms_of(bg, e->start, e->end) : 0;
        if (b < 1e-10)  // -100 dB: no background
            continue;
        double db = 10.0 * log10(ms_of(sp, e->start, e->end) / b);
        worst = fmin(worst, db);
        ++*lines;
    }
    free(sp);
    free(bg);
    free(all);
    return worst;
}

static void check_clear(const char *chapter, const char *cast)
{
    rp_drama dr;
    rp_diags d;
    rp_diags_init(&d);
    rp_drama_options o = {.chapter_path = chapter, .cast_path = cast, .seed = -1};
    rp_status st = rp_drama_load(&dr, &o, &d);
    if (!st)
        st = rp_drama_voice(&dr, NULL, NULL, NULL, &d);
    if (!st)
        st = rp_drama_clips_load_all(&dr, &d);
    CHECK_MSG(st == RP_OK, "%s: %s", chapter, rp_strerror(st));
    if (!st) {
        int lines;
        double err, worst = clearance_of(&dr, &lines, &err);
        printf("  %s: speech over background >= %.1f dB on %d lines\n", chapter, worst, lines);
        CHECK_MSG(lines >= 5 && worst >= 12.0, "%s: %.1f dB on %d lines", chapter, worst, lines);
        CHECK_MSG(err < 1e-5, "%s: the buses miss the mix by %.2g", chapter, err);
        // Without the clearance the same chapter fails the measure.
        dr.cast.render.clearance_db = 0;
        double bare = clearance_of(&dr, &lines, &err);
        CHECK_MSG(bare < 12.0, "%s: %.1f dB with no clearance", chapter, bare);
    }
    rp_drama_deinit(&dr);
    rp_diags_deinit(&d);
}

// A render of a drama not yet voiced mixes its measuring pass as the
// lines come in from the workers; the file is the same bytes as a render
// of the same drama voiced first (and measured the same, to the bit).
static rp_status render_drama(int voice_first, const char *out, rp_drama *dr, rp_diags *d)
{
    rp_drama_options o = {.chapter_path = "scripts/siege.txt", .cast_path = "scripts/siege.cast",
                          .seed = -1, .no_cache = 1};  // no clips, no remembered gain
    rp_status st = rp_drama_load(dr, &o, d);
    if (!st && voice_first)
        st = rp_drama_voice(dr, NULL, NULL, NULL, d);
    rp_render_outputs want = {.audio = out};
    return st ? st : rp_drama_render(dr, &want, NULL, NULL, NULL, d);
}

static void test_a_render_mixes_as_it_voices(void)
{
    rp_drama a, b;
    rp_diags d;
    rp_diags_init(&d);
    CHECK_INT(render_drama(0, tmp(0, "alongside.wav"), &a, &d), RP_OK);
    CHECK_INT(render_drama(1, tmp(1, "voiced-first.wav"), &b, &d), RP_OK);
    printf("  mixed alongside the speech: %lld of %lld frames; passes %d and %d\n",
           (long long)a.mixed_alongside, (long long)a.timeline.n_frames, a.passes, b.passes);
    // Part of the mix is measured before the last line is spoken (usually
    // most of it: how much depends on how the two cores are shared, so it
    // is printed, not held to a share); a drama voiced first has nothing
    // to overlap.
    CHECK(a.voiced && a.mixed_alongside > 0);
    CHECK(b.voiced && b.mixed_alongside == 0);
    CHECK(a.passes == 2 && b.passes == 2);
    CHECK(a.timeline.n == b.timeline.n && a.timeline.n_frames == b.timeline.n_frames);
    CHECK(memcmp(&a.loudness, &b.loudness, sizeof a.loudness) == 0 && a.gain_db == b.gain_db);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cmp %s %s", tmp(0, "alongside.wav"), tmp(1, "voiced-first.wav"));
    char *said = NULL;
    CHECK_MSG(run(cmd, &said) == 0, "%s: %s", cmd, said);
    free(said);
    test_remove(tmp(0, "alongside.wav"));
    test_remove(tmp(1, "voiced-first.wav"));
    rp_drama_deinit(&a);
    rp_drama_deinit(&b);
    rp_diags_deinit(&d);
}

static void test_speech_stays_clear(void)
{
    // While someone speaks, effects and beds stay at least 12 dB under the
    // voice, measured over each line on the buses rendered apart.
    // (The shared chapters are measured in test_shared_chapters.)
    check_clear("scripts/siege.txt", "scripts/siege.cast");
}

static void test_shared_chapters(void)
{
    char *list = NULL;
    if (run("ls ../shared/chapters/*.txt", &list) != 0) {
        printf("  (../shared/chapters absent: sample chapters not rendered)\n");
        free(list);
        return;
    }
    char *save = NULL;  // the library (espeak-ng) uses strtok itself
    for (char *p = strtok_r(list, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
        // Speech stays clear of the effects and beds (test_speech_stays_clear).
        check_clear(p, NULL);
        char *log = NULL, *castx = NULL, args[4096];
        snprintf(args, sizeof args, "render %s -o %s -q", p, tmp(1, "chapter.wav"));
        CHECK_MSG(rp(args, &log) == 0, "%s: %s", p, log);
        wav w;
        CHECK_INT(wav_read(tmp(1, "chapter.wav"), &w), 0);
        double dur = (double)w.frames / (w.rate ? w.rate : 1);
        CHECK_MSG(dur > 150 && dur < 900, "%s: %.1f s", p, dur);
        CHECK_INT(w.rate, 48000);
        CHECK_INT(w.channels, 2);
        CHECK(wav_rms(&w, -1, 0, dur) > 0.01);
        if (strstr(p, "/000_"))
            CHECK_MSG(dur >= 300 && dur <= 600, "chapter 000: %.1f s", dur);
        wav_free(&w);
        check_mastered(tmp(1, "chapter.wav"), strrchr(p, '/') + 1);
        snprintf(args, sizeof args, "cast %s | grep -c '^\\[voice '", p);
        rp(args, &castx);
        if (strstr(p, "/000_") || strstr(p, "/002_"))
            CHECK_MSG(atoi(castx) >= 3, "%s: %s voices", p, castx);
        free(castx);
        CHECK_INT(annotate_round_trip(p, "", tmp(1, "chapter.wav")), 0);
        // With no annotation, the sounds the chapters call for: thunder at the
        // opening of 000, pod impacts, marching automata; 002's drone.
        char *tsv = NULL;
        snprintf(args, sizeof args, "cues %s", p);
        rp(args, &tsv);
        static cue cues[4096];
        int n = read_cues(tsv ? tsv : "", cues, 4096);
        double first_thunder = -1;
        int pods = 0, steps = 0, drones = 0;
        for (int i = 0; i < n; i++) {
            if (!strcmp(cues[i].who, "thunder") && first_thunder < 0)
                first_thunder = cues[i].start;
            pods += !strcmp(cues[i].who, "pod_impact");
            steps += !strcmp(cues[i].who, "metal_footsteps");
            drones += !strcmp(cues[i].who, "drone");
        }
        if (strstr(p, "/000_"))
            CHECK_MSG(first_thunder >= 0 && first_thunder < 10 && pods >= 2 && steps >= 1,
                      "000: thunder at %.1f, %d pods, %d footsteps", first_thunder, pods, steps);
        if (strstr(p, "/002_"))
            CHECK_MSG(drones >= 1, "002: %d drones", drones);
        free(tsv);
        free(log);
        // Each chapter's clips (40 MB) leave the cache with it.
        rp("cache --clear", &log);
        free(log);
    }
    free(list);
}

// Writes 40 MB through a sink (kept in the page cache or not) and returns
// how much of the file is still held in memory (mincore); -1 on an error.
static double held_after_writing(const char *path, int keep)
{
    enum { RATE = 48000, SECONDS = 104, BLOCK = 4800 };
    rp_diags d;
    rp_diags_init(&d);
    rp_sink *s = NULL;
    CHECK_INT(rp_sink_open(&s, path, RATE, 2, 32, 1, &d), RP_OK);
    if (s && keep)
        rp_sink_keep_cached(s);
    static float x[BLOCK * 2];
    for (int i = 0; i < BLOCK * 2; i++)
        x[i] = 0.25f * (float)((i * 7919) % 1000) / 1000.0f;
    for (int b = 0; s && b < SECONDS * RATE / BLOCK; b++)
        CHECK_INT(rp_sink_write(s, x, BLOCK, &d), RP_OK);
    if (s)
        CHECK_INT(rp_sink_close(s, 1, &d), RP_OK);
    rp_diags_deinit(&d);
    int fd = open(path, O_RDONLY);
    struct stat sb;
    CHECK(fd >= 0 && fstat(fd, &sb) == 0 && sb.st_size > 39 * 1000 * 1000);
    if (fd < 0)
        return -1;
    size_t held = resident(fd, (size_t)sb.st_size);
    printf("  %.1f MB written%s, %.1f MB of it still in the page cache\n", sb.st_size / 1e6,
           keep ? " (kept)" : "", held / 1e6);
    close(fd);
    wav w;
    CHECK_INT(wav_read(path, &w), 0);
    CHECK(w.frames == (int64_t)SECONDS * RATE && w.x && w.x[2 * 4801] == x[2]);
    wav_free(&w);
    unlink(path);
    return (double)held;
}

// An output file leaves the page cache as it reaches the disk: after
// 40 MB, at most a few megabytes of it are still held in memory, and it
// reads back whole. One the next render will copy (rp_sink_keep_cached, as
// a render with checkpoints asks) stays.
static void test_output_leaves_the_page_cache_unless_kept(void)
{
    struct statfs fs;
    if (statfs(test_tmpdir(), &fs) == 0 && fs.f_type == 0x01021994 /* TMPFS_MAGIC */) {
        printf("  skipped: %s is a tmpfs, whose files are the page cache\n", test_tmpdir());
        return;
    }
    double dropped = held_after_writing(tmp(0, "behind.wav"), 0);
    CHECK(dropped >= 0 && dropped <= 12 << 20);
    double kept = held_after_writing(tmp(0, "kept.wav"), 1);
    CHECK(kept >= 36e6);
}

// A patching sink (rp_sink_open_patch, as a re-render from checkpoints
// uses it): the last file is copied on a thread of its own while samples
// are written, so a write far into the file waits for the copy. Only the
// frames written change; a patch given up leaves the old file as it was.
// A patch of another length (a tweak moved the lines after some point)
// keeps the samples both have, ends where it should, and has the header a
// file of that length and those marks gets from rp_sink_open.
enum { PATCH_RATE = 48000, PATCH_BLOCK = 4800 };

// A 16-bit stereo file of frames (a whole number of blocks) titled "T",
// with marks at 0.5 s and at two_at (titled two): a sine, or silence.
static void patch_file(const char *path, int64_t frames, int64_t two_at, const char *two, int sine)
{
    rp_diags d;
    rp_diags_init(&d);
    rp_sink *s = NULL;
    rp_mark marks[2] = {{PATCH_RATE / 2, "One"}, {two_at, two}};
    static float x[PATCH_BLOCK * 2];
    CHECK_INT(rp_sink_open(&s, path, PATCH_RATE, 2, 16, 7, &d), RP_OK);
    if (s)
        CHECK_INT(rp_sink_set_meta(s, "T", marks, 2, PATCH_RATE, &d), RP_OK);
    for (int64_t b = 0; s && b < frames / PATCH_BLOCK; b++) {
        for (int i = 0; i < PATCH_BLOCK * 2; i++)
            x[i] = sine ? 0.3f * sinf((float)(b * PATCH_BLOCK * 2 + i) * 0.001f) : 0.0f;
        CHECK_INT(rp_sink_write(s, x, PATCH_BLOCK, &d), RP_OK);
    }
    if (s)
        CHECK_INT(rp_sink_close(s, 1, &d), RP_OK);
    rp_diags_deinit(&d);
}

// path patched to frames (marks at 0.5 s and two_at, titled two) with
// silence from at to at + n; when ahead, from the file copied ahead
// (rp_sink_copy_ahead), which the patch took over: 1, or not: 0 (*took).
static void patch_silence(const char *path, int64_t frames, int64_t two_at, const char *two,
                          int64_t at, int64_t n, int ahead, int *took)
{
    rp_diags d;
    rp_diags_init(&d);
    rp_sink *s = NULL, *copy = ahead ? rp_sink_copy_ahead(path, PATCH_RATE, 2) : NULL;
    CHECK(!ahead || copy);
    rp_mark marks[2] = {{PATCH_RATE / 2, "One"}, {two_at, two}};
    static float x[PATCH_BLOCK * 2];
    CHECK_INT(rp_sink_open_patch(&s, path, PATCH_RATE, 2, frames, "T", marks, 2, 7, &copy, &d),
              RP_OK);
    CHECK(copy == NULL);
    *took = rp_sink_copied_ahead(s);
    if (s) {
        CHECK_INT(rp_sink_seek(s, at, &d), RP_OK);
        for (int64_t k = 0; k < n / PATCH_BLOCK; k++)
            CHECK_INT(rp_sink_write(s, x, PATCH_BLOCK, &d), RP_OK);
        CHECK_INT(rp_sink_close(s, 1, &d), RP_OK);
    }
    rp_diags_deinit(&d);
}

// Whether the file at path has the header a fresh file of its frames and
// marks has (everything before the samples, to the byte), and those marks.
static int patched_header_ok(const char *path, int64_t frames, int64_t two_at, const char *two)
{
    const char *fresh = tmp(2, "patch-fresh.wav");
    patch_file(fresh, frames, two_at, two, 0);
    char *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    rp_diags d;
    rp_diags_init(&d);
    rp_audio_info info = {0};
    int ok = rp_read_file(path, (size_t)1 << 30, &a, &na, &d) == RP_OK &&
             rp_read_file(fresh, (size_t)1 << 30, &b, &nb, &d) == RP_OK &&
             rp_audio_info_read(path, &info, &d) == RP_OK;
    size_t head = nb - (size_t)frames * 4;
    ok = ok && na == nb && memcmp(a, b, head) == 0 && info.frames == frames &&
         info.n_cues == 2 && info.cues[0] == PATCH_RATE / 2 && info.cues[1] == two_at &&
         !strcmp(info.title, "T");
    rp_diags_deinit(&d);
    free(a);
    free(b);
    test_remove(fresh);
    return ok;
}

// test_a_patched_file_changes_only_what_was_written's patches of keep's
// copy at path, each from a copy ahead when ahead.
static void patch_cases(const char *path, const char *keep, int ahead)
{
    enum { RATE = PATCH_RATE, FRAMES = 60 * RATE, AT = 50 * RATE, N = 3 * RATE };
    char cmd[9000], *out = NULL;
    // Three seconds of silence from 50 s on (copied ahead: the header the
    // same size, the copy taken over).
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", keep, path);
    CHECK_INT(run(cmd, &out), 0);
    free(out);
    int took = -1;
    patch_silence(path, FRAMES, 30 * RATE, "Two", AT, N, ahead, &took);
    CHECK_INT(took, ahead);
    CHECK(patched_header_ok(path, FRAMES, 30 * RATE, "Two"));
    wav a, b;
    CHECK_INT(wav_read(keep, &a), 0);
    CHECK_INT(wav_read(path, &b), 0);
    CHECK(a.frames == FRAMES && b.frames == FRAMES);
    int64_t other = 0;
    double most = 0.0;
    for (int64_t i = 0; a.x && b.x && i < (int64_t)FRAMES * 2; i++) {
        int64_t f = i / 2;
        if (f >= AT && f < AT + N)
            most = fabs(b.x[i]) > most ? fabs(b.x[i]) : most;
        else
            other += a.x[i] != b.x[i];
    }
    printf("  patched 3 s at 50 s of 60 s: %lld other samples changed, the patch peaks at "
           "%.1f LSB (dither)\n", (long long)other, most * 32768.0);
    CHECK(other == 0);
    CHECK(most <= 2.0 / 32768.0);
    CHECK(wav_rms(&a, -1, 50.0, 53.0) > 0.1);
    wav_free(&b);
    // Shorter by a second, its second mark earlier: silence from 50 s to
    // the end; and then longer than the first by a second, its second mark
    // titled at length (the header longer, its samples further in).
    for (int longer = 0; longer < 2; longer++) {
        int64_t frames = FRAMES + (longer ? RATE : -RATE), two = longer ? 31 * RATE : 29 * RATE;
        const char *title = longer ? "The second of the two marks, at length" : "Two";
        snprintf(cmd, sizeof cmd, "cp '%s' '%s'", keep, path);
        CHECK_INT(run(cmd, &out), 0);
        free(out);
        patch_silence(path, frames, two, title, AT, frames - AT, ahead, &took);
        CHECK_INT(took, ahead && !longer);  // (a header of another size: copied again)
        CHECK_MSG(patched_header_ok(path, frames, two, title), "%s", longer ? "longer" : "shorter");
        CHECK_INT(wav_read(path, &b), 0);
        CHECK(b.frames == frames);
        int64_t kept = 0;
        most = 0.0;
        for (int64_t i = 0; a.x && b.x && i < frames * 2; i++) {
            if (i < (int64_t)AT * 2)
                kept += a.x[i] == b.x[i];
            else
                most = fabs(b.x[i]) > most ? fabs(b.x[i]) : most;
        }
        CHECK(kept == (int64_t)AT * 2);
        CHECK(most <= 2.0 / 32768.0);
        wav_free(&b);
    }
    wav_free(&a);
}

// Every output (written anew, patched, patched from a copy ahead, text)
// has the usual permissions, 0666 less the umask, where mkstemp would leave
// 0600: rp_temp_create sets them.
static int mode_of(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (int)(sb.st_mode & 0777) : -1;
}

static void test_outputs_get_the_usual_permissions(void)
{
    mode_t old = umask(027);
    const char *audio = tmp(0, "mode.wav"), *text = tmp(1, "mode.txt");
    patch_file(audio, 10 * PATCH_RATE, 5 * PATCH_RATE, "Two", 1);
    CHECK_INT(mode_of(audio), 0640);
    int took = -1;
    for (int ahead = 0; ahead < 2; ahead++) {
        chmod(audio, 0600);
        patch_silence(audio, 10 * PATCH_RATE, 5 * PATCH_RATE, "Two", 0, PATCH_BLOCK, ahead, &took);
        CHECK_INT(took, ahead);
        CHECK_MSG(mode_of(audio) == 0640, "patched%s: mode %o", ahead ? " from a copy ahead" : "",
                  mode_of(audio));
    }
    rp_diags d;
    rp_diags_init(&d);
    CHECK_INT(rp_write_file_atomic(text, "x\n", 2, &d), RP_OK);
    CHECK_INT(mode_of(text), 0640);
    rp_diags_deinit(&d);
    umask(old);
    test_remove(audio);
    test_remove(text);
}

static void test_a_patched_file_changes_only_what_was_written(void)
{
    enum { RATE = PATCH_RATE, FRAMES = 60 * RATE, AT = 50 * RATE, N = 3 * RATE };
    const char *path = tmp(0, "patch.wav"), *keep = tmp(1, "patch-old.wav");
    rp_diags d;
    rp_diags_init(&d);
    rp_sink *s = NULL;
    rp_mark marks[2] = {{RATE / 2, "One"}, {30 * RATE, "Two"}};
    patch_file(path, FRAMES, 30 * RATE, "Two", 1);
    char cmd[9000], *out = NULL;
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", path, keep);
    CHECK_INT(run(cmd, &out), 0);
    free(out);
    // Given up: the old file stays, and no temporary is left; and so for
    // a copy ahead dropped, and one of another rate, which is not taken.
    CHECK_INT(rp_sink_open_patch(&s, path, RATE, 2, FRAMES, "T", marks, 2, 7, NULL, &d), RP_OK);
    if (s)
        CHECK_INT(rp_sink_close(s, 0, &d), RP_OK);
    rp_sink *copy = rp_sink_copy_ahead(path, RATE, 2);
    CHECK(copy != NULL);
    CHECK_INT(rp_sink_close(copy, 0, NULL), RP_OK);
    CHECK(rp_sink_copy_ahead(path, 44100, 2) == NULL);
    CHECK(rp_sink_copy_ahead(tmp(3, "none.wav"), RATE, 2) == NULL);
    CHECK(same_file(path, keep));
    CHECK_INT(count_files(test_tmpdir(), ".radioplay-"), 0);
    // Another rate is not this render's file: the caller renders it all.
    s = NULL;
    copy = rp_sink_copy_ahead(path, RATE, 2);
    CHECK_INT(rp_sink_open_patch(&s, path, 44100, 2, FRAMES, "T", marks, 2, 7, &copy, &d),
              RP_ERR_USAGE);
    CHECK(s == NULL && copy == NULL);
    CHECK_INT(count_files(test_tmpdir(), ".radioplay-"), 0);
    // A file replaced after its copy ahead began (by a render beside this
    // one) is not the one the copy holds: it is copied again.
    copy = rp_sink_copy_ahead(path, RATE, 2);
    patch_file(path, FRAMES, 30 * RATE, "Two", 0);
    CHECK_INT(rp_sink_open_patch(&s, path, RATE, 2, FRAMES, "T", marks, 2, 7, &copy, &d), RP_OK);
    CHECK(copy == NULL && s && !rp_sink_copied_ahead(s));
    if (s)
        CHECK_INT(rp_sink_close(s, 0, &d), RP_OK);
    CHECK_INT(count_files(test_tmpdir(), ".radioplay-"), 0);
    rp_diags_deinit(&d);
    for (int ahead = 0; ahead < 2; ahead++)
        patch_cases(path, keep, ahead);
    CHECK_INT(count_files(test_tmpdir(), ".radioplay-"), 0);
    test_remove(path);
    test_remove(keep);
}

// A 16-bit file's samples, written in pieces of uneven length (the
// conversion works eight at a time): each within its dither of the float,
// the errors unbiased and as large as TPDF dither and rounding make them
// (1/2 LSB RMS), and anything past full scale clipped, never wrapped.
static void test_16_bit_samples_are_dithered_rounded_and_clipped(void)
{
    enum { RATE = 48000, N = 40000 };
    const char *path = tmp(0, "pcm16.wav");
    static float x[N * 2];
    for (int i = 0; i < N; i++) {
        x[2 * i] = -1.25f + 2.5f * (float)i / (N - 1);  // past full scale at both ends
        x[2 * i + 1] = 0.3f * sinf((float)i * 0.0123f);
    }
    x[0] = INFINITY;
    x[2] = -INFINITY;
    rp_diags d;
    rp_diags_init(&d);
    rp_sink *s = NULL;
    CHECK_INT(rp_sink_open(&s, path, RATE, 2, 16, 9, &d), RP_OK);
    static const size_t pieces[] = {1, 7, 3, 4096, 13, 2, 5000, 8, 9};
    for (size_t at = 0, k = 0; s && at < N; k++) {
        size_t n = pieces[k % 9] < N - at ? pieces[k % 9] : N - at;
        CHECK_INT(rp_sink_write(s, x + 2 * at, n, &d), RP_OK);
        at += n;
    }
    CHECK_INT(rp_sink_close(s, 1, &d), RP_OK);
    rp_diags_deinit(&d);
    wav w;
    CHECK_INT(wav_read(path, &w), 0);
    CHECK(w.frames == N);
    int64_t far = 0, unclipped = 0, in_range = 0;
    double sum = 0, sq = 0;
    for (int64_t i = 0; w.x && i < 2 * (int64_t)w.frames; i++) {
        double q = (double)w.x[i] * 32768.0, want = (double)x[i] * 32767.0;
        if (fabs(x[i]) <= 0.999f) {
            far += fabs(q - want) >= 1.5;
            if (i % 2) {  // the quiet sine: the error's statistics
                sum += q - want;
                sq += (q - want) * (q - want);
                in_range++;
            }
        } else if (fabsf(x[i]) >= 1.0f + 2.0f / 32767.0f) {
            unclipped += q != (x[i] > 0 ? 32767.0 : -32768.0);
        }
    }
    double mean = in_range ? sum / (double)in_range : 1.0,
           rms = in_range ? sqrt(sq / (double)in_range) : 0.0;
    printf("  error: mean %.4f LSB, RMS %.3f LSB; %lld samples off by 1.5 LSB or more, "
           "%lld past full scale unclipped\n", mean, rms, (long long)far, (long long)unclipped);
    CHECK(far == 0);
    CHECK(unclipped == 0);
    CHECK(fabs(mean) < 0.02);
    CHECK(rms > 0.45 && rms < 0.55);
    wav_free(&w);
    test_remove(path);
}

// The dither's state (rp_sink_save) taken part-way into a 16-bit file and
// loaded into a sink seeded otherwise: what that sink writes next is the
// first one's next samples, to the bit. Bytes cut short are refused.
static void test_a_saved_dither_goes_on_to_the_bit(void)
{
    enum { RATE = 48000, FIRST = 12345, NEXT = 20000 };
    const char *one = tmp(0, "dither-one.wav"), *two = tmp(1, "dither-two.wav");
    static float x[(FIRST + NEXT) * 2];
    for (int i = 0; i < (FIRST + NEXT) * 2; i++)
        x[i] = 0.01f * sinf((float)i * 0.01f);  // quiet: the dither shows
    rp_diags d;
    rp_diags_init(&d);
    rp_sink *a = NULL, *b = NULL;
    rp_strbuf saved;
    rp_strbuf_init(&saved);
    CHECK_INT(rp_sink_open(&a, one, RATE, 2, 16, 3, &d), RP_OK);
    CHECK_INT(rp_sink_open(&b, two, RATE, 2, 16, 4, &d), RP_OK);
    if (a && b) {
        CHECK_INT(rp_sink_write(a, x, FIRST, &d), RP_OK);
        rp_sink_save(a, &saved);
        CHECK_INT(rp_sink_write(a, x + 2 * FIRST, NEXT, &d), RP_OK);
        rp_unpacker u = {(const unsigned char *)saved.s, saved.len - 1, 0};
        CHECK(rp_sink_load(b, &u) != RP_OK);
        u = (rp_unpacker){(const unsigned char *)saved.s, saved.len, 0};
        CHECK_INT(rp_sink_load(b, &u), RP_OK);
        CHECK_INT(rp_sink_write(b, x + 2 * FIRST, NEXT, &d), RP_OK);
    }
    CHECK_INT(rp_sink_close(a, 1, &d), RP_OK);
    CHECK_INT(rp_sink_close(b, 1, &d), RP_OK);
    rp_strbuf_deinit(&saved);
    rp_diags_deinit(&d);
    wav wa, wb;
    CHECK_INT(wav_read(one, &wa), 0);
    CHECK_INT(wav_read(two, &wb), 0);
    CHECK(wa.frames == FIRST + NEXT && wb.frames == NEXT);
    int64_t differ = 0, dithered = 0;
    for (int64_t i = 0; wa.x && wb.x && i < 2 * (int64_t)NEXT; i++) {
        differ += wa.x[2 * FIRST + i] != wb.x[i];
        dithered += fabsf(wa.x[2 * FIRST + i] - x[2 * FIRST + i]) > 0.2f / 32768.0f;
    }
    printf("  %d frames after the save: %lld samples differ (%lld carry dither)\n", NEXT,
           (long long)differ, (long long)dithered);
    CHECK(differ == 0);
    CHECK(dithered > NEXT);
    wav_free(&wa);
    wav_free(&wb);
    test_remove(one);
    test_remove(two);
}

// A file written over the frames it is made from (rp_sink_open_over, as a
// render writes its file over the mix it kept): the frames sit in the
// temporary file from `from` on, and each block is read back, then handed
// to the sink, which writes behind the reading into the same file.
enum { OVER_RATE = 48000, OVER_BLOCK = 4800, OVER_FRAMES = 10 * OVER_RATE };

static rp_status write_over(const char *path, int bits, int64_t from, const float *x,
                            rp_diags *d)
{
    const rp_mark marks[2] = {{0, "One"}, {OVER_RATE, "Two"}};
    const size_t bytes = (size_t)OVER_FRAMES * 2 * sizeof *x, blk = OVER_BLOCK * 2 * sizeof *x;
    char *target = rp_output_target(path), *name = NULL;
    int lock = -1, fd = target ? rp_temp_create(target, &name, &lock) : -1;
    free(target);
    CHECK(fd >= 0 && pwrite(fd, x, bytes, from) == (ssize_t)bytes);
    if (fd < 0)
        return RP_ERR_IO;
    rp_sink_over over = {name, lock, from, 2 * sizeof *x};
    rp_sink *s = NULL;
    rp_status st = rp_sink_open_over(&s, path, OVER_RATE, 2, bits, 5, &over, d);
    if (!st) {
        free(name);
        name = NULL;
        lock = -1;
        st = rp_sink_set_meta(s, "Over", marks, 2, OVER_RATE, d);
    }
    static float b[OVER_BLOCK * 2];
    for (int k = 0; !st && k < OVER_FRAMES / OVER_BLOCK; k++) {
        CHECK(pread(fd, b, blk, from + (off_t)(k * blk)) == (ssize_t)blk);
        st = rp_sink_write(s, b, OVER_BLOCK, d);
    }
    rp_status cs = s ? rp_sink_close(s, st == RP_OK, d) : RP_OK;
    if (name) {  // refused: the frames are as they were
        CHECK(pread(fd, b, blk, from) == (ssize_t)blk && !memcmp(b, x, blk));
        unlink(name);
        free(name);
        rp_temp_release(lock);
    }
    close(fd);
    return st ? st : cs;
}

// The same bytes as a file written anew, 16-bit and float (a float frame
// takes as many bytes as the frame it replaces: the tightest). A header
// that would reach frames not yet read is refused with a message, and
// leaves no file.
static void test_a_file_written_over_its_frames_is_the_same_file(void)
{
    const rp_mark marks[2] = {{0, "One"}, {OVER_RATE, "Two"}};
    static float x[OVER_FRAMES * 2];
    for (int i = 0; i < OVER_FRAMES * 2; i++)
        x[i] = 0.4f * sinf((float)i * 0.0123f) + 0.1f * sinf((float)i * 0.31f);
    const char *fresh = tmp(0, "fresh.wav"), *over = tmp(1, "over.wav");
    const int bits[2] = {16, 32};
    for (int k = 0; k < 2; k++) {
        rp_diags d;
        rp_diags_init(&d);
        rp_sink *s = NULL;
        CHECK_INT(rp_sink_open(&s, fresh, OVER_RATE, 2, bits[k], 5, &d), RP_OK);
        if (s)
            CHECK_INT(rp_sink_set_meta(s, "Over", marks, 2, OVER_RATE, &d), RP_OK);
        for (int b = 0; s && b < OVER_FRAMES / OVER_BLOCK; b++)
            CHECK_INT(rp_sink_write(s, x + 2 * b * OVER_BLOCK, OVER_BLOCK, &d), RP_OK);
        if (s)
            CHECK_INT(rp_sink_close(s, 1, &d), RP_OK);
        CHECK_INT(write_over(over, bits[k], 1 << 20, x, &d), RP_OK);
        CHECK_MSG(same_file(fresh, over), "%d bits", bits[k]);
        struct stat sb;
        CHECK(stat(over, &sb) == 0 && sb.st_size < (off_t)OVER_FRAMES * 2 * bits[k] / 8 + 4096);
        printf("  %d-bit: %lld bytes, the same as written anew\n", bits[k],
               (long long)sb.st_size);
        rp_diags_deinit(&d);
        test_remove(fresh);
        test_remove(over);
    }
    rp_diags d;
    rp_diags_init(&d);
    CHECK_INT(write_over(over, 32, 16, x, &d), RP_ERR_IO);
    CHECK_MSG(d.n > 0 && strstr(d.items[d.n - 1].msg, "outgrew"), "%s",
              d.n ? d.items[d.n - 1].msg : "no message");
    CHECK(!rp_file_exists(over));
    CHECK_INT(count_files(test_tmpdir(), ".radioplay-"), 0);
    rp_diags_deinit(&d);
}

int main(void)
{
    RUN(test_render_speech_where_cues_say);
    RUN(test_render_is_deterministic);
    RUN(test_a_mix_not_kept_is_mixed_again_to_the_same_bytes);
    RUN(test_a_correcting_pass_after_a_read_back_mixes_to_the_same_bytes);
    RUN(test_a_16_bit_file_is_within_its_dither_of_24_bits);
    RUN(test_a_scratch_file_near_a_bare_name);
    RUN(test_a_scratch_file_gives_its_pages_back);
    RUN(test_writes_go_in_pieces);
    RUN(test_a_replaced_file_is_let_go_elsewhere);
    RUN(test_effects_fire_on_their_word);
    RUN(test_sound_words_cue_effects);
    RUN(test_formats_and_rates);
    RUN(test_acx_and_loudness_of_a_chapter);
    RUN(test_comms_voice_sounds_like_a_radio);
    RUN(test_stems_sum_to_the_mix);
    RUN(test_errors_are_located_and_leave_no_file);
    RUN(test_voice_problems_are_errors);
    RUN(test_interrupt_leaves_no_file);
    RUN(test_cast_sheet_round_trip);
    RUN(test_quotes_format);
    RUN(test_quotes_explain);
    RUN(test_check_command);
    RUN(test_say_command);
    RUN(test_respelling_in_render);
    RUN(test_sfx_command);
    RUN(test_example_drama);
    RUN(test_annotate_round_trip);
    RUN(test_a_render_mixes_as_it_voices);
    RUN(test_speech_stays_clear);
    RUN(test_shared_chapters);
    RUN(test_output_leaves_the_page_cache_unless_kept);
    RUN(test_a_patched_file_changes_only_what_was_written);
    RUN(test_outputs_get_the_usual_permissions);
    RUN(test_16_bit_samples_are_dithered_rounded_and_clipped);
    RUN(test_a_saved_dither_goes_on_to_the_bit);
    RUN(test_a_file_written_over_its_frames_is_the_same_file);
    return TEST_SUMMARY("test_render");
}
