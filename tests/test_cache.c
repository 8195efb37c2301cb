// SPDX-License-Identifier: GPL-3.0-or-later
// The clip cache and the synthesis workers: every job starts from the same
// state, crashes are reported, clips survive kills and concurrent renders,
// least recently used clips go first; and the proof the issue asks for:
// -j1, -j2, a cold cache, a warm cache and no cache give byte-identical
// files.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rp_cache.h"
#include "rp_render.h"
#include "rp_worker.h"
#include "test.h"
#include "wav.h"

// ---- workers ---------------------------------------------------------------------

static int inits, jobs_run;

static rp_status count_init(void *user)
{
    (void)user;
    inits++;
    return RP_OK;
}

// Fails unless it is the first job its process has run since the zygote
// initialized: each job must start from the zygote's state.
static rp_status fresh_job(void *user, const void *req, size_t len)
{
    (void)user;
    jobs_run++;
    if (len == 5 && !memcmp(req, "crash", 5))
        abort();  // as espeak-ng's "stack smashing detected" does
    if (len == 4 && !memcmp(req, "fail", 4))
        return RP_ERR_INPUT;
    if (len == 4 && !memcmp(req, "hang", 4))
        for (;;)
            pause();
    return inits == 1 && jobs_run == 1 ? RP_OK : RP_ERR_SPEECH;
}

static void test_every_job_starts_from_the_zygote(void)
{
    rp_workers *w;
    setenv("RADIOPLAY_JOB_TIMEOUT", "1", 1);  // read by the zygote as it starts
    CHECK_INT(rp_workers_start(&w, 2, count_init, NULL, fresh_job, NULL), RP_OK);
    if (!w)
        return;
    enum { N = 12 };
    for (uint64_t i = 0; i < N; i++) {
        const char *req = i == 5 ? "crash" : i == 7 ? "fail" : i == 9 ? "hang" : "speak";
        CHECK_INT(rp_workers_submit(w, 100 + i, 0, req, strlen(req)), RP_OK);
    }
    CHECK_INT(rp_workers_pending(w), N);
    int seen[N] = {0};
    for (int k = 0; k < N; k++) {
        uint64_t id;
        rp_status result;
        int sig;
        if (rp_workers_next(w, NULL, &id, &result, &sig, NULL) != RP_OK) {
            CHECK_MSG(0, "the zygote stopped after %d replies", k);
            break;
        }
        CHECK(id >= 100 && id < 100 + N);
        if (id < 100 || id >= 100 + N)
            continue;
        seen[id - 100]++;
        if (id == 105) {
            CHECK_INT(sig, SIGABRT);  // a crash is reported, with its signal
        } else if (id == 109) {
            CHECK_INT(sig, SIGKILL);  // a hang is killed after the time limit
        } else if (id == 107) {
            CHECK_INT(result, RP_ERR_INPUT);
            CHECK_INT(sig, 0);
        } else {
            CHECK_MSG(result == RP_OK && sig == 0, "job %d: status %d signal %d",
                      (int)id - 100, result, sig);
        }
    }
    for (int i = 0; i < N; i++)
        CHECK_INT(seen[i], 1);
    CHECK_INT(rp_workers_pending(w), 0);
    CHECK_INT(inits, 0);  // the caller's own state is untouched
    rp_workers_stop(w);
    unsetenv("RADIOPLAY_JOB_TIMEOUT");
}

// Grouped jobs: "G:kind" in group G. The group's zygote prepares once
// (and says so in the file user names, with its pid); each job checks
// that it is a child of that zygote, that the zygote prepared once and
// for its own group, and that no job ran before it in its process.
static int prepares;
static char prepared_for;
static pid_t prepared_by;

static rp_status group_prepare(void *user, const void *req, size_t len)
{
    FILE *f = fopen(user, "a");
    if (f) {
        fprintf(f, "%c %ld\n", len ? *(const char *)req : '?', (long)getpid());
        fclose(f);
    }
    if (len && *(const char *)req == 'x')  // group x cannot be prepared
        return RP_ERR_VOICE;
    prepares++;
    prepared_for = len ? *(const char *)req : 0;
    prepared_by = getpid();
    return RP_OK;
}

static rp_status group_job(void *user, const void *req, size_t len)
{
    (void)user;
    const char *r = req;
    jobs_run++;
    if (len > 2 && !strncmp(r + 2, "crash", len - 2))
        abort();
    if (len > 2 && !strncmp(r + 2, "hang", len - 2))
        for (;;)
            pause();
    if (len > 2 && !strncmp(r + 2, "orphan", len - 2)) {  // ends its group's zygote
        kill(getppid(), SIGKILL);
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
        return RP_OK;
    }
    if (len > 2 && !strncmp(r + 2, "parricide", len - 2)) {  // ends the pool's zygote
        FILE *f = fopen(user, "a");
        if (f) {
            fprintf(f, "k %ld\n", (long)getpid());
            fclose(f);
        }
        kill(getppid(), SIGKILL);
        sleep(3);
        return RP_OK;
    }
    if (len > 2 && !strncmp(r + 2, "slow", len - 2)) {  // a retry, told apart by its status
        struct timespec ts = {0, 600 * 1000 * 1000};
        nanosleep(&ts, NULL);
        return RP_ERR_INPUT;
    }
    if (len > 2 && !strncmp(r + 2, "flood", len - 2)) {  // more notes than any pipe holds
        for (uint32_t k = 1; k <= 100000; k++)
            rp_worker_note(k);
        return RP_OK;
    }
    if (len > 2 && !strncmp(r + 2, "notes", len - 2)) {
        // Three notes, then (in a group) waits for the caller to say it
        // heard them: they reach it while the job runs.
        for (uint32_t k = 1; k <= 3; k++)
            rp_worker_note(k);
        if (r[0] == '-')
            return RP_OK;
        char heard[1200];
        snprintf(heard, sizeof heard, "%s.heard", (const char *)user);
        for (int t = 0; t < 500; t++) {
            if (access(heard, F_OK) == 0)
                return RP_OK;
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        return RP_ERR_IO;
    }
    if (r[0] == '-')  // in no group: straight from the pool's zygote
        return prepares == 0 && prepared_for == 0 && jobs_run == 1 ? RP_OK : RP_ERR_SPEECH;
    return prepares == 1 && prepared_for == r[0] && prepared_by == getppid() && jobs_run == 1
               ? RP_OK
               : RP_ERR_SPEECH;
}

// Submits n requests (ids from id0) and checks each reply against want
// (RP_OK unless the request is a crash, a hang, an orphan or in group x).
static void grouped_round(rp_workers *w, const char *const *reqs, int n, uint64_t id0)
{
    for (int i = 0; i < n; i++) {
        uint64_t group = reqs[i][0] == '-' ? 0 : (uint64_t)(unsigned char)reqs[i][0];
        CHECK_INT(rp_workers_submit(w, id0 + (uint64_t)i, group, reqs[i], strlen(reqs[i])),
                  RP_OK);
    }
    int seen[32] = {0};
    for (int k = 0; k < n; k++) {
        uint64_t id;
        rp_status result;
        int sig;
        if (rp_workers_next(w, NULL, &id, &result, &sig, NULL) != RP_OK) {
            CHECK_MSG(0, "the zygote stopped after %d replies", k);
            return;
        }
        int i = (int)(id - id0);
        CHECK(i >= 0 && i < n);
        if (i < 0 || i >= n)
            continue;
        seen[i]++;
        const char *r = reqs[i];
        if (strstr(r, "crash"))
            CHECK_INT(sig, SIGABRT);
        else if (strstr(r, "hang") || strstr(r, "orphan"))
            CHECK_MSG(sig == SIGKILL && result != RP_OK, "%s: status %d signal %d", r, result,
                      sig);
        else if (r[0] == 'x')
            CHECK_MSG(result == RP_ERR_VOICE && sig == 0, "%s: status %d", r, result);
        else
            CHECK_MSG(result == RP_OK && sig == 0, "%s: status %d signal %d", r, result, sig);
    }
    for (int i = 0; i < n; i++)
        CHECK_MSG(seen[i] == 1, "%s: %d replies", reqs[i], seen[i]);
}

// A job's process, forked from the zygote, holds none of the files its
// caller had open when it started the pool (an output's temporary file,
// say, would stay open for as long as the zygote lived): the caller's
// descriptor is closed there, and a job fails while it is open.
static int caller_fd = -1;

static rp_status fd_job(void *user, const void *req, size_t len)
{
    (void)user, (void)req, (void)len;
    return fcntl(caller_fd, F_GETFD) == -1 && errno == EBADF ? RP_OK : RP_ERR_IO;
}

static void test_jobs_hold_none_of_the_caller_s_files(void)
{
    caller_fd = open(tmp(0, "held.txt"), O_WRONLY | O_CREAT, 0644);
    CHECK(caller_fd >= 0);
    rp_workers *w = NULL;
    CHECK_INT(rp_workers_start(&w, 2, NULL, NULL, fd_job, NULL), RP_OK);
    for (uint64_t i = 0; w && i < 3; i++)
        CHECK_INT(rp_workers_submit(w, i, 0, "x", 1), RP_OK);
    for (int k = 0; w && k < 3; k++) {
        uint64_t id;
        rp_status result = RP_ERR_IO;
        int sig = 0;
        CHECK_INT(rp_workers_next(w, NULL, &id, &result, &sig, NULL), RP_OK);
        CHECK_MSG(result == RP_OK && sig == 0, "a job held the caller's file (status %d)",
                  result);
    }
    if (w)
        rp_workers_stop(w);
    close(caller_fd);
    test_remove(tmp(0, "held.txt"));
}

// A pool of 2 workers running group_job, prepared by group_prepare, which
// notes each preparation in the file at path; NULL (a failed check) when
// it cannot start.
static rp_workers *grouped_pool(const char *path)
{
    rp_workers *w = NULL;
    CHECK_INT(rp_workers_start(&w, 2, NULL, group_prepare, group_job, (void *)path), RP_OK);
    return w;
}

// How many lines of the preparations' file start with c.
static int prepared_lines(const char *path, char c)
{
    char *text = read_text(path);
    int n = 0;
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : "")
        n += *l == c;
    free(text);
    return n;
}

static void test_a_group_prepares_once_and_its_jobs_start_from_that(void)
{
    const char *path = tmp(0, "prepared.txt");
    setenv("RADIOPLAY_JOB_TIMEOUT", "1", 1);
    rp_workers *w = grouped_pool(path);
    if (!w)
        return;
    static const char *const first[] = {
        "a:speak", "b:speak", "a:speak", "-:speak", "c:speak", "b:crash", "a:speak",
        "x:speak", "c:speak", "b:speak", "c:hang", "x:speak", "a:speak", "-:speak",
        "d:orphan", "b:speak", "c:speak"};
    grouped_round(w, first, (int)(sizeof first / sizeof *first), 100);
    // Its zygote killed, group d gets a new one, prepared again.
    static const char *const after[] = {"d:speak", "d:speak", "a:speak"};
    grouped_round(w, after, 3, 200);
    CHECK_INT(rp_workers_pending(w), 0);
    rp_workers_stop(w);
    unsetenv("RADIOPLAY_JOB_TIMEOUT");
    CHECK_INT(prepares, 0);  // the caller's own state is untouched
    for (const char *g = "abc"; *g; g++)
        CHECK_MSG(prepared_lines(path, *g) == 1, "group %c prepared %d times", *g,
                  prepared_lines(path, *g));
    CHECK_INT(prepared_lines(path, 'd'), 2);
    CHECK_INT(prepared_lines(path, 'x'), 1);  // failed, and said so to each of its jobs
    CHECK_INT(prepared_lines(path, '-'), 0);  // jobs in no group are not prepared
    test_remove(path);
}

