// SPDX-License-Identifier: GPL-3.0-or-later
// The zygote and its jobs (see rp_worker.h). The zygote is single-threaded:
// it polls its request pipe and a self-pipe its SIGCHLD handler writes to,
// starts a child per request while fewer than jobs run (the spare, forked
// ahead and waiting, when there is one), and writes one reply per job (a
// group's job may send notes before it, rp_worker_note).
// A job of a group goes to the group's zygote instead, forked from this
// one and prepared once: it runs the same loop on its own pipe, and its
// replies come back on a pipe all groups share, to be passed on (replies
// are written whole, in one write under PIPE_BUF: they never interleave).
// Everything it and its children do ends in _exit, never exit: the
// caller's stdio buffers and atexit handlers are the caller's alone.
#include "rp_worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rp_config.h"
#include "rp_io.h"

// A job's end (status and signal), or a note it sent before its end
// (rp_worker_note).
typedef struct {
    uint64_t id;
    int32_t status;
    int32_t signal;
    uint32_t note;
    int32_t noted;  // a note, not the end
} reply;

typedef struct {
    uint64_t id;
    uint64_t group;
    uint32_t len;
} req_header;

struct rp_workers {
    pid_t zygote;
    int req_fd, reply_fd;
    size_t pending;
};

// ---- in the zygote ---------------------------------------------------------------

typedef struct {
    uint64_t id;
    uint64_t group;
    char *bytes;
    uint32_t len;
} queued;

typedef struct {
    pid_t pid;  // the job's process; or its group's zygote
    uint64_t id;
    // In a group, what the job goes by there: a number of this zygote's,
    // never used twice, so that a reply from a job whose group's zygote
    // was killed, coming late, stands for no other (its retry has the
    // same id).
    uint64_t tag;
    double started;
    int timed_out;
    int group;  // -1: a child of this zygote; else the index of the group it went to
} running;

// A group's zygote, as the zygote that forked it sees it.
typedef struct {
    uint64_t key;
    pid_t pid;  // -1: ended
    int fd;     // the write end of its request pipe; -1: closed
} group_zygote;

// What a zygote's loop works with. The top one (the pool's) has prepare
// when jobs come in groups; a group's zygote has none.
typedef struct {
    int req_fd, reply_fd;
    int jobs;
    double timeout_s;
    rp_status init_st;  // not RP_OK: what every job reports
    rp_worker_prepare_fn prepare;
    rp_worker_job_fn job;
    void *user;
    group_zygote *groups;
    size_t n_groups;
    int replies[2];  // the groups' replies: read end here, write end theirs
    int direct;      // a group's: each job writes its own reply (run_job)
    uint64_t tags;   // the tags given so far (running.tag)
} zygote;

// A job's exit status once it has written its own reply.
enum { REPLIED = 125 };

// In a group's job: where its notes go, and the job's tag there.
static int note_fd = -1;
static uint64_t note_tag;

static int chld_pipe[2] = {-1, -1};

