// SPDX-License-Identifier: GPL-3.0-or-later
// File helpers, so that parsing modules work on memory only: reading input
// whole, and writing text output atomically.
#define _GNU_SOURCE  // O_TMPFILE, fallocate
#include "rp_io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rp_config.h"

rp_status rp_read_file(const char *path, size_t max_bytes, char **out, size_t *len,
                       rp_diags *d)
{
    *out = NULL;
    *len = 0;
    struct stat st;
    if (stat(path, &st) != 0) {
        rp_diag_add(d, RP_DIAG_ERROR, path, 0, 0, "io", NULL, "cannot open: %s", strerror(errno));
        return RP_ERR_IO;
    }
    if (S_ISDIR(st.st_mode)) {
        rp_diag_add(d, RP_DIAG_ERROR, path, 0, 0, "io", NULL, "is a directory, not a file");
        return RP_ERR_IO;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        rp_diag_add(d, RP_DIAG_ERROR, path, 0, 0, "io", NULL, "cannot open: %s", strerror(errno));
        return RP_ERR_IO;
    }
    rp_strbuf b;
    rp_strbuf_init(&b);
    char chunk[65536];
    size_t n;
    rp_status rs = RP_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n > max_bytes) {
            rp_diag_add(d, RP_DIAG_ERROR, path, 0, 0, "io", "split it into smaller files",
                        "file is larger than the limit of %zu bytes", max_bytes);
            rs = RP_ERR_LIMIT;
            break;
        }
        rp_strbuf_append(&b, chunk, n);
        if (b.failed) {
            rs = RP_ERR_NOMEM;
            break;
        }
    }
    if (rs == RP_OK && ferror(f)) {
        rp_diag_add(d, RP_DIAG_ERROR, path, 0, 0, "io", NULL, "read failed: %s", strerror(errno));
        rs = RP_ERR_IO;
    }
    fclose(f);
    if (rs != RP_OK) {
        rp_strbuf_deinit(&b);
        return rs;
    }
    *len = b.len;
    *out = rp_strbuf_take(&b);
    return *out ? RP_OK : RP_ERR_NOMEM;
}

char *rp_path_with_ext(const char *path, const char *ext)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - path) : strlen(path);
    rp_strbuf b;
    rp_strbuf_init(&b);
    rp_strbuf_append(&b, path, stem);
    rp_strbuf_puts(&b, ext);
    return rp_strbuf_take(&b);
}

int rp_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int rp_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
        return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

rp_status rp_list_dir(const char *dir, const char *ext, char ***names, size_t *n, rp_diags *d)
{
    *names = NULL;
    *n = 0;
    DIR *dp = opendir(dir);
    if (!dp) {
        rp_diag_add(d, RP_DIAG_ERROR, dir, 0, 0, "io", NULL, "cannot open directory: %s",
                    strerror(errno));
        return RP_ERR_IO;
    }
    size_t cap = 0, lext = strlen(ext);
    struct dirent *e;
    rp_status st = RP_OK;
    while ((e = readdir(dp))) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len <= lext || strcmp(e->d_name + len - lext, ext))
            continue;
        if ((st = rp_grow((void **)names, &cap, *n + 1, sizeof **names)))
            break;
        if (!((*names)[*n] = rp_strdup(e->d_name))) {
            st = RP_ERR_NOMEM;
            break;
        }
        (*n)++;
    }
    closedir(dp);
    if (*n)
        qsort(*names, *n, sizeof **names, cmp_name);
    return st;
}

char *rp_temp_template(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    rp_strbuf b;
    rp_strbuf_init(&b);
    rp_strbuf_append(&b, path, dirlen);
    rp_strbuf_printf(&b, ".%s.radioplay-XXXXXX", path + dirlen);
    return rp_strbuf_take(&b);
}

void rp_remove_tree(const char *dir, int keep_top)
{
    DIR *dd = opendir(dir);
    if (dd) {
        struct dirent *de;
        while ((de = readdir(dd))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            char path[4600];
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            struct stat sb;
            if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
                rp_remove_tree(path, 0);
            else
                unlink(path);
        }
        closedir(dd);
    }
    if (!keep_top)
        rmdir(dir);
}