// A group's job tells its caller how it is doing before it ends: its
// notes come in order, while it still runs (it waits to hear that they
// did), and before its end, which alone counts as the job's reply;
// rp_workers_next with no note passes them over; a job in no group sends none.
static void test_a_job_s_notes_come_while_it_runs(void)
{
    const char *path = tmp(0, "prepared.txt");
    char heard[1200];
    snprintf(heard, sizeof heard, "%s.heard", path);
    test_remove(heard);
    rp_workers *w = grouped_pool(path);
    if (!w)
        return;
    CHECK_INT(rp_workers_submit(w, 1, 'n', "n:notes", 7), RP_OK);
    CHECK_INT(rp_workers_submit(w, 2, 0, "-:notes", 7), RP_OK);
    int notes = 0, ended[3] = {0};
    for (int k = 0; k < 10 && ended[1] + ended[2] < 2; k++) {
        uint64_t id = 0;
        rp_status result = RP_ERR_IO;
        int sig = -1;
        int64_t note = -2;
        if (rp_workers_next(w, NULL, &id, &result, &sig, &note) != RP_OK) {
            CHECK_MSG(0, "the zygote stopped after %d replies", k);
            break;
        }
        CHECK(id == 1 || id == 2);
        if (note >= 0) {
            CHECK_MSG(id == 1 && !ended[1], "a note from job %d (ended: %d)", (int)id,
                      id < 3 ? ended[id] : -1);
            CHECK_INT(note, ++notes);
            CHECK_MSG(result == RP_OK && sig == 0, "a note with status %d signal %d", result, sig);
            CHECK_INT(rp_workers_pending(w), 2 - ended[1] - ended[2]);
            if (note == 3)
                write_text(heard, "");
            continue;
        }
        if (id == 1 || id == 2)
            ended[id]++;
        CHECK_MSG(result == RP_OK && sig == 0, "job %d: status %d signal %d", (int)id, result,
                  sig);
    }
    CHECK_INT(notes, 3);
    CHECK_INT(ended[1], 1);
    CHECK_INT(ended[2], 1);
    // Passed over: the next reply is the job's end.
    CHECK_INT(rp_workers_submit(w, 3, 'n', "n:notes", 7), RP_OK);
    uint64_t id = 0;
    rp_status result = RP_ERR_IO;
    int sig = -1;
    CHECK_INT(rp_workers_next(w, NULL, &id, &result, &sig, NULL), RP_OK);
    CHECK_MSG(id == 3 && result == RP_OK && sig == 0, "job %d: status %d signal %d", (int)id,
              result, sig);
    CHECK_INT(rp_workers_pending(w), 0);
    // A caller that reads nothing for a while: the notes that find the
    // pipes full are dropped, not waited for; those that come are in order,
    // and the job's end comes after them.
    CHECK_INT(rp_workers_submit(w, 4, 'n', "n:flood", 7), RP_OK);
    struct timespec pause_ts = {1, 0};
    nanosleep(&pause_ts, NULL);
    int64_t last = 0, got = 0, note = -1;
    do {
        if (rp_workers_next(w, NULL, &id, &result, &sig, &note) != RP_OK)
            break;
        CHECK(id == 4);
        if (note >= 0) {
            CHECK_MSG(note > last, "note %lld after %lld", (long long)note, (long long)last);
            last = note;
            got++;
        }
    } while (note >= 0);
    CHECK_MSG(note < 0 && result == RP_OK && got > 0 && got < 100000,
              "%lld of 100000 notes, then the end (status %d)", (long long)got, result);
    printf("  a flood of notes, unread for a second: %lld of 100000 came, in order\n",
           (long long)got);
    rp_workers_stop(w);
    test_remove(heard);
    test_remove(path);
}

// Whether process pid has ended: gone, or a zombie not yet reaped.
static int process_ended(pid_t pid)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    const char *paren = f && fgets(line, sizeof line, f) ? strrchr(line, ')') : NULL;
    if (f)
        fclose(f);
    return !paren || (paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X'));
}

// The process id a job or zygote noted in the preparations' file as its
// first line, "c PID" (0: none).
static pid_t noted_pid(const char *path, char c)
{
    char *text = read_text(path);
    long pid = text && text[0] == c ? strtol(text + 1, NULL, 10) : 0;
    free(text);
    return (pid_t)pid;
}

// Process pid (a zygote: whose) has /dev/null on 1 and 2.
static void check_quiet(pid_t pid, const char *whose)
{
    for (int fd = 1; pid > 1 && fd <= 2; fd++) {
        char link[64], to[256] = "";
        snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)pid, fd);
        ssize_t n = readlink(link, to, sizeof to - 1);
        to[n > 0 ? n : 0] = '\0';
        CHECK_MSG(!strcmp(to, "/dev/null"), "the %s zygote's descriptor %d is %s", whose, fd, to);
    }
}

// A group's zygote that dies while none of its jobs runs (the OOM killer)
// is found when its group's next job comes: a new one is prepared, and
// the job runs there.
static void test_a_group_whose_zygote_died_between_jobs_gets_a_new_one(void)
{
    const char *path = tmp(0, "prepared.txt");
    rp_workers *w = grouped_pool(path);
    if (!w)
        return;
    static const char *const one[] = {"f:speak"}, *const two[] = {"f:speak", "f:speak"};
    grouped_round(w, one, 1, 300);
    pid_t pid = noted_pid(path, 'f');  // the group's zygote
    CHECK(pid > 1);
    if (pid > 1) {
        kill(pid, SIGKILL);
        for (int k = 0; k < 2000 && !process_ended(pid); k++)
            usleep(1000);
        CHECK(process_ended(pid));
    }
    grouped_round(w, two, 2, 400);
    CHECK_INT(rp_workers_pending(w), 0);
    rp_workers_stop(w);
    CHECK_INT(prepared_lines(path, 'f'), 2);
    test_remove(path);
}

// A group's zygote holds none of its caller's standard output and error
// (they are /dev/null in it): when the pool stops, the groups end on their
// own, after the caller, and must not keep a pipe it writes to open.
// They do end.
static void test_a_group_s_zygote_ends_on_its_own_holding_no_caller_s_pipe(void)
{
    const char *path = tmp(0, "prepared.txt");
    rp_workers *w = grouped_pool(path);
    if (!w)
        return;
    static const char *const one[] = {"g:speak"};
    grouped_round(w, one, 1, 500);
    pid_t pid = noted_pid(path, 'g');  // the group's zygote
    CHECK(pid > 1);
    check_quiet(pid, "group's");
    rp_workers_stop(w);
    for (int k = 0; pid > 1 && k < 10000 && !process_ended(pid); k++)
        usleep(1000);
    CHECK(pid > 1 && process_ended(pid));
    test_remove(path);
}

// The pool's zygote notes its pid ("z PID") as it starts.
static rp_status note_zygote(void *user)
{
    FILE *f = fopen(user, "a");
    if (f) {
        fprintf(f, "z %ld\n", (long)getpid());
        fclose(f);
    }
    return RP_OK;
}