static void on_chld(int sig)
{
    (void)sig;
    int saved = errno;
    char c = 0;
    if (write(chld_pipe[1], &c, 1) < 0) {
        // full: a wake-up is already waiting
    }
    errno = saved;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

// The request pipe carries a header and the bytes of each request, and so
// does a spare's pipe. Requests are written and read whole. 0, or -1 when
// the reader is gone (an error, not SIGPIPE).
static int write_request(int fd, uint64_t id, uint64_t group, const void *bytes, uint32_t len)
{
    req_header h;
    memset(&h, 0, sizeof h);  // its padding goes down the pipe too
    h.id = id;
    h.group = group;
    h.len = len;
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigaction(SIGPIPE, &ign, &old);
    int bad = rp_write_all(fd, &h, sizeof h) || rp_write_all(fd, bytes, len);
    sigaction(SIGPIPE, &old, NULL);
    return bad ? -1 : 0;
}

static int read_request(int fd, queued *q)
{
    req_header h;
    if (rp_read_all(fd, &h, sizeof h))
        return -1;
    q->id = h.id;
    q->group = h.group;
    q->len = h.len;
    q->bytes = malloc(h.len ? h.len : 1);
    return !q->bytes || rp_read_all(fd, q->bytes, h.len) ? -1 : 0;
}

// In a child of the zygote: what a job's process does before its job.
// Of the zygote's pipes it keeps only the reply pipe a group's job
// replies on: a job of the pool's zygote holding the caller's reply pipe
// would keep the caller waiting on it after that zygote died.
static void child_setup(const zygote *z)
{
    close(z->req_fd);
    if (!z->direct)
        close(z->reply_fd);
    close(chld_pipe[0]);
    close(chld_pipe[1]);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
}

// The spare: a child forked ahead of its job, waiting for it on a pipe of
// its own, so that a job starts as soon as one ends instead of after a
// fork. It is forked from the same zygote as any job, and nothing it does
// before the job touches espeak-ng: its job runs from the very same state.
typedef struct {
    pid_t pid;  // -1: none
    int fd;     // the write end of its pipe
} spare;

// In a job's process: the job, then its end. A group's job writes its
// reply itself, before it exits, so that the pool's zygote can start the
// next job without waiting for the group's zygote to be woken, reap it and
// reply (on two busy cores each wake-up can wait its turn). A job that
// crashes, or ends without replying, its zygote reports on reaping it.
static _Noreturn void run_job(const zygote *z, const queued *q)
{
    if (z->direct) {
        note_fd = z->reply_fd;
        note_tag = q->id;
    }
    rp_status st = z->job(z->user, q->bytes, q->len);
    if (z->direct) {
        reply r = {q->id, (int32_t)st, 0, 0, 0};
        if (rp_write_all(z->reply_fd, &r, sizeof r) == 0)
            _exit(REPLIED);
    }
    _exit((int)st);
}

static void spare_fork(spare *sp, const zygote *z)
{
    int p[2];
    sp->pid = -1;
    if (pipe(p) != 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        close(p[1]);
        child_setup(z);
        queued q;
        if (read_request(p[0], &q))
            _exit(0);  // no job came: the zygote is done
        close(p[0]);
        run_job(z, &q);
    }
    close(p[0]);
    if (pid < 0) {
        close(p[1]);
        return;
    }
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
    sp->pid = pid;
    sp->fd = p[1];
}

// Hands q to the spare; 0, or -1 when there is none or it is gone (the
// OOM killer): then it is ended and reaped here, as no job's.
static int spare_take(spare *sp, const queued *q)
{
    if (sp->pid < 0)
        return -1;
    int bad = write_request(sp->fd, q->id, q->group, q->bytes, q->len);
    close(sp->fd);
    if (bad) {
        kill(sp->pid, SIGKILL);
        while (waitpid(sp->pid, NULL, 0) < 0 && errno == EINTR) {
        }
    }
    sp->pid = -1;
    return bad;
}

static void send(const zygote *z, const reply *r)
{
    if (rp_write_all(z->reply_fd, r, sizeof *r))
        _exit(0);  // the caller is gone
}

static void send_reply(const zygote *z, uint64_t id, rp_status st, int sig)
{
    send(z, &(reply){id, (int32_t)st, sig, 0, 0});
}

// Its own SIGCHLD self-pipe (a group's zygote makes its own).
static void watch_children(void)
{
    if (pipe(chld_pipe) != 0)
        _exit(2);
    fcntl(chld_pipe[0], F_SETFL, O_NONBLOCK);
    fcntl(chld_pipe[1], F_SETFL, O_NONBLOCK);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_chld;
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
}

static _Noreturn void serve(zygote *z);

// Whether a reply can be written to fd at once. A note is dropped rather
// than waited for: it is news, never the only word (the job's end says it
// all again), and a caller that reads no reply for a while (the mixer
// working) must not hold up the jobs or the zygote that passes them on.
static int room_for(int fd)
{
    struct pollfd pf = {fd, POLLOUT, 0};
    return poll(&pf, 1, 0) == 1 && (pf.revents & POLLOUT);
}

// Passes on the groups' replies (and their jobs' notes) waiting on their
// pipe.
static void pass_replies(zygote *z, running *run, int *n_run)
{
    reply got[32];
    ssize_t n;
    while ((n = read(z->replies[0], got, sizeof got)) > 0) {
        for (size_t i = 0; i < (size_t)n / sizeof *got; i++) {
            for (int k = 0; k < *n_run; k++) {
                if (run[k].group >= 0 && run[k].tag == got[i].id) {
                    reply r = got[i];
                    r.id = run[k].id;
                    if (!r.noted)
                        run[k] = run[--*n_run];
                    if (!r.noted || room_for(z->reply_fd))
                        send(z, &r);
                    break;
                }
            }
        }
    }
}

// A group's zygote that has ended (killed: the OOM killer, or here after
// it overran) takes its jobs with it: each is reported, with its signal.
static void end_group(zygote *z, int g, int status, running *run, int *n_run)
{
    pass_replies(z, run, n_run);
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    for (int k = 0; k < *n_run;) {
        if (run[k].group == g) {
            send_reply(z, run[k].id, RP_ERR_SPEECH, sig);
            run[k] = run[--*n_run];
            continue;
        }
        k++;
    }
    close(z->groups[g].fd);
    z->groups[g].fd = -1;
    z->groups[g].pid = -1;
}

// The zygote of q's group, forked and prepared (with q, its first job)
// when there is none: its index, or -1.
static int group_for(zygote *z, const queued *q, const spare *sp, running *run, int *n_run)
{
    for (size_t g = 0; g < z->n_groups; g++) {
        group_zygote *gr = &z->groups[g];
        int status;
        if (gr->key != q->group || gr->pid < 0)
            continue;
        if (waitpid(gr->pid, &status, WNOHANG) != gr->pid)
            return (int)g;
        end_group(z, (int)g, status, run, n_run);  // a new one takes its place
    }
    size_t g = 0;
    while (g < z->n_groups && z->groups[g].pid > 0)
        g++;
    if (g == z->n_groups) {
        group_zygote *more = realloc(z->groups, (z->n_groups + 1) * sizeof *more);
        if (!more)
            return -1;
        z->groups = more;
        z->n_groups++;
    }
    int p[2];
    if (pipe(p) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        // Nothing of the pool's pipes but its own request pipe and the
        // replies' write end: a group holding another's request pipe open
        // would keep that group from ever seeing its end.
        close(p[1]);
        close(z->req_fd);
        close(z->reply_fd);
        close(z->replies[0]);
        for (size_t k = 0; k < z->n_groups; k++)
            if (k != g && z->groups[k].fd >= 0)
                close(z->groups[k].fd);
        if (sp->pid >= 0)
            close(sp->fd);
        close(chld_pipe[0]);
        close(chld_pipe[1]);
        watch_children();
        // Twice the jobs: a job that has replied may not be reaped yet
        // when the next comes.
        zygote gz = {.req_fd = p[0], .reply_fd = z->replies[1], .jobs = 2 * z->jobs,
                     .timeout_s = z->timeout_s, .job = z->job,
                     .user = z->user, .replies = {-1, -1}, .direct = 1};
        gz.init_st = z->prepare(z->user, q->bytes, q->len);
        serve(&gz);
    }
    close(p[0]);
    if (pid < 0) {
        close(p[1]);
        return -1;
    }
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
    z->groups[g] = (group_zygote){q->group, pid, p[1]};
    return (int)g;
}

// Starts q: on the spare, in a child forked now, or in its group's
// zygote, as *tag. The pid of the process it went to, or -1.
static pid_t start(zygote *z, const queued *q, spare *sp, int *g, uint64_t *tag, running *run,
                   int *n_run)
{
    *g = -1;
    *tag = q->id;
    if (q->group && z->prepare) {
        *g = group_for(z, q, sp, run, n_run);
        *tag = ++z->tags;
        if (*g < 0 || write_request(z->groups[*g].fd, *tag, q->group, q->bytes, q->len))
            return -1;
        return z->groups[*g].pid;
    }
    pid_t pid = sp->pid;
    if (spare_take(sp, q) == 0)
        return pid;
    pid = fork();
    if (pid == 0) {
        child_setup(z);
        run_job(z, q);
    }
    return pid;
}

static _Noreturn void serve(zygote *z)
{
    queued *queue = NULL;
    size_t n_queue = 0, cap_queue = 0, head = 0;
    running *run = calloc((size_t)z->jobs, sizeof *run);
    int n_run = 0, open_requests = 1;
    if (!run)
        _exit(2);
    spare sp = {-1, -1};
    while (open_requests || n_run || head < n_queue) {
        while (n_run < z->jobs && head < n_queue) {
            queued q = queue[head++];
            if (z->init_st) {
                send_reply(z, q.id, z->init_st, 0);
                free(q.bytes);
                continue;
            }
            int g;
            uint64_t tag;
            pid_t pid = start(z, &q, &sp, &g, &tag, run, &n_run);
            free(q.bytes);
            if (pid < 0) {
                send_reply(z, q.id, g >= 0 ? RP_ERR_SPEECH : RP_ERR_NOMEM, 0);
                continue;
            }
            run[n_run++] = (running){pid, q.id, tag, now_s(), 0, g};
        }
        if (head == n_queue)
            head = n_queue = 0;
        // The next job's process, forked while the running ones work (not
        // where every job goes to a group: the groups keep their own).
        if (sp.pid < 0 && !z->init_st && open_requests && !z->prepare)
            spare_fork(&sp, z);
        struct pollfd pf[3] = {{chld_pipe[0], POLLIN, 0},
                               {z->replies[0], POLLIN, 0},
                               {z->req_fd, POLLIN, 0}};
        int npf = open_requests ? 3 : 2;
        if (poll(pf, (nfds_t)npf, n_run ? 1000 : -1) < 0 && errno != EINTR)
            _exit(2);
        if (pf[0].revents & POLLIN) {
            char buf[64];
            while (read(chld_pipe[0], buf, sizeof buf) > 0) {
            }
        }
        if (z->replies[0] >= 0)
            pass_replies(z, run, &n_run);
        // Reap what ended; kill what overran (a group's zygote kills its
        // own jobs: one that lets a job run twice as long is itself stuck).
        double t = now_s();
        for (int k = 0; k < n_run;) {
            int status;
            if (run[k].group >= 0) {
                int g = run[k].group;
                pid_t got = waitpid(z->groups[g].pid, &status, WNOHANG);
                if (got == z->groups[g].pid) {
                    end_group(z, g, status, run, &n_run);
                    k = 0;
                    continue;
                }
                if (t - run[k].started > 2 * z->timeout_s)
                    kill(z->groups[g].pid, SIGKILL);
                k++;
                continue;
            }
            pid_t got = waitpid(run[k].pid, &status, WNOHANG);
            if (got == run[k].pid && z->direct && WIFEXITED(status) &&
                WEXITSTATUS(status) == REPLIED) {
                run[k] = run[--n_run];  // it said so itself
                continue;
            }
            if (got == run[k].pid) {
                rp_status st = RP_ERR_SPEECH;
                int sig = 0;
                if (WIFEXITED(status))
                    st = (rp_status)WEXITSTATUS(status);
                else
                    sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
                send_reply(z, run[k].id, st, sig);
                run[k] = run[--n_run];
                continue;
            }
            if (!run[k].timed_out && t - run[k].started > z->timeout_s) {
                kill(run[k].pid, SIGKILL);
                run[k].timed_out = 1;
            }
            k++;
        }
        if (open_requests && (pf[2].revents & (POLLIN | POLLHUP))) {
            queued q;
            if (read_request(z->req_fd, &q)) {
                // The caller has stopped, or is gone: what has not started
                // never will; what runs finishes (its clip is whole).
                open_requests = 0;
                if (sp.pid >= 0)
                    close(sp.fd);  // the spare reads the end and exits
                sp.pid = -1;
                while (head < n_queue)
                    free(queue[head++].bytes);
            } else if (rp_grow((void **)&queue, &cap_queue, n_queue + 1, sizeof *queue)) {
                _exit(2);
            } else {
                queue[n_queue++] = q;
            }
        }
    }
    // The groups see their requests end, and end on their own: none has a
    // job left (every reply has been passed on), and waiting for a render's
    // nine voices, each with its spare, to exit held its end up 9 to 15 ms.
    for (size_t g = 0; g < z->n_groups; g++)
        if (z->groups[g].pid >= 0)
            close(z->groups[g].fd);
    _exit(0);
}

static _Noreturn void zygote_main(int req_fd, int reply_fd, int jobs, rp_worker_init_fn init,
                                  rp_worker_prepare_fn prepare, rp_worker_job_fn job, void *user)
{
    // Nothing else of the caller's: a file it has open (an output's
    // temporary file, the last render's file copied ahead) would stay open
    // for as long as the zygote lives, and the zygote would be the one to
    // let it go (io.c, rp_rename_into_place: a 97 MB file's pages took its
    // exit 22 ms, which the caller waited for).
    rp_close_all_but(3, req_fd, reply_fd);
    setpgid(0, 0);
    signal(SIGINT, SIG_IGN);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    watch_children();
    zygote z = {.req_fd = req_fd, .reply_fd = reply_fd, .jobs = jobs, .prepare = prepare,
                .job = job, .user = user, .replies = {-1, -1}};
    const char *limit = getenv("RADIOPLAY_JOB_TIMEOUT");
    z.timeout_s = limit && atof(limit) > 0.0 ? atof(limit) : RP_WORKER_TIMEOUT_S;
    if (prepare && pipe(z.replies) != 0)
        _exit(2);
    if (prepare)
        fcntl(z.replies[0], F_SETFL, O_NONBLOCK);
    // At once, while the caller does its own start-up on another core.
    z.init_st = init ? init(user) : RP_OK;
    // Once started, its standard output and error go nowhere, and so do
    // those of everything it forks (the groups' zygotes, spares and jobs):
    // espeak-ng aborts on some text, and the C library's "stack smashing
    // detected" would reach the terminal (the caller reports the crash at
    // the line instead); and at the caller's end the zygotes end on their
    // own, after it (rp_workers_leave), and must not hold a pipe the
    // caller writes to open.
    int quiet = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (quiet >= 0) {
        dup2(quiet, STDOUT_FILENO);
        dup2(quiet, STDERR_FILENO);
        close(quiet);
    }
    serve(&z);
}

// ---- in the caller ---------------------------------------------------------------

int rp_workers_default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > RP_MAX_JOBS ? RP_MAX_JOBS : (int)n;
}