// Removes from dir the temporaries that killed processes left: named
// prefix and six letters (as mkstemp and mkdtemp make them), files or (dirs)
// folders, the user's, a minute untouched, and locked by no one (a live
// process holds its lock until its temporary is gone; the minute keeps one
// just made and not yet locked). Where the file system has no locks,
// nothing is removed.
static void sweep(const char *dir, const char *prefix, int dirs)
{
    DIR *dp = opendir(dir);
    size_t plen = strlen(prefix);
    time_t now = time(NULL);
    struct dirent *e;
    while (dp && (e = readdir(dp))) {
        if (strlen(e->d_name) != plen + 6 || strncmp(e->d_name, prefix, plen) != 0)
            continue;
        int fd = openat(dirfd(dp), e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        struct stat sb;
        if (fd >= 0 && fstat(fd, &sb) == 0 && (dirs ? S_ISDIR(sb.st_mode) : S_ISREG(sb.st_mode)) &&
            sb.st_uid == geteuid() && now - sb.st_mtime >= 60 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
            char path[4600];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (dirs)
                rp_remove_tree(path, 0);
            else
                unlink(path);
        }
        if (fd >= 0)
            close(fd);
    }
    if (dp)
        closedir(dp);
}

// The temporaries of path that killed writes left (rp_temp_template's).
static void sweep_temporaries(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    char *dir = dirlen ? rp_strdup(path) : rp_strdup(".");
    char *prefix = rp_temp_template(path + dirlen);
    if (dir && dirlen)
        dir[dirlen] = '\0';
    if (dir && prefix) {
        prefix[strlen(prefix) - 6] = '\0';  // without the XXXXXX
        sweep(dir, prefix, 0);
    }
    free(dir);
    free(prefix);
}

int rp_temp_create(const char *path, char **tmp, int *lock_fd)
{
    *lock_fd = -1;
    sweep_temporaries(path);
    *tmp = rp_temp_template(path);
    int fd = *tmp ? mkstemp(*tmp) : -1;
    if (fd < 0) {
        int err = *tmp ? errno : ENOMEM;
        free(*tmp);
        *tmp = NULL;
        errno = err;
        return -1;
    }
    // mkstemp makes the file 0600; an output gets the usual permissions. A
    // file system without permissions (vfat) refuses, and the file is as good.
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    // A file system without flock (some network ones) still writes.
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
        *lock_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    return fd;
}

void rp_temp_release(int lock_fd)
{
    if (lock_fd >= 0)
        close(lock_fd);
}

char *rp_temp_dir_create(const char *prefix, int *lock_fd)
{
    *lock_fd = -1;
    const char *tmp = getenv("TMPDIR");
    tmp = tmp && *tmp ? tmp : "/tmp";
    sweep(tmp, prefix, 1);
    rp_strbuf b;
    rp_strbuf_init(&b);
    rp_strbuf_printf(&b, "%s/%sXXXXXX", tmp, prefix);
    char *dir = rp_strbuf_take(&b);
    if (!dir || !mkdtemp(dir)) {
        int err = dir ? errno : ENOMEM;
        free(dir);
        errno = err;
        return NULL;
    }
    // A file system without flock (some network ones) still works.
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        fd = -1;
    }
    *lock_fd = fd;
    return dir;
}

// An unnamed file in the folder of path: O_TMPFILE where the file system
// has it, else a temporary named as rp_temp_template names path's (so a
// process killed before its unlink leaves one the next write of path
// sweeps), removed at once.
static int scratch_near(const char *path)
{
    char *name = rp_temp_template(path), *dir = name ? rp_strdup(name) : NULL;
    int fd = -1;
    if (dir) {
        char *slash = strrchr(dir, '/');
        if (slash)
            slash[slash == dir] = '\0';  // "/x" is in "/"
        fd = open(slash ? dir : ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0 && errno != ENOENT && errno != EACCES && (fd = mkostemp(name, O_CLOEXEC)) >= 0)
            unlink(name);
    }
    free(dir);
    free(name);
    return fd;
}

int rp_temp_scratch(const char *near)
{
    int fd = near ? scratch_near(near) : -1;
    if (fd >= 0)
        return fd;
    const char *tmp = getenv("TMPDIR");
    rp_strbuf b;
    rp_strbuf_init(&b);
    rp_strbuf_printf(&b, "%s/scratch", tmp && *tmp ? tmp : "/tmp");
    fd = b.failed ? -1 : scratch_near(b.s);
    rp_strbuf_deinit(&b);
    return fd;
}

int rp_scratch_drop(int fd, int64_t from, int64_t len)
{
#if defined(__linux__)
    return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)from, (off_t)len);
#else
    (void)fd, (void)from, (void)len;
    return -1;
#endif
}

char *rp_output_target(const char *path)
{
    struct stat sb;
    char *real = lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode) ? realpath(path, NULL) : NULL;
    return real ? real : rp_strdup(path);
}

