// SPDX-License-Identifier: GPL-3.0-or-later
// Kills a render of a short chapter over an existing file at 50 points in
// time, and after each checks the file: the old one or the new one, byte
// for byte (the new one is a reference render), never missing, broken or
// anything between; after SIGINT or SIGTERM no temporary file is left and
// the exit status says which it was (SIGKILL may leave one: counted and
// removed). The points are fractions of the render's measured duration
// drawn from a seeded generator (SEED= to repeat a run; the seed is
// printed): half timed from the start of the process, half from the moment
// the temporary output appears, so that the last writes, the read-back and
// the rename are hit as often as synthesis and mixing. Three kills in five
// are SIGKILL; a third of the renders synthesize without the clip cache.
// The loudness target is high (-12 LUFS), so that the limiter costs
// loudness and a further pass corrects the gain: the render with the most
// writes, all of which must show as one change from the old file to the new.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "wav.h"

enum { PATH_CAP = 1024, KILLS = 50 };

static const char chapter[] =
    "# Night\n\n"
    "{bed rain fade=1}The storm had been building since dusk.\n\n"
    "{sfx thunder}\"Seven seconds,\" Mira said. \"It is coming closer.\"\n\n"
    "KESTREL: Drop pods inbound. Take cover.\n";
static const char other[] = "The wind rose over the hills.\n";

static char ch[PATH_CAP], out[PATH_CAP], ref[PATH_CAP], old[PATH_CAP], logpath[PATH_CAP];

static const char *at(char *buf, const char *name)
{
    snprintf(buf, PATH_CAP, "%s/%s", test_tmpdir(), name);
    return buf;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

// splitmix64 (Steele, Lea and Flood 2014): one draw in [0, 1).
static double uniform(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1p-53;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    *n = 0;
    if (f && fseek(f, 0, SEEK_END) == 0) {
        long len = ftell(f);
        buf = len >= 0 ? malloc((size_t)len + 1) : NULL;
        rewind(f);
        if (buf && fread(buf, 1, (size_t)len, f) == (size_t)len) {
            *n = (size_t)len;
        } else {
            free(buf);
            buf = NULL;
        }
    }
    if (f)
        fclose(f);
    return buf;
}

static void copy(const char *from, const char *to)
{
    size_t n;
    char *bytes = slurp(from, &n);
    FILE *f = bytes ? fopen(to, "wb") : NULL;
    int ok = f && fwrite(bytes, 1, n, f) == n;
    if (f)
        ok = fclose(f) == 0 && ok;
    CHECK_MSG(ok, "cannot copy %s", from);
    free(bytes);
}

// Starts radioplay render CHAPTER -o OUT over the old file, its output in
// logpath.
static pid_t start(int no_cache)
{
    copy(old, out);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        char *argv[] = {"radioplay", "render", ch, "-o", out, "-j", "2", "-q", "--loudness",
                        "-12", no_cache ? "--no-cache" : NULL, NULL};
        execv(radioplay_bin(), argv);
        _exit(127);
    }
    return pid;
}

// Whether a temporary output is there and its render holds its lock (a
// render creates the file, then locks it: in between, a render stopped and
// its file aged by hand, as below, would look killed). Read from
// /proc/locks, as taking the lock to try it could take it from the render.
static int temporary_locked(void)
{
    DIR *d = opendir(test_tmpdir());
    int locked = 0;
    for (struct dirent *e; d && !locked && (e = readdir(d));) {
        struct stat sb;
        if (!strstr(e->d_name, ".radioplay-") || fstatat(dirfd(d), e->d_name, &sb, 0) != 0)
            continue;
        // "1: FLOCK  ADVISORY  WRITE PID MAJOR:MINOR:INODE 0 EOF"
        char inode[32], line[256];
        snprintf(inode, sizeof inode, ":%llu ", (unsigned long long)sb.st_ino);
        FILE *f = fopen("/proc/locks", "r");
        while (f && !locked && fgets(line, sizeof line, f))
            locked = strstr(line, " FLOCK ") && strstr(line, inode);
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
    return locked;
}

static int ended(pid_t pid)
{
    siginfo_t info = {0};
    return waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid;
}

// Whether the process has stopped, read from /proc/PID/stat ("PID (comm) T").
static int stopped(pid_t pid)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    int got = f && fgets(line, sizeof line, f) != NULL;
    if (f)
        fclose(f);
    const char *paren = got ? strrchr(line, ')') : NULL;
    return paren && paren[1] == ' ' && paren[2] == 'T';
}