// A program at its end leaves the pool rather than stop it: the zygote's
// exit is not waited for (a cold render's end waited 3 to 6 ms for it). It
// ends on its own, the caller's child still (waited for here), and holds
// none of the caller's output meanwhile (/dev/null on 1 and 2).
static void test_a_pool_left_ends_on_its_own_not_waited_for(void)
{
    const char *path = tmp(0, "prepared.txt");
    rp_workers *w = NULL;
    CHECK_INT(rp_workers_start(&w, 2, note_zygote, group_prepare, group_job, (void *)path),
              RP_OK);
    if (!w)
        return;
    static const char *const one[] = {"-:speak"};
    grouped_round(w, one, 1, 600);
    pid_t pid = noted_pid(path, 'z');
    CHECK(pid > 1);
    check_quiet(pid, "pool's");
    rp_workers_leave(w);
    int status = -1;
    pid_t got = 0;  // waited for 10 s at most: a zygote that did not end fails
    for (int k = 0; pid > 1 && got == 0 && k < 10000; k++) {
        got = waitpid(pid, &status, WNOHANG);
        if (got == 0)
            usleep(1000);
    }
    CHECK_MSG(got == pid, "the zygote: %s",
              got < 0   ? strerror(errno)  // ECHILD: waited for already
              : got == 0 ? "still running after 10 s"
                         : "another child");
    CHECK(got == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    test_remove(path);
}

// When the pool's zygote itself dies (here killed by its job), the caller
// hears of it at once, not when the jobs still running end: they do not
// hold its reply pipe.
static void test_the_caller_hears_at_once_of_its_zygote_dying(void)
{
    const char *path = tmp(0, "prepared.txt");
    rp_workers *w = grouped_pool(path);
    if (!w)
        return;
    CHECK_INT(rp_workers_submit(w, 9, 0, "-:parricide", 11), RP_OK);
    uint64_t id;
    rp_status result;
    int sig;
    CHECK(rp_workers_next(w, NULL, &id, &result, &sig, NULL) != RP_OK);
    pid_t pid = noted_pid(path, 'k');  // the job
    CHECK(pid > 1);
    CHECK_MSG(pid > 1 && !process_ended(pid), "the caller heard only once its job ended");
    rp_workers_stop(w);  // ends the job too (the zygote's process group)
    test_remove(path);
}

// A job whose group's zygote is killed under it is reported at once (with
// SIGKILL); the job itself goes on, and replies 200 ms later. The caller
// retries it under the same id, in a new zygote of the group: the reply
// to that id must be the retry's (600 ms, RP_ERR_INPUT), not the late one
// (RP_OK).
static void test_a_late_reply_does_not_stand_for_a_retry(void)
{
    const char *path = tmp(0, "prepared.txt");
    rp_workers *w = grouped_pool(path);
    if (!w)
        return;
    static const char *const tries[] = {"e:orphan", "e:slow"};
    for (int k = 0; k < 2; k++) {
        CHECK_INT(rp_workers_submit(w, 7, 'e', tries[k], strlen(tries[k])), RP_OK);
        uint64_t id = 0;
        rp_status result = RP_OK;
        int sig = 0;
        CHECK_INT(rp_workers_next(w, NULL, &id, &result, &sig, NULL), RP_OK);
        CHECK_INT(id, 7);
        if (k == 0)
            CHECK_MSG(sig == SIGKILL && result != RP_OK, "status %d signal %d", result, sig);
        else
            CHECK_MSG(result == RP_ERR_INPUT && sig == 0, "the retry's reply: status %d signal %d",
                      result, sig);
    }
    CHECK_INT(rp_workers_pending(w), 0);
    rp_workers_stop(w);
    CHECK_INT(prepared_lines(path, 'e'), 2);
    test_remove(path);
}

// How long this process has run (/proc/self/stat's start time against
// /proc/uptime, in clock ticks); -1 when unknown.
static double process_age_s(void)
{
    char line[1024];
    double up = -1, start = -1;
    FILE *f = fopen("/proc/uptime", "r");
    if (f && fscanf(f, "%lf", &up) != 1)
        up = -1;
    if (f)
        fclose(f);
    f = fopen("/proc/self/stat", "r");
    const char *p = f && fgets(line, sizeof line, f) ? strrchr(line, ')') : NULL;
    if (f)
        fclose(f);
    // After "PID (comm)": the state is field 3 and the start time field 22.
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    if (p)
        start = strtod(p + 1, NULL) / (double)sysconf(_SC_CLK_TCK);
    return up < 0 || start < 0 ? -1 : up - start;
}

static rp_status aged_job(void *user, const void *req, size_t len)
{
    (void)user;
    (void)req;
    (void)len;
    double age = process_age_s();
    return age >= 0.15 ? RP_OK : age >= 0 ? RP_ERR_INPUT : RP_ERR_IO;
}

// A job starts in a process forked ahead of it (the spare), not in one
// forked when it comes: submitted 0.3 s after the pool started, it runs in
// a process that old.
static void test_a_job_runs_in_a_process_forked_ahead(void)
{
    rp_workers *w;
    CHECK_INT(rp_workers_start(&w, 1, NULL, NULL, aged_job, NULL), RP_OK);
    if (!w)
        return;
    struct timespec ts = {0, 300 * 1000 * 1000};
    nanosleep(&ts, NULL);
    CHECK_INT(rp_workers_submit(w, 1, 0, "x", 1), RP_OK);
    uint64_t id;
    rp_status result;
    int sig;
    CHECK_INT(rp_workers_next(w, NULL, &id, &result, &sig, NULL), RP_OK);
    CHECK_MSG(result == RP_OK && sig == 0, "the job's process was new (status %d: %s)", result,
              result == RP_ERR_INPUT ? "younger than 0.15 s" : "its age unknown");
    rp_workers_stop(w);
}

// ---- the cache itself --------------------------------------------------------------

// A cache in a temporary folder of the test's slot; NULL (a failed check)
// when it cannot be opened.
static rp_cache *open_cache(int slot, const char *name)
{
    rp_cache *c = NULL;
    rp_diags d;
    rp_diags_init(&d);
    CHECK_INT(rp_cache_open(&c, tmp(slot, name), &d), RP_OK);
    rp_diags_deinit(&d);
    return c;
}

static rp_clip make_clip(int64_t n, float seed)
{
    rp_clip c = {.n_frames = n, .rate_hz = 48000, .n_words = 2};
    c.pcm = malloc((size_t)n * sizeof *c.pcm);
    c.words = malloc(2 * sizeof *c.words);
    for (int64_t i = 0; i < n; i++)
        c.pcm[i] = sinf((float)i * 0.01f * seed);
    c.words[0] = (rp_word_mark){0, 10};
    c.words[1] = (rp_word_mark){6, n / 2};
    return c;
}

// Flips the bits of mask in the byte at from_end bytes before a file's end.
static int flip_bits(const char *path, long from_end, int mask)
{
    FILE *f = fopen(path, "r+b");
    if (!f)
        return 0;
    int ok = fseek(f, from_end, SEEK_END) == 0;
    int b = ok ? fgetc(f) : EOF;
    ok = b != EOF && fseek(f, from_end, SEEK_END) == 0 && fputc(b ^ mask, f) != EOF;
    return fclose(f) == 0 && ok;
}

static void test_clips_round_trip_and_damage_is_caught(void)
{
    rp_cache *c = open_cache(0, "cache-a");
    if (!c)
        return;
    rp_clip in = make_clip(48000, 1.0f), out, info;
    rp_cache_key k = rp_cache_key_of("hello", 5);
    CHECK(rp_cache_get_clip_info(c, k, &info) == RP_ERR_IO);  // a miss
    CHECK_INT(rp_cache_put_clip(c, k, &in), RP_OK);
    CHECK_INT(rp_cache_get_clip_info(c, k, &info), RP_OK);
    CHECK_INT(info.n_frames, 48000);
    CHECK(info.pcm == NULL);
    CHECK_INT(info.n_words, 2);
    CHECK_INT(info.words[1].frame, 24000);
    CHECK_INT(rp_cache_get_clip(c, k, &out), RP_OK);
    // Stored as 16-bit samples: within half a step of what went in, and
    // exactly what espeak-ng's own samples (multiples of 1/32768) were.
    float worst = 0.0f;
    for (int64_t i = 0; out.pcm && i < 48000; i++)
        if (fabsf(in.pcm[i]) < 0.999f)  // the clipped top is below
            worst = fmaxf(worst, fabsf(out.pcm[i] - in.pcm[i]));
    CHECK_MSG(out.pcm && worst <= 0.5f / 32768.0f, "off by %g", (double)worst);
    rp_clip_deinit(&out);
    for (int64_t i = 0; i < 48000; i++)
        in.pcm[i] = (float)(i % 65536 - 32768) / 32768.0f;
    in.pcm[1] = 1.0f;  // a full-scale float is clipped a step short
    CHECK_INT(rp_cache_put_clip(c, k, &in), RP_OK);
    CHECK_INT(rp_cache_get_clip(c, k, &out), RP_OK);
    CHECK(out.pcm && out.pcm[1] == 32767.0f / 32768.0f);
    in.pcm[1] = out.pcm ? out.pcm[1] : 0.0f;
    CHECK(out.pcm && !memcmp(out.pcm, in.pcm, 48000 * sizeof(float)));
    rp_clip_deinit(&out);
    rp_clip_deinit(&info);

    // One flipped bit in the samples: the checksum catches it, and the clip
    // is removed, to be synthesized again.
    char path[4300];
    rp_cache_clip_path(c, k, path, sizeof path);
    CHECK(flip_bits(path, -1000, 4));
    CHECK(rp_cache_get_clip(c, k, &out) == RP_ERR_IO);
    CHECK(!file_exists(path));
    // The word marks, after the samples, are checked as well.
    CHECK_INT(rp_cache_put_clip(c, k, &in), RP_OK);
    CHECK(flip_bits(path, -5, 1));
    CHECK(rp_cache_get_clip(c, k, &out) == RP_ERR_IO);
    CHECK(!file_exists(path));
    // A clip an older radioplay kept in a folder per key prefix is found,
    // and moved to its place in the one folder.
    CHECK_INT(rp_cache_put_clip(c, k, &in), RP_OK);
    char hex[33], old_dir[4300], old[4400];
    rp_cache_key_hex(k, hex);
    snprintf(old_dir, sizeof old_dir, "%s/clips/%.2s", rp_cache_dir(c), hex);
    snprintf(old, sizeof old, "%s/%s.clip", old_dir, hex);
    CHECK(mkdir(old_dir, 0777) == 0 && rename(path, old) == 0);
    CHECK_INT(rp_cache_get_clip_info(c, k, &info), RP_OK);
    CHECK_INT(info.n_frames, 48000);
    rp_clip_deinit(&info);
    CHECK(file_exists(path) && !file_exists(old) && !file_exists(old_dir));
    // A torn file (cut short) is a miss even for its length alone.
    CHECK_INT(rp_cache_put_clip(c, k, &in), RP_OK);
    CHECK(truncate(path, 5000) == 0);
    CHECK(rp_cache_get_clip_info(c, k, &info) == RP_ERR_IO);
    // Values.
    double v = 0;
    CHECK(rp_cache_get_value(c, 42, &v) != 0);
    rp_cache_put_value(c, 42, -7.25);
    CHECK(rp_cache_get_value(c, 42, &v) == 0 && v == -7.25);
    // A value is written without fsync, with a checksum of its text: what
    // a power cut leaves of it (cut short, empty, a digit gone wrong), and
    // an older radioplay's file without a checksum, is no value.
    char value[4300];
    snprintf(value, sizeof value, "%s/values/%016llx", rp_cache_dir(c), 42ull);
    char *text = read_text(value);
    CHECK(text && strchr(text, ' '));
    for (int i = 0; text && i < 4; i++) {
        char bad[64];
        if (i == 0)  // cut short
            snprintf(bad, sizeof bad, "%.*s", (int)strlen(text) - 3, text);
        else if (i == 1)  // empty
            bad[0] = '\0';
        else if (i == 2)  // a digit wrong
            snprintf(bad, sizeof bad, "-7.35%s", strchr(text, ' '));
        else  // an older radioplay's
            snprintf(bad, sizeof bad, "-7.25\n");
        write_text(value, bad);
        v = 0;
        CHECK_MSG(rp_cache_get_value(c, 42, &v) != 0, "'%s' was read as %g", bad, v);
    }
    free(text);
    uint64_t removed = 0;
    CHECK_INT(rp_cache_clear(c, &removed), RP_OK);
    CHECK(rp_cache_get_value(c, 42, &v) != 0);
    rp_clip_deinit(&in);
    rp_cache_close(c);
}

// A job writes its clip as it is resampled, in pieces of whatever size
// soxr hands out: the file is the one the whole clip makes, byte for byte,
// and a clip given up half written leaves nothing behind.
static void test_a_clip_written_in_pieces_is_the_same_file(void)
{
    rp_cache *c = open_cache(4, "cache-pieces");
    if (!c)
        return;
    // Longer than the writer's chunk, so pieces straddle its edges.
    rp_clip in = make_clip(40000, 0.7f);
    rp_cache_key whole = rp_cache_key_of("whole", 5), pieces = rp_cache_key_of("pieces", 6);
    CHECK_INT(rp_cache_put_clip(c, whole, &in), RP_OK);
    rp_clip_writer *w = NULL;
    CHECK_INT(rp_cache_clip_begin(c, pieces, 48000, &w), RP_OK);
    const size_t cuts[] = {1, 7, 16383, 3, 20000};
    size_t at = 0;
    for (size_t i = 0; w && i < sizeof cuts / sizeof cuts[0]; i++) {
        rp_cache_clip_add(w, in.pcm + at, cuts[i]);
        at += cuts[i];
    }
    if (w) {
        rp_cache_clip_add(w, in.pcm + at, (size_t)in.n_frames - at);
        CHECK_INT(rp_cache_clip_frames(w), 40000);
    }
    CHECK_INT(rp_cache_clip_end(w, in.words, in.n_words, in.voiced_frames, 1), RP_OK);
    char a[4300], b[4300];
    rp_cache_clip_path(c, whole, a, sizeof a);
    rp_cache_clip_path(c, pieces, b, sizeof b);
    struct stat sa;
    CHECK(stat(a, &sa) == 0 && sa.st_size == 40 + 40000 * 2 + 2 * (long)sizeof(rp_word_mark));
    CHECK(same_file(a, b));
    rp_clip out;
    CHECK_INT(rp_cache_get_clip(c, pieces, &out), RP_OK);
    CHECK(out.n_words == 2 && out.words[1].frame == 20000);
    rp_clip_deinit(&out);
    // Given up: no clip, and no temporary left.
    rp_cache_key gone = rp_cache_key_of("gone", 4);
    CHECK_INT(rp_cache_clip_begin(c, gone, 48000, &w), RP_OK);
    if (w)
        rp_cache_clip_add(w, in.pcm, 1000);
    CHECK_INT(rp_cache_clip_end(w, in.words, in.n_words, 0, 0), RP_OK);
    CHECK(rp_cache_get_clip_info(c, gone, &out) == RP_ERR_IO);
    rp_cache_stats stats;
    CHECK_INT(rp_cache_stat(c, &stats), RP_OK);
    CHECK_INT(stats.clips, 2);
    CHECK_INT(stats.temporaries, 0);
    rp_clip_deinit(&in);
    rp_cache_close(c);
}

// The rounding to 16 bits, in the clip writer's four-at-a-time loop and in
// its tail alike: the nearest step with ties to even, full scale clamped,
// NaN stored as 0.
static void test_samples_round_to_the_nearest_step(void)
{
    rp_cache *c = open_cache(0, "cache-r");
    if (!c)
        return;
    enum { N = 4003 };  // not a multiple of four: the tail too
    rp_clip in = make_clip(N, 0.0f), out;
    int16_t want[N];
    for (int i = 0; i < N; i++) {
        double step = (double)(i % 2000 - 1000) + (i / 2000 % 2 ? 0.5 : 0.25 * (i % 3));
        in.pcm[i] = (float)(step / 32768.0);
        want[i] = (int16_t)nearbyint(step);  // ties to even
    }
    const float odd[] = {1.0f, -1.0f, 2.0f, -2.0f, INFINITY, -INFINITY, NAN, 1e30f, -1e30f,
                         32766.5f / 32768.0f, -32767.5f / 32768.0f, 0.5f / 32768.0f};
    const int16_t odd_want[] = {32767, -32768, 32767, -32768, 32767, -32768, 0, 32767, -32768,
                                32766, -32768, 0};
    for (size_t k = 0; k < sizeof odd / sizeof odd[0]; k++) {
        size_t at[] = {k * 5, N - 1 - k};  // in the vector loop, in the tail
        for (int j = 0; j < 2; j++) {
            in.pcm[at[j]] = odd[k];
            want[at[j]] = odd_want[k];
        }
    }
    rp_cache_key k = rp_cache_key_of("round", 5);
    CHECK_INT(rp_cache_put_clip(c, k, &in), RP_OK);
    CHECK_INT(rp_cache_get_clip(c, k, &out), RP_OK);
    int wrong = 0, first = -1;
    for (int i = 0; out.pcm && i < N; i++)
        if (out.pcm[i] != want[i] / 32768.0f && wrong++ == 0)
            first = i;
    CHECK_MSG(out.pcm && wrong == 0, "%d samples wrong, the first at %d (%a)", wrong, first,
              first >= 0 ? (double)in.pcm[first] : 0.0);
    rp_clip_deinit(&out);
    rp_clip_deinit(&in);
    rp_cache_close(c);
}

static void set_age(const char *path, time_t age_s)
{
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= age_s;
    tv[1] = tv[0];
    utimes(path, tv);
}

static void test_trim_removes_the_least_recently_used(void)
{
    enum { N = 10 };
    // Room for about four clips of 400 kB.
    setenv("RADIOPLAY_CACHE_SIZE", "1700K", 1);
    rp_cache *c = open_cache(0, "cache-lru");
    unsetenv("RADIOPLAY_CACHE_SIZE");
    if (!c)
        return;
    char paths[N][4300];
    for (int i = 0; i < N; i++) {
        rp_clip clip = make_clip(100000, (float)i + 1);
        char name[16];
        snprintf(name, sizeof name, "clip%d", i);
        rp_cache_key k = rp_cache_key_of(name, strlen(name));
        CHECK_INT(rp_cache_put_clip(c, k, &clip), RP_OK);
        rp_cache_clip_path(c, k, paths[i], sizeof paths[i]);
        rp_clip_deinit(&clip);
        // Clip 0 was used longest ago ... clip 8 most recently; clip 9 is
        // in use right now.
        if (i < N - 1)
            set_age(paths[i], 10000 - i * 100);
    }
    // Using clip 1 makes it recent: it outlives clips 0, 2, 3...
    rp_clip info;
    CHECK_INT(rp_cache_get_clip_info(c, rp_cache_key_of("clip1", 5), &info), RP_OK);
    rp_clip_deinit(&info);
    uint64_t removed = 0;
    CHECK_INT(rp_cache_trim(c, &removed), RP_OK);
    rp_cache_stats s;
    CHECK_INT(rp_cache_stat(c, &s), RP_OK);
    printf("  kept %llu of %d clips, %.0f kB of %.0f kB allowed\n", (unsigned long long)s.clips,
           N, s.bytes / 1024.0, s.max_bytes / 1024.0);
    CHECK(s.bytes <= s.max_bytes);
    CHECK_INT(removed + s.clips, N);
    CHECK(file_exists(paths[1]) && file_exists(paths[9]) && file_exists(paths[8]));
    CHECK(!file_exists(paths[0]) && !file_exists(paths[2]));
    rp_cache_close(c);
}

// Writes a clip of n frames under name, and tells the ledger (as a render
// does once its lines are voiced).
static void put_told(rp_cache *c, const char *name, int64_t n)
{
    rp_clip clip = make_clip(n, 1.0f);
    CHECK_INT(rp_cache_put_clip(c, rp_cache_key_of(name, strlen(name)), &clip), RP_OK);
    rp_cache_grew(c, rp_cache_clip_bytes(&clip));
    rp_clip_deinit(&clip);
}

// Trimming walks every clip, so writing does not walk unless the cache
// may be past its bound: its ledger (the size the last walk found, plus
// what was written since) says so, or is missing, or is a day old. A walk
// is seen by what it removes: a temporary that a killed render left two
// hours ago. A walk past the bound leaves room (a tenth of the bound).
static void test_the_cache_is_walked_only_when_it_may_be_past_its_bound(void)
{
    setenv("RADIOPLAY_CACHE_SIZE", "1700K", 1);
    rp_cache *c = open_cache(0, "cache-ledger");
    unsetenv("RADIOPLAY_CACHE_SIZE");
    if (!c)
        return;
    char stale[4300], ledger[4300];
    snprintf(stale, sizeof stale, "%s/clips/.stale.radioplay-XXXXXX", rp_cache_dir(c));
    snprintf(ledger, sizeof ledger, "%s/ledger", rp_cache_dir(c));
    put_told(c, "a", 100000);  // about 200 kB; no ledger yet: a walk
    CHECK(file_exists(ledger));
    write_text(stale, "left");
    set_age(stale, 7200);
    put_told(c, "b", 100000);
    CHECK_MSG(file_exists(stale), "walked far under the bound");
    rp_cache_grew(c, 1400 * 1024);  // the ledger says past it: a walk
    CHECK_MSG(!file_exists(stale), "no walk past the bound");
    rp_cache_stats s;
    CHECK_INT(rp_cache_stat(c, &s), RP_OK);
    CHECK_INT(s.clips, 2);  // it only seemed past the bound
    // The walk set the ledger to the size it found (2 clips): 1200 kB more
    // still fits.
    write_text(stale, "left");
    set_age(stale, 7200);
    rp_cache_grew(c, 1200 * 1024);
    CHECK_MSG(file_exists(stale), "the walk did not correct the ledger");
    // No ledger (radioplay cache --clear removes it), or a day old: a walk.
    test_remove(ledger);
    rp_cache_grew(c, 4096);
    CHECK_MSG(!file_exists(stale), "no walk without a ledger");
    write_text(stale, "left");
    set_age(stale, 7200);
    char text[64];
    snprintf(text, sizeof text, "%d %lld\n", 450 * 1024, (long long)time(NULL) - 2 * 86400);
    write_text(ledger, text);
    rp_cache_grew(c, 4096);
    CHECK_MSG(!file_exists(stale), "no walk with a ledger two days old");
    // Truly past the bound, the new clips not in use (over a minute old):
    // the least recently used go, down to 1530 kB.
    uint64_t more = 0;
    for (int i = 0; i < 8; i++) {
        char name[16], path[4300];
        snprintf(name, sizeof name, "more%d", i);
        rp_cache_key k = rp_cache_key_of(name, strlen(name));
        rp_clip clip = make_clip(100000, 1.0f);
        CHECK_INT(rp_cache_put_clip(c, k, &clip), RP_OK);
        more += rp_cache_clip_bytes(&clip);
        rp_clip_deinit(&clip);
        rp_cache_clip_path(c, k, path, sizeof path);
        set_age(path, 1000 - i);
    }
    rp_cache_grew(c, more);  // once all are written, as a render tells it
    CHECK_INT(rp_cache_stat(c, &s), RP_OK);
    printf("  10 clips of 200 kB written: %llu kept, %.0f kB of %.0f kB allowed\n",
           (unsigned long long)s.clips, s.bytes / 1024.0, s.max_bytes / 1024.0);
    CHECK(s.bytes <= s.max_bytes - s.max_bytes / 10);
    CHECK(s.clips >= 6);
    rp_cache_close(c);
}

// A render's checkpoint record counts against the bound like a clip, and
// goes least recently used first: a new record past the bound trims.
static void test_checkpoint_records_are_within_the_bound(void)
{
    setenv("RADIOPLAY_CACHE_SIZE", "1700K", 1);
    rp_cache *c = open_cache(0, "cache-records");
    unsetenv("RADIOPLAY_CACHE_SIZE");
    if (!c)
        return;
    enum { RECORD = 800 * 1024 };
    char *blob = calloc(1, RECORD);
    CHECK(blob != NULL);
    if (!blob) {
        rp_cache_close(c);
        return;
    }
    char old[4300], clip_path[4300];
    snprintf(old, sizeof old, "%s/values/%016llx.ckpt", rp_cache_dir(c), 1ull);
    rp_cache_put_blob(c, 1, blob, RECORD);
    set_age(old, 10000);  // rendered long ago
    rp_clip clip = make_clip(100000, 1.0f);  // about 200 kB
    rp_cache_key k = rp_cache_key_of("clip", 4);
    CHECK_INT(rp_cache_put_clip(c, k, &clip), RP_OK);
    rp_cache_grew(c, rp_cache_clip_bytes(&clip));  // as a render does
    rp_cache_clip_path(c, k, clip_path, sizeof clip_path);
    set_age(clip_path, 5000);
    rp_clip_deinit(&clip);
    rp_cache_stats s;
    CHECK_INT(rp_cache_stat(c, &s), RP_OK);
    CHECK_INT(s.records, 1);
    CHECK_INT(s.clips, 1);
    CHECK(s.bytes >= RECORD + 150000);
    // A second record (another output file) passes the bound: the oldest
    // thing in the cache, the first record, goes.
    rp_cache_put_blob(c, 2, blob, RECORD);
    CHECK_INT(rp_cache_stat(c, &s), RP_OK);
    printf("  after a second record: %llu clips, %llu records, %.0f kB of %.0f kB allowed\n",
           (unsigned long long)s.clips, (unsigned long long)s.records, s.bytes / 1024.0,
           s.max_bytes / 1024.0);
    CHECK(!file_exists(old));
    CHECK(file_exists(clip_path));
    CHECK_INT(s.records, 1);
    CHECK(s.bytes <= s.max_bytes);
    char *got = NULL;
    size_t len = 0;
    CHECK_INT(rp_cache_get_blob(c, 2, RECORD, &got, &len), 0);
    CHECK(len == RECORD);
    free(got);
    CHECK(rp_cache_get_blob(c, 1, RECORD, &got, &len) != 0);
    // A record trimmed is not counted as a clip ("removed N clips"): a
    // third record, written past the bound, and the second aged.
    char second[4300], third[4300];
    snprintf(second, sizeof second, "%s/values/%016llx.ckpt", rp_cache_dir(c), 2ull);
    snprintf(third, sizeof third, "%s/values/%016llx.ckpt", rp_cache_dir(c), 3ull);
    FILE *f = fopen(third, "wb");
    CHECK(f && fwrite(blob, 1, RECORD, f) == RECORD);
    if (f)
        fclose(f);
    set_age(second, 20000);
    uint64_t trimmed = 99;
    CHECK_INT(rp_cache_trim(c, &trimmed), RP_OK);
    CHECK(!file_exists(second) && file_exists(third) && file_exists(clip_path));
    CHECK_INT(trimmed, 0);
    // Clearing the cache removes records too, and counts only clips.
    uint64_t removed = 0;
    CHECK_INT(rp_cache_clear(c, &removed), RP_OK);
    CHECK_INT(removed, 1);
    CHECK_INT(rp_cache_stat(c, &s), RP_OK);
    CHECK_INT(s.records, 0);
    free(blob);
    rp_cache_close(c);
}

// ---- whole renders -------------------------------------------------------------------

// The bundled example: 32 lines, 80 s.
static const char *CHAPTER = "scripts/siege.txt";

// Passes over the mix the last render_with took (-v), 0 if not said; and
// whether it measured first although a gain was remembered.
static int last_passes, last_measured_first, last_other_gain;

// Renders chapter with XDG_CACHE_HOME=cache and extra args; returns the
// exit status and the clips line of -v in *clips (caller's buffer).
static int render_chapter_with(const char *chapter, const char *cache, const char *args,
                               const char *out_wav, char *clips, size_t cap)
{
    char cmd[4096], *out;
    snprintf(cmd, sizeof cmd, "XDG_CACHE_HOME='%s' %s render %s -o '%s' -v %s", cache,
             radioplay_bin(), chapter, out_wav, args);
    int rc = run(cmd, &out);
    const char *l = strstr(out, "clips: ");
    snprintf(clips, cap, "%.*s", l ? (int)strcspn(l, "\n") : 0, l ? l : "");
    const char *p = strstr(out, "passes over the mix: ");
    last_passes = p ? atoi(p + strlen("passes over the mix: ")) : 0;
    last_measured_first = strstr(out, "measured first: ") != NULL;
    last_other_gain = strstr(out, "with another gain than the last render's") != NULL;
    if (rc)
        fprintf(stderr, "%s\n", out);
    free(out);
    return rc;
}

// The same, of CHAPTER.
static int render_with(const char *cache, const char *args, const char *out_wav, char *clips,
                       size_t cap)
{
    return render_chapter_with(CHAPTER, cache, args, out_wav, clips, cap);
}

static char ref_wav[1024];

// same_file(ref, path), and path removed: a whole render is 15 MB, and a
// test run must fit on a small disk.
static int same_then_drop(const char *ref, const char *path)
{
    int same = same_file(ref, path);
    test_remove(path);
    return same;
}

// A hash of a stem's samples (the float WAV's header holds a time).
static uint64_t stem_hash(const char *path, long long *frames)
{
    wav x;
    uint64_t h = 0;
    *frames = 0;
    if (wav_read(path, &x) != 0)
        return 0;
    if (x.x) {
        h = rp_hash64(x.x, (size_t)x.frames * (size_t)x.channels * sizeof *x.x, RP_HASH_INIT);
        *frames = x.frames;
    }
    wav_free(&x);
    return h;
}

// The workers run radioplay-worker, found beside radioplay; with
// RADIOPLAY_WORKER empty they are forks of radioplay itself: the same
// bytes (the render of test_jobs_and_cache_give_the_same_bytes, ref_wav).
// -v says which. radioplay-worker run by hand says what it is and exits 2,
// and it needs no library only radioplay's own process uses.
static void test_the_workers_program_gives_the_same_bytes(void)
{
    char cmd[4096], *out;
    snprintf(cmd, sizeof cmd, "XDG_CACHE_HOME='%s' %s render %s -o '%s' -v -j 2",
             tmp(1, "cache-worker"), radioplay_bin(), CHAPTER, tmp(2, "worker.wav"));
    CHECK_INT(run(cmd, &out), 0);
    CHECK_MSG(strstr(out, "workers: ") && strstr(out, "/radioplay-worker\n"), "%s", out);
    free(out);
    CHECK(same_then_drop(ref_wav, tmp(2, "worker.wav")));
    snprintf(cmd, sizeof cmd, "RADIOPLAY_WORKER= XDG_CACHE_HOME='%s' %s render %s -o '%s' -v -j 2",
             tmp(1, "cache-forks"), radioplay_bin(), CHAPTER, tmp(2, "forks.wav"));
    CHECK_INT(run(cmd, &out), 0);
    CHECK_MSG(strstr(out, "workers: forks of radioplay itself"), "%s", out);
    free(out);
    CHECK(same_then_drop(ref_wav, tmp(2, "forks.wav")));
    const char *build = getenv("RP_BUILD");
    char prog[2048];
    snprintf(prog, sizeof prog, "%s/radioplay-worker", build ? build : "build");
    CHECK_INT(run(prog, &out), 2);
    CHECK_MSG(strstr(out, "the worker processes of radioplay"), "%s", out);
    free(out);
    // It needs none of the libraries only radioplay's own process uses
    // (unless a run wraps it in a script: valgrind's, tests/run.sh).
    char head[4] = {0};
    FILE *f = fopen(prog, "rb");
    if (f) {
        if (fread(head, 1, sizeof head, f) != sizeof head)
            head[0] = 0;
        fclose(f);
    }
    if (!memcmp(head, "\177ELF", 4)) {
        snprintf(cmd, sizeof cmd, "readelf -d '%s'", prog);
        CHECK_INT(run(cmd, &out), 0);
        CHECK_MSG(strstr(out, "libsoxr") && !strstr(out, "libsndfile") &&
                      !strstr(out, "libportaudio") && !strstr(out, "libinih") &&
                      !strstr(out, "libebur128"),
                  "%s", out);
        free(out);
    }
}

static void test_jobs_and_cache_give_the_same_bytes(void)
{
    char clips[256];
    snprintf(ref_wav, sizeof ref_wav, "%s", tmp(0, "j1-cold.wav"));
    CHECK_INT(render_with(tmp(1, "cache-j1"), "-j 1", ref_wav, clips, sizeof clips), 0);
    CHECK_MSG(strstr(clips, " 0 from the cache"), "%s", clips);
    CHECK_INT(render_with(tmp(1, "cache-j2"), "-j 2", tmp(2, "j2-cold.wav"), clips, sizeof clips), 0);
    CHECK(same_then_drop(ref_wav, tmp(2, "j2-cold.wav")));
    CHECK_INT(render_with(tmp(1, "cache-j2"), "-j 2", tmp(2, "j2-warm.wav"), clips, sizeof clips), 0);
    CHECK_MSG(strstr(clips, " 0 synthesized"), "warm: %s", clips);
    CHECK(same_then_drop(ref_wav, tmp(2, "j2-warm.wav")));
    CHECK_INT(render_with(tmp(1, "cache-j2"), "-j 1", tmp(2, "j1-warm.wav"), clips, sizeof clips), 0);
    CHECK(same_then_drop(ref_wav, tmp(2, "j1-warm.wav")));
    CHECK_INT(render_with(tmp(1, "cache-none"), "--no-cache -j 3", tmp(2, "nocache.wav"), clips,
                          sizeof clips), 0);
    CHECK(same_then_drop(ref_wav, tmp(2, "nocache.wav")));
    // --no-cache writes nothing into the cache.
    CHECK(!file_exists(tmp(1, "cache-none/radioplay/clips")));
    printf("  -j1 cold, -j2 cold, -j2 warm, -j1 warm, --no-cache -j3: identical\n");
    // A render remembers the gain it measured for the chapter; the next one
    // masters with it while it measures, in one pass when it holds. Either
    // way the same bytes, stems included (written by whichever pass mixes
    // first): a fresh cache (two passes) against the warm one (one pass).
    // (The short chapter: four float stems of CHAPTER would be 123 MB.)
    static const char *const stems[] = {"dialogue", "narration", "effects", "beds"};
    uint64_t hash[2][4];
    long long frames[2][4];
    for (int k = 0; k < 2; k++) {
        char args[1200];
        snprintf(args, sizeof args, "--stems '%s'", tmp(3, "stems"));
        CHECK_INT(render_chapter_with("tests/data/wall.txt", tmp(1, "cache-stems"), args,
                                      tmp(2 + 2 * k, k ? "stems1.wav" : "stems0.wav"), clips,
                                      sizeof clips), 0);
        CHECK_INT(last_passes, 2 - k);
        for (int j = 0; j < 4; j++) {
            char a[1200];
            snprintf(a, sizeof a, "%s/%s.wav", tmp(3, "stems"), stems[j]);
            hash[k][j] = stem_hash(a, &frames[k][j]);
        }
        test_remove(tmp(3, "stems"));
    }
    CHECK(same_then_drop(tmp(2, "stems0.wav"), tmp(4, "stems1.wav")));
    test_remove(tmp(2, "stems0.wav"));
    test_remove(tmp(1, "cache-stems"));
    for (int j = 0; j < 4; j++)
        CHECK_MSG(frames[0][j] > 0 && frames[0][j] == frames[1][j] && hash[0][j] == hash[1][j],
                  "%s", stems[j]);
    printf("  measured first (2 passes) and with the remembered gain (1 pass): identical, "
           "stems too\n");
}

// The render a cold cache gives (--no-cache: no clips, no remembered gain)
// is the same bytes as the one after a tweak gave. Returns the passes the
// cold render took.
static int same_as_cold(const char *args, const char *warm_wav)
{
    char clips[256], cold[1600];
    snprintf(cold, sizeof cold, "--no-cache %s", args);
    CHECK_INT(render_with(tmp(5, "cache-unused"), cold, tmp(4, "cold.wav"), clips, sizeof clips), 0);
    CHECK_MSG(same_file(tmp(4, "cold.wav"), warm_wav), "%s", warm_wav);
    test_remove(tmp(4, "cold.wav"));
    return last_passes;
}

// Sets what, found in sheet after section, to now (as long), writes the
// sheet and renders over t1.wav; -1 when what is not there.
static int retweak(char *sheet, const char *section, const char *what, const char *now,
                   const char *cache, const char *args)
{
    char *at = sheet ? strstr(sheet, section) : NULL, clips[256];
    at = at ? strstr(at, what) : NULL;
    if (!at || strlen(now) > strlen(what))
        return -1;
    memcpy(at, now, strlen(now));
    write_text(tmp(3, "siege.cast"), sheet);
    return render_with(cache, args, tmp(2, "t1.wav"), clips, sizeof clips);
}

// A cast sheet tweak: only what it changes is synthesized again.
static void test_a_tweak_synthesizes_only_what_changed(void)
{
    const char *cache = tmp(1, "cache-tweak");
    char clips[256], cmd[2048], *out;
    snprintf(cmd, sizeof cmd, "XDG_CACHE_HOME='%s' %s cast %s > '%s'", cache, radioplay_bin(),
             CHAPTER, tmp(3, "siege.cast"));
    CHECK_INT(run(cmd, &out), 0);
    free(out);
    char args[1400];
    snprintf(args, sizeof args, "--cast '%s'", tmp(3, "siege.cast"));
    CHECK_INT(render_with(cache, args, tmp(2, "t1.wav"), clips, sizeof clips), 0);
    int total = 0;
    sscanf(clips, "clips: %*d from the cache, %d synthesized", &total);
    // One voice's pitch, over the same file: that speaker's lines only.
    char *sheet = read_text(tmp(3, "siege.cast"));
    CHECK(sheet != NULL);
    if (!sheet)
        return;
    char *nar = strstr(sheet, "[narrator]");
    char *pitch = nar ? strstr(nar, "pitch = ") : NULL;
    CHECK(pitch != NULL);
    if (pitch)
        pitch[8] = pitch[8] == '9' ? '1' : '9';
    write_text(tmp(3, "siege.cast"), sheet);
    CHECK_INT(render_with(cache, args, tmp(2, "t1.wav"), clips, sizeof clips), 0);
    int hits = -1, misses = -1;
    sscanf(clips, "clips: %d from the cache, %d synthesized", &hits, &misses);
    int passes = last_passes, measured_first = last_measured_first;
    printf("  narrator's pitch changed: %d of %d clips synthesized again; %d pass%s\n", misses,
           total, passes, passes == 1 ? "" : "es");
    CHECK(misses > 0 && misses < total && hits + misses == total);
    // However many passes the remembered gain saved, the same bytes as a
    // cold render's two.
    CHECK_INT(same_as_cold(args, tmp(2, "t1.wav")), 2);
    // The narrator's lines changed length, and every line after them moved:
    // the last render's checkpoints no longer fit, so it measured first
    // rather than try the remembered gain.
    CHECK(measured_first);
    // An effect's gain: nothing to synthesize, and over the same file, whose
    // checkpoints spare most of the chapter: the remembered gain is tried.
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", tmp(2, "t1.wav"), tmp(4, "t1-before.wav"));
    CHECK_INT(run(cmd, &out), 0);
    free(out);
    FILE *f = fopen(tmp(3, "siege.cast"), "a");
    if (f) {
        fputs("\n[sfx thunder]\ngain = -3\n", f);
        fclose(f);
    }
    CHECK_INT(render_with(cache, args, tmp(2, "t1.wav"), clips, sizeof clips), 0);
    CHECK_MSG(strstr(clips, " 0 synthesized"), "sfx gain: %s", clips);
    // Its loudness moved by less than a gain step: one pass.
    CHECK_INT(last_passes, 1);
    CHECK(!same_file(tmp(4, "t1-before.wav"), tmp(2, "t1.wav")));
    test_remove(tmp(4, "t1-before.wav"));
    same_as_cold(args, tmp(2, "t1.wav"));
    // One voice 3 dB louder (its few lines' stretches) moves the loudness by
    // more than a step: the remembered gain is tried, does not hold, and the
    // master pass follows, with a gain that leaves nothing of the last
    // render's file to keep (it is not copied first).
    CHECK(!last_other_gain);
    free(sheet);
    sheet = read_text(tmp(3, "siege.cast"));
    CHECK_INT(retweak(sheet, "[voice Kestrel]", "gain = 0.0\n", "gain = 3.0", cache, args), 0);
    int tried = last_passes, tried_first = last_measured_first;
    CHECK_INT(last_passes, 2);
    CHECK(!last_measured_first);
    CHECK(last_other_gain);
    same_as_cold(args, tmp(2, "t1.wav"));
    // All speech 9 dB louder changes every stretch with words in it: it
    // measures first, and the master pass reads the mix back.
    CHECK_INT(retweak(sheet, "[render]", "speech_gain = -3\n", "speech_gain = +6", cache, args), 0);
    printf("  an effect's gain: 1 pass; a voice 3 dB louder: %d passes, the remembered gain "
           "%s; all speech 9 dB louder: %d passes, %s\n", tried,
           tried_first ? "not tried" : "tried", last_passes,
           last_measured_first ? "measured first" : "the remembered gain tried");
    CHECK_INT(last_passes, 2);
    CHECK(last_measured_first);
    same_as_cold(args, tmp(2, "t1.wav"));
    test_remove(tmp(2, "t1.wav"));
    test_remove(cache);
    free(sheet);
}

// A job speaks a run of one speaker's lines, each after the ones before it
// in the run, and a clip is keyed by those lines too. So there are fewer
// jobs than lines; a clip missing from the middle of a run comes back the
// same; and after one line is edited only runs around it are spoken again,
// to the bytes a cold render of the edited chapter gives.
static void test_lines_are_spoken_in_runs(void)
{
    // A cast sheet of its own: an edit of the text may change whom the
    // casting picks, and so other lines than the edited one.
    const char *cache = tmp(1, "cache-runs");
    char clips[256], ref[1024], cmd[4096], args[1200], *out;
    snprintf(cmd, sizeof cmd, "%s cast %s > '%s'", radioplay_bin(), CHAPTER, tmp(4, "runs.cast"));
    CHECK_INT(run(cmd, &out), 0);
    free(out);
    snprintf(args, sizeof args, "--cast '%s'", tmp(4, "runs.cast"));
    snprintf(ref, sizeof ref, "%s", tmp(2, "runs-cold.wav"));
    CHECK_INT(render_with(cache, args, ref, clips, sizeof clips), 0);
    int hits = -1, misses = -1, jobs = -1;
    sscanf(clips, "clips: %d from the cache, %d synthesized in %d jobs", &hits, &misses, &jobs);
    printf("  cold: %d lines in %d jobs\n", misses, jobs);
    CHECK(misses >= 20 && jobs > 0 && jobs <= misses * 2 / 3);
    // Each line but a job's last is taken as soon as it is made.
    const char *taken = strstr(clips, " (");
    int noted = taken ? atoi(taken + 2) : -1;
    CHECK_MSG(noted == misses - jobs && strstr(clips, "taken as they were made"),
              "%d lines taken before their job's end, of %d in %d jobs", noted, misses, jobs);
    // Every third clip file gone (by name: lines all over the chapter).
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/radioplay/clips", cache);
    snprintf(cmd, sizeof cmd, "cd '%s' && ls | sort | awk 'NR %% 3 == 1' | xargs rm -f", dir);
    int before = count_files(dir, ".clip");
    CHECK_INT(run(cmd, &out), 0);
    free(out);
    int gone = before - count_files(dir, ".clip");
    CHECK_INT(render_with(cache, args, tmp(3, "runs-holes.wav"), clips, sizeof clips), 0);
    sscanf(clips, "clips: %d from the cache, %d synthesized", &hits, &misses);
    printf("  %d of %d clips removed: %d synthesized again, the same bytes\n", gone, before,
           misses);
    CHECK(gone >= 5);
    CHECK_INT(misses, gone);
    CHECK(same_then_drop(ref, tmp(3, "runs-holes.wav")));
    // One line edited, in a copy of the chapter.
    char *text = read_text(CHAPTER);
    char *at = text ? strstr(text, "a long breath") : NULL;
    CHECK(at != NULL);
    if (at) {
        memcpy(at, "a slow breath", 13);
        write_text(tmp(5, "edited.txt"), text);
        CHECK_INT(render_chapter_with(tmp(5, "edited.txt"), cache, args, tmp(3, "runs-edit.wav"),
                                      clips, sizeof clips), 0);
        sscanf(clips, "clips: %d from the cache, %d synthesized", &hits, &misses);
        printf("  one line edited: %d of %d synthesized again\n", misses, hits + misses);
        CHECK(misses >= 1 && misses <= 16);  // at most a run
        char cold[1300];
        snprintf(cold, sizeof cold, "--no-cache %s", args);
        CHECK_INT(render_chapter_with(tmp(5, "edited.txt"), tmp(6, "cache-runs-cold"), cold,
                                      tmp(2, "runs-edit-cold.wav"), clips, sizeof clips), 0);
        CHECK(same_then_drop(tmp(2, "runs-edit-cold.wav"), tmp(3, "runs-edit.wav")));
    }
    free(text);
    test_remove(ref);
    test_remove(cache);
}

// The share of the chapter the pass that wrote the file mixed (-v), or -1;
// *rest (may be NULL): whether -v says the rest was the last render's.
static double mixed_share_rest(const char *cache, const char *args, const char *out_wav,
                               int *rest)
{
    char cmd[4096], *out;
    snprintf(cmd, sizeof cmd, "XDG_CACHE_HOME='%s' %s render %s -o '%s' -v %s 2>&1", cache,
             radioplay_bin(), CHAPTER, out_wav, args);
    int rc = run(cmd, &out);
    const char *p = strstr(out, "the pass that wrote the file mixed ");
    double share = p && rc == 0 ? atof(p + strlen("the pass that wrote the file mixed ")) : -1;
    if (rest)
        *rest = strstr(out, "(the rest was the last render's") != NULL;
    if (rc)
        fprintf(stderr, "%s\n", out);
    free(out);
    return share;
}

static double mixed_share(const char *cache, const char *args, const char *out_wav)
{
    return mixed_share_rest(cache, args, out_wav, NULL);
}

// Checkpoints: a render to the file the last render of the chapter wrote
// mixes only the stretches a tweak changed, and is the same bytes as a
// render from scratch; whatever does not fit (the file changed since, the
// checkpoints damaged) is mixed in full, to the same bytes.
static void test_a_tweak_mixes_only_what_changed(void)
{
    const char *cache = tmp(1, "cache-ckpt"), *file = tmp(2, "ckpt.wav");
    char cmd[2048], *out, args[1400];
    snprintf(cmd, sizeof cmd, "XDG_CACHE_HOME='%s' %s cast %s > '%s'", cache, radioplay_bin(),
             CHAPTER, tmp(3, "ckpt.cast"));
    CHECK_INT(run(cmd, &out), 0);
    free(out);
    snprintf(args, sizeof args, "--cast '%s'", tmp(3, "ckpt.cast"));
    int rest = -1;
    double first = mixed_share_rest(cache, args, file, &rest);
    CHECK_MSG(first == 100.0, "the first render mixed %.1f%%", first);
    CHECK_MSG(rest == 0, "the first render says the rest was the last render's");
    // Nothing changed: nothing mixed, the same file.
    double again = mixed_share(cache, args, file);
    CHECK_MSG(again == 0.0, "an unchanged render mixed %.1f%%", again);
    same_as_cold(args, file);
    // An effect's gain: mixed up to where the state is the first render's again,
    // which it takes from there (kept by the measuring pass, the master pass
    // having read the mix back).
    FILE *f = fopen(tmp(3, "ckpt.cast"), "a");
    if (f) {
        fputs("\n[sfx thunder]\ngain = -3\n", f);
        fclose(f);
    }
    double effect = mixed_share_rest(cache, args, file, &rest);
    CHECK_MSG(rest == 1, "a tweaked render does not say where the rest came from");
    // (The thunder and the stretches its echo reaches: 41% of this chapter.
    // States that never compare equal would mix on to the end.)
    CHECK_MSG(effect > 0 && effect < 60, "an effect's gain: mixed %.1f%%", effect);
    same_as_cold(args, file);
    // The last voice's pitch.
    char *sheet = read_text(tmp(3, "ckpt.cast"));
    char *pitch = NULL;
    for (char *at = sheet; at && (at = strstr(at, "pitch = ")); at++)
        pitch = at;
    CHECK(pitch != NULL);
    if (!pitch) {
        free(sheet);
        return;
    }
    pitch[8] = pitch[8] == '9' ? '1' : '9';
    write_text(tmp(3, "ckpt.cast"), sheet);
    // (In this short chapter that voice moves the loudness a gain step, so
    // every sample changes and all of it is mixed again.)
    double voice = mixed_share(cache, args, file);
    CHECK_MSG(voice > 0, "one voice's pitch: mixed %.1f%%", voice);
    same_as_cold(args, file);
    // One voice's effect (applied after the cache, so the clips stay; a
    // whisper pads nothing, so no event moves): mixed again where it speaks.
    free(sheet);
    sheet = read_text(tmp(3, "ckpt.cast"));
    char *fx = sheet ? strstr(sheet, "effect = none") : NULL;
    CHECK(fx != NULL);
    if (fx) {
        rp_strbuf b;
        rp_strbuf_init(&b);
        rp_strbuf_append(&b, sheet, (size_t)(fx - sheet));
        rp_strbuf_puts(&b, "effect = whisper");
        rp_strbuf_puts(&b, fx + strlen("effect = none"));
        write_text(tmp(3, "ckpt.cast"), b.s ? b.s : "");
        rp_strbuf_deinit(&b);
    }
    double whisper = mixed_share(cache, args, file);
    CHECK_MSG(whisper > 0, "one voice's effect: mixed %.1f%%", whisper);
    same_as_cold(args, file);
    printf("  mixed again: unchanged %.1f%%, one voice's pitch %.1f%%, thunder's gain %.1f%%, "
           "one voice's effect %.1f%%\n", again, voice, effect, whisper);
    // The file touched since: it is not the one the checkpoints describe.
    snprintf(cmd, sizeof cmd, "touch -d '2001-01-01' '%s'", file);
    CHECK_INT(run(cmd, &out), 0);
    free(out);
    CHECK_MSG(mixed_share(cache, args, file) == 100.0, "a touched file is mixed again");
    same_as_cold(args, file);
    // The checkpoints damaged: mixed in full.
    snprintf(cmd, sizeof cmd,
             "for f in '%s'/radioplay/values/*.ckpt; do printf 'XXXXXXXX' | "
             "dd of=\"$f\" bs=1 seek=300 conv=notrunc 2>/dev/null; done",
             cache);
    CHECK_INT(run(cmd, &out), 0);
    free(out);
    CHECK_MSG(mixed_share(cache, args, file) == 100.0, "damaged checkpoints are not used");
    same_as_cold(args, file);
    // Another file name: its own checkpoints.
    CHECK_MSG(mixed_share(cache, args, tmp(2, "other.wav")) == 100.0, "a new file is mixed");
    CHECK(same_file(file, tmp(2, "other.wav")));
    test_remove(tmp(2, "other.wav"));
    test_remove(file);
    test_remove(cache);
    free(sheet);
}

// A line that changes length moves every line after it, and the file's
// length: the stretches before it are still the last render's, and a
// render mixes from there only (when the gain holds), to the bytes of a
// cold render of the edited chapter.
static void test_a_longer_line_mixes_only_from_there(void)
{
    const char *cache = tmp(1, "cache-longer"), *file = tmp(2, "longer.wav"),
               *chapter = tmp(3, "longer.txt");
    char *text = read_text(CHAPTER);
    const char *last = "we're still here.";
    char *at = text ? strstr(text, last) : NULL;
    CHECK(at != NULL);
    if (!at) {
        free(text);
        return;
    }
    write_text(chapter, text);
    char clips[256];
    CHECK_INT(render_chapter_with(chapter, cache, "", file, clips, sizeof clips), 0);
    struct stat before, after;
    CHECK_INT(stat(file, &before), 0);
    // The last line, longer by two words.
    rp_strbuf b;
    rp_strbuf_init(&b);
    rp_strbuf_append(&b, text, (size_t)(at - text));
    rp_strbuf_puts(&b, "we are all still here, Kestrel.");
    rp_strbuf_puts(&b, at + strlen(last));
    write_text(chapter, b.s ? b.s : "");
    rp_strbuf_deinit(&b);
    char cmd[4096], *out;
    snprintf(cmd, sizeof cmd, "XDG_CACHE_HOME='%s' %s render %s -o '%s' -v 2>&1", cache,
             radioplay_bin(), chapter, file);
    CHECK_INT(run(cmd, &out), 0);
    const char *p = out ? strstr(out, "the pass that wrote the file mixed ") : NULL;
    double share = p ? atof(p + strlen("the pass that wrote the file mixed ")) : -1;
    int one = out && strstr(out, "passes over the mix: 1 ") != NULL;
    // The last render's file was copied from the render's start (its header
    // is the same size: the marks are).
    int ahead = out && strstr(out, "the last render's file was copied from the start") != NULL;
    free(out);
    CHECK(ahead);
    CHECK_INT(stat(file, &after), 0);
    printf("  the last line two words longer: the file %+lld bytes, %s, mixed %.1f%%\n",
           (long long)(after.st_size - before.st_size), one ? "1 pass" : "2 passes", share);
    CHECK(after.st_size > before.st_size);
    CHECK(one);
    // (The last two of the chapter's eight stretches: the line's and the
    // one its look-ahead reaches.)
    CHECK_MSG(share > 0 && share < 30, "mixed %.1f%%", share);
    CHECK_INT(render_chapter_with(chapter, tmp(5, "cache-unused"), "--no-cache",
                                  tmp(4, "cold.wav"), clips, sizeof clips), 0);
    CHECK(same_then_drop(file, tmp(4, "cold.wav")));
    test_remove(file);
    test_remove(chapter);
    test_remove(cache);
    free(text);
}

// A checkpoint record whose checksum holds but one of whose states will not
// load (no build writes one: the record names the build that wrote it; a
// bug could): the render mixes from the start instead of failing, to the
// bytes of a cold render, and leaves a record that works.
//
// The record, as src/checkpoint.c lays it out: an 88-byte head (its point
// count n at byte 16), n + 1 points of 64 bytes (8 + 8, then the lengths of
// six buffers: mix, pre, out, file, pre_d, out_d), the buffers point by
// point, and a checksum (rp_hash_words) over all of that.
static void test_a_record_that_will_not_load_is_mixed_again(void)
{
    const char *cache = tmp(1, "cache-refused"), *file = tmp(2, "refused.wav");
    CHECK_MSG(mixed_share(cache, "", file) == 100.0, "the first render mixes it all");
    char cmd[2048], *out = NULL, path[1200] = "";
    snprintf(cmd, sizeof cmd, "ls '%s'/radioplay/values/*.ckpt", cache);
    CHECK_INT(run(cmd, &out), 0);
    if (out)
        sscanf(out, "%1199s", path);
    free(out);
    FILE *f = fopen(path, "rb");
    CHECK_MSG(f != NULL, "a checkpoint record: %s", path);
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = len > 0 ? malloc((size_t)len) : NULL;
    int whole = b && fread(b, 1, (size_t)len, f) == (size_t)len;
    fclose(f);
    uint64_t n = 0;
    if (whole && len >= 128)
        memcpy(&n, b + 16, sizeof n);
    // The last point's output meter: what an unchanged render loads.
    size_t table = 88, buffers = table + (size_t)(n + 1) * 64, at = buffers, out_at = 0,
           out_len = 0;
    for (uint64_t k = 0; whole && n > 0 && n < 1000 && k <= n; k++)
        for (int i = 0; i < 6; i++) {
            uint64_t l;
            memcpy(&l, b + table + k * 64 + 16 + (size_t)i * 8, sizeof l);
            if (k == n && i == 2) {
                out_at = at;
                out_len = (size_t)l;
            }
            at += (size_t)l;
        }
    CHECK_MSG(whole && n > 0 && at + 8 == (size_t)len && out_len > 0,
              "the record is laid out as this test reads it (%zu + 8 of %ld bytes)", at, len);
    if (!whole || at + 8 != (size_t)len || out_len == 0) {
        free(b);
        return;
    }
    memset(b + out_at, 0xff, out_len);
    uint64_t sum = rp_hash_words(b, (size_t)len - 8, RP_HASH_INIT);
    memcpy(b + len - 8, &sum, sizeof sum);
    f = fopen(path, "wb");
    CHECK(f != NULL && fwrite(b, 1, (size_t)len, f) == (size_t)len);
    if (f)
        fclose(f);
    free(b);
    // Unchanged, so it would take the rest from the last point: the state
    // there is refused, and the render starts again.
    snprintf(cmd, sizeof cmd, "XDG_CACHE_HOME='%s' %s render %s -o '%s' -v 2>&1", cache,
             radioplay_bin(), CHAPTER, file);
    CHECK_INT(run(cmd, &out), 0);
    CHECK_MSG(out && strstr(out, "checkpoints would not load: mixed from the start"),
              "the render says why it mixed it all: %s", out ? out : "");
    CHECK_MSG(out && strstr(out, "the pass that wrote the file mixed 100.0%"),
              "a refused record is mixed in full: %s", out ? out : "");
    free(out);
    same_as_cold("", file);
    // Its own record works.
    CHECK_MSG(mixed_share(cache, "", file) == 0.0, "the next render uses the new record");
    same_as_cold("", file);
    test_remove(file);
    test_remove(cache);
}

static int count_clips(const char *cache)
{
    char cmd[1200], *out;
    snprintf(cmd, sizeof cmd, "find '%s/radioplay/clips' -name '*.clip' 2>/dev/null | wc -l",
             cache);
    run(cmd, &out);
    int n = atoi(out);
    free(out);
    return n;
}

static void cache_cmd(const char *cache, const char *op, char **out)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "XDG_CACHE_HOME='%s' %s cache %s", cache, radioplay_bin(), op);
    run(cmd, out);
}