// A file this large or larger is let go in a process of its own.
enum { RELEASE_LATER_BYTES = 16 << 20 };

void rp_close_all_but(int from, int a, int b)
{
    int lo = a < b ? a : b, hi = a < b ? b : a;
    // close_range where the kernel has it (5.9), one by one where it does
    // not (up to a descriptor limit's usual most: sysconf is not safe here).
    int ends[3][2] = {{from, lo - 1}, {lo + 1, hi - 1}, {hi + 1, INT_MAX}};
    for (int k = 0; k < 3; k++) {
        int first = ends[k][0] > from ? ends[k][0] : from, last = ends[k][1];
        if (last < first)
            continue;
        if (close_range((unsigned)first, last == INT_MAX ? ~0u : (unsigned)last, 0) == 0)
            continue;
        for (int fd = first; fd <= last && fd < 65536; fd++)
            close(fd);
    }
}

// Lets go of fd, a file no longer linked, so that the last reference to it
// goes in a grandchild the caller does not wait for (init reaps it). The
// grandchild holds no other descriptor of the caller's past that moment
// (no lock, pipe or file), and closes fd once every other holder has: the
// caller and the child close it before their ends of a pipe the grandchild
// waits on. Where fork fails, fd is closed here.
static void release_later(int fd)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        close(fd);
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        if (fork() == 0) {
            rp_close_all_but(0, fd, p[0]);
            char c;
            while (read(p[0], &c, 1) < 0 && errno == EINTR) {
            }
        }
        close(fd);
        _exit(0);  // (the child's end of the pipe after its fd)
    }
    close(fd);
    close(p[1]);
    close(p[0]);
    while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
}

int rp_rename_into_place(const char *tmp, const char *target)
{
    struct stat sb;
    int old = open(target, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (old >= 0 && (fstat(old, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_nlink != 1 ||
                     sb.st_size < RELEASE_LATER_BYTES)) {
        close(old);
        old = -1;
    }
    int r = rename(tmp, target), err = errno;
    if (old >= 0 && r == 0)
        release_later(old);
    else if (old >= 0)
        close(old);
    errno = err;
    return r;
}

int rp_output_dir_check(const char *path, char *why, size_t cap)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))
        return 0;  // a device or pipe, written in place
    char *target = rp_output_target(path);
    if (!target) {
        snprintf(why, cap, "%s", strerror(ENOMEM));
        return -1;
    }
    char *slash = strrchr(target, '/');
    const char *dir = !slash ? "." : slash == target ? "/" : target;
    if (slash && slash != target)
        *slash = '\0';
    int err = stat(dir, &sb) != 0      ? errno
              : !S_ISDIR(sb.st_mode)   ? ENOTDIR
              : access(dir, W_OK) != 0 ? errno
                                       : 0;
    if (err)
        snprintf(why, cap, "%s: %s", dir, strerror(err));
    free(target);
    return err ? -1 : 0;
}

