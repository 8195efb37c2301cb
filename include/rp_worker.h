// SPDX-License-Identifier: GPL-3.0-or-later
// Worker processes. espeak-ng keeps global state and is not thread-safe,
// and what it makes of a sentence depends on what the same process spoke
// before (its wave generator keeps a pitch-flutter phase from call to
// call). So every job runs in a process of its own, forked from one parent
// that has done nothing but initialize: the zygote. Each job starts from
// the very same state, whatever ran before it, on however many workers:
// a clip is the same bytes with one job at a time or eight.
//
//     caller --requests--> zygote --fork--> one child per job (at most jobs at once)
//     caller <--replies--- zygote <--exit status--
//
// The zygote is forked when the pool starts, before the caller does
// anything else with espeak-ng, and initializes at once, in parallel with
// whatever the caller does next. It keeps one child forked ahead (the
// spare), waiting for its job on a pipe: a job starts as soon as one ends,
// not a fork later. Requests are bytes the caller defines; the zygote
// starts jobs in the order they were submitted, so the first clips of a
// chapter come first.
//
// Jobs may come in groups, each with a zygote of its own: forked from the
// zygote when the group's first job comes, and prepared once (with that
// job's request) before it forks the group's jobs, each from the same
// prepared state (a voice loaded once, not once a job):
//
//     zygote --fork--> group's zygote, prepared --fork--> a child per job
//     caller <--replies-- zygote <--replies-- group's zygote
//
// A job that crashes, is killed or runs longer than RP_WORKER_TIMEOUT_S
// is reported with the signal that ended it, never lost; so are a group's
// jobs when its zygote dies. The zygote has its own process group, which
// the groups' zygotes share, so a Ctrl-C at the terminal reaches only the
// caller, which stops the pool; when the caller dies, the zygote sees its
// requests end, lets running jobs finish and exits.
#ifndef RP_WORKER_H
#define RP_WORKER_H

#include <signal.h>

#include "rp_common.h"

typedef struct rp_workers rp_workers;

// In the zygote, once, before the first job: returns RP_OK or a failure
// that every job then reports.
typedef rp_status (*rp_worker_init_fn)(void *user);
// In a group's zygote, once, before the group's first job: given that
// job's request, readies what every job of the group starts from. A
// failure is what every job of the group then reports.
typedef rp_status (*rp_worker_prepare_fn)(void *user, const void *req, size_t len);
// In a job's own process: does the work for one request.
typedef rp_status (*rp_worker_job_fn)(void *user, const void *req, size_t len);

// Forks the zygote. jobs: how many jobs run at once (>= 1), in all groups
// together. prepare: NULL when jobs come in no groups. user is whatever
// the callbacks need, as it is in the caller at this moment (the zygote
// has its own copy).
rp_status rp_workers_start(rp_workers **out, int jobs, rp_worker_init_fn init,
                           rp_worker_prepare_fn prepare, rp_worker_job_fn job, void *user);
// The same with the zygote in a program of its own, exe: forked, then
// exe run in its place, which calls rp_workers_serve with the same
// callbacks (user is NULL there). A process carries what its program
// links, and every job is a fork of the zygote and an exit: exe, linking
// only what the jobs use, makes each of them lighter. Where exe cannot
// run, the zygote runs in the forked process as rp_workers_start's does.
rp_status rp_workers_start_exec(rp_workers **out, int jobs, const char *exe,
                                rp_worker_init_fn init, rp_worker_prepare_fn prepare,
                                rp_worker_job_fn job, void *user);
// exe's main: serves as the zygote on the pipes it was given (argv from
// rp_workers_start_exec; anything else: a message on stderr and exit 2).
_Noreturn void rp_workers_serve(int argc, char **argv, rp_worker_init_fn init,
                                rp_worker_prepare_fn prepare, rp_worker_job_fn job, void *user);

// Queues a job; id comes back with its result. group: 0, or the key of
// the group it belongs to (with a prepare function).
rp_status rp_workers_submit(rp_workers *w, uint64_t id, uint64_t group, const void *req,
                            size_t len);

// Waits for the next job to end: *id, *result (RP_OK or the job's failure),
// and *signal (0, or the signal that ended it: a crash, or SIGKILL after
// the time limit). RP_ERR_SPEECH when the zygote itself is gone;
// RP_ERR_INTERRUPTED when *stop (may be NULL) becomes non-zero meanwhile.
// note: NULL, and notes (rp_worker_note) are passed over; else a note a
// running job sent comes too: *note is -1 for a job's end, else the note
// (*result RP_OK, *signal 0). A job's notes come in the order it sent
// them, and before its end.
rp_status rp_workers_next(rp_workers *w, volatile sig_atomic_t *stop, uint64_t *id,
                          rp_status *result, int *signal, int64_t *note);

// Jobs submitted and not yet reported.
size_t rp_workers_pending(const rp_workers *w);

// In a job: tells the caller something before the job ends (what it has
// done so far, say), as a note for rp_workers_next. A note is news,
// never the only word: only a group's jobs send notes (the others have no
// pipe to the caller but their exit status; for them it does nothing), and
// a note that finds a pipe on its way full is dropped, not waited for.
void rp_worker_note(uint32_t note);

// In a job: while held, SIGTERM waits (so that stopping the pool does not
// cut a file write in half).
void rp_worker_hold(int hold);

// Ends the zygote and any jobs still running (SIGTERM), and waits for it;
// the groups' zygotes, idle, end on their own after it.
void rp_workers_stop(rp_workers *w);
// The same without waiting, at the caller's own end: the zygote ends on
// its own (its exit took a cold render's end 3 to 6 ms), and is the
// caller's child still (or, the caller gone, init's) to reap. Once its
// init has run it holds none of the caller's files or output (its 1 and 2
// are /dev/null); left during init, it holds them until init ends.
void rp_workers_leave(rp_workers *w);

// The number of processors online (at least 1): --jobs's default.
int rp_workers_default_jobs(void);

#endif