static void test_a_killed_render_leaves_no_broken_clip(void)
{
    const char *cache = tmp(1, "cache-kill");
    char cmd[4096], *out;
    int killed_after = -1;
    // Kill at a different point each round: after 1, 5 and 12 clips.
    static const int after[] = {1, 5, 12};
    for (size_t r = 0; r < sizeof after / sizeof after[0]; r++) {
        snprintf(cmd, sizeof cmd,
                 "XDG_CACHE_HOME='%s' %s render %s -o '%s' -j 2 -q & pid=$!; "
                 "while [ $(find '%s/radioplay/clips' -name '*.clip' 2>/dev/null | wc -l) -lt %d ]; "
                 "do kill -0 $pid 2>/dev/null || break; sleep 0.005; done; kill -9 $pid; "
                 "wait $pid 2>/dev/null; sleep 0.3",
                 cache, radioplay_bin(), CHAPTER, tmp(2, "killed.wav"), cache,
                 count_clips(cache) + after[r]);
        run(cmd, &out);
        free(out);
        killed_after = count_clips(cache);
    }
    printf("  killed three times; %d clips in the cache\n", killed_after);
    cache_cmd(cache, "--verify", &out);
    CHECK_MSG(strstr(out, " 0 damaged"), "%s", out);
    free(out);
    cache_cmd(cache, "--stats", &out);
    CHECK_MSG(!strstr(out, "temporaries"), "%s", out);
    free(out);
    char clips[256];
    CHECK_INT(render_with(cache, "", tmp(2, "after-kill.wav"), clips, sizeof clips), 0);
    CHECK(ref_wav[0] && same_then_drop(ref_wav, tmp(2, "after-kill.wav")));
    test_remove(cache);
}

