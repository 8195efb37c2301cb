// SPDX-License-Identifier: GPL-3.0-or-later
// The one entry point every fuzz target defines (libFuzzer's), and the check
// the targets use for the properties they assert: a failed one aborts, which
// libFuzzer and the replay test both report as a finding.
#ifndef RP_FUZZ_H
#define RP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "rp_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(expr)                                                                          \
    do {                                                                                           \
        if (!(expr)) {                                                                             \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #expr);            \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

// Every diagnostic is located: line and column 0 or more, and a file name
// when the stage was given one.
static inline void fuzz_check_diags(const rp_diags *d, const char *file)
{
    for (size_t i = 0; i < d->n; i++) {
        const rp_diag *g = &d->items[i];
        FUZZ_ASSERT(g->line >= 0 && g->col >= 0 && g->msg);
        FUZZ_ASSERT(!file || (g->file && g->file[0]));
    }
}

#endif