// Stops the render (SIGSTOP) and waits until it is stopped; 0 if it ended.
static int stop_render(pid_t pid)
{
    kill(pid, SIGSTOP);
    while (!stopped(pid))
        if (ended(pid))
            return 0;
    return 1;
}

// Waits until the temporary output appears, locked, and leaves the render
// stopped there (SIGSTOP: the caller sends SIGCONT, or kills it); 1, or 0
// if the render ended first. A render without the cache writes its file
// in a few milliseconds (it reads its measured mix back), too short a
// window to poll for: inotify wakes the test as the file is created, and
// the render is stopped at once, then let go a little at a time until its
// lock is taken.
static int await_temporary(pid_t pid)
{
    int in = inotify_init1(IN_CLOEXEC);
    int watch = in >= 0 ? inotify_add_watch(in, test_tmpdir(), IN_CREATE) : -1;
    CHECK_MSG(watch >= 0, "inotify: %s", strerror(errno));
    int seen = 0;
    while (watch >= 0 && !seen && !ended(pid)) {
        struct pollfd pf = {in, POLLIN, 0};
        if (poll(&pf, 1, 1) <= 0)
            continue;
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        ssize_t len = read(in, buf, sizeof buf);
        for (ssize_t at = 0; at < len && !seen;) {
            const struct inotify_event *e = (const struct inotify_event *)(buf + at);
            seen = e->len && strstr(e->name, ".radioplay-") && stop_render(pid);
            at += (ssize_t)(sizeof *e + e->len);
        }
    }
    while (seen && !temporary_locked()) {
        kill(pid, SIGCONT);
        sleep_s(0.00005);
        seen = stop_render(pid);
    }
    if (in >= 0)
        close(in);
    return seen;
}

// How long a render takes, and how long from its temporary output to its
// end, with and without the cache.
typedef struct {
    double total_s, write_s;
} timing;

static timing measure(int no_cache)
{
    double t0 = now_s();
    pid_t pid = start(no_cache);
    int seen = await_temporary(pid);
    kill(pid, SIGCONT);
    double t1 = now_s();
    int status;
    waitpid(pid, &status, 0);
    double t2 = now_s();
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "render exit %d", status);
    CHECK(seen);
    return (timing){t2 - t0, seen ? t2 - t1 : 0.0};
}

static int same_as(const char *bytes, size_t n, const char *path)
{
    size_t m;
    char *other_bytes = slurp(path, &m);
    int same = other_bytes && m == n && !memcmp(bytes, other_bytes, n);
    free(other_bytes);
    return same;
}

// The chapter, the reference render of it (which fills the cache) and the
// old file, made once for the tests that need them.
static void prepare(void)
{
    static int made;
    if (made++)
        return;
    char args[4 * PATH_CAP], *log = NULL;
    write_text(at(ch, "kill.txt"), chapter);
    at(out, "kill.wav");
    at(logpath, "kill.log");
    snprintf(args, sizeof args, "render %s -o %s -q --loudness -12", ch, at(ref, "ref.wav"));
    CHECK_INT(rp(args, &log), 0);
    free(log);
    char ch_other[PATH_CAP];
    write_text(at(ch_other, "other.txt"), other);
    snprintf(args, sizeof args, "render %s -o %s -q", ch_other, at(old, "old.wav"));
    CHECK_INT(rp(args, &log), 0);
    free(log);
}