static void test_two_renders_at_once_share_the_cache(void)
{
    const char *cache = tmp(1, "cache-two");
    char cmd[4096], *out;
    snprintf(cmd, sizeof cmd,
             "XDG_CACHE_HOME='%s' %s render %s -o '%s' -q & XDG_CACHE_HOME='%s' %s render %s "
             "-o '%s' -q & wait",
             cache, radioplay_bin(), CHAPTER, tmp(2, "a.wav"), cache, radioplay_bin(), CHAPTER,
             tmp(3, "b.wav"));
    CHECK_INT(run(cmd, &out), 0);
    free(out);
    CHECK(ref_wav[0] && same_then_drop(ref_wav, tmp(2, "a.wav")));
    CHECK(ref_wav[0] && same_then_drop(ref_wav, tmp(3, "b.wav")));
    cache_cmd(cache, "--verify", &out);
    CHECK_MSG(strstr(out, " 0 damaged"), "%s", out);
    free(out);
    test_remove(cache);
}

// render --watch renders again when the cast sheet changes, synthesizing
// only what the change touched, and Ctrl-C ends it with status 0.
static void test_watch_renders_again(void)
{
    const char *cache = tmp(1, "cache-j2"), *log = tmp(2, "watch.log");
    char cmd[8192], *out;
    snprintf(cmd, sizeof cmd,
             "cp %s '%s' && XDG_CACHE_HOME='%s' %s cast %s > '%s' && "
             "(XDG_CACHE_HOME='%s' %s render '%s' --cast '%s' -o '%s' --watch -v > '%s' 2>&1 & "
             "pid=$!; n=0; until grep -q watching '%s' || [ $n -gt 600 ]; do sleep 0.05; "
             "n=$((n+1)); done; sed -i 's/^pitch = .*/pitch = 20/' '%s'; n=0; "
             "until [ $(grep -c watching '%s') -ge 2 ] || [ $n -gt 600 ]; do sleep 0.05; "
             "n=$((n+1)); done; kill -INT $pid; wait $pid; echo rc=$?)",
             CHAPTER, tmp(3, "w.txt"), cache, radioplay_bin(), CHAPTER, tmp(4, "w.cast"), cache,
             radioplay_bin(), tmp(3, "w.txt"), tmp(4, "w.cast"), tmp(5, "w.wav"), log, log,
             tmp(4, "w.cast"), log);
    run(cmd, &out);
    char *text = read_text(log);
    CHECK_MSG(strstr(out, "rc=0"), "%s", out);
    CHECK_MSG(text && strstr(text, "changed; rendering again"), "%s", text ? text : "");
    // The second render synthesized every line again (every voice's pitch
    // changed), and wrote the file again.
    const char *second = text ? strstr(text, "changed;") : NULL;
    CHECK_MSG(second && strstr(second, "wrote "), "%s", text ? text : "");
    CHECK_MSG(second && strstr(second, " 0 from the cache"), "%s", text ? text : "");
    free(text);
    free(out);
}