// A write of 128 kB or more to a file gets pages of that size from the
// kernel's page cache (large folios), and on a virtual machine whose host
// takes back the guest's free memory (balloon free page reporting) those
// come from blocks the host has dropped: each first touch of them is a
// fault in the host. Measured here (Linux 6.18 under Firecracker), 97 MB
// written after a few seconds idle took 0.26 s of system time in writes of
// 128 kB to 1 MB and 0.04 to 0.05 s in writes of 32 kB (dd bs=32k), whose
// smaller pages come from memory just freed. A cold render of chapter 000
// writes 97 MB of mix and file: 0.2 s of its CPU went there. The extra
// system calls cost about 2 ms for that much.
int rp_write_all(int fd, const void *p, size_t n)
{
    const char *b = p;
    while (n) {
        ssize_t w = write(fd, b, n < RP_WRITE_PIECE ? n : RP_WRITE_PIECE);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

int rp_read_all(int fd, void *p, size_t n)
{
    char *b = p;
    while (n) {
        ssize_t r = read(fd, b, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = 0;  // end of file
            return -1;
        }
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

// A device or a pipe (/dev/null, /dev/full, a FIFO) takes the bytes as they
// come: renaming a file over it would replace it.
static rp_status write_in_place(const char *path, const char *bytes, size_t len, rp_diags *d)
{
    int fd = open(path, O_WRONLY | O_TRUNC);
    int err = fd < 0 ? errno : 0;
    if (!err && rp_write_all(fd, bytes, len))
        err = errno ? errno : EIO;
    if (fd >= 0 && close(fd) != 0 && !err)
        err = errno;
    if (err)
        rp_diag_add(d, RP_DIAG_ERROR, path, 0, 0, "output", NULL, "cannot write: %s",
                    strerror(err));
    return err ? RP_ERR_IO : RP_OK;
}

static rp_status write_atomic(const char *path, const char *bytes, size_t len, int sync,
                              rp_diags *d)
{
    struct stat sb;
    int exists = stat(path, &sb) == 0;
    if (exists && S_ISDIR(sb.st_mode)) {
        rp_diag_add(d, RP_DIAG_ERROR, path, 0, 0, "output", "name a file to write",
                    "is a directory, not a file");
        return RP_ERR_IO;
    }
    if (exists && !S_ISREG(sb.st_mode))
        return write_in_place(path, bytes, len, d);
    char *target = rp_output_target(path), *tmp = NULL;
    int lock = -1, fd = target ? rp_temp_create(target, &tmp, &lock) : -1;
    if (fd < 0) {
        int nomem = !target || errno == ENOMEM;
        if (!nomem)
            rp_diag_add(d, RP_DIAG_ERROR, path, 0, 0, "output", NULL, "cannot create output: %s",
                        strerror(errno));
        free(target);
        return nomem ? RP_ERR_NOMEM : RP_ERR_IO;
    }
    int err = 0;
    if (rp_write_all(fd, bytes, len))
        err = errno ? errno : EIO;
    if (!err && sync && fsync(fd) != 0)
        err = errno;
    if (close(fd) != 0 && !err)
        err = errno;
    if (!err && rp_rename_into_place(tmp, target) != 0)
        err = errno;
    if (err) {
        rp_diag_add(d, RP_DIAG_ERROR, path, 0, 0, "output", NULL, "cannot write: %s",
                    strerror(err));
        unlink(tmp);
    }
    rp_temp_release(lock);
    free(target);
    free(tmp);
    return err ? RP_ERR_IO : RP_OK;
}

rp_status rp_write_file_atomic(const char *path, const char *bytes, size_t len, rp_diags *d)
{
    return write_atomic(path, bytes, len, 1, d);
}

rp_status rp_write_cache_file(const char *path, const char *bytes, size_t len, rp_diags *d)
{
    return write_atomic(path, bytes, len, 0, d);
}

// ---- watching ----------------------------------------------------------------------

static uint64_t stamp_file(const char *path, uint64_t h)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        h = rp_hash64("missing", 7, h);
        return rp_hash64(path, strlen(path), h);
    }
    int64_t v[3] = {(int64_t)sb.st_mtim.tv_sec, (int64_t)sb.st_mtim.tv_nsec, (int64_t)sb.st_size};
    h = rp_hash64(v, sizeof v, h);
    if (S_ISDIR(sb.st_mode)) {
        DIR *dd = opendir(path);
        struct dirent *de;
        while (dd && (de = readdir(dd))) {
            if (de->d_name[0] == '.')
                continue;
            char sub[4200];
            snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
            struct stat fb;
            if (stat(sub, &fb) == 0 && S_ISREG(fb.st_mode)) {
                int64_t f[3] = {(int64_t)fb.st_mtim.tv_sec, (int64_t)fb.st_mtim.tv_nsec,
                                (int64_t)fb.st_size};
                // Order-free: readdir's order is not stable.
                h ^= rp_hash64(f, sizeof f, rp_hash64(de->d_name, strlen(de->d_name), 1));
            }
        }
        if (dd)
            closedir(dd);
    }
    return h;
}

static uint64_t stamp_all(const rp_watch *w)
{
    uint64_t h = RP_HASH_INIT;
    for (int i = 0; i < w->n; i++)
        h = stamp_file(w->paths[i], h);
    return h;
}

void rp_watch_init(rp_watch *w, const char *const *paths, int n)
{
    memset(w, 0, sizeof *w);
    for (int i = 0; i < n && w->n < RP_WATCH_MAX; i++)
        if (paths[i])
            w->paths[w->n++] = paths[i];
    w->stamp = stamp_all(w);
}

int rp_watch_changed(rp_watch *w)
{
    uint64_t now = stamp_all(w);
    if (now == w->stamp)
        return 0;
    w->stamp = now;
    return 1;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void rp_watch_settle(rp_watch *w)
{
    sleep_ms(RP_WATCH_SETTLE_MS);
    w->stamp = stamp_all(w);
}

int rp_watch_wait(rp_watch *w, volatile sig_atomic_t *stop)
{
    while (!(stop && *stop)) {
        if (rp_watch_changed(w)) {
            rp_watch_settle(w);
            return 1;
        }
        sleep_ms(RP_WATCH_POLL_MS);
    }
    return 0;
}
