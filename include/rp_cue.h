// SPDX-License-Identifier: GPL-3.0-or-later
// Automatic cues: the stage between casting and layout that turns sound words
// in the narration into effect cues, by the cast sheet's [rules] (the
// built-in defaults included, see cast.c). A one-shot fires on its word; a
// bed starts there and fades out at the next scene break. The chapter's own
// {sfx} and {bed} cues keep the rules for their effect quiet nearby, and its
// {bed} and {stop} say what plays, so a chapter annotated with the automatic
// cues gets no second copy of them.
#ifndef RP_CUE_H
#define RP_CUE_H

#include "rp_cast.h"
#include "rp_script.h"
#include "rp_sfx.h"

// Inserts the cues as directive runs (run.automatic = 1) into the script.
// A rule naming an unknown effect is a located error in cast_path (at the
// rule's line) and RP_ERR_INPUT; built-in rules whose effect is missing
// from the library are skipped. A rule firing when the chapter already
// holds RP_MAX_CUES cues, its own and automatic ones, is a located error in
// the chapter (RP_ERR_INPUT).
rp_status rp_cue_apply(rp_script *s, const rp_cast *cast, const rp_sfx_library *lib,
                       const char *cast_path, rp_diags *d);

// Where the cue for the word at byte a of a run's text stands: before the
// word's whole token, the text since the last space or the marks of a word
// quoted ("(thunder" as much as "thunder"; before the word itself when the
// token starts further back than a few dozen bytes), and at the run's start
// when only a scrap of punctuation comes before that (scrap: rp_scrap_len
// of the text). Its run.origin_at is the word's byte a; `annotate` writes
// it at the same place.
size_t rp_cue_split(const char *text, size_t a, size_t scrap);

#endif
