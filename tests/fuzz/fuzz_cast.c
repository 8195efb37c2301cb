// SPDX-License-Identifier: GPL-3.0-or-later
// Fuzz target: the cast sheet (cast.c over libinih). A sheet that loads is
// written back, and what rp_cast_write prints must load again to the same
// text (rp_cast.h: "printed back in a form that loads unchanged"); then
// automatic casting runs over it, and its [say] respellings over their
// own words.
#include <string.h>

#include "fuzz.h"
#include "rp_cast.h"
#include "rp_speech.h"

static void respell_keys(const rp_cast *c)
{
    rp_strbuf words;
    rp_strbuf_init(&words);
    for (size_t i = 0; i < c->n_say; i++)
        rp_strbuf_printf(&words, "%s %s's, ", c->say[i].word, c->say[i].word);
    rp_respelled r;
    if (words.s && rp_respell(c->say, c->n_say, words.s, &r) == RP_OK)
        rp_respelled_deinit(&r);
    rp_strbuf_deinit(&words);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rp_diags d;
    rp_diags_init(&d);
    rp_cast c;
    FUZZ_ASSERT(rp_cast_init(&c) == RP_OK);
    rp_status st = rp_cast_load(&c, "fuzz.cast", (const char *)data, size, &d);
    FUZZ_ASSERT(st == RP_OK || st == RP_ERR_INPUT);
    FUZZ_ASSERT((st == RP_ERR_INPUT) == (d.n_errors > 0));
    fuzz_check_diags(&d, "fuzz.cast");
    if (st == RP_OK) {
        rp_strbuf once, twice;
        rp_strbuf_init(&once);
        rp_strbuf_init(&twice);
        rp_cast_write(&c, &once);
        rp_cast again;
        FUZZ_ASSERT(rp_cast_init(&again) == RP_OK);
        st = rp_cast_load(&again, "again.cast", once.s, once.len, &d);
        if (st != RP_OK)
            fprintf(stderr, "%s\n", d.n ? d.items[0].msg : "");
        FUZZ_ASSERT(st == RP_OK);
        rp_cast_write(&again, &twice);
        FUZZ_ASSERT(twice.len == once.len && !memcmp(twice.s, once.s, once.len));
        rp_script none;
        memset(&none, 0, sizeof none);
        FUZZ_ASSERT(rp_cast_assign(&again, &none) == RP_OK);
        respell_keys(&again);
        rp_cast_deinit(&again);
        rp_strbuf_deinit(&once);
        rp_strbuf_deinit(&twice);
    }
    rp_cast_deinit(&c);
    rp_diags_deinit(&d);
    return 0;
}