static void test_kills_leave_the_old_or_the_new_file(void)
{
    const char *env = getenv("SEED");
    uint64_t seed = env && *env ? strtoull(env, NULL, 10) : 8;
    printf("  SEED=%llu\n", (unsigned long long)seed);
    prepare();
    timing t[2] = {measure(0), measure(1)};
    printf("  a render takes %.3f s (%.3f s from its temporary file), %.3f s without the cache "
           "(%.3f s)\n", t[0].total_s, t[0].write_s, t[1].total_s, t[1].write_s);
    int olds = 0, news = 0, left = 0;
    for (int i = 0; i < KILLS; i++) {
        // Periods 5, 2 and 3: every signal meets every start and cache.
        static const int sigs[] = {SIGKILL, SIGINT, SIGKILL, SIGTERM, SIGKILL};
        int sig = sigs[i % 5], from_temp = i % 2, no_cache = i % 3 == 2;
        const timing *tm = &t[no_cache];
        double delay = uniform(&seed) * 1.1 * (from_temp ? tm->write_s : tm->total_s);
        pid_t pid = start(no_cache);
        if (from_temp && await_temporary(pid))
            kill(pid, SIGCONT);
        sleep_s(delay);
        kill(pid, sig);
        int status;
        waitpid(pid, &status, 0);
        size_t n;
        char *now = slurp(out, &n);
        int is_old = now && same_as(now, n, old), is_new = now && same_as(now, n, ref);
        char what[160];
        snprintf(what, sizeof what, "kill %d: signal %d %.4f s after the %s%s", i, sig, delay,
                 from_temp ? "temporary file" : "start", no_cache ? ", no cache" : "");
        CHECK_MSG(is_old || is_new, "%s: %s", what,
                  now ? "the file is neither the old nor the new one" : "the file is missing");
        olds += is_old;
        news += is_new;
        if (sig == SIGKILL) {
            left += count_files(test_tmpdir(), ".radioplay-");
            remove_files(".radioplay-");
        } else {
            char *msg = read_text(logpath);
            int handled = WIFEXITED(status);
            CHECK_MSG(count_files(test_tmpdir(), ".radioplay-") == 0,
                      "%s: a temporary file is left", what);
            // Stopped: 1 and the old file; done before the signal: 0 and
            // the new one; killed before the handler was set: the old one.
            CHECK_MSG(handled ? WEXITSTATUS(status) == (is_old ? 1 : 0)
                              : WTERMSIG(status) == sig && is_old,
                      "%s: status %d with the %s file\n%s", what, status, is_old ? "old" : "new",
                      msg ? msg : "");
            CHECK_MSG(!handled || !is_old || (msg && strstr(msg, "interrupted")),
                      "%s: no word of the interruption\n%s", what, msg ? msg : "");
            free(msg);
        }
        free(now);
    }
    printf("  %d kills: %d left the old file, %d the new one; SIGKILL left %d temporary "
           "files (removed)\n", KILLS, olds, news, left);
}

// Makes the temporaries in the test folder look two minutes old.
static void age_temporaries(void)
{
    char cmd[2 * PATH_CAP], *said = NULL;
    snprintf(cmd, sizeof cmd, "touch -d '2 minutes ago' %s/.kill.wav.radioplay-*", test_tmpdir());
    CHECK_MSG(run(cmd, &said) == 0, "%s", said);
    free(said);
}

static int render_again(int no_cache)
{
    char args[4 * PATH_CAP], *log = NULL;
    snprintf(args, sizeof args, "render %s -o %s -q --loudness -12%s", ch, out,
             no_cache ? " --no-cache" : "");
    int rc = rp(args, &log);
    if (rc)
        printf("%s\n", log);
    free(log);
    return rc;
}

