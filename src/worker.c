// SPDX-License-Identifier: GPL-3.0-or-later
// The zygote and its jobs (see rp_worker.h). The zygote is single-threaded:
// it polls its request pipe and a self-pipe its SIGCHLD handler writes to,
// starts a child per request while fewer than jobs run (the spare, forked
// ahead and waiting, when there is one), and writes one reply per job.
// Everything it and its children do ends in _exit, never exit: the
// caller's stdio buffers and atexit handlers are the caller's alone.
#include "rp_worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rp_config.h"
#include "rp_io.h"

typedef struct {
    uint64_t id;
    int32_t status;
    int32_t signal;
} reply;

typedef struct {
    uint64_t id;
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
    char *bytes;
    uint32_t len;
} queued;

typedef struct {
    pid_t pid;
    uint64_t id;
    double started;
    int timed_out;
} running;

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
static int write_request(int fd, uint64_t id, const void *bytes, uint32_t len)
{
    req_header h;
    memset(&h, 0, sizeof h);  // its padding goes down the pipe too
    h.id = id;
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
    q->len = h.len;
    q->bytes = malloc(h.len ? h.len : 1);
    return !q->bytes || rp_read_all(fd, q->bytes, h.len) ? -1 : 0;
}

// In a child of the zygote: what a job's process does before its job.
static void child_setup(int req_fd, int quiet)
{
    close(req_fd);
    close(chld_pipe[0]);
    close(chld_pipe[1]);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (quiet >= 0)
        dup2(quiet, STDERR_FILENO);
}

// The spare: a child forked ahead of its job, waiting for it on a pipe of
// its own, so that a job starts as soon as one ends instead of after a
// fork. It is forked from the same zygote as any job, and nothing it does
// before the job touches espeak-ng: its job runs from the very same state.
typedef struct {
    pid_t pid;  // -1: none
    int fd;     // the write end of its pipe
} spare;

