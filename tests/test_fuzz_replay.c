// SPDX-License-Identifier: GPL-3.0-or-later
// Runs every seed corpus and regression input of the fuzz targets
// (tests/fuzz/corpus/T, tests/fuzz/regressions/T) through the replay build
// of its target ($RP_BUILD/fuzz/replay_T), one process per file, so that a
// crash, an abort on a broken property, a sanitizer report or a hang (a
// time limit per file) fails that file's test alone. Each file is a test.
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

// Seconds one input may take (an ASan or valgrind build is slower).
#define FILE_TIMEOUT_S 60

static const char *const targets[] = {"parse", "cast", "preset", "layout"};

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

// Runs the replay program on one file; 1 when it exits 0 in time.
static int replay(const char *prog, const char *path)
{
    pid_t pid = fork();
    if (pid < 0)
        return 0;
    if (pid == 0) {
        // UBSan only prints unless told to stop; a report is a failure.
        setenv("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1", 0);
        if (!freopen("/dev/null", "w", stdout))
            _exit(127);
        alarm(FILE_TIMEOUT_S);
        execl(prog, prog, path, (char *)NULL);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid)
        return 0;
    if (WIFSIGNALED(status))
        fprintf(stderr, "%s %s: killed by signal %d%s\n", prog, path, WTERMSIG(status),
                WTERMSIG(status) == SIGALRM ? " (time limit)" : "");
    else if (WEXITSTATUS(status))
        fprintf(stderr, "%s %s: exit %d\n", prog, path, WEXITSTATUS(status));
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Every regular file of dir, in name order; returns how many there were.
static size_t replay_dir(const char *target, const char *dir)
{
    char prog[1024];
    const char *build = getenv("RP_BUILD");
    snprintf(prog, sizeof prog, "%s/fuzz/replay_%s", build && build[0] ? build : "build", target);
    DIR *dp = opendir(dir);
    if (!dp)
        return 0;
    char *names[4096];
    size_t n = 0, cap = sizeof names / sizeof names[0];
    struct dirent *e;
    while ((e = readdir(dp))) {
        if (e->d_name[0] == '.')
            continue;
        CHECK_MSG(n < cap, "%s: more than %zu files", dir, cap);
        if (n < cap)
            names[n++] = strdup(e->d_name);
    }
    closedir(dp);
    qsort(names, n, sizeof *names, cmp_name);
    size_t files = 0;
    for (size_t i = 0; i < n; i++) {
        char path[2048];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (names[i] && stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
            files++;
            int ok = replay(prog, path);
            if (ok)
                test_passed++;
            else
                test_failed++;
            printf("  %s  %s\n", ok ? "ok  " : "FAIL", path);
            fflush(stdout);
        }
        free(names[i]);
    }
    return files;
}

// Every target has a seed corpus; regressions come with findings.
static void replay_all(void)
{
    for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
        char dir[256];
        snprintf(dir, sizeof dir, "tests/fuzz/corpus/%s", targets[t]);
        size_t seeds = replay_dir(targets[t], dir);
        CHECK_MSG(seeds > 0, "no seed corpus in %s", dir);
        snprintf(dir, sizeof dir, "tests/fuzz/regressions/%s", targets[t]);
        replay_dir(targets[t], dir);
    }
}

int main(void)
{
    RUN(replay_all);
    return TEST_SUMMARY("test_fuzz_replay");
}
