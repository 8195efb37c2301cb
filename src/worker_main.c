// SPDX-License-Identifier: GPL-3.0-or-later
// radioplay-worker: the program radioplay's synthesis workers run
// (rp_voicejob.h). radioplay starts it itself, as the workers' parent, on
// two pipes; every job is a fork of it. It links only espeak-ng, libsoxr
// and what the clip cache needs: radioplay's own process also carries
// libsndfile and its codecs, PortAudio, ALSA and JACK, and a process forks
// and exits in time that grows with what it carries.
#include "rp_voicejob.h"
#include "rp_worker.h"

int main(int argc, char **argv)
{
    // As radioplay's own main does, and as the workers were when they were
    // its forks.
    rp_keep_freed_memory();
    rp_workers_serve(argc, argv, rp_voicejob_init, rp_voicejob_prepare, rp_voicejob_run, NULL);
}