// What SIGKILL leaves, the next render to the same file removes, once it
// is a minute old; the temporary file of a render still going (here
// stopped, its file made to look old) is left alone, and that render ends
// well after the other.
static void test_the_next_render_removes_what_a_kill_left(void)
{
    prepare();
    pid_t pid = start(1);
    CHECK(await_temporary(pid));
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    CHECK_INT(count_files(test_tmpdir(), ".radioplay-"), 1);
    CHECK_INT(render_again(0), 0);
    CHECK_INT(count_files(test_tmpdir(), ".radioplay-"), 1);  // a minute not yet gone
    age_temporaries();
    CHECK_INT(render_again(0), 0);
    CHECK_INT(count_files(test_tmpdir(), ".radioplay-"), 0);
    CHECK(same_file(out, ref));
    pid = start(1);
    CHECK(await_temporary(pid));  // and stopped there
    age_temporaries();
    CHECK_INT(render_again(0), 0);
    CHECK_INT(count_files(test_tmpdir(), ".radioplay-"), 1);
    kill(pid, SIGCONT);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
    CHECK_INT(count_files(test_tmpdir(), ".radioplay-"), 0);
    CHECK(same_file(out, ref));
}

// The clips a render without the cache (--no-cache) synthesizes go in a
// folder of its own in $TMPDIR, removed as it ends. What SIGKILL leaves of
// it, the next such render removes, once it is a minute old; the folder of
// a render still going (here stopped, its folder made to look old) is left
// alone, and that render removes its own as it ends.
static void test_the_next_render_removes_the_clips_a_kill_left(void)
{
    char tmp[PATH_CAP], cmd[4 * PATH_CAP], *said = NULL;
    prepare();
    const char *was = getenv("TMPDIR");
    char *tmp_was = was ? strdup(was) : NULL;
    CHECK_INT(mkdir(at(tmp, "tmp"), 0700), 0);
    setenv("TMPDIR", tmp, 1);
    const char *clips = "radioplay-clips-";
    pid_t pid = start(1);
    CHECK(await_temporary(pid));  // its clips synthesized, the file begun
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    CHECK_INT(count_files(tmp, clips), 1);
    snprintf(cmd, sizeof cmd, "ls %s/%s*/clips | grep -c '[.]clip$'", tmp, clips);
    CHECK_MSG(run(cmd, &said) == 0 && atoi(said) >= 1, "no clips in the folder left: %s", said);
    free(said);
    CHECK_INT(render_again(1), 0);
    CHECK_INT(count_files(tmp, clips), 1);  // a minute not yet gone
    snprintf(cmd, sizeof cmd, "touch -d '2 minutes ago' %s/%s*", tmp, clips);
    CHECK_MSG(run(cmd, &said) == 0, "%s", said);
    free(said);
    CHECK_INT(render_again(1), 0);
    CHECK_INT(count_files(tmp, clips), 0);
    // A render stopped, its folder made to look old.
    pid = start(1);
    CHECK(await_temporary(pid));  // and stopped there
    CHECK_INT(count_files(tmp, clips), 1);
    CHECK_MSG(run(cmd, &said) == 0, "%s", said);
    free(said);
    CHECK_INT(render_again(1), 0);
    CHECK_INT(count_files(tmp, clips), 1);
    kill(pid, SIGCONT);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
    CHECK_INT(count_files(tmp, clips), 0);
    CHECK(same_file(out, ref));
    if (tmp_was)
        setenv("TMPDIR", tmp_was, 1);
    else
        unsetenv("TMPDIR");
    free(tmp_was);
}

int main(void)
{
    char cache[PATH_CAP];
    setenv("XDG_CACHE_HOME", at(cache, "cache"), 1);
    RUN(test_kills_leave_the_old_or_the_new_file);
    RUN(test_the_next_render_removes_what_a_kill_left);
    RUN(test_the_next_render_removes_the_clips_a_kill_left);
    return TEST_SUMMARY("test_kill");
}