// render A B -o DIR/: each chapter into DIR as NAME.EXT, the same bytes a
// render of it alone gives; names that would collide, an unknown format and
// --watch with several chapters are usage errors.
static void test_a_book_renders_each_chapter_as_alone(void)
{
    const char *cache = tmp(1, "cache-j2");
    char cmd[4096], *out;
    snprintf(cmd, sizeof cmd,
             "XDG_CACHE_HOME='%s' %s render %s tests/data/wall.txt -o '%s/' --format flac -j 2",
             cache, radioplay_bin(), CHAPTER, tmp(2, "book"));
    CHECK_INT(run(cmd, &out), 0);
    CHECK_MSG(strstr(out, "2 of 2 chapters written"), "%s", out);
    free(out);
    static const char *const names[][2] = {{"scripts/siege.txt", "siege"},
                                           {"tests/data/wall.txt", "wall"}};
    for (int i = 0; i < 2; i++) {
        char book[1200], alone[1200];
        snprintf(book, sizeof book, "%s/%s.flac", tmp(2, "book"), names[i][1]);
        snprintf(alone, sizeof alone, "%s", tmp(3, "alone.flac"));
        snprintf(cmd, sizeof cmd, "XDG_CACHE_HOME='%s' %s render %s -o '%s' -q", cache,
                 radioplay_bin(), names[i][0], alone);
        CHECK_INT(run(cmd, &out), 0);
        free(out);
        CHECK_MSG(file_exists(book) && same_file(book, alone), "%s", book);
    }
    snprintf(cmd, sizeof cmd, "%s render %s %s -o '%s/'", radioplay_bin(), CHAPTER, CHAPTER,
             tmp(2, "book2"));
    CHECK_INT(run(cmd, &out), 2);
    CHECK_MSG(strstr(out, "would both be written to"), "%s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "%s render %s tests/data/wall.txt -o '%s/' --format aiff",
             radioplay_bin(), CHAPTER, tmp(2, "book3"));
    CHECK_INT(run(cmd, &out), 2);
    CHECK_MSG(strstr(out, "--format aiff"), "%s", out);
    CHECK(!file_exists(tmp(2, "book3")));  // a usage error makes nothing
    free(out);
    snprintf(cmd, sizeof cmd, "%s render %s tests/data/wall.txt -o '%s/' --watch", radioplay_bin(),
             CHAPTER, tmp(2, "book4"));
    CHECK_INT(run(cmd, &out), 2);
    CHECK_MSG(strstr(out, "--watch takes one chapter"), "%s", out);
    free(out);
}