static void spare_fork(spare *sp, int req_fd, int quiet, rp_worker_job_fn job, void *user)
{
    int p[2];
    sp->pid = -1;
    if (pipe(p) != 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        close(p[1]);
        child_setup(req_fd, quiet);
        queued q;
        if (read_request(p[0], &q))
            _exit(0);  // no job came: the zygote is done
        close(p[0]);
        _exit((int)job(user, q.bytes, q.len));
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
    int bad = write_request(sp->fd, q->id, q->bytes, q->len);
    close(sp->fd);
    if (bad) {
        kill(sp->pid, SIGKILL);
        while (waitpid(sp->pid, NULL, 0) < 0 && errno == EINTR) {
        }
    }
    sp->pid = -1;
    return bad;
}

static _Noreturn void zygote_main(int req_fd, int reply_fd, int jobs, rp_worker_init_fn init,
                                  rp_worker_job_fn job, void *user)
{
    setpgid(0, 0);
    signal(SIGINT, SIG_IGN);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (pipe(chld_pipe) != 0)
        _exit(2);
    fcntl(chld_pipe[0], F_SETFL, O_NONBLOCK);
    fcntl(chld_pipe[1], F_SETFL, O_NONBLOCK);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_chld;
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);

    queued *queue = NULL;
    size_t n_queue = 0, cap_queue = 0, head = 0;
    running *run = calloc((size_t)jobs, sizeof *run);
    int n_run = 0, open_requests = 1;
    if (!run)
        _exit(2);
    // A job's standard error goes nowhere: espeak-ng aborts on some text,
    // and the C library's "stack smashing detected" would reach the
    // terminal; the caller reports the crash at the line instead.
    int quiet = open("/dev/null", O_WRONLY | O_CLOEXEC);
    const char *limit = getenv("RADIOPLAY_JOB_TIMEOUT");
    double timeout_s = limit && atof(limit) > 0.0 ? atof(limit) : RP_WORKER_TIMEOUT_S;
    // At once, while the caller does its own start-up on another core.
    rp_status init_st = init ? init(user) : RP_OK;
    spare sp = {-1, -1};
    while (open_requests || n_run || head < n_queue) {
        // Start what may start: on the spare, else in a child forked now.
        while (n_run < jobs && head < n_queue) {
            queued q = queue[head++];
            if (init_st) {
                reply r = {q.id, (int32_t)init_st, 0};
                rp_write_all(reply_fd, &r, sizeof r);
                free(q.bytes);
                continue;
            }
            pid_t pid = sp.pid;
            if (spare_take(&sp, &q) != 0) {
                pid = fork();
                if (pid == 0) {
                    child_setup(req_fd, quiet);
                    _exit((int)job(user, q.bytes, q.len));
                }
            }
            free(q.bytes);
            if (pid < 0) {
                reply r = {q.id, (int32_t)RP_ERR_NOMEM, 0};
                rp_write_all(reply_fd, &r, sizeof r);
                continue;
            }
            run[n_run++] = (running){pid, q.id, now_s(), 0};
        }
        if (head == n_queue)
            head = n_queue = 0;
        // The next job's process, forked while the running ones work.
        if (sp.pid < 0 && !init_st && open_requests)
            spare_fork(&sp, req_fd, quiet, job, user);
        struct pollfd pf[2] = {{chld_pipe[0], POLLIN, 0}, {req_fd, POLLIN, 0}};
        int npf = open_requests ? 2 : 1;
        if (poll(pf, (nfds_t)npf, n_run ? 1000 : -1) < 0 && errno != EINTR)
            _exit(2);
        if (pf[0].revents & POLLIN) {
            char buf[64];
            while (read(chld_pipe[0], buf, sizeof buf) > 0) {
            }
        }
        // Reap what ended; kill what overran.
        double t = now_s();
        for (int k = 0; k < n_run;) {
            int status;
            pid_t got = waitpid(run[k].pid, &status, WNOHANG);
            if (got == run[k].pid) {
                reply r = {run[k].id, 0, 0};
                if (WIFEXITED(status))
                    r.status = WEXITSTATUS(status);
                else {
                    r.status = RP_ERR_SPEECH;
                    r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
                }
                if (rp_write_all(reply_fd, &r, sizeof r))
                    _exit(0);  // the caller is gone
                run[k] = run[--n_run];
                continue;
            }
            if (!run[k].timed_out && t - run[k].started > timeout_s) {
                kill(run[k].pid, SIGKILL);
                run[k].timed_out = 1;
            }
            k++;
        }
        if (open_requests && (pf[1].revents & (POLLIN | POLLHUP))) {
            queued q;
            if (read_request(req_fd, &q)) {
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
    _exit(0);
}

// ---- in the caller ---------------------------------------------------------------

int rp_workers_default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > RP_MAX_JOBS ? RP_MAX_JOBS : (int)n;
}

rp_status rp_workers_start(rp_workers **out, int jobs, rp_worker_init_fn init,
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
        zygote_main(req[0], rep[1], jobs, init, job, user);
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

rp_status rp_workers_submit(rp_workers *w, uint64_t id, const void *req, size_t len)
{
    if (len > UINT32_MAX)
        return RP_ERR_LIMIT;
    if (write_request(w->req_fd, id, req, (uint32_t)len))
        return RP_ERR_SPEECH;  // the zygote died
    w->pending++;
    return RP_OK;
}

rp_status rp_workers_next(rp_workers *w, volatile sig_atomic_t *stop, uint64_t *id,
                          rp_status *result, int *signal)
{
    reply r;
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
    if (rp_read_all(w->reply_fd, &r, sizeof r))
        return RP_ERR_SPEECH;
    if (w->pending)
        w->pending--;
    *id = r.id;
    *result = (rp_status)r.status;
    *signal = r.signal;
    return RP_OK;
}

size_t rp_workers_pending(const rp_workers *w)
{
    return w->pending;
}

void rp_worker_hold(int hold)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(hold ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

void rp_workers_stop(rp_workers *w)
{
    if (!w)
        return;
    close(w->req_fd);
    if (w->pending)
        kill(-w->zygote, SIGTERM);  // the zygote's group: it and its jobs
    int status;
    while (waitpid(w->zygote, &status, 0) < 0 && errno == EINTR) {
    }
    close(w->reply_fd);
    free(w);
}
