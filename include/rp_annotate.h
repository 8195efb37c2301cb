// SPDX-License-Identifier: GPL-3.0-or-later
// `radioplay annotate`: the chapter written back with every automatic
// decision made explicit, the source otherwise kept byte for byte.
#ifndef RP_ANNOTATE_H
#define RP_ANNOTATE_H

#include "rp_script.h"

// Writes src (the chapter's bytes, as given to rp_parse under the name
// s->name) into out with a {Name} tag before every quote whose speaker the
// rules chose (spk_source RULE or GUESS) and, for every run cue.c added to
// s, the cue itself ({sfx NAME}, {bed NAME} before the word that fired it,
// punctuation attached to it included: "{sfx thunder} (thunder"; {stop
// NAME} after the last line of its paragraph). A cue whose word cannot
// be found in the source goes before its run, with a warning in d. The
// output parses to the same blocks: a line of the source read as prose that
// the (now annotated) output would read as a screenplay line ("Monday: We
// rode north.") gets an empty comment, {#}, at its start.
rp_status rp_annotate(const char *src, size_t len, const rp_script *s, rp_strbuf *out,
                      rp_diags *d);

#endif