// The zygote's descriptors in a program it runs (rp_workers_serve).
enum { EXEC_REQ_FD = 3, EXEC_REPLY_FD = 4 };

// In the forked zygote: run exe as the zygote, its request pipe on 3 and
// its reply pipe on 4. Returns only when exe cannot run: the zygote then
// runs here, as it would without one.
static void exec_zygote(const char *exe, int *req_fd, int *reply_fd, int jobs)
{
    // Out of the way of 3 and 4 first, then onto them.
    int r = fcntl(*req_fd, F_DUPFD, 5), p = fcntl(*reply_fd, F_DUPFD, 5);
    if (r < 0 || p < 0 || dup2(r, EXEC_REQ_FD) < 0 || dup2(p, EXEC_REPLY_FD) < 0)
        return;
    char n[16];
    snprintf(n, sizeof n, "%d", jobs);
    execl(exe, exe, "--zygote", n, (char *)NULL);
    // Not run: on with the descriptors that are open now.
    *req_fd = EXEC_REQ_FD;
    *reply_fd = EXEC_REPLY_FD;
}

_Noreturn void rp_workers_serve(int argc, char **argv, rp_worker_init_fn init,
                                rp_worker_prepare_fn prepare, rp_worker_job_fn job, void *user)
{
    int jobs = argc == 3 && !strcmp(argv[1], "--zygote") ? atoi(argv[2]) : 0;
    if (jobs < 1 || fcntl(EXEC_REQ_FD, F_GETFD) < 0 || fcntl(EXEC_REPLY_FD, F_GETFD) < 0) {
        fprintf(stderr, "%s: the worker processes of radioplay, which starts it itself\n",
                argc > 0 ? argv[0] : "radioplay-worker");
        _exit(2);
    }
    zygote_main(EXEC_REQ_FD, EXEC_REPLY_FD, jobs, init, prepare, job, user);
}

