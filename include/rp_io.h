// SPDX-License-Identifier: GPL-3.0-or-later
// Reading input files whole, within a named limit, and listing preset
// directories. The parsers never see a path: they take what this returns.
#ifndef RP_IO_H
#define RP_IO_H

#include <signal.h>

#include "rp_common.h"

// Reads path into a NUL-terminated buffer (caller frees). Files over
// max_bytes are an error (RP_ERR_LIMIT).
rp_status rp_read_file(const char *path, size_t max_bytes, char **out, size_t *len,
                       rp_diags *d);

// path with its extension (if any) replaced by ext (".wav"); caller frees.
char *rp_path_with_ext(const char *path, const char *ext);

// 1 if path names an existing regular file.
int rp_file_exists(const char *path);

// 1 if a and b name the same file (device and inode).
int rp_same_file(const char *a, const char *b);

// Sorted names of the files in dir ending in ext (caller frees each and the
// array). A missing directory is an error.
rp_status rp_list_dir(const char *dir, const char *ext, char ***names, size_t *n, rp_diags *d);

// A mkstemp template for a temporary file beside path, in the same directory
// so that renaming it onto path is atomic: "dir/.name.radioplay-XXXXXX".
// Caller frees.
char *rp_temp_template(const char *path);

// Creates the temporary file for path (rp_temp_template), and returns its
// descriptor, with its name in *tmp (caller frees), or -1 with errno. It
// has an output's permissions (0666 less the umask, not mkstemp's 0600).
// The file is locked (flock) for as long as *lock_fd is open: keep it open
// until the file is renamed into place, then rp_temp_release it (-1: the
// file system has no locks). First removes the temporaries of path that
// killed writes left: a minute untouched and locked by no one.
int rp_temp_create(const char *path, char **tmp, int *lock_fd);
void rp_temp_release(int lock_fd);
// The same for a folder: makes $TMPDIR/PREFIXXXXXXX (else /tmp), locked for
// as long as *lock_fd is open, and returns its path (caller frees), or
// NULL with errno. First removes the folders of that prefix that killed
// processes left. Remove the folder (rp_remove_tree), then rp_temp_release.
char *rp_temp_dir_create(const char *prefix, int *lock_fd);
// Removes dir and everything in it (keep_top: only what is in it).
void rp_remove_tree(const char *dir, int keep_top);

// An unnamed temporary file for scratch data, gone once closed (whatever
// ends the process): in the folder of near (NULL: none) when its file
// system allows, else in $TMPDIR or /tmp. Its descriptor, or -1.
int rp_temp_scratch(const char *near);
// Gives the pages of bytes [from, from + len) of a scratch file back to the
// system, their contents gone (they read as zeros). 0, or -1 where the
// file system cannot.
int rp_scratch_drop(int fd, int64_t from, int64_t len);

// Where an output named path is written: the file a symbolic link points
// to (renaming onto the link would replace it with a file), else path.
// Caller frees.
char *rp_output_target(const char *path);

// Renames tmp onto target (rename(2): 0, or -1 with errno). A large file
// it replaces is let go in a short-lived process of its own, which the
// caller does not wait for: the kernel frees a file's pages and blocks
// when the last reference to it goes, 22 ms for a 97 MB WAV file here,
// and the rename would otherwise wait for that.
int rp_rename_into_place(const char *tmp, const char *target);
// In a child process: closes every descriptor from `from` on but a and b.
// Only async-signal-safe calls (a child of a process with threads).
void rp_close_all_but(int from, int a, int b);

// Whether an output named path can be created: its folder exists and is
// writable (a device or pipe is written in place: always). 0, or -1 with
// the reason in why ("out: No such file or directory").
int rp_output_dir_check(const char *path, char *why, size_t cap);

// Writes or reads exactly n bytes on fd, retrying short transfers and
// EINTR; 0, or -1 on an error or end of file (errno set for an error).
// Writes go RP_WRITE_PIECE bytes at a time (see io.c).
enum { RP_WRITE_PIECE = 32 << 10 };
int rp_write_all(int fd, const void *p, size_t n);
int rp_read_all(int fd, void *p, size_t n);
// Writes bytes to path through a temporary file in the same directory,
// renamed into place once complete: the old file survives any failure, and
// no temporary file is left. A symbolic link's file is replaced, not the
// link; a device or pipe (/dev/null, /dev/full, a FIFO) is written
// directly; a folder is an error.
rp_status rp_write_file_atomic(const char *path, const char *bytes, size_t len, rp_diags *d);
// The same without fsync, for a cache's files, which their readers check
// (a checksum): renaming a whole file into place is atomic against a
// killed process, and what a power cut leaves (an empty or torn file)
// fails its check. The fsync cost a render 1 to 17 ms at its end.
rp_status rp_write_cache_file(const char *path, const char *bytes, size_t len, rp_diags *d);

// Files watched for changes (--watch): each path's modification time and
// size, and for a folder those of every file in it. Paths that do not exist
// yet count too (a cast sheet created beside the chapter is a change).
enum { RP_WATCH_MAX = 4 };
typedef struct {
    const char *paths[RP_WATCH_MAX];  // borrowed
    int n;
    uint64_t stamp;
} rp_watch;

void rp_watch_init(rp_watch *w, const char *const *paths, int n);
// 1 when something changed since rp_watch_init or the last call that said
// so (and the new state is then the one compared against).
int rp_watch_changed(rp_watch *w);
// Waits out an editor's save (it may take several writes): sleeps
// RP_WATCH_SETTLE_MS and takes the files as they are then.
void rp_watch_settle(rp_watch *w);
// Polls every RP_WATCH_POLL_MS until something changes (1, settled) or
// *stop becomes non-zero (0).
int rp_watch_wait(rp_watch *w, volatile sig_atomic_t *stop);

#endif