// espeak-ng 1.51 aborts ("stack smashing detected") on "é." sixty times
// over. The line is spoken again with its punctuation simplified, with a
// warning at the line, and the drama goes on: no error, no gap.
// The file in dir whose name holds part and that was written first (by
// its mtime) into path; 0, or -1 when there is none.
static int first_written(const char *dir, const char *part, char *path, size_t cap)
{
    DIR *dp = opendir(dir);
    struct timespec best = {0, 0};
    int found = -1;
    for (struct dirent *e; dp && (e = readdir(dp));) {
        char p[4096];
        struct stat sb;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (!strstr(e->d_name, part) || stat(p, &sb) != 0)
            continue;
        if (found < 0 || sb.st_mtim.tv_sec < best.tv_sec ||
            (sb.st_mtim.tv_sec == best.tv_sec && sb.st_mtim.tv_nsec < best.tv_nsec)) {
            best = sb.st_mtim;
            snprintf(path, cap, "%s", p);
            found = 0;
        }
    }
    if (dp)
        closedir(dp);
    return found;
}

// A line taken as its job made it (a note), whose clip then leaves the
// cache (trimmed by another render, or damaged) while the job is still
// speaking the rest of its run: the mixer asks for its samples, and it is
// spoken again. The job that runs on is known by the same line; its end
// must not stand for the new job's, nor the new job's for its own: the
// line's samples come, and so does every other line.
static void test_a_clip_gone_while_its_run_is_spoken_is_spoken_again(void)
{
    char text[4096] = "", cache[1200], clips[1300], gone[4096];
    for (int k = 0; k < 10; k++)
        snprintf(text + strlen(text), sizeof text - strlen(text),
                 "The tower stood over the river at dusk, and the lamps came on one by one, "
                 "%d.\n\n", k + 1);
    write_text(tmp(0, "one-run.txt"), text);
    snprintf(cache, sizeof cache, "%s", tmp(1, "cache-gone"));
    snprintf(clips, sizeof clips, "%s/radioplay/clips", cache);
    const char *was = getenv("XDG_CACHE_HOME");
    char *saved = was ? rp_strdup(was) : NULL;
    setenv("XDG_CACHE_HOME", cache, 1);
    rp_drama dr;
    rp_diags d;
    rp_diags_init(&d);
    rp_drama_options o = {.chapter_path = tmp(0, "one-run.txt"), .seed = -1, .jobs = 1};
    rp_status st = rp_drama_load(&dr, &o, &d);
    if (!st)
        st = rp_drama_voice_start(&dr, &d);
    size_t ready = 0, hits = 0, misses = 0, jobs = 0, noted = 0;
    while (!st && ready < 1)
        st = rp_drama_voice_more(&dr, NULL, &ready, &d);
    rp_drama_voicing_counts(&dr, &hits, &misses, &jobs, &noted);
    CHECK_MSG(!st && noted == 1, "the first line came with a note: %zu noted (status %d)", noted,
              st);
    CHECK(first_written(clips, ".clip", gone, sizeof gone) == 0 && unlink(gone) == 0);
    // The mixer asks for the first line's samples (a timeline of it alone).
    rp_timeline placed = dr.timeline;
    rp_event e = {.kind = RP_EV_SPEECH, .utt = 0, .start = 0, .end = 100};
    dr.timeline.ev = &e;
    dr.timeline.n = 1;
    if (!st)
        st = rp_drama_clips_window(&dr, 0, 10, &d);
    CHECK_MSG(st == RP_OK && dr.plan.utts[0].clip.pcm, "the line spoken again: %s",
              rp_strerror(st));
    dr.timeline = placed;
    while (!st && ready < dr.plan.n_utts)
        st = rp_drama_voice_more(&dr, NULL, &ready, &d);
    CHECK_MSG(st == RP_OK && ready == dr.plan.n_utts, "%zu of %zu lines voiced: %s", ready,
              dr.plan.n_utts, rp_strerror(st));
    for (size_t i = 0; i < d.n; i++) {
        char line[1024];
        CHECK_MSG(d.items[i].sev != RP_DIAG_ERROR, "%s",
                  rp_diag_format(&d.items[i], line, sizeof line));
    }
    rp_drama_deinit(&dr);
    rp_diags_deinit(&d);
    if (saved)
        setenv("XDG_CACHE_HOME", saved, 1);
    else
        unsetenv("XDG_CACHE_HOME");
    free(saved);
    test_remove(cache);
}