rp_status rp_workers_start(rp_workers **out, int jobs, rp_worker_init_fn init,
                           rp_worker_prepare_fn prepare, rp_worker_job_fn job, void *user)
{
    return rp_workers_start_exec(out, jobs, NULL, init, prepare, job, user);
}

rp_status rp_workers_start_exec(rp_workers **out, int jobs, const char *exe,
                                rp_worker_init_fn init, rp_worker_prepare_fn prepare,
                                rp_worker_job_fn job, void *user)
{
    *out = NULL;
    int req[2], rep[2];
    if (jobs < 1)
        jobs = 1;
    if (pipe(req) != 0)
        return RP_ERR_IO;
    if (pipe(rep) != 0) {
        close(req[0]);
        close(req[1]);
        return RP_ERR_IO;
    }
    rp_workers *w = calloc(1, sizeof *w);
    pid_t pid = w ? fork() : -1;
    if (pid == 0) {
        close(req[1]);
        close(rep[0]);
        if (exe)
            exec_zygote(exe, &req[0], &rep[1], jobs);
        zygote_main(req[0], rep[1], jobs, init, prepare, job, user);
    }
    close(req[0]);
    close(rep[1]);
    if (pid < 0) {
        close(req[1]);
        close(rep[0]);
        free(w);
        return w ? RP_ERR_IO : RP_ERR_NOMEM;
    }
    // The caller's own children must not inherit these.
    fcntl(req[1], F_SETFD, FD_CLOEXEC);
    fcntl(rep[0], F_SETFD, FD_CLOEXEC);
    setpgid(pid, pid);  // as the zygote does: whichever runs first
    w->zygote = pid;
    w->req_fd = req[1];
    w->reply_fd = rep[0];
    *out = w;
    return RP_OK;
}

rp_status rp_workers_submit(rp_workers *w, uint64_t id, uint64_t group, const void *req,
                            size_t len)
{
    if (len > UINT32_MAX)
        return RP_ERR_LIMIT;
    if (write_request(w->req_fd, id, group, req, (uint32_t)len))
        return RP_ERR_SPEECH;  // the zygote died
    w->pending++;
    return RP_OK;
}

// The next reply (or note) on the caller's pipe.
static rp_status next_reply(rp_workers *w, volatile sig_atomic_t *stop, reply *r)
{
    for (;;) {
        if (stop && *stop)
            return RP_ERR_INTERRUPTED;
        struct pollfd pf = {w->reply_fd, POLLIN, 0};
        int k = poll(&pf, 1, stop ? 100 : -1);
        if (k > 0)
            break;
        if (k < 0 && errno != EINTR)
            return RP_ERR_SPEECH;
    }
    return rp_read_all(w->reply_fd, r, sizeof *r) ? RP_ERR_SPEECH : RP_OK;
}

rp_status rp_workers_next(rp_workers *w, volatile sig_atomic_t *stop, uint64_t *id,
                          rp_status *result, int *signal, int64_t *note)
{
    reply r;
    do {
        rp_status st = next_reply(w, stop, &r);
        if (st)
            return st;
    } while (r.noted && !note);  // notes passed over
    if (w->pending && !r.noted)
        w->pending--;
    *id = r.id;
    *result = r.noted ? RP_OK : (rp_status)r.status;
    *signal = r.noted ? 0 : r.signal;
    if (note)
        *note = r.noted ? (int64_t)r.note : -1;
    return RP_OK;
}

size_t rp_workers_pending(const rp_workers *w)
{
    return w->pending;
}

void rp_worker_note(uint32_t note)
{
    reply r = {note_tag, 0, 0, note, 1};
    // One write under PIPE_BUF: whole or not at all; and none without room.
    if (note_fd >= 0 && room_for(note_fd) && write(note_fd, &r, sizeof r) < 0) {
        // dropped, as a note may be
    }
}

void rp_worker_hold(int hold)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(hold ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

// Ends the pool: the zygote sees its request pipe close and ends, and
// SIGTERM ends any job still running. wait: and waits for the zygote.
static void end_pool(rp_workers *w, int wait)
{
    if (!w)
        return;
    close(w->req_fd);
    if (w->pending)
        kill(-w->zygote, SIGTERM);  // the zygote's group: it and its jobs
    int status;
    while (wait && waitpid(w->zygote, &status, 0) < 0 && errno == EINTR) {
    }
    close(w->reply_fd);
    free(w);
}

void rp_workers_stop(rp_workers *w)
{
    end_pool(w, 1);
}

void rp_workers_leave(rp_workers *w)
{
    end_pool(w, 0);
}