static void test_a_crashing_line_is_spoken_again(void)
{
    char text[400] = "The night was cold.\n\n", cmd[2400], *out = NULL;
    for (int i = 0; i < 60; i++)
        strcat(text, "\xc3\xa9.");
    strcat(text, "\n\n\"Hold the line,\" said Kirk.\n");
    write_text(tmp(3, "crash.txt"), text);
    snprintf(cmd, sizeof cmd,
             "export XDG_CACHE_HOME='%s'; %s render '%s' -o '%s' 2>&1 && %s cues '%s' 2>/dev/null",
             tmp(1, "cache-crash"), radioplay_bin(), tmp(3, "crash.txt"), tmp(2, "crash.wav"),
             radioplay_bin(), tmp(3, "crash.txt"));
    int rc = run(cmd, &out);
    CHECK_INT(rc, 0);
    CHECK_MSG(out && strstr(out, "crash.txt:3:1: warning: espeak-ng crashed on this line (signal 6); "
                                 "spoken again with its punctuation simplified"), "%s", out);
    // The C library's own word of the crash stays in the worker.
    CHECK_MSG(out && !strstr(out, "stack smashing"), "%s", out);
    // The line has its speech: "e acute" sixty times is long.
    cue cues[8];
    const char *tsv = out ? strstr(out, "start\tend") : NULL;
    int n = tsv ? read_cues(tsv, cues, 8) : 0;
    CHECK_INT(n, 4);
    if (n == 4) {
        printf("  the crashing line speaks for %.1f s after its retry\n", cues[1].end - cues[1].start);
        CHECK(cues[1].end - cues[1].start > 10.0);
    }
    free(out);
}

// A line whose clip is near-silence (here a voice at volume 0; in the wild
// a failed voice switch) is reported after the render, at its line.
static void test_silent_speech_is_reported(void)
{
    write_text(tmp(3, "quiet.txt"), "The night was cold and the wind was loud over the walls.\n");
    write_text(tmp(4, "quiet.cast"), "[narrator]\nvoice = en-us\nvolume = 0\n");
    char cmd[2400], *out = NULL;
    snprintf(cmd, sizeof cmd, "XDG_CACHE_HOME='%s' %s render '%s' --cast '%s' -o '%s' 2>&1",
             tmp(1, "cache-crash"), radioplay_bin(), tmp(3, "quiet.txt"), tmp(4, "quiet.cast"),
             tmp(2, "quiet.wav"));
    CHECK_INT(run(cmd, &out), 0);
    CHECK_MSG(out && strstr(out, "quiet.txt:1:1: warning: only 0.0 s of speech is heard for this "
                                 "line, where its 44 letters take about 3.3 s"), "%s", out);
    free(out);
    // Warm, from the cache: reported again.
    CHECK_INT(run(cmd, &out), 0);
    CHECK_MSG(out && strstr(out, "only 0.0 s of speech is heard"), "%s", out);
    free(out);
    // The bundled drama speaks every line as long as its letters take.
    snprintf(cmd, sizeof cmd, "XDG_CACHE_HOME='%s' %s render %s -o '%s' 2>&1",
             tmp(1, "cache-crash"), radioplay_bin(), CHAPTER, tmp(2, "quiet.wav"));
    CHECK_INT(run(cmd, &out), 0);
    CHECK_MSG(out && !strstr(out, "warning"), "%s", out);
    free(out);
}

// The number on the line of `cache --stats` that starts with what.
static long stats_figure(const char *cache, const char *what)
{
    char *out;
    cache_cmd(cache, "--stats", &out);
    const char *at = strstr(out, what);
    long v = at ? strtol(at + strlen(what), NULL, 10) : -1;
    free(out);
    return v;
}

static void test_cache_command(void)
{
    const char *cache = tmp(1, "cache-j2");
    char *out;
    cache_cmd(cache, "--stats", &out);
    CHECK_MSG(strstr(out, "clips ") && strstr(out, "limit") && strstr(out, "MiB"), "%s", out);
    free(out);
    CHECK(count_clips(cache) > 10);
    // One file per clip in one folder: no folder made for a clip.
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "find '%s/radioplay/clips' -mindepth 1 -type d | wc -l", cache);
    run(cmd, &out);
    CHECK_INT(atoi(out), 0);
    free(out);
    // A clip an older radioplay left in a folder clips/XX/ counts, and goes.
    long clips = stats_figure(cache, "clips ");
    snprintf(cmd, sizeof cmd,
             "cd '%s/radioplay/clips' && f=$(ls | grep '[.]clip$' | head -n 1) && "
             "d=$(echo $f | cut -c1-2) && mkdir $d && mv $f $d/",
             cache);
    CHECK_INT(run(cmd, &out), 0);
    free(out);
    CHECK(clips > 10);
    CHECK_INT(stats_figure(cache, "clips "), clips);
    cache_cmd(cache, "--clear", &out);
    CHECK_MSG(strstr(out, "removed ") && atol(strstr(out, "removed ") + 8) == clips, "%s", out);
    free(out);
    CHECK_INT(count_clips(cache), 0);
    snprintf(cmd, sizeof cmd, "find '%s/radioplay/clips' -mindepth 1 -type d | wc -l", cache);
    run(cmd, &out);
    CHECK_MSG(atoi(out) == 0, "%s folders left after --clear", out);  // the old one too
    free(out);
    cache_cmd(cache, "--bogus", &out);
    CHECK(strstr(out, "unknown option"));
    free(out);
}

int main(void)
{
    RUN(test_every_job_starts_from_the_zygote);
    RUN(test_jobs_hold_none_of_the_caller_s_files);
    RUN(test_a_group_prepares_once_and_its_jobs_start_from_that);
    RUN(test_a_job_s_notes_come_while_it_runs);
    RUN(test_a_late_reply_does_not_stand_for_a_retry);
    RUN(test_a_group_whose_zygote_died_between_jobs_gets_a_new_one);
    RUN(test_a_group_s_zygote_ends_on_its_own_holding_no_caller_s_pipe);
    RUN(test_a_pool_left_ends_on_its_own_not_waited_for);
    RUN(test_the_caller_hears_at_once_of_its_zygote_dying);
    RUN(test_a_job_runs_in_a_process_forked_ahead);
    RUN(test_clips_round_trip_and_damage_is_caught);
    RUN(test_a_clip_written_in_pieces_is_the_same_file);
    RUN(test_samples_round_to_the_nearest_step);
    RUN(test_trim_removes_the_least_recently_used);
    RUN(test_checkpoint_records_are_within_the_bound);
    RUN(test_the_cache_is_walked_only_when_it_may_be_past_its_bound);
    RUN(test_jobs_and_cache_give_the_same_bytes);
    RUN(test_the_workers_program_gives_the_same_bytes);
    RUN(test_a_tweak_synthesizes_only_what_changed);
    RUN(test_lines_are_spoken_in_runs);
    RUN(test_a_tweak_mixes_only_what_changed);
    RUN(test_a_longer_line_mixes_only_from_there);
    RUN(test_a_record_that_will_not_load_is_mixed_again);
    RUN(test_a_killed_render_leaves_no_broken_clip);
    RUN(test_two_renders_at_once_share_the_cache);
    RUN(test_watch_renders_again);
    RUN(test_a_book_renders_each_chapter_as_alone);
    RUN(test_a_clip_gone_while_its_run_is_spoken_is_spoken_again);
    RUN(test_a_crashing_line_is_spoken_again);
    RUN(test_silent_speech_is_reported);
    RUN(test_cache_command);
    return TEST_SUMMARY("test_cache");
}
